/*
 * test_printers.c - the CLI's kubectl-style output: ages, the pod STATUS
 * column, table rows and layout, -o name, YAML.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/kinds.h"
#include "slipway/printers.h"

static json_t *J(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);
	if (!j)
		fail_msg("bad test JSON: %s: %s", e.text, s);
	return j;
}

static void test_human_duration(void **state)
{
	static const struct {
		int64_t s;
		const char *want;
	} cases[] = {
		{ -5, "<invalid>" }, { -1, "0s" }, { 0, "0s" }, { 45, "45s" }, { 119, "119s" }, { 120, "2m" },
		{ 185, "3m5s" }, { 600, "10m" }, { 10799, "179m" }, { 10800, "3h" }, { 11100, "3h5m" },
		{ 8 * 3600, "8h" }, { 47 * 3600, "47h" }, { 48 * 3600, "2d" }, { 50 * 3600, "2d2h" },
		{ 8 * 86400, "8d" }, { 730 * 86400, "2y" }, { 740 * 86400, "2y10d" }, { 3000 * 86400L, "8y" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[32];
		sw_human_duration(cases[i].s, buf);
		assert_string_equal(buf, cases[i].want);
	}
	char buf[32];
	sw_age(NULL, 0, buf);
	assert_string_equal(buf, "<unknown>");
	sw_age("2026-11-28T00:00:00Z", 1795824000 + 185, buf); /* 2026-11-28T00:00:00Z + 185 s */
	assert_string_equal(buf, "3m5s");
}

static void check_status(const char *pod, const char *want)
{
	cleanup_json json_t *p = J(pod);
	cleanup_free char *s = sw_pod_status(p);
	assert_string_equal(s, want);
}

static void test_pod_status(void **state)
{
	(void)state;
	check_status("{\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":{}}", "Pending");
	check_status("{\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"ready\":true,\"state\":{\"running\":{}}}]}}",
	             "Running");
	check_status("{\"status\":{\"phase\":\"Pending\",\"containerStatuses\":[{\"state\":{\"waiting\":{\"reason\":\"ContainerCreating\"}}}]}}",
	             "ContainerCreating");
	check_status("{\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"restartCount\":4,\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}}}]}}",
	             "CrashLoopBackOff");
	check_status("{\"status\":{\"phase\":\"Succeeded\",\"containerStatuses\":[{\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\"}}}]}}",
	             "Completed");
	check_status("{\"status\":{\"phase\":\"Failed\",\"containerStatuses\":[{\"state\":{\"terminated\":{\"exitCode\":1,\"reason\":\"Error\"}}}]}}",
	             "Error");
	check_status("{\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"state\":{\"terminated\":{\"exitCode\":137,\"reason\":\"OOMKilled\"}}}]}}",
	             "OOMKilled");
	check_status("{\"status\":{\"phase\":\"Failed\",\"containerStatuses\":[{\"state\":{\"terminated\":{\"exitCode\":3}}}]}}",
	             "ExitCode:3");
	check_status("{\"status\":{\"phase\":\"Failed\",\"containerStatuses\":[{\"state\":{\"terminated\":{\"exitCode\":0,\"signal\":9}}}]}}",
	             "Signal:9");
	check_status("{\"metadata\":{\"deletionTimestamp\":\"2026-11-28T00:00:00Z\"},\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"ready\":true,\"state\":{\"running\":{}}}]}}",
	             "Terminating");
	check_status("{\"metadata\":{\"deletionTimestamp\":\"2026-11-28T00:00:00Z\"},\"status\":{\"phase\":\"Succeeded\",\"containerStatuses\":[{\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\"}}}]}}",
	             "Completed");
	check_status("{\"spec\":{\"initContainers\":[{\"name\":\"i\"}]},\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":[{\"state\":{\"running\":{}}}]}}",
	             "Init:0/1");
	check_status("{\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":[{\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}}}]}}",
	             "Init:CrashLoopBackOff");
	/* one container done, one still running and ready */
	check_status("{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"
	             "\"containerStatuses\":[{\"ready\":true,\"state\":{\"running\":{}}},"
	             "{\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\"}}}]}}",
	             "Running");
	check_status("{\"status\":{\"phase\":\"Running\",\"reason\":\"Evicted\"}}", "Evicted");
}

