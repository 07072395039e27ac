/*
 * diags.c - the list of errors and warnings a manifest check produces, and
 * the small syntax checks (DNS names, label keys, base64) the validators
 * share.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest_int.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/mem.h"

#define SW_DIAGS_MAX 1000 /* past this, one "too many" line and no more */

void sw_diags_init(sw_diags *d)
{
	*d = (sw_diags)SW_DIAGS_INIT;
}

void sw_diags_release(sw_diags *d)
{
	for (size_t i = 0; i < d->len; i++) {
		free(d->items[i].file);
		free(d->items[i].path);
		free(d->items[i].message);
	}
	free(d->items);
	sw_diags_init(d);
}

static void diags_addv(sw_diags *d, sw_diag_severity sev, const char *file, int line, int col,
                       const char *path, bool path_in_message, const char *fmt, va_list ap)
	__attribute__((format(printf, 8, 0)));

static void diags_addv(sw_diags *d, sw_diag_severity sev, const char *file, int line, int col,
                       const char *path, bool path_in_message, const char *fmt, va_list ap)
{
	char msg[1024];

	if (sev == SW_DIAG_ERROR)
		d->errors++;
	else
		d->warnings++;
	if (d->len > SW_DIAGS_MAX)
		return;
	if (d->len == SW_DIAGS_MAX) {
		snprintf(msg, sizeof(msg), "too many problems; stopped listing them");
		file = NULL, line = col = 0, path = NULL;
	} else {
		vsnprintf(msg, sizeof(msg), fmt, ap);
	}
	if (d->len == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 16;
		d->items = sw_xreallocarray(d->items, d->cap, sizeof(*d->items));
	}
	d->items[d->len++] = (sw_diag){
		.severity = sev,
		.file = file ? sw_xstrdup(file) : NULL,
		.line = line,
		.col = col,
		.path = path && *path ? sw_xstrdup(path) : NULL,
		.message = sw_xstrdup(msg),
		.path_in_message = path_in_message,
	};
}

void sw_diags_add(sw_diags *d, sw_diag_severity sev, const char *file, int line, int col,
                  const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diags_addv(d, sev, file, line, col, path, false, fmt, ap);
	va_end(ap);
}

char *sw_diag_format(const sw_diag *g)
{
	sw_buf b = SW_BUF_INIT(0);

	if (g->file) {
		sw_buf_addstr(&b, g->file, NULL);
		if (g->line > 0)
			sw_buf_printf(&b, NULL, ":%d:%d", g->line, g->col);
		sw_buf_addstr(&b, ": ", NULL);
	}
	sw_buf_addstr(&b, g->severity == SW_DIAG_ERROR ? "error: " : "warning: ", NULL);
	if (g->path && !g->path_in_message)
		sw_buf_printf(&b, NULL, "%s: ", g->path);
	sw_buf_addstr(&b, g->message, NULL);
	return sw_buf_detach(&b);
}

void sw_diags_print(const sw_diags *d, FILE *f)
{
	for (size_t i = 0; i < d->len; i++) {
		cleanup_free char *line = sw_diag_format(&d->items[i]);
		fprintf(f, "%s\n", line);
	}
}

int sw_diags_to_error(const sw_diags *d, sw_error **err)
{
	for (size_t i = 0; i < d->len; i++) {
		if (d->items[i].severity != SW_DIAG_ERROR)
			continue;
		cleanup_free char *line = sw_diag_format(&d->items[i]);
		/* "error: " is the caller's to say */
		const char *text = line;
		char *e = strstr(line, "error: ");
		if (e)
			memmove(e, e + 7, strlen(e + 7) + 1);
		if (d->errors > 1)
			return sw_error_set(err, SW_EINVALID, "%s (and %zu more errors)", text, d->errors - 1);
		return sw_error_set(err, SW_EINVALID, "%s", text);
	}
	return sw_error_set(err, SW_EINVALID, "invalid manifest");
}

json_t *sw_diags_to_json(const sw_diags *d)
{
	json_t *a = json_array();
	for (size_t i = 0; i < d->len; i++) {
		const sw_diag *g = &d->items[i];
		json_t *o = json_pack("{s:s, s:s}", "severity", g->severity == SW_DIAG_ERROR ? "error" : "warning",
		                      "message", g->message);
		if (g->file)
			json_object_set_new(o, "file", json_string(g->file));
		if (g->line > 0) {
			json_object_set_new(o, "line", json_integer(g->line));
			json_object_set_new(o, "col", json_integer(g->col));
		}
		if (g->path)
			json_object_set_new(o, "field", json_string(g->path));
		json_array_append_new(a, o);
	}
	return a;
}

