/*
 * validate_kinds.c - the top of each kind: Namespace, Pod, Service,
 * ConfigMap, Secret, Deployment, ReplicaSet. Name rules per kind, the
 * Deployment strategy (25%/25%, both 0 invalid), selector vs template
 * labels, Service ports and session affinity, Secret data in base64 with
 * stringData merged in. sw_manifest_admit() is the API server's entry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slipway/cleanup.h"
#include "slipway/kinds.h"
#include "slipway/mem.h"
#include "slipway/object.h"
#include "validate_int.h"

#define FLD(n, t, fl, sub, def, vals) { n, t, fl, sub, def, vals }
#define F(n, t) { n, t, 0, NULL, NULL, NULL }
#define FR(n, t) { n, t, F_REQ, NULL, NULL, NULL }
#define UNSUP_SET(n) { n, T_ANY, F_UNSUP_SET, NULL, NULL, NULL }
#define SERVER(n) { n, T_ANY, F_SERVER, NULL, NULL, NULL }
#define END { NULL, T_ANY, 0, NULL, NULL, NULL }

/* ---- Deployment / ReplicaSet ------------------------------------------------ */

/* An int >= 0 or "N%"; *pct gets the percentage or -1; false when invalid. */
static bool int_or_percent(sw_vctx *c, json_t *v, const char *key, long *val, bool *pct)
{
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0) {
			sw_verr_at(c, key, "must be greater than or equal to 0");
			return false;
		}
		*val = (long)json_integer_value(v);
		*pct = false;
		return true;
	}
	const char *s = json_string_value(v);
	if (!s)
		return false;
	char *end;
	size_t n = strlen(s);
	long p = n > 1 && s[n - 1] == '%' && s[0] >= '0' && s[0] <= '9' ? strtol(s, &end, 10) : -1;
	if (p < 0 || end != s + n - 1) {
		sw_verr_at(c, key, "invalid value \"%s\": a valid percent string must be a numeric string "
		           "followed by an ending '%%' (e.g. '1%%', or '93%%')", s);
		return false;
	}
	*val = p;
	*pct = true;
	return true;
}

static const sw_field rolling_fields[] = {
	FLD("maxSurge", T_INTSTR, 0, NULL, "\"25%\"", NULL),
	FLD("maxUnavailable", T_INTSTR, 0, NULL, "\"25%\"", NULL),
	END,
};
static const sw_schema rolling_schema = { "RollingUpdateDeployment", rolling_fields, NULL };

static void strategy_check(sw_vctx *c, json_t *st)
{
	const char *type = json_string_value(json_object_get(st, "type"));
	json_t *ru = json_object_get(st, "rollingUpdate");

	if (!type)
		return;
	if (!strcmp(type, "Recreate")) {
		if (ru)
			sw_verr_at(c, "rollingUpdate", "may not be specified when strategy `type` is 'Recreate'");
		return;
	}
	if (!ru) {
		ru = json_object();
		json_object_set_new(st, "rollingUpdate", ru);
	}
	if (!json_is_object(ru))
		return;
	if (!json_object_get(ru, "maxSurge"))
		json_object_set_new(ru, "maxSurge", json_string("25%"));
	if (!json_object_get(ru, "maxUnavailable"))
		json_object_set_new(ru, "maxUnavailable", json_string("25%"));
	size_t old = sw_fpath_push_key(&c->path, "rollingUpdate");
	long surge, unavail;
	bool spct, upct;
	bool ok1 = int_or_percent(c, json_object_get(ru, "maxSurge"), "maxSurge", &surge, &spct);
	bool ok2 = int_or_percent(c, json_object_get(ru, "maxUnavailable"), "maxUnavailable", &unavail, &upct);
	if (ok2 && upct && unavail > 100)
		sw_verr_at(c, "maxUnavailable", "must not be greater than 100%%");
	if (ok1 && ok2 && surge == 0 && unavail == 0)
		sw_verr_at(c, "maxUnavailable", "may not be 0 when `maxSurge` is 0");
	sw_fpath_pop(&c->path, old);
}

static const char *const strategy_types[] = { "RollingUpdate", "Recreate", NULL };
static const sw_field strategy_fields[] = {
	FLD("type", T_STR, 0, NULL, "\"RollingUpdate\"", strategy_types),
	FLD("rollingUpdate", T_OBJ, 0, &rolling_schema, NULL, NULL),
	END,
};
static const sw_schema strategy_schema = { "DeploymentStrategy", strategy_fields, strategy_check };

