/*
 * ctl_deployment.c - the Deployment controller, Kubernetes' algorithm
 * (pkg/controller/deployment: sync.go, rolling.go, recreate.go,
 * progress.go): one ReplicaSet per pod-template hash, RollingUpdate
 * bounded by maxSurge/maxUnavailable, Recreate, proportional scaling,
 * pause, revisions and history pruning, and the Progressing/Available
 * conditions. Fields the API server defaults (strategy, revision history
 * limit, progress deadline) get the same defaults here when missing.
 *
 * One sync takes one step (scale the new RS up, or the old ones down, or
 * only status), as Kubernetes does; the ReplicaSet events it causes queue
 * it again. Each write goes to the store with the resourceVersion read,
 * so a concurrent change fails it with SW_ECONFLICT and it is retried.
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

#define COMPONENT "deployment-controller"
#define DEFAULT_PROGRESS_DEADLINE 600
#define DEFAULT_HISTORY_LIMIT 10
#define INT32_MAX_SECONDS 2147483647

typedef struct dsync {
	sw_controllers *c;
	const char *key;
	json_t *d;     /* the latest stored Deployment (owned) */
	json_t **rs;   /* its ReplicaSets, oldest first (owned) */
	size_t n;
	long new_idx;  /* the new RS in rs[], or -1 */
} dsync;

static void dsync_release(dsync *x)
{
	json_decref(x->d);
	for (size_t i = 0; i < x->n; i++)
		json_decref(x->rs[i]);
	free(x->rs);
}

static int64_t spec_of(const json_t *rs)
{
	return sw_obj_int(rs, "spec.replicas", 1);
}

static int64_t st(const json_t *rs, const char *field)
{
	json_t *s = json_object_get(rs, "status");
	json_t *v = json_object_get(s, field);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static int64_t dreplicas(const dsync *x)
{
	return sw_ctl_replicas(x->d);
}

static bool is_new(const dsync *x, size_t i)
{
	return x->new_idx >= 0 && (size_t)x->new_idx == i;
}

static int64_t sum_spec(const dsync *x, bool old_only)
{
	int64_t n = 0;
	for (size_t i = 0; i < x->n; i++)
		if (!old_only || !is_new(x, i))
			n += spec_of(x->rs[i]);
	return n;
}

static int64_t sum_status(const dsync *x, const char *field)
{
	int64_t n = 0;
	for (size_t i = 0; i < x->n; i++)
		n += st(x->rs[i], field);
	return n;
}

static int64_t progress_deadline(const json_t *d)
{
	return sw_obj_int(d, "spec.progressDeadlineSeconds", DEFAULT_PROGRESS_DEADLINE);
}

static bool has_progress_deadline(const json_t *d)
{
	int64_t p = progress_deadline(d);
	return p > 0 && p != INT32_MAX_SECONDS;
}

/* ---- writes ------------------------------------------------------------------ */

static int write_deploy(dsync *x, json_t *copy, int flags, sw_error **err)
{
	json_t *stored = NULL;
	if (sw_store_update(x->c->store, x->c->k_deploy, copy, flags, &stored, err) < 0)
		return sw_error_wrap(err, "deployment %s", x->key);
	json_decref(x->d);
	x->d = stored;
	return 0;
}

static int write_status(dsync *x, json_t *status, sw_error **err)
{
	cleanup_json json_t *copy = json_deep_copy(x->d);
	json_object_set(copy, "status", status);
	return write_deploy(x, copy, SW_STORE_STATUS, err);
}

static int write_rs(dsync *x, size_t i, json_t *copy, sw_error **err)
{
	json_t *stored = NULL;
	if (sw_store_update(x->c->store, x->c->k_rs, copy, SW_STORE_MAIN, &stored, err) < 0)
		return sw_error_wrap(err, "deployment %s: replicaset %s", x->key, sw_obj_name(copy));
	json_decref(x->rs[i]);
	x->rs[i] = stored;
	return 0;
}

/* scaleReplicaSet: 1 when the size changed, 0 when not, < 0 on error. */
static int scale_rs(dsync *x, size_t i, int64_t to, sw_error **err)
{
	const json_t *rs = x->rs[i];
	int64_t from = spec_of(rs);
	int64_t desired = dreplicas(x), max = desired + sw_ctl_max_surge(x->d);
	cleanup_json json_t *copy = json_deep_copy(rs);
	bool ann = sw_ctl_set_replicas_annotations(copy, desired, max);
	if (from == to && !ann)
		return 0;
	json_object_set_new(sw_obj_mkpath(copy, "spec"), "replicas", json_integer(to));
	if (write_rs(x, i, copy, err) < 0)
		return -1;
	if (from == to)
		return 0;
	sw_store_event(x->c->store, x->d, "Normal", "ScalingReplicaSet", COMPONENT,
	               "Scaled %s replica set %s to %" PRId64, from < to ? "up" : "down",
	               sw_obj_name(x->rs[i]), to);
	return 1;
}

/* scaleReplicaSetAndRecordEvent: nothing when already at that size. */
static int scale_and_record(dsync *x, size_t i, int64_t to, sw_error **err)
{
	if (spec_of(x->rs[i]) == to)
		return 0;
	return scale_rs(x, i, to, err);
}

/* ---- claiming ReplicaSets ------------------------------------------------------ */

static int rs_age_qcmp(const void *a, const void *b)
{
	return sw_ctl_rs_age_cmp(*(json_t *const *)a, *(json_t *const *)b);
}

static int set_rs_owner(dsync *x, json_t *rs, bool adopt, json_t **out, sw_error **err)
{
	cleanup_json json_t *copy = json_deep_copy(rs);
	json_t *md = json_object_get(copy, "metadata");
	json_t *refs = json_object_get(md, "ownerReferences");
	if (adopt) {
		if (!json_is_array(refs)) {
			refs = json_array();
			json_object_set_new(md, "ownerReferences", refs);
		}
		json_array_append_new(refs, sw_obj_owner_ref(x->d));
	} else {
		const char *uid = sw_obj_uid(x->d);
		for (size_t i = 0; i < json_array_size(refs);) {
			const char *u = json_string_value(json_object_get(json_array_get(refs, i), "uid"));
			if (u && uid && strcmp(u, uid) == 0)
				json_array_remove(refs, i);
			else
				i++;
		}
	}
	return sw_store_update(x->c->store, x->c->k_rs, copy, SW_STORE_MAIN, out, err);
}

/* getReplicaSetsForDeployment: adopts matching orphans, releases owned
 * ones that stopped matching; x->rs gets the owned ones, oldest first. */
static int claim_replicasets(dsync *x, const sw_selector *sel, sw_error **err)
{
	cleanup_json json_t *all = NULL;
	if (sw_ctl_list(x->c, x->c->k_rs, sw_obj_namespace(x->d), &all, err) < 0)
		return -1;
	x->rs = sw_xcalloc(json_array_size(all) + 1, sizeof(*x->rs));
	size_t i;
	json_t *rs;
	json_array_foreach(all, i, rs) {
		const json_t *ref = sw_obj_controller_ref(rs);
		bool matches = sw_selector_matches(sel, sw_obj_labels(rs));
		if (ref) {
			if (!sw_obj_owned_by(rs, x->d))
				continue;
			if (!matches) {
				if (set_rs_owner(x, rs, false, NULL, err) < 0)
					return -1;
				continue;
			}
			x->rs[x->n++] = json_incref(rs);
		} else if (matches && !sw_obj_deleting(x->d) && !sw_obj_deleting(rs)) {
			json_t *adopted = NULL;
			if (set_rs_owner(x, rs, true, &adopted, err) < 0)
				return -1;
			x->rs[x->n++] = adopted;
		}
	}
	qsort(x->rs, x->n, sizeof(*x->rs), rs_age_qcmp);
	x->new_idx = -1;
	const json_t *tmpl = sw_obj_path(x->d, "spec.template");
	for (size_t j = 0; j < x->n; j++)
		if (sw_ctl_templates_equal(tmpl, sw_obj_path(x->rs[j], "spec.template"))) {
			x->new_idx = (long)j; /* FindNewReplicaSet: the oldest match */
			break;
		}
	return 0;
}

/* ---- the new ReplicaSet and revisions ------------------------------------------ */

static int set_deploy_revision(dsync *x, int64_t rev, sw_error **err)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%" PRId64, rev);
	const char *cur = sw_obj_annotation(x->d, SW_ANN_REVISION);
	if (cur && strcmp(cur, buf) == 0)
		return 0;
	cleanup_json json_t *copy = json_deep_copy(x->d);
	sw_obj_set_annotation(copy, SW_ANN_REVISION, buf);
	return write_deploy(x, copy, SW_STORE_MAIN, err);
}

