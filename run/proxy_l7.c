/*
 * proxy_l7.c - slipway-proxy's HTTP/1.1 mode: client connections with
 * keep-alive and pipelining (one request at a time: the next pipelined
 * request is parsed only once the previous response is out, so responses
 * go back in order), the exchange of one request with a backend over a
 * pooled keep-alive connection (one request in flight per connection),
 * responses parsed with http_parser and streamed back (re-chunked when their
 * length is unknown) with watermark backpressure, retries on connect
 * failures and on resets before any response byte, and the timeouts.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxy_int.h"
#include "slipway/log.h"
#include "slipway/mem.h"

struct px_upstream {
	struct px_upstream *next_idle;
	struct bufferevent *bev;
	struct event *rev; /* reads once connected (px_read_into), with serverMs */
	struct timeval tv;
	struct px_endpoint *ep;
	sw_proxy *px;
	struct px_exchange *x; /* NULL when idle */
	bool connected, reused, pooled;
	unsigned timeout_ms;
};

enum client_state { C_IDLE, C_HEAD, C_BODY, C_BUSY };

struct px_client {
	struct px_client *prev, *next;
	struct px_listener *l;
	sw_proxy *px;
	struct bufferevent *bev;
	struct event *rev; /* reads: our own event, see px_read_into */
	struct event *timer;
	struct px_msg req;
	struct px_stats *conn_stats;
	struct px_exchange *x;
	struct px_head rhead; /* the current response's head */
	enum client_state state;
	bool eof; /* the client shut its side down */
	bool closing;    /* free once the output is flushed */
	bool want_close; /* close after the current response */
	char ip[48];
};

struct px_exchange {
	struct px_client *c;
	struct px_service *svc;
	struct px_group *g;
	struct px_endpoint *ep;
	struct px_upstream *up;
	struct px_endpoint *tried[PX_MAX_TRIES];
	size_t n_tried;
	http_parser rp;
	char reason[64];
	int status;
	int hint;
	bool counted_group, set_cookie, reset_retried;
	bool resp_started, sent_head, done, interim;
	bool chunked_out, keep_alive_resp, head_req;
	uint64_t start_us, bytes_out;
	struct px_mirror_pair *mirror;
};

static void client_process(struct px_client *c);
static void client_free(struct px_client *c);
static void exchange_send(struct px_exchange *x);

/* ---- upstream connections ---------------------------------------------- */

/* Writes what is queued on bev right away when its write event is off (the
 * usual case): one send() instead of arming EV_WRITE for the next loop
 * iteration and disarming it after (two epoll_ctl calls). What the socket
 * does not take is left to the bufferevent. */
void px_bev_flush(struct bufferevent *bev)
{
	struct evbuffer *out = bufferevent_get_output(bev);

	if (evbuffer_get_length(out) == 0 || (bufferevent_get_enabled(bev) & EV_WRITE))
		return;
	/* a bufferevent freezes the start of its output so only it drains it;
	 * it does the same unfreeze/write/freeze in its own write callback */
	evbuffer_unfreeze(out, 1);
	evbuffer_write(out, bufferevent_getfd(bev));
	evbuffer_freeze(out, 1);
	if (evbuffer_get_length(out) > 0)
		bufferevent_enable(bev, EV_WRITE);
}

/* One recv() into bev's input. bufferevent_socket asks FIONREAD before
 * every read (an extra syscall per read, costly in a VM); the client side
 * reads with its own event and this instead. Returns the bytes read, 0 at
 * EOF, -1 on error, -2 when nothing is there. */
ssize_t px_read_into(struct bufferevent *bev)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_iovec v;
	ssize_t n;

	evbuffer_unfreeze(in, 0);
	if (evbuffer_reserve_space(in, 16384, &v, 1) < 1) {
		evbuffer_freeze(in, 0);
		return -1;
	}
	n = recv(bufferevent_getfd(bev), v.iov_base, v.iov_len, 0);
	if (n > 0) {
		v.iov_len = (size_t)n;
		evbuffer_commit_space(in, &v, 1);
	}
	evbuffer_freeze(in, 0);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -2 : -1;
	return n;
}

