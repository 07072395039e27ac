/*
 * json.h - canonical JSON and JSON loading with file:line:col errors.
 *
 * Canonical form (what slipway hashes): object keys sorted, no whitespace
 * outside strings, UTF-8 as is, integers as integers. The same document always
 * gives the same bytes, hence the same digest.
 */
#ifndef SLIPWAY_JSON_H
#define SLIPWAY_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "slipway/error.h"

/* Canonical text of j; caller frees. NULL only if j is NULL. */
char *sw_json_canonical(const json_t *j);

/* Parses data; on error "WHAT:LINE:COL: message" (SW_EINVALID). */
int sw_json_loadb(json_t **out, const char *what, const char *data, size_t len, sw_error **err);
/* Reads and parses a file of at most max bytes (0: 64 MiB). */
int sw_json_load_file(json_t **out, const char *path, size_t max, sw_error **err);

static inline void sw_cleanup_jsonp(json_t **j)
{
	json_decref(*j);
}
#define cleanup_json __attribute__((cleanup(sw_cleanup_jsonp)))

#endif
