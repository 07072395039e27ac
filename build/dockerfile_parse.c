/*
 * dockerfile_parse.c - Dockerfile text -> syntax tree (placeholder until the
 * parser lands in this file).
 */
#include "slipway/dockerfile.h"

int sw_df_parse(sw_df_file **out, const char *path, const char *data, size_t len, sw_error **err)
{
	(void)out; (void)data; (void)len;
	return sw_error_set(err, SW_EFAIL, "%s: the Dockerfile parser is not built yet", path);
}
