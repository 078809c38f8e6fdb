/*
 * store/: opening, migrating and closing the database (through its driver,
 * db.h); feed state. The SQLite statement texts are here too.
 * Articles and refreshes are in refresh.c, the read API in read.c.
 */
#include "store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Column 16 is the feed's article count: FEED_COLS counts them (a walk
 * of the feed's index entries), FEED_COLS_NOCOUNT gives -1 instead, for
 * the daemon, whose start-up would otherwise read every article's index
 * entry and grow with the database. */
#define FEED_COLS_(count)                                                      \
	"id, name, url, url_in_use, title, site_link, etag, last_modified,"    \
	" body_hash, last_attempt, last_success, next_due, failures,"         \
	" last_error, last_status, gone, " count ", active, keep_days,"       \
	" keep_count, tags, enabled, malformed, last_warning, conf_title,"    \
	" conf_site"
#define FEED_COLS                                                              \
	FEED_COLS_("(SELECT count(*) FROM articles a WHERE a.feed_id = feeds.id)")
#define FEED_COLS_NOCOUNT FEED_COLS_("-1")

/* Statements whose text is the same in both dialects. */
#define SQL_FEED_KEEP \
	"SELECT keep_days, keep_count," \
	" EXISTS (SELECT 1 FROM purged WHERE feed_id = ?1)" \
	" FROM feeds WHERE id = ?1"
#define SQL_ART_BY_KEY \
	"SELECT id, hash, canon_link, first_seen, story_id FROM articles" \
	" WHERE feed_id = ?1 AND key = ?2"
#define SQL_ART_BY_LINK_TITLE \
	"SELECT id, hash, canon_link, first_seen, story_id, published," \
	" key FROM articles" \
	" WHERE canon_link = ?2 AND feed_id = ?1 AND title = ?3" \
	" ORDER BY id DESC"
#define SQL_ART_UPDATE \
	"UPDATE articles SET key = ?2, guid = ?3, link = ?4," \
	" canon_link = ?5, title = ?6, author = ?7, published = ?8," \
	" updated = ?9, summary = ?10, content = ?11, text = ?12," \
	" categories = ?13, enclosures = ?14, hash = ?15," \
	" sort_time = ?16, last_changed = ?17, revision = revision + 1," \
	" story_id = ?18, summary_text = ?20" \
	" WHERE id = ?1"
#define SQL_ART_UPDATE_META \
	"UPDATE articles SET key = ?2, guid = ?3, link = ?4," \
	" canon_link = ?5, author = ?7, published = ?8," \
	" updated = ?9, summary = ?10, content = ?11," \
	" categories = ?13, enclosures = ?14, hash = ?15," \
	" sort_time = ?16, last_changed = ?17, revision = revision + 1," \
	" story_id = ?18" \
	" WHERE id = ?1"
#define SQL_STORY_BY_LINK \
	"SELECT story_id FROM articles WHERE canon_link = ?1 AND id <> ?2" \
	" ORDER BY id LIMIT 1"
#define SQL_PURGED_BY_LINK_TITLE \
	"SELECT 1 FROM purged WHERE feed_id = ?1 AND canon_link = ?2" \
	" AND title = ?3"
#define SQL_RETENTION_SCAN \
	"SELECT id, key, canon_link, title, sort_time FROM articles" \
	" WHERE feed_id = ?1 ORDER BY sort_time DESC, id DESC"
#define SQL_CHANGE_INSERT \
	"INSERT INTO changes(article_id, feed_id, kind, at)" \
	" VALUES (?1, ?2, ?3, ?4)"
#define SQL_CHANGE_PRUNE \
	"DELETE FROM changes WHERE at < ?1" \
	" AND seq < (SELECT max(seq) FROM changes)"
#define SQL_BLOCKED_INSERT \
	"INSERT INTO blocked_keys(feed_id, key, at) VALUES (?1, ?2, ?3)" \
	" ON CONFLICT DO NOTHING"
#define SQL_FEED_SET_DUE \
	"UPDATE feeds SET next_due = ?2 WHERE id = ?1"
#define SQL_FEED_DISABLE \
	"UPDATE feeds SET active = 0, enabled = 1 WHERE name = ?1"
#define SQL_ART_FTS_COLS \
	"SELECT title, summary_text, text FROM articles WHERE id = ?1"
#define SQL_ART_REKEY \
	"UPDATE articles SET key = ?2, guid = ?3 WHERE id = ?1"
#define SQL_ART_SET_STORY \
	"UPDATE articles SET story_id = ?2 WHERE id = ?1"
#define SQL_PURGED_BY_KEY \
	"SELECT 1 FROM purged WHERE feed_id = ?1 AND key = ?2"
#define SQL_ART_DELETE \
	"DELETE FROM articles WHERE id = ?1"

