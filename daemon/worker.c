/*
 * worker: store jobs in groups on a thread of their own. See worker.h.
 *
 * The queue is shared: the loop thread appends (worker_submit()), the
 * worker thread takes a group from the front as soon as it is free, runs
 * and commits it, and appends the group to the finished list; the loop
 * thread, woken by the async handle, runs the finished jobs' done
 * callbacks. The writer never waits for the loop to hand it work, so a
 * busy loop (a fetch burst) does not leave the store idle.
 */
#include "worker.h"

#include <stddef.h>

#include "log.h"

/* Done callbacks run per loop wake-up, at most: a long backlog of
 * finished jobs is handed out over several loop iterations. */
#define WORKER_DONE_PER_WAKE 64

static void on_async(uv_async_t *h);

static bool
unreachable(const struct worker *w)
{
	return w->unreachable && w->unreachable(w->st);
}

static const char *
errmsg(const struct worker *w)
{
	return w->errmsg ? w->errmsg(w->st) : "the store cannot be reached";
}

int
worker_init(struct worker *w, uv_loop_t *loop, struct store *st)
{
	int rc;

	*w = (struct worker){ .loop = loop, .st = st };
	rc = uv_mutex_init(&w->mu);
	if (rc < 0)
		return rc;
	rc = uv_cond_init(&w->cv);
	if (rc < 0) {
		uv_mutex_destroy(&w->mu);
		return rc;
	}
	rc = uv_async_init(loop, &w->async, on_async);
	if (rc < 0) {
		uv_cond_destroy(&w->cv);
		uv_mutex_destroy(&w->mu);
		return rc;
	}
	w->async.data = w;
	/* Like a uv_work_t, the worker keeps the loop alive only while it
	 * has jobs: referenced in worker_submit(), unreferenced when idle. */
	uv_unref((uv_handle_t *)&w->async);
	return 0;
}

bool
worker_idle(const struct worker *w)
{
	return w->pending == 0;
}

/* Append the chain first..last (linked by next) to a list. */
static void
chain_append(struct worker_job **head, struct worker_job **tail,
	struct worker_job *first, struct worker_job *last)
{
	if (*tail)
		(*tail)->next = first;
	else
		*head = first;
	*tail = last;
}

/*
 * Each job of the list on its own (its own transactions). Returns the job
 * after which the store could not be reached (it and the ones after it
 * are to be run again once it can), or NULL. With every_job, each job
 * runs whatever happens (the last try, when giving up) and NULL is
 * returned.
 */
static struct worker_job *
run_alone(struct worker *w, struct worker_job *j, bool every_job)
{
	for (; j; j = j->next) {
		uint64_t t0 = uv_hrtime();

		j->work(j, w->st);
		if (w->metrics)
			metrics_store_transaction(w->metrics,
				(double)(uv_hrtime() - t0) / 1e9);
		if (!every_job && unreachable(w))
			return j;
	}
	return NULL;
}

/*
 * Worker thread: one try at the jobs of list g, in one store group when
 * there is more than one. *rest gets the jobs the time limit left unrun
 * (cut off g), or NULL. Returns the jobs that have to run again because
 * the store could not be reached (g itself, or a tail of it), or NULL.
 */
static struct worker_job *
try_group(struct worker *w, struct worker_job *g, bool *committed,
	struct worker_job **rest)
{
	struct worker_job *j;
	uint64_t t0 = uv_hrtime();
	int rc;

	*committed = false;
	*rest = NULL;
	if (!g->next || !w->group_begin || !w->group_commit)
		return run_alone(w, g, false);
	if (w->group_begin(w->st) < 0)
		return unreachable(w) ? g : run_alone(w, g, false);
	for (j = g; j; j = j->next) {
		j->work(j, w->st);
		if (j->next && uv_hrtime() - t0 >=
		    (uint64_t)WORKER_GROUP_MAX_MS * 1000000) {
			*rest = j->next;
			j->next = NULL;
			break;
		}
	}
	rc = w->group_commit(w->st);
	if (w->metrics)
		metrics_store_transaction(w->metrics,
			(double)(uv_hrtime() - t0) / 1e9);
	if (rc < 0) {
		/* A lost server: the whole group again once it is back
		 * (rerun job by job, each would fail the same way). */
		if (unreachable(w))
			return g;
		/* Nothing of the group is stored: each job again, alone, so
		 * a failure is that job's own. */
		return run_alone(w, g, false);
	}
	*committed = true;
	return NULL;
}

