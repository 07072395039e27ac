/*
 * layer_tar.c - deterministic layer tars: the entries of a layer, their
 * checks, and writing them as a sorted PAX tar compressed into the store.
 *
 * One pass: libarchive writes the tar into a callback that hashes it (the
 * diff_id) and feeds a second libarchive writer in "raw" format with the
 * gzip or zstd filter, whose output is hashed and stored as the blob. The
 * gzip header carries no time and no file name ("!timestamp"), the level is
 * fixed, so the same entries always give the same bytes.
 *
 * Not here: where entries come from (layer_source.c reads tars and trees).
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_store_int.h"
#include "layer_int.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/path.h"

#define PATH_MAX_LEN 4096

/* ---- the entry list ----------------------------------------------------- */

sw_layer *sw_layer_new(void)
{
	sw_layer *l = sw_xcalloc(1, sizeof(*l));

	l->paths = json_object();
	l->spool_fd = -1;
	return l;
}

static void entry_release(struct layer_entry *e)
{
	free(e->path);
	free(e->link);
	free(e->data);
	free(e->src_path);
	for (size_t i = 0; i < e->nxattrs; i++) {
		free(e->xattrs[i].name);
		free(e->xattrs[i].value);
	}
	free(e->xattrs);
}

void sw_layer_free(sw_layer *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		entry_release(&l->v[i]);
	free(l->v);
	json_decref(l->paths);
	if (l->spool_fd >= 0)
		close(l->spool_fd);
	free(l);
}

size_t sw_layer_count(const sw_layer *l)
{
	return json_object_size(l->paths);
}

