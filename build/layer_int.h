/*
 * layer_int.h - the layer entry list and the compressed blob sink, shared by
 * layer_tar.c (writing) and layer_source.c (reading tars and trees).
 */
#ifndef SLIPWAY_LAYER_INT_H
#define SLIPWAY_LAYER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "slipway/image_store.h"

struct archive;

struct layer_xattr {
	char *name;
	void *value;
	size_t len;
};

struct layer_entry {
	char *path;
	enum sw_layer_type type;
	uint32_t mode, uid, gid;
	int64_t mtime;
	char *link;
	uint32_t rdev_major, rdev_minor;
	void *data;
	int src_fd;
	int64_t src_offset;
	int src_dirfd;
	char *src_path;
	int64_t size;
	struct layer_xattr *xattrs;
	size_t nxattrs;
	uint64_t dev, ino; /* from a tree walk: files sharing an inode */
	bool dead;         /* replaced by a later entry with the same path */
	size_t group;      /* the FILE entry whose content this one shares */
	size_t first;      /* for a group's file: 1 + the index of its first member */
};

struct sw_layer {
	struct layer_entry *v;
	size_t n, cap;
	json_t *paths;     /* path -> index in v */
	struct layer_entry *last;
	bool prepared;
	int spool_fd;      /* contents read from a tar */
};

/* Strips "./" and trailing "/", refuses absolute paths and "..". *out is
 * NULL for the root itself. */
int layer_clean_path(char **out, const char *path, const char *what, sw_error **err);

/* Fills e for a symlink (reading its target into target[tsize]), a device or
 * a FIFO named name in folder dfd (rel: its path, for messages). Returns 1,
 * 0 for a socket (no tar form) or a negative code. */
struct stat;
int layer_entry_special(sw_layer_entry *e, const struct stat *st, int dfd, const char *name,
                        const char *rel, char *target, size_t tsize, sw_error **err);
/* Drops replaced entries, sorts, checks parents and hard links. */
int layer_prepare(sw_layer *l, sw_error **err);

/* Uncompressed tar bytes in, a compressed blob out, both digests kept. */
struct layer_sink {
	enum sw_compression compression;
	struct archive *inner;
	sw_blob_writer *blob;
	sw_sha256 *diff;
	int64_t tar_size;
	sw_error *err;
};

int layer_sink_open(struct layer_sink *k, sw_image_store *s, const sw_layer_opts *opts, sw_error **err);
int layer_sink_write(struct layer_sink *k, const void *buf, size_t len);
int layer_sink_commit(struct layer_sink *k, const char *expect_diff_id, sw_layer_result *out, sw_error **err);
void layer_sink_abort(struct layer_sink *k);

#endif
