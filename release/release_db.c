/*
 * release_db.c - the release index: STATE/releases.db (SQLite, WAL mode,
 * mode 0600 because the secrets table holds secret config values).
 *
 * Every change is one transaction. Version numbers come from the apps
 * table's counter, taken in a transaction of their own before anything
 * else is written, so a failed release burns its number instead of letting
 * the next one reuse it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "release_int.h"
#include "slipway/cleanup.h"
#include "slipway/mem.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS apps ("
	"  name TEXT PRIMARY KEY, next_version INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS releases ("
	"  app TEXT NOT NULL, version INTEGER NOT NULL, id TEXT NOT NULL, image TEXT NOT NULL,"
	"  git_commit TEXT, created TEXT NOT NULL, author TEXT NOT NULL, note TEXT,"
	"  reason TEXT NOT NULL CHECK (reason IN ('build','config','rollback','import')), parent TEXT,"
	"  PRIMARY KEY (app, version));"
	"CREATE INDEX IF NOT EXISTS releases_id ON releases (id);"
	"CREATE TABLE IF NOT EXISTS secrets ("
	"  app TEXT NOT NULL, key TEXT NOT NULL, digest TEXT NOT NULL, value BLOB NOT NULL,"
	"  PRIMARY KEY (app, key, digest));";

static int db_fail(sw_releases *r, sw_error **err, const char *what)
{
	return sw_error_set(err, SW_EFAIL, "release index: %s: %s", what, sqlite3_errmsg(r->db));
}

static int db_exec(sw_releases *r, const char *sql, sw_error **err)
{
	char *msg = NULL;

	if (sqlite3_exec(r->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int ret = sw_error_set(err, SW_EFAIL, "release index: %s", msg ? msg : sqlite3_errmsg(r->db));
		sqlite3_free(msg);
		return ret;
	}
	return 0;
}

static void rollback(sw_releases *r)
{
	sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
}

int release_db_open(sw_releases *r, sw_error **err)
{
	cleanup_free char *path = sw_xasprintf("%s/releases.db", r->state_dir);
	int fd;

	/* create it 0600 before SQLite does (it would honour the umask) */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return sw_error_set_errno(err, errno, "open %s", path);
	if (fchmod(fd, 0600) < 0) {
		int e = errno;
		close(fd);
		return sw_error_set_errno(err, e, "chmod %s", path);
	}
	close(fd);
	if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) !=
	    SQLITE_OK)
		return sw_error_set(err, SW_EFAIL, "open %s: %s", path, r->db ? sqlite3_errmsg(r->db) : "out of memory");
	sqlite3_busy_timeout(r->db, 10000);
	if (db_exec(r, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;", err) < 0 || db_exec(r, schema, err) < 0)
		return sw_error_wrap(err, "%s", path);
	return 0;
}

static void stmt_finalizep(sqlite3_stmt **s)
{
	sqlite3_finalize(*s);
}
#define cleanup_stmt __attribute__((cleanup(stmt_finalizep)))

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

int release_db_next_version(sw_releases *r, const char *app, int64_t *out, sw_error **err)
{
	cleanup_stmt sqlite3_stmt *ins = NULL, *sel = NULL, *upd = NULL;
	int ret;

	if ((ret = db_exec(r, "BEGIN IMMEDIATE", err)) < 0)
		return ret;
	if (sqlite3_prepare_v2(r->db,
	                       "INSERT OR IGNORE INTO apps (name, next_version) VALUES (?1, "
	                       "  coalesce((SELECT max(version) + 1 FROM releases WHERE app = ?1), 1))",
	                       -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db, "SELECT next_version FROM apps WHERE name = ?", -1, &sel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db, "UPDATE apps SET next_version = next_version + 1 WHERE name = ?", -1, &upd,
	                       NULL) != SQLITE_OK) {
		ret = db_fail(r, err, "prepare");
		goto out;
	}
	bind_text(ins, 1, app);
	bind_text(sel, 1, app);
	bind_text(upd, 1, app);
	if (sqlite3_step(ins) != SQLITE_DONE || sqlite3_step(sel) != SQLITE_ROW) {
		ret = db_fail(r, err, "taking a version number");
		goto out;
	}
	*out = sqlite3_column_int64(sel, 0);
	if (sqlite3_step(upd) != SQLITE_DONE) {
		ret = db_fail(r, err, "taking a version number");
		goto out;
	}
	if (sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		ret = db_fail(r, err, "commit");
		goto out;
	}
	return 0;
out:
	rollback(r);
	return ret;
}

int release_db_insert(sw_releases *r, const sw_release_info *info, const json_t *secrets, bool check_parent,
                      sw_error **err)
{
	cleanup_stmt sqlite3_stmt *row = NULL, *sec = NULL;
	const char *key;
	json_t *v;
	int ret;

	if ((ret = db_exec(r, "BEGIN IMMEDIATE", err)) < 0)
		return ret;
	if (sqlite3_prepare_v2(r->db,
	                       "INSERT INTO releases (app, version, id, image, git_commit, created, author, note,"
	                       " reason, parent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	                       -1, &row, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db, "INSERT OR IGNORE INTO secrets (app, key, digest, value) VALUES (?, ?, ?, ?)", -1,
	                       &sec, NULL) != SQLITE_OK) {
		ret = db_fail(r, err, "prepare");
		goto out;
	}
	if (check_parent) {
		/* optimistic concurrency: the release was made from the app's
		 * current one; another change in between would be lost */
		cleanup_stmt sqlite3_stmt *cur = NULL;
		const char *now = NULL;
		int rc;
		if (sqlite3_prepare_v2(r->db, "SELECT id FROM releases WHERE app = ? ORDER BY version DESC LIMIT 1", -1,
		                       &cur, NULL) != SQLITE_OK) {
			ret = db_fail(r, err, "prepare");
			goto out;
		}
		bind_text(cur, 1, info->app);
		rc = sqlite3_step(cur);
		if (rc == SQLITE_ROW)
			now = (const char *)sqlite3_column_text(cur, 0);
		else if (rc != SQLITE_DONE) {
			ret = db_fail(r, err, "reading the current release");
			goto out;
		}
		if ((now == NULL) != (info->parent == NULL) || (now && strcmp(now, info->parent))) {
			ret = sw_error_set(err, SW_ECONFLICT,
			                   "app '%s' changed while release v%lld was made (its current release is now %.19s); "
			                   "try again",
			                   info->app, (long long)info->version, now ? now : "none");
			goto out;
		}
	}
	json_object_foreach((json_t *)secrets, key, v) {
		const char *val = json_string_value(json_object_get(v, "value"));
		sqlite3_reset(sec);
		bind_text(sec, 1, info->app);
		bind_text(sec, 2, key);
		bind_text(sec, 3, json_string_value(json_object_get(v, "digest")));
		sqlite3_bind_blob(sec, 4, val, (int)strlen(val), SQLITE_TRANSIENT);
		if (sqlite3_step(sec) != SQLITE_DONE) {
			/* the message names the table, never the value */
			ret = db_fail(r, err, "storing a secret");
			goto out;
		}
	}
	bind_text(row, 1, info->app);
	sqlite3_bind_int64(row, 2, info->version);
	bind_text(row, 3, info->id);
	bind_text(row, 4, info->image);
	bind_text(row, 5, info->git_commit);
	bind_text(row, 6, info->created);
	bind_text(row, 7, info->author);
	bind_text(row, 8, info->note);
	bind_text(row, 9, info->reason);
	bind_text(row, 10, info->parent);
	if (sqlite3_step(row) != SQLITE_DONE) {
		ret = db_fail(r, err, "adding the release");
		goto out;
	}
	if (sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		ret = db_fail(r, err, "commit");
		goto out;
	}
	return 0;
out:
	rollback(r);
	return ret;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? sw_xstrdup((const char *)t) : NULL;
}

int release_db_query(sw_releases *r, const char *app, enum release_query q, int64_t version,
                     const char *prefix, size_t limit, sw_release_info **out, size_t *n, sw_error **err)
{
	static const char *const where[] = {
		[RQ_ALL] = "",
		[RQ_VERSION] = " AND version = ?2",
		[RQ_PREFIX] = " AND substr(id, 1, length(?2)) = ?2",
	};
	cleanup_stmt sqlite3_stmt *st = NULL;
	cleanup_free char *sql = sw_xasprintf("SELECT id, app, version, image, git_commit, created, author, note,"
	                                      " reason, parent FROM releases WHERE app = ?1%s"
	                                      " ORDER BY version DESC LIMIT ?3",
	                                      where[q]);
	sw_release_info *v = NULL;
	size_t k = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_fail(r, err, "prepare");
	bind_text(st, 1, app);
	if (q == RQ_VERSION)
		sqlite3_bind_int64(st, 2, version);
	else if (q == RQ_PREFIX)
		bind_text(st, 2, prefix);
	sqlite3_bind_int64(st, 3, limit ? (sqlite3_int64)limit : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sw_release_info *i;
		v = sw_xreallocarray(v, k + 1, sizeof(*v));
		i = &v[k++];
		memset(i, 0, sizeof(*i));
		snprintf(i->id, sizeof(i->id), "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(i->app, sizeof(i->app), "%s", (const char *)sqlite3_column_text(st, 1));
		i->version = sqlite3_column_int64(st, 2);
		snprintf(i->image, sizeof(i->image), "%s", (const char *)sqlite3_column_text(st, 3));
		i->git_commit = col_dup(st, 4);
		i->created = col_dup(st, 5);
		i->author = col_dup(st, 6);
		i->note = col_dup(st, 7);
		i->reason = col_dup(st, 8);
		i->parent = col_dup(st, 9);
	}
	if (rc != SQLITE_DONE) {
		sw_release_infos_free(v, k);
		return db_fail(r, err, "reading releases");
	}
	*out = v;
	*n = k;
	return 0;
}

int release_db_secret(sw_releases *r, const char *app, const char *key, const char *digest, char **out,
                      sw_error **err)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(r->db, "SELECT value FROM secrets WHERE app = ? AND key = ? AND digest = ?", -1, &st,
	                       NULL) != SQLITE_OK)
		return db_fail(r, err, "prepare");
	bind_text(st, 1, app);
	bind_text(st, 2, key);
	bind_text(st, 3, digest);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return sw_error_set(err, SW_ENOTFOUND, "app %s: the value of secret %s is not in this state dir", app, key);
	if (rc != SQLITE_ROW)
		return db_fail(r, err, "reading a secret");
	const void *b = sqlite3_column_blob(st, 0);
	*out = b ? sw_xstrndup(b, (size_t)sqlite3_column_bytes(st, 0)) : sw_xstrdup("");
	return 0;
}

void sw_release_info_release(sw_release_info *info)
{
	if (!info)
		return;
	free(info->git_commit);
	free(info->created);
	free(info->author);
	free(info->note);
	free(info->reason);
	free(info->parent);
	memset(info, 0, sizeof(*info));
}

void sw_release_infos_free(sw_release_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sw_release_info_release(&v[i]);
	free(v);
}

int sw_release_secret_value(sw_releases *r, const char *app, const char *key, const char *digest,
                            char **out, sw_error **err)
{
	return release_db_secret(r, app, key, digest, out, err);
}
