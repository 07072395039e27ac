/*
 * proxy.c - slipway-proxy's core: applying a configuration (listeners kept
 * when unchanged, new ones bound before anything changes so a bad file
 * changes nothing), watching the file with inotify and SIGHUP, the admin
 * port (/metrics, /stats, /healthz; evhttp is fine there, the data path
 * uses bufferevents), and a bounded graceful shutdown.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/http.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "proxy_int.h"
#include "slipway/cleanup.h"
#include "slipway/log.h"
#include "slipway/mem.h"

/* ---- listeners --------------------------------------------------------- */

void px_listener_unref(struct px_listener *l)
{
	if (!l || --l->refs > 0)
		return;
	if (l->lev)
		evconnlistener_free(l->lev);
	px_service_unref(l->svc);
	free(l);
}

static void accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct px_listener *l = arg;

	(void)lev;
	if (l->px->draining || !l->svc) {
		evutil_closesocket(fd);
		return;
	}
	if (l->svc->cfg->mode == SW_PROXY_TCP)
		px_l4_accept(l, fd, sa, salen);
	else
		px_l7_accept(l, fd, sa, salen);
}

static void accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct px_listener *l = arg;

	(void)fd;
	(void)what;
	if (l->lev && !l->px->draining)
		evconnlistener_enable(l->lev);
	px_listener_unref(l);
}

static void accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct px_listener *l = arg;
	int e = EVUTIL_SOCKET_ERROR();
	struct timeval tv = {0, 200000};

	/* EMFILE and friends: pause accepting for a moment rather than spin */
	sw_warn("accept on %s: %s (pausing 200 ms)", l->key, evutil_socket_error_to_string(e));
	evconnlistener_disable(lev);
	l->refs++;
	if (event_base_once(l->px->base, -1, EV_TIMEOUT, accept_resume_cb, l, &tv) < 0)
		accept_resume_cb(-1, 0, l);
}

static int sockaddr_of(const char *addr, uint16_t port, struct sockaddr_storage *ss,
		       socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1 ? 0 : -1;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	*len = sizeof(*s4);
	return inet_pton(AF_INET, addr, &s4->sin_addr) == 1 ? 0 : -1;
}

static void listen_key(char *key, size_t size, const char *addr, uint16_t port)
{
	snprintf(key, size, strchr(addr, ':') ? "[%s]:%u" : "%s:%u", addr, port);
}

static struct px_listener *listener_find(sw_proxy *px, const char *key)
{
	for (struct px_listener *l = px->listeners; l; l = l->next)
		if (strcmp(l->key, key) == 0)
			return l;
	return NULL;
}

static struct px_listener *listener_bind(sw_proxy *px, const char *addr, uint16_t port,
					 sw_error **err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct px_listener *l = sw_xcalloc(1, sizeof(*l));

	l->refs = 1;
	l->px = px;
	listen_key(l->key, sizeof(l->key), addr, port);
	if (sockaddr_of(addr, port, &ss, &len) < 0) {
		sw_error_set(err, SW_EINVALID, "listen %s: bad address", l->key);
		free(l);
		return NULL;
	}
	l->lev = evconnlistener_new_bind(px->base, accept_cb, l,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
						 LEV_OPT_CLOSE_ON_EXEC,
					 1024, (struct sockaddr *)&ss, (int)len);
	if (!l->lev) {
		sw_error_set_errno(err, errno, "listen on %s", l->key);
		free(l);
		return NULL;
	}
	evconnlistener_set_error_cb(l->lev, accept_error_cb);
	return l;
}

/* ---- applying a configuration ------------------------------------------ */

static int admin_bind(sw_proxy *px, const struct sw_proxy_config *c, sw_error **err);

