/*
 * services.c - Services' control plane: assigned fields (cluster IP, node
 * ports, load-balancer status), the endpoints controller and the proxy's
 * configuration file. See services.h.
 *
 * Level-triggered and whole: any change of a Service or a Pod schedules one
 * sync (debounced by SYNC_DELAY_MS) that recomputes everything from the
 * store. With one host's worth of Services and Pods that is cheaper than
 * keeping indexes right, and it can never drift.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/log.h"
#include "slipway/mem.h"
#include "slipway/object.h"
#include "slipway/path.h"
#include "slipway/selector.h"
#include "slipway/services.h"

#define SYNC_DELAY_MS 20
#define NODE_PORT_MIN 30000
#define NODE_PORT_MAX 32767
#define PROXY_RESTART_MS 1000

struct sw_services {
	struct event_base *base;
	sw_store *store;
	char *state_dir;
	char *proxy_dir;
	char *config_path;
	char *proxy_bin;
	int admin_port;
	char admin_url[64];
	int watch_ids[2];
	struct event *sync_ev;
	bool sync_pending;
	/* the proxy process */
	int proxy_pid;
	int proxy_pidfd;
	struct event *proxy_ev;
	struct event *respawn_ev;
	uint64_t config_version;
	char *last_config;     /* canonical, without the version */
};

static const sw_kind *kind(const char *name)
{
	return sw_kind_lookup(name);
}

/* ---- endpoints ------------------------------------------------------------- */

static bool pod_ready(const json_t *pod)
{
	size_t i;
	json_t *c;
	json_array_foreach(sw_obj_path(pod, "status.conditions"), i, c) {
		const char *type = json_string_value(json_object_get(c, "type"));
		const char *status = json_string_value(json_object_get(c, "status"));
		if (type && strcmp(type, "Ready") == 0)
			return status && strcmp(status, "True") == 0;
	}
	return false;
}

static bool pod_finished(const json_t *pod)
{
	const char *phase = sw_obj_str(pod, "status.phase");
	return phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0);
}

/*
 * The host port serving a Service port's targetPort on pod, through the
 * agent's status.slipwayPorts: by containerPort number or port name; a pod
 * with exactly one mapping serves any number (an app that declared no port
 * still got one, passed as PORT). 0 when none.
 */
static int host_port(const json_t *pod, const json_t *target)
{
	const json_t *maps = sw_obj_path(pod, "status.slipwayPorts");
	size_t i;
	json_t *m;
	json_array_foreach(maps, i, m) {
		if (json_is_integer(target) &&
		    json_integer_value(json_object_get(m, "containerPort")) == json_integer_value(target))
			return (int)json_integer_value(json_object_get(m, "hostPort"));
		if (json_is_string(target) && json_string_value(json_object_get(m, "name")) &&
		    strcmp(json_string_value(json_object_get(m, "name")), json_string_value(target)) == 0)
			return (int)json_integer_value(json_object_get(m, "hostPort"));
	}
	if (json_is_integer(target) && json_array_size(maps) == 1)
		return (int)json_integer_value(json_object_get(json_array_get(maps, 0), "hostPort"));
	return 0;
}

static const json_t *target_of(const json_t *port)
{
	const json_t *t = json_object_get(port, "targetPort");
	return t ? t : json_object_get(port, "port");
}

/* Pods of svc's namespace its selector matches (NULL selector: none). */
static bool selects(const json_t *svc, const json_t *pod)
{
	const json_t *sel = sw_obj_path(svc, "spec.selector");
	if (!json_is_object(sel) || json_object_size(sel) == 0)
		return false;
	const char *ns = sw_obj_namespace(svc), *pns = sw_obj_namespace(pod);
	if (!ns || !pns || strcmp(ns, pns) != 0)
		return false;
	sw_selector *s = NULL;
	sw_error *err = NULL;
	if (sw_selector_from_json(&s, sel, true, &err) < 0) {
		sw_error_free(err);
		return false;
	}
	bool m = sw_selector_matches(s, sw_obj_labels(pod));
	sw_selector_free(s);
	return m;
}

