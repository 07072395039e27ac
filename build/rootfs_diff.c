/*
 * rootfs_diff.c - the upper dir of an overlay root filesystem as layer
 * entries (sw_rootfs_diff).
 *
 * What a layer gets, and why:
 * - new and changed files, symlinks, fifos, device nodes, with the mode,
 *   uid/gid (as seen inside the root: no user namespace, so the host's
 *   numbers are the container's) and user.* / security.capability xattrs of
 *   the upper dir; files linked together in the upper dir as hard links;
 * - deletions (overlayfs' 0:0 character devices) as ".wh.NAME" files;
 * - an opaque folder (trusted.overlay.opaque=y: `rm -rf d && mkdir d`) is
 *   expanded into explicit ".wh.NAME" entries for every name the lower
 *   layers show in it, recursively for sub-folders that exist in both, and
 *   never as ".wh..wh..opq". This is the form image-spec's layer.md asks
 *   producers to write, what buildah writes, and it never relies on a
 *   consumer's opaque support (go-containerregistry and others got it
 *   wrong); a whiteout is only written for a name this layer does not
 *   itself contain, so no consumer has to order a whiteout and an entry of
 *   the same name;
 * - a folder only when it is new, its mode/uid/gid/xattrs changed, or it
 *   holds an entry of the layer: copy-ups that only moved an mtime (a temp
 *   file made and removed in /tmp) add nothing;
 * - never the mount points sw_run_container created (RT_STUB_XATTR), as
 *   long as they are unchanged: an empty file, or a folder with nothing of
 *   the layer below it and its creation mode/uid/gid.
 * Entries are sorted and mtimes clamped by sw_layer_write.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "layer_int.h"
#include "rootfs_int.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"

struct diff {
	const sw_rootfs *r;
	sw_layer *l;
	int *lowerfds; /* O_PATH roots, bottom first */
};

/* ---- what the lower layers show at a path ---------------------------------- */

struct lview {
	bool found;     /* something is visible at the path */
	struct stat st; /* the top-most visible entry */
	int *fds;       /* folders merged at the path, top-most first */
	size_t n;
};

static void lview_release(struct lview *v)
{
	for (size_t i = 0; i < v->n; i++)
		close(v->fds[i]);
	free(v->fds);
	memset(v, 0, sizeof(*v));
}

static bool is_opaque(int dirfd, const char *name)
{
	char v[4];
	ssize_t n = rt_lgetxattr_at(dirfd, name, RT_OVL_OPAQUE, v, sizeof(v));

	return n == 1 && v[0] == 'y';
}

static void lview_add(struct lview *v, int fd)
{
	v->fds = sw_xreallocarray(v->fds, v->n + 1, sizeof(*v->fds));
	v->fds[v->n++] = fd;
}

/* Resolves rel ("" for the root) through the lower layers, top-most first,
 * as overlayfs does: a whiteout or a non-folder hides everything below it,
 * an opaque folder hides the layers below it from there down. */
static int lower_resolve(struct diff *d, const char *rel, struct lview *v, sw_error **err)
{
	memset(v, 0, sizeof(*v));
	for (size_t k = d->r->nlowers; k-- > 0;) {
		cleanup_free char *copy = sw_xstrdup(rel);
		cleanup_close int cur = openat(d->lowerfds[k], ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		bool stop = false;
		char *save = NULL;

		if (cur < 0)
			return sw_error_set_errno(err, errno, "open lower layer %s", d->r->lowers[k]);
		if (!*rel) {
			int fd = openat(cur, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0)
				return sw_error_set_errno(err, errno, "open lower layer %s", d->r->lowers[k]);
			if (!v->found && fstat(fd, &v->st) == 0)
				v->found = true;
			lview_add(v, fd);
			continue;
		}
		for (char *comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
			bool last = !save || !*save;
			struct stat st;
			int fd;

			if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				if (errno != ENOENT)
					return sw_error_set_errno(err, errno, "lower layer %s: %s", d->r->lowers[k], rel);
				break; /* absent here: the next layer down may have it */
			}
			if (rt_is_whiteout(&st) || (!S_ISDIR(st.st_mode) && (!last || v->found))) {
				stop = true;
				break;
			}
			if (last) {
				if (!v->found) {
					v->found = true;
					v->st = st;
				}
				if (!S_ISDIR(st.st_mode)) {
					stop = true;
					break;
				}
				fd = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (fd < 0)
					return sw_error_set_errno(err, errno, "lower layer %s: open %s", d->r->lowers[k], rel);
				lview_add(v, fd);
				if (is_opaque(fd, NULL))
					stop = true;
				break;
			}
			if (is_opaque(cur, comp))
				stop = true; /* layers below show nothing under it */
			fd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0)
				return sw_error_set_errno(err, errno, "lower layer %s: open %s", d->r->lowers[k], rel);
			close(cur);
			cur = fd;
		}
		if (stop)
			break;
	}
	return 0;
}

