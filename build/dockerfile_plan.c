/*
 * dockerfile_plan.c - stages, ARG/ENV scoping and target pruning with the
 * semantics of BuildKit's dockerfile2llb (convert.go): a sw_df_file becomes
 * a sw_df_plan (dockerfile_plan.h).
 *
 * The order of work follows BuildKit, so errors come out in the same order:
 *   1. every instruction is typed (flags, argument counts) in file order;
 *   2. global ARGs are evaluated (platform ARGs first, then --build-arg);
 *   3. each FROM is expanded with global ARGs only and matched to an
 *      earlier stage name, else it is an image (or scratch);
 *   4. COPY --from / RUN --mount from= give dependencies; cycles are errors;
 *   5. the stages --target needs are dispatched in file order: ARG, ENV
 *      and expansion happen here, with one environment per instruction.
 * Printing lives in dockerfile_plan_out.c.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>

#include "dockerfile_instr.h"
#include "dockerfile_plan_int.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/mem.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *const proxy_args[] = {
	"HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY",
};

static const char *const platform_args[] = {
	"BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT",
	"TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
};

const char *sw_df_kind_name(sw_df_kind k)
{
	static const char *const n[] = {
		"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "HEALTHCHECK", "LABEL",
		"MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
	};
	return (size_t)k < sizeof(n) / sizeof(n[0]) ? n[k] : "?";
}

/* ----------------------------------------------------------- platforms */

static const char *const known_os[] = {
	"aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js",
	"linux", "nacl", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows", "zos",
};

static const char *const known_arch[] = {
	"386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "ppc64", "ppc64le",
	"loong64", "mips", "mipsle", "mips64", "mips64le", "mips64p32", "mips64p32le", "ppc",
	"riscv", "riscv64", "s390", "s390x", "sparc", "sparc64", "wasm",
};

static bool in_list(const char *s, const char *const *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, l[i]))
			return true;
	return false;
}

/* containerd's normalizeArch + Normalize: canonical arch and variant. */
static void normalize_arch(char **arch, char **variant)
{
	char *a = *arch, *v = *variant;
	const char *na = a, *nv = v;

	if (!strcmp(a, "i386") || !strcmp(a, "i486") || !strcmp(a, "i586") || !strcmp(a, "i686")) {
		na = "386";
		nv = "";
	} else if (!strcmp(a, "x86_64") || !strcmp(a, "x86-64") || !strcmp(a, "amd64")) {
		na = "amd64";
		if (!strcmp(v, "v1"))
			nv = "";
	} else if (!strcmp(a, "aarch64") || !strcmp(a, "arm64")) {
		na = "arm64";
		if (!strcmp(v, "8") || !strcmp(v, "v8") || !strcmp(v, "v8.0"))
			nv = "";
	} else if (!strcmp(a, "armhf")) {
		na = "arm";
		nv = "v7";
	} else if (!strcmp(a, "armel")) {
		na = "arm";
		nv = "v6";
	} else if (!strcmp(a, "arm")) {
		if (!*v || !strcmp(v, "7"))
			nv = "v7";
		else if (!strcmp(v, "5") || !strcmp(v, "6") || !strcmp(v, "8"))
			nv = v[0] == '5' ? "v5" : v[0] == '6' ? "v6" : "v8";
	}
	*arch = sw_xstrdup(na);
	*variant = sw_xstrdup(nv);
	free(a);
	free(v);
}