void px_nodelay(evutil_socket_t fd)
{
	int one = 1;

	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

void px_upstream_free(struct px_upstream *u)
{
	if (u->pooled) {
		for (struct px_upstream **pp = &u->ep->idle; *pp; pp = &(*pp)->next_idle)
			if (*pp == u) {
				*pp = u->next_idle;
				break;
			}
		u->ep->n_idle--;
	}
	if (u->rev)
		event_free(u->rev);
	bufferevent_free(u->bev);
	px_endpoint_unref(u->px, u->ep);
	free(u);
}

static void idle_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	px_upstream_free(arg); /* data on an idle connection: not usable any more */
}

static void idle_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	px_upstream_free(arg);
}

static void pool_put(struct px_upstream *u)
{
	struct px_endpoint *e = u->ep;

	u->x = NULL;
	if (e->terminating || !e->in_config || e->n_idle >= PX_POOL_MAX || u->px->draining ||
	    evbuffer_get_length(bufferevent_get_input(u->bev)) > 0) {
		px_upstream_free(u);
		return;
	}
	u->pooled = true;
	u->next_idle = e->idle;
	e->idle = u;
	e->n_idle++;
	/* idle connections time out after the service's serverMs, as set */
	bufferevent_setcb(u->bev, idle_read_cb, NULL, idle_event_cb, u);
	event_add(u->rev, &u->tv);
}

void px_pool_prune(sw_proxy *px)
{
	for (struct px_endpoint *e = px->endpoints; e; e = e->next) {
		if (e->in_config && !e->terminating && !px->draining)
			continue;
		/* freeing may drop the endpoint: hold it */
		e->refs++;
		while (e->idle)
			px_upstream_free(e->idle);
		e->refs--;
	}
}

static struct px_upstream *upstream_get(sw_proxy *px, struct px_endpoint *e, unsigned connect_ms)
{
	struct px_upstream *u = e->idle;

	if (u) {
		e->idle = u->next_idle;
		e->n_idle--;
		u->pooled = false;
		u->reused = true;
		return u;
	}
	u = sw_xcalloc(1, sizeof(*u));
	u->px = px;
	u->ep = e;
	px_endpoint_ref(e);
	u->bev = bufferevent_socket_new(px->base, -1, BEV_OPT_CLOSE_ON_FREE);
	struct timeval tv = {connect_ms / 1000, (connect_ms % 1000) * 1000};
	bufferevent_set_timeouts(u->bev, NULL, &tv);
	return u;
}

/* ---- client side helpers ----------------------------------------------- */

static void timer_arm(struct px_client *c, unsigned ms)
{
	struct timeval tv = {ms / 1000, (long)(ms % 1000) * 1000};

	evtimer_add(c->timer, &tv);
}

static void client_close_after_flush(struct px_client *c)
{
	c->closing = true;
	event_del(c->rev);
	evtimer_del(c->timer);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		client_free(c);
	else
		timer_arm(c, 5000); /* bound on flushing to a client that does not read */
}

static void client_error(struct px_client *c, int status)
{
	px_simple_response(bufferevent_get_output(c->bev), status, true);
	px_bev_flush(c->bev);
	client_close_after_flush(c);
}

/* ---- exchanges --------------------------------------------------------- */

static void exchange_detach(struct px_exchange *x, bool reusable)
{
	struct px_upstream *u = x->up;

	if (x->ep) {
		x->ep->active--;
		x->g->stats->active--;
	}
	if (!u)
		return;
	x->up = NULL;
	u->x = NULL;
	if (reusable)
		pool_put(u);
	else
		px_upstream_free(u);
}

static void exchange_free(struct px_exchange *x)
{
	if (x->mirror)
		px_mirror_primary_done(x->mirror, x->status);
	px_service_unref(x->svc);
	free(x);
}

/* The exchange is over (x->status set, or 0 when the client got nothing):
 * figures, access log, and the client moves on to its next request. */
