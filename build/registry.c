/*
 * registry.c - push and pull over the OCI distribution API: references,
 * blob existence checks, mounts, monolithic and chunked uploads, manifests
 * by tag or digest, indexes resolved to linux/amd64.
 *
 * Every digest the registry tells us (Docker-Content-Digest) is compared
 * with what we sent or received; pulled blobs go through the store's
 * verified writer. Not here: HTTP and auth (registry_http.c).
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_store_int.h"
#include "registry_int.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/log.h"
#include "slipway/mem.h"
#include "slipway/registry.h"

#define SW_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MANIFEST_ACCEPT \
	"Accept: " SW_MT_OCI_MANIFEST ", " SW_MT_DOCKER_MANIFEST ", " SW_MT_OCI_INDEX ", " SW_MT_DOCKER_LIST
#define BLOB_TRIES 3

/* ---- references --------------------------------------------------------- */

static bool is_host(const char *s, size_t n)
{
	return memchr(s, '.', n) || memchr(s, ':', n) || (n == 9 && !strncmp(s, "localhost", 9));
}

bool sw_registry_ref_has_host(const char *ref)
{
	const char *slash = strchr(ref, '/');
	return slash && is_host(ref, (size_t)(slash - ref));
}

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '/';
}

void sw_registry_ref_release(sw_registry_ref *r)
{
	free(r->host);
	free(r->name);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}

int sw_registry_ref_parse(sw_registry_ref *out, const char *ref, sw_error **err)
{
	cleanup_free char *rest = NULL;
	sw_registry_ref r = { 0 };
	const char *slash = strchr(ref, '/');
	char *at, *colon, *lastslash;

	memset(out, 0, sizeof(*out));
	if (!*ref)
		return sw_error_set(err, SW_EINVALID, "empty image reference");
	if (slash && is_host(ref, (size_t)(slash - ref))) {
		r.host = sw_xstrndup(ref, (size_t)(slash - ref));
		rest = sw_xstrdup(slash + 1);
	} else {
		r.host = sw_xstrdup(SW_REGISTRY_DOCKER_HUB);
		rest = sw_xstrdup(ref);
	}
	if ((at = strchr(rest, '@'))) {
		*at = 0;
		if (!sw_digest_valid(at + 1)) {
			sw_registry_ref_release(&r);
			return sw_error_set(err, SW_EINVALID, "image reference %s: bad digest '%s'", ref, at + 1);
		}
		r.digest = sw_xstrdup(at + 1);
	}
	lastslash = strrchr(rest, '/');
	if ((colon = strchr(lastslash ? lastslash : rest, ':'))) {
		*colon = 0;
		r.tag = sw_xstrdup(colon + 1);
		if (!*r.tag || strlen(r.tag) > 128) {
			sw_registry_ref_release(&r);
			return sw_error_set(err, SW_EINVALID, "image reference %s: bad tag", ref);
		}
		for (const char *p = r.tag; *p; p++)
			if (!(name_char_ok(*p) && *p != '/') && !(*p >= 'A' && *p <= 'Z')) {
				sw_registry_ref_release(&r);
				return sw_error_set(err, SW_EINVALID, "image reference %s: bad tag", ref);
			}
	}
	if (!*rest || rest[0] == '/' || rest[strlen(rest) - 1] == '/' || strstr(rest, "//")) {
		sw_registry_ref_release(&r);
		return sw_error_set(err, SW_EINVALID, "image reference %s: bad repository name", ref);
	}
	for (const char *p = rest; *p; p++)
		if (!name_char_ok(*p)) {
			sw_registry_ref_release(&r);
			return sw_error_set(err, SW_EINVALID,
			                    "image reference %s: repository names are lower case letters, digits and ._-/", ref);
		}
	if (!strcmp(r.host, SW_REGISTRY_DOCKER_HUB) && !strchr(rest, '/'))
		r.name = sw_xasprintf("library/%s", rest);
	else
		r.name = steal_pointer(&rest);
	if (!r.tag && !r.digest)
		r.tag = sw_xstrdup("latest");
	*out = r;
	return 0;
}

/* ---- shared ------------------------------------------------------------- */