static bool platform_component_ok(const char *s, size_t len)
{
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

static const char *host_arch(void)
{
	static char arch[32];
	struct utsname u;

	if (uname(&u) < 0)
		return "amd64";
	char *a = sw_xstrdup(u.machine), *v = sw_xstrdup("");
	for (char *p = a; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!strncmp(a, "armv7", 5) || !strncmp(a, "armv6", 5)) {
		char d = a[4];
		free(a);
		free(v);
		snprintf(arch, sizeof(arch), "arm/v%c", d);
		return arch;
	}
	normalize_arch(&a, &v);
	snprintf(arch, sizeof(arch), "%s%s%s", a, *v ? "/" : "", v);
	free(a);
	free(v);
	return arch;
}

char *sw_df_host_platform(void)
{
	return sw_xasprintf("linux/%s", host_arch());
}

/* platforms.Parse + Normalize + Format. */
static int parse_platform(char **out, const char *spec0, sw_error **err)
{
	cleanup_free char *spec = sw_xstrdup(spec0);
	char *parts[4] = { 0 };
	size_t n = 0;
	cleanup_free char *q = sw_go_quote(spec0);

	if (strchr(spec, '*'))
		return sw_error_set(err, SW_EINVALID, "%s: wildcards not yet supported: invalid argument", q);
	for (char *p = spec, *e;; p = e + 1) {
		e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (!platform_component_ok(p, len)) {
			cleanup_free char *part = sw_xstrndup(p, len);
			cleanup_free char *pq = sw_go_quote(part);
			return sw_error_set(err, SW_EINVALID,
			                    "%s is an invalid component of %s: platform specifier component must match \"^[A-Za-z0-9_.-]+$\": invalid argument",
			                    pq, q);
		}
		if (n == 3)
			return sw_error_set(err, SW_EINVALID, "%s: cannot parse platform specifier: invalid argument", q);
		parts[n++] = p;
		if (!e)
			break;
		*e = '\0';
	}
	for (size_t i = 0; i < n; i++)
		for (char *p = parts[i]; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	char *os = NULL, *arch = NULL, *variant = NULL;
	if (n == 1) {
		if (in_list(parts[0], known_os, sizeof(known_os) / sizeof(known_os[0]))) {
			*out = sw_xasprintf("%s/%s", !strcmp(parts[0], "macos") ? "darwin" : parts[0], host_arch());
			return 0;
		}
		arch = sw_xstrdup(parts[0]);
		variant = sw_xstrdup("");
		normalize_arch(&arch, &variant);
		if (!in_list(arch, known_arch, sizeof(known_arch) / sizeof(known_arch[0]))) {
			free(arch);
			free(variant);
			return sw_error_set(err, SW_EINVALID, "%s: unknown operating system or architecture: invalid argument", q);
		}
		os = sw_xstrdup("linux");
	} else {
		os = sw_xstrdup(!strcmp(parts[0], "macos") ? "darwin" : parts[0]);
		arch = sw_xstrdup(parts[1]);
		variant = sw_xstrdup(n == 3 ? parts[2] : "");
		normalize_arch(&arch, &variant);
	}
	*out = sw_xasprintf("%s/%s%s%s", os, arch, *variant ? "/" : "", variant);
	free(os);
	free(arch);
	free(variant);
	return 0;
}

static void platform_split(const char *p, char **os, char **arch, char **variant)
{
	const char *s1 = strchr(p, '/');
	const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;

	*os = sw_xstrndup(p, s1 ? (size_t)(s1 - p) : strlen(p));
	*arch = s1 ? sw_xstrndup(s1 + 1, s2 ? (size_t)(s2 - s1 - 1) : strlen(s1 + 1)) : sw_xstrdup("");
	*variant = sw_xstrdup(s2 ? s2 + 1 : "");
}

/* ------------------------------------------------------------ state */

typedef struct stage_st {
	df_from from;
	size_t first_instr;      /* index in f->instrs of the FROM */
	df_cmd *cmds;
	size_t ncmds;
	df_cmd *triggers;        /* ONBUILD triggers injected from the base stage */
	size_t ntriggers;
	bool triggers_done;

	char *base;              /* expanded */
	sw_df_base_kind base_kind;
	size_t base_stage;
	char *platform;
	bool platform_explicit;
	char *display;

	size_t *deps;            /* stage indices, with the command that adds each */
	const df_cmd **dep_cmd;
	size_t ndeps;

	bool reachable;
	bool dispatched;

	/* dispatch state */
	sw_env env;
	uint8_t *env_flags;
	size_t env_flags_cap;
	char *workdir;
	char **shell;
	char **declared;         /* ARG names declared (own and inherited) */
	size_t ndeclared;
	sw_df_step *steps;
	size_t nsteps;
	struct snap *snap;       /* current env snapshot, NULL when env changed */
} stage_st;

typedef struct planner {
	const sw_df_file *f;
	const sw_df_plan_opts *o;
	const char *path;
	sw_lex_opts lex;
	sw_df_plan *plan;
	struct plan_priv *priv;

	df_cmd *meta;            /* ARGs before the first FROM */
	size_t nmeta;
	sw_env global;           /* global scope: platform ARGs, then meta ARGs */
	char **global_declared;
	size_t nglobal_declared;

	stage_st *st;
	size_t nst;
	size_t target;
	char *build_platform;
	char *target_platform;
	char **consumed;         /* build args used by an ARG */
	size_t nconsumed;
} planner;

static int budget(planner *pl, size_t bytes, sw_error **err)
{
	pl->priv->bytes += bytes;
	if (pl->priv->bytes > SW_DF_PLAN_MAX_BYTES)
		return sw_error_set(err, SW_ETOOBIG, "%s: the plan exceeds the limit of %u bytes (expansion too large)",
		                    pl->path, SW_DF_PLAN_MAX_BYTES);
	return 0;
}

static int fail_at(sw_error **err, const char *path, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail_at(sw_error **err, const char *path, int line, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;
	int r;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	r = sw_error_set(err, SW_EINVALID, "%s:%d: %s", path, line, msg ? msg : "out of memory");
	free(msg);
	return r;
}

static void warn(planner *pl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(planner *pl, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s)
		return;
	sw_df_plan *p = pl->plan;
	p->warnings = sw_xreallocarray(p->warnings, p->nwarnings + 1, sizeof(char *));
	p->warnings[p->nwarnings++] = s;
}

static const char *build_arg(const planner *pl, const char *key)
{
	const char *v = NULL;
	for (size_t i = 0; i < pl->o->nbuild_args; i++)
		if (!strcmp(pl->o->build_args[i].key, key))
			v = pl->o->build_args[i].value ? pl->o->build_args[i].value : "";
	return v;
}

static void mark_consumed(planner *pl, const char *key)
{
	pl->consumed = sw_xreallocarray(pl->consumed, pl->nconsumed + 1, sizeof(char *));
	pl->consumed[pl->nconsumed++] = sw_xstrdup(key);
}

static void strv_push(char ***v, size_t *n, const char *s)
{
	*v = sw_xreallocarray(*v, *n + 1, sizeof(char *));
	(*v)[(*n)++] = sw_xstrdup(s);
}

/* --------------------------------------------------- env of a stage */

static void st_env_set(stage_st *s, const char *k, const char *v, uint8_t flags)
{
	sw_env_set(&s->env, k, v);
	if (s->env.n > s->env_flags_cap) {
		s->env_flags_cap = s->env.n * 2;
		s->env_flags = sw_xrealloc(s->env_flags, s->env_flags_cap);
	}
	for (size_t i = 0; i < s->env.n; i++)
		if (!strcmp(s->env.v[i].key, k))
			s->env_flags[i] = flags;
	s->snap = NULL;
}

/* The env snapshot steps share until the next ENV/ARG changes it. */
static int st_snapshot(planner *pl, stage_st *s, struct snap **out, sw_error **err)
{
	if (!s->snap) {
		struct snap *sn = sw_xcalloc(1, sizeof(*sn));
		sn->n = s->env.n;
		sn->kv = sw_xcalloc(sn->n + 1, sizeof(*sn->kv));
		sn->flags = sw_xcalloc(sn->n + 1, 1);
		for (size_t i = 0; i < sn->n; i++) {
			sn->kv[i].key = sw_xstrdup(s->env.v[i].key);
			sn->kv[i].value = sw_xstrdup(s->env.v[i].value);
			sn->flags[i] = s->env_flags[i];
		}
		sn->next = pl->priv->snaps;
		pl->priv->snaps = sn;
		s->snap = sn;
		if (budget(pl, sw_env_bytes(&s->env) + sn->n * (sizeof(sw_df_kv) + 1), err) < 0)
			return SW_ETOOBIG;
	}
	*out = s->snap;
	return 0;
}

static void stage_st_release(stage_st *s)
{
	df_from_release(&s->from);
	for (size_t i = 0; i < s->ncmds; i++)
		df_cmd_release(&s->cmds[i]);
	free(s->cmds);
	for (size_t i = 0; i < s->ntriggers; i++)
		df_cmd_release(&s->triggers[i]);
	free(s->triggers);
	free(s->base);
	free(s->platform);
	free(s->display);
	free(s->deps);
	free(s->dep_cmd);
	sw_env_release(&s->env);
	free(s->env_flags);
	free(s->workdir);
	sw_strv_free(s->shell);
	for (size_t i = 0; i < s->ndeclared; i++)
		free(s->declared[i]);
	free(s->declared);
	for (size_t i = 0; i < s->nsteps; i++)
		df_step_release(&s->steps[i]);
	free(s->steps);
}

static void planner_release(planner *pl)
{
	for (size_t i = 0; i < pl->nmeta; i++)
		df_cmd_release(&pl->meta[i]);
	free(pl->meta);
	sw_env_release(&pl->global);
	for (size_t i = 0; i < pl->nglobal_declared; i++)
		free(pl->global_declared[i]);
	free(pl->global_declared);
	for (size_t i = 0; i < pl->nst; i++)
		stage_st_release(&pl->st[i]);
	free(pl->st);
	free(pl->build_platform);
	free(pl->target_platform);
	for (size_t i = 0; i < pl->nconsumed; i++)
		free(pl->consumed[i]);
	free(pl->consumed);
}

/* ------------------------------------------------- 1: typing */

static int type_all(planner *pl, sw_error **err)
{
	const sw_df_file *f = pl->f;

	for (size_t i = 0; i < f->ninstrs; i++) {
		const sw_df_instr *in = &f->instrs[i];
		if (!strcasecmp(in->keyword, "from")) {
			pl->st = sw_xreallocarray(pl->st, pl->nst + 1, sizeof(*pl->st));
			stage_st *s = &pl->st[pl->nst];
			*s = (stage_st){ .first_instr = i };
			pl->nst++;
			if (df_from_parse(&s->from, in, pl->path, err) < 0)
				return SW_EINVALID;
			continue;
		}
		df_cmd c;
		if (df_cmd_parse(&c, in, pl->path, &pl->plan->warnings, &pl->plan->nwarnings, err) < 0)
			return SW_EINVALID;
		if (pl->nst == 0) {
			if (c.kind != SW_DF_ARG) {
				df_cmd_release(&c);
				return fail_at(err, pl->path, in->start_line, "no build stage in current context");
			}
			pl->meta = sw_xreallocarray(pl->meta, pl->nmeta + 1, sizeof(*pl->meta));
			pl->meta[pl->nmeta++] = c;
			continue;
		}
		stage_st *s = &pl->st[pl->nst - 1];
		s->cmds = sw_xreallocarray(s->cmds, s->ncmds + 1, sizeof(*s->cmds));
		s->cmds[s->ncmds++] = c;
	}
	if (pl->nst == 0)
		return sw_error_set(err, SW_EINVALID, "%s: dockerfile contains no stages to build", pl->path);
	return 0;
}

/* ------------------------------------------------- 2: global ARGs */

static int global_args(planner *pl, sw_error **err)
{
	char *bo, *ba, *bv, *to, *ta, *tv;

	platform_split(pl->build_platform, &bo, &ba, &bv);
	platform_split(pl->target_platform, &to, &ta, &tv);
	const char *vals[] = { pl->build_platform, bo, ba, bv, pl->target_platform, to, ta, tv };
	for (size_t i = 0; i < 8; i++)
		sw_env_set(&pl->global, platform_args[i], vals[i]);
	free(bo), free(ba), free(bv), free(to), free(ta), free(tv);

	for (size_t i = 0; i < pl->nmeta; i++) {
		const df_cmd *c = &pl->meta[i];
		for (size_t k = 0; k < c->nkvs; k++) {
			const char *key = c->kvs[k].key;
			const char *bval = build_arg(pl, key);
			cleanup_free char *value = NULL;
			strv_push(&pl->global_declared, &pl->nglobal_declared, key);
			if (bval) {
				value = sw_xstrdup(bval);
				mark_consumed(pl, key);
			} else if (c->kvs[k].value) {
				if (sw_lex_word(&value, &pl->lex, c->kvs[k].value, &pl->global, err) < 0) {
					cleanup_free char *m = sw_error_string(*err);
					sw_error_clear(err);
					return fail_at(err, pl->path, c->line, "ARG: %s", m);
				}
			}
			if (value)
				sw_env_set(&pl->global, key, value);
		}
	}
	return 0;
}

/* ------------------------------------------------- 3: stages */

static int find_stage_by_name(const planner *pl, const char *name, size_t limit)
{
	int found = -1;
	for (size_t i = 0; i < limit; i++)
		if (pl->st[i].from.name && !strcasecmp(pl->st[i].from.name, name))
			found = (int)i;
	return found;
}

static int plan_stages(planner *pl, sw_error **err)
{
	for (size_t i = 0; i < pl->nst; i++) {
		stage_st *s = &pl->st[i];
		int line = s->from.in->start_line;

		if (sw_lex_word(&s->base, &pl->lex, s->from.base, &pl->global, err) < 0) {
			cleanup_free char *m = sw_error_string(*err);
			sw_error_clear(err);
			return fail_at(err, pl->path, line, "FROM: %s", m);
		}
		if (!*s->base)
			return fail_at(err, pl->path, line, "base name (%s) should not be blank", s->from.base);
		s->display = s->from.name ? sw_xstrdup(s->from.name) : sw_xasprintf("stage-%zu", i);
		if (s->from.name) {
			for (size_t k = 0; k < i; k++)
				if (pl->st[k].from.name && !strcmp(pl->st[k].from.name, s->from.name))
					warn(pl, "%s:%d: DuplicateStageName: Duplicate stage name \"%s\", stage names should be unique",
					     pl->path, line, s->from.name);
			if (!strcmp(s->from.name, "context") || !strcmp(s->from.name, "scratch"))
				warn(pl, "%s:%d: ReservedStageName: Stage name should not use the same name as reserved stage \"%s\"",
				     pl->path, line, s->from.name);
		}
		if (s->from.platform) {
			cleanup_free char *pv = NULL;
			if (sw_lex_word(&pv, &pl->lex, s->from.platform, &pl->global, err) < 0) {
				cleanup_free char *m = sw_error_string(*err);
				sw_error_clear(err);
				return fail_at(err, pl->path, line, "failed to process arguments for platform: %s", m);
			}
			if (!*pv)
				return fail_at(err, pl->path, line, "empty platform value from expression %s", s->from.platform);
			if (parse_platform(&s->platform, pv, err) < 0) {
				cleanup_free char *m = sw_error_string(*err);
				sw_error_clear(err);
				return fail_at(err, pl->path, line, "failed to parse platform %s: %s", s->from.platform, m);
			}
			s->platform_explicit = true;
		}
		/* an earlier stage of that exact (lower-case) name, else an image */
		int b = -1;
		for (size_t k = 0; k < i; k++)
			if (pl->st[k].from.name && !strcmp(pl->st[k].from.name, s->base))
				b = (int)k;
		if (b >= 0) {
			s->base_kind = SW_DF_BASE_STAGE;
			s->base_stage = (size_t)b;
		} else if (!strcmp(s->base, "scratch")) {
			s->base_kind = SW_DF_BASE_SCRATCH;
		} else {
			s->base_kind = SW_DF_BASE_IMAGE;
			if (df_check_image_ref(s->base, err) < 0) {
				cleanup_free char *m = sw_error_string(*err);
				cleanup_free char *q = sw_go_quote(s->base);
				sw_error_clear(err);
				return fail_at(err, pl->path, line, "failed to parse stage name %s: %s", q, m);
			}
		}
	}
	if (pl->o->target && *pl->o->target) {
		int t = find_stage_by_name(pl, pl->o->target, pl->nst);
		if (t < 0) {
			cleanup_free char *q = sw_go_quote(pl->o->target);
			return sw_error_set(err, SW_ENOTFOUND, "%s: target stage %s could not be found", pl->path, q);
		}
		pl->target = (size_t)t;
	} else {
		pl->target = pl->nst - 1;
	}
	return 0;
}

/* ------------------------------------------------- 4: dependencies */

/* Go's strconv.Atoi: optional sign, decimal digits, no overflow. */
static bool go_atoi(const char *s, long long *out)
{
	const char *p = s;
	char *end;

	if (*p == '+' || *p == '-')
		p++;
	if (!*p)
		return false;
	for (const char *q = p; *q; q++)
		if (*q < '0' || *q > '9')
			return false;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return !errno && !*end;
}

/* A reference from COPY --from (indexes allowed) or a mount (names only). */
static int resolve_ref(const planner *pl, const char *from, bool allow_index, int line,
                       sw_df_ref_kind *kind, size_t *stage, sw_error **err)
{
	long long idx;

	if (allow_index && go_atoi(from, &idx)) {
		if (idx < 0 || (unsigned long long)idx >= pl->nst)
			return fail_at(err, pl->path, line, "invalid stage index %lld", idx);
		*kind = SW_DF_REF_STAGE;
		*stage = (size_t)idx;
		return 0;
	}
	int s = find_stage_by_name(pl, from, pl->nst);
	if (s >= 0) {
		*kind = SW_DF_REF_STAGE;
		*stage = (size_t)s;
		return 0;
	}
	*kind = SW_DF_REF_IMAGE;
	if (!strcmp(from, "scratch"))
		return 0;
	if (df_check_image_ref(from, err) < 0) {
		cleanup_free char *m = sw_error_string(*err);
		cleanup_free char *q = sw_go_quote(from);
		sw_error_clear(err);
		return fail_at(err, pl->path, line, "failed to parse stage name %s: %s", q, m);
	}
	return 0;
}

static void add_dep(stage_st *s, size_t dep, const df_cmd *c)
{
	for (size_t i = 0; i < s->ndeps; i++)
		if (s->deps[i] == dep)
			return;
	s->deps = sw_xreallocarray(s->deps, s->ndeps + 1, sizeof(*s->deps));
	s->dep_cmd = sw_xreallocarray(s->dep_cmd, s->ndeps + 1, sizeof(*s->dep_cmd));
	s->deps[s->ndeps] = dep;
	s->dep_cmd[s->ndeps] = c;
	s->ndeps++;
}

static int cmd_deps(planner *pl, stage_st *s, const df_cmd *c, sw_error **err)
{
	sw_df_ref_kind kind;
	size_t idx;

	if (c->kind == SW_DF_COPY && c->from) {
		if (resolve_ref(pl, c->from, true, c->line, &kind, &idx, err) < 0)
			return SW_EINVALID;
		if (kind == SW_DF_REF_STAGE)
			add_dep(s, idx, c);
	}
	if (c->kind == SW_DF_RUN && c->nmount_specs) {
		char **froms = NULL;
		int r = 0;
		if (df_cmd_mount_froms(&froms, c, pl->path, err) < 0)
			return SW_EINVALID;
		for (size_t m = 0; m < c->nmount_specs && r == 0; m++) {
			if (!froms[m])
				continue;
			r = resolve_ref(pl, froms[m], false, c->line, &kind, &idx, err);
			if (r == 0 && kind == SW_DF_REF_STAGE)
				add_dep(s, idx, c);
		}
		/* sparse array: free by count */
		for (size_t m = 0; m < c->nmount_specs; m++)
			free(froms[m]);
		free(froms);
		if (r < 0)
			return SW_EINVALID;
	}
	return 0;
}

/* validateCircularDependency: DFS over COPY/mount dependencies. */
static const df_cmd *cycle_visit(planner *pl, size_t i, bool *visited, bool *onpath)
{
	stage_st *s = &pl->st[i];

	if (visited[i])
		return NULL;
	visited[i] = onpath[i] = true;
	for (size_t k = 0; k < s->ndeps; k++) {
		if (onpath[s->deps[k]])
			return s->dep_cmd[k];
		const df_cmd *c = cycle_visit(pl, s->deps[k], visited, onpath);
		if (c)
			return s->dep_cmd[k];
	}
	onpath[i] = false;
	return NULL;
}

static void mark_reachable(planner *pl, size_t i)
{
	stage_st *s = &pl->st[i];
	if (s->reachable)
		return;
	s->reachable = true;
	if (s->base_kind == SW_DF_BASE_STAGE)
		mark_reachable(pl, s->base_stage);
	for (size_t k = 0; k < s->ndeps; k++)
		mark_reachable(pl, s->deps[k]);
}

/* ONBUILD instructions of the base stage run first in the derived one. */
static int init_triggers(planner *pl, stage_st *s, bool *new_deps, sw_error **err)
{
	if (s->triggers_done || s->base_kind != SW_DF_BASE_STAGE)
		return 0;
	s->triggers_done = true;
	stage_st *b = &pl->st[s->base_stage];
	int line = s->from.in->start_line;
	for (size_t i = 0; i < b->ncmds; i++) {
		if (b->cmds[i].kind != SW_DF_ONBUILD)
			continue;
		df_cmd c;
		if (df_cmd_parse(&c, b->cmds[i].trigger, pl->path, NULL, NULL, err) < 0) {
			cleanup_free char *m = sw_error_string(*err);
			sw_error_clear(err);
			/* the trigger's own "PATH:LINE: " goes; it runs at this FROM */
			const char *msg = m;
			size_t pl_len = strlen(pl->path);
			if (!strncmp(msg, pl->path, pl_len) && msg[pl_len] == ':') {
				const char *colon = strchr(msg + pl_len + 1, ':');
				if (colon)
					msg = colon + 2;
			}
			return fail_at(err, pl->path, line, "%s", msg);
		}
		c.onbuild = true;
		c.line = line;
		c.end_line = s->from.in->end_line;
		s->triggers = sw_xreallocarray(s->triggers, s->ntriggers + 1, sizeof(*s->triggers));
		s->triggers[s->ntriggers++] = c;
		size_t before = s->ndeps;
		if (cmd_deps(pl, s, &s->triggers[s->ntriggers - 1], err) < 0)
			return SW_EINVALID;
		if (s->ndeps != before)
			*new_deps = true;
	}
	return 0;
}

static int plan_deps(planner *pl, sw_error **err)
{
	for (size_t i = 0; i < pl->nst; i++)
		for (size_t k = 0; k < pl->st[i].ncmds; k++)
			if (cmd_deps(pl, &pl->st[i], &pl->st[i].cmds[k], err) < 0)
				return SW_EINVALID;

	cleanup_free bool *visited = sw_xcalloc(pl->nst, sizeof(bool));
	cleanup_free bool *onpath = sw_xcalloc(pl->nst, sizeof(bool));
	for (size_t i = 0; i < pl->nst; i++) {
		const df_cmd *c = cycle_visit(pl, i, visited, onpath);
		if (c)
			return fail_at(err, pl->path, c->line, "circular dependency detected on stage: %s",
			               pl->st[i].display);
	}

	for (;;) {
		bool new_deps = false;
		for (size_t i = 0; i < pl->nst; i++)
			pl->st[i].reachable = false;
		mark_reachable(pl, pl->target);
		for (size_t i = 0; i < pl->nst; i++)
			if (pl->st[i].reachable && init_triggers(pl, &pl->st[i], &new_deps, err) < 0)
				return SW_EINVALID;
		if (!new_deps)
			break;
		memset(visited, 0, pl->nst * sizeof(bool));
		memset(onpath, 0, pl->nst * sizeof(bool));
		for (size_t i = 0; i < pl->nst; i++) {
			const df_cmd *c = cycle_visit(pl, i, visited, onpath);
			if (c)
				return fail_at(err, pl->path, c->line, "circular dependency detected on stage: %s",
				               pl->st[i].display);
		}
	}
	return 0;
}

/* ------------------------------------------------- 5: dispatch */

static int resolve_mount_from(const char *from, sw_df_ref_kind *kind, size_t *stage, void *payload)
{
	planner *pl = payload;
	int s = find_stage_by_name(pl, from, pl->nst);
	*kind = s >= 0 ? SW_DF_REF_STAGE : SW_DF_REF_IMAGE;
	*stage = s >= 0 ? (size_t)s : 0;
	return 0;
}

static int stage_init(planner *pl, stage_st *s, sw_error **err)
{
	if (s->base_kind == SW_DF_BASE_STAGE) {
		stage_st *b = &pl->st[s->base_stage];
		sw_env_copy(&s->env, &b->env);
		s->env_flags_cap = s->env.n + 1;
		s->env_flags = sw_xcalloc(s->env_flags_cap, 1);
		memcpy(s->env_flags, b->env_flags, s->env.n);
		s->workdir = sw_xstrdup(b->workdir);
		s->shell = sw_xcalloc(1, sizeof(char *));
		for (size_t n = 0; b->shell[n]; n++) {
			s->shell = sw_xreallocarray(s->shell, n + 2, sizeof(char *));
			s->shell[n] = sw_xstrdup(b->shell[n]);
			s->shell[n + 1] = NULL;
		}
		for (size_t i = 0; i < b->ndeclared; i++)
			strv_push(&s->declared, &s->ndeclared, b->declared[i]);
		free(s->platform);
		s->platform = sw_xstrdup(b->platform);
		s->platform_explicit = b->platform_explicit;
		return 0;
	}
	if (!s->platform)
		s->platform = sw_xstrdup(pl->target_platform);
	s->workdir = sw_xstrdup("/");
	s->shell = sw_xcalloc(3, sizeof(char *));
	s->shell[0] = sw_xstrdup("/bin/sh");
	s->shell[1] = sw_xstrdup("-c");
	if (s->base_kind == SW_DF_BASE_IMAGE && pl->o->image_env) {
		cleanup_strv char **env = NULL;
		if (pl->o->image_env(&env, s->base, s->platform, pl->o->payload, err) < 0)
			return sw_error_wrap(err, "%s:%d: base image %s", pl->path, s->from.in->start_line, s->base);
		for (size_t i = 0; env && env[i]; i++) {
			const char *eq = strchr(env[i], '=');
			cleanup_free char *k = eq ? sw_xstrndup(env[i], (size_t)(eq - env[i])) : sw_xstrdup(env[i]);
			st_env_set(s, k, eq ? eq + 1 : "", SW_DF_ENV_IMAGE);
		}
	}
	if (!sw_env_get(&s->env, "PATH"))
		st_env_set(s, "PATH", DEFAULT_PATH, SW_DF_ENV_IMAGE);
	return 0;
}

static bool is_declared(char **v, size_t n, const char *k)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], k))
			return true;
	return false;
}

