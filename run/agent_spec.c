/*
 * agent_spec.c - turns a pod's container spec into the runtime's
 * sw_ctr_config: the environment (PORT, env with value/valueFrom, envFrom,
 * $(VAR) expansion), volumes (emptyDir folders, ConfigMap and Secret
 * files, the latter on the pod's tmpfs) mounted at volumeMounts, and
 * resources. A missing ConfigMap, Secret or key is the kubelet's
 * CreateContainerConfigError with its message; the agent retries at the
 * next sync.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_int.h"
#include "slipway/agent.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/kinds.h"
#include "slipway/manifest.h"
#include "slipway/mem.h"
#include "slipway/object.h"
#include "slipway/path.h"
#include "slipway/statedir.h"

/* ---- helpers ------------------------------------------------------------ */

static const unsigned char b64_rev[256] = {
	['A'] = 1,  ['B'] = 2,  ['C'] = 3,  ['D'] = 4,  ['E'] = 5,  ['F'] = 6,  ['G'] = 7,
	['H'] = 8,  ['I'] = 9,  ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14,
	['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21,
	['V'] = 22, ['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28,
	['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35,
	['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
	['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49,
	['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
	['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63,
	['/'] = 64,
};

int sw_agent_base64_decode(char **out, size_t *len, const char *s, sw_error **err)
{
	size_t n = strlen(s);
	char *buf = sw_xmalloc(n / 4 * 3 + 4);
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	size_t i;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '=')
			break;
		if (ch == '\n' || ch == '\r')
			continue;
		if (!b64_rev[ch]) {
			free(buf);
			return sw_error_set(err, SW_EINVALID, "illegal base64 data at input byte %zu", i);
		}
		acc = acc << 6 | (uint32_t)(b64_rev[ch] - 1);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (char)(acc >> bits & 0xff);
		}
	}
	buf[o] = '\0';
	*out = buf;
	if (len)
		*len = o;
	return 0;
}

char *sw_agent_pod_fullname(const json_t *pod)
{
	const char *name = sw_obj_name(pod), *ns = sw_obj_namespace(pod), *uid = sw_obj_uid(pod);
	return sw_xasprintf("%s_%s(%s)", name ? name : "", ns ? ns : "default", uid ? uid : "");
}

/* A C identifier-ish env name as Kubernetes accepts ([-._a-zA-Z][-._a-zA-Z0-9]*). */
static bool env_name_ok(const char *s)
{
	if (!*s || isdigit((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}

/* Kubernetes' $(VAR) expansion: a defined VAR is replaced, $$ is a
 * literal $, anything else stays as written. */
static char *expand(const char *s, const json_t *env)
{
	sw_buf b = SW_BUF_INIT(0);
	while (*s) {
		if (s[0] == '$' && s[1] == '$') {
			sw_buf_addc(&b, '$', NULL);
			s += 2;
			continue;
		}
		if (s[0] == '$' && s[1] == '(') {
			const char *close = strchr(s + 2, ')');
			if (close) {
				char *name = sw_xstrndup(s + 2, (size_t)(close - s - 2));
				const char *v = json_string_value(json_object_get(env, name));
				free(name);
				if (v) {
					sw_buf_addstr(&b, v, NULL);
					s = close + 1;
					continue;
				}
			}
		}
		sw_buf_addc(&b, *s, NULL);
		s++;
	}
	return sw_buf_detach(&b);
}

static void env_set(json_t *env, const char *name, const char *value)
{
	/* a later definition replaces an earlier one but keeps its place */
	json_object_set_new(env, name, json_string(value));
}

/* ---- ConfigMaps and Secrets -------------------------------------------- */

typedef struct src_cache {
	sw_store *store;
	const char *ns;
	json_t *objs;   /* "configmaps/NAME" -> object or null */
} src_cache;

/* The ConfigMap or Secret named name, NULL (and *err) when missing. */
static const json_t *src_get(src_cache *sc, bool secret, const char *name, sw_error **err)
{
	char key[300];
	snprintf(key, sizeof(key), "%s/%s", secret ? "secrets" : "configmaps", name);
	json_t *o = json_object_get(sc->objs, key);
	if (!o) {
		const sw_kind *k = sw_kind_by_resource("", secret ? "secrets" : "configmaps");
		json_t *got = NULL;
		sw_error *e = NULL;
		if (k && sw_store_get(sc->store, k, sc->ns, name, &got, &e) == 0) {
			o = got;
		} else {
			o = json_null();
			sw_error_free(e);
		}
		json_object_set_new(sc->objs, key, o);
	}
	if (json_is_null(o)) {
		sw_error_set(err, SW_ENOTFOUND, "%s \"%s\" not found", secret ? "secret" : "configmap", name);
		return NULL;
	}
	return o;
}

/* The value of key in a ConfigMap (data, binaryData) or Secret (data
 * base64, stringData); *out is the caller's; NULL data when missing. */
static int src_value(const json_t *obj, bool secret, const char *key, char **out, size_t *len,
                     sw_error **err)
{
	*out = NULL;
	if (secret) {
		const char *s = json_string_value(json_object_get(json_object_get(obj, "stringData"), key));
		if (s) {
			*out = sw_xstrdup(s);
			*len = strlen(s);
			return 0;
		}
		const char *b = json_string_value(json_object_get(json_object_get(obj, "data"), key));
		if (!b)
			return 0;
		if (sw_agent_base64_decode(out, len, b, err) < 0)
			return sw_error_wrap(err, "secret %s key %s", sw_obj_name(obj), key);
		return 0;
	}
	const char *s = json_string_value(json_object_get(json_object_get(obj, "data"), key));
	if (s) {
		*out = sw_xstrdup(s);
		*len = strlen(s);
		return 0;
	}
	const char *b = json_string_value(json_object_get(json_object_get(obj, "binaryData"), key));
	if (b && sw_agent_base64_decode(out, len, b, err) < 0)
		return sw_error_wrap(err, "configmap %s key %s", sw_obj_name(obj), key);
	return 0;
}

/* Every key of a ConfigMap or Secret, in a new object key -> true. */
static json_t *src_keys(const json_t *obj, bool secret)
{
	json_t *keys = json_object();
	static const char *const cm_fields[] = { "data", "binaryData", NULL };
	static const char *const sec_fields[] = { "data", "stringData", NULL };
	for (const char *const *f = secret ? sec_fields : cm_fields; *f; f++) {
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(obj, *f), k, v)
			json_object_set_new(keys, k, json_true());
	}
	return keys;
}

/* ---- the environment ------------------------------------------------------ */

static const char *field_ref(const json_t *pod, const char *path, char *buf, size_t n)
{
	if (!strcmp(path, "metadata.name"))
		return sw_obj_name(pod);
	if (!strcmp(path, "metadata.namespace"))
		return sw_obj_namespace(pod);
	if (!strcmp(path, "metadata.uid"))
		return sw_obj_uid(pod);
	if (!strcmp(path, "spec.nodeName"))
		return SW_AGENT_NODE_NAME;
	if (!strcmp(path, "spec.serviceAccountName")) {
		const char *s = sw_obj_str(pod, "spec.serviceAccountName");
		return s ? s : "default";
	}
	if (!strcmp(path, "status.podIP") || !strcmp(path, "status.hostIP") ||
	    !strcmp(path, "status.podIPs") || !strcmp(path, "status.hostIPs"))
		return "127.0.0.1";
	const char *pfx[] = { "metadata.labels['", "metadata.annotations['" };
	for (size_t i = 0; i < 2; i++) {
		size_t l = strlen(pfx[i]);
		size_t pl = strlen(path);
		if (!strncmp(path, pfx[i], l) && pl > l + 2 && !strcmp(path + pl - 2, "']")) {
			snprintf(buf, n, "%.*s", (int)(pl - l - 2), path + l);
			json_t *m = sw_obj_path(pod, i == 0 ? "metadata.labels" : "metadata.annotations");
			const char *v = json_string_value(json_object_get(m, buf));
			return v ? v : "";
		}
	}
	return NULL;
}

/* A resourceFieldRef (limits.cpu, requests.memory, ...) as the kubelet
 * renders it: cpu in whole cores rounded up (divisor 1), memory in bytes. */
static char *resource_ref(const json_t *ctr, const json_t *ref)
{
	const char *res = sw_obj_str(ref, "resource");
	if (!res)
		return NULL;
	const char *dot = strchr(res, '.');
	if (!dot)
		return NULL;
	char section[32];
	snprintf(section, sizeof(section), "%.*s", (int)(dot - res), res);
	json_t *q = json_object_get(json_object_get(json_object_get(ctr, "resources"), section), dot + 1);
	if (!q && !strcmp(section, "requests"))
		q = json_object_get(sw_obj_path(ctr, "resources.limits"), dot + 1);
	if (!q)
		return NULL;
	sw_quantity qty;
	int64_t v = 0;
	if (sw_quantity_from_json(&qty, q, NULL) < 0)
		return NULL;
	if (!strcmp(dot + 1, "cpu")) {
		if (sw_quantity_milli(&qty, &v, NULL) < 0)
			return NULL;
		const char *div = sw_obj_str(ref, "divisor");
		if (div && !strcmp(div, "1m"))
			return sw_xasprintf("%lld", (long long)v);
		return sw_xasprintf("%lld", (long long)((v + 999) / 1000));
	}
	if (sw_quantity_value(&qty, &v, NULL) < 0)
		return NULL;
	return sw_xasprintf("%lld", (long long)v);
}

static int build_env(json_t *env, src_cache *sc, const json_t *pod, const json_t *ctr, int port,
                     sw_error **err)
{
	char portbuf[16];
	snprintf(portbuf, sizeof(portbuf), "%d", port);
	if (port > 0)
		env_set(env, "PORT", portbuf);

	size_t i;
	json_t *ef;
	json_array_foreach(json_object_get(ctr, "envFrom"), i, ef) {
		const char *prefix = sw_obj_str(ef, "prefix");
		bool secret = json_object_get(ef, "secretRef") != NULL;
		json_t *ref = json_object_get(ef, secret ? "secretRef" : "configMapRef");
		const char *name = sw_obj_str(ref, "name");
		if (!name)
			continue;
		sw_error *e = NULL;
		const json_t *src = src_get(sc, secret, name, &e);
		if (!src) {
			if (sw_obj_bool(ref, "optional", false)) {
				sw_error_free(e);
				continue;
			}
			*err = e;
			return SW_ENOTFOUND;
		}
		cleanup_json json_t *keys = src_keys(src, secret);
		const char *k;
		json_t *v;
		json_object_foreach(keys, k, v) {
			cleanup_free char *full = sw_xasprintf("%s%s", prefix ? prefix : "", k);
			if (!env_name_ok(full))
				continue;   /* the kubelet skips (and warns about) invalid names */
			cleanup_free char *val = NULL;
			size_t len = 0;
			if (src_value(src, secret, k, &val, &len, err) < 0)
				return SW_EINVALID;
			if (val)
				env_set(env, full, val);
		}
	}

	json_t *ev;
	json_array_foreach(json_object_get(ctr, "env"), i, ev) {
		const char *name = sw_obj_str(ev, "name");
		if (!name || !*name)
			continue;
		json_t *from = json_object_get(ev, "valueFrom");
		if (!from) {
			const char *value = sw_obj_str(ev, "value");
			cleanup_free char *x = expand(value ? value : "", env);
			env_set(env, name, x);
			continue;
		}
		json_t *cmk = json_object_get(from, "configMapKeyRef");
		json_t *sk = json_object_get(from, "secretKeyRef");
		json_t *fr = json_object_get(from, "fieldRef");
		json_t *rr = json_object_get(from, "resourceFieldRef");
		if (cmk || sk) {
			bool secret = sk != NULL;
			json_t *ref = secret ? sk : cmk;
			const char *sname = sw_obj_str(ref, "name"), *key = sw_obj_str(ref, "key");
			bool optional = sw_obj_bool(ref, "optional", false);
			sw_error *e = NULL;
			const json_t *src = sname ? src_get(sc, secret, sname, &e) : NULL;
			if (!src) {
				if (optional) {
					sw_error_free(e);
					continue;
				}
				if (!e)
					sw_error_set(&e, SW_EINVALID, "env %s: no %s name", name,
					             secret ? "secret" : "configmap");
				*err = e;
				return SW_ENOTFOUND;
			}
			cleanup_free char *val = NULL;
			size_t len = 0;
			if (key && src_value(src, secret, key, &val, &len, err) < 0)
				return SW_EINVALID;
			if (!val) {
				if (optional)
					continue;
				return sw_error_set(err, SW_ENOTFOUND, "couldn't find key %s in %s %s/%s",
				                    key ? key : "", secret ? "Secret" : "ConfigMap",
				                    sw_obj_namespace(pod), sname);
			}
			env_set(env, name, val);
		} else if (fr) {
			char buf[256];
			const char *path = sw_obj_str(fr, "fieldPath");
			const char *v = path ? field_ref(pod, path, buf, sizeof(buf)) : NULL;
			if (!v)
				return sw_error_set(err, SW_EINVALID, "env %s: unsupported fieldRef %s", name,
				                    path ? path : "(none)");
			env_set(env, name, v);
		} else if (rr) {
			cleanup_free char *v = resource_ref(ctr, rr);
			env_set(env, name, v ? v : "0");
		}
	}
	/* the platform's port wins: pods share the host network, so the app
	 * must listen where the agent allocated */
	if (port > 0)
		env_set(env, "PORT", portbuf);
	return 0;
}

/* ---- volumes ----------------------------------------------------------------- */

static int write_file_mode(const char *dir, const char *rel, const char *data, size_t len,
                           unsigned mode, sw_error **err)
{
	cleanup_free char *path = NULL;
	if (sw_path_join_under(&path, dir, rel, err) < 0)
		return -1;
	cleanup_free char *parent = sw_xstrdup(path);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		if (sw_mkdir_p(parent, 0755, 0755, err) < 0)
			return -1;
	}
	if (sw_write_file_atomic(path, data, len, (mode_t)mode, err) < 0)
		return -1;
	if (chmod(path, (mode_t)mode) < 0)
		return sw_error_set_errno(err, errno, "chmod %s", path);
	return 0;
}

/* Writes a ConfigMap's or Secret's keys (or the items asked for) into dir. */
static int fill_volume(const char *dir, src_cache *sc, const json_t *vol, bool secret, bool *missing,
                       sw_error **err)
{
	*missing = false;
	const char *name = sw_obj_str(vol, secret ? "secretName" : "name");
	bool optional = sw_obj_bool(vol, "optional", false);
	unsigned mode = (unsigned)sw_obj_int(vol, "defaultMode", 0644) & 07777;
	if (!name)
		return sw_error_set(err, SW_EINVALID, "no %s", secret ? "secretName" : "name");
	sw_error *e = NULL;
	const json_t *src = src_get(sc, secret, name, &e);
	if (!src) {
		if (optional) {
			sw_error_free(e);
			return 0;
		}
		*missing = true;
		*err = e;
		return SW_ENOTFOUND;
	}
	json_t *items = json_object_get(vol, "items");
	if (json_array_size(items)) {
		size_t i;
		json_t *it;
		json_array_foreach(items, i, it) {
			const char *key = sw_obj_str(it, "key"), *path = sw_obj_str(it, "path");
			if (!key || !path)
				continue;
			cleanup_free char *val = NULL;
			size_t len = 0;
			if (src_value(src, secret, key, &val, &len, err) < 0)
				return -1;
			if (!val) {
				if (optional)
					continue;
				*missing = true;
				return sw_error_set(err, SW_ENOTFOUND, "configmap references non-existent config key: %s",
				                    key);
			}
			unsigned m = (unsigned)sw_obj_int(it, "mode", mode) & 07777;
			if (write_file_mode(dir, path, val, len, m, err) < 0)
				return sw_error_wrap(err, "item %s", key);
		}
		return 0;
	}
	cleanup_json json_t *keys = src_keys(src, secret);
	const char *k;
	json_t *v;
	json_object_foreach(keys, k, v) {
		if (strchr(k, '/') || !strcmp(k, ".") || !strcmp(k, ".."))
			continue;
		cleanup_free char *val = NULL;
		size_t len = 0;
		if (src_value(src, secret, k, &val, &len, err) < 0)
			return -1;
		if (val && write_file_mode(dir, k, val, len, mode, err) < 0)
			return -1;
	}
	return 0;
}

static const json_t *find_volume(const json_t *pod, const char *name)
{
	size_t i;
	json_t *v;
	json_array_foreach(sw_obj_path(pod, "spec.volumes"), i, v) {
		const char *n = sw_obj_str(v, "name");
		if (n && !strcmp(n, name))
			return v;
	}
	return NULL;
}

static bool name_ok(const char *s)
{
	if (!*s || strlen(s) > 63)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return false;
	return true;
}

/* The host folder of a volume, prepared (files written); caller frees. */
static int volume_dir(char **out, sw_podrt *rt, const char *uid, src_cache *sc, const json_t *vol,
                      bool *readonly, bool *missing, sw_error **err)
{
	const char *name = sw_obj_str(vol, "name");
	*readonly = false;
	*missing = false;
	if (!name || !name_ok(name) || !strcmp(name, ".") || !strcmp(name, ".."))
		return sw_error_set(err, SW_EINVALID, "volume name \"%s\" is not valid", name ? name : "");
	bool secret = json_object_get(vol, "secret") != NULL;
	bool cm = json_object_get(vol, "configMap") != NULL;
	bool empty = json_object_get(vol, "emptyDir") != NULL;
	if (!secret && !cm && !empty)
		return sw_error_set(err, SW_EINVALID, "volume %s: unsupported volume type (emptyDir, configMap "
		                    "and secret are supported)", name);
	cleanup_free char *base = NULL;
	if (secret ? sw_podrt_secret_dir(rt, uid, &base, err) < 0 : sw_podrt_pod_dir(rt, uid, &base, err) < 0)
		return -1;
	cleanup_free char *dir = secret ? sw_xasprintf("%s/%s", base, name)
	                                : sw_xasprintf("%s/volumes/%s", base, name);
	if (sw_mkdir_p(dir, 0755, empty ? 0777 : 0755, err) < 0)
		return -1;
	if (empty) {
		/* as Kubernetes: world-writable, so a non-root app can use it */
		if (chmod(dir, 0777) < 0)
			return sw_error_set_errno(err, errno, "chmod %s", dir);
	} else {
		*readonly = true;
		if (fill_volume(dir, sc, json_object_get(vol, secret ? "secret" : "configMap"), secret, missing,
		                err) < 0)
			return sw_error_wrap(err, "volume %s", name);
	}
	*out = steal_pointer(&dir);
	return 0;
}

/* ---- the whole config -------------------------------------------------------- */

static char **strv_from_json(const json_t *arr, const json_t *env)
{
	if (!json_is_array(arr))
		return NULL;
	size_t n = json_array_size(arr);
	char **v = sw_xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(arr, i));
		v[i] = expand(s ? s : "", env);
	}
	return v;
}

static int quantity(const json_t *q, bool cpu, int64_t *out, sw_error **err)
{
	sw_quantity qty;
	if (!q) {
		*out = 0;
		return 0;
	}
	if (sw_quantity_from_json(&qty, q, err) < 0)
		return -1;
	return cpu ? sw_quantity_milli(&qty, out, err) : sw_quantity_value(&qty, out, err);
}

static int stop_signal(const char *name)
{
	static const struct { const char *n; int s; } sigs[] = {
		{ "SIGTERM", SIGTERM }, { "SIGINT", SIGINT },   { "SIGQUIT", SIGQUIT },
		{ "SIGKILL", SIGKILL }, { "SIGHUP", SIGHUP },   { "SIGUSR1", SIGUSR1 },
		{ "SIGUSR2", SIGUSR2 }, { "SIGWINCH", SIGWINCH },
	};
	if (!name)
		return 0;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (!strcmp(name, sigs[i].n) || !strcmp(name, sigs[i].n + 3))
			return sigs[i].s;
	return 0;
}

void sw_ctr_build_release(sw_ctr_build *b)
{
	sw_strv_free(b->env);
	sw_strv_free(b->command);
	sw_strv_free(b->args);
	for (size_t i = 0; i < b->nmounts; i++) {
		free((char *)b->mounts[i].source);
		free((char *)b->mounts[i].target);
	}
	free(b->mounts);
	memset(b, 0, sizeof(*b));
}

int sw_ctr_build_config(sw_ctr_build *b, sw_store *store, sw_podrt *rt, const json_t *pod,
                        const json_t *ctr, const json_t *ports, unsigned instance, const char **reason,
                        sw_error **err)
{
	memset(b, 0, sizeof(*b));
	*reason = "CreateContainerConfigError";
	const char *name = sw_obj_str(ctr, "name");
	const char *uid = sw_obj_uid(pod);
	src_cache sc = { .store = store, .ns = sw_obj_namespace(pod), .objs = json_object() };
	cleanup_json json_t *objs = sc.objs;
	cleanup_json json_t *env = json_object();
	int port = sw_ports_first(ports, name);
	if (build_env(env, &sc, pod, ctr, port, err) < 0)
		return -1;
	size_t n = json_object_size(env), i = 0;
	b->env = sw_xcalloc(n + 1, sizeof(char *));
	const char *k;
	json_t *v;
	json_object_foreach(env, k, v)
		b->env[i++] = sw_xasprintf("%s=%s", k, json_string_value(v));
	b->command = strv_from_json(json_object_get(ctr, "command"), env);
	b->args = strv_from_json(json_object_get(ctr, "args"), env);

	json_t *vms = json_object_get(ctr, "volumeMounts");
	b->mounts = sw_xcalloc(json_array_size(vms) + 1, sizeof(sw_ctr_mount));
	json_t *vm;
	json_array_foreach(vms, i, vm) {
		const char *vname = sw_obj_str(vm, "name"), *target = sw_obj_str(vm, "mountPath");
		if (!vname || !target || target[0] != '/') {
			sw_ctr_build_release(b);
			return sw_error_set(err, SW_EINVALID, "volumeMounts[%zu]: needs a name and an absolute "
			                    "mountPath", i);
		}
		const json_t *vol = find_volume(pod, vname);
		if (!vol) {
			sw_ctr_build_release(b);
			return sw_error_set(err, SW_EINVALID, "volumeMounts[%zu]: no volume named %s", i, vname);
		}
		cleanup_free char *dir = NULL;
		bool ro = false, missing = false;
		if (volume_dir(&dir, rt, uid, &sc, vol, &ro, &missing, err) < 0) {
			sw_ctr_build_release(b);
			return -1;
		}
		const char *sub = sw_obj_str(vm, "subPath");
		char *src = NULL;
		if (sub && *sub) {
			if (sw_path_join_under(&src, dir, sub, err) < 0) {
				sw_ctr_build_release(b);
				return sw_error_wrap(err, "volumeMounts[%zu].subPath", i);
			}
			if (access(src, F_OK) < 0 && mkdir(src, 0777) < 0 && errno != EEXIST) {
				int e = errno;
				free(src);
				sw_ctr_build_release(b);
				return sw_error_set_errno(err, e, "subPath %s", sub);
			}
		} else {
			src = steal_pointer(&dir);
		}
		sw_ctr_mount *m = &b->mounts[b->nmounts++];
		m->type = "bind";
		m->source = src;
		m->target = sw_xstrdup(target);
		m->readonly = ro || sw_obj_bool(vm, "readOnly", false);
	}

	*reason = "CreateContainerError";
	json_t *res = json_object_get(ctr, "resources");
	json_t *lim = json_object_get(res, "limits"), *req = json_object_get(res, "requests");
	json_t *cpu_req = json_object_get(req, "cpu");
	if (!cpu_req)
		cpu_req = json_object_get(lim, "cpu");   /* requests default to limits */
	if (quantity(json_object_get(lim, "cpu"), true, &b->cfg.cpu_limit_milli, err) < 0 ||
	    quantity(cpu_req, true, &b->cfg.cpu_request_milli, err) < 0 ||
	    quantity(json_object_get(lim, "memory"), false, &b->cfg.memory_limit_bytes, err) < 0) {
		sw_ctr_build_release(b);
		return sw_error_wrap(err, "container %s resources", name);
	}

	b->cfg.pod_uid = uid;
	b->cfg.ns = sw_obj_namespace(pod);
	b->cfg.pod_name = sw_obj_name(pod);
	b->cfg.container = name;
	b->cfg.image = sw_obj_str(ctr, "image");
	b->cfg.command = (const char *const *)b->command;
	b->cfg.args = (const char *const *)b->args;
	b->cfg.env = (const char *const *)b->env;
	b->cfg.working_dir = sw_obj_str(ctr, "workingDir");
	int64_t run_uid = sw_obj_int(ctr, "securityContext.runAsUser",
	                             sw_obj_int(pod, "spec.securityContext.runAsUser", -1));
	int64_t run_gid = sw_obj_int(ctr, "securityContext.runAsGroup",
	                             sw_obj_int(pod, "spec.securityContext.runAsGroup", -1));
	if (run_uid >= 0) {
		if (run_gid >= 0)
			snprintf(b->user, sizeof(b->user), "%lld:%lld", (long long)run_uid, (long long)run_gid);
		else
			snprintf(b->user, sizeof(b->user), "%lld", (long long)run_uid);
		b->cfg.user = b->user;
	}
	b->cfg.mounts = b->mounts;
	b->cfg.nmounts = b->nmounts;
	b->cfg.stop_signal = stop_signal(sw_obj_str(ctr, "lifecycle.stopSignal"));
	b->cfg.instance = instance;
	*reason = NULL;
	return 0;
}
