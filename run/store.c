/*
 * store.c - slipwayd's object store: Kubernetes-shaped JSON documents in
 * SQLite, one global revision, a kept change history and watch callbacks.
 *
 * Tables:
 *   objects (res, ns, name) -> uid, rv, doc; aux is a per-kind lookup key
 *           (for events: the dedupe key), updated the unix time of the last
 *           write (for event retention)
 *   changes rv -> res, ns, name, type, doc: the object history and the
 *           change feed that watches resume from (last KEEP_CHANGES)
 *   meta    revision, compacted (the newest rv no longer in changes)
 *
 * Every write runs in a transaction (the caller's, or one of its own) and
 * queues its watch notification; notifications go out after COMMIT, in
 * revision order, and are dropped on ROLLBACK.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/log.h"
#include "slipway/mem.h"
#include "slipway/object.h"
#include "slipway/store.h"

#define KEEP_CHANGES 10000
#define EVENT_TTL_SECONDS 3600
#define EVENT_DEDUPE_SECONDS 600
#define EVENTS_PER_NAMESPACE 1000
#define EVENT_PRUNE_EVERY 64

struct watcher {
	int id;
	const sw_kind *kind;   /* NULL: all */
	sw_store_watch_fn fn;  /* NULL: removed */
	void *ctx;
};

struct note {
	sw_watch_type type;
	const sw_kind *kind;
	json_t *obj;
	uint64_t rv;
};

struct sw_store {
	sqlite3 *db;
	uint64_t revision;      /* committed */
	uint64_t pending_rev;   /* inside a transaction */
	uint64_t compacted;
	bool in_txn;            /* the caller's explicit transaction */
	struct watcher *watchers;
	size_t nwatchers;
	int next_watch_id;
	struct note *notes;     /* queued until commit */
	size_t nnotes, capnotes;
	bool flushing;
	unsigned writes_since_prune;
	unsigned events_since_prune;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS objects ("
	"  res TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL, uid TEXT NOT NULL,"
	"  rv INTEGER NOT NULL, doc TEXT NOT NULL, aux TEXT, updated INTEGER NOT NULL,"
	"  PRIMARY KEY (res, ns, name));"
	"CREATE INDEX IF NOT EXISTS objects_aux ON objects (res, ns, aux);"
	"CREATE INDEX IF NOT EXISTS objects_updated ON objects (res, ns, updated);"
	"CREATE TABLE IF NOT EXISTS changes ("
	"  rv INTEGER PRIMARY KEY, res TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL,"
	"  type INTEGER NOT NULL, doc TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"INSERT OR IGNORE INTO meta VALUES ('revision', 0), ('compacted', 0);";

/* "deployments.apps", "pods": the store key and the name in messages */
static void res_name(const sw_kind *k, char buf[static 96])
{
	if (k->group[0])
		snprintf(buf, 96, "%s.%s", k->resource, k->group);
	else
		snprintf(buf, 96, "%s", k->resource);
}

static int db_fail(sw_store *s, sw_error **err, const char *what)
{
	return sw_error_set(err, SW_EFAIL, "store: %s: %s", what, sqlite3_errmsg(s->db));
}

static int db_exec(sw_store *s, const char *sql, sw_error **err)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int ret = sw_error_set(err, SW_EFAIL, "store: %s", msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return ret;
	}
	return 0;
}

static void stmt_cleanup(sqlite3_stmt **st)
{
	sqlite3_finalize(*st);
}
#define cleanup_stmt __attribute__((cleanup(stmt_cleanup)))

static int prepare(sw_store *s, sqlite3_stmt **st, const char *sql, sw_error **err)
{
	if (sqlite3_prepare_v3(s->db, sql, -1, 0, st, NULL) != SQLITE_OK)
		return db_fail(s, err, "prepare");
	return 0;
}

static uint64_t meta_get(sw_store *s, const char *key)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	return sqlite3_step(st) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
}

static int meta_set(sw_store *s, const char *key, uint64_t v, sw_error **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (prepare(s, &st, "UPDATE meta SET value = ? WHERE key = ?", err) < 0)
		return SW_EFAIL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)v);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail(s, err, "meta");
	return 0;
}

static const sw_kind *kind_named(const char *name)
{
	for (size_t i = 0; i < sw_kinds_count; i++) {
		char buf[96];
		res_name(&sw_kinds[i], buf);
		if (strcmp(buf, name) == 0)
			return &sw_kinds[i];
	}
	return NULL;
}

/* ---- transactions and notifications ------------------------------------- */

static void drop_notes(sw_store *s, size_t from)
{
	for (size_t i = from; i < s->nnotes; i++)
		json_decref(s->notes[i].obj);
	s->nnotes = from;
}

