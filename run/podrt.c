/*
 * podrt.c - the daemon's side of the pod runtime: starting shims, knowing
 * each container's phase, stopping, removing, stats.
 *
 * The truth about a container is its state.json, written by its shim (and
 * by this file only before the shim exists, or after it died without a
 * word). This file keeps a copy per container and refreshes it when
 *   - a shim announces a change on the abstract datagram socket
 *     "slipway-podrt-<state hash>" (bound here: one daemon per state dir),
 *   - a shim exits (a pidfd per shim, which works for shims this daemon did
 *     not start, after a restart),
 *   - a call needs it (kill, remove).
 * The change callback runs when the refreshed phase (or instance) differs
 * from the copy. Slow work never runs here: the shim unpacks layers, mounts
 * and runs runc; removing trees and deleting runc containers run as
 * background processes (`slipway-shim rm`, `runc delete`) reaped through
 * pidfds.
 *
 * Not here: re-adoption and sweeping (podrt_scan.c), exec (podrt_exec.c).
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "podrt_rt.h"
#include "slipway/cleanup.h"
#include "slipway/image_store.h"
#include "slipway/json.h"
#include "slipway/log.h"
#include "slipway/mem.h"
#include "slipway/path.h"
#include "slipway/statedir.h"

int podrt_pidfd_open(int pid)
{
	return (int)syscall(SYS_pidfd_open, (pid_t)pid, 0U);
}

/* ---- containers in memory --------------------------------------------------- */

podrt_ctr *podrt_find(sw_podrt *rt, const char *uid, const char *name)
{
	for (size_t i = 0; i < rt->nctrs; i++)
		if (!strcmp(rt->ctrs[i]->uid, uid) && !strcmp(rt->ctrs[i]->name, name))
			return rt->ctrs[i];
	return NULL;
}

char *podrt_ctr_dir(const sw_podrt *rt, const char *uid, const char *name)
{
	return sw_xasprintf("%s/%s/%s", rt->pods_dir, uid, name);
}

podrt_ctr *podrt_add(sw_podrt *rt, const char *uid, const char *name)
{
	podrt_ctr *c = podrt_find(rt, uid, name);

	if (c)
		return c;
	c = sw_xcalloc(1, sizeof(*c));
	c->rt = rt;
	c->uid = sw_xstrdup(uid);
	c->name = sw_xstrdup(name);
	c->dir = podrt_ctr_dir(rt, uid, name);
	c->pidfd = -1;
	if (rt->nctrs == rt->cap) {
		rt->cap = rt->cap ? rt->cap * 2 : 16;
		rt->ctrs = sw_xreallocarray(rt->ctrs, rt->cap, sizeof(*rt->ctrs));
	}
	rt->ctrs[rt->nctrs++] = c;
	return c;
}

static void detach_shim(podrt_ctr *c)
{
	if (c->ev) {
		event_free(c->ev);
		c->ev = NULL;
	}
	if (c->pidfd >= 0) {
		close(c->pidfd);
		c->pidfd = -1;
	}
}

static void ctr_free(podrt_ctr *c)
{
	detach_shim(c);
	free(c->uid);
	free(c->name);
	free(c->dir);
	free(c);
}

void podrt_drop(sw_podrt *rt, podrt_ctr *c)
{
	if (c->pidfd >= 0) {
		/* a shim still finishing (runc delete): reap it when it ends */
		event_free(c->ev);
		c->ev = NULL;
		podrt_background_pidfd(rt, c->pidfd);
		c->pidfd = -1;
	}
	for (size_t i = 0; i < rt->nctrs; i++) {
		if (rt->ctrs[i] == c) {
			rt->ctrs[i] = rt->ctrs[--rt->nctrs];
			break;
		}
	}
	ctr_free(c);
}

/* Changes are announced from an event of their own, never from inside a
 * call of the API or while walking the containers: the callback may start,
 * remove or free containers. */
typedef struct announcement {
	char *uid, *name;
	sw_ctr_status st;
} announcement;

static void on_announce(evutil_socket_t fd, short what, void *arg)
{
	sw_podrt *rt = arg;
	announcement *v = NULL;
	size_t n = 0;

	(void)fd;
	(void)what;
	for (size_t i = 0; i < rt->nctrs; i++) {
		podrt_ctr *c = rt->ctrs[i];
		if (!c->announce)
			continue;
		c->announce = false;
		v = sw_xreallocarray(v, n + 1, sizeof(*v));
		v[n].uid = sw_xstrdup(c->uid);
		v[n].name = sw_xstrdup(c->name);
		v[n].st = c->s.st;
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		if (rt->fn)
			rt->fn(rt->payload, v[i].uid, v[i].name, &v[i].st);
		free(v[i].uid);
		free(v[i].name);
	}
	free(v);
}

void podrt_announce(sw_podrt *rt, podrt_ctr *c)
{
	c->announce = true;
	event_active(rt->announce_ev, EV_TIMEOUT, 0);
}

static void announce(sw_podrt *rt, podrt_ctr *c)
{
	podrt_announce(rt, c);
}

/* The shim died (or never came) while state.json says it owns a live
 * container: the container is lost to us. Its init is killed if it still
 * runs, and the instance is recorded as exited. */
