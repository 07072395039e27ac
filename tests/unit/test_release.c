/* Unit tests for release/ against real parts in temp dirs (an image store,
 * the SQLite release index): ID determinism, vN numbering that never reuses
 * a number, ID prefix lookups, env-file and Procfile errors with line
 * numbers, secrets kept out of every blob, export/import keeping the ID.
 * Uses release_int.h (this test's include path) to burn a version number
 * and to add rows with chosen IDs. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "release_int.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/path.h"

struct fixture {
	char dir[64];
	char dir2[64];
	sw_releases *r;
	sw_releases *r2;
};

static int setup(void **state)
{
	struct fixture *f = sw_xcalloc(1, sizeof(*f));
	sw_error *err = NULL;

	snprintf(f->dir, sizeof(f->dir), "/tmp/sw-release-XXXXXX");
	snprintf(f->dir2, sizeof(f->dir2), "/tmp/sw-release2-XXXXXX");
	if (!mkdtemp(f->dir) || !mkdtemp(f->dir2))
		return -1;
	if (sw_releases_open(&f->r, f->dir, &err) < 0 || sw_releases_open(&f->r2, f->dir2, &err) < 0) {
		sw_error_free(err);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[200];

	sw_releases_free(f->r);
	sw_releases_free(f->r2);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", f->dir, f->dir2);
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

static void expect_error(int r, sw_error **err, int code, const char *want)
{
	char *m;

	if (r >= 0)
		fail_msg("expected an error mentioning '%s'", want);
	m = sw_error_string(*err);
	if (!strstr(m, want))
		fail_msg("error '%s' does not mention '%s'", m, want);
	if (code && sw_error_code(*err) != code)
		fail_msg("error '%s' has code %d, want %d", m, sw_error_code(*err), code);
	free(m);
	sw_error_clear(err);
}

/* A small image (no layers, Cmd set) tagged ref in r's store; ann (may be
 * NULL) are its manifest's annotations. */
static void put_image_ann(sw_releases *r, const char *ref, const char *cmd, const json_t *ann)
{
	sw_image_store *s = sw_releases_store(r);
	sw_error *err = NULL;
	sw_descriptor cd, md;
	json_t *cfg = sw_image_config_new("amd64", "linux", 0);

	json_object_set_new(json_object_get(cfg, "config"), "Cmd", json_pack("[s, s]", cmd, "--port=8080"));
	expect_ok(sw_image_store_put_json(s, SW_MT_OCI_CONFIG, cfg, &cd, &err), err);
	json_decref(cfg);
	expect_ok(sw_image_store_put_manifest(s, &cd, NULL, 0, ann, &md, &err), err);
	expect_ok(sw_image_store_tag(s, ref, &md, &err), err);
}

static void put_image(sw_releases *r, const char *ref, const char *cmd)
{
	put_image_ann(r, ref, cmd, NULL);
}

static void make_release(sw_releases *r, const char *app, const char *image, sw_release_info *out)
{
	cleanup_json json_t *env = json_pack("{s:s, s:s}", "PORT", "8080", "GREETING", "hello world");
	sw_release_spec spec = { .app = app, .image = image, .env = env, .note = "first" };
	sw_error *err = NULL;

	expect_ok(sw_release_create(r, &spec, out, &err), err);
}

