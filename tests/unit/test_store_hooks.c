/*
 * store/hooks.c: a hook's cursor over the change log. Opening (from now
 * or from the start), recording runs (the cursor never moves back,
 * failures and the planned retry, a permanent disable cleared by a new
 * open), the filtered batch read (kinds, feeds, tags, a bound, a limit and
 * how far it read), the backlog count, skipping, and reading it all from a
 * read-only open. Every case gets a fresh database.
 */
#include "store.h"

#include "check.h"
#include "unit/test_store_db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256], dbpath[1200];

static void
fresh(void)
{
	snprintf(dir, sizeof(dir), "/tmp/feedd-test-hooks-XXXXXX");
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
open_db(bool ro)
{
	struct store_opts o = { .readonly = ro };
	struct store *st = NULL;
	char err[512];

	if (store_open(&st, dbpath, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "store_open: %s\n", err);
		return NULL;
	}
	return st;
}

static int64_t
feed(struct store *st, const char *name, const char *tags)
{
	struct store_feed_conf fc = { .name = name, .url = "http://x/",
		.tags = tags };
	int64_t id = 0;

	CHECK_INT_EQ(store_feed_ensure(st, &fc, &id), 0);
	return id;
}

/* Store one document of entries g1..gN (title T, or "T2" for edited). */
static void
refresh(struct store *st, int64_t id, const char *prefix, int n,
	const char *title)
{
	struct store_refresh *r = NULL;
	char guid[32], link[64];

	REQUIRE(store_refresh_begin(st, id, &r) == 0);
	for (int i = 1; i <= n; i++) {
		struct store_article a = { .guid = guid, .link = link,
			.title = title, .text = "body" };
		snprintf(guid, sizeof(guid), "%s%d", prefix, i);
		snprintf(link, sizeof(link), "http://x/%s%d", prefix, i);
		CHECK_INT_EQ(store_refresh_put(r, &a, NULL, NULL), 0);
	}
	CHECK_INT_EQ(store_refresh_commit(r, NULL, NULL), 0);
}

struct got {
	int64_t seq[64];
	char kind[64][8];
	char feed[64][16];
	bool article[64];
	int n;
};

static int
collect(void *ud, const struct store_change_row *c)
{
	struct got *g = ud;

	if (g->n < 64) {
		g->seq[g->n] = c->seq;
		snprintf(g->kind[g->n], sizeof(g->kind[0]), "%s", c->kind);
		snprintf(g->feed[g->n], sizeof(g->feed[0]), "%s", c->feed);
		g->article[g->n] = c->article != NULL &&
			c->article->id == c->article_id;
	}
	g->n++;
	return 0;
}

static void
t_open(void)
{
	struct store *st;
	struct store_hook_state h = { 0 };
	int64_t a;

	fresh();
	REQUIRE((st = open_db(false)));
	a = feed(st, "a", NULL);
	refresh(st, a, "g", 3, "T");
	/* From now: past the three rows already logged. */
	CHECK_INT_EQ(store_hook_open(st, "now", false, &h), 0);
	CHECK_STR_EQ(h.name, "now");
	CHECK_INT_EQ(h.cursor, 3);
	CHECK_INT_EQ(h.failures, 0);
	CHECK_NULL(h.last_error);
	CHECK_INT_EQ(h.last_success, 0);
	store_hook_state_cleanup(&h);
	CHECK_INT_EQ(store_hook_open(st, "all", true, &h), 0);
	CHECK_INT_EQ(h.cursor, 0);
	store_hook_state_cleanup(&h);
	/* Opening again keeps the cursor, whatever from_start says. */
	refresh(st, a, "g", 4, "T");
	CHECK_INT_EQ(store_hook_open(st, "now", true, &h), 0);
	CHECK_INT_EQ(h.cursor, 3);
	store_hook_state_cleanup(&h);
	CHECK_INT_EQ(store_hook_open(st, "", false, NULL), -EINVAL);
	CHECK_INT_EQ(store_hook_get(st, "nobody", &h), -ENOENT);
	store_close(st);
	remove_dir();
}

static void
t_record(void)
{
	struct store *st;
	struct store_hook_state h = { 0 };
	struct store_hook_result fail = { .attempt = 1000, .failures = 1,
		.error = "exited with status 1", .next_attempt = 1005 };
	struct store_hook_result ok = { .attempt = 2000, .ok = true, .cursor = 7 };

	fresh();
	REQUIRE((st = open_db(false)));
	CHECK_INT_EQ(store_hook_open(st, "h", true, NULL), 0);
	CHECK_INT_EQ(store_hook_record(st, "h", &fail), 0);
	CHECK_INT_EQ(store_hook_get(st, "h", &h), 0);
	CHECK_INT_EQ(h.cursor, 0);
	CHECK_INT_EQ(h.failures, 1);
	CHECK_STR_EQ(h.last_error, "exited with status 1");
	CHECK_INT_EQ(h.next_attempt, 1005);
	CHECK_INT_EQ(h.last_attempt, 1000);
	CHECK_INT_EQ(h.last_success, 0);
	CHECK_NULL(h.disabled);
	store_hook_state_cleanup(&h);
	CHECK_INT_EQ(store_hook_record(st, "h", &ok), 0);
	CHECK_INT_EQ(store_hook_get(st, "h", &h), 0);
	CHECK_INT_EQ(h.cursor, 7);
	CHECK_INT_EQ(h.failures, 0);
	CHECK_NULL(h.last_error);
	CHECK_INT_EQ(h.next_attempt, 0);
	CHECK_INT_EQ(h.last_success, 2000);
	store_hook_state_cleanup(&h);
	/* Never backwards. */
	ok.cursor = 3;
	CHECK_INT_EQ(store_hook_record(st, "h", &ok), 0);
	CHECK_INT_EQ(store_hook_get(st, "h", &h), 0);
	CHECK_INT_EQ(h.cursor, 7);
	store_hook_state_cleanup(&h);
	CHECK_INT_EQ(store_hook_skip(st, "h", 5), 0);
	CHECK_INT_EQ(store_hook_skip(st, "h", 9), 0);
	CHECK_INT_EQ(store_hook_get(st, "h", &h), 0);
	CHECK_INT_EQ(h.cursor, 9);
	store_hook_state_cleanup(&h);
	/* A permanent disable, cleared by opening it again. */
	fail.disabled = "HTTP 410";
	CHECK_INT_EQ(store_hook_record(st, "h", &fail), 0);
	CHECK_INT_EQ(store_hook_get(st, "h", &h), 0);
	CHECK_STR_EQ(h.disabled, "HTTP 410");
	store_hook_state_cleanup(&h);
	CHECK_INT_EQ(store_hook_open(st, "h", false, &h), 0);
	CHECK_NULL(h.disabled);
	CHECK_INT_EQ(h.cursor, 9);
	store_hook_state_cleanup(&h);
	CHECK_INT_EQ(store_hook_record(st, "gone", &ok), -ENOENT);
	store_close(st);
	remove_dir();
}

static void
t_changes_filtered(void)
{
	struct store *st;
	int64_t a, b, c, n = -1, scanned = -1;
	const char *fa[] = { "a" }, *tn[] = { "news" };
	struct store_change_filter all = { .new_rows = true, .update_rows = true };
	struct store_change_filter news = { .new_rows = true, .update_rows = true,
		.tags = tn, .ntags = 1 };
	struct store_change_filter a_new = { .new_rows = true, .feeds = fa,
		.nfeeds = 1 };
	struct store_change_filter upd = { .update_rows = true };
	struct store_change_filter either = { .new_rows = true, .feeds = fa,
		.nfeeds = 1, .tags = tn, .ntags = 1 };
	struct got g;

	fresh();
	REQUIRE((st = open_db(false)));
	a = feed(st, "a", NULL);
	b = feed(st, "b", "news,tech");
	c = feed(st, "c", "newsletter");
	refresh(st, a, "a", 2, "T");    /* seq 1, 2 */
	refresh(st, b, "b", 2, "T");    /* 3, 4 */
	refresh(st, c, "c", 1, "T");    /* 5 */
	refresh(st, a, "a", 2, "T2");   /* 6, 7: updates */

	memset(&g, 0, sizeof(g));
	CHECK_INT_EQ(store_hook_changes(st, 0, 0, &all, 0, collect, &g,
		&scanned), 0);
	CHECK_INT_EQ(g.n, 7);
	CHECK_INT_EQ(scanned, 7);
	CHECK_STR_EQ(g.kind[5], "update");
	CHECK(g.article[0] && g.article[6]);

	memset(&g, 0, sizeof(g));
	CHECK_INT_EQ(store_hook_changes(st, 0, 0, &news, 0, collect, &g, NULL), 0);
	/* Whole tags: "newsletter" is not "news". */
	CHECK_INT_EQ(g.n, 2);
	CHECK_INT_EQ(g.seq[0], 3);
	CHECK_STR_EQ(g.feed[1], "b");

	memset(&g, 0, sizeof(g));
	CHECK_INT_EQ(store_hook_changes(st, 0, 0, &a_new, 0, collect, &g, NULL), 0);
	CHECK_INT_EQ(g.n, 2);
	CHECK_INT_EQ(g.seq[1], 2);

	memset(&g, 0, sizeof(g));
	CHECK_INT_EQ(store_hook_changes(st, 0, 0, &upd, 0, collect, &g, NULL), 0);
	CHECK_INT_EQ(g.n, 2);
	CHECK_INT_EQ(g.seq[0], 6);

	memset(&g, 0, sizeof(g));
	CHECK_INT_EQ(store_hook_changes(st, 0, 0, &either, 0, collect, &g, NULL), 0);
	CHECK_INT_EQ(g.n, 4);

	/* A limit: scanned stops at the last row returned. */
	memset(&g, 0, sizeof(g));
	CHECK_INT_EQ(store_hook_changes(st, 0, 0, &news, 1, collect, &g,
		&scanned), 0);
	CHECK_INT_EQ(g.n, 1);
	CHECK_INT_EQ(scanned, 3);
	/* A short page read everything up to the end: nothing of "news"
	 * after seq 4, so a cursor at 7 skips nothing. */
	memset(&g, 0, sizeof(g));
	CHECK_INT_EQ(store_hook_changes(st, 3, 0, &news, 5, collect, &g,
		&scanned), 0);
	CHECK_INT_EQ(g.n, 1);
	CHECK_INT_EQ(scanned, 7);
	/* A bound: a retry reads the same batch, whatever came after. */
	memset(&g, 0, sizeof(g));
	CHECK_INT_EQ(store_hook_changes(st, 1, 4, &all, 0, collect, &g,
		&scanned), 0);
	CHECK_INT_EQ(g.n, 3);
	CHECK_INT_EQ(g.seq[2], 4);
	CHECK_INT_EQ(scanned, 4);
	/* NULL filter: new and update rows of every feed. */
	memset(&g, 0, sizeof(g));
	CHECK_INT_EQ(store_hook_changes(st, 5, 0, NULL, 0, collect, &g, NULL), 0);
	CHECK_INT_EQ(g.n, 2);

	CHECK_INT_EQ(store_hook_backlog(st, 0, &all, &n), 0);
	CHECK_INT_EQ(n, 7);
	CHECK_INT_EQ(store_hook_backlog(st, 4, &news, &n), 0);
	CHECK_INT_EQ(n, 0);
	CHECK_INT_EQ(store_hook_backlog(st, 2, &a_new, &n), 0);
	CHECK_INT_EQ(n, 0);
	CHECK_INT_EQ(store_hook_backlog(st, 0, &either, &n), 0);
	CHECK_INT_EQ(n, 4);
	store_close(st);
	remove_dir();
}

static void
t_purged_article(void)
{
	struct store *st;
	struct store_feed_conf fc = { .name = "k", .url = "http://x/",
		.keep_count = 1 };
	int64_t id = 0;
	struct got g = { 0 };

	fresh();
	REQUIRE((st = open_db(false)));
	REQUIRE(store_feed_ensure(st, &fc, &id) == 0);
	refresh(st, id, "p", 1, "T");   /* seq 1: new p1 */
	refresh(st, id, "q", 1, "T");   /* new q1, then p1 purged */
	CHECK_INT_EQ(store_hook_changes(st, 0, 0, NULL, 0, collect, &g, NULL), 0);
	/* Purge rows are never delivered; p1's new row shows no article. */
	CHECK_INT_EQ(g.n, 2);
	CHECK(!g.article[0]);
	CHECK(g.article[1]);
	store_close(st);
	remove_dir();
}

static int
count_hooks(void *ud, const struct store_hook_state *h)
{
	int *n = ud;

	CHECK(h->name != NULL);
	CHECK_INT_EQ(h->backlog, -1);
	(*n)++;
	return 0;
}

static void
t_readonly(void)
{
	struct store *st, *ro;
	struct store_hook_state h = { 0 };
	struct store_hook_result ok = { .attempt = 1, .ok = true, .cursor = 1 };
	int n = 0;
	int64_t bl = -1;

	fresh();
	REQUIRE((st = open_db(false)));
	CHECK_INT_EQ(store_hook_open(st, "x", true, NULL), 0);
	CHECK_INT_EQ(store_hook_open(st, "y", true, NULL), 0);
	REQUIRE((ro = open_db(true)));
	CHECK_INT_EQ(store_hooks_list(ro, count_hooks, &n), 0);
	CHECK_INT_EQ(n, 2);
	CHECK_INT_EQ(store_hook_get(ro, "y", &h), 0);
	CHECK_STR_EQ(h.name, "y");
	store_hook_state_cleanup(&h);
	CHECK_INT_EQ(store_hook_backlog(ro, 0, NULL, &bl), 0);
	CHECK_INT_EQ(bl, 0);
	CHECK_INT_EQ(store_hook_record(ro, "x", &ok), -EROFS);
	CHECK_INT_EQ(store_hook_open(ro, "z", false, NULL), -EROFS);
	store_close(ro);
	store_close(st);
	remove_dir();
}

static const struct check_case cases[] = {
	{ "open", t_open },
	{ "record", t_record },
	{ "changes_filtered", t_changes_filtered },
	{ "purged_article", t_purged_article },
	{ "readonly", t_readonly },
	{ 0 },
};

int
main(int argc, char **argv)
{
	return check_main(argc, argv, cases);
}
