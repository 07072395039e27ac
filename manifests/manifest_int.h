/*
 * manifest_int.h - what the files of manifests/ share and nothing outside
 * needs: YAML documents with positions, field paths, the validation context.
 */
#ifndef SLIPWAY_MANIFEST_INT_H
#define SLIPWAY_MANIFEST_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "slipway/manifest.h"

#define SW_MANIFEST_MAX_FILE (8u << 20)  /* bytes per file */
#define SW_MANIFEST_MAX_DEPTH 64         /* nesting of mappings/sequences */
#define SW_MANIFEST_MAX_NODES 1000000u   /* values per file, aliases expanded */
#define SW_PATH_MAX 1024

/* ---- field paths -------------------------------------------------------- */

/* "spec.containers[0].image"; keys that are not identifiers go in brackets:
 * "metadata.labels[app.kubernetes.io/name]". Too long a path ends in "...". */
typedef struct sw_fpath {
	char buf[SW_PATH_MAX];
	size_t len;
} sw_fpath;

void sw_fpath_reset(sw_fpath *p);
size_t sw_fpath_push_key(sw_fpath *p, const char *key);   /* returns the old length */
size_t sw_fpath_push_index(sw_fpath *p, size_t i);
void sw_fpath_pop(sw_fpath *p, size_t oldlen);

/* ---- YAML documents ----------------------------------------------------- */

typedef struct sw_ydoc {
	json_t *root;  /* a JSON object */
	json_t *pos;   /* path -> [line, col, keyline, keycol]; "" is the root */
	int line, col; /* where the document starts */
} sw_ydoc;

/* Parses every non-empty document of data. Errors go to d (file:line:col)
 * and return SW_EINVALID; *docs is then NULL. */
int sw_yaml_load_docs(const char *file, const char *data, size_t len, sw_ydoc **docs,
                      size_t *ndocs, sw_diags *d);
void sw_ydocs_free(sw_ydoc *docs, size_t n);

/* Plain scalar as go-yaml v2 reads it: a new JSON value. */
json_t *sw_yaml_resolve_plain(const char *s, size_t len);

/* The position of path (or of its nearest ancestor that has one). */
void sw_pos_lookup(const json_t *pos, const char *path, bool key, int *line, int *col);

/* ---- validation --------------------------------------------------------- */

typedef struct sw_vctx {
	sw_diags *d;
	const char *file;   /* NULL for API bodies */
	const json_t *pos;  /* NULL when there are no positions */
	int line, col;      /* fallback position (the document) */
	bool admit;         /* an API body: server fields are expected */
	bool from_app;      /* expanded from slipway.yaml: image may be missing */
	const char *kind;
	sw_fpath path;
	size_t errors;
} sw_vctx;

void sw_verr(sw_vctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sw_vwarn(sw_vctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "unknown field "spec.replica"" at the key's position */
void sw_vunknown(sw_vctx *c);

/* Validates and defaults one object (any supported kind). */
void sw_validate_object(sw_vctx *c, json_t *obj);

/* slipway.yaml: true for an App document (apiVersion slipway.dev/v1, kind
 * App; or any document without apiVersion and kind in a file named
 * slipway.yaml or slipway.yml). */
bool sw_app_is_app(const char *file, const json_t *root);
/* Validates the App document at c (positions and all) and appends its
 * Kubernetes objects (not yet defaulted) to out. */
void sw_app_expand(sw_vctx *c, json_t *app, const sw_manifest_opts *opts, json_t *out);

/* base64 (standard alphabet, padded): true if s is valid. */
bool sw_base64_valid(const char *s, size_t len);
char *sw_base64_encode(const void *data, size_t len);

#endif