static void exchange_finish(struct px_exchange *x, bool reusable)
{
	struct px_client *c = x->c;
	uint64_t now = px_now_us(), lat = now - x->start_us;
	const char *gname = x->g ? x->g->cfg->name : "";
	const char *ekey = x->ep ? x->ep->key : "";

	px_stats_response(x->svc->sh->stats, x->status, lat, now);
	if (x->g)
		px_stats_response(x->g->stats, x->status, lat, now);
	x->svc->sh->stats->bytes_out += x->bytes_out;
	if (x->g)
		x->g->stats->bytes_out += x->bytes_out;
	if (x->svc->sh->access_log)
		px_access_log(x->svc, &c->req, c->ip, gname, ekey, x->status, lat, x->bytes_out,
			      x->mirror != NULL);
	exchange_detach(x, reusable);
	c->x = NULL;
	exchange_free(x);

	c->state = C_IDLE;
	if (c->want_close || c->eof || !c->req.keep_alive || c->px->draining) {
		client_close_after_flush(c);
		return;
	}
	px_msg_next(&c->req);
	if (!c->eof)
		event_add(c->rev, NULL);
	timer_arm(c, c->l->svc->cfg->client_idle_ms);
	client_process(c);
}

/* Ends an exchange with a response the proxy makes (502/503/504), or by
 * closing the client when part of a response already went out. */
static void exchange_fail(struct px_exchange *x, int status)
{
	struct px_client *c = x->c;

	if (x->sent_head) {
		/* cannot tell the client in-band: close it */
		exchange_detach(x, false);
		c->x = NULL;
		x->status = x->status ? x->status : status;
		exchange_free(x);
		client_free(c);
		return;
	}
	x->status = status;
	px_simple_response(bufferevent_get_output(c->bev), status, false);
	px_bev_flush(c->bev);
	exchange_finish(x, false);
}

static void exchange_retry(struct px_exchange *x)
{
	x->svc->sh->stats->retries++;
	x->g->stats->retries++;
	exchange_detach(x, false);
	x->resp_started = false;
	exchange_send(x);
}

/* response parsing */

static struct px_exchange *x_of(http_parser *p)
{
	return p->data;
}

static int r_status(http_parser *p, const char *at, size_t len)
{
	struct px_exchange *x = x_of(p);
	size_t have = strlen(x->reason);

	if (have + len < sizeof(x->reason)) {
		memcpy(x->reason + have, at, len);
		x->reason[have + len] = '\0';
	}
	return 0;
}

static int r_field(http_parser *p, const char *at, size_t len)
{
	return px_head_field(&x_of(p)->c->rhead, at, len) < 0 ? -1 : 0;
}

static int r_value(http_parser *p, const char *at, size_t len)
{
	return px_head_value(&x_of(p)->c->rhead, at, len) < 0 ? -1 : 0;
}

static bool resp_hop(const struct px_head *h, size_t i)
{
	static const char *const names[] = {"connection", "keep-alive", "proxy-connection",
					     "transfer-encoding", "te", "trailer", "upgrade",
					     NULL};
	for (const char *const *n = names; *n; n++)
		if (h->hdrs[i].name_len == strlen(*n) &&
		    strncasecmp(px_head_name(h, i), *n, h->hdrs[i].name_len) == 0)
			return true;
	return false;
}

static int r_headers_complete(http_parser *p)
{
	struct px_exchange *x = x_of(p);
	struct px_client *c = x->c;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	const struct px_head *h = &x->c->rhead;
	unsigned status = p->status_code;
	bool no_body, has_len;
	const char *reason = x->reason[0] ? x->reason : px_reason((int)status);

	if (status < 200 && status != 101) {
		x->interim = true; /* 100 Continue, 103 Early Hints: dropped */
		return 0;
	}
	if (status == 101 || status > 999)
		return -1;
	x->status = (int)status;
	no_body = x->head_req || status == 204 || status == 304;
	has_len = (p->flags & F_CONTENTLENGTH) && !(p->flags & F_CHUNKED);
	if (!no_body && !has_len) {
		if (c->req.parser.http_major == 1 && c->req.parser.http_minor >= 1)
			x->chunked_out = true;
		else
			c->want_close = true;
	}
	if (c->px->draining)
		c->want_close = true;

	evbuffer_add_printf(out, "HTTP/1.1 %u %s\r\n", status, reason);
	for (size_t i = 0; i < h->n_hdrs; i++) {
		if (resp_hop(h, i))
			continue;
		evbuffer_add(out, px_head_name(h, i), h->hdrs[i].name_len);
		evbuffer_add(out, ": ", 2);
		evbuffer_add(out, px_head_val(h, i), h->hdrs[i].value_len);
		evbuffer_add(out, "\r\n", 2);
	}
	if (x->chunked_out)
		evbuffer_add(out, "Transfer-Encoding: chunked\r\n", 28);
	if (x->set_cookie)
		evbuffer_add_printf(out, "Set-Cookie: %s=%s; Max-Age=%u; Path=/; HttpOnly\r\n",
				    x->svc->cfg->sticky_cookie, x->g->cfg->name,
				    x->svc->cfg->sticky_max_age_s);
	if (c->want_close || !c->req.keep_alive)
		evbuffer_add(out, "Connection: close\r\n", 19);
	else if (c->req.parser.http_major == 1 && c->req.parser.http_minor == 0)
		evbuffer_add(out, "Connection: keep-alive\r\n", 24);
	evbuffer_add(out, "\r\n", 2);
	x->sent_head = true;
	x->bytes_out += h->raw.len + 64;
	return x->head_req ? 1 : 0;
}