static void queue_note(sw_store *s, sw_watch_type type, const sw_kind *k, json_t *obj, uint64_t rv)
{
	if (s->nnotes == s->capnotes) {
		s->capnotes = s->capnotes ? s->capnotes * 2 : 16;
		s->notes = sw_xreallocarray(s->notes, s->capnotes, sizeof(*s->notes));
	}
	s->notes[s->nnotes++] = (struct note){ type, k, json_incref(obj), rv };
}

/* Delivers queued notes. A callback that writes queues more notes; they
 * are delivered by the same loop, in order. */
static void flush_notes(sw_store *s)
{
	if (s->flushing)
		return;
	s->flushing = true;
	for (size_t i = 0; i < s->nnotes; i++) {
		struct note n = s->notes[i];
		size_t nw = s->nwatchers;
		for (size_t w = 0; w < nw && w < s->nwatchers; w++) {
			struct watcher *wt = &s->watchers[w];
			if (wt->fn && (!wt->kind || wt->kind == n.kind))
				wt->fn(wt->ctx, n.type, n.kind, n.obj, n.rv);
		}
	}
	drop_notes(s, 0);
	/* compact removed watchers */
	size_t j = 0;
	for (size_t i = 0; i < s->nwatchers; i++)
		if (s->watchers[i].fn)
			s->watchers[j++] = s->watchers[i];
	s->nwatchers = j;
	s->flushing = false;
}

static int begin(sw_store *s, sw_error **err)
{
	if (db_exec(s, "BEGIN IMMEDIATE", err) < 0)
		return SW_EFAIL;
	s->pending_rev = s->revision;
	return 0;
}

static void rollback(sw_store *s, size_t notes_before)
{
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->pending_rev = s->revision;
	drop_notes(s, notes_before);
}

static int commit(sw_store *s, sw_error **err)
{
	if (s->pending_rev != s->revision && meta_set(s, "revision", s->pending_rev, err) < 0)
		return SW_EFAIL;
	if (db_exec(s, "COMMIT", err) < 0)
		return SW_EFAIL;
	s->revision = s->pending_rev;
	return 0;
}

int sw_store_begin(sw_store *s, sw_error **err)
{
	if (s->in_txn)
		return sw_error_set(err, SW_EFAIL, "store: a transaction is already open");
	if (begin(s, err) < 0)
		return SW_EFAIL;
	s->in_txn = true;
	return 0;
}

int sw_store_commit(sw_store *s, sw_error **err)
{
	if (!s->in_txn)
		return sw_error_set(err, SW_EFAIL, "store: no transaction is open");
	s->in_txn = false;
	if (commit(s, err) < 0) {
		rollback(s, 0);
		return SW_EFAIL;
	}
	flush_notes(s);
	return 0;
}

void sw_store_rollback(sw_store *s)
{
	if (!s->in_txn)
		return;
	s->in_txn = false;
	rollback(s, 0);
}

/* A write's own transaction when the caller has none. */
struct op {
	bool own;
	size_t notes_before;
};

static int op_begin(sw_store *s, struct op *op, sw_error **err)
{
	op->own = !s->in_txn;
	op->notes_before = s->nnotes;
	return op->own ? begin(s, err) : 0;
}

static int op_end(sw_store *s, struct op *op, int rc, sw_error **err)
{
	if (!op->own)
		return rc;
	if (rc < 0) {
		rollback(s, op->notes_before);
		return rc;
	}
	if (commit(s, err) < 0) {
		rollback(s, op->notes_before);
		return SW_EFAIL;
	}
	flush_notes(s);
	return rc;
}

/* ---- rows ----------------------------------------------------------------- */

static const char *ns_of(const sw_kind *k, const char *ns)
{
	return k->namespaced ? (ns && *ns ? ns : "default") : "";
}

static int load_doc(sw_store *s, const char *text, json_t **out, sw_error **err)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (!j)
		return sw_error_set(err, SW_EFAIL, "store: corrupt document: %s", je.text);
	(void)s;
	*out = j;
	return 0;
}

static int row_get(sw_store *s, const sw_kind *k, const char *ns, const char *name, json_t **out,
                   sw_error **err)
{
	char res[96];
	res_name(k, res);
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (prepare(s, &st, "SELECT doc FROM objects WHERE res = ? AND ns = ? AND name = ?", err) < 0)
		return SW_EFAIL;
	sqlite3_bind_text(st, 1, res, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, ns_of(k, ns), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return sw_error_set(err, SW_ENOTFOUND, "%s \"%s\" not found", res, name);
	if (rc != SQLITE_ROW)
		return db_fail(s, err, "get");
	return load_doc(s, (const char *)sqlite3_column_text(st, 0), out, err);
}

static void set_rv(json_t *obj, uint64_t rv)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)rv);
	json_object_set_new(sw_obj_mkpath(obj, "metadata"), "resourceVersion", json_string(buf));
}

