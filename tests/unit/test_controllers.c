/* The controllers against a real store in a temp file. The test plays the
 * kubelet: it binds pods, sets them Running and Ready through
 * sw_store_update(..., SW_STORE_STATUS), and removes pods marked for
 * deletion. Controller work runs synchronously (sw_controllers_step), with a
 * fake clock for minReadySeconds and progress deadlines: no timing
 * thresholds. Rollouts check the maxSurge/maxUnavailable bounds after
 * every single controller step. */
#include <event2/event.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "ctl_internal.h"
#include "slipway/cleanup.h"
#include "slipway/controllers.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/object.h"
#include "slipway/store.h"

struct fx {
	char dir[64];
	sw_store *store;
	struct event_base *base;
	sw_controllers *c;
	const sw_kind *pod, *rs, *dep, *ns;
	uint64_t expected_errors; /* failed syncs a test provoked on purpose */
};

static int setup(void **state)
{
	struct fx *f = sw_xcalloc(1, sizeof(*f));
	sw_error *err = NULL;
	snprintf(f->dir, sizeof(f->dir), "/tmp/sw-ctl-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	cleanup_free char *db = sw_xasprintf("%s/slipwayd.db", f->dir);
	if (sw_store_open(&f->store, db, &err) < 0) {
		sw_error_free(err);
		return -1;
	}
	f->base = event_base_new();
	if (sw_controllers_start(&f->c, f->base, f->store, &err) < 0) {
		sw_error_free(err);
		return -1;
	}
	sw_controllers_set_time(f->c, time(NULL));
	f->pod = sw_kind_lookup("pods");
	f->rs = sw_kind_lookup("replicasets");
	f->dep = sw_kind_lookup("deployments");
	f->ns = sw_kind_lookup("namespaces");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	/* single-threaded, nothing races: any failed sync is a bug */
	uint64_t errors = sw_controllers_errors(f->c) - f->expected_errors;
	sw_controllers_free(f->c);
	sw_store_free(f->store);
	event_base_free(f->base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	if (errors) {
		print_error("%" PRIu64 " controller syncs failed\n", errors);
		return -1;
	}
	return 0;
}

static void check(int rc, sw_error *err)
{
	if (rc < 0) {
		cleanup_free char *s = sw_error_string(err);
		sw_error_free(err);
		fail_msg("store: %s", s);
	}
}

static json_t *load(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	if (!j)
		fail_msg("bad test json: %s: %s", e.text, text);
	return j;
}

static json_t *list(struct fx *f, const sw_kind *k, const char *ns)
{
	json_t *items = NULL;
	sw_error *err = NULL;
	sw_list_opts o = { .ns = ns };
	uint64_t rev;
	check(sw_store_list(f->store, k, &o, &items, &rev, NULL, &err), err);
	return items;
}

static json_t *get(struct fx *f, const sw_kind *k, const char *ns, const char *name)
{
	json_t *o = NULL;
	sw_error *err = NULL;
	if (sw_store_get(f->store, k, ns, name, &o, &err) < 0) {
		sw_error_free(err);
		return NULL;
	}
	return o;
}

/* ---- the kubelet ---------------------------------------------------------------- */

/* Kubelet actions, at most max: remove pods marked for deletion, else bind
 * pending pods and make them Running+Ready. Returns how many were done.
 * With hold_ready, pods are bound and Running but never Ready. */
static int kubelet(struct fx *f, const char *ns, bool hold_ready, int max)
{
	cleanup_json json_t *pods = list(f, f->pod, ns);
	size_t i;
	json_t *p;
	sw_error *err = NULL;
	int done = 0;
	json_array_foreach(pods, i, p) {
		if (done >= max)
			return done;
		if (sw_obj_deleting(p)) {
			sw_delete_opts o = { .grace_seconds = 0 };
			check(sw_store_delete(f->store, f->pod, ns, sw_obj_name(p), &o, NULL, &err), err);
			done++;
		}
	}
	if (done)
		return done;
	json_array_foreach(pods, i, p) {
		if (done >= max)
			return done;
		const char *phase = sw_obj_str(p, "status.phase");
		bool running = phase && strcmp(phase, "Running") == 0;
		if (hold_ready ? running : sw_ctl_pod_ready(p))
			continue;
		cleanup_json json_t *bound = NULL;
		cleanup_json json_t *copy = json_deep_copy(p);
		json_object_set_new(json_object_get(copy, "spec"), "nodeName", json_string("node"));
		check(sw_store_update(f->store, f->pod, copy, SW_STORE_MAIN, &bound, &err), err);
		char now[32];
		sw_time_format(sw_controllers_now(f->c), now);
		cleanup_json json_t *st = json_deep_copy(bound);
		json_object_set_new(st, "status",
		                    json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "phase", "Running",
		                              "conditions", "type", "Ready", "status",
		                              hold_ready ? "False" : "True", "lastTransitionTime",
		                              now));
		check(sw_store_update(f->store, f->pod, st, SW_STORE_STATUS, NULL, &err), err);
		done++;
	}
	return done;
}

static bool kubelet_one(struct fx *f, const char *ns, bool hold_ready)
{
	return kubelet(f, ns, hold_ready, 1) > 0;
}

/* Controllers and a kubelet that does everything it can per round. */
static void settle_fast(struct fx *f, const char *ns)
{
	for (int rounds = 0; rounds < 10000; rounds++) {
		sw_controllers_run_until_idle(f->c, 0);
		if (!kubelet(f, ns, false, 1 << 30))
			return;
	}
	fail_msg("did not settle");
}

typedef void (*sampler)(struct fx *f, void *ctx);

/* Runs controllers and the kubelet until both are idle, calling sample
 * after every controller step (and every kubelet action). */
static void settle(struct fx *f, const char *ns, bool hold_ready, sampler fn, void *ctx)
{
	for (int rounds = 0; rounds < 100000; rounds++) {
		while (sw_controllers_step(f->c))
			if (fn)
				fn(f, ctx);
		if (!kubelet_one(f, ns, hold_ready))
			return;
		if (fn)
			fn(f, ctx);
	}
	fail_msg("did not settle");
}

static json_t *deployment(const char *name, int replicas, const char *strategy,
                          const char *image)
{
	char buf[1024];
	snprintf(buf, sizeof(buf),
	         "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"%s\","
	         "\"namespace\":\"default\"},\"spec\":{\"replicas\":%d,\"selector\":{\"matchLabels\":"
	         "{\"app\":\"%s\"}},\"strategy\":%s,\"template\":{\"metadata\":{\"labels\":{\"app\":"
	         "\"%s\"}},\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"%s\"}]}}}}",
	         name, replicas, name, strategy, name, image);
	return load(buf);
}

static void create(struct fx *f, const sw_kind *k, json_t *obj)
{
	sw_error *err = NULL;
	check(sw_store_create(f->store, k, obj, NULL, &err), err);
	json_decref(obj);
}

/* Edits the stored deployment with fn (spec changes). */
static void edit_deploy(struct fx *f, const char *name, void (*fn)(json_t *d, const void *arg),
                        const void *arg)
{
	cleanup_json json_t *d = get(f, f->dep, "default", name);
	assert_non_null(d);
	fn(d, arg);
	sw_error *err = NULL;
	check(sw_store_update(f->store, f->dep, d, SW_STORE_MAIN, NULL, &err), err);
}

static void set_image(json_t *d, const void *arg)
{
	json_t *c0 = json_array_get(sw_obj_path(d, "spec.template.spec.containers"), 0);
	json_object_set_new(c0, "image", json_string(arg));
}

static void set_replicas(json_t *d, const void *arg)
{
	json_object_set_new(json_object_get(d, "spec"), "replicas",
	                    json_integer(*(const int *)arg));
}

static void set_paused(json_t *d, const void *arg)
{
	json_object_set_new(json_object_get(d, "spec"), "paused", json_boolean(*(const bool *)arg));
}

/* Pods in ns not being deleted; those that are Ready; per image. */
struct counts {
	int64_t total, ready, with_image, ready_with_image;
};

static struct counts count_pods(struct fx *f, const char *ns, const char *image)
{
	struct counts c = { 0 };
	cleanup_json json_t *pods = list(f, f->pod, ns);
	size_t i;
	json_t *p;
	json_array_foreach(pods, i, p) {
		if (sw_obj_deleting(p))
			continue;
		const char *img = sw_obj_str(json_array_get(sw_obj_path(p, "spec.containers"), 0),
		                             "image");
		bool mine = image && img && strcmp(img, image) == 0;
		c.total++;
		c.with_image += mine;
		if (sw_ctl_pod_ready(p)) {
			c.ready++;
			c.ready_with_image += mine;
		}
	}
	return c;
}

static const char *cond_reason(struct fx *f, const char *name, const char *type)
{
	static char buf[64];
	cleanup_json json_t *d = get(f, f->dep, "default", name);
	json_t *c = sw_ctl_condition(json_object_get(d, "status"), type);
	snprintf(buf, sizeof(buf), "%s", c ? sw_obj_str(c, "reason") : "");
	return buf;
}

static int64_t dstatus(struct fx *f, const char *name, const char *field)
{
	cleanup_json json_t *d = get(f, f->dep, "default", name);
	char path[64];
	snprintf(path, sizeof(path), "status.%s", field);
	return sw_obj_int(d, path, 0);
}

static size_t count(struct fx *f, const sw_kind *k, const char *ns)
{
	cleanup_json json_t *items = list(f, k, ns);
	return json_array_size(items);
}

/* ---- ReplicaSet ------------------------------------------------------------------ */

static json_t *replicaset(const char *name, int replicas, int min_ready)
{
	char buf[1024];
	snprintf(buf, sizeof(buf),
	         "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"%s\"},"
	         "\"spec\":{\"replicas\":%d,\"minReadySeconds\":%d,\"selector\":{\"matchLabels\":"
	         "{\"app\":\"%s\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"%s\"}},"
	         "\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"img:1\"}]}}}}",
	         name, replicas, min_ready, name, name);
	return load(buf);
}

static void scale_rs(struct fx *f, const char *name, int replicas)
{
	cleanup_json json_t *rs = get(f, f->rs, "default", name);
	json_object_set_new(json_object_get(rs, "spec"), "replicas", json_integer(replicas));
	sw_error *err = NULL;
	check(sw_store_update(f->store, f->rs, rs, SW_STORE_MAIN, NULL, &err), err);
}

static void test_rs_creates_and_scales(void **state)
{
	struct fx *f = *state;
	create(f, f->rs, replicaset("web", 3, 0));
	sw_controllers_run_until_idle(f->c, 0);
	cleanup_json json_t *pods = list(f, f->pod, "default");
	assert_int_equal(json_array_size(pods), 3);
	cleanup_json json_t *rs = get(f, f->rs, "default", "web");
	size_t i;
	json_t *p;
	json_array_foreach(pods, i, p) {
		assert_true(strncmp(sw_obj_name(p), "web-", 4) == 0);
		assert_true(sw_obj_owned_by(p, rs));
		assert_string_equal(sw_obj_str(p, "metadata.labels.app"), "web");
	}
	/* a storm of events and resyncs makes no duplicates */
	for (int r = 0; r < 5; r++) {
		sw_controllers_resync(f->c);
		sw_controllers_run_until_idle(f->c, 0);
	}
	settle(f, "default", false, NULL, NULL);
	for (int r = 0; r < 3; r++)
		sw_controllers_resync(f->c);
	sw_controllers_run_until_idle(f->c, 0);
	assert_int_equal(count(f, f->pod, "default"), 3);
	json_decref(rs);
	rs = get(f, f->rs, "default", "web");
	assert_int_equal(sw_obj_int(rs, "status.replicas", -1), 3);
	assert_int_equal(sw_obj_int(rs, "status.readyReplicas", -1), 3);
	assert_int_equal(sw_obj_int(rs, "status.availableReplicas", -1), 3);
	assert_int_equal(sw_obj_int(rs, "status.fullyLabeledReplicas", -1), 3);
	assert_int_equal(sw_obj_int(rs, "status.observedGeneration", -1),
	                 sw_obj_int(rs, "metadata.generation", -2));

	/* scale up: 5 pods; the two new ones stay not ready */
	scale_rs(f, "web", 5);
	sw_controllers_run_until_idle(f->c, 0);
	assert_int_equal(count(f, f->pod, "default"), 5);
	/* scale down to 3: the two not-ready ones go, the ready ones stay */
	scale_rs(f, "web", 3);
	sw_controllers_run_until_idle(f->c, 0);
	struct counts c = count_pods(f, "default", NULL);
	assert_int_equal(c.total, 3);
	assert_int_equal(c.ready, 3);

	/* among ready pods, the one ready most recently goes first */
	cleanup_json json_t *ready = list(f, f->pod, "default");
	json_t *newest = json_array_get(ready, 1);
	sw_controllers_advance(f->c, 60);
	char later[32];
	sw_time_format(sw_controllers_now(f->c), later);
	cleanup_json json_t *st = json_deep_copy(newest);
	json_object_set_new(json_array_get(sw_obj_path(st, "status.conditions"), 0),
	                    "lastTransitionTime", json_string(later));
	sw_error *err = NULL;
	check(sw_store_update(f->store, f->pod, st, SW_STORE_STATUS, NULL, &err), err);
	scale_rs(f, "web", 2);
	sw_controllers_run_until_idle(f->c, 0);
	cleanup_json json_t *gone = get(f, f->pod, "default", sw_obj_name(newest));
	assert_true(!gone || sw_obj_deleting(gone));
	settle(f, "default", false, NULL, NULL);
	assert_int_equal(count(f, f->pod, "default"), 2);
	json_decref(rs);
	rs = get(f, f->rs, "default", "web");
	assert_int_equal(sw_obj_int(rs, "status.replicas", -1), 2);
}

static void test_rs_adopts_and_releases(void **state)
{
	struct fx *f = *state;
	create(f, f->pod, load("{\"metadata\":{\"name\":\"stray\",\"labels\":{\"app\":\"web\"}},"
	                       "\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"x\"}]}}"));
	create(f, f->rs, replicaset("web", 2, 0));
	sw_controllers_run_until_idle(f->c, 0);
	assert_int_equal(count(f, f->pod, "default"), 2);
	cleanup_json json_t *stray = get(f, f->pod, "default", "stray");
	cleanup_json json_t *rs = get(f, f->rs, "default", "web");
	assert_true(sw_obj_owned_by(stray, rs));
	/* relabelled: released, and a replacement made */
	json_object_set_new(sw_obj_path(stray, "metadata.labels"), "app", json_string("other"));
	sw_error *err = NULL;
	check(sw_store_update(f->store, f->pod, stray, SW_STORE_MAIN, NULL, &err), err);
	sw_controllers_run_until_idle(f->c, 0);
	cleanup_json json_t *released = get(f, f->pod, "default", "stray");
	assert_null(sw_obj_controller_ref(released));
	assert_int_equal(count(f, f->pod, "default"), 3);
}

static void test_rs_min_ready(void **state)
{
	struct fx *f = *state;
	create(f, f->rs, replicaset("web", 2, 10));
	settle(f, "default", false, NULL, NULL);
	cleanup_json json_t *rs = get(f, f->rs, "default", "web");
	assert_int_equal(sw_obj_int(rs, "status.readyReplicas", -1), 2);
	assert_int_equal(sw_obj_int(rs, "status.availableReplicas", 0), 0);
	/* the controller queued itself for when they become available */
	assert_true(sw_controllers_pending(f->c) > 0);
	sw_controllers_advance(f->c, 11);
	sw_controllers_run_until_idle(f->c, 0);
	json_decref(rs);
	rs = get(f, f->rs, "default", "web");
	assert_int_equal(sw_obj_int(rs, "status.availableReplicas", -1), 2);
}

/* ---- Deployment rollouts ---------------------------------------------------------- */

struct bounds {
	int64_t max_total, min_available;
	int64_t steps, peak_total, low_available;
};

static void sample_bounds(struct fx *f, void *ctx)
{
	struct bounds *b = ctx;
	struct counts c = count_pods(f, "default", NULL);
	b->steps++;
	if (c.total > b->peak_total)
		b->peak_total = c.total;
	if (c.ready < b->low_available)
		b->low_available = c.ready;
	if (c.total > b->max_total)
		fail_msg("step %" PRId64 ": %" PRId64 " pods > replicas+maxSurge %" PRId64, b->steps,
		         c.total, b->max_total);
	if (c.ready < b->min_available)
		fail_msg("step %" PRId64 ": %" PRId64 " available < replicas-maxUnavailable %" PRId64,
		         b->steps, c.ready, b->min_available);
}

static void rollout_case(struct fx *f, int replicas, const char *surge, const char *unavail,
                         int64_t want_surge, int64_t want_unavail)
{
	char strategy[256];
	snprintf(strategy, sizeof(strategy),
	         "{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxSurge\":%s,"
	         "\"maxUnavailable\":%s}}", surge, unavail);
	create(f, f->dep, deployment("web", replicas, strategy, "img:a"));
	settle(f, "default", false, NULL, NULL);
	assert_int_equal(count_pods(f, "default", "img:a").ready, replicas);
	assert_string_equal(cond_reason(f, "web", "Progressing"), "NewReplicaSetAvailable");
	assert_string_equal(cond_reason(f, "web", "Available"), "MinimumReplicasAvailable");

	struct bounds b = { .max_total = replicas + want_surge,
		            .min_available = replicas - want_unavail,
		            .low_available = INT64_MAX };
	edit_deploy(f, "web", set_image, "img:b");
	settle(f, "default", false, sample_bounds, &b);
	struct counts c = count_pods(f, "default", "img:b");
	assert_int_equal(c.total, replicas);
	assert_int_equal(c.ready_with_image, replicas);
	assert_int_equal(dstatus(f, "web", "updatedReplicas"), replicas);
	assert_int_equal(dstatus(f, "web", "availableReplicas"), replicas);
	assert_int_equal(dstatus(f, "web", "replicas"), replicas);
	assert_int_equal(dstatus(f, "web", "unavailableReplicas"), 0);
	assert_string_equal(cond_reason(f, "web", "Progressing"), "NewReplicaSetAvailable");
	/* the bounds were reached, not just respected */
	assert_int_equal(b.peak_total, replicas + want_surge);
	assert_int_equal(b.low_available, replicas - want_unavail);
	print_message("rollout %d surge %s unavailable %s: %" PRId64 " steps, peak %" PRId64
	              " pods, low %" PRId64 " available\n", replicas, surge, unavail, b.steps,
	              b.peak_total, b.low_available);
}

static void test_rollout_3_25_25(void **state)
{
	rollout_case(*state, 3, "\"25%\"", "\"25%\"", 1, 0);
}

static void test_rollout_10_25_25(void **state)
{
	rollout_case(*state, 10, "\"25%\"", "\"25%\"", 3, 2);
}

static void test_rollout_4_1_0(void **state)
{
	rollout_case(*state, 4, "1", "0", 1, 0);
}

static void test_rollout_5_0_2(void **state)
{
	rollout_case(*state, 5, "0", "2", 0, 2);
}

static void test_rollout_3_0_0(void **state)
{
	rollout_case(*state, 3, "0", "0", 0, 1); /* both 0: unavailable 1 */
}

static void test_rollout_7_50_30(void **state)
{
	rollout_case(*state, 7, "\"50%\"", "\"30%\"", 4, 2);
}

static void test_revisions_and_rollback(void **state)
{
	struct fx *f = *state;
	create(f, f->dep, deployment("web", 2, "{\"type\":\"RollingUpdate\"}", "img:a"));
	settle(f, "default", false, NULL, NULL);
	edit_deploy(f, "web", set_image, "img:b");
	settle(f, "default", false, NULL, NULL);
	cleanup_json json_t *rss = list(f, f->rs, "default");
	assert_int_equal(json_array_size(rss), 2);
	json_t *ra = NULL, *rb = NULL;
	size_t i;
	json_t *r;
	json_array_foreach(rss, i, r) {
		const char *img = sw_obj_str(
			json_array_get(sw_obj_path(r, "spec.template.spec.containers"), 0), "image");
		if (strcmp(img, "img:a") == 0)
			ra = r;
		else
			rb = r;
	}
	assert_non_null(ra);
	assert_non_null(rb);
	assert_string_equal(sw_obj_annotation(ra, SW_ANN_REVISION), "1");
	assert_string_equal(sw_obj_annotation(rb, SW_ANN_REVISION), "2");
	assert_int_equal(sw_obj_int(ra, "spec.replicas", -1), 0);
	const char *hash = sw_obj_str(rb, "metadata.labels.pod-template-hash");
	assert_non_null(hash);
	cleanup_free char *want_name = sw_xasprintf("web-%s", hash);
	assert_string_equal(sw_obj_name(rb), want_name);
	assert_string_equal(sw_obj_str(rb, "spec.selector.matchLabels.pod-template-hash"), hash);
	cleanup_json json_t *d = get(f, f->dep, "default", "web");
	assert_string_equal(sw_obj_annotation(d, SW_ANN_REVISION), "2");
	assert_string_equal(sw_obj_annotation(rb, SW_ANN_DESIRED_REPLICAS), "2");

	/* rollout undo as the CLI does it: RS a's template, hash label removed */
	json_t *tmpl = json_deep_copy(sw_obj_path(ra, "spec.template"));
	json_object_del(sw_obj_path(tmpl, "metadata.labels"), SW_LABEL_TEMPLATE_HASH);
	json_object_set_new(json_object_get(d, "spec"), "template", tmpl);
	sw_error *err = NULL;
	check(sw_store_update(f->store, f->dep, d, SW_STORE_MAIN, NULL, &err), err);
	settle(f, "default", false, NULL, NULL);
	assert_int_equal(count(f, f->rs, "default"), 2); /* re-used, not a third */
	cleanup_json json_t *ra2 = get(f, f->rs, "default", sw_obj_name(ra));
	assert_string_equal(sw_obj_annotation(ra2, SW_ANN_REVISION), "3");
	assert_string_equal(sw_obj_annotation(ra2, SW_ANN_REVISION_HISTORY), "1");
	assert_int_equal(sw_obj_int(ra2, "spec.replicas", -1), 2);
	assert_int_equal(count_pods(f, "default", "img:a").ready, 2);
	cleanup_json json_t *d2 = get(f, f->dep, "default", "web");
	assert_string_equal(sw_obj_annotation(d2, SW_ANN_REVISION), "3");
}

static void test_history_limit(void **state)
{
	struct fx *f = *state;
	cleanup_json json_t *d = deployment("web", 1, "{\"type\":\"RollingUpdate\"}", "img:0");
	json_object_set_new(json_object_get(d, "spec"), "revisionHistoryLimit", json_integer(2));
	create(f, f->dep, json_incref(d));
	settle(f, "default", false, NULL, NULL);
	const char *images[] = { "img:1", "img:2", "img:3", "img:4" };
	for (size_t i = 0; i < 4; i++) {
		edit_deploy(f, "web", set_image, images[i]);
		settle(f, "default", false, NULL, NULL);
	}
	/* the new RS and the 2 newest old ones; revisions 3, 4, 5 */
	cleanup_json json_t *rss = list(f, f->rs, "default");
	assert_int_equal(json_array_size(rss), 3);
	int64_t sum = 0;
	size_t i;
	json_t *r;
	json_array_foreach(rss, i, r)
		sum += sw_ctl_revision(r);
	assert_int_equal(sum, 3 + 4 + 5);
}

static void test_recreate(void **state)
{
	struct fx *f = *state;
	create(f, f->dep, deployment("web", 3, "{\"type\":\"Recreate\"}", "img:a"));
	settle(f, "default", false, NULL, NULL);
	edit_deploy(f, "web", set_image, "img:b");
	/* every step: no new pod while an old pod (even terminating) exists */
	for (int rounds = 0; rounds < 1000; rounds++) {
		while (sw_controllers_step(f->c)) {
			cleanup_json json_t *pods = list(f, f->pod, "default");
			int64_t old = 0, fresh = 0;
			size_t i;
			json_t *p;
			json_array_foreach(pods, i, p) {
				const char *img = sw_obj_str(
					json_array_get(sw_obj_path(p, "spec.containers"), 0), "image");
				if (strcmp(img, "img:a") == 0)
					old++;
				else
					fresh++;
			}
			assert_false(old > 0 && fresh > 0);
		}
		if (!kubelet_one(f, "default", false))
			break;
	}
	assert_int_equal(count_pods(f, "default", "img:b").ready_with_image, 3);
	assert_int_equal(count(f, f->pod, "default"), 3);
	assert_string_equal(cond_reason(f, "web", "Progressing"), "NewReplicaSetAvailable");
}

static void test_proportional_scaling(void **state)
{
	struct fx *f = *state;
	create(f, f->dep, deployment("web", 10,
	                             "{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxSurge\":3,"
	                             "\"maxUnavailable\":2}}", "img:a"));
	settle(f, "default", false, NULL, NULL);
	/* a rollout that cannot progress: new pods never get ready */
	edit_deploy(f, "web", set_image, "img:b");
	settle(f, "default", true, NULL, NULL);
	cleanup_json json_t *d = get(f, f->dep, "default", "web");
	cleanup_json json_t *rss = list(f, f->rs, "default");
	int64_t old_size = -1, new_size = -1;
	size_t i;
	json_t *r;
	json_array_foreach(rss, i, r) {
		if (sw_ctl_revision(r) == 1)
			old_size = sw_obj_int(r, "spec.replicas", -1);
		else
			new_size = sw_obj_int(r, "spec.replicas", -1);
	}
	assert_int_equal(old_size, 8);
	assert_int_equal(new_size, 5);
	/* the doc's example: 10 -> 15 gives +3 to the old RS and +2 to the new */
	int fifteen = 15;
	edit_deploy(f, "web", set_replicas, &fifteen);
	sw_controllers_run_until_idle(f->c, 0);
	json_decref(rss);
	rss = list(f, f->rs, "default");
	json_array_foreach(rss, i, r) {
		if (sw_ctl_revision(r) == 1)
			assert_int_equal(sw_obj_int(r, "spec.replicas", -1), 11);
		else
			assert_int_equal(sw_obj_int(r, "spec.replicas", -1), 7);
		assert_string_equal(sw_obj_annotation(r, SW_ANN_DESIRED_REPLICAS), "15");
		assert_string_equal(sw_obj_annotation(r, SW_ANN_MAX_REPLICAS), "18");
	}
	(void)d;
}

static void test_pause_resume(void **state)
{
	struct fx *f = *state;
	create(f, f->dep, deployment("web", 2, "{\"type\":\"RollingUpdate\"}", "img:a"));
	settle(f, "default", false, NULL, NULL);
	bool yes = true, no = false;
	edit_deploy(f, "web", set_paused, &yes);
	edit_deploy(f, "web", set_image, "img:b");
	settle(f, "default", false, NULL, NULL);
	assert_int_equal(count(f, f->rs, "default"), 1);
	assert_string_equal(cond_reason(f, "web", "Progressing"), "DeploymentPaused");
	/* scaling still works while paused */
	int four = 4;
	edit_deploy(f, "web", set_replicas, &four);
	settle(f, "default", false, NULL, NULL);
	assert_int_equal(count_pods(f, "default", "img:a").ready_with_image, 4);
	assert_int_equal(count(f, f->rs, "default"), 1);
	/* resume: the rollout happens */
	edit_deploy(f, "web", set_paused, &no);
	sw_controllers_step(f->c);
	assert_int_equal(count(f, f->rs, "default"), 2);
	settle(f, "default", false, NULL, NULL);
	assert_int_equal(count_pods(f, "default", "img:b").ready_with_image, 4);
	assert_string_equal(cond_reason(f, "web", "Progressing"), "NewReplicaSetAvailable");
}

static void test_progress_deadline(void **state)
{
	struct fx *f = *state;
	cleanup_json json_t *d = deployment("web", 2, "{\"type\":\"RollingUpdate\"}", "img:a");
	json_object_set_new(json_object_get(d, "spec"), "progressDeadlineSeconds",
	                    json_integer(30));
	create(f, f->dep, json_incref(d));
	settle(f, "default", false, NULL, NULL);
	edit_deploy(f, "web", set_image, "img:b");
	settle(f, "default", true, NULL, NULL);
	assert_string_equal(cond_reason(f, "web", "Progressing"), "ReplicaSetUpdated");
	/* the deployment waits for its deadline on the queue */
	assert_true(sw_controllers_pending(f->c) > 0);
	sw_controllers_advance(f->c, 20);
	sw_controllers_run_until_idle(f->c, 0);
	assert_string_equal(cond_reason(f, "web", "Progressing"), "ReplicaSetUpdated");
	sw_controllers_advance(f->c, 15);
	sw_controllers_run_until_idle(f->c, 0);
	assert_string_equal(cond_reason(f, "web", "Progressing"), "ProgressDeadlineExceeded");
	cleanup_json json_t *d2 = get(f, f->dep, "default", "web");
	json_t *c = sw_ctl_condition(json_object_get(d2, "status"), "Progressing");
	assert_string_equal(sw_obj_str(c, "status"), "False");
	/* the controller only reports: old pods are still serving */
	assert_int_equal(count_pods(f, "default", "img:a").ready_with_image, 2);
	/* progress after the deadline: back to True, then complete */
	settle(f, "default", false, NULL, NULL);
	assert_string_equal(cond_reason(f, "web", "Progressing"), "NewReplicaSetAvailable");
	assert_int_equal(count_pods(f, "default", "img:b").ready_with_image, 2);
}

/* minReadySeconds: a Ready pod counts as available only after it, so the
 * rollout moves only when the clock does. */
static void test_min_ready_rollout(void **state)
{
	struct fx *f = *state;
	json_t *d = deployment("web", 2,
	                       "{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxSurge\":1,"
	                       "\"maxUnavailable\":0}}", "img:a");
	json_object_set_new(json_object_get(d, "spec"), "minReadySeconds", json_integer(10));
	create(f, f->dep, d);
	settle(f, "default", false, NULL, NULL);
	assert_int_equal(dstatus(f, "web", "readyReplicas"), 2);
	assert_int_equal(dstatus(f, "web", "availableReplicas"), 0);
	assert_string_equal(cond_reason(f, "web", "Available"), "MinimumReplicasUnavailable");
	sw_controllers_advance(f->c, 11);
	sw_controllers_run_until_idle(f->c, 0);
	assert_int_equal(dstatus(f, "web", "availableReplicas"), 2);
	assert_string_equal(cond_reason(f, "web", "Available"), "MinimumReplicasAvailable");

	edit_deploy(f, "web", set_image, "img:b");
	settle(f, "default", false, NULL, NULL);
	/* the new pod is Ready but not yet available: no old pod goes */
	assert_int_equal(count_pods(f, "default", "img:a").ready_with_image, 2);
	assert_int_equal(count_pods(f, "default", "img:b").ready_with_image, 1);
	int rounds = 0;
	while (count_pods(f, "default", "img:a").with_image > 0 && rounds++ < 10) {
		sw_controllers_advance(f->c, 11);
		settle(f, "default", false, NULL, NULL);
	}
	assert_int_equal(rounds, 2);
	sw_controllers_advance(f->c, 11);
	settle(f, "default", false, NULL, NULL);
	assert_int_equal(count_pods(f, "default", "img:b").ready_with_image, 2);
	assert_string_equal(cond_reason(f, "web", "Progressing"), "NewReplicaSetAvailable");
}

static void test_gc_deployment(void **state)
{
	struct fx *f = *state;
	create(f, f->dep, deployment("web", 3, "{\"type\":\"RollingUpdate\"}", "img:a"));
	settle(f, "default", false, NULL, NULL);
	assert_int_equal(count(f, f->pod, "default"), 3);
	sw_error *err = NULL;
	check(sw_store_delete(f->store, f->dep, "default", "web", NULL, NULL, &err), err);
	settle(f, "default", false, NULL, NULL);
	assert_int_equal(count(f, f->rs, "default"), 0);
	assert_int_equal(count(f, f->pod, "default"), 0);
}

static void test_namespace_deletion(void **state)
{
	struct fx *f = *state;
	create(f, f->ns, load("{\"metadata\":{\"name\":\"team\"}}"));
	json_t *d = deployment("web", 2, "{\"type\":\"RollingUpdate\"}", "img:a");
	json_object_set_new(json_object_get(d, "metadata"), "namespace", json_string("team"));
	create(f, f->dep, d);
	create(f, sw_kind_lookup("configmaps"),
	       load("{\"metadata\":{\"name\":\"cfg\",\"namespace\":\"team\"},\"data\":{\"a\":\"b\"}}"));
	settle(f, "team", false, NULL, NULL);
	assert_int_equal(count(f, f->pod, "team"), 2);
	sw_error *err = NULL;
	check(sw_store_delete(f->store, f->ns, NULL, "team", NULL, NULL, &err), err);
	settle(f, "team", false, NULL, NULL);
	cleanup_json json_t *ns = get(f, f->ns, NULL, "team");
	assert_null(ns);
	for (size_t i = 0; i < sw_kinds_count; i++)
		if (sw_kinds[i].namespaced)
			assert_int_equal(count(f, &sw_kinds[i], "team"), 0);
	/* default is untouched */
	cleanup_json json_t *def = get(f, f->ns, NULL, "default");
	assert_non_null(def);
}

/* Rollover: a new template mid-rollout; the half-done RS joins the old
 * ones. Bounds hold throughout; only the last template is left. */
static void test_rollover(void **state)
{
	struct fx *f = *state;
	create(f, f->dep, deployment("web", 6,
	                             "{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxSurge\":2,"
	                             "\"maxUnavailable\":1}}", "img:a"));
	settle(f, "default", false, NULL, NULL);
	struct bounds b = { .max_total = 8, .min_available = 5, .low_available = INT64_MAX };
	edit_deploy(f, "web", set_image, "img:b");
	for (int i = 0; i < 6; i++) {
		while (sw_controllers_step(f->c))
			sample_bounds(f, &b);
		kubelet_one(f, "default", false);
		sample_bounds(f, &b);
	}
	assert_true(count_pods(f, "default", "img:b").with_image > 0);
	edit_deploy(f, "web", set_image, "img:c");
	settle(f, "default", false, sample_bounds, &b);
	assert_int_equal(count_pods(f, "default", "img:c").ready_with_image, 6);
	assert_int_equal(count(f, f->pod, "default"), 6);
	assert_int_equal(count(f, f->rs, "default"), 3);
	assert_string_equal(cond_reason(f, "web", "Progressing"), "NewReplicaSetAvailable");
	cleanup_json json_t *d = get(f, f->dep, "default", "web");
	assert_string_equal(sw_obj_annotation(d, SW_ANN_REVISION), "3");
}

/* Scaling down mid-rollout keeps the bounds of the new size. */
static void test_scale_down_mid_rollout(void **state)
{
	struct fx *f = *state;
	create(f, f->dep, deployment("web", 8,
	                             "{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxSurge\":2,"
	                             "\"maxUnavailable\":2}}", "img:a"));
	settle(f, "default", false, NULL, NULL);
	edit_deploy(f, "web", set_image, "img:b");
	settle(f, "default", true, NULL, NULL); /* stuck: new pods never ready */
	int four = 4;
	edit_deploy(f, "web", set_replicas, &four);
	sw_controllers_run_until_idle(f->c, 0);
	cleanup_json json_t *rss = list(f, f->rs, "default");
	int64_t total = 0;
	size_t i;
	json_t *r;
	json_array_foreach(rss, i, r)
		total += sw_obj_int(r, "spec.replicas", 0);
	assert_true(total <= 4 + 2);
	/* then let it finish */
	settle(f, "default", false, NULL, NULL);
	assert_int_equal(count_pods(f, "default", "img:b").ready_with_image, 4);
	assert_int_equal(count(f, f->pod, "default"), 4);
}

/* A ReplicaSet squatting on the new RS's name: collisionCount goes up, the
 * sync is retried after its back-off with the next hash. */
static void test_hash_collision(void **state)
{
	struct fx *f = *state;
	json_t *d = deployment("web", 1, "{\"type\":\"RollingUpdate\"}", "img:a");
	cleanup_free char *h0 = sw_ctl_template_hash(sw_obj_path(d, "spec.template"), -1);
	cleanup_free char *h1 = sw_ctl_template_hash(sw_obj_path(d, "spec.template"), 1);
	cleanup_free char *squat = sw_xasprintf("web-%s", h0);
	json_t *rs = replicaset("other", 0, 0);
	json_object_set_new(json_object_get(rs, "metadata"), "name", json_string(squat));
	create(f, f->rs, rs);
	create(f, f->dep, d);
	sw_controllers_run_until_idle(f->c, 0);
	assert_int_equal(sw_controllers_errors(f->c), 1);
	assert_int_equal(dstatus(f, "web", "collisionCount"), 1);
	/* the retry waits for its back-off */
	assert_true(sw_controllers_pending(f->c) > 0);
	sw_controllers_advance(f->c, 1);
	settle(f, "default", false, NULL, NULL);
	cleanup_free char *name = sw_xasprintf("web-%s", h1);
	cleanup_json json_t *mine = get(f, f->rs, "default", name);
	assert_non_null(mine);
	assert_int_equal(sw_obj_int(mine, "status.readyReplicas", -1), 1);
	f->expected_errors = sw_controllers_errors(f->c);
	assert_int_equal(f->expected_errors, 1);
}

/* Re-queueing the same keys does not grow the queues. */
static void test_queue_dedup(void **state)
{
	struct fx *f = *state;
	create(f, f->dep, deployment("web", 2, "{\"type\":\"RollingUpdate\"}", "img:a"));
	settle(f, "default", false, NULL, NULL);
	assert_int_equal(sw_controllers_pending(f->c), 0);
	sw_controllers_resync(f->c);
	size_t once = sw_controllers_pending(f->c);
	/* the RS, the deployment, GC for every namespace */
	assert_int_equal(once, 2 + count(f, f->ns, NULL));
	for (int i = 0; i < 5; i++)
		sw_controllers_resync(f->c);
	assert_int_equal(sw_controllers_pending(f->c), once);
	assert_int_equal(sw_controllers_run_until_idle(f->c, 0), once);
	assert_int_equal(count(f, f->pod, "default"), 2);
}

/* Pods that cannot be created (their namespace is terminating) show as a
 * ReplicaFailure condition and the sync is retried. */
static void test_rs_failed_create(void **state)
{
	struct fx *f = *state;
	create(f, f->ns, load("{\"metadata\":{\"name\":\"t\"}}"));
	json_t *rs = replicaset("web", 0, 0);
	json_object_set_new(json_object_get(rs, "metadata"), "namespace", json_string("t"));
	create(f, f->rs, rs);
	sw_controllers_run_until_idle(f->c, 0);
	sw_error *err = NULL;
	check(sw_store_delete(f->store, f->ns, NULL, "t", NULL, NULL, &err), err);
	cleanup_json json_t *cur = get(f, f->rs, "t", "web");
	json_object_set_new(json_object_get(cur, "spec"), "replicas", json_integer(2));
	check(sw_store_update(f->store, f->rs, cur, SW_STORE_MAIN, NULL, &err), err);
	assert_int_equal(sw_controllers_step(f->c), 1); /* the RS goes first */
	cleanup_json json_t *after = get(f, f->rs, "t", "web");
	json_t *c = sw_ctl_condition(json_object_get(after, "status"), "ReplicaFailure");
	assert_non_null(c);
	assert_string_equal(sw_obj_str(c, "reason"), "FailedCreate");
	assert_string_equal(sw_obj_str(c, "status"), "True");
	assert_int_equal(sw_controllers_errors(f->c), 1);
	/* then the namespace controller empties and removes t */
	settle(f, "t", false, NULL, NULL);
	cleanup_json json_t *gone = get(f, f->ns, NULL, "t");
	assert_null(gone);
	f->expected_errors = sw_controllers_errors(f->c);
}

/* Events as kubectl describe shows them. */
static void test_events(void **state)
{
	struct fx *f = *state;
	create(f, f->dep, deployment("web", 3, "{\"type\":\"RollingUpdate\"}", "img:a"));
	settle(f, "default", false, NULL, NULL);
	cleanup_json json_t *rss = list(f, f->rs, "default");
	cleanup_free char *want = sw_xasprintf("Scaled up replica set %s to 3",
	                                       sw_obj_name(json_array_get(rss, 0)));
	cleanup_json json_t *events = list(f, sw_kind_lookup("events"), "default");
	bool scaled = false;
	int created = 0;
	size_t i;
	json_t *e;
	json_array_foreach(events, i, e) {
		const char *reason = sw_obj_str(e, "reason"), *msg = sw_obj_str(e, "message");
		if (strcmp(reason, "ScalingReplicaSet") == 0 && strcmp(msg, want) == 0)
			scaled = true;
		if (strcmp(reason, "SuccessfulCreate") == 0 && strncmp(msg, "Created pod: web-", 17) == 0)
			created++;
	}
	assert_true(scaled);
	assert_int_equal(created, 3);
}

/* A kubelet acting in a random (seeded, so repeatable) order: readies one
 * random pending pod or removes one random terminating pod. */
static bool kubelet_random(struct fx *f, unsigned *seed)
{
	cleanup_json json_t *pods = list(f, f->pod, "default");
	size_t n = json_array_size(pods);
	cleanup_free size_t *cand = sw_xcalloc(n + 1, sizeof(*cand));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *p = json_array_get(pods, i);
		if (sw_obj_deleting(p) || !sw_ctl_pod_ready(p))
			cand[k++] = i;
	}
	if (!k)
		return false;
	json_t *p = json_array_get(pods, cand[(size_t)rand_r(seed) % k]);
	sw_error *err = NULL;
	if (sw_obj_deleting(p)) {
		sw_delete_opts o = { .grace_seconds = 0 };
		check(sw_store_delete(f->store, f->pod, "default", sw_obj_name(p), &o, NULL, &err),
		      err);
		return true;
	}
	cleanup_json json_t *bound = NULL;
	cleanup_json json_t *copy = json_deep_copy(p);
	json_object_set_new(json_object_get(copy, "spec"), "nodeName", json_string("node"));
	check(sw_store_update(f->store, f->pod, copy, SW_STORE_MAIN, &bound, &err), err);
	char now[32];
	sw_time_format(sw_controllers_now(f->c), now);
	cleanup_json json_t *st = json_deep_copy(bound);
	json_object_set_new(st, "status",
	                    json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "phase", "Running", "conditions",
	                              "type", "Ready", "status", "True", "lastTransitionTime", now));
	check(sw_store_update(f->store, f->pod, st, SW_STORE_STATUS, NULL, &err), err);
	return true;
}

