/*
 * build_git.c - git build contexts (`slipway build git:REPO#REF[:SUBDIR]`)
 * and git metadata for folder contexts, through libgit2.
 *
 * A git: context is materialised from the object database, never checked
 * out: every blob of the commit's tree (or subtree) is written into a temp
 * folder under STATE/build with fixed modes (0644, 0755, dirs 0755,
 * symlinks), the commit's time as mtime and no filters (autocrlf, smudge),
 * so the same commit gives the same context whatever the host's umask or
 * git config. The normal build then reads that folder. Names are checked
 * (no "", ".", "..", '/') and every write goes through a parent opened
 * beneath the temp folder without following symlinks, so a hostile tree
 * cannot write outside it. Submodules are skipped with a warning.
 *
 * Metadata goes into manifest annotations (not config labels):
 * org.opencontainers.image.revision (commit SHA), .source (the repo as
 * given, credentials removed), dev.slipway.git.author, .message (first
 * line) and, for a folder in a work tree with changes, dev.slipway.git.dirty.
 * A folder outside any repository gets none, so its digest does not change.
 *
 * Not here: the build itself (builder.c), remote credentials (none are sent).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "builder_int.h"
#include "slipway/cleanup.h"
#include "slipway/mem.h"
#include "slipway/path.h"

#define GIT_LINK_MAX 4096

static int git_fail(sw_error **err, int code, const char *what)
{
	const git_error *e = git_error_last();
	int sw = code == GIT_ENOTFOUND ? SW_ENOTFOUND : code == GIT_EAMBIGUOUS ? SW_EAMBIGUOUS : SW_EFAIL;

	return sw_error_set(err, sw, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

/* The repo as given, without a URL's user:password@. */
static char *strip_credentials(const char *url)
{
	const char *scheme = strstr(url, "://");
	const char *host, *at, *slash;

	if (!scheme)
		return sw_xstrdup(url);
	host = scheme + 3;
	slash = strchr(host, '/');
	at = strchr(host, '@');
	if (!at || (slash && at > slash))
		return sw_xstrdup(url);
	return sw_xasprintf("%.*s%s", (int)(host - url), url, at + 1);
}

static char *first_line(const char *msg)
{
	size_t n = strcspn(msg ? msg : "", "\r\n");
	return sw_xstrndup(msg ? msg : "", n);
}

static void annotate_commit(json_t *a, const git_commit *c, const char *source)
{
	char sha[GIT_OID_HEXSZ + 1];
	const git_signature *au = git_commit_author(c);
	cleanup_free char *msg = first_line(git_commit_message(c));
	cleanup_free char *src = strip_credentials(source);

	git_oid_tostr(sha, sizeof(sha), git_commit_id(c));
	json_object_set_new(a, "org.opencontainers.image.revision", json_string(sha));
	json_object_set_new(a, "org.opencontainers.image.source", json_string(src));
	if (au) {
		cleanup_free char *who = sw_xasprintf("%s <%s>", au->name ? au->name : "", au->email ? au->email : "");
		json_object_set_new(a, "dev.slipway.git.author", json_string(who));
	}
	json_object_set_new(a, "dev.slipway.git.message", json_string(msg));
}

/* ---- materialising a tree ----------------------------------------------- */

struct mat {
	git_repository *repo;
	int rootfd;
	struct timespec times[2];
	char **dirs; /* made folders, for their mtimes once full */
	size_t ndirs;
	char *pdir;  /* the last parent opened (a pre-order walk stays in it) */
	int pfd;
	void (*warn)(const char *msg, void *payload);
	void *payload;
	sw_error **err;
	int r;
};

static bool name_ok(const char *n)
{
	return *n && strcmp(n, ".") && strcmp(n, "..") && !strchr(n, '/');
}

static int write_blob(struct mat *m, int pfd, const char *name, const char *rel, const git_tree_entry *te,
                      git_filemode_t mode)
{
	git_blob *blob = NULL;
	int r = git_blob_lookup(&blob, m->repo, git_tree_entry_id(te));

	if (r < 0)
		return git_fail(m->err, r, rel);
	const char *data = git_blob_rawcontent(blob);
	size_t len = (size_t)git_blob_rawsize(blob);
	if (mode == GIT_FILEMODE_LINK) {
		if (len == 0 || len > GIT_LINK_MAX || memchr(data, 0, len)) {
			git_blob_free(blob);
			return sw_error_set(m->err, SW_EINVALID, "%s: invalid symlink target", rel);
		}
		cleanup_free char *target = sw_xstrndup(data, len);
		git_blob_free(blob);
		if (symlinkat(target, pfd, name) < 0)
			return sw_error_set_errno(m->err, errno, "%s: symlink", rel);
		if (utimensat(pfd, name, m->times, AT_SYMLINK_NOFOLLOW) < 0)
			return sw_error_set_errno(m->err, errno, "%s: utimensat", rel);
		return 0;
	}
	mode_t perm = mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644;
	cleanup_close int fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		git_blob_free(blob);
		return sw_error_set_errno(m->err, errno, "%s: create", rel);
	}
	r = sw_write_all(fd, data, len);
	git_blob_free(blob);
	if (r < 0)
		return sw_error_set_errno(m->err, errno, "%s: write", rel);
	if (fchmod(fd, perm) < 0 || futimens(fd, m->times) < 0)
		return sw_error_set_errno(m->err, errno, "%s: chmod", rel);
	return 0;
}

