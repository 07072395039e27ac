/*
 * build_cache.c - the build cache index: one small JSON file per step key
 * under STATE/build-cache/<hex>, written atomically, naming the layer the
 * step produced (blob descriptor and diff_id) or that it produced none.
 *
 * A key is sha256(parent key + "\n" + what the step does): the caller
 * decides what goes into the text (builder_copy.c, builder_run.c). An entry
 * whose blob was pruned from the store is a miss. Not here: the layers
 * themselves (the image store) or their unpacked copies (layer cache).
 */
#include <string.h>

#include "builder_int.h"
#include "slipway/cleanup.h"
#include "slipway/digest.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/path.h"

#define CACHE_ENTRY_MAX 4096

void bcache_key(char out[SW_DIGEST_LEN + 1], const char *parent, const char *text, size_t len)
{
	sw_sha256 *h = sw_sha256_new();

	sw_sha256_update(h, parent, strlen(parent));
	sw_sha256_update(h, "\n", 1);
	sw_sha256_update(h, text, len);
	sw_sha256_final(h, out);
	sw_sha256_free(h);
}

static char *entry_path(struct builder *b, const char *key)
{
	return sw_xasprintf("%s/%s", b->cache_dir, key + strlen("sha256:"));
}

int bcache_get(struct builder *b, const char *key, struct bcache_entry *out)
{
	cleanup_free char *path = entry_path(b, key);
	cleanup_json json_t *j = NULL;
	sw_error *err = NULL;
	const char *digest, *mt, *diff;

	memset(out, 0, sizeof(*out));
	if (sw_json_load_file(&j, path, CACHE_ENTRY_MAX, &err) < 0) {
		sw_error_free(err);
		return 0;
	}
	if (json_is_true(json_object_get(j, "empty"))) {
		out->empty = true;
		return 1;
	}
	digest = json_string_value(json_object_get(j, "digest"));
	mt = json_string_value(json_object_get(j, "mediaType"));
	diff = json_string_value(json_object_get(j, "diff_id"));
	if (!digest || !mt || !diff || !sw_digest_valid(digest) || !sw_digest_valid(diff) ||
	    strlen(mt) >= sizeof(out->layer.blob.media_type) ||
	    !json_is_integer(json_object_get(j, "size")))
		return 0;
	if (!sw_image_store_has_blob(b->store, digest))
		return 0;
	strcpy(out->layer.blob.digest, digest);
	strcpy(out->layer.blob.media_type, mt);
	out->layer.blob.size = json_integer_value(json_object_get(j, "size"));
	strcpy(out->layer.diff_id, diff);
	return 1;
}

int bcache_put(struct builder *b, const char *key, const struct bcache_entry *e, sw_error **err)
{
	cleanup_free char *path = entry_path(b, key);
	cleanup_json json_t *j = NULL;
	cleanup_free char *text = NULL;

	if (e->empty)
		j = json_pack("{s:b}", "empty", 1);
	else
		j = json_pack("{s:s, s:s, s:I, s:s}", "mediaType", e->layer.blob.media_type, "digest",
		              e->layer.blob.digest, "size", (json_int_t)e->layer.blob.size, "diff_id",
		              e->layer.diff_id);
	text = sw_json_canonical(j);
	return sw_write_file_atomic(path, text, strlen(text), 0600, err);
}