static void shim_lost(podrt_ctr *c, const char *when)
{
	cleanup_error sw_error *err = NULL;
	bool killed = false;

	if (c->s.st.pid > 0 && podrt_proc_same(c->s.st.pid, c->s.pid_start)) {
		kill(c->s.st.pid, SIGKILL);
		killed = true;
	}
	c->s.st.phase = SW_CTR_EXITED;
	c->s.st.exit_code = killed ? 128 + SIGKILL : 128;
	c->s.st.signal = killed ? SIGKILL : 0;
	c->s.st.pid = 0;
	c->s.pid_start = 0;
	c->s.st.finished_at = time(NULL);
	snprintf(c->s.st.reason, sizeof(c->s.st.reason), "%s", c->s.st.started_at ? "Error" : "StartError");
	snprintf(c->s.st.message, sizeof(c->s.st.message), "the container's shim (pid %d) exited %s", c->s.shim_pid,
	         when);
	if (podrt_state_write(&c->s, c->dir, &err) < 0)
		sw_log_error(err, "container %s/%s", c->uid, c->name);
}

/* Re-reads state.json; true when the phase or instance changed. */
bool podrt_refresh(podrt_ctr *c)
{
	cleanup_error sw_error *err = NULL;
	podrt_state s;

	if (podrt_state_read(&s, c->dir, &err) < 0) {
		if (sw_error_code(err) != SW_ENOTFOUND)
			sw_log_error(err, "container %s/%s", c->uid, c->name);
		return false;
	}
	bool changed = s.st.phase != c->s.st.phase || s.st.instance != c->s.st.instance;
	/* a shim we started that has not written its pid yet: keep the pid
	 * the spawn gave us (a stop must reach it) */
	if (s.shim_pid == 0 && s.st.instance == c->s.st.instance && s.st.phase == SW_CTR_CREATING) {
		s.shim_pid = c->s.shim_pid;
		s.shim_start = c->s.shim_start;
	}
	c->s = s;
	return changed;
}

static void on_shim_exit(evutil_socket_t fd, short what, void *arg)
{
	podrt_ctr *c = arg;
	sw_podrt *rt = c->rt;
	siginfo_t si;
	bool changed;

	(void)fd;
	(void)what;
	/* reap it if it is our child; harmless (ECHILD) when it is not */
	memset(&si, 0, sizeof(si));
	(void)waitid((idtype_t)3 /* P_PIDFD */, (id_t)c->pidfd, &si, WEXITED | WNOHANG);
	detach_shim(c);
	changed = podrt_refresh(c);
	if (c->s.st.phase != SW_CTR_EXITED && c->s.st.phase != SW_CTR_NONE) {
		shim_lost(c, "unexpectedly");
		changed = true;
	}
	if (changed)
		announce(rt, c);
}

/* Watches the shim of c (pid + start time from state.json). False when it
 * is gone. */
bool podrt_attach(podrt_ctr *c)
{
	int fd;

	if (c->pidfd >= 0 || c->spawning)
		return true;
	if (!podrt_proc_same(c->s.shim_pid, c->s.shim_start))
		return false;
	fd = podrt_pidfd_open(c->s.shim_pid);
	if (fd < 0)
		return false;
	/* the pid could have been reused between the check and the open */
	if (!podrt_proc_same(c->s.shim_pid, c->s.shim_start)) {
		close(fd);
		return false;
	}
	c->pidfd = fd;
	c->ev = event_new(c->rt->base, fd, EV_READ, on_shim_exit, c);
	event_add(c->ev, NULL);
	return true;
}

/* A shim we started: watched by pid alone (it cannot have been reused: it
 * is our child until reaped). */
static void attach_child(podrt_ctr *c, pid_t pid)
{
	int fd = podrt_pidfd_open(pid);

	if (fd < 0) {
		sw_warn("pidfd_open of shim %d: %s", (int)pid, strerror(errno));
		return;
	}
	c->pidfd = fd;
	c->ev = event_new(c->rt->base, fd, EV_READ, on_shim_exit, c);
	event_add(c->ev, NULL);
}

void podrt_lost_if_dead(podrt_ctr *c, const char *when)
{
	if (!c->spawning && (c->s.st.phase == SW_CTR_CREATING || c->s.st.phase == SW_CTR_RUNNING) && c->pidfd < 0 &&
	    !podrt_attach(c))
		shim_lost(c, when);
}

/* ---- notes from shims -------------------------------------------------------- */

static void on_note(evutil_socket_t fd, short what, void *arg)
{
	sw_podrt *rt = arg;
	char buf[300];

	(void)what;
	for (int i = 0; i < 256; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		char *slash;
		podrt_ctr *c;
		if (n <= 0)
			return;
		buf[n] = '\0';
		slash = strchr(buf, '/');
		if (!slash)
			continue;
		*slash = '\0';
		c = podrt_find(rt, buf, slash + 1);
		if (c && podrt_refresh(c))
			announce(rt, c);
	}
}

/* A safety net under the notes: containers still CREATING are re-read
 * every half second (a note can be lost when the daemon's queue is full
 * for longer than the shim waits). */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	sw_podrt *rt = arg;

	(void)fd;
	(void)what;
	for (size_t i = 0; i < rt->nctrs; i++) {
		podrt_ctr *c = rt->ctrs[i];
		if (c->s.st.phase == SW_CTR_CREATING && !c->spawning && podrt_refresh(c))
			announce(rt, c);
	}
}

