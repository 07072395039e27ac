/*
 * layer_cache.c - image layers unpacked once into STATE/layers/<hex of
 * diff_id>/, in the form overlayfs reads as lower dirs.
 *
 * A layer is unpacked into STATE/layers/.tmp-<hex>-<pid>-<random>/ while its
 * uncompressed stream is hashed, synced, then renamed into place with
 * RENAME_NOREPLACE: a crash never leaves half a layer under its name, a
 * diff_id mismatch keeps nothing, and of two processes unpacking the same
 * layer one wins the rename and the other drops its copy and uses the
 * winner's. Temp folders of dead processes are removed on open.
 *
 * Extraction is confined to the layer folder: every parent is opened one
 * component at a time with O_NOFOLLOW (a symlink of the archive is never
 * followed, not even one pointing inside), names are never "..", hard
 * links must name an entry already unpacked in the same folder. What is
 * kept: uid/gid, mode (setuid/setgid/sticky), mtime, user.* and
 * security.capability xattrs, hard links as hard links. Whiteouts become
 * overlayfs' form: ".wh.x" a character device 0:0 named x, ".wh..wh..opq"
 * the xattr trusted.overlay.opaque=y on its folder. Device nodes other than
 * whiteouts are skipped with one warning per layer: a build has no use for
 * them (runc's device cgroup denies them inside containers anyway) and a
 * layer folder on the host should hold no door to the host's devices.
 *
 * Not here: removing layers no image needs any more (nothing in the cache
 * knows which overlays are mounted over them).
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "layer_int.h"
#include "slipway/cleanup.h"
#include "slipway/digest.h"
#include "slipway/log.h"
#include "slipway/mem.h"
#include "slipway/statedir.h"
#include "step_runtime_int.h"

#define CACHE_MAX_ENTRIES 1000000
#define CACHE_MAX_TARGET 4096
#define TMP_PREFIX ".tmp-"

struct sw_layer_cache {
	char *dir;          /* STATE/layers */
	int dirfd;
	sw_image_store *store;
	char **dirs;        /* folders handed out, owned here */
	size_t ndirs;
};

/* ---- open, with the leftovers of dead processes removed ------------------ */

static void remove_stale(sw_layer_cache *c)
{
	cleanup_dir DIR *d = NULL;
	struct dirent *de;
	int fd = openat(c->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		const char *p = de->d_name;
		cleanup_error sw_error *err = NULL;
		long pid;
		char *end;

		/* .tmp-<64 hex>-<pid>-<random> */
		if (strncmp(p, TMP_PREFIX, strlen(TMP_PREFIX)) || strlen(p) < strlen(TMP_PREFIX) + 66)
			continue;
		pid = strtol(p + strlen(TMP_PREFIX) + 65, &end, 10);
		if (pid <= 0 || *end != '-' || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		if (rt_remove_tree(c->dirfd, p, &err) < 0)
			sw_log_error(err, "layer cache: removing a stale temp folder");
	}
}

int sw_layer_cache_open(sw_layer_cache **out, const char *state_dir, sw_image_store *store, sw_error **err)
{
	cleanup_free char *dir = sw_xasprintf("%s/layers", state_dir);
	sw_layer_cache *c;
	int fd, r;

	if ((r = sw_mkdir_p(dir, 0700, 0700, err)) < 0)
		return sw_error_wrap(err, "layer cache");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sw_error_set_errno(err, errno, "layer cache: open %s", dir);
	c = sw_xcalloc(1, sizeof(*c));
	c->dir = steal_pointer(&dir);
	c->dirfd = fd;
	c->store = store;
	remove_stale(c);
	*out = c;
	return 0;
}

void sw_layer_cache_free(sw_layer_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ndirs; i++)
		free(c->dirs[i]);
	free(c->dirs);
	if (c->dirfd >= 0)
		close(c->dirfd);
	free(c->dir);
	free(c);
}

const char *sw_layer_cache_dir(const sw_layer_cache *c)
{
	return c->dir;
}

static const char *hand_out(sw_layer_cache *c, const char *hex)
{
	cleanup_free char *path = sw_xasprintf("%s/%s", c->dir, hex);

	for (size_t i = 0; i < c->ndirs; i++)
		if (!strcmp(c->dirs[i], path))
			return c->dirs[i];
	c->dirs = sw_xreallocarray(c->dirs, c->ndirs + 1, sizeof(*c->dirs));
	c->dirs[c->ndirs] = steal_pointer(&path);
	return c->dirs[c->ndirs++];
}

