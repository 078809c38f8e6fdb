/*
 * The store tests' database: a temporary SQLite file, or, when
 * FEEDD_TEST_PG holds a libpq connection string (or FEEDD_TEST_PG_FILE
 * names a file holding one, as the CTest fixture "pg" writes it), a fresh
 * PostgreSQL database per case on that server. The same cases run on
 * both; a case that is SQLite-only by nature (WAL files, a read-only open
 * of a file, SQLite's PRAGMAs, FTS5 internals) says so with
 * TEST_SQLITE_ONLY() and is skipped on PostgreSQL.
 */
#ifndef FEEDD_TESTS_UNIT_TEST_STORE_DB_H
#define FEEDD_TESTS_UNIT_TEST_STORE_DB_H

#include <libpq-fe.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char test_pg_base[1024];
static char test_pg_db[64];
static int test_pg_state = -1; /* -1: not looked at yet, 0: SQLite, 1: PG */

/* True when the cases run against PostgreSQL. */
static bool
test_store_pg(void)
{
	const char *e, *f;

	if (test_pg_state >= 0)
		return test_pg_state == 1;
	test_pg_state = 0;
	e = getenv("FEEDD_TEST_PG");
	f = getenv("FEEDD_TEST_PG_FILE");
	if (e && *e) {
		snprintf(test_pg_base, sizeof(test_pg_base), "%s", e);
		test_pg_state = 1;
	} else if (f && *f) {
		FILE *fp = fopen(f, "r");

		if (!fp) {
			perror(f);
			exit(1);
		}
		if (!fgets(test_pg_base, sizeof(test_pg_base), fp))
			test_pg_base[0] = '\0';
		fclose(fp);
		test_pg_base[strcspn(test_pg_base, "\r\n")] = '\0';
		if (!test_pg_base[0]) {
			fprintf(stderr, "%s: no connection string\n", f);
			exit(1);
		}
		test_pg_state = 1;
	}
	return test_pg_state == 1;
}

#define TEST_SQLITE_ONLY(why)                                                  \
	do {                                                                   \
		if (test_store_pg()) {                                         \
			fprintf(stderr, "skip %s on PostgreSQL: %s\n",         \
				check_current, why);                           \
			return;                                                \
		}                                                              \
	} while (0)

static int
test_pg_run(const char *conninfo, const char *sql)
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *r = NULL;
	int rc = 0;

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "test database: %s", PQerrorMessage(c));
		rc = -1;
	} else {
		r = PQexec(c, sql);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			fprintf(stderr, "test database: %s: %s", sql,
				PQerrorMessage(c));
			rc = -1;
		}
	}
	PQclear(r);
	PQfinish(c);
	return rc;
}

/* The base connection string with dbname replaced (keyword form; libpq
 * takes the last of a repeated keyword, and expands a URI it is given as
 * dbname, so the base goes in parsed). */
static void
test_pg_conninfo(char *out, size_t len, const char *dbname)
{
	char *err = NULL;
	PQconninfoOption *o = PQconninfoParse(test_pg_base, &err);
	size_t n = 0;

	out[0] = '\0';
	if (!o) {
		fprintf(stderr, "FEEDD_TEST_PG: %s\n", err ? err : "unparsable");
		exit(1);
	}
	for (PQconninfoOption *p = o; p->keyword; p++) {
		if (!p->val || strcmp(p->keyword, "dbname") == 0)
			continue;
		n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s%s='%s'",
			n ? " " : "", p->keyword, p->val);
	}
	snprintf(out + n, n < len ? len - n : 0, "%sdbname='%s'", n ? " " : "",
		dbname);
	PQconninfoFree(o);
}

/*
 * Set path to a fresh database for one case: a new PostgreSQL database
 * (created here, dropped by test_store_drop()), else sqlite_path as it is.
 */
static void
test_store_fresh(char *path, size_t len, const char *sqlite_path)
{
	static unsigned n;
	char sql[128], admin[1200];

	if (!test_store_pg()) {
		snprintf(path, len, "%s", sqlite_path);
		return;
	}
	snprintf(test_pg_db, sizeof(test_pg_db), "feedd_test_%ld_%u",
		(long)getpid(), n++);
	test_pg_conninfo(admin, sizeof(admin), "postgres");
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", test_pg_db);
	if (test_pg_run(admin, sql) < 0)
		exit(1);
	test_pg_conninfo(path, len, test_pg_db);
}

/* Drop the case's PostgreSQL database (every store on it closed). */
static void
test_store_drop(void)
{
	char sql[128], admin[1200];

	if (!test_store_pg() || !test_pg_db[0])
		return;
	test_pg_conninfo(admin, sizeof(admin), "postgres");
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
		test_pg_db);
	test_pg_run(admin, sql);
	test_pg_db[0] = '\0';
}

#endif