/* ---- background processes ------------------------------------------------------ */

typedef struct bg_proc {
	sw_podrt *rt;
	int pidfd;
	struct event *ev;
	struct bg_proc *next;
} bg_proc;

static void bg_unlink(sw_podrt *rt, bg_proc *b)
{
	for (bg_proc **p = &rt->bg; *p; p = &(*p)->next)
		if (*p == b) {
			*p = b->next;
			break;
		}
	event_free(b->ev);
	close(b->pidfd);
	free(b);
}

static void on_bg_exit(evutil_socket_t fd, short what, void *arg)
{
	bg_proc *b = arg;
	siginfo_t si;

	(void)what;
	memset(&si, 0, sizeof(si));
	(void)waitid((idtype_t)3 /* P_PIDFD */, (id_t)fd, &si, WEXITED | WNOHANG);
	bg_unlink(b->rt, b);
}

void podrt_background_pidfd(sw_podrt *rt, int pidfd)
{
	bg_proc *b = sw_xcalloc(1, sizeof(*b));

	b->rt = rt;
	b->pidfd = pidfd;
	b->ev = event_new(rt->base, pidfd, EV_READ, on_bg_exit, b);
	b->next = rt->bg;
	rt->bg = b;
	event_add(b->ev, NULL);
}

void podrt_reap_later(sw_podrt *rt, pid_t pid)
{
	int fd = podrt_pidfd_open(pid);

	if (fd < 0) {
		waitpid(pid, NULL, WNOHANG);
		return;
	}
	podrt_background_pidfd(rt, fd);
}

void podrt_background_runc_delete(sw_podrt *rt, const char *id)
{
	const char *argv[] = { "runc", "--root", rt->runc_root, "delete", "-f", id, NULL };

	podrt_background(rt, argv);
}

/* Moves path out of the way (into STATE/pods/.trash) and removes it in
 * the background. Mounts under it must be detached already or are left to
 * the background remover. */
int podrt_trash(sw_podrt *rt, const char *path, sw_error **err)
{
	unsigned char rnd[6] = { 0 };
	char name[64];
	cleanup_free char *trash = sw_xasprintf("%s/.trash", rt->pods_dir);
	cleanup_free char *dest = NULL;

	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	snprintf(name, sizeof(name), "%ld-%02x%02x%02x%02x%02x%02x", (long)time(NULL), rnd[0], rnd[1], rnd[2], rnd[3],
	         rnd[4], rnd[5]);
	if (mkdir(trash, 0700) < 0 && errno != EEXIST)
		return sw_error_set_errno(err, errno, "create %s", trash);
	dest = sw_xasprintf("%s/%s", trash, name);
	if (rename(path, dest) < 0) {
		if (errno == ENOENT)
			return 0;
		return sw_error_set_errno(err, errno, "move %s to %s", path, dest);
	}
	{
		const char *argv[] = { rt->shim_path, "rm", dest, NULL };
		podrt_background(rt, argv);
	}
	return 0;
}

/* ---- open / free ------------------------------------------------------------------ */

static char *find_shim(void)
{
	const char *env = getenv("SLIPWAY_SHIM");
	char exe[PATH_MAX];
	ssize_t n;

	if (env && *env)
		return sw_xstrdup(env);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			cleanup_free char *a = NULL, *b = NULL;
			*slash = '\0';
			a = sw_xasprintf("%s/slipway-shim", exe);
			if (access(a, X_OK) == 0)
				return steal_pointer(&a);
			b = sw_xasprintf("%s/../cmd/slipway-shim", exe);
			if (access(b, X_OK) == 0)
				return steal_pointer(&b);
		}
	}
	return sw_xstrdup("slipway-shim");
}

