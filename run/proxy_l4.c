/*
 * proxy_l4.c - slipway-proxy's TCP mode: one backend connection per client
 * connection, bytes pumped both ways between bufferevents with watermark
 * backpressure (a side stops reading while the other's output is above
 * PX_HIGH_WATER), half-close passed on (EOF from one side becomes a
 * shutdown(SHUT_WR) of the other once its output is flushed), and connect
 * failures retried on another endpoint before any byte moved.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "proxy_int.h"
#include "slipway/mem.h"

struct l4 {
	struct l4 *prev, *next;
	sw_proxy *px;
	struct px_listener *l;
	struct px_service *svc;
	struct px_group *g;
	struct px_endpoint *ep;
	struct bufferevent *side[2]; /* 0: client, 1: backend */
	struct event *rev[2];        /* reads (px_read_into) */
	bool eof[2], shut[2];
	struct px_endpoint *tried[PX_MAX_TRIES];
	size_t n_tried;
	bool connected;
	char ip[48];
};

static void l4_free(struct l4 *t)
{
	sw_proxy *px = t->px;

	if (t->ep) {
		t->ep->active--;
		t->g->stats->active--;
		t->svc->sh->stats->active--;
		px_endpoint_unref(px, t->ep);
	}
	for (int i = 0; i < 2; i++) {
		if (t->rev[i])
			event_free(t->rev[i]);
		if (t->side[i])
			bufferevent_free(t->side[i]);
	}
	if (t->prev)
		t->prev->next = t->next;
	else
		px->l4s = t->next;
	if (t->next)
		t->next->prev = t->prev;
	px_service_unref(t->svc);
	px_listener_unref(t->l);
	free(t);
	px_session_end(px);
}

static int side_of(struct l4 *t, struct bufferevent *bev)
{
	return bev == t->side[0] ? 0 : 1;
}

static void count(struct l4 *t, int from, size_t n)
{
	if (from == 0) {
		t->svc->sh->stats->bytes_in += n;
		t->g->stats->bytes_in += n;
	} else {
		t->svc->sh->stats->bytes_out += n;
		t->g->stats->bytes_out += n;
	}
}

static void maybe_done(struct l4 *t)
{
	for (int i = 0; i < 2; i++) {
		struct bufferevent *to = t->side[1 - i];
		/* side i ended: once its bytes reached the other side, pass the EOF on */
		if (t->eof[i] && !t->shut[1 - i] &&
		    evbuffer_get_length(bufferevent_get_output(to)) == 0) {
			shutdown(bufferevent_getfd(to), SHUT_WR);
			t->shut[1 - i] = true;
		}
	}
	if (t->eof[0] && t->eof[1] && t->shut[0] && t->shut[1])
		l4_free(t);
}

static void pump_read(struct bufferevent *bev, void *arg)
{
	struct l4 *t = arg;
	int from = side_of(t, bev);
	struct bufferevent *to = t->side[1 - from];
	struct evbuffer *in = bufferevent_get_input(bev);

	count(t, from, evbuffer_get_length(in));
	evbuffer_add_buffer(bufferevent_get_output(to), in);
	px_bev_flush(to);
	if (evbuffer_get_length(bufferevent_get_output(to)) >= PX_HIGH_WATER)
		event_del(t->rev[from]);
}

static void pump_write(struct bufferevent *bev, void *arg)
{
	struct l4 *t = arg;
	int to = side_of(t, bev);

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_disable(bev, EV_WRITE);
	if (!t->eof[1 - to] && t->rev[1 - to])
		event_add(t->rev[1 - to], NULL);
	maybe_done(t);
}

static void pump_event(struct bufferevent *bev, short what, void *arg)
{
	struct l4 *t = arg;
	int i = side_of(t, bev);

	if (what & BEV_EVENT_EOF) {
		pump_read(bev, t);
		t->eof[i] = true;
		event_del(t->rev[i]);
		maybe_done(t);
		return;
	}
	l4_free(t);
}

