/*
 * builder_copy.c - COPY and ADD: sources from the context (after
 * .dockerignore), another stage or an image (--from), heredocs, URLs and
 * local archives (ADD, see builder_add.c), with Docker's rules for the
 * destination (relative to WORKDIR; a trailing '/' or an existing folder
 * takes the source's name; several sources or a wildcard need a folder; a
 * folder's contents are copied, not the folder), --chown, --chmod, --link,
 * --parents and --exclude.
 *
 * Every write goes through the bw_* helpers: paths are resolved in the
 * destination root with openat2(RESOLVE_IN_ROOT) and only the last
 * component is created, with *at() calls relative to its parent, so no
 * symlink or ".." in the image can redirect a write outside it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder_int.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/digest.h"
#include "slipway/mem.h"
#include "slipway/path.h"

/* ---- writing into a root ------------------------------------------------ */

/* Splits an absolute in-root path into its parent (opened in the root) and
 * its last component. */
static int open_parent(const struct bwriter *w, const char *path, char **name, sw_error **err)
{
	cleanup_free char *clean = sw_path_clean(path);
	char *slash = strrchr(clean, '/');
	int fd;

	if (!slash || !slash[1] || !strcmp(slash + 1, "..") || !strcmp(slash + 1, "."))
		return sw_error_set(err, SW_EINVALID, "%s: not a path to a file", path);
	*slash = 0;
	if (bw_mkdir_p(w, *clean ? clean : "/", err) < 0)
		return sw_error_code(*err);
	fd = sw_path_open_under(w->rootfd, *clean ? clean : "/", O_PATH | O_DIRECTORY, 0, SW_RESOLVE_IN_ROOT, err);
	if (fd < 0)
		return sw_error_wrap(err, "%s", path);
	*name = sw_xstrdup(slash + 1);
	return fd;
}

bool bw_is_dir(const struct bwriter *w, const char *path)
{
	sw_error *err = NULL;
	struct stat st;
	int fd = sw_path_open_under(w->rootfd, path, O_PATH, 0, SW_RESOLVE_IN_ROOT, &err);
	bool dir;

	if (fd < 0) {
		sw_error_free(err);
		return false;
	}
	dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
	close(fd);
	return dir;
}

#define BW_MAX_LINKS 40

static int mkdir_p(const struct bwriter *w, const char *path, int links, sw_error **err)
{
	cleanup_free char *clean = sw_path_clean(path);
	size_t n = strlen(clean);

	for (size_t i = 1; i <= n; i++) {
		if (i < n && clean[i] != '/')
			continue;
		char save = clean[i];
		clean[i] = 0;
		if (!bw_is_dir(w, clean)) {
			cleanup_free char *name = NULL;
			cleanup_close int pfd = open_parent(w, clean, &name, err);
			char target[4096];
			ssize_t k;
			if (pfd < 0)
				return sw_error_code(*err);
			/* a dangling symlink: make its target, resolved in the root
			 * (as a chroot would), never outside it */
			if ((k = readlinkat(pfd, name, target, sizeof(target) - 1)) >= 0) {
				cleanup_free char *dir = sw_xstrdup(clean), *next = NULL;
				if (links >= BW_MAX_LINKS)
					return sw_error_set(err, SW_EINVALID, "mkdir %s: too many levels of symbolic links", path);
				target[k] = 0;
				*strrchr(dir, '/') = 0;
				clean[i] = save;
				next = sw_xasprintf("%s/%s%s", target[0] == '/' ? "" : dir, target, clean + i);
				return mkdir_p(w, next, links + 1, err);
			}
			if (mkdirat(pfd, name, 0755) < 0)
				return sw_error_set_errno(err, errno, "mkdir %s", clean);
			if (fchownat(pfd, name, w->uid, w->gid, AT_SYMLINK_NOFOLLOW) < 0)
				return sw_error_set_errno(err, errno, "chown %s", clean);
		}
		clean[i] = save;
	}
	return 0;
}

