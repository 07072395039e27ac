/*
 * release.c - making releases and reading them back: the release document,
 * the OCI artifact manifest that gives the ID, config changes (Heroku
 * semantics: every change is a new release from the current one), lookups
 * by vN or ID prefix, and diffs.
 */
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "release_int.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/path.h"

#define EMPTY_DIGEST "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

int sw_releases_open(sw_releases **out, const char *state_dir, sw_error **err)
{
	sw_releases *r = sw_xcalloc(1, sizeof(*r));
	int ret;

	r->state_dir = sw_xstrdup(state_dir);
	if ((ret = sw_image_store_open(&r->store, state_dir, err)) < 0 || (ret = release_db_open(r, err)) < 0) {
		sw_releases_free(r);
		return ret;
	}
	*out = r;
	return 0;
}

void sw_releases_free(sw_releases *r)
{
	if (!r)
		return;
	if (r->db)
		sqlite3_close(r->db);
	sw_image_store_free(r->store);
	free(r->state_dir);
	free(r);
}

sw_image_store *sw_releases_store(sw_releases *r)
{
	return r->store;
}

/* ---- who and when ------------------------------------------------------- */

static char *release_author(void)
{
	static const char *const vars[] = { "SLIPWAY_ACTOR", "GITHUB_ACTOR", "GITLAB_USER_LOGIN", "BUILDKITE_BUILD_CREATOR",
		                            "USER", NULL };
	for (size_t i = 0; vars[i]; i++) {
		const char *v = getenv(vars[i]);
		if (v && *v)
			return sw_xstrdup(v);
	}
	struct passwd *pw = getpwuid(getuid());
	return sw_xstrdup(pw && pw->pw_name ? pw->pw_name : "unknown");
}

static char *now_rfc3339(void)
{
	char buf[32];

	sw_format_rfc3339(buf, (int64_t)time(NULL));
	return sw_xstrdup(buf);
}

/* ---- committing ------------------------------------------------------- */

static json_t *desc_json(const sw_descriptor *d)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", d->media_type, "digest", d->digest, "size",
	                 (json_int_t)d->size);
}

