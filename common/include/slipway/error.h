/*
 * error.h - the one error type of slipway, carried up with context.
 *
 * A function that can fail takes `sw_error **err` as its last argument,
 * returns a negative SW_E* code on failure and sets *err, which is set if
 * and only if it failed. Callers add context on the way up with
 * sw_error_wrap(), which pushes a new message in front of the old one and
 * keeps the old one as the cause:
 *
 *     if (parse_step(..., err) < 0)
 *             return sw_error_wrap(err, "step %d (%s)", n, kw);
 *
 * sw_error_string() joins the chain: "step 4 (RUN): open x: No such file".
 * Messages are one line, lower case, with no trailing period.
 */
#ifndef SLIPWAY_ERROR_H
#define SLIPWAY_ERROR_H

#include <stdarg.h>

enum sw_error_code {
	SW_OK = 0,
	SW_EFAIL = -1,      /* generic failure */
	SW_ENOTFOUND = -2,  /* the named object does not exist */
	SW_EEXISTS = -3,    /* the object already exists */
	SW_EAMBIGUOUS = -4, /* a prefix or name matches more than one object */
	SW_ECONFLICT = -5,  /* a concurrent change won */
	SW_EINVALID = -6,   /* bad input: syntax, field, value */
	SW_ESYSTEM = -7,    /* an OS call failed (errno kept in sys_errno) */
	SW_EESCAPE = -8,    /* a path tried to leave its root */
	SW_ETOOBIG = -9,    /* input exceeds a limit */
	SW_EGONE = -10,     /* asked for history that is no longer kept */
	SW_EAUTH = -11,     /* missing or bad credentials */
	SW_EFORBIDDEN = -12, /* refused by policy (a namespace being deleted, ...) */
};

typedef struct sw_error {
	int code;              /* one of enum sw_error_code, negative */
	int sys_errno;         /* errno when code == SW_ESYSTEM, else 0 */
	char *msg;             /* this level's message */
	struct sw_error *cause;
} sw_error;

/* Sets *err (if err is not NULL) and returns code. Any error already in *err
 * becomes the cause of the new one. */
int sw_error_set(sw_error **err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int sw_error_setv(sw_error **err, int code, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* SW_ESYSTEM with strerror(errnum) appended: "open /x: No such file...". */
int sw_error_set_errno(sw_error **err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Adds context in front of the error in *err and returns its code (the
 * innermost code is kept so callers can still test for SW_ENOTFOUND). */
int sw_error_wrap(sw_error **err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The code of the error, or SW_OK for NULL. */
int sw_error_code(const sw_error *err);

/* The whole chain as one line, "outer: inner: innermost"; caller frees. */
char *sw_error_string(const sw_error *err);

void sw_error_free(sw_error *err);

/* Frees *err and sets it to NULL. */
void sw_error_clear(sw_error **err);

#endif
