/*
 * store/: schema, migrations, deduplication and update rules, retention,
 * change log, cross-feed links, reader views, read API, error paths.
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
#include <sys/stat.h>
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
	snprintf(dir, sizeof(dir), "/tmp/feedd-test-store-XXXXXX");
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
open_rw(const struct store_opts *o)
{
	struct store_opts def = { .clock = clock_cb };
	struct store *st = NULL;
	char err[512];
	int rc = store_open(&st, dbpath, o ? o : &def, err, sizeof(err));

	if (rc < 0)
		fprintf(stderr, "store_open: %s\n", err);
	return st;
}

static struct store *
fresh(void)
{
	fake_now = 1700000000;
	fresh_path();
	return open_rw(NULL);
}

static void
finish(struct store *st)
{
	/* Whatever the case did, the full-text index matches the articles
	 * (rank 1: also against the content table). */
	if (st && !st->readonly && !test_store_pg())
		CHECK_INT_EQ(store__exec(st, "INSERT INTO articles_fts(articles_fts,"
			" rank) VALUES ('integrity-check', 1)"), 0);
	store_close(st);
	remove_dir();
}

static int64_t
feed(struct store *st, const char *name, int keep_days, int keep_count)
{
	struct store_feed_conf c = { .name = name, .url = "https://example.org/feed.xml", .keep_days = keep_days, .keep_count = keep_count };
	int64_t id = 0;

	CHECK_INT_EQ(store_feed_ensure(st, &c, &id), 0);
	return id;
}

/* Store a whole document; outcomes and ids per entry when wanted. */
static int
refresh(struct store *st, int64_t fid, const struct store_article *a, size_t n,
	enum store_put_outcome *oc, int64_t *ids, struct store_refresh_stats *stats)
{
	struct store_refresh *r = NULL;
	struct store_feed_result res = { .attempt = fake_now, .ok = true,
		.http_status = 200, .next_due = fake_now + 3600 };
	int rc = store_refresh_begin(st, fid, &r);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		enum store_put_outcome o;
		int64_t id = 0;
		rc = store_refresh_put(r, &a[i], &o, &id);
		if (rc < 0)
			break;
		if (oc)
			oc[i] = o;
		if (ids)
			ids[i] = id;
	}
	return store_refresh_commit(r, &res, stats);
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

static char qbuf[1024];
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

/* Articles the full-text index finds for one word. */
static int64_t
fts_count(struct store *st, const char *word)
{
	char sql[256];

	if (test_store_pg())
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM articles WHERE"
			" fts @@ to_tsquery('simple', '%s')", word);
	else
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM articles_fts"
			" WHERE articles_fts MATCH '%s'", word);
	return q_int(st, sql);
}

/* SQLite's own check of the file; PostgreSQL has no such statement. */
static void
check_integrity(struct store *st)
{
	if (!test_store_pg())
		CHECK_STR_EQ(q_text(st, "PRAGMA integrity_check"), "ok");
}

/* --- schema and open --------------------------------------------------- */

static void
t_open_pragmas(void)
{
	TEST_SQLITE_ONLY("PRAGMAs and the kept -wal and -shm files");
	struct store *st = fresh();
	REQUIRE(st);
	CHECK_STR_EQ(q_text(st, "PRAGMA journal_mode"), "wal");
	CHECK_INT_EQ(q_int(st, "PRAGMA user_version"), store_schema_version());
	CHECK_INT_EQ(q_int(st, "PRAGMA synchronous"), 2); /* FULL */
	CHECK_INT_EQ(q_int(st, "PRAGMA busy_timeout"), 5000);
	/* The writer's statement journals in memory, its page cache 16 MiB. */
	CHECK_INT_EQ(q_int(st, "PRAGMA temp_store"), 2);
	CHECK_INT_EQ(q_int(st, "PRAGMA cache_size"), -16384);
	store_close(st);

	/* The option switches to NORMAL; the WAL files persist on close. */
	struct store_opts o = { .sync_normal = true, .busy_timeout_ms = 1234 };
	st = open_rw(&o);
	REQUIRE(st);
	CHECK_INT_EQ(q_int(st, "PRAGMA synchronous"), 1);
	CHECK_INT_EQ(q_int(st, "PRAGMA busy_timeout"), 1234);
	store_close(st);
	char p[1300];
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	CHECK(access(p, F_OK) == 0);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	CHECK(access(p, F_OK) == 0);
	remove_dir();
}

static void
t_newer_schema_refused(void)
{
	struct store *st = fresh();
	REQUIRE(st);
	CHECK_INT_EQ(store__exec(st, test_sql("PRAGMA user_version = 99",
		"UPDATE feedd.schema_version SET version = 99")), 0);
	store_close(st);
	char err[512] = "";
	struct store *st2 = NULL;
	CHECK_INT_EQ(store_open(&st2, dbpath, NULL, err, sizeof(err)), -EPROTO);
	CHECK(st2 == NULL);
	CHECK(strstr(err, "newer") != NULL);
	struct store_opts ro = { .readonly = true };
	CHECK_INT_EQ(store_open(&st2, dbpath, &ro, err, sizeof(err)), -EPROTO);
	CHECK(strstr(err, "newer") != NULL);
	remove_dir();
}

static void
t_not_feedd_db(void)
{
	fresh_path();
	if (test_store_pg()) {
		REQUIRE(test_pg_run(dbpath, "CREATE SCHEMA feedd;"
			" CREATE TABLE feedd.x(a integer)") == 0);
	} else {
		sqlite3 *db;
		REQUIRE(sqlite3_open(dbpath, &db) == SQLITE_OK);
		sqlite3_exec(db, "CREATE TABLE x(a)", NULL, NULL, NULL);
		sqlite3_close(db);
	}
	char err[512] = "";
	struct store *st = NULL;
	CHECK_INT_EQ(store_open(&st, dbpath, NULL, err, sizeof(err)), -EPROTO);
	CHECK(strstr(err, "not a feedd database") != NULL);
	remove_dir();
}

/* The database string picks the driver: "sqlite:PATH" is the file PATH;
 * on PostgreSQL the URI and keyword forms reach the same database,
 * password-file= is read (and its failure named), and no message shows a
 * password. */
static void
t_database_strings(void)
{
	char err[512] = "", alt[1600];
	struct store *st = fresh(), *st2 = NULL;

	REQUIRE(st);
	feed(st, "one", 0, 0);
	store_close(st);
	if (!test_store_pg()) {
		snprintf(alt, sizeof(alt), "sqlite:%s", dbpath);
		CHECK_INT_EQ(store_open(&st2, alt, NULL, err, sizeof(err)), 0);
		REQUIRE(st2);
		CHECK_INT_EQ(q_int(st2, "SELECT count(*) FROM feeds_v1"), 1);
		store_close(st2);
		remove_dir();
		return;
	}
	/* The same database as a URI: postgresql://?dbname=...&host=... */
	{
		char *e = NULL;
		PQconninfoOption *o = PQconninfoParse(dbpath, &e);
		size_t n;

		REQUIRE(o);
		n = (size_t)snprintf(alt, sizeof(alt), "postgresql://?");
		for (PQconninfoOption *p = o; p->keyword; p++)
			if (p->val && n < sizeof(alt))
				n += (size_t)snprintf(alt + n, sizeof(alt) - n,
					"%s%s=%s", alt[n - 1] == '?' ? "" : "&",
					p->keyword, p->val);
		PQconninfoFree(o);
	}
	CHECK_INT_EQ(store_open(&st2, alt, NULL, err, sizeof(err)), 0);
	REQUIRE(st2);
	CHECK_INT_EQ(q_int(st2, "SELECT count(*) FROM feeds_v1"), 1);
	store_close(st2);
	st2 = NULL;
	/* A password file that is not there: named, and the open fails. */
	snprintf(alt, sizeof(alt), "%s password-file=/nonexistent/feedd-pw",
		dbpath);
	CHECK(store_open(&st2, alt, NULL, err, sizeof(err)) < 0);
	CHECK(st2 == NULL);
	CHECK(strstr(err, "/nonexistent/feedd-pw") != NULL);
	/* One that is: read, and the open goes on (the test server trusts
	 * its socket, so any password does). */
	char pwfile[300];
	snprintf(pwfile, sizeof(pwfile), "%s/pw", dir);
	FILE *fp = fopen(pwfile, "w");
	REQUIRE(fp);
	fputs("sekrit-1\n", fp);
	fclose(fp);
	snprintf(alt, sizeof(alt), "%s password-file=%s", dbpath, pwfile);
	CHECK_INT_EQ(store_open(&st2, alt, NULL, err, sizeof(err)), 0);
	store_close(st2);
	st2 = NULL;
	unlink(pwfile);
	/* No server there: the message says where, never the password. */
	CHECK(store_open(&st2, "host=/nonexistent-feedd port=5999 user=u"
		" dbname=d password=sekrit-2", NULL, err, sizeof(err)) < 0);
	CHECK(strstr(err, "/nonexistent-feedd") != NULL);
	CHECK(strstr(err, "5999") != NULL);
	CHECK(strstr(err, "sekrit") == NULL);
	remove_dir();
}

/* PostgreSQL: a server connection that breaks (the backend is
 * terminated) fails that refresh with -ENOTCONN and the server's word,
 * and the next write transaction runs on a new connection, nothing of
 * the stored data lost. */
static void
t_connection_lost(void)
{
	TEST_SQLITE_ONLY_NOT("a connection to a server");
	struct store *st = fresh();
	REQUIRE(st);
	int64_t fid = feed(st, "f", 0, 0);
	struct store_article a = { .guid = "kept", .title = "Kept" };
	struct store_article b = { .guid = "later", .title = "Later" };
	CHECK_INT_EQ(refresh(st, fid, &a, 1, NULL, NULL, NULL), 0);
	unsigned before = st->reconnects;
	char sql[1400];
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(pid)::int FROM"
		" pg_stat_activity WHERE datname = current_database()"
		" AND pid <> pg_backend_pid()");
	CHECK_INT_EQ(test_pg_reader_int(dbpath, sql), 1);
	int rc = refresh(st, fid, &b, 1, NULL, NULL, NULL);
	CHECK_INT_EQ(rc, -ENOTCONN);
	CHECK(strstr(store_errmsg(st), "terminat") != NULL ||
		strstr(store_errmsg(st), "closed") != NULL);
	CHECK_INT_EQ(refresh(st, fid, &b, 1, NULL, NULL, NULL), 0);
	CHECK_INT_EQ(st->reconnects, before + 1);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles_v1"), 2);
	finish(st);
}

/* A database written by the first schema version is upgraded in place,
 * its data kept and the new column backfilled. */
