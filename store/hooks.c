/*
 * Hook cursors: each configured hook (feedd.conf `hook`) reads the change
 * log after its own cursor, and the cursor moves only once a batch was
 * delivered. The rows live in hook_state (schema 6), keyed by the hook's
 * name; the backlog is always read from the change log by cursor, never
 * kept anywhere else, so a hook that fails for a day costs nothing but
 * its cursor row.
 */
#include "store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOOK_COLS "name, cursor, last_attempt, last_success, failures," \
	" last_error, next_attempt, disabled"

/* Borrowed strings: valid until the statement steps again. */
static void
state_from_row(struct db_stmt *s, struct store_hook_state *h)
{
	memset(h, 0, sizeof(*h));
	h->name = (char *)store__text(s, 0);
	h->cursor = db_col_int64(s, 1);
	h->last_attempt = db_col_int64(s, 2);
	h->last_success = db_col_int64(s, 3);
	h->failures = db_col_int(s, 4);
	h->last_error = (char *)store__text(s, 5);
	h->next_attempt = db_col_int64(s, 6);
	h->disabled = (char *)store__text(s, 7);
	h->backlog = -1;
}

static int
state_copy(const struct store_hook_state *from, struct store_hook_state *to)
{
	*to = *from;
	to->name = to->last_error = to->disabled = NULL;
	if ((from->name && !(to->name = store__strdup(from->name))) ||
	    (from->last_error && !(to->last_error = store__strdup(from->last_error))) ||
	    (from->disabled && !(to->disabled = store__strdup(from->disabled)))) {
		store_hook_state_cleanup(to);
		return -ENOMEM;
	}
	return 0;
}

void
store_hook_state_cleanup(struct store_hook_state *h)
{
	if (!h)
		return;
	store__free(h->name);
	store__free(h->last_error);
	store__free(h->disabled);
	memset(h, 0, sizeof(*h));
}

int
store_hook_get(struct store *st, const char *name, struct store_hook_state *out)
{
	struct store_hook_state h;
	struct db_stmt *s = NULL;
	int rc = store__prepare(st, "SELECT " HOOK_COLS " FROM hook_state"
		" WHERE name = ?1", &s, "preparing a hook query");
	int src;

	if (rc < 0)
		return rc;
	store__bind_text(s, 1, name);
	src = db_step(s);
	if (src == DB_ROW) {
		state_from_row(s, &h);
		rc = state_copy(&h, out);
	} else if (src == DB_DONE) {
		snprintf(st->err, sizeof(st->err), "no hook state for '%s'", name);
		rc = -ENOENT;
	} else {
		rc = store__fail(st, src, "reading a hook's state");
	}
	db_finalize(s);
	return rc;
}

int
store_hook_open(struct store *st, const char *name, bool from_start,
	struct store_hook_state *out)
{
	struct db_stmt *s = NULL;
	int rc = store__write_ok(st), src;

	if (rc < 0)
		return rc;
	if (!name || !*name) {
		snprintf(st->err, sizeof(st->err), "a hook needs a name");
		return -EINVAL;
	}
	/* A new hook starts at the end of the log ("from now on") unless
	 * from_start; an existing row keeps its cursor and loses a
	 * permanent disable (the daemon opens a hook when it is configured
	 * anew: at start-up or when a reload changes it). */
	rc = store__prepare(st, "INSERT INTO hook_state (name, cursor) VALUES (?1,"
		" CASE WHEN ?2 THEN 0 ELSE"
		" (SELECT coalesce(max(seq), 0) FROM changes) END)"
		" ON CONFLICT (name) DO UPDATE SET disabled = NULL", &s,
		"preparing a hook query");
	if (rc < 0)
		return store__write_failed(st, rc);
	store__bind_text(s, 1, name);
	store__bind_int(s, 2, from_start);
	src = db_step(s);
	if (src != DB_DONE)
		rc = store__fail(st, src, "recording a hook");
	db_finalize(s);
	if (rc < 0)
		return store__write_failed(st, rc);
	return out ? store_hook_get(st, name, out) : 0;
}

