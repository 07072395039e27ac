/*
 * dockerfile_split.c - one logical line -> one instruction: the keyword,
 * the leading --flags, and the keyword's own argument rule (exec/JSON form
 * with shell fallback, whitespace lists, name=value pairs, ONBUILD, ...),
 * exactly as Docker's parser splits them.
 */
#include <string.h>

#include "dockerfile_int.h"
#include "slipway/cleanup.h"
#include "slipway/mem.h"

/* Docker's reWhitespace: [\t\v\f\r ] (ASCII only, no newline). */
static bool is_ws(char c)
{
	return c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == ' ';
}

static void add_arg(sw_df_instr *in, char *s)
{
	in->args = sw_xreallocarray(in->args, in->nargs + 1, sizeof(*in->args));
	in->args[in->nargs++] = s;
}

static void add_flag(sw_df_instr *in, char *s)
{
	in->flags = sw_xreallocarray(in->flags, in->nflags + 1, sizeof(*in->flags));
	in->flags[in->nflags++] = s;
}

/* Appends byte b the way Go's `word += string(rune(b))` does: bytes past
 * ASCII become the UTF-8 form of U+0080..U+00FF. */
static int add_byte_as_rune(sw_buf *b, unsigned char c, sw_error **err)
{
	return sw_df_buf_add_rune(b, c, err);
}

/*
 * Leading --flags (extractBuilderFlags). Scans bytes, not runes. Returns
 * the offset where the arguments start (len when only flags).
 */
static int extract_flags(sw_df_instr *in, const sw_df_ctx *ctx, const char *line, size_t len,
                         size_t *rest, sw_error **err)
{
	enum { IN_SPACES, IN_WORD, IN_QUOTE } phase = IN_SPACES;
	sw_buf word = SW_BUF_INIT(SW_DF_MAX_LINE * 2);
	unsigned char quote = 0, ch = 0;
	bool blank_ok = false;
	int r = 0;

	*rest = len;
	for (size_t pos = 0; pos <= len; pos++) {
		if (pos != len)
			ch = (unsigned char)line[pos];
		if (phase == IN_SPACES) {
			if (pos == len)
				break;
			if (sw_df_is_space_byte(ch))
				continue;
			if (ch != '-' || pos + 1 == len || line[pos + 1] != '-') {
				*rest = pos;
				goto out;
			}
			phase = IN_WORD;
		}
		if (pos == len) {
			bool dashdash = word.len == 2 && !memcmp(word.data, "--", 2);
			if (!dashdash && (blank_ok || word.len > 0))
				add_flag(in, sw_buf_detach(&word));
			break;
		}
		if (phase == IN_WORD) {
			if (sw_df_is_space_byte(ch)) {
				phase = IN_SPACES;
				if (word.len == 2 && !memcmp(word.data, "--", 2)) {
					*rest = pos;
					goto out;
				}
				if (blank_ok || word.len > 0)
					add_flag(in, sw_buf_detach(&word));
				sw_buf_truncate(&word, 0);
				blank_ok = false;
				continue;
			}
			if (ch == '\'' || ch == '"') {
				quote = ch;
				blank_ok = true;
				phase = IN_QUOTE;
				continue;
			}
			if (ch == (unsigned char)ctx->escape) {
				if (pos + 1 == len)
					continue;
				ch = (unsigned char)line[++pos];
			}
			if ((r = add_byte_as_rune(&word, ch, err)) < 0)
				goto out;
			continue;
		}
		/* IN_QUOTE */
		if (ch == quote) {
			phase = IN_WORD;
			continue;
		}
		if (ch == (unsigned char)ctx->escape) {
			if (pos + 1 == len) {
				phase = IN_WORD;
				continue;
			}
			ch = (unsigned char)line[++pos];
		}
		if ((r = add_byte_as_rune(&word, ch, err)) < 0)
			goto out;
	}
out:
	sw_buf_release(&word);
	return r;
}

/* Docker's parseWords: words with quotes and escapes kept, split on
 * Unicode spaces outside quotes. */
