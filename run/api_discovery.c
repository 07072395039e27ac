/*
 * api_discovery.c - the documents clients read to learn what the server
 * serves: /version, /api (APIVersions), /apis (APIGroupList), /apis/GROUP
 * (APIGroup), /api/v1 and /apis/GROUP/VERSION (APIResourceList). All come
 * from the kinds table. kubectl 1.32 first asks for the aggregated form
 * (apidiscovery.k8s.io/v2); a plain application/json answer makes it fall
 * back to these, one request per group version.
 */
#include <string.h>
#include <sys/utsname.h>

#include "api_int.h"
#include "slipway/run.h"

#define METRICS_GROUP "metrics.k8s.io"
#define METRICS_VERSION "v1beta1"

json_t *api_discovery_version(void)
{
	struct utsname u;
	const char *arch = "amd64";
	if (uname(&u) == 0) {
		if (strcmp(u.machine, "aarch64") == 0)
			arch = "arm64";
		else if (strcmp(u.machine, "x86_64") != 0)
			arch = u.machine;
	}
	char platform[96];
	snprintf(platform, sizeof(platform), "linux/%s", arch);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "major", "1", "minor",
	                 "32", "gitVersion", sw_run_git_version(), "gitCommit", "", "gitTreeState",
	                 "clean", "buildDate", "1970-01-01T00:00:00Z", "goVersion", "",
	                 "compiler", "gcc", "platform", platform);
}

json_t *api_discovery_api(void)
{
	return json_pack("{s:s, s:[s], s:[{s:s, s:s}]}", "kind", "APIVersions", "versions", "v1",
	                 "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0", "serverAddress",
	                 "127.0.0.1");
}

static json_t *group_doc(const char *group, const char *version, bool with_kind)
{
	char gv[128];
	snprintf(gv, sizeof(gv), "%s/%s", group, version);
	json_t *g = json_pack("{s:s, s:[{s:s, s:s}], s:{s:s, s:s}}", "name", group, "versions",
	                      "groupVersion", gv, "version", version, "preferredVersion",
	                      "groupVersion", gv, "version", version);
	if (with_kind) {
		json_object_set_new(g, "kind", json_string("APIGroup"));
		json_object_set_new(g, "apiVersion", json_string("v1"));
	}
	return g;
}

/* The named groups with their (single) version, in table order. */
static void each_group(void (*fn)(const char *group, const char *version, void *arg), void *arg)
{
	for (size_t i = 0; i < sw_kinds_count; i++) {
		const sw_kind *k = &sw_kinds[i];
		if (!k->group[0])
			continue;
		bool seen = false;
		for (size_t j = 0; j < i; j++)
			if (strcmp(sw_kinds[j].group, k->group) == 0)
				seen = true;
		if (!seen)
			fn(k->group, k->version, arg);
	}
	fn(METRICS_GROUP, METRICS_VERSION, arg);
}

static void add_group(const char *group, const char *version, void *arg)
{
	json_array_append_new(arg, group_doc(group, version, false));
}

json_t *api_discovery_apis(void)
{
	json_t *groups = json_array();
	each_group(add_group, groups);
	return json_pack("{s:s, s:s, s:o}", "kind", "APIGroupList", "apiVersion", "v1", "groups",
	                 groups);
}

struct find_group {
	const char *group;
	json_t *doc;
};

static void match_group(const char *group, const char *version, void *arg)
{
	struct find_group *f = arg;
	if (!f->doc && strcmp(group, f->group) == 0)
		f->doc = group_doc(group, version, true);
}

json_t *api_discovery_group(const char *group)
{
	struct find_group f = { group, NULL };
	each_group(match_group, &f);
	return f.doc;
}

static json_t *str_list(const char *csv)
{
	json_t *a = json_array();
	const char *p = csv;
	while (p && *p) {
		size_t n = strcspn(p, ",");
		if (n)
			json_array_append_new(a, json_stringn(p, n));
		p += n;
		if (*p == ',')
			p++;
	}
	return a;
}

static json_t *sub_resource(const sw_kind *k, const char *sub, const char *kind, const char *group,
                            const char *version, json_t *verbs)
{
	char name[128];
	snprintf(name, sizeof(name), "%s/%s", k->resource, sub);
	json_t *r = json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", name, "singularName", "",
	                      "namespaced", k->namespaced, "kind", kind, "verbs", verbs);
	if (group) {
		json_object_set_new(r, "group", json_string(group));
		json_object_set_new(r, "version", json_string(version));
	}
	return r;
}

static bool in_category_all(const sw_kind *k)
{
	static const char *const all[] = { "pods", "services", "deployments", "replicasets" };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(k->resource, all[i]) == 0)
			return true;
	return false;
}