static int walk_cb(const char *root, const git_tree_entry *te, void *payload)
{
	struct mat *m = payload;
	const char *name = git_tree_entry_name(te);
	git_filemode_t mode = git_tree_entry_filemode(te);
	cleanup_free char *rel = sw_xasprintf("%s%s", root, name);
	int pfd;

	if (!name_ok(name)) {
		m->r = sw_error_set(m->err, SW_EESCAPE, "%s: refusing a tree entry named '%s'", *root ? root : ".", name);
		return -1;
	}
	if (mode == GIT_FILEMODE_COMMIT) {
		cleanup_free char *msg = sw_xasprintf("%s: skipping a submodule (its commit is not in this repository)", rel);
		if (m->warn)
			m->warn(msg, m->payload);
		return 1; /* skip */
	}
	if (!m->pdir || strcmp(m->pdir, root)) {
		if (m->pfd >= 0)
			close(m->pfd);
		free(m->pdir);
		m->pdir = sw_xstrdup(root);
		m->pfd = sw_path_open_under(m->rootfd, *root ? root : ".", O_RDONLY | O_DIRECTORY, 0,
		                            SW_RESOLVE_NO_SYMLINKS, m->err);
		if (m->pfd < 0) {
			m->r = sw_error_code(*m->err);
			return -1;
		}
	}
	pfd = m->pfd;
	switch (mode) {
	case GIT_FILEMODE_TREE:
		if (mkdirat(pfd, name, 0700) < 0 || fchmodat(pfd, name, 0755, 0) < 0) {
			m->r = sw_error_set_errno(m->err, errno, "%s: mkdir", rel);
			return -1;
		}
		m->dirs = sw_xreallocarray(m->dirs, m->ndirs + 1, sizeof(char *));
		m->dirs[m->ndirs++] = steal_pointer(&rel);
		return 0;
	case GIT_FILEMODE_BLOB:
	case GIT_FILEMODE_BLOB_EXECUTABLE:
	case GIT_FILEMODE_LINK:
		if ((m->r = write_blob(m, pfd, name, rel, te, mode)) < 0)
			return -1;
		return 0;
	default:
		m->r = sw_error_set(m->err, SW_EINVALID, "%s: unknown tree entry mode %o", rel, (unsigned)mode);
		return -1;
	}
}

static int materialise(struct mat *m, const git_tree *tree, const char *dir, sw_error **err)
{
	int r;

	m->rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m->rootfd < 0)
		return sw_error_set_errno(err, errno, "open %s", dir);
	m->err = err;
	r = git_tree_walk(tree, GIT_TREEWALK_PRE, walk_cb, m);
	if (r < 0 && m->r == 0)
		r = git_fail(err, r, "reading the tree");
	else if (r < 0)
		r = m->r;
	/* folders last, deepest first: writing into them changed their mtime */
	for (size_t i = m->ndirs; r == 0 && i-- > 0;)
		if (utimensat(m->rootfd, m->dirs[i], m->times, AT_SYMLINK_NOFOLLOW) < 0)
			r = sw_error_set_errno(err, errno, "%s: utimensat", m->dirs[i]);
	if (r == 0 && (fchmod(m->rootfd, 0755) < 0 || futimens(m->rootfd, m->times) < 0))
		r = sw_error_set_errno(err, errno, "%s: chmod", dir);
	if (m->pfd >= 0)
		close(m->pfd);
	m->pfd = -1;
	free(m->pdir);
	m->pdir = NULL;
	for (size_t i = 0; i < m->ndirs; i++)
		free(m->dirs[i]);
	free(m->dirs);
	m->dirs = NULL;
	close(m->rootfd);
	m->rootfd = -1;
	return r;
}

/* ---- git:REPO#REF[:SUBDIR] ---------------------------------------------- */

struct spec {
	char *repo;   /* as given */
	char *ref;    /* "HEAD" when none */
	char *subdir; /* NULL: the whole tree */
};

static void spec_release(struct spec *s)
{
	free(s->repo);
	free(s->ref);
	free(s->subdir);
}

