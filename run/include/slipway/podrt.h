/*
 * podrt.h - containers of pods on this host: an overlay rootfs over the
 * image's cached layers, a runc container per pod container, a shim process
 * owning each, logs and exit status in the pod's folder. Knows nothing of the
 * API store: the node agent decides what runs; this carries it out.
 *
 * Every call is quick (no call waits for a container to exit or for a layer
 * to unpack): sw_podrt_start writes the container's spec and spawns its shim
 * (the `slipway-shim` binary), which unpacks missing layers, mounts the
 * rootfs, writes config.json and runs runc; completion is reported through
 * the change callback, on the event loop.
 *
 * On disk (STATE = state_dir):
 *   STATE/pods/<uid>/                      0700, one per pod (sw_podrt_pod_dir)
 *   STATE/pods/<uid>/secrets/              tmpfs 0700 for Secret volumes (sw_podrt_secret_dir)
 *   STATE/pods/<uid>/<container>/spec.json what sw_podrt_start asked for (the shim reads it)
 *   STATE/pods/<uid>/<container>/config.json  the OCI runtime spec (bundle)
 *   STATE/pods/<uid>/<container>/rootfs/{upper,work,merged}  overlayfs
 *   STATE/pods/<uid>/<container>/state.json   phase, pids, exit status (the shim
 *                                          writes it atomically; authoritative)
 *   STATE/pods/<uid>/<container>/log, log.1, previous.log
 *   STATE/pods/<uid>/<container>/shim.log  the shim's own complaints
 *   STATE/run/runc/                        runc --root (never shared between state dirs);
 *                                          container IDs "<uid>.<container>.<instance>"
 * cgroups: /slipway/<state hash>-<uid>/<container>.<instance> in every v1
 * hierarchy (the unified one of a hybrid host too), or under /sys/fs/cgroup
 * on a v2 host; the pod's is /slipway/<state hash>-<uid>.
 *
 * Log format (log, log.1, previous.log): the CRI / kubelet format, one record
 * per line:
 *     <RFC 3339 UTC timestamp with nanoseconds> <stdout|stderr> <F|P> <text>\n
 *     2026-11-28T00:11:06.123456789Z stdout F listening on :40123
 * F marks the end of a line of output, P a piece of a longer line (split at
 * 16 KiB) or a last piece without a newline. The shim rotates `log` to `log.1`
 * at 10 MiB (one old file kept). A new instance of a container moves `log` to
 * `previous.log` (and drops log.1), as `kubectl logs --previous` expects.
 */
#ifndef SLIPWAY_PODRT_H
#define SLIPWAY_PODRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "slipway/error.h"

struct event_base;

typedef struct sw_podrt sw_podrt;

/* state_dir: STATE (pods under STATE/pods, images STATE/images, layers
 * STATE/layers). base: the daemon's loop, where callbacks run. Only one
 * sw_podrt may be open per state dir at a time (SW_EEXISTS otherwise). */
int sw_podrt_open(sw_podrt **out, const char *state_dir, struct event_base *base, sw_error **err);
/* Leaves containers running (their shims own them). */
void sw_podrt_free(sw_podrt *rt);
/* The shim binary. Default: $SLIPWAY_SHIM, else `slipway-shim` next to the
 * running executable, else ../cmd/slipway-shim from it (the build
 * tree), else `slipway-shim` in PATH. */
void sw_podrt_set_shim(sw_podrt *rt, const char *path);

typedef struct sw_ctr_mount {
	const char *type;       /* "bind", "tmpfs" */
	const char *source;     /* host path (bind) */
	const char *target;     /* absolute path in the container */
	bool readonly;
	uint32_t mode;          /* tmpfs: mode, 0: 1777 */
	int64_t size;           /* tmpfs: bytes, 0: no limit */
} sw_ctr_mount;

typedef struct sw_ctr_config {
	const char *pod_uid;            /* [A-Za-z0-9_-], at most 64 characters */
	const char *ns, *pod_name;      /* pod_name: the container's hostname */
	const char *container;          /* [A-Za-z0-9_-], at most 63 characters */
	const char *image;              /* local store ref or digest */
	const char *const *command;     /* NULL-terminated; k8s command (overrides Entrypoint), NULL: image's */
	const char *const *args;        /* NULL-terminated; k8s args (overrides Cmd), NULL: image's */
	const char *const *env;         /* NULL-terminated "K=V" the agent resolved (PORT, config,
	                                   secrets...); the image's Env comes first, these override */
	const char *working_dir;        /* NULL: image's, else / */
	const char *user;               /* "uid[:gid]" or "name[:group]", NULL: image's User */
	const sw_ctr_mount *mounts;
	size_t nmounts;
	int64_t cpu_limit_milli;        /* 0: none  -> cpu quota/period (100 ms period) */
	int64_t cpu_request_milli;      /* -> cpu shares (v1) / weight (v2), as the kubelet does */
	int64_t memory_limit_bytes;     /* 0: none */
	int stop_signal;                /* 0: image's STOPSIGNAL, else SIGTERM */
	unsigned instance;              /* restart count: the instance number */
} sw_ctr_config;

typedef enum { SW_CTR_NONE, SW_CTR_CREATING, SW_CTR_RUNNING, SW_CTR_EXITED } sw_ctr_phase;

typedef struct sw_ctr_status {
	sw_ctr_phase phase;
	int pid;                 /* container init pid on the host while running */
	int exit_code;           /* when EXITED: 0.., 128+signal when killed by one */
	int signal;              /* the signal that killed it, else 0 */
	bool oom_killed;
	char reason[64];         /* "Completed", "Error", "OOMKilled", "StartError", "ContainerCannotRun" */
	char message[512];       /* e.g. runc's error, "exec: \"foo\": executable file not found in $PATH" */
	time_t started_at, finished_at;  /* 0 when not (yet) */
	unsigned instance;
	int stop_signal;         /* the signal a graceful stop sends (image's STOPSIGNAL or SIGTERM) */
} sw_ctr_status;

