/*
 * builder_run.c - RUN: the command line (exec form, SHELL + shell form,
 * heredocs with BuildKit's rules), the stage's env/user/workdir, the
 * network, RUN --mount (cache, secret, bind, tmpfs), the cache key, and
 * failure reports (exit code and the last lines of output).
 *
 * Secrets: copied to a file on /dev/shm (tmpfs) only for the run and bound
 * read-only; neither their content nor their env= value enters the key,
 * a layer or the history. Cache mounts live under STATE/cache/<id hash> and
 * never enter the key or a layer. Mount points runc creates for mounts are
 * removed from the upper dir before the diff, so layers carry no stubs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder_int.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/mem.h"
#include "slipway/path.h"
#include "slipway/statedir.h"

#define TAIL_MAX 8192
#define TAIL_LINES 10
#define SECRET_MAX (16u << 20)

struct run_ctx {
	char **argv;
	size_t nargv;
	char **env;              /* for the key and the container */
	size_t nenv;
	char **secret_env;       /* env= secrets: never in the key */
	size_t nsecret_env;
	bool network_none;
	char *script;            /* heredoc with #!: its body */
	char *script_name;
	/* while running */
	sw_run_mount *mounts;
	size_t nmounts;
	char **paths;            /* strings the mounts point at */
	size_t npaths;
	char **remove;           /* temp files/dirs to remove afterwards */
	size_t nremove;
	sw_rootfs **overlays;
	size_t noverlays;
	int *locks;
	size_t nlocks;
	char **stubs;            /* mount points that did not exist */
	size_t nstubs;
	sw_buf tail;
	struct builder *b;
};

static void push(char ***v, size_t *n, char *s)
{
	*v = sw_xreallocarray(*v, *n + 2, sizeof(char *));
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

static const char *keep(struct run_ctx *c, char *s)
{
	push(&c->paths, &c->npaths, s);
	return s;
}

static void run_ctx_release(struct run_ctx *c)
{
	sw_strv_free(c->argv);
	sw_strv_free(c->env);
	for (size_t i = 0; i < c->nsecret_env; i++)
		explicit_bzero(c->secret_env[i], strlen(c->secret_env[i]));
	sw_strv_free(c->secret_env);
	free(c->script);
	free(c->script_name);
	free(c->mounts);
	sw_strv_free(c->paths);
	sw_strv_free(c->remove);
	free(c->overlays);
	free(c->locks);
	sw_strv_free(c->stubs);
	sw_buf_release(&c->tail);
}

/* "<<EOF", "<<-EOF", "<<'EOF'", "<<\"EOF\"" with nothing else */
static bool heredoc_only(const char *cmd, const char *name)
{
	const char *p = cmd;
	size_t n = strlen(name);

	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, "<<", 2))
		return false;
	p += 2;
	if (*p == '-')
		p++;
	char q = (*p == '"' || *p == '\'') ? *p++ : 0;
	if (strncmp(p, name, n))
		return false;
	p += n;
	if (q && *p++ != q)
		return false;
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	return !*p;
}

static char *strip_tabs(const char *s)
{
	sw_buf b = SW_BUF_INIT(0);
	bool bol = true;

	for (; *s; s++) {
		if (bol && *s == '\t')
			continue;
		bol = *s == '\n';
		(void)sw_buf_addc(&b, *s, NULL);
	}
	return sw_buf_detach(&b);
}

static void build_argv(struct run_ctx *c, const sw_df_step *s)
{
	if (s->json) {
		for (size_t i = 0; i < s->nargs; i++)
			push(&c->argv, &c->nargv, sw_xstrdup(s->args[i]));
		return;
	}
	if (s->ninlines == 1 && s->nargs == 1 && heredoc_only(s->args[0], s->inlines[0].name)) {
		/* BuildKit: the heredoc is the script; a #! line picks the interpreter */
		char *body = s->inlines[0].chomp ? strip_tabs(s->inlines[0].data) : sw_xstrdup(s->inlines[0].data);
		if (!strncmp(body, "#!", 2)) {
			c->script = body;
			c->script_name = sw_xasprintf("/dev/pipes/%s", s->inlines[0].name);
			push(&c->argv, &c->nargv, sw_xstrdup(c->script_name));
			return;
		}
		for (size_t i = 0; i < s->nshell; i++)
			push(&c->argv, &c->nargv, sw_xstrdup(s->shell[i]));
		push(&c->argv, &c->nargv, body);
		return;
	}
	sw_buf cmd = SW_BUF_INIT(0);
	(void)sw_buf_addstr(&cmd, s->nargs ? s->args[0] : "", NULL);
	/* other heredocs are the shell's to read: pass them through */
	for (size_t i = 0; i < s->ninlines; i++)
		(void)sw_buf_printf(&cmd, NULL, "\n%s%s", s->inlines[i].data, s->inlines[i].name);
	for (size_t i = 0; i < s->nshell; i++)
		push(&c->argv, &c->nargv, sw_xstrdup(s->shell[i]));
	push(&c->argv, &c->nargv, sw_buf_detach(&cmd));
}

