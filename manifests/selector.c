/*
 * selector.c - label selectors: parsing the string and object forms into
 * one list of requirements, matching labels against it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/mem.h"
#include "slipway/selector.h"

enum op { OP_EQ, OP_NEQ, OP_IN, OP_NOTIN, OP_EXISTS, OP_NOTEXISTS };

struct req {
	char *key;
	enum op op;
	char **values;   /* NULL-terminated */
	size_t nvalues;
};

struct sw_selector {
	struct req *reqs;
	size_t n, cap;
};

static sw_selector *selector_new(void)
{
	return sw_xcalloc(1, sizeof(sw_selector));
}

static struct req *add_req(sw_selector *s, const char *key, size_t keylen, enum op op)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4;
		s->reqs = sw_xreallocarray(s->reqs, s->cap, sizeof(*s->reqs));
	}
	struct req *r = &s->reqs[s->n++];
	memset(r, 0, sizeof(*r));
	r->key = sw_xstrndup(key, keylen);
	r->op = op;
	return r;
}

static void add_value(struct req *r, const char *v, size_t len)
{
	r->values = sw_xreallocarray(r->values, r->nvalues + 2, sizeof(char *));
	r->values[r->nvalues++] = sw_xstrndup(v, len);
	r->values[r->nvalues] = NULL;
}

void sw_selector_free(sw_selector *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->reqs[i].key);
		for (size_t j = 0; j < s->reqs[i].nvalues; j++)
			free(s->reqs[i].values[j]);
		free(s->reqs[i].values);
	}
	free(s->reqs);
	free(s);
}

static void selector_cleanup(sw_selector **s)
{
	sw_selector_free(*s);
}
#define cleanup_selector __attribute__((cleanup(selector_cleanup)))

/* Label keys: [prefix/]name, name 1-63 of [A-Za-z0-9._-] starting and
 * ending alphanumeric; the prefix a DNS subdomain. Checked loosely on the
 * characters, strictly on emptiness and length. */
static bool key_ok(const char *k, size_t len)
{
	if (len == 0 || len > 253 + 1 + 63)
		return false;
	const char *slash = memchr(k, '/', len);
	const char *name = slash ? slash + 1 : k;
	size_t nlen = len - (size_t)(name - k);
	if (nlen == 0 || nlen > 63 || (slash && slash == k))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)k[i];
		if (!isalnum(c) && c != '.' && c != '-' && c != '_' && c != '/')
			return false;
		if (c == '/' && k + i != slash)
			return false;
	}
	return isalnum((unsigned char)name[0]) && isalnum((unsigned char)name[nlen - 1]);
}

static bool value_ok(const char *v, size_t len)
{
	if (len > 63)
		return false;
	if (len == 0)
		return true;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		if (!isalnum(c) && c != '.' && c != '-' && c != '_')
			return false;
	}
	return isalnum((unsigned char)v[0]) && isalnum((unsigned char)v[len - 1]);
}

static void skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

static size_t word_len(const char *p)
{
	size_t n = 0;
	while (p[n] && !strchr(" \t,=!()", p[n]))
		n++;
	return n;
}

static int bad(sw_error **err, const char *text, const char *at, const char *why)
{
	return sw_error_set(err, SW_EINVALID, "label selector \"%s\": %s at offset %zu", text, why,
	                    (size_t)(at - text));
}

/* "(a, b ,c)" after in/notin */
static int parse_set(const char *text, const char **pp, struct req *r, sw_error **err)
{
	const char *p = *pp;
	skip_ws(&p);
	if (*p != '(')
		return bad(err, text, p, "expected '(' after in/notin");
	p++;
	for (;;) {
		skip_ws(&p);
		size_t n = word_len(p);
		if (!value_ok(p, n))
			return bad(err, text, p, "invalid label value");
		if (n)
			add_value(r, p, n);
		p += n;
		skip_ws(&p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == ')') {
			p++;
			break;
		}
		return bad(err, text, p, "expected ',' or ')' in a value set");
	}
	if (r->nvalues == 0)
		return bad(err, text, p, "a value set must not be empty");
	*pp = p;
	return 0;
}

int sw_selector_parse(sw_selector **out, const char *text, sw_error **err)
{
	cleanup_selector sw_selector *s = selector_new();
	const char *p = text ? text : "";
	skip_ws(&p);
	while (*p) {
		bool neg = false;
		if (*p == '!') {
			neg = true;
			p++;
			skip_ws(&p);
		}
		const char *key = p;
		size_t klen = word_len(p);
		if (!key_ok(key, klen))
			return bad(err, text, key, "invalid label key");
		p += klen;
		skip_ws(&p);
		struct req *r;
		if (neg) {
			add_req(s, key, klen, OP_NOTEXISTS);
		} else if (*p == '=' || (*p == '!' && p[1] == '=')) {
			enum op op = *p == '!' ? OP_NEQ : OP_EQ;
			p += (*p == '!' || p[1] == '=') ? 2 : 1;
			skip_ws(&p);
			size_t vlen = word_len(p);
			if (!value_ok(p, vlen))
				return bad(err, text, p, "invalid label value");
			r = add_req(s, key, klen, op);
			add_value(r, p, vlen);
			p += vlen;
		} else if (strncmp(p, "in", 2) == 0 && (p[2] == ' ' || p[2] == '(')) {
			p += 2;
			r = add_req(s, key, klen, OP_IN);
			if (parse_set(text, &p, r, err) < 0)
				return SW_EINVALID;
		} else if (strncmp(p, "notin", 5) == 0 && (p[5] == ' ' || p[5] == '(')) {
			p += 5;
			r = add_req(s, key, klen, OP_NOTIN);
			if (parse_set(text, &p, r, err) < 0)
				return SW_EINVALID;
		} else {
			add_req(s, key, klen, OP_EXISTS);
		}
		skip_ws(&p);
		if (*p == ',') {
			p++;
			skip_ws(&p);
			if (!*p)
				return bad(err, text, p, "a requirement must follow ','");
		} else if (*p) {
			return bad(err, text, p, "unexpected character");
		}
	}
	*out = steal_pointer(&s);
	return 0;
}

