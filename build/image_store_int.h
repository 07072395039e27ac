/*
 * image_store_int.h - private parts of the image store shared by its files
 * (oci_blob.c, oci_index.c, oci_image.c, layer_*.c, image_archive.c).
 */
#ifndef SLIPWAY_IMAGE_STORE_INT_H
#define SLIPWAY_IMAGE_STORE_INT_H

#include <jansson.h>
#include <stdbool.h>

#include "slipway/image_store.h"

struct sw_image_store {
	char *root;      /* the layout folder */
	int rootfd;      /* O_PATH|O_DIRECTORY of root */
	int gc_fd;       /* .gc.lock; -1 until this handle first writes a blob */
};

/* Takes the shared .gc.lock (once per handle) so prune in another process
 * waits for this writer's blobs to be referenced or abandoned. */
int store_writer_lock(sw_image_store *s, sw_error **err);

/* Exclusive flock on .lock for an index.json read-modify-write; returns the
 * fd to close (which unlocks). */
int store_index_lock(sw_image_store *s, sw_error **err);
/* index.json as an object with a "manifests" array (an empty index if the
 * file is missing). */
int store_index_load(sw_image_store *s, json_t **out, sw_error **err);
/* Writes index.json atomically (temp file, fsync, rename); manifests sorted
 * by ref name so the file is deterministic. */
int store_index_save(sw_image_store *s, json_t *index, sw_error **err);

/* "blobs/sha256/<hex>" for a valid digest. */
char *store_blob_relpath(const char *digest);
/* A new temp file under .tmp; *relpath is relative to the root. */
int store_tmpfile(sw_image_store *s, const char *prefix, char **relpath, sw_error **err);
/* A new folder under .tmp (for staging); returns its absolute path. */
int store_tmpdir(sw_image_store *s, const char *prefix, char **path, sw_error **err);
/* rm -rf of a path under the root (relative). */
int store_remove_tree(sw_image_store *s, const char *relpath, sw_error **err);

/* Reads and validates the manifest blob (media type may be NULL). */
int store_read_manifest(sw_image_store *s, const char *digest, json_t **out, sw_error **err);

/* The set of digests reachable from index (manifests, configs, layers,
 * subjects, nested indexes): a JSON object used as a set. Missing blobs are
 * skipped when skip_missing, else reported. */
int store_reachable(sw_image_store *s, json_t *index, bool skip_missing, json_t **out, sw_error **err);

/* Parses a descriptor object; what names it in errors. */
int desc_from_json(sw_descriptor *out, const json_t *j, const char *what, sw_error **err);
json_t *desc_to_json(const sw_descriptor *d);
void desc_set(sw_descriptor *d, const char *media_type, const char *digest, int64_t size);

/* Layer helpers for the archive code: writes a tar stream read from fd
 * (already uncompressed or not: every filter libarchive knows is undone)
 * into a compressed blob; checks its uncompressed digest against
 * expect_diff_id when given. */
int layer_recompress(sw_image_store *s, int fd, const char *what, const char *expect_diff_id,
                     const sw_layer_opts *opts, sw_layer_result *out, sw_error **err);
/* Writes the uncompressed content of a layer blob into fd, checking it
 * against diff_id; returns the number of bytes in *size. */
int layer_decompress(sw_image_store *s, const sw_descriptor *blob, const char *diff_id, int outfd,
                     int64_t *size, sw_error **err);
/* Reads the headers of the layer blob (any compression): a valid tar whose
 * paths and hard link targets pass layer_clean_path (layer_int.h), so an
 * archive import refuses what the layer cache would refuse later. */
int layer_check_tar(sw_image_store *s, const sw_descriptor *blob, sw_error **err);

#endif
