/*
 * shell_lex.c - Dockerfile word expansion as BuildKit's shell lexer does it
 * (see shell_lex.h). This is the one place that knows quoting, escapes and
 * ${...} modifiers; instructions and stages live in dockerfile_plan.c.
 *
 * Every result goes through an sw_buf with a maximum, so `$A$A$A...` with a
 * large A gives SW_ETOOBIG, never a runaway allocation; nesting of ${...} is
 * bounded so hostile input cannot exhaust the stack.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dockerfile_int.h"
#include "shell_lex.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/mem.h"

#define LEX_EOF (-1)
#define MAX_DEPTH 64
/* pattern matching work (runes x pattern tokens) allowed per substitution */
#define MAX_MATCH_WORK (200u * 1000 * 1000)

/* ---------------------------------------------------------------- env */

void sw_env_init(sw_env *e)
{
	e->v = NULL;
	e->n = e->cap = 0;
}

void sw_env_release(sw_env *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->v[i].key);
		free(e->v[i].value);
	}
	free(e->v);
	sw_env_init(e);
}

void sw_env_copy(sw_env *dst, const sw_env *src)
{
	sw_env_init(dst);
	for (size_t i = 0; i < src->n; i++)
		sw_env_set(dst, src->v[i].key, src->v[i].value);
}

void sw_env_set(sw_env *e, const char *key, const char *value)
{
	for (size_t i = 0; i < e->n; i++) {
		if (!strcmp(e->v[i].key, key)) {
			char *nv = sw_xstrdup(value);
			free(e->v[i].value);
			e->v[i].value = nv;
			return;
		}
	}
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 8;
		e->v = sw_xreallocarray(e->v, e->cap, sizeof(*e->v));
	}
	e->v[e->n].key = sw_xstrdup(key);
	e->v[e->n].value = sw_xstrdup(value);
	e->n++;
}

const char *sw_env_get(const sw_env *e, const char *key)
{
	if (!e)
		return NULL;
	for (size_t i = 0; i < e->n; i++)
		if (!strcmp(e->v[i].key, key))
			return e->v[i].value;
	return NULL;
}

size_t sw_env_bytes(const sw_env *e)
{
	size_t t = 0;
	for (size_t i = 0; i < e->n; i++)
		t += strlen(e->v[i].key) + strlen(e->v[i].value) + 2;
	return t;
}

/* ------------------------------------------------------------ helpers */

/* Length of the UTF-8 sequence at s (1 for invalid bytes, as Go decodes). */
static size_t rune_len(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n;

	if (len == 0)
		return 0;
	if (u[0] < 0x80)
		return 1;
	if (u[0] >= 0xC2 && u[0] <= 0xDF)
		n = 2;
	else if (u[0] >= 0xE0 && u[0] <= 0xEF)
		n = 3;
	else if (u[0] >= 0xF0 && u[0] <= 0xF4)
		n = 4;
	else
		return 1;
	if (n > len)
		return 1;
	for (size_t i = 1; i < n; i++)
		if ((u[i] & 0xC0) != 0x80)
			return 1;
	return n;
}

/* Bytes of white space at s as unicode.IsSpace sees it (0 if none). */
static size_t space_len(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	if (len == 0)
		return 0;
	if (u[0] == ' ' || (u[0] >= '\t' && u[0] <= '\r'))
		return 1;
	if (len >= 2 && u[0] == 0xC2 && (u[1] == 0x85 || u[1] == 0xA0))
		return 2;
	return 0;
}

char *sw_go_quote(const char *s)
{
	sw_buf b = SW_BUF_INIT(0);

	/* the parser's dump has the exact strconv.Quote; messages use it too */
	(void)sw_df_quote(&b, s, strlen(s), NULL);
	return sw_buf_detach(&b);
}

/* ------------------------------------------------------------- words */

struct words {
	sw_buf cur;
	bool in_word;
	char **v;
	size_t n;
	size_t cap;
	size_t total;
	size_t max;
};

