/*
 * client.h - the CLI's client for slipwayd's Kubernetes-style REST API,
 * on libcurl.
 *
 * Target: $SLIPWAY_HOST, `unix:///path/to.sock`, `http://127.0.0.1:PORT` or
 * `https://127.0.0.1:PORT` (then `Authorization: Bearer $SLIPWAY_TOKEN`;
 * https trusts $SLIPWAY_CACERT, else STATE/tls/server.crt, slipwayd's
 * self-signed certificate), else the state dir's slipwayd.sock. Requests and responses are JSON; an error response (a
 * Kubernetes Status body) becomes an sw_error whose message is kubectl's
 * line, `Error from server (NotFound): deployments.apps "web" not found`,
 * and whose code follows the HTTP status (404 SW_ENOTFOUND, 409
 * SW_ECONFLICT or SW_EEXISTS, 422/400 SW_EINVALID, 401/403 SW_EAUTH, 410
 * SW_EGONE). A daemon that does not answer gives "cannot connect to
 * slipwayd at ...: is it running? start it with `slipway up`".
 *
 * Not here: what the verbs do with the objects (cmd/slipway/cmd_*.c) or
 * how they are printed (printers.h).
 */
#ifndef SLIPWAY_CLIENT_H
#define SLIPWAY_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "slipway/error.h"
#include "slipway/kinds.h"

/* Responses larger than this are refused (SW_ETOOBIG). */
#define SW_CLIENT_MAX_RESPONSE (64u << 20)

typedef struct sw_client sw_client;

/* state_dir: the resolved state dir (for the default socket); may be NULL
 * when SLIPWAY_HOST is set. Does not connect. */
int sw_client_open(sw_client **out, const char *state_dir, sw_error **err);
void sw_client_free(sw_client *c);
/* "unix:///var/lib/slipway/slipwayd.sock" or "http://127.0.0.1:PORT". */
const char *sw_client_target(const sw_client *c);

/*
 * One request: method "GET", "POST", "PUT", "PATCH" (a JSON merge patch),
 * "DELETE"; path with its query ("/api/v1/namespaces/default/pods?
 * labelSelector=app%3Dweb"); body may be NULL. On a 2xx answer *out (may
 * be NULL) gets the parsed body (NULL when empty) and 0 is returned.
 */
int sw_client_request(sw_client *c, const char *method, const char *path, const json_t *body,
                      json_t **out, sw_error **err);

/* The same with a raw body (exec's stdin): content_type NULL means JSON. */
int sw_client_request_raw(sw_client *c, const char *method, const char *path, const char *content_type,
                          const void *data, size_t len, json_t **out, sw_error **err);

/*
 * A streaming GET (?watch=1, log follow): cb gets every line (without its
 * newline, NUL-terminated) as it arrives; it returns true to go on, false
 * to stop. timeout_ms > 0 ends the stream after that long with *timed_out
 * set (timed_out may be NULL). Returns 0 when the stream ended (server
 * closed, callback stopped, timeout).
 */
typedef bool (*sw_client_line_fn)(const char *line, size_t len, void *payload);
int sw_client_stream(sw_client *c, const char *path, long timeout_ms, bool *timed_out,
                     sw_client_line_fn cb, void *payload, sw_error **err);

/* Is the daemon answering on /readyz (a short timeout)? */
bool sw_client_ready(sw_client *c);

/*
 * "/apis/apps/v1/namespaces/NS/deployments[/NAME[/SUB]]"; ns NULL or "" for
 * every namespace (or a cluster-scoped kind). Caller frees.
 */
char *sw_client_path(const sw_kind *k, const char *ns, const char *name, const char *sub);
/* Percent-encodes s for a query value; caller frees. */
char *sw_client_escape(const char *s);

/* The kubectl line for a Status body and HTTP status; caller frees. Public
 * for tests. */
char *sw_client_status_message(const json_t *status, long http_status, const char *fallback);

#endif
