/*
 * api_pods.c - the pod subresources that are not documents: logs (read
 * from the CRI-format files the shim writes under STATE/pods/<uid>/), exec
 * (slipway's own non-interactive form, through the node agent's hook) and
 * metrics.k8s.io PodMetrics (CPU and memory through the agent's hook).
 *
 * kubectl exec/attach/port-forward need a SPDY or websocket upgrade, which
 * slipwayd does not serve: they get a 400 saying so.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <sys/queue.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_int.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/log.h"
#include "slipway/mem.h"
#include "slipway/object.h"

/* The most of a log file read at once (the shim rotates at 10 MiB). */
#define LOG_READ_MAX ((off_t)24 * 1024 * 1024)
#define LOG_POLL_MS 250
#define LOG_POD_CHECK_TICKS 4
#define EXEC_DEFAULT_TIMEOUT_MS 60000

static const sw_kind *pod_kind(void)
{
	return sw_kind_by_resource("", "pods");
}

/* The container a request means: ?container=, or the only one. 400 and
 * NULL otherwise. */
static const char *pick_container(api_req *r, const json_t *pod)
{
	const char *want = api_query(r, "container");
	json_t *cs = sw_obj_path(pod, "spec.containers");
	size_t i;
	json_t *c;
	if (want && *want) {
		json_array_foreach(cs, i, c) {
			const char *n = json_string_value(json_object_get(c, "name"));
			if (n && strcmp(n, want) == 0)
				return n;
		}
		json_array_foreach(sw_obj_path(pod, "spec.initContainers"), i, c) {
			const char *n = json_string_value(json_object_get(c, "name"));
			if (n && strcmp(n, want) == 0)
				return n;
		}
		api_reply_fail(r, 400, "BadRequest", NULL, NULL,
		               "container %s is not valid for pod %s", want, r->route.name);
		return NULL;
	}
	if (json_array_size(cs) == 1)
		return json_string_value(json_object_get(json_array_get(cs, 0), "name"));
	sw_buf b = SW_BUF_INIT(0);
	json_array_foreach(cs, i, c) {
		const char *n = json_string_value(json_object_get(c, "name"));
		sw_buf_printf(&b, NULL, "%s%s", i ? " " : "", n ? n : "");
	}
	cleanup_free char *names = sw_buf_detach(&b);
	api_reply_fail(r, 400, "BadRequest", NULL, NULL,
	               "a container name must be specified for pod %s, choose one of: [%s]",
	               r->route.name, names);
	return NULL;
}

static int get_pod(api_req *r, json_t **pod)
{
	cleanup_error sw_error *err = NULL;
	if (sw_store_get(r->api->store, pod_kind(), r->route.ns, r->route.name, pod, &err) < 0) {
		api_reply_error(r, err, pod_kind(), r->route.name);
		return -1;
	}
	return 0;
}

/* ---- logs -------------------------------------------------------------------- */

typedef struct log_fmt {
	bool timestamps;
	time_t since;          /* records before are skipped; 0: none */
	bool at_line_start;
} log_fmt;

/* One CRI record (without its newline) to out:
 * "2026-11-28T00:11:06.123456789Z stdout F text". */
static void cri_emit(sw_buf *out, const char *line, size_t len, log_fmt *f)
{
	const char *sp1 = memchr(line, ' ', len);
	const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line)) : NULL;
	const char *sp3 = sp2 ? memchr(sp2 + 1, ' ', len - (size_t)(sp2 + 1 - line)) : NULL;
	char tag = sp2 && sp2 + 1 < line + len ? sp2[1] : 0;
	if (!sp1 || !sp2 || (tag != 'F' && tag != 'P')) {
		/* not CRI: pass the line through */
		sw_buf_add(out, line, len, NULL);
		sw_buf_addc(out, '\n', NULL);
		f->at_line_start = true;
		return;
	}
	const char *text = sp3 ? sp3 + 1 : line + len;
	size_t tlen = (size_t)(line + len - text);
	if (f->since) {
		char ts[64];
		size_t n = (size_t)(sp1 - line);
		if (n < sizeof(ts)) {
			memcpy(ts, line, n);
			ts[n] = '\0';
			time_t t = sw_time_parse(ts);
			if (t != (time_t)-1 && t < f->since)
				return;
		}
	}
	if (f->timestamps && f->at_line_start) {
		sw_buf_add(out, line, (size_t)(sp1 - line), NULL);
		sw_buf_addc(out, ' ', NULL);
	}
	sw_buf_add(out, text, tlen, NULL);
	if (tag == 'F') {
		sw_buf_addc(out, '\n', NULL);
		f->at_line_start = true;
	} else {
		f->at_line_start = false;
	}
}

