/*
 * oci_index.c - index.json: tags, lookups, removal and pruning.
 *
 * Every change is a read-modify-write of index.json under an exclusive
 * flock on .lock, written to a temp file and renamed, so readers (who take
 * no lock) see the old or the new index and concurrent writers never lose
 * each other's tags. Prune also holds .gc.lock exclusively so that blobs
 * another process has written but not tagged yet are not taken away.
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

#define INDEX_MAX (64u << 20)
#define REF_MAX 512

/* ---- references --------------------------------------------------------- */

static bool ref_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._:@/+", c);
}

int sw_image_ref_normalize(char **out, const char *ref, sw_error **err)
{
	size_t n = strlen(ref);
	const char *slash, *colon;

	if (n == 0)
		return sw_error_set(err, SW_EINVALID, "empty image reference");
	if (n > REF_MAX)
		return sw_error_set(err, SW_EINVALID, "image reference is longer than %d characters", REF_MAX);
	for (const char *p = ref; *p; p++)
		if (!ref_char_ok(*p))
			return sw_error_set(err, SW_EINVALID,
			                    "image reference '%s': character '%c' is not allowed (A-Za-z0-9 and -._:@/+)",
			                    ref, *p);
	if (strchr(ref, '@'))
		return sw_error_set(err, SW_EINVALID, "image reference '%s': a digest cannot be a tag", ref);
	if (ref[0] == '/' || ref[0] == ':' || ref[n - 1] == '/' || ref[n - 1] == ':' || strstr(ref, "//"))
		return sw_error_set(err, SW_EINVALID, "image reference '%s' is not NAME[:TAG]", ref);
	slash = strrchr(ref, '/');
	colon = strrchr(slash ? slash : ref, ':');
	*out = colon ? sw_xstrdup(ref) : sw_xasprintf("%s:latest", ref);
	return 0;
}

void sw_image_ref_split(const char *ref, char **name, char **tag)
{
	const char *slash = strrchr(ref, '/');
	const char *colon = strrchr(slash ? slash : ref, ':');

	if (!colon) {
		*name = sw_xstrdup(ref);
		*tag = sw_xstrdup("latest");
		return;
	}
	*name = sw_xstrndup(ref, (size_t)(colon - ref));
	*tag = sw_xstrdup(colon + 1);
}

static const char *entry_ref(const json_t *m)
{
	json_t *a = json_object_get(json_object_get(m, "annotations"), SW_ANNOTATION_REF_NAME);

	return json_is_string(a) ? json_string_value(a) : NULL;
}

static const char *entry_digest(const json_t *m)
{
	json_t *d = json_object_get(m, "digest");

	return json_is_string(d) ? json_string_value(d) : NULL;
}

/* ---- index.json --------------------------------------------------------- */

int store_index_lock(sw_image_store *s, sw_error **err)
{
	int fd = openat(s->rootfd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return sw_error_set_errno(err, errno, "open %s/.lock", s->root);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		int e = errno;
		close(fd);
		return sw_error_set_errno(err, e, "lock %s/.lock", s->root);
	}
	return fd;
}

int store_index_load(sw_image_store *s, json_t **out, sw_error **err)
{
	cleanup_free char *path = sw_xasprintf("%s/index.json", s->root);
	cleanup_json json_t *idx = NULL;
	json_t *m;
	size_t i;
	int r;

	r = sw_json_load_file(&idx, path, INDEX_MAX, err);
	if (r == SW_ENOTFOUND) {
		sw_error_clear(err);
		*out = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", SW_MT_OCI_INDEX, "manifests");
		return 0;
	}
	if (r < 0)
		return r;
	m = json_object_get(idx, "manifests");
	if (!json_is_object(idx) || !json_is_array(m))
		return sw_error_set(err, SW_EINVALID, "%s: not an image index (no manifests array)", path);
	json_array_foreach(m, i, m) {
		sw_descriptor d;
		char what[64];
		snprintf(what, sizeof(what), "index.json manifests[%zu]", i);
		if (desc_from_json(&d, m, what, err) < 0)
			return sw_error_wrap(err, "%s", s->root);
	}
	*out = steal_pointer(&idx);
	return 0;
}