int release_commit(sw_releases *r, const char *app, const json_t *doc, const json_t *secrets,
                   const char *reason, sw_release_info *out, sw_error **err)
{
	cleanup_json json_t *manifest = NULL;
	cleanup_free char *tag = NULL;
	sw_descriptor config, empty, md, subject;
	const char *image = json_string_value(json_object_get(doc, "image"));
	json_t *layers, *m;
	cleanup_free char *idata = NULL;
	size_t ilen = 0, i;
	int64_t version;
	int ret;

	memset(out, 0, sizeof(*out));
	/* the subject: the image manifest, which must be in the store */
	if ((ret = sw_image_store_read_blob(r->store, image, SW_MANIFEST_MAX, &idata, &ilen, err)) < 0)
		return sw_error_wrap(err, "release of %s", app);
	{
		cleanup_json json_t *im = NULL;
		const char *mt = NULL;
		if (sw_json_loadb(&im, image, idata, ilen, NULL) == 0)
			mt = json_string_value(json_object_get(im, "mediaType"));
		snprintf(subject.media_type, sizeof(subject.media_type), "%s", mt ? mt : SW_MT_OCI_MANIFEST);
	}
	snprintf(subject.digest, sizeof(subject.digest), "%s", image);
	subject.size = (int64_t)ilen;

	if ((ret = release_db_next_version(r, app, &version, err)) < 0)
		return ret;
	if ((ret = sw_image_store_put_json(r->store, SW_MT_RELEASE, doc, &config, err)) < 0)
		return sw_error_wrap(err, "release document");
	layers = json_array();
	json_array_foreach(json_object_get(doc, "manifests"), i, m) {
		json_t *d = json_pack("{s:O, s:O, s:O, s:{s:O}}", "mediaType", json_object_get(m, "mediaType"), "digest",
		                      json_object_get(m, "digest"), "size", json_object_get(m, "size"), "annotations",
		                      "org.opencontainers.image.title", json_object_get(m, "name"));
		json_array_append_new(layers, d);
	}
	if (json_array_size(layers) == 0) {
		/* image-spec 1.1: an artifact with no layers lists the empty descriptor */
		if ((ret = sw_image_store_put_blob(r->store, SW_MT_EMPTY, "{}", 2, EMPTY_DIGEST, &empty, err)) < 0) {
			json_decref(layers);
			return ret;
		}
		json_array_append_new(layers, desc_json(&empty));
	}
	manifest = json_pack("{s:i, s:s, s:s, s:o, s:o, s:o}", "schemaVersion", 2, "mediaType", SW_MT_OCI_MANIFEST,
	                     "artifactType", SW_MT_RELEASE, "config", desc_json(&config), "layers", layers, "subject",
	                     desc_json(&subject));
	if ((ret = sw_image_store_put_json(r->store, SW_MT_OCI_MANIFEST, manifest, &md, err)) < 0)
		return sw_error_wrap(err, "release manifest");
	tag = sw_xasprintf("%s%s:v%lld", SW_RELEASE_REF_PREFIX, app, (long long)version);
	if ((ret = sw_image_store_tag(r->store, tag, &md, err)) < 0)
		return sw_error_wrap(err, "tagging the release");
	/* pin the image too: `image rm` of its own tag must not delete the
	 * manifest a release points at (hidden from `images` like the release) */
	free(tag);
	tag = sw_xasprintf("%s%s:v%lld-image", SW_RELEASE_REF_PREFIX, app, (long long)version);
	if ((ret = sw_image_store_tag(r->store, tag, &subject, err)) < 0)
		return sw_error_wrap(err, "pinning the release's image");

	snprintf(out->id, sizeof(out->id), "%s", md.digest);
	snprintf(out->app, sizeof(out->app), "%s", app);
	out->version = version;
	snprintf(out->image, sizeof(out->image), "%s", image);
	const char *commit = json_string_value(json_object_get(json_object_get(json_object_get(doc, "build"), "git"),
	                                                       "commit"));
	out->git_commit = commit ? sw_xstrdup(commit) : NULL;
	out->created = now_rfc3339();
	out->author = release_author();
	const char *note = json_string_value(json_object_get(doc, "note"));
	out->note = note ? sw_xstrdup(note) : NULL;
	out->reason = sw_xstrdup(reason);
	const char *parent = json_string_value(json_object_get(doc, "parent"));
	out->parent = parent ? sw_xstrdup(parent) : NULL;
	if ((ret = release_db_insert(r, out, secrets, strcmp(reason, "import") != 0, err)) < 0) {
		sw_release_info_release(out);
		return ret;
	}
	return 0;
}

/* ---- reading ------------------------------------------------------------ */

int release_read_manifest(sw_releases *r, const char *id, json_t **out, sw_error **err)
{
	cleanup_free char *data = NULL;
	cleanup_json json_t *m = NULL;
	size_t len = 0;
	int ret;

	if ((ret = sw_image_store_read_blob(r->store, id, SW_MANIFEST_MAX, &data, &len, err)) < 0 ||
	    (ret = sw_json_loadb(&m, id, data, len, err)) < 0)
		return sw_error_wrap(err, "release %s", id);
	if (!json_is_string(json_object_get(m, "artifactType")) ||
	    strcmp(json_string_value(json_object_get(m, "artifactType")), SW_MT_RELEASE))
		return sw_error_set(err, SW_EINVALID, "%s is not a slipway release (artifactType)", id);
	*out = steal_pointer(&m);
	return 0;
}