int
store_hook_record(struct store *st, const char *name,
	const struct store_hook_result *r)
{
	struct db_stmt *s = NULL;
	int rc = store__write_ok(st), src;

	if (rc < 0)
		return rc;
	if (r->ok)
		rc = store__prepare(st, "UPDATE hook_state SET cursor ="
			" CASE WHEN cursor > ?2 THEN cursor ELSE ?2 END,"
			" last_attempt = ?3, last_success = ?3, failures = 0,"
			" last_error = NULL, next_attempt = NULL WHERE name = ?1", &s,
			"preparing a hook query");
	else
		rc = store__prepare(st, "UPDATE hook_state SET last_attempt = ?3,"
			" failures = ?4, last_error = ?5, next_attempt = ?6,"
			" disabled = ?7 WHERE name = ?1", &s,
			"preparing a hook query");
	if (rc < 0)
		return store__write_failed(st, rc);
	store__bind_text(s, 1, name);
	store__bind_int(s, 2, r->cursor);
	store__bind_int(s, 3, r->attempt);
	store__bind_int(s, 4, r->failures);
	store__bind_text(s, 5, r->ok ? NULL : (r->error ? r->error : "failed"));
	if (r->next_attempt > 0)
		store__bind_int(s, 6, r->next_attempt);
	store__bind_text(s, 7, r->disabled);
	src = db_step(s);
	if (src != DB_DONE)
		rc = store__fail(st, src, "recording a hook run");
	else if (db_changes(st->db) == 0) {
		snprintf(st->err, sizeof(st->err), "no hook state for '%s'", name);
		rc = -ENOENT;
	}
	db_finalize(s);
	return store__write_failed(st, rc);
}

int
store_hook_skip(struct store *st, const char *name, int64_t cursor)
{
	struct db_stmt *s = NULL;
	int rc = store__write_ok(st), src;

	if (rc < 0)
		return rc;
	rc = store__prepare(st, "UPDATE hook_state SET cursor = ?2"
		" WHERE name = ?1 AND cursor < ?2", &s,
		"preparing a hook query");
	if (rc < 0)
		return store__write_failed(st, rc);
	store__bind_text(s, 1, name);
	store__bind_int(s, 2, cursor);
	src = db_step(s);
	if (src != DB_DONE)
		rc = store__fail(st, src, "moving a hook's cursor");
	db_finalize(s);
	return store__write_failed(st, rc);
}

/*
 * The WHERE clause of a filter over changes_v1 (alias c), with numbered
 * parameters from ?first on: the kinds as literals, the feed names and
 * tags as parameters bound by bind_filter() in the same order.
 */
static int
filter_sql(const struct store_change_filter *f, int first, char **out)
{
	/* A tag clause is 95 bytes plus its parameter's digits (at most
	 * 10): 128 each leaves room; ADD never writes past cap anyway. */
	size_t cap = 256 + (f ? f->nfeeds * 40 + f->ntags * 128 : 0), n = 0;
	char *q = store__malloc(cap);
	int p = first;

	if (!q)
		return -ENOMEM;
#define ADD(...) do { \
		if (n < cap) \
			n += (size_t)snprintf(q + n, cap - n, __VA_ARGS__); \
	} while (0)
	if (!f || (f->new_rows && f->update_rows))
		ADD(" AND c.kind IN ('new', 'update')");
	else if (f->new_rows)
		ADD(" AND c.kind = 'new'");
	else if (f->update_rows)
		ADD(" AND c.kind = 'update'");
	else
		ADD(" AND 1 = 0");
	if (f && (f->nfeeds || f->ntags)) {
		ADD(" AND (1 = 0");
		for (size_t i = 0; i < f->nfeeds; i++)
			ADD(" OR c.feed = ?%d", p++);
		for (size_t i = 0; i < f->ntags; i++)
			ADD(" OR c.feed_id IN (SELECT id FROM feeds_v1 WHERE"
				" instr(',' || tags || ',', ',' || ?%d || ',') > 0)",
				p++);
		ADD(")");
	}
#undef ADD
	if (n >= cap) {
		store__free(q);
		return -ENOMEM;
	}
	*out = q;
	return 0;
}

static void
bind_filter(struct db_stmt *s, const struct store_change_filter *f, int first)
{
	int p = first;

	if (!f)
		return;
	for (size_t i = 0; i < f->nfeeds; i++)
		store__bind_text(s, p++, f->feeds[i]);
	for (size_t i = 0; i < f->ntags; i++)
		store__bind_text(s, p++, f->tags[i]);
}

