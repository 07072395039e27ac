/*
 * api_watch.c - ?watch=1: a chunked stream of {"type":..., "object":...}
 * lines, one per change, as the Kubernetes API sends them.
 *
 * With resourceVersion=N the stream starts after N (the store's kept
 * history; too old gives an ERROR event with a 410 Expired Status, which
 * makes client-go relist). Without it, or with "0", the current objects
 * come first as ADDED events. Single-threaded, so nothing can slip
 * between the replay and the registration of the live feed.
 */
#include <errno.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/log.h"
#include "slipway/mem.h"
#include "slipway/object.h"
#include "slipway/selector.h"

/* Kubernetes' --min-request-timeout: a watch without timeoutSeconds ends
 * after 30 minutes and the client starts a new one. */
#define WATCH_DEFAULT_TIMEOUT 1800

typedef struct watcher {
	api_stream *s;
	sw_api *api;
	const sw_kind *k;
	api_filter f;
	bool table;
	bool sent_columns;
	int watch_id;
	/* With a selector: the uids of the objects the client has seen match,
	 * so an object that stops matching is sent as DELETED and one that
	 * starts matching as ADDED, as the Kubernetes API does. */
	json_t *seen;
	bool seen_complete;   /* seen started from a full list (not a replay) */
} watcher;

static void send_event(watcher *w, const char *type, const json_t *obj)
{
	if (w->s->closed)
		return;
	json_t *o;
	if (w->table && strcmp(type, "ERROR") != 0) {
		cleanup_json json_t *items = json_pack("[O]", (json_t *)obj);
		const char *rv = sw_obj_str(obj, "metadata.resourceVersion");
		o = api_table(w->k, items, !w->sent_columns, rv ? rv : "", NULL, time(NULL));
		w->sent_columns = true;
	} else {
		o = json_incref((json_t *)obj);
	}
	json_t *ev = json_pack("{s:s, s:o}", "type", type, "object", o);
	cleanup_free char *text = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	if (!text)
		return;
	size_t len = strlen(text);
	text[len] = '\n';
	/* the NUL becomes the newline; send len + 1 bytes */
	api_stream_send(w->s, text, len + 1);
}

static void on_change(void *ctx, sw_watch_type type, const sw_kind *k, const json_t *obj,
                      uint64_t revision)
{
	(void)revision;
	watcher *w = ctx;
	if (w->s->closed || k != w->k)
		return;
	bool match = api_filter_match(&w->f, k, obj);
	const char *uid = sw_obj_uid(obj);
	if (!w->seen || !uid) {
		if (match)
			send_event(w, sw_watch_type_name(type), obj);
		return;
	}
	/* with a selector: the namespace and name are fixed, labels and fields move */
	bool was = json_object_get(w->seen, uid) != NULL;
	if (type == SW_WATCH_DELETED) {
		if (was || match)
			send_event(w, "DELETED", obj);
		json_object_del(w->seen, uid);
	} else if (match) {
		/* entering the selection is an ADDED; after a replay, an object
		 * not seen yet may have matched before: it stays MODIFIED */
		bool entered = !was && (type == SW_WATCH_ADDED || w->seen_complete);
		send_event(w, entered ? "ADDED" : sw_watch_type_name(type), obj);
		json_object_set_new(w->seen, uid, json_true());
	} else if (was) {
		send_event(w, "DELETED", obj);
		json_object_del(w->seen, uid);
	}
}

static void watcher_free(api_stream *s)
{
	watcher *w = s->data;
	if (w->watch_id > 0)
		sw_store_unwatch(w->api->store, w->watch_id);
	json_decref(w->seen);
	api_filter_release(&w->f);
	free(w);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	api_stream_close(arg);
}

void api_handle_watch(api_req *r)
{
	const sw_kind *k = r->route.kind;
	watcher *w = sw_xcalloc(1, sizeof(*w));
	w->api = r->api;
	w->k = k;
	w->table = r->table;
	if (api_list_filter_parse(r, &w->f) < 0) {
		free(w);
		return;
	}
	if (r->route.type == ROUTE_OBJECT) {
		snprintf(w->f.name, sizeof(w->f.name), "%s", r->route.name);
		w->f.has_name = true;
	}
	const char *rvq = api_query(r, "resourceVersion");
	uint64_t since = 0;
	bool from_rv = false;
	if (rvq && *rvq && strcmp(rvq, "0") != 0) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(rvq, &end, 10);
		if (errno || *end || rvq[0] == '-') {
			api_filter_release(&w->f);
			free(w);
			api_reply_fail(r, 400, "BadRequest", NULL, NULL,
			               "resourceVersion: invalid value \"%s\"", rvq);
			return;
		}
		since = v;
		from_rv = true;
	}
	long timeout = WATCH_DEFAULT_TIMEOUT;
	const char *ts = api_query(r, "timeoutSeconds");
	if (ts && *ts) {
		char *end;
		errno = 0;
		long v = strtol(ts, &end, 10);
		if (errno || *end || v < 0) {
			api_filter_release(&w->f);
			free(w);
			api_reply_fail(r, 400, "BadRequest", NULL, NULL,
			               "timeoutSeconds: invalid value \"%s\"", ts);
			return;
		}
		if (v > 0)
			timeout = v;
	}

	if ((w->f.labels && !sw_selector_empty(w->f.labels)) || w->f.nterms) {
		w->seen = json_object();
		w->seen_complete = !from_rv;
	}
	w->s = api_stream_start(r, "application/json", watcher_free, w);
	cleanup_error sw_error *err = NULL;
	if (from_rv) {
		if (sw_store_changes_since(r->api->store, k, w->f.ns, since, on_change, w, &err) < 0) {
			cleanup_free char *msg = sw_error_string(err);
			int c = sw_error_code(err);
			json_t *st = api_status_failure(c == SW_EGONE ? 410 : api_http_code(c),
			                                c == SW_EGONE ? "Expired" : api_reason(c), msg, NULL,
			                                NULL, NULL);
			send_event(w, "ERROR", st);
			json_decref(st);
			api_stream_close(w->s);
			return;
		}
	} else {
		sw_list_opts o = {
			.ns = w->f.ns,
			.labels = w->f.labels,
			.name = w->f.has_name ? w->f.name : NULL,
		};
		cleanup_json json_t *items = NULL;
		uint64_t rev;
		cleanup_free char *next = NULL;
		if (!w->f.none && sw_store_list(r->api->store, k, &o, &items, &rev, &next, &err) < 0) {
			cleanup_free char *msg = sw_error_string(err);
			json_t *st = api_status_failure(500, "InternalError", msg, NULL, NULL, NULL);
			send_event(w, "ERROR", st);
			json_decref(st);
			api_stream_close(w->s);
			return;
		}
		size_t i;
		json_t *obj;
		json_array_foreach(items, i, obj)
			if (api_filter_match(&w->f, k, obj)) {
				send_event(w, "ADDED", obj);
				if (w->seen && sw_obj_uid(obj))
					json_object_set_new(w->seen, sw_obj_uid(obj), json_true());
			}
	}
	if (w->s->closed)
		return;
	w->watch_id = sw_store_watch(r->api->store, k, on_change, w);
	w->s->timer = evtimer_new(r->api->base, on_timeout, w->s);
	struct timeval tv = { timeout, 0 };
	evtimer_add(w->s->timer, &tv);
}
