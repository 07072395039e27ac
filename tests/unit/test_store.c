/* test_store.c - the object store: identity, concurrency, deletion rules,
 * transactions and the change feed, on a real SQLite file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "slipway/object.h"
#include "slipway/store.h"

struct fixture {
	char dir[64];
	char path[96];
	sw_store *s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/s.db", f->dir);
	sw_error *err = NULL;
	assert_int_equal(sw_store_open(&f->s, f->path, &err), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	sw_store_free(f->s);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static const sw_kind *K(const char *name)
{
	const sw_kind *k = sw_kind_lookup(name);
	assert_non_null(k);
	return k;
}

static json_t *deploy(const char *name, int replicas)
{
	return json_pack("{s:{s:s, s:{s:s}}, s:{s:i}}", "metadata", "name", name, "labels", "app", name,
	                 "spec", "replicas", replicas);
}

static void test_create_get(void **state)
{
	struct fixture *f = *state;
	sw_error *err = NULL;
	json_t *in = deploy("web", 2), *out = NULL, *got = NULL;
	assert_int_equal(sw_store_create(f->s, K("deploy"), in, &out, &err), 0);
	assert_string_equal(sw_obj_str(out, "apiVersion"), "apps/v1");
	assert_string_equal(sw_obj_str(out, "kind"), "Deployment");
	assert_string_equal(sw_obj_namespace(out), "default");
	assert_non_null(sw_obj_uid(out));
	assert_int_equal(sw_obj_int(out, "metadata.generation", 0), 1);
	assert_non_null(sw_obj_str(out, "metadata.creationTimestamp"));
	assert_int_equal(sw_store_get(f->s, K("deployments.apps"), "default", "web", &got, &err), 0);
	assert_true(json_equal(out, got));
	/* same name again */
	assert_int_equal(sw_store_create(f->s, K("deploy"), in, NULL, &err), SW_EEXISTS);
	char *msg = sw_error_string(err);
	assert_string_equal(msg, "deployments.apps \"web\" already exists");
	free(msg);
	sw_error_clear(&err);
	assert_int_equal(sw_store_get(f->s, K("deploy"), "default", "nope", &got, &err), SW_ENOTFOUND);
	sw_error_clear(&err);
	/* missing namespace */
	json_object_set_new(json_object_get(in, "metadata"), "namespace", json_string("ghost"));
	assert_int_equal(sw_store_create(f->s, K("deploy"), in, NULL, &err), SW_ENOTFOUND);
	sw_error_clear(&err);
	json_decref(in);
	json_decref(out);
	json_decref(got);
}

static void test_update_conflict_generation(void **state)
{
	struct fixture *f = *state;
	sw_error *err = NULL;
	json_t *in = deploy("web", 2), *v1 = NULL, *v2 = NULL, *v3 = NULL;
	assert_int_equal(sw_store_create(f->s, K("deploy"), in, &v1, &err), 0);
	uint64_t rev = sw_store_revision(f->s);
	/* no-op update: no new revision */
	assert_int_equal(sw_store_update(f->s, K("deploy"), v1, 0, &v2, &err), 0);
	assert_int_equal(sw_store_revision(f->s), rev);
	json_decref(v2);
	/* spec change bumps generation */
	json_t *c = json_deep_copy(v1);
	json_object_set_new(json_object_get(c, "spec"), "replicas", json_integer(5));
	assert_int_equal(sw_store_update(f->s, K("deploy"), c, 0, &v2, &err), 0);
	assert_int_equal(sw_obj_int(v2, "metadata.generation", 0), 2);
	/* stale resourceVersion: conflict */
	assert_int_equal(sw_store_update(f->s, K("deploy"), c, 0, NULL, &err), SW_ECONFLICT);
	sw_error_clear(&err);
	/* label change: new rv, same generation */
	json_t *d = json_deep_copy(v2);
	json_object_set_new(sw_obj_labels(d), "tier", json_string("front"));
	assert_int_equal(sw_store_update(f->s, K("deploy"), d, 0, &v3, &err), 0);
	assert_int_equal(sw_obj_int(v3, "metadata.generation", 0), 2);
	assert_string_not_equal(sw_obj_str(v3, "metadata.resourceVersion"),
	                        sw_obj_str(v2, "metadata.resourceVersion"));
	/* status is ignored by a main update, taken by a status update */
	json_t *e = json_deep_copy(v3);
	json_object_set_new(e, "status", json_pack("{s:i}", "replicas", 5));
	json_t *v4 = NULL, *v5 = NULL;
	assert_int_equal(sw_store_update(f->s, K("deploy"), e, 0, &v4, &err), 0);
	assert_null(json_object_get(v4, "status"));
	json_object_del(json_object_get(e, "metadata"), "resourceVersion");
	json_object_set_new(json_object_get(e, "spec"), "replicas", json_integer(9));
	assert_int_equal(sw_store_update(f->s, K("deploy"), e, SW_STORE_STATUS, &v5, &err), 0);
	assert_int_equal(sw_obj_int(v5, "status.replicas", 0), 5);
	assert_int_equal(sw_obj_int(v5, "spec.replicas", 0), 5);
	assert_int_equal(sw_obj_int(v5, "metadata.generation", 0), 2);
	/* the uid cannot be changed */
	json_t *g = json_deep_copy(v5);
	json_object_set_new(json_object_get(g, "metadata"), "uid", json_string("x"));
	json_t *v6 = NULL;
	assert_int_equal(sw_store_update(f->s, K("deploy"), g, 0, &v6, &err), 0);
	assert_string_equal(sw_obj_uid(v6), sw_obj_uid(v1));
	json_decref(in); json_decref(v1); json_decref(v2); json_decref(v3); json_decref(v4);
	json_decref(v5); json_decref(v6); json_decref(c); json_decref(d); json_decref(e); json_decref(g);
}