const char *const store__sql_sqlite[STORE_STMT_COUNT_] = {
	[STORE_STMT_FEED_BY_NAME] =
		"SELECT " FEED_COLS " FROM feeds WHERE name = ?1",
	/* With whether the feed ever had an article purged (refresh.c). */
	[STORE_STMT_FEED_KEEP] = SQL_FEED_KEEP,
	[STORE_STMT_FEED_INSERT] =
		"INSERT INTO feeds(name, url, keep_days, keep_count, created,"
		" tags, enabled, active, conf_title, conf_site)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9)",
	/* SET expressions see the old row, so "url = ?2" asks whether the
	 * configured URL stayed the same. */
	[STORE_STMT_FEED_UPDATE_CONF] =
		"UPDATE feeds SET url = ?2, keep_days = ?3, keep_count = ?4,"
		" active = ?6, enabled = ?6, tags = ?5, conf_title = ?7,"
		" conf_site = ?8,"
		" url_in_use = CASE WHEN url = ?2 THEN url_in_use END,"
		" etag = CASE WHEN url = ?2 THEN etag END,"
		" last_modified = CASE WHEN url = ?2 THEN last_modified END,"
		" body_hash = CASE WHEN url = ?2 THEN body_hash END,"
		" gone = CASE WHEN url = ?2 THEN gone ELSE 0 END"
		" WHERE id = ?1 AND (url IS NOT ?2 OR keep_days IS NOT ?3"
		" OR keep_count IS NOT ?4 OR active IS NOT ?6 OR enabled IS NOT ?6"
		" OR tags IS NOT ?5 OR conf_title IS NOT ?7"
		" OR conf_site IS NOT ?8)",
	[STORE_STMT_FEED_RECORD] =
		"UPDATE feeds SET last_attempt = ?2,"
		" last_success = CASE WHEN ?3 THEN ?2 ELSE last_success END,"
		" last_status = ?4, last_error = ?5,"
		" etag = coalesce(?6, etag),"
		" last_modified = coalesce(?7, last_modified),"
		" url_in_use = coalesce(?8, url_in_use),"
		" body_hash = coalesce(?9, body_hash),"
		" title = coalesce(?10, title),"
		" site_link = coalesce(?11, site_link),"
		" next_due = ?12, failures = ?13, gone = ?14,"
		" malformed = CASE WHEN ?15 THEN ?16 ELSE malformed END,"
		" last_warning = CASE WHEN ?15 THEN ?17 ELSE last_warning END"
		" WHERE id = ?1",
	[STORE_STMT_FEED_SET_DUE] = SQL_FEED_SET_DUE,
	[STORE_STMT_FEED_DISABLE] = SQL_FEED_DISABLE,
	[STORE_STMT_ART_BY_KEY] = SQL_ART_BY_KEY,
	[STORE_STMT_ART_BY_LINK_TITLE] = SQL_ART_BY_LINK_TITLE,
	/* ?19 is the new id (STORE_STMT_NEXT_ID), so a new story's
	 * story_id is written with the row rather than by a second update
	 * that would rewrite the whole record. The story: that of the
	 * first stored article with the same canonical link, else its own
	 * (looked up here, not by a separate STORE_STMT_STORY_BY_LINK). */
	[STORE_STMT_ART_INSERT] =
		"INSERT INTO articles(id, feed_id, key, guid, link, canon_link,"
		" title, author, published, updated, summary, content, text,"
		" categories, enclosures, hash, sort_time, first_seen,"
		" last_changed, revision, story_id, summary_text)"
		" VALUES (?19, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
		" ?13, ?14, ?15, ?16, ?17, ?17, 1, coalesce((SELECT s.story_id"
		" FROM articles s WHERE s.canon_link = ?5 ORDER BY s.id LIMIT 1),"
		" ?19), ?20)",
	/* What AUTOINCREMENT would pick: above every id ever used. Exact
	 * because the one writer holds the write lock (BEGIN IMMEDIATE). */
	[STORE_STMT_NEXT_ID] =
		"SELECT max(coalesce((SELECT seq FROM sqlite_sequence"
		" WHERE name = 'articles'), 0),"
		" coalesce((SELECT max(id) FROM articles), 0)) + 1",
	[STORE_STMT_ART_UPDATE] = SQL_ART_UPDATE,
	/* The update when the indexed columns (title, summary_text, text)
	 * stay: the full-text trigger (AFTER UPDATE OF those) does not
	 * fire, so FTS5 does not re-tokenize the old and the new text for
	 * nothing. The HTML summary may still change (markup only). */
	[STORE_STMT_ART_UPDATE_META] = SQL_ART_UPDATE_META,
	[STORE_STMT_ART_FTS_COLS] = SQL_ART_FTS_COLS,
	/* What the schema's articles_fts_* triggers do, for fts_manual
	 * (refresh.c: why INSERT ... SELECT). */
	/* Out with the stored title, summary text and text, in with ?2, ?3
	 * and ?4: one statement, so FTS5 flushes once (at its statement
	 * savepoint). The index's summary column is articles.summary_text
	 * (schema.c, version 4). */
	[STORE_STMT_FTS_REPLACE_ROW] =
		"INSERT INTO articles_fts(articles_fts, rowid, title, summary, text)"
		" SELECT 'delete', id, title, summary_text, text FROM articles"
		" WHERE id = ?1"
		" UNION ALL SELECT NULL, ?1, ?2, ?3, ?4",
	[STORE_STMT_FTS_DELETE_ROW] =
		"INSERT INTO articles_fts(articles_fts, rowid, title, summary, text)"
		" SELECT 'delete', id, title, summary_text, text FROM articles"
		" WHERE id = ?1",
	[STORE_STMT_FTS_INSERT_NEW] =
		"INSERT INTO articles_fts(rowid, title, summary, text)"
		" SELECT id, title, summary_text, text FROM articles WHERE id > ?1"
		" ORDER BY id",
	[STORE_STMT_ART_REKEY] = SQL_ART_REKEY,
	[STORE_STMT_ART_SET_STORY] = SQL_ART_SET_STORY,
	[STORE_STMT_STORY_BY_LINK] = SQL_STORY_BY_LINK,
	[STORE_STMT_PURGED_BY_KEY] = SQL_PURGED_BY_KEY,
	[STORE_STMT_PURGED_BY_LINK_TITLE] = SQL_PURGED_BY_LINK_TITLE,
	[STORE_STMT_RETENTION_SCAN] = SQL_RETENTION_SCAN,
	[STORE_STMT_ART_DELETE] = SQL_ART_DELETE,
	[STORE_STMT_PURGED_INSERT] =
		"INSERT OR REPLACE INTO purged(feed_id, key, canon_link, title, at)"
		" VALUES (?1, ?2, ?3, ?4, ?5)",
	[STORE_STMT_CHANGE_INSERT] = SQL_CHANGE_INSERT,
	/* The newest row always stays, so a reader can still learn the
	 * current seq after a long quiet spell. */
	[STORE_STMT_CHANGE_PRUNE] = SQL_CHANGE_PRUNE,
	/* Changes one row the first time a key is blocked, none after. */
	[STORE_STMT_BLOCKED_INSERT] = SQL_BLOCKED_INSERT,
	[STORE_STMT_RULE_COUNT_ADD] =
		"INSERT INTO rule_counts(name, matches, last_match, action)"
		" VALUES (?1, ?2, ?3, ?4) ON CONFLICT(name) DO UPDATE SET"
		" matches = matches + excluded.matches,"
		" last_match = excluded.last_match, action = excluded.action",
};

