/*
 * feedctl migrate --from DB --to DB: copy a whole store between SQLite and
 * PostgreSQL (either way, or SQLite to SQLite) with store_migrate(). The
 * source is opened read-only and never written; the destination must be
 * empty, and gets everything in one transaction, verified by count and
 * checksum before it commits (all or nothing). Progress goes to stderr
 * when it is a terminal; one summary line goes to stdout.
 */
#include "feedctl.h"
#include "store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { M_FROM = 'f', M_TO = 't', M_BATCH = 'b' };

struct progress {
	bool tty;
	const char *phase, *table;  /* static; what the current line shows */
};

static void
progress_cb(void *ud, const char *phase, const char *table, int64_t done,
	int64_t total)
{
	struct progress *p = ud;

	if (!p->tty)
		return;
	if (p->table && (p->table != table || p->phase != phase))
		fputc('\n', stderr);
	p->phase = phase;
	p->table = table;
	fprintf(stderr, "\r%-6s %-12s %10" PRId64 " / %" PRId64 " rows\033[K",
		phase, table, done, total);
	fflush(stderr);
}

/* A SQLite file the destination string names, removed again (with its
 * -wal and -shm) when this run created it and the migration failed. */
static void
remove_created(const char *file)
{
	char buf[4096];

	unlink(file);
	snprintf(buf, sizeof(buf), "%s-wal", file);
	unlink(buf);
	snprintf(buf, sizeof(buf), "%s-shm", file);
	unlink(buf);
}

int
feedctl_migrate(const struct feedctl_global *g, int argc, char **argv)
{
	struct store_opts ro = { .readonly = true }, rw = { 0 };
	struct store *src = NULL, *dst = NULL;
	struct store_migrate_report rep;
	struct progress prog = { .tty = isatty(STDERR_FILENO) == 1 };
	const char *from = NULL, *to = NULL, *val, *sfile, *dfile;
	struct feedctl_args a;
	struct stat ss, ds;
	bool created = false;
	long batch = 0;
	char err[512];
	int key, rc = FEEDCTL_ERR;

	(void)g;
	feedctl_args_init(&a, argc, argv);
	while ((key = feedctl_opt_next(&a, &val)) != -1) {
		char *end;

		switch (key) {
		case -2:
			return FEEDCTL_USAGE;
		case 0:
			fprintf(stderr, "feedctl migrate: unexpected argument "
				"'%s' (see 'feedctl migrate --help')\n", val);
			return FEEDCTL_USAGE;
		case M_FROM:
			from = val;
			break;
		case M_TO:
			to = val;
			break;
		case M_BATCH:
			errno = 0;
			batch = strtol(val, &end, 10);
			if (errno || end == val || *end || batch < 1 ||
			    batch > 100000)
				return feedctl_bad_value("migrate", "batch", val,
					"a number of rows from 1 to 100000");
			break;
		}
	}
	if (!from || !*from || !to || !*to) {
		fprintf(stderr, "feedctl migrate: both --from and --to are "
			"needed (see 'feedctl migrate --help')\n");
		return FEEDCTL_USAGE;
	}
	sfile = store_db_file(from);
	dfile = store_db_file(to);
	if (sfile && stat(sfile, &ss) != 0) {
		fprintf(stderr, "feedctl migrate: source %s: %s\n", sfile,
			strerror(errno));
		return FEEDCTL_ERR;
	}
	if (dfile && stat(dfile, &ds) == 0) {
		if (sfile && ss.st_dev == ds.st_dev && ss.st_ino == ds.st_ino) {
			fprintf(stderr, "feedctl migrate: source and "
				"destination are the same file\n");
			return FEEDCTL_ERR;
		}
	} else if (dfile) {
		created = true;
	}
	if (!sfile && !dfile && strcmp(from, to) == 0) {
		fprintf(stderr, "feedctl migrate: source and destination are "
			"the same database\n");
		return FEEDCTL_ERR;
	}

	if (store_open(&src, from, &ro, err, sizeof(err)) < 0) {
		fprintf(stderr, "feedctl migrate: source: %s\n", err);
		goto out;
	}
	if (store_open(&dst, to, &rw, err, sizeof(err)) < 0) {
		fprintf(stderr, "feedctl migrate: destination: %s\n", err);
		goto out;
	}
	if (store_migrate(src, dst, (int)batch, progress_cb, &prog, &rep) < 0) {
		if (prog.table)
			fputc('\n', stderr);
		fprintf(stderr, "feedctl migrate: %s; nothing was copied\n",
			store_errmsg(dst));
		goto out;
	}
	if (prog.table)
		fputc('\n', stderr);
	printf("migrated");
	for (int i = 0; i < FEEDD_MIGRATE_TABLES; i++)
		printf(" %s=%" PRId64, rep.tables[i].name, rep.tables[i].rows);
	printf(" checksum=%016" PRIx64 " next_article_id=%" PRId64
		" next_seq=%" PRId64 "\n", rep.checksum, rep.next_article_id,
		rep.next_seq);
	rc = fflush(stdout) == 0 ? FEEDCTL_OK : FEEDCTL_ERR;
	created = false;
out:
	store_close(dst);
	store_close(src);
	if (created && rc != FEEDCTL_OK)
		remove_created(dfile);
	return rc;
}
