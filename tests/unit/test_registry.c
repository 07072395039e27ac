/* Unit tests for build/registry*.c without a network: reference parsing
 * and Docker's normalisation, host detection, base64 and where credentials
 * come from (SLIPWAY_REGISTRY_AUTH forms, docker config.json). Pushes and
 * pulls are tested against a real registry in tests/integration/registry.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "registry_int.h"
#include "slipway/cleanup.h"
#include "slipway/registry.h"

#define D64 "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void check_ref(const char *in, const char *host, const char *name, const char *tag, const char *digest)
{
	sw_registry_ref r;
	sw_error *e = NULL;

	if (sw_registry_ref_parse(&r, in, &e) < 0) {
		char *s = sw_error_string(e);
		fail_msg("parse %s: %s", in, s);
	}
	assert_string_equal(r.host, host);
	assert_string_equal(r.name, name);
	if (tag)
		assert_string_equal(r.tag, tag);
	else
		assert_null(r.tag);
	if (digest)
		assert_string_equal(r.digest, digest);
	else
		assert_null(r.digest);
	sw_registry_ref_release(&r);
}

static void check_bad(const char *in)
{
	sw_registry_ref r;
	sw_error *e = NULL;

	if (sw_registry_ref_parse(&r, in, &e) == 0)
		fail_msg("parse %s: accepted", in);
	assert_int_equal(sw_error_code(e), SW_EINVALID);
	sw_error_free(e);
}

static void test_refs(void **state)
{
	(void)state;
	check_ref("busybox", "docker.io", "library/busybox", "latest", NULL);
	check_ref("busybox:1.36", "docker.io", "library/busybox", "1.36", NULL);
	check_ref("user/app", "docker.io", "user/app", "latest", NULL);
	check_ref("docker.io/library/alpine:3", "docker.io", "library/alpine", "3", NULL);
	check_ref("localhost/app", "localhost", "app", "latest", NULL);
	check_ref("localhost:5000/a/b/c:v1", "localhost:5000", "a/b/c", "v1", NULL);
	check_ref("127.0.0.1:5000/x", "127.0.0.1:5000", "x", "latest", NULL);
	check_ref("ghcr.io/o/r@" D64, "ghcr.io", "o/r", NULL, D64);
	check_ref("ghcr.io/o/r:t@" D64, "ghcr.io", "o/r", "t", D64);
}

static void test_bad_refs(void **state)
{
	(void)state;
	check_bad("");
	check_bad("Upper/case");
	check_bad("host:5000/");
	check_bad("a//b");
	check_bad("x:");
	check_bad("x@sha256:short");
	check_bad("x:bad tag");
	check_bad("with space");
	check_bad("registry.example/A_b");
}

static void test_has_host(void **state)
{
	(void)state;
	assert_true(sw_registry_ref_has_host("127.0.0.1:5000/x:1"));
	assert_true(sw_registry_ref_has_host("localhost/x"));
	assert_true(sw_registry_ref_has_host("ghcr.io/o/r"));
	assert_false(sw_registry_ref_has_host("busybox"));
	assert_false(sw_registry_ref_has_host("user/app:1.2"));
	assert_false(sw_registry_ref_has_host("slipway/busybox:1.35"));
}

static void test_base64(void **state)
{
	static const char *cases[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" }, { "user:pass", "dXNlcjpwYXNz" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cleanup_free char *enc = reg_base64_encode(cases[i][0], strlen(cases[i][0]));
		cleanup_free char *dec = NULL;
		assert_string_equal(enc, cases[i][1]);
		assert_int_equal(reg_base64_decode(&dec, enc), 0);
		assert_string_equal(dec, cases[i][0]);
	}
	char *bad = NULL;
	assert_int_equal(reg_base64_decode(&bad, "!!!"), -1);
	assert_int_equal(reg_base64_decode(&bad, "AA=="), -1); /* a NUL inside */
	assert_null(bad);
}

static char tmpdir[] = "/tmp/slipway-test-registry.XXXXXX";

static void test_credentials(void **state)
{
	char path[256];
	FILE *f;
	(void)state;

	assert_non_null(mkdtemp(tmpdir));
	setenv("DOCKER_CONFIG", tmpdir, 1);

	setenv("SLIPWAY_REGISTRY_AUTH", "alice:pw=with:colon", 1);
	cleanup_free char *all = reg_credentials_for("anything.example");
	assert_string_equal(all, "alice:pw=with:colon");

	setenv("SLIPWAY_REGISTRY_AUTH", "a.example=u1:p1,127.0.0.1:5000=u2:p2", 1);
	cleanup_free char *c1 = reg_credentials_for("a.example");
	cleanup_free char *c2 = reg_credentials_for("127.0.0.1:5000");
	cleanup_free char *c3 = reg_credentials_for("127.0.0.1");
	assert_string_equal(c1, "u1:p1");
	assert_string_equal(c2, "u2:p2");
	assert_null(c3);

	unsetenv("SLIPWAY_REGISTRY_AUTH");
	snprintf(path, sizeof(path), "%s/config.json", tmpdir);
	assert_non_null(f = fopen(path, "w"));
	fputs("{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"aHViOmh1YnB3\"},"
	      "\"reg.example:5000\":{\"auth\":\"dTpw\"},\"bad.example\":{\"auth\":\"!!\"}}}",
	      f);
	fclose(f);
	cleanup_free char *d1 = reg_credentials_for(SW_REGISTRY_DOCKER_HUB_API);
	cleanup_free char *d2 = reg_credentials_for("reg.example:5000");
	cleanup_free char *d3 = reg_credentials_for("reg.example");
	cleanup_free char *d4 = reg_credentials_for("bad.example");
	assert_string_equal(d1, "hub:hubpw");
	assert_string_equal(d2, "u:p");
	assert_null(d3);
	assert_null(d4);
	unlink(path);
	rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refs),
		cmocka_unit_test(test_bad_refs),
		cmocka_unit_test(test_has_host),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_credentials),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