/* The names visible in the merged lower folders of v: name -> true. */
static int lview_names(const struct lview *v, json_t **out, sw_error **err)
{
	json_t *seen = json_object(); /* name -> true visible, false whited out */

	for (size_t i = 0; i < v->n; i++) {
		int fd = openat(v->fds[i], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
		struct dirent *de;

		if (!dir) {
			int e = errno;
			if (fd >= 0)
				close(fd);
			json_decref(seen);
			return sw_error_set_errno(err, e, "read a lower folder");
		}
		while ((de = readdir(dir))) {
			struct stat st;
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || json_object_get(seen, de->d_name))
				continue;
			if (fstatat(v->fds[i], de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			json_object_set_new(seen, de->d_name, json_boolean(!rt_is_whiteout(&st)));
		}
		closedir(dir);
	}
	*out = seen;
	return 0;
}

/* ---- comparing folders ------------------------------------------------- */

/* The kept xattrs of dirfd/name (name NULL: dirfd itself), canonical. */
static char *xattr_sig(int dirfd, const char *name)
{
	char list[65536];
	ssize_t n = rt_llistxattr_at(dirfd, name, list, sizeof(list));
	json_t *o = json_object();
	char *s;

	for (char *p = list; n > 0 && p < list + n; p += strlen(p) + 1) {
		char value[65536];
		ssize_t len;
		if (!rt_keep_xattr(p))
			continue;
		len = rt_lgetxattr_at(dirfd, name, p, value, sizeof(value));
		if (len >= 0)
			json_object_set_new(o, p, json_stringn_nocheck(value, (size_t)len));
	}
	s = sw_json_canonical(o);
	json_decref(o);
	return s;
}

/* 1: the stub marker is there and the entry still has its creation
 * mode/uid/gid; 0 otherwise. */
static int unchanged_stub(int dirfd, const char *name, const struct stat *st)
{
	char v[64], want[64];
	ssize_t n = rt_lgetxattr_at(dirfd, name, RT_STUB_XATTR, v, sizeof(v) - 1);

	if (n < 0)
		return 0;
	v[n] = '\0';
	snprintf(want, sizeof(want), "%o:%u:%u", (unsigned)(st->st_mode & 07777), (unsigned)st->st_uid,
	         (unsigned)st->st_gid);
	return !strcmp(v, want);
}

/* Whether the upper folder dirfd/name at rel needs its own entry when
 * nothing below it does: it is new, or not what the lowers show. */
static int dir_changed(struct diff *d, int dirfd, const char *name, const char *rel, const struct stat *st,
                       bool *out, sw_error **err)
{
	struct lview v;
	int r;

	if (unchanged_stub(dirfd, name, st)) {
		*out = false;
		return 0;
	}
	if ((r = lower_resolve(d, rel, &v, err)) < 0)
		return r;
	*out = true;
	if (v.found && S_ISDIR(v.st.st_mode) && (v.st.st_mode & 07777) == (st->st_mode & 07777) &&
	    v.st.st_uid == st->st_uid && v.st.st_gid == st->st_gid && v.n > 0) {
		cleanup_free char *a = xattr_sig(dirfd, name);
		cleanup_free char *b = xattr_sig(v.fds[0], NULL);
		*out = strcmp(a, b) != 0;
	}
	lview_release(&v);
	return 0;
}

/* ---- the walk ---------------------------------------------------------- */

static char *join(const char *rel, const char *name)
{
	return *rel ? sw_xasprintf("%s/%s", rel, name) : sw_xstrdup(name);
}

static int add_whiteout(struct diff *d, const char *rel, const char *name, sw_error **err)
{
	cleanup_free char *wh = sw_xasprintf("%s%s", RT_WH_PREFIX, name);
	cleanup_free char *path = join(rel, wh);
	sw_layer_entry e = { .path = path, .type = SW_LAYER_FILE, .src_fd = -1, .src_dirfd = -1 };

	return sw_layer_add(d->l, &e, err);
}

static int add_xattrs(struct diff *d, int dirfd, const char *name, const char *rel, sw_error **err)
{
	char list[65536];
	ssize_t n = rt_llistxattr_at(dirfd, name, list, sizeof(list));

	if (n < 0)
		return (errno == ENOTSUP || errno == ENODATA) ? 0 : sw_error_set_errno(err, errno, "list xattrs of %s", rel);
	for (char *p = list; p < list + n; p += strlen(p) + 1) {
		char value[65536];
		ssize_t len;
		if (!rt_keep_xattr(p))
			continue;
		len = rt_lgetxattr_at(dirfd, name, p, value, sizeof(value));
		if (len < 0)
			continue;
		if (sw_layer_add_xattr(d->l, p, value, (size_t)len, err) < 0)
			return SW_EINVALID;
	}
	return 0;
}

static int walk(struct diff *d, int dfd, const char *rel, bool opaque, int depth, size_t *added, sw_error **err)
{
	cleanup_dir DIR *dir = NULL;
	cleanup_json json_t *present = json_object();
	struct dirent *de;
	int fd, r;

	if (depth > RT_MAX_DEPTH)
		return sw_error_set(err, SW_ETOOBIG, "%s: folders nested deeper than %d", rel, RT_MAX_DEPTH);
	fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(dir = fdopendir(fd))) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return sw_error_set_errno(err, e, "read folder %s", *rel ? rel : "/");
	}
	while ((de = readdir(dir))) {
		cleanup_free char *crel = NULL;
		sw_layer_entry e = { .src_fd = -1, .src_dirfd = -1 };
		char target[4097];
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		crel = join(rel, de->d_name);
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return sw_error_set_errno(err, errno, "stat %s", crel);
		if (rt_is_whiteout(&st)) {
			/* in an opaque folder, whiteouts come from the lowers' names */
			if (!opaque) {
				if ((r = add_whiteout(d, rel, de->d_name, err)) < 0)
					return r;
				(*added)++;
			}
			continue;
		}
		if (!strncmp(de->d_name, RT_WH_PREFIX, strlen(RT_WH_PREFIX)))
			return sw_error_set(err, SW_EINVALID, "/%s: names starting with '%s' are reserved for whiteouts",
			                    crel, RT_WH_PREFIX);
		json_object_set_new(present, de->d_name, json_true());
		e.path = crel;
		e.mode = st.st_mode & 07777;
		e.uid = st.st_uid;
		e.gid = st.st_gid;
		e.mtime = (int64_t)st.st_mtim.tv_sec;
		switch (st.st_mode & S_IFMT) {
		case S_IFDIR: {
			cleanup_close int sub = openat(dfd, de->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			size_t below = 0;
			bool changed;
			if (sub < 0)
				return sw_error_set_errno(err, errno, "open folder %s", crel);
			if ((r = walk(d, sub, crel, opaque || is_opaque(dfd, de->d_name), depth + 1, &below, err)) < 0)
				return r;
			if (below == 0) {
				if ((r = dir_changed(d, dfd, de->d_name, crel, &st, &changed, err)) < 0)
					return r;
				if (!changed)
					continue;
			}
			e.type = SW_LAYER_DIR;
			*added += below;
			break;
		}
		case S_IFREG:
			if (st.st_size == 0 && unchanged_stub(dfd, de->d_name, &st))
				continue;
			e.type = SW_LAYER_FILE;
			e.size = (int64_t)st.st_size;
			e.src_dirfd = d->r->upperfd;
			e.src_path = crel;
			break;
		default:
			if ((r = layer_entry_special(&e, &st, dfd, de->d_name, crel, target, sizeof(target), err)) < 0)
				return r;
			if (r == 0)
				continue;
		}
		if ((r = sw_layer_add(d->l, &e, err)) < 0)
			return r;
		(*added)++;
		if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
			d->l->last->dev = (uint64_t)st.st_dev;
			d->l->last->ino = (uint64_t)st.st_ino;
		}
		if (!S_ISLNK(st.st_mode) && (r = add_xattrs(d, dfd, de->d_name, crel, err)) < 0)
			return r;
	}
	if (opaque) {
		/* expand: hide every name the lowers show here that this folder
		 * does not have itself */
		cleanup_json json_t *names = NULL;
		struct lview v;
		const char *name;
		json_t *vis;

		if ((r = lower_resolve(d, rel, &v, err)) < 0)
			return r;
		r = lview_names(&v, &names, err);
		lview_release(&v);
		if (r < 0)
			return r;
		json_object_foreach(names, name, vis) {
			if (!json_is_true(vis) || json_object_get(present, name))
				continue;
			if ((r = add_whiteout(d, rel, name, err)) < 0)
				return r;
			(*added)++;
		}
	}
	return 0;
}

int sw_rootfs_diff(const sw_rootfs *r, sw_layer *layer, sw_error **err)
{
	struct diff d = { .r = r, .l = layer };
	size_t added = 0;
	int ret = 0;

	d.lowerfds = sw_xcalloc(r->nlowers + 1, sizeof(*d.lowerfds));
	for (size_t i = 0; i < r->nlowers; i++)
		d.lowerfds[i] = -1;
	for (size_t i = 0; i < r->nlowers; i++) {
		d.lowerfds[i] = open(r->lowers[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (d.lowerfds[i] < 0) {
			ret = sw_error_set_errno(err, errno, "open lower layer %s", r->lowers[i]);
			goto out;
		}
	}
	/* the root folder itself is never an entry; overlayfs never makes it
	 * opaque */
	ret = walk(&d, r->upperfd, "", false, 0, &added, err);
out:
	for (size_t i = 0; i < r->nlowers; i++)
		if (d.lowerfds[i] >= 0)
			close(d.lowerfds[i]);
	free(d.lowerfds);
	if (ret < 0)
		return sw_error_wrap(err, "diff of %s", r->upper);
	return 0;
}