static int record_change(sw_store *s, const sw_kind *k, const char *ns, const char *name,
                         sw_watch_type type, const char *doc, sw_error **err)
{
	char res[96];
	res_name(k, res);
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (prepare(s, &st, "INSERT INTO changes VALUES (?, ?, ?, ?, ?, ?)", err) < 0)
		return SW_EFAIL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)s->pending_rev);
	sqlite3_bind_text(st, 2, res, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, (int)type);
	sqlite3_bind_text(st, 6, doc, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail(s, err, "record change");
	if (++s->writes_since_prune >= 500 && s->pending_rev > KEEP_CHANGES) {
		s->writes_since_prune = 0;
		uint64_t cut = s->pending_rev - KEEP_CHANGES;
		cleanup_stmt sqlite3_stmt *del = NULL;
		if (prepare(s, &del, "DELETE FROM changes WHERE rv <= ?", err) < 0)
			return SW_EFAIL;
		sqlite3_bind_int64(del, 1, (sqlite3_int64)cut);
		if (sqlite3_step(del) != SQLITE_DONE || meta_set(s, "compacted", cut, err) < 0)
			return db_fail(s, err, "compact history");
		s->compacted = cut;
	}
	return 0;
}

/* Writes obj (already carrying its metadata) as the new state at a new
 * revision and queues the event. */
static int row_put(sw_store *s, const sw_kind *k, json_t *obj, sw_watch_type type,
                   const char *aux, sw_error **err)
{
	const char *ns = ns_of(k, sw_obj_namespace(obj));
	const char *name = sw_obj_name(obj);
	char res[96];
	res_name(k, res);
	s->pending_rev++;
	set_rv(obj, s->pending_rev);
	cleanup_free char *doc = json_dumps(obj, JSON_COMPACT);
	if (!doc)
		return sw_error_set(err, SW_EFAIL, "store: cannot encode %s \"%s\"", res, name);
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (prepare(s, &st, "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?, ?, ?)", err) < 0)
		return SW_EFAIL;
	sqlite3_bind_text(st, 1, res, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, sw_obj_uid(obj), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)s->pending_rev);
	sqlite3_bind_text(st, 6, doc, -1, SQLITE_STATIC);
	if (aux)
		sqlite3_bind_text(st, 7, aux, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 7);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)time(NULL));
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail(s, err, "write");
	if (record_change(s, k, ns, name, type, doc, err) < 0)
		return SW_EFAIL;
	queue_note(s, type, k, obj, s->pending_rev);
	return 0;
}

static int row_remove(sw_store *s, const sw_kind *k, json_t *last, sw_error **err)
{
	const char *ns = ns_of(k, sw_obj_namespace(last));
	const char *name = sw_obj_name(last);
	char res[96];
	res_name(k, res);
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (prepare(s, &st, "DELETE FROM objects WHERE res = ? AND ns = ? AND name = ?", err) < 0)
		return SW_EFAIL;
	sqlite3_bind_text(st, 1, res, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail(s, err, "delete");
	s->pending_rev++;
	set_rv(last, s->pending_rev);
	cleanup_free char *doc = json_dumps(last, JSON_COMPACT);
	if (record_change(s, k, ns, name, SW_WATCH_DELETED, doc ? doc : "{}", err) < 0)
		return SW_EFAIL;
	queue_note(s, SW_WATCH_DELETED, k, last, s->pending_rev);
	return 0;
}

/* ---- open ------------------------------------------------------------------ */

static const sw_kind *namespace_kind(void)
{
	return sw_kind_by_kind("v1", "Namespace");
}

static void new_uid(char out[static 37])
{
	unsigned char b[16];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		/* getrandom on Linux >= 3.17 does not fail for 16 bytes */
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (unsigned char)rand();
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	         b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
	         b[13], b[14], b[15]);
}

static void now_string(char buf[static 32])
{
	sw_time_format(time(NULL), buf);
}

int sw_store_open(sw_store **out, const char *path, sw_error **err)
{
	sw_store *s = sw_xcalloc(1, sizeof(*s));
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		free(s);
		return sw_error_set_errno(err, errno, "store: open %s", path);
	}
	close(fd);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		int ret = sw_error_set(err, SW_EFAIL, "store: open %s: %s", path,
		                       s->db ? sqlite3_errmsg(s->db) : "out of memory");
		sqlite3_close(s->db);
		free(s);
		return ret;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (db_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF;",
	            err) < 0 ||
	    db_exec(s, schema, err) < 0) {
		sw_store_free(s);
		return sw_error_wrap(err, "store %s", path);
	}
	s->revision = s->pending_rev = meta_get(s, "revision");
	s->compacted = meta_get(s, "compacted");
	static const char *const builtin[] = { "default", "kube-system", "kube-public" };
	for (size_t i = 0; i < 3; i++) {
		json_t *ns = NULL;
		sw_error *e = NULL;
		if (row_get(s, namespace_kind(), "", builtin[i], &ns, &e) == 0) {
			json_decref(ns);
			continue;
		}
		sw_error_free(e);
		cleanup_json json_t *obj = json_pack("{s:{s:s}}", "metadata", "name", builtin[i]);
		if (sw_store_create(s, namespace_kind(), obj, NULL, err) < 0) {
			sw_store_free(s);
			return sw_error_wrap(err, "store %s", path);
		}
	}
	*out = s;
	return 0;
}

