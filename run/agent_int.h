/*
 * agent_int.h - the node agent's inner parts, each a small module with no
 * I/O of its own so unit tests can drive it with a fake clock:
 *
 *   back-off      the kubelet's crash-loop delay (10 s doubling to 300 s)
 *   probe         one probe's state machine (delays, period, thresholds)
 *   status        a pod's phase, conditions and containerStatuses from
 *                 what the agent knows of its containers
 *   ports         host port allocation and the "who holds this port" lookup
 *
 * The agent itself (agent.c) owns the event loop work; nothing here keeps
 * global state.
 */
#ifndef SLIPWAY_AGENT_INT_H
#define SLIPWAY_AGENT_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "slipway/agent.h"
#include "slipway/error.h"
#include "slipway/kinds.h"
#include "slipway/podrt.h"
#include "slipway/store.h"

/* ---- restart back-off ---------------------------------------------------- */

#define SW_BACKOFF_INITIAL 10   /* seconds */
#define SW_BACKOFF_MAX 300
#define SW_BACKOFF_RESET 600    /* a run this long forgets earlier crashes */

typedef struct sw_backoff {
	int next;   /* the delay the next crash waits, 0 before the first crash */
} sw_backoff;

/*
 * A container exited after running ran_seconds; returns how long to wait
 * before starting it again: 0 after the first crash (the kubelet restarts
 * at once), then 10, 20, 40, ... 300 s; a run of 10 minutes or more resets
 * the sequence.
 */
int sw_backoff_on_exit(sw_backoff *b, int64_t ran_seconds);

/* ---- probes -------------------------------------------------------------- */

typedef enum sw_probe_kind { SW_PROBE_STARTUP, SW_PROBE_LIVENESS, SW_PROBE_READINESS } sw_probe_kind;
typedef enum sw_probe_result { SW_PROBE_UNKNOWN, SW_PROBE_SUCCESS, SW_PROBE_FAILURE } sw_probe_result;

/* A probe's settings with Kubernetes' defaults applied (0/10/1/1/3). */
typedef struct sw_probe_spec {
	int initial_delay;   /* seconds */
	int period;
	int timeout;
	int success_threshold;
	int failure_threshold;
	int64_t termination_grace;   /* probe-level terminationGracePeriodSeconds, -1: pod's */
} sw_probe_spec;

/* Reads a probe object ({httpGet|tcpSocket|exec, initialDelaySeconds, ...});
 * liveness and startup force successThreshold 1 as Kubernetes validates. */
void sw_probe_spec_from_json(sw_probe_spec *out, const json_t *probe, sw_probe_kind kind);

/*
 * One probe of one container instance. Times are milliseconds on any
 * monotonic clock. The result before the first verdict is Failure for
 * readiness, Success for liveness and Unknown for startup, as the kubelet
 * starts them.
 */
typedef struct sw_probe_sm {
	sw_probe_spec spec;
	sw_probe_kind kind;
	sw_probe_result result;
	bool active;        /* started and not stopped */
	bool in_flight;     /* a check is running */
	int successes;      /* consecutive */
	int failures;       /* consecutive */
	int64_t next_ms;    /* when the next check is due */
} sw_probe_sm;

void sw_probe_sm_init(sw_probe_sm *sm, const sw_probe_spec *spec, sw_probe_kind kind);
/* Starts probing at now: the first check is due after initialDelaySeconds. */
void sw_probe_sm_start(sw_probe_sm *sm, int64_t now_ms);
void sw_probe_sm_stop(sw_probe_sm *sm);
/* True when a check should start now. */
bool sw_probe_sm_due(const sw_probe_sm *sm, int64_t now_ms);
/* A check starts: the next one is due a period later. */
void sw_probe_sm_begin(sw_probe_sm *sm, int64_t now_ms);
/* A check finished; returns true when the result changed (to sm->result). */
bool sw_probe_sm_finish(sw_probe_sm *sm, bool ok);
/* Milliseconds until the next check is due (0 if due, -1 if inactive or in flight). */
int64_t sw_probe_sm_wait(const sw_probe_sm *sm, int64_t now_ms);

