/*
 * cli.h - what every `slipway` verb shares: the command table entry, usage
 * and error reporting, exit codes. Verbs live in cmd_<verb>.c, parse their
 * flags and call one library entry point.
 */
#ifndef SLIPWAY_CLI_H
#define SLIPWAY_CLI_H

#include <stdbool.h>

#include "slipway/error.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Preconditions a verb declares in the table (git's RUN_SETUP style). */
enum cli_flags {
	CLI_NEEDS_STORE = 1 << 0,  /* opens the state dir */
	CLI_NEEDS_DAEMON = 1 << 1, /* talks to slipwayd */
};

struct cli_command {
	const char *name;
	int (*fn)(int argc, char **argv, const struct cli_command *self);
	unsigned flags;
	const char *summary;  /* one line for `slipway --help` */
	const char *usage;    /* full --help text, starting with "usage: " */
};

/* Prints "slipway: error: MSG" and the verb's usage line to stderr; returns
 * EXIT_USAGE. */
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prints the error chain ("slipway: error: ...") and returns EXIT_FAIL. */
int cli_fail(sw_error *err);
/* Prints cmd->usage to stdout and returns EXIT_OK. */
int cli_help(const struct cli_command *cmd);

/*
 * The flags many verbs take and nothing else: --state-dir DIR, -h/--help
 * and, when `which` asks, -o/--output text|json (default text, checked) and
 * -q/--quiet. Returns the index of the first operand, or -1 with *rc set
 * (--help printed, or a usage error naming `verb`, e.g. "image inspect").
 */
enum { CLI_COMMON_OUTPUT = 1 << 0, CLI_COMMON_QUIET = 1 << 1 };
struct cli_common {
	const char *state_dir;
	const char *output;
	bool quiet;
};
int cli_parse_common(const struct cli_command *self, const char *verb, unsigned which,
                     int argc, char **argv, struct cli_common *out, int *rc);

/*
 * Runs a sub-verb from a table (`slipway dockerfile parse`): argv[0] is the
 * parent verb, argv[1] the sub-verb. Handles --help and unknown sub-verbs.
 */
int cli_dispatch_sub(const struct cli_command *parent, const struct cli_command *subs,
                     int argc, char **argv);

/* Every verb, for the table and the tests. */
int cmd_version(int argc, char **argv, const struct cli_command *self);
int cmd_build(int argc, char **argv, const struct cli_command *self);
int cmd_dockerfile(int argc, char **argv, const struct cli_command *self);
int cmd_image(int argc, char **argv, const struct cli_command *self);
int cmd_images(int argc, char **argv, const struct cli_command *self);
int cmd_release(int argc, char **argv, const struct cli_command *self);
int cmd_releases(int argc, char **argv, const struct cli_command *self);
int cmd_config(int argc, char **argv, const struct cli_command *self);
int cmd_push(int argc, char **argv, const struct cli_command *self);
int cmd_pull(int argc, char **argv, const struct cli_command *self);
int cmd_manifest(int argc, char **argv, const struct cli_command *self);
extern const char cli_manifest_usage[];

extern const struct cli_command cli_commands[];
extern const struct cli_command cli_dockerfile_commands[];
extern const struct cli_command cli_image_commands[];
extern const char cli_image_usage[];
extern const char cli_images_usage[];
extern const char cli_build_usage[];
extern const struct cli_command cli_release_commands[];
extern const struct cli_command cli_config_commands[];
extern const char cli_release_usage[];
extern const char cli_releases_usage[];
extern const char cli_config_usage[];

/* release/ helpers shared by cmd_release.c and cmd_config.c */
struct sw_releases;
struct sw_release_info;
int cli_open_releases(struct sw_releases **out, const char *state_dir, sw_error **err);
/* "APP vN ID", or the ID alone when quiet. */
void cli_print_release(const struct sw_release_info *info, bool quiet);
extern const char cli_push_usage[];

/* verbs that talk to slipwayd (cmd_get.c, ...; helpers in kube.h) */
int cmd_get(int argc, char **argv, const struct cli_command *self);
extern const char cli_get_usage[];
int cmd_describe(int argc, char **argv, const struct cli_command *self);
extern const char cli_describe_usage[];
int cmd_apply(int argc, char **argv, const struct cli_command *self);
extern const char cli_apply_usage[];
int cmd_delete(int argc, char **argv, const struct cli_command *self);
extern const char cli_delete_usage[];
int cmd_scale(int argc, char **argv, const struct cli_command *self);
extern const char cli_scale_usage[];
int cmd_logs(int argc, char **argv, const struct cli_command *self);
extern const char cli_logs_usage[];
int cmd_exec(int argc, char **argv, const struct cli_command *self);
extern const char cli_exec_usage[];
int cmd_rollout(int argc, char **argv, const struct cli_command *self);
extern const char cli_rollout_usage[];
int cmd_deploy(int argc, char **argv, const struct cli_command *self);
extern const char cli_deploy_usage[];
int cmd_up(int argc, char **argv, const struct cli_command *self);
extern const char cli_up_usage[];
int cmd_down(int argc, char **argv, const struct cli_command *self);
extern const char cli_down_usage[];
int cmd_top(int argc, char **argv, const struct cli_command *self);
extern const char cli_top_usage[];
int cmd_events(int argc, char **argv, const struct cli_command *self);
extern const char cli_events_usage[];
extern const char cli_pull_usage[];

#endif
