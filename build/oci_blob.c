/*
 * oci_blob.c - the layout on disk and its content-addressed blobs.
 *
 * Blobs are streamed into a temp file under .tmp/, hashed while written,
 * fsynced and renamed into blobs/sha256/<hex> only when the digest is the
 * expected one: a reader of blobs/ never sees a partial or wrong blob. Not
 * here: index.json (oci_index.c), manifests and configs (oci_image.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_store_int.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/path.h"
#include "slipway/statedir.h"

struct sw_blob_writer {
	sw_image_store *store;
	char *tmp; /* relative to the root */
	int fd;
	sw_sha256 *hash;
	int64_t size;
};

/* Creates root/name with content unless it exists, atomically and without
 * ever replacing a file another process created meanwhile. */
static int ensure_file(int rootfd, const char *root, const char *name, const char *content,
                       sw_error **err)
{
	cleanup_free char *tmp = sw_xasprintf("%s/.tmp/%s-XXXXXX", root, name);
	cleanup_close int fd = -1;
	struct stat st;

	if (fstatat(rootfd, name, &st, 0) == 0)
		return 0;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return sw_error_set_errno(err, errno, "create %s", tmp);
	if (fchmod(fd, 0644) < 0 || sw_write_all(fd, content, strlen(content)) < 0 || fsync(fd) < 0) {
		int e = errno;
		unlink(tmp);
		return sw_error_set_errno(err, e, "write %s", tmp);
	}
	if (renameat2(AT_FDCWD, tmp, rootfd, name, RENAME_NOREPLACE) < 0) {
		int e = errno;
		unlink(tmp);
		if (e != EEXIST)
			return sw_error_set_errno(err, e, "create %s/%s", root, name);
	}
	return 0;
}

int sw_image_store_open_layout(sw_image_store **out, const char *dir, sw_error **err)
{
	sw_image_store *s;
	cleanup_close int rootfd = -1;
	char path[4096];

	if (sw_mkdir_p(dir, 0755, 0700, err) < 0)
		return sw_error_wrap(err, "image store");
	rootfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return sw_error_set_errno(err, errno, "open image store %s", dir);
	snprintf(path, sizeof(path), "%s/blobs/sha256", dir);
	if (sw_mkdir_p(path, 0755, 0755, err) < 0)
		return sw_error_wrap(err, "image store");
	snprintf(path, sizeof(path), "%s/.tmp", dir);
	if (sw_mkdir_p(path, 0700, 0700, err) < 0)
		return sw_error_wrap(err, "image store");
	if (ensure_file(rootfd, dir, "oci-layout", "{\"imageLayoutVersion\":\"" SW_MT_OCI_LAYOUT_VERSION "\"}",
	                err) < 0)
		return sw_error_wrap(err, "image store");
	if (ensure_file(rootfd, dir, "index.json",
	                "{\"manifests\":[],\"mediaType\":\"" SW_MT_OCI_INDEX "\",\"schemaVersion\":2}", err) < 0)
		return sw_error_wrap(err, "image store");
	s = sw_xcalloc(1, sizeof(*s));
	s->root = sw_xstrdup(dir);
	s->rootfd = steal_fd(&rootfd);
	s->gc_fd = -1;
	*out = s;
	return 0;
}

int sw_image_store_open(sw_image_store **out, const char *state_dir, sw_error **err)
{
	cleanup_free char *dir = sw_xasprintf("%s/images", state_dir);

	return sw_image_store_open_layout(out, dir, err);
}

void sw_image_store_free(sw_image_store *s)
{
	if (!s)
		return;
	if (s->rootfd >= 0)
		close(s->rootfd);
	if (s->gc_fd >= 0)
		close(s->gc_fd);
	free(s->root);
	free(s);
}

const char *sw_image_store_root(const sw_image_store *s)
{
	return s->root;
}

int store_writer_lock(sw_image_store *s, sw_error **err)
{
	int fd;

	if (s->gc_fd >= 0)
		return 0;
	fd = openat(s->rootfd, ".gc.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return sw_error_set_errno(err, errno, "open %s/.gc.lock", s->root);
	while (flock(fd, LOCK_SH) < 0) {
		if (errno == EINTR)
			continue;
		int e = errno;
		close(fd);
		return sw_error_set_errno(err, e, "lock %s/.gc.lock", s->root);
	}
	s->gc_fd = fd;
	return 0;
}

char *store_blob_relpath(const char *digest)
{
	return sw_xasprintf("blobs/sha256/%s", digest + 7);
}

int store_tmpfile(sw_image_store *s, const char *prefix, char **relpath, sw_error **err)
{
	/* mkostemp needs a full path; the name stays unique under .tmp */
	cleanup_free char *path = sw_xasprintf("%s/.tmp/%s-XXXXXX", s->root, prefix);
	int fd = mkostemp(path, O_CLOEXEC);

	if (fd < 0)
		return sw_error_set_errno(err, errno, "create a temp file in %s/.tmp", s->root);
	*relpath = sw_xstrdup(path + strlen(s->root) + 1);
	return fd;
}

int store_tmpdir(sw_image_store *s, const char *prefix, char **path, sw_error **err)
{
	char *p = sw_xasprintf("%s/.tmp/%s-XXXXXX", s->root, prefix);

	if (!mkdtemp(p)) {
		int e = errno;
		free(p);
		return sw_error_set_errno(err, e, "create a temp folder in %s/.tmp", s->root);
	}
	*path = p;
	return 0;
}

static int remove_tree_at(int parent, const char *name, int depth)
{
	struct stat st;

	if (depth > 64)
		return -1;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISDIR(st.st_mode)) {
		int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		DIR *d;
		struct dirent *de;

		if (fd < 0)
			return -1;
		d = fdopendir(fd);
		if (!d) {
			close(fd);
			return -1;
		}
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (remove_tree_at(dirfd(d), de->d_name, depth + 1) < 0) {
				closedir(d);
				return -1;
			}
		}
		closedir(d);
		return unlinkat(parent, name, AT_REMOVEDIR);
	}
	return unlinkat(parent, name, 0);
}