/* Complete records in data[0..len) to out; returns the bytes consumed. */
static size_t cri_emit_all(sw_buf *out, const char *data, size_t len, log_fmt *f)
{
	size_t off = 0;
	while (off < len) {
		const char *nl = memchr(data + off, '\n', len - off);
		if (!nl)
			break;
		cri_emit(out, data + off, (size_t)(nl - (data + off)), f);
		off = (size_t)(nl - data) + 1;
	}
	return off;
}

/* Appends a whole file (at most its last LOG_READ_MAX bytes); missing is
 * not an error. *end gets the offset read to and *ino the inode. */
static void read_log_file(sw_buf *out, const char *path, log_fmt *f, off_t *end, ino_t *ino)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (end)
		*end = 0;
	if (fd < 0)
		return;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return;
	off_t start = st.st_size > LOG_READ_MAX ? st.st_size - LOG_READ_MAX : 0;
	size_t n = (size_t)(st.st_size - start);
	cleanup_free char *data = sw_xmalloc(n + 1);
	ssize_t got = pread(fd, data, n, start);
	if (got < 0)
		return;
	size_t used = cri_emit_all(out, data, (size_t)got, f);
	if (end)
		*end = start + (off_t)used;
	if (ino)
		*ino = st.st_ino;
}

/* The last n lines of b (in place). */
static void keep_tail(sw_buf *b, long long n)
{
	if (n < 0 || b->len == 0)
		return;
	size_t i = b->len;
	if (b->data[i - 1] == '\n')
		i--;
	long long seen = 0;
	while (i > 0) {
		if (b->data[i - 1] == '\n' && ++seen == n)
			break;
		i--;
	}
	if (n == 0)
		i = b->len;
	memmove(b->data, b->data + i, b->len - i);
	sw_buf_truncate(b, b->len - i);
}

typedef struct log_follow {
	api_stream *s;
	sw_api *api;
	char *path;
	char *ns, *name, *uid;
	off_t off;
	ino_t ino;
	bool have_ino;
	log_fmt fmt;
	sw_buf partial;   /* a record not yet ended by its newline */
	unsigned ticks;
} log_follow;

static void follow_free(api_stream *s)
{
	log_follow *lf = s->data;
	free(lf->path);
	free(lf->ns);
	free(lf->name);
	free(lf->uid);
	sw_buf_release(&lf->partial);
	free(lf);
}

