/* Unit tests for build/dockerignore.c: reading .dockerignore text, Go glob
 * syntax and errors, "**", exceptions, parent-directory matching, the
 * directory-skip helper and the choice of ignore file. Expected answers are
 * Docker's (moby/patternmatcher + ignorefile). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "slipway/cleanup.h"
#include "slipway/dockerignore.h"
#include "slipway/error.h"

static sw_ignore *parse_ok(const char *text)
{
	sw_ignore *ig = NULL;
	sw_error *e = NULL;

	if (sw_ignore_parse(&ig, "t/.dockerignore", text, strlen(text), &e) < 0) {
		char *s = sw_error_string(e);
		fail_msg("parse %s: %s", text, s);
	}
	assert_null(e);
	return ig;
}

/* One case: patterns (newline-separated), a path, the expected answer. */
static void check(const char *patterns, const char *path, bool want)
{
	sw_ignore *ig = parse_ok(patterns);
	sw_error *e = NULL;
	bool got = !want;

	assert_int_equal(sw_ignore_match(ig, path, &got, &e), 0);
	if (got != want)
		fail_msg("patterns [%s] path %s: excluded=%d, want %d", patterns, path, got, want);
	sw_ignore_free(ig);
}
#define EXCL(pats, path) check(pats, path, true)
#define KEEP(pats, path) check(pats, path, false)

/* Parsing must fail with a message containing want. */
static void check_error(const char *text, int code, const char *want)
{
	sw_ignore *ig = NULL;
	sw_error *e = NULL;

	assert_int_equal(sw_ignore_parse(&ig, "ctx/.dockerignore", text, strlen(text), &e), code);
	assert_null(ig);
	assert_non_null(e);
	char *s = sw_error_string(e);
	if (!strstr(s, want))
		fail_msg("parse [%s]: error \"%s\" lacks \"%s\"", text, s, want);
	free(s);
	sw_error_free(e);
}

/* The cleaned patterns, joined with '|' and '!' kept. */
static void check_patterns(const char *text, const char *want)
{
	sw_ignore *ig = parse_ok(text);
	char got[1024] = "";

	for (size_t i = 0; i < sw_ignore_count(ig); i++) {
		bool exc = false;
		const char *p = sw_ignore_pattern(ig, i, &exc);
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s%s",
		         i ? "|" : "", exc ? "!" : "", p);
	}
	assert_null(sw_ignore_pattern(ig, sw_ignore_count(ig), NULL));
	if (strcmp(got, want))
		fail_msg("patterns of [%s]: %s, want %s", text, got, want);
	sw_ignore_free(ig);
}

static void test_reading(void **state)
{
	(void)state;
	/* comments only at the start of the line; blank lines skipped */
	check_patterns("# comment\n\nfoo\n\n#bar\n", "foo");
	check_patterns("  # not a comment\n", "# not a comment");
	/* surrounding white space trimmed, inner kept */
	check_patterns("  a b \t\n", "a b");
	/* CRLF and a final line without newline */
	check_patterns("a\r\nb\r\nc", "a|b|c");
	/* a UTF-8 BOM on the first line only */
	check_patterns("\xEF\xBB\xBF" "a\n\xEF\xBB\xBF" "b\n", "a|\xEF\xBB\xBF" "b");
	check_patterns("\xEF\xBB\xBF# comment after bom\nx", "x");
	/* filepath.Clean and the leading slash */
	check_patterns("/a/b/\n./c\nd/../e\n//f\n", "a/b|c|e|f");
	check_patterns("a/./b//c/.\n", "a/b/c");
	check_patterns("../x\n", "../x");
	check_patterns("/\n", "/");
	/* '!' is taken off before cleaning, white space after it too */
	check_patterns("!/a/\n!  b/../c\n", "!a|!c");
	/* an escaped '!' is a literal first character */
	check_patterns("\\!a\n", "\\!a");
	/* trailing white space hidden behind a slash is trimmed on the second pass */
	check_patterns("foo /\n", "foo");
	/* unicode white space (NBSP, ideographic space) is trimmed like Go's TrimSpace */
	check_patterns("\xC2\xA0x\xE3\x80\x80\n", "x");
	/* an empty file, or one with only comments */
	check_patterns("", "");
	check_patterns("#a\n#b", "");
}