static void template_restart_always(sw_vctx *c, json_t *spec)
{
	const char *rp = json_string_value(sw_obj_path(spec, "template.spec.restartPolicy"));
	if (rp && strcmp(rp, "Always")) {
		size_t old = sw_fpath_push_key(&c->path, "template");
		sw_fpath_push_key(&c->path, "spec");
		sw_verr_at(c, "restartPolicy", "unsupported value \"%s\": supported values: \"Always\"", rp);
		sw_fpath_pop(&c->path, old);
	}
}

static void deployment_spec_check(sw_vctx *c, json_t *spec)
{
	json_t *pd = json_object_get(spec, "progressDeadlineSeconds");
	json_t *mr = json_object_get(spec, "minReadySeconds");
	if (json_is_integer(pd) && json_is_integer(mr) && json_integer_value(pd) <= json_integer_value(mr))
		sw_verr_at(c, "progressDeadlineSeconds", "must be greater than minReadySeconds");
	template_restart_always(c, spec);
	sw_check_selector_matches(c, spec);
}

static const sw_field deployment_spec_fields[] = {
	FLD("replicas", T_INT, F_NONNEG, NULL, "1", NULL),
	FLD("selector", T_OBJ, F_REQ, &sw_schema_label_selector, NULL, NULL),
	FLD("template", T_OBJ, F_REQ, &sw_schema_pod_template, NULL, NULL),
	FLD("strategy", T_OBJ, 0, &strategy_schema, "{}", NULL),
	FLD("minReadySeconds", T_INT, F_NONNEG, NULL, "0", NULL),
	FLD("revisionHistoryLimit", T_INT, F_NONNEG, NULL, "10", NULL),
	FLD("progressDeadlineSeconds", T_INT, F_NONNEG, NULL, "600", NULL),
	F("paused", T_BOOL),
	END,
};
static const sw_schema deployment_spec_schema = { "DeploymentSpec", deployment_spec_fields,
	                                              deployment_spec_check };

static void replicaset_spec_check(sw_vctx *c, json_t *spec)
{
	template_restart_always(c, spec);
	sw_check_selector_matches(c, spec);
}

static const sw_field replicaset_spec_fields[] = {
	FLD("replicas", T_INT, F_NONNEG, NULL, "1", NULL),
	FLD("selector", T_OBJ, F_REQ, &sw_schema_label_selector, NULL, NULL),
	FLD("template", T_OBJ, F_REQ, &sw_schema_pod_template, NULL, NULL),
	FLD("minReadySeconds", T_INT, F_NONNEG, NULL, "0", NULL),
	END,
};
static const sw_schema replicaset_spec_schema = { "ReplicaSetSpec", replicaset_spec_fields,
	                                              replicaset_spec_check };

/* ---- Service ----------------------------------------------------------------- */

static const char *const protocols[] = { "TCP", "UDP", "SCTP", NULL };

static const sw_field service_port_fields[] = {
	F("name", T_STR),
	FLD("protocol", T_STR, 0, NULL, "\"TCP\"", protocols),
	FR("port", T_INT),
	F("targetPort", T_PORT),
	F("nodePort", T_INT),
	F("appProtocol", T_STR),
	END,
};

static void service_port_check(sw_vctx *c, json_t *p)
{
	json_t *port = json_object_get(p, "port");
	if (json_is_integer(port)) {
		json_int_t n = json_integer_value(port);
		if (n < 1 || n > 65535)
			sw_verr_at(c, "port", "must be between 1 and 65535, inclusive");
		else if (!json_object_get(p, "targetPort"))
			json_object_set(p, "targetPort", port);
	}
	json_t *np = json_object_get(p, "nodePort");
	if (json_is_integer(np) && json_integer_value(np) != 0 &&
	    (json_integer_value(np) < 30000 || json_integer_value(np) > 32767))
		sw_verr_at(c, "nodePort", "provided port is not in the valid range. The range of valid ports is 30000-32767");
}
static const sw_schema service_port_schema = { "ServicePort", service_port_fields, service_port_check };

