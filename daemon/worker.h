/*
 * worker: runs store/ work off the loop thread, one job at a time.
 *
 * struct store is single-threaded, and a refresh transaction with
 * synchronous=FULL can take tens of milliseconds (fsync), which would stall
 * the loop. So every store call the running daemon makes is a job: its
 * work function runs on the libuv threadpool (uv_queue_work) with the store,
 * and its done function runs afterwards on the loop thread. Jobs run in
 * submission order and never overlap, so the store is only ever used by
 * one thread at a time, and the loop thread must not touch it while
 * worker_idle() is false.
 */
#ifndef FEEDD_DAEMON_WORKER_H
#define FEEDD_DAEMON_WORKER_H

#include <stdbool.h>
#include <uv.h>

#include "store.h"

struct worker_job;

/* Runs on a threadpool thread; may use st freely and nothing of the loop. */
typedef void (*worker_work_cb)(struct worker_job *j, struct store *st);
/* Runs on the loop thread after work_cb; may submit further jobs and free j. */
typedef void (*worker_done_cb)(struct worker_job *j);

/* Embed in the caller's job struct; the caller owns it until done_cb. */
struct worker_job {
	uv_work_t req;             /* private */
	struct worker_job *next;   /* private */
	struct worker *w;          /* private */
	worker_work_cb work;
	worker_done_cb done;
};

struct worker {
	uv_loop_t *loop;           /* borrowed */
	struct store *st;          /* borrowed */
	struct worker_job *head, *tail; /* queued, not yet started */
	struct worker_job *running;
	unsigned queued;           /* waiting, not counting the running one */
	unsigned done;             /* jobs completed so far */
};

void worker_init(struct worker *w, uv_loop_t *loop, struct store *st);

/* Queue j; it starts when the jobs before it are done. Never fails. */
void worker_submit(struct worker *w, struct worker_job *j);

/* No job running or queued. */
bool worker_idle(const struct worker *w);

#endif
