/*
 * validate.c - the walker that checks any object against a field table
 * (validate_int.h), ObjectMeta and label selectors, and the entry point per
 * object: which kind, which name rules, which spec schema.
 *
 * Order per object: null values dropped (Kubernetes reads them as absent),
 * unknown fields reported, defaults filled, each field type-checked and
 * walked in document order, then the schema's cross-field check.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slipway/cleanup.h"
#include "slipway/kinds.h"
#include "slipway/mem.h"
#include "slipway/object.h"
#include "slipway/selector.h"
#include "validate_int.h"

void sw_verr_at(sw_vctx *c, const char *key, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	size_t old = key ? sw_fpath_push_key(&c->path, key) : c->path.len;
	sw_verr(c, "%s", msg);
	sw_fpath_pop(&c->path, old);
}

void sw_vwarn_at(sw_vctx *c, const char *key, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	size_t old = key ? sw_fpath_push_key(&c->path, key) : c->path.len;
	sw_vwarn(c, "%s", msg);
	sw_fpath_pop(&c->path, old);
}

const char *sw_check_port_name(const char *s)
{
	size_t n = strlen(s);
	bool letter = false;
	if (n == 0 || n > 15)
		return "must be no more than 15 characters";
	for (size_t i = 0; i < n; i++) {
		if (s[i] >= 'a' && s[i] <= 'z')
			letter = true;
		else if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '-')
			return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
		if (s[i] == '-' && i > 0 && s[i - 1] == '-')
			return "must not contain consecutive hyphens";
	}
	if (s[0] == '-' || s[n - 1] == '-')
		return "must not begin or end with a hyphen";
	if (!letter)
		return "must contain at least one letter (a-z)";
	return NULL;
}

const char *sw_check_env_name(const char *s)
{
	if (!*s)
		return "must not be empty";
	if (s[0] >= '0' && s[0] <= '9')
		goto bad;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '-' || *p == '.'))
			goto bad;
	return NULL;
bad:
	return "a valid environment variable name must consist of alphabetic characters, digits, '_', "
	       "'-', or '.', and must not start with a digit";
}

/* ---- the walker --------------------------------------------------------- */

