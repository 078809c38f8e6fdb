/*
 * The PostgreSQL driver (libpq; PostgreSQL 15 is the reference). Tables
 * and views live in the schema "feedd" (store__pg_schema in schema.c);
 * the connection's search_path is feedd, so the store's SQL names them
 * as on SQLite. Statements from the store's table are prepared once per
 * connection (PQprepare, named s0, s1, ...); one-off statements run with
 * PQexecParams. Every value travels as text.
 *
 * Passwords: libpq reads ~/.pgpass or PGPASSFILE itself; a
 * "password-file=PATH" key (keyword form) or query parameter (URI form),
 * which libpq does not know, names a file whose first line is the
 * password. No message here ever holds a password: a connection is
 * named by its host, port, user and database only. "text-search=NAME",
 * feedd's other key, is the full-text index's text search configuration
 * (pg_text_search).
 */
#include "store_int.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <poll.h>

#include <libpq-fe.h>

/* At most this many parameters per statement (the store uses 20, a hook
 * filter one per feed and tag). */
#define PG_MAX_PARAMS 256

struct pg_db {
	struct db base;
	PGconn *conn;
	int64_t changes, total, last_id;
	unsigned next_name;      /* the next prepared statement's number */
	bool listening;          /* LISTEN feedd_changes done (pg_wait_notify) */
	bool query_err;
	char err[512];
};

struct pg_stmt {
	struct db_stmt base;
	char *sql;               /* owned; with $N (one-off statements) */
	char name[16];           /* prepared name; "" for a one-off */
	int nparams;
	/* 0 (the server infers it) for a parameter the SQL names, text for
	 * one it skips (a query built without some clauses still binds
	 * them all, and the server cannot type a parameter it never sees). */
	Oid types[PG_MAX_PARAMS];
	char *vals[PG_MAX_PARAMS];      /* borrowed or owned (own[i]) */
	bool own[PG_MAX_PARAMS];
	PGresult *res;
	int row, nrows;          /* row: the current row; -1 before a step */
};

#define PGD(d) ((struct pg_db *)(void *)(d))
#define PGS(s) ((struct pg_stmt *)(void *)(s))

/* A SQLSTATE to a negative errno (and whether the query is at fault). */
static int
pg_errno(struct pg_db *d, const char *state)
{
	d->query_err = false;
	if (PQstatus(d->conn) == CONNECTION_BAD)
		return -ENOTCONN;
	if (!state)
		return -EIO;
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
		return -ENOTCONN;
	if (strcmp(state, "53100") == 0)
		return -ENOSPC;
	if (strcmp(state, "53200") == 0)
		return -ENOMEM;
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	    strcmp(state, "55P03") == 0)
		return -EBUSY;
	if (strcmp(state, "25006") == 0)
		return -EROFS;
	if (strcmp(state, "42501") == 0 || strncmp(state, "28", 2) == 0)
		return -EACCES;
	if (strncmp(state, "42", 2) == 0 || strncmp(state, "22", 2) == 0)
		d->query_err = true;
	return -EIO;
}

/* Record the failure of res (or of the connection when res is NULL). */
static int
pg_fail(struct pg_db *d, const PGresult *res)
{
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
			      : NULL;
	size_t n;

	if (!msg)
		msg = PQerrorMessage(d->conn);
	snprintf(d->err, sizeof(d->err), "%s", msg && *msg ? msg : "failed");
	n = strlen(d->err);
	while (n > 0 && (d->err[n - 1] == '\n' || d->err[n - 1] == ' '))
		d->err[--n] = '\0';
	return pg_errno(d, res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL);
}

/* ?N -> $N outside quoted strings and names. */
static char *
rewrite_params(const char *q)
{
	char *out = store__malloc(strlen(q) + 1), *o = out;
	char quote = 0;

	if (!out)
		return NULL;
	for (const char *p = q; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if (*p == '?' && isdigit((unsigned char)p[1])) {
			*o++ = '$';
			continue;
		}
		*o++ = *p;
	}
	*o = '\0';
	return out;
}

static void
ignore_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* Remove "KEY=VALUE" (key ends with '=') from a copy of target into
 * *val: feedd's own keys, which libpq does not know. */
