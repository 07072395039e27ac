/*
 * builder.c - the executor: runs a Dockerfile plan stage by stage, step by
 * step, and writes the target stage as an image (config, manifest, tags).
 *
 * A stage starts from scratch, an image of the store or an earlier stage
 * (ONBUILD triggers of a base image are spliced in after its FROM and
 * planned like any instruction). Metadata steps change the config
 * (WORKDIR also makes its folder, in a layer of its own, as BuildKit does);
 * filesystem steps go through builder_fs_step: cache lookup, else an
 * overlay over the stage's layers (or an empty folder for COPY --link),
 * the change, the diff as one layer. Tags are written last, so a failed
 * build leaves every tag as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "builder_int.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/path.h"
#include "slipway/registry.h"
#include "slipway/statedir.h"

#define HISTORY_COMMENT "buildkit.dockerfile.v0"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void emit(struct builder *b, enum sw_build_event_kind kind, int line, double secs, const char *data,
                 size_t len)
{
	if (!b->o->event)
		return;
	sw_build_event ev = {
		.kind = kind, .number = b->number, .stage = b->cur_stage ? b->cur_stage->display : "",
		.step = b->cur_step, .nsteps = b->cur_nsteps, .text = b->cur_text ? b->cur_text : "",
		.line = line, .seconds = secs, .data = data, .len = len,
	};
	b->o->event(&ev, b->o->payload);
}

void builder_output(struct builder *b, const char *data, size_t len)
{
	emit(b, SW_BUILD_EV_OUTPUT, 0, 0, data, len);
}

int builder_tmpdir(struct builder *b, char **out, sw_error **err)
{
	char *t = sw_xasprintf("%s/tmp-XXXXXX", b->work_dir);

	if (!mkdtemp(t)) {
		int e = errno;
		free(t);
		return sw_error_set_errno(err, e, "temp folder under %s", b->work_dir);
	}
	*out = t;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

void builder_rm_tree(const char *path)
{
	(void)nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

int builder_mount(struct builder *b, const struct blayer *layers, size_t n, sw_rootfs **out, sw_error **err)
{
	cleanup_free const char **lowers = sw_xcalloc(n + 1, sizeof(char *));
	cleanup_free char *wd = NULL;
	int r;

	if (!b->lcache && (r = sw_layer_cache_open(&b->lcache, b->state_dir, b->store, err)) < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if ((r = sw_layer_cache_get(b->lcache, &layers[i].blob, layers[i].diff_id, &lowers[i], err)) < 0)
			return sw_error_wrap(err, "layer %s", layers[i].diff_id);
	if ((r = builder_tmpdir(b, &wd, err)) < 0)
		return r;
	if ((r = sw_rootfs_mount(out, wd, lowers, n, err)) < 0) {
		builder_rm_tree(wd);
		return r;
	}
	return 0;
}

static int load_image_layers(struct builder *b, const char *ref, sw_image **img, sw_error **err)
{
	int r = sw_image_store_load(img, b->store, ref, err);
	if (r < 0)
		return sw_error_wrap(err, "image %s (import a base with `slipway image import`)", ref);
	return 0;
}

int builder_mount_ref(struct builder *b, sw_df_ref_kind kind, size_t stage, const char *ref, sw_rootfs **out,
                      sw_error **err)
{
	if (kind == SW_DF_REF_STAGE) {
		if (stage >= b->nstages || !b->stages[stage].built)
			return sw_error_set(err, SW_EINVALID, "stage %zu is not built yet", stage);
		return builder_mount(b, b->stages[stage].layers, b->stages[stage].nlayers, out, err);
	}
	sw_image *img = NULL;
	int r = load_image_layers(b, ref, &img, err);
	if (r < 0)
		return r;
	struct blayer *ls = sw_xcalloc(img->nlayers + 1, sizeof(*ls));
	for (size_t i = 0; i < img->nlayers; i++) {
		ls[i].blob = img->layers[i];
		strcpy(ls[i].diff_id, img->diff_ids[i]);
	}
	r = builder_mount(b, ls, img->nlayers, out, err);
	free(ls);
	sw_image_free(img);
	return r;
}

int builder_ref_key(struct builder *b, sw_df_ref_kind kind, size_t stage, const char *ref,
                    char out[SW_DIGEST_LEN + 1], sw_error **err)
{
	if (kind == SW_DF_REF_STAGE) {
		if (stage >= b->nstages || !b->stages[stage].built)
			return sw_error_set(err, SW_EINVALID, "stage %zu is not built yet", stage);
		strcpy(out, b->stages[stage].chain);
		return 0;
	}
	if (sw_image_store_resolve(b->store, ref, out, err) < 0)
		return sw_error_wrap(err, "image %s", ref);
	return 0;
}

int builder_add_layer(struct builder *b, struct bstage *st, const sw_df_step *s, const struct bcache_entry *e,
                      sw_error **err)
{
	cleanup_free char *by = bcfg_created_by(s);

	if (!e->empty) {
		st->layers = sw_xreallocarray(st->layers, st->nlayers + 1, sizeof(*st->layers));
		st->layers[st->nlayers++] = e->layer;
	}
	return sw_image_config_add_history(st->config, e->empty ? NULL : e->layer.diff_id, by, HISTORY_COMMENT,
	                                   b->o->epoch, e->empty, err);
}

static int write_layer(struct builder *b, sw_layer *layer, struct bcache_entry *e, sw_error **err)
{
	sw_layer_opts lo = { .compression = b->o->compression, .epoch = b->o->epoch };
	sw_layer_result res;
	int r;

	if (sw_layer_count(layer) == 0) {
		e->empty = true;
		return 0;
	}
	if ((r = sw_layer_write(b->store, layer, &lo, &res, err)) < 0)
		return r;
	e->layer.blob = res.blob;
	strcpy(e->layer.diff_id, res.diff_id);
	return 0;
}

int builder_fs_step(struct builder *b, struct bstage *st, const sw_df_step *s, const char *key, bool link,
                    bchange_fn fn, void *payload, sw_error **err)
{
	struct bcache_entry e = { 0 };
	sw_layer *layer = NULL;
	int r;

	b->steps++;
	b->last_cached = false;
	if (!b->o->no_cache && bcache_get(b, key, &e) == 1) {
		b->cached++;
		b->last_cached = true;
	} else {
		/* the layer's entries read the files in place: write it before
		 * the folder goes away */
		cleanup_free char *tmp = NULL;
		sw_rootfs *rf = NULL;
		layer = sw_layer_new();
		if (link) {
			cleanup_free char *root = NULL;
			if ((r = builder_tmpdir(b, &tmp, err)) < 0)
				goto out;
			root = sw_xasprintf("%s/root", tmp);
			if (mkdir(root, 0755) < 0)
				r = sw_error_set_errno(err, errno, "mkdir %s", root);
			if (r == 0)
				r = fn(b, st, s, root, payload, err);
			if (r == 0) {
				cleanup_close int dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
				r = dfd < 0 ? sw_error_set_errno(err, errno, "open %s", root) : sw_layer_add_tree(layer, dfd, NULL, err);
				if (r == 0)
					r = write_layer(b, layer, &e, err);
			}
			builder_rm_tree(tmp);
		} else {
			if ((r = builder_mount(b, st->layers, st->nlayers, &rf, err)) < 0)
				goto out;
			r = fn(b, st, s, sw_rootfs_path(rf), payload, err);
			if (r == 0)
				r = sw_rootfs_diff(rf, layer, err);
			if (r == 0)
				r = write_layer(b, layer, &e, err);
			sw_rootfs_free(rf);
		}
		if (r < 0)
			goto out;
		if ((r = bcache_put(b, key, &e, err)) < 0)
			goto out;
	}
	if ((r = builder_add_layer(b, st, s, &e, err)) < 0)
		goto out;
	if (link)
		bcache_key(st->chain, st->chain, key, strlen(key));
	else
		strcpy(st->chain, key);
