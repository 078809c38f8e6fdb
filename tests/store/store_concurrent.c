/*
 * Integration test: a reader process reads in a loop (feed list, newest
 * articles, change log by cursor, full-text search, data_version) while a
 * writer process stores thousands of articles in refreshes of BATCH.
 * Neither side may see an error, and the reader must only ever see whole
 * refreshes (every feed's article count a multiple of BATCH).
 *
 *   store_concurrent DIR [REFRESHES]
 *
 * With FEEDD_TEST_PG (or FEEDD_TEST_PG_FILE) set, the same on a fresh
 * PostgreSQL database instead of DIR/concurrent.db.
 */
#include "store.h"
#include "unit/test_store_db.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BATCH 25
#define NFEEDS 4

static char dbpath[1200];

static int
writer(int refreshes)
{
	struct store *st = NULL;
	/* NORMAL: this test is about concurrency, not fsync latency. */
	struct store_opts o = { .sync_normal = true };
	int64_t fid[NFEEDS];
	char err[512];
	int rc;

	rc = store_open(&st, dbpath, &o, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "writer: open: %s\n", err);
		return 1;
	}
	for (int f = 0; f < NFEEDS; f++) {
		char name[16];
		struct store_feed_conf c = { .name = name, .url = "https://example.org/f", .keep_days = 0, .keep_count = 0 };
		snprintf(name, sizeof(name), "feed%d", f);
		rc = store_feed_ensure(st, &c, &fid[f]);
		if (rc < 0)
			goto fail;
	}
	for (int n = 0; n < refreshes; n++) {
		struct store_refresh *r = NULL;
		int f = n % NFEEDS, round = n / NFEEDS;
		struct store_feed_result res = { .attempt = 1700000000 + n,
			.ok = true, .http_status = 200, .next_due = 1700003600 + n };

		rc = store_refresh_begin(st, fid[f], &r);
		if (rc < 0)
			goto fail;
		/* The document: BATCH new entries, plus the previous round's
		 * entries again, edited every third round (updates in place). */
		for (int pass = 0; pass < 2 && rc == 0; pass++) {
			int rr = round - pass;
			if (rr < 0)
				break;
			for (int i = 0; i < BATCH && rc == 0; i++) {
				char guid[64], title[128], text[256], link[128];
				struct store_article a = { .guid = guid, .title = title,
					.text = text, .link = link };
				snprintf(guid, sizeof(guid), "f%d-r%d-%d", f, rr, i);
				snprintf(link, sizeof(link), "https://example.org/%s", guid);
				snprintf(title, sizeof(title), "Entry %d of round %d%s", i,
					rr, pass && round % 3 == 0 ? " (edited)" : "");
				snprintf(text, sizeof(text), "Tomatoes and words %d %d", i,
					rr);
				rc = store_refresh_put(r, &a, NULL, NULL);
			}
		}
		if (rc < 0) {
			store_refresh_abort(r);
			goto fail;
		}
		rc = store_refresh_commit(r, &res, NULL);
		if (rc < 0)
			goto fail;
	}
	store_close(st);
	return 0;
fail:
	fprintf(stderr, "writer: %s: %s\n", strerror(-rc), store_errmsg(st));
	store_close(st);
	return 1;
}

struct rstate {
	int64_t total;
	int64_t seq;
	int bad;
};

static int
check_feed(void *ud, const struct store_feed_state *f)
{
	struct rstate *s = ud;
	if (f->articles % BATCH != 0) {
		fprintf(stderr, "reader: feed %s has %" PRId64 " articles: a "
			"refresh was seen half-done\n", f->name, f->articles);
		s->bad++;
	}
	s->total += f->articles;
	return 0;
}

static int
count_article(void *ud, const struct store_article_row *a)
{
	(void)a;
	(*(int64_t *)ud)++;
	return 0;
}

