/*
 * registry_http.c - HTTP for the registry client: libcurl requests, auth
 * challenges (Basic; Bearer with a token from the realm) and credentials
 * (SLIPWAY_REGISTRY_AUTH, docker config.json).
 *
 * Credentials and tokens live only in this file's client struct and in the
 * Authorization header; they are never logged or put in errors. Not here:
 * what the requests mean (registry.c).
 */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "registry_int.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/log.h"
#include "slipway/mem.h"
#include "slipway/registry.h"

#define TOKEN_BODY_MAX (1u << 20)
#define ERROR_BODY_MAX (64u << 10)

struct reg_client {
	CURL *curl;
	char *host;
	char *base;  /* "https://host" */
	char *creds; /* "user:password" or NULL: secret */
	char *auth;  /* the Authorization header to send, or NULL: secret */
};

/* ---- base64 ------------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *reg_base64_encode(const void *data, size_t len)
{
	const unsigned char *p = data;
	char *out = sw_xmalloc(4 * ((len + 2) / 3) + 1), *o = out;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		*o++ = b64[(v >> 18) & 63];
		*o++ = b64[(v >> 12) & 63];
		*o++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? b64[v & 63] : '=';
	}
	*o = 0;
	return out;
}

int reg_base64_decode(char **out, const char *s)
{
	size_t n = strlen(s);
	cleanup_free char *buf = sw_xmalloc(n / 4 * 3 + 4);
	size_t o = 0, bits = 0;
	unsigned v = 0;

	for (size_t i = 0; i < n; i++) {
		const char *q;
		if (s[i] == '=')
			break;
		if (!s[i] || !(q = strchr(b64, s[i])))
			return -1;
		v = (v << 6) | (unsigned)(q - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (char)((v >> bits) & 0xff);
		}
	}
	buf[o] = 0;
	if (memchr(buf, 0, o))
		return -1;
	*out = steal_pointer(&buf);
	return 0;
}

/* ---- credentials -------------------------------------------------------- */

