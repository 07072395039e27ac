/*
 * cmd_describe.c - `slipway describe KIND NAME`: kubectl describe's
 * sections, written as kubectl writes them ("Key:\tvalue" lines through a
 * tabwriter, two spaces per level), for pods, deployments, replica sets,
 * services, config maps, secrets and namespaces, a generic view (metadata,
 * then the rest as YAML) for the other kinds, and the events about the
 * object (listed and matched by involvedObject.uid).
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "kube.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/object.h"
#include "slipway/printers.h"

const char cli_describe_usage[] =
	"usage: slipway describe KIND NAME [NAME...] [-n NS]\n"
	"       slipway describe KIND/NAME [-n NS]\n"
	"\n"
	"Shows an object in detail as kubectl describe does: for pods the\n"
	"containers with their state, last state, readiness, restarts and ports,\n"
	"and the conditions; for deployments the replicas, strategy, conditions\n"
	"and replica sets; then the recent events about the object.\n"
	"\n"
	"  -n, --namespace NS       the namespace (default \"default\")\n"
	"      --state-dir DIR      the daemon's state dir (socket) instead of the default\n"
	"  -h, --help               this text\n";

#define LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"

/* One line at a level (two spaces each), as kubectl's PrefixWriter. */
static void out(sw_tabwriter *w, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void out(sw_tabwriter *w, int level, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		sw_out_of_memory(0);
	va_end(ap);
	sw_tabwriter_printf(w, "%*s%s", level * 2, "", s);
	free(s);
}

/* "Sat, 28 Nov 2026 00:11:06 +0000" as kubectl (RFC 1123 with zone). */
static const char *when(const char *ts, char buf[64])
{
	time_t t = ts ? sw_time_parse(ts) : (time_t)-1;
	struct tm tm;

	if (t == (time_t)-1)
		return "<unknown>";
	gmtime_r(&t, &tm);
	strftime(buf, 64, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	return buf;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* kubectl's printLabelsMultiline: "Labels:\ta=b" then "\tc=d", sorted;
 * annotations as "k: v"; last-applied-configuration hidden. */
static void map_lines(sw_tabwriter *w, int level, const char *title, const json_t *m, const char *sep)
{
	size_t n = json_object_size(m), i = 0;
	const char **keys = sw_xcalloc(n + 1, sizeof(*keys));
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)m, k, v)
		if (strcmp(k, LAST_APPLIED))
			keys[i++] = k;
	n = i;
	qsort(keys, n, sizeof(*keys), cmp_str);
	out(w, level, "%s:\t", title);
	if (!n)
		sw_tabwriter_printf(w, "<none>\n");
	for (i = 0; i < n; i++) {
		const char *val = json_string_value(json_object_get(m, keys[i]));
		if (i)
			out(w, level, "\t");
		sw_tabwriter_printf(w, "%s%s%s\n", keys[i], sep, val ? val : "");
	}
	free(keys);
}

static char *labels_selector(const json_t *labels)
{
	size_t n = json_object_size(labels), i = 0;
	const char **keys = sw_xcalloc(n + 1, sizeof(*keys));
	const char *k;
	json_t *v;
	char *s = sw_xstrdup("");

	json_object_foreach((json_t *)labels, k, v)
		keys[i++] = k;
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (i = 0; i < n; i++) {
		char *t = sw_xasprintf("%s%s%s=%s", s, i ? "," : "", keys[i],
		                       json_string_value(json_object_get(labels, keys[i])) ?: "");
		free(s);
		s = t;
	}
	free(keys);
	return s;
}

/* ---- events ----------------------------------------------------------------- */

static void print_events(sw_tabwriter *w, struct kube *k, const json_t *o)
{
	cleanup_json json_t *evs = NULL;
	sw_error *err = NULL;
	time_t now = time(NULL);
	json_t *e;
	size_t i;

	if (kube_events_for(k, sw_obj_namespace(o), sw_obj_uid(o), &evs, &err) < 0) {
		sw_error_free(err);
		return;
	}
	if (!json_array_size(evs)) {
		out(w, 0, "Events:\t<none>\n");
		return;
	}
	out(w, 0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n");
	out(w, 1, "----\t------\t----\t----\t-------\n");
	json_array_foreach(evs, i, e) {
		char age[32], first[32];
		const char *last = sw_obj_str(e, "lastTimestamp") ?: sw_obj_str(e, "firstTimestamp");
		int64_t count = sw_obj_int(e, "count", 1);
		cleanup_free char *interval = NULL;
		sw_age(last, now, age);
		if (count > 1) {
			sw_age(sw_obj_str(e, "firstTimestamp"), now, first);
			interval = sw_xasprintf("%s (x%lld over %s)", age, (long long)count, first);
		} else {
			interval = sw_xstrdup(age);
		}
		const char *msg = sw_obj_str(e, "message") ?: "";
		while (*msg == ' ' || *msg == '\n')
			msg++;
		cleanup_free char *m = sw_xstrdup(msg);
		for (size_t l = strlen(m); l && (m[l - 1] == ' ' || m[l - 1] == '\n'); l--)
			m[l - 1] = '\0';
		out(w, 1, "%s\t%s\t%s\t%s\t%s\n", sw_obj_str(e, "type") ?: "", sw_obj_str(e, "reason") ?: "", interval,
		    sw_obj_str(e, "source.component") ?: "", m);
	}
}

/* ---- containers --------------------------------------------------------------- */

static const json_t *status_of(const json_t *pod, const char *container)
{
	const json_t *s;
	size_t i;

	json_array_foreach(sw_obj_path(pod, "status.containerStatuses"), i, s)
		if (!strcmp(sw_obj_str(s, "name") ?: "", container))
			return s;
	return NULL;
}

static void container_state(sw_tabwriter *w, int level, const char *label, const json_t *state)
{
	char tb[64];

	if (json_object_get(state, "running")) {
		out(w, level, "%s:\tRunning\n", label);
		out(w, level + 1, "Started:\t%s\n", when(sw_obj_str(state, "running.startedAt"), tb));
	} else if (json_object_get(state, "waiting")) {
		out(w, level, "%s:\tWaiting\n", label);
		if (sw_obj_str(state, "waiting.reason"))
			out(w, level + 1, "Reason:\t%s\n", sw_obj_str(state, "waiting.reason"));
		if (sw_obj_str(state, "waiting.message"))
			out(w, level + 1, "Message:\t%s\n", sw_obj_str(state, "waiting.message"));
	} else if (json_object_get(state, "terminated")) {
		const json_t *t = json_object_get(state, "terminated");
		out(w, level, "%s:\tTerminated\n", label);
		if (sw_obj_str(t, "reason"))
			out(w, level + 1, "Reason:\t%s\n", sw_obj_str(t, "reason"));
		if (sw_obj_str(t, "message"))
			out(w, level + 1, "Message:\t%s\n", sw_obj_str(t, "message"));
		out(w, level + 1, "Exit Code:\t%lld\n", (long long)sw_obj_int(t, "exitCode", 0));
		if (sw_obj_int(t, "signal", 0))
			out(w, level + 1, "Signal:\t%lld\n", (long long)sw_obj_int(t, "signal", 0));
		out(w, level + 1, "Started:\t%s\n", when(sw_obj_str(t, "startedAt"), tb));
		out(w, level + 1, "Finished:\t%s\n", when(sw_obj_str(t, "finishedAt"), tb));
	} else if (!strcmp(label, "State")) {
		out(w, level, "%s:\tWaiting\n", label);
	}
}

static void probe_line(sw_tabwriter *w, int level, const char *label, const json_t *pr)
{
	char what[256] = "";

	if (!pr)
		return;
	if (sw_obj_path(pr, "httpGet")) {
		const json_t *port = sw_obj_path(pr, "httpGet.port");
		char p[64];
		if (json_is_string(port))
			snprintf(p, sizeof(p), "%s", json_string_value(port));
		else
			snprintf(p, sizeof(p), "%lld", (long long)json_integer_value(port));
		snprintf(what, sizeof(what), "http-get %s://:%s%s",
		         !strcmp(sw_obj_str(pr, "httpGet.scheme") ?: "HTTP", "HTTPS") ? "https" : "http", p,
		         sw_obj_str(pr, "httpGet.path") ?: "");
	} else if (sw_obj_path(pr, "tcpSocket")) {
		snprintf(what, sizeof(what), "tcp-socket :%lld", (long long)sw_obj_int(pr, "tcpSocket.port", 0));
	} else if (sw_obj_path(pr, "exec")) {
		const json_t *a;
		size_t i;
		snprintf(what, sizeof(what), "exec [");
		json_array_foreach(sw_obj_path(pr, "exec.command"), i, a) {
			size_t l = strlen(what);
			snprintf(what + l, sizeof(what) - l, "%s%s", i ? " " : "", json_string_value(a) ?: "");
		}
		size_t l = strlen(what);
		snprintf(what + l, sizeof(what) - l, "]");
	} else {
		snprintf(what, sizeof(what), "unknown");
	}
	out(w, level, "%s:\t%s delay=%llds timeout=%llds period=%llds #success=%lld #failure=%lld\n", label, what,
	    (long long)sw_obj_int(pr, "initialDelaySeconds", 0), (long long)sw_obj_int(pr, "timeoutSeconds", 1),
	    (long long)sw_obj_int(pr, "periodSeconds", 10), (long long)sw_obj_int(pr, "successThreshold", 1),
	    (long long)sw_obj_int(pr, "failureThreshold", 3));
}

/* One container: pod (may be NULL for a template) gives the status and the
 * host ports slipway allocated. level is the level of its fields. */
static void container(sw_tabwriter *w, int level, const json_t *c, const json_t *pod)
{
	const char *name = sw_obj_str(c, "name") ?: "";
	const json_t *st = pod ? status_of(pod, name) : NULL;
	const json_t *p, *e;
	const char *key;
	json_t *v;
	size_t i;

	if (sw_obj_str(st, "containerID"))
		out(w, level, "Container ID:\t%s\n", sw_obj_str(st, "containerID"));
	out(w, level, "Image:\t%s\n", sw_obj_str(c, "image") ?: "");
	if (st)
		out(w, level, "Image ID:\t%s\n", sw_obj_str(st, "imageID") ?: "");
	const json_t *ports = json_object_get(c, "ports");
	if (!json_array_size(ports)) {
		/* slipway gives a port to a container that declares none */
		int64_t hp = 0;
		json_array_foreach(sw_obj_path(pod, "status.slipwayPorts"), i, p)
			if (!strcmp(sw_obj_str(p, "container") ?: "", name))
				hp = sw_obj_int(p, "hostPort", 0);
		out(w, level, "Port:\t<none>\n");
		if (hp)
			out(w, level, "Host Port:\t%lld/TCP\n", (long long)hp);
		else
			out(w, level, "Host Port:\t<none>\n");
	} else {
		sw_buf cp = SW_BUF_INIT(0), hp = SW_BUF_INIT(0);
		json_array_foreach(ports, i, p) {
			int64_t port = sw_obj_int(p, "containerPort", 0), host = sw_obj_int(p, "hostPort", 0);
			const char *proto = sw_obj_str(p, "protocol") ?: "TCP";
			const json_t *sp;
			size_t j;
			json_array_foreach(sw_obj_path(pod, "status.slipwayPorts"), j, sp)
				if (sw_obj_int(sp, "containerPort", -1) == port && !strcmp(sw_obj_str(sp, "container") ?: "", name))
					host = sw_obj_int(sp, "hostPort", 0);
			sw_buf_printf(&cp, NULL, "%s%lld/%s", i ? ", " : "", (long long)port, proto);
			if (sw_obj_str(p, "name"))
				sw_buf_printf(&cp, NULL, " (%s)", sw_obj_str(p, "name"));
			sw_buf_printf(&hp, NULL, "%s%lld/%s", i ? ", " : "", (long long)host, proto);
		}
		bool many = json_array_size(ports) > 1;
		out(w, level, "%s:\t%s\n", many ? "Ports" : "Port", cp.data);
		out(w, level, "%s:\t%s\n", many ? "Host Ports" : "Host Port", hp.data);
		sw_buf_release(&cp);
		sw_buf_release(&hp);
	}
	if (json_array_size(json_object_get(c, "command"))) {
		out(w, level, "Command:\n");
		json_array_foreach(json_object_get(c, "command"), i, p)
			out(w, level + 1, "%s\n", json_string_value(p) ?: "");
	}
	if (json_array_size(json_object_get(c, "args"))) {
		out(w, level, "Args:\n");
		json_array_foreach(json_object_get(c, "args"), i, p)
			out(w, level + 1, "%s\n", json_string_value(p) ?: "");
	}
	if (st) {
		container_state(w, level, "State", json_object_get(st, "state"));
		if (json_object_size(json_object_get(st, "lastState")))
			container_state(w, level, "Last State", json_object_get(st, "lastState"));
		out(w, level, "Ready:\t%s\n", sw_obj_bool(st, "ready", false) ? "True" : "False");
		out(w, level, "Restart Count:\t%lld\n", (long long)sw_obj_int(st, "restartCount", 0));
	}
	const json_t *lim = sw_obj_path(c, "resources.limits"), *req = sw_obj_path(c, "resources.requests");
	if (json_object_size(lim)) {
		out(w, level, "Limits:\n");
		json_object_foreach((json_t *)lim, key, v)
			out(w, level + 1, "%s:\t%s\n", key, json_string_value(v) ?: "");
	}
	if (json_object_size(req)) {
		out(w, level, "Requests:\n");
		json_object_foreach((json_t *)req, key, v)
			out(w, level + 1, "%s:\t%s\n", key, json_string_value(v) ?: "");
	}
	probe_line(w, level, "Liveness", json_object_get(c, "livenessProbe"));
	probe_line(w, level, "Readiness", json_object_get(c, "readinessProbe"));
	probe_line(w, level, "Startup", json_object_get(c, "startupProbe"));
	if (json_array_size(json_object_get(c, "envFrom"))) {
		out(w, level, "Environment Variables from:\n");
		json_array_foreach(json_object_get(c, "envFrom"), i, e) {
			if (sw_obj_str(e, "secretRef.name"))
				out(w, level + 1, "%s\tSecret\tOptional: %s\n", sw_obj_str(e, "secretRef.name"),
				    sw_obj_bool(e, "secretRef.optional", false) ? "true" : "false");
			if (sw_obj_str(e, "configMapRef.name"))
				out(w, level + 1, "%s\tConfigMap\tOptional: %s\n", sw_obj_str(e, "configMapRef.name"),
				    sw_obj_bool(e, "configMapRef.optional", false) ? "true" : "false");
		}
	}
	if (!json_array_size(json_object_get(c, "env"))) {
		out(w, level, "Environment:\t<none>\n");
	} else {
		out(w, level, "Environment:\n");
		json_array_foreach(json_object_get(c, "env"), i, e) {
			const char *n = sw_obj_str(e, "name") ?: "";
			if (json_object_get(e, "value"))
				out(w, level + 1, "%s:\t%s\n", n, sw_obj_str(e, "value") ?: "");
			else if (sw_obj_str(e, "valueFrom.secretKeyRef.name"))
				out(w, level + 1, "%s:\t<set to the key '%s' in secret '%s'>\tOptional: false\n", n,
				    sw_obj_str(e, "valueFrom.secretKeyRef.key") ?: "", sw_obj_str(e, "valueFrom.secretKeyRef.name"));
			else if (sw_obj_str(e, "valueFrom.configMapKeyRef.name"))
				out(w, level + 1, "%s:\t<set to the key '%s' of config map '%s'>\tOptional: false\n", n,
				    sw_obj_str(e, "valueFrom.configMapKeyRef.key") ?: "",
				    sw_obj_str(e, "valueFrom.configMapKeyRef.name"));
			else
				out(w, level + 1, "%s:\t\n", n);
		}
	}
	if (!json_array_size(json_object_get(c, "volumeMounts"))) {
		out(w, level, "Mounts:\t<none>\n");
	} else {
		out(w, level, "Mounts:\n");
		json_array_foreach(json_object_get(c, "volumeMounts"), i, e)
			out(w, level + 1, "%s from %s (%s)\n", sw_obj_str(e, "mountPath") ?: "", sw_obj_str(e, "name") ?: "",
			    sw_obj_bool(e, "readOnly", false) ? "ro" : "rw");
	}
}

static void volumes(sw_tabwriter *w, int level, const json_t *vols)
{
	const json_t *v;
	size_t i;

	if (!json_array_size(vols)) {
		out(w, level, "Volumes:\t<none>\n");
		return;
	}
	out(w, level, "Volumes:\n");
	json_array_foreach(vols, i, v) {
		out(w, level + 1, "%s:\n", sw_obj_str(v, "name") ?: "");
		if (json_object_get(v, "emptyDir")) {
			out(w, level + 2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n");
			out(w, level + 2, "Medium:\t%s\n", sw_obj_str(v, "emptyDir.medium") ?: "");
			out(w, level + 2, "SizeLimit:\t%s\n", sw_obj_str(v, "emptyDir.sizeLimit") ?: "<unset>");
		} else if (json_object_get(v, "secret")) {
			out(w, level + 2, "Type:\tSecret (a volume populated by a Secret)\n");
			out(w, level + 2, "SecretName:\t%s\n", sw_obj_str(v, "secret.secretName") ?: "");
			out(w, level + 2, "Optional:\t%s\n", sw_obj_bool(v, "secret.optional", false) ? "true" : "false");
		} else if (json_object_get(v, "configMap")) {
			out(w, level + 2, "Type:\tConfigMap (a volume populated by a ConfigMap)\n");
			out(w, level + 2, "Name:\t%s\n", sw_obj_str(v, "configMap.name") ?: "");
			out(w, level + 2, "Optional:\t%s\n", sw_obj_bool(v, "configMap.optional", false) ? "true" : "false");
		}
	}
}

static void conditions(sw_tabwriter *w, const json_t *o, bool reason)
{
	const json_t *c;
	size_t i;

	if (!json_array_size(sw_obj_path(o, "status.conditions")))
		return;
	if (reason) {
		out(w, 0, "Conditions:\n  Type\tStatus\tReason\n");
		out(w, 1, "----\t------\t------\n");
	} else {
		out(w, 0, "Conditions:\n  Type\tStatus\n");
	}
	json_array_foreach(sw_obj_path(o, "status.conditions"), i, c) {
		if (reason)
			out(w, 1, "%s \t%s\t%s\n", sw_obj_str(c, "type") ?: "", sw_obj_str(c, "status") ?: "",
			    sw_obj_str(c, "reason") ?: "");
		else
			out(w, 1, "%s \t%s \n", sw_obj_str(c, "type") ?: "", sw_obj_str(c, "status") ?: "");
	}
}

static void pod_template(sw_tabwriter *w, const json_t *tmpl)
{
	const json_t *c;
	size_t i;

	out(w, 0, "Pod Template:\n");
	map_lines(w, 1, "Labels", sw_obj_path(tmpl, "metadata.labels"), "=");
	if (json_object_size(sw_obj_path(tmpl, "metadata.annotations")))
		map_lines(w, 1, "Annotations", sw_obj_path(tmpl, "metadata.annotations"), ": ");
	out(w, 1, "Containers:\n");
	json_array_foreach(sw_obj_path(tmpl, "spec.containers"), i, c) {
		/* kubectl indents a template's containers one space less */
		sw_tabwriter_printf(w, "   %s:\n", sw_obj_str(c, "name") ?: "");
		container(w, 2, c, NULL);
	}
	volumes(w, 1, sw_obj_path(tmpl, "spec.volumes"));
	map_lines(w, 1, "Node-Selectors", sw_obj_path(tmpl, "spec.nodeSelector"), "=");
	out(w, 1, "Tolerations:\t<none>\n");
}

/* ---- kinds -------------------------------------------------------------------- */

static void describe_pod(sw_tabwriter *w, const json_t *o)
{
	char tb[64];
	const json_t *c, *ref = sw_obj_controller_ref(o);
	size_t i;

	out(w, 0, "Name:\t%s\n", sw_obj_name(o) ?: "");
	out(w, 0, "Namespace:\t%s\n", sw_obj_namespace(o) ?: "");
	if (sw_obj_str(o, "spec.serviceAccountName"))
		out(w, 0, "Service Account:\t%s\n", sw_obj_str(o, "spec.serviceAccountName"));
	if (sw_obj_str(o, "spec.nodeName"))
		out(w, 0, "Node:\t%s%s%s\n", sw_obj_str(o, "spec.nodeName"), sw_obj_str(o, "status.hostIP") ? "/" : "",
		    sw_obj_str(o, "status.hostIP") ?: "");
	else
		out(w, 0, "Node:\t<none>\n");
	if (sw_obj_str(o, "status.startTime"))
		out(w, 0, "Start Time:\t%s\n", when(sw_obj_str(o, "status.startTime"), tb));
	map_lines(w, 0, "Labels", sw_obj_path(o, "metadata.labels"), "=");
	map_lines(w, 0, "Annotations", sw_obj_path(o, "metadata.annotations"), ": ");
	if (sw_obj_deleting(o)) {
		char age[32];
		sw_age(sw_obj_str(o, "metadata.deletionTimestamp"), time(NULL), age);
		out(w, 0, "Status:\tTerminating (lasts %s)\n", age);
		out(w, 0, "Termination Grace Period:\t%llds\n",
		    (long long)sw_obj_int(o, "metadata.deletionGracePeriodSeconds", 30));
	} else {
		out(w, 0, "Status:\t%s\n", sw_obj_str(o, "status.phase") ?: "Pending");
	}
	if (sw_obj_str(o, "status.reason"))
		out(w, 0, "Reason:\t%s\n", sw_obj_str(o, "status.reason"));
	if (sw_obj_str(o, "status.message"))
		out(w, 0, "Message:\t%s\n", sw_obj_str(o, "status.message"));
	out(w, 0, "IP:\t%s\n", sw_obj_str(o, "status.podIP") ?: "");
	if (sw_obj_str(o, "status.podIP")) {
		out(w, 0, "IPs:\n");
		out(w, 1, "IP:\t%s\n", sw_obj_str(o, "status.podIP"));
	} else {
		out(w, 0, "IPs:\t<none>\n");
	}
	if (ref)
		out(w, 0, "Controlled By:\t%s/%s\n", sw_obj_str(ref, "kind") ?: "", sw_obj_str(ref, "name") ?: "");
	out(w, 0, "Containers:\n");
	json_array_foreach(sw_obj_path(o, "spec.containers"), i, c) {
		out(w, 1, "%s:\n", sw_obj_str(c, "name") ?: "");
		container(w, 2, c, o);
	}
	conditions(w, o, false);
	volumes(w, 0, sw_obj_path(o, "spec.volumes"));
	out(w, 0, "QoS Class:\t%s\n", sw_obj_str(o, "status.qosClass") ?: "BestEffort");
	map_lines(w, 0, "Node-Selectors", sw_obj_path(o, "spec.nodeSelector"), "=");
	out(w, 0, "Tolerations:\t<none>\n");
}

static const char *int_or_percent(const json_t *v, const char *def, char buf[32])
{
	if (json_is_string(v))
		snprintf(buf, 32, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, 32, "%lld", (long long)json_integer_value(v));
	else
		snprintf(buf, 32, "%s", def);
	return buf;
}

static void describe_deployment(sw_tabwriter *w, struct kube *k, const json_t *o)
{
	char tb[64], a[32], b[32];
	bool recreate = !strcmp(sw_obj_str(o, "spec.strategy.type") ?: "", "Recreate");
	cleanup_free char *sel = labels_selector(sw_obj_path(o, "spec.selector.matchLabels"));

	out(w, 0, "Name:\t%s\n", sw_obj_name(o) ?: "");
	out(w, 0, "Namespace:\t%s\n", sw_obj_namespace(o) ?: "");
	out(w, 0, "CreationTimestamp:\t%s\n", when(sw_obj_str(o, "metadata.creationTimestamp"), tb));
	map_lines(w, 0, "Labels", sw_obj_path(o, "metadata.labels"), "=");
	map_lines(w, 0, "Annotations", sw_obj_path(o, "metadata.annotations"), ": ");
	out(w, 0, "Selector:\t%s\n", sel);
	out(w, 0, "Replicas:\t%lld desired | %lld updated | %lld total | %lld available | %lld unavailable\n",
	    (long long)sw_obj_int(o, "spec.replicas", 1), (long long)sw_obj_int(o, "status.updatedReplicas", 0),
	    (long long)sw_obj_int(o, "status.replicas", 0), (long long)sw_obj_int(o, "status.availableReplicas", 0),
	    (long long)sw_obj_int(o, "status.unavailableReplicas", 0));
	out(w, 0, "StrategyType:\t%s\n", recreate ? "Recreate" : "RollingUpdate");
	out(w, 0, "MinReadySeconds:\t%lld\n", (long long)sw_obj_int(o, "spec.minReadySeconds", 0));
	if (!recreate)
		out(w, 0, "RollingUpdateStrategy:\t%s max unavailable, %s max surge\n",
		    int_or_percent(sw_obj_path(o, "spec.strategy.rollingUpdate.maxUnavailable"), "25%", a),
		    int_or_percent(sw_obj_path(o, "spec.strategy.rollingUpdate.maxSurge"), "25%", b));
	pod_template(w, sw_obj_path(o, "spec.template"));
	conditions(w, o, true);

	/* the replica sets it owns: the one at its revision is the new one */
	cleanup_json json_t *rss = NULL;
	sw_error *err = NULL;
	const char *rev = sw_obj_annotation(o, "deployment.kubernetes.io/revision");
	if (kube_list(k, sw_kind_lookup("replicasets"), sw_obj_namespace(o), NULL, &rss, NULL, &err) < 0) {
		sw_error_free(err);
		return;
	}
	sw_buf olds = SW_BUF_INIT(0);
	cleanup_free char *newrs = NULL;
	json_t *rs;
	size_t i;
	json_array_foreach(rss, i, rs) {
		if (!sw_obj_owned_by(rs, o))
			continue;
		const char *r = sw_obj_annotation(rs, "deployment.kubernetes.io/revision");
		cleanup_free char *line = sw_xasprintf("%s (%lld/%lld replicas created)", sw_obj_name(rs),
		                                       (long long)sw_obj_int(rs, "status.replicas", 0),
		                                       (long long)sw_obj_int(rs, "spec.replicas", 0));
		if (rev && r && !strcmp(r, rev) && !newrs)
			newrs = steal_pointer(&line);
		else if (sw_obj_int(rs, "spec.replicas", 0) > 0 || sw_obj_int(rs, "status.replicas", 0) > 0)
			sw_buf_printf(&olds, NULL, "%s%s", olds.len ? ", " : "", line);
	}
	out(w, 0, "OldReplicaSets:\t%s\n", olds.len ? olds.data : "<none>");
	out(w, 0, "NewReplicaSet:\t%s\n", newrs ? newrs : "<none>");
	sw_buf_release(&olds);
}

static void describe_replicaset(sw_tabwriter *w, const json_t *o)
{
	const json_t *ref = sw_obj_controller_ref(o);
	cleanup_free char *sel = labels_selector(sw_obj_path(o, "spec.selector.matchLabels"));
	int64_t ready = sw_obj_int(o, "status.readyReplicas", 0), cur = sw_obj_int(o, "status.replicas", 0);

	out(w, 0, "Name:\t%s\n", sw_obj_name(o) ?: "");
	out(w, 0, "Namespace:\t%s\n", sw_obj_namespace(o) ?: "");
	out(w, 0, "Selector:\t%s\n", sel);
	map_lines(w, 0, "Labels", sw_obj_path(o, "metadata.labels"), "=");
	map_lines(w, 0, "Annotations", sw_obj_path(o, "metadata.annotations"), ": ");
	if (ref)
		out(w, 0, "Controlled By:\t%s/%s\n", sw_obj_str(ref, "kind") ?: "", sw_obj_str(ref, "name") ?: "");
	out(w, 0, "Replicas:\t%lld current / %lld desired\n", (long long)cur, (long long)sw_obj_int(o, "spec.replicas", 1));
	out(w, 0, "Pods Status:\t%lld Running / %lld Waiting / 0 Succeeded / 0 Failed\n", (long long)ready,
	    (long long)(cur > ready ? cur - ready : 0));
	pod_template(w, sw_obj_path(o, "spec.template"));
	conditions(w, o, true);
}

static void describe_service(sw_tabwriter *w, struct kube *k, const json_t *o)
{
	const json_t *p;
	size_t i;
	const json_t *selmap = sw_obj_path(o, "spec.selector");
	cleanup_free char *sel = labels_selector(selmap);

	out(w, 0, "Name:\t%s\n", sw_obj_name(o) ?: "");
	out(w, 0, "Namespace:\t%s\n", sw_obj_namespace(o) ?: "");
	map_lines(w, 0, "Labels", sw_obj_path(o, "metadata.labels"), "=");
	map_lines(w, 0, "Annotations", sw_obj_path(o, "metadata.annotations"), ": ");
	out(w, 0, "Selector:\t%s\n", *sel ? sel : "<none>");
	out(w, 0, "Type:\t%s\n", sw_obj_str(o, "spec.type") ?: "ClusterIP");
	{
		sw_buf fam = SW_BUF_INIT(0), ips = SW_BUF_INIT(0);
		const json_t *x;
		size_t n;
		json_array_foreach(sw_obj_path(o, "spec.ipFamilies"), n, x)
			sw_buf_printf(&fam, NULL, "%s%s", n ? "," : "", json_string_value(x) ?: "");
		json_array_foreach(sw_obj_path(o, "spec.clusterIPs"), n, x)
			sw_buf_printf(&ips, NULL, "%s%s", n ? "," : "", json_string_value(x) ?: "");
		if (sw_obj_str(o, "spec.ipFamilyPolicy"))
			out(w, 0, "IP Family Policy:\t%s\n", sw_obj_str(o, "spec.ipFamilyPolicy"));
		out(w, 0, "IP Families:\t%s\n", fam.len ? fam.data : "<none>");
		out(w, 0, "IP:\t%s\n", sw_obj_str(o, "spec.clusterIP") ?: "<none>");
		out(w, 0, "IPs:\t%s\n", ips.len ? ips.data : sw_obj_str(o, "spec.clusterIP") ?: "<none>");
		sw_buf_release(&fam);
		sw_buf_release(&ips);
	}

	cleanup_json json_t *ep = NULL;
	sw_error *err = NULL;
	if (kube_get(k, sw_kind_lookup("endpoints"), sw_obj_namespace(o), sw_obj_name(o), &ep, &err) < 0)
		sw_error_clear(&err);
	json_array_foreach(sw_obj_path(o, "spec.ports"), i, p) {
		const char *pname = sw_obj_str(p, "name") ?: "<unset>";
		const char *proto = sw_obj_str(p, "protocol") ?: "TCP";
		const json_t *tp = json_object_get(p, "targetPort");
		out(w, 0, "Port:\t%s\t%lld/%s\n", pname, (long long)sw_obj_int(p, "port", 0), proto);
		if (json_is_string(tp))
			out(w, 0, "TargetPort:\t%s/%s\n", json_string_value(tp), proto);
		else
			out(w, 0, "TargetPort:\t%lld/%s\n", (long long)sw_obj_int(p, "targetPort", sw_obj_int(p, "port", 0)),
			    proto);
		if (sw_obj_int(p, "nodePort", 0))
			out(w, 0, "NodePort:\t%s\t%lld/%s\n", pname, (long long)sw_obj_int(p, "nodePort", 0), proto);
		/* the endpoints of this port */
		sw_buf eps = SW_BUF_INIT(0);
		const json_t *sub, *a, *ep_port;
		size_t j, m, q;
		json_array_foreach(json_object_get(ep, "subsets"), j, sub) {
			json_array_foreach(json_object_get(sub, "ports"), q, ep_port) {
				const char *en = sw_obj_str(ep_port, "name");
				if (json_array_size(sw_obj_path(o, "spec.ports")) > 1 && (!en || strcmp(en, pname)))
					continue;
				json_array_foreach(json_object_get(sub, "addresses"), m, a)
					sw_buf_printf(&eps, NULL, "%s%s:%lld", eps.len ? "," : "", sw_obj_str(a, "ip") ?: "",
					              (long long)sw_obj_int(ep_port, "port", 0));
			}
		}
		out(w, 0, "Endpoints:\t%s\n", eps.len ? eps.data : "<none>");
		sw_buf_release(&eps);
	}
	out(w, 0, "Session Affinity:\t%s\n", sw_obj_str(o, "spec.sessionAffinity") ?: "None");
}

static void describe_configmap(sw_tabwriter *w, const json_t *o)
{
	const char *key;
	json_t *v;

	out(w, 0, "Name:\t%s\n", sw_obj_name(o) ?: "");
	out(w, 0, "Namespace:\t%s\n", sw_obj_namespace(o) ?: "");
	map_lines(w, 0, "Labels", sw_obj_path(o, "metadata.labels"), "=");
	map_lines(w, 0, "Annotations", sw_obj_path(o, "metadata.annotations"), ": ");
	out(w, 0, "\nData\n====\n");
	json_object_foreach(json_object_get(o, "data"), key, v)
		out(w, 0, "%s:\n----\n%s\n\n", key, json_string_value(v) ?: "");
	out(w, 0, "\nBinaryData\n====\n");
	json_object_foreach(json_object_get(o, "binaryData"), key, v)
		out(w, 0, "%s: %zu bytes\n", key, (strlen(json_string_value(v) ?: "") * 3) / 4);
	out(w, 0, "\n");
}

static void describe_secret(sw_tabwriter *w, const json_t *o)
{
	const char *key;
	json_t *v;

	out(w, 0, "Name:\t%s\n", sw_obj_name(o) ?: "");
	out(w, 0, "Namespace:\t%s\n", sw_obj_namespace(o) ?: "");
	map_lines(w, 0, "Labels", sw_obj_path(o, "metadata.labels"), "=");
	map_lines(w, 0, "Annotations", sw_obj_path(o, "metadata.annotations"), ": ");
	out(w, 0, "\nType:\t%s\n\nData\n====\n", sw_obj_str(o, "type") ?: "Opaque");
	/* sizes, never values */
	json_object_foreach(json_object_get(o, "data"), key, v) {
		const char *b64 = json_string_value(v) ?: "";
		size_t l = strlen(b64), n = l / 4 * 3;
		if (l >= 1 && b64[l - 1] == '=')
			n--;
		if (l >= 2 && b64[l - 2] == '=')
			n--;
		out(w, 0, "%s:\t%zu bytes\n", key, n);
	}
}

static void describe_namespace(sw_tabwriter *w, const json_t *o)
{
	out(w, 0, "Name:\t%s\n", sw_obj_name(o) ?: "");
	map_lines(w, 0, "Labels", sw_obj_path(o, "metadata.labels"), "=");
	map_lines(w, 0, "Annotations", sw_obj_path(o, "metadata.annotations"), ": ");
	out(w, 0, "Status:\t%s\n", sw_obj_str(o, "status.phase") ?: "Active");
}

static void describe_generic(sw_tabwriter *w, const json_t *o, bool ns)
{
	cleanup_json json_t *rest = json_deep_copy(o);
	cleanup_free char *y = NULL;
	sw_error *err = NULL;
	char tb[64];

	out(w, 0, "Name:\t%s\n", sw_obj_name(o) ?: "");
	if (ns)
		out(w, 0, "Namespace:\t%s\n", sw_obj_namespace(o) ?: "");
	out(w, 0, "CreationTimestamp:\t%s\n", when(sw_obj_str(o, "metadata.creationTimestamp"), tb));
	map_lines(w, 0, "Labels", sw_obj_path(o, "metadata.labels"), "=");
	map_lines(w, 0, "Annotations", sw_obj_path(o, "metadata.annotations"), ": ");
	json_object_del(rest, "metadata");
	json_object_del(rest, "apiVersion");
	json_object_del(rest, "kind");
	if (!json_object_size(rest))
		return;
	if (sw_print_yaml(&y, rest, &err) < 0) {
		sw_error_free(err);
		return;
	}
	/* YAML holds no tabs that matter here, but keep them out of the
	 * tabwriter's way */
	for (char *p = y; *p; p++)
		if (*p == '\t')
			*p = ' ';
	sw_tabwriter_printf(w, "%s", y);
}

static int describe_one(struct kube *k, const sw_kind *kind, const char *name)
{
	cleanup_json json_t *o = NULL;
	sw_error *err = NULL;
	sw_tabwriter *w;

	if (kube_get(k, kind, k->ns, name, &o, &err) < 0)
		return kube_fail(err);
	if (!json_object_get(o, "kind"))
		json_object_set_new(o, "kind", json_string(kind->kind));
	w = sw_tabwriter_new(2);
	if (!strcmp(kind->kind, "Pod"))
		describe_pod(w, o);
	else if (!strcmp(kind->kind, "Deployment"))
		describe_deployment(w, k, o);
	else if (!strcmp(kind->kind, "ReplicaSet"))
		describe_replicaset(w, o);
	else if (!strcmp(kind->kind, "Service"))
		describe_service(w, k, o);
	else if (!strcmp(kind->kind, "ConfigMap"))
		describe_configmap(w, o);
	else if (!strcmp(kind->kind, "Secret"))
		describe_secret(w, o);
	else if (!strcmp(kind->kind, "Namespace"))
		describe_namespace(w, o);
	else
		describe_generic(w, o, kind->namespaced);
	/* kubectl shows no events for these */
	if (strcmp(kind->kind, "Event") && strcmp(kind->kind, "Namespace") && strcmp(kind->kind, "Secret"))
		print_events(w, k, o);
	sw_tabwriter_flush(w, stdout);
	sw_tabwriter_free(w);
	return EXIT_OK;
}

int cmd_describe(int argc, char **argv, const struct cli_command *self)
{
	static const struct option opts[] = {
		{ "namespace", required_argument, NULL, 'n' },
		{ "state-dir", required_argument, NULL, KOPT_STATE_DIR },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state_dir = NULL, *ns = NULL;
	const sw_kind *kind = NULL;
	struct kube k;
	sw_error *err = NULL;
	int c, rc = EXIT_OK;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': ns = optarg; break;
		case KOPT_STATE_DIR: state_dir = optarg; break;
		case 'h': return cli_help(self);
		default: return cli_usage_error(self, "describe: unknown or incomplete flag '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error(self, "describe: which KIND and NAME?");
	bool typed = strchr(argv[optind], '/') != NULL;
	if (!typed && optind + 1 >= argc)
		return cli_usage_error(self, "describe: which %s? (slipway describe KIND NAME)", argv[optind]);
	if (!typed && kube_kind(&kind, argv[optind], &err) < 0)
		return kube_fail(err);
	if (kube_open(&k, state_dir, ns, &err) < 0)
		return kube_fail(err);
	for (int i = typed ? optind : optind + 1, first = 1; i < argc; i++, first = 0) {
		const char *name = argv[i];
		if (typed && kube_kind_name(&kind, &name, argv[i], NULL, &err) < 0) {
			rc = kube_fail(err);
			err = NULL;
			continue;
		}
		if (!first)
			printf("\n\n");
		if (describe_one(&k, kind, name) != EXIT_OK)
			rc = EXIT_FAIL;
	}
	kube_close(&k);
	return rc;
}