json_t *sw_manifest_status(const json_t *obj, const sw_diags *d, int *code)
{
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
	const char *slash = av ? strchr(av, '/') : NULL;
	sw_buf msg = SW_BUF_INIT(64 * 1024);
	json_t *causes = json_array();
	size_t unknown = 0, shown = 0;

	for (size_t i = 0; i < d->len; i++)
		if (d->items[i].severity == SW_DIAG_ERROR && d->items[i].path_in_message)
			unknown++;
	if (unknown) {
		sw_buf_addstr(&msg, "strict decoding error: ", NULL);
		for (size_t i = 0; i < d->len; i++) {
			const sw_diag *g = &d->items[i];
			if (g->severity != SW_DIAG_ERROR || !g->path_in_message)
				continue;
			sw_buf_printf(&msg, NULL, "%s%s", shown++ ? ", " : "", g->message);
			json_array_append_new(causes, json_pack("{s:s, s:s, s:s?}", "reason", "FieldValueInvalid",
			                                        "message", g->message, "field", g->path));
		}
		*code = 400;
		json_t *st = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status", "apiVersion", "v1",
		                       "metadata", "status", "Failure", "message", msg.data ? msg.data : "",
		                       "reason", "BadRequest", "code", 400);
		json_decref(causes);
		sw_buf_release(&msg);
		return st;
	}
	if (kind && slash)
		sw_buf_printf(&msg, NULL, "%s.%.*s \"%s\" is invalid: ", kind, (int)(slash - av), av, name ? name : "");
	else
		sw_buf_printf(&msg, NULL, "%s \"%s\" is invalid: ", kind ? kind : "object", name ? name : "");
	size_t errors = 0;
	for (size_t i = 0; i < d->len; i++)
		if (d->items[i].severity == SW_DIAG_ERROR)
			errors++;
	if (errors > 1)
		sw_buf_addc(&msg, '[', NULL);
	for (size_t i = 0; i < d->len; i++) {
		const sw_diag *g = &d->items[i];
		if (g->severity != SW_DIAG_ERROR)
			continue;
		bool required = !strncmp(g->message, "required value", 14);
		bool unsupported = !strncmp(g->message, "unsupported value", 17);
		bool duplicate = !strncmp(g->message, "duplicate value", 15);
		sw_buf_printf(&msg, NULL, "%s%s%s%s", shown++ ? ", " : "", g->path ? g->path : "",
		              g->path ? ": " : "", g->message);
		json_array_append_new(causes, json_pack("{s:s, s:s, s:s?}", "reason",
		                                        required ? "FieldValueRequired"
		                                        : unsupported ? "FieldValueNotSupported"
		                                        : duplicate ? "FieldValueDuplicate" : "FieldValueInvalid",
		                                        "message", g->message, "field", g->path));
	}
	if (errors > 1)
		sw_buf_addc(&msg, ']', NULL);
	*code = 422;
	json_t *details = json_pack("{s:s, s:s, s:s, s:o}", "name", name ? name : "", "group",
	                            slash ? "" : "", "kind", kind ? kind : "", "causes", causes);
	if (slash)
		json_object_set_new(details, "group", json_stringn(av, (size_t)(slash - av)));
	json_t *st = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:o, s:i}", "kind", "Status", "apiVersion", "v1",
	                       "metadata", "status", "Failure", "message", msg.data ? msg.data : "",
	                       "reason", "Invalid", "details", details, "code", 422);
	sw_buf_release(&msg);
	return st;
}

/* ---- validation context ------------------------------------------------- */