int sw_podrt_open(sw_podrt **out, const char *state_dir, struct event_base *base, sw_error **err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	sw_podrt *rt;
	size_t nlen;
	int r;

	*out = NULL;
	if (geteuid() != 0)
		return sw_error_set(err, SW_EFAIL, "running pods needs root (overlayfs, runc, cgroups)");
	if (!base)
		return sw_error_set(err, SW_EINVALID, "pod runtime: no event loop");
	rt = sw_xcalloc(1, sizeof(*rt));
	rt->sock = -1;
	rt->base = base;
	rt->state_dir = sw_xstrdup(state_dir);
	rt->pods_dir = sw_xasprintf("%s/pods", state_dir);
	rt->runc_root = sw_xasprintf("%s/run/runc", state_dir);
	rt->shim_path = find_shim();
	if ((r = sw_mkdir_p(rt->pods_dir, 0700, 0700, err)) < 0 || (r = sw_mkdir_p(rt->runc_root, 0700, 0700, err)) < 0) {
		sw_podrt_free(rt);
		return sw_error_wrap(err, "pod runtime in %s", state_dir);
	}
	podrt_state_hash(rt->hash, state_dir);
	podrt_notify_name(rt->notify, rt->hash);
	nlen = strlen(rt->notify);
	memcpy(sa.sun_path + 1, rt->notify, nlen);
	rt->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (rt->sock < 0) {
		r = sw_error_set_errno(err, errno, "pod runtime: socket");
		sw_podrt_free(rt);
		return r;
	}
	if (bind(rt->sock, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + nlen)) < 0) {
		r = errno == EADDRINUSE
		            ? sw_error_set(err, SW_EEXISTS, "another slipwayd runs the pods of state dir %s", state_dir)
		            : sw_error_set_errno(err, errno, "pod runtime: bind @%s", rt->notify);
		sw_podrt_free(rt);
		return r;
	}
	{
		int size = 1 << 20;
		setsockopt(rt->sock, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	rt->sock_ev = event_new(base, rt->sock, EV_READ | EV_PERSIST, on_note, rt);
	event_add(rt->sock_ev, NULL);
	rt->announce_ev = event_new(base, -1, 0, on_announce, rt);
	{
		struct timeval tv = { 0, 500000 };
		rt->tick = event_new(base, -1, EV_PERSIST, on_tick, rt);
		event_add(rt->tick, &tv);
	}
	if ((r = podrt_spawner_start(rt, err)) < 0) {
		sw_podrt_free(rt);
		return r;
	}
	*out = rt;
	return 0;
}

void sw_podrt_free(sw_podrt *rt)
{
	if (!rt)
		return;
	podrt_spawner_stop(rt);
	for (size_t i = 0; i < rt->nctrs; i++)
		ctr_free(rt->ctrs[i]);
	free(rt->ctrs);
	while (rt->bg) {
		bg_proc *b = rt->bg;
		rt->bg = b->next;
		event_free(b->ev);
		close(b->pidfd);
		free(b);
	}
	podrt_exec_free_all(rt);
	if (rt->sock_ev)
		event_free(rt->sock_ev);
	if (rt->tick)
		event_free(rt->tick);
	if (rt->announce_ev)
		event_free(rt->announce_ev);
	if (rt->sock >= 0)
		close(rt->sock);
	sw_image_store_free(rt->images);
	free(rt->state_dir);
	free(rt->pods_dir);
	free(rt->runc_root);
	free(rt->shim_path);
	free(rt);
}

void sw_podrt_set_shim(sw_podrt *rt, const char *path)
{
	free(rt->shim_path);
	rt->shim_path = sw_xstrdup(path);
}

void sw_podrt_on_change(sw_podrt *rt, sw_podrt_change_fn fn, void *payload)
{
	rt->fn = fn;
	rt->payload = payload;
}

/* ---- start ------------------------------------------------------------------------- */

static void append_strings(json_t *dst, const json_t *src)
{
	size_t i;
	json_t *v;

	json_array_foreach(src, i, v)
		if (json_is_string(v))
			json_array_append(dst, v);
}

/* Kubernetes' rules: command replaces Entrypoint (and drops Cmd), args
 * replace Cmd. */
static void extend_strv(json_t *a, const char *const *v)
{
	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
}

static json_t *process_args(const sw_ctr_config *cfg, const json_t *icfg)
{
	json_t *a = json_array();

	if (cfg->command) {
		extend_strv(a, cfg->command);
		if (cfg->args)
			extend_strv(a, cfg->args);
		return a;
	}
	append_strings(a, json_object_get(icfg, "Entrypoint"));
	if (cfg->args)
		extend_strv(a, cfg->args);
	else
		append_strings(a, json_object_get(icfg, "Cmd"));
	return a;
}

static bool env_key_eq(const char *a, const char *b)
{
	size_t la = strcspn(a, "="), lb = strcspn(b, "=");

	return la == lb && !strncmp(a, b, la);
}

/* The image's Env, then the caller's (replacing same keys in place);
 * PATH defaults as in Docker. */
static json_t *process_env(const sw_ctr_config *cfg, const json_t *icfg)
{
	json_t *e = json_array();
	size_t i;
	json_t *v;
	bool has_path = false;

	json_array_foreach(json_object_get(icfg, "Env"), i, v)
		if (json_is_string(v))
			json_array_append(e, v);
	for (size_t k = 0; cfg->env && cfg->env[k]; k++) {
		bool replaced = false;
		json_array_foreach(e, i, v) {
			if (env_key_eq(json_string_value(v), cfg->env[k])) {
				json_array_set_new(e, i, json_string(cfg->env[k]));
				replaced = true;
				break;
			}
		}
		if (!replaced)
			json_array_append_new(e, json_string(cfg->env[k]));
	}
	json_array_foreach(e, i, v)
		if (!strncmp(json_string_value(v), "PATH=", 5))
			has_path = true;
	if (!has_path)
		json_array_insert_new(e, 0, json_string(SW_IMAGE_DEFAULT_PATH));
	return e;
}

static int check_config(const sw_ctr_config *cfg, sw_error **err)
{
	if (!podrt_name_ok(cfg->pod_uid, 64))
		return sw_error_set(err, SW_EINVALID, "pod uid '%s': want 1-64 characters of A-Za-z0-9_-",
		                    cfg->pod_uid ? cfg->pod_uid : "");
	if (!podrt_name_ok(cfg->container, 63))
		return sw_error_set(err, SW_EINVALID, "container name '%s': want 1-63 characters of A-Za-z0-9_-",
		                    cfg->container ? cfg->container : "");
	if (!strcmp(cfg->container, "secrets"))
		return sw_error_set(err, SW_EINVALID, "container name 'secrets' is reserved");
	if (!cfg->image || !*cfg->image)
		return sw_error_set(err, SW_EINVALID, "container %s: no image", cfg->container);
	if (cfg->working_dir && cfg->working_dir[0] != '/')
		return sw_error_set(err, SW_EINVALID, "container %s: workingDir '%s' is not absolute", cfg->container,
		                    cfg->working_dir);
	for (size_t i = 0; i < cfg->nmounts; i++) {
		const sw_ctr_mount *m = &cfg->mounts[i];
		if (!m->target || m->target[0] != '/' || !strcmp(m->target, "/"))
			return sw_error_set(err, SW_EINVALID, "container %s: mount %zu: target '%s' is not an absolute path below /",
			                    cfg->container, i, m->target ? m->target : "");
		if (m->type && strcmp(m->type, "bind") && strcmp(m->type, "tmpfs"))
			return sw_error_set(err, SW_EINVALID, "container %s: mount at %s: unknown type '%s'", cfg->container,
			                    m->target, m->type);
		if ((!m->type || !strcmp(m->type, "bind")) && (!m->source || m->source[0] != '/'))
			return sw_error_set(err, SW_EINVALID, "container %s: bind mount at %s needs an absolute source",
			                    cfg->container, m->target);
	}
	if (cfg->cpu_limit_milli < 0 || cfg->cpu_request_milli < 0 || cfg->memory_limit_bytes < 0)
		return sw_error_set(err, SW_EINVALID, "container %s: negative resources", cfg->container);
	if (cfg->memory_limit_bytes > 0 && cfg->memory_limit_bytes < (4 << 20))
		return sw_error_set(err, SW_EINVALID, "container %s: memory limit %lld is below 4Mi", cfg->container,
		                    (long long)cfg->memory_limit_bytes);
	return 0;
}

static json_t *mounts_json(const sw_ctr_config *cfg)
{
	json_t *a = json_array();

	for (size_t i = 0; i < cfg->nmounts; i++) {
		const sw_ctr_mount *m = &cfg->mounts[i];
		json_t *o = json_pack("{s:s, s:s, s:b, s:I, s:I}", "type", m->type ? m->type : "bind", "target", m->target,
		                      "readonly", m->readonly, "mode", (json_int_t)m->mode, "size", (json_int_t)m->size);
		if (m->source)
			json_object_set_new(o, "source", json_string(m->source));
		json_array_append_new(a, o);
	}
	return a;
}

static int build_spec(sw_podrt *rt, const sw_ctr_config *cfg, json_t **out, int *stop_signal, sw_error **err)
{
	sw_image *img = NULL;
	const json_t *icfg;
	json_t *spec, *layers, *args;
	const char *user, *cwd, *stopsig;
	int r;

	if (!rt->images && (r = sw_image_store_open(&rt->images, rt->state_dir, err)) < 0)
		return r;
	if ((r = sw_image_store_load(&img, rt->images, cfg->image, err)) < 0)
		return sw_error_wrap(err, "container %s: image", cfg->container);
	icfg = json_object_get(img->config, "config");
	args = process_args(cfg, icfg);
	if (json_array_size(args) == 0) {
		json_decref(args);
		sw_image_free(img);
		return sw_error_set(err, SW_EINVALID, "container %s: no command specified (the image %s has none)",
		                    cfg->container, cfg->image);
	}
	user = cfg->user ? cfg->user : json_string_value(json_object_get(icfg, "User"));
	cwd = cfg->working_dir ? cfg->working_dir : json_string_value(json_object_get(icfg, "WorkingDir"));
	if (!cwd || !*cwd)
		cwd = "/";
	stopsig = json_string_value(json_object_get(icfg, "StopSignal"));
	*stop_signal = cfg->stop_signal > 0 ? cfg->stop_signal : stopsig ? podrt_parse_signal(stopsig) : 0;
	if (*stop_signal <= 0)
		*stop_signal = SIGTERM;
	layers = json_array();
	for (size_t i = 0; i < img->nlayers; i++)
		json_array_append_new(layers, json_pack("{s:s, s:s, s:I, s:s}", "mediaType", img->layers[i].media_type,
		                                        "digest", img->layers[i].digest, "size",
		                                        (json_int_t)img->layers[i].size, "diff_id", img->diff_ids[i]));
	spec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:o, s:o, s:o, s:s, s:o, s:I, s:I, s:I, s:I}",
	                 "state_dir", rt->state_dir, "runc_root", rt->runc_root, "notify", rt->notify, "pod_uid",
	                 cfg->pod_uid, "container", cfg->container, "ns", cfg->ns ? cfg->ns : "", "pod_name",
	                 cfg->pod_name ? cfg->pod_name : cfg->pod_uid, "instance", (json_int_t)cfg->instance, "image",
	                 img->digest, "layers", layers, "args", args, "env", process_env(cfg, icfg), "cwd", cwd,
	                 "mounts", mounts_json(cfg), "cpu_limit_milli", (json_int_t)cfg->cpu_limit_milli,
	                 "cpu_request_milli", (json_int_t)cfg->cpu_request_milli, "memory_limit_bytes",
	                 (json_int_t)cfg->memory_limit_bytes, "stop_signal", (json_int_t)*stop_signal);
	/* user and cwd may point into the image's config: use them first */
	if (spec && user && *user)
		json_object_set_new(spec, "user", json_string(user));
	sw_image_free(img);
	if (!spec)
		return sw_error_set(err, SW_EINVALID, "container %s: cannot encode its spec (bad UTF-8?)", cfg->container);
	*out = spec;
	return 0;
}