static json_t *status_copy(const dsync *x)
{
	json_t *s = json_object_get(x->d, "status");
	return json_is_object(s) ? json_deep_copy(s) : json_object();
}

static int create_new_rs(dsync *x, int64_t new_rev, sw_error **err)
{
	sw_controllers *c = x->c;
	const json_t *d = x->d;
	json_t *cc = sw_obj_path(d, "status.collisionCount");
	int64_t collisions = json_is_integer(cc) ? (int64_t)json_integer_value(cc) : -1;
	cleanup_free char *hash = sw_ctl_template_hash(sw_obj_path(d, "spec.template"), collisions);
	cleanup_free char *name = sw_xasprintf("%s-%s", sw_obj_name(d), hash);

	json_t *tmpl = json_deep_copy(sw_obj_path(d, "spec.template"));
	if (!tmpl)
		tmpl = json_object();
	json_t *tlabels = sw_obj_mkpath(tmpl, "metadata.labels");
	json_object_set_new(tlabels, SW_LABEL_TEMPLATE_HASH, json_string(hash));
	json_t *sel = json_deep_copy(sw_obj_path(d, "spec.selector"));
	if (!sel)
		sel = json_object();
	json_object_set_new(sw_obj_mkpath(sel, "matchLabels"), SW_LABEL_TEMPLATE_HASH,
	                    json_string(hash));

	int64_t replicas = dreplicas(x);
	int64_t size = sw_ctl_is_rolling(d)
		? sw_ctl_new_rs_new_replicas(replicas, sw_ctl_max_surge(d), sum_spec(x, true), 0)
		: replicas;
	cleanup_json json_t *rs = json_pack(
		"{s:s, s:s, s:{s:s, s:s, s:O, s:[o]}, s:{s:I, s:I, s:o, s:o}}", "apiVersion",
		"apps/v1", "kind", "ReplicaSet", "metadata", "name", name, "namespace",
		sw_obj_namespace(d), "labels", tlabels, "ownerReferences", sw_obj_owner_ref(d), "spec",
		"replicas", (json_int_t)size, "minReadySeconds",
		(json_int_t)sw_obj_int(d, "spec.minReadySeconds", 0), "selector", sel, "template",
		tmpl);
	sw_ctl_set_new_rs_annotations(d, rs, new_rev, false);

	json_t *stored = NULL;
	cleanup_error sw_error *cerr = NULL;
	if (sw_store_create(c->store, c->k_rs, rs, &stored, &cerr) < 0) {
		if (sw_error_code(cerr) == SW_EEXISTS) {
			cleanup_json json_t *have = NULL;
			cleanup_error sw_error *gerr = NULL;
			if (sw_store_get(c->store, c->k_rs, sw_obj_namespace(d), name, &have, &gerr) == 0 &&
			    sw_obj_owned_by(have, d) &&
			    sw_ctl_templates_equal(sw_obj_path(d, "spec.template"),
			                           sw_obj_path(have, "spec.template"))) {
				/* ours already (a resync raced the create) */
				x->rs[x->n] = json_incref(have);
				x->new_idx = (long)x->n++;
				return 0;
			}
			/* a hash collision: bump collisionCount and try again later */
			cleanup_json json_t *status = status_copy(x);
			int64_t next = collisions < 0 ? 1 : collisions + 1; /* nil counts as 0, then ++ */
			json_object_set_new(status, "collisionCount", json_integer(next));
			if (write_status(x, status, err) < 0)
				return -1;
			return sw_error_set(err, SW_ECONFLICT,
			                    "deployment %s: replicaset %s exists with another template "
			                    "(hash collision %" PRId64 ")", x->key, name, next);
		}
		if (has_progress_deadline(d)) {
			cleanup_free char *msg = sw_error_string(cerr);
			cleanup_json json_t *status = status_copy(x);
			sw_ctl_condition_set(status, sw_ctl_condition_new("Progressing", "False",
			                                                  "ReplicaSetCreateError", msg,
			                                                  sw_controllers_now(c)));
			cleanup_error sw_error *werr = NULL;
			(void)write_status(x, status, &werr);
		}
		sw_store_event(c->store, d, "Warning", "ReplicaSetCreateError", COMPONENT,
		               "Failed to create new replica set \"%s\": %s", name, cerr->msg);
		*err = steal_pointer(&cerr);
		return sw_error_wrap(err, "deployment %s: creating replicaset %s", x->key, name);
	}
	x->rs[x->n] = stored;
	x->new_idx = (long)x->n++;
	if (size > 0)
		sw_store_event(c->store, d, "Normal", "ScalingReplicaSet", COMPONENT,
		               "Scaled up replica set %s to %" PRId64, name, size);
	if (set_deploy_revision(x, new_rev, err) < 0)
		return -1;
	if (has_progress_deadline(x->d)) {
		cleanup_free char *msg = sw_xasprintf("Created new replica set \"%s\"", name);
		cleanup_json json_t *status = status_copy(x);
		sw_ctl_condition_set(status, sw_ctl_condition_new("Progressing", "True",
		                                                  "NewReplicaSetCreated", msg,
		                                                  sw_controllers_now(c)));
		if (write_status(x, status, err) < 0)
			return -1;
	}
	return 0;
}

