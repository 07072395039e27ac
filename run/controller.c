/*
 * controller.c - the controllers' framework: one work queue per controller
 * (keys de-duplicated, each with a due time), fed by store watch callbacks
 * that only enqueue; items run on the libevent loop (an always-ready
 * event while work is due, a timer for the earliest delayed item), one
 * controller after another in a fixed priority order; failures are
 * retried with exponential back-off (5 ms doubling to 30 s); everything is
 * re-queued every 30 s (resync). The syncs themselves live in ctl_*.c.
 */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_internal.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/log.h"
#include "slipway/mem.h"
#include "slipway/object.h"

#define BATCH_STEPS 64
#define BACKOFF_BASE_MS 5
#define BACKOFF_MAX_MS 30000

int64_t sw_ctl_now_ms(const sw_controllers *c)
{
	if (c->fake_clock)
		return c->fake_ms;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

time_t sw_controllers_now(const sw_controllers *c)
{
	return (time_t)(sw_ctl_now_ms(c) / 1000);
}

void sw_controllers_set_time(sw_controllers *c, time_t t)
{
	/* what was due on the old clock stays due on the new one */
	int64_t before = sw_ctl_now_ms(c);
	c->fake_clock = t != 0;
	c->fake_ms = (int64_t)t * 1000;
	int64_t now = sw_ctl_now_ms(c);
	for (int i = 0; i < SW_CTL_COUNT; i++)
		for (size_t j = 0; j < c->q[i].n; j++)
			if (c->q[i].items[j].due_ms <= before)
				c->q[i].items[j].due_ms = now;
}

void sw_controllers_advance(sw_controllers *c, int64_t seconds)
{
	if (!c->fake_clock)
		sw_controllers_set_time(c, sw_controllers_now(c));
	c->fake_ms += seconds * 1000;
}

char *sw_ctl_key(const json_t *obj)
{
	const char *ns = sw_obj_namespace(obj), *name = sw_obj_name(obj);
	return sw_xasprintf("%s/%s", ns ? ns : "", name ? name : "");
}

void sw_ctl_key_split(const char *key, char **ns, char **name)
{
	const char *slash = strchr(key, '/');
	if (!slash) {
		*ns = sw_xstrdup("");
		*name = sw_xstrdup(key);
		return;
	}
	*ns = sw_xstrndup(key, (size_t)(slash - key));
	*name = sw_xstrdup(slash + 1);
}

int sw_ctl_list(sw_controllers *c, const sw_kind *k, const char *ns, json_t **out,
                sw_error **err)
{
	sw_list_opts opts = { .ns = ns };
	uint64_t rev = 0;
	return sw_store_list(c->store, k, &opts, out, &rev, NULL, err);
}

/* ---- queues ---------------------------------------------------------------- */

static void schedule(sw_controllers *c);

static sw_ctl_item *find_item(sw_ctl_queue *q, const char *key)
{
	for (size_t i = 0; i < q->n; i++)
		if (strcmp(q->items[i].key, key) == 0)
			return &q->items[i];
	return NULL;
}

static sw_ctl_item *get_item(sw_ctl_queue *q, const char *key)
{
	sw_ctl_item *it = find_item(q, key);
	if (it)
		return it;
	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 16;
		q->items = sw_xreallocarray(q->items, q->cap, sizeof(*q->items));
	}
	it = &q->items[q->n++];
	it->key = sw_xstrdup(key);
	it->due_ms = INT64_MAX;
	it->failures = 0;
	return it;
}

static void remove_item(sw_ctl_queue *q, sw_ctl_item *it)
{
	free(it->key);
	*it = q->items[--q->n];
}

void sw_ctl_enqueue_after(sw_controllers *c, enum sw_ctl_id id, const char *key,
                          int64_t delay_ms)
{
	sw_ctl_item *it = get_item(&c->q[id], key);
	int64_t due = sw_ctl_now_ms(c) + (delay_ms > 0 ? delay_ms : 0);
	if (due < it->due_ms)
		it->due_ms = due;
	schedule(c);
}

void sw_ctl_enqueue(sw_controllers *c, enum sw_ctl_id id, const char *key)
{
	sw_ctl_enqueue_after(c, id, key, 0);
}