static int r_body(http_parser *p, const char *at, size_t len)
{
	struct px_exchange *x = x_of(p);
	struct evbuffer *out = bufferevent_get_output(x->c->bev);

	if (x->chunked_out) {
		evbuffer_add_printf(out, "%zx\r\n", len);
		evbuffer_add(out, at, len);
		evbuffer_add(out, "\r\n", 2);
	} else {
		evbuffer_add(out, at, len);
	}
	x->bytes_out += len;
	return 0;
}

static int r_message_complete(http_parser *p)
{
	struct px_exchange *x = x_of(p);

	if (x->interim) {
		x->interim = false;
		px_head_reset(&x->c->rhead);
		x->reason[0] = '\0';
		return 0;
	}
	if (x->chunked_out)
		evbuffer_add(bufferevent_get_output(x->c->bev), "0\r\n\r\n", 5);
	x->done = true;
	x->keep_alive_resp = http_should_keep_alive(p) != 0;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings response_settings = {
	.on_status = r_status,
	.on_header_field = r_field,
	.on_header_value = r_value,
	.on_headers_complete = r_headers_complete,
	.on_body = r_body,
	.on_message_complete = r_message_complete,
};

/* Feeds what the backend sent; returns false when the exchange ended. */
static bool upstream_feed(struct px_exchange *x, struct evbuffer *in, bool eof)
{
	struct px_client *c = x->c;
	bool extra = false;

	while (!x->done && (evbuffer_get_length(in) > 0 || eof)) {
		struct evbuffer_iovec v = {NULL, 0};
		size_t n;
		enum http_errno e;
		if (evbuffer_get_length(in) > 0)
			evbuffer_peek(in, -1, NULL, &v, 1);
		x->resp_started = x->resp_started || v.iov_len > 0;
		n = http_parser_execute(&x->rp, &response_settings, v.iov_base, v.iov_len);
		e = HTTP_PARSER_ERRNO(&x->rp);
		evbuffer_drain(in, v.iov_len);
		if (e != HPE_OK && e != HPE_PAUSED) {
			x->svc->sh->stats->err_bad_response++;
			x->g->stats->err_bad_response++;
			exchange_fail(x, 502);
			return false;
		}
		if (x->done && n < v.iov_len)
			extra = true;
		if (v.iov_len == 0)
			break;
	}
	px_bev_flush(c->bev);
	if (x->done) {
		bool reuse = x->keep_alive_resp && !extra && !eof;
		if (x->up)
			px_endpoint_ok(x->ep);
		exchange_finish(x, reuse);
		return false;
	}
	if (eof) {
		/* closed before any response byte: an idempotent request goes to
		 * another endpoint, up to PX_MAX_TRIES endpoints in all (a scale
		 * down stops several pods at once, each may reset a request sent
		 * before the proxy learned it was terminating) */
		if (!x->resp_started && px_method_idempotent(c->req.parser.method) &&
		    x->n_tried < PX_MAX_TRIES) {
			/* on a fresh connection the endpoint itself failed (a
			 * stopping pod): passive health skips it for a while; on a
			 * reused one it is the keep-alive race, not the endpoint */
			if (x->up && !x->up->reused)
				px_endpoint_failed(x->ep, px_now_us());
			x->reset_retried = true;
			exchange_retry(x);
			return false;
		}
		x->svc->sh->stats->err_bad_response++;
		x->g->stats->err_bad_response++;
		exchange_fail(x, 502);
		return false;
	}
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > PX_HIGH_WATER)
		event_del(x->up->rev);
	return true;
}

