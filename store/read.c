/*
 * The read API: what feedctl and other readers in C use. Everything here
 * reads the versioned views (articles_v1, feeds_v1, changes_v1) that
 * store/SCHEMA.md promises to other programs, so the views get used by
 * the store's own tests every day.
 */
#include "store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ART_COLS(p)                                                            \
	p "id, " p "feed_id, " p "story_id, " p "feed, " p "key, " p "guid, "   \
	p "link, " p "canonical_link, " p "title, " p "author, "               \
	p "published, " p "updated, " p "summary, " p "content, " p "text, "   \
	p "categories, " p "enclosures, " p "content_hash, " p "sort_time, "   \
	p "first_seen, " p "last_changed, " p "revision, " p "tags"
#define ART_NCOLS 23

/* Fill a row from ART_COLS starting at column c. */
static void
article_from_row(struct db_stmt *s, int c, struct store_article_row *a)
{
	memset(a, 0, sizeof(*a));
	a->id = db_col_int64(s, c + 0);
	a->feed_id = db_col_int64(s, c + 1);
	a->story_id = db_col_int64(s, c + 2);
	a->feed = store__text(s, c + 3);
	a->key = store__text(s, c + 4);
	a->guid = store__text(s, c + 5);
	a->link = store__text(s, c + 6);
	a->canonical_link = store__text(s, c + 7);
	a->title = store__text(s, c + 8);
	a->author = store__text(s, c + 9);
	a->published = store__text(s, c + 10);
	a->updated = store__text(s, c + 11);
	a->summary = store__text(s, c + 12);
	a->content = store__text(s, c + 13);
	a->text = store__text(s, c + 14);
	a->categories_json = store__text(s, c + 15);
	a->enclosures_json = store__text(s, c + 16);
	a->content_hash = store__text(s, c + 17);
	a->sort_time = db_col_int64(s, c + 18);
	a->first_seen = db_col_int64(s, c + 19);
	a->last_changed = db_col_int64(s, c + 20);
	a->revision = db_col_int(s, c + 21);
	a->tags = store__text(s, c + 22);
}

/* Step s, calling cb for each article row; columns start at 0. */
static int
walk_articles(struct store *st, struct db_stmt *s, store_article_cb cb,
	void *ud, int *rows, const char *what)
{
	struct store_article_row a;
	int rc = 0, src;

	for (;;) {
		src = db_step(s);
		if (src != DB_ROW)
			break;
		article_from_row(s, 0, &a);
		if (db_col_count(s) > ART_NCOLS) {
			a.snippet = store__text(s, ART_NCOLS);
			a.rank = db_col_double(s, ART_NCOLS + 1);
		}
		if (rows)
			(*rows)++;
		rc = cb(ud, &a);
		if (rc)
			return rc;
	}
	if (src != DB_DONE)
		rc = store__fail(st, src, what);
	return rc;
}

/* Whole tags only: "news" is not in "newsletter,tech". A tag never holds
 * a comma, so "news,tech" is no tag and matches nothing. */
#define TAG_MATCH(col, param) \
	" AND instr(" param ", ',') = 0"                                      \
	" AND instr(',' || " col " || ',', ',' || " param " || ',') > 0"

static int
feed_exists(struct store *st, const char *name)
{
	struct db_stmt *s = NULL;
	int rc = store__prepare(st, "SELECT 1 FROM feeds_v1 WHERE name = ?1",
		&s, "preparing a query");
	int src;

	if (rc < 0)
		return rc;
	store__bind_text(s, 1, name);
	src = db_step(s);
	if (src == DB_DONE) {
		snprintf(st->err, sizeof(st->err), "no feed named '%s'", name);
		rc = -ENOENT;
	} else if (src != DB_ROW) {
		rc = store__fail(st, src, "reading feeds");
	}
	db_finalize(s);
	return rc;
}

