/*
 * app.c - slipway's short app manifest (slipway.yaml) and its expansion
 * into Kubernetes objects: one apps/v1 Deployment per process (named APP
 * for `web`, APP-PROCESS otherwise) and a v1 Service for each process with
 * a port. The expansion is a pure function of the document (and the image
 * given): processes in a fixed order (web first, then by name), env sorted
 * by name. manifests/README.md documents the format.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slipway/cleanup.h"
#include "slipway/mem.h"
#include "validate_int.h"

#define FLD(n, t, fl, sub, def, vals) { n, t, fl, sub, def, vals }
#define F(n, t) { n, t, 0, NULL, NULL, NULL }
#define END { NULL, T_ANY, 0, NULL, NULL, NULL }

#define APP_API_VERSION "slipway.dev/v1"

bool sw_app_is_app(const char *file, const json_t *root)
{
	const char *av = json_string_value(json_object_get(root, "apiVersion"));
	const char *kind = json_string_value(json_object_get(root, "kind"));

	if (av && !strcmp(av, APP_API_VERSION) && kind && !strcmp(kind, "App"))
		return true;
	if (av || kind || !file)
		return false;
	const char *base = strrchr(file, '/');
	base = base ? base + 1 : file;
	return !strcmp(base, "slipway.yaml") || !strcmp(base, "slipway.yml");
}

/* ---- the schema ---------------------------------------------------------- */

static const char *const app_protocols[] = { "http", "tcp", NULL };

static const sw_field health_fields[] = {
	F("path", T_STR),
	F("port", T_PORT),
	FLD("initialDelaySeconds", T_INT, F_NONNEG, NULL, NULL, NULL),
	FLD("periodSeconds", T_INT, F_POS, NULL, NULL, NULL),
	FLD("timeoutSeconds", T_INT, F_POS, NULL, NULL, NULL),
	FLD("failureThreshold", T_INT, F_POS, NULL, NULL, NULL),
	FLD("successThreshold", T_INT, F_POS, NULL, NULL, NULL),
	F("liveness", T_BOOL),
	END,
};
static const sw_schema health_schema = { "HealthCheck", health_fields, NULL };

static const sw_field res_fields[] = { F("cpu", T_QTY), F("memory", T_QTY), END };
static const sw_schema res_schema = { "Resources", res_fields, NULL };

static void env_map_check(sw_vctx *c, json_t *o);

static void process_check(sw_vctx *c, json_t *p)
{
	json_t *cmd = json_object_get(p, "command");
	size_t i;
	json_t *e;

	if (cmd && !json_is_string(cmd) && !json_is_array(cmd))
		sw_verr_at(c, "command", "must be a string (run by /bin/sh -c) or a list of strings");
	if (json_is_array(cmd)) {
		if (json_array_size(cmd) == 0)
			sw_verr_at(c, "command", "must not be empty");
		json_array_foreach(cmd, i, e)
			if (!json_is_string(e)) {
				size_t old = sw_fpath_push_key(&c->path, "command");
				sw_fpath_push_index(&c->path, i);
				sw_verr(c, "must be a string");
				sw_fpath_pop(&c->path, old);
			}
	}
	if (json_is_string(cmd) && json_string_length(cmd) == 0)
		sw_verr_at(c, "command", "must not be empty");
	json_t *port = json_object_get(p, "port");
	if (json_is_integer(port) && (json_integer_value(port) < 1 || json_integer_value(port) > 65535))
		sw_verr_at(c, "port", "must be between 1 and 65535, inclusive");
	env_map_check(c, p);
}

static const sw_field process_fields[] = {
	F("command", T_ANY),
	FLD("replicas", T_INT, F_NONNEG, NULL, NULL, NULL),
	F("port", T_INT),
	FLD("protocol", T_STR, 0, NULL, NULL, app_protocols),
	FLD("healthCheck", T_OBJ, 0, &health_schema, NULL, NULL),
	FLD("resources", T_OBJ, 0, &res_schema, NULL, NULL),
	F("env", T_ANY),
	END,
};
static const sw_schema process_schema = { "Process", process_fields, process_check };

static const sw_field rolling_fields[] = { F("maxSurge", T_INTSTR), F("maxUnavailable", T_INTSTR), END };
static const sw_schema rolling_schema = { "Rolling", rolling_fields, NULL };
static const sw_field strategy_fields[] = {
	FLD("rolling", T_OBJ, 0, &rolling_schema, NULL, NULL),
	F("recreate", T_OBJ),
	END,
};
static const sw_schema strategy_schema = { "Strategy", strategy_fields, NULL };

