/* test_probe.c - probes: the state machine (Kubernetes' delays, periods
 * and thresholds) on a fake clock, and the httpGet/tcpSocket checks against
 * servers on 127.0.0.1 run by the test on its own event loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "agent_int.h"

static sw_probe_spec spec_of(const char *json, sw_probe_kind kind)
{
	json_error_t e;
	json_t *j = json_loads(json, 0, &e);
	assert_non_null(j);
	sw_probe_spec s;
	sw_probe_spec_from_json(&s, j, kind);
	json_decref(j);
	return s;
}

static void test_defaults(void **state)
{
	(void)state;
	sw_probe_spec s = spec_of("{\"httpGet\": {\"port\": 80}}", SW_PROBE_READINESS);
	assert_int_equal(s.initial_delay, 0);
	assert_int_equal(s.period, 10);
	assert_int_equal(s.timeout, 1);
	assert_int_equal(s.success_threshold, 1);
	assert_int_equal(s.failure_threshold, 3);
	assert_int_equal(s.termination_grace, -1);
	/* liveness and startup: successThreshold must be 1 */
	s = spec_of("{\"successThreshold\": 3, \"periodSeconds\": 0}", SW_PROBE_LIVENESS);
	assert_int_equal(s.success_threshold, 1);
	assert_int_equal(s.period, 1);   /* minimum */
	s = spec_of("{\"successThreshold\": 3}", SW_PROBE_READINESS);
	assert_int_equal(s.success_threshold, 3);
}

static void test_initial_results(void **state)
{
	(void)state;
	sw_probe_spec s = spec_of("{}", SW_PROBE_READINESS);
	sw_probe_sm sm;
	sw_probe_sm_init(&sm, &s, SW_PROBE_READINESS);
	assert_int_equal(sm.result, SW_PROBE_FAILURE);   /* not ready until it succeeds */
	sw_probe_sm_init(&sm, &s, SW_PROBE_LIVENESS);
	assert_int_equal(sm.result, SW_PROBE_SUCCESS);
	sw_probe_sm_init(&sm, &s, SW_PROBE_STARTUP);
	assert_int_equal(sm.result, SW_PROBE_UNKNOWN);
	assert_false(sw_probe_sm_due(&sm, 0));   /* not started */
	assert_int_equal(sw_probe_sm_wait(&sm, 0), -1);
}

static void test_initial_delay_and_period(void **state)
{
	(void)state;
	sw_probe_spec s = spec_of("{\"initialDelaySeconds\": 5, \"periodSeconds\": 2}", SW_PROBE_READINESS);
	sw_probe_sm sm;
	sw_probe_sm_init(&sm, &s, SW_PROBE_READINESS);
	int64_t t0 = 1000000;
	sw_probe_sm_start(&sm, t0);
	assert_false(sw_probe_sm_due(&sm, t0));
	assert_false(sw_probe_sm_due(&sm, t0 + 4999));
	assert_int_equal(sw_probe_sm_wait(&sm, t0 + 4000), 1000);
	assert_true(sw_probe_sm_due(&sm, t0 + 5000));
	sw_probe_sm_begin(&sm, t0 + 5000);
	/* in flight: not due again, no wait */
	assert_false(sw_probe_sm_due(&sm, t0 + 9000));
	assert_int_equal(sw_probe_sm_wait(&sm, t0 + 9000), -1);
	assert_true(sw_probe_sm_finish(&sm, true));
	assert_int_equal(sm.result, SW_PROBE_SUCCESS);
	/* the next check a period after the last one started */
	assert_false(sw_probe_sm_due(&sm, t0 + 6999));
	assert_true(sw_probe_sm_due(&sm, t0 + 7000));
	assert_int_equal(sw_probe_sm_wait(&sm, t0 + 6500), 500);
}

/* Runs one check at now with the given outcome; returns whether the
 * result changed. */
static bool check(sw_probe_sm *sm, int64_t *now, bool ok)
{
	int64_t w = sw_probe_sm_wait(sm, *now);
	assert_true(w >= 0);
	*now += w;
	assert_true(sw_probe_sm_due(sm, *now));
	sw_probe_sm_begin(sm, *now);
	return sw_probe_sm_finish(sm, ok);
}

