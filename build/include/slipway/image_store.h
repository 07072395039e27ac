/*
 * image_store.h - slipway's image store: one OCI image layout under the
 * state dir (STATE/images), shared by build, release and run.
 *
 *   STATE/images/oci-layout          {"imageLayoutVersion":"1.0.0"}
 *   STATE/images/index.json          tags: manifest descriptors annotated with
 *                                    org.opencontainers.image.ref.name
 *   STATE/images/blobs/sha256/<hex>  content, always hashing to its name
 *   STATE/images/.tmp/               blobs being written, staged imports
 *   STATE/images/.lock               flock held while index.json changes
 *   STATE/images/.gc.lock            shared by writers, exclusive for prune
 *
 * Tags are stored as full references ("slipway/busybox:1.35"); `name`
 * alone means `name:latest`. skopeo (oci:DIR:REF) and umoci (--image
 * DIR:REF) split DIR from REF at the first colon and then match the whole
 * annotation, so both find "STATE/images:slipway/busybox:1.35". A reference
 * with a registry port ("host:5000/x:y") is stored the same way but those
 * tools cannot address it (they would split at the port's colon).
 *
 * Invariants: a blob is renamed into blobs/sha256 only after its digest was
 * computed while writing (and compared with the expected one, when given),
 * so the store never holds a blob whose content does not match its name.
 * index.json is replaced atomically under .lock, so concurrent processes
 * never lose each other's tags.
 *
 * Not here: unpacking layers (the builder's layer cache), registries.
 */
#ifndef SLIPWAY_IMAGE_STORE_H
#define SLIPWAY_IMAGE_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slipway/digest.h"
#include "slipway/error.h"

#define SW_MT_OCI_LAYOUT_VERSION "1.0.0"
#define SW_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define SW_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define SW_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define SW_MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define SW_MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define SW_MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define SW_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define SW_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define SW_MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define SW_ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"

/* The default PATH of a base image without one (what Docker and buildah use). */
#define SW_IMAGE_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Limits on what the store reads from blobs it did not write itself. */
#define SW_MANIFEST_MAX (4u << 20)
#define SW_CONFIG_MAX (8u << 20)

typedef struct sw_descriptor {
	char media_type[128];
	char digest[SW_DIGEST_LEN + 1];
	int64_t size;
} sw_descriptor;

typedef struct sw_image_store sw_image_store;

/* ---- the store ---------------------------------------------------------- */

/* Opens (creating on first use) the layout at STATE_DIR/images. state_dir
 * must exist; see statedir.h for finding it. */
int sw_image_store_open(sw_image_store **out, const char *state_dir, sw_error **err);
/* Opens a layout at exactly dir (created if missing); for `--output oci:DIR`
 * and tests. */
int sw_image_store_open_layout(sw_image_store **out, const char *dir, sw_error **err);
void sw_image_store_free(sw_image_store *s);
/* The layout folder (STATE/images). */
const char *sw_image_store_root(const sw_image_store *s);

/* ---- blobs -------------------------------------------------------------- */

/* A blob being streamed in: hashed while written to a temp file under the
 * layout, renamed into place on commit. Freeing an uncommitted writer
 * discards the temp file. */
typedef struct sw_blob_writer sw_blob_writer;

int sw_blob_writer_new(sw_blob_writer **out, sw_image_store *s, sw_error **err);
int sw_blob_writer_write(sw_blob_writer *w, const void *data, size_t len, sw_error **err);
/* Bytes written so far. */
int64_t sw_blob_writer_size(const sw_blob_writer *w);
/* fsync, then rename into blobs/sha256 if expected is NULL or equals the
 * computed digest (else SW_EINVALID and nothing enters the store). Fills
 * out->digest and out->size; out->media_type is set from media_type (may be
 * NULL: empty). */
int sw_blob_writer_commit(sw_blob_writer *w, const char *media_type, const char *expected,
                          sw_descriptor *out, sw_error **err);
void sw_blob_writer_free(sw_blob_writer *w);

