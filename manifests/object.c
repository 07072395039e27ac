/*
 * object.c - accessors for Kubernetes-shaped objects in jansson trees.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slipway/object.h"

/* Walks "a.b.c"; each step must be an object. */
json_t *sw_obj_path(const json_t *obj, const char *path)
{
	json_t *cur = (json_t *)obj;
	const char *p = path;
	char key[256];
	while (cur && *p) {
		size_t n = strcspn(p, ".");
		if (n >= sizeof(key) || !json_is_object(cur))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		cur = json_object_get(cur, key);
		p += n;
		if (*p == '.')
			p++;
	}
	return cur;
}

const char *sw_obj_str(const json_t *obj, const char *path)
{
	return json_string_value(sw_obj_path(obj, path));
}

int64_t sw_obj_int(const json_t *obj, const char *path, int64_t def)
{
	json_t *v = sw_obj_path(obj, path);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

bool sw_obj_bool(const json_t *obj, const char *path, bool def)
{
	json_t *v = sw_obj_path(obj, path);
	return json_is_boolean(v) ? json_is_true(v) : def;
}

json_t *sw_obj_mkpath(json_t *obj, const char *path)
{
	json_t *cur = obj;
	const char *p = path;
	char key[256];
	while (*p) {
		size_t n = strcspn(p, ".");
		if (n >= sizeof(key) || !json_is_object(cur))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		json_t *next = json_object_get(cur, key);
		if (!json_is_object(next)) {
			next = json_object();
			json_object_set_new(cur, key, next);
		}
		cur = next;
		p += n;
		if (*p == '.')
			p++;
	}
	return cur;
}

const char *sw_obj_name(const json_t *obj)
{
	return sw_obj_str(obj, "metadata.name");
}

const char *sw_obj_namespace(const json_t *obj)
{
	return sw_obj_str(obj, "metadata.namespace");
}

const char *sw_obj_uid(const json_t *obj)
{
	return sw_obj_str(obj, "metadata.uid");
}

json_t *sw_obj_labels(const json_t *obj)
{
	return sw_obj_path(obj, "metadata.labels");
}

const char *sw_obj_annotation(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(sw_obj_path(obj, "metadata.annotations"), key));
}

void sw_obj_set_annotation(json_t *obj, const char *key, const char *value)
{
	json_t *a = sw_obj_mkpath(obj, "metadata.annotations");
	if (!a)
		return;
	if (value)
		json_object_set_new(a, key, json_string(value));
	else
		json_object_del(a, key);
}

bool sw_obj_deleting(const json_t *obj)
{
	return sw_obj_str(obj, "metadata.deletionTimestamp") != NULL;
}

const json_t *sw_obj_controller_ref(const json_t *obj)
{
	json_t *refs = sw_obj_path(obj, "metadata.ownerReferences");
	size_t i;
	json_t *r;
	json_array_foreach(refs, i, r) {
		if (json_is_true(json_object_get(r, "controller")))
			return r;
	}
	return NULL;
}

json_t *sw_obj_owner_ref(const json_t *owner)
{
	return json_pack("{s:s?, s:s?, s:s?, s:s?, s:b, s:b}",
	                 "apiVersion", json_string_value(json_object_get(owner, "apiVersion")),
	                 "kind", json_string_value(json_object_get(owner, "kind")),
	                 "name", sw_obj_name(owner), "uid", sw_obj_uid(owner),
	                 "controller", 1, "blockOwnerDeletion", 1);
}

bool sw_obj_owned_by(const json_t *obj, const json_t *owner)
{
	const json_t *ref = sw_obj_controller_ref(obj);
	const char *uid = sw_obj_uid(owner);
	const char *ref_uid = json_string_value(json_object_get(ref, "uid"));
	return uid && ref_uid && strcmp(uid, ref_uid) == 0;
}

void sw_time_format(time_t t, char buf[static 32])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

time_t sw_time_parse(const char *s)
{
	if (!s)
		return -1;
	struct tm tm = { 0 };
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return -1;
	if (*end == '.') {
		end++;
		while (*end >= '0' && *end <= '9')
			end++;
	}
	if (strcmp(end, "Z") != 0 && strcmp(end, "+00:00") != 0)
		return -1;
	return timegm(&tm);
}
