/*
 * oci_image.c - image manifests and configs: reading with validation,
 * writing in canonical JSON, and the listing behind `slipway images`.
 *
 * Validation is what slipway relies on (media types, digests, sizes, one
 * diff_id per layer); unknown fields and media types are kept, as the
 * image spec requires.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "image_store_int.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"

/* ---- time --------------------------------------------------------------- */

int sw_source_date_epoch(int64_t *out, sw_error **err)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end = NULL;
	long long v;

	*out = 0;
	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < 0 || s[0] == '-' || s[0] == '+' || s[0] == ' ')
		return sw_error_set(err, SW_EINVALID, "SOURCE_DATE_EPOCH '%s' is not a number of seconds", s);
	*out = (int64_t)v;
	return 0;
}

void sw_format_rfc3339(char out[32], int64_t epoch)
{
	struct tm tm;
	time_t t = (time_t)epoch;

	if (!gmtime_r(&t, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "1970-01-01T00:00:00Z");
}

/* ---- validation --------------------------------------------------------- */

static bool is_layer_type(const char *mt)
{
	return !strncmp(mt, SW_MT_OCI_LAYER, strlen(SW_MT_OCI_LAYER)) ||
	       !strncmp(mt, "application/vnd.docker.image.rootfs.", 36);
}

int sw_image_manifest_check(const json_t *manifest, const char *what, sw_error **err)
{
	const json_t *v, *layers, *l;
	sw_descriptor d;
	size_t i;

	if (!json_is_object(manifest))
		return sw_error_set(err, SW_EINVALID, "manifest %s is not a JSON object", what);
	v = json_object_get(manifest, "schemaVersion");
	if (!json_is_integer(v) || json_integer_value(v) != 2)
		return sw_error_set(err, SW_EINVALID, "manifest %s: schemaVersion must be 2", what);
	v = json_object_get(manifest, "mediaType");
	if (v && (!json_is_string(v) || (strcmp(json_string_value(v), SW_MT_OCI_MANIFEST) &&
	                                 strcmp(json_string_value(v), SW_MT_DOCKER_MANIFEST))))
		return sw_error_set(err, SW_EINVALID, "manifest %s: mediaType %s is not an image manifest", what,
		                    json_is_string(v) ? json_string_value(v) : "(not a string)");
	if (json_object_get(manifest, "manifests"))
		return sw_error_set(err, SW_EINVALID, "manifest %s is an image index, not an image manifest", what);
	if (desc_from_json(&d, json_object_get(manifest, "config"), "config", err) < 0)
		return sw_error_wrap(err, "manifest %s", what);
	if (strcmp(d.media_type, SW_MT_OCI_CONFIG) && strcmp(d.media_type, SW_MT_DOCKER_CONFIG))
		return sw_error_set(err, SW_EINVALID, "manifest %s: config mediaType %s is not an image config", what,
		                    d.media_type);
	layers = json_object_get(manifest, "layers");
	if (!json_is_array(layers))
		return sw_error_set(err, SW_EINVALID, "manifest %s: layers is missing or not an array", what);
	json_array_foreach(layers, i, l) {
		char name[32];
		snprintf(name, sizeof(name), "layers[%zu]", i);
		if (desc_from_json(&d, l, name, err) < 0)
			return sw_error_wrap(err, "manifest %s", what);
		if (!is_layer_type(d.media_type))
			return sw_error_set(err, SW_EINVALID, "manifest %s: layers[%zu] mediaType %s is not a layer", what,
			                    i, d.media_type);
	}
	return 0;
}

static int check_strings(const json_t *a, const char *field, const char *what, sw_error **err)
{
	const json_t *v;
	size_t i;

	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return sw_error_set(err, SW_EINVALID, "config %s: %s is not an array of strings", what, field);
	json_array_foreach(a, i, v)
		if (!json_is_string(v))
			return sw_error_set(err, SW_EINVALID, "config %s: %s[%zu] is not a string", what, field, i);
	return 0;
}

int sw_image_config_check(const json_t *config, size_t nlayers, const char *what, sw_error **err)
{
	const json_t *v, *rootfs, *ids, *c;
	size_t i;

	if (!json_is_object(config))
		return sw_error_set(err, SW_EINVALID, "config %s is not a JSON object", what);
	v = json_object_get(config, "architecture");
	if (!json_is_string(v) || !json_string_length(v))
		return sw_error_set(err, SW_EINVALID, "config %s: architecture is missing", what);
	v = json_object_get(config, "os");
	if (!json_is_string(v) || !json_string_length(v))
		return sw_error_set(err, SW_EINVALID, "config %s: os is missing", what);
	v = json_object_get(config, "created");
	if (v && !json_is_string(v))
		return sw_error_set(err, SW_EINVALID, "config %s: created is not a string", what);
	rootfs = json_object_get(config, "rootfs");
	v = json_object_get(rootfs, "type");
	if (!json_is_object(rootfs) || !json_is_string(v) || strcmp(json_string_value(v), "layers"))
		return sw_error_set(err, SW_EINVALID, "config %s: rootfs.type must be \"layers\"", what);
	ids = json_object_get(rootfs, "diff_ids");
	if (!json_is_array(ids))
		return sw_error_set(err, SW_EINVALID, "config %s: rootfs.diff_ids is missing", what);
	json_array_foreach(ids, i, v)
		if (!json_is_string(v) || !sw_digest_valid(json_string_value(v)))
			return sw_error_set(err, SW_EINVALID, "config %s: rootfs.diff_ids[%zu] is not a sha256 digest", what,
			                    i);
	if (json_array_size(ids) != nlayers)
		return sw_error_set(err, SW_EINVALID, "config %s: %zu diff_ids for %zu layers", what,
		                    json_array_size(ids), nlayers);
	c = json_object_get(config, "config");
	if (c && !json_is_null(c)) {
		if (!json_is_object(c))
			return sw_error_set(err, SW_EINVALID, "config %s: config is not an object", what);
		if (check_strings(json_object_get(c, "Env"), "config.Env", what, err) < 0 ||
		    check_strings(json_object_get(c, "Cmd"), "config.Cmd", what, err) < 0 ||
		    check_strings(json_object_get(c, "Entrypoint"), "config.Entrypoint", what, err) < 0)
			return SW_EINVALID;
	}
	v = json_object_get(config, "history");
	if (v && !json_is_array(v))
		return sw_error_set(err, SW_EINVALID, "config %s: history is not an array", what);
	return 0;
}

/* ---- reading ------------------------------------------------------------ */

int store_read_manifest(sw_image_store *s, const char *digest, json_t **out, sw_error **err)
{
	cleanup_free char *data = NULL;
	cleanup_json json_t *doc = NULL;
	size_t len = 0;
	int r;

	if ((r = sw_image_store_read_blob(s, digest, SW_MANIFEST_MAX, &data, &len, err)) < 0)
		return sw_error_wrap(err, "manifest %s", digest);
	if ((r = sw_json_loadb(&doc, digest, data, len, err)) < 0)
		return sw_error_wrap(err, "manifest");
	if ((r = sw_image_manifest_check(doc, digest, err)) < 0)
		return r;
	*out = steal_pointer(&doc);
	return 0;
}

static int image_load_digest(sw_image **out, sw_image_store *s, const char *digest, json_t *index,
                             sw_error **err)
{
	sw_image *img = sw_xcalloc(1, sizeof(*img));
	cleanup_free char *data = NULL;
	json_t *layers, *l, *ids, *m;
	size_t len = 0, i;
	int64_t msize = 0;
	int r, fd;

	snprintf(img->digest, sizeof(img->digest), "%s", digest);
	if ((fd = sw_image_store_open_blob(s, digest, &msize, err)) < 0) {
		r = fd;
		goto fail;
	}
	close(fd);
	img->manifest_size = msize;
	if ((r = store_read_manifest(s, digest, &img->manifest, err)) < 0)
		goto fail;
	desc_from_json(&img->config_desc, json_object_get(img->manifest, "config"), "config", NULL);
	layers = json_object_get(img->manifest, "layers");
	img->nlayers = json_array_size(layers);
	img->layers = sw_xcalloc(img->nlayers ? img->nlayers : 1, sizeof(*img->layers));
	img->diff_ids = sw_xcalloc(img->nlayers ? img->nlayers : 1, sizeof(*img->diff_ids));
	img->size = msize + img->config_desc.size;
	json_array_foreach(layers, i, l) {
		desc_from_json(&img->layers[i], l, "layer", NULL);
		img->size += img->layers[i].size;
	}
	if ((r = sw_image_store_read_blob(s, img->config_desc.digest, SW_CONFIG_MAX, &data, &len, err)) < 0) {
		r = sw_error_wrap(err, "image %s: config", digest);
		goto fail;
	}
	if ((int64_t)len != img->config_desc.size) {
		r = sw_error_set(err, SW_EINVALID, "image %s: config %s is %zu bytes, the manifest says %lld", digest,
		                 img->config_desc.digest, len, (long long)img->config_desc.size);
		goto fail;
	}
	if ((r = sw_json_loadb(&img->config, img->config_desc.digest, data, len, err)) < 0 ||
	    (r = sw_image_config_check(img->config, img->nlayers, img->config_desc.digest, err)) < 0) {
		r = sw_error_wrap(err, "image %s", digest);
		goto fail;
	}
	ids = json_object_get(json_object_get(img->config, "rootfs"), "diff_ids");
	for (i = 0; i < img->nlayers; i++)
		snprintf(img->diff_ids[i], SW_DIGEST_LEN + 1, "%s", json_string_value(json_array_get(ids, i)));
	json_array_foreach(json_object_get(index, "manifests"), i, m) {
		json_t *a = json_object_get(json_object_get(m, "annotations"), SW_ANNOTATION_REF_NAME);
		if (!json_is_string(a) || strcmp(json_string_value(json_object_get(m, "digest")), digest))
			continue;
		img->refs = sw_xreallocarray(img->refs, img->nrefs + 1, sizeof(char *));
		img->refs[img->nrefs++] = sw_xstrdup(json_string_value(a));
	}
	*out = img;
	return 0;
fail:
	sw_image_free(img);
	return r;
}

int sw_image_store_load(sw_image **out, sw_image_store *s, const char *ref, sw_error **err)
{
	cleanup_json json_t *index = NULL;
	char digest[SW_DIGEST_LEN + 1];
	int r;

	if ((r = store_index_load(s, &index, err)) < 0)
		return r;
	if ((r = sw_image_store_resolve(s, ref, digest, err)) < 0)
		return r;
	return image_load_digest(out, s, digest, index, err);
}

void sw_image_free(sw_image *img)
{
	if (!img)
		return;
	json_decref(img->manifest);
	json_decref(img->config);
	free(img->layers);
	free(img->diff_ids);
	for (size_t i = 0; i < img->nrefs; i++)
		free(img->refs[i]);
	free(img->refs);
	free(img);
}

static int cmp_summary(const void *a, const void *b)
{
	const sw_image_summary *x = a, *y = b;
	int c;

	if (!x->ref != !y->ref)
		return x->ref ? -1 : 1;
	if (x->ref && (c = strcmp(x->ref, y->ref)))
		return c;
	return strcmp(x->digest, y->digest);
}

int sw_image_store_list(sw_image_summary **out, size_t *n, sw_image_store *s, sw_error **err)
{
	cleanup_json json_t *index = NULL;
	sw_image_summary *v;
	json_t *ms, *m;
	size_t i;
	int r;

	if ((r = store_index_load(s, &index, err)) < 0)
		return r;
	ms = json_object_get(index, "manifests");
	v = sw_xcalloc(json_array_size(ms) + 1, sizeof(*v));
	json_array_foreach(ms, i, m) {
		json_t *a = json_object_get(json_object_get(m, "annotations"), SW_ANNOTATION_REF_NAME);
		const char *digest = json_string_value(json_object_get(m, "digest"));
		sw_image *img = NULL;
		sw_error *e = NULL;

		v[i].ref = json_is_string(a) ? sw_xstrdup(json_string_value(a)) : NULL;
		snprintf(v[i].digest, sizeof(v[i].digest), "%s", digest);
		v[i].size = -1; /* unreadable: listed so it can be removed */
		if (image_load_digest(&img, s, digest, index, &e) == 0) {
			json_t *c = json_object_get(img->config, "created");
			v[i].created = json_is_string(c) ? sw_xstrdup(json_string_value(c)) : NULL;
			v[i].size = img->size;
			sw_image_free(img);
		}
		sw_error_free(e);
	}
	*n = json_array_size(ms);
	qsort(v, *n, sizeof(*v), cmp_summary);
	*out = v;
	return 0;
}

void sw_image_summaries_free(sw_image_summary *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].ref);
		free(v[i].created);
	}
	free(v);
}