int sw_image_store_put_blob(sw_image_store *s, const char *media_type, const void *data, size_t len,
                            const char *expected, sw_descriptor *out, sw_error **err);
/* Reads fd to its end. */
int sw_image_store_put_blob_fd(sw_image_store *s, const char *media_type, int fd,
                               const char *expected, sw_descriptor *out, sw_error **err);
/* Canonical JSON of doc (sw_json_canonical) as a blob. */
int sw_image_store_put_json(sw_image_store *s, const char *media_type, const json_t *doc,
                            sw_descriptor *out, sw_error **err);

bool sw_image_store_has_blob(sw_image_store *s, const char *digest);
/* Opens a blob read-only; *size (may be NULL) gets its size. SW_ENOTFOUND
 * names the digest. */
int sw_image_store_open_blob(sw_image_store *s, const char *digest, int64_t *size, sw_error **err);
/* Reads a whole blob of at most max bytes and checks its digest. */
int sw_image_store_read_blob(sw_image_store *s, const char *digest, size_t max, char **out,
                             size_t *len, sw_error **err);

/* ---- references --------------------------------------------------------- */

/* Checks a reference for storing as a tag and normalises "name" to
 * "name:latest". Refuses digests ("@sha256:...") and characters outside
 * A-Za-z0-9 and -._:@/+ (the ref.name annotation's charset). */
int sw_image_ref_normalize(char **out, const char *ref, sw_error **err);
/* Splits a normalised "name:tag" into name and tag (caller frees both). */
void sw_image_ref_split(const char *ref, char **name, char **tag);

/* Resolves REF to a manifest digest: a tag ("name[:tag]"), a full digest
 * ("sha256:<64 hex>"), "name@sha256:<hex>", or a unique digest prefix of at
 * least 7 hex digits (with or without "sha256:"). SW_ENOTFOUND or
 * SW_EAMBIGUOUS with a message naming REF. */
int sw_image_store_resolve(sw_image_store *s, const char *ref, char out[SW_DIGEST_LEN + 1],
                           sw_error **err);

/* Points ref (normalised) at the manifest desc: adds or replaces its entry
 * in index.json. The manifest blob must be in the store. */
int sw_image_store_tag(sw_image_store *s, const char *ref, const sw_descriptor *manifest,
                       sw_error **err);
/* Adds an untagged entry for the manifest (reachable by digest only) unless
 * one for that digest exists. */
int sw_image_store_add_untagged(sw_image_store *s, const sw_descriptor *manifest, sw_error **err);

/* ---- images ------------------------------------------------------------- */

typedef struct sw_image {
	char digest[SW_DIGEST_LEN + 1]; /* the manifest's */
	int64_t manifest_size;
	json_t *manifest;
	json_t *config;
	sw_descriptor config_desc;
	sw_descriptor *layers;
	char (*diff_ids)[SW_DIGEST_LEN + 1]; /* one per layer, same order */
	size_t nlayers;
	char **refs; /* tags naming this manifest in index.json */
	size_t nrefs;
	int64_t size; /* manifest + config + layers as stored */
} sw_image;

/* Resolves ref, reads and validates the manifest and its config (media
 * types, digests, sizes, one diff_id per layer). Errors name the blob. */
int sw_image_store_load(sw_image **out, sw_image_store *s, const char *ref, sw_error **err);
void sw_image_free(sw_image *img);

/* Validation alone, for manifests and configs read from anywhere; what
 * names the document in errors. */
int sw_image_manifest_check(const json_t *manifest, const char *what, sw_error **err);
int sw_image_config_check(const json_t *config, size_t nlayers, const char *what, sw_error **err);

typedef struct sw_image_summary {
	char *ref; /* NULL for an untagged entry */
	char digest[SW_DIGEST_LEN + 1];
	char *created; /* config.created, or NULL */
	int64_t size;
} sw_image_summary;

/* Every entry of index.json, sorted by reference (untagged last). */
int sw_image_store_list(sw_image_summary **out, size_t *n, sw_image_store *s, sw_error **err);
void sw_image_summaries_free(sw_image_summary *v, size_t n);