out:
	sw_layer_free(layer);
	return r;
}

/* ---- stages ------------------------------------------------------------- */

static int platform_split(const char *platform, char **os, char **arch)
{
	const char *slash = platform ? strchr(platform, '/') : NULL;

	if (!slash) {
		*os = sw_xstrdup("linux");
		*arch = sw_xstrdup("amd64");
		return 0;
	}
	*os = sw_xstrndup(platform, (size_t)(slash - platform));
	const char *a = slash + 1, *v = strchr(a, '/');
	*arch = v ? sw_xstrndup(a, (size_t)(v - a)) : sw_xstrdup(a);
	return 0;
}

static int stage_from(struct builder *b, struct bstage *bs, sw_error **err)
{
	const sw_df_stage *st = bs->st;
	char when[32];

	if (st->base_kind == SW_DF_BASE_SCRATCH) {
		cleanup_free char *os = NULL, *arch = NULL;
		platform_split(st->platform, &os, &arch);
		bs->config = sw_image_config_new(arch, os, b->o->epoch);
		bcache_key(bs->chain, "scratch", st->platform ? st->platform : "", st->platform ? strlen(st->platform) : 0);
	} else if (st->base_kind == SW_DF_BASE_STAGE) {
		struct bstage *base = &b->stages[st->base_stage];
		if (!base->built)
			return sw_error_set(err, SW_EINVALID, "stage %s is not built yet", st->base);
		bs->config = json_deep_copy(base->config);
		bs->layers = sw_xcalloc(base->nlayers + 1, sizeof(*bs->layers));
		memcpy(bs->layers, base->layers, base->nlayers * sizeof(*bs->layers));
		bs->nlayers = base->nlayers;
		strcpy(bs->chain, base->chain);
	} else {
		sw_image *img = NULL;
		int r = load_image_layers(b, st->base, &img, err);
		if (r < 0)
			return r;
		bs->config = json_deep_copy(img->config);
		bs->layers = sw_xcalloc(img->nlayers + 1, sizeof(*bs->layers));
		for (size_t i = 0; i < img->nlayers; i++) {
			bs->layers[i].blob = img->layers[i];
			strcpy(bs->layers[i].diff_id, img->diff_ids[i]);
		}
		bs->nlayers = img->nlayers;
		strcpy(bs->chain, img->digest);
		sw_image_free(img);
	}
	/* a child does not inherit its base's triggers: they ran after FROM */
	json_object_del(json_object_get(bs->config, "config"), "OnBuild");
	sw_format_rfc3339(when, b->o->epoch);
	json_object_set_new(bs->config, "created", json_string(when));
	return 0;
}