json_t *api_discovery_resources(const char *group, const char *version)
{
	json_t *res = json_array();
	char gv[128];
	if (group[0])
		snprintf(gv, sizeof(gv), "%s/%s", group, version);
	else
		snprintf(gv, sizeof(gv), "%s", version);
	if (strcmp(group, METRICS_GROUP) == 0) {
		if (strcmp(version, METRICS_VERSION) != 0) {
			json_decref(res);
			return NULL;
		}
		json_array_append_new(res, json_pack("{s:s, s:s, s:b, s:s, s:[s,s]}", "name", "pods",
		                                     "singularName", "", "namespaced", true, "kind",
		                                     "PodMetrics", "verbs", "get", "list"));
	}
	for (size_t i = 0; i < sw_kinds_count; i++) {
		const sw_kind *k = &sw_kinds[i];
		if (strcmp(k->group, group) != 0 || strcmp(k->version, version) != 0)
			continue;
		json_t *r = json_pack("{s:s, s:s, s:b, s:s, s:[s,s,s,s,s,s,s]}", "name", k->resource,
		                      "singularName", k->singular, "namespaced", k->namespaced, "kind",
		                      k->kind, "verbs", "create", "delete", "get", "list", "patch",
		                      "update", "watch");
		if (k->short_names[0])
			json_object_set_new(r, "shortNames", str_list(k->short_names));
		if (in_category_all(k))
			json_object_set_new(r, "categories", json_pack("[s]", "all"));
		json_array_append_new(res, r);
		if (k->has_status)
			json_array_append_new(res, sub_resource(k, "status", k->kind, NULL, NULL,
			                                        json_pack("[s,s,s]", "get", "patch",
			                                                  "update")));
		if (k->has_scale)
			json_array_append_new(res, sub_resource(k, "scale", "Scale", "autoscaling", "v1",
			                                        json_pack("[s,s,s]", "get", "patch",
			                                                  "update")));
		if (!k->group[0] && strcmp(k->resource, "pods") == 0) {
			json_array_append_new(res, sub_resource(k, "log", "Pod", NULL, NULL,
			                                        json_pack("[s]", "get")));
			json_array_append_new(res, sub_resource(k, "exec", "PodExecOptions", NULL, NULL,
			                                        json_pack("[s]", "create")));
		}
	}
	if (json_array_size(res) == 0) {
		json_decref(res);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:s, s:o}", "kind", "APIResourceList", "apiVersion", "v1",
	                 "groupVersion", gv, "resources", res);
}

/* ---- OpenAPI v3, just enough for kubectl -------------------------------- */

/*
 * kubectl validates what it sends (--validate=strict, its default) either
 * on the server, when the OpenAPI v3 document of the group version shows
 * a fieldValidation query parameter on the kind's PATCH, or itself with
 * the schemas. These documents only list each kind's operations with that
 * parameter, so kubectl leaves validation to slipwayd's admission (which
 * refuses unknown fields) instead of failing with "failed to download
 * openapi". They carry no schemas: kubectl apply then computes strategic
 * merge patches from its built-in types, as it does without OpenAPI.
 */
json_t *api_openapi_index(void)
{
	json_t *paths = json_object();
	json_object_set_new(paths, "api/v1",
	                    json_pack("{s:s}", "serverRelativeURL", "/openapi/v3/api/v1?hash=slipway1"));
	for (size_t i = 0; i < sw_kinds_count; i++) {
		const sw_kind *k = &sw_kinds[i];
		if (!k->group[0])
			continue;
		char key[128], url[192];
		snprintf(key, sizeof(key), "apis/%s/%s", k->group, k->version);
		snprintf(url, sizeof(url), "/openapi/v3/%s?hash=slipway1", key);
		json_object_set_new(paths, key, json_pack("{s:s}", "serverRelativeURL", url));
	}
	return json_pack("{s:o}", "paths", paths);
}

static json_t *operation(const sw_kind *k, const char *verb, bool with_body)
{
	json_t *params = json_pack("[{s:s, s:s, s:{s:s}}, {s:s, s:s, s:{s:s}}]", "name",
	                           "fieldValidation", "in", "query", "schema", "type", "string",
	                           "name", "dryRun", "in", "query", "schema", "type", "string");
	json_t *op = json_pack("{s:s, s:o, s:{s:{s:s}}, s:{s:s, s:s, s:s}, s:s}", "operationId",
	                       verb, "parameters", params, "responses", "200", "description", "OK",
	                       "x-kubernetes-group-version-kind", "group", k->group, "version",
	                       k->version, "kind", k->kind, "x-kubernetes-action", verb);
	(void)with_body;
	return op;
}