int layer_clean_path(char **out, const char *path, const char *what, sw_error **err)
{
	const char *p = path;
	size_t n;
	char *c;

	if (p[0] == '/')
		return sw_error_set(err, SW_EESCAPE, "%s: absolute path '%s' refused", what, path);
	while (p[0] == '.' && p[1] == '/')
		for (p += 2; *p == '/';)
			p++;
	n = strlen(p);
	while (n > 0 && p[n - 1] == '/')
		n--;
	if (n > PATH_MAX_LEN)
		return sw_error_set(err, SW_ETOOBIG, "%s: path longer than %d bytes", what, PATH_MAX_LEN);
	if (n == 0 || (n == 1 && p[0] == '.')) {
		*out = NULL; /* the root itself */
		return 0;
	}
	c = sw_xstrndup(p, n);
	for (char *s = c;;) {
		char *slash = strchr(s, '/');
		size_t len = slash ? (size_t)(slash - s) : strlen(s);
		if (len == 0 || (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.')) {
			int r = sw_error_set(err, len == 2 ? SW_EESCAPE : SW_EINVALID, "%s: path '%s' %s", what, path,
			                     len == 2 ? "contains '..'" : "has an empty or '.' component");
			free(c);
			return r;
		}
		if (!slash)
			break;
		s = slash + 1;
	}
	*out = c;
	return 0;
}

int sw_layer_add(sw_layer *l, const sw_layer_entry *e, sw_error **err)
{
	cleanup_free char *path = NULL;
	cleanup_free char *link = NULL;
	struct layer_entry *x;
	json_t *prev;
	int r;

	if ((r = layer_clean_path(&path, e->path, "layer entry", err)) < 0)
		return r;
	if (!path) {
		l->last = NULL;
		return 0; /* "./": the root folder is not an entry */
	}
	if (e->type == SW_LAYER_HARDLINK) {
		if (!e->link)
			return sw_error_set(err, SW_EINVALID, "hard link %s has no target", path);
		if ((r = layer_clean_path(&link, e->link, "hard link target", err)) < 0)
			return sw_error_wrap(err, "hard link %s", path);
		if (!link)
			return sw_error_set(err, SW_EINVALID, "hard link %s points at the root folder", path);
	} else if (e->type == SW_LAYER_SYMLINK) {
		if (!e->link || strlen(e->link) > PATH_MAX_LEN)
			return sw_error_set(err, SW_EINVALID, "symlink %s has no target or a too long one", path);
		link = sw_xstrdup(e->link);
	}
	if (e->type == SW_LAYER_FILE && e->size < 0)
		return sw_error_set(err, SW_EINVALID, "file %s has a negative size", path);
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = sw_xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	if ((prev = json_object_get(l->paths, path)))
		l->v[json_integer_value(prev)].dead = true; /* tar semantics: the later one wins */
	x = &l->v[l->n];
	memset(x, 0, sizeof(*x));
	x->type = e->type;
	x->mode = e->mode & 07777;
	x->uid = e->uid;
	x->gid = e->gid;
	x->mtime = e->mtime;
	x->rdev_major = e->rdev_major;
	x->rdev_minor = e->rdev_minor;
	x->src_fd = -1;
	x->src_dirfd = -1;
	if (e->type == SW_LAYER_FILE) {
		x->size = e->size;
		if (e->data) {
			x->data = sw_xmalloc(e->size ? (size_t)e->size : 1);
			memcpy(x->data, e->data, (size_t)e->size);
		} else if (e->src_fd >= 0) {
			x->src_fd = e->src_fd;
			x->src_offset = e->src_offset;
		} else if (e->src_dirfd >= 0 && e->src_path) {
			x->src_dirfd = e->src_dirfd;
			x->src_path = sw_xstrdup(e->src_path);
		} else if (e->size) {
			return sw_error_set(err, SW_EINVALID, "file %s has no content source", path);
		}
	}
	json_object_set_new_nocheck(l->paths, path, json_integer((json_int_t)l->n));
	x->path = steal_pointer(&path);
	x->link = steal_pointer(&link);
	l->last = x;
	l->n++;
	l->prepared = false;
	return 0;
}

int sw_layer_add_xattr(sw_layer *l, const char *name, const void *value, size_t len, sw_error **err)
{
	struct layer_entry *e = l->last;

	if (!e)
		return sw_error_set(err, SW_EINVALID, "xattr %s: no entry to attach it to", name);
	/* names are printable ASCII ("user.x", "security.capability"): others
	 * do not survive libarchive's pax headers unchanged */
	for (const char *c = name; *c; c++)
		if (*c < '!' || *c > '~' || *c == '=')
			return sw_error_set(err, SW_EINVALID, "%s: xattr name is not printable ASCII", e->path);
	if (!*name || strlen(name) > 255 || len > 65536)
		return sw_error_set(err, SW_EINVALID, "%s: xattr '%s' has a bad name or is too large", e->path, name);
	for (size_t i = 0; i < e->nxattrs; i++) {
		if (strcmp(e->xattrs[i].name, name))
			continue;
		/* libarchive's pax writer (ours too) records each xattr twice, as
		 * LIBARCHIVE.xattr and SCHILY.xattr, and its reader reports both */
		if (e->xattrs[i].len == len && !memcmp(e->xattrs[i].value, value, len))
			return 0;
		return sw_error_set(err, SW_EINVALID, "%s: xattr %s given twice with different values", e->path, name);
	}
	e->xattrs = sw_xreallocarray(e->xattrs, e->nxattrs + 1, sizeof(*e->xattrs));
	e->xattrs[e->nxattrs].name = sw_xstrdup(name);
	e->xattrs[e->nxattrs].value = sw_xmalloc(len ? len : 1);
	memcpy(e->xattrs[e->nxattrs].value, value, len);
	e->xattrs[e->nxattrs].len = len;
	e->nxattrs++;
	return 0;
}

/* ---- checks ------------------------------------------------------------- */

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct layer_entry *)a)->path, ((const struct layer_entry *)b)->path);
}

static int cmp_xattr(const void *a, const void *b)
{
	return strcmp(((const struct layer_xattr *)a)->name, ((const struct layer_xattr *)b)->name);
}

static struct layer_entry *find(sw_layer *l, const char *path)
{
	struct layer_entry key = { .path = (char *)path };

	return bsearch(&key, l->v, l->n, sizeof(*l->v), cmp_entry);
}

