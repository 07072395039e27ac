/*
 * yaml_load.c - YAML (and JSON, which is YAML) documents -> jansson trees,
 * through libyaml's event parser, keeping the line and column of every
 * value by field path.
 *
 * Scalars resolve as go-yaml v2 does (what kubectl and sigs.k8s.io/yaml
 * use): plain yes/no/on/off/y/n are booleans, 0x1F and 0755 are integers,
 * quoted scalars are always strings. Anchors and aliases are resolved by
 * copying, with a bound on the values they may produce (alias bombs); merge
 * keys (<<) work, explicit keys winning. Duplicate keys are errors. It does
 * not validate anything beyond YAML itself: see validate*.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "manifest_int.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"

/* ---- field paths -------------------------------------------------------- */

void sw_fpath_reset(sw_fpath *p)
{
	p->len = 0;
	p->buf[0] = '\0';
}

static void fpath_append(sw_fpath *p, const char *s, size_t n)
{
	if (p->len + n + 4 >= sizeof(p->buf)) {
		if (p->len + 4 < sizeof(p->buf) && (p->len < 3 || strcmp(p->buf + p->len - 3, "...")))
			memcpy(p->buf + p->len, "...", 4), p->len += 3;
		return;
	}
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	p->buf[p->len] = '\0';
}

static bool simple_key(const char *k)
{
	if (!*k)
		return false;
	for (const char *s = k; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '-'))
			return false;
	return true;
}

size_t sw_fpath_push_key(sw_fpath *p, const char *key)
{
	size_t old = p->len;

	if (simple_key(key)) {
		if (p->len)
			fpath_append(p, ".", 1);
		fpath_append(p, key, strlen(key));
	} else {
		fpath_append(p, "[", 1);
		fpath_append(p, key, strlen(key));
		fpath_append(p, "]", 1);
	}
	return old;
}

size_t sw_fpath_push_index(sw_fpath *p, size_t i)
{
	size_t old = p->len;
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "[%zu]", i);

	fpath_append(p, tmp, (size_t)n);
	return old;
}

void sw_fpath_pop(sw_fpath *p, size_t oldlen)
{
	if (oldlen <= p->len) {
		p->len = oldlen;
		p->buf[oldlen] = '\0';
	}
}

void sw_pos_lookup(const json_t *pos, const char *path, bool key, int *line, int *col)
{
	char tmp[SW_PATH_MAX];
	size_t n = strlen(path);

	*line = *col = 0;
	if (!pos || n >= sizeof(tmp))
		return;
	memcpy(tmp, path, n + 1);
	for (;;) {
		json_t *p = json_object_get(pos, tmp);
		if (p) {
			size_t at = key && json_array_size(p) == 4 ? 2 : 0;
			*line = (int)json_integer_value(json_array_get(p, at));
			*col = (int)json_integer_value(json_array_get(p, at + 1));
			return;
		}
		if (n == 0)
			return;
		/* drop the last component: ".x" or "[x]" */
		if (tmp[n - 1] == ']') {
			while (n > 0 && tmp[n - 1] != '[')
				n--;
			if (n > 0)
				n--;
		} else {
			while (n > 0 && tmp[n - 1] != '.' && tmp[n - 1] != ']')
				n--;
			if (n > 0 && tmp[n - 1] == '.')
				n--;
		}
		tmp[n] = '\0';
		key = false;
	}
}

/* ---- scalars ------------------------------------------------------------ */

static bool in_list(const char *s, size_t len, const char *const *list)
{
	for (; *list; list++)
		if (strlen(*list) == len && !memcmp(*list, s, len))
			return true;
	return false;
}

static const char *const yaml_true[] = { "y", "Y", "yes", "Yes", "YES", "on", "On", "ON",
	                                     "true", "True", "TRUE", NULL };
static const char *const yaml_false[] = { "n", "N", "no", "No", "NO", "off", "Off", "OFF",
	                                      "false", "False", "FALSE", NULL };
static const char *const yaml_null[] = { "~", "null", "Null", "NULL", NULL };