static int spec_parse(struct spec *out, const char *s, sw_error **err)
{
	const char *hash = strrchr(s, '#');
	const char *frag = hash ? hash + 1 : "";
	const char *colon = strchr(frag, ':');

	memset(out, 0, sizeof(*out));
	out->repo = hash ? sw_xstrndup(s, (size_t)(hash - s)) : sw_xstrdup(s);
	out->ref = colon ? sw_xstrndup(frag, (size_t)(colon - frag)) : sw_xstrdup(frag);
	if (!*out->ref) {
		free(out->ref);
		out->ref = sw_xstrdup("HEAD");
	}
	if (colon && colon[1]) {
		cleanup_free char *c = sw_path_clean(colon + 1);
		if (!sw_path_is_beneath(c)) {
			spec_release(out);
			return sw_error_set(err, SW_EESCAPE, "git:%s: subfolder '%s' leaves the repository", s, colon + 1);
		}
		if (strcmp(c, "."))
			out->subdir = steal_pointer(&c);
	}
	if (!*out->repo) {
		spec_release(out);
		return sw_error_set(err, SW_EINVALID, "git:%s: expected git:PATH_OR_URL[#REF[:SUBDIR]]", s);
	}
	return 0;
}

static bool is_local(const char *repo)
{
	return !strncmp(repo, "file://", 7) || !strstr(repo, "://");
}

static int open_repo(git_repository **out, const char *repo, const char *tmp, sw_error **err)
{
	int r;

	if (is_local(repo)) {
		const char *path = !strncmp(repo, "file://", 7) ? repo + 7 : repo;
		r = git_repository_open_ext(out, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
		if (r == GIT_ENOTFOUND)
			return sw_error_set(err, SW_ENOTFOUND, "git:%s: not a git repository", repo);
		return r < 0 ? git_fail(err, r, repo) : 0;
	}
	cleanup_free char *dest = sw_xasprintf("%s/repo.git", tmp);
	git_clone_options co;
	git_clone_options_init(&co, GIT_CLONE_OPTIONS_VERSION);
	co.bare = 1;
	r = git_clone(out, repo, dest, &co);
	if (r < 0) {
		cleanup_free char *safe = strip_credentials(repo);
		const git_error *e = git_error_last();
		return sw_error_set(err, SW_EFAIL, "git:%s: clone: %s", safe, e && e->message ? e->message : "failed");
	}
	return 0;
}

static int resolve_commit(git_commit **out, git_repository *repo, const struct spec *s, sw_error **err)
{
	git_object *obj = NULL, *peeled = NULL;
	int r = git_revparse_single(&obj, repo, s->ref);

	if (r == GIT_ENOTFOUND && !is_local(s->repo)) {
		/* a bare clone has the remote's branches under origin/ */
		cleanup_free char *alt = sw_xasprintf("origin/%s", s->ref);
		r = git_revparse_single(&obj, repo, alt);
	}
	if (r == GIT_EAMBIGUOUS)
		return sw_error_set(err, SW_EAMBIGUOUS, "git:%s: ref '%s' is ambiguous", s->repo, s->ref);
	if (r < 0)
		return sw_error_set(err, SW_ENOTFOUND, "git:%s: unknown ref '%s'", s->repo, s->ref);
	r = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT);
	git_object_free(obj);
	if (r < 0)
		return sw_error_set(err, SW_EINVALID, "git:%s: ref '%s' does not name a commit", s->repo, s->ref);
	*out = (git_commit *)peeled;
	return 0;
}

static int subtree(git_tree **out, git_repository *repo, git_commit *c, const struct spec *s, sw_error **err)
{
	git_tree *root = NULL;
	git_tree_entry *te = NULL;
	int r = git_commit_tree(&root, c);

	if (r < 0)
		return git_fail(err, r, s->repo);
	if (!s->subdir) {
		*out = root;
		return 0;
	}
	r = git_tree_entry_bypath(&te, root, s->subdir);
	git_tree_free(root);
	if (r < 0 || git_tree_entry_type(te) != GIT_OBJECT_TREE) {
		git_tree_entry_free(te);
		return sw_error_set(err, SW_ENOTFOUND, "git:%s#%s: no folder '%s' in the commit", s->repo, s->ref,
		                    s->subdir);
	}
	r = git_tree_lookup(out, repo, git_tree_entry_id(te));
	git_tree_entry_free(te);
	return r < 0 ? git_fail(err, r, s->subdir) : 0;
}

