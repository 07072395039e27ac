/*
 * error.c - sw_error: a message per level and a cause chain (see error.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slipway/buf.h"
#include "slipway/error.h"
#include "slipway/mem.h"

int sw_error_setv(sw_error **err, int code, const char *fmt, va_list ap)
{
	sw_error *e;

	if (code >= 0)
		code = SW_EFAIL;
	if (err == NULL)
		return code;
	e = sw_xcalloc(1, sizeof(*e));
	e->code = code;
	if (vasprintf(&e->msg, fmt, ap) < 0)
		e->msg = sw_xstrdup("out of memory formatting an error");
	e->cause = *err;
	*err = e;
	return code;
}

int sw_error_set(sw_error **err, int code, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = sw_error_setv(err, code, fmt, ap);
	va_end(ap);
	return r;
}

int sw_error_set_errno(sw_error **err, int errnum, const char *fmt, ...)
{
	char *prefix = NULL;
	va_list ap;

	if (err == NULL)
		return SW_ESYSTEM;
	va_start(ap, fmt);
	if (vasprintf(&prefix, fmt, ap) < 0)
		prefix = NULL;
	va_end(ap);
	sw_error_set(err, SW_ESYSTEM, "%s: %s", prefix ? prefix : "?", strerror(errnum));
	(*err)->sys_errno = errnum;
	free(prefix);
	return SW_ESYSTEM;
}

int sw_error_wrap(sw_error **err, const char *fmt, ...)
{
	sw_error *inner;
	int code;
	va_list ap;

	if (err == NULL)
		return SW_EFAIL;
	inner = *err;
	code = inner ? inner->code : SW_EFAIL;
	va_start(ap, fmt);
	sw_error_setv(err, code, fmt, ap);
	va_end(ap);
	/* Keep the innermost code (and errno) visible at the top. */
	if (inner)
		(*err)->sys_errno = inner->sys_errno;
	return code;
}

int sw_error_code(const sw_error *err)
{
	return err ? err->code : SW_OK;
}

char *sw_error_string(const sw_error *err)
{
	sw_buf b = SW_BUF_INIT(0);
	const sw_error *e;

	for (e = err; e; e = e->cause) {
		if (e != err)
			sw_buf_addstr(&b, ": ", NULL);
		sw_buf_addstr(&b, e->msg ? e->msg : "unknown error", NULL);
	}
	if (!err)
		sw_buf_addstr(&b, "no error", NULL);
	return sw_buf_detach(&b);
}

void sw_error_free(sw_error *err)
{
	while (err) {
		sw_error *cause = err->cause;
		free(err->msg);
		free(err);
		err = cause;
	}
}

void sw_error_clear(sw_error **err)
{
	if (err) {
		sw_error_free(*err);
		*err = NULL;
	}
}