static void test_id_deterministic(void **state)
{
	struct fixture *f = *state;
	sw_release_info a = { 0 }, b = { 0 };
	cleanup_json json_t *doc = NULL, *m = NULL;
	sw_error *err = NULL;

	put_image(f->r, "web:1", "/bin/httpd");
	put_image(f->r2, "web:1", "/bin/httpd");
	make_release(f->r, "shop", "web:1", &a);
	make_release(f->r2, "shop", "web:1", &b);
	assert_true(sw_digest_valid(a.id));
	assert_string_equal(a.id, b.id);
	assert_int_equal(a.version, 1);
	assert_string_equal(a.reason, "build");
	assert_null(a.parent);

	expect_ok(release_read_manifest(f->r, a.id, &m, &err), err);
	assert_string_equal(json_string_value(json_object_get(m, "artifactType")), SW_MT_RELEASE);
	assert_string_equal(json_string_value(json_object_get(json_object_get(m, "config"), "mediaType")),
	                    SW_MT_RELEASE);
	assert_string_equal(json_string_value(json_object_get(json_object_get(m, "subject"), "digest")), a.image);
	assert_int_equal(json_array_size(json_object_get(m, "layers")), 1); /* the empty descriptor */

	expect_ok(sw_release_document(f->r, a.id, &doc, &err), err);
	assert_string_equal(json_string_value(json_object_get(doc, "app")), "shop");
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "processes"), "web")),
	                    "/bin/httpd --port=8080");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(json_object_get(doc, "config"), "PORT"), "value")), "8080");
	assert_null(json_object_get(doc, "created"));

	/* git metadata from the image's annotations (as a git build writes them) */
	cleanup_json json_t *ann = json_pack("{s:s, s:s, s:s, s:s}", "org.opencontainers.image.revision",
	                                     "0123456789abcdef0123456789abcdef01234567", "org.opencontainers.image.source",
	                                     "https://example.com/shop.git", "dev.slipway.git.author", "Ann <ann@x>",
	                                     "dev.slipway.git.message", "fix the cart");
	cleanup_json json_t *gdoc = NULL;
	sw_release_info g = { 0 };
	put_image_ann(f->r, "web:git", "/bin/httpd", ann);
	make_release(f->r, "gitapp", "web:git", &g);
	assert_string_equal(g.git_commit, "0123456789abcdef0123456789abcdef01234567");
	expect_ok(sw_release_document(f->r, g.id, &gdoc, &err), err);
	json_t *git = json_object_get(json_object_get(gdoc, "build"), "git");
	assert_string_equal(json_string_value(json_object_get(git, "author")), "Ann <ann@x>");
	assert_string_equal(json_string_value(json_object_get(git, "message")), "fix the cart");
	assert_string_equal(json_string_value(json_object_get(git, "source")), "https://example.com/shop.git");
	sw_release_info_release(&g);

	/* a different image gives a different ID */
	put_image(f->r2, "web:2", "/bin/other");
	sw_release_info c = { 0 };
	make_release(f->r2, "shop", "web:2", &c);
	assert_string_not_equal(c.id, b.id);
	assert_int_equal(c.version, 2);
	assert_string_equal(c.parent, b.id);
	sw_release_info_release(&a);
	sw_release_info_release(&b);
	sw_release_info_release(&c);
}

static void test_versions_never_reused(void **state)
{
	struct fixture *f = *state;
	sw_release_info a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	cleanup_json json_t *set = json_pack("{s:s}", "DEBUG", "1"), *unset = json_pack("[s]", "DEBUG");
	cleanup_json json_t *bad = json_pack("[s]", "NOPE");
	sw_release_info *v = NULL;
	size_t n = 0;
	int64_t burnt;
	sw_error *err = NULL;

	put_image(f->r, "web:1", "/bin/httpd");
	make_release(f->r, "shop", "web:1", &a);
	expect_ok(sw_release_config_change(f->r, "shop", set, false, NULL, NULL, &b, &err), err);
	assert_int_equal(b.version, 2);
	assert_string_equal(b.reason, "config");
	assert_string_equal(b.parent, a.id);
	/* a version taken by a release that then failed is not reused */
	expect_ok(release_db_next_version(f->r, "shop", &burnt, &err), err);
	assert_int_equal(burnt, 3);
	expect_error(sw_release_config_change(f->r, "shop", NULL, false, bad, NULL, &c, &err), &err, SW_ENOTFOUND,
	             "has no config var NOPE");
	expect_ok(sw_release_config_change(f->r, "shop", NULL, false, unset, NULL, &c, &err), err);
	assert_int_equal(c.version, 4);
	/* back to the first config but with a parent: a new ID */
	assert_string_not_equal(c.id, a.id);

	/* rollback to v2: a new version with v2's config and the current parent */
	sw_release_info rb = { 0 };
	cleanup_json json_t *d2 = NULL, *drb = NULL;
	expect_ok(sw_release_rollback(f->r, "shop", "v2", "back", &rb, &err), err);
	assert_int_equal(rb.version, 5);
	assert_string_equal(rb.reason, "rollback");
	assert_string_equal(rb.parent, c.id);
	expect_ok(sw_release_document(f->r, b.id, &d2, &err), err);
	expect_ok(sw_release_document(f->r, rb.id, &drb, &err), err);
	assert_true(json_equal(json_object_get(d2, "config"), json_object_get(drb, "config")));
	assert_string_equal(json_string_value(json_object_get(drb, "image")), b.image);
	sw_release_info_release(&rb);
	expect_error(sw_release_rollback(f->r, "shop", "v3", NULL, &rb, &err), &err, SW_ENOTFOUND, "has no release v3");

	expect_ok(sw_release_list(f->r, "shop", 0, &v, &n, &err), err);
	assert_int_equal(n, 4);
	assert_int_equal(v[0].version, 5);
	assert_int_equal(v[3].version, 1);
	sw_release_infos_free(v, n);
	expect_ok(sw_release_list(f->r, "shop", 1, &v, &n, &err), err);
	assert_int_equal(n, 1);
	sw_release_infos_free(v, n);

	expect_error(sw_release_list(f->r, "nope", 0, &v, &n, &err), &err, SW_ENOTFOUND, "app 'nope' has no releases");
	expect_error(sw_release_current(f->r, "Bad_App", &d, &err), &err, SW_EINVALID, "invalid app name");
	expect_error(sw_release_current(f->r, "show", &d, &err), &err, SW_EINVALID, "app name 'show' is reserved");
	cleanup_json json_t *env = json_object();
	sw_release_spec spec = { .app = "shop", .image = "missing:1", .env = env };
	expect_error(sw_release_create(f->r, &spec, &d, &err), &err, SW_ENOTFOUND, "missing:1");
	sw_release_info_release(&a);
	sw_release_info_release(&b);
	sw_release_info_release(&c);
}

