/*
 * store/: schema versions 3 and 4. The migrations from real version 2 and
 * version 3 files (version 4: the summary indexed as plain text),
 * tags and the tag filter, the status word, malformed documents (when a
 * poll sets and when it keeps malformed/last_warning), the planned first
 * fetch (store_feed_set_due), disabled vs removed feeds, and full-text
 * search over title, summary and text with its filters.
 * Every case gets a fresh database in its own temporary directory.
 */
#include "store.h"
#include "store_int.h"
#include "check.h"
#include "unit/test_store_db.h"

#include <sqlite3.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int64_t fake_now = 1700000000;
static char dir[256], dbpath[1200];

static int64_t
clock_cb(void *ud)
{
	(void)ud;
	return fake_now;
}

static void
fresh_path(void)
{
	snprintf(dir, sizeof(dir), "/tmp/feedd-test-store3-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	{
		char file[300];

		snprintf(file, sizeof(file), "%s/feeds.db", dir);
		test_store_fresh(dbpath, sizeof(dbpath), file);
	}
}

static void
remove_dir(void)
{
	char p[1300];
	const char *sfx[] = { "", "-wal", "-shm", "-journal" };

	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s%s", dbpath, sfx[i]);
		unlink(p);
	}
	rmdir(dir);
	test_store_drop();
}

static struct store *
open_store(bool readonly)
{
	struct store_opts o = { .clock = clock_cb, .readonly = readonly };
	struct store *st = NULL;
	char err[512];
	int rc = store_open(&st, dbpath, &o, err, sizeof(err));

	if (rc < 0)
		fprintf(stderr, "store_open: %s\n", err);
	return st;
}

static struct store *
fresh(void)
{
	fake_now = 1700000000;
	fresh_path();
	return open_store(false);
}

/* The full-text index matches the articles (rank 1: also against the
 * content), then close and clean up. */
static void
finish(struct store *st)
{
	if (st && !st->readonly && !test_store_pg())
		CHECK_INT_EQ(store__exec(st, "INSERT INTO articles_fts(articles_fts,"
			" rank) VALUES ('integrity-check', 1)"), 0);
	store_close(st);
	remove_dir();
}

static int64_t
q_int(struct store *st, const char *sql)
{
	struct db_stmt *s = NULL;
	int64_t v = -1;

	/* Through the store's driver, so the same query runs on either
	 * backend. */
	if (store__prepare(st, sql, &s, "test query") == 0 &&
		db_step(s) == DB_ROW)
		v = db_col_int64(s, 0);
	else
		fprintf(stderr, "query failed: %s: %s\n", sql,
			db_errmsg(st->db));
	db_finalize(s);
	return v;
}

static char qbuf[2048];
static const char *
q_text(struct store *st, const char *sql)
{
	struct db_stmt *s = NULL;

	snprintf(qbuf, sizeof(qbuf), "(none)");
	if (store__prepare(st, sql, &s, "test query") == 0 &&
		db_step(s) == DB_ROW)
		snprintf(qbuf, sizeof(qbuf), "%s",
			db_col_text(s, 0) ? db_col_text(s, 0) : "(null)");
	else
		fprintf(stderr, "query failed: %s: %s\n", sql,
			db_errmsg(st->db));
	db_finalize(s);
	return qbuf;
}

/* One column of feeds_v1 for the feed named name, as text. */
static const char *
feed_col(struct store *st, const char *col, const char *name)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT %s FROM feeds_v1 WHERE name = '%s'",
		col, name);
	return q_text(st, sql);
}

static int64_t
ensure(struct store *st, const struct store_feed_conf *c)
{
	int64_t id = 0;

	CHECK_INT_EQ(store_feed_ensure(st, c, &id), 0);
	return id;
}

static int64_t
feed_tags(struct store *st, const char *name, const char *tags)
{
	struct store_feed_conf c = { .name = name,
		.url = "https://example.org/feed.xml", .tags = tags };

	return ensure(st, &c);
}

/* Store a whole document with a successful poll record. */
static int
refresh(struct store *st, int64_t fid, const struct store_article *a, size_t n)
{
	struct store_refresh *r = NULL;
	struct store_feed_result res = { .attempt = fake_now, .ok = true,
		.http_status = 200, .next_due = fake_now + 3600, .document = true };
	int rc = store_refresh_begin(st, fid, &r);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		rc = store_refresh_put(r, &a[i], NULL, NULL);
		if (rc < 0)
			break;
	}
	return store_refresh_commit(r, &res, NULL);
}

/* The status word by both roads: store_feed_get() and feeds_v1. */
static void
check_status(struct store *st, const char *name, const char *want)
{
	struct store_feed_state f;

	REQUIRE(store_feed_get(st, name, &f) == 0);
	CHECK_STR_EQ(f.status, want);
	store_feed_state_cleanup(&f);
	CHECK_STR_EQ(feed_col(st, "status", name), want);
}

struct titles {
	char s[2048];
	int n;
};

static int
collect_titles(void *ud, const struct store_article_row *a)
{
	struct titles *t = ud;
	size_t l = strlen(t->s);

	snprintf(t->s + l, sizeof(t->s) - l, "%s%s", l ? "," : "", a->title);
	t->n++;
	return 0;
}

