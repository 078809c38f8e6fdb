/*
 * Keep/block rule counts (rule_counts, schema version 6). The rules
 * themselves live in the daemon; the store only adds up what it is told,
 * inside the refresh that stored (or left out) the articles counted, and
 * reads the sums back for feedctl.
 */
#include "store_int.h"

#include <errno.h>
#include <stdio.h>

int
store_refresh_rule_count(struct store_refresh *r, const char *name,
	const char *action, unsigned n)
{
	struct store *st;
	struct db_stmt *s;
	int rc, src;

	rc = store__refresh_fail(r, 0);
	if (rc < 0)
		return rc;
	if (!name || !*name || n == 0)
		return -EINVAL;
	st = store__refresh_store(r);
	s = store__stmt(st, STORE_STMT_RULE_COUNT_ADD);
	if (!s)
		return store__refresh_fail(r, -EIO);
	store__bind_text(s, 1, name);
	store__bind_int(s, 2, (int64_t)n);
	store__bind_int(s, 3, store__refresh_now(r));
	store__bind_text(s, 4, action);
	src = db_step(s);
	if (src != DB_DONE)
		rc = store__fail(st, src, "counting a rule's matches");
	db_reset(s);
	return rc < 0 ? store__refresh_fail(r, rc) : 0;
}

int
store_rule_counts_list(struct store *st, store_rule_count_cb cb, void *ud)
{
	struct db_stmt *s = NULL;
	int rc = 0, src;

	rc = store__prepare(st,
		"SELECT name, action, matches, last_match FROM rule_counts_v1"
		" ORDER BY name", &s, "reading rule counts");
	if (rc < 0)
		return rc;
	for (;;) {
		struct store_rule_count c;

		src = db_step(s);
		if (src != DB_ROW)
			break;
		c.name = db_col_text(s, 0);
		c.action = db_col_text(s, 1);
		c.matches = db_col_int64(s, 2);
		c.last_match = db_col_int64(s, 3);
		if (!c.name) {
			/* The name is the key: NULL here is out of memory. */
			rc = -ENOMEM;
			snprintf(st->err, sizeof(st->err), "out of memory");
			break;
		}
		rc = cb(ud, &c);
		if (rc != 0)
			break;
	}
	if (rc == 0 && src != DB_DONE)
		rc = store__fail(st, src, "reading rule counts");
	db_finalize(s);
	return rc;
}