/* Go's strconv.ParseInt(s, 0, 64) after go-yaml removed underscores. */
static bool parse_go_int(const char *s, int64_t *out, bool *overflow_unsigned, uint64_t *uout)
{
	bool neg = false;
	unsigned base = 10;
	uint64_t v = 0;
	const char *p = s;

	*overflow_unsigned = false;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (!*p)
		return false;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		base = 16, p += 2;
	else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
		base = 8, p += 2;
	else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
		base = 2, p += 2;
	else if (p[0] == '0' && p[1])
		base = 8, p += 1;
	if (!*p)
		return false;
	for (; *p; p++) {
		unsigned dgt;
		if (*p >= '0' && *p <= '9')
			dgt = (unsigned)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			dgt = (unsigned)(*p - 'a' + 10);
		else if (*p >= 'A' && *p <= 'F')
			dgt = (unsigned)(*p - 'A' + 10);
		else
			return false;
		if (dgt >= base)
			return false;
		if (v > (UINT64_MAX - dgt) / base)
			return false;
		v = v * base + dgt;
	}
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return false;
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
		return true;
	}
	if (v > (uint64_t)INT64_MAX) {
		*overflow_unsigned = true;
		*uout = v;
		return false;
	}
	*out = (int64_t)v;
	return true;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool yaml_style_float(const char *s)
{
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	} else {
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p == '.') {
			p++;
			while (*p >= '0' && *p <= '9')
				p++;
		}
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

static json_t *number_value(double v)
{
	/* sigs.k8s.io/yaml writes whole floats without a fraction ("1"), so
	 * they decode into integer fields: keep them as integers. */
	/* (no libm: the library links none) */
	if (isfinite(v) && v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(json_int_t)v)
		return json_integer((json_int_t)v);
	return json_real(v);
}