static void test_pod_row(void **state)
{
	(void)state;
	cleanup_json json_t *pod = J(
		"{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\",\"creationTimestamp\":\"2026-11-28T00:00:00Z\"},"
		"\"spec\":{\"nodeName\":\"host\",\"containers\":[{\"name\":\"web\"},{\"name\":\"side\"}]},"
		"\"status\":{\"phase\":\"Running\",\"podIP\":\"127.0.0.1\",\"slipwayPorts\":[{\"container\":\"web\",\"containerPort\":5000,\"hostPort\":40123,\"protocol\":\"TCP\"}],"
		"\"containerStatuses\":[{\"name\":\"web\",\"ready\":true,\"restartCount\":2,\"state\":{\"running\":{}},"
		"\"lastState\":{\"terminated\":{\"finishedAt\":\"2026-11-28T00:01:00Z\"}}},"
		"{\"name\":\"side\",\"ready\":false,\"restartCount\":0,\"state\":{\"running\":{}}}]}}");
	const sw_kind *k = sw_kind_lookup("po");
	sw_print_opts o = { .wide = true, .namespace_column = true, .now = 1795824000 + 300 };
	cleanup_json json_t *cols = sw_table_columns(k, &o);
	cleanup_json json_t *row = sw_table_row(k, pod, &o);
	cleanup_free char *c = json_dumps(cols, JSON_COMPACT);
	cleanup_free char *r = json_dumps(row, JSON_COMPACT);
	assert_string_equal(c, "[\"NAMESPACE\",\"NAME\",\"READY\",\"STATUS\",\"RESTARTS\",\"AGE\",\"IP\",\"NODE\",\"PORTS\"]");
	assert_string_equal(r, "[\"default\",\"web-1\",\"1/2\",\"Running\",\"2 (4m ago)\",\"5m\",\"127.0.0.1\",\"host\",\"40123->5000/TCP\"]");
}