int bw_mkdir_p(const struct bwriter *w, const char *path, sw_error **err)
{
	return mkdir_p(w, path, 0, err);
}

int bw_dir(const struct bwriter *w, const char *path, mode_t mode, uid_t uid, gid_t gid, sw_error **err)
{
	cleanup_free char *name = NULL;
	cleanup_close int pfd = -1;
	struct stat st;

	if (bw_is_dir(w, path))
		return 0;
	if ((pfd = open_parent(w, path, &name, err)) < 0)
		return sw_error_code(*err);
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && unlinkat(pfd, name, 0) < 0)
		return sw_error_set_errno(err, errno, "replace %s", path);
	if (mkdirat(pfd, name, 0700) < 0)
		return sw_error_set_errno(err, errno, "mkdir %s", path);
	if (fchownat(pfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 || fchmodat(pfd, name, mode & 07777, 0) < 0)
		return sw_error_set_errno(err, errno, "set owner and mode of %s", path);
	return 0;
}

/* Removes whatever is at name (a folder only if empty: Docker refuses to
 * replace a folder with a file). */
static int replace(int pfd, const char *name, const char *path, sw_error **err)
{
	struct stat st;

	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (unlinkat(pfd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
		return sw_error_set_errno(err, errno, "cannot replace %s", path);
	return 0;
}

int bw_file(const struct bwriter *w, const char *path, int fd, const void *data, int64_t size, mode_t mode,
            uid_t uid, gid_t gid, sw_error **err)
{
	cleanup_free char *name = NULL;
	cleanup_close int pfd = -1, out = -1;
	off_t off = 0;

	if ((pfd = open_parent(w, path, &name, err)) < 0)
		return sw_error_code(*err);
	if (replace(pfd, name, path, err) < 0)
		return sw_error_code(*err);
	out = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return sw_error_set_errno(err, errno, "create %s", path);
	if (data) {
		for (int64_t done = 0; done < size;) {
			ssize_t k = write(out, (const char *)data + done, (size_t)(size - done));
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				return sw_error_set_errno(err, errno, "write %s", path);
			done += k;
		}
	} else {
		while (off < size) {
			ssize_t k = sendfile(out, fd, &off, (size_t)(size - off));
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				return sw_error_set_errno(err, errno, "write %s", path);
			if (k == 0)
				return sw_error_set(err, SW_EFAIL, "%s: source shrank while copying", path);
		}
	}
	/* chown first: it clears setuid/setgid bits a chmod would set */
	if (fchown(out, uid, gid) < 0 || fchmod(out, mode & 07777) < 0)
		return sw_error_set_errno(err, errno, "set owner and mode of %s", path);
	return 0;
}

int bw_symlink(const struct bwriter *w, const char *path, const char *target, uid_t uid, gid_t gid,
               sw_error **err)
{
	cleanup_free char *name = NULL;
	cleanup_close int pfd = -1;

	if ((pfd = open_parent(w, path, &name, err)) < 0)
		return sw_error_code(*err);
	if (replace(pfd, name, path, err) < 0)
		return sw_error_code(*err);
	if (symlinkat(target, pfd, name) < 0)
		return sw_error_set_errno(err, errno, "symlink %s", path);
	if (fchownat(pfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return sw_error_set_errno(err, errno, "chown %s", path);
	return 0;
}

int bw_hardlink(const struct bwriter *w, const char *path, const char *target, sw_error **err)
{
	cleanup_free char *name = NULL, *tname = NULL;
	cleanup_close int pfd = -1, tfd = -1;
	struct stat st;

	if ((tfd = open_parent(w, target, &tname, err)) < 0)
		return sw_error_code(*err);
	if (fstatat(tfd, tname, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode))
		return sw_error_set(err, SW_EINVALID, "hard link %s: target %s is not a file of the archive",
		                    path, target);
	if ((pfd = open_parent(w, path, &name, err)) < 0)
		return sw_error_code(*err);
	if (replace(pfd, name, path, err) < 0)
		return sw_error_code(*err);
	if (linkat(tfd, tname, pfd, name, 0) < 0)
		return sw_error_set_errno(err, errno, "hard link %s", path);
	return 0;
}

/* ---- the step ----------------------------------------------------------- */

struct copy_ctx {
	const sw_df_step *s;
	bool add;
	char *dest;            /* absolute in the image */
	bool dest_dir;         /* ends with '/' */
	bool has_chmod;
	mode_t chmod;
	char **items;          /* context sources (glob results); --from: patterns */
	size_t nitems;
	bool wildcard;
	int *url_fds;          /* ADD URL downloads, by source index (-1: not
	                          fetched yet, or not a URL) */
	int64_t *url_sizes;
	sw_rootfs *from;       /* --from: the stage or image, mounted */
	int from_fd;
	sw_ignore *exclude;    /* --exclude, for --from */
	/* while copying */
	struct bwriter w;
	bool has_chown;
	uid_t uid;
	gid_t gid;
	bool keep_owner;       /* --from: files keep their owners */
	const char *item;
	char *base;            /* where the current source's top goes */
	bool unpacked;
};

static void copy_ctx_release(struct copy_ctx *c)
{
	free(c->dest);
	sw_strv_free(c->items);
	if (c->url_fds)
		for (size_t i = 0; i + 1 < c->s->nargs; i++)
			if (c->url_fds[i] >= 0)
				close(c->url_fds[i]);
	free(c->url_fds);
	free(c->url_sizes);
	free(c->base);
	if (c->from_fd >= 0)
		close(c->from_fd);
	sw_rootfs_free(c->from);
	sw_ignore_free(c->exclude);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static char *path_join(const char *a, const char *b)
{
	size_t n = strlen(a);
	return sw_xasprintf("%s%s%s", a, n && a[n - 1] == '/' ? "" : "/", b);
}

/* --parents keeps the source's path; "a/./b/c" keeps "b/c" (BuildKit) */
static const char *parents_part(const char *item)
{
	const char *pivot = strstr(item, "/./");
	return pivot ? pivot + 3 : item;
}

static int copy_entry(const struct bwalk_entry *e, void *payload, sw_error **err)
{
	struct copy_ctx *c = payload;
	const sw_df_step *s = c->s;
	uid_t uid = c->has_chown ? c->uid : c->keep_owner ? e->st.st_uid : 0;
	gid_t gid = c->has_chown ? c->gid : c->keep_owner ? e->st.st_gid : 0;
	mode_t mode = c->has_chmod ? c->chmod : e->st.st_mode & 07777;
	cleanup_free char *target = NULL;

	if (!*e->rel) {
		free(c->base);
		if (S_ISDIR(e->st.st_mode))
			c->base = s->parents && *c->item ? path_join(c->dest, parents_part(c->item)) : sw_xstrdup(c->dest);
		else if (s->parents)
			c->base = path_join(c->dest, parents_part(c->item));
		else if (c->dest_dir || bw_is_dir(&c->w, c->dest))
			c->base = path_join(c->dest, base_name(c->item));
		else
			c->base = sw_xstrdup(c->dest);
		/* ADD unpacks local tar archives into the destination folder */
		if (c->add && !s->from && S_ISREG(e->st.st_mode) && s->unpack != 0 && badd_is_archive(e->fd)) {
			c->unpacked = true;
			return badd_extract(&c->w, e->fd, c->dest, c->has_chown, c->uid, c->gid, c->item, err);
		}
		target = sw_xstrdup(c->base);
	} else {
		target = path_join(c->base, e->rel);
	}
	if (S_ISDIR(e->st.st_mode)) {
		if (!*e->rel && bw_is_dir(&c->w, target))
			return 0; /* an existing destination folder keeps its attributes */
		return bw_dir(&c->w, target, mode, uid, gid, err);
	}
	if (S_ISREG(e->st.st_mode))
		return bw_file(&c->w, target, e->fd, NULL, e->st.st_size, mode, uid, gid, err);
	if (S_ISLNK(e->st.st_mode))
		return bw_symlink(&c->w, target, e->link, uid, gid, err);
	return sw_error_set(err, SW_EINVALID, "%s: refusing to copy a fifo", e->rel);
}

static int parse_chown_numeric(const char *spec, uid_t *uid, gid_t *gid)
{
	char *end;
	unsigned long u = strtoul(spec, &end, 10), g;

	if (end == spec || (*end && *end != ':'))
		return -1;
	g = u;
	if (*end == ':') {
		const char *gs = end + 1;
		g = strtoul(gs, &end, 10);
		if (end == gs || *end)
			return -1;
	}
	if (u > 0xfffffffful || g > 0xfffffffful)
		return -1;
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 0;
}

static int resolve_chown(struct builder *b, struct bstage *st, struct copy_ctx *c, const char *root,
                         bool link, sw_error **err)
{
	const sw_df_step *s = c->s;

	if (!s->chown)
		return 0;
	c->has_chown = true;
	if (parse_chown_numeric(s->chown, &c->uid, &c->gid) == 0)
		return 0;
	if (!link)
		return sw_rootfs_lookup_user(root, s->chown, &c->uid, &c->gid, err);
	/* --link: names are looked up in the stage the layer lands on */
	sw_rootfs *r = NULL;
	int rc = builder_mount(b, st->layers, st->nlayers, &r, err);
	if (rc == 0)
		rc = sw_rootfs_lookup_user(sw_rootfs_path(r), s->chown, &c->uid, &c->gid, err);
	sw_rootfs_free(r);
	return rc;
}

static int copy_from_tree(struct copy_ctx *c, const struct bwalk *src, sw_error **err)
{
	for (size_t i = 0; i < c->nitems; i++) {
		c->item = c->items[i];
		c->unpacked = false;
		if (bctx_walk(src, c->items[i], copy_entry, c, err) < 0)
			return sw_error_wrap(err, "%s", *c->items[i] ? c->items[i] : ".");
	}
	return 0;
}

static int copy_change(struct builder *b, struct bstage *st, const sw_df_step *s, const char *root,
                       void *payload, sw_error **err)
{
	struct copy_ctx *c = payload;
	cleanup_close int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (rootfd < 0)
		return sw_error_set_errno(err, errno, "open %s", root);
	c->w.rootfd = rootfd;
	if (resolve_chown(b, st, c, root, s->link, err) < 0)
		return sw_error_wrap(err, "--chown=%s", s->chown);
	c->w.uid = c->has_chown ? c->uid : 0;
	c->w.gid = c->has_chown ? c->gid : 0;

	/* heredoc sources */
	for (size_t i = 0; i < s->ninlines; i++) {
		const sw_df_inline *in = &s->inlines[i];
		cleanup_free char *t = c->dest_dir || bw_is_dir(&c->w, c->dest) ? path_join(c->dest, in->name)
		                                                                 : sw_xstrdup(c->dest);
		if (bw_file(&c->w, t, -1, in->data, (int64_t)strlen(in->data), c->has_chmod ? c->chmod : 0644,
		            c->w.uid, c->w.gid, err) < 0)
			return sw_error_code(*err);
	}
	/* downloads */
	for (size_t i = 0; c->url_fds && i + 1 < s->nargs; i++) {
		char digest[SW_DIGEST_LEN + 1];
		if (!badd_is_url(s->args[i]))
			continue;
		/* with --checksum the key did not need the download: fetch it now */
		if (c->url_fds[i] < 0 &&
		    badd_fetch(&c->url_fds[i], &c->url_sizes[i], b->work_dir, s->args[i], s->checksum, digest, err) < 0)
			return sw_error_code(*err);
		const char *u = s->args[i], *q = strpbrk(u, "?#");
		cleanup_free char *upath = q ? sw_xstrndup(u, (size_t)(q - u)) : sw_xstrdup(u);
		const char *after = strstr(upath, "://"), *slash = after ? strchr(after + 3, '/') : NULL;
		const char *name = slash ? base_name(slash) : "";
		cleanup_free char *t = NULL;
		if (c->dest_dir || bw_is_dir(&c->w, c->dest)) {
			if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
				return sw_error_set(err, SW_EINVALID, "%s: cannot name a file after this URL; give a file destination", u);
			t = path_join(c->dest, name);
		} else {
			t = sw_xstrdup(c->dest);
		}
		if (lseek(c->url_fds[i], 0, SEEK_SET) < 0 ||
		    bw_file(&c->w, t, c->url_fds[i], NULL, c->url_sizes[i], c->has_chmod ? c->chmod : 0600,
		            c->w.uid, c->w.gid, err) < 0)
			return err && *err ? sw_error_code(*err) : sw_error_set_errno(err, errno, "%s", u);
	}
	if (!c->nitems)
		return 0;
	if (s->from_kind == SW_DF_REF_NONE) {
		struct bwalk src = { .rootfd = b->ctxfd, .resolve = SW_RESOLVE_BENEATH, .ignore = b->ignore };
		sw_ignore *ex = NULL;
		if (s->nexcludes) {
			sw_buf t = SW_BUF_INIT(0);
			for (size_t i = 0; i < s->nexcludes; i++)
				(void)sw_buf_printf(&t, NULL, "%s\n", s->excludes[i]);
			r = sw_ignore_parse(&ex, "--exclude", t.data, t.len, err);
			sw_buf_release(&t);
			if (r < 0)
				return r;
			src.exclude = ex;
		}
		r = copy_from_tree(c, &src, err);
		sw_ignore_free(ex);
		return r;
	}

	/* --from: the sources from_sources selected in the stage or image */
	struct bwalk src = { .rootfd = c->from_fd, .resolve = SW_RESOLVE_IN_ROOT, .exclude = c->exclude };
	c->keep_owner = true;
	return copy_from_tree(c, &src, err);
}

/*
 * --from: mounts the stage or image, selects the sources in its root and
 * adds their content hash to the key, as BuildKit does: what the step
 * copies decides, not the stage's identity, so a change in the stage that
 * does not touch them keeps the step cached. The mount stays for the copy.
 */
static int from_sources(struct builder *b, struct copy_ctx *c, sw_buf *key, sw_error **err)
{
	const sw_df_step *s = c->s;
	char content[SW_DIGEST_LEN + 1];
	sw_sha256 *h = NULL;
	int r;

	if (s->nexcludes) {
		sw_buf t = SW_BUF_INIT(0);
		for (size_t i = 0; i < s->nexcludes; i++)
			(void)sw_buf_printf(&t, NULL, "%s\n", s->excludes[i]);
		r = sw_ignore_parse(&c->exclude, "--exclude", t.data, t.len, err);
		sw_buf_release(&t);
		if (r < 0)
			return r;
	}
	if ((r = builder_mount_ref(b, s->from_kind, s->from_stage, s->from, &c->from, err)) < 0)
		return sw_error_wrap(err, "--from=%s", s->from);
	c->from_fd = open(sw_rootfs_path(c->from), O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c->from_fd < 0)
		return sw_error_set_errno(err, errno, "open %s", sw_rootfs_path(c->from));
	struct bwalk src = { .rootfd = c->from_fd, .resolve = SW_RESOLVE_IN_ROOT, .exclude = c->exclude };
	h = sw_sha256_new();
	for (size_t i = 0; r == 0 && i + 1 < s->nargs; i++) {
		char **g = NULL;
		size_t ng = 0;
		(void)sw_buf_printf(key, NULL, "src=%s\n", s->args[i]);
		if ((r = bctx_glob(&g, &ng, &src, s->args[i], err)) < 0)
			break;
		if (!ng)
			r = sw_error_set(err, SW_ENOTFOUND, "%s: not found in %s", s->args[i], s->from);
		for (size_t k = 0; k < ng; k++) {
			if (r == 0)
				r = bctx_hash(&src, g[k], h, err);
			c->items = sw_xreallocarray(c->items, c->nitems + 2, sizeof(char *));
			c->items[c->nitems++] = g[k];
			c->items[c->nitems] = NULL;
		}
		free(g);
	}
	if (r == 0 && c->nitems + s->ninlines > 1 && !c->dest_dir)
		r = sw_error_set(err, SW_EINVALID, "When using %s with more than one source file, the destination must be a directory and end with a /",
		                 s->keyword);
	sw_sha256_final(h, content);
	sw_sha256_free(h);
	if (r == 0)
		(void)sw_buf_printf(key, NULL, "from-content=%s\n", content);
	return r;
}

static int parse_chmod(struct copy_ctx *c, const char *spec, sw_error **err)
{
	char *end;
	unsigned long m;

	if (!spec)
		return 0;
	m = strtoul(spec, &end, 8);
	if (!*spec || *end || m > 07777)
		return sw_error_set(err, SW_EINVALID, "--chmod=%s: expected an octal mode (e.g. 0755)", spec);
	c->has_chmod = true;
	c->chmod = (mode_t)m;
	return 0;
}

int bcopy_step(struct builder *b, struct bstage *st, const sw_df_step *s, sw_error **err)
{
	struct copy_ctx c = { .s = s, .add = s->kind == SW_DF_ADD, .from_fd = -1 };
	sw_buf key = SW_BUF_INIT(0);
	sw_sha256 *h = NULL;
	char kd[SW_DIGEST_LEN + 1];
	const char *dest, *wd = bcfg_get_string(st->config, "WorkingDir");
	size_t nsrc;
	int r = 0;

	if (s->nargs < 1)
		return sw_error_set(err, SW_EINVALID, "%s requires at least two arguments", s->keyword);
	dest = s->args[s->nargs - 1];
	nsrc = s->nargs - 1 + s->ninlines;
	if (nsrc == 0)
		return sw_error_set(err, SW_EINVALID, "%s requires at least two arguments", s->keyword);
	if ((r = parse_chmod(&c, s->chmod, err)) < 0)
		return r;
	c.dest_dir = dest[strlen(dest) - 1] == '/' || !strcmp(dest, ".") || (strlen(dest) >= 2 && !strcmp(dest + strlen(dest) - 2, "/."));
	if (dest[0] == '/') {
		c.dest = sw_path_clean(dest);
	} else {
		cleanup_free char *j = path_join(wd && *wd ? wd : "/", dest);
		c.dest = sw_path_clean(j);
	}
	if (!strcmp(c.dest, "/"))
		c.dest_dir = true;

	(void)sw_buf_printf(&key, NULL, "%s\nchown=%s\nchmod=%s\nlink=%d parents=%d unpack=%d\ndest=%s%s\n",
	                    s->keyword, s->chown ? s->chown : "", s->chmod ? s->chmod : "", s->link, s->parents,
	                    s->unpack, c.dest, c.dest_dir ? "/" : "");
	for (size_t i = 0; i < s->nexcludes; i++)
		(void)sw_buf_printf(&key, NULL, "exclude=%s\n", s->excludes[i]);
	for (size_t i = 0; i < s->ninlines; i++)
		(void)sw_buf_printf(&key, NULL, "heredoc %s %zu\n%s\n", s->inlines[i].name, strlen(s->inlines[i].data),
		                    s->inlines[i].data);

	if (s->from_kind != SW_DF_REF_NONE) {
		if ((r = from_sources(b, &c, &key, err)) < 0)
			goto out;
	} else {
		struct bwalk src = { .rootfd = b->ctxfd, .resolve = SW_RESOLVE_BENEATH, .ignore = b->ignore };
		size_t nfound = 0;
		h = sw_sha256_new();
		for (size_t i = 0; i + 1 < s->nargs; i++) {
			const char *p = s->args[i];
			if (c.add && badd_is_url(p)) {
				char digest[SW_DIGEST_LEN + 1];
				if (!c.url_fds) {
					c.url_fds = sw_xcalloc(s->nargs, sizeof(int));
					c.url_sizes = sw_xcalloc(s->nargs, sizeof(int64_t));
					for (size_t k = 0; k < s->nargs; k++)
						c.url_fds[k] = -1;
				}
				/* BuildKit: with --checksum the checksum is the key, and a
				 * hit needs no download; without, the content is */
				if (s->checksum && !sw_digest_valid(s->checksum)) {
					r = sw_error_set(err, SW_EINVALID, "--checksum=%s: expected sha256:<64 hex digits>",
					                 s->checksum);
					goto out;
				}
				if (!s->checksum &&
				    (r = badd_fetch(&c.url_fds[i], &c.url_sizes[i], b->work_dir, p, NULL, digest, err)) < 0)
					goto out;
				(void)sw_buf_printf(&key, NULL, "url=%s %s\n", p, s->checksum ? s->checksum : digest);
				nfound++;
				continue;
			}
			if (s->checksum && c.add) {
				r = sw_error_set(err, SW_EINVALID, "--checksum is only valid for URL sources");
				goto out;
			}
			char **g = NULL;
			size_t ng = 0;
			if (strpbrk(p, "*?["))
				c.wildcard = true;
			if ((r = bctx_glob(&g, &ng, &src, p, err)) < 0)
				goto out;
			if (!ng) {
				r = sw_error_set(err, SW_ENOTFOUND, "%s: not found in the build context%s", p,
				                 b->ignore && sw_ignore_count(b->ignore) ? " (or excluded by .dockerignore)" : "");
				goto out;
			}
			for (size_t k = 0; k < ng; k++) {
				c.items = sw_xreallocarray(c.items, c.nitems + 2, sizeof(char *));
				c.items[c.nitems++] = g[k];
				c.items[c.nitems] = NULL;
				if ((r = bctx_hash(&src, g[k], h, err)) < 0) {
					for (size_t m = k + 1; m < ng; m++)
						free(g[m]);
					free(g);
					goto out;
				}
			}
			free(g);
			nfound += ng;
		}
		if ((nfound + s->ninlines > 1 || c.wildcard) && !c.dest_dir) {
			r = sw_error_set(err, SW_EINVALID, "When using %s with more than one source file, the destination must be a directory and end with a /",
			                 s->keyword);
			goto out;
		}
		if (s->nexcludes && c.nitems) {
			/* the hash above walked without --exclude; recompute with it */
			sw_sha256_free(h);
			h = sw_sha256_new();
			sw_buf t = SW_BUF_INIT(0);
			sw_ignore *ex = NULL;
			for (size_t i = 0; i < s->nexcludes; i++)
				(void)sw_buf_printf(&t, NULL, "%s\n", s->excludes[i]);
			r = sw_ignore_parse(&ex, "--exclude", t.data, t.len, err);
			sw_buf_release(&t);
			src.exclude = ex;
			for (size_t i = 0; r == 0 && i < c.nitems; i++)
				r = bctx_hash(&src, c.items[i], h, err);
			sw_ignore_free(ex);
			if (r < 0)
				goto out;
		}
		char content[SW_DIGEST_LEN + 1];
		sw_sha256_final(h, content);
		(void)sw_buf_printf(&key, NULL, "content=%s\n", content);
	}
	if (s->link) {
		/* --link: the layer does not depend on what is below it */
		bcache_key(kd, "link", key.data, key.len);
	} else {
		bcache_key(kd, st->chain, key.data, key.len);
	}
	r = builder_fs_step(b, st, s, kd, s->link, copy_change, &c, err);
out:
	sw_sha256_free(h);
	sw_buf_release(&key);
	copy_ctx_release(&c);
	return r;
}