/* Reads what was added to the file (or the new file after a rotation). */
static void follow_read(log_follow *lf)
{
	struct stat st;
	if (stat(lf->path, &st) < 0)
		return;
	if (lf->have_ino && (st.st_ino != lf->ino || st.st_size < lf->off)) {
		/* rotated or replaced: start at the top of the new file */
		lf->off = 0;
		sw_buf_truncate(&lf->partial, 0);
	}
	lf->ino = st.st_ino;
	lf->have_ino = true;
	if (st.st_size <= lf->off)
		return;
	cleanup_close int fd = open(lf->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	size_t n = (size_t)(st.st_size - lf->off);
	if (n > (size_t)4 * 1024 * 1024)
		n = (size_t)4 * 1024 * 1024;
	cleanup_free char *data = sw_xmalloc(n);
	ssize_t got = pread(fd, data, n, lf->off);
	if (got <= 0)
		return;
	lf->off += got;
	if (sw_buf_add(&lf->partial, data, (size_t)got, NULL) < 0) {
		sw_buf_truncate(&lf->partial, 0);
		return;
	}
	sw_buf out = SW_BUF_INIT(0);
	size_t used = cri_emit_all(&out, lf->partial.data, lf->partial.len, &lf->fmt);
	memmove(lf->partial.data, lf->partial.data + used, lf->partial.len - used);
	sw_buf_truncate(&lf->partial, lf->partial.len - used);
	if (out.len)
		api_stream_send(lf->s, out.data, out.len);
	sw_buf_release(&out);
}

static void follow_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	log_follow *lf = arg;
	if (lf->s->closed)
		return;
	follow_read(lf);
	if (++lf->ticks % LOG_POD_CHECK_TICKS == 0) {
		/* the stream ends when the pod goes */
		json_t *pod = NULL;
		sw_error *err = NULL;
		bool gone = sw_store_get(lf->api->store, pod_kind(), lf->ns, lf->name, &pod, &err) < 0 ||
		            !sw_obj_uid(pod) || strcmp(sw_obj_uid(pod), lf->uid) != 0;
		sw_error_free(err);
		json_decref(pod);
		if (gone) {
			follow_read(lf);
			api_stream_close(lf->s);
		}
	}
}

static long long query_int(api_req *r, const char *key, long long def, bool *bad)
{
	const char *v = api_query(r, key);
	if (!v || !*v)
		return def;
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (errno || *end || n < 0) {
		*bad = true;
		api_reply_fail(r, 400, "BadRequest", NULL, NULL, "%s: invalid value \"%s\"", key, v);
		return def;
	}
	return n;
}

