/*
 * store/ internals shared by the module's files (and reached by its unit
 * tests). Nothing here is part of the contract in store.h.
 */
#ifndef FEEDD_STORE_STORE_INT_H
#define FEEDD_STORE_STORE_INT_H

#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

/* Prepared statements, one per SQL text in each driver's table
 * (store__sql_sqlite[] and store__sql_pg[] in store.c). */
enum store__stmt {
	STORE_STMT_FEED_BY_NAME,
	STORE_STMT_FEED_KEEP,
	STORE_STMT_FEED_INSERT,
	STORE_STMT_FEED_UPDATE_CONF,
	STORE_STMT_FEED_RECORD,
	STORE_STMT_FEED_DISABLE,
	STORE_STMT_FEED_SET_DUE,
	STORE_STMT_ART_BY_KEY,
	STORE_STMT_ART_BY_LINK_TITLE,
	STORE_STMT_ART_INSERT,
	/* NULL in a driver's table: its ART_INSERT picks the id itself and
	 * returns it (db_last_id()), saving a round trip per new article. */
	STORE_STMT_NEXT_ID,
	STORE_STMT_ART_UPDATE,
	STORE_STMT_ART_UPDATE_META,
	STORE_STMT_ART_FTS_COLS,
	STORE_STMT_FTS_REPLACE_ROW,
	STORE_STMT_FTS_DELETE_ROW,
	STORE_STMT_FTS_INSERT_NEW,
	STORE_STMT_ART_REKEY,
	STORE_STMT_ART_SET_STORY,
	STORE_STMT_STORY_BY_LINK,
	STORE_STMT_PURGED_BY_KEY,
	STORE_STMT_PURGED_BY_LINK_TITLE,
	STORE_STMT_RETENTION_SCAN,
	STORE_STMT_ART_DELETE,
	STORE_STMT_PURGED_INSERT,
	STORE_STMT_CHANGE_INSERT,
	STORE_STMT_CHANGE_PRUNE,
	STORE_STMT_CHANGE_NOTIFY,   /* PostgreSQL only (NULL on SQLite) */
	STORE_STMT_BLOCKED_INSERT,
	STORE_STMT_RULE_COUNT_ADD,
	STORE_STMT_COUNT_
};

extern const char *const store__sql_sqlite[STORE_STMT_COUNT_];
extern const char *const store__sql_pg[STORE_STMT_COUNT_];
/* The search statements' heads (read.c; db_driver.search_sql). */
extern const char store__search_sql_sqlite[];
extern const char store__search_sql_pg[];

struct store {
	struct db *db;              /* owned; the driver's connection */
	const struct db_driver *drv;
	char *target;               /* owned; what the driver opens */
	char *path;                 /* owned; the database as messages name it */
	struct store_opts o;
	bool readonly;
	bool in_refresh;            /* one refresh at a time */
	/* Triggers are off on this (writable) connection after the
	 * migrations, and refresh.c keeps articles_fts in step itself: a
	 * statement that fires a trigger needs a statement journal, and FTS5
	 * flushes its pending terms to a new segment at every statement
	 * savepoint, i.e. once per stored article. Without the triggers one
	 * refresh's (one group's) terms go out in one flush at commit. False:
	 * the schema's triggers do it (the connection refused to turn them
	 * off). */
	bool fts_manual;
	/* fts_manual: the articles new in the current transaction (ids
	 * above fts_floor; -1: none yet) are indexed at its commit, in one
	 * statement and in rowid order (FTS5 also flushes whenever the
	 * rowid goes backwards), so a group's savepoints have next to
	 * nothing to flush. */
	int64_t fts_floor;
	bool in_group;              /* between store_group_begin and its end */
	/* SQLite ran out of memory, or the server connection broke: a new
	 * connection before the next write transaction
	 * (store__reconnect_if_needed()). */
	bool reopen;
	/* A call failed with store_err_unreachable() since the open or the
	 * last store_reconnect() (store_unreachable()). */
	bool unreachable;
	unsigned reconnects;        /* connections replaced so far */
	int group_err;              /* < 0: the group's transaction is gone */
	bool group_prune;           /* the group logged a change: prune at commit */
	/* store_wait_changes(): started (LISTEN done), and the data version
	 * it last saw. */
	bool wait_started;
	int64_t wait_dv;
	struct db_stmt *stmt[STORE_STMT_COUNT_];
	char err[512];
};

/* The schema: store__migrations[i] turns version i into version i + 1
 * (SQLite); store__pg_schema builds the newest version on PostgreSQL. */
extern const char *const store__migrations[];
extern const int store__nmigrations;
extern const char store__pg_schema[];

/* The transaction logged changes: on PostgreSQL, NOTIFY feedd_changes
 * (delivered at COMMIT) for store_wait_changes(); nothing on SQLite.
 * 0 or a negative errno. */
int store__notify_changes(struct store *st);

/* Unix seconds from the store's clock (store_opts.clock, else time()). */
int64_t store__now(const struct store *st);

/* Prepared statement n, reset and with its bindings cleared; NULL on
 * failure (message in st->err). */
struct db_stmt *store__stmt(struct store *st, enum store__stmt n);