static int
collect_snippets(void *ud, const struct store_article_row *a)
{
	struct titles *t = ud;
	size_t l = strlen(t->s);

	snprintf(t->s + l, sizeof(t->s) - l, "%s%s", l ? "|" : "",
		a->snippet ? a->snippet : "(no snippet)");
	t->n++;
	return 0;
}

static int
collect_tags(void *ud, const struct store_article_row *a)
{
	struct titles *t = ud;
	size_t l = strlen(t->s);

	snprintf(t->s + l, sizeof(t->s) - l, "%s%s=%s", l ? "," : "", a->title,
		a->tags ? a->tags : "(null)");
	t->n++;
	return 0;
}

static const char *
query_titles(struct store *st, const struct store_query *q, int want_rc)
{
	static struct titles t;

	memset(&t, 0, sizeof(t));
	CHECK_INT_EQ(store_articles_query(st, q, collect_titles, &t), want_rc);
	return t.s;
}

static const char *
search_titles(struct store *st, const char *fts, const struct store_query *q,
	int want_rc)
{
	static struct titles t;

	memset(&t, 0, sizeof(t));
	CHECK_INT_EQ(store_search_query(st, fts, q, collect_titles, &t), want_rc);
	return t.s;
}

/* --- migration ------------------------------------------------------ */

/*
 * A file written by schema version 2 (its own steps, raw SQL as feedd
 * 0.x left it, FTS over title and text kept by its triggers) is upgraded
 * in place: feed state kept, status words right, and the summaries of
 * old articles searchable (as plain text: not their markup or links).
 */
static void
t_migration_from_v2(void)
{
	TEST_SQLITE_ONLY("PostgreSQL databases start at version 6");
	fresh_path();
	sqlite3 *db;
	REQUIRE(sqlite3_open(dbpath, &db) == SQLITE_OK);
	CHECK_INT_EQ(sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL), 0);
	CHECK_INT_EQ(sqlite3_exec(db, store__migrations[0], NULL, NULL, NULL), 0);
	CHECK_INT_EQ(sqlite3_exec(db, store__migrations[1], NULL, NULL, NULL), 0);
	CHECK_INT_EQ(sqlite3_exec(db,
		"INSERT INTO feeds(id, name, url, etag, last_attempt, last_success,"
		" next_due, failures, last_error, last_status, gone, active, created)"
		" VALUES"
		" (1, 'fine', 'https://a/', '\"e1\"', 100, 100, 4000, 0, NULL, 200, 0, 1, 1),"
		" (2, 'broken', 'https://b/', NULL, 200, 50, 5000, 3, 'HTTP 500', 500, 0, 1, 1),"
		" (3, 'dead', 'https://c/', NULL, 300, 10, NULL, 1, 'HTTP 410', 410, 1, 1, 1),"
		" (4, 'fresh', 'https://d/', NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, 1, 1),"
		" (5, 'retired', 'https://e/', NULL, 100, 100, 6000, 0, NULL, 200, 0, 0, 1);"
		"INSERT INTO articles(feed_id, key, link, canon_link, title, summary,"
		" text, hash, sort_time, first_seen, last_changed) VALUES"
		" (1, 'k1', 'https://x/1', 'https://x/1', 'Aquarium news',"
		"  '<p>Only in the <b>summ</b>ary: <a href=\"https://tracker.example/\">"
		"zebrafish</a> &amp; caf&#233;s</p>',"
		"  'The body says something else.', 'h1', 5, 5, 5),"
		" (1, 'k2', 'https://x/2', 'https://x/2', 'Plain',"
		"  '<p>Same words</p>', 'Same  words', 'h2', 6, 6, 6),"
		" (2, 'k3', 'https://x/3', 'https://x/3', 'Broken one', NULL,"
		"  'gamma', 'h3', 7, 7, 7);"
		"INSERT INTO changes(article_id, feed_id, kind, at) VALUES (1, 1, 'new', 5);"
		"PRAGMA user_version = 2;", NULL, NULL, NULL), 0);
	sqlite3_close(db);

	struct store *st = open_store(false);
	REQUIRE(st);
	CHECK_INT_EQ(q_int(st, "PRAGMA user_version"), store_schema_version());
	CHECK_INT_EQ(store_schema_version(), 6);
	/* Version 6's tables, empty. */
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM hook_state"), 0);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM rule_counts"), 0);
	/* State kept. */
	struct store_feed_state f;
	REQUIRE(store_feed_get(st, "fine", &f) == 0);
	CHECK_STR_EQ(f.etag, "\"e1\"");
	CHECK_INT_EQ(f.next_due, 4000);
	CHECK_INT_EQ(f.last_success, 100);
	CHECK(f.enabled && f.active && !f.malformed);
	CHECK_NULL(f.tags);
	CHECK_NULL(f.last_warning);
	CHECK_STR_EQ(f.status, "ok");
	store_feed_state_cleanup(&f);
	REQUIRE(store_feed_get(st, "broken", &f) == 0);
	CHECK_INT_EQ(f.failures, 3);
	CHECK_STR_EQ(f.last_error, "HTTP 500");
	store_feed_state_cleanup(&f);
	check_status(st, "broken", "failing");
	check_status(st, "dead", "gone");
	check_status(st, "fresh", "new");
	check_status(st, "retired", "removed");
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles_v1"), 3);
	CHECK_INT_EQ(q_int(st, "SELECT max(seq) FROM changes_v1"), 1);
	/* The old article's summary is searchable, as text. */
	CHECK_INT_EQ(q_int(st, "SELECT rowid FROM articles_fts"
		" WHERE articles_fts MATCH 'zebrafish'"), 1);
	CHECK_INT_EQ(q_int(st, "SELECT rowid FROM articles_fts"
		" WHERE articles_fts MATCH 'summary'"), 1);
	CHECK_INT_EQ(q_int(st, "SELECT rowid FROM articles_fts"
		" WHERE articles_fts MATCH 'cafes'"), 1);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles_fts"
		" WHERE articles_fts MATCH 'tracker OR href OR amp'"), 0);
	/* Title and text as before. */
	CHECK_INT_EQ(q_int(st, "SELECT rowid FROM articles_fts"
		" WHERE articles_fts MATCH 'gamma'"), 3);
	CHECK_INT_EQ(q_int(st, "SELECT rowid FROM articles_fts"
		" WHERE articles_fts MATCH 'aquarium'"), 1);
	/* A summary that reads as its text adds nothing. */
	CHECK_STR_EQ(q_text(st, "SELECT coalesce(summary_text, 'NULL')"
		" FROM articles WHERE key = 'k2'"), "NULL");
	CHECK_INT_EQ(q_int(st, "SELECT rowid FROM articles_fts"
		" WHERE articles_fts MATCH 'same'"), 2);
	/* Through the API: the snippet comes from the summary, the only
	 * column that matches. */
	struct titles t = { "", 0 };
	CHECK_INT_EQ(store_search_query(st, "zebrafish", NULL, collect_snippets,
		&t), 0);
	CHECK_STR_EQ(t.s, "Only in the summary: [zebrafish] & cafés");
	/* The upgraded file takes new articles, indexed alike. */
	struct store_article a = { .guid = "n1", .title = "New one",
		.summary = "<p>okapi</p>", .content = "<p>Body</p>", .text = "Body" };
	CHECK_INT_EQ(refresh(st, 1, &a, 1), 0);
	CHECK_STR_EQ(search_titles(st, "okapi", NULL, 0), "New one");
	store_close(st);

	/* A reader opens it. */
	st = open_store(true);
	REQUIRE(st);
	CHECK_STR_EQ(feed_col(st, "status", "fresh"), "new");
	store_close(st);
	st = open_store(false);
	finish(st);
}

