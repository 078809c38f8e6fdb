/*
 * store/: the article database other programs read.
 *
 * One interface for feed state and articles, with SQLite (WAL mode) or
 * PostgreSQL behind it (store_open()'s database string picks; nothing
 * here differs by backend). The store
 * owns the schema and its migrations, deduplication (store/SCHEMA.md writes
 * the rules down), retention, the change log and full-text search.
 *
 * It never touches the network, libuv, libcurl or libxml2, and never logs:
 * errors come back as negative errno values with store_errmsg() for detail.
 * A struct store belongs to one thread at a time (the daemon may move it to
 * a worker thread for a refresh, but never uses it from two at once).
 */
#ifndef FEEDD_STORE_STORE_H
#define FEEDD_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct store_refresh;

struct store_opts {
	bool readonly;         /* open read-only (feedctl and other readers) */
	bool sync_normal;      /* synchronous=NORMAL instead of FULL (default FULL) */
	int busy_timeout_ms;   /* 0 = 5000 */
	int64_t changelog_keep_s; /* prune change-log rows older than this; 0 = 30 days */
	/* The clock, in Unix seconds; NULL = time(). Tests set it to move
	 * time for retention and the change-log pruning. */
	int64_t (*clock)(void *ud);
	void *clock_ud;           /* borrowed; passed to clock */
};

/*
 * Open (creating and migrating when writable) the database path names:
 * a file path or "sqlite:PATH" (SQLite), or a libpq connection string,
 * as a URI (postgresql://user@host/db?...) or keywords (host=...
 * dbname=...), for PostgreSQL, where the tables live in the schema
 * "feedd". A password comes from ~/.pgpass, PGPASSFILE or a
 * password-file=PATH key (its first line); messages never show it. A
 * text-search=NAME key picks the text search configuration a new
 * PostgreSQL schema's full-text index is built with (simple without it);
 * one that the server lacks or that differs from the database's recorded
 * one is refused (-EINVAL), and SQLite refuses the key (-EINVAL).
 * Returns 0, -ENOENT (read-only and missing), -EPROTO (schema newer than
 * this build; read-only: also older than this build, or not a feedd
 * database), -EROFS (writable open of a file that cannot be written),
 * -EACCES, -EIO, -ENOMEM, or a code for which store_err_unreachable() is
 * true (PostgreSQL: the server could not be reached; worth retrying). On
 * failure *out is untouched and, when errbuf is not NULL, a message is
 * written there.
 *
 * SQLite: a writable open sets WAL mode, synchronous=FULL (NORMAL with
 * sync_normal), the busy timeout and SQLITE_FCNTL_PERSIST_WAL, and runs
 * the pending migrations in one transaction. A read-only open changes
 * nothing on disk; it needs the -wal and -shm files to exist (the writer
 * keeps them) or the directory to be writable (store/SCHEMA.md).
 */
int store_open(struct store **out, const char *path,
	const struct store_opts *o, char *errbuf, size_t errlen);

/* The file a database string names, for a caller that resolves a
 * relative one (feedd.conf's database): the path of a SQLite string
 * ("sqlite:" skipped), NULL when it names a server. Points into s. */
const char *store_db_file(const char *s);

/* store_close(NULL) is a no-op. */
void store_close(struct store *st);

/* Detail for the last failure on st; never NULL. */
const char *store_errmsg(const struct store *st);

/*
 * A server that goes away. The class of error that says "the database
 * server cannot be reached" (the connection broke, or a new one could not
 * be made: -ENOTCONN, -ECONNREFUSED); a caller waits and tries again
 * rather than taking it for a fault of what it asked. SQLite never
 * returns these.
 */
bool store_err_unreachable(int rc);

/* Whether a call on st failed with such an error since the store was
 * opened or since the last store_reconnect() that returned 0: a caller
 * that ran several calls asks this once instead of checking each. */
bool store_unreachable(const struct store *st);

