/*
 * cmd_image.c - `slipway images` and `slipway image ls|inspect|tag|rm|prune|
 * import|export`: argument parsing and output around build/'s image store.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "slipway/cleanup.h"
#include "slipway/image_store.h"
#include "slipway/json.h"
#include "slipway/statedir.h"

#define STATE_DIR_FLAG "      --state-dir DIR   the state dir (default $SLIPWAY_HOME, /var/lib/slipway as root,\n" \
	                   "                        ~/.local/share/slipway otherwise)\n"

#define IMAGES_USAGE \
	"usage: slipway images [-q] [-o table|json] [--state-dir DIR]\n" \
	"\n" \
	"Lists the images in the store: one line per tag, untagged images last.\n" \
	"\n" \
	"  -q, --quiet           print only the manifest digests\n" \
	"  -o, --output FORMAT   table (default) or json\n" \
	STATE_DIR_FLAG

#define LS_USAGE \
	"usage: slipway image ls [-q] [-o table|json] [--state-dir DIR]\n" \
	"\n" \
	"Lists the images in the store (the same as `slipway images`).\n" \
	"\n" \
	"  -q, --quiet           print only the manifest digests\n" \
	"  -o, --output FORMAT   table (default) or json\n" \
	STATE_DIR_FLAG

#define INSPECT_USAGE \
	"usage: slipway image inspect [-o text|json] [--state-dir DIR] REF\n" \
	"\n" \
	"Shows an image's manifest and config. REF is NAME[:TAG], NAME@sha256:...,\n" \
	"a manifest digest or a unique prefix of one (7 hex digits at least).\n" \
	"\n" \
	"  -o, --output FORMAT   text (default) or json (digest, tags, manifest, config)\n" \
	STATE_DIR_FLAG

#define TAG_USAGE \
	"usage: slipway image tag [--state-dir DIR] SRC NEW\n" \
	"\n" \
	"Points the tag NEW (NAME[:TAG], default tag latest) at the image SRC.\n" \
	"\n" \
	STATE_DIR_FLAG

#define RM_USAGE \
	"usage: slipway image rm [--state-dir DIR] REF...\n" \
	"\n" \
	"Removes tags; a digest removes every tag of that image except the pins\n" \
	"releases keep (slipway-release/..., listed as kept). A manifest that no tag\n" \
	"refers to any more is deleted; its layers stay until prune.\n" \
	"\n" \
	STATE_DIR_FLAG

#define PRUNE_USAGE \
	"usage: slipway image prune [--state-dir DIR]\n" \
	"\n" \
	"Deletes every blob that no tagged image uses and prints what was freed.\n" \
	"Waits for slipway processes that are writing images.\n" \
	"\n" \
	STATE_DIR_FLAG

#define IMPORT_USAGE \
	"usage: slipway image import [--state-dir DIR] FILE [REF]\n" \
	"       slipway image import --rootfs [--arch ARCH] [--os OS] [--compression gzip|zstd] TAR NAME[:TAG]\n" \
	"\n" \
	"Imports an oci-archive or a docker-archive (found by content) and tags its\n" \
	"image REF (default: the names in the archive). Every blob is verified\n" \
	"first; a bad archive leaves the store as it was.\n" \
	"\n" \
	"With --rootfs, makes a one-layer base image from a root filesystem tar\n" \
	"(plain, gzip, bzip2, xz or zstd). The layer is rewritten deterministically:\n" \
	"the same tar always gives the same digest. Times come from SOURCE_DATE_EPOCH\n" \
	"(default 0).\n" \
	"\n" \
	"      --rootfs          FILE is a root filesystem tar\n" \
	"      --arch ARCH       the image's architecture (default amd64)\n" \
	"      --os OS           the image's os (default linux)\n" \
	"      --compression C   gzip (default) or zstd\n" \
	STATE_DIR_FLAG

#define EXPORT_USAGE \
	"usage: slipway image export [--format oci-archive|docker-archive] [--state-dir DIR] REF FILE\n" \
	"\n" \
	"Writes an image to FILE (- for stdout) as an OCI layout tar (default) or\n" \
	"as a tar that `docker load` reads. The same image always gives the same file.\n" \
	"\n" \
	"      --format FORMAT   oci-archive (default) or docker-archive\n" \
	STATE_DIR_FLAG

static int cmd_image_ls(int argc, char **argv, const struct cli_command *self);
static int cmd_image_inspect(int argc, char **argv, const struct cli_command *self);
static int cmd_image_tag(int argc, char **argv, const struct cli_command *self);
static int cmd_image_rm(int argc, char **argv, const struct cli_command *self);
static int cmd_image_prune(int argc, char **argv, const struct cli_command *self);
static int cmd_image_import(int argc, char **argv, const struct cli_command *self);
static int cmd_image_export(int argc, char **argv, const struct cli_command *self);

const struct cli_command cli_image_commands[] = {
	{ "ls", cmd_image_ls, CLI_NEEDS_STORE, "list images", LS_USAGE },
	{ "inspect", cmd_image_inspect, CLI_NEEDS_STORE, "show an image's manifest and config", INSPECT_USAGE },
	{ "tag", cmd_image_tag, CLI_NEEDS_STORE, "add a tag to an image", TAG_USAGE },
	{ "rm", cmd_image_rm, CLI_NEEDS_STORE, "remove tags and unused manifests", RM_USAGE },
	{ "prune", cmd_image_prune, CLI_NEEDS_STORE, "delete unused blobs", PRUNE_USAGE },
	{ "import", cmd_image_import, CLI_NEEDS_STORE, "import an archive or a root filesystem", IMPORT_USAGE },
	{ "export", cmd_image_export, CLI_NEEDS_STORE, "write an image as an archive", EXPORT_USAGE },
	{ NULL, NULL, 0, NULL, NULL },
};

const char cli_images_usage[] = IMAGES_USAGE;

const char cli_image_usage[] =
	"usage: slipway image SUB [flags]\n"
	"\n"
	"Manages the image store (an OCI image layout under the state dir).\n"
	"\n"
	"  ls       [-q] [-o table|json]          list images\n"
	"  inspect  [-o text|json] REF            show an image's manifest and config\n"
	"  tag      SRC NEW                       add a tag to an image\n"
	"  rm       REF...                        remove tags and unused manifests\n"
	"  prune                                  delete blobs no image uses\n"
	"  import   FILE [REF]                    import an oci-archive or docker-archive\n"
	"  import   --rootfs TAR NAME[:TAG]       make a base image from a root filesystem\n"
	"  export   [--format F] REF FILE         write an oci-archive or docker-archive\n"
	"\n"
	"Every sub-command takes --state-dir DIR. REF is NAME[:TAG], NAME@sha256:...,\n"
	"a manifest digest or a unique prefix of one. Run `slipway image SUB --help`\n"
	"for each sub-command's flags.\n";

int cmd_image(int argc, char **argv, const struct cli_command *self)
{
	return cli_dispatch_sub(self, cli_image_commands, argc, argv);
}

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

enum { OPT_STATE_DIR = 0x100, OPT_ROOTFS, OPT_ARCH, OPT_OS, OPT_COMPRESSION, OPT_FORMAT };

#define COMMON_OPTS \
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR }, \
	{ "help", no_argument, NULL, 'h' }

/* ---- ls ----------------------------------------------------------------- */

