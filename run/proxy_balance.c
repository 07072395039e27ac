/*
 * proxy_balance.c - who gets a request: the endpoint registry (passive
 * health, in-flight counts and pooled connections per address:port), a
 * service's runtime view of its configuration, group choice by smooth
 * weighted round robin (nginx's algorithm: deterministic, so 90/10 is exactly
 * 9 in 10), endpoint choice by round robin or least connections, and
 * ClientIP affinity with a timeout.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_int.h"
#include "slipway/mem.h"

void px_conf_unref(struct px_conf *c)
{
	if (!c || --c->refs > 0)
		return;
	sw_proxy_config_free(c->c);
	free(c);
}

/* ---- endpoints --------------------------------------------------------- */

struct px_endpoint *px_endpoint_get(sw_proxy *px, const struct sw_proxy_endpoint *cfg)
{
	char key[72];
	struct px_endpoint *e;
	bool v6 = strchr(cfg->address, ':') != NULL;

	snprintf(key, sizeof(key), v6 ? "[%s]:%u" : "%s:%u", cfg->address, cfg->port);
	for (e = px->endpoints; e; e = e->next)
		if (strcmp(e->key, key) == 0) {
			e->refs++;
			return e;
		}
	e = sw_xcalloc(1, sizeof(*e));
	e->refs = 1;
	memcpy(e->key, key, sizeof(key));
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&e->sa;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(cfg->port);
		inet_pton(AF_INET6, cfg->address, &s6->sin6_addr);
		e->salen = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&e->sa;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(cfg->port);
		inet_pton(AF_INET, cfg->address, &s4->sin_addr);
		e->salen = sizeof(*s4);
	}
	e->next = px->endpoints;
	px->endpoints = e;
	return e;
}

void px_endpoint_ref(struct px_endpoint *e)
{
	e->refs++;
}

