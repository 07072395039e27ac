/*
 * release_parse.c - the users' files a release is made from: dotenv files
 * (config vars) and Procfiles (process types), with "FILE:LINE:" errors,
 * and the names they contain. No I/O beyond reading the file.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/path.h"
#include "slipway/release.h"

int sw_app_name_check(const char *app, sw_error **err)
{
	size_t n = strlen(app);

	if (n == 0)
		return sw_error_set(err, SW_EINVALID, "empty app name");
	if (n > 63)
		return sw_error_set(err, SW_EINVALID, "app name '%.63s...' is longer than 63 characters", app);
	/* the CLI's sub-commands: `slipway release show` could not name an app "show" */
	static const char *const reserved[] = { "show", "diff", "export", "import", "rollback", "push", "pull", "set",
	                                        "unset", NULL };
	for (size_t i = 0; reserved[i]; i++)
		if (!strcmp(app, reserved[i]))
			return sw_error_set(err, SW_EINVALID, "app name '%s' is reserved (a sub-command name)", app);
	for (size_t i = 0; i < n; i++) {
		char c = app[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0)))
			return sw_error_set(err, SW_EINVALID,
			                    "invalid app name '%s': use lower-case letters, digits and '-' (not first)", app);
	}
	return 0;
}

static bool key_valid(const char *k, size_t n)
{
	if (n == 0 || n > 255 || isdigit((unsigned char)k[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)k[i]) || k[i] == '_'))
			return false;
	return true;
}

int sw_config_key_check(const char *key, sw_error **err)
{
	if (!key_valid(key, strlen(key)))
		return sw_error_set(err, SW_EINVALID,
		                    "invalid config key '%s': use letters, digits and '_', not starting with a digit", key);
	return 0;
}

static const char *skip_blank(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* The value after '=' on one line [p, end). */
static int env_value(sw_buf *v, const char *what, size_t lineno, const char *p, const char *end, sw_error **err)
{
	p = skip_blank(p, end);
	if (p < end && (*p == '"' || *p == '\'')) {
		char q = *p++;
		for (;; p++) {
			if (p >= end)
				return sw_error_set(err, SW_EINVALID, "%s:%zu: unterminated %s-quoted value", what, lineno,
				                    q == '"' ? "double" : "single");
			if (*p == q)
				break;
			if (q == '"' && *p == '\\' && p + 1 < end) {
				char c = *++p;
				switch (c) {
				case 'n': c = '\n'; break;
				case 't': c = '\t'; break;
				case 'r': c = '\r'; break;
				case '"': case '\\': case '$': break;
				default:
					sw_buf_addc(v, '\\', NULL);
				}
				sw_buf_addc(v, c, NULL);
				continue;
			}
			sw_buf_addc(v, *p, NULL);
		}
		p = skip_blank(p + 1, end);
		if (p < end && *p != '#')
			return sw_error_set(err, SW_EINVALID, "%s:%zu: unexpected text after the closing quote", what,
			                    lineno);
		return 0;
	}
	/* unquoted: up to a " #" comment, trailing blanks dropped */
	const char *e = p;
	while (e < end && !(*e == '#' && (e == p || e[-1] == ' ' || e[-1] == '\t')))
		e++;
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	return sw_buf_add(v, p, (size_t)(e - p), err);
}

int sw_env_parse(json_t **out, const char *what, const char *data, size_t len, sw_error **err)
{
	cleanup_json json_t *env = json_object();
	const char *p = data, *end = data + len;
	size_t lineno = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *k, *ke;
		sw_buf v = { 0 };
		int r;

		lineno++;
		if (le > p && le[-1] == '\r')
			le--;
		if (le > p && memchr(p, '\0', (size_t)(le - p)))
			return sw_error_set(err, SW_EINVALID, "%s:%zu: NUL byte", what, lineno);
		k = skip_blank(p, le);
		p = nl ? nl + 1 : end;
		if (k == le || *k == '#')
			continue;
		if ((size_t)(le - k) > 7 && !strncmp(k, "export", 6) && (k[6] == ' ' || k[6] == '\t'))
			k = skip_blank(k + 7, le);
		ke = k;
		while (ke < le && *ke != '=' && *ke != ' ' && *ke != '\t')
			ke++;
		const char *eq = skip_blank(ke, le);
		if (eq >= le || *eq != '=')
			return sw_error_set(err, SW_EINVALID, "%s:%zu: expected KEY=VALUE", what, lineno);
		if (!key_valid(k, (size_t)(ke - k)))
			return sw_error_set(err, SW_EINVALID,
			                    "%s:%zu: invalid key '%.*s': use letters, digits and '_', not starting with a digit",
			                    what, lineno, (int)(ke - k), k);
		if ((r = env_value(&v, what, lineno, eq + 1, le, err)) < 0) {
			sw_buf_release(&v);
			return r;
		}
		cleanup_free char *key = sw_xstrndup(k, (size_t)(ke - k));
		cleanup_free char *val = sw_buf_detach(&v);
		json_t *jv = json_string(val ? val : "");
		if (!jv)
			return sw_error_set(err, SW_EINVALID, "%s:%zu: the value of %s is not valid UTF-8", what, lineno, key);
		json_object_set_new(env, key, jv);
	}
	*out = steal_pointer(&env);
	return 0;
}

