/*
 * api.c - the API server's core: listeners (Unix socket, TCP with bearer
 * tokens), one request callback that authenticates, routes and hands the
 * request to a handler, the reply helpers and the streams (watches, log
 * follows) that outlive their callback. Handlers live in api_rest.c,
 * api_watch.c and api_pods.c; the documents in api_discovery.c and
 * api_table.c.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <sys/queue.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api_int.h"
#include "slipway/api_token.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/log.h"
#include "slipway/mem.h"
#include "slipway/object.h"

/* A stream whose client reads slower than this much output is ended. */
#define STREAM_MAX_BACKLOG ((size_t)16 * 1024 * 1024)
/* How often a stream checks that its client is still there. */
#define STREAM_PROBE_SECONDS 2

/* ---- replies ------------------------------------------------------------- */

void api_reply_json(api_req *r, int code, json_t *body)
{
	api_reply_json_ct(r, code, body, "application/json");
}

void api_reply_json_ct(api_req *r, int code, json_t *body, const char *content_type)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	evhttp_add_header(h, "Content-Type", content_type);
	evhttp_add_header(h, "Cache-Control", "no-cache, private");
	struct evbuffer *b = evbuffer_new();
	if (body) {
		char *text = json_dumps(body, JSON_COMPACT);
		if (text) {
			evbuffer_add(b, text, strlen(text));
			evbuffer_add(b, "\n", 1);
		}
		free(text);
	}
	const char *reason = code == 200   ? "OK"
	                     : code == 201 ? "Created"
	                     : code == 202 ? "Accepted"
	                     : code == 400 ? "Bad Request"
	                     : code == 401 ? "Unauthorized"
	                     : code == 403 ? "Forbidden"
	                     : code == 404 ? "Not Found"
	                     : code == 405 ? "Method Not Allowed"
	                     : code == 406 ? "Not Acceptable"
	                     : code == 409 ? "Conflict"
	                     : code == 410 ? "Gone"
	                     : code == 413 ? "Request Entity Too Large"
	                     : code == 415 ? "Unsupported Media Type"
	                     : code == 422 ? "Unprocessable Entity"
	                     : code == 500 ? "Internal Server Error"
	                     : code == 501 ? "Not Implemented"
	                                   : "Error";
	sw_debug("api: %s %s -> %d", r->method_name, evhttp_request_get_uri(r->req), code);
	evhttp_send_reply(r->req, code, reason, b);
	evbuffer_free(b);
	json_decref(body);
}

void api_reply_fail(api_req *r, int code, const char *reason, const sw_kind *kind,
                    const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	api_reply_json(r, code, api_status_failure(code, reason, msg, kind, name, NULL));
}

void api_reply_error(api_req *r, const sw_error *err, const sw_kind *kind, const char *name)
{
	json_t *st = api_status_from_error(err, kind, name);
	int code = (int)json_integer_value(json_object_get(st, "code"));
	if (code >= 500) {
		cleanup_free char *msg = sw_error_string(err);
		sw_warn("api: %s %s: %s", r->method_name, evhttp_uri_get_path(
		                                               evhttp_request_get_evhttp_uri(r->req)),
		        msg);
	}
	api_reply_json(r, code, st);
}

const char *api_query(const api_req *r, const char *key)
{
	return r->query ? evhttp_find_header(r->query, key) : NULL;
}

int api_read_raw(api_req *r, char **data, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t n = evbuffer_get_length(in);
	if (n > r->api->max_body) {
		api_reply_fail(r, 413, "RequestEntityTooLarge", NULL, NULL,
		               "the request body is too large: %zu bytes, at most %zu", n,
		               r->api->max_body);
		return -1;
	}
	char *buf = sw_xmalloc(n + 1);
	evbuffer_remove(in, buf, n);
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return 0;
}