int sw_release_document(sw_releases *r, const char *id, json_t **out, sw_error **err)
{
	cleanup_json json_t *m = NULL;
	cleanup_free char *data = NULL;
	const char *cd;
	size_t len = 0;
	int ret;

	if ((ret = release_read_manifest(r, id, &m, err)) < 0)
		return ret;
	cd = json_string_value(json_object_get(json_object_get(m, "config"), "digest"));
	if (!cd || !sw_digest_valid(cd))
		return sw_error_set(err, SW_EINVALID, "release %s: no config digest", id);
	if ((ret = sw_image_store_read_blob(r->store, cd, SW_CONFIG_MAX, &data, &len, err)) < 0 ||
	    (ret = sw_json_loadb(out, cd, data, len, err)) < 0)
		return sw_error_wrap(err, "release %s: document", id);
	if (!json_is_object(*out) || !json_is_string(json_object_get(*out, "app")) ||
	    !json_is_string(json_object_get(*out, "image"))) {
		json_decref(*out);
		*out = NULL;
		return sw_error_set(err, SW_EINVALID, "release %s: document has no app or image", id);
	}
	return 0;
}

static int no_releases(const char *app, sw_error **err)
{
	return sw_error_set(err, SW_ENOTFOUND, "app '%s' has no releases", app);
}

int sw_release_current(sw_releases *r, const char *app, sw_release_info *out, sw_error **err)
{
	sw_release_info *v = NULL;
	size_t n = 0;
	int ret;

	if ((ret = sw_app_name_check(app, err)) < 0 ||
	    (ret = release_db_query(r, app, RQ_ALL, 0, NULL, 1, &v, &n, err)) < 0)
		return ret;
	if (n == 0) {
		free(v);
		return no_releases(app, err);
	}
	*out = v[0];
	free(v);
	return 0;
}

int sw_release_list(sw_releases *r, const char *app, size_t limit, sw_release_info **out, size_t *n,
                    sw_error **err)
{
	int ret;

	if ((ret = sw_app_name_check(app, err)) < 0 ||
	    (ret = release_db_query(r, app, RQ_ALL, 0, NULL, limit, out, n, err)) < 0)
		return ret;
	if (*n == 0) {
		free(*out);
		*out = NULL;
		return no_releases(app, err);
	}
	return 0;
}

int sw_release_lookup(sw_releases *r, const char *app, const char *what, sw_release_info *out, sw_error **err)
{
	sw_release_info *v = NULL;
	size_t n = 0, hexlen;
	const char *hex = what;
	int ret;

	if ((ret = sw_app_name_check(app, err)) < 0 ||
	    (ret = release_db_query(r, app, RQ_ALL, 0, NULL, 1, &v, &n, err)) < 0)
		return ret;
	sw_release_infos_free(v, n);
	if (n == 0)
		return no_releases(app, err);
	v = NULL;
	n = 0;
	if (what[0] == 'v' && what[1] && strspn(what + 1, "0123456789") == strlen(what + 1) && strlen(what) < 18) {
		long long ver = strtoll(what + 1, NULL, 10);
		if ((ret = release_db_query(r, app, RQ_VERSION, ver, NULL, 0, &v, &n, err)) < 0)
			return ret;
		if (n == 0) {
			free(v);
			return sw_error_set(err, SW_ENOTFOUND, "app '%s' has no release %s", app, what);
		}
	} else {
		if (!strncmp(hex, "sha256:", 7))
			hex += 7;
		hexlen = strlen(hex);
		if (hexlen < 7 || hexlen > 64 || strspn(hex, "0123456789abcdef") != hexlen)
			return sw_error_set(err, SW_EINVALID,
			                    "'%s' is neither vN nor a release ID (7 to 64 lower-case hex digits)", what);
		cleanup_free char *prefix = sw_xasprintf("sha256:%s", hex);
		if ((ret = release_db_query(r, app, RQ_PREFIX, 0, prefix, 0, &v, &n, err)) < 0)
			return ret;
		if (n == 0) {
			free(v);
			return sw_error_set(err, SW_ENOTFOUND, "app '%s' has no release %s", app, what);
		}
		for (size_t i = 1; i < n; i++) {
			if (strcmp(v[i].id, v[0].id)) {
				sw_release_infos_free(v, n);
				return sw_error_set(err, SW_EAMBIGUOUS, "release ID prefix %s of app '%s' is ambiguous", what,
				                    app);
			}
		}
	}
	/* the newest row of that ID */
	*out = v[0];
	for (size_t i = 1; i < n; i++)
		sw_release_info_release(&v[i]);
	free(v);
	return 0;
}

