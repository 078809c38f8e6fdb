/*
 * The kill -9 loop: a writer process stores refreshes as fast as it can and
 * reports every key the moment store_refresh_commit() returns 0 (through a
 * pipe, which outlives the process). The parent kills it with SIGKILL at a
 * random moment 0..300 ms after it opened the database, then checks it: PRAGMA integrity_check is "ok",
 * the FTS index agrees with the table, every acknowledged article is there
 * exactly once, and every article has its "new" change-log row.
 *
 *   store_crash DIR [KILLS] [SEED]
 */
#include "store.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dbpath[512];

/* The child: refreshes of up to 40 new entries plus edits of recent ones. */
static void
writer(int out, int iter, unsigned seed)
{
	struct store *st = NULL;
	struct store_opts o = { 0 };
	struct store_feed_conf fc = { .name = "crash", .url = "https://example.org/f", .keep_days = 0, .keep_count = 0 };
	int64_t fid;
	char err[512];
	int n = 0;

	srand(seed);
	if (store_open(&st, dbpath, &o, err, sizeof(err)) < 0 ||
		store_feed_ensure(st, &fc, &fid) < 0) {
		fprintf(stderr, "writer: %s\n", st ? store_errmsg(st) : err);
		_exit(1);
	}
	/* Ready: the parent times its kill from here, so kills land among
	 * the writes rather than in process start-up. */
	if (write(out, "R\n", 2) != 2)
		_exit(1);
	for (;;) {
		struct store_refresh *r = NULL;
		static char acks[64 * 1024];
		size_t al = 0;
		int k = 1 + rand() % 40;

		if (store_refresh_begin(st, fid, &r) < 0)
			_exit(1);
		for (int i = 0; i < k; i++) {
			char guid[64], title[96], text[512];
			/* Every fourth entry re-lists an older one, edited. */
			int num = (i % 4 == 3 && n > 10) ? n - 1 - rand() % 10 : n++;
			struct store_article a = { .guid = guid, .title = title,
				.text = text };
			snprintf(guid, sizeof(guid), "i%d-%d", iter, num);
			snprintf(title, sizeof(title), "Entry %d rev %d", num, rand());
			snprintf(text, sizeof(text), "%0*d", 100 + rand() % 400, num);
			if (store_refresh_put(r, &a, NULL, NULL) < 0)
				_exit(1);
			al += (size_t)snprintf(acks + al, sizeof(acks) - al, "%s\n", guid);
		}
		struct store_feed_result res = { .attempt = time(NULL), .ok = true,
			.http_status = 200, .next_due = time(NULL) + 60 };
		if (store_refresh_commit(r, &res, NULL) < 0) {
			fprintf(stderr, "writer: commit: %s\n", store_errmsg(st));
			_exit(1);
		}
		/* Acknowledged: committed, so it must survive. */
		for (size_t off = 0; off < al;) {
			ssize_t w = write(out, acks + off, al - off);
			if (w <= 0)
				_exit(1);
			off += (size_t)w;
		}
	}
}

static char **keys;
static size_t nkeys, capkeys;