int api_read_body(api_req *r, json_t **out)
{
	const char *ct = evhttp_find_header(evhttp_request_get_input_headers(r->req), "Content-Type");
	bool patch = r->method == EVHTTP_REQ_PATCH;
	if (patch) {
		if (api_patch_type_of(ct) < 0) {
			api_reply_fail(r, 415, "UnsupportedMediaType", NULL, NULL,
			               "the body of the request was in an unknown format - accepted media "
			               "types include: application/json-patch+json, "
			               "application/merge-patch+json, application/strategic-merge-patch+json");
			return -1;
		}
	} else if (ct && *ct && strncasecmp(ct, "application/json", strlen("application/json")) != 0 &&
	           strncasecmp(ct, "*/*", 3) != 0) {
		api_reply_fail(r, 415, "UnsupportedMediaType", NULL, NULL,
		               "the body of the request was in an unknown format - accepted media types "
		               "include: application/json");
		return -1;
	}
	cleanup_free char *data = NULL;
	size_t len;
	if (api_read_raw(r, &data, &len) < 0)
		return -1;
	json_error_t je;
	json_t *j = json_loadb(data, len, JSON_DECODE_ANY, &je);
	if (!j) {
		api_reply_fail(r, 400, "BadRequest", NULL, NULL,
		               "the request body is not valid JSON: line %d column %d: %s", je.line,
		               je.column, je.text);
		return -1;
	}
	if (!patch && !json_is_object(j)) {
		json_decref(j);
		api_reply_fail(r, 400, "BadRequest", NULL, NULL,
		               "the request body must be a JSON object");
		return -1;
	}
	*out = j;
	return 0;
}

int api_admit(api_req *r, const sw_kind *k, json_t *obj, const json_t *old)
{
	sw_api *api = r->api;
	if (!api->admit)
		return 0;
	cleanup_error sw_error *err = NULL;
	json_t *causes = NULL;
	if (api->admit(api->admit_ctx, k, obj, old, &causes, &err) >= 0) {
		json_decref(causes);
		return 0;
	}
	cleanup_free char *msg = sw_error_string(err);
	const char *name = sw_obj_name(obj);
	if (!name)
		name = "";
	if (!json_is_array(causes) || json_array_size(causes) == 0) {
		json_decref(causes);
		causes = json_pack("[{s:s, s:s, s:s}]", "reason", "FieldValueInvalid", "message",
		                   msg ? msg : "", "field", "");
	}
	int c = sw_error_code(err);
	int code = c == SW_EINVALID || c == SW_EFAIL ? 422 : api_http_code(c);
	/* Kubernetes: Deployment.apps "web" is invalid: spec.replicas: ... */
	char full[1200];
	snprintf(full, sizeof(full), "%s%s%s \"%s\" is invalid: %s", k->kind, k->group[0] ? "." : "",
	         k->group, name, msg ? msg : "");
	api_reply_json(r, code,
	               api_status_failure(code, code == 422 ? "Invalid" : api_reason(c),
	                                  code == 422 ? full : (msg ? msg : ""), k, name, causes));
	return -1;
}

/* ---- streams --------------------------------------------------------------- */