int sw_podrt_start(sw_podrt *rt, const sw_ctr_config *cfg, sw_error **err)
{
	cleanup_json json_t *spec = NULL;
	cleanup_free char *pod_dir = NULL, *dir = NULL, *spec_path = NULL, *text = NULL, *shim_log = NULL;
	cleanup_free char *runc_id = NULL, *cgroup = NULL;
	podrt_ctr *c;
	podrt_state s = { 0 };
	int stop_signal = 0, r;

	if ((r = check_config(cfg, err)) < 0)
		return r;
	c = podrt_find(rt, cfg->pod_uid, cfg->container);
	if (c) {
		podrt_refresh(c);
		podrt_lost_if_dead(c, "unexpectedly");
		if (c->s.st.phase == SW_CTR_CREATING || c->s.st.phase == SW_CTR_RUNNING)
			return sw_error_set(err, SW_ECONFLICT, "container %s of pod %s is still %s (instance %u)",
			                    cfg->container, cfg->pod_uid, podrt_phase_name(c->s.st.phase), c->s.st.instance);
	}
	if ((r = build_spec(rt, cfg, &spec, &stop_signal, err)) < 0)
		return r;
	pod_dir = sw_xasprintf("%s/%s", rt->pods_dir, cfg->pod_uid);
	dir = podrt_ctr_dir(rt, cfg->pod_uid, cfg->container);
	if ((mkdir(pod_dir, 0700) < 0 && errno != EEXIST) || (mkdir(dir, 0700) < 0 && errno != EEXIST))
		return sw_error_set_errno(err, errno, "create %s", dir);
	if (!c) {
		/* a container the daemon does not know yet may have run before
		 * (scan not called): state.json says */
		podrt_state old;
		if (podrt_state_read(&old, dir, NULL) == 0 &&
		    (old.st.phase == SW_CTR_CREATING || old.st.phase == SW_CTR_RUNNING) &&
		    podrt_proc_same(old.shim_pid, old.shim_start))
			return sw_error_set(err, SW_ECONFLICT, "container %s of pod %s is still %s (instance %u)",
			                    cfg->container, cfg->pod_uid, podrt_phase_name(old.st.phase), old.st.instance);
	}
	/* the previous instance's log becomes previous.log */
	{
		cleanup_free char *log = sw_xasprintf("%s/log", dir);
		cleanup_free char *log1 = sw_xasprintf("%s/log.1", dir);
		cleanup_free char *prev = sw_xasprintf("%s/previous.log", dir);
		if (access(log, F_OK) == 0) {
			if (rename(log, prev) < 0)
				return sw_error_set_errno(err, errno, "move %s to %s", log, prev);
			unlink(log1);
		}
	}
	spec_path = sw_xasprintf("%s/%s", dir, PODRT_SPEC);
	text = json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS);
	if ((r = podrt_write_atomic(spec_path, text, strlen(text), err)) < 0)
		return r;
	runc_id = podrt_runc_id(cfg->pod_uid, cfg->container, cfg->instance);
	cgroup = podrt_ctr_cgroup(rt->hash, cfg->pod_uid, cfg->container, cfg->instance);
	s.st.phase = SW_CTR_CREATING;
	s.st.instance = cfg->instance;
	s.st.stop_signal = stop_signal;
	snprintf(s.runc_id, sizeof(s.runc_id), "%s", runc_id);
	snprintf(s.cgroup, sizeof(s.cgroup), "%s", cgroup);
	if ((r = podrt_state_write(&s, dir, err)) < 0)
		return r;
	shim_log = sw_xasprintf("%s/shim.log", dir);
	{
		const char *argv[] = { rt->shim_path, "run", dir, NULL };
		podrt_spawn_shim(rt, cfg->pod_uid, cfg->container, cfg->instance, argv, shim_log);
	}
	c = podrt_add(rt, cfg->pod_uid, cfg->container);
	if (c->pidfd >= 0) {
		/* the previous instance's shim is still deleting its runc container */
		event_free(c->ev);
		c->ev = NULL;
		podrt_background_pidfd(rt, c->pidfd);
		c->pidfd = -1;
	}
	c->s = s;
	c->spawning = true;
	c->kill_pending = 0;
	return 0;
}