/* env: NAME: value; numbers and booleans are taken as their text */
static void env_map_check(sw_vctx *c, json_t *o)
{
	json_t *env = json_object_get(o, "env");
	const char *k;
	json_t *v;

	if (!env)
		return;
	size_t old = sw_fpath_push_key(&c->path, "env");
	if (!json_is_object(env)) {
		sw_verr(c, "must be a mapping of NAME: value");
	} else {
		json_object_foreach(env, k, v) {
			size_t o2 = sw_fpath_push_key(&c->path, k);
			const char *why = sw_check_env_name(k);
			if (why)
				sw_verr(c, "invalid name \"%s\": %s", k, why);
			else if (!json_is_string(v) && !json_is_number(v) && !json_is_boolean(v))
				sw_verr(c, "must be a string, a number or a boolean");
			sw_fpath_pop(&c->path, o2);
		}
	}
	sw_fpath_pop(&c->path, old);
}

static void app_check(sw_vctx *c, json_t *app)
{
	const char *name = json_string_value(json_object_get(app, "name"));
	const char *why;
	json_t *procs = json_object_get(app, "processes");
	json_t *st = json_object_get(app, "strategy");
	const char *k;
	json_t *v;

	if (name && *name && (why = sw_check_dns1035_label(name)))
		sw_verr_at(c, "name", "invalid value \"%s\": %s", name, why);
	json_t *port = json_object_get(app, "port");
	if (json_is_integer(port) && (json_integer_value(port) < 1 || json_integer_value(port) > 65535))
		sw_verr_at(c, "port", "must be between 1 and 65535, inclusive");
	env_map_check(c, app);
	if (json_is_object(json_object_get(app, "labels"))) {
		size_t old = sw_fpath_push_key(&c->path, "labels");
		json_object_foreach(json_object_get(app, "labels"), k, v) {
			size_t o2 = sw_fpath_push_key(&c->path, k);
			if ((why = sw_check_label_key(k)))
				sw_verr(c, "invalid key \"%s\": %s", k, why);
			else if (json_is_string(v) && (why = sw_check_label_value(json_string_value(v))))
				sw_verr(c, "invalid value \"%s\": %s", json_string_value(v), why);
			sw_fpath_pop(&c->path, o2);
		}
		sw_fpath_pop(&c->path, old);
	}

	if (st) {
		size_t old = sw_fpath_push_key(&c->path, "strategy");
		if (json_is_string(st)) {
			if (strcmp(json_string_value(st), "rolling") && strcmp(json_string_value(st), "recreate"))
				sw_verr(c, "unsupported value \"%s\": supported values: \"rolling\", \"recreate\"",
				        json_string_value(st));
		} else if (json_is_object(st)) {
			sw_walk(c, st, &strategy_schema);
			if (json_object_size(st) != 1)
				sw_verr(c, "must be one of rolling or recreate");
		} else {
			sw_verr(c, "must be rolling, recreate or {rolling: {maxSurge, maxUnavailable}}");
		}
		sw_fpath_pop(&c->path, old);
	}

	if (procs) {
		size_t old = sw_fpath_push_key(&c->path, "processes");
		if (!json_is_object(procs) || json_object_size(procs) == 0) {
			sw_verr(c, "must be a mapping of process name to process");
		} else {
			json_object_foreach(procs, k, v) {
				size_t o2 = sw_fpath_push_key(&c->path, k);
				if ((why = sw_check_dns1123_label(k)))
					sw_verr(c, "invalid process name \"%s\": %s", k, why);
				else if (name && strcmp(k, "web") && strlen(name) + 1 + strlen(k) > 63)
					sw_verr(c, "the name %s-%s is longer than 63 characters", name, k);
				if (json_is_string(v))
					; /* `worker: ./run-worker` is a command */
				else if (json_is_object(v))
					sw_walk(c, v, &process_schema);
				else
					sw_verr(c, "must be a command or a mapping");
				sw_fpath_pop(&c->path, o2);
			}
		}
		sw_fpath_pop(&c->path, old);
	}
}

static const sw_field app_fields[] = {
	F("apiVersion", T_STR),
	F("kind", T_STR),
	{ "name", T_STR, F_REQ, NULL, NULL, NULL },
	F("namespace", T_STR),
	F("image", T_STR),
	F("port", T_INT),
	FLD("protocol", T_STR, 0, NULL, NULL, app_protocols),
	FLD("replicas", T_INT, F_NONNEG, NULL, NULL, NULL),
	FLD("healthCheck", T_OBJ, 0, &health_schema, NULL, NULL),
	FLD("resources", T_OBJ, 0, &res_schema, NULL, NULL),
	F("strategy", T_ANY),
	F("env", T_ANY),
	F("labels", T_MAP_STR),
	F("processes", T_ANY),
	END,
};
const sw_schema sw_schema_app = { "App", app_fields, app_check };

