/*
 * test_shell_lex.c - word expansion as BuildKit's shell lexer does it.
 * Cases are written from lex.go's semantics (not copied from its data
 * files): one table for single words, one for word splitting, one for
 * errors. Needs the private header build/shell_lex.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shell_lex.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/mem.h"

static void env_of(sw_env *e)
{
	sw_env_init(e);
	sw_env_set(e, "HOME", "/root");
	sw_env_set(e, "EMPTY", "");
	sw_env_set(e, "NAME", "world");
	sw_env_set(e, "SP", "a b  c");
	sw_env_set(e, "FILE", "archive.tar.gz");
	sw_env_set(e, "PATHV", "/usr/local/bin/tool");
	sw_env_set(e, "DASHED", "a-b-c");
	sw_env_set(e, "STARS", "x**y*");
	sw_env_set(e, "NL", "one\ntwo");
	sw_env_set(e, "UTF", "h\xc3\xa9llo");
}

struct wcase {
	const char *in;
	const char *out;
};

static const struct wcase words[] = {
	/* plain and simple variables */
	{ "plain", "plain" },
	{ "", "" },
	{ "$NAME", "world" },
	{ "${NAME}", "world" },
	{ "hello $NAME!", "hello world!" },
	{ "pre${NAME}post", "preworldpost" },
	{ "$NAMEx", "" },
	{ "$NAME.x", "world.x" },
	{ "$UNSET", "" },
	{ "a${UNSET}b", "ab" },
	{ "$EMPTY|", "|" },
	/* lone and special dollars */
	{ "$", "$" },
	{ "a$", "a$" },
	{ "$ x", "$ x" },
	{ "$$", "" },
	{ "$1", "" },
	{ "$12x", "x" },
	{ "$@$*$#$?$!$-", "" },
	{ "$0abc", "abc" },
	{ "$/", "$/" },
	/* default and alternative values */
	{ "${UNSET:-def}", "def" },
	{ "${UNSET-def}", "def" },
	{ "${EMPTY:-def}", "def" },
	{ "${EMPTY-def}", "" },
	{ "${NAME:-def}", "world" },
	{ "${UNSET:-}", "" },
	{ "${UNSET:+alt}", "" },
	{ "${UNSET+alt}", "" },
	{ "${EMPTY:+alt}", "" },
	{ "${EMPTY+alt}", "alt" },
	{ "${NAME:+alt}", "alt" },
	{ "${NAME?}", "world" },
	{ "${EMPTY?}", "" },
	{ "${NAME:?x}", "world" },
	/* nested operands are expanded, quoted and escaped */
	{ "${UNSET:-$NAME}", "world" },
	{ "${UNSET:-${HOME}/x}", "/root/x" },
	{ "${UNSET:-${UNSET2:-deep}}", "deep" },
	{ "${UNSET:-'single $NAME'}", "single $NAME" },
	{ "${UNSET:-\"double $NAME\"}", "double world" },
	{ "${UNSET:-a\\}b}", "a}b" },
	{ "${NAME:+[$NAME]}", "[world]" },
	/* prefix and suffix removal */
	{ "${FILE#*.}", "tar.gz" },
	{ "${FILE##*.}", "gz" },
	{ "${FILE%.*}", "archive.tar" },
	{ "${FILE%%.*}", "archive" },
	{ "${FILE#nomatch}", "archive.tar.gz" },
	{ "${FILE#}", "archive.tar.gz" },
	{ "${FILE%}", "archive.tar.gz" },
	{ "${FILE#*}", "archive.tar.gz" },
	{ "${FILE##*}", "" },
	{ "${FILE%%*}", "" },
	{ "${FILE#archive}", ".tar.gz" },
	{ "${FILE#?}", "rchive.tar.gz" },
	{ "${FILE%??}", "archive.tar." },
	{ "${PATHV%/*}", "/usr/local/bin" },
	{ "${PATHV##*/}", "tool" },
	{ "${PATHV#/*/}", "local/bin/tool" },
	{ "${PATHV##/*/}", "tool" },
	{ "${STARS%%\\**}", "x" },
	{ "${STARS#x\\*}", "*y*" },
	{ "${UNSET#x}", "" },
	{ "${FILE#$UNSET}", "archive.tar.gz" },
	{ "${FILE#arch${EMPTY}ive}", ".tar.gz" },
	{ "${NL#*o}", "ne\ntwo" },
	{ "${NL##*o}", "ne\ntwo" },
	{ "${UTF#h?}", "llo" },
	/* replacement */
	{ "${DASHED/-/_}", "a_b-c" },
	{ "${DASHED//-/_}", "a_b_c" },
	{ "${DASHED/x/y}", "a-b-c" },
	{ "${DASHED/-/}", "ab-c" },
	{ "${DASHED///}", "a-b-c" },
	{ "${DASHED/b*/Z}", "a-Z" },
	{ "${DASHED/?-/Z}", "Zb-c" },
	{ "${DASHED//?/.}", "....." },
	{ "${PATHV//\\//:}", ":usr:local:bin:tool" },
	/* the lexer expands $0 first; an escaped \$0 reaches the replacement,
	 * which for // is a Go regexp template ($0: the match) */
	{ "${DASHED//-/$0$0}", "abc" },
	{ "${DASHED//-/\\$0}", "a\\-b\\-c" },
	{ "${DASHED/-/\\$0}", "a\\$0b-c" },
	{ "${UNSET/a/b}", "" },
	{ "${DASHED/#a/z}", "a-b-c" },
	/* quotes */
	{ "'$NAME'", "$NAME" },
	{ "\"$NAME\"", "world" },
	{ "'a b'\"c d\"", "a bc d" },
	{ "\"it's\"", "it's" },
	{ "'say \"hi\"'", "say \"hi\"" },
	{ "\"\"", "" },
	{ "''", "" },
	/* escapes */
	{ "\\$NAME", "$NAME" },
	{ "\\\\", "\\" },
	{ "\\a\\b", "ab" },
	{ "a\\", "a" },
	{ "\\'x\\'", "'x'" },
	{ "\"\\$NAME\"", "$NAME" },
	{ "\"\\\"\"", "\"" },
	{ "\"\\\\\"", "\\" },
	{ "\"\\a\"", "\\a" },
	{ "'\\n'", "\\n" },
	{ "${UNSET:-\\$x}", "$x" },
	/* values keep their spaces and are not re-expanded */
	{ "$SP", "a b  c" },
	{ "${UTF}", "h\xc3\xa9llo" },
};

