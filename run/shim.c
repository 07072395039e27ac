/*
 * shim.c - slipway-shim: the one process that owns a pod container's
 * instance, from before it exists until after it exited. It outlives
 * slipwayd (its own session, started by exec so it shares nothing with the
 * daemon's memory, and every inherited fd closed).
 *
 *   slipway-shim run CTR_DIR
 *     reads CTR_DIR/spec.json (what sw_podrt_start asked for), unpacks any
 *     layer not yet in the cache, mounts a fresh overlay rootfs, writes
 *     config.json, then `runc create` with the container's stdout and stderr
 *     as two pipes it holds, `runc start`; as child subreaper it becomes the
 *     parent of the container's init and waits for it, copying its output to
 *     CTR_DIR/log (CRI format, rotated at 10 MiB). When the init exits it
 *     writes the exit status (code, signal, OOM kill from the cgroup) to
 *     state.json atomically, deletes the runc container and exits. Every
 *     phase change is written to state.json first, then announced to the
 *     daemon with a datagram (podrt_notify); state.json stays the truth.
 *     Signals it gets (TERM, INT, HUP, QUIT, USR1, USR2) go to the init; one
 *     before the container started abandons the start.
 *
 *   slipway-shim rm PATH
 *     unmounts whatever is mounted under PATH and removes it, for removals
 *     too slow for the daemon's loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "podrt_int.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/digest.h"
#include "slipway/image_store.h"
#include "slipway/json.h"
#include "slipway/log.h"
#include "slipway/mem.h"
#include "slipway/path.h"
#include "step_runtime.h"

#define DRAIN_MS 2000 /* output still arriving after the init exited */
#define CPU_PERIOD 100000

typedef struct shim {
	const char *dir;
	json_t *spec;
	podrt_state s;
	const char *uid, *container, *state_dir, *runc_root, *notify;
	char *log_path, *log1_path;
	int sfd;          /* signalfd */
	int logfd;
	uint64_t log_size;
	int pending_sig;  /* a stop asked for before the init ran */
	pid_t init;
	sw_buf part[2];   /* partial lines of stdout, stderr */
} shim;

/* SLIPWAY_SHIM_TRACE=1: milliseconds of each step on stderr (shim.log). */
static void trace(const char *what)
{
	static int on = -1;
	static struct timespec t0;
	struct timespec t;

	if (on < 0) {
		on = getenv("SLIPWAY_SHIM_TRACE") != NULL;
		clock_gettime(CLOCK_MONOTONIC, &t0);
	}
	if (!on)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t);
	{
		const char *to = getenv("SLIPWAY_SHIM_TRACE");
		FILE *f = to[0] == '/' ? fopen(to, "a") : NULL;
		fprintf(f ? f : stderr, "slipway-shim %d: %8.2f ms %s\n", (int)getpid(),
		        (double)(t.tv_sec - t0.tv_sec) * 1e3 + (double)(t.tv_nsec - t0.tv_nsec) / 1e6, what);
		if (f)
			fclose(f);
	}
}