void px_endpoint_unref(sw_proxy *px, struct px_endpoint *e)
{
	if (!e || --e->refs > 0)
		return;
	while (e->idle)
		px_upstream_free(e->idle);
	for (struct px_endpoint **pp = &px->endpoints; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	free(e);
}

/* Passive health: refused or timed-out connects take the endpoint out for
 * 1 s, doubling per consecutive failure up to 16 s. */
void px_endpoint_failed(struct px_endpoint *e, uint64_t now_us)
{
	unsigned shift = e->fails < 4 ? e->fails : 4;

	e->fails++;
	e->down_until_us = now_us + (1000000u << shift);
}

void px_endpoint_ok(struct px_endpoint *e)
{
	e->fails = 0;
	e->down_until_us = 0;
}

/* ---- shared per-service state ------------------------------------------ */

struct px_shared *px_shared_get(sw_proxy *px, const char *name)
{
	struct px_shared *sh;

	for (sh = px->shared; sh; sh = sh->next)
		if (strcmp(sh->name, name) == 0) {
			sh->refs++;
			return sh;
		}
	sh = sw_xcalloc(1, sizeof(*sh));
	sh->refs = 1;
	sh->name = sw_xstrdup(name);
	sh->stats = px_stats_get(&px->stats, name, NULL);
	sh->next = px->shared;
	px->shared = sh;
	return sh;
}

static void affinity_clear(sw_proxy *px, struct px_shared *sh)
{
	for (unsigned b = 0; b < PX_AFF_BUCKETS; b++)
		while (sh->aff[b]) {
			struct px_affinity *a = sh->aff[b];
			sh->aff[b] = a->next;
			px_endpoint_unref(px, a->ep);
			free(a);
		}
}

void px_shared_unref(sw_proxy *px, struct px_shared *sh)
{
	if (!sh || --sh->refs > 0)
		return;
	for (struct px_shared **pp = &px->shared; *pp; pp = &(*pp)->next)
		if (*pp == sh) {
			*pp = sh->next;
			break;
		}
	affinity_clear(px, sh);
	px_stats_unref(&px->stats, sh->stats);
	if (sh->access_log)
		fclose(sh->access_log);
	free(sh->access_log_path);
	free(sh->name);
	free(sh);
}

/* ---- services ---------------------------------------------------------- */

struct px_service *px_service_new(sw_proxy *px, struct px_conf *conf, size_t index)
{
	struct px_service *s = sw_xcalloc(1, sizeof(*s));
	const struct sw_proxy_service *cfg = &conf->c->services[index];

	s->refs = 1;
	s->px = px;
	s->conf = conf;
	conf->refs++;
	s->cfg = cfg;
	s->sh = px_shared_get(px, cfg->name);
	s->n_groups = cfg->n_groups;
	for (size_t i = 0; i < cfg->n_groups; i++) {
		struct px_group *g = &s->groups[i];
		g->cfg = &cfg->groups[i];
		g->stats = px_stats_get(&px->stats, cfg->name, g->cfg->name);
		g->n_eps = g->cfg->n_endpoints;
		g->eps = sw_xcalloc(g->n_eps + 1, sizeof(*g->eps));
		for (size_t j = 0; j < g->n_eps; j++) {
			g->eps[j] = px_endpoint_get(px, &g->cfg->endpoints[j]);
			g->eps[j]->in_config = true;
			if (g->cfg->endpoints[j].terminating)
				g->eps[j]->terminating = true;
		}
	}
	/* the access log is (re)opened at every reload, so rotation works */
	if (s->sh->access_log) {
		fclose(s->sh->access_log);
		s->sh->access_log = NULL;
	}
	free(s->sh->access_log_path);
	s->sh->access_log_path = NULL;
	if (cfg->access_log) {
		s->sh->access_log = fopen(cfg->access_log, "ae");
		if (s->sh->access_log)
			s->sh->access_log_path = sw_xstrdup(cfg->access_log);
	}
	return s;
}

void px_service_ref(struct px_service *s)
{
	s->refs++;
}

void px_service_unref(struct px_service *s)
{
	if (!s || --s->refs > 0)
		return;
	for (size_t i = 0; i < s->n_groups; i++) {
		struct px_group *g = &s->groups[i];
		for (size_t j = 0; j < g->n_eps; j++)
			px_endpoint_unref(s->px, g->eps[j]);
		free(g->eps);
		px_stats_unref(&s->px->stats, g->stats);
	}
	px_shared_unref(s->px, s->sh);
	px_conf_unref(s->conf);
	free(s);
}

/* ---- choosing ---------------------------------------------------------- */

static bool was_tried(struct px_endpoint *const *tried, size_t n, const struct px_endpoint *e)
{
	for (size_t i = 0; i < n; i++)
		if (tried[i] == e)
			return true;
	return false;
}

static bool usable(const struct px_group *g, size_t j, struct px_endpoint *const *tried,
		   size_t n_tried, uint64_t now_us, bool allow_down)
{
	const struct px_endpoint *e = g->eps[j];

	if (g->cfg->endpoints[j].terminating || was_tried(tried, n_tried, e))
		return false;
	return allow_down || e->down_until_us <= now_us;
}

static bool group_usable(const struct px_group *g, struct px_endpoint *const *tried,
			 size_t n_tried, uint64_t now_us, bool allow_down)
{
	for (size_t j = 0; j < g->n_eps; j++)
		if (usable(g, j, tried, n_tried, now_us, allow_down))
			return true;
	return false;
}

static struct px_group *swrr(struct px_service *s, struct px_endpoint *const *tried,
			     size_t n_tried, uint64_t now_us, bool allow_down)
{
	struct px_group *best = NULL;
	int64_t total = 0;

	for (size_t i = 0; i < s->n_groups; i++) {
		struct px_group *g = &s->groups[i];
		if (g->cfg->weight == 0 || !group_usable(g, tried, n_tried, now_us, allow_down))
			continue;
		g->swrr += g->cfg->weight;
		total += g->cfg->weight;
		if (!best || g->swrr > best->swrr)
			best = g;
	}
	if (best)
		best->swrr -= total;
	return best;
}

struct px_group *px_pick_group(struct px_service *s)
{
	uint64_t now = px_now_us();
	struct px_group *g = swrr(s, NULL, 0, now, false);

	return g ? g : swrr(s, NULL, 0, now, true);
}

static struct px_endpoint *pick_in(struct px_service *s, struct px_group *g,
				   struct px_endpoint *const *tried, size_t n_tried,
				   uint64_t now_us, bool allow_down)
{
	size_t n = g->n_eps, best = SIZE_MAX;

	if (n == 0)
		return NULL;
	for (size_t k = 0; k < n; k++) {
		size_t j = (g->rr + k) % n;
		if (!usable(g, j, tried, n_tried, now_us, allow_down))
			continue;
		if (s->cfg->balance == SW_PROXY_ROUND_ROBIN) {
			best = j;
			break;
		}
		if (best == SIZE_MAX || g->eps[j]->active < g->eps[best]->active)
			best = j;
	}
	if (best == SIZE_MAX)
		return NULL;
	g->rr = best + 1;
	return g->eps[best];
}

struct px_endpoint *px_pick_endpoint(struct px_service *s, struct px_group *g,
				     struct px_endpoint *const *tried, size_t n_tried,
				     uint64_t now_us)
{
	struct px_endpoint *e = pick_in(s, g, tried, n_tried, now_us, false);

	return e ? e : pick_in(s, g, tried, n_tried, now_us, true);
}

static unsigned ip_hash(const char *ip)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *ip; ip++) {
		h ^= (uint8_t)*ip;
		h *= 16777619u;
	}
	return h % PX_AFF_BUCKETS;
}

