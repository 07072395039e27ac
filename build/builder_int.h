/*
 * builder_int.h - the executor's private state, shared by builder.c (stages,
 * steps, progress), builder_config.c (metadata -> image config),
 * builder_copy.c (COPY/ADD), builder_run.c (RUN), build_context.c (source
 * walks and content hashes) and build_cache.c (keys and the index).
 */
#ifndef SLIPWAY_BUILDER_INT_H
#define SLIPWAY_BUILDER_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "slipway/builder.h"
#include "slipway/dockerignore.h"
#include "step_runtime.h"

/* One layer of a stage: the blob and its uncompressed digest. */
struct blayer {
	sw_descriptor blob;
	char diff_id[SW_DIGEST_LEN + 1];
};

/* A stage as it is being built (or once built, for FROM/--from). */
struct bstage {
	const sw_df_stage *st;
	json_t *config;            /* the image config so far */
	struct blayer *layers;
	size_t nlayers;
	char chain[SW_DIGEST_LEN + 1]; /* cache key of the last step */
	bool cmd_set;              /* CMD given in this stage (ENTRYPOINT rule) */
	bool built;
};

struct builder {
	const sw_build_opts *o;
	sw_image_store *store;
	const char *state_dir;
	char *work_dir;            /* STATE/build: overlay work folders */
	char *cache_dir;           /* STATE/build-cache: key -> layer index */
	char *mount_cache_dir;     /* STATE/cache: RUN --mount=type=cache */
	sw_layer_cache *lcache;    /* opened on first use */
	sw_df_plan *plan;
	char *dockerfile;
	char *ctx_dir;
	int ctxfd;                 /* O_PATH of the context */
	sw_ignore *ignore;
	struct bstage *stages;     /* by file index (plan->total_stages) */
	size_t nstages;
	int number;                /* #N of the current step */
	const char *cur_text;      /* current step, for output events */
	const sw_df_stage *cur_stage;
	size_t cur_step, cur_nsteps;
	size_t steps, cached;
	bool last_cached;          /* the current step was a cache hit */
	char *fail_output;         /* the last lines of a failed RUN */
	json_t *annotations;       /* the manifest's: git metadata, then opts' */
};

/* ---- builder.c ---------------------------------------------------------- */

void builder_output(struct builder *b, const char *data, size_t len);
/* rm -rf of a folder the builder made (temp folders, bundles). */
void builder_rm_tree(const char *path);
/* A temp folder under STATE/build (caller removes it). */
int builder_tmpdir(struct builder *b, char **out, sw_error **err);
/* Mounts an overlay over the layers of a stage (read the merged dir; free
 * with sw_rootfs_free). */
int builder_mount(struct builder *b, const struct blayer *layers, size_t n, sw_rootfs **out,
                  sw_error **err);
/* Mounts the stage or image a COPY --from / mount from= names. */
int builder_mount_ref(struct builder *b, sw_df_ref_kind kind, size_t stage, const char *ref,
                      sw_rootfs **out, sw_error **err);
/* The cache identity of what RUN --mount=from= names: a stage's chain or
 * an image's manifest digest (COPY --from hashes what it copies instead). */
int builder_ref_key(struct builder *b, sw_df_ref_kind kind, size_t stage, const char *ref,
                    char out[SW_DIGEST_LEN + 1], sw_error **err);

/* ---- build_git.c: git contexts and metadata (libgit2) ------------------ */

/* A git: context materialised in a temp folder. */
struct bgit {
	char *tmp;           /* STATE/build/git-XXXXXX: removed by bgit_release */
	char *context;       /* tmp/context: the commit's tree or subtree */
	json_t *annotations; /* revision, source, author, message */
};

/* spec is what follows "git:" (REPO[#REF[:SUBDIR]]); remote repos are
 * cloned bare under tmp. warn gets one line per skipped submodule. On
 * failure nothing is left behind. */
int bgit_materialise(struct bgit *g, const char *work_dir, const char *spec,
                     void (*warn)(const char *msg, void *payload), void *payload, sw_error **err);
void bgit_release(struct bgit *g);
/* The git annotations of a folder context: HEAD of the work tree it is in
 * and dev.slipway.git.dirty when the folder has changes; an empty object
 * outside a repository. */
int bgit_describe_folder(json_t **out, const char *dir, sw_error **err);

/* ---- builder_config.c --------------------------------------------------- */

/* Applies a metadata step (ENV LABEL EXPOSE VOLUME USER WORKDIR ENTRYPOINT
 * CMD HEALTHCHECK SHELL STOPSIGNAL ONBUILD MAINTAINER ARG) to the config. */
int bcfg_apply(struct bstage *st, const sw_df_step *s, sw_error **err);
/* history created_by of a step, as BuildKit writes it (without ARG values). */
char *bcfg_created_by(const sw_df_step *s);
/* One line for progress ("RUN make", "COPY a /b"). */
char *bcfg_display(const sw_df_step *s);
/* config.config.X as a string, or NULL. */
const char *bcfg_get_string(const json_t *config, const char *key);
/* Adds labels, drops inherited fields Docker drops. */
void bcfg_finish(json_t *config, const sw_df_kv *labels, size_t nlabels);

/* ---- build_context.c ---------------------------------------------------- */

