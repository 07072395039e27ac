/*
 * api_table.c - meta.k8s.io/v1 Tables: the server-side printing kubectl
 * asks for (Accept: application/json;as=Table;v=v1;g=meta.k8s.io), so
 * `kubectl get pods` shows the columns and the STATUS words it shows
 * against Kubernetes. Columns with priority 1 appear with -o wide. The
 * pod STATUS follows kubectl's printPod.
 */
#include <stdio.h>
#include <string.h>

#include "api_int.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/mem.h"
#include "slipway/object.h"
#include "slipway/selector.h"

void api_human_age(char *buf, size_t size, time_t t, time_t now)
{
	long long d = (long long)now - (long long)t;
	if (d < -1) {
		snprintf(buf, size, "<invalid>");
		return;
	}
	if (d < 0)
		d = 0;
	if (d < 120) {
		snprintf(buf, size, "%llds", d);
		return;
	}
	long long m = d / 60;
	if (m < 10) {
		if (d % 60)
			snprintf(buf, size, "%lldm%llds", m, d % 60);
		else
			snprintf(buf, size, "%lldm", m);
		return;
	}
	if (m < 180) {
		snprintf(buf, size, "%lldm", m);
		return;
	}
	long long h = d / 3600;
	if (h < 8) {
		if (m % 60)
			snprintf(buf, size, "%lldh%lldm", h, m % 60);
		else
			snprintf(buf, size, "%lldh", h);
	} else if (h < 48) {
		snprintf(buf, size, "%lldh", h);
	} else if (h < 24 * 8) {
		if (h % 24)
			snprintf(buf, size, "%lldd%lldh", h / 24, h % 24);
		else
			snprintf(buf, size, "%lldd", h / 24);
	} else if (h < 24 * 365 * 2) {
		snprintf(buf, size, "%lldd", h / 24);
	} else if (h < 24 * 365 * 8) {
		long long dy = (h / 24) % 365;
		if (dy)
			snprintf(buf, size, "%lldy%lldd", h / 24 / 365, dy);
		else
			snprintf(buf, size, "%lldy", h / 24 / 365);
	} else {
		snprintf(buf, size, "%lldy", h / 24 / 365);
	}
}

static json_t *age_of(const json_t *obj, const char *path, time_t now)
{
	const char *ts = sw_obj_str(obj, path);
	time_t t = ts ? sw_time_parse(ts) : (time_t)-1;
	if (t == (time_t)-1)
		return json_string("<unknown>");
	char buf[32];
	api_human_age(buf, sizeof(buf), t, now);
	return json_string(buf);
}

static bool condition_true(const json_t *obj, const char *type)
{
	size_t i;
	json_t *c;
	json_array_foreach(sw_obj_path(obj, "status.conditions"), i, c) {
		const char *t = json_string_value(json_object_get(c, "type"));
		const char *s = json_string_value(json_object_get(c, "status"));
		if (t && s && strcmp(t, type) == 0)
			return strcmp(s, "True") == 0;
	}
	return false;
}

/* The reason of a terminated state, or Signal:N / ExitCode:N. */
static void terminated_reason(const json_t *term, const char *prefix, char *buf, size_t size)
{
	const char *reason = json_string_value(json_object_get(term, "reason"));
	if (reason && *reason) {
		snprintf(buf, size, "%s%s", prefix, reason);
		return;
	}
	json_int_t sig = json_integer_value(json_object_get(term, "signal"));
	if (sig)
		snprintf(buf, size, "%sSignal:%lld", prefix, (long long)sig);
	else
		snprintf(buf, size, "%sExitCode:%lld", prefix,
		         (long long)json_integer_value(json_object_get(term, "exitCode")));
}

typedef struct pod_summary {
	char status[128];
	int ready, total, restarts;
	time_t last_restart;
} pod_summary;