size_t sw_controllers_pending(const sw_controllers *c)
{
	size_t n = 0;
	for (int i = 0; i < SW_CTL_COUNT; i++)
		for (size_t j = 0; j < c->q[i].n; j++)
			n += c->q[i].items[j].due_ms != INT64_MAX;
	return n;
}

uint64_t sw_controllers_errors(const sw_controllers *c)
{
	uint64_t n = 0;
	for (int i = 0; i < SW_CTL_COUNT; i++)
		n += c->q[i].errors;
	return n;
}

int sw_controllers_step(sw_controllers *c)
{
	int64_t now = sw_ctl_now_ms(c);
	for (int id = 0; id < SW_CTL_COUNT; id++) {
		sw_ctl_queue *q = &c->q[id];
		sw_ctl_item *best = NULL;
		for (size_t i = 0; i < q->n; i++)
			if (q->items[i].due_ms <= now && (!best || q->items[i].due_ms < best->due_ms))
				best = &q->items[i];
		if (!best)
			continue;
		best->due_ms = INT64_MAX;
		cleanup_free char *key = sw_xstrdup(best->key);
		cleanup_error sw_error *err = NULL;
		q->syncs++;
		int rc = q->sync(c, key, &err);
		/* the sync may have queued items: look the key up again */
		sw_ctl_item *it = get_item(q, key);
		if (rc < 0) {
			q->errors++;
			if (sw_error_code(err) == SW_ECONFLICT)
				sw_debug("%s %s: %s", q->name, key, err ? err->msg : "conflict");
			else
				sw_log_error(err, "%s controller: syncing %s", q->name, key);
			int shift = it->failures < 13 ? it->failures : 13;
			int64_t delay = (int64_t)BACKOFF_BASE_MS << shift;
			if (delay > BACKOFF_MAX_MS)
				delay = BACKOFF_MAX_MS;
			it->failures++;
			sw_ctl_enqueue_after(c, (enum sw_ctl_id)id, key, delay);
		} else {
			it->failures = 0;
			if (it->due_ms == INT64_MAX)
				remove_item(q, it);
		}
		return 1;
	}
	return 0;
}

size_t sw_controllers_run_until_idle(sw_controllers *c, size_t max_steps)
{
	size_t n = 0;
	if (!max_steps)
		max_steps = 100000;
	while (n < max_steps && sw_controllers_step(c))
		n++;
	return n;
}

/* Arms the kick event when work is due, else the timer for the next. */
static void schedule(sw_controllers *c)
{
	if (!c->kick)
		return;
	int64_t next = INT64_MAX;
	for (int i = 0; i < SW_CTL_COUNT; i++)
		for (size_t j = 0; j < c->q[i].n; j++)
			if (c->q[i].items[j].due_ms < next)
				next = c->q[i].items[j].due_ms;
	if (next == INT64_MAX)
		return;
	int64_t delta = next - sw_ctl_now_ms(c);
	if (delta <= 0) {
		event_active(c->kick, 0, 0);
		return;
	}
	struct timeval tv = { .tv_sec = (time_t)(delta / 1000),
		              .tv_usec = (suseconds_t)((delta % 1000) * 1000) };
	evtimer_add(c->timer, &tv);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sw_controllers *c = arg;
	for (int i = 0; i < BATCH_STEPS; i++)
		if (!sw_controllers_step(c))
			break;
	schedule(c);
}

/* ---- watch dispatch -------------------------------------------------------- */

/* Queues, in id's queue, the objects of kind k in ns whose spec.selector
 * matches labels (for orphans looking for an owner). */
static void enqueue_selecting(sw_controllers *c, enum sw_ctl_id id, const sw_kind *k,
                              const char *ns, const json_t *labels)
{
	cleanup_json json_t *items = NULL;
	cleanup_error sw_error *err = NULL;
	if (sw_ctl_list(c, k, ns, &items, &err) < 0)
		return;
	size_t i;
	json_t *o;
	json_array_foreach(items, i, o) {
		sw_selector *sel = NULL;
		sw_error *e = NULL;
		if (sw_selector_from_json(&sel, sw_obj_path(o, "spec.selector"), false, &e) < 0) {
			sw_error_free(e);
			continue;
		}
		if (!sw_selector_empty(sel) && sw_selector_matches(sel, labels)) {
			cleanup_free char *key = sw_ctl_key(o);
			sw_ctl_enqueue(c, id, key);
		}
		sw_selector_free(sel);
	}
}