/*
 * The same statements for PostgreSQL (db_pg.c rewrites ?N to $N). The
 * differences: IS DISTINCT FROM for IS NOT, ids from the sequences and
 * INSERT ... RETURNING id, ON CONFLICT for INSERT OR REPLACE, casts where
 * the server cannot infer a parameter's type, integers compared with 0
 * where SQLite takes them as truth values. No full-text statements: the
 * server keeps articles.fts (a generated tsvector) itself.
 */
const char *const store__sql_pg[STORE_STMT_COUNT_] = {
	[STORE_STMT_FEED_BY_NAME] =
		"SELECT " FEED_COLS " FROM feeds WHERE name = ?1",
	/* With whether the feed ever had an article purged (refresh.c). */
	[STORE_STMT_FEED_KEEP] = SQL_FEED_KEEP,
	[STORE_STMT_FEED_INSERT] =
		"INSERT INTO feeds(name, url, keep_days, keep_count, created,"
		" tags, enabled, active, conf_title, conf_site)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9) RETURNING id",
	[STORE_STMT_FEED_UPDATE_CONF] =
		"UPDATE feeds SET url = ?2::text, keep_days = ?3::integer,"
		" keep_count = ?4::integer,"
		" active = ?6::integer, enabled = ?6::integer, tags = ?5::text,"
		" conf_title = ?7::text, conf_site = ?8::text,"
		" url_in_use = CASE WHEN url = ?2::text THEN url_in_use END,"
		" etag = CASE WHEN url = ?2::text THEN etag END,"
		" last_modified = CASE WHEN url = ?2::text THEN last_modified END,"
		" body_hash = CASE WHEN url = ?2::text THEN body_hash END,"
		" gone = CASE WHEN url = ?2::text THEN gone ELSE 0 END"
		" WHERE id = ?1 AND (url IS DISTINCT FROM ?2::text"
		" OR keep_days IS DISTINCT FROM ?3::integer"
		" OR keep_count IS DISTINCT FROM ?4::integer"
		" OR active IS DISTINCT FROM ?6::integer"
		" OR enabled IS DISTINCT FROM ?6::integer"
		" OR tags IS DISTINCT FROM ?5::text"
		" OR conf_title IS DISTINCT FROM ?7::text"
		" OR conf_site IS DISTINCT FROM ?8::text)",
	[STORE_STMT_FEED_RECORD] =
		"UPDATE feeds SET last_attempt = ?2::bigint,"
		" last_success = CASE WHEN ?3::integer <> 0 THEN ?2::bigint"
		" ELSE last_success END,"
		" last_status = ?4::integer, last_error = ?5::text,"
		" etag = coalesce(?6::text, etag),"
		" last_modified = coalesce(?7::text, last_modified),"
		" url_in_use = coalesce(?8::text, url_in_use),"
		" body_hash = coalesce(?9::text, body_hash),"
		" title = coalesce(?10::text, title),"
		" site_link = coalesce(?11::text, site_link),"
		" next_due = ?12::bigint, failures = ?13::integer,"
		" gone = ?14::integer,"
		" malformed = CASE WHEN ?15::integer <> 0 THEN ?16::integer"
		" ELSE malformed END,"
		" last_warning = CASE WHEN ?15::integer <> 0 THEN ?17::text"
		" ELSE last_warning END"
		" WHERE id = ?1",
	[STORE_STMT_FEED_SET_DUE] = SQL_FEED_SET_DUE,
	[STORE_STMT_FEED_DISABLE] = SQL_FEED_DISABLE,
	[STORE_STMT_ART_BY_KEY] = SQL_ART_BY_KEY,
	[STORE_STMT_ART_BY_LINK_TITLE] = SQL_ART_BY_LINK_TITLE,
	/* The id from the sequence in the same statement (ids only grow:
	 * the sequence never hands one out twice), so no NEXT_ID trip; the
	 * story as on SQLite. */
	[STORE_STMT_ART_INSERT] =
		"WITH n AS (SELECT nextval('feedd.articles_id_seq') AS id)"
		" INSERT INTO articles(id, feed_id, key, guid, link, canon_link,"
		" title, author, published, updated, summary, content, text,"
		" categories, enclosures, hash, sort_time, first_seen,"
		" last_changed, revision, story_id, summary_text)"
		" SELECT n.id, ?1::bigint, ?2::text, ?3::text, ?4::text,"
		" ?5::text, ?6::text, ?7::text, ?8::text, ?9::text, ?10::text,"
		" ?11::text, ?12::text, ?13::text, ?14::text, ?15::text,"
		" ?16::bigint, ?17::bigint, ?17::bigint, 1,"
		" coalesce((SELECT s.story_id FROM articles s"
		" WHERE s.canon_link = ?5::text ORDER BY s.id LIMIT 1), n.id),"
		" ?20::text FROM n RETURNING id",
	/* None: ART_INSERT takes the id from the sequence itself. */
	[STORE_STMT_NEXT_ID] = NULL,
	[STORE_STMT_ART_UPDATE] = SQL_ART_UPDATE,
	[STORE_STMT_ART_UPDATE_META] = SQL_ART_UPDATE_META,
	[STORE_STMT_ART_FTS_COLS] = SQL_ART_FTS_COLS,
	[STORE_STMT_ART_REKEY] = SQL_ART_REKEY,
	[STORE_STMT_ART_SET_STORY] = SQL_ART_SET_STORY,
	[STORE_STMT_STORY_BY_LINK] = SQL_STORY_BY_LINK,
	[STORE_STMT_PURGED_BY_KEY] = SQL_PURGED_BY_KEY,
	[STORE_STMT_PURGED_BY_LINK_TITLE] = SQL_PURGED_BY_LINK_TITLE,
	[STORE_STMT_RETENTION_SCAN] = SQL_RETENTION_SCAN,
	[STORE_STMT_ART_DELETE] = SQL_ART_DELETE,
	[STORE_STMT_PURGED_INSERT] =
		"INSERT INTO purged(feed_id, key, canon_link, title, at)"
		" VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (feed_id, key) DO UPDATE"
		" SET canon_link = excluded.canon_link, title = excluded.title,"
		" at = excluded.at",
	[STORE_STMT_CHANGE_INSERT] = SQL_CHANGE_INSERT,
	[STORE_STMT_CHANGE_PRUNE] = SQL_CHANGE_PRUNE,
	/* Payload: the last seq this session took (a hint; a reader
	 * reads the log from its cursor anyway). */
	[STORE_STMT_CHANGE_NOTIFY] =
		"SELECT pg_notify('feedd_changes', currval("
		"pg_get_serial_sequence('feedd.changes', 'seq'))::text)",
	[STORE_STMT_BLOCKED_INSERT] = SQL_BLOCKED_INSERT,
	[STORE_STMT_RULE_COUNT_ADD] =
		"INSERT INTO rule_counts(name, matches, last_match, action)"
		" VALUES (?1, ?2, ?3, ?4) ON CONFLICT(name) DO UPDATE SET"
		" matches = rule_counts.matches + excluded.matches,"
		" last_match = excluded.last_match, action = excluded.action",
};