void sw_store_free(sw_store *s)
{
	if (!s)
		return;
	if (s->in_txn)
		sw_store_rollback(s);
	drop_notes(s, 0);
	free(s->notes);
	free(s->watchers);
	sqlite3_close(s->db);
	free(s);
}

uint64_t sw_store_revision(const sw_store *s)
{
	return s->revision;
}

const char *sw_watch_type_name(sw_watch_type t)
{
	switch (t) {
	case SW_WATCH_ADDED: return "ADDED";
	case SW_WATCH_MODIFIED: return "MODIFIED";
	case SW_WATCH_DELETED: return "DELETED";
	}
	return "?";
}

/* ---- reads ------------------------------------------------------------------ */

int sw_store_get(sw_store *s, const sw_kind *k, const char *ns, const char *name, json_t **out,
                 sw_error **err)
{
	if (!name || !*name)
		return sw_error_set(err, SW_EINVALID, "a name is required");
	return row_get(s, k, ns, name, out, err);
}

int sw_store_list(sw_store *s, const sw_kind *k, const sw_list_opts *opts, json_t **items,
                  uint64_t *revision, char **next, sw_error **err)
{
	static const sw_list_opts none = { 0 };
	if (!opts)
		opts = &none;
	char res[96];
	res_name(k, res);
	const char *ns = k->namespaced && opts->ns && *opts->ns ? opts->ns : NULL;
	/* continue token: "NS/NAME" of the last item of the previous page */
	cleanup_free char *after_ns = NULL, *after_name = NULL;
	if (opts->continue_token && *opts->continue_token) {
		const char *slash = strchr(opts->continue_token, '/');
		if (!slash || strchr(slash + 1, '/'))
			return sw_error_set(err, SW_EINVALID, "continue key is not valid: \"%s\"",
			                    opts->continue_token);
		after_ns = sw_xstrndup(opts->continue_token, (size_t)(slash - opts->continue_token));
		after_name = sw_xstrdup(slash + 1);
	}
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (prepare(s, &st,
	            "SELECT ns, name, doc FROM objects WHERE res = ?1 AND (?2 IS NULL OR ns = ?2)"
	            " AND (?3 IS NULL OR name = ?3)"
	            " AND (?4 IS NULL OR ns > ?4 OR (ns = ?4 AND name > ?5)) ORDER BY ns, name",
	            err) < 0)
		return SW_EFAIL;
	sqlite3_bind_text(st, 1, res, -1, SQLITE_TRANSIENT);
	if (ns)
		sqlite3_bind_text(st, 2, ns, -1, SQLITE_STATIC);
	if (opts->name)
		sqlite3_bind_text(st, 3, opts->name, -1, SQLITE_STATIC);
	if (after_ns) {
		sqlite3_bind_text(st, 4, after_ns, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, after_name, -1, SQLITE_STATIC);
	}
	cleanup_json json_t *arr = json_array();
	char *cont = NULL;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *obj = NULL;
		if (load_doc(s, (const char *)sqlite3_column_text(st, 2), &obj, err) < 0)
			return SW_EFAIL;
		if (!sw_selector_matches(opts->labels, sw_obj_labels(obj))) {
			json_decref(obj);
			continue;
		}
		if (opts->limit && json_array_size(arr) == opts->limit) {
			json_decref(obj);
			const json_t *last = json_array_get(arr, opts->limit - 1);
			cont = sw_xasprintf("%s/%s", k->namespaced ? sw_obj_namespace(last) : "",
			                    sw_obj_name(last));
			break;
		}
		json_array_append_new(arr, obj);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(s, err, "list");
	*items = steal_pointer(&arr);
	if (revision)
		*revision = s->revision;
	if (next)
		*next = cont;
	else
		free(cont);
	return 0;
}

/* ---- writes ----------------------------------------------------------------- */

static const char gen_alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

static int namespace_usable(sw_store *s, const char *ns, sw_error **err)
{
	json_t *nsobj = NULL;
	if (row_get(s, namespace_kind(), "", ns, &nsobj, err) < 0)
		return SW_ENOTFOUND;
	bool terminating = sw_obj_deleting(nsobj);
	json_decref(nsobj);
	if (terminating)
		return sw_error_set(err, SW_EFORBIDDEN,
		                    "unable to create new content in namespace %s because it is being terminated",
		                    ns);
	return 0;
}

