/*
 * The SQLite driver: everything SQLite-specific about a store lives here
 * (the open flags, WAL and its kept -wal/-shm files, the PRAGMAs, the
 * read-only open rules, the SQL function the v4 migration calls, the
 * trigger switch behind fts_manual). The SQL texts are in store.c
 * (sql_sqlite[]) and schema.c (the migrations).
 */
#include "store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

struct sq_db {
	struct db base;
	sqlite3 *h;
	int last;                /* the last failure's SQLite result code */
	char err[512];
};

struct sq_stmt {
	struct db_stmt base;
	sqlite3_stmt *s;
};

#define SQ(d) ((struct sq_db *)(void *)(d))
#define SQS(s) (((struct sq_stmt *)(void *)(s))->s)

/*
 * Memory: store/ allocates through SQLite's allocator (sqlite3_malloc64),
 * so one fault-injection hook (SQLITE_CONFIG_MALLOC, tests/unit/
 * test_store_oom.c) fails the store's allocations and SQLite's alike,
 * whichever driver a store uses.
 */
void *
store__malloc(size_t n)
{
	return sqlite3_malloc64(n ? n : 1);
}

void *
store__realloc(void *p, size_t n)
{
	return sqlite3_realloc64(p, n ? n : 1);
}

void
store__free(void *p)
{
	sqlite3_free(p);
}

/* Record SQLite's message for code src and map it to a negative errno. */
static int
sq_fail(struct sq_db *d, int src)
{
	const char *detail = d->h ? sqlite3_errmsg(d->h) : NULL;

	/* The error of a failed step can be stale in sqlite3_errmsg()
	 * after a reset; fall back to the code's own text. */
	if (!detail || strcmp(detail, "not an error") == 0)
		detail = sqlite3_errstr(src);
	snprintf(d->err, sizeof(d->err), "%s", detail);
	d->last = src;
	switch (src & 0xff) {
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
	case SQLITE_CANTOPEN:
		return -EACCES;
	default:
		return -EIO;
	}
}

static void
summary_text_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	int err = 0;
	char *t;

	(void)argc;
	t = store__summary_text((const char *)sqlite3_value_text(argv[0]),
		(const char *)sqlite3_value_text(argv[1]), &err);
	if (err < 0) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	if (!t) {
		sqlite3_result_null(ctx);
		return;
	}
	sqlite3_result_text(ctx, t, -1, store__free);
}

static int
sq_exec(struct db *db, const char *q)
{
	int src = sqlite3_exec(SQ(db)->h, q, NULL, NULL, NULL);

	return src == SQLITE_OK ? 0 : sq_fail(SQ(db), src);
}

static int
sq_int(struct sq_db *d, const char *q, int64_t *v)
{
	sqlite3_stmt *s = NULL;
	int src = sqlite3_prepare_v2(d->h, q, -1, &s, NULL);

	if (src == SQLITE_OK) {
		src = sqlite3_step(s);
		if (src == SQLITE_ROW) {
			*v = sqlite3_column_int64(s, 0);
			src = SQLITE_OK;
		}
	}
	sqlite3_finalize(s);
	return src == SQLITE_OK ? 0 : sq_fail(d, src);
}