/* ---- the stream: blob -> decompressed (hashed) -> tar entries ------------ */

struct stream {
	int fd;
	sw_sha256 *blob_hash;
	sw_sha256 *diff_hash;
	struct archive *outer; /* the blob, decompressed, as one raw entry */
	char in[65536];
	char out[65536];
	bool outer_eof;
};

static la_ssize_t blob_read_cb(struct archive *a, void *payload, const void **buf)
{
	struct stream *s = payload;
	ssize_t n;

	do
		n = read(s->fd, s->in, sizeof(s->in));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		archive_set_error(a, errno, "read the layer blob");
		return -1;
	}
	sw_sha256_update(s->blob_hash, s->in, (size_t)n);
	*buf = s->in;
	return n;
}

static la_ssize_t tar_read_cb(struct archive *a, void *payload, const void **buf)
{
	struct stream *s = payload;
	la_ssize_t n;

	if (s->outer_eof)
		return 0;
	n = archive_read_data(s->outer, s->out, sizeof(s->out));
	if (n < 0) {
		archive_set_error(a, EIO, "decompress: %s", archive_error_string(s->outer));
		return -1;
	}
	if (n == 0)
		s->outer_eof = true;
	sw_sha256_update(s->diff_hash, s->out, (size_t)n);
	*buf = s->out;
	return n;
}

/* ---- unpacking one entry ------------------------------------------------ */

struct dir_time {
	char *path;
	struct timespec mtime;
};

struct unpack {
	int rootfd;            /* the temp layer folder */
	const char *what;      /* the blob digest, for messages */
	char *parent_path;     /* the last parent opened, and its fd */
	int parent_fd;
	struct dir_time *dirs; /* mtimes applied last, deepest first */
	size_t ndirs, capdirs;
	size_t skipped_devices;
	char *first_skipped;
};

static void unpack_release(struct unpack *u)
{
	free(u->parent_path);
	if (u->parent_fd >= 0)
		close(u->parent_fd);
	for (size_t i = 0; i < u->ndirs; i++)
		free(u->dirs[i].path);
	free(u->dirs);
	free(u->first_skipped);
}

/* The folder holding path (created with 0755 parents if missing); the fd is
 * owned by u. */
static int parent_of(struct unpack *u, const char *parent, sw_error **err)
{
	const char *p = parent ? parent : "";
	int fd;

	if (u->parent_path && !strcmp(u->parent_path, p))
		return u->parent_fd;
	fd = rt_open_dir(u->rootfd, p, true, O_PATH, err);
	if (fd < 0)
		return fd;
	if (u->parent_fd >= 0)
		close(u->parent_fd);
	free(u->parent_path);
	u->parent_fd = fd;
	u->parent_path = sw_xstrdup(p);
	return fd;
}

static int set_opaque(int pfd, const char *name, const char *path, sw_error **err)
{
	char proc[4200];

	/* the folder itself: through the magic link; a child: not following it */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d%s%s", pfd, name ? "/" : "", name ? name : "");
	if ((name ? lsetxattr(proc, RT_OVL_OPAQUE, "y", 1, 0) : setxattr(proc, RT_OVL_OPAQUE, "y", 1, 0)) < 0)
		return sw_error_set_errno(err, errno, "mark %s opaque", path);
	return 0;
}

/* ".wh.name" in folder pfd: hides name of the layers below. */
static int whiteout(struct unpack *u, int pfd, const char *name, const char *path, sw_error **err)
{
	struct stat st;

	/* the opaque marker without its ".wh." prefix: ".wh..opq" */
	if (!strcmp(name, &RT_WH_OPAQUE[sizeof(RT_WH_PREFIX) - 1]))
		return u->parent_path && *u->parent_path ? set_opaque(pfd, NULL, path, err) : 0;
	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return sw_error_set(err, SW_EINVALID, "%s: invalid whiteout", path);
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		/* the same layer has name too: it stays, the lower one goes */
		if (S_ISDIR(st.st_mode))
			return set_opaque(pfd, name, path, err);
		return 0;
	}
	if (errno != ENOENT)
		return sw_error_set_errno(err, errno, "%s: stat", path);
	if (mknodat(pfd, name, S_IFCHR | 0, makedev(0, 0)) < 0)
		return sw_error_set_errno(err, errno, "%s: create the whiteout", path);
	return 0;
}

