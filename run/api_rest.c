/*
 * api_rest.c - the verbs on collections and objects: list, create, get,
 * update (PUT), patch, delete, and the /status and /scale subresources,
 * with the Kubernetes API's checks (the URL and the body must agree) and
 * answers (201 on create, 409 on a stale resourceVersion, ...).
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/object.h"
#include "slipway/selector.h"

static const char *route_ns(const api_req *r)
{
	return (!r->route.kind || r->route.kind->namespaced) && r->route.ns[0] ? r->route.ns : NULL;
}

static void method_not_allowed(api_req *r)
{
	api_reply_fail(r, 405, "MethodNotAllowed", NULL, NULL,
	               "the server does not allow this method on the requested resource");
}

/* ---- list options (shared with watches) ------------------------------------ */

/* The field labels Kubernetes supports in field selectors, per kind. */
static bool field_supported(const sw_kind *k, const char *field)
{
	static const struct {
		const char *resource, *fields;
	} table[] = {
		{ "", "metadata.name,metadata.namespace" },
		{ "pods", "spec.nodeName,spec.restartPolicy,spec.schedulerName,spec.serviceAccountName,"
		          "spec.hostNetwork,status.phase,status.podIP,status.nominatedNodeName" },
		{ "events", "involvedObject.kind,involvedObject.namespace,involvedObject.name,"
		            "involvedObject.uid,involvedObject.apiVersion,involvedObject.resourceVersion,"
		            "involvedObject.fieldPath,reason,reportingComponent,source,type" },
		{ "secrets", "type" },
		{ "namespaces", "status.phase" },
		{ "replicasets", "status.replicas" },
	};
	size_t len = strlen(field);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (table[i].resource[0] && (!k || strcmp(k->resource, table[i].resource) != 0))
			continue;
		for (const char *p = table[i].fields; *p;) {
			size_t n = strcspn(p, ",");
			if (n == len && strncmp(p, field, n) == 0)
				return true;
			p += n;
			if (*p == ',')
				p++;
		}
	}
	return false;
}

/* A field's value as a field selector compares it: strings as they are,
 * numbers and booleans in their JSON form, missing as "". */
static bool field_equals(const json_t *obj, const char *path, const char *want)
{
	/* an Event's "source" is source.component */
	json_t *v = sw_obj_path(obj, strcmp(path, "source") == 0 ? "source.component" : path);
	char buf[64];
	const char *got = "";
	if (json_is_string(v))
		got = json_string_value(v);
	else if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		got = buf;
	} else if (json_is_boolean(v))
		got = json_is_true(v) ? "true" : "false";
	return strcmp(got, want) == 0;
}

int api_list_filter_parse(api_req *r, api_filter *f)
{
	memset(f, 0, sizeof(*f));
	/* a copy: watches keep the filter after the request's callback */
	if (route_ns(r)) {
		snprintf(f->ns_buf, sizeof(f->ns_buf), "%s", route_ns(r));
		f->ns = f->ns_buf;
	}
	cleanup_error sw_error *err = NULL;
	const char *ls = api_query(r, "labelSelector");
	if (sw_selector_parse(&f->labels, ls, &err) < 0) {
		api_reply_fail(r, 400, "BadRequest", NULL, NULL, "unable to parse requirement: %s",
		               err->msg);
		return -1;
	}
	const char *fs = api_query(r, "fieldSelector");
	while (fs && *fs) {
		size_t len = strcspn(fs, ",");
		char term[512];
		if (len >= sizeof(term)) {
			api_reply_fail(r, 400, "BadRequest", NULL, NULL, "invalid field selector");
			api_filter_release(f);
			return -1;
		}
		memcpy(term, fs, len);
		term[len] = '\0';
		fs += len;
		if (*fs == ',')
			fs++;
		char *eq = strstr(term, "==");
		char *val;
		bool negate = false;
		if ((eq = strstr(term, "!="))) {
			*eq = '\0';
			val = eq + 2;
			negate = true;
		} else if ((eq = strstr(term, "=="))) {
			*eq = '\0';
			val = eq + 2;
		} else if ((eq = strchr(term, '=')) && eq > term) {
			*eq = '\0';
			val = eq + 1;
		} else {
			api_reply_fail(r, 400, "BadRequest", NULL, NULL,
			               "invalid field selector: \"%s\": expected KEY=VALUE, KEY==VALUE or "
			               "KEY!=VALUE",
			               term);
			api_filter_release(f);
			return -1;
		}
		if (strcmp(term, "metadata.name") == 0 && !negate) {
			snprintf(f->name, sizeof(f->name), "%s", val);
			f->has_name = true;
		} else if (strcmp(term, "metadata.namespace") == 0 && !negate) {
			if (!f->ns) {
				snprintf(f->ns_buf, sizeof(f->ns_buf), "%s", val);
				f->ns = f->ns_buf;
			} else if (strcmp(f->ns, val) != 0) {
				f->none = true; /* two namespaces: nothing matches */
			}
		} else if (field_supported(r->route.kind, term) && f->nterms < API_MAX_FIELD_TERMS &&
		           strlen(val) < sizeof(f->terms[0].value)) {
			api_field_term *t = &f->terms[f->nterms++];
			memcpy(t->path, term, strlen(term) + 1); /* a supported label: short */
			memcpy(t->value, val, strlen(val) + 1);  /* length checked above */
			t->negate = negate;
		} else {
			api_reply_fail(r, 400, "BadRequest", NULL, NULL,
			               "field label not supported: %s", term);
			api_filter_release(f);
			return -1;
		}
	}
	return 0;
}

