/*
 * kube_apply.c - create-or-update of a set of objects, all or nothing, for
 * `slipway apply` and `slipway deploy`.
 *
 * slipwayd has no multi-object transaction endpoint, so a set is applied
 * in three phases:
 *   1. plan: GET every object; absent -> create, present -> update built
 *      from the live object as kubectl's three-way apply does with
 *      kubectl.kubernetes.io/last-applied-configuration: server metadata
 *      and status are kept; labels and annotations the user never set are
 *      kept, those the previous apply set and this one drops are removed;
 *      fields this apply leaves as the last one set them keep their live
 *      value (a `slipway scale` survives a re-apply); or unchanged when
 *      the result adds nothing to what is live;
 *   2. validate: every create and update is sent with ?dryRun=All, so the
 *      server's admission checks all of them before anything is written
 *      (objects in a namespace this same apply creates cannot be checked
 *      that way; the client-side validation covered them);
 *   3. write, in order (namespaces first); if a write still fails (a
 *      concurrent change), the writes already made are undone (created
 *      objects deleted, updated ones put back) and the apply fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/object.h"
#include "slipway/printers.h"

#define LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"

enum action { ACT_CREATE, ACT_UPDATE, ACT_UNCHANGED };

struct item {
	const sw_kind *kind;
	const char *ns;       /* borrowed from obj */
	const char *name;
	json_t *obj;          /* what is sent */
	json_t *live;         /* the object before, for updates */
	json_t *result;       /* what the server answered */
	enum action act;
	bool done;            /* written (for the rollback) */
};

/* Does every field of a appear in b with the same value? */
static bool subset(const json_t *a, const json_t *b)
{
	if (json_is_object(a)) {
		const char *key;
		json_t *v;
		if (!json_is_object(b))
			return false;
		json_object_foreach((json_t *)a, key, v)
			if (!subset(v, json_object_get(b, key)))
				return false;
		return true;
	}
	if (json_is_array(a)) {
		if (!json_is_array(b) || json_array_size(a) != json_array_size(b))
			return false;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!subset(json_array_get(a, i), json_array_get(b, i)))
				return false;
		return true;
	}
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	return json_equal(a, b);
}

/* Keys of live's map that the user never set stay; keys the last apply set
 * and this one does not are dropped. */
static void merge_map(json_t *md, const json_t *live_md, const json_t *last_md, const char *field)
{
	const json_t *live = json_object_get(live_md, field), *last = json_object_get(last_md, field);
	json_t *want = json_object_get(md, field);
	const char *key;
	json_t *v;

	if (!json_object_size(live))
		return;
	if (!want) {
		want = json_object();
		json_object_set_new(md, field, want);
	}
	json_object_foreach((json_t *)live, key, v) {
		if (json_object_get(want, key) || json_object_get(last, key))
			continue;
		if (!strcmp(field, "annotations") && !strcmp(key, LAST_APPLIED))
			continue;
		json_object_set(want, key, v);
	}
}

/*
 * kubectl's three-way rule for everything outside metadata and status: a
 * field this apply leaves as the last apply set it keeps its live value, so
 * what others changed since (`slipway scale`, `rollout undo`) survives a
 * re-apply of the same manifest; a field the manifest changes is written.
 * Objects are merged key by key, lists as a whole.
 */
static void keep_live_unchanged(json_t *out, const json_t *last, const json_t *live)
{
	const char *key;
	json_t *v;

	json_object_foreach(out, key, v) {
		const json_t *l = json_object_get(last, key), *cur = json_object_get(live, key);
		if (!l || !cur)
			continue;
		if (json_is_object(v) && json_is_object(l) && json_is_object(cur))
			keep_live_unchanged(v, l, cur);
		else if (json_equal(v, (json_t *)l) && !json_equal(v, (json_t *)cur))
			json_object_set(out, key, (json_t *)cur);
	}
}