int store_remove_tree(sw_image_store *s, const char *relpath, sw_error **err)
{
	if (remove_tree_at(s->rootfd, relpath, 0) < 0)
		return sw_error_set_errno(err, errno, "remove %s/%s", s->root, relpath);
	return 0;
}

/* ---- blob writer -------------------------------------------------------- */

int sw_blob_writer_new(sw_blob_writer **out, sw_image_store *s, sw_error **err)
{
	sw_blob_writer *w;
	char *tmp = NULL;
	int fd;

	if (store_writer_lock(s, err) < 0)
		return sw_error_wrap(err, "image store");
	fd = store_tmpfile(s, "blob", &tmp, err);
	if (fd < 0)
		return fd;
	w = sw_xcalloc(1, sizeof(*w));
	w->store = s;
	w->tmp = tmp;
	w->fd = fd;
	w->hash = sw_sha256_new();
	*out = w;
	return 0;
}

int sw_blob_writer_write(sw_blob_writer *w, const void *data, size_t len, sw_error **err)
{
	if (len == 0)
		return 0;
	if (sw_write_all(w->fd, data, len) < 0)
		return sw_error_set_errno(err, errno, "write %s/%s", w->store->root, w->tmp);
	sw_sha256_update(w->hash, data, len);
	w->size += (int64_t)len;
	return 0;
}

int64_t sw_blob_writer_size(const sw_blob_writer *w)
{
	return w->size;
}

static void fsync_dir(int rootfd, const char *rel)
{
	int fd = openat(rootfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int sw_blob_writer_commit(sw_blob_writer *w, const char *media_type, const char *expected,
                          sw_descriptor *out, sw_error **err)
{
	char digest[SW_DIGEST_LEN + 1];
	cleanup_free char *dst = NULL;

	if (w->fd < 0)
		return sw_error_set(err, SW_EINVALID, "blob writer already committed");
	sw_sha256_final(w->hash, digest);
	if (expected && strcmp(expected, digest) != 0)
		return sw_error_set(err, SW_EINVALID, "blob digest mismatch: expected %s, got %s", expected, digest);
	if (fchmod(w->fd, 0644) < 0 || fsync(w->fd) < 0)
		return sw_error_set_errno(err, errno, "sync %s/%s", w->store->root, w->tmp);
	close(steal_fd(&w->fd));
	dst = store_blob_relpath(digest);
	if (renameat(w->store->rootfd, w->tmp, w->store->rootfd, dst) < 0) {
		int e = errno;
		unlinkat(w->store->rootfd, w->tmp, 0);
		return sw_error_set_errno(err, e, "rename blob into %s/%s", w->store->root, dst);
	}
	fsync_dir(w->store->rootfd, "blobs/sha256");
	free(w->tmp);
	w->tmp = NULL;
	desc_set(out, media_type, digest, w->size);
	return 0;
}

void sw_blob_writer_free(sw_blob_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp) {
		unlinkat(w->store->rootfd, w->tmp, 0);
		free(w->tmp);
	}
	sw_sha256_free(w->hash);
	free(w);
}

static void sw_blob_writer_freep(sw_blob_writer **w)
{
	sw_blob_writer_free(*w);
}
#define cleanup_blob_writer __attribute__((cleanup(sw_blob_writer_freep)))

int sw_image_store_put_blob(sw_image_store *s, const char *media_type, const void *data, size_t len,
                            const char *expected, sw_descriptor *out, sw_error **err)
{
	cleanup_blob_writer sw_blob_writer *w = NULL;
	int r;

	if ((r = sw_blob_writer_new(&w, s, err)) < 0)
		return r;
	if ((r = sw_blob_writer_write(w, data, len, err)) < 0)
		return r;
	return sw_blob_writer_commit(w, media_type, expected, out, err);
}

int sw_image_store_put_blob_fd(sw_image_store *s, const char *media_type, int fd,
                               const char *expected, sw_descriptor *out, sw_error **err)
{
	cleanup_blob_writer sw_blob_writer *w = NULL;
	char buf[65536];
	int r;

	if ((r = sw_blob_writer_new(&w, s, err)) < 0)
		return r;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sw_error_set_errno(err, errno, "read blob content");
		if (n == 0)
			break;
		if ((r = sw_blob_writer_write(w, buf, (size_t)n, err)) < 0)
			return r;
	}
	return sw_blob_writer_commit(w, media_type, expected, out, err);
}