int layer_prepare(sw_layer *l, sw_error **err)
{
	size_t w = 0;

	if (l->prepared)
		return 0;
	/* drop replaced entries, sort bytewise, rebuild the path map */
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].dead) {
			entry_release(&l->v[i]);
			continue;
		}
		l->v[w++] = l->v[i];
	}
	l->n = w;
	l->last = NULL;
	if (l->n) /* an empty layer has no array yet: qsort(NULL) is undefined */
		qsort(l->v, l->n, sizeof(*l->v), cmp_entry);
	json_object_clear(l->paths);
	for (size_t i = 0; i < l->n; i++) {
		struct layer_entry *e = &l->v[i];
		e->group = SIZE_MAX;
		json_object_set_new_nocheck(l->paths, e->path, json_integer((json_int_t)i));
		if (e->nxattrs > 1)
			qsort(e->xattrs, e->nxattrs, sizeof(*e->xattrs), cmp_xattr);
	}

	/* files of a tree sharing an inode: the first path holds the content */
	json_t *inodes = json_object();
	for (size_t i = 0; i < l->n; i++) {
		struct layer_entry *e = &l->v[i];
		char key[64];
		json_t *first;
		if (e->type != SW_LAYER_FILE || !e->ino)
			continue;
		snprintf(key, sizeof(key), "%llu:%llu", (unsigned long long)e->dev, (unsigned long long)e->ino);
		if ((first = json_object_get(inodes, key))) {
			e->type = SW_LAYER_HARDLINK;
			free(e->link);
			e->link = sw_xstrdup(l->v[json_integer_value(first)].path);
		} else {
			json_object_set_new(inodes, key, json_integer((json_int_t)i));
		}
	}
	json_decref(inodes);

	for (size_t i = 0; i < l->n; i++) {
		struct layer_entry *e = &l->v[i];
		/* no entry may sit under a symlink or a non-folder of the layer */
		cleanup_free char *prefix = sw_xstrdup(e->path);
		for (char *s = strchr(prefix, '/'); s; s = strchr(s + 1, '/')) {
			struct layer_entry *p;
			*s = '\0';
			p = find(l, prefix);
			*s = '/';
			if (!p || p->type == SW_LAYER_DIR)
				continue;
			return sw_error_set(err, SW_EESCAPE, p->type == SW_LAYER_SYMLINK ?
			                    "%s goes through the symlink %s of the same layer" :
			                    "%s is under %s, which is not a folder", e->path, p->path);
		}
		if (e->type != SW_LAYER_HARDLINK)
			continue;
		/* a hard link must end at a file of this layer */
		struct layer_entry *t = e;
		for (int hops = 0; t->type == SW_LAYER_HARDLINK; hops++) {
			struct layer_entry *next = find(l, t->link);
			if (!next || hops > 64)
				return sw_error_set(err, SW_EESCAPE,
				                    "hard link %s points at %s, which is not a file of the layer", e->path,
				                    t->link);
			t = next;
		}
		if (t->type != SW_LAYER_FILE)
			return sw_error_set(err, SW_EESCAPE, "hard link %s points at %s, which is not a regular file",
			                    e->path, t->path);
		e->group = (size_t)(t - l->v);
	}
	/* each group is written once, at its first path; the rest link to it */
	for (size_t i = 0; i < l->n; i++) {
		struct layer_entry *e = &l->v[i];
		if (e->type == SW_LAYER_FILE && e->group == SIZE_MAX)
			e->group = i;
	}
	for (size_t i = 0; i < l->n; i++) {
		struct layer_entry *e = &l->v[i];
		if (e->group != SIZE_MAX && l->v[e->group].first == 0)
			l->v[e->group].first = i + 1; /* sorted: the first member seen */
	}
	l->prepared = true;
	return 0;
}

/* ---- the compressed sink ------------------------------------------------ */

static la_ssize_t inner_write_cb(struct archive *a, void *payload, const void *buf, size_t len)
{
	struct layer_sink *k = payload;
	(void)a;

	if (sw_blob_writer_write(k->blob, buf, len, &k->err) < 0)
		return -1;
	return (la_ssize_t)len;
}

