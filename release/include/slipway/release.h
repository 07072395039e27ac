/*
 * release.h - stage 2: releases, their IDs, config vars and history.
 *
 * A release binds one image (by manifest digest) to config vars, process
 * types and deploy manifests. Its document (canonical JSON, no timestamps)
 * is the config blob of an OCI artifact manifest whose subject is the image;
 * the release ID is that manifest's digest, so the same inputs give the same
 * ID on any machine. The artifact lives in the image store, tagged
 * "slipway-release/APP:vN" so prune keeps it, and its image is pinned as
 * "slipway-release/APP:vN-image" so removing the image's own tag keeps it.
 *
 * History (the release index) is STATE/releases.db (SQLite, WAL): one row
 * per release with the only timestamp, the author and the reason. Secret
 * config values live in that database's secrets table (file mode 0600); the
 * release document carries only their sha256 digest.
 *
 * Registries: the registry client (build/, registry.h) moves the artifact
 * and its image; release_registry.c registers what it pulls.
 *
 * Not here: deploying (run stage), git sources.
 */
#ifndef SLIPWAY_RELEASE_H
#define SLIPWAY_RELEASE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slipway/digest.h"
#include "slipway/error.h"
#include "slipway/image_store.h"
#include "slipway/registry.h"

#define SW_MT_RELEASE "application/vnd.slipway.release.v1+json"
#define SW_MT_EMPTY "application/vnd.oci.empty.v1+json"
#define SW_MT_DEPLOY_MANIFEST "application/vnd.slipway.manifest.v1+yaml"
#define SW_RELEASE_REF_PREFIX "slipway-release/"
#define SW_SECRET_MASK "****"

/* Limits on what is read from users' files. */
#define SW_ENV_FILE_MAX (1u << 20)
#define SW_PROCFILE_MAX (256u << 10)
#define SW_DEPLOY_MANIFEST_MAX (4u << 20)

typedef struct sw_releases sw_releases;

/* Opens the image store and the release index (STATE/releases.db, created
 * on first use) of state_dir, which must exist. */
int sw_releases_open(sw_releases **out, const char *state_dir, sw_error **err);
void sw_releases_free(sw_releases *r);
sw_image_store *sw_releases_store(sw_releases *r);

/* ---- parsing users' files ------------------------------------------------- */

/* App names: [a-z0-9][a-z0-9-]*, at most 63 characters, not a sub-command
 * name (show, diff, export, import, rollback, push, pull, set,
 * unset). */
int sw_app_name_check(const char *app, sw_error **err);
/* Config keys: [A-Za-z_][A-Za-z0-9_]*, at most 255 characters. */
int sw_config_key_check(const char *key, sw_error **err);
/* A dotenv file: KEY=VALUE lines, `export ` prefix, '...' and "..." values
 * (\n \t \" \\ \$ escapes in double quotes), # comments; blank lines skipped.
 * out is an object KEY -> string. Errors are "WHAT:LINE: ...". */
int sw_env_parse(json_t **out, const char *what, const char *data, size_t len, sw_error **err);
int sw_env_parse_file(json_t **out, const char *path, sw_error **err);
/* A Procfile: `name: command` lines, # comments; out is an object. */
int sw_procfile_parse(json_t **out, const char *what, const char *data, size_t len, sw_error **err);
int sw_procfile_parse_file(json_t **out, const char *path, sw_error **err);

/* ---- making releases -------------------------------------------------------- */

typedef struct sw_release_spec {
	const char *app;
	const char *image;        /* an image reference the store resolves */
	const json_t *env;        /* KEY -> value, set on top of the parent's config; may be NULL */
	const json_t *processes;  /* name -> command; NULL: `web` from the image's Entrypoint/Cmd */
	const char *const *manifests; /* deploy manifest files; none: the parent's */
	size_t nmanifests;
	const char *note;         /* may be NULL */
} sw_release_spec;

typedef struct sw_release_info {
	char id[SW_DIGEST_LEN + 1];
	char app[64];
	int64_t version;
	char image[SW_DIGEST_LEN + 1];
	char *git_commit; /* may be NULL */
	char *created;    /* RFC 3339, UTC */
	char *author;
	char *note;       /* may be NULL */
	char *reason;     /* build, config, rollback, import */
	char *parent;     /* may be NULL */
} sw_release_info;

void sw_release_info_release(sw_release_info *info);
void sw_release_infos_free(sw_release_info *v, size_t n);

/* Makes a release of spec->image for spec->app (reason "build") whose parent
 * is the app's current release, if any: config vars carry over from the
 * parent, spec->env on top. Blobs and the tag are written before the index
 * row; the version number is taken in a transaction of its own first, so a
 * failure burns it rather than reusing it. If another release of the app
 * lands meanwhile, the release is made again from the new current one (a
 * few times, then SW_ECONFLICT), so no change is lost. */