int sw_image_store_put_json(sw_image_store *s, const char *media_type, const json_t *doc,
                            sw_descriptor *out, sw_error **err)
{
	cleanup_free char *text = sw_json_canonical(doc);

	if (!text)
		return sw_error_set(err, SW_EINVALID, "cannot serialise a %s document", media_type);
	return sw_image_store_put_blob(s, media_type, text, strlen(text), NULL, out, err);
}

/* ---- reading ------------------------------------------------------------ */

bool sw_image_store_has_blob(sw_image_store *s, const char *digest)
{
	cleanup_free char *rel = NULL;
	struct stat st;

	if (!sw_digest_valid(digest))
		return false;
	rel = store_blob_relpath(digest);
	return fstatat(s->rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int sw_image_store_open_blob(sw_image_store *s, const char *digest, int64_t *size, sw_error **err)
{
	cleanup_free char *rel = NULL;
	struct stat st;
	int fd;

	if (!sw_digest_valid(digest))
		return sw_error_set(err, SW_EINVALID, "'%s' is not a sha256 digest", digest);
	rel = store_blob_relpath(digest);
	fd = openat(s->rootfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return sw_error_set(err, SW_ENOTFOUND, "blob %s is not in the store", digest);
		return sw_error_set_errno(err, errno, "open blob %s", digest);
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return sw_error_set(err, SW_EINVALID, "blob %s is not a regular file", digest);
	}
	if (size)
		*size = (int64_t)st.st_size;
	return fd;
}

int sw_image_store_read_blob(sw_image_store *s, const char *digest, size_t max, char **out,
                             size_t *len, sw_error **err)
{
	cleanup_close int fd = -1;
	cleanup_free char *data = NULL;
	char got[SW_DIGEST_LEN + 1];
	int64_t size = 0;
	size_t off = 0;

	fd = sw_image_store_open_blob(s, digest, &size, err);
	if (fd < 0)
		return fd;
	if ((uint64_t)size > max)
		return sw_error_set(err, SW_ETOOBIG, "blob %s is %lld bytes, more than the %zu allowed", digest,
		                    (long long)size, max);
	data = sw_xmalloc((size_t)size + 1);
	while (off < (size_t)size) {
		ssize_t n = read(fd, data + off, (size_t)size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sw_error_set_errno(err, errno, "read blob %s", digest);
		if (n == 0)
			return sw_error_set(err, SW_EINVALID, "blob %s: short read", digest);
		off += (size_t)n;
	}
	data[off] = '\0';
	sw_digest_bytes(got, data, off);
	if (strcmp(got, digest))
		return sw_error_set(err, SW_EINVALID, "blob %s is corrupt: its content hashes to %s", digest, got);
	*out = steal_pointer(&data);
	if (len)
		*len = off;
	return 0;
}

/* ---- descriptors -------------------------------------------------------- */

void desc_set(sw_descriptor *d, const char *media_type, const char *digest, int64_t size)
{
	snprintf(d->media_type, sizeof(d->media_type), "%s", media_type ? media_type : "");
	snprintf(d->digest, sizeof(d->digest), "%s", digest);
	d->size = size;
}

int desc_from_json(sw_descriptor *out, const json_t *j, const char *what, sw_error **err)
{
	const json_t *mt, *dg, *sz;

	if (!json_is_object(j))
		return sw_error_set(err, SW_EINVALID, "%s: descriptor is not an object", what);
	mt = json_object_get(j, "mediaType");
	dg = json_object_get(j, "digest");
	sz = json_object_get(j, "size");
	if (!json_is_string(mt) || json_string_length(mt) == 0 || json_string_length(mt) >= sizeof(out->media_type))
		return sw_error_set(err, SW_EINVALID, "%s: mediaType is missing or not a media type", what);
	if (!json_is_string(dg) || !sw_digest_valid(json_string_value(dg)))
		return sw_error_set(err, SW_EINVALID, "%s: digest is missing or not a sha256 digest", what);
	if (!json_is_integer(sz) || json_integer_value(sz) < 0)
		return sw_error_set(err, SW_EINVALID, "%s: size is missing or negative", what);
	desc_set(out, json_string_value(mt), json_string_value(dg), (int64_t)json_integer_value(sz));
	return 0;
}

json_t *desc_to_json(const sw_descriptor *d)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", d->media_type, "digest", d->digest, "size",
	                 (json_int_t)d->size);
}