static int words_push(struct words *w, sw_error **err)
{
	w->total += w->cur.len;
	if (w->total > w->max)
		return sw_error_set(err, SW_ETOOBIG, "expansion exceeds the limit of %zu bytes", w->max);
	if (w->n + 1 >= w->cap) {
		w->cap = w->cap ? w->cap * 2 : 8;
		w->v = sw_xreallocarray(w->v, w->cap, sizeof(*w->v));
	}
	w->v[w->n++] = sw_buf_detach(&w->cur);
	w->v[w->n] = NULL;
	w->cur.max = w->max;
	w->in_word = false;
	return 0;
}

static int words_add_raw(struct words *w, const char *s, size_t len, sw_error **err)
{
	w->in_word = true;
	return sw_buf_add(&w->cur, s, len, err);
}

/* Adds text whose white space separates words (expanded values, plain
 * characters). */
static int words_add(struct words *w, const char *s, size_t len, sw_error **err)
{
	for (size_t i = 0; i < len;) {
		size_t sl = space_len(s + i, len - i);
		if (sl) {
			if (w->in_word && w->cur.len && words_push(w, err) < 0)
				return SW_ETOOBIG;
			i += sl;
			continue;
		}
		size_t rl = rune_len(s + i, len - i);
		if (words_add_raw(w, s + i, rl, err) < 0)
			return SW_ETOOBIG;
		i += rl;
	}
	return 0;
}

static void words_release(struct words *w)
{
	sw_buf_release(&w->cur);
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
	w->v = NULL;
	w->n = w->cap = 0;
}

/* -------------------------------------------------------------- lexer */

struct lexer {
	const sw_lex_opts *o;
	const sw_env *env;
	const char *s;
	size_t len;
	size_t pos;
	size_t max;
	int depth;
};

static int peek(const struct lexer *lx)
{
	return lx->pos < lx->len ? (unsigned char)lx->s[lx->pos] : LEX_EOF;
}

static int next(struct lexer *lx)
{
	return lx->pos < lx->len ? (unsigned char)lx->s[lx->pos++] : LEX_EOF;
}

/* Appends the rest of the rune that started with the byte just read. */
static int add_rune_tail(struct lexer *lx, sw_buf *b, struct words *w, bool raw_word, sw_error **err)
{
	size_t start = lx->pos - 1;
	size_t rl = rune_len(lx->s + start, lx->len - start);

	lx->pos = start + rl;
	if (sw_buf_add(b, lx->s + start, rl, err) < 0)
		return SW_ETOOBIG;
	if (w) {
		if (raw_word)
			return words_add_raw(w, lx->s + start, rl, err);
		return words_add(w, lx->s + start, rl, err);
	}
	return 0;
}

static int process_stop_on(struct lexer *lx, int stop, bool raw_escapes, sw_buf *out,
                           struct words *w, sw_error **err);
static int process_dollar(struct lexer *lx, sw_buf *out, sw_error **err);

static int process_single_quote(struct lexer *lx, sw_buf *out, sw_error **err)
{
	next(lx);
	for (;;) {
		int ch = next(lx);
		if (ch == LEX_EOF)
			return sw_error_set(err, SW_EINVALID,
			                    "unexpected end of statement while looking for matching single-quote");
		if (ch == '\'')
			return 0;
		if (sw_buf_addc(out, (char)ch, err) < 0)
			return SW_ETOOBIG;
	}
}

static int process_double_quote(struct lexer *lx, bool raw_escapes, sw_buf *out, sw_error **err)
{
	next(lx);
	for (;;) {
		int ch = peek(lx);
		if (ch == LEX_EOF)
			return sw_error_set(err, SW_EINVALID,
			                    "unexpected end of statement while looking for matching double-quote");
		if (ch == '"') {
			next(lx);
			return 0;
		}
		if (ch == '$') {
			if (process_dollar(lx, out, err) < 0)
				return SW_EINVALID;
			continue;
		}
		ch = next(lx);
		if (ch == (unsigned char)lx->o->escape) {
			if (raw_escapes && sw_buf_addc(out, (char)ch, err) < 0)
				return SW_ETOOBIG;
			int p = peek(lx);
			if (p == LEX_EOF)
				continue;
			if (p == '"' || p == '$' || p == (unsigned char)lx->o->escape)
				ch = next(lx);
		}
		if (sw_buf_addc(out, (char)ch, err) < 0)
			return SW_ETOOBIG;
	}
}

