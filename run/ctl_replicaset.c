/*
 * ctl_replicaset.c - the ReplicaSet controller (pkg/controller/replicaset):
 * claims the active pods its selector matches (adopting orphans, releasing
 * pods that stopped matching), creates pods from the template or deletes
 * the surplus in Kubernetes' victim order, and writes status (replicas,
 * fullyLabeledReplicas, readyReplicas, availableReplicas,
 * observedGeneration). It reads the store afresh on every sync, so the
 * "expectations" Kubernetes needs against its lagging informer cache are
 * not needed here: a burst of watch events is one queued key, and every
 * sync counts what is really stored.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_internal.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/log.h"
#include "slipway/mem.h"
#include "slipway/object.h"

#define COMPONENT "replicaset-controller"
/* Kubernetes' burstReplicas: at most this many creates/deletes per sync */
#define BURST_REPLICAS 500

static json_t *pod_from_template(const json_t *rs)
{
	const json_t *tmpl = sw_obj_path(rs, "spec.template");
	json_t *pod = json_object();
	json_t *md = json_object();
	json_object_set_new(pod, "apiVersion", json_string("v1"));
	json_object_set_new(pod, "kind", json_string("Pod"));
	json_object_set_new(pod, "metadata", md);
	cleanup_free char *gen = sw_xasprintf("%s-", sw_obj_name(rs));
	json_object_set_new(md, "generateName", json_string(gen));
	json_object_set_new(md, "namespace", json_string(sw_obj_namespace(rs)));
	json_t *labels = sw_obj_path(tmpl, "metadata.labels");
	if (json_is_object(labels))
		json_object_set_new(md, "labels", json_deep_copy(labels));
	json_t *ann = sw_obj_path(tmpl, "metadata.annotations");
	if (json_is_object(ann))
		json_object_set_new(md, "annotations", json_deep_copy(ann));
	json_t *refs = json_array();
	json_array_append_new(refs, sw_obj_owner_ref(rs));
	json_object_set_new(md, "ownerReferences", refs);
	json_t *spec = json_object_get(tmpl, "spec");
	json_object_set_new(pod, "spec", spec ? json_deep_copy(spec) : json_object());
	return pod;
}

/* Adds (adopt) or removes (release) rs's controller reference on pod. */
static int set_pod_owner(sw_controllers *c, const json_t *pod, const json_t *rs, bool adopt,
                         json_t **out, sw_error **err)
{
	cleanup_json json_t *copy = json_deep_copy(pod);
	json_t *md = json_object_get(copy, "metadata");
	json_t *refs = json_object_get(md, "ownerReferences");
	if (adopt) {
		if (!json_is_array(refs)) {
			refs = json_array();
			json_object_set_new(md, "ownerReferences", refs);
		}
		json_array_append_new(refs, sw_obj_owner_ref(rs));
	} else {
		const char *uid = sw_obj_uid(rs);
		for (size_t i = 0; i < json_array_size(refs);) {
			const char *u = json_string_value(json_object_get(json_array_get(refs, i), "uid"));
			if (u && uid && strcmp(u, uid) == 0)
				json_array_remove(refs, i);
			else
				i++;
		}
		if (json_array_size(refs) == 0)
			json_object_del(md, "ownerReferences");
	}
	return sw_store_update(c->store, c->k_pod, copy, SW_STORE_MAIN, out, err);
}

/* Creates n pods in one transaction; appends them to pods. */
static int create_pods(sw_controllers *c, const json_t *rs, int64_t n, json_t *pods,
                       sw_error **err)
{
	cleanup_json json_t *created = json_array();
	bool tx = sw_store_begin(c->store, NULL) == 0;
	for (int64_t i = 0; i < n; i++) {
		cleanup_json json_t *pod = pod_from_template(rs);
		json_t *stored = NULL;
		if (sw_store_create(c->store, c->k_pod, pod, &stored, err) < 0) {
			if (tx)
				sw_store_rollback(c->store);
			sw_store_event(c->store, rs, "Warning", "FailedCreate", COMPONENT,
			               "Error creating: %s", (err && *err) ? (*err)->msg : "error");
			return sw_error_wrap(err, "replicaset %s/%s: creating a pod",
			                     sw_obj_namespace(rs), sw_obj_name(rs));
		}
		json_array_append_new(created, stored);
	}
	if (tx && sw_store_commit(c->store, err) < 0)
		return sw_error_wrap(err, "replicaset %s/%s: creating pods", sw_obj_namespace(rs),
		                     sw_obj_name(rs));
	size_t i;
	json_t *p;
	json_array_foreach(created, i, p) {
		sw_store_event(c->store, rs, "Normal", "SuccessfulCreate", COMPONENT,
		               "Created pod: %s", sw_obj_name(p));
		json_array_append(pods, p);
	}
	return 0;
}

