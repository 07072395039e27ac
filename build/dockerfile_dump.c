/*
 * dockerfile_dump.c - the syntax tree printed as Docker's parser tests
 * print it (Node.Dump: `(run ["--mount=..."] "make" "all")`, strings quoted
 * as Go's strconv.Quote does), and as JSON with lines and heredocs.
 */
#include <jansson.h>
#include <string.h>

#include "dockerfile_int.h"
#include "slipway/cleanup.h"
#include "slipway/mem.h"

int sw_df_quote(sw_buf *b, const char *s, size_t len, sw_error **err)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, w;
	char tmp[16];

	if (sw_buf_addc(b, '"', err) < 0)
		return SW_ETOOBIG;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		uint32_t r = sw_df_decode_rune(s + i, len - i, &w);
		const char *esc = NULL;

		if (r == SW_DF_RUNE_ERROR && w == 1) {
			tmp[0] = '\\'; tmp[1] = 'x';
			tmp[2] = hex[c >> 4]; tmp[3] = hex[c & 15];
			if (sw_buf_add(b, tmp, 4, err) < 0)
				return SW_ETOOBIG;
			i++;
			continue;
		}
		switch (r) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\a': esc = "\\a"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		case '\v': esc = "\\v"; break;
		}
		if (esc) {
			if (sw_buf_addstr(b, esc, err) < 0)
				return SW_ETOOBIG;
		} else if (sw_df_is_print(r)) {
			if (sw_buf_add(b, s + i, w, err) < 0)
				return SW_ETOOBIG;
		} else if (r < 0x20 || r == 0x7F) {
			tmp[0] = '\\'; tmp[1] = 'x';
			tmp[2] = hex[r >> 4]; tmp[3] = hex[r & 15];
			if (sw_buf_add(b, tmp, 4, err) < 0)
				return SW_ETOOBIG;
		} else if (r < 0x10000) {
			snprintf(tmp, sizeof(tmp), "\\u%04x", (unsigned)r);
			if (sw_buf_addstr(b, tmp, err) < 0)
				return SW_ETOOBIG;
		} else {
			snprintf(tmp, sizeof(tmp), "\\U%08x", (unsigned)r);
			if (sw_buf_addstr(b, tmp, err) < 0)
				return SW_ETOOBIG;
		}
		i += w;
	}
	return sw_buf_addc(b, '"', err);
}

/* Node.Dump of one instruction, without the surrounding parentheses. */
static void dump_instr(sw_buf *b, const sw_df_instr *in)
{
	size_t start = b->len;

	sw_buf_addstr(b, in->keyword, NULL);
	if (in->nflags) {
		sw_buf_addstr(b, " [", NULL);
		for (size_t i = 0; i < in->nflags; i++) {
			if (i)
				sw_buf_addc(b, ' ', NULL);
			sw_df_quote(b, in->flags[i], strlen(in->flags[i]), NULL);
		}
		sw_buf_addc(b, ']', NULL);
	}
	if (in->sub) {
		sw_buf_addstr(b, " (", NULL);
		dump_instr(b, in->sub);
		sw_buf_addc(b, ')', NULL);
	}
	for (size_t i = 0; i < in->nargs; i++) {
		sw_buf_addc(b, ' ', NULL);
		sw_df_quote(b, in->args[i], strlen(in->args[i]), NULL);
	}
	/* Dump ends with strings.TrimSpace */
	{
		size_t lead = sw_df_space_prefix(b->data + start, b->len - start);
		size_t keep;
		if (lead) {
			memmove(b->data + start, b->data + start + lead, b->len - start - lead);
			sw_buf_truncate(b, b->len - lead);
		}
		keep = sw_df_trim_right(b->data + start, b->len - start);
		sw_buf_truncate(b, start + keep);
	}
}

char *sw_df_dump_instr(const sw_df_instr *in)
{
	sw_buf b = SW_BUF_INIT(0);

	sw_buf_addc(&b, '(', NULL);
	dump_instr(&b, in);
	sw_buf_addc(&b, ')', NULL);
	return sw_buf_detach(&b);
}

char *sw_df_dump(const sw_df_file *f)
{
	sw_buf b = SW_BUF_INIT(0);

	for (size_t i = 0; i < f->ninstrs; i++) {
		sw_buf_addc(&b, '(', NULL);
		dump_instr(&b, &f->instrs[i]);
		sw_buf_addstr(&b, ")\n", NULL);
	}
	return sw_buf_detach(&b);
}

/* jansson wants UTF-8; bytes that are not become U+FFFD here. */
static json_t *jstr(const char *s)
{
	json_t *j = json_string(s);
	sw_buf b = SW_BUF_INIT(0);
	size_t len, i = 0, w;

	if (j)
		return j;
	len = strlen(s);
	while (i < len) {
		uint32_t r = sw_df_decode_rune(s + i, len - i, &w);
		sw_df_buf_add_rune(&b, r, NULL);
		i += w;
	}
	j = json_string(b.data ? b.data : "");
	sw_buf_release(&b);
	return j;
}

static json_t *jstrv(char **v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, jstr(v[i]));
	return a;
}

static json_t *json_instr(const sw_df_instr *in)
{
	json_t *o = json_object(), *h = json_array();

	json_object_set_new(o, "keyword", jstr(in->keyword));
	json_object_set_new(o, "original", jstr(in->original));
	json_object_set_new(o, "flags", jstrv(in->flags, in->nflags));
	json_object_set_new(o, "args", jstrv(in->args, in->nargs));
	json_object_set_new(o, "json", json_boolean(in->json));
	json_object_set_new(o, "start_line", json_integer(in->start_line));
	json_object_set_new(o, "end_line", json_integer(in->end_line));
	for (size_t i = 0; i < in->nheredocs; i++) {
		const sw_df_heredoc *d = &in->heredocs[i];
		json_array_append_new(h, json_pack("{s:o, s:o, s:b, s:b, s:I}",
		                                   "name", jstr(d->name),
		                                   "content", jstr(d->content ? d->content : ""),
		                                   "expand", d->expand, "chomp", d->chomp,
		                                   "fd", (json_int_t)d->fd));
	}
	json_object_set_new(o, "heredocs", h);
	json_object_set_new(o, "comments", jstrv(in->comments, in->ncomments));
	json_object_set_new(o, "sub", in->sub ? json_instr(in->sub) : json_null());
	return o;
}

char *sw_df_dump_json(const sw_df_file *f)
{
	json_t *root = json_object(), *a = json_array();
	char esc[2] = { f->escape, '\0' };
	char *text, *out;

	json_object_set_new(root, "escape", json_string(esc));
	json_object_set_new(root, "syntax", f->syntax ? jstr(f->syntax) : json_null());
	json_object_set_new(root, "check", f->check ? jstr(f->check) : json_null());
	for (size_t i = 0; i < f->ninstrs; i++)
		json_array_append_new(a, json_instr(&f->instrs[i]));
	json_object_set_new(root, "instructions", a);
	json_object_set_new(root, "warnings", jstrv(f->warnings, f->nwarnings));
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	out = sw_xasprintf("%s\n", text ? text : "{}");
	free(text);
	return out;
}
