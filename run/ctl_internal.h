/*
 * ctl_internal.h - what the controllers share among themselves: the work
 * queues, the controllers' context, and the pure helpers of the Kubernetes
 * algorithms (template hash, maxSurge/maxUnavailable, conditions, pod
 * readiness, scale-down victim order), which the unit tests call directly.
 * Not a public interface: only run/controller*.c and run/ctl_*.c use it.
 */
#ifndef SLIPWAY_CTL_INTERNAL_H
#define SLIPWAY_CTL_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "slipway/controllers.h"
#include "slipway/kinds.h"
#include "slipway/store.h"

#define SW_LABEL_TEMPLATE_HASH "pod-template-hash"
#define SW_ANN_REVISION "deployment.kubernetes.io/revision"
#define SW_ANN_REVISION_HISTORY "deployment.kubernetes.io/revision-history"
#define SW_ANN_DESIRED_REPLICAS "deployment.kubernetes.io/desired-replicas"
#define SW_ANN_MAX_REPLICAS "deployment.kubernetes.io/max-replicas"
#define SW_ANN_CHANGE_CAUSE "kubernetes.io/change-cause"

/* ---- the framework (controller.c) --------------------------------------- */

/* Work items are processed in this order of controllers. */
enum sw_ctl_id {
	SW_CTL_REPLICASET,
	SW_CTL_DEPLOYMENT,
	SW_CTL_GC,
	SW_CTL_NAMESPACE,
	SW_CTL_COUNT
};

/* A sync: 0 done, < 0 failed (retried with back-off). */
typedef int (*sw_ctl_sync_fn)(sw_controllers *c, const char *key, sw_error **err);

typedef struct sw_ctl_item {
	char *key;
	int64_t due_ms;  /* INT64_MAX: not queued (kept only for its failures) */
	int failures;
} sw_ctl_item;

typedef struct sw_ctl_queue {
	const char *name;
	sw_ctl_sync_fn sync;
	sw_ctl_item *items;
	size_t n, cap;
	uint64_t syncs, errors;
} sw_ctl_queue;

struct sw_controllers {
	struct event_base *base;
	sw_store *store;
	struct event *kick;    /* active when work is due now */
	struct event *timer;   /* the earliest delayed item */
	struct event *resync;  /* every SW_CTL_RESYNC_SECONDS */
	int watch_id;
	bool fake_clock;
	int64_t fake_ms;
	sw_ctl_queue q[SW_CTL_COUNT];
	const sw_kind *k_pod, *k_rs, *k_deploy, *k_ns;
};

#define SW_CTL_RESYNC_SECONDS 30

int64_t sw_ctl_now_ms(const sw_controllers *c);
/* Queues key now (or keeps an earlier due time). */
void sw_ctl_enqueue(sw_controllers *c, enum sw_ctl_id id, const char *key);
/* Queues key after delay_ms unless it is already due earlier. */
void sw_ctl_enqueue_after(sw_controllers *c, enum sw_ctl_id id, const char *key,
                          int64_t delay_ms);
/* "ns/name" for obj; caller frees. */
char *sw_ctl_key(const json_t *obj);
/* Splits "ns/name" into two new strings. */
void sw_ctl_key_split(const char *key, char **ns, char **name);

/* The syncs (ctl_replicaset.c, ctl_deployment.c, ctl_gc.c). */
int sw_ctl_sync_replicaset(sw_controllers *c, const char *key, sw_error **err);
int sw_ctl_sync_deployment(sw_controllers *c, const char *key, sw_error **err);
int sw_ctl_sync_gc(sw_controllers *c, const char *key, sw_error **err);
int sw_ctl_sync_namespace(sw_controllers *c, const char *key, sw_error **err);

/* Lists objects of kind k in ns into a new array (*out); SW_E* on error. */
int sw_ctl_list(sw_controllers *c, const sw_kind *k, const char *ns, json_t **out,
                sw_error **err);

/* ---- pure helpers (ctl_util.c) ------------------------------------------ */

/* 32-bit FNV-1a, continuing from h (start with SW_FNV32_OFFSET). */
#define SW_FNV32_OFFSET 2166136261u
uint32_t sw_ctl_fnv1a32(uint32_t h, const void *data, size_t len);
/* Kubernetes' rand.SafeEncodeString: each byte b becomes
 * "bcdfghjklmnpqrstvwxz2456789"[b % 27], in place. */
void sw_ctl_safe_encode(char *s);
/* The pod-template-hash of a pod template: FNV-1a 32 over its canonical
 * JSON (the hash label itself left out), then collision_count as 4 bytes
 * little-endian when >= 0, printed in decimal and safe-encoded. Caller
 * frees. */
