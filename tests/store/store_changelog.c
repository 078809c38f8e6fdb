/*
 * Integration test: the change log is gap-free in commit order. WRITERS
 * processes, one feed each, commit refreshes of 1-3 new articles with
 * random small delays inside the transaction (so their transactions
 * overlap and finish in any order), while a reader reads "seq > cursor"
 * in a loop and moves its cursor to the last seq it saw, the way
 * `feedctl follow` and the hooks do. At the end the reader must have
 * seen every row of the change log exactly once, in seq order: a row
 * that a slower transaction committed after a faster one's higher seq
 * was read would be skipped for good (the outbox gap).
 *
 *   store_changelog DIR [REFRESHES_PER_WRITER]
 *
 * With FEEDD_TEST_PG (or FEEDD_TEST_PG_FILE) set, on a fresh PostgreSQL
 * database instead of DIR/changelog.db.
 */
#include "store.h"
#include "unit/test_store_db.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WRITERS 4

static char dbpath[1200];

static void
pause_us(unsigned *seed, int max_us)
{
	struct timespec ts = { 0, (long)(rand_r(seed) % max_us) * 1000L };
	nanosleep(&ts, NULL);
}

static int
writer(int w, int refreshes)
{
	struct store *st = NULL;
	struct store_opts o = { .sync_normal = true, .busy_timeout_ms = 30000 };
	unsigned seed = (unsigned)getpid() * 2654435761u + (unsigned)w;
	char err[512], name[16];
	int64_t fid;
	int rc;

	rc = store_open(&st, dbpath, &o, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "writer %d: open: %s\n", w, err);
		return 1;
	}
	snprintf(name, sizeof(name), "feed%d", w);
	struct store_feed_conf c = { .name = name, .url = "https://example.org/f" };
	rc = store_feed_ensure(st, &c, &fid);
	if (rc < 0)
		goto fail;
	for (int n = 0; n < refreshes; n++) {
		struct store_refresh *r = NULL;
		struct store_feed_result res = { .attempt = 1700000000 + n,
			.ok = true, .http_status = 200, .next_due = 1700003600 + n };
		int k = 1 + rand_r(&seed) % 3;

		rc = store_refresh_begin(st, fid, &r);
		if (rc < 0)
			goto fail;
		for (int i = 0; i < k && rc == 0; i++) {
			char guid[64], link[128];
			struct store_article a = { .guid = guid, .title = guid,
				.text = "words", .link = link };
			snprintf(guid, sizeof(guid), "w%d-r%d-%d", w, n, i);
			snprintf(link, sizeof(link), "https://example.org/%s", guid);
			rc = store_refresh_put(r, &a, NULL, NULL);
			pause_us(&seed, 2000);
		}
		if (rc < 0) {
			store_refresh_abort(r);
			goto fail;
		}
		/* The change rows exist (seq taken); commit a little later. */
		pause_us(&seed, 3000);
		rc = store_refresh_commit(r, &res, NULL);
		if (rc < 0)
			goto fail;
	}
	store_close(st);
	return 0;
fail:
	fprintf(stderr, "writer %d: %s: %s\n", w, strerror(-rc), store_errmsg(st));
	store_close(st);
	return 1;
}

struct seen {
	int64_t *seq;
	size_t n, cap;
	int64_t cursor;
	int bad;
};

static int
on_change(void *ud, const struct store_change_row *c)
{
	struct seen *s = ud;

	if (c->seq <= s->cursor) {
		fprintf(stderr, "seq %" PRId64 " read after cursor %" PRId64 "\n",
			c->seq, s->cursor);
		s->bad++;
		return 0;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		int64_t *p = realloc(s->seq, cap * sizeof(*p));
		if (!p) {
			s->bad++;
			return -ENOMEM;
		}
		s->seq = p;
		s->cap = cap;
	}
	s->seq[s->n++] = c->seq;
	s->cursor = c->seq;
	return 0;
}

/* Reads by cursor until EOF on stop_fd, then once more; writes the seqs
 * it saw to out_fd. */