json_t *api_openapi_gv(const char *group, const char *version)
{
	json_t *paths = json_object();
	for (size_t i = 0; i < sw_kinds_count; i++) {
		const sw_kind *k = &sw_kinds[i];
		if (strcmp(k->group, group) != 0 || strcmp(k->version, version) != 0)
			continue;
		char base[160], coll[224], item[256];
		if (k->group[0])
			snprintf(base, sizeof(base), "/apis/%s/%s", k->group, k->version);
		else
			snprintf(base, sizeof(base), "/api/%s", k->version);
		if (k->namespaced)
			snprintf(coll, sizeof(coll), "%s/namespaces/{namespace}/%s", base, k->resource);
		else
			snprintf(coll, sizeof(coll), "%s/%s", base, k->resource);
		snprintf(item, sizeof(item), "%s/{name}", coll);
		json_object_set_new(paths, coll, json_pack("{s:o}", "post", operation(k, "post", true)));
		json_object_set_new(paths, item,
		                    json_pack("{s:o, s:o}", "put", operation(k, "put", true), "patch",
		                              operation(k, "patch", true)));
	}
	if (json_object_size(paths) == 0) {
		json_decref(paths);
		return NULL;
	}
	return json_pack("{s:s, s:{s:s, s:s}, s:o, s:{s:{}}}", "openapi", "3.0.0", "info", "title",
	                 "Kubernetes", "version", sw_run_git_version(), "paths", paths, "components",
	                 "schemas");
}

/* ---- aggregated discovery (apidiscovery.k8s.io/v2) ----------------------- */

/* One group version's APIResourceList turned into an
 * APIVersionDiscovery: subresources ("pods/status") under their parent. */
static json_t *aggregated_version(const char *group, const char *version)
{
	json_t *list = api_discovery_resources(group, version);
	if (!list)
		return NULL;
	json_t *out = json_array();
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(list, "resources"), i, r) {
		const char *name = json_string_value(json_object_get(r, "name"));
		const char *g = json_string_value(json_object_get(r, "group"));
		const char *v = json_string_value(json_object_get(r, "version"));
		json_t *kind = json_pack("{s:s, s:s, s:s}", "group", g ? g : group, "version",
		                         v ? v : version, "kind",
		                         json_string_value(json_object_get(r, "kind")));
		const char *slash = strchr(name, '/');
		if (slash) {
			/* the parent came before it (api_discovery_resources' order) */
			json_t *parent = json_array_get(out, json_array_size(out) - 1);
			json_t *subs = json_object_get(parent, "subresources");
			if (!subs) {
				subs = json_array();
				json_object_set_new(parent, "subresources", subs);
			}
			json_array_append_new(subs, json_pack("{s:s, s:o, s:O}", "subresource", slash + 1,
			                                      "responseKind", kind, "verbs",
			                                      json_object_get(r, "verbs")));
			continue;
		}
		json_t *e = json_pack("{s:s, s:o, s:s, s:s, s:O}", "resource", name, "responseKind", kind,
		                      "scope",
		                      json_is_true(json_object_get(r, "namespaced")) ? "Namespaced"
		                                                                     : "Cluster",
		                      "singularResource",
		                      json_string_value(json_object_get(r, "singularName")) ?
		                              json_string_value(json_object_get(r, "singularName")) : "",
		                      "verbs", json_object_get(r, "verbs"));
		if (json_object_get(r, "shortNames"))
			json_object_set(e, "shortNames", json_object_get(r, "shortNames"));
		if (json_object_get(r, "categories"))
			json_object_set(e, "categories", json_object_get(r, "categories"));
		json_array_append_new(out, e);
	}
	json_decref(list);
	return json_pack("{s:s, s:o, s:s}", "version", version, "resources", out, "freshness",
	                 "Current");
}

static json_t *aggregated_group(const char *group, const char *version)
{
	json_t *v = aggregated_version(group, version);
	if (!v)
		return NULL;
	json_t *meta = json_object();
	if (group[0])
		json_object_set_new(meta, "name", json_string(group));
	return json_pack("{s:o, s:[o]}", "metadata", meta, "versions", v);
}

static void add_aggregated(const char *group, const char *version, void *arg)
{
	json_t *g = aggregated_group(group, version);
	if (g)
		json_array_append_new(arg, g);
}

json_t *api_discovery_aggregated(bool core)
{
	json_t *items = json_array();
	if (core)
		add_aggregated("", "v1", items);
	else
		each_group(add_aggregated, items);
	return json_pack("{s:s, s:s, s:{}, s:o}", "kind", "APIGroupDiscoveryList", "apiVersion",
	                 "apidiscovery.k8s.io/v2", "metadata", "items", items);
}