char *sw_ctl_template_hash(const json_t *tmpl, int64_t collision_count);
/* Two pod templates equal once the pod-template-hash label is removed. */
bool sw_ctl_templates_equal(const json_t *a, const json_t *b);

/* An IntOrString against total: integer as is, "N%" scaled and rounded up
 * or down. SW_EINVALID for anything else. */
int sw_ctl_int_or_percent(const json_t *v, int64_t total, bool round_up, int64_t *out,
                          sw_error **err);
/* spec.replicas, default 1. */
int64_t sw_ctl_replicas(const json_t *obj);
bool sw_ctl_is_rolling(const json_t *deploy);
/* ResolveFenceposts: surge rounded up, unavailable down, both 0 -> 1. */
int sw_ctl_fenceposts(const json_t *deploy, int64_t *surge, int64_t *unavailable,
                      sw_error **err);
/* MaxSurge / MaxUnavailable as deployment_util.go: 0 when not
 * RollingUpdate (or, for unavailable, replicas 0); unavailable capped at
 * replicas. Bad values count as 0. */
int64_t sw_ctl_max_surge(const json_t *deploy);
int64_t sw_ctl_max_unavailable(const json_t *deploy);

/* Conditions in status.conditions (Deployment/Pod shape). */
json_t *sw_ctl_condition(const json_t *status, const char *type);
/* A new condition {type,status,lastUpdateTime,lastTransitionTime,reason,message}. */
json_t *sw_ctl_condition_new(const char *type, const char *status, const char *reason,
                             const char *message, time_t now);
/* SetDeploymentCondition: no change when status and reason are the same;
 * keeps lastTransitionTime when status is the same; the condition moves
 * to the end. Steals cond. */
void sw_ctl_condition_set(json_t *status, json_t *cond);
void sw_ctl_condition_remove(json_t *status, const char *type);

/* Pods. */
bool sw_ctl_pod_ready(const json_t *pod);
/* lastTransitionTime of the Ready condition when it is True, else -1. */
time_t sw_ctl_pod_ready_since(const json_t *pod);
/* Ready for more than min_ready seconds at now (or just Ready when 0). */
bool sw_ctl_pod_available(const json_t *pod, int64_t min_ready, time_t now);
/* Not being deleted and not Succeeded/Failed. */
bool sw_ctl_pod_active(const json_t *pod);
/* ActivePodsWithRanks.Less: < 0 when a should be deleted before b
 * (unassigned, Pending < Unknown < Running, not ready, lower
 * pod-deletion-cost, ready more recently, more restarts, newer, then uid). */
int sw_ctl_victim_cmp(const json_t *a, const json_t *b);
/* Sorts pods (an array of borrowed pointers) deletion-first. */
void sw_ctl_sort_victims(const json_t **pods, size_t n);

/* ReplicaSets. */
int64_t sw_ctl_revision(const json_t *rs);      /* annotation, 0 if none */
/* Creation time, then name: -1/0/1. */
int sw_ctl_rs_age_cmp(const json_t *a, const json_t *b);
/* Copies a Deployment's annotations to its RS, skipping the controller's
 * own (revision, desired/max replicas, last-applied); true if changed. */
bool sw_ctl_copy_annotations(const json_t *deploy, json_t *rs);
/* Sets desired-replicas and max-replicas; true if changed. */
bool sw_ctl_set_replicas_annotations(json_t *rs, int64_t desired, int64_t max);
/* SetNewReplicaSetAnnotations: copies annotations, raises the revision to
 * new_revision when lower (keeping the old one in revision-history) and,
 * for an RS about to be created, the replicas annotations. */
bool sw_ctl_set_new_rs_annotations(const json_t *deploy, json_t *rs, int64_t new_revision,
                                   bool exists);

/* NewRSNewReplicas for RollingUpdate: the new RS's size after a scale up
 * bounded by replicas + maxSurge over the sum of all RS spec.replicas. */
int64_t sw_ctl_new_rs_new_replicas(int64_t replicas, int64_t max_surge, int64_t all_rs_replicas,
                                   int64_t new_rs_replicas);
/* GetProportion for proportional scaling. */
int64_t sw_ctl_rs_proportion(int64_t rs_replicas, int64_t rs_max_annotation,
                             int64_t deploy_status_replicas, int64_t deploy_replicas,
                             int64_t deploy_max_surge, int64_t to_add, int64_t added);

#endif