void api_filter_release(api_filter *f)
{
	sw_selector_free(f->labels);
	f->labels = NULL;
}

bool api_filter_match(const api_filter *f, const sw_kind *k, const json_t *obj)
{
	if (f->none)
		return false;
	if (f->ns && k->namespaced) {
		const char *ns = sw_obj_namespace(obj);
		if (!ns || strcmp(ns, f->ns) != 0)
			return false;
	}
	if (f->has_name) {
		const char *n = sw_obj_name(obj);
		if (!n || strcmp(n, f->name) != 0)
			return false;
	}
	if (f->labels && !sw_selector_matches(f->labels, sw_obj_labels(obj)))
		return false;
	for (size_t i = 0; i < f->nterms; i++)
		if (field_equals(obj, f->terms[i].path, f->terms[i].value) == f->terms[i].negate)
			return false;
	return true;
}

/* ---- collections --------------------------------------------------------- */

static void do_list(api_req *r)
{
	const sw_kind *k = r->route.kind;
	api_filter f;
	if (api_list_filter_parse(r, &f) < 0)
		return;
	size_t limit = 0;
	const char *lim = api_query(r, "limit");
	if (lim && *lim) {
		char *end;
		errno = 0;
		long long v = strtoll(lim, &end, 10);
		if (errno || *end || v < 0) {
			api_filter_release(&f);
			api_reply_fail(r, 400, "BadRequest", NULL, NULL, "limit: invalid value \"%s\"", lim);
			return;
		}
		limit = (size_t)v;
	}
	const char *cont = api_query(r, "continue");
	sw_list_opts o = {
		.ns = f.ns,
		.labels = f.labels,
		.name = f.has_name ? f.name : NULL,
		.limit = limit,
		.continue_token = cont && *cont ? cont : NULL,
	};
	cleanup_json json_t *items = NULL;
	uint64_t rev = 0;
	cleanup_free char *next = NULL;
	cleanup_error sw_error *err = NULL;
	int rc = f.none ? 0 : sw_store_list(r->api->store, k, &o, &items, &rev, &next, &err);
	if (rc < 0) {
		api_filter_release(&f);
		if (sw_error_code(err) == SW_EINVALID)
			api_reply_fail(r, 400, "BadRequest", NULL, NULL, "%s", err->msg);
		else
			api_reply_error(r, err, k, NULL);
		return;
	}
	if (!items) {
		items = json_array();
		rev = sw_store_revision(r->api->store);
	}
	if (f.nterms) {
		/* the other field terms are checked here, after the store's page */
		for (size_t i = json_array_size(items); i-- > 0;)
			if (!api_filter_match(&f, k, json_array_get(items, i)))
				json_array_remove(items, i);
	}
	api_filter_release(&f);
	char rvs[32];
	snprintf(rvs, sizeof(rvs), "%llu", (unsigned long long)rev);
	if (r->table) {
		api_reply_json(r, 200, api_table(k, items, true, rvs, next, time(NULL)));
		return;
	}
	json_t *meta = json_pack("{s:s}", "resourceVersion", rvs);
	if (next)
		json_object_set_new(meta, "continue", json_string(next));
	json_t *list = json_pack("{s:s, s:s, s:o, s:O}", "kind", k->list_kind, "apiVersion",
	                         k->api_version, "metadata", meta, "items", items);
	api_reply_json(r, 200, list);
}

