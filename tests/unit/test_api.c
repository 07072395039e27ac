/*
 * test_api.c - the API server's pure parts: URL routing, Status bodies,
 * the three patch types, Tables and pod STATUS words, discovery documents,
 * --listen parsing and tokens (in a temp dir). The server itself is
 * driven by tests/integration/api.sh and kubectl.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "api_int.h"
#include "slipway/api_token.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/object.h"
#include "slipway/path.h"

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
	if (!j)
		fail_msg("bad test JSON: %s: %s", text, e.text);
	return j;
}

static void assert_json(const json_t *got, const char *want)
{
	cleanup_json json_t *w = J(want);
	if (!json_equal(got, w)) {
		cleanup_free char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
		cleanup_free char *ws = json_dumps(w, JSON_COMPACT | JSON_SORT_KEYS);
		fail_msg("got  %s\nwant %s", g, ws);
	}
}

/* ---- routing ---- */

static void test_route_objects(void **state)
{
	(void)state;
	api_route r;
	sw_error *err = NULL;

	assert_int_equal(api_route_parse(&r, "/api/v1/namespaces/default/pods/web-1", &err), 0);
	assert_int_equal(r.type, ROUTE_OBJECT);
	assert_string_equal(r.kind->resource, "pods");
	assert_string_equal(r.ns, "default");
	assert_string_equal(r.name, "web-1");
	assert_string_equal(r.sub, "");

	assert_int_equal(api_route_parse(&r, "/apis/apps/v1/namespaces/x/deployments/web/scale", &err), 0);
	assert_int_equal(r.type, ROUTE_OBJECT);
	assert_string_equal(r.kind->kind, "Deployment");
	assert_string_equal(r.sub, "scale");

	assert_int_equal(api_route_parse(&r, "/api/v1/namespaces/x/pods/p/status", &err), 0);
	assert_string_equal(r.sub, "status");
	assert_int_equal(api_route_parse(&r, "/api/v1/namespaces/x/pods/p/log", &err), 0);
	assert_string_equal(r.sub, "log");

	/* all namespaces, one namespace */
	assert_int_equal(api_route_parse(&r, "/api/v1/pods", &err), 0);
	assert_int_equal(r.type, ROUTE_COLLECTION);
	assert_string_equal(r.ns, "");
	assert_int_equal(api_route_parse(&r, "/apis/apps/v1/namespaces/a/replicasets", &err), 0);
	assert_int_equal(r.type, ROUTE_COLLECTION);
	assert_string_equal(r.ns, "a");

	/* namespaces are cluster-scoped */
	assert_int_equal(api_route_parse(&r, "/api/v1/namespaces", &err), 0);
	assert_int_equal(r.type, ROUTE_COLLECTION);
	assert_string_equal(r.kind->kind, "Namespace");
	assert_int_equal(api_route_parse(&r, "/api/v1/namespaces/dev", &err), 0);
	assert_int_equal(r.type, ROUTE_OBJECT);
	assert_string_equal(r.kind->kind, "Namespace");
	assert_string_equal(r.name, "dev");
	assert_int_equal(api_route_parse(&r, "/api/v1/namespaces/dev/status", &err), 0);
	assert_string_equal(r.sub, "status");

	/* the old watch prefix */
	assert_int_equal(api_route_parse(&r, "/api/v1/watch/namespaces/d/pods", &err), 0);
	assert_true(r.watch_prefix);
	assert_int_equal(r.type, ROUTE_COLLECTION);

	/* percent-encoding in names */
	assert_int_equal(api_route_parse(&r, "/api/v1/namespaces/d/configmaps/a%2Eb", &err), 0);
	assert_string_equal(r.name, "a.b");
}