static int meta_step(struct builder *b, struct bstage *bs, const sw_df_step *s, sw_error **err)
{
	cleanup_free char *by = bcfg_created_by(s);
	sw_buf key = SW_BUF_INIT(0);
	int r;

	if ((r = bcfg_apply(bs, s, err)) < 0)
		return r;
	/* ARG values are not in the history, but they are in the chain */
	(void)sw_buf_addstr(&key, by, NULL);
	for (size_t i = 0; s->kind == SW_DF_ARG && i < s->nkvs; i++)
		(void)sw_buf_printf(&key, NULL, "\n%s", s->kvs[i].key);
	bcache_key(bs->chain, bs->chain, key.data, key.len);
	sw_buf_release(&key);
	if (s->kind == SW_DF_ARG)
		return 0; /* BuildKit keeps ARG out of the image history */
	return sw_image_config_add_history(bs->config, NULL, by, HISTORY_COMMENT, b->o->epoch, true, err);
}

/* WORKDIR: the folder is made in the step's own layer, as BuildKit does
 * (mkdir -p, 0755, created folders owned by the stage's USER); an existing
 * folder gives no layer. */
static int workdir_change(struct builder *b, struct bstage *st, const sw_df_step *s, const char *root,
                          void *payload, sw_error **err)
{
	const char *wd = bcfg_get_string(st->config, "WorkingDir");
	const char *user = bcfg_get_string(st->config, "User");
	cleanup_close int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct bwriter w = { .rootfd = rootfd };

	(void)b;
	(void)s;
	(void)payload;
	if (rootfd < 0)
		return sw_error_set_errno(err, errno, "open %s", root);
	if (user && *user && sw_rootfs_lookup_user(root, user, &w.uid, &w.gid, err) < 0)
		return sw_error_wrap(err, "USER %s", user);
	return bw_mkdir_p(&w, wd, err);
}

