/* Unit tests for the image store (build/oci_*.c, layer_*.c,
 * image_archive.c) against a real layout in a temp dir: verified blobs,
 * tags and lookups, concurrent index writers, deterministic layers and
 * hostile tars. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "slipway/cleanup.h"
#include "slipway/image_store.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/path.h"
#include "slipway/statedir.h"

struct fixture {
	char dir[64];
	sw_image_store *s;
};

static int setup(void **state)
{
	struct fixture *f = sw_xcalloc(1, sizeof(*f));
	sw_error *err = NULL;

	snprintf(f->dir, sizeof(f->dir), "/tmp/sw-store-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	if (sw_image_store_open(&f->s, f->dir, &err) < 0) {
		sw_error_free(err);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	sw_image_store_free(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void expect_ok(int r, sw_error *err)
{
	if (r < 0) {
		char *m = sw_error_string(err);
		fail_msg("unexpected error: %s", m);
	}
}

/* The whole error chain mentions want; clears the error. */
static void expect_message(sw_error **err, const char *want)
{
	char *m = sw_error_string(*err);

	if (!strstr(m, want))
		fail_msg("error '%s' does not mention '%s'", m, want);
	free(m);
	sw_error_clear(err);
}

static size_t count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static size_t count_blobs(struct fixture *f)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/images/blobs/sha256", f->dir);
	return count_dir(p);
}

static size_t count_tmp(struct fixture *f)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/images/.tmp", f->dir);
	return count_dir(p);
}

/* ---- blobs -------------------------------------------------------------- */

static void test_blob_put_and_read(void **state)
{
	struct fixture *f = *state;
	sw_error *err = NULL;
	sw_descriptor d;
	char want[SW_DIGEST_LEN + 1];
	char *data = NULL;
	size_t len = 0;

	sw_digest_bytes(want, "hello", 5);
	expect_ok(sw_image_store_put_blob(f->s, "text/plain", "hello", 5, want, &d, &err), err);
	assert_string_equal(d.digest, want);
	assert_int_equal(d.size, 5);
	assert_string_equal(d.media_type, "text/plain");
	assert_true(sw_image_store_has_blob(f->s, want));
	expect_ok(sw_image_store_read_blob(f->s, want, 100, &data, &len, &err), err);
	assert_int_equal(len, 5);
	assert_memory_equal(data, "hello", 5);
	free(data);
	/* too large for the limit */
	assert_int_equal(sw_image_store_read_blob(f->s, want, 4, &data, &len, &err), SW_ETOOBIG);
	sw_error_clear(&err);
	assert_int_equal(count_tmp(f), 0);
}

static void test_blob_wrong_digest_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	sw_error *err = NULL;
	sw_descriptor d;
	char other[SW_DIGEST_LEN + 1], real[SW_DIGEST_LEN + 1];

	sw_digest_bytes(other, "something else", 14);
	sw_digest_bytes(real, "payload", 7);
	assert_int_equal(sw_image_store_put_blob(f->s, NULL, "payload", 7, other, &d, &err), SW_EINVALID);
	assert_non_null(strstr(err->msg, "digest mismatch"));
	sw_error_clear(&err);
	assert_false(sw_image_store_has_blob(f->s, real));
	assert_false(sw_image_store_has_blob(f->s, other));
	assert_int_equal(count_blobs(f), 0);
	assert_int_equal(count_tmp(f), 0);

	/* an abandoned writer leaves nothing either */
	sw_blob_writer *w = NULL;
	expect_ok(sw_blob_writer_new(&w, f->s, &err), err);
	expect_ok(sw_blob_writer_write(w, "partial", 7, &err), err);
	assert_int_equal(count_tmp(f), 1);
	sw_blob_writer_free(w);
	assert_int_equal(count_tmp(f), 0);
	assert_int_equal(count_blobs(f), 0);
}

