/*
 * dockerfile_parse.c - Dockerfile text -> syntax tree, line by line as
 * Docker's parser reads it: byte order mark, parser directives at the top,
 * comments, continuation lines (escape character, comment and empty lines
 * inside them), heredoc bodies, and Docker's limit on a physical line.
 */
#include <string.h>

#include "dockerfile_int.h"
#include "slipway/cleanup.h"
#include "slipway/mem.h"
#include "slipway/path.h"

/* Docker reads lines with bufio.Scanner's default 64 KiB token limit. */
#define DOCKER_MAX_TOKEN 65536

typedef struct scanner {
	const char *data;
	size_t len;
	size_t pos;
	bool too_long;  /* stopped at a line over Docker's limit */
} scanner;

/* The next physical line with its line ending, as Docker's scanLines. */
static bool scan_line(scanner *s, const char **line, size_t *len)
{
	const char *nl;
	size_t n;

	if (s->too_long || s->pos >= s->len)
		return false;
	nl = memchr(s->data + s->pos, '\n', s->len - s->pos);
	n = nl ? (size_t)(nl - (s->data + s->pos)) + 1 : s->len - s->pos;
	if (n > DOCKER_MAX_TOKEN || (!nl && n >= DOCKER_MAX_TOKEN)) {
		s->too_long = true;
		return false;
	}
	*line = s->data + s->pos;
	*len = n;
	s->pos += n;
	return true;
}

typedef struct parser {
	const char *path;
	sw_df_file *f;
	sw_df_ctx ctx;
	bool directives_done;
	bool seen_escape, seen_syntax, seen_check;
	sw_df_strv comments;
	size_t cap_instrs;
} parser;

/* "PATH:LINE:COL: message" from a message (or the error already in *err). */
static int located(sw_error **err, int code, const parser *p, int line, const char *msg)
{
	cleanup_free char *inner = NULL;

	if (!msg) {
		inner = sw_error_string(*err);
		code = sw_error_code(*err);
		sw_error_clear(err);
		msg = inner;
	}
	return sw_error_set(err, code, "%s:%d:%d: %s", p->path, line > 0 ? line : 1, 1, msg);
}

static size_t trim_newline(const char *s, size_t len)
{
	while (len > 0 && (s[len - 1] == '\r' || s[len - 1] == '\n'))
		len--;
	return len;
}

static bool is_comment(const char *s, size_t len)
{
	size_t sp = sw_df_space_prefix(s, len);
	return sp < len && s[sp] == '#';
}