static int workdir_step(struct builder *b, struct bstage *bs, const sw_df_step *s, sw_error **err)
{
	const char *wd, *user;
	cleanup_free char *text = NULL;
	char key[SW_DIGEST_LEN + 1];
	int r;

	wd = s->workdir ? s->workdir : s->nargs ? s->args[0] : "/";
	if (!strcmp(wd, "/"))
		return meta_step(b, bs, s, err);
	if ((r = bcfg_apply(bs, s, err)) < 0)
		return r;
	user = bcfg_get_string(bs->config, "User");
	text = sw_xasprintf("WORKDIR\n%s\nuser=%s\n", wd, user ? user : "");
	bcache_key(key, bs->chain, text, strlen(text));
	return builder_fs_step(b, bs, s, key, false, workdir_change, NULL, err);
}

static int run_stage(struct builder *b, struct bstage *bs, size_t stage_no, size_t nstages, sw_error **err)
{
	const sw_df_stage *st = bs->st;
	cleanup_free char *from_text = sw_xasprintf("FROM %s%s%s", st->base_kind == SW_DF_BASE_SCRATCH ? "scratch" : st->base,
	                                            st->name ? " AS " : "", st->name ? st->name : "");
	double t0 = now();
	int r;

	(void)stage_no;
	(void)nstages;
	b->cur_stage = st;
	b->cur_nsteps = st->nsteps + 1;
	b->cur_step = 1;
	b->cur_text = from_text;
	b->number++;
	emit(b, SW_BUILD_EV_START, st->line, 0, NULL, 0);
	if ((r = stage_from(b, bs, err)) < 0) {
		emit(b, SW_BUILD_EV_ERROR, st->line, now() - t0, NULL, 0);
		return sw_error_wrap(err, "%s:%d: %s", b->dockerfile, st->line, from_text);
	}
	emit(b, SW_BUILD_EV_DONE, st->line, now() - t0, NULL, 0);

	for (size_t i = 0; i < st->nsteps; i++) {
		const sw_df_step *s = &st->steps[i];
		cleanup_free char *text = bcfg_display(s);
		b->cur_step = i + 2;
		b->cur_text = text;
		b->number++;
		t0 = now();
		b->last_cached = false;
		emit(b, SW_BUILD_EV_START, s->line, 0, NULL, 0);
		switch (s->kind) {
		case SW_DF_RUN:
			r = brun_step(b, bs, s, err);
			break;
		case SW_DF_COPY:
		case SW_DF_ADD:
			r = bcopy_step(b, bs, s, err);
			break;
		case SW_DF_WORKDIR:
			r = workdir_step(b, bs, s, err);
			break;
		default:
			r = meta_step(b, bs, s, err);
			break;
		}
		if (r < 0) {
			const char *out = b->fail_output ? b->fail_output : "";
			emit(b, SW_BUILD_EV_ERROR, s->line, now() - t0, out, strlen(out));
			b->cur_text = NULL;
			return sw_error_wrap(err, "%s:%d: step %zu/%zu (%s)", b->dockerfile, s->line, i + 2, st->nsteps + 1,
			                     text);
		}
		emit(b, b->last_cached ? SW_BUILD_EV_CACHED : SW_BUILD_EV_DONE, s->line, now() - t0, NULL, 0);
	}
	b->cur_text = NULL;
	bs->built = true;
	return 0;
}

/* ---- plan --------------------------------------------------------------- */

static int image_env(char ***out, const char *ref, const char *platform, void *payload, sw_error **err)
{
	struct builder *b = payload;
	sw_image *img = NULL;
	sw_error *e = NULL;
	json_t *env, *v;
	size_t i, n = 0;
	bool pulled;

	(void)platform;
	*out = NULL;
	/* FROM registry/name:tag that is not in the store yet (registry.h) */
	if (sw_registry_pull_if_missing(b->store, ref, &pulled, err) < 0)
		return sw_error_code(*err);
	if (sw_image_store_load(&img, b->store, ref, &e) < 0) {
		sw_error_free(e); /* reported when the stage runs */
		return 0;
	}
	env = json_object_get(json_object_get(img->config, "config"), "Env");
	char **v2 = sw_xcalloc(json_array_size(env) + 1, sizeof(char *));
	json_array_foreach(env, i, v) {
		if (json_is_string(v))
			v2[n++] = sw_xstrdup(json_string_value(v));
	}
	*out = v2;
	sw_image_free(img);
	return 0;
}

