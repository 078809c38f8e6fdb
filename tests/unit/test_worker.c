/*
 * daemon/worker.c: store jobs run off the loop, one at a time, in order,
 * with their done callbacks back on the loop thread. The store is never
 * touched here (the worker only passes the pointer through).
 */
#include "worker.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"

struct tjob {
	struct worker_job wj;      /* first */
	int id;
	pthread_t work_thread;
};

static atomic_int running, max_running;
static int order[16], norder;
static pthread_t loop_thread;
static bool done_on_loop = true, resubmitted;
static struct worker w;
static struct tjob jobs[8];
static struct store *const fake_store = (struct store *)&w;
static bool store_ok = true;

static void
t_work(struct worker_job *wj, struct store *st)
{
	struct tjob *j = (struct tjob *)wj;
	int now = atomic_fetch_add(&running, 1) + 1;
	struct timespec ts = { 0, 5 * 1000 * 1000 };

	if (now > atomic_load(&max_running))
		atomic_store(&max_running, now);
	if (st != fake_store)
		store_ok = false;
	j->work_thread = pthread_self();
	nanosleep(&ts, NULL); /* long enough for an overlap to show */
	atomic_fetch_sub(&running, 1);
}

static void
t_done(struct worker_job *wj)
{
	struct tjob *j = (struct tjob *)wj;

	if (!pthread_equal(pthread_self(), loop_thread))
		done_on_loop = false;
	if (norder < 16)
		order[norder++] = j->id;
	/* A done callback may queue more work (the daemon schedules the
	 * next store job from here). */
	if (j->id == 0 && !resubmitted) {
		resubmitted = true;
		jobs[5] = (struct tjob){ .wj = { .work = t_work, .done = t_done },
			.id = 5 };
		worker_submit(&w, &jobs[5].wj);
	}
}

static void
t_serial_in_order(void)
{
	uv_loop_t loop;

	loop_thread = pthread_self();
	REQUIRE(uv_loop_init(&loop) == 0);
	worker_init(&w, &loop, fake_store);
	CHECK(worker_idle(&w));
	for (int i = 0; i < 5; i++) {
		jobs[i] = (struct tjob){ .wj = { .work = t_work, .done = t_done },
			.id = i };
		worker_submit(&w, &jobs[i].wj);
	}
	CHECK(!worker_idle(&w));
	CHECK_INT_EQ(w.queued, 4);  /* one running, four waiting */
	CHECK_INT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
	CHECK(worker_idle(&w));
	CHECK_INT_EQ(w.done, 6);
	CHECK_INT_EQ(norder, 6);
	for (int i = 0; i < 6 && i < norder; i++)
		CHECK_INT_EQ(order[i], i);
	CHECK_INT_EQ(atomic_load(&max_running), 1);
	CHECK(done_on_loop);
	CHECK(store_ok);
	/* The work really ran off the loop thread. */
	CHECK(!pthread_equal(jobs[0].work_thread, loop_thread));
	CHECK_INT_EQ(uv_loop_close(&loop), 0);
}

static const struct check_case cases[] = {
	{ "serial_in_order", t_serial_in_order },
	{ 0 },
};

int
main(int argc, char **argv)
{
	return check_main(argc, argv, cases);
}