/*
 * A file at version 3 (its summaries indexed as HTML) is re-indexed: the
 * summary's words are found, its markup and link targets no longer.
 */
static void
t_migration_from_v3(void)
{
	TEST_SQLITE_ONLY("PostgreSQL databases start at version 6");
	fresh_path();
	sqlite3 *db;
	REQUIRE(sqlite3_open(dbpath, &db) == SQLITE_OK);
	CHECK_INT_EQ(sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL), 0);
	for (int i = 0; i < 3; i++)
		CHECK_INT_EQ(sqlite3_exec(db, store__migrations[i], NULL, NULL,
			NULL), 0);
	CHECK_INT_EQ(sqlite3_exec(db,
		"INSERT INTO feeds(id, name, url, created, last_attempt, tags,"
		" malformed, last_warning) VALUES"
		" (1, 'a', 'https://a/', 1, 10, 'news,tech', 1, 'line 2: junk');"
		"INSERT INTO articles(feed_id, key, title, summary, text, hash,"
		" sort_time, first_seen, last_changed) VALUES"
		" (1, 'k1', 'One', '<p><strong>narwhal</strong> <a href="
		"\"https://tracker.example/\">tusk</a></p>', 'Body.', 'h', 5, 5, 5);"
		"PRAGMA user_version = 3;", NULL, NULL, NULL), 0);
	/* Version 3 indexed the markup. */
	sqlite3_stmt *s = NULL;
	REQUIRE(sqlite3_prepare_v2(db, "SELECT count(*) FROM articles_fts"
		" WHERE articles_fts MATCH 'tracker'", -1, &s, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) == 1);
	sqlite3_finalize(s);
	sqlite3_close(db);

	struct store *st = open_store(false);
	REQUIRE(st);
	CHECK_INT_EQ(q_int(st, "PRAGMA user_version"), store_schema_version());
	CHECK_STR_EQ(search_titles(st, "narwhal", NULL, 0), "One");
	CHECK_STR_EQ(search_titles(st, "tusk", NULL, 0), "One");
	CHECK_STR_EQ(search_titles(st, "tracker OR strong OR href", NULL, 0), "");
	struct titles t = { "", 0 };
	CHECK_INT_EQ(store_search_query(st, "narwhal", NULL, collect_snippets,
		&t), 0);
	CHECK_STR_EQ(t.s, "[narwhal] tusk");
	/* The v3 state stays. */
	check_status(st, "a", "malformed");
	CHECK_STR_EQ(feed_col(st, "last_warning", "a"), "line 2: junk");
	CHECK_STR_EQ(feed_col(st, "tags", "a"), "news,tech");
	finish(st);
}