static int cmp_entries(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	const char *rx = entry_ref(x), *ry = entry_ref(y);
	int c;

	/* tagged first, by reference; then by digest */
	if (!rx != !ry)
		return rx ? -1 : 1;
	if (rx && (c = strcmp(rx, ry)))
		return c;
	return strcmp(entry_digest(x), entry_digest(y));
}

int store_index_save(sw_image_store *s, json_t *index, sw_error **err)
{
	json_t *m = json_object_get(index, "manifests");
	size_t n = json_array_size(m);
	cleanup_free json_t **v = sw_xcalloc(n ? n : 1, sizeof(*v));
	cleanup_free char *text = NULL;
	cleanup_free char *tmp = NULL;
	cleanup_close int fd = -1;
	json_t *sorted = json_array();
	size_t len;

	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(m, i);
	qsort(v, n, sizeof(*v), cmp_entries);
	for (size_t i = 0; i < n; i++)
		json_array_append(sorted, v[i]);
	json_object_set_new(index, "manifests", sorted);
	json_object_set_new(index, "schemaVersion", json_integer(2));
	json_object_set_new(index, "mediaType", json_string(SW_MT_OCI_INDEX));
	text = sw_json_canonical(index);
	len = strlen(text);

	fd = store_tmpfile(s, "index.json", &tmp, err);
	if (fd < 0)
		return fd;
	const char *p = text;
	size_t left = len;
	while (left > 0) {
		ssize_t w = write(fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;
			unlinkat(s->rootfd, tmp, 0);
			return sw_error_set_errno(err, e, "write %s/%s", s->root, tmp);
		}
		p += w;
		left -= (size_t)w;
	}
	if (fchmod(fd, 0644) < 0 || fsync(fd) < 0 || renameat(s->rootfd, tmp, s->rootfd, "index.json") < 0) {
		int e = errno;
		unlinkat(s->rootfd, tmp, 0);
		return sw_error_set_errno(err, e, "replace %s/index.json", s->root);
	}
	/* make the rename itself durable */
	int dfd = openat(s->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* ---- lookups ------------------------------------------------------------ */

static bool is_hex(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static bool index_has_digest(json_t *index, const char *digest)
{
	json_t *m;
	size_t i;

	json_array_foreach(json_object_get(index, "manifests"), i, m)
		if (!strcmp(entry_digest(m), digest))
			return true;
	return false;
}

/* Resolution against a loaded index (see sw_image_store_resolve). */
static int index_resolve(json_t *index, const char *ref, char out[SW_DIGEST_LEN + 1], sw_error **err)
{
	json_t *ms = json_object_get(index, "manifests"), *m;
	cleanup_free char *norm = NULL;
	const char *at = strchr(ref, '@');
	size_t i;

	if (sw_digest_valid(ref)) {
		if (!index_has_digest(index, ref))
			return sw_error_set(err, SW_ENOTFOUND, "image %s not found", ref);
		snprintf(out, SW_DIGEST_LEN + 1, "%s", ref);
		return 0;
	}
	if (at) {
		cleanup_free char *name = sw_xstrndup(ref, (size_t)(at - ref));
		const char *digest = at + 1;
		if (!sw_digest_valid(digest))
			return sw_error_set(err, SW_EINVALID, "image reference '%s': '%s' is not a sha256 digest", ref, digest);
		json_array_foreach(ms, i, m) {
			const char *r = entry_ref(m);
			cleanup_free char *n = NULL, *t = NULL;
			if (!r || strcmp(entry_digest(m), digest))
				continue;
			sw_image_ref_split(r, &n, &t);
			if (!strcmp(n, name)) {
				snprintf(out, SW_DIGEST_LEN + 1, "%s", digest);
				return 0;
			}
		}
		return sw_error_set(err, SW_ENOTFOUND, "image %s not found", ref);
	}
	if (sw_image_ref_normalize(&norm, ref, NULL) == 0) {
		json_array_foreach(ms, i, m) {
			const char *r = entry_ref(m);
			if (r && !strcmp(r, norm)) {
				snprintf(out, SW_DIGEST_LEN + 1, "%s", entry_digest(m));
				return 0;
			}
		}
	}
	/* a digest prefix */
	const char *hex = strncmp(ref, "sha256:", 7) ? ref : ref + 7;
	size_t n = strlen(hex);
	if (n >= 7 && n <= 64 && is_hex(hex)) {
		const char *found = NULL;
		json_array_foreach(ms, i, m) {
			const char *d = entry_digest(m);
			if (strncmp(d + 7, hex, n))
				continue;
			if (found && strcmp(found, d))
				return sw_error_set(err, SW_EAMBIGUOUS,
				                    "image id prefix '%s' is ambiguous: it matches %.19s and %.19s", ref,
				                    found, d);
			found = d;
		}
		if (found) {
			snprintf(out, SW_DIGEST_LEN + 1, "%s", found);
			return 0;
		}
	} else if (strlen(hex) < 7 && is_hex(hex) && !strncmp(ref, "sha256:", 7)) {
		return sw_error_set(err, SW_EINVALID, "image id prefix '%s' is too short (7 hex digits at least)", ref);
	}
	return sw_error_set(err, SW_ENOTFOUND, "image '%s' not found", ref);
}

int sw_image_store_resolve(sw_image_store *s, const char *ref, char out[SW_DIGEST_LEN + 1], sw_error **err)
{
	cleanup_json json_t *index = NULL;
	int r;

	if ((r = store_index_load(s, &index, err)) < 0)
		return r;
	return index_resolve(index, ref, out, err);
}

/* ---- tagging ------------------------------------------------------------ */

static int index_update(sw_image_store *s, const char *ref, const sw_descriptor *manifest, sw_error **err)
{
	cleanup_close int lock = -1;
	cleanup_json json_t *index = NULL;
	json_t *ms, *m, *entry;
	size_t i;
	int r;

	if (!sw_digest_valid(manifest->digest))
		return sw_error_set(err, SW_EINVALID, "'%s' is not a sha256 digest", manifest->digest);
	if (!sw_image_store_has_blob(s, manifest->digest))
		return sw_error_set(err, SW_ENOTFOUND, "manifest %s is not in the store", manifest->digest);
	if ((lock = store_index_lock(s, err)) < 0)
		return lock;
	if ((r = store_index_load(s, &index, err)) < 0)
		return r;
	ms = json_object_get(index, "manifests");
	for (i = 0; i < json_array_size(ms);) {
		m = json_array_get(ms, i);
		const char *er = entry_ref(m);
		if (ref ? (er && !strcmp(er, ref)) : (!strcmp(entry_digest(m), manifest->digest))) {
			if (!ref)
				return 0; /* already reachable */
			json_array_remove(ms, i);
			continue;
		}
		i++;
	}
	entry = desc_to_json(manifest);
	if (!manifest->media_type[0])
		json_object_set_new(entry, "mediaType", json_string(SW_MT_OCI_MANIFEST));
	if (ref)
		json_object_set_new(entry, "annotations", json_pack("{s:s}", SW_ANNOTATION_REF_NAME, ref));
	json_array_append_new(ms, entry);
	return store_index_save(s, index, err);
}

int sw_image_store_tag(sw_image_store *s, const char *ref, const sw_descriptor *manifest, sw_error **err)
{
	cleanup_free char *norm = NULL;
	int r;

	if ((r = sw_image_ref_normalize(&norm, ref, err)) < 0)
		return r;
	if ((r = index_update(s, norm, manifest, err)) < 0)
		return sw_error_wrap(err, "tag %s", norm);
	return 0;
}

int sw_image_store_add_untagged(sw_image_store *s, const sw_descriptor *manifest, sw_error **err)
{
	if (index_update(s, NULL, manifest, err) < 0)
		return sw_error_wrap(err, "add %s to the index", manifest->digest);
	return 0;
}

/* ---- reachability ------------------------------------------------------- */

static void reach_add(json_t *set, const char *digest)
{
	json_object_set_new(set, digest, json_true());
}

static int reach_manifest(sw_image_store *s, const char *digest, json_t *set, bool skip_missing, int depth,
                          sw_error **err)
{
	cleanup_free char *data = NULL;
	cleanup_json json_t *doc = NULL;
	size_t len = 0, i;
	json_t *d;
	int r;

	if (json_object_get(set, digest))
		return 0;
	reach_add(set, digest);
	if (depth > 8)
		return sw_error_set(err, SW_EINVALID, "manifest %s: indexes nested too deep", digest);
	r = sw_image_store_read_blob(s, digest, SW_MANIFEST_MAX, &data, &len, err);
	if (r == SW_ENOTFOUND && skip_missing) {
		sw_error_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	if (sw_json_loadb(&doc, digest, data, len, err) < 0)
		return SW_EINVALID;
	/* an index: its manifests; a manifest: config, layers, subject */
	json_array_foreach(json_object_get(doc, "manifests"), i, d) {
		if (json_is_string(json_object_get(d, "digest")) &&
		    sw_digest_valid(json_string_value(json_object_get(d, "digest"))) &&
		    (r = reach_manifest(s, json_string_value(json_object_get(d, "digest")), set, skip_missing,
		                        depth + 1, err)) < 0)
			return r;
	}
	d = json_object_get(json_object_get(doc, "config"), "digest");
	if (json_is_string(d) && sw_digest_valid(json_string_value(d)))
		reach_add(set, json_string_value(d));
	json_array_foreach(json_object_get(doc, "layers"), i, d) {
		json_t *ld = json_object_get(d, "digest");
		if (json_is_string(ld) && sw_digest_valid(json_string_value(ld)))
			reach_add(set, json_string_value(ld));
	}
	d = json_object_get(json_object_get(doc, "subject"), "digest");
	if (json_is_string(d) && sw_digest_valid(json_string_value(d)) &&
	    (r = reach_manifest(s, json_string_value(d), set, true, depth + 1, err)) < 0)
		return r;
	return 0;
}

int store_reachable(sw_image_store *s, json_t *index, bool skip_missing, json_t **out, sw_error **err)
{
	cleanup_json json_t *set = json_object();
	json_t *m;
	size_t i;
	int r;

	json_array_foreach(json_object_get(index, "manifests"), i, m)
		if ((r = reach_manifest(s, entry_digest(m), set, skip_missing, 0, err)) < 0)
			return r;
	*out = steal_pointer(&set);
	return 0;
}

/* ---- removal ------------------------------------------------------------ */

int sw_image_store_remove(sw_image_store *s, const char *ref, sw_remove_result *out, sw_error **err)
{
	cleanup_close int lock = -1;
	cleanup_json json_t *index = NULL;
	cleanup_json json_t *reach = NULL;
	cleanup_free char *norm = NULL;
	char digest[SW_DIGEST_LEN + 1] = "";
	json_t *ms, *m;
	bool by_tag = false;
	size_t i;
	int r;

	memset(out, 0, sizeof(*out));
	if ((lock = store_index_lock(s, err)) < 0)
		return lock;
	if ((r = store_index_load(s, &index, err)) < 0)
		return r;
	ms = json_object_get(index, "manifests");
	if (!strchr(ref, '@') && !sw_digest_valid(ref) && sw_image_ref_normalize(&norm, ref, NULL) == 0) {
		json_array_foreach(ms, i, m) {
			const char *er = entry_ref(m);
			if (er && !strcmp(er, norm)) {
				by_tag = true;
				snprintf(digest, sizeof(digest), "%s", entry_digest(m));
			}
		}
	}
	if (!by_tag && (r = index_resolve(index, ref, digest, err)) < 0)
		return r;
	for (i = 0; i < json_array_size(ms);) {
		m = json_array_get(ms, i);
		const char *er = entry_ref(m);
		bool drop = by_tag ? (er && !strcmp(er, norm)) : !strcmp(entry_digest(m), digest);
		if (drop && !by_tag && er && !strncmp(er, SW_IMAGE_PIN_PREFIX, strlen(SW_IMAGE_PIN_PREFIX))) {
			/* a release's pin: only removing it by name drops it */
			out->kept = sw_xreallocarray(out->kept, out->nkept + 1, sizeof(char *));
			out->kept[out->nkept++] = sw_xstrdup(er);
			drop = false;
		}
		if (!drop) {
			i++;
			continue;
		}
		if (er) {
			out->untagged = sw_xreallocarray(out->untagged, out->nuntagged + 1, sizeof(char *));
			out->untagged[out->nuntagged++] = sw_xstrdup(er);
		}
		json_array_remove(ms, i);
	}
	if ((r = store_index_save(s, index, err)) < 0) {
		sw_remove_result_release(out);
		return r;
	}
	/* delete the manifest if nothing in the index reaches it any more */
	if ((r = store_reachable(s, index, true, &reach, err)) < 0) {
		sw_remove_result_release(out);
		return sw_error_wrap(err, "image store index");
	}
	if (!json_object_get(reach, digest)) {
		cleanup_free char *rel = store_blob_relpath(digest);
		if (unlinkat(s->rootfd, rel, 0) < 0 && errno != ENOENT) {
			sw_remove_result_release(out);
			return sw_error_set_errno(err, errno, "delete manifest %s", digest);
		}
		out->deleted = sw_xreallocarray(out->deleted, out->ndeleted + 1, sizeof(*out->deleted));
		snprintf(out->deleted[out->ndeleted++], SW_DIGEST_LEN + 1, "%s", digest);
	}
	return 0;
}

void sw_remove_result_release(sw_remove_result *r)
{
	for (size_t i = 0; i < r->nuntagged; i++)
		free(r->untagged[i]);
	free(r->untagged);
	for (size_t i = 0; i < r->nkept; i++)
		free(r->kept[i]);
	free(r->kept);
	free(r->deleted);
	memset(r, 0, sizeof(*r));
}

/* ---- prune -------------------------------------------------------------- */

static int gc_lock_exclusive(sw_image_store *s, int *fd, sw_error **err)
{
	*fd = s->gc_fd >= 0 ? s->gc_fd : openat(s->rootfd, ".gc.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0)
		return sw_error_set_errno(err, errno, "open %s/.gc.lock", s->root);
	while (flock(*fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		return sw_error_set_errno(err, errno, "lock %s/.gc.lock", s->root);
	}
	return 0;
}

int sw_image_store_prune(sw_image_store *s, sw_prune_result *out, sw_error **err)
{
	cleanup_close int lock = -1;
	cleanup_json json_t *index = NULL;
	cleanup_json json_t *reach = NULL;
	cleanup_dir DIR *d = NULL;
	struct dirent *de;
	int gc = -1, r, dfd;

	memset(out, 0, sizeof(*out));
	if ((r = gc_lock_exclusive(s, &gc, err)) < 0)
		goto out;
	if ((lock = store_index_lock(s, err)) < 0) {
		r = lock;
		goto out;
	}
	if ((r = store_index_load(s, &index, err)) < 0)
		goto out;
	if ((r = store_reachable(s, index, false, &reach, err)) < 0) {
		r = sw_error_wrap(err, "prune: the index refers to a broken image (remove it first)");
		goto out;
	}
	dfd = openat(s->rootfd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || !(d = fdopendir(dfd))) {
		r = sw_error_set_errno(err, errno, "read %s/blobs/sha256", s->root);
		if (dfd >= 0)
			close(dfd);
		goto out;
	}
	while ((de = readdir(d))) {
		char digest[8 + sizeof(de->d_name)];
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		snprintf(digest, sizeof(digest), "sha256:%s", de->d_name);
		if (sw_digest_valid(digest) && json_object_get(reach, digest))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0) {
			r = sw_error_set_errno(err, errno, "delete blob %s", de->d_name);
			goto out;
		}
		out->removed = sw_xreallocarray(out->removed, out->nremoved + 1, sizeof(*out->removed));
		snprintf(out->removed[out->nremoved++], SW_DIGEST_LEN + 1, "%.71s", digest);
		out->bytes += (int64_t)st.st_size;
	}
	/* no writer holds .gc.lock, so whatever is in .tmp was abandoned */
	if ((r = store_remove_tree(s, ".tmp", err)) < 0)
		goto out;
	if (mkdirat(s->rootfd, ".tmp", 0700) < 0 && errno != EEXIST) {
		r = sw_error_set_errno(err, errno, "create %s/.tmp", s->root);
		goto out;
	}
	r = 0;
out:
	if (gc >= 0 && gc != s->gc_fd)
		close(gc);
	else if (gc >= 0)
		flock(gc, LOCK_SH); /* back to what this handle held */
	if (r < 0)
		sw_prune_result_release(out);
	return r;
}

void sw_prune_result_release(sw_prune_result *r)
{
	free(r->removed);
	memset(r, 0, sizeof(*r));
}