static void pod_summarize(const json_t *pod, pod_summary *ps)
{
	memset(ps, 0, sizeof(*ps));
	ps->last_restart = (time_t)-1;
	ps->total = (int)json_array_size(sw_obj_path(pod, "spec.containers"));
	const char *phase = sw_obj_str(pod, "status.phase");
	const char *preason = sw_obj_str(pod, "status.reason");
	snprintf(ps->status, sizeof(ps->status), "%s",
	         preason && *preason ? preason : phase ? phase : "Pending");
	bool initializing = false;
	json_t *inits = sw_obj_path(pod, "status.initContainerStatuses");
	size_t ninit = json_array_size(sw_obj_path(pod, "spec.initContainers"));
	size_t i;
	json_t *c;
	json_array_foreach(inits, i, c) {
		ps->restarts += (int)json_integer_value(json_object_get(c, "restartCount"));
		json_t *term = sw_obj_path(c, "state.terminated");
		const char *wr = sw_obj_str(c, "state.waiting.reason");
		if (term && json_integer_value(json_object_get(term, "exitCode")) == 0)
			continue;
		if (term)
			terminated_reason(term, "Init:", ps->status, sizeof(ps->status));
		else if (wr && *wr && strcmp(wr, "PodInitializing") != 0)
			snprintf(ps->status, sizeof(ps->status), "Init:%s", wr);
		else
			snprintf(ps->status, sizeof(ps->status), "Init:%zu/%zu", i, ninit);
		initializing = true;
		break;
	}
	if (!initializing || condition_true(pod, "Initialized")) {
		ps->restarts = 0;
		bool running = false;
		json_t *cs = sw_obj_path(pod, "status.containerStatuses");
		for (size_t j = json_array_size(cs); j-- > 0;) {
			c = json_array_get(cs, j);
			ps->restarts += (int)json_integer_value(json_object_get(c, "restartCount"));
			const char *fin = sw_obj_str(c, "lastState.terminated.finishedAt");
			time_t ft = fin ? sw_time_parse(fin) : (time_t)-1;
			if (ft != (time_t)-1 && (ps->last_restart == (time_t)-1 || ft > ps->last_restart))
				ps->last_restart = ft;
			const char *wr = sw_obj_str(c, "state.waiting.reason");
			json_t *term = sw_obj_path(c, "state.terminated");
			if (wr && *wr)
				snprintf(ps->status, sizeof(ps->status), "%s", wr);
			else if (term)
				terminated_reason(term, "", ps->status, sizeof(ps->status));
			else if (json_is_true(json_object_get(c, "ready")) && sw_obj_path(c, "state.running")) {
				running = true;
				ps->ready++;
			}
		}
		if (strcmp(ps->status, "Completed") == 0 && running)
			snprintf(ps->status, sizeof(ps->status), "%s",
			         condition_true(pod, "Ready") ? "Running" : "NotReady");
	}
	bool terminal = phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0);
	if (sw_obj_deleting(pod)) {
		if (preason && strcmp(preason, "NodeLost") == 0)
			snprintf(ps->status, sizeof(ps->status), "Unknown");
		else if (!terminal)
			snprintf(ps->status, sizeof(ps->status), "Terminating");
	}
}

const char *api_pod_status(const json_t *pod, char *buf, size_t size)
{
	pod_summary ps;
	pod_summarize(pod, &ps);
	snprintf(buf, size, "%s", ps.status);
	return buf;
}

/* ---- columns ----------------------------------------------------------------- */

typedef json_t *(*cell_fn)(const json_t *obj, time_t now);

typedef struct column {
	const char *name, *type, *format;
	int priority;
	const char *description;
	cell_fn cell;
} column;

static json_t *str_or(const char *s, const char *def)
{
	return json_string(s && *s ? s : def);
}

static json_t *c_name(const json_t *o, time_t now)
{
	(void)now;
	return str_or(sw_obj_name(o), "");
}

static json_t *c_age(const json_t *o, time_t now)
{
	return age_of(o, "metadata.creationTimestamp", now);
}

static json_t *c_pod_ready(const json_t *o, time_t now)
{
	(void)now;
	pod_summary ps;
	pod_summarize(o, &ps);
	char buf[32];
	snprintf(buf, sizeof(buf), "%d/%d", ps.ready, ps.total);
	return json_string(buf);
}