static void test_blob_corruption_detected(void **state)
{
	struct fixture *f = *state;
	sw_error *err = NULL;
	sw_descriptor d;
	char path[256];
	char *data = NULL;
	FILE *fp;

	expect_ok(sw_image_store_put_blob(f->s, NULL, "original", 8, NULL, &d, &err), err);
	snprintf(path, sizeof(path), "%s/images/blobs/sha256/%s", f->dir, d.digest + 7);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("tampered", fp);
	fclose(fp);
	assert_int_equal(sw_image_store_read_blob(f->s, d.digest, 100, &data, NULL, &err), SW_EINVALID);
	assert_non_null(strstr(err->msg, "corrupt"));
	sw_error_clear(&err);
}

/* ---- references and tags ------------------------------------------------ */

static void test_ref_normalize(void **state)
{
	char *out = NULL;
	sw_error *err = NULL;
	(void)state;

	expect_ok(sw_image_ref_normalize(&out, "busybox", &err), err);
	assert_string_equal(out, "busybox:latest");
	free(out);
	expect_ok(sw_image_ref_normalize(&out, "slipway/busybox:1.35", &err), err);
	assert_string_equal(out, "slipway/busybox:1.35");
	free(out);
	expect_ok(sw_image_ref_normalize(&out, "localhost:5000/app", &err), err);
	assert_string_equal(out, "localhost:5000/app:latest");
	free(out);
	assert_int_equal(sw_image_ref_normalize(&out, "bad name", &err), SW_EINVALID);
	sw_error_clear(&err);
	assert_int_equal(sw_image_ref_normalize(&out, "app@sha256:00", &err), SW_EINVALID);
	sw_error_clear(&err);
	assert_int_equal(sw_image_ref_normalize(&out, "", &err), SW_EINVALID);
	sw_error_clear(&err);
	assert_int_equal(sw_image_ref_normalize(&out, "app:", &err), SW_EINVALID);
	sw_error_clear(&err);
}

/* A tiny but valid image: empty config + no layers is enough for tags. */
static void put_image(struct fixture *f, const char *arch, sw_descriptor *out)
{
	sw_error *err = NULL;
	sw_descriptor cd;
	json_t *cfg = sw_image_config_new(arch, "linux", 0);

	expect_ok(sw_image_store_put_json(f->s, SW_MT_OCI_CONFIG, cfg, &cd, &err), err);
	json_decref(cfg);
	expect_ok(sw_image_store_put_manifest(f->s, &cd, NULL, 0, NULL, out, &err), err);
}

static void test_tags_and_lookups(void **state)
{
	struct fixture *f = *state;
	sw_error *err = NULL;
	sw_descriptor a, b;
	char got[SW_DIGEST_LEN + 1], ref[128], prefix[16];

	put_image(f, "amd64", &a);
	put_image(f, "arm64", &b);
	expect_ok(sw_image_store_tag(f->s, "app", &a, &err), err);
	expect_ok(sw_image_store_tag(f->s, "slipway/app:1.0", &b, &err), err);

	expect_ok(sw_image_store_resolve(f->s, "app", got, &err), err);
	assert_string_equal(got, a.digest);
	expect_ok(sw_image_store_resolve(f->s, "app:latest", got, &err), err);
	assert_string_equal(got, a.digest);
	expect_ok(sw_image_store_resolve(f->s, "slipway/app:1.0", got, &err), err);
	assert_string_equal(got, b.digest);
	expect_ok(sw_image_store_resolve(f->s, b.digest, got, &err), err);
	assert_string_equal(got, b.digest);
	snprintf(ref, sizeof(ref), "slipway/app@%s", b.digest);
	expect_ok(sw_image_store_resolve(f->s, ref, got, &err), err);
	assert_string_equal(got, b.digest);
	snprintf(ref, sizeof(ref), "other@%s", b.digest);
	assert_int_equal(sw_image_store_resolve(f->s, ref, got, &err), SW_ENOTFOUND);
	sw_error_clear(&err);
	snprintf(prefix, sizeof(prefix), "%.10s", a.digest + 7);
	expect_ok(sw_image_store_resolve(f->s, prefix, got, &err), err);
	assert_string_equal(got, a.digest);
	snprintf(ref, sizeof(ref), "sha256:%.8s", b.digest + 7);
	expect_ok(sw_image_store_resolve(f->s, ref, got, &err), err);
	assert_string_equal(got, b.digest);

	assert_int_equal(sw_image_store_resolve(f->s, "nosuch:tag", got, &err), SW_ENOTFOUND);
	assert_non_null(strstr(err->msg, "nosuch:tag"));
	sw_error_clear(&err);

	/* retagging moves the tag */
	expect_ok(sw_image_store_tag(f->s, "app", &b, &err), err);
	expect_ok(sw_image_store_resolve(f->s, "app", got, &err), err);
	assert_string_equal(got, b.digest);

	/* a tag for a manifest that is not stored is refused */
	sw_descriptor ghost = b;
	sw_digest_bytes(ghost.digest, "ghost", 5);
	assert_int_equal(sw_image_store_tag(f->s, "ghost", &ghost, &err), SW_ENOTFOUND);
	sw_error_clear(&err);
}