/* Random rollouts: replicas, maxSurge, maxUnavailable and the kubelet's
 * order drawn from fixed seeds; the bounds hold after every step. */
static void test_rollout_random(void **state)
{
	struct fx *f = *state;
	static const char *const values[] = { "0", "1", "2", "\"10%\"", "\"25%\"", "\"50%\"",
		                              "\"100%\"" };
	const size_t nv = sizeof(values) / sizeof(values[0]);
	for (unsigned seed = 1; seed <= 12; seed++) {
		unsigned rng = seed;
		int replicas = 1 + rand_r(&rng) % 8;
		const char *surge = values[(size_t)rand_r(&rng) % nv];
		const char *unavail = values[(size_t)rand_r(&rng) % (nv - 1)];
		char name[32], strategy[256];
		snprintf(name, sizeof(name), "app%u", seed);
		snprintf(strategy, sizeof(strategy),
		         "{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxSurge\":%s,"
		         "\"maxUnavailable\":%s}}", surge, unavail);
		/* one app at a time in the namespace, so pod counts are its own */
		json_t *d = deployment(name, replicas, strategy, "img:a");
		int64_t ms = sw_ctl_max_surge(d), mu = sw_ctl_max_unavailable(d);
		create(f, f->dep, d);
		settle(f, "default", false, NULL, NULL);
		struct bounds b = { .max_total = replicas + ms, .min_available = replicas - mu,
			            .low_available = INT64_MAX };
		edit_deploy(f, name, set_image, "img:b");
		for (int round = 0; round < 10000; round++) {
			while (sw_controllers_step(f->c))
				sample_bounds(f, &b);
			if (!kubelet_random(f, &rng))
				break;
			sample_bounds(f, &b);
		}
		assert_int_equal(count_pods(f, "default", "img:b").ready_with_image, replicas);
		assert_int_equal(count(f, f->pod, "default"), replicas);
		print_message("seed %u: %d replicas, surge %s, unavailable %s: %" PRId64 " steps\n",
		              seed, replicas, surge, unavail, b.steps);
		sw_error *err = NULL;
		check(sw_store_delete(f->store, f->dep, "default", name, NULL, NULL, &err), err);
		settle(f, "default", false, NULL, NULL);
		assert_int_equal(count(f, f->pod, "default"), 0);
	}
}

