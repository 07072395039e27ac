/*
 * cmd_scale.c - `slipway scale deployment NAME --replicas N`: the scale
 * subresource, read then written back with the new count (its
 * resourceVersion makes a concurrent change a conflict, not a lost write).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kube.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/object.h"

const char cli_scale_usage[] =
	"usage: slipway scale deployment NAME --replicas N | TYPE/NAME --replicas N\n"
	"\n"
	"Sets the number of replicas of a deployment or replica set (through its\n"
	"scale subresource, as kubectl scale does).\n"
	"\n"
	"  -n, --namespace NS       the namespace (default \"default\")\n"
	"      --replicas N         the new number of replicas\n"
	"      --current-replicas N only if the current number is N\n"
	"      --state-dir DIR      the daemon's state dir (socket) instead of the default\n"
	"  -h, --help               this text\n";

int cmd_scale(int argc, char **argv, const struct cli_command *self)
{
	enum { OPT_CURRENT = 0x300 };
	static const struct option opts[] = {
		{ "namespace", required_argument, NULL, 'n' },
		{ "replicas", required_argument, NULL, KOPT_REPLICAS },
		{ "current-replicas", required_argument, NULL, OPT_CURRENT },
		{ "state-dir", required_argument, NULL, KOPT_STATE_DIR },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state_dir = NULL, *ns = NULL, *name = NULL;
	long replicas = -1, current = -1;
	const sw_kind *kind = NULL;
	struct kube k;
	sw_error *err = NULL;
	int c, rc = EXIT_OK;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'n': ns = optarg; break;
		case KOPT_REPLICAS:
			replicas = strtol(optarg, &end, 10);
			if (*end || end == optarg || replicas < 0 || replicas > 1000000)
				return cli_usage_error(self, "scale: --replicas wants a number >= 0, not '%s'", optarg);
			break;
		case OPT_CURRENT:
			current = strtol(optarg, &end, 10);
			if (*end || end == optarg || current < 0)
				return cli_usage_error(self, "scale: --current-replicas wants a number >= 0, not '%s'", optarg);
			break;
		case KOPT_STATE_DIR: state_dir = optarg; break;
		case 'h': return cli_help(self);
		default: return cli_usage_error(self, "scale: unknown or incomplete flag '%s'", argv[optind - 1]);
		}
	}
	if (replicas < 0)
		return cli_usage_error(self, "scale: --replicas=COUNT is required");
	if (optind >= argc)
		return cli_usage_error(self, "scale: which deployment? (deployment NAME or deployment/NAME)");
	if (strchr(argv[optind], '/')) {
		if (kube_kind_name(&kind, &name, argv[optind], NULL, &err) < 0)
			return kube_fail(err);
		if (optind + 1 < argc)
			return cli_usage_error(self, "scale: one object at a time");
	} else {
		if (optind + 1 >= argc)
			return cli_usage_error(self, "scale: which %s?", argv[optind]);
		if (optind + 2 < argc)
			return cli_usage_error(self, "scale: one object at a time");
		if (kube_kind(&kind, argv[optind], &err) < 0)
			return kube_fail(err);
		name = argv[optind + 1];
	}
	if (!kind->has_scale) {
		fprintf(stderr, "error: %s \"%s\" cannot be scaled\n", kind->resource, name);
		return EXIT_FAIL;
	}
	if (kube_open(&k, state_dir, ns, &err) < 0)
		return kube_fail(err);
	cleanup_free char *path = sw_client_path(kind, k.ns, name, "scale");
	cleanup_json json_t *scale = NULL;
	if (sw_client_request(k.client, "GET", path, NULL, &scale, &err) < 0 || !scale) {
		rc = err ? kube_fail(err) : EXIT_FAIL;
		goto out;
	}
	if (current >= 0 && sw_obj_int(scale, "spec.replicas", -1) != current) {
		fprintf(stderr, "error: Expected replicas to be %ld, was %lld\n", current,
		        (long long)sw_obj_int(scale, "spec.replicas", -1));
		rc = EXIT_FAIL;
		goto out;
	}
	json_object_set_new(sw_obj_mkpath(scale, "spec"), "replicas", json_integer(replicas));
	if (sw_client_request(k.client, "PUT", path, scale, NULL, &err) < 0) {
		rc = kube_fail(err);
		goto out;
	}
	if (kind->group[0])
		printf("%s.%s/%s scaled\n", kind->singular, kind->group, name);
	else
		printf("%s/%s scaled\n", kind->singular, name);
out:
	kube_close(&k);
	return rc;
}
