/*
 * fuzz_release_files.c - libFuzzer target for the files a release is made
 * from: dotenv files and Procfiles (release/release_parse.c).
 *
 * Invariants checked besides memory errors: *err set if and only if a call
 * failed, and the error names the file and a line ("t.env:N:"); every key
 * parsed is a valid config key; every value is a string; a parsed env file
 * written back as KEY='VALUE' lines (for values without quotes or newlines)
 * parses to the same object.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slipway/buf.h"
#include "slipway/error.h"
#include "slipway/release.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void broken(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_release_files: contract broken: %s [%s]\n", what, detail ? detail : "");
	abort();
}

static void check_error(int r, sw_error *err, json_t *out, const char *prefix)
{
	if ((r < 0) != (err != NULL))
		broken("err set if and only if the call failed", prefix);
	if (r < 0) {
		char *m = sw_error_string(err);
		if (strncmp(m, prefix, strlen(prefix)))
			broken("the error names the file and line", m);
		free(m);
		sw_error_free(err);
		if (out)
			broken("no output on failure", prefix);
	}
}

static void round_trip(json_t *env)
{
	sw_buf b = { 0 };
	const char *k;
	json_t *v, *again = NULL;
	sw_error *err = NULL;

	json_object_foreach(env, k, v) {
		const char *s = json_string_value(v);
		if (!s)
			broken("values are strings", k);
		if (sw_config_key_check(k, NULL) < 0)
			broken("keys are valid config keys", k);
		if (strpbrk(s, "'\n\r") || json_string_length(v) != strlen(s)) {
			sw_buf_release(&b);
			return;
		}
		sw_buf_printf(&b, NULL, "%s='%s'\n", k, s);
	}
	if (sw_env_parse(&again, "rt.env", b.data ? b.data : "", b.len, &err) < 0) {
		char *m = sw_error_string(err);
		broken("a written-back env file parses", m);
	}
	if (!json_equal(env, again))
		broken("a written-back env file gives the same vars", b.data);
	json_decref(again);
	sw_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *out = NULL;
	sw_error *err = NULL;
	int r;

	r = sw_env_parse(&out, "t.env", (const char *)data, size, &err);
	check_error(r, err, r < 0 ? out : NULL, "t.env:");
	if (r == 0) {
		round_trip(out);
		json_decref(out);
	}
	out = NULL;
	err = NULL;
	r = sw_procfile_parse(&out, "Procfile", (const char *)data, size, &err);
	check_error(r, err, r < 0 ? out : NULL, "Procfile:");
	if (r == 0) {
		const char *k;
		json_t *v;
		json_object_foreach(out, k, v)
			if (!json_is_string(v) || !*json_string_value(v))
				broken("every process has a command", k);
		json_decref(out);
	}
	return 0;
}