static void test_list(void **state)
{
	struct fixture *f = *state;
	sw_error *err = NULL;
	const char *names[] = { "c", "a", "b", "d" };
	for (int i = 0; i < 4; i++) {
		json_t *p = json_pack("{s:{s:s, s:{s:s}}}", "metadata", "name", names[i], "labels", "tier",
		                      i % 2 ? "front" : "back");
		assert_int_equal(sw_store_create(f->s, K("po"), p, NULL, &err), 0);
		json_decref(p);
	}
	json_t *items = NULL;
	uint64_t rev = 0;
	char *next = NULL;
	assert_int_equal(sw_store_list(f->s, K("pods"), NULL, &items, &rev, &next, &err), 0);
	assert_int_equal(json_array_size(items), 4);
	assert_string_equal(sw_obj_name(json_array_get(items, 0)), "a");
	assert_int_equal(rev, sw_store_revision(f->s));
	assert_null(next);
	json_decref(items);
	sw_selector *sel = NULL;
	assert_int_equal(sw_selector_parse(&sel, "tier in (front)", &err), 0);
	sw_list_opts o = { .labels = sel };
	assert_int_equal(sw_store_list(f->s, K("pods"), &o, &items, NULL, NULL, &err), 0);
	assert_int_equal(json_array_size(items), 2);
	json_decref(items);
	sw_selector_free(sel);
	/* pages of 3 then 1 */
	sw_list_opts p1 = { .limit = 3 };
	assert_int_equal(sw_store_list(f->s, K("pods"), &p1, &items, NULL, &next, &err), 0);
	assert_int_equal(json_array_size(items), 3);
	assert_string_equal(next, "default/c");
	json_decref(items);
	sw_list_opts p2 = { .limit = 3, .continue_token = next };
	char *next2 = NULL;
	assert_int_equal(sw_store_list(f->s, K("pods"), &p2, &items, NULL, &next2, &err), 0);
	assert_int_equal(json_array_size(items), 1);
	assert_string_equal(sw_obj_name(json_array_get(items, 0)), "d");
	assert_null(next2);
	free(next);
	json_decref(items);
	/* namespaces are cluster-scoped; default ones exist */
	assert_int_equal(sw_store_list(f->s, K("ns"), NULL, &items, NULL, NULL, &err), 0);
	assert_int_equal(json_array_size(items), 3);
	assert_null(sw_obj_namespace(json_array_get(items, 0)));
	json_decref(items);
}

struct seen {
	char log[4096];
	int n;
};

static void on_change(void *ctx, sw_watch_type type, const sw_kind *k, const json_t *obj,
                      uint64_t rv)
{
	struct seen *s = ctx;
	size_t len = strlen(s->log);
	snprintf(s->log + len, sizeof(s->log) - len, "%s %s %s@%llu;", sw_watch_type_name(type),
	         k->resource, sw_obj_name(obj), (unsigned long long)rv);
	s->n++;
}

