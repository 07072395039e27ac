/*
 * cmd_build.c - `slipway build`: flags, progress rendering (a live line per
 * step on a TTY, plain lines for CI logs, JSON events), outputs. The build
 * itself is sw_build (build/builder.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "slipway/builder.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/statedir.h"

const char cli_build_usage[] =
	"usage: slipway build [flags] CONTEXT\n"
	"       slipway build [flags] git:PATH_OR_URL[#REF[:SUBDIR]]\n"
	"\n"
	"Builds an OCI image from a Dockerfile and the CONTEXT folder into the image\n"
	"store, without a daemon. Each RUN, COPY and ADD is one layer; steps whose\n"
	"inputs did not change come from the build cache. The same Dockerfile,\n"
	"context and base image give the same image digest anywhere (times from\n"
	"SOURCE_DATE_EPOCH, default 0). Needs root (overlayfs, runc).\n"
	"\n"
	"git: builds a commit straight from a repository's objects, no checkout:\n"
	"PATH_OR_URL is a local repository (bare or not), a file:// URL, or any URL\n"
	"libgit2 can clone; REF a branch, tag or commit SHA (default HEAD); SUBDIR\n"
	"makes a folder of the commit the context. -f is relative to that context.\n"
	"Submodules are skipped. The same commit gives the same image digest.\n"
	"The manifest gets annotations org.opencontainers.image.revision (the SHA)\n"
	"and .source (the repository, without credentials), dev.slipway.git.author\n"
	"and dev.slipway.git.message (first line); a CONTEXT folder inside a git\n"
	"work tree gets the same for HEAD, plus dev.slipway.git.dirty=true when the\n"
	"folder has uncommitted changes. A folder outside git gets none.\n"
	"\n"
	"  -f, --file FILE            the Dockerfile (default CONTEXT/Dockerfile)\n"
	"  -t, --tag NAME[:TAG]       tag the image (repeatable; all tags or none on failure)\n"
	"      --build-arg K[=V]      set a build arg (K alone: from the environment)\n"
	"      --target STAGE         build this stage (default the last)\n"
	"      --no-cache             run every step; the cache is still refreshed\n"
	"      --secret id=ID,src=FILE\n"
	"                             a secret for RUN --mount=type=secret (never stored)\n"
	"      --label K=V            add a label to the image (repeatable)\n"
	"      --network default|none the network of every RUN (default: the host's)\n"
	"      --output DEST          also write the image to oci:DIR, oci-archive:FILE\n"
	"                             or docker-archive:FILE\n"
	"      --progress MODE        auto (default), plain, json\n"
	"      --compression C        layer compression: gzip (default) or zstd\n"
	"      --timeout DURATION     stop a RUN after DURATION (e.g. 90s, 10m)\n"
	"  -q, --quiet                print only the image's manifest digest\n"
	"      --state-dir DIR        the state dir (default $SLIPWAY_HOME, /var/lib/slipway\n"
	"                             as root, ~/.local/share/slipway otherwise)\n";

enum { OPT_BUILD_ARG = 0x100, OPT_TARGET, OPT_NO_CACHE, OPT_SECRET, OPT_LABEL, OPT_NETWORK, OPT_OUTPUT,
       OPT_PROGRESS, OPT_COMPRESSION, OPT_TIMEOUT, OPT_STATE_DIR };

enum progress { PROGRESS_TTY, PROGRESS_PLAIN, PROGRESS_JSON, PROGRESS_QUIET };

struct render {
	enum progress mode;
	bool color;
	int out_number;   /* plain: #N of the last output line's step */
	bool at_bol;
};

static void plain_event(struct render *r, const sw_build_event *ev)
{
	switch (ev->kind) {
	case SW_BUILD_EV_START:
		fprintf(stderr, "#%d [%s %zu/%zu] %s\n", ev->number, ev->stage, ev->step, ev->nsteps, ev->text);
		r->at_bol = true;
		break;
	case SW_BUILD_EV_OUTPUT:
		for (size_t i = 0; i < ev->len; i++) {
			if (r->at_bol)
				fprintf(stderr, "#%d ", ev->number);
			fputc(ev->data[i], stderr);
			r->at_bol = ev->data[i] == '\n';
		}
		break;
	case SW_BUILD_EV_CACHED:
		if (!r->at_bol)
			fputc('\n', stderr);
		fprintf(stderr, "#%d CACHED\n", ev->number);
		r->at_bol = true;
		break;
	case SW_BUILD_EV_DONE:
		if (!r->at_bol)
			fputc('\n', stderr);
		fprintf(stderr, "#%d DONE %.1fs\n", ev->number, ev->seconds);
		r->at_bol = true;
		break;
	case SW_BUILD_EV_ERROR:
		if (!r->at_bol)
			fputc('\n', stderr);
		fprintf(stderr, "#%d ERROR %.1fs\n", ev->number, ev->seconds);
		r->at_bol = true;
		break;
	case SW_BUILD_EV_WARNING:
		if (!r->at_bol)
			fputc('\n', stderr);
		fprintf(stderr, "warning: %.*s\n", (int)ev->len, ev->data);
		r->at_bol = true;
		break;
	}
}