struct art_ctx {
	struct store_change_row *c;
	store_change_cb cb;
	void *ud;
};

static int
with_article(void *ud, const struct store_article_row *a)
{
	struct art_ctx *x = ud;

	x->c->article = a;
	return x->cb(x->ud, x->c);
}

int
store_hook_changes(struct store *st, int64_t after, int64_t upto,
	const struct store_change_filter *f, int64_t limit,
	store_change_cb cb, void *ud, int64_t *scanned)
{
	char *where = NULL, *sql = NULL;
	struct db_stmt *s = NULL;
	struct store_change_row c;
	int64_t rows = 0, last = after, top = 0;
	bool txn = false;
	int rc, src = DB_DONE;

	rc = filter_sql(f, 4, &where);
	if (rc < 0)
		return rc;
	sql = store__printf("SELECT c.seq, c.article_id, c.feed_id, c.feed,"
		" c.kind, c.at FROM changes_v1 c WHERE c.seq > ?1 AND c.seq <= ?2"
		"%s ORDER BY c.seq LIMIT ?3", where);
	if (!sql) {
		rc = -ENOMEM;
		goto out;
	}
	/* One snapshot for the rows, their articles and the log's end. */
	if (!db_in_txn(st->db)) {
		rc = st->drv->begin_read(st->db);
		if (rc < 0) {
			store__fail(st, rc, "reading the change log");
			goto out;
		}
		txn = true;
	}
	rc = store_last_seq(st, &top);
	if (rc < 0)
		goto out;
	if (upto <= 0 || upto > top)
		upto = top;
	rc = store__prepare(st, sql, &s, "preparing a hook query");
	if (rc < 0)
		goto out;
	store__bind_int(s, 1, after);
	store__bind_int(s, 2, upto);
	store__bind_int(s, 3, limit > 0 ? limit : INT64_MAX);
	bind_filter(s, f, 4);
	for (;;) {
		struct art_ctx x = { &c, cb, ud };

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
		last = c.seq;
		rows++;
		rc = store_article_get(st, c.article_id, with_article, &x);
		if (rc == -ENOENT) {
			/* Purged since: the row shows no article. */
			c.article = NULL;
			rc = cb(ud, &c);
		}
		if (rc)
			goto out;
	}
	if (src != DB_DONE) {
		rc = store__fail(st, src, "reading the change log");
		goto out;
	}
	/* A short page read everything up to the bound; a full one only up
	 * to its last row. */
	if (scanned)
		*scanned = limit > 0 && rows >= limit ? last : upto;
out:
	db_finalize(s);
	if (txn)
		db_exec(st->db, "COMMIT");
	store__free(sql);
	store__free(where);
	return rc;
}

int
store_hook_backlog(struct store *st, int64_t after,
	const struct store_change_filter *f, int64_t *n)
{
	char *where = NULL, *sql = NULL;
	struct db_stmt *s = NULL;
	int rc, src;

	rc = filter_sql(f, 2, &where);
	if (rc < 0)
		return rc;
	sql = store__printf("SELECT count(*) FROM changes_v1 c"
		" WHERE c.seq > ?1%s", where);
	if (!sql) {
		rc = -ENOMEM;
		goto out;
	}
	rc = store__prepare(st, sql, &s, "preparing a hook query");
	if (rc < 0)
		goto out;
	store__bind_int(s, 1, after);
	bind_filter(s, f, 2);
	src = db_step(s);
	if (src == DB_ROW)
		*n = db_col_int64(s, 0);
	else
		rc = store__fail(st, src, "counting a hook's backlog");
out:
	db_finalize(s);
	store__free(sql);
	store__free(where);
	return rc;
}

int
store_hooks_list(struct store *st, store_hook_cb cb, void *ud)
{
	struct store_hook_state h;
	struct db_stmt *s = NULL;
	int rc = store__prepare(st, "SELECT " HOOK_COLS " FROM hook_state"
		" ORDER BY name", &s, "preparing a hook query");
	int src;

	if (rc < 0)
		return rc;
	for (;;) {
		src = db_step(s);
		if (src != DB_ROW)
			break;
		state_from_row(s, &h);
		rc = cb(ud, &h);
		if (rc)
			goto out;
	}
	if (src != DB_DONE)
		rc = store__fail(st, src, "listing hooks");
out:
	db_finalize(s);
	return rc;
}