static int create_locked(sw_store *s, const sw_kind *k, const json_t *in, json_t **out,
                         const char *aux, sw_error **err)
{
	char res[96];
	res_name(k, res);
	if (!json_is_object(in))
		return sw_error_set(err, SW_EINVALID, "%s: the object must be a JSON object", res);
	cleanup_json json_t *obj = json_deep_copy(in);
	json_t *md = sw_obj_mkpath(obj, "metadata");
	if (!md)
		return sw_error_set(err, SW_EINVALID, "%s: metadata must be an object", res);
	json_object_set_new(obj, "apiVersion", json_string(k->api_version));
	json_object_set_new(obj, "kind", json_string(k->kind));
	const char *ns = "";
	if (k->namespaced) {
		const char *given = sw_obj_namespace(obj);
		json_object_set_new(md, "namespace", json_string(given && *given ? given : "default"));
		ns = sw_obj_namespace(obj);
		if (namespace_usable(s, ns, err) < 0)
			return sw_error_code(*err);
	} else {
		json_object_del(md, "namespace");
	}
	const char *name = sw_obj_name(obj);
	const char *gen = json_string_value(json_object_get(md, "generateName"));
	bool generated = false;
	if ((!name || !*name) && gen && *gen) {
		generated = true;
	} else if (!name || !*name) {
		return sw_error_set(err, SW_EINVALID,
		                    "%s: metadata.name: Required value: name or generateName is required", res);
	}
	if (name && (strlen(name) > 253 || strchr(name, '/')))
		return sw_error_set(err, SW_EINVALID, "%s \"%s\": metadata.name: Invalid value", res, name);
	for (int attempt = 0; attempt < 8; attempt++) {
		if (generated) {
			char suffix[6];
			unsigned char rnd[5];
			if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
				return sw_error_set_errno(err, errno, "getrandom");
			for (size_t i = 0; i < 5; i++)
				suffix[i] = gen_alphabet[rnd[i] % (sizeof(gen_alphabet) - 1)];
			suffix[5] = '\0';
			cleanup_free char *nm = sw_xasprintf("%.*s%s", 58, gen, suffix);
			json_object_set_new(md, "name", json_string(nm));
			name = sw_obj_name(obj);
		}
		json_t *old = NULL;
		sw_error *e = NULL;
		int rc = row_get(s, k, ns, name, &old, &e);
		sw_error_free(e);
		if (rc == 0) {
			json_decref(old);
			if (generated)
				continue;
			return sw_error_set(err, SW_EEXISTS, "%s \"%s\" already exists", res, name);
		}
		if (rc != SW_ENOTFOUND)
			return db_fail(s, err, "create");
		break;
	}
	char uid[37], now[32];
	new_uid(uid);
	now_string(now);
	json_object_set_new(md, "uid", json_string(uid));
	json_object_set_new(md, "creationTimestamp", json_string(now));
	json_object_set_new(md, "generation", json_integer(1));
	json_object_del(md, "deletionTimestamp");
	json_object_del(md, "deletionGracePeriodSeconds");
	json_object_del(md, "resourceVersion");
	if (k == namespace_kind()) {
		json_t *st = sw_obj_mkpath(obj, "status");
		json_object_set_new(st, "phase", json_string("Active"));
		json_t *spec = sw_obj_mkpath(obj, "spec");
		if (!json_object_get(spec, "finalizers"))
			json_object_set_new(spec, "finalizers", json_pack("[s]", "kubernetes"));
	}
	if (row_put(s, k, obj, SW_WATCH_ADDED, aux, err) < 0)
		return SW_EFAIL;
	if (out)
		*out = json_incref(obj);
	return 0;
}

int sw_store_create(sw_store *s, const sw_kind *k, const json_t *obj, json_t **out, sw_error **err)
{
	struct op op;
	if (op_begin(s, &op, err) < 0)
		return SW_EFAIL;
	return op_end(s, &op, create_locked(s, k, obj, out, NULL, err), err);
}

static int conflict(sw_error **err, const sw_kind *k, const char *name)
{
	char res[96];
	res_name(k, res);
	return sw_error_set(err, SW_ECONFLICT,
	                    "Operation cannot be fulfilled on %s \"%s\": the object has been modified; "
	                    "please apply your changes to the latest version and try again",
	                    res, name);
}

/* A copy of obj without metadata and status: what generation tracks. */
static json_t *spec_part(const json_t *obj)
{
	json_t *c = json_copy((json_t *)obj);
	json_object_del(c, "metadata");
	json_object_del(c, "status");
	json_object_del(c, "apiVersion");
	json_object_del(c, "kind");
	return c;
}

static bool finalizers_empty(const json_t *obj)
{
	return json_array_size(sw_obj_path(obj, "metadata.finalizers")) == 0;
}

