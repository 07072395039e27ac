/* test_agent.c - the node agent's pure parts: restart back-off, pod phase
 * and conditions, containerStatuses, host port allocation, and the
 * container config (env from ConfigMaps/Secrets/fieldRefs) against a real
 * store on a temp file. No containers: tests/integration/agent.sh runs
 * those. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "agent_int.h"
#include "slipway/json.h"
#include "slipway/object.h"
#include "slipway/store.h"

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	if (!j)
		fail_msg("bad test JSON at %d: %s", e.line, e.text);
	return j;
}

/* ---- back-off ---------------------------------------------------------------- */

static void test_backoff(void **state)
{
	(void)state;
	sw_backoff b = { 0 };
	/* the first crash restarts at once, then 10 s doubling to 300 s */
	int want[] = { 0, 10, 20, 40, 80, 160, 300, 300, 300 };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(sw_backoff_on_exit(&b, 1), want[i]);
	/* a run of 10 minutes forgets the crashes */
	assert_int_equal(sw_backoff_on_exit(&b, 600), 0);
	assert_int_equal(sw_backoff_on_exit(&b, 599), 10);
	assert_int_equal(sw_backoff_on_exit(&b, 30), 20);
	assert_int_equal(sw_backoff_on_exit(&b, 3600), 0);
}

/* ---- phase and status ---------------------------------------------------------- */

static const char *phase_of(const char *pod_json, sw_ctr_view *ctrs, size_t n, bool terminating)
{
	static char out[32];
	json_t *pod = J(pod_json);
	sw_pod_view v = { .pod = pod, .ctrs = ctrs, .nctrs = n, .terminating = terminating, .now = 1000 };
	snprintf(out, sizeof(out), "%s", sw_pod_phase(&v));
	json_decref(pod);
	return out;
}

static void test_phase(void **state)
{
	(void)state;
	const char *always = "{\"spec\": {}}";
	const char *never = "{\"spec\": {\"restartPolicy\": \"Never\"}}";
	const char *onfail = "{\"spec\": {\"restartPolicy\": \"OnFailure\"}}";
	json_t *last = J("{\"terminated\": {\"exitCode\": 1}}");
	sw_ctr_view c[2];
	memset(c, 0, sizeof(c));
	c[0].name = "a";
	c[1].name = "b";

	/* creating */
	c[0].state = SW_VIEW_WAITING;
	c[1].state = SW_VIEW_RUNNING;
	assert_string_equal(phase_of(always, c, 2, false), "Pending");
	/* all running */
	c[0].state = SW_VIEW_RUNNING;
	assert_string_equal(phase_of(always, c, 2, false), "Running");
	/* one in CrashLoopBackOff (waiting after a termination), one running */
	c[0].state = SW_VIEW_WAITING;
	c[0].last_state = last;
	assert_string_equal(phase_of(always, c, 2, false), "Running");
	/* both terminated, success */
	c[0].state = c[1].state = SW_VIEW_TERMINATED;
	c[0].last_state = NULL;
	c[0].exit_code = c[1].exit_code = 0;
	assert_string_equal(phase_of(never, c, 2, false), "Succeeded");
	assert_string_equal(phase_of(onfail, c, 2, false), "Succeeded");
	assert_string_equal(phase_of(always, c, 2, false), "Running");   /* restarting */
	/* one failed */
	c[1].exit_code = 2;
	assert_string_equal(phase_of(never, c, 2, false), "Failed");
	assert_string_equal(phase_of(onfail, c, 2, false), "Running");
	/* terminal phases stay */
	c[0].state = c[1].state = SW_VIEW_RUNNING;
	assert_string_equal(phase_of("{\"spec\": {}, \"status\": {\"phase\": \"Failed\"}}", c, 2, false),
	                    "Failed");
	/* deletion: once everything stopped, a terminal phase */
	c[0].state = c[1].state = SW_VIEW_TERMINATED;
	c[0].exit_code = 143;
	c[1].exit_code = 0;
	assert_string_equal(phase_of(always, c, 2, true), "Failed");
	c[0].exit_code = 0;
	assert_string_equal(phase_of(always, c, 2, true), "Succeeded");
	c[0].state = SW_VIEW_RUNNING;
	assert_string_equal(phase_of(always, c, 2, true), "Running");
	json_decref(last);
}

