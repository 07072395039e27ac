/*
 * cmd_dockerfile.c - `slipway dockerfile parse|plan`.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/dockerfile.h"
#include "slipway/path.h"

#define PARSE_USAGE \
	"usage: slipway dockerfile parse [-f FILE] [-o sexp|json]\n" \
	"\n" \
	"Parses a Dockerfile as Docker's parser does and prints its syntax tree,\n" \
	"one instruction a line, in the S-expression form of Docker's parser test\n" \
	"dumps. No variable is expanded.\n" \
	"\n" \
	"  -f, --file FILE      the Dockerfile (default ./Dockerfile; - for stdin)\n" \
	"  -o, --output FORMAT  sexp (default) or json (with start and end lines)\n" \
	"\n" \
	"A syntax error prints FILE:LINE:COL: message and exits 1.\n"

#define PLAN_USAGE \
	"usage: slipway dockerfile plan [-f FILE] [--target STAGE] [--build-arg K=V]...\n" \
	"                               [--platform P] [--build-platform P] [-o text|json]\n" \
	"\n" \
	"Prints the stage graph after ARG/ENV expansion, as BuildKit would build it:\n" \
	"which stages run, in what order, and each instruction with its expanded\n" \
	"arguments. Nothing is pulled or run.\n" \
	"\n" \
	"  -f, --file FILE        the Dockerfile (default ./Dockerfile; - for stdin)\n" \
	"      --target STAGE     build only what STAGE needs (default: the last stage)\n" \
	"      --build-arg K=V    set a build argument (K alone takes it from the env)\n" \
	"      --platform P       target platform, e.g. linux/arm64 (default: this host)\n" \
	"      --build-platform P the platform building (BUILDPLATFORM; default: this host)\n" \
	"  -o, --output FORMAT    text (default) or json\n" \
	"\n" \
	"Text form (values are JSON strings):\n" \
	"  target: INDEX NAME\n" \
	"  stage INDEX NAME: FROM image \"REF\" | stage N (NAME) | scratch [platform P]\n" \
	"    (the platform is shown for FROM --platform, or for all with --platform)\n" \
	"    LINE [(onbuild)] KEYWORD ARGUMENTS\n" \
	"  where ARGUMENTS are, per keyword:\n" \
	"    ARG ENV LABEL       K=\"v\" ... (ARG K alone: declared without a value)\n" \
	"    RUN CMD ENTRYPOINT  exec [\"argv\",...] | shell [\"/bin/sh\",\"-c\"] \"command\",\n" \
	"                        RUN adds network=/security= when not default, then\n" \
	"                        lines: mount type=... target=\"/abs\" ..., heredoc NAME\n" \
	"                        \"body\", env K=\"v\" (ENV in effect), arg K=\"v\" (ARGs)\n" \
	"    COPY ADD            [--from=stage N (NAME)|image \"REF\"] [--chown=..] ...\n" \
	"                        [\"source\",...] \"dest\", heredoc sources as lines\n" \
	"    EXPOSE VOLUME SHELL [\"...\"] (EXPOSE normalized to \"80/tcp\")\n" \
	"    HEALTHCHECK         [\"CMD-SHELL\",\"...\"] interval=30s timeout=.. retries=N\n" \
	"    WORKDIR             \"as written\" -> \"/absolute\"\n" \
	"    USER STOPSIGNAL MAINTAINER ONBUILD  \"value\"\n" \
	"Stages are separated by a blank line. Warnings (unused build args, lint)\n" \
	"go to stderr. Errors are FILE:LINE: message, exit 1.\n"

int cmd_dockerfile_parse(int argc, char **argv, const struct cli_command *self);
int cmd_dockerfile_plan(int argc, char **argv, const struct cli_command *self);

const struct cli_command cli_dockerfile_commands[] = {
	{ "parse", cmd_dockerfile_parse, 0, "print the syntax tree", PARSE_USAGE },
	{ "plan", cmd_dockerfile_plan, 0, "print the expanded stage graph", PLAN_USAGE },
	{ NULL, NULL, 0, NULL, NULL },
};

int cmd_dockerfile(int argc, char **argv, const struct cli_command *self)
{
	return cli_dispatch_sub(self, cli_dockerfile_commands, argc, argv);
}

/* The Dockerfile at path, or standard input for "-", bounded as the parser
 * bounds it. */
static int read_dockerfile(char **out, size_t *len, const char *path, sw_error **err)
{
	sw_buf b = SW_BUF_INIT(SW_DF_MAX_FILE);
	char chunk[65536];
	size_t n;

	if (strcmp(path, "-"))
		return sw_read_file(out, len, path, SW_DF_MAX_FILE, err);
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
		if (sw_buf_add(&b, chunk, n, err) < 0) {
			sw_buf_release(&b);
			return sw_error_wrap(err, "reading the Dockerfile from standard input");
		}
	}
	if (ferror(stdin)) {
		sw_buf_release(&b);
		return sw_error_set_errno(err, errno, "reading the Dockerfile from standard input");
	}
	*len = b.len;
	*out = sw_buf_detach(&b);
	return 0;
}

int cmd_dockerfile_parse(int argc, char **argv, const struct cli_command *self)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = "Dockerfile";
	const char *output = "sexp";
	sw_df_file *df = NULL;
	sw_error *err = NULL;
	cleanup_free char *text = NULL;
	cleanup_free char *data = NULL;
	size_t len = 0;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			file = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			return cli_help(self);
		default:
			return cli_usage_error(self, "dockerfile parse: unknown or incomplete flag '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(self, "dockerfile parse: unexpected argument '%s'", argv[optind]);
	if (strcmp(output, "sexp") && strcmp(output, "json"))
		return cli_usage_error(self, "dockerfile parse: --output must be sexp or json, not '%s'", output);

	if (read_dockerfile(&data, &len, file, &err) < 0)
		return cli_fail(err);
	if (sw_df_parse(&df, file, data, len, &err) < 0) {
		/* syntax errors are already "FILE:LINE:COL: message" */
		fprintf(stderr, "%s\n", err->msg);
		sw_error_free(err);
		return EXIT_FAIL;
	}
	text = strcmp(output, "json") ? sw_df_dump(df) : sw_df_dump_json(df);
	for (size_t i = 0; i < df->nwarnings; i++)
		fprintf(stderr, "slipway: warning: %s\n", df->warnings[i]);
	sw_df_file_free(df);
	fputs(text, stdout);
	return EXIT_OK;
}
