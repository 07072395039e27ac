/*
 * builder_add.c - what ADD does beyond COPY: http(s) sources fetched with
 * libcurl (checked against --checksum=sha256:... when given) and local tar
 * archives (plain, gzip, bzip2, xz: detected by content, as Docker does)
 * unpacked into the destination.
 *
 * Unpacking trusts nothing in the archive: paths are cleaned and refused
 * when they climb out ("..") of the destination, every write goes through
 * the in-root writers of builder_copy.c, hard links must point at files
 * already unpacked, device nodes are refused.
 */
#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder_int.h"
#include "slipway/cleanup.h"
#include "slipway/digest.h"
#include "slipway/mem.h"
#include "slipway/path.h"

#define FETCH_MAX (8LL << 30)
#define ARCHIVE_MAX_ENTRIES 1000000

bool badd_is_url(const char *src)
{
	return !strncmp(src, "http://", 7) || !strncmp(src, "https://", 8);
}

struct fetch {
	int fd;
	int64_t size;
	sw_sha256 *h;
	int err;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *payload)
{
	struct fetch *f = payload;
	size_t n = size * nmemb;

	if (f->size + (int64_t)n > FETCH_MAX) {
		f->err = EFBIG;
		return 0;
	}
	for (size_t off = 0; off < n;) {
		ssize_t k = write(f->fd, ptr + off, n - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			f->err = errno;
			return 0;
		}
		off += (size_t)k;
	}
	sw_sha256_update(f->h, ptr, n);
	f->size += (int64_t)n;
	return n;
}

int badd_fetch(int *out_fd, int64_t *size, const char *work_dir, const char *url, const char *checksum,
               char digest[SW_DIGEST_LEN + 1], sw_error **err)
{
	struct fetch f = { .fd = -1 };
	char errbuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode rc;
	CURL *c;

	if (checksum && !sw_digest_valid(checksum))
		return sw_error_set(err, SW_EINVALID, "--checksum=%s: expected sha256:<64 hex digits>", checksum);
	f.fd = open(work_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (f.fd < 0)
		return sw_error_set_errno(err, errno, "%s: temp file", work_dir);
	if (!(c = curl_easy_init())) {
		close(f.fd);
		return sw_error_set(err, SW_EFAIL, "%s: curl_easy_init failed", url);
	}
	f.h = sw_sha256_new();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "slipway");
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &f);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	sw_sha256_final(f.h, digest);
	sw_sha256_free(f.h);
	if (rc != CURLE_OK) {
		close(f.fd);
		if (f.err)
			return sw_error_set_errno(err, f.err, "ADD %s", url);
		return sw_error_set(err, SW_EFAIL, "ADD %s: %s%s%ld", url, errbuf[0] ? errbuf : curl_easy_strerror(rc),
		                    status ? ": HTTP " : "", status);
	}
	if (checksum && strcmp(checksum, digest)) {
		close(f.fd);
		return sw_error_set(err, SW_EINVALID, "ADD %s: checksum mismatch: expected %s, got %s", url, checksum, digest);
	}
	*out_fd = f.fd;
	*size = f.size;
	return 0;
}

static struct archive *open_tar(int fd)
{
	struct archive *a = archive_read_new();

	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	if (lseek(fd, 0, SEEK_SET) < 0 || archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
		archive_read_free(a);
		return NULL;
	}
	return a;
}

bool badd_is_archive(int fd)
{
	struct archive *a = open_tar(fd);
	struct archive_entry *e;
	bool ok;

	if (!a)
		return false;
	ok = archive_read_next_header(a, &e) == ARCHIVE_OK;
	archive_read_free(a);
	lseek(fd, 0, SEEK_SET);
	return ok;
}

/* dest + "/" + the entry's path, cleaned; NULL when it climbs out. */
static char *entry_target(const char *dest, const char *path)
{
	cleanup_free char *clean = NULL;
	const char *p = path;

	while (*p == '/')
		p++;
	clean = sw_path_clean(*p ? p : ".");
	if (!sw_path_is_beneath(clean))
		return NULL;
	if (!strcmp(clean, "."))
		return sw_xstrdup(dest);
	return sw_xasprintf("%s%s%s", dest, strcmp(dest, "/") ? "/" : "", clean);
}

int badd_extract(const struct bwriter *w, int fd, const char *dest, bool chown, uid_t uid, gid_t gid,
                 const char *what, sw_error **err)
{
	struct archive *a = open_tar(fd);
	struct archive_entry *e;
	int tfd = -1, r = 0;
	size_t count = 0;

	if (!a)
		return sw_error_set(err, SW_EINVALID, "%s: not a tar archive", what);
	if ((r = bw_mkdir_p(w, dest, err)) < 0)
		goto out;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *path = archive_entry_pathname(e);
		cleanup_free char *target = path ? entry_target(dest, path) : NULL;
		mode_t mode = archive_entry_perm(e);
		uid_t u = chown ? uid : (uid_t)archive_entry_uid(e);
		gid_t g = chown ? gid : (gid_t)archive_entry_gid(e);
		const char *hl = archive_entry_hardlink(e);

		if (++count > ARCHIVE_MAX_ENTRIES) {
			r = sw_error_set(err, SW_ETOOBIG, "%s: more than %d entries", what, ARCHIVE_MAX_ENTRIES);
			goto out;
		}
		if (!target) {
			r = sw_error_set(err, SW_EESCAPE, "%s: entry '%s' leaves the destination", what, path ? path : "");
			goto out;
		}
		if (hl) {
			cleanup_free char *lt = entry_target(dest, hl);
			if (!lt) {
				r = sw_error_set(err, SW_EESCAPE, "%s: hard link '%s' points outside the archive", what, path);
				goto out;
			}
			if ((r = bw_hardlink(w, target, lt, err)) < 0)
				goto out;
			continue;
		}
		switch (archive_entry_filetype(e)) {
		case AE_IFDIR:
			r = bw_dir(w, target, mode, u, g, err);
			break;
		case AE_IFLNK:
			r = bw_symlink(w, target, archive_entry_symlink(e) ? archive_entry_symlink(e) : "", u, g, err);
			break;
		case AE_IFREG: {
			/* stream through a temp file: sizes in headers are not trusted */
			char buf[65536];
			la_ssize_t k;
			int64_t size = 0;
			tfd = open(P_tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
			if (tfd < 0) {
				r = sw_error_set_errno(err, errno, "%s: temp file", what);
				goto out;
			}
			while ((k = archive_read_data(a, buf, sizeof(buf))) > 0) {
				if (write(tfd, buf, (size_t)k) != k) {
					r = sw_error_set_errno(err, errno, "%s: %s", what, path);
					goto out;
				}
				size += k;
			}
			if (k < 0) {
				r = sw_error_set(err, SW_EINVALID, "%s: %s: %s", what, path, archive_error_string(a));
				goto out;
			}
			lseek(tfd, 0, SEEK_SET);
			r = bw_file(w, target, tfd, NULL, size, mode, u, g, err);
			close(tfd);
			tfd = -1;
			break;
		}
		default:
			r = sw_error_set(err, SW_EINVALID, "%s: refusing device node or fifo '%s'", what, path);
			break;
		}
		if (r < 0)
			goto out;
	}
	if (r == ARCHIVE_EOF) {
		r = 0;
	} else if (r != 0) {
		if (!err || !*err)
			r = sw_error_set(err, SW_EINVALID, "%s: %s", what, archive_error_string(a));
	}
out:
	if (tfd >= 0)
		close(tfd);
	archive_read_free(a);
	return r < 0 ? (err && *err ? sw_error_code(*err) : SW_EINVALID) : 0;
}