static json_t *merge_update(const json_t *desired, const json_t *live, bool release)
{
	static const char *const server_md[] = { "uid", "resourceVersion", "creationTimestamp", "generation",
		                                  "managedFields", "deletionTimestamp", "deletionGracePeriodSeconds",
		                                  "ownerReferences", "finalizers", "selfLink", NULL };
	json_t *out = json_deep_copy(desired);
	json_t *md = sw_obj_mkpath(out, "metadata");
	const json_t *live_md = json_object_get(live, "metadata");
	const char *last_s = sw_obj_annotation(live, LAST_APPLIED);
	cleanup_json json_t *last = last_s ? json_loads(last_s, 0, NULL) : NULL;
	const json_t *last_md = json_object_get(last, "metadata");

	for (size_t i = 0; server_md[i]; i++)
		if (!json_object_get(md, server_md[i]) && json_object_get(live_md, server_md[i]))
			json_object_set(md, server_md[i], json_object_get(live_md, server_md[i]));
	merge_map(md, live_md, last_md, "labels");
	merge_map(md, live_md, last_md, "annotations");
	if (last && release) {
		/* a release is the whole desired state but for the scale */
		const json_t *r = sw_obj_path(desired, "spec.replicas"), *lr = sw_obj_path(last, "spec.replicas");
		const json_t *cur = sw_obj_path(live, "spec.replicas");
		if (r && lr && cur && json_equal((json_t *)r, (json_t *)lr))
			json_object_set(json_object_get(out, "spec"), "replicas", (json_t *)cur);
	} else if (last) {
		const char *key;
		json_t *v;
		json_object_foreach(out, key, v) {
			const json_t *l = json_object_get(last, key), *cur = json_object_get(live, key);
			if (!strcmp(key, "metadata") || !strcmp(key, "status") || !strcmp(key, "apiVersion") ||
			    !strcmp(key, "kind") || !l || !cur)
				continue;
			if (json_is_object(v) && json_is_object(l) && json_is_object(cur))
				keep_live_unchanged(v, l, cur);
			else if (json_equal(v, (json_t *)l) && !json_equal(v, (json_t *)cur))
				json_object_set(out, key, (json_t *)cur);
		}
	}
	if (json_object_get(live, "status"))
		json_object_set(out, "status", json_object_get(live, "status"));
	/* fields the server assigns */
	if (!strcmp(sw_obj_str(out, "kind") ?: "", "Service")) {
		static const char *const svc[] = { "clusterIP", "clusterIPs", NULL };
		json_t *spec = sw_obj_mkpath(out, "spec");
		for (size_t i = 0; svc[i]; i++)
			if (!json_object_get(spec, svc[i]) && sw_obj_path(live, "spec") &&
			    json_object_get(sw_obj_path(live, "spec"), svc[i]))
				json_object_set(spec, svc[i], json_object_get(sw_obj_path(live, "spec"), svc[i]));
	}
	return out;
}

static void set_last_applied(json_t *obj)
{
	cleanup_json json_t *copy = json_deep_copy(obj);
	json_t *md = json_object_get(copy, "metadata");
	json_t *ann = json_object_get(md, "annotations");

	json_object_del(ann, LAST_APPLIED);
	if (ann && !json_object_size(ann))
		json_object_del(md, "annotations");
	json_object_del(copy, "status");
	cleanup_free char *s = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
	sw_obj_set_annotation(obj, LAST_APPLIED, s);
}

static int kind_order(const struct item *it)
{
	/* namespaces first, then config the workloads read, then the rest */
	const char *k = it->kind->kind;
	if (!strcmp(k, "Namespace"))
		return 0;
	if (!strcmp(k, "ConfigMap") || !strcmp(k, "Secret"))
		return 1;
	return 2;
}

static const char *verb_done(enum action a)
{
	return a == ACT_CREATE ? "created" : a == ACT_UPDATE ? "configured" : "unchanged";
}