static int
take_key(char *t, const char *key, char **val)
{
	char *p = strstr(t, key), *v, *e;
	size_t n;

	*val = NULL;
	if (!p)
		return 0;
	v = p + strlen(key);
	e = v;
	while (*e && *e != '&' && !isspace((unsigned char)*e))
		e++;
	n = (size_t)(e - v);
	*val = store__strndup(v, n);
	if (!*val)
		return -ENOMEM;
	/* Out with the key, its value and one separator. */
	if (*e == '&' || isspace((unsigned char)*e))
		e++;
	else if (p > t && (p[-1] == '&' || p[-1] == '?'))
		p--;
	memmove(p, e, strlen(e) + 1);
	return 0;
}

/* feedd's keys out of a copy of target: password-file=, text-search=. */
static int
take_keys(char *t, char **pwfile, char **tsconfig)
{
	int rc = take_key(t, "password-file=", pwfile);

	if (rc == 0)
		rc = take_key(t, "text-search=", tsconfig);
	if (rc < 0) {
		store__free(*pwfile);
		*pwfile = NULL;
	}
	return rc;
}

static int
read_password(const char *path, char *buf, size_t len, char *err,
	size_t errlen)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		int rc = -errno;
		snprintf(err, errlen, "password-file %s: %s", path,
			strerror(errno));
		return rc;
	}
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	fclose(f);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return 0;
}

static char *
pg_describe(const char *target)
{
	char *t = store__strdup(target), *pw = NULL, *ts = NULL, *errmsg = NULL;
	char *out;
	PQconninfoOption *opts;
	const char *host = NULL, *port = NULL, *user = NULL, *dbname = NULL;

	if (!t)
		return NULL;
	if (take_keys(t, &pw, &ts) < 0) {
		store__free(t);
		return NULL;
	}
	store__free(pw);
	store__free(ts);
	opts = PQconninfoParse(t, &errmsg);
	store__free(t);
	if (!opts) {
		PQfreemem(errmsg);
		return store__strdup("postgresql (unparsable connection string)");
	}
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (!o->val)
			continue;
		if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			port = o->val;
		else if (strcmp(o->keyword, "user") == 0)
			user = o->val;
		else if (strcmp(o->keyword, "dbname") == 0)
			dbname = o->val;
	}
	out = store__printf("postgresql host=%s port=%s user=%s dbname=%s",
		host ? host : "(default)", port ? port : "5432",
		user ? user : "(default)", dbname ? dbname : "(default)");
	PQconninfoFree(opts);
	return out;
}

static int
pg_exec(struct db *db, const char *q)
{
	struct pg_db *d = PGD(db);
	PGresult *res = PQexec(d->conn, q);
	int rc = 0;

	if (!res)
		return pg_fail(d, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		rc = pg_fail(d, res);
	} else if (strcmp(q, "COMMIT") == 0 &&
		   strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
		/* COMMIT of an aborted transaction "succeeds" by rolling
		 * back: that is a failure to the store. */
		snprintf(d->err, sizeof(d->err), "the transaction was rolled "
			"back (a statement in it failed)");
		d->query_err = false;
		rc = -EIO;
	} else {
		d->query_err = false;
	}
	PQclear(res);
	return rc;
}