struct ctx {
	sw_image_store *store;
	struct reg_client *c;
	const char *name;
	const sw_registry_opts *opts;
	int64_t chunk;
	sw_push_result *res;
};

static void client_freep(struct reg_client **c)
{
	reg_client_free(*c);
}
#define cleanup_client __attribute__((cleanup(client_freep)))

static void resp_releasep(struct reg_resp *r)
{
	reg_resp_release(r);
}
#define cleanup_resp __attribute__((cleanup(resp_releasep)))

static void refp(sw_registry_ref *r)
{
	sw_registry_ref_release(r);
}
#define cleanup_ref __attribute__((cleanup(refp)))

static const char *api_host(const char *host)
{
	return !strcmp(host, SW_REGISTRY_DOCKER_HUB) ? SW_REGISTRY_DOCKER_HUB_API : host;
}

static int status_error(const struct reg_resp *r, const char *what, sw_error **err)
{
	cleanup_free char *d = reg_resp_describe(r);
	return sw_error_set(err, r->status == 404 ? SW_ENOTFOUND : SW_EFAIL, "%s: %s", what, d);
}

/* The registry's Docker-Content-Digest, when it sends one, must be ours. */
static int check_digest_header(const struct reg_resp *r, const char *want, const char *what, sw_error **err)
{
	if (r->digest && strcmp(r->digest, want))
		return sw_error_set(err, SW_EINVALID, "%s: registry answered digest %.80s, expected %s", what, r->digest,
		                    want);
	return 0;
}

static char *with_digest(struct reg_client *c, const char *location, const char *digest)
{
	cleanup_free char *url = reg_client_url(c, location);
	char *esc = curl_easy_escape(NULL, digest, 0);
	char *out = sw_xasprintf("%s%cdigest=%s", url, strchr(url, '?') ? '&' : '?', esc);
	curl_free(esc);
	return out;
}

/* ---- push --------------------------------------------------------------- */

static int upload_blob(struct ctx *x, const char *digest, char **location, sw_error **err)
{
	static const char *const octet[] = { "Content-Type: application/octet-stream", NULL };
	cleanup_resp struct reg_resp resp = { 0 };
	cleanup_close int fd = -1;
	cleanup_free char *url = NULL;
	int64_t size = 0;
	int r;

	if ((r = sw_image_store_open_blob(x->store, digest, &size, err)) < 0)
		return r;
	fd = r;
	if (size > x->chunk) {
		for (int64_t off = 0; off < size; off += x->chunk) {
			int64_t n = size - off < x->chunk ? size - off : x->chunk;
			struct reg_body b = { NULL, fd, off, n, 0 };
			char range[80];
			const char *hdrs[] = { octet[0], range, NULL };
			snprintf(range, sizeof(range), "Content-Range: %lld-%lld", (long long)off, (long long)(off + n - 1));
			free(url);
			url = reg_client_url(x->c, *location);
			if (reg_request(x->c, "PATCH", url, hdrs, &b, &resp, 0, err) < 0)
				return sw_error_wrap(err, "blob %s: chunk at %lld", digest, (long long)off);
			if (resp.status != 202)
				return status_error(&resp, "blob upload chunk", err);
			sw_debug("blob %s: chunk %lld-%lld sent", digest, (long long)off, (long long)(off + n - 1));
			if (resp.location) {
				free(*location);
				*location = steal_pointer(&resp.location);
			}
		}
		free(url);
		url = with_digest(x->c, *location, digest);
		if (reg_request(x->c, "PUT", url, NULL, NULL, &resp, 0, err) < 0)
			return sw_error_code(*err);
	} else {
		struct reg_body b = { NULL, fd, 0, size, 0 };
		url = with_digest(x->c, *location, digest);
		if (reg_request(x->c, "PUT", url, octet, &b, &resp, 0, err) < 0)
			return sw_error_code(*err);
	}
	if (resp.status != 201)
		return status_error(&resp, "blob upload", err);
	return check_digest_header(&resp, digest, "blob upload", err);
}

/* Where we pushed what: "HOST DIGEST REPO" lines in the layout's
 * .registry-pushed, so a later push of the same blob to another repository
 * of that registry can ask for a cross-repository mount. A cache: lost
 * lines only cost an upload, and past PUSHED_MAX it starts over. */
