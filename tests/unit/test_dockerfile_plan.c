/*
 * test_dockerfile_plan.c - the planner on hand-built syntax trees (so it is
 * tested apart from the parser), plus the private helpers it relies on:
 * Go durations, image references, paths. Needs build/dockerfile_instr.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "dockerfile_instr.h"
#include "slipway/cleanup.h"
#include "slipway/dockerfile_plan.h"
#include "slipway/mem.h"

/* ------------------------------------------------ building trees */

struct tb {
	sw_df_file f;
	size_t cap;
};

static void tb_init(struct tb *t)
{
	memset(t, 0, sizeof(*t));
	t->f.path = sw_xstrdup("Dockerfile");
	t->f.escape = '\\';
}

/* Adds an instruction: keyword, flags (NULL-terminated), args (same). */
static sw_df_instr *tb_add(struct tb *t, const char *kw, const char *const *flags,
                           const char *const *args)
{
	if (t->f.ninstrs == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 8;
		t->f.instrs = sw_xreallocarray(t->f.instrs, t->cap, sizeof(sw_df_instr));
	}
	sw_df_instr *in = &t->f.instrs[t->f.ninstrs++];
	memset(in, 0, sizeof(*in));
	in->keyword = sw_xstrdup(kw);
	in->start_line = in->end_line = (int)t->f.ninstrs;
	in->original = sw_xstrdup(kw);
	for (size_t i = 0; flags && flags[i]; i++) {
		in->flags = sw_xreallocarray(in->flags, in->nflags + 1, sizeof(char *));
		in->flags[in->nflags++] = sw_xstrdup(flags[i]);
	}
	for (size_t i = 0; args && args[i]; i++) {
		in->args = sw_xreallocarray(in->args, in->nargs + 1, sizeof(char *));
		in->args[in->nargs++] = sw_xstrdup(args[i]);
	}
	return in;
}

#define A(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NOFLAGS NULL

static void instr_free(sw_df_instr *in)
{
	free(in->keyword);
	free(in->original);
	for (size_t i = 0; i < in->nflags; i++)
		free(in->flags[i]);
	free(in->flags);
	for (size_t i = 0; i < in->nargs; i++)
		free(in->args[i]);
	free(in->args);
	for (size_t i = 0; i < in->nheredocs; i++) {
		free(in->heredocs[i].name);
		free(in->heredocs[i].content);
	}
	free(in->heredocs);
	if (in->sub) {
		instr_free(in->sub);
		free(in->sub);
	}
}

static void tb_release(struct tb *t)
{
	for (size_t i = 0; i < t->f.ninstrs; i++)
		instr_free(&t->f.instrs[i]);
	free(t->f.instrs);
	free(t->f.path);
}

static sw_df_plan *plan_ok(struct tb *t, const sw_df_plan_opts *o)
{
	sw_df_plan *p = NULL;
	sw_error *err = NULL;
	if (sw_df_plan_build(&p, &t->f, o, &err) < 0) {
		cleanup_free char *m = sw_error_string(err);
		fail_msg("plan failed: %s", m);
	}
	return p;
}

static char *plan_err(struct tb *t, const sw_df_plan_opts *o, int *code)
{
	sw_df_plan *p = NULL;
	sw_error *err = NULL;
	if (sw_df_plan_build(&p, &t->f, o, &err) == 0) {
		sw_df_plan_free(p);
		fail_msg("plan succeeded, want an error");
	}
	if (code)
		*code = sw_error_code(err);
	char *m = sw_error_string(err);
	sw_error_free(err);
	return m;
}

static const char *env_of(const sw_df_step *s, const char *k, uint8_t *flags)
{
	for (size_t i = 0; i < s->nenv; i++) {
		if (!strcmp(s->env[i].key, k)) {
			if (flags)
				*flags = s->env_flags[i];
			return s->env[i].value;
		}
	}
	return NULL;
}

/* ------------------------------------------------------- tests */