/*
 * The words of one call: the top level splits into words; nested ${...}
 * operands do not (BuildKit discards their words).
 */
static int process_stop_on(struct lexer *lx, int stop, bool raw_escapes, sw_buf *out,
                           struct words *w, sw_error **err)
{
	for (;;) {
		int ch = peek(lx);
		if (ch == LEX_EOF)
			break;
		if (stop != LEX_EOF && ch == stop) {
			next(lx);
			return 0;
		}
		if (ch == '$' || (!lx->o->skip_quotes && (ch == '\'' || ch == '"'))) {
			sw_buf tmp = SW_BUF_INIT(lx->max);
			int r;
			if (ch == '$')
				r = process_dollar(lx, &tmp, err);
			else if (ch == '\'')
				r = process_single_quote(lx, &tmp, err);
			else
				r = process_double_quote(lx, raw_escapes, &tmp, err);
			if (r < 0 || sw_buf_add(out, tmp.data ? tmp.data : "", tmp.len, err) < 0) {
				sw_buf_release(&tmp);
				return r < 0 ? r : SW_ETOOBIG;
			}
			if (w) {
				if (ch == '$')
					r = words_add(w, tmp.data ? tmp.data : "", tmp.len, err);
				else
					r = words_add_raw(w, tmp.data ? tmp.data : "", tmp.len, err);
			}
			sw_buf_release(&tmp);
			if (r < 0)
				return r;
			continue;
		}
		ch = next(lx);
		if (ch == (unsigned char)lx->o->escape) {
			if (raw_escapes) {
				if (sw_buf_addc(out, (char)ch, err) < 0)
					return SW_ETOOBIG;
				if (w && words_add_raw(w, (const char *)&lx->o->escape, 1, err) < 0)
					return SW_ETOOBIG;
			}
			ch = next(lx);
			if (ch == LEX_EOF)
				break;
			if (add_rune_tail(lx, out, w, true, err) < 0)
				return SW_ETOOBIG;
			continue;
		}
		if (add_rune_tail(lx, out, w, false, err) < 0)
			return SW_ETOOBIG;
	}
	if (stop != LEX_EOF)
		return sw_error_set(err, SW_EINVALID,
		                    "unexpected end of statement while looking for matching %c", stop);
	return 0;
}

static bool is_special_param(int ch)
{
	return ch == '@' || ch == '*' || ch == '#' || ch == '?' || ch == '-' ||
	       ch == '$' || ch == '!' || ch == '0';
}

static bool is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

/* Letters (non-ASCII bytes count as letters, as most non-ASCII runes used
 * in names are), digits and '_'. */
static bool is_name_char(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || is_digit(ch) ||
	       ch == '_' || ch >= 0x80;
}

static char *process_name(struct lexer *lx)
{
	size_t start = lx->pos;
	int ch = peek(lx);

	if (ch == LEX_EOF)
		return sw_xstrdup("");
	if (is_digit(ch)) {
		while (is_digit(peek(lx)))
			next(lx);
		return sw_xstrndup(lx->s + start, lx->pos - start);
	}
	if (is_special_param(ch)) {
		next(lx);
		return sw_xstrndup(lx->s + start, 1);
	}
	while (peek(lx) != LEX_EOF && is_name_char(peek(lx)))
		next(lx);
	return sw_xstrndup(lx->s + start, lx->pos - start);
}

/* ---------------------------------------------------- glob patterns */

enum tok_kind { TOK_LIT, TOK_ANY, TOK_STAR };

struct tok {
	enum tok_kind kind;
	const char *lit; /* one rune */
	size_t len;
};

/* Compiles a ${} pattern: `*`, `?`, `\*` `\?` `\\` literals, `\}` and `\/`
 * drop the backslash; any other escape is an error, as in BuildKit. */