static const json_t *cond(const json_t *st, const char *type)
{
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(st, "conditions"), i, c)
		if (!strcmp(json_string_value(json_object_get(c, "type")), type))
			return c;
	fail_msg("no condition %s", type);
	return NULL;
}

static void test_status_conditions(void **state)
{
	(void)state;
	json_t *pod = J("{\"metadata\": {\"name\": \"web-abc\", \"namespace\": \"default\", \"uid\": \"u1\"},"
	                " \"spec\": {\"containers\": [{\"name\": \"web\", \"image\": \"hello:test\","
	                " \"resources\": {\"limits\": {\"cpu\": \"500m\", \"memory\": \"64Mi\"}}}]}}");
	sw_ctr_view c = { .name = "web", .image = "hello:test", .state = SW_VIEW_RUNNING,
		          .started_at = 1700000000, .started = true, .ready = false };
	json_t *ports = J("[{\"container\": \"web\", \"hostPort\": 40001, \"protocol\": \"TCP\"}]");
	sw_pod_view v = { .pod = pod, .ctrs = &c, .nctrs = 1, .start_time = 1700000000, .ports = ports,
		          .now = 1700000010 };
	json_t *st = sw_pod_status_json(&v);
	assert_string_equal(sw_obj_str(st, "phase"), "Running");
	assert_string_equal(sw_obj_str(st, "podIP"), "127.0.0.1");
	assert_string_equal(sw_obj_str(st, "hostIP"), "127.0.0.1");
	assert_string_equal(sw_obj_str(st, "qosClass"), "Guaranteed");
	assert_string_equal(sw_obj_str(st, "startTime"), "2023-11-14T22:13:20Z");
	assert_true(json_equal(json_object_get(st, "slipwayPorts"), ports));
	const json_t *ready = cond(st, "Ready");
	assert_string_equal(sw_obj_str(ready, "status"), "False");
	assert_string_equal(sw_obj_str(ready, "reason"), "ContainersNotReady");
	assert_string_equal(sw_obj_str(ready, "message"), "containers with unready status: [web]");
	assert_string_equal(sw_obj_str(ready, "lastTransitionTime"), "2023-11-14T22:13:30Z");
	assert_string_equal(sw_obj_str(cond(st, "PodScheduled"), "status"), "True");
	assert_string_equal(sw_obj_str(cond(st, "Initialized"), "status"), "True");
	json_t *cs = json_array_get(json_object_get(st, "containerStatuses"), 0);
	assert_string_equal(sw_obj_str(cs, "state.running.startedAt"), "2023-11-14T22:13:20Z");
	assert_false(sw_obj_bool(cs, "ready", true));
	assert_true(sw_obj_bool(cs, "started", false));
	assert_true(json_is_object(json_object_get(cs, "lastState")));

	/* the next sync, later, with nothing changed: times stay */
	json_object_set(pod, "status", st);
	v.now = 1700000100;
	json_t *st2 = sw_pod_status_json(&v);
	assert_true(json_equal(st, st2));
	json_decref(st2);

	/* ready now: Ready flips, with a new transition time; the rest keep theirs */
	c.ready = true;
	st2 = sw_pod_status_json(&v);
	ready = cond(st2, "Ready");
	assert_string_equal(sw_obj_str(ready, "status"), "True");
	assert_null(json_object_get(ready, "reason"));
	assert_string_equal(sw_obj_str(ready, "lastTransitionTime"), "2023-11-14T22:15:00Z");
	assert_string_equal(sw_obj_str(cond(st2, "PodScheduled"), "lastTransitionTime"),
	                    "2023-11-14T22:13:30Z");

	/* terminating: Ready goes False at once */
	json_object_set(pod, "status", st2);
	v.terminating = true;
	json_t *st3 = sw_pod_status_json(&v);
	assert_string_equal(sw_obj_str(cond(st3, "Ready"), "status"), "False");
	json_decref(st3);
	json_decref(st2);
	json_decref(st);
	json_decref(ports);
	json_decref(pod);
}