static void test_words(void **state)
{
	(void)state;
	sw_env env;
	sw_lex_opts o = { .escape = '\\' };

	env_of(&env);
	sw_env_set(&env, "LITERAL", "$NAME");
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		char *out = NULL;
		sw_error *err = NULL;
		int r = sw_lex_word(&out, &o, words[i].in, &env, &err);
		if (r < 0) {
			cleanup_free char *m = sw_error_string(err);
			fail_msg("case %zu %s: %s", i, words[i].in, m);
		}
		if (strcmp(out, words[i].out))
			fail_msg("case %zu %s: got '%s', want '%s'", i, words[i].in, out, words[i].out);
		free(out);
	}
	char *out = NULL;
	assert_int_equal(sw_lex_word(&out, &o, "$LITERAL", &env, NULL), 0);
	assert_string_equal(out, "$NAME");
	free(out);
	sw_env_release(&env);
}

static void test_backtick_escape(void **state)
{
	(void)state;
	sw_env env;
	sw_lex_opts o = { .escape = '`' };
	static const struct wcase c[] = {
		{ "`$NAME", "$NAME" },
		{ "C:\\path\\$NAME", "C:\\path\\world" },
		{ "\"`\"\"", "\"" },
		{ "\"``\"", "`" },
		{ "\"\\$NAME\"", "\\world" },
		{ "``", "`" },
	};

	env_of(&env);
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char *out = NULL;
		assert_int_equal(sw_lex_word(&out, &o, c[i].in, &env, NULL), 0);
		if (strcmp(out, c[i].out))
			fail_msg("case %s: got '%s', want '%s'", c[i].in, out, c[i].out);
		free(out);
	}
	sw_env_release(&env);
}

