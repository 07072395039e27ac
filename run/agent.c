/*
 * agent.c - the node agent: pods in the store become containers on this
 * host, and what happens to them goes back into the pods' status.
 *
 * Level-triggered, as the kubelet: the Pod watch, the runtime's change
 * callbacks, timers (back-off, grace periods) and a periodic resync only
 * queue a pod's uid; sync_pod() then looks at the stored pod and at its
 * containers and does the next step. Everything runs on the daemon's loop
 * and nothing here blocks: container starts and kills are quick calls into
 * podrt, probes are bufferevents or asynchronous execs.
 *
 * Not here: the container runtime (podrt.c), building a container's
 * config (agent_spec.c), status arithmetic (agent_status.c), probes'
 * state machine and checks (probe*.c), ports (ports.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <event2/event.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent_int.h"
#include "slipway/agent.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/log.h"
#include "slipway/mem.h"
#include "slipway/object.h"
#include "slipway/path.h"

#define RETRY_MS 5000           /* a failed start (missing ConfigMap, ...) is retried */
#define QUICK_EXIT_S 10         /* an exit this soon may be a bind conflict */
#define ORPHAN_GRACE_S 2        /* grace for containers of a pod gone from the store */

static void enqueue(sw_agent *a, const char *uid);
static void sync_pod(sw_agent *a, const char *uid);
static void probes_stop(sw_actr *c);

int64_t sw_agent_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- tickets (checks in flight) ------------------------------------------ */

static sw_ticket *ticket_new(sw_agent *a, sw_apod *p, sw_actr *c, int what)
{
	sw_ticket *t = sw_xcalloc(1, sizeof(*t));
	t->a = a;
	t->uid = sw_xstrdup(p->uid);
	t->ctr = sw_xstrdup(c->name);
	t->instance = c->st.instance;
	t->what = what;
	t->next = a->tickets;
	if (a->tickets)
		a->tickets->prev = t;
	a->tickets = t;
	return t;
}

static void ticket_unlink_free(sw_ticket *t)
{
	sw_agent *a = t->a;
	if (t->prev)
		t->prev->next = t->next;
	else if (a->tickets == t)
		a->tickets = t->next;
	if (t->next)
		t->next->prev = t->prev;
	free(t->uid);
	free(t->ctr);
	free(t);
}

/* Ends interest in a ticket: a network check is cancelled at once, an exec
 * (not cancelable) is marked and freed when it reports. */
static void ticket_cancel(sw_ticket *t)
{
	if (!t)
		return;
	if (t->check) {
		sw_check_cancel(t->check);
		ticket_unlink_free(t);
		return;
	}
	t->cancelled = true;
}

/* ---- events ---------------------------------------------------------------- */

/*
 * Events are queued and written after the current batch of work: writing
 * one costs a store transaction (a dedupe lookup, pruning), and a start of
 * 100 pods should hand every container to the runtime before it records
 * 400 events about them.
 */
static void on_flush(evutil_socket_t fd, short what, void *arg);

/* Runs a timer event on the next turn of the loop, after pending I/O. */
static void kick(struct event *ev)
{
	if (!evtimer_pending(ev, NULL)) {
		struct timeval zero = { 0, 0 };
		evtimer_add(ev, &zero);
	}
}

void sw_agent_event(sw_agent *a, const json_t *obj, const char *type, const char *reason,
                        const char *component, const char *fmt, ...)
{
	if (a->closing || !obj)
		return;
	va_list ap;
	va_start(ap, fmt);
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_t *e = json_pack("{s:O,s:s,s:s,s:s,s:s}", "obj", obj, "type", type, "reason", reason,
	                      "component", component, "message", msg);
	if (!e)
		return;   /* a message that is not UTF-8 */
	json_array_append_new(a->events, e);
	kick(a->flush_ev);
}

/* Writes up to max queued events (0: all). */
static void flush_events(sw_agent *a, size_t max)
{
	size_t n = json_array_size(a->events);
	if (max && n > max)
		n = max;
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(a->events, i);
		sw_store_event(a->store, json_object_get(e, "obj"), sw_obj_str(e, "type"), sw_obj_str(e, "reason"),
		               sw_obj_str(e, "component"), "%s", sw_obj_str(e, "message"));
	}
	for (size_t i = 0; i < n; i++)
		json_array_remove(a->events, 0);
}

#define EVENTS_CHUNK 16

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sw_agent *a = arg;
	flush_events(a, EVENTS_CHUNK);
	if (json_array_size(a->events))
		kick(a->flush_ev);
}

/* ---- pods and containers ----------------------------------------------------- */

sw_apod *sw_agent_find_pod(sw_agent *a, const char *uid)
{
	for (sw_apod *p = a->pods; p; p = p->next)
		if (!strcmp(p->uid, uid))
			return p;
	return NULL;
}

sw_actr *sw_agent_find_ctr(sw_apod *p, const char *name)
{
	for (size_t i = 0; i < p->nctrs; i++)
		if (!strcmp(p->ctrs[i].name, name))
			return &p->ctrs[i];
	return NULL;
}

static void on_pod_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sw_apod *p = arg;
	enqueue(p->a, p->uid);
}

static sw_apod *pod_new(sw_agent *a, const char *uid)
{
	sw_apod *p = sw_xcalloc(1, sizeof(*p));
	p->a = a;
	p->uid = sw_xstrdup(uid);
	p->timer = evtimer_new(a->base, on_pod_timer, p);
	if (!p->timer)
		sw_out_of_memory(64);
	p->start_time = time(NULL);
	p->next = a->pods;
	a->pods = p;
	return p;
}

static void ctr_release(sw_actr *c)
{
	probes_stop(c);
	for (int k = 0; k < 3; k++) {
		if (c->probe_ev[k])
			event_free(c->probe_ev[k]);
		c->probe_ev[k] = NULL;
	}
	ticket_cancel(c->prestop_tk);
	c->prestop_tk = NULL;
	free(c->name);
	json_decref(c->prev_term);
	json_decref(c->cur_term);
	free(c->wait_reason);
	free(c->wait_msg);
}