static void test_arg_scoping(void **state)
{
	(void)state;
	struct tb t;
	sw_df_kv ba[] = { { "B", "from-cli" } };
	sw_df_plan_opts o = { .build_args = ba, .nbuild_args = 1 };

	tb_init(&t);
	tb_add(&t, "arg", NOFLAGS, A("G=global"));
	tb_add(&t, "arg", NOFLAGS, A("B=default"));
	tb_add(&t, "from", NOFLAGS, A("alpine:${G}"));
	tb_add(&t, "arg", NOFLAGS, A("G"));
	tb_add(&t, "arg", NOFLAGS, A("L=${G}-local", "B"));
	tb_add(&t, "env", NOFLAGS, A("E", "$L", "="));
	tb_add(&t, "run", NOFLAGS, A("make"));
	sw_df_plan *p = plan_ok(&t, &o);

	assert_int_equal(p->nstages, 1);
	const sw_df_stage *s = &p->stages[0];
	assert_string_equal(s->base, "alpine:global");
	assert_int_equal(s->base_kind, SW_DF_BASE_IMAGE);
	assert_int_equal(s->nsteps, 4);
	assert_string_equal(s->steps[0].kvs[0].value, "global");
	assert_string_equal(s->steps[1].kvs[0].value, "global-local");
	assert_string_equal(s->steps[1].kvs[1].value, "from-cli");
	assert_string_equal(s->steps[2].kvs[0].value, "global-local");
	const sw_df_step *run = &s->steps[3];
	uint8_t fl = 0;
	assert_string_equal(env_of(run, "E", &fl), "global-local");
	assert_int_equal(fl, 0);
	assert_string_equal(env_of(run, "L", &fl), "global-local");
	assert_int_equal(fl, SW_DF_ENV_ARG);
	assert_non_null(env_of(run, "PATH", &fl));
	assert_int_equal(fl, SW_DF_ENV_IMAGE);
	/* the ENV step saw the environment before its own effect */
	assert_null(env_of(&s->steps[2], "E", NULL));
	assert_int_equal(p->nwarnings, 0);
	sw_df_plan_free(p);
	tb_release(&t);
}

static int fake_image_env(char ***out, const char *ref, const char *platform, void *payload,
                          sw_error **err)
{
	(void)platform;
	(void)err;
	int *calls = payload;
	(*calls)++;
	if (strcmp(ref, "golang:1.22")) {
		*out = NULL;
		return 0;
	}
	char **v = sw_xcalloc(3, sizeof(char *));
	v[0] = sw_xstrdup("PATH=/go/bin:/usr/bin");
	v[1] = sw_xstrdup("GOPATH=/go");
	*out = v;
	return 0;
}

static void test_image_env_callback(void **state)
{
	(void)state;
	struct tb t;
	int calls = 0;
	sw_df_plan_opts o = { .image_env = fake_image_env, .payload = &calls };

	tb_init(&t);
	tb_add(&t, "from", NOFLAGS, A("golang:1.22"));
	tb_add(&t, "workdir", NOFLAGS, A("$GOPATH/src"));
	tb_add(&t, "run", NOFLAGS, A("go build"));
	sw_df_plan *p = plan_ok(&t, &o);
	assert_int_equal(calls, 1);
	const sw_df_stage *s = &p->stages[0];
	assert_string_equal(s->steps[0].workdir, "/go/src");
	assert_string_equal(env_of(&s->steps[1], "PATH", NULL), "/go/bin:/usr/bin");
	assert_int_equal(s->steps[1].nshell, 2);
	assert_string_equal(s->steps[1].shell[0], "/bin/sh");
	sw_df_plan_free(p);
	tb_release(&t);
}

