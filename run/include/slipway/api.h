/*
 * api.h - slipwayd's API server: the store over HTTP in the Kubernetes
 * shape, so both `slipway` and stock kubectl can drive the daemon.
 *
 * One libevent evhttp per listener, all on the daemon's event loop: the
 * Unix socket (mode 0600 from birth, no authentication: the file mode is
 * the access control) and optionally a TCP listener on which every
 * request needs `Authorization: Bearer TOKEN` (tokens in STATE/tokens, see
 * api_token.h).
 *
 * Served: discovery (/version, /api, /apis, /api/v1, /apis/apps/v1, ...),
 * health (/healthz, /readyz, /livez), GET/LIST/POST/PUT/PATCH/DELETE and
 * ?watch=1 for every kind of kinds.h, the /status and /scale subresources,
 * meta.k8s.io/v1 Tables for kubectl, pod logs (from the files the shim
 * writes under STATE/pods), and pod exec and metrics through hooks the node
 * agent provides. Not served: SPDY/websocket upgrades (kubectl exec,
 * attach, port-forward), OpenAPI documents (404, so kubectl apply needs
 * --validate=false), server-side apply.
 */
#ifndef SLIPWAY_API_H
#define SLIPWAY_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slipway/error.h"
#include "slipway/kinds.h"
#include "slipway/store.h"

struct event_base;

typedef struct sw_api sw_api;

typedef struct sw_api_opts {
	const char *state_dir;   /* STATE: tokens, pod logs under STATE/pods */
	size_t max_body;         /* 0: 3 MiB, as Kubernetes */
} sw_api_opts;

int sw_api_new(sw_api **out, struct event_base *base, sw_store *store, const sw_api_opts *opts,
               sw_error **err);
/* Ends every watch and log stream, closes the listeners and removes the
 * Unix socket file. */
void sw_api_free(sw_api *api);

/* Listens on a Unix socket at path, created 0600. An existing socket file
 * is replaced only when nothing answers on it (a stale one from a crash);
 * a live one is SW_EEXISTS. */
int sw_api_listen_unix(sw_api *api, const char *path, sw_error **err);
/* Listens on TCP host:port (port 0: the kernel picks; *bound_port gets the
 * port actually bound), plain HTTP. Every request on it needs a valid
 * bearer token. */
int sw_api_listen_tcp(sw_api *api, const char *host, int port, int *bound_port, sw_error **err);
/* The same over TLS, with the key and self-signed certificate of
 * STATE/tls/server.{key,crt} (made on first use). kubectl sends bearer
 * tokens only over https, so this is the listener for kubectl. */
int sw_api_listen_tls(sw_api *api, const char *host, int port, int *bound_port, sw_error **err);

/*
 * Parses what --listen takes: "tcp://HOST:PORT" or "http://HOST:PORT"
 * (plain HTTP), "https://HOST:PORT" or "tls://HOST:PORT" (*tls set), into
 * a host (caller frees) and a port 0..65535.
 */
int sw_api_parse_listen(const char *spec, char **host, int *port, bool *tls, sw_error **err);

/*
 * Admission: called for every create and update body (POST, PUT, PATCH,
 * /status and /scale writes) after the URL checks and before the store.
 * obj may be changed (defaults). old is the stored object for an update,
 * NULL for a create. On failure return < 0 with *err set; *causes may get
 * an array of {"field": "spec.replicas", "message": "..."} (the API
 * answers 422 Invalid with them as details.causes); without causes the
 * error's message becomes the single cause.
 */
typedef int (*sw_api_admit_fn)(void *ctx, const sw_kind *k, json_t *obj, const json_t *old,
                               json_t **causes, sw_error **err);
void sw_api_set_admit(sw_api *api, sw_api_admit_fn fn, void *ctx);

/*
 * Exec: runs argv in a running container of pod (the stored object),
 * non-interactively with stdin_data as input; fills the exit code and the
 * captured output (caller frees out and errout). This form blocks the
 * loop while the command runs; prefer the async form below when there is
 * one (sw_podrt_exec_async fits it).
 */
typedef int (*sw_api_exec_fn)(void *ctx, const json_t *pod, const char *container,
                              const char *const *argv, const char *stdin_data, size_t stdin_len,
                              int *exit_code, char **out, size_t *out_len, char **errout,
                              size_t *errout_len, sw_error **err);
void sw_api_set_exec(sw_api *api, sw_api_exec_fn fn, void *ctx);

/*
 * Exec without blocking the loop: done(done_ctx, ...) is called once, on
 * the loop, when the command ended (err NULL; exit_code 128+signal when
 * killed, -1 on timeout) or could not run (err set); it may be called
 * before the hook returns. A hook that fails at once returns < 0 with *err
 * set and does not call done. stdin_data is valid during the call only.
 * When set, it is used instead of the blocking form.
 */
typedef void (*sw_api_exec_done_fn)(void *done_ctx, int exit_code, const char *out,
                                    size_t out_len, const char *errout, size_t errout_len,
                                    const sw_error *err);
typedef int (*sw_api_exec_async_fn)(void *ctx, const json_t *pod, const char *container,
                                    const char *const *argv, const char *stdin_data,
                                    size_t stdin_len, int timeout_ms, sw_api_exec_done_fn done,
                                    void *done_ctx, sw_error **err);
void sw_api_set_exec_async(sw_api *api, sw_api_exec_async_fn fn, void *ctx);

/*
 * Metrics: a container's current CPU use (nanocores, a rate the agent
 * computes from the cgroup's usage between samples) and memory (working
 * set, bytes). SW_ENOTFOUND when the container does not run.
 */
typedef int (*sw_api_metrics_fn)(void *ctx, const json_t *pod, const char *container,
                                 uint64_t *cpu_nanocores, uint64_t *memory_bytes, sw_error **err);
void sw_api_set_metrics(sw_api *api, sw_api_metrics_fn fn, void *ctx);

#endif