void podrt_shim_spawned(sw_podrt *rt, const char *uid, const char *name, unsigned instance, pid_t pid, int error)
{
	podrt_ctr *c = podrt_find(rt, uid, name);

	if (!c || !c->spawning || c->s.st.instance != instance) {
		if (pid > 0)
			podrt_reap_later(rt, pid);
		return;
	}
	c->spawning = false;
	if (pid <= 0) {
		cleanup_error sw_error *err = NULL;
		podrt_refresh(c);
		c->s.st.phase = SW_CTR_EXITED;
		c->s.st.exit_code = 128;
		c->s.st.finished_at = time(NULL);
		snprintf(c->s.st.reason, sizeof(c->s.st.reason), "StartError");
		snprintf(c->s.st.message, sizeof(c->s.st.message), "cannot start the shim %s: %s", rt->shim_path,
		         strerror(error));
		if (podrt_state_write(&c->s, c->dir, &err) < 0)
			sw_log_error(err, "container %s/%s", uid, name);
		announce(rt, c);
		return;
	}
	if (!c->s.shim_pid)
		c->s.shim_pid = pid;
	attach_child(c, pid);
	if (c->kill_pending) {
		union sigval v = { .sival_int = c->kill_pending };
		sigqueue(pid, PODRT_SIG_STOP, v);
		c->kill_pending = 0;
	}
}