/* The body's apiVersion and kind must be the URL's (filled in when
 * missing); 400 otherwise. */
static int check_type(api_req *r, const sw_kind *k, json_t *obj)
{
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	if (av && strcmp(av, k->api_version) != 0) {
		api_reply_fail(r, 400, "BadRequest", NULL, NULL,
		               "the API version in the data (%s) does not match the expected API "
		               "version (%s)",
		               av, k->api_version);
		return -1;
	}
	if (kind && strcmp(kind, k->kind) != 0) {
		api_reply_fail(r, 400, "BadRequest", NULL, NULL,
		               "the kind in the data (%s) does not match the expected kind (%s)", kind,
		               k->kind);
		return -1;
	}
	json_object_set_new(obj, "apiVersion", json_string(k->api_version));
	json_object_set_new(obj, "kind", json_string(k->kind));
	json_t *meta = json_object_get(obj, "metadata");
	if (!meta) {
		meta = json_object();
		json_object_set_new(obj, "metadata", meta);
	}
	if (!json_is_object(meta)) {
		api_reply_fail(r, 400, "BadRequest", NULL, NULL, "metadata must be an object");
		return -1;
	}
	return 0;
}

/* The URL's namespace (and name, when the URL has one) against the body's. */
static int check_meta(api_req *r, const sw_kind *k, json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	if (k->namespaced) {
		if (ns && *ns && strcmp(ns, r->route.ns) != 0) {
			api_reply_fail(r, 400, "BadRequest", NULL, NULL,
			               "the namespace of the provided object does not match the namespace "
			               "sent on the request");
			return -1;
		}
		json_object_set_new(meta, "namespace", json_string(r->route.ns));
	} else if (ns && *ns) {
		json_object_del(meta, "namespace");
	}
	if (r->route.name[0]) {
		const char *name = json_string_value(json_object_get(meta, "name"));
		if (name && strcmp(name, r->route.name) != 0) {
			api_reply_fail(r, 400, "BadRequest", NULL, NULL,
			               "the name of the object (%s) does not match the name on the URL (%s)",
			               name, r->route.name);
			return -1;
		}
		json_object_set_new(meta, "name", json_string(r->route.name));
	}
	return 0;
}

static void do_create(api_req *r, json_t *obj)
{
	const sw_kind *k = r->route.kind;
	if (check_type(r, k, obj) < 0 || check_meta(r, k, obj) < 0)
		return;
	if (api_admit(r, k, obj, NULL) < 0)
		return;
	if (r->dry_run) {
		api_reply_json(r, 201, json_incref(obj));
		return;
	}
	json_t *out = NULL;
	cleanup_error sw_error *err = NULL;
	if (sw_store_create(r->api->store, k, obj, &out, &err) < 0) {
		api_reply_error(r, err, k, sw_obj_name(obj));
		return;
	}
	api_reply_json(r, 201, out);
}

void api_handle_collection(api_req *r)
{
	const sw_kind *k = r->route.kind;
	switch (r->method) {
	case EVHTTP_REQ_GET:
	case EVHTTP_REQ_HEAD:
		do_list(r);
		return;
	case EVHTTP_REQ_POST: {
		if (k->namespaced && !r->route.ns[0]) {
			method_not_allowed(r);
			return;
		}
		cleanup_json json_t *obj = NULL;
		if (api_read_body(r, &obj) < 0)
			return;
		do_create(r, obj);
		return;
	}
	default:
		method_not_allowed(r);
	}
}

/* ---- objects ----------------------------------------------------------- */

