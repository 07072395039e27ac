/*
 * printers.c - kubectl's table columns and cell values per kind, the pod
 * STATUS computation, ages, and the table layout (see printers.h). YAML
 * output is in printers_yaml.c.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/object.h"
#include "slipway/printers.h"

/* ---- durations ---------------------------------------------------------- */

void sw_human_duration(int64_t s, char buf[static 32])
{
	if (s < -1) {
		snprintf(buf, 32, "<invalid>");
		return;
	}
	if (s < 0)
		s = 0;
	if (s < 120) {
		snprintf(buf, 32, "%llds", (long long)s);
		return;
	}
	int64_t m = s / 60, h = s / 3600, d = h / 24;
	if (m < 10) {
		if (s % 60)
			snprintf(buf, 32, "%lldm%llds", (long long)m, (long long)(s % 60));
		else
			snprintf(buf, 32, "%lldm", (long long)m);
	} else if (m < 180) {
		snprintf(buf, 32, "%lldm", (long long)m);
	} else if (h < 8) {
		if (m % 60)
			snprintf(buf, 32, "%lldh%lldm", (long long)h, (long long)(m % 60));
		else
			snprintf(buf, 32, "%lldh", (long long)h);
	} else if (h < 48) {
		snprintf(buf, 32, "%lldh", (long long)h);
	} else if (h < 24 * 8) {
		if (h % 24)
			snprintf(buf, 32, "%lldd%lldh", (long long)d, (long long)(h % 24));
		else
			snprintf(buf, 32, "%lldd", (long long)d);
	} else if (h < 24 * 365 * 2) {
		snprintf(buf, 32, "%lldd", (long long)d);
	} else if (h < 24 * 365 * 8) {
		if (d % 365)
			snprintf(buf, 32, "%lldy%lldd", (long long)(d / 365), (long long)(d % 365));
		else
			snprintf(buf, 32, "%lldy", (long long)(d / 365));
	} else {
		snprintf(buf, 32, "%lldy", (long long)(d / 365));
	}
}

void sw_age(const char *ts, time_t now, char buf[static 32])
{
	time_t t = ts ? sw_time_parse(ts) : (time_t)-1;

	if (t == (time_t)-1) {
		snprintf(buf, 32, "<unknown>");
		return;
	}
	sw_human_duration((int64_t)(now - t), buf);
}

/* ---- pods --------------------------------------------------------------- */

static bool condition_true(const json_t *obj, const char *type)
{
	const json_t *c;
	size_t i;

	json_array_foreach(sw_obj_path(obj, "status.conditions"), i, c) {
		const char *t = json_string_value(json_object_get(c, "type"));
		if (t && !strcmp(t, type))
			return !strcmp(json_string_value(json_object_get(c, "status")) ?: "", "True");
	}
	return false;
}