static void test_target_and_deps(void **state)
{
	(void)state;
	struct tb t;
	sw_df_plan_opts o = { .target = "App" };

	tb_init(&t);
	tb_add(&t, "from", NOFLAGS, A("alpine", "AS", "base"));
	tb_add(&t, "from", NOFLAGS, A("alpine", "as", "assets"));
	tb_add(&t, "from", NOFLAGS, A("base", "AS", "app"));
	tb_add(&t, "run", A("--mount=type=bind,from=assets,target=/a"), A("ls /a"));
	tb_add(&t, "from", NOFLAGS, A("scratch"));
	tb_add(&t, "copy", A("--from=app"), A("/x", "/x"));
	sw_df_plan *p = plan_ok(&t, &o);
	assert_int_equal(p->target, 2);
	assert_int_equal(p->total_stages, 4);
	assert_int_equal(p->nstages, 3);
	assert_int_equal(p->stages[0].index, 0);
	assert_int_equal(p->stages[1].index, 1);
	assert_int_equal(p->stages[2].index, 2);
	const sw_df_stage *app = sw_df_plan_stage(p, 2);
	assert_non_null(app);
	assert_int_equal(app->base_kind, SW_DF_BASE_STAGE);
	assert_int_equal(app->base_stage, 0);
	assert_int_equal(app->ndeps, 2);
	assert_int_equal(app->steps[0].mounts[0].from_kind, SW_DF_REF_STAGE);
	assert_int_equal(app->steps[0].mounts[0].from_stage, 1);
	assert_null(sw_df_plan_stage(p, 3));
	sw_df_plan_free(p);

	o.target = "nope";
	int code = 0;
	cleanup_free char *m = plan_err(&t, &o, &code);
	assert_int_equal(code, SW_ENOTFOUND);
	assert_string_equal(m, "Dockerfile: target stage \"nope\" could not be found");
	tb_release(&t);
}