/* --- status --------------------------------------------------------- */

static void
t_status_words(void)
{
	struct store *st = fresh();
	REQUIRE(st);
	const char *names[] = { "new", "ok", "failing", "malformed", "gone",
		"removed", "disabled" };
	int64_t id[7];

	for (int i = 0; i < 7; i++) {
		struct store_feed_conf c = { .name = names[i],
			.url = "https://example.org/f" };
		id[i] = ensure(st, &c);
	}
	/* Never attempted: "new" (with or without a planned first fetch). */
	CHECK_INT_EQ(store_feed_set_due(st, id[0], fake_now + 5), 0);
	struct store_feed_result ok = { .attempt = fake_now, .ok = true,
		.http_status = 200, .next_due = fake_now + 60, .document = true };
	CHECK_INT_EQ(store_feed_record(st, id[1], &ok), 0);
	struct store_feed_result fail = { .attempt = fake_now, .ok = false,
		.error = "connection refused", .next_due = fake_now + 60,
		.failures = 1 };
	CHECK_INT_EQ(store_feed_record(st, id[2], &fail), 0);
	struct store_feed_result bad = { .attempt = fake_now, .ok = false,
		.http_status = 200, .error = "not a feed", .next_due = fake_now + 60,
		.failures = 1, .document = true, .malformed = true,
		.warning = "line 3: unclosed element" };
	CHECK_INT_EQ(store_feed_record(st, id[3], &bad), 0);
	struct store_feed_result gone = { .attempt = fake_now, .ok = false,
		.http_status = 410, .error = "HTTP 410", .failures = 1,
		.gone = true };
	CHECK_INT_EQ(store_feed_record(st, id[4], &gone), 0);
	CHECK_INT_EQ(store_feed_record(st, id[5], &ok), 0);
	CHECK_INT_EQ(store_feed_disable(st, "removed"), 0);
	struct store_feed_conf dis = { .name = "disabled",
		.url = "https://example.org/f", .disabled = true };
	ensure(st, &dis);
	for (int i = 0; i < 7; i++)
		check_status(st, names[i], names[i]);

	/* Precedence: a gone feed that is also malformed and failing reads
	 * "gone"; removed beats gone; disabled beats removed. */
	CHECK_INT_EQ(store_feed_record(st, id[4], &bad), 0);
	CHECK_INT_EQ(store__exec(st, "UPDATE feeds SET gone = 1 WHERE name ="
		" 'gone'"), 0);
	check_status(st, "gone", "gone");
	CHECK_INT_EQ(store_feed_disable(st, "gone"), 0);
	check_status(st, "gone", "removed");
	struct store_feed_conf gd = { .name = "gone",
		.url = "https://example.org/f", .disabled = true };
	ensure(st, &gd);
	check_status(st, "gone", "disabled");
	/* Malformed beats failing: the parse failure is the cause. */
	check_status(st, "malformed", "malformed");
	/* The daemon's list carries the same word. */
	struct store_feed_state g;
	REQUIRE(store_feed_get(st, "failing", &g) == 0);
	CHECK_STR_EQ(g.status, "failing");
	store_feed_state_cleanup(&g);
	finish(st);
}

