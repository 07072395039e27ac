/*
 * podrt_state.c - helpers the pod runtime and its shim share: state.json,
 * names, process identity (pid + start time), the notification socket and
 * cgroup files (v1 hierarchies or the v2 unified tree).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "podrt_int.h"
#include "slipway/cleanup.h"
#include "slipway/digest.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/path.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

static const char *const phase_names[] = { "none", "creating", "running", "exited" };

const char *podrt_phase_name(sw_ctr_phase p)
{
	return (unsigned)p < 4 ? phase_names[p] : "none";
}

static sw_ctr_phase phase_parse(const char *s)
{
	for (unsigned i = 0; s && i < 4; i++)
		if (!strcmp(s, phase_names[i]))
			return (sw_ctr_phase)i;
	return SW_CTR_NONE;
}

bool podrt_name_ok(const char *s, size_t max)
{
	size_t n = 0;

	if (!s || !*s)
		return false;
	for (; s[n]; n++) {
		char c = s[n];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return n <= max;
}

/* ---- state.json ---------------------------------------------------------- */

static void copy_str(char *dst, size_t size, const json_t *v)
{
	const char *s = json_is_string(v) ? json_string_value(v) : "";

	snprintf(dst, size, "%s", s);
}

static long long get_int(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

int podrt_state_read(podrt_state *out, const char *ctr_dir, sw_error **err)
{
	cleanup_free char *path = sw_xasprintf("%s/%s", ctr_dir, PODRT_STATE);
	cleanup_json json_t *j = NULL;
	struct stat sb;

	memset(out, 0, sizeof(*out));
	if (stat(path, &sb) < 0)
		return errno == ENOENT ? sw_error_set(err, SW_ENOTFOUND, "%s: no such file", path)
		                       : sw_error_set_errno(err, errno, "stat %s", path);
	if (sw_json_load_file(&j, path, 1u << 20, err) < 0)
		return sw_error_code(*err);
	if (!json_is_object(j))
		return sw_error_set(err, SW_EINVALID, "%s: not an object", path);
	out->st.phase = phase_parse(json_string_value(json_object_get(j, "phase")));
	out->st.instance = (unsigned)get_int(j, "instance");
	out->st.pid = (int)get_int(j, "pid");
	out->st.exit_code = (int)get_int(j, "exit_code");
	out->st.signal = (int)get_int(j, "signal");
	out->st.oom_killed = json_is_true(json_object_get(j, "oom_killed"));
	out->st.started_at = (time_t)get_int(j, "started_at");
	out->st.finished_at = (time_t)get_int(j, "finished_at");
	out->st.stop_signal = (int)get_int(j, "stop_signal");
	copy_str(out->st.reason, sizeof(out->st.reason), json_object_get(j, "reason"));
	copy_str(out->st.message, sizeof(out->st.message), json_object_get(j, "message"));
	out->shim_pid = (int)get_int(j, "shim_pid");
	out->shim_start = (unsigned long long)get_int(j, "shim_start");
	out->pid_start = (unsigned long long)get_int(j, "pid_start");
	copy_str(out->runc_id, sizeof(out->runc_id), json_object_get(j, "runc_id"));
	copy_str(out->cgroup, sizeof(out->cgroup), json_object_get(j, "cgroup"));
	return 0;
}

int podrt_state_write(const podrt_state *s, const char *ctr_dir, sw_error **err)
{
	cleanup_free char *path = sw_xasprintf("%s/%s", ctr_dir, PODRT_STATE);
	cleanup_free char *text = NULL;
	cleanup_json json_t *j = json_pack(
		"{s:s, s:I, s:I, s:I, s:I, s:b, s:I, s:I, s:I, s:s, s:s, s:I, s:I, s:I, s:s, s:s}",
		"phase", podrt_phase_name(s->st.phase), "instance", (json_int_t)s->st.instance, "pid",
		(json_int_t)s->st.pid, "exit_code", (json_int_t)s->st.exit_code, "signal", (json_int_t)s->st.signal,
		"oom_killed", s->st.oom_killed, "started_at", (json_int_t)s->st.started_at, "finished_at",
		(json_int_t)s->st.finished_at, "stop_signal", (json_int_t)s->st.stop_signal, "reason", s->st.reason,
		"message", s->st.message, "shim_pid", (json_int_t)s->shim_pid, "shim_start", (json_int_t)s->shim_start,
		"pid_start", (json_int_t)s->pid_start, "runc_id", s->runc_id, "cgroup", s->cgroup);

	if (!j)
		return sw_error_set(err, SW_EINVALID, "%s: cannot encode the state (bad UTF-8 in a message?)", path);
	text = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	return podrt_write_atomic(path, text, strlen(text), err);
}

int podrt_write_atomic(const char *path, const char *data, size_t len, sw_error **err)
{
	cleanup_free char *tmp = sw_xasprintf("%s.tmp-%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return sw_error_set_errno(err, errno, "create %s", tmp);
	if (sw_write_all(fd, data, len) < 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return sw_error_set_errno(err, e, "write %s", tmp);
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return sw_error_set_errno(err, e, "rename %s", tmp);
	}
	return 0;
}

/* ---- processes ------------------------------------------------------------ */

unsigned long long podrt_proc_start(int pid)
{
	char path[64], buf[1024];
	unsigned long long start = 0;
	ssize_t n;
	int fd;
	char *p;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* the command name may hold spaces and ')': fields count from the last ')' */
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	p++;
	/* p is at the blank before field 3 (state); starttime is field 22 */
	for (int field = 3; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return 0;
	start = strtoull(p + 1, NULL, 10);
	return start;
}

bool podrt_proc_same(int pid, unsigned long long start)
{
	char path[64], buf[512];
	ssize_t n;
	int fd;

	if (pid <= 0 || start == 0 || podrt_proc_start(pid) != start)
		return false;
	/* a zombie waiting for its reaper is gone for us */
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* ---- names ----------------------------------------------------------------- */

void podrt_state_hash(char out[13], const char *state_dir)
{
	char digest[SW_DIGEST_LEN + 1];
	cleanup_free char *real = realpath(state_dir, NULL);
	const char *p = real ? real : state_dir;

	sw_digest_bytes(digest, p, strlen(p));
	memcpy(out, digest + 7, 12);
	out[12] = '\0';
}

char *podrt_pod_cgroup(const char *hash, const char *uid)
{
	return sw_xasprintf("/slipway/%s-%s", hash, uid);
}

char *podrt_ctr_cgroup(const char *hash, const char *uid, const char *container, unsigned instance)
{
	return sw_xasprintf("/slipway/%s-%s/%s.%u", hash, uid, container, instance);
}

char *podrt_runc_id(const char *uid, const char *container, unsigned instance)
{
	return sw_xasprintf("%s.%s.%u", uid, container, instance);
}

void podrt_notify_name(char out[64], const char *hash)
{
	snprintf(out, 64, "slipway-podrt-%s", hash);
}

void podrt_notify(const char *name, const char *uid, const char *container)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char msg[256];
	size_t nlen = strlen(name);
	int fd, n;

	if (nlen + 1 > sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path + 1, name, nlen); /* abstract: leading NUL */
	n = snprintf(msg, sizeof(msg), "%s/%s", uid, container);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return;
	/* blocking, with a bound: the daemon's queue holds only
	 * net.unix.max_dgram_qlen (often 10) notes, and a hundred shims can
	 * send at once; when it is down, the send fails at once (ECONNREFUSED) */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	{
		struct timeval tv = { 2, 0 };
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	(void)sendto(fd, msg, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&sa,
	             (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + nlen));
	close(fd);
}

/* ---- cgroups ---------------------------------------------------------------- */

bool podrt_cgroup_v2(void)
{
	return access(CGROUP_ROOT "/cgroup.controllers", F_OK) == 0;
}

char *podrt_cgroup_file(const char *cg, const char *controller, const char *file)
{
	if (podrt_cgroup_v2())
		return sw_xasprintf(CGROUP_ROOT "%s/%s", cg, file);
	return sw_xasprintf(CGROUP_ROOT "/%s%s/%s", controller ? controller : "", cg, file);
}

static int read_small(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* The value of "key N" in a flat keyed file; false when absent. */
static bool keyed_value(const char *text, const char *key, uint64_t *out)
{
	size_t klen = strlen(key);

	for (const char *line = text; line && *line;) {
		if (!strncmp(line, key, klen) && line[klen] == ' ') {
			*out = strtoull(line + klen + 1, NULL, 10);
			return true;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return false;
}

uint64_t podrt_cgroup_oom_kills(const char *cg)
{
	cleanup_free char *path = podrt_cgroup_v2() ? podrt_cgroup_file(cg, NULL, "memory.events")
	                                           : podrt_cgroup_file(cg, "memory", "memory.oom_control");
	char buf[1024];
	uint64_t v = 0;

	if (read_small(path, buf, sizeof(buf)) < 0)
		return 0;
	return keyed_value(buf, "oom_kill", &v) ? v : 0;
}

int podrt_cgroup_stats(const char *cg, uint64_t *cpu_ns, uint64_t *mem_bytes, sw_error **err)
{
	char buf[8192];
	uint64_t v = 0, cache = 0;

	*cpu_ns = 0;
	*mem_bytes = 0;
	if (podrt_cgroup_v2()) {
		cleanup_free char *cpu = podrt_cgroup_file(cg, NULL, "cpu.stat");
		cleanup_free char *mem = podrt_cgroup_file(cg, NULL, "memory.current");
		cleanup_free char *stat = podrt_cgroup_file(cg, NULL, "memory.stat");
		if (read_small(cpu, buf, sizeof(buf)) < 0)
			return errno == ENOENT ? sw_error_set(err, SW_ENOTFOUND, "cgroup %s: not found", cg)
			                       : sw_error_set_errno(err, errno, "read %s", cpu);
		if (keyed_value(buf, "usage_usec", &v))
			*cpu_ns = v * 1000;
		if (read_small(mem, buf, sizeof(buf)) == 0)
			*mem_bytes = strtoull(buf, NULL, 10);
		/* the working set, as the kubelet: without inactive file pages */
		if (read_small(stat, buf, sizeof(buf)) == 0 && keyed_value(buf, "inactive_file", &cache))
			*mem_bytes = *mem_bytes > cache ? *mem_bytes - cache : 0;
		return 0;
	}
	{
		cleanup_free char *cpu = podrt_cgroup_file(cg, "cpuacct", "cpuacct.usage");
		cleanup_free char *mem = podrt_cgroup_file(cg, "memory", "memory.usage_in_bytes");
		cleanup_free char *stat = podrt_cgroup_file(cg, "memory", "memory.stat");
		if (read_small(cpu, buf, sizeof(buf)) < 0)
			return errno == ENOENT ? sw_error_set(err, SW_ENOTFOUND, "cgroup %s: not found", cg)
			                       : sw_error_set_errno(err, errno, "read %s", cpu);
		*cpu_ns = strtoull(buf, NULL, 10);
		if (read_small(mem, buf, sizeof(buf)) == 0)
			*mem_bytes = strtoull(buf, NULL, 10);
		if (read_small(stat, buf, sizeof(buf)) == 0 && keyed_value(buf, "total_inactive_file", &cache))
			*mem_bytes = *mem_bytes > cache ? *mem_bytes - cache : 0;
	}
	return 0;
}

static void kill_procs_in(const char *dir)
{
	cleanup_free char *procs = sw_xasprintf("%s/cgroup.procs", dir);
	cleanup_free char *text = NULL;
	size_t len;

	if (sw_read_file(&text, &len, procs, 1u << 20, NULL) < 0)
		return;
	for (char *p = text; *p;) {
		char *end;
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		if (pid > 1)
			kill((pid_t)pid, SIGKILL);
		p = end;
		while (*p == '\n')
			p++;
	}
}

/* rmdir -r of cgroup folders (only folders: cgroupfs files go away with them). */
static void rmdir_tree(const char *dir, bool kill_procs, int depth)
{
	cleanup_dir DIR *d = NULL;
	struct dirent *e;

	if (depth > 8)
		return;
	if (kill_procs)
		kill_procs_in(dir);
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		cleanup_free char *sub = sw_xasprintf("%s/%s", dir, e->d_name);
		rmdir_tree(sub, kill_procs, depth + 1);
	}
	if (rmdir(dir) < 0 && errno == EBUSY && kill_procs) {
		/* the killed processes take a moment to leave */
		for (int i = 0; i < 50 && rmdir(dir) < 0 && errno == EBUSY; i++)
			usleep(10000);
	}
}

void podrt_cgroup_remove(const char *cg, bool kill_procs)
{
	cleanup_dir DIR *d = NULL;
	struct dirent *e;

	if (podrt_cgroup_v2()) {
		cleanup_free char *dir = sw_xasprintf(CGROUP_ROOT "%s", cg);
		rmdir_tree(dir, kill_procs, 0);
		return;
	}
	d = opendir(CGROUP_ROOT);
	if (!d)
		return;
	while ((e = readdir(d))) {
		struct stat sb;
		if (e->d_name[0] == '.')
			continue;
		cleanup_free char *dir = sw_xasprintf(CGROUP_ROOT "/%s%s", e->d_name, cg);
		/* cpu,cpuacct style symlinks name the same hierarchy twice */
		cleanup_free char *top = sw_xasprintf(CGROUP_ROOT "/%s", e->d_name);
		if (lstat(top, &sb) < 0 || !S_ISDIR(sb.st_mode))
			continue;
		rmdir_tree(dir, kill_procs, 0);
	}
}

/* ---- signals ------------------------------------------------------------------ */

static const struct {
	const char *name;
	int sig;
} signals[] = {
	{ "HUP", SIGHUP },   { "INT", SIGINT },     { "QUIT", SIGQUIT }, { "ILL", SIGILL },     { "TRAP", SIGTRAP },
	{ "ABRT", SIGABRT }, { "BUS", SIGBUS },     { "FPE", SIGFPE },   { "KILL", SIGKILL },   { "USR1", SIGUSR1 },
	{ "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },   { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },   { "TERM", SIGTERM },
	{ "CHLD", SIGCHLD }, { "CONT", SIGCONT },   { "STOP", SIGSTOP }, { "TSTP", SIGTSTP },   { "TTIN", SIGTTIN },
	{ "TTOU", SIGTTOU }, { "URG", SIGURG },     { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },   { "VTALRM", SIGVTALRM },
	{ "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO },     { "PWR", SIGPWR },     { "SYS", SIGSYS },
};

int podrt_parse_signal(const char *s)
{
	char *end;
	long n;

	if (!s || !*s)
		return 0;
	if (s[0] >= '0' && s[0] <= '9') {
		n = strtol(s, &end, 10);
		return (*end || n <= 0 || n >= 65) ? 0 : (int)n;
	}
	if (!strncmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < sizeof(signals) / sizeof(*signals); i++)
		if (!strcmp(s, signals[i].name))
			return signals[i].sig;
	if (!strncmp(s, "RTMIN", 5)) {
		n = s[5] == '+' ? strtol(s + 6, &end, 10) : 0;
		return SIGRTMIN + (int)n <= SIGRTMAX ? SIGRTMIN + (int)n : 0;
	}
	return 0;
}

/* ---- mounts ------------------------------------------------------------------- */

/* mountinfo escapes blanks, tabs, newlines and backslashes as \ooo. */
static char *unescape_mount(const char *s, size_t len)
{
	char *out = sw_xmalloc(len + 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3') {
			out[o++] = (char)(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
			i += 3;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

int podrt_mounts_under(char ***out, size_t *n, const char *dir)
{
	cleanup_free char *text = NULL;
	size_t len, dlen = strlen(dir), cap = 0;
	char **v = NULL;

	*out = NULL;
	*n = 0;
	if (sw_read_file(&text, &len, "/proc/self/mountinfo", 64u << 20, NULL) < 0)
		return -1;
	while (dlen > 1 && dir[dlen - 1] == '/')
		dlen--;
	for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		char *f = line, *end;
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		/* fields: id parent major:minor root mountpoint ... */
		for (int i = 0; i < 4 && f; i++) {
			f = strchr(f, ' ');
			if (f)
				f++;
		}
		if (!f)
			continue;
		end = strchr(f, ' ');
		char *mp = unescape_mount(f, end ? (size_t)(end - f) : strlen(f));
		if (!strncmp(mp, dir, dlen) && (mp[dlen] == '\0' || mp[dlen] == '/')) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 8;
				v = sw_xreallocarray(v, cap, sizeof(*v));
			}
			v[(*n)++] = mp;
		} else {
			free(mp);
		}
	}
	*out = v;
	return 0;
}
