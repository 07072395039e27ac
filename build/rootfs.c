/*
 * rootfs.c - an overlayfs root filesystem over cached layers, and user
 * lookup in an image's /etc/passwd and /etc/group.
 *
 *   WORKDIR/upper   the step's changes (sw_rootfs_diff reads it)
 *   WORKDIR/work    overlayfs' work dir
 *   WORKDIR/merged  the mount
 *   WORKDIR/empty   the one lower dir of an empty root (FROM scratch)
 *
 * Mounting: the new mount API (fsopen/fsconfig/fsmount, Linux 5.2) with
 * one "lowerdir+" per layer (Linux 6.8), so no path is ever escaped or
 * joined and the one-page limit of mount(2)'s option string does not
 * apply. On older kernels, mount(2) with "lowerdir=" naming each layer as
 * /proc/self/fd/N (17 bytes each, whatever the state dir's path): about
 * 200 layers fit in a page, and more is an error naming the limit.
 * redirect_dir, metacopy and index are off: a renamed folder is copied up
 * whole and a chown copies the data, so the upper dir alone holds every
 * change (what docker's overlay2 differ needs too).
 *
 * Not here: the diff of the upper dir (rootfs_diff.c).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rootfs_int.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/log.h"
#include "slipway/mem.h"
#include "slipway/path.h"

#define OVL_MAX_LOWERS 500 /* overlayfs' own stack limit */

const char *sw_rootfs_path(const sw_rootfs *r)
{
	return r->merged;
}

const char *sw_rootfs_upper(const sw_rootfs *r)
{
	return r->upper;
}

/* ---- mounting ----------------------------------------------------------- */

static int fsconfig_str(int fsfd, const char *key, const char *value)
{
	return (int)syscall(SYS_fsconfig, fsfd, value ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, key, value, 0);
}

/* The new mount API. Returns 1 when this kernel lacks it (or "lowerdir+"),
 * so the caller falls back; 0 mounted; < 0 a real failure. */
