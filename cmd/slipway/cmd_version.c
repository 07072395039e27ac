/*
 * cmd_version.c - `slipway version`.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_version(int argc, char **argv, const struct cli_command *self)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return cli_help(self);
		return cli_usage_error(self, "version: unexpected argument '%s'", argv[i]);
	}
	printf("slipway %s\n", SLIPWAY_VERSION);
	return EXIT_OK;
}
