/*
 * store/db.h: the driver layer under store/ (private to the module). One
 * driver per engine (db_sqlite.c, db_pg.c) fills a table of operations;
 * the store's logic (dedupe, identity, retention, hooks' cursors, rule
 * counts) is written once above it, in store.c, refresh.c, read.c,
 * hooks.c and rules.c. The model is dovecot's lib-sql: a struct sql_db of
 * driver callbacks, with driver-sqlite.c beside driver-pgsql.c.
 *
 * SQL texts number their parameters ?1, ?2, ... in both dialects; the
 * PostgreSQL driver rewrites them to $1, $2, ... when it prepares. Each
 * driver has its own text for every enum store__stmt (db_driver.sql), so
 * the dialect differences of the hot statements live in the tables.
 *
 * Errors: every operation that can fail returns a negative errno (-EIO,
 * -ENOMEM, -EBUSY, -ENOSPC, -EROFS, -EACCES, -EINVAL for a bad query,
 * -ENOTCONN when the connection to the server is gone), and the driver's
 * own text stays readable with db_errmsg() until the next operation.
 * Nothing here logs. One connection is used by one thread at a time.
 */
#ifndef FEEDD_STORE_DB_H
#define FEEDD_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* db_step(): a row is ready, or the statement ran to its end. */
#define DB_ROW 100
#define DB_DONE 101

struct db;
struct db_stmt;

struct db_open_opts {
	bool readonly;
	bool sync_normal;        /* SQLite: synchronous = NORMAL */
	int busy_timeout_ms;
};

struct db_driver {
	const char *name;        /* "sqlite", "postgresql" */
	/* Texts per enum store__stmt; see store_int.h. */
	const char *const *sql;
	/*
	 * Schema: migrations[i] turns version i into i + 1 (NULL: no such
	 * step in this dialect). create, when set, builds the newest
	 * version in one go on an empty database.
	 */
	const char *const *migrations;
	const char *create;
	/*
	 * Full-text search (read.c): SQL up to its WHERE clause, which the
	 * store extends with AND ... and ends with ORDER BY score, a.id DESC
	 * LIMIT ?2; parameters ?1 the query, ?3 feed, ?4 since, ?5 tag;
	 * columns ART_COLS of articles_v1 a, the snippet, the score (lower
	 * is better). search_query, when set, turns feedctl's search syntax
	 * (SQLite FTS5's: words, "phrases", prefix*, AND/OR/NOT, parentheses,
	 * column filters) into the dialect's; NULL with *err -EINVAL for a
	 * query it cannot take, -ENOMEM.
	 */
	const char *search_sql;
	char *(*search_query)(const char *q, int *err, char *msg, size_t msglen);

	/* target: a path (SQLite) or a libpq connection string. On failure
	 * *out is untouched and err holds a message with no secret. */
	int (*open)(struct db **out, const char *target,
		const struct db_open_opts *o, char *err, size_t errlen);
	void (*close)(struct db *db);
	/* SQL with no result rows (several statements allowed). */
	int (*exec)(struct db *db, const char *sql);
	/* A write transaction: SQLite BEGIN IMMEDIATE (the write lock at
	 * once), PostgreSQL BEGIN. */
	int (*begin_write)(struct db *db);
	/* A read snapshot for several statements (BEGIN; on PostgreSQL
	 * REPEATABLE READ READ ONLY). */
	int (*begin_read)(struct db *db);
	bool (*in_txn)(struct db *db);
	/* The open transaction can only roll back: a statement in it
	 * failed (PostgreSQL aborts the whole transaction then; SQLite only
	 * the statement, so never). */
	bool (*txn_failed)(struct db *db);
	/* Schema version (0: none recorded) and whether any object exists. */
	int (*version_get)(struct db *db, int64_t *version, bool *objects);
	int (*version_set)(struct db *db, int64_t version);
	/* A writable connection's last step of opening, after the
	 * migrations: *fts_manual as store_int.h describes it. */
	int (*after_migrate)(struct db *db, bool *fts_manual);
	/* The target as messages show it (no password); malloc'd with
	 * store__malloc, NULL when out of memory. */
	char *(*describe)(const char *target);