int layer_sink_open(struct layer_sink *k, sw_image_store *s, const sw_layer_opts *opts, sw_error **err)
{
	struct archive_entry *e;
	char level[16];
	int r;

	memset(k, 0, sizeof(*k));
	k->compression = opts->compression;
	if ((r = sw_blob_writer_new(&k->blob, s, err)) < 0)
		return r;
	k->diff = sw_sha256_new();
	if (opts->compression == SW_COMPRESS_NONE)
		return 0;
	k->inner = archive_write_new();
	archive_write_set_format_raw(k->inner);
	if (opts->compression == SW_COMPRESS_GZIP) {
		snprintf(level, sizeof(level), "%d", opts->level ? opts->level : 6);
		r = archive_write_add_filter_gzip(k->inner);
		if (r == ARCHIVE_OK)
			r = archive_write_set_filter_option(k->inner, "gzip", "compression-level", level);
		if (r == ARCHIVE_OK) /* no mtime in the gzip header */
			r = archive_write_set_filter_option(k->inner, "gzip", "timestamp", NULL);
	} else {
		snprintf(level, sizeof(level), "%d", opts->level ? opts->level : 3);
		r = archive_write_add_filter_zstd(k->inner);
		if (r == ARCHIVE_OK)
			r = archive_write_set_filter_option(k->inner, "zstd", "compression-level", level);
	}
	/* ARCHIVE_WARN would mean an external program: not deterministic enough */
	if (r != ARCHIVE_OK) {
		r = sw_error_set(err, SW_EFAIL, "layer compression: %s", archive_error_string(k->inner));
		layer_sink_abort(k);
		return r;
	}
	archive_write_set_bytes_per_block(k->inner, 65536);
	archive_write_set_bytes_in_last_block(k->inner, 1);
	if (archive_write_open2(k->inner, k, NULL, inner_write_cb, NULL, NULL) != ARCHIVE_OK) {
		r = sw_error_set(err, SW_EFAIL, "layer compression: %s", archive_error_string(k->inner));
		layer_sink_abort(k);
		return r;
	}
	e = archive_entry_new();
	archive_entry_set_pathname(e, "layer");
	archive_entry_set_filetype(e, AE_IFREG);
	r = archive_write_header(k->inner, e);
	archive_entry_free(e);
	if (r != ARCHIVE_OK) {
		r = sw_error_set(err, SW_EFAIL, "layer compression: %s", archive_error_string(k->inner));
		layer_sink_abort(k);
		return r;
	}
	return 0;
}

int layer_sink_write(struct layer_sink *k, const void *buf, size_t len)
{
	sw_sha256_update(k->diff, buf, len);
	k->tar_size += (int64_t)len;
	if (!k->inner)
		return sw_blob_writer_write(k->blob, buf, len, &k->err);
	while (len > 0) {
		la_ssize_t n = archive_write_data(k->inner, buf, len);
		if (n <= 0) {
			if (!k->err)
				sw_error_set(&k->err, SW_EFAIL, "layer compression: %s", archive_error_string(k->inner));
			return -1;
		}
		buf = (const char *)buf + n;
		len -= (size_t)n;
	}
	return 0;
}

int layer_sink_commit(struct layer_sink *k, const char *expect_diff_id, sw_layer_result *out, sw_error **err)
{
	const char *mt = k->compression == SW_COMPRESS_GZIP ? SW_MT_OCI_LAYER_GZIP :
	                 k->compression == SW_COMPRESS_ZSTD ? SW_MT_OCI_LAYER_ZSTD : SW_MT_OCI_LAYER;
	int r;

	if (k->inner) {
		if (archive_write_close(k->inner) != ARCHIVE_OK) {
			if (k->err) {
				*err = steal_pointer(&k->err);
				r = sw_error_wrap(err, "compress layer");
			} else {
				r = sw_error_set(err, SW_EFAIL, "compress layer: %s", archive_error_string(k->inner));
			}
			layer_sink_abort(k);
			return r;
		}
		archive_write_free(k->inner);
		k->inner = NULL;
	}
	sw_sha256_final(k->diff, out->diff_id);
	out->tar_size = k->tar_size;
	if (expect_diff_id && strcmp(expect_diff_id, out->diff_id)) {
		r = sw_error_set(err, SW_EINVALID, "layer diff_id mismatch: expected %s, got %s", expect_diff_id,
		                 out->diff_id);
		layer_sink_abort(k);
		return r;
	}
	r = sw_blob_writer_commit(k->blob, mt, NULL, &out->blob, err);
	layer_sink_abort(k);
	return r;
}

