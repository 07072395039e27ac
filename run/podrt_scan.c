/*
 * podrt_scan.c - re-adoption after a daemon restart, and sweeping what no
 * pod folder owns.
 *
 * Every STATE/pods/<uid>/<container>/state.json is read: a container whose
 * shim still runs (same pid and start time) is watched again; one that
 * exited while the daemon was down has its exit in state.json (written by
 * the shim before it went); one whose shim died without writing it is
 * recorded EXITED with a message saying so. A container already known to
 * this sw_podrt is refreshed, never added twice.
 *
 * Swept: runc containers under STATE/run/runc that no live shim owns and
 * whose pod folder is gone (or that belong to an older instance), mounts
 * under STATE/pods that belong to no container, cgroups
 * /slipway/<state hash>-<uid> without a pod folder, and STATE/pods/.trash.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "podrt_rt.h"
#include "slipway/cleanup.h"
#include "slipway/log.h"
#include "slipway/mem.h"

static bool is_dir_at(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* A shim started by a daemon that died before the shim wrote its pid:
 * found by its command line ("slipway-shim run DIR"). */
static void find_unrecorded_shim(podrt_ctr *c)
{
	cleanup_dir DIR *d = opendir("/proc");
	struct dirent *e;
	size_t dlen = strlen(c->dir);

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[64], buf[4096];
		ssize_t n;
		int fd, pid = atoi(e->d_name);
		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		/* argv[0] NUL "run" NUL DIR NUL */
		size_t a0 = strlen(buf);
		if ((size_t)n < a0 + 5 || strcmp(buf + a0 + 1, "run"))
			continue;
		if (strlen(buf + a0 + 5) != dlen || strcmp(buf + a0 + 5, c->dir))
			continue;
		c->s.shim_pid = pid;
		c->s.shim_start = podrt_proc_start(pid);
		return;
	}
}

/* Adopts one container folder; the container, or NULL if it is none. */
static podrt_ctr *adopt(sw_podrt *rt, const char *uid, const char *name)
{
	cleanup_free char *dir = podrt_ctr_dir(rt, uid, name);
	podrt_state s;
	podrt_ctr *c;

	if (!podrt_name_ok(name, 63) || podrt_state_read(&s, dir, NULL) < 0)
		return NULL;
	c = podrt_find(rt, uid, name);
	if (c) {
		podrt_refresh(c);
	} else {
		c = podrt_add(rt, uid, name);
		c->s = s;
	}
	if (c->pidfd < 0 && c->s.shim_pid > 0 && podrt_proc_start(c->s.shim_pid) == c->s.shim_start) {
		/* a zombie child of ours (a shim started by an earlier sw_podrt
		 * of this process): reap it */
		if (!podrt_proc_same(c->s.shim_pid, c->s.shim_start))
			waitpid(c->s.shim_pid, NULL, WNOHANG);
	}
	/* an exited container's shim may still be deleting its runc container */
	if (c->s.st.phase == SW_CTR_EXITED)
		podrt_attach(c);
	if (c->s.st.phase == SW_CTR_CREATING && c->s.shim_pid == 0 && !c->spawning)
		find_unrecorded_shim(c);
	if (c->s.st.phase == SW_CTR_CREATING || c->s.st.phase == SW_CTR_RUNNING) {
		if (!podrt_attach(c)) {
			/* it may have finished between the read and the check */
			podrt_refresh(c);
			podrt_lost_if_dead(c, "while slipwayd was down");
		}
	}
	return c;
}

void podrt_load_pod(sw_podrt *rt, const char *uid)
{
	cleanup_free char *pod_dir = sw_xasprintf("%s/%s", rt->pods_dir, uid);
	cleanup_dir DIR *d = opendir(pod_dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || podrt_find(rt, uid, e->d_name))
			continue;
		adopt(rt, uid, e->d_name);
	}
}

/* runc IDs are "<uid>.<container>.<instance>". */
static void sweep_runc(sw_podrt *rt)
{
	cleanup_dir DIR *d = opendir(rt->runc_root);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char uid[128], name[128];
		const char *dot1, *dot2;
		podrt_ctr *c;
		if (e->d_name[0] == '.')
			continue;
		dot1 = strchr(e->d_name, '.');
		dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
		if (!dot1 || !dot2 || (size_t)(dot1 - e->d_name) >= sizeof(uid) || (size_t)(dot2 - dot1 - 1) >= sizeof(name))
			continue;
		snprintf(uid, sizeof(uid), "%.*s", (int)(dot1 - e->d_name), e->d_name);
		snprintf(name, sizeof(name), "%.*s", (int)(dot2 - dot1 - 1), dot1 + 1);
		c = podrt_find(rt, uid, name);
		if (c && !strcmp(c->s.runc_id, e->d_name) && (c->pidfd >= 0 || c->s.st.phase != SW_CTR_EXITED))
			continue; /* its shim owns it */
		if (c && c->pidfd >= 0)
			continue; /* an older instance; the shim of the new one is running, leave it */
		sw_info("removing runc container %s: no shim owns it", e->d_name);
		podrt_background_runc_delete(rt, e->d_name);
	}
}