json_t *sw_services_endpoints(const json_t *svc, const json_t *pods)
{
	json_t *subsets = json_array();
	size_t i;
	json_t *pod;
	json_array_foreach(pods, i, pod) {
		if (!selects(svc, pod) || pod_finished(pod) || sw_obj_deleting(pod))
			continue;
		json_t *ports = json_array();
		size_t j;
		json_t *sp;
		json_array_foreach(sw_obj_path(svc, "spec.ports"), j, sp) {
			int hp = host_port(pod, target_of(sp));
			if (!hp)
				continue;
			json_t *p = json_pack("{s:i, s:s}", "port", hp, "protocol",
			                      json_string_value(json_object_get(sp, "protocol")) ?
			                      json_string_value(json_object_get(sp, "protocol")) : "TCP");
			if (json_string_value(json_object_get(sp, "name")))
				json_object_set(p, "name", json_object_get(sp, "name"));
			json_array_append_new(ports, p);
		}
		if (json_array_size(ports) == 0) {
			json_decref(ports);
			continue;
		}
		json_t *addr = json_pack("{s:s, s:s, s:{s:s, s:s?, s:s?, s:s?}}", "ip", "127.0.0.1",
		                         "nodeName", "local", "targetRef", "kind", "Pod",
		                         "namespace", sw_obj_namespace(pod), "name", sw_obj_name(pod),
		                         "uid", sw_obj_uid(pod));
		json_t *subset = json_object();
		json_object_set_new(subset, pod_ready(pod) ? "addresses" : "notReadyAddresses",
		                    json_pack("[o]", addr));
		json_object_set_new(subset, "ports", ports);
		json_array_append_new(subsets, subset);
	}
	json_t *md = json_pack("{s:s?, s:s?}", "name", sw_obj_name(svc), "namespace", sw_obj_namespace(svc));
	if (sw_obj_labels(svc))
		json_object_set(md, "labels", sw_obj_labels(svc));
	json_t *ep = json_pack("{s:s, s:s, s:o}", "apiVersion", "v1", "kind", "Endpoints", "metadata", md);
	if (json_array_size(subsets))
		json_object_set_new(ep, "subsets", subsets);
	else
		json_decref(subsets);
	return ep;
}

/* ---- proxy entries ----------------------------------------------------------- */

static bool http_mode(const json_t *svc, const json_t *port)
{
	const char *p = sw_obj_annotation(svc, "slipway.dev/protocol");
	if (p)
		return strcasecmp(p, "http") == 0;
	const char *ap = json_string_value(json_object_get(port, "appProtocol"));
	if (ap && (strcasecmp(ap, "http") == 0 || strcasecmp(ap, "kubernetes.io/h1c") == 0))
		return true;
	const char *name = json_string_value(json_object_get(port, "name"));
	return name && (strcmp(name, "http") == 0 || strncmp(name, "http-", 5) == 0);
}

/* The endpoint entries of the pods matching group_sel (NULL: all) for one
 * Service port. */
static json_t *group_endpoints(const json_t *svc, const json_t *pods, const json_t *port,
                               const sw_selector *group_sel)
{
	json_t *eps = json_array();
	size_t i;
	json_t *pod;
	json_array_foreach(pods, i, pod) {
		if (!selects(svc, pod) || pod_finished(pod))
			continue;
		if (group_sel && !sw_selector_matches(group_sel, sw_obj_labels(pod)))
			continue;
		bool terminating = sw_obj_deleting(pod);
		if (!terminating && !pod_ready(pod))
			continue;
		int hp = host_port(pod, target_of(port));
		if (!hp)
			continue;
		cleanup_free char *ref = sw_xasprintf("%s/%s", sw_obj_namespace(pod), sw_obj_name(pod));
		json_array_append_new(eps, json_pack("{s:s, s:i, s:s, s:b}", "address", "127.0.0.1",
		                                     "port", hp, "pod", ref, "terminating", terminating));
	}
	return eps;
}

