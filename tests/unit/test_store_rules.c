/* unit.store_rules: what the store does for keep/block rules: entries
 * put with block_new (never stored, never in the change log, their keys
 * remembered, stored articles untouched by them) and the rule counts
 * added in the refresh's transaction. */
#include "store.h"
#include "store_int.h"
#include "check.h"
#include "unit/test_store_db.h"

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

static struct store *
open_db(bool readonly)
{
	struct store_opts o = { .clock = clock_cb, .readonly = readonly };
	struct store *st = NULL;
	char err[512];

	if (store_open(&st, dbpath, &o, err, sizeof(err)) < 0)
		fprintf(stderr, "store_open: %s\n", err);
	return st;
}

static struct store *
fresh(void)
{
	fake_now = 1700000000;
	snprintf(dir, sizeof(dir), "/tmp/feedd-test-store-rules-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	{
		char file[300];

		snprintf(file, sizeof(file), "%s/feeds.db", dir);
		test_store_fresh(dbpath, sizeof(dbpath), file);
	}
	return open_db(false);
}

static void
finish(struct store *st)
{
	const char *sfx[] = { "", "-wal", "-shm", "-journal" };
	char p[1300];

	store_close(st);
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s%s", dbpath, sfx[i]);
		unlink(p);
	}
	rmdir(dir);
	test_store_drop();
}

static int64_t
feed(struct store *st, int keep_count)
{
	struct store_feed_conf c = { .name = "f", .url = "https://example.org/f",
		.keep_count = keep_count };
	int64_t id = 0;

	CHECK_INT_EQ(store_feed_ensure(st, &c, &id), 0);
	return id;
}

/* One document: every entry expected, then put; outcomes into oc. */
static int
refresh(struct store *st, int64_t fid, const struct store_article *a, size_t n,
	enum store_put_outcome *oc, struct store_refresh_stats *stats)
{
	struct store_refresh *r = NULL;
	struct store_feed_result res = { .attempt = fake_now, .ok = true,
		.http_status = 200, .next_due = fake_now + 3600, .document = true };
	int rc = store_refresh_begin(st, fid, &r);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		CHECK_INT_EQ(store_refresh_expect(r, &a[i]), 0);
	for (size_t i = 0; i < n; i++) {
		rc = store_refresh_put(r, &a[i], &oc[i], NULL);
		if (rc < 0) {
			store_refresh_abort(r);
			return rc;
		}
	}
	return store_refresh_commit(r, &res, stats);
}

struct seen {
	int n;
	char titles[16][32];
};

static int
article_cb(void *ud, const struct store_article_row *a)
{
	struct seen *s = ud;

	if (s->n < 16)
		snprintf(s->titles[s->n], sizeof(s->titles[0]), "%s",
			a->title ? a->title : "");
	s->n++;
	return 0;
}

static bool
stored(struct store *st, const char *title)
{
	struct store_query q = { .oldest_first = true };
	struct seen s = { 0 };

	CHECK_INT_EQ(store_articles_query(st, &q, article_cb, &s), 0);
	for (int i = 0; i < s.n && i < 16; i++)
		if (strcmp(s.titles[i], title) == 0)
			return true;
	return false;
}

static int
count_changes(void *ud, const struct store_change_row *c)
{
	(void)c;
	(*(int *)ud)++;
	return 0;
}

static int
changes(struct store *st)
{
	int n = 0;

	CHECK_INT_EQ(store_changes_after(st, 0, NULL, false, 0, count_changes, &n), 0);
	return n;
}