static void pump_rev(evutil_socket_t fd, short what, void *arg)
{
	struct l4 *t = arg;
	int i = fd == bufferevent_getfd(t->side[0]) ? 0 : 1;
	ssize_t n = px_read_into(t->side[i]);

	(void)what;
	if (n == -2)
		return;
	if (n == 0)
		pump_event(t->side[i], BEV_EVENT_READING | BEV_EVENT_EOF, t);
	else if (n < 0)
		pump_event(t->side[i], BEV_EVENT_READING | BEV_EVENT_ERROR, t);
	else
		pump_read(t->side[i], t);
}

static void l4_connect(struct l4 *t);

static void connect_event(struct bufferevent *bev, short what, void *arg)
{
	struct l4 *t = arg;

	if (what & BEV_EVENT_CONNECTED) {
		t->connected = true;
		px_endpoint_ok(t->ep);
		px_nodelay(bufferevent_getfd(bev));
		bufferevent_set_timeouts(bev, NULL, NULL);
		for (int i = 0; i < 2; i++) {
			bufferevent_setcb(t->side[i], pump_read, pump_write, pump_event, t);
			bufferevent_setwatermark(t->side[i], EV_WRITE, PX_HIGH_WATER / 2, 0);
			bufferevent_disable(t->side[i], EV_READ | EV_WRITE);
			t->rev[i] = event_new(t->px->base, bufferevent_getfd(t->side[i]),
					      EV_READ | EV_PERSIST, pump_rev, t);
			event_add(t->rev[i], NULL);
		}
		return;
	}
	px_endpoint_failed(t->ep, px_now_us());
	t->svc->sh->stats->err_connect++;
	t->g->stats->err_connect++;
	bufferevent_free(t->side[1]);
	t->side[1] = NULL;
	t->ep->active--;
	t->g->stats->active--;
	t->svc->sh->stats->active--;
	px_endpoint_unref(t->px, t->ep);
	t->ep = NULL;
	if (t->n_tried < PX_MAX_TRIES) {
		t->svc->sh->stats->retries++;
		l4_connect(t);
		return;
	}
	l4_free(t);
}

static void l4_connect(struct l4 *t)
{
	struct px_pick pick;
	unsigned ms = t->svc->cfg->connect_ms;
	struct timeval tv = {ms / 1000, (long)(ms % 1000) * 1000};

	if (!px_choose(t->svc, t->n_tried ? (int)(t->g - t->svc->groups) : -1, t->ip, t->tried,
		       t->n_tried, &pick)) {
		l4_free(t);
		return;
	}
	t->g = pick.g;
	t->ep = pick.ep;
	px_endpoint_ref(t->ep);
	t->tried[t->n_tried++] = pick.ep;
	t->ep->active++;
	t->g->stats->active++;
	t->svc->sh->stats->active++;
	if (t->n_tried == 1)
		t->g->stats->requests++;
	t->side[1] = bufferevent_socket_new(t->px->base, -1, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(t->side[1], NULL, NULL, connect_event, t);
	bufferevent_set_timeouts(t->side[1], NULL, &tv);
	if (bufferevent_socket_connect(t->side[1], (struct sockaddr *)&pick.ep->sa,
				       (int)pick.ep->salen) < 0)
		connect_event(t->side[1], BEV_EVENT_ERROR, t);
}

void px_l4_accept(struct px_listener *l, evutil_socket_t fd, struct sockaddr *sa, int salen)
{
	struct l4 *t = sw_xcalloc(1, sizeof(*t));

	(void)salen;
	t->px = l->px;
	t->l = l;
	l->refs++;
	t->svc = l->svc;
	px_service_ref(t->svc);
	t->svc->sh->stats->requests++;
	if (!evutil_inet_ntop(sa->sa_family,
			      sa->sa_family == AF_INET6
				      ? (void *)&((struct sockaddr_in6 *)sa)->sin6_addr
				      : (void *)&((struct sockaddr_in *)sa)->sin_addr,
			      t->ip, sizeof(t->ip)))
		snprintf(t->ip, sizeof(t->ip), "unknown");
	px_nodelay(fd);
	t->side[0] = bufferevent_socket_new(t->px->base, fd, BEV_OPT_CLOSE_ON_FREE);
	t->px->n_sessions++;
	t->next = t->px->l4s;
	if (t->next)
		t->next->prev = t;
	t->px->l4s = t;
	l4_connect(t);
}

void px_l4_free_all(sw_proxy *px)
{
	while (px->l4s)
		l4_free(px->l4s);
}