static void test_container_states(void **state)
{
	(void)state;
	json_t *last = J("{\"terminated\": {\"exitCode\": 137, \"reason\": \"Error\"}}");
	sw_ctr_view c = { .name = "web", .image = "hello:test", .state = SW_VIEW_WAITING,
		          .reason = "CrashLoopBackOff",
		          .message = "back-off 20s restarting failed container=web pod=web-abc_default(u1)",
		          .last_state = last, .restart_count = 2 };
	json_t *cs = sw_ctr_status_json(&c);
	assert_string_equal(sw_obj_str(cs, "state.waiting.reason"), "CrashLoopBackOff");
	assert_string_equal(sw_obj_str(cs, "state.waiting.message"),
	                    "back-off 20s restarting failed container=web pod=web-abc_default(u1)");
	assert_int_equal(sw_obj_int(cs, "lastState.terminated.exitCode", -1), 137);
	assert_int_equal(sw_obj_int(cs, "restartCount", -1), 2);
	json_decref(cs);

	sw_ctr_view t = { .name = "job", .state = SW_VIEW_TERMINATED, .exit_code = 0,
		          .started_at = 1700000000, .finished_at = 1700000005, .container_id = "slipway://u/job/0" };
	cs = sw_ctr_status_json(&t);
	assert_string_equal(sw_obj_str(cs, "state.terminated.reason"), "Completed");
	assert_string_equal(sw_obj_str(cs, "state.terminated.finishedAt"), "2023-11-14T22:13:25Z");
	assert_string_equal(sw_obj_str(cs, "containerID"), "slipway://u/job/0");
	json_decref(cs);
	t.exit_code = 1;
	t.signal = 0;
	cs = sw_ctr_status_json(&t);
	assert_string_equal(sw_obj_str(cs, "state.terminated.reason"), "Error");
	json_decref(cs);
	t.reason = "OOMKilled";
	cs = sw_ctr_status_json(&t);
	assert_string_equal(sw_obj_str(cs, "state.terminated.reason"), "OOMKilled");
	json_decref(cs);
	json_decref(last);

	sw_ctr_view w = { .name = "web", .state = SW_VIEW_WAITING };
	cs = sw_ctr_status_json(&w);
	assert_string_equal(sw_obj_str(cs, "state.waiting.reason"), "ContainerCreating");
	json_decref(cs);
}

static void test_qos(void **state)
{
	(void)state;
	sw_ctr_view c = { .name = "a", .state = SW_VIEW_RUNNING };
	const char *pods[] = {
		"{\"spec\": {\"containers\": [{\"name\": \"a\"}]}}",
		"{\"spec\": {\"containers\": [{\"name\": \"a\", \"resources\": {\"requests\": {\"cpu\": \"100m\"}}}]}}",
		"{\"spec\": {\"containers\": [{\"name\": \"a\", \"resources\": {\"limits\": {\"cpu\": \"1\", "
		"\"memory\": \"1Gi\"}, \"requests\": {\"cpu\": \"1\", \"memory\": \"1Gi\"}}}]}}",
	};
	const char *want[] = { "BestEffort", "Burstable", "Guaranteed" };
	for (size_t i = 0; i < 3; i++) {
		json_t *pod = J(pods[i]);
		sw_pod_view v = { .pod = pod, .ctrs = &c, .nctrs = 1, .now = 1 };
		json_t *st = sw_pod_status_json(&v);
		assert_string_equal(sw_obj_str(st, "qosClass"), want[i]);
		json_decref(st);
		json_decref(pod);
	}
}

/* ---- ports --------------------------------------------------------------------- */

static int free_range(int *lo)
{
	/* a range of 8 ports nobody uses now */
	for (int base = 47000; base < 59000; base += 50) {
		bool ok = true;
		for (int p = base; p < base + 8 && ok; p++)
			ok = sw_port_bindable(p);
		if (ok) {
			*lo = base;
			return 0;
		}
	}
	return -1;
}