static void
t_migration_from_v1(void)
{
	TEST_SQLITE_ONLY("PostgreSQL databases start at version 6");
	fresh_path();
	sqlite3 *db;
	REQUIRE(sqlite3_open(dbpath, &db) == SQLITE_OK);
	CHECK_INT_EQ(sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL), 0);
	CHECK_INT_EQ(sqlite3_exec(db, store__migrations[0], NULL, NULL, NULL), 0);
	CHECK_INT_EQ(sqlite3_exec(db,
		"INSERT INTO feeds(id, name, url, created) VALUES"
		" (1, 'a', 'https://a/', 1), (2, 'b', 'https://b/', 1);"
		"INSERT INTO articles(feed_id, key, link, canon_link, title, text,"
		" hash, sort_time, first_seen, last_changed) VALUES"
		" (1, 'k1', 'https://x/1', 'https://x/1', 'One', 'alpha', 'h', 5, 5, 5),"
		" (2, 'k2', 'https://X/1#c', 'https://x/1', 'One', 'alpha', 'h', 6, 6, 6),"
		" (2, 'k3', 'https://x/3', 'https://x/3', 'Three', 'gamma', 'h', 7, 7, 7);"
		"INSERT INTO changes(article_id, feed_id, kind, at) VALUES (1, 1, 'new', 5);"
		"PRAGMA user_version = 1;", NULL, NULL, NULL), 0);
	sqlite3_close(db);

	struct store *st = open_rw(NULL);
	REQUIRE(st);
	CHECK_INT_EQ(q_int(st, "PRAGMA user_version"), store_schema_version());
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles_v1"), 3);
	CHECK_INT_EQ(q_int(st, "SELECT story_id FROM articles_v1 WHERE key = 'k2'"), 1);
	CHECK_INT_EQ(q_int(st, "SELECT story_id FROM articles_v1 WHERE key = 'k3'"), 3);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM feeds_v1 WHERE active = 1"), 2);
	CHECK_INT_EQ(q_int(st, "SELECT max(seq) FROM changes_v1"), 1);
	/* FTS from v1 still in step after the upgrade. */
	CHECK_INT_EQ(fts_count(st, "gamma"), 1);
	/* And the upgraded file takes new articles that join old stories. */
	struct store_article a = { .guid = "n1", .link = "https://x/3?utm_medium=rss", .title = "Three again", .text = "gamma" };
	int64_t id = 0;
	CHECK_INT_EQ(refresh(st, 1, &a, 1, NULL, &id, NULL), 0);
	CHECK(id > 3);
	CHECK_INT_EQ(q_int(st, "SELECT story_id FROM articles_v1 WHERE key = 'n1'"), 3);
	CHECK_INT_EQ(q_int(st, "SELECT max(seq) FROM changes_v1"), 2);
	finish(st);
}

/* The reader contract: the views' columns, in order (SCHEMA.md). */
static void
t_reader_views(void)
{
	static const struct {
		const char *view, *cols;
	} want[] = {
		{ "articles_v1", "id,feed_id,feed,key,guid,link,canonical_link,title,"
			"author,published,updated,summary,content,text,categories,"
			"enclosures,content_hash,sort_time,first_seen,last_changed,"
			"revision,story_id,tags" },
		{ "feeds_v1", "id,name,url,url_in_use,title,site_link,etag,"
			"last_modified,last_attempt,last_success,next_due,failures,"
			"last_error,last_status,gone,keep_days,keep_count,articles,"
			"active,tags,status,last_warning,enabled,conf_title,conf_site" },
		{ "changes_v1", "seq,article_id,feed_id,feed,kind,at" },
	};
	struct store *st = fresh();
	REQUIRE(st);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char sql[256], got[1024] = "";
		sqlite3_stmt *s = NULL;
		if (test_store_pg()) {
			snprintf(sql, sizeof(sql), "SELECT string_agg(column_name,"
				" ',' ORDER BY ordinal_position) FROM"
				" information_schema.columns WHERE table_schema ="
				" 'feedd' AND table_name = '%s'", want[i].view);
			CHECK_STR_EQ(q_text(st, sql), want[i].cols);
			continue;
		}
		snprintf(sql, sizeof(sql), "SELECT name FROM pragma_table_info('%s')",
			want[i].view);
		REQUIRE(sqlite3_prepare_v2(store__sqlite_handle(st), sql, -1, &s,
			NULL) == SQLITE_OK);
		while (sqlite3_step(s) == SQLITE_ROW) {
			if (got[0])
				strcat(got, ",");
			strcat(got, (const char *)sqlite3_column_text(s, 0));
		}
		sqlite3_finalize(s);
		CHECK_STR_EQ(got, want[i].cols);
	}

	/* A read-only reader sees what the writer committed, through them. */
	int64_t fid = feed(st, "lwn", 0, 0);
	struct store_article a = { .guid = "g1", .link = "https://lwn.net/1",
		.title = "Kernel", .author = "J", .published = "2023-11-14T00:00:00Z",
		.summary = "<p>s</p>", .content = "<p>c</p>", .text = "c",
		.categories_json = "[\"k\"]",
		.enclosures_json = "[{\"url\":\"https://lwn.net/a.mp3\"}]" };
	CHECK_INT_EQ(refresh(st, fid, &a, 1, NULL, NULL, NULL), 0);
	struct store_opts ro = { .readonly = true };
	struct store *rd = NULL;
	char err[512];
	REQUIRE(store_open(&rd, dbpath, &ro, err, sizeof(err)) == 0);
	CHECK_STR_EQ(q_text(rd, "SELECT feed || '|' || title || '|' || categories"
		" || '|' || enclosures || '|' || revision FROM articles_v1"),
		"lwn|Kernel|[\"k\"]|[{\"url\":\"https://lwn.net/a.mp3\"}]|1");
	CHECK_INT_EQ(q_int(rd, "SELECT articles FROM feeds_v1 WHERE name = 'lwn'"), 1);
	CHECK_STR_EQ(q_text(rd, "SELECT kind FROM changes_v1"), "new");
	CHECK_INT_EQ(q_int(rd, "SELECT sort_time FROM articles_v1"), 1699920000);
	/* A read-only open cannot write. */
	struct store_refresh *r = NULL;
	CHECK_INT_EQ(store_refresh_begin(rd, fid, &r), -EROFS);
	store_close(rd);
	finish(st);
}

static void
t_readonly_missing(void)
{
	struct store_opts ro = { .readonly = true };
	struct store *st = NULL;
	char err[512] = "";
	CHECK_INT_EQ(store_open(&st, "/nonexistent/feedd/x.db", &ro, err,
		sizeof(err)), -ENOENT);
	CHECK(strstr(err, "/nonexistent/feedd/x.db") != NULL);
}

/* --- deduplication ------------------------------------------------------ */

static void
t_key_trimmed_id(void)
{
	struct store *st = fresh();
	REQUIRE(st);
	int64_t fid = feed(st, "f", 0, 0), id1 = 0, id2 = 0;
	struct store_article a = { .guid = "  urn:x:1\n\t", .title = "T",
		.link = "https://e/1" };
	enum store_put_outcome oc;
	CHECK_INT_EQ(refresh(st, fid, &a, 1, &oc, &id1, NULL), 0);
	CHECK_INT_EQ(oc, STORE_PUT_NEW);
	CHECK_STR_EQ(q_text(st, "SELECT key FROM articles_v1"), "urn:x:1");
	CHECK_STR_EQ(q_text(st, "SELECT guid FROM articles_v1"), "urn:x:1");
	a.guid = "urn:x:1";
	CHECK_INT_EQ(refresh(st, fid, &a, 1, &oc, &id2, NULL), 0);
	CHECK_INT_EQ(oc, STORE_PUT_UNCHANGED);
	CHECK_INT_EQ(id1, id2);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles"), 1);
	finish(st);
}

/* One id repeated for different entries: told apart by link; the first
 * keeps the plain id. */
static void
t_repeated_id_link(void)
{
	struct store *st = fresh();
	REQUIRE(st);
	int64_t fid = feed(st, "f", 0, 0), ids[3], ids2[3];
	struct store_article a[3] = {
		{ .guid = "same", .link = "https://e/1", .title = "One" },
		{ .guid = "same", .link = "https://e/2", .title = "Two" },
		{ .guid = "same", .link = "https://e/3", .title = "Three" },
	};
	enum store_put_outcome oc[3];
	CHECK_INT_EQ(refresh(st, fid, a, 3, oc, ids, NULL), 0);
	for (int i = 0; i < 3; i++)
		CHECK_INT_EQ(oc[i], STORE_PUT_NEW);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles"), 3);
	CHECK_STR_EQ(q_text(st, "SELECT key FROM articles WHERE title = 'One'"), "same");
	CHECK_STR_EQ(q_text(st, "SELECT key FROM articles WHERE title = 'Two'"),
		"same https://e/2");
	CHECK_INT_EQ(refresh(st, fid, a, 3, oc, ids2, NULL), 0);
	for (int i = 0; i < 3; i++) {
		CHECK_INT_EQ(oc[i], STORE_PUT_UNCHANGED);
		CHECK_INT_EQ(ids[i], ids2[i]);
	}
	/* An exact copy of the second entry later in the document is that
	 * same article; the same id and link with another text is not. */
	struct store_article b[4] = { a[0], a[1], a[1], a[1] };
	b[3].text = "different";
	enum store_put_outcome ob[4];
	int64_t idb[4];
	CHECK_INT_EQ(refresh(st, fid, b, 4, ob, idb, NULL), 0);
	CHECK_INT_EQ(ob[2], STORE_PUT_UNCHANGED);
	CHECK_INT_EQ(idb[2], ids[1]);
	CHECK_INT_EQ(ob[3], STORE_PUT_NEW);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles"), 4);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles WHERE key LIKE 'same hash:%'"), 1);
	finish(st);
}

/* No id: the link; no link either: a hash of title, date and text. */
static void
t_fallback_keys(void)
{
	struct store *st = fresh();
	REQUIRE(st);
	int64_t fid = feed(st, "f", 0, 0), ids[3], ids2[3];
	struct store_article a[3] = {
		{ .link = " https://e/only-link ", .title = "L" },
		{ .title = "No link", .published = "2024-01-01T00:00:00Z", .text = "body" },
		{ .title = "No link", .published = "2024-01-02T00:00:00Z", .text = "body" },
	};
	enum store_put_outcome oc[3];
	CHECK_INT_EQ(refresh(st, fid, a, 3, oc, ids, NULL), 0);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles"), 3);
	CHECK_STR_EQ(q_text(st, "SELECT key FROM articles WHERE title = 'L'"),
		"https://e/only-link");
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles WHERE key LIKE 'hash:%'"), 2);
	CHECK_INT_EQ(refresh(st, fid, a, 3, oc, ids2, NULL), 0);
	for (int i = 0; i < 3; i++) {
		CHECK_INT_EQ(oc[i], STORE_PUT_UNCHANGED);
		CHECK_INT_EQ(ids[i], ids2[i]);
	}
	/* A different text makes a different hash key: a new article. */
	a[1].text = "other body";
	CHECK_INT_EQ(refresh(st, fid, a, 3, oc, ids2, NULL), 0);
	CHECK_INT_EQ(oc[1], STORE_PUT_NEW);
	/* The very same entry twice in one document is stored once. */
	struct store_article d[2] = { a[0], a[0] };
	CHECK_INT_EQ(refresh(st, fid, d, 2, oc, ids2, NULL), 0);
	CHECK_INT_EQ(oc[1], STORE_PUT_UNCHANGED);
	CHECK_INT_EQ(ids2[0], ids2[1]);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles"), 4);
	finish(st);
}