static void rollback(struct kube *k, struct item *items, size_t n)
{
	for (size_t i = n; i-- > 0;) {
		struct item *it = &items[i];
		sw_error *err = NULL;
		if (!it->done)
			continue;
		cleanup_free char *path = sw_client_path(it->kind, it->ns, it->name, NULL);
		if (it->act == ACT_CREATE) {
			if (sw_client_request(k->client, "DELETE", path, NULL, NULL, &err) < 0) {
				cleanup_free char *m = sw_error_string(err);
				fprintf(stderr, "slipway: warning: undoing the create of %s/%s: %s\n", it->kind->resource, it->name, m);
				sw_error_free(err);
			}
		} else if (it->act == ACT_UPDATE) {
			cleanup_json json_t *cur = NULL;
			cleanup_json json_t *back = json_deep_copy(it->live);
			if (sw_client_request(k->client, "GET", path, NULL, &cur, &err) == 0) {
				json_object_set(sw_obj_mkpath(back, "metadata"), "resourceVersion",
				                sw_obj_path(cur, "metadata.resourceVersion"));
				sw_client_request(k->client, "PUT", path, back, NULL, &err);
			}
			if (err) {
				cleanup_free char *m = sw_error_string(err);
				fprintf(stderr, "slipway: warning: undoing the update of %s/%s: %s\n", it->kind->resource, it->name, m);
				sw_error_free(err);
			}
		}
	}
}

static int send_item(struct kube *k, struct item *it, bool dry, json_t **out, sw_error **err)
{
	cleanup_free char *path = NULL;
	const char *q = dry ? "?dryRun=All" : "";

	if (it->act == ACT_CREATE) {
		cleanup_free char *base = sw_client_path(it->kind, it->ns, NULL, NULL);
		path = sw_xasprintf("%s%s", base, q);
		return sw_client_request(k->client, "POST", path, it->obj, out, err);
	}
	cleanup_free char *base = sw_client_path(it->kind, it->ns, it->name, NULL);
	path = sw_xasprintf("%s%s", base, q);
	return sw_client_request(k->client, "PUT", path, it->obj, out, err);
}

static void print_results(struct item *items, size_t n, enum kube_dry_run dry, const char *output)
{
	const char *suffix = dry == KUBE_DRY_CLIENT ? " (dry run)" : dry == KUBE_DRY_SERVER ? " (server dry run)" : "";
	sw_error *err = NULL;

	if (!strcmp(output, "json") || !strcmp(output, "yaml")) {
		cleanup_json json_t *all = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append(all, items[i].result ? items[i].result : items[i].obj);
		cleanup_json json_t *doc = n == 1 ? json_incref(json_array_get(all, 0)) : kube_list_object(all);
		if (kube_print_object(items[0].kind, doc, output, &err) < 0)
			kube_fail(err);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *o = items[i].result ? items[i].result : items[i].obj;
		cleanup_free char *ref = sw_object_name_ref(items[i].kind, o);
		if (!strcmp(output, "name"))
			printf("%s\n", ref);
		else
			printf("%s %s%s\n", ref, verb_done(items[i].act), suffix);
	}
}

