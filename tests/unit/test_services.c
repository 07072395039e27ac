/* test_services.c - Services' control plane: Endpoints from pods, the
 * proxy's configuration entries (groups, weights, affinity, node ports),
 * and a sync against a real store writing STATE/proxy/config.json. */
#include <event2/event.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "slipway/json.h"
#include "slipway/object.h"
#include "slipway/services.h"

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	if (!j)
		fail_msg("bad test JSON: %s: %s", e.text, text);
	return j;
}

/* a pod: name, version label, ready?, host port for containerPort 8080 named http */
static json_t *pod(const char *name, const char *version, bool ready, int hostport, bool deleting)
{
	json_t *p = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:{s:s, s:s}}, s:{s:s, s:[{s:s, s:s}],"
	                      " s:[{s:s, s:s, s:i, s:i}]}}",
	                      "apiVersion", "v1", "kind", "Pod",
	                      "metadata", "name", name, "namespace", "default", "uid", name,
	                      "labels", "app", "web", "version", version,
	                      "status", "phase", "Running", "conditions", "type", "Ready", "status",
	                      ready ? "True" : "False",
	                      "slipwayPorts", "container", "web", "name", "http", "containerPort", 8080,
	                      "hostPort", hostport);
	if (deleting)
		json_object_set_new(json_object_get(p, "metadata"), "deletionTimestamp",
		                    json_string("2026-11-28T00:00:00Z"));
	return p;
}

static json_t *service(const char *extra_annotations)
{
	char buf[2048];
	snprintf(buf, sizeof(buf),
	         "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web\","
	         "\"namespace\":\"default\",\"annotations\":{%s}},\"spec\":{\"selector\":{\"app\":\"web\"},"
	         "\"ports\":[{\"name\":\"http\",\"port\":18080,\"targetPort\":\"http\",\"protocol\":\"TCP\"}]}}",
	         extra_annotations);
	return J(buf);
}

static void test_endpoints(void **state)
{
	(void)state;
	json_t *pods = json_pack("[o,o,o,o]", pod("a", "v1", true, 40001, false),
	                         pod("b", "v1", false, 40002, false), pod("c", "v2", true, 40003, true),
	                         pod("d", "v1", true, 40004, false));
	json_object_set_new(sw_obj_labels(json_array_get(pods, 3)), "app", json_string("other"));
	json_t *svc = service("");
	json_t *ep = sw_services_endpoints(svc, pods);
	json_t *subsets = json_object_get(ep, "subsets");
	assert_int_equal(json_array_size(subsets), 2);
	assert_string_equal(sw_obj_str(json_array_get(json_object_get(json_array_get(subsets, 0), "addresses"), 0),
	                               "targetRef.name"), "a");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
		json_object_get(json_array_get(subsets, 0), "ports"), 0), "port")), 40001);
	assert_non_null(json_object_get(json_array_get(subsets, 1), "notReadyAddresses"));
	assert_string_equal(sw_obj_str(ep, "kind"), "Endpoints");
	json_decref(ep);
	json_decref(svc);
	json_decref(pods);
}

static void test_proxy_entries(void **state)
{
	(void)state;
	json_t *pods = json_pack("[o,o,o]", pod("a", "v1", true, 40001, false),
	                         pod("b", "v2", true, 40002, false), pod("c", "v1", true, 40003, true));
	/* plain: one default group; the terminating pod is there, marked */
	json_t *svc = service("\"slipway.dev/protocol\":\"http\"");
	json_t *entries = json_array();
	sw_error *err = NULL;
	assert_int_equal(sw_services_proxy_entries(svc, pods, "/state", entries, &err), 0);
	assert_int_equal(json_array_size(entries), 1);
	json_t *e = json_array_get(entries, 0);
	assert_string_equal(sw_obj_str(e, "name"), "default/web:http");
	assert_string_equal(sw_obj_str(e, "mode"), "http");
	json_t *g = json_array_get(json_object_get(e, "groups"), 0);
	assert_string_equal(sw_obj_str(g, "name"), "default");
	assert_int_equal(json_array_size(json_object_get(g, "endpoints")), 3);
	assert_true(json_is_true(json_object_get(json_array_get(json_object_get(g, "endpoints"), 2),
	                                         "terminating")));
	json_decref(entries);
	json_decref(svc);
	/* weighted groups by label, a rule, ClientIP affinity, NodePort */
	svc = service("\"slipway.dev/traffic\":\"{\\\"groups\\\":[{\\\"name\\\":\\\"stable\\\",\\\"selector\\\":"
	              "{\\\"version\\\":\\\"v1\\\"},\\\"weight\\\":90},{\\\"name\\\":\\\"canary\\\",\\\"selector\\\":"
	              "{\\\"version\\\":\\\"v2\\\"},\\\"weight\\\":10}],\\\"rules\\\":[{\\\"match\\\":{\\\"pathPrefix\\\":"
	              "\\\"/beta\\\"},\\\"group\\\":\\\"canary\\\"}]}\"");
	json_t *spec = json_object_get(svc, "spec");
	json_object_set_new(spec, "type", json_string("NodePort"));
	json_object_set_new(spec, "sessionAffinity", json_string("ClientIP"));
	json_object_set_new(json_array_get(json_object_get(spec, "ports"), 0), "nodePort", json_integer(30080));
	entries = json_array();
	assert_int_equal(sw_services_proxy_entries(svc, pods, "/state", entries, &err), 0);
	e = json_array_get(entries, 0);
	assert_int_equal(json_array_size(json_object_get(e, "listen")), 2);
	assert_int_equal(sw_obj_int(e, "affinity.timeoutSeconds", 0), 10800);
	json_t *groups = json_object_get(e, "groups");
	assert_int_equal(json_array_size(groups), 2);
	assert_int_equal(sw_obj_int(json_array_get(groups, 0), "weight", 0), 90);
	assert_int_equal(json_array_size(json_object_get(json_array_get(groups, 0), "endpoints")), 2);
	assert_int_equal(json_array_size(json_object_get(json_array_get(groups, 1), "endpoints")), 1);
	assert_non_null(json_object_get(e, "rules"));
	json_decref(entries);
	json_decref(svc);
	/* a bad annotation is an error naming it */
	svc = service("\"slipway.dev/traffic\":\"{nope\"");
	entries = json_array();
	assert_int_equal(sw_services_proxy_entries(svc, pods, "/state", entries, &err), SW_EINVALID);
	char *msg = sw_error_string(err);
	assert_non_null(strstr(msg, "slipway.dev/traffic"));
	free(msg);
	sw_error_clear(&err);
	json_decref(entries);
	json_decref(svc);
	json_decref(pods);
}

