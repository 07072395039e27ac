/*
 * proxy.h - slipway-proxy, the data plane of Services: its configuration
 * file (the interface with slipwayd) and the proxy's entry points.
 *
 * slipwayd's endpoints controller writes the configuration as one JSON file,
 * atomically (sw_proxy_config_write: temp file, fsync, rename). The proxy
 * watches the file with inotify and re-reads it on SIGHUP. A file that does
 * not parse or validate, or whose listeners cannot be bound, is rejected with
 * a logged error naming the field, and the previous configuration keeps
 * serving; so does the proxy when slipwayd is down.
 *
 * Schema (every field not marked optional is required; unknown fields are
 * errors, so a version skew between slipwayd and the proxy shows at once):
 *
 * {
 *  "version": 7,                      integer, increases with every write
 *  "admin": {"address": "127.0.0.1", "port": 9901},   optional (no admin port)
 *        GET /metrics (Prometheus text), GET /stats (JSON), GET /healthz
 *  "services": [{
 *    "name": "default/web",           namespace/name, unique
 *    "listen": [{"address": "127.0.0.1", "port": 8080}],   1..8 entries;
 *        ClusterIP: 127.0.0.1 + port; NodePort: 0.0.0.0 + nodePort
 *    "mode": "http" | "tcp",           optional, default "http"
 *    "balance": "round-robin" | "least-conn",   optional, default round-robin
 *    "affinity": {"clientIP": true, "timeoutSeconds": 10800},  optional;
 *        timeoutSeconds 1..86400, default 10800 (Kubernetes' ClientIP)
 *    "groups": [{"name": "stable", "weight": 90,
 *                "endpoints": [{"address": "127.0.0.1", "port": 40001,
 *                               "pod": "default/web-abc",      optional
 *                               "terminating": false}]}],      optional
 *        1..16 groups, unique names; weight 0..10000 (0: only reached by
 *        rules, the sticky cookie or mirroring). Weights are shares among
 *        groups that have a usable endpoint, split by smooth weighted round
 *        robin (deterministic: 90/10 gives exactly 9 in every 10 requests).
 *        Terminating endpoints get no new connections or requests; the ones
 *        in flight finish.
 *    "rules": [{"match": {...}, "group": "canary"}],   optional, http only.
 *        First matching rule wins; a match holds one or more of these
 *        conditions, all of which must hold:
 *          "header": {"name": "X-Variant", "value": "b"}  name case-insensitive,
 *                                                          value exact
 *          "cookie": {"name": "variant", "value": "b"}    exact
 *          "pathPrefix": "/beta"                          prefix of the path
 *          "method": "POST"                               exact
 *          "userAgent": "Mobile"                          substring of User-Agent
 *        A rule whose group has no usable endpoint falls through to weights.
 *    "sticky": {"cookie": "slipway-variant", "maxAgeSeconds": 86400},
 *        optional, http only: when the group was chosen by weight, the
 *        response sets COOKIE=GROUP (Max-Age, Path=/, HttpOnly); a request
 *        carrying that cookie for a usable group goes to that group.
 *    "mirror": {"group": "shadow", "percent": 10, "unsafeMethods": false,
 *               "timeoutMs": 1000},   optional, http only. percent 0..100
 *        (exact over every 100 eligible requests); only GET, HEAD and OPTIONS
 *        unless unsafeMethods. The copy carries X-Slipway-Shadow: 1, has its
 *        own timeout, its response is discarded; it never delays or alters
 *        the primary response.
 *    "timeouts": {"connectMs": 3000, "serverMs": 30000,
 *                 "clientIdleMs": 60000, "headerMs": 10000},  optional, each
 *        optional, these defaults; 1..3600000. connectMs is longer than
 *        the kernel's first SYN retransmit (1 s), so a backend whose listen
 *        backlog overflowed once is waited for, not answered with 502.
 *    "accessLog": "/path/to/access.log"   optional: JSON lines, one per request
 *  }]
 * }
 *
 * Routing order for a request (http): rules, then the sticky cookie, then
 * ClientIP affinity (when the remembered endpoint is usable), then weights.
 * In tcp mode only weights, balance and affinity apply.
 *
 * Figures (per service and per group; sw_proxy_stats_json, /metrics):
 * requests, responses by class, errors (connect, timeout, 5xx, bad
 * response), bytes in/out, active connections, latency p50/p90/p99 over the
 * last 60 s (1 s buckets, fixed log-scale bins), mirrored requests, their
 * successes (a response below 500 within the timeout) and how often the
 * shadow's status class differed from the primary's.
 */
