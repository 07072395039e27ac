/*
 * cmd_get.c - `slipway get KIND [NAME...]`: objects from slipwayd as
 * kubectl shows them (tables, -o wide|json|yaml|name, -l, -A, -w).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "kube.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/object.h"
#include "slipway/printers.h"

const char cli_get_usage[] =
	"usage: slipway get KIND [NAME...] [-n NS | -A] [-l SELECTOR] [-o FORMAT] [-w]\n"
	"\n"
	"Shows objects from slipwayd as kubectl does. KIND is a resource name as\n"
	"kubectl takes it: pods (po), deployments (deploy), replicasets (rs),\n"
	"services (svc), namespaces (ns), events (ev), configmaps (cm), secrets,\n"
	"endpoints (ep), or TYPE/NAME.\n"
	"\n"
	"  -n, --namespace NS       the namespace (default \"default\")\n"
	"  -A, --all-namespaces     every namespace (adds a NAMESPACE column)\n"
	"  -l, --selector SEL       label selector (app=web,tier in (a,b),!canary)\n"
	"  -o, --output FORMAT      table (default), wide, json, yaml or name\n"
	"  -w, --watch              after the list, print changes as they happen\n"
	"      --no-headers         no header line in tables\n"
	"      --state-dir DIR      the daemon's state dir (socket) instead of the default\n"
	"  -h, --help               this text\n"
	"\n"
	"SLIPWAY_HOST (unix:///path.sock or http://127.0.0.1:PORT with SLIPWAY_TOKEN)\n"
	"overrides the daemon's address.\n";

struct get_opts {
	const char *output;
	const char *selector;
	bool all_ns;
	bool watch;
	bool no_headers;
	bool multi;      /* several kinds: names as KIND/NAME, no "No resources" per kind */
	size_t found;    /* objects printed so far */
	json_t *collect; /* several kinds, -o json|yaml: every item */
};

struct watch_ctx {
	const sw_kind *kind;
	const struct get_opts *o;
	sw_print_opts popts;
	sw_table *table;
	json_t *names;  /* NULL: every object */
	int rc;
};

/* The ENDPOINTS cell of a Service row: its Endpoints object as `get
 * endpoints` shows it, "<none>" without one. */
static json_t *service_endpoints(struct kube *k, const json_t *svc, const sw_print_opts *popts)
{
	const sw_kind *ek = sw_kind_lookup("endpoints");
	cleanup_json json_t *ep = NULL;
	sw_error *err = NULL;
	if (kube_get(k, ek, sw_obj_namespace(svc), sw_obj_name(svc), &ep, &err) < 0) {
		sw_error_free(err);
		return json_string("<none>");
	}
	cleanup_json json_t *row = sw_table_row(ek, ep, popts);
	/* NAME [NAMESPACE first with -A], ENDPOINTS, AGE */
	json_t *cell = json_array_get(row, popts->namespace_column ? 2 : 1);
	return json_string(json_string_value(cell) ? json_string_value(cell) : "<none>");
}

static bool name_wanted(const json_t *names, const char *name)
{
	size_t i;
	json_t *n;

	if (!names)
		return true;
	json_array_foreach(names, i, n)
		if (name && !strcmp(json_string_value(n), name))
			return true;
	return false;
}

static bool on_watch_line(const char *line, size_t len, void *payload)
{
	struct watch_ctx *w = payload;
	cleanup_json json_t *ev = json_loadb(line, len, 0, NULL);
	const json_t *obj = json_object_get(ev, "object");
	const char *type = json_string_value(json_object_get(ev, "type"));
	sw_error *err = NULL;

	if (!ev || !type || !obj)
		return true;
	if (!strcmp(type, "ERROR")) {
		const char *msg = sw_obj_str(obj, "message");
		fprintf(stderr, "Error from server: %s\n", msg ? msg : "watch error");
		w->rc = EXIT_FAIL;
		return false;
	}
	if (!strcmp(type, "BOOKMARK") || !name_wanted(w->names, sw_obj_name(obj)))
		return true;
	if (!*w->o->output || !strcmp(w->o->output, "table") || !strcmp(w->o->output, "wide")) {
		w->popts.now = time(NULL);
		sw_table_add(w->table, sw_table_row(w->kind, obj, &w->popts));
		sw_table_print(w->table, stdout, w->o->no_headers);
	} else if (kube_print_object(w->kind, obj, w->o->output, &err) < 0) {
		kube_fail(err);
		w->rc = EXIT_FAIL;
		return false;
	}
	fflush(stdout);
	return true;
}

