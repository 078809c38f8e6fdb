/*
 * One refresh: a feed's entries deduplicated and stored in one
 * transaction, then retention, the poll record and the commit. The rules
 * are written down in store/SCHEMA.md ("Deduplication"); the comments here
 * only point at them.
 */
#include "store_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct store_refresh {
	struct store *st;            /* borrowed */
	int64_t feed_id;
	int keep_days, keep_count;
	int64_t now;
	struct store__keyset keys;   /* keys of this document -> article id */
	struct store__keyset seen;   /* article ids (decimal) of this document */
	struct store__keyset expected; /* plain keys from store_refresh_expect() */
	struct store_refresh_stats stats;
	int error;                   /* first failure; spoils the refresh */
	bool any_purged;             /* the feed has purged keys (rule 4) */
};

/* An entry prepared for storing: trimmed, hashed, keyed. */
struct entry {
	char *guid, *link, *canon;   /* owned */
	char *key;                   /* owned */
	char *alias[2];              /* owned; more specific keys of this entry */
	char *summary_text;          /* owned; what the index gets for the summary */
	char hash[17];               /* content hash */
	int64_t sort_time;
};

static void
entry_cleanup(struct entry *e)
{
	store__free(e->guid);
	store__free(e->link);
	store__free(e->canon);
	store__free(e->key);
	store__free(e->alias[0]);
	store__free(e->alias[1]);
	store__free(e->summary_text);
}

/*
 * Undo the open refresh after a failure (rc): its own transaction, or
 * inside a group (store_group_begin) its savepoint only, so the group's
 * other work stays. When SQLite already rolled the group's whole
 * transaction back (full disk, I/O error, out of memory), the group is
 * broken: store_group_commit() will report it.
 */
static void
rollback(struct store *st, int rc)
{
	if (!st->in_refresh)
		return;
	st->in_refresh = false;
	if (!st->in_group) {
		if (db_in_txn(st->db))
			db_exec(st->db, "ROLLBACK");
		store__fts_reset(st);
		return;
	}
	if (rc >= 0)
		rc = -EIO;
	if (!db_in_txn(st->db) ||
	    db_exec(st->db, "ROLLBACK TO refresh; RELEASE refresh") < 0) {
		if (!st->group_err)
			st->group_err = rc;
		if (db_in_txn(st->db))
			db_exec(st->db, "ROLLBACK");
	}
}

int
store_refresh_begin(struct store *st, int64_t feed_id, struct store_refresh **out)
{
	struct store_refresh *r = NULL;
	struct db_stmt *s;
	int rc = 0, src;

	if (st->readonly) {
		snprintf(st->err, sizeof(st->err),
			"%s: opened read-only, cannot store", st->path);
		return -EROFS;
	}
	if (st->in_refresh) {
		snprintf(st->err, sizeof(st->err),
			"a refresh is already open on this store");
		return -EBUSY;
	}
	rc = store__write_ok(st);
	if (rc == 0 && !st->in_group)
		rc = store__reconnect_if_needed(st);
	if (rc < 0)
		return rc;
	r = store__calloc(1, sizeof(*r));
	if (!r) {
		snprintf(st->err, sizeof(st->err), "out of memory");
		return -ENOMEM;
	}
	r->st = st;
	r->feed_id = feed_id;
	r->now = store__now(st);
	/* In a group, one savepoint per refresh: a failure undoes this
	 * feed's work only. */
	if (st->in_group)
		rc = store__exec(st, "SAVEPOINT refresh");
	else if ((rc = st->drv->begin_write(st->db)) < 0)
		rc = store__fail(st, rc, "executing SQL");
	if (rc < 0) {
		store__write_failed(st, rc);
		goto out;
	}
	if (!st->in_group)
		store__fts_reset(st);
	st->in_refresh = true;
	s = store__stmt(st, STORE_STMT_FEED_KEEP);
	if (!s) {
		rc = -EIO;
		goto out;
	}
	store__bind_int(s, 1, feed_id);
	src = db_step(s);
	if (src == DB_ROW) {
		r->keep_days = db_col_int(s, 0);
		r->keep_count = db_col_int(s, 1);
		/* Most feeds never had an article purged: then no entry
		 * needs the two purged-key lookups. (Retention purges only
		 * at commit.) */
		r->any_purged = db_col_int(s, 2) != 0;
	} else if (src == DB_DONE) {
		snprintf(st->err, sizeof(st->err), "no feed with id %lld",
			(long long)feed_id);
		rc = -ENOENT;
	} else {
		rc = store__fail(st, src, "reading a feed");
	}
	db_reset(s);
out:
	if (rc < 0) {
		rollback(st, rc);
		store__free(r);
	} else {
		*out = r;
	}
	return rc;
}

