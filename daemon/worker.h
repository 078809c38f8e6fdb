/*
 * worker: runs store/ work off the loop thread, one group of jobs at a time.
 *
 * struct store is single-threaded, and a transaction with synchronous=FULL
 * can take tens of milliseconds (fsync), which would stall the loop. So
 * every store call the running daemon makes is a job: its work function
 * runs on the worker's own thread with the store, and its done function
 * runs afterwards on the loop thread. Jobs run in submission order and
 * never overlap, so the store is only ever used by one thread at a time,
 * and the loop thread must not touch it while worker_idle() is false.
 *
 * Why a thread of its own rather than libuv's threadpool: the store is
 * the one writer, the critical path of a cycle that brings many new
 * articles, and the pool takes work first come, first served: behind a
 * backlog of parse jobs a store group would wait, and the writer would
 * sit idle while the parsed work piled up.
 *
 * Group commit: the jobs waiting when the worker becomes free are taken
 * together (at most WORKER_GROUP_MAX_JOBS) and run inside one store group
 * (store_group_begin/store_group_commit: one durable transaction, each
 * job in its own savepoint). A group also ends after WORKER_GROUP_MAX_MS
 * of work; the jobs it did not reach go back to the front of the queue.
 * The done functions of a group run only after its commit, so nothing a
 * job reports is acknowledged before it is durable. If the group cannot
 * be committed (or not begun), every job of it is run again on its own,
 * each in its own transaction, so one job's failure never costs the
 * others their work: a work function must therefore be safe to run again
 * after a group that did not commit (reset its results on entry). A lone
 * job runs without a group.
 *
 * A store that cannot be reached (unreachable below, store_unreachable():
 * the PostgreSQL server went away) is no job's fault, and rerunning job by job would
 * only fail each of them: instead the worker holds the group (a lone job
 * too), logs once, tries a new connection with back-off
 * (WORKER_RETRY_MIN_MS doubling to WORKER_RETRY_MAX_MS), and runs the
 * same jobs again once the store is back, then goes on with the queue.
 * Meanwhile nothing is acknowledged and new jobs only queue (the daemon
 * bounds how many polls wait for the store). worker_give_up() (on stop)
 * ends the wait: the held jobs then run once more, alone, and report
 * their failure. Grouping is on once the owner sets
 * group_begin and group_commit (the daemon: store_group_begin and
 * store_group_commit), before the first worker_submit(); without them,
 * jobs are taken one at a time.
 */
#ifndef FEEDD_DAEMON_WORKER_H
#define FEEDD_DAEMON_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "metrics.h"
#include "store.h"

/* One group: at most this many jobs, and no more jobs started after
 * WORKER_GROUP_MAX_MS of work. Larger groups mean fewer commits (each an
 * fsync, and a flush of the full-text index's new terms); the done
 * callbacks are handed to the loop in slices (worker.c), so the group's
 * size does not become one long loop iteration. */
#define WORKER_GROUP_MAX_JOBS 64
#define WORKER_GROUP_MAX_MS 200

/* Back-off between connection attempts while the store is unreachable. */
#define WORKER_RETRY_MIN_MS 250
#define WORKER_RETRY_MAX_MS 5000

struct worker_job;

/* Runs on the worker thread; may use st freely and nothing of the loop.
 * May run twice (see above). */
typedef void (*worker_work_cb)(struct worker_job *j, struct store *st);
/* Runs on the loop thread after work_cb; may submit further jobs and free j. */
typedef void (*worker_done_cb)(struct worker_job *j);

/* Embed in the caller's job struct; the caller owns it until done_cb. */
struct worker_job {
	struct worker_job *next;   /* private */
	struct worker *w;          /* private */
	worker_work_cb work;
	worker_done_cb done;
};

struct worker {
	uv_loop_t *loop;           /* borrowed */
	struct store *st;          /* borrowed */
	/* private: the thread (started with the first job) and what it
	 * shares with the loop thread, under mu */
	uv_thread_t thread;
	uv_mutex_t mu;
	uv_cond_t cv;
	uv_async_t async;          /* "jobs finished", to the loop */
	bool started, quit;
	struct worker_job *head, *tail;         /* queued (mu) */
	struct worker_job *fin_head, *fin_tail; /* finished (mu) */
	/* Loop thread only: */
	unsigned pending;          /* submitted, done callback not yet run */
	unsigned done;             /* jobs completed so far */
	/* Store groups committed so far (mu). */
	unsigned groups;
	/* (mu) Outages waited out (or being waited out) so far; waiting
	 * while the thread holds jobs for an unreachable store; give_up
	 * set by worker_give_up(). */
	unsigned outages;
	bool waiting, give_up;
	/* Group commit: store_group_begin and store_group_commit. NULL
	 * (worker_init()'s default): one job at a time, each alone. */
	int (*group_begin)(struct store *st);
	int (*group_commit)(struct store *st);
	/* A store that cannot be reached: store_unreachable,
	 * store_reconnect and store_errmsg (for the log line); the daemon
	 * sets them with the two above. NULL (the default): the store is
	 * always reachable. */
	bool (*unreachable)(const struct store *st);
	int (*reconnect)(struct store *st);
	const char *(*errmsg)(const struct store *st);
	/* Borrowed; NULL: none. Gets the queue depth and each
	 * transaction's time (metrics_store_transaction()). */
	struct metrics *metrics;
};

int worker_init(struct worker *w, uv_loop_t *loop, struct store *st);

/* Stop the thread (waiting for nothing: the worker must be idle) and
 * uv_close() the worker's handle with cb. */
void worker_close(struct worker *w, uv_close_cb cb);

/* Stop waiting for an unreachable store (see above) and never wait
 * again: for shutdown, so that the worker becomes idle. */
void worker_give_up(struct worker *w);

/* Queue j; it starts when the jobs before it are done. Never fails. */
void worker_submit(struct worker *w, struct worker_job *j);

/* No job running or queued. */
bool worker_idle(const struct worker *w);

#endif
