/*
 * Copying a whole store from one database to another (store_migrate(),
 * store.h; feedctl migrate). Written once over the driver layer, so the
 * same code copies SQLite to PostgreSQL and back: every value of every
 * table that carries state goes through db.h as an integer or text (the
 * two schemas hold nothing else), in key order, in batches, inside one
 * write transaction on the destination. Before that transaction commits,
 * each table is read back from the destination and compared with what
 * was read from the source by count and checksum.
 *
 * The checksum of a table is the sum, modulo 2^64, of one 64-bit FNV-1a
 * hash per row, so it does not depend on the order rows come back in: a
 * text key sorts by byte on SQLite and by the database's collation on
 * PostgreSQL. Each column enters a row's hash as a type tag, a length and
 * its bytes (an integer as its decimal text), so NULL, "" and 0 differ.
 */
#include "store_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define MIGRATE_BATCH_DEFAULT 1000
#define MIGRATE_MAX_COLS 32

/*
 * One table: its columns in the order both schemas understand (explicit,
 * so PostgreSQL's generated fts column is left to the server), a type per
 * column ('i' integer, 't' text), and how many leading columns form its
 * primary key (the order batches are read in).
 */
struct mtable {
	const char *name;
	const char *cols;
	const char *types;
	int nkey;
};

static const struct mtable mtables[FEEDD_MIGRATE_TABLES] = {
	{ "feeds",
	  "id, name, url, url_in_use, title, site_link, etag, last_modified,"
	  " body_hash, keep_days, keep_count, last_attempt, last_success,"
	  " next_due, failures, last_error, last_status, gone, created, active,"
	  " tags, enabled, malformed, last_warning, conf_title, conf_site",
	  "ittttttttiiiiiitiiiitiittt", 1 },
	{ "articles",
	  "id, feed_id, key, guid, link, canon_link, title, author, published,"
	  " updated, summary, content, text, categories, enclosures, hash,"
	  " sort_time, first_seen, last_changed, revision, story_id,"
	  " summary_text",
	  "iittttttttttttttiiiiit", 1 },
	{ "purged", "feed_id, key, canon_link, title, at", "ittti", 2 },
	{ "changes", "seq, article_id, feed_id, kind, at", "iiiti", 1 },
	{ "hook_state",
	  "name, cursor, last_attempt, last_success, failures, last_error,"
	  " next_attempt, disabled",
	  "tiiiitit", 1 },
	{ "rule_counts", "name, matches, last_match, action", "tiit", 1 },
	{ "blocked_keys", "feed_id, key, at", "iti", 2 },
};

enum { T_FEEDS, T_ARTICLES, T_PURGED, T_CHANGES };

#define FNV_OFFSET 1469598103934665603ULL
#define FNV_PRIME 1099511628211ULL

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= FNV_PRIME;
	}
	return h;
}

static uint64_t
fnv_field(uint64_t h, unsigned char tag, const char *v, size_t len)
{
	unsigned char pre[9];

	pre[0] = tag;
	for (int b = 0; b < 8; b++)
		pre[1 + b] = (unsigned char)((uint64_t)len >> (8 * b));
	h = fnv(h, pre, sizeof(pre));
	return fnv(h, v, len);
}

static bool
is_pg(const struct store *st)
{
	return st->drv == &db_pg_driver;
}

/* The hash of the current row of s, whose columns are t's. Every column
 * as the driver's text for it (an integer's decimal digits on both
 * engines), not as the copy read it: a value the copy's type would change
 * (a fraction in an integer column, text in a SQLite integer column)
 * hashes differently on the two sides and fails the migration instead of
 * passing changed. */
static uint64_t
row_hash(struct db_stmt *s, const struct mtable *t)
{
	uint64_t h = FNV_OFFSET;

	for (int i = 0; t->types[i]; i++) {
		const char *v = db_col_null(s, i) ? NULL : db_col_text(s, i);

		h = fnv_field(h, v ? 1 : 0, v ? v : "", v ? strlen(v) : 0);
	}
	return h;
}