void
store_refresh_abort(struct store_refresh *r)
{
	if (!r)
		return;
	rollback(r->st, r->error);
	store__keyset_cleanup(&r->keys);
	store__keyset_cleanup(&r->seen);
	store__keyset_cleanup(&r->expected);
	store__free(r);
}

static int
mark_seen(struct store_refresh *r, int64_t id)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, id);
	return store__keyset_put(&r->seen, buf, id);
}

static bool
was_seen(struct store_refresh *r, int64_t id)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, id);
	return store__keyset_get(&r->seen, buf, NULL);
}

static char *
join(const char *a, const char *sep, const char *b)
{
	size_t la = strlen(a), ls = strlen(sep), lb = strlen(b);
	char *s = store__malloc(la + ls + lb + 1);

	if (s) {
		memcpy(s, a, la);
		memcpy(s + la, sep, ls);
		memcpy(s + la + ls, b, lb + 1);
	}
	return s;
}

/*
 * The entry's key within this document (SCHEMA.md "Deduplication"):
 * the trimmed id, else the trimmed link, else "hash:" + a hash of title,
 * date and text. A key the document already used is told apart: an id by
 * the link ("ID LINK"), otherwise (or when that repeats too) by the hash
 * of title, date and text ("KEY hash:H"). *dup is set when even that
 * repeats: the very same entry twice (then e->key is the most specific
 * candidate, which maps to the earlier copy). The more specific candidates
 * after the chosen one are kept as aliases, so a later exact copy finds
 * them taken.
 */
static int
make_key(struct store_refresh *r, const struct store_article *a,
	struct entry *e, bool *dup)
{
	const char *date = a->published ? a->published : a->updated;
	const char *tdt[] = { a->title, date, a->text };
	char h[17], hk[24];
	char *cand[3] = { 0 };
	int rc = 0;

	*dup = false;
	store__hash_fields(tdt, 3, h);
	snprintf(hk, sizeof(hk), "hash:%s", h);
	if (e->guid)
		cand[0] = store__strdup(e->guid);
	else if (e->link)
		cand[0] = store__strdup(e->link);
	else
		cand[0] = store__strdup(hk);
	if (!cand[0])
		goto nomem;
	if (e->guid && e->link) {
		cand[1] = join(cand[0], " ", e->link);
		if (!cand[1])
			goto nomem;
	}
	if (e->guid || e->link) {
		cand[2] = join(cand[0], " ", hk);
		if (!cand[2])
			goto nomem;
	}
	for (int i = 0; i < 3; i++) {
		if (!cand[i])
			continue;
		if (!store__keyset_get(&r->keys, cand[i], NULL)) {
			int na = 0;
			e->key = cand[i];
			cand[i] = NULL;
			for (int j = i + 1; j < 3; j++) {
				e->alias[na++] = cand[j];
				cand[j] = NULL;
			}
			goto out;
		}
	}
	/* Every candidate is taken: the same entry repeated. */
	*dup = true;
	for (int i = 1; i < 3 && !e->key; i++) {
		if (cand[i]) {
			e->key = cand[i];
			cand[i] = NULL;
		}
	}
	if (!e->key) {
		e->key = cand[0];
		cand[0] = NULL;
	}
	goto out;
nomem:
	rc = -ENOMEM;
out:
	for (int i = 0; i < 3; i++)
		store__free(cand[i]);
	return rc;
}