static void pod_free(sw_apod *p)
{
	sw_agent *a = p->a;
	for (sw_apod **pp = &a->pods; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	for (size_t i = 0; i < p->nctrs; i++)
		ctr_release(&p->ctrs[i]);
	free(p->ctrs);
	event_free(p->timer);
	json_decref(p->pod);
	json_decref(p->ports);
	free(p->uid);
	free(p->ns);
	free(p->name);
	free(p);
}

/* Adds a container by name (keeping existing ones); the array may move,
 * so probe slots are re-pointed. */
static sw_actr *ctr_ensure(sw_apod *p, const char *name)
{
	sw_actr *c = sw_agent_find_ctr(p, name);
	if (c)
		return c;
	/* probe events point at slots inside the array: stop them before it moves */
	for (size_t i = 0; i < p->nctrs; i++)
		probes_stop(&p->ctrs[i]);
	p->ctrs = sw_xreallocarray(p->ctrs, p->nctrs + 1, sizeof(*p->ctrs));
	c = &p->ctrs[p->nctrs++];
	memset(c, 0, sizeof(*c));
	c->name = sw_xstrdup(name);
	for (size_t i = 0; i < p->nctrs; i++) {
		sw_actr *x = &p->ctrs[i];
		for (int k = 0; k < 3; k++) {
			x->slots[k] = (sw_probe_slot){ .a = p->a, .p = p, .c = x, .kind = k };
			if (x->probe_ev[k]) {
				event_free(x->probe_ev[k]);
				x->probe_ev[k] = NULL;
			}
		}
	}
	return c;
}

const json_t *sw_agent_ctr_spec(const sw_apod *p, const char *name)
{
	size_t i;
	json_t *c;
	json_array_foreach(sw_obj_path(p->pod, "spec.containers"), i, c) {
		const char *n = sw_obj_str(c, "name");
		if (n && !strcmp(n, name))
			return c;
	}
	return NULL;
}

static char *pod_file(const sw_agent *a, const char *uid, const char *file)
{
	return sw_xasprintf("%s/pods/%s/%s", a->state_dir, uid, file);
}

void sw_agent_write_pod_json(sw_apod *p, const char *file, const json_t *j)
{
	/* write and rename, no fsync: after a crash the stored status has
	 * the same facts (slipwayPorts), and 100 pods must not wait for 200
	 * disk flushes */
	cleanup_free char *path = pod_file(p->a, p->uid, file);
	cleanup_free char *tmp = sw_xasprintf("%s.tmp", path);
	cleanup_free char *text = json_dumps(j, JSON_COMPACT);
	if (!text)
		return;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || sw_write_all(fd, text, strlen(text)) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		sw_log(SW_LOG_WARN, "node agent: writing %s: %s", path, strerror(errno));
		if (fd >= 0)
			unlink(tmp);
	}
}

static json_t *read_pod_json(const sw_agent *a, const char *uid, const char *file)
{
	cleanup_free char *path = pod_file(a, uid, file);
	json_t *j = NULL;
	sw_error *err = NULL;
	if (access(path, F_OK) < 0)
		return NULL;
	if (sw_json_load_file(&j, path, 1 << 20, &err) < 0) {
		sw_log_error(err, "node agent");
		sw_error_free(err);
		return NULL;
	}
	return j;
}

/* Host ports: kept from the pod folder (or the stored status), the rest
 * allocated; written back to the folder. */
static int pod_ports(sw_apod *p, sw_error **err)
{
	sw_agent *a = p->a;
	cleanup_json json_t *have = p->ports ? json_incref(p->ports) : read_pod_json(a, p->uid, "ports");
	if (!have)
		have = json_incref(sw_obj_path(p->pod, "status.slipwayPorts"));
	if (!p->ports && json_is_array(have)) {
		/* reserve what the folder says; a port some other pod holds is
		 * dropped and allocated anew */
		cleanup_json json_t *kept = json_array();
		size_t i;
		json_t *e;
		json_array_foreach(have, i, e) {
			int port = (int)json_integer_value(json_object_get(e, "hostPort"));
			if (port > 0 && sw_ports_reserve(a->ports, port))
				json_array_append(kept, e);
		}
		json_decref(have);
		have = json_incref(kept);
	}
	json_t *mapping = NULL;
	if (sw_ports_assign(a->ports, json_object_get(p->pod, "spec"), have, &mapping, err) < 0)
		return -1;
	/* ports of have that the spec no longer names go back to the pool */
	size_t i;
	json_t *e;
	json_array_foreach(have, i, e) {
		int port = (int)json_integer_value(json_object_get(e, "hostPort"));
		bool used = false;
		size_t j;
		json_t *m;
		json_array_foreach(mapping, j, m)
			used |= json_integer_value(json_object_get(m, "hostPort")) == port;
		if (!used)
			sw_ports_release(a->ports, port);
	}
	if (!p->ports || !json_equal(p->ports, mapping))
		sw_agent_write_pod_json(p, "ports", mapping);
	json_decref(p->ports);
	p->ports = mapping;
	return 0;
}

/* The stored pod arrived (or changed): keep it and match containers. */
static int pod_set(sw_apod *p, json_t *pod, sw_error **err)
{
	bool first = p->pod == NULL || p->adopted;
	json_t *old = p->pod;
	p->pod = json_incref(pod);
	p->gone = false;
	free(p->ns);
	free(p->name);
	p->ns = sw_xstrdup(sw_obj_namespace(pod) ? sw_obj_namespace(pod) : "default");
	p->name = sw_xstrdup(sw_obj_name(pod) ? sw_obj_name(pod) : "");
	if (first) {
		cleanup_free char *dir = NULL;
		if (sw_podrt_pod_dir(p->a->rt, p->uid, &dir, err) < 0) {
			json_decref(old);
			return -1;
		}
		time_t st = sw_time_parse(sw_obj_str(pod, "status.startTime") ? sw_obj_str(pod, "status.startTime") : "");
		if (st > 0)
			p->start_time = st;
		sw_agent_write_pod_json(p, "pod.json", pod);
		if (json_array_size(sw_obj_path(pod, "spec.initContainers")) && !sw_obj_deleting(pod))
			sw_agent_event(p->a, pod, "Warning", "Unsupported", COMPONENT,
			               "initContainers are not supported by this node; they do not run");
	}
	json_decref(old);
	size_t i;
	json_t *cs;
	json_array_foreach(sw_obj_path(pod, "spec.containers"), i, cs) {
		const char *n = sw_obj_str(cs, "name");
		if (!n)
			continue;
		sw_actr *c = ctr_ensure(p, n);
		if (!first)
			continue;
		/* what the stored status remembers: restart count and the
		 * previous instance's termination */
		json_t *stc;
		size_t j;
		json_array_foreach(sw_obj_path(pod, "status.containerStatuses"), j, stc) {
			const char *sn = sw_obj_str(stc, "name");
			if (!sn || strcmp(sn, n))
				continue;
			unsigned rc = (unsigned)sw_obj_int(stc, "restartCount", 0);
			if (c->st.phase == SW_CTR_NONE)
				c->next_instance = rc;
			/* a running instance the status showed ready stays ready
			 * across a daemon restart (its probes go on from there),
			 * so endpoints do not flap while the control plane restarts */
			if (c->st.phase == SW_CTR_RUNNING && rc == c->st.instance && sw_obj_path(stc, "state.running")) {
				if (sw_obj_bool(stc, "ready", false))
					c->was_ready = c->st.instance + 1;
				if (sw_obj_bool(stc, "started", false))
					c->was_started = c->st.instance + 1;
			}
			json_t *last = json_object_get(stc, "lastState");
			if (json_object_get(last, "terminated") && rc == c->st.instance && !c->prev_term)
				c->prev_term = json_incref(last);
		}
	}
	if (!p->ports || first) {
		if (pod_ports(p, err) < 0)
			return -1;
	}
	p->adopted = false;
	return 0;
}