static void test_errors(void **state)
{
	(void)state;
	check_error("ok\n[\n", SW_EINVALID, "ctx/.dockerignore:2: bad pattern \"[\"");
	check_error("a[", SW_EINVALID, ":1: bad pattern");
	check_error("\n\n[^bc\n", SW_EINVALID, ":3: bad pattern \"[^bc\": unterminated character class");
	check_error("[]a]", SW_EINVALID, "empty character class");
	check_error("[-]", SW_EINVALID, "bad range");
	check_error("[x-]", SW_EINVALID, "bad range");
	check_error("[a-b-c]", SW_EINVALID, "bad range");
	check_error("foo\\", SW_EINVALID, "trailing backslash");
	check_error("[\xff]", SW_EINVALID, "invalid utf-8");
	/* a lone '!' (also after trimming or cleaning) */
	check_error("a\n!\n", SW_EINVALID, ":2: illegal exclusion pattern: \"!\"");
	check_error("!   \n", SW_EINVALID, "illegal exclusion pattern");
	check_error("!/\n", SW_EINVALID, "illegal exclusion pattern");
	/* exception patterns are checked too */
	check_error("!a[\n", SW_EINVALID, "bad pattern \"a[\"");
	/* a line longer than Go's scanner accepts */
	char *big = malloc(SW_IGNORE_MAX_LINE + 10);
	memset(big, 'a', SW_IGNORE_MAX_LINE + 9);
	big[SW_IGNORE_MAX_LINE + 9] = '\0';
	check_error(big, SW_ETOOBIG, ":1: line longer than");
	free(big);
}

static void test_simple(void **state)
{
	(void)state;
	KEEP("", "anything");
	EXCL("*", "fileutils.go");
	EXCL("*.go", "fileutils.go");
	KEEP("*.go", "fileutils.c");
	EXCL("abc", "abc");
	KEEP("abc", "abcd");
	KEEP("abc", "xabc");
	/* the root itself is never excluded */
	KEEP("*", ".");
	KEEP("**", "");
	/* paths are cleaned before matching */
	EXCL("a/b", "a//b/./");
	EXCL("a/b", "./a/c/../b");
	/* regexp characters are literal */
	EXCL("abc.def", "abc.def");
	KEEP("abc.def", "abcZdef");
	EXCL("a(b)c/def", "a(b)c/def");
	EXCL("a.|)$(}+{bc", "a.|)$(}+{bc");
	EXCL("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl");
}

static void test_star_and_qmark(void **state)
{
	(void)state;
	/* '*' never crosses '/' */
	EXCL("a*/b", "abc/b");
	KEEP("a*/b", "a/c/b");
	KEEP("a*b", "a/b");
	EXCL("a*b*c*d*e*/f", "axbxcxdxexxx/f");
	KEEP("a*b*c*d*e*/f", "axbxcxdxe/xxx/f");
	EXCL("a*b?c*x", "abxbbxdbxebxczzx");
	KEEP("a*b?c*x", "abxbbxdbxebxczzy");
	/* "*" + "/temp*": one level down only */
	EXCL("*/temp*", "somedir/temporary.txt");
	EXCL("*/temp*", "somedir/temp");
	KEEP("*/temp*", "temp");
	KEEP("*/temp*", "a/b/temp");
	/* "temp?": one character, not '/' */
	EXCL("temp?", "tempa");
	KEEP("temp?", "temp");
	KEEP("temp?", "tempab");
	KEEP("te?p", "te/p");
	/* '?' is one rune, not one byte */
	EXCL("a?b", "a\xE2\x98\xBA" "b");
	KEEP("a???b", "a\xE2\x98\xBA" "b");
	/* a pattern that matches a parent directory excludes the path */
	EXCL("a*", "ab/c");
	EXCL("*", "dir/file");
	EXCL(".*", ".git/config");
	KEEP(".*", "foo");
}

static void test_classes(void **state)
{
	(void)state;
	EXCL("a[b-d]e", "ace");
	KEEP("a[b-d]e", "aae");
	KEEP("a[b-d]e", "ae");
	EXCL("a[^b-d]e", "aze");
	KEEP("ab[^c]", "abc");
	EXCL("ab[^e-g]", "abc");
	/* '!' does not negate in Go: "[!a]" is the set {'!', 'a'} */
	EXCL("[!a]", "a");
	EXCL("[!a]", "!");
	KEEP("[!a]", "b");
	/* a negated class matches '/' (as in Go) */
	EXCL("a[^x]b", "a/b");
	/* runes and ranges beyond ASCII */
	EXCL("[a-\xCE\xB6]*", "\xCE\xB1");
	KEEP("*[a-\xCE\xB6]", "A");
	EXCL("a[^a]b", "a\xE2\x98\xBA" "b");
	/* escapes inside classes */
	EXCL("[\\]a]", "]");
	EXCL("[\\-]", "-");
	EXCL("[x\\-]", "-");
	KEEP("[x\\-]", "z");
	/* '*' and '?' inside a class are members (Docker's regexp translation
	 * garbles such a class; we keep filepath.Match's meaning) */
	EXCL("a[*?]", "a*");
	KEEP("a[*?]", "ab");
	/* a reversed range is empty but valid */
	KEEP("[z-a]", "m");
}

