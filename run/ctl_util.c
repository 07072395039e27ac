/*
 * ctl_util.c - the pure parts of the Kubernetes controller algorithms, on
 * jansson objects: pod-template-hash, maxSurge/maxUnavailable resolution,
 * conditions, pod readiness and availability, the ReplicaSet scale-down
 * victim order, revision annotations and proportional-scaling fractions.
 * They follow pkg/controller/deployment/util/deployment_util.go and
 * pkg/controller/controller_utils.go. No store access here.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_internal.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/object.h"

uint32_t sw_ctl_fnv1a32(uint32_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

void sw_ctl_safe_encode(char *s)
{
	static const char alphanums[] = "bcdfghjklmnpqrstvwxz2456789";
	for (; *s; s++)
		*s = alphanums[(unsigned char)*s % (sizeof(alphanums) - 1)];
}

/* A deep copy of a pod template without the pod-template-hash label (and
 * without an empty labels object left behind). */
static json_t *template_without_hash(const json_t *tmpl)
{
	json_t *t = json_deep_copy(tmpl);
	if (!t)
		return json_object();
	json_t *labels = sw_obj_path(t, "metadata.labels");
	if (json_is_object(labels)) {
		json_object_del(labels, SW_LABEL_TEMPLATE_HASH);
		if (json_object_size(labels) == 0)
			json_object_del(json_object_get(t, "metadata"), "labels");
	}
	json_t *md = json_object_get(t, "metadata");
	if (json_is_object(md) && json_object_size(md) == 0)
		json_object_del(t, "metadata");
	return t;
}

char *sw_ctl_template_hash(const json_t *tmpl, int64_t collision_count)
{
	cleanup_json json_t *t = template_without_hash(tmpl);
	cleanup_free char *text = sw_json_canonical(t);
	uint32_t h = sw_ctl_fnv1a32(SW_FNV32_OFFSET, text, strlen(text));
	if (collision_count >= 0) {
		uint32_t cc = (uint32_t)collision_count;
		unsigned char le[4] = { (unsigned char)(cc & 0xff), (unsigned char)((cc >> 8) & 0xff),
			                (unsigned char)((cc >> 16) & 0xff),
			                (unsigned char)((cc >> 24) & 0xff) };
		h = sw_ctl_fnv1a32(h, le, sizeof(le));
	}
	char *out = sw_xasprintf("%" PRIu32, h);
	sw_ctl_safe_encode(out);
	return out;
}

bool sw_ctl_templates_equal(const json_t *a, const json_t *b)
{
	cleanup_json json_t *ta = template_without_hash(a);
	cleanup_json json_t *tb = template_without_hash(b);
	return json_equal(ta, tb);
}

int sw_ctl_int_or_percent(const json_t *v, int64_t total, bool round_up, int64_t *out,
                          sw_error **err)
{
	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return 0;
	}
	const char *s = json_string_value(v);
	if (!s)
		return sw_error_set(err, SW_EINVALID, "invalid value for IntOrString: not an integer "
		                                      "or a percentage");
	size_t len = strlen(s);
	char *end = NULL;
	long long pct = len > 1 && s[len - 1] == '%' ? strtoll(s, &end, 10) : 0;
	if (len < 2 || s[len - 1] != '%' || end != s + len - 1 || pct < 0)
		return sw_error_set(err, SW_EINVALID, "invalid value for IntOrString: \"%s\" is not "
		                                      "a percentage", s);
	int64_t prod = (int64_t)pct * total;
	*out = round_up ? (prod + 99) / 100 : prod / 100;
	return 0;
}

int64_t sw_ctl_replicas(const json_t *obj)
{
	return sw_obj_int(obj, "spec.replicas", 1);
}

bool sw_ctl_is_rolling(const json_t *deploy)
{
	const char *type = sw_obj_str(deploy, "spec.strategy.type");
	return !type || strcmp(type, "RollingUpdate") == 0;
}

int sw_ctl_fenceposts(const json_t *deploy, int64_t *surge, int64_t *unavailable,
                      sw_error **err)
{
	static const char *def = "25%";
	int64_t replicas = sw_ctl_replicas(deploy);
	json_t *ru = sw_obj_path(deploy, "spec.strategy.rollingUpdate");
	cleanup_json json_t *d = json_string(def);
	json_t *ms = json_object_get(ru, "maxSurge");
	json_t *mu = json_object_get(ru, "maxUnavailable");
	if (sw_ctl_int_or_percent(ms ? ms : d, replicas, true, surge, err) < 0)
		return sw_error_wrap(err, "spec.strategy.rollingUpdate.maxSurge");
	if (sw_ctl_int_or_percent(mu ? mu : d, replicas, false, unavailable, err) < 0)
		return sw_error_wrap(err, "spec.strategy.rollingUpdate.maxUnavailable");
	if (*surge == 0 && *unavailable == 0)
		*unavailable = 1;
	return 0;
}