static int compile_pattern(struct tok **out, size_t *nout, const char *pat, sw_error **err)
{
	size_t len = strlen(pat), n = 0;
	struct tok *t = sw_xcalloc(len + 1, sizeof(*t));

	for (size_t i = 0; i < len;) {
		char c = pat[i];
		if (c == '*' || c == '?') {
			t[n++].kind = c == '*' ? TOK_STAR : TOK_ANY;
			i++;
			continue;
		}
		if (c == '\\') {
			if (i + 1 < len && (pat[i + 1] == '}' || pat[i + 1] == '/')) {
				i++;
				continue;
			}
			if (i + 1 >= len || (pat[i + 1] != '*' && pat[i + 1] != '?' && pat[i + 1] != '\\')) {
				size_t rl = i + 1 < len ? rune_len(pat + i + 1, len - i - 1) : 0;
				free(t);
				return sw_error_set(err, SW_EINVALID, "invalid escape '\\%.*s'", (int)rl, pat + i + 1);
			}
			i++;
		}
		size_t rl = rune_len(pat + i, len - i);
		t[n].kind = TOK_LIT;
		t[n].lit = pat + i;
		t[n].len = rl;
		n++;
		i += rl;
	}
	*out = t;
	*nout = n;
	return 0;
}

/* Adds state k and the states reachable from it through stars' empty
 * match; start is the match's start position (leftmost kept). */
static void add_state(size_t *st, size_t k, size_t start, const struct tok *t, size_t m)
{
	for (;;) {
		if (st[k] <= start)
			return;
		st[k] = start;
		if (k < m && t[k].kind == TOK_STAR)
			k++;
		else
			return;
	}
}

/*
 * Runs the pattern over s from `from`. anchored: the match must start at
 * `from`. Reports, for the leftmost start, the shortest or longest end.
 * Returns true when there is a match.
 */
static bool glob_find(const struct tok *t, size_t m, const char *s, size_t len, size_t from,
                      bool anchored, bool longest, size_t *mstart, size_t *mend, size_t *work)
{
	const size_t NONE = SIZE_MAX;
	size_t *cur = sw_xmalloc((m + 1) * sizeof(size_t));
	size_t *nxt = sw_xmalloc((m + 1) * sizeof(size_t));
	size_t best_start = NONE, best_end = 0;
	size_t pos = from;

	for (size_t k = 0; k <= m; k++)
		cur[k] = NONE;
	add_state(cur, 0, from, t, m);
	for (;;) {
		if (cur[m] != NONE) {
			if (cur[m] < best_start || (cur[m] == best_start && longest)) {
				best_start = cur[m];
				best_end = pos;
			}
			if (!longest && best_start == cur[m] && anchored)
				break;
		}
		if (pos >= len)
			break;
		size_t rl = rune_len(s + pos, len - pos);
		bool any_live = false;
		for (size_t k = 0; k <= m; k++)
			nxt[k] = NONE;
		for (size_t k = 0; k < m; k++) {
			if (cur[k] == NONE)
				continue;
			if (best_start != NONE && cur[k] > best_start)
				continue;
			bool nl = s[pos] == '\n';
			switch (t[k].kind) {
			case TOK_STAR:
				if (!nl)
					add_state(nxt, k, cur[k], t, m);
				break;
			case TOK_ANY:
				if (!nl)
					add_state(nxt, k + 1, cur[k], t, m);
				break;
			case TOK_LIT:
				if (t[k].len == rl && !memcmp(t[k].lit, s + pos, rl))
					add_state(nxt, k + 1, cur[k], t, m);
				break;
			}
		}
		*work += m + 1;
		pos += rl;
		if (!anchored && best_start == NONE)
			add_state(nxt, 0, pos, t, m);
		for (size_t k = 0; k <= m; k++)
			if (nxt[k] != NONE && (best_start == NONE || nxt[k] <= best_start))
				any_live = true;
		size_t *tmp = cur;
		cur = nxt;
		nxt = tmp;
		if (!any_live && (anchored || best_start != NONE)) {
			if (cur[m] != NONE && (best_start == NONE || cur[m] <= best_start))
				continue;
			break;
		}
	}
	free(cur);
	free(nxt);
	if (best_start == NONE)
		return false;
	*mstart = best_start;
	*mend = best_end;
	return true;
}