static void
t_block_new(void)
{
	struct store *st = fresh();
	int64_t fid;
	enum store_put_outcome oc[3];
	struct store_refresh_stats stats = { 0 };
	struct store_article a[3] = {
		{ .guid = "1", .title = "Kept" },
		{ .guid = "2", .title = "Ad", .block_new = true },
		{ .guid = "3", .title = "Kept too" },
	};

	REQUIRE(st);
	fid = feed(st, 0);
	CHECK_INT_EQ(refresh(st, fid, a, 3, oc, &stats), 0);
	CHECK_INT_EQ(oc[0], STORE_PUT_NEW);
	CHECK_INT_EQ(oc[1], STORE_PUT_BLOCKED);
	CHECK_INT_EQ(oc[2], STORE_PUT_NEW);
	CHECK_INT_EQ(stats.inserted, 2);
	CHECK_INT_EQ(stats.blocked, 1);
	CHECK(stored(st, "Kept"));
	CHECK(!stored(st, "Ad"));
	CHECK_INT_EQ(changes(st), 2);

	/* The next (changed) document: the blocked entry is known. */
	a[0].title = "Kept, edited";
	fake_now += 60;
	CHECK_INT_EQ(refresh(st, fid, a, 3, oc, &stats), 0);
	CHECK_INT_EQ(oc[0], STORE_PUT_UPDATED);
	CHECK_INT_EQ(oc[1], STORE_PUT_BLOCKED_AGAIN);
	CHECK_INT_EQ(oc[2], STORE_PUT_UNCHANGED);
	CHECK(!stored(st, "Ad"));
	CHECK_INT_EQ(changes(st), 3);

	/* The rule went away: the entry is new now, stored once. */
	a[1].block_new = false;
	fake_now += 60;
	CHECK_INT_EQ(refresh(st, fid, a, 3, oc, &stats), 0);
	CHECK_INT_EQ(oc[1], STORE_PUT_NEW);
	CHECK(stored(st, "Ad"));
	CHECK_INT_EQ(changes(st), 4);

	/* A rule added later never blocks a stored article: it is updated
	 * as before. */
	a[1].block_new = true;
	a[1].title = "Ad, edited";
	fake_now += 60;
	CHECK_INT_EQ(refresh(st, fid, a, 3, oc, &stats), 0);
	CHECK_INT_EQ(oc[1], STORE_PUT_UPDATED);
	CHECK(stored(st, "Ad, edited"));
	finish(st);
}

/* A blocked entry protects no stored article from retention, and an
 * article in the document is kept whether or not entries around it are
 * blocked. */
static void
t_block_retention(void)
{
	struct store *st = fresh();
	int64_t fid;
	enum store_put_outcome oc[3];
	struct store_article a[3] = {
		{ .guid = "old", .title = "Old", .published = "2023-01-01T00:00:00Z" },
	};

	REQUIRE(st);
	fid = feed(st, 1);
	CHECK_INT_EQ(refresh(st, fid, a, 1, oc, NULL), 0);
	CHECK(stored(st, "Old"));
	/* Newer blocked entries before it: "Old" stays (it is in the
	 * document, and blocked entries count for nothing). */
	a[0] = (struct store_article){ .guid = "b1", .title = "B1", .block_new = true,
		.published = "2023-06-01T00:00:00Z" };
	a[1] = (struct store_article){ .guid = "b2", .title = "B2", .block_new = true,
		.published = "2023-06-02T00:00:00Z" };
	a[2] = (struct store_article){ .guid = "old", .title = "Old",
		.published = "2023-01-01T00:00:00Z" };
	fake_now += 60;
	CHECK_INT_EQ(refresh(st, fid, a, 3, oc, NULL), 0);
	CHECK_INT_EQ(oc[0], STORE_PUT_BLOCKED);
	CHECK_INT_EQ(oc[2], STORE_PUT_UNCHANGED);
	CHECK(stored(st, "Old"));
	CHECK_INT_EQ(changes(st), 1);
	/* A document of blocked entries only: the stored article is no
	 * longer in it, so keep-count 1 keeps it (the newest stored). */
	fake_now += 60;
	CHECK_INT_EQ(refresh(st, fid, a, 2, oc, NULL), 0);
	CHECK_INT_EQ(oc[0], STORE_PUT_BLOCKED_AGAIN);
	CHECK(stored(st, "Old"));
	finish(st);
}

struct counts {
	int n;
	char name[4][16], action[4][8];
	int64_t matches[4], last[4];
};

static int
count_cb(void *ud, const struct store_rule_count *c)
{
	struct counts *k = ud;

	if (k->n < 4) {
		snprintf(k->name[k->n], sizeof(k->name[0]), "%s", c->name);
		snprintf(k->action[k->n], sizeof(k->action[0]), "%s",
			c->action ? c->action : "");
		k->matches[k->n] = c->matches;
		k->last[k->n] = c->last_match;
	}
	k->n++;
	return 0;
}