static void test_ambiguous_prefix(void **state)
{
	struct fixture *f = *state;
	sw_error *err = NULL;
	char path[256], got[SW_DIGEST_LEN + 1];
	const char *d1 = "sha256:abcdef0111111111111111111111111111111111111111111111111111111111";
	const char *d2 = "sha256:abcdef0222222222222222222222222222222222222222222222222222222222";
	char *index = sw_xasprintf(
		"{\"schemaVersion\":2,\"manifests\":["
		"{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":1},"
		"{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":1}]}",
		SW_MT_OCI_MANIFEST, d1, SW_MT_OCI_MANIFEST, d2);

	snprintf(path, sizeof(path), "%s/images/index.json", f->dir);
	expect_ok(sw_write_file_atomic(path, index, strlen(index), 0644, &err), err);
	free(index);
	assert_int_equal(sw_image_store_resolve(f->s, "abcdef0", got, &err), SW_EAMBIGUOUS);
	assert_non_null(strstr(err->msg, "ambiguous"));
	sw_error_clear(&err);
	expect_ok(sw_image_store_resolve(f->s, "abcdef01", got, &err), err);
	assert_string_equal(got, d1);
	assert_int_equal(sw_image_store_resolve(f->s, "sha256:abc", got, &err), SW_EINVALID);
	sw_error_clear(&err);
	assert_int_equal(sw_image_store_resolve(f->s, "abcdef9", got, &err), SW_ENOTFOUND);
	sw_error_clear(&err);
}

