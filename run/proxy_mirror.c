/*
 * proxy_mirror.c - shadow traffic and the access log. A mirrored request is
 * a copy sent on its own connection to an endpoint of the mirror group with
 * X-Slipway-Shadow: 1, under its own timeout; only its status line is read
 * and the connection is then dropped, so nothing of it reaches the client
 * and nothing on the primary path waits for it. The pair struct compares
 * the two status classes once both are known, whichever ends first.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy_int.h"
#include "slipway/json.h"
#include "slipway/mem.h"

struct mirror {
	struct mirror *prev, *next;
	struct px_service *svc;
	struct px_group *g;
	struct px_endpoint *ep;
	struct bufferevent *bev;
	struct event *timer;
	struct px_mirror_pair *pair;
	struct evbuffer *req;
	http_parser rp;
	bool connected;
};

bool px_mirror_wanted(struct px_service *s, const struct px_msg *m)
{
	uint64_t n;

	if (!s->cfg->mirror || s->cfg->mirror_percent == 0)
		return false;
	if (!s->cfg->mirror_unsafe && !px_method_safe(m->parser.method))
		return false;
	/* exact: request n is mirrored when floor(n*p/100) steps up */
	n = s->sh->mirror_seq++;
	return ((n + 1) * s->cfg->mirror_percent) / 100 != (n * s->cfg->mirror_percent) / 100;
}

static void pair_unref(struct px_mirror_pair *p)
{
	if (--p->refs > 0)
		return;
	px_stats_unref(&p->px->stats, p->stats[0]);
	px_stats_unref(&p->px->stats, p->stats[1]);
	free(p);
}

static void pair_check(struct px_mirror_pair *p)
{
	if (!p->primary_done || !p->shadow_done)
		return;
	if (p->primary_status / 100 != p->shadow_status / 100) {
		p->stats[0]->mirror_diff++;
		p->stats[1]->mirror_diff++;
	}
}

void px_mirror_primary_done(struct px_mirror_pair *p, int status)
{
	p->primary_done = true;
	p->primary_status = status;
	pair_check(p);
	pair_unref(p);
}

static void mirror_end(struct mirror *mi, int status)
{
	struct px_mirror_pair *p = mi->pair;

	if (status > 0 && status < 500) {
		p->stats[0]->mirror_ok++;
		p->stats[1]->mirror_ok++;
		px_endpoint_ok(mi->ep);
	}
	p->shadow_done = true;
	p->shadow_status = status;
	pair_check(p);
	pair_unref(p);
	if (mi->prev)
		mi->prev->next = mi->next;
	else
		mi->svc->px->mirrors = mi->next;
	if (mi->next)
		mi->next->prev = mi->prev;
	mi->ep->active--;
	mi->svc->sh->mirrors_in_flight--;
	bufferevent_free(mi->bev);
	event_free(mi->timer);
	evbuffer_free(mi->req);
	px_endpoint_unref(mi->svc->px, mi->ep);
	px_service_unref(mi->svc);
	free(mi);
}

static int m_headers_complete(http_parser *p)
{
	struct mirror *mi = p->data;

	if (p->status_code < 200)
		return 0;
	http_parser_pause(p, 1);
	(void)mi;
	return 1;
}

static const http_parser_settings mirror_settings = {
	.on_headers_complete = m_headers_complete,
};

static void m_read_cb(struct bufferevent *bev, void *arg)
{
	struct mirror *mi = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v;
		enum http_errno e;
		evbuffer_peek(in, -1, NULL, &v, 1);
		http_parser_execute(&mi->rp, &mirror_settings, v.iov_base, v.iov_len);
		evbuffer_drain(in, v.iov_len);
		e = HTTP_PARSER_ERRNO(&mi->rp);
		if (e == HPE_PAUSED) {
			mirror_end(mi, (int)mi->rp.status_code);
			return;
		}
		if (e != HPE_OK) {
			mirror_end(mi, 502);
			return;
		}
	}
}