/* Splices the OnBuild triggers of base images in after their FROM lines,
 * as Docker runs them; returns 1 when something was added. */
static int splice_onbuild(struct builder *b, sw_df_file *f, sw_error **err)
{
	int added = 0;

	for (size_t si = 0; si < b->plan->nstages; si++) {
		const sw_df_stage *st = &b->plan->stages[si];
		sw_image *img = NULL;
		sw_error *e = NULL;
		if (st->base_kind != SW_DF_BASE_IMAGE)
			continue;
		if (sw_image_store_load(&img, b->store, st->base, &e) < 0) {
			sw_error_free(e);
			continue;
		}
		json_t *ob = json_object_get(json_object_get(img->config, "config"), "OnBuild");
		size_t at = f->ninstrs;
		for (size_t k = 0; k < f->ninstrs; k++)
			if (!strcmp(f->instrs[k].keyword, "from") && f->instrs[k].start_line == st->line)
				at = k + 1;
		for (size_t k = json_array_size(ob); k-- > 0 && at <= f->ninstrs;) {
			const char *t = json_string_value(json_array_get(ob, k));
			sw_df_file *tf = NULL;
			if (!t)
				continue;
			if (sw_df_parse(&tf, "ONBUILD trigger", t, strlen(t), err) < 0) {
				sw_image_free(img);
				return sw_error_wrap(err, "%s:%d: base image %s", b->dockerfile, st->line, st->base);
			}
			for (size_t m = 0; m < tf->ninstrs; m++) {
				const char *kw = tf->instrs[m].keyword;
				if (!strcmp(kw, "from") || !strcmp(kw, "onbuild") || !strcmp(kw, "maintainer")) {
					sw_df_file_free(tf);
					sw_image_free(img);
					return sw_error_set(err, SW_EINVALID, "%s:%d: base image %s: %s isn't allowed as an ONBUILD trigger",
					                    b->dockerfile, st->line, st->base, kw);
				}
				tf->instrs[m].start_line = tf->instrs[m].end_line = st->line;
			}
			f->instrs = sw_xreallocarray(f->instrs, f->ninstrs + tf->ninstrs, sizeof(*f->instrs));
			memmove(&f->instrs[at + tf->ninstrs], &f->instrs[at], (f->ninstrs - at) * sizeof(*f->instrs));
			memcpy(&f->instrs[at], tf->instrs, tf->ninstrs * sizeof(*f->instrs));
			f->ninstrs += tf->ninstrs;
			added = 1;
			tf->ninstrs = 0;
			sw_df_file_free(tf);
		}
		sw_image_free(img);
	}
	return added;
}

static void builder_release(struct builder *b)
{
	for (size_t i = 0; i < b->nstages; i++) {
		json_decref(b->stages[i].config);
		free(b->stages[i].layers);
	}
	free(b->stages);
	sw_df_plan_free(b->plan);
	sw_ignore_free(b->ignore);
	if (b->ctxfd >= 0)
		close(b->ctxfd);
	sw_layer_cache_free(b->lcache);
	free(b->work_dir);
	free(b->cache_dir);
	free(b->mount_cache_dir);
	free(b->ctx_dir);
	free(b->dockerfile);
	free(b->fail_output);
	json_decref(b->annotations);
}

