/*
 * release_archive.c - a release as one tar, for CI steps and air gaps:
 *
 *   blobs/sha256/<hex>     the artifact manifest, the release document and
 *                          the deploy manifests (or the empty blob)
 *   image.tar              the image as an oci-archive (sw_image_export)
 *   slipway-release.json   {"schemaVersion":1,"app","id","image"}
 *
 * Entries are sorted with fixed owners and times, so the same release gives
 * the same file. Import takes the image through the image store's verified
 * import, writes every other blob through the store's digest check, then
 * registers the release: the ID is the exported one. The image keeps no
 * name from the archive (it is pinned by the release), so an import never
 * moves a tag of the importing store. Secret values never leave the state
 * dir (the document holds their digests only).
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

#include "release_int.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/path.h"

#define META_NAME "slipway-release.json"
#define IMAGE_NAME "image.tar"
#define META_MAX (64u << 10)
#define IMPORT_MAX_ENTRIES 10000

static void archive_freep(struct archive **a)
{
	if (*a)
		archive_free(*a);
}
#define cleanup_archive __attribute__((cleanup(archive_freep)))

static void unlink_freep(char **p)
{
	if (*p) {
		unlink(*p);
		free(*p);
	}
}
#define cleanup_unlink __attribute__((cleanup(unlink_freep)))

static int ar_entry(struct archive *a, const char *name, unsigned type, int64_t size, sw_error **err)
{
	struct archive_entry *e = archive_entry_new();
	int r;

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, 0, 0);
	if (type == AE_IFREG)
		archive_entry_set_size(e, size);
	r = archive_write_header(a, e);
	archive_entry_free(e);
	if (r != ARCHIVE_OK)
		return sw_error_set(err, SW_EFAIL, "archive entry %s: %s", name, archive_error_string(a));
	return 0;
}

static int ar_copy_fd(struct archive *a, const char *name, int fd, int64_t size, sw_error **err)
{
	char buf[65536];
	int64_t left = size;
	int r;

	if ((r = ar_entry(a, name, AE_IFREG, size, err)) < 0)
		return r;
	while (left > 0) {
		ssize_t n = read(fd, buf, left < (int64_t)sizeof(buf) ? (size_t)left : sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? sw_error_set_errno(err, errno, "read %s", name)
			             : sw_error_set(err, SW_EINVALID, "%s shrank while it was archived", name);
		if (archive_write_data(a, buf, (size_t)n) != n)
			return sw_error_set(err, SW_EFAIL, "archive entry %s: %s", name, archive_error_string(a));
		left -= n;
	}
	return 0;
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static char *state_tmp(sw_releases *r, const char *what, int *fd, sw_error **err)
{
	char *p = sw_xasprintf("%s/.release-%s-XXXXXX", r->state_dir, what);

	*fd = mkostemp(p, O_CLOEXEC);
	if (*fd < 0) {
		sw_error_set_errno(err, errno, "create %s", p);
		free(p);
		return NULL;
	}
	return p;
}

static int write_release_tar(sw_releases *r, int out, const sw_release_info *info, const json_t *m,
                             const char *image_tar, sw_error **err)
{
	cleanup_archive struct archive *a = archive_write_new();
	cleanup_json json_t *meta = NULL;
	cleanup_free char *metatext = NULL;
	const char *blobs[1024];
	size_t n = 0, i;
	json_t *l;
	int ret;

	blobs[n++] = info->id;
	blobs[n++] = json_string_value(json_object_get(json_object_get(m, "config"), "digest"));
	json_array_foreach(json_object_get(m, "layers"), i, l) {
		if (n >= sizeof(blobs) / sizeof(blobs[0]))
			return sw_error_set(err, SW_ETOOBIG, "release %s has too many blobs", info->id);
		blobs[n++] = json_string_value(json_object_get(l, "digest"));
	}
	for (i = 0; i < n; i++)
		if (!blobs[i] || !sw_digest_valid(blobs[i]))
			return sw_error_set(err, SW_EINVALID, "release %s: a descriptor has no valid digest", info->id);
	qsort(blobs, n, sizeof(char *), cmp_strp);

	archive_write_set_format_pax_restricted(a);
	if (archive_write_open_fd(a, out) != ARCHIVE_OK)
		return sw_error_set(err, SW_EFAIL, "archive: %s", archive_error_string(a));
	if ((ret = ar_entry(a, "blobs", AE_IFDIR, 0, err)) < 0 || (ret = ar_entry(a, "blobs/sha256", AE_IFDIR, 0, err)) < 0)
		return ret;
	for (i = 0; i < n; i++) {
		cleanup_free char *name = NULL;
		int64_t size = 0;
		if (i > 0 && !strcmp(blobs[i], blobs[i - 1]))
			continue;
		cleanup_close int fd = sw_image_store_open_blob(r->store, blobs[i], &size, err);
		if (fd < 0)
			return sw_error_wrap(err, "release %s", info->id);
		name = sw_xasprintf("blobs/sha256/%s", blobs[i] + 7);
		if ((ret = ar_copy_fd(a, name, fd, size, err)) < 0)
			return ret;
	}
	{
		cleanup_close int fd = open(image_tar, O_RDONLY | O_CLOEXEC);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0)
			return sw_error_set_errno(err, errno, "open %s", image_tar);
		if ((ret = ar_copy_fd(a, IMAGE_NAME, fd, st.st_size, err)) < 0)
			return ret;
	}
	meta = json_pack("{s:i, s:s, s:s, s:s}", "schemaVersion", 1, "app", info->app, "id", info->id, "image",
	                 info->image);
	metatext = sw_json_canonical(meta);
	if ((ret = ar_entry(a, META_NAME, AE_IFREG, (int64_t)strlen(metatext), err)) < 0)
		return ret;
	if (archive_write_data(a, metatext, strlen(metatext)) != (la_ssize_t)strlen(metatext) ||
	    archive_write_close(a) != ARCHIVE_OK)
		return sw_error_set(err, SW_EFAIL, "archive: %s", archive_error_string(a));
	return 0;
}

int sw_release_export(sw_releases *r, const char *app, const char *what, const char *path, sw_error **err)
{
	cleanup_unlink char *image_tar = NULL;
	cleanup_unlink char *tmp = NULL;
	cleanup_json json_t *m = NULL;
	sw_release_info info = { 0 };
	int fd = -1, ret;

	if ((ret = sw_release_lookup(r, app, what, &info, err)) < 0)
		return ret;
	if ((ret = release_read_manifest(r, info.id, &m, err)) < 0)
		goto out;
	if (!(image_tar = state_tmp(r, "image", &fd, err))) {
		ret = SW_ESYSTEM;
		goto out;
	}
	close(fd);
	if ((ret = sw_image_export(r->store, info.image, image_tar, SW_ARCHIVE_OCI, err)) < 0) {
		sw_error_wrap(err, "release %s: image", info.id);
		goto out;
	}
	tmp = sw_xasprintf("%s.tmp-XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = sw_error_set_errno(err, errno, "create %s", tmp);
		free(tmp);
		tmp = NULL;
		goto out;
	}
	ret = write_release_tar(r, fd, &info, m, image_tar, err);
	if (ret == 0 && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
		ret = sw_error_set_errno(err, errno, "write %s", tmp);
	close(fd);
	if (ret == 0 && rename(tmp, path) < 0)
		ret = sw_error_set_errno(err, errno, "rename %s to %s", tmp, path);
	if (ret == 0) {
		free(tmp);
		tmp = NULL;
	}
out:
	if (ret < 0)
		sw_error_wrap(err, "export of %s %s", app, what);
	sw_release_info_release(&info);
	return ret;
}

/* ---- import ------------------------------------------------------------- */

