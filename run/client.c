/*
 * client.c - the CLI's HTTP client for slipwayd (see client.h): libcurl
 * over the daemon's Unix socket or 127.0.0.1 TCP with a bearer token,
 * JSON bodies with a size limit, Status bodies turned into kubectl's
 * error lines, and a line-streaming GET for watches and log follow.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/client.h"
#include "slipway/json.h"
#include "slipway/mem.h"

struct sw_client {
	char *target;    /* as the user sees it */
	char *socket;    /* Unix socket path, or NULL */
	char *base;      /* "http://localhost" or "http://127.0.0.1:PORT" */
	char *auth;      /* "Authorization: Bearer ..." or NULL */
	char *cainfo;    /* https: the CA (slipwayd's self-signed certificate) */
};

static void curl_global(void)
{
	static bool done;

	if (!done) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		done = true;
	}
}

int sw_client_open(sw_client **out, const char *state_dir, sw_error **err)
{
	const char *host = getenv("SLIPWAY_HOST");
	const char *token = getenv("SLIPWAY_TOKEN");
	sw_client *c;

	curl_global();
	c = sw_xcalloc(1, sizeof(*c));
	if (host && *host) {
		if (!strncmp(host, "unix://", 7)) {
			if (host[7] != '/') {
				free(c);
				return sw_error_set(err, SW_EINVALID, "SLIPWAY_HOST %s: want unix:///absolute/path.sock", host);
			}
			c->socket = sw_xstrdup(host + 7);
		} else if (!strncmp(host, "http://", 7) || !strncmp(host, "https://", 8)) {
			size_t n = strlen(host);
			while (n > 8 && host[n - 1] == '/')
				n--;
			c->base = sw_xstrndup(host, n);
			if (host[4] == 's') {
				const char *ca = getenv("SLIPWAY_CACERT");
				if (ca && *ca)
					c->cainfo = sw_xstrdup(ca);
				else if (state_dir)
					c->cainfo = sw_xasprintf("%s/tls/server.crt", state_dir);
			}
		} else {
			free(c);
			return sw_error_set(err, SW_EINVALID,
			                    "SLIPWAY_HOST %s: want unix:///path.sock, http://127.0.0.1:PORT or https://127.0.0.1:PORT",
			                    host);
		}
	} else {
		if (!state_dir) {
			free(c);
			return sw_error_set(err, SW_EINVALID, "no state dir and no SLIPWAY_HOST");
		}
		c->socket = sw_xasprintf("%s/slipwayd.sock", state_dir);
	}
	if (c->socket) {
		c->target = sw_xasprintf("unix://%s", c->socket);
		c->base = sw_xstrdup("http://localhost");
	} else {
		c->target = sw_xstrdup(c->base);
		if (token && *token)
			c->auth = sw_xasprintf("Authorization: Bearer %s", token);
	}
	*out = c;
	return 0;
}

void sw_client_free(sw_client *c)
{
	if (!c)
		return;
	free(c->target);
	free(c->socket);
	free(c->base);
	free(c->cainfo);
	if (c->auth) {
		explicit_bzero(c->auth, strlen(c->auth));
		free(c->auth);
	}
	free(c);
}

const char *sw_client_target(const sw_client *c)
{
	return c->target;
}

/* ---- paths -------------------------------------------------------------- */

char *sw_client_path(const sw_kind *k, const char *ns, const char *name, const char *sub)
{
	sw_buf b = SW_BUF_INIT(0);

	if (k->group[0])
		sw_buf_printf(&b, NULL, "/apis/%s/%s", k->group, k->version);
	else
		sw_buf_printf(&b, NULL, "/api/%s", k->version);
	if (k->namespaced && ns && *ns)
		sw_buf_printf(&b, NULL, "/namespaces/%s", ns);
	sw_buf_printf(&b, NULL, "/%s", k->resource);
	if (name) {
		sw_buf_printf(&b, NULL, "/%s", name);
		if (sub)
			sw_buf_printf(&b, NULL, "/%s", sub);
	}
	return sw_buf_detach(&b);
}

char *sw_client_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	sw_buf b = SW_BUF_INIT(0);

	sw_buf_addstr(&b, "", NULL);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-_.~", *p)) {
			sw_buf_addc(&b, (char)*p, NULL);
		} else {
			sw_buf_addc(&b, '%', NULL);
			sw_buf_addc(&b, hex[*p >> 4], NULL);
			sw_buf_addc(&b, hex[*p & 15], NULL);
		}
	}
	return sw_buf_detach(&b);
}

/* ---- errors ------------------------------------------------------------- */