static int parse_words(sw_df_strv *out, const sw_df_ctx *ctx, const char *rest, size_t len,
                       sw_error **err)
{
	enum { IN_SPACES, IN_WORD, IN_QUOTE } phase = IN_SPACES;
	sw_buf word = SW_BUF_INIT(SW_DF_MAX_LINE * 3);
	uint32_t quote = 0, ch = 0, esc = (unsigned char)ctx->escape;
	size_t w = 0;
	bool blank_ok = false;
	int r = 0;

	for (size_t pos = 0; pos <= len; pos += w) {
		if (pos != len)
			ch = sw_df_decode_rune(rest + pos, len - pos, &w);
		if (phase == IN_SPACES) {
			if (pos == len)
				break;
			if (sw_df_is_space(ch))
				continue;
			phase = IN_WORD;
		}
		if (pos == len) {
			if (blank_ok || word.len > 0)
				sw_df_strv_push(out, sw_buf_detach(&word));
			break;
		}
		if (phase == IN_WORD) {
			if (sw_df_is_space(ch)) {
				phase = IN_SPACES;
				if (blank_ok || word.len > 0)
					sw_df_strv_push(out, sw_buf_detach(&word));
				sw_buf_truncate(&word, 0);
				blank_ok = false;
				continue;
			}
			if (ch == '\'' || ch == '"') {
				quote = ch;
				blank_ok = true;
				phase = IN_QUOTE;
			}
			if (ch == esc) {
				if (pos + w == len)
					continue;
				if ((r = sw_df_buf_add_rune(&word, ch, err)) < 0)
					goto out;
				pos += w;
				ch = sw_df_decode_rune(rest + pos, len - pos, &w);
			}
			if ((r = sw_df_buf_add_rune(&word, ch, err)) < 0)
				goto out;
			continue;
		}
		/* IN_QUOTE */
		if (ch == quote)
			phase = IN_WORD;
		if (ch == esc && quote != '\'') {
			if (pos + w == len) {
				phase = IN_WORD;
				continue;
			}
			pos += w;
			if ((r = sw_df_buf_add_rune(&word, ch, err)) < 0)
				goto out;
			ch = sw_df_decode_rune(rest + pos, len - pos, &w);
		}
		if ((r = sw_df_buf_add_rune(&word, ch, err)) < 0)
			goto out;
	}
out:
	sw_buf_release(&word);
	return r;
}

/* reWhitespace.Split(rest, -1) on a trimmed, non-empty rest. */
static void split_whitespace(sw_df_instr *in, const char *rest, size_t len)
{
	size_t i = 0;

	while (i <= len) {
		size_t j = i;
		while (j < len && !is_ws(rest[j]))
			j++;
		add_arg(in, sw_xstrndup(rest + i, j - i));
		if (j == len)
			break;
		while (j < len && is_ws(rest[j]))
			j++;
		i = j;
	}
}

static void parse_strings_whitespace(sw_df_instr *in, const char *rest, size_t len)
{
	if (len > 0)
		split_whitespace(in, rest, len);
}

static void parse_string(sw_df_instr *in, const char *rest, size_t len)
{
	if (len > 0)
		add_arg(in, sw_xstrndup(rest, len));
}

/* parseJSON: 1 when rest is a JSON string array (args set), 0 when it is
 * not JSON at all, <0 for a JSON array holding non-strings. */
static int parse_json(sw_df_instr *in, const char *rest, size_t len, sw_error **err)
{
	sw_df_strv sv = { 0 };
	size_t skip = sw_df_space_prefix(rest, len);
	bool is_json = false;

	if (skip == len || rest[skip] != '[')
		return 0;
	if (sw_df_json_string_array(&sv, rest + skip, len - skip, &is_json, err) < 0) {
		sw_df_strv_release(&sv);
		return SW_EINVALID;
	}
	if (!is_json) {
		sw_df_strv_release(&sv);
		return 0;
	}
	for (size_t i = 0; i < sv.n; i++)
		add_arg(in, sv.v[i]);
	free(sv.v);
	in->json = true;
	return 1;
}