static void test_deployment_table(void **state)
{
	(void)state;
	cleanup_json json_t *items = J(
		"[{\"metadata\":{\"name\":\"web\",\"creationTimestamp\":\"2026-11-28T00:00:00Z\"},"
		"\"spec\":{\"replicas\":3,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
		"\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"hello:v1\"}]}}},"
		"\"status\":{\"readyReplicas\":2,\"updatedReplicas\":3,\"availableReplicas\":2}},"
		"{\"metadata\":{\"name\":\"worker-long-name\",\"creationTimestamp\":\"2026-11-27T00:00:00Z\"},"
		"\"spec\":{\"replicas\":1,\"selector\":{\"matchLabels\":{\"app\":\"w\",\"a\":\"b\"},"
		"\"matchExpressions\":[{\"key\":\"t\",\"operator\":\"In\",\"values\":[\"x\",\"y\"]}]}},\"status\":{}}]");
	const sw_kind *k = sw_kind_lookup("deployments.apps");
	sw_print_opts o = { .now = 1795824000 + 42 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	sw_print_table(f, k, items, &o);
	fclose(f);
	assert_string_equal(buf, "NAME               READY   UP-TO-DATE   AVAILABLE   AGE\n"
	                         "web                2/3     3            2           42s\n"
	                         "worker-long-name   0/1     0            0           24h\n");
	free(buf);

	o.wide = true;
	cleanup_json json_t *row = sw_table_row(k, json_array_get(items, 1), &o);
	assert_string_equal(json_string_value(json_array_get(row, 7)), "a=b,app=w,t in (x,y)");
	assert_string_equal(json_string_value(json_array_get(row, 5)), "<none>");
}

static void test_other_kinds(void **state)
{
	(void)state;
	cleanup_json json_t *svc = J("{\"metadata\":{\"name\":\"web\"},\"spec\":{\"type\":\"NodePort\",\"clusterIP\":\"10.0.0.1\","
	                             "\"ports\":[{\"port\":80,\"nodePort\":30080,\"protocol\":\"TCP\"},{\"port\":53,\"protocol\":\"UDP\"}]}}");
	cleanup_json json_t *ev = J("{\"metadata\":{\"name\":\"e1\"},\"type\":\"Warning\",\"reason\":\"BackOff\",\"message\":\" restarting \","
	                            "\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"web-1\"},\"lastTimestamp\":\"2026-11-28T00:00:00Z\"}");
	cleanup_json json_t *ep = J("{\"metadata\":{\"name\":\"web\"},\"subsets\":[{\"addresses\":[{\"ip\":\"127.0.0.1\"},{\"ip\":\"127.0.0.2\"}],"
	                            "\"ports\":[{\"port\":1},{\"port\":2}]}]}");
	sw_print_opts o = { .now = 1795824000 + 10 };
	cleanup_json json_t *r1 = sw_table_row(sw_kind_lookup("svc"), svc, &o);
	cleanup_json json_t *r2 = sw_table_row(sw_kind_lookup("events"), ev, &o);
	cleanup_json json_t *r3 = sw_table_row(sw_kind_lookup("ep"), ep, &o);
	cleanup_free char *s1 = json_dumps(r1, JSON_COMPACT);
	cleanup_free char *s2 = json_dumps(r2, JSON_COMPACT);
	cleanup_free char *s3 = json_dumps(r3, JSON_COMPACT);
	assert_string_equal(s1, "[\"web\",\"NodePort\",\"10.0.0.1\",\"<none>\",\"80:30080/TCP,53/UDP\",\"<unknown>\"]");
	assert_string_equal(s2, "[\"10s\",\"Warning\",\"BackOff\",\"pod/web-1\",\"restarting\"]");
	assert_string_equal(s3, "[\"web\",\"127.0.0.1:1,127.0.0.1:2,127.0.0.2:1 + 1 more...\",\"<unknown>\"]");

	cleanup_free char *n1 = sw_object_name_ref(sw_kind_lookup("deploy"), svc);
	cleanup_free char *n2 = sw_object_name_ref(sw_kind_lookup("po"), svc);
	assert_string_equal(n1, "deployment.apps/web");
	assert_string_equal(n2, "pod/web");
}

static void test_yaml(void **state)
{
	(void)state;
	cleanup_json json_t *j = J("{\"kind\":\"Pod\",\"b\":\"true\",\"a\":1,\"n\":null,\"c\":[\"x\",{\"d\":\"\",\"e\":\"007\"}],"
	                           "\"m\":\"one\\ntwo\\n\",\"empty\":{},\"list\":[],\"f\":1.5,\"k\":\"a: b\","
	                           "\"t\":\"2026-11-28T00:11:06Z\",\"u\":\"762949bd-ad6d-45ca\",\"h\":\"0x1F\",\"s\":\"1:20\","
	                           "\"v\":\"1.2.3\",\"o\":\"0o17\"}");
	cleanup_free char *y = NULL;
	assert_int_equal(sw_print_yaml(&y, j, NULL), 0);
	assert_string_equal(y, "a: 1\n"
	                       "b: \"true\"\n"
	                       "c:\n"
	                       "- x\n"
	                       "- d: \"\"\n"
	                       "  e: \"007\"\n"
	                       "empty: {}\n"
	                       "f: 1.5\n"
	                       "h: \"0x1F\"\n"
	                       "k: 'a: b'\n"
	                       "kind: Pod\n"
	                       "list: []\n"
	                       "m: |\n"
	                       "  one\n"
	                       "  two\n"
	                       "\"n\": null\n"
	                       "o: \"0o17\"\n"
	                       "s: \"1:20\"\n"
	                       "t: \"2026-11-28T00:11:06Z\"\n"
	                       "u: 762949bd-ad6d-45ca\n"
	                       "v: 1.2.3\n");
}

static void test_tabwriter(void **state)
{
	(void)state;
	sw_tabwriter *w = sw_tabwriter_new(2);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	sw_tabwriter_printf(w, "Name:\t%s\nNamespace:\tdemo\nLabels:\tapp=web\n\tx=y\nIPs:\n  IP:\t127.0.0.1\n", "web");
	sw_tabwriter_printf(w, "Conditions:\n  Type\tStatus\tReason\n  ----\t------\t------\n");
	sw_tabwriter_printf(w, "  Available \tTrue\tMinimumReplicasAvailable\n  Progressing \tTrue\tNewReplicaSetAvailable\n");
	sw_tabwriter_printf(w, "Events:\t<none>\n");
	sw_tabwriter_flush(w, f);
	fclose(f);
	assert_string_equal(buf, "Name:       web\n"
	                         "Namespace:  demo\n"
	                         "Labels:     app=web\n"
	                         "            x=y\n"
	                         "IPs:\n"
	                         "  IP:  127.0.0.1\n"
	                         "Conditions:\n"
	                         /* Events: is in the same column block */
	                         "  Type          Status  Reason\n"
	                         "  ----          ------  ------\n"
	                         "  Available     True    MinimumReplicasAvailable\n"
	                         "  Progressing   True    NewReplicaSetAvailable\n"
	                         "Events:         <none>\n");
	free(buf);
	sw_tabwriter_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_human_duration), cmocka_unit_test(test_pod_status),
		cmocka_unit_test(test_pod_row),        cmocka_unit_test(test_deployment_table),
		cmocka_unit_test(test_other_kinds),    cmocka_unit_test(test_yaml),
		cmocka_unit_test(test_tabwriter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
