/* Tests of the pod runtime (run/podrt*.c and the slipway-shim binary) with
 * the real parts: the busybox base image of examples/base/busybox-rootfs.sh
 * imported into a store in a temp state dir (as `slipway image import
 * --rootfs` does), the layer cache, overlayfs, runc, cgroups, shims that
 * outlive the sw_podrt that started them. Needs root; exits 77 (skipped)
 * otherwise. cleanup_all() kills every shim and container of the temp state
 * dir, unmounts and removes its cgroups; it runs before and after every test,
 * so a failed assertion leaves nothing behind. Prints start latencies (start
 * call -> RUNNING callback) for 1 and 20 containers. */
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "podrt_int.h"
#include "slipway/cleanup.h"
#include "slipway/digest.h"
#include "slipway/image_store.h"
#include "slipway/mem.h"
#include "slipway/path.h"
#include "slipway/podrt.h"

#define IMAGE "test/busybox:1"

static struct {
	char tmp[64];
	char state[128];
	char hash[13];
	struct event_base *base;
	sw_podrt *rt;
	/* the last change seen per test */
	int changes;
	double running_at[256]; /* ms, by container index "cN" */
} g;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define expect_ok(call, err) expect_ok_((call), &(err))
static void expect_ok_(int r, sw_error **err)
{
	if (r < 0) {
		char *m = sw_error_string(*err);
		fprintf(stderr, "unexpected error: %s\n", m);
		free(m);
		sw_error_clear(err);
		fail();
	}
}

/* ---- cleanup of everything of the temp state dir -------------------------- */

static void kill_same(int pid, unsigned long long start)
{
	if (pid > 0 && podrt_proc_start(pid) == start && start)
		kill(pid, SIGKILL);
}