static int parse_maybe_json(sw_df_instr *in, const char *rest, size_t len, sw_error **err)
{
	int r;

	if (len == 0)
		return 0;
	r = parse_json(in, rest, len, err);
	if (r < 0)
		return r;
	if (r == 0)
		add_arg(in, sw_xstrndup(rest, len));
	return 0;
}

static int parse_maybe_json_to_list(sw_df_instr *in, const char *rest, size_t len, sw_error **err)
{
	int r = parse_json(in, rest, len, err);

	if (r < 0)
		return r;
	if (r == 0)
		parse_strings_whitespace(in, rest, len);
	return 0;
}

static int parse_name_val(sw_df_instr *in, const sw_df_ctx *ctx, const char *rest, size_t len,
                          const char *key, sw_error **err)
{
	sw_df_strv words = { 0 };
	int r;

	if ((r = parse_words(&words, ctx, rest, len, err)) < 0)
		goto out;
	if (words.n == 0)
		goto out;
	if (!strchr(words.v[0], '=')) {
		size_t i = 0, j;
		while (i < len && !is_ws(rest[i]))
			i++;
		if (i == len) {
			r = sw_error_set(err, SW_EINVALID, "%s must have two arguments", key);
			goto out;
		}
		j = i;
		while (j < len && is_ws(rest[j]))
			j++;
		add_arg(in, sw_xstrndup(rest, i));
		add_arg(in, sw_xstrndup(rest + j, len - j));
		add_arg(in, sw_xstrdup(""));
		goto out;
	}
	for (size_t k = 0; k < words.n; k++) {
		char *eq = strchr(words.v[k], '=');
		if (!eq) {
			sw_buf q = SW_BUF_INIT(0);
			sw_df_quote(&q, words.v[k], strlen(words.v[k]), NULL);
			r = sw_error_set(err, SW_EINVALID,
			                 "Syntax error - can't find = in %s. Must be of the form: name=value",
			                 q.data);
			sw_buf_release(&q);
			goto out;
		}
		add_arg(in, sw_xstrndup(words.v[k], (size_t)(eq - words.v[k])));
		add_arg(in, sw_xstrdup(eq + 1));
		add_arg(in, sw_xstrdup("="));
	}
out:
	sw_df_strv_release(&words);
	return r;
}

static int parse_name_or_name_val(sw_df_instr *in, const sw_df_ctx *ctx, const char *rest,
                                  size_t len, sw_error **err)
{
	sw_df_strv words = { 0 };
	int r = parse_words(&words, ctx, rest, len, err);

	if (r == 0) {
		for (size_t i = 0; i < words.n; i++)
			add_arg(in, words.v[i]);
		free(words.v);
		return 0;
	}
	sw_df_strv_release(&words);
	return r;
}

/* HEALTHCHECK: a type word (NONE, CMD, ...) then an exec or shell form. The
 * type ends at a space byte, as Docker scans bytes here. */
static int parse_health(sw_df_instr *in, const char *rest, size_t len, sw_error **err)
{
	size_t sep = 0, next;

	while (sep < len && !sw_df_is_space_byte((unsigned char)rest[sep]))
		sep++;
	next = sep;
	while (next < len && sw_df_is_space_byte((unsigned char)rest[next]))
		next++;
	if (sep == 0)
		return 0;
	add_arg(in, sw_xstrndup(rest, sep));
	return parse_maybe_json(in, rest + next, len - next, err);
}

static const char *const keywords[] = {
	"add", "arg", "cmd", "copy", "entrypoint", "env", "expose", "from",
	"healthcheck", "label", "maintainer", "onbuild", "run", "shell",
	"stopsignal", "user", "volume", "workdir", NULL,
};

const char *sw_df_known_keyword(const char *lower)
{
	for (size_t i = 0; keywords[i]; i++)
		if (!strcmp(keywords[i], lower))
			return keywords[i];
	return NULL;
}

