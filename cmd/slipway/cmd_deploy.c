/*
 * cmd_deploy.c - `slipway deploy APP [RELEASE]`: a release becomes objects
 * in slipwayd, applied as one revision (all or nothing, kube_apply.c),
 * then followed as `slipway rollout status` does.
 *
 * The objects: the release's deploy manifests when it has some (the
 * release's image put in for containers that name the app or none, and
 * its config vars in every Deployment's containers); else one Deployment
 * per process type (APP for web, APP-PROC for the others). Config vars
 * that are plain go in as env; secret ones go into the Secret APP-config,
 * referenced with envFrom, so their values are never in a Deployment. The
 * image is the release's pin, slipway-release/APP:vN-image, which prune
 * keeps while the release exists.
 */
#include <ctype.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kube.h"
#include "slipway/cleanup.h"
#include "slipway/image_store.h"
#include "slipway/json.h"
#include "slipway/manifest.h"
#include "slipway/mem.h"
#include "slipway/object.h"
#include "slipway/release.h"
#include "slipway/statedir.h"

const char cli_deploy_usage[] =
	"usage: slipway deploy APP [RELEASE] [-n NS] [--no-wait] [--timeout D] [--dry-run=client|server] [-o yaml|json]\n"
	"\n"
	"Applies a release of APP to slipwayd as a new revision: its deploy\n"
	"manifests with its image and config vars, or else one Deployment per\n"
	"process type (APP for web, APP-PROC for the others). Secret config vars\n"
	"go into the Secret APP-config. Then waits for the rollout as `slipway\n"
	"rollout status` does (exit 1 if it exceeds its progress deadline).\n"
	"RELEASE is vN or a release ID (prefix); default the latest.\n"
	"\n"
	"  -n, --namespace NS       the namespace (default \"default\")\n"
	"      --no-wait            do not wait for the rollout\n"
	"      --timeout D          give up waiting after D (90s, 5m; exit 1)\n"
	"      --dry-run MODE       client: print the objects; server: let slipwayd check them\n"
	"  -o, --output FORMAT      json, yaml or name instead of \"KIND/NAME created\"\n"
	"      --state-dir DIR      the state dir (releases, the daemon's socket)\n"
	"  -h, --help               this text\n";

static char *base64(const char *s, size_t len)
{
	char *out = sw_xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)len);
	return out;
}

/* A Procfile command as a container command: words as they are when the
 * line has nothing a shell must read, else sh -c. */