/* The connection's settings: WAL, sync, caches, the SQL function. */
static int
sq_setup(struct sq_db *d, const char *path, const struct db_open_opts *o,
	char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char mode[16] = "";
	int rc = 0, src;

	if (o->readonly) {
		int64_t v;

		rc = sq_int(d, "PRAGMA user_version", &v);
		if (rc == -EROFS || rc == -EACCES) {
			/* SQLite needs -wal and -shm to read a WAL database and
			 * cannot create them without write access to the
			 * directory; say so instead of "readonly database". */
			char shm[4200];

			snprintf(shm, sizeof(shm), "%s-shm", path);
			if (access(shm, F_OK) != 0) {
				snprintf(err, errlen,
					"%s: cannot read it without its -wal and -shm "
					"files, which are missing, and the directory is "
					"not writable for this user; start feedd once "
					"(it keeps them)", path);
				return rc;
			}
		}
		if (rc < 0)
			snprintf(err, errlen, "reading the database: %s (%s)",
				d->err, path);
		return rc;
	}
	if (sqlite3_db_readonly(d->h, "main") == 1) {
		snprintf(err, errlen,
			"%s: the database file is read-only for this user", path);
		return -EROFS;
	}
	src = sqlite3_prepare_v2(d->h, "PRAGMA journal_mode = WAL", -1, &s, NULL);
	if (src == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		snprintf(mode, sizeof(mode), "%s",
			(const char *)sqlite3_column_text(s, 0));
	else
		rc = sq_fail(d, sqlite3_errcode(d->h));
	sqlite3_finalize(s);
	if (rc < 0) {
		snprintf(err, errlen, "switching to WAL mode: %s (%s)", d->err,
			path);
		return rc;
	}
	if (strcmp(mode, "wal") != 0) {
		snprintf(err, errlen,
			"%s: cannot use WAL mode (journal mode stays %s)", path,
			mode);
		return -EIO;
	}
	/* The WAL file is kept (PERSIST_WAL); after a checkpoint, cut it
	 * back to 16 MiB so one big refresh does not pin its size forever.
	 * The writer's working set: statement journals (every savepoint
	 * and statement of a refresh keeps one) stay in memory, as SQLite
	 * spills them to a temporary file past 64 KiB, which cost the
	 * 2,000-feed fresh cycle 390 MB of writes to /tmp. And 16 MiB of
	 * page cache (the default is 2 MiB) keeps a group's pages from
	 * being read back from the WAL while the group is written. */
	rc = sq_exec(&d->base, o->sync_normal
		? "PRAGMA journal_size_limit = 16777216;"
		  " PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;"
		  " PRAGMA cache_size = -16384"
		: "PRAGMA journal_size_limit = 16777216;"
		  " PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY;"
		  " PRAGMA cache_size = -16384");
	if (rc < 0) {
		snprintf(err, errlen, "executing SQL: %s (%s)", d->err, path);
		return rc;
	}
	/* Before the migrations: the v4 step's backfill calls it.
	 * SQLITE_DIRECTONLY: never from a trigger or view (another
	 * writer's connection would not have it). */
	src = sqlite3_create_function_v2(d->h, "feedd_summary_text", 2,
		SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, NULL,
		summary_text_fn, NULL, NULL, NULL);
	if (src != SQLITE_OK) {
		rc = sq_fail(d, src);
		snprintf(err, errlen, "registering SQL functions: %s (%s)",
			d->err, path);
	}
	return rc;
}

static int
sq_open(struct db **out, const char *path, const struct db_open_opts *o,
	char *err, size_t errlen)
{
	struct sq_db *d;
	int rc, src, flags, one = 1;

	/* A PostgreSQL connection key in a file name is a mistake, not a
	 * name to create. */
	if (strstr(path, "text-search=")) {
		snprintf(err, errlen, "%s: text-search= is a PostgreSQL "
			"connection key; SQLite's full-text index (FTS5) has no "
			"text search configuration", path);
		return -EINVAL;
	}
	if (o->readonly && access(path, F_OK) != 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	d = store__calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	d->base.drv = &db_sqlite_driver;
	flags = o->readonly ? SQLITE_OPEN_READONLY
			    : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	src = sqlite3_open_v2(path, &d->h, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (src != SQLITE_OK) {
		rc = sq_fail(d, src);
		snprintf(err, errlen, "opening the database: %s (%s)", d->err,
			path);
		goto out;
	}
	sqlite3_extended_result_codes(d->h, 1);
	sqlite3_busy_timeout(d->h, o->busy_timeout_ms);
	/* Keep -wal and -shm when the last connection closes, so read-only
	 * readers without write access to the directory can still open. */
	sqlite3_file_control(d->h, "main", SQLITE_FCNTL_PERSIST_WAL, &one);
	rc = sq_setup(d, path, o, err, errlen);
out:
	if (rc < 0) {
		sqlite3_close(d->h);
		store__free(d);
	} else {
		*out = &d->base;
	}
	return rc;
}

static void
sq_close(struct db *db)
{
	if (!db)
		return;
	sqlite3_close(SQ(db)->h);
	store__free(db);
}

static int
sq_begin_write(struct db *db)
{
	return sq_exec(db, "BEGIN IMMEDIATE");
}

static int
sq_begin_read(struct db *db)
{
	return sq_exec(db, "BEGIN");
}

static bool
sq_in_txn(struct db *db)
{
	return !sqlite3_get_autocommit(SQ(db)->h);
}

static bool
sq_txn_failed(struct db *db)
{
	(void)db;
	return false;
}

static int
sq_version_get(struct db *db, int64_t *v, bool *objects)
{
	int64_t n = 0;
	int rc = sq_int(SQ(db), "PRAGMA user_version", v);

	if (rc == 0 && objects) {
		rc = sq_int(SQ(db), "SELECT count(*) FROM sqlite_schema", &n);
		*objects = n > 0;
	}
	return rc;
}

static int
sq_version_set(struct db *db, int64_t v)
{
	char q[64];

	snprintf(q, sizeof(q), "PRAGMA user_version = %lld", (long long)v);
	return sq_exec(db, q);
}

static int
sq_after_migrate(struct db *db, bool *fts_manual)
{
	int on = 1;

	/* See fts_manual in store_int.h. */
	*fts_manual = sqlite3_db_config(SQ(db)->h, SQLITE_DBCONFIG_ENABLE_TRIGGER,
		0, &on) == SQLITE_OK && on == 0;
	return 0;
}

static int
sq_prepare(struct db *db, const char *q, bool persistent, struct db_stmt **out)
{
	struct sq_stmt *s = store__malloc(sizeof(*s));
	int src;

	if (!s) {
		snprintf(SQ(db)->err, sizeof(SQ(db)->err), "out of memory");
		SQ(db)->last = SQLITE_NOMEM;
		return -ENOMEM;
	}
	s->base.db = db;
	s->s = NULL;
	src = sqlite3_prepare_v3(SQ(db)->h, q, -1,
		persistent ? SQLITE_PREPARE_PERSISTENT : 0, &s->s, NULL);
	if (src != SQLITE_OK) {
		store__free(s);
		return sq_fail(SQ(db), src);
	}
	*out = &s->base;
	return 0;
}

static void
sq_finalize(struct db_stmt *s)
{
	sqlite3_finalize(SQS(s));
	store__free(s);
}

static void
sq_reset(struct db_stmt *s)
{
	sqlite3_reset(SQS(s));
	sqlite3_clear_bindings(SQS(s));
}

static int
sq_bound(struct db_stmt *s, int src)
{
	return src == SQLITE_OK ? 0 : sq_fail(SQ(s->db), src);
}

static int
sq_bind_int64(struct db_stmt *s, int i, int64_t v)
{
	return sq_bound(s, sqlite3_bind_int64(SQS(s), i, v));
}

static int
sq_bind_double(struct db_stmt *s, int i, double v)
{
	return sq_bound(s, sqlite3_bind_double(SQS(s), i, v));
}

/*
 * With copy, a copy of v. If SQLite cannot allocate the copy, v itself
 * is bound: every caller steps the statement while v is alive (and
 * store__stmt() clears a cached statement's bindings before its next
 * use), and a parameter left NULL would turn an out-of-memory into a
 * wrong answer (a lookup that finds no feed, or an article stored as
 * new).
 */
static int
sq_bind_text(struct db_stmt *s, int i, const char *v, bool copy)
{
	int src;

	if (!v)
		return sq_bound(s, sqlite3_bind_null(SQS(s), i));
	if (!copy)
		return sq_bound(s, sqlite3_bind_text(SQS(s), i, v, -1,
			SQLITE_STATIC));
	src = sqlite3_bind_text(SQS(s), i, v, -1, SQLITE_TRANSIENT);
	if (src == SQLITE_NOMEM)
		src = sqlite3_bind_text(SQS(s), i, v, -1, SQLITE_STATIC);
	return sq_bound(s, src);
}

static int
sq_bind_null(struct db_stmt *s, int i)
{
	return sq_bound(s, sqlite3_bind_null(SQS(s), i));
}

static int
sq_step(struct db_stmt *s)
{
	int src = sqlite3_step(SQS(s));

	if (src == SQLITE_ROW)
		return DB_ROW;
	if (src == SQLITE_DONE)
		return DB_DONE;
	return sq_fail(SQ(s->db), src);
}

static int
sq_col_count(struct db_stmt *s)
{
	return sqlite3_column_count(SQS(s));
}

static bool
sq_col_null(struct db_stmt *s, int i)
{
	return sqlite3_column_type(SQS(s), i) == SQLITE_NULL;
}

static int64_t
sq_col_int64(struct db_stmt *s, int i)
{
	return sqlite3_column_int64(SQS(s), i);
}

static double
sq_col_double(struct db_stmt *s, int i)
{
	return sqlite3_column_double(SQS(s), i);
}

static const char *
sq_col_text(struct db_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(SQS(s), i);
}

static int64_t
sq_changes(struct db *db)
{
	return sqlite3_changes64(SQ(db)->h);
}

static int64_t
sq_total_changes(struct db *db)
{
	return sqlite3_total_changes64(SQ(db)->h);
}

static int64_t
sq_last_id(struct db *db)
{
	return sqlite3_last_insert_rowid(SQ(db)->h);
}

static int
sq_data_version(struct db *db, int64_t *v)
{
	return sq_int(SQ(db), "PRAGMA data_version", v);
}

static const char *
sq_errmsg(struct db *db)
{
	return SQ(db)->err[0] ? SQ(db)->err : "no error";
}

static bool
sq_query_error(struct db *db)
{
	/* FTS5 reports a bad query as a generic SQLITE_ERROR. */
	return (SQ(db)->last & 0xff) == SQLITE_ERROR;
}

static char *
sq_describe(const char *path)
{
	return store__strdup(path);
}

void *
store__sqlite_handle(struct store *st)
{
	return st->db && st->db->drv == &db_sqlite_driver ? SQ(st->db)->h : NULL;
}

void *
store__sqlite_stmt(struct db_stmt *s)
{
	return s && s->db->drv == &db_sqlite_driver ? SQS(s) : NULL;
}

const struct db_driver db_sqlite_driver = {
	.name = "sqlite",
	.sql = store__sql_sqlite,
	.migrations = store__migrations,
	.create = NULL,
	.search_sql = store__search_sql_sqlite,
	.search_query = NULL,
	.open = sq_open,
	.close = sq_close,
	.exec = sq_exec,
	.begin_write = sq_begin_write,
	.begin_read = sq_begin_read,
	.in_txn = sq_in_txn,
	.txn_failed = sq_txn_failed,
	.version_get = sq_version_get,
	.version_set = sq_version_set,
	.after_migrate = sq_after_migrate,
	.describe = sq_describe,
	.prepare = sq_prepare,
	.finalize = sq_finalize,
	.reset = sq_reset,
	.bind_int64 = sq_bind_int64,
	.bind_double = sq_bind_double,
	.bind_text = sq_bind_text,
	.bind_null = sq_bind_null,
	.step = sq_step,
	.col_count = sq_col_count,
	.col_null = sq_col_null,
	.col_int64 = sq_col_int64,
	.col_double = sq_col_double,
	.col_text = sq_col_text,
	.changes = sq_changes,
	.total_changes = sq_total_changes,
	.last_id = sq_last_id,
	.data_version = sq_data_version,
	.errmsg = sq_errmsg,
	.query_error = sq_query_error,
};