static const sw_build_secret *find_secret(struct builder *b, const char *id)
{
	for (size_t i = 0; i < b->o->nsecrets; i++)
		if (!strcmp(b->o->secrets[i].id, id))
			return &b->o->secrets[i];
	return NULL;
}

static int add_mount(struct run_ctx *c, const char *type, const char *source, const char *target, bool ro,
                     uint32_t mode, int64_t size)
{
	c->mounts = sw_xreallocarray(c->mounts, c->nmounts + 1, sizeof(*c->mounts));
	c->mounts[c->nmounts++] = (sw_run_mount){ .type = type, .source = source, .target = target,
	                                           .readonly = ro, .mode = mode, .size = size };
	return 0;
}

/* Records the missing components of target so the stubs runc creates for
 * the mount point can be removed after the run (deepest first). */
static void note_stubs(struct run_ctx *c, int rootfd, const char *target)
{
	cleanup_free char *clean = sw_path_clean(target);
	size_t n = strlen(clean);
	char **missing = NULL;
	size_t nm = 0;

	for (size_t i = 1; i <= n; i++) {
		if (i < n && clean[i] != '/')
			continue;
		char save = clean[i];
		clean[i] = 0;
		sw_error *err = NULL;
		int fd = sw_path_open_under(rootfd, clean, O_PATH | O_NOFOLLOW, 0, SW_RESOLVE_IN_ROOT, &err);
		if (fd >= 0) {
			close(fd);
		} else {
			sw_error_free(err);
			push(&missing, &nm, sw_xstrdup(clean));
		}
		clean[i] = save;
	}
	for (size_t i = nm; i-- > 0;)
		push(&c->stubs, &c->nstubs, missing[i]);
	free(missing);
}

static void remove_stubs(struct run_ctx *c, int rootfd)
{
	for (size_t i = 0; i < c->nstubs; i++) {
		cleanup_free char *d = sw_xstrdup(c->stubs[i]);
		char *slash = strrchr(d, '/');
		sw_error *err = NULL;
		if (!slash)
			continue;
		*slash = 0;
		int pfd = sw_path_open_under(rootfd, *d ? d : "/", O_PATH | O_DIRECTORY, 0, SW_RESOLVE_IN_ROOT, &err);
		if (pfd < 0) {
			sw_error_free(err);
			continue;
		}
		struct stat st;
		if (fstatat(pfd, slash + 1, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (S_ISDIR(st.st_mode))
				(void)unlinkat(pfd, slash + 1, AT_REMOVEDIR); /* only if empty */
			else if (S_ISREG(st.st_mode) && st.st_size == 0)
				(void)unlinkat(pfd, slash + 1, 0);
		}
		close(pfd);
	}
}

/* The host path of rel resolved in a root (for a bind mount's source). */
static int host_path(char **out, int rootfd, const char *rel, unsigned resolve, sw_error **err)
{
	char proc[64], buf[4096];
	int fd = sw_path_open_under(rootfd, *rel ? rel : ".", O_PATH, 0, resolve, err);
	ssize_t n;

	if (fd < 0)
		return fd;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return sw_error_set_errno(err, errno, "%s: readlink", rel);
	buf[n] = 0;
	*out = sw_xstrdup(buf);
	return 0;
}

static int secret_mount(struct run_ctx *c, struct builder *b, const sw_df_mount *m, sw_error **err)
{
	const sw_build_secret *sec = find_secret(b, m->id);
	cleanup_free char *data = NULL;
	size_t len = 0;

	if (!sec) {
		if (m->required)
			return sw_error_set(err, SW_ENOTFOUND, "secret %s: not given (slipway build --secret id=%s,src=FILE)",
			                    m->id, m->id);
		return 0;
	}
	if (sw_read_file(&data, &len, sec->src, SECRET_MAX, err) < 0)
		return sw_error_wrap(err, "secret %s", m->id);
	if (m->env) {
		push(&c->secret_env, &c->nsecret_env, sw_xasprintf("%s=%.*s", m->env, (int)len, data));
		explicit_bzero(data, len);
		if (!m->target || !*m->target)
			return 0;
	}
	char tmpl[] = "/dev/shm/slipway-secret-XXXXXX";
	int fd = mkstemp(tmpl);
	if (fd < 0) {
		explicit_bzero(data, len);
		return sw_error_set_errno(err, errno, "secret %s: temp file on /dev/shm", m->id);
	}
	push(&c->remove, &c->nremove, sw_xstrdup(tmpl));
	bool ok = write(fd, data, len) == (ssize_t)len &&
	          fchown(fd, m->has_uid ? m->uid : 0, m->has_gid ? m->gid : 0) == 0 &&
	          fchmod(fd, m->has_mode ? m->mode : 0400) == 0;
	int e = errno;
	close(fd);
	explicit_bzero(data, len);
	if (!ok)
		return sw_error_set_errno(err, e, "secret %s", m->id);
	return add_mount(c, "bind", keep(c, sw_xstrdup(tmpl)), m->target_abs, true, 0, 0);
}

static int cache_mount(struct run_ctx *c, struct builder *b, const sw_df_mount *m, sw_error **err)
{
	char h[SW_DIGEST_LEN + 1];
	char *dir;
	struct stat st;

	sw_digest_bytes(h, m->id, strlen(m->id));
	dir = sw_xasprintf("%s/%.32s", b->mount_cache_dir, h + 7);
	keep(c, dir);
	if (stat(dir, &st) < 0) {
		if (sw_mkdir_p(dir, 0700, m->has_mode ? m->mode : 0755, err) < 0)
			return sw_error_code(*err);
		if (chown(dir, m->has_uid ? m->uid : 0, m->has_gid ? m->gid : 0) < 0 ||
		    chmod(dir, m->has_mode ? m->mode : 0755) < 0)
			return sw_error_set_errno(err, errno, "cache mount %s", dir);
	}
	if (m->sharing != SW_DF_SHARING_SHARED) {
		cleanup_free char *lp = sw_xasprintf("%s.lock", dir);
		int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0 || flock(fd, LOCK_EX) < 0) {
			if (fd >= 0)
				close(fd);
			return sw_error_set_errno(err, errno, "cache mount lock %s", lp);
		}
		c->locks = sw_xreallocarray(c->locks, c->nlocks + 1, sizeof(int));
		c->locks[c->nlocks++] = fd;
	}
	return add_mount(c, "bind", dir, m->target_abs, m->readonly, 0, 0);
}

