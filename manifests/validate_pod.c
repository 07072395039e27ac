/*
 * validate_pod.c - PodSpec, containers, probes, volumes and env: the field
 * tables with Kubernetes' defaults (restartPolicy Always, grace period 30,
 * probes 0/10/1/1/3, httpGet path "/" scheme HTTP, protocol TCP, ...) and
 * the rules across fields (one probe handler, requests <= limits, unique
 * names, mounts naming volumes).
 */
#include <stdio.h>
#include <string.h>

#include "slipway/cleanup.h"
#include "slipway/mem.h"
#include "slipway/object.h"
#include "validate_int.h"

#define FLD(n, t, fl, sub, def, vals) { n, t, fl, sub, def, vals }
#define F(n, t) { n, t, 0, NULL, NULL, NULL }
#define FR(n, t) { n, t, F_REQ, NULL, NULL, NULL }
#define UNSUP(n) { n, T_ANY, F_UNSUP, NULL, NULL, NULL }
#define UNSUP_SET(n) { n, T_ANY, F_UNSUP_SET, NULL, NULL, NULL }
#define END { NULL, T_ANY, 0, NULL, NULL, NULL }

static const char *const protocols[] = { "TCP", "UDP", "SCTP", NULL };

/* ---- probes and handlers --------------------------------------------------- */

static const sw_field header_fields[] = { FR("name", T_STR), F("value", T_STR), END };
static const sw_schema header_schema = { "HTTPHeader", header_fields, NULL };

static const char *const schemes[] = { "HTTP", "HTTPS", NULL };
static const sw_field http_get_fields[] = {
	FLD("path", T_STR, 0, NULL, "\"/\"", NULL),
	FR("port", T_PORT),
	F("host", T_STR),
	FLD("scheme", T_STR, 0, NULL, "\"HTTP\"", schemes),
	FLD("httpHeaders", T_ARR_OBJ, 0, &header_schema, NULL, NULL),
	END,
};
static const sw_schema http_get_schema = { "HTTPGetAction", http_get_fields, NULL };

static const sw_field tcp_fields[] = { FR("port", T_PORT), F("host", T_STR), END };
static const sw_schema tcp_schema = { "TCPSocketAction", tcp_fields, NULL };

static void exec_check(sw_vctx *c, json_t *o)
{
	if (json_array_size(json_object_get(o, "command")) == 0)
		sw_verr_at(c, "command", "required value");
}
static const sw_field exec_fields[] = { F("command", T_ARR_STR), END };
static const sw_schema exec_schema = { "ExecAction", exec_fields, exec_check };

static const sw_field sleep_fields[] = { FLD("seconds", T_INT, F_REQ | F_NONNEG | F_I64, NULL, NULL, NULL), END };
static const sw_schema sleep_schema = { "SleepAction", sleep_fields, NULL };

static void count_handlers(sw_vctx *c, json_t *o, const char *const *names)
{
	size_t n = 0;
	for (const char *const *h = names; *h; h++)
		if (json_object_get(o, *h))
			n++;
	if (n == 0)
		sw_verr(c, "must specify a handler type");
	else if (n > 1)
		sw_verr(c, "may not specify more than 1 handler type");
}

static void probe_check(sw_vctx *c, json_t *o)
{
	static const char *const handlers[] = { "exec", "httpGet", "tcpSocket", "grpc", NULL };
	count_handlers(c, o, handlers);
	if (json_object_get(o, "grpc"))
		sw_vwarn_at(c, "grpc", "gRPC probes are not supported by slipway; this probe is ignored");
}

static const sw_field probe_fields[] = {
	FLD("exec", T_OBJ, 0, &exec_schema, NULL, NULL),
	FLD("httpGet", T_OBJ, 0, &http_get_schema, NULL, NULL),
	FLD("tcpSocket", T_OBJ, 0, &tcp_schema, NULL, NULL),
	F("grpc", T_ANY),
	FLD("initialDelaySeconds", T_INT, F_NONNEG, NULL, "0", NULL),
	FLD("timeoutSeconds", T_INT, F_POS, NULL, "1", NULL),
	FLD("periodSeconds", T_INT, F_POS, NULL, "10", NULL),
	FLD("successThreshold", T_INT, F_POS, NULL, "1", NULL),
	FLD("failureThreshold", T_INT, F_POS, NULL, "3", NULL),
	FLD("terminationGracePeriodSeconds", T_INT, F_POS | F_I64, NULL, NULL, NULL),
	END,
};
static const sw_schema probe_schema = { "Probe", probe_fields, probe_check };