static json_t *c_pod_status(const json_t *o, time_t now)
{
	(void)now;
	pod_summary ps;
	pod_summarize(o, &ps);
	return json_string(ps.status);
}

static json_t *c_pod_restarts(const json_t *o, time_t now)
{
	pod_summary ps;
	pod_summarize(o, &ps);
	char buf[64];
	if (ps.restarts && ps.last_restart != (time_t)-1) {
		char age[32];
		api_human_age(age, sizeof(age), ps.last_restart, now);
		snprintf(buf, sizeof(buf), "%d (%s ago)", ps.restarts, age);
	} else {
		snprintf(buf, sizeof(buf), "%d", ps.restarts);
	}
	return json_string(buf);
}

static json_t *c_pod_ip(const json_t *o, time_t now)
{
	(void)now;
	return str_or(sw_obj_str(o, "status.podIP"), "<none>");
}

static json_t *c_pod_node(const json_t *o, time_t now)
{
	(void)now;
	return str_or(sw_obj_str(o, "spec.nodeName"), "<none>");
}

static json_t *c_none(const json_t *o, time_t now)
{
	(void)o;
	(void)now;
	return json_string("<none>");
}

static json_t *c_int(const json_t *o, const char *path)
{
	return json_integer((json_int_t)sw_obj_int(o, path, 0));
}

static json_t *c_deploy_ready(const json_t *o, time_t now)
{
	(void)now;
	char buf[48];
	snprintf(buf, sizeof(buf), "%lld/%lld", (long long)sw_obj_int(o, "status.readyReplicas", 0),
	         (long long)sw_obj_int(o, "spec.replicas", 1));
	return json_string(buf);
}

static json_t *c_updated(const json_t *o, time_t now)
{
	(void)now;
	return c_int(o, "status.updatedReplicas");
}

static json_t *c_available(const json_t *o, time_t now)
{
	(void)now;
	return c_int(o, "status.availableReplicas");
}

static json_t *c_desired(const json_t *o, time_t now)
{
	(void)now;
	return json_integer((json_int_t)sw_obj_int(o, "spec.replicas", 1));
}

static json_t *c_current(const json_t *o, time_t now)
{
	(void)now;
	return c_int(o, "status.replicas");
}

static json_t *c_rs_ready(const json_t *o, time_t now)
{
	(void)now;
	return c_int(o, "status.readyReplicas");
}

/* Comma-joined field of each container of the pod template. */
static json_t *template_join(const json_t *o, const char *field)
{
	sw_buf b = SW_BUF_INIT(0);
	size_t i;
	json_t *c;
	json_array_foreach(sw_obj_path(o, "spec.template.spec.containers"), i, c) {
		const char *v = json_string_value(json_object_get(c, field));
		if (i)
			sw_buf_addc(&b, ',', NULL);
		sw_buf_addstr(&b, v ? v : "", NULL);
	}
	char *s = sw_buf_detach(&b);
	json_t *r = json_string(*s ? s : "<none>");
	free(s);
	return r;
}

static json_t *c_containers(const json_t *o, time_t now)
{
	(void)now;
	return template_join(o, "name");
}

static json_t *c_images(const json_t *o, time_t now)
{
	(void)now;
	return template_join(o, "image");
}

static json_t *c_selector(const json_t *o, time_t now)
{
	(void)now;
	json_t *sj = sw_obj_path(o, "spec.selector");
	bool plain = sj && !json_object_get(sj, "matchLabels") &&
	             !json_object_get(sj, "matchExpressions");
	sw_selector *s = NULL;
	sw_error *e = NULL;
	if (!sj || sw_selector_from_json(&s, sj, plain, &e) < 0) {
		sw_error_free(e);
		return json_string("<none>");
	}
	char *str = sw_selector_string(s);
	sw_selector_free(s);
	json_t *r = json_string(str && *str ? str : "<none>");
	free(str);
	return r;
}