static int bind_mount(struct run_ctx *c, struct builder *b, const sw_df_mount *m, sw_error **err)
{
	char *src = NULL;
	const char *rel = m->source && *m->source ? m->source : "/";
	int r;

	if (m->from_kind == SW_DF_REF_NONE) {
		while (*rel == '/')
			rel++;
		r = host_path(&src, b->ctxfd, rel, SW_RESOLVE_BENEATH, err);
	} else {
		sw_rootfs *from = NULL;
		if ((r = builder_mount_ref(b, m->from_kind, m->from_stage, m->from, &from, err)) < 0)
			return r;
		c->overlays = sw_xreallocarray(c->overlays, c->noverlays + 1, sizeof(*c->overlays));
		c->overlays[c->noverlays++] = from;
		cleanup_close int fd = open(sw_rootfs_path(from), O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return sw_error_set_errno(err, errno, "open %s", sw_rootfs_path(from));
		r = host_path(&src, fd, rel, SW_RESOLVE_IN_ROOT, err);
	}
	if (r < 0)
		return sw_error_wrap(err, "bind mount source %s", rel);
	keep(c, src);
	if (!m->readonly) {
		/* writes to a rw bind mount are thrown away: an overlay over it */
		struct stat st;
		if (stat(src, &st) == 0 && S_ISDIR(st.st_mode)) {
			char *wd = NULL;
			sw_rootfs *o = NULL;
			const char *lowers[] = { src };
			if (builder_tmpdir(b, &wd, err) < 0)
				return sw_error_code(*err);
			push(&c->remove, &c->nremove, wd);
			if (sw_rootfs_mount(&o, wd, lowers, 1, err) < 0)
				return sw_error_code(*err);
			c->overlays = sw_xreallocarray(c->overlays, c->noverlays + 1, sizeof(*c->overlays));
			c->overlays[c->noverlays++] = o;
			src = (char *)keep(c, sw_xstrdup(sw_rootfs_path(o)));
		}
	}
	return add_mount(c, "bind", src, m->target_abs, m->readonly, 0, 0);
}

static void on_output(const char *data, size_t len, void *payload)
{
	struct run_ctx *c = payload;

	builder_output(c->b, data, len);
	if (c->tail.len + len > TAIL_MAX) {
		size_t drop = c->tail.len + len > TAIL_MAX * 2 ? c->tail.len : c->tail.len / 2;
		memmove(c->tail.data, c->tail.data + drop, c->tail.len - drop);
		sw_buf_truncate(&c->tail, c->tail.len - drop);
	}
	(void)sw_buf_add(&c->tail, data, len > TAIL_MAX ? TAIL_MAX : len, NULL);
}

static char *last_lines(const sw_buf *t)
{
	size_t n = t->len, lines = 0;

	if (!n)
		return sw_xstrdup("");
	if (t->data[n - 1] == '\n')
		n--;
	size_t i = n;
	while (i > 0) {
		if (t->data[i - 1] == '\n' && ++lines == TAIL_LINES)
			break;
		i--;
	}
	return sw_xasprintf("%.*s\n", (int)(n - i), t->data + i);
}

static int run_change(struct builder *b, struct bstage *st, const sw_df_step *s, const char *root,
                      void *payload, sw_error **err)
{
	struct run_ctx *c = payload;
	const char *user = bcfg_get_string(st->config, "User");
	const char *wd = bcfg_get_string(st->config, "WorkingDir");
	cleanup_close int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cleanup_free char *bundle = NULL;
	cleanup_strv char **env = NULL;
	size_t nenv = 0;
	sw_run_result res = { 0 };
	uid_t uid = 0;
	gid_t gid = 0;
	int r = 0;

	c->b = b;
	if (rootfd < 0)
		return sw_error_set_errno(err, errno, "open %s", root);
	if (user && *user && (r = sw_rootfs_lookup_user(root, user, &uid, &gid, err)) < 0)
		return sw_error_wrap(err, "USER %s", user);
	for (size_t i = 0; r == 0 && i < s->nmounts; i++) {
		const sw_df_mount *m = &s->mounts[i];
		switch (m->type) {
		case SW_DF_MOUNT_CACHE:
			r = cache_mount(c, b, m, err);
			break;
		case SW_DF_MOUNT_SECRET:
			r = secret_mount(c, b, m, err);
			break;
		case SW_DF_MOUNT_BIND:
			r = bind_mount(c, b, m, err);
			break;
		case SW_DF_MOUNT_TMPFS:
			r = add_mount(c, "tmpfs", NULL, m->target_abs, false, 0, m->size);
			break;
		case SW_DF_MOUNT_SSH:
			if (m->required)
				r = sw_error_set(err, SW_EINVALID, "RUN --mount=type=ssh is not supported by slipway");
			break;
		}
	}
	if (r == 0 && c->script) {
		char *dir = NULL;
		if ((r = builder_tmpdir(b, &dir, err)) == 0) {
			push(&c->remove, &c->nremove, dir);
			char *f = sw_xasprintf("%s/script", dir);
			keep(c, f);
			if ((r = sw_write_file_atomic(f, c->script, strlen(c->script), 0755, err)) == 0)
				r = add_mount(c, "bind", f, c->script_name, true, 0, 0);
		}
	}
	for (size_t i = 0; r == 0 && i < c->nmounts; i++)
		note_stubs(c, rootfd, c->mounts[i].target);
	for (size_t i = 0; i < c->nenv; i++)
		push(&env, &nenv, sw_xstrdup(c->env[i]));
	for (size_t i = 0; i < c->nsecret_env; i++)
		push(&env, &nenv, sw_xstrdup(c->secret_env[i]));
	if (r == 0)
		r = builder_tmpdir(b, &bundle, err);
	if (r == 0) {
		sw_run_spec spec = {
			.rootfs = root,
			.argv = (const char *const *)c->argv,
			.env = (const char *const *)(env ? env : (char *[]){ NULL }),
			.cwd = wd && *wd ? wd : "/",
			.uid = uid,
			.gid = gid,
			.network_none = c->network_none,
			.mounts = c->mounts,
			.nmounts = c->nmounts,
			.timeout_ms = b->o->timeout_ms,
			.bundle_dir = bundle,
			.output = on_output,
			.payload = c,
		};
		r = sw_run_container(&spec, &res, err);
	}
	if (bundle)
		builder_rm_tree(bundle);
	for (size_t i = 0; env && i < nenv; i++)
		explicit_bzero(env[i], strlen(env[i]));
	for (size_t i = 0; i < c->noverlays; i++)
		sw_rootfs_free(c->overlays[i]);
	c->noverlays = 0;
	for (size_t i = 0; i < c->nremove; i++) {
		struct stat sb;
		if (lstat(c->remove[i], &sb) == 0 && S_ISDIR(sb.st_mode))
			builder_rm_tree(c->remove[i]);
		else
			unlink(c->remove[i]);
	}
	for (size_t i = 0; i < c->nlocks; i++)
		close(c->locks[i]);
	c->nlocks = 0;
	remove_stubs(c, rootfd);
	if (r < 0)
		return r;
	if (res.timed_out || res.exit_code != 0) {
		free(b->fail_output);
		b->fail_output = last_lines(&c->tail);
		if (res.timed_out)
			return sw_error_set(err, SW_EFAIL, "timed out after %.3gs (--timeout); the container was killed",
			                    b->o->timeout_ms / 1000.0);
		if (res.exit_code < 0)
			return sw_error_set(err, SW_EFAIL, "killed by signal %d", res.term_signal);
		return sw_error_set(err, SW_EFAIL, "exit code %d", res.exit_code);
	}
	return 0;
}

int brun_step(struct builder *b, struct bstage *st, const sw_df_step *s, sw_error **err)
{
	struct run_ctx c = { .tail = SW_BUF_INIT(0) };
	sw_buf key = SW_BUF_INIT(0);
	const char *user = bcfg_get_string(st->config, "User");
	const char *wd = bcfg_get_string(st->config, "WorkingDir");
	char kd[SW_DIGEST_LEN + 1];
	int r = 0;

	build_argv(&c, s);
	for (size_t i = 0; i < s->nenv; i++)
		if (s->env[i].value)
			push(&c.env, &c.nenv, sw_xasprintf("%s=%s", s->env[i].key, s->env[i].value));
	for (size_t i = 0; i < b->plan->nproxy; i++)
		if (b->plan->proxy[i].value)
			push(&c.env, &c.nenv, sw_xasprintf("%s=%s", b->plan->proxy[i].key, b->plan->proxy[i].value));
	c.network_none = b->o->network_none || (s->network && !strcmp(s->network, "none"));

	/* the key: the command, env (build args in scope included), user,
	 * workdir, network and mount specs; never secret or cache contents */
	(void)sw_buf_printf(&key, NULL, "RUN\nuser=%s\nworkdir=%s\nnetwork=%s\n", user ? user : "", wd ? wd : "",
	                    c.network_none ? "none" : "default");
	for (size_t i = 0; i < c.nargv; i++)
		(void)sw_buf_printf(&key, NULL, "arg %zu\n%s\n", strlen(c.argv[i]), c.argv[i]);
	if (c.script)
		(void)sw_buf_printf(&key, NULL, "script %zu\n%s\n", strlen(c.script), c.script);
	for (size_t i = 0; i < c.nenv; i++)
		(void)sw_buf_printf(&key, NULL, "env %s\n", c.env[i]);
	for (size_t i = 0; i < s->nmounts && r == 0; i++) {
		const sw_df_mount *m = &s->mounts[i];
		(void)sw_buf_printf(&key, NULL, "mount %d %s %s %s %s ro=%d mode=%o uid=%u gid=%u size=%lld env=%s\n",
		                    (int)m->type, m->target_abs, m->source, m->from, m->id, m->readonly,
		                    m->has_mode ? m->mode : 0, m->has_uid ? m->uid : 0, m->has_gid ? m->gid : 0,
		                    (long long)m->size, m->env ? m->env : "");
		if (m->type != SW_DF_MOUNT_BIND)
			continue;
		if (m->from_kind != SW_DF_REF_NONE) {
			char ref[SW_DIGEST_LEN + 1];
			if ((r = builder_ref_key(b, m->from_kind, m->from_stage, m->from, ref, err)) == 0)
				(void)sw_buf_printf(&key, NULL, "from %s\n", ref);
		} else {
			/* a bind from the context: its content is an input */
			struct bwalk src = { .rootfd = b->ctxfd, .resolve = SW_RESOLVE_BENEATH };
			char content[SW_DIGEST_LEN + 1];
			const char *rel = m->source && *m->source ? m->source : ".";
			cleanup_free char *clean = NULL;
			while (*rel == '/')
				rel++;
			clean = sw_path_clean(*rel ? rel : ".");
			sw_sha256 *h = sw_sha256_new();
			r = bctx_hash(&src, strcmp(clean, ".") ? clean : "", h, err);
			sw_sha256_final(h, content);
			sw_sha256_free(h);
			if (r == 0)
				(void)sw_buf_printf(&key, NULL, "content %s\n", content);
			else
				(void)sw_error_wrap(err, "bind mount source %s", rel);
		}
	}
	if (r == 0) {
		bcache_key(kd, st->chain, key.data, key.len);
		r = builder_fs_step(b, st, s, kd, false, run_change, &c, err);
	}
	sw_buf_release(&key);
	run_ctx_release(&c);
	return r;
}