/* Kubernetes creates on PUT only for these (AllowCreateOnUpdate). */
static bool create_on_update(const sw_kind *k)
{
	return !k->group[0] && (strcmp(k->resource, "services") == 0 ||
	                        strcmp(k->resource, "endpoints") == 0 ||
	                        strcmp(k->resource, "events") == 0);
}

static int get_current(api_req *r, json_t **out, sw_error **err)
{
	return sw_store_get(r->api->store, r->route.kind, route_ns(r), r->route.name, out, err);
}

/* Writes obj (admitted) as an update; replies. */
static void write_update(api_req *r, json_t *obj, const json_t *old, int flags)
{
	const sw_kind *k = r->route.kind;
	if (api_admit(r, k, obj, old) < 0)
		return;
	if (r->dry_run) {
		api_reply_json(r, 200, json_incref(obj));
		return;
	}
	json_t *out = NULL;
	cleanup_error sw_error *err = NULL;
	if (sw_store_update(r->api->store, k, obj, flags, &out, &err) < 0) {
		api_reply_error(r, err, k, r->route.name);
		return;
	}
	api_reply_json(r, 200, out);
}

static void do_put(api_req *r, int flags)
{
	const sw_kind *k = r->route.kind;
	cleanup_json json_t *obj = NULL;
	if (api_read_body(r, &obj) < 0)
		return;
	if (check_type(r, k, obj) < 0 || check_meta(r, k, obj) < 0)
		return;
	cleanup_json json_t *cur = NULL;
	cleanup_error sw_error *err = NULL;
	if (get_current(r, &cur, &err) < 0) {
		if (sw_error_code(err) == SW_ENOTFOUND && flags == SW_STORE_MAIN && create_on_update(k)) {
			do_create(r, obj);
			return;
		}
		api_reply_error(r, err, k, r->route.name);
		return;
	}
	write_update(r, obj, cur, flags);
}

static void do_patch(api_req *r, int flags)
{
	const sw_kind *k = r->route.kind;
	const char *ct = evhttp_find_header(evhttp_request_get_input_headers(r->req), "Content-Type");
	cleanup_json json_t *patch = NULL;
	if (api_read_body(r, &patch) < 0)
		return;
	int type = api_patch_type_of(ct);
	cleanup_json json_t *cur = NULL;
	cleanup_error sw_error *err = NULL;
	if (type == PATCH_APPLY) {
		/* server-side apply: the whole intended object, whose type must be
		 * the URL's; a missing object is created */
		if (!json_is_object(patch)) {
			api_reply_fail(r, 400, "BadRequest", k, r->route.name,
			               "an apply patch must be an object");
			return;
		}
		if (check_type(r, k, patch) < 0)
			return;
		if (flags == SW_STORE_MAIN && get_current(r, &cur, &err) < 0 &&
		    sw_error_code(err) == SW_ENOTFOUND) {
			do_create(r, patch);
			return;
		}
		sw_error_clear(&err);
		json_decref(cur);
		cur = NULL;
	}
	if (get_current(r, &cur, &err) < 0) {
		api_reply_error(r, err, k, r->route.name);
		return;
	}
	cleanup_json json_t *obj = NULL;
	if (api_patch_apply(&obj, (api_patch_type)type, cur, patch, &err) < 0) {
		api_reply_fail(r, type == PATCH_JSON ? 422 : 400, type == PATCH_JSON ? "Invalid" : "BadRequest",
		               k, r->route.name, "%s", err->msg);
		return;
	}
	if (!json_is_object(obj)) {
		api_reply_fail(r, 400, "BadRequest", k, r->route.name,
		               "the patched object is not a JSON object");
		return;
	}
	if (check_type(r, k, obj) < 0 || check_meta(r, k, obj) < 0)
		return;
	write_update(r, obj, cur, flags);
}