int
store_articles_query(struct store *st, const struct store_query *q,
	store_article_cb cb, void *ud)
{
	static const struct store_query none;
	char sql[2048];
	struct db_stmt *s = NULL;
	int rc = 0;

	if (!q)
		q = &none;
	if (q->feed) {
		rc = feed_exists(st, q->feed);
		if (rc < 0)
			return rc;
	}
	snprintf(sql, sizeof(sql),
		"SELECT a.id, a.feed_id, a.story_id, a.feed, a.key, a.guid,"
		" a.link, a.canonical_link, a.title, a.author, a.published,"
		" a.updated, %s, a.categories, a.enclosures, a.content_hash,"
		" a.sort_time, a.first_seen, a.last_changed, a.revision, a.tags"
		" FROM articles_v1 a WHERE 1 = 1"
		"%s%s%s%s%s"
		" ORDER BY a.sort_time %s, a.id %s LIMIT ?4",
		q->no_bodies ? "NULL, NULL, NULL" : "a.summary, a.content, a.text",
		q->feed ? " AND a.feed = ?1" : "",
		q->since ? " AND a.sort_time >= ?2" : "",
		q->after_id ? " AND a.id > ?3" : "",
		q->tag ? TAG_MATCH("a.tags", "?5") : "",
		/* The first stored article of each story stands for it. */
		q->unique ? " AND NOT EXISTS (SELECT 1 FROM articles_v1 b"
			    " WHERE b.story_id = a.story_id AND b.id < a.id)" : "",
		q->oldest_first ? "ASC" : "DESC", q->oldest_first ? "ASC" : "DESC");
	rc = store__prepare(st, sql, &s, "preparing a query");
	if (rc < 0)
		return rc;
	store__bind_text(s, 1, q->feed);
	store__bind_int(s, 2, q->since);
	store__bind_int(s, 3, q->after_id);
	store__bind_int(s, 4, q->limit > 0 ? q->limit : INT64_MAX);
	store__bind_text(s, 5, q->tag);
	rc = walk_articles(st, s, cb, ud, NULL, "reading articles");
	db_finalize(s);
	return rc;
}

int
store_article_get(struct store *st, int64_t id, store_article_cb cb, void *ud)
{
	struct db_stmt *s = NULL;
	int rows = 0;
	int rc = store__prepare(st, "SELECT " ART_COLS("") " FROM articles_v1"
		" WHERE id = ?1", &s, "preparing a query");

	if (rc < 0)
		return rc;
	store__bind_int(s, 1, id);
	rc = walk_articles(st, s, cb, ud, &rows, "reading an article");
	if (rc == 0 && rows == 0) {
		snprintf(st->err, sizeof(st->err), "no article with id %lld",
			(long long)id);
		rc = -ENOENT;
	}
	db_finalize(s);
	return rc;
}

/*
 * The snippet: of the text (column 2) where it matches, else of the
 * summary (column 1) where it matches, else the start of the text; an
 * article without text, whose summary does not match either, shows its
 * best column (the title). Which column matched is told by a snippet with
 * private markers (\1, \2); computed for the rows returned only (at most
 * the limit).
 */
#define SNIP(col, open, close) \
	"snippet(articles_fts, " col ", " open ", " close ", '...', 16)"
#define SNIP_HIT(col) "instr(" SNIP(col, "char(1)", "char(2)") ", char(1)) > 0"
#define SNIPPET                                                                \
	"CASE WHEN " SNIP_HIT("2") " THEN " SNIP("2", "'['", "']'")            \
	" WHEN " SNIP_HIT("1") " THEN " SNIP("1", "'['", "']'")                \
	" WHEN a.text IS NOT NULL THEN " SNIP("2", "'['", "']'")               \
	" ELSE " SNIP("-1", "'['", "']'") " END"

/* FTS5: title hits weigh three times as much as summary or text hits. */
const char store__search_sql_sqlite[] =
	"SELECT " ART_COLS("a.") ", " SNIPPET ","
	" bm25(articles_fts, 3.0, 1.0, 1.0) AS score"
	" FROM articles_fts JOIN articles_v1 a ON a.id = articles_fts.rowid"
	" WHERE articles_fts MATCH ?1";

/*
 * PostgreSQL: articles.fts weighs the title A and the summary text B, the
 * text C, and the ranking counts A three times as much as B and C (the
 * weights array is D, C, B, A). The snippet follows FTS5's choice: the
 * text where it matches, else the summary text where it matches, else
 * the start of the text, else the title. (ts_headline marks no cut with
 * "...", as FTS5's snippet does.)
 */
