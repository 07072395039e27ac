/*
 * printers_yaml.c - JSON trees as YAML through libyaml's emitter, the way
 * kubectl -o yaml prints them: block style, mapping keys sorted, strings
 * that a YAML 1.1 reader would take for a number, bool or null in double
 * quotes, multi-line strings as literal blocks, long lines folded at 80
 * columns as go-yaml (a port of libyaml) folds them.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/mem.h"
#include "slipway/printers.h"

/* Does s parse whole as a number once '_' separators are dropped (0x1f,
 * 0o17, 0b101, 1_000, 1e3, .5)? */
static bool numeric(const char *s)
{
	char buf[128], *end;
	size_t n = 0;

	for (; *s && n + 1 < sizeof(buf); s++)
		if (*s != '_')
			buf[n++] = *s;
	if (*s || !n)
		return false;
	buf[n] = '\0';
	const char *p = buf + (buf[0] == '+' || buf[0] == '-');
	if (p[0] == '0' && (p[1] == 'b' || p[1] == 'o') && p[2] && strspn(p + 2, p[1] == 'b' ? "01" : "01234567") == strlen(p + 2))
		return true;
	strtoll(buf, &end, 0);
	if (!*end)
		return true;
	strtod(buf, &end);
	return !*end;
}

/* YYYY-M-D..., the start of every YAML timestamp form. */
static bool timestamp_like(const char *s)
{
	size_t y = strspn(s, "0123456789");
	if (y != 4 || s[4] != '-')
		return false;
	size_t m = strspn(s + 5, "0123456789");
	if (m < 1 || m > 2 || s[5 + m] != '-')
		return false;
	size_t d = strspn(s + 6 + m, "0123456789");
	return d >= 1 && d <= 2;
}

/* 1:20, 190:20:30 (YAML 1.1 base 60). */
static bool sexagesimal(const char *s)
{
	const char *p = s + (*s == '+' || *s == '-');
	size_t n = strspn(p, "0123456789_");
	if (!n || p[n] != ':')
		return false;
	p += n;
	while (*p == ':') {
		n = strspn(p + 1, "0123456789");
		if (n < 1 || n > 2)
			return false;
		p += 1 + n;
	}
	return !*p || (*p == '.' && strspn(p + 1, "0123456789_") == strlen(p + 1));
}

/* Would a plain scalar s read back as something other than a string
 * (YAML 1.1 as go-yaml v2 reads it, so kubectl's own output matches)? */
static bool ambiguous(const char *s)
{
	static const char *const words[] = { "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~",
		                             ".inf", "-.inf", "+.inf", ".nan", NULL };

	if (!*s)
		return true;
	for (size_t i = 0; words[i]; i++)
		if (!strcasecmp(s, words[i]))
			return true;
	if (!strchr("0123456789+-.", s[0]))
		return false;
	return numeric(s) || timestamp_like(s) || sexagesimal(s);
}

static int emit(yaml_emitter_t *e, yaml_event_t *ev)
{
	return yaml_emitter_emit(e, ev) ? 0 : -1;
}