const char *sw_probe_kind_name(sw_probe_kind k);   /* "Liveness", ... */

/* ---- network checks (probe_run.c) ---------------------------------------------- */

struct event_base;

/* A check ends with exactly one call of fn (ok, and a message when not ok),
 * on a later turn of the loop, never inside the call that started it. */
typedef void (*sw_check_fn)(void *payload, bool ok, const char *msg);
typedef struct sw_check sw_check;

/* GET path from 127.0.0.1:port with the headers ([{name, value}]);
 * success is a status 200-399 within timeout_s seconds. */
sw_check *sw_check_http(struct event_base *base, int port, const char *path,
                        const json_t *headers, int timeout_s, sw_check_fn fn, void *payload);
/* A TCP connect to 127.0.0.1:port within timeout_s seconds. */
sw_check *sw_check_tcp(struct event_base *base, int port, int timeout_s, sw_check_fn fn,
                       void *payload);
/* Ends a check without calling back. */
void sw_check_cancel(sw_check *c);

/* ---- pod status ------------------------------------------------------------ */

typedef enum sw_ctr_view_state {
	SW_VIEW_WAITING,
	SW_VIEW_RUNNING,
	SW_VIEW_TERMINATED,
} sw_ctr_view_state;

/* What the agent knows of one container, for status computation. */
typedef struct sw_ctr_view {
	const char *name;
	const char *image;
	const char *container_id;   /* or NULL */
	sw_ctr_view_state state;
	const char *reason;         /* waiting/terminated reason, or NULL */
	const char *message;        /* or NULL */
	int exit_code, signal;      /* terminated */
	time_t started_at, finished_at;
	const json_t *last_state;   /* {"terminated": {...}} of the previous instance, or NULL */
	unsigned restart_count;
	bool ready;
	bool started;
} sw_ctr_view;

typedef struct sw_pod_view {
	const json_t *pod;          /* the stored pod: spec and the previous status */
	const sw_ctr_view *ctrs;
	size_t nctrs;
	bool terminating;           /* deletion started: Ready goes False */
	time_t start_time;          /* when the agent took the pod */
	const json_t *ports;        /* status.slipwayPorts, or NULL */
	time_t now;
} sw_pod_view;

/* "Pending", "Running", "Succeeded", "Failed" by the kubelet's rules. A
 * terminal phase in the previous status is kept. */
const char *sw_pod_phase(const sw_pod_view *v);

/* The container status object Kubernetes shows ({name, state, lastState,
 * ready, restartCount, image, imageID, containerID, started}). */
json_t *sw_ctr_status_json(const sw_ctr_view *c);

/* A new status object for the pod. lastTransitionTime of a condition whose
 * status did not change is kept from the previous status. */
json_t *sw_pod_status_json(const sw_pod_view *v);

/* ---- ports ------------------------------------------------------------------ */

/*
 * The host port range for pods: $SLIPWAY_PORT_RANGE ("LO-HI") if set, else
 * the first of 20000-29999, 40000-59999, 10000-19999 that stays clear of
 * the kernel's ephemeral range (net.ipv4.ip_local_port_range): a port in
 * it can be taken by any outgoing connection between allocation and the
 * app's bind, or by a probe connecting to itself (TCP self-connect) before
 * the app listens, and the app then fails with "address in use".
 */
void sw_ports_default_range(int *lo, int *hi);

typedef struct sw_ports sw_ports;   /* the agent's set of ports in use */

sw_ports *sw_ports_new(int lo, int hi);
void sw_ports_free(sw_ports *p);
/* Marks a port as taken by the agent (re-adopted pods); false if it was. */
bool sw_ports_reserve(sw_ports *p, int port);
void sw_ports_release(sw_ports *p, int port);
/* A free port: not reserved, and binding TCP 127.0.0.1 and 0.0.0.0 (and
 * ::) works right now. Reserves it. */
int sw_ports_alloc(sw_ports *p, int *out, sw_error **err);
/* True when a TCP listener could bind port on 127.0.0.1 and 0.0.0.0. */
bool sw_port_bindable(int port);

