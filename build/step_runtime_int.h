/*
 * step_runtime_int.h - helpers shared by the step runtime's files
 * (layer_cache.c, rootfs.c, rootfs_diff.c, runc.c): confined folder walks,
 * removal that never leaves its tree, and the mark on mount-point stubs.
 * Private to build/.
 */
#ifndef SLIPWAY_STEP_RUNTIME_INT_H
#define SLIPWAY_STEP_RUNTIME_INT_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "slipway/error.h"
#include "step_runtime.h"

/* Folders nested deeper than this are refused (layer_source.c agrees). */
#define RT_MAX_DEPTH 256

/*
 * The xattr sw_run_container puts on the mount points it creates in a root
 * filesystem (value "MODE:UID:GID" in octal/decimal, as created), so
 * sw_rootfs_diff can leave them out of the layer while they are unchanged.
 * RUN has no CAP_SYS_ADMIN, so a step cannot forge it; it is a trusted.*
 * name, so it never enters a layer (only user.* and security.capability do).
 */
#define RT_STUB_XATTR "trusted.slipway.stub"

/* overlayfs' marks in lower and upper dirs */
#define RT_OVL_OPAQUE "trusted.overlay.opaque"
#define RT_WH_PREFIX ".wh."
#define RT_WH_OPAQUE ".wh..wh..opq"

/* A whiteout as overlayfs stores it: a character device 0:0. */
bool rt_is_whiteout(const struct stat *st);

/* True for the xattrs a layer may carry: user.* (but not user.overlay.*)
 * and security.capability. Never trusted.* (overlayfs bookkeeping). */
bool rt_keep_xattr(const char *name);

/* rm -rf of name under dirfd: never follows a symlink, never crosses into
 * another mount (a still-mounted folder is an error, not a descent). A
 * missing name is not an error. */
int rt_remove_tree(int dirfd, const char *name, sw_error **err);

/* Opens the folder rel (a cleaned relative path, NULL or "" for dirfd
 * itself) beneath dirfd one component at a time with O_NOFOLLOW, so no
 * symlink is ever followed. With create, missing folders are made with
 * mode 0755 (root-owned: we run as root). flags: O_PATH or O_RDONLY.
 * SW_EESCAPE if a component is a symlink, SW_EINVALID if it is not a
 * folder, SW_ENOTFOUND if missing and !create. */
int rt_open_dir(int dirfd, const char *rel, bool create, int flags, sw_error **err);

/* getxattr/listxattr of name in the folder dirfd without following a
 * symlink (through /proc/self/fd, which also works for O_PATH fds).
 * Return the length, or -1 with errno set. */
ssize_t rt_lgetxattr_at(int dirfd, const char *name, const char *attr, void *value, size_t size);
ssize_t rt_llistxattr_at(int dirfd, const char *name, char *list, size_t size);

#endif
