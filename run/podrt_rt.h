/*
 * podrt_rt.h - the daemon-side pod runtime's state, shared by podrt.c,
 * podrt_scan.c and podrt_exec.c. Private to run/.
 */
#ifndef SLIPWAY_PODRT_RT_H
#define SLIPWAY_PODRT_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "podrt_int.h"
#include "slipway/image_store.h"
#include "slipway/podrt.h"

struct event;
struct bg_proc;
struct podrt_exec;
struct podrt_spawner;

typedef struct podrt_ctr {
	sw_podrt *rt;
	char *uid, *name, *dir;
	podrt_state s;       /* the last state.json read */
	int pidfd;           /* the shim's, while watched */
	struct event *ev;
	bool spawning;       /* its shim is being started (no pid yet) */
	int kill_pending;    /* a signal asked for while spawning */
	bool announce;       /* a change the callback has not been told yet */
} podrt_ctr;

struct sw_podrt {
	struct event_base *base;
	char *state_dir, *pods_dir, *runc_root, *shim_path;
	char hash[13];
	char notify[64];
	int sock;
	struct event *sock_ev;
	struct event *tick;      /* re-reads CREATING containers */
	struct event *announce_ev;
	podrt_ctr **ctrs;
	size_t nctrs, cap;
	sw_podrt_change_fn fn;
	void *payload;
	struct bg_proc *bg;
	struct podrt_exec *execs;
	struct podrt_spawner *spawner;
	sw_image_store *images;
};

int podrt_pidfd_open(int pid);
podrt_ctr *podrt_find(sw_podrt *rt, const char *uid, const char *name);
podrt_ctr *podrt_add(sw_podrt *rt, const char *uid, const char *name);
void podrt_drop(sw_podrt *rt, podrt_ctr *c);
char *podrt_ctr_dir(const sw_podrt *rt, const char *uid, const char *name);
/* Tells the change callback about c soon (from its own event). */
void podrt_announce(sw_podrt *rt, podrt_ctr *c);
/* Re-reads state.json; true when the phase or instance changed. */
bool podrt_refresh(podrt_ctr *c);
/* Watches the shim named in c->s (pid + start time); false when it is gone. */
bool podrt_attach(podrt_ctr *c);
/* A CREATING/RUNNING container whose shim is gone is recorded EXITED. */
void podrt_lost_if_dead(podrt_ctr *c, const char *when);
/* Runs argv in the background (own session, output to /dev/null), reaped
 * on the loop; started by the spawner thread. */
void podrt_background(sw_podrt *rt, const char *const *argv);
/* Reaps pid (a child) when it exits, on the loop. */
void podrt_reap_later(sw_podrt *rt, pid_t pid);
/* The spawner thread (podrt_spawn.c). */
int podrt_spawner_start(sw_podrt *rt, sw_error **err);
void podrt_spawner_stop(sw_podrt *rt);
/* Starts a shim off the loop; podrt_shim_spawned gets the result on it
 * (pid -1 and errno on failure). */
void podrt_spawn_shim(sw_podrt *rt, const char *uid, const char *name, unsigned instance,
                      const char *const *argv, const char *out_path);
void podrt_shim_spawned(sw_podrt *rt, const char *uid, const char *name, unsigned instance, pid_t pid, int error);
void podrt_background_runc_delete(sw_podrt *rt, const char *id);
/* Reaps a process whose pidfd we hold, in the background. */
void podrt_background_pidfd(sw_podrt *rt, int pidfd);
/* Moves path to STATE/pods/.trash and removes it in the background. */
int podrt_trash(sw_podrt *rt, const char *path, sw_error **err);
/* Adds the containers found in STATE/pods/<uid> that are not known yet. */
void podrt_load_pod(sw_podrt *rt, const char *uid);
void podrt_exec_free_all(sw_podrt *rt);

#endif
