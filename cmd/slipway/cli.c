/*
 * cli.c - usage and error reporting shared by every verb.
 */
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