static int code_for_status(long http, const char *reason)
{
	if (reason && !strcmp(reason, "AlreadyExists"))
		return SW_EEXISTS;
	switch (http) {
	case 404:
		return SW_ENOTFOUND;
	case 409:
		return SW_ECONFLICT;
	case 400:
	case 422:
		return SW_EINVALID;
	case 401:
	case 403:
		return SW_EAUTH;
	case 410:
		return SW_EGONE;
	case 413:
		return SW_ETOOBIG;
	default:
		return SW_EFAIL;
	}
}

char *sw_client_status_message(const json_t *status, long http_status, const char *fallback)
{
	const char *msg = json_string_value(json_object_get(status, "message"));
	const char *reason = json_string_value(json_object_get(status, "reason"));

	if (!msg || !*msg)
		msg = fallback && *fallback ? fallback : NULL;
	if (!msg)
		return sw_xasprintf("Error from server: the server answered HTTP %ld", http_status);
	if (http_status == 401)
		return sw_xasprintf("error: You must be logged in to the server (%s)", msg);
	/* kubectl prints validation errors as the message alone */
	if (reason && !strcmp(reason, "Invalid"))
		return sw_xstrdup(msg);
	if (reason && *reason)
		return sw_xasprintf("Error from server (%s): %s", reason, msg);
	return sw_xasprintf("Error from server: %s", msg);
}

static int status_error(long http, const char *body, size_t len, sw_error **err)
{
	cleanup_json json_t *st = NULL;
	cleanup_free char *text = NULL;
	const char *reason;

	st = json_loadb(body, len, 0, NULL);
	reason = json_string_value(json_object_get(st, "reason"));
	if (!st && len) {
		/* not a Status: show the first line of what came */
		size_t n = strcspn(body, "\r\n");
		text = sw_xstrndup(body, n > 200 ? 200 : n);
	}
	cleanup_free char *msg = sw_client_status_message(st, http, text);
	return sw_error_set(err, code_for_status(http, reason), "%s", msg);
}

static int connect_error(sw_client *c, CURLcode rc, const char *errbuf, sw_error **err)
{
	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
		return sw_error_set(err, SW_EFAIL, "cannot connect to slipwayd at %s: is it running? start it with `slipway up`",
		                    c->target);
	return sw_error_set(err, SW_EFAIL, "talking to slipwayd at %s: %s", c->target,
	                    errbuf && *errbuf ? errbuf : curl_easy_strerror(rc));
}

/* ---- requests ----------------------------------------------------------- */

struct body_sink {
	sw_buf buf;
	bool toobig;
};

static size_t body_write(char *data, size_t size, size_t n, void *p)
{
	struct body_sink *s = p;
	sw_error *e = NULL;

	if (sw_buf_add(&s->buf, data, size * n, &e) < 0) {
		sw_error_free(e);
		s->toobig = true;
		return 0;
	}
	return size * n;
}

static CURL *easy_for(sw_client *c, const char *path, struct curl_slist **hdrs, char *errbuf)
{
	CURL *h = curl_easy_init();
	cleanup_free char *url = NULL;

	if (!h)
		return NULL;
	url = sw_xasprintf("%s%s", c->base, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	if (c->socket)
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->socket);
	if (c->cainfo)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->cainfo);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	*hdrs = curl_slist_append(*hdrs, "Accept: application/json");
	if (c->auth)
		*hdrs = curl_slist_append(*hdrs, c->auth);
	return h;
}

int sw_client_request_raw(sw_client *c, const char *method, const char *path, const char *content_type,
                          const void *data, size_t len, json_t **out, sw_error **err)
{
	struct body_sink sink = { .buf = SW_BUF_INIT(SW_CLIENT_MAX_RESPONSE) };
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	long http = 0;
	CURLcode rc;
	CURL *h;
	int ret = 0;

	if (out)
		*out = NULL;
	if (!(h = easy_for(c, path, &hdrs, errbuf)))
		return sw_error_set(err, SW_EFAIL, "curl_easy_init failed");
	if (data || !strcmp(method, "POST")) {
		cleanup_free char *ct = sw_xasprintf("Content-Type: %s", content_type ? content_type : "application/json");
		hdrs = curl_slist_append(hdrs, ct);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, data ? data : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(data ? len : 0));
	}
	if (strcmp(method, "GET") && strcmp(method, "POST"))
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 0L);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &http);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	if (sink.toobig) {
		ret = sw_error_set(err, SW_ETOOBIG, "%s %s: the response exceeds %u MiB", method, path,
		                   SW_CLIENT_MAX_RESPONSE >> 20);
	} else if (rc != CURLE_OK) {
		ret = connect_error(c, rc, errbuf, err);
	} else if (http < 200 || http >= 300) {
		ret = status_error(http, sink.buf.data ? sink.buf.data : "", sink.buf.len, err);
	} else if (out && sink.buf.len) {
		ret = sw_json_loadb(out, "response", sink.buf.data, sink.buf.len, err);
		if (ret < 0)
			sw_error_wrap(err, "%s %s", method, path);
	}
	sw_buf_release(&sink.buf);
	return ret;
}