static void test_sync(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_services.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char db[128];
	snprintf(db, sizeof(db), "%s/s.db", dir);
	sw_store *store = NULL;
	sw_error *err = NULL;
	assert_int_equal(sw_store_open(&store, db, &err), 0);
	struct event_base *base = event_base_new();
	sw_services *s = NULL;
	sw_services_opts opts = { .state_dir = dir, .proxy_bin = NULL, .admin_port = 0 };
	assert_int_equal(sw_services_start(&s, base, store, &opts, &err), 0);
	json_t *p = pod("a", "v1", true, 40001, false);
	json_object_del(json_object_get(p, "metadata"), "uid");
	assert_int_equal(sw_store_create(store, sw_kind_lookup("pods"), p, NULL, &err), 0);
	/* status is the agent's: set it through the status path */
	json_t *cur = NULL;
	assert_int_equal(sw_store_get(store, sw_kind_lookup("pods"), "default", "a", &cur, &err), 0);
	json_object_set(cur, "status", json_object_get(p, "status"));
	assert_int_equal(sw_store_update(store, sw_kind_lookup("pods"), cur, SW_STORE_STATUS, NULL, &err), 0);
	json_decref(cur);
	json_t *svc = service("");
	json_object_set_new(json_object_get(svc, "spec"), "type", json_string("LoadBalancer"));
	assert_int_equal(sw_store_create(store, sw_kind_lookup("svc"), svc, NULL, &err), 0);
	json_t *svc2 = service("");
	json_object_set_new(json_object_get(svc2, "metadata"), "name", json_string("clash"));
	assert_int_equal(sw_store_create(store, sw_kind_lookup("svc"), svc2, NULL, &err), 0);
	assert_int_equal(sw_services_sync(s, &err), 0);
	json_t *ep = NULL, *got = NULL;
	assert_int_equal(sw_store_get(store, sw_kind_lookup("endpoints"), "default", "web", &ep, &err), 0);
	assert_int_equal(json_array_size(json_object_get(ep, "subsets")), 1);
	assert_int_equal(sw_store_get(store, sw_kind_lookup("svc"), "default", "web", &got, &err), 0);
	assert_string_equal(sw_obj_str(got, "spec.clusterIP"), "127.0.0.1");
	json_int_t np = json_integer_value(json_object_get(json_array_get(sw_obj_path(got, "spec.ports"), 0),
	                                                   "nodePort"));
	assert_true(np >= 30000 && np <= 32767);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		sw_obj_path(got, "status.loadBalancer.ingress"), 0), "ip")), "127.0.0.1");
	/* the proxy configuration: one entry (the clash is left out, with an event) */
	char cfgpath[160];
	snprintf(cfgpath, sizeof(cfgpath), "%s/proxy/config.json", dir);
	json_t *cfg = NULL;
	assert_int_equal(sw_json_load_file(&cfg, cfgpath, 1 << 20, &err), 0);
	assert_int_equal(json_array_size(json_object_get(cfg, "services")), 1);
	json_int_t v1 = json_integer_value(json_object_get(cfg, "version"));
	json_decref(cfg);
	json_t *events = NULL;
	assert_int_equal(sw_store_list(store, sw_kind_lookup("events"), NULL, &events, NULL, NULL, &err), 0);
	size_t i;
	json_t *ev;
	bool clash_event = false;
	json_array_foreach(events, i, ev) {
		if (strcmp(sw_obj_str(ev, "reason"), "PortInUse") == 0)
			clash_event = true;
	}
	assert_true(clash_event);
	json_decref(events);
	/* nothing changed: the file keeps its version */
	assert_int_equal(sw_services_sync(s, &err), 0);
	assert_int_equal(sw_json_load_file(&cfg, cfgpath, 1 << 20, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(cfg, "version")), v1);
	json_decref(cfg);
	/* deleting the Service removes its Endpoints */
	assert_int_equal(sw_store_delete(store, sw_kind_lookup("svc"), "default", "web", NULL, NULL, &err), 0);
	assert_int_equal(sw_services_sync(s, &err), 0);
	json_t *gone = NULL;
	assert_int_equal(sw_store_get(store, sw_kind_lookup("endpoints"), "default", "web", &gone, &err),
	                 SW_ENOTFOUND);
	sw_error_clear(&err);
	sw_services_free(s);
	event_base_free(base);
	sw_store_free(store);
	json_decref(p);
	json_decref(svc);
	json_decref(svc2);
	json_decref(ep);
	json_decref(got);
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_proxy_entries),
		cmocka_unit_test(test_sync),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
