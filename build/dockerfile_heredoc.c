/*
 * dockerfile_heredoc.c - finding heredoc openers (<<EOF, <<-EOF, <<"EOF",
 * 2<<EOF) in an instruction line.
 *
 * Docker splits the line into shell words with its word lexer (quotes and
 * escapes kept, variables left as written), takes each word that looks like
 * [fd]<<[-]DELIM, and lexes DELIM again with and without quotes: the name is
 * the unquoted word, and any quote in it turns expansion off. A lexing error
 * on the whole line means "no heredocs"; one on DELIM is a parse error. This
 * file reproduces that lexer for an empty environment.
 */
#include <limits.h>
#include <string.h>

#include "dockerfile_int.h"
#include "slipway/cleanup.h"
#include "slipway/mem.h"

#define LEX_EOF (-1)

typedef struct lexer {
	const char *s;
	size_t len;
	size_t pos;
	bool started;
	bool raw_quotes;
	bool raw_escapes;
} lexer;

typedef struct words {
	sw_buf word;
	sw_df_strv list;
	bool in_word;
} words;

/* text/scanner Peek: the next rune (U+FFFD for a bad byte) or LEX_EOF; a
 * byte order mark at the very start is skipped. */
static int32_t lex_peek_w(lexer *l, size_t *w)
{
	uint32_t r;

	if (!l->started) {
		l->started = true;
		if (l->len - l->pos >= 3 && !memcmp(l->s + l->pos, "\xEF\xBB\xBF", 3))
			l->pos += 3;
	}
	if (l->pos >= l->len) {
		*w = 0;
		return LEX_EOF;
	}
	r = sw_df_decode_rune(l->s + l->pos, l->len - l->pos, w);
	return (int32_t)r;
}

static int32_t lex_peek(lexer *l)
{
	size_t w;
	return lex_peek_w(l, &w);
}

static int32_t lex_next(lexer *l)
{
	size_t w;
	int32_t r = lex_peek_w(l, &w);
	l->pos += w;
	return r;
}

static void add_rune(sw_buf *b, int32_t r)
{
	sw_df_buf_add_rune(b, (uint32_t)r, NULL);
}

static void words_add_raw_char(words *w, int32_t r)
{
	add_rune(&w->word, r);
	w->in_word = true;
}

static void words_flush(words *w)
{
	sw_df_strv_push(&w->list, sw_buf_detach(&w->word));
	w->in_word = false;
}

static void words_add_char(words *w, int32_t r)
{
	bool space = sw_df_is_space((uint32_t)r);

	if (space && w->in_word) {
		if (w->word.len != 0)
			words_flush(w);
	} else if (!space) {
		words_add_raw_char(w, r);
	}
}

static void words_add_string(words *w, const char *s, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		uint32_t r = sw_df_decode_rune(s + i, len - i, &n);
		words_add_char(w, (int32_t)r);
		i += n;
	}
}

static void words_add_raw_string(words *w, const char *s, size_t len)
{
	sw_buf_add(&w->word, s, len, NULL);
	w->in_word = true;
}

static void words_release(words *w)
{
	sw_buf_release(&w->word);
	sw_df_strv_release(&w->list);
}

static int process_stop_on(lexer *l, int32_t stop, bool raw_escapes, sw_buf *result,
                           words *ws, sw_error **err);

static int process_single_quote(lexer *l, sw_buf *out, sw_error **err)
{
	int32_t ch = lex_next(l);

	if (l->raw_quotes)
		add_rune(out, ch);
	for (;;) {
		ch = lex_next(l);
		if (ch == LEX_EOF)
			return sw_error_set(err, SW_EINVALID,
			                    "unexpected end of statement while looking for matching single-quote");
		if (ch == '\'') {
			if (l->raw_quotes)
				add_rune(out, ch);
			return 0;
		}
		add_rune(out, ch);
	}
}

static int process_dollar(lexer *l, sw_buf *out, sw_error **err);

static int process_double_quote(lexer *l, sw_buf *out, sw_error **err)
{
	int32_t ch = lex_next(l);

	if (l->raw_quotes)
		add_rune(out, ch);
	for (;;) {
		int32_t p = lex_peek(l);
		if (p == LEX_EOF)
			return sw_error_set(err, SW_EINVALID,
			                    "unexpected end of statement while looking for matching double-quote");
		if (p == '"') {
			ch = lex_next(l);
			if (l->raw_quotes)
				add_rune(out, ch);
			return 0;
		}
		if (p == '$') {
			if (process_dollar(l, out, err) < 0)
				return SW_EINVALID;
			continue;
		}
		ch = lex_next(l);
		if (ch == '\\') {
			if (l->raw_escapes)
				add_rune(out, ch);
			p = lex_peek(l);
			if (p == LEX_EOF)
				continue;
			if (p == '"' || p == '$' || p == '\\')
				ch = lex_next(l);
		}
		add_rune(out, ch);
	}
}