#define PUSHED_MAX (1 << 20)

static char *pushed_path(struct ctx *x)
{
	return sw_xasprintf("%s/.registry-pushed", sw_image_store_root(x->store));
}

static char *pushed_lookup(struct ctx *x, const char *digest)
{
	cleanup_free char *path = pushed_path(x);
	cleanup_file FILE *f = fopen(path, "re");
	cleanup_free char *line = NULL;
	const char *host = reg_client_host(x->c);
	size_t cap = 0, hlen = strlen(host);
	char *found = NULL;
	ssize_t n;

	if (!f)
		return NULL;
	while ((n = getline(&line, &cap, f)) > 0) {
		const char *repo;
		if (line[n - 1] == '\n')
			line[--n] = 0;
		if (strncmp(line, host, hlen) || line[hlen] != ' ' || strncmp(line + hlen + 1, digest, SW_DIGEST_LEN) ||
		    line[hlen + 1 + SW_DIGEST_LEN] != ' ')
			continue;
		repo = line + hlen + 2 + SW_DIGEST_LEN;
		if (!*repo || !strcmp(repo, x->name))
			continue;
		free(found);
		found = sw_xstrdup(repo);
	}
	return found;
}

static void pushed_record(struct ctx *x, const char *digest)
{
	cleanup_free char *path = pushed_path(x);
	cleanup_free char *line = sw_xasprintf("%s %s %s\n", reg_client_host(x->c), digest, x->name);
	cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	struct stat st;

	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && st.st_size > PUSHED_MAX && ftruncate(fd, 0) < 0)
		return;
	/* one short O_APPEND write: concurrent pushes do not interleave lines */
	if (write(fd, line, strlen(line)) < 0)
		sw_debug("%s: %s", path, strerror(errno));
}

static int push_blob(struct ctx *x, const char *digest, sw_error **err)
{
	cleanup_resp struct reg_resp resp = { 0 };
	cleanup_free char *url = sw_xasprintf("/v2/%s/blobs/%s", x->name, digest);
	cleanup_free char *full = reg_client_url(x->c, url);
	cleanup_free char *location = NULL, *from = NULL;
	int r;

	if (!sw_image_store_has_blob(x->store, digest))
		return sw_error_set(err, SW_ENOTFOUND, "blob %s is not in the store", digest);
	if (reg_request(x->c, "HEAD", full, NULL, NULL, &resp, 0, err) < 0)
		return sw_error_code(*err);
	if (resp.status == 200) {
		sw_debug("blob %s: already there", digest);
		x->res->blobs_skipped++;
		pushed_record(x, digest);
		return 0;
	}
	if (resp.status != 404)
		return status_error(&resp, "blob check", err);

	free(full);
	free(url);
	from = x->opts->from_repo && *x->opts->from_repo ? sw_xstrdup(x->opts->from_repo) : pushed_lookup(x, digest);
	if (from) {
		char *esc = curl_easy_escape(NULL, from, 0);
		url = sw_xasprintf("/v2/%s/blobs/uploads/?mount=%s&from=%s", x->name, digest, esc);
		curl_free(esc);
	} else {
		url = sw_xasprintf("/v2/%s/blobs/uploads/", x->name);
	}
	full = reg_client_url(x->c, url);
	if (reg_request(x->c, "POST", full, NULL, NULL, &resp, 0, err) < 0)
		return sw_error_code(*err);
	if (resp.status == 201 && from) {
		if ((r = check_digest_header(&resp, digest, "blob mount", err)) < 0)
			return r;
		sw_debug("blob %s: mounted from %s", digest, from);
		x->res->blobs_mounted++;
		pushed_record(x, digest);
		return 0;
	}
	/* 202: no mount (the registry does not have it there, or will not say);
	 * the answer is an upload session all the same */
	if (resp.status != 202 || !resp.location)
		return status_error(&resp, "starting a blob upload", err);
	location = steal_pointer(&resp.location);
	if ((r = upload_blob(x, digest, &location, err)) < 0)
		return r;
	sw_debug("blob %s: pushed", digest);
	x->res->blobs_pushed++;
	pushed_record(x, digest);
	return 0;
}

