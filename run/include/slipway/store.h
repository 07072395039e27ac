/*
 * store.h - slipwayd's object store.
 *
 * Every API object is one Kubernetes-shaped JSON document (apiVersion,
 * kind, metadata, spec, status) in SQLite (WAL mode, file 0600). The store
 * owns metadata.uid, resourceVersion, generation, creationTimestamp and
 * deletionTimestamp; callers own the rest. One global revision counter
 * gives every committed change its resourceVersion (as etcd does), so a
 * list's revision is where a watch resumes.
 *
 * Threading: one thread (the daemon's event loop) calls everything here.
 * Watch callbacks run synchronously after each commit; they may read the
 * store but must not write to it (queue the work instead).
 *
 * Errors use sw_error codes the API maps to HTTP: SW_ENOTFOUND 404,
 * SW_EEXISTS 409 AlreadyExists, SW_ECONFLICT 409 Conflict, SW_EINVALID 422,
 * SW_EGONE 410 (resourceVersion too old), SW_EFORBIDDEN 403. Messages are Kubernetes':
 *   deployments.apps "web" not found
 *   Operation cannot be fulfilled on deployments.apps "web": the object has
 *   been modified; please apply your changes to the latest version and try again
 */
#ifndef SLIPWAY_STORE_H
#define SLIPWAY_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "slipway/error.h"
#include "slipway/kinds.h"
#include "slipway/selector.h"

typedef struct sw_store sw_store;

/* Opens (creating) the store at path, e.g. STATE/slipwayd.db. The
 * namespaces "default" and "kube-system" always exist. */
int sw_store_open(sw_store **out, const char *path, sw_error **err);
void sw_store_free(sw_store *s);

/* The revision of the last committed change. */
uint64_t sw_store_revision(const sw_store *s);

/* ns is ignored for cluster-scoped kinds (Namespace). */
int sw_store_get(sw_store *s, const sw_kind *k, const char *ns, const char *name, json_t **out,
                 sw_error **err);

typedef struct sw_list_opts {
	const char *ns;              /* NULL or "": every namespace */
	const sw_selector *labels;   /* NULL: all */
	const char *name;            /* fieldSelector metadata.name=..., or NULL */
	size_t limit;                /* 0: no limit */
	const char *continue_token;  /* from a previous page, or NULL */
} sw_list_opts;

/* *items: a new array of objects sorted by namespace then name; *revision:
 * the store revision the list reflects; *next: a continue token when limit
 * cut the list (caller frees), else NULL. opts may be NULL. A bad continue
 * token is SW_EINVALID; one older than the kept history SW_EGONE. */
int sw_store_list(sw_store *s, const sw_kind *k, const sw_list_opts *opts, json_t **items,
                  uint64_t *revision, char **next, sw_error **err);

/*
 * Stores a new object. obj needs metadata.name, or metadata.generateName
 * (a random 5-character suffix is added). Sets apiVersion/kind from k,
 * metadata.namespace ("default" when missing; the namespace must exist and
 * not be terminating), uid, resourceVersion, generation 1 and
 * creationTimestamp. obj is not modified; *out (may be NULL) gets the
 * stored object. SW_EEXISTS when the name is taken.
 */
int sw_store_create(sw_store *s, const sw_kind *k, const json_t *obj, json_t **out,
                    sw_error **err);

enum sw_store_update_flags {
	SW_STORE_MAIN = 0,   /* everything but status (status is kept) */
	SW_STORE_STATUS = 1, /* status only (the rest is kept) */
};

/*
 * Replaces an object. When obj carries metadata.resourceVersion it must
 * equal the stored one, else SW_ECONFLICT; without it the write is
 * unconditional. uid, creationTimestamp, deletionTimestamp and generation
 * are the store's: generation goes up by one when anything outside
 * metadata and status changed (spec), as in Kubernetes. An update that
 * changes nothing commits nothing and sends no event. An object marked
 * for deletion whose metadata.finalizers become empty is removed.
 */
int sw_store_update(sw_store *s, const sw_kind *k, const json_t *obj, int flags, json_t **out,
                    sw_error **err);