static int update_locked(sw_store *s, const sw_kind *k, const json_t *in, int flags, json_t **out,
                         sw_error **err)
{
	char res[96];
	res_name(k, res);
	if (!json_is_object(in) || !json_is_object(json_object_get(in, "metadata")))
		return sw_error_set(err, SW_EINVALID, "%s: the object needs metadata", res);
	const char *name = sw_obj_name(in);
	if (!name)
		return sw_error_set(err, SW_EINVALID, "%s: metadata.name: Required value", res);
	const char *ns = ns_of(k, sw_obj_namespace(in));
	cleanup_json json_t *old = NULL;
	if (row_get(s, k, ns, name, &old, err) < 0)
		return sw_error_code(*err);
	const char *want_rv = sw_obj_str(in, "metadata.resourceVersion");
	const char *have_rv = sw_obj_str(old, "metadata.resourceVersion");
	if (want_rv && *want_rv && (!have_rv || strcmp(want_rv, have_rv) != 0))
		return conflict(err, k, name);
	cleanup_json json_t *obj = NULL;
	if (flags & SW_STORE_STATUS) {
		obj = json_deep_copy(old);
		json_t *st = json_object_get(in, "status");
		if (st)
			json_object_set(obj, "status", st);
		else
			json_object_del(obj, "status");
	} else {
		obj = json_deep_copy(in);
		json_t *st = json_object_get(old, "status");
		if (k->has_status) {
			if (st)
				json_object_set(obj, "status", st);
			else
				json_object_del(obj, "status");
		}
		json_t *md = json_object_get(obj, "metadata");
		const json_t *omd = json_object_get(old, "metadata");
		static const char *const owned[] = { "uid", "creationTimestamp", "deletionTimestamp",
		                                     "deletionGracePeriodSeconds", "namespace", "name" };
		for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
			json_t *v = json_object_get(omd, owned[i]);
			if (v)
				json_object_set(md, owned[i], v);
			else
				json_object_del(md, owned[i]);
		}
		/* generation: +1 when the spec part changed */
		cleanup_json json_t *a = spec_part(old);
		cleanup_json json_t *b = spec_part(obj);
		int64_t gen = sw_obj_int(old, "metadata.generation", 1);
		json_object_set_new(md, "generation", json_integer(json_equal(a, b) ? gen : gen + 1));
		/* a finalizer may not be added to an object being deleted? Kubernetes
		 * allows removing only; keep it simple and accept the new list. */
	}
	json_object_set_new(obj, "apiVersion", json_string(k->api_version));
	json_object_set_new(obj, "kind", json_string(k->kind));
	json_t *md = json_object_get(obj, "metadata");
	json_object_set(md, "resourceVersion", json_object_get(json_object_get(old, "metadata"),
	                                                        "resourceVersion"));
	if (json_equal(obj, old)) {
		if (out)
			*out = json_incref(old);
		return 0;
	}
	if (sw_obj_deleting(obj) && finalizers_empty(obj) && k != namespace_kind() &&
	    !(k->namespaced && strcmp(k->kind, "Pod") == 0)) {
		if (row_remove(s, k, obj, err) < 0)
			return SW_EFAIL;
	} else if (row_put(s, k, obj, SW_WATCH_MODIFIED, NULL, err) < 0) {
		return SW_EFAIL;
	}
	if (out)
		*out = json_incref(obj);
	return 0;
}

int sw_store_update(sw_store *s, const sw_kind *k, const json_t *obj, int flags, json_t **out,
                    sw_error **err)
{
	struct op op;
	if (op_begin(s, &op, err) < 0)
		return SW_EFAIL;
	return op_end(s, &op, update_locked(s, k, obj, flags, out, err), err);
}