void layer_sink_abort(struct layer_sink *k)
{
	if (k->inner)
		archive_write_free(k->inner);
	k->inner = NULL;
	sw_blob_writer_free(k->blob);
	k->blob = NULL;
	sw_sha256_free(k->diff);
	k->diff = NULL;
	sw_error_free(k->err);
	k->err = NULL;
}

/* ---- writing the tar ---------------------------------------------------- */

static la_ssize_t outer_write_cb(struct archive *a, void *payload, const void *buf, size_t len)
{
	(void)a;
	return layer_sink_write(payload, buf, len) < 0 ? -1 : (la_ssize_t)len;
}

static int write_content(struct archive *a, struct layer_entry *e, sw_error **err)
{
	cleanup_close int own = -1;
	int fd = -1;
	int64_t off = 0, left = e->size;
	char buf[65536];

	if (e->data || e->size == 0) {
		if (e->size && archive_write_data(a, e->data, (size_t)e->size) != (la_ssize_t)e->size)
			return sw_error_set(err, SW_EFAIL, "write %s into the layer: %s", e->path, archive_error_string(a));
		return 0;
	}
	if (e->src_fd >= 0) {
		fd = e->src_fd;
		off = e->src_offset;
	} else {
		struct stat st;
		/* the kernel keeps the walk beneath the tree, through no symlink */
		own = sw_path_open_under(e->src_dirfd, e->src_path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0,
		                         SW_RESOLVE_BENEATH | SW_RESOLVE_NO_SYMLINKS, err);
		if (own < 0)
			return own;
		if (fstat(own, &st) < 0 || !S_ISREG(st.st_mode))
			return sw_error_set(err, SW_EINVALID, "%s is no longer a regular file", e->src_path);
		fd = own;
	}
	while (left > 0) {
		size_t want = left < (int64_t)sizeof(buf) ? (size_t)left : sizeof(buf);
		ssize_t n = pread(fd, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sw_error_set_errno(err, errno, "read %s", e->path);
		if (n == 0)
			return sw_error_set(err, SW_EINVALID, "%s shrank while it was written into the layer", e->path);
		if (archive_write_data(a, buf, (size_t)n) != n)
			return sw_error_set(err, SW_EFAIL, "write %s into the layer: %s", e->path, archive_error_string(a));
		off += n;
		left -= n;
	}
	return 0;
}

static void fill_entry(struct archive_entry *ae, const struct layer_entry *e, const struct layer_entry *meta,
                       int64_t epoch)
{
	int64_t mtime = meta->mtime;

	if (mtime > epoch)
		mtime = epoch;
	if (mtime < 0)
		mtime = 0;
	archive_entry_set_pathname(ae, e->path);
	archive_entry_set_perm(ae, (mode_t)meta->mode);
	archive_entry_set_uid(ae, meta->uid);
	archive_entry_set_gid(ae, meta->gid);
	archive_entry_set_mtime(ae, (time_t)mtime, 0);
	for (size_t i = 0; i < meta->nxattrs; i++)
		archive_entry_xattr_add_entry(ae, meta->xattrs[i].name, meta->xattrs[i].value, meta->xattrs[i].len);
}

int sw_layer_write(sw_image_store *s, sw_layer *l, const sw_layer_opts *opts, sw_layer_result *out,
                   sw_error **err)
{
	struct layer_sink k;
	struct archive *a = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = layer_prepare(l, err)) < 0)
		return r;
	if ((r = layer_sink_open(&k, s, opts, err)) < 0)
		return r;
	a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (archive_write_open2(a, &k, NULL, outer_write_cb, NULL, NULL) != ARCHIVE_OK) {
		r = sw_error_set(err, SW_EFAIL, "layer tar: %s", archive_error_string(a));
		goto fail;
	}
	for (size_t i = 0; i < l->n; i++) {
		struct layer_entry *e = &l->v[i];
		const struct layer_entry *meta = e;
		struct archive_entry *ae = archive_entry_new();
		bool content = false;

		if (e->group != SIZE_MAX) {
			meta = &l->v[e->group];
			if (l->v[e->group].first == i + 1) {
				archive_entry_set_filetype(ae, AE_IFREG);
				archive_entry_set_size(ae, meta->size);
				content = true;
			} else {
				archive_entry_set_filetype(ae, AE_IFREG);
				archive_entry_set_hardlink(ae, l->v[l->v[e->group].first - 1].path);
				archive_entry_set_size(ae, 0);
			}
		} else {
			switch (e->type) {
			case SW_LAYER_DIR:
				archive_entry_set_filetype(ae, AE_IFDIR);
				break;
			case SW_LAYER_SYMLINK:
				archive_entry_set_filetype(ae, AE_IFLNK);
				archive_entry_set_symlink(ae, e->link);
				break;
			case SW_LAYER_CHAR:
			case SW_LAYER_BLOCK:
				archive_entry_set_filetype(ae, e->type == SW_LAYER_CHAR ? AE_IFCHR : AE_IFBLK);
				archive_entry_set_rdevmajor(ae, e->rdev_major);
				archive_entry_set_rdevminor(ae, e->rdev_minor);
				break;
			case SW_LAYER_FIFO:
				archive_entry_set_filetype(ae, AE_IFIFO);
				break;
			default:
				archive_entry_free(ae);
				r = sw_error_set(err, SW_EINVALID, "%s: unexpected entry type", e->path);
				goto fail;
			}
		}
		fill_entry(ae, e, meta, opts->epoch);
		r = archive_write_header(a, ae);
		archive_entry_free(ae);
		/* a name that is not text in this locale (any non-ASCII one under
		 * "C") is a warning: libarchive writes it as raw bytes with
		 * hdrcharset=BINARY, as Linux names are */
		if (r != ARCHIVE_OK && !(r == ARCHIVE_WARN && !k.err)) {
			r = k.err ? (*err = steal_pointer(&k.err), sw_error_wrap(err, "layer entry %s", e->path))
			          : sw_error_set(err, SW_EFAIL, "layer entry %s: %s", e->path, archive_error_string(a));
			goto fail;
		}
		if (content && (r = write_content(a, (struct layer_entry *)meta, err)) < 0) {
			if (k.err) {
				sw_error_free(*err);
				*err = steal_pointer(&k.err);
			}
			goto fail;
		}
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		r = k.err ? (*err = steal_pointer(&k.err), sw_error_wrap(err, "layer tar"))
		          : sw_error_set(err, SW_EFAIL, "layer tar: %s", archive_error_string(a));
		goto fail;
	}
	archive_write_free(a);
	return layer_sink_commit(&k, NULL, out, err);
