/*
 * agent_api.c - what the API asks of the node agent: exec in a container,
 * CPU and memory figures (metrics.k8s.io PodMetrics, the autoscaler's
 * input) and the paths of containers' log files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_int.h"
#include "slipway/agent.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/object.h"

static sw_apod *find_by_name(sw_agent *a, const char *ns, const char *name)
{
	for (sw_apod *p = a->pods; p; p = p->next)
		if (!p->gone && p->ns && p->name && !strcmp(p->ns, ns) && !strcmp(p->name, name))
			return p;
	return NULL;
}

static int pick_ctr(sw_apod *p, const char *container, sw_actr **cp, sw_error **err)
{
	if (container && *container) {
		*cp = sw_agent_find_ctr(p, container);
		if (!*cp)
			return sw_error_set(err, SW_ENOTFOUND, "container %s is not valid for pod %s", container,
			                    p->name);
		return 0;
	}
	if (p->nctrs == 1) {
		*cp = &p->ctrs[0];
		return 0;
	}
	sw_buf b = SW_BUF_INIT(0);
	for (size_t i = 0; i < p->nctrs; i++)
		sw_buf_printf(&b, NULL, "%s%s", i ? " " : "", p->ctrs[i].name);
	cleanup_free char *names = sw_buf_detach(&b);
	return sw_error_set(err, SW_EINVALID, "a container name must be specified for pod %s, choose one "
	                    "of: [%s]", p->name, names);
}

int sw_agent_lookup(sw_agent *a, const char *ns, const char *name, const char *container,
                    sw_apod **pp, sw_actr **cp, sw_error **err)
{
	sw_apod *p = find_by_name(a, ns ? ns : "default", name);
	if (!p)
		return sw_error_set(err, SW_ENOTFOUND, "pods \"%s\" not found", name);
	*pp = p;
	return pick_ctr(p, container, cp, err);
}

static int exec_in(sw_agent *a, sw_apod *p, sw_actr *c, const char *const *argv,
                   const char *stdin_data, size_t stdin_len, int timeout_ms, int *exit_code,
                   char **out, size_t *out_len, char **errout, size_t *errout_len, sw_error **err)
{
	if (c->st.phase != SW_CTR_RUNNING)
		return sw_error_set(err, SW_ECONFLICT, "container %s of pod %s is not running", c->name,
		                    p->name);
	if (!argv || !argv[0])
		return sw_error_set(err, SW_EINVALID, "no command to run");
	return sw_podrt_exec(a->rt, p->uid, c->name, argv, stdin_data, stdin_len, timeout_ms, exit_code,
	                     out, out_len, errout, errout_len, err);
}

int sw_agent_exec(sw_agent *a, const char *ns, const char *name, const char *container,
                  const char *const *argv, const char *stdin_data, size_t stdin_len, int timeout_ms,
                  int *exit_code, char **out, size_t *out_len, char **errout, size_t *errout_len,
                  sw_error **err)
{
	sw_apod *p = NULL;
	sw_actr *c = NULL;
	if (sw_agent_lookup(a, ns, name, container, &p, &c, err) < 0)
		return sw_error_code(*err);
	return exec_in(a, p, c, argv, stdin_data, stdin_len, timeout_ms, exit_code, out, out_len, errout,
	               errout_len, err);
}

/* The agent's pod for a stored pod object: by uid, else by name. */
static int pod_of(sw_agent *a, const json_t *pod, sw_apod **pp, sw_error **err)
{
	const char *uid = sw_obj_uid(pod);
	sw_apod *p = uid ? sw_agent_find_pod(a, uid) : NULL;
	if (!p && sw_obj_name(pod))
		p = find_by_name(a, sw_obj_namespace(pod) ? sw_obj_namespace(pod) : "default", sw_obj_name(pod));
	if (!p || p->gone)
		return sw_error_set(err, SW_ENOTFOUND, "pod %s has no containers on this node",
		                    sw_obj_name(pod) ? sw_obj_name(pod) : "?");
	*pp = p;
	return 0;
}

int sw_agent_api_exec(void *payload, const json_t *pod, const char *container,
                      const char *const *argv, const char *stdin_data, size_t stdin_len,
                      int *exit_code, char **out, size_t *out_len, char **errout, size_t *errout_len,
                      sw_error **err)
{
	sw_agent *a = payload;
	sw_apod *p = NULL;
	sw_actr *c = NULL;
	if (pod_of(a, pod, &p, err) < 0 || pick_ctr(p, container, &c, err) < 0)
		return sw_error_code(*err);
	return exec_in(a, p, c, argv, stdin_data, stdin_len, 0, exit_code, out, out_len, errout,
	               errout_len, err);
}