static void stream_unlink(api_stream *s)
{
	for (api_stream **p = &s->api->streams; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
}

static void stream_destroy(api_stream *s, bool client_gone)
{
	stream_unlink(s);
	if (s->free_fn)
		s->free_fn(s);
	if (s->timer)
		event_free(s->timer);
	if (s->probe)
		event_free(s->probe);
	struct evhttp_connection *c = evhttp_request_get_connection(s->req);
	if (c)
		evhttp_connection_set_closecb(c, NULL, NULL);
	/* a request whose connection is gone is freed by reply_end; one whose
	 * connection is being freed right now is freed by libevent */
	if (!client_gone || !c)
		evhttp_send_reply_end(s->req);
	free(s);
}

static void stream_closecb(struct evhttp_connection *c, void *arg)
{
	(void)c;
	api_stream *s = arg;
	sw_debug("api: stream client left (connection closed)");
	stream_destroy(s, true);
}

static void stream_reap(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sw_api *api = arg;
	api_stream *s = api->streams;
	while (s) {
		api_stream *next = s->next;
		if (s->closed)
			stream_destroy(s, false);
		s = next;
	}
}

/* Is the client still there? A closed socket reads EOF. */
static void stream_probe(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	api_stream *s = arg;
	struct evhttp_connection *c = evhttp_request_get_connection(s->req);
	struct bufferevent *bev = c ? evhttp_connection_get_bufferevent(c) : NULL;
	evutil_socket_t sock = bev ? bufferevent_getfd(bev) : -1;
	bool gone = sock < 0;
	if (!gone) {
		char ch;
		ssize_t n = recv(sock, &ch, 1, MSG_PEEK | MSG_DONTWAIT);
		gone = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
	}
	if (gone) {
		sw_debug("api: stream client left (probe, fd %d)", (int)sock);
		api_stream_close(s);
	}
}

void api_stream_close(api_stream *s)
{
	if (s->closed)
		return;
	s->closed = true;
	event_active(s->api->reaper, 0, 0);
}

api_stream *api_stream_start(api_req *r, const char *content_type, api_stream_free_fn free_fn,
                             void *data)
{
	api_stream *s = sw_xcalloc(1, sizeof(*s));
	s->api = r->api;
	s->req = r->req;
	s->free_fn = free_fn;
	s->data = data;
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	evhttp_add_header(h, "Content-Type", content_type);
	evhttp_add_header(h, "Cache-Control", "no-cache, private");
	sw_debug("api: %s %s -> 200 (stream)", r->method_name, evhttp_request_get_uri(r->req));
	evhttp_send_reply_start(r->req, 200, "OK");
	struct evhttp_connection *c = evhttp_request_get_connection(r->req);
	if (c)
		evhttp_connection_set_closecb(c, stream_closecb, s);
	s->probe = event_new(r->api->base, -1, EV_PERSIST, stream_probe, s);
	struct timeval tv = { STREAM_PROBE_SECONDS, 0 };
	event_add(s->probe, &tv);
	s->next = r->api->streams;
	r->api->streams = s;
	return s;
}

bool api_stream_send(api_stream *s, const char *data, size_t len)
{
	if (s->closed)
		return false;
	struct evhttp_connection *c = evhttp_request_get_connection(s->req);
	struct bufferevent *bev = c ? evhttp_connection_get_bufferevent(c) : NULL;
	if (!bev) {
		api_stream_close(s);
		return false;
	}
	if (evbuffer_get_length(bufferevent_get_output(bev)) > STREAM_MAX_BACKLOG) {
		sw_warn("api: a stream's client is too far behind; ending it");
		api_stream_close(s);
		return false;
	}
	struct evbuffer *b = evbuffer_new();
	evbuffer_add(b, data, len);
	evhttp_send_reply_chunk(s->req, b);
	evbuffer_free(b);
	return true;
}

/* ---- the request callback ---------------------------------------------------- */

static const char *method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_PATCH:
		return "PATCH";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	case EVHTTP_REQ_OPTIONS:
		return "OPTIONS";
	default:
		return "?";
	}
}

static bool authorized(sw_api *api, struct evhttp_request *req)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	const char *tok = h + 7;
	while (*tok == ' ')
		tok++;
	cleanup_free char *name = NULL;
	if (!sw_token_check(api->state_dir, tok, &name))
		return false;
	sw_debug("api: token %s", name);
	return true;
}