static int
log_change(struct store_refresh *r, int64_t article_id, const char *kind)
{
	struct store *st = r->st;
	struct db_stmt *s = store__stmt(st, STORE_STMT_CHANGE_INSERT);
	int rc = 0, src;

	if (!s)
		return -EIO;
	store__bind_int(s, 1, article_id);
	store__bind_int(s, 2, r->feed_id);
	store__bind_static(s, 3, kind);
	store__bind_int(s, 4, r->now);
	src = db_step(s);
	if (src != DB_DONE)
		rc = store__fail(st, src, "appending to the change log");
	db_reset(s);
	return rc;
}

/*
 * The full-text index, when the store keeps it in step itself (fts_manual,
 * store_int.h). Every write is an INSERT ... SELECT from the article's
 * row, the values the index has or gets: such a statement runs in a
 * statement transaction, so a failure inside FTS5 (out of memory) undoes
 * that statement alone, as it did inside the schema's triggers; a
 * single-row VALUES insert would have SQLite roll back the whole
 * transaction under FTS5's feet.
 */
static int
fts_exec(struct store *st, enum store__stmt n, int64_t id)
{
	struct db_stmt *s = store__stmt(st, n);
	int rc = 0, src;

	if (!s)
		return -EIO;
	store__bind_int(s, 1, id);
	src = db_step(s);
	if (src != DB_DONE)
		rc = store__fail(st, src, "updating the full-text index");
	db_reset(s);
	return rc;
}

/* fts_manual: is article id in the full-text index now? Not when it is
 * new in this transaction: store__fts_flush() adds those at the commit. */
static bool
fts_indexed(const struct store *st, int64_t id)
{
	return st->fts_floor < 0 || id <= st->fts_floor;
}

int
store__fts_flush(struct store *st)
{
	if (!st->fts_manual || st->fts_floor < 0)
		return 0;
	/* Every article above the floor is new in this transaction; those
	 * rolled back (a failed refresh's savepoint) or purged since are
	 * simply not there. In rowid order, as FTS5 likes it. */
	return fts_exec(st, STORE_STMT_FTS_INSERT_NEW, st->fts_floor);
}

void
store__fts_reset(struct store *st)
{
	st->fts_floor = -1;
}

static bool
same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Take article id out of the full-text index (before its row changes or
 * goes). With same (an update): unless its stored title, summary and text
 * equal these (then *same is set and nothing changes), index these in
 * their place. An article new in this transaction is not indexed yet:
 * nothing to do. */
static int
fts_remove_old(struct store *st, int64_t id, const char *title,
	const char *summary, const char *text, bool *same)
{
	struct db_stmt *s;
	int rc = 0, src;

	if (same)
		*same = false;
	if (!st->fts_manual || !fts_indexed(st, id))
		return 0;
	if (same) {
		s = store__stmt(st, STORE_STMT_ART_FTS_COLS);
		if (!s)
			return -EIO;
		store__bind_int(s, 1, id);
		src = db_step(s);
		if (src == DB_ROW)
			*same = same_str(db_col_text(s, 0),
				title) && same_str((const char *)
				db_col_text(s, 1), summary) && same_str(
				db_col_text(s, 2), text);
		else if (src != DB_DONE)
			rc = store__fail(st, src, "looking up an article");
		db_reset(s);
		if (rc < 0 || *same)
			return rc;
		s = store__stmt(st, STORE_STMT_FTS_REPLACE_ROW);
		if (!s)
			return -EIO;
		store__bind_int(s, 1, id);
		store__bind_static(s, 2, title);
		store__bind_static(s, 3, summary);
		store__bind_static(s, 4, text);
		src = db_step(s);
		if (src != DB_DONE)
			rc = store__fail(st, src, "updating the full-text index");
		db_reset(s);
		return rc;
	}
	return fts_exec(st, STORE_STMT_FTS_DELETE_ROW, id);
}

/* The story an article with this canonical link joins: the story of the
 * first other stored article with the same link, or 0 for a new story. */
