/*
 * services.h - the control plane of Services: cluster IP and node port
 * assignment, the endpoints controller (v1 Endpoints per Service), and the
 * configuration of slipway-proxy, the data plane, which this part starts,
 * supervises and re-adopts.
 *
 *   Services + Pods (store) --sync--> Endpoints objects (store)
 *                                \--> STATE/proxy/config.json (atomic rename;
 *                                     the proxy watches it with inotify)
 *
 * The proxy runs detached from slipwayd (its own session), so it keeps
 * serving from the last configuration while slipwayd restarts or is down;
 * a restarted slipwayd finds it by STATE/proxy/proxy.pid (pid and start
 * time) and rewrites the configuration from the store (level-triggered).
 *
 * A pod is an endpoint of a Service when its labels match the Service's
 * selector; it is a ready address while its Ready condition is True and it
 * is not terminating; a terminating pod is handed to the proxy as
 * "terminating" (no new requests, in-flight ones finish) and is not an
 * Endpoints address. Ports: pods share the host network, so a Service
 * port's targetPort (number or name) is mapped through the pod's
 * status.slipwayPorts to the host port the node agent allocated.
 *
 * Traffic controls live on the Service, in the annotation
 * slipway.dev/traffic (JSON), written by users or by rollout strategies:
 *   {"groups": [{"name": "stable", "selector": {"rollouts-pod-template-hash": "abc"}, "weight": 90},
 *               {"name": "canary", "selector": {...}, "weight": 10},
 *               {"name": "shadow", "selector": {...}, "weight": 0}],
 *    "rules":  [{"match": {"header": {"name": "X-Variant", "value": "b"}}, "group": "canary"}],
 *    "sticky": {"cookie": "slipway-variant", "maxAgeSeconds": 86400},
 *    "mirror": {"group": "shadow", "percent": 10, "unsafeMethods": false, "timeoutMs": 1000},
 *    "balance": "round-robin" | "least-conn"}
 * Without it a Service has one group, "default", of all its endpoints.
 * The annotation slipway.dev/protocol: http (or a port named http/https
 * or appProtocol http) selects the proxy's L7 mode; otherwise L4 (tcp).
 */
#ifndef SLIPWAY_SERVICES_H
#define SLIPWAY_SERVICES_H

#include <jansson.h>
#include <stdbool.h>

#include "slipway/error.h"
#include "slipway/store.h"

struct event_base;
typedef struct sw_services sw_services;

typedef struct sw_services_opts {
	const char *state_dir;     /* STATE: the proxy's folder is STATE/proxy */
	const char *proxy_bin;     /* the slipway-proxy executable; NULL: do not run one */
	int admin_port;            /* the proxy's admin port; 0: chosen once, kept */
} sw_services_opts;

int sw_services_start(sw_services **out, struct event_base *base, sw_store *store,
                      const sw_services_opts *opts, sw_error **err);
/* Stops the controller; the proxy keeps running. */
void sw_services_free(sw_services *s);
/* Brings Endpoints, Services' assigned fields and the proxy configuration
 * up to date now (what the debounced watch callback does). */
int sw_services_sync(sw_services *s, sw_error **err);
/* "http://127.0.0.1:PORT" of the proxy's admin endpoint (/metrics, /stats). */
const char *sw_services_admin_url(const sw_services *s);
/* The proxy's pid, or 0 when none runs. */
int sw_services_proxy_pid(const sw_services *s);

/* ---- the pure parts (tests) -------------------------------------------- */

/* The v1 Endpoints object of svc given every pod of its namespace. */
json_t *sw_services_endpoints(const json_t *svc, const json_t *pods);
/* The proxy configuration entries ("services" array items) of svc, one per
 * Service port; *err when the traffic annotation is invalid. */
int sw_services_proxy_entries(const json_t *svc, const json_t *pods, const char *state_dir,
                              json_t *into, sw_error **err);

#endif
