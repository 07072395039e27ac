/*
 * cmd_events.c - `slipway events` (kubectl events: the namespace's events
 * oldest first, optionally watched) and `slipway top pods` (CPU and memory
 * from metrics.k8s.io, which the node agent fills from the cgroups);
 * `top service` is in cmd_top_service.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cmd_top_service.h"
#include "kube.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/manifest.h"
#include "slipway/mem.h"
#include "slipway/object.h"
#include "slipway/printers.h"

const char cli_events_usage[] =
	"usage: slipway events [-n NS | -A] [--for TYPE/NAME] [-w] [-o json|yaml]\n"
	"\n"
	"Shows events (what the controllers and the node agent did and why),\n"
	"oldest first, as kubectl events does.\n"
	"\n"
	"  -n, --namespace NS       the namespace (default \"default\")\n"
	"  -A, --all-namespaces     every namespace\n"
	"      --for TYPE/NAME      only events about this object (pod/web-1)\n"
	"  -w, --watch              then print new events as they happen\n"
	"  -o, --output FORMAT      json or yaml instead of the table\n"
	"      --no-headers         no header line\n"
	"      --state-dir DIR      the daemon's state dir (socket) instead of the default\n"
	"  -h, --help               this text\n";

const char cli_top_usage[] =
	"usage: slipway top pod [NAME] [-n NS | -A] [-l SEL] [--no-headers]\n"
	"       slipway top service|svc NAME [-n NS] [-o table|json] [--no-headers]\n"
	"\n"
	"Shows the CPU (cores, from the cgroup's usage) and memory (working set\n"
	"bytes) of running pods, as kubectl top pods does.\n"
	"\n"
	"`top service NAME` shows the service proxy's figures for a Service, per\n"
	"Service port and backend group: GROUP WEIGHT ENDPOINTS (usable/all), RPS,\n"
	"SUCCESS% and latency P50/P90/P99 over the last 60 s, then the counters\n"
	"ERRORS, ACTIVE (in flight) and MIRRORED; `-o json` prints the Service's\n"
	"part of the proxy's /stats. It reads the proxy's admin port from the\n"
	"local state dir (STATE/proxy/admin-port): local daemon only, and it\n"
	"works while slipwayd is down.\n"
	"\n"
	"  -o, --output FORMAT      top service: table (default) or json\n"
	"  -n, --namespace NS       the namespace (default \"default\")\n"
	"  -A, --all-namespaces     every namespace\n"
	"  -l, --selector SEL       only pods matching the label selector\n"
	"      --containers         one line per container\n"
	"      --no-headers         no header line\n"
	"      --state-dir DIR      the daemon's state dir (socket) instead of the default\n"
	"  -h, --help               this text\n";

struct ev_watch {
	sw_table *t;
	sw_print_opts po;
	const char *kind, *name; /* --for */
	const char *output;
	bool no_headers;
};

static bool ev_matches(const struct ev_watch *w, const json_t *e)
{
	if (!w->kind)
		return true;
	return !strcasecmp(sw_obj_str(e, "involvedObject.kind") ?: "", w->kind) &&
	       !strcmp(sw_obj_str(e, "involvedObject.name") ?: "", w->name);
}

static void ev_print(struct ev_watch *w, const json_t *e)
{
	sw_error *err = NULL;

	if (*w->output) {
		if (kube_print_object(sw_kind_lookup("events"), e, w->output, &err) < 0)
			kube_fail(err);
		return;
	}
	w->po.now = time(NULL);
	sw_table_add(w->t, sw_table_row(sw_kind_lookup("events"), e, &w->po));
	sw_table_print(w->t, stdout, w->no_headers);
}

