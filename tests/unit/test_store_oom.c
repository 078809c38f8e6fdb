/*
 * store/ under allocation failure: SQLite's allocator is replaced by one
 * that fails the Nth allocation (store/ allocates through it too, see
 * store_int.h), and one scenario (create + migrate, feeds, refreshes with
 * every dedup path, retention, reads) is replayed for N = 1, 2, ... until
 * it runs without hitting the failure. Each replay must fail cleanly
 * (-ENOMEM or another negative errno, never a crash or a leak under
 * ASan), and the file must afterwards pass integrity_check with every
 * refresh applied whole or not at all.
 */
#include "store.h"
#include "store_int.h"
#include "check.h"

#include <sqlite3.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static sqlite3_mem_methods real;
static long fail_at, count;
static bool failed;

static void
trap_here(void)
{
	/* FEEDD_OOM_ABORT=N: abort at the Nth, for a debugger's backtrace. */
	if (getenv("FEEDD_OOM_ABORT") && atol(getenv("FEEDD_OOM_ABORT")) == fail_at)
		abort();
}

static void *
fm_malloc(int n)
{
	if (fail_at && ++count == fail_at) {
		trap_here();
		failed = true;
		return NULL;
	}
	return real.xMalloc(n);
}

static void *
fm_realloc(void *p, int n)
{
	if (fail_at && ++count == fail_at) {
		trap_here();
		failed = true;
		return NULL;
	}
	return real.xRealloc(p, n);
}

static void
fm_free(void *p)
{
	real.xFree(p);
}

static int
fm_size(void *p)
{
	return real.xSize(p);
}

static int
fm_roundup(int n)
{
	return real.xRoundup(n);
}

static int
fm_init(void *ud)
{
	return real.xInit(ud);
}

static void
fm_shutdown(void *ud)
{
	real.xShutdown(ud);
}

static char path[300];

static char lasterr[600];

/* Run the scenario's rounds in store groups (as the daemon does): a
 * group that cannot be committed is done again unit by unit. */
static bool grouped;

static int
refresh_unit(struct store *st, int64_t id, const struct store_article *a,
	int from, int n, const struct store_feed_result *res)
{
	struct store_refresh *r = NULL;
	int rc = store_refresh_begin(st, id, &r);

	for (int i = from; rc == 0 && i < n; i++)
		rc = store_refresh_put(r, &a[i], NULL, NULL);
	if (r)
		rc = rc < 0 ? (store_refresh_abort(r), rc)
			    : store_refresh_commit(r, res, NULL);
	return rc;
}