/* s with its runes in reverse order (bytes of each rune kept in order). */
static char *reverse_runes(const char *s, size_t len)
{
	char *r = sw_xmalloc(len + 1);
	size_t o = len;

	for (size_t i = 0; i < len;) {
		size_t rl = rune_len(s + i, len - i);
		o -= rl;
		memcpy(r + o, s + i, rl);
		i += rl;
	}
	r[len] = '\0';
	return r;
}

static int check_work(size_t work, sw_error **err)
{
	if (work > MAX_MATCH_WORK)
		return sw_error_set(err, SW_ETOOBIG, "pattern substitution too expensive");
	return 0;
}

/* ${v#p} ${v##p} ${v%p} ${v%%p} */
static int trim_pattern(sw_buf *out, const char *value, const char *pat, bool suffix, bool greedy,
                        sw_error **err)
{
	cleanup_free struct tok *t = NULL;
	size_t m, len = strlen(value), s, e, work = 0;

	if (compile_pattern(&t, &m, pat, err) < 0) {
		cleanup_free char *msg = sw_error_string(*err);
		sw_error_clear(err);
		return sw_error_set(err, SW_EINVALID, "invalid pattern (%s) in substitution: %s", pat, msg);
	}
	if (!suffix) {
		if (glob_find(t, m, value, len, 0, true, greedy, &s, &e, &work))
			value += e;
		if (check_work(work, err) < 0)
			return SW_ETOOBIG;
		return sw_buf_addstr(out, value, err);
	}
	for (size_t i = 0; i < m / 2; i++) {
		struct tok x = t[i];
		t[i] = t[m - 1 - i];
		t[m - 1 - i] = x;
	}
	cleanup_free char *rev = reverse_runes(value, len);
	if (glob_find(t, m, rev, len, 0, true, greedy, &s, &e, &work))
		len -= e;
	if (check_work(work, err) < 0)
		return SW_ETOOBIG;
	return sw_buf_add(out, value, len, err);
}

/* Go's Regexp.Expand for a pattern without groups: $$ is '$', $0 and ${0}
 * the match, other names and numbers nothing, a malformed $ itself. */
static int expand_replacement(sw_buf *out, const char *repl, const char *match, size_t mlen,
                              sw_error **err)
{
	for (const char *p = repl; *p;) {
		if (*p != '$') {
			if (sw_buf_addc(out, *p++, err) < 0)
				return SW_ETOOBIG;
			continue;
		}
		p++;
		if (*p == '$') {
			if (sw_buf_addc(out, '$', err) < 0)
				return SW_ETOOBIG;
			p++;
			continue;
		}
		bool brace = *p == '{';
		const char *q = p + (brace ? 1 : 0), *name = q;
		while (*q && is_name_char((unsigned char)*q))
			q++;
		size_t nlen = (size_t)(q - name);
		if (nlen == 0 || (brace && *q != '}')) {
			if (sw_buf_addc(out, '$', err) < 0)
				return SW_ETOOBIG;
			continue;
		}
		bool zero = true;
		for (size_t i = 0; i < nlen; i++)
			if (name[i] != '0')
				zero = false;
		if (zero && sw_buf_add(out, match, mlen, err) < 0)
			return SW_ETOOBIG;
		p = q + (brace ? 1 : 0);
	}
	return 0;
}

