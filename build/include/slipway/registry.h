/*
 * registry.h - the registry client: push images from the image store to an
 * OCI distribution registry and pull them back (libcurl).
 *
 * References are `[REGISTRY/]NAME[:TAG|@DIGEST]` with Docker's rules: the
 * first component is a registry when it contains '.' or ':' or is
 * "localhost"; otherwise the registry is docker.io (API host
 * registry-1.docker.io) and a one-component name gets "library/".
 *
 * Credentials (never printed, not even in errors or debug logs):
 *   SLIPWAY_REGISTRY_AUTH="user:password"               for every registry
 *   SLIPWAY_REGISTRY_AUTH="host[:port]=user:password,..." per registry
 *     (in the second form a password cannot contain ',')
 *   else $DOCKER_CONFIG/config.json or ~/.docker/config.json:
 *     {"auths": {"host[:port]": {"auth": base64("user:password")}}}
 * They answer a Basic challenge, or are sent to a Bearer challenge's realm
 * to get a token (anonymous when there are none).
 *
 * Pulls stream every blob through the store's verified blob writer with the
 * expected digest: nothing that does not match its digest enters the store,
 * and an interrupted pull leaves only complete, verified blobs (running it
 * again fetches the rest). The manifest is stored and tagged last.
 *
 * Not here: the store itself (image_store.h), releases (release/).
 */
#ifndef SLIPWAY_REGISTRY_H
#define SLIPWAY_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "slipway/image_store.h"

#define SW_REGISTRY_DOCKER_HUB "docker.io"
#define SW_REGISTRY_DOCKER_HUB_API "registry-1.docker.io"
/* Blobs larger than this are uploaded in PATCH chunks of this size;
 * SLIPWAY_REGISTRY_CHUNK_SIZE (bytes) overrides it. */
#define SW_REGISTRY_CHUNK_DEFAULT (8 << 20)

typedef struct sw_registry_ref {
	char *host;   /* "docker.io", "127.0.0.1:5000" */
	char *name;   /* repository: "library/busybox" */
	char *tag;    /* NULL when digest is set and no tag was given */
	char *digest; /* NULL or "sha256:..." */
} sw_registry_ref;

/* Parses and normalises a reference; SW_EINVALID names it. */
int sw_registry_ref_parse(sw_registry_ref *out, const char *ref, sw_error **err);
void sw_registry_ref_release(sw_registry_ref *r);
/* True when ref names a registry explicitly (its first component has '.'
 * or ':' or is "localhost"). */
bool sw_registry_ref_has_host(const char *ref);

typedef struct sw_registry_opts {
	bool insecure;         /* plain HTTP (for a registry on localhost) */
	int64_t chunk_size;    /* 0: SLIPWAY_REGISTRY_CHUNK_SIZE or the default */
	const char *from_repo; /* push: try a cross-repository mount from this
	                        * repository of the same registry (may be NULL:
	                        * then from where this store last pushed the
	                        * blob on that registry, if anywhere) */
	bool quiet;            /* no progress lines on stderr */
} sw_registry_opts;

typedef struct sw_push_result {
	char digest[SW_DIGEST_LEN + 1]; /* the manifest's */
	int blobs_pushed, blobs_skipped, blobs_mounted;
} sw_push_result;

/* Pushes the local image (or artifact manifest) ref to dest. A manifest's
 * subject is pushed first; an index's manifests too. */
int sw_registry_push(sw_image_store *s, const char *ref, const char *dest, const sw_registry_opts *opts,
                     sw_push_result *out, sw_error **err);

/* Pulls src (an index resolves to its linux/amd64 manifest) and tags it
 * local_ref, or src itself when local_ref is NULL (a digest-only src is
 * kept untagged). out (may be NULL) gets the stored manifest's descriptor. */
int sw_registry_pull(sw_image_store *s, const char *src, const char *local_ref, const sw_registry_opts *opts,
                     sw_descriptor *out, sw_error **err);

/* For `FROM host/name:tag`: pulls ref into the store under the same name
 * when it names a registry and is not in the store yet. *pulled says
 * whether it did. Plain HTTP is used for localhost and 127.0.0.1 only when
 * SLIPWAY_REGISTRY_INSECURE=1. */
int sw_registry_pull_if_missing(sw_image_store *s, const char *ref, bool *pulled, sw_error **err);

#endif