/* References under this prefix pin a manifest for a release (release/):
 * removing by digest leaves them, only removing them by name drops them. */
#define SW_IMAGE_PIN_PREFIX "slipway-release/"

/* What `image rm` did: the tags removed, the pins kept (by-digest removal
 * only) and the manifests deleted. */
typedef struct sw_remove_result {
	char **untagged;
	size_t nuntagged;
	char **kept;
	size_t nkept;
	char (*deleted)[SW_DIGEST_LEN + 1];
	size_t ndeleted;
} sw_remove_result;

/* Removes a tag, or every entry for a digest (when ref names a digest)
 * except SW_IMAGE_PIN_PREFIX pins, which are listed in out->kept. A manifest no longer reachable from index.json is deleted; its config and
 * layers are left for prune. */
int sw_image_store_remove(sw_image_store *s, const char *ref, sw_remove_result *out, sw_error **err);
void sw_remove_result_release(sw_remove_result *r);

typedef struct sw_prune_result {
	char (*removed)[SW_DIGEST_LEN + 1];
	size_t nremoved;
	int64_t bytes;
} sw_prune_result;

/* Deletes every blob not reachable from index.json (manifests, their
 * configs, layers and subjects, nested indexes) and stale temp files.
 * Waits for writers in other processes to finish. */
int sw_image_store_prune(sw_image_store *s, sw_prune_result *out, sw_error **err);
void sw_prune_result_release(sw_prune_result *r);

/* ---- writing images ----------------------------------------------------- */

/* SOURCE_DATE_EPOCH from the environment (default 0); SW_EINVALID if it is
 * set but not a non-negative integer. */
int sw_source_date_epoch(int64_t *out, sw_error **err);
/* "1970-01-01T00:00:00Z" form of epoch seconds. */
void sw_format_rfc3339(char out[32], int64_t epoch);

/* A new config: architecture, os, created, config.Env with the default PATH,
 * rootfs with no diff_ids, empty history. */
json_t *sw_image_config_new(const char *arch, const char *os, int64_t created);
/* Appends a history entry and, unless empty_layer, a diff_id. */
int sw_image_config_add_history(json_t *config, const char *diff_id, const char *created_by,
                                const char *comment, int64_t created, bool empty_layer,
                                sw_error **err);

/* Writes the manifest of config + layers (canonical JSON, OCI media types);
 * annotations may be NULL. out is the manifest's descriptor. */
int sw_image_store_put_manifest(sw_image_store *s, const sw_descriptor *config,
                                const sw_descriptor *layers, size_t nlayers,
                                const json_t *annotations, sw_descriptor *out, sw_error **err);

/* ---- layers ------------------------------------------------------------- */

enum sw_layer_type {
	SW_LAYER_FILE,
	SW_LAYER_DIR,
	SW_LAYER_SYMLINK,
	SW_LAYER_HARDLINK, /* link = the path of another entry of the layer */
	SW_LAYER_CHAR,
	SW_LAYER_BLOCK,
	SW_LAYER_FIFO,
};

enum sw_compression { SW_COMPRESS_GZIP, SW_COMPRESS_ZSTD, SW_COMPRESS_NONE };

typedef struct sw_layer_entry {
	const char *path; /* relative; "./" prefixes and a trailing "/" are dropped */
	enum sw_layer_type type;
	uint32_t mode;    /* permission bits, with setuid/setgid/sticky */
	uint32_t uid, gid;
	int64_t mtime;    /* clamped to the layer's epoch when written */
	const char *link; /* symlink target, or hard link target path */
	uint32_t rdev_major, rdev_minor;
	/* content of a FILE, one of: */
	const void *data; /* in memory (size bytes; may be NULL when size is 0) */
	int src_fd;       /* an open file, read with pread from src_offset; -1 if unused */
	int64_t src_offset;
	int src_dirfd;    /* a path under a folder, opened with O_NOFOLLOW; -1 if unused */
	const char *src_path;
	int64_t size;
} sw_layer_entry;

