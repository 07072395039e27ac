/* Unit tests for common/buf.c: growth, limits, detach. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "slipway/buf.h"
#include "slipway/cleanup.h"

static void test_grow_and_detach(void **state)
{
	sw_buf b = SW_BUF_INIT(0);
	char *s;
	(void)state;

	for (int i = 0; i < 1000; i++)
		assert_int_equal(sw_buf_addc(&b, 'a', NULL), 0);
	assert_int_equal(sw_buf_printf(&b, NULL, "%d", 42), 0);
	assert_int_equal(b.len, 1002);
	assert_int_equal(strlen(b.data), 1002);
	s = sw_buf_detach(&b);
	assert_null(b.data);
	assert_int_equal(s[1000], '4');
	free(s);
}

static void test_limit(void **state)
{
	sw_buf b = SW_BUF_INIT(8);
	cleanup_error sw_error *err = NULL;
	(void)state;

	assert_int_equal(sw_buf_addstr(&b, "12345678", &err), 0);
	assert_null(err);
	assert_int_equal(sw_buf_addc(&b, '9', &err), SW_ETOOBIG);
	assert_non_null(err);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.data, "12345678");
	sw_buf_release(&b);
}

static void test_empty_detach(void **state)
{
	sw_buf b = SW_BUF_INIT(0);
	char *s = sw_buf_detach(&b);
	(void)state;
	assert_string_equal(s, "");
	free(s);
}

static void test_truncate(void **state)
{
	sw_buf b = SW_BUF_INIT(0);
	(void)state;
	sw_buf_addstr(&b, "hello", NULL);
	sw_buf_truncate(&b, 2);
	assert_string_equal(b.data, "he");
	sw_buf_truncate(&b, 10);
	assert_int_equal(b.len, 2);
	sw_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grow_and_detach),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_empty_detach),
		cmocka_unit_test(test_truncate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
