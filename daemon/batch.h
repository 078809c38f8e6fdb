/*
 * batch: the entries of one fetched document, copied out of parse/'s entry
 * callback (whose strings are borrowed) and kept as store/ article records
 * until the refresh transaction. batch.c holds the ONE function that maps a
 * struct parse_entry to a struct store_article, so the policy (which field
 * feeds which column, date fallbacks, JSON for lists) lives in one place.
 *
 * Loop thread builds a batch; the store worker thread reads it afterwards.
 * No locking: the handover is the uv_queue_work() call.
 */
#ifndef FEEDD_DAEMON_BATCH_H
#define FEEDD_DAEMON_BATCH_H

#include <stddef.h>

#include "parse.h"
#include "store.h"

struct batch;

/* Returns 0 or -ENOMEM; *out untouched on failure. */
int batch_create(struct batch **out);

/* Copy e and map it to an article. Returns 0 or -ENOMEM (b unchanged). */
int batch_add(struct batch *b, const struct parse_entry *e);

size_t batch_count(const struct batch *b);

/* The i-th article, in document order. Borrowed; valid until
 * batch_destroy(). */
const struct store_article *batch_article(const struct batch *b, size_t i);

/* batch_destroy(NULL) is a no-op. */
void batch_destroy(struct batch *b);

#endif