static int delete_locked(sw_store *s, const sw_kind *k, const char *ns, const char *name,
                         const sw_delete_opts *opts, json_t **out, sw_error **err)
{
	char res[96];
	res_name(k, res);
	cleanup_json json_t *obj = NULL;
	if (row_get(s, k, ns, name, &obj, err) < 0)
		return sw_error_code(*err);
	if (opts && opts->uid && strcmp(opts->uid, sw_obj_uid(obj) ? sw_obj_uid(obj) : "") != 0)
		return sw_error_set(err, SW_ECONFLICT,
		                    "Precondition failed: UID in precondition: %s, UID in object meta: %s",
		                    opts->uid, sw_obj_uid(obj));
	if (opts && opts->resource_version &&
	    strcmp(opts->resource_version, sw_obj_str(obj, "metadata.resourceVersion")) != 0)
		return sw_error_set(err, SW_ECONFLICT,
		                    "Precondition failed: ResourceVersion in precondition: %s, "
		                    "ResourceVersion in object meta: %s",
		                    opts->resource_version, sw_obj_str(obj, "metadata.resourceVersion"));
	int64_t grace = opts ? opts->grace_seconds : -1;
	bool is_ns = k == namespace_kind();
	bool is_pod = strcmp(k->kind, "Pod") == 0 && strcmp(k->group, "") == 0;
	if (is_ns && (strcmp(name, "default") == 0 || strcmp(name, "kube-system") == 0 ||
	              strcmp(name, "kube-public") == 0))
		return sw_error_set(err, SW_EFORBIDDEN,
		                    "namespaces \"%s\" is forbidden: this namespace may not be deleted", name);
	bool marked = sw_obj_deleting(obj);
	bool mark = false;
	if (is_pod) {
		if (grace < 0)
			grace = sw_obj_int(obj, "spec.terminationGracePeriodSeconds", 30);
		bool bound = sw_obj_str(obj, "spec.nodeName") != NULL;
		mark = bound && grace > 0 && !marked;
		if (marked && grace > 0) {
			if (out)
				*out = json_incref(obj);
			return 0;
		}
	} else if (is_ns) {
		mark = !marked;
		if (marked && grace != 0) {
			if (out)
				*out = json_incref(obj);
			return 0;
		}
		grace = 0;
	}
	if (!finalizers_empty(obj)) {
		if (marked) {
			if (out)
				*out = json_incref(obj);
			return 0;
		}
		mark = true;
		if (grace < 0)
			grace = 0;
	}
	if (mark) {
		char when[32];
		sw_time_format(time(NULL) + (grace > 0 ? grace : 0), when);
		json_t *md = json_object_get(obj, "metadata");
		json_object_set_new(md, "deletionTimestamp", json_string(when));
		json_object_set_new(md, "deletionGracePeriodSeconds", json_integer(grace > 0 ? grace : 0));
		if (is_ns)
			json_object_set_new(sw_obj_mkpath(obj, "status"), "phase", json_string("Terminating"));
		if (row_put(s, k, obj, SW_WATCH_MODIFIED, NULL, err) < 0)
			return SW_EFAIL;
	} else if (row_remove(s, k, obj, err) < 0) {
		return SW_EFAIL;
	}
	if (out)
		*out = json_incref(obj);
	return 0;
}

int sw_store_delete(sw_store *s, const sw_kind *k, const char *ns, const char *name,
                    const sw_delete_opts *opts, json_t **out, sw_error **err)
{
	struct op op;
	if (op_begin(s, &op, err) < 0)
		return SW_EFAIL;
	return op_end(s, &op, delete_locked(s, k, ns, name, opts, out, err), err);
}

/* ---- watch ------------------------------------------------------------------- */

int sw_store_watch(sw_store *s, const sw_kind *k, sw_store_watch_fn fn, void *ctx)
{
	s->watchers = sw_xreallocarray(s->watchers, s->nwatchers + 1, sizeof(*s->watchers));
	int id = ++s->next_watch_id;
	s->watchers[s->nwatchers++] = (struct watcher){ id, k, fn, ctx };
	return id;
}

void sw_store_unwatch(sw_store *s, int id)
{
	for (size_t i = 0; i < s->nwatchers; i++) {
		if (s->watchers[i].id != id)
			continue;
		if (s->flushing) {
			s->watchers[i].fn = NULL;   /* compacted after the flush */
		} else {
			memmove(&s->watchers[i], &s->watchers[i + 1],
			        (s->nwatchers - i - 1) * sizeof(*s->watchers));
			s->nwatchers--;
		}
		return;
	}
}

int sw_store_changes_since(sw_store *s, const sw_kind *k, const char *ns, uint64_t since,
                           sw_store_watch_fn fn, void *ctx, sw_error **err)
{
	if (since < s->compacted)
		return sw_error_set(err, SW_EGONE, "too old resource version: %llu (%llu)",
		                    (unsigned long long)since, (unsigned long long)s->compacted + 1);
	if (since > s->revision)
		return 0;   /* nothing newer yet: the caller's watch will see it */
	char res[96] = "";
	if (k)
		res_name(k, res);
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (prepare(s, &st,
	            "SELECT type, res, doc FROM changes WHERE rv > ?1 AND (?2 IS NULL OR res = ?2)"
	            " AND (?3 IS NULL OR ns = ?3) ORDER BY rv",
	            err) < 0)
		return SW_EFAIL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
	if (k)
		sqlite3_bind_text(st, 2, res, -1, SQLITE_STATIC);
	if (ns && *ns)
		sqlite3_bind_text(st, 3, ns, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const sw_kind *ck = kind_named((const char *)sqlite3_column_text(st, 1));
		json_t *obj = NULL;
		if (!ck || load_doc(s, (const char *)sqlite3_column_text(st, 2), &obj, err) < 0)
			continue;
		uint64_t rv = strtoull(sw_obj_str(obj, "metadata.resourceVersion") ?
		                       sw_obj_str(obj, "metadata.resourceVersion") : "0", NULL, 10);
		fn(ctx, (sw_watch_type)sqlite3_column_int(st, 0), ck, obj, rv);
		json_decref(obj);
	}
	if (rc != SQLITE_DONE)
		return db_fail(s, err, "history");
	return 0;
}