/* ${v/p/r} and ${v//p/r} */
static int replace_pattern(sw_buf *out, const char *value, const char *pat, const char *repl,
                           bool all, sw_error **err)
{
	cleanup_free struct tok *t = NULL;
	size_t m, len = strlen(value), s, e, work = 0;

	if (compile_pattern(&t, &m, pat, err) < 0) {
		cleanup_free char *msg = sw_error_string(*err);
		sw_error_clear(err);
		return sw_error_set(err, SW_EINVALID, "invalid pattern (%s) in substitution: %s", pat, msg);
	}
	if (!all) {
		if (!glob_find(t, m, value, len, 0, false, true, &s, &e, &work))
			return check_work(work, err) < 0 ? SW_ETOOBIG : sw_buf_addstr(out, value, err);
		if (check_work(work, err) < 0 || sw_buf_add(out, value, s, err) < 0 ||
		    sw_buf_addstr(out, repl, err) < 0 || sw_buf_addstr(out, value + e, err) < 0)
			return SW_ETOOBIG;
		return 0;
	}
	size_t search = 0, last_end = 0;
	while (search <= len) {
		if (!glob_find(t, m, value, len, search, false, true, &s, &e, &work))
			break;
		if (check_work(work, err) < 0 || sw_buf_add(out, value + last_end, s - last_end, err) < 0)
			return SW_ETOOBIG;
		if (e > last_end || s == 0) {
			if (expand_replacement(out, repl, value + s, e - s, err) < 0)
				return SW_ETOOBIG;
		}
		last_end = e;
		size_t width = rune_len(value + search, len - search);
		if (search + width > e)
			search += width;
		else if (search + 1 > e)
			search++;
		else
			search = e;
	}
	if (check_work(work, err) < 0)
		return SW_ETOOBIG;
	return sw_buf_addstr(out, value + last_end, err);
}

/* ---------------------------------------------------------- ${...} */

static int missing_brace(struct lexer *lx, int r, sw_error **err, const char *what)
{
	if (peek(lx) == LEX_EOF && r != SW_ETOOBIG) {
		sw_error_clear(err);
		return sw_error_set(err, SW_EINVALID, "%s", what);
	}
	return r;
}

static int process_braced(struct lexer *lx, sw_buf *out, sw_error **err)
{
	cleanup_free char *name = NULL;
	char chs[3] = { 0 };
	bool null_is_unset = false;
	int ch, r;

	switch (peek(lx)) {
	case LEX_EOF:
		return sw_error_set(err, SW_EINVALID, "syntax error: missing '}'");
	case '{':
	case '}':
	case ':':
		return sw_error_set(err, SW_EINVALID, "syntax error: bad substitution");
	default:
		break;
	}
	name = process_name(lx);
	ch = next(lx);
	if (ch == '}') {
		const char *v = sw_env_get(lx->env, name);
		return v ? sw_buf_addstr(out, v, err) : 0;
	}
	if (ch == LEX_EOF)
		return sw_error_set(err, SW_EINVALID, "syntax error: missing '}'");
	chs[0] = (char)ch;
	if (ch == ':') {
		null_is_unset = true;
		ch = next(lx);
		if (ch == LEX_EOF)
			return sw_error_set(err, SW_EINVALID, "syntax error: missing '}'");
		chs[1] = (char)ch;
	}
	if (lx->depth >= MAX_DEPTH)
		return sw_error_set(err, SW_EINVALID, "syntax error: substitutions nested too deeply");
	lx->depth++;

	if (ch == '/' && !null_is_unset) {
		bool all = peek(lx) == '/';
		sw_buf pat = SW_BUF_INIT(lx->max), rep = SW_BUF_INIT(lx->max);
		if (all)
			next(lx);
		r = process_stop_on(lx, '/', true, &pat, NULL, err);
		if (r < 0) {
			r = missing_brace(lx, r, err, "syntax error: missing '/' in ${}");
		} else {
			r = process_stop_on(lx, '}', true, &rep, NULL, err);
			if (r < 0)
				r = missing_brace(lx, r, err, "syntax error: missing '}'");
		}
		if (r == 0) {
			const char *v = sw_env_get(lx->env, name);
			r = replace_pattern(out, v ? v : "", pat.data ? pat.data : "",
			                    rep.data ? rep.data : "", all, err);
		}
		sw_buf_release(&pat);
		sw_buf_release(&rep);
		lx->depth--;
		return r;
	}

	if (ch != '+' && ch != '-' && ch != '?' && ch != '#' && ch != '%' && !null_is_unset) {
		lx->depth--;
		return sw_error_set(err, SW_EINVALID, "unsupported modifier (%s) in substitution", chs);
	}
	sw_buf word = SW_BUF_INIT(lx->max);
	r = process_stop_on(lx, '}', ch == '#' || ch == '%', &word, NULL, err);
	lx->depth--;
	if (r < 0) {
		sw_buf_release(&word);
		return missing_brace(lx, r, err, "syntax error: missing '}'");
	}
	const char *w = word.data ? word.data : "";
	const char *v = sw_env_get(lx->env, name);
	bool set = v != NULL;
	if (!v)
		v = "";
	switch (ch) {
	case '-':
		r = sw_buf_addstr(out, (!set || (null_is_unset && !*v)) ? w : v, err);
		break;
	case '+':
		r = (!set || (null_is_unset && !*v)) ? 0 : sw_buf_addstr(out, w, err);
		break;
	case '?':
		if (!set)
			r = sw_error_set(err, SW_EINVALID, "%s: %s", name, *w ? w : "is not allowed to be unset");
		else if (null_is_unset && !*v)
			r = sw_error_set(err, SW_EINVALID, "%s: %s", name, *w ? w : "is not allowed to be empty");
		else
			r = sw_buf_addstr(out, v, err);
		break;
	case '#':
	case '%': {
		bool greedy = *w == ch;
		r = trim_pattern(out, v, greedy ? w + 1 : w, ch == '%', greedy, err);
		break;
	}
	default:
		r = sw_error_set(err, SW_EINVALID, "unsupported modifier (%s) in substitution", chs);
		break;
	}
	sw_buf_release(&word);
	return r;
}