/* ---- starting --------------------------------------------------------------------- */

static void set_wait(sw_actr *c, const char *reason, const char *msg)
{
	free(c->wait_reason);
	free(c->wait_msg);
	c->wait_reason = reason ? sw_xstrdup(reason) : NULL;
	c->wait_msg = msg ? sw_xstrdup(msg) : NULL;
}

static void start_ctr(sw_apod *p, sw_actr *c, unsigned instance)
{
	sw_agent *a = p->a;
	const json_t *spec = sw_agent_ctr_spec(p, c->name);
	if (!spec)
		return;
	int64_t now = sw_agent_now_ms();
	if (c->wait_reason && now < c->retry_at_ms)
		return;
	sw_ctr_build b;
	const char *reason = NULL;
	cleanup_error sw_error *err = NULL;
	if (sw_ctr_build_config(&b, a->store, a->rt, p->pod, spec, p->ports, instance, &reason, &err) < 0) {
		cleanup_free char *msg = sw_error_string(err);
		bool news = !c->wait_msg || strcmp(c->wait_msg, msg);
		set_wait(c, reason, msg);
		c->retry_at_ms = now + RETRY_MS;
		if (news)
			pod_event(p, "Warning", "Failed", "Error: %s", msg);
		return;
	}
	const char *image = sw_obj_str(spec, "image");
	int rc = sw_podrt_start(a->rt, &b.cfg, &err);
	sw_ctr_build_release(&b);
	if (rc < 0) {
		if (rc == SW_ECONFLICT)
			return;   /* the old instance still runs: its exit requeues */
		cleanup_free char *msg = sw_error_string(err);
		bool news = !c->wait_msg || strcmp(c->wait_msg, msg);
		c->retry_at_ms = now + RETRY_MS;
		if (rc == SW_ENOTFOUND) {
			char m[600];
			snprintf(m, sizeof(m), "Container image \"%s\" is not present with pull policy of Never",
			         image ? image : "");
			news = !c->wait_msg || strcmp(c->wait_msg, m);
			set_wait(c, "ErrImageNeverPull", m);
			if (news)
				pod_event(p, "Warning", "ErrImageNeverPull", "%s", m);
		} else {
			set_wait(c, "CreateContainerError", msg);
			if (news)
				pod_event(p, "Warning", "Failed", "Error: %s", msg);
		}
		return;
	}
	set_wait(c, NULL, NULL);
	if (c->cur_term) {
		json_decref(c->prev_term);
		c->prev_term = steal_pointer(&c->cur_term);
	}
	c->instance = instance;
	c->next_instance = instance + 1;
	c->exit_handled = false;
	c->restart_pending = false;
	c->stopping = SW_STOP_NONE;
	c->prestop_extended = false;
	sw_podrt_status(a->rt, p->uid, c->name, &c->st);
	pod_event(p, "Normal", "Pulled", "Container image \"%s\" already present on machine",
	          image ? image : "");
	pod_event(p, "Normal", "Created", "Created container %s", c->name);
}

/* ---- stopping ---------------------------------------------------------------------- */

static int stop_signal_of(const sw_apod *p, const sw_actr *c)
{
	const char *s = sw_obj_str(sw_agent_ctr_spec(p, c->name), "lifecycle.stopSignal");
	if (s) {
		static const struct { const char *n; int s; } sigs[] = {
			{ "SIGTERM", SIGTERM }, { "SIGINT", SIGINT }, { "SIGQUIT", SIGQUIT },
			{ "SIGKILL", SIGKILL }, { "SIGHUP", SIGHUP }, { "SIGUSR1", SIGUSR1 },
			{ "SIGUSR2", SIGUSR2 },
		};
		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			if (!strcmp(s, sigs[i].n))
				return sigs[i].s;
	}
	return c->st.stop_signal > 0 ? c->st.stop_signal : SIGTERM;
}

static void send_signal(sw_apod *p, sw_actr *c, int sig)
{
	cleanup_error sw_error *err = NULL;
	if (sw_podrt_kill(p->a->rt, p->uid, c->name, sig, &err) < 0)
		sw_log_error(err, "node agent: signal %d to %s/%s container %s", sig, p->ns ? p->ns : "",
		             p->name ? p->name : p->uid, c->name);
}

static void check_done(void *payload, bool ok, const char *msg);

static void exec_done(void *payload, const sw_exec_result *res, const sw_error *err)
{
	if (err) {
		cleanup_free char *msg = sw_error_string(err);
		check_done(payload, false, msg);
		return;
	}
	if (res->timed_out) {
		check_done(payload, false, "command timed out");
		return;
	}
	if (res->exit_code == 0) {
		check_done(payload, true, "");
		return;
	}
	/* the kubelet reports the command's output */
	char msg[512];
	const char *o = res->out_len ? res->out : res->errout_len ? res->errout : NULL;
	if (o)
		snprintf(msg, sizeof(msg), "%.500s", o);
	else
		snprintf(msg, sizeof(msg), "command exited with %d", res->exit_code);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	check_done(payload, false, msg);
}

/* Starts a check of handler (a probe or a lifecycle hook: exec, httpGet,
 * tcpSocket). Returns the ticket, or NULL when the handler has no action. */
static sw_ticket *run_handler(sw_apod *p, sw_actr *c, const json_t *h, int timeout_s, int what)
{
	sw_agent *a = p->a;
	json_t *ex = json_object_get(h, "exec");
	json_t *hg = json_object_get(h, "httpGet");
	json_t *ts = json_object_get(h, "tcpSocket");
	if (!ex && !hg && !ts)
		return NULL;
	sw_ticket *t = ticket_new(a, p, c, what);
	if (ex) {
		json_t *cmd = json_object_get(ex, "command");
		size_t n = json_array_size(cmd);
		cleanup_free const char **argv = sw_xcalloc(n + 1, sizeof(char *));
		for (size_t i = 0; i < n; i++)
			argv[i] = json_string_value(json_array_get(cmd, i));
		cleanup_error sw_error *err = NULL;
		if (n == 0 || sw_podrt_exec_async(a->rt, p->uid, c->name, argv, NULL, 0, timeout_s * 1000,
		                                  exec_done, t, &err) < 0) {
			/* report on the next turn, never from inside this call */
			cleanup_free char *msg = err ? sw_error_string(err) : sw_xstrdup("no command");
			sw_log(SW_LOG_WARN, "node agent: exec in %s/%s container %s: %s", p->ns, p->name, c->name,
			       msg);
			t->check = sw_check_tcp(a->base, 0, timeout_s, check_done, t);
		}
		return t;
	}
	json_t *port = json_object_get(hg ? hg : ts, "port");
	int host = sw_ports_lookup(p->ports, c->name, port);
	if (hg)
		t->check = sw_check_http(a->base, host, sw_obj_str(hg, "path"),
		                         json_object_get(hg, "httpHeaders"), timeout_s, check_done, t);
	else
		t->check = sw_check_tcp(a->base, host, timeout_s, check_done, t);
	return t;
}