static void tty_event(struct render *r, const sw_build_event *ev)
{
	const char *dim = r->color ? "\033[2m" : "", *off = r->color ? "\033[0m" : "";
	const char *blue = r->color ? "\033[34m" : "", *red = r->color ? "\033[31m" : "";

	switch (ev->kind) {
	case SW_BUILD_EV_START:
		fprintf(stderr, "\r\033[K%s=> [%s %zu/%zu] %.100s ...%s", dim, ev->stage, ev->step, ev->nsteps,
		        ev->text, off);
		break;
	case SW_BUILD_EV_OUTPUT:
		break; /* shown only when the step fails */
	case SW_BUILD_EV_CACHED:
		fprintf(stderr, "\r\033[K%s=> CACHED [%s %zu/%zu] %.100s%s\n", blue, ev->stage, ev->step, ev->nsteps,
		        ev->text, off);
		break;
	case SW_BUILD_EV_DONE:
		fprintf(stderr, "\r\033[K=> [%s %zu/%zu] %.100s %s%.1fs%s\n", ev->stage, ev->step, ev->nsteps, ev->text,
		        dim, ev->seconds, off);
		break;
	case SW_BUILD_EV_ERROR:
		fprintf(stderr, "\r\033[K%s=> ERROR [%s %zu/%zu] %.100s %.1fs%s\n", red, ev->stage, ev->step, ev->nsteps,
		        ev->text, ev->seconds, off);
		break;
	case SW_BUILD_EV_WARNING:
		fprintf(stderr, "\r\033[Kwarning: %.*s\n", (int)ev->len, ev->data);
		break;
	}
	fflush(stderr);
}

static void json_event(const sw_build_event *ev)
{
	static const char *names[] = { "start", "cached", "done", "output", "error", "warning" };
	json_t *j = json_pack("{s:s, s:i, s:s, s:I, s:I, s:s, s:i}", "event", names[ev->kind], "number", ev->number,
	                      "stage", ev->stage, "step", (json_int_t)ev->step, "steps", (json_int_t)ev->nsteps,
	                      "text", ev->text, "line", ev->line);

	if (ev->kind == SW_BUILD_EV_DONE || ev->kind == SW_BUILD_EV_ERROR || ev->kind == SW_BUILD_EV_CACHED)
		json_object_set_new(j, "seconds", json_real(ev->seconds));
	if (ev->data && ev->len)
		json_object_set_new(j, "data", json_stringn(ev->data, ev->len));
	char *s = json_dumps(j, JSON_COMPACT);
	if (s)
		fprintf(stderr, "%s\n", s);
	free(s);
	json_decref(j);
}

static void on_event(const sw_build_event *ev, void *payload)
{
	struct render *r = payload;

	switch (r->mode) {
	case PROGRESS_PLAIN:
		plain_event(r, ev);
		break;
	case PROGRESS_TTY:
		tty_event(r, ev);
		break;
	case PROGRESS_JSON:
		json_event(ev);
		break;
	case PROGRESS_QUIET:
		break;
	}
	if (ev->kind == SW_BUILD_EV_WARNING && r->mode == PROGRESS_QUIET)
		fprintf(stderr, "warning: %.*s\n", (int)ev->len, ev->data);
	if (ev->kind == SW_BUILD_EV_ERROR && r->mode != PROGRESS_JSON && ev->len) {
		/* the last lines of the failed command, whatever the mode */
		fprintf(stderr, "------ last output of step %d ------\n%.*s------\n", ev->number, (int)ev->len, ev->data);
	}
}

static int parse_duration_ms(const char *s, int *out)
{
	char *end;
	double v = strtod(s, &end);
	double mult = 1000;

	if (end == s || v < 0)
		return -1;
	if (!strcmp(end, "ms"))
		mult = 1;
	else if (!strcmp(end, "s") || !*end)
		mult = 1000;
	else if (!strcmp(end, "m"))
		mult = 60000;
	else if (!strcmp(end, "h"))
		mult = 3600000;
	else
		return -1;
	if (v * mult > 2147483647.0)
		return -1;
	*out = (int)(v * mult);
	return 0;
}

static int split_kv(sw_df_kv *kv, const char *s, bool env_fallback)
{
	const char *eq = strchr(s, '=');

	if (eq == s)
		return -1;
	if (!eq) {
		const char *v = env_fallback ? getenv(s) : NULL;
		if (!v)
			return env_fallback ? 1 : -1;
		kv->key = sw_xstrdup(s);
		kv->value = sw_xstrdup(v);
		return 0;
	}
	kv->key = sw_xstrndup(s, (size_t)(eq - s));
	kv->value = sw_xstrdup(eq + 1);
	return 0;
}