static void handle(api_req *r)
{
	sw_api *api = r->api;
	cleanup_error sw_error *err = NULL;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	if (!path || api_route_parse(&r->route, path, &err) < 0) {
		if (sw_error_code(err) == SW_ENOTFOUND || !err)
			api_reply_fail(r, 404, "NotFound", NULL, NULL,
			               "the server could not find the requested resource");
		else
			api_reply_fail(r, 400, "BadRequest", NULL, NULL, "%s", err->msg);
		return;
	}
	const char *accept = evhttp_find_header(evhttp_request_get_input_headers(r->req), "Accept");
	r->table = accept && strstr(accept, "as=Table") && strstr(accept, "g=meta.k8s.io");
	const char *dry = api_query(r, "dryRun");
	r->dry_run = dry && strcmp(dry, "All") == 0;
	if (dry && !r->dry_run) {
		api_reply_fail(r, 400, "BadRequest", NULL, NULL,
		               "dryRun: unsupported value \"%s\": supported values: \"All\"", dry);
		return;
	}
	bool read = r->method == EVHTTP_REQ_GET || r->method == EVHTTP_REQ_HEAD;
	switch (r->route.type) {
	case ROUTE_VERSION:
	case ROUTE_HEALTH:
	case ROUTE_API:
	case ROUTE_APIS:
	case ROUTE_GROUP:
	case ROUTE_RESOURCES:
	case ROUTE_OPENAPI: {
		if (!read) {
			api_reply_fail(r, 405, "MethodNotAllowed", NULL, NULL,
			               "the server does not allow this method on the requested resource");
			return;
		}
		json_t *doc = NULL;
		switch (r->route.type) {
		case ROUTE_VERSION:
			doc = api_discovery_version();
			break;
		case ROUTE_HEALTH: {
			/* plain "ok", as the Kubernetes API server answers */
			struct evbuffer *b = evbuffer_new();
			evbuffer_add(b, "ok", 2);
			evhttp_add_header(evhttp_request_get_output_headers(r->req), "Content-Type",
			                  "text/plain; charset=utf-8");
			evhttp_send_reply(r->req, 200, "OK", b);
			evbuffer_free(b);
			return;
		}
		case ROUTE_API:
		case ROUTE_APIS:
			/* kubectl 1.32 asks for the aggregated form first */
			if (accept && strstr(accept, "as=APIGroupDiscoveryList") &&
			    strstr(accept, "g=apidiscovery.k8s.io;v=v2;")) {
				api_reply_json_ct(r, 200,
				                  api_discovery_aggregated(r->route.type == ROUTE_API),
				                  API_AGGREGATED_CT);
				return;
			}
			doc = r->route.type == ROUTE_API ? api_discovery_api() : api_discovery_apis();
			break;
		case ROUTE_GROUP:
			doc = api_discovery_group(r->route.group);
			break;
		case ROUTE_RESOURCES:
			doc = api_discovery_resources(r->route.group, r->route.version);
			break;
		case ROUTE_OPENAPI:
			if (strcmp(r->route.sub, "index") == 0)
				doc = api_openapi_index();
			else if (strcmp(r->route.sub, "gv") == 0)
				doc = api_openapi_gv(r->route.group, r->route.version);
			break;
		default:
			break;
		}
		if (!doc) {
			api_reply_fail(r, 404, "NotFound", NULL, NULL,
			               "the server could not find the requested resource");
			return;
		}
		api_reply_json(r, 200, doc);
		return;
	}
	case ROUTE_METRICS:
		if (!read) {
			api_reply_fail(r, 405, "MethodNotAllowed", NULL, NULL,
			               "the server does not allow this method on the requested resource");
			return;
		}
		api_handle_metrics(r);
		return;
	case ROUTE_COLLECTION: {
		const char *w = api_query(r, "watch");
		bool watch = r->route.watch_prefix ||
		             (w && (strcmp(w, "1") == 0 || strcmp(w, "true") == 0));
		if (watch) {
			if (!read) {
				api_reply_fail(r, 405, "MethodNotAllowed", NULL, NULL,
				               "the server does not allow this method on the requested resource");
				return;
			}
			api_handle_watch(r);
			return;
		}
		api_handle_collection(r);
		return;
	}
	case ROUTE_OBJECT:
		if (r->route.watch_prefix) {
			/* /api/v1/watch/namespaces/NS/pods/NAME: a watch of one name */
			if (!read) {
				api_reply_fail(r, 405, "MethodNotAllowed", NULL, NULL,
				               "the server does not allow this method on the requested resource");
				return;
			}
			api_handle_watch(r);
			return;
		}
		if (strcmp(r->route.sub, "log") == 0) {
			if (!read)
				api_reply_fail(r, 405, "MethodNotAllowed", NULL, NULL,
				               "the server does not allow this method on the requested resource");
			else
				api_handle_pod_log(r);
			return;
		}
		if (strcmp(r->route.sub, "exec") == 0) {
			api_handle_pod_exec(r);
			return;
		}
		api_handle_object(r);
		return;
	}
	(void)api;
}