/* ---- expansion -------------------------------------------------------------- */

static json_t *pick(json_t *proc, json_t *app, const char *key, bool inherit)
{
	json_t *v = json_is_object(proc) ? json_object_get(proc, key) : NULL;
	if (!v && inherit)
		v = json_object_get(app, key);
	return v;
}

static char *scalar_text(json_t *v)
{
	if (json_is_string(v))
		return sw_xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return sw_xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	if (json_is_real(v))
		return sw_xasprintf("%.15g", json_real_value(v));
	return sw_xstrdup(json_is_true(v) ? "true" : "false");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *env_list(json_t *app_env, json_t *proc_env)
{
	json_t *merged = json_object();
	const char *k;
	json_t *v;

	if (json_is_object(app_env))
		json_object_update(merged, app_env);
	if (json_is_object(proc_env))
		json_object_update(merged, proc_env);
	size_t n = json_object_size(merged), i = 0;
	const char **keys = sw_xcalloc(n ? n : 1, sizeof(*keys));
	json_object_foreach(merged, k, v)
		keys[i++] = k;
	qsort(keys, n, sizeof(*keys), cmp_str);
	json_t *list = json_array();
	for (i = 0; i < n; i++) {
		char *text = scalar_text(json_object_get(merged, keys[i]));
		json_array_append_new(list, json_pack("{s:s, s:s}", "name", keys[i], "value", text));
		free(text);
	}
	free(keys);
	json_decref(merged);
	return list;
}

static json_t *probe_from(json_t *hc, const char *protocol, const char *port_name)
{
	json_t *probe = json_object();
	json_t *port = json_object_get(hc, "port") ? json_incref(json_object_get(hc, "port"))
	                                           : json_string(port_name);
	if (!strcmp(protocol, "tcp")) {
		json_object_set_new(probe, "tcpSocket", json_pack("{s:o}", "port", port));
	} else {
		const char *path = json_string_value(json_object_get(hc, "path"));
		json_object_set_new(probe, "httpGet", json_pack("{s:s, s:o}", "path", path ? path : "/", "port", port));
	}
	static const char *const timing[] = { "initialDelaySeconds", "periodSeconds", "timeoutSeconds",
		                                   "failureThreshold", NULL };
	for (const char *const *t = timing; *t; t++)
		if (json_object_get(hc, *t))
			json_object_set(probe, *t, json_object_get(hc, *t));
	return probe;
}

static void expand_process(sw_vctx *c, json_t *app, const char *pname, json_t *proc,
                           const sw_manifest_opts *opts, json_t *out)
{
	const char *app_name = json_string_value(json_object_get(app, "name"));
	const char *ns = json_string_value(json_object_get(app, "namespace"));
	bool web = !strcmp(pname, "web");
	cleanup_free char *name = web ? sw_xstrdup(app_name) : sw_xasprintf("%s-%s", app_name, pname);
	const char *image = opts && opts->image ? opts->image : json_string_value(json_object_get(app, "image"));
	json_t *port = pick(proc, app, "port", web);
	json_t *hc = pick(proc, app, "healthCheck", web);
	const char *protocol = json_string_value(pick(proc, app, "protocol", true));
	if (!protocol)
		protocol = "http";
	const char *port_name = !strcmp(protocol, "tcp") ? "tcp" : "http";

	json_t *selector = json_pack("{s:s, s:s}", "app.kubernetes.io/name", app_name, "slipway.dev/process", pname);
	json_t *labels = json_object();
	if (json_is_object(json_object_get(app, "labels")))
		json_object_update(labels, json_object_get(app, "labels"));
	json_object_update(labels, selector);
	json_object_set_new(labels, "app.kubernetes.io/managed-by", json_string("slipway"));

	json_t *ctr = json_pack("{s:s}", "name", pname);
	if (image)
		json_object_set_new(ctr, "image", json_string(image));
	json_t *cmd = json_is_string(proc) ? proc : pick(proc, app, "command", false);
	if (json_is_string(cmd))
		json_object_set_new(ctr, "command", json_pack("[s, s, s]", "/bin/sh", "-c", json_string_value(cmd)));
	else if (json_is_array(cmd))
		json_object_set(ctr, "command", cmd);
	json_t *env = env_list(json_object_get(app, "env"), json_is_object(proc) ? json_object_get(proc, "env") : NULL);
	if (json_array_size(env))
		json_object_set(ctr, "env", env);
	json_decref(env);
	if (json_is_integer(port))
		json_object_set_new(ctr, "ports", json_pack("[{s:s, s:O, s:s}]", "name", port_name,
		                                            "containerPort", port, "protocol", "TCP"));
	json_t *res = pick(proc, app, "resources", true);
	if (json_is_object(res) && json_object_size(res)) {
		json_t *q = json_object();
		json_object_update(q, json_object_get(app, "resources"));
		if (json_is_object(proc) && json_is_object(json_object_get(proc, "resources")))
			json_object_update(q, json_object_get(proc, "resources"));
		json_object_set_new(ctr, "resources", json_pack("{s:O, s:O}", "limits", q, "requests", q));
		json_decref(q);
	}
	if (hc) {
		if (!json_is_integer(port) && !json_object_get(hc, "port")) {
			sw_fpath_push_key(&c->path, "healthCheck");
			sw_verr(c, "process %s has a health check but no port", pname);
			sw_fpath_reset(&c->path);
		} else {
			json_object_set_new(ctr, "readinessProbe", probe_from(hc, protocol, port_name));
			if (!json_is_false(json_object_get(hc, "liveness")))
				json_object_set_new(ctr, "livenessProbe", probe_from(hc, protocol, port_name));
		}
	}

	json_t *meta = json_pack("{s:s, s:O}", "name", name, "labels", labels);
	if (ns)
		json_object_set_new(meta, "namespace", json_string(ns));
	json_t *spec = json_pack("{s:{s:O}, s:{s:{s:O}, s:{s:[o]}}}",
	                         "selector", "matchLabels", selector,
	                         "template", "metadata", "labels", labels, "spec", "containers", ctr);
	json_t *replicas = pick(proc, app, "replicas", true);
	if (json_is_integer(replicas))
		json_object_set(spec, "replicas", replicas);
	json_t *st = json_object_get(app, "strategy");
	if (json_is_string(st) && !strcmp(json_string_value(st), "recreate"))
		json_object_set_new(spec, "strategy", json_pack("{s:s}", "type", "Recreate"));
	else if (json_is_object(st) && json_object_get(st, "recreate"))
		json_object_set_new(spec, "strategy", json_pack("{s:s}", "type", "Recreate"));
	else if (json_is_object(st) && json_is_object(json_object_get(st, "rolling")))
		json_object_set_new(spec, "strategy", json_pack("{s:s, s:O}", "type", "RollingUpdate",
		                                                "rollingUpdate", json_object_get(st, "rolling")));
	json_array_append_new(out, json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "apps/v1",
	                                     "kind", "Deployment", "metadata", meta, "spec", spec));

	if (json_is_integer(port)) {
		json_t *smeta = json_pack("{s:s, s:O}", "name", name, "labels", labels);
		if (ns)
			json_object_set_new(smeta, "namespace", json_string(ns));
		json_t *sspec = json_pack("{s:O, s:[{s:s, s:O, s:s, s:s}]}", "selector", selector, "ports",
		                          "name", port_name, "port", port, "targetPort", port_name, "protocol", "TCP");
		json_array_append_new(out, json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "v1", "kind",
		                                     "Service", "metadata", smeta, "spec", sspec));
	}
	json_decref(selector);
	json_decref(labels);
}