static const sw_field client_ip_fields[] = { FLD("timeoutSeconds", T_INT, 0, NULL, "10800", NULL), END };
static const sw_schema client_ip_schema = { "ClientIPConfig", client_ip_fields, NULL };
static const sw_field affinity_cfg_fields[] = { FLD("clientIP", T_OBJ, 0, &client_ip_schema, "{}", NULL), END };
static const sw_schema affinity_cfg_schema = { "SessionAffinityConfig", affinity_cfg_fields, NULL };

static void service_spec_check(sw_vctx *c, json_t *spec)
{
	const char *type = json_string_value(json_object_get(spec, "type"));
	const char *aff = json_string_value(json_object_get(spec, "sessionAffinity"));
	json_t *ports = json_object_get(spec, "ports");
	size_t i, j;
	json_t *p, *q;

	json_t *sel = json_object_get(spec, "selector");
	if (json_is_object(sel)) {
		const char *k;
		json_t *v;
		const char *why;
		size_t old = sw_fpath_push_key(&c->path, "selector");
		json_object_foreach(sel, k, v) {
			size_t o2 = sw_fpath_push_key(&c->path, k);
			if ((why = sw_check_label_key(k)))
				sw_verr(c, "invalid key \"%s\": %s", k, why);
			else if (json_is_string(v) && (why = sw_check_label_value(json_string_value(v))))
				sw_verr(c, "invalid value \"%s\": %s", json_string_value(v), why);
			sw_fpath_pop(&c->path, o2);
		}
		sw_fpath_pop(&c->path, old);
	}
	if (type && !strcmp(type, "ExternalName")) {
		sw_vwarn_at(c, "type", "ExternalName services are not supported by slipway; ignored");
		return;
	}
	if (type && !strcmp(type, "LoadBalancer"))
		sw_vwarn_at(c, "type", "slipway has no load balancer; a LoadBalancer service works as a NodePort service");
	if (json_is_array(ports) && json_array_size(ports) == 0)
		sw_verr_at(c, "ports", "required value");
	else if (!ports)
		sw_verr_at(c, "ports", "required value");
	json_array_foreach(ports, i, p) {
		const char *pn = json_string_value(json_object_get(p, "name"));
		size_t old = sw_fpath_push_key(&c->path, "ports");
		sw_fpath_push_index(&c->path, i);
		const char *why;
		if (json_array_size(ports) > 1 && (!pn || !*pn))
			sw_verr_at(c, "name", "required value (services with more than one port name them)");
		else if (pn && *pn && (why = sw_check_dns1123_label(pn)))
			sw_verr_at(c, "name", "invalid value \"%s\": %s", pn, why);
		json_t *np = json_object_get(p, "nodePort");
		if (np && json_integer_value(np) != 0 && type && !strcmp(type, "ClusterIP"))
			sw_verr_at(c, "nodePort", "may not be used when `type` is 'ClusterIP'");
		json_array_foreach(ports, j, q) {
			if (j >= i)
				break;
			const char *qn = json_string_value(json_object_get(q, "name"));
			if (pn && qn && *pn && !strcmp(pn, qn)) {
				sw_verr_at(c, "name", "duplicate value \"%s\"", pn);
				break;
			}
			if (json_equal(json_object_get(p, "port"), json_object_get(q, "port")) &&
			    json_equal(json_object_get(p, "protocol"), json_object_get(q, "protocol"))) {
				sw_verr_at(c, "port", "duplicate value %lld/%s",
				           (long long)json_integer_value(json_object_get(p, "port")),
				           json_string_value(json_object_get(p, "protocol")));
				break;
			}
		}
		sw_fpath_pop(&c->path, old);
	}
	json_t *cfg = json_object_get(spec, "sessionAffinityConfig");
	if (aff && !strcmp(aff, "ClientIP")) {
		if (!cfg) {
			cfg = json_pack("{s:{s:i}}", "clientIP", "timeoutSeconds", 10800);
			json_object_set_new(spec, "sessionAffinityConfig", cfg);
		}
		json_t *t = sw_obj_path(cfg, "clientIP.timeoutSeconds");
		if (json_is_integer(t) && (json_integer_value(t) < 1 || json_integer_value(t) > 86400)) {
			size_t old = sw_fpath_push_key(&c->path, "sessionAffinityConfig");
			sw_fpath_push_key(&c->path, "clientIP");
			sw_verr_at(c, "timeoutSeconds", "must be greater than 0 and less than 86400");
			sw_fpath_pop(&c->path, old);
		}
	} else if (cfg && aff) {
		sw_verr_at(c, "sessionAffinityConfig", "must not be set when `sessionAffinity` is %s", aff);
	}
}