/* Programmer's check: a type letter for every column of every table. */
static bool
tables_ok(void)
{
	for (int i = 0; i < FEEDD_MIGRATE_TABLES; i++) {
		size_t n = 1;

		for (const char *p = mtables[i].cols; *p; p++)
			n += *p == ',';
		if (n != strlen(mtables[i].types) || n > MIGRATE_MAX_COLS)
			return false;
	}
	return true;
}

/* A statement run once per row or batch: prepared once (PostgreSQL: a
 * named statement, parsed and planned once instead of at every row). */
static int
prepare_kept(struct store *st, const char *q, struct db_stmt **s,
	const char *what)
{
	int rc = st->drv->prepare(st->db, q, true, s);

	if (rc < 0)
		return store__fail(st, rc, what);
	return 0;
}

/* The key of the last row read, to start the next batch after it. */
struct lastkey {
	bool set;
	int64_t num[2];
	char *text[2];       /* owned */
};

static void
lastkey_cleanup(struct lastkey *k)
{
	for (int i = 0; i < 2; i++) {
		store__free(k->text[i]);
		k->text[i] = NULL;
	}
	k->set = false;
}

static int
lastkey_take(struct lastkey *k, struct db_stmt *s, const struct mtable *t)
{
	for (int i = 0; i < t->nkey; i++) {
		store__free(k->text[i]);
		k->text[i] = NULL;
		if (t->types[i] == 'i') {
			k->num[i] = db_col_int64(s, i);
		} else {
			const char *v = db_col_text(s, i);

			k->text[i] = store__strdup(v ? v : "");
			if (!k->text[i])
				return -ENOMEM;
		}
	}
	k->set = true;
	return 0;
}

/*
 * A reader of one table in key order, a batch at a time: "SELECT cols
 * FROM t [WHERE (keys) > (?2, ...)] ORDER BY keys LIMIT ?1". Both engines
 * walk the primary key's index for it, and PostgreSQL's driver, which
 * holds a whole result in memory, never holds more than a batch.
 */
struct reader {
	struct store *st;              /* borrowed */
	const struct mtable *t;
	struct db_stmt *first, *next;  /* owned */
	struct db_stmt *cur;           /* borrowed: first or next */
	struct lastkey key;
	int batch;
	int in_batch;                  /* rows read of the current batch */
	bool done;
};

static int
reader_open(struct reader *r, struct store *st, const struct mtable *t,
	int batch)
{
	const char *kcols[2] = { NULL, NULL };
	char kbuf[2][64];
	char *q = NULL;
	int rc;

	*r = (struct reader){ .st = st, .t = t, .batch = batch };
	/* The key columns by name: the first nkey of cols. */
	for (int i = 0; i < t->nkey; i++) {
		const char *p = t->cols;
		size_t len;

		for (int j = 0; j < i; j++)
			p = strchr(p, ',') + 2;
		len = strcspn(p, ",");
		snprintf(kbuf[i], sizeof(kbuf[i]), "%.*s", (int)len, p);
		kcols[i] = kbuf[i];
	}
	if (t->nkey == 1)
		q = store__printf("SELECT %s FROM %s ORDER BY %s LIMIT ?1",
			t->cols, t->name, kcols[0]);
	else
		q = store__printf("SELECT %s FROM %s ORDER BY %s, %s LIMIT ?1",
			t->cols, t->name, kcols[0], kcols[1]);
	if (!q)
		return -ENOMEM;
	rc = prepare_kept(st, q, &r->first, "reading a table");
	store__free(q);
	if (rc < 0)
		return rc;
	if (t->nkey == 1)
		q = store__printf("SELECT %s FROM %s WHERE %s > ?2"
			" ORDER BY %s LIMIT ?1", t->cols, t->name, kcols[0],
			kcols[0]);
	else
		q = store__printf("SELECT %s FROM %s WHERE (%s, %s) > (?2, ?3)"
			" ORDER BY %s, %s LIMIT ?1", t->cols, t->name,
			kcols[0], kcols[1], kcols[0], kcols[1]);
	if (!q)
		return -ENOMEM;
	rc = prepare_kept(st, q, &r->next, "reading a table");
	store__free(q);
	return rc;
}