static void test_route_discovery_and_errors(void **state)
{
	(void)state;
	api_route r;
	sw_error *err = NULL;
	assert_int_equal(api_route_parse(&r, "/version", &err), 0);
	assert_int_equal(r.type, ROUTE_VERSION);
	assert_int_equal(api_route_parse(&r, "/api", &err), 0);
	assert_int_equal(r.type, ROUTE_API);
	assert_int_equal(api_route_parse(&r, "/apis", &err), 0);
	assert_int_equal(r.type, ROUTE_APIS);
	assert_int_equal(api_route_parse(&r, "/apis/apps", &err), 0);
	assert_int_equal(r.type, ROUTE_GROUP);
	assert_int_equal(api_route_parse(&r, "/apis/apps/v1", &err), 0);
	assert_int_equal(r.type, ROUTE_RESOURCES);
	assert_int_equal(api_route_parse(&r, "/api/v1", &err), 0);
	assert_int_equal(r.type, ROUTE_RESOURCES);
	assert_int_equal(api_route_parse(&r, "/healthz", &err), 0);
	assert_int_equal(r.type, ROUTE_HEALTH);
	assert_int_equal(api_route_parse(&r, "/apis/metrics.k8s.io/v1beta1/namespaces/d/pods/x", &err), 0);
	assert_int_equal(r.type, ROUTE_METRICS);
	assert_string_equal(r.name, "x");

	static const char *const bad[] = {
		"/", "/api/v2", "/api/v1/widgets", "/apis/apps/v2/deployments",
		"/apis/apps/v1/pods", "/api/v1/deployments", "/api/v1/namespaces/d/pods/p/scale",
		"/api/v1/namespaces/d/configmaps/c/status", "/api/v1/namespaces/d/pods/p/q/r",
		"/api/v1/pods/p", "/apis/batch/v1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(api_route_parse(&r, bad[i], &err), SW_ENOTFOUND);
		sw_error_clear(&err);
	}
	assert_int_equal(api_route_parse(&r, "/api/v1/namespaces/d/pods/%2e%2e", &err), SW_EINVALID);
	sw_error_clear(&err);
	assert_int_equal(api_route_parse(&r, "/api/v1/namespaces/d/pods/a%2Fb", &err), SW_EINVALID);
	sw_error_clear(&err);
}

/* ---- Status ---- */

static void test_status_bodies(void **state)
{
	(void)state;
	const sw_kind *dep = sw_kind_by_resource("apps", "deployments");
	sw_error *err = NULL;
	sw_error_set(&err, SW_ENOTFOUND, "deployments.apps \"web\" not found");
	cleanup_json json_t *st = api_status_from_error(err, dep, "web");
	assert_json(st, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
	                "\"message\":\"deployments.apps \\\"web\\\" not found\",\"reason\":\"NotFound\","
	                "\"details\":{\"name\":\"web\",\"group\":\"apps\",\"kind\":\"deployments\"},"
	                "\"code\":404}");
	sw_error_clear(&err);
	assert_int_equal(api_http_code(SW_ECONFLICT), 409);
	assert_string_equal(api_reason(SW_ECONFLICT), "Conflict");
	assert_int_equal(api_http_code(SW_EEXISTS), 409);
	assert_string_equal(api_reason(SW_EEXISTS), "AlreadyExists");
	assert_int_equal(api_http_code(SW_EGONE), 410);
	assert_int_equal(api_http_code(SW_EINVALID), 422);
	assert_int_equal(api_http_code(SW_EFORBIDDEN), 403);
	cleanup_json json_t *plain = api_status_failure(401, "Unauthorized", "Unauthorized", NULL, NULL, NULL);
	assert_json(plain, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
	                   "\"message\":\"Unauthorized\",\"reason\":\"Unauthorized\",\"code\":401}");
}

/* ---- patches ---- */