void sw_app_expand(sw_vctx *c, json_t *app, const sw_manifest_opts *opts, json_t *out)
{
	size_t before = c->errors;

	sw_fpath_reset(&c->path);
	sw_walk(c, app, &sw_schema_app);
	if (c->errors > before)
		return;
	json_t *procs = json_object_get(app, "processes");
	if (!procs) {
		expand_process(c, app, "web", NULL, opts, out);
		return;
	}
	/* web first, then by name */
	if (json_object_get(procs, "web"))
		expand_process(c, app, "web", json_object_get(procs, "web"), opts, out);
	size_t n = json_object_size(procs), i = 0;
	const char **names = sw_xcalloc(n, sizeof(*names));
	const char *k;
	json_t *v;
	json_object_foreach(procs, k, v)
		if (strcmp(k, "web"))
			names[i++] = k;
	qsort(names, i, sizeof(*names), cmp_str);
	for (size_t j = 0; j < i; j++)
		expand_process(c, app, names[j], json_object_get(procs, names[j]), opts, out);
	free(names);
}

int sw_manifest_expand_app(const json_t *app, const sw_manifest_opts *opts, const char *file,
                           json_t **objects, sw_diags *d)
{
	sw_vctx c = { .d = d, .file = file };
	json_t *copy = json_deep_copy(app);
	json_t *out = json_array();

	*objects = NULL;
	sw_app_expand(&c, copy, opts, out);
	json_decref(copy);
	if (c.errors) {
		json_decref(out);
		return SW_EINVALID;
	}
	*objects = out;
	return 0;
}