static void
reader_close(struct reader *r)
{
	db_finalize(r->first);
	db_finalize(r->next);
	r->first = r->next = NULL;
	lastkey_cleanup(&r->key);
}

static int
reader_start_batch(struct reader *r)
{
	struct db_stmt *s = r->key.set ? r->next : r->first;
	int rc;

	db_reset(s);
	rc = db_bind_int64(s, 1, r->batch);
	for (int i = 0; rc >= 0 && r->key.set && i < r->t->nkey; i++) {
		if (r->t->types[i] == 'i')
			rc = db_bind_int64(s, 2 + i, r->key.num[i]);
		else    /* a copy: the key changes as the batch is read */
			rc = store__bind_text(s, 2 + i, r->key.text[i]);
	}
	if (rc < 0)
		return store__fail(r->st, rc, "reading a table");
	r->cur = s;
	r->in_batch = 0;
	return 0;
}

/*
 * The next row: 1 with the row on r->cur, 0 at the table's end, < 0.
 * *batch_end is set when the batch before this row (or the end) is over,
 * for progress.
 */
static int
reader_step(struct reader *r, bool *batch_end)
{
	int rc;

	*batch_end = false;
	if (r->done)
		return 0;
	if (!r->cur || r->in_batch == r->batch) {
		if (r->cur && r->in_batch == r->batch) {
			/* The key of the batch's last row is still on cur. */
			*batch_end = true;
		}
		rc = reader_start_batch(r);
		if (rc < 0)
			return rc;
	}
	rc = db_step(r->cur);
	if (rc == DB_DONE) {
		r->done = true;
		*batch_end = true;
		return 0;
	}
	if (rc != DB_ROW)
		return store__fail(r->st, rc, "reading a table");
	r->in_batch++;
	/* Remember the key now: the next batch starts after it. */
	rc = lastkey_take(&r->key, r->cur, r->t);
	if (rc < 0)
		return store__fail(r->st, rc, "reading a table");
	return 1;
}

/* The first column of a one-row query as an integer. */
static int
query_int(struct store *st, const char *q, int64_t *v, const char *what)
{
	struct db_stmt *s = NULL;
	int rc = store__prepare(st, q, &s, what);

	if (rc < 0)
		return rc;
	rc = db_step(s);
	if (rc == DB_ROW) {
		*v = db_col_null(s, 0) ? 0 : db_col_int64(s, 0);
		rc = 0;
	} else {
		rc = store__fail(st, rc, what);
	}
	db_finalize(s);
	return rc;
}

/* Run q with ?1 text t and ?2 the integer v, or (t NULL) with ?1 v;
 * 0 or < 0. */
static int
exec_ti(struct store *st, const char *q, const char *t, int64_t v,
	const char *what)
{
	struct db_stmt *s = NULL;
	int rc = store__prepare(st, q, &s, what);

	if (rc < 0)
		return rc;
	if (t) {
		rc = store__bind_static(s, 1, t);
		if (rc >= 0)
			rc = db_bind_int64(s, 2, v);
	} else {
		rc = db_bind_int64(s, 1, v);
	}
	if (rc >= 0) {
		rc = db_step(s);
		rc = rc == DB_DONE || rc == DB_ROW ? 0 : rc;
	}
	if (rc < 0)
		rc = store__fail(st, rc, what);
	db_finalize(s);
	return rc;
}

/* The highest id a sequence of src ever gave (0: none): sqlite_sequence,
 * or the PostgreSQL sequence. An id may be above every stored row's (the
 * article was purged), and must never be handed out again. */