int kube_apply(struct kube *k, const json_t *objects, enum kube_dry_run dry, enum kube_apply_mode mode,
               const char *output, sw_error **err)
{
	size_t n = json_array_size(objects);
	struct item *items = sw_xcalloc(n ? n : 1, sizeof(*items));
	int ret = 0;

	/* resolve kinds and namespaces */
	for (size_t i = 0; i < n && ret == 0; i++) {
		struct item *it = &items[i];
		const json_t *o = json_array_get(objects, i);
		const char *api = sw_obj_str(o, "apiVersion"), *kind = sw_obj_str(o, "kind");
		it->obj = json_deep_copy(o);
		if (!(it->kind = sw_kind_by_kind(api ? api : "", kind ? kind : ""))) {
			ret = sw_error_set(err, SW_EINVALID, "object %zu: no kind \"%s\" in version \"%s\" is served", i + 1,
			                   kind ? kind : "", api ? api : "");
			break;
		}
		it->name = sw_obj_name(it->obj);
		if (!it->name || !*it->name) {
			ret = sw_error_set(err, SW_EINVALID, "%s %zu: metadata.name is required", it->kind->kind, i + 1);
			break;
		}
		if (it->kind->namespaced) {
			const char *ns = sw_obj_namespace(it->obj);
			if (ns && *ns && k->ns_given && strcmp(ns, k->ns)) {
				ret = sw_error_set(err, SW_EINVALID,
				                   "error: the namespace from the provided object \"%s\" does not match the namespace \"%s\". You must pass '--namespace=%s' to perform this operation.",
				                   ns, k->ns, ns);
				break;
			}
			if (!ns || !*ns)
				json_object_set_new(sw_obj_mkpath(it->obj, "metadata"), "namespace", json_string(k->ns));
			it->ns = sw_obj_namespace(it->obj);
		}
	}
	/* stable sort by kind order (insertion sort: n is small) */
	for (size_t i = 1; i < n && ret == 0; i++) {
		struct item tmp = items[i];
		size_t j = i;
		while (j > 0 && kind_order(&items[j - 1]) > kind_order(&tmp)) {
			items[j] = items[j - 1];
			j--;
		}
		items[j] = tmp;
	}

	if (ret == 0 && dry == KUBE_DRY_CLIENT) {
		for (size_t i = 0; i < n; i++)
			items[i].act = ACT_CREATE;
		print_results(items, n, dry, output);
		goto out;
	}

	/* 1. plan */
	for (size_t i = 0; i < n && ret == 0; i++) {
		struct item *it = &items[i];
		json_t *live = NULL;
		sw_error *e = NULL;
		int r = kube_get(k, it->kind, it->ns, it->name, &live, &e);
		if (r == SW_ENOTFOUND) {
			sw_error_free(e);
			it->act = ACT_CREATE;
			set_last_applied(it->obj);
			continue;
		}
		if (r < 0) {
			*err = e;
			ret = r;
			break;
		}
		it->live = live;
		set_last_applied(it->obj);
		json_t *merged = merge_update(it->obj, live, mode == KUBE_APPLY_RELEASE);
		json_decref(it->obj);
		it->obj = merged;
		/* name and ns pointed into the old tree */
		it->name = sw_obj_name(it->obj);
		it->ns = it->kind->namespaced ? sw_obj_namespace(it->obj) : NULL;
		it->act = subset(it->obj, live) ? ACT_UNCHANGED : ACT_UPDATE;
		if (it->act == ACT_UNCHANGED)
			it->result = json_incref(live);
	}

	/* 2. validate on the server */
	for (size_t i = 0; i < n && ret == 0; i++) {
		struct item *it = &items[i];
		bool ns_new = false;
		if (it->act == ACT_UNCHANGED)
			continue;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(items[j].kind->kind, "Namespace") && items[j].act == ACT_CREATE && it->ns &&
			    !strcmp(items[j].name, it->ns))
				ns_new = true;
		if (ns_new) {
			if (dry == KUBE_DRY_SERVER)
				it->result = json_incref(it->obj);
			continue;
		}
		json_t *res = NULL;
		if ((ret = send_item(k, it, true, &res, err)) < 0) {
			sw_error_wrap(err, "%s \"%s\"", it->kind->kind, it->name);
			break;
		}
		if (dry == KUBE_DRY_SERVER)
			it->result = res;
		else
			json_decref(res);
	}
	if (ret == 0 && dry == KUBE_DRY_SERVER) {
		print_results(items, n, dry, output);
		goto out;
	}

	/* 3. write */
	for (size_t i = 0; i < n && ret == 0; i++) {
		struct item *it = &items[i];
		if (it->act == ACT_UNCHANGED)
			continue;
		if ((ret = send_item(k, it, false, &it->result, err)) < 0) {
			sw_error_wrap(err, "%s \"%s\"", it->kind->kind, it->name);
			rollback(k, items, i);
			sw_error_wrap(err, "nothing applied (the writes before it were undone)");
			break;
		}
		it->done = true;
	}
	if (ret == 0)
		print_results(items, n, dry, output);
out:
	for (size_t i = 0; i < n; i++) {
		json_decref(items[i].obj);
		json_decref(items[i].live);
		json_decref(items[i].result);
	}
	free(items);
	return ret;
}