static void lifecycle_handler_check(sw_vctx *c, json_t *o)
{
	static const char *const handlers[] = { "exec", "httpGet", "tcpSocket", "sleep", NULL };
	count_handlers(c, o, handlers);
}

static const sw_field lifecycle_handler_fields[] = {
	FLD("exec", T_OBJ, 0, &exec_schema, NULL, NULL),
	FLD("httpGet", T_OBJ, 0, &http_get_schema, NULL, NULL),
	FLD("tcpSocket", T_OBJ, 0, &tcp_schema, NULL, NULL),
	FLD("sleep", T_OBJ, 0, &sleep_schema, NULL, NULL),
	END,
};
static const sw_schema lifecycle_handler_schema = { "LifecycleHandler", lifecycle_handler_fields,
	                                                lifecycle_handler_check };

static const sw_field lifecycle_fields[] = {
	FLD("preStop", T_OBJ, 0, &lifecycle_handler_schema, NULL, NULL),
	UNSUP("postStart"),
	UNSUP("stopSignal"),
	END,
};
static const sw_schema lifecycle_schema = { "Lifecycle", lifecycle_fields, NULL };

/* ---- env ---------------------------------------------------------------- */

static const sw_field key_ref_fields[] = { F("name", T_STR), FR("key", T_STR), F("optional", T_BOOL), END };
static const sw_schema key_ref_schema = { "KeySelector", key_ref_fields, NULL };

static void field_ref_check(sw_vctx *c, json_t *o)
{
	static const char *const paths[] = {
		"metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
		"spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP",
		"status.podIPs", NULL,
	};
	const char *p = json_string_value(json_object_get(o, "fieldPath"));
	if (!p)
		return;
	for (const char *const *a = paths; *a; a++)
		if (!strcmp(*a, p))
			return;
	if ((!strncmp(p, "metadata.labels['", 17) || !strncmp(p, "metadata.annotations['", 22)) &&
	    strlen(p) > 2 && !strcmp(p + strlen(p) - 2, "']"))
		return;
	sw_verr_at(c, "fieldPath", "unsupported value \"%s\": supported values: metadata.name, "
	           "metadata.namespace, metadata.uid, metadata.labels['KEY'], metadata.annotations['KEY'], "
	           "spec.nodeName, spec.serviceAccountName, status.hostIP, status.podIP", p);
}
static const sw_field field_ref_fields[] = {
	FLD("apiVersion", T_STR, 0, NULL, "\"v1\"", NULL), FR("fieldPath", T_STR), END,
};
static const sw_schema field_ref_schema = { "ObjectFieldSelector", field_ref_fields, field_ref_check };

static void env_source_check(sw_vctx *c, json_t *o)
{
	size_t n = json_object_size(o);
	if (n == 0)
		sw_verr(c, "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`");
	else if (n > 1)
		sw_verr(c, "may not have more than one field specified at a time");
}
static const sw_field env_source_fields[] = {
	FLD("configMapKeyRef", T_OBJ, 0, &key_ref_schema, NULL, NULL),
	FLD("secretKeyRef", T_OBJ, 0, &key_ref_schema, NULL, NULL),
	FLD("fieldRef", T_OBJ, 0, &field_ref_schema, NULL, NULL),
	UNSUP("resourceFieldRef"),
	UNSUP("fileKeyRef"),
	END,
};
static const sw_schema env_source_schema = { "EnvVarSource", env_source_fields, env_source_check };