static void test_merge_patch(void **state)
{
	(void)state;
	/* RFC 7386 appendix A, a few of its cases */
	static const char *const cases[][3] = {
		{ "{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}" },
		{ "{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}" },
		{ "{\"a\":\"b\"}", "{\"a\":null}", "{}" },
		{ "{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}" },
		{ "{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}" },
		{ "{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}" },
		{ "{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}" },
		{ "[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]" },
		{ "{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cleanup_json json_t *t = J(cases[i][0]);
		cleanup_json json_t *p = J(cases[i][1]);
		cleanup_json json_t *o = api_merge_patch(t, p);
		assert_json(o, cases[i][2]);
	}
}

static void test_strategic_patch(void **state)
{
	(void)state;
	cleanup_json json_t *t = J("{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"},"
	                           "{\"name\":\"b\",\"image\":\"y\"}],\"nodeName\":\"n\"}}");
	cleanup_json json_t *p = J("{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"z\"},"
	                           "{\"name\":\"c\",\"image\":\"w\"}],"
	                           "\"$setElementOrder/containers\":[{\"name\":\"a\"}]}}");
	cleanup_json json_t *o = NULL;
	sw_error *err = NULL;
	assert_int_equal(api_strategic_merge_patch(&o, t, p, &err), 0);
	assert_json(o, "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"},"
	               "{\"name\":\"b\",\"image\":\"z\"},{\"name\":\"c\",\"image\":\"w\"}],\"nodeName\":\"n\"}}");
	/* $patch: delete in a list, replace of a map */
	cleanup_json json_t *p2 = J("{\"spec\":{\"containers\":[{\"name\":\"a\",\"$patch\":\"delete\"}],"
	                            "\"$retainKeys\":[\"containers\"]}}");
	cleanup_json json_t *o2 = NULL;
	assert_int_equal(api_strategic_merge_patch(&o2, t, p2, &err), 0);
	assert_json(o2, "{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"y\"}],\"nodeName\":\"n\"}}");
	cleanup_json json_t *p3 = J("{\"spec\":{\"$patch\":\"replace\",\"replicas\":2}}");
	cleanup_json json_t *o3 = NULL;
	assert_int_equal(api_strategic_merge_patch(&o3, t, p3, &err), 0);
	assert_json(o3, "{\"spec\":{\"replicas\":2}}");
	/* lists without a merge key are replaced */
	cleanup_json json_t *t4 = J("{\"args\":[\"a\",\"b\"]}");
	cleanup_json json_t *p4 = J("{\"args\":[\"c\"]}");
	cleanup_json json_t *o4 = NULL;
	assert_int_equal(api_strategic_merge_patch(&o4, t4, p4, &err), 0);
	assert_json(o4, "{\"args\":[\"c\"]}");
}

static void test_json_patch(void **state)
{
	(void)state;
	cleanup_json json_t *t = J("{\"spec\":{\"replicas\":1,\"list\":[1,2]},\"a/b\":0}");
	cleanup_json json_t *p = J("[{\"op\":\"test\",\"path\":\"/spec/replicas\",\"value\":1},"
	                           "{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":3},"
	                           "{\"op\":\"add\",\"path\":\"/spec/list/-\",\"value\":3},"
	                           "{\"op\":\"add\",\"path\":\"/spec/list/0\",\"value\":0},"
	                           "{\"op\":\"remove\",\"path\":\"/a~1b\"},"
	                           "{\"op\":\"copy\",\"from\":\"/spec/replicas\",\"path\":\"/c\"},"
	                           "{\"op\":\"move\",\"from\":\"/c\",\"path\":\"/d\"}]");
	cleanup_json json_t *o = NULL;
	sw_error *err = NULL;
	assert_int_equal(api_json_patch(&o, t, p, &err), 0);
	assert_json(o, "{\"spec\":{\"replicas\":3,\"list\":[0,1,2,3]},\"d\":3}");
	/* a failed test changes nothing and is an error */
	cleanup_json json_t *bad = J("[{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":9},"
	                             "{\"op\":\"test\",\"path\":\"/spec/replicas\",\"value\":1}]");
	json_t *o2 = NULL;
	assert_int_equal(api_json_patch(&o2, t, bad, &err), SW_EINVALID);
	assert_null(o2);
	sw_error_clear(&err);
	assert_int_equal(sw_obj_int(t, "spec.replicas", 0), 1);
	cleanup_json json_t *missing = J("[{\"op\":\"remove\",\"path\":\"/nope\"}]");
	assert_int_equal(api_json_patch(&o2, t, missing, &err), SW_EINVALID);
	sw_error_clear(&err);
	assert_int_equal(api_patch_type_of("application/merge-patch+json"), PATCH_MERGE);
	assert_int_equal(api_patch_type_of("application/strategic-merge-patch+json; charset=utf-8"),
	                 PATCH_STRATEGIC);
	assert_int_equal(api_patch_type_of("application/json-patch+json"), PATCH_JSON);
	assert_int_equal(api_patch_type_of("application/apply-patch+yaml"), PATCH_APPLY);
	assert_int_equal(api_patch_type_of("application/json"), -1);
	assert_int_equal(api_patch_type_of(NULL), -1);
}

