/*
 * runc.c - running one build step in a fresh runc container
 * (sw_run_container): the OCI runtime config.json, the mount points made in
 * the root filesystem beforehand (and marked, so the layer leaves them out),
 * output streamed as it arrives, the timeout, and `runc delete -f` always.
 *
 * The config follows what `docker build` gives a RUN step (runc 1.1, OCI
 * runtime spec 1.0.2): Docker's default capabilities, masked and read-only
 * paths, /proc /dev /dev/pts /dev/shm /dev/mqueue /sys /sys/fs/cgroup, a
 * fixed hostname and /etc/hosts, the host's resolv.conf, mount/pid/uts/ipc
 * namespaces and the host's network unless network_none. The process sees
 * only spec->env (runc adds HOME when it is missing, as Docker does).
 * runc runs detached under a small subreaper shim (see shim()), so the
 * process' stdout and stderr share one pipe in order and its real wait
 * status (exit code or signal) is known.
 *
 * Not here: seccomp (Docker's default profile is not applied), user
 * namespaces, supplementary groups from /etc/group.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/log.h"
#include "slipway/mem.h"
#include "slipway/path.h"
#include "slipway/spawn.h"
#include "slipway/statedir.h"
#include "step_runtime_int.h"

#define HOSTNAME "slipway"
#define RUNC_ROOT_DEFAULT "/run/slipway/runc"
#define CGROUP_PARENT "/slipway"
#define RUNC_ENV_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define KILL_GRACE_MS 10000
#define MAX_HOPS 40

static const char *const default_caps[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
};

static const char *const masked_paths[] = {
	"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
	"/sys/firmware", "/sys/devices/virtual/powercap",
};

static const char *const readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* slipway-build-<pid>-<counter>-<random>: unique on this host. */
static void container_id(char out[64])
{
	static unsigned counter;
	unsigned n = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
	unsigned char rnd[4] = { 0 };

	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	snprintf(out, 64, "slipway-build-%ld-%u-%02x%02x%02x%02x", (long)getpid(), n, rnd[0], rnd[1], rnd[2], rnd[3]);
}

/* ---- mount points in the root filesystem -------------------------------- */

/*
 * Makes /path in the root filesystem (a folder, or an empty file when
 * !want_dir) and the folders above it, resolving symlinks inside the root
 * as runc does (an absolute target starts at the root, ".." stops there),
 * never through a symlink to the host. What it creates gets RT_STUB_XATTR
 * when mark is set. An existing path is left alone.
 */
static int make_in_root(int rootfd, const char *path, bool want_dir, bool mark, int hops, sw_error **err)
{
	cleanup_free char *clean = sw_path_clean(path[0] == '/' ? path : "/");
	cleanup_free char *copy = NULL;
	cleanup_close int cur = -1;
	char *save = NULL;
	size_t done = 1; /* bytes of clean walked so far ("/") */

	if (path[0] != '/')
		return sw_error_set(err, SW_EINVALID, "%s: not an absolute path", path);
	if (hops > MAX_HOPS)
		return sw_error_set(err, SW_EINVALID, "%s: too many levels of symlinks", path);
	cur = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0)
		return sw_error_set_errno(err, errno, "open the root filesystem");
	copy = sw_xstrdup(clean + 1);
	for (char *comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		bool last = !save || !*save;
		bool dir = !last || want_dir;
		struct stat st;
		int fd = -1;

		if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			char proc[4200], value[64];
			if (errno != ENOENT)
				return sw_error_set_errno(err, errno, "stat %s", path);
			if (dir ? mkdirat(cur, comp, 0755) < 0 && errno != EEXIST
			        : (fd = openat(cur, comp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0)
				return sw_error_set_errno(err, errno, "create mount point %s", path);
			if (!dir)
				close(fd);
			if (fchmodat(cur, comp, dir ? 0755 : 0644, 0) < 0 || fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) < 0)
				return sw_error_set_errno(err, errno, "create mount point %s", path);
			snprintf(proc, sizeof(proc), "/proc/self/fd/%d/%s", cur, comp);
			snprintf(value, sizeof(value), "%o:%u:%u", (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid,
			         (unsigned)st.st_gid);
			if (mark && lsetxattr(proc, RT_STUB_XATTR, value, strlen(value), 0) < 0)
				return sw_error_set_errno(err, errno, "mark mount point %s", path);
		} else if (S_ISLNK(st.st_mode)) {
			char target[4097];
			ssize_t n = readlinkat(cur, comp, target, sizeof(target) - 1);
			cleanup_free char *next = NULL;
			if (n < 0)
				return sw_error_set_errno(err, errno, "read symlink in %s", path);
			target[n] = '\0';
			/* the link's folder is clean[0..done), the rest follows it */
			if (target[0] == '/')
				next = sw_xasprintf("%s/%s", target, save ? save : "");
			else
				next = sw_xasprintf("%.*s/%s/%s", (int)done, clean, target, save ? save : "");
			return make_in_root(rootfd, next, want_dir, mark, hops + 1, err);
		} else if (!S_ISDIR(st.st_mode)) {
			if (last)
				return 0;
			return sw_error_set(err, SW_EINVALID, "mount point %s: %s is not a folder", path, comp);
		}
		if (last)
			return 0;
		fd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return sw_error_set_errno(err, errno, "open %s", path);
		close(cur);
		cur = fd;
		done = (size_t)(comp - copy) + 1 + strlen(comp);
	}
	return 0;
}