static void up_read_cb(struct bufferevent *bev, void *arg)
{
	struct px_upstream *u = arg;

	if (!u->x) {
		px_upstream_free(u);
		return;
	}
	upstream_feed(u->x, bufferevent_get_input(bev), false);
}

static void up_send(struct px_upstream *u)
{
	struct px_exchange *x = u->x;
	unsigned ms = x->svc->cfg->server_ms;

	if (u->timeout_ms != ms) {
		u->tv.tv_sec = ms / 1000;
		u->tv.tv_usec = (long)(ms % 1000) * 1000;
		/* writes the backend does not take time out the same way */
		bufferevent_set_timeouts(u->bev, NULL, &u->tv);
		u->timeout_ms = ms;
	}
	bufferevent_disable(u->bev, EV_READ | EV_WRITE);
	/* built again for every try, from the parsed request the client keeps */
	px_build_request(bufferevent_get_output(u->bev), &x->c->req, x->c->ip, false);
	px_bev_flush(u->bev);
	event_add(u->rev, &u->tv); /* (re)starts the serverMs inactivity timeout */
}

static void up_write_cb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_disable(bev, EV_WRITE);
}

static void up_event_cb(struct bufferevent *bev, short what, void *arg);

static void up_rev_cb(evutil_socket_t fd, short what, void *arg)
{
	struct px_upstream *u = arg;
	ssize_t n;

	(void)fd;
	if (what & EV_TIMEOUT) {
		up_event_cb(u->bev, BEV_EVENT_READING | BEV_EVENT_TIMEOUT, u);
		return;
	}
	n = px_read_into(u->bev);
	if (n == -2)
		return;
	if (n == 0) {
		up_event_cb(u->bev, BEV_EVENT_READING | BEV_EVENT_EOF, u);
		return;
	}
	if (n < 0) {
		up_event_cb(u->bev, BEV_EVENT_READING | BEV_EVENT_ERROR, u);
		return;
	}
	up_read_cb(u->bev, u);
}

static void up_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct px_upstream *u = arg;
	struct px_exchange *x = u->x;

	if (!x) {
		px_upstream_free(u);
		return;
	}
	if (what & BEV_EVENT_CONNECTED) {
		u->connected = true;
		px_nodelay(bufferevent_getfd(bev));
		u->rev = event_new(u->px->base, bufferevent_getfd(bev), EV_READ | EV_PERSIST,
				   up_rev_cb, u);
		up_send(u);
		return;
	}
	if (!u->connected) {
		/* refused or timed out: nothing was sent, any request can go elsewhere */
		px_endpoint_failed(u->ep, px_now_us());
		x->svc->sh->stats->err_connect++;
		x->g->stats->err_connect++;
		if (x->n_tried < PX_MAX_TRIES) {
			exchange_retry(x);
			return;
		}
		exchange_fail(x, 502);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		x->svc->sh->stats->err_timeout++;
		x->g->stats->err_timeout++;
		exchange_fail(x, 504);
		return;
	}
	/* EOF or reset */
	upstream_feed(x, bufferevent_get_input(bev), true);
}

