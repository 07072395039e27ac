/*
 * cmd_push.c - `slipway push` and `slipway pull`: flags around build/'s
 * registry client (registry.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "slipway/cleanup.h"
#include "slipway/image_store.h"
#include "slipway/registry.h"
#include "slipway/statedir.h"

#define AUTH_HELP \
	"Credentials: SLIPWAY_REGISTRY_AUTH=USER:PASSWORD for every registry, or\n" \
	"SLIPWAY_REGISTRY_AUTH=HOST[:PORT]=USER:PASSWORD,... per registry (no ',' in\n" \
	"passwords then); else auths.HOST.auth (base64 of USER:PASSWORD) in\n" \
	"$DOCKER_CONFIG/config.json or ~/.docker/config.json. Basic and bearer token\n" \
	"challenges are answered. Credentials and tokens are never printed.\n"

#define STATE_DIR_HELP "      --state-dir DIR   the state dir (default $SLIPWAY_HOME, /var/lib/slipway as root,\n" \
	                   "                        ~/.local/share/slipway otherwise)\n"

const char cli_push_usage[] =
	"usage: slipway push [--insecure] [--from-repo REPO] [-q] [--state-dir DIR] REF DEST\n"
	"\n"
	"Pushes the image REF from the store to DEST ([REGISTRY/]NAME[:TAG], default\n"
	"registry docker.io, default tag latest) and prints its manifest digest.\n"
	"Blobs the registry has are skipped; blobs this store pushed to another\n"
	"repository of the same registry are mounted from there; blobs larger than\n"
	"SLIPWAY_REGISTRY_CHUNK_SIZE bytes (default 8 MiB) go up in chunks. An\n"
	"artifact manifest's subject is pushed first.\n"
	"\n"
	"      --insecure        plain HTTP (a registry on localhost)\n"
	"      --from-repo REPO  mount blobs from REPO on the same registry when\n"
	"                        it has them (uploads them otherwise)\n"
	"  -q, --quiet           print only the digest\n"
	STATE_DIR_HELP
	"\n" AUTH_HELP;

const char cli_pull_usage[] =
	"usage: slipway pull [--insecure] [-q] [--state-dir DIR] SRC [REF]\n"
	"\n"
	"Pulls SRC ([REGISTRY/]NAME[:TAG|@DIGEST]; an index gives its linux/amd64\n"
	"image) into the store and tags it REF (default SRC; a digest-only SRC stays\n"
	"untagged). Every blob is verified against its digest before it enters the\n"
	"store; an interrupted pull can simply be run again.\n"
	"\n"
	"      --insecure        plain HTTP (a registry on localhost)\n"
	"  -q, --quiet           print only the digest\n"
	STATE_DIR_HELP
	"\n" AUTH_HELP;

enum { OPT_STATE_DIR = 0x100, OPT_INSECURE, OPT_FROM_REPO };

static void store_freep(sw_image_store **s)
{
	sw_image_store_free(*s);
}
#define cleanup_store __attribute__((cleanup(store_freep)))

static int open_store(sw_image_store **out, const char *state_dir, sw_error **err)
{
	cleanup_free char *dir = NULL;
	int r;

	if ((r = sw_statedir_open(&dir, state_dir, err)) < 0)
		return r;
	return sw_image_store_open(out, dir, err);
}

static int parse(const struct cli_command *self, int argc, char **argv, sw_registry_opts *o, const char **state_dir)
{
	static const struct option opts[] = {
		{ "insecure", no_argument, NULL, OPT_INSECURE },
		{ "from-repo", required_argument, NULL, OPT_FROM_REPO },
		{ "quiet", no_argument, NULL, 'q' },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool push = !strcmp(self->name, "push");
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_INSECURE:
			o->insecure = true;
			break;
		case OPT_FROM_REPO:
			if (!push)
				return cli_usage_error(self, "%s: unknown or incomplete flag '--from-repo'", self->name);
			o->from_repo = optarg;
			break;
		case 'q':
			o->quiet = true;
			break;
		case OPT_STATE_DIR:
			*state_dir = optarg;
			break;
		case 'h':
			cli_help(self);
			return -1;
		default:
			return cli_usage_error(self, "%s: unknown or incomplete flag '%s'", self->name, argv[optind - 1]);
		}
	}
	return 0;
}

int cmd_push(int argc, char **argv, const struct cli_command *self)
{
	cleanup_store sw_image_store *s = NULL;
	sw_registry_opts o = { 0 };
	const char *state_dir = NULL;
	sw_push_result res;
	sw_error *err = NULL;
	int r;

	if ((r = parse(self, argc, argv, &o, &state_dir)) != 0)
		return r < 0 ? EXIT_OK : r;
	if (argc - optind != 2)
		return cli_usage_error(self, "push: expected REF and DEST");
	if (open_store(&s, state_dir, &err) < 0 ||
	    sw_registry_push(s, argv[optind], argv[optind + 1], &o, &res, &err) < 0)
		return cli_fail(err);
	if (!o.quiet)
		fprintf(stderr, "pushed %s: %d blobs uploaded, %d already there, %d mounted\n", argv[optind + 1],
		        res.blobs_pushed, res.blobs_skipped, res.blobs_mounted);
	printf("%s\n", res.digest);
	return EXIT_OK;
}

int cmd_pull(int argc, char **argv, const struct cli_command *self)
{
	cleanup_store sw_image_store *s = NULL;
	sw_registry_opts o = { 0 };
	const char *state_dir = NULL;
	sw_descriptor d;
	sw_error *err = NULL;
	int r;

	if ((r = parse(self, argc, argv, &o, &state_dir)) != 0)
		return r < 0 ? EXIT_OK : r;
	if (argc - optind < 1 || argc - optind > 2)
		return cli_usage_error(self, "pull: expected SRC and an optional REF");
	if (open_store(&s, state_dir, &err) < 0 ||
	    sw_registry_pull(s, argv[optind], argc - optind == 2 ? argv[optind + 1] : NULL, &o, &d, &err) < 0)
		return cli_fail(err);
	if (!o.quiet)
		fprintf(stderr, "pulled %s\n", argv[optind]);
	printf("%s\n", d.digest);
	return EXIT_OK;
}
