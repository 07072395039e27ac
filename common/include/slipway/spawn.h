/*
 * spawn.h - run a subprocess and collect its exit status and output.
 */
#ifndef SLIPWAY_SPAWN_H
#define SLIPWAY_SPAWN_H

#include <stdbool.h>
#include <stddef.h>

#include "slipway/error.h"

typedef struct sw_spawn_opts {
	const char *const *argv;  /* argv[0] is looked up in PATH */
	const char *const *envp;  /* NULL: inherit */
	const char *cwd;          /* NULL: inherit */
	const char *input;        /* written to stdin; NULL: /dev/null */
	size_t input_len;
	bool capture_stdout;      /* else inherited */
	bool capture_stderr;      /* else inherited */
	size_t max_output;        /* per stream; 0: 16 MiB; the rest is dropped */
	int timeout_ms;           /* 0: none; on expiry SIGKILL, timed_out set */
} sw_spawn_opts;

typedef struct sw_spawn_result {
	int exit_code;            /* 0..255 if exited, -1 if killed by a signal */
	int term_signal;          /* signal number or 0 */
	bool timed_out;
	char *out;                /* NUL-terminated when captured */
	size_t out_len;
	char *err;
	size_t err_len;
} sw_spawn_result;

/* Runs the command to completion. Fails only if it could not be run (not
 * found, fork failed); a non-zero exit is reported in res, not as an error. */
int sw_spawn_run(const sw_spawn_opts *opts, sw_spawn_result *res, sw_error **err);
void sw_spawn_result_release(sw_spawn_result *res);

#endif