int64_t
store__now(const struct store *st)
{
	if (st->o.clock)
		return st->o.clock(st->o.clock_ud);
	return (int64_t)time(NULL);
}

int
store__fail(struct store *st, int rc, const char *what)
{
	if (rc >= 0)
		rc = -EIO;
	/* Out of memory inside SQLite, or a broken server connection: a
	 * new connection before the next write (see
	 * store__reconnect_if_needed()). */
	if (rc == -ENOMEM || rc == -ENOTCONN)
		st->reopen = true;
	if (store_err_unreachable(rc))
		st->unreachable = true;
	snprintf(st->err, sizeof(st->err), "%s: %s (%s)", what,
		st->db ? db_errmsg(st->db) : strerror(-rc),
		st->path ? st->path : "?");
	return rc;
}

struct db_stmt *
store__stmt(struct store *st, enum store__stmt n)
{
	struct db_stmt *s = st->stmt[n];

	if (!s && !st->drv->sql[n]) {
		snprintf(st->err, sizeof(st->err), "statement %d has no %s text",
			(int)n, st->drv->name);
		return NULL;
	}
	if (!s) {
		int rc = st->drv->prepare(st->db, st->drv->sql[n], true, &s);
		if (rc < 0) {
			store__fail(st, rc, "preparing a statement");
			return NULL;
		}
		st->stmt[n] = s;
	}
	db_reset(s);
	return s;
}

int
store__prepare(struct store *st, const char *q, struct db_stmt **s,
	const char *what)
{
	int rc = st->drv->prepare(st->db, q, false, s);

	if (rc < 0)
		return store__fail(st, rc, what);
	return 0;
}

const char *
store__text(struct db_stmt *s, int i)
{
	return db_col_text(s, i);
}

int
store__bind_text(struct db_stmt *s, int i, const char *v)
{
	return s->db->drv->bind_text(s, i, v, true);
}

int
store__bind_static(struct db_stmt *s, int i, const char *v)
{
	return s->db->drv->bind_text(s, i, v, false);
}

int
store__bind_int(struct db_stmt *s, int i, int64_t v)
{
	return db_bind_int64(s, i, v);
}

int
store__exec(struct store *st, const char *q)
{
	int rc = db_exec(st->db, q);

	if (rc < 0)
		return store__fail(st, rc, "executing SQL");
	return 0;
}

int
store_schema_version(void)
{
	return store__nmigrations;
}