/* The scenario on an open store; returns the first error (or 0). */
static int
scenario_on(struct store *st)
{
	struct store_feed_conf fa = { .name = "a", .url = "https://a/",
		.keep_count = 3, .tags = " news ,tech", .title = "A" };
	struct store_feed_conf fb = { .name = "b", .url = "https://b/" };
	int64_t ida = 0, idb = 0;
	int rc;

	rc = store_feed_ensure(st, &fa, &ida);
	if (rc == 0)
		rc = store_feed_ensure(st, &fb, &idb);
	if (rc == 0)
		rc = store_feed_set_due(st, idb, 10);
	for (int round = 0; rc == 0 && round < 3; round++) {
		struct store_article docs[2][5] = {
			{
				{ .guid = " g1 ", .link = "https://x.org/1?utm_source=a", .title = "One", .text = "alpha",
				  .summary = round == 2 ? "<p>alpha <b>edited</b> &amp; more</p>" : "<p>alpha &amp; more</p>" },
				{ .guid = "g1", .link = "https://x.org/2", .title = "Two", .text = "beta" },
				{ .link = "https://x.org/3", .title = "Three", .text = "gamma" },
				{ .title = "Four", .published = "2024-01-01T00:00:00Z", .text = "delta",
				  .summary = "<p>delta</p>" },
				{ .guid = round ? "https://g/5" : "http://g/5", .link = "https://x.org/5", .title = "Five", .text = round == 2 ? "edited" : "eps" },
			},
			{
				{ .guid = "b1", .link = "HTTPS://X.org:443/1#frag", .title = "One (b)", .text = "alpha" },
			},
		};
		struct store_refresh *r = NULL;
		struct store_feed_result res = { .attempt = 1000 + round, .ok = true,
			.http_status = 200, .etag = "\"e\"", .next_due = 5000,
			.document = true, .malformed = round == 1,
			.warning = round == 1 ? "line 1: recovered" : NULL };
		/* Round 1 drops entries 0..1 from a's document: retention
		 * (keep 3) purges what is not listed. */
		int from = round == 1 ? 2 : 0;

		if (grouped && store_group_begin(st) == 0) {
			struct store_feed_result nm = { .attempt = 1000 + round,
				.ok = true, .not_modified = true,
				.http_status = 304, .next_due = 6000 };
			int ra = refresh_unit(st, ida, docs[0], from, 5, &res);
			int rb = refresh_unit(st, idb, docs[1], 0, 1, &res);
			int rn = store_feed_record(st, idb, &nm);

			if (store_group_commit(st) == 0) {
				rc = ra < 0 ? ra : rb < 0 ? rb : rn;
				if (rc < 0)
					break;
				continue;
			}
			/* Nothing of the group is stored: each unit alone. */
			rc = refresh_unit(st, ida, docs[0], from, 5, &res);
			if (rc == 0)
				rc = refresh_unit(st, idb, docs[1], 0, 1, &res);
			if (rc == 0)
				rc = store_feed_record(st, idb, &nm);
			if (rc < 0)
				break;
			continue;
		}
		rc = store_refresh_begin(st, ida, &r);
		for (int i = from; rc == 0 && i < 5; i++)
			rc = store_refresh_put(r, &docs[0][i], NULL, NULL);
		if (r)
			rc = rc < 0 ? (store_refresh_abort(r), rc)
				    : store_refresh_commit(r, &res, NULL);
		if (rc < 0)
			break;
		r = NULL;
		rc = store_refresh_begin(st, idb, &r);
		if (rc == 0)
			rc = store_refresh_put(r, &docs[1][0], NULL, NULL);
		if (r)
			rc = rc < 0 ? (store_refresh_abort(r), rc)
				    : store_refresh_commit(r, &res, NULL);
	}
	if (rc == 0) {
		struct store_feed_state s;
		rc = store_feed_get(st, "a", &s);
		if (rc == 0)
			store_feed_state_cleanup(&s);
	}
	if (rc < 0)
		snprintf(lasterr, sizeof(lasterr), "%s", store_errmsg(st));
	return rc;
}

/* Connections the store replaced after running out of memory. */
static unsigned long reconnects;

/* Open (allocations not counted unless count_open), then the scenario. */
static int
scenario(bool count_open)
{
	struct store_opts o = { .sync_normal = true };
	struct store *st = NULL;
	long saved = fail_at;
	char err[512];
	int rc;

	if (!count_open)
		fail_at = 0;
	rc = store_open(&st, path, &o, err, sizeof(err));
	fail_at = saved;
	if (rc < 0) {
		snprintf(lasterr, sizeof(lasterr), "%s", err);
		return rc;
	}
	rc = scenario_on(st);
	reconnects += st->reconnects;
	store_close(st);
	return rc;
}

static int
nop_article(void *ud, const struct store_article_row *a)
{
	(void)ud;
	(void)a;
	return 0;
}

static int
nop_change(void *ud, const struct store_change_row *c)
{
	(void)ud;
	(void)c;
	return 0;
}

static int
nop_feed(void *ud, const struct store_feed_state *f)
{
	(void)ud;
	(void)f;
	return 0;
}

/* The read API on a finished database, failing the Nth allocation. */
static int
read_scenario(void)
{
	struct store_opts o = { .readonly = true };
	struct store *st = NULL;
	struct store_query q = { .unique = true };
	struct store_query tq = { .tag = "tech", .since = 1 };
	char err[512];
	int rc = store_open(&st, path, &o, err, sizeof(err));

	if (rc < 0)
		return rc;
	rc = store_articles_query(st, &q, nop_article, NULL);
	if (rc == 0)
		rc = store_articles_query(st, &tq, nop_article, NULL);
	if (rc == 0)
		rc = store_search(st, "alpha", 0, nop_article, NULL);
	if (rc == 0)
		rc = store_search_query(st, "more", &tq, nop_article, NULL);
	if (rc == 0)
		rc = store_changes_after(st, 0, NULL, false, 0, nop_change, NULL);
	if (rc == 0)
		rc = store_feeds_list(st, true, nop_feed, NULL);
	if (rc == 0)
		rc = store_article_get(st, 2, nop_article, NULL);
	if (rc < 0)
		snprintf(lasterr, sizeof(lasterr), "%s", store_errmsg(st));
	store_close(st);
	return rc;
}

static int64_t
q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int64_t v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
		sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static void
