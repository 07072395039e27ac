/*
 * build_context.c - reading COPY/ADD sources: the build context (after
 * .dockerignore, every path resolved beneath the context, so a symlink or
 * ".." that leaves it is refused) or a stage's root filesystem (resolved
 * in root, as a chroot would). Wildcards, sorted walks, content hashes for
 * cache keys. Nothing here writes; builder_copy.c does.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder_int.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/mem.h"
#include "slipway/path.h"

#define WALK_MAX_DEPTH 256
#define LINK_MAX 4096

static bool has_wildcard(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static char *join(const char *a, const char *b)
{
	if (!*a || !strcmp(a, "."))
		return sw_xstrdup(b);
	if (!*b)
		return sw_xstrdup(a);
	return sw_xasprintf("%s/%s", a, b);
}

static int ignored(const struct bwalk *w, const char *rootrel, const char *srcrel, bool *out, sw_error **err)
{
	*out = false;
	if (w->ignore && *rootrel && sw_ignore_match(w->ignore, rootrel, out, err) < 0)
		return sw_error_code(*err);
	if (!*out && w->exclude && *srcrel && sw_ignore_match(w->exclude, srcrel, out, err) < 0)
		return sw_error_code(*err);
	return 0;
}

static int open_rel(const struct bwalk *w, const char *rel, int flags, sw_error **err)
{
	int fd = sw_path_open_under(w->rootfd, *rel ? rel : ".", flags, 0, w->resolve, err);

	if (fd < 0 && sw_error_code(*err) == SW_EESCAPE)
		return sw_error_wrap(err, "%s: refusing a source outside the build context", rel);
	return fd;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void strv_push(char ***v, size_t *n, char *s)
{
	*v = sw_xreallocarray(*v, *n + 2, sizeof(char *));
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

/* Expands the components of pattern from index i under prefix. */
static int glob_rec(const struct bwalk *w, char **comps, size_t ncomps, size_t i, const char *prefix,
                    char ***out, size_t *n, sw_error **err)
{
	if (i == ncomps) {
		bool ig = false;
		if (ignored(w, prefix, "", &ig, err) < 0)
			return sw_error_code(*err);
		if (!ig)
			strv_push(out, n, sw_xstrdup(prefix));
		return 0;
	}
	if (!has_wildcard(comps[i])) {
		cleanup_free char *next = join(prefix, comps[i]);
		if (i + 1 == ncomps) {
			/* the last literal component must exist (glob semantics) */
			cleanup_close int fd = open_rel(w, next, O_PATH, err);
			if (fd < 0) {
				if (sw_error_code(*err) == SW_EESCAPE)
					return SW_EESCAPE;
				sw_error_clear(err);
				return 0;
			}
		}
		return glob_rec(w, comps, ncomps, i + 1, next, out, n, err);
	}
	cleanup_close int dfd = open_rel(w, prefix, O_RDONLY | O_DIRECTORY, err);
	if (dfd < 0) {
		if (sw_error_code(*err) == SW_EESCAPE)
			return SW_EESCAPE;
		sw_error_clear(err);
		return 0;
	}
	DIR *d = fdopendir(dfd);
	if (!d)
		return sw_error_set_errno(err, errno, "%s: opendir", *prefix ? prefix : ".");
	dfd = -1;
	cleanup_strv char **names = NULL;
	size_t nn = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fnmatch(comps[i], de->d_name, 0) == 0)
			strv_push(&names, &nn, sw_xstrdup(de->d_name));
	}
	closedir(d);
	if (nn)
		qsort(names, nn, sizeof(char *), cmp_str);
	for (size_t k = 0; k < nn; k++) {
		cleanup_free char *next = join(prefix, names[k]);
		if (glob_rec(w, comps, ncomps, i + 1, next, out, n, err) < 0)
			return sw_error_code(*err);
	}
	return 0;
}

int bctx_glob(char ***out, size_t *n, const struct bwalk *w, const char *pattern, sw_error **err)
{
	cleanup_free char *clean = NULL;
	cleanup_strv char **comps = NULL;
	size_t nc = 0;
	const char *p = pattern;
	char **res = NULL;
	size_t nres = 0;

	*out = NULL;
	*n = 0;
	while (*p == '/')
		p++;
	clean = sw_path_clean(*p ? p : ".");
	if (!sw_path_is_beneath(clean))
		return sw_error_set(err, SW_EESCAPE, "%s: refusing a source outside the build context", pattern);
	if (!strcmp(clean, ".")) {
		strv_push(&res, &nres, sw_xstrdup(""));
		*out = res;
		*n = nres;
		return 0;
	}
	for (char *s = clean, *slash; s; s = slash ? slash + 1 : NULL) {
		slash = strchr(s, '/');
		strv_push(&comps, &nc, slash ? sw_xstrndup(s, (size_t)(slash - s)) : sw_xstrdup(s));
	}
	if (glob_rec(w, comps, nc, 0, "", &res, &nres, err) < 0) {
		sw_strv_free(res);
		return sw_error_code(*err);
	}
	*out = res;
	*n = nres;
	return 0;
}

/* ---- walks -------------------------------------------------------------- */