	/* A statement: persistent for the connection's cache, or one-off. */
	int (*prepare)(struct db *db, const char *sql, bool persistent,
		struct db_stmt **out);
	void (*finalize)(struct db_stmt *s);
	/* Back to the start, bindings cleared. */
	void (*reset)(struct db_stmt *s);
	int (*bind_int64)(struct db_stmt *s, int i, int64_t v);
	int (*bind_double)(struct db_stmt *s, int i, double v);
	/* copy false: v stays valid until the statement is reset. */
	int (*bind_text)(struct db_stmt *s, int i, const char *v, bool copy);
	int (*bind_null)(struct db_stmt *s, int i);
	/* DB_ROW, DB_DONE or < 0. */
	int (*step)(struct db_stmt *s);
	int (*col_count)(struct db_stmt *s);
	bool (*col_null)(struct db_stmt *s, int i);
	int64_t (*col_int64)(struct db_stmt *s, int i);
	double (*col_double)(struct db_stmt *s, int i);
	/* NULL for NULL; valid until the statement steps or resets. */
	const char *(*col_text)(struct db_stmt *s, int i);

	/* Rows the last INSERT/UPDATE/DELETE changed. */
	int64_t (*changes)(struct db *db);
	/* Rows changed on this connection since it opened. */
	int64_t (*total_changes)(struct db *db);
	/* The id the last INSERT gave a row (SQLite rowid; PostgreSQL: the
	 * INSERT's RETURNING id, read by the step). */
	int64_t (*last_id)(struct db *db);
	/* A number that changes when another connection commits (readers'
	 * "anything new?"). */
	int (*data_version)(struct db *db, int64_t *v);
	/* Wait up to timeout_ms for a committed change-log notification
	 * (the first call also subscribes; 0 ms: only what has arrived):
	 * 1 when one came, 0 when none (timeout, or a signal), < 0. NULL:
	 * the engine has none (SQLite), readers poll data_version. */
	int (*wait_notify)(struct db *db, int timeout_ms);
	const char *(*errmsg)(struct db *db);
	/* The last failure was the query's fault (syntax, a bad search
	 * expression), not the database's. */
	bool (*query_error)(struct db *db);
};

/* What every driver's connection and statement start with. */
struct db {
	const struct db_driver *drv;
};

struct db_stmt {
	struct db *db;           /* borrowed */
};

extern const struct db_driver db_sqlite_driver;
extern const struct db_driver db_pg_driver;

/* The driver for a database string: a libpq URI (postgresql://,
 * postgres://) or keyword string (key=value ...) selects PostgreSQL;
 * "sqlite:PATH" or a plain path SQLite. *target is where the driver's
 * open() should go (inside s; the sqlite: prefix skipped). */
const struct db_driver *db_driver_for(const char *s, const char **target);

static inline int
db_exec(struct db *db, const char *sql)
{
	return db->drv->exec(db, sql);
}

static inline int
db_step(struct db_stmt *s)
{
	return s->db->drv->step(s);
}

static inline void
db_reset(struct db_stmt *s)
{
	s->db->drv->reset(s);
}

static inline void
db_finalize(struct db_stmt *s)
{
	if (s)
		s->db->drv->finalize(s);
}

static inline int
db_bind_int64(struct db_stmt *s, int i, int64_t v)
{
	return s->db->drv->bind_int64(s, i, v);
}

static inline int
db_bind_null(struct db_stmt *s, int i)
{
	return s->db->drv->bind_null(s, i);
}

static inline int64_t
db_col_int64(struct db_stmt *s, int i)
{
	return s->db->drv->col_int64(s, i);
}

static inline int
db_col_int(struct db_stmt *s, int i)
{
	return (int)s->db->drv->col_int64(s, i);
}

static inline double
db_col_double(struct db_stmt *s, int i)
{
	return s->db->drv->col_double(s, i);
}

static inline const char *
db_col_text(struct db_stmt *s, int i)
{
	return s->db->drv->col_text(s, i);
}

static inline bool
db_col_null(struct db_stmt *s, int i)
{
	return s->db->drv->col_null(s, i);
}

static inline int
db_col_count(struct db_stmt *s)
{
	return s->db->drv->col_count(s);
}

static inline int64_t
db_changes(struct db *db)
{
	return db->drv->changes(db);
}

static inline int64_t
db_last_id(struct db *db)
{
	return db->drv->last_id(db);
}

static inline bool
db_in_txn(struct db *db)
{
	return db->drv->in_txn(db);
}

static inline const char *
db_errmsg(struct db *db)
{
	return db->drv->errmsg(db);
}

#endif
