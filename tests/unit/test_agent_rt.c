/*
 * test_agent_rt.c - the node agent with real parts: the store on a file,
 * podrt's shims and runc containers of the examples/hello image, probes
 * over real sockets. Run by tests/integration/agent.sh (as root, after it
 * built hello:test into STATE); not a cmocka test, because every step waits
 * on real processes.
 *
 * usage: test_agent_rt STATE_DIR
 *
 * The test creates Pod objects in the store itself (no controllers), and
 * checks what the agent makes of them: Running and Ready with an answer on
 * the host port, env/ConfigMap/Secret/emptyDir through exec, a killed
 * process restarted with restartCount and then CrashLoopBackOff, a liveness
 * failure restarting the container with the kubelet's events, a bind
 * conflict reported as an event naming the holder, graceful deletion, and
 * agent restarts: no duplicate container, an exit while down recorded, a
 * pod removed while down cleaned up. Waits have generous limits; nothing
 * asserts on timing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "agent_int.h"
#include "slipway/agent.h"
#include "slipway/json.h"
#include "slipway/log.h"
#include "slipway/object.h"
#include "slipway/store.h"

static struct event_base *base;
static sw_store *store;
static sw_agent *agent;
static const char *state;
static const sw_kind *K_POD;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "FAIL: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void step(const char *s)
{
	printf("--- %s\n", s);
	fflush(stdout);
}

/* Runs the loop for ms milliseconds. */
static void pump(int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static json_t *get_pod(const char *name)
{
	json_t *pod = NULL;
	sw_error *err = NULL;
	if (sw_store_get(store, K_POD, "default", name, &pod, &err) < 0) {
		sw_error_free(err);
		return NULL;
	}
	return pod;
}

typedef bool (*cond_fn)(const char *name, void *arg);

/* Runs the loop until cond holds (checked every 100 ms), at most limit s. */
static void dump_events(const char *pod);

static void wait_until(const char *what, int limit_s, cond_fn cond, const char *name, void *arg)
{
	for (int i = 0; i < limit_s * 10; i++) {
		if (cond(name, arg))
			return;
		pump(100);
	}
	json_t *pod = get_pod(name);
	char *dump = pod ? json_dumps(json_object_get(pod, "status"), JSON_INDENT(1)) : NULL;
	fprintf(stderr, "status of %s: %s\n", name, dump ? dump : "(no pod)");
	free(dump);
	json_decref(pod);
	dump_events(name);
	fail("%s: not after %d s", what, limit_s);
}

static const json_t *ctr_status(const json_t *pod)
{
	return json_array_get(sw_obj_path(pod, "status.containerStatuses"), 0);
}

static const char *condition(const json_t *pod, const char *type)
{
	size_t i;
	json_t *c;
	json_array_foreach(sw_obj_path(pod, "status.conditions"), i, c)
		if (!strcmp(sw_obj_str(c, "type"), type))
			return sw_obj_str(c, "status");
	return NULL;
}

static bool is_ready(const char *name, void *arg)
{
	(void)arg;
	json_t *pod = get_pod(name);
	bool ok = pod && sw_obj_str(pod, "status.phase") && !strcmp(sw_obj_str(pod, "status.phase"), "Running") &&
	          condition(pod, "Ready") && !strcmp(condition(pod, "Ready"), "True");
	json_decref(pod);
	return ok;
}

static bool ready_with_restarts(const char *name, void *arg)
{
	json_t *pod = get_pod(name);
	bool ok = pod && is_ready(name, NULL) &&
	          sw_obj_int(ctr_status(pod), "restartCount", -1) == (int64_t)(intptr_t)arg;
	json_decref(pod);
	return ok;
}

static bool waiting_reason(const char *name, void *arg)
{
	json_t *pod = get_pod(name);
	const char *r = pod ? sw_obj_str(ctr_status(pod), "state.waiting.reason") : NULL;
	bool ok = r && !strcmp(r, arg);
	json_decref(pod);
	return ok;
}

static bool gone(const char *name, void *arg)
{
	(void)arg;
	json_t *pod = get_pod(name);
	json_decref(pod);
	return pod == NULL;
}

static int host_port(const char *name)
{
	json_t *pod = get_pod(name);
	if (!pod)
		fail("no pod %s", name);
	int port = (int)sw_obj_int(json_array_get(sw_obj_path(pod, "status.slipwayPorts"), 0), "hostPort", 0);
	json_decref(pod);
	if (port <= 0)
		fail("pod %s has no status.slipwayPorts", name);
	return port;
}

/* GET path on 127.0.0.1:port; the body (caller frees) or NULL. */
static char *http_get(int port, const char *path)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
		                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return NULL;
	}
	char req[256];
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	if (write(fd, req, strlen(req)) < 0) {
		close(fd);
		return NULL;
	}
	char buf[8192];
	size_t n = 0;
	ssize_t r;
	while (n < sizeof(buf) - 1 && (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	buf[n] = '\0';
	if (strncmp(buf, "HTTP/1.", 7) || strncmp(buf + 9, "200", 3))
		return NULL;
	char *body = strstr(buf, "\r\n\r\n");
	return body ? strdup(body + 4) : NULL;
}

static bool has_event(const char *pod, const char *reason, const char *needle)
{
	json_t *items = NULL;
	uint64_t rev;
	sw_error *err = NULL;
	sw_list_opts o = { .ns = "default" };
	if (sw_store_list(store, sw_kind_lookup("events"), &o, &items, &rev, NULL, &err) < 0)
		fail("listing events");
	bool found = false;
	size_t i;
	json_t *e;
	json_array_foreach(items, i, e) {
		const char *n = sw_obj_str(e, "involvedObject.name"), *r = sw_obj_str(e, "reason");
		const char *m = sw_obj_str(e, "message");
		if (n && r && m && !strcmp(n, pod) && !strcmp(r, reason) && strstr(m, needle))
			found = true;
	}
	json_decref(items);
	return found;
}

static void dump_events(const char *pod)
{
	json_t *items = NULL;
	uint64_t rev;
	sw_error *err = NULL;
	sw_list_opts o = { .ns = "default" };
	if (sw_store_list(store, sw_kind_lookup("events"), &o, &items, &rev, NULL, &err) < 0)
		return;
	size_t i;
	json_t *e;
	json_array_foreach(items, i, e)
		if (!strcmp(sw_obj_str(e, "involvedObject.name") ? sw_obj_str(e, "involvedObject.name") : "", pod))
			fprintf(stderr, "  event %s %s: %s\n", sw_obj_str(e, "type"), sw_obj_str(e, "reason"),
			        sw_obj_str(e, "message"));
	json_decref(items);
}

static void expect_event(const char *pod, const char *reason, const char *needle)
{
	for (int i = 0; i < 100 && !has_event(pod, reason, needle); i++)
		pump(100);
	if (!has_event(pod, reason, needle)) {
		dump_events(pod);
		fail("no %s event for %s with \"%s\"", reason, pod, needle);
	}
}

static void create(const char *kind, const char *text)
{
	json_error_t je;
	json_t *obj = json_loads(text, 0, &je);
	if (!obj)
		fail("test JSON: %s", je.text);
	sw_error *err = NULL;
	if (sw_store_create(store, sw_kind_lookup(kind), obj, NULL, &err) < 0)
		fail("create %s: %s", kind, sw_error_string(err));
	json_decref(obj);
}

static void delete_pod(const char *name, int64_t grace)
{
	sw_error *err = NULL;
	sw_delete_opts o = { .grace_seconds = grace };
	if (sw_store_delete(store, K_POD, "default", name, &o, NULL, &err) < 0)
		fail("delete %s: %s", name, sw_error_string(err));
}

static char *exec_out(const char *pod, const char *const *argv, int *code)
{
	char *out = NULL, *errout = NULL;
	size_t ol = 0, el = 0;
	sw_error *err = NULL;
	if (sw_agent_exec(agent, "default", pod, NULL, argv, NULL, 0, 20000, code, &out, &ol, &errout, &el,
	                  &err) < 0)
		fail("exec in %s: %s", pod, sw_error_string(err));
	free(errout);
	return out;
}

static int prestop_port, prestop_hits;
static bool prestop_saw_app;

static char *http_get(int port, const char *path);

static void on_prestop(struct evhttp_request *req, void *arg)
{
	(void)arg;
	if (!strcmp(evhttp_request_get_uri(req), "/prestop")) {
		prestop_hits++;
		char *body = http_get(prestop_port, "/healthz");
		prestop_saw_app = body != NULL;
		free(body);
	}
	evhttp_send_reply(req, 200, "OK", NULL);
}

static bool live_went_unready;

static void watch_unready(void *ctx, sw_watch_type type, const sw_kind *k, const json_t *obj,
                          uint64_t revision)
{
	(void)ctx;
	(void)type;
	(void)k;
	(void)revision;
	const char *ready = condition(obj, "Ready");
	if (!strcmp(sw_obj_name(obj), "live") && ready && strcmp(ready, "True"))
		live_went_unready = true;
}

static void start_agent(void)
{
	sw_error *err = NULL;
	if (sw_agent_start(&agent, base, store, state, &err) < 0)
		fail("sw_agent_start: %s", sw_error_string(err));
	sw_agent_set_resync_ms(agent, 1000);
}

static char *pod_uid(const char *name)
{
	json_t *pod = get_pod(name);
	char *uid = pod ? strdup(sw_obj_uid(pod)) : NULL;
	json_decref(pod);
	return uid;
}

static bool dir_exists(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0;
}

/* A port on the host nobody uses, outside the agent's range. */
static int free_port(void)
{
	for (int p = 30500; p < 31000; p++)
		if (sw_port_bindable(p))
			return p;
	fail("no free port in 30500-30999");
}

#define WEB_POD                                                                                    \
	"{\"metadata\": {\"name\": \"web\", \"labels\": {\"app\": \"web\"}}, \"spec\": {"         \
	"\"terminationGracePeriodSeconds\": 10,"                                                  \
	"\"volumes\": [{\"name\": \"cfg\", \"configMap\": {\"name\": \"cfg\"}},"                  \
	" {\"name\": \"sec\", \"secret\": {\"secretName\": \"sec\"}},"                            \
	" {\"name\": \"scratch\", \"emptyDir\": {}}],"                                            \
	"\"containers\": [{\"name\": \"web\", \"image\": \"hello:test\","                          \
	" \"ports\": [{\"name\": \"http\", \"containerPort\": 8080}],"                            \
	" \"env\": [{\"name\": \"GREETING\", \"valueFrom\": {\"configMapKeyRef\": {\"name\": \"cfg\","\
	" \"key\": \"greeting\"}}}, {\"name\": \"ME\", \"valueFrom\": {\"fieldRef\": {\"fieldPath\":"\
	" \"metadata.name\"}}}],"                                                                  \
	" \"volumeMounts\": [{\"name\": \"cfg\", \"mountPath\": \"/etc/cfg\"},"                   \
	" {\"name\": \"sec\", \"mountPath\": \"/etc/sec\"},"                                      \
	" {\"name\": \"scratch\", \"mountPath\": \"/scratch\"}],"                                 \
	" \"readinessProbe\": {\"httpGet\": {\"path\": \"/healthz\", \"port\": \"http\"},"        \
	" \"periodSeconds\": 1},"                                                                  \
	" \"lifecycle\": {\"preStop\": {\"httpGet\": {\"path\": \"/prestop\", \"port\": %d}}},"   \
	" \"resources\": {\"limits\": {\"cpu\": \"500m\", \"memory\": \"64Mi\"}}}]}}"

#define LIVE_POD                                                                                   \
	"{\"metadata\": {\"name\": \"live\"}, \"spec\": {\"terminationGracePeriodSeconds\": 5,"    \
	"\"containers\": [{\"name\": \"web\", \"image\": \"hello:test\","                          \
	" \"lifecycle\": {\"preStop\": {\"exec\": {\"command\": [\"/bin/sh\", \"-c\","              \
	" \"echo bye > /tmp/prestop\"]}}},"                                                        \
	" \"livenessProbe\": {\"httpGet\": {\"path\": \"/healthz\", \"port\": 8080},"             \
	" \"periodSeconds\": 1, \"failureThreshold\": 3, \"timeoutSeconds\": 5},"                                        \
	" \"startupProbe\": {\"tcpSocket\": {\"port\": 8080}, \"periodSeconds\": 1,"              \
	" \"failureThreshold\": 30}}]}}"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_agent_rt STATE_DIR\n");
		return 2;
	}
	state = argv[1];
	signal(SIGPIPE, SIG_IGN);
	sw_log_init("test_agent_rt", SW_LOG_HUMAN, getenv("SLIPWAY_DEBUG") ? SW_LOG_DEBUG : SW_LOG_INFO);
	K_POD = sw_kind_lookup("pods");
	base = event_base_new();
	char path[4096];
	snprintf(path, sizeof(path), "%s/slipwayd.db", state);
	sw_error *err = NULL;
	if (sw_store_open(&store, path, &err) < 0)
		fail("store: %s", sw_error_string(err));
	start_agent();

	step("a pod with env, ConfigMap, Secret and emptyDir volumes, readiness probe");
	create("configmaps", "{\"metadata\": {\"name\": \"cfg\"}, \"data\": {\"greeting\": \"hi from the agent\"}}");
	create("secrets", "{\"metadata\": {\"name\": \"sec\"}, \"data\": {\"token\": \"czNjcjN0\"}}");
	/* the preStop hook calls the test's own server, which checks that
	 * the app still answers when the hook runs (before the stop signal) */
	struct evhttp *hooks = evhttp_new(base);
	evhttp_set_gencb(hooks, on_prestop, NULL);
	struct evhttp_bound_socket *hs = evhttp_bind_socket_with_handle(hooks, "127.0.0.1", 0);
	if (!hs)
		fail("no server for the preStop hook");
	struct sockaddr_in ha;
	socklen_t hl = sizeof(ha);
	getsockname(evhttp_bound_socket_get_fd(hs), (struct sockaddr *)&ha, &hl);
	char web_pod[4096];
	snprintf(web_pod, sizeof(web_pod), WEB_POD, ntohs(ha.sin_port));
	create("pods", web_pod);
	wait_until("web Running and Ready", 120, is_ready, "web", NULL);
	json_t *pod = get_pod("web");
	if (strcmp(sw_obj_str(pod, "spec.nodeName"), SW_AGENT_NODE_NAME))
		fail("spec.nodeName is not %s", SW_AGENT_NODE_NAME);
	if (strcmp(sw_obj_str(pod, "status.podIP"), "127.0.0.1"))
		fail("status.podIP");
	if (sw_obj_int(json_array_get(sw_obj_path(pod, "status.slipwayPorts"), 0), "containerPort", 0) != 8080)
		fail("slipwayPorts has no containerPort 8080");
	if (!sw_obj_bool(ctr_status(pod), "started", false) || !sw_obj_bool(ctr_status(pod), "ready", false))
		fail("containerStatuses[0] not started and ready");
	json_decref(pod);
	int port = host_port("web");
	prestop_port = port;
	char *body = http_get(port, "/");
	if (!body || strcmp(body, "hi from the agent\n"))
		fail("GET / on %d answered '%s'", port, body ? body : "(nothing)");
	free(body);
	printf("web answers on host port %d\n", port);
	expect_event("web", "Scheduled", "Successfully assigned default/web to local");
	expect_event("web", "Started", "Started container web");

	step("exec: env, ConfigMap and Secret files, a writable emptyDir");
	int code = -1;
	const char *const env_argv[] = { "/bin/sh", "-c", "echo $PORT $ME", NULL };
	char *out = exec_out("web", env_argv, &code);
	char want[128];
	snprintf(want, sizeof(want), "%d web\n", port);
	if (code != 0 || strcmp(out, want))
		fail("env in the container: '%s' (exit %d), expected '%s'", out, code, want);
	free(out);
	const char *const files_argv[] = { "/bin/sh", "-c",
		                           "cat /etc/cfg/greeting /etc/sec/token; touch /scratch/x && echo ok", NULL };
	out = exec_out("web", files_argv, &code);
	if (code != 0 || strcmp(out, "hi from the agents3cr3tok\n"))
		fail("volumes in the container: '%s' (exit %d)", out, code);
	free(out);

	step("killing the app's process: restart with restartCount 1");
	int pid = sw_port_listener_pid(port);
	if (pid <= 0)
		fail("no process listens on %d", port);
	kill(pid, SIGKILL);
	wait_until("web restarted once and Ready", 60, ready_with_restarts, "web", (void *)(intptr_t)1);
	pod = get_pod("web");
	if (sw_obj_int(ctr_status(pod), "lastState.terminated.exitCode", 0) != 137)
		fail("lastState.terminated.exitCode is not 137");
	json_decref(pod);
	if (host_port("web") != port)
		fail("the host port changed on restart");

	step("killing it again: CrashLoopBackOff for 10 s, then restartCount 2");
	pid = sw_port_listener_pid(port);
	kill(pid, SIGKILL);
	wait_until("web in CrashLoopBackOff", 30, waiting_reason, "web", "CrashLoopBackOff");
	pod = get_pod("web");
	char *uid = strdup(sw_obj_uid(pod));
	char msg[300];
	snprintf(msg, sizeof(msg), "back-off 10s restarting failed container=web pod=web_default(%s)", uid);
	if (strcmp(sw_obj_str(ctr_status(pod), "state.waiting.message"), msg))
		fail("waiting.message '%s', expected '%s'", sw_obj_str(ctr_status(pod), "state.waiting.message"), msg);
	if (strcmp(condition(pod, "Ready"), "False"))
		fail("Ready during back-off");
	json_decref(pod);
	expect_event("web", "BackOff", "Back-off restarting failed container web in pod web_default(");
	wait_until("web restarted twice and Ready", 60, ready_with_restarts, "web", (void *)(intptr_t)2);

	step("liveness and startup probes: a failing liveness probe restarts the container");
	create("pods", LIVE_POD);
	wait_until("live Ready", 120, is_ready, "live", NULL);
	const char *const rm_argv[] = { "/bin/rm", "/tmp/www/healthz", NULL };
	out = exec_out("live", rm_argv, &code);
	free(out);
	if (code != 0)
		fail("rm /tmp/www/healthz in live: exit %d", code);
	expect_event("live", "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 404");
	expect_event("live", "Killing", "Container web failed liveness probe, will be restarted");
	wait_until("live restarted once and Ready", 60, ready_with_restarts, "live", (void *)(intptr_t)1);
	if (has_event("live", "FailedPreStopHook", ""))
		fail("live's exec preStop hook failed");

	step("an app that binds a fixed port: the conflict is an event naming the holder");
	int fixed = free_port();
	char fixed_pod[1024];
	for (int i = 1; i <= 2; i++) {
		snprintf(fixed_pod, sizeof(fixed_pod),
		         "{\"metadata\": {\"name\": \"fixed%d\"}, \"spec\": {\"terminationGracePeriodSeconds\": 1,"
		         " \"containers\": [{\"name\": \"app\", \"image\": \"hello:test\","
		         " \"command\": [\"/bin/sh\", \"-c\", \"exec httpd -f -p 127.0.0.1:%d -h /app\"],"
		         " \"ports\": [{\"containerPort\": %d}]}]}}", i, fixed, fixed);
		create("pods", fixed_pod);
		if (i == 1)
			wait_until("fixed1 Ready", 120, is_ready, "fixed1", NULL);
	}
	snprintf(msg, sizeof(msg), "port %d is already in use on this host (by pod default/fixed1); the app "
	         "must bind $PORT", fixed);
	expect_event("fixed2", "PortConflict", msg);
	delete_pod("fixed2", -1);
	delete_pod("fixed1", -1);
	wait_until("fixed2 gone", 60, gone, "fixed2", NULL);
	wait_until("fixed1 gone", 60, gone, "fixed1", NULL);

	step("a host port taken by another process before the app binds it: the pod moves");
	create("pods", "{\"metadata\": {\"name\": \"steal\"}, \"spec\": {\"terminationGracePeriodSeconds\": 1,"
	       " \"containers\": [{\"name\": \"web\", \"image\": \"hello:test\","
	       " \"command\": [\"/bin/sh\", \"-c\", \"sleep 3; exec /app/app.sh\"]}]}}");
	int stolen = 0;
	for (int i = 0; i < 600 && !stolen; i++) {
		json_t *sp = get_pod("steal");
		stolen = (int)sw_obj_int(json_array_get(sw_obj_path(sp, "status.slipwayPorts"), 0), "hostPort", 0);
		json_decref(sp);
		if (!stolen)
			pump(100);
	}
	if (!stolen)
		fail("steal got no host port");
	int thief = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(thief, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in ta = { .sin_family = AF_INET, .sin_port = htons((uint16_t)stolen),
		                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (bind(thief, (struct sockaddr *)&ta, sizeof(ta)) < 0 || listen(thief, 1) < 0)
		fail("taking port %d: %s", stolen, strerror(errno));
	snprintf(msg, sizeof(msg), "host port %d of container web is in use on this host (by process %d", stolen,
	         (int)getpid());
	expect_event("steal", "HostPortInUse", msg);
	wait_until("steal Ready on another port", 60, is_ready, "steal", NULL);
	int moved_to = host_port("steal");
	if (moved_to == stolen)
		fail("steal still has port %d", stolen);
	body = NULL;
	for (int i = 0; i < 300 && !body; i++) {   /* the app sleeps 3 s before it listens */
		body = http_get(moved_to, "/healthz");
		if (!body)
			pump(100);
	}
	if (!body || strcmp(body, "ok\n"))
		fail("steal does not answer on its new port %d", moved_to);
	free(body);
	close(thief);
	delete_pod("steal", -1);
	wait_until("steal gone", 60, gone, "steal", NULL);

	step("graceful deletion: preStop, SIGTERM, folder and ports released, pod gone");
	delete_pod("web", -1);
	pod = get_pod("web");
	if (!pod || !sw_obj_deleting(pod))
		fail("web is not marked for deletion");
	json_decref(pod);
	wait_until("web gone from the store", 60, gone, "web", NULL);
	expect_event("web", "Killing", "Stopping container web");
	if (has_event("web", "FailedPreStopHook", ""))
		fail("the preStop hook failed");
	if (prestop_hits != 1 || !prestop_saw_app)
		fail("the preStop hook ran %d times, app answering: %d", prestop_hits, prestop_saw_app);
	evhttp_free(hooks);
	snprintf(path, sizeof(path), "%s/pods/%s", state, uid);
	if (dir_exists(path))
		fail("%s is still there", path);
	if (!sw_port_bindable(port))
		fail("host port %d still in use", port);
	free(uid);

	step("agent restart with the container running: re-adopted, no duplicate, stays Ready");
	int live_port = host_port("live");
	int live_pid = sw_port_listener_pid(live_port);
	sw_agent_free(agent);
	agent = NULL;
	int wid = sw_store_watch(store, K_POD, watch_unready, NULL);
	start_agent();
	pump(3000);
	if (sw_port_listener_pid(live_port) != live_pid)
		fail("live's server changed after the agent restart (pid %d -> %d)", live_pid,
		     sw_port_listener_pid(live_port));
	wait_until("live Ready after the agent restart", 30, ready_with_restarts, "live", (void *)(intptr_t)1);
	sw_store_unwatch(store, wid);
	if (live_went_unready)
		fail("live went unready while the agent restarted");

	step("an exit while the agent is down is recorded");
	sw_agent_free(agent);
	agent = NULL;
	char comm[64] = "";
	snprintf(path, sizeof(path), "/proc/%d/comm", live_pid);
	FILE *cf = fopen(path, "r");
	if (cf) {
		if (!fgets(comm, sizeof(comm), cf))
			comm[0] = '\0';
		fclose(cf);
	}
	printf("killing %d (%s) while the agent is down\n", live_pid, strtok(comm, "\n") ? comm : "?");
	kill(live_pid, SIGKILL);
	sleep(1);
	start_agent();
	wait_until("live restarted after the recorded exit", 60, ready_with_restarts, "live", (void *)(intptr_t)2);
	pod = get_pod("live");
	if (sw_obj_int(ctr_status(pod), "lastState.terminated.exitCode", 0) != 137) {
		char *dump = json_dumps(json_object_get(pod, "status"), JSON_INDENT(1));
		fprintf(stderr, "%s\n", dump);
		free(dump);
		dump_events("live");
		fail("the exit while down was not recorded in lastState (exit code %lld)",
		     (long long)sw_obj_int(ctr_status(pod), "lastState.terminated.exitCode", 0));
	}
	json_decref(pod);

	step("a pod removed while the agent is down: its containers and folder go");
	live_port = host_port("live");
	char *live_uid = pod_uid("live");
	sw_agent_free(agent);
	agent = NULL;
	delete_pod("live", 0);
	if (get_pod("live"))
		fail("live was not removed by a grace-0 delete");
	start_agent();
	snprintf(path, sizeof(path), "%s/pods/%s", state, live_uid);
	for (int i = 0; i < 300 && dir_exists(path); i++)
		pump(100);
	if (dir_exists(path))
		fail("%s is still there", path);
	if (!sw_port_bindable(live_port))
		fail("live's host port %d is still in use", live_port);
	free(live_uid);

	sw_agent_free(agent);
	sw_store_free(store);
	event_base_free(base);
	printf("PASS: node agent\n");
	return 0;
}