typedef struct sw_delete_opts {
	int64_t grace_seconds;      /* -1: the object's default */
	const char *uid;            /* precondition, or NULL */
	const char *resource_version; /* precondition, or NULL */
} sw_delete_opts;

/*
 * Deletes an object, the Kubernetes way:
 *  - a Pod bound to the node (spec.nodeName set: the node agent sets it
 *    when it takes the pod) with a grace period (grace_seconds > 0, or -1 and its
 *    spec.terminationGracePeriodSeconds, default 30, > 0) that has not yet
 *    been marked is marked instead: metadata.deletionTimestamp (now +
 *    grace) and deletionGracePeriodSeconds are set (a MODIFIED event); the
 *    node agent stops its containers and then deletes it with grace 0
 *    (a marked object deleted again with grace 0 is removed); a Pod no
 *    agent has taken is removed at once, as Kubernetes does for
 *    unscheduled pods;
 *  - an object with metadata.finalizers is marked the same way and
 *    removed when its finalizers are emptied;
 *  - otherwise it is removed (a DELETED event carrying its last state).
 * *out (may be NULL) gets the marked or last object. opts may be NULL.
 * Deleting a Namespace marks it (status.phase Terminating); the namespace
 * controller empties it and then removes it by deleting it again with
 * grace 0. "default", "kube-system" and "kube-public" cannot be deleted
 * (SW_EFORBIDDEN); nothing can be created in a terminating namespace
 * (SW_EFORBIDDEN) or a missing one (SW_ENOTFOUND).
 */
int sw_store_delete(sw_store *s, const sw_kind *k, const char *ns, const char *name,
                    const sw_delete_opts *opts, json_t **out, sw_error **err);

/*
 * Transactions: writes between begin and commit are one SQLite
 * transaction and all-or-nothing (a multi-document apply); watchers hear
 * of them only after commit, and never after rollback. Not nested.
 */
int sw_store_begin(sw_store *s, sw_error **err);
int sw_store_commit(sw_store *s, sw_error **err);
void sw_store_rollback(sw_store *s);

/* ---- change feed -------------------------------------------------------- */

typedef enum sw_watch_type {
	SW_WATCH_ADDED,
	SW_WATCH_MODIFIED,
	SW_WATCH_DELETED,
} sw_watch_type;

/* "ADDED", "MODIFIED", "DELETED". */
const char *sw_watch_type_name(sw_watch_type t);

/* obj is borrowed for the call (json_incref to keep it); revision is the
 * change's resourceVersion. */
typedef void (*sw_store_watch_fn)(void *ctx, sw_watch_type type, const sw_kind *k,
                                  const json_t *obj, uint64_t revision);

/* Calls fn after every committed change of kind k (NULL: every kind).
 * Returns a watch id > 0. */
int sw_store_watch(sw_store *s, const sw_kind *k, sw_store_watch_fn fn, void *ctx);
void sw_store_unwatch(sw_store *s, int id);

/*
 * Replays to fn, in order, the kept changes of kind k (NULL: all) in
 * namespace ns (NULL: all) with a revision > since. The store keeps the
 * last 10000 changes (object history); asking for one older than that is
 * SW_EGONE ("too old resource version: 12 (3456)").
 */
int sw_store_changes_since(sw_store *s, const sw_kind *k, const char *ns, uint64_t since,
                           sw_store_watch_fn fn, void *ctx, sw_error **err);

/* ---- events (v1 Event) -------------------------------------------------- */

/*
 * Records an Event about obj in obj's namespace: type "Normal" or
 * "Warning", a CamelCase reason ("BackOff", "ScalingReplicaSet"), a
 * message, and source.component (e.g. "deployment-controller"). A repeat of
 * the same object, reason and message within 10 minutes bumps count and
 * lastTimestamp instead. Events are kept for one hour, and about 1000
 * per namespace (checked every 64 new events). Never fails the caller:
 * errors are logged.
 */
void sw_store_event(sw_store *s, const json_t *obj, const char *type, const char *reason,
                    const char *component, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

#endif