static void test_failure_threshold(void **state)
{
	(void)state;
	sw_probe_spec s = spec_of("{\"failureThreshold\": 3}", SW_PROBE_LIVENESS);
	sw_probe_sm sm;
	sw_probe_sm_init(&sm, &s, SW_PROBE_LIVENESS);
	int64_t now = 0;
	sw_probe_sm_start(&sm, now);
	assert_false(check(&sm, &now, true));    /* already Success */
	assert_false(check(&sm, &now, false));
	assert_false(check(&sm, &now, false));
	assert_false(check(&sm, &now, true));    /* a success resets the count */
	assert_false(check(&sm, &now, false));
	assert_false(check(&sm, &now, false));
	assert_int_equal(sm.result, SW_PROBE_SUCCESS);
	assert_true(check(&sm, &now, false));    /* the third in a row */
	assert_int_equal(sm.result, SW_PROBE_FAILURE);
	assert_false(check(&sm, &now, false));   /* stays failed, no new change */
	assert_true(check(&sm, &now, true));
	assert_int_equal(sm.result, SW_PROBE_SUCCESS);
	/* the checks came every periodSeconds (10 s default) */
	assert_int_equal(now, 8 * 10000);
}

static void test_success_threshold(void **state)
{
	(void)state;
	sw_probe_spec s = spec_of("{\"successThreshold\": 2, \"failureThreshold\": 1, \"periodSeconds\": 1}",
	                          SW_PROBE_READINESS);
	sw_probe_sm sm;
	sw_probe_sm_init(&sm, &s, SW_PROBE_READINESS);
	int64_t now = 0;
	sw_probe_sm_start(&sm, now);
	assert_false(check(&sm, &now, true));
	assert_int_equal(sm.result, SW_PROBE_FAILURE);
	assert_true(check(&sm, &now, true));
	assert_int_equal(sm.result, SW_PROBE_SUCCESS);
	assert_true(check(&sm, &now, false));    /* failureThreshold 1 */
	assert_int_equal(sm.result, SW_PROBE_FAILURE);
	assert_false(check(&sm, &now, true));
	assert_false(check(&sm, &now, false));
	assert_false(check(&sm, &now, true));
	assert_true(check(&sm, &now, true));
}

static void test_stop_and_restart(void **state)
{
	(void)state;
	sw_probe_spec s = spec_of("{\"initialDelaySeconds\": 3}", SW_PROBE_STARTUP);
	sw_probe_sm sm;
	sw_probe_sm_init(&sm, &s, SW_PROBE_STARTUP);
	sw_probe_sm_start(&sm, 0);
	sw_probe_sm_begin(&sm, 3000);
	sw_probe_sm_stop(&sm);
	assert_false(sw_probe_sm_finish(&sm, true));   /* a result after stop is moot */
	assert_int_equal(sm.result, SW_PROBE_UNKNOWN);
	assert_false(sw_probe_sm_due(&sm, 100000));
	/* started again: counts and delay from the new start */
	sw_probe_sm_start(&sm, 50000);
	assert_false(sw_probe_sm_due(&sm, 52999));
	assert_true(sw_probe_sm_due(&sm, 53000));
	assert_string_equal(sw_probe_kind_name(SW_PROBE_LIVENESS), "Liveness");
}

/* ---- checks against real sockets ------------------------------------------ */

struct result {
	int calls;
	bool ok;
	char msg[600];
	struct event_base *base;
};

static void on_result(void *payload, bool ok, const char *msg)
{
	struct result *r = payload;
	r->calls++;
	r->ok = ok;
	snprintf(r->msg, sizeof(r->msg), "%s", msg);
	event_base_loopbreak(r->base);
}

static void serve(struct evhttp_request *req, void *arg)
{
	(void)arg;
	const char *uri = evhttp_request_get_uri(req);
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	const char *x = evhttp_find_header(h, "X-Probe");
	const char *ua = evhttp_find_header(h, "User-Agent");
	if (!strcmp(uri, "/ok") && ua && !strncmp(ua, "kube-probe/", 11))
		evhttp_send_reply(req, 200, "OK", NULL);
	else if (!strcmp(uri, "/redirect"))
		evhttp_send_reply(req, 302, "Found", NULL);
	else if (!strcmp(uri, "/header") && x && !strcmp(x, "yes"))
		evhttp_send_reply(req, 204, "No Content", NULL);
	else
		evhttp_send_reply(req, 500, "Internal Server Error", NULL);
}