static bool source_is_dir(const sw_run_mount *m)
{
	struct stat st;

	return strcmp(m->type, "bind") || !m->source || stat(m->source, &st) < 0 || S_ISDIR(st.st_mode);
}

static int prepare_rootfs(const sw_run_spec *spec, sw_error **err)
{
	static const struct { const char *path; bool dir; } fixed[] = {
		{ "/proc", true }, { "/dev", true }, { "/sys", true },
		{ "/etc/hosts", false }, { "/etc/resolv.conf", false },
	};
	cleanup_close int rootfd = open(spec->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (rootfd < 0)
		return sw_error_set_errno(err, errno, "open root filesystem %s", spec->rootfs);
	for (size_t i = 0; i < sizeof(fixed) / sizeof(*fixed); i++)
		if ((r = make_in_root(rootfd, fixed[i].path, fixed[i].dir, true, 0, err)) < 0)
			return r;
	for (size_t i = 0; i < spec->nmounts; i++)
		if ((r = make_in_root(rootfd, spec->mounts[i].target, source_is_dir(&spec->mounts[i]), true, 0, err)) < 0)
			return r;
	/* the working folder is content, as when a WORKDIR step makes it */
	if (spec->cwd && (r = make_in_root(rootfd, spec->cwd, true, false, 0, err)) < 0)
		return r;
	return 0;
}

/* ---- config.json -------------------------------------------------------- */

static json_t *strv(const char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; v && (n == SIZE_MAX ? v[i] != NULL : i < n); i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *mount_obj(const char *dest, const char *type, const char *source, const char *const *opts)
{
	return json_pack("{s:s, s:s, s:s, s:o}", "destination", dest, "type", type, "source", source, "options",
	                 strv(opts, SIZE_MAX));
}

/* RLIMIT_NOFILE for the step: Docker's 1048576, but never above this
 * process' hard limit (raising it needs CAP_SYS_RESOURCE, which a sandboxed
 * builder may lack). */
static uint64_t nofile_limit(void)
{
	uint64_t want = 1048576;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
		want = rl.rlim_max;
	return want;
}

static int build_config(const sw_run_spec *spec, const char *id, const char *hosts, const char *resolv,
                        json_t **out, sw_error **err)
{
	static const char *const proc_o[] = { "nosuid", "noexec", "nodev", NULL };
	static const char *const dev_o[] = { "nosuid", "strictatime", "mode=755", "size=65536k", NULL };
	static const char *const pts_o[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL };
	static const char *const shm_o[] = { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL };
	static const char *const mq_o[] = { "nosuid", "noexec", "nodev", NULL };
	static const char *const sys_o[] = { "nosuid", "noexec", "nodev", "ro", NULL };
	static const char *const cg_o[] = { "nosuid", "noexec", "nodev", "relatime", "ro", NULL };
	static const char *const file_o[] = { "rbind", "ro", "nosuid", "nodev", "noexec", NULL };
	size_t ncaps = sizeof(default_caps) / sizeof(*default_caps);
	uint64_t nofile = nofile_limit();
	json_t *mounts = json_array(), *ns, *c;
	char cgroup[128];

	json_array_append_new(mounts, mount_obj("/proc", "proc", "proc", proc_o));
	json_array_append_new(mounts, mount_obj("/dev", "tmpfs", "tmpfs", dev_o));
	json_array_append_new(mounts, mount_obj("/dev/pts", "devpts", "devpts", pts_o));
	json_array_append_new(mounts, mount_obj("/dev/shm", "tmpfs", "shm", shm_o));
	json_array_append_new(mounts, mount_obj("/dev/mqueue", "mqueue", "mqueue", mq_o));
	json_array_append_new(mounts, mount_obj("/sys", "sysfs", "sysfs", sys_o));
	json_array_append_new(mounts, mount_obj("/sys/fs/cgroup", "cgroup", "cgroup", cg_o));
	json_array_append_new(mounts, mount_obj("/etc/hosts", "bind", hosts, file_o));
	json_array_append_new(mounts, mount_obj("/etc/resolv.conf", "bind", resolv, file_o));
	for (size_t i = 0; i < spec->nmounts; i++) {
		const sw_run_mount *m = &spec->mounts[i];
		json_t *o = json_array();
		if (!m->target || m->target[0] != '/' || !strcmp(m->target, "/")) {
			json_decref(o);
			json_decref(mounts);
			return sw_error_set(err, SW_EINVALID, "mount target '%s' is not an absolute path below /",
			                    m->target ? m->target : "");
		}
		if (!strcmp(m->type, "bind")) {
			if (!m->source || m->source[0] != '/') {
				json_decref(o);
				json_decref(mounts);
				return sw_error_set(err, SW_EINVALID, "bind mount at %s needs an absolute source", m->target);
			}
			json_array_append_new(o, json_string("rbind"));
			json_array_append_new(o, json_string(m->readonly ? "ro" : "rw"));
			json_array_append_new(o, json_string("nosuid"));
			json_array_append_new(o, json_string("nodev"));
			json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:o}", "destination", m->target, "type",
			                                        "bind", "source", m->source, "options", o));
		} else if (!strcmp(m->type, "tmpfs")) {
			json_array_append_new(o, json_string("nosuid"));
			json_array_append_new(o, json_string("nodev"));
			if (m->readonly)
				json_array_append_new(o, json_string("ro"));
			if (m->mode)
				json_array_append_new(o, json_sprintf("mode=%o", (unsigned)m->mode));
			if (m->size > 0)
				json_array_append_new(o, json_sprintf("size=%lld", (long long)m->size));
			json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:o}", "destination", m->target, "type",
			                                        "tmpfs", "source", "tmpfs", "options", o));
		} else {
			json_decref(o);
			json_decref(mounts);
			return sw_error_set(err, SW_EINVALID, "mount at %s: unknown type '%s'", m->target, m->type);
		}
	}

	ns = json_pack("[{s:s},{s:s},{s:s},{s:s}]", "type", "pid", "type", "ipc", "type", "uts", "type", "mount");
	if (spec->network_none)
		json_array_append_new(ns, json_pack("{s:s}", "type", "network"));
	snprintf(cgroup, sizeof(cgroup), "%s/%s", CGROUP_PARENT, id);

	c = json_pack(
		"{s:s,"
		" s:{s:b, s:{s:I, s:I}, s:o, s:o, s:s,"
		"    s:{s:o, s:o, s:o, s:[], s:[]},"
		"    s:[{s:s, s:I, s:I}], s:b},"
		" s:{s:s, s:b}, s:s, s:o,"
		" s:{s:o, s:s, s:{s:[{s:b, s:s}]}, s:o, s:o}}",
		"ociVersion", "1.0.2",
		"process", "terminal", 0, "user", "uid", (json_int_t)spec->uid, "gid", (json_int_t)spec->gid,
		"args", strv(spec->argv, SIZE_MAX), "env", strv(spec->env, SIZE_MAX), "cwd", spec->cwd ? spec->cwd : "/",
		"capabilities", "bounding", strv(default_caps, ncaps), "effective", strv(default_caps, ncaps),
		"permitted", strv(default_caps, ncaps), "inheritable", "ambient",
		"rlimits", "type", "RLIMIT_NOFILE", "hard", (json_int_t)nofile, "soft", (json_int_t)nofile,
		"noNewPrivileges", 0,
		"root", "path", spec->rootfs, "readonly", 0,
		"hostname", HOSTNAME,
		"mounts", mounts,
		"linux", "namespaces", ns, "cgroupsPath", cgroup, "resources", "devices", "allow", 0, "access", "rwm",
		"maskedPaths", strv(masked_paths, sizeof(masked_paths) / sizeof(*masked_paths)),
		"readonlyPaths", strv(readonly_paths, sizeof(readonly_paths) / sizeof(*readonly_paths)));
	if (!c)
		return sw_error_set(err, SW_EFAIL, "config.json: cannot build the document");
	*out = c;
	return 0;
}