#define PG_HL(col) \
	"ts_headline(q.c, " col ", q.q, 'StartSel=[, StopSel=],"          \
	" MaxWords=16, MinWords=15, ShortWord=0')"
const char store__search_sql_pg[] =
	"SELECT " ART_COLS("a.") ","
	" CASE WHEN to_tsvector(q.c, coalesce(t.text, '')) @@ q.q THEN "
	PG_HL("t.text")
	" WHEN to_tsvector(q.c, coalesce(t.summary_text, '')) @@ q.q THEN "
	PG_HL("t.summary_text")
	" WHEN t.text IS NOT NULL THEN " PG_HL("t.text")
	" ELSE " PG_HL("coalesce(t.title, '')") " END,"
	" -ts_rank('{0.333, 0.333, 0.333, 1.0}', t.fts, q.q) AS score"
	" FROM (SELECT s.c, to_tsquery(s.c, ?1) AS q FROM (SELECT"
	" text_search::regconfig AS c FROM settings) s) q"
	" JOIN articles t ON t.fts @@ q.q"
	" JOIN articles_v1 a ON a.id = t.id"
	" WHERE 1 = 1";

int
store_search_query(struct store *st, const char *fts_query,
	const struct store_query *q, store_article_cb cb, void *ud)
{
	static const struct store_query none;
	char sql[8192], *dq = NULL;
	struct db_stmt *s = NULL;
	int rc;

	if (!q)
		q = &none;
	if (q->feed) {
		rc = feed_exists(st, q->feed);
		if (rc < 0)
			return rc;
	}
	if (!fts_query)
		fts_query = "";
	if (st->drv->search_query) {
		char msg[256] = "";

		rc = 0;
		dq = st->drv->search_query(fts_query, &rc, msg, sizeof(msg));
		if (!dq) {
			if (rc == -ENOMEM)
				snprintf(st->err, sizeof(st->err), "out of memory");
			else
				snprintf(st->err, sizeof(st->err),
					"bad search query: %s", msg);
			return rc < 0 ? rc : -EINVAL;
		}
		fts_query = dq;
	}
	snprintf(sql, sizeof(sql), "%s%s%s%s ORDER BY score, a.id DESC LIMIT ?2",
		st->drv->search_sql,
		q->feed ? " AND a.feed = ?3" : "",
		q->since ? " AND a.sort_time >= ?4" : "",
		q->tag ? TAG_MATCH("a.tags", "?5") : "");
	rc = store__prepare(st, sql, &s, "preparing a query");
	if (rc < 0)
		goto out;
	store__bind_text(s, 1, fts_query);
	store__bind_int(s, 2, q->limit > 0 ? q->limit : 50);
	store__bind_text(s, 3, q->feed);
	store__bind_int(s, 4, q->since);
	store__bind_text(s, 5, q->tag);
	rc = walk_articles(st, s, cb, ud, NULL, "searching");
	/* A bad query is the query's fault, not the database's. */
	if (rc == -EIO && st->drv->query_error(st->db)) {
		snprintf(st->err, sizeof(st->err), "bad search query: %s",
			db_errmsg(st->db));
		rc = -EINVAL;
	}
out:
	db_finalize(s);
	store__free(dq);
	return rc;
}

int
store_search(struct store *st, const char *fts_query, int64_t limit,
	store_article_cb cb, void *ud)
{
	struct store_query q = { .limit = limit };

	return store_search_query(st, fts_query, &q, cb, ud);
}