static int get_run(struct kube *k, const sw_kind *kind, json_t *names, struct get_opts *o)
{
	cleanup_json json_t *items = json_array();
	cleanup_free char *rv = NULL, *query = NULL;
	const char *ns = o->all_ns ? NULL : k->ns;
	bool table = !*o->output || !strcmp(o->output, "table") || !strcmp(o->output, "wide");
	sw_print_opts popts = {
		.wide = !strcmp(o->output, "wide"),
		.namespace_column = o->all_ns && kind->namespaced,
		.no_headers = o->no_headers,
		.now = time(NULL),
	};
	sw_error *err = NULL;
	int rc = EXIT_OK;
	json_t *n;
	size_t i;

	if (o->selector) {
		cleanup_free char *esc = sw_client_escape(o->selector);
		query = sw_xasprintf("labelSelector=%s", esc);
	}
	if (json_array_size(names)) {
		json_array_foreach(names, i, n) {
			json_t *obj = NULL;
			if (kube_get(k, kind, ns ? ns : k->ns, json_string_value(n), &obj, &err) < 0) {
				rc = kube_fail(err);
				err = NULL;
				continue;
			}
			json_array_append_new(items, obj);
		}
	} else {
		json_decref(items);
		items = NULL;
		if (kube_list(k, kind, ns, query, &items, &rv, &err) < 0)
			return kube_fail(err);
	}

	sw_table *t = NULL;
	if (table) {
		/* Services end with their endpoints: slipway knows them (kubectl
		 * needs a second `get endpoints` for that) */
		bool svc_eps = !strcmp(kind->kind, "Service") && !o->watch;
		json_t *cols = sw_table_columns(kind, &popts);
		if (svc_eps)
			json_array_append_new(cols, json_string("ENDPOINTS"));
		t = sw_table_new(cols);
		json_array_foreach(items, i, n) {
			json_t *row = sw_table_row(kind, n, &popts);
			if (svc_eps)
				json_array_append_new(row, service_endpoints(k, n, &popts));
			if (o->multi && strcmp(kind->kind, "Event")) {
				/* kubectl names each row KIND/NAME when several kinds show */
				char *ref = sw_object_name_ref(kind, n);
				json_array_set_new(row, popts.namespace_column ? 1 : 0, json_string(ref));
				free(ref);
			}
			sw_table_add(t, row);
		}
		if (json_array_size(items)) {
			if (o->multi && o->found)
				putchar('\n');
			sw_table_print(t, stdout, o->no_headers);
		} else if (!json_array_size(names) && !o->watch && !o->multi) {
			if (ns && kind->namespaced)
				fprintf(stderr, "No resources found in %s namespace.\n", ns);
			else
				fprintf(stderr, "No resources found\n");
		}
	} else if (!strcmp(o->output, "name")) {
		json_array_foreach(items, i, n)
			kube_print_object(kind, n, "name", NULL);
	} else if (o->collect) {
		/* several kinds: one List at the end, as kubectl prints */
		json_array_extend(o->collect, items);
	} else if (json_array_size(names) == 1 && json_array_size(items) == 1 && !o->watch) {
		if (kube_print_object(kind, json_array_get(items, 0), o->output, &err) < 0)
			rc = kube_fail(err);
	} else if (!o->watch || json_array_size(items)) {
		cleanup_json json_t *list = kube_list_object(items);
		if (kube_print_object(kind, list, o->output, &err) < 0)
			rc = kube_fail(err);
	}
	o->found += json_array_size(items);
	fflush(stdout);

	if (o->watch && rc == EXIT_OK) {
		cleanup_free char *base = sw_client_path(kind, ns, NULL, NULL);
		cleanup_free char *path = NULL;
		struct watch_ctx w = {
			.kind = kind, .o = o, .popts = popts, .table = t,
			.names = json_array_size(names) ? names : NULL,
		};
		if (!rv && json_array_size(items)) {
			/* watching named objects: resume after the newest one read */
			const char *v = sw_obj_str(json_array_get(items, 0), "metadata.resourceVersion");
			rv = v ? sw_xstrdup(v) : NULL;
		}
		path = sw_xasprintf("%s?watch=1%s%s%s%s", base, rv ? "&resourceVersion=" : "", rv ? rv : "",
		                    query ? "&" : "", query ? query : "");
		if (sw_client_stream(k->client, path, 0, NULL, on_watch_line, &w, &err) < 0)
			rc = kube_fail(err);
		else
			rc = w.rc;
		t = w.table;
	}
	sw_table_free(t);
	return rc;
}