/* A name after '$' (letters, digits, '_'; or digits; or one special). */
static void process_name(lexer *l, sw_buf *name)
{
	while (lex_peek(l) != LEX_EOF) {
		int32_t ch = lex_peek(l);
		if (name->len == 0 && sw_df_is_digit((uint32_t)ch)) {
			while (lex_peek(l) != LEX_EOF && sw_df_is_digit((uint32_t)lex_peek(l)))
				add_rune(name, lex_next(l));
			return;
		}
		if (name->len == 0 && ch > 0 && ch < 0x80 && strchr("@*#?-$!0", (int)ch)) {
			add_rune(name, lex_next(l));
			return;
		}
		if (!sw_df_is_letter((uint32_t)ch) && !sw_df_is_digit((uint32_t)ch) && ch != '_')
			return;
		add_rune(name, lex_next(l));
	}
}

/* With no variable set, every reference is kept as written. */
static int process_dollar(lexer *l, sw_buf *out, sw_error **err)
{
	sw_buf name = SW_BUF_INIT(0), word = SW_BUF_INIT(0), repl = SW_BUF_INIT(0);
	int32_t ch, p;
	int r = 0;

	lex_next(l);
	if (lex_peek(l) != '{') {
		process_name(l, &name);
		sw_buf_addc(out, '$', NULL);
		if (name.len)
			sw_buf_add(out, name.data, name.len, NULL);
		goto out;
	}
	lex_next(l);
	p = lex_peek(l);
	if (p == LEX_EOF) {
		r = sw_error_set(err, SW_EINVALID, "syntax error: missing '}'");
		goto out;
	}
	if (p == '{' || p == '}' || p == ':') {
		r = sw_error_set(err, SW_EINVALID, "syntax error: bad substitution");
		goto out;
	}
	process_name(l, &name);
	sw_buf_addstr(&name, "", NULL);
	ch = lex_next(l);
	if (ch == '}') {
		sw_buf_printf(out, NULL, "${%s}", name.data);
		goto out;
	}
	if (ch == ':' || ch == '+' || ch == '-' || ch == '?' || ch == '#' || ch == '%') {
		sw_buf chs = SW_BUF_INIT(0);
		add_rune(&chs, ch);
		if (ch == ':') {
			ch = lex_next(l);
			add_rune(&chs, ch);
		}
		r = process_stop_on(l, '}', ch == '#' || ch == '%', &word, NULL, err);
		if (r < 0) {
			sw_buf_release(&chs);
			if (lex_peek(l) == LEX_EOF) {
				sw_error_clear(err);
				r = sw_error_set(err, SW_EINVALID, "syntax error: missing '}'");
			}
			goto out;
		}
		sw_buf_printf(out, NULL, "${%s%s%s}", name.data, chs.data ? chs.data : "",
		              word.data ? word.data : "");
		sw_buf_release(&chs);
		goto out;
	}
	if (ch == '/') {
		if (lex_peek(l) == '/')
			lex_next(l);
		r = process_stop_on(l, '/', true, &word, NULL, err);
		if (r < 0) {
			if (lex_peek(l) == LEX_EOF) {
				sw_error_clear(err);
				r = sw_error_set(err, SW_EINVALID, "syntax error: missing '/' in ${}");
			}
			goto out;
		}
		r = process_stop_on(l, '}', true, &repl, NULL, err);
		if (r < 0) {
			if (lex_peek(l) == LEX_EOF) {
				sw_error_clear(err);
				r = sw_error_set(err, SW_EINVALID, "syntax error: missing '}'");
			}
			goto out;
		}
		sw_buf_printf(out, NULL, "${%s/%s/%s}", name.data, word.data ? word.data : "",
		              repl.data ? repl.data : "");
		goto out;
	}
	{
		sw_buf chs = SW_BUF_INIT(0);
		if (ch != LEX_EOF)
			add_rune(&chs, ch);
		else
			add_rune(&chs, 0xFFFD);
		r = sw_error_set(err, SW_EINVALID, "unsupported modifier (%s) in substitution",
		                 chs.data);
		sw_buf_release(&chs);
	}
out:
	sw_buf_release(&name);
	sw_buf_release(&word);
	sw_buf_release(&repl);
	return r;
}