static int
src_mark(struct store *src, const char *table, const char *pgseq,
	int64_t *v)
{
	char q[160];

	if (is_pg(src))
		snprintf(q, sizeof(q), "SELECT CASE WHEN is_called THEN"
			" last_value ELSE last_value - 1 END FROM %s", pgseq);
	else
		snprintf(q, sizeof(q), "SELECT coalesce((SELECT seq FROM"
			" sqlite_sequence WHERE name = '%s'), 0)", table);
	return query_int(src, q, v, "reading an id sequence");
}

/* dst's sequence for table (pgseq on PostgreSQL) past mark. */
static int
dst_mark(struct store *dst, const char *table, const char *pgseq,
	int64_t mark)
{
	char q[160];
	int rc;

	if (mark < 1)
		return 0;
	if (is_pg(dst)) {
		snprintf(q, sizeof(q), "SELECT setval('%s', ?1)", pgseq);
		return exec_ti(dst, q, NULL, mark, "setting an id sequence");
	}
	if (!table)
		return 0;      /* SQLite's feeds: no AUTOINCREMENT, max + 1 */
	rc = exec_ti(dst, "UPDATE sqlite_sequence SET seq = ?2"
		" WHERE name = ?1", table, mark, "setting an id sequence");
	if (rc == 0)
		rc = exec_ti(dst, "INSERT INTO sqlite_sequence (name, seq)"
			" SELECT ?1, ?2 WHERE NOT EXISTS (SELECT 1 FROM"
			" sqlite_sequence WHERE name = ?1)", table, mark,
			"setting an id sequence");
	return rc;
}

/* A source failure as dst's message (store_errmsg(dst) is the one the
 * caller reads). */
static int
src_failed(struct store *dst, const struct store *src, int rc)
{
	snprintf(dst->err, sizeof(dst->err), "source: %.480s", src->err);
	return rc;
}

struct tally {
	int64_t rows;
	uint64_t sum;
	int64_t max_key;     /* the highest integer key read */
};

/*
 * The destination side of a table: rows gathered from the source (copied,
 * as the source's statement moves on) and written several to one
 * multi-row INSERT, which saves a server round trip and an executor start
 * per row. At most MIGRATE_MAX_PARAMS parameters a statement (the
 * PostgreSQL driver takes 256).
 */
#define MIGRATE_MAX_PARAMS 256

struct writer {
	struct store *st;            /* borrowed */
	const struct mtable *t;
	int ncols, per_stmt;         /* columns; rows per full statement */
	struct db_stmt *full;        /* owned; per_stmt rows, prepared once */
	int n;                       /* rows gathered */
	char *text[MIGRATE_MAX_PARAMS];   /* owned; NULL: NULL or an integer */
	int64_t num[MIGRATE_MAX_PARAMS];
	bool null[MIGRATE_MAX_PARAMS];
};

/* "INSERT INTO t (cols) VALUES (?1, ...), (...)" for rows rows. */
static char *
insert_sql(const struct mtable *t, int ncols, int rows)
{
	size_t cap = strlen(t->name) + strlen(t->cols) + 64 +
		(size_t)rows * ((size_t)ncols * 8 + 8);
	char *q = store__malloc(cap);
	size_t off;

	if (!q)
		return NULL;
	off = (size_t)snprintf(q, cap, "INSERT INTO %s (%s) VALUES ", t->name,
		t->cols);
	for (int r = 0; r < rows; r++)
		for (int c = 0; c < ncols; c++)
			off += (size_t)snprintf(q + off, cap - off, "%s?%d%s",
				c ? ", " : r ? ", (" : "(", r * ncols + c + 1,
				c == ncols - 1 ? ")" : "");
	return q;
}

static int
writer_init(struct writer *w, struct store *st, const struct mtable *t,
	int batch)
{
	char *q;
	int rc;

	memset(w, 0, sizeof(*w));
	w->st = st;
	w->t = t;
	w->ncols = (int)strlen(t->types);
	w->per_stmt = MIGRATE_MAX_PARAMS / w->ncols;
	if (w->per_stmt > batch)
		w->per_stmt = batch;
	q = insert_sql(t, w->ncols, w->per_stmt);
	if (!q) {
		snprintf(st->err, sizeof(st->err), "out of memory");
		return -ENOMEM;
	}
	rc = prepare_kept(st, q, &w->full, "writing a table");
	store__free(q);
	return rc;
}