/* dispatchArg: build arg, else default (expanded now), else the global
 * value when re-declared without a default. */
static int dispatch_arg(planner *pl, stage_st *s, const df_cmd *c, sw_df_step *step, sw_error **err)
{
	for (size_t i = 0; i < c->nkvs; i++) {
		const char *key = c->kvs[i].key;
		const char *bval = build_arg(pl, key);
		char *value = NULL;

		if (bval) {
			value = sw_xstrdup(bval);
			mark_consumed(pl, key);
		} else if (c->kvs[i].value) {
			if (sw_lex_word(&value, &pl->lex, c->kvs[i].value, &s->env, err) < 0) {
				cleanup_free char *m = sw_error_string(*err);
				sw_error_clear(err);
				return fail_at(err, pl->path, c->line, "ARG: %s", m);
			}
		} else {
			const char *g = sw_env_get(&pl->global, key);
			if (g)
				value = sw_xstrdup(g);
		}
		if (value)
			st_env_set(s, key, value, SW_DF_ENV_ARG);
		if (!is_declared(s->declared, s->ndeclared, key))
			strv_push(&s->declared, &s->ndeclared, key);
		free(step->kvs[i].value);
		step->kvs[i].value = value;
	}
	return 0;
}

static size_t step_bytes(const sw_df_step *s)
{
	size_t t = sizeof(*s) + strlen(s->original);
	for (size_t i = 0; i < s->nargs; i++)
		t += strlen(s->args[i]) + sizeof(char *);
	for (size_t i = 0; i < s->nkvs; i++)
		t += strlen(s->kvs[i].key) + (s->kvs[i].value ? strlen(s->kvs[i].value) : 0);
	for (size_t i = 0; i < s->ninlines; i++)
		t += strlen(s->inlines[i].name) + strlen(s->inlines[i].data);
	return t;
}