static int
find_story(struct store *st, const char *canon, int64_t self, int64_t *story)
{
	struct db_stmt *s;
	int src, rc = 0;

	*story = 0;
	if (!canon)
		return 0;
	s = store__stmt(st, STORE_STMT_STORY_BY_LINK);
	if (!s)
		return -EIO;
	store__bind_text(s, 1, canon);
	store__bind_int(s, 2, self);
	src = db_step(s);
	if (src == DB_ROW)
		*story = db_col_int64(s, 0);
	else if (src != DB_DONE)
		rc = store__fail(st, src, "looking up a story");
	db_reset(s);
	return rc;
}

/* Bind the article columns shared by INSERT and UPDATE (2..16). Not
 * copied (the bodies are most of an article's bytes): the caller resets
 * the statement and clears its bindings before a or e go away. */
static void
bind_article(struct db_stmt *s, const struct store_article *a,
	const struct entry *e)
{
	store__bind_static(s, 2, e->key);
	store__bind_static(s, 3, e->guid);
	store__bind_static(s, 4, e->link);
	store__bind_static(s, 5, e->canon);
	store__bind_static(s, 6, a->title);
	store__bind_static(s, 7, a->author);
	store__bind_static(s, 8, a->published);
	store__bind_static(s, 9, a->updated);
	store__bind_static(s, 10, a->summary);
	store__bind_static(s, 11, a->content);
	store__bind_static(s, 12, a->text);
	store__bind_static(s, 13, a->categories_json);
	store__bind_static(s, 14, a->enclosures_json);
	store__bind_static(s, 15, e->hash);
	store__bind_int(s, 16, e->sort_time);
	store__bind_static(s, 20, e->summary_text);
}

static int
insert_article(struct store_refresh *r, const struct store_article *a,
	const struct entry *e, int64_t *id)
{
	struct store *st = r->st;
	struct db_stmt *s;
	int rc = 0, src;
	int64_t next = 0;

	/* The story is looked up by the INSERT itself (ART_INSERT). A
	 * driver with no NEXT_ID text has its INSERT choose the id (and
	 * return it): one round trip less per new article on a server. */
	if (st->drv->sql[STORE_STMT_NEXT_ID]) {
		s = store__stmt(st, STORE_STMT_NEXT_ID);
		if (!s)
			return -EIO;
		src = db_step(s);
		if (src == DB_ROW)
			next = db_col_int64(s, 0);
		else
			rc = store__fail(st, src, "choosing an article id");
		db_reset(s);
		if (rc < 0)
			return rc;
		if (st->fts_floor < 0)
			st->fts_floor = next - 1;
	}
	s = store__stmt(st, STORE_STMT_ART_INSERT);
	if (!s)
		return -EIO;
	store__bind_int(s, 1, r->feed_id);
	bind_article(s, a, e);
	store__bind_int(s, 17, r->now);
	if (next)
		store__bind_int(s, 19, next);
	src = db_step(s);
	if (src != DB_DONE)
		rc = store__fail(st, src, "storing an article");
	else
		*id = db_last_id(st->db);
	db_reset(s);
	if (rc == 0 && !next && st->fts_floor < 0)
		st->fts_floor = *id - 1;
	/* Indexed at the commit (store__fts_flush()). */
	if (rc == 0)
		rc = log_change(r, *id, "new");
	return rc;
}

/* Content changed: same id, revision + 1, last_changed = now. */
static int
update_article(struct store_refresh *r, const struct store_article *a,
	const struct entry *e, int64_t id, const char *old_canon,
	int64_t first_seen, int64_t story)
{
	struct store *st = r->st;
	struct db_stmt *s;
	int64_t sort_time = e->sort_time < first_seen ? e->sort_time : first_seen;
	bool same_text = false, indexed;
	int rc = 0, src;

	/* A new canonical link may join another story. */
	if (!old_canon || !e->canon || strcmp(old_canon, e->canon) != 0) {
		rc = find_story(st, e->canon, id, &story);
		if (rc < 0)
			return rc;
		if (!story)
			story = id;
	}
	/* Title and text as stored? Then the full-text index stays (and
	 * the UPDATE without them does not fire the schema's trigger); else
	 * it gets the new ones now. An article new in this transaction is
	 * indexed at the commit, as it is then. */
	indexed = !st->fts_manual || fts_indexed(st, id);
	if (indexed)
		rc = fts_remove_old(st, id, a->title, e->summary_text, a->text,
			&same_text);
	if (rc < 0)
		return rc;
	s = store__stmt(st, same_text ? STORE_STMT_ART_UPDATE_META
				      : STORE_STMT_ART_UPDATE);
	if (!s)
		return -EIO;
	store__bind_int(s, 1, id);
	bind_article(s, a, e);
	store__bind_int(s, 16, sort_time);
	store__bind_int(s, 17, r->now);
	store__bind_int(s, 18, story);
	src = db_step(s);
	if (src != DB_DONE)
		rc = store__fail(st, src, "updating an article");
	db_reset(s);
	if (rc == 0)
		rc = log_change(r, id, "update");
	return rc;
}

