/* test_selector.c - label selectors (both forms), the kinds table and the
 * object accessors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slipway/kinds.h"
#include "slipway/object.h"
#include "slipway/selector.h"

static bool match(const char *sel, const char *labels_json)
{
	sw_selector *s = NULL;
	sw_error *err = NULL;
	assert_int_equal(sw_selector_parse(&s, sel, &err), 0);
	json_t *labels = json_loads(labels_json, 0, NULL);
	bool m = sw_selector_matches(s, labels);
	json_decref(labels);
	sw_selector_free(s);
	return m;
}

static void test_string_form(void **state)
{
	(void)state;
	assert_true(match("", "{}"));
	assert_true(match("app=web", "{\"app\":\"web\"}"));
	assert_true(match("app==web", "{\"app\":\"web\"}"));
	assert_false(match("app=web", "{\"app\":\"db\"}"));
	assert_false(match("app=web", "{}"));
	assert_true(match("app!=web", "{}"));
	assert_false(match("app!=web", "{\"app\":\"web\"}"));
	assert_true(match("env in (a, b)", "{\"env\":\"b\"}"));
	assert_false(match("env in (a,b)", "{}"));
	assert_true(match("env notin (a,b)", "{}"));
	assert_false(match("env notin (a,b)", "{\"env\":\"a\"}"));
	assert_true(match("release", "{\"release\":\"x\"}"));
	assert_false(match("!release", "{\"release\":\"x\"}"));
	assert_true(match("app=web,!canary,tier in (front)",
	                  "{\"app\":\"web\",\"tier\":\"front\"}"));
	assert_true(match("example.com/app=web", "{\"example.com/app\":\"web\"}"));
	const char *bad[] = { "=x", "a=", "a in ()", "a in (x", "a b", "a,", "-a=b", "a=b c",
	                      "a notin x", "a/b/c=d" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sw_selector *s = NULL;
		sw_error *err = NULL;
		int rc = sw_selector_parse(&s, bad[i], &err);
		if (strcmp(bad[i], "a=") == 0) {   /* an empty value is allowed */
			assert_int_equal(rc, 0);
			sw_selector_free(s);
			continue;
		}
		assert_int_equal(rc, SW_EINVALID);
		assert_null(s);
		sw_error_free(err);
	}
}

static void test_object_form(void **state)
{
	(void)state;
	sw_error *err = NULL;
	sw_selector *s = NULL;
	json_t *sel = json_loads("{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":["
	                         "{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"a\",\"b\"]},"
	                         "{\"key\":\"canary\",\"operator\":\"DoesNotExist\"}]}", 0, NULL);
	assert_int_equal(sw_selector_from_json(&s, sel, false, &err), 0);
	char *text = sw_selector_string(s);
	assert_string_equal(text, "app=web,tier in (a,b),!canary");
	free(text);
	json_t *l1 = json_loads("{\"app\":\"web\",\"tier\":\"a\"}", 0, NULL);
	json_t *l2 = json_loads("{\"app\":\"web\",\"tier\":\"a\",\"canary\":\"1\"}", 0, NULL);
	assert_true(sw_selector_matches(s, l1));
	assert_false(sw_selector_matches(s, l2));
	sw_selector_free(s);
	json_decref(sel);
	sel = json_loads("{\"matchExpressions\":[{\"key\":\"x\",\"operator\":\"In\"}]}", 0, NULL);
	assert_int_equal(sw_selector_from_json(&s, sel, false, &err), SW_EINVALID);
	sw_error_clear(&err);
	json_decref(sel);
	sel = json_loads("{\"app\":\"web\"}", 0, NULL);
	assert_int_equal(sw_selector_from_json(&s, sel, true, &err), 0);
	assert_true(sw_selector_matches(s, l1));
	sw_selector_free(s);
	json_decref(sel);
	json_decref(l1);
	json_decref(l2);
}

static void test_kinds(void **state)
{
	(void)state;
	assert_string_equal(sw_kind_lookup("po")->kind, "Pod");
	assert_string_equal(sw_kind_lookup("Pods")->kind, "Pod");
	assert_string_equal(sw_kind_lookup("deploy")->kind, "Deployment");
	assert_string_equal(sw_kind_lookup("deployments.apps")->kind, "Deployment");
	assert_string_equal(sw_kind_lookup("deployment.apps/v1")->kind, "Deployment");
	assert_null(sw_kind_lookup("deployments.batch"));
	assert_null(sw_kind_lookup("nothing"));
	assert_string_equal(sw_kind_by_resource("apps", "replicasets")->kind, "ReplicaSet");
	assert_null(sw_kind_by_resource("", "deployments"));
	assert_string_equal(sw_kind_by_kind("v1", "Service")->resource, "services");
	assert_null(sw_kind_by_kind("apps/v1", "Service"));
}

static void test_object(void **state)
{
	(void)state;
	json_t *o = json_loads("{\"metadata\":{\"name\":\"a\",\"uid\":\"u1\",\"ownerReferences\":["
	                       "{\"uid\":\"x\"},{\"uid\":\"o1\",\"controller\":true}]},"
	                       "\"spec\":{\"replicas\":3}}", 0, NULL);
	json_t *owner = json_loads("{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\","
	                           "\"metadata\":{\"name\":\"rs\",\"uid\":\"o1\"}}", 0, NULL);
	assert_int_equal(sw_obj_int(o, "spec.replicas", 0), 3);
	assert_int_equal(sw_obj_int(o, "spec.missing", 7), 7);
	assert_true(sw_obj_owned_by(o, owner));
	sw_obj_set_annotation(o, "k", "v");
	assert_string_equal(sw_obj_annotation(o, "k"), "v");
	json_t *ref = sw_obj_owner_ref(owner);
	assert_string_equal(json_string_value(json_object_get(ref, "kind")), "ReplicaSet");
	assert_true(json_is_true(json_object_get(ref, "controller")));
	char buf[32];
	sw_time_format(1795653066, buf);
	assert_int_equal(sw_time_parse(buf), 1795653066);
	assert_int_equal(sw_time_parse("2026-11-28T00:11:06.123Z"), sw_time_parse("2026-11-28T00:11:06Z"));
	assert_int_equal(sw_time_parse("junk"), -1);
	json_decref(ref);
	json_decref(o);
	json_decref(owner);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_string_form),
		cmocka_unit_test(test_object_form),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_object),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