static const char *const service_types[] = { "ClusterIP", "NodePort", "LoadBalancer", "ExternalName", NULL };
static const char *const affinities[] = { "None", "ClientIP", NULL };
static const sw_field service_spec_fields[] = {
	FLD("ports", T_ARR_OBJ, 0, &service_port_schema, NULL, NULL),
	F("selector", T_MAP_STR),
	FLD("type", T_STR, 0, NULL, "\"ClusterIP\"", service_types),
	FLD("sessionAffinity", T_STR, 0, NULL, "\"None\"", affinities),
	FLD("sessionAffinityConfig", T_OBJ, 0, &affinity_cfg_schema, NULL, NULL),
	F("publishNotReadyAddresses", T_BOOL),
	/* set by the API server of a cluster; accepted when re-applied */
	SERVER("clusterIP"), SERVER("clusterIPs"), SERVER("ipFamilies"), SERVER("ipFamilyPolicy"),
	SERVER("internalTrafficPolicy"),
	UNSUP_SET("externalTrafficPolicy"), UNSUP_SET("externalIPs"), UNSUP_SET("loadBalancerIP"),
	UNSUP_SET("loadBalancerSourceRanges"), UNSUP_SET("loadBalancerClass"), UNSUP_SET("externalName"),
	UNSUP_SET("healthCheckNodePort"), UNSUP_SET("allocateLoadBalancerNodePorts"),
	UNSUP_SET("trafficDistribution"),
	END,
};
static const sw_schema service_spec_schema = { "ServiceSpec", service_spec_fields, service_spec_check };

/* ---- ConfigMap / Secret ------------------------------------------------------- */

static const char *check_data_key(const char *k)
{
	size_t n = strlen(k);
	if (n == 0 || n > 253)
		return "must be between 1 and 253 characters";
	if (!strcmp(k, ".") || !strcmp(k, ".."))
		return "must not be '.' or '..'";
	for (const char *p = k; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_' || *p == '.'))
			return "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
	return NULL;
}

static void check_keys(sw_vctx *c, json_t *obj, const char *field, bool base64)
{
	json_t *map = json_object_get(obj, field);
	const char *k;
	json_t *v;

	if (!json_is_object(map))
		return;
	size_t old = sw_fpath_push_key(&c->path, field);
	json_object_foreach(map, k, v) {
		size_t o2 = sw_fpath_push_key(&c->path, k);
		const char *why = check_data_key(k);
		if (why)
			sw_verr(c, "invalid key \"%s\": %s", k, why);
		else if (base64 && json_is_string(v) && !sw_base64_valid(json_string_value(v), json_string_length(v)))
			sw_verr(c, "must be base64-encoded (use stringData for plain text)");
		sw_fpath_pop(&c->path, o2);
	}
	sw_fpath_pop(&c->path, old);
}

static size_t data_size(json_t *obj, const char *field)
{
	size_t total = 0;
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(obj, field), k, v)
		total += strlen(k) + json_string_length(v);
	return total;
}

static void configmap_check(sw_vctx *c, json_t *obj)
{
	check_keys(c, obj, "data", false);
	check_keys(c, obj, "binaryData", true);
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(obj, "binaryData"), k, v)
		if (json_object_get(json_object_get(obj, "data"), k)) {
			size_t old = sw_fpath_push_key(&c->path, "binaryData");
			sw_verr_at(c, k, "duplicate of key \"%s\" in data", k);
			sw_fpath_pop(&c->path, old);
		}
	if (data_size(obj, "data") + data_size(obj, "binaryData") > 1024 * 1024)
		sw_verr(c, "too long: a ConfigMap holds at most 1048576 bytes");
}

