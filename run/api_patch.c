/*
 * api_patch.c - the three PATCH body types the Kubernetes API takes:
 * JSON merge patch (RFC 7386), strategic merge patch (merge patch with
 * lists of named things merged by key, the form kubectl sends), and JSON
 * patch (RFC 6902). Each returns a new document; the target is never
 * changed, so a failed patch leaves nothing half-applied.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_int.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"

int api_patch_type_of(const char *content_type)
{
	if (!content_type)
		return -1;
	size_t len = strcspn(content_type, "; ");
	if (len == strlen("application/merge-patch+json") &&
	    strncasecmp(content_type, "application/merge-patch+json", len) == 0)
		return PATCH_MERGE;
	if (len == strlen("application/strategic-merge-patch+json") &&
	    strncasecmp(content_type, "application/strategic-merge-patch+json", len) == 0)
		return PATCH_STRATEGIC;
	if (len == strlen("application/json-patch+json") &&
	    strncasecmp(content_type, "application/json-patch+json", len) == 0)
		return PATCH_JSON;
	if (len == strlen("application/apply-patch+yaml") &&
	    strncasecmp(content_type, "application/apply-patch+yaml", len) == 0)
		return PATCH_APPLY;
	return -1;
}

/* ---- RFC 7386 ------------------------------------------------------------ */

json_t *api_merge_patch(const json_t *target, const json_t *patch)
{
	if (!json_is_object(patch))
		return json_deep_copy(patch);
	json_t *out = json_is_object(target) ? json_deep_copy(target) : json_object();
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)patch, key, v) {
		if (json_is_null(v)) {
			json_object_del(out, key);
			continue;
		}
		json_object_set_new(out, key, api_merge_patch(json_object_get(out, key), v));
	}
	return out;
}

/* ---- strategic merge patch ----------------------------------------------- */

/* The merge key of a list field, as Kubernetes' struct tags declare them,
 * or NULL for a list that is replaced. elem is a patch element. */
static const char *merge_key(const char *field, const json_t *elem)
{
	static const struct {
		const char *field, *key;
	} keys[] = {
		{ "containers", "name" },     { "initContainers", "name" },
		{ "ephemeralContainers", "name" }, { "env", "name" },
		{ "volumes", "name" },        { "imagePullSecrets", "name" },
		{ "volumeMounts", "mountPath" }, { "volumeDevices", "devicePath" },
		{ "conditions", "type" },     { "ownerReferences", "uid" },
		{ "hostAliases", "ip" },      { "readinessGates", "conditionType" },
	};
	if (strcmp(field, "ports") == 0)
		return json_object_get(elem, "containerPort") ? "containerPort" : "port";
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].field, field) == 0)
			return keys[i].key;
	return NULL;
}

static bool is_directive(const char *key)
{
	return key[0] == '$';
}

static const char *patch_directive(const json_t *obj)
{
	return json_string_value(json_object_get(obj, "$patch"));
}

/* A copy of v without directive keys (at any depth). */
static json_t *strip(const json_t *v)
{
	if (json_is_object(v)) {
		json_t *o = json_object();
		const char *key;
		json_t *x;
		json_object_foreach((json_t *)v, key, x)
			if (!is_directive(key))
				json_object_set_new(o, key, strip(x));
		return o;
	}
	if (json_is_array(v)) {
		json_t *a = json_array();
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
			if (!(json_is_object(x) && patch_directive(x)))
				json_array_append_new(a, strip(x));
		return a;
	}
	return json_deep_copy(v);
}

static json_t *smp_value(const json_t *target, const json_t *patch, const char *field,
                         sw_error **err);

static json_t *smp_list(const json_t *target, const json_t *patch, const char *field,
                        sw_error **err)
{
	size_t i;
	json_t *e;
	/* a {"$patch": "replace"} element replaces the list with the others */
	json_array_foreach(patch, i, e) {
		const char *d = json_is_object(e) ? patch_directive(e) : NULL;
		if (d && strcmp(d, "replace") == 0)
			return strip(patch);
	}
	const char *key = json_array_size(patch) ? merge_key(field, json_array_get(patch, 0)) : NULL;
	if (!key || !json_is_array(target))
		return strip(patch);
	json_t *out = json_deep_copy(target);
	json_array_foreach(patch, i, e) {
		json_t *kv = json_is_object(e) ? json_object_get(e, key) : NULL;
		if (!kv) {
			json_decref(out);
			sw_error_set(err, SW_EINVALID, "%s[%zu]: the merge key %s is missing", field, i, key);
			return NULL;
		}
		size_t j, found = (size_t)-1;
		json_t *t;
		json_array_foreach(out, j, t)
			if (json_equal(json_object_get(t, key), kv)) {
				found = j;
				break;
			}
		const char *d = patch_directive(e);
		if (d && strcmp(d, "delete") == 0) {
			if (found != (size_t)-1)
				json_array_remove(out, found);
			continue;
		}
		json_t *merged = smp_value(found != (size_t)-1 ? json_array_get(out, found) : NULL, e,
		                           field, err);
		if (!merged) {
			json_decref(out);
			return NULL;
		}
		if (found != (size_t)-1)
			json_array_set_new(out, found, merged);
		else
			json_array_append_new(out, merged);
	}
	return out;
}

