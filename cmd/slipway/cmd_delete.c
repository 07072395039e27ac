/*
 * cmd_delete.c - `slipway delete KIND NAME...|TYPE/NAME...|-f FILE|-l SEL`
 * (objects from manifests are loaded as `slipway apply` does).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "kube.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/object.h"
#include "slipway/printers.h"

const char cli_delete_usage[] =
	"usage: slipway delete KIND NAME... | TYPE/NAME... | -f FILE | KIND -l SEL | KIND --all\n"
	"\n"
	"Deletes objects from slipwayd as kubectl does. Pods stop gracefully\n"
	"(SIGTERM, then SIGKILL after the grace period); deleting a deployment\n"
	"deletes its replica sets and their pods; a namespace, everything in it.\n"
	"\n"
	"  -f, --filename PATH      the objects of these manifests (file, folder or -)\n"
	"  -l, --selector SEL       every object of KIND matching the label selector\n"
	"      --all                every object of KIND in the namespace\n"
	"  -n, --namespace NS       the namespace (default \"default\")\n"
	"      --grace-period N     seconds a pod gets to stop (0: at once)\n"
	"      --now                the same as --grace-period=1\n"
	"      --wait               wait until the objects are gone\n"
	"      --timeout D          give up waiting after D (90s, 5m; default none)\n"
	"      --ignore-not-found   a missing object is not an error\n"
	"      --state-dir DIR      the daemon's state dir (socket) instead of the default\n"
	"  -h, --help               this text\n";

struct target {
	const sw_kind *kind;
	char *ns;
	char *name;
};

static void targets_free(struct target *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(t[i].ns);
		free(t[i].name);
	}
	free(t);
}

static bool still_there(struct kube *k, const struct target *t)
{
	json_t *o = NULL;
	sw_error *err = NULL;
	int r = kube_get(k, t->kind, t->ns, t->name, &o, &err);

	json_decref(o);
	sw_error_free(err);
	return r != SW_ENOTFOUND;
}

static int delete_targets(struct kube *k, struct target *t, size_t n, long grace, bool wait, long timeout_ms,
                          bool ignore_missing)
{
	int rc = EXIT_OK;
	bool *deleted = sw_xcalloc(n ? n : 1, sizeof(bool));

	for (size_t i = 0; i < n; i++) {
		cleanup_free char *base = sw_client_path(t[i].kind, t[i].ns, t[i].name, NULL);
		cleanup_free char *path = grace >= 0 ? sw_xasprintf("%s?gracePeriodSeconds=%ld", base, grace)
		                                     : sw_xstrdup(base);
		sw_error *err = NULL;
		if (sw_client_request(k->client, "DELETE", path, NULL, NULL, &err) < 0) {
			if (ignore_missing && sw_error_code(err) == SW_ENOTFOUND) {
				sw_error_free(err);
				continue;
			}
			rc = kube_fail(err);
			continue;
		}
		deleted[i] = true;
		if (t[i].kind->group[0])
			printf("%s.%s \"%s\" deleted\n", t[i].kind->singular, t[i].kind->group, t[i].name);
		else
			printf("%s \"%s\" deleted\n", t[i].kind->singular, t[i].name);
		fflush(stdout);
	}
	if (wait) {
		struct timespec start;
		clock_gettime(CLOCK_MONOTONIC, &start);
		for (size_t i = 0; i < n; i++) {
			while (deleted[i] && still_there(k, &t[i])) {
				struct timespec now;
				clock_gettime(CLOCK_MONOTONIC, &now);
				long el = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
				if (timeout_ms > 0 && el > timeout_ms) {
					fprintf(stderr, "error: timed out waiting for the condition on %s/%s\n", t[i].kind->resource,
					        t[i].name);
					free(deleted);
					return EXIT_FAIL;
				}
				usleep(200 * 1000);
			}
		}
	}
	free(deleted);
	return rc;
}

int cmd_delete(int argc, char **argv, const struct cli_command *self)
{
	enum { OPT_NOW = 0x300, OPT_IGNORE, OPT_ALL };
	static const struct option opts[] = {
		{ "filename", required_argument, NULL, 'f' },
		{ "selector", required_argument, NULL, 'l' },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "namespace", required_argument, NULL, 'n' },
		{ "grace-period", required_argument, NULL, KOPT_GRACE },
		{ "now", no_argument, NULL, OPT_NOW },
		{ "wait", optional_argument, NULL, KOPT_WAIT },
		{ "timeout", required_argument, NULL, KOPT_TIMEOUT },
		{ "ignore-not-found", no_argument, NULL, OPT_IGNORE },
		{ "state-dir", required_argument, NULL, KOPT_STATE_DIR },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state_dir = NULL, *ns = NULL, *selector = NULL;
	cleanup_free const char **files = sw_xcalloc((size_t)argc + 1, sizeof(*files));
	size_t nfiles = 0, nt = 0;
	long grace = -1, timeout_ms = 0;
	bool wait = false, ignore = false, all = false;
	struct target *t = NULL;
	struct kube k;
	sw_error *err = NULL;
	int c, rc;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f:l:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': files[nfiles++] = optarg; break;
		case 'l': selector = optarg; break;
		case OPT_ALL: all = true; break;
		case 'n': ns = optarg; break;
		case KOPT_GRACE: {
			char *end;
			grace = strtol(optarg, &end, 10);
			if (*end || end == optarg || grace < -1)
				return cli_usage_error(self, "delete: --grace-period wants a number of seconds, not '%s'", optarg);
			break;
		}
		case OPT_NOW: grace = 1; break;
		case KOPT_WAIT:
			if (optarg && strcmp(optarg, "true") && strcmp(optarg, "false"))
				return cli_usage_error(self, "delete: --wait is true or false, not '%s'", optarg);
			wait = !optarg || !strcmp(optarg, "true");
			break;
		case KOPT_TIMEOUT:
			if ((timeout_ms = kube_parse_duration_ms(optarg)) < 0)
				return cli_usage_error(self, "delete: --timeout wants a duration (90s, 5m), not '%s'", optarg);
			break;
		case OPT_IGNORE: ignore = true; break;
		case KOPT_STATE_DIR: state_dir = optarg; break;
		case 'h': return cli_help(self);
		default: return cli_usage_error(self, "delete: unknown or incomplete flag '%s'", argv[optind - 1]);
		}
	}
	if (!nfiles && optind >= argc)
		return cli_usage_error(self, "delete: which objects? (KIND NAME, TYPE/NAME or -f FILE)");
	if (nfiles && optind < argc)
		return cli_usage_error(self, "delete: give either -f or KIND NAME, not both");
	if (kube_open(&k, state_dir, ns, &err) < 0)
		return kube_fail(err);

	t = sw_xcalloc((size_t)argc + 1, sizeof(*t));
	if (nfiles) {
		cleanup_json json_t *objs = NULL;
		json_t *o;
		size_t i;
		if (kube_load_manifests(files, nfiles, &objs, &err) < 0) {
			rc = kube_fail(err);
			goto out;
		}
		t = sw_xreallocarray(t, json_array_size(objs) + 1, sizeof(*t));
		json_array_foreach(objs, i, o) {
			const sw_kind *kd = sw_kind_by_kind(sw_obj_str(o, "apiVersion") ?: "", sw_obj_str(o, "kind") ?: "");
			if (!kd)
				continue;
			t[nt++] = (struct target){ kd, sw_xstrdup(sw_obj_namespace(o) ?: k.ns), sw_xstrdup(sw_obj_name(o) ?: "") };
		}
	} else if (strchr(argv[optind], '/')) {
		for (int i = optind; i < argc; i++) {
			const sw_kind *kd;
			const char *name;
			if (kube_kind_name(&kd, &name, argv[i], NULL, &err) < 0) {
				rc = kube_fail(err);
				goto out;
			}
			t[nt++] = (struct target){ kd, sw_xstrdup(k.ns), sw_xstrdup(name) };
		}
	} else {
		const sw_kind *kd;
		if (kube_kind(&kd, argv[optind], &err) < 0) {
			rc = kube_fail(err);
			goto out;
		}
		if (selector || all) {
			cleanup_json json_t *items = NULL;
			cleanup_free char *q = NULL;
			json_t *o;
			size_t i;
			if (selector) {
				cleanup_free char *esc = sw_client_escape(selector);
				q = sw_xasprintf("labelSelector=%s", esc);
			}
			if (optind + 1 < argc) {
				rc = cli_usage_error(self, "delete: names cannot be given with -l or --all");
				goto out;
			}
			if (kube_list(&k, kd, k.ns, q, &items, NULL, &err) < 0) {
				rc = kube_fail(err);
				goto out;
			}
			t = sw_xreallocarray(t, json_array_size(items) + 1, sizeof(*t));
			json_array_foreach(items, i, o)
				t[nt++] = (struct target){ kd, sw_xstrdup(sw_obj_namespace(o) ?: k.ns), sw_xstrdup(sw_obj_name(o) ?: "") };
			if (!nt)
				fprintf(stderr, "No resources found\n");
		} else {
			if (optind + 1 >= argc) {
				rc = cli_usage_error(self, "delete: which %s? (a name, -l SELECTOR or --all)", argv[optind]);
				goto out;
			}
			for (int i = optind + 1; i < argc; i++)
				t[nt++] = (struct target){ kd, sw_xstrdup(k.ns), sw_xstrdup(argv[i]) };
		}
	}
	rc = delete_targets(&k, t, nt, grace, wait, timeout_ms, ignore);
out:
	targets_free(t, nt);
	kube_close(&k);
	return rc;
}
