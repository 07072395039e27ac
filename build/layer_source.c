/*
 * layer_source.c - where layer entries come from: a tar from hostile hands
 * (a rootfs, an imported layer) or a folder tree on this host.
 *
 * Reading a tar never creates anything on the host: entries, device nodes
 * included, stay entries, and file contents go to one unlinked spool file
 * owned by the layer. Path checks (absolute, "..", escapes through links)
 * happen in layer_clean_path and layer_prepare.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "image_store_int.h"
#include "layer_int.h"
#include "slipway/cleanup.h"
#include "slipway/mem.h"

#define TAR_MAX_ENTRIES 1000000
#define TREE_MAX_DEPTH 256

/* ---- tars --------------------------------------------------------------- */

static int spool_entry(sw_layer *l, struct archive *a, int64_t *offset, int64_t *size, const char *what,
                       const char *path, sw_error **err)
{
	char buf[65536];
	off_t start = lseek(l->spool_fd, 0, SEEK_END);
	int64_t total = 0;

	if (start < 0)
		return sw_error_set_errno(err, errno, "%s: spool", what);
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, sizeof(buf));
		if (n < 0)
			return sw_error_set(err, SW_EINVALID, "%s: %s: %s", what, path, archive_error_string(a));
		if (n == 0)
			break;
		for (la_ssize_t off = 0; off < n;) {
			ssize_t w = write(l->spool_fd, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return sw_error_set_errno(err, errno, "%s: spool %s", what, path);
			off += w;
		}
		total += n;
	}
	*offset = (int64_t)start;
	*size = total;
	return 0;
}

int sw_layer_read_tar(sw_layer *l, sw_image_store *s, int fd, const char *what, sw_error **err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	size_t count = 0;
	int r = 0;

	if (l->spool_fd < 0) {
		cleanup_free char *rel = NULL;
		int sfd = store_writer_lock(s, err); /* prune leaves .tmp alone meanwhile */
		if (sfd == 0)
			sfd = store_tmpfile(s, "spool", &rel, err);
		if (sfd < 0) {
			archive_read_free(a);
			return sfd;
		}
		unlinkat(s->rootfd, rel, 0); /* lives as long as the fd */
		l->spool_fd = sfd;
	}
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
		r = sw_error_set(err, SW_EINVALID, "%s: %s", what, archive_error_string(a));
		goto out;
	}
	for (;;) {
		sw_layer_entry e = { .src_fd = -1, .src_dirfd = -1 };
		const char *path, *hl;
		const char *name;
		size_t nx;
		int rh = archive_read_next_header(a, &ae);

		if (rh == ARCHIVE_EOF)
			break;
		if (rh != ARCHIVE_OK && rh != ARCHIVE_WARN) {
			r = sw_error_set(err, SW_EINVALID, "%s: not a valid tar archive: %s", what, archive_error_string(a));
			goto out;
		}
		if (++count > TAR_MAX_ENTRIES) {
			r = sw_error_set(err, SW_ETOOBIG, "%s: more than %d entries", what, TAR_MAX_ENTRIES);
			goto out;
		}
		path = archive_entry_pathname(ae);
		if (!path) {
			r = sw_error_set(err, SW_EINVALID, "%s: entry %zu has no readable path", what, count);
			goto out;
		}
		e.path = path;
		e.mode = (uint32_t)(archive_entry_perm(ae) & 07777);
		if (archive_entry_uid(ae) < 0 || archive_entry_uid(ae) > UINT32_MAX || archive_entry_gid(ae) < 0 ||
		    archive_entry_gid(ae) > UINT32_MAX) {
			r = sw_error_set(err, SW_EINVALID, "%s: %s: uid or gid out of range", what, path);
			goto out;
		}
		e.uid = (uint32_t)archive_entry_uid(ae);
		e.gid = (uint32_t)archive_entry_gid(ae);
		e.mtime = (int64_t)archive_entry_mtime(ae);
		hl = archive_entry_hardlink(ae);
		if (hl) {
			e.type = SW_LAYER_HARDLINK;
			e.link = hl;
		} else {
			switch (archive_entry_filetype(ae)) {
			case AE_IFREG:
				e.type = SW_LAYER_FILE;
				e.src_fd = l->spool_fd;
				if ((r = spool_entry(l, a, &e.src_offset, &e.size, what, path, err)) < 0)
					goto out;
				break;
			case AE_IFDIR:
				e.type = SW_LAYER_DIR;
				break;
			case AE_IFLNK:
				e.type = SW_LAYER_SYMLINK;
				e.link = archive_entry_symlink(ae);
				if (!e.link) {
					r = sw_error_set(err, SW_EINVALID, "%s: symlink %s has no readable target", what, path);
					goto out;
				}
				break;
			case AE_IFCHR:
			case AE_IFBLK:
				e.type = archive_entry_filetype(ae) == AE_IFCHR ? SW_LAYER_CHAR : SW_LAYER_BLOCK;
				e.rdev_major = (uint32_t)archive_entry_rdevmajor(ae);
				e.rdev_minor = (uint32_t)archive_entry_rdevminor(ae);
				break;
			case AE_IFIFO:
				e.type = SW_LAYER_FIFO;
				break;
			default:
				r = sw_error_set(err, SW_EINVALID, "%s: %s: unsupported entry type", what, path);
				goto out;
			}
		}
		if ((r = sw_layer_add(l, &e, err)) < 0) {
			r = sw_error_wrap(err, "%s", what);
			goto out;
		}
		nx = (size_t)archive_entry_xattr_reset(ae);
		for (size_t i = 0; i < nx && l->last; i++) {
			const void *value;
			size_t len;
			if (archive_entry_xattr_next(ae, &name, &value, &len) != ARCHIVE_OK)
				break;
			if ((r = sw_layer_add_xattr(l, name, value, len, err)) < 0) {
				r = sw_error_wrap(err, "%s", what);
				goto out;
			}
		}
	}
	if ((r = layer_prepare(l, err)) < 0)
		r = sw_error_wrap(err, "%s", what);
