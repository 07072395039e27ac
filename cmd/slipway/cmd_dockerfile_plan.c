/*
 * cmd_dockerfile_plan.c - `slipway dockerfile plan`: parse, plan, print.
 * Flags only; the semantics live in build/dockerfile_plan.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "slipway/cleanup.h"
#include "slipway/dockerfile.h"
#include "slipway/dockerfile_plan.h"
#include "slipway/mem.h"

/* --build-arg K=V, or K alone for the value of K in the environment (left
 * out when K is not set, as docker buildx does). */
static void add_build_arg(sw_df_kv **args, size_t *n, const char *spec)
{
	const char *eq = strchr(spec, '=');
	char *key = eq ? sw_xstrndup(spec, (size_t)(eq - spec)) : sw_xstrdup(spec);
	const char *value = eq ? eq + 1 : getenv(key);

	if (!value) {
		free(key);
		return;
	}
	for (size_t i = 0; i < *n; i++) {
		if (!strcmp((*args)[i].key, key)) {
			free((*args)[i].value);
			(*args)[i].value = sw_xstrdup(value);
			free(key);
			return;
		}
	}
	*args = sw_xreallocarray(*args, *n + 1, sizeof(**args));
	(*args)[*n].key = key;
	(*args)[*n].value = sw_xstrdup(value);
	(*n)++;
}

static void free_build_args(sw_df_kv *args, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(args[i].key);
		free(args[i].value);
	}
	free(args);
}

/* declared beside the sub-command table in cmd_dockerfile.c */
int cmd_dockerfile_plan(int argc, char **argv, const struct cli_command *self);

int cmd_dockerfile_plan(int argc, char **argv, const struct cli_command *self)
{
	enum { OPT_TARGET = 256, OPT_BUILD_ARG, OPT_PLATFORM, OPT_BUILD_PLATFORM };
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "build-arg", required_argument, NULL, OPT_BUILD_ARG },
		{ "platform", required_argument, NULL, OPT_PLATFORM },
		{ "build-platform", required_argument, NULL, OPT_BUILD_PLATFORM },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = "Dockerfile";
	const char *output = "text";
	sw_df_plan_opts po = { 0 };
	sw_df_kv *bargs = NULL;
	size_t nbargs = 0;
	sw_df_file *df = NULL;
	sw_df_plan *plan = NULL;
	sw_error *err = NULL;
	cleanup_free char *text = NULL;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			file = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case OPT_TARGET:
			po.target = optarg;
			break;
		case OPT_BUILD_ARG:
			if (!*optarg || *optarg == '=') {
				free_build_args(bargs, nbargs);
				return cli_usage_error(self, "dockerfile plan: --build-arg needs a name: '%s'", optarg);
			}
			add_build_arg(&bargs, &nbargs, optarg);
			break;
		case OPT_PLATFORM:
			po.target_platform = optarg;
			break;
		case OPT_BUILD_PLATFORM:
			po.build_platform = optarg;
			break;
		case 'h':
			free_build_args(bargs, nbargs);
			return cli_help(self);
		default:
			free_build_args(bargs, nbargs);
			return cli_usage_error(self, "dockerfile plan: unknown or incomplete flag '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc) {
		free_build_args(bargs, nbargs);
		return cli_usage_error(self, "dockerfile plan: unexpected argument '%s'", argv[optind]);
	}
	if (strcmp(output, "text") && strcmp(output, "json")) {
		free_build_args(bargs, nbargs);
		return cli_usage_error(self, "dockerfile plan: --output must be text or json, not '%s'", output);
	}
	po.build_args = bargs;
	po.nbuild_args = nbargs;

	if (sw_df_parse_file(&df, file, &err) < 0) {
		free_build_args(bargs, nbargs);
		return cli_fail(err);
	}
	int r = sw_df_plan_build(&plan, df, &po, &err);
	sw_df_file_free(df);
	free_build_args(bargs, nbargs);
	if (r < 0)
		return cli_fail(err);
	for (size_t i = 0; i < plan->nwarnings; i++)
		fprintf(stderr, "slipway: warning: %s\n", plan->warnings[i]);
	text = strcmp(output, "json") ? sw_df_plan_text(plan) : sw_df_plan_json(plan);
	sw_df_plan_free(plan);
	fputs(text, stdout);
	return EXIT_OK;
}
