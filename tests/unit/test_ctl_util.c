/* Unit tests for the pure parts of the controllers (run/ctl_util.c, via
 * ctl_internal.h on this test's include path): FNV-1a and the
 * pod-template-hash, IntOrString and maxSurge/maxUnavailable resolution,
 * condition updates, pod availability, the scale-down victim order,
 * revision annotations and proportional-scaling fractions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctl_internal.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/object.h"

static json_t *load(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	if (!j)
		fail_msg("bad test json: %s: %s", e.text, text);
	return j;
}

static void test_fnv(void **state)
{
	(void)state;
	assert_int_equal(sw_ctl_fnv1a32(SW_FNV32_OFFSET, "", 0), 0x811c9dc5u);
	assert_int_equal(sw_ctl_fnv1a32(SW_FNV32_OFFSET, "a", 1), 0xe40c292cu);
	assert_int_equal(sw_ctl_fnv1a32(SW_FNV32_OFFSET, "foobar", 6), 0xbf9cf968u);
	char s[] = "0123456789";
	sw_ctl_safe_encode(s);
	assert_string_equal(s, "456789bcdf");
}

static void test_template_hash(void **state)
{
	(void)state;
	cleanup_json json_t *a = load("{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
	                              "\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"a:1\"}]}}");
	cleanup_json json_t *b = load("{\"spec\":{\"containers\":[{\"image\":\"a:1\",\"name\":\"web\"}]},"
	                              "\"metadata\":{\"labels\":{\"app\":\"web\",\"pod-template-hash\":\"x\"}}}");
	cleanup_json json_t *c = load("{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
	                              "\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"a:2\"}]}}");
	cleanup_free char *ha = sw_ctl_template_hash(a, -1);
	cleanup_free char *hb = sw_ctl_template_hash(b, -1);
	cleanup_free char *hc = sw_ctl_template_hash(c, -1);
	cleanup_free char *ha1 = sw_ctl_template_hash(a, 1);
	/* key order and the hash label do not matter; content and collisions do */
	assert_string_equal(ha, hb);
	assert_string_not_equal(ha, hc);
	assert_string_not_equal(ha, ha1);
	assert_true(strlen(ha) >= 1 && strlen(ha) <= 10);
	assert_true(strspn(ha, "bcdfghjklmnpqrstvwxz2456789") == strlen(ha));
	/* the same value every run (it names ReplicaSets across restarts) */
	cleanup_free char *again = sw_ctl_template_hash(a, -1);
	assert_string_equal(ha, again);
	assert_true(sw_ctl_templates_equal(a, b));
	assert_false(sw_ctl_templates_equal(a, c));
}

static void test_int_or_percent(void **state)
{
	(void)state;
	int64_t v = -1;
	sw_error *err = NULL;
	cleanup_json json_t *p25 = json_string("25%"), *i2 = json_integer(2);
	cleanup_json json_t *bad = json_string("abc"), *bare = json_string("5");
	assert_int_equal(sw_ctl_int_or_percent(p25, 3, true, &v, &err), 0);
	assert_int_equal(v, 1);
	assert_int_equal(sw_ctl_int_or_percent(p25, 3, false, &v, &err), 0);
	assert_int_equal(v, 0);
	assert_int_equal(sw_ctl_int_or_percent(p25, 10, true, &v, &err), 0);
	assert_int_equal(v, 3);
	assert_int_equal(sw_ctl_int_or_percent(p25, 10, false, &v, &err), 0);
	assert_int_equal(v, 2);
	assert_int_equal(sw_ctl_int_or_percent(p25, 4, true, &v, &err), 0);
	assert_int_equal(v, 1);
	assert_int_equal(sw_ctl_int_or_percent(i2, 10, true, &v, &err), 0);
	assert_int_equal(v, 2);
	assert_int_equal(sw_ctl_int_or_percent(bad, 10, true, &v, &err), SW_EINVALID);
	sw_error_clear(&err);
	assert_int_equal(sw_ctl_int_or_percent(bare, 10, true, &v, &err), SW_EINVALID);
	sw_error_clear(&err);
}