static int
rekey_article(struct store_refresh *r, const struct entry *e, int64_t id)
{
	struct store *st = r->st;
	struct db_stmt *s = store__stmt(st, STORE_STMT_ART_REKEY);
	int rc = 0, src;

	if (!s)
		return -EIO;
	store__bind_int(s, 1, id);
	store__bind_text(s, 2, e->key);
	store__bind_text(s, 3, e->guid);
	src = db_step(s);
	if (src != DB_DONE)
		rc = store__fail(st, src, "re-keying an article");
	db_reset(s);
	return rc;
}

/* Was this key, or this canonical link + title, purged from the feed? */
static int
was_purged(struct store_refresh *r, const struct entry *e, const char *title,
	bool *purged)
{
	struct store *st = r->st;
	struct db_stmt *s;
	int rc = 0, src;

	*purged = false;
	if (!r->any_purged)
		return 0;
	s = store__stmt(st, STORE_STMT_PURGED_BY_KEY);
	if (!s)
		return -EIO;
	store__bind_int(s, 1, r->feed_id);
	store__bind_text(s, 2, e->key);
	src = db_step(s);
	if (src == DB_ROW)
		*purged = true;
	else if (src != DB_DONE)
		rc = store__fail(st, src, "reading purged keys");
	db_reset(s);
	if (rc < 0 || *purged || !e->canon || !title)
		return rc;
	s = store__stmt(st, STORE_STMT_PURGED_BY_LINK_TITLE);
	if (!s)
		return -EIO;
	store__bind_int(s, 1, r->feed_id);
	store__bind_text(s, 2, e->canon);
	store__bind_text(s, 3, title);
	src = db_step(s);
	if (src == DB_ROW)
		*purged = true;
	else if (src != DB_DONE)
		rc = store__fail(st, src, "reading purged keys");
	db_reset(s);
	return rc;
}

/* The summary's plain text for the index (schema version 4), only for an
 * entry that is written: an unchanged entry, the common case, costs
 * nothing. */
static int
summary_for_index(const struct store_article *a, struct entry *e)
{
	int rc = 0;

	e->summary_text = store__summary_text(a->summary, a->text, &rc);
	return rc;
}

static int
put(struct store_refresh *r, const struct store_article *a,
	enum store_put_outcome *outcome, int64_t *article_id)
{
	struct store *st = r->st;
	struct entry e = { 0 };
	const char *hf[6];
	struct db_stmt *s;
	bool dup = false, purged = false, found = false;
	int64_t id = 0, first_seen = 0, story = 0, t;
	char old_hash[17] = "", *old_canon = NULL;
	int rc = 0, src;

	e.guid = store__trim_dup(a->guid, &rc);
	e.link = store__trim_dup(a->link, &rc);
	if (rc < 0)
		goto out;
	rc = store__canon_link(e.link, &e.canon);
	if (rc < 0)
		goto out;
	/* The content hash: what a reader sees change (SCHEMA.md). */
	hf[0] = a->title;
	hf[1] = e.link;
	hf[2] = a->summary;
	hf[3] = a->content;
	hf[4] = a->text;
	hf[5] = a->enclosures_json;
	store__hash_fields(hf, 6, e.hash);
	t = store__parse_time(a->published);
	if (t < 0)
		t = store__parse_time(a->updated);
	e.sort_time = t < 0 || t > r->now ? r->now : t;