static void test_concurrent_taggers(void **state)
{
	struct fixture *f = *state;
	sw_error *err = NULL;
	sw_descriptor a;
	pid_t pids[2];
	sw_image_summary *v = NULL;
	size_t n = 0;

	put_image(f, "amd64", &a);
	for (int w = 0; w < 2; w++) {
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] == 0) {
			sw_image_store *s = NULL;
			if (sw_image_store_open(&s, f->dir, NULL) < 0)
				_exit(2);
			for (int i = 0; i < 40; i++) {
				char ref[64];
				snprintf(ref, sizeof(ref), "writer%d/img:%d", w, i);
				if (sw_image_store_tag(s, ref, &a, NULL) < 0)
					_exit(1);
			}
			sw_image_store_free(s);
			_exit(0);
		}
	}
	for (int w = 0; w < 2; w++) {
		int st = 0;
		assert_int_equal(waitpid(pids[w], &st, 0), pids[w]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	expect_ok(sw_image_store_list(&v, &n, f->s, &err), err);
	assert_int_equal(n, 80);
	sw_image_summaries_free(v, n);
}

static void test_remove_and_prune(void **state)
{
	struct fixture *f = *state;
	sw_error *err = NULL;
	sw_descriptor a, b;
	sw_remove_result rr;
	sw_prune_result pr;
	char got[SW_DIGEST_LEN + 1];

	put_image(f, "amd64", &a);
	put_image(f, "arm64", &b);
	expect_ok(sw_image_store_tag(f->s, "one", &a, &err), err);
	expect_ok(sw_image_store_tag(f->s, "two", &a, &err), err);
	expect_ok(sw_image_store_tag(f->s, "three", &b, &err), err);
	assert_int_equal(count_blobs(f), 4);

	/* one of two tags: the manifest stays */
	expect_ok(sw_image_store_remove(f->s, "one", &rr, &err), err);
	assert_int_equal(rr.nuntagged, 1);
	assert_string_equal(rr.untagged[0], "one:latest");
	assert_int_equal(rr.ndeleted, 0);
	sw_remove_result_release(&rr);
	assert_true(sw_image_store_has_blob(f->s, a.digest));
	/* the last tag: the manifest goes, its config stays for prune */
	expect_ok(sw_image_store_remove(f->s, "two", &rr, &err), err);
	assert_int_equal(rr.ndeleted, 1);
	assert_string_equal(rr.deleted[0], a.digest);
	sw_remove_result_release(&rr);
	assert_false(sw_image_store_has_blob(f->s, a.digest));
	assert_int_equal(sw_image_store_resolve(f->s, a.digest, got, &err), SW_ENOTFOUND);
	sw_error_clear(&err);
	assert_int_equal(sw_image_store_remove(f->s, "nosuch", &rr, &err), SW_ENOTFOUND);
	sw_error_clear(&err);

	expect_ok(sw_image_store_prune(f->s, &pr, &err), err);
	assert_int_equal(pr.nremoved, 1); /* a's config */
	assert_true(pr.bytes > 0);
	sw_prune_result_release(&pr);
	assert_int_equal(count_blobs(f), 2);
	expect_ok(sw_image_store_resolve(f->s, "three", got, &err), err);
	sw_image *img = NULL;
	expect_ok(sw_image_store_load(&img, f->s, "three", &err), err);
	assert_string_equal(json_string_value(json_object_get(img->config, "architecture")), "arm64");
	sw_image_free(img);
	/* by digest: user tags go, a release's pin stays and keeps the manifest */
	expect_ok(sw_image_store_tag(f->s, "four", &b, &err), err);
	expect_ok(sw_image_store_tag(f->s, "slipway-release/app:v1-image", &b, &err), err);
	expect_ok(sw_image_store_remove(f->s, b.digest, &rr, &err), err);
	assert_int_equal(rr.nuntagged, 2);
	assert_int_equal(rr.nkept, 1);
	assert_string_equal(rr.kept[0], "slipway-release/app:v1-image");
	assert_int_equal(rr.ndeleted, 0);
	sw_remove_result_release(&rr);
	assert_true(sw_image_store_has_blob(f->s, b.digest));
	expect_ok(sw_image_store_resolve(f->s, "slipway-release/app:v1-image", got, &err), err);
	assert_string_equal(got, b.digest);
	assert_int_equal(sw_image_store_resolve(f->s, "three", got, &err), SW_ENOTFOUND);
	sw_error_clear(&err);
	/* by name the pin goes, and the manifest with it */
	expect_ok(sw_image_store_remove(f->s, "slipway-release/app:v1-image", &rr, &err), err);
	assert_int_equal(rr.ndeleted, 1);
	sw_remove_result_release(&rr);
}

/* ---- layers ------------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *content)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(content, fp);
	fclose(fp);
}

static void make_tree(const char *root)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/etc", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/bin", root);
	assert_int_equal(mkdir(p, 0755), 0);
	write_file(root, "etc/hostname", "box\n");
	write_file(root, "bin/tool", "#!/bin/sh\necho tool\n");
	snprintf(p, sizeof(p), "%s/bin/tool", root);
	assert_int_equal(chmod(p, 0755), 0);
	char q[512];
	snprintf(q, sizeof(q), "%s/bin/tool-link", root);
	assert_int_equal(link(p, q), 0);
	snprintf(q, sizeof(q), "%s/bin/sh", root);
	assert_int_equal(symlink("tool", q), 0);
}

static void layer_of_tree(struct fixture *f, const char *root, sw_layer_result *out)
{
	sw_error *err = NULL;
	sw_layer *l = sw_layer_new();
	sw_layer_opts o = { .compression = SW_COMPRESS_GZIP, .epoch = 0 };
	int fd = open(root, O_RDONLY | O_DIRECTORY);

	assert_true(fd >= 0);
	expect_ok(sw_layer_add_tree(l, fd, NULL, &err), err);
	expect_ok(sw_layer_write(f->s, l, &o, out, &err), err);
	sw_layer_free(l);
	close(fd);
}

static void test_layer_deterministic(void **state)
{
	struct fixture *f = *state;
	char t1[300], t2[300], p[512];
	sw_layer_result r1, r2, r3;
	struct timespec ts[2] = { { 1000000, 0 }, { 1700000000, 0 } };

	snprintf(t1, sizeof(t1), "%s/tree1", f->dir);
	snprintf(t2, sizeof(t2), "%s/tree2", f->dir);
	assert_int_equal(mkdir(t1, 0755), 0);
	assert_int_equal(mkdir(t2, 0755), 0);
	make_tree(t1);
	make_tree(t2);
	/* other mtimes in the second tree */
	snprintf(p, sizeof(p), "%s/etc/hostname", t2);
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	snprintf(p, sizeof(p), "%s/etc", t2);
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);

	layer_of_tree(f, t1, &r1);
	layer_of_tree(f, t1, &r2);
	assert_string_equal(r1.blob.digest, r2.blob.digest);
	assert_string_equal(r1.diff_id, r2.diff_id);
	assert_string_equal(r1.blob.media_type, SW_MT_OCI_LAYER_GZIP);
	layer_of_tree(f, t2, &r3);
	assert_string_equal(r1.blob.digest, r3.blob.digest);
	assert_string_equal(r1.diff_id, r3.diff_id);
	assert_string_not_equal(r1.blob.digest, r1.diff_id);

	/* the layer holds the hard link as a link and the symlink as one */
	char cmd[700];
	snprintf(cmd, sizeof(cmd),
	         "tar tvzf %s/images/blobs/sha256/%s | grep -q 'bin/tool-link link to bin/tool' && "
	         "tar tvzf %s/images/blobs/sha256/%s | grep -q 'bin/sh -> tool'",
	         f->dir, r1.blob.digest + 7, f->dir, r1.blob.digest + 7);
	assert_int_equal(system(cmd), 0);
	/* no mtime in the gzip header */
	unsigned char hdr[10];
	snprintf(p, sizeof(p), "%s/images/blobs/sha256/%s", f->dir, r1.blob.digest + 7);
	FILE *fp = fopen(p, "rb");
	assert_non_null(fp);
	assert_int_equal(fread(hdr, 1, 10, fp), 10);
	fclose(fp);
	assert_int_equal(hdr[0], 0x1f);
	assert_int_equal(hdr[3], 0); /* no FNAME, no FCOMMENT */
	assert_int_equal(hdr[4] | hdr[5] | hdr[6] | hdr[7], 0);

	/* a content change gives another digest */
	write_file(t2, "etc/hostname", "other\n");
	layer_of_tree(f, t2, &r3);
	assert_string_not_equal(r1.diff_id, r3.diff_id);
}

