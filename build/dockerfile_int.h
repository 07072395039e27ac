/*
 * dockerfile_int.h - private helpers shared by the Dockerfile syntax files:
 * the Go-compatible text primitives (UTF-8 decoding, unicode.IsSpace,
 * strings.TrimSpace, strings.ToLower), the per-keyword argument splitters,
 * heredoc detection and the dumpers.
 *
 * Docker's parser is written in Go, and its output depends on Go's exact
 * string semantics (invalid UTF-8 decodes to U+FFFD one byte at a time,
 * some loops look at bytes, others at runes). These helpers reproduce them
 * so that the tree matches byte for byte.
 */
#ifndef SLIPWAY_DOCKERFILE_INT_H
#define SLIPWAY_DOCKERFILE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slipway/buf.h"
#include "slipway/dockerfile.h"

/* ONBUILD may nest (ONBUILD ONBUILD RUN x parses); deeper is refused. */
#define SW_DF_MAX_NESTING 64

#define SW_DF_RUNE_ERROR 0xFFFDu

/* Go's utf8.DecodeRune: the rune at s (len > 0) and its width; invalid
 * sequences give U+FFFD with width 1. */
uint32_t sw_df_decode_rune(const char *s, size_t len, size_t *width);
/* Appends the UTF-8 encoding of r (Go's utf8.AppendRune). */
int sw_df_buf_add_rune(sw_buf *b, uint32_t r, sw_error **err);
/* Go's unicode.IsSpace. */
bool sw_df_is_space(uint32_t r);
/* unicode.IsSpace(rune(b)) for a single byte, as Go code indexing a string
 * byte by byte sees it (0x85 and 0xA0 count as space). */
bool sw_df_is_space_byte(unsigned char b);
/* Go's strconv.IsPrint, approximated outside Latin-1. */
bool sw_df_is_print(uint32_t r);
bool sw_df_is_letter(uint32_t r);
bool sw_df_is_digit(uint32_t r);

/* Length of the leading run of Unicode spaces (bytes.TrimLeftFunc). */
size_t sw_df_space_prefix(const char *s, size_t len);
/* Length of s once trailing Unicode spaces are cut (TrimRightFunc). */
size_t sw_df_trim_right(const char *s, size_t len);
/* strings.TrimSpace as a new string. */
char *sw_df_trim_space(const char *s, size_t len);
/* strings.ToLower as a new string (invalid bytes become U+FFFD). */
char *sw_df_lower(const char *s);

/* A growable list of strings. */
typedef struct sw_df_strv {
	char **v;
	size_t n;
	size_t cap;
} sw_df_strv;
void sw_df_strv_push(sw_df_strv *sv, char *s);  /* takes s */
void sw_df_strv_release(sw_df_strv *sv);

/* Parser state the argument splitters need. */
typedef struct sw_df_ctx {
	char escape;          /* '\\' or '`' */
	int depth;            /* ONBUILD nesting */
} sw_df_ctx;

/*
 * Builds one instruction from a logical line, as Docker's newNodeFromLine:
 * keyword, flags, then the keyword's own argument rule. The instruction
 * struct must be zeroed; on error its partial contents are left for
 * sw_df_instr_release. Messages carry no location.
 */
int sw_df_instr_from_line(sw_df_instr *in, sw_df_ctx *ctx, const char *line,
                          size_t len, sw_error **err);
void sw_df_instr_release(sw_df_instr *in);
/* The keyword's canonical name, or NULL for an unknown one. */
const char *sw_df_known_keyword(const char *lower);

/* Docker's canContainHeredoc for a built instruction. */
bool sw_df_can_contain_heredoc(const sw_df_instr *in);
/*
 * The heredoc openers in a logical line (heredocsFromLine): name, fd,
 * chomp and expand are set, content is left NULL. *out is freed by the
 * caller with sw_df_heredocs_free even on error.
 */
int sw_df_heredocs_from_line(sw_df_heredoc **out, size_t *n, const char *line,
                             size_t len, sw_error **err);
void sw_df_heredocs_free(sw_df_heredoc *h, size_t n);

/*
 * s starts with '['. Sets *is_json when s is JSON that Go would decode into
 * []interface{}; then out holds its strings, and a non-string element is an
 * error (SW_EINVALID). Otherwise (not JSON) the shell form applies.
 */
int sw_df_json_string_array(sw_df_strv *out, const char *s, size_t len, bool *is_json,
                            sw_error **err);

/* Go's strconv.Quote of s, appended to b. */
int sw_df_quote(sw_buf *b, const char *s, size_t len, sw_error **err);

#endif