static json_t *smp_value(const json_t *target, const json_t *patch, const char *field,
                         sw_error **err)
{
	if (json_is_array(patch))
		return smp_list(target, patch, field, err);
	if (!json_is_object(patch))
		return json_deep_copy(patch);
	const char *d = patch_directive(patch);
	if (d && strcmp(d, "replace") == 0)
		return strip(patch);
	json_t *out = json_is_object(target) ? json_deep_copy(target) : json_object();
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)patch, key, v) {
		if (is_directive(key)) {
			static const char del_prim[] = "$deleteFromPrimitiveList/";
			if (strncmp(key, del_prim, strlen(del_prim)) == 0 && json_is_array(v)) {
				const char *f = key + strlen(del_prim);
				json_t *list = json_object_get(out, f);
				size_t i;
				json_t *x;
				json_array_foreach(v, i, x)
					for (size_t j = json_array_size(list); j-- > 0;)
						if (json_equal(json_array_get(list, j), x))
							json_array_remove(list, j);
			}
			continue;
		}
		if (json_is_null(v)) {
			json_object_del(out, key);
			continue;
		}
		const char *vd = json_is_object(v) ? patch_directive(v) : NULL;
		if (vd && strcmp(vd, "delete") == 0) {
			json_object_del(out, key);
			continue;
		}
		json_t *m = smp_value(json_object_get(out, key), v, key, err);
		if (!m) {
			json_decref(out);
			return NULL;
		}
		json_object_set_new(out, key, m);
	}
	return out;
}

int api_strategic_merge_patch(json_t **out, const json_t *target, const json_t *patch,
                              sw_error **err)
{
	if (!json_is_object(patch))
		return sw_error_set(err, SW_EINVALID, "a strategic merge patch must be a JSON object");
	json_t *r = smp_value(target, patch, "", err);
	if (!r)
		return SW_EINVALID;
	*out = r;
	return 0;
}

/* ---- RFC 6902 ------------------------------------------------------------ */

/* Decodes the next reference token of a JSON pointer (~1 is '/', ~0 '~'). */
static char *ptr_token(const char **p)
{
	const char *s = *p + 1; /* past '/' */
	size_t len = strcspn(s, "/");
	char *tok = sw_xmalloc(len + 1);
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '~' && i + 1 < len && (s[i + 1] == '0' || s[i + 1] == '1')) {
			tok[o++] = s[i + 1] == '0' ? '~' : '/';
			i++;
		} else {
			tok[o++] = s[i];
		}
	}
	tok[o] = '\0';
	*p = s + len;
	return tok;
}

/* An array index: digits without a leading zero; "-" gives size when
 * dash_ok. */
static bool array_index(const json_t *a, const char *tok, bool dash_ok, size_t *out)
{
	if (dash_ok && strcmp(tok, "-") == 0) {
		*out = json_array_size(a);
		return true;
	}
	if (!*tok || (tok[0] == '0' && tok[1]) || strspn(tok, "0123456789") != strlen(tok))
		return false;
	errno = 0;
	unsigned long long v = strtoull(tok, NULL, 10);
	if (errno)
		return false;
	*out = (size_t)v;
	return true;
}

/* Finds the container of the value ptr names: *parent (borrowed) and the
 * last token (caller frees). ptr must not be "". */
static int ptr_parent(json_t *doc, const char *ptr, json_t **parent, char **last, sw_error **err)
{
	if (ptr[0] != '/')
		return sw_error_set(err, SW_EINVALID, "json patch: bad path \"%s\"", ptr);
	json_t *cur = doc;
	const char *p = ptr;
	for (;;) {
		char *tok = ptr_token(&p);
		if (!*p) {
			*parent = cur;
			*last = tok;
			return 0;
		}
		json_t *next = NULL;
		size_t idx;
		if (json_is_object(cur))
			next = json_object_get(cur, tok);
		else if (json_is_array(cur) && array_index(cur, tok, false, &idx))
			next = json_array_get(cur, idx);
		free(tok);
		if (!next)
			return sw_error_set(err, SW_EINVALID, "json patch: path \"%s\" does not exist", ptr);
		cur = next;
	}
}

static json_t *ptr_get(json_t *doc, const char *ptr)
{
	if (!*ptr)
		return doc;
	json_t *parent;
	cleanup_free char *last = NULL;
	sw_error *e = NULL;
	if (ptr_parent(doc, ptr, &parent, &last, &e) < 0) {
		sw_error_free(e);
		return NULL;
	}
	size_t idx;
	if (json_is_object(parent))
		return json_object_get(parent, last);
	if (json_is_array(parent) && array_index(parent, last, false, &idx))
		return json_array_get(parent, idx);
	return NULL;
}