json_t *sw_yaml_resolve_plain(const char *s, size_t len)
{
	if (len == 0 || in_list(s, len, yaml_null))
		return json_null();
	if (in_list(s, len, yaml_true))
		return json_true();
	if (in_list(s, len, yaml_false))
		return json_false();
	if (memchr(s, '\0', len))
		return json_stringn(s, len);
	char c = s[0];
	if (!((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
		return json_stringn(s, len);
	if (len > 64)
		return json_stringn(s, len);
	/* .inf, .nan: JSON has no such numbers; sigs.k8s.io/yaml fails on
	 * them too, so leave them as text and let the field's type complain. */
	char plain[80];
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] != '_')
			plain[n++] = s[i];
	plain[n] = '\0';
	int64_t iv;
	uint64_t uv;
	bool big;
	if (parse_go_int(plain, &iv, &big, &uv))
		return json_integer((json_int_t)iv);
	if (big)
		return json_real((double)uv);
	if (yaml_style_float(plain)) {
		errno = 0;
		double d = strtod(plain, NULL);
		if (errno == 0 && isfinite(d))
			return number_value(d);
	}
	return json_stringn(s, len);
}

/* ---- the event parser --------------------------------------------------- */

typedef struct anchor {
	char *name;
	json_t *value;
	size_t nodes;
} anchor;

typedef struct yl {
	yaml_parser_t parser;
	const char *file;
	sw_diags *d;
	json_t *pos;
	sw_fpath path;
	anchor *anchors;
	size_t nanchors, cap_anchors;
	size_t parsed, copied;
	int depth;
	bool failed;
} yl;

static void yl_error(yl *y, const yaml_mark_t *m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void yl_error(yl *y, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	if (y->failed)
		return;
	y->failed = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sw_diags_add(y->d, SW_DIAG_ERROR, y->file, m ? (int)m->line + 1 : 0,
	             m ? (int)m->column + 1 : 0, y->path.len ? y->path.buf : NULL, "%s", msg);
}

static bool next_event(yl *y, yaml_event_t *ev)
{
	if (y->failed)
		return false;
	if (!yaml_parser_parse(&y->parser, ev)) {
		yaml_mark_t m = y->parser.problem_mark;
		const char *problem = y->parser.problem ? y->parser.problem : "invalid YAML";
		if (y->parser.error == YAML_MEMORY_ERROR)
			problem = "out of memory";
		/* the path is where parsing was, not necessarily the bad token */
		sw_fpath_reset(&y->path);
		if (y->parser.context && y->parser.context_mark.line != m.line)
			yl_error(y, &m, "yaml: %s %s started at line %zu column %zu", problem, y->parser.context,
			         y->parser.context_mark.line + 1, y->parser.context_mark.column + 1);
		else if (y->parser.context)
			yl_error(y, &m, "yaml: %s %s", problem, y->parser.context);
		else
			yl_error(y, &m, "yaml: %s", problem);
		return false;
	}
	return true;
}

static void record_pos(yl *y, const yaml_mark_t *val, const yaml_mark_t *key)
{
	json_t *a = json_array();
	json_array_append_new(a, json_integer((json_int_t)val->line + 1));
	json_array_append_new(a, json_integer((json_int_t)val->column + 1));
	if (key) {
		json_array_append_new(a, json_integer((json_int_t)key->line + 1));
		json_array_append_new(a, json_integer((json_int_t)key->column + 1));
	}
	json_object_set_new(y->pos, y->path.buf, a);
}

static size_t count_nodes(const json_t *j)
{
	size_t n = 1;
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_object(j)) {
		json_object_foreach((json_t *)j, k, v)
			n += count_nodes(v);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			n += count_nodes(v);
	}
	return n;
}

static bool count_node(yl *y, const yaml_mark_t *m)
{
	if (++y->parsed + y->copied > SW_MANIFEST_MAX_NODES) {
		yl_error(y, m, "yaml: more than %u values", SW_MANIFEST_MAX_NODES);
		return false;
	}
	return true;
}

static void add_anchor(yl *y, const char *name, json_t *value)
{
	for (size_t i = 0; i < y->nanchors; i++) {
		if (!strcmp(y->anchors[i].name, name)) {
			json_decref(y->anchors[i].value);
			y->anchors[i].value = json_incref(value);
			y->anchors[i].nodes = count_nodes(value);
			return;
		}
	}
	if (y->nanchors == y->cap_anchors) {
		y->cap_anchors = y->cap_anchors ? 2 * y->cap_anchors : 8;
		y->anchors = sw_xreallocarray(y->anchors, y->cap_anchors, sizeof(*y->anchors));
	}
	y->anchors[y->nanchors++] = (anchor){ sw_xstrdup(name), json_incref(value), count_nodes(value) };
}

static void free_anchors(yl *y)
{
	for (size_t i = 0; i < y->nanchors; i++) {
		free(y->anchors[i].name);
		json_decref(y->anchors[i].value);
	}
	free(y->anchors);
	y->anchors = NULL;
	y->nanchors = y->cap_anchors = 0;
}

static json_t *resolve_alias(yl *y, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;

	for (size_t i = y->nanchors; i-- > 0;) {
		if (strcmp(y->anchors[i].name, name))
			continue;
		/* aliases copy: bound what they may add (billion laughs) */
		y->copied += y->anchors[i].nodes;
		if (y->copied > 10 * y->parsed + 10000 || y->parsed + y->copied > SW_MANIFEST_MAX_NODES) {
			yl_error(y, &ev->start_mark, "yaml: aliases expand to too many values");
			return NULL;
		}
		return json_deep_copy(y->anchors[i].value);
	}
	yl_error(y, &ev->start_mark, "yaml: unknown anchor \"%s\"", name);
	return NULL;
}

static bool tag_is(const char *tag, const char *shortname)
{
	static const char prefix[] = "tag:yaml.org,2002:";
	return !strncmp(tag, prefix, sizeof(prefix) - 1) && !strcmp(tag + sizeof(prefix) - 1, shortname);
}

static json_t *scalar_value(yl *y, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;

	if (tag && strcmp(tag, "!")) {
		if (tag_is(tag, "str") || tag_is(tag, "binary"))
			return json_stringn(s, len);
		json_t *v = sw_yaml_resolve_plain(s, len);
		if ((tag_is(tag, "int") && json_is_integer(v)) ||
		    (tag_is(tag, "float") && json_is_number(v)) ||
		    (tag_is(tag, "bool") && json_is_boolean(v)) ||
		    (tag_is(tag, "null") && json_is_null(v)))
			return v;
		json_decref(v);
		if (tag_is(tag, "int") || tag_is(tag, "float") || tag_is(tag, "bool") || tag_is(tag, "null"))
			yl_error(y, &ev->start_mark, "yaml: cannot read \"%.*s\" as %s", (int)(len > 40 ? 40 : len), s, tag);
		else
			yl_error(y, &ev->start_mark, "yaml: unsupported tag %s", tag);
		return NULL;
	}
	if (tag || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_stringn(s, len);
	return sw_yaml_resolve_plain(s, len);
}

/* A mapping key as text (sigs.k8s.io/yaml turns 1, true, null into "1", ...). */
static char *key_text(const yaml_event_t *ev, bool *merge)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev->data.scalar.tag;

	*merge = plain && len == 2 && !memcmp(s, "<<", 2);
	if (!plain)
		return sw_xstrndup(s, len);
	json_t *v = sw_yaml_resolve_plain(s, len);
	char *out;
	if (json_is_true(v))
		out = sw_xstrdup("true");
	else if (json_is_false(v))
		out = sw_xstrdup("false");
	else if (json_is_null(v))
		out = sw_xstrdup("null");
	else if (json_is_integer(v))
		out = sw_xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		out = sw_xstrndup(s, len);
	json_decref(v);
	return out;
}

static json_t *parse_node(yl *y, yaml_event_t *ev);

static json_t *parse_sequence(yl *y)
{
	json_t *arr = json_array();
	yaml_event_t ev;

	for (size_t i = 0;; i++) {
		if (!next_event(y, &ev))
			goto fail;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return arr;
		}
		size_t old = sw_fpath_push_index(&y->path, i);
		record_pos(y, &ev.start_mark, NULL);
		json_t *v = parse_node(y, &ev);
		yaml_event_delete(&ev);
		sw_fpath_pop(&y->path, old);
		if (!v)
			goto fail;
		json_array_append_new(arr, v);
	}
fail:
	json_decref(arr);
	return NULL;
}

