/*
 * daemon/worker.c: store jobs run off the loop, one at a time, in order,
 * with their done callbacks back on the loop thread. The store is never
 * touched here (the worker only passes the pointer through, and the
 * unreachable cases give it stand-ins for the store's functions).
 */
#include "worker.h"

#include <errno.h>
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
	REQUIRE(worker_init(&w, &loop, fake_store) == 0);
	CHECK(worker_idle(&w));
	for (int i = 0; i < 5; i++) {
		jobs[i] = (struct tjob){ .wj = { .work = t_work, .done = t_done },
			.id = i };
		worker_submit(&w, &jobs[i].wj);
	}
	CHECK(!worker_idle(&w));
	CHECK_INT_EQ(w.pending, 5);
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
	worker_close(&w, NULL);
	CHECK_INT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
	CHECK_INT_EQ(uv_loop_close(&loop), 0);
}

/*
 * Group commit: the jobs waiting when the worker is free go into one
 * group (at most WORKER_GROUP_MAX_JOBS); a group whose commit fails has
 * every job run again alone; done callbacks still come once each, in
 * submission order, and only after the work is stored.
 */
#define GJOBS (WORKER_GROUP_MAX_JOBS + 36)

struct gjob {
	struct worker_job wj;      /* first */
	int id;
	atomic_int works;          /* work calls */
	int group;                 /* group seq. at its last work call, 0 = alone */
	int commits_at_done;       /* commits seen when done ran */
};

static struct gjob gjobs[GJOBS];
static uv_sem_t gate, started;
static atomic_int in_group, seq, commits, begins;
static int gorder[GJOBS], ngorder;

static int
g_begin(struct store *st)
{
	(void)st;
	atomic_fetch_add(&begins, 1);
	atomic_store(&in_group, atomic_fetch_add(&seq, 1) + 1);
	return 0;
}

/* The first group's commit fails: nothing of it is stored. */
static int
g_commit(struct store *st)
{
	int g = atomic_load(&in_group);

	(void)st;
	atomic_store(&in_group, 0);
	if (g == 1)
		return -EIO;
	atomic_fetch_add(&commits, 1);
	return 0;
}

static void
g_work(struct worker_job *wj, struct store *st)
{
	struct gjob *j = (struct gjob *)wj;

	(void)st;
	if (j->id == 0) {
		/* Hold the worker until all the others are queued. */
		uv_sem_post(&started);
		uv_sem_wait(&gate);
	}
	atomic_fetch_add(&j->works, 1);
	j->group = atomic_load(&in_group);
}

static void
g_done(struct worker_job *wj)
{
	struct gjob *j = (struct gjob *)wj;

	if (ngorder < GJOBS)
		gorder[ngorder++] = j->id;
	j->commits_at_done = atomic_load(&commits);
}

static void
t_group_commit(void)
{
	uv_loop_t loop;

	REQUIRE(uv_loop_init(&loop) == 0);
	REQUIRE(uv_sem_init(&gate, 0) == 0);
	REQUIRE(uv_sem_init(&started, 0) == 0);
	REQUIRE(worker_init(&w, &loop, fake_store) == 0);
	w.group_begin = g_begin;
	w.group_commit = g_commit;
	for (int i = 0; i < GJOBS; i++) {
		gjobs[i].wj = (struct worker_job){ .work = g_work,
			.done = g_done };
		gjobs[i].id = i;
		worker_submit(&w, &gjobs[i].wj);
		if (i == 0)
			uv_sem_wait(&started); /* taken, alone */
	}
	uv_sem_post(&gate);
	CHECK_INT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
	CHECK(worker_idle(&w));
	CHECK_INT_EQ(w.done, GJOBS);
	/* Job 0 was alone (nothing else waited when it was taken); then a
	 * full group that failed, then the rest in one group. */
	CHECK_INT_EQ(atomic_load(&begins), 2);
	CHECK_INT_EQ(atomic_load(&commits), 1);
	CHECK_INT_EQ(w.groups, 1);
	CHECK_INT_EQ(ngorder, GJOBS);
	for (int i = 0; i < ngorder; i++)
		CHECK_INT_EQ(gorder[i], i);
	CHECK_INT_EQ(atomic_load(&gjobs[0].works), 1);
	CHECK_INT_EQ(gjobs[0].group, 0);
	for (int i = 1; i <= WORKER_GROUP_MAX_JOBS; i++) {
		/* Run in the failed group, then again alone. */
		CHECK_INT_EQ(atomic_load(&gjobs[i].works), 2);
		CHECK_INT_EQ(gjobs[i].group, 0);
	}
	for (int i = WORKER_GROUP_MAX_JOBS + 1; i < GJOBS; i++) {
		CHECK_INT_EQ(atomic_load(&gjobs[i].works), 1);
		CHECK_INT_EQ(gjobs[i].group, 2);
		/* Reported only after its group's commit. */
		CHECK_INT_EQ(gjobs[i].commits_at_done, 1);
	}
	worker_close(&w, NULL);
	CHECK_INT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
	CHECK_INT_EQ(uv_loop_close(&loop), 0);
	uv_sem_destroy(&gate);
	uv_sem_destroy(&started);
}

/*
 * A store that cannot be reached (the server went away): the group is
 * not rerun job by job; the worker waits, tries a new connection with
 * back-off, and runs the same group again, whole, once one is made. Done
 * callbacks still come once each, in order, after the commit.
 */
#define UJOBS 12

static atomic_bool u_lost;
static atomic_int u_commit_fails, u_reconnect_fails, u_reconnects;