remove_db(void)
{
	char p[320];
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

/* After a failed replay: a sound file, and whole refreshes only. */
static void
check_consistent(long n)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return; /* failed before the file existed */
	}
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) == SQLITE_OK &&
		sqlite3_step(s) == SQLITE_ROW) {
		if (strcmp((const char *)sqlite3_column_text(s, 0), "ok") != 0) {
			fprintf(stderr, "N=%ld: integrity_check: %s\n", n,
				sqlite3_column_text(s, 0));
			CHECK(0);
		}
	}
	sqlite3_finalize(s);
	if (q_int(db, "PRAGMA user_version") == store_schema_version()) {
		/* Every article has its "new" row; every purge its article. */
		int64_t arts = q_int(db, "SELECT count(*) FROM articles");
		int64_t news = q_int(db, "SELECT count(*) FROM changes WHERE kind = 'new'");
		int64_t purges = q_int(db, "SELECT count(*) FROM changes WHERE kind = 'purge'");
		if (arts + purges != news)
			fprintf(stderr, "N=%ld: %lld articles + %lld purges != %lld new\n",
				n, (long long)arts, (long long)purges, (long long)news);
		CHECK_INT_EQ(arts + purges, news);
		CHECK_INT_EQ(q_int(db, "SELECT count(*) FROM purged"), purges);
		CHECK_INT_EQ(q_int(db, "SELECT count(*) FROM articles_fts"), arts);
		/* The index itself matches the articles. */
		if (sqlite3_exec(db, "INSERT INTO articles_fts(articles_fts, rank)"
			" VALUES ('integrity-check', 1)", NULL, NULL, NULL) != SQLITE_OK) {
			fprintf(stderr, "N=%ld: fts integrity-check: %s\n", n,
				sqlite3_errmsg(db));
			CHECK(0);
		}
	}
	sqlite3_close(db);
}

/* Every N up to DENSE, then every STRIDE-th (FEEDD_OOM_STRIDE; default
 * 1: every allocation of the scenarios, about 45 s under ASan on 2 cores;
 * every one matters: the full-text index corruption fixed by
 * store__reconnect_if_needed() showed only at a few of them). */
#define DENSE 300
static long stride = 1;

static long
next_n(long n)
{
	return n < DENSE ? n + 1 : n + stride;
}

static bool
acceptable(long n, int rc)
{
	/* SQLite reports some failed allocations as I/O errors, and treats
	 * some as benign (the operation then succeeds). */
	if (rc == 0 || rc == -ENOMEM || rc == -EIO)
		return true;
	fprintf(stderr, "N=%ld: unexpected %s: %s\n", n, strerror(-rc), lasterr);
	return false;
}

/* A fresh file: create and migrate with the Nth allocation failing (every
 * N up to 100, then every 97th: a migration makes ~8,000); the
 * next open (no failure) must always succeed and find the schema whole. */
static void
t_oom_open(void)
{
	struct store_opts o = { .sync_normal = true };
	long n, runs = 0;

	for (n = 1; n < 100000; n = n < 100 ? n + 1 : n + 97) {
		struct store *st = NULL;
		char err[512];
		int rc;

		remove_db();
		count = 0;
		failed = false;
		fail_at = n;
		rc = store_open(&st, path, &o, err, sizeof(err));
		fail_at = 0;
		store_close(st);
		runs++;
		if (!failed) {
			CHECK_INT_EQ(rc, 0);
			break;
		}
		snprintf(lasterr, sizeof(lasterr), "%s", err);
		CHECK(acceptable(n, rc));
		st = NULL;
		rc = store_open(&st, path, &o, err, sizeof(err));
		if (rc < 0)
			fprintf(stderr, "N=%ld: reopening failed: %s\n", n, err);
		CHECK_INT_EQ(rc, 0);
		store_close(st);
		check_consistent(n);
		if (check_failures)
			break;
	}
	fprintf(stderr, "oom_open: %ld replays, done at allocation %ld\n", runs, n);
	CHECK(n > 100);
}

static int
copy_file(const char *from, const char *to)
{
	char buf[65536];
	size_t n;
	int rc = 0;
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");

	if (!in || !out)
		rc = -1;
	while (rc == 0) {
		n = fread(buf, 1, sizeof(buf), in);
		if (n == 0)
			break;
		if (fwrite(buf, 1, n, out) != n)
			rc = -1;
	}
	if (in)
		fclose(in);
	if (out && fclose(out) != 0)
		rc = -1;
	return rc;
}

