/* Unit tests for common/log.c: human and JSON-lines output on stderr. */
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
#include "slipway/json.h"
#include "slipway/log.h"

/* Runs fn with stderr redirected to a temp file and returns what it wrote. */
static char *capture(void (*fn)(void))
{
	char path[] = "/tmp/slipway-log-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	char *out = calloc(1, 4096);

	fflush(stderr);
	dup2(fd, 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	if (read(fd, out, 4095) < 0)
		out[0] = '\0';
	close(fd);
	unlink(path);
	return out;
}

static void human(void)
{
	sw_log_init("slipway", SW_LOG_HUMAN, SW_LOG_INFO);
	sw_debug("hidden %d", 1);
	sw_info("building %s", "x");
	sw_warn("careful");
}

static void as_json(void)
{
	sw_error *err = NULL;
	sw_log_init("slipwayd", SW_LOG_JSON, SW_LOG_DEBUG);
	sw_error_set(&err, SW_ENOTFOUND, "no such pod \"a\"");
	sw_log_error(err, "get pod");
	sw_error_free(err);
}

static void test_human(void **state)
{
	cleanup_free char *out = capture(human);
	(void)state;
	assert_string_equal(out, "slipway: building x\nslipway: warning: careful\n");
}

static void test_json(void **state)
{
	cleanup_free char *out = capture(as_json);
	cleanup_json json_t *j = NULL;
	(void)state;

	assert_non_null(strchr(out, '\n'));
	assert_int_equal(sw_json_loadb(&j, "log", out, strlen(out), NULL), 0);
	assert_string_equal(json_string_value(json_object_get(j, "level")), "error");
	assert_string_equal(json_string_value(json_object_get(j, "prog")), "slipwayd");
	assert_string_equal(json_string_value(json_object_get(j, "msg")), "get pod: no such pod \"a\"");
	assert_non_null(json_object_get(j, "time"));
}

static void test_parse(void **state)
{
	enum sw_log_format f;
	enum sw_log_level l;
	cleanup_error sw_error *err = NULL;
	(void)state;

	assert_int_equal(sw_log_parse_format("json", &f, NULL), 0);
	assert_int_equal(f, SW_LOG_JSON);
	assert_int_equal(sw_log_parse_level("warning", &l, NULL), 0);
	assert_int_equal(l, SW_LOG_WARN);
	assert_int_equal(sw_log_parse_format("xml", &f, &err), SW_EINVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_human),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
