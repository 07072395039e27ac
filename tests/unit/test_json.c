/* Unit tests for common/json.c: canonical form and located errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "slipway/cleanup.h"
#include "slipway/json.h"

static void test_canonical_sorts_and_compacts(void **state)
{
	cleanup_json json_t *a = NULL, *b = NULL;
	cleanup_free char *ca = NULL, *cb = NULL;
	(void)state;

	const char *ta = "{ \"b\": [1, 2], \"a\": {\"z\": \"é/x\", \"y\": null} }";
	const char *tb = "{\"a\":{\"y\":null,\"z\":\"é/x\"},\"b\":[1,2]}";

	assert_int_equal(sw_json_loadb(&a, "a", ta, strlen(ta), NULL), 0);
	assert_int_equal(sw_json_loadb(&b, "b", tb, strlen(tb), NULL), 0);
	ca = sw_json_canonical(a);
	cb = sw_json_canonical(b);
	assert_string_equal(ca, "{\"a\":{\"y\":null,\"z\":\"é/x\"},\"b\":[1,2]}");
	assert_string_equal(ca, cb);
	assert_null(sw_json_canonical(NULL));
}

static void test_error_has_location(void **state)
{
	cleanup_json json_t *j = NULL;
	cleanup_error sw_error *err = NULL;
	cleanup_free char *msg = NULL;
	const char *text = "{\n  \"a\": 1,\n  \"b\": ]\n}";
	(void)state;

	assert_int_equal(sw_json_loadb(&j, "config.json", text, strlen(text), &err), SW_EINVALID);
	msg = sw_error_string(err);
	assert_non_null(strstr(msg, "config.json:3:"));
}

static void test_duplicate_keys_rejected(void **state)
{
	cleanup_json json_t *j = NULL;
	cleanup_error sw_error *err = NULL;
	const char *text = "{\"a\":1,\"a\":2}";
	(void)state;
	assert_int_equal(sw_json_loadb(&j, "x", text, strlen(text), &err), SW_EINVALID);
}

static void test_missing_file(void **state)
{
	cleanup_json json_t *j = NULL;
	cleanup_error sw_error *err = NULL;
	(void)state;
	assert_int_equal(sw_json_load_file(&j, "/nonexistent/x.json", 0, &err), SW_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical_sorts_and_compacts),
		cmocka_unit_test(test_error_has_location),
		cmocka_unit_test(test_duplicate_keys_rejected),
		cmocka_unit_test(test_missing_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