/* ---- making ------------------------------------------------------------- */

static bool shell_safe(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || strchr("-_./=:,+@%", *s)))
			return false;
	return true;
}

/* `web` from the image's Entrypoint and Cmd, words quoted for sh. */
static json_t *default_processes(const json_t *config)
{
	json_t *c = json_object_get(config, "config"), *w;
	json_t *parts[2] = { json_object_get(c, "Entrypoint"), json_object_get(c, "Cmd") };
	sw_buf b = { 0 };
	size_t i;

	for (int k = 0; k < 2; k++) {
		json_array_foreach(parts[k], i, w) {
			const char *s = json_string_value(w);
			if (!s)
				continue;
			if (b.len)
				sw_buf_addc(&b, ' ', NULL);
			if (shell_safe(s)) {
				sw_buf_addstr(&b, s, NULL);
				continue;
			}
			sw_buf_addc(&b, '\'', NULL);
			for (const char *p = s; *p; p++) {
				if (*p == '\'')
					sw_buf_addstr(&b, "'\\''", NULL);
				else
					sw_buf_addc(&b, *p, NULL);
			}
			sw_buf_addc(&b, '\'', NULL);
		}
	}
	json_t *procs = json_object();
	if (b.len) {
		cleanup_free char *cmd = sw_buf_detach(&b);
		json_object_set_new(procs, "web", json_string(cmd));
	}
	sw_buf_release(&b);
	return procs;
}

/* Build metadata from the image's manifest annotations, then its labels. */
static json_t *build_metadata(const sw_image *img)
{
	static const struct {
		const char *key, *group, *field;
	} keys[] = {
		{ "org.opencontainers.image.revision", "git", "commit" },
		{ "org.opencontainers.image.source", "git", "source" },
		{ "dev.slipway.git.author", "git", "author" },
		{ "dev.slipway.git.message", "git", "message" },
		{ "dev.slipway.git.dirty", "git", "dirty" },
		{ "dev.slipway.build.dockerfile", NULL, "dockerfile" },
		{ "dev.slipway.build.version", NULL, "builder" },
	};
	json_t *ann = json_object_get(img->manifest, "annotations");
	json_t *labels = json_object_get(json_object_get(img->config, "config"), "Labels");
	json_t *b = json_object();

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = json_object_get(ann, keys[i].key);
		if (!json_is_string(v))
			v = json_object_get(labels, keys[i].key);
		if (!json_is_string(v))
			continue;
		json_t *dst = b;
		if (keys[i].group) {
			dst = json_object_get(b, keys[i].group);
			if (!dst) {
				dst = json_object();
				json_object_set_new(b, keys[i].group, dst);
			}
		}
		json_object_set(dst, keys[i].field, v);
	}
	return b;
}

static const char *manifest_media_type(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (dot && !strcmp(dot, ".json"))
		return "application/vnd.slipway.manifest.v1+json";
	return SW_MT_DEPLOY_MANIFEST;
}

