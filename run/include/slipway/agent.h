/*
 * agent.h - slipwayd's node agent: it makes the pods in the store run on
 * this host and writes what happens back into their status, as the kubelet
 * does for its node.
 *
 * Level-triggered: a watch on Pods and the container runtime's change
 * callbacks only queue a pod's uid; one sync per pod (on the event loop)
 * compares the stored pod with its containers and acts (bind the pod to
 * the node, allocate host ports, start, restart with back-off, probe, stop
 * gracefully, remove), then writes status.{phase, conditions,
 * containerStatuses, slipwayPorts, ...}. A resync every few seconds
 * requeues every pod, so a missed event costs seconds, not correctness.
 *
 * Restart safety: sw_agent_start re-adopts every container the runtime
 * finds (no duplicate start), records exits that happened while the daemon
 * was down, and stops and removes pod folders whose pod no longer exists.
 *
 * Not here: images (podrt's shim unpacks them), which pods should exist
 * (the controllers), the API (the lead wires the hooks below).
 */
#ifndef SLIPWAY_AGENT_H
#define SLIPWAY_AGENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slipway/error.h"
#include "slipway/store.h"

struct event_base;

typedef struct sw_agent sw_agent;

/* The node's name in spec.nodeName, events and Scheduled messages. */
#define SW_AGENT_NODE_NAME "local"

/*
 * Starts the agent on base over store, with pods under STATE/pods
 * (state_dir). Opens the container runtime (sw_podrt), re-adopts what runs,
 * watches Pods and queues a first sync of every pod.
 */
int sw_agent_start(sw_agent **out, struct event_base *base, sw_store *store, const char *state_dir,
                   sw_error **err);
/* Stops watching and frees the agent. Containers keep running (their shims
 * own them); a later sw_agent_start re-adopts them. */
void sw_agent_free(sw_agent *a);

/* The shim binary podrt runs (tests point it at the build tree). */
void sw_agent_set_shim(sw_agent *a, const char *path);

/* Host port range for new pods (default 40000-59999). */
void sw_agent_set_port_range(sw_agent *a, int lo, int hi);

/* Resync period in milliseconds (default 5000). */
void sw_agent_set_resync_ms(sw_agent *a, int ms);

/*
 * Runs argv in a container of the pod ns/name (container NULL: the pod's
 * only container; with several, SW_EINVALID naming them), without a
 * terminal, stdin_data as input; blocks for at most timeout_ms (0: 60 s).
 * Fills the exit code and the output (caller frees out and errout).
 * SW_ENOTFOUND for a missing pod or container, SW_ECONFLICT when the
 * container does not run.
 */
int sw_agent_exec(sw_agent *a, const char *ns, const char *name, const char *container,
                  const char *const *argv, const char *stdin_data, size_t stdin_len, int timeout_ms,
                  int *exit_code, char **out, size_t *out_len, char **errout, size_t *errout_len,
                  sw_error **err);

/* The same with the API's hook signature (api.h sw_api_exec_fn; payload is
 * the agent): sw_api_set_exec(api, sw_agent_api_exec, agent). */
int sw_agent_api_exec(void *payload, const json_t *pod, const char *container,
                      const char *const *argv, const char *stdin_data, size_t stdin_len,
                      int *exit_code, char **out, size_t *out_len, char **errout, size_t *errout_len,
                      sw_error **err);

/*
 * A container's CPU use (nanocores, the rate between the agent's last two
 * samples of its cgroup, taken at each resync and on demand) and memory
 * (bytes, without page cache). The API's hook (api.h sw_api_metrics_fn):
 * sw_api_set_metrics(api, sw_agent_api_metrics, agent).
 */
int sw_agent_api_metrics(void *payload, const json_t *pod, const char *container,
                         uint64_t *cpu_nanocores, uint64_t *memory_bytes, sw_error **err);

/*
 * metrics.k8s.io/v1beta1 PodMetrics of pod ns/name, or a PodMetricsList of
 * every running pod in ns (name NULL; ns NULL: every namespace). cpu in
 * nanocores ("1234567n"), memory in Ki ("5120Ki"), as metrics-server.
 */
int sw_agent_pod_metrics(sw_agent *a, const char *ns, const char *name, json_t **out,
                         sw_error **err);

/*
 * The log file of a container of pod ns/name (container NULL: the only
 * one), the current instance's or the previous one's (previous); the file
 * may not exist yet. Caller frees *out. The format is podrt.h's (CRI).
 */
int sw_agent_log_path(sw_agent *a, const char *ns, const char *name, const char *container,
                      bool previous, char **out, sw_error **err);

#endif