static json_t *deploy(int replicas, const char *surge, const char *unavail, const char *type)
{
	char buf[512];
	snprintf(buf, sizeof(buf),
	         "{\"spec\":{\"replicas\":%d,\"strategy\":{\"type\":\"%s\","
	         "\"rollingUpdate\":{\"maxSurge\":%s,\"maxUnavailable\":%s}}}}",
	         replicas, type, surge, unavail);
	return load(buf);
}

static void test_fenceposts(void **state)
{
	(void)state;
	struct {
		int replicas;
		const char *surge, *unavail;
		int64_t want_surge, want_unavail;
	} cases[] = {
		{ 3, "\"25%\"", "\"25%\"", 1, 0 },   /* the doc's example: 3..4 pods */
		{ 4, "\"25%\"", "\"25%\"", 1, 1 },   /* 3..5 */
		{ 10, "\"25%\"", "\"25%\"", 3, 2 },
		{ 3, "0", "0", 0, 1 },               /* both 0 -> unavailable 1 */
		{ 3, "\"0%\"", "\"10%\"", 0, 1 },    /* rounds to 0/0 -> 1 */
		{ 2, "1", "5", 1, 2 },               /* capped at replicas */
		{ 0, "1", "1", 1, 0 },               /* replicas 0: unavailable 0 */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cleanup_json json_t *d = deploy(cases[i].replicas, cases[i].surge, cases[i].unavail,
		                                "RollingUpdate");
		assert_int_equal(sw_ctl_max_surge(d), cases[i].want_surge);
		assert_int_equal(sw_ctl_max_unavailable(d), cases[i].want_unavail);
	}
	cleanup_json json_t *r = deploy(3, "1", "1", "Recreate");
	assert_int_equal(sw_ctl_max_surge(r), 0);
	assert_int_equal(sw_ctl_max_unavailable(r), 0);
	/* defaults 25%/25% when the strategy is missing */
	cleanup_json json_t *bare = load("{\"spec\":{\"replicas\":10}}");
	assert_int_equal(sw_ctl_max_surge(bare), 3);
	assert_int_equal(sw_ctl_max_unavailable(bare), 2);
}

static void test_conditions(void **state)
{
	(void)state;
	cleanup_json json_t *st = json_object();
	sw_ctl_condition_set(st, sw_ctl_condition_new("Progressing", "True", "NewReplicaSetCreated",
	                                              "m1", 1000));
	sw_ctl_condition_set(st, sw_ctl_condition_new("Available", "False",
	                                              "MinimumReplicasUnavailable", "m", 1000));
	/* same status and reason: nothing changes */
	sw_ctl_condition_set(st, sw_ctl_condition_new("Progressing", "True", "NewReplicaSetCreated",
	                                              "m2", 2000));
	json_t *p = sw_ctl_condition(st, "Progressing");
	assert_string_equal(sw_obj_str(p, "message"), "m1");
	assert_string_equal(sw_obj_str(p, "lastUpdateTime"), "1970-01-01T00:16:40Z");
	/* same status, new reason: transition time kept, update time new */
	sw_ctl_condition_set(st, sw_ctl_condition_new("Progressing", "True", "ReplicaSetUpdated",
	                                              "m3", 2000));
	p = sw_ctl_condition(st, "Progressing");
	assert_string_equal(sw_obj_str(p, "reason"), "ReplicaSetUpdated");
	assert_string_equal(sw_obj_str(p, "lastTransitionTime"), "1970-01-01T00:16:40Z");
	assert_string_equal(sw_obj_str(p, "lastUpdateTime"), "1970-01-01T00:33:20Z");
	/* new status: both times new */
	sw_ctl_condition_set(st, sw_ctl_condition_new("Progressing", "False",
	                                              "ProgressDeadlineExceeded", "m4", 3000));
	p = sw_ctl_condition(st, "Progressing");
	assert_string_equal(sw_obj_str(p, "lastTransitionTime"), "1970-01-01T00:50:00Z");
	assert_int_equal(json_array_size(json_object_get(st, "conditions")), 2);
	sw_ctl_condition_remove(st, "Progressing");
	assert_null(sw_ctl_condition(st, "Progressing"));
	assert_non_null(sw_ctl_condition(st, "Available"));
}