int sw_run_config(const sw_run_spec *spec, const char *id, const char *hosts, const char *resolv, json_t **out,
                  sw_error **err)
{
	return build_config(spec, id, hosts, resolv, out, err);
}

static int write_bundle(const sw_run_spec *spec, const char *id, sw_error **err)
{
	static const char hosts[] = "127.0.0.1\tlocalhost " HOSTNAME "\n"
	                            "::1\tlocalhost ip6-localhost ip6-loopback\n";
	cleanup_free char *hosts_path = sw_xasprintf("%s/hosts", spec->bundle_dir);
	cleanup_free char *resolv_path = sw_xasprintf("%s/resolv.conf", spec->bundle_dir);
	cleanup_free char *config_path = sw_xasprintf("%s/config.json", spec->bundle_dir);
	cleanup_free char *resolv = NULL, *text = NULL;
	cleanup_json json_t *config = NULL;
	size_t len = 0;
	int r;

	if ((r = sw_write_file_atomic(hosts_path, hosts, strlen(hosts), 0644, err)) < 0)
		return r;
	/* the host's network: its resolvers; none: no resolvers at all */
	if (!spec->network_none && sw_read_file(&resolv, &len, "/etc/resolv.conf", 1u << 20, NULL) < 0)
		resolv = NULL;
	if (!resolv) {
		resolv = sw_xstrdup("");
		len = 0;
	}
	if ((r = sw_write_file_atomic(resolv_path, resolv, len, 0644, err)) < 0)
		return r;
	if ((r = build_config(spec, id, hosts_path, resolv_path, &config, err)) < 0)
		return r;
	text = json_dumps(config, JSON_INDENT(2) | JSON_SORT_KEYS);
	return sw_write_file_atomic(config_path, text, strlen(text), 0600, err);
}