out:
	archive_read_free(a);
	return r;
}

int layer_check_tar(sw_image_store *s, const sw_descriptor *blob, sw_error **err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	size_t count = 0;
	int fd, r = 0;

	if ((fd = sw_image_store_open_blob(s, blob->digest, NULL, err)) < 0) {
		archive_read_free(a);
		return fd;
	}
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
		r = sw_error_set(err, SW_EINVALID, "layer %s: not a tar archive: %s", blob->digest, archive_error_string(a));
		goto out;
	}
	for (;;) {
		cleanup_free char *clean = NULL, *lclean = NULL;
		const char *path, *hl;
		int rh = archive_read_next_header(a, &ae);

		if (rh == ARCHIVE_EOF)
			break;
		if (rh != ARCHIVE_OK && rh != ARCHIVE_WARN) {
			r = sw_error_set(err, SW_EINVALID, "layer %s: not a valid tar archive: %s", blob->digest,
			                 archive_error_string(a));
			goto out;
		}
		if (++count > TAR_MAX_ENTRIES) {
			r = sw_error_set(err, SW_ETOOBIG, "layer %s: more than %d entries", blob->digest, TAR_MAX_ENTRIES);
			goto out;
		}
		path = archive_entry_pathname(ae);
		hl = archive_entry_hardlink(ae);
		if (!path) {
			r = sw_error_set(err, SW_EINVALID, "layer %s: entry %zu has no readable path", blob->digest, count);
			goto out;
		}
		if ((r = layer_clean_path(&clean, path, "layer entry", err)) < 0 ||
		    (hl && (r = layer_clean_path(&lclean, hl, "hard link target", err)) < 0)) {
			r = sw_error_wrap(err, "layer %s", blob->digest);
			goto out;
		}
	}
out:
	archive_read_free(a);
	close(fd);
	return r;
}

/* ---- trees -------------------------------------------------------------- */

static bool keep_xattr(const char *name)
{
	/* never overlayfs' trusted.* bookkeeping or the host's SELinux labels */
	return !strncmp(name, "user.", 5) || !strcmp(name, "security.capability");
}