static void test_escapes(void **state)
{
	(void)state;
	EXCL("a\\*b", "a*b");
	KEEP("a\\*b", "axb");
	KEEP("a\\*b", "ab");
	EXCL("a\\\\", "a\\");
	EXCL("\\[x]", "[x]");
	EXCL("file\\?", "file?");
	KEEP("file\\?", "filex");
	EXCL("\\!important", "!important");
	EXCL("sp\\ ace", "sp ace");
	EXCL("\\#hash", "#hash");
}

static void test_double_star(void **state)
{
	(void)state;
	EXCL("**", "file");
	EXCL("**", "dir/file");
	EXCL("**/**", "dir/file");
	EXCL("dir/**", "dir/file");
	EXCL("dir/**", "dir/dir2/file");
	KEEP("abc/**", "abc");
	EXCL("**/dir", "dir");
	EXCL("**/dir", "dir/file");
	EXCL("**/dir", "x/y/dir/file");
	KEEP("**/dir", "xdir");
	EXCL("**/dir2/*", "dir/dir2/file");
	EXCL("**/dir2/**", "dir/dir2/dir3/file");
	/* "**" then ".go" files: any depth, zero included */
	EXCL("**/*.go", "main.go");
	EXCL("**/*.go", "a/b/c/main.go");
	KEEP("**/*.go", "a/b/main.c");
	EXCL("**/*.go", "vendor.go/x"); /* its parent directory matches */
	/* "**file" is a plain suffix: it matches across a name */
	EXCL("**file", "file");
	EXCL("**file", "dir/dir/file");
	EXCL("**file", "dir/xfile");
	EXCL("**/file*.txt", "dir/dir/file.txt");
	KEEP("**/**/*.txt2", "dir/dir/file.txt");
	EXCL("**/**/*.txt", "file.txt");
	EXCL("a**/*.txt", "a/file.txt");
	EXCL("a**/*.txt", "a/dir/dir/file.txt");
	/* "**" in the middle of a name is "(any/)?", not "any" */
	EXCL("a**b", "ab");
	EXCL("a**b", "a/x/b");
	KEEP("a**b", "axb");
	EXCL("a/**/b", "a/b");
	EXCL("a/**/b", "a/x/y/b");
	KEEP("a/**/b", "a/x/y/bc");
	/* "abc**" is a plain prefix */
	EXCL("abc**", "abcdef/x");
	EXCL("**/foo/bar", "foo/bar");
	EXCL("**/foo/bar", "dir/dir2/foo/bar");
	EXCL("**/.foo", ".foo");
	KEEP("**/.foo", "bar.foo");
	EXCL("a/*.txt**", "a/file.txt");
}

static void test_trailing_and_dots(void **state)
{
	(void)state;
	/* a trailing slash is cleaned away: it does not restrict to folders */
	EXCL("docs/", "docs");
	EXCL("docs/", "docs/README.md");
	EXCL("docs/.", "docs/x");
	/* ".." in a pattern is resolved lexically */
	EXCL("a/../b", "b");
	KEEP("a/../b", "a/b");
	/* a pattern that still climbs out of the context matches nothing inside */
	KEEP("../x", "x");
	/* "." alone would match the root only, which is never excluded */
	KEEP(".", "a");
	/* a leading slash is the context root */
	EXCL("/foo", "foo");
	KEEP("/foo", "a/foo");
	/* newlines in names: "**" of the regexp kind does not cross them */
	KEEP("**/x*", "a\nb/x");
	EXCL("**/x*", "a/x\ny"); /* '*' does */
	EXCL("**/x", "a\nb/x");  /* the suffix kind does */
	EXCL("**x", "a\nx");
}

static void test_regexp_quirks(void **state)
{
	(void)state;
	/* '^' is an anchor where Docker builds a regexp, a letter elsewhere */
	EXCL("a^b", "a^b");
	KEEP("a^*", "a^b");
	EXCL("^a*", "abc");
}