static void add_row(sw_releases *r, const char *app, int64_t version, const char *id)
{
	sw_release_info info = { 0 };
	sw_error *err = NULL;

	snprintf(info.id, sizeof(info.id), "%s", id);
	snprintf(info.app, sizeof(info.app), "%s", app);
	snprintf(info.image, sizeof(info.image), "sha256:%064d", 0);
	info.version = version;
	info.created = "1970-01-01T00:00:00Z";
	info.author = "test";
	info.reason = "import";
	expect_ok(release_db_insert(r, &info, NULL, false, &err), err);
}

static void test_prefix_lookup(void **state)
{
	struct fixture *f = *state;
	sw_release_info a = { 0 }, got = { 0 };
	char prefix[80];
	sw_error *err = NULL;

	put_image(f->r, "web:1", "/bin/httpd");
	make_release(f->r, "shop", "web:1", &a);
	expect_ok(sw_release_lookup(f->r, "shop", a.id, &got, &err), err);
	assert_string_equal(got.id, a.id);
	sw_release_info_release(&got);
	snprintf(prefix, sizeof(prefix), "%.7s", a.id + 7);
	expect_ok(sw_release_lookup(f->r, "shop", prefix, &got, &err), err);
	assert_string_equal(got.id, a.id);
	sw_release_info_release(&got);
	snprintf(prefix, sizeof(prefix), "%.20s", a.id);
	expect_ok(sw_release_lookup(f->r, "shop", prefix, &got, &err), err);
	assert_string_equal(got.id, a.id);
	sw_release_info_release(&got);
	expect_ok(sw_release_lookup(f->r, "shop", "v1", &got, &err), err);
	assert_string_equal(got.id, a.id);
	sw_release_info_release(&got);

	snprintf(prefix, sizeof(prefix), "%.6s", a.id + 7);
	expect_error(sw_release_lookup(f->r, "shop", prefix, &got, &err), &err, SW_EINVALID, "neither vN nor");
	expect_error(sw_release_lookup(f->r, "shop", "v7", &got, &err), &err, SW_ENOTFOUND, "has no release v7");
	expect_error(sw_release_lookup(f->r, "other", "v1", &got, &err), &err, SW_ENOTFOUND, "app 'other' has no releases");

	add_row(f->r, "shop", 2, "sha256:abcdef1000000000000000000000000000000000000000000000000000000000");
	add_row(f->r, "shop", 3, "sha256:abcdef1100000000000000000000000000000000000000000000000000000000");
	expect_error(sw_release_lookup(f->r, "shop", "abcdef1", &got, &err), &err, SW_EAMBIGUOUS, "ambiguous");
	expect_ok(sw_release_lookup(f->r, "shop", "sha256:abcdef11", &got, &err), err);
	assert_int_equal(got.version, 3);
	sw_release_info_release(&got);
	expect_error(sw_release_lookup(f->r, "shop", "abcdef2", &got, &err), &err, SW_ENOTFOUND, "abcdef2");

	/* a release made from a release that is no longer the current one */
	sw_release_info stale = { 0 };
	snprintf(stale.id, sizeof(stale.id), "sha256:%064d", 7);
	snprintf(stale.app, sizeof(stale.app), "shop");
	snprintf(stale.image, sizeof(stale.image), "%s", a.image);
	stale.version = 4;
	stale.created = "1970-01-01T00:00:00Z";
	stale.author = "test";
	stale.reason = "config";
	stale.parent = a.id;
	expect_error(release_db_insert(f->r, &stale, NULL, true, &err), &err, SW_ECONFLICT, "changed while release v4");
	expect_error(sw_release_lookup(f->r, "shop", "v4", &got, &err), &err, SW_ENOTFOUND, "v4");
	sw_release_info_release(&a);
}