static int
migrate(struct store *st)
{
	const struct db_driver *drv = st->drv;
	int64_t ver = 0;
	bool objects = false;
	int rc;

	rc = drv->begin_write(st->db);
	if (rc < 0) {
		rc = store__fail(st, rc, "executing SQL");
		goto out;
	}
	rc = drv->version_get(st->db, &ver, &objects);
	if (rc < 0) {
		rc = store__fail(st, rc, "reading the database");
		goto rollback;
	}
	if (ver > store__nmigrations) {
		snprintf(st->err, sizeof(st->err),
			"%s: database schema version %lld is newer than this "
			"build understands (%d); upgrade feedd",
			st->path, (long long)ver, store__nmigrations);
		rc = -EPROTO;
		goto rollback;
	}
	if (ver == 0 && objects) {
		snprintf(st->err, sizeof(st->err),
			"%s: not a feedd database (tables present, "
			"schema version 0)", st->path);
		rc = -EPROTO;
		goto rollback;
	}
	if (ver == 0 && drv->create) {
		/* A dialect without the history builds the newest schema. */
		rc = db_exec(st->db, drv->create);
		if (rc < 0) {
			rc = store__fail(st, rc, "creating the schema");
			goto rollback;
		}
	} else {
		for (int64_t v = ver; v < store__nmigrations; v++) {
			char what[64];

			snprintf(what, sizeof(what),
				"migrating the schema from version %lld",
				(long long)v);
			if (!drv->migrations || !drv->migrations[v]) {
				snprintf(st->err, sizeof(st->err), "%s: %s: no "
					"such step for %s", st->path, what,
					drv->name);
				rc = -EPROTO;
				goto rollback;
			}
			rc = db_exec(st->db, drv->migrations[v]);
			if (rc < 0) {
				rc = store__fail(st, rc, what);
				goto rollback;
			}
		}
	}
	if (ver != store__nmigrations) {
		rc = drv->version_set(st->db, store__nmigrations);
		if (rc < 0) {
			rc = store__fail(st, rc, "executing SQL");
			goto rollback;
		}
	}
	rc = store__exec(st, "COMMIT");
	if (rc < 0)
		goto rollback;
	goto out;
rollback:
	db_exec(st->db, "ROLLBACK");
out:
	return rc;
}

static int
check_reader_version(struct store *st)
{
	int64_t ver = 0;
	int rc = st->drv->version_get(st->db, &ver, NULL);

	if (rc < 0)
		return store__fail(st, rc, "reading the database");
	if (ver == store__nmigrations)
		return 0;
	if (ver == 0)
		snprintf(st->err, sizeof(st->err),
			"%s: not a feedd database (or feedd never opened it)",
			st->path);
	else if (ver > store__nmigrations)
		snprintf(st->err, sizeof(st->err),
			"%s: database schema version %lld is newer than this "
			"build understands (%d); upgrade feedctl",
			st->path, (long long)ver, store__nmigrations);
	else
		snprintf(st->err, sizeof(st->err),
			"%s: database schema version %lld is older than this "
			"build (%d); start feedd once to upgrade it",
			st->path, (long long)ver, store__nmigrations);
	return -EPROTO;
}

/*
 * Open st->target on st->db with everything a store's connection needs:
 * the driver's settings, the migrations (a writer), and the driver's
 * last step (fts_manual). On failure st->db may be left open: the caller
 * closes it.
 */
static int
db_connect(struct store *st)
{
	struct db_open_opts o = {
		.readonly = st->readonly,
		.sync_normal = st->o.sync_normal,
		.busy_timeout_ms = st->o.busy_timeout_ms,
	};
	int rc;

	rc = st->drv->open(&st->db, st->target, &o, st->err, sizeof(st->err));
	if (rc < 0)
		return rc;
	if (st->readonly)
		return check_reader_version(st);
	rc = migrate(st);
	if (rc == 0) {
		/* After the migrations, which may rely on the triggers: see
		 * fts_manual in store_int.h. */
		rc = st->drv->after_migrate(st->db, &st->fts_manual);
		if (rc < 0)
			rc = store__fail(st, rc, "opening the database");
	}
	return rc;
}

static void
close_stmts(struct db_stmt **stmt)
{
	for (int i = 0; i < STORE_STMT_COUNT_; i++) {
		db_finalize(stmt[i]);
		stmt[i] = NULL;
	}
}

/*
 * A writer whose SQLite ran out of memory (or whose server connection
 * broke) gets a new connection before its next transaction. SQLite 3.40's
 * FTS5 can be left inconsistent by an allocation that fails inside the
 * first full-text write on a connection: the rollback is clean, but the
 * next transaction on the same connection may write a corrupt index
 * (tests/unit/test_store_oom.c, oom_group with FEEDD_OOM_STRIDE=1,
 * reproduced it with plain SQLite and the schema's triggers too). A fresh
 * connection has no such state. If the new one cannot be opened, the old
 * one stays and the next transaction tries again.
 */
int
store__reconnect_if_needed(struct store *st)
{
	struct db *old_db = st->db;
	struct db_stmt *old_stmt[STORE_STMT_COUNT_];
	bool old_manual = st->fts_manual;
	int rc;

	if (!st->reopen || st->readonly || st->in_group || st->in_refresh ||
	    db_in_txn(st->db))
		return 0;
	memcpy(old_stmt, st->stmt, sizeof(old_stmt));
	memset(st->stmt, 0, sizeof(st->stmt));
	st->db = NULL;
	st->fts_manual = false;
	rc = db_connect(st);
	if (rc < 0) {
		close_stmts(st->stmt);
		if (st->db)
			st->drv->close(st->db);
		st->db = old_db;
		memcpy(st->stmt, old_stmt, sizeof(old_stmt));
		st->fts_manual = old_manual;
		if (store_err_unreachable(rc))
			st->unreachable = true;
		return rc;
	}
	close_stmts(old_stmt);
	st->drv->close(old_db);
	st->reopen = false;
	st->reconnects++;
	return 0;
}

bool
store_err_unreachable(int rc)
{
	return rc == -ENOTCONN || rc == -ECONNREFUSED;
}

bool
store_unreachable(const struct store *st)
{
	return st->unreachable;
}