/* One text result (NULL, the empty string, for no row) into buf. */
static int
pg_query_text(struct pg_db *d, const char *q, const char *param, char *buf,
	size_t len)
{
	PGresult *res = PQexecParams(d->conn, q, param ? 1 : 0, NULL,
		param ? &param : NULL, NULL, NULL, 0);
	int rc = 0;

	buf[0] = '\0';
	if (!res)
		return pg_fail(d, NULL);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = pg_fail(d, res);
	else if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		snprintf(buf, len, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

/*
 * text-search=NAME: a text search configuration the server has
 * (pg_ts_config) for the schema to be built with, and the one a database
 * records (feedd.settings) must be it: a database built with another is
 * refused, not rebuilt (store/SCHEMA.md). Without the key a new schema
 * gets "simple" and an existing one keeps what it records. The session
 * setting feedd.text_search carries the name to store__pg_schema.
 */
static int
pg_text_search(struct pg_db *d, const char *name, char *err, size_t errlen)
{
	char found[64], rec[64], q[128];
	int rc;

	if (!name)
		return 0;
	rc = 0;
	if (!*name || strlen(name) >= sizeof(found))
		rc = -EINVAL;
	for (const char *c = name; *c && rc == 0; c++)
		if (!isalnum((unsigned char)*c) && *c != '_')
			rc = -EINVAL;
	if (rc < 0) {
		snprintf(err, errlen, "text-search=%.64s: not a text search "
			"configuration name (letters, digits, _)", name);
		return rc;
	}
	rc = pg_query_text(d, "SELECT cfgname::text FROM pg_catalog.pg_ts_config"
		" WHERE cfgname = $1", name, found, sizeof(found));
	if (rc < 0) {
		snprintf(err, errlen, "text-search=%s: %s", name, d->err);
		return rc;
	}
	if (strcmp(found, name) != 0) {
		snprintf(err, errlen, "text-search=%s: the server has no such "
			"text search configuration (see pg_ts_config)", name);
		return -EINVAL;
	}
	/* The recorded one: feedd.settings, else simple in a database
	 * built before it was (pg_after_migrate), else none (new). */
	rc = pg_query_text(d, "SELECT CASE WHEN to_regclass('feedd.settings')"
		" IS NOT NULL THEN 'settings' WHEN"
		" to_regclass('feedd.schema_version') IS NOT NULL THEN 'simple'"
		" END", NULL, rec, sizeof(rec));
	if (rc == 0 && strcmp(rec, "settings") == 0)
		rc = pg_query_text(d, "SELECT text_search FROM feedd.settings",
			NULL, rec, sizeof(rec));
	if (rc < 0) {
		snprintf(err, errlen, "text-search=%s: %s", name, d->err);
		return rc;
	}
	if (rec[0] && strcmp(rec, name) != 0) {
		snprintf(err, errlen, "text-search=%s: the database's full-text "
			"index uses the text search configuration %s; open it with "
			"text-search=%s (or without the key)", name, rec, rec);
		return -EINVAL;
	}
	snprintf(q, sizeof(q), "SET feedd.text_search = '%s'", name);
	rc = pg_exec(&d->base, q);
	if (rc < 0)
		snprintf(err, errlen, "text-search=%s: %s", name, d->err);
	return rc;
}

static int
pg_open(struct db **out, const char *target, const struct db_open_opts *o,
	char *err, size_t errlen)
{
	const char *kw[64], *val[64];
	char *t = NULL, *pwfile = NULL, *perr = NULL, *where = NULL;
	char *tsconfig = NULL;
	char pw[1024] = "";
	PQconninfoOption *opts = NULL;
	struct pg_db *d = NULL;
	int rc = 0, n = 0;

	t = store__strdup(target);
	if (!t || take_keys(t, &pwfile, &tsconfig) < 0) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (pwfile) {
		rc = read_password(pwfile, pw, sizeof(pw), err, errlen);
		if (rc < 0)
			goto out;
	}
	opts = PQconninfoParse(t, &perr);
	if (!opts) {
		snprintf(err, errlen, "postgresql: bad connection string: %s",
			perr ? perr : "out of memory");
		rc = -EINVAL;
		goto out;
	}
	for (PQconninfoOption *p = opts; p->keyword && n < 60; p++) {
		if (!p->val || strcmp(p->keyword, "password") == 0)
			continue;
		kw[n] = p->keyword;
		val[n++] = p->val;
	}
	for (PQconninfoOption *p = opts; p->keyword; p++)
		if (strcmp(p->keyword, "password") == 0 && p->val && !pw[0])
			snprintf(pw, sizeof(pw), "%s", p->val);
	if (pw[0]) {
		kw[n] = "password";
		val[n++] = pw;
	}
	/* Read-only opens get read-only transactions from the server. */
	kw[n] = "options";
	val[n++] = o->readonly ? "-c default_transaction_read_only=on" : "";
	kw[n] = "fallback_application_name";
	val[n++] = "feedd";
	kw[n] = NULL;
	val[n] = NULL;
	d = store__calloc(1, sizeof(*d));
	if (!d) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	d->base.drv = &db_pg_driver;
	d->conn = PQconnectdbParams(kw, val, 0);
	where = pg_describe(target);
	if (!d->conn || PQstatus(d->conn) != CONNECTION_OK) {
		char msg[400];

		snprintf(msg, sizeof(msg), "%s", d->conn ? PQerrorMessage(d->conn)
			: "out of memory");
		msg[strcspn(msg, "\n")] = '\0';
		snprintf(err, errlen, "connecting to the database: %s (%s)", msg,
			where ? where : "postgresql");
		rc = -ECONNREFUSED;
		goto out;
	}
	PQsetNoticeProcessor(d->conn, ignore_notice, NULL);
	rc = pg_exec(&d->base, "SET search_path = feedd;"
		" SET client_min_messages = warning; SET TIME ZONE 'UTC'");
	if (rc < 0)
		snprintf(err, errlen, "setting up the connection: %s (%s)",
			d->err, where ? where : "postgresql");
	if (rc == 0)
		rc = pg_text_search(d, tsconfig, err, errlen);
out:
	explicit_bzero(pw, sizeof(pw));
	store__free(tsconfig);
	PQconninfoFree(opts);
	PQfreemem(perr);
	store__free(where);
	store__free(pwfile);
	store__free(t);
	if (rc < 0) {
		if (d) {
			PQfinish(d->conn);
			store__free(d);
		}
	} else {
		*out = &d->base;
	}
	return rc;
}

static void
pg_close(struct db *db)
{
	if (!db)
		return;
	PQfinish(PGD(db)->conn);
	store__free(db);
}

static int
pg_begin_write(struct db *db)
{
	/* One writer per database at a time, as SQLite's BEGIN IMMEDIATE
	 * gives: the lock goes with the transaction. The change log's seqs
	 * (bigserial, taken at INSERT) are therefore taken in commit order:
	 * a reader of seq > cursor never misses a row (store/SCHEMA.md, "The
	 * change log"; tests/store/store_changelog.c). */
	return pg_exec(db, "BEGIN; SELECT pg_advisory_xact_lock(7308619771)");
}

static int
pg_begin_read(struct db *db)
{
	return pg_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

static bool
pg_in_txn(struct db *db)
{
	PGTransactionStatusType t = PQtransactionStatus(PGD(db)->conn);

	return t == PQTRANS_INTRANS || t == PQTRANS_INERROR ||
		t == PQTRANS_ACTIVE;
}

static bool
pg_txn_failed(struct db *db)
{
	return PQtransactionStatus(PGD(db)->conn) == PQTRANS_INERROR;
}

static int
pg_query_int(struct pg_db *d, const char *q, int64_t *v)
{
	PGresult *res = PQexec(d->conn, q);
	int rc = 0;

	if (!res)
		return pg_fail(d, NULL);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) < 1)
		rc = pg_fail(d, res);
	else
		*v = PQgetisnull(res, 0, 0) ? 0
			: strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return rc;
}

static int
pg_version_get(struct db *db, int64_t *v, bool *objects)
{
	struct pg_db *d = PGD(db);
	int64_t has = 0, n = 0;
	int rc;

	*v = 0;
	rc = pg_query_int(d, "SELECT count(*) FROM pg_catalog.pg_tables"
		" WHERE schemaname = 'feedd' AND tablename = 'schema_version'",
		&has);
	if (rc == 0 && has)
		rc = pg_query_int(d, "SELECT max(version) FROM feedd.schema_version",
			v);
	if (rc == 0 && objects) {
		rc = pg_query_int(d, "SELECT count(*) FROM pg_catalog.pg_class c"
			" JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
			" WHERE n.nspname = 'feedd'", &n);
		*objects = n > 0;
	}
	return rc;
}

static int
pg_version_set(struct db *db, int64_t v)
{
	char q[160];

	snprintf(q, sizeof(q), "DELETE FROM feedd.schema_version;"
		" INSERT INTO feedd.schema_version(version) VALUES (%lld)",
		(long long)v);
	return pg_exec(db, q);
}

static int
pg_after_migrate(struct db *db, bool *fts_manual)
{
	char has[16];
	int rc;

	/* The tsvector column is generated by the server. */
	*fts_manual = false;
	/* A database built before feedd.settings was: its column uses
	 * simple (store__pg_schema). Only then: CREATE needs a privilege
	 * a feedd that does not own the schema may lack. */
	rc = pg_query_text(PGD(db), "SELECT to_regclass('feedd.settings')"
		" IS NOT NULL", NULL, has, sizeof(has));
	if (rc < 0 || strcmp(has, "t") == 0)
		return rc;
	return pg_exec(db, "CREATE TABLE IF NOT EXISTS feedd.settings ("
		" one integer PRIMARY KEY DEFAULT 1 CHECK (one = 1),"
		" text_search text NOT NULL);"
		" INSERT INTO feedd.settings(text_search) VALUES ('simple')"
		" ON CONFLICT DO NOTHING");
}

/* The highest $N in q; types[i] = text for each $i+1 not named. */
static int
count_params(const char *q, Oid *types)
{
	bool named[PG_MAX_PARAMS] = { false };
	int max = 0;

	for (const char *p = q; *p; p++)
		if (*p == '$' && isdigit((unsigned char)p[1])) {
			int n = atoi(p + 1);
			if (n > max)
				max = n;
			if (n >= 1 && n <= PG_MAX_PARAMS)
				named[n - 1] = true;
		}
	for (int i = 0; i < max && i < PG_MAX_PARAMS; i++)
		types[i] = named[i] ? 0 : 25; /* TEXTOID */
	return max;
}

static int
pg_prepare(struct db *db, const char *q, bool persistent, struct db_stmt **out)
{
	struct pg_db *d = PGD(db);
	struct pg_stmt *s = store__calloc(1, sizeof(*s));
	int rc = 0;

	if (!s || !(s->sql = rewrite_params(q))) {
		store__free(s);
		snprintf(d->err, sizeof(d->err), "out of memory");
		return -ENOMEM;
	}
	s->base.db = db;
	s->row = -1;
	s->nparams = count_params(s->sql, s->types);
	if (s->nparams > PG_MAX_PARAMS) {
		snprintf(d->err, sizeof(d->err), "too many parameters (%d)",
			s->nparams);
		d->query_err = true;
		rc = -EINVAL;
		goto out;
	}
	if (persistent) {
		PGresult *res;

		snprintf(s->name, sizeof(s->name), "s%u", d->next_name++);
		res = PQprepare(d->conn, s->name, s->sql, s->nparams, s->types);
		if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
			rc = pg_fail(d, res);
		PQclear(res);
	}
out:
	if (rc < 0) {
		store__free(s->sql);
		store__free(s);
		return rc;
	}
	*out = &s->base;
	return 0;
}

static void
clear_params(struct pg_stmt *s)
{
	for (int i = 0; i < PG_MAX_PARAMS; i++) {
		if (s->own[i])
			store__free(s->vals[i]);
		s->vals[i] = NULL;
		s->own[i] = false;
	}
}

static void
pg_reset(struct db_stmt *st)
{
	struct pg_stmt *s = PGS(st);

	PQclear(s->res);
	s->res = NULL;
	s->row = -1;
	s->nrows = 0;
	clear_params(s);
}

static void
pg_finalize(struct db_stmt *st)
{
	struct pg_stmt *s = PGS(st);

	/* A named statement is one of the store's persistent ones, which
	 * live as long as the connection: they are finalized only when it
	 * closes, so no DEALLOCATE round trip. */
	pg_reset(st);
	store__free(s->sql);
	store__free(s);
}

static int
set_param(struct db_stmt *st, int i, char *v, bool own)
{
	struct pg_stmt *s = PGS(st);

	if (i < 1 || i > PG_MAX_PARAMS) {
		if (own)
			store__free(v);
		snprintf(PGD(st->db)->err, sizeof(PGD(st->db)->err),
			"no parameter %d", i);
		return -EINVAL;
	}
	if (s->own[i - 1])
		store__free(s->vals[i - 1]);
	s->vals[i - 1] = v;
	s->own[i - 1] = own;
	return 0;
}

static int
pg_bind_int64(struct db_stmt *s, int i, int64_t v)
{
	char *t = store__printf("%" PRId64, v);

	if (!t)
		return -ENOMEM;
	return set_param(s, i, t, true);
}

static int
pg_bind_double(struct db_stmt *s, int i, double v)
{
	char *t = store__printf("%.17g", v);

	if (!t)
		return -ENOMEM;
	return set_param(s, i, t, true);
}

static int
pg_bind_text(struct db_stmt *s, int i, const char *v, bool copy)
{
	char *t;

	if (!v || !copy)
		return set_param(s, i, (char *)(uintptr_t)v, false);
	t = store__strdup(v);
	/* As on SQLite: bound without a copy rather than lost (every
	 * caller steps while v lives). */
	if (!t)
		return set_param(s, i, (char *)(uintptr_t)v, false);
	return set_param(s, i, t, true);
}

static int
pg_bind_null(struct db_stmt *s, int i)
{
	return set_param(s, i, NULL, false);
}

static int
pg_step(struct db_stmt *st)
{
	struct pg_stmt *s = PGS(st);
	struct pg_db *d = PGD(st->db);
	ExecStatusType t;
	const char *cmd;

	if (s->res) {
		if (++s->row < s->nrows)
			return DB_ROW;
		return DB_DONE;
	}
	if (s->name[0])
		s->res = PQexecPrepared(d->conn, s->name, s->nparams,
			(const char *const *)s->vals, NULL, NULL, 0);
	else
		s->res = PQexecParams(d->conn, s->sql, s->nparams, s->types,
			(const char *const *)s->vals, NULL, NULL, 0);
	if (!s->res)
		return pg_fail(d, NULL);
	t = PQresultStatus(s->res);
	if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK) {
		int rc = pg_fail(d, s->res);
		PQclear(s->res);
		s->res = NULL;
		return rc;
	}
	d->query_err = false;
	/* PQcmdTuples() counts a SELECT's rows too: only writes count. */
	cmd = PQcmdStatus(s->res);
	if (strncmp(cmd, "INSERT", 6) == 0 || strncmp(cmd, "UPDATE", 6) == 0 ||
	    strncmp(cmd, "DELETE", 6) == 0 || strncmp(cmd, "MERGE", 5) == 0) {
		d->changes = strtoll(PQcmdTuples(s->res), NULL, 10);
		d->total += d->changes;
	}
	/* INSERT ... RETURNING id: the new row's id, and no row to show. */
	if (t == PGRES_TUPLES_OK && strncmp(cmd, "INSERT", 6) == 0) {
		if (PQntuples(s->res) == 1 && PQnfields(s->res) == 1)
			d->last_id = strtoll(PQgetvalue(s->res, 0, 0), NULL, 10);
		s->nrows = 0;
		return DB_DONE;
	}
	s->nrows = t == PGRES_TUPLES_OK ? PQntuples(s->res) : 0;
	s->row = 0;
	return s->nrows > 0 ? DB_ROW : DB_DONE;
}