static void test_delete_rules(void **state)
{
	struct fixture *f = *state;
	sw_error *err = NULL;
	struct seen seen = { 0 };
	int id = sw_store_watch(f->s, K("pods"), on_change, &seen);
	/* an unbound pod goes at once */
	json_t *p = json_pack("{s:{s:s}}", "metadata", "name", "free");
	assert_int_equal(sw_store_create(f->s, K("po"), p, NULL, &err), 0);
	assert_int_equal(sw_store_delete(f->s, K("po"), "default", "free", NULL, NULL, &err), 0);
	json_t *got = NULL;
	assert_int_equal(sw_store_get(f->s, K("po"), "default", "free", &got, &err), SW_ENOTFOUND);
	sw_error_clear(&err);
	json_decref(p);
	/* a bound pod is marked, then removed by a grace-0 delete */
	p = json_pack("{s:{s:s}, s:{s:s, s:i}}", "metadata", "name", "bound", "spec", "nodeName", "local",
	              "terminationGracePeriodSeconds", 5);
	assert_int_equal(sw_store_create(f->s, K("po"), p, NULL, &err), 0);
	json_t *marked = NULL;
	assert_int_equal(sw_store_delete(f->s, K("po"), "default", "bound", NULL, &marked, &err), 0);
	assert_non_null(sw_obj_str(marked, "metadata.deletionTimestamp"));
	assert_int_equal(sw_obj_int(marked, "metadata.deletionGracePeriodSeconds", 0), 5);
	assert_int_equal(sw_store_get(f->s, K("po"), "default", "bound", &got, &err), 0);
	json_decref(got);
	sw_delete_opts now = { .grace_seconds = 0 };
	assert_int_equal(sw_store_delete(f->s, K("po"), "default", "bound", &now, NULL, &err), 0);
	assert_int_equal(sw_store_get(f->s, K("po"), "default", "bound", &got, &err), SW_ENOTFOUND);
	sw_error_clear(&err);
	assert_int_equal(seen.n, 5);
	assert_non_null(strstr(seen.log, "ADDED pods free@"));
	assert_non_null(strstr(seen.log, "DELETED pods free@"));
	assert_non_null(strstr(seen.log, "MODIFIED pods bound@"));
	sw_store_unwatch(f->s, id);
	json_decref(p);
	json_decref(marked);
	/* precondition */
	p = json_pack("{s:{s:s}}", "metadata", "name", "cm");
	assert_int_equal(sw_store_create(f->s, K("cm"), p, NULL, &err), 0);
	sw_delete_opts pre = { .grace_seconds = -1, .uid = "other" };
	assert_int_equal(sw_store_delete(f->s, K("cm"), "default", "cm", &pre, NULL, &err), SW_ECONFLICT);
	sw_error_clear(&err);
	json_decref(p);
	/* finalizers hold an object until emptied */
	p = json_pack("{s:{s:s, s:[s]}}", "metadata", "name", "held", "finalizers", "x/y");
	assert_int_equal(sw_store_create(f->s, K("cm"), p, NULL, &err), 0);
	assert_int_equal(sw_store_delete(f->s, K("cm"), "default", "held", NULL, &marked, &err), 0);
	json_object_set_new(json_object_get(marked, "metadata"), "finalizers", json_array());
	assert_int_equal(sw_store_update(f->s, K("cm"), marked, 0, NULL, &err), 0);
	assert_int_equal(sw_store_get(f->s, K("cm"), "default", "held", &got, &err), SW_ENOTFOUND);
	sw_error_clear(&err);
	json_decref(p);
	json_decref(marked);
}

static void test_namespaces(void **state)
{
	struct fixture *f = *state;
	sw_error *err = NULL;
	assert_int_equal(sw_store_delete(f->s, K("ns"), NULL, "default", NULL, NULL, &err), SW_EFORBIDDEN);
	sw_error_clear(&err);
	json_t *ns = json_pack("{s:{s:s}}", "metadata", "name", "team");
	json_t *out = NULL;
	assert_int_equal(sw_store_create(f->s, K("ns"), ns, &out, &err), 0);
	assert_string_equal(sw_obj_str(out, "status.phase"), "Active");
	json_decref(out);
	json_t *cm = json_pack("{s:{s:s, s:s}}", "metadata", "name", "a", "namespace", "team");
	assert_int_equal(sw_store_create(f->s, K("cm"), cm, NULL, &err), 0);
	assert_int_equal(sw_store_delete(f->s, K("ns"), NULL, "team", NULL, &out, &err), 0);
	assert_string_equal(sw_obj_str(out, "status.phase"), "Terminating");
	json_decref(out);
	json_object_set_new(json_object_get(cm, "metadata"), "name", json_string("b"));
	assert_int_equal(sw_store_create(f->s, K("cm"), cm, NULL, &err), SW_EFORBIDDEN);
	sw_error_clear(&err);
	sw_delete_opts now = { .grace_seconds = 0 };
	assert_int_equal(sw_store_delete(f->s, K("ns"), NULL, "team", &now, NULL, &err), 0);
	assert_int_equal(sw_store_get(f->s, K("ns"), NULL, "team", &out, &err), SW_ENOTFOUND);
	sw_error_clear(&err);
	json_decref(ns);
	json_decref(cm);
}