static void
oom_write(const char *what)
{
	char tmpl[320];
	long n, runs = 0;
	int rc;

	/* A template file with the schema, copied for every replay. */
	remove_db();
	{
		struct store_opts o = { .sync_normal = true };
		struct store *st = NULL;
		char err[512];
		REQUIRE(store_open(&st, path, &o, err, sizeof(err)) == 0);
		store_close(st);
	}
	snprintf(tmpl, sizeof(tmpl), "%s.tmpl", path);
	REQUIRE(copy_file(path, tmpl) == 0);
	/* FEEDD_OOM_FROM=N: start the replay at allocation N. */
	n = getenv("FEEDD_OOM_FROM") ? atol(getenv("FEEDD_OOM_FROM")) : 1;
	for (n = n > 0 ? n : 1; n < 100000; n = next_n(n)) {
		remove_db();
		REQUIRE(copy_file(tmpl, path) == 0);
		count = 0;
		failed = false;
		fail_at = n;
		rc = scenario(false);
		fail_at = 0;
		runs++;
		if (!failed) {
			if (rc < 0)
				fprintf(stderr, "final run: %s\n", lasterr);
			CHECK_INT_EQ(rc, 0);
			break;
		}
		CHECK(acceptable(n, rc));
		check_consistent(n);
		if (check_failures)
			break;
	}
	fprintf(stderr, "%s: %ld replays, done at allocation %ld\n", what, runs, n);
	CHECK(n > 500);
	check_consistent(0);
	/* The complete run left the expected state. */
	sqlite3 *db = NULL;
	REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK_INT_EQ(q_int(db, "SELECT count(*) FROM articles WHERE feed_id = 1"), 4);
	CHECK_INT_EQ(q_int(db, "SELECT revision FROM articles WHERE title = 'Five'"), 2);
	CHECK_INT_EQ(q_int(db, "SELECT count(*) FROM purged"), 1);
	sqlite3_close(db);
	unlink(tmpl);
}

static void
t_oom_write(void)
{
	grouped = false;
	oom_write("oom_write");
}

/* The same in groups: a failed unit costs only itself, a failed group
 * nothing (its units are done again alone), and the file stays whole. */
static void
t_oom_group(void)
{
	grouped = true;
	reconnects = 0;
	oom_write("oom_group");
	grouped = false;
	/* A group that failed for want of memory was redone unit by unit
	 * on a new connection (store__reconnect_if_needed()). */
	fprintf(stderr, "oom_group: %lu connections replaced\n", reconnects);
	CHECK(reconnects > 0);
}

static void
t_oom_read(void)
{
	long n;
	int rc;

	remove_db();
	REQUIRE(scenario(true) == 0);
	for (n = 1; n < 100000; n = next_n(n)) {
		count = 0;
		failed = false;
		fail_at = n;
		rc = read_scenario();
		fail_at = 0;
		if (!failed) {
			CHECK_INT_EQ(rc, 0);
			break;
		}
		/* FTS5 reports some failed allocations while parsing the
		 * query as a syntax error, which the store maps to -EINVAL. */
		if (rc == -EINVAL && strstr(lasterr, "fts5"))
			continue;
		if (!acceptable(n, rc)) {
			CHECK(0);
			break;
		}
	}
	fprintf(stderr, "oom_read: done at allocation %ld\n", n);
	CHECK(n > 10);
	remove_db();
}

static const struct check_case cases[] = {
	{ "oom_open", t_oom_open },
	{ "oom_write", t_oom_write },
	{ "oom_group", t_oom_group },
	{ "oom_read", t_oom_read },
	{ 0 },
};

int
main(int argc, char **argv)
{
	static const sqlite3_mem_methods fm = { fm_malloc, fm_free, fm_realloc,
		fm_size, fm_roundup, fm_init, fm_shutdown, NULL };
	char dir[64];
	int rc;

	snprintf(dir, sizeof(dir), "%s/feedd-oom-XXXXXX",
		access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/oom.db", dir);
	if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &real) != SQLITE_OK ||
		sqlite3_config(SQLITE_CONFIG_MALLOC, &fm) != SQLITE_OK) {
		fprintf(stderr, "cannot replace the SQLite allocator: skip\n");
		return 77;
	}
	if (getenv("FEEDD_OOM_STRIDE"))
		stride = atol(getenv("FEEDD_OOM_STRIDE")) > 0
			? atol(getenv("FEEDD_OOM_STRIDE")) : 1;
	/* Lookaside would hide small allocations from the hook. */
	sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 0, 0);
	rc = check_main(argc, argv, cases);
	remove_db();
	rmdir(dir);
	return rc;
}
