/*
 * api_int.h - the API server's private parts, shared by run/api*.c and the
 * unit tests (tests/unit/test_api.c): URL routing, Status bodies, patches,
 * Tables, discovery documents and the request context of the handlers.
 */
#ifndef SLIPWAY_API_INT_H
#define SLIPWAY_API_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "slipway/api.h"
#include "slipway/error.h"
#include "slipway/kinds.h"
#include "slipway/store.h"

struct evhttp;
struct evhttp_request;
struct ssl_ctx_st;
struct evkeyvalq;

#define API_DEFAULT_MAX_BODY ((size_t)3 * 1024 * 1024)

/* ---- routing (api_route.c) ---------------------------------------------- */

typedef enum api_route_type {
	ROUTE_VERSION,      /* /version */
	ROUTE_HEALTH,       /* /healthz, /readyz, /livez (and sub-paths) */
	ROUTE_API,          /* /api: APIVersions */
	ROUTE_APIS,         /* /apis: APIGroupList */
	ROUTE_GROUP,        /* /apis/apps: APIGroup */
	ROUTE_RESOURCES,    /* /api/v1, /apis/apps/v1: APIResourceList */
	ROUTE_COLLECTION,   /* .../[namespaces/NS/]pods */
	ROUTE_OBJECT,       /* .../pods/NAME[/SUB] */
	ROUTE_METRICS,      /* /apis/metrics.k8s.io/v1beta1/[namespaces/NS/]pods[/NAME] */
	ROUTE_OPENAPI,      /* /openapi/...: not served (404) */
} api_route_type;

typedef struct api_route {
	api_route_type type;
	const sw_kind *kind;    /* COLLECTION, OBJECT */
	char group[64];         /* RESOURCES, GROUP: "" for the core group */
	char version[32];
	char ns[254];           /* "" when the URL names none */
	char name[254];         /* OBJECT, METRICS: "" for a list */
	char sub[16];           /* "", "status", "scale", "log", "exec" */
	bool watch_prefix;      /* the old /api/v1/watch/... form */
} api_route;

/* Parses an URL path (without the query). SW_ENOTFOUND for a path that
 * names nothing served (404), SW_EINVALID for a malformed one. */
int api_route_parse(api_route *r, const char *path, sw_error **err);

/* "deployments.apps" or "pods": how Kubernetes names a resource in
 * messages. */
void api_kind_qualified(const sw_kind *k, char *buf, size_t size);

/* ---- Status bodies (api_status.c) --------------------------------------- */

/* The HTTP code and Kubernetes reason for an sw_error code. */
int api_http_code(int sw_code);
const char *api_reason(int sw_code);

/* A v1 Status with status "Failure". details (name, group, kind) is added
 * when kind is not NULL; causes (stolen, may be NULL) go to
 * details.causes. */
json_t *api_status_failure(int code, const char *reason, const char *message, const sw_kind *kind,
                           const char *name, json_t *causes);
/* A Status for err, as the store's codes map (NotFound 404, AlreadyExists
 * 409, Conflict 409, Invalid 422, Expired 410, ...). */
json_t *api_status_from_error(const sw_error *err, const sw_kind *kind, const char *name);
/* A Status with status "Success". */
json_t *api_status_success(const sw_kind *kind, const char *name, const char *uid);

/* ---- patches (api_patch.c) ---------------------------------------------- */

typedef enum api_patch_type {
	PATCH_MERGE,        /* application/merge-patch+json, RFC 7386 */
	PATCH_STRATEGIC,    /* application/strategic-merge-patch+json */
	PATCH_JSON,         /* application/json-patch+json, RFC 6902 */
	PATCH_APPLY,        /* application/apply-patch+yaml (server-side apply), in
	                       its JSON form: create, or a strategic merge onto the
	                       object (no field ownership) */
} api_patch_type;

/* The patch type of a Content-Type, or -1 (415). */
int api_patch_type_of(const char *content_type);

/* RFC 7386: a new value (target is not changed). */
json_t *api_merge_patch(const json_t *target, const json_t *patch);
/* Merge patch, except that lists of objects with a merge key (containers
 * and volumes by name, ports by containerPort or port, ...) are merged
 * element by element and the $patch/$setElementOrder/$retainKeys
 * directives are understood. */
int api_strategic_merge_patch(json_t **out, const json_t *target, const json_t *patch,
                              sw_error **err);
/* RFC 6902 (add, remove, replace, move, copy, test). */
int api_json_patch(json_t **out, const json_t *target, const json_t *patch, sw_error **err);
int api_patch_apply(json_t **out, api_patch_type type, const json_t *target, const json_t *patch,
                    sw_error **err);

/* ---- tables (api_table.c) ----------------------------------------------- */

/* "5m", "3h12m", "2d": Kubernetes' HumanDuration of now - t. */
void api_human_age(char *buf, size_t size, time_t t, time_t now);
/* The STATUS column of `kubectl get pods`. */
const char *api_pod_status(const json_t *pod, char *buf, size_t size);
/* A meta.k8s.io/v1 Table of items (borrowed array); columns only when
 * with_columns (watch events after the first have none). */
json_t *api_table(const sw_kind *k, const json_t *items, bool with_columns, const char *rv,
                  const char *cont, time_t now);

/* ---- discovery (api_discovery.c) ---------------------------------------- */

json_t *api_discovery_version(void);
json_t *api_discovery_api(void);
json_t *api_discovery_apis(void);
/* NULL when group is not served. */
json_t *api_discovery_group(const char *group);
json_t *api_discovery_resources(const char *group, const char *version);
/* apidiscovery.k8s.io/v2 APIGroupDiscoveryList: of the core group (/api)
 * or of the named groups (/apis), what kubectl asks for first. */