/* ---- events ------------------------------------------------------------------- */

static const sw_kind *event_kind(void)
{
	return sw_kind_by_kind("v1", "Event");
}

static void prune_events(sw_store *s, const char *ns)
{
	char res[96];
	res_name(event_kind(), res);
	cleanup_stmt sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db,
	                       "DELETE FROM objects WHERE res = ?1 AND (updated < ?2 OR (ns = ?3 AND name IN"
	                       " (SELECT name FROM objects WHERE res = ?1 AND ns = ?3"
	                       "  ORDER BY updated DESC, rv DESC LIMIT -1 OFFSET ?4)))",
	                       -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, res, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)(time(NULL) - EVENT_TTL_SECONDS));
	sqlite3_bind_text(st, 3, ns, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, EVENTS_PER_NAMESPACE);
	sqlite3_step(st);
}

static int event_locked(sw_store *s, const json_t *about, const char *type, const char *reason,
                        const char *component, const char *msg, sw_error **err)
{
	const sw_kind *ek = event_kind();
	const char *ns = sw_obj_namespace(about);
	if (!ns || !*ns)
		ns = "default";
	const char *uid = sw_obj_uid(about) ? sw_obj_uid(about) : "";
	char now[32];
	now_string(now);
	/* dedupe key: involved uid, reason, message */
	cleanup_free char *aux = sw_xasprintf("%s|%s|%s", uid, reason, msg);
	cleanup_stmt sqlite3_stmt *st = NULL;
	char res[96];
	res_name(ek, res);
	if (prepare(s, &st,
	            "SELECT doc FROM objects WHERE res = ? AND ns = ? AND aux = ? AND updated >= ?", err) < 0)
		return SW_EFAIL;
	sqlite3_bind_text(st, 1, res, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, aux, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)(time(NULL) - EVENT_DEDUPE_SECONDS));
	if (sqlite3_step(st) == SQLITE_ROW) {
		cleanup_json json_t *ev = NULL;
		if (load_doc(s, (const char *)sqlite3_column_text(st, 0), &ev, err) < 0)
			return SW_EFAIL;
		json_object_set_new(ev, "count", json_integer(sw_obj_int(ev, "count", 1) + 1));
		json_object_set_new(ev, "lastTimestamp", json_string(now));
		return row_put(s, ek, ev, SW_WATCH_MODIFIED, aux, err);
	}
	sqlite3_finalize(st);
	st = NULL;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	cleanup_free char *name = sw_xasprintf("%s.%llx%05llx", sw_obj_name(about) ? sw_obj_name(about) : "object",
	                                       (unsigned long long)ts.tv_sec,
	                                       (unsigned long long)(ts.tv_nsec / 10000) ^
	                                       (s->pending_rev & 0xff));
	const char *av = json_string_value(json_object_get(about, "apiVersion"));
	const char *kd = json_string_value(json_object_get(about, "kind"));
	cleanup_json json_t *ev = json_pack(
		"{s:{s:s, s:s}, s:{s:s?, s:s?, s:s, s:s?, s:s, s:s?}, s:s, s:s, s:{s:s}, s:s, s:s,"
		" s:i, s:s, s:s, s:s}",
		"metadata", "name", name, "namespace", ns,
		"involvedObject", "apiVersion", av, "kind", kd, "namespace", ns, "name", sw_obj_name(about),
		"uid", uid, "resourceVersion", sw_obj_str(about, "metadata.resourceVersion"),
		"reason", reason, "message", msg, "source", "component", component,
		"firstTimestamp", now, "lastTimestamp", now, "count", 1, "type", type,
		"reportingComponent", component, "reportingInstance", "slipwayd");
	if (!ev)
		return sw_error_set(err, SW_EINVALID, "event: bad fields");
	if (create_locked(s, ek, ev, NULL, aux, err) < 0)
		return SW_EFAIL;
	/* retention is checked every EVENT_PRUNE_EVERY new events, not each
	 * time: a burst of pod starts records hundreds */
	if (++s->events_since_prune >= EVENT_PRUNE_EVERY) {
		s->events_since_prune = 0;
		prune_events(s, ns);
	}
	return 0;
}

void sw_store_event(sw_store *s, const json_t *obj, const char *type, const char *reason,
                    const char *component, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sw_error *err = NULL;
	struct op op;
	if (op_begin(s, &op, &err) == 0)
		op_end(s, &op, event_locked(s, obj, type, reason, component, msg, &err), &err);
	if (err) {
		cleanup_free char *text = sw_error_string(err);
		sw_log(SW_LOG_WARN, "recording event %s for %s: %s", reason, sw_obj_name(obj), text);
		sw_error_free(err);
	}
}