/* add: value is stolen. */
static int op_add(json_t **doc, const char *path, json_t *value, sw_error **err)
{
	if (!*path) {
		json_decref(*doc);
		*doc = value;
		return 0;
	}
	json_t *parent;
	cleanup_free char *last = NULL;
	if (ptr_parent(*doc, path, &parent, &last, err) < 0) {
		json_decref(value);
		return SW_EINVALID;
	}
	size_t idx;
	if (json_is_object(parent)) {
		json_object_set_new(parent, last, value);
		return 0;
	}
	if (json_is_array(parent) && array_index(parent, last, true, &idx) &&
	    idx <= json_array_size(parent)) {
		json_array_insert_new(parent, idx, value);
		return 0;
	}
	json_decref(value);
	return sw_error_set(err, SW_EINVALID, "json patch: cannot add at \"%s\"", path);
}

static int op_remove(json_t *doc, const char *path, sw_error **err)
{
	json_t *parent;
	cleanup_free char *last = NULL;
	if (!*path)
		return sw_error_set(err, SW_EINVALID, "json patch: cannot remove the whole document");
	if (ptr_parent(doc, path, &parent, &last, err) < 0)
		return SW_EINVALID;
	size_t idx;
	if (json_is_object(parent) && json_object_get(parent, last)) {
		json_object_del(parent, last);
		return 0;
	}
	if (json_is_array(parent) && array_index(parent, last, false, &idx) &&
	    idx < json_array_size(parent)) {
		json_array_remove(parent, idx);
		return 0;
	}
	return sw_error_set(err, SW_EINVALID, "json patch: path \"%s\" does not exist", path);
}

int api_json_patch(json_t **out, const json_t *target, const json_t *patch, sw_error **err)
{
	if (!json_is_array(patch))
		return sw_error_set(err, SW_EINVALID, "a json patch must be a JSON array");
	cleanup_json json_t *doc = json_deep_copy(target);
	size_t i;
	json_t *op;
	json_array_foreach(patch, i, op) {
		const char *name = json_string_value(json_object_get(op, "op"));
		const char *path = json_string_value(json_object_get(op, "path"));
		const char *from = json_string_value(json_object_get(op, "from"));
		json_t *value = json_object_get(op, "value");
		if (!name || !path)
			return sw_error_set(err, SW_EINVALID, "json patch: operation %zu needs op and path", i);
		int rc = 0;
		if (strcmp(name, "add") == 0 || strcmp(name, "replace") == 0) {
			if (!value)
				return sw_error_set(err, SW_EINVALID, "json patch: operation %zu needs a value", i);
			if (strcmp(name, "replace") == 0 && *path) {
				if (!ptr_get(doc, path))
					return sw_error_set(err, SW_EINVALID,
					                    "json patch: path \"%s\" does not exist", path);
				rc = op_remove(doc, path, err);
			}
			if (rc == 0)
				rc = op_add(&doc, path, json_deep_copy(value), err);
		} else if (strcmp(name, "remove") == 0) {
			rc = op_remove(doc, path, err);
		} else if (strcmp(name, "move") == 0 || strcmp(name, "copy") == 0) {
			json_t *v = from ? ptr_get(doc, from) : NULL;
			if (!v)
				return sw_error_set(err, SW_EINVALID, "json patch: from \"%s\" does not exist",
				                    from ? from : "");
			json_t *copy = json_deep_copy(v);
			if (strcmp(name, "move") == 0)
				rc = op_remove(doc, from, err);
			if (rc == 0)
				rc = op_add(&doc, path, copy, err);
			else
				json_decref(copy);
		} else if (strcmp(name, "test") == 0) {
			json_t *v = ptr_get(doc, path);
			if (!v || !value || !json_equal(v, value))
				return sw_error_set(err, SW_EINVALID, "json patch: test of \"%s\" failed", path);
		} else {
			return sw_error_set(err, SW_EINVALID, "json patch: unknown operation \"%s\"", name);
		}
		if (rc < 0)
			return rc;
	}
	*out = steal_pointer(&doc);
	return 0;
}

int api_patch_apply(json_t **out, api_patch_type type, const json_t *target, const json_t *patch,
                    sw_error **err)
{
	switch (type) {
	case PATCH_MERGE:
		if (!json_is_object(patch))
			return sw_error_set(err, SW_EINVALID, "a merge patch must be a JSON object");
		*out = api_merge_patch(target, patch);
		return 0;
	case PATCH_STRATEGIC:
	case PATCH_APPLY:
		return api_strategic_merge_patch(out, target, patch, err);
	case PATCH_JSON:
		return api_json_patch(out, target, patch, err);
	}
	return sw_error_set(err, SW_EINVALID, "unknown patch type");
}
