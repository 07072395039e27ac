/*
 * test_client.c - the API client's pure parts: URL paths per kind, query
 * escaping, kubectl's error lines from Status bodies, SLIPWAY_HOST parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slipway/cleanup.h"
#include "slipway/client.h"
#include "slipway/json.h"
#include "slipway/kinds.h"

static void test_paths(void **state)
{
	(void)state;
	cleanup_free char *a = sw_client_path(sw_kind_lookup("deploy"), "demo", "web", "scale");
	cleanup_free char *b = sw_client_path(sw_kind_lookup("pods"), NULL, NULL, NULL);
	cleanup_free char *c = sw_client_path(sw_kind_lookup("ns"), "ignored", "demo", NULL);
	cleanup_free char *d = sw_client_path(sw_kind_lookup("po"), "default", "p", "log");
	assert_string_equal(a, "/apis/apps/v1/namespaces/demo/deployments/web/scale");
	assert_string_equal(b, "/api/v1/pods");
	assert_string_equal(c, "/api/v1/namespaces/demo");
	assert_string_equal(d, "/api/v1/namespaces/default/pods/p/log");
	cleanup_free char *e = sw_client_escape("app=web,tier in (a,b)");
	assert_string_equal(e, "app%3Dweb%2Ctier%20in%20%28a%2Cb%29");
}

static void test_status_lines(void **state)
{
	(void)state;
	cleanup_json json_t *nf = json_loads("{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"NotFound\","
	                                     "\"message\":\"deployments.apps \\\"web\\\" not found\",\"code\":404}",
	                                     0, NULL);
	cleanup_json json_t *inv = json_loads("{\"kind\":\"Status\",\"reason\":\"Invalid\",\"message\":\"Deployment.apps "
	                                      "\\\"web\\\" is invalid: spec.replicas: Invalid value: -1\",\"code\":422}",
	                                      0, NULL);
	cleanup_free char *a = sw_client_status_message(nf, 404, NULL);
	cleanup_free char *b = sw_client_status_message(inv, 422, NULL);
	cleanup_free char *c = sw_client_status_message(NULL, 502, "Bad Gateway");
	cleanup_free char *d = sw_client_status_message(NULL, 500, NULL);
	cleanup_free char *e = sw_client_status_message(NULL, 401, "Unauthorized");
	assert_string_equal(a, "Error from server (NotFound): deployments.apps \"web\" not found");
	assert_string_equal(b, "Deployment.apps \"web\" is invalid: spec.replicas: Invalid value: -1");
	assert_string_equal(c, "Error from server: Bad Gateway");
	assert_string_equal(d, "Error from server: the server answered HTTP 500");
	assert_string_equal(e, "error: You must be logged in to the server (Unauthorized)");
}

static void test_targets(void **state)
{
	sw_client *c = NULL;
	sw_error *err = NULL;

	(void)state;
	unsetenv("SLIPWAY_HOST");
	assert_int_equal(sw_client_open(&c, "/var/lib/slipway", &err), 0);
	assert_string_equal(sw_client_target(c), "unix:///var/lib/slipway/slipwayd.sock");
	sw_client_free(c);
	setenv("SLIPWAY_HOST", "http://127.0.0.1:6443/", 1);
	assert_int_equal(sw_client_open(&c, NULL, &err), 0);
	assert_string_equal(sw_client_target(c), "http://127.0.0.1:6443");
	sw_client_free(c);
	setenv("SLIPWAY_HOST", "unix:///run/x.sock", 1);
	assert_int_equal(sw_client_open(&c, NULL, &err), 0);
	assert_string_equal(sw_client_target(c), "unix:///run/x.sock");
	sw_client_free(c);
	setenv("SLIPWAY_HOST", "ftp://x", 1);
	assert_int_equal(sw_client_open(&c, NULL, &err), SW_EINVALID);
	sw_error_clear(&err);
	setenv("SLIPWAY_HOST", "unix://relative.sock", 1);
	assert_int_equal(sw_client_open(&c, NULL, &err), SW_EINVALID);
	sw_error_clear(&err);
	unsetenv("SLIPWAY_HOST");
}

static void test_not_running(void **state)
{
	sw_client *c = NULL;
	sw_error *err = NULL;
	json_t *out = NULL;

	(void)state;
	setenv("SLIPWAY_HOST", "unix:///nonexistent/slipwayd.sock", 1);
	assert_int_equal(sw_client_open(&c, NULL, &err), 0);
	assert_false(sw_client_ready(c));
	assert_true(sw_client_request(c, "GET", "/api/v1/pods", NULL, &out, &err) < 0);
	assert_string_equal(err->msg, "cannot connect to slipwayd at unix:///nonexistent/slipwayd.sock: is it running? "
	                              "start it with `slipway up`");
	sw_error_free(err);
	sw_client_free(c);
	unsetenv("SLIPWAY_HOST");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_status_lines),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_not_running),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