static const char *manifest_media_type(const json_t *m)
{
	const char *mt = json_string_value(json_object_get(m, "mediaType"));
	if (mt)
		return mt;
	return json_object_get(m, "manifests") ? SW_MT_OCI_INDEX : SW_MT_OCI_MANIFEST;
}

static int push_manifest(struct ctx *x, const char *digest, const char *reference, int depth, sw_error **err)
{
	cleanup_resp struct reg_resp resp = { 0 };
	cleanup_free char *raw = NULL, *ctype = NULL, *url = NULL;
	cleanup_json json_t *m = NULL;
	json_t *v, *subject;
	size_t len = 0, i;
	int r;

	if (depth > 4)
		return sw_error_set(err, SW_EINVALID, "manifest %s: subjects or indexes nested too deep", digest);
	if ((r = sw_image_store_read_blob(x->store, digest, SW_MANIFEST_MAX, &raw, &len, err)) < 0)
		return sw_error_wrap(err, "manifest %s", digest);
	if ((r = sw_json_loadb(&m, digest, raw, len, err)) < 0 || !json_is_object(m))
		return r < 0 ? r : sw_error_set(err, SW_EINVALID, "manifest %s is not an object", digest);

	/* what the manifest refers to goes first: registries may check */
	subject = json_object_get(m, "subject");
	if (subject) {
		const char *sd = json_string_value(json_object_get(subject, "digest"));
		if (!sd || !sw_digest_valid(sd))
			return sw_error_set(err, SW_EINVALID, "manifest %s: bad subject digest", digest);
		if ((r = push_manifest(x, sd, sd, depth + 1, err)) < 0)
			return sw_error_wrap(err, "subject %s", sd);
	}
	json_array_foreach(json_object_get(m, "manifests"), i, v) {
		const char *md = json_string_value(json_object_get(v, "digest"));
		if (!md || !sw_digest_valid(md))
			return sw_error_set(err, SW_EINVALID, "index %s: bad manifest digest", digest);
		if ((r = push_manifest(x, md, md, depth + 1, err)) < 0)
			return r;
	}
	if ((v = json_object_get(m, "config"))) {
		const char *cd = json_string_value(json_object_get(v, "digest"));
		if (!cd || !sw_digest_valid(cd))
			return sw_error_set(err, SW_EINVALID, "manifest %s: bad config digest", digest);
		if ((r = push_blob(x, cd, err)) < 0)
			return sw_error_wrap(err, "config %s", cd);
	}
	json_array_foreach(json_object_get(m, "layers"), i, v) {
		const char *ld = json_string_value(json_object_get(v, "digest"));
		if (!ld || !sw_digest_valid(ld))
			return sw_error_set(err, SW_EINVALID, "manifest %s: bad digest of layer %zu", digest, i);
		if ((r = push_blob(x, ld, err)) < 0)
			return sw_error_wrap(err, "layer %s", ld);
	}

	ctype = sw_xasprintf("Content-Type: %s", manifest_media_type(m));
	{
		const char *hdrs[] = { ctype, NULL };
		struct reg_body b = { raw, -1, 0, (int64_t)len, 0 };
		cleanup_free char *path = sw_xasprintf("/v2/%s/manifests/%s", x->name, reference);
		url = reg_client_url(x->c, path);
		if (reg_request(x->c, "PUT", url, hdrs, &b, &resp, 0, err) < 0)
			return sw_error_wrap(err, "manifest %s", digest);
	}
	if (resp.status != 201)
		return status_error(&resp, "manifest upload", err);
	return check_digest_header(&resp, digest, "manifest upload", err);
}

static int64_t chunk_size(const sw_registry_opts *o)
{
	const char *env = getenv("SLIPWAY_REGISTRY_CHUNK_SIZE");
	if (o->chunk_size > 0)
		return o->chunk_size;
	if (env && *env) {
		char *end;
		long long v = strtoll(env, &end, 10);
		if (!*end && v > 0)
			return v;
		sw_warn("SLIPWAY_REGISTRY_CHUNK_SIZE: not a positive number, using %d", SW_REGISTRY_CHUNK_DEFAULT);
	}
	return SW_REGISTRY_CHUNK_DEFAULT;
}