static int traffic_groups(const json_t *svc, const json_t *pods, const json_t *port,
                          const json_t *traffic, json_t *entry, sw_error **err)
{
	json_t *groups = json_array();
	json_object_set_new(entry, "groups", groups);
	const json_t *tg = json_object_get(traffic, "groups");
	if (!json_array_size(tg)) {
		json_array_append_new(groups, json_pack("{s:s, s:i, s:o}", "name", "default", "weight", 100,
		                                        "endpoints", group_endpoints(svc, pods, port, NULL)));
		return 0;
	}
	size_t i;
	json_t *g;
	json_array_foreach(tg, i, g) {
		const char *name = json_string_value(json_object_get(g, "name"));
		const json_t *w = json_object_get(g, "weight");
		if (!name || !*name)
			return sw_error_set(err, SW_EINVALID, "groups[%zu].name: Required value", i);
		if (w && (!json_is_integer(w) || json_integer_value(w) < 0 || json_integer_value(w) > 100))
			return sw_error_set(err, SW_EINVALID, "groups[%zu].weight: must be 0..100", i);
		sw_selector *sel = NULL;
		const json_t *js = json_object_get(g, "selector");
		if (js && sw_selector_from_json(&sel, js, !json_object_get(js, "matchLabels") &&
		                                          !json_object_get(js, "matchExpressions"),
		                                err) < 0)
			return sw_error_wrap(err, "groups[%zu].selector", i);
		json_array_append_new(groups, json_pack("{s:s, s:I, s:o}", "name", name, "weight",
		                                        (json_int_t)(w ? json_integer_value(w) : 0),
		                                        "endpoints", group_endpoints(svc, pods, port, sel)));
		sw_selector_free(sel);
	}
	static const char *const copied[] = { "rules", "sticky", "mirror" };
	for (size_t k = 0; k < 3; k++)
		if (json_object_get(traffic, copied[k]))
			json_object_set(entry, copied[k], json_object_get(traffic, copied[k]));
	return 0;
}

int sw_services_proxy_entries(const json_t *svc, const json_t *pods, const char *state_dir,
                              json_t *into, sw_error **err)
{
	cleanup_json json_t *traffic = NULL;
	const char *ta = sw_obj_annotation(svc, "slipway.dev/traffic");
	if (ta && sw_json_loadb(&traffic, "annotation slipway.dev/traffic", ta, strlen(ta), err) < 0)
		return SW_EINVALID;
	const char *type = sw_obj_str(svc, "spec.type");
	bool node = type && (strcmp(type, "NodePort") == 0 || strcmp(type, "LoadBalancer") == 0);
	size_t i;
	json_t *port;
	json_array_foreach(sw_obj_path(svc, "spec.ports"), i, port) {
		int p = (int)json_integer_value(json_object_get(port, "port"));
		const char *pname = json_string_value(json_object_get(port, "name"));
		cleanup_free char *name = pname ?
			sw_xasprintf("%s/%s:%s", sw_obj_namespace(svc), sw_obj_name(svc), pname) :
			sw_xasprintf("%s/%s:%d", sw_obj_namespace(svc), sw_obj_name(svc), p);
		json_t *listen = json_pack("[{s:s, s:i}]", "address", "127.0.0.1", "port", p);
		json_int_t np = json_integer_value(json_object_get(port, "nodePort"));
		if (node && np)
			json_array_append_new(listen, json_pack("{s:s, s:I}", "address", "0.0.0.0", "port", np));
		const char *balance = json_string_value(json_object_get(traffic, "balance"));
		json_t *entry = json_pack("{s:s, s:o, s:s, s:s}", "name", name, "listen", listen, "mode",
		                          http_mode(svc, port) ? "http" : "tcp", "balance",
		                          balance ? balance : "round-robin");
		const char *aff = sw_obj_str(svc, "spec.sessionAffinity");
		if (aff && strcmp(aff, "ClientIP") == 0)
			json_object_set_new(entry, "affinity",
			                    json_pack("{s:b, s:I}", "clientIP", 1, "timeoutSeconds",
			                              (json_int_t)sw_obj_int(svc,
			                              "spec.sessionAffinityConfig.clientIP.timeoutSeconds", 10800)));
		const char *al = sw_obj_annotation(svc, "slipway.dev/access-log");
		if (al && strcmp(al, "true") == 0 && state_dir) {
			cleanup_free char *path = sw_xasprintf("%s/proxy/logs/%s_%s.log", state_dir,
			                                       sw_obj_namespace(svc), sw_obj_name(svc));
			json_object_set_new(entry, "accessLog", json_string(path));
		}
		if (traffic_groups(svc, pods, port, traffic, entry, err) < 0) {
			json_decref(entry);
			return sw_error_wrap(err, "service %s/%s: annotation slipway.dev/traffic",
			                     sw_obj_namespace(svc), sw_obj_name(svc));
		}
		json_array_append_new(into, entry);
	}
	return 0;
}