/* Deletes the n first victims among pods (and takes them out of pods). */
static int delete_pods(sw_controllers *c, const json_t *rs, int64_t n, json_t *pods,
                       sw_error **err)
{
	size_t count = json_array_size(pods);
	cleanup_free const json_t **order = sw_xcalloc(count ? count : 1, sizeof(*order));
	for (size_t i = 0; i < count; i++)
		order[i] = json_array_get(pods, i);
	sw_ctl_sort_victims(order, count);
	cleanup_json json_t *victims = json_array();
	for (size_t i = 0; i < count && (int64_t)i < n; i++)
		json_array_append(victims, (json_t *)order[i]);
	bool tx = sw_store_begin(c->store, NULL) == 0;
	size_t i;
	json_t *v;
	json_array_foreach(victims, i, v) {
		sw_delete_opts opts = { .grace_seconds = -1, .uid = sw_obj_uid(v) };
		sw_error *e = NULL;
		if (sw_store_delete(c->store, c->k_pod, sw_obj_namespace(v), sw_obj_name(v), &opts,
		                    NULL, &e) < 0) {
			if (sw_error_code(e) == SW_ENOTFOUND) {
				sw_error_free(e);
				continue;
			}
			if (tx)
				sw_store_rollback(c->store);
			*err = e;
			return sw_error_wrap(err, "replicaset %s/%s: deleting pod %s",
			                     sw_obj_namespace(rs), sw_obj_name(rs), sw_obj_name(v));
		}
	}
	if (tx && sw_store_commit(c->store, err) < 0)
		return sw_error_wrap(err, "replicaset %s/%s: deleting pods", sw_obj_namespace(rs),
		                     sw_obj_name(rs));
	json_array_foreach(victims, i, v) {
		sw_store_event(c->store, rs, "Normal", "SuccessfulDelete", COMPONENT,
		               "Deleted pod: %s", sw_obj_name(v));
		for (size_t j = 0; j < json_array_size(pods); j++)
			if (json_array_get(pods, j) == v) {
				json_array_remove(pods, j);
				break;
			}
	}
	return 0;
}

/* Writes status from the claimed pods; *next_ms gets the delay until a
 * ready pod becomes available (or -1). */
static int update_status(sw_controllers *c, const json_t *rs, const json_t *pods,
                         const char *failure, const sw_error *failure_err, int64_t *next_ms,
                         sw_error **err)
{
	int64_t min_ready = sw_obj_int(rs, "spec.minReadySeconds", 0);
	time_t now = sw_controllers_now(c);
	json_t *tlabels = sw_obj_path(rs, "spec.template.metadata.labels");
	int64_t full = 0, ready = 0, avail = 0;
	*next_ms = -1;
	size_t i;
	json_t *p;
	json_array_foreach(pods, i, p) {
		bool fully = true;
		const char *k;
		json_t *v;
		json_object_foreach(tlabels, k, v) {
			if (!json_equal(json_object_get(sw_obj_labels(p), k), v))
				fully = false;
		}
		full += fully;
		if (!sw_ctl_pod_ready(p))
			continue;
		ready++;
		if (sw_ctl_pod_available(p, min_ready, now)) {
			avail++;
		} else {
			time_t since = sw_ctl_pod_ready_since(p);
			int64_t at_ms = ((int64_t)since + min_ready + 1) * 1000;
			int64_t delay = at_ms - sw_ctl_now_ms(c);
			if (delay < 1)
				delay = 1;
			if (*next_ms < 0 || delay < *next_ms)
				*next_ms = delay;
		}
	}
	cleanup_json json_t *copy = json_deep_copy(rs);
	json_t *status = json_object_get(copy, "status");
	if (!json_is_object(status)) {
		status = json_object();
		json_object_set_new(copy, "status", status);
	}
	/* ReplicaSetStatus: replicas always, the other counts omitempty */
	json_object_set_new(status, "replicas", json_integer((json_int_t)json_array_size(pods)));
	const char *keys[] = { "fullyLabeledReplicas", "readyReplicas", "availableReplicas" };
	const int64_t vals[] = { full, ready, avail };
	for (size_t k = 0; k < 3; k++) {
		if (vals[k])
			json_object_set_new(status, keys[k], json_integer(vals[k]));
		else
			json_object_del(status, keys[k]);
	}
	json_object_set_new(status, "observedGeneration",
	                    json_integer(sw_obj_int(rs, "metadata.generation", 1)));
	if (failure) {
		cleanup_free char *msg = sw_error_string(failure_err);
		sw_ctl_condition_set(status, sw_ctl_condition_new("ReplicaFailure", "True", failure,
		                                                  msg, now));
		/* a ReplicaSet condition has no lastUpdateTime */
		json_object_del(sw_ctl_condition(status, "ReplicaFailure"), "lastUpdateTime");
	} else if (sw_ctl_condition(status, "ReplicaFailure")) {
		sw_ctl_condition_remove(status, "ReplicaFailure");
		if (json_array_size(json_object_get(status, "conditions")) == 0)
			json_object_del(status, "conditions");
	}
	if (json_equal(status, json_object_get(rs, "status")))
		return 0;
	return sw_store_update(c->store, c->k_rs, copy, SW_STORE_STATUS, NULL, err);
}

