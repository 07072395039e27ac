/*
 * cmd_release.c - `slipway release APP --image REF ...`, `slipway releases`
 * and `slipway release show|diff|export|import`: argument parsing and output
 * around release/. Secret config values are never printed: the library
 * hands out documents that hold only their digests, shown as ****.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/release.h"
#include "slipway/statedir.h"

#define STATE_DIR_FLAG "      --state-dir DIR   the state dir (default $SLIPWAY_HOME, /var/lib/slipway as root,\n" \
	                   "                        ~/.local/share/slipway otherwise)\n"

#define RELEASE_USAGE \
	"usage: slipway release APP --image REF [--env-file F] [--procfile F] [-f MANIFEST]...\n" \
	"                       [--note TEXT] [-q] [--state-dir DIR]\n" \
	"       slipway release SUB [flags]\n" \
	"\n" \
	"Makes a release of APP: one image (pinned by digest), config vars, process\n" \
	"types and deploy manifests, with an ID (sha256:...) that the same inputs always\n" \
	"give. Config vars carry over from APP's current release; --env-file sets more.\n" \
	"Process types come from --procfile, else `web` runs the image's Entrypoint/Cmd.\n" \
	"Deploy manifests (-f) carry over when none is given. Prints the release.\n" \
	"\n" \
	"  show    APP ID|vN [-o text|json]      show a release\n" \
	"  diff    APP A B [-o text|json]        what changed between two releases\n" \
	"  export  APP ID|vN FILE                write a release and its image as one tar\n" \
	"  import  FILE                          import such a tar (same ID)\n" \
	"  rollback APP ID|vN [--note T] [-q]    a new release copying an earlier one\n" \
	"  push    APP ID|vN DEST [--insecure]   push a release and its image\n" \
	"  pull    SRC [--insecure] [-q]         pull a release and its image (same ID)\n" \
	"\n" \
	"      --image REF       the image: NAME[:TAG], a digest or a unique prefix\n" \
	"      --env-file FILE   config vars from a KEY=VALUE file\n" \
	"      --procfile FILE   process types from `name: command` lines\n" \
	"  -f, --manifest FILE   a deploy manifest (repeatable)\n" \
	"      --note TEXT       a note kept with the release\n" \
	"  -q, --quiet           print only the release ID\n" \
	STATE_DIR_FLAG \
	"\n" \
	"IDs may be given as any unique prefix of 7 hex digits or more, or as vN.\n" \
	"Run `slipway release SUB --help` for each sub-command's flags.\n"

#define RELEASES_USAGE \
	"usage: slipway releases APP [-n N] [-o table|json] [--state-dir DIR]\n" \
	"\n" \
	"Lists APP's releases, newest first (the release history).\n" \
	"\n" \
	"  -n, --limit N         at most N releases\n" \
	"  -o, --output FORMAT   table (default) or json\n" \
	STATE_DIR_FLAG

#define SHOW_USAGE \
	"usage: slipway release show [-o text|json] [--state-dir DIR] APP ID|vN\n" \
	"\n" \
	"Shows a release: image, config vars (secrets as ****), processes, deploy\n" \
	"manifests, build metadata and history.\n" \
	"\n" \
	"  -o, --output FORMAT   text (default) or json\n" \
	STATE_DIR_FLAG

#define DIFF_USAGE \
	"usage: slipway release diff [-o text|json] [--state-dir DIR] APP A B\n" \
	"\n" \
	"Shows what changed from release A to release B: image, config vars (secrets\n" \
	"as ****, with whether they changed), process types and deploy manifests.\n" \
	"\n" \
	"  -o, --output FORMAT   text (default) or json\n" \
	STATE_DIR_FLAG

#define EXPORT_USAGE \
	"usage: slipway release export [--state-dir DIR] APP ID|vN FILE\n" \
	"\n" \
	"Writes the release, its blobs and its image to FILE as one tar; secret values\n" \
	"are not in it. Prints the release ID.\n" \
	"\n" \
	STATE_DIR_FLAG

#define ROLLBACK_USAGE \
	"usage: slipway release rollback [--note TEXT] [-q] [--state-dir DIR] APP ID|vN\n" \
	"\n" \
	"Makes a new release (reason rollback) with the image, config vars, processes\n" \
	"and deploy manifests of an earlier release; history keeps every release.\n" \
	"\n" \
	"      --note TEXT       a note kept with the release\n" \
	"  -q, --quiet           print only the new release ID\n" \
	STATE_DIR_FLAG

#define IMPORT_USAGE \
	"usage: slipway release import [-q] [--state-dir DIR] FILE\n" \
	"\n" \
	"Imports a tar written by `slipway release export`: the image, the release\n" \
	"(the same ID) and a history entry under the app's next version.\n" \
	"\n" \
	"  -q, --quiet           print only the release ID\n" \
	STATE_DIR_FLAG

#define REGISTRY_NOTE \
	"Credentials and plain HTTP work as for `slipway push` (see `slipway push --help`).\n"

#define PUSH_USAGE \
	"usage: slipway release push [--insecure] [-q] [--state-dir DIR] APP ID|vN DEST\n" \
	"\n" \
	"Pushes a release to DEST ([REGISTRY/]NAME[:TAG]) as an OCI artifact manifest\n" \
	"(artifactType application/vnd.slipway.release.v1+json, subject the image):\n" \
	"the image first, then the release. Secret values are not pushed (the release\n" \
	"holds only their digests). Prints the release ID, which is the manifest digest.\n" \
	"\n" \
	"      --insecure        plain HTTP (a registry on localhost)\n" \
	"  -q, --quiet           print only the release ID, no progress\n" \
	STATE_DIR_FLAG \
	"\n" REGISTRY_NOTE

#define PULL_USAGE \
	"usage: slipway release pull [--insecure] [-q] [--state-dir DIR] SRC\n" \
	"\n" \
	"Pulls a release pushed by `slipway release push` from SRC\n" \
	"([REGISTRY/]NAME[:TAG|@DIGEST]) with its image, every blob verified, and adds\n" \
	"it to the app's history (reason import, the app's next version) with the same\n" \
	"ID. Secret values are not in a registry: set them again after a pull.\n" \
	"\n" \
	"      --insecure        plain HTTP (a registry on localhost)\n" \
	"  -q, --quiet           print only the release ID, no progress\n" \
	STATE_DIR_FLAG \
	"\n" REGISTRY_NOTE

const char cli_release_usage[] = RELEASE_USAGE;
const char cli_releases_usage[] = RELEASES_USAGE;

static int cmd_release_show(int argc, char **argv, const struct cli_command *self);
static int cmd_release_diff(int argc, char **argv, const struct cli_command *self);
static int cmd_release_export(int argc, char **argv, const struct cli_command *self);
static int cmd_release_import(int argc, char **argv, const struct cli_command *self);
static int cmd_release_rollback(int argc, char **argv, const struct cli_command *self);
static int cmd_release_push(int argc, char **argv, const struct cli_command *self);
static int cmd_release_pull(int argc, char **argv, const struct cli_command *self);

const struct cli_command cli_release_commands[] = {
	{ "show", cmd_release_show, CLI_NEEDS_STORE, "show a release", SHOW_USAGE },
	{ "diff", cmd_release_diff, CLI_NEEDS_STORE, "compare two releases", DIFF_USAGE },
	{ "export", cmd_release_export, CLI_NEEDS_STORE, "write a release as one tar", EXPORT_USAGE },
	{ "import", cmd_release_import, CLI_NEEDS_STORE, "import a release tar", IMPORT_USAGE },
	{ "rollback", cmd_release_rollback, CLI_NEEDS_STORE, "release an earlier release again", ROLLBACK_USAGE },
	{ "push", cmd_release_push, CLI_NEEDS_STORE, "push a release to a registry", PUSH_USAGE },
	{ "pull", cmd_release_pull, CLI_NEEDS_STORE, "pull a release from a registry", PULL_USAGE },
	{ NULL, NULL, 0, NULL, NULL },
};

enum { OPT_STATE_DIR = 0x100, OPT_IMAGE, OPT_ENV_FILE, OPT_PROCFILE, OPT_NOTE, OPT_INSECURE };

#define COMMON_OPTS \
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR }, \
	{ "help", no_argument, NULL, 'h' }

static void releases_freep(sw_releases **r)
{
	sw_releases_free(*r);
}
#define cleanup_releases __attribute__((cleanup(releases_freep)))

int cli_open_releases(struct sw_releases **out, const char *state_dir, sw_error **err)
{
	cleanup_free char *dir = NULL;
	int r;

	if ((r = sw_statedir_open(&dir, state_dir, err)) < 0)
		return r;
	return sw_releases_open(out, dir, err);
}

void cli_print_release(const sw_release_info *info, bool quiet)
{
	if (quiet)
		printf("%s\n", info->id);
	else
		printf("%s v%lld %s\n", info->app, (long long)info->version, info->id);
}

static void print_json(const json_t *j)
{
	cleanup_free char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	printf("%s\n", text);
}

/* ---- release APP --image REF -------------------------------------------- */