	rc = make_key(r, a, &e, &dup);
	if (rc < 0)
		goto out;
	if (dup) {
		store__keyset_get(&r->keys, e.key, &id);
		*outcome = id ? STORE_PUT_UNCHANGED : STORE_PUT_SUPPRESSED;
		goto out;
	}

	/* 1. A stored article with this key. */
	s = store__stmt(st, STORE_STMT_ART_BY_KEY);
	if (!s) {
		rc = -EIO;
		goto out;
	}
	store__bind_int(s, 1, r->feed_id);
	store__bind_text(s, 2, e.key);
	src = db_step(s);
	if (src == DB_ROW) {
		found = true;
		id = db_col_int64(s, 0);
		snprintf(old_hash, sizeof(old_hash), "%s",
			db_col_text(s, 1));
		old_canon = (char *)(uintptr_t)db_col_text(s, 2);
		if (old_canon) {
			old_canon = store__strdup(old_canon);
			if (!old_canon)
				rc = -ENOMEM;
		}
		first_seen = db_col_int64(s, 3);
		story = db_col_int64(s, 4);
	} else if (src != DB_DONE) {
		rc = store__fail(st, src, "looking up an article");
	}
	db_reset(s);
	if (rc < 0)
		goto out;
	if (found) {
		if (strcmp(old_hash, e.hash) == 0) {
			*outcome = STORE_PUT_UNCHANGED;
		} else {
			rc = summary_for_index(a, &e);
			if (rc == 0)
				rc = update_article(r, a, &e, id, old_canon,
					first_seen, story);
			*outcome = STORE_PUT_UPDATED;
		}
		goto done;
	}

	/* 2. Purged before: never comes back as new. */
	rc = was_purged(r, &e, a->title, &purged);
	if (rc < 0)
		goto out;
	if (purged) {
		*outcome = STORE_PUT_SUPPRESSED;
		id = 0;
		goto done;
	}

	/* 3. A rewritten id: same canonical link and title, not yet seen in
	 * this document, and no contradicting published date. */
	if (e.canon && a->title) {
		s = store__stmt(st, STORE_STMT_ART_BY_LINK_TITLE);
		if (!s) {
			rc = -EIO;
			goto out;
		}
		store__bind_int(s, 1, r->feed_id);
		store__bind_text(s, 2, e.canon);
		store__bind_text(s, 3, a->title);
		for (;;) {
			const char *pub;

			src = db_step(s);
			if (src != DB_ROW)
				break;
			id = db_col_int64(s, 0);
			pub = db_col_text(s, 5);
			if (was_seen(r, id) ||
				(pub && a->published && strcmp(pub, a->published) != 0))
				continue;
			/* Its own id is still to come in this document. */
			if (db_col_text(s, 6) && store__keyset_get(&r->expected,
				db_col_text(s, 6), NULL))
				continue;
			found = true;
			snprintf(old_hash, sizeof(old_hash), "%s",
				db_col_text(s, 1));
			first_seen = db_col_int64(s, 3);
			story = db_col_int64(s, 4);
			break;
		}
		if (src != DB_ROW && src != DB_DONE)
			rc = store__fail(st, src, "looking up an article");
		db_reset(s);
		if (rc < 0)
			goto out;
	}
	if (found) {
		if (strcmp(old_hash, e.hash) == 0) {
			rc = rekey_article(r, &e, id);
			*outcome = STORE_PUT_UNCHANGED;
		} else {
			/* Same canonical link by construction: story stays. */
			rc = summary_for_index(a, &e);
			if (rc == 0)
				rc = update_article(r, a, &e, id, e.canon,
					first_seen, story);
			*outcome = STORE_PUT_UPDATED;
		}
		goto done;
	}

