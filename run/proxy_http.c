/*
 * proxy_http.c - the request side of slipway-proxy's L7 mode without any
 * I/O: client requests parsed with http_parser (nodejs/http-parser) into a
 * bounded head and a buffered body, rule and sticky-cookie matching, the
 * request as forwarded to a backend, and the responses the proxy writes
 * itself. The fuzz target drives exactly these functions.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxy_int.h"
#include "slipway/mem.h"

/* ---- head collection --------------------------------------------------- */

void px_head_reset(struct px_head *h)
{
	sw_buf_truncate(&h->raw, 0);
	h->n_hdrs = 0;
	h->url_len = 0;
	h->in_value = false;
	h->too_big = false;
}

void px_head_release(struct px_head *h)
{
	sw_buf_release(&h->raw);
	free(h->hdrs);
	h->hdrs = NULL;
	h->n_hdrs = h->cap_hdrs = 0;
}

static int head_add(struct px_head *h, const char *at, size_t len)
{
	if (sw_buf_add(&h->raw, at, len, NULL) < 0) {
		h->too_big = true;
		return -1;
	}
	return 0;
}

int px_head_url(struct px_head *h, const char *at, size_t len)
{
	if (head_add(h, at, len) < 0)
		return -1;
	h->url_len = (uint32_t)h->raw.len;
	return 0;
}

int px_head_field(struct px_head *h, const char *at, size_t len)
{
	if (h->n_hdrs == 0 || h->in_value) {
		/* a new header: the url (or previous value) ends with a NUL */
		if (head_add(h, "", 1) < 0)
			return -1;
		if (h->n_hdrs == PX_MAX_HEADERS) {
			h->too_big = true;
			return -1;
		}
		if (h->n_hdrs == h->cap_hdrs) {
			h->cap_hdrs = h->cap_hdrs ? h->cap_hdrs * 2 : 16;
			h->hdrs = sw_xreallocarray(h->hdrs, h->cap_hdrs, sizeof(*h->hdrs));
		}
		h->hdrs[h->n_hdrs++] = (struct px_hdr){(uint32_t)h->raw.len, 0, 0, 0};
		h->in_value = false;
	}
	if (head_add(h, at, len) < 0)
		return -1;
	h->hdrs[h->n_hdrs - 1].name_len += (uint32_t)len;
	return 0;
}

int px_head_value(struct px_head *h, const char *at, size_t len)
{
	struct px_hdr *d;

	if (h->n_hdrs == 0)
		return -1;
	d = &h->hdrs[h->n_hdrs - 1];
	if (!h->in_value) {
		if (head_add(h, "", 1) < 0)
			return -1;
		d->value = (uint32_t)h->raw.len;
		h->in_value = true;
	}
	if (head_add(h, at, len) < 0)
		return -1;
	d->value_len += (uint32_t)len;
	return 0;
}

/* Ends the last value with a NUL and trims its trailing blanks. */
static int head_finish(struct px_head *h)
{
	if (head_add(h, "", 1) < 0)
		return -1;
	for (size_t i = 0; i < h->n_hdrs; i++) {
		struct px_hdr *d = &h->hdrs[i];
		if (d->value == 0) /* a field without value */
			d->value = d->name + d->name_len;
		while (d->value_len > 0 && (h->raw.data[d->value + d->value_len - 1] == ' ' ||
					    h->raw.data[d->value + d->value_len - 1] == '\t'))
			d->value_len--;
	}
	return 0;
}

static bool name_is(const struct px_head *h, size_t i, const char *name)
{
	return h->hdrs[i].name_len == strlen(name) &&
	       strncasecmp(px_head_name(h, i), name, h->hdrs[i].name_len) == 0;
}

const char *px_head_get(const struct px_head *h, const char *name, size_t *len)
{
	for (size_t i = 0; i < h->n_hdrs; i++)
		if (name_is(h, i, name)) {
			*len = h->hdrs[i].value_len;
			return px_head_val(h, i);
		}
	return NULL;
}

/* ---- request parser ---------------------------------------------------- */

static struct px_msg *msg_of(http_parser *p)
{
	return p->data;
}

static int on_message_begin(http_parser *p)
{
	struct px_msg *m = msg_of(p);

	m->state = PX_MSG_HEAD;
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	return px_head_url(&msg_of(p)->head, at, len) < 0 ? -1 : 0;
}

static int on_field(http_parser *p, const char *at, size_t len)
{
	return px_head_field(&msg_of(p)->head, at, len) < 0 ? -1 : 0;
}

static int on_value(http_parser *p, const char *at, size_t len)
{
	return px_head_value(&msg_of(p)->head, at, len) < 0 ? -1 : 0;
}