int64_t sw_ctl_max_surge(const json_t *deploy)
{
	if (!sw_ctl_is_rolling(deploy))
		return 0;
	int64_t s = 0, u = 0;
	cleanup_error sw_error *e = NULL;
	if (sw_ctl_fenceposts(deploy, &s, &u, &e) < 0)
		return 0;
	return s;
}

int64_t sw_ctl_max_unavailable(const json_t *deploy)
{
	int64_t replicas = sw_ctl_replicas(deploy);
	if (!sw_ctl_is_rolling(deploy) || replicas == 0)
		return 0;
	int64_t s = 0, u = 0;
	cleanup_error sw_error *e = NULL;
	if (sw_ctl_fenceposts(deploy, &s, &u, &e) < 0)
		return 0;
	return u > replicas ? replicas : u;
}

/* ---- conditions ---------------------------------------------------------- */

json_t *sw_ctl_condition(const json_t *status, const char *type)
{
	json_t *conds = json_object_get(status, "conditions");
	size_t i;
	json_t *c;
	json_array_foreach(conds, i, c) {
		const char *t = json_string_value(json_object_get(c, "type"));
		if (t && strcmp(t, type) == 0)
			return c;
	}
	return NULL;
}

json_t *sw_ctl_condition_new(const char *type, const char *status, const char *reason,
                             const char *message, time_t now)
{
	char ts[32];
	sw_time_format(now, ts);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", type, "status", status,
	                 "lastUpdateTime", ts, "lastTransitionTime", ts, "reason", reason,
	                 "message", message);
}

static const char *cstr(const json_t *c, const char *key)
{
	const char *s = json_string_value(json_object_get(c, key));
	return s ? s : "";
}

void sw_ctl_condition_remove(json_t *status, const char *type)
{
	json_t *conds = json_object_get(status, "conditions");
	for (size_t i = 0; i < json_array_size(conds);) {
		if (strcmp(cstr(json_array_get(conds, i), "type"), type) == 0)
			json_array_remove(conds, i);
		else
			i++;
	}
}

void sw_ctl_condition_set(json_t *status, json_t *cond)
{
	const char *type = cstr(cond, "type");
	json_t *cur = sw_ctl_condition(status, type);
	if (cur && strcmp(cstr(cur, "status"), cstr(cond, "status")) == 0 &&
	    strcmp(cstr(cur, "reason"), cstr(cond, "reason")) == 0) {
		json_decref(cond);
		return;
	}
	if (cur && strcmp(cstr(cur, "status"), cstr(cond, "status")) == 0) {
		json_t *ltt = json_object_get(cur, "lastTransitionTime");
		if (ltt)
			json_object_set(cond, "lastTransitionTime", ltt);
	}
	cleanup_free char *t = sw_xstrdup(type);
	sw_ctl_condition_remove(status, t);
	json_t *conds = json_object_get(status, "conditions");
	if (!json_is_array(conds)) {
		conds = json_array();
		json_object_set_new(status, "conditions", conds);
	}
	json_array_append_new(conds, cond);
}

/* ---- pods ----------------------------------------------------------------- */

bool sw_ctl_pod_ready(const json_t *pod)
{
	json_t *c = sw_ctl_condition(json_object_get(pod, "status"), "Ready");
	return c && strcmp(cstr(c, "status"), "True") == 0;
}

time_t sw_ctl_pod_ready_since(const json_t *pod)
{
	json_t *c = sw_ctl_condition(json_object_get(pod, "status"), "Ready");
	if (!c || strcmp(cstr(c, "status"), "True") != 0)
		return -1;
	return sw_time_parse(json_string_value(json_object_get(c, "lastTransitionTime")));
}

bool sw_ctl_pod_available(const json_t *pod, int64_t min_ready, time_t now)
{
	if (!sw_ctl_pod_ready(pod))
		return false;
	if (min_ready <= 0)
		return true;
	time_t since = sw_ctl_pod_ready_since(pod);
	/* IsPodAvailable: lastTransitionTime + minReadySeconds before now */
	return since >= 0 && (int64_t)since + min_ready < (int64_t)now;
}