static void begin_stop(sw_apod *p, sw_actr *c, enum sw_stop_why why, int64_t grace_s)
{
	if (c->stopping != SW_STOP_NONE)
		return;
	int64_t now = sw_agent_now_ms();
	c->stopping = why;
	c->kill_at_ms = now + grace_s * 1000;
	c->last_kill_ms = 0;
	probes_stop(c);
	const json_t *pre = sw_obj_path(sw_agent_ctr_spec(p, c->name), "lifecycle.preStop");
	if (c->st.phase == SW_CTR_RUNNING && pre && grace_s > 0) {
		c->prestop_tk = run_handler(p, c, pre, (int)(grace_s > 3600 ? 3600 : grace_s), SW_CHECK_PRESTOP);
		if (c->prestop_tk) {
			c->prestop_running = true;
			return;
		}
	}
	if (grace_s <= 0)
		send_signal(p, c, SIGKILL);
	else
		send_signal(p, c, stop_signal_of(p, c));
}

static int64_t pod_grace(const sw_apod *p)
{
	int64_t g = sw_obj_int(p->pod, "spec.terminationGracePeriodSeconds", 30);
	return g < 0 ? 0 : g;
}

/* Kills what still runs once its grace period is over (and again each
 * second while it lingers). */
static void enforce_deadline(sw_apod *p, sw_actr *c, int64_t now)
{
	if (c->stopping == SW_STOP_NONE)
		return;
	if (c->st.phase != SW_CTR_RUNNING && c->st.phase != SW_CTR_CREATING)
		return;
	if (now < c->kill_at_ms)
		return;
	if (c->prestop_running && !c->prestop_extended) {
		/* a preStop hook still running at expiry gets 2 s more, once */
		c->prestop_extended = true;
		c->kill_at_ms = now + 2000;
		return;
	}
	if (c->prestop_running) {
		ticket_cancel(c->prestop_tk);
		c->prestop_tk = NULL;
		c->prestop_running = false;
	}
	if (c->last_kill_ms && now - c->last_kill_ms < 1000)
		return;
	c->last_kill_ms = now;
	send_signal(p, c, SIGKILL);
}

/* ---- probes -------------------------------------------------------------------------- */

static void probe_fire(evutil_socket_t fd, short what, void *arg);

static void probe_schedule(sw_actr *c, int k)
{
	int64_t wait = sw_probe_sm_wait(&c->probes[k], sw_agent_now_ms());
	if (wait < 0 || !c->probe_ev[k])
		return;
	struct timeval tv = { .tv_sec = wait / 1000, .tv_usec = (wait % 1000) * 1000 };
	evtimer_add(c->probe_ev[k], &tv);
}

static void probes_stop(sw_actr *c)
{
	for (int k = 0; k < 3; k++) {
		if (c->probe_ev[k])
			evtimer_del(c->probe_ev[k]);
		ticket_cancel(c->probe_tk[k]);
		c->probe_tk[k] = NULL;
		sw_probe_sm_stop(&c->probes[k]);
		c->probes[k].in_flight = false;
		json_decref((json_t *)c->probe_spec[k]);
		c->probe_spec[k] = NULL;
	}
	c->probes_on = false;
}

static void probe_activate(sw_apod *p, sw_actr *c, int k, int64_t now)
{
	if (!c->probe_spec[k])
		return;
	if (!c->probe_ev[k]) {
		c->slots[k] = (sw_probe_slot){ .a = p->a, .p = p, .c = c, .kind = k };
		c->probe_ev[k] = evtimer_new(p->a->base, probe_fire, &c->slots[k]);
	}
	sw_probe_sm_start(&c->probes[k], now);
	probe_schedule(c, k);
}

/* A running instance gets its probes (once per instance). */
static void probes_ensure(sw_apod *p, sw_actr *c)
{
	if (c->probes_on && c->probes_instance == c->st.instance)
		return;
	probes_stop(c);
	const json_t *spec = sw_agent_ctr_spec(p, c->name);
	static const char *const fields[3] = { "startupProbe", "livenessProbe", "readinessProbe" };
	int64_t now = sw_agent_now_ms();
	for (int k = 0; k < 3; k++) {
		const json_t *pr = json_object_get(spec, fields[k]);
		if (pr && !json_object_get(pr, "exec") && !json_object_get(pr, "httpGet") &&
		    !json_object_get(pr, "tcpSocket")) {
			sw_log(SW_LOG_WARN, "node agent: %s/%s container %s: %s has no supported handler "
			       "(exec, httpGet, tcpSocket); ignored", p->ns, p->name, c->name, fields[k]);
			pr = NULL;
		}
		/* owned: the stored pod it came from is replaced at each sync */
		c->probe_spec[k] = json_incref((json_t *)pr);
		sw_probe_spec ps;
		sw_probe_spec_from_json(&ps, pr, (sw_probe_kind)k);
		sw_probe_sm_init(&c->probes[k], &ps, (sw_probe_kind)k);
	}
	c->probes_on = true;
	c->probes_instance = c->st.instance;
	c->startup_done = c->probe_spec[SW_PROBE_STARTUP] == NULL;
	if (c->was_started == c->st.instance + 1)
		c->startup_done = true;
	if (c->was_ready == c->st.instance + 1)
		c->probes[SW_PROBE_READINESS].result = SW_PROBE_SUCCESS;
	c->was_ready = c->was_started = 0;
	if (!c->startup_done) {
		probe_activate(p, c, SW_PROBE_STARTUP, now);
	} else {
		probe_activate(p, c, SW_PROBE_LIVENESS, now);
		probe_activate(p, c, SW_PROBE_READINESS, now);
	}
}

static void probe_fire(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sw_probe_slot *s = arg;
	sw_actr *c = s->c;
	sw_probe_sm *sm = &c->probes[s->kind];
	int64_t now = sw_agent_now_ms();
	if (!sw_probe_sm_due(sm, now)) {
		probe_schedule(c, s->kind);
		return;
	}
	sw_probe_sm_begin(sm, now);
	sw_debug("node agent: %s probe of %s/%s container %s", sw_probe_kind_name((sw_probe_kind)s->kind),
	         s->p->ns, s->p->name, c->name);
	c->probe_tk[s->kind] = run_handler(s->p, c, c->probe_spec[s->kind], sm->spec.timeout, s->kind);
	if (!c->probe_tk[s->kind]) {
		sm->in_flight = false;
		probe_schedule(c, s->kind);
	}
}