static void test_layer_entries_sorted(void **state)
{
	struct fixture *f = *state;
	sw_error *err = NULL;
	sw_layer *l = sw_layer_new(), *l2 = sw_layer_new();
	sw_layer_opts o = { .compression = SW_COMPRESS_NONE, .epoch = 100 };
	sw_layer_result r1, r2;
	sw_layer_entry d = { .path = "b", .type = SW_LAYER_DIR, .mode = 0755, .src_fd = -1, .src_dirfd = -1 };
	sw_layer_entry x = { .path = "b/x", .type = SW_LAYER_FILE, .mode = 0644, .uid = 1000, .gid = 1000,
	                     .mtime = 5000, .data = "x", .size = 1, .src_fd = -1, .src_dirfd = -1 };
	sw_layer_entry a = { .path = "./a/", .type = SW_LAYER_DIR, .mode = 0700, .mtime = 50, .src_fd = -1,
	                     .src_dirfd = -1 };
	sw_layer_entry w = { .path = "a/.wh.gone", .type = SW_LAYER_FILE, .src_fd = -1, .src_dirfd = -1 };

	/* the same entries in two orders */
	expect_ok(sw_layer_add(l, &d, &err), err);
	expect_ok(sw_layer_add(l, &x, &err), err);
	expect_ok(sw_layer_add_xattr(l, "user.b", "2", 1, &err), err);
	expect_ok(sw_layer_add_xattr(l, "user.a", "1", 1, &err), err);
	expect_ok(sw_layer_add(l, &a, &err), err);
	expect_ok(sw_layer_add(l, &w, &err), err);
	expect_ok(sw_layer_add(l2, &w, &err), err);
	expect_ok(sw_layer_add(l2, &a, &err), err);
	expect_ok(sw_layer_add(l2, &x, &err), err);
	expect_ok(sw_layer_add_xattr(l2, "user.a", "1", 1, &err), err);
	expect_ok(sw_layer_add_xattr(l2, "user.b", "2", 1, &err), err);
	expect_ok(sw_layer_add(l2, &d, &err), err);
	assert_int_equal(sw_layer_count(l), 4);
	expect_ok(sw_layer_write(f->s, l, &o, &r1, &err), err);
	expect_ok(sw_layer_write(f->s, l2, &o, &r2, &err), err);
	assert_string_equal(r1.diff_id, r2.diff_id);
	/* uncompressed: the blob is the tar */
	assert_string_equal(r1.blob.digest, r1.diff_id);
	assert_string_equal(r1.blob.media_type, SW_MT_OCI_LAYER);
	sw_layer_free(l);
	sw_layer_free(l2);

	char cmd[512];
	snprintf(cmd, sizeof(cmd),
	         "tar tf %s/images/blobs/sha256/%s | tr '\\n' ' ' | grep -qx 'a/ a/.wh.gone b/ b/x '", f->dir,
	         r1.blob.digest + 7);
	assert_int_equal(system(cmd), 0);
}