static bool query_bool(api_req *r, const char *key)
{
	const char *v = api_query(r, key);
	return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

void api_handle_pod_log(api_req *r)
{
	cleanup_json json_t *pod = NULL;
	if (get_pod(r, &pod) < 0)
		return;
	const char *ctr = pick_container(r, pod);
	if (!ctr)
		return;
	bool bad = false;
	long long tail = query_int(r, "tailLines", -1, &bad);
	long long limit = bad ? 0 : query_int(r, "limitBytes", 0, &bad);
	long long since = bad ? 0 : query_int(r, "sinceSeconds", 0, &bad);
	if (bad)
		return;
	bool previous = query_bool(r, "previous");
	bool follow = query_bool(r, "follow") && !previous;
	log_fmt fmt = { .timestamps = query_bool(r, "timestamps"), .at_line_start = true };
	if (since > 0)
		fmt.since = time(NULL) - (time_t)since;
	const char *st = api_query(r, "sinceTime");
	if (st && *st) {
		time_t t = sw_time_parse(st);
		if (t == (time_t)-1) {
			api_reply_fail(r, 400, "BadRequest", NULL, NULL, "sinceTime: invalid value \"%s\"", st);
			return;
		}
		fmt.since = t;
	}
	const char *uid = sw_obj_uid(pod);
	cleanup_free char *dir = sw_xasprintf("%s/pods/%s/%s", r->api->state_dir, uid ? uid : "", ctr);
	cleanup_free char *path = sw_xasprintf("%s/%s", dir, previous ? "previous.log" : "log");
	struct stat sb;
	if (stat(path, &sb) < 0) {
		if (previous)
			api_reply_fail(r, 400, "BadRequest", NULL, NULL,
			               "previous terminated container \"%s\" in pod \"%s\" not found", ctr,
			               r->route.name);
		else
			api_reply_fail(r, 400, "BadRequest", NULL, NULL,
			               "container \"%s\" in pod \"%s\" is waiting to start: "
			               "ContainerCreating",
			               ctr, r->route.name);
		return;
	}
	sw_buf out = SW_BUF_INIT(0);
	if (!previous) {
		cleanup_free char *rotated = sw_xasprintf("%s/log.1", dir);
		read_log_file(&out, rotated, &fmt, NULL, NULL);
	}
	off_t end = 0;
	ino_t ino = 0;
	read_log_file(&out, path, &fmt, &end, &ino);
	keep_tail(&out, tail);
	if (limit > 0 && out.len > (size_t)limit)
		sw_buf_truncate(&out, (size_t)limit);
	if (!follow) {
		struct evbuffer *b = evbuffer_new();
		if (out.len)
			evbuffer_add(b, out.data, out.len);
		evhttp_add_header(evhttp_request_get_output_headers(r->req), "Content-Type",
		                  "text/plain");
		sw_debug("api: GET %s -> 200", evhttp_request_get_uri(r->req));
		evhttp_send_reply(r->req, 200, "OK", b);
		evbuffer_free(b);
		sw_buf_release(&out);
		return;
	}
	log_follow *lf = sw_xcalloc(1, sizeof(*lf));
	lf->api = r->api;
	lf->path = steal_pointer(&path);
	lf->ns = sw_xstrdup(r->route.ns);
	lf->name = sw_xstrdup(r->route.name);
	lf->uid = sw_xstrdup(uid ? uid : "");
	lf->off = end;
	lf->ino = ino;
	lf->have_ino = true;
	lf->fmt = fmt;
	lf->partial = (sw_buf)SW_BUF_INIT((size_t)1024 * 1024);
	lf->s = api_stream_start(r, "text/plain", follow_free, lf);
	if (out.len)
		api_stream_send(lf->s, out.data, out.len);
	sw_buf_release(&out);
	lf->s->timer = event_new(r->api->base, -1, EV_PERSIST, follow_tick, lf);
	struct timeval tv = { 0, LOG_POLL_MS * 1000 };
	event_add(lf->s->timer, &tv);
}

/* ---- exec ---------------------------------------------------------------------- */

/* A JSON string of bytes that may not be UTF-8: bad bytes become U+FFFD. */
static json_t *json_bytes(const char *s, size_t n)
{
	json_t *j = json_stringn(s ? s : "", s ? n : 0);
	if (j)
		return j;
	sw_buf b = SW_BUF_INIT(0);
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t len = p[i] < 0x80 ? 1 : (p[i] >> 5) == 6 ? 2 : (p[i] >> 4) == 14 ? 3
		                              : (p[i] >> 3) == 30 ? 4 : 0;
		bool ok = len > 0 && i + len <= n && p[i] != 0;
		for (size_t k = 1; ok && k < len; k++)
			ok = (p[i + k] & 0xc0) == 0x80;
		if (ok && len > 1) {
			json_t *t = json_stringn(s + i, len);
			ok = t != NULL;
			json_decref(t);
		}
		if (ok) {
			sw_buf_add(&b, s + i, len, NULL);
			i += len;
		} else {
			sw_buf_addstr(&b, "\xef\xbf\xbd", NULL);
			i++;
		}
	}
	char *str = sw_buf_detach(&b);
	j = json_string(str);
	free(str);
	return j ? j : json_string("");
}

struct api_exec {
	api_exec *next;
	sw_api *api;          /* NULL once the API is gone */
	struct evhttp_request *req;
};

static void exec_unlink(api_exec *x)
{
	if (!x->api)
		return;
	for (api_exec **p = &x->api->execs; *p; p = &(*p)->next)
		if (*p == x) {
			*p = x->next;
			break;
		}
}

static void exec_reply_error(api_req *r, const sw_error *err)
{
	json_t *st = api_status_from_error(err, NULL, NULL);
	int code = (int)json_integer_value(json_object_get(st, "code"));
	if (code == 422 || code == 404 || code == 409) {
		/* the container is not running, or the command is missing */
		json_object_set_new(st, "code", json_integer(400));
		json_object_set_new(st, "reason", json_string("BadRequest"));
		code = 400;
	}
	api_reply_json(r, code, st);
}

static void exec_reply(api_req *r, int exit_code, const char *out, size_t out_len,
                       const char *errout, size_t errout_len)
{
	api_reply_json(r, 200,
	               json_pack("{s:i, s:o, s:o}", "exitCode", exit_code, "stdout",
	                         json_bytes(out, out_len), "stderr", json_bytes(errout, errout_len)));
}