static void env_check(sw_vctx *c, json_t *o)
{
	const char *name = json_string_value(json_object_get(o, "name"));
	const char *why;
	if (name && *name && (why = sw_check_env_name(name)))
		sw_verr_at(c, "name", "invalid value \"%s\": %s", name, why);
	json_t *v = json_object_get(o, "value");
	if (json_object_get(o, "valueFrom") && v && json_string_length(v) > 0)
		sw_verr_at(c, "valueFrom", "may not be specified when `value` is not empty");
}
static const sw_field env_fields[] = {
	FR("name", T_STR), F("value", T_STR),
	FLD("valueFrom", T_OBJ, 0, &env_source_schema, NULL, NULL), END,
};
static const sw_schema env_schema = { "EnvVar", env_fields, env_check };

static const sw_field ref_fields[] = { F("name", T_STR), F("optional", T_BOOL), END };
static const sw_schema ref_schema = { "LocalObjectReference", ref_fields, NULL };

static void env_from_check(sw_vctx *c, json_t *o)
{
	bool cm = json_object_get(o, "configMapRef"), sec = json_object_get(o, "secretRef");
	if (cm == sec)
		sw_verr(c, cm ? "may not have more than one field specified at a time"
		              : "must specify one of: `configMapRef` or `secretRef`");
	const char *prefix = json_string_value(json_object_get(o, "prefix"));
	const char *why;
	if (prefix && *prefix && (why = sw_check_env_name(prefix)))
		sw_verr_at(c, "prefix", "invalid value \"%s\": %s", prefix, why);
}
static const sw_field env_from_fields[] = {
	F("prefix", T_STR),
	FLD("configMapRef", T_OBJ, 0, &ref_schema, NULL, NULL),
	FLD("secretRef", T_OBJ, 0, &ref_schema, NULL, NULL),
	END,
};
static const sw_schema env_from_schema = { "EnvFromSource", env_from_fields, env_from_check };

/* ---- ports, resources, mounts --------------------------------------------- */

static void port_check(sw_vctx *c, json_t *o)
{
	json_t *p = json_object_get(o, "containerPort");
	if (json_is_integer(p) && (json_integer_value(p) < 1 || json_integer_value(p) > 65535))
		sw_verr_at(c, "containerPort", "must be between 1 and 65535, inclusive");
	const char *name = json_string_value(json_object_get(o, "name"));
	const char *why;
	if (name && (why = sw_check_port_name(name)))
		sw_verr_at(c, "name", "invalid value \"%s\": %s", name, why);
}
static const sw_field port_fields[] = {
	F("name", T_STR),
	FR("containerPort", T_INT),
	FLD("protocol", T_STR, 0, NULL, "\"TCP\"", protocols),
	UNSUP_SET("hostPort"),
	UNSUP_SET("hostIP"),
	END,
};
static const sw_schema port_schema = { "ContainerPort", port_fields, port_check };

static void resources_check(sw_vctx *c, json_t *o)
{
	json_t *limits = json_object_get(o, "limits"), *requests = json_object_get(o, "requests");
	const char *k;
	json_t *rv;

	if (!json_is_object(limits) || !json_is_object(requests))
		return;
	json_object_foreach(requests, k, rv) {
		json_t *lv = json_object_get(limits, k);
		sw_quantity rq, lq;
		if (!lv || sw_quantity_from_json(&rq, rv, NULL) < 0 || sw_quantity_from_json(&lq, lv, NULL) < 0)
			continue;
		if (sw_quantity_cmp(&rq, &lq) > 0) {
			size_t old = sw_fpath_push_key(&c->path, "requests");
			sw_fpath_push_key(&c->path, k);
			sw_verr(c, "must be less than or equal to %s limit of %s", k, json_string_value(lv));
			sw_fpath_pop(&c->path, old);
		}
	}
}
static const sw_field resources_fields[] = {
	F("limits", T_QTY_MAP), F("requests", T_QTY_MAP), UNSUP_SET("claims"), END,
};
static const sw_schema resources_schema = { "ResourceRequirements", resources_fields, resources_check };

static const sw_field mount_fields[] = {
	FR("name", T_STR), FR("mountPath", T_STR), F("readOnly", T_BOOL), F("subPath", T_STR),
	UNSUP_SET("subPathExpr"), UNSUP_SET("mountPropagation"), UNSUP_SET("recursiveReadOnly"), END,
};
static const sw_schema mount_schema = { "VolumeMount", mount_fields, NULL };