/* ---- tables ---- */

static void test_human_age(void **state)
{
	(void)state;
	static const struct {
		long d;
		const char *want;
	} cases[] = {
		{ -5, "<invalid>" }, { 0, "0s" },    { 59, "59s" },      { 119, "119s" },
		{ 120, "2m" },       { 150, "2m30s" }, { 600, "10m" },   { 3 * 3600, "3h" },
		{ 3 * 3600 + 120, "3h2m" }, { 9 * 3600, "9h" }, { 50 * 3600, "2d2h" },
		{ 10 * 86400, "10d" }, { 800 * 86400L, "2y70d" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[32];
		api_human_age(buf, sizeof(buf), 1000000 - cases[i].d, 1000000);
		assert_string_equal(buf, cases[i].want);
	}
}

static void test_pod_status(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{ "{\"status\":{\"phase\":\"Pending\"}}", "Pending" },
		{ "{\"status\":{\"phase\":\"Pending\",\"containerStatuses\":[{\"state\":{\"waiting\":"
		  "{\"reason\":\"ContainerCreating\"}}}]}}",
		  "ContainerCreating" },
		{ "{\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"ready\":true,\"state\":"
		  "{\"running\":{}}}]}}",
		  "Running" },
		{ "{\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"state\":{\"waiting\":"
		  "{\"reason\":\"CrashLoopBackOff\"}}}]}}",
		  "CrashLoopBackOff" },
		{ "{\"status\":{\"phase\":\"Succeeded\",\"containerStatuses\":[{\"state\":{\"terminated\":"
		  "{\"reason\":\"Completed\",\"exitCode\":0}}}]}}",
		  "Completed" },
		{ "{\"status\":{\"phase\":\"Failed\",\"containerStatuses\":[{\"state\":{\"terminated\":"
		  "{\"exitCode\":3}}}]}}",
		  "ExitCode:3" },
		{ "{\"metadata\":{\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"},\"status\":{\"phase\":"
		  "\"Running\"}}",
		  "Terminating" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cleanup_json json_t *pod = J(cases[i][0]);
		char buf[64];
		assert_string_equal(api_pod_status(pod, buf, sizeof(buf)), cases[i][1]);
	}
}

static void test_table(void **state)
{
	(void)state;
	const sw_kind *pods = sw_kind_by_resource("", "pods");
	cleanup_json json_t *items = J(
		"[{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\",\"creationTimestamp\":"
		"\"1970-01-01T00:00:00Z\"},\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]},"
		"\"status\":{\"phase\":\"Running\",\"podIP\":\"127.0.0.1\",\"containerStatuses\":["
		"{\"name\":\"a\",\"ready\":true,\"restartCount\":2,\"state\":{\"running\":{}}},"
		"{\"name\":\"b\",\"ready\":false,\"restartCount\":0,\"state\":{\"running\":{}}}]}}]");
	cleanup_json json_t *t = api_table(pods, items, true, "7", NULL, 300);
	assert_string_equal(json_string_value(json_object_get(t, "kind")), "Table");
	assert_string_equal(json_string_value(json_object_get(t, "apiVersion")), "meta.k8s.io/v1");
	json_t *cols = json_object_get(t, "columnDefinitions");
	assert_string_equal(json_string_value(json_object_get(json_array_get(cols, 0), "name")), "Name");
	json_t *row = json_array_get(json_object_get(t, "rows"), 0);
	assert_json(json_object_get(row, "cells"),
	            "[\"web-1\",\"1/2\",\"Running\",\"2\",\"5m\",\"127.0.0.1\",\"<none>\",\"<none>\",\"<none>\"]");
	assert_string_equal(sw_obj_str(json_object_get(row, "object"), "kind"), "PartialObjectMetadata");
	assert_string_equal(sw_obj_str(json_object_get(row, "object"), "metadata.name"), "web-1");
	cleanup_json json_t *t2 = api_table(pods, items, false, "7", NULL, 300);
	assert_int_equal(json_array_size(json_object_get(t2, "columnDefinitions")), 0);
}