/*
 * Worker thread: wait for the store to be reachable again, trying a new
 * connection with back-off. Returns true once it is, false when
 * worker_give_up() was called first. Logs once when the wait starts and
 * once when it ends, however long it lasts, so an outage reads as two
 * lines and not one per job (the jobs queued meanwhile wait behind this
 * one without running).
 */
static bool
wait_for_store(struct worker *w, unsigned held)
{
	uint64_t t0 = uv_hrtime(), delay = WORKER_RETRY_MIN_MS;
	unsigned tries = 0;
	bool back = false;

	log_err("store", "database unreachable: %s; holding %u store job%s "
		"(and the polls behind them) until it is back",
		errmsg(w), held, held == 1 ? "" : "s");
	uv_mutex_lock(&w->mu);
	w->outages++;
	w->waiting = true;
	for (;;) {
		uint64_t end = uv_hrtime() + delay * 1000000, now;
		int rc;

		while (!w->give_up && (now = uv_hrtime()) < end)
			(void)uv_cond_timedwait(&w->cv, &w->mu, end - now);
		if (w->give_up)
			break;
		uv_mutex_unlock(&w->mu);
		rc = w->reconnect ? w->reconnect(w->st) : 0;
		tries++;
		if (rc < 0)
			log_info("store", "database still unreachable "
				"(attempt %u): %s", tries, errmsg(w));
		uv_mutex_lock(&w->mu);
		if (rc == 0) {
			back = true;
			break;
		}
		delay = delay * 2 > WORKER_RETRY_MAX_MS ? WORKER_RETRY_MAX_MS :
			delay * 2;
	}
	w->waiting = false;
	uv_mutex_unlock(&w->mu);
	if (back)
		log_notice("store", "database reachable again after %.1fs "
			"(%u attempt%s); running the held store jobs again",
			(double)(uv_hrtime() - t0) / 1e9, tries,
			tries == 1 ? "" : "s");
	else
		log_notice("store", "stopping while the database is "
			"unreachable: the %u held store job%s fail (nothing of "
			"them is stored; they are polled again after a restart)",
			held, held == 1 ? "" : "s");
	return back;
}

static unsigned
list_len(const struct worker_job *j)
{
	unsigned n = 0;

	for (; j; j = j->next)
		n++;
	return n;
}

/*
 * Worker thread: the jobs of list g, in one store group when there is
 * more than one. Jobs that the store could not be reached for run again,
 * the same way, once it can. Returns the jobs the time limit left unrun
 * (cut off g), or NULL.
 */
static struct worker_job *
run_group(struct worker *w, struct worker_job *g, bool *committed)
{
	struct worker_job *redo, *rest, *last;
	bool c;

	*committed = false;
	for (;;) {
		redo = try_group(w, g, &c, &rest);
		*committed |= c;
		if (!redo)
			return rest;
		/* Whatever the time limit cut off is part of the redo. */
		if (rest) {
			for (last = redo; last->next; last = last->next)
				;
			last->next = rest;
		}
		if (!wait_for_store(w, list_len(redo))) {
			/* Stopping: each job once more, alone, so each
			 * reports its failure (it is not acknowledged: its
			 * results from the lost group may read as success). */
			(void)run_alone(w, redo, true);
			return NULL;
		}
		g = redo;
	}
}

/* Under mu: take the next group off the queue (at least one job). */
static struct worker_job *
take_group(struct worker *w)
{
	struct worker_job *g = w->head, *last = NULL;
	unsigned n = 0, max = w->group_begin && w->group_commit ?
		WORKER_GROUP_MAX_JOBS : 1;

	while (w->head && n < max) {
		last = w->head;
		w->head = last->next;
		n++;
	}
	last->next = NULL;
	if (!w->head)
		w->tail = NULL;
	return g;
}