static int read_entry_blob(sw_releases *r, struct archive *a, const char *name, sw_error **err)
{
	const char *hex = name + strlen("blobs/sha256/");
	char expected[SW_DIGEST_LEN + 1];
	sw_blob_writer *w = NULL;
	sw_descriptor d;
	char buf[65536];
	la_ssize_t n;
	int ret;

	snprintf(expected, sizeof(expected), "sha256:%s", hex);
	if (!sw_digest_valid(expected))
		return sw_error_set(err, SW_EINVALID, "%s: not a sha256 blob name", name);
	if ((ret = sw_blob_writer_new(&w, r->store, err)) < 0)
		return ret;
	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0) {
		if ((ret = sw_blob_writer_write(w, buf, (size_t)n, err)) < 0) {
			sw_blob_writer_free(w);
			return ret;
		}
	}
	if (n < 0) {
		sw_blob_writer_free(w);
		return sw_error_set(err, SW_EINVALID, "%s: %s", name, archive_error_string(a));
	}
	ret = sw_blob_writer_commit(w, NULL, expected, &d, err);
	sw_blob_writer_free(w);
	return ret < 0 ? sw_error_wrap(err, "%s", name) : 0;
}

static int read_entry_fd(struct archive *a, const char *name, int fd, sw_error **err)
{
	char buf[65536];
	la_ssize_t n;

	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
		if (sw_write_all(fd, buf, (size_t)n) < 0)
			return sw_error_set_errno(err, errno, "write %s", name);
	if (n < 0)
		return sw_error_set(err, SW_EINVALID, "%s: %s", name, archive_error_string(a));
	return 0;
}