static bool ref_is(const json_t *ref, const char *kind)
{
	const char *k = json_string_value(json_object_get(ref, "kind"));
	return k && strcmp(k, kind) == 0;
}

static void enqueue_owner(sw_controllers *c, enum sw_ctl_id id, const char *ns,
                          const json_t *ref)
{
	const char *name = json_string_value(json_object_get(ref, "name"));
	if (!name)
		return;
	cleanup_free char *key = sw_xasprintf("%s/%s", ns, name);
	sw_ctl_enqueue(c, id, key);
}

/* A namespace being emptied hears of each deletion in it. */
static void maybe_terminating(sw_controllers *c, const char *ns)
{
	cleanup_json json_t *nsobj = NULL;
	cleanup_error sw_error *err = NULL;
	if (!ns || sw_store_get(c->store, c->k_ns, NULL, ns, &nsobj, &err) < 0)
		return;
	if (sw_obj_deleting(nsobj))
		sw_ctl_enqueue(c, SW_CTL_NAMESPACE, ns);
}

static void on_change(void *ctx, sw_watch_type type, const sw_kind *k, const json_t *obj,
                      uint64_t revision)
{
	(void)revision;
	sw_controllers *c = ctx;
	const char *ns = sw_obj_namespace(obj);
	if (!ns)
		ns = "";
	if (strcmp(k->kind, "Event") == 0) {
		if (type == SW_WATCH_DELETED)
			maybe_terminating(c, ns);
		return;
	}
	const json_t *ref = sw_obj_controller_ref(obj);
	if (k == c->k_pod) {
		if (ref && ref_is(ref, "ReplicaSet")) {
			enqueue_owner(c, SW_CTL_REPLICASET, ns, ref);
			if (type == SW_WATCH_DELETED) {
				/* Recreate waits for old pods to be gone */
				cleanup_json json_t *rs = NULL;
				cleanup_error sw_error *err = NULL;
				const char *rsname = json_string_value(json_object_get(ref, "name"));
				if (rsname && sw_store_get(c->store, c->k_rs, ns, rsname, &rs, &err) == 0) {
					const json_t *dref = sw_obj_controller_ref(rs);
					if (dref && ref_is(dref, "Deployment"))
						enqueue_owner(c, SW_CTL_DEPLOYMENT, ns, dref);
				}
			}
		} else if (!ref && type != SW_WATCH_DELETED && !sw_obj_deleting(obj)) {
			enqueue_selecting(c, SW_CTL_REPLICASET, c->k_rs, ns, sw_obj_labels(obj));
		}
		if (type == SW_WATCH_DELETED)
			maybe_terminating(c, ns);
		return;
	}
	if (k == c->k_ns) {
		const char *phase = sw_obj_str(obj, "status.phase");
		if (type != SW_WATCH_DELETED &&
		    (sw_obj_deleting(obj) || (phase && strcmp(phase, "Terminating") == 0))) {
			const char *name = sw_obj_name(obj);
			if (name)
				sw_ctl_enqueue(c, SW_CTL_NAMESPACE, name);
		}
		return;
	}
	if (k == c->k_rs) {
		cleanup_free char *key = sw_ctl_key(obj);
		sw_ctl_enqueue(c, SW_CTL_REPLICASET, key);
		if (ref && ref_is(ref, "Deployment"))
			enqueue_owner(c, SW_CTL_DEPLOYMENT, ns, ref);
		else if (!ref && type != SW_WATCH_DELETED)
			enqueue_selecting(c, SW_CTL_DEPLOYMENT, c->k_deploy, ns, sw_obj_labels(obj));
	} else if (k == c->k_deploy) {
		cleanup_free char *key = sw_ctl_key(obj);
		sw_ctl_enqueue(c, SW_CTL_DEPLOYMENT, key);
	}
	if (type == SW_WATCH_DELETED) {
		/* its dependents may now be orphans */
		sw_ctl_enqueue(c, SW_CTL_GC, ns);
		maybe_terminating(c, ns);
	}
}

