/*
 * api_status.c - v1 Status bodies, the Kubernetes API's error (and
 * deletion) answers, in exactly its shape:
 *   {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
 *    "message":"pods \"x\" not found","reason":"NotFound",
 *    "details":{"name":"x","kind":"pods"},"code":404}
 */
#include <string.h>

#include "api_int.h"
#include "slipway/cleanup.h"

int api_http_code(int sw_code)
{
	switch (sw_code) {
	case SW_ENOTFOUND:
		return 404;
	case SW_EEXISTS:
	case SW_ECONFLICT:
		return 409;
	case SW_EINVALID:
		return 422;
	case SW_EGONE:
		return 410;
	case SW_ETOOBIG:
		return 413;
	case SW_EAUTH:
		return 401;
	case SW_EFORBIDDEN:
		return 403;
	case SW_EESCAPE:
	case SW_EAMBIGUOUS:
		return 400;
	default:
		return 500;
	}
}

const char *api_reason(int sw_code)
{
	switch (sw_code) {
	case SW_ENOTFOUND:
		return "NotFound";
	case SW_EEXISTS:
		return "AlreadyExists";
	case SW_ECONFLICT:
		return "Conflict";
	case SW_EINVALID:
		return "Invalid";
	case SW_EGONE:
		return "Expired";
	case SW_ETOOBIG:
		return "RequestEntityTooLarge";
	case SW_EAUTH:
		return "Unauthorized";
	case SW_EFORBIDDEN:
		return "Forbidden";
	case SW_EESCAPE:
	case SW_EAMBIGUOUS:
		return "BadRequest";
	default:
		return "InternalError";
	}
}

json_t *api_status_failure(int code, const char *reason, const char *message, const sw_kind *kind,
                           const char *name, json_t *causes)
{
	json_t *st = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s}", "kind", "Status", "apiVersion", "v1",
	                       "metadata", "status", "Failure", "message", message ? message : "",
	                       "reason", reason ? reason : "");
	if (kind || causes) {
		json_t *d = json_object();
		if (name && *name)
			json_object_set_new(d, "name", json_string(name));
		if (kind) {
			if (kind->group[0])
				json_object_set_new(d, "group", json_string(kind->group));
			json_object_set_new(d, "kind", json_string(kind->resource));
		}
		if (causes)
			json_object_set_new(d, "causes", causes);
		json_object_set_new(st, "details", d);
	}
	json_object_set_new(st, "code", json_integer(code));
	return st;
}

json_t *api_status_from_error(const sw_error *err, const sw_kind *kind, const char *name)
{
	int c = sw_error_code(err);
	cleanup_free char *msg = sw_error_string(err);
	json_t *causes = NULL;
	if (c == SW_EINVALID) {
		causes = json_pack("[{s:s, s:s}]", "reason", "FieldValueInvalid", "message",
		                   msg ? msg : "");
	}
	return api_status_failure(api_http_code(c), api_reason(c), msg, kind, name, causes);
}

json_t *api_status_success(const sw_kind *kind, const char *name, const char *uid)
{
	json_t *st = json_pack("{s:s, s:s, s:{}, s:s}", "kind", "Status", "apiVersion", "v1",
	                       "metadata", "status", "Success");
	if (kind) {
		json_t *d = json_object();
		if (name)
			json_object_set_new(d, "name", json_string(name));
		if (kind->group[0])
			json_object_set_new(d, "group", json_string(kind->group));
		json_object_set_new(d, "kind", json_string(kind->resource));
		if (uid)
			json_object_set_new(d, "uid", json_string(uid));
		json_object_set_new(st, "details", d);
	}
	return st;
}