/* host[:port] with a numeric port */
static bool looks_like_host(const char *s, size_t n)
{
	size_t i = 0;

	if (!n)
		return false;
	while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '.' || s[i] == '-'))
		i++;
	if (!i)
		return false;
	if (i == n)
		return true;
	if (s[i] != ':' || i + 1 == n)
		return false;
	for (i++; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static char *creds_from_env(const char *host)
{
	const char *env = getenv("SLIPWAY_REGISTRY_AUTH");
	const char *eq;

	if (!env || !*env)
		return NULL;
	eq = strchr(env, '=');
	if (!eq || !looks_like_host(env, (size_t)(eq - env)))
		return strchr(env, ':') ? sw_xstrdup(env) : NULL;
	/* host=user:password[,host=user:password...] */
	for (const char *p = env; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *e = memchr(p, '=', len);
		if (e && (size_t)(e - p) == strlen(host) && !strncmp(p, host, strlen(host)))
			return sw_xstrndup(e + 1, len - (size_t)(e - p) - 1);
		p += len;
		if (*p == ',')
			p++;
	}
	return NULL;
}

static bool config_key_matches(const char *key, const char *host)
{
	size_t n = strlen(host);

	if (!strncmp(key, "https://", 8))
		key += 8;
	else if (!strncmp(key, "http://", 7))
		key += 7;
	if (!strcmp(host, SW_REGISTRY_DOCKER_HUB_API) && !strncmp(key, "index.docker.io", 15))
		return true;
	return !strncmp(key, host, n) && (!key[n] || key[n] == '/');
}

static char *creds_from_docker_config(const char *host)
{
	const char *dir = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
	cleanup_free char *path = NULL;
	cleanup_json json_t *doc = NULL;
	sw_error *e = NULL;
	json_t *auths, *v;
	const char *key;

	if (dir && *dir)
		path = sw_xasprintf("%s/config.json", dir);
	else if (home && *home)
		path = sw_xasprintf("%s/.docker/config.json", home);
	else
		return NULL;
	if (access(path, R_OK) < 0)
		return NULL;
	if (sw_json_load_file(&doc, path, 1u << 20, &e) < 0) {
		/* the error names the file and the JSON position, not its content */
		sw_log_error(e, "ignoring docker config");
		sw_error_free(e);
		return NULL;
	}
	auths = json_object_get(doc, "auths");
	json_object_foreach(auths, key, v) {
		const char *a = json_string_value(json_object_get(v, "auth"));
		char *out = NULL;
		if (!a || !config_key_matches(key, host))
			continue;
		if (reg_base64_decode(&out, a) < 0 || !strchr(out, ':')) {
			free(out);
			sw_warn("%s: auths.%s.auth is not base64 of user:password", path, key);
			continue;
		}
		return out;
	}
	return NULL;
}

char *reg_credentials_for(const char *host)
{
	char *c = creds_from_env(host);
	return c ? c : creds_from_docker_config(host);
}

/* ---- client ------------------------------------------------------------- */

int reg_client_new(struct reg_client **out, const char *host, bool insecure, sw_error **err)
{
	static bool inited;
	struct reg_client *c;

	if (!inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return sw_error_set(err, SW_EFAIL, "libcurl initialisation failed");
		inited = true;
	}
	c = sw_xcalloc(1, sizeof(*c));
	if (!(c->curl = curl_easy_init())) {
		free(c);
		return sw_error_set(err, SW_EFAIL, "libcurl initialisation failed");
	}
	c->host = sw_xstrdup(host);
	c->base = sw_xasprintf("%s://%s", insecure ? "http" : "https", host);
	c->creds = reg_credentials_for(host);
	*out = c;
	return 0;
}

static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void reg_client_free(struct reg_client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	free(c->host);
	free(c->base);
	free_secret(c->creds);
	free_secret(c->auth);
	free(c);
}

const char *reg_client_host(const struct reg_client *c)
{
	return c->host;
}

char *reg_client_url(const struct reg_client *c, const char *p)
{
	if (!strncmp(p, "http://", 7) || !strncmp(p, "https://", 8))
		return sw_xstrdup(p);
	return sw_xasprintf("%s%s%s", c->base, *p == '/' ? "" : "/", p);
}

/* ---- one request -------------------------------------------------------- */

void reg_resp_release(struct reg_resp *r)
{
	free(r->location);
	free(r->digest);
	free(r->content_type);
	free(r->www_auth);
	r->location = r->digest = r->content_type = r->www_auth = NULL;
	sw_buf_release(&r->body);
	sw_error_clear(&r->sink_err);
	r->status = 0;
	r->transport_error = false;
}

struct xfer {
	CURL *curl;
	struct reg_resp *resp;
	struct reg_body *body;
	bool overflow;
};

static size_t on_header(char *p, size_t size, size_t n, void *payload)
{
	struct xfer *x = payload;
	size_t len = size * n, klen;
	const char *colon;
	char **slot = NULL;

	if (len >= 5 && !strncmp(p, "HTTP/", 5)) {
		/* a new response (after a redirect or 100): forget the last one's */
		free(x->resp->location);
		free(x->resp->digest);
		free(x->resp->content_type);
		free(x->resp->www_auth);
		x->resp->location = x->resp->digest = x->resp->content_type = x->resp->www_auth = NULL;
		return len;
	}
	if (!(colon = memchr(p, ':', len)))
		return len;
	klen = (size_t)(colon - p);
	if (klen == 8 && !strncasecmp(p, "location", 8))
		slot = &x->resp->location;
	else if (klen == 21 && !strncasecmp(p, "docker-content-digest", 21))
		slot = &x->resp->digest;
	else if (klen == 12 && !strncasecmp(p, "content-type", 12))
		slot = &x->resp->content_type;
	else if (klen == 16 && !strncasecmp(p, "www-authenticate", 16))
		slot = &x->resp->www_auth;
	if (slot) {
		const char *v = colon + 1, *end = p + len;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
			end--;
		free(*slot);
		*slot = sw_xstrndup(v, (size_t)(end - v));
	}
	return len;
}

static size_t on_data(char *p, size_t size, size_t n, void *payload)
{
	struct xfer *x = payload;
	struct reg_resp *r = x->resp;
	size_t len = size * n;
	long code = 0;

	curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 200 && code < 300 && r->sink) {
		if (sw_blob_writer_size(r->sink) + (int64_t)len > r->sink_max) {
			x->overflow = true;
			return 0;
		}
		if (sw_blob_writer_write(r->sink, p, len, &r->sink_err) < 0)
			return 0;
		return len;
	}
	if (code >= 200 && code < 300) {
		sw_error *e = NULL;
		if (sw_buf_add(&r->body, p, len, &e) < 0) {
			sw_error_free(e);
			x->overflow = true;
			return 0;
		}
		return len;
	}
	/* error bodies: keep the start for the message */
	if (r->body.len < ERROR_BODY_MAX) {
		sw_error *e = NULL;
		size_t room = ERROR_BODY_MAX - r->body.len;
		if (sw_buf_add(&r->body, p, len < room ? len : room, &e) < 0)
			sw_error_free(e);
	}
	return len;
}

