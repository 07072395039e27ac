/*
 * test_manifest_quantity.c - resource quantities: parsing, exact values,
 * canonical text, milli-units and bytes, overflow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slipway/manifest.h"

static void canon_is(const char *in, const char *want)
{
	sw_quantity q;
	sw_error *err = NULL;
	if (sw_quantity_parse(&q, in, &err) < 0) {
		fail_msg("parse %s: %s", in, err->msg);
	}
	char *s = sw_quantity_format_str(&q);
	if (strcmp(s, want))
		fail_msg("%s: canonical %s, want %s", in, s, want);
	free(s);
}

static void test_canonical(void **state)
{
	(void)state;
	static const char *const table[][2] = {
		{ "0", "0" },           { "0m", "0" },         { "1", "1" },
		{ "500m", "500m" },     { "0.5", "500m" },     { "1.5", "1500m" },
		{ "1000m", "1" },       { "1000", "1k" },      { "1500", "1500" },
		{ "100m", "100m" },     { ".1", "100m" },      { "1.", "1" },
		{ "128Mi", "128Mi" },   { "1024Mi", "1Gi" },   { "1536Mi", "1536Mi" },
		{ "1.5Gi", "1536Mi" },  { "0.5Ki", "512" },    { "1Ki", "1Ki" },
		{ "1000Ki", "1000Ki" }, { "2048Ki", "2Mi" },   { "1e3", "1e3" },
		{ "1E3", "1e3" },       { "1.5e3", "1500" },   { "1e-3", "1e-3" },
		{ "1M", "1M" },         { "1000k", "1M" },     { "1G", "1G" },
		{ "1T", "1T" },         { "1P", "1P" },        { "1E", "1E" },
		{ "1000E", "1000E" },   { "1n", "1n" },        { "1u", "1u" },
		{ "0.1n", "1n" },       { "1.0000000001", "1000000001n" },
		{ "-1", "-1" },         { "+2", "2" },         { "-500m", "-500m" },
		{ "0001", "1" },        { "1.000", "1" },      { "12Ei", "12Ei" },
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		canon_is(table[i][0], table[i][1]);
}

static void test_invalid(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "m", "abc", "1x", "1 m", " 1", "1Kib", "1ki", "1e", "1e+", "1.2.3", "--1",
		"1mi", "Ki", ".", "1K", "1e3.5", "100000000000000000000000000000000000000",
		"1000000000000000000000000000000E",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sw_quantity q;
		sw_error *err = NULL;
		if (sw_quantity_parse(&q, bad[i], &err) == 0)
			fail_msg("\"%s\" parsed", bad[i]);
		assert_int_equal(err->code, SW_EINVALID);
		assert_non_null(strstr(err->msg, "quantity"));
		sw_error_free(err);
	}
}

static void test_milli_and_bytes(void **state)
{
	(void)state;
	int64_t v;
	sw_error *err = NULL;

	assert_int_equal(sw_quantity_parse_milli("500m", &v, &err), 0);
	assert_int_equal(v, 500);
	assert_int_equal(sw_quantity_parse_milli("2", &v, &err), 0);
	assert_int_equal(v, 2000);
	assert_int_equal(sw_quantity_parse_milli("0.1", &v, &err), 0);
	assert_int_equal(v, 100);
	/* rounds up, as Kubernetes' MilliValue */
	assert_int_equal(sw_quantity_parse_milli("1u", &v, &err), 0);
	assert_int_equal(v, 1);
	assert_int_equal(sw_quantity_parse_milli("1.0001", &v, &err), 0);
	assert_int_equal(v, 1001);
	assert_int_equal(sw_quantity_parse_bytes("128Mi", &v, &err), 0);
	assert_int_equal(v, 134217728);
	assert_int_equal(sw_quantity_parse_bytes("1G", &v, &err), 0);
	assert_int_equal(v, 1000000000);
	assert_int_equal(sw_quantity_parse_bytes("1.5Ki", &v, &err), 0);
	assert_int_equal(v, 1536);
	assert_int_equal(sw_quantity_parse_bytes("100m", &v, &err), 0);
	assert_int_equal(v, 1);
	assert_int_equal(sw_quantity_parse_bytes("7Ei", &v, &err), 0);
	assert_int_equal(v, 7 * (INT64_C(1) << 60));
	assert_int_equal(sw_quantity_parse_bytes("9223372036854775807", &v, &err), 0);
	assert_int_equal(v, INT64_MAX);

	/* overflow of int64 is an error, not a wrap */
	assert_int_equal(sw_quantity_parse_bytes("8Ei", &v, &err), SW_EINVALID);
	assert_non_null(strstr(err->msg, "too large"));
	sw_error_clear(&err);
	assert_int_equal(sw_quantity_parse_bytes("9223372036854775808", &v, &err), SW_EINVALID);
	sw_error_clear(&err);
	assert_int_equal(sw_quantity_parse_milli("9223372036854776", &v, &err), SW_EINVALID);
	sw_error_clear(&err);
	assert_int_equal(sw_quantity_parse_milli("9223372036854775", &v, &err), 0);
	assert_int_equal(v, INT64_C(9223372036854775000));
}

static void test_cmp_and_json(void **state)
{
	(void)state;
	sw_quantity a, b;
	json_t *j;

	assert_int_equal(sw_quantity_parse(&a, "1Gi", NULL), 0);
	assert_int_equal(sw_quantity_parse(&b, "1G", NULL), 0);
	assert_true(sw_quantity_cmp(&a, &b) > 0);
	assert_int_equal(sw_quantity_parse(&b, "1073741824", NULL), 0);
	assert_int_equal(sw_quantity_cmp(&a, &b), 0);
	j = json_real(0.5);
	assert_int_equal(sw_quantity_from_json(&a, j, NULL), 0);
	json_decref(j);
	char *s = sw_quantity_format_str(&a);
	assert_string_equal(s, "500m");
	free(s);
	j = json_integer(2);
	assert_int_equal(sw_quantity_from_json(&a, j, NULL), 0);
	json_decref(j);
	s = sw_quantity_format_str(&a);
	assert_string_equal(s, "2");
	free(s);
	j = json_true();
	sw_error *err = NULL;
	assert_int_equal(sw_quantity_from_json(&a, j, &err), SW_EINVALID);
	sw_error_free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_milli_and_bytes),
		cmocka_unit_test(test_cmp_and_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
