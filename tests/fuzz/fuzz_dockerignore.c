/*
 * fuzz_dockerignore.c - libFuzzer target for .dockerignore parsing and
 * matching.
 *
 * Parses the input; on success matches a fixed set of paths, the patterns
 * themselves and lines of the input used as paths, and asks the
 * directory-skip question for their parents. Invariants checked besides
 * memory errors: *err set if and only if a call failed; a cleaned pattern
 * reads back as itself; a pattern with no special characters excludes the
 * path it spells; when the skip helper says an excluded folder may be
 * skipped, nothing below it is re-included.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slipway/dockerignore.h"
#include "slipway/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void broken(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_dockerignore: contract broken: %s [%s]\n", what, detail ? detail : "");
	abort();
}

static const char *const fixed_paths[] = {
	"a", "a/b", "a/b/c", "Dockerfile", ".dockerignore", ".git/config",
	"src/main.go", "vendor/x/y.go", "node_modules/pkg/index.js",
	"docs/README.md", "README-secret.md", "temp", "tempa", "x/temp/y",
	"a b/c d", "dir/\xCE\xB1\xE2\x98\xBA", "a\nb/c", "!a", "#a", "[a]", "a*b",
	"..", "../x", "/abs", ".", "", "a//b/./c/..",
};

/* A name that stays below the folder it is joined to: no empty, "." or
 * ".." elements, not absolute. */
static bool stays_below(const char *p)
{
	for (const char *e = p;;) {
		const char *slash = strchr(e, '/');
		size_t n = slash ? (size_t)(slash - e) : strlen(e);
		if (n == 0 || (n == 1 && e[0] == '.') || (n == 2 && e[0] == '.' && e[1] == '.'))
			return false;
		if (!slash)
			return true;
		e = slash + 1;
	}
}

/* When the skip helper says an excluded folder holds no exceptions, no
 * path below it may come out included: try names the patterns suggest. */
static void check_skip(const sw_ignore *ig, const char *dir)
{
	size_t n = sw_ignore_count(ig) < 8 ? sw_ignore_count(ig) : 8;

	for (size_t i = 0; i < n + 2; i++) {
		const char *cands[2];
		if (i >= n) {
			cands[0] = i == n ? "a" : "keep/x";
			cands[1] = NULL;
		} else {
			cands[0] = sw_ignore_pattern(ig, i, NULL);
			cands[1] = strrchr(cands[0], '/');
			if (cands[1])
				cands[1]++;
		}
		for (int k = 0; k < 2 && cands[k]; k++) {
			if (!stays_below(cands[k]))
				continue;
			size_t len = strlen(dir) + strlen(cands[k]) + 2;
			char *child = malloc(len);
			bool ex = true;
			if (!child)
				abort();
			snprintf(child, len, "%s/%s", dir, cands[k]);
			if (sw_ignore_match(ig, child, &ex, NULL) == 0 && !ex)
				broken("skip helper said no exceptions below an excluded folder", child);
			free(child);
		}
	}
}

static void match_one(const sw_ignore *ig, const char *path)
{
	bool ex = false;
	sw_error *err = NULL;
	int r = sw_ignore_match(ig, path, &ex, &err);

	if ((r < 0) != (err != NULL))
		broken("sw_ignore_match error contract", path);
	sw_error_free(err);
	/* a walker standing on an excluded folder asks whether to descend */
	if (r == 0 && ex && !sw_ignore_dir_may_have_exceptions(ig, path) &&
	    sw_ignore_count(ig) <= 16) /* the check costs paths x patterns */
		check_skip(ig, path);
}

/* Patterns that a second read would rightly treat differently are skipped:
 * exceptions (Docker does not clean after taking the '!' off, so "a/../!./x"
 * excepts "./x"; "!./ a" excepts " a"), comments, white space at an end
 * (non-ASCII bytes stand in for Unicode spaces and a BOM), and a leading
 * '/' (the second trim can expose one after the first strip: "/<NBSP>/x"
 * keeps "/x"). NULs are ruled out by the caller. */
static bool rereadable(const char *p)
{
	size_t n = strlen(p);
	unsigned char first = (unsigned char)p[0], last = (unsigned char)p[n - 1];

	if (p[0] == '#' || p[0] == '!' || p[0] == '/')
		return false;
	return !(isspace(first) || first >= 0x80 || isspace(last) || last >= 0x80);
}

static bool is_literal(const char *p)
{
	if (!strcmp(p, ".") || !strcmp(p, "..") || !strncmp(p, "../", 3) || p[0] == '/')
		return false;
	return strpbrk(p, "*?[]\\^") == NULL;
}

static void check_pattern(const char *p)
{
	sw_ignore *one = NULL;
	sw_error *err = NULL;

	if (!rereadable(p))
		return;
	if (sw_ignore_parse(&one, "fuzz/reread", p, strlen(p), &err) < 0) {
		char *s = sw_error_string(err);
		broken("a cleaned pattern does not read back", s);
	}
	if (sw_ignore_count(one) != 1 || strcmp(sw_ignore_pattern(one, 0, NULL), p) != 0)
		broken("cleaning is not idempotent", p);
	if (is_literal(p)) {
		bool ex = false;
		if (sw_ignore_match(one, p, &ex, NULL) < 0 || !ex)
			broken("a literal pattern does not match itself", p);
	}
	sw_ignore_free(one);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sw_ignore *ig = NULL;
	sw_error *err = NULL;
	int r = sw_ignore_parse(&ig, "fuzz/.dockerignore", (const char *)data, size, &err);

	if ((r < 0) != (err != NULL))
		broken("sw_ignore_parse error contract", NULL);
	if (r < 0) {
		sw_error_free(err);
		return 0;
	}
	bool has_nul = memchr(data, '\0', size) != NULL;

	for (size_t i = 0; i < sizeof(fixed_paths) / sizeof(fixed_paths[0]); i++)
		match_one(ig, fixed_paths[i]);
	for (size_t i = 0; i < sw_ignore_count(ig) && i < 32; i++) {
		bool exception = false;
		const char *p = sw_ignore_pattern(ig, i, &exception);
		match_one(ig, p);
		if (!has_nul && !exception)
			check_pattern(p);
	}
	/* each input line (up to a few) as a path */
	const char *s = (const char *)data, *end = s + size;
	for (int n = 0; s < end && n < 16; n++) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
		char *path = malloc(len + 1);
		if (!path)
			abort();
		memcpy(path, s, len);
		path[len] = '\0';
		match_one(ig, path);
		free(path);
		s += len + 1;
	}
	sw_ignore_free(ig);
	return 0;
}
