/*
 * path.h - path helpers that keep every access inside its root.
 *
 * Lexical helpers (sw_path_clean, sw_path_join_under) never touch the file
 * system. sw_path_open_under resolves in the kernel with openat2(2), so a
 * symlink or ".." can never lead outside the root, whatever races with it.
 */
#ifndef SLIPWAY_PATH_H
#define SLIPWAY_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "slipway/error.h"

/* Lexical clean, as Go's path.Clean: "a//b/../c/." -> "a/c", "" -> ".". */
char *sw_path_clean(const char *p);
/* The same for the n bytes at p, which may hold NUL bytes; *outlen (if not
 * NULL) gets the length of the result. */
char *sw_path_cleann(const char *p, size_t n, size_t *outlen);

/* True if the cleaned relative path p stays inside its root ("a/../b" yes,
 * "../a" no, "/a" no). */
bool sw_path_is_beneath(const char *p);

/* root + "/" + clean(rel). rel must be relative and must not climb out of
 * root with ".."; otherwise SW_EESCAPE naming rel. */
int sw_path_join_under(char **out, const char *root, const char *rel, sw_error **err);

enum sw_resolve {
	/* refuse any path that leaves the root (".." past it, absolute
	 * symlinks, symlinks pointing outside): SW_EESCAPE */
	SW_RESOLVE_BENEATH = 0,
	/* treat the root as "/" for the walk: absolute symlinks and ".." are
	 * resolved inside it, as a chroot would (for image root filesystems) */
	SW_RESOLVE_IN_ROOT = 1 << 0,
	/* refuse every symlink on the way */
	SW_RESOLVE_NO_SYMLINKS = 1 << 1,
};

/* openat2(rootfd, rel, flags, mode) constrained by resolve (a mask of
 * enum sw_resolve). Returns the fd or a negative code with *err set. */
int sw_path_open_under(int rootfd, const char *rel, int flags, mode_t mode,
                       unsigned resolve, sw_error **err);

/* Reads a whole file of at most max bytes (SW_ETOOBIG beyond). *out is
 * NUL-terminated; *len excludes the NUL. */
int sw_read_file(char **out, size_t *len, const char *path, size_t max, sw_error **err);

/* write(2) until everything is written (EINTR retried); -1 with errno set
 * on failure. */
int sw_write_all(int fd, const void *data, size_t len);

/* Writes data to path through a temp file in the same folder, fsync and
 * rename: readers see the old or the new content, never a half. */
int sw_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, sw_error **err);

#endif
