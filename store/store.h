/*
 * store/: the article database other programs read.
 *
 * One interface for feed state and articles, with SQLite (WAL mode) behind
 * it; a server backend can implement the same functions later. The store
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
};

/*
 * Open (creating and migrating when writable) the database at path.
 * Returns 0, -ENOENT (read-only and missing), -EPROTO (schema newer than
 * this build), -EIO, -ENOMEM. On failure *out is untouched and, when
 * errbuf is not NULL, a message is written there.
 */
int store_open(struct store **out, const char *path,
	const struct store_opts *o, char *errbuf, size_t errlen);

/* store_close(NULL) is a no-op. */
void store_close(struct store *st);

/* Detail for the last failure on st; never NULL. */
const char *store_errmsg(const struct store *st);

/* Schema version this build writes (PRAGMA user_version). */
int store_schema_version(void);

/* --- feeds ------------------------------------------------------------ */

/* Per-feed settings the store needs from the config. */
struct store_feed_conf {
	const char *name;      /* borrowed; unique */
	const char *url;       /* borrowed; the configured URL */
	int keep_days;         /* 0 = keep forever */
	int keep_count;        /* 0 = no count limit */
};

/*
 * Create the feed row or update its configured URL/settings. When the
 * configured URL changed, the URL in use and the validators are reset.
 * Returns 0 and the feed id in *id.
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
	int64_t articles;      /* stored articles */
};

/* Returns 0, or -ENOENT when no feed has that name. */
int store_feed_get(struct store *st, const char *name,
	struct store_feed_state *out);
void store_feed_state_cleanup(struct store_feed_state *s);

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
};

/* Record a poll that stores no articles (failure, 304, unchanged body). */
int store_feed_record(struct store *st, int64_t feed_id,
	const struct store_feed_result *r);

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
};

enum store_put_outcome {
	STORE_PUT_NEW = 0,
	STORE_PUT_UPDATED,
	STORE_PUT_UNCHANGED,
	STORE_PUT_SUPPRESSED,   /* purged before: never comes back as new */
};

struct store_refresh_stats {
	unsigned inserted, updated, unchanged, suppressed, purged;
};

/*
 * Start a refresh of feed_id (BEGIN IMMEDIATE). Nothing is visible to
 * readers until store_refresh_commit(). Returns 0, -EBUSY, -EIO, -ENOMEM.
 */
int store_refresh_begin(struct store *st, int64_t feed_id,
	struct store_refresh **out);

/* Add one entry of the current document, in document order. On success
 * *outcome (may be NULL) says what happened and *article_id (may be NULL)
 * holds the article's id. */
int store_refresh_put(struct store_refresh *r, const struct store_article *a,
	enum store_put_outcome *outcome, int64_t *article_id);

/* Apply retention, record the poll, commit durably. The refresh object is
 * freed whatever the result; on failure everything is rolled back. */
int store_refresh_commit(struct store_refresh *r,
	const struct store_feed_result *res, struct store_refresh_stats *stats);

/* Roll back and free. store_refresh_abort(NULL) is a no-op. */
void store_refresh_abort(struct store_refresh *r);

#endif