/* ---- containers ------------------------------------------------------------ */

static const char *const pull_policies[] = { "Always", "Never", "IfNotPresent", NULL };
static const char *const message_policies[] = { "File", "FallbackToLogsOnError", NULL };

/* Always for ":latest" or no tag (and no digest), else IfNotPresent. */
static const char *default_pull_policy(const char *image)
{
	if (strchr(image, '@'))
		return "IfNotPresent";
	const char *slash = strrchr(image, '/');
	const char *colon = strrchr(slash ? slash : image, ':');
	if (!colon || !strcmp(colon, ":latest"))
		return "Always";
	return "IfNotPresent";
}

static bool has_port_named(json_t *ctr, const char *name)
{
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(ctr, "ports"), i, p) {
		const char *n = json_string_value(json_object_get(p, "name"));
		if (n && !strcmp(n, name))
			return true;
	}
	return false;
}

static void probe_rules(sw_vctx *c, json_t *ctr, const char *which)
{
	json_t *p = json_object_get(ctr, which);
	if (!json_is_object(p))
		return;
	size_t old = sw_fpath_push_key(&c->path, which);
	/* Kubernetes only finds out when the probe runs; say it now */
	static const char *const handlers[] = { "httpGet", "tcpSocket", NULL };
	for (const char *const *h = handlers; *h; h++) {
		const char *pn = json_string_value(sw_obj_path(json_object_get(p, *h), "port"));
		if (pn && !sw_check_port_name(pn) && !has_port_named(ctr, pn)) {
			size_t o2 = sw_fpath_push_key(&c->path, *h);
			sw_vwarn_at(c, "port", "the container has no port named \"%s\"; the probe will fail", pn);
			sw_fpath_pop(&c->path, o2);
		}
	}
	json_t *st = json_object_get(p, "successThreshold");
	if (strcmp(which, "readinessProbe") && json_is_integer(st) && json_integer_value(st) != 1)
		sw_verr_at(c, "successThreshold", "must be 1");
	if (!strcmp(which, "readinessProbe") && json_object_get(p, "terminationGracePeriodSeconds"))
		sw_verr_at(c, "terminationGracePeriodSeconds", "must not be set for readinessProbes");
	sw_fpath_pop(&c->path, old);
}

static void container_check(sw_vctx *c, json_t *ctr)
{
	const char *name = json_string_value(json_object_get(ctr, "name"));
	const char *image = json_string_value(json_object_get(ctr, "image"));
	const char *why;

	if (name && *name && (why = sw_check_dns1123_label(name)))
		sw_verr_at(c, "name", "invalid value \"%s\": %s", name, why);
	if (image && *image && !json_object_get(ctr, "imagePullPolicy"))
		json_object_set_new(ctr, "imagePullPolicy", json_string(default_pull_policy(image)));
	probe_rules(c, ctr, "livenessProbe");
	probe_rules(c, ctr, "readinessProbe");
	probe_rules(c, ctr, "startupProbe");

	/* port names unique within the container */
	json_t *ports = json_object_get(ctr, "ports");
	size_t i, j;
	json_t *p, *q;
	json_array_foreach(ports, i, p) {
		const char *pn = json_string_value(json_object_get(p, "name"));
		if (!pn)
			continue;
		json_array_foreach(ports, j, q) {
			if (j >= i)
				break;
			const char *qn = json_string_value(json_object_get(q, "name"));
			if (qn && !strcmp(pn, qn)) {
				size_t old = sw_fpath_push_key(&c->path, "ports");
				sw_fpath_push_index(&c->path, i);
				sw_verr_at(c, "name", "duplicate value \"%s\"", pn);
				sw_fpath_pop(&c->path, old);
				break;
			}
		}
	}
}