/* ---- running runc ------------------------------------------------------- */

static const char *runc_bin(const sw_run_spec *spec)
{
	return spec->runtime ? spec->runtime : "runc";
}

/* runc ARGS... with its output captured; errors are only logged (this is
 * cleanup). */
static void runc_quiet(const sw_run_spec *spec, const char *root, const char *verb, const char *id,
                       const char *extra)
{
	const char *argv[8] = { runc_bin(spec), "--root", root, verb };
	static const char *const envp[] = { RUNC_ENV_PATH, NULL };
	sw_spawn_opts o = { .argv = argv, .envp = envp, .capture_stdout = true, .capture_stderr = true,
	                    .timeout_ms = 30000 };
	sw_spawn_result res;
	cleanup_error sw_error *err = NULL;
	size_t n = 4;

	if (extra)
		argv[n++] = extra;
	argv[n++] = id;
	if (!strcmp(verb, "kill"))
		argv[n++] = "KILL";
	argv[n] = NULL;
	if (sw_spawn_run(&o, &res, &err) < 0) {
		sw_log_error(err, "runc %s %s", verb, id);
		return;
	}
	sw_spawn_result_release(&res);
}

/*
 * The shim, a forked child of the builder: a child subreaper that starts
 * `runc run --detach` with the output pipe as the process' stdout and
 * stderr (runc passes detached stdio through, so both streams share one
 * pipe and keep their order; in the foreground runc would copy them
 * through two pipes of its own). When runc exits, the container's init is
 * reparented to the shim, which waits for it and reports its wait status.
 * Only async-signal-safe calls after fork.
 */
struct shim_report {
	int runc_status; /* runc's wait status */
	int init_status; /* the process' wait status, when runc started it */
	int started;
};