static void
t_update_in_place(void)
{
	static const struct {
		const char *what;
		struct store_article a;
	} edits[] = {
		{ "title", { .guid = "g", .link = "https://e/1", .title = "T2", .content = "<p>c</p>", .text = "c", .enclosures_json = "[]" } },
		{ "content", { .guid = "g", .link = "https://e/1", .title = "T2", .content = "<p>d</p>", .text = "c", .enclosures_json = "[]" } },
		{ "text", { .guid = "g", .link = "https://e/1", .title = "T2", .content = "<p>d</p>", .text = "d", .enclosures_json = "[]" } },
		{ "link", { .guid = "g", .link = "https://e/1b", .title = "T2", .content = "<p>d</p>", .text = "d", .enclosures_json = "[]" } },
		{ "enclosures", { .guid = "g", .link = "https://e/1b", .title = "T2", .content = "<p>d</p>", .text = "d", .enclosures_json = "[{\"url\":\"https://e/x.mp3\"}]" } },
	};
	struct store *st = fresh();
	REQUIRE(st);
	int64_t fid = feed(st, "f", 0, 0), id0 = 0, id = 0;
	struct store_article a = { .guid = "g", .link = "https://e/1", .title = "T1",
		.content = "<p>c</p>", .text = "c", .enclosures_json = "[]" };
	enum store_put_outcome oc;
	CHECK_INT_EQ(refresh(st, fid, &a, 1, &oc, &id0, NULL), 0);
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		fake_now += 60;
		CHECK_INT_EQ(refresh(st, fid, &edits[i].a, 1, &oc, &id, NULL), 0);
		if (oc != STORE_PUT_UPDATED)
			fprintf(stderr, "edit of %s not seen\n", edits[i].what);
		CHECK_INT_EQ(oc, STORE_PUT_UPDATED);
		CHECK_INT_EQ(id, id0);
		CHECK_INT_EQ(q_int(st, "SELECT revision FROM articles_v1"), (int64_t)i + 2);
		CHECK_INT_EQ(q_int(st, "SELECT last_changed FROM articles_v1"), fake_now);
		CHECK_INT_EQ(q_int(st, "SELECT first_seen FROM articles_v1"), 1700000000);
	}
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM changes_v1 WHERE kind = 'update'"), 5);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM changes_v1 WHERE kind = 'new'"), 1);
	/* FTS follows the edit. */
	CHECK_INT_EQ(fts_count(st, "T2"), 1);
	CHECK_INT_EQ(fts_count(st, "T1"), 0);
	/* Fields outside the content hash (author, dates) make no write. */
	struct store_article same = edits[4].a;
	same.author = "someone";
	same.updated = "2024-05-05T00:00:00Z";
	int64_t w = store_write_count(st);
	CHECK_INT_EQ(refresh(st, fid, &same, 1, &oc, &id, NULL), 0);
	CHECK_INT_EQ(oc, STORE_PUT_UNCHANGED);
	CHECK_INT_EQ(store_write_count(st) - w, 1); /* the feed row only */
	finish(st);
}

/* Unchanged entries write nothing: no row, and without a poll record not
 * even a commit another connection could notice. */
static void
t_unchanged_no_write(void)
{
	struct store *st = fresh();
	REQUIRE(st);
	int64_t fid = feed(st, "f", 0, 0);
	struct store_article a[50];
	char g[50][16];
	for (int i = 0; i < 50; i++) {
		snprintf(g[i], sizeof(g[i]), "id-%d", i);
		a[i] = (struct store_article){ .guid = g[i], .title = g[i],
			.link = "https://e/", .text = "x" };
	}
	CHECK_INT_EQ(refresh(st, fid, a, 50, NULL, NULL, NULL), 0);
	struct store_opts ro = { .readonly = true };
	struct store *rd = NULL;
	char err[512];
	REQUIRE(store_open(&rd, dbpath, &ro, err, sizeof(err)) == 0);
	int64_t v0 = 0, v1 = 0;
	CHECK_INT_EQ(store_data_version(rd, &v0), 0);
	int64_t w = store_write_count(st);
	struct store_refresh *r = NULL;
	struct store_refresh_stats stats;
	REQUIRE(store_refresh_begin(st, fid, &r) == 0);
	for (int i = 0; i < 50; i++)
		CHECK_INT_EQ(store_refresh_put(r, &a[i], NULL, NULL), 0);
	CHECK_INT_EQ(store_refresh_commit(r, NULL, &stats), 0);
	CHECK_INT_EQ(stats.unchanged, 50);
	CHECK_INT_EQ(store_write_count(st), w);
	CHECK_INT_EQ(store_data_version(rd, &v1), 0);
	CHECK_INT_EQ(v0, v1);
	/* With the poll record: exactly one row written. */
	fake_now += 60;
	CHECK_INT_EQ(refresh(st, fid, a, 50, NULL, NULL, &stats), 0);
	CHECK_INT_EQ(store_write_count(st) - w, 1);
	CHECK_INT_EQ(store_data_version(rd, &v1), 0);
	CHECK(v0 != v1);
	store_close(rd);
	finish(st);
}

/* A feed rewrites every id (http -> https): same canonical link and title
 * means the same article, no new rows and no "new" changes. */
static void
t_id_rewrite(void)
{
	struct store *st = fresh();
	REQUIRE(st);
	int64_t fid = feed(st, "f", 0, 0), ids[2], ids2[2];
	struct store_article a[2] = {
		{ .guid = "http://blog/1", .link = "http://blog/p/1", .title = "One",
		  .published = "2024-01-01T00:00:00Z", .text = "a" },
		{ .guid = "http://blog/2", .link = "http://blog/p/2", .title = "Two",
		  .published = "2024-01-02T00:00:00Z", .text = "b" },
	};
	enum store_put_outcome oc[2];
	CHECK_INT_EQ(refresh(st, fid, a, 2, oc, ids, NULL), 0);
	int64_t seq = q_int(st, "SELECT max(seq) FROM changes_v1");
	a[0].guid = "https://blog/1";
	a[1].guid = "https://blog/2";
	a[1].text = "b, edited"; /* a rewrite can come with an edit */
	CHECK_INT_EQ(refresh(st, fid, a, 2, oc, ids2, NULL), 0);
	CHECK_INT_EQ(oc[0], STORE_PUT_UNCHANGED);
	CHECK_INT_EQ(oc[1], STORE_PUT_UPDATED);
	CHECK_INT_EQ(ids[0], ids2[0]);
	CHECK_INT_EQ(ids[1], ids2[1]);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles"), 2);
	CHECK_STR_EQ(q_text(st, "SELECT key FROM articles WHERE title = 'One'"),
		"https://blog/1");
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM changes_v1 WHERE kind = 'new'"), 2);
	CHECK_INT_EQ(q_int(st, "SELECT max(seq) FROM changes_v1") - seq, 1);
	/* Next time the new ids match directly. */
	CHECK_INT_EQ(refresh(st, fid, a, 2, oc, ids2, NULL), 0);
	CHECK_INT_EQ(oc[0], STORE_PUT_UNCHANGED);
	CHECK_INT_EQ(oc[1], STORE_PUT_UNCHANGED);
	/* Same link and title but another published date: a new article (a
	 * daily digest that always links to the same page). */
	struct store_article d = { .guid = "https://blog/3", .link = "http://blog/p/1",
		.title = "One", .published = "2024-02-01T00:00:00Z", .text = "a" };
	CHECK_INT_EQ(refresh(st, fid, &d, 1, oc, ids2, NULL), 0);
	CHECK_INT_EQ(oc[0], STORE_PUT_NEW);
	finish(st);
}

/* A repost (new id, same link and title) listed before the original, whose
 * id the same document still has: the original keeps its article, the
 * repost is new. Without the document's keys declared up front, rule 5
 * would take the original for the repost and the original would come
 * back as new. */
static void
t_id_rewrite_no_steal(void)
{
	struct store *st = fresh();
	REQUIRE(st);
	int64_t fid = feed(st, "f", 0, 0), ids[2] = { 0 }, first = 0;
	struct store_article orig = { .guid = "g1", .link = "http://x/p",
		.title = "T", .text = "one" };
	struct store_article doc[2] = {
		{ .guid = "g2", .link = "http://x/p", .title = "T", .text = "repost" },
		orig,
	};
	enum store_put_outcome oc[2] = { 0 };
	struct store_refresh *r = NULL;

	CHECK_INT_EQ(refresh(st, fid, &orig, 1, oc, &first, NULL), 0);
	int64_t seq = q_int(st, "SELECT max(seq) FROM changes_v1");
	REQUIRE(store_refresh_begin(st, fid, &r) == 0);
	for (size_t i = 0; i < 2; i++)
		CHECK_INT_EQ(store_refresh_expect(r, &doc[i]), 0);
	for (size_t i = 0; i < 2; i++)
		CHECK_INT_EQ(store_refresh_put(r, &doc[i], &oc[i], &ids[i]), 0);
	CHECK_INT_EQ(store_refresh_commit(r, NULL, NULL), 0);
	CHECK_INT_EQ(oc[0], STORE_PUT_NEW);
	CHECK_INT_EQ(oc[1], STORE_PUT_UNCHANGED);
	CHECK_INT_EQ(ids[1], first);
	CHECK(ids[0] != first);
	CHECK_STR_EQ(q_text(st, "SELECT text FROM articles WHERE key = 'g1'"), "one");
	/* One "new" row (the repost), no "update". */
	CHECK_INT_EQ(q_int(st, "SELECT max(seq) FROM changes_v1") - seq, 1);
	finish(st);
}

static void
t_canon_link(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "HTTPS://Example.COM:443/Path?utm_source=x&a=1&fbclid=2#frag",
		  "https://example.com/Path?a=1" },
		{ "http://example.com:80", "http://example.com/" },
		{ "http://example.com:8080/x", "http://example.com:8080/x" },
		{ "https://example.com:80/x", "https://example.com:80/x" },
		{ "https://e.com/x?gclid=1&utm_medium=rss", "https://e.com/x" },
		{ "https://e.com/x?a=1&&b=2", "https://e.com/x?a=1&b=2" },
		{ "https://User@E.com/x", "https://User@e.com/x" },
		{ "http://[::1]:80/a", "http://[::1]/a" },
		{ "  https://e.com/a#  ", "https://e.com/a" },
		{ "urn:uuid:1234#x", "urn:uuid:1234" },
		{ "https://e.com?", "https://e.com/" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *c = NULL;
		CHECK_INT_EQ(store__canon_link(cases[i].in, &c), 0);
		CHECK_STR_EQ(c, cases[i].out);
		store__free(c);
	}
	char *c = (char *)1;
	CHECK_INT_EQ(store__canon_link("   ", &c), 0);
	CHECK_NULL(c);
}

struct ids {
	int64_t v[8];
	int n;
};

static int
collect(void *ud, const struct store_article_row *r)
{
	struct ids *g = ud;
	if (g->n < 8)
		g->v[g->n] = r->id;
	g->n++;
	return 0;
}