static void test_onbuild(void **state)
{
	(void)state;
	struct tb t;

	tb_init(&t);
	tb_add(&t, "from", NOFLAGS, A("alpine", "AS", "base"));
	sw_df_instr *ob = tb_add(&t, "onbuild", NOFLAGS, NULL);
	free(ob->original);
	ob->original = sw_xstrdup("ONBUILD RUN echo $X");
	ob->sub = sw_xcalloc(1, sizeof(sw_df_instr));
	ob->sub->keyword = sw_xstrdup("run");
	ob->sub->original = sw_xstrdup("RUN echo $X");
	ob->sub->args = sw_xcalloc(1, sizeof(char *));
	ob->sub->args[0] = sw_xstrdup("echo $X");
	ob->sub->nargs = 1;
	ob->sub->start_line = ob->sub->end_line = 2;
	tb_add(&t, "from", NOFLAGS, A("base"));
	tb_add(&t, "user", NOFLAGS, A("app"));
	sw_df_plan *p = plan_ok(&t, NULL);
	assert_int_equal(p->nstages, 2);
	assert_string_equal(p->stages[0].steps[0].args[0], "RUN echo $X");
	const sw_df_stage *s = &p->stages[1];
	assert_int_equal(s->nsteps, 2);
	assert_true(s->steps[0].onbuild);
	assert_int_equal(s->steps[0].kind, SW_DF_RUN);
	assert_int_equal(s->steps[0].line, 3);
	assert_string_equal(s->steps[0].args[0], "echo $X");
	assert_false(s->steps[1].onbuild);
	sw_df_plan_free(p);

	/* ONBUILD ONBUILD is refused where it is written */
	free(ob->sub->keyword);
	ob->sub->keyword = sw_xstrdup("onbuild");
	cleanup_free char *m = plan_err(&t, NULL, NULL);
	assert_string_equal(m, "Dockerfile:2: ONBUILD: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
	tb_release(&t);
}

static void test_errors(void **state)
{
	(void)state;
	static const struct {
		const char *kw;
		const char *flags[3];
		const char *args[4];
		const char *msg;
	} c[] = {
		{ "copy", { "--from=a", "--from=b" }, { "x", "y" }, "Dockerfile:2: COPY: duplicate flag specified: from" },
		{ "add", { "--parents" }, { "x", "y" }, "Dockerfile:2: ADD: unknown flag: parents" },
		{ "copy", { "from=x" }, { "x", "y" }, "Dockerfile:2: COPY: arg should start with -- : from=x" },
		{ "run", { "--mount=type=cache,target=/x,uid=x" }, { "true" }, "Dockerfile:2: RUN: invalid value x for uid" },
		{ "run", { "--mount=type=tmpfs,target=/x,size=lots" }, { "true" }, "Dockerfile:2: RUN: invalid value for size: lots" },
		{ "run", { "--mount=type=secret,id=a,source=b" }, { "true" }, "Dockerfile:2: RUN: both source and id can't be set" },
		{ "run", { "--mount=type=bind,target=/x,sharing=locked" }, { "true" }, "Dockerfile:2: RUN: invalid cache sharing set for bind mount" },
		{ "run", { "--mount=type=ssh,source=/x" }, { "true" }, "Dockerfile:2: RUN: ssh does not support source" },
		{ "run", { "--mount=type=bind,ro=maybe,target=/x" }, { "true" }, "Dockerfile:2: RUN: invalid value for ro: maybe" },
		{ "run", { "--mount=a\"b" }, { "true" }, "bare \" in non-quoted-field" },
		{ "run", { "--mount=" }, { "true" }, "failed to parse csv mounts: EOF" },
		{ "healthcheck", { "--retries=x" }, { "CMD", "true" }, "strconv.ParseInt: parsing \"x\": invalid syntax" },
		{ "workdir", { NULL }, { "a", "b" }, "Dockerfile:2: WORKDIR requires exactly one argument" },
		{ "expose", { NULL }, { "1.2.3.4:80:80/tcp", "[::1]:81:81" }, NULL },
		{ "expose", { NULL }, { "999999" }, "invalid containerPort: 999999" },
		{ "expose", { NULL }, { "80-70" }, "invalid containerPort: 80-70" },
		{ "copy", { "--chmod=755" }, { "git@github.com:a/b.git", "/x" }, "source can't be a git ref for COPY" },
		{ "volume", { NULL }, { " " }, "Dockerfile:2: VOLUME specified can not be an empty string" },
		{ "label", { NULL }, { "a", "b" }, "Bad input to LABEL, too many arguments" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct tb t;
		tb_init(&t);
		tb_add(&t, "from", NOFLAGS, A("alpine"));
		tb_add(&t, c[i].kw, c[i].flags, c[i].args);
		if (!c[i].msg) {
			sw_df_plan *p = plan_ok(&t, NULL);
			sw_df_plan_free(p);
		} else {
			cleanup_free char *m = plan_err(&t, NULL, NULL);
			if (!strstr(m, c[i].msg))
				fail_msg("case %zu: '%s' lacks '%s'", i, m, c[i].msg);
		}
		tb_release(&t);
	}
}

static void test_duration(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int64_t ns;
		const char *str;
	} ok[] = {
		{ "0", 0, "0s" }, { "30s", 30000000000LL, "30s" }, { "1m30s", 90000000000LL, "1m30s" },
		{ "1.5h", 5400000000000LL, "1h30m0s" }, { "500ms", 500000000LL, "500ms" },
		{ "10us", 10000, "10\xc2\xb5s" }, { "10\xc2\xb5s", 10000, "10\xc2\xb5s" }, { "7ns", 7, "7ns" },
		{ "+2s", 2000000000LL, "2s" }, { "-1s", -1000000000LL, "-1s" }, { ".5s", 500000000LL, "500ms" },
		{ "1h0m0.25s", 3600250000000LL, "1h0m0.25s" }, { "1.5ms", 1500000, "1.5ms" },
	};
	static const char *const bad[] = { "", "s", "1", "1x", "1.s.", "-", "1e3s", "99999999999h" };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int64_t ns = -42;
		sw_error *err = NULL;
		if (df_parse_duration(&ns, ok[i].in, &err) < 0)
			fail_msg("%s: %s", ok[i].in, err->msg);
		assert_int_equal(ns, ok[i].ns);
		cleanup_free char *s = df_format_duration(ns);
		assert_string_equal(s, ok[i].str);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t ns;
		sw_error *err = NULL;
		if (df_parse_duration(&ns, bad[i], &err) == 0)
			fail_msg("%s parsed as %lld", bad[i], (long long)ns);
		assert_non_null(strstr(err->msg, "time: "));
		sw_error_free(err);
	}
}