static int apply(sw_proxy *px, struct sw_proxy_config *cfg, sw_error **err)
{
	struct px_conf *conf = sw_xcalloc(1, sizeof(*conf));
	struct px_listener *fresh = NULL, *l, **pp;
	struct px_service **svcs;

	conf->refs = 1;
	conf->c = cfg;
	/* 1. bind what is new; on failure nothing has changed */
	for (l = px->listeners; l; l = l->next)
		l->keep = false;
	for (size_t i = 0; i < cfg->n_services; i++)
		for (size_t a = 0; a < cfg->services[i].n_listen; a++) {
			const struct sw_proxy_listen *ls = &cfg->services[i].listen[a];
			char key[72];
			listen_key(key, sizeof(key), ls->address, ls->port);
			if ((l = listener_find(px, key))) {
				l->keep = true;
				continue;
			}
			l = listener_bind(px, ls->address, ls->port, err);
			if (!l) {
				while (fresh) {
					l = fresh;
					fresh = l->next;
					px_listener_unref(l);
				}
				for (l = px->listeners; l; l = l->next)
					l->keep = false;
				sw_error_wrap(err, "service %s", cfg->services[i].name);
				px_conf_unref(conf);
				return SW_EINVALID;
			}
			l->keep = true;
			l->next = fresh;
			fresh = l;
		}
	/* 2. the new services */
	for (struct px_endpoint *e = px->endpoints; e; e = e->next)
		e->in_config = e->terminating = false;
	svcs = sw_xcalloc(cfg->n_services + 1, sizeof(*svcs));
	for (size_t i = 0; i < cfg->n_services; i++)
		svcs[i] = px_service_new(px, conf, i);
	while (fresh) {
		l = fresh;
		fresh = l->next;
		l->next = px->listeners;
		px->listeners = l;
	}
	/* 3. point listeners at them; close those no longer configured */
	for (size_t i = 0; i < cfg->n_services; i++)
		for (size_t a = 0; a < cfg->services[i].n_listen; a++) {
			char key[72];
			listen_key(key, sizeof(key), cfg->services[i].listen[a].address,
				   cfg->services[i].listen[a].port);
			l = listener_find(px, key);
			px_service_ref(svcs[i]);
			px_service_unref(l->svc);
			l->svc = svcs[i];
		}
	for (pp = &px->listeners; *pp;) {
		l = *pp;
		if (l->keep) {
			pp = &l->next;
			continue;
		}
		*pp = l->next;
		evconnlistener_free(l->lev); /* connections on it finish on their old service */
		l->lev = NULL;
		px_listener_unref(l);
	}
	for (size_t i = 0; i < px->n_svcs; i++)
		px_service_unref(px->svcs[i]);
	free(px->svcs);
	px->svcs = svcs;
	px->n_svcs = cfg->n_services;
	px_conf_unref(px->conf);
	px->conf = conf;
	px_pool_prune(px);
	if (admin_bind(px, cfg, err) < 0) {
		sw_log_error(*err, "admin port");
		sw_error_clear(err);
	}
	return 0;
}

int sw_proxy_reload(sw_proxy *p, sw_error **err)
{
	struct sw_proxy_config *cfg = NULL;

	if (sw_proxy_config_load(&cfg, p->config_path, err) < 0 || apply(p, cfg, err) < 0) {
		p->reload_failures++;
		return sw_error_wrap(err, "reload %s (the previous configuration stays)",
				     p->config_path);
	}
	p->reloads++;
	sw_info("configuration version %lld: %zu services", (long long)cfg->version,
		cfg->n_services);
	return 0;
}

static void reload_cb(evutil_socket_t fd, short what, void *arg)
{
	cleanup_error sw_error *err = NULL;
	sw_proxy *px = arg;

	(void)fd;
	(void)what;
	if (px->draining)
		return;
	if (sw_proxy_reload(px, &err) < 0)
		sw_log_error(err, "configuration rejected");
}