static bool has_condition(const json_t *obj, const char *type)
{
	const json_t *c;
	size_t i;

	json_array_foreach(sw_obj_path(obj, "status.conditions"), i, c) {
		const char *t = json_string_value(json_object_get(c, "type"));
		if (t && !strcmp(t, type))
			return true;
	}
	return false;
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

char *sw_pod_status(const json_t *pod)
{
	cleanup_free char *reason = NULL;
	const json_t *st, *inits = sw_obj_path(pod, "status.initContainerStatuses");
	size_t ninit_spec = json_array_size(sw_obj_path(pod, "spec.initContainers"));
	bool initializing = false;
	size_t i;

	reason = sw_xstrdup(nonempty(sw_obj_str(pod, "status.phase")) ?: "Pending");
	if (nonempty(sw_obj_str(pod, "status.reason"))) {
		free(reason);
		reason = sw_xstrdup(sw_obj_str(pod, "status.reason"));
	}
	json_array_foreach(inits, i, st) {
		const json_t *term = sw_obj_path(st, "state.terminated");
		const char *wreason = sw_obj_str(st, "state.waiting.reason");
		if (term && sw_obj_int(term, "exitCode", 0) == 0)
			continue;
		free(reason);
		if (term) {
			const char *r = nonempty(sw_obj_str(term, "reason"));
			if (r)
				reason = sw_xasprintf("Init:%s", r);
			else if (sw_obj_int(term, "signal", 0))
				reason = sw_xasprintf("Init:Signal:%lld", (long long)sw_obj_int(term, "signal", 0));
			else
				reason = sw_xasprintf("Init:ExitCode:%lld", (long long)sw_obj_int(term, "exitCode", 0));
		} else if (nonempty(wreason) && strcmp(wreason, "PodInitializing")) {
			reason = sw_xasprintf("Init:%s", wreason);
		} else {
			reason = sw_xasprintf("Init:%zu/%zu", i, ninit_spec);
		}
		initializing = true;
		break;
	}
	if (!initializing || condition_true(pod, "Initialized")) {
		const json_t *cs = sw_obj_path(pod, "status.containerStatuses");
		bool running = false;
		for (size_t k = json_array_size(cs); k-- > 0;) {
			st = json_array_get(cs, k);
			const json_t *term = sw_obj_path(st, "state.terminated");
			const char *w = nonempty(sw_obj_str(st, "state.waiting.reason"));
			const char *tr = term ? nonempty(sw_obj_str(term, "reason")) : NULL;
			if (w) {
				free(reason);
				reason = sw_xstrdup(w);
			} else if (tr) {
				free(reason);
				reason = sw_xstrdup(tr);
			} else if (term) {
				free(reason);
				if (sw_obj_int(term, "signal", 0))
					reason = sw_xasprintf("Signal:%lld", (long long)sw_obj_int(term, "signal", 0));
				else
					reason = sw_xasprintf("ExitCode:%lld", (long long)sw_obj_int(term, "exitCode", 0));
			} else if (sw_obj_bool(st, "ready", false) && sw_obj_path(st, "state.running")) {
				running = true;
			}
		}
		if (!strcmp(reason, "Completed") && running) {
			free(reason);
			reason = sw_xstrdup(has_condition(pod, "Ready") && condition_true(pod, "Ready") ? "Running"
			                                                                              : "NotReady");
		}
	}
	if (sw_obj_deleting(pod)) {
		const char *phase = sw_obj_str(pod, "status.phase");
		const char *sr = sw_obj_str(pod, "status.reason");
		if (sr && !strcmp(sr, "NodeLost")) {
			free(reason);
			reason = sw_xstrdup("Unknown");
		} else if (!phase || (strcmp(phase, "Succeeded") && strcmp(phase, "Failed"))) {
			free(reason);
			reason = sw_xstrdup("Terminating");
		}
	}
	return steal_pointer(&reason);
}

void sw_pod_ready(const json_t *pod, int *ready, int *total)
{
	const json_t *st;
	size_t i;

	*total = (int)json_array_size(sw_obj_path(pod, "spec.containers"));
	*ready = 0;
	json_array_foreach(sw_obj_path(pod, "status.containerStatuses"), i, st)
		if (sw_obj_bool(st, "ready", false) && sw_obj_path(st, "state.running"))
			(*ready)++;
}

int64_t sw_pod_restarts(const json_t *pod, time_t *last)
{
	const json_t *st;
	int64_t n = 0;
	size_t i;

	if (last)
		*last = 0;
	json_array_foreach(sw_obj_path(pod, "status.containerStatuses"), i, st) {
		n += sw_obj_int(st, "restartCount", 0);
		const char *fin = sw_obj_str(st, "lastState.terminated.finishedAt");
		time_t t = fin ? sw_time_parse(fin) : (time_t)-1;
		if (last && t != (time_t)-1 && t > *last)
			*last = t;
	}
	return n;
}

/* ---- names -------------------------------------------------------------- */

char *sw_object_name_ref(const sw_kind *k, const json_t *obj)
{
	if (k->group[0])
		return sw_xasprintf("%s.%s/%s", k->singular, k->group, sw_obj_name(obj) ?: "");
	return sw_xasprintf("%s/%s", k->singular, sw_obj_name(obj) ?: "");
}

/* ---- cells -------------------------------------------------------------- */

static json_t *strs(const char *const *v)
{
	json_t *a = json_array();
	for (; *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static void add(json_t *row, const char *s)
{
	json_array_append_new(row, json_string(s && *s ? s : "<none>"));
}

static void addf(json_t *row, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(json_t *row, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_array_append_new(row, json_string(buf));
}

static void add_age(json_t *row, const char *ts, time_t now)
{
	char buf[32];
	sw_age(ts, now, buf);
	add(row, buf);
}

/* "a=b,c=d" from an object of strings (sorted keys, as Go maps print). */
static char *labels_string(const json_t *labels)
{
	sw_buf b = SW_BUF_INIT(0);
	cleanup_free char *canon = sw_json_canonical(labels);
	cleanup_json json_t *sorted = canon ? json_loads(canon, 0, NULL) : NULL;
	const char *key;
	json_t *v;

	sw_buf_addstr(&b, "", NULL);
	/* canonical form sorts keys; jansson keeps the loaded order */
	json_object_foreach(sorted, key, v) {
		if (b.len)
			sw_buf_addc(&b, ',', NULL);
		sw_buf_printf(&b, NULL, "%s=%s", key, json_string_value(v) ?: "");
	}
	return sw_buf_detach(&b);
}

/* A LabelSelector as kubectl prints it (matchLabels, then expressions). */
static char *selector_string(const json_t *sel)
{
	cleanup_free char *ml = labels_string(json_object_get(sel, "matchLabels"));
	sw_buf b = SW_BUF_INIT(0);
	const json_t *e;
	size_t i;

	sw_buf_addstr(&b, ml, NULL);
	json_array_foreach(json_object_get(sel, "matchExpressions"), i, e) {
		const char *key = sw_obj_str(e, "key") ?: "", *op = sw_obj_str(e, "operator") ?: "";
		if (b.len)
			sw_buf_addc(&b, ',', NULL);
		if (!strcmp(op, "Exists")) {
			sw_buf_addstr(&b, key, NULL);
		} else if (!strcmp(op, "DoesNotExist")) {
			sw_buf_printf(&b, NULL, "!%s", key);
		} else {
			const json_t *v;
			size_t k;
			sw_buf_printf(&b, NULL, "%s %s (", key, !strcmp(op, "In") ? "in" : "notin");
			json_array_foreach(json_object_get(e, "values"), k, v)
				sw_buf_printf(&b, NULL, "%s%s", k ? "," : "", json_string_value(v) ?: "");
			sw_buf_addc(&b, ')', NULL);
		}
	}
	return sw_buf_detach(&b);
}

static void add_containers_images(json_t *row, const json_t *podspec)
{
	sw_buf names = SW_BUF_INIT(0), images = SW_BUF_INIT(0);
	const json_t *c;
	size_t i;

	json_array_foreach(json_object_get(podspec, "containers"), i, c) {
		sw_buf_printf(&names, NULL, "%s%s", i ? "," : "", sw_obj_str(c, "name") ?: "");
		sw_buf_printf(&images, NULL, "%s%s", i ? "," : "", sw_obj_str(c, "image") ?: "");
	}
	add(row, names.data);
	add(row, images.data);
	sw_buf_release(&names);
	sw_buf_release(&images);
}

static void pod_row(json_t *row, const json_t *o, const sw_print_opts *opt)
{
	cleanup_free char *status = sw_pod_status(o);
	int ready, total;
	time_t last;
	int64_t restarts = sw_pod_restarts(o, &last);

	sw_pod_ready(o, &ready, &total);
	addf(row, "%d/%d", ready, total);
	add(row, status);
	if (restarts && last) {
		char ago[32];
		sw_human_duration((int64_t)(opt->now - last), ago);
		addf(row, "%lld (%s ago)", (long long)restarts, ago);
	} else {
		addf(row, "%lld", (long long)restarts);
	}
	add_age(row, sw_obj_str(o, "metadata.creationTimestamp"), opt->now);
	if (opt->wide) {
		sw_buf ports = SW_BUF_INIT(0);
		const json_t *p;
		size_t i;
		add(row, sw_obj_str(o, "status.podIP"));
		add(row, sw_obj_str(o, "spec.nodeName"));
		json_array_foreach(sw_obj_path(o, "status.slipwayPorts"), i, p) {
			int64_t cp = sw_obj_int(p, "containerPort", 0);
			sw_buf_printf(&ports, NULL, "%s%lld", i ? "," : "", (long long)sw_obj_int(p, "hostPort", 0));
			/* a container that declares no port gets one all the same */
			if (cp)
				sw_buf_printf(&ports, NULL, "->%lld", (long long)cp);
			sw_buf_printf(&ports, NULL, "/%s", sw_obj_str(p, "protocol") ?: "TCP");
		}
		add(row, ports.data);
		sw_buf_release(&ports);
	}
}

static void deployment_row(json_t *row, const json_t *o, const sw_print_opts *opt)
{
	addf(row, "%lld/%lld", (long long)sw_obj_int(o, "status.readyReplicas", 0),
	     (long long)sw_obj_int(o, "spec.replicas", 1));
	addf(row, "%lld", (long long)sw_obj_int(o, "status.updatedReplicas", 0));
	addf(row, "%lld", (long long)sw_obj_int(o, "status.availableReplicas", 0));
	add_age(row, sw_obj_str(o, "metadata.creationTimestamp"), opt->now);
	if (opt->wide) {
		cleanup_free char *sel = selector_string(sw_obj_path(o, "spec.selector"));
		add_containers_images(row, sw_obj_path(o, "spec.template.spec"));
		add(row, sel);
	}
}

static void replicaset_row(json_t *row, const json_t *o, const sw_print_opts *opt)
{
	addf(row, "%lld", (long long)sw_obj_int(o, "spec.replicas", 1));
	addf(row, "%lld", (long long)sw_obj_int(o, "status.replicas", 0));
	addf(row, "%lld", (long long)sw_obj_int(o, "status.readyReplicas", 0));
	add_age(row, sw_obj_str(o, "metadata.creationTimestamp"), opt->now);
	if (opt->wide) {
		cleanup_free char *sel = selector_string(sw_obj_path(o, "spec.selector"));
		add_containers_images(row, sw_obj_path(o, "spec.template.spec"));
		add(row, sel);
	}
}

static void service_row(json_t *row, const json_t *o, const sw_print_opts *opt)
{
	sw_buf ports = SW_BUF_INIT(0);
	const json_t *p;
	size_t i;

	add(row, sw_obj_str(o, "spec.type") ?: "ClusterIP");
	add(row, sw_obj_str(o, "spec.clusterIP"));
	add(row, NULL);
	json_array_foreach(sw_obj_path(o, "spec.ports"), i, p) {
		int64_t np = sw_obj_int(p, "nodePort", 0);
		sw_buf_printf(&ports, NULL, "%s%lld", i ? "," : "", (long long)sw_obj_int(p, "port", 0));
		if (np)
			sw_buf_printf(&ports, NULL, ":%lld", (long long)np);
		sw_buf_printf(&ports, NULL, "/%s", sw_obj_str(p, "protocol") ?: "TCP");
	}
	add(row, ports.data);
	sw_buf_release(&ports);
	add_age(row, sw_obj_str(o, "metadata.creationTimestamp"), opt->now);
	if (opt->wide) {
		const json_t *sel = sw_obj_path(o, "spec.selector");
		cleanup_free char *s = json_object_size(sel) ? labels_string(sel) : NULL;
		add(row, s);
	}
}

static void endpoints_row(json_t *row, const json_t *o, const sw_print_opts *opt)
{
	sw_buf b = SW_BUF_INIT(0);
	const json_t *sub, *a, *p;
	size_t i, j, k, n = 0, shown = 0;

	json_array_foreach(json_object_get(o, "subsets"), i, sub) {
		json_array_foreach(json_object_get(sub, "addresses"), j, a) {
			size_t np = json_array_size(json_object_get(sub, "ports"));
			if (!np) {
				if (shown < 3) {
					sw_buf_printf(&b, NULL, "%s%s", shown ? "," : "", sw_obj_str(a, "ip") ?: "");
					shown++;
				}
				n++;
			}
			json_array_foreach(json_object_get(sub, "ports"), k, p) {
				if (shown < 3) {
					sw_buf_printf(&b, NULL, "%s%s:%lld", shown ? "," : "", sw_obj_str(a, "ip") ?: "",
					              (long long)sw_obj_int(p, "port", 0));
					shown++;
				}
				n++;
			}
		}
	}
	if (n > shown)
		sw_buf_printf(&b, NULL, " + %zu more...", n - shown);
	add(row, b.data);
	sw_buf_release(&b);
	add_age(row, sw_obj_str(o, "metadata.creationTimestamp"), opt->now);
}

static void event_row(json_t *row, const json_t *o, const sw_print_opts *opt)
{
	const char *first = sw_obj_str(o, "firstTimestamp") ?: sw_obj_str(o, "eventTime");
	const char *last = sw_obj_str(o, "lastTimestamp") ?: first;
	const char *kind = sw_obj_str(o, "involvedObject.kind") ?: "";
	const char *name = sw_obj_str(o, "involvedObject.name");
	cleanup_free char *lkind = sw_xstrdup(kind);
	cleanup_free char *target = NULL;
	const char *msg = sw_obj_str(o, "message") ?: "";
	size_t ml;

	for (char *p = lkind; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	target = name && *name ? sw_xasprintf("%s/%s", lkind, name) : sw_xstrdup(lkind);
	add_age(row, last, opt->now);
	add(row, sw_obj_str(o, "type"));
	add(row, sw_obj_str(o, "reason"));
	add(row, target);
	while (*msg && isspace((unsigned char)*msg))
		msg++;
	ml = strlen(msg);
	while (ml && isspace((unsigned char)msg[ml - 1]))
		ml--;
	cleanup_free char *m = sw_xstrndup(msg, ml);
	if (opt->wide) {
		add(row, sw_obj_str(o, "involvedObject.fieldPath") ?: "");
		add(row, sw_obj_str(o, "source.component"));
		json_array_append_new(row, json_string(m));
		add_age(row, first, opt->now);
		addf(row, "%lld", (long long)sw_obj_int(o, "count", 1));
		add(row, sw_obj_name(o));
	} else {
		json_array_append_new(row, json_string(m));
	}
}

json_t *sw_table_columns(const sw_kind *k, const sw_print_opts *o)
{
	static const char *const pods[] = { "NAME", "READY", "STATUS", "RESTARTS", "AGE", NULL };
	static const char *const pods_w[] = { "IP", "NODE", "PORTS", NULL };
	static const char *const deploy[] = { "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", NULL };
	static const char *const wide_ci[] = { "CONTAINERS", "IMAGES", "SELECTOR", NULL };
	static const char *const rs[] = { "NAME", "DESIRED", "CURRENT", "READY", "AGE", NULL };
	static const char *const svc[] = { "NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", NULL };
	static const char *const svc_w[] = { "SELECTOR", NULL };
	static const char *const ns[] = { "NAME", "STATUS", "AGE", NULL };
	static const char *const ev[] = { "LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE", NULL };
	static const char *const ev_w[] = { "LAST SEEN", "TYPE",    "REASON",     "OBJECT", "SUBOBJECT",
		                            "SOURCE",    "MESSAGE", "FIRST SEEN", "COUNT",  "NAME",
		                            NULL };
	static const char *const cm[] = { "NAME", "DATA", "AGE", NULL };
	static const char *const secret[] = { "NAME", "TYPE", "DATA", "AGE", NULL };
	static const char *const ep[] = { "NAME", "ENDPOINTS", "AGE", NULL };
	static const char *const other[] = { "NAME", "AGE", NULL };
	const char *const *base = other, *const *more = NULL;
	json_t *cols;

	if (!strcmp(k->kind, "Pod")) {
		base = pods;
		more = pods_w;
	} else if (!strcmp(k->kind, "Deployment")) {
		base = deploy;
		more = wide_ci;
	} else if (!strcmp(k->kind, "ReplicaSet")) {
		base = rs;
		more = wide_ci;
	} else if (!strcmp(k->kind, "Service")) {
		base = svc;
		more = svc_w;
	} else if (!strcmp(k->kind, "Namespace")) {
		base = ns;
	} else if (!strcmp(k->kind, "Event")) {
		base = o->wide ? ev_w : ev;
	} else if (!strcmp(k->kind, "ConfigMap")) {
		base = cm;
	} else if (!strcmp(k->kind, "Secret")) {
		base = secret;
	} else if (!strcmp(k->kind, "Endpoints")) {
		base = ep;
	}
	cols = json_array();
	if (o->namespace_column && k->namespaced)
		json_array_append_new(cols, json_string("NAMESPACE"));
	json_t *tmp = strs(base);
	json_array_extend(cols, tmp);
	json_decref(tmp);
	if (o->wide && more) {
		tmp = strs(more);
		json_array_extend(cols, tmp);
		json_decref(tmp);
	}
	return cols;
}

json_t *sw_table_row(const sw_kind *k, const json_t *o, const sw_print_opts *opt)
{
	json_t *row = json_array();

	if (opt->namespace_column && k->namespaced)
		add(row, sw_obj_namespace(o));
	if (strcmp(k->kind, "Event"))
		add(row, sw_obj_name(o));
	if (!strcmp(k->kind, "Pod")) {
		pod_row(row, o, opt);
	} else if (!strcmp(k->kind, "Deployment")) {
		deployment_row(row, o, opt);
	} else if (!strcmp(k->kind, "ReplicaSet")) {
		replicaset_row(row, o, opt);
	} else if (!strcmp(k->kind, "Service")) {
		service_row(row, o, opt);
	} else if (!strcmp(k->kind, "Namespace")) {
		add(row, sw_obj_str(o, "status.phase") ?: "Active");
		add_age(row, sw_obj_str(o, "metadata.creationTimestamp"), opt->now);
	} else if (!strcmp(k->kind, "Event")) {
		event_row(row, o, opt);
	} else if (!strcmp(k->kind, "ConfigMap")) {
		addf(row, "%zu", json_object_size(json_object_get(o, "data")) +
		                     json_object_size(json_object_get(o, "binaryData")));
		add_age(row, sw_obj_str(o, "metadata.creationTimestamp"), opt->now);
	} else if (!strcmp(k->kind, "Secret")) {
		add(row, sw_obj_str(o, "type") ?: "Opaque");
		addf(row, "%zu", json_object_size(json_object_get(o, "data")) +
		                     json_object_size(json_object_get(o, "stringData")));
		add_age(row, sw_obj_str(o, "metadata.creationTimestamp"), opt->now);
	} else if (!strcmp(k->kind, "Endpoints")) {
		endpoints_row(row, o, opt);
	} else {
		add_age(row, sw_obj_str(o, "metadata.creationTimestamp"), opt->now);
	}
	return row;
}

/* ---- layout ------------------------------------------------------------- */

struct sw_table {
	json_t *columns;
	json_t *rows;
	size_t printed;     /* rows already printed */
	bool header_done;
	size_t *width;
	size_t ncols;
};

sw_table *sw_table_new(json_t *columns)
{
	sw_table *t = sw_xcalloc(1, sizeof(*t));

	t->columns = columns;
	t->rows = json_array();
	t->ncols = json_array_size(columns);
	t->width = sw_xcalloc(t->ncols ? t->ncols : 1, sizeof(size_t));
	return t;
}

void sw_table_add(sw_table *t, json_t *row)
{
	json_array_append_new(t->rows, row);
}

static size_t cell_width(const char *s)
{
	size_t n = 0;
	/* UTF-8: count code points, not bytes */
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static void print_cells(sw_table *t, FILE *f, const json_t *row)
{
	for (size_t i = 0; i < t->ncols; i++) {
		const char *s = json_string_value(json_array_get(row, i)) ?: "";
		if (i + 1 == t->ncols) {
			fprintf(f, "%s\n", s);
		} else {
			size_t w = cell_width(s);
			/* a watched row wider than the column still gets its gap */
			size_t pad = w < t->width[i] ? t->width[i] - w + 3 : 3;
			fputs(s, f);
			for (size_t k = 0; k < pad; k++)
				fputc(' ', f);
		}
	}
}

void sw_table_print(sw_table *t, FILE *f, bool no_headers)
{
	size_t n = json_array_size(t->rows);

	if (!t->header_done && !no_headers) {
		for (size_t i = 0; i < t->ncols; i++)
			if (cell_width(json_string_value(json_array_get(t->columns, i))) > t->width[i])
				t->width[i] = cell_width(json_string_value(json_array_get(t->columns, i)));
	}
	for (size_t r = t->printed; r < n; r++)
		for (size_t i = 0; i < t->ncols; i++) {
			size_t w = cell_width(json_string_value(json_array_get(json_array_get(t->rows, r), i)) ?: "");
			if (w > t->width[i] && !t->printed)
				t->width[i] = w;
		}
	if (!t->header_done) {
		if (!no_headers)
			print_cells(t, f, t->columns);
		t->header_done = true;
	}
	for (size_t r = t->printed; r < n; r++)
		print_cells(t, f, json_array_get(t->rows, r));
	t->printed = n;
	fflush(f);
}

void sw_table_free(sw_table *t)
{
	if (!t)
		return;
	json_decref(t->columns);
	json_decref(t->rows);
	free(t->width);
	free(t);
}

void sw_print_table(FILE *f, const sw_kind *k, const json_t *items, const sw_print_opts *o)
{
	sw_table *t;
	const json_t *obj;
	size_t i;

	if (!json_array_size(items))
		return;
	t = sw_table_new(sw_table_columns(k, o));
	json_array_foreach(items, i, obj)
		sw_table_add(t, sw_table_row(k, obj, o));
	sw_table_print(t, f, o->no_headers);
	sw_table_free(t);
}