static const sw_field container_fields[] = {
	FR("name", T_STR),
	FR("image", T_STR),
	F("command", T_ARR_STR),
	F("args", T_ARR_STR),
	F("workingDir", T_STR),
	FLD("ports", T_ARR_OBJ, 0, &port_schema, NULL, NULL),
	FLD("envFrom", T_ARR_OBJ, 0, &env_from_schema, NULL, NULL),
	FLD("env", T_ARR_OBJ, 0, &env_schema, NULL, NULL),
	FLD("resources", T_OBJ, 0, &resources_schema, NULL, NULL),
	FLD("volumeMounts", T_ARR_OBJ, 0, &mount_schema, NULL, NULL),
	FLD("livenessProbe", T_OBJ, 0, &probe_schema, NULL, NULL),
	FLD("readinessProbe", T_OBJ, 0, &probe_schema, NULL, NULL),
	FLD("startupProbe", T_OBJ, 0, &probe_schema, NULL, NULL),
	FLD("lifecycle", T_OBJ, 0, &lifecycle_schema, NULL, NULL),
	FLD("terminationMessagePath", T_STR, 0, NULL, "\"/dev/termination-log\"", NULL),
	FLD("terminationMessagePolicy", T_STR, 0, NULL, "\"File\"", message_policies),
	FLD("imagePullPolicy", T_STR, 0, NULL, NULL, pull_policies),
	UNSUP_SET("securityContext"),
	UNSUP_SET("stdin"),
	UNSUP_SET("stdinOnce"),
	UNSUP_SET("tty"),
	UNSUP_SET("volumeDevices"),
	UNSUP_SET("resizePolicy"),
	UNSUP_SET("restartPolicy"),
	UNSUP_SET("restartPolicyRules"),
	END,
};
static const sw_schema container_schema = { "Container", container_fields, container_check };

/* ---- volumes --------------------------------------------------------------- */

static void key_path_check(sw_vctx *c, json_t *o)
{
	const char *p = json_string_value(json_object_get(o, "path"));
	if (p && (p[0] == '/' || !strcmp(p, "..") || !strncmp(p, "../", 3) || strstr(p, "/../") ||
	          (strlen(p) >= 3 && !strcmp(p + strlen(p) - 3, "/.."))))
		sw_verr_at(c, "path", "must be a relative path without '..'");
	json_t *mode = json_object_get(o, "mode");
	if (json_is_integer(mode) && (json_integer_value(mode) < 0 || json_integer_value(mode) > 0777))
		sw_verr_at(c, "mode", "must be a number between 0 and 0777 (octal), both inclusive");
}
static const sw_field key_path_fields[] = { FR("key", T_STR), FR("path", T_STR), F("mode", T_INT), END };
static const sw_schema key_path_schema = { "KeyToPath", key_path_fields, key_path_check };

static void mode_check(sw_vctx *c, json_t *o)
{
	json_t *mode = json_object_get(o, "defaultMode");
	if (json_is_integer(mode) && (json_integer_value(mode) < 0 || json_integer_value(mode) > 0777))
		sw_verr_at(c, "defaultMode", "must be a number between 0 and 0777 (octal), both inclusive");
}

static const sw_field cm_vol_fields[] = {
	FR("name", T_STR),
	FLD("items", T_ARR_OBJ, 0, &key_path_schema, NULL, NULL),
	FLD("defaultMode", T_INT, 0, NULL, "420", NULL),
	F("optional", T_BOOL),
	END,
};
static const sw_schema cm_vol_schema = { "ConfigMapVolumeSource", cm_vol_fields, mode_check };

static const sw_field secret_vol_fields[] = {
	FR("secretName", T_STR),
	FLD("items", T_ARR_OBJ, 0, &key_path_schema, NULL, NULL),
	FLD("defaultMode", T_INT, 0, NULL, "420", NULL),
	F("optional", T_BOOL),
	END,
};
static const sw_schema secret_vol_schema = { "SecretVolumeSource", secret_vol_fields, mode_check };

static const char *const media[] = { "", "Memory", NULL };
static const sw_field empty_dir_fields[] = {
	FLD("medium", T_STR, 0, NULL, NULL, media), F("sizeLimit", T_QTY), END,
};
static const sw_schema empty_dir_schema = { "EmptyDirVolumeSource", empty_dir_fields, NULL };