static void secret_check(sw_vctx *c, json_t *obj)
{
	check_keys(c, obj, "data", true);
	check_keys(c, obj, "stringData", false);
	json_t *sd = json_object_get(obj, "stringData");
	if (json_is_object(sd) && !c->errors) {
		json_t *data = json_object_get(obj, "data");
		if (!json_is_object(data)) {
			data = json_object();
			json_object_set_new(obj, "data", data);
		}
		const char *k;
		json_t *v;
		json_object_foreach(sd, k, v) {
			char *enc = sw_base64_encode(json_string_value(v), json_string_length(v));
			json_object_set_new(data, k, json_string(enc));
			free(enc);
		}
		json_object_del(obj, "stringData");
	}
	if (data_size(obj, "data") > 1024 * 1024 * 4 / 3 + 4)
		sw_verr(c, "too long: a Secret holds at most 1048576 bytes");
	const char *type = json_string_value(json_object_get(obj, "type"));
	if (type && !strcmp(type, "kubernetes.io/tls")) {
		json_t *data = json_object_get(obj, "data");
		if (!json_object_get(data, "tls.crt") || !json_object_get(data, "tls.key"))
			sw_verr_at(c, "data", "a kubernetes.io/tls secret needs keys tls.crt and tls.key");
	}
}

/* ---- top level ---------------------------------------------------------------- */

static const sw_field pod_fields[] = {
	FR("apiVersion", T_STR), FR("kind", T_STR),
	FLD("metadata", T_OBJ, F_REQ, &sw_schema_object_meta, NULL, NULL),
	FLD("spec", T_OBJ, F_REQ, &sw_schema_pod_spec, NULL, NULL),
	SERVER("status"), END,
};
static const sw_field deployment_fields[] = {
	FR("apiVersion", T_STR), FR("kind", T_STR),
	FLD("metadata", T_OBJ, F_REQ, &sw_schema_object_meta, NULL, NULL),
	FLD("spec", T_OBJ, F_REQ, &deployment_spec_schema, NULL, NULL),
	SERVER("status"), END,
};
static const sw_field replicaset_fields[] = {
	FR("apiVersion", T_STR), FR("kind", T_STR),
	FLD("metadata", T_OBJ, F_REQ, &sw_schema_object_meta, NULL, NULL),
	FLD("spec", T_OBJ, F_REQ, &replicaset_spec_schema, NULL, NULL),
	SERVER("status"), END,
};
static const sw_field service_fields[] = {
	FR("apiVersion", T_STR), FR("kind", T_STR),
	FLD("metadata", T_OBJ, F_REQ, &sw_schema_object_meta, NULL, NULL),
	FLD("spec", T_OBJ, F_REQ, &service_spec_schema, NULL, NULL),
	SERVER("status"), END,
};
static const sw_field configmap_fields[] = {
	FR("apiVersion", T_STR), FR("kind", T_STR),
	FLD("metadata", T_OBJ, F_REQ, &sw_schema_object_meta, NULL, NULL),
	F("data", T_MAP_STR), F("binaryData", T_MAP_STR), F("immutable", T_BOOL), END,
};
static const sw_field secret_fields[] = {
	FR("apiVersion", T_STR), FR("kind", T_STR),
	FLD("metadata", T_OBJ, F_REQ, &sw_schema_object_meta, NULL, NULL),
	F("data", T_MAP_STR), F("stringData", T_MAP_STR),
	FLD("type", T_STR, 0, NULL, "\"Opaque\"", NULL), F("immutable", T_BOOL), END,
};
static const sw_field ns_spec_fields[] = { F("finalizers", T_ARR_STR), END };
static const sw_schema ns_spec_schema = { "NamespaceSpec", ns_spec_fields, NULL };
static const sw_field namespace_fields[] = {
	FR("apiVersion", T_STR), FR("kind", T_STR),
	FLD("metadata", T_OBJ, F_REQ, &sw_schema_object_meta, NULL, NULL),
	FLD("spec", T_OBJ, 0, &ns_spec_schema, NULL, NULL),
	SERVER("status"), END,
};

/* Events and Endpoints are written by slipwayd itself; their bodies are
 * checked loosely (top-level fields only). */
#define ANY(n) { n, T_ANY, 0, NULL, NULL, NULL }
static const sw_field event_fields[] = {
	FR("apiVersion", T_STR), FR("kind", T_STR),
	FLD("metadata", T_OBJ, F_REQ, &sw_schema_object_meta, NULL, NULL),
	ANY("involvedObject"), F("reason", T_STR), F("message", T_STR), ANY("source"),
	ANY("firstTimestamp"), ANY("lastTimestamp"), F("count", T_INT), F("type", T_STR),
	ANY("eventTime"), ANY("series"), F("action", T_STR), ANY("related"),
	F("reportingComponent", T_STR), F("reportingInstance", T_STR), END,
};
static const sw_field endpoints_fields[] = {
	FR("apiVersion", T_STR), FR("kind", T_STR),
	FLD("metadata", T_OBJ, F_REQ, &sw_schema_object_meta, NULL, NULL),
	ANY("subsets"), END,
};

