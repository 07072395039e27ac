/*
 * buf.c - sw_buf, a growable NUL-terminated buffer with a limit (buf.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slipway/buf.h"
#include "slipway/mem.h"

static int grow(sw_buf *b, size_t extra, sw_error **err)
{
	size_t need, cap;

	if (extra > SIZE_MAX - b->len - 1)
		return sw_error_set(err, SW_ETOOBIG, "buffer size overflow");
	need = b->len + extra + 1;
	if (b->max && need - 1 > b->max)
		return sw_error_set(err, SW_ETOOBIG, "input exceeds the limit of %zu bytes", b->max);
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = sw_xrealloc(b->data, cap);
	b->cap = cap;
	return 0;
}

int sw_buf_add(sw_buf *b, const void *data, size_t len, sw_error **err)
{
	if (grow(b, len, err) < 0)
		return SW_ETOOBIG;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int sw_buf_addc(sw_buf *b, char c, sw_error **err)
{
	return sw_buf_add(b, &c, 1, err);
}

int sw_buf_addstr(sw_buf *b, const char *s, sw_error **err)
{
	return sw_buf_add(b, s, strlen(s), err);
}

int sw_buf_printf(sw_buf *b, sw_error **err, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n, r;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return sw_error_set(err, SW_EFAIL, "out of memory formatting text");
	r = sw_buf_add(b, s, (size_t)n, err);
	free(s);
	return r;
}

void sw_buf_truncate(sw_buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

char *sw_buf_detach(sw_buf *b)
{
	char *s = b->data ? b->data : sw_xstrdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

void sw_buf_release(sw_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