static int apply_xattrs(struct archive_entry *ae, int fd, const char *path, sw_error **err)
{
	const char *name;
	const void *value;
	size_t len;

	archive_entry_xattr_reset(ae);
	while (archive_entry_xattr_next(ae, &name, &value, &len) == ARCHIVE_OK) {
		if (!rt_keep_xattr(name))
			continue; /* never overlayfs' trusted.* marks from an archive */
		if (fsetxattr(fd, name, value, len, 0) < 0)
			return sw_error_set_errno(err, errno, "%s: set xattr %s", path, name);
	}
	return 0;
}

static int set_meta(int fd, struct archive_entry *ae, mode_t perm, const char *path, bool times,
                    sw_error **err)
{
	struct timespec ts[2];

	if (fchown(fd, (uid_t)archive_entry_uid(ae), (gid_t)archive_entry_gid(ae)) < 0)
		return sw_error_set_errno(err, errno, "%s: chown", path);
	/* after chown, which clears setuid/setgid */
	if (fchmod(fd, perm) < 0)
		return sw_error_set_errno(err, errno, "%s: chmod", path);
	if (apply_xattrs(ae, fd, path, err) < 0)
		return SW_ESYSTEM;
	if (times) {
		ts[0].tv_sec = ts[1].tv_sec = archive_entry_mtime(ae);
		ts[0].tv_nsec = ts[1].tv_nsec = archive_entry_mtime_nsec(ae);
		if (futimens(fd, ts) < 0)
			return sw_error_set_errno(err, errno, "%s: set mtime", path);
	}
	return 0;
}

static int write_file(struct archive *a, struct archive_entry *ae, int pfd, const char *name, mode_t perm,
                      const char *path, sw_error **err)
{
	cleanup_close int fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	char buf[65536];

	if (fd < 0)
		return sw_error_set_errno(err, errno, "%s: create", path);
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, sizeof(buf));
		if (n < 0)
			return sw_error_set(err, SW_EINVALID, "%s: %s", path, archive_error_string(a));
		if (n == 0)
			break;
		for (la_ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return sw_error_set_errno(err, errno, "%s: write", path);
			off += w;
		}
	}
	return set_meta(fd, ae, perm, path, true, err);
}

static int make_dir(struct unpack *u, struct archive_entry *ae, int pfd, const char *name, mode_t perm,
                    bool over_whiteout, const char *path, sw_error **err)
{
	cleanup_close int fd = -1;
	int r;

	if (mkdirat(pfd, name, 0700) < 0 && errno != EEXIST)
		return sw_error_set_errno(err, errno, "%s: mkdir", path);
	fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sw_error_set_errno(err, errno, "%s: open", path);
	if ((r = set_meta(fd, ae, perm, path, false, err)) < 0)
		return r;
	if (over_whiteout && fsetxattr(fd, RT_OVL_OPAQUE, "y", 1, 0) < 0)
		return sw_error_set_errno(err, errno, "mark %s opaque", path);
	if (u->ndirs == u->capdirs) {
		u->capdirs = u->capdirs ? u->capdirs * 2 : 64;
		u->dirs = sw_xreallocarray(u->dirs, u->capdirs, sizeof(*u->dirs));
	}
	u->dirs[u->ndirs].path = sw_xstrdup(path);
	u->dirs[u->ndirs].mtime.tv_sec = archive_entry_mtime(ae);
	u->dirs[u->ndirs].mtime.tv_nsec = archive_entry_mtime_nsec(ae);
	u->ndirs++;
	return 0;
}

