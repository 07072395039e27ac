/*
 * shell_lex.h - Dockerfile word expansion, with the semantics of BuildKit's
 * shell lexer (frontend/dockerfile/shell/lex.go). Private to build/.
 *
 * Supported: $v ${v} ${v:-w} ${v-w} ${v:+w} ${v+w} ${v:?msg} ${v?msg}
 * ${v#pat} ${v##pat} ${v%pat} ${v%%pat} ${v/pat/rep} ${v//pat/rep},
 * single and double quotes, the escape character (backslash or backtick) and
 * word splitting for ProcessWords. Patterns know `*` and `?` only, as
 * BuildKit's do; neither matches a newline.
 *
 * Not a shell: no command substitution, no arithmetic, no globbing.
 * Variables are looked up case-sensitively (BuildKit on Linux).
 */
#ifndef SLIPWAY_BUILD_SHELL_LEX_H
#define SLIPWAY_BUILD_SHELL_LEX_H

#include <stdbool.h>
#include <stddef.h>

#include "slipway/error.h"

/* Default bound on one expanded word (and on all words of one call). */
#define SW_LEX_MAX (4u * 1024 * 1024)

/* An ordered environment: setting a key again replaces it in place. */
typedef struct sw_env_var {
	char *key;
	char *value;
} sw_env_var;

typedef struct sw_env {
	sw_env_var *v;
	size_t n;
	size_t cap;
} sw_env;

void sw_env_init(sw_env *e);
void sw_env_release(sw_env *e);
void sw_env_copy(sw_env *dst, const sw_env *src);
void sw_env_set(sw_env *e, const char *key, const char *value);
/* The value, or NULL when key is not set (unset differs from empty). */
const char *sw_env_get(const sw_env *e, const char *key);
/* Sum of key and value lengths, for budgets. */
size_t sw_env_bytes(const sw_env *e);

typedef struct sw_lex_opts {
	char escape;       /* '\\' or '`' (the escape directive) */
	bool skip_quotes;  /* quotes are plain characters (heredoc bodies) */
	size_t max;        /* bound on results; 0 means SW_LEX_MAX */
} sw_lex_opts;

/*
 * ProcessWord: expands word as one word (quotes removed, spaces kept). On
 * failure the message is BuildKit's: failed to process "WORD": REASON.
 */
int sw_lex_word(char **out, const sw_lex_opts *o, const char *word,
                const sw_env *env, sw_error **err);

/*
 * ProcessWords: expands word and splits the result on unquoted white space
 * (after expansion, so a value with spaces gives several words). *out is a
 * NULL-terminated array; *nout its length.
 */
int sw_lex_words(char ***out, size_t *nout, const sw_lex_opts *o,
                 const char *word, const sw_env *env, sw_error **err);

/* Appends s quoted as Go's %q does (for messages that match Docker's). */
char *sw_go_quote(const char *s);

#endif