static const char *const volume_sources[] = {
	"emptyDir", "configMap", "secret", "hostPath", "persistentVolumeClaim", "projected",
	"downwardAPI", "nfs", "csi", "ephemeral", "image", "iscsi", "rbd", "cephfs", "cinder",
	"fc", "flexVolume", "flocker", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo",
	"glusterfs", "azureDisk", "azureFile", "vsphereVolume", "quobyte", "photonPersistentDisk",
	"portworxVolume", "scaleIO", "storageos", NULL,
};

static void volume_check(sw_vctx *c, json_t *o)
{
	size_t n = 0;
	const char *name = json_string_value(json_object_get(o, "name"));
	const char *why;

	if (name && *name && (why = sw_check_dns1123_label(name)))
		sw_verr_at(c, "name", "invalid value \"%s\": %s", name, why);
	for (const char *const *s = volume_sources; *s; s++)
		if (json_object_get(o, *s))
			n++;
	if (n == 0)
		json_object_set_new(o, "emptyDir", json_object()); /* Kubernetes' default */
	else if (n > 1)
		sw_verr(c, "may not specify more than 1 volume type");
}

static const sw_field volume_fields[] = {
	FR("name", T_STR),
	FLD("emptyDir", T_OBJ, 0, &empty_dir_schema, NULL, NULL),
	FLD("configMap", T_OBJ, 0, &cm_vol_schema, NULL, NULL),
	FLD("secret", T_OBJ, 0, &secret_vol_schema, NULL, NULL),
	UNSUP("hostPath"), UNSUP("persistentVolumeClaim"), UNSUP("projected"), UNSUP("downwardAPI"),
	UNSUP("nfs"), UNSUP("csi"), UNSUP("ephemeral"), UNSUP("image"), UNSUP("iscsi"), UNSUP("rbd"),
	UNSUP("cephfs"), UNSUP("cinder"), UNSUP("fc"), UNSUP("flexVolume"), UNSUP("flocker"),
	UNSUP("gcePersistentDisk"), UNSUP("awsElasticBlockStore"), UNSUP("gitRepo"), UNSUP("glusterfs"),
	UNSUP("azureDisk"), UNSUP("azureFile"), UNSUP("vsphereVolume"), UNSUP("quobyte"),
	UNSUP("photonPersistentDisk"), UNSUP("portworxVolume"), UNSUP("scaleIO"), UNSUP("storageos"),
	END,
};
static const sw_schema volume_schema = { "Volume", volume_fields, volume_check };

/* ---- PodSpec --------------------------------------------------------------- */

static bool has_volume(json_t *volumes, const char *name)
{
	size_t i;
	json_t *v;
	json_array_foreach(volumes, i, v) {
		const char *n = json_string_value(json_object_get(v, "name"));
		if (n && !strcmp(n, name))
			return true;
	}
	return false;
}

static void unique_names(sw_vctx *c, json_t *list, const char *field)
{
	size_t i, j;
	json_t *a, *b;
	json_array_foreach(list, i, a) {
		const char *an = json_string_value(json_object_get(a, "name"));
		if (!an)
			continue;
		json_array_foreach(list, j, b) {
			if (j >= i)
				break;
			const char *bn = json_string_value(json_object_get(b, "name"));
			if (bn && !strcmp(an, bn)) {
				size_t old = sw_fpath_push_key(&c->path, field);
				sw_fpath_push_index(&c->path, i);
				sw_verr_at(c, "name", "duplicate value \"%s\"", an);
				sw_fpath_pop(&c->path, old);
				break;
			}
		}
	}
}