int sw_df_instr_from_line(sw_df_instr *in, sw_df_ctx *ctx, const char *line, size_t len,
                          sw_error **err)
{
	cleanup_free char *trimmed = sw_df_trim_space(line, len);
	cleanup_free char *args = NULL;
	size_t tlen = strlen(trimmed), cmdlen = 0, argslen = 0;
	const char *kw;
	int r = 0;

	while (cmdlen < tlen && !is_ws(trimmed[cmdlen]))
		cmdlen++;
	in->original = sw_xstrndup(line, len);
	{
		cleanup_free char *cmd = sw_xstrndup(trimmed, cmdlen);
		in->keyword = sw_df_lower(cmd);
	}
	if (cmdlen < tlen) {
		size_t start = cmdlen, rest;
		while (start < tlen && is_ws(trimmed[start]))
			start++;
		if ((r = extract_flags(in, ctx, trimmed + start, tlen - start, &rest, err)) < 0)
			return r;
		args = sw_df_trim_space(trimmed + start + rest, tlen - start - rest);
	} else {
		args = sw_xstrdup("");
	}
	argslen = strlen(args);

	kw = sw_df_known_keyword(in->keyword);
	if (!kw) {
		add_arg(in, sw_xstrdup(""));
		return 0;
	}
	if (!strcmp(kw, "add") || !strcmp(kw, "copy") || !strcmp(kw, "volume"))
		return parse_maybe_json_to_list(in, args, argslen, err);
	if (!strcmp(kw, "cmd") || !strcmp(kw, "entrypoint") || !strcmp(kw, "run") ||
	    !strcmp(kw, "shell"))
		return parse_maybe_json(in, args, argslen, err);
	if (!strcmp(kw, "arg"))
		return parse_name_or_name_val(in, ctx, args, argslen, err);
	if (!strcmp(kw, "env"))
		return parse_name_val(in, ctx, args, argslen, "ENV", err);
	if (!strcmp(kw, "label"))
		return parse_name_val(in, ctx, args, argslen, "LABEL", err);
	if (!strcmp(kw, "expose") || !strcmp(kw, "from")) {
		parse_strings_whitespace(in, args, argslen);
		return 0;
	}
	if (!strcmp(kw, "healthcheck"))
		return parse_health(in, args, argslen, err);
	if (!strcmp(kw, "onbuild")) {
		if (argslen == 0)
			return 0;
		if (ctx->depth >= SW_DF_MAX_NESTING)
			return sw_error_set(err, SW_ETOOBIG, "ONBUILD nested more than %d levels deep",
			                    SW_DF_MAX_NESTING);
		in->sub = sw_xcalloc(1, sizeof(*in->sub));
		ctx->depth++;
		r = sw_df_instr_from_line(in->sub, ctx, args, argslen, err);
		ctx->depth--;
		return r;
	}
	/* maintainer, stopsignal, user, workdir */
	parse_string(in, args, argslen);
	return 0;
}

void sw_df_instr_release(sw_df_instr *in)
{
	if (!in)
		return;
	free(in->keyword);
	free(in->original);
	for (size_t i = 0; i < in->nflags; i++)
		free(in->flags[i]);
	free(in->flags);
	for (size_t i = 0; i < in->nargs; i++)
		free(in->args[i]);
	free(in->args);
	if (in->sub) {
		sw_df_instr_release(in->sub);
		free(in->sub);
	}
	sw_df_heredocs_free(in->heredocs, in->nheredocs);
	for (size_t i = 0; i < in->ncomments; i++)
		free(in->comments[i]);
	free(in->comments);
	memset(in, 0, sizeof(*in));
}

bool sw_df_can_contain_heredoc(const sw_df_instr *in)
{
	if (!strcmp(in->keyword, "onbuild") && in->sub)
		in = in->sub;
	if (strcmp(in->keyword, "run") && strcmp(in->keyword, "copy") && strcmp(in->keyword, "add"))
		return false;
	return !in->json;
}