enum name_rule { NAME_SUBDOMAIN, NAME_LABEL, NAME_DNS1035 };

static const struct kind_schema {
	const char *api_version, *kind;
	sw_schema schema;
	enum name_rule names;
} kind_schemas[] = {
	{ "v1", "Namespace", { "Namespace", namespace_fields, NULL }, NAME_LABEL },
	{ "v1", "Pod", { "Pod", pod_fields, NULL }, NAME_SUBDOMAIN },
	{ "v1", "Service", { "Service", service_fields, NULL }, NAME_DNS1035 },
	{ "v1", "ConfigMap", { "ConfigMap", configmap_fields, configmap_check }, NAME_SUBDOMAIN },
	{ "v1", "Secret", { "Secret", secret_fields, secret_check }, NAME_SUBDOMAIN },
	{ "apps/v1", "Deployment", { "Deployment", deployment_fields, NULL }, NAME_SUBDOMAIN },
	{ "apps/v1", "ReplicaSet", { "ReplicaSet", replicaset_fields, NULL }, NAME_SUBDOMAIN },
	{ "v1", "Event", { "Event", event_fields, NULL }, NAME_SUBDOMAIN },
	{ "v1", "Endpoints", { "Endpoints", endpoints_fields, NULL }, NAME_SUBDOMAIN },
};

const sw_schema *sw_kind_schema(const char *kind, const char **api_version)
{
	for (size_t i = 0; i < sizeof(kind_schemas) / sizeof(kind_schemas[0]); i++) {
		if (!strcmp(kind_schemas[i].kind, kind)) {
			*api_version = kind_schemas[i].api_version;
			return &kind_schemas[i].schema;
		}
	}
	return NULL;
}

void sw_validate_object(sw_vctx *c, json_t *obj)
{
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const struct kind_schema *ks = NULL;

	if (!kind) {
		sw_verr_at(c, "kind", json_object_get(obj, "kind") ? "must be a string" : "required value");
		return;
	}
	if (!av) {
		sw_verr_at(c, "apiVersion", json_object_get(obj, "apiVersion") ? "must be a string" : "required value");
		return;
	}
	for (size_t i = 0; i < sizeof(kind_schemas) / sizeof(kind_schemas[0]); i++) {
		if (strcmp(kind_schemas[i].kind, kind))
			continue;
		if (strcmp(kind_schemas[i].api_version, av)) {
			sw_verr_at(c, "apiVersion", "%s is served as apiVersion \"%s\", not \"%s\"", kind,
			           kind_schemas[i].api_version, av);
			return;
		}
		ks = &kind_schemas[i];
	}
	if (!ks) {
		sw_verr_at(c, "kind", "unsupported kind \"%s\" (apiVersion \"%s\"): slipway knows Namespace, Pod, "
		           "Service, ConfigMap, Secret (v1), Deployment, ReplicaSet (apps/v1) and App (slipway.dev/v1)",
		           kind, av);
		return;
	}
	c->kind = ks->kind;
	sw_walk(c, obj, &ks->schema);

	json_t *meta = json_object_get(obj, "metadata");
	if (!json_is_object(meta))
		return;
	size_t old = sw_fpath_push_key(&c->path, "metadata");
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *gen = json_string_value(json_object_get(meta, "generateName"));
	if (!name || !*name) {
		if (!gen || !*gen)
			sw_verr_at(c, "name", "required value");
	} else {
		const char *why = ks->names == NAME_LABEL ? sw_check_dns1123_label(name)
		                  : ks->names == NAME_DNS1035 ? sw_check_dns1035_label(name)
		                                              : sw_check_dns1123_subdomain(name);
		if (why)
			sw_verr_at(c, "name", "invalid value \"%s\": %s", name, why);
	}
	if (!strcmp(ks->kind, "Namespace") && json_object_get(meta, "namespace") && !c->admit)
		sw_vwarn_at(c, "namespace", "a Namespace is not namespaced; ignored");
	sw_fpath_pop(&c->path, old);
}