static int dispatch_cmd(planner *pl, stage_st *s, const df_cmd *c, sw_error **err)
{
	df_expand_ctx ctx = {
		.path = pl->path, .lex = pl->lex, .env = &s->env, .workdir = s->workdir,
		.shell = s->shell, .resolve_from = resolve_mount_from, .payload = pl,
	};
	struct snap *sn;
	sw_df_step step;

	if (st_snapshot(pl, s, &sn, err) < 0)
		return SW_ETOOBIG;
	if (df_cmd_expand(&step, c, &ctx, err) < 0)
		return SW_EINVALID;
	step.env = sn->kv;
	step.env_flags = sn->flags;
	step.nenv = sn->n;
	step.from_kind = SW_DF_REF_NONE;

	int r = 0;
	switch (c->kind) {
	case SW_DF_ARG:
		r = dispatch_arg(pl, s, c, &step, err);
		break;
	case SW_DF_ENV:
		for (size_t i = 0; i < step.nkvs; i++)
			st_env_set(s, step.kvs[i].key, step.kvs[i].value, 0);
		break;
	case SW_DF_WORKDIR:
		free(s->workdir);
		s->workdir = sw_xstrdup(step.workdir);
		break;
	case SW_DF_SHELL:
		sw_strv_free(s->shell);
		s->shell = sw_xcalloc(step.nargs + 1, sizeof(char *));
		for (size_t i = 0; i < step.nargs; i++)
			s->shell[i] = sw_xstrdup(step.args[i]);
		break;
	case SW_DF_COPY:
		if (step.from) {
			size_t idx = 0;
			r = resolve_ref(pl, step.from, true, c->line, &step.from_kind, &idx, err);
			step.from_stage = idx;
			if (r == 0 && step.from_kind == SW_DF_REF_STAGE && !pl->st[idx].dispatched) {
				cleanup_free char *q = sw_go_quote(step.from);
				cleanup_free char *qs = sw_go_quote(s->display);
				r = fail_at(err, pl->path, c->line,
				            "cannot copy from stage %s, it needs to be defined before current stage %s", q, qs);
			}
		}
		break;
	case SW_DF_RUN:
		for (size_t m = 0; m < step.nmounts && r == 0; m++) {
			const sw_df_mount *mt = &step.mounts[m];
			if (mt->from_kind == SW_DF_REF_STAGE && !pl->st[mt->from_stage].dispatched) {
				cleanup_free char *q = sw_go_quote(mt->from);
				cleanup_free char *qs = sw_go_quote(s->display);
				r = fail_at(err, pl->path, c->line,
				            "cannot mount from stage %s, it needs to be defined before current stage %s", q, qs);
			}
		}
		break;
	default:
		break;
	}
	if (r == 0)
		r = budget(pl, step_bytes(&step), err);
	if (r < 0) {
		df_step_release(&step);
		return r;
	}
	s->steps = sw_xreallocarray(s->steps, s->nsteps + 1, sizeof(*s->steps));
	s->steps[s->nsteps++] = step;
	return 0;
}