static int
pg_col_count(struct db_stmt *s)
{
	return PGS(s)->res ? PQnfields(PGS(s)->res) : 0;
}

static bool
pg_col_null(struct db_stmt *st, int i)
{
	struct pg_stmt *s = PGS(st);

	return !s->res || s->row < 0 || s->row >= s->nrows ||
		i >= PQnfields(s->res) || PQgetisnull(s->res, s->row, i);
}

static const char *
pg_col_text(struct db_stmt *st, int i)
{
	struct pg_stmt *s = PGS(st);

	if (pg_col_null(st, i))
		return NULL;
	return PQgetvalue(s->res, s->row, i);
}

static int64_t
pg_col_int64(struct db_stmt *s, int i)
{
	const char *t = pg_col_text(s, i);

	if (!t)
		return 0;
	/* A boolean reads as 1 or 0, as SQLite gives it. */
	if (t[0] == 't' && t[1] == '\0')
		return 1;
	if (t[0] == 'f' && t[1] == '\0')
		return 0;
	return strtoll(t, NULL, 10);
}

static double
pg_col_double(struct db_stmt *s, int i)
{
	const char *t = pg_col_text(s, i);

	return t ? strtod(t, NULL) : 0.0;
}

static int64_t
pg_changes(struct db *db)
{
	return PGD(db)->changes;
}