static void test_exceptions(void **state)
{
	(void)state;
	/* the last matching pattern wins */
	EXCL("!fileutils.go\n*.go", "fileutils.go");
	KEEP("*.go\n!fileutils.go", "fileutils.go");
	EXCL("*.go\n!fileutils.go\n*.go", "fileutils.go");
	/* an exception below an excluded directory */
	KEEP("docs\n!docs/README.md", "docs/README.md");
	EXCL("docs\n!docs/README.md", "docs/other.md");
	KEEP("docs/\n!docs/README.md", "docs/README.md");
	KEEP("docs/*\n!docs/README.md", "docs/README.md");
	/* an exception for a directory re-includes what is under it */
	KEEP("**\n!util/docker/web", "util/docker/web/foo");
	EXCL("**\n!util/docker/web\nutil/docker/web/foo", "util/docker/web/foo");
	KEEP("**\n!dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl");
	/* Docker's example: all markdown but README files */
	EXCL("*.md\n!README*.md\nREADME-secret.md", "README-secret.md");
	KEEP("*.md\n!README*.md\nREADME-secret.md", "README.md");
	EXCL("*.md\n!README*.md\nREADME-secret.md", "CHANGES.md");
	KEEP("*.md\nREADME-secret.md\n!README*.md", "README-secret.md");
	/* an exception with "**" below an excluded tree */
	KEEP("node_modules\n!**/keep.txt", "node_modules/a/b/keep.txt");
	EXCL("node_modules\n!**/keep.txt", "node_modules/a/b/other.txt");
	/* an exception that does not match leaves the exclusion alone */
	EXCL("*\n!nope", "file");
	/* an exception with nothing excluded before it changes nothing */
	KEEP("!a\n", "a");
}

static bool may(const char *patterns, const char *dir)
{
	sw_ignore *ig = parse_ok(patterns);
	bool r = sw_ignore_dir_may_have_exceptions(ig, dir);
	sw_ignore_free(ig);
	return r;
}

static void test_dir_skip(void **state)
{
	(void)state;
	/* no exceptions at all: every excluded folder can be skipped */
	assert_false(may("node_modules", "node_modules"));
	/* a literal exception below it */
	assert_true(may("docs\n!docs/README.md", "docs"));
	assert_false(may("docs\n!docs/README.md", "src"));
	/* wildcard exceptions that reach below it */
	assert_true(may("vendor\n!**/*.go", "vendor"));
	assert_true(may("*\n!*/keep", "a"));
	assert_false(may("*\n!*/keep", "a/b"));
	assert_true(may("a\n!a/b*/c", "a/bx"));
	assert_false(may("a\n!a/b*/c", "a/x"));
	/* an exception for the folder itself is not one below it */
	assert_false(may("a\n!a\na", "a"));
	/* an exception that comes before the last exclusion is overridden */
	assert_false(may("!a/keep\na", "a"));
	assert_true(may("a\n!a/keep\na/x", "a"));
	/* prefix and suffix kinds */
	assert_true(may("x\n!x/**", "x"));
	assert_true(may("x\n!**keep", "x/y"));
	/* the context root always needs a walk when exceptions exist */
	assert_true(may("*\n!a", "."));
}

static void test_match_errors(void **state)
{
	(void)state;
	sw_ignore *ig = parse_ok("*\n");
	sw_error *e = NULL;
	bool ex = true;

	assert_int_equal(sw_ignore_match(ig, "../x", &ex, &e), SW_EESCAPE);
	assert_false(ex);
	assert_non_null(e);
	sw_error_clear(&e);
	assert_int_equal(sw_ignore_match(ig, "/etc/passwd", &ex, &e), SW_EESCAPE);
	sw_error_clear(&e);
	assert_int_equal(sw_ignore_match(ig, "a/../../x", &ex, NULL), SW_EESCAPE);
	assert_false(sw_ignore_has_exceptions(ig));
	assert_int_equal(sw_ignore_count(ig), 1);
	sw_ignore_free(ig);
	sw_ignore_free(NULL);
}

static void test_long_inputs(void **state)
{
	(void)state;
	/* many stars against a long name that almost matches: no blow-up */
	char pat[256] = "", path[4096];
	for (int i = 0; i < 40; i++)
		strcat(pat, "*a");
	strcat(pat, "*b");
	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	KEEP(pat, path);
	path[sizeof(path) - 2] = 'b';
	EXCL(pat, path);
	/* a pattern with more states than fit on the stack */
	char many[2048];
	memset(many, '?', 1000);
	strcpy(many + 1000, "x");
	memset(path, 'y', 1000);
	strcpy(path + 1000, "x");
	EXCL(many, path);
	path[999] = '/';
	KEEP(many, path);
}

