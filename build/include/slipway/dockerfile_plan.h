/*
 * dockerfile_plan.h - a parsed Dockerfile turned into what a builder runs:
 * stages in execution order, each a list of typed steps whose arguments are
 * already expanded, with BuildKit's ARG/ENV scoping and stage semantics.
 *
 *   sw_df_file (dockerfile.h) --sw_df_plan()--> sw_df_plan
 *
 * What the plan decides, so the builder does not have to:
 *   - which stages run (the closure of --target over FROM, COPY --from and
 *     RUN --mount from=), in file order, which is a valid execution order;
 *   - every word Docker expands is expanded (ADD COPY ENV EXPOSE FROM LABEL
 *     STOPSIGNAL USER VOLUME WORKDIR, ARG defaults, RUN --mount values,
 *     COPY/ADD heredocs without quoted delimiters); RUN/CMD/ENTRYPOINT/SHELL/
 *     HEALTHCHECK/ONBUILD text is left to the shell, as Docker does;
 *   - each step carries the environment in effect when it runs (`env`,
 *     ENV values and ARG values, later ones replacing earlier ones); ARG
 *     values are in `env` but must not be written to the image config
 *     (`env_flags` says which);
 *   - ONBUILD triggers of a base *stage* are injected at the start of the
 *     stage built on it (step.onbuild).
 *
 * What it cannot know: the base image's own config. Without an image_env
 * callback the environment of a stage starts with PATH only (BuildKit sets a
 * default PATH when the image has none); with it, from the image's Env.
 */
#ifndef SLIPWAY_DOCKERFILE_PLAN_H
#define SLIPWAY_DOCKERFILE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slipway/dockerfile.h"
#include "slipway/error.h"

/* Upper bound on the memory a plan may take (all strings and env snapshots);
 * a Dockerfile that needs more fails with SW_ETOOBIG. */
#define SW_DF_PLAN_MAX_BYTES (256u * 1024 * 1024)

typedef struct sw_df_kv {
	char *key;
	char *value; /* NULL: ARG declared without a value */
} sw_df_kv;

typedef enum sw_df_kind {
	SW_DF_ADD,
	SW_DF_ARG,
	SW_DF_CMD,
	SW_DF_COPY,
	SW_DF_ENTRYPOINT,
	SW_DF_ENV,
	SW_DF_EXPOSE,
	SW_DF_HEALTHCHECK,
	SW_DF_LABEL,
	SW_DF_MAINTAINER,
	SW_DF_ONBUILD,
	SW_DF_RUN,
	SW_DF_SHELL,
	SW_DF_STOPSIGNAL,
	SW_DF_USER,
	SW_DF_VOLUME,
	SW_DF_WORKDIR,
} sw_df_kind;

typedef enum sw_df_mount_type {
	SW_DF_MOUNT_BIND,
	SW_DF_MOUNT_CACHE,
	SW_DF_MOUNT_TMPFS,
	SW_DF_MOUNT_SECRET,
	SW_DF_MOUNT_SSH,
} sw_df_mount_type;

typedef enum sw_df_sharing {
	SW_DF_SHARING_SHARED,
	SW_DF_SHARING_PRIVATE,
	SW_DF_SHARING_LOCKED,
} sw_df_sharing;

/* Where COPY --from or a mount's from= points. */
typedef enum sw_df_ref_kind {
	SW_DF_REF_NONE,    /* build context (COPY) or nothing (mounts) */
	SW_DF_REF_STAGE,   /* a stage of this Dockerfile: ref_stage */
	SW_DF_REF_IMAGE,   /* an image reference: the from string */
} sw_df_ref_kind;

/* RUN --mount=..., values expanded, defaults applied as BuildKit does. */
typedef struct sw_df_mount {
	sw_df_mount_type type;
	char *target;        /* as written ("" when not given); see target_abs */
	char *target_abs;    /* absolute, joined with WORKDIR (bind/cache/tmpfs);
	                        secrets default to /run/secrets/ID; "" for ssh default */
	char *source;        /* "" when not given */
	char *from;          /* "" when not given */
	sw_df_ref_kind from_kind;
	size_t from_stage;   /* stage index when from_kind == SW_DF_REF_STAGE */
	char *id;            /* cache id (default: target), secret id, ssh id ("default") */
	char *env;           /* secret exposed as this env variable, or NULL */
	bool readonly;       /* default: false for cache/tmpfs, true otherwise */
	bool required;       /* secret/ssh */
	sw_df_sharing sharing;
	bool has_mode, has_uid, has_gid;
	uint32_t mode, uid, gid;
	int64_t size;        /* tmpfs size in bytes, 0: unlimited */
} sw_df_mount;

/* A heredoc attached to RUN (left for the shell) or a COPY/ADD source. */
typedef struct sw_df_inline {
	char *name;
	char *data;          /* COPY/ADD: chomped if <<- and expanded unless the
	                        delimiter was quoted; RUN: as written */
	bool chomp;          /* <<- (RUN: strip leading tabs before use) */
} sw_df_inline;