static json_t *c_svc_type(const json_t *o, time_t now)
{
	(void)now;
	return str_or(sw_obj_str(o, "spec.type"), "ClusterIP");
}

static json_t *c_cluster_ip(const json_t *o, time_t now)
{
	(void)now;
	return str_or(sw_obj_str(o, "spec.clusterIP"), "<none>");
}

static json_t *c_svc_ports(const json_t *o, time_t now)
{
	(void)now;
	sw_buf b = SW_BUF_INIT(0);
	size_t i;
	json_t *p;
	json_array_foreach(sw_obj_path(o, "spec.ports"), i, p) {
		const char *proto = json_string_value(json_object_get(p, "protocol"));
		json_int_t node = json_integer_value(json_object_get(p, "nodePort"));
		if (i)
			sw_buf_addc(&b, ',', NULL);
		if (node)
			sw_buf_printf(&b, NULL, "%lld:%lld/%s",
			              (long long)json_integer_value(json_object_get(p, "port")),
			              (long long)node, proto ? proto : "TCP");
		else
			sw_buf_printf(&b, NULL, "%lld/%s",
			              (long long)json_integer_value(json_object_get(p, "port")),
			              proto ? proto : "TCP");
	}
	char *s = sw_buf_detach(&b);
	json_t *r = json_string(*s ? s : "<none>");
	free(s);
	return r;
}

static json_t *c_ns_status(const json_t *o, time_t now)
{
	(void)now;
	return str_or(sw_obj_str(o, "status.phase"), "Active");
}

static json_t *c_data(const json_t *o, time_t now)
{
	(void)now;
	size_t n = json_object_size(json_object_get(o, "data")) +
	           json_object_size(json_object_get(o, "binaryData")) +
	           json_object_size(json_object_get(o, "stringData"));
	return json_integer((json_int_t)n);
}

static json_t *c_secret_type(const json_t *o, time_t now)
{
	(void)now;
	return str_or(sw_obj_str(o, "type"), "Opaque");
}

static json_t *c_endpoints(const json_t *o, time_t now)
{
	(void)now;
	sw_buf b = SW_BUF_INIT(0);
	size_t i, j, n = 0, shown = 0;
	json_t *sub, *a;
	json_array_foreach(json_object_get(o, "subsets"), i, sub) {
		json_array_foreach(json_object_get(sub, "addresses"), j, a) {
			size_t k;
			json_t *p;
			const char *ip = json_string_value(json_object_get(a, "ip"));
			json_t *ports = json_object_get(sub, "ports");
			if (json_array_size(ports) == 0) {
				n++;
				if (shown++ < 3)
					sw_buf_printf(&b, NULL, "%s%s", b.len ? "," : "", ip ? ip : "");
			}
			json_array_foreach(ports, k, p) {
				n++;
				if (shown++ < 3)
					sw_buf_printf(&b, NULL, "%s%s:%lld", b.len ? "," : "", ip ? ip : "",
					              (long long)json_integer_value(json_object_get(p, "port")));
			}
		}
	}
	if (n > 3)
		sw_buf_printf(&b, NULL, " + %zu more...", n - 3);
	char *s = sw_buf_detach(&b);
	json_t *r = json_string(*s ? s : "<none>");
	free(s);
	return r;
}

static json_t *c_ev_last_seen(const json_t *o, time_t now)
{
	if (sw_obj_str(o, "lastTimestamp"))
		return age_of(o, "lastTimestamp", now);
	if (sw_obj_str(o, "eventTime"))
		return age_of(o, "eventTime", now);
	if (sw_obj_str(o, "firstTimestamp"))
		return age_of(o, "firstTimestamp", now);
	return age_of(o, "metadata.creationTimestamp", now);
}

static json_t *c_ev_type(const json_t *o, time_t now)
{
	(void)now;
	return str_or(sw_obj_str(o, "type"), "");
}

static json_t *c_ev_reason(const json_t *o, time_t now)
{
	(void)now;
	return str_or(sw_obj_str(o, "reason"), "");
}