static void test_skip_quotes(void **state)
{
	(void)state;
	sw_env env;
	sw_lex_opts o = { .escape = '\\', .skip_quotes = true };
	char *out = NULL;

	env_of(&env);
	assert_int_equal(sw_lex_word(&out, &o, "echo '$NAME' \"$NAME\"\n", &env, NULL), 0);
	assert_string_equal(out, "echo 'world' \"world\"\n");
	free(out);
	sw_env_release(&env);
}

struct splitcase {
	const char *in;
	const char *out[6];
};

static const struct splitcase splits[] = {
	{ "a b c", { "a", "b", "c" } },
	{ "  a   b  ", { "a", "b" } },
	{ "$SP", { "a", "b", "c" } },
	{ "\"$SP\"", { "a b  c" } },
	{ "x$SP", { "xa", "b", "c" } },
	{ "'a b' c", { "a b", "c" } },
	{ "a\\ b", { "a b" } },
	{ "\"\"", { NULL } },
	{ "$EMPTY", { NULL } },
	{ "a\"\"b", { "ab" } },
	{ "80 443/udp", { "80", "443/udp" } },
	{ "\ta\nb\r", { "a", "b" } },
	{ "", { NULL } },
};

static void test_split(void **state)
{
	(void)state;
	sw_env env;
	sw_lex_opts o = { .escape = '\\' };

	env_of(&env);
	for (size_t i = 0; i < sizeof(splits) / sizeof(splits[0]); i++) {
		char **v = NULL;
		size_t n = 0, want = 0;
		assert_int_equal(sw_lex_words(&v, &n, &o, splits[i].in, &env, NULL), 0);
		while (want < 6 && splits[i].out[want])
			want++;
		if (n != want)
			fail_msg("case %s: %zu words, want %zu", splits[i].in, n, want);
		for (size_t k = 0; k < n; k++)
			if (strcmp(v[k], splits[i].out[k]))
				fail_msg("case %s: word %zu '%s', want '%s'", splits[i].in, k, v[k], splits[i].out[k]);
		assert_null(v[n]);
		sw_strv_free(v);
	}
	sw_env_release(&env);
}

struct ecase {
	const char *in;
	const char *msg;
};

static const struct ecase errors[] = {
	{ "${}", "failed to process \"${}\": syntax error: bad substitution" },
	{ "${:}", "syntax error: bad substitution" },
	{ "${{a}", "syntax error: bad substitution" },
	{ "${", "syntax error: missing '}'" },
	{ "${NAME", "syntax error: missing '}'" },
	{ "${NAME:-x", "syntax error: missing '}'" },
	{ "${NAME:", "syntax error: missing '}'" },
	{ "${NAME=x}", "unsupported modifier (=) in substitution" },
	{ "${NAME x}", "unsupported modifier ( ) in substitution" },
	{ "${NAME:=x}", "unsupported modifier (:=) in substitution" },
	{ "${NAME:/x}", "unsupported modifier (:/) in substitution" },
	{ "${UNSET?}", "UNSET: is not allowed to be unset" },
	{ "${UNSET:?}", "UNSET: is not allowed to be unset" },
	{ "${EMPTY:?}", "EMPTY: is not allowed to be empty" },
	{ "${UNSET?custom $NAME}", "UNSET: custom world" },
	{ "${EMPTY:?must be set}", "EMPTY: must be set" },
	{ "${DASHED//-}", "syntax error: missing '/' in ${}" },
	{ "${DASHED//}", "syntax error: missing '/' in ${}" },
	{ "${DASHED/a", "syntax error: missing '/' in ${}" },
	{ "${DASHED/a/b", "syntax error: missing '}'" },
	{ "${FILE#\\x}", "invalid pattern (\\x) in substitution: invalid escape '\\x'" },
	{ "'open", "unexpected end of statement while looking for matching single-quote" },
	{ "\"open", "unexpected end of statement while looking for matching double-quote" },
	{ "${UNSET:-'open}", "syntax error: missing '}'" },
	{ "a\"b\nc", "failed to process \"a\\\"b\\nc\"" },
};