/* Adds the keys of src missing from merged (merge keys: first source wins). */
static bool merge_into(yl *y, json_t *merged, json_t *src, const yaml_mark_t *m)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_array(src)) {
		json_array_foreach(src, i, v) {
			if (!json_is_object(v)) {
				yl_error(y, m, "yaml: a merge key (<<) takes a mapping or a list of mappings");
				return false;
			}
			if (!merge_into(y, merged, v, m))
				return false;
		}
		return true;
	}
	if (!json_is_object(src)) {
		yl_error(y, m, "yaml: a merge key (<<) takes a mapping or a list of mappings");
		return false;
	}
	json_object_foreach(src, k, v)
		if (!json_object_get(merged, k))
			json_object_set(merged, k, v);
	return true;
}

static json_t *parse_mapping(yl *y)
{
	json_t *obj = json_object();
	json_t *merged = NULL;
	yaml_mark_t merge_mark = { 0, 0, 0 };
	yaml_event_t kev, vev;

	for (;;) {
		if (!next_event(y, &kev))
			goto fail;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			break;
		}
		if (kev.type != YAML_SCALAR_EVENT) {
			yl_error(y, &kev.start_mark, "yaml: mapping keys must be plain text, not %s",
			         kev.type == YAML_ALIAS_EVENT ? "aliases" : "collections");
			yaml_event_delete(&kev);
			goto fail;
		}
		if (!count_node(y, &kev.start_mark)) {
			yaml_event_delete(&kev);
			goto fail;
		}
		bool is_merge;
		cleanup_free char *key = key_text(&kev, &is_merge);
		yaml_mark_t kmark = kev.start_mark;
		yaml_event_delete(&kev);
		if (!next_event(y, &vev))
			goto fail;
		if (is_merge) {
			json_t *src = parse_node(y, &vev);
			merge_mark = vev.start_mark;
			yaml_event_delete(&vev);
			if (!src)
				goto fail;
			if (!merged)
				merged = json_object();
			bool ok = merge_into(y, merged, src, &merge_mark);
			json_decref(src);
			if (!ok)
				goto fail;
			continue;
		}
		size_t old = sw_fpath_push_key(&y->path, key);
		if (json_object_get(obj, key)) {
			yl_error(y, &kmark, "yaml: duplicate key \"%s\"", key);
			yaml_event_delete(&vev);
			sw_fpath_pop(&y->path, old);
			goto fail;
		}
		record_pos(y, &vev.start_mark, &kmark);
		json_t *v = parse_node(y, &vev);
		yaml_event_delete(&vev);
		sw_fpath_pop(&y->path, old);
		if (!v)
			goto fail;
		json_object_set_new(obj, key, v);
	}
	if (merged) {
		const char *k;
		json_t *v;
		json_object_foreach(merged, k, v) {
			if (json_object_get(obj, k))
				continue;
			size_t old = sw_fpath_push_key(&y->path, k);
			record_pos(y, &merge_mark, &merge_mark);
			sw_fpath_pop(&y->path, old);
			json_object_set(obj, k, v);
		}
		json_decref(merged);
	}
	return obj;
fail:
	json_decref(merged);
	json_decref(obj);
	return NULL;
}