/* One file system object met by a walk. */
struct bwalk_entry {
	const char *rel;       /* relative to the walked source ("" for itself) */
	struct stat st;
	int fd;                /* a file open for reading, a folder; else -1 */
	const char *link;      /* symlink target, else NULL */
};

typedef int (*bwalk_fn)(const struct bwalk_entry *e, void *payload, sw_error **err);

struct bwalk {
	int rootfd;            /* the tree the source lives in */
	unsigned resolve;      /* SW_RESOLVE_BENEATH (context) or _IN_ROOT (rootfs) */
	const sw_ignore *ignore; /* context .dockerignore, on paths from rootfd */
	const sw_ignore *exclude; /* COPY --exclude, on paths from the source */
};

/* Lists the sources a COPY/ADD source pattern selects (Go filepath.Match per
 * component), sorted; relative to rootfd. A pattern without a wildcard gives
 * itself if it exists and is not ignored. */
int bctx_glob(char ***out, size_t *n, const struct bwalk *w, const char *pattern, sw_error **err);
/* Walks the source at rel (itself first, then below it, sorted, not
 * following symlinks below the top); skips ignored and excluded paths. */
int bctx_walk(const struct bwalk *w, const char *rel, bwalk_fn fn, void *payload, sw_error **err);
/* Adds the content hash of a walked source (mode, uid, gid, size, link
 * target, content; not mtime) to h. */
int bctx_hash(const struct bwalk *w, const char *rel, sw_sha256 *h, sw_error **err);

/* ---- build_cache.c ------------------------------------------------------ */

struct bcache_entry {
	bool empty;            /* the step made no change: no layer */
	struct blayer layer;
};

/* sha256(parent + "\n" + text) */
void bcache_key(char out[SW_DIGEST_LEN + 1], const char *parent, const char *text, size_t len);
/* 1 and *out on a hit whose blob is still in the store, 0 on a miss. */
int bcache_get(struct builder *b, const char *key, struct bcache_entry *out);
int bcache_put(struct builder *b, const char *key, const struct bcache_entry *e, sw_error **err);

/* ---- builder_copy.c: writes into a root filesystem ---------------------- */

/* Every path is absolute in the root and resolved in it (openat2
 * RESOLVE_IN_ROOT): symlinks and ".." never leave it. Parents missing on
 * the way are created 0755 with the owner uid:gid. */
struct bwriter {
	int rootfd;
	uid_t uid;       /* owner of created parent folders */
	gid_t gid;
};

int bw_mkdir_p(const struct bwriter *w, const char *path, sw_error **err);
/* Creates a folder (or keeps an existing one). */
int bw_dir(const struct bwriter *w, const char *path, mode_t mode, uid_t uid, gid_t gid, sw_error **err);
/* Replaces path with a regular file: content from fd (size bytes) or data. */
int bw_file(const struct bwriter *w, const char *path, int fd, const void *data, int64_t size, mode_t mode,
            uid_t uid, gid_t gid, sw_error **err);
int bw_symlink(const struct bwriter *w, const char *path, const char *target, uid_t uid, gid_t gid,
               sw_error **err);
/* A hard link at path to the file at target (both in the root). */
int bw_hardlink(const struct bwriter *w, const char *path, const char *target, sw_error **err);
bool bw_is_dir(const struct bwriter *w, const char *path);

/* ---- builder_add.c: ADD's extras ---------------------------------------- */

bool badd_is_url(const char *src);
/* Downloads url into a temp file under work_dir (removed on close); checks
 * sha256 checksum when given; *out_fd is open at offset 0. */
int badd_fetch(int *out_fd, int64_t *size, const char *work_dir, const char *url, const char *checksum,
               char digest[SW_DIGEST_LEN + 1], sw_error **err);
/* True when fd holds a tar (plain, gzip, bzip2 or xz) ADD must unpack. */
bool badd_is_archive(int fd);
/* Unpacks the tar in fd under dest (in w's root); entries keep their
 * owners unless chown; refuses "..", devices and hard links outside it. */
int badd_extract(const struct bwriter *w, int fd, const char *dest, bool chown, uid_t uid, gid_t gid,
                 const char *what, sw_error **err);

/* ---- builder_copy.c, builder_run.c -------------------------------------- */

/* A filesystem step: cache lookup, then the change, then the layer. */
int bcopy_step(struct builder *b, struct bstage *st, const sw_df_step *s, sw_error **err);
int brun_step(struct builder *b, struct bstage *st, const sw_df_step *s, sw_error **err);

/* The change a filesystem step makes in root (the merged overlay, or an
 * empty folder for COPY --link). */
typedef int (*bchange_fn)(struct builder *b, struct bstage *st, const sw_df_step *s, const char *root,
                          void *payload, sw_error **err);
/* A filesystem step with cache key `key`: on a hit, appends the cached
 * layer; else mounts the stage (or an empty folder when link), runs fn,
 * turns the changes into a layer, appends it and records it in the cache. */
int builder_fs_step(struct builder *b, struct bstage *st, const sw_df_step *s, const char *key,
                    bool link, bchange_fn fn, void *payload, sw_error **err);
/* Appends a layer (or an empty_layer history entry) for step s. */
int builder_add_layer(struct builder *b, struct bstage *st, const sw_df_step *s,
                      const struct bcache_entry *e, sw_error **err);

#endif