/* Record "what: driver detail (database)" as the store's last error for
 * a driver failure rc (< 0; DB_ROW or DB_DONE where the other was wanted
 * reads as -EIO) and return the negative errno. */
int store__fail(struct store *st, int rc, const char *what);

/*
 * Groups (store_group_begin): before a write, store__write_ok() returns
 * the error of a broken group (or -EROFS for a read-only open), else 0.
 * After a write failed with rc, store__write_failed() notices when SQLite
 * took the group's whole transaction down with it (a full disk, I/O
 * error, out of memory, lock trouble) and marks the group broken; it
 * returns rc.
 */
int store__write_ok(struct store *st);
/* 0, or the error opening the new connection (the old one stays). */
int store__reconnect_if_needed(struct store *st);
int store__write_failed(struct store *st, int rc);

/* fts_manual: index the articles new in this transaction (before its
 * COMMIT); 0 or < 0. store__fts_reset() forgets them (the transaction
 * ended either way). */
int store__fts_flush(struct store *st);
void store__fts_reset(struct store *st);

/* For store/rules.c: the refresh's store and time; store__refresh_fail()
 * spoils the refresh with rc (< 0; the first error stays) and returns
 * the refresh's error, 0 while it is good. */
struct store *store__refresh_store(struct store_refresh *r);
int64_t store__refresh_now(const struct store_refresh *r);
int store__refresh_fail(struct store_refresh *r, int rc);

/* Prune the change log (rows older than changelog_keep_s); 0 or < 0. */
int store__prune_changes(struct store *st, int64_t now);

/* Run SQL with no result rows (tests use it to simulate a full disk with
 * PRAGMA max_page_count, or a read-only file with PRAGMA query_only). The
 * SQL is the driver's dialect. */
int store__exec(struct store *st, const char *sql);

/*
 * Memory: store/ allocates through SQLite's allocator (sqlite3_malloc64,
 * db_sqlite.c), so one fault-injection hook (SQLITE_CONFIG_MALLOC,
 * tests/unit/test_store_oom.c) fails the store's allocations and SQLite's
 * alike. Everything from these is released with store__free().
 */
void *store__malloc(size_t n);
void *store__calloc(size_t n, size_t size);
void *store__realloc(void *p, size_t n);
char *store__strdup(const char *s);
char *store__strndup(const char *s, size_t n);
void store__free(void *p);

/* Prepare q on the connection; on failure the error names what. */
int store__prepare(struct store *st, const char *q, struct db_stmt **s,
	const char *what);
/* Column i as text (NULL for NULL); valid until the statement steps. */
const char *store__text(struct db_stmt *s, int i);

/* Bind a string (a copy) or NULL. */
int store__bind_text(struct db_stmt *s, int i, const char *v);
/* The same without a copy: v must stay valid until the statement is
 * reset (db_reset(), store__stmt()). */
int store__bind_static(struct db_stmt *s, int i, const char *v);
/* Bind an int64 (or a bool/int). */
int store__bind_int(struct db_stmt *s, int i, int64_t v);

/* A printf into a new string from store__malloc (NULL: out of memory). */
char *store__printf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* For the tests: the SQLite handle (sqlite3 *) or statement
 * (sqlite3_stmt *) under a store on the SQLite driver, else NULL. */
void *store__sqlite_handle(struct store *st);
void *store__sqlite_stmt(struct db_stmt *s);

/* The canonical form of a link (see SCHEMA.md): lower-case scheme and host,
 * no fragment, no utm_* / fbclid / gclid parameters, no default port.
 * Returns 0 and a malloc'd string in *out (NULL when link is NULL, empty or
 * not an absolute http(s) URL, in which case the trimmed link is returned
 * unchanged), or -ENOMEM. */
int store__canon_link(const char *link, char **out);

/* 64-bit FNV-1a over a list of fields, each length-prefixed and with a
 * presence flag, so ("ab", NULL) and ("a", "b") differ. Hex in out[17]. */
void store__hash_fields(const char *const *f, size_t n, char out[17]);

/* Trimmed copy (ASCII white space) or NULL when empty/NULL; *err set to
 * -ENOMEM on allocation failure. */
char *store__trim_dup(const char *s, int *err);

/* What the full-text index gets for an article's summary (sanitized
 * HTML): its plain text (tags out, entities decoded, white space
 * collapsed), or NULL when the summary is NULL, has no words, or reads
 * the same as text (which the index has already; white space aside).
 * *err set to -ENOMEM on allocation failure. */
char *store__summary_text(const char *summary, const char *text, int *err);

/* RFC 3339 text to Unix seconds; -1 when unparseable. */
int64_t store__parse_time(const char *s);

/* A string set with an int64 value per key, for one refresh. */
struct store__keyset {
	char **keys;
	int64_t *vals;
	size_t cap, len;
};
/* Returns true and *val when key is present. */
bool store__keyset_get(const struct store__keyset *ks, const char *key,
	int64_t *val);
/* Adds (copies) key; 0 or -ENOMEM. Replaces the value if present. */
int store__keyset_put(struct store__keyset *ks, const char *key, int64_t val);
void store__keyset_cleanup(struct store__keyset *ks);

#endif
