/*
 * worker: one store job at a time on the libuv threadpool. See worker.h.
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
	return !w->running && !w->head;
}

static void
on_work(uv_work_t *req)
{
	struct worker_job *j = req->data;

	j->work(j, j->w->st);
}

static void
on_after_work(uv_work_t *req, int status)
{
	struct worker_job *j = req->data;
	struct worker *w = j->w;

	/* status is UV_ECANCELED only after uv_cancel(), which we never
	 * call: the work has run. */
	(void)status;
	w->running = NULL;
	w->done++;
	j->done(j);
	pump(w);
}

static void
pump(struct worker *w)
{
	struct worker_job *j;

	while (!w->running && w->head) {
		j = w->head;
		w->head = j->next;
		if (!w->head)
			w->tail = NULL;
		w->queued--;
		j->next = NULL;
		w->running = j;
		j->req.data = j;
		if (uv_queue_work(w->loop, &j->req, on_work, on_after_work) == 0)
			return;
		/* uv_queue_work() fails only for a NULL work callback;
		 * defensively run the job here rather than lose it. */
		j->work(j, w->st);
		w->running = NULL;
		w->done++;
		j->done(j);
	}
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