int sw_release_create(sw_releases *r, const sw_release_spec *spec, sw_release_info *out, sw_error **err);

/* A config change (reason "config") from the app's current release: set
 * holds KEY -> value (secret: stored outside the manifest), unset is a list
 * of keys. SW_ENOTFOUND when the app has no release or an unset key is not
 * set. */
int sw_release_config_change(sw_releases *r, const char *app, const json_t *set, bool secret,
                             const json_t *unset, const char *note, sw_release_info *out, sw_error **err);

/* A new release (reason "rollback") with the image, config vars, processes
 * and manifests of an earlier release `what` (vN or ID), whose parent is the
 * current release. Secret values come back with their digests. */
int sw_release_rollback(sw_releases *r, const char *app, const char *what, const char *note,
                        sw_release_info *out, sw_error **err);

/* ---- reading -------------------------------------------------------------- */

/* Resolves "vN", a full ID or a unique prefix of at least 7 hex digits (with
 * or without "sha256:") among app's releases. SW_ENOTFOUND, SW_EAMBIGUOUS. */
int sw_release_lookup(sw_releases *r, const char *app, const char *what, sw_release_info *out,
                      sw_error **err);
/* The newest release of app (SW_ENOTFOUND with no releases). */
int sw_release_current(sw_releases *r, const char *app, sw_release_info *out, sw_error **err);
/* Releases of app, newest first; limit 0 means all. */
int sw_release_list(sw_releases *r, const char *app, size_t limit, sw_release_info **out, size_t *n,
                    sw_error **err);
/* The release document (the artifact's config blob), checked against id. */
int sw_release_document(sw_releases *r, const char *id, json_t **out, sw_error **err);
/* A document for display: secret entries stay digests; the result is
 * {"id","version",...,"release":doc} with history fields. */
json_t *sw_release_info_json(const sw_release_info *info);
/* Config vars of a release document as KEY -> value, secrets as "****". */
json_t *sw_release_config_masked(const json_t *doc);

/* Differences between two releases' documents: {"image":{...},
 * "config":[{key,old,new}], "processes":[...], "manifests":[...]}; secret
 * values show as "****" with "changed". */
json_t *sw_release_diff(const json_t *a, const json_t *b);

/* ---- archives ------------------------------------------------------------- */

/* Writes one tar with the release's artifact manifest, its blobs and its
 * image (as an oci-archive) to path, via a temp file and rename. Secret
 * values are not in it. */
int sw_release_export(sw_releases *r, const char *app, const char *what, const char *path, sw_error **err);
/* Imports such a tar: the image through the image store's verified import,
 * every release blob checked against its digest, then the release is
 * registered (reason "import") under the next version of its app. The ID is
 * the exported one. */
int sw_release_import(sw_releases *r, const char *path, sw_release_info *out, sw_error **err);

/* Registers a release whose artifact manifest (id), blobs and subject image
 * are already in the store (an import, a registry pull): the artifact and
 * its document are checked (artifactType, blob sizes, subject = the
 * document's image, app = app when app is not NULL), then it gets a history
 * row (reason "import") under the app's next version and its tags. A
 * release the app already has is not registered again (out is its row).
 * The ID stays id: SW_EINVALID if the store would give another. */
int sw_release_register_from_store(sw_releases *r, const char *id, const char *app, sw_release_info *out,
                                   sw_error **err);

/* ---- registries ----------------------------------------------------------- */

/* Pushes release what (vN or ID) of app to dest (REGISTRY/NAME[:TAG]): its
 * image first (the artifact's subject), then the artifact manifest. Secret
 * values never leave the state dir (the document holds their digests). */
int sw_release_push(sw_releases *r, const char *app, const char *what, const char *dest,
                    const sw_registry_opts *opts, sw_release_info *out, sw_push_result *res, sw_error **err);
/* Pulls a release artifact from src with its image (every blob verified)
 * and registers it like an import: the same ID, the app's next version. */
int sw_release_pull(sw_releases *r, const char *src, const sw_registry_opts *opts, sw_release_info *out,
                    sw_error **err);

/*
 * The value of APP's secret config var KEY whose sha256 (as the release
 * document records it, "sha256:...") is digest: secrets live in the
 * release index, outside releases, so `slipway deploy` can hand them to
 * the orchestrator as a Secret. Caller frees *out. SW_ENOTFOUND when the
 * index does not hold it (a release imported from elsewhere).
 */
int sw_release_secret_value(sw_releases *r, const char *app, const char *key, const char *digest,
                            char **out, sw_error **err);

#endif
