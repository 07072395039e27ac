/*
 * dockerfile_instr.h - typed Dockerfile instructions (private to build/).
 *
 * Two steps, as in BuildKit (instructions/parse.go, then dispatch in
 * dockerfile2llb/convert.go):
 *   df_cmd_parse():  sw_df_instr -> df_cmd. Flags checked per keyword,
 *                    argument counts, JSON-only forms, ONBUILD triggers.
 *                    Nothing is expanded. Runs for every stage.
 *   df_cmd_expand(): df_cmd + environment -> sw_df_step with expanded
 *                    words and dispatch-time checks (chmod, signals, ports,
 *                    mounts). Runs only for stages that are built.
 */
#ifndef SLIPWAY_BUILD_DOCKERFILE_INSTR_H
#define SLIPWAY_BUILD_DOCKERFILE_INSTR_H

#include "shell_lex.h"
#include "slipway/dockerfile.h"
#include "slipway/dockerfile_plan.h"

/* A FROM line, parsed. */
typedef struct df_from {
	const sw_df_instr *in;
	char *base;      /* unexpanded */
	char *name;      /* lower-cased, or NULL */
	char *platform;  /* unexpanded --platform, or NULL */
} df_from;

/* Another instruction, parsed but not expanded. */
typedef struct df_cmd {
	const sw_df_instr *in;
	sw_df_kind kind;
	bool onbuild;             /* injected from a base stage's ONBUILD */
	int line, end_line;       /* where errors point */
	char **args;              /* per kind, see sw_df_step.args */
	size_t nargs;
	bool json;
	sw_df_kv *kvs;
	size_t nkvs;
	bool legacy_kv;           /* ENV/LABEL `k v` form */
	/* heredocs: RUN files, COPY/ADD sources */
	sw_df_inline *inlines;
	bool *inline_expand;
	size_t ninlines;
	/* RUN */
	char **mount_specs;
	size_t nmount_specs;
	char *network, *security;
	/* COPY/ADD */
	char *from, *chown, *chmod, *checksum;
	bool link, parents, keep_git_dir;
	int unpack;
	char **excludes;
	size_t nexcludes;
	/* HEALTHCHECK */
	int64_t interval, timeout, start_period, start_interval;
	int retries;
	/* ONBUILD: the trigger instruction */
	const sw_df_instr *trigger;
} df_cmd;

/* Everything expansion needs to know about the stage at that point. */
typedef struct df_expand_ctx {
	const char *path;          /* Dockerfile, for messages */
	sw_lex_opts lex;
	const sw_env *env;         /* ENV and ARG values in effect */
	const char *workdir;       /* absolute */
	char *const *shell;        /* SHELL in effect (NULL-terminated) */
	/* resolves a mount's from= to a stage (SW_DF_REF_STAGE) or image */
	int (*resolve_from)(const char *from, sw_df_ref_kind *kind, size_t *stage, void *payload);
	void *payload;
} df_expand_ctx;

/* Errors come back as "PATH:LINE: message". */
int df_from_parse(df_from *out, const sw_df_instr *in, const char *path, sw_error **err);
void df_from_release(df_from *f);

int df_cmd_parse(df_cmd *out, const sw_df_instr *in, const char *path, char ***warnings,
                 size_t *nwarnings, sw_error **err);
void df_cmd_release(df_cmd *c);

/* The from= of each --mount (NULL when none or cache without from), for
 * dependency detection before expansion; *out has c->nmount_specs entries. */
int df_cmd_mount_froms(char ***out, const df_cmd *c, const char *path, sw_error **err);

int df_cmd_expand(sw_df_step *out, const df_cmd *c, const df_expand_ctx *ctx, sw_error **err);
void df_step_release(sw_df_step *s);

/* Go's time.ParseDuration; returns 0 or -1 (message in *err). */
int df_parse_duration(int64_t *out, const char *s, sw_error **err);
/* Formats nanoseconds as Go's Duration.String() ("1m30s"); caller frees. */
char *df_format_duration(int64_t ns);

/* Validates an image reference ("alpine:3", "reg:5000/a/b@sha256:...") as
 * docker's reference parser does, loosely; message in *err. */
int df_check_image_ref(const char *ref, sw_error **err);

/* dockerfile_values.c: value checks with the messages of Docker's libraries */
bool df_go_parse_bool(const char *s, bool *out);           /* strconv.ParseBool */
bool df_parse_uint(const char *s, int base, uint64_t max, uint64_t *out);
bool df_ram_in_bytes(const char *s, int64_t *out);         /* go-units RAMInBytes */
int df_check_signal(const char *sig, sw_error **err);      /* signal.ParseSignal */
/* nat.ParsePortSpecs: *out gets "PORT/PROTO", sorted and unique */
int df_expose_ports(char ***out, size_t *nout, char **specs, size_t n, sw_error **err);
bool df_is_http_source(const char *s);
bool df_is_git_source(const char *s);
int df_check_digest(const char *d, sw_error **err);        /* digest.Parse */

/* path.Clean / path.Join("/", dir, p) for WORKDIR and mount targets. */
char *df_path_join_abs(const char *dir, const char *p);

/* "KEYWORD" of an instruction keyword in lower case, or NULL if unknown. */
const char *df_keyword_upper(const char *kw);

#endif
