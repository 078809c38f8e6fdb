/*
 * dueq: the binary min-heap behind the daemon's one feed timer (dueq.h).
 * v[0] is the earliest; node i's children are 2i+1 and 2i+2; each node's
 * pos is its index + 1, kept up to date on every move.
 */
#include "dueq.h"

#include <errno.h>
#include <stdlib.h>

/* a before b: earlier, or as early and set first. seq wraps: compared as a
 * difference, which holds while the nodes queued were set within 2^31
 * sets of each other. */
static bool
before(const struct dueq_node *a, const struct dueq_node *b)
{
	if (a->at != b->at)
		return a->at < b->at;
	return (int32_t)(a->seq - b->seq) < 0;
}

static void
place(struct dueq *q, uint32_t i, struct dueq_node *x)
{
	q->v[i] = x;
	x->pos = i + 1;
}

static void
sift_up(struct dueq *q, uint32_t i)
{
	struct dueq_node *x = q->v[i];

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (!before(x, q->v[parent]))
			break;
		place(q, i, q->v[parent]);
		i = parent;
	}
	place(q, i, x);
}

static void
sift_down(struct dueq *q, uint32_t i)
{
	struct dueq_node *x = q->v[i];

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= q->n)
			break;
		if (c + 1 < q->n && before(q->v[c + 1], q->v[c]))
			c++;
		if (!before(q->v[c], x))
			break;
		place(q, i, q->v[c]);
		i = c;
	}
	place(q, i, x);
}

void
dueq_init(struct dueq *q)
{
	*q = (struct dueq){ 0 };
}

void
dueq_cleanup(struct dueq *q)
{
	free(q->v);
	*q = (struct dueq){ 0 };
}

int
dueq_reserve(struct dueq *q, size_t n)
{
	size_t cap = q->cap ? q->cap : 64;
	struct dueq_node **v;

	if (n <= q->cap)
		return 0;
	if (n > UINT32_MAX - 1)
		return -ENOMEM;
	while (cap < n)
		cap = cap * 2 > UINT32_MAX - 1 ? UINT32_MAX - 1 : cap * 2;
	v = realloc(q->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	q->v = v;
	q->cap = (uint32_t)cap;
	return 0;
}

int
dueq_set(struct dueq *q, struct dueq_node *x, int64_t at)
{
	uint32_t i;

	if (!x->pos) {
		if (q->n == q->cap && dueq_reserve(q, (size_t)q->n + 1) < 0)
			return -ENOMEM;
		x->at = at;
		x->seq = q->seq++;
		place(q, q->n++, x);
		sift_up(q, q->n - 1);
		return 0;
	}
	i = x->pos - 1;
	x->at = at;
	x->seq = q->seq++;
	/* Later than before: it can only go down; earlier: only up. */
	sift_up(q, i);
	if (x->pos - 1 == i)
		sift_down(q, i);
	return 0;
}

void
dueq_remove(struct dueq *q, struct dueq_node *x)
{
	uint32_t i;
	struct dueq_node *last;

	if (!x->pos)
		return;
	i = x->pos - 1;
	x->pos = 0;
	last = q->v[--q->n];
	if (i == q->n)
		return;
	/* The last node takes x's place and moves up or down from there. */
	place(q, i, last);
	sift_up(q, i);
	if (last->pos - 1 == i)
		sift_down(q, i);
}

void
dueq_clear(struct dueq *q)
{
	for (uint32_t i = 0; i < q->n; i++)
		q->v[i]->pos = 0;
	q->n = 0;
}

size_t
dueq_run(struct dueq *q, int64_t now, size_t max, dueq_due_cb cb, void *ud)
{
	uint32_t first_new = q->seq;  /* set from here on: not this call's */
	size_t n = 0;

	while (n < max && q->n) {
		struct dueq_node *x = q->v[0];

		if (x->at > now || (int32_t)(x->seq - first_new) >= 0)
			break;
		dueq_remove(q, x);
		n++;
		cb(x, ud);
	}
	return n;
}