static void kill_for_probe(sw_apod *p, sw_actr *c, int kind)
{
	const json_t *pr = c->probe_spec[kind];
	int64_t grace = sw_obj_int(pr, "terminationGracePeriodSeconds", pod_grace(p));
	pod_event(p, "Normal", "Killing", "Container %s failed %s probe, will be restarted", c->name,
	          kind == SW_PROBE_LIVENESS ? "liveness" : "startup");
	begin_stop(p, c, kind == SW_PROBE_LIVENESS ? SW_STOP_LIVENESS : SW_STOP_STARTUP, grace);
}

static void check_done(void *payload, bool ok, const char *msg)
{
	sw_ticket *t = payload;
	sw_agent *a = t->a;
	if (t->cancelled || a->closing) {
		ticket_unlink_free(t);
		return;
	}
	sw_apod *p = sw_agent_find_pod(a, t->uid);
	sw_actr *c = p ? sw_agent_find_ctr(p, t->ctr) : NULL;
	int what = t->what;
	sw_debug("node agent: check %d of pod %s container %s: %s%s%s", what, t->uid, t->ctr,
	         ok ? "ok" : "failed", ok ? "" : ": ", ok ? "" : msg);
	if (!c || c->st.instance != t->instance) {
		ticket_unlink_free(t);
		return;
	}
	ticket_unlink_free(t);
	if (what == SW_CHECK_PRESTOP) {
		c->prestop_tk = NULL;
		c->prestop_running = false;
		if (!ok)
			pod_event(p, "Warning", "FailedPreStopHook", "PreStopHook failed: %s", msg);
		if (c->st.phase == SW_CTR_RUNNING || c->st.phase == SW_CTR_CREATING)
			send_signal(p, c, stop_signal_of(p, c));
		return;
	}
	c->probe_tk[what] = NULL;
	sw_probe_sm *sm = &c->probes[what];
	bool changed = sw_probe_sm_finish(sm, ok);
	if (!ok && sm->active)
		pod_event(p, "Warning", "Unhealthy", "%s probe failed: %s", sw_probe_kind_name((sw_probe_kind)what),
		          msg);
	if (changed) {
		int64_t now = sw_agent_now_ms();
		if (what == SW_PROBE_STARTUP && sm->result == SW_PROBE_SUCCESS) {
			c->startup_done = true;
			sw_probe_sm_stop(sm);
			probe_activate(p, c, SW_PROBE_LIVENESS, now);
			probe_activate(p, c, SW_PROBE_READINESS, now);
			enqueue(a, p->uid);
		} else if (sm->result == SW_PROBE_FAILURE &&
		           (what == SW_PROBE_STARTUP || what == SW_PROBE_LIVENESS)) {
			kill_for_probe(p, c, what);
			enqueue(a, p->uid);
			return;
		} else {
			enqueue(a, p->uid);
		}
	}
	probe_schedule(c, what);
}

/* ---- exits ----------------------------------------------------------------------------- */

static json_t *terminated_json(const sw_apod *p, const sw_actr *c)
{
	char buf[32];
	json_t *t = json_object();
	json_object_set_new(t, "exitCode", json_integer(c->st.exit_code));
	if (c->st.signal)
		json_object_set_new(t, "signal", json_integer(c->st.signal));
	const char *reason = c->st.reason[0] ? c->st.reason : c->st.exit_code == 0 ? "Completed" : "Error";
	json_object_set_new(t, "reason", json_string(reason));
	if (c->st.message[0])
		json_object_set_new(t, "message", json_string(c->st.message));
	if (c->st.started_at > 0) {
		sw_time_format(c->st.started_at, buf);
		json_object_set_new(t, "startedAt", json_string(buf));
	} else {
		json_object_set_new(t, "startedAt", json_null());
	}
	if (c->st.finished_at > 0) {
		sw_time_format(c->st.finished_at, buf);
		json_object_set_new(t, "finishedAt", json_string(buf));
	} else {
		json_object_set_new(t, "finishedAt", json_null());
	}
	char id[256];
	snprintf(id, sizeof(id), "slipway://%s/%s/%u", p->uid, c->name, c->st.instance);
	json_object_set_new(t, "containerID", json_string(id));
	return json_pack("{so}", "terminated", t);
}

static bool should_restart(const sw_apod *p, const sw_actr *c)
{
	if (p->terminating)
		return false;
	const char *policy = sw_obj_str(p->pod, "spec.restartPolicy");
	if (!policy || !strcmp(policy, "Always"))
		return true;
	if (!strcmp(policy, "OnFailure"))
		return c->st.exit_code != 0;
	return false;
}

static void handle_exit(sw_apod *p, sw_actr *c)
{
	probes_stop(c);
	json_decref(c->cur_term);
	c->cur_term = terminated_json(p, c);
	c->exit_handled = true;
	c->exit_instance = c->st.instance;
	enum sw_stop_why why = c->stopping;
	c->stopping = SW_STOP_NONE;
	c->prestop_running = false;
	ticket_cancel(c->prestop_tk);
	c->prestop_tk = NULL;
	int64_t ran = c->st.finished_at > 0 && c->st.started_at > 0 ? c->st.finished_at - c->st.started_at : 0;
	if (c->st.exit_code != 0 && why == SW_STOP_NONE && ran < QUICK_EXIT_S && !p->terminating)
		sw_agent_port_conflicts(p, c);
	if (!should_restart(p, c)) {
		c->restart_pending = false;
		return;
	}
	int wait = sw_backoff_on_exit(&c->backoff, ran);
	c->backoff_wait = wait;
	c->restart_pending = true;
	c->restart_at_ms = sw_agent_now_ms() + (int64_t)wait * 1000;
	if (wait > 0) {
		cleanup_free char *full = sw_agent_pod_fullname(p->pod);
		pod_event(p, "Warning", "BackOff", "Back-off restarting failed container %s in pod %s",
		          c->name, full);
	}
}

/* ---- status ------------------------------------------------------------ */

/* Writes the pod's status when it changed (sw_agent_pod_status). */
static void write_status(sw_apod *p)
{
	if (p->gone || !p->pod)
		return;
	cleanup_json json_t *st = sw_agent_pod_status(p);
	if (json_equal(st, json_object_get(p->pod, "status")))
		return;
	cleanup_json json_t *obj = json_deep_copy(p->pod);
	json_object_set(obj, "status", st);
	json_object_del(json_object_get(obj, "metadata"), "resourceVersion");
	json_t *out = NULL;
	cleanup_error sw_error *err = NULL;
	if (sw_store_update(p->a->store, p->a->pod_kind, obj, SW_STORE_STATUS, &out, &err) < 0) {
		if (sw_error_code(err) == SW_ENOTFOUND)
			enqueue(p->a, p->uid);
		else
			sw_log_error(err, "node agent: status of pod %s/%s", p->ns, p->name);
		return;
	}
	json_decref(p->pod);
	p->pod = out;
}