/* A pod: phase, ready since (or -1), created, restarts, node, uid. */
static json_t *pod(const char *uid, const char *phase, long ready_since, long created,
                   int restarts, const char *node)
{
	char rs[32], cr[32];
	sw_time_format((time_t)(ready_since < 0 ? 0 : ready_since), rs);
	sw_time_format((time_t)created, cr);
	json_t *p = json_pack("{s:{s:s, s:s, s:s}, s:{s:s}, s:{s:s, s:[{s:s, s:s, s:s}], "
	                      "s:[{s:s, s:i}]}}",
	                      "metadata", "name", uid, "uid", uid, "creationTimestamp", cr,
	                      "spec", "nodeName", node, "status", "phase", phase, "conditions",
	                      "type", "Ready", "status", ready_since >= 0 ? "True" : "False",
	                      "lastTransitionTime", rs, "containerStatuses", "name", "c",
	                      "restartCount", restarts);
	return p;
}

static void test_pod_available(void **state)
{
	(void)state;
	cleanup_json json_t *p = pod("a", "Running", 100, 50, 0, "n");
	assert_true(sw_ctl_pod_ready(p));
	assert_true(sw_ctl_pod_available(p, 0, 100));
	assert_false(sw_ctl_pod_available(p, 10, 110)); /* not strictly after */
	assert_true(sw_ctl_pod_available(p, 10, 111));
	cleanup_json json_t *q = pod("b", "Running", -1, 50, 0, "n");
	assert_false(sw_ctl_pod_ready(q));
	assert_false(sw_ctl_pod_available(q, 0, 1000));
	assert_true(sw_ctl_pod_active(q));
	json_object_set_new(json_object_get(q, "metadata"), "deletionTimestamp",
	                    json_string("2026-01-01T00:00:00Z"));
	assert_false(sw_ctl_pod_active(q));
	cleanup_json json_t *done = pod("c", "Succeeded", -1, 50, 0, "n");
	assert_false(sw_ctl_pod_active(done));
}