/* ev is the node's first event (owned by the caller). */
static json_t *parse_node(yl *y, yaml_event_t *ev)
{
	json_t *v = NULL;
	const char *anchor_name = NULL;

	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return resolve_alias(y, ev);
	case YAML_SCALAR_EVENT:
		if (!count_node(y, &ev->start_mark))
			return NULL;
		v = scalar_value(y, ev);
		anchor_name = (const char *)ev->data.scalar.anchor;
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (!count_node(y, &ev->start_mark))
			return NULL;
		if (++y->depth > SW_MANIFEST_MAX_DEPTH) {
			yl_error(y, &ev->start_mark, "yaml: nested deeper than %d levels", SW_MANIFEST_MAX_DEPTH);
			return NULL;
		}
		if (ev->type == YAML_SEQUENCE_START_EVENT) {
			v = parse_sequence(y);
			anchor_name = (const char *)ev->data.sequence_start.anchor;
		} else {
			v = parse_mapping(y);
			anchor_name = (const char *)ev->data.mapping_start.anchor;
		}
		y->depth--;
		break;
	default:
		yl_error(y, &ev->start_mark, "yaml: unexpected event");
		return NULL;
	}
	if (v && anchor_name)
		add_anchor(y, anchor_name, v);
	return v;
}

void sw_ydocs_free(sw_ydoc *docs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_decref(docs[i].root);
		json_decref(docs[i].pos);
	}
	free(docs);
}

int sw_yaml_load_docs(const char *file, const char *data, size_t len, sw_ydoc **out,
                      size_t *nout, sw_diags *d)
{
	yl y = { .file = file, .d = d };
	yaml_event_t ev;
	sw_ydoc *docs = NULL;
	size_t n = 0, cap = 0;
	bool done = false;

	*out = NULL;
	*nout = 0;
	if (!data) {
		data = "";
		len = 0;
	}
	if (len > SW_MANIFEST_MAX_FILE) {
		sw_diags_add(d, SW_DIAG_ERROR, file, 0, 0, NULL, "larger than %u bytes", SW_MANIFEST_MAX_FILE);
		return SW_EINVALID;
	}
	/* libyaml reads up to NUL-free input; a NUL is never valid YAML text */
	const char *nul = memchr(data, '\0', len);
	if (nul) {
		int line = 1, col = 1;
		for (const char *p = data; p < nul; p++)
			if (*p == '\n')
				line++, col = 1;
			else
				col++;
		sw_diags_add(d, SW_DIAG_ERROR, file, line, col, NULL, "yaml: NUL byte in the input");
		return SW_EINVALID;
	}
	if (!yaml_parser_initialize(&y.parser)) {
		sw_diags_add(d, SW_DIAG_ERROR, file, 0, 0, NULL, "yaml: cannot initialise the parser");
		return SW_EINVALID;
	}
	yaml_parser_set_input_string(&y.parser, (const unsigned char *)data, len);
	sw_fpath_reset(&y.path);
	while (!done && next_event(&y, &ev)) {
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT: {
			yaml_mark_t start = ev.start_mark;
			yaml_event_t nev;
			free_anchors(&y);
			y.pos = json_object();
			sw_fpath_reset(&y.path);
			if (!next_event(&y, &nev))
				break;
			record_pos(&y, &nev.start_mark, NULL);
			yaml_mark_t rootmark = nev.start_mark;
			json_t *root = parse_node(&y, &nev);
			yaml_event_delete(&nev);
			if (root && !json_is_null(root) && !json_is_object(root)) {
				sw_fpath_reset(&y.path);
				yl_error(&y, &rootmark, "a document must be a mapping (an object), not %s",
				         json_is_array(root) ? "a list" : "a scalar");
			}
			if (y.failed || !root || json_is_null(root)) {
				json_decref(root);
				json_decref(y.pos);
				y.pos = NULL;
				break;
			}
			(void)start;
			if (n == cap) {
				cap = cap ? 2 * cap : 8;
				docs = sw_xreallocarray(docs, cap, sizeof(*docs));
			}
			docs[n++] = (sw_ydoc){ root, y.pos, (int)rootmark.line + 1, (int)rootmark.column + 1 };
			y.pos = NULL;
			break;
		}
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	free_anchors(&y);
	json_decref(y.pos);
	yaml_parser_delete(&y.parser);
	if (y.failed) {
		sw_ydocs_free(docs, n);
		return SW_EINVALID;
	}
	*out = docs;
	*nout = n;
	return 0;
}