static void inotify_cb(evutil_socket_t fd, short what, void *arg)
{
	sw_proxy *px = arg;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool ours = false;
	ssize_t n;

	(void)what;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			if (ev->len > 0 && strcmp(ev->name, px->config_file) == 0)
				ours = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	if (ours) {
		/* coalesce a burst of events into one reload */
		struct timeval tv = {0, 20000};
		evtimer_add(px->reload_timer, &tv);
	}
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	sw_proxy *px = arg;
	uint64_t now = px_now_us();

	(void)fd;
	(void)what;
	for (struct px_shared *sh = px->shared; sh; sh = sh->next)
		px_affinity_sweep(px, sh, now);
}

/* ---- figures ----------------------------------------------------------- */

static json_t *endpoint_json(const struct px_group *g, size_t j, uint64_t now)
{
	const struct px_endpoint *e = g->eps[j];
	const struct sw_proxy_endpoint *cfg = &g->cfg->endpoints[j];

	return json_pack("{s:s,s:s?,s:I,s:b,s:b,s:I}", "address", e->key, "pod", cfg->pod,
			 "active", (json_int_t)e->active, "terminating", cfg->terminating, "down",
			 e->down_until_us > now, "idleConnections", (json_int_t)e->n_idle);
}

json_t *sw_proxy_stats_json(sw_proxy *p)
{
	json_t *o = json_object(), *svcs = json_array();
	uint64_t now = px_now_us();

	json_object_set_new(o, "version", json_integer(p->conf ? p->conf->c->version : 0));
	json_object_set_new(o, "reloads", json_integer((json_int_t)p->reloads));
	json_object_set_new(o, "reloadFailures", json_integer((json_int_t)p->reload_failures));
	json_object_set_new(o, "draining", json_boolean(p->draining));
	for (size_t i = 0; i < p->n_svcs; i++) {
		struct px_service *s = p->svcs[i];
		json_t *sj = px_stats_json(s->sh->stats, now), *groups = json_array();
		json_object_set_new(sj, "mode",
				    json_string(s->cfg->mode == SW_PROXY_TCP ? "tcp" : "http"));
		for (size_t g = 0; g < s->n_groups; g++) {
			json_t *gj = px_stats_json(s->groups[g].stats, now), *eps = json_array();
			json_object_set_new(gj, "weight", json_integer(s->groups[g].cfg->weight));
			for (size_t j = 0; j < s->groups[g].n_eps; j++)
				json_array_append_new(eps, endpoint_json(&s->groups[g], j, now));
			json_object_set_new(gj, "endpoints", eps);
			json_array_append_new(groups, gj);
		}
		json_object_set_new(sj, "groups", groups);
		json_array_append_new(svcs, sj);
	}
	json_object_set_new(o, "services", svcs);
	return o;
}

char *sw_proxy_metrics_text(sw_proxy *p)
{
	sw_buf out = SW_BUF_INIT(0);
	struct px_stats **all;
	size_t n = 0, cap = 1;

	for (size_t i = 0; i < p->n_svcs; i++)
		cap += 1 + p->svcs[i]->n_groups;
	all = sw_xcalloc(cap, sizeof(*all));
	for (size_t i = 0; i < p->n_svcs; i++) {
		all[n++] = p->svcs[i]->sh->stats;
		for (size_t g = 0; g < p->svcs[i]->n_groups; g++)
			all[n++] = p->svcs[i]->groups[g].stats;
	}
	px_stats_prometheus(&out, all, n, px_now_us());
	free(all);
	sw_buf_printf(&out, NULL,
		      "# HELP slipway_proxy_config_version version of the applied configuration\n"
		      "# TYPE slipway_proxy_config_version gauge\n"
		      "slipway_proxy_config_version %lld\n"
		      "# HELP slipway_proxy_reloads_total configurations applied\n"
		      "# TYPE slipway_proxy_reloads_total counter\n"
		      "slipway_proxy_reloads_total %llu\n"
		      "# HELP slipway_proxy_reload_failures_total configurations rejected\n"
		      "# TYPE slipway_proxy_reload_failures_total counter\n"
		      "slipway_proxy_reload_failures_total %llu\n",
		      (long long)(p->conf ? p->conf->c->version : 0),
		      (unsigned long long)p->reloads, (unsigned long long)p->reload_failures);
	return sw_buf_detach(&out);
}