static void
add_key(const char *k)
{
	if (nkeys == capkeys) {
		capkeys = capkeys ? capkeys * 2 : 1024;
		keys = realloc(keys, capkeys * sizeof(*keys));
		if (!keys)
			abort();
	}
	keys[nkeys++] = strdup(k);
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

static int
verify(int kill_no)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int bad = 0;

	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		if (nkeys == 0)
			return 0; /* killed before the file was created */
		fprintf(stderr, "kill %d: cannot open the database\n", kill_no);
		return 1;
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) != SQLITE_OK ||
		sqlite3_step(s) != SQLITE_ROW ||
		strcmp((const char *)sqlite3_column_text(s, 0), "ok") != 0) {
		fprintf(stderr, "kill %d: integrity_check: %s\n", kill_no,
			s && sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0)
				: sqlite3_errmsg(db));
		bad++;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (q_int(db, "PRAGMA user_version") > 0) {
		if (sqlite3_exec(db, "INSERT INTO articles_fts(articles_fts) VALUES"
			" ('integrity-check')", NULL, NULL, NULL) != SQLITE_OK) {
			fprintf(stderr, "kill %d: FTS integrity: %s\n", kill_no,
				sqlite3_errmsg(db));
			bad++;
		}
		if (q_int(db, "SELECT count(*) FROM articles") !=
			q_int(db, "SELECT count(*) FROM changes WHERE kind = 'new'")) {
			fprintf(stderr, "kill %d: change log out of step\n", kill_no);
			bad++;
		}
		if (q_int(db, "SELECT count(*) - count(DISTINCT key) FROM articles") != 0) {
			fprintf(stderr, "kill %d: duplicate keys\n", kill_no);
			bad++;
		}
	}
	if (nkeys && sqlite3_prepare_v2(db, "SELECT count(*) FROM articles_v1"
		" WHERE feed = 'crash' AND key = ?1", -1, &s, NULL) != SQLITE_OK) {
		fprintf(stderr, "kill %d: %s\n", kill_no, sqlite3_errmsg(db));
		bad++;
	}
	for (size_t i = 0; s && i < nkeys && bad < 10; i++) {
		sqlite3_reset(s);
		sqlite3_bind_text(s, 1, keys[i], -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_ROW || sqlite3_column_int(s, 0) != 1) {
			fprintf(stderr, "kill %d: acknowledged article %s is missing\n",
				kill_no, keys[i]);
			bad++;
		}
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return bad;
}

int
main(int argc, char **argv)
{
	int kills = argc > 2 ? atoi(argv[2]) : 50;
	unsigned seed = argc > 3 ? (unsigned)atoi(argv[3]) : (unsigned)time(NULL);
	size_t acked_total = 0;
	int failures = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: store_crash DIR [KILLS] [SEED]\n");
		return 2;
	}
	snprintf(dbpath, sizeof(dbpath), "%s/crash.db", argv[1]);
	unlink(dbpath);
	fprintf(stderr, "store_crash: %d kills, seed %u\n", kills, seed);
	srand(seed);
	for (int k = 0; k < kills && !failures; k++) {
		int pfd[2], status;
		pid_t pid;
		char buf[8192], line[128];
		size_t ll = 0;
		ssize_t n;

		if (pipe(pfd) < 0)
			return 1;
		pid = fork();
		if (pid == 0) {
			close(pfd[0]);
			writer(pfd[1], k, seed + (unsigned)k);
		}
		close(pfd[1]);
		/* Wait for "ready" (or EOF: it died, reported below). */
		for (;;) {
			char c;
			n = read(pfd[0], &c, 1);
			if (n <= 0 || c == '\n')
				break;
		}
		/* Let it write for 0..300 ms, then kill. */
		struct timespec ts = { 0, (rand() % 300) * 1000000L };
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		if (!WIFSIGNALED(status)) {
			fprintf(stderr, "kill %d: the writer exited by itself (%d)\n", k,
				WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			failures++;
		}
		/* Keys arrive whole lines only; a torn last line is ignored. */
		for (;;) {
			n = read(pfd[0], buf, sizeof(buf));
			if (n <= 0)
				break;
			for (ssize_t i = 0; i < n; i++) {
				if (buf[i] == '\n') {
					line[ll] = '\0';
					add_key(line);
					acked_total++;
					ll = 0;
				} else if (ll < sizeof(line) - 1) {
					line[ll++] = buf[i];
				}
			}
		}
		close(pfd[0]);
		failures += verify(k);
	}
	for (size_t i = 0; i < nkeys; i++)
		free(keys[i]);
	free(keys);
	if (failures) {
		fprintf(stderr, "FAIL: %d problem(s) (seed %u)\n", failures, seed);
		return 1;
	}
	printf("ok: %d kills, %zu acknowledged writes all present, integrity ok\n",
		kills, acked_total);
	return 0;
}