static void request_cb(struct evhttp_request *req, void *arg, bool tcp)
{
	sw_api *api = arg;
	api_req r = { 0 };
	r.api = api;
	r.req = req;
	r.method = (int)evhttp_request_get_command(req);
	r.method_name = method_name((enum evhttp_cmd_type)r.method);
	if (tcp && !authorized(api, req)) {
		api_reply_json(&r, 401, api_status_failure(401, "Unauthorized", "Unauthorized", NULL,
		                                           NULL, NULL));
		return;
	}
	struct evkeyvalq query;
	TAILQ_INIT(&query);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *q = uri ? evhttp_uri_get_query(uri) : NULL;
	if (q && evhttp_parse_query_str(q, &query) < 0) {
		api_reply_fail(&r, 400, "BadRequest", NULL, NULL, "malformed query string");
		return;
	}
	r.query = &query;
	handle(&r);
	evhttp_clear_headers(&query);
}

static void unix_cb(struct evhttp_request *req, void *arg)
{
	request_cb(req, arg, false);
}

static void tcp_cb(struct evhttp_request *req, void *arg)
{
	request_cb(req, arg, true);
}

/* ---- lifecycle --------------------------------------------------------------- */

static struct evhttp *new_http(sw_api *api, void (*cb)(struct evhttp_request *, void *))
{
	struct evhttp *h = evhttp_new(api->base);
	if (!h)
		return NULL;
	evhttp_set_allowed_methods(h, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	                                      EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE |
	                                      EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS);
	/* bodies past max_body get a 413 Status from api_read_raw; libevent's
	 * own limit (a plain 413) only stops what is far larger */
	evhttp_set_max_body_size(h, (ev_ssize_t)(api->max_body * 4));
	evhttp_set_max_headers_size(h, 64 * 1024);
	evhttp_set_gencb(h, cb, api);
	return h;
}

int sw_api_new(sw_api **out, struct event_base *base, sw_store *store, const sw_api_opts *opts,
               sw_error **err)
{
	sw_api *api = sw_xcalloc(1, sizeof(*api));
	api->base = base;
	api->store = store;
	api->state_dir = sw_xstrdup(opts && opts->state_dir ? opts->state_dir : ".");
	api->max_body = opts && opts->max_body ? opts->max_body : API_DEFAULT_MAX_BODY;
	api->reaper = event_new(base, -1, 0, stream_reap, api);
	if (!api->reaper) {
		free(api->state_dir);
		free(api);
		return sw_error_set(err, SW_EFAIL, "api: cannot make an event");
	}
	*out = api;
	return 0;
}

void sw_api_free(sw_api *api)
{
	if (!api)
		return;
	while (api->streams)
		stream_destroy(api->streams, false);
	api_exec_cancel_all(api);
	if (api->unix_http)
		evhttp_free(api->unix_http);
	if (api->tcp_http)
		evhttp_free(api->tcp_http);
	if (api->tls_http)
		evhttp_free(api->tls_http);
	if (api->ssl_ctx)
		SSL_CTX_free(api->ssl_ctx);
	if (api->unix_path) {
		unlink(api->unix_path);
		free(api->unix_path);
	}
	event_free(api->reaper);
	free(api->state_dir);
	free(api);
}

void sw_api_set_admit(sw_api *api, sw_api_admit_fn fn, void *ctx)
{
	api->admit = fn;
	api->admit_ctx = ctx;
}

void sw_api_set_exec(sw_api *api, sw_api_exec_fn fn, void *ctx)
{
	api->exec = fn;
	api->exec_ctx = ctx;
}

void sw_api_set_exec_async(sw_api *api, sw_api_exec_async_fn fn, void *ctx)
{
	api->exec_async = fn;
	api->exec_async_ctx = ctx;
}

void sw_api_set_metrics(sw_api *api, sw_api_metrics_fn fn, void *ctx)
{
	api->metrics = fn;
	api->metrics_ctx = ctx;
}

/* Is something answering on the socket at path? */
static bool socket_alive(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	memcpy(sa.sun_path, path, strlen(path) + 1);
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	return connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
}

