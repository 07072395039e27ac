/*
 * cli.c - usage and error reporting shared by every verb.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "slipway/cleanup.h"
#include "slipway/log.h"

static void print_usage_line(FILE *f, const struct cli_command *cmd)
{
	const char *u = cmd->usage;
	const char *nl = strchr(u, '\n');
	fprintf(f, "%.*s\n", nl ? (int)(nl - u) : (int)strlen(u), u);
}

int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("slipway: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cmd)
		print_usage_line(stderr, cmd);
	return EXIT_USAGE;
}

int cli_fail(sw_error *err)
{
	if (sw_log_get_format() == SW_LOG_JSON) {
		sw_log_error(err, "failed");
	} else {
		cleanup_free char *msg = sw_error_string(err);
		fprintf(stderr, "slipway: error: %s\n", msg);
	}
	sw_error_free(err);
	return EXIT_FAIL;
}

int cli_help(const struct cli_command *cmd)
{
	fputs(cmd->usage, stdout);
	if (cmd->usage[0] && cmd->usage[strlen(cmd->usage) - 1] != '\n')
		fputc('\n', stdout);
	return EXIT_OK;
}

int cli_dispatch_sub(const struct cli_command *parent, const struct cli_command *subs,
                     int argc, char **argv)
{
	const char *name;

	if (argc < 2)
		return cli_usage_error(parent, "%s: missing sub-command", parent->name);
	name = argv[1];
	if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help"))
		return cli_help(parent);
	for (const struct cli_command *c = subs; c->name; c++)
		if (!strcmp(c->name, name))
			return c->fn(argc - 1, argv + 1, c);
	if (name[0] == '-')
		return cli_usage_error(parent, "%s: unknown flag '%s'", parent->name, name);
	return cli_usage_error(parent, "%s: unknown sub-command '%s'", parent->name, name);
}

int cli_parse_common(const struct cli_command *self, const char *verb, unsigned which,
                     int argc, char **argv, struct cli_common *out, int *rc)
{
	enum { OPT_STATE_DIR = 0x100 };
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char shortopts[8] = "h";
	int c;

	if (which & CLI_COMMON_OUTPUT)
		strcat(shortopts, "o:");
	if (which & CLI_COMMON_QUIET)
		strcat(shortopts, "q");
	*out = (struct cli_common){ .output = "text" };
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		if (c == 'o' && (which & CLI_COMMON_OUTPUT)) {
			out->output = optarg;
		} else if (c == 'q' && (which & CLI_COMMON_QUIET)) {
			out->quiet = true;
		} else if (c == OPT_STATE_DIR) {
			out->state_dir = optarg;
		} else if (c == 'h') {
			*rc = cli_help(self);
			return -1;
		} else {
			*rc = cli_usage_error(self, "%s: unknown or incomplete flag '%s'", verb, argv[optind - 1]);
			return -1;
		}
	}
	if ((which & CLI_COMMON_OUTPUT) && strcmp(out->output, "text") && strcmp(out->output, "json")) {
		*rc = cli_usage_error(self, "%s: --output must be text or json, not '%s'", verb, out->output);
		return -1;
	}
	return optind;
}