static int write_image(struct builder *b, struct bstage *bs, sw_build_result *out, sw_error **err)
{
	cleanup_free sw_descriptor *ls = sw_xcalloc(bs->nlayers + 1, sizeof(*ls));
	cleanup_strv char **refs = sw_xcalloc(b->o->ntags + 1, sizeof(char *));
	sw_descriptor cfg;
	int r;

	for (size_t i = 0; i < b->o->ntags; i++)
		if ((r = sw_image_ref_normalize(&refs[i], b->o->tags[i], err)) < 0)
			return sw_error_wrap(err, "-t %s", b->o->tags[i]);
	bcfg_finish(bs->config, b->o->labels, b->o->nlabels);
	if ((r = sw_image_config_check(bs->config, bs->nlayers, "built image config", err)) < 0)
		return r;
	for (size_t i = 0; i < bs->nlayers; i++)
		ls[i] = bs->layers[i].blob;
	if ((r = sw_image_store_put_json(b->store, SW_MT_OCI_CONFIG, bs->config, &cfg, err)) < 0)
		return r;
	if (!b->annotations)
		b->annotations = json_object();
	for (size_t i = 0; i < b->o->nannotations; i++)
		json_object_set_new(b->annotations, b->o->annotations[i].key, json_string(b->o->annotations[i].value));
	if ((r = sw_image_store_put_manifest(b->store, &cfg, ls, bs->nlayers, b->annotations, &out->manifest,
	                                     err)) < 0)
		return r;
	if (b->o->ntags == 0)
		return sw_image_store_add_untagged(b->store, &out->manifest, err);
	for (size_t i = 0; i < b->o->ntags; i++)
		if ((r = sw_image_store_tag(b->store, refs[i], &out->manifest, err)) < 0)
			return sw_error_wrap(err, "tag %s", refs[i]);
	return 0;
}

static void git_warn(const char *msg, void *payload)
{
	struct builder *b = payload;
	emit(b, SW_BUILD_EV_WARNING, 0, 0, msg, strlen(msg));
}

/* The context folder: a git: source is materialised into git first (its
 * -f is relative to the context, as for a folder given as a path inside
 * it); a folder gets the git metadata of its work tree, if any. */