static void test_transaction_and_history(void **state)
{
	struct fixture *f = *state;
	sw_error *err = NULL;
	struct seen seen = { 0 };
	uint64_t start = sw_store_revision(f->s);
	sw_store_watch(f->s, NULL, on_change, &seen);
	assert_int_equal(sw_store_begin(f->s, &err), 0);
	json_t *a = deploy("a", 1), *b = deploy("b", 1);
	assert_int_equal(sw_store_create(f->s, K("deploy"), a, NULL, &err), 0);
	assert_int_equal(sw_store_create(f->s, K("deploy"), b, NULL, &err), 0);
	assert_int_equal(seen.n, 0);
	sw_store_rollback(f->s);
	assert_int_equal(seen.n, 0);
	assert_int_equal(sw_store_revision(f->s), start);
	json_t *got = NULL;
	assert_int_equal(sw_store_get(f->s, K("deploy"), "default", "a", &got, &err), SW_ENOTFOUND);
	sw_error_clear(&err);
	/* committed: both, in order, after commit */
	assert_int_equal(sw_store_begin(f->s, &err), 0);
	assert_int_equal(sw_store_create(f->s, K("deploy"), a, NULL, &err), 0);
	assert_int_equal(sw_store_create(f->s, K("deploy"), b, NULL, &err), 0);
	assert_int_equal(seen.n, 0);
	assert_int_equal(sw_store_commit(f->s, &err), 0);
	assert_int_equal(seen.n, 2);
	assert_int_equal(sw_store_revision(f->s), start + 2);
	/* history replays what a watcher saw */
	struct seen replay = { 0 };
	assert_int_equal(sw_store_changes_since(f->s, NULL, NULL, start, on_change, &replay, &err), 0);
	assert_string_equal(replay.log, seen.log);
	replay = (struct seen){ 0 };
	assert_int_equal(sw_store_changes_since(f->s, K("deploy"), "default", start + 1, on_change,
	                                        &replay, &err), 0);
	assert_int_equal(replay.n, 1);
	json_decref(a);
	json_decref(b);
}

static void test_reopen_and_events(void **state)
{
	struct fixture *f = *state;
	sw_error *err = NULL;
	json_t *a = deploy("keep", 1), *out = NULL;
	assert_int_equal(sw_store_create(f->s, K("deploy"), a, &out, &err), 0);
	for (int i = 0; i < 3; i++)
		sw_store_event(f->s, out, "Normal", "ScalingReplicaSet", "deployment-controller",
		               "Scaled up replica set %s to %d", "keep-abc", 1);
	sw_store_event(f->s, out, "Warning", "Other", "x", "different");
	json_t *items = NULL;
	assert_int_equal(sw_store_list(f->s, K("events"), NULL, &items, NULL, NULL, &err), 0);
	assert_int_equal(json_array_size(items), 2);
	size_t i;
	json_t *ev;
	int total = 0;
	json_array_foreach(items, i, ev) {
		total += (int)sw_obj_int(ev, "count", 0);
		assert_string_equal(sw_obj_str(ev, "involvedObject.uid"), sw_obj_uid(out));
	}
	assert_int_equal(total, 4);
	json_decref(items);
	uint64_t rev = sw_store_revision(f->s);
	sw_store_free(f->s);
	assert_int_equal(sw_store_open(&f->s, f->path, &err), 0);
	assert_int_equal(sw_store_revision(f->s), rev);
	json_t *got = NULL;
	assert_int_equal(sw_store_get(f->s, K("deploy"), "default", "keep", &got, &err), 0);
	assert_true(json_equal(got, out));
	json_decref(got);
	json_decref(out);
	json_decref(a);
}

static void test_generate_name(void **state)
{
	struct fixture *f = *state;
	sw_error *err = NULL;
	json_t *p = json_pack("{s:{s:s}}", "metadata", "generateName", "web-7d9f-");
	json_t *a = NULL, *b = NULL;
	assert_int_equal(sw_store_create(f->s, K("po"), p, &a, &err), 0);
	assert_int_equal(sw_store_create(f->s, K("po"), p, &b, &err), 0);
	assert_int_equal(strlen(sw_obj_name(a)), strlen("web-7d9f-") + 5);
	assert_string_not_equal(sw_obj_name(a), sw_obj_name(b));
	json_decref(a);
	json_decref(b);
	json_decref(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_conflict_generation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_namespaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transaction_and_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_and_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generate_name, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