/* getAllReplicaSetsAndSyncRevision: brings the new RS's revision and
 * annotations up to date, or creates it when create is set. */
static int sync_revision(dsync *x, bool create, sw_error **err)
{
	int64_t max_old = 0;
	for (size_t i = 0; i < x->n; i++)
		if (!is_new(x, i) && sw_ctl_revision(x->rs[i]) > max_old)
			max_old = sw_ctl_revision(x->rs[i]);
	int64_t new_rev = max_old + 1;
	if (x->new_idx < 0)
		return create ? create_new_rs(x, new_rev, err) : 0;

	size_t i = (size_t)x->new_idx;
	cleanup_json json_t *copy = json_deep_copy(x->rs[i]);
	bool changed = sw_ctl_set_new_rs_annotations(x->d, copy, new_rev, true);
	int64_t mrs = sw_obj_int(x->d, "spec.minReadySeconds", 0);
	if (sw_obj_int(copy, "spec.minReadySeconds", 0) != mrs) {
		json_object_set_new(sw_obj_mkpath(copy, "spec"), "minReadySeconds", json_integer(mrs));
		changed = true;
	}
	if (changed && write_rs(x, i, copy, err) < 0)
		return -1;
	if (set_deploy_revision(x, sw_ctl_revision(x->rs[i]), err) < 0)
		return -1;
	if (has_progress_deadline(x->d) &&
	    !sw_ctl_condition(json_object_get(x->d, "status"), "Progressing")) {
		cleanup_free char *msg = sw_xasprintf("Found new replica set \"%s\"",
		                                      sw_obj_name(x->rs[i]));
		cleanup_json json_t *status = status_copy(x);
		sw_ctl_condition_set(status, sw_ctl_condition_new("Progressing", "True",
		                                                  "FoundNewReplicaSet", msg,
		                                                  sw_controllers_now(x->c)));
		if (write_status(x, status, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- status and progress ------------------------------------------------------- */

static void set_nonzero(json_t *o, const char *key, int64_t v)
{
	if (v)
		json_object_set_new(o, key, json_integer(v));
}

/* calculateStatus */
static json_t *calculate_status(const dsync *x)
{
	int64_t avail = sum_status(x, "availableReplicas");
	int64_t total = sum_spec(x, false);
	int64_t unavail = total - avail > 0 ? total - avail : 0;
	json_t *s = json_object();
	json_object_set_new(s, "observedGeneration",
	                    json_integer(sw_obj_int(x->d, "metadata.generation", 1)));
	set_nonzero(s, "replicas", sum_status(x, "replicas"));
	set_nonzero(s, "updatedReplicas", x->new_idx >= 0 ? st(x->rs[x->new_idx], "replicas") : 0);
	set_nonzero(s, "readyReplicas", sum_status(x, "readyReplicas"));
	set_nonzero(s, "availableReplicas", avail);
	set_nonzero(s, "unavailableReplicas", unavail);
	json_t *cc = sw_obj_path(x->d, "status.collisionCount");
	if (cc)
		json_object_set(s, "collisionCount", cc);
	json_t *conds = sw_obj_path(x->d, "status.conditions");
	if (json_is_array(conds))
		json_object_set_new(s, "conditions", json_deep_copy(conds));
	time_t now = sw_controllers_now(x->c);
	if (avail >= dreplicas(x) - sw_ctl_max_unavailable(x->d))
		sw_ctl_condition_set(s, sw_ctl_condition_new("Available", "True",
		                                             "MinimumReplicasAvailable",
		                                             "Deployment has minimum availability.",
		                                             now));
	else
		sw_ctl_condition_set(s, sw_ctl_condition_new("Available", "False",
		                                             "MinimumReplicasUnavailable",
		                                             "Deployment does not have minimum "
		                                             "availability.", now));
	return s;
}

static int64_t sint(const json_t *status, const char *field)
{
	json_t *v = json_object_get(status, field);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

/* DeploymentComplete */
static bool deployment_complete(const json_t *d, const json_t *status)
{
	int64_t r = sw_ctl_replicas(d);
	return sint(status, "updatedReplicas") == r && sint(status, "replicas") == r &&
	       sint(status, "availableReplicas") == r &&
	       sint(status, "observedGeneration") >= sw_obj_int(d, "metadata.generation", 1);
}

/* DeploymentProgressing */
static bool deployment_progressing(const json_t *d, const json_t *ns)
{
	const json_t *os = json_object_get(d, "status");
	int64_t old_old = sint(os, "replicas") - sint(os, "updatedReplicas");
	int64_t new_old = sint(ns, "replicas") - sint(ns, "updatedReplicas");
	return sint(ns, "updatedReplicas") > sint(os, "updatedReplicas") || new_old < old_old ||
	       sint(ns, "readyReplicas") > sint(os, "readyReplicas") ||
	       sint(ns, "availableReplicas") > sint(os, "availableReplicas");
}

static const char *cond_str(const json_t *cond, const char *key)
{
	const char *s = json_string_value(json_object_get(cond, key));
	return s ? s : "";
}

/* DeploymentTimedOut */
static bool deployment_timed_out(const dsync *x, const json_t *ns)
{
	if (!has_progress_deadline(x->d))
		return false;
	json_t *cond = sw_ctl_condition(ns, "Progressing");
	if (!cond || strcmp(cond_str(cond, "reason"), "NewReplicaSetAvailable") == 0)
		return false;
	if (strcmp(cond_str(cond, "reason"), "ProgressDeadlineExceeded") == 0)
		return true;
	time_t from = sw_time_parse(cond_str(cond, "lastUpdateTime"));
	if (from < 0)
		return false;
	return (int64_t)from + progress_deadline(x->d) < (int64_t)sw_controllers_now(x->c);
}

/* requeueStuckDeployment */
static void requeue_stuck(const dsync *x, const json_t *ns)
{
	json_t *cond = sw_ctl_condition(json_object_get(x->d, "status"), "Progressing");
	if (!has_progress_deadline(x->d) || !cond)
		return;
	if (deployment_complete(x->d, ns) ||
	    strcmp(cond_str(cond, "reason"), "ProgressDeadlineExceeded") == 0)
		return;
	time_t from = sw_time_parse(cond_str(cond, "lastUpdateTime"));
	if (from < 0)
		return;
	int64_t after_ms = ((int64_t)from + progress_deadline(x->d)) * 1000 - sw_ctl_now_ms(x->c);
	sw_ctl_enqueue_after(x->c, SW_CTL_DEPLOYMENT, x->key,
	                     after_ms < 1000 ? 1000 : after_ms + 1000);
}

/* syncRolloutStatus */
static int sync_rollout_status(dsync *x, sw_error **err)
{
	cleanup_json json_t *ns = calculate_status(x);
	const char *rsname = x->new_idx >= 0 ? sw_obj_name(x->rs[x->new_idx]) : NULL;
	time_t now = sw_controllers_now(x->c);
	if (!has_progress_deadline(x->d))
		sw_ctl_condition_remove(ns, "Progressing");
	json_t *cur = sw_ctl_condition(json_object_get(x->d, "status"), "Progressing");
	bool complete_before = sint(ns, "replicas") == sint(ns, "updatedReplicas") && cur &&
	                       strcmp(cond_str(cur, "reason"), "NewReplicaSetAvailable") == 0;
	if (has_progress_deadline(x->d) && !complete_before) {
		if (deployment_complete(x->d, ns)) {
			cleanup_free char *msg = rsname
				? sw_xasprintf("ReplicaSet \"%s\" has successfully progressed.", rsname)
				: sw_xasprintf("Deployment \"%s\" has successfully progressed.",
				               sw_obj_name(x->d));
			sw_ctl_condition_set(ns, sw_ctl_condition_new("Progressing", "True",
			                                              "NewReplicaSetAvailable", msg, now));
		} else if (deployment_progressing(x->d, ns)) {
			cleanup_free char *msg = rsname
				? sw_xasprintf("ReplicaSet \"%s\" is progressing.", rsname)
				: sw_xasprintf("Deployment \"%s\" is progressing.", sw_obj_name(x->d));
			json_t *cond = sw_ctl_condition_new("Progressing", "True", "ReplicaSetUpdated",
			                                    msg, now);
			if (cur) {
				if (strcmp(cond_str(cur, "status"), "True") == 0)
					json_object_set(cond, "lastTransitionTime",
					                json_object_get(cur, "lastTransitionTime"));
				sw_ctl_condition_remove(ns, "Progressing");
			}
			sw_ctl_condition_set(ns, cond);
		} else if (deployment_timed_out(x, ns)) {
			cleanup_free char *msg = rsname
				? sw_xasprintf("ReplicaSet \"%s\" has timed out progressing.", rsname)
				: sw_xasprintf("Deployment \"%s\" has timed out progressing.",
				               sw_obj_name(x->d));
			sw_ctl_condition_set(ns, sw_ctl_condition_new("Progressing", "False",
			                                              "ProgressDeadlineExceeded", msg,
			                                              now));
		}
	}
	/* getReplicaFailures: the new RS's failure first, else an old one's */
	json_t *failure = x->new_idx >= 0
		? sw_ctl_condition(json_object_get(x->rs[x->new_idx], "status"), "ReplicaFailure")
		: NULL;
	for (size_t i = 0; i < x->n && !failure; i++)
		failure = sw_ctl_condition(json_object_get(x->rs[i], "status"), "ReplicaFailure");
	if (failure)
		sw_ctl_condition_set(ns, sw_ctl_condition_new("ReplicaFailure",
		                                              cond_str(failure, "status"),
		                                              cond_str(failure, "reason"),
		                                              cond_str(failure, "message"), now));
	else
		sw_ctl_condition_remove(ns, "ReplicaFailure");
	if (json_equal(ns, json_object_get(x->d, "status"))) {
		requeue_stuck(x, ns);
		return 0;
	}
	json_t *newc = sw_ctl_condition(ns, "Progressing");
	if (newc && strcmp(cond_str(newc, "reason"), "ProgressDeadlineExceeded") == 0 &&
	    (!cur || strcmp(cond_str(cur, "reason"), "ProgressDeadlineExceeded") != 0))
		sw_store_event(x->c->store, x->d, "Warning", "ProgressDeadlineExceeded", COMPONENT,
		               "%s", cond_str(newc, "message"));
	return write_status(x, ns, err);
}

/* syncDeploymentStatus */
static int sync_deployment_status(dsync *x, sw_error **err)
{
	cleanup_json json_t *ns = calculate_status(x);
	if (json_equal(ns, json_object_get(x->d, "status")))
		return 0;
	return write_status(x, ns, err);
}

/* checkPausedConditions */
static int check_paused_conditions(dsync *x, sw_error **err)
{
	if (!has_progress_deadline(x->d))
		return 0;
	json_t *cond = sw_ctl_condition(json_object_get(x->d, "status"), "Progressing");
	if (cond && strcmp(cond_str(cond, "reason"), "ProgressDeadlineExceeded") == 0)
		return 0;
	bool paused = sw_obj_bool(x->d, "spec.paused", false);
	bool paused_cond = cond && strcmp(cond_str(cond, "reason"), "DeploymentPaused") == 0;
	json_t *newc = NULL;
	time_t now = sw_controllers_now(x->c);
	if (paused && !paused_cond)
		newc = sw_ctl_condition_new("Progressing", "Unknown", "DeploymentPaused",
		                            "Deployment is paused", now);
	else if (!paused && paused_cond)
		newc = sw_ctl_condition_new("Progressing", "Unknown", "DeploymentResumed",
		                            "Deployment is resumed", now);
	if (!newc)
		return 0;
	cleanup_json json_t *status = status_copy(x);
	sw_ctl_condition_set(status, newc);
	return write_status(x, status, err);
}

/* ---- history ------------------------------------------------------------------- */

static int rev_qcmp(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int64_t rx = sw_ctl_revision(x), ry = sw_ctl_revision(y);
	if (rx != ry)
		return rx < ry ? -1 : 1;
	return sw_ctl_rs_age_cmp(x, y);
}

/* cleanupDeployment: deletes the oldest revisions beyond the limit. */
static int cleanup_history(dsync *x, sw_error **err)
{
	int64_t limit = sw_obj_int(x->d, "spec.revisionHistoryLimit", DEFAULT_HISTORY_LIMIT);
	if (limit < 0 || limit == INT32_MAX_SECONDS)
		return 0;
	cleanup_free json_t **old = sw_xcalloc(x->n + 1, sizeof(*old));
	size_t n = 0;
	for (size_t i = 0; i < x->n; i++)
		if (!is_new(x, i) && !sw_obj_deleting(x->rs[i]))
			old[n++] = x->rs[i];
	if ((int64_t)n <= limit)
		return 0;
	qsort(old, n, sizeof(*old), rev_qcmp);
	int64_t diff = (int64_t)n - limit;
	for (int64_t i = 0; i < diff; i++) {
		const json_t *rs = old[i];
		if (st(rs, "replicas") != 0 || spec_of(rs) != 0 ||
		    sw_obj_int(rs, "metadata.generation", 1) > st(rs, "observedGeneration"))
			continue;
		sw_delete_opts opts = { .grace_seconds = -1, .uid = sw_obj_uid(rs) };
		sw_error *e = NULL;
		if (sw_store_delete(x->c->store, x->c->k_rs, sw_obj_namespace(rs), sw_obj_name(rs),
		                    &opts, NULL, &e) < 0) {
			if (sw_error_code(e) == SW_ENOTFOUND) {
				sw_error_free(e);
				continue;
			}
			*err = e;
			return sw_error_wrap(err, "deployment %s: pruning replicaset %s", x->key,
			                     sw_obj_name(rs));
		}
	}
	return 0;
}

/* ---- scaling (sync.go scale) ---------------------------------------------------- */

/* qsort has no context argument; syncs run on one thread */
typedef struct {
	dsync *x;
	int dir;
} size_sort;
static size_sort g_sort;

/* ReplicaSetsBySizeNewer (dir > 0) / BySizeOlder (dir < 0) over indices. */
static int size_qcmp(const void *a, const void *b)
{
	const json_t *ra = g_sort.x->rs[*(const size_t *)a], *rb = g_sort.x->rs[*(const size_t *)b];
	int64_t sa = spec_of(ra), sb = spec_of(rb);
	if (sa != sb)
		return sa > sb ? -1 : 1;
	int age = sw_ctl_rs_age_cmp(ra, rb);
	return g_sort.dir > 0 ? -age : age;
}

static int scale(dsync *x, sw_error **err)
{
	int64_t replicas = dreplicas(x);
	cleanup_free size_t *active = sw_xcalloc(x->n + 1, sizeof(*active));
	size_t na = 0;
	for (size_t i = 0; i < x->n; i++)
		if (spec_of(x->rs[i]) > 0)
			active[na++] = i;
	/* FindActiveOrLatest */
	if (x->n > 0 && na <= 1) {
		size_t target;
		if (na == 1) {
			target = active[0];
		} else if (x->new_idx >= 0) {
			target = (size_t)x->new_idx;
		} else {
			target = x->n - 1; /* the newest old one */
		}
		/* scale_rs, not scale_and_record: also refreshes stale
		 * desired-replicas annotations (an RS resized by hand), which would
		 * otherwise make every sync a "scaling event" and block rollouts */
		return scale_rs(x, target, replicas, err) < 0 ? -1 : 0;
	}
	if (x->n == 0)
		return 0;
	/* IsSaturated: old ones go to 0 */
	if (x->new_idx >= 0) {
		const json_t *nrs = x->rs[x->new_idx];
		const char *desired = sw_obj_annotation(nrs, SW_ANN_DESIRED_REPLICAS);
		if (spec_of(nrs) == replicas && desired && strtoll(desired, NULL, 10) == replicas &&
		    st(nrs, "availableReplicas") == replicas) {
			for (size_t i = 0; i < x->n; i++)
				if (!is_new(x, i) && spec_of(x->rs[i]) > 0 &&
				    scale_and_record(x, i, 0, err) < 0)
					return -1;
			return 0;
		}
	}
	if (!sw_ctl_is_rolling(x->d))
		return 0;
	int64_t all = 0;
	for (size_t i = 0; i < na; i++)
		all += spec_of(x->rs[active[i]]);
	int64_t max_surge = sw_ctl_max_surge(x->d);
	int64_t allowed = replicas > 0 ? replicas + max_surge : 0;
	int64_t to_add = allowed - all;
	g_sort = (size_sort){ x, to_add > 0 ? 1 : -1 };
	if (to_add != 0)
		qsort(active, na, sizeof(*active), size_qcmp);
	cleanup_free int64_t *size = sw_xcalloc(na + 1, sizeof(*size));
	int64_t added = 0;
	int64_t status_replicas = sint(json_object_get(x->d, "status"), "replicas");
	for (size_t i = 0; i < na; i++) {
		const json_t *rs = x->rs[active[i]];
		size[i] = spec_of(rs);
		if (to_add == 0)
			continue;
		const char *maxa = sw_obj_annotation(rs, SW_ANN_MAX_REPLICAS);
		int64_t p = sw_ctl_rs_proportion(spec_of(rs), maxa ? strtoll(maxa, NULL, 10) : 0,
		                                 status_replicas, replicas, max_surge, to_add, added);
		size[i] += p;
		added += p;
	}
	for (size_t i = 0; i < na; i++) {
		if (i == 0 && to_add != 0) {
			size[0] += to_add - added;
			if (size[0] < 0)
				size[0] = 0;
		}
		if (scale_rs(x, active[i], size[i], err) < 0)
			return -1;
	}
	return 0;
}

/* sync: scaling and paused deployments */
static int sync_scale(dsync *x, sw_error **err)
{
	if (sync_revision(x, false, err) < 0)
		return -1;
	if (scale(x, err) < 0)
		return -1;
	if (sw_obj_bool(x->d, "spec.paused", false) && cleanup_history(x, err) < 0)
		return -1;
	return sync_deployment_status(x, err);
}

/* isScalingEvent */
static int is_scaling_event(dsync *x, bool *out, sw_error **err)
{
	*out = false;
	if (sync_revision(x, false, err) < 0)
		return -1;
	for (size_t i = 0; i < x->n; i++) {
		if (spec_of(x->rs[i]) <= 0)
			continue;
		const char *desired = sw_obj_annotation(x->rs[i], SW_ANN_DESIRED_REPLICAS);
		if (desired && strtoll(desired, NULL, 10) != dreplicas(x))
			*out = true;
	}
	return 0;
}

/* ---- RollingUpdate (rolling.go) -------------------------------------------------- */

/* reconcileNewReplicaSet */
static int reconcile_new(dsync *x, sw_error **err)
{
	size_t i = (size_t)x->new_idx;
	int64_t replicas = dreplicas(x), cur = spec_of(x->rs[i]);
	if (cur == replicas)
		return 0;
	if (cur > replicas)
		return scale_and_record(x, i, replicas, err);
	int64_t to = sw_ctl_new_rs_new_replicas(replicas, sw_ctl_max_surge(x->d), sum_spec(x, false),
	                                        cur);
	return scale_and_record(x, i, to, err);
}

/* cleanupUnhealthyReplicas: scales old RSs down by their unavailable
 * pods, oldest first, at most max in all. */
static int64_t cleanup_unhealthy(dsync *x, int64_t max, sw_error **err)
{
	int64_t total = 0;
	for (size_t i = 0; i < x->n; i++) {
		if (total >= max)
			break;
		if (is_new(x, i))
			continue;
		int64_t spec = spec_of(x->rs[i]), avail = st(x->rs[i], "availableReplicas");
		if (spec == 0 || avail >= spec)
			continue;
		int64_t down = spec - avail < max - total ? spec - avail : max - total;
		if (scale_and_record(x, i, spec - down, err) < 0)
			return -1;
		total += down;
	}
	return total;
}

/* scaleDownOldReplicaSetsForRollingUpdate */
static int64_t scale_down_old_rolling(dsync *x, sw_error **err)
{
	int64_t min_avail = dreplicas(x) - sw_ctl_max_unavailable(x->d);
	int64_t avail = sum_status(x, "availableReplicas");
	if (avail <= min_avail)
		return 0;
	int64_t want = avail - min_avail, total = 0;
	for (size_t i = 0; i < x->n; i++) {
		if (total >= want)
			break;
		if (is_new(x, i))
			continue;
		int64_t spec = spec_of(x->rs[i]);
		if (spec == 0)
			continue;
		int64_t down = spec < want - total ? spec : want - total;
		if (scale_and_record(x, i, spec - down, err) < 0)
			return -1;
		total += down;
	}
	return total;
}

/* reconcileOldReplicaSets: 1 when something was scaled down. */
static int reconcile_old(dsync *x, sw_error **err)
{
	int64_t old = sum_spec(x, true);
	if (old == 0)
		return 0;
	int64_t all = sum_spec(x, false);
	int64_t min_avail = dreplicas(x) - sw_ctl_max_unavailable(x->d);
	const json_t *nrs = x->rs[x->new_idx];
	int64_t new_unavail = spec_of(nrs) - st(nrs, "availableReplicas");
	int64_t max_down = all - min_avail - new_unavail;
	if (max_down <= 0)
		return 0;
	int64_t cleaned = cleanup_unhealthy(x, max_down, err);
	if (cleaned < 0)
		return -1;
	int64_t down = scale_down_old_rolling(x, err);
	if (down < 0)
		return -1;
	return cleaned + down > 0;
}

static int rollout_rolling(dsync *x, sw_error **err)
{
	if (sync_revision(x, true, err) < 0)
		return -1;
	int r = reconcile_new(x, err);
	if (r < 0)
		return -1;
	if (r > 0)
		return sync_rollout_status(x, err);
	r = reconcile_old(x, err);
	if (r < 0)
		return -1;
	if (r > 0)
		return sync_rollout_status(x, err);
	if (deployment_complete(x->d, json_object_get(x->d, "status")) &&
	    cleanup_history(x, err) < 0)
		return -1;
	return sync_rollout_status(x, err);
}

/* ---- Recreate (recreate.go) ------------------------------------------------------ */

/* oldPodsRunning: an old RS still reports pods, or a pod of one exists
 * that is not Succeeded/Failed (terminating pods count). */
static int old_pods_running(dsync *x, bool *out, sw_error **err)
{
	*out = false;
	for (size_t i = 0; i < x->n; i++)
		if (!is_new(x, i) && st(x->rs[i], "replicas") > 0) {
			*out = true;
			return 0;
		}
	cleanup_json json_t *pods = NULL;
	if (sw_ctl_list(x->c, x->c->k_pod, sw_obj_namespace(x->d), &pods, err) < 0)
		return -1;
	size_t j;
	json_t *p;
	json_array_foreach(pods, j, p) {
		const char *phase = sw_obj_str(p, "status.phase");
		if (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0))
			continue;
		for (size_t i = 0; i < x->n; i++)
			if (!is_new(x, i) && sw_obj_owned_by(p, x->rs[i])) {
				*out = true;
				return 0;
			}
	}
	return 0;
}

static int rollout_recreate(dsync *x, sw_error **err)
{
	if (sync_revision(x, false, err) < 0)
		return -1;
	bool scaled = false;
	for (size_t i = 0; i < x->n; i++) {
		if (is_new(x, i) || spec_of(x->rs[i]) == 0)
			continue;
		int r = scale_and_record(x, i, 0, err);
		if (r < 0)
			return -1;
		scaled |= r > 0;
	}
	if (scaled)
		return sync_rollout_status(x, err);
	bool running = false;
	if (old_pods_running(x, &running, err) < 0)
		return -1;
	if (running)
		return sync_rollout_status(x, err);
	if (x->new_idx < 0 && sync_revision(x, true, err) < 0)
		return -1;
	if (scale_and_record(x, (size_t)x->new_idx, dreplicas(x), err) < 0)
		return -1;
	if (deployment_complete(x->d, json_object_get(x->d, "status")) &&
	    cleanup_history(x, err) < 0)
		return -1;
	return sync_rollout_status(x, err);
}

/* ---- syncDeployment -------------------------------------------------------------- */

static int sync_claimed(dsync *x, sw_error **err)
{
	if (sw_obj_deleting(x->d))
		return sync_revision(x, false, err) < 0 ? -1 : sync_deployment_status(x, err);
	if (check_paused_conditions(x, err) < 0)
		return -1;
	if (sw_obj_bool(x->d, "spec.paused", false))
		return sync_scale(x, err);
	bool scaling = false;
	if (is_scaling_event(x, &scaling, err) < 0)
		return -1;
	if (scaling)
		return sync_scale(x, err);
	if (sw_ctl_is_rolling(x->d))
		return rollout_rolling(x, err);
	const char *type = sw_obj_str(x->d, "spec.strategy.type");
	if (type && strcmp(type, "Recreate") == 0)
		return rollout_recreate(x, err);
	/* validation allows only those two; scale, but roll nothing out */
	sw_store_event(x->c->store, x->d, "Warning", "UnsupportedStrategy", COMPONENT,
	               "spec.strategy.type \"%s\" is not RollingUpdate or Recreate", type);
	return sync_scale(x, err);
}

/* An empty (or bad) selector: warn and only observe the generation. */
static int selecting_all(dsync *x, sw_error **err)
{
	sw_store_event(x->c->store, x->d, "Warning", "SelectingAll", COMPONENT,
	               "This deployment is selecting all pods. A non-empty selector is required.");
	if (sw_obj_int(x->d, "status.observedGeneration", 0) >=
	    sw_obj_int(x->d, "metadata.generation", 1))
		return 0;
	cleanup_json json_t *status = status_copy(x);
	json_object_set_new(status, "observedGeneration",
	                    json_integer(sw_obj_int(x->d, "metadata.generation", 1)));
	return write_status(x, status, err);
}

/* Validation refuses a selector that does not match the template's
 * labels; one in the store anyway is reported, not rolled out (its pods
 * would never be counted). */
static int selector_mismatch(dsync *x, sw_error **err)
{
	(void)err;
	sw_store_event(x->c->store, x->d, "Warning", "InvalidSelector", COMPONENT,
	               "spec.selector does not match template labels");
	return 0;
}

int sw_ctl_sync_deployment(sw_controllers *c, const char *key, sw_error **err)
{
	cleanup_free char *ns = NULL, *name = NULL;
	sw_ctl_key_split(key, &ns, &name);
	dsync x = { .c = c, .key = key, .new_idx = -1 };
	if (sw_store_get(c->store, c->k_deploy, ns, name, &x.d, err) < 0) {
		if (sw_error_code(*err) == SW_ENOTFOUND) {
			sw_error_clear(err);
			return 0;
		}
		return -1;
	}
	int rc;
	sw_selector *sel = NULL;
	cleanup_error sw_error *serr = NULL;
	if (sw_selector_from_json(&sel, sw_obj_path(x.d, "spec.selector"), false, &serr) < 0 ||
	    sw_selector_empty(sel))
		rc = selecting_all(&x, err);
	else if (!sw_selector_matches(sel, sw_obj_path(x.d, "spec.template.metadata.labels")))
		rc = selector_mismatch(&x, err);
	else if (claim_replicasets(&x, sel, err) < 0)
		rc = -1;
	else
		rc = sync_claimed(&x, err);
	sw_selector_free(sel);
	dsync_release(&x);
	return rc;
}