static int process_dollar(struct lexer *lx, sw_buf *out, sw_error **err)
{
	next(lx);
	if (peek(lx) != '{') {
		cleanup_free char *name = process_name(lx);
		if (!*name)
			return sw_buf_addc(out, '$', err);
		const char *v = sw_env_get(lx->env, name);
		return v ? sw_buf_addstr(out, v, err) : 0;
	}
	next(lx);
	return process_braced(lx, out, err);
}

static int run(const sw_lex_opts *o, const char *word, const sw_env *env, sw_buf *out,
               struct words *w, sw_error **err)
{
	sw_lex_opts opts = *o;
	struct lexer lx = {
		.o = &opts, .env = env, .s = word, .len = strlen(word), .pos = 0,
		.max = o->max ? o->max : SW_LEX_MAX, .depth = 0,
	};

	if (!opts.escape)
		opts.escape = '\\';

	out->max = lx.max;
	if (w) {
		w->max = lx.max;
		w->cur.max = lx.max;
	}
	if (process_stop_on(&lx, LEX_EOF, false, out, w, err) < 0) {
		/* long words are cut in the message, at a rune boundary */
		size_t cut = 0;
		while (cut < lx.len && cut < 256)
			cut += rune_len(word + cut, lx.len - cut);
		cleanup_free char *head = sw_xstrndup(word, cut);
		cleanup_free char *q = sw_go_quote(head);
		return sw_error_wrap(err, "failed to process %s%s", q, cut < lx.len ? "..." : "");
	}
	return 0;
}

int sw_lex_word(char **out, const sw_lex_opts *o, const char *word, const sw_env *env, sw_error **err)
{
	sw_buf b = SW_BUF_INIT(0);

	if (run(o, word, env, &b, NULL, err) < 0) {
		sw_buf_release(&b);
		return sw_error_code(*err);
	}
	*out = sw_buf_detach(&b);
	return 0;
}

int sw_lex_words(char ***out, size_t *nout, const sw_lex_opts *o, const char *word,
                 const sw_env *env, sw_error **err)
{
	sw_buf b = SW_BUF_INIT(0);
	struct words w = { .cur = SW_BUF_INIT(0) };

	if (run(o, word, env, &b, &w, err) < 0 || (w.cur.len && words_push(&w, err) < 0)) {
		sw_buf_release(&b);
		words_release(&w);
		return sw_error_code(*err);
	}
	sw_buf_release(&b);
	sw_buf_release(&w.cur);
	if (!w.v)
		w.v = sw_xcalloc(1, sizeof(*w.v));
	*out = w.v;
	*nout = w.n;
	return 0;
}
