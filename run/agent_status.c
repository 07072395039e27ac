/*
 * agent_status.c - what the node agent writes into a pod's status: the
 * phase by the kubelet's rules (getPhase), the conditions PodScheduled,
 * Initialized, ContainersReady and Ready with their transition times, and
 * one containerStatus per container. Also the crash-loop back-off
 * arithmetic. Pure functions of what the agent knows: no store, no clock.
 */
#include <string.h>

#include "agent_int.h"
#include "slipway/cleanup.h"
#include "slipway/mem.h"
#include "slipway/buf.h"
#include "slipway/object.h"

int sw_backoff_on_exit(sw_backoff *b, int64_t ran_seconds)
{
	if (ran_seconds >= SW_BACKOFF_RESET)
		b->next = 0;
	int wait = b->next;
	if (b->next == 0)
		b->next = SW_BACKOFF_INITIAL;
	else
		b->next = b->next >= SW_BACKOFF_MAX / 2 ? SW_BACKOFF_MAX : b->next * 2;
	return wait;
}

static bool is_terminal(const char *phase)
{
	return phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"));
}

static bool last_terminated(const sw_ctr_view *c)
{
	return c->last_state && json_object_get(c->last_state, "terminated") != NULL;
}

const char *sw_pod_phase(const sw_pod_view *v)
{
	const char *prev = sw_obj_str(v->pod, "status.phase");
	if (is_terminal(prev))
		return prev;
	const char *policy = sw_obj_str(v->pod, "spec.restartPolicy");
	if (!policy)
		policy = "Always";
	size_t running = 0, waiting = 0, stopped = 0, succeeded = 0;
	for (size_t i = 0; i < v->nctrs; i++) {
		const sw_ctr_view *c = &v->ctrs[i];
		switch (c->state) {
		case SW_VIEW_RUNNING:
			running++;
			break;
		case SW_VIEW_TERMINATED:
			stopped++;
			if (c->exit_code == 0)
				succeeded++;
			break;
		case SW_VIEW_WAITING:
			if (last_terminated(c))
				stopped++;
			else
				waiting++;
			break;
		}
	}
	if (v->terminating && running == 0 && v->nctrs > 0 && stopped + waiting == v->nctrs)
		return succeeded == v->nctrs ? "Succeeded" : "Failed";
	if (waiting > 0)
		return "Pending";
	if (running > 0)
		return "Running";
	if (v->nctrs > 0 && stopped == v->nctrs) {
		if (!strcmp(policy, "Always"))
			return "Running";
		if (stopped == succeeded)
			return "Succeeded";
		if (!strcmp(policy, "Never"))
			return "Failed";
		return "Running";
	}
	return "Pending";
}

static void set_time(json_t *o, const char *key, time_t t)
{
	char buf[32];
	if (t <= 0) {
		json_object_set_new(o, key, json_null());
		return;
	}
	sw_time_format(t, buf);
	json_object_set_new(o, key, json_string(buf));
}

json_t *sw_ctr_status_json(const sw_ctr_view *c)
{
	json_t *cs = json_object();
	json_object_set_new(cs, "name", json_string(c->name));
	json_t *state = json_object();
	json_t *inner = json_object();
	switch (c->state) {
	case SW_VIEW_WAITING:
		json_object_set_new(inner, "reason", json_string(c->reason ? c->reason : "ContainerCreating"));
		if (c->message && *c->message)
			json_object_set_new(inner, "message", json_string(c->message));
		json_object_set_new(state, "waiting", inner);
		break;
	case SW_VIEW_RUNNING:
		set_time(inner, "startedAt", c->started_at);
		json_object_set_new(state, "running", inner);
		break;
	case SW_VIEW_TERMINATED:
		json_object_set_new(inner, "exitCode", json_integer(c->exit_code));
		if (c->signal)
			json_object_set_new(inner, "signal", json_integer(c->signal));
		json_object_set_new(inner, "reason",
		                    json_string(c->reason ? c->reason
		                                : c->exit_code == 0 ? "Completed" : "Error"));
		if (c->message && *c->message)
			json_object_set_new(inner, "message", json_string(c->message));
		set_time(inner, "startedAt", c->started_at);
		set_time(inner, "finishedAt", c->finished_at);
		if (c->container_id)
			json_object_set_new(inner, "containerID", json_string(c->container_id));
		json_object_set_new(state, "terminated", inner);
		break;
	}
	json_object_set_new(cs, "state", state);
	json_object_set_new(cs, "lastState",
	                    c->last_state ? json_deep_copy(c->last_state) : json_object());
	json_object_set_new(cs, "ready", json_boolean(c->ready));
	json_object_set_new(cs, "restartCount", json_integer(c->restart_count));
	json_object_set_new(cs, "image", json_string(c->image ? c->image : ""));
	json_object_set_new(cs, "imageID", json_string(""));
	if (c->container_id)
		json_object_set_new(cs, "containerID", json_string(c->container_id));
	json_object_set_new(cs, "started", json_boolean(c->started));
	return cs;
}