/* Go's \s in the directive pattern: [\t\n\f\r ]. */
static bool re_space(char c)
{
	return c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' ';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * `# key = value` as Docker's pattern ^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$
 * sees it. Returns false when the line does not have that shape.
 */
static bool match_directive(const char *s, size_t len, char **key, char **value)
{
	size_t i = 1, k0, k1, v0, v1;

	if (len == 0 || s[0] != '#')
		return false;
	while (i < len && re_space(s[i]))
		i++;
	if (i >= len || !is_alpha(s[i]))
		return false;
	k0 = i;
	while (i < len && (is_alpha(s[i]) || (s[i] >= '0' && s[i] <= '9')))
		i++;
	k1 = i;
	while (i < len && re_space(s[i]))
		i++;
	if (i >= len || s[i] != '=')
		return false;
	v0 = ++i;
	while (i < len && re_space(s[i]))
		i++;
	if (i == len) {
		if (i == v0)
			return false;
		v0 = i - 1;  /* the pattern gives the value its last blank */
		v1 = i;
	} else {
		v0 = i;
		v1 = len;
		while (v1 > v0 + 1 && re_space(s[v1 - 1]))
			v1--;
	}
	*key = sw_xstrndup(s + k0, k1 - k0);
	for (char *c = *key; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c + 32);
	*value = sw_xstrndup(s + v0, v1 - v0);
	return true;
}

/* Returns 1 when the line was a parser directive, 0 when not, <0 on error. */
static int parser_directive(parser *p, const char *s, size_t len, int lineno, sw_error **err)
{
	cleanup_free char *key = NULL;
	cleanup_free char *value = NULL;
	bool *seen;

	if (p->directives_done)
		return 0;
	if (!match_directive(s, len, &key, &value)) {
		p->directives_done = true;
		return 0;
	}
	if (!strcmp(key, "escape"))
		seen = &p->seen_escape;
	else if (!strcmp(key, "syntax"))
		seen = &p->seen_syntax;
	else if (!strcmp(key, "check"))
		seen = &p->seen_check;
	else {
		p->directives_done = true;
		return 0;
	}
	if (*seen) {
		cleanup_free char *msg = sw_xasprintf("only one %s parser directive can be used", key);
		return located(err, SW_EINVALID, p, lineno, msg);
	}
	*seen = true;
	if (!strcmp(key, "escape")) {
		if (strcmp(value, "`") && strcmp(value, "\\")) {
			cleanup_free char *msg = sw_xasprintf(
				"invalid escape token '%s' does not match ` or \\", value);
			return located(err, SW_EINVALID, p, lineno, msg);
		}
		p->ctx.escape = value[0];
		p->f->escape = value[0];
	} else if (!strcmp(key, "syntax")) {
		p->f->syntax = steal_pointer(&value);
	} else {
		p->f->check = steal_pointer(&value);
	}
	return 1;
}

/*
 * Docker's continuation pattern: the escape character as the last thing
 * on the line but for blanks and tabs, not itself escaped (a lone escape on
 * a line counts). Returns the length to keep, or len when the line ends the
 * instruction (*more false).
 */
static size_t trim_continuation(const parser *p, const char *s, size_t len, bool *more)
{
	size_t end = len;
	char esc = p->ctx.escape;

	while (end > 0 && (s[end - 1] == ' ' || s[end - 1] == '\t'))
		end--;
	*more = false;
	if (end == 0 || s[end - 1] != esc)
		return len;
	if (end >= 2 && s[end - 2] == esc)
		return len;
	*more = true;
	return end - 1;
}

static void add_warning(parser *p, int line, const char *text)
{
	sw_df_file *f = p->f;

	f->warnings = sw_xreallocarray(f->warnings, f->nwarnings + 1, sizeof(*f->warnings));
	f->warnings[f->nwarnings++] = sw_xasprintf("%s:%d: Empty continuation line found in: %s",
	                                           p->path, line, text);
}

static sw_df_instr *new_instr(parser *p, sw_error **err)
{
	sw_df_file *f = p->f;

	if (f->ninstrs >= SW_DF_MAX_INSTRUCTIONS) {
		sw_error_set(err, SW_ETOOBIG, "%s: more than %u instructions", p->path,
		             SW_DF_MAX_INSTRUCTIONS);
		return NULL;
	}
	if (f->ninstrs == p->cap_instrs) {
		p->cap_instrs = p->cap_instrs ? p->cap_instrs * 2 : 16;
		f->instrs = sw_xreallocarray(f->instrs, p->cap_instrs, sizeof(*f->instrs));
	}
	memset(&f->instrs[f->ninstrs], 0, sizeof(f->instrs[0]));
	return &f->instrs[f->ninstrs++];
}

/* Reads the bodies of the heredocs opened on the instruction's line. */
static int read_heredocs(parser *p, scanner *sc, sw_df_instr *in, const char *line,
                         size_t len, int start, int *cur, sw_error **err)
{
	sw_df_heredoc *docs = NULL;
	size_t n = 0;

	if (sw_df_heredocs_from_line(&docs, &n, line, len, err) < 0) {
		sw_df_heredocs_free(docs, n);
		return located(err, 0, p, start, NULL);
	}
	in->heredocs = docs;
	in->nheredocs = n;
	for (size_t i = 0; i < n; i++) {
		sw_buf body = SW_BUF_INIT(SW_DF_MAX_FILE);
		size_t namelen = strlen(docs[i].name);
		const char *l;
		size_t ll;
		bool done = false;

		while (scan_line(sc, &l, &ll)) {
			size_t tl = trim_newline(l, ll), lead = 0;
			(*cur)++;
			if (docs[i].chomp)
				while (lead < tl && l[lead] == '\t')
					lead++;
			if (tl - lead == namelen && !memcmp(l + lead, docs[i].name, namelen)) {
				done = true;
				break;
			}
			if (sw_buf_add(&body, l, ll, err) < 0) {
				sw_buf_release(&body);
				return located(err, 0, p, start, NULL);
			}
		}
		if (body.len && memchr(body.data, '\0', body.len)) {
			sw_buf_release(&body);
			return located(err, SW_EINVALID, p, start, "NUL byte in heredoc");
		}
		docs[i].content = sw_buf_detach(&body);
		if (!done)
			return located(err, SW_EINVALID, p, start, "unterminated heredoc");
	}
	return 0;
}

static int parse_lines(parser *p, scanner *sc, int *cur, sw_error **err)
{
	sw_buf buf = SW_BUF_INIT(SW_DF_MAX_LINE);
	const char *raw;
	size_t rawlen;
	int r = 0;

	while (scan_line(sc, &raw, &rawlen)) {
		const char *tok = raw;
		size_t toklen, keep, sp;
		bool more, empty_cont = false;
		int start;
		sw_df_instr *in;

		if (*cur == 0 && rawlen >= 3 && !memcmp(raw, "\xEF\xBB\xBF", 3)) {
			raw += 3;
			rawlen -= 3;
			tok = raw;
		}
		if (is_comment(raw, rawlen)) {
			char *c = sw_df_trim_space(raw + 1, rawlen - 1);
			if (!*c) {
				free(c);
				sw_df_strv_release(&p->comments);
			} else {
				sw_df_strv_push(&p->comments, c);
			}
		}
		toklen = trim_newline(tok, rawlen);
		sp = sw_df_space_prefix(tok, toklen);
		tok += sp;
		toklen -= sp;
		if ((r = parser_directive(p, tok, toklen, *cur + 1, err)) < 0)
			goto out;
		if (r == 1)
			free(p->comments.v[--p->comments.n]);
		r = 0;
		if (is_comment(tok, toklen))
			toklen = 0;
		(*cur)++;
		start = *cur;
		keep = trim_continuation(p, tok, toklen, &more);
		if (!more && keep == 0)
			continue;
		sw_buf_truncate(&buf, 0);
		if ((r = sw_buf_add(&buf, tok, keep, err)) < 0)
			goto too_long;
		while (more && scan_line(sc, &raw, &rawlen)) {
			size_t l = trim_newline(raw, rawlen);
			(*cur)++;
			if (is_comment(raw, rawlen))
				continue;
			if (sw_df_space_prefix(raw, l) == l) {
				empty_cont = true;
				continue;
			}
			keep = trim_continuation(p, raw, l, &more);
			if ((r = sw_buf_add(&buf, raw, keep, err)) < 0)
				goto too_long;
		}
		if (memchr(buf.data, '\0', buf.len)) {
			r = located(err, SW_EINVALID, p, start, "NUL byte in instruction");
			goto out;
		}
		if (empty_cont)
			add_warning(p, *cur, buf.data);
		if (!(in = new_instr(p, err))) {
			r = SW_ETOOBIG;
			goto out;
		}
		in->start_line = start;
		in->end_line = *cur;
		if ((r = sw_df_instr_from_line(in, &p->ctx, buf.data, buf.len, err)) < 0) {
			r = located(err, 0, p, start, NULL);
			goto out;
		}
		if (sw_df_can_contain_heredoc(in) && memmem(buf.data, buf.len, "<<", 2)) {
			if ((r = read_heredocs(p, sc, in, buf.data, buf.len, start, cur, err)) < 0)
				goto out;
			in->end_line = *cur;
		}
		for (sw_df_instr *sub = in->sub; sub; sub = sub->sub) {
			sub->start_line = in->start_line;
			sub->end_line = in->end_line;
		}
		in->comments = p->comments.v;
		in->ncomments = p->comments.n;
		memset(&p->comments, 0, sizeof(p->comments));
	}
	goto out;
too_long:
	sw_error_clear(err);
	r = located(err, SW_ETOOBIG, p, *cur, "instruction longer than 1048576 bytes");
out:
	sw_buf_release(&buf);
	return r;
}

static int check_known(const parser *p, sw_error **err)
{
	for (size_t i = 0; i < p->f->ninstrs; i++) {
		const sw_df_instr *in = &p->f->instrs[i];
		if (!sw_df_known_keyword(in->keyword)) {
			cleanup_free char *t = sw_df_trim_space(in->original, strlen(in->original));
			size_t n = strcspn(t, "\t\v\f\r ");
			cleanup_free char *msg = sw_xasprintf("unknown instruction: %.*s", (int)n, t);
			return located(err, SW_EINVALID, p, in->start_line, msg);
		}
	}
	return 0;
}

int sw_df_parse(sw_df_file **out, const char *path, const char *data, size_t len, sw_error **err)
{
	return sw_df_parse_ex(out, path, data, len, 0, err);
}

int sw_df_parse_ex(sw_df_file **out, const char *path, const char *data, size_t len,
                   unsigned flags, sw_error **err)
{
	parser p = { 0 };
	scanner sc = { data, len, 0, false };
	int cur = 0, r;

	*out = NULL;
	if (len > SW_DF_MAX_FILE)
		return sw_error_set(err, SW_ETOOBIG, "%s: Dockerfile larger than %u bytes", path,
		                    SW_DF_MAX_FILE);
	p.path = path;
	p.f = sw_xcalloc(1, sizeof(*p.f));
	p.f->path = sw_xstrdup(path);
	p.f->escape = '\\';
	p.ctx.escape = '\\';

	r = parse_lines(&p, &sc, &cur, err);
	if (r == 0 && p.f->ninstrs == 0)
		r = located(err, SW_EINVALID, &p, cur, "file with no instructions");
	if (r == 0 && sc.too_long)
		r = located(err, SW_EINVALID, &p, cur + 1,
		            "dockerfile line greater than max allowed size of 65535");
	if (r == 0 && !(flags & SW_DF_PARSE_ALLOW_UNKNOWN))
		r = check_known(&p, err);
	sw_df_strv_release(&p.comments);
	if (r < 0) {
		sw_df_file_free(p.f);
		return r;
	}
	*out = p.f;
	return 0;
}

int sw_df_parse_file(sw_df_file **out, const char *path, sw_error **err)
{
	cleanup_free char *data = NULL;
	size_t len = 0;

	*out = NULL;
	if (sw_read_file(&data, &len, path, SW_DF_MAX_FILE, err) < 0)
		return sw_error_code(*err);
	return sw_df_parse(out, path, data, len, err);
}

void sw_df_file_free(sw_df_file *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->ninstrs; i++)
		sw_df_instr_release(&f->instrs[i]);
	free(f->instrs);
	for (size_t i = 0; i < f->nwarnings; i++)
		free(f->warnings[i]);
	free(f->warnings);
	free(f->path);
	free(f->syntax);
	free(f->check);
	free(f);
}