static int walk_dir(const struct bwalk *w, int dfd, const char *rootrel, const char *srcrel, int depth,
                    bwalk_fn fn, void *payload, sw_error **err)
{
	cleanup_strv char **names = NULL;
	size_t nn = 0;
	struct dirent *de;
	int dup = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
	DIR *d;

	if (depth > WALK_MAX_DEPTH)
		return sw_error_set(err, SW_ETOOBIG, "%s: folders nested too deep", rootrel);
	if (dup < 0 || !(d = fdopendir(dup))) {
		if (dup >= 0)
			close(dup);
		return sw_error_set_errno(err, errno, "%s: opendir", *rootrel ? rootrel : ".");
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		strv_push(&names, &nn, sw_xstrdup(de->d_name));
	}
	closedir(d);
	if (nn)
		qsort(names, nn, sizeof(char *), cmp_str);
	for (size_t i = 0; i < nn; i++) {
		cleanup_free char *rr = join(rootrel, names[i]);
		cleanup_free char *sr = join(srcrel, names[i]);
		cleanup_free char *link = NULL;
		cleanup_close int fd = -1;
		struct bwalk_entry e = { .rel = sr, .fd = -1 };
		bool ig = false;

		if (fstatat(dfd, names[i], &e.st, AT_SYMLINK_NOFOLLOW) < 0)
			return sw_error_set_errno(err, errno, "%s: stat", rr);
		if (ignored(w, rr, sr, &ig, err) < 0)
			return sw_error_code(*err);
		if (ig && !(S_ISDIR(e.st.st_mode) &&
		            ((w->ignore && sw_ignore_dir_may_have_exceptions(w->ignore, rr)) ||
		             (w->exclude && sw_ignore_dir_may_have_exceptions(w->exclude, sr)))))
			continue;
		if (S_ISREG(e.st.st_mode) || S_ISDIR(e.st.st_mode)) {
			fd = openat(dfd, names[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
			                               (S_ISDIR(e.st.st_mode) ? O_DIRECTORY : 0));
			if (fd < 0)
				return sw_error_set_errno(err, errno, "%s: open", rr);
			e.fd = fd;
		} else if (S_ISLNK(e.st.st_mode)) {
			link = sw_xmalloc(LINK_MAX + 1);
			ssize_t k = readlinkat(dfd, names[i], link, LINK_MAX);
			if (k < 0)
				return sw_error_set_errno(err, errno, "%s: readlink", rr);
			link[k] = 0;
			e.link = link;
		} else if (!S_ISFIFO(e.st.st_mode)) {
			return sw_error_set(err, SW_EINVALID, "%s: refusing a device node or socket", rr);
		}
		if (!ig && fn(&e, payload, err) < 0)
			return sw_error_code(*err);
		if (S_ISDIR(e.st.st_mode) && walk_dir(w, fd, rr, sr, depth + 1, fn, payload, err) < 0)
			return sw_error_code(*err);
	}
	return 0;
}

int bctx_walk(const struct bwalk *w, const char *rel, bwalk_fn fn, void *payload, sw_error **err)
{
	cleanup_close int fd = -1;
	struct bwalk_entry e = { .rel = "", .fd = -1 };

	/* the source itself: symlinks followed, but only inside the root */
	fd = open_rel(w, rel, O_PATH, err);
	if (fd < 0)
		return sw_error_code(*err);
	if (fstat(fd, &e.st) < 0)
		return sw_error_set_errno(err, errno, "%s: stat", rel);
	if (S_ISREG(e.st.st_mode) || S_ISDIR(e.st.st_mode)) {
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		int rfd = open(proc, O_RDONLY | O_CLOEXEC | (S_ISDIR(e.st.st_mode) ? O_DIRECTORY : 0));
		if (rfd < 0)
			return sw_error_set_errno(err, errno, "%s: open", *rel ? rel : ".");
		close(fd);
		fd = rfd;
		e.fd = fd;
	} else {
		return sw_error_set(err, SW_EINVALID, "%s: refusing a device node, fifo or socket", rel);
	}
	if (fn(&e, payload, err) < 0)
		return sw_error_code(*err);
	if (S_ISDIR(e.st.st_mode))
		return walk_dir(w, fd, rel, "", 1, fn, payload, err);
	return 0;
}

/* ---- content hashes ----------------------------------------------------- */

static int hash_entry(const struct bwalk_entry *e, void *payload, sw_error **err)
{
	sw_sha256 *h = payload;
	char head[256];
	int n = snprintf(head, sizeof(head), "%o %u %u %lld ", (unsigned)e->st.st_mode, (unsigned)e->st.st_uid,
	                 (unsigned)e->st.st_gid, S_ISREG(e->st.st_mode) ? (long long)e->st.st_size : 0LL);

	sw_sha256_update(h, e->rel, strlen(e->rel) + 1);
	sw_sha256_update(h, head, (size_t)n);
	if (e->link)
		sw_sha256_update(h, e->link, strlen(e->link) + 1);
	if (S_ISREG(e->st.st_mode)) {
		char buf[65536];
		off_t off = 0;
		for (;;) {
			ssize_t k = pread(e->fd, buf, sizeof(buf), off);
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				return sw_error_set_errno(err, errno, "%s: read", e->rel);
			if (k == 0)
				break;
			sw_sha256_update(h, buf, (size_t)k);
			off += k;
		}
	}
	sw_sha256_update(h, "\n", 1);
	return 0;
}

int bctx_hash(const struct bwalk *w, const char *rel, sw_sha256 *h, sw_error **err)
{
	sw_sha256_update(h, rel, strlen(rel) + 1);
	return bctx_walk(w, rel, hash_entry, h, err);
}