static int process_stop_on(lexer *l, int32_t stop, bool raw_escapes, sw_buf *result,
                           words *ws, sw_error **err)
{
	bool saved = l->raw_escapes;
	words local = { SW_BUF_INIT(0), { 0 }, false };
	int r = 0;

	if (!ws)
		ws = &local;
	l->raw_escapes = raw_escapes;
	while (lex_peek(l) != LEX_EOF) {
		int32_t ch = lex_peek(l);
		if (stop != LEX_EOF && ch == stop) {
			lex_next(l);
			goto out;
		}
		if (ch == '$' || ch == '\'' || ch == '"') {
			sw_buf tmp = SW_BUF_INIT(0);
			if (ch == '$')
				r = process_dollar(l, &tmp, err);
			else if (ch == '\'')
				r = process_single_quote(l, &tmp, err);
			else
				r = process_double_quote(l, &tmp, err);
			if (r < 0) {
				sw_buf_release(&tmp);
				goto out;
			}
			if (tmp.len)
				sw_buf_add(result, tmp.data, tmp.len, NULL);
			if (ch == '$')
				words_add_string(ws, tmp.data ? tmp.data : "", tmp.len);
			else
				words_add_raw_string(ws, tmp.data ? tmp.data : "", tmp.len);
			sw_buf_release(&tmp);
			continue;
		}
		ch = lex_next(l);
		if (ch == '\\') {
			if (l->raw_escapes) {
				words_add_raw_char(ws, ch);
				add_rune(result, ch);
			}
			ch = lex_next(l);
			if (ch == LEX_EOF)
				break;
			words_add_raw_char(ws, ch);
		} else {
			words_add_char(ws, ch);
		}
		add_rune(result, ch);
	}
	if (stop != LEX_EOF) {
		sw_buf s = SW_BUF_INIT(0);
		add_rune(&s, stop);
		r = sw_error_set(err, SW_EINVALID,
		                 "unexpected end of statement while looking for matching %s", s.data);
		sw_buf_release(&s);
	}
out:
	if (r == 0 && ws->word.len > 0)
		words_flush(ws);
	words_release(&local);
	l->raw_escapes = saved;
	return r;
}

/* ProcessWords for an empty environment with SkipUnsetEnv. */
static int lex_words(sw_df_strv *out, const char *s, size_t len, bool raw_quotes,
                     bool raw_escapes, sw_error **err)
{
	lexer l = { s, len, 0, false, raw_quotes, raw_escapes };
	words ws = { SW_BUF_INIT(0), { 0 }, false };
	sw_buf result = SW_BUF_INIT(0);
	int r = process_stop_on(&l, LEX_EOF, raw_escapes, &result, &ws, err);

	sw_buf_release(&result);
	sw_buf_release(&ws.word);
	if (r < 0) {
		sw_df_strv_release(&ws.list);
		return r;
	}
	*out = ws.list;
	return 0;
}

static size_t count_quotes(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\'' || *s == '"';
	return n;
}

/* ParseHeredoc on one word: 1 and *h set when it opens a heredoc. */
static int heredoc_from_word(sw_df_heredoc *h, const char *word, sw_error **err)
{
	const char *p = word, *rest;
	sw_df_strv plain = { 0 }, raw = { 0 };
	unsigned long fd = 0;
	bool chomp = false, saturated = false;
	int r = 0;

	/* strconv.ParseUint: "" gives 0, overflow gives the maximum */
	while (*p >= '0' && *p <= '9') {
		unsigned long d = (unsigned long)(*p - '0');
		if (fd > (ULONG_MAX - d) / 10)
			saturated = true;
		else
			fd = fd * 10 + d;
		p++;
	}
	if (saturated)
		fd = ULONG_MAX;
	if (p[0] != '<' || p[1] != '<')
		return 0;
	p += 2;
	if (*p == '-') {
		chomp = true;
		p++;
	}
	rest = p;
	if (strchr(rest, '<') || !*rest)
		return 0;

	if (lex_words(&plain, rest, strlen(rest), false, false, err) < 0 ||
	    (plain.n == 1 && lex_words(&raw, rest, strlen(rest), true, false, err) < 0)) {
		sw_buf q = SW_BUF_INIT(0);
		sw_df_quote(&q, rest, strlen(rest), NULL);
		r = sw_error_wrap(err, "failed to process %s", q.data);
		sw_buf_release(&q);
		goto out;
	}
	if (plain.n != 1)
		goto out;
	if (raw.n != plain.n) {
		r = sw_error_set(err, SW_EINVALID,
		                 "internal lexing of heredoc produced inconsistent results: %s", rest);
		goto out;
	}
	h->name = sw_xstrdup(plain.v[0]);
	h->expand = count_quotes(plain.v[0]) == count_quotes(raw.v[0]);
	h->chomp = chomp;
	h->fd = fd;
	r = 1;
out:
	sw_df_strv_release(&plain);
	sw_df_strv_release(&raw);
	return r;
}

int sw_df_heredocs_from_line(sw_df_heredoc **out, size_t *n, const char *line, size_t len,
                             sw_error **err)
{
	sw_df_strv ws = { 0 };
	int r = 0;

	*out = NULL;
	*n = 0;
	if (lex_words(&ws, line, len, true, true, NULL) < 0)
		return 0;
	for (size_t i = 0; i < ws.n; i++) {
		sw_df_heredoc h = { 0 };
		r = heredoc_from_word(&h, ws.v[i], err);
		if (r < 0)
			break;
		if (r == 0)
			continue;
		if (*n >= SW_DF_MAX_HEREDOCS) {
			free(h.name);
			r = sw_error_set(err, SW_ETOOBIG, "more than %u heredocs in one instruction",
			                 SW_DF_MAX_HEREDOCS);
			break;
		}
		*out = sw_xreallocarray(*out, *n + 1, sizeof(**out));
		(*out)[(*n)++] = h;
		r = 0;
	}
	sw_df_strv_release(&ws);
	return r < 0 ? r : 0;
}

void sw_df_heredocs_free(sw_df_heredoc *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].content);
	}
	free(h);
}