static int open_context(struct builder *b, struct bgit *git, sw_error **err)
{
	const sw_build_opts *o = b->o;
	const char *ctx = o->context_dir;
	char real[PATH_MAX];
	int r;

	if (!strncmp(ctx, "git:", 4)) {
		if (o->dockerfile) {
			cleanup_free char *c = sw_path_clean(o->dockerfile);
			if (!sw_path_is_beneath(c))
				return sw_error_set(err, SW_EESCAPE, "-f %s: must be a path inside the git context", o->dockerfile);
		}
		if ((r = bgit_materialise(git, b->work_dir, ctx + 4, git_warn, b, err)) < 0)
			return r;
		ctx = git->context;
		b->annotations = steal_pointer(&git->annotations);
	}
	if (!realpath(ctx, real))
		return sw_error_set_errno(err, errno, "build context %s", ctx);
	b->ctx_dir = sw_xstrdup(real);
	if (git->context)
		b->dockerfile = sw_xasprintf("%s/%s", b->ctx_dir, o->dockerfile ? o->dockerfile : "Dockerfile");
	else if ((r = bgit_describe_folder(&b->annotations, b->ctx_dir, err)) < 0)
		return sw_error_wrap(err, "build context %s", ctx);
	else
		b->dockerfile = o->dockerfile ? sw_xstrdup(o->dockerfile) : sw_xasprintf("%s/Dockerfile", b->ctx_dir);
	b->ctxfd = open(b->ctx_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (b->ctxfd < 0)
		return sw_error_set_errno(err, errno, "build context %s", b->ctx_dir);
	return 0;
}

int sw_build(sw_image_store *store, const char *state_dir, const sw_build_opts *opts, sw_build_result *out,
             sw_error **err)
{
	struct builder b = { .o = opts, .store = store, .state_dir = state_dir, .ctxfd = -1 };
	struct bgit git = { 0 };
	sw_df_file *f = NULL;
	sw_df_plan_opts po;
	cleanup_free char *ignore_path = NULL;
	char state_real[PATH_MAX];
	int r;

	memset(out, 0, sizeof(*out));
	/* runc resolves a relative rootfs against the bundle: keep paths absolute */
	if (!realpath(state_dir, state_real))
		return sw_error_set_errno(err, errno, "state dir %s", state_dir);
	b.state_dir = state_real;
	state_dir = state_real;
	b.work_dir = sw_xasprintf("%s/build", state_dir);
	b.cache_dir = sw_xasprintf("%s/build-cache", state_dir);
	b.mount_cache_dir = sw_xasprintf("%s/cache", state_dir);
	if ((r = sw_mkdir_p(b.work_dir, 0700, 0700, err)) < 0 || (r = sw_mkdir_p(b.cache_dir, 0700, 0700, err)) < 0 ||
	    (r = sw_mkdir_p(b.mount_cache_dir, 0700, 0700, err)) < 0)
		goto out;
	if ((r = open_context(&b, &git, err)) < 0)
		goto out;
	if ((r = sw_ignore_choose(&ignore_path, b.ctx_dir, b.dockerfile, err)) < 0 ||
	    (r = sw_ignore_load(&b.ignore, ignore_path, err)) < 0)
		goto out;

	if ((r = sw_df_parse_file(&f, b.dockerfile, err)) < 0)
		goto out;
	po = (sw_df_plan_opts){ .build_args = opts->build_args, .nbuild_args = opts->nbuild_args,
	                        .target = opts->target, .image_env = image_env, .payload = &b };
	if ((r = sw_df_plan_build(&b.plan, f, &po, err)) < 0)
		goto out;
	if ((r = splice_onbuild(&b, f, err)) < 0)
		goto out;
	if (r == 1) {
		sw_df_plan_free(b.plan);
		b.plan = NULL;
		if ((r = sw_df_plan_build(&b.plan, f, &po, err)) < 0)
			goto out;
	}
	b.nstages = b.plan->total_stages;
	b.stages = sw_xcalloc(b.nstages + 1, sizeof(*b.stages));
	for (size_t i = 0; i < b.plan->nstages; i++) {
		const sw_df_stage *st = &b.plan->stages[i];
		struct bstage *bs = &b.stages[st->index];
		bs->st = st;
		if ((r = run_stage(&b, bs, i + 1, b.plan->nstages, err)) < 0)
			goto out;
	}
	r = write_image(&b, &b.stages[b.plan->target], out, err);
	out->steps = b.steps;
	out->cached = b.cached;
out:
	sw_df_file_free(f);
	builder_release(&b);
	bgit_release(&git);
	return r < 0 ? r : 0;
}

/* ---- --output oci:DIR --------------------------------------------------- */

static int copy_blob(sw_image_store *from, sw_image_store *to, const sw_descriptor *d, sw_error **err)
{
	sw_descriptor got;
	int fd, r;

	if (sw_image_store_has_blob(to, d->digest))
		return 0;
	if ((fd = sw_image_store_open_blob(from, d->digest, NULL, err)) < 0)
		return fd;
	r = sw_image_store_put_blob_fd(to, d->media_type, fd, d->digest, &got, err);
	close(fd);
	return r;
}

int sw_build_output_oci(sw_image_store *store, const char *ref, const char *dir, const char *tag, sw_error **err)
{
	sw_image_store *to = NULL;
	sw_image *img = NULL;
	sw_descriptor m;
	const char *mt;
	int r;

	if ((r = sw_image_store_load(&img, store, ref, err)) < 0)
		return r;
	if ((r = sw_image_store_open_layout(&to, dir, err)) < 0)
		goto out;
	for (size_t i = 0; r == 0 && i < img->nlayers; i++)
		r = copy_blob(store, to, &img->layers[i], err);
	if (r == 0)
		r = copy_blob(store, to, &img->config_desc, err);
	memset(&m, 0, sizeof(m));
	mt = json_string_value(json_object_get(img->manifest, "mediaType"));
	snprintf(m.media_type, sizeof(m.media_type), "%s", mt ? mt : SW_MT_OCI_MANIFEST);
	snprintf(m.digest, sizeof(m.digest), "%s", img->digest);
	m.size = img->manifest_size;
	if (r == 0)
		r = copy_blob(store, to, &m, err);
	if (r == 0)
		r = tag ? sw_image_store_tag(to, tag, &m, err) : sw_image_store_add_untagged(to, &m, err);
out:
	sw_image_store_free(to);
	sw_image_free(img);
	return r;
}
