/*
 * release_int.h - what release/'s files share: the handle and the release
 * index (SQLite) calls. Not a public header.
 */
#ifndef SLIPWAY_RELEASE_INT_H
#define SLIPWAY_RELEASE_INT_H

#include <sqlite3.h>

#include "slipway/release.h"

struct sw_releases {
	char *state_dir;
	sw_image_store *store;
	sqlite3 *db;
};

int release_db_open(sw_releases *r, sw_error **err);
/* Takes app's next version number in a transaction of its own. */
int release_db_next_version(sw_releases *r, const char *app, int64_t *out, sw_error **err);
/* One transaction: the secrets (KEY -> {"digest","value"}, may be NULL) and
 * the row. With check_parent, SW_ECONFLICT unless the app's newest release
 * is still info->parent (none when parent is NULL). */
int release_db_insert(sw_releases *r, const sw_release_info *info, const json_t *secrets, bool check_parent,
                      sw_error **err);
/* Rows of app matching where ("version = ?", "id prefix", all), newest
 * first. */
enum release_query { RQ_ALL, RQ_VERSION, RQ_PREFIX };
int release_db_query(sw_releases *r, const char *app, enum release_query q, int64_t version,
                     const char *prefix, size_t limit, sw_release_info **out, size_t *n, sw_error **err);
/* The value of a secret, or SW_ENOTFOUND. */
int release_db_secret(sw_releases *r, const char *app, const char *key, const char *digest, char **out,
                      sw_error **err);

/* Writes doc as the artifact's config, the artifact manifest (subject:
 * the image), tags it and adds the index row. out is filled. */
int release_commit(sw_releases *r, const char *app, const json_t *doc, const json_t *secrets,
                   const char *reason, sw_release_info *out, sw_error **err);
/* The artifact manifest of a release, with its descriptor. */
int release_read_manifest(sw_releases *r, const char *id, json_t **out, sw_error **err);

#endif
