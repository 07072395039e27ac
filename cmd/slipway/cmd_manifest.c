/*
 * cmd_manifest.c - `slipway manifest validate FILE|DIR...`: offline checks
 * of manifests (Kubernetes objects and slipway.yaml) with FILE:LINE:COL
 * diagnostics, and the defaulted objects as a List with -o json|yaml.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/manifest.h"
#include "slipway/printers.h"

#define VALIDATE_USAGE \
	"usage: slipway manifest validate [-o text|json|yaml|name] [--image REF] FILE|DIR|-...\n" \
	"\n" \
	"Checks manifests offline, as the API server would: every document of every\n" \
	"file (a folder: its *.yaml, *.yml and *.json files in name order; -: standard\n" \
	"input). Kubernetes objects (Namespace, Pod, Service, ConfigMap, Secret,\n" \
	"Deployment, ReplicaSet) get Kubernetes' validation and defaults; slipway.yaml\n" \
	"app manifests expand into Deployments and Services first. Errors and warnings\n" \
	"go to standard error as FILE:LINE:COL: error: FIELD: message. Unknown fields\n" \
	"are errors; fields slipway does not implement are warnings.\n" \
	"\n" \
	"  -o, --output FORMAT   text (default: a summary), json or yaml (the defaulted\n" \
	"                        objects as a List), name (kind/name per line)\n" \
	"      --image REF       the image for slipway.yaml processes\n" \
	"\n" \
	"Exit codes: 0 valid (warnings allowed), 1 errors, 2 usage error.\n"

#define MANIFEST_USAGE \
	"usage: slipway manifest SUB [flags]\n" \
	"\n" \
	"Works with manifest files without a daemon.\n" \
	"\n" \
	"  validate FILE|DIR...   check manifests; print the defaulted objects\n" \
	"  explain KIND[.FIELD]   the fields slipway knows, with types and defaults\n" \
	"\n" \
	"Run `slipway manifest SUB --help` for each sub-command's flags.\n"

#define EXPLAIN_USAGE \
	"usage: slipway manifest explain KIND[.FIELD...]\n" \
	"\n" \
	"Prints the fields slipway accepts at a place in a manifest, as kubectl explain\n" \
	"does: types, defaults, allowed values, required fields, and fields slipway\n" \
	"ignores. KIND is a kind or short name (deployment, deploy, po, svc, cm, ...) or\n" \
	"app for slipway.yaml. Examples:\n" \
	"\n" \
	"  slipway manifest explain deployment.spec.strategy\n" \
	"  slipway manifest explain pod.spec.containers.readinessProbe\n" \
	"  slipway manifest explain app.processes\n"

const char cli_manifest_usage[] = MANIFEST_USAGE;

static int cmd_manifest_validate(int argc, char **argv, const struct cli_command *self);
static int cmd_manifest_explain(int argc, char **argv, const struct cli_command *self);

static const struct cli_command manifest_commands[] = {
	{ "validate", cmd_manifest_validate, 0, "check manifests offline", VALIDATE_USAGE },
	{ "explain", cmd_manifest_explain, 0, "describe manifest fields", EXPLAIN_USAGE },
	{ NULL, NULL, 0, NULL, NULL },
};

int cmd_manifest(int argc, char **argv, const struct cli_command *self)
{
	return cli_dispatch_sub(self, manifest_commands, argc, argv);
}

static int cmd_manifest_explain(int argc, char **argv, const struct cli_command *self)
{
	struct cli_common common;
	sw_error *err = NULL;
	int rc;
	int first = cli_parse_common(self, "manifest explain", 0, argc, argv, &common, &rc);

	if (first < 0)
		return rc;
	if (argc - first != 1)
		return cli_usage_error(self, "manifest explain: expected one KIND[.FIELD...]");
	if (sw_manifest_explain(argv[first], stdout, &err) < 0)
		return cli_fail(err);
	return EXIT_OK;
}

static int cmd_manifest_validate(int argc, char **argv, const struct cli_command *self)
{
	enum { OPT_IMAGE = 0x100 };
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "image", required_argument, NULL, OPT_IMAGE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *output = "text";
	sw_manifest_opts mopts = { 0 };
	sw_diags d = SW_DIAGS_INIT;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case OPT_IMAGE:
			mopts.image = optarg;
			break;
		case 'h':
			return cli_help(self);
		default:
			return cli_usage_error(self, "manifest validate: unknown or incomplete flag '%s'", argv[optind - 1]);
		}
	}
	if (strcmp(output, "text") && strcmp(output, "json") && strcmp(output, "yaml") && strcmp(output, "name"))
		return cli_usage_error(self, "manifest validate: --output must be text, json, yaml or name, not '%s'", output);
	if (optind >= argc)
		return cli_usage_error(self, "manifest validate: no FILE or DIR given");

	cleanup_json json_t *all = json_array();
	bool failed = false;
	for (int i = optind; i < argc; i++) {
		json_t *objs = NULL;
		sw_error *err = NULL;
		int r = sw_manifest_load_path_opts(argv[i], &mopts, &objs, &d, &err);
		if (r < 0 && err) {
			cleanup_free char *msg = sw_error_string(err);
			fprintf(stderr, "slipway: error: %s\n", msg);
			sw_error_free(err);
		}
		if (r < 0) {
			failed = true;
			continue;
		}
		json_array_extend(all, objs);
		json_decref(objs);
	}
	sw_diags_print(&d, stderr);
	if (failed || d.errors) {
		if (d.errors)
			fprintf(stderr, "slipway: error: invalid manifests: %zu error%s, %zu warning%s\n", d.errors,
			        d.errors == 1 ? "" : "s", d.warnings, d.warnings == 1 ? "" : "s");
		sw_diags_release(&d);
		return EXIT_FAIL;
	}

	if (!strcmp(output, "json") || !strcmp(output, "yaml")) {
		cleanup_json json_t *list = sw_manifest_list(all);
		if (!strcmp(output, "json")) {
			cleanup_free char *text = json_dumps(list, JSON_INDENT(4) | JSON_SORT_KEYS);
			printf("%s\n", text);
		} else {
			sw_error *err = NULL;
			if (sw_print_yamlf(stdout, list, &err) < 0) {
				sw_diags_release(&d);
				return cli_fail(err);
			}
		}
	} else if (!strcmp(output, "name")) {
		size_t i;
		json_t *o;
		json_array_foreach(all, i, o) {
			const char *av = json_string_value(json_object_get(o, "apiVersion"));
			const char *kind = json_string_value(json_object_get(o, "kind"));
			const char *slash = av ? strchr(av, '/') : NULL;
			char lower[64];
			size_t n = 0;
			for (const char *p = kind; p && *p && n + 1 < sizeof(lower); p++)
				lower[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
			lower[n] = '\0';
			if (slash)
				printf("%s.%.*s/%s\n", lower, (int)(slash - av), av,
				       json_string_value(json_object_get(json_object_get(o, "metadata"), "name")));
			else
				printf("%s/%s\n", lower, json_string_value(json_object_get(json_object_get(o, "metadata"), "name")));
		}
	} else {
		printf("%zu object%s valid", json_array_size(all), json_array_size(all) == 1 ? "" : "s");
		if (d.warnings)
			printf(" (%zu warning%s)", d.warnings, d.warnings == 1 ? "" : "s");
		printf("\n");
	}
	sw_diags_release(&d);
	return EXIT_OK;
}