/* ---- status, kill ----------------------------------------------------------------------- */

int sw_podrt_status(sw_podrt *rt, const char *pod_uid, const char *container, sw_ctr_status *st)
{
	podrt_ctr *c = podrt_find(rt, pod_uid, container);

	memset(st, 0, sizeof(*st));
	if (!c)
		return SW_ENOTFOUND;
	*st = c->s.st;
	return 0;
}

static int send_signal(int pid, unsigned long long start, int sig)
{
	int fd = podrt_pidfd_open(pid);
	int r = 0;

	if (fd < 0)
		return 0; /* gone */
	if (podrt_proc_same(pid, start) && syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0U) < 0 && errno != ESRCH)
		r = -errno;
	close(fd);
	return r;
}

/* Asks a shim to stop its container with sig (PODRT_SIG_STOP). */
static int stop_shim(int pid, unsigned long long start, int sig)
{
	union sigval v = { .sival_int = sig };

	if (!podrt_proc_same(pid, start))
		return 0;
	if (sigqueue(pid, PODRT_SIG_STOP, v) < 0 && errno != ESRCH)
		return -errno;
	return 0;
}

int sw_podrt_kill(sw_podrt *rt, const char *pod_uid, const char *container, int sig, sw_error **err)
{
	podrt_ctr *c = podrt_find(rt, pod_uid, container);
	int r;

	if (!c)
		return sw_error_set(err, SW_ENOTFOUND, "container %s of pod %s: not known", container, pod_uid);
	if (sig <= 0 || sig >= 65)
		return sw_error_set(err, SW_EINVALID, "signal %d", sig);
	if (podrt_refresh(c))
		announce(rt, c);
	switch (c->s.st.phase) {
	case SW_CTR_CREATING:
		/* the shim abandons the start (or passes it on to the init) */
		if (c->spawning) {
			c->kill_pending = sig;
			return 0;
		}
		r = stop_shim(c->s.shim_pid, c->s.shim_start ? c->s.shim_start : podrt_proc_start(c->s.shim_pid), sig);
		break;
	case SW_CTR_RUNNING:
		r = send_signal(c->s.st.pid, c->s.pid_start, sig);
		break;
	default:
		return 0;
	}
	if (r < 0)
		return sw_error_set_errno(err, -r, "signal %d to container %s of pod %s", sig, container, pod_uid);
	return 0;
}

/* ---- removal ------------------------------------------------------------------------------ */

