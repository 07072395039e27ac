/*
 * image_archive.c - images in and out of the store as single files:
 * oci-archive (a tar of an OCI layout), docker-archive (what `docker save`
 * writes and `docker load` reads) and root filesystem tars.
 *
 * Export writes sorted entries with fixed owners and times, so the same
 * image always gives the same archive. Import reads every file of the
 * archive into a staging layout under .tmp (each blob hashed on the way
 * in), checks the images it describes, and only then moves their blobs
 * into the store and tags them: a bad archive leaves the store as it was.
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
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/path.h"

#define ARCHIVE_MAX_ENTRIES 100000
#define ARCHIVE_JSON_MAX (8u << 20)

static void archive_write_freep(struct archive **a)
{
	if (*a)
		archive_write_free(*a);
}
#define cleanup_archive_write __attribute__((cleanup(archive_write_freep)))

static void archive_read_freep(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}
#define cleanup_archive_read __attribute__((cleanup(archive_read_freep)))

/* ---- writing archives --------------------------------------------------- */

static struct archive_entry *new_entry(const char *name, unsigned type, unsigned perm, int64_t size)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, 0, 0);
	if (type == AE_IFREG)
		archive_entry_set_size(e, size);
	return e;
}

static int ar_add_dir(struct archive *a, const char *name, sw_error **err)
{
	struct archive_entry *e = new_entry(name, AE_IFDIR, 0755, 0);
	int r = archive_write_header(a, e);

	archive_entry_free(e);
	if (r != ARCHIVE_OK)
		return sw_error_set(err, SW_EFAIL, "archive entry %s: %s", name, archive_error_string(a));
	return 0;
}

static int ar_add_buf(struct archive *a, const char *name, const void *data, size_t len, sw_error **err)
{
	struct archive_entry *e = new_entry(name, AE_IFREG, 0644, (int64_t)len);
	int r = archive_write_header(a, e);

	archive_entry_free(e);
	if (r != ARCHIVE_OK || (len && archive_write_data(a, data, len) != (la_ssize_t)len))
		return sw_error_set(err, SW_EFAIL, "archive entry %s: %s", name, archive_error_string(a));
	return 0;
}

/* Copies size bytes of fd into the archive; if digest is set, the bytes must
 * hash to it. */
static int ar_add_fd(struct archive *a, const char *name, int fd, int64_t size, const char *digest,
                     sw_error **err)
{
	struct archive_entry *e = new_entry(name, AE_IFREG, 0644, size);
	sw_sha256 *h = sw_sha256_new();
	char buf[65536], got[SW_DIGEST_LEN + 1];
	int64_t left = size;
	int r = archive_write_header(a, e);

	archive_entry_free(e);
	if (r != ARCHIVE_OK) {
		sw_sha256_free(h);
		return sw_error_set(err, SW_EFAIL, "archive entry %s: %s", name, archive_error_string(a));
	}
	while (left > 0) {
		ssize_t n = read(fd, buf, left < (int64_t)sizeof(buf) ? (size_t)left : sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			sw_sha256_free(h);
			return n < 0 ? sw_error_set_errno(err, errno, "read %s", name)
			             : sw_error_set(err, SW_EINVALID, "%s shrank while it was archived", name);
		}
		sw_sha256_update(h, buf, (size_t)n);
		if (archive_write_data(a, buf, (size_t)n) != n) {
			sw_sha256_free(h);
			return sw_error_set(err, SW_EFAIL, "archive entry %s: %s", name, archive_error_string(a));
		}
		left -= n;
	}
	sw_sha256_final(h, got);
	sw_sha256_free(h);
	if (digest && strcmp(got, digest))
		return sw_error_set(err, SW_EINVALID, "blob %s is corrupt (hashes to %s)", digest, got);
	return 0;
}