/*
 * The mapping of a pod (status.slipwayPorts): one entry per declared
 * containerPort, one for a container that declares none, each with a host
 * port. Entries already in `have` (matched by container and containerPort)
 * keep their host port; the rest are allocated. Returns a new array.
 */
int sw_ports_assign(sw_ports *p, const json_t *pod_spec, const json_t *have, json_t **out,
                    sw_error **err);
/* Releases every host port of a mapping. */
void sw_ports_release_all(sw_ports *p, const json_t *mapping);
/* The host port for a container's port: by name ("http") or number; a
 * number no entry declares maps to the container's first port when the
 * container declares none. 0 if none. */
int sw_ports_lookup(const json_t *mapping, const char *container, const json_t *port);
/* The first host port of a container, 0 if none. */
int sw_ports_first(const json_t *mapping, const char *container);

/*
 * The pid of a process listening on TCP port (IPv4 or IPv6), from
 * /proc/net/tcp{,6} and /proc/PID/fd; 0 when none is found (or none is
 * visible).
 */
int sw_port_listener_pid(int port);
/* True when pid is ancestor or one of its descendants (walks the parents). */
bool sw_pid_descends_from(int pid, int ancestor);

/* ---- container config (agent_spec.c) ----------------------------------------- */

/* A sw_ctr_config and the memory it points into. */
typedef struct sw_ctr_build {
	sw_ctr_config cfg;
	char **env, **command, **args;
	sw_ctr_mount *mounts;
	size_t nmounts;
	char user[48];
} sw_ctr_build;

/*
 * The runtime config of container ctr (an element of spec.containers) of
 * pod, instance `instance`: env (PORT = its first host port from ports,
 * envFrom, env with valueFrom and $(VAR) expansion), volumes prepared and
 * mounted, resources. On failure *reason is the kubelet's waiting reason
 * (CreateContainerConfigError for a missing ConfigMap/Secret/key).
 */
int sw_ctr_build_config(sw_ctr_build *b, sw_store *store, sw_podrt *rt, const json_t *pod,
                        const json_t *ctr, const json_t *ports, unsigned instance, const char **reason,
                        sw_error **err);
void sw_ctr_build_release(sw_ctr_build *b);

/* ---- small helpers ------------------------------------------------------------ */

/* Decodes standard base64 (Secret data); *out NUL-terminated. */
int sw_agent_base64_decode(char **out, size_t *len, const char *s, sw_error **err);

/* The kubelet's pod full name: "web-abc_default(uid)". */
char *sw_agent_pod_fullname(const json_t *pod);

/* A monotonic clock in milliseconds. */
int64_t sw_agent_now_ms(void);

/* ---- the agent's state (agent.c, agent_api.c) -------------------------------- */

struct event;
struct sw_agent;

enum { SW_CHECK_PRESTOP = 3 };   /* a check's purpose: a sw_probe_kind or this */

/* An asynchronous check in flight (probe or preStop hook). It names its
 * container instead of pointing at it, so a container removed meanwhile
 * only makes the result moot. */
typedef struct sw_ticket {
	struct sw_ticket *next, *prev;
	struct sw_agent *a;
	char *uid, *ctr;
	unsigned instance;
	int what;
	sw_check *check;   /* network checks: cancelable */
	bool cancelled;
} sw_ticket;

struct sw_apod;
struct sw_actr;

typedef struct sw_probe_slot {
	struct sw_agent *a;
	struct sw_apod *p;
	struct sw_actr *c;
	int kind;
} sw_probe_slot;

enum sw_stop_why { SW_STOP_NONE, SW_STOP_DELETE, SW_STOP_LIVENESS, SW_STOP_STARTUP };