static int emit_scalar(yaml_emitter_t *e, const char *s, yaml_scalar_style_t style)
{
	yaml_event_t ev;

	if (!yaml_scalar_event_initialize(&ev, NULL, (yaml_char_t *)YAML_STR_TAG, (yaml_char_t *)s, (int)strlen(s),
	                                  1, 1, style))
		return -1;
	return emit(e, &ev);
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int emit_node(yaml_emitter_t *e, const json_t *j)
{
	yaml_event_t ev;
	char buf[64];

	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		size_t n = json_object_size(j), i = 0;
		const char **keys = sw_xcalloc(n ? n : 1, sizeof(*keys));
		const char *key;
		json_t *v;
		int ret = 0;

		json_object_foreach((json_t *)j, key, v)
			keys[i++] = key;
		qsort(keys, n, sizeof(*keys), cmp_keys);
		if (!yaml_mapping_start_event_initialize(&ev, NULL, (yaml_char_t *)YAML_MAP_TAG, 1,
		                                         n ? YAML_BLOCK_MAPPING_STYLE : YAML_FLOW_MAPPING_STYLE) ||
		    emit(e, &ev) < 0) {
			free(keys);
			return -1;
		}
		for (i = 0; i < n && ret == 0; i++) {
			ret = emit_scalar(e, keys[i], ambiguous(keys[i]) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
			                                                  : YAML_PLAIN_SCALAR_STYLE);
			if (ret == 0)
				ret = emit_node(e, json_object_get(j, keys[i]));
		}
		free(keys);
		if (ret < 0 || !yaml_mapping_end_event_initialize(&ev))
			return -1;
		return emit(e, &ev);
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *v;
		if (!yaml_sequence_start_event_initialize(&ev, NULL, (yaml_char_t *)YAML_SEQ_TAG, 1,
		                                          json_array_size(j) ? YAML_BLOCK_SEQUENCE_STYLE
		                                                             : YAML_FLOW_SEQUENCE_STYLE) ||
		    emit(e, &ev) < 0)
			return -1;
		json_array_foreach(j, i, v)
			if (emit_node(e, v) < 0)
				return -1;
		if (!yaml_sequence_end_event_initialize(&ev))
			return -1;
		return emit(e, &ev);
	}
	case JSON_STRING: {
		const char *s = json_string_value(j);
		yaml_scalar_style_t style = YAML_PLAIN_SCALAR_STYLE;
		if (strchr(s, '\n'))
			style = YAML_LITERAL_SCALAR_STYLE;
		else if (ambiguous(s))
			style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
		return emit_scalar(e, s, style);
	}
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		return emit_scalar(e, buf, YAML_PLAIN_SCALAR_STYLE);
	case JSON_REAL: {
		char *s = json_dumps(j, JSON_ENCODE_ANY);
		int ret = emit_scalar(e, s ? s : "0", YAML_PLAIN_SCALAR_STYLE);
		free(s);
		return ret;
	}
	case JSON_TRUE:
		return emit_scalar(e, "true", YAML_PLAIN_SCALAR_STYLE);
	case JSON_FALSE:
		return emit_scalar(e, "false", YAML_PLAIN_SCALAR_STYLE);
	case JSON_NULL:
	default:
		return emit_scalar(e, "null", YAML_PLAIN_SCALAR_STYLE);
	}
}

static int write_buf(void *data, unsigned char *bytes, size_t size)
{
	return sw_buf_add(data, bytes, size, NULL) == 0;
}

int sw_print_yaml(char **out, const json_t *j, sw_error **err)
{
	sw_buf b = SW_BUF_INIT(0);
	yaml_emitter_t e;
	yaml_event_t ev;
	int ok;

	if (!yaml_emitter_initialize(&e))
		return sw_error_set(err, SW_EFAIL, "yaml emitter: out of memory");
	yaml_emitter_set_output(&e, write_buf, &b);
	yaml_emitter_set_unicode(&e, 1);
	/* libyaml's default width (80), as go-yaml's, so long strings fold
	 * where kubectl's output folds them */
	yaml_emitter_set_indent(&e, 2);
	ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) && emit(&e, &ev) == 0 &&
	     yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) && emit(&e, &ev) == 0 &&
	     emit_node(&e, j) == 0 && yaml_document_end_event_initialize(&ev, 1) && emit(&e, &ev) == 0 &&
	     yaml_stream_end_event_initialize(&ev) && emit(&e, &ev) == 0;
	if (!ok) {
		int ret = sw_error_set(err, SW_EFAIL, "writing yaml: %s", e.problem ? e.problem : "emitter error");
		yaml_emitter_delete(&e);
		sw_buf_release(&b);
		return ret;
	}
	yaml_emitter_delete(&e);
	*out = sw_buf_detach(&b);
	return 0;
}

int sw_print_yamlf(FILE *f, const json_t *j, sw_error **err)
{
	cleanup_free char *s = NULL;
	int ret;

	if ((ret = sw_print_yaml(&s, j, err)) < 0)
		return ret;
	fputs(s, f);
	return 0;
}