/* nanocores between the two samples; false without two. */
static bool cpu_rate(const sw_actr *c, uint64_t *nanocores, double *window_s)
{
	if (!c->cpu_t[0] || c->cpu_t[1] <= c->cpu_t[0])
		return false;
	uint64_t d = c->cpu[1] >= c->cpu[0] ? c->cpu[1] - c->cpu[0] : 0;
	uint64_t dt = (uint64_t)(c->cpu_t[1] - c->cpu_t[0]);
	*nanocores = d * 1000 / dt;
	*window_s = (double)dt / 1000.0;
	return true;
}

int sw_agent_api_metrics(void *payload, const json_t *pod, const char *container,
                         uint64_t *cpu_nanocores, uint64_t *memory_bytes, sw_error **err)
{
	sw_agent *a = payload;
	sw_apod *p = NULL;
	sw_actr *c = NULL;
	if (pod_of(a, pod, &p, err) < 0 || pick_ctr(p, container, &c, err) < 0)
		return sw_error_code(*err);
	if (c->st.phase != SW_CTR_RUNNING)
		return sw_error_set(err, SW_ENOTFOUND, "container %s of pod %s is not running", c->name,
		                    p->name);
	sw_agent_sample(a, p, c);
	double w = 0;
	if (!cpu_rate(c, cpu_nanocores, &w))
		*cpu_nanocores = 0;
	*memory_bytes = c->mem;
	return 0;
}

/* PodMetrics of a pod, NULL when none of its containers runs. */
static json_t *pod_metrics(sw_agent *a, sw_apod *p)
{
	json_t *ctrs = json_array();
	double window = 0;
	for (size_t i = 0; i < p->nctrs; i++) {
		sw_actr *c = &p->ctrs[i];
		if (c->st.phase != SW_CTR_RUNNING)
			continue;
		sw_agent_sample(a, p, c);
		uint64_t nc = 0;
		double w = 0;
		if (cpu_rate(c, &nc, &w) && w > window)
			window = w;
		char cpu[32], mem[32];
		snprintf(cpu, sizeof(cpu), "%lun", (unsigned long)nc);
		snprintf(mem, sizeof(mem), "%luKi", (unsigned long)(c->mem / 1024));
		json_array_append_new(ctrs, json_pack("{s:s,s:{s:s,s:s}}", "name", c->name, "usage", "cpu",
		                                      cpu, "memory", mem));
	}
	if (!json_array_size(ctrs)) {
		json_decref(ctrs);
		return NULL;
	}
	char now[32], win[32];
	sw_time_format(time(NULL), now);
	snprintf(win, sizeof(win), "%.3fs", window > 0 ? window : (double)a->resync_ms / 1000.0);
	json_t *md = json_pack("{s:s,s:s,s:s}", "name", p->name, "namespace", p->ns, "creationTimestamp", now);
	json_t *labels = sw_obj_labels(p->pod);
	if (labels)
		json_object_set_new(md, "labels", json_deep_copy(labels));
	return json_pack("{s:s,s:s,s:o,s:s,s:s,s:o}", "kind", "PodMetrics", "apiVersion",
	                 "metrics.k8s.io/v1beta1", "metadata", md, "timestamp", now, "window", win,
	                 "containers", ctrs);
}

int sw_agent_pod_metrics(sw_agent *a, const char *ns, const char *name, json_t **out, sw_error **err)
{
	if (name) {
		sw_apod *p = find_by_name(a, ns ? ns : "default", name);
		json_t *m = p ? pod_metrics(a, p) : NULL;
		if (!m)
			return sw_error_set(err, SW_ENOTFOUND, "podmetrics.metrics.k8s.io \"%s/%s\" not found",
			                    ns ? ns : "default", name);
		*out = m;
		return 0;
	}
	json_t *items = json_array();
	for (sw_apod *p = a->pods; p; p = p->next) {
		if (p->gone || !p->ns || (ns && *ns && strcmp(p->ns, ns)))
			continue;
		json_t *m = pod_metrics(a, p);
		if (m)
			json_array_append_new(items, m);
	}
	*out = json_pack("{s:s,s:s,s:{},s:o}", "kind", "PodMetricsList", "apiVersion",
	                 "metrics.k8s.io/v1beta1", "metadata", "items", items);
	return 0;
}

int sw_agent_log_path(sw_agent *a, const char *ns, const char *name, const char *container,
                      bool previous, char **out, sw_error **err)
{
	sw_apod *p = NULL;
	sw_actr *c = NULL;
	if (sw_agent_lookup(a, ns, name, container, &p, &c, err) < 0)
		return sw_error_code(*err);
	*out = sw_podrt_log_path(a->state_dir, p->uid, c->name, previous);
	return 0;
}