/* Options from the DeleteOptions body and the query. */
static int delete_opts(api_req *r, sw_delete_opts *o, json_t **body)
{
	o->grace_seconds = -1;
	o->uid = NULL;
	o->resource_version = NULL;
	*body = NULL;
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	if (in && evbuffer_get_length(in) > 0) {
		if (api_read_body(r, body) < 0)
			return -1;
		json_t *g = json_object_get(*body, "gracePeriodSeconds");
		if (json_is_integer(g))
			o->grace_seconds = json_integer_value(g);
		o->uid = json_string_value(sw_obj_path(*body, "preconditions.uid"));
		o->resource_version = json_string_value(sw_obj_path(*body, "preconditions.resourceVersion"));
		json_t *dry = json_object_get(*body, "dryRun");
		if (json_is_array(dry) && json_array_size(dry) &&
		    json_string_value(json_array_get(dry, 0)) &&
		    strcmp(json_string_value(json_array_get(dry, 0)), "All") == 0)
			r->dry_run = true;
	}
	const char *g = api_query(r, "gracePeriodSeconds");
	if (g && *g) {
		char *end;
		errno = 0;
		long long v = strtoll(g, &end, 10);
		if (errno || *end) {
			api_reply_fail(r, 400, "BadRequest", NULL, NULL,
			               "gracePeriodSeconds: invalid value \"%s\"", g);
			return -1;
		}
		o->grace_seconds = v;
	}
	if (o->grace_seconds < -1)
		o->grace_seconds = 0;
	return 0;
}

static void do_delete(api_req *r)
{
	const sw_kind *k = r->route.kind;
	sw_delete_opts o;
	cleanup_json json_t *body = NULL;
	if (delete_opts(r, &o, &body) < 0)
		return;
	cleanup_error sw_error *err = NULL;
	if (r->dry_run) {
		json_t *cur = NULL;
		if (get_current(r, &cur, &err) < 0)
			api_reply_error(r, err, k, r->route.name);
		else
			api_reply_json(r, 200, cur);
		return;
	}
	json_t *out = NULL;
	if (sw_store_delete(r->api->store, k, route_ns(r), r->route.name, &o, &out, &err) < 0) {
		api_reply_error(r, err, k, r->route.name);
		return;
	}
	if (!out)
		out = api_status_success(k, r->route.name, NULL);
	api_reply_json(r, 200, out);
}

/* ---- /scale -------------------------------------------------------------- */

static json_t *scale_of(const json_t *obj)
{
	json_t *meta = json_object();
	static const char *const keys[] = { "name", "namespace", "uid", "resourceVersion",
		                            "creationTimestamp" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = sw_obj_path(obj, "metadata") ? json_object_get(sw_obj_path(obj, "metadata"),
		                                                           keys[i])
		                                         : NULL;
		if (v)
			json_object_set(meta, keys[i], v);
	}
	cleanup_free char *sel = NULL;
	sw_selector *s = NULL;
	sw_error *e = NULL;
	json_t *sj = sw_obj_path(obj, "spec.selector");
	if (sj && sw_selector_from_json(&s, sj, false, &e) == 0) {
		sel = sw_selector_string(s);
		sw_selector_free(s);
	}
	sw_error_free(e);
	json_t *status = json_pack("{s:I}", "replicas", (json_int_t)sw_obj_int(obj, "status.replicas", 0));
	if (sel && *sel)
		json_object_set_new(status, "selector", json_string(sel));
	return json_pack("{s:s, s:s, s:o, s:{s:I}, s:o}", "kind", "Scale", "apiVersion",
	                 "autoscaling/v1", "metadata", meta, "spec", "replicas",
	                 (json_int_t)sw_obj_int(obj, "spec.replicas", 1), "status", status);
}