static int dispatch_all(planner *pl, sw_error **err)
{
	for (size_t i = 0; i < pl->nst; i++) {
		stage_st *s = &pl->st[i];
		if (!s->reachable)
			continue;
		s->dispatched = true;
		if (stage_init(pl, s, err) < 0)
			return sw_error_code(*err);
		for (size_t k = 0; k < s->ntriggers; k++)
			if (dispatch_cmd(pl, s, &s->triggers[k], err) < 0)
				return sw_error_code(*err);
		for (size_t k = 0; k < s->ncmds; k++)
			if (dispatch_cmd(pl, s, &s->cmds[k], err) < 0)
				return sw_error_code(*err);
	}
	return 0;
}

/* -------------------------------------------------- build args left over */

static bool is_predefined(const char *k)
{
	for (size_t i = 0; i < sizeof(proxy_args) / sizeof(proxy_args[0]); i++)
		if (!strcasecmp(k, proxy_args[i]))
			return true;
	for (size_t i = 0; i < sizeof(platform_args) / sizeof(platform_args[0]); i++)
		if (!strcmp(k, platform_args[i]))
			return true;
	return !strncmp(k, "BUILDKIT_", 9) || !strcmp(k, "SOURCE_DATE_EPOCH");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void unused_build_args(planner *pl)
{
	cleanup_free char **unused = NULL;
	size_t n = 0;

	for (size_t i = 0; i < pl->o->nbuild_args; i++) {
		const char *k = pl->o->build_args[i].key;
		if (is_predefined(k) || is_declared(pl->consumed, pl->nconsumed, k) ||
		    is_declared(unused, n, k))
			continue;
		unused = sw_xreallocarray(unused, n + 1, sizeof(char *));
		unused[n++] = (char *)k;
	}
	if (!n)
		return;
	qsort(unused, n, sizeof(char *), cmp_str);
	sw_buf b = SW_BUF_INIT(0);
	for (size_t i = 0; i < n; i++) {
		if (i)
			(void)sw_buf_addc(&b, ' ', NULL);
		(void)sw_buf_addstr(&b, unused[i], NULL);
	}
	warn(pl, "[Warning] One or more build-args [%s] were not consumed", b.data);
	sw_buf_release(&b);
}

/* ------------------------------------------------------- the result */

static void move_result(planner *pl)
{
	sw_df_plan *p = pl->plan;
	size_t n = 0;

	for (size_t i = 0; i < pl->nst; i++)
		n += pl->st[i].reachable;
	p->stages = sw_xcalloc(n + 1, sizeof(*p->stages));
	for (size_t i = 0; i < pl->nst; i++) {
		stage_st *s = &pl->st[i];
		if (!s->reachable)
			continue;
		sw_df_stage *d = &p->stages[p->nstages++];
		d->index = i;
		d->name = s->from.name ? sw_xstrdup(s->from.name) : NULL;
		d->display = steal_pointer(&s->display);
		d->base_kind = s->base_kind;
		d->base = steal_pointer(&s->base);
		d->base_stage = s->base_stage;
		d->platform = steal_pointer(&s->platform);
		d->platform_explicit = s->platform_explicit;
		d->line = s->from.in->start_line;
		d->steps = steal_pointer(&s->steps);
		d->nsteps = s->nsteps;
		s->nsteps = 0;
		d->deps = sw_xcalloc(s->ndeps + 2, sizeof(size_t));
		if (s->base_kind == SW_DF_BASE_STAGE)
			d->deps[d->ndeps++] = s->base_stage;
		for (size_t k = 0; k < s->ndeps; k++) {
			bool dup = false;
			for (size_t j = 0; j < d->ndeps; j++)
				dup |= d->deps[j] == s->deps[k];
			if (!dup)
				d->deps[d->ndeps++] = s->deps[k];
		}
	}
	p->target = pl->target;
	p->total_stages = pl->nst;
	p->target_platform = sw_xstrdup(pl->target_platform);
	p->target_platform_given = pl->o->target_platform != NULL;
	p->global_args = sw_xcalloc(pl->global.n + 1, sizeof(sw_df_kv));
	for (size_t i = 0; i < pl->global.n; i++) {
		p->global_args[i].key = sw_xstrdup(pl->global.v[i].key);
		p->global_args[i].value = sw_xstrdup(pl->global.v[i].value);
	}
	p->nglobal_args = pl->global.n;
	p->proxy = sw_xcalloc(pl->o->nbuild_args + 1, sizeof(sw_df_kv));
	for (size_t i = 0; i < pl->o->nbuild_args; i++) {
		const sw_df_kv *a = &pl->o->build_args[i];
		for (size_t k = 0; k < sizeof(proxy_args) / sizeof(proxy_args[0]); k++) {
			if (strcasecmp(a->key, proxy_args[k]))
				continue;
			p->proxy[p->nproxy].key = sw_xstrdup(a->key);
			p->proxy[p->nproxy].value = sw_xstrdup(a->value ? a->value : "");
			p->nproxy++;
		}
	}
}

int sw_df_plan_build(sw_df_plan **out, const sw_df_file *f, const sw_df_plan_opts *opts, sw_error **err)
{
	static const sw_df_plan_opts none = { 0 };
	planner pl = { .f = f, .o = opts ? opts : &none };
	int r;

	pl.path = f->path ? f->path : "Dockerfile";
	pl.lex.escape = f->escape ? f->escape : '\\';
	pl.plan = sw_xcalloc(1, sizeof(*pl.plan));
	pl.priv = sw_xcalloc(1, sizeof(*pl.priv));
	pl.plan->priv = pl.priv;
	pl.plan->path = sw_xstrdup(pl.path);
	pl.plan->escape = pl.lex.escape;
	sw_env_init(&pl.global);

	for (size_t i = 0; i < f->nwarnings; i++)
		warn(&pl, "%s", f->warnings[i]);
	if (pl.o->build_platform)
		r = parse_platform(&pl.build_platform, pl.o->build_platform, err);
	else
		r = (pl.build_platform = sw_df_host_platform(), 0);
	if (r == 0 && pl.o->target_platform)
		r = parse_platform(&pl.target_platform, pl.o->target_platform, err);
	else if (r == 0)
		pl.target_platform = sw_xstrdup(pl.build_platform);
	if (r < 0)
		sw_error_wrap(err, "invalid platform");
	if (r == 0 && f->ninstrs == 0)
		r = sw_error_set(err, SW_EINVALID, "%s: the Dockerfile cannot be empty", pl.path);
	if (r == 0)
		r = type_all(&pl, err);
	if (r == 0)
		r = global_args(&pl, err);
	if (r == 0)
		r = plan_stages(&pl, err);
	if (r == 0)
		r = plan_deps(&pl, err);
	if (r == 0)
		r = dispatch_all(&pl, err);
	if (r < 0) {
		planner_release(&pl);
		sw_df_plan_free(pl.plan);
		return r;
	}
	unused_build_args(&pl);
	move_result(&pl);
	planner_release(&pl);
	*out = pl.plan;
	return 0;
}

const sw_df_stage *sw_df_plan_stage(const sw_df_plan *p, size_t index)
{
	for (size_t i = 0; i < p->nstages; i++)
		if (p->stages[i].index == index)
			return &p->stages[i];
	return NULL;
}

void sw_df_plan_free(sw_df_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nstages; i++) {
		sw_df_stage *s = &p->stages[i];
		free(s->name);
		free(s->display);
		free(s->base);
		free(s->platform);
		for (size_t k = 0; k < s->nsteps; k++)
			df_step_release(&s->steps[k]);
		free(s->steps);
		free(s->deps);
	}
	free(p->stages);
	for (size_t i = 0; i < p->nglobal_args; i++) {
		free(p->global_args[i].key);
		free(p->global_args[i].value);
	}
	free(p->global_args);
	for (size_t i = 0; i < p->nproxy; i++) {
		free(p->proxy[i].key);
		free(p->proxy[i].value);
	}
	free(p->proxy);
	for (size_t i = 0; i < p->nwarnings; i++)
		free(p->warnings[i]);
	free(p->warnings);
	struct plan_priv *pv = p->priv;
	if (pv) {
		for (struct snap *s = pv->snaps, *n; s; s = n) {
			n = s->next;
			for (size_t i = 0; i < s->n; i++) {
				free(s->kv[i].key);
				free(s->kv[i].value);
			}
			free(s->kv);
			free(s->flags);
			free(s);
		}
		free(pv);
	}
	free(p->target_platform);
	free(p->path);
	free(p);
}