static int read_entry_mem(struct archive *a, const char *name, int64_t size, char **out, sw_error **err)
{
	la_ssize_t n;

	if (size < 0 || size > META_MAX)
		return sw_error_set(err, SW_ETOOBIG, "%s is larger than %u bytes", name, META_MAX);
	*out = sw_xcalloc((size_t)size + 1, 1);
	n = archive_read_data(a, *out, (size_t)size);
	if (n != (la_ssize_t)size)
		return sw_error_set(err, SW_EINVALID, "%s: %s", name, n < 0 ? archive_error_string(a) : "truncated");
	return 0;
}

/* Reads the tar: blobs into the store (digest-checked), the image archive
 * into a temp file, the metadata into memory. */
static int read_release_tar(sw_releases *r, const char *path, char **meta, size_t *metalen, int image_fd,
                            bool *have_image, sw_error **err)
{
	cleanup_archive struct archive *a = archive_read_new();
	struct archive_entry *e;
	size_t count = 0;
	int rc, ret;

	archive_read_support_format_tar(a);
	archive_read_support_filter_all(a);
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK)
		return sw_error_set(err, errno == ENOENT ? SW_ENOTFOUND : SW_EINVALID, "%s: %s", path,
		                    archive_error_string(a));
	while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		if (++count > IMPORT_MAX_ENTRIES)
			return sw_error_set(err, SW_ETOOBIG, "%s: more than %d entries", path, IMPORT_MAX_ENTRIES);
		if (!name)
			return sw_error_set(err, SW_EINVALID, "%s: an entry has no name", path);
		if (!strncmp(name, "./", 2))
			name += 2;
		if (archive_entry_filetype(e) == AE_IFDIR) {
			if (strcmp(name, "blobs/") && strcmp(name, "blobs") && strcmp(name, "blobs/sha256/") &&
			    strcmp(name, "blobs/sha256"))
				return sw_error_set(err, SW_EINVALID, "%s: unexpected folder %s", path, name);
			continue;
		}
		if (archive_entry_filetype(e) != AE_IFREG)
			return sw_error_set(err, SW_EINVALID, "%s: %s is not a regular file", path, name);
		if (!strcmp(name, META_NAME)) {
			if (*meta)
				return sw_error_set(err, SW_EINVALID, "%s: %s given twice", path, name);
			ret = read_entry_mem(a, name, archive_entry_size(e), meta, err);
			*metalen = (size_t)archive_entry_size(e);
		} else if (!strcmp(name, IMAGE_NAME)) {
			if (*have_image)
				return sw_error_set(err, SW_EINVALID, "%s: %s given twice", path, name);
			*have_image = true;
			ret = read_entry_fd(a, name, image_fd, err);
		} else if (!strncmp(name, "blobs/sha256/", 13)) {
			ret = read_entry_blob(r, a, name, err);
		} else {
			return sw_error_set(err, SW_EINVALID, "%s: unexpected entry %s", path, name);
		}
		if (ret < 0)
			return sw_error_wrap(err, "%s", path);
	}
	if (rc != ARCHIVE_EOF)
		return sw_error_set(err, SW_EINVALID, "%s: %s", path, archive_error_string(a));
	if (!*meta || !*have_image)
		return sw_error_set(err, SW_EINVALID, "%s: not a slipway release archive (no %s or %s)", path, META_NAME,
		                    IMAGE_NAME);
	return 0;
}

/* The artifact's blobs are in the store with the sizes its descriptors say. */
static int check_artifact(sw_releases *r, const char *id, const json_t *m, sw_error **err)
{
	json_t *descs[2] = { json_object_get(m, "layers"), json_array() };
	size_t i;
	json_t *d;
	int ret = 0;

	json_array_append(descs[1], json_object_get(m, "config"));
	for (int k = 0; k < 2 && ret == 0; k++) {
		json_array_foreach(descs[k], i, d) {
			const char *digest = json_string_value(json_object_get(d, "digest"));
			int64_t size = 0;
			int fd;
			if (!digest || !sw_digest_valid(digest)) {
				ret = sw_error_set(err, SW_EINVALID, "release %s: a descriptor has no valid digest", id);
				break;
			}
			if ((fd = sw_image_store_open_blob(r->store, digest, &size, err)) < 0) {
				ret = sw_error_wrap(err, "release %s", id);
				break;
			}
			close(fd);
			if (size != json_integer_value(json_object_get(d, "size"))) {
				ret = sw_error_set(err, SW_EINVALID, "release %s: blob %s is %lld bytes, the manifest says %lld",
				                   id, digest, (long long)size,
				                   (long long)json_integer_value(json_object_get(d, "size")));
				break;
			}
		}
	}
	json_decref(descs[1]);
	return ret;
}