int sw_api_listen_unix(sw_api *api, const char *path, sw_error **err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return sw_error_set(err, SW_EINVALID, "socket path %s is too long (at most %zu bytes)",
		                    path, sizeof(sa.sun_path) - 1);
	if (api->unix_http)
		return sw_error_set(err, SW_EEXISTS, "api: already listening on %s", api->unix_path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return sw_error_set(err, SW_EEXISTS, "%s exists and is not a socket", path);
		if (socket_alive(path))
			return sw_error_set(err, SW_EEXISTS,
			                    "%s: another server is listening on it (is slipwayd running?)",
			                    path);
		if (unlink(path) < 0 && errno != ENOENT)
			return sw_error_set_errno(err, errno, "removing stale socket %s", path);
		sw_info("removed a stale socket %s", path);
	}
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return sw_error_set_errno(err, errno, "socket");
	/* 0600 from birth: no window in which another user could connect */
	mode_t old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	int e = errno;
	umask(old);
	if (rc < 0)
		return sw_error_set_errno(err, e, "bind %s", path);
	if (listen(fd, 128) < 0) {
		e = errno;
		unlink(path);
		return sw_error_set_errno(err, e, "listen %s", path);
	}
	struct evhttp *h = new_http(api, unix_cb);
	if (!h || evhttp_accept_socket_with_handle(h, fd) == NULL) {
		if (h)
			evhttp_free(h);
		unlink(path);
		return sw_error_set(err, SW_EFAIL, "api: cannot serve %s", path);
	}
	steal_fd(&fd); /* evhttp owns it now */
	api->unix_http = h;
	api->unix_path = sw_xstrdup(path);
	return 0;
}

static int listen_inet(sw_api *api, const char *host, int port, bool tls, int *bound_port,
                       sw_error **err)
{
	struct evhttp **slot = tls ? &api->tls_http : &api->tcp_http;
	if (*slot)
		return sw_error_set(err, SW_EEXISTS, "api: already listening on %s",
		                    tls ? "https" : "http");
	if (port < 0 || port > 65535)
		return sw_error_set(err, SW_EINVALID, "bad port %d", port);
	if (tls && !api->ssl_ctx && api_tls_context(&api->ssl_ctx, api->state_dir, err) < 0)
		return SW_EFAIL;
	if (!tls && strcmp(host, "127.0.0.1") != 0 && strcmp(host, "::1") != 0 &&
	    strcmp(host, "localhost") != 0)
		sw_warn("api: plain HTTP on %s: bearer tokens cross the network in clear; prefer "
		        "https://",
		        host);
	struct evhttp *h = new_http(api, tcp_cb);
	if (!h)
		return sw_error_set(err, SW_EFAIL, "api: cannot make an HTTP server");
	if (tls)
		api_tls_attach(h, api->ssl_ctx);
	struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(h, host, (ev_uint16_t)port);
	if (!bs) {
		int e = errno;
		evhttp_free(h);
		return sw_error_set_errno(err, e, "listen on %s:%d", host, port);
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int bp = port;
	if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET)
			bp = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			bp = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	*slot = h;
	if (bound_port)
		*bound_port = bp;
	return 0;
}

int sw_api_listen_tcp(sw_api *api, const char *host, int port, int *bound_port, sw_error **err)
{
	return listen_inet(api, host, port, false, bound_port, err);
}

int sw_api_listen_tls(sw_api *api, const char *host, int port, int *bound_port, sw_error **err)
{
	return listen_inet(api, host, port, true, bound_port, err);
}

int sw_api_parse_listen(const char *spec, char **host, int *port, bool *tls, sw_error **err)
{
	const char *p = spec;
	static const struct {
		const char *scheme;
		bool tls;
	} schemes[] = { { "tcp://", false }, { "http://", false }, { "https://", true },
		        { "tls://", true } };
	bool found = false;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strncmp(p, schemes[i].scheme, strlen(schemes[i].scheme)) == 0) {
			p += strlen(schemes[i].scheme);
			*tls = schemes[i].tls;
			found = true;
			break;
		}
	if (!found)
		return sw_error_set(err, SW_EINVALID,
		                    "--listen %s: expected tcp://HOST:PORT or https://HOST:PORT", spec);
	const char *colon = strrchr(p, ':');
	if (!colon || colon == p)
		return sw_error_set(err, SW_EINVALID, "--listen %s: expected HOST:PORT", spec);
	char *end;
	errno = 0;
	long v = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || v < 0 || v > 65535)
		return sw_error_set(err, SW_EINVALID, "--listen %s: bad port", spec);
	const char *h = p;
	size_t hl = (size_t)(colon - p);
	if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	*host = sw_xstrndup(h, hl);
	*port = (int)v;
	return 0;
}