static void test_layer_zstd(void **state)
{
	struct fixture *f = *state;
	sw_error *err = NULL;
	sw_layer *l = sw_layer_new();
	sw_layer_opts o = { .compression = SW_COMPRESS_ZSTD };
	sw_layer_result r;
	sw_layer_entry x = { .path = "x", .type = SW_LAYER_FILE, .mode = 0644, .data = "zz", .size = 2,
	                     .src_fd = -1, .src_dirfd = -1 };

	expect_ok(sw_layer_add(l, &x, &err), err);
	expect_ok(sw_layer_write(f->s, l, &o, &r, &err), err);
	assert_string_equal(r.blob.media_type, SW_MT_OCI_LAYER_ZSTD);
	sw_layer_free(l);
}

/* ---- hostile tars ------------------------------------------------------- */

struct tentry {
	const char *path;
	unsigned type;
	const char *link; /* symlink target, or hard link target when hard */
	bool hard;
	const char *data;
};

static int make_tar(const char *path, const struct tentry *v, size_t n)
{
	struct archive *a = archive_write_new();

	archive_write_set_format_pax_restricted(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, v[i].path);
		archive_entry_set_filetype(e, v[i].type);
		archive_entry_set_perm(e, 0644);
		if (v[i].hard)
			archive_entry_set_hardlink(e, v[i].link);
		else if (v[i].link)
			archive_entry_set_symlink(e, v[i].link);
		if (v[i].type == AE_IFCHR) {
			archive_entry_set_rdevmajor(e, 1);
			archive_entry_set_rdevminor(e, 3);
		}
		archive_entry_set_size(e, v[i].data ? (la_int64_t)strlen(v[i].data) : 0);
		archive_write_header(a, e);
		if (v[i].data)
			archive_write_data(a, v[i].data, strlen(v[i].data));
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	return 0;
}

static int read_tar(struct fixture *f, const struct tentry *v, size_t n, sw_error **err)
{
	char path[256];
	sw_layer *l = sw_layer_new();
	int fd, r;

	snprintf(path, sizeof(path), "%s/in.tar", f->dir);
	assert_int_equal(make_tar(path, v, n), 0);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	r = sw_layer_read_tar(l, f->s, fd, "in.tar", err);
	close(fd);
	if (r == 0) {
		sw_layer_opts o = { .compression = SW_COMPRESS_GZIP };
		sw_layer_result res;
		r = sw_layer_write(f->s, l, &o, &res, err);
	}
	sw_layer_free(l);
	return r;
}