int sw_registry_push(sw_image_store *s, const char *ref, const char *dest, const sw_registry_opts *opts,
                     sw_push_result *out, sw_error **err)
{
	static const sw_registry_opts defaults = { 0 };
	cleanup_ref sw_registry_ref d = { 0 };
	cleanup_client struct reg_client *c = NULL;
	char digest[SW_DIGEST_LEN + 1];
	sw_push_result res = { 0 };
	struct ctx x;
	int r;

	if (!opts)
		opts = &defaults;
	if ((r = sw_image_store_resolve(s, ref, digest, err)) < 0)
		return r;
	if ((r = sw_registry_ref_parse(&d, dest, err)) < 0)
		return r;
	if ((r = reg_client_new(&c, api_host(d.host), opts->insecure, err)) < 0)
		return r;
	x = (struct ctx){ s, c, d.name, opts, chunk_size(opts), &res };
	if (d.digest && strcmp(d.digest, digest))
		return sw_error_set(err, SW_EINVALID, "push %s: destination digest does not match the image (%s)", dest,
		                    digest);
	if ((r = push_manifest(&x, digest, d.tag ? d.tag : digest, 0, err)) < 0)
		return sw_error_wrap(err, "pushing %s to %s", ref, dest);
	strcpy(res.digest, digest);
	if (out)
		*out = res;
	return 0;
}

/* ---- pull --------------------------------------------------------------- */

static int get_manifest(struct ctx *x, const char *reference, char **raw, size_t *len, char **mt,
                        char digest[SW_DIGEST_LEN + 1], sw_error **err)
{
	static const char *const hdrs[] = { MANIFEST_ACCEPT, NULL };
	cleanup_resp struct reg_resp resp = { 0 };
	cleanup_free char *path = sw_xasprintf("/v2/%s/manifests/%s", x->name, reference);
	cleanup_free char *url = reg_client_url(x->c, path);
	cleanup_json json_t *m = NULL;
	const char *jmt;
	int r;

	if (reg_request(x->c, "GET", url, hdrs, NULL, &resp, SW_MANIFEST_MAX, err) < 0)
		return sw_error_wrap(err, "manifest %s", reference);
	if (resp.status != 200)
		return status_error(&resp, "manifest", err);
	if (!resp.body.data || !resp.body.len)
		return sw_error_set(err, SW_EINVALID, "manifest %s: empty response", reference);
	sw_digest_bytes(digest, resp.body.data, resp.body.len);
	if (sw_digest_valid(reference) && strcmp(reference, digest))
		return sw_error_set(err, SW_EINVALID, "manifest %s: content has digest %s", reference, digest);
	if ((r = check_digest_header(&resp, digest, "manifest", err)) < 0)
		return r;
	if ((r = sw_json_loadb(&m, "manifest", resp.body.data, resp.body.len, err)) < 0)
		return r;
	jmt = json_string_value(json_object_get(m, "mediaType"));
	if (jmt)
		*mt = sw_xstrdup(jmt);
	else if (resp.content_type && strncmp(resp.content_type, "application/json", 16))
		*mt = sw_xstrndup(resp.content_type, strcspn(resp.content_type, "; "));
	else
		*mt = sw_xstrdup(manifest_media_type(m));
	*len = resp.body.len;
	*raw = sw_buf_detach(&resp.body);
	return 0;
}

static int pick_platform(const char *raw, size_t len, char out[SW_DIGEST_LEN + 1], sw_error **err)
{
	cleanup_json json_t *idx = NULL;
	json_t *list, *v;
	size_t i;

	if (sw_json_loadb(&idx, "index", raw, len, err) < 0)
		return sw_error_code(*err);
	list = json_object_get(idx, "manifests");
	json_array_foreach(list, i, v) {
		json_t *p = json_object_get(v, "platform");
		const char *os = json_string_value(json_object_get(p, "os"));
		const char *arch = json_string_value(json_object_get(p, "architecture"));
		const char *d = json_string_value(json_object_get(v, "digest"));
		if ((json_array_size(list) == 1 && !p) || (os && arch && !strcmp(os, "linux") && !strcmp(arch, "amd64"))) {
			if (!d || !sw_digest_valid(d))
				return sw_error_set(err, SW_EINVALID, "index: bad manifest digest");
			strcpy(out, d);
			return 0;
		}
	}
	return sw_error_set(err, SW_ENOTFOUND, "index has no linux/amd64 manifest");
}

