/* Unit tests for common/error.c: codes, chains, wrapping, errno. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "slipway/cleanup.h"
#include "slipway/error.h"

static int inner(sw_error **err)
{
	return sw_error_set(err, SW_ENOTFOUND, "image %s not found", "busybox");
}

static int outer(sw_error **err)
{
	if (inner(err) < 0)
		return sw_error_wrap(err, "step %d (FROM)", 1);
	return 0;
}

static void test_chain_keeps_innermost_code(void **state)
{
	cleanup_error sw_error *err = NULL;
	cleanup_free char *s = NULL;
	(void)state;

	assert_int_equal(outer(&err), SW_ENOTFOUND);
	assert_non_null(err);
	assert_int_equal(sw_error_code(err), SW_ENOTFOUND);
	s = sw_error_string(err);
	assert_string_equal(s, "step 1 (FROM): image busybox not found");
	assert_non_null(err->cause);
	assert_null(err->cause->cause);
}

static void test_null_err_is_allowed(void **state)
{
	(void)state;
	assert_int_equal(sw_error_set(NULL, SW_EINVALID, "x"), SW_EINVALID);
	assert_int_equal(sw_error_wrap(NULL, "x"), SW_EFAIL);
	assert_int_equal(sw_error_code(NULL), SW_OK);
}

static void test_positive_code_becomes_failure(void **state)
{
	cleanup_error sw_error *err = NULL;
	(void)state;
	assert_int_equal(sw_error_set(&err, 5, "odd"), SW_EFAIL);
}

static void test_errno_message(void **state)
{
	cleanup_error sw_error *err = NULL;
	cleanup_free char *s = NULL;
	(void)state;

	assert_int_equal(sw_error_set_errno(&err, ENOENT, "open %s", "/nope"), SW_ESYSTEM);
	assert_int_equal(err->sys_errno, ENOENT);
	s = sw_error_string(err);
	assert_string_equal(s, "open /nope: No such file or directory");
	sw_error_wrap(&err, "reading config");
	assert_int_equal(err->sys_errno, ENOENT);
}

static void test_clear(void **state)
{
	sw_error *err = NULL;
	(void)state;
	sw_error_set(&err, SW_EFAIL, "a");
	sw_error_clear(&err);
	assert_null(err);
	sw_error_clear(&err);
}

static void test_steal_pointer(void **state)
{
	cleanup_free char *p = strdup("x");
	char *q;
	(void)state;
	q = steal_pointer(&p);
	assert_null(p);
	assert_string_equal(q, "x");
	free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_keeps_innermost_code),
		cmocka_unit_test(test_null_err_is_allowed),
		cmocka_unit_test(test_positive_code_becomes_failure),
		cmocka_unit_test(test_errno_message),
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_steal_pointer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