static void
writer_drop(struct writer *w)
{
	for (int i = 0; i < w->n * w->ncols; i++) {
		store__free(w->text[i]);
		w->text[i] = NULL;
	}
	w->n = 0;
}

static void
writer_cleanup(struct writer *w)
{
	writer_drop(w);
	db_finalize(w->full);
	w->full = NULL;
}

/* Write the gathered rows; 0 or < 0 (message in the store). */
static int
writer_flush(struct writer *w)
{
	struct db_stmt *s = w->full, *tail = NULL;
	char what[96];
	int rc = 0;

	if (w->n == 0)
		return 0;
	snprintf(what, sizeof(what), "writing %s", w->t->name);
	if (w->n < w->per_stmt) {
		/* The table's last few rows: a statement of their own. */
		char *q = insert_sql(w->t, w->ncols, w->n);

		if (!q) {
			snprintf(w->st->err, sizeof(w->st->err), "out of memory");
			rc = -ENOMEM;
			goto out;
		}
		rc = store__prepare(w->st, q, &tail, what);
		store__free(q);
		if (rc < 0)
			goto out;
		s = tail;
	}
	db_reset(s);
	for (int i = 0; rc >= 0 && i < w->n * w->ncols; i++) {
		if (w->null[i])
			rc = db_bind_null(s, i + 1);
		else if (w->t->types[i % w->ncols] == 'i')
			rc = db_bind_int64(s, i + 1, w->num[i]);
		else
			rc = store__bind_static(s, i + 1, w->text[i]);
	}
	if (rc >= 0) {
		rc = db_step(s);
		if (rc == DB_DONE || rc == DB_ROW)
			rc = 0;
		else if (rc >= 0)
			rc = -EIO;
	}
	db_reset(s);
	if (rc < 0)
		rc = store__fail(w->st, rc, what);
out:
	db_finalize(tail);
	writer_drop(w);
	return rc;
}

/* Gather the current row of s (the source's; columns as w's table). */
static int
writer_add(struct writer *w, struct db_stmt *s)
{
	int base = w->n * w->ncols;

	for (int c = 0; c < w->ncols; c++) {
		int i = base + c;

		w->null[i] = db_col_null(s, c);
		w->text[i] = NULL;
		w->num[i] = 0;
		if (w->null[i])
			continue;
		if (w->t->types[c] == 'i') {
			w->num[i] = db_col_int64(s, c);
		} else {
			const char *v = db_col_text(s, c);

			w->text[i] = store__strdup(v ? v : "");
			if (!w->text[i]) {
				w->n++;      /* so writer_drop frees this row too */
				snprintf(w->st->err, sizeof(w->st->err),
					"out of memory");
				return -ENOMEM;
			}
		}
	}
	w->n++;
	return w->n == w->per_stmt ? writer_flush(w) : 0;
}