/* If st's connection was lost, a new one (the old one is dropped once the
 * new one is up); then store_unreachable() is false again. Returns 0 (the
 * connection is new, or was never lost), -ENOTCONN (the server still
 * cannot be reached; store_errmsg() says why), -EBUSY inside a group or
 * refresh, or another error of store_open(). */
int store_reconnect(struct store *st);

/* Schema version this build writes (PRAGMA user_version). */
int store_schema_version(void);

/* --- feeds ------------------------------------------------------------ */

/* Per-feed settings the store needs from the config. Use designated
 * initializers: fields are added over time, zero keeps the old meaning. */
struct store_feed_conf {
	const char *name;      /* borrowed; unique */
	const char *url;       /* borrowed; the configured URL */
	int keep_days;         /* 0 = keep forever */
	int keep_count;        /* 0 = no count limit */
	const char *tags;      /* borrowed; "a,b" as configured, NULL = none;
	                        * stored trimmed, empty parts dropped */
	bool disabled;         /* configured enabled=no: kept, never polled */
	const char *title;     /* borrowed; configured title=, NULL = none */
	const char *site;      /* borrowed; configured site=, NULL = none */
};

/*
 * Create the feed row or update its configured URL/settings. When the
 * configured URL changed, the URL in use and the validators are reset.
 * disabled marks the row enabled = 0 and active = 0 (status "disabled");
 * otherwise it is enabled and active. Returns 0 and the feed id in *id.
 */
int store_feed_ensure(struct store *st, const struct store_feed_conf *c,
	int64_t *id);

/* A feed's stored state. Strings are owned by the struct: release with
 * store_feed_state_cleanup(). NULL = absent; times are Unix seconds, 0 = never. */
struct store_feed_state {
	int64_t id;
	char *name, *url, *url_in_use, *title, *site_link;
	char *etag, *last_modified, *body_hash;
	int64_t last_attempt, last_success, next_due;
	int failures;          /* consecutive */
	char *last_error;
	int last_status;       /* last HTTP status, 0 = none */
	bool gone;             /* 410 seen for this configured URL */
	int64_t articles;      /* stored articles; -1 = not counted */
	bool active;           /* false after store_feed_disable() */
	int keep_days, keep_count;
	char *tags;            /* normalized "a,b", NULL = none */
	bool enabled;          /* false: configured enabled=no */
	bool malformed;        /* the last document did not parse, or parsed
	                        * with recovered errors */
	char *last_warning;    /* why malformed, NULL = none */
	char *conf_title, *conf_site; /* configured title=/site=, NULL = none */
	const char *status;    /* static: "disabled", "removed", "gone",
	                        * "new", "malformed", "failing" or "ok"
	                        * (store/SCHEMA.md: the first that applies) */
};

/* Returns 0, or -ENOENT when no feed has that name. */
int store_feed_get(struct store *st, const char *name,
	struct store_feed_state *out);
void store_feed_state_cleanup(struct store_feed_state *s);

/*
 * Call cb for every feed, ordered by name (the daemon resumes its schedule
 * from next_due at start-up; feedctl feeds prints them). With
 * count_articles, each feed's articles are counted (a walk over its
 * index entries: the cost grows with the database); without, articles is
 * -1. The state and its strings are borrowed, valid until cb returns: do
 * not clean it up. A non-zero return from cb stops the walk and is
 * returned. Returns 0, cb's value, -EIO, -ENOMEM.
 */
typedef int (*store_feed_cb)(void *ud, const struct store_feed_state *f);
int store_feeds_list(struct store *st, bool count_articles, store_feed_cb cb,
	void *ud);

/*
 * Mark a feed no longer configured (feeds_v1.active = 0). Its articles and
 * state stay; store_feed_ensure() makes it active again. Returns 0 or
 * -ENOENT.
 */
int store_feed_disable(struct store *st, const char *name);

