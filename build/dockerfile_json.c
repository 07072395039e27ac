/*
 * dockerfile_json.c - the exec form `["a", "b"]` as Docker reads it: with
 * Go's encoding/json rules (nesting limit, number range, string escapes and
 * U+FFFD for bad bytes), because whether a line is JSON decides between exec
 * form, shell form and an error.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dockerfile_int.h"
#include "slipway/mem.h"

#define JSON_MAX_DEPTH 10000   /* Go's maxNestingDepth */

typedef struct jscan {
	const char *s;
	size_t len;
	size_t pos;
	bool overflow;  /* a number Go cannot hold in a float64 */
} jscan;

static void skip_ws(jscan *j)
{
	while (j->pos < j->len) {
		char c = j->s[j->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		j->pos++;
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits after "\u" at s[p] (p at the backslash), or -1. */
static long getu4(const jscan *j, size_t p)
{
	long v = 0;

	if (p + 6 > j->len || j->s[p] != '\\' || j->s[p + 1] != 'u')
		return -1;
	for (size_t i = 2; i < 6; i++) {
		int h = hexval(j->s[p + i]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/* A string at j->pos (on the opening quote). When out is not NULL the
 * decoded value is appended to it. Returns false on a syntax error. */
static bool scan_string(jscan *j, sw_buf *out)
{
	size_t p = j->pos + 1;

	while (p < j->len) {
		unsigned char c = (unsigned char)j->s[p];
		if (c == '"') {
			j->pos = p + 1;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			char e;
			if (p + 1 >= j->len)
				return false;
			e = j->s[p + 1];
			if (e == 'u') {
				long r = getu4(j, p), r2;
				if (r < 0)
					return false;
				p += 6;
				if (r >= 0xD800 && r < 0xE000) {
					r2 = getu4(j, p);
					if (r < 0xDC00 && r2 >= 0xDC00 && r2 < 0xE000) {
						r = 0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00);
						p += 6;
					} else {
						r = SW_DF_RUNE_ERROR;
					}
				}
				if (out)
					sw_df_buf_add_rune(out, (uint32_t)r, NULL);
				continue;
			}
			switch (e) {
			case '"': case '\\': case '/': break;
			case 'b': e = '\b'; break;
			case 'f': e = '\f'; break;
			case 'n': e = '\n'; break;
			case 'r': e = '\r'; break;
			case 't': e = '\t'; break;
			default: return false;
			}
			if (out)
				sw_buf_addc(out, e, NULL);
			p += 2;
			continue;
		}
		if (c < 0x80) {
			if (out)
				sw_buf_addc(out, (char)c, NULL);
			p++;
		} else {
			size_t w;
			uint32_t r = sw_df_decode_rune(j->s + p, j->len - p, &w);
			if (out) {
				if (w == 1)
					sw_df_buf_add_rune(out, r, NULL);
				else
					sw_buf_add(out, j->s + p, w, NULL);
			}
			p += w;
		}
	}
	return false;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool scan_number(jscan *j)
{
	size_t p = j->pos, start = p;
	char *tmp;
	double v;

	if (p < j->len && j->s[p] == '-')
		p++;
	if (p >= j->len)
		return false;
	if (j->s[p] == '0') {
		p++;
	} else if (j->s[p] >= '1' && j->s[p] <= '9') {
		while (p < j->len && is_digit(j->s[p]))
			p++;
	} else {
		return false;
	}
	if (p < j->len && j->s[p] == '.') {
		p++;
		if (p >= j->len || !is_digit(j->s[p]))
			return false;
		while (p < j->len && is_digit(j->s[p]))
			p++;
	}
	if (p < j->len && (j->s[p] == 'e' || j->s[p] == 'E')) {
		p++;
		if (p < j->len && (j->s[p] == '+' || j->s[p] == '-'))
			p++;
		if (p >= j->len || !is_digit(j->s[p]))
			return false;
		while (p < j->len && is_digit(j->s[p]))
			p++;
	}
	tmp = sw_xstrndup(j->s + start, p - start);
	v = strtod(tmp, NULL);
	free(tmp);
	if (isinf(v))
		j->overflow = true;
	j->pos = p;
	return true;
}

static bool scan_literal(jscan *j, const char *lit)
{
	size_t n = strlen(lit);

	if (j->len - j->pos < n || memcmp(j->s + j->pos, lit, n))
		return false;
	j->pos += n;
	return true;
}

/*
 * s starts with '['. Sets *is_json when s is valid JSON that Go would
 * decode into []interface{}; then out holds the elements when they are all
 * strings, and a non-string element is an error (as Docker reports it).
 */
int sw_df_json_string_array(sw_df_strv *out, const char *s, size_t len, bool *is_json,
                            sw_error **err)
{
	jscan j = { s, len, 0, false };
	char *stack = NULL;
	size_t depth = 0;
	bool non_string = false, ok = false;

	*is_json = false;
	stack = sw_xmalloc(JSON_MAX_DEPTH + 1);
	for (;;) {
		/* a value is expected */
		skip_ws(&j);
		if (j.pos >= j.len)
			goto done;
		switch (j.s[j.pos]) {
		case '[':
		case '{':
			if (depth >= JSON_MAX_DEPTH)
				goto done;
			if (depth == 1)
				non_string = true;
			stack[depth++] = j.s[j.pos++];
			skip_ws(&j);
			if (j.pos < j.len && j.s[j.pos] == (stack[depth - 1] == '[' ? ']' : '}')) {
				j.pos++;
				depth--;
				break;
			}
			if (stack[depth - 1] == '[')
				continue;
			goto key;
		case '"':
			if (depth == 1) {
				sw_buf b = SW_BUF_INIT(0);
				if (!scan_string(&j, &b)) {
					sw_buf_release(&b);
					goto done;
				}
				sw_df_strv_push(out, sw_buf_detach(&b));
			} else if (!scan_string(&j, NULL)) {
				goto done;
			}
			break;
		case 't':
		case 'f':
		case 'n':
			if (!scan_literal(&j, "true") && !scan_literal(&j, "false") &&
			    !scan_literal(&j, "null"))
				goto done;
			non_string |= depth == 1;
			break;
		default:
			if (!scan_number(&j))
				goto done;
			non_string |= depth == 1;
			break;
		}
		/* after a value: close containers or move to the next element */
		for (;;) {
			skip_ws(&j);
			if (depth == 0) {
				ok = j.pos == j.len;
				goto done;
			}
			if (j.pos >= j.len)
				goto done;
			if (j.s[j.pos] == ',') {
				j.pos++;
				if (stack[depth - 1] == '[')
					break;
				goto key;
			}
			if (j.s[j.pos] != (stack[depth - 1] == '[' ? ']' : '}'))
				goto done;
			j.pos++;
			depth--;
		}
		continue;
key:
		skip_ws(&j);
		if (j.pos >= j.len || j.s[j.pos] != '"' || !scan_string(&j, NULL))
			goto done;
		skip_ws(&j);
		if (j.pos >= j.len || j.s[j.pos] != ':')
			goto done;
		j.pos++;
	}
done:
	free(stack);
	if (!ok || j.overflow)
		return 0;
	*is_json = true;
	if (non_string)
		return sw_error_set(err, SW_EINVALID,
		                    "when using JSON array syntax, arrays must be comprised of strings only");
	return 0;
}