static int mount_fsapi(const sw_rootfs *r, const char *const *tops, size_t n, sw_error **err)
{
	cleanup_close int fsfd = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
	cleanup_close int mfd = -1;

	if (fsfd < 0)
		return (errno == ENOSYS || errno == EPERM) ? 1 : sw_error_set_errno(err, errno, "fsopen overlay");
	for (size_t i = 0; i < n; i++) {
		if (fsconfig_str(fsfd, "lowerdir+", tops[i]) < 0) {
			if (i == 0 && errno == EINVAL)
				return 1; /* before Linux 6.8 */
			return sw_error_set_errno(err, errno, "overlay: lower dir %s", tops[i]);
		}
	}
	if (fsconfig_str(fsfd, "upperdir", r->upper) < 0)
		return sw_error_set_errno(err, errno, "overlay: upper dir %s", r->upper);
	if (fsconfig_str(fsfd, "workdir", r->work) < 0)
		return sw_error_set_errno(err, errno, "overlay: work dir %s", r->work);
	if (fsconfig_str(fsfd, "redirect_dir", "off") < 0 || fsconfig_str(fsfd, "metacopy", "off") < 0 ||
	    fsconfig_str(fsfd, "index", "off") < 0)
		return sw_error_set_errno(err, errno, "overlay: options");
	if (syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return sw_error_set_errno(err, errno, "mount overlay at %s", r->merged);
	mfd = (int)syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC, 0);
	if (mfd < 0)
		return sw_error_set_errno(err, errno, "fsmount overlay");
	if (syscall(SYS_move_mount, mfd, "", AT_FDCWD, r->merged, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return sw_error_set_errno(err, errno, "move the overlay mount to %s", r->merged);
	return 0;
}

static int mount_legacy(const sw_rootfs *r, const char *const *tops, size_t n, sw_error **err)
{
	sw_buf opts = SW_BUF_INIT(0);
	int *fds = sw_xcalloc(n ? n : 1, sizeof(*fds));
	long page = sysconf(_SC_PAGESIZE);
	int ret = 0;

	for (size_t i = 0; i < n; i++)
		fds[i] = -1;
	sw_buf_addstr(&opts, "lowerdir=", NULL);
	for (size_t i = 0; i < n; i++) {
		fds[i] = open(tops[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fds[i] < 0) {
			ret = sw_error_set_errno(err, errno, "overlay: lower dir %s", tops[i]);
			goto out;
		}
		sw_buf_printf(&opts, NULL, "%s/proc/self/fd/%d", i ? ":" : "", fds[i]);
	}
	/* upper and work dirs are ours; still, no ',' or ':' may split them */
	if (strpbrk(r->upper, ",:\\") || strpbrk(r->work, ",:\\")) {
		ret = sw_error_set(err, SW_EINVALID, "overlay: work folder %s has ',' ':' or '\\' in its path", r->dir);
		goto out;
	}
	sw_buf_printf(&opts, NULL, ",upperdir=%s,workdir=%s,redirect_dir=off,metacopy=off,index=off", r->upper,
	              r->work);
	if (opts.len >= (size_t)(page > 0 ? page : 4096)) {
		ret = sw_error_set(err, SW_ETOOBIG,
		                   "overlay: %zu layers do not fit in mount(2)'s one-page option string on this kernel "
		                   "(before Linux 6.8)", n);
		goto out;
	}
	if (mount("overlay", r->merged, "overlay", 0, opts.data) < 0)
		ret = sw_error_set_errno(err, errno, "mount overlay at %s", r->merged);
out:
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	sw_buf_release(&opts);
	return ret;
}

static int mkdir_in(const char *dir, const char *name, mode_t mode, char **out, sw_error **err)
{
	cleanup_free char *p = sw_xasprintf("%s/%s", dir, name);

	if (mkdir(p, mode) < 0)
		return sw_error_set_errno(err, errno, "create %s", p);
	if (chmod(p, mode) < 0) /* not the umask's */
		return sw_error_set_errno(err, errno, "chmod %s", p);
	*out = steal_pointer(&p);
	return 0;
}

static int prepare(sw_rootfs **out, const char *workdir, const char *const *lowers, size_t nlowers,
                   sw_error **err)
{
	sw_rootfs *r;
	int ret;

	if (geteuid() != 0)
		return sw_error_set(err, SW_EFAIL, "an overlay root filesystem needs root (run slipway build as root)");
	if (nlowers > OVL_MAX_LOWERS)
		return sw_error_set(err, SW_ETOOBIG, "%zu layers; overlayfs stacks at most %d", nlowers, OVL_MAX_LOWERS);
	r = sw_xcalloc(1, sizeof(*r));
	r->upperfd = -1;
	r->dir = sw_xstrdup(workdir);
	r->lowers = sw_xcalloc(nlowers + 1, sizeof(*r->lowers));
	for (size_t i = 0; i < nlowers; i++)
		r->lowers[i] = sw_xstrdup(lowers[i]);
	r->nlowers = nlowers;
	if ((ret = mkdir_in(workdir, "upper", 0755, &r->upper, err)) < 0 ||
	    (ret = mkdir_in(workdir, "work", 0700, &r->work, err)) < 0 ||
	    (ret = mkdir_in(workdir, "merged", 0755, &r->merged, err)) < 0 ||
	    (nlowers == 0 && (ret = mkdir_in(workdir, "empty", 0755, &r->empty, err)) < 0)) {
		sw_rootfs_free(r);
		return ret;
	}
	r->upperfd = open(r->upper, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (r->upperfd < 0) {
		ret = sw_error_set_errno(err, errno, "open %s", r->upper);
		sw_rootfs_free(r);
		return ret;
	}
	*out = r;
	return 0;
}

int rootfs_mount_impl(sw_rootfs **out, const char *workdir, const char *const *lowers, size_t nlowers,
                      bool legacy, sw_error **err)
{
	cleanup_free const char **tops = NULL;
	sw_rootfs *r = NULL;
	size_t n;
	int ret;

	if ((ret = prepare(&r, workdir, lowers, nlowers, err)) < 0)
		return sw_error_wrap(err, "root filesystem in %s", workdir);
	/* overlayfs lists the top-most lower first */
	n = nlowers ? nlowers : 1;
	tops = sw_xcalloc(n, sizeof(*tops));
	for (size_t i = 0; i < nlowers; i++)
		tops[i] = lowers[nlowers - 1 - i];
	if (!nlowers)
		tops[0] = r->empty;
	ret = legacy ? 1 : mount_fsapi(r, tops, n, err);
	if (ret == 1)
		ret = mount_legacy(r, tops, n, err);
	if (ret < 0) {
		sw_rootfs_free(r);
		return sw_error_wrap(err, "root filesystem in %s", workdir);
	}
	r->mounted = true;
	*out = r;
	return 0;
}

int sw_rootfs_mount(sw_rootfs **out, const char *workdir, const char *const *lowers, size_t nlowers,
                    sw_error **err)
{
	return rootfs_mount_impl(out, workdir, lowers, nlowers, false, err);
}

void sw_rootfs_free(sw_rootfs *r)
{
	cleanup_error sw_error *err = NULL;
	cleanup_close int fd = -1;

	if (!r)
		return;
	if (r->upperfd >= 0)
		close(r->upperfd);
	if (r->merged && umount2(r->merged, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		sw_warn("unmount %s: %s", r->merged, strerror(errno));
	fd = open(r->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		/* only what sw_rootfs_mount made: WORKDIR itself is the caller's,
		 * but the contract is to remove it as well */
		static const char *const names[] = { "merged", "upper", "work", "empty" };
		for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
			if (rt_remove_tree(fd, names[i], &err) < 0) {
				sw_log_error(err, "removing the root filesystem in %s", r->dir);
				sw_error_clear(&err);
			}
		if (r->mounted && rmdir(r->dir) < 0 && errno != ENOENT && errno != ENOTEMPTY)
			sw_warn("remove %s: %s", r->dir, strerror(errno));
	}
	for (size_t i = 0; i < r->nlowers; i++)
		free(r->lowers[i]);
	free(r->lowers);
	free(r->dir);
	free(r->upper);
	free(r->work);
	free(r->merged);
	free(r->empty);
	free(r);
}

void sw_rootfs_keep(sw_rootfs *r)
{
	if (!r)
		return;
	if (r->upperfd >= 0)
		close(r->upperfd);
	for (size_t i = 0; i < r->nlowers; i++)
		free(r->lowers[i]);
	free(r->lowers);
	free(r->dir);
	free(r->upper);
	free(r->work);
	free(r->merged);
	free(r->empty);
	free(r);
}

int sw_rootfs_remove(const char *workdir, sw_error **err)
{
	cleanup_free char *merged = sw_xasprintf("%s/merged", workdir);
	cleanup_free char *parent = NULL;
	cleanup_close int pfd = -1;
	const char *base;

	if (umount2(merged, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return sw_error_set_errno(err, errno, "unmount %s", merged);
	base = strrchr(workdir, '/');
	parent = base ? sw_xstrndup(workdir, base == workdir ? 1 : (size_t)(base - workdir)) : sw_xstrdup(".");
	base = base ? base + 1 : workdir;
	pfd = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return errno == ENOENT ? 0 : sw_error_set_errno(err, errno, "open %s", parent);
	if (rt_remove_tree(pfd, base, err) < 0)
		return sw_error_wrap(err, "remove %s", workdir);
	return 0;
}

/* ---- users -------------------------------------------------------------- */

#define ID_MAX 2147483647L /* what runc accepts */
#define PASSWD_MAX (16u << 20)

/* A uid/gid in decimal, 0..ID_MAX; -1 if s is not one. */
static long parse_id(const char *s)
{
	char *end;
	long v;

	if (!*s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > ID_MAX)
		return -1;
	return v;
}

/* ROOTFS/rel as a string, read through the root (a symlink in the image
 * resolves inside it); *out NULL when missing. */
static int read_in_root(int rootfd, const char *rel, char **out, sw_error **err)
{
	cleanup_close int fd = sw_path_open_under(rootfd, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0,
	                                          SW_RESOLVE_IN_ROOT, err);
	sw_buf b = SW_BUF_INIT(PASSWD_MAX);
	struct stat st;
	char chunk[16384];

	*out = NULL;
	if (fd < 0) {
		if (sw_error_code(*err) == SW_ENOTFOUND) {
			sw_error_clear(err);
			return 0;
		}
		return fd;
	}
	if (fstat(fd, &st) < 0)
		return sw_error_set_errno(err, errno, "stat /%s", rel);
	if (!S_ISREG(st.st_mode))
		return sw_error_set(err, SW_EINVALID, "/%s is not a regular file", rel);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sw_buf_release(&b);
			return sw_error_set_errno(err, errno, "read /%s", rel);
		}
		if (n == 0)
			break;
		if (sw_buf_add(&b, chunk, (size_t)n, err) < 0) {
			sw_buf_release(&b);
			return sw_error_wrap(err, "/%s", rel);
		}
	}
	*out = sw_buf_detach(&b);
	return 0;
}

/* Finds the first line of a passwd/group file whose name is key or, when
 * key is a number, whose id field is that number (moby/sys/user's rule).
 * id_field: 2 in both files; gid_field: 3 in passwd, -1 in group. */
static bool find_entry(const char *text, const char *key, long *id, long *gid)
{
	long want = parse_id(key);

	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		cleanup_free char *copy = sw_xstrndup(line, len);
		char *fields[4] = { 0 };
		char *save = copy;
		size_t nf = 0;

		line = nl ? nl + 1 : NULL;
		for (char *f; nf < 4 && (f = strsep(&save, ":"));)
			fields[nf++] = f;
		if (nf < 3 || !*fields[0])
			continue;
		long fid = parse_id(fields[2]);
		if (fid < 0)
			continue;
		if (strcmp(fields[0], key) && !(want >= 0 && fid == want))
			continue;
		*id = fid;
		if (gid) {
			long g = nf > 3 ? parse_id(fields[3]) : -1;
			*gid = g < 0 ? 0 : g;
		}
		return true;
	}
	return false;
}

int sw_rootfs_lookup_user(const char *rootfs, const char *spec, uid_t *uid, gid_t *gid, sw_error **err)
{
	cleanup_free char *user = NULL, *passwd = NULL, *group = NULL;
	cleanup_close int rootfd = -1;
	const char *grp = NULL;
	long u = 0, g = 0;
	char *colon;
	int r;

	if (!spec || !*spec) {
		*uid = 0;
		*gid = 0;
		return 0;
	}
	user = sw_xstrdup(spec);
	if ((colon = strchr(user, ':'))) {
		*colon = '\0';
		grp = colon + 1;
		if (!*grp)
			return sw_error_set(err, SW_EINVALID, "user '%s': empty group", spec);
	}
	if (!*user)
		return sw_error_set(err, SW_EINVALID, "user '%s': empty user name", spec);
	rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return sw_error_set_errno(err, errno, "open %s", rootfs);
	if ((r = read_in_root(rootfd, "etc/passwd", &passwd, err)) < 0)
		return sw_error_wrap(err, "user '%s'", spec);
	if (!passwd || !find_entry(passwd, user, &u, &g)) {
		u = parse_id(user);
		if (u < 0)
			return sw_error_set(err, SW_ENOTFOUND, "unable to find user %s: no matching entries in passwd file",
			                    user);
		g = 0;
	}
	if (grp) {
		if ((r = read_in_root(rootfd, "etc/group", &group, err)) < 0)
			return sw_error_wrap(err, "user '%s'", spec);
		if (!group || !find_entry(group, grp, &g, NULL)) {
			g = parse_id(grp);
			if (g < 0)
				return sw_error_set(err, SW_ENOTFOUND,
				                    "unable to find group %s: no matching entries in group file", grp);
		}
	}
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 0;
}
