/*
 * buf.h - a growable byte buffer with a size limit (curl's dynbuf).
 *
 * Buffers fed by untrusted input (Dockerfiles, HTTP bodies, tar headers)
 * carry a maximum; growing past it fails with SW_ETOOBIG instead of eating
 * memory. data is always NUL-terminated when non-NULL.
 */
#ifndef SLIPWAY_BUF_H
#define SLIPWAY_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "slipway/error.h"

typedef struct sw_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* 0: no limit */
} sw_buf;

#define SW_BUF_INIT(maxlen) { NULL, 0, 0, (maxlen) }

int sw_buf_add(sw_buf *b, const void *data, size_t len, sw_error **err);
int sw_buf_addc(sw_buf *b, char c, sw_error **err);
int sw_buf_addstr(sw_buf *b, const char *s, sw_error **err);
int sw_buf_printf(sw_buf *b, sw_error **err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void sw_buf_truncate(sw_buf *b, size_t len);
/* Hands the (NUL-terminated, possibly empty) string out and resets b. */
char *sw_buf_detach(sw_buf *b);
void sw_buf_release(sw_buf *b);

#endif
