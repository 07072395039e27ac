/*
 * manifest.h - declarative manifests: YAML/JSON documents -> Kubernetes-shaped
 * objects (jansson trees), validated and defaulted as the Kubernetes API
 * server does, with diagnostics that name FILE:LINE:COL and the field path.
 *
 * Kinds: v1 Namespace, Pod, Service, ConfigMap, Secret; apps/v1 Deployment,
 * ReplicaSet; and slipway's short app manifest (slipway.dev/v1 App, or a file
 * named slipway.yaml), which expands into Deployments and Services.
 *
 * Unknown fields are errors (kubectl --validate=strict); fields Kubernetes has
 * but slipway does not implement are kept and reported as warnings.
 */
#ifndef SLIPWAY_MANIFEST_H
#define SLIPWAY_MANIFEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "slipway/buf.h"
#include "slipway/error.h"

/* ---- diagnostics -------------------------------------------------------- */

typedef enum { SW_DIAG_ERROR, SW_DIAG_WARNING } sw_diag_severity;

typedef struct sw_diag {
	sw_diag_severity severity;
	char *file;    /* NULL for objects that came from no file (API bodies) */
	int line, col; /* 1-based; 0 when unknown */
	char *path;    /* field path "spec.template.spec.containers[0].image", or NULL */
	char *message; /* "must be a non-negative integer" */
	bool path_in_message; /* message names the path itself (unknown field "x") */
} sw_diag;

typedef struct sw_diags {
	sw_diag *items;
	size_t len, cap;
	size_t errors, warnings;
} sw_diags;

#define SW_DIAGS_INIT { NULL, 0, 0, 0, 0 }