int
store_reconnect(struct store *st)
{
	int rc;

	if (st->in_group || st->in_refresh) {
		snprintf(st->err, sizeof(st->err), "a %s is still open on "
			"this store", st->in_group ? "group" : "refresh");
		return -EBUSY;
	}
	if (!st->unreachable)
		return 0;
	/* The failed call flagged reopen unless it failed in connecting,
	 * where the old connection is kept and reopen still stands. */
	st->reopen = true;
	rc = store__reconnect_if_needed(st);
	if (rc < 0)
		return store_err_unreachable(rc) ? -ENOTCONN : rc;
	st->unreachable = false;
	return 0;
}

int
store_open(struct store **out, const char *path, const struct store_opts *o,
	char *errbuf, size_t errlen)
{
	struct store *st = store__calloc(1, sizeof(*st));
	const char *target = NULL;
	int rc = 0;

	if (!st) {
		rc = -ENOMEM;
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "out of memory");
		return rc;
	}
	if (o)
		st->o = *o;
	st->fts_floor = -1;
	if (st->o.busy_timeout_ms <= 0)
		st->o.busy_timeout_ms = 5000;
	if (st->o.changelog_keep_s <= 0)
		st->o.changelog_keep_s = 30 * 86400;
	st->readonly = st->o.readonly;
	if (!path || !*path) {
		snprintf(st->err, sizeof(st->err), "no database path given");
		rc = -EINVAL;
		goto out;
	}
	st->drv = db_driver_for(path, &target);
	st->target = store__strdup(target);
	st->path = st->target ? st->drv->describe(target) : NULL;
	if (!st->path) {
		rc = -ENOMEM;
		snprintf(st->err, sizeof(st->err), "out of memory");
		goto out;
	}
	if (!*target) {
		snprintf(st->err, sizeof(st->err), "no database path given");
		rc = -EINVAL;
		goto out;
	}
	rc = db_connect(st);
out:
	if (rc < 0) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s", st->err);
		store_close(st);
	} else {
		*out = st;
	}
	return rc;
}

void
store_close(struct store *st)
{
	if (!st)
		return;
	close_stmts(st->stmt);
	if (st->db)
		st->drv->close(st->db);
	store__free(st->target);
	store__free(st->path);
	store__free(st);
}

const char *
store_errmsg(const struct store *st)
{
	if (!st)
		return "no store";
	return st->err[0] ? st->err : "no error";
}

int64_t
store_write_count(const struct store *st)
{
	return st->drv->total_changes(st->db);
}

/* --- groups ------------------------------------------------------------- */

int
store__write_ok(struct store *st)
{
	if (!st->in_group)
		return 0;
	/* However it happened, a write now would run outside the group
	 * (or, on PostgreSQL, fail in its aborted transaction). */
	if (!st->group_err && (!db_in_txn(st->db) ||
	    st->drv->txn_failed(st->db))) {
		snprintf(st->err, sizeof(st->err), "%s: the group's transaction "
			"was rolled back", st->path);
		st->group_err = -EIO;
	}
	return st->group_err;
}

int
store__write_failed(struct store *st, int rc)
{
	if (rc < 0 && st->in_group && !st->group_err &&
	    (!db_in_txn(st->db) || st->drv->txn_failed(st->db)))
		st->group_err = rc;
	return rc;
}

int
store__prune_changes(struct store *st, int64_t now)
{
	struct db_stmt *s = store__stmt(st, STORE_STMT_CHANGE_PRUNE);
	int src;

	if (!s)
		return -EIO;
	store__bind_int(s, 1, now - st->o.changelog_keep_s);
	src = db_step(s);
	db_reset(s);
	if (src != DB_DONE)
		return store__fail(st, src, "pruning the change log");
	return 0;
}

int
store__notify_changes(struct store *st)
{
	struct db_stmt *s;
	int src;

	if (!st->drv->sql[STORE_STMT_CHANGE_NOTIFY])
		return 0;
	s = store__stmt(st, STORE_STMT_CHANGE_NOTIFY);
	if (!s)
		return -EIO;
	src = db_step(s);
	db_reset(s);
	if (src != DB_ROW && src != DB_DONE)
		return store__fail(st, src, "notifying the change log's readers");
	return 0;
}

static void
group_end(struct store *st)
{
	if (db_in_txn(st->db))
		db_exec(st->db, "ROLLBACK");
	store__fts_reset(st);
	st->in_group = false;
	st->in_refresh = false;
	st->group_err = 0;
	st->group_prune = false;
}

int
store_group_begin(struct store *st)
{
	int rc;

	if (st->readonly) {
		snprintf(st->err, sizeof(st->err),
			"%s: opened read-only, cannot store", st->path);
		return -EROFS;
	}
	if (st->in_group || st->in_refresh) {
		snprintf(st->err, sizeof(st->err), "a %s is already open on "
			"this store", st->in_group ? "group" : "refresh");
		return -EBUSY;
	}
	rc = store__reconnect_if_needed(st);
	if (rc < 0)
		return rc;
	rc = st->drv->begin_write(st->db);
	if (rc < 0)
		return store__fail(st, rc, "executing SQL");
	store__fts_reset(st);
	st->in_group = true;
	st->group_err = 0;
	st->group_prune = false;
	return 0;
}

int
store_group_commit(struct store *st)
{
	int rc;

	if (!st->in_group) {
		snprintf(st->err, sizeof(st->err), "no group is open");
		return -EINVAL;
	}
	rc = store__write_ok(st);
	if (rc == 0 && st->in_refresh) {
		snprintf(st->err, sizeof(st->err),
			"a refresh is still open in the group");
		rc = -EBUSY;
	}
	if (rc == 0)
		rc = store__fts_flush(st);
	if (rc == 0 && st->group_prune)
		rc = store__prune_changes(st, store__now(st));
	if (rc == 0 && st->group_prune)
		rc = store__notify_changes(st);
	if (rc == 0)
		rc = store__exec(st, "COMMIT");
	/* After COMMIT this only resets; after a failure it rolls back. */
	group_end(st);
	return rc;
}

