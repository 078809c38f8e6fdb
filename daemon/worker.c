/*
 * worker: store jobs in groups on the libuv threadpool. See worker.h.
 */
#include "worker.h"

#include <stddef.h>

static void pump(struct worker *w);

void
worker_init(struct worker *w, uv_loop_t *loop, struct store *st)
{
	*w = (struct worker){ .loop = loop, .st = st };
}

bool
worker_idle(const struct worker *w)
{
	return !w->group && !w->head;
}

/* Each job of the list on its own (its own transactions). */
static void
run_alone(struct worker_job *j, struct store *st)
{
	for (; j; j = j->next)
		j->work(j, st);
}

/* Threadpool: the group in w->group, in one store group when it has more
 * than one job. Touches only the group's jobs and w->rest. */
static void
on_work(uv_work_t *req)
{
	struct worker *w = req->data;
	struct worker_job *j;
	uint64_t t0 = uv_hrtime();

	w->rest = NULL;
	if (!w->group->next || w->group_begin(w->st) < 0) {
		run_alone(w->group, w->st);
		return;
	}
	for (j = w->group; j; j = j->next) {
		j->work(j, w->st);
		if (j->next && uv_hrtime() - t0 >=
		    (uint64_t)WORKER_GROUP_MAX_MS * 1000000) {
			w->rest = j->next;
			j->next = NULL;
			break;
		}
	}
	if (w->group_commit(w->st) < 0) {
		/* Nothing of the group is stored: each job again, alone, so
		 * a failure is that job's own. */
		run_alone(w->group, w->st);
		return;
	}
	w->groups++;
}

static void
on_after_work(uv_work_t *req, int status)
{
	struct worker *w = req->data;
	struct worker_job *j = w->group, *next, *last;

	/* status is UV_ECANCELED only after uv_cancel(), which we never
	 * call: the work has run. */
	(void)status;
	w->group = NULL;
	/* The jobs the time limit left go back to the front, in order. */
	if (w->rest) {
		unsigned n = 1;

		for (last = w->rest; last->next; last = last->next)
			n++;
		last->next = w->head;
		if (!w->head)
			w->tail = last;
		w->head = w->rest;
		w->queued += n;
		w->rest = NULL;
	}
	for (; j; j = next) {
		next = j->next;
		j->next = NULL;
		w->done++;
		j->done(j);
	}
	pump(w);
}

static void
pump(struct worker *w)
{
	struct worker_job *last = NULL;
	unsigned n = 0;

	if (w->group || !w->head)
		return;
	/* Take what waits, up to the limit (at least one job). */
	w->group = w->head;
	while (w->head) {
		if (last && (!w->group_begin || !w->group_commit ||
			     n == WORKER_GROUP_MAX_JOBS))
			break;
		n++;
		last = w->head;
		w->head = last->next;
		w->queued--;
	}
	last->next = NULL;
	if (!w->head)
		w->tail = NULL;
	w->req.data = w;
	if (uv_queue_work(w->loop, &w->req, on_work, on_after_work) == 0)
		return;
	/* uv_queue_work() fails only for a NULL work callback; defensively
	 * run the jobs here rather than lose them. */
	on_work(&w->req);
	on_after_work(&w->req, 0);
}

void
worker_submit(struct worker *w, struct worker_job *j)
{
	j->w = w;
	j->next = NULL;
	if (w->tail)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	w->queued++;
	pump(w);
}