/* The outcome of one poll, for every kind of poll. Strings borrowed. */
struct store_feed_result {
	int64_t attempt;          /* when the poll started */
	bool ok;                  /* 2xx or 304 */
	bool not_modified;        /* 304, or same body hash as last time */
	int http_status;          /* 0 when no response */
	const char *error;        /* NULL on success */
	const char *etag, *last_modified; /* NULL keeps the stored value */
	const char *url_in_use;   /* after a permanent redirect; NULL keeps */
	const char *body_hash;    /* NULL keeps */
	const char *title, *site_link; /* feed metadata; NULL keeps */
	int64_t next_due;
	int failures;             /* consecutive, after this poll */
	bool gone;
	/* The document: with document (a body was fetched and handed to the
	 * parser), malformed and warning replace the stored ones (warning
	 * NULL clears it); without (304, unchanged body, fetch failure) the
	 * stored ones stay. */
	bool document;
	bool malformed;           /* did not parse, or recovered errors */
	const char *warning;      /* the parser's message, NULL = none */
};

/* Record a poll that stores no articles (failure, 304, unchanged body). */
int store_feed_record(struct store *st, int64_t feed_id,
	const struct store_feed_result *r);

/* Set only the feed's next_due (the daemon's planned first fetch of a
 * never-fetched feed, so readers and a restart see it). 0, -ENOENT, -EIO. */
int store_feed_set_due(struct store *st, int64_t feed_id, int64_t next_due);

/* --- one refresh: all of a feed's changes in one transaction ---------- */

/* An entry as the daemon hands it over. Every pointer borrowed; NULL = absent. */
struct store_article {
	const char *guid;       /* the entry id as the feed gave it */
	const char *link;
	const char *title;
	const char *author;
	const char *published;  /* RFC 3339 UTC */
	const char *updated;    /* RFC 3339 UTC */
	const char *summary;    /* sanitized HTML */
	const char *content;    /* sanitized HTML */
	const char *text;       /* plain text */
	const char *categories_json;  /* JSON array of strings */
	const char *enclosures_json;  /* JSON array of {url,type,length} */
	/* The caller does not want this entry as a new article (a block
	 * rule). When it would be new, nothing is stored and its key is
	 * remembered (outcome STORE_PUT_BLOCKED the first time,
	 * STORE_PUT_BLOCKED_AGAIN after); an entry that is an article
	 * already stored is updated as usual. */
	bool block_new;
};

enum store_put_outcome {
	STORE_PUT_NEW = 0,
	STORE_PUT_UPDATED,
	STORE_PUT_UNCHANGED,
	STORE_PUT_SUPPRESSED,   /* purged before: never comes back as new */
	STORE_PUT_BLOCKED,      /* block_new, first time this key: not stored */
	STORE_PUT_BLOCKED_AGAIN,/* block_new, key blocked before: not stored */
};

struct store_refresh_stats {
	unsigned inserted, updated, unchanged, suppressed, purged;
	unsigned blocked;       /* STORE_PUT_BLOCKED and _AGAIN */
};

/*
 * Start a refresh of feed_id (BEGIN IMMEDIATE; inside a group, a
 * savepoint). Nothing is visible to readers until store_refresh_commit()
 * (in a group: store_group_commit()). Returns 0, -EBUSY (locked by
 * another writer, or a refresh already open on st), -ENOENT (no such
 * feed), -EROFS, -EIO, -ENOMEM, or a broken group's error.
 */
int store_refresh_begin(struct store *st, int64_t feed_id,
	struct store_refresh **out);

/*
 * Optional, before the first store_refresh_put(): declare an entry of the
 * document (call it for every entry, in any order). The rewritten-id rule
 * (store/SCHEMA.md, rule 5) then never gives a stored article to another
 * entry while the document still has that article's own id: a repost
 * listed before its original stays a new article and the original stays
 * itself. Returns 0 or -ENOMEM (which spoils the refresh, as put does).
 */
