/*
 * builder.h - the image builder: a Dockerfile and a build context in, a
 * layered, reproducible OCI image in the store out (`slipway build`).
 *
 *   Dockerfile --sw_df_plan_build--> stages --executor--> layers + config
 *   --> manifest in STATE/images, tagged only once everything is written
 *
 * Each filesystem-changing step (RUN, COPY, ADD) is one layer: an overlay
 * over the stage's layers so far collects the step's changes, which become
 * a deterministic tar (step_runtime.h, image_store.h). Metadata steps only
 * change the config and add an empty_layer history entry. Each step has a
 * cache key (parent chain + expanded instruction + content hash of copied
 * sources, or build args in scope for RUN); a hit reuses the layer without
 * running anything. Secrets and cache-mount contents never enter a layer,
 * the history or a key; ARG values never enter the history.
 *
 * Not here: registries (FROM pulls only from the store), the CLI's
 * rendering of progress (cmd/slipway/cmd_build.c).
 */
#ifndef SLIPWAY_BUILDER_H
#define SLIPWAY_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slipway/dockerfile_plan.h"
#include "slipway/error.h"
#include "slipway/image_store.h"

typedef struct sw_build_secret {
	const char *id;
	const char *src; /* a file on this host */
} sw_build_secret;

enum sw_build_event_kind {
	SW_BUILD_EV_START,  /* a step begins */
	SW_BUILD_EV_CACHED, /* a step was a cache hit (nothing ran) */
	SW_BUILD_EV_DONE,   /* a step finished */
	SW_BUILD_EV_OUTPUT, /* output of a running RUN (data, len) */
	SW_BUILD_EV_ERROR,  /* a step failed; data: the last lines of its output */
	SW_BUILD_EV_WARNING, /* not a step: data is a one-line warning */
};

typedef struct sw_build_event {
	enum sw_build_event_kind kind;
	int number;              /* #N: 1-based over the whole build */
	const char *stage;       /* the stage's display name */
	size_t step, nsteps;     /* 1-based in the stage; FROM is step 1 */
	const char *text;        /* "RUN mkdir /out", "FROM busybox", ... */
	int line;                /* in the Dockerfile; 0 when none */
	double seconds;          /* DONE/ERROR: time the step took */
	const char *data;        /* OUTPUT/ERROR */
	size_t len;
} sw_build_event;

typedef struct sw_build_opts {
	/* a folder, or git:REPO[#REF[:SUBDIR]]: the commit's tree, read from
	 * the object database (REPO a local path, file:// or any URL libgit2
	 * clones; REF a branch, tag or SHA, default HEAD) */
	const char *context_dir;
	const char *dockerfile;        /* NULL: CONTEXT/Dockerfile; for git:, relative to the context */
	const char *const *tags;       /* tagged at the end, all or none */
	size_t ntags;
	const sw_df_kv *build_args;
	size_t nbuild_args;
	const char *target;            /* NULL: the last stage */
	bool no_cache;
	const sw_build_secret *secrets;
	size_t nsecrets;
	const sw_df_kv *labels;        /* added to the image's Labels */
	size_t nlabels;
	/* added to the manifest's annotations, after (over) the git ones:
	 * org.opencontainers.image.revision/.source, dev.slipway.git.author,
	 * .message (first line) and .dirty (a folder with changes in its work
	 * tree); a folder outside git gets none */
	const sw_df_kv *annotations;
	size_t nannotations;
	bool network_none;             /* every RUN without network */
	enum sw_compression compression;
	int64_t epoch;                 /* SOURCE_DATE_EPOCH: created, mtime clamp */
	int timeout_ms;                /* per RUN; 0: none */
	void (*event)(const sw_build_event *ev, void *payload);
	void *payload;
} sw_build_opts;

typedef struct sw_build_result {
	sw_descriptor manifest;
	size_t steps, cached;          /* steps with a cache key, hits among them */
} sw_build_result;

/*
 * Builds the image and tags it with every tag (none: untagged entry in
 * index.json, reachable by digest). Errors name the step and the Dockerfile
 * line ("Dockerfile:9: step 3/4 (RUN make): exit code 2"). On failure no tag
 * changes; blobs already written stay for `image prune`.
 */
int sw_build(sw_image_store *store, const char *state_dir, const sw_build_opts *opts,
             sw_build_result *out, sw_error **err);

/* Copies the image `ref` of store into the OCI layout at dir (created if
 * missing), tagged `tag` there (org.opencontainers.image.ref.name). */
int sw_build_output_oci(sw_image_store *store, const char *ref, const char *dir, const char *tag,
                        sw_error **err);

#endif