static void test_ports(void **state)
{
	(void)state;
	int lo = 0;
	assert_int_equal(free_range(&lo), 0);
	sw_ports *p = sw_ports_new(lo, lo + 7);
	json_t *spec = J("{\"containers\": [{\"name\": \"web\", \"ports\": [{\"name\": \"http\", "
	                 "\"containerPort\": 5000}, {\"containerPort\": 9090, \"protocol\": \"TCP\"}]},"
	                 " {\"name\": \"side\"}]}");
	json_t *map = NULL;
	sw_error *err = NULL;
	assert_int_equal(sw_ports_assign(p, spec, NULL, &map, &err), 0);
	assert_int_equal(json_array_size(map), 3);
	int h0 = (int)sw_obj_int(json_array_get(map, 0), "hostPort", 0);
	int h1 = (int)sw_obj_int(json_array_get(map, 1), "hostPort", 0);
	int h2 = (int)sw_obj_int(json_array_get(map, 2), "hostPort", 0);
	assert_true(h0 >= lo && h0 <= lo + 7);
	assert_true(h0 != h1 && h1 != h2 && h0 != h2);
	assert_string_equal(sw_obj_str(json_array_get(map, 0), "name"), "http");
	assert_int_equal(sw_obj_int(json_array_get(map, 0), "containerPort", 0), 5000);
	assert_string_equal(sw_obj_str(json_array_get(map, 2), "container"), "side");
	assert_null(json_object_get(json_array_get(map, 2), "containerPort"));

	/* lookups: by name, by number, an undeclared number, a container with none */
	json_t *name = json_string("http"), *n5000 = json_integer(5000), *n9090 = json_integer(9090);
	json_t *n1234 = json_integer(1234), *s9090 = json_string("9090");
	assert_int_equal(sw_ports_lookup(map, "web", name), h0);
	assert_int_equal(sw_ports_lookup(map, "web", n5000), h0);
	assert_int_equal(sw_ports_lookup(map, "web", n9090), h1);
	assert_int_equal(sw_ports_lookup(map, "web", s9090), h1);
	assert_int_equal(sw_ports_lookup(map, "web", n1234), 1234);
	assert_int_equal(sw_ports_lookup(map, "side", n1234), h2);
	assert_int_equal(sw_ports_first(map, "web"), h0);
	json_decref(name);
	json_decref(n5000);
	json_decref(n9090);
	json_decref(n1234);
	json_decref(s9090);

	/* the same pod again keeps its ports */
	json_t *again = NULL;
	assert_int_equal(sw_ports_assign(p, spec, map, &again, &err), 0);
	assert_true(json_equal(again, map));
	json_decref(again);

	/* a second pod gets other ports; a port something on the host holds
	 * is skipped */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	int held = -1;
	for (int port = lo; port <= lo + 7; port++) {
		if (port == h0 || port == h1 || port == h2)
			continue;
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
			                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
		assert_int_equal(listen(fd, 1), 0);
		held = port;
		break;
	}
	assert_false(sw_port_bindable(held));
	assert_int_equal(sw_port_listener_pid(held), getpid());
	assert_true(sw_pid_descends_from(getpid(), getppid()));
	assert_false(sw_pid_descends_from(getppid(), getpid()));
	json_t *spec2 = J("{\"containers\": [{\"name\": \"a\"}, {\"name\": \"b\"}, {\"name\": \"c\"},"
	                  " {\"name\": \"d\"}]}");
	json_t *map2 = NULL;
	assert_int_equal(sw_ports_assign(p, spec2, NULL, &map2, &err), 0);
	size_t i;
	json_t *e;
	json_array_foreach(map2, i, e) {
		int h = (int)sw_obj_int(e, "hostPort", 0);
		assert_true(h != h0 && h != h1 && h != h2 && h != held);
	}
	/* the range is now full: 3 + 4 + 1 held */
	json_t *map3 = NULL;
	json_t *spec3 = J("{\"containers\": [{\"name\": \"x\"}]}");
	assert_true(sw_ports_assign(p, spec3, NULL, &map3, &err) < 0);
	assert_non_null(strstr(err->msg, "container x"));
	sw_error_clear(&err);
	/* released ports come back */
	sw_ports_release_all(p, map2);
	assert_int_equal(sw_ports_assign(p, spec3, NULL, &map3, &err), 0);
	json_decref(map3);
	close(fd);
	json_decref(spec3);
	json_decref(spec2);
	json_decref(map2);
	json_decref(map);
	json_decref(spec);
	sw_ports_free(p);
}

static void test_port_range(void **state)
{
	(void)state;
	int lo = 0, hi = 0;
	setenv("SLIPWAY_PORT_RANGE", "31000-31999", 1);
	sw_ports_default_range(&lo, &hi);
	assert_int_equal(lo, 31000);
	assert_int_equal(hi, 31999);
	unsetenv("SLIPWAY_PORT_RANGE");
	sw_ports_default_range(&lo, &hi);
	/* clear of the kernel's ephemeral ports when one candidate is */
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	int elo = 32768, ehi = 60999;
	if (f) {
		assert_int_equal(fscanf(f, "%d %d", &elo, &ehi), 2);
		fclose(f);
	}
	if (elo > 30000 || ehi < 20000)
		assert_true(hi < elo || lo > ehi);
	assert_true(lo >= 10000 && hi <= 59999 && lo < hi);
}