int store_refresh_expect(struct store_refresh *r, const struct store_article *a);

/* Add one entry of the current document, in document order. On success
 * *outcome (may be NULL) says what happened and *article_id (may be NULL)
 * holds the article's id (0 for STORE_PUT_SUPPRESSED). The rules are in
 * store/SCHEMA.md. An unchanged entry causes no write. On failure (-ENOSPC
 * full disk, -EROFS, -EIO, -ENOMEM) the refresh is spoiled: commit will
 * roll back and return the same error. */
int store_refresh_put(struct store_refresh *r, const struct store_article *a,
	enum store_put_outcome *outcome, int64_t *article_id);

/* Apply retention, record the poll (res may be NULL), commit durably (in
 * a group: release the refresh's savepoint; durable with the group, see
 * store_group_begin()). The refresh object is freed whatever the result;
 * on failure the refresh is rolled back and nothing stored before is lost.
 * Returns 0, -ENOSPC, -EROFS, -EBUSY, -EIO, -ENOMEM; store_errmsg() has
 * the detail. */
int store_refresh_commit(struct store_refresh *r,
	const struct store_feed_result *res, struct store_refresh_stats *stats);

/* Roll back and free. store_refresh_abort(NULL) is a no-op. */
void store_refresh_abort(struct store_refresh *r);

/*
 * Add n to the match count of the keep/block rule `name` (borrowed) and
 * set its last match to the refresh's time, in the refresh's transaction
 * (store/rules.c): the counts are stored exactly when the articles they
 * count are. action is "keep" or "block", recorded with the count. The
 * store knows nothing else of rules. Returns 0, -EINVAL (n == 0 or no
 * name), or a write error that spoils the refresh as a failed put does.
 */
int store_refresh_rule_count(struct store_refresh *r, const char *name,
	const char *action, unsigned n);

/* One row of rule_counts_v1. Strings borrowed, valid during the call;
 * action NULL when unknown; last_match 0 = never. */
struct store_rule_count {
	const char *name, *action;
	int64_t matches, last_match;
};
typedef int (*store_rule_count_cb)(void *ud, const struct store_rule_count *c);

/* Every stored rule count, by name (also for rules no longer configured).
 * Works on a read-only open. Returns 0, cb's value, -EIO, -ENOMEM. */
int store_rule_counts_list(struct store *st, store_rule_count_cb cb, void *ud);

/* --- groups: several feeds' writes in one durable transaction ------- */

/*
 * Group commit. One durable commit per feed costs an fsync and rewrites
 * shared pages (the feeds table, the change log, the full-text index) once
 * per feed; a group pays that once for all of its feeds.
 *
 * store_group_begin() opens a group (BEGIN IMMEDIATE: it holds the write
 * lock until the group ends). Until store_group_commit() or
 * store_group_abort(), every write on st joins the group's transaction,
 * each call or refresh as its own unit: store_feed_ensure(),
 * store_feed_record() and store_feed_disable() change one row each, and a
 * refresh (store_refresh_begin() .. commit/abort) is a savepoint. A unit
 * that fails is undone alone and reports its error as usual; the group's
 * other units stay. store_refresh_commit() inside a group returns 0 once
 * the refresh is part of the group: it is neither durable nor visible to
 * readers until store_group_commit() returns 0, and must not be reported
 * stored before that.
 *
 * Some failures take the whole transaction down (a full disk, an I/O
 * error, out of memory inside SQLite). Then the group is broken: the unit
 * that hit it fails with that error, every later write in the group
 * returns the same error without touching the database, and
 * store_group_commit() returns it. A group whose commit fails stored
 * nothing: the caller may do each unit again outside a group (each then
 * in its own durable transaction), so one unit's failure never costs the
 * others their work.
 *
 * Reads (store_feed_get() and the read API) work inside a group and see
 * its uncommitted writes (store_search() sees the group's new articles
 * only once it is committed). Groups do not nest, and a refresh must not be
 * open when a group begins or commits. Returns of store_group_begin():
 * 0, -EBUSY (a group or refresh already open; the write lock is held by
 * another writer past the busy timeout), -EROFS, -EIO. store_group_commit()
 * ends the group whatever the result and returns 0 (everything durable,
 * under synchronous=FULL), the broken group's error, -EBUSY (a refresh
 * still open: everything rolled back), -ENOSPC, -EIO, -ENOMEM, or -EINVAL
 * (no group open).
 */