static void
t_rule_counts(void)
{
	struct store *st = fresh(), *ro;
	struct store_refresh *r = NULL;
	struct counts k = { 0 };
	int64_t fid;

	REQUIRE(st);
	fid = feed(st, 0);
	CHECK_INT_EQ(store_rule_counts_list(st, count_cb, &k), 0);
	CHECK_INT_EQ(k.n, 0);

	REQUIRE(store_refresh_begin(st, fid, &r) == 0);
	CHECK_INT_EQ(store_refresh_rule_count(r, "ads", "block", 2), 0);
	CHECK_INT_EQ(store_refresh_rule_count(r, "rust", "keep", 1), 0);
	CHECK_INT_EQ(store_refresh_rule_count(r, "ads", "block", 0), -EINVAL);
	CHECK_INT_EQ(store_refresh_rule_count(r, "", "block", 1), -EINVAL);
	CHECK_INT_EQ(store_refresh_commit(r, NULL, NULL), 0);

	/* An aborted refresh adds nothing. */
	fake_now += 100;
	REQUIRE(store_refresh_begin(st, fid, &r) == 0);
	CHECK_INT_EQ(store_refresh_rule_count(r, "ads", "block", 5), 0);
	store_refresh_abort(r);

	fake_now += 100;
	REQUIRE(store_refresh_begin(st, fid, &r) == 0);
	CHECK_INT_EQ(store_refresh_rule_count(r, "ads", "block", 3), 0);
	CHECK_INT_EQ(store_refresh_commit(r, NULL, NULL), 0);

	/* Readers see them read-only, by name. */
	ro = open_db(true);
	REQUIRE(ro);
	CHECK_INT_EQ(store_rule_counts_list(ro, count_cb, &k), 0);
	CHECK_INT_EQ(k.n, 2);
	CHECK_STR_EQ(k.name[0], "ads");
	CHECK_STR_EQ(k.action[0], "block");
	CHECK_INT_EQ(k.matches[0], 5);
	CHECK_INT_EQ(k.last[0], 1700000200);
	CHECK_STR_EQ(k.name[1], "rust");
	CHECK_STR_EQ(k.action[1], "keep");
	CHECK_INT_EQ(k.matches[1], 1);
	CHECK_INT_EQ(k.last[1], 1700000000);
	store_close(ro);

	/* A spoiled refresh refuses more counts with its error. */
	REQUIRE(store_refresh_begin(st, fid, &r) == 0);
	CHECK_INT_EQ(store__exec(st, test_sql("PRAGMA query_only = 1",
		"SET TRANSACTION READ ONLY")), 0);
	CHECK(store_refresh_rule_count(r, "ads", "block", 1) < 0);
	CHECK(store_refresh_rule_count(r, "ads", "block", 1) < 0);
	CHECK(store_refresh_commit(r, NULL, NULL) < 0);
	CHECK_INT_EQ(store__exec(st, test_sql("PRAGMA query_only = 0",
		"SET default_transaction_read_only = off")), 0);
	k.n = 0;
	CHECK_INT_EQ(store_rule_counts_list(st, count_cb, &k), 0);
	CHECK_INT_EQ(k.matches[0], 5);

	/* The count is in the same transaction as the articles, within a
	 * group too: the group's abort drops both. */
	REQUIRE(store_group_begin(st) == 0);
	REQUIRE(store_refresh_begin(st, fid, &r) == 0);
	CHECK_INT_EQ(store_refresh_rule_count(r, "ads", "block", 7), 0);
	CHECK_INT_EQ(store_refresh_commit(r, NULL, NULL), 0);
	store_group_abort(st);
	k.n = 0;
	CHECK_INT_EQ(store_rule_counts_list(st, count_cb, &k), 0);
	CHECK_INT_EQ(k.matches[0], 5);
	finish(st);
}

static const struct check_case cases[] = {
	{ "block_new", t_block_new },
	{ "block_retention", t_block_retention },
	{ "rule_counts", t_rule_counts },
	{ 0 },
};

int
main(int argc, char **argv)
{
	return check_main(argc, argv, cases);
}