	/* 4. New, unless the caller blocks it: then only its key is kept,
	 * and it is not marked seen (it protects no stored article). */
	if (a->block_new) {
		s = store__stmt(st, STORE_STMT_BLOCKED_INSERT);
		if (!s) {
			rc = -EIO;
			goto out;
		}
		store__bind_int(s, 1, r->feed_id);
		store__bind_text(s, 2, e.key);
		store__bind_int(s, 3, r->now);
		src = db_step(s);
		if (src != DB_DONE)
			rc = store__fail(st, src, "recording a blocked key");
		else
			*outcome = db_changes(st->db) > 0 ? STORE_PUT_BLOCKED
							       : STORE_PUT_BLOCKED_AGAIN;
		db_reset(s);
		id = 0;
		goto done;
	}
	/* 4. New. */
	rc = summary_for_index(a, &e);
	if (rc == 0)
		rc = insert_article(r, a, &e, &id);
	*outcome = STORE_PUT_NEW;
done:
	if (rc < 0)
		goto out;
	rc = store__keyset_put(&r->keys, e.key, id);
	for (int i = 0; rc == 0 && i < 2; i++)
		if (e.alias[i] && !store__keyset_get(&r->keys, e.alias[i], NULL))
			rc = store__keyset_put(&r->keys, e.alias[i], id);
	if (rc == 0 && id)
		rc = mark_seen(r, id);
out:
	if (rc == -ENOMEM)
		snprintf(st->err, sizeof(st->err), "out of memory");
	if (rc == 0 && article_id)
		*article_id = id;
	store__free(old_canon);
	entry_cleanup(&e);
	return rc;
}

struct store *
store__refresh_store(struct store_refresh *r)
{
	return r->st;
}

int64_t
store__refresh_now(const struct store_refresh *r)
{
	return r->now;
}

int
store__refresh_fail(struct store_refresh *r, int rc)
{
	if (rc < 0 && !r->error)
		r->error = rc;
	return r->error;
}

int
store_refresh_expect(struct store_refresh *r, const struct store_article *a)
{
	struct entry e = { 0 };
	bool dup;
	int rc = 0;

	if (r->error)
		return r->error;
	e.guid = store__trim_dup(a->guid, &rc);
	e.link = store__trim_dup(a->link, &rc);
	if (rc == 0)
		rc = make_key(r, a, &e, &dup);
	/* make_key() consulted r->keys, which is empty before the first
	 * put: e.key is the plain key (id, else link, else hash). */
	if (rc == 0)
		rc = store__keyset_put(&r->expected, e.key, 0);
	entry_cleanup(&e);
	if (rc < 0) {
		snprintf(r->st->err, sizeof(r->st->err), "out of memory");
		r->error = rc;
	}
	return rc;
}

int
store_refresh_put(struct store_refresh *r, const struct store_article *a,
	enum store_put_outcome *outcome, int64_t *article_id)
{
	enum store_put_outcome oc = STORE_PUT_UNCHANGED;
	int rc;

	if (r->error)
		return r->error;
	rc = put(r, a, &oc, article_id);
	if (rc < 0) {
		r->error = rc;
		return rc;
	}
	switch (oc) {
	case STORE_PUT_NEW:
		r->stats.inserted++;
		break;
	case STORE_PUT_UPDATED:
		r->stats.updated++;
		break;
	case STORE_PUT_UNCHANGED:
		r->stats.unchanged++;
		break;
	case STORE_PUT_SUPPRESSED:
		r->stats.suppressed++;
		break;
	case STORE_PUT_BLOCKED:
	case STORE_PUT_BLOCKED_AGAIN:
		r->stats.blocked++;
		break;
	}
	if (outcome)
		*outcome = oc;
	return 0;
}