static void admin_cb(struct evhttp_request *req, void *arg)
{
	sw_proxy *px = arg;
	const char *uri = evhttp_request_get_uri(req);
	struct evbuffer *body = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	size_t plen = strcspn(uri, "?");

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET &&
	    evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
		evhttp_send_error(req, 405, "only GET");
	} else if (plen == 8 && strncmp(uri, "/metrics", 8) == 0) {
		cleanup_free char *text = sw_proxy_metrics_text(px);
		evbuffer_add(body, text, strlen(text));
		evhttp_add_header(h, "Content-Type", "text/plain; version=0.0.4");
		evhttp_send_reply(req, 200, "OK", body);
	} else if (plen == 6 && strncmp(uri, "/stats", 6) == 0) {
		json_t *j = sw_proxy_stats_json(px);
		cleanup_free char *text = json_dumps(j, JSON_INDENT(1) | JSON_REAL_PRECISION(6));
		json_decref(j);
		evbuffer_add(body, text, strlen(text));
		evbuffer_add(body, "\n", 1);
		evhttp_add_header(h, "Content-Type", "application/json");
		evhttp_send_reply(req, 200, "OK", body);
	} else if (plen == 8 && strncmp(uri, "/healthz", 8) == 0) {
		evbuffer_add_printf(body, "%s\n", px->draining ? "draining" : "ok");
		evhttp_send_reply(req, px->draining ? 503 : 200, "OK", body);
	} else {
		evhttp_send_error(req, 404, "not found");
	}
	evbuffer_free(body);
}

static int admin_bind(sw_proxy *px, const struct sw_proxy_config *c, sw_error **err)
{
	char key[72] = "";

	if (c->admin_address)
		listen_key(key, sizeof(key), c->admin_address, c->admin_port);
	if (strcmp(key, px->admin_key) == 0)
		return 0;
	if (px->admin_sock) {
		evhttp_del_accept_socket(px->admin, px->admin_sock);
		px->admin_sock = NULL;
	}
	px->admin_key[0] = '\0';
	if (!c->admin_address)
		return 0;
	if (!px->admin) {
		px->admin = evhttp_new(px->base);
		evhttp_set_gencb(px->admin, admin_cb, px);
		evhttp_set_timeout(px->admin, 10);
	}
	px->admin_sock = evhttp_bind_socket_with_handle(px->admin, c->admin_address, c->admin_port);
	if (!px->admin_sock)
		return sw_error_set_errno(err, errno, "listen on %s", key);
	memcpy(px->admin_key, key, sizeof(key));
	return 0;
}

/* ---- life cycle -------------------------------------------------------- */

void px_session_end(sw_proxy *px)
{
	px->n_sessions--;
	if (px->draining && px->n_sessions == 0)
		event_base_loopbreak(px->base);
}

static void drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	sw_proxy *px = arg;

	(void)fd;
	(void)what;
	sw_warn("shutdown: %zu connections still busy after the drain bound, closing them",
		px->n_sessions);
	event_base_loopbreak(px->base);
}

void sw_proxy_shutdown(sw_proxy *p)
{
	struct timeval tv = {p->drain_ms / 1000, (long)(p->drain_ms % 1000) * 1000};

	if (p->draining)
		return;
	p->draining = true;
	sw_info("shutting down: %zu connections open", p->n_sessions);
	for (struct px_listener *l = p->listeners; l; l = l->next)
		if (l->lev) {
			evconnlistener_free(l->lev);
			l->lev = NULL;
		}
	px_pool_prune(p);
	px_l7_drain(p);
	if (p->n_sessions == 0) {
		event_base_loopbreak(p->base);
		return;
	}
	p->drain_timer = evtimer_new(p->base, drain_timeout_cb, p);
	evtimer_add(p->drain_timer, &tv);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	sw_proxy *px = arg;

	(void)what;
	if (sig == SIGHUP) {
		reload_cb(-1, 0, px);
		return;
	}
	sw_proxy_shutdown(px);
}