/* slipwayd dies mid-rollout (its queues are lost) and starts again on the
 * same store: the resync finishes the rollout with no duplicate pods. */
static void test_restart_mid_rollout(void **state)
{
	struct fx *f = *state;
	create(f, f->dep, deployment("web", 5,
	                             "{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxSurge\":2,"
	                             "\"maxUnavailable\":1}}", "img:a"));
	settle(f, "default", false, NULL, NULL);
	edit_deploy(f, "web", set_image, "img:b");
	for (int i = 0; i < 4; i++) {
		sw_controllers_run_until_idle(f->c, 0);
		kubelet_one(f, "default", false);
	}
	/* pending work in the queues when it "dies" */
	kubelet_one(f, "default", false);
	assert_true(sw_controllers_pending(f->c) > 0);
	time_t now = sw_controllers_now(f->c);
	uint64_t errors = sw_controllers_errors(f->c);
	sw_controllers_free(f->c);
	sw_store_free(f->store);
	cleanup_free char *db = sw_xasprintf("%s/slipwayd.db", f->dir);
	sw_error *err = NULL;
	check(sw_store_open(&f->store, db, &err), err);
	check(sw_controllers_start(&f->c, f->base, f->store, &err), err);
	sw_controllers_set_time(f->c, now);
	assert_int_equal(errors, 0);
	struct bounds b = { .max_total = 7, .min_available = 4, .low_available = INT64_MAX };
	settle(f, "default", false, sample_bounds, &b);
	assert_int_equal(count_pods(f, "default", "img:b").ready_with_image, 5);
	assert_int_equal(count(f, f->pod, "default"), 5);
	assert_int_equal(count(f, f->rs, "default"), 2);
	assert_string_equal(cond_reason(f, "web", "Progressing"), "NewReplicaSetAvailable");
}