/* ---- assigned fields ------------------------------------------------------------ */

static bool node_port_used(const json_t *services, json_int_t port)
{
	size_t i, j;
	json_t *svc, *p;
	json_array_foreach(services, i, svc) {
		json_array_foreach(sw_obj_path(svc, "spec.ports"), j, p) {
			if (json_integer_value(json_object_get(p, "nodePort")) == port)
				return true;
		}
	}
	return false;
}

/* Fills spec.clusterIP and missing nodePorts; the caller writes svc back
 * when it returns true. */
static bool assign_fields(json_t *svc, const json_t *services)
{
	bool changed = false;
	json_t *spec = sw_obj_mkpath(svc, "spec");
	if (!sw_obj_str(svc, "spec.clusterIP")) {
		json_object_set_new(spec, "clusterIP", json_string("127.0.0.1"));
		json_object_set_new(spec, "clusterIPs", json_pack("[s]", "127.0.0.1"));
		changed = true;
	}
	const char *type = sw_obj_str(svc, "spec.type");
	if (!type || (strcmp(type, "NodePort") != 0 && strcmp(type, "LoadBalancer") != 0))
		return changed;
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(spec, "ports"), i, p) {
		if (json_integer_value(json_object_get(p, "nodePort")))
			continue;
		/* a deterministic start (hash of the name) keeps ports stable
		 * across a delete and re-create of the same Service */
		unsigned h = 2166136261u;
		for (const char *c = sw_obj_name(svc); c && *c; c++)
			h = (h ^ (unsigned char)*c) * 16777619u;
		json_int_t span = NODE_PORT_MAX - NODE_PORT_MIN + 1;
		for (json_int_t k = 0; k < span; k++) {
			json_int_t cand = NODE_PORT_MIN + (json_int_t)((h + (unsigned)k) % (unsigned)span);
			if (!node_port_used(services, cand)) {
				json_object_set_new(p, "nodePort", json_integer(cand));
				changed = true;
				break;
			}
		}
	}
	return changed;
}

/* ---- the proxy process ------------------------------------------------------------- */

