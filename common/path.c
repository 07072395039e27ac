/*
 * path.c - lexical path cleaning and kernel-enforced resolution under a root.
 *
 * sw_path_open_under() relies on openat2(2) (Linux 5.6): RESOLVE_BENEATH
 * makes the kernel refuse any step that leaves the root, RESOLVE_IN_ROOT
 * treats the root as "/", so neither a symlink nor ".." can escape, even
 * when the tree changes underneath us.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/mem.h"
#include "slipway/path.h"

char *sw_path_clean(const char *p)
{
	return sw_path_cleann(p, strlen(p), NULL);
}

char *sw_path_cleann(const char *p, size_t n, size_t *outlen)
{
	bool rooted = n > 0 && p[0] == '/';
	/* out never grows past the input (plus "." or "/") */
	char *out = sw_xmalloc(n + 2);
	size_t w = 0, dotdot = 0, r = 0;

	if (rooted) {
		out[w++] = '/';
		r = 1;
		dotdot = 1;
	}
	while (r < n) {
		if (p[r] == '/') {
			r++;
		} else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/')) {
			r++;
		} else if (p[r] == '.' && r + 1 < n && p[r + 1] == '.' && (r + 2 == n || p[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				/* back up to the previous separator */
				w--;
				while (w > dotdot && out[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				dotdot = w;
			}
		} else {
			if ((rooted && w != 1) || (!rooted && w != 0))
				out[w++] = '/';
			for (; r < n && p[r] != '/'; r++)
				out[w++] = p[r];
		}
	}
	if (w == 0)
		out[w++] = '.';
	out[w] = '\0';
	if (outlen)
		*outlen = w;
	return out;
}

bool sw_path_is_beneath(const char *p)
{
	cleanup_free char *c = NULL;

	if (p[0] == '/')
		return false;
	c = sw_path_clean(p);
	return !(strcmp(c, "..") == 0 || strncmp(c, "../", 3) == 0);
}

int sw_path_join_under(char **out, const char *root, const char *rel, sw_error **err)
{
	cleanup_free char *c = NULL;

	if (rel[0] == '/')
		return sw_error_set(err, SW_EESCAPE, "path '%s' is absolute; expected a path relative to %s", rel, root);
	if (!sw_path_is_beneath(rel))
		return sw_error_set(err, SW_EESCAPE, "path '%s' leads outside %s", rel, root);
	c = sw_path_clean(rel);
	if (!strcmp(c, "."))
		*out = sw_xstrdup(root);
	else
		*out = sw_xasprintf("%s%s%s", root, root[0] && root[strlen(root) - 1] == '/' ? "" : "/", c);
	return 0;
}

int sw_path_open_under(int rootfd, const char *rel, int flags, mode_t mode, unsigned resolve,
                       sw_error **err)
{
	struct open_how how = { 0 };
	const char *p = rel;
	long fd;

	if (!(resolve & SW_RESOLVE_IN_ROOT)) {
		if (rel[0] == '/')
			return sw_error_set(err, SW_EESCAPE, "path '%s' is absolute", rel);
	} else {
		while (*p == '/')
			p++;
		if (!*p)
			p = ".";
	}
	how.flags = (unsigned long long)(flags | O_CLOEXEC);
	if (flags & (O_CREAT | O_TMPFILE))
		how.mode = mode;
	how.resolve = RESOLVE_NO_MAGICLINKS;
	how.resolve |= (resolve & SW_RESOLVE_IN_ROOT) ? RESOLVE_IN_ROOT : RESOLVE_BENEATH;
	if (resolve & SW_RESOLVE_NO_SYMLINKS)
		how.resolve |= RESOLVE_NO_SYMLINKS;
	do
		fd = syscall(SYS_openat2, rootfd, p, &how, sizeof(how));
	while (fd < 0 && (errno == EINTR || errno == EAGAIN));
	if (fd < 0) {
		if (errno == EXDEV)
			return sw_error_set(err, SW_EESCAPE, "path '%s' leads outside its root", rel);
		if (errno == ELOOP && (resolve & SW_RESOLVE_NO_SYMLINKS))
			return sw_error_set(err, SW_EESCAPE, "path '%s' goes through a symlink", rel);
		if (errno == ENOENT)
			return sw_error_set(err, SW_ENOTFOUND, "%s: no such file or directory", rel);
		return sw_error_set_errno(err, errno, "open %s", rel);
	}
	return (int)fd;
}

int sw_read_file(char **out, size_t *len, const char *path, size_t max, sw_error **err)
{
	cleanup_close int fd = -1;
	sw_buf b = SW_BUF_INIT(max);
	char chunk[65536];

	if (!strcmp(path, "-"))
		fd = dup(0);
	else
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return sw_error_set(err, SW_ENOTFOUND, "%s: no such file or directory", path);
		return sw_error_set_errno(err, errno, "open %s", path);
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			sw_buf_release(&b);
			if (e == EISDIR)
				return sw_error_set(err, SW_EINVALID, "%s: is a directory", path);
			return sw_error_set_errno(err, e, "read %s", path);
		}
		if (n == 0)
			break;
		if (sw_buf_add(&b, chunk, (size_t)n, err) < 0) {
			sw_buf_release(&b);
			return sw_error_wrap(err, "%s", path);
		}
	}
	if (len)
		*len = b.len;
	*out = sw_buf_detach(&b);
	return 0;
}

int sw_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int sw_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, sw_error **err)
{
	cleanup_free char *tmp = sw_xasprintf("%s.tmp.XXXXXX", path);
	cleanup_close int fd = mkostemp(tmp, O_CLOEXEC);

	if (fd < 0)
		return sw_error_set_errno(err, errno, "create %s", tmp);
	if (fchmod(fd, mode) < 0 || sw_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		int e = errno;
		unlink(tmp);
		return sw_error_set_errno(err, e, "write %s", tmp);
	}
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return sw_error_set_errno(err, e, "rename %s to %s", tmp, path);
	}
	return 0;
}