bool sw_ctl_pod_active(const json_t *pod)
{
	if (sw_obj_deleting(pod))
		return false;
	const char *phase = sw_obj_str(pod, "status.phase");
	return !phase || (strcmp(phase, "Succeeded") != 0 && strcmp(phase, "Failed") != 0);
}

static int phase_ordinal(const json_t *pod)
{
	const char *phase = sw_obj_str(pod, "status.phase");
	if (!phase)
		return 0;
	if (strcmp(phase, "Unknown") == 0)
		return 1;
	if (strcmp(phase, "Running") == 0)
		return 2;
	return 0; /* Pending, and phases the map lacks */
}

static int64_t deletion_cost(const json_t *pod)
{
	const char *v = sw_obj_annotation(pod, "controller.kubernetes.io/pod-deletion-cost");
	return v ? strtoll(v, NULL, 10) : 0;
}

static int64_t max_restarts(const json_t *pod)
{
	int64_t m = 0;
	size_t i;
	json_t *cs;
	json_array_foreach(sw_obj_path(pod, "status.containerStatuses"), i, cs) {
		int64_t r = sw_obj_int(cs, "restartCount", 0);
		if (r > m)
			m = r;
	}
	return m;
}

/* afterOrZero(t1, t2) as a comparison: the zero (missing) time first, then
 * the later one first. */
static int after_or_zero_cmp(time_t t1, time_t t2)
{
	if (t1 == t2)
		return 0;
	if (t1 < 0 || t2 < 0)
		return t1 < 0 ? -1 : 1;
	return t1 > t2 ? -1 : 1;
}

int sw_ctl_victim_cmp(const json_t *a, const json_t *b)
{
	const char *na = sw_obj_str(a, "spec.nodeName"), *nb = sw_obj_str(b, "spec.nodeName");
	na = na ? na : "";
	nb = nb ? nb : "";
	if (strcmp(na, nb) != 0 && (!*na || !*nb))
		return !*na ? -1 : 1;
	int pa = phase_ordinal(a), pb = phase_ordinal(b);
	if (pa != pb)
		return pa < pb ? -1 : 1;
	bool ra = sw_ctl_pod_ready(a), rb = sw_ctl_pod_ready(b);
	if (ra != rb)
		return !ra ? -1 : 1;
	int64_t ca = deletion_cost(a), cb = deletion_cost(b);
	if (ca != cb)
		return ca < cb ? -1 : 1;
	if (ra && rb) {
		int r = after_or_zero_cmp(sw_ctl_pod_ready_since(a), sw_ctl_pod_ready_since(b));
		if (r)
			return r;
	}
	int64_t xa = max_restarts(a), xb = max_restarts(b);
	if (xa != xb)
		return xa > xb ? -1 : 1;
	int r = after_or_zero_cmp(sw_time_parse(sw_obj_str(a, "metadata.creationTimestamp")),
	                          sw_time_parse(sw_obj_str(b, "metadata.creationTimestamp")));
	if (r)
		return r;
	/* created in the same second: the uid, so the order is total (as the
	 * logarithmic scale-down does) */
	const char *ua = sw_obj_uid(a), *ub = sw_obj_uid(b);
	return strcmp(ua ? ua : "", ub ? ub : "");
}

static int victim_qcmp(const void *x, const void *y)
{
	return sw_ctl_victim_cmp(*(const json_t *const *)x, *(const json_t *const *)y);
}

void sw_ctl_sort_victims(const json_t **pods, size_t n)
{
	if (n > 1)
		qsort(pods, n, sizeof(*pods), victim_qcmp);
}

/* ---- ReplicaSets and revisions ------------------------------------------- */

int64_t sw_ctl_revision(const json_t *rs)
{
	const char *v = sw_obj_annotation(rs, SW_ANN_REVISION);
	return v ? strtoll(v, NULL, 10) : 0;
}

int sw_ctl_rs_age_cmp(const json_t *a, const json_t *b)
{
	time_t ta = sw_time_parse(sw_obj_str(a, "metadata.creationTimestamp"));
	time_t tb = sw_time_parse(sw_obj_str(b, "metadata.creationTimestamp"));
	if (ta != tb)
		return ta < tb ? -1 : 1;
	const char *na = sw_obj_name(a), *nb = sw_obj_name(b);
	int r = strcmp(na ? na : "", nb ? nb : "");
	return r < 0 ? -1 : r > 0;
}