/* The first group's commit finds the server gone. */
static int
u_commit(struct store *st)
{
	(void)st;
	atomic_store(&in_group, 0);
	if (atomic_load(&u_commit_fails) > 0) {
		atomic_fetch_sub(&u_commit_fails, 1);
		atomic_store(&u_lost, true);
		return -ENOTCONN;
	}
	atomic_fetch_add(&commits, 1);
	return 0;
}

static bool
u_unreachable(const struct store *st)
{
	(void)st;
	return atomic_load(&u_lost);
}

static int
u_reconnect(struct store *st)
{
	(void)st;
	atomic_fetch_add(&u_reconnects, 1);
	if (atomic_load(&u_reconnect_fails) > 0) {
		atomic_fetch_sub(&u_reconnect_fails, 1);
		return -ENOTCONN;
	}
	atomic_store(&u_lost, false);
	return 0;
}

static const char *
u_errmsg(const struct store *st)
{
	(void)st;
	return "test: no connection to the server";
}

static void
u_setup(uv_loop_t *loop, int reconnect_fails)
{
	REQUIRE(uv_loop_init(loop) == 0);
	REQUIRE(uv_sem_init(&gate, 0) == 0);
	REQUIRE(uv_sem_init(&started, 0) == 0);
	REQUIRE(worker_init(&w, loop, fake_store) == 0);
	atomic_store(&begins, 0);
	atomic_store(&commits, 0);
	atomic_store(&seq, 0);
	atomic_store(&u_lost, false);
	atomic_store(&u_commit_fails, 1);
	atomic_store(&u_reconnect_fails, reconnect_fails);
	atomic_store(&u_reconnects, 0);
	ngorder = 0;
	w.group_begin = g_begin;
	w.group_commit = u_commit;
	w.unreachable = u_unreachable;
	w.reconnect = u_reconnect;
	w.errmsg = u_errmsg;
	for (int i = 0; i < UJOBS; i++) {
		gjobs[i] = (struct gjob){ .wj = { .work = g_work,
			.done = g_done }, .id = i };
		worker_submit(&w, &gjobs[i].wj);
		if (i == 0)
			uv_sem_wait(&started); /* taken, alone */
	}
	uv_sem_post(&gate);
}

static void
u_teardown(uv_loop_t *loop)
{
	worker_close(&w, NULL);
	CHECK_INT_EQ(uv_run(loop, UV_RUN_DEFAULT), 0);
	CHECK_INT_EQ(uv_loop_close(loop), 0);
	uv_sem_destroy(&gate);
	uv_sem_destroy(&started);
}

static void
t_unreachable_redo(void)
{
	uv_loop_t loop;

	/* Two failed attempts, then a connection. */
	u_setup(&loop, 2);
	CHECK_INT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
	CHECK(worker_idle(&w));
	CHECK_INT_EQ(w.done, UJOBS);
	CHECK_INT_EQ(w.outages, 1);
	CHECK_INT_EQ(atomic_load(&u_reconnects), 3);
	/* Job 0 alone; the group twice (lost, then committed). */
	CHECK_INT_EQ(atomic_load(&begins), 2);
	CHECK_INT_EQ(atomic_load(&commits), 1);
	CHECK_INT_EQ(w.groups, 1);
	CHECK_INT_EQ(ngorder, UJOBS);
	for (int i = 0; i < ngorder; i++)
		CHECK_INT_EQ(gorder[i], i);
	CHECK_INT_EQ(atomic_load(&gjobs[0].works), 1);
	for (int i = 1; i < UJOBS; i++) {
		/* In the lost group, then in the redone one: never alone. */
		CHECK_INT_EQ(atomic_load(&gjobs[i].works), 2);
		CHECK_INT_EQ(gjobs[i].group, 2);
		CHECK_INT_EQ(gjobs[i].commits_at_done, 1);
	}
	u_teardown(&loop);
}

/* Loop thread: once the worker waits for the store, give up (a stop). */
static void
u_poll(uv_timer_t *t)
{
	bool waiting;

	uv_mutex_lock(&w.mu);
	waiting = w.waiting;
	uv_mutex_unlock(&w.mu);
	if (waiting) {
		worker_give_up(&w);
		uv_close((uv_handle_t *)t, NULL);
	}
}

static void
t_unreachable_give_up(void)
{
	uv_loop_t loop;
	uv_timer_t poll;

	/* The server never comes back. */
	u_setup(&loop, 1 << 30);
	REQUIRE(uv_timer_init(&loop, &poll) == 0);
	REQUIRE(uv_timer_start(&poll, u_poll, 10, 10) == 0);
	CHECK_INT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
	CHECK(worker_idle(&w));
	CHECK_INT_EQ(w.done, UJOBS);
	CHECK_INT_EQ(w.outages, 1);
	CHECK_INT_EQ(w.groups, 0);
	CHECK_INT_EQ(atomic_load(&commits), 0);
	CHECK_INT_EQ(ngorder, UJOBS);
	for (int i = 0; i < ngorder; i++)
		CHECK_INT_EQ(gorder[i], i);
	for (int i = 1; i < UJOBS; i++) {
		/* In the lost group, then once alone to report the failure. */
		CHECK_INT_EQ(atomic_load(&gjobs[i].works), 2);
		CHECK_INT_EQ(gjobs[i].group, 0);
	}
	u_teardown(&loop);
}

static const struct check_case cases[] = {
	{ "serial_in_order", t_serial_in_order },
	{ "group_commit", t_group_commit },
	{ "unreachable_redo", t_unreachable_redo },
	{ "unreachable_give_up", t_unreachable_give_up },
	{ 0 },
};

int
main(int argc, char **argv)
{
	return check_main(argc, argv, cases);
}