static bool on_event_line(const char *line, size_t len, void *payload)
{
	struct ev_watch *w = payload;
	cleanup_json json_t *ev = json_loadb(line, len, 0, NULL);
	const json_t *obj = json_object_get(ev, "object");
	const char *type = json_string_value(json_object_get(ev, "type"));

	if (!type || !obj || !strcmp(type, "DELETED") || !strcmp(type, "BOOKMARK"))
		return true;
	if (!strcmp(type, "ERROR"))
		return false;
	if (ev_matches(w, obj))
		ev_print(w, obj);
	return true;
}

int cmd_events(int argc, char **argv, const struct cli_command *self)
{
	enum { OPT_FOR = 0x300 };
	static const struct option opts[] = {
		{ "namespace", required_argument, NULL, 'n' },
		{ "all-namespaces", no_argument, NULL, 'A' },
		{ "for", required_argument, NULL, OPT_FOR },
		{ "watch", no_argument, NULL, 'w' },
		{ "output", required_argument, NULL, 'o' },
		{ "no-headers", no_argument, NULL, KOPT_NO_HEADERS },
		{ "state-dir", required_argument, NULL, KOPT_STATE_DIR },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state_dir = NULL, *ns = NULL, *forobj = NULL;
	bool all = false, watch = false;
	struct ev_watch w = { .output = "" };
	struct kube k;
	sw_error *err = NULL;
	int c, rc = EXIT_OK;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "n:Awo:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': ns = optarg; break;
		case 'A': all = true; break;
		case OPT_FOR: forobj = optarg; break;
		case 'w': watch = true; break;
		case 'o': w.output = optarg; break;
		case KOPT_NO_HEADERS: w.no_headers = true; break;
		case KOPT_STATE_DIR: state_dir = optarg; break;
		case 'h': return cli_help(self);
		default: return cli_usage_error(self, "events: unknown or incomplete flag '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(self, "events: unexpected argument '%s'", argv[optind]);
	if (*w.output && strcmp(w.output, "json") && strcmp(w.output, "yaml"))
		return cli_usage_error(self, "events: --output must be json or yaml, not '%s'", w.output);
	if (forobj) {
		const sw_kind *kd;
		if (kube_kind_name(&kd, &w.name, forobj, NULL, &err) < 0)
			return kube_fail(err);
		w.kind = kd->kind;
	}
	if (kube_open(&k, state_dir, ns, &err) < 0)
		return kube_fail(err);
	const sw_kind *evk = sw_kind_lookup("events");
	cleanup_json json_t *items = NULL;
	cleanup_free char *rv = NULL;
	if (kube_list(&k, evk, all ? NULL : k.ns, NULL, &items, &rv, &err) < 0) {
		rc = kube_fail(err);
		kube_close(&k);
		return rc;
	}
	cleanup_json json_t *sorted = NULL;
	{
		/* oldest first, by last time seen */
		size_t n = json_array_size(items), m = 0;
		const json_t **v = sw_xcalloc(n + 1, sizeof(*v));
		json_t *e;
		size_t i;
		json_array_foreach(items, i, e)
			if (ev_matches(&w, e))
				v[m++] = e;
		for (size_t a = 1; a < m; a++)
			for (size_t b = a; b > 0; b--) {
				const char *x = sw_obj_str(v[b - 1], "lastTimestamp") ?: sw_obj_str(v[b - 1], "firstTimestamp") ?: "";
				const char *y = sw_obj_str(v[b], "lastTimestamp") ?: sw_obj_str(v[b], "firstTimestamp") ?: "";
				if (strcmp(x, y) <= 0)
					break;
				const json_t *t = v[b];
				v[b] = v[b - 1];
				v[b - 1] = t;
			}
		sorted = json_array();
		for (i = 0; i < m; i++)
			json_array_append(sorted, (json_t *)v[i]);
		free(v);
	}
	w.po = (sw_print_opts){ .namespace_column = all, .now = time(NULL) };
	w.t = sw_table_new(sw_table_columns(evk, &w.po));
	if (*w.output && !watch) {
		cleanup_json json_t *list = kube_list_object(sorted);
		if (kube_print_object(evk, list, w.output, &err) < 0)
			rc = kube_fail(err);
	} else {
		json_t *e;
		size_t i;
		json_array_foreach(sorted, i, e)
			ev_print(&w, e);
		if (!json_array_size(sorted) && !watch) {
			if (all)
				fprintf(stderr, "No events found.\n");
			else
				fprintf(stderr, "No events found in %s namespace.\n", k.ns);
		}
	}
	if (watch && rc == EXIT_OK) {
		cleanup_free char *base = sw_client_path(evk, all ? NULL : k.ns, NULL, NULL);
		cleanup_free char *path = sw_xasprintf("%s?watch=1%s%s", base, rv ? "&resourceVersion=" : "", rv ? rv : "");
		if (sw_client_stream(k.client, path, 0, NULL, on_event_line, &w, &err) < 0)
			rc = kube_fail(err);
	}
	sw_table_free(w.t);
	kube_close(&k);
	return rc;
}

/* ---- top ---------------------------------------------------------------- */

static char *cpu_cell(const char *q)
{
	int64_t m = 0;
	sw_error *err = NULL;

	if (!q || sw_quantity_parse_milli(q, &m, &err) < 0) {
		sw_error_free(err);
		return sw_xstrdup(q ? q : "0m");
	}
	return sw_xasprintf("%lldm", (long long)m);
}

static char *mem_cell(const char *q)
{
	int64_t b = 0;
	sw_error *err = NULL;

	if (!q || sw_quantity_parse_bytes(q, &b, &err) < 0) {
		sw_error_free(err);
		return sw_xstrdup(q ? q : "0Mi");
	}
	return sw_xasprintf("%lldMi", (long long)(b / (1024 * 1024)));
}

int cmd_top(int argc, char **argv, const struct cli_command *self)
{
	enum { OPT_CONTAINERS = 0x300 };
	static const struct option opts[] = {
		{ "namespace", required_argument, NULL, 'n' },
		{ "all-namespaces", no_argument, NULL, 'A' },
		{ "selector", required_argument, NULL, 'l' },
		{ "containers", no_argument, NULL, OPT_CONTAINERS },
		{ "output", required_argument, NULL, 'o' },
		{ "no-headers", no_argument, NULL, KOPT_NO_HEADERS },
		{ "state-dir", required_argument, NULL, KOPT_STATE_DIR },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state_dir = NULL, *ns = NULL, *selector = NULL, *output = NULL;
	bool all = false, containers = false, no_headers = false;
	struct kube k;
	sw_error *err = NULL;
	int c, rc = EXIT_OK;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "n:Al:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': ns = optarg; break;
		case 'A': all = true; break;
		case 'l': selector = optarg; break;
		case 'o': output = optarg; break;
		case OPT_CONTAINERS: containers = true; break;
		case KOPT_NO_HEADERS: no_headers = true; break;
		case KOPT_STATE_DIR: state_dir = optarg; break;
		case 'h': return cli_help(self);
		default: return cli_usage_error(self, "top: unknown or incomplete flag '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc && (!strcmp(argv[optind], "service") || !strcmp(argv[optind], "services") ||
	                      !strcmp(argv[optind], "svc"))) {
		if (optind + 2 != argc)
			return cli_usage_error(self, "top service: one Service name");
		if (output && strcmp(output, "table") && strcmp(output, "json"))
			return cli_usage_error(self, "top service: -o table or json, not '%s'", output);
		if (all || selector || containers)
			return cli_usage_error(self, "top service: -A, -l and --containers are for pods");
		return cli_top_service(state_dir, ns, argv[optind + 1], output, no_headers);
	}
	if (output)
		return cli_usage_error(self, "top pod: -o is for `top service`");
	if (optind >= argc || (strcmp(argv[optind], "pod") && strcmp(argv[optind], "pods") &&
	                       strcmp(argv[optind], "po")))
		return cli_usage_error(self, "top: `slipway top pod` or `slipway top service NAME` (one node: the host)");
	const char *name = optind + 1 < argc ? argv[optind + 1] : NULL;
	if (optind + 2 < argc)
		return cli_usage_error(self, "top: one pod name at most");
	if (kube_open(&k, state_dir, ns, &err) < 0)
		return kube_fail(err);

	cleanup_free char *path = NULL;
	const char *nsp = all ? NULL : k.ns;
	if (name)
		path = sw_xasprintf("/apis/metrics.k8s.io/v1beta1/namespaces/%s/pods/%s", k.ns, name);
	else if (nsp)
		path = sw_xasprintf("/apis/metrics.k8s.io/v1beta1/namespaces/%s/pods", nsp);
	else
		path = sw_xstrdup("/apis/metrics.k8s.io/v1beta1/pods");
	if (selector) {
		cleanup_free char *esc = sw_client_escape(selector);
		char *p = sw_xasprintf("%s?labelSelector=%s", path, esc);
		free(path);
		path = p;
	}
	cleanup_json json_t *res = NULL;
	if (sw_client_request(k.client, "GET", path, NULL, &res, &err) < 0) {
		rc = kube_fail(err);
		kube_close(&k);
		return rc;
	}
	cleanup_json json_t *items = name ? json_pack("[O]", res) : json_incref(json_object_get(res, "items"));
	json_t *cols = json_array();
	if (all)
		json_array_append_new(cols, json_string("NAMESPACE"));
	json_array_append_new(cols, json_string(containers ? "POD" : "NAME"));
	if (containers)
		json_array_append_new(cols, json_string("NAME"));
	json_array_append_new(cols, json_string("CPU(cores)"));
	json_array_append_new(cols, json_string("MEMORY(bytes)"));
	sw_table *t = sw_table_new(cols);
	json_t *m;
	size_t i;
	json_array_foreach(items, i, m) {
		const json_t *ct;
		size_t j;
		int64_t cpu = 0, mem = 0;
		json_array_foreach(json_object_get(m, "containers"), j, ct) {
			int64_t cm = 0, mb = 0;
			sw_error *e2 = NULL;
			if (sw_quantity_parse_milli(sw_obj_str(ct, "usage.cpu") ?: "0", &cm, &e2) < 0)
				sw_error_clear(&e2);
			if (sw_quantity_parse_bytes(sw_obj_str(ct, "usage.memory") ?: "0", &mb, &e2) < 0)
				sw_error_clear(&e2);
			cpu += cm;
			mem += mb;
			if (containers) {
				json_t *row = json_array();
				cleanup_free char *cc = cpu_cell(sw_obj_str(ct, "usage.cpu"));
				cleanup_free char *mc = mem_cell(sw_obj_str(ct, "usage.memory"));
				if (all)
					json_array_append_new(row, json_string(sw_obj_namespace(m) ?: ""));
				json_array_append_new(row, json_string(sw_obj_name(m) ?: ""));
				json_array_append_new(row, json_string(sw_obj_str(ct, "name") ?: ""));
				json_array_append_new(row, json_string(cc));
				json_array_append_new(row, json_string(mc));
				sw_table_add(t, row);
			}
		}
		if (!containers) {
			json_t *row = json_array();
			char cb[32], mb[32];
			snprintf(cb, sizeof(cb), "%lldm", (long long)cpu);
			snprintf(mb, sizeof(mb), "%lldMi", (long long)(mem / (1024 * 1024)));
			if (all)
				json_array_append_new(row, json_string(sw_obj_namespace(m) ?: ""));
			json_array_append_new(row, json_string(sw_obj_name(m) ?: ""));
			json_array_append_new(row, json_string(cb));
			json_array_append_new(row, json_string(mb));
			sw_table_add(t, row);
		}
	}
	if (json_array_size(items)) {
		sw_table_print(t, stdout, no_headers);
	} else {
		fprintf(stderr, "error: metrics not available yet\n");
		rc = EXIT_FAIL;
	}
	sw_table_free(t);
	kube_close(&k);
	return rc;
}
