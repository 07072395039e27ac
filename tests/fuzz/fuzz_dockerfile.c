/*
 * fuzz_dockerfile.c - libFuzzer target for the Dockerfile front end.
 *
 * Parses the input as a Dockerfile; on success prints the tree both ways
 * (S-expression and JSON, which must be valid JSON) and, when the planner is
 * built (SLIPWAY_FUZZ_PLAN), plans it twice: with defaults, and with a build
 * arg, a target taken from the file and an image-env callback. Besides
 * memory errors it checks the error contract: *err is set if and only if a
 * call failed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "slipway/dockerfile.h"
#include "slipway/error.h"
#ifdef SLIPWAY_FUZZ_PLAN
#include "slipway/dockerfile_plan.h"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void broken(const char *what)
{
	fprintf(stderr, "fuzz_dockerfile: contract broken: %s\n", what);
	abort();
}

/* A failed call must leave exactly one error with a message. */
static void check_result(int r, sw_error *err, const char *what)
{
	if ((r < 0) != (err != NULL))
		broken(what);
	if (err && (!err->msg || err->code >= 0))
		broken(what);
}

static void check_json(const char *text, const char *what)
{
	json_error_t je;
	json_t *j;

	if (!text)
		broken(what);
	j = json_loads(text, JSON_DECODE_ANY, &je);
	if (!j) {
		fprintf(stderr, "%s: invalid JSON (%s at %d:%d)\n", what, je.text, je.line, je.column);
		broken(what);
	}
	json_decref(j);
}

#ifdef SLIPWAY_FUZZ_PLAN
static int image_env(char ***out, const char *ref, const char *platform, void *payload,
                     sw_error **err)
{
	(void)platform; (void)payload; (void)err;
	if (ref && ref[0] == 'x') {
		*out = NULL; /* unknown image */
		return 0;
	}
	char **env = calloc(3, sizeof(*env));
	if (!env)
		abort();
	env[0] = strdup("PATH=/usr/local/bin:/usr/bin");
	env[1] = strdup("HOME=/root");
	*out = env;
	return 0;
}

static void plan(const sw_df_file *f, const sw_df_plan_opts *opts)
{
	sw_df_plan *p = NULL;
	sw_error *err = NULL;
	int r = sw_df_plan_build(&p, f, opts, &err);

	check_result(r, err, "sw_df_plan_build");
	if (r == 0) {
		char *text = sw_df_plan_text(p);
		char *json = sw_df_plan_json(p);
		if (!text)
			broken("sw_df_plan_text returned NULL");
		check_json(json, "sw_df_plan_json");
		for (size_t i = 0; i < p->total_stages; i++)
			(void)sw_df_plan_stage(p, i);
		free(text);
		free(json);
		sw_df_plan_free(p);
	}
	sw_error_free(err);
}

/* The AS name of the first stage that has one, else NULL. */
static const char *first_stage_name(const sw_df_file *f)
{
	for (size_t i = 0; i < f->ninstrs; i++) {
		const sw_df_instr *in = &f->instrs[i];
		if (!strcmp(in->keyword, "from") && in->nargs >= 3)
			return in->args[2];
	}
	return NULL;
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sw_df_file *f = NULL;
	sw_error *err = NULL;
	int r = sw_df_parse(&f, "fuzz/Dockerfile", (const char *)data, size, &err);

	check_result(r, err, "sw_df_parse");
	if (r < 0) {
		char *msg = sw_error_string(err);
		if (!msg)
			broken("sw_error_string");
		free(msg);
		sw_error_free(err);
		return 0;
	}
	if (!f)
		broken("sw_df_parse succeeded without a tree");

	char *dump = sw_df_dump(f);
	if (!dump)
		broken("sw_df_dump returned NULL");
	free(dump);
	for (size_t i = 0; i < f->ninstrs; i++)
		free(sw_df_dump_instr(&f->instrs[i]));
	char *json = sw_df_dump_json(f);
	check_json(json, "sw_df_dump_json");
	free(json);

#ifdef SLIPWAY_FUZZ_PLAN
	sw_df_plan_opts defaults = { 0 };
	plan(f, &defaults);

	sw_df_kv args[] = { { "A", "1" }, { "HTTP_PROXY", "http://127.0.0.1:3128" } };
	sw_df_plan_opts more = {
		.build_args = args,
		.nbuild_args = 2,
		.target = first_stage_name(f),
		.target_platform = "linux/arm64",
		.build_platform = "linux/amd64",
		.image_env = image_env,
	};
	plan(f, &more);
#endif

	sw_df_file_free(f);
	return 0;
}