static void cleanup_all(void)
{
	char pods[200], runc[200];
	DIR *d;
	struct dirent *e;
	char **mnts = NULL;
	size_t n = 0;

	if (!*g.state)
		return;
	snprintf(pods, sizeof(pods), "%s/pods", g.state);
	snprintf(runc, sizeof(runc), "%s/run/runc", g.state);
	/* shims first (they would report), then the containers' inits */
	if ((d = opendir(pods))) {
		while ((e = readdir(d))) {
			char pod[512];
			DIR *pd;
			struct dirent *c;
			if (e->d_name[0] == '.')
				continue;
			snprintf(pod, sizeof(pod), "%s/%s", pods, e->d_name);
			if (!(pd = opendir(pod)))
				continue;
			while ((c = readdir(pd))) {
				char cdir[1024];
				podrt_state s;
				if (c->d_name[0] == '.')
					continue;
				snprintf(cdir, sizeof(cdir), "%s/%s", pod, c->d_name);
				if (podrt_state_read(&s, cdir, NULL) == 0) {
					kill_same(s.shim_pid, s.shim_start);
					kill_same(s.st.pid, s.pid_start);
				}
			}
			closedir(pd);
		}
		closedir(d);
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	if (access(runc, F_OK) == 0)
		sh("for c in $(ls '%s' 2>/dev/null); do runc --root '%s' kill $c KILL >/dev/null 2>&1;"
		   " runc --root '%s' delete -f $c >/dev/null 2>&1; done; true",
		   runc, runc, runc);
	if (podrt_mounts_under(&mnts, &n, g.state) == 0) {
		for (size_t i = n; i-- > 0;)
			umount2(mnts[i], MNT_DETACH);
		for (size_t i = 0; i < n; i++)
			free(mnts[i]);
		free(mnts);
	}
	/* cgroups of this state dir */
	{
		const char *tops[] = { "/sys/fs/cgroup/memory/slipway", "/sys/fs/cgroup/slipway" };
		for (size_t t = 0; t < 2; t++) {
			if (!(d = opendir(tops[t])))
				continue;
			while ((e = readdir(d))) {
				if (!strncmp(e->d_name, g.hash, 12)) {
					char cg[512];
					snprintf(cg, sizeof(cg), "/slipway/%s", e->d_name);
					podrt_cgroup_remove(cg, true);
				}
			}
			closedir(d);
		}
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	sh("rm -rf '%s/pods' '%s/run'", g.state, g.state);
}

/* ---- the loop ------------------------------------------------------------------ */

static void on_change(void *payload, const char *uid, const char *ctr, const sw_ctr_status *st)
{
	(void)payload;
	(void)uid;
	g.changes++;
	if (st->phase == SW_CTR_RUNNING && ctr[0] == 'c') {
		int i = atoi(ctr + 1);
		if (i >= 0 && i < 256 && g.running_at[i] == 0)
			g.running_at[i] = now_ms();
	}
}

static void open_rt(void)
{
	sw_error *err = NULL;

	expect_ok(sw_podrt_open(&g.rt, g.state, g.base, &err), err);
	/* SLIPWAY_SHIM: another build's shim (e.g. an optimised one for figures) */
	sw_podrt_set_shim(g.rt, getenv("SLIPWAY_SHIM") && *getenv("SLIPWAY_SHIM") ? getenv("SLIPWAY_SHIM") : SHIM_PATH);
	sw_podrt_on_change(g.rt, on_change, NULL);
}

/* Runs the loop until the container reaches phase (true) or seconds pass. */
static bool wait_phase(const char *uid, const char *ctr, sw_ctr_phase phase, double seconds, sw_ctr_status *st)
{
	double deadline = now_ms() + seconds * 1000;
	struct timeval tv = { 0, 20000 };

	for (;;) {
		if (sw_podrt_status(g.rt, uid, ctr, st) == 0 && st->phase == phase)
			return true;
		if (now_ms() > deadline)
			return false;
		event_base_loopexit(g.base, &tv);
		event_base_dispatch(g.base);
	}
}

static char *read_text(const char *path)
{
	char *text = NULL;
	size_t len;

	if (sw_read_file(&text, &len, path, 64u << 20, NULL) < 0)
		return NULL;
	return text;
}

/* Waits for text to appear in a container's log. */
static bool wait_log(const char *uid, const char *ctr, const char *needle, double seconds)
{
	char *path = sw_podrt_log_path(g.state, uid, ctr, false);
	double deadline = now_ms() + seconds * 1000;
	bool found = false;
	struct timeval tv = { 0, 20000 };

	while (!found && now_ms() < deadline) {
		char *text = read_text(path);
		found = text && strstr(text, needle);
		free(text);
		if (!found) {
			event_base_loopexit(g.base, &tv);
			event_base_dispatch(g.base);
		}
	}
	free(path);
	return found;
}

static void start(const char *uid, const char *ctr, const char *const *cmd, unsigned instance, int64_t mem)
{
	sw_error *err = NULL;
	sw_ctr_config cfg = { .pod_uid = uid, .ns = "default", .pod_name = "web-1", .container = ctr,
	                      .image = IMAGE, .command = cmd, .instance = instance, .memory_limit_bytes = mem,
	                      .cpu_limit_milli = 500, .cpu_request_milli = 100 };
	static const char *const env[] = { "PORT=1234", "GREETING=hi there", NULL };

	cfg.env = env;
	expect_ok(sw_podrt_start(g.rt, &cfg, &err), err);
}

/* ---- setup ------------------------------------------------------------------------ */

static int group_setup(void **state)
{
	sw_error *err = NULL;
	char rootfs[160], tarpath[200];
	sw_rootfs_opts opts = { .epoch = 0, .compression = SW_COMPRESS_GZIP };
	sw_image_store *store = NULL;
	sw_descriptor d;
	(void)state;

	/* one fixed folder per build dir: a run that crashed (no teardown)
	 * is cleaned up by the next */
	{
		char digest[SW_DIGEST_LEN + 1];
		sw_digest_bytes(digest, SHIM_PATH, strlen(SHIM_PATH));
		snprintf(g.tmp, sizeof(g.tmp), "/tmp/sw-podrt-%.10s", digest + 7);
	}
	snprintf(g.state, sizeof(g.state), "%s/state", g.tmp);
	if (access(g.state, F_OK) == 0) {
		podrt_state_hash(g.hash, g.state);
		cleanup_all();
	}
	sh("rm -rf '%s'", g.tmp);
	if (mkdir(g.tmp, 0700) < 0)
		return -1;
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", g.tmp);
	snprintf(tarpath, sizeof(tarpath), "%s/rootfs.tar", g.tmp);
	if (mkdir(g.state, 0700) < 0 ||
	    sh("'%s/examples/base/busybox-rootfs.sh' '%s' '%s' >/dev/null", SRC_DIR, rootfs, tarpath) != 0)
		return -1;
	if (sw_image_store_open(&store, g.state, &err) < 0 ||
	    sw_image_import_rootfs(store, tarpath, IMAGE, &opts, &d, &err) < 0) {
		char *m = sw_error_string(err);
		fprintf(stderr, "setup: %s\n", m);
		free(m);
		sw_error_free(err);
		sw_image_store_free(store);
		return -1;
	}
	sw_image_store_free(store);
	podrt_state_hash(g.hash, g.state);
	g.base = event_base_new();
	cleanup_all();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	cleanup_all();
	if (g.base)
		event_base_free(g.base);
	if (*g.tmp)
		sh("rm -rf '%s'", g.tmp);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	cleanup_all();
	memset(g.running_at, 0, sizeof(g.running_at));
	g.changes = 0;
	open_rt();
	return 0;
}

/* Sanitizer reports of the shims (their stderr is shim.log). */
static int shim_reports(void)
{
	return sh("cat '%s'/pods/*/*/shim.log 2>/dev/null | grep -E 'Sanitizer|runtime error' >&2; test $? -ne 0",
	          g.state);
}

static int teardown(void **state)
{
	int r;
	(void)state;
	sw_podrt_free(g.rt);
	g.rt = NULL;
	r = shim_reports();
	cleanup_all();
	if (r != 0)
		fprintf(stderr, "a shim's sanitizer reported (above)\n");
	return r == 0 ? 0 : -1;
}

/* ---- tests ---------------------------------------------------------------------- */

static void test_bad_input(void **state)
{
	sw_error *err = NULL;
	static const char *const cmd[] = { "true", NULL };
	sw_ctr_config cfg = { .pod_uid = "../x", .container = "c", .image = IMAGE, .command = cmd };
	sw_ctr_status st;
	(void)state;

	assert_int_equal(sw_podrt_start(g.rt, &cfg, &err), SW_EINVALID);
	sw_error_clear(&err);
	cfg.pod_uid = "p1";
	cfg.image = "no/such:image";
	assert_int_equal(sw_podrt_start(g.rt, &cfg, &err), SW_ENOTFOUND);
	sw_error_clear(&err);
	assert_int_equal(sw_podrt_status(g.rt, "p1", "c", &st), SW_ENOTFOUND);
	assert_int_equal(st.phase, SW_CTR_NONE);
}

/* A long-running container: RUNNING, its output in the log (CRI format),
 * hostname = pod name, env, exec, stats, then SIGKILL -> 137. */
static void test_run_logs_exec_stats_kill(void **state)
{
	static const char *const cmd[] = {
		"sh", "-c", "echo hello $GREETING; echo oops >&2; hostname; while :; do sleep 0.2; done", NULL
	};
	static const char *const echo[] = { "echo", "hi", NULL };
	static const char *const fail_[] = { "sh", "-c", "echo err >&2; exit 3", NULL };
	sw_error *err = NULL;
	sw_ctr_status st;
	char *out = NULL, *errout = NULL, *log = NULL;
	size_t out_len = 0, errout_len = 0;
	uint64_t cpu = 0, mem = 0;
	int code = -1;
	(void)state;

	start("p1", "web", cmd, 0, 64 << 20);
	assert_int_equal(sw_podrt_status(g.rt, "p1", "web", &st), 0);
	assert_true(st.phase == SW_CTR_CREATING || st.phase == SW_CTR_RUNNING);
	assert_true(wait_phase("p1", "web", SW_CTR_RUNNING, 60, &st));
	assert_true(st.pid > 0);
	assert_true(st.started_at > 0);
	assert_int_equal(st.stop_signal, SIGTERM);
	assert_true(wait_log("p1", "web", "web-1", 10));
	log = sw_podrt_log_path(g.state, "p1", "web", false);
	{
		char *text = read_text(log);
		assert_non_null(text);
		assert_non_null(strstr(text, "Z stdout F hello hi there\n"));
		assert_non_null(strstr(text, "Z stderr F oops\n"));
		assert_non_null(strstr(text, "Z stdout F web-1\n"));
		assert_true(text[4] == '-' && text[10] == 'T');
		free(text);
	}
	free(log);

	expect_ok(sw_podrt_exec(g.rt, "p1", "web", echo, NULL, 0, 10000, &code, &out, &out_len, &errout, &errout_len,
	                        &err),
	          err);
	assert_int_equal(code, 0);
	assert_string_equal(out, "hi\n");
	free(out);
	free(errout);
	expect_ok(sw_podrt_exec(g.rt, "p1", "web", fail_, NULL, 0, 10000, &code, &out, &out_len, &errout, &errout_len,
	                        &err),
	          err);
	assert_int_equal(code, 3);
	assert_string_equal(errout, "err\n");
	free(out);
	free(errout);

	expect_ok(sw_podrt_stats(g.rt, "p1", "web", &cpu, &mem, &err), err);
	assert_true(cpu > 0);
	assert_true(mem > 0);
	expect_ok(sw_podrt_stats(g.rt, "p1", NULL, &cpu, &mem, &err), err);
	assert_true(cpu > 0);

	/* a second start while it runs is a conflict */
	{
		sw_ctr_config cfg = { .pod_uid = "p1", .container = "web", .image = IMAGE, .command = cmd, .instance = 1 };
		assert_int_equal(sw_podrt_start(g.rt, &cfg, &err), SW_ECONFLICT);
		sw_error_clear(&err);
		assert_int_equal(sw_podrt_remove_pod(g.rt, "p1", &err), SW_ECONFLICT);
		sw_error_clear(&err);
	}

	expect_ok(sw_podrt_kill(g.rt, "p1", "web", SIGKILL, &err), err);
	assert_true(wait_phase("p1", "web", SW_CTR_EXITED, 30, &st));
	assert_int_equal(st.exit_code, 137);
	assert_int_equal(st.signal, SIGKILL);
	assert_false(st.oom_killed);
	assert_string_equal(st.reason, "Error");
	assert_true(st.finished_at >= st.started_at);
	/* killing an exited container is nothing */
	expect_ok(sw_podrt_kill(g.rt, "p1", "web", SIGKILL, &err), err);
	assert_int_equal(sw_podrt_stats(g.rt, "p1", "web", &cpu, &mem, &err), SW_ENOTFOUND);
	sw_error_clear(&err);

	/* remove: rootfs unmounted, folder, cgroup gone */
	expect_ok(sw_podrt_remove_container(g.rt, "p1", "web", &err), err);
	expect_ok(sw_podrt_remove_pod(g.rt, "p1", &err), err);
	{
		char path[256];
		char **mnts = NULL;
		size_t n = 0;
		snprintf(path, sizeof(path), "%s/pods/p1", g.state);
		assert_int_equal(access(path, F_OK), -1);
		snprintf(path, sizeof(path), "%s/pods", g.state);
		assert_int_equal(podrt_mounts_under(&mnts, &n, path), 0);
		for (size_t i = 0; i < n; i++) {
			fprintf(stderr, "left mounted: %s\n", mnts[i]);
			free(mnts[i]);
		}
		free(mnts);
		/* the trash is emptied in the background: wait a little */
		struct timeval tv = { 0, 200000 };
		event_base_loopexit(g.base, &tv);
		event_base_dispatch(g.base);
		assert_int_equal(n, 0);
		/* in every hierarchy (v1: memory, cpu, ..., unified too); the
		 * shim may still be deleting its runc container: a few seconds */
		int left = 0;
		for (int i = 0; i < 1000; i++) {
			left = sh("ls -d /sys/fs/cgroup/slipway/%s-p1 /sys/fs/cgroup/*/slipway/%s-p1 2>/dev/null | grep -q .",
			          g.hash, g.hash) == 0;
			if (!left)
				break;
			event_base_loopexit(g.base, &tv);
			event_base_dispatch(g.base);
		}
		assert_false(left);
	}
}

/* A graceful stop: the init traps SIGTERM and exits 143 (as PID 1 it would
 * ignore an unhandled SIGTERM). The image's default stop signal is SIGTERM. */
static void test_stop_signal(void **state)
{
	static const char *const cmd[] = {
		"sh", "-c", "trap 'echo bye; exit 143' TERM; echo ready; while :; do sleep 0.1; done", NULL
	};
	sw_error *err = NULL;
	sw_ctr_status st;
	(void)state;

	start("p2", "app", cmd, 0, 0);
	assert_true(wait_phase("p2", "app", SW_CTR_RUNNING, 60, &st));
	assert_true(wait_log("p2", "app", "ready", 10));
	expect_ok(sw_podrt_kill(g.rt, "p2", "app", st.stop_signal, &err), err);
	assert_true(wait_phase("p2", "app", SW_CTR_EXITED, 30, &st));
	assert_int_equal(st.exit_code, 143);
	assert_int_equal(st.signal, 0);
	assert_string_equal(st.reason, "Error");
	assert_true(wait_log("p2", "app", "stdout F bye", 1));
}

/* Instances: the second moves the first's log to previous.log; a command
 * that does not exist is a StartError with runc's message. */
static void test_instances_and_start_error(void **state)
{
	static const char *const first[] = { "echo", "first", NULL };
	static const char *const second[] = { "echo", "second", NULL };
	static const char *const missing[] = { "/no/such/program", NULL };
	sw_ctr_status st;
	char *prev, *text;
	(void)state;

	start("p3", "job", first, 0, 0);
	assert_true(wait_phase("p3", "job", SW_CTR_EXITED, 60, &st));
	assert_int_equal(st.exit_code, 0);
	assert_string_equal(st.reason, "Completed");
	assert_int_equal(st.instance, 0);
	start("p3", "job", second, 1, 0);
	assert_true(wait_phase("p3", "job", SW_CTR_EXITED, 60, &st));
	assert_int_equal(st.instance, 1);
	assert_int_equal(st.exit_code, 0);
	prev = sw_podrt_log_path(g.state, "p3", "job", true);
	text = read_text(prev);
	assert_non_null(text);
	assert_non_null(strstr(text, "stdout F first\n"));
	assert_null(strstr(text, "second"));
	free(text);
	free(prev);
	assert_true(wait_log("p3", "job", "stdout F second\n", 1));

	start("p3", "job", missing, 2, 0);
	assert_true(wait_phase("p3", "job", SW_CTR_EXITED, 60, &st));
	assert_string_equal(st.reason, "StartError");
	assert_non_null(strstr(st.message, "no/such/program"));
	fprintf(stderr, "start error message: %s\n", st.message);
}

/* The process: workingDir (made when missing), user by name from the
 * image's /etc/passwd, env (image's PATH kept, the agent's PORT), args
 * appended to the image's entrypoint-less command, no new privileges. */
static void test_process_settings(void **state)
{
	static const char *const cmd[] = { "sh", "-c", NULL };
	static const char *const args[] = {
		"echo \"cwd=$(pwd) uid=$(id -u) gid=$(id -g) port=$PORT path=$PATH\"; grep NoNewPrivs /proc/self/status", NULL
	};
	static const char *const env[] = { "PORT=4242", NULL };
	sw_error *err = NULL;
	sw_ctr_status st;
	sw_ctr_config cfg = { .pod_uid = "p11", .pod_name = "a-very-long-pod-name-that-is-longer-than-the-sixty-four-characters-linux-allows",
	                      .container = "proc", .image = IMAGE, .command = cmd, .args = args, .env = env,
	                      .working_dir = "/work/app", .user = "app" };
	(void)state;

	expect_ok(sw_podrt_start(g.rt, &cfg, &err), err);
	assert_true(wait_phase("p11", "proc", SW_CTR_EXITED, 60, &st));
	if (st.exit_code != 0)
		fprintf(stderr, "exit %d %s: %s\n", st.exit_code, st.reason, st.message);
	assert_int_equal(st.exit_code, 0);
	assert_true(wait_log("p11", "proc",
	                     "stdout F cwd=/work/app uid=1000 gid=1000 port=4242 "
	                     "path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n",
	                     1));
	assert_true(wait_log("p11", "proc", "NoNewPrivs:\t1", 1));
}

/* A container that allocates beyond its memory limit is OOM killed. */
static void test_oom(void **state)
{
	static const char *const cmd[] = { "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1", NULL };
	sw_ctr_status st;
	(void)state;

	start("p4", "hog", cmd, 0, 16 << 20);
	assert_true(wait_phase("p4", "hog", SW_CTR_EXITED, 60, &st));
	assert_true(st.oom_killed);
	assert_string_equal(st.reason, "OOMKilled");
	assert_int_equal(st.exit_code, 137);
}

/* The shim outlives the sw_podrt: a new one finds the container RUNNING
 * (same pid), then finds the exit that happened while it was "down". */
static void test_readopt(void **state)
{
	static const char *const cmd[] = { "sleep", "1000", NULL };
	static const char *const echo[] = { "echo", "again", NULL };
	sw_error *err = NULL;
	sw_ctr_status st;
	int pid;
	char cdir[256];
	podrt_state ps;
	(void)state;

	start("p5", "sleeper", cmd, 0, 0);
	assert_true(wait_phase("p5", "sleeper", SW_CTR_RUNNING, 60, &st));
	pid = st.pid;
	sw_podrt_free(g.rt);
	g.rt = NULL;
	assert_int_equal(kill(pid, 0), 0);

	open_rt();
	g.changes = 0;
	expect_ok(sw_podrt_scan(g.rt, NULL, NULL, &err), err);
	assert_int_equal(sw_podrt_status(g.rt, "p5", "sleeper", &st), 0);
	assert_int_equal(st.phase, SW_CTR_RUNNING);
	assert_int_equal(st.pid, pid);
	/* a second scan adds nothing */
	expect_ok(sw_podrt_scan(g.rt, NULL, NULL, &err), err);
	/* exec works on the adopted container */
	{
		char *out = NULL, *errout = NULL;
		size_t ol, el;
		int code;
		expect_ok(sw_podrt_exec(g.rt, "p5", "sleeper", echo, NULL, 0, 10000, &code, &out, &ol, &errout, &el, &err),
		          err);
		assert_string_equal(out, "again\n");
		free(out);
		free(errout);
	}

	/* "down" again; the container is killed meanwhile */
	sw_podrt_free(g.rt);
	g.rt = NULL;
	kill(pid, SIGKILL);
	snprintf(cdir, sizeof(cdir), "%s/pods/p5/sleeper", g.state);
	for (int i = 0; i < 500; i++) {
		if (podrt_state_read(&ps, cdir, NULL) == 0 && ps.st.phase == SW_CTR_EXITED)
			break;
		usleep(20000);
	}
	open_rt();
	expect_ok(sw_podrt_scan(g.rt, NULL, NULL, &err), err);
	assert_int_equal(sw_podrt_status(g.rt, "p5", "sleeper", &st), 0);
	assert_int_equal(st.phase, SW_CTR_EXITED);
	assert_int_equal(st.exit_code, 137);
	assert_int_equal(st.signal, SIGKILL);
}

/* The process that started the containers dies without a word (as
 * slipwayd under kill -9): another one adopts them, no duplicates, and
 * records an exit that happened while nobody watched. */
static void test_readopt_after_crash(void **state)
{
	sw_error *err = NULL;
	sw_ctr_status st;
	int status = 0, n = 0, pid_a = 0;
	pid_t child;
	(void)state;

	sw_podrt_free(g.rt);
	g.rt = NULL;
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		static const char *const cmd_a[] = { "sleep", "1000", NULL };
		static const char *const cmd_b[] = { "sh", "-c", "sleep 1; exit 7", NULL };
		struct event_base *base = event_base_new();
		sw_podrt *rt = NULL;
		sw_ctr_config a = { .pod_uid = "crash", .container = "a", .image = IMAGE, .command = cmd_a };
		sw_ctr_config b = { .pod_uid = "crash", .container = "b", .image = IMAGE, .command = cmd_b };
		double deadline = now_ms() + 60000;
		struct timeval tv = { 0, 20000 };
		if (sw_podrt_open(&rt, g.state, base, &err) < 0)
			_exit(2);
		sw_podrt_set_shim(rt, getenv("SLIPWAY_SHIM") && *getenv("SLIPWAY_SHIM") ? getenv("SLIPWAY_SHIM") : SHIM_PATH);
		if (sw_podrt_start(rt, &a, &err) < 0 || sw_podrt_start(rt, &b, &err) < 0)
			_exit(3);
		for (;;) {
			sw_ctr_status sa, sb;
			sw_podrt_status(rt, "crash", "a", &sa);
			sw_podrt_status(rt, "crash", "b", &sb);
			if (sa.phase == SW_CTR_RUNNING && sb.phase == SW_CTR_RUNNING)
				_exit(0); /* no free, no cleanup: a crash */
			if (now_ms() > deadline)
				_exit(4);
			event_base_loopexit(base, &tv);
			event_base_dispatch(base);
		}
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* b exits (7) while no daemon runs */
	usleep(1500000);

	open_rt();
	expect_ok(sw_podrt_scan(g.rt, NULL, NULL, &err), err);
	expect_ok(sw_podrt_scan(g.rt, NULL, NULL, &err), err);
	assert_int_equal(sw_podrt_status(g.rt, "crash", "a", &st), 0);
	assert_int_equal(st.phase, SW_CTR_RUNNING);
	pid_a = st.pid;
	assert_true(wait_phase("crash", "b", SW_CTR_EXITED, 30, &st));
	assert_int_equal(st.exit_code, 7);
	assert_string_equal(st.reason, "Error");
	/* exactly one runc container, a's: b's is deleted by its shim (after
	 * it wrote the exit), or by the scan's sweep */
	for (int i = 0; i < 500; i++) {
		char runc[256];
		DIR *d;
		struct dirent *e;
		struct timeval tv = { 0, 20000 };
		snprintf(runc, sizeof(runc), "%s/run/runc", g.state);
		d = opendir(runc);
		assert_non_null(d);
		n = 0;
		while ((e = readdir(d)))
			if (e->d_name[0] != '.')
				n++;
		closedir(d);
		if (n == 1)
			break;
		event_base_loopexit(g.base, &tv);
		event_base_dispatch(g.base);
	}
	assert_int_equal(n, 1);
	/* the adopted container still stops through this runtime */
	expect_ok(sw_podrt_kill(g.rt, "crash", "a", SIGKILL, &err), err);
	assert_true(wait_phase("crash", "a", SW_CTR_EXITED, 30, &st));
	assert_int_equal(st.exit_code, 137);
	assert_int_equal(kill(pid_a, 0), -1);
}

/* host network: busybox httpd binds a port of the host. */
static void test_httpd_host_network(void **state)
{
	sw_ctr_status st;
	int port = 0, fd;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	char argbuf[32];
	const char *argv[6];
	bool connected = false;
	(void)state;

	/* a free port now */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	snprintf(argbuf, sizeof(argbuf), "127.0.0.1:%d", port);
	argv[0] = "httpd";
	argv[1] = "-f";
	argv[2] = "-p";
	argv[3] = argbuf;
	argv[4] = NULL;
	start("p6", "httpd", argv, 0, 0);
	assert_true(wait_phase("p6", "httpd", SW_CTR_RUNNING, 60, &st));
	for (int i = 0; i < 1500 && !connected; i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		sa.sin_port = htons((uint16_t)port);
		connected = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(fd);
		if (!connected)
			usleep(20000);
	}
	assert_true(connected);
}

/* The image's layer is not unpacked yet and five containers start at once:
 * one shim unpacks it, the others wait for it; all run. */
static void test_first_start_unpacks_once(void **state)
{
	static const char *const cmd[] = { "sleep", "1000", NULL };
	sw_ctr_status st;
	char uid[16], layers[256];
	int n = 0;
	DIR *d;
	struct dirent *e;
	(void)state;

	assert_int_equal(sh("rm -rf '%s'/layers/*", g.state), 0);
	for (int i = 0; i < 5; i++) {
		snprintf(uid, sizeof(uid), "u%d", i);
		start(uid, "c", cmd, 0, 0);
	}
	for (int i = 0; i < 5; i++) {
		snprintf(uid, sizeof(uid), "u%d", i);
		assert_true(wait_phase(uid, "c", SW_CTR_RUNNING, 120, &st));
	}
	snprintf(layers, sizeof(layers), "%s/layers", g.state);
	d = opendir(layers);
	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	assert_int_equal(n, 1);
}

/* The shim dies (kill -9): the runtime notices through its pidfd, kills
 * the orphaned container and records the instance as exited. */
static void test_shim_dies(void **state)
{
	static const char *const cmd[] = { "sleep", "1000", NULL };
	sw_ctr_status st;
	char cdir[256];
	podrt_state ps;
	unsigned long long start_time;
	int pid;
	(void)state;

	start("p7", "orphan", cmd, 0, 0);
	assert_true(wait_phase("p7", "orphan", SW_CTR_RUNNING, 60, &st));
	pid = st.pid;
	start_time = podrt_proc_start(pid);
	snprintf(cdir, sizeof(cdir), "%s/pods/p7/orphan", g.state);
	assert_int_equal(podrt_state_read(&ps, cdir, NULL), 0);
	assert_true(ps.shim_pid > 0);
	kill(ps.shim_pid, SIGKILL);
	assert_true(wait_phase("p7", "orphan", SW_CTR_EXITED, 30, &st));
	assert_int_equal(st.exit_code, 137);
	assert_non_null(strstr(st.message, "shim"));
	/* killed (a zombie until whoever inherited it reaps it counts) */
	for (int i = 0; i < 500 && podrt_proc_same(pid, start_time); i++)
		usleep(20000);
	assert_false(podrt_proc_same(pid, start_time));
}

/* A stop while the container is still being created abandons the start. */
static void test_kill_while_creating(void **state)
{
	static const char *const cmd[] = { "sleep", "1000", NULL };
	sw_error *err = NULL;
	sw_ctr_status st;
	(void)state;

	start("p8", "early", cmd, 0, 0);
	expect_ok(sw_podrt_kill(g.rt, "p8", "early", SIGKILL, &err), err);
	assert_true(wait_phase("p8", "early", SW_CTR_EXITED, 60, &st));
	assert_int_equal(st.exit_code, 137);
}

static void on_exec_done(void *payload, const sw_exec_result *res, const sw_error *err)
{
	sw_exec_result *out = payload;

	assert_null(err);
	*out = *res;
	out->out = strdup(res->out);
	out->errout = strdup(res->errout);
}

/* exec on the loop: stdin fed, output collected; a timeout kills it. And
 * the log rotates at 10 MiB. */
static void test_exec_async_and_rotation(void **state)
{
	static const char *const cmd[] = {
		"sh", "-c", "i=0; while [ $i -lt 12 ]; do head -c 1048576 /dev/zero | tr '\\0' 'x' | fold -w 1000; i=$((i+1)); done;"
		" echo done; sleep 1000", NULL
	};
	static const char *const cat[] = { "cat", NULL };
	static const char *const slow[] = { "sleep", "30", NULL };
	sw_error *err = NULL;
	sw_ctr_status st;
	sw_exec_result res = { .exit_code = -2 };
	struct timeval tv = { 0, 20000 };
	char path[256];
	struct stat sb;
	(void)state;

	start("p9", "busy", cmd, 0, 0);
	assert_true(wait_phase("p9", "busy", SW_CTR_RUNNING, 60, &st));
	expect_ok(sw_podrt_exec_async(g.rt, "p9", "busy", cat, "piped in", 8, 10000, on_exec_done, &res, &err), err);
	for (int i = 0; i < 3000 && res.exit_code == -2; i++) {
		event_base_loopexit(g.base, &tv);
		event_base_dispatch(g.base);
	}
	assert_int_equal(res.exit_code, 0);
	assert_string_equal(res.out, "piped in");
	free((char *)res.out);
	free((char *)res.errout);

	res.exit_code = -2;
	expect_ok(sw_podrt_exec_async(g.rt, "p9", "busy", slow, NULL, 0, 300, on_exec_done, &res, &err), err);
	for (int i = 0; i < 3000 && res.exit_code == -2; i++) {
		event_base_loopexit(g.base, &tv);
		event_base_dispatch(g.base);
	}
	assert_true(res.timed_out);
	assert_int_equal(res.exit_code, -1);
	free((char *)res.out);
	free((char *)res.errout);

	assert_true(wait_log("p9", "busy", "done\n", 60));
	snprintf(path, sizeof(path), "%s/pods/p9/busy/log.1", g.state);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(sb.st_size >= 10 * 1024 * 1024);
	snprintf(path, sizeof(path), "%s/pods/p9/busy/log", g.state);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(sb.st_size < 10 * 1024 * 1024);
}

/* The secrets tmpfs: mounted once, 0700, bind-mounted read-only into a
 * container; removed with the pod. */
static void test_secret_dir(void **state)
{
	sw_error *err = NULL;
	char *dir = NULL, *dir2 = NULL, file[300];
	struct stat sb;
	sw_ctr_status st;
	FILE *f;
	(void)state;

	expect_ok(sw_podrt_secret_dir(g.rt, "p10", &dir, &err), err);
	expect_ok(sw_podrt_secret_dir(g.rt, "p10", &dir2, &err), err);
	assert_string_equal(dir, dir2);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0700);
	snprintf(file, sizeof(file), "%s/token", dir);
	f = fopen(file, "w");
	assert_non_null(f);
	fputs("s3cret", f);
	fclose(f);
	{
		static const char *const cmd[] = { "cat", "/var/run/secrets/token", NULL };
		sw_ctr_mount m = { .type = "bind", .source = dir, .target = "/var/run/secrets", .readonly = true };
		sw_ctr_config cfg = { .pod_uid = "p10", .pod_name = "sec", .container = "reader", .image = IMAGE,
		                      .command = cmd, .mounts = &m, .nmounts = 1 };
		expect_ok(sw_podrt_start(g.rt, &cfg, &err), err);
	}
	assert_true(wait_phase("p10", "reader", SW_CTR_EXITED, 60, &st));
	assert_int_equal(st.exit_code, 0);
	assert_true(wait_log("p10", "reader", "stdout P s3cret\n", 1));
	expect_ok(sw_podrt_remove_pod(g.rt, "p10", &err), err);
	assert_int_equal(access(dir, F_OK), -1);
	free(dir);
	free(dir2);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Start latency (start call -> RUNNING callback), 1 then 20 at once
 * (PODRT_BENCH_N=100 for more; at most 256). No thresholds: figures. */
static void test_start_latency(void **state)
{
	static const char *const cmd[] = { "sleep", "1000", NULL };
	const char *env_n = getenv("PODRT_BENCH_N");
	int n = env_n ? atoi(env_n) : 20;
	sw_ctr_status st;
	double t0, calls = 0, *lat;
	char uid[32], name[8];
	(void)state;

	if (n < 1 || n > 256)
		n = 20;
	lat = calloc((size_t)n, sizeof(*lat));
	/* a warm-up, so the layer is unpacked */
	start("lat-warm", "c0", cmd, 0, 0);
	assert_true(wait_phase("lat-warm", "c0", SW_CTR_RUNNING, 60, &st));
	memset(g.running_at, 0, sizeof(g.running_at));

	t0 = now_ms();
	start("lat-1", "c0", cmd, 0, 0);
	calls = now_ms() - t0;
	assert_true(wait_phase("lat-1", "c0", SW_CTR_RUNNING, 60, &st));
	fprintf(stderr, "podrt latency: 1 container: start -> RUNNING %.1f ms (the start call %.2f ms on the loop)\n",
	        g.running_at[0] - t0, calls);
	memset(g.running_at, 0, sizeof(g.running_at));

	t0 = now_ms();
	calls = 0;
	for (int i = 0; i < n; i++) {
		double c0 = now_ms();
		snprintf(uid, sizeof(uid), "lat-n%d", i);
		snprintf(name, sizeof(name), "c%d", i);
		start(uid, name, cmd, 0, 0);
		calls += now_ms() - c0;
	}
	for (int i = 0; i < n; i++) {
		snprintf(uid, sizeof(uid), "lat-n%d", i);
		snprintf(name, sizeof(name), "c%d", i);
		assert_true(wait_phase(uid, name, SW_CTR_RUNNING, 300, &st));
	}
	for (int i = 0; i < n; i++)
		lat[i] = g.running_at[i] - t0;
	qsort(lat, (size_t)n, sizeof(double), cmp_double);
	fprintf(stderr,
	        "podrt latency: %d containers started at once: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, "
	        "all RUNNING after %.1f ms; mean start call %.2f ms on the loop\n",
	        n, lat[n / 2], lat[(n * 9) / 10], lat[(n * 99) / 100], lat[n - 1], calls / n);
	free(lat);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_start_unpacks_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_logs_exec_stats_kill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_signal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_instances_and_start_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_process_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oom, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readopt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readopt_after_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_httpd_host_network, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shim_dies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_while_creating, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_async_and_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_latency, setup, teardown),
	};

	if (geteuid() != 0) {
		printf("skipped: needs root (overlayfs, runc, cgroups)\n");
		return 77;
	}
	if (access("/bin/busybox", X_OK) != 0 || sh("command -v runc >/dev/null") != 0) {
		printf("skipped: needs /bin/busybox (busybox-static) and runc\n");
		return 77;
	}
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("podrt", tests, group_setup, group_teardown);
}