/* ---- sync ---------------------------------------------------------------------------------- */

static void arm_timer(sw_apod *p)
{
	int64_t now = sw_agent_now_ms(), next = -1;
	for (size_t i = 0; i < p->nctrs; i++) {
		sw_actr *c = &p->ctrs[i];
		int64_t t = -1;
		if (c->restart_pending && !p->terminating)
			t = c->restart_at_ms;
		if (c->wait_reason && (t < 0 || c->retry_at_ms < t))
			t = c->retry_at_ms;
		if (c->stopping != SW_STOP_NONE &&
		    (c->st.phase == SW_CTR_RUNNING || c->st.phase == SW_CTR_CREATING)) {
			int64_t k = c->kill_at_ms > now ? c->kill_at_ms : now + 1000;
			if (t < 0 || k < t)
				t = k;
		}
		if (t >= 0 && (next < 0 || t < next))
			next = t;
	}
	evtimer_del(p->timer);
	if (next < 0)
		return;
	int64_t wait = next > now ? next - now : 1;
	struct timeval tv = { .tv_sec = wait / 1000, .tv_usec = (wait % 1000) * 1000 };
	evtimer_add(p->timer, &tv);
}

static void refresh(sw_apod *p)
{
	for (size_t i = 0; i < p->nctrs; i++) {
		sw_actr *c = &p->ctrs[i];
		sw_ctr_status st;
		memset(&st, 0, sizeof(st));
		if (sw_podrt_status(p->a->rt, p->uid, c->name, &st) < 0)
			st.phase = SW_CTR_NONE;
		c->st = st;
		if (st.phase != SW_CTR_NONE)
			c->instance = st.instance;
	}
}

static bool all_stopped(const sw_apod *p)
{
	for (size_t i = 0; i < p->nctrs; i++)
		if (p->ctrs[i].st.phase == SW_CTR_RUNNING || p->ctrs[i].st.phase == SW_CTR_CREATING)
			return false;
	return true;
}

/* Everything of the pod is gone from the host: containers, folder, ports. */
static bool pod_remove(sw_apod *p)
{
	cleanup_error sw_error *err = NULL;
	if (sw_podrt_remove_pod(p->a->rt, p->uid, &err) < 0) {
		if (sw_error_code(err) == SW_ECONFLICT)
			return false;
		sw_log_error(err, "node agent: removing pod %s", p->uid);
	}
	sw_ports_release_all(p->a->ports, p->ports);
	return true;
}

/* Termination: stop every container (preStop, stop signal, SIGKILL after
 * the grace period); when all have stopped, remove them, write the final
 * status and delete the pod for good. Returns true when p was freed. */
static bool sync_terminating(sw_apod *p)
{
	sw_agent *a = p->a;
	int64_t now = sw_agent_now_ms();
	if (!p->terminating) {
		p->terminating = true;
		int64_t grace;
		if (p->gone) {
			grace = pod_grace(p) < ORPHAN_GRACE_S ? pod_grace(p) : ORPHAN_GRACE_S;
		} else {
			grace = sw_obj_int(p->pod, "metadata.deletionGracePeriodSeconds", pod_grace(p));
			const char *dts = sw_obj_str(p->pod, "metadata.deletionTimestamp");
			time_t dt = dts ? sw_time_parse(dts) : -1;
			if (dt > 0) {
				int64_t left = (int64_t)(dt - time(NULL));
				if (left < grace)
					grace = left < 0 ? 0 : left;
			}
		}
		p->term_deadline_ms = now + grace * 1000;
		for (size_t i = 0; i < p->nctrs; i++) {
			sw_actr *c = &p->ctrs[i];
			c->restart_pending = false;
			if (c->st.phase == SW_CTR_RUNNING || c->st.phase == SW_CTR_CREATING) {
				pod_event(p, "Normal", "Killing", "Stopping container %s", c->name);
				c->stopping = SW_STOP_NONE;   /* a probe kill becomes the pod's stop */
				begin_stop(p, c, SW_STOP_DELETE, grace);
			}
		}
	}
	for (size_t i = 0; i < p->nctrs; i++) {
		sw_actr *c = &p->ctrs[i];
		if (c->st.phase == SW_CTR_EXITED && (!c->exit_handled || c->exit_instance != c->st.instance))
			handle_exit(p, c);
		if ((c->st.phase == SW_CTR_RUNNING || c->st.phase == SW_CTR_CREATING) &&
		    c->stopping == SW_STOP_NONE)
			begin_stop(p, c, SW_STOP_DELETE, (p->term_deadline_ms - now) / 1000);
		enforce_deadline(p, c, now);
	}
	if (!all_stopped(p)) {
		write_status(p);
		arm_timer(p);
		return false;
	}
	write_status(p);
	if (!pod_remove(p)) {
		arm_timer(p);
		return false;
	}
	if (!p->gone) {
		sw_delete_opts opts = { .grace_seconds = 0, .uid = p->uid };
		cleanup_error sw_error *err = NULL;
		if (sw_store_delete(a->store, a->pod_kind, p->ns, p->name, &opts, NULL, &err) < 0 &&
		    sw_error_code(err) != SW_ENOTFOUND && sw_error_code(err) != SW_ECONFLICT)
			sw_log_error(err, "node agent: deleting pod %s/%s", p->ns, p->name);
	}
	pod_free(p);
	return true;
}

static void sync_running(sw_apod *p)
{
	int64_t now = sw_agent_now_ms();
	const char *phase = sw_obj_str(p->pod, "status.phase");
	bool terminal = phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"));
	for (size_t i = 0; i < p->nctrs; i++) {
		sw_actr *c = &p->ctrs[i];
		if (!sw_agent_ctr_spec(p, c->name))
			continue;
		switch (c->st.phase) {
		case SW_CTR_NONE:
			if (!terminal)
				start_ctr(p, c, c->next_instance);
			break;
		case SW_CTR_CREATING:
			break;
		case SW_CTR_RUNNING:
			if (c->started_event != c->st.instance + 1) {
				c->started_event = c->st.instance + 1;
				pod_event(p, "Normal", "Started", "Started container %s", c->name);
			}
			if (c->stopping == SW_STOP_NONE)
				probes_ensure(p, c);
			enforce_deadline(p, c, now);
			break;
		case SW_CTR_EXITED:
			if (!c->exit_handled || c->exit_instance != c->st.instance)
				handle_exit(p, c);
			if (c->restart_pending && !terminal && sw_agent_now_ms() >= c->restart_at_ms)
				start_ctr(p, c, c->st.instance + 1);
			break;
		}
	}
}