int cmd_get(int argc, char **argv, const struct cli_command *self)
{
	static const struct option opts[] = {
		{ "namespace", required_argument, NULL, 'n' },
		{ "all-namespaces", no_argument, NULL, 'A' },
		{ "selector", required_argument, NULL, 'l' },
		{ "output", required_argument, NULL, 'o' },
		{ "watch", no_argument, NULL, 'w' },
		{ "no-headers", no_argument, NULL, KOPT_NO_HEADERS },
		{ "state-dir", required_argument, NULL, KOPT_STATE_DIR },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct get_opts o = { .output = "" };
	const char *state_dir = NULL, *ns = NULL;
	cleanup_json json_t *names = json_array();
	const sw_kind *kind = NULL;
	struct kube k;
	sw_error *err = NULL;
	int c, rc;

	/* no '+': flags may follow operands, as kubectl allows */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "n:Al:o:wh", opts, NULL)) != -1) {
		switch (c) {
		case 'n': ns = optarg; break;
		case 'A': o.all_ns = true; break;
		case 'l': o.selector = optarg; break;
		case 'o': o.output = optarg; break;
		case 'w': o.watch = true; break;
		case KOPT_NO_HEADERS: o.no_headers = true; break;
		case KOPT_STATE_DIR: state_dir = optarg; break;
		case 'h': return cli_help(self);
		default: return cli_usage_error(self, "get: unknown or incomplete flag '%s'", argv[optind - 1]);
		}
	}
	for (; optind < argc; optind++)
		json_array_append_new(names, json_string(argv[optind]));
	if (!kube_output_valid(o.output))
		return cli_usage_error(self, "get: --output must be table, wide, json, yaml or name, not '%s'", o.output);
	if (!json_array_size(names))
		return cli_usage_error(self, "get: which KIND? (pods, deployments, services, ...)");

	/* KIND NAME... or TYPE/NAME... or KIND,KIND,... ("all": kubectl's set) */
	const char *first = json_string_value(json_array_get(names, 0));
	cleanup_json json_t *rest = json_array();
	if (!strchr(first, '/') && (strchr(first, ',') || !strcmp(first, "all"))) {
		cleanup_free char *list = sw_xstrdup(!strcmp(first, "all") ? "pods,services,deployments,replicasets" : first);
		const sw_kind *kinds[32];
		size_t nk = 0;
		for (char *save = NULL, *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
			if (nk == 32)
				return cli_usage_error(self, "get: too many kinds");
			if (kube_kind(&kinds[nk++], w, &err) < 0)
				return kube_fail(err);
		}
		if (json_array_size(names) > 1)
			return cli_usage_error(self, "get: names cannot be given with several kinds (use TYPE/NAME)");
		if (o.watch)
			return cli_usage_error(self, "get: --watch takes one kind");
		if (kube_open(&k, state_dir, ns, &err) < 0)
			return kube_fail(err);
		o.multi = nk > 1 || !strcmp(first, "all");
		if (!strcmp(o.output, "json") || !strcmp(o.output, "yaml"))
			o.collect = json_array();
		rc = EXIT_OK;
		for (size_t i = 0; i < nk; i++)
			if (get_run(&k, kinds[i], rest, &o) != EXIT_OK)
				rc = EXIT_FAIL;
		if (o.collect) {
			json_t *doc = kube_list_object(o.collect);
			if (kube_print_object(kinds[0], doc, o.output, &err) < 0)
				rc = kube_fail(err);
			json_decref(doc);
			json_decref(o.collect);
		}
		if (!o.found && (!*o.output || !strcmp(o.output, "table") || !strcmp(o.output, "wide"))) {
			if (o.all_ns)
				fprintf(stderr, "No resources found\n");
			else
				fprintf(stderr, "No resources found in %s namespace.\n", k.ns);
		}
		kube_close(&k);
		return rc;
	}
	if (strchr(first, '/')) {
		const char *name;
		json_t *n;
		size_t i;
		json_array_foreach(names, i, n) {
			const sw_kind *kk;
			if (kube_kind_name(&kk, &name, json_string_value(n), NULL, &err) < 0)
				return kube_fail(err);
			if (kind && kk != kind)
				return cli_usage_error(self, "get: TYPE/NAME operands of different types are not supported");
			kind = kk;
			json_array_append_new(rest, json_string(name));
		}
	} else {
		if (kube_kind(&kind, first, &err) < 0)
			return kube_fail(err);
		for (size_t i = 1; i < json_array_size(names); i++)
			json_array_append(rest, json_array_get(names, i));
	}
	if (o.all_ns && json_array_size(rest))
		return cli_usage_error(self, "get: a name cannot be given with --all-namespaces");
	if (kube_open(&k, state_dir, ns, &err) < 0)
		return kube_fail(err);
	rc = get_run(&k, kind, rest, &o);
	kube_close(&k);
	return rc;
}