json_t *api_discovery_aggregated(bool core);
#define API_AGGREGATED_CT "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
/* /openapi/v3 and /openapi/v3/api/v1, /openapi/v3/apis/G/V: operations
 * with their fieldValidation parameter, no schemas (NULL: not served). */
json_t *api_openapi_index(void);
json_t *api_openapi_gv(const char *group, const char *version);

/* ---- the server (api.c) ------------------------------------------------- */

typedef struct api_stream api_stream;
typedef struct api_exec api_exec;

struct sw_api {
	struct event_base *base;
	sw_store *store;
	char *state_dir;
	size_t max_body;
	struct evhttp *unix_http;
	char *unix_path;
	struct evhttp *tcp_http;
	struct evhttp *tls_http;
	struct ssl_ctx_st *ssl_ctx;
	sw_api_admit_fn admit;
	void *admit_ctx;
	sw_api_exec_fn exec;
	void *exec_ctx;
	sw_api_exec_async_fn exec_async;
	void *exec_async_ctx;
	sw_api_metrics_fn metrics;
	void *metrics_ctx;
	api_stream *streams;   /* open watches and log follows */
	struct event *reaper;  /* frees closed streams outside callbacks */
	api_exec *execs;       /* exec requests waiting for the hook */
};

/* One request being handled. */
typedef struct api_req {
	sw_api *api;
	struct evhttp_request *req;
	int method;              /* enum evhttp_cmd_type */
	const char *method_name;
	api_route route;
	struct evkeyvalq *query;
	bool table;              /* Accept asks for a meta.k8s.io Table */
	bool dry_run;            /* ?dryRun=All */
} api_req;

/* The first value of a query parameter, or NULL. */
const char *api_query(const api_req *r, const char *key);
/* The request body as JSON: 400 (not JSON), 413 (too large) or 415
 * replies are sent and -1 returned on failure. */
int api_read_body(api_req *r, json_t **out);
/* The raw body (at most max_body): -1 after a 413 reply. */
int api_read_raw(api_req *r, char **data, size_t *len);

/* Replies and takes body. */
void api_reply_json(api_req *r, int code, json_t *body);
void api_reply_json_ct(api_req *r, int code, json_t *body, const char *content_type);
void api_reply_error(api_req *r, const sw_error *err, const sw_kind *kind, const char *name);
void api_reply_fail(api_req *r, int code, const char *reason, const sw_kind *kind,
                    const char *name, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Runs the admission hook; a 422 reply is sent and -1 returned when it
 * refuses. */
int api_admit(api_req *r, const sw_kind *k, json_t *obj, const json_t *old);

/* What a list or watch selects: ?labelSelector, ?fieldSelector
 * (metadata.name, metadata.namespace) and the URL's namespace. Parse into
 * its final place (ns may point into ns_buf). */
#define API_MAX_FIELD_TERMS 8

typedef struct api_field_term {
	char path[64];           /* "status.phase", "involvedObject.name" */
	char value[254];
	bool negate;             /* != */
} api_field_term;

typedef struct api_filter {
	const char *ns;          /* NULL: every namespace */
	char ns_buf[254];
	struct sw_selector *labels;
	char name[254];
	bool has_name;
	bool none;               /* contradicting selectors: matches nothing */
	api_field_term terms[API_MAX_FIELD_TERMS]; /* other fieldSelector terms */
	size_t nterms;
} api_filter;

/* A 400 reply is sent and -1 returned for a bad selector. */
int api_list_filter_parse(api_req *r, api_filter *f);
void api_filter_release(api_filter *f);
bool api_filter_match(const api_filter *f, const sw_kind *k, const json_t *obj);

/* api_tls.c: the server context (key and self-signed certificate under
 * STATE/tls, made on first use) and TLS on an evhttp's connections. */
int api_tls_context(struct ssl_ctx_st **out, const char *state_dir, sw_error **err);
void api_tls_attach(struct evhttp *http, struct ssl_ctx_st *ctx);

/* ---- handlers ----------------------------------------------------------- */

/* api_rest.c: collections and objects (with /status and /scale). */
void api_handle_collection(api_req *r);
void api_handle_object(api_req *r);
/* api_watch.c */
void api_handle_watch(api_req *r);
/* api_pods.c: log, exec, metrics */
void api_handle_pod_log(api_req *r);
void api_handle_pod_exec(api_req *r);
void api_handle_metrics(api_req *r);
/* At shutdown: pending execs are answered by nobody; their hooks' late
 * callbacks only free them. */
void api_exec_cancel_all(sw_api *api);

/* ---- streams (watches and log follows) ---------------------------------- */

typedef void (*api_stream_free_fn)(api_stream *s);

struct api_stream {
	api_stream *next;
	sw_api *api;
	struct evhttp_request *req;
	struct event *timer;     /* the owner's timeout or poll (freed with the stream) */
	struct event *probe;     /* checks that the client is still there */
	bool closed;
	api_stream_free_fn free_fn;
	void *data;
};

/* Starts a chunked 200 reply and registers the stream (closed when the
 * client leaves or sw_api_free runs). */
api_stream *api_stream_start(api_req *r, const char *content_type, api_stream_free_fn free_fn,
                             void *data);
/* Sends a chunk; false when the client is gone or too far behind (the
 * stream is then ended). */
bool api_stream_send(api_stream *s, const char *data, size_t len);
/* Ends the reply; the stream is freed (free_fn called) soon after, on the
 * loop, never inside the caller's callback. */
void api_stream_close(api_stream *s);

#endif