static json_t *command_of(const char *cmd)
{
	bool plain = true;
	for (const char *p = cmd; *p; p++)
		if (!(isalnum((unsigned char)*p) || strchr(" -_./=:,+@%", *p)))
			plain = false;
	if (!plain)
		return json_pack("[s,s,s]", "/bin/sh", "-c", cmd);
	json_t *a = json_array();
	cleanup_free char *copy = sw_xstrdup(cmd);
	for (char *save = NULL, *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
		json_array_append_new(a, json_string(w));
	return a;
}

struct config {
	json_t *env;     /* [{"name","value"}] plain vars, sorted */
	json_t *secret;  /* KEY -> base64, or empty */
};

static int read_config(sw_releases *r, const char *app, const json_t *doc, struct config *c, sw_error **err)
{
	const json_t *cfg = json_object_get(doc, "config");
	const char *key;
	json_t *v;
	size_t n = json_object_size(cfg), i = 0;
	const char **keys = sw_xcalloc(n + 1, sizeof(*keys));
	int ret = 0;

	c->env = json_array();
	c->secret = json_object();
	json_object_foreach((json_t *)cfg, key, v)
		keys[i++] = key;
	for (size_t a = 1; a < n; a++)
		for (size_t b = a; b > 0 && strcmp(keys[b - 1], keys[b]) > 0; b--) {
			const char *t = keys[b];
			keys[b] = keys[b - 1];
			keys[b - 1] = t;
		}
	for (i = 0; i < n && ret == 0; i++) {
		const json_t *e = json_object_get(cfg, keys[i]);
		const char *digest = json_string_value(json_object_get(e, "secret"));
		if (digest) {
			char *val = NULL;
			if ((ret = sw_release_secret_value(r, app, keys[i], digest, &val, err)) < 0)
				break;
			char *b = base64(val, strlen(val));
			json_object_set_new(c->secret, keys[i], json_string(b));
			explicit_bzero(val, strlen(val));
			free(val);
			free(b);
		} else {
			const json_t *val = json_object_get(e, "value");
			json_array_append_new(c->env, json_pack("{s:s, s:s}", "name", keys[i], "value",
			                                        json_is_string(val) ? json_string_value(val) : ""));
		}
	}
	free(keys);
	return ret;
}

/* Adds the release's config to a container: plain vars the container does
 * not set itself, and envFrom the Secret. */
static void add_config(json_t *container, const struct config *c, const char *secret_name)
{
	json_t *env = json_object_get(container, "env");
	json_t *merged = json_array();
	json_t *e;
	size_t i;

	json_array_foreach(c->env, i, e) {
		bool own = false;
		json_t *x;
		size_t j;
		json_array_foreach(env, j, x)
			if (!strcmp(sw_obj_str(x, "name") ?: "", sw_obj_str(e, "name")))
				own = true;
		if (!own)
			json_array_append(merged, e);
	}
	if (env)
		json_array_extend(merged, env);
	if (json_array_size(merged))
		json_object_set_new(container, "env", merged);
	else
		json_decref(merged);
	if (json_object_size(c->secret)) {
		json_t *from = json_object_get(container, "envFrom");
		if (!from) {
			from = json_array();
			json_object_set_new(container, "envFrom", from);
		}
		json_array_append_new(from, json_pack("{s:{s:s}}", "secretRef", "name", secret_name));
	}
}

static json_t *process_deployment(const char *app, const char *proc, const char *cmd, const char *image,
                                  const struct config *c, const char *secret_name, int64_t replicas)
{
	cleanup_free char *name = !strcmp(proc, "web") ? sw_xstrdup(app) : sw_xasprintf("%s-%s", app, proc);
	json_t *labels = json_pack("{s:s, s:s}", "app", app, "slipway.dev/process", proc);
	json_t *container = json_pack("{s:s, s:s}", "name", proc, "image", image);

	if (cmd && *cmd)
		json_object_set_new(container, "command", command_of(cmd));
	add_config(container, c, secret_name);
	json_t *dep = json_pack("{s:s, s:s, s:{s:s, s:O}, s:{s:I, s:{s:O}, s:{s:{s:O}, s:{s:[o]}}}}", "apiVersion", "apps/v1",
	                 "kind", "Deployment", "metadata", "name", name, "labels", labels, "spec", "replicas",
	                 (json_int_t)replicas, "selector", "matchLabels", labels, "template", "metadata", "labels", labels,
	                 "spec", "containers", container);
	json_decref(labels);
	return dep;
}

static bool image_is_placeholder(const char *img, const char *app)
{
	size_t n = strlen(app);
	if (!img || !*img)
		return true;
	if (!strcmp(img, app) || !strncmp(img, "slipway-release/", 16))
		return true;
	return !strncmp(img, app, n) && img[n] == ':';
}

static void release_annotations(json_t *obj, const char *id, const char *cause)
{
	sw_obj_set_annotation(obj, "slipway.dev/release", id);
	if (cause)
		sw_obj_set_annotation(obj, "kubernetes.io/change-cause", cause);
}

/* Builds the objects of a release. */
static int release_objects(struct kube *k, sw_releases *r, const sw_release_info *info, json_t **out, sw_error **err)
{
	cleanup_json json_t *doc = NULL, *objs = json_array();
	struct config c = { 0 };
	cleanup_free char *image = sw_xasprintf(SW_RELEASE_REF_PREFIX "%s:v%lld-image", info->app, (long long)info->version);
	cleanup_free char *secret_name = sw_xasprintf("%s-config", info->app);
	cleanup_free char *cause = sw_xasprintf("deploy %s v%lld (%s)", info->app, (long long)info->version, info->id);
	const json_t *manifests;
	int ret;

	if ((ret = sw_release_document(r, info->id, &doc, err)) < 0)
		return ret;
	if ((ret = read_config(r, info->app, doc, &c, err)) < 0)
		goto out;

	manifests = json_object_get(doc, "manifests");
	if (json_array_size(manifests)) {
		sw_manifest_opts mo = { .image = image };
		sw_diags d = SW_DIAGS_INIT;
		const json_t *m;
		size_t i;
		json_array_foreach(manifests, i, m) {
			cleanup_free char *data = NULL;
			size_t len = 0;
			json_t *loaded = NULL;
			const char *mname = sw_obj_str(m, "name") ?: "manifest";
			if ((ret = sw_image_store_read_blob(sw_releases_store(r), sw_obj_str(m, "digest") ?: "",
			                                    SW_DEPLOY_MANIFEST_MAX, &data, &len, err)) < 0) {
				sw_error_wrap(err, "release %s: deploy manifest %s", info->id, mname);
				sw_diags_release(&d);
				goto out;
			}
			/* "release-v3/slipway.yaml": diagnostics name the release, and the
			 * base name still decides whether it is an app manifest */
			cleanup_free char *what = sw_xasprintf("release-v%lld/%s", (long long)info->version, mname);
			ret = sw_manifest_load_buf_opts(what, data, len, &mo, &loaded, &d, err);
			if (ret == SW_EINVALID && !*err)
				continue;
			if (ret < 0) {
				sw_diags_release(&d);
				goto out;
			}
			json_array_extend(objs, loaded);
			json_decref(loaded);
		}
		sw_diags_print(&d, stderr);
		if (d.errors) {
			ret = sw_error_set(err, SW_EINVALID, "release %s: its deploy manifests have errors; nothing applied",
			                   info->id);
			sw_diags_release(&d);
			goto out;
		}
		sw_diags_release(&d);
		json_t *o;
		json_array_foreach(objs, i, o) {
			const char *kind = sw_obj_str(o, "kind") ?: "";
			json_t *spec = NULL;
			if (!strcmp(kind, "Deployment") || !strcmp(kind, "ReplicaSet"))
				spec = sw_obj_path(o, "spec.template.spec");
			else if (!strcmp(kind, "Pod"))
				spec = json_object_get(o, "spec");
			if (!spec)
				continue;
			json_t *ct;
			size_t j;
			json_array_foreach(json_object_get(spec, "containers"), j, ct) {
				if (image_is_placeholder(sw_obj_str(ct, "image"), info->app))
					json_object_set_new(ct, "image", json_string(image));
				add_config(ct, &c, secret_name);
			}
			release_annotations(o, info->id, !strcmp(kind, "Deployment") ? cause : NULL);
			if (!strcmp(kind, "Deployment"))
				sw_obj_set_annotation(sw_obj_mkpath(o, "spec.template"), "slipway.dev/release", info->id);
		}
	} else {
		const json_t *procs = json_object_get(doc, "processes");
		const char *proc;
		json_t *cmd;
		if (!json_object_size(procs)) {
			ret = sw_error_set(err, SW_EINVALID, "release %s of %s has no process types and no deploy manifests",
			                   info->id, info->app);
			goto out;
		}
		json_object_foreach((json_t *)procs, proc, cmd) {
			cleanup_free char *name = !strcmp(proc, "web") ? sw_xstrdup(info->app)
			                                                : sw_xasprintf("%s-%s", info->app, proc);
			/* a deploy keeps the replicas the deployment was scaled to */
			int64_t replicas = 1;
			json_t *live = NULL;
			sw_error *e = NULL;
			if (kube_get(k, sw_kind_lookup("deployments"), k->ns, name, &live, &e) == 0)
				replicas = sw_obj_int(live, "spec.replicas", 1);
			sw_error_free(e);
			json_decref(live);
			json_t *dep = process_deployment(info->app, proc, json_string_value(cmd), image, &c, secret_name,
			                                 replicas);
			release_annotations(dep, info->id, cause);
			sw_obj_set_annotation(sw_obj_mkpath(dep, "spec.template"), "slipway.dev/release", info->id);
			json_array_append_new(objs, dep);
		}
	}
	if (json_object_size(c.secret)) {
		json_t *sec = json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:s, s:O}", "apiVersion", "v1", "kind", "Secret",
		                        "metadata", "name", secret_name, "labels", "app", info->app, "type", "Opaque", "data",
		                        c.secret);
		release_annotations(sec, info->id, NULL);
		json_array_insert_new(objs, 0, sec);
	}
	/* defaults and validation as the server's admission does, so a bad
	 * release is refused before anything is written */
	{
		sw_diags d = SW_DIAGS_INIT;
		json_t *o;
		size_t i;
		json_array_foreach(objs, i, o)
			sw_manifest_admit(o, &d);
		sw_diags_print(&d, stderr);
		if (d.errors) {
			ret = sw_error_set(err, SW_EINVALID, "release %s: the objects made from it are not valid; nothing applied",
			                   info->id);
			sw_diags_release(&d);
			goto out;
		}
		sw_diags_release(&d);
	}
	*out = steal_pointer(&objs);
	ret = 0;