fail:
	archive_write_free(a);
	layer_sink_abort(&k);
	return r;
}

/* ---- re-compressing and decompressing whole layers ---------------------- */

struct hashed_reader {
	int fd;
	sw_sha256 *hash; /* may be NULL */
	char buf[65536];
};

static la_ssize_t hashed_read_cb(struct archive *a, void *payload, const void **out)
{
	struct hashed_reader *h = payload;
	ssize_t n;
	(void)a;

	do
		n = read(h->fd, h->buf, sizeof(h->buf));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		archive_set_error(a, errno, "read failed");
		return -1;
	}
	if (h->hash)
		sw_sha256_update(h->hash, h->buf, (size_t)n);
	*out = h->buf;
	return n;
}

/* A reader of one stream, undoing gzip, bzip2, xz or zstd (no external
 * programs). */
static struct archive *open_raw_reader(struct hashed_reader *h)
{
	struct archive *a = archive_read_new();

	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_format_raw(a);
	if (archive_read_open(a, h, NULL, hashed_read_cb, NULL) != ARCHIVE_OK) {
		return a; /* the caller reports archive_error_string */
	}
	return a;
}

int layer_recompress(sw_image_store *s, int fd, const char *what, const char *expect_diff_id,
                     const sw_layer_opts *opts, sw_layer_result *out, sw_error **err)
{
	struct hashed_reader *h = sw_xcalloc(1, sizeof(*h));
	struct archive_entry *ae;
	struct layer_sink k;
	struct archive *a;
	char buf[65536];
	int r;

	h->fd = fd;
	a = open_raw_reader(h);
	if (archive_read_next_header(a, &ae) != ARCHIVE_OK) {
		r = sw_error_set(err, SW_EINVALID, "layer %s: %s", what, archive_error_string(a));
		goto out_noseal;
	}
	if ((r = layer_sink_open(&k, s, opts, err)) < 0)
		goto out_noseal;
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, sizeof(buf));
		if (n < 0) {
			r = sw_error_set(err, SW_EINVALID, "layer %s: %s", what, archive_error_string(a));
			layer_sink_abort(&k);
			goto out_noseal;
		}
		if (n == 0)
			break;
		if (layer_sink_write(&k, buf, (size_t)n) < 0) {
			*err = steal_pointer(&k.err);
			r = sw_error_wrap(err, "layer %s", what);
			layer_sink_abort(&k);
			goto out_noseal;
		}
	}
	r = layer_sink_commit(&k, expect_diff_id, out, err);
	if (r < 0)
		sw_error_wrap(err, "layer %s", what);
