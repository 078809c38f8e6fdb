/*
 * bench_store: how fast the store takes articles, and how big it gets.
 *
 *   bench_store [--runs N] [--articles N] [--batch N] [--dir DIR] [--sync-normal]
 *
 * Each run uses a fresh database in DIR (default /tmp) and stores N
 * articles (default 10,000) of realistic size in refreshes of BATCH
 * (default 100) entries, then:
 *   insert     the first time every entry is new;
 *   unchanged  the same documents again: must write no article row
 *              (measured with store_write_count(); each refresh writes only
 *              its poll record), and without a poll record nothing at all
 *              (no row, no WAL growth);
 *   update     every entry edited (title and text), so every one is an
 *              in-place update with a revision bump.
 * It prints articles/s for each phase per run and the median, by the wall
 * clock and per CPU-second of this process (which stays meaningful on a
 * busy machine), and the database size per 10,000 articles (main file
 * after the final checkpoint, every article at revision 2).
 */
#include "store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int n_articles = 10000, batch = 100;

static double
clock_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A phase's rate by the wall clock and by this process's CPU time: on a
 * busy machine the second says what the store itself costs. */
struct phase {
	double t0, c0;
};

static void
phase_start(struct phase *p)
{
	p->t0 = clock_s(CLOCK_MONOTONIC);
	p->c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

static void
phase_end(const struct phase *p, double *wall, double *cpu)
{
	*wall = n_articles / (clock_s(CLOCK_MONOTONIC) - p->t0);
	*cpu = n_articles / (clock_s(CLOCK_PROCESS_CPUTIME_ID) - p->c0);
}

static off_t
file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? sb.st_size : 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* A blog-sized entry: ~70 byte title, ~300 byte summary, ~2.5 KB of
 * HTML content, ~2 KB of text. */
static char lorem[2600];

static void
make_lorem(void)
{
	static const char *w[] = { "kernel", "release", "scheduler", "memory",
		"the", "of", "and", "a", "patch", "series", "maintainer", "review",
		"performance", "regression", "fix", "driver", "network", "storage" };
	size_t o = 0;
	unsigned x = 12345;

	while (o < sizeof(lorem) - 16) {
		x = x * 1103515245u + 12345u;
		o += (size_t)snprintf(lorem + o, sizeof(lorem) - o, "%s ",
			w[(x >> 16) % (sizeof(w) / sizeof(w[0]))]);
	}
	lorem[o] = '\0';
}

/* Store one document (entries first .. first+batch-1), edited or not. */
static int
store_doc(struct store *st, int64_t fid, int first, int edition, bool record)
{
	struct store_refresh *r = NULL;
	struct store_feed_result res = { .attempt = 1700000000 + first,
		.ok = true, .http_status = 200, .next_due = 1700003600 };
	char guid[64], link[128], title[128], summary[400], content[2800],
		text[2400], pub[32];
	int rc = store_refresh_begin(st, fid, &r);

	for (int i = first; rc == 0 && i < first + batch; i++) {
		struct store_article a = { .guid = guid, .link = link,
			.title = title, .summary = summary, .content = content,
			.text = text, .published = pub, .author = "A. Writer",
			.categories_json = "[\"linux\",\"kernel\"]",
			.enclosures_json = "[]" };
		snprintf(guid, sizeof(guid), "tag:example.org,2024:post-%d", i);
		snprintf(link, sizeof(link), "https://example.org/2024/posts/%d.html", i);
		snprintf(title, sizeof(title), "Post %d: the scheduler rework lands, "
			"with numbers (edition %d)", i, edition);
		snprintf(summary, sizeof(summary), "<p>%.280s</p>", lorem + i % 200);
		snprintf(content, sizeof(content), "<p>%.1200s</p><p>%.1200s</p>",
			lorem + i % 300, lorem + 1000);
		snprintf(text, sizeof(text), "%.1000s\n%.1000s edition %d",
			lorem + i % 300, lorem + 1000, edition);
		snprintf(pub, sizeof(pub), "2024-01-%02dT%02d:%02d:00Z", 1 + i / 1440 % 28,
			i / 60 % 24, i % 60);
		rc = store_refresh_put(r, &a, NULL, NULL);
	}
	if (rc < 0) {
		store_refresh_abort(r);
		return rc;
	}
	return store_refresh_commit(r, record ? &res : NULL, NULL);
}

struct run {
	double insert, unchanged, update;
	double insert_cpu, unchanged_cpu, update_cpu;
	double size_per_10k;
	int64_t unchanged_article_writes, unchanged_total_writes;
	int64_t silent_writes;
	off_t silent_wal_growth;
};

static int
one_run(const char *dir, bool sync_normal, struct run *out)
{
	char path[512], wal[520], err[512];
	struct store_opts o = { .sync_normal = sync_normal };
	struct store_feed_conf fc = { .name = "bench", .url = "https://example.org/feed", .keep_days = 0, .keep_count = 0 };
	struct store *st = NULL;
	int64_t fid, w0;
	struct phase ph;
	int rc;

	snprintf(path, sizeof(path), "%s/bench_store.%d.db", dir, (int)getpid());
	snprintf(wal, sizeof(wal), "%s-wal", path);
	unlink(path);
	unlink(wal);
	rc = store_open(&st, path, &o, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "bench_store: %s\n", err);
		return rc;
	}
	rc = store_feed_ensure(st, &fc, &fid);

	phase_start(&ph);
	for (int f = 0; rc == 0 && f < n_articles; f += batch)
		rc = store_doc(st, fid, f, 1, true);
	phase_end(&ph, &out->insert, &out->insert_cpu);

	w0 = store_write_count(st);
	phase_start(&ph);
	for (int f = 0; rc == 0 && f < n_articles; f += batch)
		rc = store_doc(st, fid, f, 1, true);
	phase_end(&ph, &out->unchanged, &out->unchanged_cpu);
	out->unchanged_total_writes = store_write_count(st) - w0;
	out->unchanged_article_writes = out->unchanged_total_writes -
		n_articles / batch; /* one poll record per refresh */

	/* Without a poll record: not a row, not a WAL frame. */
	if (rc == 0) {
		off_t wal0 = file_size(wal);
		w0 = store_write_count(st);
		for (int f = 0; rc == 0 && f < n_articles; f += batch)
			rc = store_doc(st, fid, f, 1, false);
		out->silent_writes = store_write_count(st) - w0;
		out->silent_wal_growth = file_size(wal) - wal0;
	}

	phase_start(&ph);
	for (int f = 0; rc == 0 && f < n_articles; f += batch)
		rc = store_doc(st, fid, f, 2, true);
	phase_end(&ph, &out->update, &out->update_cpu);

	if (rc < 0)
		fprintf(stderr, "bench_store: %s\n", store_errmsg(st));
	store_close(st);
	/* Closing checkpoints the WAL into the main file. The size is after
	 * the updates, i.e. with every article at revision 2. */
	out->size_per_10k = (double)file_size(path) * 10000.0 / n_articles;
	unlink(path);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", path);
	unlink(wal);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *dir = "/tmp";
	int runs = 5;
	bool sync_normal = false;
	struct run r[64];
	double col[64];
	static const char *const names[] = { "insert/s", "unchanged/s",
		"update/s", "insert/cpu-s", "unchanged/cpu-s", "update/cpu-s",
		"MB per 10k" };

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (strcmp(argv[i], "--articles") == 0 && i + 1 < argc)
			n_articles = atoi(argv[++i]);
		else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
			batch = atoi(argv[++i]);
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--sync-normal") == 0)
			sync_normal = true;
		else {
			fprintf(stderr, "usage: bench_store [--runs N] [--articles N] "
				"[--batch N] [--dir DIR] [--sync-normal]\n");
			return 2;
		}
	}
	if (runs < 1 || runs > 64 || batch < 1 || n_articles < batch) {
		fprintf(stderr, "bench_store: bad arguments\n");
		return 2;
	}
	n_articles -= n_articles % batch;
	make_lorem();
	printf("bench_store: %d articles in refreshes of %d, synchronous=%s, "
		"%d runs, in %s\n", n_articles, batch,
		sync_normal ? "NORMAL" : "FULL", runs, dir);
	printf("%-7s", "run");
	for (int c = 0; c < 7; c++)
		printf(" %15s", names[c]);
	printf("\n");
	for (int i = 0; i < runs; i++) {
		if (one_run(dir, sync_normal, &r[i]) < 0)
			return 1;
		printf("%-7d %15.0f %15.0f %15.0f %15.0f %15.0f %15.0f %15.2f\n",
			i + 1, r[i].insert, r[i].unchanged, r[i].update,
			r[i].insert_cpu, r[i].unchanged_cpu, r[i].update_cpu,
			r[i].size_per_10k / 1e6);
		fflush(stdout);
	}
	printf("%-7s", "median");
	for (int c = 0; c < 7; c++) {
		for (int i = 0; i < runs; i++) {
			const double v[7] = { r[i].insert, r[i].unchanged, r[i].update,
				r[i].insert_cpu, r[i].unchanged_cpu, r[i].update_cpu,
				r[i].size_per_10k / 1e6 };
			col[i] = v[c];
		}
		qsort(col, (size_t)runs, sizeof(col[0]), cmp_double);
		printf(c < 6 ? " %15.0f" : " %15.2f", col[runs / 2]);
	}
	printf("\n");
	for (int i = 0; i < runs; i++) {
		if (r[i].unchanged_article_writes != 0 || r[i].silent_writes != 0 ||
			r[i].silent_wal_growth != 0) {
			printf("FAIL: run %d: re-storing unchanged entries wrote %" PRId64
				" article rows (%" PRId64 " without a poll record, WAL +%lld "
				"bytes)\n", i + 1, r[i].unchanged_article_writes,
				r[i].silent_writes, (long long)r[i].silent_wal_growth);
			return 1;
		}
	}
	printf("unchanged feed: 0 article rows written in every run (%" PRId64
		" rows = one poll record per refresh); without a poll record: 0 rows, "
		"WAL +0 bytes\n", r[0].unchanged_total_writes);
	return 0;
}