static json_t *env_ok(const char *text)
{
	json_t *out = NULL;
	sw_error *err = NULL;

	expect_ok(sw_env_parse(&out, "t.env", text, strlen(text), &err), err);
	return out;
}

static void env_bad(const char *text, const char *want)
{
	json_t *out = NULL;
	sw_error *err = NULL;

	expect_error(sw_env_parse(&out, "t.env", text, strlen(text), &err), &err, SW_EINVALID, want);
	assert_null(out);
}

static void test_env_file(void **state)
{
	(void)state;
	cleanup_json json_t *e = env_ok("# comment\n\nA=1\nexport B = two words  # note\n"
	                                "C=\"quoted \\\"x\\\" \\n\" # c\nD='single $x \\n'\nE=\nF=a#b\r\n");
	assert_string_equal(json_string_value(json_object_get(e, "A")), "1");
	assert_string_equal(json_string_value(json_object_get(e, "B")), "two words");
	assert_string_equal(json_string_value(json_object_get(e, "C")), "quoted \"x\" \n");
	assert_string_equal(json_string_value(json_object_get(e, "D")), "single $x \\n");
	assert_string_equal(json_string_value(json_object_get(e, "E")), "");
	assert_string_equal(json_string_value(json_object_get(e, "F")), "a#b");

	env_bad("A=1\nB\n", "t.env:2: expected KEY=VALUE");
	env_bad("A=1\n\n1A=2\n", "t.env:3: invalid key '1A'");
	env_bad("A=1\nB-C=2\n", "t.env:2:");
	env_bad("A=\"open\n", "t.env:1: unterminated double-quoted value");
	env_bad("A=1\nB='x' y\n", "t.env:2: unexpected text after the closing quote");

	sw_error *err = NULL;
	expect_ok(sw_config_key_check("_OK_1", &err), err);
	expect_error(sw_config_key_check("BAD-KEY", &err), &err, SW_EINVALID, "invalid config key 'BAD-KEY'");
}

static void test_procfile(void **state)
{
	(void)state;
	json_t *p = NULL;
	sw_error *err = NULL;
	const char *ok = "# procs\nweb: httpd -f -p $PORT\nworker:   ./work  \n";

	expect_ok(sw_procfile_parse(&p, "Procfile", ok, strlen(ok), &err), err);
	assert_string_equal(json_string_value(json_object_get(p, "web")), "httpd -f -p $PORT");
	assert_string_equal(json_string_value(json_object_get(p, "worker")), "./work");
	json_decref(p);
	p = NULL;
	expect_error(sw_procfile_parse(&p, "Procfile", "web: a\nno colon\n", 17, &err), &err, SW_EINVALID,
	             "Procfile:2: expected 'name: command'");
	expect_error(sw_procfile_parse(&p, "Procfile", "web: a\nweb: b\n", 14, &err), &err, SW_EINVALID,
	             "Procfile:2: process type 'web' given twice");
	expect_error(sw_procfile_parse(&p, "Procfile", "web:\n", 5, &err), &err, SW_EINVALID, "Procfile:1:");
}