/* Objects validation would refuse, stored anyway (an older slipwayd, a
 * hand-edited store): the controllers must neither crash nor spin. */
static void test_malformed_objects(void **state)
{
	struct fx *f = *state;
	const char *deps[] = {
		"{\"metadata\":{\"name\":\"a\"}}",
		"{\"metadata\":{\"name\":\"b\"},\"spec\":{\"selector\":{}}}",
		"{\"metadata\":{\"name\":\"c\"},\"spec\":{\"replicas\":\"3\",\"selector\":"
		"{\"matchLabels\":{\"app\":\"c\"}}}}",
		"{\"metadata\":{\"name\":\"d\"},\"spec\":{\"selector\":{\"matchLabels\":"
		"{\"app\":\"d\"}},\"strategy\":{\"rollingUpdate\":{\"maxSurge\":\"x\","
		"\"maxUnavailable\":[]}},\"template\":7}}",
		"{\"metadata\":{\"name\":\"e\"},\"spec\":{\"replicas\":2,\"selector\":"
		"{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"Bogus\"}]}}}",
		"{\"metadata\":{\"name\":\"g\"},\"spec\":{\"replicas\":1,\"selector\":"
		"{\"matchLabels\":{\"app\":\"g\"}},\"template\":{\"metadata\":{\"labels\":"
		"\"x\"}}},\"status\":{\"conditions\":\"no\",\"collisionCount\":\"1\"}}",
	};
	for (size_t i = 0; i < sizeof(deps) / sizeof(deps[0]); i++)
		create(f, f->dep, load(deps[i]));
	create(f, f->rs, load("{\"metadata\":{\"name\":\"r\"},\"spec\":{\"replicas\":-4,"
	                      "\"selector\":{\"matchLabels\":{\"app\":\"r\"}}}}"));
	create(f, f->pod, load("{\"metadata\":{\"name\":\"p\",\"labels\":{\"app\":\"r\"},"
	                       "\"ownerReferences\":[{\"kind\":7},{\"apiVersion\":\"apps/v1\","
	                       "\"kind\":\"ReplicaSet\"}]},\"status\":{\"conditions\":[1,\"x\"]}}"));
	size_t steps = sw_controllers_run_until_idle(f->c, 0);
	assert_true(steps > 0 && steps < 1000);
	sw_controllers_advance(f->c, 3600);
	sw_controllers_resync(f->c);
	steps = sw_controllers_run_until_idle(f->c, 0);
	assert_true(steps < 1000);
	f->expected_errors = sw_controllers_errors(f->c);
}