static long proc_start_time(int pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	/* field 22 (starttime); p points at the end of field 2 */
	int field = 2;
	for (; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	return strtol(p, NULL, 10);
}

static void proxy_watch(sw_services *s);

static void respawn_cb(evutil_socket_t fd, short what, void *arg);

static void proxy_exit_cb(evutil_socket_t fd, short what, void *arg)
{
	sw_services *s = arg;
	(void)fd;
	(void)what;
	sw_log(SW_LOG_WARN, "slipway-proxy (pid %d) exited; restarting it in %d ms", s->proxy_pid,
	       PROXY_RESTART_MS);
	event_free(s->proxy_ev);
	s->proxy_ev = NULL;
	close(s->proxy_pidfd);
	s->proxy_pidfd = -1;
	s->proxy_pid = 0;
	struct timeval tv = { PROXY_RESTART_MS / 1000, (PROXY_RESTART_MS % 1000) * 1000 };
	evtimer_add(s->respawn_ev, &tv);
}

static void proxy_watch(sw_services *s)
{
	s->proxy_pidfd = (int)syscall(SYS_pidfd_open, s->proxy_pid, 0);
	if (s->proxy_pidfd < 0) {
		sw_log(SW_LOG_WARN, "pidfd_open(%d): %s", s->proxy_pid, strerror(errno));
		return;
	}
	s->proxy_ev = event_new(s->base, s->proxy_pidfd, EV_READ, proxy_exit_cb, s);
	event_add(s->proxy_ev, NULL);
}

/* The proxy of an earlier slipwayd, if it still runs: STATE/proxy/proxy.pid
 * holds "PID STARTTIME". */
static int adopt_proxy(sw_services *s)
{
	cleanup_free char *pidfile = sw_xasprintf("%s/proxy.pid", s->proxy_dir);
	cleanup_free char *text = NULL;
	sw_error *err = NULL;
	if (sw_read_file(&text, NULL, pidfile, 64, &err) < 0) {
		sw_error_free(err);
		return 0;
	}
	int pid = 0;
	long start = 0;
	if (sscanf(text, "%d %ld", &pid, &start) != 2 || pid <= 0 || proc_start_time(pid) != start)
		return 0;
	s->proxy_pid = pid;
	proxy_watch(s);
	sw_log(SW_LOG_INFO, "re-adopted slipway-proxy (pid %d)", pid);
	return pid;
}

static int spawn_proxy(sw_services *s, sw_error **err)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return sw_error_set_errno(err, errno, "pipe");
	cleanup_free char *log = sw_xasprintf("%s/proxy.log", s->proxy_dir);
	pid_t child = fork();
	if (child < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return sw_error_set_errno(err, errno, "fork");
	}
	if (child == 0) {
		/* first child: a new session, then the proxy in a grandchild so
		 * init (or the subreaper) reaps it, never slipwayd */
		setsid();
		pid_t gc = fork();
		if (gc != 0) {
			ssize_t w = write(pfd[1], &gc, sizeof(gc));
			(void)w;
			_exit(gc < 0);
		}
		int in = open("/dev/null", O_RDONLY);
		int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (in < 0 || out < 0)
			_exit(127);
		dup2(in, 0);
		dup2(out, 1);
		dup2(out, 2);
		syscall(SYS_close_range, 3, ~0U, 0);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execl(s->proxy_bin, s->proxy_bin, "--config", s->config_path, (char *)NULL);
		dprintf(2, "slipwayd: exec %s: %s\n", s->proxy_bin, strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	pid_t gc = -1;
	ssize_t r = read(pfd[0], &gc, sizeof(gc));
	close(pfd[0]);
	int st;
	waitpid(child, &st, 0);
	if (r != (ssize_t)sizeof(gc) || gc <= 0)
		return sw_error_set(err, SW_EFAIL, "starting %s failed", s->proxy_bin);
	s->proxy_pid = gc;
	char pidline[64];
	snprintf(pidline, sizeof(pidline), "%d %ld\n", gc, proc_start_time(gc));
	cleanup_free char *pidfile = sw_xasprintf("%s/proxy.pid", s->proxy_dir);
	if (sw_write_file_atomic(pidfile, pidline, strlen(pidline), 0600, err) < 0)
		return SW_EFAIL;
	proxy_watch(s);
	sw_log(SW_LOG_INFO, "started slipway-proxy (pid %d), admin on %s", gc, s->admin_url);
	return 0;
}

static void respawn_cb(evutil_socket_t fd, short what, void *arg)
{
	sw_services *s = arg;
	(void)fd;
	(void)what;
	sw_error *err = NULL;
	if (s->proxy_bin && !s->proxy_pid && spawn_proxy(s, &err) < 0) {
		sw_log_error(err, "slipway-proxy");
		sw_error_free(err);
		struct timeval tv = { PROXY_RESTART_MS / 1000, (PROXY_RESTART_MS % 1000) * 1000 };
		evtimer_add(s->respawn_ev, &tv);
	}
}

/* ---- sync ------------------------------------------------------------------------ */

static int write_config(sw_services *s, json_t *services, sw_error **err)
{
	cleanup_json json_t *cfg = json_pack("{s:{s:s, s:i}, s:O}", "admin", "address", "127.0.0.1",
	                                     "port", s->admin_port, "services", services);
	cleanup_free char *canon = sw_json_canonical(cfg);
	if (s->last_config && strcmp(canon, s->last_config) == 0)
		return 0;
	json_object_set_new(cfg, "version", json_integer((json_int_t)++s->config_version));
	cleanup_free char *text = json_dumps(cfg, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (sw_write_file_atomic(s->config_path, text, strlen(text), 0600, err) < 0)
		return sw_error_wrap(err, "writing the proxy configuration");
	free(s->last_config);
	s->last_config = steal_pointer(&canon);
	return 0;
}

/* Same listener (address, port) as an entry already in entries? */
static const char *listener_clash(const json_t *entries, const json_t *entry)
{
	size_t i, j, k;
	json_t *e, *l, *m;
	json_array_foreach(json_object_get(entry, "listen"), j, l) {
		json_array_foreach(entries, i, e) {
			json_array_foreach(json_object_get(e, "listen"), k, m) {
				if (json_integer_value(json_object_get(l, "port")) ==
				    json_integer_value(json_object_get(m, "port")))
					return json_string_value(json_object_get(e, "name"));
			}
		}
	}
	return NULL;
}

static int sync_endpoints(sw_services *s, const json_t *svc, const json_t *pods, sw_error **err)
{
	const sw_kind *ek = kind("endpoints");
	if (!json_object_size(sw_obj_path(svc, "spec.selector")))
		return 0;   /* no selector: the user manages its Endpoints */
	cleanup_json json_t *want = sw_services_endpoints(svc, pods);
	cleanup_json json_t *have = NULL;
	sw_error *e = NULL;
	if (sw_store_get(s->store, ek, sw_obj_namespace(svc), sw_obj_name(svc), &have, &e) < 0) {
		int code = sw_error_code(e);
		sw_error_free(e);
		if (code != SW_ENOTFOUND)
			return sw_error_set(err, SW_EFAIL, "reading endpoints %s", sw_obj_name(svc));
		return sw_store_create(s->store, ek, want, NULL, err);
	}
	if (json_equal(json_object_get(have, "subsets"), json_object_get(want, "subsets")) &&
	    json_equal(sw_obj_labels(have), sw_obj_labels(want)))
		return 0;
	json_t *md = json_object_get(want, "metadata");
	json_object_set(md, "resourceVersion", sw_obj_path(have, "metadata.resourceVersion"));
	return sw_store_update(s->store, ek, want, SW_STORE_MAIN, NULL, err);
}

int sw_services_sync(sw_services *s, sw_error **err)
{
	const sw_kind *sk = kind("services"), *pk = kind("pods"), *ek = kind("endpoints");
	cleanup_json json_t *services = NULL, *pods = NULL, *endpoints = NULL;
	if (sw_store_list(s->store, sk, NULL, &services, NULL, NULL, err) < 0 ||
	    sw_store_list(s->store, pk, NULL, &pods, NULL, NULL, err) < 0 ||
	    sw_store_list(s->store, ek, NULL, &endpoints, NULL, NULL, err) < 0)
		return SW_EFAIL;
	cleanup_json json_t *entries = json_array();
	size_t i;
	json_t *svc;
	json_array_foreach(services, i, svc) {
		if (sw_obj_deleting(svc))
			continue;
		if (assign_fields(svc, services)) {
			json_t *out = NULL;
			sw_error *e = NULL;
			if (sw_store_update(s->store, sk, svc, SW_STORE_MAIN, &out, &e) < 0) {
				/* a concurrent edit: the watch brings us back */
				sw_error_free(e);
				continue;
			}
			json_array_set_new(services, i, out);
			svc = out;
		}
		const char *type = sw_obj_str(svc, "spec.type");
		if (type && strcmp(type, "LoadBalancer") == 0 &&
		    !sw_obj_path(svc, "status.loadBalancer.ingress")) {
			json_t *st = json_deep_copy(svc);
			json_object_set_new(st, "status",
			                    json_pack("{s:{s:[{s:s}]}}", "loadBalancer", "ingress", "ip", "127.0.0.1"));
			json_object_del(json_object_get(st, "metadata"), "resourceVersion");
			sw_error *e = NULL;
			if (sw_store_update(s->store, sk, st, SW_STORE_STATUS, NULL, &e) < 0)
				sw_error_free(e);
			json_decref(st);
		}
		sw_error *e = NULL;
		if (sync_endpoints(s, svc, pods, &e) < 0) {
			sw_log_error(e, "endpoints of service %s/%s", sw_obj_namespace(svc), sw_obj_name(svc));
			sw_error_free(e);
		}
		cleanup_json json_t *mine = json_array();
		if (sw_services_proxy_entries(svc, pods, s->state_dir, mine, &e) < 0) {
			cleanup_free char *msg = sw_error_string(e);
			sw_store_event(s->store, svc, "Warning", "InvalidTraffic", "service-controller", "%s", msg);
			sw_error_free(e);
			continue;
		}
		size_t j;
		json_t *entry;
		json_array_foreach(mine, j, entry) {
			const char *other = listener_clash(entries, entry);
			if (other) {
				sw_store_event(s->store, svc, "Warning", "PortInUse", "service-controller",
				               "port of %s is already served by %s; this port is not served",
				               json_string_value(json_object_get(entry, "name")), other);
				continue;
			}
			json_array_append(entries, entry);
		}
	}
	/* Endpoints whose Service is gone (ours: same name as a Service) */
	json_t *ep;
	json_array_foreach(endpoints, i, ep) {
		bool found = false;
		size_t j;
		json_array_foreach(services, j, svc) {
			if (strcmp(sw_obj_name(svc), sw_obj_name(ep)) == 0 &&
			    strcmp(sw_obj_namespace(svc), sw_obj_namespace(ep)) == 0)
				found = true;
		}
		if (!found) {
			sw_error *e = NULL;
			if (sw_store_delete(s->store, ek, sw_obj_namespace(ep), sw_obj_name(ep), NULL, NULL, &e) < 0)
				sw_error_free(e);
		}
	}
	return write_config(s, entries, err);
}

static void sync_cb(evutil_socket_t fd, short what, void *arg)
{
	sw_services *s = arg;
	(void)fd;
	(void)what;
	s->sync_pending = false;
	sw_error *err = NULL;
	if (sw_services_sync(s, &err) < 0) {
		sw_log_error(err, "services");
		sw_error_free(err);
	}
}

static void on_change(void *ctx, sw_watch_type type, const sw_kind *k, const json_t *obj,
                      uint64_t rv)
{
	sw_services *s = ctx;
	(void)type;
	(void)k;
	(void)obj;
	(void)rv;
	if (s->sync_pending)
		return;
	s->sync_pending = true;
	struct timeval tv = { 0, SYNC_DELAY_MS * 1000 };
	evtimer_add(s->sync_ev, &tv);
}

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int port = 0;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* The admin port: given, or the one chosen by an earlier start, or a new
 * free one (kept in STATE/proxy/admin-port). */
static int admin_port(sw_services *s, int given, sw_error **err)
{
	cleanup_free char *path = sw_xasprintf("%s/admin-port", s->proxy_dir);
	if (given > 0) {
		s->admin_port = given;
	} else {
		cleanup_free char *text = NULL;
		sw_error *e = NULL;
		if (sw_read_file(&text, NULL, path, 32, &e) == 0)
			s->admin_port = atoi(text);
		sw_error_free(e);
		if (s->admin_port <= 0 || s->admin_port > 65535)
			s->admin_port = free_port();
	}
	if (s->admin_port <= 0)
		return sw_error_set(err, SW_EFAIL, "no free port for the proxy's admin endpoint");
	char line[16];
	snprintf(line, sizeof(line), "%d\n", s->admin_port);
	snprintf(s->admin_url, sizeof(s->admin_url), "http://127.0.0.1:%d", s->admin_port);
	return sw_write_file_atomic(path, line, strlen(line), 0600, err);
}

int sw_services_start(sw_services **out, struct event_base *base, sw_store *store,
                      const sw_services_opts *opts, sw_error **err)
{
	sw_services *s = sw_xcalloc(1, sizeof(*s));
	s->base = base;
	s->store = store;
	s->proxy_pidfd = -1;
	s->state_dir = sw_xstrdup(opts->state_dir);
	s->proxy_dir = sw_xasprintf("%s/proxy", opts->state_dir);
	s->config_path = sw_xasprintf("%s/config.json", s->proxy_dir);
	s->proxy_bin = opts->proxy_bin ? sw_xstrdup(opts->proxy_bin) : NULL;
	cleanup_free char *logs = sw_xasprintf("%s/logs", s->proxy_dir);
	if ((mkdir(s->proxy_dir, 0700) < 0 && errno != EEXIST) || (mkdir(logs, 0700) < 0 && errno != EEXIST)) {
		int e = errno;
		sw_services_free(s);
		return sw_error_set_errno(err, e, "mkdir %s", s->proxy_dir);
	}
	if (admin_port(s, opts->admin_port, err) < 0) {
		sw_services_free(s);
		return SW_EFAIL;
	}
	/* continue the version sequence of the file an earlier start wrote */
	cleanup_json json_t *old = NULL;
	sw_error *e = NULL;
	if (sw_json_load_file(&old, s->config_path, 64 << 20, &e) == 0)
		s->config_version = (uint64_t)sw_obj_int(old, "version", 0);
	sw_error_free(e);
	s->sync_ev = evtimer_new(base, sync_cb, s);
	s->respawn_ev = evtimer_new(base, respawn_cb, s);
	s->watch_ids[0] = sw_store_watch(store, kind("services"), on_change, s);
	s->watch_ids[1] = sw_store_watch(store, kind("pods"), on_change, s);
	if (sw_services_sync(s, err) < 0) {
		sw_services_free(s);
		return SW_EFAIL;
	}
	if (s->proxy_bin && !adopt_proxy(s) && spawn_proxy(s, err) < 0) {
		sw_services_free(s);
		return SW_EFAIL;
	}
	*out = s;
	return 0;
}

void sw_services_free(sw_services *s)
{
	if (!s)
		return;
	for (int i = 0; i < 2; i++)
		if (s->watch_ids[i])
			sw_store_unwatch(s->store, s->watch_ids[i]);
	if (s->sync_ev)
		event_free(s->sync_ev);
	if (s->respawn_ev)
		event_free(s->respawn_ev);
	if (s->proxy_ev)
		event_free(s->proxy_ev);
	if (s->proxy_pidfd >= 0)
		close(s->proxy_pidfd);
	free(s->state_dir);
	free(s->proxy_dir);
	free(s->config_path);
	free(s->proxy_bin);
	free(s->last_config);
	free(s);
}

const char *sw_services_admin_url(const sw_services *s)
{
	return s->admin_url;
}

int sw_services_proxy_pid(const sw_services *s)
{
	return s->proxy_pid;
}
