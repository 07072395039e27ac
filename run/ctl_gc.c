/*
 * ctl_gc.c - the garbage collector and the namespace controller.
 *
 * Collector: a namespace is queued when an object in it is deleted (and on
 * every resync); its sync deletes every object whose ownerReferences all
 * point at owners that no longer exist (no object of that kind and name,
 * or one with another uid): background propagation, so deleting a
 * Deployment removes its ReplicaSets, then their pods. Foreground and
 * orphan propagation (blockOwnerDeletion, the foregroundDeletion and
 * orphan finalizers) are not implemented.
 *
 * Namespace controller: a namespace marked for deletion (the store sets
 * deletionTimestamp and status.phase Terminating) gets every namespaced
 * object in it deleted; once none is left (pods leave when the node agent
 * has stopped them), its "kubernetes" finalizer is cleared and it is
 * removed.
 */
#include <stdlib.h>
#include <string.h>

#include "ctl_internal.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/log.h"
#include "slipway/mem.h"
#include "slipway/object.h"

/* Seconds between checks of a namespace still being emptied, besides the
 * deletions in it that wake it up. */
#define NAMESPACE_RECHECK_MS 5000

/* Does the owner an ownerReference names still exist (same uid)? Owners
 * of unknown kinds are taken as alive. */
static bool owner_alive(sw_controllers *c, const char *ns, const json_t *ref)
{
	const sw_kind *k = sw_kind_by_kind(json_string_value(json_object_get(ref, "apiVersion")),
	                                   json_string_value(json_object_get(ref, "kind")));
	const char *name = json_string_value(json_object_get(ref, "name"));
	const char *uid = json_string_value(json_object_get(ref, "uid"));
	if (!k || !name)
		return true;
	cleanup_json json_t *owner = NULL;
	cleanup_error sw_error *err = NULL;
	if (sw_store_get(c->store, k, k->namespaced ? ns : NULL, name, &owner, &err) < 0)
		return sw_error_code(err) != SW_ENOTFOUND; /* other errors: keep */
	const char *have = sw_obj_uid(owner);
	return !uid || (have && strcmp(have, uid) == 0);
}

int sw_ctl_sync_gc(sw_controllers *c, const char *key, sw_error **err)
{
	const char *ns = key;
	for (size_t ki = 0; ki < sw_kinds_count; ki++) {
		const sw_kind *k = &sw_kinds[ki];
		if (!k->namespaced || strcmp(k->kind, "Event") == 0)
			continue;
		cleanup_json json_t *items = NULL;
		if (sw_ctl_list(c, k, ns, &items, err) < 0)
			return sw_error_wrap(err, "garbage collector: namespace %s", ns);
		size_t i;
		json_t *o;
		json_array_foreach(items, i, o) {
			json_t *refs = sw_obj_path(o, "metadata.ownerReferences");
			if (json_array_size(refs) == 0 || sw_obj_deleting(o))
				continue;
			bool alive = false;
			size_t j;
			json_t *ref;
			json_array_foreach(refs, j, ref) {
				if (owner_alive(c, ns, ref)) {
					alive = true;
					break;
				}
			}
			if (alive)
				continue;
			sw_delete_opts opts = { .grace_seconds = -1, .uid = sw_obj_uid(o) };
			sw_error *e = NULL;
			if (sw_store_delete(c->store, k, ns, sw_obj_name(o), &opts, NULL, &e) < 0) {
				if (sw_error_code(e) == SW_ENOTFOUND) {
					sw_error_free(e);
					continue;
				}
				*err = e;
				return sw_error_wrap(err, "garbage collector: deleting %s %s/%s",
				                     k->singular, ns, sw_obj_name(o));
			}
			sw_debug("garbage collector: deleted %s %s/%s (owner gone)", k->singular, ns,
			         sw_obj_name(o));
		}
	}
	return 0;
}

int sw_ctl_sync_namespace(sw_controllers *c, const char *key, sw_error **err)
{
	cleanup_json json_t *nsobj = NULL;
	if (sw_store_get(c->store, c->k_ns, NULL, key, &nsobj, err) < 0) {
		if (sw_error_code(*err) == SW_ENOTFOUND) {
			sw_error_clear(err);
			return 0;
		}
		return -1;
	}
	if (!sw_obj_deleting(nsobj))
		return 0;
	size_t left = 0;
	for (size_t ki = 0; ki < sw_kinds_count; ki++) {
		const sw_kind *k = &sw_kinds[ki];
		if (!k->namespaced)
			continue;
		cleanup_json json_t *items = NULL;
		if (sw_ctl_list(c, k, key, &items, err) < 0)
			return sw_error_wrap(err, "namespace %s: listing %s", key, k->resource);
		size_t i;
		json_t *o;
		json_array_foreach(items, i, o) {
			if (sw_obj_deleting(o)) {
				left++;
				continue;
			}
			json_t *gone = NULL;
			sw_error *e = NULL;
			if (sw_store_delete(c->store, k, key, sw_obj_name(o), NULL, &gone, &e) < 0) {
				if (sw_error_code(e) == SW_ENOTFOUND) {
					sw_error_free(e);
					continue;
				}
				*err = e;
				return sw_error_wrap(err, "namespace %s: deleting %s %s", key, k->singular,
				                     sw_obj_name(o));
			}
			/* marked (a pod stopping, finalizers) rather than removed */
			if (sw_obj_deleting(gone) && !sw_obj_deleting(o))
				left++;
			json_decref(gone);
		}
	}
	if (left > 0) {
		sw_ctl_enqueue_after(c, SW_CTL_NAMESPACE, key, NAMESPACE_RECHECK_MS);
		return 0;
	}
	/* empty: clear the "kubernetes" finalizer, then remove it */
	json_t *fins = sw_obj_path(nsobj, "spec.finalizers");
	if (json_array_size(fins) > 0) {
		cleanup_json json_t *copy = json_deep_copy(nsobj);
		json_object_set_new(sw_obj_mkpath(copy, "spec"), "finalizers", json_array());
		if (sw_store_update(c->store, c->k_ns, copy, SW_STORE_MAIN, NULL, err) < 0)
			return sw_error_wrap(err, "namespace %s: clearing its finalizer", key);
	}
	sw_delete_opts opts = { .grace_seconds = 0, .uid = sw_obj_uid(nsobj) };
	if (sw_store_delete(c->store, c->k_ns, NULL, key, &opts, NULL, err) < 0) {
		if (sw_error_code(*err) == SW_ENOTFOUND) {
			sw_error_clear(err);
			return 0;
		}
		return sw_error_wrap(err, "namespace %s: removing it", key);
	}
	return 0;
}