int cmd_release(int argc, char **argv, const struct cli_command *self)
{
	static const struct option opts[] = {
		{ "image", required_argument, NULL, OPT_IMAGE },
		{ "env-file", required_argument, NULL, OPT_ENV_FILE },
		{ "procfile", required_argument, NULL, OPT_PROCFILE },
		{ "manifest", required_argument, NULL, 'f' },
		{ "note", required_argument, NULL, OPT_NOTE },
		{ "quiet", no_argument, NULL, 'q' },
		COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	cleanup_releases sw_releases *r = NULL;
	cleanup_json json_t *env = NULL, *procs = NULL;
	cleanup_free const char **manifests = NULL;
	const char *state_dir = NULL, *image = NULL, *env_file = NULL, *procfile = NULL, *note = NULL;
	sw_release_info info = { 0 };
	sw_error *err = NULL;
	size_t nmanifests = 0;
	bool quiet = false;
	int c;

	if (argc >= 2 && argv[1][0] != '-') {
		for (const struct cli_command *s = cli_release_commands; s->name; s++)
			if (!strcmp(s->name, argv[1]))
				return cli_dispatch_sub(self, cli_release_commands, argc, argv);
	}
	manifests = sw_xcalloc((size_t)argc + 1, sizeof(char *));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f:qh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_IMAGE:
			image = optarg;
			break;
		case OPT_ENV_FILE:
			env_file = optarg;
			break;
		case OPT_PROCFILE:
			procfile = optarg;
			break;
		case 'f':
			manifests[nmanifests++] = optarg;
			break;
		case OPT_NOTE:
			note = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case OPT_STATE_DIR:
			state_dir = optarg;
			break;
		case 'h':
			return cli_help(self);
		default:
			return cli_usage_error(self, "release: unknown or incomplete flag '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error(self, "release: missing APP");
	if (optind + 1 != argc)
		return cli_usage_error(self, "release: unexpected argument '%s'", argv[optind + 1]);
	if (!image)
		return cli_usage_error(self, "release: --image is required");
	if (sw_app_name_check(argv[optind], &err) < 0)
		return cli_fail(err);
	if ((env_file && sw_env_parse_file(&env, env_file, &err) < 0) ||
	    (procfile && sw_procfile_parse_file(&procs, procfile, &err) < 0))
		return cli_fail(err);
	sw_release_spec spec = {
		.app = argv[optind],
		.image = image,
		.env = env,
		.processes = procs,
		.manifests = manifests,
		.nmanifests = nmanifests,
		.note = note,
	};
	if (cli_open_releases(&r, state_dir, &err) < 0 || sw_release_create(r, &spec, &info, &err) < 0)
		return cli_fail(err);
	cli_print_release(&info, quiet);
	sw_release_info_release(&info);
	return EXIT_OK;
}

/* ---- releases APP ------------------------------------------------------- */

int cmd_releases(int argc, char **argv, const struct cli_command *self)
{
	static const struct option opts[] = {
		{ "limit", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	cleanup_releases sw_releases *r = NULL;
	const char *state_dir = NULL, *output = "table";
	sw_release_info *v = NULL;
	sw_error *err = NULL;
	size_t n = 0, limit = 0;
	char *end;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "n:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': {
			long long l = strtoll(optarg, &end, 10);
			if (!*optarg || *end || l <= 0)
				return cli_usage_error(self, "releases: --limit must be a positive number, not '%s'", optarg);
			limit = (size_t)l;
			break;
		}
		case 'o':
			output = optarg;
			break;
		case OPT_STATE_DIR:
			state_dir = optarg;
			break;
		case 'h':
			return cli_help(self);
		default:
			return cli_usage_error(self, "releases: unknown or incomplete flag '%s'", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(self, "releases: expected one APP");
	if (strcmp(output, "table") && strcmp(output, "json"))
		return cli_usage_error(self, "releases: --output must be table or json, not '%s'", output);
	if (cli_open_releases(&r, state_dir, &err) < 0 || sw_release_list(r, argv[optind], limit, &v, &n, &err) < 0)
		return cli_fail(err);
	if (!strcmp(output, "json")) {
		cleanup_json json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, sw_release_info_json(&v[i]));
		print_json(arr);
	} else {
		printf("%-7s %-14s %-8s %-14s %-20s %-22s %s\n", "VERSION", "ID", "REASON", "IMAGE", "AUTHOR", "CREATED",
		       "NOTE");
		for (size_t i = 0; i < n; i++) {
			char ver[24];
			snprintf(ver, sizeof(ver), "v%lld", (long long)v[i].version);
			printf("%-7s %-14.12s %-8s %-14.12s %-20s %-22s %s\n", ver, v[i].id + 7, v[i].reason,
			       v[i].image + 7, v[i].author, v[i].created, v[i].note ? v[i].note : "");
		}
	}
	sw_release_infos_free(v, n);
	return EXIT_OK;
}

/* ---- show --------------------------------------------------------------- */

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void print_object_lines(const char *title, const json_t *o, const char *sep)
{
	cleanup_json json_t *sorted = json_deep_copy(o);
	const char *key;
	json_t *v;

	printf("%s\n", title);
	if (!json_object_size(o)) {
		printf("    (none)\n");
		return;
	}
	/* jansson keeps insertion order; print sorted */
	size_t n = json_object_size(o), i = 0;
	const char **keys = sw_xcalloc(n, sizeof(char *));
	json_object_foreach(sorted, key, v)
		keys[i++] = key;
	qsort(keys, n, sizeof(char *), cmp_strp);
	for (i = 0; i < n; i++)
		printf("    %s%s%s\n", keys[i], sep, json_string_value(json_object_get(sorted, keys[i])));
	free(keys);
}

static int cmd_release_show(int argc, char **argv, const struct cli_command *self)
{
	cleanup_releases sw_releases *r = NULL;
	cleanup_json json_t *doc = NULL, *config = NULL;
	struct cli_common co;
	sw_release_info info = { 0 };
	sw_error *err = NULL;
	json_t *m;
	size_t i;
	int rc;

	if (cli_parse_common(self, "release show", CLI_COMMON_OUTPUT, argc, argv, &co, &rc) < 0)
		return rc;
	if (optind + 2 != argc)
		return cli_usage_error(self, "release show: expected APP and a release (ID or vN)");
	if (cli_open_releases(&r, co.state_dir, &err) < 0 || sw_release_lookup(r, argv[optind], argv[optind + 1], &info, &err) < 0)
		return cli_fail(err);
	if (sw_release_document(r, info.id, &doc, &err) < 0) {
		sw_release_info_release(&info);
		return cli_fail(err);
	}
	if (!strcmp(co.output, "json")) {
		cleanup_json json_t *j = sw_release_info_json(&info);
		json_object_set(j, "release", doc);
		print_json(j);
		sw_release_info_release(&info);
		return EXIT_OK;
	}
	printf("release    v%lld %s\n", (long long)info.version, info.id);
	printf("app        %s\n", info.app);
	printf("image      %s\n", info.image);
	printf("reason     %s\n", info.reason);
	printf("author     %s\n", info.author);
	printf("created    %s\n", info.created);
	if (info.parent)
		printf("parent     %s\n", info.parent);
	if (info.note)
		printf("note       %s\n", info.note);
	json_t *git = json_object_get(json_object_get(doc, "build"), "git");
	const char *key;
	json_t *v;
	json_object_foreach(git, key, v)
		printf("git %-6s %s\n", key, json_string_value(v) ? json_string_value(v) : "");
	config = sw_release_config_masked(doc);
	print_object_lines("config", config, "=");
	print_object_lines("processes", json_object_get(doc, "processes"), ": ");
	printf("manifests\n");
	if (!json_array_size(json_object_get(doc, "manifests")))
		printf("    (none)\n");
	json_array_foreach(json_object_get(doc, "manifests"), i, m)
		printf("    %s %s\n", json_string_value(json_object_get(m, "name")),
		       json_string_value(json_object_get(m, "digest")));
	sw_release_info_release(&info);
	return EXIT_OK;
}

/* ---- diff --------------------------------------------------------------- */

static const char *shown(const json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : "(unset)";
}

static void print_changes(const char *title, const json_t *list, const char *field)
{
	json_t *e;
	size_t i;

	printf("%s\n", title);
	if (!json_array_size(list))
		printf("    (no changes)\n");
	json_array_foreach(list, i, e) {
		json_t *o = json_object_get(e, "old"), *n = json_object_get(e, "new");
		char mark = json_is_null(o) ? '+' : json_is_null(n) ? '-' : '~';
		if (mark == '+')
			printf("  + %s: %s\n", json_string_value(json_object_get(e, field)), shown(n));
		else if (mark == '-')
			printf("  - %s: %s\n", json_string_value(json_object_get(e, field)), shown(o));
		else
			printf("  ~ %s: %s -> %s\n", json_string_value(json_object_get(e, field)), shown(o), shown(n));
	}
}

static int cmd_release_diff(int argc, char **argv, const struct cli_command *self)
{
	cleanup_releases sw_releases *r = NULL;
	cleanup_json json_t *da = NULL, *db = NULL, *d = NULL;
	json_t *img;
	struct cli_common co;
	sw_release_info a = { 0 }, b = { 0 };
	sw_error *err = NULL;
	int rc = EXIT_OK;

	if (cli_parse_common(self, "release diff", CLI_COMMON_OUTPUT, argc, argv, &co, &rc) < 0)
		return rc;
	if (optind + 3 != argc)
		return cli_usage_error(self, "release diff: expected APP and two releases");
	if (cli_open_releases(&r, co.state_dir, &err) < 0 ||
	    sw_release_lookup(r, argv[optind], argv[optind + 1], &a, &err) < 0 ||
	    sw_release_lookup(r, argv[optind], argv[optind + 2], &b, &err) < 0 ||
	    sw_release_document(r, a.id, &da, &err) < 0 || sw_release_document(r, b.id, &db, &err) < 0) {
		rc = cli_fail(err);
		goto out;
	}
	d = sw_release_diff(da, db);
	if (!strcmp(co.output, "json")) {
		json_object_set_new(d, "from", json_string(a.id));
		json_object_set_new(d, "to", json_string(b.id));
		print_json(d);
		goto out;
	}
	printf("from v%lld %s\nto   v%lld %s\n", (long long)a.version, a.id, (long long)b.version, b.id);
	img = json_object_get(d, "image");
	if (json_is_true(json_object_get(img, "changed")))
		printf("image\n  ~ %s -> %s\n", shown(json_object_get(img, "old")), shown(json_object_get(img, "new")));
	else
		printf("image\n    (no changes)\n");
	print_changes("config", json_object_get(d, "config"), "key");
	print_changes("processes", json_object_get(d, "processes"), "name");
	print_changes("manifests", json_object_get(d, "manifests"), "name");
out:
	sw_release_info_release(&a);
	sw_release_info_release(&b);
	return rc;
}

/* ---- export / import ---------------------------------------------------- */

static int cmd_release_export(int argc, char **argv, const struct cli_command *self)
{
	cleanup_releases sw_releases *r = NULL;
	struct cli_common co;
	sw_release_info info = { 0 };
	sw_error *err = NULL;
	int rc;

	if (cli_parse_common(self, "release export", 0, argc, argv, &co, &rc) < 0)
		return rc;
	if (optind + 3 != argc)
		return cli_usage_error(self, "release export: expected APP, a release (ID or vN) and FILE");
	if (cli_open_releases(&r, co.state_dir, &err) < 0 ||
	    sw_release_lookup(r, argv[optind], argv[optind + 1], &info, &err) < 0 ||
	    sw_release_export(r, argv[optind], info.id, argv[optind + 2], &err) < 0) {
		sw_release_info_release(&info);
		return cli_fail(err);
	}
	printf("%s\n", info.id);
	sw_release_info_release(&info);
	return EXIT_OK;
}

static int cmd_release_import(int argc, char **argv, const struct cli_command *self)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	cleanup_releases sw_releases *r = NULL;
	const char *state_dir = NULL;
	sw_release_info info = { 0 };
	sw_error *err = NULL;
	bool quiet = false;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quiet = true;
			break;
		case OPT_STATE_DIR:
			state_dir = optarg;
			break;
		case 'h':
			return cli_help(self);
		default:
			return cli_usage_error(self, "release import: unknown or incomplete flag '%s'", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(self, "release import: expected one FILE");
	if (cli_open_releases(&r, state_dir, &err) < 0 || sw_release_import(r, argv[optind], &info, &err) < 0)
		return cli_fail(err);
	cli_print_release(&info, quiet);
	sw_release_info_release(&info);
	return EXIT_OK;
}

static int cmd_release_rollback(int argc, char **argv, const struct cli_command *self)
{
	static const struct option opts[] = {
		{ "note", required_argument, NULL, OPT_NOTE },
		{ "quiet", no_argument, NULL, 'q' },
		COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	cleanup_releases sw_releases *r = NULL;
	const char *state_dir = NULL, *note = NULL;
	sw_release_info info = { 0 };
	sw_error *err = NULL;
	bool quiet = false;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_NOTE:
			note = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case OPT_STATE_DIR:
			state_dir = optarg;
			break;
		case 'h':
			return cli_help(self);
		default:
			return cli_usage_error(self, "release rollback: unknown or incomplete flag '%s'", argv[optind - 1]);
		}
	}
	if (optind + 2 != argc)
		return cli_usage_error(self, "release rollback: expected APP and a release (ID or vN)");
	if (cli_open_releases(&r, state_dir, &err) < 0 ||
	    sw_release_rollback(r, argv[optind], argv[optind + 1], note, &info, &err) < 0)
		return cli_fail(err);
	cli_print_release(&info, quiet);
	sw_release_info_release(&info);
	return EXIT_OK;
}

/* ---- push / pull -------------------------------------------------------- */

/* Flags of release push and pull: 1 when done (help: *rc set), 0 to go on. */
static int parse_registry_flags(int argc, char **argv, const struct cli_command *self, const char *what,
                                sw_registry_opts *o, const char **state_dir, int *rc)
{
	static const struct option opts[] = {
		{ "insecure", no_argument, NULL, OPT_INSECURE },
		{ "quiet", no_argument, NULL, 'q' },
		COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_INSECURE:
			o->insecure = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case OPT_STATE_DIR:
			*state_dir = optarg;
			break;
		case 'h':
			*rc = cli_help(self);
			return 1;
		default:
			*rc = cli_usage_error(self, "release %s: unknown or incomplete flag '%s'", what, argv[optind - 1]);
			return 1;
		}
	}
	return 0;
}

static int cmd_release_push(int argc, char **argv, const struct cli_command *self)
{
	cleanup_releases sw_releases *r = NULL;
	const char *state_dir = NULL;
	sw_registry_opts o = { 0 };
	sw_release_info info = { 0 };
	sw_push_result res;
	sw_error *err = NULL;
	int rc = EXIT_OK;

	if (parse_registry_flags(argc, argv, self, "push", &o, &state_dir, &rc))
		return rc;
	if (optind + 3 != argc)
		return cli_usage_error(self, "release push: expected APP, a release (ID or vN) and DEST");
	if (cli_open_releases(&r, state_dir, &err) < 0 ||
	    sw_release_push(r, argv[optind], argv[optind + 1], argv[optind + 2], &o, &info, &res, &err) < 0)
		return cli_fail(err);
	if (!o.quiet)
		fprintf(stderr, "pushed %s v%lld to %s: %d blobs uploaded, %d already there, %d mounted\n", info.app,
		        (long long)info.version, argv[optind + 2], res.blobs_pushed, res.blobs_skipped,
		        res.blobs_mounted);
	printf("%s\n", info.id);
	sw_release_info_release(&info);
	return EXIT_OK;
}

static int cmd_release_pull(int argc, char **argv, const struct cli_command *self)
{
	cleanup_releases sw_releases *r = NULL;
	const char *state_dir = NULL;
	sw_registry_opts o = { 0 };
	sw_release_info info = { 0 };
	sw_error *err = NULL;
	int rc = EXIT_OK;

	if (parse_registry_flags(argc, argv, self, "pull", &o, &state_dir, &rc))
		return rc;
	if (optind + 1 != argc)
		return cli_usage_error(self, "release pull: expected one SRC");
	if (cli_open_releases(&r, state_dir, &err) < 0 || sw_release_pull(r, argv[optind], &o, &info, &err) < 0)
		return cli_fail(err);
	cli_print_release(&info, o.quiet);
	sw_release_info_release(&info);
	return EXIT_OK;
}