int sw_env_parse_file(json_t **out, const char *path, sw_error **err)
{
	cleanup_free char *data = NULL;
	size_t len = 0;
	int r;

	if ((r = sw_read_file(&data, &len, path, SW_ENV_FILE_MAX, err)) < 0)
		return sw_error_wrap(err, "env file");
	return sw_env_parse(out, path, data, len, err);
}

int sw_procfile_parse(json_t **out, const char *what, const char *data, size_t len, sw_error **err)
{
	cleanup_json json_t *procs = json_object();
	const char *p = data, *end = data + len;
	size_t lineno = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *n, *ne, *c;

		lineno++;
		if (le > p && le[-1] == '\r')
			le--;
		if (le > p && memchr(p, '\0', (size_t)(le - p)))
			return sw_error_set(err, SW_EINVALID, "%s:%zu: NUL byte", what, lineno);
		n = skip_blank(p, le);
		p = nl ? nl + 1 : end;
		if (n == le || *n == '#')
			continue;
		ne = n;
		while (ne < le && (isalnum((unsigned char)*ne) || *ne == '_' || *ne == '-'))
			ne++;
		if (ne == n || ne >= le || *ne != ':')
			return sw_error_set(err, SW_EINVALID, "%s:%zu: expected 'name: command'", what, lineno);
		c = skip_blank(ne + 1, le);
		const char *ce = le;
		while (ce > c && (ce[-1] == ' ' || ce[-1] == '\t'))
			ce--;
		if (c == ce)
			return sw_error_set(err, SW_EINVALID, "%s:%zu: process type '%.*s' has no command", what, lineno,
			                    (int)(ne - n), n);
		cleanup_free char *name = sw_xstrndup(n, (size_t)(ne - n));
		if (json_object_get(procs, name))
			return sw_error_set(err, SW_EINVALID, "%s:%zu: process type '%s' given twice", what, lineno, name);
		json_t *jc = json_stringn(c, (size_t)(ce - c));
		if (!jc)
			return sw_error_set(err, SW_EINVALID, "%s:%zu: the command of %s is not valid UTF-8", what, lineno, name);
		json_object_set_new(procs, name, jc);
	}
	*out = steal_pointer(&procs);
	return 0;
}

int sw_procfile_parse_file(json_t **out, const char *path, sw_error **err)
{
	cleanup_free char *data = NULL;
	size_t len = 0;
	int r;

	if ((r = sw_read_file(&data, &len, path, SW_PROCFILE_MAX, err)) < 0)
		return sw_error_wrap(err, "procfile");
	return sw_procfile_parse(out, path, data, len, err);
}