/* ---- writing ------------------------------------------------------------ */

json_t *sw_image_config_new(const char *arch, const char *os, int64_t created)
{
	char when[32];

	sw_format_rfc3339(when, created);
	return json_pack("{s:s, s:s, s:s, s:{s:[s]}, s:{s:s, s:[]}, s:[]}", "architecture", arch, "os", os,
	                 "created", when, "config", "Env", SW_IMAGE_DEFAULT_PATH, "rootfs", "type", "layers",
	                 "diff_ids", "history");
}

int sw_image_config_add_history(json_t *config, const char *diff_id, const char *created_by,
                                const char *comment, int64_t created, bool empty_layer, sw_error **err)
{
	json_t *rootfs = json_object_get(config, "rootfs");
	json_t *ids = json_object_get(rootfs, "diff_ids");
	json_t *hist = json_object_get(config, "history");
	json_t *h;
	char when[32];

	if (!json_is_array(ids))
		return sw_error_set(err, SW_EINVALID, "image config has no rootfs.diff_ids");
	if (!empty_layer && !sw_digest_valid(diff_id))
		return sw_error_set(err, SW_EINVALID, "diff_id '%s' is not a sha256 digest", diff_id ? diff_id : "");
	if (!json_is_array(hist)) {
		hist = json_array();
		json_object_set_new(config, "history", hist);
	}
	sw_format_rfc3339(when, created);
	h = json_pack("{s:s}", "created", when);
	if (created_by)
		json_object_set_new(h, "created_by", json_string(created_by));
	if (comment)
		json_object_set_new(h, "comment", json_string(comment));
	if (empty_layer)
		json_object_set_new(h, "empty_layer", json_true());
	else
		json_array_append_new(ids, json_string(diff_id));
	json_array_append_new(hist, h);
	return 0;
}

int sw_image_store_put_manifest(sw_image_store *s, const sw_descriptor *config, const sw_descriptor *layers,
                                size_t nlayers, const json_t *annotations, sw_descriptor *out, sw_error **err)
{
	cleanup_json json_t *m = NULL;
	json_t *ls = json_array();

	for (size_t i = 0; i < nlayers; i++)
		json_array_append_new(ls, desc_to_json(&layers[i]));
	m = json_pack("{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType", SW_MT_OCI_MANIFEST, "config",
	              desc_to_json(config), "layers", ls);
	if (annotations && json_object_size(annotations))
		json_object_set(m, "annotations", (json_t *)annotations);
	if (sw_image_manifest_check(m, "being written", err) < 0)
		return SW_EINVALID;
	if (!sw_image_store_has_blob(s, config->digest))
		return sw_error_set(err, SW_ENOTFOUND, "config %s is not in the store", config->digest);
	for (size_t i = 0; i < nlayers; i++)
		if (!sw_image_store_has_blob(s, layers[i].digest))
			return sw_error_set(err, SW_ENOTFOUND, "layer %s is not in the store", layers[i].digest);
	return sw_image_store_put_json(s, SW_MT_OCI_MANIFEST, m, out, err);
}
