/*
 * mem.h - allocation that cannot return NULL.
 *
 * As in git's xmalloc and redis' zmalloc, running out of memory is not an
 * error slipway tries to recover from: these print one line and abort. Input
 * sizes are bounded before allocation (see buf.h), so hostile input gives
 * SW_ETOOBIG, not an OOM.
 */
#ifndef SLIPWAY_MEM_H
#define SLIPWAY_MEM_H

#include <stddef.h>

/* Prints "out of memory" and aborts. */
__attribute__((noreturn)) void sw_out_of_memory(size_t n);

void *sw_xmalloc(size_t n);
void *sw_xcalloc(size_t n, size_t size);
void *sw_xrealloc(void *p, size_t n);
/* realloc for an array of n elements of size each, overflow-checked */
void *sw_xreallocarray(void *p, size_t n, size_t size);
char *sw_xstrdup(const char *s);
char *sw_xstrndup(const char *s, size_t n);
char *sw_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