static int pull_blob(struct ctx *x, const char *digest, const char *media_type, int64_t size, sw_error **err)
{
	cleanup_free char *path = sw_xasprintf("/v2/%s/blobs/%s", x->name, digest);
	cleanup_free char *url = reg_client_url(x->c, path);

	if (sw_image_store_has_blob(x->store, digest))
		return 0;
	if (size < 0)
		return sw_error_set(err, SW_EINVALID, "blob %s: negative size", digest);
	for (int attempt = 1;; attempt++) {
		cleanup_resp struct reg_resp resp = { 0 };
		sw_blob_writer *w = NULL;
		sw_descriptor got;
		int r;

		if ((r = sw_blob_writer_new(&w, x->store, err)) < 0)
			return r;
		resp.sink = w;
		resp.sink_max = size;
		r = reg_request(x->c, "GET", url, NULL, NULL, &resp, 0, err);
		if (r == 0 && resp.status != 200)
			r = status_error(&resp, "blob", err);
		if (r == 0)
			r = check_digest_header(&resp, digest, "blob", err);
		if (r == 0 && sw_blob_writer_size(w) != size)
			r = sw_error_set(err, SW_EINVALID, "blob %s: got %lld bytes, expected %lld", digest,
			                 (long long)sw_blob_writer_size(w), (long long)size);
		if (r == 0)
			r = sw_blob_writer_commit(w, media_type, digest, &got, err);
		sw_blob_writer_free(w);
		if (r == 0) {
			sw_debug("blob %s: pulled", digest);
			return 0;
		}
		if (!resp.transport_error || attempt >= BLOB_TRIES)
			return sw_error_wrap(err, "blob %s", digest);
		sw_warn("blob %s: transfer broke, retrying (%d of %d)", digest, attempt + 1, BLOB_TRIES);
		sw_error_clear(err);
	}
}

static int desc_of(const json_t *d, const char **digest, const char **mt, int64_t *size, const char *what,
                   sw_error **err)
{
	json_t *sz = json_object_get(d, "size");
	*digest = json_string_value(json_object_get(d, "digest"));
	*mt = json_string_value(json_object_get(d, "mediaType"));
	if (!*digest || !sw_digest_valid(*digest) || !json_is_integer(sz) || json_integer_value(sz) < 0)
		return sw_error_set(err, SW_EINVALID, "manifest: bad %s descriptor", what);
	*size = json_integer_value(sz);
	return 0;
}

/* Fetches reference (an index resolves to linux/amd64), its blobs and, for
 * an artifact, its subject (kept untagged), then stores the manifest. */
static int pull_manifest(struct ctx *x, const char *reference, int depth, sw_descriptor *out, sw_error **err)
{
	cleanup_free char *raw = NULL, *mt = NULL;
	cleanup_json json_t *m = NULL;
	char digest[SW_DIGEST_LEN + 1];
	const char *bd, *bmt;
	json_t *v, *subject;
	int64_t bsize;
	size_t len = 0, i;
	int r;

	if (depth > 4)
		return sw_error_set(err, SW_EINVALID, "manifest %s: subjects nested too deep", reference);
	if ((r = get_manifest(x, reference, &raw, &len, &mt, digest, err)) < 0)
		return r;
	if (!strcmp(mt, SW_MT_OCI_INDEX) || !strcmp(mt, SW_MT_DOCKER_LIST)) {
		char child[SW_DIGEST_LEN + 1];
		if ((r = pick_platform(raw, len, child, err)) < 0)
			return r;
		free(raw);
		free(mt);
		raw = mt = NULL;
		if ((r = get_manifest(x, child, &raw, &len, &mt, digest, err)) < 0)
			return r;
	}
	if (strcmp(mt, SW_MT_OCI_MANIFEST) && strcmp(mt, SW_MT_DOCKER_MANIFEST))
		return sw_error_set(err, SW_EINVALID, "manifest %s: unsupported type %.128s", reference, mt);
	if ((r = sw_json_loadb(&m, "manifest", raw, len, err)) < 0)
		return r;
	subject = json_object_get(m, "subject");
	if (!json_object_get(m, "artifactType") && !subject && (r = sw_image_manifest_check(m, digest, err)) < 0)
		return r;

	if ((r = desc_of(json_object_get(m, "config"), &bd, &bmt, &bsize, "config", err)) < 0 ||
	    (r = pull_blob(x, bd, bmt, bsize, err)) < 0)
		return r;
	json_array_foreach(json_object_get(m, "layers"), i, v) {
		if ((r = desc_of(v, &bd, &bmt, &bsize, "layer", err)) < 0 || (r = pull_blob(x, bd, bmt, bsize, err)) < 0)
			return r;
	}
	if (subject) {
		const char *sd = json_string_value(json_object_get(subject, "digest"));
		sw_descriptor sdesc;
		if (!sd || !sw_digest_valid(sd))
			return sw_error_set(err, SW_EINVALID, "manifest %s: bad subject digest", digest);
		if (!sw_image_store_has_blob(x->store, sd)) {
			if ((r = pull_manifest(x, sd, depth + 1, &sdesc, err)) < 0)
				return sw_error_wrap(err, "subject %s", sd);
			if ((r = sw_image_store_add_untagged(x->store, &sdesc, err)) < 0)
				return r;
		}
	}
	return sw_image_store_put_blob(x->store, mt, raw, len, digest, out, err);
}