static json_t *c_ev_object(const json_t *o, time_t now)
{
	(void)now;
	const char *kind = sw_obj_str(o, "involvedObject.kind");
	const char *name = sw_obj_str(o, "involvedObject.name");
	char buf[512];
	size_t i = 0;
	for (; kind && kind[i] && i < 200; i++)
		buf[i] = (char)((kind[i] >= 'A' && kind[i] <= 'Z') ? kind[i] + 32 : kind[i]);
	snprintf(buf + i, sizeof(buf) - i, "/%s", name ? name : "");
	return json_string(buf);
}

static json_t *c_ev_message(const json_t *o, time_t now)
{
	(void)now;
	return str_or(sw_obj_str(o, "message"), "");
}

static json_t *c_ev_count(const json_t *o, time_t now)
{
	(void)now;
	return json_integer((json_int_t)sw_obj_int(o, "count", 1));
}

static json_t *c_ev_source(const json_t *o, time_t now)
{
	(void)now;
	return str_or(sw_obj_str(o, "source.component"), "");
}

#define NAME_COL { "Name", "string", "name", 0, "Name must be unique within a namespace.", c_name }
#define AGE_COL                                                                                   \
	{ "Age", "string", "", 0,                                                                   \
	  "CreationTimestamp is a timestamp representing the server time when this object was "    \
	  "created.",                                                                               \
	  c_age }
#define END_COL { NULL, NULL, NULL, 0, NULL, NULL }

static const column pod_cols[] = {
	NAME_COL,
	{ "Ready", "string", "", 0, "The aggregate readiness state of this pod for accepting traffic.",
	  c_pod_ready },
	{ "Status", "string", "", 0, "The aggregate status of the containers in this pod.",
	  c_pod_status },
	{ "Restarts", "string", "", 0,
	  "The number of times the containers in this pod have been restarted and when the last "
	  "container in this pod has restarted.",
	  c_pod_restarts },
	AGE_COL,
	{ "IP", "string", "", 1, "IP address allocated to the pod.", c_pod_ip },
	{ "Node", "string", "", 1, "Name of the Node this pod is assigned to.", c_pod_node },
	{ "Nominated Node", "string", "", 1, "Name of the Node nominated for this pod.", c_none },
	{ "Readiness Gates", "string", "", 1, "The readiness gates of this pod.", c_none },
	END_COL,
};

static const column deploy_cols[] = {
	NAME_COL,
	{ "Ready", "string", "", 0, "Number of the pod with ready state", c_deploy_ready },
	{ "Up-to-date", "integer", "", 0, "Total number of non-terminated pods targeted by this "
	                                  "deployment that have the desired template spec.",
	  c_updated },
	{ "Available", "integer", "", 0,
	  "Total number of available pods (ready for at least minReadySeconds) targeted by this "
	  "deployment.",
	  c_available },
	AGE_COL,
	{ "Containers", "string", "", 1, "Names of each container in the template.", c_containers },
	{ "Images", "string", "", 1, "Images referenced by each container in the template.",
	  c_images },
	{ "Selector", "string", "", 1, "Label selector for pods.", c_selector },
	END_COL,
};

static const column rs_cols[] = {
	NAME_COL,
	{ "Desired", "integer", "", 0, "Number of desired pods.", c_desired },
	{ "Current", "integer", "", 0, "The most recently observed number of replicas.", c_current },
	{ "Ready", "integer", "", 0, "The number of ready replicas for this replica set.",
	  c_rs_ready },
	AGE_COL,
	{ "Containers", "string", "", 1, "Names of each container in the template.", c_containers },
	{ "Images", "string", "", 1, "Images referenced by each container in the template.",
	  c_images },
	{ "Selector", "string", "", 1, "Label selector for pods.", c_selector },
	END_COL,
};