static bool skip_copy_annotation(const char *key)
{
	static const char *const skip[] = {
		"kubectl.kubernetes.io/last-applied-configuration", SW_ANN_REVISION,
		SW_ANN_REVISION_HISTORY, SW_ANN_DESIRED_REPLICAS, SW_ANN_MAX_REPLICAS,
		"deprecated.deployment.rollback.to",
	};
	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (strcmp(key, skip[i]) == 0)
			return true;
	return false;
}

static bool set_annotation_if(json_t *obj, const char *key, const char *value)
{
	const char *cur = sw_obj_annotation(obj, key);
	if (cur && strcmp(cur, value) == 0)
		return false;
	sw_obj_set_annotation(obj, key, value);
	return true;
}

bool sw_ctl_copy_annotations(const json_t *deploy, json_t *rs)
{
	bool changed = false;
	const char *key;
	json_t *v;
	json_object_foreach(sw_obj_path(deploy, "metadata.annotations"), key, v) {
		if (!json_is_string(v) || skip_copy_annotation(key))
			continue;
		changed |= set_annotation_if(rs, key, json_string_value(v));
	}
	return changed;
}

bool sw_ctl_set_replicas_annotations(json_t *rs, int64_t desired, int64_t max)
{
	char buf[32];
	bool changed = false;
	snprintf(buf, sizeof(buf), "%" PRId64, desired);
	changed |= set_annotation_if(rs, SW_ANN_DESIRED_REPLICAS, buf);
	snprintf(buf, sizeof(buf), "%" PRId64, max);
	changed |= set_annotation_if(rs, SW_ANN_MAX_REPLICAS, buf);
	return changed;
}

bool sw_ctl_set_new_rs_annotations(const json_t *deploy, json_t *rs, int64_t new_revision,
                                   bool exists)
{
	bool changed = sw_ctl_copy_annotations(deploy, rs);
	const char *old = sw_obj_annotation(rs, SW_ANN_REVISION);
	cleanup_free char *old_copy = old ? sw_xstrdup(old) : NULL;
	int64_t old_rev = old ? strtoll(old, NULL, 10) : 0;
	if (old_rev < new_revision) {
		char buf[32];
		snprintf(buf, sizeof(buf), "%" PRId64, new_revision);
		sw_obj_set_annotation(rs, SW_ANN_REVISION, buf);
		changed = true;
		/* rolled back to: keep the revisions it had */
		if (old_copy) {
			const char *hist = sw_obj_annotation(rs, SW_ANN_REVISION_HISTORY);
			cleanup_free char *h = hist && *hist ? sw_xasprintf("%s,%s", hist, old_copy)
			                                     : sw_xstrdup(old_copy);
			sw_obj_set_annotation(rs, SW_ANN_REVISION_HISTORY, h);
		}
	}
	if (!exists) {
		int64_t replicas = sw_ctl_replicas(deploy);
		changed |= sw_ctl_set_replicas_annotations(rs, replicas,
		                                           replicas + sw_ctl_max_surge(deploy));
	}
	return changed;
}

int64_t sw_ctl_new_rs_new_replicas(int64_t replicas, int64_t max_surge, int64_t all_rs_replicas,
                                   int64_t new_rs_replicas)
{
	int64_t max_total = replicas + max_surge;
	if (all_rs_replicas >= max_total)
		return new_rs_replicas;
	int64_t up = max_total - all_rs_replicas;
	if (replicas - new_rs_replicas < up)
		up = replicas - new_rs_replicas;
	return new_rs_replicas + up;
}

int64_t sw_ctl_rs_proportion(int64_t rs_replicas, int64_t rs_max_annotation,
                             int64_t deploy_status_replicas, int64_t deploy_replicas,
                             int64_t deploy_max_surge, int64_t to_add, int64_t added)
{
	if (rs_replicas == 0 || to_add == 0 || to_add == added)
		return 0;
	int64_t fraction;
	if (deploy_replicas == 0) {
		fraction = -rs_replicas;
	} else {
		int64_t max_now = deploy_replicas + deploy_max_surge;
		int64_t before = rs_max_annotation;
		if (before <= 0)
			before = deploy_status_replicas;
		if (before <= 0)
			return 0;
		/* round(rs * max_now / before), half away from zero; all >= 0 */
		int64_t num = rs_replicas * max_now;
		fraction = (2 * num + before) / (2 * before) - rs_replicas;
	}
	int64_t allowed = to_add - added;
	if (to_add > 0)
		return fraction < allowed ? fraction : allowed;
	return fraction > allowed ? fraction : allowed;
}
