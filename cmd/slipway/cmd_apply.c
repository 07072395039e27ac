/*
 * cmd_apply.c - `slipway apply -f FILE|DIR|-`: manifests through the
 * manifests library (validation and defaults, FILE:LINE:COL errors), then
 * create-or-update of every object, all or nothing (kube_apply.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "kube.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/manifest.h"
#include "slipway/mem.h"

const char cli_apply_usage[] =
	"usage: slipway apply -f FILE|DIR|- [-f ...] [-n NS] [--dry-run=none|client|server] [-o json|yaml|name]\n"
	"\n"
	"Creates or updates the objects of Kubernetes-shaped manifests (YAML or\n"
	"JSON, several documents per file) and slipway.yaml app manifests in\n"
	"slipwayd. Every document is validated first; one error (named FILE:LINE:COL\n"
	"and field) and nothing is applied. The writes are all or nothing: each one\n"
	"is checked by the server (dryRun=All) before any is made.\n"
	"\n"
	"  -f, --filename PATH      a file, a folder (*.yaml, *.yml, *.json) or - for stdin\n"
	"  -n, --namespace NS       for objects that name none (default \"default\")\n"
	"      --dry-run MODE       none (default); client: print the defaulted objects\n"
	"                           without contacting slipwayd; server: let slipwayd\n"
	"                           check them without storing them\n"
	"  -o, --output FORMAT      json, yaml or name instead of \"KIND/NAME created\"\n"
	"      --state-dir DIR      the daemon's state dir (socket) instead of the default\n"
	"  -h, --help               this text\n";

#define STDIN_MAX (8u << 20)

static int load_stdin(json_t **out, sw_diags *d, sw_error **err)
{
	sw_buf b = SW_BUF_INIT(STDIN_MAX);
	char chunk[65536];
	size_t n;
	int ret;

	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		if ((ret = sw_buf_add(&b, chunk, n, err)) < 0) {
			sw_buf_release(&b);
			return sw_error_wrap(err, "reading stdin");
		}
	if (ferror(stdin)) {
		sw_buf_release(&b);
		return sw_error_set_errno(err, errno, "reading stdin");
	}
	ret = sw_manifest_load_buf("-", b.data ? b.data : "", b.len, out, d, err);
	sw_buf_release(&b);
	return ret;
}

int kube_load_manifests(const char *const *files, size_t nfiles, json_t **out, sw_error **err)
{
	cleanup_json json_t *all = json_array();
	sw_diags d = SW_DIAGS_INIT;
	int ret = 0;

	for (size_t i = 0; i < nfiles; i++) {
		json_t *objs = NULL;
		int r = !strcmp(files[i], "-") ? load_stdin(&objs, &d, err)
		                               : sw_manifest_load_path(files[i], &objs, &d, err);
		if (r == SW_EINVALID && !*err)
			continue; /* diagnostics in d */
		if (r < 0) {
			sw_diags_release(&d);
			return r;
		}
		json_array_extend(all, objs);
		json_decref(objs);
	}
	sw_diags_print(&d, stderr);
	if (d.errors) {
		ret = sw_error_set(err, SW_EINVALID, "%zu error%s in the manifests; nothing applied", d.errors,
		                   d.errors == 1 ? "" : "s");
		sw_diags_release(&d);
		return ret;
	}
	sw_diags_release(&d);
	if (!json_array_size(all))
		return sw_error_set(err, SW_EINVALID, "error: no objects passed to apply");
	*out = steal_pointer(&all);
	return 0;
}

int cmd_apply(int argc, char **argv, const struct cli_command *self)
{
	static const struct option opts[] = {
		{ "filename", required_argument, NULL, 'f' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "dry-run", optional_argument, NULL, KOPT_DRY_RUN },
		{ "output", required_argument, NULL, 'o' },
		{ "state-dir", required_argument, NULL, KOPT_STATE_DIR },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state_dir = NULL, *ns = NULL, *output = "";
	cleanup_free const char **files = sw_xcalloc((size_t)argc + 1, sizeof(*files));
	enum kube_dry_run dry = KUBE_DRY_NONE;
	cleanup_json json_t *objects = NULL;
	size_t nfiles = 0;
	struct kube k;
	sw_error *err = NULL;
	int c, rc;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f:n:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': files[nfiles++] = optarg; break;
		case 'n': ns = optarg; break;
		case 'o': output = optarg; break;
		case KOPT_DRY_RUN:
			if (!optarg || !strcmp(optarg, "client"))
				dry = KUBE_DRY_CLIENT;
			else if (!strcmp(optarg, "server"))
				dry = KUBE_DRY_SERVER;
			else if (!strcmp(optarg, "none"))
				dry = KUBE_DRY_NONE;
			else
				return cli_usage_error(self, "apply: --dry-run must be none, client or server, not '%s'", optarg);
			break;
		case KOPT_STATE_DIR: state_dir = optarg; break;
		case 'h': return cli_help(self);
		default: return cli_usage_error(self, "apply: unknown or incomplete flag '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(self, "apply: unexpected argument '%s' (files go after -f)", argv[optind]);
	if (!nfiles)
		return cli_usage_error(self, "apply: must specify one of -f");
	if (*output && strcmp(output, "json") && strcmp(output, "yaml") && strcmp(output, "name"))
		return cli_usage_error(self, "apply: --output must be json, yaml or name, not '%s'", output);
	if (kube_load_manifests(files, nfiles, &objects, &err) < 0)
		return kube_fail(err);
	if (kube_open(&k, state_dir, ns, &err) < 0)
		return kube_fail(err);
	rc = kube_apply(&k, objects, dry, KUBE_APPLY_THREE_WAY, output, &err) < 0 ? kube_fail(err) : EXIT_OK;
	kube_close(&k);
	return rc;
}
