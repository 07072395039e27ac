/*
 * kinds.h - the object kinds slipwayd serves, as the Kubernetes API names
 * them. One table answers every "which kind is this?" question: the API
 * server's routes and discovery documents, the store's tables, the CLI's
 * `slipway get deploy` (short names, plurals, `deployments.apps`).
 */
#ifndef SLIPWAY_KINDS_H
#define SLIPWAY_KINDS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sw_kind {
	const char *group;        /* "" for the core group, else "apps", ... */
	const char *version;      /* "v1" */
	const char *api_version;  /* "v1" or "apps/v1": what objects carry */
	const char *kind;         /* "Deployment" */
	const char *list_kind;    /* "DeploymentList" */
	const char *resource;     /* "deployments": URL plural, store key */
	const char *singular;     /* "deployment" */
	const char *short_names;  /* "deploy", comma-separated, or "" */
	bool namespaced;
	bool has_status;          /* a /status subresource */
	bool has_scale;           /* a /scale subresource */
} sw_kind;

/* Every kind, in a stable order; sw_kinds[n] for n < sw_kinds_count. */
extern const sw_kind sw_kinds[];
extern const size_t sw_kinds_count;

/* By URL: group ("" for /api/v1) and plural resource. NULL if unknown. */
const sw_kind *sw_kind_by_resource(const char *group, const char *resource);
/* By an object's apiVersion and kind. NULL if unknown. */
const sw_kind *sw_kind_by_kind(const char *api_version, const char *kind);
/* As a user types it: "pods", "pod", "po", "Pod", "deploy",
 * "deployments.apps", "deployment.apps/v1" (case-insensitive). */
const sw_kind *sw_kind_lookup(const char *name);

#endif
