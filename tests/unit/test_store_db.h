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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char test_pg_base[1024];
/* The databases made so far and not dropped yet (a case may make more
 * than one); all go at test_store_drop() or at exit. */
static char test_pg_dbs[64][48];
static int test_pg_ndbs;
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

		/* The CTest fixture "pg" writes it; without a server there
		 * is nothing to run these cases against: a skip. */
		if (!fp) {
			fprintf(stderr, "%s: no PostgreSQL connection string (the"
				" fixture pg did not run): skip\n", f);
			exit(77);
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

/* The same question in each dialect, for SQL the tests run themselves. */
static inline const char *
test_sql(const char *sqlite, const char *pg)
{
	return test_store_pg() ? pg : sqlite;
}

#define TEST_SQLITE_ONLY(why)                                                  \
	do {                                                                   \
		if (test_store_pg()) {                                         \
			fprintf(stderr, "skip %s on PostgreSQL: %s\n",         \
				check_current, why);                           \
			return;                                                \
		}                                                              \
	} while (0)

/* The other way round: a case about a server. */
#define TEST_SQLITE_ONLY_NOT(what)                                             \
	do {                                                                   \
		if (!test_store_pg()) {                                        \
			fprintf(stderr, "skip %s on SQLite: it needs %s\n",    \
				check_current, what);                          \
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

static void test_store_drop(void);

/* Run sql on a connection of its own to the case's database (another
 * reader), the first column of the first row as an integer; -1 on
 * failure. */
static inline int64_t
test_pg_reader_int(const char *conninfo, const char *sql)
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *r = NULL;
	int64_t v = -1;

	if (PQstatus(c) == CONNECTION_OK) {
		PQclear(PQexec(c, "SET search_path = feedd"));
		r = PQexec(c, sql);
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
			v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		else
			fprintf(stderr, "reader: %s: %s", sql, PQerrorMessage(c));
	}
	PQclear(r);
	PQfinish(c);
	return v;
}

/*
 * Set path to a fresh database for one case: a new PostgreSQL database
 * (created here, dropped by test_store_drop()), else sqlite_path as it is.
 */
static void
test_store_fresh(char *path, size_t len, const char *sqlite_path)
{
	static unsigned n;
	char sql[128], admin[1200], *db;

	if (!test_store_pg()) {
		snprintf(path, len, "%s", sqlite_path);
		return;
	}
	if (test_pg_ndbs == 0 && n == 0)
		atexit(test_store_drop);
	if (test_pg_ndbs == 64)
		test_store_drop();
	db = test_pg_dbs[test_pg_ndbs++];
	snprintf(db, sizeof(test_pg_dbs[0]), "feedd_test_%ld_%u",
		(long)getpid(), n++);
	test_pg_conninfo(admin, sizeof(admin), "postgres");
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db);
	if (test_pg_run(admin, sql) < 0)
		exit(1);
	test_pg_conninfo(path, len, db);
}

/* Drop the PostgreSQL databases made so far (FORCE: a store a failed
 * case left open does not keep one). */
static void
test_store_drop(void)
{
	char sql[128], admin[1200];

	if (!test_store_pg() || test_pg_ndbs == 0)
		return;
	test_pg_conninfo(admin, sizeof(admin), "postgres");
	for (int i = 0; i < test_pg_ndbs; i++) {
		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %.47s"
			" WITH (FORCE)", test_pg_dbs[i]);
		test_pg_run(admin, sql);
	}
	test_pg_ndbs = 0;
}

#endif