static void m_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct mirror *mi = arg;

	if (what & BEV_EVENT_CONNECTED) {
		size_t len = evbuffer_get_length(mi->req);
		mi->connected = true;
		bufferevent_write(bev, evbuffer_pullup(mi->req, -1), len);
		bufferevent_enable(bev, EV_READ | EV_WRITE);
		return;
	}
	if (!mi->connected)
		px_endpoint_failed(mi->ep, px_now_us());
	mirror_end(mi, 0);
}

static void m_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	mirror_end(arg, 0);
}

struct px_mirror_pair *px_mirror_start(struct px_service *s, const struct px_msg *m,
				       const char *client_ip)
{
	sw_proxy *px = s->px;
	struct px_group *g = &s->groups[s->cfg->mirror_group];
	struct px_endpoint *ep;
	struct px_mirror_pair *p;
	struct mirror *mi;
	unsigned ms = s->cfg->mirror_timeout_ms;
	struct timeval tv = {ms / 1000, (long)(ms % 1000) * 1000};

	ep = px_pick_endpoint(s, g, NULL, 0, px_now_us());
	if (!ep || s->sh->mirrors_in_flight >= PX_MIRROR_MAX || px->draining) {
		s->sh->stats->mirror_dropped++;
		g->stats->mirror_dropped++;
		return NULL;
	}
	p = sw_xcalloc(1, sizeof(*p));
	p->refs = 2; /* the primary exchange and the shadow */
	p->px = px;
	p->stats[0] = s->sh->stats;
	p->stats[1] = g->stats;
	p->stats[0]->refs++;
	p->stats[1]->refs++;
	p->stats[0]->mirrored++;
	p->stats[1]->mirrored++;

	mi = sw_xcalloc(1, sizeof(*mi));
	mi->svc = s;
	px_service_ref(s);
	mi->g = g;
	mi->ep = ep;
	px_endpoint_ref(ep);
	ep->active++;
	s->sh->mirrors_in_flight++;
	mi->pair = p;
	mi->next = px->mirrors;
	if (mi->next)
		mi->next->prev = mi;
	px->mirrors = mi;
	mi->req = evbuffer_new();
	px_build_request(mi->req, m, client_ip, true);
	http_parser_init(&mi->rp, HTTP_RESPONSE);
	mi->rp.data = mi;
	mi->timer = evtimer_new(px->base, m_timer_cb, mi);
	evtimer_add(mi->timer, &tv);
	mi->bev = bufferevent_socket_new(px->base, -1, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(mi->bev, m_read_cb, NULL, m_event_cb, mi);
	if (bufferevent_socket_connect(mi->bev, (struct sockaddr *)&ep->sa, (int)ep->salen) < 0) {
		/* reported through the timer; keep the primary path untouched */
		bufferevent_disable(mi->bev, EV_READ | EV_WRITE);
	}
	return p;
}

void px_mirror_free_all(sw_proxy *px)
{
	while (px->mirrors)
		mirror_end(px->mirrors, 0);
}

void px_access_log(struct px_service *s, const struct px_msg *m, const char *client_ip,
		   const char *group, const char *endpoint, int status, uint64_t latency_us,
		   uint64_t bytes_out, bool shadowed)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	json_t *j;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	j = json_pack("{s:s,s:s,s:s,s:s,s:s%,s:i,s:s,s:s,s:f,s:I,s:b}", "time", when, "service",
		      s->cfg->name, "client", client_ip, "method",
		      http_method_str((enum http_method)m->parser.method), "path", px_msg_url(m),
		      (size_t)m->head.url_len, "status", status, "group", group, "endpoint",
		      endpoint, "durationMs", (double)latency_us / 1000.0, "bytesOut",
		      (json_int_t)bytes_out, "mirrored", shadowed);
	if (!j)
		return;
	json_dumpf(j, s->sh->access_log, JSON_COMPACT);
	fputc('\n', s->sh->access_log);
	fflush(s->sh->access_log);
	json_decref(j);
}