/* Starts instance cfg->instance of a container (async): returns at once,
 * with the status CREATING, then RUNNING or EXITED with reason StartError
 * (or ContainerCannotRun) and a message. Fails at once (nothing changed) on
 * bad input or an image that is not in the local store (SW_ENOTFOUND). Any
 * earlier instance of the same container must have exited (SW_ECONFLICT
 * otherwise); its log is moved to previous.log and its rootfs starts
 * afresh. */
int sw_podrt_start(sw_podrt *rt, const sw_ctr_config *cfg, sw_error **err);
/* The last known status; returns SW_ENOTFOUND (st->phase NONE) for an
 * unknown container. Reads only memory. */
int sw_podrt_status(sw_podrt *rt, const char *pod_uid, const char *container, sw_ctr_status *st);
/* Sends sig to the container's init (the stop signal, then SIGKILL later: the
 * agent times the grace period). While CREATING, the start is abandoned and
 * the container reported EXITED. 0 when the container has already exited.
 * Note: as in Docker/Kubernetes, an init (PID 1 of its namespace) that has no
 * handler for a signal other than SIGKILL does not die from it. */
int sw_podrt_kill(sw_podrt *rt, const char *pod_uid, const char *container, int sig, sw_error **err);
/* Called on the event loop whenever a container changes phase (started,
 * exited; CREATING -> EXITED when it never ran), from an event of its own:
 * never from inside a call of this API, so the callback may start, kill or
 * remove containers. A scan reports through its own callback instead. */
typedef void (*sw_podrt_change_fn)(void *payload, const char *pod_uid, const char *container,
                                   const sw_ctr_status *st);
void sw_podrt_on_change(sw_podrt *rt, sw_podrt_change_fn fn, void *payload);
/* Removes an exited container's runc state and rootfs (keeps its logs and
 * state.json). SW_ECONFLICT while it runs. */
int sw_podrt_remove_container(sw_podrt *rt, const char *pod_uid, const char *container, sw_error **err);
/* Removes everything of a pod whose containers have all exited: containers,
 * folder (logs included), cgroups, the secrets tmpfs. SW_ECONFLICT while one
 * runs. */
int sw_podrt_remove_pod(sw_podrt *rt, const char *pod_uid, sw_error **err);
/* Every container found on disk, with its status (re-adoption after a daemon
 * restart: running shims are re-attached, checked by pid and start time;
 * exits that happened while the daemon was down are read from state.json).
 * Also removes runc containers, overlay mounts and cgroups of this state dir
 * that belong to no pod folder. fn may be NULL; called before returning. */
typedef void (*sw_podrt_found_fn)(void *payload, const char *pod_uid, const char *container,
                                  const sw_ctr_status *st);
int sw_podrt_scan(sw_podrt *rt, sw_podrt_found_fn fn, void *payload, sw_error **err);

/* Runs argv in a running container (runc exec), collecting output (at most
 * 1 MiB per stream, the rest dropped), with a timeout (0: 60 s). Blocks the
 * caller: for the CLI's `exec` use the async form on the loop. *exit_code is
 * 128+signal when killed, -1 on timeout. */
int sw_podrt_exec(sw_podrt *rt, const char *pod_uid, const char *container,
                  const char *const *argv, const char *stdin_data, size_t stdin_len, int timeout_ms,
                  int *exit_code, char **out, size_t *out_len, char **errout, size_t *errout_len,
                  sw_error **err);
/* The same without blocking: fn runs on the loop when the command ended
 * (err NULL, res filled; res->timed_out on timeout) or could not run
 * (err set, res NULL). Strings in res are valid during the call only. */
typedef struct sw_exec_result {
	int exit_code;            /* 128+signal when killed; -1 on timeout */
	bool timed_out;
	const char *out, *errout; /* NUL-terminated */
	size_t out_len, errout_len;
} sw_exec_result;
typedef void (*sw_podrt_exec_fn)(void *payload, const sw_exec_result *res, const sw_error *err);
int sw_podrt_exec_async(sw_podrt *rt, const char *pod_uid, const char *container,
                        const char *const *argv, const char *stdin_data, size_t stdin_len,
                        int timeout_ms, sw_podrt_exec_fn fn, void *payload, sw_error **err);

/* CPU (ns used) and memory (bytes, without page cache) of a container's
 * cgroup, or of the whole pod's when container is NULL. */
int sw_podrt_stats(sw_podrt *rt, const char *pod_uid, const char *container,
                   uint64_t *cpu_ns, uint64_t *mem_bytes, sw_error **err);

/* Paths for the API's log endpoint (the format is described above); caller
 * frees. */
char *sw_podrt_log_path(const char *state_dir, const char *pod_uid, const char *container, bool previous);
/* STATE/pods/<uid> (created 0700 if missing); *dir is the caller's. */
int sw_podrt_pod_dir(sw_podrt *rt, const char *pod_uid, char **dir, sw_error **err);
/* Tmpfs (mode 0700; write files 0600) for a pod's Secret volumes:
 * STATE/pods/<uid>/secrets, mounted once; *dir is the caller's. */
int sw_podrt_secret_dir(sw_podrt *rt, const char *pod_uid, char **dir, sw_error **err);

/* The main of the shim binary `slipway-shim` (cmd/slipway-shim): `slipway-shim
 * run CONTAINER_DIR` owns one container instance; `slipway-shim rm PATH`
 * unmounts and removes a folder in the background. Not for other callers. */
int sw_podrt_shim_main(int argc, char **argv);

#endif
