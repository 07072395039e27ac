/*
 * podrt_int.h - what the pod runtime (podrt*.c, in slipwayd) and the shim
 * (shim*.c, the slipway-shim binary) share: the container folder's files,
 * state.json, names (runc IDs, cgroups, the notification socket), process
 * identity by pid + start time, and cgroup files. Private to run/.
 */
#ifndef SLIPWAY_PODRT_INT_H
#define SLIPWAY_PODRT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>

#include "slipway/error.h"
#include "slipway/podrt.h"

#define PODRT_LOG_MAX (10u << 20)   /* rotate `log` to `log.1` beyond this */
#define PODRT_LINE_MAX 16384        /* longer lines are split into P records */
#define PODRT_SPEC "spec.json"
#define PODRT_STATE "state.json"
#define PODRT_ROOTFS "rootfs"
#define PODRT_RUNC_ENV_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* What state.json holds: the public status plus how to find the processes
 * again (pid + start time, so a reused pid is never mistaken for ours). */
typedef struct podrt_state {
	sw_ctr_status st;
	int shim_pid;
	unsigned long long shim_start;
	unsigned long long pid_start;
	char runc_id[192];
	char cgroup[256];   /* cgroupsPath of the container ("/slipway/...") */
} podrt_state;

/* STATE_DIR/pods/<uid>/<container>/state.json; SW_ENOTFOUND when missing. */
int podrt_state_read(podrt_state *out, const char *ctr_dir, sw_error **err);
int podrt_state_write(const podrt_state *s, const char *ctr_dir, sw_error **err);

/* Writes path through a temp file and rename (readers see the old or the
 * new content), without fsync: these files matter while the host runs
 * (a daemon crash keeps the page cache), and fsync costs milliseconds per
 * container start. Mode 0600. */
int podrt_write_atomic(const char *path, const char *data, size_t len, sw_error **err);

const char *podrt_phase_name(sw_ctr_phase p);

/* A name part (pod uid, container): [A-Za-z0-9_-]{1,max}. */
bool podrt_name_ok(const char *s, size_t max);

/* Start time of a process (clock ticks since boot, /proc/PID/stat field 22);
 * 0 when it does not exist. */
unsigned long long podrt_proc_start(int pid);
/* pid is alive and still the process that started at start. */
bool podrt_proc_same(int pid, unsigned long long start);

/* The 12 hex digits naming a state dir (sha256 of its real path) in
 * cgroup names and the notification socket. */
void podrt_state_hash(char out[13], const char *state_dir);
/* "/slipway/<hash>-<uid>" and "/slipway/<hash>-<uid>/<container>.<instance>". */
char *podrt_pod_cgroup(const char *hash, const char *uid);
char *podrt_ctr_cgroup(const char *hash, const char *uid, const char *container, unsigned instance);
/* "<uid>.<container>.<instance>" */
char *podrt_runc_id(const char *uid, const char *container, unsigned instance);

/* The abstract Unix datagram socket slipwayd listens on for "uid/container"
 * change notes (the name without its leading NUL). */
void podrt_notify_name(char out[64], const char *hash);
/* Sends a note; silently nothing when no daemon listens. */
void podrt_notify(const char *name, const char *uid, const char *container);

/* cgroups */
bool podrt_cgroup_v2(void);
/* The file of a cgroup: /sys/fs/cgroup/<controller><cg>/<file> (v1) or
 * /sys/fs/cgroup<cg>/<file> (v2, controller ignored). */
char *podrt_cgroup_file(const char *cg, const char *controller, const char *file);
/* oom_kill count of the cgroup (0 when unknown). */
uint64_t podrt_cgroup_oom_kills(const char *cg);
int podrt_cgroup_stats(const char *cg, uint64_t *cpu_ns, uint64_t *mem_bytes, sw_error **err);
/* rmdir of the cgroup and its sub-cgroups in every hierarchy (children
 * first); processes still in it are killed first when kill_procs. */
void podrt_cgroup_remove(const char *cg, bool kill_procs);

/* Mount points at or under dir (from /proc/self/mountinfo, in its order:
 * parents before what is mounted on them). */
int podrt_mounts_under(char ***out, size_t *n, const char *dir);

/* Sent (sigqueue, value = the signal wanted) by the daemon to a shim whose
 * container is still being created: the shim abandons the start, or
 * passes the signal on to the init if it just started. SIGKILL cannot be
 * sent to the shim itself: it would lose the container. */
#define PODRT_SIG_STOP (SIGRTMIN + 1)

/* Signal number for "SIGTERM", "TERM", "15"; 0 when unknown. */
int podrt_parse_signal(const char *s);

/* The shim's entry (cmd/slipway-shim/main.c calls sw_podrt_shim_main). */

#endif