static int hard_link(struct unpack *u, const char *target, int pfd, const char *name, const char *path,
                     sw_error **err)
{
	cleanup_free char *t = NULL;
	cleanup_close int tfd = -1;
	const char *slash, *tname;
	struct stat st;
	int r;

	if ((r = layer_clean_path(&t, target, "hard link target", err)) < 0)
		return sw_error_wrap(err, "%s", path);
	if (!t)
		return sw_error_set(err, SW_EINVALID, "hard link %s points at the root folder", path);
	slash = strrchr(t, '/');
	if (slash) {
		cleanup_free char *tp = sw_xstrndup(t, (size_t)(slash - t));
		tfd = rt_open_dir(u->rootfd, tp, false, O_PATH, err);
		tname = slash + 1;
	} else {
		tfd = openat(u->rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		tname = t;
	}
	if (tfd < 0 || fstatat(tfd, tname, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (tfd >= 0 || sw_error_code(*err) == SW_ENOTFOUND) {
			sw_error_clear(err);
			return sw_error_set(err, SW_EESCAPE, "hard link %s points at %s, which is not in the layer", path,
			                    target);
		}
		return sw_error_wrap(err, "hard link %s", path);
	}
	if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode) && !S_ISFIFO(st.st_mode))
		return sw_error_set(err, SW_EINVALID, "hard link %s points at %s, which is not a file", path, target);
	/* no AT_SYMLINK_FOLLOW: a symlink target is linked, never followed */
	if (linkat(tfd, tname, pfd, name, 0) < 0)
		return sw_error_set_errno(err, errno, "hard link %s to %s", path, target);
	return 0;
}

static int unpack_entry(struct unpack *u, struct archive *a, struct archive_entry *ae, sw_error **err)
{
	cleanup_free char *path = NULL;
	const char *raw = archive_entry_pathname(ae), *hl = archive_entry_hardlink(ae);
	const char *name, *slash;
	mode_t perm = (mode_t)(archive_entry_perm(ae) & 07777);
	bool over_whiteout = false;
	struct stat st;
	int pfd, r;

	if (!raw)
		return sw_error_set(err, SW_EINVALID, "an entry has no readable path");
	if ((r = layer_clean_path(&path, raw, "layer entry", err)) < 0)
		return r;
	if (!path)
		return 0; /* "./": the layer folder itself */
	if (archive_entry_uid(ae) < 0 || archive_entry_uid(ae) > INT32_MAX || archive_entry_gid(ae) < 0 ||
	    archive_entry_gid(ae) > INT32_MAX)
		return sw_error_set(err, SW_EINVALID, "%s: uid or gid out of range", path);
	slash = strrchr(path, '/');
	name = slash ? slash + 1 : path;
	{
		cleanup_free char *parent = slash ? sw_xstrndup(path, (size_t)(slash - path)) : NULL;
		if ((pfd = parent_of(u, parent, err)) < 0)
			return sw_error_wrap(err, "%s", path);
	}
	if (!strncmp(name, RT_WH_PREFIX, strlen(RT_WH_PREFIX)))
		return whiteout(u, pfd, name + strlen(RT_WH_PREFIX), path, err);

	/* tar semantics: a later entry replaces an earlier one, except that a
	 * folder over a folder only changes its attributes */
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		bool dir = !hl && archive_entry_filetype(ae) == AE_IFDIR;
		over_whiteout = rt_is_whiteout(&st);
		if (!(dir && S_ISDIR(st.st_mode))) {
			/* pfd (the cached parent) stays valid: only its child goes */
			if ((r = rt_remove_tree(pfd, name, err)) < 0)
				return sw_error_wrap(err, "%s", path);
		}
	} else if (errno != ENOENT) {
		return sw_error_set_errno(err, errno, "%s: stat", path);
	}

	if (hl)
		return hard_link(u, hl, pfd, name, path, err);
	switch (archive_entry_filetype(ae)) {
	case AE_IFREG:
		return write_file(a, ae, pfd, name, perm, path, err);
	case AE_IFDIR:
		return make_dir(u, ae, pfd, name, perm, over_whiteout, path, err);
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(ae);
		struct timespec ts[2];
		if (!target || !*target || strlen(target) > CACHE_MAX_TARGET)
			return sw_error_set(err, SW_EINVALID, "symlink %s has no target or a too long one", path);
		/* the target is stored, never followed by anything here */
		if (symlinkat(target, pfd, name) < 0)
			return sw_error_set_errno(err, errno, "%s: symlink", path);
		if (fchownat(pfd, name, (uid_t)archive_entry_uid(ae), (gid_t)archive_entry_gid(ae),
		             AT_SYMLINK_NOFOLLOW) < 0)
			return sw_error_set_errno(err, errno, "%s: chown", path);
		ts[0].tv_sec = ts[1].tv_sec = archive_entry_mtime(ae);
		ts[0].tv_nsec = ts[1].tv_nsec = archive_entry_mtime_nsec(ae);
		if (utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
			return sw_error_set_errno(err, errno, "%s: set mtime", path);
		return 0;
	}
	case AE_IFIFO: {
		cleanup_close int fd = -1;
		if (mkfifoat(pfd, name, 0600) < 0)
			return sw_error_set_errno(err, errno, "%s: mkfifo", path);
		/* O_PATH: opening a FIFO for reading would block */
		fd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return sw_error_set_errno(err, errno, "%s: open", path);
		{
			char proc[64];
			struct timespec ts[2];
			snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
			ts[0].tv_sec = ts[1].tv_sec = archive_entry_mtime(ae);
			ts[0].tv_nsec = ts[1].tv_nsec = archive_entry_mtime_nsec(ae);
			if (chown(proc, (uid_t)archive_entry_uid(ae), (gid_t)archive_entry_gid(ae)) < 0 ||
			    chmod(proc, perm) < 0 || utimensat(AT_FDCWD, proc, ts, 0) < 0)
				return sw_error_set_errno(err, errno, "%s: set attributes", path);
		}
		return 0;
	}
	case AE_IFCHR:
		if (archive_entry_rdevmajor(ae) == 0 && archive_entry_rdevminor(ae) == 0) {
			/* already overlayfs' own whiteout form */
			if (mknodat(pfd, name, S_IFCHR | 0, makedev(0, 0)) < 0)
				return sw_error_set_errno(err, errno, "%s: create the whiteout", path);
			return 0;
		}
		__attribute__((fallthrough));
	case AE_IFBLK:
		if (!u->skipped_devices++)
			u->first_skipped = sw_xstrdup(path);
		return 0;
	default:
		return sw_error_set(err, SW_EINVALID, "%s: unsupported entry type", path);
	}
}