static int64_t
pg_total_changes(struct db *db)
{
	return PGD(db)->total;
}

static int64_t
pg_last_id(struct db *db)
{
	return PGD(db)->last_id;
}

static int
pg_data_version(struct db *db, int64_t *v)
{
	/* The change log's end and the feeds' poll records: what a
	 * reader's "anything new?" asks about. */
	return pg_query_int(PGD(db), "SELECT coalesce((SELECT max(seq)"
		" FROM feedd.changes), 0) * 1000003 + coalesce((SELECT"
		" sum(coalesce(last_attempt, 0) % 1000003) FROM feedd.feeds), 0)",
		v);
}

/* Drain the notifications libpq holds; whether there was one. */
static bool
pg_drain_notifies(struct pg_db *d)
{
	PGnotify *n;
	bool got = false;

	while ((n = PQnotifies(d->conn))) {
		got = true;
		PQfreemem(n);
	}
	return got;
}

static int
pg_wait_notify(struct db *db, int timeout_ms)
{
	struct pg_db *d = PGD(db);
	struct pollfd p = { .events = POLLIN };
	int rc;

	if (!d->listening) {
		rc = pg_exec(db, "LISTEN feedd_changes");
		if (rc < 0)
			return rc;
		d->listening = true;
	}
	/* Some may have come in with the results of the last queries. */
	if (pg_drain_notifies(d))
		return 1;
	if (timeout_ms <= 0)
		return 0;
	p.fd = PQsocket(d->conn);
	if (p.fd < 0)
		return pg_fail(d, NULL);
	rc = poll(&p, 1, timeout_ms);
	if (rc < 0)
		return errno == EINTR ? 0 : -EIO;
	if (rc == 0)
		return 0;
	if (!PQconsumeInput(d->conn))
		return pg_fail(d, NULL);
	return pg_drain_notifies(d) ? 1 : 0;
}

