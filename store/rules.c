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
	sqlite3_stmt *s;
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
	sqlite3_bind_int64(s, 2, (sqlite3_int64)n);
	sqlite3_bind_int64(s, 3, store__refresh_now(r));
	store__bind_text(s, 4, action);
	src = sqlite3_step(s);
	if (src != SQLITE_DONE)
		rc = store__fail(st, src, "counting a rule's matches");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc < 0 ? store__refresh_fail(r, rc) : 0;
}

int
store_rule_counts_list(struct store *st, store_rule_count_cb cb, void *ud)
{
	sqlite3_stmt *s = NULL;
	int rc = 0, src;

	src = sqlite3_prepare_v2(st->db,
		"SELECT name, action, matches, last_match FROM rule_counts_v1"
		" ORDER BY name", -1, &s, NULL);
	if (src != SQLITE_OK)
		return store__fail(st, src, "reading rule counts");
	for (;;) {
		struct store_rule_count c;

		src = sqlite3_step(s);
		if (src != SQLITE_ROW)
			break;
		c.name = (const char *)sqlite3_column_text(s, 0);
		c.action = (const char *)sqlite3_column_text(s, 1);
		c.matches = sqlite3_column_int64(s, 2);
		c.last_match = sqlite3_column_int64(s, 3);
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
	if (rc == 0 && src != SQLITE_DONE)
		rc = store__fail(st, src, "reading rule counts");
	sqlite3_finalize(s);
	return rc;
}