static int ar_add_blob(sw_image_store *s, struct archive *a, const char *name, const char *digest,
                       sw_error **err)
{
	int64_t size = 0;
	cleanup_close int fd = sw_image_store_open_blob(s, digest, &size, err);

	if (fd < 0)
		return fd;
	return ar_add_fd(a, name, fd, size, digest, err);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int export_oci(sw_image_store *s, sw_image *img, const char *ref, struct archive *a, sw_error **err)
{
	cleanup_json json_t *index = NULL;
	cleanup_free char *text = NULL;
	json_t *desc;
	char **blobs = sw_xcalloc(img->nlayers + 2, sizeof(char *));
	size_t n = 0;
	int r = 0;

	blobs[n++] = sw_xstrdup(img->digest);
	blobs[n++] = sw_xstrdup(img->config_desc.digest);
	for (size_t i = 0; i < img->nlayers; i++)
		blobs[n++] = sw_xstrdup(img->layers[i].digest);
	qsort(blobs, n, sizeof(char *), cmp_str);

	if ((r = ar_add_dir(a, "blobs", err)) < 0 || (r = ar_add_dir(a, "blobs/sha256", err)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *name = NULL;
		if (i > 0 && !strcmp(blobs[i], blobs[i - 1]))
			continue;
		name = store_blob_relpath(blobs[i]);
		if ((r = ar_add_blob(s, a, name, blobs[i], err)) < 0)
			goto out;
	}
	desc = json_pack("{s:s, s:s, s:I}", "mediaType", SW_MT_OCI_MANIFEST, "digest", img->digest, "size",
	                 (json_int_t)img->manifest_size);
	if (ref)
		json_object_set_new(desc, "annotations", json_pack("{s:s}", SW_ANNOTATION_REF_NAME, ref));
	index = json_pack("{s:i, s:s, s:[o]}", "schemaVersion", 2, "mediaType", SW_MT_OCI_INDEX, "manifests", desc);
	text = sw_json_canonical(index);
	if ((r = ar_add_buf(a, "index.json", text, strlen(text), err)) < 0)
		goto out;
	r = ar_add_buf(a, "oci-layout", "{\"imageLayoutVersion\":\"" SW_MT_OCI_LAYOUT_VERSION "\"}",
	               strlen("{\"imageLayoutVersion\":\"" SW_MT_OCI_LAYOUT_VERSION "\"}"), err);
out:
	for (size_t i = 0; i < n; i++)
		free(blobs[i]);
	free(blobs);
	return r;
}

struct docker_file {
	char *name;
	const sw_descriptor *layer; /* NULL for the config */
	const char *diff_id;
};

static int cmp_docker_file(const void *a, const void *b)
{
	return strcmp(((const struct docker_file *)a)->name, ((const struct docker_file *)b)->name);
}

static int export_docker(sw_image_store *s, sw_image *img, const char *ref, struct archive *a, sw_error **err)
{
	struct docker_file *files = sw_xcalloc(img->nlayers + 1, sizeof(*files));
	cleanup_json json_t *manifest = NULL;
	cleanup_free char *text = NULL;
	json_t *layers = json_array(), *tags = json_array();
	size_t n = 0;
	int r = 0;

	files[n++] = (struct docker_file){ sw_xasprintf("%s.json", img->config_desc.digest + 7), NULL, NULL };
	for (size_t i = 0; i < img->nlayers; i++) {
		char *name = sw_xasprintf("%s.tar", img->diff_ids[i] + 7);
		json_array_append_new(layers, json_string(name));
		files[n++] = (struct docker_file){ name, &img->layers[i], img->diff_ids[i] };
	}
	qsort(files, n, sizeof(*files), cmp_docker_file);
	if (ref)
		json_array_append_new(tags, json_string(ref));
	manifest = json_pack("[{s:o, s:o, s:o}]", "Config", json_sprintf("%s.json", img->config_desc.digest + 7),
	                     "RepoTags", tags, "Layers", layers);

	for (size_t i = 0; i < n; i++) {
		cleanup_free char *tmp = NULL;
		cleanup_close int fd = -1;
		int64_t size = 0;
		if (i > 0 && !strcmp(files[i].name, files[i - 1].name))
			continue; /* the same layer twice */
		if (!files[i].layer) {
			if ((r = ar_add_blob(s, a, files[i].name, img->config_desc.digest, err)) < 0)
				goto out;
			continue;
		}
		/* docker-archive layers are plain tars: undo the compression into a
		 * temp file, checking the blob digest and the diff_id on the way */
		if ((fd = store_tmpfile(s, "layer", &tmp, err)) < 0) {
			r = fd;
			goto out;
		}
		unlinkat(s->rootfd, tmp, 0);
		if ((r = layer_decompress(s, files[i].layer, files[i].diff_id, fd, &size, err)) < 0 ||
		    (lseek(fd, 0, SEEK_SET) < 0 && (r = sw_error_set_errno(err, errno, "seek")) < 0) ||
		    (r = ar_add_fd(a, files[i].name, fd, size, files[i].diff_id, err)) < 0)
			goto out;
	}
	/* manifest.json is all `docker load` and skopeo need; the legacy
	 * "repositories" file and <id>/json folders are left out */
	text = sw_json_canonical(manifest);
	r = ar_add_buf(a, "manifest.json", text, strlen(text), err);
out:
	for (size_t i = 0; i < n; i++)
		free(files[i].name);
	free(files);
	return r;
}

static la_ssize_t fd_write_cb(struct archive *a, void *payload, const void *buf, size_t len)
{
	int fd = *(int *)payload;
	const char *p = buf;
	size_t left = len;

	while (left > 0) {
		ssize_t n = write(fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			archive_set_error(a, errno, "write failed");
			return -1;
		}
		p += n;
		left -= (size_t)n;
	}
	return (la_ssize_t)len;
}

int sw_image_export(sw_image_store *s, const char *ref, const char *path, enum sw_archive_format format,
                    sw_error **err)
{
	cleanup_archive_write struct archive *a = NULL;
	cleanup_free char *tmp = NULL;
	cleanup_free char *tag = NULL;
	sw_image *img = NULL;
	int fd = -1, r;
	bool to_stdout = !strcmp(path, "-");

	if ((r = store_writer_lock(s, err)) < 0 || (r = sw_image_store_load(&img, s, ref, err)) < 0)
		return r;
	/* name the image by the tag it was asked by, else by its only tag */
	if (sw_image_ref_normalize(&tag, ref, NULL) == 0) {
		bool found = false;
		for (size_t i = 0; i < img->nrefs; i++)
			found = found || !strcmp(img->refs[i], tag);
		if (!found) {
			free(tag);
			tag = NULL;
		}
	}
	if (!tag && img->nrefs == 1)
		tag = sw_xstrdup(img->refs[0]);

	if (to_stdout) {
		fd = 1;
	} else {
		tmp = sw_xasprintf("%s.tmp-XXXXXX", path);
		fd = mkostemp(tmp, O_CLOEXEC);
		if (fd < 0) {
			r = sw_error_set_errno(err, errno, "create %s", tmp);
			goto out;
		}
	}
	a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (archive_write_open2(a, &fd, NULL, fd_write_cb, NULL, NULL) != ARCHIVE_OK) {
		r = sw_error_set(err, SW_EFAIL, "write %s: %s", path, archive_error_string(a));
		goto out;
	}
	r = format == SW_ARCHIVE_DOCKER ? export_docker(s, img, tag, a, err) : export_oci(s, img, tag, a, err);
	if (r < 0)
		goto out;
	if (archive_write_close(a) != ARCHIVE_OK) {
		r = sw_error_set(err, SW_EFAIL, "write %s: %s", path, archive_error_string(a));
		goto out;
	}
	if (!to_stdout) {
		if (fchmod(fd, 0644) < 0 || fsync(fd) < 0 || rename(tmp, path) < 0) {
			r = sw_error_set_errno(err, errno, "write %s", path);
			goto out;
		}
		free(tmp);
		tmp = NULL;
	}
	r = 0;
out:
	if (r < 0)
		sw_error_wrap(err, "export %s", ref);
	if (fd >= 0 && !to_stdout)
		close(fd);
	if (tmp)
		unlink(tmp);
	sw_image_free(img);
	return r;
}

/* ---- reading archives --------------------------------------------------- */

/* The archive after staging: every regular file is a blob of the staging
 * layout; files maps its path to its digest, links maps symlinks. */
struct staged {
	sw_image_store *st;
	json_t *files; /* path -> digest */
	json_t *links; /* path -> target path */
};

static const char *staged_lookup(struct staged *g, const char *path)
{
	cleanup_free char *p = sw_path_clean(path);

	for (int hops = 0; hops < 16; hops++) {
		json_t *d = json_object_get(g->files, p);
		json_t *l = json_object_get(g->links, p);
		if (d)
			return json_string_value(d);
		if (!l)
			return NULL;
		free(p);
		p = sw_path_clean(json_string_value(l));
	}
	return NULL;
}

static int stage_archive(struct staged *g, const char *path, sw_error **err)
{
	cleanup_archive_read struct archive *a = archive_read_new();
	struct archive_entry *ae;
	size_t count = 0;

	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK)
		return sw_error_set(err, SW_EINVALID, "%s: %s", path, archive_error_string(a));
	for (;;) {
		cleanup_free char *name = NULL;
		const char *raw;
		int rh = archive_read_next_header(a, &ae);

		if (rh == ARCHIVE_EOF)
			break;
		if (rh != ARCHIVE_OK && rh != ARCHIVE_WARN)
			return sw_error_set(err, SW_EINVALID, "%s: not a valid tar archive: %s", path, archive_error_string(a));
		if (++count > ARCHIVE_MAX_ENTRIES)
			return sw_error_set(err, SW_ETOOBIG, "%s: more than %d entries", path, ARCHIVE_MAX_ENTRIES);
		raw = archive_entry_pathname(ae);
		if (!raw || raw[0] == '/' || !sw_path_is_beneath(raw) || strlen(raw) > 1024)
			return sw_error_set(err, SW_EESCAPE, "%s: entry '%s' has an absolute, escaping or bad path", path,
			                    raw ? raw : "");
		name = sw_path_clean(raw);
		if (archive_entry_filetype(ae) == AE_IFDIR)
			continue;
		if (archive_entry_filetype(ae) == AE_IFLNK || archive_entry_hardlink(ae)) {
			/* docker's legacy layout links repeated layers; resolve inside */
			const char *t = archive_entry_hardlink(ae) ? archive_entry_hardlink(ae) : archive_entry_symlink(ae);
			cleanup_free char *dir = NULL, *target = NULL;
			char *slash;
			if (!t || t[0] == '/')
				return sw_error_set(err, SW_EESCAPE, "%s: link %s points outside the archive", path, name);
			dir = sw_xstrdup(name);
			slash = strrchr(dir, '/');
			if (archive_entry_hardlink(ae) || !slash)
				target = sw_xstrdup(t);
			else
				target = sw_xasprintf("%.*s/%s", (int)(slash - dir), dir, t);
			if (!sw_path_is_beneath(target))
				return sw_error_set(err, SW_EESCAPE, "%s: link %s points outside the archive", path, name);
			json_object_set_new(g->links, name, json_string(target));
			continue;
		}
		if (archive_entry_filetype(ae) != AE_IFREG)
			return sw_error_set(err, SW_EINVALID, "%s: entry %s is not a file or folder", path, name);

		/* blobs/sha256/<hex> must hash to <hex>; anything else is kept by
		 * content until we know what it is */
		char expect[SW_DIGEST_LEN + 1] = "";
		if (!strncmp(name, "blobs/sha256/", 13)) {
			snprintf(expect, sizeof(expect), "sha256:%.64s", name + 13);
			if (strlen(name + 13) != 64 || !sw_digest_valid(expect))
				return sw_error_set(err, SW_EINVALID, "%s: %s is not named by a sha256 digest", path, name);
		}
		sw_blob_writer *w = NULL;
		sw_descriptor d;
		char buf[65536];
		int r;
		if ((r = sw_blob_writer_new(&w, g->st, err)) < 0)
			return r;
		for (;;) {
			la_ssize_t n = archive_read_data(a, buf, sizeof(buf));
			if (n < 0) {
				sw_blob_writer_free(w);
				return sw_error_set(err, SW_EINVALID, "%s: %s: %s", path, name, archive_error_string(a));
			}
			if (n == 0)
				break;
			if ((r = sw_blob_writer_write(w, buf, (size_t)n, err)) < 0) {
				sw_blob_writer_free(w);
				return r;
			}
		}
		r = sw_blob_writer_commit(w, NULL, expect[0] ? expect : NULL, &d, err);
		sw_blob_writer_free(w);
		if (r < 0)
			return sw_error_wrap(err, "%s: %s", path, name);
		json_object_set_new(g->files, name, json_string(d.digest));
	}
	return 0;
}

static int staged_json(struct staged *g, const char *digest, const char *what, json_t **out, sw_error **err)
{
	cleanup_free char *data = NULL;
	size_t len = 0;
	int r;

	if ((r = sw_image_store_read_blob(g->st, digest, ARCHIVE_JSON_MAX, &data, &len, err)) < 0)
		return sw_error_wrap(err, "%s", what);
	return sw_json_loadb(out, what, data, len, err);
}

/* Checks one manifest of the staged archive: blobs present with the sizes
 * the descriptors give, config valid, layers' diff_ids right. */
static int check_staged_image(struct staged *g, const sw_descriptor *md, json_t *reach, sw_error **err)
{
	cleanup_json json_t *m = NULL, *config = NULL;
	cleanup_free char *data = NULL;
	cleanup_close int null = -1;
	sw_descriptor cd, ld;
	json_t *layers, *ids, *l;
	int64_t size = 0;
	size_t len = 0, i;
	int fd, r;

	if ((fd = sw_image_store_open_blob(g->st, md->digest, &size, err)) < 0)
		return sw_error_wrap(err, "manifest");
	close(fd);
	if (size != md->size)
		return sw_error_set(err, SW_EINVALID, "manifest %s is %lld bytes, the index says %lld", md->digest,
		                    (long long)size, (long long)md->size);
	if ((r = store_read_manifest(g->st, md->digest, &m, err)) < 0)
		return r;
	json_object_set_new(reach, md->digest, json_true());
	desc_from_json(&cd, json_object_get(m, "config"), "config", NULL);
	if ((r = sw_image_store_read_blob(g->st, cd.digest, SW_CONFIG_MAX, &data, &len, err)) < 0)
		return sw_error_wrap(err, "image %s: config", md->digest);
	if ((int64_t)len != cd.size)
		return sw_error_set(err, SW_EINVALID, "config %s is %zu bytes, the manifest says %lld", cd.digest, len,
		                    (long long)cd.size);
	layers = json_object_get(m, "layers");
	if ((r = sw_json_loadb(&config, cd.digest, data, len, err)) < 0 ||
	    (r = sw_image_config_check(config, json_array_size(layers), cd.digest, err)) < 0)
		return sw_error_wrap(err, "image %s", md->digest);
	json_object_set_new(reach, cd.digest, json_true());
	ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	json_array_foreach(layers, i, l) {
		desc_from_json(&ld, l, "layer", NULL);
		if ((fd = sw_image_store_open_blob(g->st, ld.digest, &size, err)) < 0)
			return sw_error_wrap(err, "image %s: layer %zu", md->digest, i);
		close(fd);
		if (size != ld.size)
			return sw_error_set(err, SW_EINVALID, "layer %s is %lld bytes, the manifest says %lld", ld.digest,
			                    (long long)size, (long long)ld.size);
		if (!strcmp(ld.media_type, SW_MT_OCI_LAYER_GZIP) || !strcmp(ld.media_type, SW_MT_OCI_LAYER) ||
		    !strcmp(ld.media_type, SW_MT_OCI_LAYER_ZSTD) || !strcmp(ld.media_type, SW_MT_DOCKER_LAYER_GZIP)) {
			if ((r = layer_decompress(g->st, &ld, json_string_value(json_array_get(ids, i)), null, &size, err)) < 0 ||
			    (r = layer_check_tar(g->st, &ld, err)) < 0)
				return sw_error_wrap(err, "image %s", md->digest);
		}
		json_object_set_new(reach, ld.digest, json_true());
	}
	return 0;
}

struct found_image {
	sw_descriptor desc;
	char *ref; /* from the archive; may be NULL */
};

static int import_oci(struct staged *g, struct found_image **out, size_t *n, json_t *reach, sw_error **err)
{
	cleanup_json json_t *layout = NULL, *index = NULL;
	const char *ld = staged_lookup(g, "oci-layout"), *id = staged_lookup(g, "index.json");
	json_t *ms, *m, *v;
	size_t i;
	int r;

	if ((r = staged_json(g, ld, "oci-layout", &layout, err)) < 0)
		return r;
	v = json_object_get(layout, "imageLayoutVersion");
	if (!json_is_string(v) || strcmp(json_string_value(v), SW_MT_OCI_LAYOUT_VERSION))
		return sw_error_set(err, SW_EINVALID, "oci-layout: imageLayoutVersion is not %s", SW_MT_OCI_LAYOUT_VERSION);
	if ((r = staged_json(g, id, "index.json", &index, err)) < 0)
		return r;
	ms = json_object_get(index, "manifests");
	if (!json_is_array(ms) || json_array_size(ms) == 0)
		return sw_error_set(err, SW_EINVALID, "index.json lists no manifests");
	*out = sw_xcalloc(json_array_size(ms), sizeof(**out));
	json_array_foreach(ms, i, m) {
		char what[64];
		json_t *a = json_object_get(json_object_get(m, "annotations"), SW_ANNOTATION_REF_NAME);
		snprintf(what, sizeof(what), "index.json manifests[%zu]", i);
		if ((r = desc_from_json(&(*out)[i].desc, m, what, err)) < 0)
			return r;
		if (!strcmp((*out)[i].desc.media_type, SW_MT_OCI_INDEX))
			return sw_error_set(err, SW_EINVALID, "%s is a nested image index; import one platform's image instead",
			                    what);
		if ((r = check_staged_image(g, &(*out)[i].desc, reach, err)) < 0)
			return r;
		(*out)[i].ref = json_is_string(a) ? sw_xstrdup(json_string_value(a)) : NULL;
		*n = i + 1;
	}
	return 0;
}

static int import_docker(struct staged *g, struct found_image **out, size_t *n, json_t *reach, sw_error **err)
{
	cleanup_json json_t *manifest = NULL;
	const char *md = staged_lookup(g, "manifest.json");
	sw_layer_opts opts = { .compression = SW_COMPRESS_GZIP };
	json_t *img;
	size_t i;
	int r;

	if ((r = staged_json(g, md, "manifest.json", &manifest, err)) < 0)
		return r;
	if (!json_is_array(manifest) || json_array_size(manifest) == 0)
		return sw_error_set(err, SW_EINVALID, "manifest.json is not a list of images");
	*out = sw_xcalloc(json_array_size(manifest), sizeof(**out));
	json_array_foreach(manifest, i, img) {
		cleanup_json json_t *config = NULL;
		json_t *cfg = json_object_get(img, "Config"), *layers = json_object_get(img, "Layers");
		json_t *tags = json_object_get(img, "RepoTags"), *ids;
		const char *cdigest;
		sw_descriptor cd;
		sw_descriptor *ls;
		size_t j;

		if (!json_is_string(cfg) || !json_is_array(layers))
			return sw_error_set(err, SW_EINVALID, "manifest.json[%zu]: Config or Layers missing", i);
		if (!(cdigest = staged_lookup(g, json_string_value(cfg))))
			return sw_error_set(err, SW_EINVALID, "manifest.json[%zu]: config %s is not in the archive", i,
			                    json_string_value(cfg));
		if ((r = staged_json(g, cdigest, json_string_value(cfg), &config, err)) < 0 ||
		    (r = sw_image_config_check(config, json_array_size(layers), json_string_value(cfg), err)) < 0)
			return r;
		ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
		ls = sw_xcalloc(json_array_size(layers) + 1, sizeof(*ls));
		for (j = 0; j < json_array_size(layers); j++) {
			json_t *lp = json_array_get(layers, j);
			const char *ldigest = json_is_string(lp) ? staged_lookup(g, json_string_value(lp)) : NULL;
			sw_descriptor tmp;
			sw_layer_result res;
			int fd;
			if (!ldigest) {
				free(ls);
				return sw_error_set(err, SW_EINVALID, "manifest.json[%zu]: layer %zu is not in the archive", i, j);
			}
			desc_set(&tmp, SW_MT_OCI_LAYER, ldigest, 0);
			if ((fd = sw_image_store_open_blob(g->st, ldigest, NULL, err)) < 0) {
				free(ls);
				return fd;
			}
			/* the tar's digest must be the config's diff_id; store it gzipped */
			r = layer_recompress(g->st, fd, json_string_value(lp), json_string_value(json_array_get(ids, j)), &opts,
			                     &res, err);
			close(fd);
			if (r < 0) {
				free(ls);
				return r;
			}
			ls[j] = res.blob;
			json_object_set_new(reach, res.blob.digest, json_true());
		}
		desc_set(&cd, SW_MT_OCI_CONFIG, cdigest, 0);
		{
			int64_t size = 0;
			int fd = sw_image_store_open_blob(g->st, cdigest, &size, err);
			if (fd < 0) {
				free(ls);
				return fd;
			}
			close(fd);
			cd.size = size;
		}
		json_object_set_new(reach, cd.digest, json_true());
		r = sw_image_store_put_manifest(g->st, &cd, ls, json_array_size(layers), NULL, &(*out)[i].desc, err);
		free(ls);
		if (r < 0)
			return r;
		json_object_set_new(reach, (*out)[i].desc.digest, json_true());
		if (json_array_size(tags) > 0 && json_is_string(json_array_get(tags, 0)))
			(*out)[i].ref = sw_xstrdup(json_string_value(json_array_get(tags, 0)));
		*n = i + 1;
	}
	return 0;
}

static int publish(sw_image_store *s, struct staged *g, json_t *reach, sw_error **err)
{
	const char *digest;
	json_t *v;

	json_object_foreach(reach, digest, v) {
		cleanup_free char *rel = store_blob_relpath(digest);
		if (renameat(g->st->rootfd, rel, s->rootfd, rel) < 0)
			return sw_error_set_errno(err, errno, "move blob %s into %s", digest, s->root);
	}
	return 0;
}

int sw_image_import_archive(sw_image_store *s, const char *path, const char *ref, sw_import_result *out,
                            sw_error **err)
{
	struct staged g = { NULL, json_object(), json_object() };
	cleanup_json json_t *reach = json_object();
	cleanup_free char *dir = NULL;
	struct found_image *imgs = NULL;
	size_t nimgs = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (access(path, R_OK) < 0) {
		r = errno == ENOENT ? sw_error_set(err, SW_ENOTFOUND, "%s: no such file", path)
		                    : sw_error_set_errno(err, errno, "open %s", path);
		goto out;
	}
	if ((r = store_writer_lock(s, err)) < 0 || (r = store_tmpdir(s, "import", &dir, err)) < 0 ||
	    (r = sw_image_store_open_layout(&g.st, dir, err)) < 0)
		goto out;
	if ((r = stage_archive(&g, path, err)) < 0)
		goto out;
	if (staged_lookup(&g, "oci-layout") && staged_lookup(&g, "index.json"))
		r = import_oci(&g, &imgs, &nimgs, reach, err);
	else if (staged_lookup(&g, "manifest.json"))
		r = import_docker(&g, &imgs, &nimgs, reach, err);
	else
		r = sw_error_set(err, SW_EINVALID, "neither an oci-archive (oci-layout, index.json) nor a docker-archive (manifest.json)");
	if (r < 0) {
		sw_error_wrap(err, "%s", path);
		goto out;
	}
	if (ref && nimgs != 1) {
		r = sw_error_set(err, SW_EINVALID, "%s holds %zu images; import it without a reference", path, nimgs);
		goto out;
	}
	for (size_t i = 0; i < nimgs; i++) {
		cleanup_free char *norm = NULL;
		const char *name = ref ? ref : imgs[i].ref;
		if (name && (r = sw_image_ref_normalize(&norm, name, err)) < 0)
			goto out;
	}
	if ((r = publish(s, &g, reach, err)) < 0)
		goto out;
	for (size_t i = 0; i < nimgs; i++) {
		const char *name = ref ? ref : imgs[i].ref;
		r = name ? sw_image_store_tag(s, name, &imgs[i].desc, err) : sw_image_store_add_untagged(s, &imgs[i].desc, err);
		if (r < 0)
			goto out;
		out->digests = sw_xreallocarray(out->digests, out->ndigests + 1, sizeof(*out->digests));
		snprintf(out->digests[out->ndigests++], SW_DIGEST_LEN + 1, "%s", imgs[i].desc.digest);
		if (name) {
			cleanup_free char *norm = NULL;
			sw_image_ref_normalize(&norm, name, NULL);
			out->refs = sw_xreallocarray(out->refs, out->nrefs + 1, sizeof(char *));
			out->refs[out->nrefs++] = steal_pointer(&norm);
		}
	}
	r = 0;
out:
	if (r < 0)
		sw_import_result_release(out);
	for (size_t i = 0; i < nimgs; i++)
		free(imgs[i].ref);
	free(imgs);
	sw_image_store_free(g.st);
	if (dir)
		store_remove_tree(s, dir + strlen(s->root) + 1, NULL);
	json_decref(g.files);
	json_decref(g.links);
	return r;
}

void sw_import_result_release(sw_import_result *r)
{
	for (size_t i = 0; i < r->nrefs; i++)
		free(r->refs[i]);
	free(r->refs);
	free(r->digests);
	memset(r, 0, sizeof(*r));
}

/* ---- root filesystems --------------------------------------------------- */

int sw_image_import_rootfs(sw_image_store *s, const char *tar_path, const char *ref,
                           const sw_rootfs_opts *opts, sw_descriptor *out, sw_error **err)
{
	cleanup_close int fd = -1;
	cleanup_json json_t *config = NULL;
	cleanup_free char *norm = NULL;
	sw_layer_opts lo = { .compression = opts->compression, .epoch = opts->epoch };
	sw_layer_result res;
	sw_descriptor cd;
	sw_layer *l = NULL;
	int r;

	if ((r = sw_image_ref_normalize(&norm, ref, err)) < 0)
		return r;
	fd = open(tar_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? sw_error_set(err, SW_ENOTFOUND, "%s: no such file", tar_path)
		                       : sw_error_set_errno(err, errno, "open %s", tar_path);
	l = sw_layer_new();
	r = sw_layer_read_tar(l, s, fd, tar_path, err);
	if (r == 0)
		r = sw_layer_write(s, l, &lo, &res, err);
	sw_layer_free(l);
	if (r < 0)
		return sw_error_wrap(err, "import rootfs");
	config = sw_image_config_new(opts->arch ? opts->arch : "amd64", opts->os ? opts->os : "linux", opts->epoch);
	if ((r = sw_image_config_add_history(config, res.diff_id,
	                                     opts->created_by ? opts->created_by : "slipway image import --rootfs", NULL,
	                                     opts->epoch, false, err)) < 0 ||
	    (r = sw_image_store_put_json(s, SW_MT_OCI_CONFIG, config, &cd, err)) < 0 ||
	    (r = sw_image_store_put_manifest(s, &cd, &res.blob, 1, NULL, out, err)) < 0 ||
	    (r = sw_image_store_tag(s, norm, out, err)) < 0)
		return sw_error_wrap(err, "import rootfs %s", tar_path);
	return 0;
}