static void pod_spec_check(sw_vctx *c, json_t *spec)
{
	json_t *containers = json_object_get(spec, "containers");
	json_t *volumes = json_object_get(spec, "volumes");
	size_t i, j;
	json_t *ctr, *m;

	if (json_is_array(containers) && json_array_size(containers) == 0)
		sw_verr_at(c, "containers", "required value");
	unique_names(c, containers, "containers");
	unique_names(c, volumes, "volumes");
	json_array_foreach(containers, i, ctr) {
		json_t *mounts = json_object_get(ctr, "volumeMounts");
		json_array_foreach(mounts, j, m) {
			const char *vn = json_string_value(json_object_get(m, "name"));
			if (!vn || has_volume(volumes, vn))
				continue;
			size_t old = sw_fpath_push_key(&c->path, "containers");
			sw_fpath_push_index(&c->path, i);
			sw_fpath_push_key(&c->path, "volumeMounts");
			sw_fpath_push_index(&c->path, j);
			sw_verr_at(c, "name", "not found: no volume named \"%s\"", vn);
			sw_fpath_pop(&c->path, old);
		}
		/* a Pod (not a template) gets requests copied from limits */
		json_t *res = json_object_get(ctr, "resources");
		json_t *limits = json_object_get(res, "limits");
		if (c->kind && !strcmp(c->kind, "Pod") && json_is_object(limits) && json_object_size(limits)) {
			json_t *requests = json_object_get(res, "requests");
			if (!json_is_object(requests)) {
				requests = json_object();
				json_object_set_new(res, "requests", requests);
			}
			const char *k;
			json_t *v;
			json_object_foreach(limits, k, v)
				if (!json_object_get(requests, k))
					json_object_set(requests, k, v);
		}
	}
}

static const char *const restart_policies[] = { "Always", "OnFailure", "Never", NULL };
static const char *const dns_policies[] = { "ClusterFirst", "ClusterFirstWithHostNet", "Default", "None", NULL };

static const sw_field pod_spec_fields[] = {
	FLD("containers", T_ARR_OBJ, F_REQ, &container_schema, NULL, NULL),
	FLD("volumes", T_ARR_OBJ, 0, &volume_schema, NULL, NULL),
	FLD("restartPolicy", T_STR, 0, NULL, "\"Always\"", restart_policies),
	FLD("terminationGracePeriodSeconds", T_INT, F_NONNEG | F_I64, NULL, "30", NULL),
	FLD("dnsPolicy", T_STR, 0, NULL, "\"ClusterFirst\"", dns_policies),
	FLD("schedulerName", T_STR, 0, NULL, "\"default-scheduler\"", NULL),
	FLD("securityContext", T_ANY, F_UNSUP_SET, NULL, "{}", NULL),
	F("hostname", T_STR),
	F("subdomain", T_STR),
	F("serviceAccountName", T_STR),
	F("serviceAccount", T_STR),
	F("nodeName", T_STR),
	UNSUP_SET("initContainers"), UNSUP_SET("ephemeralContainers"), UNSUP_SET("activeDeadlineSeconds"),
	UNSUP_SET("nodeSelector"), UNSUP_SET("affinity"), UNSUP_SET("tolerations"),
	/* slipway's pods always share the host network: either value is fine */
	F("hostNetwork", T_BOOL), UNSUP_SET("hostPID"), UNSUP_SET("hostIPC"),
	UNSUP_SET("automountServiceAccountToken"), UNSUP_SET("priorityClassName"), UNSUP_SET("priority"),
	UNSUP_SET("imagePullSecrets"), UNSUP_SET("topologySpreadConstraints"),
	UNSUP_SET("runtimeClassName"), UNSUP_SET("enableServiceLinks"), UNSUP_SET("shareProcessNamespace"),
	UNSUP_SET("readinessGates"), UNSUP_SET("dnsConfig"), UNSUP_SET("hostAliases"),
	UNSUP_SET("preemptionPolicy"), UNSUP_SET("overhead"), UNSUP_SET("setHostnameAsFQDN"),
	UNSUP_SET("os"), UNSUP_SET("schedulingGates"), UNSUP_SET("resourceClaims"),
	UNSUP_SET("hostUsers"), UNSUP_SET("resources"),
	END,
};
const sw_schema sw_schema_pod_spec = { "PodSpec", pod_spec_fields, pod_spec_check };

static const sw_field pod_template_fields[] = {
	FLD("metadata", T_OBJ, 0, &sw_schema_object_meta, "{}", NULL),
	FLD("spec", T_OBJ, F_REQ, &sw_schema_pod_spec, NULL, NULL),
	END,
};
const sw_schema sw_schema_pod_template = { "PodTemplateSpec", pod_template_fields, NULL };
