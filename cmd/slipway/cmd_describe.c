/*
 * cmd_describe.c - `slipway describe KIND NAME`: kubectl's describe
 * sections for pods, deployments, replica sets and services, a generic
 * view (metadata, then the rest as YAML) for other kinds, and the recent
 * events about the object.
 */
#include <getopt.h>
#include <stdarg.h>
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

static void kv(int indent, int width, const char *key, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void kv(int indent, int width, const char *key, const char *fmt, ...)
{
	va_list ap;
	int n = printf("%*s%s:", indent, "", key);

	printf("%*s", width - n > 1 ? width - n : 1, "");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
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

/* Labels or annotations, one per line, aligned under the first. */
static void map_lines(int width, const char *key, const json_t *m, const char *sep)
{
	const char *k;
	json_t *v;
	bool first = true;
	size_t n = json_object_size(m);
	const char **keys = sw_xcalloc(n + 1, sizeof(*keys));
	size_t i = 0;

	json_object_foreach((json_t *)m, k, v)
		if (strcmp(k, "kubectl.kubernetes.io/last-applied-configuration")) /* kubectl hides it */
			keys[i++] = k;
	n = i;
	for (size_t a = 1; a < n; a++)
		for (size_t b = a; b > 0 && strcmp(keys[b - 1], keys[b]) > 0; b--) {
			const char *t = keys[b];
			keys[b] = keys[b - 1];
			keys[b - 1] = t;
		}
	if (!n)
		kv(0, width, key, "<none>");
	for (i = 0; i < n; i++) {
		const char *val = json_string_value(json_object_get(m, keys[i]));
		if (first)
			kv(0, width, key, "%s%s%s", keys[i], sep, val ? val : "");
		else
			printf("%*s%s%s%s\n", width, "", keys[i], sep, val ? val : "");
		first = false;
	}
	free(keys);
}

static void header(const json_t *o, int width, bool ns)
{
	char tb[64];

	kv(0, width, "Name", "%s", sw_obj_name(o) ?: "");
	if (ns)
		kv(0, width, "Namespace", "%s", sw_obj_namespace(o) ?: "");
	kv(0, width, "CreationTimestamp", "%s", when(sw_obj_str(o, "metadata.creationTimestamp"), tb));
	map_lines(width, "Labels", sw_obj_path(o, "metadata.labels"), "=");
	map_lines(width, "Annotations", sw_obj_path(o, "metadata.annotations"), ": ");
}

static void print_events(struct kube *k, const json_t *o)
{
	cleanup_json json_t *evs = NULL;
	sw_error *err = NULL;
	time_t now = time(NULL);

	if (kube_events_for(k, sw_obj_namespace(o), sw_obj_uid(o), &evs, &err) < 0) {
		sw_error_free(err);
		return;
	}
	if (!json_array_size(evs)) {
		printf("Events:%*s<none>\n", 15, "");
		return;
	}
	cleanup_json json_t *rows = json_array();
	json_array_append_new(rows, json_pack("[s,s,s,s,s]", "Type", "Reason", "Age", "From", "Message"));
	json_array_append_new(rows, json_pack("[s,s,s,s,s]", "----", "------", "----", "----", "-------"));
	json_t *e;
	size_t i;
	json_array_foreach(evs, i, e) {
		char age[32], first[32];
		const char *last = sw_obj_str(e, "lastTimestamp") ?: sw_obj_str(e, "firstTimestamp");
		int64_t count = sw_obj_int(e, "count", 1);
		sw_age(last, now, age);
		cleanup_free char *agecol = NULL;
		if (count > 1) {
			sw_age(sw_obj_str(e, "firstTimestamp"), now, first);
			agecol = sw_xasprintf("%s (x%lld over %s)", age, (long long)count, first);
		} else {
			agecol = sw_xstrdup(age);
		}
		json_array_append_new(rows, json_pack("[s,s,s,s,s]", sw_obj_str(e, "type") ?: "",
		                                       sw_obj_str(e, "reason") ?: "", agecol,
		                                       sw_obj_str(e, "source.component") ?: "",
		                                       sw_obj_str(e, "message") ?: ""));
	}
	size_t w[5] = { 0 };
	json_t *r;
	json_array_foreach(rows, i, r)
		for (size_t c = 0; c < 5; c++) {
			size_t l = strlen(json_string_value(json_array_get(r, c)));
			if (l > w[c])
				w[c] = l;
		}
	printf("Events:\n");
	json_array_foreach(rows, i, r) {
		printf("  ");
		for (size_t c = 0; c < 5; c++) {
			const char *s = json_string_value(json_array_get(r, c));
			if (c == 4)
				printf("%s\n", s);
			else
				printf("%-*s  ", (int)w[c], s);
		}
	}
}

static const char *state_name(const json_t *state)
{
	if (json_object_get(state, "running"))
		return "Running";
	if (json_object_get(state, "terminated"))
		return "Terminated";
	if (json_object_get(state, "waiting"))
		return "Waiting";
	return NULL;
}

static void container_state(const char *label, const json_t *state)
{
	const char *name = state_name(state);
	char tb[64];

	if (!name)
		return;
	kv(4, 20, label, "%s", name);
	if (!strcmp(name, "Running")) {
		kv(6, 20, "Started", "%s", when(sw_obj_str(state, "running.startedAt"), tb));
	} else if (!strcmp(name, "Waiting")) {
		if (sw_obj_str(state, "waiting.reason"))
			kv(6, 20, "Reason", "%s", sw_obj_str(state, "waiting.reason"));
		if (sw_obj_str(state, "waiting.message"))
			kv(6, 20, "Message", "%s", sw_obj_str(state, "waiting.message"));
	} else {
		const json_t *t = json_object_get(state, "terminated");
		if (sw_obj_str(t, "reason"))
			kv(6, 20, "Reason", "%s", sw_obj_str(t, "reason"));
		if (sw_obj_str(t, "message"))
			kv(6, 20, "Message", "%s", sw_obj_str(t, "message"));
		kv(6, 20, "Exit Code", "%lld", (long long)sw_obj_int(t, "exitCode", 0));
		if (sw_obj_int(t, "signal", 0))
			kv(6, 20, "Signal", "%lld", (long long)sw_obj_int(t, "signal", 0));
		kv(6, 20, "Started", "%s", when(sw_obj_str(t, "startedAt"), tb));
		kv(6, 20, "Finished", "%s", when(sw_obj_str(t, "finishedAt"), tb));
	}
}

static void container_common(const json_t *c, const json_t *pod)
{
	const json_t *p, *e;
	size_t i;

	kv(4, 20, "Image", "%s", sw_obj_str(c, "image") ?: "");
	if (!json_array_size(json_object_get(c, "ports"))) {
		/* slipway gives a port to a container that declares none */
		const json_t *sp;
		size_t j;
		int64_t hp = 0;
		json_array_foreach(sw_obj_path(pod, "status.slipwayPorts"), j, sp)
			if (!strcmp(sw_obj_str(sp, "container") ?: "", sw_obj_str(c, "name") ?: ""))
				hp = sw_obj_int(sp, "hostPort", 0);
		kv(4, 20, "Port", "<none>");
		if (hp)
			kv(4, 20, "Host Port", "%lld/TCP", (long long)hp);
		else
			kv(4, 20, "Host Port", "<none>");
	}
	json_array_foreach(json_object_get(c, "ports"), i, p) {
		int64_t cp = sw_obj_int(p, "containerPort", 0), hp = 0;
		const json_t *sp;
		size_t j;
		json_array_foreach(sw_obj_path(pod, "status.slipwayPorts"), j, sp)
			if (sw_obj_int(sp, "containerPort", -1) == cp &&
			    !strcmp(sw_obj_str(sp, "container") ?: "", sw_obj_str(c, "name") ?: ""))
				hp = sw_obj_int(sp, "hostPort", 0);
		if (sw_obj_str(p, "name"))
			kv(4, 20, "Port", "%lld/%s (%s)", (long long)cp, sw_obj_str(p, "protocol") ?: "TCP",
			   sw_obj_str(p, "name"));
		else
			kv(4, 20, "Port", "%lld/%s", (long long)cp, sw_obj_str(p, "protocol") ?: "TCP");
		kv(4, 20, "Host Port", "%lld/%s", (long long)(hp ? hp : sw_obj_int(p, "hostPort", 0)),
		   sw_obj_str(p, "protocol") ?: "TCP");
	}
	if (json_array_size(json_object_get(c, "command"))) {
		printf("    Command:\n");
		json_array_foreach(json_object_get(c, "command"), i, p)
			printf("      %s\n", json_string_value(p) ?: "");
	}
	if (json_array_size(json_object_get(c, "args"))) {
		printf("    Args:\n");
		json_array_foreach(json_object_get(c, "args"), i, p)
			printf("      %s\n", json_string_value(p) ?: "");
	}
	const json_t *lim = sw_obj_path(c, "resources.limits"), *req = sw_obj_path(c, "resources.requests");
	const char *key;
	json_t *v;
	if (json_object_size(lim)) {
		printf("    Limits:\n");
		json_object_foreach((json_t *)lim, key, v)
			kv(6, 20, key, "%s", json_string_value(v) ?: "");
	}
	if (json_object_size(req)) {
		printf("    Requests:\n");
		json_object_foreach((json_t *)req, key, v)
			kv(6, 20, key, "%s", json_string_value(v) ?: "");
	}
	static const char *const probes[] = { "livenessProbe", "Liveness", "readinessProbe", "Readiness",
		                              "startupProbe", "Startup", NULL };
	for (size_t k = 0; probes[k]; k += 2) {
		const json_t *pr = json_object_get(c, probes[k]);
		char what[256] = "";
		if (!pr)
			continue;
		if (sw_obj_path(pr, "httpGet"))
			snprintf(what, sizeof(what), "http-get http://:%s%s", json_is_string(sw_obj_path(pr, "httpGet.port")) ?
			         sw_obj_str(pr, "httpGet.port") : "", sw_obj_str(pr, "httpGet.path") ?: "/");
		if (sw_obj_path(pr, "httpGet") && json_is_integer(sw_obj_path(pr, "httpGet.port")))
			snprintf(what, sizeof(what), "http-get http://:%lld%s", (long long)sw_obj_int(pr, "httpGet.port", 0),
			         sw_obj_str(pr, "httpGet.path") ?: "/");
		else if (sw_obj_path(pr, "tcpSocket"))
			snprintf(what, sizeof(what), "tcp-socket :%lld", (long long)sw_obj_int(pr, "tcpSocket.port", 0));
		else if (sw_obj_path(pr, "exec"))
			snprintf(what, sizeof(what), "exec");
		kv(4, 20, probes[k + 1], "%s delay=%llds timeout=%llds period=%llds #success=%lld #failure=%lld", what,
		   (long long)sw_obj_int(pr, "initialDelaySeconds", 0), (long long)sw_obj_int(pr, "timeoutSeconds", 1),
		   (long long)sw_obj_int(pr, "periodSeconds", 10), (long long)sw_obj_int(pr, "successThreshold", 1),
		   (long long)sw_obj_int(pr, "failureThreshold", 3));
	}
	if (!json_array_size(json_object_get(c, "env")) && !json_array_size(json_object_get(c, "envFrom"))) {
		kv(4, 20, "Environment", "<none>");
	} else {
		if (json_array_size(json_object_get(c, "envFrom")))
			printf("    Environment Variables from:\n");
		json_array_foreach(json_object_get(c, "envFrom"), i, e) {
			if (sw_obj_str(e, "secretRef.name"))
				printf("      %s  Secret  Optional: false\n", sw_obj_str(e, "secretRef.name"));
			if (sw_obj_str(e, "configMapRef.name"))
				printf("      %s  ConfigMap  Optional: false\n", sw_obj_str(e, "configMapRef.name"));
		}
		printf("    Environment:\n");
		json_array_foreach(json_object_get(c, "env"), i, e) {
			if (json_object_get(e, "value"))
				printf("      %s:  %s\n", sw_obj_str(e, "name") ?: "", sw_obj_str(e, "value") ?: "");
			else if (sw_obj_str(e, "valueFrom.secretKeyRef.name"))
				printf("      %s:  <set to the key '%s' in secret '%s'>\n", sw_obj_str(e, "name") ?: "",
				       sw_obj_str(e, "valueFrom.secretKeyRef.key") ?: "", sw_obj_str(e, "valueFrom.secretKeyRef.name"));
			else if (sw_obj_str(e, "valueFrom.configMapKeyRef.name"))
				printf("      %s:  <set to the key '%s' of config map '%s'>\n", sw_obj_str(e, "name") ?: "",
				       sw_obj_str(e, "valueFrom.configMapKeyRef.key") ?: "",
				       sw_obj_str(e, "valueFrom.configMapKeyRef.name"));
			else
				printf("      %s:  <unknown source>\n", sw_obj_str(e, "name") ?: "");
		}
	}
	if (!json_array_size(json_object_get(c, "volumeMounts")))
		kv(4, 20, "Mounts", "<none>");
	else {
		printf("    Mounts:\n");
		json_array_foreach(json_object_get(c, "volumeMounts"), i, e)
			printf("      %s from %s (%s)\n", sw_obj_str(e, "mountPath") ?: "", sw_obj_str(e, "name") ?: "",
			       sw_obj_bool(e, "readOnly", false) ? "ro" : "rw");
	}
}

static const json_t *status_of(const json_t *pod, const char *container)
{
	const json_t *s;
	size_t i;

	json_array_foreach(sw_obj_path(pod, "status.containerStatuses"), i, s)
		if (!strcmp(sw_obj_str(s, "name") ?: "", container))
			return s;
	return NULL;
}

static void conditions_table(const json_t *o, bool reason)
{
	const json_t *c;
	size_t i;

	if (!json_array_size(sw_obj_path(o, "status.conditions")))
		return;
	printf("Conditions:\n");
	if (reason) {
		printf("  %-15s%-8s%s\n  %-15s%-8s%s\n", "Type", "Status", "Reason", "----", "------", "------");
		json_array_foreach(sw_obj_path(o, "status.conditions"), i, c)
			printf("  %-15s%-8s%s\n", sw_obj_str(c, "type") ?: "", sw_obj_str(c, "status") ?: "",
			       sw_obj_str(c, "reason") ?: "");
	} else {
		printf("  %-18s%s\n", "Type", "Status");
		json_array_foreach(sw_obj_path(o, "status.conditions"), i, c)
			printf("  %-18s%s\n", sw_obj_str(c, "type") ?: "", sw_obj_str(c, "status") ?: "");
	}
}

static void describe_pod(const json_t *o)
{
	char tb[64];
	const json_t *c, *ref = sw_obj_controller_ref(o);
	size_t i;
	cleanup_free char *status = sw_pod_status(o);

	kv(0, 18, "Name", "%s", sw_obj_name(o) ?: "");
	kv(0, 18, "Namespace", "%s", sw_obj_namespace(o) ?: "");
	kv(0, 18, "Node", "%s%s%s", sw_obj_str(o, "spec.nodeName") ?: "<none>", sw_obj_str(o, "status.hostIP") ? "/" : "",
	   sw_obj_str(o, "status.hostIP") ?: "");
	kv(0, 18, "Start Time", "%s", when(sw_obj_str(o, "status.startTime"), tb));
	map_lines(18, "Labels", sw_obj_path(o, "metadata.labels"), "=");
	map_lines(18, "Annotations", sw_obj_path(o, "metadata.annotations"), ": ");
	kv(0, 18, "Status", "%s", sw_obj_deleting(o) ? "Terminating" : sw_obj_str(o, "status.phase") ?: "Pending");
	if (sw_obj_deleting(o))
		kv(0, 18, "Termination Grace Period", "%llds",
		   (long long)sw_obj_int(o, "metadata.deletionGracePeriodSeconds", 30));
	if (sw_obj_str(o, "status.reason"))
		kv(0, 18, "Reason", "%s", sw_obj_str(o, "status.reason"));
	if (sw_obj_str(o, "status.message"))
		kv(0, 18, "Message", "%s", sw_obj_str(o, "status.message"));
	kv(0, 18, "IP", "%s", sw_obj_str(o, "status.podIP") ?: "");
	if (ref)
		kv(0, 16, "Controlled By", "%s/%s", sw_obj_str(ref, "kind") ?: "", sw_obj_str(ref, "name") ?: "");
	printf("Containers:\n");
	json_array_foreach(sw_obj_path(o, "spec.containers"), i, c) {
		const char *name = sw_obj_str(c, "name") ?: "";
		const json_t *st = status_of(o, name);
		printf("  %s:\n", name);
		if (sw_obj_str(st, "containerID"))
			kv(4, 20, "Container ID", "%s", sw_obj_str(st, "containerID"));
		container_common(c, o);
		if (st) {
			container_state("State", json_object_get(st, "state"));
			container_state("Last State", json_object_get(st, "lastState"));
			kv(4, 20, "Ready", "%s", sw_obj_bool(st, "ready", false) ? "True" : "False");
			kv(4, 20, "Restart Count", "%lld", (long long)sw_obj_int(st, "restartCount", 0));
		}
	}
	conditions_table(o, false);
	const json_t *vols = sw_obj_path(o, "spec.volumes");
	if (!json_array_size(vols)) {
		kv(0, 20, "Volumes", "<none>");
	} else {
		printf("Volumes:\n");
		json_array_foreach(vols, i, c) {
			printf("  %s:\n", sw_obj_str(c, "name") ?: "");
			if (json_object_get(c, "emptyDir"))
				kv(4, 16, "Type", "EmptyDir (a temporary directory that shares a pod's lifetime)");
			else if (json_object_get(c, "secret")) {
				kv(4, 16, "Type", "Secret (a volume populated by a Secret)");
				kv(4, 16, "SecretName", "%s", sw_obj_str(c, "secret.secretName") ?: "");
			} else if (json_object_get(c, "configMap")) {
				kv(4, 16, "Type", "ConfigMap (a volume populated by a ConfigMap)");
				kv(4, 16, "Name", "%s", sw_obj_str(c, "configMap.name") ?: "");
			}
		}
	}
	kv(0, 18, "QoS Class", "%s", sw_obj_str(o, "status.qosClass") ?: "BestEffort");
}

static void template_section(const json_t *tmpl)
{
	const json_t *c;
	size_t i;

	printf("Pod Template:\n");
	const json_t *labels = sw_obj_path(tmpl, "metadata.labels");
	const char *key;
	json_t *v;
	bool first = true;
	if (!json_object_size(labels))
		printf("  Labels:  <none>\n");
	json_object_foreach((json_t *)labels, key, v) {
		printf(first ? "  Labels:  %s=%s\n" : "           %s=%s\n", key, json_string_value(v) ?: "");
		first = false;
	}
	first = true;
	json_object_foreach(sw_obj_path(tmpl, "metadata.annotations"), key, v) {
		printf(first ? "  Annotations:  %s: %s\n" : "                %s: %s\n", key, json_string_value(v) ?: "");
		first = false;
	}
	printf("  Containers:\n");
	json_array_foreach(sw_obj_path(tmpl, "spec.containers"), i, c) {
		printf("   %s:\n", sw_obj_str(c, "name") ?: "");
		container_common(c, NULL);
	}
	const json_t *vols = sw_obj_path(tmpl, "spec.volumes");
	if (!json_array_size(vols)) {
		printf("  Volumes:         <none>\n");
	} else {
		printf("  Volumes:\n");
		json_array_foreach(vols, i, c)
			printf("   %s\n", sw_obj_str(c, "name") ?: "");
	}
	printf("  Node-Selectors:  <none>\n  Tolerations:     <none>\n");
}

static int describe_deployment(struct kube *k, const json_t *o)
{
	char sel[1024] = "";
	const char *key;
	json_t *v;
	bool recreate = !strcmp(sw_obj_str(o, "spec.strategy.type") ?: "", "Recreate");

	header(o, 24, true);
	json_object_foreach(sw_obj_path(o, "spec.selector.matchLabels"), key, v) {
		size_t l = strlen(sel);
		snprintf(sel + l, sizeof(sel) - l, "%s%s=%s", l ? "," : "", key, json_string_value(v) ?: "");
	}
	kv(0, 24, "Selector", "%s", sel);
	int64_t total = sw_obj_int(o, "status.replicas", 0), avail = sw_obj_int(o, "status.availableReplicas", 0);
	kv(0, 24, "Replicas", "%lld desired | %lld updated | %lld total | %lld available | %lld unavailable",
	   (long long)sw_obj_int(o, "spec.replicas", 1), (long long)sw_obj_int(o, "status.updatedReplicas", 0),
	   (long long)total, (long long)avail, (long long)sw_obj_int(o, "status.unavailableReplicas", 0));
	kv(0, 24, "StrategyType", "%s", recreate ? "Recreate" : "RollingUpdate");
	kv(0, 24, "MinReadySeconds", "%lld", (long long)sw_obj_int(o, "spec.minReadySeconds", 0));
	if (!recreate) {
		const json_t *mu = sw_obj_path(o, "spec.strategy.rollingUpdate.maxUnavailable");
		const json_t *ms = sw_obj_path(o, "spec.strategy.rollingUpdate.maxSurge");
		char a[32] = "25%", b[32] = "25%";
		if (json_is_string(mu))
			snprintf(a, sizeof(a), "%s", json_string_value(mu));
		else if (json_is_integer(mu))
			snprintf(a, sizeof(a), "%lld", (long long)json_integer_value(mu));
		if (json_is_string(ms))
			snprintf(b, sizeof(b), "%s", json_string_value(ms));
		else if (json_is_integer(ms))
			snprintf(b, sizeof(b), "%lld", (long long)json_integer_value(ms));
		kv(0, 24, "RollingUpdateStrategy", "%s max unavailable, %s max surge", a, b);
	}
	if (sw_obj_bool(o, "spec.paused", false))
		kv(0, 24, "Paused", "true");
	template_section(sw_obj_path(o, "spec.template"));
	conditions_table(o, true);

	/* replica sets owned by the deployment: the one with the current
	 * revision is the new one */
	cleanup_json json_t *rss = NULL;
	sw_error *err = NULL;
	const char *rev = sw_obj_annotation(o, "deployment.kubernetes.io/revision");
	if (kube_list(k, sw_kind_lookup("replicasets"), sw_obj_namespace(o), NULL, &rss, NULL, &err) == 0) {
		cleanup_free char *olds = NULL;
		cleanup_free char *newrs = NULL;
		json_t *rs;
		size_t i;
		json_array_foreach(rss, i, rs) {
			if (!sw_obj_owned_by(rs, o))
				continue;
			const char *r = sw_obj_annotation(rs, "deployment.kubernetes.io/revision");
			char *line = sw_xasprintf("%s (%lld/%lld replicas created)", sw_obj_name(rs),
			                          (long long)sw_obj_int(rs, "status.replicas", 0),
			                          (long long)sw_obj_int(rs, "spec.replicas", 0));
			if (rev && r && !strcmp(r, rev) && !newrs) {
				newrs = line;
			} else if (sw_obj_int(rs, "spec.replicas", 0) > 0 || sw_obj_int(rs, "status.replicas", 0) > 0) {
				char *n = sw_xasprintf("%s%s%s", olds ? olds : "", olds ? ", " : "", line);
				free(olds);
				olds = n;
				free(line);
			} else {
				free(line);
			}
		}
		kv(0, 17, "OldReplicaSets", "%s", olds ? olds : "<none>");
		kv(0, 17, "NewReplicaSet", "%s", newrs ? newrs : "<none>");
	} else {
		sw_error_free(err);
	}
	return 0;
}

static void describe_replicaset(const json_t *o)
{
	const json_t *ref = sw_obj_controller_ref(o);
	char sel[1024] = "";
	const char *key;
	json_t *v;

	kv(0, 14, "Name", "%s", sw_obj_name(o) ?: "");
	kv(0, 14, "Namespace", "%s", sw_obj_namespace(o) ?: "");
	json_object_foreach(sw_obj_path(o, "spec.selector.matchLabels"), key, v) {
		size_t l = strlen(sel);
		snprintf(sel + l, sizeof(sel) - l, "%s%s=%s", l ? "," : "", key, json_string_value(v) ?: "");
	}
	kv(0, 14, "Selector", "%s", sel);
	map_lines(14, "Labels", sw_obj_path(o, "metadata.labels"), "=");
	map_lines(14, "Annotations", sw_obj_path(o, "metadata.annotations"), ": ");
	if (ref)
		kv(0, 14, "Controlled By", "%s/%s", sw_obj_str(ref, "kind") ?: "", sw_obj_str(ref, "name") ?: "");
	kv(0, 14, "Replicas", "%lld current / %lld desired", (long long)sw_obj_int(o, "status.replicas", 0),
	   (long long)sw_obj_int(o, "spec.replicas", 1));
	kv(0, 14, "Pods Status", "%lld Running / %lld Waiting / %lld Succeeded / %lld Failed",
	   (long long)sw_obj_int(o, "status.readyReplicas", 0),
	   (long long)(sw_obj_int(o, "status.replicas", 0) - sw_obj_int(o, "status.readyReplicas", 0)), 0LL, 0LL);
	template_section(sw_obj_path(o, "spec.template"));
	conditions_table(o, true);
}

static void describe_service(const json_t *o)
{
	const json_t *p;
	size_t i;
	char sel[1024] = "";
	const char *key;
	json_t *v;

	kv(0, 19, "Name", "%s", sw_obj_name(o) ?: "");
	kv(0, 19, "Namespace", "%s", sw_obj_namespace(o) ?: "");
	map_lines(19, "Labels", sw_obj_path(o, "metadata.labels"), "=");
	map_lines(19, "Annotations", sw_obj_path(o, "metadata.annotations"), ": ");
	json_object_foreach(sw_obj_path(o, "spec.selector"), key, v) {
		size_t l = strlen(sel);
		snprintf(sel + l, sizeof(sel) - l, "%s%s=%s", l ? "," : "", key, json_string_value(v) ?: "");
	}
	kv(0, 19, "Selector", "%s", *sel ? sel : "<none>");
	kv(0, 19, "Type", "%s", sw_obj_str(o, "spec.type") ?: "ClusterIP");
	kv(0, 19, "IP", "%s", sw_obj_str(o, "spec.clusterIP") ?: "<none>");
	json_array_foreach(sw_obj_path(o, "spec.ports"), i, p) {
		const json_t *tp = json_object_get(p, "targetPort");
		kv(0, 19, "Port", "%s  %lld/%s", sw_obj_str(p, "name") ?: "<unset>", (long long)sw_obj_int(p, "port", 0),
		   sw_obj_str(p, "protocol") ?: "TCP");
		if (json_is_string(tp))
			kv(0, 19, "TargetPort", "%s/%s", json_string_value(tp), sw_obj_str(p, "protocol") ?: "TCP");
		else
			kv(0, 19, "TargetPort", "%lld/%s", (long long)sw_obj_int(p, "targetPort", sw_obj_int(p, "port", 0)),
			   sw_obj_str(p, "protocol") ?: "TCP");
		if (sw_obj_int(p, "nodePort", 0))
			kv(0, 19, "NodePort", "%s  %lld/%s", sw_obj_str(p, "name") ?: "<unset>",
			   (long long)sw_obj_int(p, "nodePort", 0), sw_obj_str(p, "protocol") ?: "TCP");
	}
	kv(0, 19, "Session Affinity", "%s", sw_obj_str(o, "spec.sessionAffinity") ?: "None");
}

static void describe_generic(const json_t *o, bool ns)
{
	cleanup_json json_t *rest = json_deep_copy(o);
	sw_error *err = NULL;

	header(o, 20, ns);
	json_object_del(rest, "metadata");
	json_object_del(rest, "apiVersion");
	json_object_del(rest, "kind");
	if (!strcmp(sw_obj_str(o, "kind") ?: "", "Secret")) {
		/* kubectl shows sizes, never values */
		json_t *data = json_object_get(rest, "data");
		const char *key;
		json_t *v;
		printf("\nType:  %s\n\nData\n====\n", sw_obj_str(o, "type") ?: "Opaque");
		json_object_foreach(data, key, v)
			printf("%s:  %zu bytes\n", key, (strlen(json_string_value(v) ?: "") * 3) / 4);
		return;
	}
	if (json_object_size(rest)) {
		cleanup_free char *y = NULL;
		if (sw_print_yaml(&y, rest, &err) < 0) {
			sw_error_free(err);
			return;
		}
		printf("\n%s", y);
	}
}

static int describe_one(struct kube *k, const sw_kind *kind, const char *name)
{
	cleanup_json json_t *o = NULL;
	sw_error *err = NULL;

	if (kube_get(k, kind, k->ns, name, &o, &err) < 0)
		return kube_fail(err);
	if (!json_object_get(o, "kind"))
		json_object_set_new(o, "kind", json_string(kind->kind));
	if (!strcmp(kind->kind, "Pod"))
		describe_pod(o);
	else if (!strcmp(kind->kind, "Deployment"))
		describe_deployment(k, o);
	else if (!strcmp(kind->kind, "ReplicaSet"))
		describe_replicaset(o);
	else if (!strcmp(kind->kind, "Service"))
		describe_service(o);
	else
		describe_generic(o, kind->namespaced);
	if (strcmp(kind->kind, "Event"))
		print_events(k, o);
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