void sw_diags_init(sw_diags *d);
void sw_diags_release(sw_diags *d);
void sw_diags_add(sw_diags *d, sw_diag_severity sev, const char *file, int line, int col,
                  const char *path, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* "FILE:LINE:COL: error: PATH: MESSAGE" (parts left out when unknown);
 * caller frees. */
char *sw_diag_format(const sw_diag *diag);
/* Every diagnostic, one line each, errors and warnings in the order found. */
void sw_diags_print(const sw_diags *d, FILE *f);
/* The first error as an sw_error (SW_EINVALID) with the count of others. */
int sw_diags_to_error(const sw_diags *d, sw_error **err);
/* [{"severity","file","line","col","field","message"}] for API responses. */
json_t *sw_diags_to_json(const sw_diags *d);

/*
 * An update (PUT/PATCH result) of old to obj: sw_manifest_admit plus the
 * rules that need the stored object, as the API server has them: apps/v1
 * selectors are immutable; a Pod's spec may change only in its containers'
 * images (and activeDeadlineSeconds, tolerations); an immutable ConfigMap
 * or Secret keeps its data, and stays immutable. Returns 0 or SW_EINVALID.
 */
int sw_manifest_admit_update(json_t *obj, const json_t *old, sw_diags *d);

/*
 * The Kubernetes Status body for a rejected API write of obj (which may be
 * NULL or partial): 400 BadRequest "strict decoding error: unknown field
 * ..." when d holds unknown fields, else 422 Invalid with details.causes
 * [{reason, message, field}], as kubectl expects. *code gets the HTTP code.
 */
json_t *sw_manifest_status(const json_t *obj, const sw_diags *d, int *code);

/* ---- loading: parse, expand slipway.yaml, validate, default ------------- */

typedef struct sw_manifest_opts {
	/* The image for slipway.yaml's processes (a release's): it replaces the
	 * file's `image`. Without either, containers have no image and the
	 * objects are valid only as a template for a release. */
	const char *image;
} sw_manifest_opts;

/*
 * Each returns 0 with *objects a new array of the defaulted objects in
 * document order, or a negative code: SW_EINVALID when any error diagnostic
 * was added to d (nothing is returned then), or another code with *err set
 * for I/O failures. Warnings go to d either way. opts may be NULL.
 */
int sw_manifest_load_buf(const char *name, const char *data, size_t len, json_t **objects,
                         sw_diags *d, sw_error **err);
int sw_manifest_load_file(const char *path, json_t **objects, sw_diags *d, sw_error **err);
/* Every *.yaml, *.yml and *.json in dir (not recursive), in name order. */
int sw_manifest_load_dir(const char *dir, json_t **objects, sw_diags *d, sw_error **err);
/* A file, a folder, or "-" for standard input. */
int sw_manifest_load_path(const char *path, json_t **objects, sw_diags *d, sw_error **err);
int sw_manifest_load_buf_opts(const char *name, const char *data, size_t len,
                              const sw_manifest_opts *opts, json_t **objects, sw_diags *d,
                              sw_error **err);
int sw_manifest_load_path_opts(const char *path, const sw_manifest_opts *opts,
                               json_t **objects, sw_diags *d, sw_error **err);

/*
 * Validates and defaults ONE object in place (an API body): every kind of
 * kinds.h (Event and Endpoints loosely). Server-set
 * fields (metadata.uid, resourceVersion, generation, creationTimestamp,
 * managedFields, status, ...) are accepted as they are. Diagnostics carry
 * field paths only. Returns 0, or SW_EINVALID when it added an error.
 */
int sw_manifest_admit(json_t *obj, sw_diags *d);

/* A slipway.yaml document (already parsed) -> array of Kubernetes objects,
 * not yet defaulted. Errors go to d with file (may be NULL) and no
 * positions. Returns 0 or SW_EINVALID. */
int sw_manifest_expand_app(const json_t *app, const sw_manifest_opts *opts, const char *file,
                           json_t **objects, sw_diags *d);

/* A List document: {"apiVersion":"v1","kind":"List","items":[...],
 * "metadata":{"resourceVersion":""}} (steals nothing; items is copied). */
json_t *sw_manifest_list(const json_t *items);

/*
 * `kubectl explain` from the field tables: "deployment", "deploy.spec.strategy",
 * "pod.spec.containers.readinessProbe", "app.processes" (slipway.yaml).
 * Prints the field's type and its fields with types, defaults, allowed
 * values, and whether they are required, ignored by slipway or set by the
 * server. SW_ENOTFOUND for an unknown kind or field.
 */
int sw_manifest_explain(const char *what, FILE *out, sw_error **err);

/* ---- resource quantities ------------------------------------------------ */

/*
 * Kubernetes' resource.Quantity: "500m", "128Mi", "1.5", "2e3", "1E". The
 * value is kept exactly, in units of 10^-9 (finer precision is rounded up,
 * as Kubernetes does); magnitudes beyond about 10^29 are refused.
 */
typedef enum { SW_QTY_DECIMAL_SI, SW_QTY_BINARY_SI, SW_QTY_DECIMAL_EXPONENT } sw_quantity_format;

typedef struct sw_quantity {
	__int128 nanos;            /* value * 10^9 */
	sw_quantity_format format; /* the suffix kind it was written with */
} sw_quantity;

int sw_quantity_parse(sw_quantity *out, const char *s, sw_error **err);
/* A JSON string or number (resources: {cpu: 1}). */
int sw_quantity_from_json(sw_quantity *out, const json_t *j, sw_error **err);
/* ceil(value * 1000) (CPU millicores); SW_EINVALID when it does not fit. */
int sw_quantity_milli(const sw_quantity *q, int64_t *out, sw_error **err);
/* ceil(value) (memory bytes); SW_EINVALID when it does not fit. */
int sw_quantity_value(const sw_quantity *q, int64_t *out, sw_error **err);
int sw_quantity_cmp(const sw_quantity *a, const sw_quantity *b);
/* Canonical text as Kubernetes prints it ("1536Mi", "500m", "1k"); caller frees. */
char *sw_quantity_format_str(const sw_quantity *q);
/* Convenience: parse and convert in one step. */
int sw_quantity_parse_milli(const char *s, int64_t *out, sw_error **err);
int sw_quantity_parse_bytes(const char *s, int64_t *out, sw_error **err);

/* ---- names -------------------------------------------------------------- */

/* NULL when valid, else a static message ("must consist of lower case ..."). */
const char *sw_check_dns1123_label(const char *s);
const char *sw_check_dns1123_subdomain(const char *s);
const char *sw_check_dns1035_label(const char *s);
const char *sw_check_label_key(const char *s);
const char *sw_check_label_value(const char *s);

#endif