/* Set from a new document, kept on 304 and on a fetch failure. */
static void
t_malformed_set_keep(void)
{
	struct store *st = fresh();
	REQUIRE(st);
	struct store_feed_conf c = { .name = "f", .url = "https://example.org/f" };
	int64_t id = ensure(st, &c);
	struct store_feed_state s;

	/* Parsed with recovered errors: ok, articles stored, but flagged. */
	struct store_feed_result rec = { .attempt = 10, .ok = true,
		.http_status = 200, .next_due = 100, .document = true,
		.malformed = true, .warning = "line 7: invalid character" };
	struct store_refresh *r = NULL;
	struct store_article a = { .guid = "1", .title = "T", .text = "x" };
	REQUIRE(store_refresh_begin(st, id, &r) == 0);
	CHECK_INT_EQ(store_refresh_put(r, &a, NULL, NULL), 0);
	CHECK_INT_EQ(store_refresh_commit(r, &rec, NULL), 0);
	REQUIRE(store_feed_get(st, "f", &s) == 0);
	CHECK(s.malformed);
	CHECK_STR_EQ(s.last_warning, "line 7: invalid character");
	CHECK_STR_EQ(s.status, "malformed");
	store_feed_state_cleanup(&s);
	CHECK_STR_EQ(feed_col(st, "last_warning", "f"), "line 7: invalid character");

	/* 304: no document, both kept. */
	struct store_feed_result nm = { .attempt = 20, .ok = true,
		.not_modified = true, .http_status = 304, .next_due = 200 };
	CHECK_INT_EQ(store_feed_record(st, id, &nm), 0);
	REQUIRE(store_feed_get(st, "f", &s) == 0);
	CHECK(s.malformed);
	CHECK_STR_EQ(s.last_warning, "line 7: invalid character");
	CHECK_INT_EQ(s.last_attempt, 20);
	store_feed_state_cleanup(&s);

	/* A fetch failure: no document, both kept (even with a warning in
	 * the result: document decides). */
	struct store_feed_result ff = { .attempt = 30, .ok = false,
		.error = "timed out", .failures = 1, .next_due = 300,
		.warning = "ignored" };
	CHECK_INT_EQ(store_feed_record(st, id, &ff), 0);
	REQUIRE(store_feed_get(st, "f", &s) == 0);
	CHECK(s.malformed);
	CHECK_STR_EQ(s.last_warning, "line 7: invalid character");
	CHECK_STR_EQ(s.last_error, "timed out");
	CHECK_STR_EQ(s.status, "malformed");
	store_feed_state_cleanup(&s);

	/* A new clean document clears both: status follows the failures. */
	struct store_feed_result clean = { .attempt = 40, .ok = true,
		.http_status = 200, .next_due = 400, .document = true };
	CHECK_INT_EQ(store_feed_record(st, id, &clean), 0);
	REQUIRE(store_feed_get(st, "f", &s) == 0);
	CHECK(!s.malformed);
	CHECK_NULL(s.last_warning);
	CHECK_STR_EQ(s.status, "ok");
	store_feed_state_cleanup(&s);
	CHECK_STR_EQ(feed_col(st, "coalesce(last_warning, 'NULL')", "f"), "NULL");

	/* A document that does not parse at all sets them too. */
	struct store_feed_result pf = { .attempt = 50, .ok = false,
		.http_status = 200, .error = "not a feed", .failures = 1,
		.next_due = 500, .document = true, .malformed = true,
		.warning = "line 1: document is empty" };
	CHECK_INT_EQ(store_feed_record(st, id, &pf), 0);
	check_status(st, "f", "malformed");
	CHECK_STR_EQ(feed_col(st, "last_warning", "f"), "line 1: document is empty");
	finish(st);
}

/* --- tags ----------------------------------------------------------- */

static void
t_tag_filter(void)
{
	struct store *st = fresh();
	REQUIRE(st);
	int64_t fa = feed_tags(st, "a", " news , tech,,"),
		fb = feed_tags(st, "b", "newsletter"),
		fc = feed_tags(st, "c", "tech,news-daily,News"),
		fd = feed_tags(st, "d", NULL),
		fe = feed_tags(st, "e", " , ");
	CHECK_STR_EQ(feed_col(st, "tags", "a"), "news,tech");
	CHECK_STR_EQ(feed_col(st, "tags", "c"), "tech,news-daily,News");
	CHECK_STR_EQ(feed_col(st, "coalesce(tags, 'NULL')", "d"), "NULL");
	CHECK_STR_EQ(feed_col(st, "coalesce(tags, 'NULL')", "e"), "NULL");
	struct store_article a[5] = {
		{ .guid = "1", .title = "A", .published = "2023-11-10T00:00:00Z", .text = "common" },
		{ .guid = "2", .title = "B", .published = "2023-11-11T00:00:00Z", .text = "common" },
		{ .guid = "3", .title = "C", .published = "2023-11-12T00:00:00Z", .text = "common" },
		{ .guid = "4", .title = "D", .published = "2023-11-13T00:00:00Z", .text = "common" },
		{ .guid = "5", .title = "E", .published = "2023-11-14T00:00:00Z", .text = "common" },
	};
	int64_t fids[5] = { fa, fb, fc, fd, fe };
	for (int i = 0; i < 5; i++)
		CHECK_INT_EQ(refresh(st, fids[i], &a[i], 1), 0);

	struct store_query q = { .tag = "news" };
	CHECK_STR_EQ(query_titles(st, &q, 0), "A");
	q.tag = "newsletter";
	CHECK_STR_EQ(query_titles(st, &q, 0), "B");
	q.tag = "tech";
	CHECK_STR_EQ(query_titles(st, &q, 0), "C,A");
	q.tag = "News";
	CHECK_STR_EQ(query_titles(st, &q, 0), "C");
	q.tag = "news-daily";
	CHECK_STR_EQ(query_titles(st, &q, 0), "C");
	/* Not a pattern, not a prefix, not a part. */
	q.tag = "new";
	CHECK_STR_EQ(query_titles(st, &q, 0), "");
	q.tag = "%";
	CHECK_STR_EQ(query_titles(st, &q, 0), "");
	q.tag = "news,tech";
	CHECK_STR_EQ(query_titles(st, &q, 0), "");
	q.tag = "";
	CHECK_STR_EQ(query_titles(st, &q, 0), "");
	/* An unknown tag matches nothing, without an error. */
	q.tag = "nosuch";
	CHECK_STR_EQ(query_titles(st, &q, 0), "");
	/* With a feed: both must hold; an unknown feed is still -ENOENT. */
	q = (struct store_query){ .tag = "tech", .feed = "c" };
	CHECK_STR_EQ(query_titles(st, &q, 0), "C");
	q.feed = "b";
	CHECK_STR_EQ(query_titles(st, &q, 0), "");
	q.feed = "missing";
	query_titles(st, &q, -ENOENT);
	/* With since and limit. */
	q = (struct store_query){ .tag = "tech", .since = 1699747200 /* 11-12 */ };
	CHECK_STR_EQ(query_titles(st, &q, 0), "C");
	q = (struct store_query){ .tag = "tech", .limit = 1, .oldest_first = true };
	CHECK_STR_EQ(query_titles(st, &q, 0), "A");
	/* Rows carry the feed's tags; articles_v1 too. */
	struct titles t = { "", 0 };
	CHECK_INT_EQ(store_articles_query(st, NULL, collect_tags, &t), 0);
	CHECK_STR_EQ(t.s, "E=(null),D=(null),C=tech,news-daily,News,B=newsletter,"
		"A=news,tech");
	CHECK_STR_EQ(q_text(st, "SELECT tags FROM articles_v1 WHERE title = 'A'"),
		"news,tech");
	/* New tags in the config replace the old ones at once. */
	feed_tags(st, "a", "sport");
	q = (struct store_query){ .tag = "news" };
	CHECK_STR_EQ(query_titles(st, &q, 0), "");
	q.tag = "sport";
	CHECK_STR_EQ(query_titles(st, &q, 0), "A");
	feed_tags(st, "a", NULL);
	CHECK_STR_EQ(query_titles(st, &q, 0), "");
	finish(st);
}