static int parse_secret(sw_build_secret *sec, char **id, char **src, const char *s)
{
	cleanup_free char *copy = sw_xstrdup(s);
	char *save = NULL;

	*id = *src = NULL;
	for (char *f = strtok_r(copy, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
		if (!strncmp(f, "id=", 3)) {
			free(*id);
			*id = sw_xstrdup(f + 3);
		} else if (!strncmp(f, "src=", 4) || !strncmp(f, "source=", 7)) {
			free(*src);
			*src = sw_xstrdup(strchr(f, '=') + 1);
		} else if (strncmp(f, "type=file", 9)) {
			return -1;
		}
	}
	if (!*id || !**id || !*src || !**src)
		return -1;
	sec->id = *id;
	sec->src = *src;
	return 0;
}

static void kvs_free(sw_df_kv *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].value);
	}
	free(v);
}

int cmd_build(int argc, char **argv, const struct cli_command *self)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "tag", required_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "build-arg", required_argument, NULL, OPT_BUILD_ARG },
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "no-cache", no_argument, NULL, OPT_NO_CACHE },
		{ "secret", required_argument, NULL, OPT_SECRET },
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "network", required_argument, NULL, OPT_NETWORK },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "progress", required_argument, NULL, OPT_PROGRESS },
		{ "compression", required_argument, NULL, OPT_COMPRESSION },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	sw_build_opts o = { .compression = SW_COMPRESS_GZIP };
	struct render rd = { .mode = PROGRESS_TTY, .at_bol = true };
	const char *state_flag = NULL, *output = NULL, *progress = "auto";
	const char **tags = NULL;
	size_t ntags = 0;
	sw_df_kv *args = NULL, *labels = NULL;
	size_t nargs = 0, nlabels = 0;
	sw_build_secret *secrets = NULL;
	char **secret_strs = NULL;
	size_t nsecrets = 0;
	bool quiet = false;
	int c, rc = EXIT_OK;
	sw_error *err = NULL;
	/* declared before the first `goto out`: cleanup must never see them
	 * uninitialised */
	cleanup_free char *state = NULL;
	sw_image_store *store = NULL;
	sw_build_result res;

	while ((c = getopt_long(argc, argv, "+f:t:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o.dockerfile = optarg;
			break;
		case 't':
			tags = sw_xreallocarray(tags, ntags + 1, sizeof(char *));
			tags[ntags++] = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case OPT_BUILD_ARG: {
			sw_df_kv kv = { 0 };
			int k = split_kv(&kv, optarg, true);
			if (k < 0) {
				rc = cli_usage_error(self, "--build-arg: expected K=V, got '%s'", optarg);
				goto out;
			}
			if (k == 0) {
				args = sw_xreallocarray(args, nargs + 1, sizeof(*args));
				args[nargs++] = kv;
			}
			break;
		}
		case OPT_LABEL: {
			sw_df_kv kv = { 0 };
			if (split_kv(&kv, optarg, false) < 0) {
				rc = cli_usage_error(self, "--label: expected K=V, got '%s'", optarg);
				goto out;
			}
			labels = sw_xreallocarray(labels, nlabels + 1, sizeof(*labels));
			labels[nlabels++] = kv;
			break;
		}
		case OPT_TARGET:
			o.target = optarg;
			break;
		case OPT_NO_CACHE:
			o.no_cache = true;
			break;
		case OPT_SECRET: {
			char *id, *src;
			secrets = sw_xreallocarray(secrets, nsecrets + 1, sizeof(*secrets));
			secret_strs = sw_xreallocarray(secret_strs, 2 * nsecrets + 3, sizeof(char *));
			int k = parse_secret(&secrets[nsecrets], &id, &src, optarg);
			secret_strs[2 * nsecrets] = id;
			secret_strs[2 * nsecrets + 1] = src;
			secret_strs[2 * nsecrets + 2] = NULL;
			nsecrets++;
			if (k < 0) {
				rc = cli_usage_error(self, "--secret: expected id=ID,src=FILE, got '%s'", optarg);
				goto out;
			}
			break;
		}
		case OPT_NETWORK:
			if (strcmp(optarg, "default") && strcmp(optarg, "none") && strcmp(optarg, "host")) {
				rc = cli_usage_error(self, "--network: expected default or none, got '%s'", optarg);
				goto out;
			}
			o.network_none = !strcmp(optarg, "none");
			break;
		case OPT_OUTPUT:
			if (strncmp(optarg, "oci:", 4) && strncmp(optarg, "oci-archive:", 12) &&
			    strncmp(optarg, "docker-archive:", 15)) {
				rc = cli_usage_error(self, "--output: expected oci:DIR, oci-archive:FILE or docker-archive:FILE");
				goto out;
			}
			output = optarg;
			break;
		case OPT_PROGRESS:
			if (strcmp(optarg, "auto") && strcmp(optarg, "plain") && strcmp(optarg, "json") &&
			    strcmp(optarg, "tty")) {
				rc = cli_usage_error(self, "--progress: expected auto, plain or json, got '%s'", optarg);
				goto out;
			}
			progress = optarg;
			break;
		case OPT_COMPRESSION:
			if (!strcmp(optarg, "gzip"))
				o.compression = SW_COMPRESS_GZIP;
			else if (!strcmp(optarg, "zstd"))
				o.compression = SW_COMPRESS_ZSTD;
			else {
				rc = cli_usage_error(self, "--compression: expected gzip or zstd, got '%s'", optarg);
				goto out;
			}
			break;
		case OPT_TIMEOUT:
			if (parse_duration_ms(optarg, &o.timeout_ms) < 0) {
				rc = cli_usage_error(self, "--timeout: expected a duration such as 90s or 10m, got '%s'", optarg);
				goto out;
			}
			break;
		case OPT_STATE_DIR:
			state_flag = optarg;
			break;
		case 'h':
			rc = cli_help(self);
			goto out;
		default:
			rc = cli_usage_error(self, "unknown flag '%s'", argv[optind - 1]);
			goto out;
		}
	}
	if (optind + 1 != argc) {
		rc = cli_usage_error(self, optind >= argc ? "missing CONTEXT" : "too many arguments");
		goto out;
	}
	o.context_dir = argv[optind];
	o.tags = tags;
	o.ntags = ntags;
	o.build_args = args;
	o.nbuild_args = nargs;
	o.labels = labels;
	o.nlabels = nlabels;
	o.secrets = secrets;
	o.nsecrets = nsecrets;

	if (quiet)
		rd.mode = PROGRESS_QUIET;
	else if (!strcmp(progress, "json"))
		rd.mode = PROGRESS_JSON;
	else if (!strcmp(progress, "plain") || (!strcmp(progress, "auto") && (!isatty(2) || getenv("CI"))))
		rd.mode = PROGRESS_PLAIN;
	rd.color = rd.mode == PROGRESS_TTY && !getenv("NO_COLOR");
	o.event = on_event;
	o.payload = &rd;

	if (sw_source_date_epoch(&o.epoch, &err) < 0 || sw_statedir_open(&state, state_flag, &err) < 0 ||
	    sw_image_store_open(&store, state, &err) < 0) {
		rc = cli_fail(err);
		goto out;
	}
	if (sw_build(store, state, &o, &res, &err) < 0) {
		sw_image_store_free(store);
		rc = cli_fail(err);
		goto out;
	}
	if (output) {
		cleanup_free char *first = NULL;
		int r = 0;
		if (ntags && sw_image_ref_normalize(&first, tags[0], &err) < 0)
			r = -1;
		else if (!strncmp(output, "oci:", 4))
			r = sw_build_output_oci(store, res.manifest.digest, output + 4, first, &err);
		else if (!strncmp(output, "oci-archive:", 12))
			r = sw_image_export(store, first ? first : res.manifest.digest, output + 12, SW_ARCHIVE_OCI, &err);
		else
			r = sw_image_export(store, first ? first : res.manifest.digest, output + 15, SW_ARCHIVE_DOCKER, &err);
		if (r < 0) {
			sw_image_store_free(store);
			sw_error_wrap(&err, "--output %s", output);
			rc = cli_fail(err);
			goto out;
		}
	}
	sw_image_store_free(store);
	if (quiet) {
		printf("%s\n", res.manifest.digest);
	} else if (rd.mode == PROGRESS_JSON) {
		json_t *j = json_pack("{s:s, s:s, s:I, s:I}", "event", "image", "digest", res.manifest.digest, "steps",
		                      (json_int_t)res.steps, "cached", (json_int_t)res.cached);
		char *s = json_dumps(j, JSON_COMPACT);
		fprintf(stderr, "%s\n", s ? s : "");
		free(s);
		json_decref(j);
		printf("%s\n", res.manifest.digest);
	} else {
		fprintf(stderr, "writing image %s done (%zu of %zu steps cached)\n", res.manifest.digest, res.cached,
		        res.steps);
		for (size_t i = 0; i < ntags; i++)
			fprintf(stderr, "naming to %s done\n", tags[i]);
		printf("%s\n", res.manifest.digest);
	}
out:
	free(tags);
	kvs_free(args, nargs);
	kvs_free(labels, nlabels);
	free(secrets);
	for (size_t i = 0; i < 2 * nsecrets; i++)
		free(secret_strs[i]);
	free(secret_strs);
	return rc;
}