/* Under mu: put list l (in order) back at the front of the queue. */
static void
requeue_front(struct worker *w, struct worker_job *l)
{
	struct worker_job *last = l;

	while (last->next)
		last = last->next;
	last->next = w->head;
	if (!w->head)
		w->tail = last;
	w->head = l;
}

static void
thread_main(void *arg)
{
	struct worker *w = arg;

	uv_mutex_lock(&w->mu);
	for (;;) {
		struct worker_job *g, *rest, *last;
		bool committed;

		while (!w->head && !w->quit)
			uv_cond_wait(&w->cv, &w->mu);
		if (!w->head)
			break; /* quit, and nothing left */
		g = take_group(w);
		uv_mutex_unlock(&w->mu);
		/* The group's jobs are this thread's until they are on the
		 * finished list. */
		rest = run_group(w, g, &committed);
		for (last = g; last->next; last = last->next)
			;
		uv_mutex_lock(&w->mu);
		if (rest)
			requeue_front(w, rest);
		w->groups += committed;
		chain_append(&w->fin_head, &w->fin_tail, g, last);
		uv_mutex_unlock(&w->mu);
		uv_async_send(&w->async);
		uv_mutex_lock(&w->mu);
	}
	uv_mutex_unlock(&w->mu);
}

/* Loop thread: the done callbacks of what the thread finished, in
 * submission order, at most WORKER_DONE_PER_WAKE per call.
 * uv_async_send() coalesces, so one wake-up may find several groups. */
static void
on_async(uv_async_t *h)
{
	struct worker *w = h->data;
	struct worker_job *j, *next;
	unsigned n = 0;
	bool more;

	uv_mutex_lock(&w->mu);
	j = w->fin_head;
	while (w->fin_head && n < WORKER_DONE_PER_WAKE) {
		w->fin_head = w->fin_head->next;
		n++;
	}
	if (!w->fin_head)
		w->fin_tail = NULL;
	more = w->fin_head != NULL;
	uv_mutex_unlock(&w->mu);
	/* The rest on another iteration, so the loop serves its sockets in
	 * between. */
	if (more)
		uv_async_send(&w->async);
	for (; n > 0; n--, j = next) {
		next = j->next;
		j->next = NULL;
		w->pending--;
		w->done++;
		j->done(j);
	}
	if (w->metrics)
		metrics_store_queue(w->metrics, w->pending);
	if (w->pending == 0)
		uv_unref((uv_handle_t *)&w->async);
}

void
worker_submit(struct worker *w, struct worker_job *j)
{
	j->w = w;
	j->next = NULL;
	w->pending++;
	if (w->metrics)
		metrics_store_queue(w->metrics, w->pending);
	uv_ref((uv_handle_t *)&w->async);
	if (!w->started && uv_thread_create(&w->thread, thread_main, w) == 0)
		w->started = true;
	if (w->started) {
		uv_mutex_lock(&w->mu);
		chain_append(&w->head, &w->tail, j, j);
		uv_cond_signal(&w->cv);
		uv_mutex_unlock(&w->mu);
		return;
	}
	/* No thread (out of resources): run the job here rather than lose
	 * it; its done callback still comes from the loop, through the
	 * finished list. A later submit tries to start the thread again. */
	(void)run_alone(w, j, true);
	uv_mutex_lock(&w->mu);
	chain_append(&w->fin_head, &w->fin_tail, j, j);
	uv_mutex_unlock(&w->mu);
	uv_async_send(&w->async);
}

void
worker_give_up(struct worker *w)
{
	if (!w->started)
		return;
	uv_mutex_lock(&w->mu);
	w->give_up = true;
	uv_cond_signal(&w->cv);
	uv_mutex_unlock(&w->mu);
}

void
worker_close(struct worker *w, uv_close_cb cb)
{
	if (w->started) {
		uv_mutex_lock(&w->mu);
		w->quit = true;
		uv_cond_signal(&w->cv);
		uv_mutex_unlock(&w->mu);
		uv_thread_join(&w->thread);
		w->started = false;
	}
	uv_cond_destroy(&w->cv);
	uv_mutex_destroy(&w->mu);
	uv_close((uv_handle_t *)&w->async, cb);
}
