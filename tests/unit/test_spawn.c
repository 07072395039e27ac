/* Unit tests for common/spawn.c with real processes. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "slipway/cleanup.h"
#include "slipway/spawn.h"

static void test_capture_and_exit_code(void **state)
{
	const char *argv[] = { "sh", "-c", "echo out; echo err >&2; exit 3", NULL };
	sw_spawn_opts o = { .argv = argv, .capture_stdout = true, .capture_stderr = true };
	sw_spawn_result r;
	(void)state;

	assert_int_equal(sw_spawn_run(&o, &r, NULL), 0);
	assert_int_equal(r.exit_code, 3);
	assert_string_equal(r.out, "out\n");
	assert_string_equal(r.err, "err\n");
	sw_spawn_result_release(&r);
}

static void test_stdin_cwd_env(void **state)
{
	const char *argv[] = { "sh", "-c", "cat; pwd; echo $FOO", NULL };
	const char *envp[] = { "FOO=bar", "PATH=/usr/bin:/bin", NULL };
	sw_spawn_opts o = { .argv = argv, .envp = envp, .cwd = "/", .input = "in\n",
	                    .input_len = 3, .capture_stdout = true };
	sw_spawn_result r;
	(void)state;

	assert_int_equal(sw_spawn_run(&o, &r, NULL), 0);
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(r.out, "in\n/\nbar\n");
	sw_spawn_result_release(&r);
}

static void test_large_input_and_output(void **state)
{
	const char *argv[] = { "cat", NULL };
	size_t n = 1u << 20;
	char *in = malloc(n);
	sw_spawn_opts o = { .argv = argv, .input = in, .input_len = n, .capture_stdout = true,
	                    .max_output = 1000 };
	sw_spawn_result r;
	(void)state;

	memset(in, 'x', n);
	assert_int_equal(sw_spawn_run(&o, &r, NULL), 0);
	assert_int_equal(r.exit_code, 0);
	/* output beyond max_output is dropped, the child is never blocked */
	assert_int_equal(r.out_len, 1000);
	sw_spawn_result_release(&r);
	free(in);
}

static void test_not_found(void **state)
{
	const char *argv[] = { "slipway-no-such-command", NULL };
	sw_spawn_opts o = { .argv = argv };
	sw_spawn_result r;
	cleanup_error sw_error *err = NULL;
	(void)state;

	assert_int_equal(sw_spawn_run(&o, &r, &err), SW_ENOTFOUND);
	assert_non_null(strstr(err->msg, "slipway-no-such-command"));
}

static void test_timeout_and_signal(void **state)
{
	const char *argv[] = { "sleep", "10", NULL };
	sw_spawn_opts o = { .argv = argv, .timeout_ms = 100 };
	sw_spawn_result r;
	(void)state;

	assert_int_equal(sw_spawn_run(&o, &r, NULL), 0);
	assert_true(r.timed_out);
	assert_int_equal(r.exit_code, -1);
	assert_int_equal(r.term_signal, SIGKILL);
	sw_spawn_result_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture_and_exit_code),
		cmocka_unit_test(test_stdin_cwd_env),
		cmocka_unit_test(test_large_input_and_output),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_timeout_and_signal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