/* ---- discovery ---- */

static void test_discovery(void **state)
{
	(void)state;
	cleanup_json json_t *v = api_discovery_version();
	assert_string_equal(sw_obj_str(v, "major"), "1");
	assert_string_equal(sw_obj_str(v, "minor"), "32");
	cleanup_json json_t *apis = api_discovery_apis();
	assert_string_equal(sw_obj_str(apis, "kind"), "APIGroupList");
	bool apps = false;
	size_t i;
	json_t *g;
	json_array_foreach(json_object_get(apis, "groups"), i, g)
		if (strcmp(sw_obj_str(g, "name"), "apps") == 0)
			apps = true;
	assert_true(apps);
	cleanup_json json_t *res = api_discovery_resources("apps", "v1");
	assert_string_equal(sw_obj_str(res, "groupVersion"), "apps/v1");
	bool scale = false, deploy = false;
	json_t *r;
	json_array_foreach(json_object_get(res, "resources"), i, r) {
		if (strcmp(sw_obj_str(r, "name"), "deployments/scale") == 0) {
			scale = true;
			assert_string_equal(sw_obj_str(r, "kind"), "Scale");
			assert_string_equal(sw_obj_str(r, "group"), "autoscaling");
		}
		if (strcmp(sw_obj_str(r, "name"), "deployments") == 0) {
			deploy = true;
			assert_string_equal(json_string_value(json_array_get(json_object_get(r, "shortNames"), 0)),
			                    "deploy");
		}
	}
	assert_true(scale && deploy);
	cleanup_json json_t *core = api_discovery_resources("", "v1");
	assert_string_equal(sw_obj_str(core, "groupVersion"), "v1");
	assert_null(api_discovery_resources("apps", "v2"));
	cleanup_json json_t *idx = api_openapi_index();
	assert_non_null(sw_obj_path(json_object_get(idx, "paths"), "api/v1"));
	cleanup_json json_t *gv = api_openapi_gv("apps", "v1");
	json_t *item = json_object_get(json_object_get(gv, "paths"),
	                               "/apis/apps/v1/namespaces/{namespace}/deployments/{name}");
	assert_string_equal(sw_obj_str(item, "patch.x-kubernetes-group-version-kind.kind"), "Deployment");
	assert_null(api_openapi_gv("apps", "v9"));
	cleanup_json json_t *agg = api_discovery_aggregated(false);
	assert_string_equal(sw_obj_str(agg, "kind"), "APIGroupDiscoveryList");
	json_t *appsg = json_array_get(json_object_get(agg, "items"), 0);
	assert_string_equal(sw_obj_str(appsg, "metadata.name"), "apps");
	json_t *v1 = json_array_get(json_object_get(appsg, "versions"), 0);
	json_t *dres = json_array_get(json_object_get(v1, "resources"), 0);
	assert_string_equal(sw_obj_str(dres, "resource"), "deployments");
	assert_string_equal(sw_obj_str(dres, "scope"), "Namespaced");
	json_t *subs = json_object_get(dres, "subresources");
	assert_int_equal(json_array_size(subs), 2);
	assert_string_equal(sw_obj_str(json_array_get(subs, 1), "responseKind.kind"), "Scale");
	cleanup_json json_t *core_agg = api_discovery_aggregated(true);
	assert_int_equal(json_array_size(json_object_get(core_agg, "items")), 1);
	api_route rt;
	sw_error *err = NULL;
	assert_int_equal(api_route_parse(&rt, "/openapi/v3/apis/apps/v1", &err), 0);
	assert_int_equal(rt.type, ROUTE_OPENAPI);
	assert_string_equal(rt.sub, "gv");
	assert_string_equal(rt.group, "apps");
	assert_int_equal(api_route_parse(&rt, "/openapi/v2", &err), 0);
	assert_string_equal(rt.sub, "");
	assert_null(api_discovery_group("batch"));
}