int sw_registry_pull(sw_image_store *s, const char *src, const char *local_ref, const sw_registry_opts *opts,
                     sw_descriptor *out, sw_error **err)
{
	static const sw_registry_opts defaults = { 0 };
	cleanup_ref sw_registry_ref ref = { 0 };
	cleanup_client struct reg_client *c = NULL;
	cleanup_free char *tag = NULL;
	sw_push_result unused = { 0 };
	sw_descriptor desc;
	struct ctx x;
	int r;

	if (!opts)
		opts = &defaults;
	if ((r = sw_registry_ref_parse(&ref, src, err)) < 0)
		return r;
	if (local_ref) {
		if ((r = sw_image_ref_normalize(&tag, local_ref, err)) < 0)
			return r;
	} else if (!ref.digest) {
		if ((r = sw_image_ref_normalize(&tag, src, err)) < 0)
			return r;
	}
	if ((r = reg_client_new(&c, api_host(ref.host), opts->insecure, err)) < 0)
		return r;
	/* prune must not take blobs we found present before the manifest that
	 * refers to them is tagged */
	if ((r = store_writer_lock(s, err)) < 0)
		return r;
	x = (struct ctx){ s, c, ref.name, opts, 0, &unused };

	if ((r = pull_manifest(&x, ref.digest ? ref.digest : ref.tag, 0, &desc, err)) < 0)
		return sw_error_wrap(err, "pulling %s", src);
	if (tag)
		r = sw_image_store_tag(s, tag, &desc, err);
	else
		r = sw_image_store_add_untagged(s, &desc, err);
	if (r < 0)
		return sw_error_wrap(err, "pulling %s", src);
	if (out)
		*out = desc;
	return 0;
}

int sw_registry_pull_if_missing(sw_image_store *s, const char *ref, bool *pulled, sw_error **err)
{
	sw_registry_opts opts = { 0 };
	cleanup_ref sw_registry_ref r = { 0 };
	char digest[SW_DIGEST_LEN + 1];
	const char *env = getenv("SLIPWAY_REGISTRY_INSECURE");
	sw_error *e = NULL;
	int rc;

	*pulled = false;
	if (!sw_registry_ref_has_host(ref))
		return 0;
	if (sw_image_store_resolve(s, ref, digest, &e) == 0)
		return 0;
	sw_error_free(e);
	if ((rc = sw_registry_ref_parse(&r, ref, err)) < 0)
		return rc;
	if (env && !strcmp(env, "1") &&
	    (!strncmp(r.host, "localhost", 9) || !strncmp(r.host, "127.0.0.1", 9)))
		opts.insecure = true;
	sw_info("pulling %s", ref);
	if ((rc = sw_registry_pull(s, ref, NULL, &opts, NULL, err)) < 0)
		return rc;
	*pulled = true;
	return 0;
}