/* The same story in two feeds: stored once per feed, linked. */
static void
t_cross_feed_link(void)
{
	struct store *st = fresh();
	REQUIRE(st);
	int64_t fa = feed(st, "a", 0, 0), fb = feed(st, "b", 0, 0), ida, idb, idc;
	struct store_article a = { .guid = "a1", .title = "Story",
		.link = "https://News.example:443/s?id=7&utm_source=rss#top" };
	struct store_article b = { .guid = "b1", .title = "Story (B)",
		.link = "https://news.example/s?fbclid=xyz&id=7" };
	struct store_article c = { .guid = "c1", .title = "Other",
		.link = "https://news.example/s?id=8" };
	CHECK_INT_EQ(refresh(st, fa, &a, 1, NULL, &ida, NULL), 0);
	CHECK_INT_EQ(refresh(st, fb, &b, 1, NULL, &idb, NULL), 0);
	CHECK_INT_EQ(refresh(st, fb, &c, 1, NULL, &idc, NULL), 0);
	CHECK(ida != idb);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles_v1"), 3);
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT story_id FROM articles_v1 WHERE id = %lld",
		(long long)idb);
	CHECK_INT_EQ(q_int(st, sql), ida);
	snprintf(sql, sizeof(sql), "SELECT story_id FROM articles_v1 WHERE id = %lld",
		(long long)idc);
	CHECK_INT_EQ(q_int(st, sql), idc);
	/* Unique stories through the read API: a and c, not b. */
	struct ids got = { .n = 0 };
	struct store_query q = { .unique = true, .oldest_first = true };
	CHECK_INT_EQ(store_articles_query(st, &q, collect, &got), 0);
	CHECK_INT_EQ(got.n, 2);
	CHECK_INT_EQ(got.v[0], ida);
	CHECK_INT_EQ(got.v[1], idc);
	finish(st);
}

/* --- retention ---------------------------------------------------------- */

static void
t_retention_count(void)
{
	struct store *st = fresh();
	REQUIRE(st);
	int64_t fid = feed(st, "f", 0, 2);
	struct store_article a[5];
	char g[5][8], t[5][32];
	for (int i = 0; i < 5; i++) {
		snprintf(g[i], sizeof(g[i]), "g%d", i);
		snprintf(t[i], sizeof(t[i]), "2024-01-0%dT00:00:00Z", i + 1);
		a[i] = (struct store_article){ .guid = g[i], .title = g[i],
			.published = t[i], .link = "https://e/x" };
	}
	struct store_refresh_stats s;
	/* All three in the document: none purged despite keep_count 2. */
	CHECK_INT_EQ(refresh(st, fid, a, 3, NULL, NULL, &s), 0);
	CHECK_INT_EQ(s.purged, 0);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles"), 3);
	/* The document moves on: g3 and g4 only; g0..g2 may go but the two
	 * newest stay: g4, g3 are present, so g0, g1, g2 go. */
	CHECK_INT_EQ(refresh(st, fid, a + 3, 2, NULL, NULL, &s), 0);
	CHECK_INT_EQ(s.purged, 3);
	CHECK_STR_EQ(q_text(st, test_sql("SELECT group_concat(key) FROM"
		" (SELECT key FROM articles ORDER BY key)",
		"SELECT string_agg(key, ',' ORDER BY key) FROM articles")),
		"g3,g4");
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM changes_v1 WHERE kind = 'purge'"), 3);
	/* A purged entry reappearing (the feed re-lists old items) never
	 * comes back as new. */
	enum store_put_outcome oc[5];
	CHECK_INT_EQ(refresh(st, fid, a, 5, oc, NULL, &s), 0);
	CHECK_INT_EQ(oc[0], STORE_PUT_SUPPRESSED);
	CHECK_INT_EQ(oc[2], STORE_PUT_SUPPRESSED);
	CHECK_INT_EQ(oc[3], STORE_PUT_UNCHANGED);
	CHECK_INT_EQ(s.suppressed, 3);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles"), 2);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM changes_v1 WHERE kind = 'new'"), 5);
	/* Not even with a rewritten id. */
	struct store_article r0 = a[0];
	r0.guid = "g0-rewritten";
	CHECK_INT_EQ(refresh(st, fid, &r0, 1, oc, NULL, &s), 0);
	CHECK_INT_EQ(oc[0], STORE_PUT_SUPPRESSED);
	/* Ids only grow, also past purged ones: purge the newest article,
	 * then store a new one. */
	int64_t top = q_int(st, "SELECT max(id) FROM articles");
	CHECK_INT_EQ(store__exec(st, "UPDATE feeds SET keep_count = 1"), 0);
	struct store_article n1 = { .guid = "n1", .title = "n1",
		.published = "2024-01-09T00:00:00Z" };
	int64_t nid = 0;
	CHECK_INT_EQ(refresh(st, fid, &n1, 1, oc, &nid, &s), 0);
	CHECK_INT_EQ(s.purged, 2);
	CHECK(nid > top);
	CHECK_INT_EQ(store__exec(st, "UPDATE feeds SET keep_count = 0"), 0);
	struct store_article n2 = { .guid = "n2", .title = "n2" };
	/* Behind the store's back (its connection runs without the
	 * schema's triggers): the index entry goes too. */
	CHECK_INT_EQ(store__exec(st, test_sql("INSERT INTO articles_fts("
		"articles_fts, rowid, title, text) SELECT 'delete', id, title,"
		" text FROM articles WHERE key = 'n1';"
		" DELETE FROM articles WHERE key = 'n1'",
		"DELETE FROM articles WHERE key = 'n1'")), 0);
	CHECK_INT_EQ(refresh(st, fid, &n2, 1, oc, &top, &s), 0);
	CHECK(top > nid);
	finish(st);
}

static void
t_retention_days(void)
{
	struct store *st = fresh();
	REQUIRE(st);
	int64_t fid = feed(st, "f", 2, 0);
	/* now = 2023-11-14T22:13:20Z */
	struct store_article a[3] = {
		{ .guid = "old", .published = "2023-11-01T00:00:00Z", .title = "old" },
		{ .guid = "older", .published = "2023-10-01T00:00:00Z", .title = "older" },
		{ .guid = "fresh", .published = "2023-11-14T00:00:00Z", .title = "fresh" },
	};
	struct store_refresh_stats s;
	CHECK_INT_EQ(refresh(st, fid, a, 3, NULL, NULL, &s), 0);
	CHECK_INT_EQ(s.purged, 0); /* all present */
	/* "older" left the document: purged; "old" is still listed: kept. */
	CHECK_INT_EQ(refresh(st, fid, a, 1, NULL, NULL, &s), 0);
	CHECK_INT_EQ(s.purged, 1);
	CHECK_STR_EQ(q_text(st, test_sql("SELECT group_concat(key) FROM"
		" (SELECT key FROM articles ORDER BY key)",
		"SELECT string_agg(key, ',' ORDER BY key) FROM articles")),
		"fresh,old");
	/* Three days later an empty document purges the rest. */
	fake_now += 3 * 86400;
	CHECK_INT_EQ(refresh(st, fid, NULL, 0, NULL, NULL, &s), 0);
	CHECK_INT_EQ(s.purged, 2);
	CHECK_INT_EQ(fts_count(st, "fresh"), 0);
	finish(st);
}

/* --- change log, transactions, errors ---------------------------------- */

struct seqs {
	int64_t seq[16];
	char kind[16][8];
	bool has_article[16];
	int n;
};

static int
collect_change(void *ud, const struct store_change_row *c)
{
	struct seqs *s = ud;
	if (s->n < 16) {
		s->seq[s->n] = c->seq;
		snprintf(s->kind[s->n], sizeof(s->kind[0]), "%s", c->kind);
		s->has_article[s->n] = c->article != NULL;
	}
	s->n++;
	return 0;
}

static void
t_change_log(void)
{
	struct store_opts o = { .clock = clock_cb, .changelog_keep_s = 86400 };
	fresh_path();
	fake_now = 1700000000;
	struct store *st = open_rw(&o);
	REQUIRE(st);
	int64_t fa = feed(st, "a", 0, 1), fb = feed(st, "b", 0, 0);
	struct store_article x = { .guid = "x", .title = "X" };
	struct store_article y = { .guid = "y", .title = "Y" };
	CHECK_INT_EQ(refresh(st, fa, &x, 1, NULL, NULL, NULL), 0);
	CHECK_INT_EQ(refresh(st, fb, &x, 1, NULL, NULL, NULL), 0);
	x.title = "X2";
	CHECK_INT_EQ(refresh(st, fa, &x, 1, NULL, NULL, NULL), 0);
	CHECK_INT_EQ(refresh(st, fa, &y, 1, NULL, NULL, NULL), 0); /* purges x */
	struct seqs s = { .n = 0 };
	CHECK_INT_EQ(store_changes_after(st, 0, NULL, false, 0, collect_change, &s), 0);
	REQUIRE(s.n == 5);
	CHECK_STR_EQ(s.kind[0], "new");
	CHECK_STR_EQ(s.kind[2], "update");
	CHECK_STR_EQ(s.kind[3], "new");
	CHECK_STR_EQ(s.kind[4], "purge");
	CHECK(!s.has_article[4]);
	CHECK(!s.has_article[0]); /* x of feed a is gone by now */
	CHECK(s.has_article[1]);
	for (int i = 1; i < 5; i++)
		CHECK(s.seq[i] > s.seq[i - 1]);
	/* Filters: one feed, new only, after a cursor. */
	struct seqs f = { .n = 0 };
	CHECK_INT_EQ(store_changes_after(st, 0, "a", true, 0, collect_change, &f), 0);
	CHECK_INT_EQ(f.n, 2);
	f.n = 0;
	CHECK_INT_EQ(store_changes_after(st, s.seq[2], NULL, false, 0, collect_change, &f), 0);
	CHECK_INT_EQ(f.n, 2);
	int64_t last = 0;
	CHECK_INT_EQ(store_last_seq(st, &last), 0);
	CHECK_INT_EQ(last, s.seq[4]);
	/* Two days on, the next change prunes rows older than a day, but the
	 * sequence keeps growing. */
	fake_now += 2 * 86400;
	struct store_article z = { .guid = "z", .title = "Z" };
	CHECK_INT_EQ(refresh(st, fb, &z, 1, NULL, NULL, NULL), 0);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM changes_v1"), 1);
	CHECK(q_int(st, "SELECT seq FROM changes_v1") > last);
	finish(st);
}

static void
t_abort_invisible(void)
{
	struct store *st = fresh();
	REQUIRE(st);
	int64_t fid = feed(st, "f", 0, 0);
	struct store_refresh *r = NULL;
	struct store_article a = { .guid = "g", .title = "T" };
	REQUIRE(store_refresh_begin(st, fid, &r) == 0);
	struct store_refresh *r2 = NULL;
	CHECK_INT_EQ(store_refresh_begin(st, fid, &r2), -EBUSY);
	CHECK_INT_EQ(store_refresh_put(r, &a, NULL, NULL), 0);
	store_refresh_abort(r);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles"), 0);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM changes"), 0);
	CHECK_INT_EQ(store_refresh_begin(st, 999, &r), -ENOENT);
	finish(st);
}