static int from_values(struct req *r, const json_t *vals, const char *where, sw_error **err)
{
	size_t i;
	json_t *v;
	json_array_foreach(vals, i, v) {
		const char *sv = json_string_value(v);
		if (!sv || !value_ok(sv, strlen(sv)))
			return sw_error_set(err, SW_EINVALID, "%s.values[%zu]: invalid label value", where, i);
		add_value(r, sv, strlen(sv));
	}
	return 0;
}

int sw_selector_from_json(sw_selector **out, const json_t *sel, bool plain, sw_error **err)
{
	cleanup_selector sw_selector *s = selector_new();
	const json_t *labels = plain ? sel : json_object_get(sel, "matchLabels");
	if (sel && !json_is_object(sel))
		return sw_error_set(err, SW_EINVALID, "selector: must be an object");
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)labels, k, v) {
		const char *sv = json_string_value(v);
		if (!key_ok(k, strlen(k)))
			return sw_error_set(err, SW_EINVALID, "matchLabels: invalid label key \"%s\"", k);
		if (!sv || !value_ok(sv, strlen(sv)))
			return sw_error_set(err, SW_EINVALID, "matchLabels.%s: invalid label value", k);
		add_value(add_req(s, k, strlen(k), OP_EQ), sv, strlen(sv));
	}
	if (!plain) {
		size_t i;
		json_t *e;
		json_array_foreach(json_object_get(sel, "matchExpressions"), i, e) {
			char where[64];
			snprintf(where, sizeof(where), "matchExpressions[%zu]", i);
			const char *key = json_string_value(json_object_get(e, "key"));
			const char *op = json_string_value(json_object_get(e, "operator"));
			const json_t *vals = json_object_get(e, "values");
			if (!key || !key_ok(key, strlen(key)))
				return sw_error_set(err, SW_EINVALID, "%s.key: invalid label key", where);
			size_t nv = json_array_size(vals);
			struct req *r;
			if (op && (strcmp(op, "In") == 0 || strcmp(op, "NotIn") == 0)) {
				if (nv == 0)
					return sw_error_set(err, SW_EINVALID,
					                    "%s.values: must be specified when `operator` is 'In' or 'NotIn'",
					                    where);
				r = add_req(s, key, strlen(key), op[0] == 'I' ? OP_IN : OP_NOTIN);
				if (from_values(r, vals, where, err) < 0)
					return SW_EINVALID;
			} else if (op && (strcmp(op, "Exists") == 0 || strcmp(op, "DoesNotExist") == 0)) {
				if (nv != 0)
					return sw_error_set(err, SW_EINVALID,
					                    "%s.values: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
					                    where);
				add_req(s, key, strlen(key), op[0] == 'E' ? OP_EXISTS : OP_NOTEXISTS);
			} else {
				return sw_error_set(err, SW_EINVALID,
				                    "%s.operator: Unsupported value: \"%s\": supported values: \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\"",
				                    where, op ? op : "");
			}
		}
	}
	*out = steal_pointer(&s);
	return 0;
}

static bool has_value(const struct req *r, const char *v)
{
	for (size_t i = 0; i < r->nvalues; i++)
		if (strcmp(r->values[i], v) == 0)
			return true;
	return false;
}

bool sw_selector_matches(const sw_selector *s, const json_t *labels)
{
	for (size_t i = 0; s && i < s->n; i++) {
		const struct req *r = &s->reqs[i];
		const char *v = json_string_value(json_object_get(labels, r->key));
		switch (r->op) {
		case OP_EQ:
		case OP_IN:
			if (!v || !has_value(r, v))
				return false;
			break;
		case OP_NEQ:
		case OP_NOTIN:
			if (v && has_value(r, v))
				return false;
			break;
		case OP_EXISTS:
			if (!v)
				return false;
			break;
		case OP_NOTEXISTS:
			if (v)
				return false;
			break;
		}
	}
	return true;
}

bool sw_selector_empty(const sw_selector *s)
{
	return !s || s->n == 0;
}

char *sw_selector_string(const sw_selector *s)
{
	sw_buf b = SW_BUF_INIT(0);
	for (size_t i = 0; s && i < s->n; i++) {
		const struct req *r = &s->reqs[i];
		if (i)
			sw_buf_addc(&b, ',', NULL);
		switch (r->op) {
		case OP_EQ:
			sw_buf_printf(&b, NULL, "%s=%s", r->key, r->values[0]);
			break;
		case OP_NEQ:
			sw_buf_printf(&b, NULL, "%s!=%s", r->key, r->values[0]);
			break;
		case OP_IN:
		case OP_NOTIN:
			sw_buf_printf(&b, NULL, "%s %s (", r->key, r->op == OP_IN ? "in" : "notin");
			for (size_t j = 0; j < r->nvalues; j++)
				sw_buf_printf(&b, NULL, "%s%s", j ? "," : "", r->values[j]);
			sw_buf_addc(&b, ')', NULL);
			break;
		case OP_EXISTS:
			sw_buf_addstr(&b, r->key, NULL);
			break;
		case OP_NOTEXISTS:
			sw_buf_printf(&b, NULL, "!%s", r->key);
			break;
		}
	}
	char *str = sw_buf_detach(&b);
	return str ? str : sw_xstrdup("");
}