static const sw_field *find_field(const sw_schema *s, const char *name)
{
	for (const sw_field *f = s->fields; f->name; f++)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "a list";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

static bool is_set(const json_t *v)
{
	if (json_is_object(v))
		return json_object_size(v) > 0;
	if (json_is_array(v))
		return json_array_size(v) > 0;
	if (json_is_string(v))
		return json_string_length(v) > 0;
	if (json_is_integer(v))
		return json_integer_value(v) != 0;
	return json_is_true(v) || json_is_real(v);
}

static void check_quantity(sw_vctx *c, json_t *parent, const char *key, json_t *v)
{
	sw_quantity q;
	cleanup_error sw_error *e = NULL;

	if (!json_is_string(v) && !json_is_number(v)) {
		sw_verr(c, "must be a quantity (a string like 500m or 128Mi), not %s", type_name(v));
		return;
	}
	if (sw_quantity_from_json(&q, v, &e) < 0) {
		sw_verr(c, "%s", e->msg);
		return;
	}
	if (q.nanos < 0) {
		sw_verr(c, "must be greater than or equal to 0");
		return;
	}
	/* Kubernetes stores and prints quantities canonically */
	char *canon = sw_quantity_format_str(&q);
	if (parent && key)
		json_object_set_new(parent, key, json_string(canon));
	free(canon);
}

static void check_value(sw_vctx *c, const sw_field *f, json_t *parent, const char *key, json_t *v);

static void check_array(sw_vctx *c, const sw_field *f, json_t *v)
{
	size_t i;
	json_t *e;

	json_array_foreach(v, i, e) {
		size_t old = sw_fpath_push_index(&c->path, i);
		if (f->type == T_ARR_STR) {
			if (!json_is_string(e))
				sw_verr(c, "must be a string, not %s", type_name(e));
		} else if (!json_is_object(e)) {
			sw_verr(c, "must be an object, not %s", type_name(e));
		} else {
			sw_walk(c, e, f->sub);
		}
		sw_fpath_pop(&c->path, old);
	}
}

static void check_value(sw_vctx *c, const sw_field *f, json_t *parent, const char *key, json_t *v)
{
	const char *k;
	json_t *e;

	switch (f->type) {
	case T_ANY:
		return;
	case T_STR:
		if (!json_is_string(v)) {
			sw_verr(c, "must be a string, not %s%s", type_name(v),
			        json_is_boolean(v) || json_is_number(v) ? " (quote it)" : "");
			return;
		}
		if (f->flags & F_REQ && json_string_length(v) == 0) {
			if (!(c->from_app && !strcmp(f->name, "image")))
				sw_verr(c, "required value");
			return;
		}
		if (f->values) {
			const char *s = json_string_value(v);
			for (const char *const *a = f->values; *a; a++)
				if (!strcmp(*a, s))
					return;
			char list[256] = "";
			for (const char *const *a = f->values; *a; a++) {
				size_t n = strlen(list);
				snprintf(list + n, sizeof(list) - n, "%s\"%s\"", a == f->values ? "" : ", ", *a);
			}
			sw_verr(c, "unsupported value \"%s\": supported values: %s", s, list);
		}
		return;
	case T_INT: {
		if (!json_is_integer(v)) {
			sw_verr(c, "must be an integer, not %s", type_name(v));
			return;
		}
		json_int_t n = json_integer_value(v);
		if (!(f->flags & F_I64) && (n > INT32_MAX || n < INT32_MIN)) {
			sw_verr(c, "must fit in 32 bits");
			return;
		}
		if (f->flags & F_NONNEG && n < 0)
			sw_verr(c, "must be greater than or equal to 0");
		else if (f->flags & F_POS && n < 1)
			sw_verr(c, "must be greater than or equal to 1");
		return;
	}
	case T_BOOL:
		if (!json_is_boolean(v))
			sw_verr(c, "must be true or false, not %s", type_name(v));
		return;
	case T_OBJ:
		if (!json_is_object(v)) {
			sw_verr(c, "must be an object, not %s", type_name(v));
			return;
		}
		if (f->sub)
			sw_walk(c, v, f->sub);
		return;
	case T_ARR_OBJ:
	case T_ARR_STR:
		if (!json_is_array(v)) {
			sw_verr(c, "must be a list, not %s", type_name(v));
			return;
		}
		check_array(c, f, v);
		return;
	case T_MAP_STR:
		if (!json_is_object(v)) {
			sw_verr(c, "must be an object of strings, not %s", type_name(v));
			return;
		}
		json_object_foreach(v, k, e) {
			if (!json_is_string(e)) {
				size_t old = sw_fpath_push_key(&c->path, k);
				sw_verr(c, "must be a string, not %s (quote it)", type_name(e));
				sw_fpath_pop(&c->path, old);
			}
		}
		return;
	case T_INTSTR:
		if (!json_is_integer(v) && !json_is_string(v))
			sw_verr(c, "must be an integer or a string, not %s", type_name(v));
		return;
	case T_PORT:
		if (json_is_integer(v)) {
			json_int_t n = json_integer_value(v);
			if (n < 1 || n > 65535)
				sw_verr(c, "must be between 1 and 65535, inclusive");
		} else if (json_is_string(v)) {
			const char *why = sw_check_port_name(json_string_value(v));
			if (why)
				sw_verr(c, "invalid port name \"%s\": %s", json_string_value(v), why);
		} else {
			sw_verr(c, "must be a port number or name, not %s", type_name(v));
		}
		return;
	case T_QTY:
		check_quantity(c, parent, key, v);
		return;
	case T_QTY_MAP: {
		if (!json_is_object(v)) {
			sw_verr(c, "must be an object of quantities, not %s", type_name(v));
			return;
		}
		void *it = json_object_iter(v);
		while (it) {
			const char *name = json_object_iter_key(it);
			json_t *q = json_object_iter_value(it);
			size_t old = sw_fpath_push_key(&c->path, name);
			if (strcmp(name, "cpu") && strcmp(name, "memory") && strcmp(name, "ephemeral-storage") &&
			    strncmp(name, "hugepages-", 10))
				sw_vwarn(c, "resource \"%s\" is not supported by slipway and is ignored", name);
			check_quantity(c, v, name, q);
			sw_fpath_pop(&c->path, old);
			it = json_object_iter_next(v, it);
		}
		return;
	}
	}
}

void sw_walk(sw_vctx *c, json_t *obj, const sw_schema *s)
{
	const char *key;
	json_t *v;
	void *tmp;

	/* Kubernetes reads `field: null` as a field that is not there */
	json_object_foreach_safe(obj, tmp, key, v)
		if (json_is_null(v))
			json_object_del(obj, key);

	for (const sw_field *f = s->fields; f->name; f++) {
		if (!json_object_get(obj, f->name) && f->def) {
			json_t *d = json_loads(f->def, JSON_DECODE_ANY, NULL);
			json_object_set_new(obj, f->name, d);
		}
	}

	json_object_foreach(obj, key, v) {
		const sw_field *f = find_field(s, key);
		size_t old = sw_fpath_push_key(&c->path, key);
		if (!f) {
			sw_vunknown(c);
		} else if (f->flags & F_SERVER) {
			/* accepted as it is */
		} else if (f->flags & F_UNSUP) {
			sw_vwarn(c, "not supported by slipway; ignored");
		} else if (f->flags & F_UNSUP_SET) {
			if (is_set(v))
				sw_vwarn(c, "not supported by slipway; ignored");
		} else {
			check_value(c, f, obj, key, v);
		}
		sw_fpath_pop(&c->path, old);
	}
	/* after the fields, so problems come in document order, outside in */
	for (const sw_field *f = s->fields; f->name; f++)
		if (f->flags & F_REQ && !json_object_get(obj, f->name) &&
		    !(c->from_app && !strcmp(f->name, "image")))
			sw_verr_at(c, f->name, "required value");
	if (s->check)
		s->check(c, obj);
}

/* ---- ObjectMeta ---------------------------------------------------------- */

static void check_string_map_keys(sw_vctx *c, json_t *map, bool values_are_labels)
{
	const char *k;
	json_t *v;

	json_object_foreach(map, k, v) {
		size_t old = sw_fpath_push_key(&c->path, k);
		const char *why = sw_check_label_key(k);
		if (why)
			sw_verr(c, "invalid key \"%s\": %s", k, why);
		else if (values_are_labels && json_is_string(v) && (why = sw_check_label_value(json_string_value(v))))
			sw_verr(c, "invalid value \"%s\": %s", json_string_value(v), why);
		sw_fpath_pop(&c->path, old);
	}
}

static void meta_check(sw_vctx *c, json_t *meta)
{
	json_t *v;

	if ((v = json_object_get(meta, "labels")) && json_is_object(v)) {
		size_t old = sw_fpath_push_key(&c->path, "labels");
		check_string_map_keys(c, v, true);
		sw_fpath_pop(&c->path, old);
	}
	if ((v = json_object_get(meta, "annotations")) && json_is_object(v)) {
		size_t old = sw_fpath_push_key(&c->path, "annotations");
		check_string_map_keys(c, v, false);
		size_t total = 0;
		const char *k;
		json_t *e;
		json_object_foreach(v, k, e)
			total += strlen(k) + json_string_length(e);
		if (total > 256 * 1024)
			sw_verr(c, "may not be more than 262144 bytes in total");
		sw_fpath_pop(&c->path, old);
	}
	if ((v = json_object_get(meta, "namespace")) && json_is_string(v)) {
		const char *why = sw_check_dns1123_label(json_string_value(v));
		if (why)
			sw_verr_at(c, "namespace", "invalid namespace \"%s\": %s", json_string_value(v), why);
	}
}

static const sw_field meta_fields[] = {
	{ "name", T_STR, 0, NULL, NULL, NULL },
	{ "generateName", T_STR, 0, NULL, NULL, NULL },
	{ "namespace", T_STR, 0, NULL, NULL, NULL },
	{ "labels", T_MAP_STR, 0, NULL, NULL, NULL },
	{ "annotations", T_MAP_STR, 0, NULL, NULL, NULL },
	{ "finalizers", T_ARR_STR, 0, NULL, NULL, NULL },
	{ "ownerReferences", T_ANY, F_SERVER, NULL, NULL, NULL },
	{ "uid", T_ANY, F_SERVER, NULL, NULL, NULL },
	{ "resourceVersion", T_ANY, F_SERVER, NULL, NULL, NULL },
	{ "generation", T_ANY, F_SERVER, NULL, NULL, NULL },
	{ "creationTimestamp", T_ANY, F_SERVER, NULL, NULL, NULL },
	{ "deletionTimestamp", T_ANY, F_SERVER, NULL, NULL, NULL },
	{ "deletionGracePeriodSeconds", T_ANY, F_SERVER, NULL, NULL, NULL },
	{ "managedFields", T_ANY, F_SERVER, NULL, NULL, NULL },
	{ "selfLink", T_ANY, F_SERVER, NULL, NULL, NULL },
	{ NULL, T_ANY, 0, NULL, NULL, NULL },
};
const sw_schema sw_schema_object_meta = { "ObjectMeta", meta_fields, meta_check };

/* ---- label selectors ------------------------------------------------------ */

static const char *const selector_ops[] = { "In", "NotIn", "Exists", "DoesNotExist", NULL };

static void requirement_check(sw_vctx *c, json_t *req)
{
	const char *op = json_string_value(json_object_get(req, "operator"));
	const char *key = json_string_value(json_object_get(req, "key"));
	json_t *values = json_object_get(req, "values");
	size_t n = json_is_array(values) ? json_array_size(values) : 0;

	if (key) {
		const char *why = sw_check_label_key(key);
		if (why)
			sw_verr_at(c, "key", "invalid label key \"%s\": %s", key, why);
	}
	if (!op)
		return;
	if ((!strcmp(op, "In") || !strcmp(op, "NotIn")) && n == 0)
		sw_verr_at(c, "values", "must be specified when `operator` is 'In' or 'NotIn'");
	if ((!strcmp(op, "Exists") || !strcmp(op, "DoesNotExist")) && n > 0)
		sw_verr_at(c, "values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
}

static const sw_field requirement_fields[] = {
	{ "key", T_STR, F_REQ, NULL, NULL, NULL },
	{ "operator", T_STR, F_REQ, NULL, NULL, selector_ops },
	{ "values", T_ARR_STR, 0, NULL, NULL, NULL },
	{ NULL, T_ANY, 0, NULL, NULL, NULL },
};
static const sw_schema requirement_schema = { "LabelSelectorRequirement", requirement_fields, requirement_check };

static void selector_check(sw_vctx *c, json_t *sel)
{
	json_t *ml = json_object_get(sel, "matchLabels");
	if (json_is_object(ml)) {
		size_t old = sw_fpath_push_key(&c->path, "matchLabels");
		check_string_map_keys(c, ml, true);
		sw_fpath_pop(&c->path, old);
	}
}

static const sw_field selector_fields[] = {
	{ "matchLabels", T_MAP_STR, 0, NULL, NULL, NULL },
	{ "matchExpressions", T_ARR_OBJ, 0, &requirement_schema, NULL, NULL },
	{ NULL, T_ANY, 0, NULL, NULL, NULL },
};
const sw_schema sw_schema_label_selector = { "LabelSelector", selector_fields, selector_check };

void sw_check_selector_matches(sw_vctx *c, json_t *spec)
{
	json_t *sel = json_object_get(spec, "selector");
	json_t *labels = sw_obj_path(spec, "template.metadata.labels");
	sw_selector *s = NULL;
	cleanup_error sw_error *e = NULL;

	if (!json_is_object(sel))
		return;
	if (json_object_size(json_object_get(sel, "matchLabels")) == 0 &&
	    json_array_size(json_object_get(sel, "matchExpressions")) == 0) {
		sw_verr_at(c, "selector", "empty selector is invalid for deployment");
		return;
	}
	if (c->errors)
		return; /* the parts are wrong already; matching says nothing more */
	if (sw_selector_from_json(&s, sel, false, &e) < 0) {
		sw_verr_at(c, "selector", "%s", e->msg);
		return;
	}
	if (!sw_selector_matches(s, labels)) {
		size_t old = sw_fpath_push_key(&c->path, "template");
		sw_fpath_push_key(&c->path, "metadata");
		sw_fpath_push_key(&c->path, "labels");
		cleanup_free char *text = sw_selector_string(s);
		sw_verr(c, "`selector` does not match template `labels` (selector: %s)", text);
		sw_fpath_pop(&c->path, old);
	}
	sw_selector_free(s);
}