/* --- search --------------------------------------------------------- */

static void
t_search_filters(void)
{
	struct store *st = fresh();
	REQUIRE(st);
	int64_t fa = feed_tags(st, "a", "news"), fb = feed_tags(st, "b", "tech"),
		fc = feed_tags(st, "c", "newsletter");
	struct store_article aa[2] = {
		{ .guid = "1", .title = "Rust release", .published = "2023-11-10T00:00:00Z",
		  .summary = "<p>The <em>borrow</em> checker</p>",
		  .content = "<p>The compiler got faster.</p>",
		  .text = "The compiler got faster." },
		{ .guid = "2", .title = "Kernel", .published = "2023-11-12T00:00:00Z",
		  .text = "A scheduler, and rust drivers." },
	};
	struct store_article ab = { .guid = "3", .title = "Rust in tech",
		.published = "2023-11-13T00:00:00Z", .text = "Rust everywhere." };
	struct store_article ac = { .guid = "4", .title = "Weekly letter",
		.published = "2023-11-14T00:00:00Z", .text = "rust and more" };
	CHECK_INT_EQ(refresh(st, fa, aa, 2), 0);
	CHECK_INT_EQ(refresh(st, fb, &ab, 1), 0);
	CHECK_INT_EQ(refresh(st, fc, &ac, 1), 0);

	/* Everything; limit; the wrapper. */
	CHECK_INT_EQ(strlen(search_titles(st, "rust", NULL, 0)) > 0, 1);
	struct titles t = { "", 0 };
	CHECK_INT_EQ(store_search(st, "rust", 0, collect_titles, &t), 0);
	CHECK_INT_EQ(t.n, 4);
	struct store_query q = { .limit = 2 };
	memset(&t, 0, sizeof(t));
	CHECK_INT_EQ(store_search_query(st, "rust", &q, collect_titles, &t), 0);
	CHECK_INT_EQ(t.n, 2);
	/* By feed. */
	q = (struct store_query){ .feed = "a" };
	memset(&t, 0, sizeof(t));
	CHECK_INT_EQ(store_search_query(st, "rust", &q, collect_titles, &t), 0);
	CHECK_INT_EQ(t.n, 2);
	CHECK(strstr(t.s, "Rust release") && strstr(t.s, "Kernel"));
	q.feed = "missing";
	search_titles(st, "rust", &q, -ENOENT);
	CHECK(strstr(store_errmsg(st), "missing") != NULL);
	/* By tag, whole tags only. */
	q = (struct store_query){ .tag = "news" };
	memset(&t, 0, sizeof(t));
	CHECK_INT_EQ(store_search_query(st, "rust", &q, collect_titles, &t), 0);
	CHECK_INT_EQ(t.n, 2);
	CHECK(strstr(t.s, "Weekly letter") == NULL);
	q.tag = "newsletter";
	CHECK_STR_EQ(search_titles(st, "rust", &q, 0), "Weekly letter");
	q.tag = "nosuch";
	CHECK_STR_EQ(search_titles(st, "rust", &q, 0), "");
	/* By time. */
	q = (struct store_query){ .since = 1699833600 /* 11-13 */ };
	memset(&t, 0, sizeof(t));
	CHECK_INT_EQ(store_search_query(st, "rust", &q, collect_titles, &t), 0);
	CHECK_INT_EQ(t.n, 2);
	CHECK(strstr(t.s, "Rust in tech") && strstr(t.s, "Weekly letter"));
	q = (struct store_query){ .since = 1699833600, .tag = "tech", .feed = "b" };
	CHECK_STR_EQ(search_titles(st, "rust", &q, 0), "Rust in tech");
	q.feed = "a";
	CHECK_STR_EQ(search_titles(st, "rust", &q, 0), "");

	/* A word only in the summary (as text: the markup is gone). */
	CHECK_STR_EQ(search_titles(st, "borrow", NULL, 0), "Rust release");
	CHECK_STR_EQ(search_titles(st, "em", NULL, 0), "");
	memset(&t, 0, sizeof(t));
	CHECK_INT_EQ(store_search_query(st, "borrow", NULL, collect_snippets, &t), 0);
	CHECK_STR_EQ(t.s, "The [borrow] checker");
	/* Text and summary both match: the text's snippet. */
	memset(&t, 0, sizeof(t));
	CHECK_INT_EQ(store_search_query(st, "compiler OR checker", NULL,
		collect_snippets, &t), 0);
	CHECK_STR_EQ(t.s, "The [compiler] got faster.");
	/* A bad query. */
	search_titles(st, "\"unbalanced", NULL, -EINVAL);
	CHECK(strstr(store_errmsg(st), "bad search query") != NULL);

	/* An edit of the summary alone re-indexes it: the old word goes,
	 * the new one comes. */
	aa[0].summary = "<p>The <em>lifetime</em> checker</p>";
	CHECK_INT_EQ(refresh(st, fa, aa, 2), 0);
	CHECK_INT_EQ(q_int(st, "SELECT revision FROM articles_v1 WHERE guid = '1'"), 2);
	CHECK_STR_EQ(search_titles(st, "borrow", NULL, 0), "");
	CHECK_STR_EQ(search_titles(st, "lifetime", NULL, 0), "Rust release");
	/* Markup alone changing leaves the index (same plain text). */
	aa[0].summary = "<p>The <strong>lifetime</strong> checker</p>";
	CHECK_INT_EQ(refresh(st, fa, aa, 2), 0);
	CHECK_INT_EQ(q_int(st, "SELECT revision FROM articles_v1 WHERE guid = '1'"), 3);
	CHECK_STR_EQ(search_titles(st, "lifetime", NULL, 0), "Rust release");
	/* Another writer (sqlite3 with the schema's triggers; psql, where
	 * the index is a generated column) keeps the index right too. */
	if (test_store_pg()) {
		CHECK_INT_EQ(test_pg_run(dbpath, "UPDATE feedd.articles SET"
			" summary_text = 'walrus' WHERE guid = '2';"
			" DELETE FROM feedd.articles WHERE guid = '4'"), 0);
	} else {
		sqlite3 *db;
		REQUIRE(sqlite3_open(dbpath, &db) == SQLITE_OK);
		CHECK_INT_EQ(sqlite3_exec(db, "UPDATE articles SET summary_text ="
			" 'walrus' WHERE guid = '2'; DELETE FROM articles"
			" WHERE guid = '4';", NULL, NULL, NULL), 0);
		sqlite3_close(db);
	}
	CHECK_STR_EQ(search_titles(st, "walrus", NULL, 0), "Kernel");
	CHECK_STR_EQ(search_titles(st, "weekly", NULL, 0), "");
	finish(st);
}

