/*
 * api_route.c - what a Kubernetes API path names: discovery documents,
 * a collection (all namespaces or one), an object and its subresource.
 * Pure string work so the unit tests can drive it without a server.
 */
#include <stdio.h>
#include <string.h>

#include "api_int.h"

#define MAX_SEGMENTS 10

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Copies one percent-decoded segment; false when it does not fit or
 * decodes to something a name cannot hold (NUL, '/'). */
static bool decode_segment(char *dst, size_t size, const char *src, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = src[i];
		if (c == '%') {
			int hi = i + 1 < len ? hexval(src[i + 1]) : -1;
			int lo = i + 2 < len ? hexval(src[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return false;
			c = (char)(hi * 16 + lo);
			i += 2;
			if (c == '\0' || c == '/')
				return false;
		}
		if (o + 1 >= size)
			return false;
		dst[o++] = c;
	}
	dst[o] = '\0';
	return true;
}

void api_kind_qualified(const sw_kind *k, char *buf, size_t size)
{
	if (k->group[0])
		snprintf(buf, size, "%s.%s", k->resource, k->group);
	else
		snprintf(buf, size, "%s", k->resource);
}

static int not_found(sw_error **err, const char *path)
{
	return sw_error_set(err, SW_ENOTFOUND, "the server could not find the requested resource (%s)",
	                    path);
}

static bool is_sub(const char *s)
{
	return strcmp(s, "status") == 0 || strcmp(s, "scale") == 0 || strcmp(s, "log") == 0 ||
	       strcmp(s, "exec") == 0;
}

/* Does this group/version serve kinds? */
static bool kinds_version(const char *group, const char *version)
{
	for (size_t i = 0; i < sw_kinds_count; i++)
		if (strcmp(sw_kinds[i].group, group) == 0 && strcmp(sw_kinds[i].version, version) == 0)
			return true;
	return false;
}

static bool group_served(const char *group)
{
	if (strcmp(group, "metrics.k8s.io") == 0)
		return true;
	for (size_t i = 0; i < sw_kinds_count; i++)
		if (strcmp(sw_kinds[i].group, group) == 0)
			return true;
	return false;
}

/* The part after /api/v1 or /apis/G/V: seg[0..n). */
static int route_resources(api_route *r, char seg[][254], size_t n, const char *path,
                           sw_error **err)
{
	size_t i = 0;
	if (n > 0 && strcmp(seg[0], "watch") == 0) {
		r->watch_prefix = true;
		i++;
	}
	bool metrics = strcmp(r->group, "metrics.k8s.io") == 0;
	/* namespaces/NS/RES... (but "namespaces" alone, or namespaces/NS[/status]
	 * is the Namespace object itself) */
	if (n - i >= 3 && strcmp(seg[i], "namespaces") == 0 && !is_sub(seg[i + 2])) {
		snprintf(r->ns, sizeof(r->ns), "%s", seg[i + 1]);
		i += 2;
	}
	if (i >= n)
		return not_found(err, path);
	const char *res = seg[i++];
	if (metrics) {
		if (strcmp(res, "pods") != 0 || n - i > 1 || r->watch_prefix)
			return not_found(err, path);
		r->type = ROUTE_METRICS;
		if (i < n)
			snprintf(r->name, sizeof(r->name), "%s", seg[i]);
		return 0;
	}
	const sw_kind *k = sw_kind_by_resource(r->group, res);
	if (!k || strcmp(k->version, r->version) != 0)
		return not_found(err, path);
	r->kind = k;
	if (!k->namespaced && r->ns[0])
		return not_found(err, path);
	if (i == n) {
		r->type = ROUTE_COLLECTION;
		return 0;
	}
	/* an object of a namespaced kind needs its namespace in the URL */
	if (k->namespaced && !r->ns[0])
		return not_found(err, path);
	snprintf(r->name, sizeof(r->name), "%s", seg[i++]);
	r->type = ROUTE_OBJECT;
	if (i == n)
		return 0;
	if (n - i > 1 || r->watch_prefix)
		return not_found(err, path);
	const char *sub = seg[i];
	bool ok = (strcmp(sub, "status") == 0 && k->has_status) ||
	          (strcmp(sub, "scale") == 0 && k->has_scale) ||
	          ((strcmp(sub, "log") == 0 || strcmp(sub, "exec") == 0) &&
	           strcmp(k->resource, "pods") == 0 && !k->group[0]);
	if (!ok)
		return not_found(err, path);
	snprintf(r->sub, sizeof(r->sub), "%s", sub);
	return 0;
}

int api_route_parse(api_route *r, const char *path, sw_error **err)
{
	char seg[MAX_SEGMENTS][254];
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	if (!path || path[0] != '/')
		return sw_error_set(err, SW_EINVALID, "bad request path");
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		size_t len = strcspn(p, "/");
		if (n == MAX_SEGMENTS)
			return not_found(err, path);
		if (!decode_segment(seg[n], sizeof(seg[n]), p, len))
			return sw_error_set(err, SW_EINVALID, "bad request path segment");
		if (strcmp(seg[n], ".") == 0 || strcmp(seg[n], "..") == 0)
			return sw_error_set(err, SW_EINVALID, "bad request path segment");
		n++;
		p += len;
	}
	if (n == 0)
		return not_found(err, path);
	if (strcmp(seg[0], "version") == 0 && n == 1) {
		r->type = ROUTE_VERSION;
		return 0;
	}
	if (strcmp(seg[0], "healthz") == 0 || strcmp(seg[0], "readyz") == 0 ||
	    strcmp(seg[0], "livez") == 0) {
		r->type = ROUTE_HEALTH;
		return 0;
	}
	if (strcmp(seg[0], "openapi") == 0 || strcmp(seg[0], "swagger.json") == 0) {
		/* /openapi/v3 (the index) and /openapi/v3/api/v1,
		 * /openapi/v3/apis/GROUP/VERSION; everything else is a 404 */
		r->type = ROUTE_OPENAPI;
		if (n == 2 && strcmp(seg[1], "v3") == 0) {
			snprintf(r->sub, sizeof(r->sub), "index");
		} else if (n == 4 && strcmp(seg[1], "v3") == 0 && strcmp(seg[2], "api") == 0 &&
		           strcmp(seg[3], "v1") == 0) {
			snprintf(r->sub, sizeof(r->sub), "gv");
			snprintf(r->version, sizeof(r->version), "v1");
		} else if (n == 5 && strcmp(seg[1], "v3") == 0 && strcmp(seg[2], "apis") == 0 &&
		           strlen(seg[3]) < sizeof(r->group) && strlen(seg[4]) < sizeof(r->version)) {
			snprintf(r->sub, sizeof(r->sub), "gv");
			memcpy(r->group, seg[3], strlen(seg[3]) + 1);
			memcpy(r->version, seg[4], strlen(seg[4]) + 1);
		}
		return 0;
	}
	if (strcmp(seg[0], "api") == 0) {
		if (n == 1) {
			r->type = ROUTE_API;
			return 0;
		}
		if (strcmp(seg[1], "v1") != 0)
			return not_found(err, path);
		snprintf(r->version, sizeof(r->version), "v1");
		if (n == 2) {
			r->type = ROUTE_RESOURCES;
			return 0;
		}
		return route_resources(r, seg + 2, n - 2, path, err);
	}
	if (strcmp(seg[0], "apis") == 0) {
		if (n == 1) {
			r->type = ROUTE_APIS;
			return 0;
		}
		if (!group_served(seg[1]) || strlen(seg[1]) >= sizeof(r->group))
			return not_found(err, path);
		memcpy(r->group, seg[1], strlen(seg[1]) + 1);
		if (n == 2) {
			r->type = ROUTE_GROUP;
			return 0;
		}
		if (strlen(seg[2]) >= sizeof(r->version))
			return not_found(err, path);
		memcpy(r->version, seg[2], strlen(seg[2]) + 1);
		bool metrics = strcmp(r->group, "metrics.k8s.io") == 0;
		if (metrics ? strcmp(r->version, "v1beta1") != 0 : !kinds_version(r->group, r->version))
			return not_found(err, path);
		if (n == 3) {
			r->type = ROUTE_RESOURCES;
			return 0;
		}
		return route_resources(r, seg + 3, n - 3, path, err);
	}
	return not_found(err, path);
}