static size_t on_read(char *p, size_t size, size_t n, void *payload)
{
	struct reg_body *b = payload;
	size_t want = size * n;
	int64_t left = b->len - b->pos;

	if (left <= 0)
		return 0;
	if ((int64_t)want > left)
		want = (size_t)left;
	if (b->data) {
		memcpy(p, b->data + b->pos, want);
	} else {
		ssize_t got = pread(b->fd, p, want, b->off + b->pos);
		if (got <= 0)
			return CURL_READFUNC_ABORT;
		want = (size_t)got;
	}
	b->pos += (int64_t)want;
	return want;
}

static int send_once(struct reg_client *c, const char *method, const char *url, const char *const *headers,
                     struct reg_body *body, struct reg_resp *resp, size_t body_max, sw_error **err)
{
	struct curl_slist *hl = NULL;
	struct xfer x = { c->curl, resp, body, false };
	struct reg_body empty = { NULL, -1, 0, 0, 0 }; /* no static state: a daemon may push from threads */
	CURL *h = c->curl;
	CURLcode rc;
	int r = 0;

	reg_resp_release(resp);
	resp->body = (sw_buf)SW_BUF_INIT(body_max);
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "slipway");
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
	if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(method, "GET")) {
		/* blob GETs are redirected to storage; curl drops our Authorization
		 * header when the host changes */
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	} else {
		struct reg_body *b = body ? body : &empty;
		b->pos = 0;
		x.body = b;
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, b);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)b->len);
		hl = curl_slist_append(hl, "Expect:");
	}
	for (size_t i = 0; headers && headers[i]; i++)
		hl = curl_slist_append(hl, headers[i]);
	if (c->auth)
		hl = curl_slist_append(hl, c->auth);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);

	rc = curl_easy_perform(h);
	curl_slist_free_all(hl);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	if (rc != CURLE_OK) {
		resp->transport_error = true;
		if (resp->sink_err) {
			r = sw_error_set(err, sw_error_code(resp->sink_err), "%s %s: %s", method, url,
			                 resp->sink_err->msg ? resp->sink_err->msg : "write failed");
		} else if (x.overflow) {
			resp->transport_error = false;
			r = sw_error_set(err, SW_ETOOBIG, "%s %s: the response is larger than expected", method, url);
		} else {
			r = sw_error_set(err, SW_EFAIL, "%s %s: %s", method, url, curl_easy_strerror(rc));
		}
	}
	return r;
}

/* Bearer realm="https://auth/token",service="registry",scope="repository:x:pull" */
static char *challenge_param(const char *ch, const char *key)
{
	size_t klen = strlen(key);
	const char *p = ch;

	while ((p = strcasestr(p, key))) {
		const char *v = p + klen;
		if ((p == ch || p[-1] == ' ' || p[-1] == ',') && *v == '=') {
			v++;
			if (*v == '"') {
				const char *end = strchr(++v, '"');
				return end ? sw_xstrndup(v, (size_t)(end - v)) : NULL;
			}
			return sw_xstrndup(v, strcspn(v, ", "));
		}
		p += klen;
	}
	return NULL;
}

static void set_auth(struct reg_client *c, const char *scheme, const char *value)
{
	free_secret(c->auth);
	c->auth = sw_xasprintf("Authorization: %s %s", scheme, value);
}