/* Folder mtimes last: creating their children changed them. */
static int apply_dir_times(struct unpack *u, sw_error **err)
{
	for (size_t i = u->ndirs; i-- > 0;) {
		struct timespec ts[2] = { u->dirs[i].mtime, u->dirs[i].mtime };
		cleanup_close int fd = rt_open_dir(u->rootfd, u->dirs[i].path, false, O_RDONLY, err);
		if (fd < 0)
			return sw_error_wrap(err, "%s", u->dirs[i].path);
		if (futimens(fd, ts) < 0)
			return sw_error_set_errno(err, errno, "%s: set mtime", u->dirs[i].path);
	}
	return 0;
}

/* Unpacks the blob into rootfd, checking the blob digest and the diff_id. */
static int unpack_blob(sw_layer_cache *c, const sw_descriptor *blob, const char *diff_id, int rootfd,
                       sw_error **err)
{
	struct stream *s = sw_xcalloc(1, sizeof(*s));
	struct unpack u = { .rootfd = rootfd, .what = blob->digest, .parent_fd = -1 };
	struct archive *tar = NULL;
	struct archive_entry *ae;
	char got[SW_DIGEST_LEN + 1];
	size_t count = 0;
	int r = 0;

	s->fd = sw_image_store_open_blob(c->store, blob->digest, NULL, err);
	if (s->fd < 0) {
		free(s);
		return SW_ENOTFOUND;
	}
	s->blob_hash = sw_sha256_new();
	s->diff_hash = sw_sha256_new();
	s->outer = archive_read_new();
	archive_read_support_filter_gzip(s->outer);
	archive_read_support_filter_bzip2(s->outer);
	archive_read_support_filter_xz(s->outer);
	archive_read_support_filter_zstd(s->outer);
	archive_read_support_format_raw(s->outer);
	if (archive_read_open(s->outer, s, NULL, blob_read_cb, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(s->outer, &ae) != ARCHIVE_OK) {
		r = sw_error_set(err, SW_EINVALID, "%s", archive_error_string(s->outer));
		goto out;
	}
	tar = archive_read_new();
	archive_read_support_format_tar(tar);
	archive_read_support_format_empty(tar);
	if (archive_read_open(tar, s, NULL, tar_read_cb, NULL) != ARCHIVE_OK) {
		r = sw_error_set(err, SW_EINVALID, "not a tar archive: %s", archive_error_string(tar));
		goto out;
	}
	for (;;) {
		int rh = archive_read_next_header(tar, &ae);
		if (rh == ARCHIVE_EOF)
			break;
		if (rh != ARCHIVE_OK && rh != ARCHIVE_WARN) {
			r = sw_error_set(err, SW_EINVALID, "not a valid tar archive: %s", archive_error_string(tar));
			goto out;
		}
		if (++count > CACHE_MAX_ENTRIES) {
			r = sw_error_set(err, SW_ETOOBIG, "more than %d entries", CACHE_MAX_ENTRIES);
			goto out;
		}
		if ((r = unpack_entry(&u, tar, ae, err)) < 0)
			goto out;
	}
	/* the tar reader stops at its end marker: hash the rest of both streams */
	for (const void *rest; tar_read_cb(tar, s, &rest) > 0;)
		;
	for (const void *rest; blob_read_cb(s->outer, s, &rest) > 0;)
		;
	sw_sha256_final(s->blob_hash, got);
	if (strcmp(got, blob->digest)) {
		r = sw_error_set(err, SW_EINVALID, "blob is corrupt (hashes to %s)", got);
		goto out;
	}
	sw_sha256_final(s->diff_hash, got);
	if (strcmp(got, diff_id)) {
		r = sw_error_set(err, SW_EINVALID, "uncompressed digest %s does not match diff_id %s", got, diff_id);
		goto out;
	}
	if ((r = apply_dir_times(&u, err)) < 0)
		goto out;
	if (u.skipped_devices)
		sw_warn("layer %s: %zu device node%s skipped (first: %s); layers get no device nodes", blob->digest,
		        u.skipped_devices, u.skipped_devices == 1 ? "" : "s", u.first_skipped);
out:
	unpack_release(&u);
	if (tar)
		archive_read_free(tar);
	archive_read_free(s->outer);
	close(s->fd);
	sw_sha256_free(s->blob_hash);
	sw_sha256_free(s->diff_hash);
	free(s);
	return r;
}

/* ---- get ---------------------------------------------------------------- */

int sw_layer_cache_get(sw_layer_cache *c, const sw_descriptor *blob, const char *diff_id,
                       const char **out_dir, sw_error **err)
{
	const char *hex;
	char tmp[160];
	unsigned char rnd[6];
	struct stat st;
	int r;

	if (!diff_id || !sw_digest_valid(diff_id))
		return sw_error_set(err, SW_EINVALID, "layer %s: invalid diff_id '%s'", blob->digest,
		                    diff_id ? diff_id : "");
	hex = diff_id + strlen("sha256:");
	if (fstatat(c->dirfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
		*out_dir = hand_out(c, hex);
		return 0;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	snprintf(tmp, sizeof(tmp), TMP_PREFIX "%s-%ld-%02x%02x%02x%02x%02x%02x", hex, (long)getpid(), rnd[0],
	         rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
	if (mkdirat(c->dirfd, tmp, 0700) < 0)
		return sw_error_set_errno(err, errno, "layer cache: create %s/%s", c->dir, tmp);
	{
		cleanup_close int fd = openat(c->dirfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			r = sw_error_set_errno(err, errno, "layer cache: open %s", tmp);
			goto fail;
		}
		if ((r = unpack_blob(c, blob, diff_id, fd, err)) < 0) {
			r = sw_error_wrap(err, "unpack layer %s", blob->digest);
			goto fail;
		}
		/* a lower dir's own mode does not matter to overlayfs; be plain */
		if (fchmod(fd, 0755) < 0 || syncfs(fd) < 0) {
			r = sw_error_set_errno(err, errno, "layer cache: sync %s", tmp);
			goto fail;
		}
	}
	if (renameat2(c->dirfd, tmp, c->dirfd, hex, RENAME_NOREPLACE) < 0) {
		if (errno != EEXIST && errno != ENOTEMPTY) {
			r = sw_error_set_errno(err, errno, "layer cache: rename %s to %s", tmp, hex);
			goto fail;
		}
		/* another process unpacked it first: use theirs */
		cleanup_error sw_error *e2 = NULL;
		if (rt_remove_tree(c->dirfd, tmp, &e2) < 0)
			sw_log_error(e2, "layer cache: removing a temp folder");
	} else if (fsync(c->dirfd) < 0) {
		return sw_error_set_errno(err, errno, "layer cache: sync %s", c->dir);
	}
	*out_dir = hand_out(c, hex);
	return 0;
fail: {
	cleanup_error sw_error *e2 = NULL;
	if (rt_remove_tree(c->dirfd, tmp, &e2) < 0)
		sw_log_error(e2, "layer cache: removing a temp folder");
}
	return r;
}