static void human_size(char out[16], int64_t n)
{
	static const char *units[] = { "kB", "MB", "GB", "TB" };
	double v = (double)n;
	int u = -1;

	if (n < 0) {
		snprintf(out, 16, "?");
		return;
	}
	if (n < 1000) {
		snprintf(out, 16, "%lldB", (long long)n);
		return;
	}
	while (v >= 1000 && u < 3) {
		v /= 1000;
		u++;
	}
	snprintf(out, 16, v < 10 ? "%.2f%s" : v < 100 ? "%.1f%s" : "%.0f%s", v, units[u]);
}

static int list_images(const struct cli_command *self, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "output", required_argument, NULL, 'o' },
		COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	cleanup_store sw_image_store *s = NULL;
	const char *state_dir = NULL, *output = "table";
	sw_image_summary *v = NULL;
	sw_error *err = NULL;
	bool quiet = false;
	size_t n = 0;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "qo:h", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quiet = true;
			break;
		case 'o':
			output = optarg;
			break;
		case OPT_STATE_DIR:
			state_dir = optarg;
			break;
		case 'h':
			return cli_help(self);
		default:
			return cli_usage_error(self, "%s: unknown or incomplete flag '%s'", self->name, argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(self, "%s: unexpected argument '%s'", self->name, argv[optind]);
	if (strcmp(output, "table") && strcmp(output, "json"))
		return cli_usage_error(self, "%s: --output must be table or json, not '%s'", self->name, output);
	if (open_store(&s, state_dir, &err) < 0 || sw_image_store_list(&v, &n, s, &err) < 0)
		return cli_fail(err);
	/* releases share the store (tagged slipway-release/APP:vN); they are not images */
	for (size_t i = 0, k = 0; i < n; i++) {
		if (v[i].ref && !strncmp(v[i].ref, "slipway-release/", 16)) {
			free(v[i].ref);
			free(v[i].created);
		} else {
			v[k++] = v[i];
		}
		if (i + 1 == n)
			n = k;
	}

	if (quiet) {
		cleanup_json json_t *seen = json_object();
		for (size_t i = 0; i < n; i++) {
			if (json_object_get(seen, v[i].digest))
				continue;
			json_object_set_new(seen, v[i].digest, json_true());
			printf("%s\n", v[i].digest);
		}
	} else if (!strcmp(output, "json")) {
		cleanup_json json_t *arr = json_array();
		cleanup_free char *text = NULL;
		for (size_t i = 0; i < n; i++) {
			cleanup_free char *name = NULL, *tag = NULL;
			if (v[i].ref)
				sw_image_ref_split(v[i].ref, &name, &tag);
			json_array_append_new(arr, json_pack("{s:s?, s:s?, s:s?, s:s, s:s?, s:I}", "ref", v[i].ref,
			                                     "repository", name, "tag", tag, "digest", v[i].digest,
			                                     "created", v[i].created, "size", (json_int_t)v[i].size));
		}
		text = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", text);
	} else {
		printf("%-32s %-16s %-14s %-22s %s\n", "REPOSITORY", "TAG", "DIGEST", "CREATED", "SIZE");
		for (size_t i = 0; i < n; i++) {
			cleanup_free char *name = NULL, *tag = NULL;
			char size[16];
			if (v[i].ref)
				sw_image_ref_split(v[i].ref, &name, &tag);
			human_size(size, v[i].size);
			printf("%-32s %-16s %-14.12s %-22s %s\n", name ? name : "<none>", tag ? tag : "<none>",
			       v[i].digest + 7, v[i].created ? v[i].created : "", size);
		}
	}
	sw_image_summaries_free(v, n);
	return EXIT_OK;
}