out_noseal:
	archive_read_free(a);
	free(h);
	return r;
}

int layer_decompress(sw_image_store *s, const sw_descriptor *blob, const char *diff_id, int outfd,
                     int64_t *size, sw_error **err)
{
	struct hashed_reader *h = sw_xcalloc(1, sizeof(*h));
	struct archive_entry *ae;
	struct archive *a = NULL;
	sw_sha256 *diff = sw_sha256_new();
	char got[SW_DIGEST_LEN + 1], buf[65536];
	int64_t total = 0;
	int r = 0;

	h->fd = sw_image_store_open_blob(s, blob->digest, NULL, err);
	if (h->fd < 0) {
		r = h->fd;
		goto out;
	}
	h->hash = sw_sha256_new();
	a = open_raw_reader(h);
	if (archive_read_next_header(a, &ae) != ARCHIVE_OK) {
		r = sw_error_set(err, SW_EINVALID, "layer %s: %s", blob->digest, archive_error_string(a));
		goto out;
	}
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, sizeof(buf));
		if (n < 0) {
			r = sw_error_set(err, SW_EINVALID, "layer %s: %s", blob->digest, archive_error_string(a));
			goto out;
		}
		if (n == 0)
			break;
		sw_sha256_update(diff, buf, (size_t)n);
		for (la_ssize_t off = 0; off < n;) {
			ssize_t w = write(outfd, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				r = sw_error_set_errno(err, errno, "write layer %s", blob->digest);
				goto out;
			}
			off += w;
		}
		total += n;
	}
	/* the filter may stop before the end of the blob: hash what is left */
	for (const void *rest = NULL; hashed_read_cb(a, h, &rest) > 0;)
		;
	sw_sha256_final(h->hash, got);
	if (strcmp(got, blob->digest)) {
		r = sw_error_set(err, SW_EINVALID, "layer blob %s is corrupt (hashes to %s)", blob->digest, got);
		goto out;
	}
	sw_sha256_final(diff, got);
	if (diff_id && strcmp(got, diff_id)) {
		r = sw_error_set(err, SW_EINVALID, "layer %s: uncompressed digest %s does not match diff_id %s",
		                 blob->digest, got, diff_id);
		goto out;
	}
	*size = total;
out:
	if (a)
		archive_read_free(a);
	if (h->fd >= 0)
		close(h->fd);
	sw_sha256_free(h->hash);
	sw_sha256_free(diff);
	free(h);
	return r;
}