static void test_errors(void **state)
{
	(void)state;
	sw_env env;
	sw_lex_opts o = { .escape = '\\' };

	env_of(&env);
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		char *out = NULL;
		sw_error *err = NULL;
		int r = sw_lex_word(&out, &o, errors[i].in, &env, &err);
		if (r == 0)
			fail_msg("case %s: expanded to '%s', want an error", errors[i].in, out);
		assert_int_equal(r, SW_EINVALID);
		cleanup_free char *m = sw_error_string(err);
		if (!strstr(m, errors[i].msg))
			fail_msg("case %s: message '%s' lacks '%s'", errors[i].in, m, errors[i].msg);
		assert_non_null(strstr(m, "failed to process \""));
		sw_error_free(err);
	}
	sw_env_release(&env);
}

/* A value that doubles on every use stops at the limit, not at OOM. */
static void test_limits(void **state)
{
	(void)state;
	sw_env env;
	sw_lex_opts o = { .escape = '\\', .max = 1000 };
	sw_error *err = NULL;
	char *out = NULL;
	sw_buf b = SW_BUF_INIT(0);

	sw_env_init(&env);
	sw_env_set(&env, "A", "0123456789");
	for (int i = 0; i < 200; i++)
		(void)sw_buf_addstr(&b, "$A", NULL);
	assert_int_equal(sw_lex_word(&out, &o, b.data, &env, &err), SW_ETOOBIG);
	sw_error_clear(&err);
	char **v = NULL;
	size_t n;
	assert_int_equal(sw_lex_words(&v, &n, &o, b.data, &env, &err), SW_ETOOBIG);
	sw_error_clear(&err);
	sw_buf_release(&b);

	/* deep nesting is refused before the stack is */
	for (int i = 0; i < 5000; i++)
		(void)sw_buf_addstr(&b, "${A:-", NULL);
	for (int i = 0; i < 5000; i++)
		(void)sw_buf_addc(&b, '}', NULL);
	o.max = 0;
	assert_int_equal(sw_lex_word(&out, &o, b.data, &env, &err), SW_EINVALID);
	cleanup_free char *m = sw_error_string(err);
	assert_non_null(strstr(m, "nested too deeply"));
	/* long words are cut in the message */
	assert_true(strlen(m) < 1000);
	sw_error_clear(&err);
	sw_buf_release(&b);
	sw_env_release(&env);
}

static void test_env(void **state)
{
	(void)state;
	sw_env e, c;

	sw_env_init(&e);
	sw_env_set(&e, "A", "1");
	sw_env_set(&e, "B", "2");
	sw_env_set(&e, "A", "3");
	assert_int_equal(e.n, 2);
	assert_string_equal(e.v[0].key, "A");
	assert_string_equal(sw_env_get(&e, "A"), "3");
	assert_null(sw_env_get(&e, "a"));
	assert_null(sw_env_get(NULL, "A"));
	sw_env_copy(&c, &e);
	sw_env_set(&c, "B", "x");
	assert_string_equal(sw_env_get(&e, "B"), "2");
	assert_int_equal(sw_env_bytes(&e), 8);
	sw_env_release(&c);
	sw_env_release(&e);
}

static void test_go_quote(void **state)
{
	(void)state;
	char *q = sw_go_quote("a\"b\\c\n\t\x01\xff\xc3\xa9");
	assert_string_equal(q, "\"a\\\"b\\\\c\\n\\t\\x01\\xff\xc3\xa9\"");
	free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_backtick_escape),
		cmocka_unit_test(test_skip_quotes),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_go_quote),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