/* The previous condition of that type, or NULL. */
static const json_t *prev_condition(const json_t *pod, const char *type)
{
	json_t *conds = sw_obj_path(pod, "status.conditions");
	size_t i;
	json_t *c;
	json_array_foreach(conds, i, c) {
		const char *t = json_string_value(json_object_get(c, "type"));
		if (t && !strcmp(t, type))
			return c;
	}
	return NULL;
}

static void add_condition(json_t *conds, const sw_pod_view *v, const char *type, bool status,
                          const char *reason, const char *message)
{
	const char *st = status ? "True" : "False";
	json_t *c = json_object();
	json_object_set_new(c, "type", json_string(type));
	json_object_set_new(c, "status", json_string(st));
	json_object_set_new(c, "lastProbeTime", json_null());
	const json_t *prev = prev_condition(v->pod, type);
	const char *pst = prev ? json_string_value(json_object_get(prev, "status")) : NULL;
	json_t *ptime = prev ? json_object_get(prev, "lastTransitionTime") : NULL;
	if (pst && !strcmp(pst, st) && json_is_string(ptime))
		json_object_set(c, "lastTransitionTime", ptime);
	else
		set_time(c, "lastTransitionTime", v->now);
	if (reason)
		json_object_set_new(c, "reason", json_string(reason));
	if (message)
		json_object_set_new(c, "message", json_string(message));
	json_array_append_new(conds, c);
}

/* Kubernetes' QoS class from the containers' requests and limits. */
static const char *qos_class(const json_t *pod)
{
	json_t *ctrs = sw_obj_path(pod, "spec.containers");
	bool any = false, guaranteed = true;
	size_t i;
	json_t *c;
	json_array_foreach(ctrs, i, c) {
		json_t *lim = sw_obj_path(c, "resources.limits");
		json_t *req = sw_obj_path(c, "resources.requests");
		if (json_object_size(lim) || json_object_size(req))
			any = true;
		static const char *const res[] = { "cpu", "memory" };
		for (size_t r = 0; r < 2; r++) {
			json_t *l = json_object_get(lim, res[r]);
			json_t *q = json_object_get(req, res[r]);
			if (!l || (q && !json_equal(l, q)))
				guaranteed = false;
		}
	}
	if (!any)
		return "BestEffort";
	return guaranteed ? "Guaranteed" : "Burstable";
}

json_t *sw_pod_status_json(const sw_pod_view *v)
{
	json_t *st = json_object();
	const char *phase = sw_pod_phase(v);
	json_object_set_new(st, "phase", json_string(phase));

	sw_buf unready = SW_BUF_INIT(0);
	size_t nunready = 0;
	for (size_t i = 0; i < v->nctrs; i++) {
		if (v->ctrs[i].ready)
			continue;
		sw_buf_printf(&unready, NULL, "%s%s", nunready ? " " : "", v->ctrs[i].name);
		nunready++;
	}
	bool ready = nunready == 0 && !v->terminating;
	bool completed = is_terminal(phase);
	char msg[1200];
	snprintf(msg, sizeof(msg), "containers with unready status: [%s]",
	         unready.data ? unready.data : "");
	sw_buf_release(&unready);

	json_t *conds = json_array();
	add_condition(conds, v, "Initialized", true, NULL, NULL);
	if (ready)
		add_condition(conds, v, "Ready", true, NULL, NULL);
	else
		add_condition(conds, v, "Ready", false, completed ? "PodCompleted" : "ContainersNotReady",
		              completed ? NULL : msg);
	if (nunready == 0)
		add_condition(conds, v, "ContainersReady", true, NULL, NULL);
	else
		add_condition(conds, v, "ContainersReady", false,
		              completed ? "PodCompleted" : "ContainersNotReady", completed ? NULL : msg);
	add_condition(conds, v, "PodScheduled", true, NULL, NULL);
	json_object_set_new(st, "conditions", conds);

	json_object_set_new(st, "hostIP", json_string("127.0.0.1"));
	json_object_set_new(st, "hostIPs", json_pack("[{s:s}]", "ip", "127.0.0.1"));
	json_object_set_new(st, "podIP", json_string("127.0.0.1"));
	json_object_set_new(st, "podIPs", json_pack("[{s:s}]", "ip", "127.0.0.1"));
	set_time(st, "startTime", v->start_time);

	json_t *css = json_array();
	for (size_t i = 0; i < v->nctrs; i++)
		json_array_append_new(css, sw_ctr_status_json(&v->ctrs[i]));
	json_object_set_new(st, "containerStatuses", css);
	json_object_set_new(st, "qosClass", json_string(qos_class(v->pod)));
	if (v->ports)
		json_object_set_new(st, "slipwayPorts", json_deep_copy(v->ports));
	return st;
}