/* A full disk fails that refresh clearly and loses nothing stored. */
static void
t_full_disk(void)
{
	TEST_SQLITE_ONLY("a full disk is simulated with PRAGMA max_page_count");
	struct store *st = fresh();
	REQUIRE(st);
	int64_t fid = feed(st, "f", 0, 0);
	struct store_article a = { .guid = "kept", .title = "Kept", .text = "kept" };
	CHECK_INT_EQ(refresh(st, fid, &a, 1, NULL, NULL, NULL), 0);
	int64_t pages = q_int(st, "PRAGMA page_count");
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld", (long long)pages + 2);
	CHECK_INT_EQ(store__exec(st, sql), 0);
	static char big[64 * 1024];
	memset(big, 'x', sizeof(big) - 1);
	struct store_article b[20];
	char g[20][8];
	for (int i = 0; i < 20; i++) {
		snprintf(g[i], sizeof(g[i]), "b%d", i);
		b[i] = (struct store_article){ .guid = g[i], .title = g[i], .content = big };
	}
	int rc = refresh(st, fid, b, 20, NULL, NULL, NULL);
	CHECK_INT_EQ(rc, -ENOSPC);
	CHECK(strstr(store_errmsg(st), "full") != NULL);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles"), 1);
	check_integrity(st);
	/* Space again: the next refresh goes through. */
	CHECK_INT_EQ(store__exec(st, "PRAGMA max_page_count = 1073741823"), 0);
	CHECK_INT_EQ(refresh(st, fid, b, 20, NULL, NULL, NULL), 0);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles"), 21);
	finish(st);
}

/* --- groups: several feeds in one transaction ------------------------- */

static int64_t
reader_count(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	if (test_store_pg())
		return test_pg_reader_int(dbpath, sql);
	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
		sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
		sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* Units succeed or fail alone; nothing is visible before the commit. */
static void
t_group_commit(void)
{
	struct store *st = fresh();
	REQUIRE(st);
	int64_t fa = 0, fb = 0, fc = 0;
	struct store_feed_conf ca = { .name = "a", .url = "https://a/", .keep_days = 0, .keep_count = 0 },
		cb = { .name = "b", .url = "https://b/", .keep_days = 0, .keep_count = 0 }, cc = { .name = "c", .url = "https://c/", .keep_days = 0, .keep_count = 0 };
	struct store_article a[2] = {
		{ .guid = "a1", .title = "A one", .text = "alpha" },
		{ .guid = "a2", .title = "A two", .text = "beta" },
	};
	struct store_article b = { .guid = "b1", .title = "B one" };
	struct store_refresh *r = NULL;
	struct store_refresh_stats stats;
	struct store_feed_result r304 = { .attempt = fake_now, .ok = true,
		.not_modified = true, .http_status = 304, .next_due = fake_now + 60 };
	enum store_put_outcome oc[2];

	CHECK_INT_EQ(store_group_commit(st), -EINVAL);
	REQUIRE(store_group_begin(st) == 0);
	CHECK_INT_EQ(store_group_begin(st), -EBUSY);
	CHECK_INT_EQ(store_feed_ensure(st, &ca, &fa), 0);
	CHECK_INT_EQ(store_feed_ensure(st, &cb, &fb), 0);
	CHECK_INT_EQ(store_feed_ensure(st, &cc, &fc), 0);
	CHECK_INT_EQ(refresh(st, fa, a, 2, NULL, NULL, &stats), 0);
	CHECK_INT_EQ(stats.inserted, 2);
	/* b fails half-way: its savepoint goes, a's work stays. */
	REQUIRE(store_refresh_begin(st, fb, &r) == 0);
	CHECK_INT_EQ(store_refresh_put(r, &b, NULL, NULL), 0);
	store_refresh_abort(r);
	CHECK_INT_EQ(refresh(st, 999, a, 1, NULL, NULL, NULL), -ENOENT);
	CHECK_INT_EQ(store_feed_record(st, 999, &r304), -ENOENT);
	CHECK_INT_EQ(store_feed_record(st, fc, &r304), 0);
	/* The group's own writes are seen inside it. */
	CHECK_INT_EQ(refresh(st, fa, a, 2, oc, NULL, NULL), 0);
	CHECK_INT_EQ(oc[0], STORE_PUT_UNCHANGED);
	CHECK_INT_EQ(oc[1], STORE_PUT_UNCHANGED);
	/* Readers see nothing yet. */
	CHECK_INT_EQ(reader_count("SELECT count(*) FROM feeds_v1"), 0);
	CHECK_INT_EQ(reader_count("SELECT count(*) FROM articles_v1"), 0);
	CHECK_INT_EQ(store_group_commit(st), 0);
	CHECK_INT_EQ(reader_count("SELECT count(*) FROM feeds_v1"), 3);
	CHECK_INT_EQ(reader_count("SELECT count(*) FROM articles_v1"), 2);
	CHECK_INT_EQ(reader_count("SELECT count(*) FROM articles_v1 WHERE feed = 'b'"), 0);
	CHECK_INT_EQ(reader_count("SELECT count(*) FROM changes_v1 WHERE kind = 'new'"), 2);
	CHECK_INT_EQ(reader_count(test_sql("SELECT count(*) FROM articles_fts",
		"SELECT count(*) FROM articles WHERE fts @@"
		" to_tsquery('simple', 'alpha | beta')")), 2);
	CHECK_INT_EQ(reader_count("SELECT last_status FROM feeds_v1 WHERE name = 'c'"), 304);
	check_integrity(st);
	/* Outside a group, everything is its own transaction again. */
	CHECK_INT_EQ(refresh(st, fb, &b, 1, NULL, NULL, NULL), 0);
	CHECK_INT_EQ(reader_count("SELECT count(*) FROM articles_v1 WHERE feed = 'b'"), 1);
	/* A refresh left open spoils the commit: everything rolled back. */
	REQUIRE(store_group_begin(st) == 0);
	struct store_article a3 = { .guid = "a3", .title = "A three" };
	CHECK_INT_EQ(refresh(st, fa, &a3, 1, NULL, NULL, NULL), 0);
	REQUIRE(store_refresh_begin(st, fb, &r) == 0);
	CHECK_INT_EQ(store_group_begin(st), -EBUSY);
	CHECK_INT_EQ(store_group_commit(st), -EBUSY);
	store_refresh_abort(r);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles"), 3);
	/* Abort: nothing of the group stays. */
	REQUIRE(store_group_begin(st) == 0);
	CHECK_INT_EQ(refresh(st, fa, &a3, 1, NULL, NULL, NULL), 0);
	store_group_abort(st);
	store_group_abort(st);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles"), 3);
	CHECK_INT_EQ(refresh(st, fa, &a3, 1, NULL, NULL, NULL), 0);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles"), 4);
	finish(st);
}

/* When the transaction itself is lost, the group says so for every later
 * unit and at commit, and nothing of it is stored. */
static void
t_group_broken(void)
{
	struct store *st = fresh();
	REQUIRE(st);
	int64_t fa = feed(st, "a", 0, 0), fb = feed(st, "b", 0, 0);
	struct store_article a = { .guid = "a1", .title = "A" };
	struct store_article b = { .guid = "b1", .title = "B" };
	struct store_feed_result res = { .attempt = fake_now, .ok = true,
		.http_status = 304 };
	struct store_feed_conf cc = { .name = "c", .url = "https://c/", .keep_days = 0, .keep_count = 0 };

	REQUIRE(store_group_begin(st) == 0);
	CHECK_INT_EQ(refresh(st, fa, &a, 1, NULL, NULL, NULL), 0);
	/* What SQLite does on some I/O errors, behind the store's back. */
	CHECK_INT_EQ(store__exec(st, "ROLLBACK"), 0);
	CHECK_INT_EQ(refresh(st, fb, &b, 1, NULL, NULL, NULL), -EIO);
	CHECK_INT_EQ(store_feed_record(st, fa, &res), -EIO);
	CHECK_INT_EQ(store_feed_ensure(st, &cc, NULL), -EIO);
	CHECK_INT_EQ(store_feed_disable(st, "a"), -EIO);
	CHECK_INT_EQ(store_group_commit(st), -EIO);
	CHECK(strstr(store_errmsg(st), "rolled back") != NULL);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles"), 0);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM feeds"), 2);
	/* Each unit again on its own. */
	CHECK_INT_EQ(refresh(st, fa, &a, 1, NULL, NULL, NULL), 0);
	CHECK_INT_EQ(refresh(st, fb, &b, 1, NULL, NULL, NULL), 0);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles"), 2);

	/* A full disk in a group: either the failing refresh alone is undone
	 * or the whole group is, never anything in between. (SQLite only:
	 * the full disk is PRAGMA max_page_count.) */
	if (test_store_pg()) {
		finish(st);
		return;
	}
	int64_t pages = q_int(st, "PRAGMA page_count");
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld", (long long)pages + 4);
	CHECK_INT_EQ(store__exec(st, sql), 0);
	static char big[64 * 1024];
	memset(big, 'x', sizeof(big) - 1);
	struct store_article small = { .guid = "a2", .title = "small" };
	struct store_article huge[20];
	char g[20][8];
	for (int i = 0; i < 20; i++) {
		snprintf(g[i], sizeof(g[i]), "h%d", i);
		huge[i] = (struct store_article){ .guid = g[i], .title = g[i],
			.content = big };
	}
	REQUIRE(store_group_begin(st) == 0);
	CHECK_INT_EQ(refresh(st, fa, &small, 1, NULL, NULL, NULL), 0);
	CHECK_INT_EQ(refresh(st, fb, huge, 20, NULL, NULL, NULL), -ENOSPC);
	int rc = store_group_commit(st);
	CHECK(rc == 0 || rc == -ENOSPC);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles WHERE feed_id = 2"), 1);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles WHERE feed_id = 1"),
		rc == 0 ? 2 : 1);
	check_integrity(st);
	CHECK_INT_EQ(store__exec(st, "PRAGMA max_page_count = 1073741823"), 0);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles_fts"),
		q_int(st, "SELECT count(*) FROM articles"));
	finish(st);
}

/* A statement that fails inside a group: SQLite undoes that statement,
 * PostgreSQL the whole transaction. Either way the commit tells the
 * truth: 0 and the unit before it stored, or an error and nothing. */
static void
t_group_failed_statement(void)
{
	struct store *st = fresh();
	REQUIRE(st);
	int64_t fa = feed(st, "a", 0, 0);
	struct store_article a = { .guid = "a1", .title = "A" };

	REQUIRE(store_group_begin(st) == 0);
	CHECK_INT_EQ(refresh(st, fa, &a, 1, NULL, NULL, NULL), 0);
	CHECK(store__exec(st, "INSERT INTO feeds(name, url, created)"
		" VALUES (NULL, 'x', 1)") < 0);
	int rc = store_group_commit(st);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles_v1"), rc == 0 ? 1 : 0);
	if (test_store_pg())
		CHECK(rc < 0);
	else
		CHECK_INT_EQ(rc, 0);
	/* The store goes on either way. */
	CHECK_INT_EQ(refresh(st, fa, &a, 1, NULL, NULL, NULL), 0);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles_v1"), 1);
	finish(st);
}

/* An edit that leaves title and text alone keeps the full-text index
 * as it is; one that changes the text re-indexes it. */