static void exchange_send(struct px_exchange *x)
{
	struct px_client *c = x->c;
	struct px_pick pick;
	struct px_upstream *u;

	if (!px_choose(x->svc, x->hint, c->ip, x->tried, x->n_tried, &pick)) {
		x->g = x->g ? x->g : NULL;
		x->ep = NULL;
		exchange_fail(x, x->n_tried ? 502 : 503);
		return;
	}
	if (x->n_tried == 0)
		x->set_cookie = pick.by_weight && x->svc->cfg->sticky_cookie;
	x->g = pick.g;
	x->ep = pick.ep;
	x->hint = (int)(pick.g - x->svc->groups);
	x->tried[x->n_tried++] = pick.ep;
	if (!x->counted_group) {
		x->counted_group = true;
		x->g->stats->requests++;
		x->g->stats->bytes_in += c->req.head.raw.len + c->req.body.len;
	}
	pick.ep->active++;
	x->g->stats->active++;

	http_parser_init(&x->rp, HTTP_RESPONSE);
	x->rp.data = x;
	px_head_reset(&x->c->rhead);
	x->reason[0] = '\0';
	x->interim = false;

	u = upstream_get(c->px, pick.ep, x->svc->cfg->connect_ms);
	u->x = x;
	x->up = u;
	bufferevent_setcb(u->bev, up_read_cb, up_write_cb, up_event_cb, u);
	if (u->reused) {
		up_send(u);
		return;
	}
	if (bufferevent_socket_connect(u->bev, (struct sockaddr *)&pick.ep->sa,
				       (int)pick.ep->salen) < 0) {
		/* immediate failure (no route, no fds): as a refused connect */
		up_event_cb(u->bev, BEV_EVENT_ERROR, u);
	}
}

static void client_dispatch(struct px_client *c)
{
	struct px_service *svc = c->l->svc;
	struct px_exchange *x = sw_xcalloc(1, sizeof(*x));
	int hint;

	px_service_ref(svc);
	x->c = c;
	x->svc = svc;
	x->start_us = px_now_us();
	x->head_req = c->req.parser.method == HTTP_HEAD;
	c->x = x;
	c->state = C_BUSY;
	evtimer_del(c->timer);

	svc->sh->stats->requests++;
	svc->sh->stats->bytes_in += c->req.head.raw.len + c->req.body.len;
	hint = px_rules_match(svc->cfg, &c->req);
	if (hint < 0)
		hint = px_sticky_group(svc->cfg, &c->req);
	x->hint = hint;
	if (px_mirror_wanted(svc, &c->req))
		x->mirror = px_mirror_start(svc, &c->req, c->ip);
	exchange_send(x);
}

/* Parses what the client sent, one request at a time. */
static void client_process(struct px_client *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	while (!c->x && !c->closing) {
		struct evbuffer_iovec v;
		size_t n;

		if (c->req.state != PX_MSG_DONE && c->req.state != PX_MSG_ERROR) {
			if (evbuffer_get_length(in) == 0)
				return;
			evbuffer_peek(in, -1, NULL, &v, 1);
			n = px_msg_feed(&c->req, v.iov_base, v.iov_len);
			evbuffer_drain(in, n);
		}
		switch (c->req.state) {
		case PX_MSG_IDLE:
			break;
		case PX_MSG_HEAD:
			if (c->state == C_IDLE) {
				c->state = C_HEAD;
				timer_arm(c, c->l->svc->cfg->header_ms);
			}
			break;
		case PX_MSG_BODY:
			if (c->req.head_done_seen) {
				c->req.head_done_seen = false;
				if (c->req.expect_continue)
				{
					evbuffer_add(bufferevent_get_output(c->bev),
						     "HTTP/1.1 100 Continue\r\n\r\n", 25);
					px_bev_flush(c->bev);
				}
			}
			c->state = C_BODY;
			timer_arm(c, c->l->svc->cfg->client_idle_ms);
			break;
		case PX_MSG_DONE:
			client_dispatch(c);
			return;
		case PX_MSG_ERROR:
			c->l->svc->sh->stats->requests++;
			c->l->svc->sh->stats->responses[3]++;
			client_error(c, c->req.error ? c->req.error : 400);
			return;
		}
	}
}

static void client_read_cb(struct bufferevent *bev, void *arg)
{
	struct px_client *c = arg;

	(void)bev;
	if (c->x || c->closing)
		return;
	client_process(c);
}

static void client_write_cb(struct bufferevent *bev, void *arg)
{
	struct px_client *c = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
		if (c->closing) {
			client_free(c);
			return;
		}
		bufferevent_disable(bev, EV_WRITE);
	}
	if (c->x && c->x->up && c->x->up->rev && !event_pending(c->x->up->rev, EV_READ, NULL))
		event_add(c->x->up->rev, &c->x->up->tv);
}