static void exec_done(void *done_ctx, int exit_code, const char *out, size_t out_len,
                      const char *errout, size_t errout_len, const sw_error *err)
{
	api_exec *x = done_ctx;
	if (x->api) {
		api_req r = { .api = x->api, .req = x->req, .method_name = "POST" };
		if (err)
			exec_reply_error(&r, err);
		else
			exec_reply(&r, exit_code, out, out_len, errout, errout_len);
		exec_unlink(x);
	}
	free(x);
}

void api_exec_cancel_all(sw_api *api)
{
	/* The hooks still call back later; the entries are freed then. */
	for (api_exec *x = api->execs; x; x = x->next)
		x->api = NULL;
	api->execs = NULL;
}

void api_handle_pod_exec(api_req *r)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(r->req);
	const char *upgrade = evhttp_find_header(in, "Upgrade");
	if (upgrade) {
		api_reply_fail(r, 400, "BadRequest", NULL, NULL,
		               "slipwayd does not serve interactive exec (%s upgrade); use `slipway exec "
		               "POD -- CMD`",
		               upgrade);
		return;
	}
	if (r->method != EVHTTP_REQ_POST) {
		api_reply_fail(r, 405, "MethodNotAllowed", NULL, NULL,
		               "the server does not allow this method on the requested resource");
		return;
	}
	/* command=a&command=b: every value in order */
	size_t n = 0;
	struct evkeyval *kv;
	TAILQ_FOREACH(kv, r->query, next)
		if (strcmp(kv->key, "command") == 0)
			n++;
	if (n == 0) {
		api_reply_fail(r, 400, "BadRequest", NULL, NULL,
		               "you must specify at least one command for the container");
		return;
	}
	cleanup_free const char **argv = sw_xcalloc(n + 1, sizeof(*argv));
	n = 0;
	TAILQ_FOREACH(kv, r->query, next)
		if (strcmp(kv->key, "command") == 0)
			argv[n++] = kv->value;
	if (!r->api->exec && !r->api->exec_async) {
		api_reply_fail(r, 503, "ServiceUnavailable", NULL, NULL,
		               "exec is not available: no node agent");
		return;
	}
	cleanup_json json_t *pod = NULL;
	if (get_pod(r, &pod) < 0)
		return;
	const char *phase = sw_obj_str(pod, "status.phase");
	if (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0)) {
		api_reply_fail(r, 400, "BadRequest", NULL, NULL,
		               "cannot exec into a container in a completed pod; current phase is %s",
		               phase);
		return;
	}
	const char *ctr = pick_container(r, pod);
	if (!ctr)
		return;
	bool bad = false;
	long long timeout = query_int(r, "timeoutSeconds", 0, &bad);
	if (bad)
		return;
	cleanup_free char *data = NULL;
	size_t len = 0;
	if (api_read_raw(r, &data, &len) < 0)
		return;
	cleanup_error sw_error *err = NULL;
	int tmo = timeout > 0 && timeout < 86400 ? (int)timeout * 1000 : EXEC_DEFAULT_TIMEOUT_MS;
	if (!r->api->exec_async) {
		int code = 0;
		cleanup_free char *out = NULL, *errout = NULL;
		size_t out_len = 0, errout_len = 0;
		if (r->api->exec(r->api->exec_ctx, pod, ctr, argv, data, len, &code, &out, &out_len,
		                 &errout, &errout_len, &err) < 0)
			exec_reply_error(r, err);
		else
			exec_reply(r, code, out, out_len, errout, errout_len);
		return;
	}
	api_exec *x = sw_xcalloc(1, sizeof(*x));
	x->api = r->api;
	x->req = r->req;
	x->next = r->api->execs;
	r->api->execs = x;
	if (r->api->exec_async(r->api->exec_async_ctx, pod, ctr, argv, data, len, tmo, exec_done, x,
	                       &err) < 0) {
		exec_unlink(x);
		free(x);
		exec_reply_error(r, err);
	}
}

/* ---- metrics.k8s.io ----------------------------------------------------------------- */