static void test_hostile_tars(void **state)
{
	struct fixture *f = *state;
	sw_error *err = NULL;
	size_t before = count_blobs(f);

	const struct tentry absolute[] = { { "/etc/passwd", AE_IFREG, NULL, false, "root" } };
	assert_int_equal(read_tar(f, absolute, 1, &err), SW_EESCAPE);
	expect_message(&err, "absolute");

	const struct tentry dotdot[] = { { "a/../../x", AE_IFREG, NULL, false, "x" } };
	assert_int_equal(read_tar(f, dotdot, 1, &err), SW_EESCAPE);
	sw_error_clear(&err);

	const struct tentry hard_out[] = { { "a", AE_IFREG, "../../etc/shadow", true, NULL } };
	assert_int_equal(read_tar(f, hard_out, 1, &err), SW_EESCAPE);
	sw_error_clear(&err);

	const struct tentry hard_abs[] = { { "a", AE_IFREG, "/etc/shadow", true, NULL } };
	assert_int_equal(read_tar(f, hard_abs, 1, &err), SW_EESCAPE);
	sw_error_clear(&err);

	const struct tentry hard_missing[] = { { "a", AE_IFREG, "not/here", true, NULL } };
	assert_int_equal(read_tar(f, hard_missing, 1, &err), SW_EESCAPE);
	sw_error_clear(&err);

	const struct tentry through_symlink[] = {
		{ "etc", AE_IFLNK, "/etc", false, NULL },
		{ "etc/passwd", AE_IFREG, NULL, false, "evil" },
	};
	assert_int_equal(read_tar(f, through_symlink, 2, &err), SW_EESCAPE);
	expect_message(&err, "goes through the symlink");

	/* nothing entered the store */
	assert_int_equal(count_blobs(f), before);

	/* device nodes stay entries; a hard link to an earlier file is fine and
	 * lands after its target whatever the archive order */
	const struct tentry ok[] = {
		{ "z", AE_IFREG, NULL, false, "content" },
		{ "a", AE_IFREG, "z", true, NULL },
		{ "dev/null", AE_IFCHR, NULL, false, NULL },
		{ "lnk", AE_IFLNK, "/etc/passwd", false, NULL },
	};
	expect_ok(read_tar(f, ok, 4, &err), err);
}

/* ---- rootfs import and archives ----------------------------------------- */

