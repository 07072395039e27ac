/*
 * cmd_config.c - `slipway config APP` and `slipway config set|unset`: config
 * vars with Heroku semantics (each change is a new release from the
 * current one). Secret values are shown as **** and never echoed.
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

#define STATE_DIR_FLAG "      --state-dir DIR   the state dir (default $SLIPWAY_HOME, /var/lib/slipway as root,\n" \
	                   "                        ~/.local/share/slipway otherwise)\n"

#define CONFIG_USAGE \
	"usage: slipway config APP [-o text|json] [--state-dir DIR]\n" \
	"       slipway config SUB APP [flags]\n" \
	"\n" \
	"Shows APP's config vars (from its current release; secrets as ****), or\n" \
	"changes them: every change makes a new release from the current one.\n" \
	"\n" \
	"  set     APP K=V... [--secret] [--env-file F]   set config vars\n" \
	"  unset   APP K...                                remove config vars\n" \
	"\n" \
	"  -o, --output FORMAT   text (default, KEY=VALUE lines) or json\n" \
	STATE_DIR_FLAG

#define SET_USAGE \
	"usage: slipway config set [--secret] [--env-file FILE] [--note TEXT] [-q] [--state-dir DIR] APP K=V...\n" \
	"\n" \
	"Sets config vars and makes a new release (reason config). With --secret the\n" \
	"values are kept outside the release (which holds their sha256 only) and are\n" \
	"never printed. Keys are letters, digits and '_', not starting with a digit.\n" \
	"\n" \
	"      --secret          store the values as secrets\n" \
	"      --env-file FILE   more vars from a KEY=VALUE file (before the K=V arguments)\n" \
	"      --note TEXT       a note kept with the release\n" \
	"  -q, --quiet           print only the new release ID\n" \
	STATE_DIR_FLAG

#define UNSET_USAGE \
	"usage: slipway config unset [--note TEXT] [-q] [--state-dir DIR] APP K...\n" \
	"\n" \
	"Removes config vars and makes a new release (reason config).\n" \
	"\n" \
	"      --note TEXT       a note kept with the release\n" \
	"  -q, --quiet           print only the new release ID\n" \
	STATE_DIR_FLAG

const char cli_config_usage[] = CONFIG_USAGE;

static int cmd_config_set(int argc, char **argv, const struct cli_command *self);
static int cmd_config_unset(int argc, char **argv, const struct cli_command *self);

const struct cli_command cli_config_commands[] = {
	{ "set", cmd_config_set, CLI_NEEDS_STORE, "set config vars", SET_USAGE },
	{ "unset", cmd_config_unset, CLI_NEEDS_STORE, "remove config vars", UNSET_USAGE },
	{ NULL, NULL, 0, NULL, NULL },
};

enum { OPT_STATE_DIR = 0x100, OPT_SECRET, OPT_ENV_FILE, OPT_NOTE };

static void releases_freep(sw_releases **r)
{
	sw_releases_free(*r);
}
#define cleanup_releases __attribute__((cleanup(releases_freep)))

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int cmd_config(int argc, char **argv, const struct cli_command *self)
{
	cleanup_releases sw_releases *r = NULL;
	cleanup_json json_t *doc = NULL, *config = NULL;
	struct cli_common co;
	sw_release_info info = { 0 };
	sw_error *err = NULL;
	int rc;

	if (argc >= 2 && (!strcmp(argv[1], "set") || !strcmp(argv[1], "unset")))
		return cli_dispatch_sub(self, cli_config_commands, argc, argv);
	if (cli_parse_common(self, "config", CLI_COMMON_OUTPUT, argc, argv, &co, &rc) < 0)
		return rc;
	if (optind + 1 != argc)
		return cli_usage_error(self, "config: expected one APP");
	if (cli_open_releases(&r, co.state_dir, &err) < 0 || sw_release_current(r, argv[optind], &info, &err) < 0)
		return cli_fail(err);
	int ret = sw_release_document(r, info.id, &doc, &err);
	sw_release_info_release(&info);
	if (ret < 0)
		return cli_fail(err);
	config = sw_release_config_masked(doc);
	if (!strcmp(co.output, "json")) {
		cleanup_free char *text = json_dumps(config, JSON_INDENT(2) | JSON_SORT_KEYS);
		printf("%s\n", text);
		return EXIT_OK;
	}
	size_t n = json_object_size(config), i = 0;
	const char **keys = sw_xcalloc(n ? n : 1, sizeof(char *));
	const char *key;
	json_t *v;
	json_object_foreach(config, key, v)
		keys[i++] = key;
	qsort(keys, n, sizeof(char *), cmp_strp);
	for (i = 0; i < n; i++)
		printf("%s=%s\n", keys[i], json_string_value(json_object_get(config, keys[i])));
	free(keys);
	return EXIT_OK;
}

static int config_change(int argc, char **argv, const struct cli_command *self, bool set)
{
	static const struct option opts[] = {
		{ "secret", no_argument, NULL, OPT_SECRET },
		{ "env-file", required_argument, NULL, OPT_ENV_FILE },
		{ "note", required_argument, NULL, OPT_NOTE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cleanup_releases sw_releases *r = NULL;
	cleanup_json json_t *vars = NULL, *unset = json_array();
	const char *state_dir = NULL, *env_file = NULL, *note = NULL, *what = set ? "config set" : "config unset";
	sw_release_info info = { 0 };
	sw_error *err = NULL;
	bool secret = false, quiet = false;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		if (!set && (c == OPT_SECRET || c == OPT_ENV_FILE))
			c = '?';
		switch (c) {
		case OPT_SECRET:
			secret = true;
			break;
		case OPT_ENV_FILE:
			env_file = optarg;
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
			return cli_usage_error(self, "%s: unknown or incomplete flag '%s'", what, argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error(self, "%s: missing APP", what);
	const char *app = argv[optind++];
	if (sw_app_name_check(app, &err) < 0)
		return cli_fail(err);
	if (env_file) {
		if (sw_env_parse_file(&vars, env_file, &err) < 0)
			return cli_fail(err);
	} else {
		vars = json_object();
	}
	for (; optind < argc; optind++) {
		const char *arg = argv[optind], *eq = strchr(arg, '=');
		if (set) {
			if (!eq)
				return cli_usage_error(self, "config set: expected K=V, got '%s'", arg);
			cleanup_free char *key = sw_xstrndup(arg, (size_t)(eq - arg));
			if (sw_config_key_check(key, &err) < 0)
				return cli_fail(err);
			json_t *val = json_string(eq + 1);
			if (!val)
				return cli_usage_error(self, "config set: the value of %s is not valid UTF-8", key);
			json_object_set_new(vars, key, val);
		} else {
			if (sw_config_key_check(arg, &err) < 0)
				return cli_fail(err);
			json_array_append_new(unset, json_string(arg));
		}
	}
	if (set ? json_object_size(vars) == 0 : json_array_size(unset) == 0)
		return cli_usage_error(self, "%s: no config vars given", what);
	if (cli_open_releases(&r, state_dir, &err) < 0 ||
	    sw_release_config_change(r, app, set ? vars : NULL, secret, unset, note, &info, &err) < 0)
		return cli_fail(err);
	cli_print_release(&info, quiet);
	sw_release_info_release(&info);
	return EXIT_OK;
}

static int cmd_config_set(int argc, char **argv, const struct cli_command *self)
{
	return config_change(argc, argv, self, true);
}

static int cmd_config_unset(int argc, char **argv, const struct cli_command *self)
{
	return config_change(argc, argv, self, false);
}