/* ---- --listen and tokens ---- */

static void test_parse_listen(void **state)
{
	(void)state;
	char *host = NULL;
	int port = -1;
	bool tls = true;
	sw_error *err = NULL;
	assert_int_equal(sw_api_parse_listen("tcp://127.0.0.1:0", &host, &port, &tls, &err), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 0);
	assert_false(tls);
	free(host);
	assert_int_equal(sw_api_parse_listen("https://[::1]:6443", &host, &port, &tls, &err), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 6443);
	assert_true(tls);
	free(host);
	static const char *const bad[] = { "127.0.0.1:80", "tcp://127.0.0.1", "tcp://:80",
		                           "tcp://h:70000", "tcp://h:x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(sw_api_parse_listen(bad[i], &host, &port, &tls, &err), SW_EINVALID);
		sw_error_clear(&err);
	}
}

static void test_tokens(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_api.XXXXXX";
	assert_non_null(mkdtemp(dir));
	sw_error *err = NULL;
	assert_false(sw_token_check(dir, "anything", NULL));
	cleanup_free char *tok = NULL, *name = NULL;
	assert_int_equal(sw_token_create(dir, "ci", &tok, &name, &err), 0);
	assert_string_equal(name, "ci");
	assert_int_equal(strlen(tok), 64);
	char *tok2 = NULL;
	assert_int_equal(sw_token_create(dir, "ci", &tok2, NULL, &err), SW_EEXISTS);
	sw_error_clear(&err);
	assert_int_equal(sw_token_create(dir, "bad name", &tok2, NULL, &err), SW_EINVALID);
	sw_error_clear(&err);
	cleanup_free char *other = NULL, *gen = NULL;
	assert_int_equal(sw_token_create(dir, NULL, &other, &gen, &err), 0);
	assert_int_equal(strncmp(gen, "token-", 6), 0);

	char *who = NULL;
	assert_true(sw_token_check(dir, tok, &who));
	assert_string_equal(who, "ci");
	free(who);
	assert_false(sw_token_check(dir, "nope", NULL));
	assert_false(sw_token_check(dir, "", NULL));

	/* the file is 0600 and holds no token */
	char path[64];
	snprintf(path, sizeof(path), "%s/tokens", dir);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	cleanup_free char *data = NULL;
	size_t len;
	assert_int_equal(sw_read_file(&data, &len, path, 1 << 20, &err), 0);
	assert_null(strstr(data, tok));

	cleanup_strv char **names = NULL;
	assert_int_equal(sw_token_list(dir, &names, &err), 0);
	assert_string_equal(names[0], "ci");
	assert_non_null(names[1]);
	assert_null(names[2]);

	assert_int_equal(sw_token_revoke(dir, "ci", &err), 0);
	assert_false(sw_token_check(dir, tok, NULL));
	assert_true(sw_token_check(dir, other, NULL));
	assert_int_equal(sw_token_revoke(dir, "ci", &err), SW_ENOTFOUND);
	sw_error_clear(&err);

	unlink(path);
	snprintf(path, sizeof(path), "%s/tokens.lock", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_objects),
		cmocka_unit_test(test_route_discovery_and_errors),
		cmocka_unit_test(test_status_bodies),
		cmocka_unit_test(test_merge_patch),
		cmocka_unit_test(test_strategic_patch),
		cmocka_unit_test(test_json_patch),
		cmocka_unit_test(test_human_age),
		cmocka_unit_test(test_pod_status),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_discovery),
		cmocka_unit_test(test_parse_listen),
		cmocka_unit_test(test_tokens),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
