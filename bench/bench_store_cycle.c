/*
 * bench_store_cycle: the store's cost of one refresh cycle over many
 * feeds, on any backend (a SQLite path or a PostgreSQL connection string).
 *
 *   bench_store_cycle --db TARGET [--feeds N] [--articles M] [--grow G]
 *
 * The database must be empty (a new file, or a fresh PostgreSQL
 * database). Phases, each one refresh per feed with a poll record:
 *   fresh      every feed brings M new articles (N x M rows);
 *   unchanged  the same documents again: no article row written;
 *   grow       G - 1 more fresh cycles (not timed), so the database holds
 *              G times the first cycle's articles;
 *   fresh-big  one more fresh cycle against the grown database;
 *   unch-big   that cycle's documents again.
 * For each timed phase it prints the wall seconds, this process's CPU
 * seconds, and the wall and CPU cost per feed in microseconds. On
 * PostgreSQL the server's own CPU time is not in these figures (run the
 * server on the same machine and compare wall time). bench/pg_store.sh
 * runs it on both backends and prints the ratios.
 */
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
clock_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One feed's document: entries first .. first+m-1 of feed f. */
static int
store_feed_doc(struct store *st, int64_t fid, int f, int first, int m,
	int64_t attempt)
{
	struct store_refresh *r = NULL;
	struct store_feed_result res = { .attempt = attempt, .ok = true,
		.http_status = 200, .next_due = attempt + 3600 };
	char guid[64], link[128], title[128], text[600], pub[32];
	int rc = store_refresh_begin(st, fid, &r);

	for (int i = first; rc == 0 && i < first + m; i++) {
		struct store_article a = { .guid = guid, .link = link,
			.title = title, .text = text, .published = pub,
			.summary = "<p>A summary of the post, one sentence long.</p>",
			.content = "<p>The post's content, with a paragraph or two"
				" of markup in it.</p><p>And a second one.</p>",
			.author = "A. Writer", .categories_json = "[\"news\"]",
			.enclosures_json = "[]" };

		snprintf(guid, sizeof(guid), "tag:feed%d.example,2024:%d", f, i);
		snprintf(link, sizeof(link), "https://feed%d.example/p/%d.html",
			f, i);
		snprintf(title, sizeof(title), "Post %d of feed %d", i, f);
		snprintf(text, sizeof(text), "Post %d of feed %d. The post's "
			"content, with a paragraph or two of markup in it. And a "
			"second one about gardening, tomatoes and the weather.", i, f);
		snprintf(pub, sizeof(pub), "2024-01-%02dT%02d:%02d:00Z",
			1 + i / 1440 % 28, i / 60 % 24, i % 60);
		rc = store_refresh_put(r, &a, NULL, NULL);
	}
	if (rc < 0) {
		store_refresh_abort(r);
		return rc;
	}
	return store_refresh_commit(r, &res, NULL);
}

static int
cycle(struct store *st, const int64_t *fids, int n, int first, int m,
	int64_t attempt, const char *name)
{
	double t0 = clock_s(CLOCK_MONOTONIC);
	double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	double wall, cpu;
	int rc = 0;

	for (int f = 0; rc == 0 && f < n; f++)
		rc = store_feed_doc(st, fids[f], f, first, m, attempt);
	wall = clock_s(CLOCK_MONOTONIC) - t0;
	cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
	if (rc < 0) {
		fprintf(stderr, "bench_store_cycle: %s: %s\n", name,
			store_errmsg(st));
		return rc;
	}
	if (name)
		printf("%-10s wall_s=%.3f cpu_s=%.3f wall_us_per_feed=%.0f"
			" cpu_us_per_feed=%.0f\n", name, wall, cpu, wall * 1e6 / n,
			cpu * 1e6 / n);
	fflush(stdout);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *target = NULL;
	int n = 2000, m = 20, grow = 10, rc = 0;
	struct store_opts o = { 0 };
	struct store *st = NULL;
	int64_t *fids;
	char err[512];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			target = argv[++i];
		else if (strcmp(argv[i], "--feeds") == 0 && i + 1 < argc)
			n = atoi(argv[++i]);
		else if (strcmp(argv[i], "--articles") == 0 && i + 1 < argc)
			m = atoi(argv[++i]);
		else if (strcmp(argv[i], "--grow") == 0 && i + 1 < argc)
			grow = atoi(argv[++i]);
		else
			target = NULL, i = argc;
	}
	if (!target || n < 1 || m < 1 || grow < 1) {
		fprintf(stderr, "usage: bench_store_cycle --db TARGET [--feeds N]"
			" [--articles M] [--grow G]\n");
		return 2;
	}
	fids = calloc((size_t)n, sizeof(*fids));
	if (!fids)
		return 1;
	rc = store_open(&st, target, &o, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "bench_store_cycle: %s\n", err);
		free(fids);
		return 1;
	}
	for (int f = 0; rc == 0 && f < n; f++) {
		char name[32], url[64];
		struct store_feed_conf fc = { .name = name, .url = url };

		snprintf(name, sizeof(name), "feed%d", f);
		snprintf(url, sizeof(url), "https://feed%d.example/feed.xml", f);
		rc = store_feed_ensure(st, &fc, &fids[f]);
	}
	if (rc < 0)
		fprintf(stderr, "bench_store_cycle: %s\n", store_errmsg(st));
	printf("bench_store_cycle: %d feeds x %d articles, grow %dx\n", n, m,
		grow);
	if (rc == 0)
		rc = cycle(st, fids, n, 0, m, 1700000000, "fresh");
	if (rc == 0)
		rc = cycle(st, fids, n, 0, m, 1700003600, "unchanged");
	for (int g = 1; rc == 0 && g < grow; g++)
		rc = cycle(st, fids, n, g * m, m, 1700003600 + g * 3600, NULL);
	if (rc == 0)
		rc = cycle(st, fids, n, grow * m, m, 1800000000, "fresh-big");
	if (rc == 0)
		rc = cycle(st, fids, n, grow * m, m, 1800003600, "unch-big");
	store_close(st);
	free(fids);
	return rc < 0 ? 1 : 0;
}