static void do_scale(api_req *r)
{
	const sw_kind *k = r->route.kind;
	cleanup_json json_t *cur = NULL;
	cleanup_error sw_error *err = NULL;
	cleanup_json json_t *body = NULL;
	bool write = r->method == EVHTTP_REQ_PUT || r->method == EVHTTP_REQ_PATCH;
	if (!write && r->method != EVHTTP_REQ_GET) {
		method_not_allowed(r);
		return;
	}
	if (write && api_read_body(r, &body) < 0)
		return;
	if (get_current(r, &cur, &err) < 0) {
		api_reply_error(r, err, k, r->route.name);
		return;
	}
	cleanup_json json_t *scale = scale_of(cur);
	if (!write) {
		api_reply_json(r, 200, json_incref(scale));
		return;
	}
	cleanup_json json_t *want = NULL;
	if (r->method == EVHTTP_REQ_PATCH) {
		const char *ct = evhttp_find_header(evhttp_request_get_input_headers(r->req),
		                                    "Content-Type");
		if (api_patch_apply(&want, (api_patch_type)api_patch_type_of(ct), scale, body, &err) < 0) {
			api_reply_fail(r, 400, "BadRequest", k, r->route.name, "%s", err->msg);
			return;
		}
	} else {
		want = json_incref(body);
		const char *av = json_string_value(json_object_get(want, "apiVersion"));
		const char *kind = json_string_value(json_object_get(want, "kind"));
		if ((av && strcmp(av, "autoscaling/v1") != 0) || (kind && strcmp(kind, "Scale") != 0)) {
			api_reply_fail(r, 400, "BadRequest", NULL, NULL,
			               "the body must be an autoscaling/v1 Scale, not %s %s",
			               av ? av : "", kind ? kind : "");
			return;
		}
		const char *name = sw_obj_str(want, "metadata.name");
		if (name && strcmp(name, r->route.name) != 0) {
			api_reply_fail(r, 400, "BadRequest", NULL, NULL,
			               "the name of the object (%s) does not match the name on the URL (%s)",
			               name, r->route.name);
			return;
		}
	}
	json_t *rep = sw_obj_path(want, "spec.replicas");
	if (!json_is_integer(rep) || json_integer_value(rep) < 0 ||
	    json_integer_value(rep) > INT32_MAX) {
		json_t *causes = json_pack("[{s:s, s:s, s:s}]", "reason", "FieldValueInvalid", "message",
		                           "Invalid value: must be greater than or equal to 0", "field",
		                           "spec.replicas");
		char msg[512];
		snprintf(msg, sizeof(msg),
		         "Scale.autoscaling \"%s\" is invalid: spec.replicas: Invalid value: must be "
		         "greater than or equal to 0",
		         r->route.name);
		api_reply_json(r, 422, api_status_failure(422, "Invalid", msg, k, r->route.name, causes));
		return;
	}
	cleanup_json json_t *obj = json_deep_copy(cur);
	json_object_set(sw_obj_mkpath(obj, "spec"), "replicas", rep);
	const char *rv = sw_obj_str(want, "metadata.resourceVersion");
	if (rv && *rv)
		json_object_set_new(sw_obj_mkpath(obj, "metadata"), "resourceVersion", json_string(rv));
	if (api_admit(r, k, obj, cur) < 0)
		return;
	if (r->dry_run) {
		api_reply_json(r, 200, scale_of(obj));
		return;
	}
	cleanup_json json_t *out = NULL;
	if (sw_store_update(r->api->store, k, obj, SW_STORE_MAIN, &out, &err) < 0) {
		api_reply_error(r, err, k, r->route.name);
		return;
	}
	api_reply_json(r, 200, scale_of(out));
}

void api_handle_object(api_req *r)
{
	const sw_kind *k = r->route.kind;
	if (strcmp(r->route.sub, "scale") == 0) {
		do_scale(r);
		return;
	}
	bool status = strcmp(r->route.sub, "status") == 0;
	int flags = status ? SW_STORE_STATUS : SW_STORE_MAIN;
	switch (r->method) {
	case EVHTTP_REQ_GET:
	case EVHTTP_REQ_HEAD: {
		json_t *obj = NULL;
		cleanup_error sw_error *err = NULL;
		if (get_current(r, &obj, &err) < 0) {
			api_reply_error(r, err, k, r->route.name);
			return;
		}
		if (r->table) {
			cleanup_json json_t *items = json_pack("[o]", obj);
			char rv[32];
			snprintf(rv, sizeof(rv), "%s", sw_obj_str(obj, "metadata.resourceVersion")
			                                       ? sw_obj_str(obj, "metadata.resourceVersion")
			                                       : "");
			api_reply_json(r, 200, api_table(k, items, true, rv, NULL, time(NULL)));
			return;
		}
		api_reply_json(r, 200, obj);
		return;
	}
	case EVHTTP_REQ_PUT:
		do_put(r, flags);
		return;
	case EVHTTP_REQ_PATCH:
		do_patch(r, flags);
		return;
	case EVHTTP_REQ_DELETE:
		if (status) {
			method_not_allowed(r);
			return;
		}
		do_delete(r);
		return;
	default:
		method_not_allowed(r);
	}
}