typedef struct sw_actr {
	char *name;
	sw_ctr_status st;          /* last known from the runtime */
	unsigned instance;         /* the current instance (restartCount) */
	unsigned next_instance;    /* the instance a first start uses */
	json_t *prev_term;         /* {"terminated": ...} of the previous instance */
	json_t *cur_term;          /* of the current instance, once it exited */
	bool exit_handled;
	unsigned exit_instance;
	bool restart_pending;
	int64_t restart_at_ms;
	int backoff_wait;
	sw_backoff backoff;
	char *wait_reason, *wait_msg;   /* a failed start (CreateContainerConfigError...) */
	int64_t retry_at_ms;
	unsigned started_event;    /* instance + 1 whose Started event was sent */
	/* probes */
	sw_probe_sm probes[3];
	const json_t *probe_spec[3];   /* owned references */
	struct event *probe_ev[3];
	sw_probe_slot slots[3];
	sw_ticket *probe_tk[3];
	bool probes_on;
	unsigned probes_instance;
	bool startup_done;
	unsigned was_ready;        /* instance + 1 the stored status showed ready (re-adoption) */
	unsigned was_started;      /* instance + 1 the stored status showed started */
	/* stopping */
	enum sw_stop_why stopping;
	int64_t kill_at_ms;
	int64_t last_kill_ms;
	bool prestop_running, prestop_extended;
	sw_ticket *prestop_tk;
	/* cgroup samples for metrics */
	uint64_t cpu[2];
	int64_t cpu_t[2];
	uint64_t mem;
} sw_actr;

typedef struct sw_apod {
	struct sw_apod *next;
	struct sw_agent *a;
	char *uid, *ns, *name;
	json_t *pod;               /* the stored pod (or pod.json for an orphan) */
	json_t *ports;             /* status.slipwayPorts */
	sw_actr *ctrs;
	size_t nctrs;
	bool adopted;              /* found on disk at start, not yet matched */
	bool terminating;
	bool gone;                 /* no longer in the store */
	int64_t term_deadline_ms;
	time_t start_time;
	bool queued;
	struct event *timer;
} sw_apod;

struct sw_agent {
	struct event_base *base;
	sw_store *store;
	char *state_dir;
	sw_podrt *rt;
	sw_ports *ports;
	const sw_kind *pod_kind;
	int watch_id;
	int resync_ms;
	struct event *work_ev, *resync_ev, *flush_ev;
	json_t *events;            /* queued: [{obj, type, reason, component, message}] */
	sw_apod *pods;
	json_t *index;             /* uid -> [ns, name] of the store's pods */
	char **queue;
	size_t nqueue, capqueue;
	sw_ticket *tickets;
	bool closing;
};

sw_apod *sw_agent_find_pod(struct sw_agent *a, const char *uid);
sw_actr *sw_agent_find_ctr(sw_apod *p, const char *name);
/* Takes a fresh cgroup sample of a running container. */
void sw_agent_sample(struct sw_agent *a, sw_apod *p, sw_actr *c);
/* The pod ns/name and container (NULL: the only one). */
int sw_agent_lookup(struct sw_agent *a, const char *ns, const char *name, const char *container,
                    sw_apod **pp, sw_actr **cp, sw_error **err);

/* ---- shared by agent.c and agent_ports.c --------------------------------- */

/* Events from the agent carry the kubelet's component name. */
#define COMPONENT "kubelet"

/* Queues an Event about obj (written after the current batch of work). */
void sw_agent_event(sw_agent *a, const json_t *obj, const char *type, const char *reason,
                    const char *component, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
#define pod_event(p, type, reason, ...)                                                  \
	do {                                                                              \
		if (!(p)->gone && (p)->pod)                                               \
			sw_agent_event((p)->a, (p)->pod, type, reason, COMPONENT, __VA_ARGS__); \
	} while (0)

/* The pod's status as the agent sees it now (a new object). */
json_t *sw_agent_pod_status(sw_apod *p);
/* The spec of pod p's container name, or NULL. */
const json_t *sw_agent_ctr_spec(const sw_apod *p, const char *name);
/* STATE/pods/<uid>/FILE := j (write and rename). */
void sw_agent_write_pod_json(sw_apod *p, const char *file, const json_t *j);
/* After a crash whose log says a bind failed: moves a stolen host port,
 * or names who holds a declared containerPort (events). */
void sw_agent_port_conflicts(sw_apod *p, sw_actr *c);

#endif
