/*
 * mem.c - allocators that never return NULL (see mem.h for why they abort).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slipway/mem.h"

void sw_out_of_memory(size_t n)
{
	char msg[96];
	int len = snprintf(msg, sizeof(msg), "slipway: out of memory (allocating %zu bytes)\n", n);
	if (len > 0 && write(2, msg, (size_t)len) < 0) {
		/* nothing left to report with */
	}
	abort();
}

void *sw_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		sw_out_of_memory(n);
	return p;
}

void *sw_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		sw_out_of_memory(n * size);
	return p;
}

void *sw_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		sw_out_of_memory(n);
	return q;
}

void *sw_xreallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		sw_out_of_memory(SIZE_MAX);
	return sw_xrealloc(p, n * size);
}

char *sw_xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		sw_out_of_memory(strlen(s) + 1);
	return d;
}

char *sw_xstrndup(const char *s, size_t n)
{
	char *d = strndup(s, n);
	if (!d)
		sw_out_of_memory(n + 1);
	return d;
}

char *sw_xasprintf(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		sw_out_of_memory(0);
	va_end(ap);
	return s;
}