/* ---- a pod's status from the agent's view of it ------------------------- */

static void ctr_view(const sw_apod *p, const sw_actr *c, sw_ctr_view *v, char *msgbuf, size_t msgn,
                     char *idbuf, size_t idn)
{
	memset(v, 0, sizeof(*v));
	const json_t *spec = sw_agent_ctr_spec(p, c->name);
	v->name = c->name;
	v->image = sw_obj_str(spec, "image");
	v->restart_count = c->st.phase == SW_CTR_NONE ? c->next_instance : c->st.instance;
	if (c->st.phase != SW_CTR_NONE) {
		snprintf(idbuf, idn, "slipway://%s/%s/%u", p->uid, c->name, c->st.instance);
		v->container_id = idbuf;
	}
	v->last_state = c->prev_term;
	switch (c->st.phase) {
	case SW_CTR_NONE:
	case SW_CTR_CREATING:
		v->state = SW_VIEW_WAITING;
		v->reason = c->wait_reason ? c->wait_reason : "ContainerCreating";
		v->message = c->wait_msg;
		if (c->st.phase == SW_CTR_NONE && c->cur_term)
			v->last_state = c->cur_term;
		break;
	case SW_CTR_RUNNING:
		v->state = SW_VIEW_RUNNING;
		v->started_at = c->st.started_at;
		v->started = c->startup_done && c->probes_on;
		v->ready = v->started && !p->terminating && c->stopping == SW_STOP_NONE &&
		           (!c->probe_spec[SW_PROBE_READINESS] ||
		            c->probes[SW_PROBE_READINESS].result == SW_PROBE_SUCCESS);
		break;
	case SW_CTR_EXITED:
		if (c->restart_pending && !p->terminating) {
			v->state = SW_VIEW_WAITING;
			v->last_state = c->cur_term;
			if (c->wait_reason) {
				v->reason = c->wait_reason;
				v->message = c->wait_msg;
			} else {
				cleanup_free char *full = sw_agent_pod_fullname(p->pod);
				v->reason = "CrashLoopBackOff";
				snprintf(msgbuf, msgn, "back-off %ds restarting failed container=%s pod=%s",
				         c->backoff_wait, c->name, full);
				v->message = msgbuf;
			}
		} else {
			v->state = SW_VIEW_TERMINATED;
			v->exit_code = c->st.exit_code;
			v->signal = c->st.signal;
			v->reason = c->st.reason[0] ? c->st.reason : NULL;
			v->message = c->st.message[0] ? c->st.message : NULL;
			v->started_at = c->st.started_at;
			v->finished_at = c->st.finished_at;
		}
		break;
	}
}

json_t *sw_agent_pod_status(sw_apod *p)
{
	size_t n = json_array_size(sw_obj_path(p->pod, "spec.containers"));
	sw_ctr_view *views = sw_xcalloc(n + 1, sizeof(*views));
	char (*msgs)[640] = sw_xcalloc(n + 1, sizeof(*msgs));
	char (*ids)[256] = sw_xcalloc(n + 1, sizeof(*ids));
	size_t nv = 0;
	size_t i;
	json_t *cs;
	json_array_foreach(sw_obj_path(p->pod, "spec.containers"), i, cs) {
		const char *name = sw_obj_str(cs, "name");
		sw_actr *c = name ? sw_agent_find_ctr(p, name) : NULL;
		if (!c)
			continue;
		ctr_view(p, c, &views[nv], msgs[nv], sizeof(msgs[nv]), ids[nv], sizeof(ids[nv]));
		nv++;
	}
	sw_pod_view pv = {
		.pod = p->pod, .ctrs = views, .nctrs = nv, .terminating = p->terminating,
		.start_time = p->start_time, .ports = p->ports, .now = time(NULL),
	};
	json_t *st = sw_pod_status_json(&pv);
	free(views);
	free(msgs);
	free(ids);
	return st;
}