int store_group_begin(struct store *st);
int store_group_commit(struct store *st);

/* Roll back everything of the open group and end it; a no-op without one. */
void store_group_abort(struct store *st);

/* Rows inserted, updated or deleted through st since it was opened
 * (sqlite3_total_changes64): a refresh of an unchanged feed adds exactly
 * one, the feed row's poll bookkeeping. */
int64_t store_write_count(const struct store *st);

/* --- reading (feedctl and other readers; works on a read-only open) --- */

/* One article as the views articles_v1 shows it. Everything borrowed,
 * valid until the callback returns; NULL = absent; times Unix seconds. */
struct store_article_row {
	int64_t id, feed_id, story_id;
	const char *feed;            /* the feed's name */
	const char *key, *guid, *link, *canonical_link;
	const char *title, *author, *published, *updated;
	const char *summary, *content, *text;
	const char *categories_json, *enclosures_json;
	const char *content_hash;
	int64_t sort_time, first_seen, last_changed;
	int revision;
	const char *tags;            /* the feed's tags ("a,b"), NULL = none */
	const char *snippet;         /* store_search only, else NULL */
	double rank;                 /* store_search only: lower is better */
};

/* A non-zero return stops the walk and becomes the function's result. */
typedef int (*store_article_cb)(void *ud, const struct store_article_row *a);

struct store_query {
	const char *feed;      /* borrowed; feed name, NULL = every feed */
	const char *tag;       /* borrowed; feeds with this tag (whole, exact
	                        * match), NULL = any */
	int64_t since;         /* sort_time >= since; 0 = no bound */
	int64_t after_id;      /* id > after_id; 0 = no bound */
	int64_t limit;         /* 0 = no limit */
	bool unique;           /* one article per story (the first stored) */
	bool oldest_first;     /* default: newest first (sort_time, id) */
	bool no_bodies;        /* leave summary/content/text NULL (faster) */
};

/* Articles matching q, newest first unless q->oldest_first. Returns 0,
 * cb's value, -ENOENT (q->feed names no feed), -EIO, -ENOMEM. */
int store_articles_query(struct store *st, const struct store_query *q,
	store_article_cb cb, void *ud);

/* One article by id: cb is called once. Returns 0, cb's value, -ENOENT. */
int store_article_get(struct store *st, int64_t id, store_article_cb cb,
	void *ud);

/*
 * Full-text search (FTS5 query syntax over title, summary and text), best
 * match first, at most limit rows (0 = 50), with a snippet of the text
 * where the matches are marked with [ and ]. Returns 0, cb's value,
 * -EINVAL (a query FTS5 rejects; store_errmsg() says why), -EIO, -ENOMEM.
 */
int store_search(struct store *st, const char *fts_query, int64_t limit,
	store_article_cb cb, void *ud);

/* The same, narrowed by q->feed (-ENOENT when it names no feed), q->tag
 * and q->since, at most q->limit rows (0 = 50); q may be NULL. */
int store_search_query(struct store *st, const char *fts_query,
	const struct store_query *q, store_article_cb cb, void *ud);

/* One change-log row. article is NULL for a purge (the row is gone) and
 * when the article was purged since; borrowed, valid during the call. */
struct store_change_row {
	int64_t seq, article_id, feed_id, at;
	const char *feed;                      /* feed name */
	const char *kind;                      /* "new", "update", "purge" */
	const struct store_article_row *article;
};
typedef int (*store_change_cb)(void *ud, const struct store_change_row *c);