static const char *spec_str(const shim *sh, const char *key)
{
	const json_t *v = json_object_get(sh->spec, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static long long spec_int(const shim *sh, const char *key)
{
	const json_t *v = json_object_get(sh->spec, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

/* A NULL-terminated vector of the strings of array key (borrowed). */
static const char **spec_strv(const shim *sh, const char *key)
{
	const json_t *a = json_object_get(sh->spec, key);
	size_t n = json_array_size(a);
	const char **v = sw_xcalloc(n + 1, sizeof(*v));

	for (size_t i = 0; i < n; i++)
		v[i] = json_string_value(json_array_get(a, i)) ? json_string_value(json_array_get(a, i)) : "";
	return v;
}

static void save(shim *sh)
{
	cleanup_error sw_error *err = NULL;

	if (podrt_state_write(&sh->s, sh->dir, &err) < 0)
		sw_log_error(err, "shim %s", sh->dir);
	if (sh->notify)
		podrt_notify(sh->notify, sh->uid, sh->container);
}

/* ---- running runc ------------------------------------------------------------ */

/* runc ARGS with stdin /dev/null and stdout/stderr to out/errfd (-1:
 * /dev/null); returns its wait status, or -1 if it could not run. */
static int runc(shim *sh, const char *const *args, int outfd, int errfd, bool log_file)
{
	static const char *const envp[] = { PODRT_RUNC_ENV_PATH, NULL };
	cleanup_free char *log = sw_xasprintf("%s/runc.log", sh->dir);
	const char *argv[24] = { "runc", "--root", sh->runc_root, "--log", log, "--log-format", "json" };
	size_t n = log_file ? 7 : 3;
	int status = 0;
	pid_t pid;

	for (size_t i = 0; args[i] && n < 23; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(outfd >= 0 ? outfd : null, 1);
		dup2(errfd >= 0 ? errfd : null, 2);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		execvpe(argv[0], (char *const *)argv, (char *const *)envp);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

/* The message of runc's last error-level log line, or a generic one. */
static void runc_error(shim *sh, char *msg, size_t size, const char *what)
{
	cleanup_free char *path = sw_xasprintf("%s/runc.log", sh->dir);
	cleanup_free char *text = NULL;
	size_t len;

	snprintf(msg, size, "runc %s failed", what);
	if (sw_read_file(&text, &len, path, 4u << 20, NULL) < 0)
		return;
	for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		json_t *j;
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		j = json_loads(line, 0, NULL);
		if (j && json_is_string(json_object_get(j, "level")) &&
		    !strcmp(json_string_value(json_object_get(j, "level")), "error") &&
		    json_is_string(json_object_get(j, "msg")))
			snprintf(msg, size, "%s", json_string_value(json_object_get(j, "msg")));
		json_decref(j);
	}
}

/* No --log: the container's folder may be gone by now (a removed pod);
 * runc's complaints go to the shim's stderr. */
static void runc_delete(shim *sh)
{
	const char *args[] = { "delete", "-f", sh->s.runc_id, NULL };

	runc(sh, args, -1, STDERR_FILENO, false);
}

/* ---- ending -------------------------------------------------------------------- */

static void finish(shim *sh, int exit_code, int sig, const char *reason, const char *message)
{
	sh->s.st.phase = SW_CTR_EXITED;
	sh->s.st.exit_code = exit_code;
	sh->s.st.signal = sig;
	sh->s.st.finished_at = time(NULL);
	sh->s.st.pid = 0;
	sh->s.pid_start = 0;
	snprintf(sh->s.st.reason, sizeof(sh->s.st.reason), "%s", reason);
	snprintf(sh->s.st.message, sizeof(sh->s.st.message), "%s", message ? message : "");
	save(sh);
}

static int start_error(shim *sh, const char *msg)
{
	finish(sh, 128, 0, "StartError", msg);
	runc_delete(sh);
	return 1;
}

static int start_error_err(shim *sh, sw_error *err, const char *what)
{
	cleanup_free char *m = sw_error_string(err);
	cleanup_free char *full = sw_xasprintf("%s: %s", what, m);

	sw_error_free(err);
	return start_error(sh, full);
}

/* A stop signal that arrived while starting (non-blocking). */
static void poll_signals(shim *sh)
{
	struct signalfd_siginfo si;

	while (read(sh->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if ((int)si.ssi_signo == PODRT_SIG_STOP)
			sh->pending_sig = si.ssi_int > 0 && si.ssi_int < 65 ? si.ssi_int : SIGKILL;
		else if (si.ssi_signo != SIGCHLD)
			sh->pending_sig = (int)si.ssi_signo;
	}
}

static int abandoned(shim *sh)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "stopped with signal %d before it started", sh->pending_sig);
	finish(sh, 128 + sh->pending_sig, sh->pending_sig, "Error", msg);
	runc_delete(sh);
	return 0;
}

/* ---- the bundle ---------------------------------------------------------------- */

/* A layer from the cache. When it is not unpacked yet, one shim unpacks it
 * while the others wait (a flock per layer under STATE/run/podrt-locks):
 * a hundred pods of a new image would otherwise unpack it a hundred times
 * at once (the cache keeps one copy, but the work is done by all). */
static int cached_layer(shim *sh, sw_layer_cache *cache, const sw_descriptor *d, const char *diff_id,
                        const char **dir, sw_error **err)
{
	cleanup_free char *unpacked = NULL, *locks = NULL, *lock = NULL;
	int fd, r;

	if (!diff_id || !sw_digest_valid(diff_id))
		return sw_layer_cache_get(cache, d, diff_id, dir, err); /* its error */
	unpacked = sw_xasprintf("%s/%s", sw_layer_cache_dir(cache), diff_id + 7);
	if (access(unpacked, F_OK) == 0)
		return sw_layer_cache_get(cache, d, diff_id, dir, err);
	locks = sw_xasprintf("%s/run/podrt-locks", sh->state_dir);
	lock = sw_xasprintf("%s/%s.lock", locks, diff_id + 7);
	if (mkdir(locks, 0700) < 0 && errno != EEXIST)
		return sw_error_set_errno(err, errno, "create %s", locks);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return sw_error_set_errno(err, errno, "open %s", lock);
	trace("waiting for the layer");
	while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
		;
	trace("unpacking the layer (unless done meanwhile)");
	r = sw_layer_cache_get(cache, d, diff_id, dir, err);
	close(fd); /* releases the lock */
	return r;
}

static int layer_dirs(shim *sh, char ***out, size_t *n, sw_error **err)
{
	const json_t *layers = json_object_get(sh->spec, "layers");
	sw_image_store *store = NULL;
	sw_layer_cache *cache = NULL;
	char **dirs = sw_xcalloc(json_array_size(layers) + 1, sizeof(*dirs));
	int r;

	*n = 0;
	if ((r = sw_image_store_open(&store, sh->state_dir, err)) < 0 ||
	    (r = sw_layer_cache_open(&cache, sh->state_dir, store, err)) < 0)
		goto out;
	for (size_t i = 0; i < json_array_size(layers); i++) {
		const json_t *l = json_array_get(layers, i);
		sw_descriptor d = { .size = json_integer_value(json_object_get(l, "size")) };
		const char *dir = NULL;
		snprintf(d.media_type, sizeof(d.media_type), "%s", json_string_value(json_object_get(l, "mediaType")));
		snprintf(d.digest, sizeof(d.digest), "%s", json_string_value(json_object_get(l, "digest")));
		if ((r = cached_layer(sh, cache, &d, json_string_value(json_object_get(l, "diff_id")), &dir, err)) < 0)
			goto out;
		dirs[(*n)++] = sw_xstrdup(dir);
	}
	*out = dirs;
	dirs = NULL;
out:
	if (dirs) {
		for (size_t i = 0; dirs[i]; i++)
			free(dirs[i]);
		free(dirs);
	}
	sw_layer_cache_free(cache);
	sw_image_store_free(store);
	return r;
}

static int mount_rootfs(shim *sh, char **merged, sw_error **err)
{
	cleanup_free char *workdir = sw_xasprintf("%s/%s", sh->dir, PODRT_ROOTFS);
	char **dirs = NULL;
	size_t n = 0;
	sw_rootfs *r = NULL;
	int ret;

	if ((ret = layer_dirs(sh, &dirs, &n, err)) < 0)
		return sw_error_wrap(err, "image layers");
	/* an earlier instance's root filesystem: each instance starts afresh */
	if ((ret = sw_rootfs_remove(workdir, err)) < 0)
		goto out;
	if (mkdir(workdir, 0700) < 0) {
		ret = sw_error_set_errno(err, errno, "create %s", workdir);
		goto out;
	}
	if ((ret = sw_rootfs_mount(&r, workdir, (const char *const *)dirs, n, err)) < 0)
		goto out;
	*merged = sw_xstrdup(sw_rootfs_path(r));
	sw_rootfs_keep(r);
out:
	for (size_t i = 0; i < n; i++)
		free(dirs[i]);
	free(dirs);
	return ret;
}

static bool swap_limit_possible(void)
{
	cleanup_free char *swaps = NULL;
	size_t len = 0;

	if (sw_read_file(&swaps, &len, "/proc/swaps", 1u << 20, NULL) < 0 || !strchr(swaps, '\n') ||
	    !strchr(strchr(swaps, '\n') + 1, '\n'))
		return false; /* no swap devices: nothing to limit */
	if (podrt_cgroup_v2())
		return access("/sys/fs/cgroup/system.slice/memory.swap.max", F_OK) == 0 ||
		       access("/sys/fs/cgroup/init.scope/memory.swap.max", F_OK) == 0;
	return access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0;
}

static int write_config(shim *sh, const char *merged, sw_error **err)
{
	cleanup_free const char **args = spec_strv(sh, "args");
	cleanup_free const char **env = spec_strv(sh, "env");
	cleanup_free sw_run_mount *mounts = NULL;
	cleanup_free char *path = sw_xasprintf("%s/config.json", sh->dir);
	cleanup_free char *text = NULL;
	cleanup_json json_t *cfg = NULL;
	const json_t *jm = json_object_get(sh->spec, "mounts");
	const char *user = spec_str(sh, "user");
	json_t *linux_, *res, *cpu = json_object(), *mem = json_object(), *process;
	long long cpu_limit = spec_int(sh, "cpu_limit_milli"), cpu_req = spec_int(sh, "cpu_request_milli");
	long long mem_limit = spec_int(sh, "memory_limit_bytes");
	sw_run_spec rs = { .rootfs = merged, .argv = args, .env = env, .cwd = spec_str(sh, "cwd") };
	int r;

	if (!args[0]) {
		json_decref(cpu);
		json_decref(mem);
		return sw_error_set(err, SW_EINVALID, "no command specified");
	}
	if ((r = sw_rootfs_lookup_user(merged, user, &rs.uid, &rs.gid, err)) < 0) {
		json_decref(cpu);
		json_decref(mem);
		return r;
	}
	mounts = sw_xcalloc(json_array_size(jm) + 1, sizeof(*mounts));
	for (size_t i = 0; i < json_array_size(jm); i++) {
		const json_t *m = json_array_get(jm, i);
		mounts[i].type = json_string_value(json_object_get(m, "type"));
		mounts[i].source = json_string_value(json_object_get(m, "source"));
		mounts[i].target = json_string_value(json_object_get(m, "target"));
		mounts[i].readonly = json_is_true(json_object_get(m, "readonly"));
		mounts[i].mode = (uint32_t)json_integer_value(json_object_get(m, "mode"));
		mounts[i].size = json_integer_value(json_object_get(m, "size"));
		if (!mounts[i].type)
			mounts[i].type = "bind";
		if (!strcmp(mounts[i].type, "tmpfs") && !mounts[i].mode)
			mounts[i].mode = 01777;
	}
	rs.mounts = mounts;
	rs.nmounts = json_array_size(jm);
	if ((r = sw_run_config(&rs, sh->s.runc_id, "/etc/hosts", "/etc/resolv.conf", &cfg, err)) < 0) {
		json_decref(cpu);
		json_decref(mem);
		return r;
	}
	/* what a pod container gets beyond a build step's defaults */
	{
		/* Linux takes at most 64 bytes; Kubernetes truncates to 63 */
		const char *name = spec_str(sh, "pod_name") ? spec_str(sh, "pod_name") : "pod";
		char host[64];
		snprintf(host, sizeof(host), "%.63s", name);
		for (size_t n = strlen(host); n > 0 && (host[n - 1] == '-' || host[n - 1] == '.'); n--)
			host[n - 1] = '\0';
		json_object_set_new(cfg, "hostname", json_string(host[0] ? host : "pod"));
	}
	process = json_object_get(cfg, "process");
	json_object_set_new(process, "noNewPrivileges", json_true());
	linux_ = json_object_get(cfg, "linux");
	json_object_set_new(linux_, "cgroupsPath", json_string(sh->s.cgroup));
	res = json_object_get(linux_, "resources");
	if (!cpu_req)
		cpu_req = cpu_limit; /* as Kubernetes defaults a request to its limit */
	if (cpu_req > 0) {
		long long shares = cpu_req * 1024 / 1000;
		json_object_set_new(cpu, "shares", json_integer(shares < 2 ? 2 : shares));
	}
	if (cpu_limit > 0) {
		long long quota = cpu_limit * CPU_PERIOD / 1000;
		json_object_set_new(cpu, "quota", json_integer(quota < 1000 ? 1000 : quota));
		json_object_set_new(cpu, "period", json_integer(CPU_PERIOD));
	}
	if (mem_limit > 0) {
		json_object_set_new(mem, "limit", json_integer(mem_limit));
		/* no swap beyond the limit (as the kubelet), where there is swap
		 * and the kernel accounts it (else runc fails writing the file) */
		if (swap_limit_possible())
			json_object_set_new(mem, "swap", json_integer(mem_limit));
	}
	json_object_set_new(res, "cpu", cpu);
	json_object_set_new(res, "memory", mem);
	text = json_dumps(cfg, JSON_INDENT(2) | JSON_SORT_KEYS);
	return podrt_write_atomic(path, text, strlen(text), err);
}

/* ---- the log ------------------------------------------------------------------- */

static void log_open(shim *sh)
{
	struct stat sb;

	sh->logfd = open(sh->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	sh->log_size = (sh->logfd >= 0 && fstat(sh->logfd, &sb) == 0) ? (uint64_t)sb.st_size : 0;
}

static void log_write(shim *sh, const char *data, size_t len)
{
	if (sh->logfd < 0)
		return;
	if (sw_write_all(sh->logfd, data, len) == 0)
		sh->log_size += len;
	if (sh->log_size >= PODRT_LOG_MAX) {
		close(sh->logfd);
		rename(sh->log_path, sh->log1_path);
		log_open(sh);
	}
}

static void timestamp(char out[40])
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 40 - n, ".%09uZ", (unsigned)(ts.tv_nsec % 1000000000L));
}

static void add_record(sw_buf *out, const char *ts, int stream, char tag, const char *data, size_t len)
{
	sw_buf_printf(out, NULL, "%s %s %c ", ts, stream ? "stderr" : "stdout", tag);
	sw_buf_add(out, data, len, NULL);
	sw_buf_addc(out, '\n', NULL);
}

/* Turns a chunk of a stream into records: whole lines F, pieces of lines
 * longer than PODRT_LINE_MAX P; a partial line waits for its end (or eof). */
static void log_output(shim *sh, int stream, const char *data, size_t len, bool eof)
{
	sw_buf out = SW_BUF_INIT(0);
	sw_buf *part = &sh->part[stream];
	char ts[40];

	timestamp(ts);
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl ? (size_t)(nl - data) : len;
		if (part->len + take >= PODRT_LINE_MAX) {
			size_t room = PODRT_LINE_MAX - part->len;
			sw_buf_add(part, data, room, NULL);
			add_record(&out, ts, stream, 'P', part->data, part->len);
			sw_buf_truncate(part, 0);
			data += room;
			len -= room;
			continue;
		}
		if (!nl) {
			sw_buf_add(part, data, len, NULL);
			break;
		}
		if (part->len) {
			sw_buf_add(part, data, take, NULL);
			add_record(&out, ts, stream, 'F', part->data, part->len);
			sw_buf_truncate(part, 0);
		} else {
			add_record(&out, ts, stream, 'F', data, take);
		}
		data += take + 1;
		len -= take + 1;
	}
	if (eof && part->len) {
		add_record(&out, ts, stream, 'P', part->data, part->len);
		sw_buf_truncate(part, 0);
	}
	if (out.len)
		log_write(sh, out.data, out.len);
	sw_buf_release(&out);
}

/* ---- the life of the container ------------------------------------------------- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Copies output and reaps children until the init exited and its output
 * drained; returns the init's wait status. */
static int supervise(shim *sh, int fds[2])
{
	bool open_[2] = { true, true }, done = false;
	long long done_at = 0;
	int status = 0;
	char buf[65536];

	for (;;) {
		int st;
		pid_t w = waitpid(sh->init, &st, WNOHANG);
		if (w == sh->init) {
			status = st;
			done = true;
			done_at = now_ms();
		}
		break;
	}
	while (open_[0] || open_[1] || !done) {
		struct pollfd pfd[3] = { { sh->sfd, POLLIN, 0 }, { fds[0], POLLIN, 0 }, { fds[1], POLLIN, 0 } };
		int timeout = -1;

		if (!open_[0])
			pfd[1].fd = -1;
		if (!open_[1])
			pfd[2].fd = -1;
		if (done) {
			long long left = done_at + DRAIN_MS - now_ms();
			if (left <= 0)
				break; /* something outside the pid namespace holds a pipe */
			timeout = (int)left;
		}
		if (poll(pfd, 3, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sh->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				int sig = (int)si.ssi_signo;
				if (sig == SIGCHLD)
					continue;
				if (sig == PODRT_SIG_STOP)
					sig = si.ssi_int > 0 && si.ssi_int < 65 ? si.ssi_int : SIGKILL;
				if (!done)
					kill(sh->init, sig);
			}
		}
		/* every round, not only on SIGCHLD: one may have been read while
		 * starting, before this loop */
		for (;;) {
			int st;
			pid_t w = waitpid(-1, &st, WNOHANG);
			if (w <= 0)
				break;
			if (w == sh->init && !done) {
				status = st;
				done = true;
				done_at = now_ms();
			}
		}
		for (int i = 0; i < 2; i++) {
			if (!open_[i] || !(pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t n = read(fds[i], buf, sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				open_[i] = false;
				log_output(sh, i, "", 0, true);
				continue;
			}
			log_output(sh, i, buf, (size_t)n, false);
		}
	}
	for (int i = 0; i < 2; i++)
		if (open_[i])
			log_output(sh, i, "", 0, true);
	return status;
}

static int read_pid_file(const char *path)
{
	char buf[32];
	ssize_t n;
	long pid = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
		pid = pid * 10 + (buf[i] - '0');
	return (int)pid;
}

static void close_pipes(int a[2], int b[2])
{
	int *all[] = { &a[0], &a[1], &b[0], &b[1] };

	for (size_t i = 0; i < 4; i++)
		if (*all[i] >= 0) {
			close(*all[i]);
			*all[i] = -1;
		}
}

static int run_container(shim *sh)
{
	cleanup_free char *merged = NULL;
	cleanup_free char *pid_path = sw_xasprintf("%s/init.pid", sh->dir);
	sw_error *err = NULL;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, fds[2], status;
	char msg[512];

	trace("spec read");
	if (mount_rootfs(sh, &merged, &err) < 0)
		return start_error_err(sh, err, "root filesystem");
	trace("rootfs mounted");
	if (write_config(sh, merged, &err) < 0)
		return start_error_err(sh, err, "container config");
	trace("config written");
	poll_signals(sh);
	if (sh->pending_sig)
		return abandoned(sh);
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		close_pipes(outp, errp);
		return start_error(sh, "pipe failed");
	}
	unlink(pid_path);
	/* a container of the same ID left by an earlier start of this instance */
	{
		cleanup_free char *leftover = sw_xasprintf("%s/%s", sh->runc_root, sh->s.runc_id);
		if (access(leftover, F_OK) == 0)
			runc_delete(sh);
	}
	/* `runc run --detach` is create + start in one runc process: one Go
	 * program start less per container */
	{
		const char *args[] = { "run", "--detach", "--bundle", sh->dir, "--pid-file", pid_path, sh->s.runc_id,
		                       NULL };
		status = runc(sh, args, outp[1], errp[1], true);
	}
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;
	if (status != 0) {
		close_pipes(outp, errp);
		runc_error(sh, msg, sizeof(msg), "run");
		return start_error(sh, msg);
	}
	sh->init = read_pid_file(pid_path);
	if (sh->init <= 0) {
		close_pipes(outp, errp);
		return start_error(sh, "runc run wrote no pid file");
	}
	sh->s.st.pid = sh->init;
	sh->s.pid_start = podrt_proc_start(sh->init);
	poll_signals(sh);
	trace("runc run");
	sh->s.st.phase = SW_CTR_RUNNING;
	sh->s.st.started_at = time(NULL);
	save(sh);
	trace("running");
	/* a stop that raced with the start goes to the running init */
	if (sh->pending_sig)
		kill(sh->init, sh->pending_sig);
	sh->pending_sig = 0;

	fds[0] = outp[0];
	fds[1] = errp[0];
	status = supervise(sh, fds);
	close_pipes(outp, errp);
	{
		uint64_t ooms = podrt_cgroup_oom_kills(sh->s.cgroup);
		int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
		const char *reason = code == 0 ? "Completed" : "Error";
		sh->s.st.oom_killed = ooms > 0;
		if (ooms > 0 && code != 0)
			reason = "OOMKilled";
		finish(sh, code, sig, reason, NULL);
	}
	runc_delete(sh);
	/* the pod was removed meanwhile: its cgroup could not go while this
	 * container's was still there */
	if (access(sh->dir, F_OK) < 0) {
		cleanup_free char *pod_cg = sw_xstrdup(sh->s.cgroup);
		char *slash = strrchr(pod_cg, '/');
		if (slash && slash != pod_cg) {
			*slash = '\0';
			podrt_cgroup_remove(pod_cg, false);
		}
	}
	return 0;
}

static int shim_run(const char *dir)
{
	cleanup_error sw_error *err = NULL;
	cleanup_free char *spec_path = sw_xasprintf("%s/%s", dir, PODRT_SPEC);
	shim sh = { .dir = dir, .sfd = -1, .logfd = -1 };
	sigset_t mask;
	int ret;

	trace("main");
	sh.part[0] = (sw_buf)SW_BUF_INIT(0);
	sh.part[1] = (sw_buf)SW_BUF_INIT(0);
	setsid();
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	if (chdir("/") < 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGUSR2);
	sigaddset(&mask, PODRT_SIG_STOP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sh.sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);

	if (sw_json_load_file(&sh.spec, spec_path, 4u << 20, &err) < 0) {
		sw_log_error(err, "shim");
		return 1;
	}
	sh.uid = spec_str(&sh, "pod_uid");
	sh.container = spec_str(&sh, "container");
	sh.state_dir = spec_str(&sh, "state_dir");
	sh.runc_root = spec_str(&sh, "runc_root");
	sh.notify = spec_str(&sh, "notify");
	if (!sh.uid || !sh.container || !sh.state_dir || !sh.runc_root) {
		fprintf(stderr, "slipway-shim: %s: incomplete spec\n", spec_path);
		json_decref(sh.spec);
		return 1;
	}
	if (podrt_state_read(&sh.s, dir, &err) < 0) {
		sw_log_error(err, "shim");
		json_decref(sh.spec);
		return 1;
	}
	/* the state slipwayd wrote for this start: creating, this instance, no
	 * shim yet. Anything else means a restarted daemon gave up on this
	 * start (or a newer one began): leave the container alone. */
	if (sh.s.st.phase != SW_CTR_CREATING || sh.s.shim_pid != 0 ||
	    sh.s.st.instance != (unsigned)spec_int(&sh, "instance")) {
		fprintf(stderr, "slipway-shim: %s: state is %s (instance %u, shim %d), not this start's: nothing to do\n",
		        dir, podrt_phase_name(sh.s.st.phase), sh.s.st.instance, sh.s.shim_pid);
		json_decref(sh.spec);
		return 1;
	}
	sh.s.shim_pid = getpid();
	sh.s.shim_start = podrt_proc_start(getpid());
	save(&sh);
	sh.log_path = sw_xasprintf("%s/log", dir);
	sh.log1_path = sw_xasprintf("%s/log.1", dir);
	log_open(&sh);

	ret = run_container(&sh);

	while (waitpid(-1, NULL, WNOHANG) > 0) /* orphans */
		;
	if (sh.logfd >= 0)
		close(sh.logfd);
	close(sh.sfd);
	sw_buf_release(&sh.part[0]);
	sw_buf_release(&sh.part[1]);
	free(sh.log_path);
	free(sh.log1_path);
	json_decref(sh.spec);
	return ret;
}

/* ---- rm ----------------------------------------------------------------------- */

static int shim_rm(const char *path)
{
	cleanup_error sw_error *err = NULL;
	char **mnts = NULL;
	size_t n = 0;

	setsid();
	if (podrt_mounts_under(&mnts, &n, path) == 0) {
		for (size_t i = n; i-- > 0;) /* mountinfo lists parents first */
			umount2(mnts[i], MNT_DETACH);
		for (size_t i = 0; i < n; i++)
			free(mnts[i]);
		free(mnts);
	}
	/* nothing is mounted at PATH/merged any more: this is rm -rf PATH */
	if (sw_rootfs_remove(path, &err) < 0) {
		sw_log_error(err, "slipway-shim rm %s", path);
		return 1;
	}
	return 0;
}

int sw_podrt_shim_main(int argc, char **argv)
{
	/* nothing of the daemon's: every fd above stderr goes */
	syscall(SYS_close_range, 3U, ~0U, 0U);
	sw_log_init("slipway-shim", SW_LOG_HUMAN, SW_LOG_INFO);
	/* runc is looked up in PATH (execvpe reads ours, not the child's) */
	if (!getenv("PATH") || !*getenv("PATH"))
		setenv("PATH", PODRT_RUNC_ENV_PATH + 5, 1);
	if (geteuid() != 0) {
		fprintf(stderr, "slipway-shim: needs root\n");
		return 2;
	}
	if (argc == 3 && !strcmp(argv[1], "run") && argv[2][0] == '/')
		return shim_run(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "rm") && argv[2][0] == '/')
		return shim_rm(argv[2]);
	fprintf(stderr, "usage: slipway-shim run CONTAINER_DIR | rm PATH (started by slipwayd, not by hand)\n");
	return 2;
}