int sw_release_register_from_store(sw_releases *r, const char *id, const char *app, sw_release_info *out,
                                   sw_error **err)
{
	cleanup_json json_t *m = NULL, *doc = NULL;
	sw_release_info *v = NULL;
	const char *subject, *dapp, *image;
	size_t n = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!sw_digest_valid(id))
		return sw_error_set(err, SW_EINVALID, "'%s' is not a release ID (sha256:...)", id);
	if ((ret = release_read_manifest(r, id, &m, err)) < 0 || (ret = check_artifact(r, id, m, err)) < 0 ||
	    (ret = sw_release_document(r, id, &doc, err)) < 0)
		return ret;
	dapp = json_string_value(json_object_get(doc, "app"));
	image = json_string_value(json_object_get(doc, "image"));
	subject = json_string_value(json_object_get(json_object_get(m, "subject"), "digest"));
	if ((ret = sw_app_name_check(dapp, err)) < 0)
		return sw_error_wrap(err, "release %s", id);
	if (!subject || strcmp(subject, image) || (app && strcmp(app, dapp)))
		return sw_error_set(err, SW_EINVALID, "release %s: its subject, document and app disagree", id);
	if (!sw_image_store_has_blob(r->store, subject))
		return sw_error_set(err, SW_ENOTFOUND, "release %s: its image %s is not in the store", id, subject);
	if ((ret = release_db_query(r, dapp, RQ_PREFIX, 0, id, 1, &v, &n, err)) < 0)
		return ret;
	if (n == 1) {
		/* registering the same release twice registers it once */
		*out = v[0];
		free(v);
		return 0;
	}
	free(v);
	if ((ret = release_commit(r, dapp, doc, NULL, "import", out, err)) < 0)
		return ret;
	if (strcmp(out->id, id)) {
		/* the document is canonical, so this would be a bug: say so */
		ret = sw_error_set(err, SW_EINVALID, "release %s was registered as %s v%lld (a different ID)", id,
		                   out->app, (long long)out->version);
		sw_release_info_release(out);
		return ret;
	}
	return 0;
}

int sw_release_import(sw_releases *r, const char *path, sw_release_info *out, sw_error **err)
{
	cleanup_unlink char *image_tar = NULL;
	cleanup_free char *meta = NULL;
	cleanup_json json_t *mj = NULL, *m = NULL, *doc = NULL;
	sw_import_result res = { 0 };
	const char *id, *app, *subject;
	bool have_image = false;
	size_t metalen = 0;
	int fd = -1, ret;

	memset(out, 0, sizeof(*out));
	if (!(image_tar = state_tmp(r, "import", &fd, err)))
		return SW_ESYSTEM;
	ret = read_release_tar(r, path, &meta, &metalen, fd, &have_image, err);
	close(fd);
	if (ret < 0)
		return ret;
	if ((ret = sw_json_loadb(&mj, META_NAME, meta, metalen, err)) < 0)
		return sw_error_wrap(err, "%s", path);
	id = json_string_value(json_object_get(mj, "id"));
	app = json_string_value(json_object_get(mj, "app"));
	if (!id || !sw_digest_valid(id) || !app)
		return sw_error_set(err, SW_EINVALID, "%s: %s has no valid id or app", path, META_NAME);
	if ((ret = sw_app_name_check(app, err)) < 0 || (ret = release_read_manifest(r, id, &m, err)) < 0 ||
	    (ret = check_artifact(r, id, m, err)) < 0 || (ret = sw_release_document(r, id, &doc, err)) < 0)
		return sw_error_wrap(err, "%s", path);
	subject = json_string_value(json_object_get(json_object_get(m, "subject"), "digest"));
	if (!subject || strcmp(subject, json_string_value(json_object_get(doc, "image"))) ||
	    strcmp(app, json_string_value(json_object_get(doc, "app"))))
		return sw_error_set(err, SW_EINVALID, "%s: release %s: subject, document and %s disagree", path, id,
		                    META_NAME);
	/* the image comes in under a hidden tag of its own, not the archive's
	 * name, so an import never moves the importer's tags; the release pins
	 * it (slipway-release/APP:vN-image) and the temporary tag goes */
	cleanup_free char *tmpref = sw_xasprintf("%s%s:import-%.12s", SW_RELEASE_REF_PREFIX, app, id + 7);
	if ((ret = sw_image_import_archive(r->store, image_tar, tmpref, &res, err)) < 0)
		return sw_error_wrap(err, "%s: image", path);
	bool found = res.ndigests == 1 && !strcmp(res.digests[0], subject);
	sw_import_result_release(&res);
	if (!found) {
		ret = sw_error_set(err, SW_EINVALID, "%s: %s does not hold the release's image %s", path, IMAGE_NAME,
		                   subject);
	} else if ((ret = sw_release_register_from_store(r, id, app, out, err)) < 0) {
		sw_error_wrap(err, "%s", path);
	}
	sw_remove_result rr = { 0 };
	if (sw_image_store_remove(r->store, tmpref, &rr, NULL) == 0)
		sw_remove_result_release(&rr);
	return ret;
}