/* PodMetrics of a running pod, or NULL when none of its containers has
 * figures. */
static json_t *pod_metrics(sw_api *api, const json_t *pod)
{
	const char *phase = sw_obj_str(pod, "status.phase");
	if (!phase || strcmp(phase, "Running") != 0)
		return NULL;
	json_t *ctrs = json_array();
	size_t i;
	json_t *c;
	json_array_foreach(sw_obj_path(pod, "spec.containers"), i, c) {
		const char *name = json_string_value(json_object_get(c, "name"));
		if (!name)
			continue;
		uint64_t cpu = 0, mem = 0;
		sw_error *err = NULL;
		if (api->metrics(api->metrics_ctx, pod, name, &cpu, &mem, &err) < 0) {
			sw_error_free(err);
			continue;
		}
		char cpu_s[32], mem_s[32];
		snprintf(cpu_s, sizeof(cpu_s), "%lun", (unsigned long)cpu);
		snprintf(mem_s, sizeof(mem_s), "%luKi", (unsigned long)(mem / 1024));
		json_array_append_new(ctrs, json_pack("{s:s, s:{s:s, s:s}}", "name", name, "usage",
		                                      "cpu", cpu_s, "memory", mem_s));
	}
	if (json_array_size(ctrs) == 0) {
		json_decref(ctrs);
		return NULL;
	}
	char now[32];
	sw_time_format(time(NULL), now);
	json_t *meta = json_pack("{s:s, s:s, s:s}", "name", sw_obj_name(pod) ? sw_obj_name(pod) : "",
	                         "namespace", sw_obj_namespace(pod) ? sw_obj_namespace(pod) : "",
	                         "creationTimestamp", now);
	json_t *labels = sw_obj_labels(pod);
	if (labels)
		json_object_set(meta, "labels", labels);
	return json_pack("{s:s, s:s, s:o, s:s, s:s, s:o}", "kind", "PodMetrics", "apiVersion",
	                 "metrics.k8s.io/v1beta1", "metadata", meta, "timestamp", now, "window",
	                 "10s", "containers", ctrs);
}

void api_handle_metrics(api_req *r)
{
	if (!r->api->metrics) {
		api_reply_fail(r, 503, "ServiceUnavailable", NULL, NULL,
		               "the server is currently unable to handle the request (metrics are not "
		               "available: no node agent)");
		return;
	}
	if (r->route.name[0]) {
		cleanup_json json_t *pod = NULL;
		cleanup_error sw_error *err = NULL;
		json_t *m = NULL;
		if (sw_store_get(r->api->store, pod_kind(), r->route.ns, r->route.name, &pod, &err) == 0)
			m = pod_metrics(r->api, pod);
		if (!m) {
			api_reply_fail(r, 404, "NotFound", NULL, r->route.name,
			               "podmetrics.metrics.k8s.io \"%s\" not found", r->route.name);
			return;
		}
		api_reply_json(r, 200, m);
		return;
	}
	api_filter f;
	if (api_list_filter_parse(r, &f) < 0)
		return;
	sw_list_opts o = { .ns = f.ns, .labels = f.labels, .name = f.has_name ? f.name : NULL };
	cleanup_json json_t *items = NULL;
	uint64_t rev;
	cleanup_free char *next = NULL;
	cleanup_error sw_error *err = NULL;
	int rc = sw_store_list(r->api->store, pod_kind(), &o, &items, &rev, &next, &err);
	api_filter_release(&f);
	if (rc < 0) {
		api_reply_error(r, err, pod_kind(), NULL);
		return;
	}
	json_t *out = json_array();
	size_t i;
	json_t *pod;
	json_array_foreach(items, i, pod) {
		json_t *m = pod_metrics(r->api, pod);
		if (m)
			json_array_append_new(out, m);
	}
	api_reply_json(r, 200, json_pack("{s:s, s:s, s:{}, s:o}", "kind", "PodMetricsList",
	                                 "apiVersion", "metrics.k8s.io/v1beta1", "metadata", "items",
	                                 out));
}
