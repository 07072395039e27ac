/*
 * probe_run.c - the network checks behind httpGet and tcpSocket probes
 * (and httpGet preStop hooks), non-blocking on the daemon's loop with
 * bufferevents. A check always ends with exactly one callback, never from
 * inside the call that started it; sw_check_cancel ends it with none.
 * Failure messages read as the kubelet's (Go's net/http wording), since
 * users paste them into searches.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "agent_int.h"
#include "slipway/buf.h"
#include "slipway/mem.h"

#define CHECK_MAX_LINE 8192

struct sw_check {
	struct event_base *base;
	struct bufferevent *bev;
	struct event *timer;      /* the timeout, and the deferred early end */
	bool http;
	int port;
	char *url;                /* http://127.0.0.1:PORT/path */
	char *request;
	sw_check_fn fn;
	void *payload;
	bool connected;
	bool done;                /* the verdict is in; the timer delivers it */
	bool ok;
	char msg[640];
};

static void check_free(struct sw_check *c)
{
	if (c->bev)
		bufferevent_free(c->bev);
	if (c->timer)
		event_free(c->timer);
	free(c->url);
	free(c->request);
	free(c);
}

void sw_check_cancel(sw_check *c)
{
	if (c)
		check_free(c);
}

/* Ends the check now: calls back and frees. */
static void check_end(struct sw_check *c, bool ok, const char *msg)
{
	sw_check_fn fn = c->fn;
	void *payload = c->payload;
	char buf[sizeof(c->msg)];
	snprintf(buf, sizeof(buf), "%s", msg ? msg : "");
	check_free(c);
	fn(payload, ok, buf);
}

static void dial_error(struct sw_check *c, int e, char *out, size_t n)
{
	const char *what = e == ECONNREFUSED ? "connection refused" : strerror(e);
	if (c->http)
		snprintf(out, n, "Get \"%s\": dial tcp 127.0.0.1:%d: connect: %s", c->url, c->port, what);
	else
		snprintf(out, n, "dial tcp 127.0.0.1:%d: connect: %s", c->port, what);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct sw_check *c = arg;
	if (c->done) {
		check_end(c, c->ok, c->msg);
		return;
	}
	char msg[600];
	if (c->http)
		snprintf(msg, sizeof(msg),
		         "Get \"%s\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
		         c->url);
	else
		snprintf(msg, sizeof(msg), "dial tcp 127.0.0.1:%d: i/o timeout", c->port);
	check_end(c, false, msg);
}

/* Delivers a verdict found inside a start call on the next loop turn. */
static void end_later(struct sw_check *c, bool ok, const char *msg)
{
	c->done = true;
	c->ok = ok;
	snprintf(c->msg, sizeof(c->msg), "%s", msg);
	if (c->bev) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	event_del(c->timer);
	event_active(c->timer, EV_TIMEOUT, 0);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct sw_check *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n = 0;
	char *line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
	if (!line) {
		if (evbuffer_get_length(in) > CHECK_MAX_LINE)
			check_end(c, false, "HTTP probe failed: malformed HTTP response (status line too long)");
		return;
	}
	int major = 0, minor = 0, code = 0;
	char msg[600];
	if (sscanf(line, "HTTP/%d.%d %d", &major, &minor, &code) != 3 || code < 100 || code > 999) {
		snprintf(msg, sizeof(msg), "Get \"%s\": malformed HTTP response \"%.100s\"", c->url, line);
		free(line);
		check_end(c, false, msg);
		return;
	}
	free(line);
	if (code >= 200 && code < 400) {
		check_end(c, true, "");
		return;
	}
	snprintf(msg, sizeof(msg), "HTTP probe failed with statuscode: %d", code);
	check_end(c, false, msg);
}

