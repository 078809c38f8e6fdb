/*
 * dueq: a min-heap of due times. The running daemon keeps one entry per
 * feed in it, under one run-level timer, instead of a uv_timer_t per feed:
 * a feed embeds a struct dueq_node (16 bytes), the heap is an array of
 * pointers to nodes, and each node knows its place in that array, so
 * arming, re-arming and removing a feed are O(log n). Equal due times come
 * out in the order they were set (first armed, first out).
 *
 * Pure data structure: no loop, no clock (times are whatever the caller
 * uses; the daemon uses uv_now() milliseconds). Not thread-safe; the
 * daemon calls it on the loop thread only.
 */
#ifndef FEEDD_DAEMON_DUEQ_H
#define FEEDD_DAEMON_DUEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Embedded in what is scheduled (the caller owns it); zero-initialised =
 * not queued. The fields are dueq's. */
struct dueq_node {
	int64_t at;        /* when it is due */
	uint32_t seq;      /* set order, for ties and for dueq_run() */
	uint32_t pos;      /* 1 + its index in the heap; 0 = not queued */
};

struct dueq {
	struct dueq_node **v;  /* owned array; the nodes are borrowed */
	uint32_t n, cap;
	uint32_t seq;          /* the next set's sequence number */
};

/* Called by dueq_run() for each due node, already removed from the heap;
 * it may set, remove or free any node, this one included. */
typedef void (*dueq_due_cb)(struct dueq_node *x, void *ud);

void dueq_init(struct dueq *q);
/* Frees the array; the nodes are left as they are (the caller's). */
void dueq_cleanup(struct dueq *q);

/* Room for n nodes in all, so that dueq_set() of up to n never allocates.
 * 0 or -ENOMEM (the heap unchanged). */
int dueq_reserve(struct dueq *q, size_t n);

/* Queue x at at, or move it there if it is queued already (it then counts
 * as set last among equal times). 0, or -ENOMEM when x was not queued and
 * the array could not grow (x stays unqueued). */
int dueq_set(struct dueq *q, struct dueq_node *x, int64_t at);

/* Take x out of the heap; a no-op when it is not queued. */
void dueq_remove(struct dueq *q, struct dueq_node *x);

/* Unqueue every node (O(n)); the array is kept. */
void dueq_clear(struct dueq *q);

static inline bool
dueq_queued(const struct dueq_node *x)
{
	return x->pos != 0;
}

/* The earliest node, or NULL when the heap is empty. */
static inline struct dueq_node *
dueq_peek(const struct dueq *q)
{
	return q->n ? q->v[0] : NULL;
}

static inline size_t
dueq_count(const struct dueq *q)
{
	return q->n;
}

/*
 * Pop and hand to cb, earliest first, the nodes due at or before now, at
 * most max of them, and only those set before this call: a node that cb
 * sets again for now waits for the next call, so one call is bounded by
 * max callbacks whatever cb does. Returns how many it dispatched; when
 * that is max, or dueq_peek() is still due, more are waiting.
 */
size_t dueq_run(struct dueq *q, int64_t now, size_t max, dueq_due_cb cb,
	void *ud);

#endif