typedef struct sw_df_step {
	sw_df_kind kind;
	const char *keyword;     /* "RUN", "COPY", ... */
	char *original;          /* the instruction as written */
	int line;                /* first line in the file */
	int end_line;
	bool onbuild;            /* injected from the base stage's ONBUILD */

	/*
	 * args, per kind, after expansion:
	 *   RUN CMD ENTRYPOINT: the command line (json: exec form; otherwise one
	 *                       string for `shell + [string]`)
	 *   SHELL: the shell;  VOLUME: the paths;  EXPOSE: normalized "80/tcp"
	 *   COPY ADD: sources then the destination (heredoc sources in `inlines`)
	 *   HEALTHCHECK: the test: {"NONE"} | {"CMD", ...} | {"CMD-SHELL", cmd}
	 *   USER WORKDIR STOPSIGNAL MAINTAINER: one value;  ONBUILD: the trigger
	 */
	char **args;
	size_t nargs;
	bool json;
	sw_df_kv *kvs;           /* ENV LABEL ARG (ARG: value NULL = no value) */
	size_t nkvs;
	sw_df_inline *inlines;   /* RUN heredocs, COPY/ADD heredoc sources */
	size_t ninlines;

	/* RUN */
	sw_df_mount *mounts;
	size_t nmounts;
	char *network;           /* "default", "none", "host" */
	char *security;          /* "sandbox", "insecure" */

	/* COPY / ADD */
	char *from;              /* COPY --from as written, or NULL */
	sw_df_ref_kind from_kind;
	size_t from_stage;
	char *chown, *chmod;     /* NULL when not given */
	char *checksum;          /* ADD */
	bool link, parents, keep_git_dir;
	int unpack;              /* ADD --unpack: -1 not given, 0, 1 */
	char **excludes;
	size_t nexcludes;

	/* HEALTHCHECK, nanoseconds; 0 = default */
	int64_t interval, timeout, start_period, start_interval;
	int retries;

	/* RUN CMD ENTRYPOINT: the SHELL in effect (default /bin/sh -c), to put
	 * in front of args when !json */
	char **shell;
	size_t nshell;

	/* WORKDIR: the resulting absolute working directory */
	char *workdir;

	/* the environment this step runs with (shared snapshot, do not free);
	 * env_flags[i] has SW_DF_ENV_ARG for ARG values (not for the image
	 * config) and SW_DF_ENV_IMAGE for values that came from the base */
	const sw_df_kv *env;
	const uint8_t *env_flags;
	size_t nenv;
} sw_df_step;

#define SW_DF_ENV_ARG 1u
#define SW_DF_ENV_IMAGE 2u

typedef enum sw_df_base_kind {
	SW_DF_BASE_IMAGE,
	SW_DF_BASE_STAGE,
	SW_DF_BASE_SCRATCH,
} sw_df_base_kind;

typedef struct sw_df_stage {
	size_t index;            /* position among the FROMs, 0-based */
	char *name;              /* lower-cased AS name, or NULL */
	char *display;           /* name, or "stage-N" */
	sw_df_base_kind base_kind;
	char *base;              /* expanded FROM argument */
	size_t base_stage;       /* when base_kind == SW_DF_BASE_STAGE */
	char *platform;          /* os/arch[/variant] the stage builds for */
	bool platform_explicit;  /* FROM --platform (or inherited from a stage) */
	int line;
	sw_df_step *steps;
	size_t nsteps;
	size_t *deps;            /* stages needed (base, COPY --from, mounts) */
	size_t ndeps;
} sw_df_stage;

typedef struct sw_df_plan {
	char *path;
	char escape;
	sw_df_stage *stages;     /* the stages that run, in execution order */
	size_t nstages;
	size_t target;           /* index of the target stage */
	size_t total_stages;     /* FROMs in the file */
	char *target_platform;   /* TARGETPLATFORM */
	bool target_platform_given; /* opts.target_platform was set */
	sw_df_kv *global_args;   /* global scope after build args (FROM lines) */
	size_t nglobal_args;
	sw_df_kv *proxy;         /* proxy build args, given to RUN steps only */
	size_t nproxy;
	char **warnings;         /* "FILE:LINE: message" or plain messages */
	size_t nwarnings;
	/* private: shared env snapshots and the memory budget */
	void *priv;
} sw_df_plan;

/* Callback: the Env ("K=V") of an image for a platform; return 0 with
 * *out = NULL when unknown. *out is a NULL-terminated array the plan frees. */
typedef int (*sw_df_image_env_fn)(char ***out, const char *ref, const char *platform,
                                  void *payload, sw_error **err);

typedef struct sw_df_plan_opts {
	const sw_df_kv *build_args;   /* --build-arg K=V (values not NULL) */
	size_t nbuild_args;
	const char *target;           /* stage name; NULL or "" for the last */
	const char *target_platform;  /* NULL: the build platform */
	const char *build_platform;   /* NULL: this host's */
	sw_df_image_env_fn image_env; /* optional */
	void *payload;
} sw_df_plan_opts;

/*
 * Plans f. Errors are "FILE:LINE: message" with Docker's message where it
 * has one (SW_EINVALID); an unknown --target is SW_ENOTFOUND.
 */
int sw_df_plan_build(sw_df_plan **out, const sw_df_file *f, const sw_df_plan_opts *opts,
                     sw_error **err);
void sw_df_plan_free(sw_df_plan *p);

/* The planned stage with file index `index`, or NULL if it does not run. */
const sw_df_stage *sw_df_plan_stage(const sw_df_plan *p, size_t index);

/* Readable text (documented in `slipway dockerfile plan --help`) and JSON;
 * caller frees. */
char *sw_df_plan_text(const sw_df_plan *p);
char *sw_df_plan_json(const sw_df_plan *p);

/* This host as an OCI platform string ("linux/amd64"); caller frees. */
char *sw_df_host_platform(void);

/* "UPPERCASE" keyword of a kind. */
const char *sw_df_kind_name(sw_df_kind k);

#endif