static int run_check(struct event_base *base, struct result *r, sw_check *c)
{
	assert_non_null(c);
	assert_int_equal(r->calls, 0);   /* never called back inside the start */
	event_base_dispatch(base);
	return r->calls;
}

static void test_http_and_tcp_checks(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	struct evhttp *http = evhttp_new(base);
	evhttp_set_gencb(http, serve, NULL);
	struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
	assert_non_null(bs);
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	assert_int_equal(getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&a, &al), 0);
	int port = ntohs(a.sin_port);

	struct result r = { .base = base };
	assert_int_equal(run_check(base, &r, sw_check_http(base, port, "/ok", NULL, 5, on_result, &r)), 1);
	assert_true(r.ok);

	memset(&r, 0, sizeof(r));
	r.base = base;
	run_check(base, &r, sw_check_http(base, port, "/redirect", NULL, 5, on_result, &r));
	assert_true(r.ok);   /* 3xx counts as success */

	memset(&r, 0, sizeof(r));
	r.base = base;
	run_check(base, &r, sw_check_http(base, port, "/missing", NULL, 5, on_result, &r));
	assert_false(r.ok);
	assert_string_equal(r.msg, "HTTP probe failed with statuscode: 500");

	json_t *hdrs = json_pack("[{s:s,s:s}]", "name", "X-Probe", "value", "yes");
	memset(&r, 0, sizeof(r));
	r.base = base;
	run_check(base, &r, sw_check_http(base, port, "/header", hdrs, 5, on_result, &r));
	assert_true(r.ok);
	json_decref(hdrs);

	memset(&r, 0, sizeof(r));
	r.base = base;
	run_check(base, &r, sw_check_tcp(base, port, 5, on_result, &r));
	assert_true(r.ok);

	/* a port nobody listens on: take one and close it */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in b = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(bind(fd, (struct sockaddr *)&b, sizeof(b)), 0);
	socklen_t bl = sizeof(b);
	getsockname(fd, (struct sockaddr *)&b, &bl);
	int dead = ntohs(b.sin_port);
	close(fd);
	memset(&r, 0, sizeof(r));
	r.base = base;
	run_check(base, &r, sw_check_tcp(base, dead, 5, on_result, &r));
	assert_false(r.ok);
	char want[128];
	snprintf(want, sizeof(want), "dial tcp 127.0.0.1:%d: connect: connection refused", dead);
	assert_string_equal(r.msg, want);

	memset(&r, 0, sizeof(r));
	r.base = base;
	run_check(base, &r, sw_check_http(base, dead, "/healthz", NULL, 5, on_result, &r));
	assert_false(r.ok);
	snprintf(want, sizeof(want),
	         "Get \"http://127.0.0.1:%d/healthz\": dial tcp 127.0.0.1:%d: connect: connection refused",
	         dead, dead);
	assert_string_equal(r.msg, want);

	/* a server that accepts and never answers: the timeout ends the check */
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in l = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(bind(lfd, (struct sockaddr *)&l, sizeof(l)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	socklen_t ll = sizeof(l);
	getsockname(lfd, (struct sockaddr *)&l, &ll);
	memset(&r, 0, sizeof(r));
	r.base = base;
	run_check(base, &r, sw_check_http(base, ntohs(l.sin_port), "/", NULL, 1, on_result, &r));
	assert_false(r.ok);
	assert_non_null(strstr(r.msg, "Client.Timeout exceeded while awaiting headers"));
	close(lfd);

	/* cancel: no call back */
	memset(&r, 0, sizeof(r));
	r.base = base;
	sw_check *c = sw_check_http(base, port, "/ok", NULL, 5, on_result, &r);
	sw_check_cancel(c);
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(r.calls, 0);

	evhttp_free(http);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_initial_results),
		cmocka_unit_test(test_initial_delay_and_period),
		cmocka_unit_test(test_failure_threshold),
		cmocka_unit_test(test_success_threshold),
		cmocka_unit_test(test_stop_and_restart),
		cmocka_unit_test(test_http_and_tcp_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