static int
copy_table(struct store *src, struct store *dst, const struct mtable *t,
	int batch, store_migrate_cb cb, void *ud, struct tally *out)
{
	struct reader r = { 0 };
	struct writer w;
	char q[64];
	int64_t total = 0;
	bool batch_end;
	int rc;

	snprintf(q, sizeof(q), "SELECT count(*) FROM %s", t->name);
	rc = query_int(src, q, &total, "counting rows");
	if (rc < 0)
		return src_failed(dst, src, rc);
	rc = writer_init(&w, dst, t, batch);
	if (rc < 0)
		goto out;
	rc = reader_open(&r, src, t, batch);
	if (rc < 0) {
		rc = src_failed(dst, src, rc);
		goto out;
	}
	if (cb)
		cb(ud, "copy", t->name, 0, total);
	for (;;) {
		rc = reader_step(&r, &batch_end);
		if (rc < 0) {
			rc = src_failed(dst, src, rc);
			goto out;
		}
		if (batch_end) {
			/* A batch is written before the next one is read, so
			 * the progress counts rows in the destination. */
			rc = writer_flush(&w);
			if (rc < 0)
				goto out;
			if (cb)
				cb(ud, "copy", t->name, out->rows, total);
		}
		if (r.done)
			break;
		out->rows++;
		out->sum += row_hash(r.cur, t);
		if (t->types[0] == 'i' && db_col_int64(r.cur, 0) > out->max_key)
			out->max_key = db_col_int64(r.cur, 0);
		rc = writer_add(&w, r.cur);
		if (rc < 0)
			goto out;
	}
	if (out->rows != total) {
		snprintf(dst->err, sizeof(dst->err), "source: table %s: %" PRId64
			" rows read, %" PRId64 " counted", t->name, out->rows,
			total);
		rc = -EIO;
		goto out;
	}
	rc = 0;
out:
	reader_close(&r);
	writer_cleanup(&w);
	return rc;
}

/* Read table t back from dst: its count and checksum. */
static int
verify_table(struct store *dst, const struct mtable *t, int batch,
	int64_t expect, store_migrate_cb cb, void *ud, struct tally *out)
{
	struct reader r = { 0 };
	char q[64];
	int64_t n = 0;
	bool batch_end;
	int rc;

	snprintf(q, sizeof(q), "SELECT count(*) FROM %s", t->name);
	rc = query_int(dst, q, &n, "counting rows");
	if (rc < 0)
		return rc;
	rc = reader_open(&r, dst, t, batch);
	while (rc >= 0) {
		rc = reader_step(&r, &batch_end);
		if (batch_end && cb)
			cb(ud, "verify", t->name, out->rows, expect);
		if (rc <= 0)
			break;
		out->rows++;
		out->sum += row_hash(r.cur, t);
	}
	reader_close(&r);
	if (rc == 0 && n != out->rows) {
		snprintf(dst->err, sizeof(dst->err), "table %s: %" PRId64
			" rows read back, %" PRId64 " counted", t->name,
			out->rows, n);
		rc = -EBADMSG;
	}
	return rc;
}

/* -EEXIST when dst holds any row of the tables. */
static int
check_empty(struct store *dst)
{
	for (int i = 0; i < FEEDD_MIGRATE_TABLES; i++) {
		char q[96];
		int64_t n = 0;
		int rc;

		snprintf(q, sizeof(q), "SELECT count(*) FROM (SELECT 1 FROM %s"
			" LIMIT 1) AS t", mtables[i].name);
		rc = query_int(dst, q, &n, "reading the destination");
		if (rc < 0)
			return rc;
		if (n > 0) {
			snprintf(dst->err, sizeof(dst->err), "%s: the "
				"destination is not empty (table %s has rows); "
				"migrate writes only into a new database",
				dst->path, mtables[i].name);
			return -EEXIST;
		}
	}
	return 0;
}