static int
reader(int stop_fd, int out_fd)
{
	struct store *st = NULL;
	struct store_opts o = { .readonly = true };
	struct seen s = { 0 };
	char err[512], c;
	long loops = 0;
	int rc = 0, done = 0;

	rc = store_open(&st, dbpath, &o, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "reader: open: %s\n", err);
		return 1;
	}
	fcntl(stop_fd, F_SETFL, O_NONBLOCK);
	while (rc == 0 && !s.bad) {
		/* Sampled before the read: after EOF one last full read. */
		done = read(stop_fd, &c, 1) == 0;
		rc = store_changes_after(st, s.cursor, NULL, false, 0, on_change, &s);
		loops++;
		if (done)
			break;
	}
	if (rc < 0)
		fprintf(stderr, "reader: %s: %s\n", strerror(-rc), store_errmsg(st));
	fprintf(stderr, "reader: %ld reads, %zu rows, cursor %" PRId64 "\n",
		loops, s.n, s.cursor);
	store_close(st);
	for (size_t off = 0; rc == 0 && off < s.n * sizeof(int64_t);) {
		ssize_t k = write(out_fd, (char *)s.seq + off,
			s.n * sizeof(int64_t) - off);
		if (k <= 0)
			rc = -EIO;
		else
			off += (size_t)k;
	}
	free(s.seq);
	return rc < 0 || s.bad ? 1 : 0;
}

int
main(int argc, char **argv)
{
	int refreshes = argc > 2 ? atoi(argv[2]) : 60;
	int stop[2], out[2], ws, rs, fail = 0;
	pid_t w[WRITERS], r;
	struct store *st = NULL;
	struct store_opts o = { 0 };
	struct seen all = { 0 };
	int64_t *got = NULL;
	size_t ngot = 0, cap = 0;
	char err[512];

	if (argc < 2) {
		fprintf(stderr, "usage: store_changelog DIR [REFRESHES]\n");
		return 2;
	}
	{
		char file[600];

		snprintf(file, sizeof(file), "%s/changelog.db", argv[1]);
		unlink(file);
		test_store_fresh(dbpath, sizeof(dbpath), file);
		atexit(test_store_drop);
	}
	if (store_open(&st, dbpath, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	store_close(st);
	if (pipe(stop) < 0 || pipe(out) < 0)
		return 1;
	r = fork();
	if (r == 0) {
		close(stop[1]);
		close(out[0]);
		_exit(reader(stop[0], out[1]));
	}
	close(out[1]);
	for (int i = 0; i < WRITERS; i++) {
		w[i] = fork();
		if (w[i] == 0) {
			close(stop[0]);
			close(stop[1]);
			close(out[0]);
			_exit(writer(i, refreshes));
		}
	}
	close(stop[0]);
	for (int i = 0; i < WRITERS; i++) {
		waitpid(w[i], &ws, 0);
		if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
			fprintf(stderr, "FAIL: writer %d failed\n", i);
			fail = 1;
		}
	}
	close(stop[1]);
	for (;;) {
		if (ngot == cap) {
			cap = cap ? cap * 2 : 1024;
			got = realloc(got, cap * sizeof(*got));
			if (!got)
				return 1;
		}
		ssize_t k = read(out[0], (char *)(got + ngot),
			(cap - ngot) * sizeof(*got));
		if (k <= 0)
			break;
		ngot += (size_t)k / sizeof(*got);
	}
	close(out[0]);
	waitpid(r, &rs, 0);
	if (!WIFEXITED(rs) || WEXITSTATUS(rs) != 0) {
		fprintf(stderr, "FAIL: the reader failed\n");
		fail = 1;
	}
	/* The whole log, read once everything committed. */
	o.readonly = true;
	if (store_open(&st, dbpath, &o, err, sizeof(err)) < 0 ||
	    store_changes_after(st, 0, NULL, false, 0, on_change, &all) < 0 ||
	    all.bad) {
		fprintf(stderr, "FAIL: reading the whole change log: %s\n",
			st ? store_errmsg(st) : err);
		store_close(st);
		free(got);
		free(all.seq);
		return 1;
	}
	store_close(st);
	size_t i = 0, j = 0, missed = 0;
	while (i < all.n) {
		if (j < ngot && got[j] == all.seq[i]) {
			i++;
			j++;
		} else {
			if (missed < 10)
				fprintf(stderr, "FAIL: the reader never saw seq %"
					PRId64 "\n", all.seq[i]);
			missed++;
			i++;
		}
	}
	if (missed || j != ngot) {
		fprintf(stderr, "FAIL: %zu of %zu committed rows missed, %zu"
			" read that the log does not hold\n", missed, all.n,
			ngot - j);
		fail = 1;
	}
	if (all.n < (size_t)WRITERS * refreshes) {
		fprintf(stderr, "FAIL: %zu change rows, expected at least %d\n",
			all.n, WRITERS * refreshes);
		fail = 1;
	}
	if (!fail)
		printf("ok: the reader saw all %zu change rows of %d writers"
			" once, in order\n", all.n, WRITERS);
	free(got);
	free(all.seq);
	return fail;
}