static void vreport(sw_vctx *c, sw_diag_severity sev, bool key, bool in_msg, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

static void vreport(sw_vctx *c, sw_diag_severity sev, bool key, bool in_msg, const char *fmt, va_list ap)
{
	int line = 0, col = 0;

	if (c->pos)
		sw_pos_lookup(c->pos, c->path.buf, key, &line, &col);
	if (!line && c->file) {
		line = c->line;
		col = c->col;
	}
	if (sev == SW_DIAG_ERROR)
		c->errors++;
	diags_addv(c->d, sev, c->file, line, col, c->path.buf, in_msg, fmt, ap);
}

void sw_verr(sw_vctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(c, SW_DIAG_ERROR, false, false, fmt, ap);
	va_end(ap);
}

void sw_vwarn(sw_vctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(c, SW_DIAG_WARNING, true, false, fmt, ap);
	va_end(ap);
}

static void vunknown(sw_vctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void vunknown(sw_vctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(c, SW_DIAG_ERROR, true, true, fmt, ap);
	va_end(ap);
}

void sw_vunknown(sw_vctx *c)
{
	vunknown(c, "unknown field \"%s\"", c->path.buf);
}

/* ---- names -------------------------------------------------------------- */

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

const char *sw_check_dns1123_label(const char *s)
{
	size_t n = strlen(s);
	if (n == 0)
		return "must not be empty";
	if (n > 63)
		return "must be no more than 63 characters";
	for (size_t i = 0; i < n; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '-')
			goto bad;
	if (s[0] == '-' || s[n - 1] == '-')
		goto bad;
	return NULL;
bad:
	return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
	       "and must start and end with an alphanumeric character";
}

const char *sw_check_dns1123_subdomain(const char *s)
{
	size_t n = strlen(s);
	if (n == 0)
		return "must not be empty";
	if (n > 253)
		return "must be no more than 253 characters";
	/* [a-z0-9]([-a-z0-9]*[a-z0-9])? parts joined by dots */
	for (size_t i = 0; i < n; i++) {
		bool start = i == 0 || s[i - 1] == '.';
		bool end = i + 1 == n || s[i + 1] == '.';
		if (s[i] == '.') {
			if (start || end)
				goto bad;
			continue;
		}
		if (is_lower_alnum(s[i]))
			continue;
		if (s[i] == '-' && !start && !end)
			continue;
		goto bad;
	}
	return NULL;
bad:
	return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
	       "or '.', and must start and end with an alphanumeric character";
}

const char *sw_check_dns1035_label(const char *s)
{
	const char *m = sw_check_dns1123_label(s);
	if (m && strlen(s) > 0 && strlen(s) <= 63)
		goto bad;
	if (m)
		return m;
	if (!(s[0] >= 'a' && s[0] <= 'z'))
		goto bad;
	return NULL;
bad:
	return "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
	       "an alphabetic character, and end with an alphanumeric character";
}

static const char *check_qualified_name(const char *s, size_t n)
{
	if (n == 0)
		return "name part must be non-empty";
	if (n > 63)
		return "name part must be no more than 63 characters";
	if (!is_alnum(s[0]) || !is_alnum(s[n - 1]))
		goto bad;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			goto bad;
	return NULL;
bad:
	return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start "
	       "and end with an alphanumeric character";
}

const char *sw_check_label_key(const char *s)
{
	const char *slash = strchr(s, '/');
	if (!slash)
		return check_qualified_name(s, strlen(s));
	if (strchr(slash + 1, '/'))
		return "a qualified name must be NAME or PREFIX/NAME";
	char prefix[256];
	size_t pn = (size_t)(slash - s);
	if (pn == 0 || pn >= sizeof(prefix))
		return "prefix part must be a DNS subdomain of at most 253 characters";
	memcpy(prefix, s, pn);
	prefix[pn] = '\0';
	if (sw_check_dns1123_subdomain(prefix))
		return "prefix part must be a lowercase RFC 1123 subdomain";
	return check_qualified_name(slash + 1, strlen(slash + 1));
}

const char *sw_check_label_value(const char *s)
{
	size_t n = strlen(s);
	if (n == 0)
		return NULL;
	if (n > 63)
		return "must be no more than 63 characters";
	if (!is_alnum(s[0]) || !is_alnum(s[n - 1]))
		goto bad;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			goto bad;
	return NULL;
bad:
	return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
	       "or '.', and must start and end with an alphanumeric character";
}

/* ---- base64 ------------------------------------------------------------- */

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

bool sw_base64_valid(const char *s, size_t len)
{
	if (len % 4)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '=') {
			/* padding: only the last one or two characters */
			if (i < len - 2 || (i == len - 2 && s[len - 1] != '='))
				return false;
			continue;
		}
		if (b64val(s[i]) < 0)
			return false;
	}
	return true;
}

char *sw_base64_encode(const void *data, size_t len)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	char *out = sw_xmalloc((len + 2) / 3 * 4 + 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		out[o++] = tbl[(v >> 18) & 63];
		out[o++] = tbl[(v >> 12) & 63];
		out[o++] = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? tbl[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}