static void test_rootfs_import_and_archives(void **state)
{
	struct fixture *f = *state;
	sw_error *err = NULL;
	sw_rootfs_opts ro = { 0 };
	sw_descriptor d1, d2;
	sw_import_result ir;
	char tar[256], out[256], dir2[300], cmd[700];
	sw_image_store *s2 = NULL;
	sw_image *img = NULL;
	const struct tentry rootfs[] = {
		{ "./", AE_IFDIR, NULL, false, NULL },
		{ "./bin/", AE_IFDIR, NULL, false, NULL },
		{ "./bin/sh", AE_IFREG, NULL, false, "#!fake shell\n" },
		{ "./bin/ls", AE_IFLNK, "sh", false, NULL },
	};

	snprintf(tar, sizeof(tar), "%s/rootfs.tar", f->dir);
	assert_int_equal(make_tar(tar, rootfs, 4), 0);
	expect_ok(sw_image_import_rootfs(f->s, tar, "base:1", &ro, &d1, &err), err);
	expect_ok(sw_image_import_rootfs(f->s, tar, "base:2", &ro, &d2, &err), err);
	assert_string_equal(d1.digest, d2.digest);
	expect_ok(sw_image_store_load(&img, f->s, "base:1", &err), err);
	assert_int_equal(img->nlayers, 1);
	assert_int_equal(img->nrefs, 2);
	assert_string_equal(json_string_value(json_object_get(img->config, "created")), "1970-01-01T00:00:00Z");
	sw_image_free(img);

	/* export and import into a second store, both formats */
	snprintf(dir2, sizeof(dir2), "%s/second", f->dir);
	assert_int_equal(mkdir(dir2, 0700), 0);
	expect_ok(sw_image_store_open(&s2, dir2, &err), err);
	snprintf(out, sizeof(out), "%s/base.oci.tar", f->dir);
	expect_ok(sw_image_export(f->s, "base:1", out, SW_ARCHIVE_OCI, &err), err);
	expect_ok(sw_image_import_archive(s2, out, NULL, &ir, &err), err);
	assert_int_equal(ir.ndigests, 1);
	assert_string_equal(ir.digests[0], d1.digest);
	assert_string_equal(ir.refs[0], "base:1");
	sw_import_result_release(&ir);
	snprintf(out, sizeof(out), "%s/base.docker.tar", f->dir);
	expect_ok(sw_image_export(f->s, "base:1", out, SW_ARCHIVE_DOCKER, &err), err);
	expect_ok(sw_image_import_archive(s2, out, "from/docker:x", &ir, &err), err);
	assert_string_equal(ir.digests[0], d1.digest);
	sw_import_result_release(&ir);

	/* a corrupted archive changes nothing in the store */
	size_t before = count_dir(dir2);
	snprintf(cmd, sizeof(cmd),
	         "cd %s && mkdir bad && cd bad && tar xf ../base.oci.tar && "
	         "for b in blobs/sha256/*; do printf x >> $b; done; "
	         "tar cf ../bad.tar .",
	         f->dir);
	assert_int_equal(system(cmd), 0);
	char images2[400];
	snprintf(images2, sizeof(images2), "%s/images/blobs/sha256", dir2);
	size_t nblobs = count_dir(images2);
	snprintf(out, sizeof(out), "%s/bad.tar", f->dir);
	assert_int_equal(sw_image_import_archive(s2, out, "bad:1", &ir, &err), SW_EINVALID);
	expect_message(&err, "digest mismatch");
	assert_int_equal(count_dir(images2), nblobs);
	assert_int_equal(count_dir(dir2), before);
	char got[SW_DIGEST_LEN + 1];
	assert_int_equal(sw_image_store_resolve(s2, "bad:1", got, &err), SW_ENOTFOUND);
	sw_error_clear(&err);
	sw_image_store_free(s2);
}

static void test_statedir(void **state)
{
	sw_error *err = NULL;
	char *dir = NULL;
	char tmpl[] = "/tmp/sw-home-XXXXXX", sub[64];
	struct stat st;
	(void)state;

	expect_ok(sw_statedir_resolve(&dir, "/flag/dir", &err), err);
	assert_string_equal(dir, "/flag/dir");
	free(dir);
	setenv("SLIPWAY_HOME", "/env/dir", 1);
	expect_ok(sw_statedir_resolve(&dir, NULL, &err), err);
	assert_string_equal(dir, "/env/dir");
	free(dir);
	unsetenv("SLIPWAY_HOME");
	expect_ok(sw_statedir_resolve(&dir, NULL, &err), err);
	assert_string_equal(dir, geteuid() == 0 ? "/var/lib/slipway" : dir);
	free(dir);
	/* created 0700, parents included */
	assert_non_null(mkdtemp(tmpl));
	snprintf(sub, sizeof(sub), "%s/a/b/state", tmpl);
	expect_ok(sw_statedir_open(&dir, sub, &err), err);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	free(dir);
	snprintf(sub, sizeof(sub), "rm -rf '%s'", tmpl);
	assert_int_equal(system(sub), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_blob_put_and_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blob_wrong_digest_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blob_corruption_detected, setup, teardown),
		cmocka_unit_test(test_ref_normalize),
		cmocka_unit_test(test_statedir),
		cmocka_unit_test_setup_teardown(test_tags_and_lookups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ambiguous_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_taggers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_and_prune, setup, teardown),
		cmocka_unit_test_setup_teardown(test_layer_deterministic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_layer_entries_sorted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_layer_zstd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_tars, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rootfs_import_and_archives, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