static int add_manifest_files(sw_releases *r, json_t *list, const char *const *paths, size_t n, sw_error **err)
{
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *data = NULL;
		const char *base = strrchr(paths[i], '/');
		sw_descriptor d;
		size_t len = 0;
		int ret;

		base = base ? base + 1 : paths[i];
		if ((ret = sw_read_file(&data, &len, paths[i], SW_DEPLOY_MANIFEST_MAX, err)) < 0)
			return sw_error_wrap(err, "deploy manifest");
		for (size_t k = 0; k < json_array_size(list); k++)
			if (!strcmp(json_string_value(json_object_get(json_array_get(list, k), "name")), base))
				return sw_error_set(err, SW_EINVALID, "deploy manifest %s: a manifest named %s was given twice",
				                    paths[i], base);
		if ((ret = sw_image_store_put_blob(r->store, manifest_media_type(base), data, len, NULL, &d, err)) < 0)
			return sw_error_wrap(err, "deploy manifest %s", paths[i]);
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:I}", "name", base, "digest", d.digest, "mediaType",
		                                      d.media_type, "size", (json_int_t)d.size));
	}
	return 0;
}

static void image_freep(sw_image **i)
{
	sw_image_free(*i);
}

static int release_create_once(sw_releases *r, const sw_release_spec *spec, sw_release_info *out, sw_error **err)
{
	__attribute__((cleanup(image_freep))) sw_image *img = NULL;
	cleanup_json json_t *doc = NULL, *parent_doc = NULL;
	sw_release_info parent = { 0 };
	json_t *config, *manifests;
	const char *key;
	json_t *v;
	int ret;

	if ((ret = sw_app_name_check(spec->app, err)) < 0)
		return ret;
	if ((ret = sw_image_store_load(&img, r->store, spec->image, err)) < 0)
		return sw_error_wrap(err, "release of %s: image", spec->app);
	ret = sw_release_current(r, spec->app, &parent, err);
	if (ret == SW_ENOTFOUND) {
		sw_error_clear(err);
	} else if (ret < 0) {
		return ret;
	} else {
		ret = sw_release_document(r, parent.id, &parent_doc, err);
		if (ret < 0) {
			sw_release_info_release(&parent);
			return ret;
		}
	}
	config = parent_doc ? json_deep_copy(json_object_get(parent_doc, "config")) : json_object();
	json_object_foreach((json_t *)spec->env, key, v) {
		if ((ret = sw_config_key_check(key, err)) < 0) {
			json_decref(config);
			sw_release_info_release(&parent);
			return ret;
		}
		json_object_set_new(config, key, json_pack("{s:O}", "value", v));
	}
	manifests = json_array();
	doc = json_pack("{s:i, s:s, s:s, s:o, s:o, s:o, s:o}", "schemaVersion", 1, "app", spec->app, "image",
	                img->digest, "config", config, "processes",
	                spec->processes ? json_deep_copy(spec->processes) : default_processes(img->config), "manifests",
	                manifests, "build", build_metadata(img));
	if (parent.id[0])
		json_object_set_new(doc, "parent", json_string(parent.id));
	sw_release_info_release(&parent);
	if (spec->note && *spec->note)
		json_object_set_new(doc, "note", json_string(spec->note));
	if (spec->nmanifests) {
		if ((ret = add_manifest_files(r, manifests, spec->manifests, spec->nmanifests, err)) < 0)
			return ret;
	} else if (parent_doc) {
		json_array_extend(manifests, json_object_get(parent_doc, "manifests"));
	}
	return release_commit(r, spec->app, doc, NULL, "build", out, err);
}