static int git_context(struct bgit *g, const struct spec *s, void (*warn)(const char *msg, void *payload),
                       void *payload, sw_error **err)
{
	git_repository *repo = NULL;
	git_commit *c = NULL;
	git_tree *tree = NULL;
	struct mat m = { .rootfd = -1, .pfd = -1, .warn = warn, .payload = payload };
	int r;

	if ((r = open_repo(&repo, s->repo, g->tmp, err)) < 0)
		return r;
	if ((r = resolve_commit(&c, repo, s, err)) < 0)
		goto out;
	if ((r = subtree(&tree, repo, c, s, err)) < 0)
		goto out;
	g->context = sw_xasprintf("%s/context", g->tmp);
	if (mkdir(g->context, 0700) < 0) {
		r = sw_error_set_errno(err, errno, "mkdir %s", g->context);
		goto out;
	}
	m.repo = repo;
	m.times[0].tv_sec = m.times[1].tv_sec = (time_t)git_commit_time(c);
	if ((r = materialise(&m, tree, g->context, err)) < 0) {
		sw_error_wrap(err, "git:%s#%s", s->repo, s->ref);
		goto out;
	}
	annotate_commit(g->annotations, c, s->repo);
out:
	git_tree_free(tree);
	git_commit_free(c);
	git_repository_free(repo);
	return r;
}

int bgit_materialise(struct bgit *g, const char *work_dir, const char *spec,
                     void (*warn)(const char *msg, void *payload), void *payload, sw_error **err)
{
	struct spec s;
	int r;

	memset(g, 0, sizeof(*g));
	if ((r = spec_parse(&s, spec, err)) < 0)
		return r;
	g->annotations = json_object();
	g->tmp = sw_xasprintf("%s/git-XXXXXX", work_dir);
	if (!mkdtemp(g->tmp)) {
		r = sw_error_set_errno(err, errno, "temp folder under %s", work_dir);
		free(g->tmp);
		g->tmp = NULL;
		spec_release(&s);
		return r;
	}
	git_libgit2_init();
	r = git_context(g, &s, warn, payload, err);
	git_libgit2_shutdown();
	spec_release(&s);
	if (r < 0)
		bgit_release(g);
	return r;
}

void bgit_release(struct bgit *g)
{
	if (g->tmp)
		builder_rm_tree(g->tmp);
	free(g->tmp);
	free(g->context);
	json_decref(g->annotations);
	memset(g, 0, sizeof(*g));
}

/* ---- a folder in a work tree -------------------------------------------- */

/* remote.origin.url as configured. Read from a config snapshot rather than
 * git_remote_lookup: libgit2 1.5's lookup (url.insteadOf matching) leaks
 * pcre2 match data, and the URL as written is what we record anyway. */
static char *remote_url(git_repository *repo)
{
	git_config *snap = NULL;
	const char *v = NULL;
	char *url = NULL;

	if (git_repository_config_snapshot(&snap, repo) == 0 &&
	    git_config_get_string(&v, snap, "remote.origin.url") == 0 && v && *v)
		url = sw_xstrdup(v);
	git_config_free(snap);
	return url;
}

static int describe(json_t *a, git_repository *repo, const char *dir, sw_error **err)
{
	git_reference *head = NULL;
	git_commit *c = NULL;
	git_status_list *st = NULL;
	const char *wd = git_repository_workdir(repo);
	char wreal[PATH_MAX];
	int r;

	if (!wd || git_repository_is_bare(repo) || !realpath(wd, wreal))
		return 0;
	if (git_repository_head(&head, repo) < 0) {
		git_error_clear(); /* no commit yet: nothing to record */
		return 0;
	}
	r = git_commit_lookup(&c, repo, git_reference_target(head));
	git_reference_free(head);
	if (r < 0) {
		git_error_clear();
		return 0;
	}
	/* only changes under the context count (ignored files do not) */
	size_t wl = strlen(wreal);
	const char *rel = !strncmp(dir, wreal, wl) && (dir[wl] == '/' || !dir[wl]) ? dir + wl : "";
	while (*rel == '/')
		rel++;
	char *paths[1] = { (char *)rel };
	git_status_options so;
	git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
	so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED |
	           GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	if (*rel) {
		so.pathspec.strings = paths;
		so.pathspec.count = 1;
	}
	if ((r = git_status_list_new(&st, repo, &so)) < 0) {
		r = git_fail(err, r, "git status");
		git_commit_free(c);
		return r;
	}
	cleanup_free char *url = remote_url(repo);
	annotate_commit(a, c, url ? url : wreal);
	if (git_status_list_entrycount(st) > 0)
		json_object_set_new(a, "dev.slipway.git.dirty", json_string("true"));
	git_status_list_free(st);
	git_commit_free(c);
	return 0;
}

int bgit_describe_folder(json_t **out, const char *dir, sw_error **err)
{
	git_repository *repo = NULL;
	int r;

	*out = json_object();
	git_libgit2_init();
	r = git_repository_open_ext(&repo, dir, 0, NULL);
	if (r == 0)
		r = describe(*out, repo, dir, err);
	else if (r == GIT_ENOTFOUND)
		r = 0; /* not in a repository: no git annotations */
	else
		r = git_fail(err, r, dir);
	git_repository_free(repo);
	git_libgit2_shutdown();
	if (r < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return r;
}