int sw_client_request(sw_client *c, const char *method, const char *path, const json_t *body,
                      json_t **out, sw_error **err)
{
	cleanup_free char *payload = body ? json_dumps(body, JSON_COMPACT) : NULL;

	return sw_client_request_raw(c, method, path,
	                             !strcmp(method, "PATCH") ? "application/merge-patch+json" : "application/json",
	                             payload, payload ? strlen(payload) : 0, out, err);
}

/* ---- streams ------------------------------------------------------------ */

struct stream_sink {
	CURL *h;
	sw_buf line;       /* the partial line */
	sw_buf errbody;    /* the body of an error answer */
	long http;
	bool stopped;
	bool toobig;
	sw_client_line_fn cb;
	void *payload;
};

static size_t stream_write(char *data, size_t size, size_t n, void *p)
{
	struct stream_sink *s = p;
	size_t len = size * n;
	sw_error *e = NULL;

	if (!s->http)
		curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &s->http);
	if (s->http < 200 || s->http >= 300) {
		if (sw_buf_add(&s->errbody, data, len, &e) < 0) {
			sw_error_free(e);
			s->toobig = true;
			return 0;
		}
		return len;
	}
	for (size_t i = 0; i < len; i++) {
		if (data[i] != '\n') {
			if (sw_buf_addc(&s->line, data[i], &e) < 0) {
				sw_error_free(e);
				s->toobig = true;
				return 0;
			}
			continue;
		}
		const char *l = s->line.data ? s->line.data : "";
		size_t ll = s->line.len;
		if (ll && l[ll - 1] == '\r')
			ll--;
		bool go = s->cb(l, ll, s->payload);
		sw_buf_truncate(&s->line, 0);
		if (!go) {
			s->stopped = true;
			return 0;
		}
	}
	return len;
}

int sw_client_stream(sw_client *c, const char *path, long timeout_ms, bool *timed_out,
                     sw_client_line_fn cb, void *payload, sw_error **err)
{
	struct stream_sink sink = {
		.line = SW_BUF_INIT(SW_CLIENT_MAX_RESPONSE),
		.errbody = SW_BUF_INIT(1u << 20),
		.cb = cb,
		.payload = payload,
	};
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode rc;
	int ret = 0;

	if (timed_out)
		*timed_out = false;
	if (!(sink.h = easy_for(c, path, &hdrs, errbuf)))
		return sw_error_set(err, SW_EFAIL, "curl_easy_init failed");
	curl_easy_setopt(sink.h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(sink.h, CURLOPT_WRITEFUNCTION, stream_write);
	curl_easy_setopt(sink.h, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(sink.h, CURLOPT_BUFFERSIZE, 1024L);
	if (timeout_ms > 0)
		curl_easy_setopt(sink.h, CURLOPT_TIMEOUT_MS, timeout_ms);
	rc = curl_easy_perform(sink.h);
	if (!sink.http)
		curl_easy_getinfo(sink.h, CURLINFO_RESPONSE_CODE, &sink.http);
	curl_easy_cleanup(sink.h);
	curl_slist_free_all(hdrs);
	if (sink.stopped) {
		ret = 0;
	} else if (sink.toobig) {
		ret = sw_error_set(err, SW_ETOOBIG, "GET %s: a line exceeds the size limit", path);
	} else if (rc == CURLE_OPERATION_TIMEDOUT && sink.http >= 200 && sink.http < 300) {
		if (timed_out)
			*timed_out = true;
	} else if (rc != CURLE_OK && !(sink.http >= 200 && sink.http < 300 && rc == CURLE_PARTIAL_FILE)) {
		if (sink.http >= 300)
			ret = status_error(sink.http, sink.errbody.data ? sink.errbody.data : "", sink.errbody.len, err);
		else
			ret = connect_error(c, rc, errbuf, err);
	} else if (sink.http < 200 || sink.http >= 300) {
		ret = status_error(sink.http, sink.errbody.data ? sink.errbody.data : "", sink.errbody.len, err);
	} else if (sink.line.len) {
		/* a last line without its newline */
		cb(sink.line.data, sink.line.len, payload);
	}
	sw_buf_release(&sink.line);
	sw_buf_release(&sink.errbody);
	return ret;
}

bool sw_client_ready(sw_client *c)
{
	struct body_sink sink = { .buf = SW_BUF_INIT(1u << 16) };
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	long http = 0;
	CURL *h = easy_for(c, "/readyz", &hdrs, errbuf);
	CURLcode rc;

	if (!h)
		return false;
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 2000L);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &http);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	sw_buf_release(&sink.buf);
	return rc == CURLE_OK && http == 200;
}