/* Change-log rows with seq > after, oldest first, optionally one feed and
 * only "new" rows, at most limit (0 = all). Returns 0, cb's value, -EIO. */
int store_changes_after(struct store *st, int64_t after, const char *feed,
	bool new_only, int64_t limit, store_change_cb cb, void *ud);

/* The highest change-log seq (0 when empty). */
int store_last_seq(struct store *st, int64_t *seq);

/* PRAGMA data_version: changes whenever another connection commits; a
 * cheap poll for readers waiting for news. Returns 0 or -EIO. */
int store_data_version(struct store *st, int64_t *version);

/*
 * Wait for news for a reader of the change log: returns 1 when another
 * connection may have committed something (read the log from the
 * cursor), 0 when timeout_ms passed (or a signal came) with nothing, or
 * a negative errno (message in store_errmsg()). The first call returns
 * 1 at once. On PostgreSQL it wakes on the committing transaction's
 * NOTIFY feedd_changes (LISTEN on this connection), with the data
 * version checked after each wait as the fallback; on SQLite it sleeps
 * timeout_ms and compares PRAGMA data_version. Outside transactions
 * only (a notification is delivered between them).
 */
int store_wait_changes(struct store *st, int timeout_ms);

/* --- hook cursors (store/hooks.c) --------------------------------------- */

/*
 * A hook (feedd.conf `hook`) delivers the change log after its cursor.
 * Its row in hook_state is keyed by the configured name and outlives the
 * hook's removal from the config. Times are Unix seconds, 0 = never.
 * Strings are owned (store_hook_state_cleanup()) from store_hook_get()
 * and store_hook_open(), borrowed in a store_hooks_list() callback.
 */
struct store_hook_state {
	char *name;
	int64_t cursor;        /* the last change-log seq delivered (or skipped) */
	int64_t last_attempt, last_success;
	int failures;          /* consecutive failed runs */
	char *last_error;      /* why the last run failed; NULL after a success */
	int64_t next_attempt;  /* the planned retry; 0 = none */
	char *disabled;        /* why delivery stopped for good; NULL = it did not */
	int64_t backlog;       /* not filled in by the store: -1 */
};
void store_hook_state_cleanup(struct store_hook_state *h);

/* Which change-log rows a hook gets. Purges never. Everything borrowed. */
struct store_change_filter {
	bool new_rows;         /* kind 'new' */
	bool update_rows;      /* kind 'update' */
	const char *const *feeds; /* feed names; with tags: either matches */
	size_t nfeeds;
	const char *const *tags;  /* whole tags of the feeds */
	size_t ntags;          /* nfeeds == ntags == 0: every feed */
};

/*
 * Create the hook's row if it has none, at cursor 0 with from_start, else
 * at the current end of the change log; an existing row keeps its cursor
 * and its `disabled` is cleared. The state is copied into *out (may be
 * NULL). Returns 0, -EINVAL (no name), -EROFS, -EIO, -ENOMEM.
 */
int store_hook_open(struct store *st, const char *name, bool from_start,
	struct store_hook_state *out);

/* 0, or -ENOENT when the hook has no row. */
int store_hook_get(struct store *st, const char *name,
	struct store_hook_state *out);

/* Every hook row, by name; the state is borrowed for the call. A non-zero
 * return from cb stops the walk and is returned. */
typedef int (*store_hook_cb)(void *ud, const struct store_hook_state *h);
int store_hooks_list(struct store *st, store_hook_cb cb, void *ud);