void
store_group_abort(struct store *st)
{
	if (st && st->in_group)
		group_end(st);
}

/* --- feeds ------------------------------------------------------------ */

static char *
col_dup(struct db_stmt *s, int i, int *err)
{
	const char *t = db_col_text(s, i);
	char *d;

	if (!t)
		return NULL;
	d = store__strdup(t);
	if (!d)
		*err = -ENOMEM;
	return d;
}

/* Fill f from a FEED_COLS row. With copy, strings are strdup'd (owned by
 * f); without, they point into the statement (borrowed). */
static int
feed_from_row(struct db_stmt *s, struct store_feed_state *f, bool copy)
{
	int err = 0;
	char **str[] = { &f->name, &f->url, &f->url_in_use, &f->title,
		&f->site_link, &f->etag, &f->last_modified, &f->body_hash };

	memset(f, 0, sizeof(*f));
	f->id = db_col_int64(s, 0);
	for (size_t i = 0; i < sizeof(str) / sizeof(str[0]); i++)
		*str[i] = copy ? col_dup(s, (int)i + 1, &err)
			       : (char *)(uintptr_t)db_col_text(s, (int)i + 1);
	f->last_attempt = db_col_int64(s, 9);
	f->last_success = db_col_int64(s, 10);
	f->next_due = db_col_int64(s, 11);
	f->failures = db_col_int(s, 12);
	f->last_error = copy ? col_dup(s, 13, &err)
			     : (char *)(uintptr_t)db_col_text(s, 13);
	f->last_status = db_col_int(s, 14);
	f->gone = db_col_int(s, 15) != 0;
	f->articles = db_col_int64(s, 16);
	f->active = db_col_int(s, 17) != 0;
	f->keep_days = db_col_int(s, 18);
	f->keep_count = db_col_int(s, 19);
	f->tags = copy ? col_dup(s, 20, &err) : (char *)(uintptr_t)db_col_text(s, 20);
	f->enabled = db_col_int(s, 21) != 0;
	f->malformed = db_col_int(s, 22) != 0;
	f->last_warning = copy ? col_dup(s, 23, &err)
			       : (char *)(uintptr_t)db_col_text(s, 23);
	f->conf_title = copy ? col_dup(s, 24, &err)
			     : (char *)(uintptr_t)db_col_text(s, 24);
	f->conf_site = copy ? col_dup(s, 25, &err)
			    : (char *)(uintptr_t)db_col_text(s, 25);
	/* The same precedence as feeds_v1.status (schema.c, SCHEMA.md). */
	f->status = !f->enabled ? "disabled" : !f->active ? "removed" :
		f->gone ? "gone" : db_col_null(s, 9) ?
		"new" : f->malformed ? "malformed" : f->failures > 0 ?
		"failing" : "ok";
	if (err < 0 && copy)
		store_feed_state_cleanup(f);
	return err;
}

int
store_feed_get(struct store *st, const char *name, struct store_feed_state *out)
{
	struct db_stmt *s = store__stmt(st, STORE_STMT_FEED_BY_NAME);
	struct store_feed_state f;
	int rc = 0, src;

	if (!s)
		return -EIO;
	store__bind_text(s, 1, name);
	src = db_step(s);
	if (src == DB_DONE) {
		snprintf(st->err, sizeof(st->err), "no feed named '%s'", name);
		rc = -ENOENT;
	} else if (src != DB_ROW) {
		rc = store__fail(st, src, "reading a feed");
	} else {
		rc = feed_from_row(s, &f, true);
		if (rc == 0)
			*out = f;
	}
	db_reset(s);
	return rc;
}

void
store_feed_state_cleanup(struct store_feed_state *f)
{
	if (!f)
		return;
	store__free(f->name);
	store__free(f->url);
	store__free(f->url_in_use);
	store__free(f->title);
	store__free(f->site_link);
	store__free(f->etag);
	store__free(f->last_modified);
	store__free(f->body_hash);
	store__free(f->last_error);
	store__free(f->tags);
	store__free(f->last_warning);
	store__free(f->conf_title);
	store__free(f->conf_site);
	memset(f, 0, sizeof(*f));
}

/* "a, b,,c " -> "a,b,c" (malloc'd; "" when nothing is left). */
static char *
tags_normalize(const char *in)
{
	size_t n = strlen(in);
	char *out = malloc(n + 1), *o = out;

	if (!out)
		return NULL;
	for (const char *p = in; *p;) {
		const char *b, *e;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		b = p;
		while (*p && *p != ',')
			p++;
		e = p;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > b) {
			if (o > out)
				*o++ = ',';
			memcpy(o, b, (size_t)(e - b));
			o += e - b;
		}
	}
	*o = '\0';
	return out;
}