/* The summary's plain text, as the index gets it. */
static void
t_summary_text(void)
{
	static const struct {
		const char *summary, *text, *want;
	} cases[] = {
		{ "<p>a <b>bo</b>ld <a href=\"https://t.example/x\">link</a></p>"
		  "<p>next</p>", NULL, "a bold link next" },
		{ "x<br>y<!-- c > d -->z", NULL, "x y z" },
		{ "&lt;tag&gt; &amp; &quot;q&quot; &#233;&#xE9; &bogus; &#0;",
		  NULL, "<tag> & \"q\" éé &bogus; &#0;" },
		{ "a&nbsp;&nbsp;b", NULL, "a b" },
		{ "  <p>  </p> ", NULL, NULL },
		{ "<p>Same\n words</p>", "Same words", NULL },
		{ "<p>Same words</p>", "Same words and more", "Same words" },
		{ "unclosed <b", NULL, "unclosed" },
		{ NULL, "t", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int err = 0;
		char *got = store__summary_text(cases[i].summary, cases[i].text,
			&err);
		CHECK_INT_EQ(err, 0);
		if (cases[i].want)
			CHECK_STR_EQ(got, cases[i].want);
		else
			CHECK_NULL(got);
		store__free(got);
	}
}

/* --- scheduling, config ---------------------------------------------- */

static void
t_set_due(void)
{
	struct store *st = fresh();
	REQUIRE(st);
	struct store_feed_conf c = { .name = "f", .url = "https://example.org/f" };
	int64_t id = ensure(st, &c);
	const char *row = test_sql(
		"SELECT quote(name) || quote(url) || quote(last_attempt)"
		" || quote(last_success) || quote(failures) || quote(etag) ||"
		" quote(enabled) || quote(active) || quote(malformed) FROM feeds",
		"SELECT quote_nullable(name) || quote_nullable(url) ||"
		" quote_nullable(last_attempt) || quote_nullable(last_success) ||"
		" quote_nullable(failures) || quote_nullable(etag) ||"
		" quote_nullable(enabled) || quote_nullable(active) ||"
		" quote_nullable(malformed) FROM feeds");
	char before[512];
	snprintf(before, sizeof(before), "%s", q_text(st, row));
	int64_t writes = store_write_count(st);

	CHECK_INT_EQ(store_feed_set_due(st, id, fake_now + 7), 0);
	CHECK_INT_EQ(store_write_count(st), writes + 1);
	CHECK_STR_EQ(q_text(st, row), before);
	struct store_feed_state s;
	REQUIRE(store_feed_get(st, "f", &s) == 0);
	CHECK_INT_EQ(s.next_due, fake_now + 7);
	CHECK_INT_EQ(s.last_attempt, 0);
	CHECK_STR_EQ(s.status, "new");
	store_feed_state_cleanup(&s);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM changes_v1"), 0);
	CHECK_INT_EQ(store_feed_set_due(st, id + 100, 1), -ENOENT);
	CHECK(strstr(store_errmsg(st), "no feed") != NULL);

	/* In a group: one unit, durable with the group. */
	REQUIRE(store_group_begin(st) == 0);
	CHECK_INT_EQ(store_feed_set_due(st, id, fake_now + 9), 0);
	CHECK_INT_EQ(store_feed_set_due(st, id + 100, 1), -ENOENT);
	CHECK_INT_EQ(store_group_commit(st), 0);
	CHECK_INT_EQ(q_int(st, "SELECT next_due FROM feeds_v1"), fake_now + 9);
	REQUIRE(store_group_begin(st) == 0);
	CHECK_INT_EQ(store_feed_set_due(st, id, 1), 0);
	store_group_abort(st);
	CHECK_INT_EQ(q_int(st, "SELECT next_due FROM feeds_v1"), fake_now + 9);
	store_close(st);

	/* Read-only: refused. */
	st = open_store(true);
	REQUIRE(st);
	CHECK(store_feed_set_due(st, id, 1) < 0);
	store_close(st);
	st = open_store(false);
	finish(st);
}

static void
t_disabled_vs_removed(void)
{
	struct store *st = fresh();
	REQUIRE(st);
	struct store_feed_conf c = { .name = "f", .url = "https://example.org/f",
		.disabled = true, .title = "My feed", .site = "https://example.org/",
		.tags = "a" };
	int64_t id = ensure(st, &c);
	struct store_feed_state s;

	REQUIRE(store_feed_get(st, "f", &s) == 0);
	CHECK(!s.enabled);
	CHECK(!s.active);
	CHECK_STR_EQ(s.status, "disabled");
	CHECK_STR_EQ(s.conf_title, "My feed");
	CHECK_STR_EQ(s.conf_site, "https://example.org/");
	CHECK_STR_EQ(s.tags, "a");
	store_feed_state_cleanup(&s);
	CHECK_STR_EQ(feed_col(st, "CAST(enabled AS TEXT) || CAST(active AS TEXT)", "f"), "00");
	CHECK_STR_EQ(feed_col(st, "conf_title", "f"), "My feed");
	CHECK_STR_EQ(feed_col(st, "conf_site", "f"), "https://example.org/");

	/* The same config again writes nothing. */
	int64_t writes = store_write_count(st);
	CHECK_INT_EQ(ensure(st, &c), id);
	CHECK_INT_EQ(store_write_count(st), writes);

	/* Enabled in the config again: polled, state as it was. */
	c.disabled = false;
	ensure(st, &c);
	CHECK_STR_EQ(feed_col(st, "CAST(enabled AS TEXT) || CAST(active AS TEXT)", "f"), "11");
	check_status(st, "f", "new");
	struct store_feed_result ok = { .attempt = fake_now, .ok = true,
		.http_status = 200, .next_due = fake_now + 60, .document = true };
	CHECK_INT_EQ(store_feed_record(st, id, &ok), 0);
	check_status(st, "f", "ok");

	/* Removed from the config: "removed", not "disabled". */
	CHECK_INT_EQ(store_feed_disable(st, "f"), 0);
	CHECK_STR_EQ(feed_col(st, "CAST(enabled AS TEXT) || CAST(active AS TEXT)", "f"), "10");
	check_status(st, "f", "removed");
	/* A disabled feed that is then removed reads "removed" too. */
	c.disabled = true;
	ensure(st, &c);
	check_status(st, "f", "disabled");
	CHECK_INT_EQ(store_feed_disable(st, "f"), 0);
	check_status(st, "f", "removed");
	/* Back in the config, enabled: its old state shows through. */
	c.disabled = false;
	c.title = NULL;
	c.site = NULL;
	ensure(st, &c);
	check_status(st, "f", "ok");
	CHECK_STR_EQ(feed_col(st, "coalesce(conf_title, 'NULL')", "f"), "NULL");
	CHECK_INT_EQ(store_feed_disable(st, "nosuch"), -ENOENT);
	finish(st);
}

static const struct check_case cases[] = {
	{ "migration_from_v2", t_migration_from_v2 },
	{ "migration_from_v3", t_migration_from_v3 },
	{ "status_words", t_status_words },
	{ "malformed_set_keep", t_malformed_set_keep },
	{ "tag_filter", t_tag_filter },
	{ "search_filters", t_search_filters },
	{ "summary_text", t_summary_text },
	{ "set_due", t_set_due },
	{ "disabled_vs_removed", t_disabled_vs_removed },
	{ 0 },
};

int
main(int argc, char **argv)
{
	return check_main(argc, argv, cases);
}