static int config_change_once(sw_releases *r, const char *app, const json_t *set, bool secret,
                              const json_t *unset, const char *note, sw_release_info *out, sw_error **err)
{
	cleanup_json json_t *doc = NULL, *secrets = json_object();
	sw_release_info cur = { 0 };
	const char *key;
	json_t *config, *v;
	size_t i;
	int ret;

	if ((ret = sw_release_current(r, app, &cur, err)) < 0)
		return ret;
	ret = sw_release_document(r, cur.id, &doc, err);
	if (ret == 0) {
		json_object_set_new(doc, "parent", json_string(cur.id));
		json_object_del(doc, "note");
	}
	sw_release_info_release(&cur);
	if (ret < 0)
		return ret;
	if (note && *note)
		json_object_set_new(doc, "note", json_string(note));
	config = json_object_get(doc, "config");
	if (!json_is_object(config)) {
		config = json_object();
		json_object_set_new(doc, "config", config);
	}
	json_array_foreach((json_t *)unset, i, v) {
		const char *k = json_string_value(v);
		if ((ret = sw_config_key_check(k, err)) < 0)
			return ret;
		if (!json_object_get(config, k))
			return sw_error_set(err, SW_ENOTFOUND, "app '%s' has no config var %s", app, k);
		json_object_del(config, k);
	}
	json_object_foreach((json_t *)set, key, v) {
		if ((ret = sw_config_key_check(key, err)) < 0)
			return ret;
		if (secret) {
			char d[SW_DIGEST_LEN + 1];
			sw_digest_bytes(d, json_string_value(v), strlen(json_string_value(v)));
			json_object_set_new(config, key, json_pack("{s:s}", "secret", d));
			json_object_set_new(secrets, key, json_pack("{s:s, s:O}", "digest", d, "value", v));
		} else {
			json_object_set_new(config, key, json_pack("{s:O}", "value", v));
		}
	}
	return release_commit(r, app, doc, secrets, "config", out, err);
}

/* A release made from the current one is refused (SW_ECONFLICT) if another
 * landed meanwhile; it is made again from the new current release, as the
 * change applies to whatever is current. Each attempt burns its number. */
#define RELEASE_ATTEMPTS 8

int sw_release_create(sw_releases *r, const sw_release_spec *spec, sw_release_info *out, sw_error **err)
{
	int ret;

	for (int i = 0;; i++) {
		ret = release_create_once(r, spec, out, err);
		if (ret != SW_ECONFLICT || i + 1 == RELEASE_ATTEMPTS)
			return ret;
		sw_error_clear(err);
	}
}

int sw_release_config_change(sw_releases *r, const char *app, const json_t *set, bool secret,
                             const json_t *unset, const char *note, sw_release_info *out, sw_error **err)
{
	int ret;

	for (int i = 0;; i++) {
		ret = config_change_once(r, app, set, secret, unset, note, out, err);
		if (ret != SW_ECONFLICT || i + 1 == RELEASE_ATTEMPTS)
			return ret;
		sw_error_clear(err);
	}
}

static int rollback_once(sw_releases *r, const char *app, const char *what, const char *note,
                         sw_release_info *out, sw_error **err)
{
	cleanup_json json_t *doc = NULL;
	sw_release_info cur = { 0 }, target = { 0 };
	int ret;

	if ((ret = sw_release_current(r, app, &cur, err)) < 0)
		return ret;
	if ((ret = sw_release_lookup(r, app, what, &target, err)) < 0 ||
	    (ret = sw_release_document(r, target.id, &doc, err)) < 0)
		goto out;
	json_object_set_new(doc, "parent", json_string(cur.id));
	json_object_del(doc, "note");
	if (note && *note)
		json_object_set_new(doc, "note", json_string(note));
	ret = release_commit(r, app, doc, NULL, "rollback", out, err);
out:
	sw_release_info_release(&cur);
	sw_release_info_release(&target);
	return ret;
}

int sw_release_rollback(sw_releases *r, const char *app, const char *what, const char *note,
                        sw_release_info *out, sw_error **err)
{
	int ret;

	for (int i = 0;; i++) {
		ret = rollback_once(r, app, what, note, out, err);
		if (ret != SW_ECONFLICT || i + 1 == RELEASE_ATTEMPTS)
			return ret;
		sw_error_clear(err);
	}
}

/* ---- display ------------------------------------------------------------ */