/* A layer's entries before they are written: sorted, checked, written once. */
typedef struct sw_layer sw_layer;

sw_layer *sw_layer_new(void);
void sw_layer_free(sw_layer *l);
/* Copies e (strings and in-memory data). A path seen before replaces the
 * earlier entry, as in a tar. Refuses absolute paths and "..": SW_EESCAPE. */
int sw_layer_add(sw_layer *l, const sw_layer_entry *e, sw_error **err);
/* Adds an extended attribute to the entry last added. */
int sw_layer_add_xattr(sw_layer *l, const char *name, const void *value, size_t len, sw_error **err);
/* Adds the tree under dirfd (not following symlinks) with its uid/gid/mode,
 * user.* and security.capability xattrs; files with several links become
 * hard links to the first of their paths in sorted order. prefix (may be
 * NULL or "") is put in front of every path. */
int sw_layer_add_tree(sw_layer *l, int dirfd, const char *prefix, sw_error **err);
size_t sw_layer_count(const sw_layer *l);

typedef struct sw_layer_opts {
	enum sw_compression compression;
	int64_t epoch;  /* mtimes above it are clamped to it (SOURCE_DATE_EPOCH) */
	int level;      /* 0: default (gzip 6, zstd 3) */
} sw_layer_opts;

typedef struct sw_layer_result {
	sw_descriptor blob; /* the compressed blob (media type set) */
	char diff_id[SW_DIGEST_LEN + 1];
	int64_t tar_size;
} sw_layer_result;

/* Checks the entries (every parent is a folder in the layer or absent, no
 * path through a symlink, hard links point at files of the layer), then
 * writes a PAX tar sorted bytewise by path with no atime/ctime and no user
 * or group names, compressed deterministically, into the store. The blob
 * digest and the diff_id are computed in the same pass. */
int sw_layer_write(sw_image_store *s, sw_layer *l, const sw_layer_opts *opts, sw_layer_result *out,
                   sw_error **err);

/* Reads a tar (any compression libarchive knows) from hostile hands into l:
 * refuses absolute paths, "..", hard links to anything outside the archive,
 * paths through symlinks of the archive; device nodes stay entries. File
 * contents are spooled to a temp file owned by l. what names the archive in
 * errors. */
int sw_layer_read_tar(sw_layer *l, sw_image_store *s, int fd, const char *what, sw_error **err);

/* ---- archives ----------------------------------------------------------- */

enum sw_archive_format { SW_ARCHIVE_OCI, SW_ARCHIVE_DOCKER };

/* Writes REF as an OCI layout tar (oci-archive) or a `docker load` tar
 * (docker-archive) to path ("-" for stdout), via a temp file and rename. */
int sw_image_export(sw_image_store *s, const char *ref, const char *path, enum sw_archive_format format,
                    sw_error **err);

typedef struct sw_import_result {
	char (*digests)[SW_DIGEST_LEN + 1];
	size_t ndigests;
	char **refs;
	size_t nrefs;
} sw_import_result;

/* Imports an oci-archive or docker-archive (detected by content). Every
 * blob is verified in a staging area first; a bad archive leaves the store
 * as it was. ref (may be NULL) tags the image, if the archive holds one;
 * else the archive's own names are used. */
int sw_image_import_archive(sw_image_store *s, const char *path, const char *ref, sw_import_result *out,
                            sw_error **err);
void sw_import_result_release(sw_import_result *r);

typedef struct sw_rootfs_opts {
	const char *arch;  /* NULL: amd64 */
	const char *os;    /* NULL: linux */
	int64_t epoch;     /* created and mtime clamp */
	enum sw_compression compression;
	const char *created_by; /* history; NULL: "slipway image import --rootfs" */
} sw_rootfs_opts;

/* A one-layer base image from a root filesystem tar: the layer rewritten
 * deterministically, so the same tar always gives the same digest. */
int sw_image_import_rootfs(sw_image_store *s, const char *tar_path, const char *ref,
                           const sw_rootfs_opts *opts, sw_descriptor *out, sw_error **err);

#endif