/* Binds the pod to this node (spec.nodeName), as the scheduler would;
 * returns false when the write failed (the pod is retried). */
static bool bind_pod(sw_apod *p)
{
	sw_agent *a = p->a;
	cleanup_json json_t *obj = json_deep_copy(p->pod);
	json_object_set_new(sw_obj_mkpath(obj, "spec"), "nodeName", json_string(SW_AGENT_NODE_NAME));
	json_t *out = NULL;
	cleanup_error sw_error *err = NULL;
	if (sw_store_update(a->store, a->pod_kind, obj, SW_STORE_MAIN, &out, &err) < 0) {
		if (sw_error_code(err) != SW_ECONFLICT && sw_error_code(err) != SW_ENOTFOUND)
			sw_log_error(err, "node agent: binding pod %s/%s", p->ns, p->name);
		enqueue(a, p->uid);
		return false;
	}
	json_decref(p->pod);
	p->pod = out;
	sw_agent_event(a, p->pod, "Normal", "Scheduled", "default-scheduler",
	               "Successfully assigned %s/%s to %s", p->ns, p->name, SW_AGENT_NODE_NAME);
	return true;
}

/* The stored pod of uid, or NULL when it is gone. */
static json_t *stored_pod(sw_agent *a, const char *uid, sw_apod *p)
{
	json_t *ix = json_object_get(a->index, uid);
	const char *ns = ix ? json_string_value(json_array_get(ix, 0)) : p ? p->ns : NULL;
	const char *name = ix ? json_string_value(json_array_get(ix, 1)) : p ? p->name : NULL;
	if (!ns || !name)
		return NULL;
	json_t *pod = NULL;
	sw_error *err = NULL;
	if (sw_store_get(a->store, a->pod_kind, ns, name, &pod, &err) < 0) {
		if (sw_error_code(err) != SW_ENOTFOUND)
			sw_log_error(err, "node agent: reading pod %s/%s", ns, name);
		sw_error_free(err);
		return NULL;
	}
	const char *u = sw_obj_uid(pod);
	if (!u || strcmp(u, uid)) {
		json_decref(pod);
		return NULL;
	}
	return pod;
}

static void sync_pod(sw_agent *a, const char *uid)
{
	sw_apod *p = sw_agent_find_pod(a, uid);
	cleanup_json json_t *pod = stored_pod(a, uid, p);
	if (!pod) {
		if (!p)
			return;
		/* gone from the store (or never there, for a folder found at
		 * start): stop and remove what is left */
		p->gone = true;
		if (!p->pod)
			p->pod = json_object();
		refresh(p);
		sync_terminating(p);
		return;
	}
	if (!p)
		p = pod_new(a, uid);
	cleanup_error sw_error *err = NULL;
	if (pod_set(p, pod, &err) < 0) {
		sw_log_error(err, "node agent: pod %s/%s", sw_obj_namespace(pod), sw_obj_name(pod));
		enqueue(a, uid);   /* at the next resync (the queue is drained once per turn) */
		return;
	}
	const char *node = sw_obj_str(p->pod, "spec.nodeName");
	if (!node || !*node) {
		if (!sw_obj_deleting(p->pod))
			bind_pod(p);
		/* the bind's MODIFIED event brings the pod back */
		if (!sw_obj_deleting(p->pod))
			return;
	}
	refresh(p);
	if (sw_obj_deleting(p->pod) || p->terminating) {
		sync_terminating(p);
		return;
	}
	sync_running(p);
	write_status(p);
	arm_timer(p);
}

/* ---- the queue --------------------------------------------------------------------------------- */

static void enqueue(sw_agent *a, const char *uid)
{
	if (a->closing)
		return;
	for (size_t i = 0; i < a->nqueue; i++)
		if (!strcmp(a->queue[i], uid))
			return;
	if (a->nqueue == a->capqueue) {
		a->capqueue = a->capqueue ? a->capqueue * 2 : 64;
		a->queue = sw_xreallocarray(a->queue, a->capqueue, sizeof(char *));
	}
	a->queue[a->nqueue++] = sw_xstrdup(uid);
	kick(a->work_ev);
}

/* A few syncs per turn of the loop, so the API, probes and the runtime's
 * reports are served between them while 100 pods start. */
#define WORK_CHUNK 20

static void on_work(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sw_agent *a = arg;
	size_t n = a->nqueue < WORK_CHUNK ? a->nqueue : WORK_CHUNK;
	char *batch[WORK_CHUNK];
	memcpy(batch, a->queue, n * sizeof(char *));
	memmove(a->queue, a->queue + n, (a->nqueue - n) * sizeof(char *));
	a->nqueue -= n;
	int64_t t0 = sw_agent_now_ms();
	for (size_t i = 0; i < n; i++) {
		if (!a->closing)
			sync_pod(a, batch[i]);
		free(batch[i]);
	}
	int64_t took = sw_agent_now_ms() - t0;
	if (took >= 100)
		sw_debug("node agent: %zu pod syncs took %lld ms", n, (long long)took);
	if (a->nqueue)
		kick(a->work_ev);
}

static void index_pod(sw_agent *a, const json_t *pod)
{
	const char *uid = sw_obj_uid(pod), *ns = sw_obj_namespace(pod), *name = sw_obj_name(pod);
	if (uid && ns && name)
		json_object_set_new(a->index, uid, json_pack("[ss]", ns, name));
}

static void on_pod_event(void *ctx, sw_watch_type type, const sw_kind *k, const json_t *obj,
                         uint64_t revision)
{
	(void)k;
	(void)revision;
	sw_agent *a = ctx;
	const char *uid = sw_obj_uid(obj);
	if (!uid)
		return;
	if (type == SW_WATCH_DELETED)
		json_object_del(a->index, uid);
	else
		index_pod(a, obj);
	enqueue(a, uid);
}

static void on_change(void *payload, const char *pod_uid, const char *container,
                      const sw_ctr_status *st)
{
	(void)container;
	(void)st;
	enqueue(payload, pod_uid);
}

static void list_store(sw_agent *a)
{
	cleanup_json json_t *items = NULL;
	uint64_t rev = 0;
	cleanup_error sw_error *err = NULL;
	if (sw_store_list(a->store, a->pod_kind, NULL, &items, &rev, NULL, &err) < 0) {
		sw_log_error(err, "node agent: listing pods");
		return;
	}
	/* the index is rebuilt, so pods removed without an event are noticed */
	json_object_clear(a->index);
	size_t i;
	json_t *pod;
	json_array_foreach(items, i, pod) {
		index_pod(a, pod);
		enqueue(a, sw_obj_uid(pod));
	}
}