static void test_base64_fullname(void **state)
{
	(void)state;
	char *out = NULL;
	size_t len = 0;
	sw_error *err = NULL;
	assert_int_equal(sw_agent_base64_decode(&out, &len, "c2VjcmV0LXZhbHVl", &err), 0);
	assert_string_equal(out, "secret-value");
	assert_int_equal(len, 12);
	free(out);
	assert_int_equal(sw_agent_base64_decode(&out, &len, "YQ==", &err), 0);
	assert_string_equal(out, "a");
	free(out);
	assert_true(sw_agent_base64_decode(&out, &len, "a*b", &err) < 0);
	sw_error_clear(&err);
	json_t *pod = J("{\"metadata\": {\"name\": \"web-abc\", \"namespace\": \"default\", \"uid\": \"u1\"}}");
	char *full = sw_agent_pod_fullname(pod);
	assert_string_equal(full, "web-abc_default(u1)");
	free(full);
	json_decref(pod);
}

/* ---- container config against a real store -------------------------------------- */

static bool has_env(char **env, const char *kv)
{
	for (; env && *env; env++)
		if (!strcmp(*env, kv))
			return true;
	return false;
}

static void test_config_env(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_agent.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof(path), "%s/s.db", dir);
	sw_store *s = NULL;
	sw_error *err = NULL;
	assert_int_equal(sw_store_open(&s, path, &err), 0);
	json_t *cm = J("{\"metadata\": {\"name\": \"cfg\"}, \"data\": {\"GREETING\": \"hi\", \"MODE\": \"x\","
	               " \"bad name\": \"skipped\"}}");
	json_t *sec = J("{\"metadata\": {\"name\": \"sec\"}, \"data\": {\"TOKEN\": \"czNjcjN0\"}}");
	assert_int_equal(sw_store_create(s, sw_kind_lookup("configmaps"), cm, NULL, &err), 0);
	assert_int_equal(sw_store_create(s, sw_kind_lookup("secrets"), sec, NULL, &err), 0);

	json_t *pod = J("{\"metadata\": {\"name\": \"web-abc\", \"namespace\": \"default\", \"uid\": \"u1\","
	                " \"labels\": {\"app\": \"web\"}},"
	                " \"spec\": {\"containers\": [{\"name\": \"web\", \"image\": \"hello:test\","
	                " \"command\": [\"/app/run\", \"--port=$(PORT)\"], \"args\": [\"$(GREETING)\", \"$$(X)\"],"
	                " \"envFrom\": [{\"configMapRef\": {\"name\": \"cfg\"}}, {\"prefix\": \"S_\","
	                " \"secretRef\": {\"name\": \"sec\"}}],"
	                " \"env\": [{\"name\": \"MODE\", \"value\": \"y-$(MODE)\"},"
	                " {\"name\": \"PORT\", \"value\": \"5000\"},"
	                " {\"name\": \"TOK\", \"valueFrom\": {\"secretKeyRef\": {\"name\": \"sec\", \"key\": \"TOKEN\"}}},"
	                " {\"name\": \"G\", \"valueFrom\": {\"configMapKeyRef\": {\"name\": \"cfg\", \"key\": \"GREETING\"}}},"
	                " {\"name\": \"OPT\", \"valueFrom\": {\"configMapKeyRef\": {\"name\": \"nope\", \"key\": \"k\","
	                " \"optional\": true}}},"
	                " {\"name\": \"POD\", \"valueFrom\": {\"fieldRef\": {\"fieldPath\": \"metadata.name\"}}},"
	                " {\"name\": \"NS\", \"valueFrom\": {\"fieldRef\": {\"fieldPath\": \"metadata.namespace\"}}},"
	                " {\"name\": \"UID\", \"valueFrom\": {\"fieldRef\": {\"fieldPath\": \"metadata.uid\"}}},"
	                " {\"name\": \"IP\", \"valueFrom\": {\"fieldRef\": {\"fieldPath\": \"status.podIP\"}}},"
	                " {\"name\": \"APP\", \"valueFrom\": {\"fieldRef\": {\"fieldPath\": \"metadata.labels['app']\"}}}],"
	                " \"resources\": {\"limits\": {\"cpu\": \"500m\", \"memory\": \"128Mi\"},"
	                " \"requests\": {\"cpu\": \"250m\"}},"
	                " \"lifecycle\": {\"stopSignal\": \"SIGINT\"}}]}}");
	json_t *ports = J("[{\"container\": \"web\", \"containerPort\": 5000, \"hostPort\": 40123}]");
	json_t *ctr = json_array_get(sw_obj_path(pod, "spec.containers"), 0);
	sw_ctr_build b;
	const char *reason = NULL;
	assert_int_equal(sw_ctr_build_config(&b, s, NULL, pod, ctr, ports, 3, &reason, &err), 0);
	assert_null(reason);
	assert_true(has_env(b.env, "PORT=40123"));   /* the platform's port wins */
	assert_false(has_env(b.env, "PORT=5000"));
	assert_true(has_env(b.env, "GREETING=hi"));
	assert_true(has_env(b.env, "MODE=y-x"));
	assert_true(has_env(b.env, "S_TOKEN=s3cr3t"));
	assert_true(has_env(b.env, "TOK=s3cr3t"));
	assert_true(has_env(b.env, "G=hi"));
	assert_true(has_env(b.env, "POD=web-abc"));
	assert_true(has_env(b.env, "NS=default"));
	assert_true(has_env(b.env, "UID=u1"));
	assert_true(has_env(b.env, "IP=127.0.0.1"));
	assert_true(has_env(b.env, "APP=web"));
	for (char **e = b.env; *e; e++) {
		assert_null(strstr(*e, "OPT="));
		assert_null(strstr(*e, "bad name"));
	}
	assert_string_equal(b.command[0], "/app/run");
	assert_string_equal(b.command[1], "--port=40123");
	assert_string_equal(b.args[0], "hi");
	assert_string_equal(b.args[1], "$(X)");
	assert_int_equal(b.cfg.cpu_limit_milli, 500);
	assert_int_equal(b.cfg.cpu_request_milli, 250);
	assert_int_equal(b.cfg.memory_limit_bytes, 128 * 1024 * 1024);
	assert_int_equal(b.cfg.instance, 3);
	assert_int_equal(b.cfg.stop_signal, 2);
	assert_string_equal(b.cfg.image, "hello:test");
	assert_string_equal(b.cfg.pod_uid, "u1");
	sw_ctr_build_release(&b);

	/* a missing ConfigMap: the kubelet's CreateContainerConfigError */
	json_t *bad = J("{\"metadata\": {\"name\": \"p\", \"namespace\": \"default\", \"uid\": \"u2\"},"
	                " \"spec\": {\"containers\": [{\"name\": \"web\", \"image\": \"x\","
	                " \"env\": [{\"name\": \"A\", \"valueFrom\": {\"configMapKeyRef\": {\"name\": \"missing\","
	                " \"key\": \"k\"}}}]}]}}");
	assert_true(sw_ctr_build_config(&b, s, NULL, bad, json_array_get(sw_obj_path(bad, "spec.containers"), 0),
	                                NULL, 0, &reason, &err) < 0);
	assert_string_equal(reason, "CreateContainerConfigError");
	char *msg = sw_error_string(err);
	assert_string_equal(msg, "configmap \"missing\" not found");
	free(msg);
	sw_error_clear(&err);
	/* a missing key */
	json_t *badkey = J("{\"metadata\": {\"name\": \"p\", \"namespace\": \"default\", \"uid\": \"u2\"},"
	                   " \"spec\": {\"containers\": [{\"name\": \"web\", \"image\": \"x\","
	                   " \"env\": [{\"name\": \"A\", \"valueFrom\": {\"secretKeyRef\": {\"name\": \"sec\","
	                   " \"key\": \"nokey\"}}}]}]}}");
	assert_true(sw_ctr_build_config(&b, s, NULL, badkey,
	                                json_array_get(sw_obj_path(badkey, "spec.containers"), 0), NULL, 0,
	                                &reason, &err) < 0);
	msg = sw_error_string(err);
	assert_string_equal(msg, "couldn't find key nokey in Secret default/sec");
	free(msg);
	sw_error_clear(&err);

	json_decref(badkey);
	json_decref(bad);
	json_decref(ports);
	json_decref(pod);
	json_decref(cm);
	json_decref(sec);
	sw_store_free(s);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_phase),
		cmocka_unit_test(test_status_conditions),
		cmocka_unit_test(test_container_states),
		cmocka_unit_test(test_qos),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_port_range),
		cmocka_unit_test(test_base64_fullname),
		cmocka_unit_test(test_config_env),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