static int
follow_change(void *ud, const struct store_change_row *c)
{
	struct rstate *s = ud;
	if (c->seq <= s->seq) {
		fprintf(stderr, "reader: seq went back %" PRId64 " -> %" PRId64 "\n",
			s->seq, c->seq);
		s->bad++;
	}
	s->seq = c->seq;
	return 0;
}

static int
reader(int stop_fd)
{
	struct store *st = NULL;
	struct store_opts o = { .readonly = true };
	struct rstate s = { 0 };
	char err[512], c;
	long loops = 0;
	int rc = 0;
	int64_t dv;

	rc = store_open(&st, dbpath, &o, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "reader: open: %s\n", err);
		return 1;
	}
	fcntl(stop_fd, F_SETFL, O_NONBLOCK);
	for (;;) {
		int64_t n = 0;
		struct store_query q = { .limit = 50, .no_bodies = true };
		s.total = 0;
		rc = store_data_version(st, &dv);
		if (rc == 0)
			rc = store_feeds_list(st, true, check_feed, &s);
		if (rc == 0)
			rc = store_articles_query(st, &q, count_article, &n);
		if (rc == 0)
			rc = store_changes_after(st, s.seq, NULL, false, 0,
				follow_change, &s);
		if (rc == 0)
			rc = store_search(st, "tomatoes", 5, count_article, &n);
		if (rc < 0 || s.bad)
			break;
		loops++;
		/* EOF on the pipe: the writer is done. */
		if (read(stop_fd, &c, 1) == 0)
			break;
	}
	if (rc < 0)
		fprintf(stderr, "reader: %s: %s\n", strerror(-rc), store_errmsg(st));
	fprintf(stderr, "reader: %ld loops, last total %" PRId64 ", last seq %" PRId64 "\n",
		loops, s.total, s.seq);
	store_close(st);
	return rc < 0 || s.bad || loops < 5 ? 1 : 0;
}

int
main(int argc, char **argv)
{
	int refreshes = argc > 2 ? atoi(argv[2]) : 200;
	int pfd[2], ws, rs;
	pid_t w, r;
	struct store *st = NULL;
	struct store_opts o = { 0 };
	char err[512];

	if (argc < 2) {
		fprintf(stderr, "usage: store_concurrent DIR [REFRESHES]\n");
		return 2;
	}
	{
		char file[600];

		snprintf(file, sizeof(file), "%s/concurrent.db", argv[1]);
		unlink(file);
		test_store_fresh(dbpath, sizeof(dbpath), file);
		atexit(test_store_drop);
	}
	/* Create the file first so the reader can open it read-only. */
	if (store_open(&st, dbpath, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	store_close(st);
	if (pipe(pfd) < 0)
		return 1;
	r = fork();
	if (r == 0) {
		close(pfd[1]);
		_exit(reader(pfd[0]));
	}
	w = fork();
	if (w == 0) {
		close(pfd[0]);
		close(pfd[1]);
		_exit(writer(refreshes));
	}
	close(pfd[0]);
	waitpid(w, &ws, 0);
	close(pfd[1]);
	waitpid(r, &rs, 0);
	if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
		fprintf(stderr, "FAIL: the writer failed\n");
		return 1;
	}
	if (!WIFEXITED(rs) || WEXITSTATUS(rs) != 0) {
		fprintf(stderr, "FAIL: the reader failed\n");
		return 1;
	}
	/* Everything arrived. */
	o.readonly = true;
	if (store_open(&st, dbpath, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	int64_t n = 0;
	struct store_query q = { .no_bodies = true };
	if (store_articles_query(st, &q, count_article, &n) < 0 ||
		n != (int64_t)refreshes * BATCH) {
		fprintf(stderr, "FAIL: %" PRId64 " articles stored, expected %d\n", n,
			refreshes * BATCH);
		store_close(st);
		return 1;
	}
	store_close(st);
	printf("ok: %" PRId64 " articles written while a reader read\n", n);
	return 0;
}