int
store_changes_after(struct store *st, int64_t after, const char *feed,
	bool new_only, int64_t limit, store_change_cb cb, void *ud)
{
	char sql[512];
	struct db_stmt *s = NULL, *as = NULL;
	struct store_article_row a;
	struct store_change_row c;
	bool txn = false;
	int rc, src;

	/*
	 * Two statements in one read transaction (one snapshot) rather than
	 * a LEFT JOIN: SQLite cannot flatten a view that is itself a join
	 * into the right side of a LEFT JOIN, and would scan every article.
	 */
	snprintf(sql, sizeof(sql),
		"SELECT seq, article_id, feed_id, feed, kind, at FROM changes_v1"
		" WHERE seq > ?1%s%s ORDER BY seq LIMIT ?3",
		feed ? " AND feed = ?2" : "",
		new_only ? " AND kind = 'new'" : "");
	rc = store__prepare(st, sql, &s, "preparing a query");
	if (rc == 0)
		rc = store__prepare(st, "SELECT " ART_COLS("") " FROM articles_v1"
			" WHERE id = ?1", &as, "preparing a query");
	if (rc == 0 && !db_in_txn(st->db)) {
		rc = st->drv->begin_read(st->db);
		if (rc < 0)
			store__fail(st, rc, "reading the change log");
		txn = rc == 0;
	}
	if (rc < 0)
		goto out;
	store__bind_int(s, 1, after);
	store__bind_text(s, 2, feed);
	store__bind_int(s, 3, limit > 0 ? limit : INT64_MAX);
	for (;;) {
		src = db_step(s);
		if (src != DB_ROW)
			break;
		memset(&c, 0, sizeof(c));
		c.seq = db_col_int64(s, 0);
		c.article_id = db_col_int64(s, 1);
		c.feed_id = db_col_int64(s, 2);
		c.feed = store__text(s, 3);
		c.kind = store__text(s, 4);
		c.at = db_col_int64(s, 5);
		/* A purge row shows no article. */
		if (c.kind && strcmp(c.kind, "purge") != 0) {
			db_reset(as);
			store__bind_int(as, 1, c.article_id);
			src = db_step(as);
			if (src == DB_ROW) {
				article_from_row(as, 0, &a);
				c.article = &a;
			} else if (src != DB_DONE) {
				break;
			}
		}
		rc = cb(ud, &c);
		if (rc)
			goto out;
	}
	if (src != DB_DONE)
		rc = store__fail(st, src, "reading the change log");
out:
	db_finalize(as);
	db_finalize(s);
	if (txn)
		db_exec(st->db, "COMMIT");
	return rc;
}

static int
one_int(struct store *st, const char *q, int64_t *v, const char *what)
{
	struct db_stmt *s = NULL;
	int rc = store__prepare(st, q, &s, "preparing a query");
	int src;

	if (rc < 0)
		return rc;
	src = db_step(s);
	if (src == DB_ROW)
		*v = db_col_int64(s, 0);
	else
		rc = store__fail(st, src, what);
	db_finalize(s);
	return rc;
}

int
store_last_seq(struct store *st, int64_t *seq)
{
	return one_int(st, "SELECT coalesce(max(seq), 0) FROM changes_v1", seq,
		"reading the change log");
}

int
store_data_version(struct store *st, int64_t *version)
{
	int rc = st->drv->data_version(st->db, version);

	return rc < 0 ? store__fail(st, rc, "reading the data version") : 0;
}

int
store_wait_changes(struct store *st, int timeout_ms)
{
	bool woke = false;
	int64_t dv;
	int rc;

	if (!st->wait_started) {
		/* Subscribe before the caller's first read, so nothing
		 * committed after that read goes unnoticed. */
		if (st->drv->wait_notify) {
			rc = st->drv->wait_notify(st->db, 0);
			if (rc < 0)
				return store__fail(st, rc, "listening for changes");
		}
		rc = st->drv->data_version(st->db, &st->wait_dv);
		if (rc < 0)
			return store__fail(st, rc, "reading the data version");
		st->wait_started = true;
		return 1;
	}
	if (st->drv->wait_notify) {
		rc = st->drv->wait_notify(st->db, timeout_ms);
		if (rc < 0)
			return store__fail(st, rc, "waiting for changes");
		woke = rc > 0;
	} else if (timeout_ms > 0) {
		struct timespec ts = { (time_t)(timeout_ms / 1000),
			(long)(timeout_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
	/* The fallback, and all there is on SQLite: another connection
	 * committed since the last look. */
	rc = st->drv->data_version(st->db, &dv);
	if (rc < 0)
		return store__fail(st, rc, "reading the data version");
	if (dv != st->wait_dv) {
		st->wait_dv = dv;
		woke = true;
	}
	return woke ? 1 : 0;
}