int cmd_images(int argc, char **argv, const struct cli_command *self)
{
	return list_images(self, argc, argv);
}

static int cmd_image_ls(int argc, char **argv, const struct cli_command *self)
{
	return list_images(self, argc, argv);
}

/* ---- inspect ------------------------------------------------------------ */

static void print_strings(const char *label, json_t *a)
{
	json_t *v;
	size_t i;

	if (!json_is_array(a) || !json_array_size(a))
		return;
	printf("%-12s", label);
	json_array_foreach(a, i, v)
		printf("%s%s", i ? " " : "", json_string_value(v));
	printf("\n");
}

static int cmd_image_inspect(int argc, char **argv, const struct cli_command *self)
{
	cleanup_store sw_image_store *s = NULL;
	struct cli_common co;
	sw_image *img = NULL;
	sw_error *err = NULL;
	int rc;

	if (cli_parse_common(self, "image inspect", CLI_COMMON_OUTPUT, argc, argv, &co, &rc) < 0)
		return rc;
	if (optind + 1 != argc)
		return cli_usage_error(self, "image inspect: expected one REF");
	if (open_store(&s, co.state_dir, &err) < 0 || sw_image_store_load(&img, s, argv[optind], &err) < 0)
		return cli_fail(err);

	if (!strcmp(co.output, "json")) {
		cleanup_json json_t *doc = NULL;
		cleanup_free char *text = NULL;
		json_t *refs = json_array();
		for (size_t i = 0; i < img->nrefs; i++)
			json_array_append_new(refs, json_string(img->refs[i]));
		doc = json_pack("{s:s, s:o, s:I, s:O, s:O}", "digest", img->digest, "refs", refs, "size",
		                (json_int_t)img->size, "manifest", img->manifest, "config", img->config);
		text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", text);
	} else {
		json_t *cfg = json_object_get(img->config, "config");
		char size[16];
		human_size(size, img->size);
		printf("%-12s%s\n", "Digest:", img->digest);
		for (size_t i = 0; i < img->nrefs; i++)
			printf("%-12s%s\n", i ? "" : "Tags:", img->refs[i]);
		printf("%-12s%s\n", "Created:", json_string_value(json_object_get(img->config, "created")) ?: "");
		printf("%-12s%s/%s\n", "Platform:", json_string_value(json_object_get(img->config, "os")),
		       json_string_value(json_object_get(img->config, "architecture")));
		printf("%-12s%s\n", "Size:", size);
		print_strings("Env:", json_object_get(cfg, "Env"));
		print_strings("Entrypoint:", json_object_get(cfg, "Entrypoint"));
		print_strings("Cmd:", json_object_get(cfg, "Cmd"));
		printf("%-12s%s\n", "Config:", img->config_desc.digest);
		for (size_t i = 0; i < img->nlayers; i++) {
			human_size(size, img->layers[i].size);
			printf("%-12s%s %s (diff_id %s)\n", i ? "" : "Layers:", img->layers[i].digest, size, img->diff_ids[i]);
		}
	}
	sw_image_free(img);
	return EXIT_OK;
}