int sw_manifest_admit(json_t *obj, sw_diags *d)
{
	sw_vctx c = { .d = d, .admit = true };

	sw_fpath_reset(&c.path);
	if (!json_is_object(obj)) {
		sw_diags_add(d, SW_DIAG_ERROR, NULL, 0, 0, NULL, "the body must be a JSON object");
		return SW_EINVALID;
	}
	sw_validate_object(&c, obj);
	return c.errors ? SW_EINVALID : 0;
}

static void immutable(sw_vctx *c, const char *path, const char *why)
{
	size_t old = c->path.len;
	/* path is dotted and simple ("spec.selector") */
	char tmp[128];
	snprintf(tmp, sizeof(tmp), "%s", path);
	char *save = NULL;
	for (char *part = strtok_r(tmp, ".", &save); part; part = strtok_r(NULL, ".", &save))
		sw_fpath_push_key(&c->path, part);
	sw_verr(c, "%s", why);
	sw_fpath_pop(&c->path, old);
}

static bool same(const json_t *a, const json_t *b)
{
	if (!a || !b)
		return a == b;
	return json_equal(a, b);
}

int sw_manifest_admit_update(json_t *obj, const json_t *old, sw_diags *d)
{
	sw_vctx c = { .d = d, .admit = true };
	const char *kind;

	sw_fpath_reset(&c.path);
	if (sw_manifest_admit(obj, d) < 0)
		return SW_EINVALID;
	kind = json_string_value(json_object_get(obj, "kind"));
	if (!kind || !json_is_object(old))
		return 0;
	if (!same(json_object_get(old, "kind"), json_object_get(obj, "kind"))) {
		immutable(&c, "kind", "field is immutable");
		return SW_EINVALID;
	}
	if (!strcmp(kind, "Deployment") || !strcmp(kind, "ReplicaSet")) {
		if (!same(sw_obj_path(obj, "spec.selector"), sw_obj_path(old, "spec.selector")))
			immutable(&c, "spec.selector", "field is immutable");
	} else if (!strcmp(kind, "Pod")) {
		/* everything but images (and two scheduling fields) is fixed */
		json_t *was = json_deep_copy(json_object_get(old, "spec"));
		json_t *now = json_object_get(obj, "spec");
		json_t *wc = json_object_get(was, "containers"), *nc = json_object_get(now, "containers");
		if (json_is_array(wc) && json_is_array(nc) && json_array_size(wc) == json_array_size(nc)) {
			for (size_t i = 0; i < json_array_size(wc); i++) {
				json_t *img = json_object_get(json_array_get(nc, i), "image");
				if (img && json_is_object(json_array_get(wc, i)))
					json_object_set(json_array_get(wc, i), "image", img);
			}
		}
		static const char *const mutable[] = { "activeDeadlineSeconds", "tolerations", "nodeName", NULL };
		for (const char *const *m = mutable; *m; m++) {
			json_t *v = json_object_get(now, *m);
			if (!json_is_object(was))
				break;
			if (v)
				json_object_set(was, *m, v);
			else
				json_object_del(was, *m);
		}
		if (!same(was, now))
			immutable(&c, "spec", "pod updates may not change fields other than `spec.containers[*].image`, "
			          "`spec.activeDeadlineSeconds` or `spec.tolerations` (only additions to existing tolerations)");
		json_decref(was);
	} else if (!strcmp(kind, "ConfigMap") || !strcmp(kind, "Secret")) {
		if (json_is_true(json_object_get(old, "immutable"))) {
			if (!json_is_true(json_object_get(obj, "immutable")))
				immutable(&c, "immutable", "field is immutable when `immutable` is set");
			if (!same(json_object_get(obj, "data"), json_object_get(old, "data")))
				immutable(&c, "data", "field is immutable when `immutable` is set");
			if (!same(json_object_get(obj, "binaryData"), json_object_get(old, "binaryData")))
				immutable(&c, "binaryData", "field is immutable when `immutable` is set");
		}
		if (!strcmp(kind, "Secret") && !same(json_object_get(obj, "type"), json_object_get(old, "type")))
			immutable(&c, "type", "field is immutable");
	}
	return c.errors ? SW_EINVALID : 0;
}