static int add_xattrs(sw_layer *l, int parent, const char *name, const char *path, sw_error **err)
{
	char proc[64], list[65536];
	cleanup_free char *full = NULL;
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", parent);
	full = sw_xasprintf("%s/%s", proc, name);
	n = llistxattr(full, list, sizeof(list));
	if (n < 0)
		return (errno == ENOTSUP || errno == ENODATA) ? 0 : sw_error_set_errno(err, errno, "list xattrs of %s", path);
	for (char *p = list; p < list + n; p += strlen(p) + 1) {
		char value[65536];
		ssize_t len;
		if (!keep_xattr(p))
			continue;
		len = lgetxattr(full, p, value, sizeof(value));
		if (len < 0)
			continue; /* removed meanwhile */
		if (sw_layer_add_xattr(l, p, value, (size_t)len, err) < 0)
			return SW_EINVALID;
	}
	return 0;
}

static int walk(sw_layer *l, int rootfd, int here, const char *rel, const char *prefix, int depth, sw_error **err)
{
	cleanup_dir DIR *d = NULL;
	struct dirent *de;
	int fd;

	if (depth > TREE_MAX_DEPTH)
		return sw_error_set(err, SW_ETOOBIG, "%s: folders nested deeper than %d", rel, TREE_MAX_DEPTH);
	fd = openat(here, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return sw_error_set_errno(err, errno, "read folder %s", *rel ? rel : ".");
	}
	while ((de = readdir(d))) {
		cleanup_free char *crel = NULL, *path = NULL;
		char target[4097];
		sw_layer_entry e = { .src_fd = -1, .src_dirfd = -1 };
		struct stat st;
		int r;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		crel = *rel ? sw_xasprintf("%s/%s", rel, de->d_name) : sw_xstrdup(de->d_name);
		path = prefix && *prefix ? sw_xasprintf("%s/%s", prefix, crel) : sw_xstrdup(crel);
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return sw_error_set_errno(err, errno, "stat %s", crel);
		e.path = path;
		e.mode = st.st_mode & 07777;
		e.uid = st.st_uid;
		e.gid = st.st_gid;
		e.mtime = (int64_t)st.st_mtim.tv_sec;
		switch (st.st_mode & S_IFMT) {
		case S_IFREG:
			e.type = SW_LAYER_FILE;
			e.size = (int64_t)st.st_size;
			e.src_dirfd = rootfd;
			e.src_path = crel;
			break;
		case S_IFDIR:
			e.type = SW_LAYER_DIR;
			break;
		default:
			if ((r = layer_entry_special(&e, &st, dirfd(d), de->d_name, crel, target, sizeof(target), err)) < 0)
				return r;
			if (r == 0)
				continue;
		}
		if ((r = sw_layer_add(l, &e, err)) < 0)
			return r;
		if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
			l->last->dev = (uint64_t)st.st_dev;
			l->last->ino = (uint64_t)st.st_ino;
		}
		if (!S_ISLNK(st.st_mode) && (r = add_xattrs(l, dirfd(d), de->d_name, crel, err)) < 0)
			return r;
		if (S_ISDIR(st.st_mode)) {
			cleanup_close int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				return sw_error_set_errno(err, errno, "open folder %s", crel);
			if ((r = walk(l, rootfd, sub, crel, prefix, depth + 1, err)) < 0)
				return r;
		}
	}
	return 0;
}

int sw_layer_add_tree(sw_layer *l, int dirfd, const char *prefix, sw_error **err)
{
	cleanup_free char *clean = NULL;
	int r;

	if (prefix && *prefix && (r = layer_clean_path(&clean, prefix, "tree prefix", err)) < 0)
		return r;
	return walk(l, dirfd, dirfd, "", clean, 0, err);
}

int layer_entry_special(sw_layer_entry *e, const struct stat *st, int dfd, const char *name,
                        const char *rel, char *target, size_t tsize, sw_error **err)
{
	switch (st->st_mode & S_IFMT) {
	case S_IFLNK: {
		ssize_t n = readlinkat(dfd, name, target, tsize - 1);
		if (n < 0)
			return sw_error_set_errno(err, errno, "read symlink %s", rel);
		target[n] = '\0';
		e->type = SW_LAYER_SYMLINK;
		e->link = target;
		return 1;
	}
	case S_IFCHR:
	case S_IFBLK:
		e->type = S_ISCHR(st->st_mode) ? SW_LAYER_CHAR : SW_LAYER_BLOCK;
		e->rdev_major = major(st->st_rdev);
		e->rdev_minor = minor(st->st_rdev);
		return 1;
	case S_IFIFO:
		e->type = SW_LAYER_FIFO;
		return 1;
	default:
		return 0; /* sockets have no tar form */
	}
}