/* ---- tag, rm, prune ----------------------------------------------------- */

/* The verbs that take only --state-dir. */
static int parse_plain(int argc, char **argv, const struct cli_command *self, const char **state_dir, int *rc)
{
	struct cli_common co;
	char verb[64];

	snprintf(verb, sizeof(verb), "image %s", self->name);
	if (cli_parse_common(self, verb, 0, argc, argv, &co, rc) < 0)
		return -1;
	*state_dir = co.state_dir;
	return 0;
}

static int cmd_image_tag(int argc, char **argv, const struct cli_command *self)
{
	cleanup_store sw_image_store *s = NULL;
	const char *state_dir = NULL;
	sw_image *img = NULL;
	sw_error *err = NULL;
	sw_descriptor d;
	int rc = 0, r;

	if (parse_plain(argc, argv, self, &state_dir, &rc) < 0)
		return rc;
	if (optind + 2 != argc)
		return cli_usage_error(self, "image tag: expected SRC and NEW");
	if (open_store(&s, state_dir, &err) < 0 || sw_image_store_load(&img, s, argv[optind], &err) < 0)
		return cli_fail(err);
	json_t *mt = json_object_get(img->manifest, "mediaType");
	snprintf(d.media_type, sizeof(d.media_type), "%s", json_is_string(mt) ? json_string_value(mt) : SW_MT_OCI_MANIFEST);
	snprintf(d.digest, sizeof(d.digest), "%s", img->digest);
	d.size = img->manifest_size;
	r = sw_image_store_tag(s, argv[optind + 1], &d, &err);
	sw_image_free(img);
	return r < 0 ? cli_fail(err) : EXIT_OK;
}

static int cmd_image_rm(int argc, char **argv, const struct cli_command *self)
{
	cleanup_store sw_image_store *s = NULL;
	const char *state_dir = NULL;
	sw_error *err = NULL;
	int rc = 0, status = EXIT_OK;

	if (parse_plain(argc, argv, self, &state_dir, &rc) < 0)
		return rc;
	if (optind >= argc)
		return cli_usage_error(self, "image rm: expected at least one REF");
	if (open_store(&s, state_dir, &err) < 0)
		return cli_fail(err);
	for (int i = optind; i < argc; i++) {
		sw_remove_result res;
		if (sw_image_store_remove(s, argv[i], &res, &err) < 0) {
			status = cli_fail(err);
			err = NULL;
			continue;
		}
		for (size_t j = 0; j < res.nuntagged; j++)
			printf("untagged: %s\n", res.untagged[j]);
		for (size_t j = 0; j < res.nkept; j++)
			printf("kept: %s (pinned by a release; remove the release's tag by name to drop it)\n",
			       res.kept[j]);
		for (size_t j = 0; j < res.ndeleted; j++)
			printf("deleted: %s\n", res.deleted[j]);
		sw_remove_result_release(&res);
	}
	return status;
}

static int cmd_image_prune(int argc, char **argv, const struct cli_command *self)
{
	cleanup_store sw_image_store *s = NULL;
	const char *state_dir = NULL;
	sw_error *err = NULL;
	sw_prune_result res;
	char size[16];
	int rc = 0;

	if (parse_plain(argc, argv, self, &state_dir, &rc) < 0)
		return rc;
	if (optind != argc)
		return cli_usage_error(self, "image prune: unexpected argument '%s'", argv[optind]);
	if (open_store(&s, state_dir, &err) < 0 || sw_image_store_prune(s, &res, &err) < 0)
		return cli_fail(err);
	for (size_t i = 0; i < res.nremoved; i++)
		printf("deleted: %s\n", res.removed[i]);
	human_size(size, res.bytes);
	printf("freed %zu blob%s, %s\n", res.nremoved, res.nremoved == 1 ? "" : "s", size);
	sw_prune_result_release(&res);
	return EXIT_OK;
}