#ifndef SLIPWAY_PROXY_H
#define SLIPWAY_PROXY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slipway/error.h"

struct event_base;

#define SW_PROXY_MAX_GROUPS 16
#define SW_PROXY_MAX_LISTEN 8

enum sw_proxy_mode { SW_PROXY_HTTP, SW_PROXY_TCP };
enum sw_proxy_balance { SW_PROXY_ROUND_ROBIN, SW_PROXY_LEAST_CONN };

struct sw_proxy_endpoint {
	char *address;
	uint16_t port;
	char *pod; /* may be NULL */
	bool terminating;
};

struct sw_proxy_group {
	char *name;
	unsigned weight;
	struct sw_proxy_endpoint *endpoints;
	size_t n_endpoints;
};

/* A rule's match: the non-NULL conditions must all hold. */
struct sw_proxy_match {
	char *header_name, *header_value;
	char *cookie_name, *cookie_value;
	char *path_prefix;
	char *method;
	char *user_agent;
};

struct sw_proxy_rule {
	struct sw_proxy_match match;
	size_t group; /* index into groups */
};

struct sw_proxy_listen {
	char *address;
	uint16_t port;
};

struct sw_proxy_service {
	char *name;
	struct sw_proxy_listen listen[SW_PROXY_MAX_LISTEN];
	size_t n_listen;
	enum sw_proxy_mode mode;
	enum sw_proxy_balance balance;
	bool affinity;
	unsigned affinity_timeout_s;
	struct sw_proxy_group *groups;
	size_t n_groups;
	struct sw_proxy_rule *rules;
	size_t n_rules;
	char *sticky_cookie; /* NULL: no sticky cookie */
	unsigned sticky_max_age_s;
	bool mirror;
	size_t mirror_group;
	unsigned mirror_percent;
	bool mirror_unsafe;
	unsigned mirror_timeout_ms;
	unsigned connect_ms, server_ms, client_idle_ms, header_ms;
	char *access_log; /* NULL: none */
};

struct sw_proxy_config {
	int64_t version;
	char *admin_address; /* NULL: no admin listener */
	uint16_t admin_port;
	struct sw_proxy_service *services;
	size_t n_services;
};

/* Parses and validates a configuration; errors name the field
 * ("services[0].groups[1].weight: ..."), what prefixes them (a file name). */
int sw_proxy_config_parse(struct sw_proxy_config **out, const json_t *j, const char *what,
			  sw_error **err);
/* Reads a configuration file (at most 16 MiB). */
int sw_proxy_config_load(struct sw_proxy_config **out, const char *path, sw_error **err);
void sw_proxy_config_free(struct sw_proxy_config *c);
/* For slipwayd: validates j, then writes it to path atomically (PATH.tmp,
 * fsync, rename), mode 0644. */
int sw_proxy_config_write(const char *path, const json_t *j, sw_error **err);

typedef struct sw_proxy sw_proxy;

struct sw_proxy_options {
	const char *config_path;
	unsigned drain_ms; /* bound on finishing in-flight work at shutdown; 0: 10000 */
};

/* Loads the configuration, binds the listeners and the admin port on base,
 * and starts watching the file. */
int sw_proxy_new(sw_proxy **out, struct event_base *base, const struct sw_proxy_options *opt,
		 sw_error **err);
/* Re-reads the file and applies it; on failure the old configuration stays. */
int sw_proxy_reload(sw_proxy *p, sw_error **err);
/* Closes the listeners and finishes in-flight requests (idle connections are
 * closed, busy ones after their response), at most drain_ms; then breaks the
 * event loop. */
void sw_proxy_shutdown(sw_proxy *p);
void sw_proxy_free(sw_proxy *p);

/* The figures: a JSON object {"version":..,"services":[...]} (caller
 * decrefs), and the Prometheus text exposition (caller frees). */
json_t *sw_proxy_stats_json(sw_proxy *p);
char *sw_proxy_metrics_text(sw_proxy *p);

#endif
