/*
 * object.h - small accessors for Kubernetes-shaped objects held as jansson
 * trees, so controllers and the agent read `metadata.labels.app` without a
 * page of json_object_get calls. Getters return borrowed values or NULL;
 * they never fail on a missing or mistyped field.
 */
#ifndef SLIPWAY_OBJECT_H
#define SLIPWAY_OBJECT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* A value by dotted path: sw_obj_path(o, "spec.template.metadata.labels"). */
json_t *sw_obj_path(const json_t *obj, const char *path);
/* The string at path, or NULL. */
const char *sw_obj_str(const json_t *obj, const char *path);
/* The integer at path, or def when missing or not an integer. */
int64_t sw_obj_int(const json_t *obj, const char *path, int64_t def);
bool sw_obj_bool(const json_t *obj, const char *path, bool def);
/* The object at path, created (with its parents) when missing. */
json_t *sw_obj_mkpath(json_t *obj, const char *path);

const char *sw_obj_name(const json_t *obj);
const char *sw_obj_namespace(const json_t *obj);
const char *sw_obj_uid(const json_t *obj);
json_t *sw_obj_labels(const json_t *obj);
const char *sw_obj_annotation(const json_t *obj, const char *key);
void sw_obj_set_annotation(json_t *obj, const char *key, const char *value);
bool sw_obj_deleting(const json_t *obj);   /* metadata.deletionTimestamp set */

/* The ownerReference with controller: true, or NULL. */
const json_t *sw_obj_controller_ref(const json_t *obj);
/* A new ownerReference to owner (controller, blockOwnerDeletion true). */
json_t *sw_obj_owner_ref(const json_t *owner);
/* True when obj's controller ownerReference has owner's uid. */
bool sw_obj_owned_by(const json_t *obj, const json_t *owner);

/* RFC 3339 in UTC with second precision, "2026-11-28T00:11:06Z" (what
 * Kubernetes puts in timestamps); buf holds at least 21 bytes. */
void sw_time_format(time_t t, char buf[static 32]);
/* Parses that form (and a fractional or +00:00 variant); -1 if bad. */
time_t sw_time_parse(const char *s);

#endif