static const char *
pg_errmsg(struct db *db)
{
	return PGD(db)->err[0] ? PGD(db)->err : "no error";
}

static bool
pg_query_error(struct db *db)
{
	return PGD(db)->query_err;
}

/* --- search: feedctl's (FTS5's) query syntax as a tsquery ------------- */

struct tsq {
	char *out;               /* store__malloc'd */
	size_t len, cap;
	bool operand;            /* the last thing out was an operand */
	char weights[8][4];      /* column filter per open group ("" none) */
	int depth;
	char pending[4];         /* a filter for the next operand */
	bool oom;
};

static void
tsq_add(struct tsq *t, const char *s, size_t n)
{
	if (t->oom)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t nc = (t->len + n + 1) * 2;
		char *p = store__realloc(t->out, nc);
		if (!p) {
			t->oom = true;
			return;
		}
		t->out = p;
		t->cap = nc;
	}
	memcpy(t->out + t->len, s, n);
	t->len += n;
	t->out[t->len] = '\0';
}

static void
tsq_str(struct tsq *t, const char *s)
{
	tsq_add(t, s, strlen(s));
}

static bool
word_byte(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

/* Before an operand: the implicit AND of two adjacent ones. */
static void
tsq_operand(struct tsq *t)
{
	if (t->operand)
		tsq_str(t, " & ");
}

/* One word as a quoted tsquery lexeme with its prefix mark and weights. */
static void
tsq_word(struct tsq *t, const char *w, size_t n, bool prefix, const char *wt)
{
	tsq_add(t, "'", 1);
	tsq_add(t, w, n);
	tsq_add(t, "'", 1);
	if (prefix || *wt) {
		tsq_add(t, ":", 1);
		if (prefix)
			tsq_add(t, "*", 1);
		tsq_str(t, wt);
	}
}

static const char *
tsq_weights(struct tsq *t)
{
	if (t->pending[0])
		return t->pending;
	return t->depth > 0 ? t->weights[t->depth - 1] : "";
}

/* A column name to its weight letter; 0 for none. */
static char
col_weight(const char *w, size_t n)
{
	if (n == 5 && strncmp(w, "title", 5) == 0)
		return 'A';
	if (n == 7 && strncmp(w, "summary", 7) == 0)
		return 'B';
	if (n == 4 && strncmp(w, "text", 4) == 0)
		return 'C';
	return 0;
}

static char *
pg_search_query(const char *q, int *err, char *msg, size_t msglen)
{
	struct tsq t = { 0 };
	const char *p = q;

#define BAD(...) do { snprintf(msg, msglen, __VA_ARGS__); goto bad; } while (0)
	tsq_str(&t, "");
	while (*p) {
		unsigned char c = (unsigned char)*p;

		if (isspace(c)) {
			p++;
		} else if (c == '(') {
			if (t.depth == 8)
				BAD("groups nested too deep");
			tsq_operand(&t);
			snprintf(t.weights[t.depth], sizeof(t.weights[0]), "%s",
				tsq_weights(&t));
			t.depth++;
			t.pending[0] = '\0';
			t.operand = false;
			tsq_str(&t, "(");
			p++;
		} else if (c == ')') {
			if (t.depth == 0 || !t.operand)
				BAD("unexpected ')'");
			t.depth--;
			tsq_str(&t, ")");
			p++;
		} else if (c == '"') {
			/* A phrase: its words in a row; "" is a quote. */
			const char *wt = tsq_weights(&t);
			char wbuf[4];
			int words = 0;
			const char *e = p + 1;

			snprintf(wbuf, sizeof(wbuf), "%s", wt);
			for (;;) {
				if (!*e)
					BAD("unterminated string");
				if (*e == '"' && e[1] == '"') {
					e += 2;
					continue;
				}
				if (*e == '"')
					break;
				e++;
			}
			tsq_operand(&t);
			tsq_str(&t, "(");
			for (const char *w = p + 1; w < e;) {
				const char *b;

				while (w < e && !word_byte((unsigned char)*w))
					w++;
				b = w;
				while (w < e && word_byte((unsigned char)*w))
					w++;
				if (w > b) {
					bool last = true;

					for (const char *x = w; x < e; x++)
						if (word_byte((unsigned char)*x))
							last = false;
					if (words++)
						tsq_str(&t, " <-> ");
					tsq_word(&t, b, (size_t)(w - b),
						last && e[1] == '*', wbuf);
				}
			}
			if (!words)
				BAD("an empty phrase");
			tsq_str(&t, ")");
			p = e + 1;
			if (*p == '*')
				p++;
			t.operand = true;
			t.pending[0] = '\0';
		} else if (c == '{') {
			/* {col col} : a filter for the next operand. */
			const char *e = strchr(p, '}'), *w = p + 1;
			size_t n = 0;

			if (!e)
				BAD("unterminated column list");
			while (w < e) {
				const char *b;
				char wc;

				while (w < e && isspace((unsigned char)*w))
					w++;
				b = w;
				while (w < e && word_byte((unsigned char)*w))
					w++;
				if (w == b)
					break;
				wc = col_weight(b, (size_t)(w - b));
				if (!wc)
					BAD("no such column: %.*s", (int)(w - b), b);
				if (n < 3 && !memchr(t.pending, wc, n))
					t.pending[n++] = wc;
			}
			t.pending[n] = '\0';
			p = e + 1;
			while (isspace((unsigned char)*p))
				p++;
			if (*p != ':')
				BAD("a column list needs ':'");
			p++;
		} else if (word_byte(c)) {
			const char *b = p, *e;
			size_t n;

			while (word_byte((unsigned char)*p))
				p++;
			e = p;
			n = (size_t)(e - b);
			while (isspace((unsigned char)*p))
				p++;
			if (*p == ':' && col_weight(b, n)) {
				t.pending[0] = col_weight(b, n);
				t.pending[1] = '\0';
				p++;
				continue;
			}
			if (*p == ':')
				BAD("no such column: %.*s", (int)n, b);
			if ((n == 3 && strncmp(b, "AND", 3) == 0) ||
			    (n == 2 && strncmp(b, "OR", 2) == 0) ||
			    (n == 3 && strncmp(b, "NOT", 3) == 0)) {
				if (!t.operand)
					BAD("%.*s needs something before it", (int)n,
						b);
				tsq_str(&t, b[0] == 'A' ? " & " : b[0] == 'O'
					? " | " : " & !");
				t.operand = false;
				continue;
			}
			tsq_operand(&t);
			p = e;
			if (*p == '*')
				p++;
			tsq_word(&t, b, n, *e == '*', tsq_weights(&t));
			t.operand = true;
			t.pending[0] = '\0';
		} else {
			BAD("syntax error near \"%c\"", c);
		}
	}
	if (t.depth > 0)
		BAD("unbalanced '('");
	if (!t.operand && t.len > 0)
		BAD("the query ends with an operator");
	if (t.oom) {
		*err = -ENOMEM;
		store__free(t.out);
		return NULL;
	}
	return t.out;
#undef BAD
bad:
	*err = t.oom ? -ENOMEM : -EINVAL;
	store__free(t.out);
	return NULL;
}

const struct db_driver db_pg_driver = {
	.name = "postgresql",
	.sql = store__sql_pg,
	.migrations = NULL,
	.create = store__pg_schema,
	.search_sql = store__search_sql_pg,
	.search_query = pg_search_query,
	.open = pg_open,
	.close = pg_close,
	.exec = pg_exec,
	.begin_write = pg_begin_write,
	.begin_read = pg_begin_read,
	.in_txn = pg_in_txn,
	.txn_failed = pg_txn_failed,
	.version_get = pg_version_get,
	.version_set = pg_version_set,
	.after_migrate = pg_after_migrate,
	.describe = pg_describe,
	.prepare = pg_prepare,
	.finalize = pg_finalize,
	.reset = pg_reset,
	.bind_int64 = pg_bind_int64,
	.bind_double = pg_bind_double,
	.bind_text = pg_bind_text,
	.bind_null = pg_bind_null,
	.step = pg_step,
	.col_count = pg_col_count,
	.col_null = pg_col_null,
	.col_int64 = pg_col_int64,
	.col_double = pg_col_double,
	.col_text = pg_col_text,
	.changes = pg_changes,
	.total_changes = pg_total_changes,
	.last_id = pg_last_id,
	.data_version = pg_data_version,
	.wait_notify = pg_wait_notify,
	.errmsg = pg_errmsg,
	.query_error = pg_query_error,
};