int sw_proxy_new(sw_proxy **out, struct event_base *base, const struct sw_proxy_options *opt,
		 sw_error **err)
{
	sw_proxy *px = sw_xcalloc(1, sizeof(*px));
	struct sw_proxy_config *cfg = NULL;
	cleanup_free char *d1 = sw_xstrdup(opt->config_path), *d2 = sw_xstrdup(opt->config_path);
	struct timeval one = {1, 0};

	px->base = base;
	px->inotify_fd = -1;
	px->drain_ms = opt->drain_ms ? opt->drain_ms : 10000;
	px->config_path = sw_xstrdup(opt->config_path);
	px->config_dir = sw_xstrdup(dirname(d1));
	px->config_file = sw_xstrdup(basename(d2));
	if (sw_proxy_config_load(&cfg, px->config_path, err) < 0 || apply(px, cfg, err) < 0) {
		sw_proxy_free(px);
		return SW_EINVALID;
	}
	px->reloads = 1;
	px->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (px->inotify_fd < 0 ||
	    inotify_add_watch(px->inotify_fd, px->config_dir,
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) < 0) {
		sw_error_set_errno(err, errno, "watch %s", px->config_dir);
		sw_proxy_free(px);
		return SW_ESYSTEM;
	}
	px->inotify_ev = event_new(base, px->inotify_fd, EV_READ | EV_PERSIST, inotify_cb, px);
	event_add(px->inotify_ev, NULL);
	px->reload_timer = evtimer_new(base, reload_cb, px);
	px->tick = event_new(base, -1, EV_PERSIST, tick_cb, px);
	event_add(px->tick, &one);
	px->sig_hup = evsignal_new(base, SIGHUP, signal_cb, px);
	px->sig_term = evsignal_new(base, SIGTERM, signal_cb, px);
	px->sig_int = evsignal_new(base, SIGINT, signal_cb, px);
	event_add(px->sig_hup, NULL);
	event_add(px->sig_term, NULL);
	event_add(px->sig_int, NULL);
	sw_info("configuration version %lld: %zu services", (long long)cfg->version,
		cfg->n_services);
	*out = px;
	return 0;
}

void sw_proxy_free(sw_proxy *p)
{
	struct px_listener *l;

	if (!p)
		return;
	p->draining = true;
	px_l7_free_all(p);
	px_l4_free_all(p);
	px_mirror_free_all(p);
	while ((l = p->listeners)) {
		p->listeners = l->next;
		px_listener_unref(l);
	}
	for (size_t i = 0; i < p->n_svcs; i++)
		px_service_unref(p->svcs[i]);
	free(p->svcs);
	px_conf_unref(p->conf);
	/* what is left: pooled connections and affinity entries */
	for (struct px_endpoint *e = p->endpoints; e; e = e->next)
		e->in_config = false;
	px_pool_prune(p);
	if (p->admin)
		evhttp_free(p->admin);
	if (p->inotify_ev)
		event_free(p->inotify_ev);
	if (p->inotify_fd >= 0)
		close(p->inotify_fd);
	if (p->reload_timer)
		event_free(p->reload_timer);
	if (p->tick)
		event_free(p->tick);
	if (p->drain_timer)
		event_free(p->drain_timer);
	if (p->sig_hup)
		event_free(p->sig_hup);
	if (p->sig_term)
		event_free(p->sig_term);
	if (p->sig_int)
		event_free(p->sig_int);
	free(p->config_path);
	free(p->config_dir);
	free(p->config_file);
	free(p);
}