static void write_report(int fd, const struct shim_report *rep)
{
	while (write(fd, rep, sizeof(*rep)) < 0 && errno == EINTR)
		;
}

static __attribute__((noreturn)) void shim(const char *const *argv, const char *pid_file, int outfd, int repfd)
{
	static const char *const envp[] = { RUNC_ENV_PATH, NULL };
	struct shim_report rep = { 0 };
	char buf[32];
	long pid = 0;
	ssize_t n;
	int fd;
	pid_t runc;

	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	runc = fork();
	if (runc < 0)
		_exit(1);
	if (runc == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(outfd, 1);
		dup2(outfd, 2);
		signal(SIGPIPE, SIG_DFL);
		execvpe(argv[0], (char *const *)argv, (char *const *)envp);
		_exit(127);
	}
	close(outfd);
	while (waitpid(runc, &rep.runc_status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(rep.runc_status) && WEXITSTATUS(rep.runc_status) == 0 &&
	    (fd = open(pid_file, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
			pid = pid * 10 + (buf[i] - '0');
		if (pid > 0) {
			while (waitpid((pid_t)pid, &rep.init_status, 0) < 0) {
				if (errno != EINTR)
					goto report;
			}
			rep.started = 1;
		}
	}
report:
	write_report(repfd, &rep);
	while (waitpid(-1, NULL, WNOHANG) > 0) /* orphans of the container */
		;
	_exit(0);
}

static void deliver(const sw_run_spec *spec, int fd, bool *open_)
{
	char buf[16384];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return; /* EAGAIN: nothing more for now */
		if (n == 0) {
			*open_ = false;
			return;
		}
		if (spec->output)
			spec->output(buf, (size_t)n, spec->payload);
	}
}

/* The message of runc's last error-level log line, or NULL. */
static char *runc_log_error(const char *log_path)
{
	cleanup_free char *text = NULL;
	char *msg = NULL;
	size_t len;

	if (sw_read_file(&text, &len, log_path, 1u << 20, NULL) < 0)
		return NULL;
	for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		json_t *j;
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		j = json_loads(line, 0, NULL);
		if (j && json_is_string(json_object_get(j, "level")) &&
		    !strcmp(json_string_value(json_object_get(j, "level")), "error") &&
		    json_is_string(json_object_get(j, "msg"))) {
			free(msg);
			msg = sw_xstrdup(json_string_value(json_object_get(j, "msg")));
		}
		json_decref(j);
	}
	return msg;
}

/* Leaves bundle_dir empty again, for its owner to remove. runc.log is
 * read first when runc failed. */
static void clean_bundle(const char *dir)
{
	static const char *const files[] = { "config.json", "hosts", "resolv.conf", "init.pid" };

	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
		cleanup_free char *p = sw_xasprintf("%s/%s", dir, files[i]);
		unlink(p);
	}
}

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
	p[0] = p[1] = -1;
}