static const column svc_cols[] = {
	NAME_COL,
	{ "Type", "string", "", 0, "The type of the service.", c_svc_type },
	{ "Cluster-IP", "string", "", 0, "The IP address of the service.", c_cluster_ip },
	{ "External-IP", "string", "", 0, "External IPs of the service.", c_none },
	{ "Port(s)", "string", "", 0, "The ports of the service.", c_svc_ports },
	AGE_COL,
	{ "Selector", "string", "", 1, "The selector of the service.", c_selector },
	END_COL,
};

static const column ns_cols[] = {
	NAME_COL,
	{ "Status", "string", "", 0, "The status of the namespace", c_ns_status },
	AGE_COL,
	END_COL,
};

static const column cm_cols[] = {
	NAME_COL,
	{ "Data", "integer", "", 0, "Number of keys in the config map.", c_data },
	AGE_COL,
	END_COL,
};

static const column secret_cols[] = {
	NAME_COL,
	{ "Type", "string", "", 0, "The type of the secret", c_secret_type },
	{ "Data", "integer", "", 0, "Number of keys in the secret.", c_data },
	AGE_COL,
	END_COL,
};

static const column ep_cols[] = {
	NAME_COL,
	{ "Endpoints", "string", "", 0, "Endpoints of the service.", c_endpoints },
	AGE_COL,
	END_COL,
};

static const column event_cols[] = {
	{ "Last Seen", "string", "", 0, "Time since the event was last seen.", c_ev_last_seen },
	{ "Type", "string", "", 0, "Type of this event (Normal, Warning).", c_ev_type },
	{ "Reason", "string", "", 0, "Why the action was taken.", c_ev_reason },
	{ "Object", "string", "", 0, "The object this event is about.", c_ev_object },
	{ "Source", "string", "", 1, "The component reporting this event.", c_ev_source },
	{ "Message", "string", "", 0, "A description of the status of this operation.",
	  c_ev_message },
	{ "Count", "integer", "", 1, "The number of times this event has occurred.", c_ev_count },
	{ "Name", "string", "name", 1, "Name must be unique within a namespace.", c_name },
	END_COL,
};

static const column default_cols[] = {
	NAME_COL,
	AGE_COL,
	END_COL,
};

static const column *columns_of(const sw_kind *k)
{
	static const struct {
		const char *resource;
		const column *cols;
	} map[] = {
		{ "pods", pod_cols },         { "deployments", deploy_cols },
		{ "replicasets", rs_cols },   { "services", svc_cols },
		{ "namespaces", ns_cols },    { "configmaps", cm_cols },
		{ "secrets", secret_cols },   { "endpoints", ep_cols },
		{ "events", event_cols },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].resource, k->resource) == 0)
			return map[i].cols;
	return default_cols;
}

json_t *api_table(const sw_kind *k, const json_t *items, bool with_columns, const char *rv,
                  const char *cont, time_t now)
{
	const column *cols = columns_of(k);
	json_t *defs = json_array();
	if (with_columns)
		for (const column *c = cols; c->name; c++)
			json_array_append_new(defs, json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", c->name,
			                                      "type", c->type, "format", c->format,
			                                      "description", c->description, "priority",
			                                      c->priority));
	json_t *rows = json_array();
	size_t i;
	json_t *obj;
	json_array_foreach(items, i, obj) {
		json_t *cells = json_array();
		for (const column *c = cols; c->name; c++)
			json_array_append_new(cells, c->cell(obj, now));
		json_t *meta = json_object_get(obj, "metadata");
		json_t *partial = json_pack("{s:s, s:s, s:o}", "kind", "PartialObjectMetadata",
		                            "apiVersion", "meta.k8s.io/v1", "metadata",
		                            meta ? json_deep_copy(meta) : json_object());
		json_array_append_new(rows, json_pack("{s:o, s:o}", "cells", cells, "object", partial));
	}
	json_t *meta = json_pack("{s:s}", "resourceVersion", rv ? rv : "");
	if (cont)
		json_object_set_new(meta, "continue", json_string(cont));
	return json_pack("{s:s, s:s, s:o, s:o, s:o}", "kind", "Table", "apiVersion", "meta.k8s.io/v1",
	                 "metadata", meta, "columnDefinitions", defs, "rows", rows);
}