static void test_victims(void **state)
{
	(void)state;
	json_t *pods[] = {
		pod("ready-old", "Running", 100, 10, 0, "n"),
		pod("ready-new", "Running", 200, 20, 0, "n"),
		pod("running-not-ready", "Running", -1, 5, 0, "n"),
		pod("pending", "Pending", -1, 1, 0, "n"),
		pod("unassigned", "Pending", -1, 1, 0, ""),
		pod("ready-restarts", "Running", 100, 10, 3, "n"),
		pod("unknown", "Unknown", -1, 1, 0, "n"),
	};
	const char *want[] = { "unassigned", "pending", "unknown", "running-not-ready",
		               "ready-new", "ready-restarts", "ready-old" };
	size_t n = sizeof(pods) / sizeof(pods[0]);
	const json_t *order[sizeof(pods) / sizeof(pods[0])];
	for (size_t i = 0; i < n; i++)
		order[i] = pods[i];
	sw_ctl_sort_victims(order, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(sw_obj_uid(order[i]), want[i]);
	/* not ready, then newer creation when readiness ties */
	cleanup_json json_t *x = pod("x", "Running", -1, 10, 0, "n");
	cleanup_json json_t *y = pod("y", "Running", -1, 20, 0, "n");
	assert_true(sw_ctl_victim_cmp(y, x) < 0);
	/* pod-deletion-cost: lower goes first */
	sw_obj_set_annotation(x, "controller.kubernetes.io/pod-deletion-cost", "-5");
	assert_true(sw_ctl_victim_cmp(x, y) < 0);
	for (size_t i = 0; i < n; i++)
		json_decref(pods[i]);
}

static void test_revision_annotations(void **state)
{
	(void)state;
	cleanup_json json_t *d = load("{\"metadata\":{\"annotations\":{"
	                              "\"kubernetes.io/change-cause\":\"v2\","
	                              "\"deployment.kubernetes.io/revision\":\"9\"}},"
	                              "\"spec\":{\"replicas\":4,\"strategy\":{\"type\":\"RollingUpdate\","
	                              "\"rollingUpdate\":{\"maxSurge\":1,\"maxUnavailable\":0}}}}");
	cleanup_json json_t *rs = json_object();
	assert_true(sw_ctl_set_new_rs_annotations(d, rs, 3, false));
	assert_string_equal(sw_obj_annotation(rs, SW_ANN_REVISION), "3");
	assert_string_equal(sw_obj_annotation(rs, SW_ANN_CHANGE_CAUSE), "v2");
	assert_string_equal(sw_obj_annotation(rs, SW_ANN_DESIRED_REPLICAS), "4");
	assert_string_equal(sw_obj_annotation(rs, SW_ANN_MAX_REPLICAS), "5");
	assert_null(sw_obj_annotation(rs, SW_ANN_REVISION_HISTORY));
	/* nothing new: no change */
	assert_false(sw_ctl_set_new_rs_annotations(d, rs, 3, true));
	/* rolled back to: next revision, the old one kept in the history */
	assert_true(sw_ctl_set_new_rs_annotations(d, rs, 5, true));
	assert_string_equal(sw_obj_annotation(rs, SW_ANN_REVISION), "5");
	assert_string_equal(sw_obj_annotation(rs, SW_ANN_REVISION_HISTORY), "3");
	assert_true(sw_ctl_set_new_rs_annotations(d, rs, 7, true));
	assert_string_equal(sw_obj_annotation(rs, SW_ANN_REVISION_HISTORY), "3,5");
	assert_int_equal(sw_ctl_revision(rs), 7);
}

static void test_arithmetic(void **state)
{
	(void)state;
	/* NewRSNewReplicas: 3 replicas, surge 1, old RS at 3 -> new 1 */
	assert_int_equal(sw_ctl_new_rs_new_replicas(3, 1, 3, 0), 1);
	assert_int_equal(sw_ctl_new_rs_new_replicas(3, 1, 4, 1), 1);
	assert_int_equal(sw_ctl_new_rs_new_replicas(3, 1, 3, 1), 2);
	assert_int_equal(sw_ctl_new_rs_new_replicas(10, 3, 10, 0), 3);
	assert_int_equal(sw_ctl_new_rs_new_replicas(3, 5, 3, 0), 3); /* never past replicas */
	/* the doc's proportional example: 10 -> 15 replicas, maxSurge 3, an old
	 * RS at 8 and a new one at 5 (max-replicas 13): +3 old, +2 new */
	int64_t to_add = (15 + 3) - 13;
	int64_t p_old = sw_ctl_rs_proportion(8, 13, 13, 15, 3, to_add, 0);
	int64_t p_new = sw_ctl_rs_proportion(5, 13, 13, 15, 3, to_add, p_old);
	assert_int_equal(p_old, 3);
	assert_int_equal(p_new, 2);
	/* scaling to 0: each RS's whole size, bounded by what is left */
	assert_int_equal(sw_ctl_rs_proportion(4, 13, 13, 0, 0, -6, 0), -4);
	assert_int_equal(sw_ctl_rs_proportion(4, 13, 13, 0, 0, -6, -4), -2);
	/* an RS at 0 is never scaled proportionally */
	assert_int_equal(sw_ctl_rs_proportion(0, 13, 13, 15, 3, 5, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fnv),
		cmocka_unit_test(test_template_hash),
		cmocka_unit_test(test_int_or_percent),
		cmocka_unit_test(test_fenceposts),
		cmocka_unit_test(test_conditions),
		cmocka_unit_test(test_pod_available),
		cmocka_unit_test(test_victims),
		cmocka_unit_test(test_revision_annotations),
		cmocka_unit_test(test_arithmetic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