int sw_run_container(const sw_run_spec *spec, sw_run_result *res, sw_error **err)
{
	const char *root = spec->runc_root ? spec->runc_root : RUNC_ROOT_DEFAULT;
	cleanup_free char *log_path = NULL, *pid_path = NULL, *runc_msg = NULL;
	int outp[2] = { -1, -1 }, repp[2] = { -1, -1 };
	struct shim_report rep = { 0 };
	char id[64];
	long long deadline, kill_deadline = 0;
	bool out_open = true, rep_open = true, reported = false;
	int status = 0, r;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (geteuid() != 0)
		return sw_error_set(err, SW_EFAIL, "running a container needs root (run slipway build as root)");
	if (!spec->rootfs || !spec->argv || !spec->argv[0] || !spec->bundle_dir)
		return sw_error_set(err, SW_EINVALID, "run: rootfs, argv and bundle_dir are required");
	if (spec->cwd && spec->cwd[0] != '/')
		return sw_error_set(err, SW_EINVALID, "run: working folder '%s' is not absolute", spec->cwd);
	if ((r = sw_mkdir_p(root, 0700, 0700, err)) < 0)
		return sw_error_wrap(err, "runc state folder");
	container_id(id);
	if ((r = prepare_rootfs(spec, err)) < 0 || (r = write_bundle(spec, id, err)) < 0)
		return sw_error_wrap(err, "prepare container %s", id);
	log_path = sw_xasprintf("%s/runc.log", spec->bundle_dir);
	pid_path = sw_xasprintf("%s/init.pid", spec->bundle_dir);

	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(repp, O_CLOEXEC) < 0) {
		int e = errno;
		close_pair(outp);
		close_pair(repp);
		return sw_error_set_errno(err, e, "run: pipe");
	}
	{
		const char *argv[] = { runc_bin(spec), "--root", root, "--log", log_path, "--log-format", "json",
		                       "run", "--detach", "--pid-file", pid_path, "--bundle", spec->bundle_dir, id,
		                       NULL };
		pid = fork();
		if (pid == 0) {
			close(outp[0]);
			close(repp[0]);
			shim(argv, pid_path, outp[1], repp[1]);
		}
	}
	if (pid < 0) {
		int e = errno;
		close_pair(outp);
		close_pair(repp);
		return sw_error_set_errno(err, e, "run: fork");
	}
	close(outp[1]);
	close(repp[1]);
	fcntl(outp[0], F_SETFL, O_NONBLOCK);
	deadline = spec->timeout_ms > 0 ? now_ms() + spec->timeout_ms : 0;

	/* stream until the shim reports (and the output drains), or the
	 * deadline passes */
	while (rep_open || out_open) {
		struct pollfd pfd[2];
		nfds_t n = 0;
		int timeout = -1;
		long long now = now_ms();

		if (out_open)
			pfd[n++] = (struct pollfd){ outp[0], POLLIN, 0 };
		if (rep_open)
			pfd[n++] = (struct pollfd){ repp[0], POLLIN, 0 };
		if (!rep_open) {
			timeout = 1000; /* the container is gone: what is left drains now */
		} else if (kill_deadline) {
			if (now >= kill_deadline) {
				kill(pid, SIGKILL); /* neither runc nor the shim answers */
				runc_quiet(spec, root, "kill", id, NULL);
				kill_deadline = now + KILL_GRACE_MS;
			}
			timeout = (int)(kill_deadline - now);
		} else if (deadline) {
			if (now >= deadline) {
				res->timed_out = true;
				runc_quiet(spec, root, "kill", id, NULL);
				kill_deadline = now_ms() + KILL_GRACE_MS;
				continue;
			}
			timeout = (int)(deadline - now);
		}
		r = poll(pfd, n, timeout);
		if (r < 0 && errno != EINTR)
			break;
		if (r == 0 && !rep_open)
			break;
		for (nfds_t i = 0; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			if (pfd[i].fd == outp[0]) {
				deliver(spec, outp[0], &out_open);
			} else {
				ssize_t got = read(repp[0], &rep, sizeof(rep));
				if (got < 0 && errno == EINTR)
					continue;
				reported = got == (ssize_t)sizeof(rep);
				rep_open = false;
			}
		}
	}
	close(outp[0]);
	close(repp[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	/* a detached container stays until deleted; this also ends any
	 * process left when the shim was killed */
	runc_quiet(spec, root, "delete", id, "-f");
	clean_bundle(spec->bundle_dir);

	if (res->timed_out) {
		unlink(log_path);
		res->exit_code = -1;
		res->term_signal = SIGKILL;
		return 0;
	}
	if (!reported)
		return sw_error_set(err, SW_EFAIL, "container %s: the runtime shim ended without a report", id);
	if (!rep.started) {
		if (WIFEXITED(rep.runc_status) && WEXITSTATUS(rep.runc_status) == 127 && access(log_path, F_OK) < 0)
			return sw_error_set(err, SW_ENOTFOUND, "%s: the OCI runtime is not installed", runc_bin(spec));
		runc_msg = runc_log_error(log_path);
		unlink(log_path);
		return sw_error_set(err, SW_EFAIL, "%s: %s", runc_bin(spec),
		                    runc_msg ? runc_msg : "the container did not start");
	}
	unlink(log_path);
	if (WIFSIGNALED(rep.init_status)) {
		res->exit_code = -1;
		res->term_signal = WTERMSIG(rep.init_status);
	} else {
		res->exit_code = WEXITSTATUS(rep.init_status);
	}
	return 0;
}