/* Purge what retention says may go; never an article of this document. */
static int
retention(struct store_refresh *r)
{
	struct store *st = r->st;
	struct victim {
		int64_t id;
		char *key, *canon, *title;
	} *v = NULL;
	size_t nv = 0, cap = 0, pos = 0;
	int64_t cutoff = r->keep_days > 0 ? r->now - (int64_t)r->keep_days * 86400
					  : INT64_MIN;
	struct db_stmt *s;
	int rc = 0, src;

	if (r->keep_days <= 0 && r->keep_count <= 0)
		return 0;
	s = store__stmt(st, STORE_STMT_RETENTION_SCAN);
	if (!s)
		return -EIO;
	store__bind_int(s, 1, r->feed_id);
	for (;; pos++) {
		int64_t id;
		bool old, over;

		src = db_step(s);
		if (src != DB_ROW)
			break;
		id = db_col_int64(s, 0);
		old = db_col_int64(s, 4) < cutoff;
		over = r->keep_count > 0 && pos >= (size_t)r->keep_count;
		if (!(old || over) || was_seen(r, id))
			continue;
		if (nv == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct victim *nvp = store__realloc(v, nc * sizeof(*v));
			if (!nvp) {
				rc = -ENOMEM;
				break;
			}
			v = nvp;
			cap = nc;
		}
		v[nv].id = id;
		v[nv].key = store__strdup(db_col_text(s, 1));
		v[nv].canon = db_col_text(s, 2)
			? store__strdup(db_col_text(s, 2)) : NULL;
		v[nv].title = db_col_text(s, 3)
			? store__strdup(db_col_text(s, 3)) : NULL;
		nv++;
		if (!v[nv - 1].key || (db_col_text(s, 2) && !v[nv - 1].canon) ||
			(db_col_text(s, 3) && !v[nv - 1].title)) {
			rc = -ENOMEM;
			break;
		}
	}
	if (rc == 0 && src != DB_DONE)
		rc = store__fail(st, src, "applying retention");
	db_reset(s);
	for (size_t i = 0; rc == 0 && i < nv; i++) {
		s = store__stmt(st, STORE_STMT_PURGED_INSERT);
		if (!s) {
			rc = -EIO;
			break;
		}
		store__bind_int(s, 1, r->feed_id);
		store__bind_text(s, 2, v[i].key);
		store__bind_text(s, 3, v[i].canon);
		store__bind_text(s, 4, v[i].title);
		store__bind_int(s, 5, r->now);
		src = db_step(s);
		db_reset(s);
		if (src != DB_DONE) {
			rc = store__fail(st, src, "recording a purged key");
			break;
		}
		rc = fts_remove_old(st, v[i].id, NULL, NULL, NULL, NULL);
		if (rc < 0)
			break;
		s = store__stmt(st, STORE_STMT_ART_DELETE);
		if (!s) {
			rc = -EIO;
			break;
		}
		store__bind_int(s, 1, v[i].id);
		src = db_step(s);
		db_reset(s);
		if (src != DB_DONE) {
			rc = store__fail(st, src, "purging an article");
			break;
		}
		rc = log_change(r, v[i].id, "purge");
		if (rc == 0)
			r->stats.purged++;
	}
	if (rc == -ENOMEM)
		snprintf(st->err, sizeof(st->err), "out of memory");
	for (size_t i = 0; i < nv; i++) {
		store__free(v[i].key);
		store__free(v[i].canon);
		store__free(v[i].title);
	}
	store__free(v);
	return rc;
}

int
store_refresh_commit(struct store_refresh *r,
	const struct store_feed_result *res, struct store_refresh_stats *stats)
{
	struct store *st = r->st;
	int rc = r->error;
	bool changed;

	if (rc < 0)
		goto out;
	rc = retention(r);
	if (rc < 0)
		goto out;
	if (res) {
		rc = store_feed_record(st, r->feed_id, res);
		if (rc < 0)
			goto out;
	}
	changed = r->stats.inserted || r->stats.updated || r->stats.purged;
	/* In a group the change log is pruned once, at the group's commit. */
	if (changed && !st->in_group) {
		rc = store__prune_changes(st, r->now);
		if (rc == 0)
			rc = store__notify_changes(st);
		if (rc < 0)
			goto out;
	}
	/* In a group the new articles are indexed at the group's commit. */
	if (!st->in_group) {
		rc = store__fts_flush(st);
		if (rc < 0)
			goto out;
	}
	rc = store__exec(st, st->in_group ? "RELEASE refresh" : "COMMIT");
	if (rc == 0) {
		if (!st->in_group)
			store__fts_reset(st);
		st->in_refresh = false;
		if (changed && st->in_group)
			st->group_prune = true;
		if (stats)
			*stats = r->stats;
	}
out:
	/* After COMMIT (RELEASE) this only frees; after a failure it rolls
	 * back. */
	if (rc < 0 && !r->error)
		r->error = rc;
	store_refresh_abort(r);
	return rc;
}