void sw_controllers_resync(sw_controllers *c)
{
	const sw_kind *kinds[] = { c->k_rs, c->k_deploy };
	const enum sw_ctl_id ids[] = { SW_CTL_REPLICASET, SW_CTL_DEPLOYMENT };
	for (size_t i = 0; i < 2; i++) {
		cleanup_json json_t *items = NULL;
		cleanup_error sw_error *err = NULL;
		if (sw_ctl_list(c, kinds[i], NULL, &items, &err) < 0) {
			sw_log_error(err, "controllers: resync");
			continue;
		}
		size_t j;
		json_t *o;
		json_array_foreach(items, j, o) {
			cleanup_free char *key = sw_ctl_key(o);
			sw_ctl_enqueue(c, ids[i], key);
		}
	}
	cleanup_json json_t *nss = NULL;
	cleanup_error sw_error *err = NULL;
	if (sw_ctl_list(c, c->k_ns, NULL, &nss, &err) < 0) {
		sw_log_error(err, "controllers: resync");
		return;
	}
	size_t j;
	json_t *o;
	json_array_foreach(nss, j, o) {
		const char *name = sw_obj_name(o);
		if (!name)
			continue;
		sw_ctl_enqueue(c, SW_CTL_GC, name);
		if (sw_obj_deleting(o))
			sw_ctl_enqueue(c, SW_CTL_NAMESPACE, name);
	}
}

static void on_resync(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sw_controllers_resync(arg);
}

/* ---- lifecycle ------------------------------------------------------------- */

int sw_controllers_start(sw_controllers **out, struct event_base *base, sw_store *store,
                         sw_error **err)
{
	sw_controllers *c = sw_xcalloc(1, sizeof(*c));
	c->base = base;
	c->store = store;
	c->k_pod = sw_kind_by_kind("v1", "Pod");
	c->k_rs = sw_kind_by_kind("apps/v1", "ReplicaSet");
	c->k_deploy = sw_kind_by_kind("apps/v1", "Deployment");
	c->k_ns = sw_kind_by_kind("v1", "Namespace");
	if (!c->k_pod || !c->k_rs || !c->k_deploy || !c->k_ns) {
		free(c);
		return sw_error_set(err, SW_EFAIL, "controllers: kinds table lacks a core kind");
	}
	c->q[SW_CTL_REPLICASET] = (sw_ctl_queue){ .name = "replicaset",
		                                  .sync = sw_ctl_sync_replicaset };
	c->q[SW_CTL_DEPLOYMENT] = (sw_ctl_queue){ .name = "deployment",
		                                  .sync = sw_ctl_sync_deployment };
	c->q[SW_CTL_GC] = (sw_ctl_queue){ .name = "garbage-collector", .sync = sw_ctl_sync_gc };
	c->q[SW_CTL_NAMESPACE] = (sw_ctl_queue){ .name = "namespace",
		                                 .sync = sw_ctl_sync_namespace };
	if (base) {
		c->kick = event_new(base, -1, 0, on_kick, c);
		c->timer = evtimer_new(base, on_kick, c);
		c->resync = event_new(base, -1, EV_PERSIST, on_resync, c);
		if (!c->kick || !c->timer || !c->resync) {
			sw_controllers_free(c);
			return sw_error_set(err, SW_EFAIL, "controllers: cannot create loop events");
		}
		struct timeval tv = { .tv_sec = SW_CTL_RESYNC_SECONDS };
		event_add(c->resync, &tv);
	}
	c->watch_id = sw_store_watch(store, NULL, on_change, c);
	sw_controllers_resync(c);
	*out = c;
	return 0;
}

void sw_controllers_free(sw_controllers *c)
{
	if (!c)
		return;
	if (c->watch_id > 0)
		sw_store_unwatch(c->store, c->watch_id);
	if (c->kick)
		event_free(c->kick);
	if (c->timer)
		event_free(c->timer);
	if (c->resync)
		event_free(c->resync);
	for (int i = 0; i < SW_CTL_COUNT; i++) {
		for (size_t j = 0; j < c->q[i].n; j++)
			free(c->q[i].items[j].key);
		free(c->q[i].items);
	}
	free(c);
}