static void on_event(struct bufferevent *bev, short events, void *arg)
{
	struct sw_check *c = arg;
	(void)bev;
	char msg[600];
	if (events & BEV_EVENT_CONNECTED) {
		if (!c->http) {
			check_end(c, true, "");   /* open is healthy, even if it closes at once */
			return;
		}
		c->connected = true;
		bufferevent_write(c->bev, c->request, strlen(c->request));
		bufferevent_enable(c->bev, EV_READ);
		return;
	}
	if (events & BEV_EVENT_ERROR) {
		int e = EVUTIL_SOCKET_ERROR();
		if (c->connected)
			snprintf(msg, sizeof(msg), "Get \"%s\": read tcp 127.0.0.1:%d: %s", c->url, c->port,
			         strerror(e));
		else
			dial_error(c, e ? e : ECONNREFUSED, msg, sizeof(msg));
		check_end(c, false, msg);
		return;
	}
	if (events & BEV_EVENT_EOF) {
		snprintf(msg, sizeof(msg), "Get \"%s\": EOF", c->url);
		check_end(c, false, msg);
	}
}

static sw_check *check_new(struct event_base *base, int port, int timeout_s, sw_check_fn fn,
                           void *payload)
{
	struct sw_check *c = sw_xcalloc(1, sizeof(*c));
	c->base = base;
	c->port = port;
	c->fn = fn;
	c->payload = payload;
	c->timer = evtimer_new(base, on_timer, c);
	if (!c->timer)
		sw_out_of_memory(sizeof(struct event *));
	struct timeval tv = { .tv_sec = timeout_s > 0 ? timeout_s : 1, .tv_usec = 0 };
	evtimer_add(c->timer, &tv);
	return c;
}

static void check_connect(struct sw_check *c)
{
	char msg[600];
	if (c->port <= 0 || c->port > 65535) {
		snprintf(msg, sizeof(msg), "no port to probe (port %d)", c->port);
		end_later(c, false, msg);
		return;
	}
	c->bev = bufferevent_socket_new(c->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		end_later(c, false, "out of sockets");
		return;
	}
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)c->port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = EVUTIL_SOCKET_ERROR();
		dial_error(c, e ? e : ECONNREFUSED, msg, sizeof(msg));
		end_later(c, false, msg);
	}
}

sw_check *sw_check_tcp(struct event_base *base, int port, int timeout_s, sw_check_fn fn,
                       void *payload)
{
	struct sw_check *c = check_new(base, port, timeout_s, fn, payload);
	check_connect(c);
	return c;
}

static bool header_ok(const char *s)
{
	for (; *s; s++)
		if (*s == '\r' || *s == '\n')
			return false;
	return true;
}

sw_check *sw_check_http(struct event_base *base, int port, const char *path,
                        const json_t *headers, int timeout_s, sw_check_fn fn, void *payload)
{
	struct sw_check *c = check_new(base, port, timeout_s, fn, payload);
	c->http = true;
	if (!path || !*path)
		path = "/";
	bool slash = path[0] == '/';
	c->url = sw_xasprintf("http://127.0.0.1:%d%s%s", port, slash ? "" : "/", path);
	sw_buf req = SW_BUF_INIT(0);
	if (!header_ok(path)) {
		end_later(c, false, "bad probe path (line break)");
		return c;
	}
	sw_buf_printf(&req, NULL, "GET %s%s HTTP/1.1\r\n", slash ? "" : "/", path);
	bool host = false, agent = false, accept = false;
	size_t i;
	json_t *h;
	json_array_foreach(headers, i, h) {
		const char *n = json_string_value(json_object_get(h, "name"));
		const char *v = json_string_value(json_object_get(h, "value"));
		if (!n || !v || !*n || !header_ok(n) || !header_ok(v) || strchr(n, ':'))
			continue;
		host |= !strcasecmp(n, "Host");
		agent |= !strcasecmp(n, "User-Agent");
		accept |= !strcasecmp(n, "Accept");
		sw_buf_printf(&req, NULL, "%s: %s\r\n", n, v);
	}
	if (!host)
		sw_buf_printf(&req, NULL, "Host: 127.0.0.1:%d\r\n", port);
	if (!agent)
		sw_buf_printf(&req, NULL, "User-Agent: kube-probe/1.32\r\n");
	if (!accept)
		sw_buf_printf(&req, NULL, "Accept: */*\r\n");
	sw_buf_printf(&req, NULL, "Connection: close\r\n\r\n");
	c->request = sw_buf_detach(&req);
	check_connect(c);
	return c;
}