static int fetch_token(struct reg_client *c, const char *challenge, sw_error **err)
{
	cleanup_free char *realm = challenge_param(challenge, "realm");
	cleanup_free char *service = challenge_param(challenge, "service");
	cleanup_free char *scope = challenge_param(challenge, "scope");
	cleanup_json json_t *doc = NULL;
	cleanup_free char *url = NULL;
	struct reg_resp resp = { 0 };
	sw_buf u = SW_BUF_INIT(0);
	const char *tok;
	char sep = '?';
	int r;

	if (!realm || (strncmp(realm, "https://", 8) && strncmp(realm, "http://", 7)))
		return sw_error_set(err, SW_EINVALID, "registry %s: bearer challenge without a usable realm", c->host);
	sw_buf_addstr(&u, realm, NULL);
	if (strchr(realm, '?'))
		sep = '&';
	if (service) {
		char *e = curl_easy_escape(c->curl, service, 0);
		sw_buf_printf(&u, NULL, "%cservice=%s", sep, e);
		curl_free(e);
		sep = '&';
	}
	if (scope) {
		char *e = curl_easy_escape(c->curl, scope, 0);
		sw_buf_printf(&u, NULL, "%cscope=%s", sep, e);
		curl_free(e);
	}
	url = sw_buf_detach(&u);

	free_secret(c->auth);
	c->auth = NULL;
	/* credentials go in clear text only where the registry itself is
	 * plain HTTP (--insecure) */
	if (c->creds && !strncmp(realm, "http://", 7) && strncmp(c->base, "http://", 7))
		return sw_error_set(err, SW_EINVALID, "registry %s: refusing to send credentials to plain-HTTP token realm %s",
		                    c->host, realm);
	if (c->creds) {
		char *enc = reg_base64_encode(c->creds, strlen(c->creds));
		set_auth(c, "Basic", enc);
		free_secret(enc);
	}
	r = send_once(c, "GET", url, NULL, NULL, &resp, TOKEN_BODY_MAX, err);
	free_secret(c->auth);
	c->auth = NULL;
	if (r < 0) {
		reg_resp_release(&resp);
		return sw_error_wrap(err, "registry %s: getting a token", c->host);
	}
	if (resp.status != 200) {
		long st = resp.status;
		reg_resp_release(&resp);
		return sw_error_set(err, SW_EFAIL, "registry %s: authentication failed: token server %s answered HTTP %ld%s",
		                    c->host, realm, st, c->creds ? "" : " (no credentials for this registry)");
	}
	r = sw_json_loadb(&doc, "token response", resp.body.data ? resp.body.data : "", resp.body.len, err);
	reg_resp_release(&resp);
	if (r < 0)
		return sw_error_wrap(err, "registry %s", c->host);
	tok = json_string_value(json_object_get(doc, "token"));
	if (!tok || !*tok)
		tok = json_string_value(json_object_get(doc, "access_token"));
	if (!tok || !*tok)
		return sw_error_set(err, SW_EINVALID, "registry %s: token response without a token", c->host);
	set_auth(c, "Bearer", tok);
	return 0;
}

int reg_request(struct reg_client *c, const char *method, const char *url, const char *const *headers,
                struct reg_body *body, struct reg_resp *resp, size_t body_max, sw_error **err)
{
	for (int attempt = 0;; attempt++) {
		cleanup_free char *ch = NULL;

		if (send_once(c, method, url, headers, body, resp, body_max, err) < 0)
			return sw_error_code(*err);
		if (resp->status != 401)
			return 0;
		if (attempt > 0 || !resp->www_auth)
			return sw_error_set(err, SW_EFAIL, "registry %s: authentication failed (HTTP 401 on %s)%s", c->host,
			                    method, c->creds ? "" : "; no credentials for this registry in "
			                                           "SLIPWAY_REGISTRY_AUTH or docker config.json");
		ch = steal_pointer(&resp->www_auth);
		if (!strncasecmp(ch, "Bearer ", 7)) {
			if (fetch_token(c, ch, err) < 0)
				return sw_error_code(*err);
		} else if (!strncasecmp(ch, "Basic", 5)) {
			char *enc;
			if (!c->creds)
				return sw_error_set(err, SW_EFAIL, "registry %s: authentication required (basic) and no "
				                    "credentials in SLIPWAY_REGISTRY_AUTH or docker config.json", c->host);
			enc = reg_base64_encode(c->creds, strlen(c->creds));
			set_auth(c, "Basic", enc);
			free_secret(enc);
		} else {
			return sw_error_set(err, SW_EFAIL, "registry %s: unsupported authentication scheme", c->host);
		}
	}
}

char *reg_resp_describe(const struct reg_resp *r)
{
	cleanup_json json_t *doc = NULL;
	json_t *e0;

	if (r->body.len && r->body.data && (doc = json_loadb(r->body.data, r->body.len, 0, NULL)) &&
	    (e0 = json_array_get(json_object_get(doc, "errors"), 0))) {
		const char *code = json_string_value(json_object_get(e0, "code"));
		const char *msg = json_string_value(json_object_get(e0, "message"));
		return sw_xasprintf("HTTP %ld (%s%s%s)", r->status, code ? code : "", code && msg ? ": " : "",
		                    msg ? msg : "");
	}
	return sw_xasprintf("HTTP %ld", r->status);
}