int
store_feed_ensure(struct store *st, const struct store_feed_conf *c,
	int64_t *id)
{
	struct db_stmt *s;
	int rc = 0, src;
	int64_t fid = 0;
	char *tags = NULL;

	if (!c || !c->name || !*c->name || !c->url) {
		snprintf(st->err, sizeof(st->err), "a feed needs a name and a URL");
		return -EINVAL;
	}
	rc = store__write_ok(st);
	if (rc < 0)
		return rc;
	s = store__stmt(st, STORE_STMT_FEED_BY_NAME);
	if (!s)
		return -EIO;
	store__bind_text(s, 1, c->name);
	src = db_step(s);
	if (src == DB_ROW)
		fid = db_col_int64(s, 0);
	db_reset(s);
	if (src != DB_ROW && src != DB_DONE)
		return store__write_failed(st,
			store__fail(st, src, "reading a feed"));
	if (c->tags && !(tags = tags_normalize(c->tags)))
		return store__write_failed(st, -ENOMEM);
	s = store__stmt(st, fid ? STORE_STMT_FEED_UPDATE_CONF :
		STORE_STMT_FEED_INSERT);
	if (!s) {
		free(tags);
		return -EIO;
	}
	if (fid) {
		store__bind_int(s, 1, fid);
		store__bind_text(s, 2, c->url);
		store__bind_int(s, 3, c->keep_days);
		store__bind_int(s, 4, c->keep_count);
		store__bind_text(s, 5, tags && *tags ? tags : NULL);
		store__bind_int(s, 6, !c->disabled);
		store__bind_text(s, 7, c->title && *c->title ? c->title : NULL);
		store__bind_text(s, 8, c->site && *c->site ? c->site : NULL);
	} else {
		store__bind_text(s, 1, c->name);
		store__bind_text(s, 2, c->url);
		store__bind_int(s, 3, c->keep_days);
		store__bind_int(s, 4, c->keep_count);
		store__bind_int(s, 5, store__now(st));
		store__bind_text(s, 6, tags && *tags ? tags : NULL);
		store__bind_int(s, 7, !c->disabled);
		store__bind_text(s, 8, c->title && *c->title ? c->title : NULL);
		store__bind_text(s, 9, c->site && *c->site ? c->site : NULL);
	}
	src = db_step(s);
	if (src != DB_DONE)
		rc = store__fail(st, src, "storing a feed");
	else if (!fid)
		fid = db_last_id(st->db);
	db_reset(s);
	free(tags);
	if (rc == 0 && id)
		*id = fid;
	return store__write_failed(st, rc);
}

/* Step s, an UPDATE of the feed row feed_id, and reset it: 0, -ENOENT
 * when no such feed, or the failure (what says what was being done). */
static int
feed_row_step(struct store *st, struct db_stmt *s, int64_t feed_id,
	const char *what)
{
	int rc = 0, src = db_step(s);

	if (src != DB_DONE)
		rc = store__fail(st, src, what);
	else if (db_changes(st->db) == 0) {
		snprintf(st->err, sizeof(st->err), "no feed with id %lld",
			(long long)feed_id);
		rc = -ENOENT;
	}
	db_reset(s);
	return store__write_failed(st, rc);
}

int
store_feed_set_due(struct store *st, int64_t feed_id, int64_t next_due)
{
	struct db_stmt *s;
	int rc = store__write_ok(st);

	if (rc < 0)
		return rc;
	s = store__stmt(st, STORE_STMT_FEED_SET_DUE);
	if (!s)
		return -EIO;
	store__bind_int(s, 1, feed_id);
	store__bind_int(s, 2, next_due);
	return feed_row_step(st, s, feed_id, "scheduling a feed");
}

int
store_feed_disable(struct store *st, const char *name)
{
	struct db_stmt *s;
	int rc = store__write_ok(st), src;

	if (rc < 0)
		return rc;
	s = store__stmt(st, STORE_STMT_FEED_DISABLE);
	if (!s)
		return -EIO;
	store__bind_text(s, 1, name);
	src = db_step(s);
	if (src != DB_DONE)
		rc = store__fail(st, src, "disabling a feed");
	else if (db_changes(st->db) == 0) {
		snprintf(st->err, sizeof(st->err), "no feed named '%s'", name);
		rc = -ENOENT;
	}
	db_reset(s);
	return store__write_failed(st, rc);
}

int
store_feed_record(struct store *st, int64_t feed_id,
	const struct store_feed_result *r)
{
	struct db_stmt *s;
	int rc = store__write_ok(st);

	if (rc < 0)
		return rc;
	s = store__stmt(st, STORE_STMT_FEED_RECORD);
	if (!s)
		return -EIO;
	store__bind_int(s, 1, feed_id);
	store__bind_int(s, 2, r->attempt);
	store__bind_int(s, 3, r->ok);
	if (r->http_status)
		store__bind_int(s, 4, r->http_status);
	store__bind_text(s, 5, r->ok ? NULL : (r->error ? r->error : "failed"));
	store__bind_text(s, 6, r->etag);
	store__bind_text(s, 7, r->last_modified);
	store__bind_text(s, 8, r->url_in_use);
	store__bind_text(s, 9, r->body_hash);
	store__bind_text(s, 10, r->title);
	store__bind_text(s, 11, r->site_link);
	store__bind_int(s, 12, r->next_due);
	store__bind_int(s, 13, r->failures);
	store__bind_int(s, 14, r->gone);
	store__bind_int(s, 15, r->document);
	store__bind_int(s, 16, r->malformed);
	store__bind_text(s, 17, r->warning);
	return feed_row_step(st, s, feed_id, "recording a poll");
}

int
store_feeds_list(struct store *st, bool count_articles, store_feed_cb cb,
	void *ud)
{
	struct db_stmt *s = NULL;
	struct store_feed_state f;
	int rc = 0, src;

	rc = store__prepare(st, count_articles ?
		"SELECT " FEED_COLS " FROM feeds ORDER BY name" :
		"SELECT " FEED_COLS_NOCOUNT " FROM feeds ORDER BY name", &s,
		"listing feeds");
	if (rc < 0)
		goto out;
	for (;;) {
		src = db_step(s);
		if (src != DB_ROW)
			break;
		feed_from_row(s, &f, false);
		rc = cb(ud, &f);
		if (rc)
			goto out;
	}
	if (src != DB_DONE)
		rc = store__fail(st, src, "listing feeds");
out:
	db_finalize(s);
	return rc;
}