static void
t_update_fts(void)
{
	struct store *st = fresh();
	REQUIRE(st);
	int64_t fid = feed(st, "f", 0, 0);
	struct store_article a = { .guid = "g", .title = "Kernel", .text = "rust drivers",
		.summary = "<p>one</p>" };
	enum store_put_outcome oc;
	CHECK_INT_EQ(refresh(st, fid, &a, 1, NULL, NULL, NULL), 0);
	a.summary = "<p>two</p>";
	CHECK_INT_EQ(refresh(st, fid, &a, 1, &oc, NULL, NULL), 0);
	CHECK_INT_EQ(oc, STORE_PUT_UPDATED);
	CHECK_INT_EQ(q_int(st, "SELECT revision FROM articles"), 2);
	CHECK_STR_EQ(q_text(st, "SELECT summary FROM articles"), "<p>two</p>");
	CHECK_INT_EQ(fts_count(st, "drivers"), 1);
	a.text = "go tooling";
	CHECK_INT_EQ(refresh(st, fid, &a, 1, &oc, NULL, NULL), 0);
	CHECK_INT_EQ(oc, STORE_PUT_UPDATED);
	CHECK_INT_EQ(fts_count(st, "drivers"), 0);
	CHECK_INT_EQ(fts_count(st, "tooling"), 1);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM changes WHERE kind = 'update'"), 2);
	if (!test_store_pg())
		CHECK_INT_EQ(store__exec(st, "INSERT INTO articles_fts(articles_fts,"
			" rank) VALUES ('integrity-check', 1)"), 0);
	finish(st);
}

/* A database that became read-only: a clear error, nothing lost. */
static void
t_read_only_db(void)
{
	struct store *st = fresh();
	REQUIRE(st);
	int64_t fid = feed(st, "f", 0, 0);
	struct store_article a = { .guid = "kept", .title = "Kept" };
	CHECK_INT_EQ(refresh(st, fid, &a, 1, NULL, NULL, NULL), 0);
	CHECK_INT_EQ(store__exec(st, test_sql("PRAGMA query_only = 1",
		"SET default_transaction_read_only = on")), 0);
	struct store_article b = { .guid = "new", .title = "New" };
	CHECK_INT_EQ(refresh(st, fid, &b, 1, NULL, NULL, NULL), -EROFS);
	CHECK(strstr(store_errmsg(st), "readonly") != NULL ||
		strstr(store_errmsg(st), "read-only") != NULL);
	struct store_feed_result res = { .attempt = 1, .ok = true };
	CHECK_INT_EQ(store_feed_record(st, fid, &res), -EROFS);
	CHECK_INT_EQ(store__exec(st, test_sql("PRAGMA query_only = 0",
		"SET default_transaction_read_only = off")), 0);
	CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles"), 1);
	CHECK_INT_EQ(refresh(st, fid, &b, 1, NULL, NULL, NULL), 0);
	finish(st);
}

/* --- feeds -------------------------------------------------------------- */

static int
count_feeds(void *ud, const struct store_feed_state *f)
{
	int *n = ud;
	if (strcmp(f->name, "a") == 0 && f->next_due != 4000)
		return -100;
	(*n)++;
	return 0;
}

/* articles per feed name, as listed: "a=N b=M " */
static int
list_counts(void *ud, const struct store_feed_state *f)
{
	char *out = ud;
	size_t len = strlen(out);

	snprintf(out + len, 256 - len, "%s=%lld ", f->name,
		(long long)f->articles);
	return 0;
}

/* feedctl counts each feed's articles; the daemon's start-up does not
 * (that count walks the whole index and grew with the database). */
static void
t_feeds_list_counts(void)
{
	struct store *st = fresh();
	struct store_article a[3] = {
		{ .guid = "1", .title = "one" },
		{ .guid = "2", .title = "two" },
		{ .guid = "3", .title = "three" },
	};
	char out[256] = "";

	REQUIRE(st);
	int64_t fa = feed(st, "a", 0, 0);
	(void)feed(st, "b", 0, 0);
	CHECK_INT_EQ(refresh(st, fa, a, 3, NULL, NULL, NULL), 0);
	CHECK_INT_EQ(store_feeds_list(st, true, list_counts, out), 0);
	CHECK_STR_EQ(out, "a=3 b=0 ");
	out[0] = '\0';
	CHECK_INT_EQ(store_feeds_list(st, false, list_counts, out), 0);
	CHECK_STR_EQ(out, "a=-1 b=-1 ");
	finish(st);
}

static void
t_feed_state(void)
{
	struct store *st = fresh();
	REQUIRE(st);
	struct store_feed_conf c = { .name = "a", .url = "https://a/feed", .keep_days = 7, .keep_count = 100 };
	int64_t id = 0, id2 = 0;
	CHECK_INT_EQ(store_feed_ensure(st, &c, &id), 0);
	CHECK_INT_EQ(store_feed_ensure(st, &c, &id2), 0);
	CHECK_INT_EQ(id, id2);
	struct store_feed_result r = { .attempt = 1000, .ok = true,
		.http_status = 200, .etag = "\"e1\"", .last_modified = "Mon",
		.url_in_use = "https://a/moved", .title = "A", .site_link = "https://a/",
		.body_hash = "bh", .next_due = 4000 };
	CHECK_INT_EQ(store_feed_record(st, id, &r), 0);
	struct store_feed_result fail = { .attempt = 2000, .ok = false,
		.http_status = 503, .error = "HTTP 503", .next_due = 4000,
		.failures = 1 };
	CHECK_INT_EQ(store_feed_record(st, id, &fail), 0);
	struct store_feed_state s;
	REQUIRE(store_feed_get(st, "a", &s) == 0);
	CHECK_STR_EQ(s.etag, "\"e1\"");
	CHECK_STR_EQ(s.url_in_use, "https://a/moved");
	CHECK_STR_EQ(s.title, "A");
	CHECK_STR_EQ(s.last_error, "HTTP 503");
	CHECK_INT_EQ(s.last_success, 1000);
	CHECK_INT_EQ(s.last_attempt, 2000);
	CHECK_INT_EQ(s.last_status, 503);
	CHECK_INT_EQ(s.failures, 1);
	CHECK_INT_EQ(s.keep_days, 7);
	CHECK(s.active);
	store_feed_state_cleanup(&s);
	/* A new configured URL resets the URL in use and the validators. */
	c.url = "https://a/new-feed";
	CHECK_INT_EQ(store_feed_ensure(st, &c, &id2), 0);
	REQUIRE(store_feed_get(st, "a", &s) == 0);
	CHECK_NULL(s.etag);
	CHECK_NULL(s.url_in_use);
	CHECK_NULL(s.last_modified);
	CHECK_STR_EQ(s.url, "https://a/new-feed");
	CHECK_STR_EQ(s.title, "A");
	store_feed_state_cleanup(&s);
	CHECK_INT_EQ(store_feed_get(st, "zz", &s), -ENOENT);
	/* Disable, list, enable again. */
	struct store_feed_conf cb = { .name = "b", .url = "https://b/", .keep_days = 0, .keep_count = 0 };
	CHECK_INT_EQ(store_feed_ensure(st, &cb, NULL), 0);
	CHECK_INT_EQ(store_feed_disable(st, "b"), 0);
	CHECK_INT_EQ(store_feed_disable(st, "nope"), -ENOENT);
	CHECK_INT_EQ(q_int(st, "SELECT active FROM feeds_v1 WHERE name = 'b'"), 0);
	int n = 0;
	CHECK_INT_EQ(store_feeds_list(st, true, count_feeds, &n), 0);
	CHECK_INT_EQ(n, 2);
	CHECK_INT_EQ(store_feed_ensure(st, &cb, NULL), 0);
	CHECK_INT_EQ(q_int(st, "SELECT active FROM feeds_v1 WHERE name = 'b'"), 1);
	finish(st);
}

/* --- read API ----------------------------------------------------------- */

struct titles {
	char s[512];
	int n;
};

static int
collect_titles(void *ud, const struct store_article_row *a)
{
	struct titles *t = ud;
	size_t l = strlen(t->s);
	snprintf(t->s + l, sizeof(t->s) - l, "%s%s", l ? "," : "",
		a->snippet ? a->snippet : a->title);
	t->n++;
	return 0;
}

static void
t_read_api(void)
{
	struct store *st = fresh();
	REQUIRE(st);
	int64_t fa = feed(st, "a", 0, 0), fb = feed(st, "b", 0, 0), ids[3];
	struct store_article a[3] = {
		{ .guid = "1", .title = "Rust release", .published = "2023-11-10T00:00:00Z",
		  .text = "The compiler got faster." },
		{ .guid = "2", .title = "Kernel news", .published = "2023-11-12T00:00:00Z",
		  .text = "A new scheduler for the kernel, and rust drivers." },
		{ .guid = "3", .title = "Garden", .published = "2023-11-11T00:00:00Z",
		  .text = "Tomatoes." },
	};
	CHECK_INT_EQ(refresh(st, fa, a, 2, NULL, ids, NULL), 0);
	CHECK_INT_EQ(refresh(st, fb, a + 2, 1, NULL, ids + 2, NULL), 0);
	struct titles t = { "", 0 };
	CHECK_INT_EQ(store_articles_query(st, NULL, collect_titles, &t), 0);
	CHECK_STR_EQ(t.s, "Kernel news,Garden,Rust release");
	t = (struct titles){ "", 0 };
	struct store_query q = { .feed = "a", .limit = 1 };
	CHECK_INT_EQ(store_articles_query(st, &q, collect_titles, &t), 0);
	CHECK_STR_EQ(t.s, "Kernel news");
	t = (struct titles){ "", 0 };
	q = (struct store_query){ .since = 1699660800 /* 11-11 */ };
	CHECK_INT_EQ(store_articles_query(st, &q, collect_titles, &t), 0);
	CHECK_STR_EQ(t.s, "Kernel news,Garden");
	t = (struct titles){ "", 0 };
	q = (struct store_query){ .after_id = ids[0], .oldest_first = true };
	CHECK_INT_EQ(store_articles_query(st, &q, collect_titles, &t), 0);
	CHECK_STR_EQ(t.s, "Garden,Kernel news");
	q = (struct store_query){ .feed = "missing" };
	CHECK_INT_EQ(store_articles_query(st, &q, collect_titles, &t), -ENOENT);
	t = (struct titles){ "", 0 };
	CHECK_INT_EQ(store_article_get(st, ids[2], collect_titles, &t), 0);
	CHECK_STR_EQ(t.s, "Garden");
	CHECK_INT_EQ(store_article_get(st, 12345, collect_titles, &t), -ENOENT);
	/* Search: ranked (title hit first), with a marked snippet of the
	 * text (the title hit's text has no match: its start). */
	t = (struct titles){ "", 0 };
	CHECK_INT_EQ(store_search(st, "rust", 0, collect_titles, &t), 0);
	CHECK_INT_EQ(t.n, 2);
	CHECK_STR_EQ(t.s, "The compiler got faster.,"
		"A new scheduler for the kernel, and [rust] drivers.");
	CHECK_INT_EQ(store_search(st, "\"unbalanced", 0, collect_titles, &t), -EINVAL);
	CHECK(strstr(store_errmsg(st), "bad search query") != NULL);
	finish(st);
}


/* Schema v3: the status word, in both feeds_v1 and store_feed_state. */
static const char *
status_of(struct store *st, const char *name)
{
	static char buf[32];
	struct store_feed_state f;
	char sql[128];

	if (store_feed_get(st, name, &f) < 0)
		return "(none)";
	snprintf(sql, sizeof(sql), "SELECT status FROM feeds_v1 WHERE name = '%s'",
		name);
	/* Both must agree; return the view's word after checking. */
	CHECK_STR_EQ(q_text(st, sql), f.status);
	snprintf(buf, sizeof(buf), "%s", f.status);
	store_feed_state_cleanup(&f);
	return buf;
}