static int remove_ctr(sw_podrt *rt, podrt_ctr *c, sw_error **err)
{
	cleanup_free char *rootfs = sw_xasprintf("%s/%s", c->dir, PODRT_ROOTFS);
	cleanup_free char *merged = sw_xasprintf("%s/merged", rootfs);
	cleanup_free char *runc_state = NULL;
	int r;

	if (podrt_refresh(c))
		announce(rt, c);
	podrt_lost_if_dead(c, "unexpectedly");
	if (c->s.st.phase == SW_CTR_CREATING || c->s.st.phase == SW_CTR_RUNNING)
		return sw_error_set(err, SW_ECONFLICT, "container %s of pod %s is still %s", c->name, c->uid,
		                    podrt_phase_name(c->s.st.phase));
	if (umount2(merged, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return sw_error_set_errno(err, errno, "unmount %s", merged);
	if ((r = podrt_trash(rt, rootfs, err)) < 0)
		return r;
	/* the shim deletes its runc container; one that died before cannot */
	if (c->s.runc_id[0] && c->pidfd < 0) {
		runc_state = sw_xasprintf("%s/%s", rt->runc_root, c->s.runc_id);
		if (access(runc_state, F_OK) == 0)
			podrt_background_runc_delete(rt, c->s.runc_id);
	}
	return 0;
}

int sw_podrt_remove_container(sw_podrt *rt, const char *pod_uid, const char *container, sw_error **err)
{
	podrt_ctr *c = podrt_find(rt, pod_uid, container);

	if (!c)
		return sw_error_set(err, SW_ENOTFOUND, "container %s of pod %s: not known", container, pod_uid);
	return remove_ctr(rt, c, err);
}

int sw_podrt_remove_pod(sw_podrt *rt, const char *pod_uid, sw_error **err)
{
	cleanup_free char *pod_dir = NULL, *cg = NULL;
	char **mnts = NULL;
	size_t n = 0;
	int r;

	if (!podrt_name_ok(pod_uid, 64))
		return sw_error_set(err, SW_EINVALID, "pod uid '%s'", pod_uid);
	pod_dir = sw_xasprintf("%s/%s", rt->pods_dir, pod_uid);
	/* containers on disk the daemon has not seen (no scan) count too */
	podrt_load_pod(rt, pod_uid);
	for (size_t i = 0; i < rt->nctrs; i++) {
		podrt_ctr *c = rt->ctrs[i];
		if (strcmp(c->uid, pod_uid))
			continue;
		if (podrt_refresh(c))
			announce(rt, c);
		podrt_lost_if_dead(c, "unexpectedly");
		if (c->s.st.phase == SW_CTR_CREATING || c->s.st.phase == SW_CTR_RUNNING)
			return sw_error_set(err, SW_ECONFLICT, "pod %s: container %s is still %s", pod_uid, c->name,
			                    podrt_phase_name(c->s.st.phase));
	}
	for (size_t i = 0; i < rt->nctrs;) {
		podrt_ctr *c = rt->ctrs[i];
		if (strcmp(c->uid, pod_uid)) {
			i++;
			continue;
		}
		if (c->s.runc_id[0] && c->pidfd < 0) {
			cleanup_free char *runc_state = sw_xasprintf("%s/%s", rt->runc_root, c->s.runc_id);
			if (access(runc_state, F_OK) == 0)
				podrt_background_runc_delete(rt, c->s.runc_id);
		}
		podrt_drop(rt, c);
	}
	if (podrt_mounts_under(&mnts, &n, pod_dir) == 0) {
		for (size_t i = n; i-- > 0;)
			umount2(mnts[i], MNT_DETACH);
		for (size_t i = 0; i < n; i++)
			free(mnts[i]);
		free(mnts);
	}
	cg = podrt_pod_cgroup(rt->hash, pod_uid);
	podrt_cgroup_remove(cg, false);
	if ((r = podrt_trash(rt, pod_dir, err)) < 0)
		return sw_error_wrap(err, "remove pod %s", pod_uid);
	return 0;
}

/* ---- stats, paths, folders ------------------------------------------------------------------ */

int sw_podrt_stats(sw_podrt *rt, const char *pod_uid, const char *container, uint64_t *cpu_ns, uint64_t *mem_bytes,
                   sw_error **err)
{
	cleanup_free char *cg = NULL;
	int r;

	*cpu_ns = *mem_bytes = 0;
	if (!podrt_name_ok(pod_uid, 64))
		return sw_error_set(err, SW_EINVALID, "pod uid '%s'", pod_uid);
	if (container) {
		podrt_ctr *c = podrt_find(rt, pod_uid, container);
		if (!c)
			return sw_error_set(err, SW_ENOTFOUND, "container %s of pod %s: not known", container, pod_uid);
		if (c->s.st.phase != SW_CTR_RUNNING)
			return sw_error_set(err, SW_ENOTFOUND, "container %s of pod %s is not running", container, pod_uid);
		cg = sw_xstrdup(c->s.cgroup);
	} else {
		cg = podrt_pod_cgroup(rt->hash, pod_uid);
	}
	if ((r = podrt_cgroup_stats(cg, cpu_ns, mem_bytes, err)) < 0)
		return sw_error_wrap(err, "stats of pod %s", pod_uid);
	return 0;
}

char *sw_podrt_log_path(const char *state_dir, const char *pod_uid, const char *container, bool previous)
{
	if (!podrt_name_ok(pod_uid, 64) || !podrt_name_ok(container, 63))
		return NULL;
	return sw_xasprintf("%s/pods/%s/%s/%s", state_dir, pod_uid, container, previous ? "previous.log" : "log");
}

int sw_podrt_pod_dir(sw_podrt *rt, const char *pod_uid, char **dir, sw_error **err)
{
	cleanup_free char *d = NULL;

	*dir = NULL;
	if (!podrt_name_ok(pod_uid, 64))
		return sw_error_set(err, SW_EINVALID, "pod uid '%s': want 1-64 characters of A-Za-z0-9_-", pod_uid);
	d = sw_xasprintf("%s/%s", rt->pods_dir, pod_uid);
	if (mkdir(d, 0700) < 0 && errno != EEXIST)
		return sw_error_set_errno(err, errno, "create %s", d);
	*dir = steal_pointer(&d);
	return 0;
}

static bool is_mountpoint(const char *path)
{
	char **mnts = NULL;
	size_t n = 0;
	bool found = false;

	if (podrt_mounts_under(&mnts, &n, path) < 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(mnts[i], path))
			found = true;
		free(mnts[i]);
	}
	free(mnts);
	return found;
}

int sw_podrt_secret_dir(sw_podrt *rt, const char *pod_uid, char **dir, sw_error **err)
{
	cleanup_free char *pod = NULL, *d = NULL;
	int r;

	*dir = NULL;
	if ((r = sw_podrt_pod_dir(rt, pod_uid, &pod, err)) < 0)
		return r;
	d = sw_xasprintf("%s/secrets", pod);
	if (mkdir(d, 0700) < 0 && errno != EEXIST)
		return sw_error_set_errno(err, errno, "create %s", d);
	if (!is_mountpoint(d) &&
	    mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700,size=16m") < 0)
		return sw_error_set_errno(err, errno, "mount a tmpfs at %s", d);
	*dir = steal_pointer(&d);
	return 0;
}