static int on_headers_complete(http_parser *p)
{
	struct px_msg *m = msg_of(p);
	const char *v;
	size_t len;

	if (m->head.url_len == 0 || head_finish(&m->head) < 0)
		return -1;
	if (p->upgrade || p->method == HTTP_CONNECT) {
		m->error = 501;
		return -1;
	}
	m->keep_alive = http_should_keep_alive(p) != 0;
	v = px_head_get(&m->head, "expect", &len);
	m->expect_continue = v && len == 12 && strncasecmp(v, "100-continue", 12) == 0;
	if (p->content_length != ULLONG_MAX && p->content_length > PX_MAX_BODY) {
		m->error = 413;
		return -1;
	}
	m->state = PX_MSG_BODY;
	m->head_done_seen = true;
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct px_msg *m = msg_of(p);

	if (sw_buf_add(&m->body, at, len, NULL) < 0) {
		m->error = 413;
		return -1;
	}
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct px_msg *m = msg_of(p);

	m->state = PX_MSG_DONE;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings request_settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_field,
	.on_header_value = on_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

void px_msg_init(struct px_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->head.raw = (sw_buf)SW_BUF_INIT(PX_MAX_HEADER);
	m->body = (sw_buf)SW_BUF_INIT(PX_MAX_BODY);
	http_parser_init(&m->parser, HTTP_REQUEST);
	m->parser.data = m;
}

void px_msg_next(struct px_msg *m)
{
	px_head_reset(&m->head);
	if (m->body.cap > 64 * 1024)
		sw_buf_release(&m->body);
	sw_buf_truncate(&m->body, 0);
	m->state = PX_MSG_IDLE;
	m->error = 0;
	m->keep_alive = m->expect_continue = m->head_done_seen = false;
	http_parser_pause(&m->parser, 0);
}

void px_msg_release(struct px_msg *m)
{
	px_head_release(&m->head);
	sw_buf_release(&m->body);
}

size_t px_msg_feed(struct px_msg *m, const char *data, size_t len)
{
	size_t n;
	enum http_errno e;

	if (m->state == PX_MSG_DONE || m->state == PX_MSG_ERROR)
		return 0;
	n = http_parser_execute(&m->parser, &request_settings, data, len);
	e = HTTP_PARSER_ERRNO(&m->parser);
	if (e == HPE_OK || e == HPE_PAUSED) {
		if (len == 0 && m->state != PX_MSG_IDLE && m->state != PX_MSG_DONE) {
			m->state = PX_MSG_ERROR; /* EOF inside a request */
			m->error = 400;
		}
		return n;
	}
	m->state = PX_MSG_ERROR;
	if (m->error == 0) {
		if (e == HPE_HEADER_OVERFLOW || m->head.too_big)
			m->error = 431;
		else
			m->error = 400;
	}
	return n;
}

bool px_method_idempotent(unsigned method)
{
	return method == HTTP_GET || method == HTTP_HEAD || method == HTTP_OPTIONS ||
	       method == HTTP_PUT || method == HTTP_DELETE;
}

bool px_method_safe(unsigned method)
{
	return method == HTTP_GET || method == HTTP_HEAD || method == HTTP_OPTIONS;
}

/* ---- matching ---------------------------------------------------------- */

bool px_cookie_find(const char *hdr, size_t len, const char *name, const char **val,
		    size_t *vlen)
{
	size_t nlen = strlen(name), i = 0;

	while (i < len) {
		size_t start, eq, end;
		while (i < len && (hdr[i] == ' ' || hdr[i] == ';' || hdr[i] == '\t'))
			i++;
		start = i;
		while (i < len && hdr[i] != ';')
			i++;
		end = i;
		for (eq = start; eq < end && hdr[eq] != '='; eq++)
			;
		if (eq < end && eq - start == nlen && memcmp(hdr + start, name, nlen) == 0) {
			const char *v = hdr + eq + 1;
			size_t l = end - eq - 1;
			while (l > 0 && (v[l - 1] == ' ' || v[l - 1] == '\t'))
				l--;
			if (l >= 2 && v[0] == '"' && v[l - 1] == '"') {
				v++;
				l -= 2;
			}
			*val = v;
			*vlen = l;
			return true;
		}
	}
	return false;
}

static bool cookie_is(const struct px_msg *m, const char *name, const char *value)
{
	const struct px_head *h = &m->head;

	for (size_t i = 0; i < h->n_hdrs; i++) {
		const char *v;
		size_t vl;
		if (name_is(h, i, "cookie") &&
		    px_cookie_find(px_head_val(h, i), h->hdrs[i].value_len, name, &v, &vl) &&
		    vl == strlen(value) && memcmp(v, value, vl) == 0)
			return true;
	}
	return false;
}

static bool header_is(const struct px_msg *m, const char *name, const char *value)
{
	const struct px_head *h = &m->head;

	for (size_t i = 0; i < h->n_hdrs; i++)
		if (name_is(h, i, name) && h->hdrs[i].value_len == strlen(value) &&
		    memcmp(px_head_val(h, i), value, h->hdrs[i].value_len) == 0)
			return true;
	return false;
}

/* The path of the request target (origin form, or the path of an absolute
 * form), without the query. */
static void url_path(const struct px_msg *m, const char **path, size_t *len)
{
	const char *u = px_msg_url(m);
	size_t ulen = m->head.url_len;
	struct http_parser_url pu;

	*path = u;
	*len = 0;
	if (ulen > 0 && u[0] != '/') {
		http_parser_url_init(&pu);
		if (http_parser_parse_url(u, ulen, 0, &pu) != 0 || !(pu.field_set & (1 << UF_PATH)))
			return;
		*path = u + pu.field_data[UF_PATH].off;
		*len = pu.field_data[UF_PATH].len;
		return;
	}
	while (*len < ulen && u[*len] != '?' && u[*len] != '#')
		(*len)++;
}

static bool rule_matches(const struct sw_proxy_match *r, const struct px_msg *m)
{
	if (r->method && strcmp(r->method, http_method_str((enum http_method)m->parser.method)) != 0)
		return false;
	if (r->path_prefix) {
		const char *p;
		size_t len, plen = strlen(r->path_prefix);
		url_path(m, &p, &len);
		if (len < plen || memcmp(p, r->path_prefix, plen) != 0)
			return false;
	}
	if (r->header_name && !header_is(m, r->header_name, r->header_value))
		return false;
	if (r->cookie_name && !cookie_is(m, r->cookie_name, r->cookie_value))
		return false;
	if (r->user_agent) {
		size_t len;
		const char *ua = px_head_get(&m->head, "user-agent", &len);
		if (!ua || !memmem(ua, len, r->user_agent, strlen(r->user_agent)))
			return false;
	}
	return true;
}

int px_rules_match(const struct sw_proxy_service *s, const struct px_msg *m)
{
	for (size_t i = 0; i < s->n_rules; i++)
		if (rule_matches(&s->rules[i].match, m))
			return (int)s->rules[i].group;
	return -1;
}

int px_sticky_group(const struct sw_proxy_service *s, const struct px_msg *m)
{
	const struct px_head *h = &m->head;

	if (!s->sticky_cookie)
		return -1;
	for (size_t i = 0; i < h->n_hdrs; i++) {
		const char *v;
		size_t vl;
		if (!name_is(h, i, "cookie") ||
		    !px_cookie_find(px_head_val(h, i), h->hdrs[i].value_len, s->sticky_cookie, &v,
				    &vl))
			continue;
		for (size_t g = 0; g < s->n_groups; g++)
			if (strlen(s->groups[g].name) == vl && memcmp(s->groups[g].name, v, vl) == 0)
				return (int)g;
	}
	return -1;
}

/* ---- building requests and responses ----------------------------------- */

static bool hop_by_hop(const struct px_head *h, size_t i)
{
	static const char *const names[] = {"connection", "keep-alive", "proxy-connection",
					     "te", "trailer", "transfer-encoding", "upgrade",
					     "content-length", "expect", "x-slipway-shadow",
					     "x-forwarded-for", NULL};
	for (const char *const *n = names; *n; n++)
		if (name_is(h, i, *n))
			return true;
	return false;
}

void px_build_request(struct evbuffer *out, const struct px_msg *m, const char *client_ip,
		      bool shadow)
{
	const struct px_head *h = &m->head;
	const char *xff = NULL;
	size_t xff_len = 0;
	unsigned method = m->parser.method;

	evbuffer_add_printf(out, "%s ", http_method_str((enum http_method)method));
	evbuffer_add(out, px_msg_url(m), m->head.url_len);
	evbuffer_add(out, " HTTP/1.1\r\n", 11);
	for (size_t i = 0; i < h->n_hdrs; i++) {
		if (name_is(h, i, "x-forwarded-for")) {
			xff = px_head_val(h, i);
			xff_len = h->hdrs[i].value_len;
		}
		if (hop_by_hop(h, i))
			continue;
		evbuffer_add(out, px_head_name(h, i), h->hdrs[i].name_len);
		evbuffer_add(out, ": ", 2);
		evbuffer_add(out, px_head_val(h, i), h->hdrs[i].value_len);
		evbuffer_add(out, "\r\n", 2);
	}
	if (xff)
		evbuffer_add_printf(out, "X-Forwarded-For: %.*s, %s\r\n", (int)xff_len, xff,
				    client_ip);
	else
		evbuffer_add_printf(out, "X-Forwarded-For: %s\r\n", client_ip);
	if (shadow)
		evbuffer_add(out, "X-Slipway-Shadow: 1\r\n", 21);
	if (m->body.len > 0 || method == HTTP_POST || method == HTTP_PUT || method == HTTP_PATCH)
		evbuffer_add_printf(out, "Content-Length: %zu\r\n", m->body.len);
	evbuffer_add(out, "\r\n", 2);
	if (m->body.len > 0)
		evbuffer_add(out, m->body.data, m->body.len);
}

const char *px_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Error";
	}
}

void px_simple_response(struct evbuffer *out, int status, bool close)
{
	const char *reason = px_reason(status);

	evbuffer_add_printf(out,
			    "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			    "%s\r\n%s\n",
			    status, reason, strlen(reason) + 1, close ? "Connection: close\r\n" : "",
			    reason);
}