static void client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct px_client *c = arg;

	(void)bev;
	if ((what & BEV_EVENT_EOF) && c->x) {
		/* answer what was asked, then close */
		c->eof = true;
		event_del(c->rev);
		return;
	}
	if ((what & BEV_EVENT_EOF) && !c->x && !c->closing) {
		/* a half-closed client may still wait for answers to what it sent */
		if (c->req.state == PX_MSG_IDLE && evbuffer_get_length(bufferevent_get_input(bev)) == 0) {
			client_free(c);
			return;
		}
		px_msg_feed(&c->req, NULL, 0);
		c->want_close = true;
		client_process(c);
		return;
	}
	client_free(c);
}

static void client_rev_cb(evutil_socket_t fd, short what, void *arg)
{
	struct px_client *c = arg;
	ssize_t n = px_read_into(c->bev);

	(void)fd;
	(void)what;
	if (n == -2)
		return;
	if (n == 0) {
		client_event_cb(c->bev, BEV_EVENT_READING | BEV_EVENT_EOF, c);
		return;
	}
	if (n < 0) {
		client_event_cb(c->bev, BEV_EVENT_READING | BEV_EVENT_ERROR, c);
		return;
	}
	/* pipelined requests wait in the input; stop reading when it is full */
	if (c->x && evbuffer_get_length(bufferevent_get_input(c->bev)) > PX_HIGH_WATER) {
		event_del(c->rev);
		return;
	}
	client_read_cb(c->bev, c);
}

static void client_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct px_client *c = arg;

	(void)fd;
	(void)what;
	if (c->closing || c->state == C_IDLE) {
		client_free(c);
		return;
	}
	if (c->state == C_HEAD || c->state == C_BODY) {
		c->l->svc->sh->stats->requests++;
		c->l->svc->sh->stats->responses[3]++;
		client_error(c, 408);
	}
}

static void client_free(struct px_client *c)
{
	sw_proxy *px = c->px;

	if (c->x) {
		struct px_exchange *x = c->x;
		exchange_detach(x, false);
		c->x = NULL;
		exchange_free(x);
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		px->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->conn_stats->active--;
	px_stats_unref(&px->stats, c->conn_stats);
	event_free(c->timer);
	event_free(c->rev);
	bufferevent_free(c->bev);
	px_msg_release(&c->req);
	px_head_release(&c->rhead);
	px_listener_unref(c->l);
	free(c);
	px_session_end(px);
}

void px_l7_accept(struct px_listener *l, evutil_socket_t fd, struct sockaddr *sa, int salen)
{
	sw_proxy *px = l->px;
	struct px_client *c = sw_xcalloc(1, sizeof(*c));

	(void)salen;
	c->px = px;
	c->l = l;
	l->refs++;
	if (evutil_inet_ntop(sa->sa_family,
			     sa->sa_family == AF_INET6
				     ? (void *)&((struct sockaddr_in6 *)sa)->sin6_addr
				     : (void *)&((struct sockaddr_in *)sa)->sin_addr,
			     c->ip, sizeof(c->ip)) == NULL)
		snprintf(c->ip, sizeof(c->ip), "unknown");
	px_msg_init(&c->req);
	c->conn_stats = l->svc->sh->stats;
	c->conn_stats->refs++;
	c->conn_stats->active++;
	px_nodelay(fd);
	c->bev = bufferevent_socket_new(px->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(px->base, client_timer_cb, c);
	bufferevent_setcb(c->bev, client_read_cb, client_write_cb, client_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, PX_HIGH_WATER / 2, 0);
	c->rhead.raw = (sw_buf)SW_BUF_INIT(PX_MAX_RESP_HEADER);
	bufferevent_disable(c->bev, EV_READ | EV_WRITE); /* EV_WRITE: see px_bev_flush */
	c->rev = event_new(px->base, fd, EV_READ | EV_PERSIST, client_rev_cb, c);
	event_add(c->rev, NULL);
	c->next = px->clients;
	if (c->next)
		c->next->prev = c;
	px->clients = c;
	px->n_sessions++;
	timer_arm(c, l->svc->cfg->client_idle_ms);
}

void px_l7_drain(sw_proxy *px)
{
	struct px_client *c = px->clients, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->x || c->state != C_IDLE || c->closing)
			c->want_close = true;
		else
			client_close_after_flush(c);
	}
}

void px_l7_free_all(sw_proxy *px)
{
	while (px->clients)
		client_free(px->clients);
}
