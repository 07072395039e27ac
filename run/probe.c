/*
 * probe.c - one probe's state machine, with Kubernetes' semantics: the
 * first check after initialDelaySeconds, then one every periodSeconds; the
 * result flips to Success after successThreshold consecutive successes and
 * to Failure after failureThreshold consecutive failures. No I/O and no
 * clock of its own: probe_run.c does the checks, the agent decides what a
 * result means (a restart, Ready).
 */
#include <string.h>

#include "agent_int.h"
#include "slipway/object.h"

static int clamp_min(int64_t v, int min)
{
	if (v < min)
		return min;
	if (v > 86400 * 365)
		return 86400 * 365;
	return (int)v;
}

void sw_probe_spec_from_json(sw_probe_spec *out, const json_t *probe, sw_probe_kind kind)
{
	out->initial_delay = clamp_min(sw_obj_int(probe, "initialDelaySeconds", 0), 0);
	out->period = clamp_min(sw_obj_int(probe, "periodSeconds", 10), 1);
	out->timeout = clamp_min(sw_obj_int(probe, "timeoutSeconds", 1), 1);
	out->success_threshold = clamp_min(sw_obj_int(probe, "successThreshold", 1), 1);
	out->failure_threshold = clamp_min(sw_obj_int(probe, "failureThreshold", 3), 1);
	if (kind != SW_PROBE_READINESS)
		out->success_threshold = 1;
	out->termination_grace = sw_obj_int(probe, "terminationGracePeriodSeconds", -1);
}

void sw_probe_sm_init(sw_probe_sm *sm, const sw_probe_spec *spec, sw_probe_kind kind)
{
	memset(sm, 0, sizeof(*sm));
	sm->spec = *spec;
	sm->kind = kind;
	sm->result = kind == SW_PROBE_READINESS ? SW_PROBE_FAILURE
	             : kind == SW_PROBE_LIVENESS ? SW_PROBE_SUCCESS
	                                         : SW_PROBE_UNKNOWN;
}

void sw_probe_sm_start(sw_probe_sm *sm, int64_t now_ms)
{
	sm->active = true;
	sm->in_flight = false;
	sm->successes = sm->failures = 0;
	sm->next_ms = now_ms + (int64_t)sm->spec.initial_delay * 1000;
}

void sw_probe_sm_stop(sw_probe_sm *sm)
{
	sm->active = false;
}

bool sw_probe_sm_due(const sw_probe_sm *sm, int64_t now_ms)
{
	return sm->active && !sm->in_flight && now_ms >= sm->next_ms;
}

void sw_probe_sm_begin(sw_probe_sm *sm, int64_t now_ms)
{
	sm->in_flight = true;
	sm->next_ms = now_ms + (int64_t)sm->spec.period * 1000;
}

bool sw_probe_sm_finish(sw_probe_sm *sm, bool ok)
{
	sm->in_flight = false;
	if (!sm->active)
		return false;
	if (ok) {
		sm->failures = 0;
		if (sm->successes < sm->spec.success_threshold)
			sm->successes++;
		if (sm->result != SW_PROBE_SUCCESS && sm->successes >= sm->spec.success_threshold) {
			sm->result = SW_PROBE_SUCCESS;
			return true;
		}
	} else {
		sm->successes = 0;
		if (sm->failures < sm->spec.failure_threshold)
			sm->failures++;
		if (sm->result != SW_PROBE_FAILURE && sm->failures >= sm->spec.failure_threshold) {
			sm->result = SW_PROBE_FAILURE;
			return true;
		}
	}
	return false;
}

int64_t sw_probe_sm_wait(const sw_probe_sm *sm, int64_t now_ms)
{
	if (!sm->active || sm->in_flight)
		return -1;
	return sm->next_ms > now_ms ? sm->next_ms - now_ms : 0;
}

const char *sw_probe_kind_name(sw_probe_kind k)
{
	switch (k) {
	case SW_PROBE_STARTUP:
		return "Startup";
	case SW_PROBE_LIVENESS:
		return "Liveness";
	case SW_PROBE_READINESS:
		return "Readiness";
	}
	return "?";
}