static void
t_status_words(void)
{
	struct store *st = fresh();
	REQUIRE(st);
	int64_t id = feed(st, "a", 0, 0);
	struct store_feed_result fail = { .attempt = fake_now, .error = "HTTP 500",
		.http_status = 500, .next_due = fake_now + 60, .failures = 1 };
	struct store_feed_result ok = { .attempt = fake_now, .ok = true,
		.http_status = 200, .next_due = fake_now + 3600, .document = true };
	struct store_feed_result bad = ok;

	CHECK_STR_EQ(status_of(st, "a"), "new");
	CHECK_INT_EQ(store_feed_record(st, id, &fail), 0);
	CHECK_STR_EQ(status_of(st, "a"), "failing");
	CHECK_INT_EQ(store_feed_record(st, id, &ok), 0);
	CHECK_STR_EQ(status_of(st, "a"), "ok");
	bad.ok = false;
	bad.malformed = true;
	bad.warning = "parse: not a feed (an HTML page)";
	bad.error = "parse: not a feed";
	bad.failures = 1;
	CHECK_INT_EQ(store_feed_record(st, id, &bad), 0);
	CHECK_STR_EQ(status_of(st, "a"), "malformed");
	CHECK_STR_EQ(q_text(st, "SELECT last_warning FROM feeds_v1"),
		"parse: not a feed (an HTML page)");
	/* A 304 or a fetch failure has no document: the warning stays. */
	struct store_feed_result nm = { .attempt = fake_now, .ok = true,
		.not_modified = true, .http_status = 304, .next_due = fake_now + 3600 };
	CHECK_INT_EQ(store_feed_record(st, id, &nm), 0);
	CHECK_STR_EQ(status_of(st, "a"), "malformed");
	CHECK_INT_EQ(store_feed_record(st, id, &fail), 0);
	CHECK_STR_EQ(status_of(st, "a"), "malformed");
	/* A clean document clears it. */
	CHECK_INT_EQ(store_feed_record(st, id, &ok), 0);
	CHECK_STR_EQ(status_of(st, "a"), "ok");
	CHECK_INT_EQ(q_int(st, "SELECT last_warning IS NULL FROM feeds_v1"), 1);
	/* Gone, then disabled by the config, then removed from it. */
	struct store_feed_result gone = fail;
	gone.gone = true;
	gone.http_status = 410;
	CHECK_INT_EQ(store_feed_record(st, id, &gone), 0);
	CHECK_STR_EQ(status_of(st, "a"), "gone");
	struct store_feed_conf dc = { .name = "a", .url = "https://example.org/feed.xml",
		.disabled = true };
	CHECK_INT_EQ(store_feed_ensure(st, &dc, NULL), 0);
	CHECK_STR_EQ(status_of(st, "a"), "disabled");
	CHECK_INT_EQ(q_int(st, "SELECT active + enabled FROM feeds_v1"), 0);
	CHECK_INT_EQ(store_feed_disable(st, "a"), 0);
	CHECK_STR_EQ(status_of(st, "a"), "removed");
	/* Configured again: active and enabled. */
	dc.disabled = false;
	CHECK_INT_EQ(store_feed_ensure(st, &dc, NULL), 0);
	CHECK_INT_EQ(q_int(st, "SELECT active + enabled FROM feeds_v1"), 2);
	finish(st);
}

static void
t_tags_and_conf(void)
{
	struct store *st = fresh();
	REQUIRE(st);
	struct store_feed_conf ca = { .name = "a", .url = "https://a/",
		.tags = " news , tech,, ", .title = "Ä feed", .site = "https://a.example/" };
	struct store_feed_conf cb = { .name = "b", .url = "https://b/",
		.tags = "newsletter" };
	int64_t fa = 0, fb = 0;
	struct store_feed_state f;

	CHECK_INT_EQ(store_feed_ensure(st, &ca, &fa), 0);
	CHECK_INT_EQ(store_feed_ensure(st, &cb, &fb), 0);
	CHECK_INT_EQ(store_feed_get(st, "a", &f), 0);
	CHECK_STR_EQ(f.tags, "news,tech");
	CHECK_STR_EQ(f.conf_title, "Ä feed");
	CHECK_STR_EQ(f.conf_site, "https://a.example/");
	CHECK(f.enabled);
	store_feed_state_cleanup(&f);
	CHECK_STR_EQ(q_text(st, "SELECT tags FROM feeds_v1 WHERE name = 'a'"),
		"news,tech");

	struct store_article a1 = { .guid = "1", .title = "Kernel", .text = "one" };
	struct store_article b1 = { .guid = "2", .title = "Letter", .text = "two" };
	CHECK_INT_EQ(refresh(st, fa, &a1, 1, NULL, NULL, NULL), 0);
	CHECK_INT_EQ(refresh(st, fb, &b1, 1, NULL, NULL, NULL), 0);
	struct titles t = { "", 0 };
	struct store_query q = { .tag = "news" };
	CHECK_INT_EQ(store_articles_query(st, &q, collect_titles, &t), 0);
	CHECK_STR_EQ(t.s, "Kernel");    /* whole tags: not "newsletter" */
	t = (struct titles){ "", 0 };
	q.tag = "newsletter";
	CHECK_INT_EQ(store_articles_query(st, &q, collect_titles, &t), 0);
	CHECK_STR_EQ(t.s, "Letter");
	t = (struct titles){ "", 0 };
	q.tag = "nosuch";
	CHECK_INT_EQ(store_articles_query(st, &q, collect_titles, &t), 0);
	CHECK_INT_EQ(t.n, 0);
	CHECK_STR_EQ(q_text(st, "SELECT tags FROM articles_v1 WHERE title = 'Kernel'"),
		"news,tech");

	/* Tags changed in the config: stored again. */
	ca.tags = "tech";
	CHECK_INT_EQ(store_feed_ensure(st, &ca, NULL), 0);
	CHECK_STR_EQ(q_text(st, "SELECT tags FROM feeds_v1 WHERE name = 'a'"), "tech");
	ca.tags = NULL;
	CHECK_INT_EQ(store_feed_ensure(st, &ca, NULL), 0);
	CHECK_INT_EQ(q_int(st, "SELECT tags IS NULL FROM feeds_v1 WHERE name = 'a'"), 1);

	/* The planned first fetch. */
	CHECK_INT_EQ(store_feed_set_due(st, fb, 1700000123), 0);
	CHECK_INT_EQ(q_int(st, "SELECT next_due FROM feeds_v1 WHERE name = 'b'"),
		1700000123);
	CHECK_INT_EQ(store_feed_set_due(st, 999, 1), -ENOENT);
	finish(st);
}

/* Search covers title, summary and text, narrowed by feed, tag, since. */
static void
t_search_query(void)
{
	struct store *st = fresh();
	REQUIRE(st);
	struct store_feed_conf ca = { .name = "a", .url = "https://a/", .tags = "news" };
	struct store_feed_conf cb = { .name = "b", .url = "https://b/", .tags = "blogs" };
	int64_t fa = 0, fb = 0;
	CHECK_INT_EQ(store_feed_ensure(st, &ca, &fa), 0);
	CHECK_INT_EQ(store_feed_ensure(st, &cb, &fb), 0);
	struct store_article a[2] = {
		{ .guid = "1", .title = "Old one", .summary = "<p>zeppelin</p>",
		  .published = "2023-01-01T00:00:00Z" },
		{ .guid = "2", .title = "New one", .text = "a zeppelin again",
		  .published = "2024-06-01T00:00:00Z" },
	};
	struct store_article b1 = { .guid = "3", .title = "Zeppelin blog",
		.published = "2024-06-02T00:00:00Z" };
	CHECK_INT_EQ(refresh(st, fa, a, 2, NULL, NULL, NULL), 0);
	CHECK_INT_EQ(refresh(st, fb, &b1, 1, NULL, NULL, NULL), 0);
	struct titles t = { "", 0 };
	struct store_query q = { 0 };
	CHECK_INT_EQ(store_search_query(st, "zeppelin", &q, collect_titles, &t), 0);
	CHECK_INT_EQ(t.n, 3);            /* the summary-only hit too */
	t = (struct titles){ "", 0 };
	q = (struct store_query){ .feed = "a" };
	CHECK_INT_EQ(store_search_query(st, "zeppelin", &q, collect_titles, &t), 0);
	CHECK_INT_EQ(t.n, 2);
	t = (struct titles){ "", 0 };
	q = (struct store_query){ .tag = "blogs" };
	CHECK_INT_EQ(store_search_query(st, "zeppelin", &q, collect_titles, &t), 0);
	CHECK_INT_EQ(t.n, 1);
	CHECK(strstr(t.s, "[Zeppelin]") != NULL);
	t = (struct titles){ "", 0 };
	q = (struct store_query){ .feed = "a", .since = 1672617600 /* 2023-01-02 */ };
	CHECK_INT_EQ(store_search_query(st, "zeppelin", &q, collect_titles, &t), 0);
	CHECK_INT_EQ(t.n, 1);
	CHECK(strstr(t.s, "[zeppelin] again") != NULL);
	q = (struct store_query){ .feed = "nosuch" };
	CHECK_INT_EQ(store_search_query(st, "zeppelin", &q, collect_titles, &t), -ENOENT);
	/* An update of the summary alone re-indexes it. */
	a[0].summary = "<p>dirigible</p>";
	CHECK_INT_EQ(refresh(st, fa, a, 2, NULL, NULL, NULL), 0);
	t = (struct titles){ "", 0 };
	CHECK_INT_EQ(store_search_query(st, "dirigible", NULL, collect_titles, &t), 0);
	CHECK_INT_EQ(t.n, 1);
	t = (struct titles){ "", 0 };
	q = (struct store_query){ .feed = "a" };
	CHECK_INT_EQ(store_search_query(st, "zeppelin", &q, collect_titles, &t), 0);
	CHECK_INT_EQ(t.n, 1);
	finish(st);
}

/* Open dbpath plus the extra connection key; err holds the message. */
static int
open_with(const char *extra, bool readonly, struct store **st, char *err,
	size_t errlen)
{
	struct store_opts o = { .clock = clock_cb, .readonly = readonly };
	char s[1300];

	snprintf(s, sizeof(s), "%s %s", dbpath, extra);
	err[0] = '\0';
	*st = NULL;
	return store_open(st, s, &o, err, errlen);
}

/* text-search=english: the tsvector column is built with it, the
 * database records it and searches use it (stemming: "running" finds
 * "runs"); simple, the default, does not stem; an unknown configuration
 * and a mismatch with the recorded one are refused by name. */
