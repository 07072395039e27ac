/*
 * json.c - canonical JSON and loading with file:line:col errors (json.h).
 */
#include <string.h>

#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/path.h"

char *sw_json_canonical(const json_t *j)
{
	if (!j)
		return NULL;
	/* Compact separators, sorted keys, UTF-8 kept, no escaping of '/'. */
	return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

int sw_json_loadb(json_t **out, const char *what, const char *data, size_t len, sw_error **err)
{
	json_error_t je;
	json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);

	if (!j)
		return sw_error_set(err, SW_EINVALID, "%s:%d:%d: %s", what, je.line, je.column, je.text);
	*out = j;
	return 0;
}

int sw_json_load_file(json_t **out, const char *path, size_t max, sw_error **err)
{
	cleanup_free char *data = NULL;
	size_t len = 0;

	int r = sw_read_file(&data, &len, path, max ? max : 64u << 20, err);

	if (r < 0)
		return r;
	return sw_json_loadb(out, path, data, len, err);
}