int sw_ctl_sync_replicaset(sw_controllers *c, const char *key, sw_error **err)
{
	cleanup_free char *ns = NULL, *name = NULL;
	sw_ctl_key_split(key, &ns, &name);
	cleanup_json json_t *rs = NULL;
	if (sw_store_get(c->store, c->k_rs, ns, name, &rs, err) < 0) {
		if (sw_error_code(*err) == SW_ENOTFOUND) {
			sw_error_clear(err);
			return 0;
		}
		return -1;
	}
	sw_selector *sel = NULL;
	cleanup_error sw_error *serr = NULL;
	if (sw_selector_from_json(&sel, sw_obj_path(rs, "spec.selector"), false, &serr) < 0 ||
	    sw_selector_empty(sel)) {
		/* validation refuses these; nothing to retry */
		sw_selector_free(sel);
		sw_warn("replicaset %s: invalid or empty selector, not syncing", key);
		return 0;
	}
	/* validation refuses this too; pods made from such a template would
	 * never be counted and be made again and again */
	if (!sw_selector_matches(sel, sw_obj_path(rs, "spec.template.metadata.labels"))) {
		sw_selector_free(sel);
		sw_warn("replicaset %s: spec.selector does not match the template's labels, "
		        "not syncing", key);
		return 0;
	}
	cleanup_json json_t *all = NULL;
	if (sw_ctl_list(c, c->k_pod, ns, &all, err) < 0) {
		sw_selector_free(sel);
		return -1;
	}
	cleanup_json json_t *pods = json_array();
	size_t i;
	json_t *p;
	int rc = 0;
	json_array_foreach(all, i, p) {
		if (!sw_ctl_pod_active(p))
			continue;
		const json_t *ref = sw_obj_controller_ref(p);
		bool matches = sw_selector_matches(sel, sw_obj_labels(p));
		if (ref) {
			if (!sw_obj_owned_by(p, rs))
				continue;
			if (matches) {
				json_array_append(pods, p);
			} else if (set_pod_owner(c, p, rs, false, NULL, err) < 0) {
				rc = -1;
				break;
			}
		} else if (matches && !sw_obj_deleting(rs)) {
			json_t *adopted = NULL;
			if (set_pod_owner(c, p, rs, true, &adopted, err) < 0) {
				rc = -1;
				break;
			}
			json_array_append_new(pods, adopted);
		}
	}
	sw_selector_free(sel);
	if (rc < 0)
		return sw_error_wrap(err, "replicaset %s: claiming pods", key);

	/* manageReplicas; a failure is reported in status (ReplicaFailure)
	 * and then returned, so the sync is retried with back-off */
	cleanup_error sw_error *manage_err = NULL;
	const char *failure = NULL;
	if (!sw_obj_deleting(rs)) {
		int64_t diff = (int64_t)json_array_size(pods) - sw_ctl_replicas(rs);
		if (diff < -BURST_REPLICAS)
			diff = -BURST_REPLICAS;
		if (diff > BURST_REPLICAS)
			diff = BURST_REPLICAS;
		if (diff < 0 && create_pods(c, rs, -diff, pods, &manage_err) < 0)
			failure = "FailedCreate";
		else if (diff > 0 && delete_pods(c, rs, diff, pods, &manage_err) < 0)
			failure = "FailedDelete";
	}
	int64_t next_ms = -1;
	if (update_status(c, rs, pods, failure, manage_err, &next_ms, err) < 0)
		return sw_error_wrap(err, "replicaset %s: status", key);
	if (manage_err) {
		*err = steal_pointer(&manage_err);
		return -1;
	}
	if (next_ms >= 0)
		sw_ctl_enqueue_after(c, SW_CTL_REPLICASET, key, next_ms);
	return 0;
}