int
store_migrate(struct store *src, struct store *dst, int batch,
	store_migrate_cb cb, void *ud, struct store_migrate_report *rep)
{
	struct tally got[FEEDD_MIGRATE_TABLES];
	struct store_migrate_report r = { 0 };
	int64_t art_mark = 0, seq_mark = 0;
	bool src_txn = false, dst_txn = false;
	uint64_t all = FNV_OFFSET;
	int rc;

	memset(got, 0, sizeof(got));
	if (!tables_ok()) {
		snprintf(dst->err, sizeof(dst->err),
			"store_migrate: the table list is inconsistent");
		return -EINVAL;
	}
	if (batch <= 0)
		batch = MIGRATE_BATCH_DEFAULT;
	if (src == dst) {
		snprintf(dst->err, sizeof(dst->err),
			"source and destination are the same database");
		return -EINVAL;
	}
	if (dst->readonly) {
		snprintf(dst->err, sizeof(dst->err), "%s: opened read-only",
			dst->path);
		return -EROFS;
	}
	if (dst->in_group || dst->in_refresh || db_in_txn(dst->db) ||
	    db_in_txn(src->db)) {
		snprintf(dst->err, sizeof(dst->err),
			"a transaction is already open");
		return -EBUSY;
	}
	dst->err[0] = '\0';

	/* One snapshot of the source for everything read from it. */
	rc = src->drv->begin_read(src->db);
	if (rc < 0) {
		rc = src_failed(dst, src, store__fail(src, rc,
			"starting a read"));
		goto out;
	}
	src_txn = true;
	rc = dst->drv->begin_write(dst->db);
	if (rc < 0) {
		rc = store__fail(dst, rc, "starting the transaction");
		goto out;
	}
	dst_txn = true;
	rc = check_empty(dst);
	if (rc < 0)
		goto out;
	for (int i = 0; i < FEEDD_MIGRATE_TABLES; i++) {
		rc = copy_table(src, dst, &mtables[i], batch, cb, ud, &got[i]);
		if (rc < 0)
			goto out;
	}
	rc = src_mark(src, "articles", "articles_id_seq", &art_mark);
	if (rc == 0)
		rc = src_mark(src, "changes", "changes_seq_seq", &seq_mark);
	if (rc < 0) {
		rc = src_failed(dst, src, rc);
		goto out;
	}
	if (art_mark < got[T_ARTICLES].max_key)
		art_mark = got[T_ARTICLES].max_key;
	if (seq_mark < got[T_CHANGES].max_key)
		seq_mark = got[T_CHANGES].max_key;
	rc = dst_mark(dst, NULL, "feeds_id_seq", got[T_FEEDS].max_key);
	if (rc == 0)
		rc = dst_mark(dst, "articles", "articles_id_seq", art_mark);
	if (rc == 0)
		rc = dst_mark(dst, "changes", "changes_seq_seq", seq_mark);
	if (rc < 0)
		goto out;
	/* SQLite's FTS5 index is external content over articles_fts_src:
	 * build it from the copied rows in one go. PostgreSQL's tsvector is
	 * a generated column, written with each row. */
	if (!is_pg(dst)) {
		rc = store__exec(dst, "INSERT INTO articles_fts(articles_fts)"
			" VALUES ('rebuild')");
		if (rc < 0)
			goto out;
	}

	for (int i = 0; i < FEEDD_MIGRATE_TABLES; i++) {
		struct tally back = { 0 };

		rc = verify_table(dst, &mtables[i], batch, got[i].rows, cb, ud,
			&back);
		if (rc < 0)
			goto out;
		if (back.rows != got[i].rows || back.sum != got[i].sum) {
			snprintf(dst->err, sizeof(dst->err), "verification "
				"failed: table %s: %" PRId64 " rows, checksum "
				"%016" PRIx64 " in the source; %" PRId64 " rows, "
				"checksum %016" PRIx64 " in the destination",
				mtables[i].name, got[i].rows, got[i].sum,
				back.rows, back.sum);
			rc = -EBADMSG;
			goto out;
		}
		r.tables[i].name = mtables[i].name;
		r.tables[i].rows = got[i].rows;
		r.tables[i].sum = got[i].sum;
		all = fnv_field(all, 3, mtables[i].name,
			strlen(mtables[i].name));
		all = fnv(all, &got[i].rows, sizeof(got[i].rows));
		all = fnv(all, &got[i].sum, sizeof(got[i].sum));
	}
	r.checksum = all;
	r.next_article_id = art_mark + 1;
	r.next_seq = seq_mark + 1;

	rc = store__exec(dst, "COMMIT");
	if (rc < 0)
		goto out;
	dst_txn = false;
out:
	if (dst_txn)
		db_exec(dst->db, "ROLLBACK");
	if (src_txn)
		db_exec(src->db, "ROLLBACK");
	if (rc == 0 && rep)
		*rep = r;
	return rc;
}
