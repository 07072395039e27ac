/* Unit tests for common/digest.c against known sha256 vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "slipway/cleanup.h"
#include "slipway/digest.h"

/* FIPS 180-2 vectors */
#define EMPTY "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ABC "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static void test_vectors(void **state)
{
	char d[SW_DIGEST_LEN + 1];
	(void)state;

	sw_digest_bytes(d, "", 0);
	assert_string_equal(d, EMPTY);
	sw_digest_bytes(d, "abc", 3);
	assert_string_equal(d, ABC);
}

static void test_streaming_equals_oneshot(void **state)
{
	char a[SW_DIGEST_LEN + 1], b[SW_DIGEST_LEN + 1];
	sw_sha256 *h = sw_sha256_new();
	(void)state;

	sw_sha256_update(h, "a", 1);
	sw_sha256_update(h, "bc", 2);
	sw_sha256_final(h, a);
	sw_sha256_free(h);
	sw_digest_bytes(b, "abc", 3);
	assert_string_equal(a, b);
}

static void test_file(void **state)
{
	char path[] = "/tmp/slipway-digest-XXXXXX";
	char d[SW_DIGEST_LEN + 1];
	cleanup_error sw_error *err = NULL;
	int fd = mkstemp(path);
	(void)state;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	close(fd);
	assert_int_equal(sw_digest_file(d, path, &err), 0);
	assert_string_equal(d, ABC);
	unlink(path);
	assert_true(sw_digest_file(d, path, &err) < 0);
	assert_non_null(err);
}

static void test_valid(void **state)
{
	(void)state;
	assert_true(sw_digest_valid(ABC));
	assert_false(sw_digest_valid("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
	assert_false(sw_digest_valid("sha256:abc"));
	assert_false(sw_digest_valid("sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	assert_false(sw_digest_valid(NULL));
	assert_false(sw_digest_valid(ABC "0"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_streaming_equals_oneshot),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