static void
t_pg_text_search(void)
{
	TEST_SQLITE_ONLY_NOT("a PostgreSQL server");
	char err[512];
	struct store *st = NULL;
	struct titles t = { "", 0 };
	struct store_article a = { .guid = "1", .title = "Dog news",
		.published = "2023-11-10T00:00:00Z",
		.text = "The dog runs every morning." };
	int64_t id;

	fake_now = 1700000000;
	fresh_path();
	CHECK_INT_EQ(open_with("text-search=nosuchcfg", false, &st, err,
		sizeof(err)), -EINVAL);
	CHECK(st == NULL);
	CHECK_STR_EQ(err, "text-search=nosuchcfg: the server has no such text "
		"search configuration (see pg_ts_config)");
	CHECK_INT_EQ(open_with("text-search=x'y", false, &st, err, sizeof(err)),
		-EINVAL);
	CHECK(strstr(err, "not a text search configuration name") != NULL);
	/* Refused before any schema was made: the database is still new. */
	CHECK_INT_EQ(test_pg_reader_int(dbpath, "SELECT count(*) FROM"
		" pg_catalog.pg_namespace WHERE nspname = 'feedd'"), 0);

	CHECK_INT_EQ(open_with("text-search=english", false, &st, err,
		sizeof(err)), 0);
	if (!st)
		fprintf(stderr, "store_open: %s\n", err);
	REQUIRE(st);
	CHECK_INT_EQ(refresh(st, feed(st, "a", 0, 0), &a, 1, NULL, &id, NULL), 0);
	CHECK_INT_EQ(store_search(st, "running", 0, collect_titles, &t), 0);
	CHECK_INT_EQ(t.n, 1);
	CHECK_STR_EQ(t.s, "The dog [runs] every morning.");
	store_close(st);
	CHECK_INT_EQ(test_pg_reader_int(dbpath, "SELECT count(*) FROM settings"
		" WHERE text_search = 'english'"), 1);

	/* A reader without the key searches with the recorded one. */
	struct store_opts ro = { .readonly = true };
	st = NULL;
	CHECK_INT_EQ(store_open(&st, dbpath, &ro, err, sizeof(err)), 0);
	REQUIRE(st);
	t = (struct titles){ "", 0 };
	CHECK_INT_EQ(store_search(st, "running", 0, collect_titles, &t), 0);
	CHECK_INT_EQ(t.n, 1);
	store_close(st);
	/* Another configuration than the column's is refused, by name. */
	CHECK_INT_EQ(open_with("text-search=simple", false, &st, err,
		sizeof(err)), -EINVAL);
	CHECK(st == NULL);
	CHECK_STR_EQ(err, "text-search=simple: the database's full-text index "
		"uses the text search configuration english; open it with "
		"text-search=english (or without the key)");
	CHECK_INT_EQ(open_with("text-search=simple", true, &st, err,
		sizeof(err)), -EINVAL);
	CHECK(strstr(err, "uses the text search configuration english") != NULL);
	remove_dir();

	/* The default, simple: no stemming; the article is still found by
	 * its own word. */
	st = fresh();
	REQUIRE(st);
	CHECK_INT_EQ(refresh(st, feed(st, "a", 0, 0), &a, 1, NULL, &id, NULL), 0);
	t = (struct titles){ "", 0 };
	CHECK_INT_EQ(store_search(st, "running", 0, collect_titles, &t), 0);
	CHECK_INT_EQ(t.n, 0);
	CHECK_INT_EQ(store_search(st, "runs", 0, collect_titles, &t), 0);
	CHECK_INT_EQ(t.n, 1);
	store_close(st);
	CHECK_INT_EQ(open_with("text-search=english", false, &st, err,
		sizeof(err)), -EINVAL);
	CHECK(strstr(err, "uses the text search configuration simple") != NULL);
	CHECK_INT_EQ(open_with("text-search=simple", false, &st, err,
		sizeof(err)), 0);
	REQUIRE(st);
	store_close(st);
	/* A database built before feedd.settings: simple, recorded by the
	 * next writer. */
	CHECK_INT_EQ(test_pg_run(dbpath, "DROP TABLE feedd.settings"), 0);
	CHECK_INT_EQ(open_with("text-search=english", false, &st, err,
		sizeof(err)), -EINVAL);
	CHECK(strstr(err, "uses the text search configuration simple") != NULL);
	st = open_rw(NULL);
	REQUIRE(st);
	CHECK_INT_EQ(test_pg_reader_int(dbpath, "SELECT count(*) FROM settings"
		" WHERE text_search = 'simple'"), 1);
	t = (struct titles){ "", 0 };
	CHECK_INT_EQ(store_search(st, "runs", 0, collect_titles, &t), 0);
	CHECK_INT_EQ(t.n, 1);
	finish(st);
}

/* SQLite has no text search configuration: the key is refused, and no
 * file named after it is made. */
static void
t_sqlite_text_search(void)
{
	TEST_SQLITE_ONLY("text-search= is a PostgreSQL key");
	char err[512], file[1400];
	struct store *st = NULL;

	fresh_path();
	CHECK_INT_EQ(open_with("text-search=english", false, &st, err,
		sizeof(err)), -EINVAL);
	CHECK(st == NULL);
	CHECK(strstr(err, "text-search= is a PostgreSQL connection key") != NULL);
	snprintf(file, sizeof(file), "%s text-search=english", dbpath);
	CHECK(access(file, F_OK) != 0);
	remove_dir();
}

/* A v2 database: state kept, status derived, old summaries searchable. */
static void
t_migration_from_v2(void)
{
	TEST_SQLITE_ONLY("PostgreSQL databases start at version 6");
	sqlite3 *db = NULL;
	fresh_path();
	REQUIRE(sqlite3_open(dbpath, &db) == SQLITE_OK);
	for (int i = 0; i < 2; i++)
		CHECK_INT_EQ(sqlite3_exec(db, store__migrations[i], NULL, NULL, NULL), 0);
	CHECK_INT_EQ(sqlite3_exec(db,
		"INSERT INTO feeds(id, name, url, created, last_attempt, failures)"
		" VALUES (1, 'a', 'https://a/', 1, 10, 0), (2, 'b', 'https://b/', 1, 10, 3),"
		" (3, 'c', 'https://c/', 1, NULL, 0);"
		"INSERT INTO articles(feed_id, key, title, summary, text, hash,"
		" sort_time, first_seen, last_changed) VALUES"
		" (1, 'k1', 'One', '<p>obelisk</p>', NULL, 'h', 5, 5, 5);"
		"PRAGMA user_version = 2;", NULL, NULL, NULL), 0);
	sqlite3_close(db);
	struct store *st = open_rw(NULL);
	REQUIRE(st);
	CHECK_INT_EQ(q_int(st, "PRAGMA user_version"), store_schema_version());
	CHECK_STR_EQ(status_of(st, "a"), "ok");
	CHECK_STR_EQ(status_of(st, "b"), "failing");
	CHECK_STR_EQ(status_of(st, "c"), "new");
	struct titles t = { "", 0 };
	CHECK_INT_EQ(store_search(st, "obelisk", 0, collect_titles, &t), 0);
	CHECK_INT_EQ(t.n, 1);
	finish(st);
}

/* --- write path cost whatever the data ---------------------------------- */

/* Virtual-machine steps of one statement so far: a count of rows read,
 * repeatable (not a timing). */
static int
stmt_steps(struct store *st, enum store__stmt n)
{
	return sqlite3_stmt_status(store__sqlite_stmt(store__stmt(st, n)),
		SQLITE_STMTSTATUS_VM_STEP, 0);
}

/* Many feeds carry the same links (planets, aggregators re-posting the
 * same stories). The rewritten-id check a new key makes (same feed, link
 * and title) must be one index seek, not a read of every stored article
 * sharing the link: the steps it takes with 400 other feeds holding the
 * link are those it takes with 4. */
static void
t_shared_links_flat(void)
{
	TEST_SQLITE_ONLY("counts SQLite's virtual-machine steps");
	int steps[2];
	int nfeeds[2] = { 4, 400 };

	for (int round = 0; round < 2; round++) {
		struct store *st = fresh();
		int64_t target = 0;
		char guid[32];

		REQUIRE(st);
		for (int i = 0; i < nfeeds[round]; i++) {
			char name[32];
			struct store_article a[3];
			int64_t fid;

			snprintf(name, sizeof(name), "planet%d", i);
			fid = feed(st, name, 0, 0);
			snprintf(guid, sizeof(guid), "p%d-", i);
			for (int k = 0; k < 3; k++) {
				static const char *links[] = {
					"https://news.example/big-story",
					"https://news.example/other",
					"https://news.example/third" };
				static char g[3][64];

				snprintf(g[k], sizeof(g[k]), "%s%d", guid, k);
				a[k] = (struct store_article){ .guid = g[k],
					.link = links[k], .title = "Big story",
					.text = "body" };
			}
			CHECK_INT_EQ(refresh(st, fid, a, 3, NULL, NULL, NULL), 0);
			if (i == 0)
				target = fid;
		}
		/* A new id for the same story in the first feed: the rewritten-
		 * id check finds its stored row. */
		{
			struct store_article a = { .guid = "rewritten-0",
				.link = "https://news.example/big-story",
				.title = "Big story", .text = "body" };
			enum store_put_outcome oc;
			int before = stmt_steps(st, STORE_STMT_ART_BY_LINK_TITLE);

			CHECK_INT_EQ(refresh(st, target, &a, 1, &oc, NULL, NULL), 0);
			steps[round] = stmt_steps(st, STORE_STMT_ART_BY_LINK_TITLE) -
				before;
			CHECK_INT_EQ(oc, STORE_PUT_UNCHANGED);
		}
		CHECK_INT_EQ(q_int(st, "SELECT count(*) FROM articles"),
			3 * nfeeds[round]);
		finish(st);
	}
	CHECK(steps[0] > 0);
	CHECK(steps[1] <= steps[0] + 4);
	if (steps[1] > steps[0] + 4)
		fprintf(stderr, "rewritten-id check: %d steps with %d feeds sharing"
			" the link, %d with %d\n", steps[1], nfeeds[1], steps[0],
			nfeeds[0]);
}

static const struct check_case cases[] = {
	{ "open_pragmas", t_open_pragmas },
	{ "newer_schema_refused", t_newer_schema_refused },
	{ "database_strings", t_database_strings },
	{ "connection_lost", t_connection_lost },
	{ "not_feedd_db", t_not_feedd_db },
	{ "migration_from_v1", t_migration_from_v1 },
	{ "reader_views", t_reader_views },
	{ "readonly_missing", t_readonly_missing },
	{ "key_trimmed_id", t_key_trimmed_id },
	{ "repeated_id_link", t_repeated_id_link },
	{ "fallback_keys", t_fallback_keys },
	{ "update_in_place", t_update_in_place },
	{ "unchanged_no_write", t_unchanged_no_write },
	{ "id_rewrite", t_id_rewrite },
	{ "id_rewrite_no_steal", t_id_rewrite_no_steal },
	{ "canon_link", t_canon_link },
	{ "cross_feed_link", t_cross_feed_link },
	{ "retention_count", t_retention_count },
	{ "retention_days", t_retention_days },
	{ "change_log", t_change_log },
	{ "abort_invisible", t_abort_invisible },
	{ "full_disk", t_full_disk },
	{ "read_only_db", t_read_only_db },
	{ "group_commit", t_group_commit },
	{ "group_broken", t_group_broken },
	{ "group_failed_statement", t_group_failed_statement },
	{ "update_fts", t_update_fts },
	{ "feeds_list_counts", t_feeds_list_counts },
	{ "feed_state", t_feed_state },
	{ "read_api", t_read_api },
	{ "status_words", t_status_words },
	{ "tags_and_conf", t_tags_and_conf },
	{ "search_query", t_search_query },
	{ "pg_text_search", t_pg_text_search },
	{ "sqlite_text_search", t_sqlite_text_search },
	{ "migration_from_v2", t_migration_from_v2 },
	{ "shared_links_flat", t_shared_links_flat },
	{ 0 },
};

int
main(int argc, char **argv)
{
	return check_main(argc, argv, cases);
}