/* True if any blob of the store holds needle. */
static bool store_holds(struct fixture *f, const char *needle)
{
	char path[512];
	bool found = false;
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/images/blobs/sha256", f->dir);
	dir = opendir(path);
	assert_non_null(dir);
	while (!found && (d = readdir(dir))) {
		char *data = NULL, file[1024];
		size_t len = 0;
		sw_error *err = NULL;
		if (d->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, d->d_name);
		expect_ok(sw_read_file(&data, &len, file, 64u << 20, &err), err);
		found = memmem(data, len, needle, strlen(needle)) != NULL;
		free(data);
	}
	closedir(dir);
	return found;
}

static void test_secrets_not_in_manifest(void **state)
{
	struct fixture *f = *state;
	static const char secret[] = "s3cr3t-value-Zq9";
	cleanup_json json_t *set = json_pack("{s:s}", "DB_PASSWORD", secret), *doc = NULL, *masked = NULL;
	sw_release_info a = { 0 }, b = { 0 };
	cleanup_free char *value = NULL;
	char digest[SW_DIGEST_LEN + 1];
	sw_error *err = NULL;

	put_image(f->r, "web:1", "/bin/httpd");
	make_release(f->r, "shop", "web:1", &a);
	expect_ok(sw_release_config_change(f->r, "shop", set, true, NULL, "rotate", &b, &err), err);
	assert_false(store_holds(f, secret));
	expect_ok(sw_release_document(f->r, b.id, &doc, &err), err);
	sw_digest_bytes(digest, secret, strlen(secret));
	json_t *entry = json_object_get(json_object_get(doc, "config"), "DB_PASSWORD");
	assert_string_equal(json_string_value(json_object_get(entry, "secret")), digest);
	assert_null(json_object_get(entry, "value"));
	masked = sw_release_config_masked(doc);
	assert_string_equal(json_string_value(json_object_get(masked, "DB_PASSWORD")), SW_SECRET_MASK);
	assert_string_equal(json_string_value(json_object_get(masked, "PORT")), "8080");
	expect_ok(release_db_secret(f->r, "shop", "DB_PASSWORD", digest, &value, &err), err);
	assert_string_equal(value, secret);

	/* diff shows the change masked */
	cleanup_json json_t *da = NULL;
	expect_ok(sw_release_document(f->r, a.id, &da, &err), err);
	cleanup_json json_t *d = sw_release_diff(da, doc);
	cleanup_free char *text = sw_json_canonical(d);
	assert_null(strstr(text, secret));
	assert_non_null(strstr(text, "\"new\":\"****\""));

	/* export/import into a fresh state dir keeps the ID; no secret in the file */
	char tarpath[128];
	sw_release_info imp = { 0 };
	snprintf(tarpath, sizeof(tarpath), "%s/rel.tar", f->dir2);
	expect_ok(sw_release_export(f->r, "shop", "v2", tarpath, &err), err);
	cleanup_free char *tar = NULL;
	size_t tarlen = 0;
	expect_ok(sw_read_file(&tar, &tarlen, tarpath, 64u << 20, &err), err);
	assert_null(memmem(tar, tarlen, secret, strlen(secret)));
	expect_ok(sw_release_import(f->r2, tarpath, &imp, &err), err);
	assert_string_equal(imp.id, b.id);
	assert_int_equal(imp.version, 1);
	assert_string_equal(imp.reason, "import");
	sw_release_info_release(&imp);
	/* twice: registered once */
	expect_ok(sw_release_import(f->r2, tarpath, &imp, &err), err);
	assert_int_equal(imp.version, 1);
	sw_release_info_release(&imp);
	expect_error(sw_release_import(f->r2, "/nonexistent.tar", &imp, &err), &err, 0, "/nonexistent.tar");
	sw_release_info_release(&a);
	sw_release_info_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_id_deterministic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_versions_never_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefix_lookup, setup, teardown),
		cmocka_unit_test(test_env_file),
		cmocka_unit_test(test_procfile),
		cmocka_unit_test_setup_teardown(test_secrets_not_in_manifest, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