/* Overlay mounts left under STATE/pods: in the trash, or the rootfs of a
 * container folder that has no state.json (a start that died early). Other
 * mounts in pod folders (the secrets tmpfs, the agent's volumes) belong to
 * their pods and go with sw_podrt_remove_pod. */
static void sweep_mounts(sw_podrt *rt)
{
	char **mnts = NULL;
	size_t n = 0, plen = strlen(rt->pods_dir);

	if (podrt_mounts_under(&mnts, &n, rt->pods_dir) < 0)
		return;
	for (size_t i = n; i-- > 0;) {
		const char *rel = mnts[i] + plen;
		char uid[128], name[128], rest[256];
		bool stale = false;
		if (*rel == '/')
			rel++;
		if (!strncmp(rel, ".trash/", 7))
			stale = true;
		else if (sscanf(rel, "%127[^/]/%127[^/]/%255s", uid, name, rest) == 3 && !strcmp(rest, "rootfs/merged"))
			stale = podrt_find(rt, uid, name) == NULL;
		if (stale) {
			sw_info("unmounting %s: no container owns it", mnts[i]);
			umount2(mnts[i], MNT_DETACH);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(mnts[i]);
	free(mnts);
}

static void sweep_cgroups(sw_podrt *rt)
{
	cleanup_free char *top = podrt_cgroup_v2() ? sw_xstrdup("/sys/fs/cgroup/slipway")
	                                          : sw_xstrdup("/sys/fs/cgroup/memory/slipway");
	cleanup_dir DIR *d = opendir(top);
	struct dirent *e;
	size_t hlen = strlen(rt->hash);

	if (!d)
		return;
	while ((e = readdir(d))) {
		cleanup_free char *pod_dir = NULL, *cg = NULL;
		if (strncmp(e->d_name, rt->hash, hlen) || e->d_name[hlen] != '-')
			continue;
		pod_dir = sw_xasprintf("%s/%s", rt->pods_dir, e->d_name + hlen + 1);
		if (is_dir_at(pod_dir))
			continue;
		cg = sw_xasprintf("/slipway/%s", e->d_name);
		sw_info("removing cgroup %s: its pod is gone", cg);
		podrt_cgroup_remove(cg, true);
	}
}

static void sweep_trash(sw_podrt *rt)
{
	cleanup_free char *trash = sw_xasprintf("%s/.trash", rt->pods_dir);
	cleanup_dir DIR *d = opendir(trash);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		cleanup_free char *p = NULL;
		if (e->d_name[0] == '.')
			continue;
		p = sw_xasprintf("%s/%s", trash, e->d_name);
		const char *argv[] = { rt->shim_path, "rm", p, NULL };
		podrt_background(rt, argv);
	}
}

typedef struct found_ctr {
	char *uid, *name;
	sw_ctr_status st;
} found_ctr;

int sw_podrt_scan(sw_podrt *rt, sw_podrt_found_fn fn, void *payload, sw_error **err)
{
	cleanup_dir DIR *d = opendir(rt->pods_dir);
	struct dirent *e;
	found_ctr *found = NULL;
	size_t nfound = 0;

	if (!d)
		return sw_error_set_errno(err, errno, "open %s", rt->pods_dir);
	while ((e = readdir(d))) {
		cleanup_free char *pod_dir = NULL;
		cleanup_dir DIR *pd = NULL;
		struct dirent *ce;
		if (e->d_name[0] == '.' || !podrt_name_ok(e->d_name, 64))
			continue;
		pod_dir = sw_xasprintf("%s/%s", rt->pods_dir, e->d_name);
		pd = opendir(pod_dir);
		if (!pd)
			continue;
		while ((ce = readdir(pd))) {
			podrt_ctr *c;
			if (ce->d_name[0] == '.')
				continue;
			c = adopt(rt, e->d_name, ce->d_name);
			if (c) {
				found = sw_xreallocarray(found, nfound + 1, sizeof(*found));
				found[nfound].uid = sw_xstrdup(c->uid);
				found[nfound].name = sw_xstrdup(c->name);
				found[nfound].st = c->s.st;
				nfound++;
			}
		}
	}
	sweep_runc(rt);
	sweep_mounts(rt);
	sweep_cgroups(rt);
	sweep_trash(rt);
	/* callbacks last, on copies: they may start or remove containers */
	for (size_t i = 0; i < nfound; i++) {
		if (fn)
			fn(payload, found[i].uid, found[i].name, &found[i].st);
		free(found[i].uid);
		free(found[i].name);
	}
	free(found);
	return 0;
}
