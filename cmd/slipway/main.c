/*
 * main.c - `slipway VERB [args]`: global flags, then one verb from the table.
 *
 * Global flags come before the verb: --log-format human|json,
 * --log-level debug|info|warn|error, --help, --version. After the verb runs,
 * stdout is flushed and closed and a write error (full disk, closed pipe)
 * turns success into failure, as git's run_builtin does.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "slipway/log.h"

#define VERSION_USAGE \
	"usage: slipway version\n" \
	"\n" \
	"Prints slipway's version.\n"

#define DOCKERFILE_USAGE \
	"usage: slipway dockerfile parse|plan [flags]\n" \
	"\n" \
	"Reads Dockerfiles as Docker does.\n" \
	"\n" \
	"  parse [-f FILE] [-o sexp|json]   print the syntax tree\n" \
	"  plan  [-f FILE] [--target T] [--build-arg K=V]...\n" \
	"                                   print the stages after expansion\n" \
	"\n" \
	"Run `slipway dockerfile SUB --help` for each sub-command's flags.\n"

const struct cli_command cli_commands[] = {
	{ "apply", cmd_apply, CLI_NEEDS_DAEMON, "create or update objects from manifests in slipwayd", cli_apply_usage },
	{ "build", cmd_build, CLI_NEEDS_STORE, "build an image from a Dockerfile", cli_build_usage },
	{ "config", cmd_config, CLI_NEEDS_STORE, "show or change an app's config vars", cli_config_usage },
	{ "delete", cmd_delete, CLI_NEEDS_DAEMON, "delete objects from slipwayd", cli_delete_usage },
	{ "deploy", cmd_deploy, CLI_NEEDS_STORE | CLI_NEEDS_DAEMON, "apply a release to slipwayd as a new revision", cli_deploy_usage },
	{ "describe", cmd_describe, CLI_NEEDS_DAEMON, "show an object in detail with its events", cli_describe_usage },
	{ "dockerfile", cmd_dockerfile, 0, "parse and plan Dockerfiles", DOCKERFILE_USAGE },
	{ "down", cmd_down, 0, "stop slipwayd", cli_down_usage },
	{ "events", cmd_events, CLI_NEEDS_DAEMON, "show what the controllers and the node agent did", cli_events_usage },
	{ "exec", cmd_exec, CLI_NEEDS_DAEMON, "run a command in a pod's container", cli_exec_usage },
	{ "get", cmd_get, CLI_NEEDS_DAEMON, "show objects from slipwayd (kubectl get)", cli_get_usage },
	{ "image", cmd_image, CLI_NEEDS_STORE, "manage images in the store", cli_image_usage },
	{ "images", cmd_images, CLI_NEEDS_STORE, "list images", cli_images_usage },
	{ "manifest", cmd_manifest, 0, "validate manifests offline", cli_manifest_usage },
	{ "release", cmd_release, CLI_NEEDS_STORE, "make, show, compare, export and import releases", cli_release_usage },
	{ "releases", cmd_releases, CLI_NEEDS_STORE, "list an app's releases", cli_releases_usage },
	{ "pull", cmd_pull, CLI_NEEDS_STORE, "pull an image from a registry", cli_pull_usage },
	{ "push", cmd_push, CLI_NEEDS_STORE, "push an image to a registry", cli_push_usage },
	{ "logs", cmd_logs, CLI_NEEDS_DAEMON, "print a pod's container log", cli_logs_usage },
	{ "rollout", cmd_rollout, CLI_NEEDS_DAEMON, "watch, list, undo, pause, resume or restart a deployment's rollouts", cli_rollout_usage },
	{ "scale", cmd_scale, CLI_NEEDS_DAEMON, "set a deployment's number of replicas", cli_scale_usage },
	{ "top", cmd_top, CLI_NEEDS_DAEMON, "show pods' CPU and memory", cli_top_usage },
	{ "up", cmd_up, 0, "start slipwayd in the background", cli_up_usage },
	{ "version", cmd_version, 0, "print the version", VERSION_USAGE },
	{ NULL, NULL, 0, NULL, NULL },
};

static const struct cli_command main_cmd = {
	"slipway", NULL, 0, "",
	"usage: slipway [--log-format human|json] [--log-level LEVEL] [--state-dir DIR] VERB [args]\n",
};

static void print_main_help(FILE *f)
{
	fputs(main_cmd.usage, f);
	fputs("\nslipway takes an application from a Dockerfile to live traffic on one host:\n"
	      "build -> release -> run.\n\nVerbs:\n", f);
	for (const struct cli_command *c = cli_commands; c->name; c++)
		fprintf(f, "  %-12s %s\n", c->name, c->summary);
	fputs("\nGlobal flags:\n"
	      "  --log-format human|json   diagnostics on stderr as text or JSON lines\n"
	      "  --log-level LEVEL         debug, info, warn or error (default info)\n"
	      "  --state-dir DIR           state (images, releases) under DIR instead of\n"
	      "                            $SLIPWAY_HOME or the default\n"
	      "  --help                    this text; `slipway VERB --help` for a verb\n"
	      "  --version                 print the version\n"
	      "\nExit codes: 0 success, 1 failure, 2 usage error.\n", f);
}

static int finish(int rc)
{
	/* A verb that printed to a full disk or a closed pipe did not succeed. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			fprintf(stderr, "slipway: error: writing output: %s\n", strerror(errno));
		return rc == EXIT_OK ? EXIT_FAIL : rc;
	}
	if (fclose(stdout) != 0 && rc == EXIT_OK) {
		fprintf(stderr, "slipway: error: closing output: %s\n", strerror(errno));
		return EXIT_FAIL;
	}
	return rc;
}

int main(int argc, char **argv)
{
	enum sw_log_format format = SW_LOG_HUMAN;
	enum sw_log_level level = SW_LOG_INFO;
	sw_error *err = NULL;
	static const struct option opts[] = {
		{ "log-format", required_argument, NULL, 'F' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *env;
	int c;

	if ((env = getenv("SLIPWAY_LOG_FORMAT")) && sw_log_parse_format(env, &format, &err) < 0)
		return cli_fail(err);
	if ((env = getenv("SLIPWAY_LOG_LEVEL")) && sw_log_parse_level(env, &level, &err) < 0)
		return cli_fail(err);

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'F':
			if (sw_log_parse_format(optarg, &format, &err) < 0) {
				sw_error_free(err);
				return cli_usage_error(&main_cmd, "--log-format: expected human or json, got '%s'", optarg);
			}
			break;
		case 'L':
			if (sw_log_parse_level(optarg, &level, &err) < 0) {
				sw_error_free(err);
				return cli_usage_error(&main_cmd, "--log-level: expected debug, info, warn or error, got '%s'", optarg);
			}
			break;
		case 'S':
			/* verbs read it through SLIPWAY_HOME (statedir.h) */
			if (!*optarg)
				return cli_usage_error(&main_cmd, "--state-dir: empty path");
			setenv("SLIPWAY_HOME", optarg, 1);
			break;
		case 'h':
			print_main_help(stdout);
			return finish(EXIT_OK);
		case 'V': {
			const struct cli_command *v = cli_commands;
			while (v->name && strcmp(v->name, "version"))
				v++;
			return finish(cmd_version(1, (char *[]){ "version", NULL }, v));
		}
		default:
			return cli_usage_error(&main_cmd, "unknown flag '%s'", argv[optind - 1]);
		}
	}
	sw_log_init("slipway", format, level);

	if (optind >= argc) {
		print_main_help(stderr);
		return EXIT_USAGE;
	}
	const char *verb = argv[optind];
	if (!strcmp(verb, "help")) {
		if (optind + 1 < argc) {
			for (const struct cli_command *cmd = cli_commands; cmd->name; cmd++)
				if (!strcmp(cmd->name, argv[optind + 1]))
					return finish(cli_help(cmd));
			return cli_usage_error(&main_cmd, "unknown verb '%s'", argv[optind + 1]);
		}
		print_main_help(stdout);
		return finish(EXIT_OK);
	}
	for (const struct cli_command *cmd = cli_commands; cmd->name; cmd++) {
		if (strcmp(cmd->name, verb))
			continue;
		int first = optind;
		/* reset getopt for the verb's own parsing; argv[0] is the verb */
		optind = 0;
		opterr = 0;
		return finish(cmd->fn(argc - first, argv + first, cmd));
	}
	return cli_usage_error(&main_cmd, "unknown verb '%s' (see `slipway --help`)", verb);
}