json_t *sw_release_info_json(const sw_release_info *info)
{
	json_t *j = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s}", "id", info->id, "app", info->app, "version",
	                      (json_int_t)info->version, "image", info->image, "created", info->created ? info->created : "",
	                      "author", info->author ? info->author : "", "reason", info->reason ? info->reason : "");
	json_object_set_new(j, "git_commit", info->git_commit ? json_string(info->git_commit) : json_null());
	json_object_set_new(j, "note", info->note ? json_string(info->note) : json_null());
	json_object_set_new(j, "parent", info->parent ? json_string(info->parent) : json_null());
	return j;
}

static json_t *config_display(const json_t *entry)
{
	if (!entry)
		return json_null();
	if (json_object_get(entry, "secret"))
		return json_string(SW_SECRET_MASK);
	json_t *v = json_object_get(entry, "value");
	return v ? json_incref(v) : json_null();
}

json_t *sw_release_config_masked(const json_t *doc)
{
	json_t *out = json_object(), *v;
	const char *key;

	json_object_foreach(json_object_get(doc, "config"), key, v)
		json_object_set_new(out, key, config_display(v));
	return out;
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted union of the keys of two objects. */
static json_t *key_union(const json_t *a, const json_t *b)
{
	cleanup_json json_t *seen = json_object();
	json_t *keys = json_array(), *v;
	const char *k;

	json_object_foreach((json_t *)a, k, v)
		json_object_set_new(seen, k, json_true());
	json_object_foreach((json_t *)b, k, v)
		json_object_set_new(seen, k, json_true());
	/* json_object_foreach order is insertion order; sort */
	size_t n = json_object_size(seen), i = 0;
	const char **names = sw_xcalloc(n ? n : 1, sizeof(char *));
	json_object_foreach(seen, k, v)
		names[i++] = k;
	qsort(names, n, sizeof(char *), cmp_strp);
	for (i = 0; i < n; i++)
		json_array_append_new(keys, json_string(names[i]));
	free(names);
	return keys;
}

/* Entries {key, old, new} of two objects that differ; show maps an entry
 * to what is displayed, same tells whether two entries are equal. */
static json_t *diff_objects(const json_t *a, const json_t *b, const char *name, bool config)
{
	cleanup_json json_t *keys = key_union(a, b);
	json_t *out = json_array(), *k;
	size_t i;

	json_array_foreach(keys, i, k) {
		const char *key = json_string_value(k);
		json_t *x = json_object_get(a, key), *y = json_object_get(b, key);
		if (x && y && json_equal(x, y))
			continue;
		json_t *e = json_pack("{s:s}", name, key);
		json_object_set_new(e, "old", config ? config_display(x) : (x ? json_incref(x) : json_null()));
		json_object_set_new(e, "new", config ? config_display(y) : (y ? json_incref(y) : json_null()));
		json_object_set_new(e, "changed", json_true());
		json_array_append_new(out, e);
	}
	return out;
}

static json_t *manifests_by_name(const json_t *doc)
{
	json_t *o = json_object(), *m;
	size_t i;

	json_array_foreach(json_object_get(doc, "manifests"), i, m) {
		const char *n = json_string_value(json_object_get(m, "name"));
		if (n)
			json_object_set(o, n, json_object_get(m, "digest"));
	}
	return o;
}

json_t *sw_release_diff(const json_t *a, const json_t *b)
{
	cleanup_json json_t *ma = manifests_by_name(a), *mb = manifests_by_name(b);
	json_t *ia = json_object_get(a, "image"), *ib = json_object_get(b, "image");

	return json_pack("{s:{s:O, s:O, s:b}, s:o, s:o, s:o}", "image", "old", ia, "new", ib, "changed",
	                 !json_equal(ia, ib), "config",
	                 diff_objects(json_object_get(a, "config"), json_object_get(b, "config"), "key", true),
	                 "processes",
	                 diff_objects(json_object_get(a, "processes"), json_object_get(b, "processes"), "name", false),
	                 "manifests", diff_objects(ma, mb, "name", false));
}
