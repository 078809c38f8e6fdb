/*
 * dueq: the daemon's min-heap of due times. Order under load (100,000
 * random times), ties in set order, removal from anywhere, re-arming
 * earlier and later, and dueq_run()'s bound: at most max callbacks per
 * call, never a node set during the call, so 100,000 feeds due at once
 * are dispatched in slices.
 */
#include "dueq.h"

#include "check.h"

#include <stdbool.h>
#include <stdint.h>

#define NLOAD 100000

struct item {
	struct dueq_node due;
	int id;
	int fired;
};

static struct item items[NLOAD];

/* Every node's pos matches its slot, and no child is before its parent. */
static bool
heap_ok(const struct dueq *q)
{
	for (uint32_t i = 0; i < q->n; i++) {
		const struct dueq_node *x = q->v[i];

		if (x->pos != i + 1)
			return false;
		if (i > 0) {
			const struct dueq_node *p = q->v[(i - 1) / 2];

			if (p->at > x->at || (p->at == x->at &&
			    (int32_t)(p->seq - x->seq) > 0))
				return false;
		}
	}
	return true;
}

static uint32_t rng = 12345;

static uint32_t
next_rand(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

static void
reset(void)
{
	for (int i = 0; i < NLOAD; i++)
		items[i] = (struct item){ .id = i };
}

/* Records the order of dispatch. */
struct log {
	int ids[NLOAD];
	int64_t at[NLOAD];
	size_t n;
};

static struct log lg;

static void
record(struct dueq_node *x, void *ud)
{
	struct item *it = (struct item *)x;   /* due is the first member */

	(void)ud;
	lg.ids[lg.n] = it->id;
	lg.at[lg.n] = x->at;
	lg.n++;
	it->fired++;
}

static void
t_order_under_load(void)
{
	struct dueq q;

	reset();
	dueq_init(&q);
	lg.n = 0;
	for (int i = 0; i < NLOAD; i++)
		CHECK_INT_EQ(dueq_set(&q, &items[i].due, next_rand() % 1800000), 0);
	CHECK_INT_EQ(dueq_count(&q), NLOAD);
	CHECK(heap_ok(&q));
	/* Re-arm a third of them to new random times. */
	for (int i = 0; i < NLOAD; i += 3)
		dueq_set(&q, &items[i].due, next_rand() % 1800000);
	CHECK_INT_EQ(dueq_count(&q), NLOAD);
	CHECK(heap_ok(&q));
	CHECK_INT_EQ(dueq_run(&q, INT64_MAX, SIZE_MAX, record, NULL), NLOAD);
	CHECK_INT_EQ(lg.n, NLOAD);
	for (size_t i = 1; i < lg.n; i++)
		if (lg.at[i] < lg.at[i - 1]) {
			CHECK_INT_EQ(lg.at[i] >= lg.at[i - 1], 1);
			break;
		}
	for (int i = 0; i < NLOAD; i++)
		if (items[i].fired != 1 || dueq_queued(&items[i].due)) {
			CHECK_INT_EQ(items[i].fired, 1);
			break;
		}
	CHECK_INT_EQ(dueq_count(&q), 0);
	dueq_cleanup(&q);
}

static void
t_ties_in_set_order(void)
{
	struct dueq q;

	reset();
	dueq_init(&q);
	lg.n = 0;
	for (int i = 0; i < 10; i++)
		dueq_set(&q, &items[i].due, 500);
	dueq_set(&q, &items[10].due, 100);
	/* Set again at the same time: now the last of the ties. */
	dueq_set(&q, &items[3].due, 500);
	CHECK(heap_ok(&q));
	CHECK_INT_EQ(dueq_run(&q, 500, SIZE_MAX, record, NULL), 11);
	{
		static const int want[] = { 10, 0, 1, 2, 4, 5, 6, 7, 8, 9, 3 };

		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
			CHECK_INT_EQ(lg.ids[i], want[i]);
	}
	dueq_cleanup(&q);
}

static void
t_remove_anywhere(void)
{
	struct dueq q;
	size_t kept = 0;

	reset();
	dueq_init(&q);
	lg.n = 0;
	for (int i = 0; i < 1000; i++)
		dueq_set(&q, &items[i].due, next_rand() % 10000);
	/* The root, leaves and the middle: every other one, then the top. */
	for (int i = 0; i < 1000; i += 2)
		dueq_remove(&q, &items[i].due);
	CHECK(heap_ok(&q));
	dueq_remove(&q, dueq_peek(&q));
	CHECK(heap_ok(&q));
	/* Removing what is not queued changes nothing. */
	dueq_remove(&q, &items[0].due);
	CHECK_INT_EQ(dueq_count(&q), 499);
	for (int i = 0; i < 1000; i++)
		kept += dueq_queued(&items[i].due);
	CHECK_INT_EQ(kept, 499);
	CHECK_INT_EQ(dueq_run(&q, INT64_MAX, SIZE_MAX, record, NULL), 499);
	for (size_t i = 0; i < lg.n; i++) {
		if (lg.ids[i] % 2 == 0) {
			CHECK_INT_EQ(lg.ids[i] % 2, 1);
			break;
		}
		if (i > 0 && lg.at[i] < lg.at[i - 1]) {
			CHECK(lg.at[i] >= lg.at[i - 1]);
			break;
		}
	}
	dueq_cleanup(&q);
}

static void
t_rearm(void)
{
	struct dueq q;

	reset();
	dueq_init(&q);
	lg.n = 0;
	for (int i = 0; i < 100; i++)
		dueq_set(&q, &items[i].due, 1000 + i);
	/* The earliest moves last; one from the end moves first. */
	dueq_set(&q, &items[0].due, 5000);
	dueq_set(&q, &items[99].due, 10);
	CHECK(heap_ok(&q));
	CHECK_INT_EQ(((struct item *)dueq_peek(&q))->id, 99);
	CHECK_INT_EQ(dueq_count(&q), 100);
	/* Only what is due by now. */
	CHECK_INT_EQ(dueq_run(&q, 1049, SIZE_MAX, record, NULL), 50);
	CHECK_INT_EQ(lg.ids[0], 99);
	CHECK_INT_EQ(lg.ids[1], 1);
	CHECK_INT_EQ(lg.ids[49], 49);
	CHECK_INT_EQ(dueq_peek(&q)->at, 1050);
	CHECK_INT_EQ(dueq_run(&q, INT64_MAX, SIZE_MAX, record, NULL), 50);
	CHECK_INT_EQ(lg.ids[99], 0);
	dueq_cleanup(&q);
}

/* Re-arms each node for "now" as it fires, as a feed whose host slot is
 * taken would: the same call must not dispatch it again. */
static struct dueq *rearm_q;

static void
rearm_now(struct dueq_node *x, void *ud)
{
	record(x, ud);
	dueq_set(rearm_q, x, x->at);
}

static void
t_slice_bounded(void)
{
	struct dueq q;
	size_t n, calls = 0, total = 0;

	reset();
	dueq_init(&q);
	CHECK_INT_EQ(dueq_reserve(&q, NLOAD), 0);
	lg.n = 0;
	/* 100,000 due at once (a restart after downtime). */
	for (int i = 0; i < NLOAD; i++)
		dueq_set(&q, &items[i].due, 42);
	n = dueq_run(&q, 1000, 1024, record, NULL);
	CHECK_INT_EQ(n, 1024);
	CHECK_INT_EQ(dueq_count(&q), NLOAD - 1024);
	/* In set order: they all tie. */
	CHECK_INT_EQ(lg.ids[0], 0);
	CHECK_INT_EQ(lg.ids[1023], 1023);
	CHECK(dueq_peek(&q)->at <= 1000);   /* more waiting: the caller re-arms */
	while ((n = dueq_run(&q, 1000, 1024, record, NULL)) > 0) {
		CHECK(n <= 1024);
		calls++;
		total += n;
	}
	CHECK_INT_EQ(total, NLOAD - 1024);
	CHECK_INT_EQ(calls, (NLOAD - 1024 + 1023) / 1024);
	CHECK_INT_EQ(lg.ids[NLOAD - 1], NLOAD - 1);

	/* A callback that sets its node due again: each call still ends,
	 * having dispatched each node once. */
	reset();
	lg.n = 0;
	rearm_q = &q;
	for (int i = 0; i < 10; i++)
		dueq_set(&q, &items[i].due, 7);
	CHECK_INT_EQ(dueq_run(&q, 7, SIZE_MAX, rearm_now, NULL), 10);
	CHECK_INT_EQ(dueq_count(&q), 10);
	for (int i = 0; i < 10; i++)
		CHECK_INT_EQ(items[i].fired, 1);
	CHECK_INT_EQ(dueq_run(&q, 7, SIZE_MAX, rearm_now, NULL), 10);
	CHECK_INT_EQ(items[9].fired, 2);
	dueq_clear(&q);
	CHECK_INT_EQ(dueq_count(&q), 0);
	CHECK(!dueq_queued(&items[0].due));
	CHECK_NULL(dueq_peek(&q));
	CHECK_INT_EQ(dueq_run(&q, INT64_MAX, SIZE_MAX, record, NULL), 0);
	dueq_cleanup(&q);
}

/* A callback removing other nodes (a feed removed while others fire). */
static void
remove_next(struct dueq_node *x, void *ud)
{
	struct item *it = (struct item *)x;

	record(x, ud);
	if (it->id + 1 < 10)
		dueq_remove(rearm_q, &items[it->id + 1].due);
}

static void
t_remove_during_run(void)
{
	struct dueq q;

	reset();
	dueq_init(&q);
	lg.n = 0;
	rearm_q = &q;
	for (int i = 0; i < 10; i++)
		dueq_set(&q, &items[i].due, i);
	CHECK_INT_EQ(dueq_run(&q, 100, SIZE_MAX, remove_next, NULL), 5);
	for (size_t i = 0; i < lg.n; i++)
		CHECK_INT_EQ(lg.ids[i], (int)i * 2);
	CHECK_INT_EQ(dueq_count(&q), 0);
	dueq_cleanup(&q);
}

static const struct check_case cases[] = {
	{ "order_under_load", t_order_under_load },
	{ "ties_in_set_order", t_ties_in_set_order },
	{ "remove_anywhere", t_remove_anywhere },
	{ "rearm", t_rearm },
	{ "slice_bounded", t_slice_bounded },
	{ "remove_during_run", t_remove_during_run },
	{ 0 }
};

int
main(int argc, char **argv)
{
	return check_main(argc, argv, cases);
}