static struct px_affinity *affinity_find(struct px_shared *sh, const char *ip)
{
	for (struct px_affinity *a = sh->aff[ip_hash(ip)]; a; a = a->next)
		if (strcmp(a->ip, ip) == 0)
			return a;
	return NULL;
}

void px_affinity_sweep(sw_proxy *px, struct px_shared *sh, uint64_t now_us)
{
	for (unsigned b = 0; b < PX_AFF_BUCKETS; b++)
		for (struct px_affinity **pp = &sh->aff[b]; *pp;) {
			struct px_affinity *a = *pp;
			if (a->expires_us > now_us) {
				pp = &a->next;
				continue;
			}
			*pp = a->next;
			px_endpoint_unref(px, a->ep);
			free(a);
		}
}

static void affinity_set(struct px_service *s, const char *ip, struct px_endpoint *e,
			 uint64_t now_us)
{
	struct px_affinity *a = affinity_find(s->sh, ip);

	if (!a) {
		unsigned b = ip_hash(ip);
		a = sw_xcalloc(1, sizeof(*a));
		snprintf(a->ip, sizeof(a->ip), "%s", ip);
		a->next = s->sh->aff[b];
		s->sh->aff[b] = a;
	} else if (a->ep != e) {
		px_endpoint_unref(s->px, a->ep);
		a->ep = NULL;
	}
	if (a->ep != e) {
		px_endpoint_ref(e);
		a->ep = e;
	}
	a->expires_us = now_us + (uint64_t)s->cfg->affinity_timeout_s * 1000000u;
}

static bool affinity_pick(struct px_service *s, const char *ip, struct px_endpoint *const *tried,
			  size_t n_tried, uint64_t now_us, struct px_pick *out)
{
	struct px_affinity *a = affinity_find(s->sh, ip);

	if (!a || a->expires_us <= now_us)
		return false;
	for (size_t i = 0; i < s->n_groups; i++) {
		struct px_group *g = &s->groups[i];
		for (size_t j = 0; j < g->n_eps; j++)
			if (g->eps[j] == a->ep && usable(g, j, tried, n_tried, now_us, false)) {
				out->g = g;
				out->ep = a->ep;
				out->by_weight = false;
				return true;
			}
	}
	return false;
}

bool px_choose(struct px_service *s, int group_hint, const char *client_ip,
	       struct px_endpoint *const *tried, size_t n_tried, struct px_pick *out)
{
	uint64_t now = px_now_us();
	bool aff = s->cfg->affinity && client_ip;

	memset(out, 0, sizeof(*out));
	if (group_hint >= 0 && (size_t)group_hint < s->n_groups) {
		struct px_group *g = &s->groups[group_hint];
		bool ok = false;
		if (aff && affinity_pick(s, client_ip, tried, n_tried, now, out))
			ok = out->g == g;
		if (!ok) {
			out->g = g;
			out->ep = px_pick_endpoint(s, g, tried, n_tried, now);
		}
		if (out->ep)
			goto found;
	}
	if (aff && affinity_pick(s, client_ip, tried, n_tried, now, out))
		goto found;
	out->g = swrr(s, tried, n_tried, now, false);
	if (!out->g)
		out->g = swrr(s, tried, n_tried, now, true);
	if (!out->g)
		return false;
	out->ep = px_pick_endpoint(s, out->g, tried, n_tried, now);
	if (!out->ep)
		return false;
	out->by_weight = true;
found:
	if (aff)
		affinity_set(s, client_ip, out->ep, now);
	return true;
}