void sw_agent_sample(sw_agent *a, sw_apod *p, sw_actr *c)
{
	if (c->st.phase != SW_CTR_RUNNING)
		return;
	uint64_t cpu = 0, mem = 0;
	sw_error *err = NULL;
	if (sw_podrt_stats(a->rt, p->uid, c->name, &cpu, &mem, &err) < 0) {
		sw_error_free(err);
		return;
	}
	int64_t now = sw_agent_now_ms();
	c->mem = mem;
	/* keep two samples at least a second apart for the rate */
	if (c->cpu_t[1] && now - c->cpu_t[1] < 1000) {
		if (!c->cpu_t[0])
			return;
		c->cpu[1] = cpu;
		c->cpu_t[1] = now;
		return;
	}
	c->cpu[0] = c->cpu[1];
	c->cpu_t[0] = c->cpu_t[1];
	c->cpu[1] = cpu;
	c->cpu_t[1] = now;
}

static void on_resync(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sw_agent *a = arg;
	list_store(a);
	for (sw_apod *p = a->pods; p; p = p->next) {
		enqueue(a, p->uid);
		for (size_t i = 0; i < p->nctrs; i++)
			sw_agent_sample(a, p, &p->ctrs[i]);
	}
}

/* ---- start and free ------------------------------------------------------------------------------ */

static void on_found(void *payload, const char *pod_uid, const char *container, const sw_ctr_status *st)
{
	sw_agent *a = payload;
	sw_apod *p = sw_agent_find_pod(a, pod_uid);
	if (!p) {
		p = pod_new(a, pod_uid);
		p->adopted = true;
	}
	sw_actr *c = ctr_ensure(p, container);
	c->st = *st;
	c->instance = st->instance;
	c->next_instance = st->instance + 1;
}

/* Pod folders with no container the runtime knows of (a crash between
 * making the folder and the first start). */
static void find_folders(sw_agent *a)
{
	cleanup_free char *dir = sw_xasprintf("%s/pods", a->state_dir);
	cleanup_dir DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		cleanup_free char *path = sw_xasprintf("%s/%s", dir, de->d_name);
		struct stat sb;
		if (stat(path, &sb) < 0 || !S_ISDIR(sb.st_mode))
			continue;
		if (!sw_agent_find_pod(a, de->d_name)) {
			sw_apod *p = pod_new(a, de->d_name);
			p->adopted = true;
		}
	}
}

int sw_agent_start(sw_agent **out, struct event_base *base, sw_store *store, const char *state_dir,
                   sw_error **err)
{
	sw_agent *a = sw_xcalloc(1, sizeof(*a));
	a->base = base;
	a->store = store;
	a->state_dir = sw_xstrdup(state_dir);
	a->resync_ms = 5000;
	a->index = json_object();
	a->pod_kind = sw_kind_by_resource("", "pods");
	int lo, hi;
	sw_ports_default_range(&lo, &hi);
	a->ports = sw_ports_new(lo, hi);
	a->events = json_array();
	a->work_ev = evtimer_new(base, on_work, a);
	a->flush_ev = evtimer_new(base, on_flush, a);
	a->resync_ev = event_new(base, -1, EV_PERSIST, on_resync, a);
	if (!a->work_ev || !a->flush_ev || !a->resync_ev || !a->pod_kind) {
		sw_agent_free(a);
		return sw_error_set(err, SW_EFAIL, "node agent: cannot set up its events");
	}
	if (sw_podrt_open(&a->rt, state_dir, base, err) < 0) {
		sw_agent_free(a);
		return sw_error_wrap(err, "node agent");
	}
	sw_podrt_on_change(a->rt, on_change, a);
	if (sw_podrt_scan(a->rt, on_found, a, err) < 0) {
		sw_agent_free(a);
		return sw_error_wrap(err, "node agent: re-adopting containers");
	}
	find_folders(a);
	for (sw_apod *p = a->pods; p; p = p->next) {
		/* an adopted pod keeps its ports, and remembers its name for logs */
		json_t *ports = read_pod_json(a, p->uid, "ports");
		size_t i;
		json_t *e;
		json_array_foreach(ports, i, e)
			sw_ports_reserve(a->ports, (int)json_integer_value(json_object_get(e, "hostPort")));
		p->ports = ports;
		json_t *pod = read_pod_json(a, p->uid, "pod.json");
		if (pod) {
			p->ns = sw_xstrdup(sw_obj_namespace(pod) ? sw_obj_namespace(pod) : "default");
			p->name = sw_xstrdup(sw_obj_name(pod) ? sw_obj_name(pod) : "");
			p->pod = pod;
		}
		enqueue(a, p->uid);
	}
	a->watch_id = sw_store_watch(store, a->pod_kind, on_pod_event, a);
	list_store(a);
	struct timeval tv = { .tv_sec = a->resync_ms / 1000, .tv_usec = (a->resync_ms % 1000) * 1000 };
	event_add(a->resync_ev, &tv);
	*out = a;
	return 0;
}

void sw_agent_set_shim(sw_agent *a, const char *path)
{
	sw_podrt_set_shim(a->rt, path);
}

void sw_agent_set_port_range(sw_agent *a, int lo, int hi)
{
	if (lo <= 0 || hi > 65535 || hi < lo)
		return;
	sw_ports *np = sw_ports_new(lo, hi);
	for (sw_apod *p = a->pods; p; p = p->next) {
		size_t i;
		json_t *e;
		json_array_foreach(p->ports, i, e)
			sw_ports_reserve(np, (int)json_integer_value(json_object_get(e, "hostPort")));
	}
	sw_ports_free(a->ports);
	a->ports = np;
}

void sw_agent_set_resync_ms(sw_agent *a, int ms)
{
	if (ms <= 0)
		return;
	a->resync_ms = ms;
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	event_del(a->resync_ev);
	event_add(a->resync_ev, &tv);
}

void sw_agent_free(sw_agent *a)
{
	if (!a)
		return;
	if (a->events && a->store)
		flush_events(a, 0);
	a->closing = true;
	if (a->watch_id > 0)
		sw_store_unwatch(a->store, a->watch_id);
	while (a->pods)
		pod_free(a->pods);
	/* the runtime ends its asynchronous execs; their tickets go after */
	sw_podrt_free(a->rt);
	while (a->tickets) {
		sw_ticket *t = a->tickets;
		if (t->check)
			sw_check_cancel(t->check);
		ticket_unlink_free(t);
	}
	for (size_t i = 0; i < a->nqueue; i++)
		free(a->queue[i]);
	free(a->queue);
	if (a->work_ev)
		event_free(a->work_ev);
	if (a->resync_ev)
		event_free(a->resync_ev);
	if (a->flush_ev)
		event_free(a->flush_ev);
	json_decref(a->events);
	sw_ports_free(a->ports);
	json_decref(a->index);
	free(a->state_dir);
	free(a);
}