/* ---- on the event loop ------------------------------------------------------------ */

static void test_event_loop(void **state)
{
	struct fx *f = *state;
	create(f, f->rs, replicaset("web", 3, 0));
	/* work runs from the loop's callbacks, without sw_controllers_step */
	for (int i = 0; i < 100 && count(f, f->pod, "default") < 3; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(count(f, f->pod, "default"), 3);
	for (int i = 0; i < 100 && sw_controllers_pending(f->c) > 0; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	cleanup_json json_t *rs = get(f, f->rs, "default", "web");
	assert_int_equal(sw_obj_int(rs, "status.replicas", -1), 3);
}

/* Delayed work on the loop's timer, with the wall clock: a ReplicaSet with
 * minReadySeconds 1 is queued for when its pods become available. */
static void test_event_loop_timer(void **state)
{
	struct fx *f = *state;
	sw_controllers_set_time(f->c, 0);
	create(f, f->rs, replicaset("web", 2, 1));
	for (int i = 0; i < 100 && count(f, f->pod, "default") < 2; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	while (kubelet_one(f, "default", false))
		;
	cleanup_json json_t *rs = NULL;
	for (int i = 0; i < 50; i++) {
		/* blocks until the next timer (or event) fires */
		event_base_loop(f->base, EVLOOP_ONCE);
		json_decref(rs);
		rs = get(f, f->rs, "default", "web");
		if (sw_obj_int(rs, "status.availableReplicas", 0) == 2)
			break;
	}
	assert_int_equal(sw_obj_int(rs, "status.readyReplicas", -1), 2);
	assert_int_equal(sw_obj_int(rs, "status.availableReplicas", -1), 2);
}

/* Figures, not thresholds: a 100-replica Deployment from apply to all
 * pods Ready and the status complete, then a rollout of all 100. */
static void test_hundred(void **state)
{
	struct fx *f = *state;
	struct timespec t0, t1, t2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	create(f, f->dep, deployment("web", 100, "{\"type\":\"RollingUpdate\"}", "img:a"));
	size_t steps = sw_controllers_run_until_idle(f->c, 0);
	assert_int_equal(count(f, f->pod, "default"), 100);
	settle_fast(f, "default");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(dstatus(f, "web", "availableReplicas"), 100);
	edit_deploy(f, "web", set_image, "img:b");
	settle_fast(f, "default");
	clock_gettime(CLOCK_MONOTONIC, &t2);
	assert_int_equal(count_pods(f, "default", "img:b").ready_with_image, 100);
	double a = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	double b = (double)(t2.tv_sec - t1.tv_sec) + (double)(t2.tv_nsec - t1.tv_nsec) / 1e9;
	print_message("100 replicas: %zu steps to create the pods; create+ready %.3f s, "
	              "rollout %.3f s (the test kubelet readies all pending pods per round)\n", steps, a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rs_creates_and_scales, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rs_adopts_and_releases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rs_min_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollout_3_25_25, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollout_10_25_25, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollout_4_1_0, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollout_5_0_2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollout_3_0_0, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollout_7_50_30, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollout_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_mid_rollout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scale_down_mid_rollout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revisions_and_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recreate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proportional_scaling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_progress_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_min_ready_rollout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gc_deployment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_namespace_deletion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hash_collision, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_dedup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rs_failed_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_objects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_loop_timer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hundred, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
