/*
 * printers_tab.c - Go's text/tabwriter algorithm (no flags, padding with
 * spaces), so `slipway describe` lines up exactly as kubectl describe does.
 * Column blocks and the recursion follow tabwriter's format(): a column's
 * width is decided over the run of consecutive lines that have a cell in
 * it, then the columns to its right are decided within that run.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slipway/buf.h"
#include "slipway/mem.h"
#include "slipway/printers.h"

struct cell {
	const char *text;
	size_t len;   /* bytes */
	size_t width; /* code points */
};

struct line {
	struct cell *cells;
	size_t n;
};

struct sw_tabwriter {
	sw_buf text;
	size_t padding;
	/* while flushing */
	struct line *lines;
	size_t nlines;
	size_t *widths;
	size_t nwidths;
	FILE *out;
};

sw_tabwriter *sw_tabwriter_new(size_t padding)
{
	sw_tabwriter *w = sw_xcalloc(1, sizeof(*w));
	w->padding = padding;
	return w;
}

void sw_tabwriter_printf(sw_tabwriter *w, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		sw_out_of_memory(0);
	va_end(ap);
	sw_buf_addstr(&w->text, s, NULL);
	free(s);
}

static size_t utf8_width(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

static void write_lines(sw_tabwriter *w, size_t line0, size_t line1)
{
	for (size_t i = line0; i < line1; i++) {
		const struct line *l = &w->lines[i];
		for (size_t j = 0; j < l->n; j++) {
			const struct cell *c = &l->cells[j];
			fwrite(c->text, 1, c->len, w->out);
			if (j < w->nwidths)
				for (size_t k = c->width; k < w->widths[j]; k++)
					fputc(' ', w->out);
		}
		if (i + 1 < w->nlines || l->n)
			fputc('\n', w->out);
	}
}

static void format(sw_tabwriter *w, size_t line0, size_t line1)
{
	size_t column = w->nwidths;

	for (size_t this = line0; this < line1; this++) {
		if (column + 1 >= w->lines[this].n)
			continue;
		/* a cell in this column: the lines before it are done */
		write_lines(w, line0, this);
		line0 = this;
		size_t width = 0;
		for (; this < line1; this++) {
			const struct line *l = &w->lines[this];
			if (column + 1 >= l->n)
				break;
			if (l->cells[column].width + w->padding > width)
				width = l->cells[column].width + w->padding;
		}
		w->widths = sw_xreallocarray(w->widths, w->nwidths + 1, sizeof(size_t));
		w->widths[w->nwidths++] = width;
		format(w, line0, this);
		w->nwidths--;
		line0 = this;
		this--; /* the loop's ++ brings it back to the line that ended the block */
	}
	write_lines(w, line0, line1);
}

void sw_tabwriter_flush(sw_tabwriter *w, FILE *f)
{
	const char *p = w->text.data ? w->text.data : "";
	size_t len = w->text.len;

	if (!len)
		return;
	/* a trailing newline ends the last line; it does not start another */
	if (p[len - 1] == '\n')
		len--;
	for (size_t start = 0;;) {
		const char *nl = memchr(p + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - p) : len;
		struct line l = { 0 };
		for (size_t cs = start;;) {
			const char *tab = memchr(p + cs, '\t', end - cs);
			size_t ce = tab ? (size_t)(tab - p) : end;
			l.cells = sw_xreallocarray(l.cells, l.n + 1, sizeof(*l.cells));
			l.cells[l.n++] = (struct cell){ p + cs, ce - cs, utf8_width(p + cs, ce - cs) };
			if (!tab)
				break;
			cs = ce + 1;
		}
		w->lines = sw_xreallocarray(w->lines, w->nlines + 1, sizeof(*w->lines));
		w->lines[w->nlines++] = l;
		if (!nl)
			break;
		start = end + 1;
	}
	w->out = f;
	format(w, 0, w->nlines);
	for (size_t i = 0; i < w->nlines; i++)
		free(w->lines[i].cells);
	free(w->lines);
	free(w->widths);
	w->lines = NULL;
	w->nlines = 0;
	w->widths = NULL;
	w->nwidths = 0;
	sw_buf_truncate(&w->text, 0);
}

void sw_tabwriter_free(sw_tabwriter *w)
{
	if (!w)
		return;
	sw_buf_release(&w->text);
	free(w);
}