static void test_image_refs(void **state)
{
	(void)state;
	static const char *const ok[] = {
		"alpine", "alpine:3.19", "library/alpine", "docker.io/library/alpine:latest",
		"localhost:5000/a/b:tag", "ghcr.io/o/r@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"my-org/my_app__x:v1.2-rc", "Registry.Example.com/a",
	};
	static const char *const bad[] = {
		"", "Alpine", "a:", "a/:b", "-a", "a..b", "a@sha256:short", "a:-tag", "a/B/c",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		sw_error *err = NULL;
		if (df_check_image_ref(ok[i], &err) < 0)
			fail_msg("%s: %s", ok[i], err->msg);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sw_error *err = NULL;
		if (df_check_image_ref(bad[i], &err) == 0)
			fail_msg("%s accepted", bad[i]);
		assert_non_null(strstr(err->msg, "invalid reference format"));
		sw_error_free(err);
	}
}

static void test_paths(void **state)
{
	(void)state;
	static const char *const c[][3] = {
		{ "/", "app", "/app" }, { "/a/b", "../c", "/a/c" }, { "/a", "/x/./y/", "/x/y" },
		{ "/", "../../..", "/" }, { "/a", ".", "/a" }, { "/a", "b//c/", "/a/b/c" },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		cleanup_free char *r = df_path_join_abs(c[i][0], c[i][1]);
		assert_string_equal(r, c[i][2]);
	}
}

static void test_platforms(void **state)
{
	(void)state;
	struct tb t;
	sw_df_plan_opts o = { .target_platform = "linux/aarch64", .build_platform = "x86_64" };

	tb_init(&t);
	tb_add(&t, "from", A("--platform=$BUILDPLATFORM"), A("golang", "AS", "b"));
	tb_add(&t, "from", A("--platform=linux/arm"), A("alpine", "AS", "armv7"));
	tb_add(&t, "from", NOFLAGS, A("b"));
	tb_add(&t, "copy", A("--from=armv7"), A("/a", "/a"));
	sw_df_plan *p = plan_ok(&t, &o);
	assert_string_equal(p->target_platform, "linux/arm64");
	assert_string_equal(p->stages[0].platform, "linux/amd64");
	assert_true(p->stages[0].platform_explicit);
	assert_string_equal(p->stages[1].platform, "linux/arm/v7");
	/* a stage built on another takes its platform */
	assert_string_equal(p->stages[2].platform, "linux/amd64");
	sw_df_plan_free(p);

	o.target_platform = "linux/*";
	cleanup_free char *m = plan_err(&t, &o, NULL);
	assert_non_null(strstr(m, "wildcards not yet supported"));
	tb_release(&t);
	cleanup_free char *host = sw_df_host_platform();
	assert_true(!strncmp(host, "linux/", 6));
}

static void test_outputs(void **state)
{
	(void)state;
	struct tb t;

	tb_init(&t);
	tb_add(&t, "from", NOFLAGS, A("alpine", "AS", "x"));
	tb_add(&t, "env", NOFLAGS, A("A", "tab\there \"q\"", "="));
	tb_add(&t, "healthcheck", A("--timeout=3s"), A("CMD", "true"));
	sw_df_plan *p = plan_ok(&t, NULL);
	cleanup_free char *text = sw_df_plan_text(p);
	assert_string_equal(text, "target: 0 x\n\nstage 0 x: FROM image \"alpine\"\n"
	                          "  2 ENV A=\"tab\\there q\"\n"  /* quotes are removed */
	                          "  3 HEALTHCHECK [\"CMD-SHELL\",\"true\"] timeout=3s\n");
	cleanup_free char *json = sw_df_plan_json(p);
	json_t *j = json_loads(json, 0, NULL);
	assert_non_null(j);
	json_t *steps = json_object_get(json_array_get(json_object_get(j, "stages"), 0), "steps");
	assert_int_equal(json_array_size(steps), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(steps, 1), "timeout_ns")), 3000000000LL);
	json_decref(j);
	sw_df_plan_free(p);
	tb_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arg_scoping),
		cmocka_unit_test(test_image_env_callback),
		cmocka_unit_test(test_target_and_deps),
		cmocka_unit_test(test_onbuild),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_image_refs),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_platforms),
		cmocka_unit_test(test_outputs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
