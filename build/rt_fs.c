/*
 * rt_fs.c - the step runtime's file-system helpers (step_runtime_int.h):
 * folder walks one O_NOFOLLOW component at a time, rm -rf that stays in its
 * tree and its mount, xattrs of entries named in a folder fd.
 *
 * These work on trees slipway made (layer folders, overlay work dirs) whose
 * content came from hostile images: nothing here follows a symlink.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "slipway/cleanup.h"
#include "slipway/mem.h"
#include "step_runtime_int.h"

bool rt_is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

bool rt_keep_xattr(const char *name)
{
	if (!strncmp(name, "user.", 5))
		return strncmp(name, "user.overlay.", 13) != 0;
	return !strcmp(name, "security.capability");
}

/* Empties the folder dfd (on device dev). */
static int empty_dir(int dfd, dev_t dev, int depth, const char *what, sw_error **err)
{
	cleanup_dir DIR *d = NULL;
	struct dirent *de;
	int fd;

	if (depth > 4 * RT_MAX_DEPTH)
		return sw_error_set(err, SW_ETOOBIG, "remove %s: folders nested too deep", what);
	fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return sw_error_set_errno(err, e, "remove %s: read folder", what);
	}
	while ((de = readdir(d))) {
		struct stat st;
		int r;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(dfd, de->d_name, 0) == 0 || errno == ENOENT)
			continue;
		if (errno != EISDIR)
			return sw_error_set_errno(err, errno, "remove %s: unlink %s", what, de->d_name);
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return sw_error_set_errno(err, errno, "remove %s: stat %s", what, de->d_name);
		if (st.st_dev != dev)
			return sw_error_set(err, SW_EFAIL, "remove %s: %s is a mount point; not removed", what,
			                    de->d_name);
		cleanup_close int sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			return sw_error_set_errno(err, errno, "remove %s: open %s", what, de->d_name);
		if ((r = empty_dir(sub, dev, depth + 1, what, err)) < 0)
			return r;
		if (unlinkat(dfd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
			return sw_error_set_errno(err, errno, "remove %s: rmdir %s", what, de->d_name);
	}
	return 0;
}

int rt_remove_tree(int dirfd, const char *name, sw_error **err)
{
	struct stat st, parent;
	int r;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : sw_error_set_errno(err, errno, "remove %s: stat", name);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
			return sw_error_set_errno(err, errno, "remove %s", name);
		return 0;
	}
	if (fstat(dirfd, &parent) < 0)
		return sw_error_set_errno(err, errno, "remove %s: stat parent", name);
	if (st.st_dev != parent.st_dev)
		return sw_error_set(err, SW_EFAIL, "remove %s: it is a mount point; not removed", name);
	{
		cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return sw_error_set_errno(err, errno, "remove %s: open", name);
		if ((r = empty_dir(fd, st.st_dev, 0, name, err)) < 0)
			return r;
	}
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return sw_error_set_errno(err, errno, "remove %s", name);
	return 0;
}

static int open_component(int cur, const char *comp, bool create, int flags, const char *rel,
                          sw_error **err)
{
	for (int tries = 0;; tries++) {
		int fd = openat(cur, comp, flags | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;

		if (fd >= 0)
			return fd;
		if (errno == ENOENT && create && tries == 0) {
			if (mkdirat(cur, comp, 0755) < 0 && errno != EEXIST)
				return sw_error_set_errno(err, errno, "create folder %s in %s", comp, rel);
			continue;
		}
		if (errno == ENOENT)
			return sw_error_set(err, SW_ENOTFOUND, "%s: no such folder", rel);
		if ((errno == ENOTDIR || errno == ELOOP) && fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (S_ISLNK(st.st_mode))
				return sw_error_set(err, SW_EESCAPE, "%s: %s is a symlink; not followed", rel, comp);
			return sw_error_set(err, SW_EINVALID, "%s: %s is not a folder", rel, comp);
		}
		return sw_error_set_errno(err, errno, "open folder %s", rel);
	}
}

int rt_open_dir(int dirfd, const char *rel, bool create, int flags, sw_error **err)
{
	cleanup_free char *copy = NULL;
	cleanup_close int cur = -1;
	char *save = NULL;
	int depth = 0;

	if (!rel || !*rel || !strcmp(rel, ".")) {
		int fd = openat(dirfd, ".", flags | O_DIRECTORY | O_CLOEXEC);
		return fd >= 0 ? fd : sw_error_set_errno(err, errno, "open folder");
	}
	copy = sw_xstrdup(rel);
	for (char *comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		char *next = save && *save ? save : NULL;
		int fd;

		if (!strcmp(comp, "..") || !strcmp(comp, "."))
			return sw_error_set(err, SW_EESCAPE, "%s: '%s' component refused", rel, comp);
		if (++depth > RT_MAX_DEPTH)
			return sw_error_set(err, SW_ETOOBIG, "%s: folders nested deeper than %d", rel, RT_MAX_DEPTH);
		fd = open_component(cur >= 0 ? cur : dirfd, comp, create, next ? O_PATH : flags, rel, err);
		if (fd < 0)
			return fd;
		if (cur >= 0)
			close(cur);
		cur = fd;
	}
	return steal_fd(&cur);
}

ssize_t rt_lgetxattr_at(int dirfd, const char *name, const char *attr, void *value, size_t size)
{
	char path[4200];

	if (!name) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", dirfd);
		return getxattr(path, attr, value, size);
	}
	if ((size_t)snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dirfd, name) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return lgetxattr(path, attr, value, size);
}

ssize_t rt_llistxattr_at(int dirfd, const char *name, char *list, size_t size)
{
	char path[4200];

	if (!name) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", dirfd);
		return listxattr(path, list, size);
	}
	if ((size_t)snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dirfd, name) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return llistxattr(path, list, size);
}