/* The outcome of one run. Strings borrowed. */
struct store_hook_result {
	int64_t attempt;       /* when the run started */
	bool ok;               /* delivered: cursor moves, failures reset */
	int64_t cursor;        /* ok: the new cursor (never moves back) */
	int failures;          /* !ok: consecutive failures, with this one */
	const char *error;     /* !ok: why */
	int64_t next_attempt;  /* !ok: the planned retry, 0 = none */
	const char *disabled;  /* !ok: set to stop for good (NULL = no) */
};
/* Returns 0, -ENOENT (no row), -EROFS, -EIO, -ENOMEM. */
int store_hook_record(struct store *st, const char *name,
	const struct store_hook_result *r);

/* Move the cursor forward over rows that matched nothing (never back).
 * 0 or < 0. */
int store_hook_skip(struct store *st, const char *name, int64_t cursor);

/*
 * The rows after `after` and up to `upto` (0 = the log's end) that match
 * f (NULL = new and update rows of every feed), oldest first, at most
 * limit (0 = all), with their articles (NULL when purged since), in one
 * read snapshot. *scanned (may be NULL) gets how far the log was read:
 * the last row's seq when limit rows came back, else the bound, so a
 * cursor set there skips nothing that matches. Returns 0, cb's value,
 * -EIO, -ENOMEM.
 */
int store_hook_changes(struct store *st, int64_t after, int64_t upto,
	const struct store_change_filter *f, int64_t limit,
	store_change_cb cb, void *ud, int64_t *scanned);

/* How many rows after `after` match f. 0 or < 0. */
int store_hook_backlog(struct store *st, int64_t after,
	const struct store_change_filter *f, int64_t *n);

/* --- copying a database (store/migrate.c) ------------------------------- */

/* The tables store_migrate() copies, in copy order (feeds first: the
 * articles refer to them). */
#define FEEDD_MIGRATE_TABLES 7

/* What a migration copied and checked. */
struct store_migrate_report {
	struct {
		const char *name;      /* static: "feeds", "articles", ... */
		int64_t rows;          /* rows copied (and counted on both sides) */
		uint64_t sum;          /* the table's checksum (see store_migrate) */
	} tables[FEEDD_MIGRATE_TABLES];
	uint64_t checksum;         /* over every table's rows and counts */
	int64_t next_article_id;   /* the destination's next ids: above every */
	int64_t next_seq;          /* id the source ever gave (its sequences) */
};

/* Progress: done of total rows of table copied (phase "copy") or read back
 * from the destination (phase "verify"); called after every batch. Strings
 * static. */
typedef void (*store_migrate_cb)(void *ud, const char *phase,
	const char *table, int64_t done, int64_t total);

/*
 * Copy every table that carries state from src (opened read-only is
 * enough; it is only read, in one read snapshot) into dst (writable, of
 * either engine): feeds with their schedule, validators and failure
 * state, articles with their ids, revisions and story ids, purged keys,
 * the change log with its seq numbers, hook cursors, rule counts and
 * blocked keys. All or nothing: the copy runs in ONE transaction on dst,
 * in batches of `batch` rows (0 = 1000) read by key, so memory stays
 * bounded; dst's id sequences are set above every id src ever gave
 * (SQLite sqlite_sequence, PostgreSQL setval) and its full-text index is
 * rebuilt (FTS5; the tsvector column is generated). Before the commit,
 * every table is read back from dst and its row count and checksum (the
 * sum, modulo 2^64, of a 64-bit FNV-1a hash of each row's columns as
 * text, so row order and the engines' collations do not matter) must
 * equal src's, else the transaction is rolled back.
 *
 * dst must hold no row in any of these tables (a new SQLite file, or a
 * database whose schema feedd is new): -EEXIST otherwise. Returns 0 and
 * fills *rep (may be NULL), or -EEXIST, -EBADMSG (verification failed),
 * -EROFS (dst read-only), -EINVAL (src and dst the same store), -EIO,
 * -ENOTCONN, -ENOMEM; the message is in store_errmsg(dst). cb may be NULL.
 */
int store_migrate(struct store *src, struct store *dst, int batch,
	store_migrate_cb cb, void *ud, struct store_migrate_report *rep);

#endif