out:
	json_decref(c.env);
	json_decref(c.secret);
	return ret;
}

static void releases_freep(sw_releases **r)
{
	sw_releases_free(*r);
}

int cmd_deploy(int argc, char **argv, const struct cli_command *self)
{
	static const struct option opts[] = {
		{ "namespace", required_argument, NULL, 'n' },
		{ "no-wait", no_argument, NULL, KOPT_NO_WAIT },
		{ "timeout", required_argument, NULL, KOPT_TIMEOUT },
		{ "dry-run", optional_argument, NULL, KOPT_DRY_RUN },
		{ "output", required_argument, NULL, 'o' },
		{ "state-dir", required_argument, NULL, KOPT_STATE_DIR },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state_dir = NULL, *ns = NULL, *output = "";
	enum kube_dry_run dry = KUBE_DRY_NONE;
	bool wait = true;
	long timeout_ms = 0;
	struct kube k;
	sw_error *err = NULL;
	int c, rc = EXIT_OK;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "n:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': ns = optarg; break;
		case KOPT_NO_WAIT: wait = false; break;
		case KOPT_TIMEOUT:
			if ((timeout_ms = kube_parse_duration_ms(optarg)) < 0)
				return cli_usage_error(self, "deploy: --timeout wants a duration (90s, 5m), not '%s'", optarg);
			break;
		case KOPT_DRY_RUN:
			if (!optarg || !strcmp(optarg, "client"))
				dry = KUBE_DRY_CLIENT;
			else if (!strcmp(optarg, "server"))
				dry = KUBE_DRY_SERVER;
			else if (!strcmp(optarg, "none"))
				dry = KUBE_DRY_NONE;
			else
				return cli_usage_error(self, "deploy: --dry-run must be none, client or server, not '%s'", optarg);
			break;
		case 'o': output = optarg; break;
		case KOPT_STATE_DIR: state_dir = optarg; break;
		case 'h': return cli_help(self);
		default: return cli_usage_error(self, "deploy: unknown or incomplete flag '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error(self, "deploy: which app?");
	if (optind + 2 < argc)
		return cli_usage_error(self, "deploy: unexpected argument '%s'", argv[optind + 2]);
	if (*output && strcmp(output, "json") && strcmp(output, "yaml") && strcmp(output, "name"))
		return cli_usage_error(self, "deploy: --output must be json, yaml or name, not '%s'", output);
	const char *app = argv[optind], *what = optind + 1 < argc ? argv[optind + 1] : NULL;

	if (kube_open(&k, state_dir, ns, &err) < 0)
		return kube_fail(err);
	__attribute__((cleanup(releases_freep))) sw_releases *r = NULL;
	sw_release_info info = { 0 };
	cleanup_json json_t *objs = NULL;
	if (sw_releases_open(&r, k.state_dir, &err) < 0 ||
	    (what ? sw_release_lookup(r, app, what, &info, &err) : sw_release_current(r, app, &info, &err)) < 0 ||
	    release_objects(&k, r, &info, &objs, &err) < 0 || kube_apply(&k, objs, dry, KUBE_APPLY_RELEASE, output, &err) < 0) {
		rc = kube_fail(err);
	} else if (wait && dry == KUBE_DRY_NONE) {
		json_t *o;
		size_t i;
		json_array_foreach(objs, i, o) {
			if (strcmp(sw_obj_str(o, "kind") ?: "", "Deployment"))
				continue;
			int r2 = kube_rollout_status(&k, sw_obj_name(o), timeout_ms, true);
			if (r2 != EXIT_OK)
				rc = r2;
		}
	}
	sw_release_info_release(&info);
	kube_close(&k);
	return rc;
}