/* ---- import, export ----------------------------------------------------- */

static int cmd_image_import(int argc, char **argv, const struct cli_command *self)
{
	static const struct option opts[] = {
		{ "rootfs", no_argument, NULL, OPT_ROOTFS },
		{ "arch", required_argument, NULL, OPT_ARCH },
		{ "os", required_argument, NULL, OPT_OS },
		{ "compression", required_argument, NULL, OPT_COMPRESSION },
		COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	cleanup_store sw_image_store *s = NULL;
	sw_rootfs_opts ro = { .compression = SW_COMPRESS_GZIP };
	const char *state_dir = NULL, *compression = NULL;
	bool rootfs = false;
	sw_error *err = NULL;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ROOTFS:
			rootfs = true;
			break;
		case OPT_ARCH:
			ro.arch = optarg;
			break;
		case OPT_OS:
			ro.os = optarg;
			break;
		case OPT_COMPRESSION:
			compression = optarg;
			break;
		case OPT_STATE_DIR:
			state_dir = optarg;
			break;
		case 'h':
			return cli_help(self);
		default:
			return cli_usage_error(self, "image import: unknown or incomplete flag '%s'", argv[optind - 1]);
		}
	}
	if (compression && !strcmp(compression, "zstd"))
		ro.compression = SW_COMPRESS_ZSTD;
	else if (compression && strcmp(compression, "gzip"))
		return cli_usage_error(self, "image import: --compression must be gzip or zstd, not '%s'", compression);
	if (!rootfs && (ro.arch || ro.os || compression))
		return cli_usage_error(self, "image import: --arch, --os and --compression go with --rootfs");
	if (rootfs ? optind + 2 != argc : (optind + 1 != argc && optind + 2 != argc))
		return cli_usage_error(self, rootfs ? "image import --rootfs: expected TAR and NAME[:TAG]"
		                                    : "image import: expected FILE and an optional REF");
	if (open_store(&s, state_dir, &err) < 0)
		return cli_fail(err);
	if (rootfs) {
		sw_descriptor d;
		if (sw_source_date_epoch(&ro.epoch, &err) < 0 ||
		    sw_image_import_rootfs(s, argv[optind], argv[optind + 1], &ro, &d, &err) < 0)
			return cli_fail(err);
		printf("%s\n", d.digest);
		return EXIT_OK;
	}
	sw_import_result res;
	if (sw_image_import_archive(s, argv[optind], optind + 1 < argc ? argv[optind + 1] : NULL, &res, &err) < 0)
		return cli_fail(err);
	for (size_t i = 0; i < res.ndigests; i++)
		printf("%s\n", res.digests[i]);
	for (size_t i = 0; i < res.nrefs; i++)
		fprintf(stderr, "tagged %s\n", res.refs[i]);
	sw_import_result_release(&res);
	return EXIT_OK;
}

static int cmd_image_export(int argc, char **argv, const struct cli_command *self)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, OPT_FORMAT },
		COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	cleanup_store sw_image_store *s = NULL;
	enum sw_archive_format format = SW_ARCHIVE_OCI;
	const char *state_dir = NULL;
	sw_error *err = NULL;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_FORMAT:
			if (!strcmp(optarg, "oci-archive") || !strcmp(optarg, "oci"))
				format = SW_ARCHIVE_OCI;
			else if (!strcmp(optarg, "docker-archive") || !strcmp(optarg, "docker"))
				format = SW_ARCHIVE_DOCKER;
			else
				return cli_usage_error(self, "image export: --format must be oci-archive or docker-archive, not '%s'",
				                       optarg);
			break;
		case OPT_STATE_DIR:
			state_dir = optarg;
			break;
		case 'h':
			return cli_help(self);
		default:
			return cli_usage_error(self, "image export: unknown or incomplete flag '%s'", argv[optind - 1]);
		}
	}
	if (optind + 2 != argc)
		return cli_usage_error(self, "image export: expected REF and FILE");
	if (open_store(&s, state_dir, &err) < 0 || sw_image_export(s, argv[optind], argv[optind + 1], format, &err) < 0)
		return cli_fail(err);
	return EXIT_OK;
}