/* ---- files ---- */

struct tmp {
	char dir[64];
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));
	strcpy(t->dir, "/tmp/sw-ignore-XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	struct tmp *t = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

static void test_load(void **state)
{
	struct tmp *t = *state;
	char p[256];
	sw_ignore *ig = NULL;
	sw_error *e = NULL;
	bool ex;

	/* missing file: nothing is ignored */
	snprintf(p, sizeof(p), "%s/missing", t->dir);
	assert_int_equal(sw_ignore_load(&ig, p, &e), 0);
	assert_int_equal(sw_ignore_count(ig), 0);
	sw_ignore_free(ig);
	assert_int_equal(sw_ignore_load(&ig, NULL, &e), 0);
	sw_ignore_free(ig);

	snprintf(p, sizeof(p), "%s/.dockerignore", t->dir);
	write_file(p, "# build output\nbuild/\n*.log\n!keep.log\n");
	assert_int_equal(sw_ignore_load(&ig, p, &e), 0);
	assert_int_equal(sw_ignore_count(ig), 3);
	assert_true(sw_ignore_has_exceptions(ig));
	assert_int_equal(sw_ignore_match(ig, "build/x.o", &ex, &e), 0);
	assert_true(ex);
	assert_int_equal(sw_ignore_match(ig, "keep.log", &ex, &e), 0);
	assert_false(ex);
	sw_ignore_free(ig);

	/* errors name the real file and line */
	write_file(p, "ok\n\n  [oops\n");
	assert_int_equal(sw_ignore_load(&ig, p, &e), SW_EINVALID);
	char *s = sw_error_string(e);
	char want[512];
	snprintf(want, sizeof(want), "%s:3: bad pattern \"[oops\"", p);
	if (!strstr(s, want))
		fail_msg("error %s lacks %s", s, want);
	free(s);
	sw_error_clear(&e);

	/* a folder is not an ignore file */
	snprintf(p, sizeof(p), "%s/sub", t->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_true(sw_ignore_load(&ig, p, &e) < 0);
	sw_error_clear(&e);
}

static void test_choose(void **state)
{
	struct tmp *t = *state;
	char ctx[128], df[192], p[256];
	char *out = NULL;
	sw_error *e = NULL;

	snprintf(ctx, sizeof(ctx), "%s/ctx", t->dir);
	assert_int_equal(mkdir(ctx, 0755), 0);
	snprintf(df, sizeof(df), "%s/app.Dockerfile", t->dir);
	write_file(df, "FROM scratch\n");

	/* neither file: NULL */
	assert_int_equal(sw_ignore_choose(&out, ctx, df, &e), 0);
	assert_null(out);

	/* the context's file */
	snprintf(p, sizeof(p), "%s/.dockerignore", ctx);
	write_file(p, "a\n");
	assert_int_equal(sw_ignore_choose(&out, ctx, df, &e), 0);
	assert_string_equal(out, p);
	free(out);
	assert_int_equal(sw_ignore_choose(&out, ctx, NULL, &e), 0);
	assert_string_equal(out, p);
	free(out);

	/* <Dockerfile>.dockerignore beside the Dockerfile wins */
	snprintf(p, sizeof(p), "%s.dockerignore", df);
	write_file(p, "b\n");
	assert_int_equal(sw_ignore_choose(&out, ctx, df, &e), 0);
	assert_string_equal(out, p);
	free(out);

	/* a folder in its place is an error, not a silent fallback */
	snprintf(df, sizeof(df), "%s/dir.Dockerfile", t->dir);
	snprintf(p, sizeof(p), "%s.dockerignore", df);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(sw_ignore_choose(&out, ctx, df, &e), SW_EINVALID);
	assert_null(out);
	sw_error_clear(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reading),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_star_and_qmark),
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_double_star),
		cmocka_unit_test(test_trailing_and_dots),
		cmocka_unit_test(test_regexp_quirks),
		cmocka_unit_test(test_exceptions),
		cmocka_unit_test(test_dir_skip),
		cmocka_unit_test(test_match_errors),
		cmocka_unit_test(test_long_inputs),
		cmocka_unit_test_setup_teardown(test_load, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_choose, tmp_setup, tmp_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
