/*
 * run: the running daemon's loop. See run.h for the scheduling rules and
 * run_int.h for which file owns what.
 *
 * Threads: everything in run_*.c runs on the loop thread except
 * parse_work() (run_poll.c), which runs on the libuv threadpool (at a
 * lower priority), and job_work() (run_poll.c), which runs on the store
 * worker's own thread (worker.h); both touch only their own job (and
 * job_work the store, one job at a time). A poll goes
 *
 *   due time -> feed_due() (run_sched.c): host spacing -> ready queue
 *         -> feed_poll() (run_poll.c) -> fetch_start() -> on_data():
 *            collect the body
 *         -> on_done(): classify; a new 2xx body -> parse_start()
 *         -> parse_work() (threadpool): parse, entries -> batch_add()
 *         -> parse_after() -> poll_fill_submit(): the store job
 *         -> job_work() (worker thread, serialized): one savepoint in the
 *            worker's group transaction (worker.h: group commit)
 *         -> job_done() (loop, after the group's durable commit):
 *            remember state, log, schedule the next poll
 *
 * 304, an unchanged body and failures skip the parse stage. The loop only
 * copies bytes, classifies and schedules, so it never stalls on a big
 * document or an fsync.
 *
 * This file owns struct run and its run-level handles: signals, the
 * watchdog, the cycle summary, the metrics heartbeat, --once progress,
 * the stall measurement, stopping and run_main().
 *
 * Ownership: struct run owns the conf, the store, the fetch object and the
 * feeds and the heap of their due times (dueq.h, under one timer); a feed
 * is freed once it is removed and no transfer, job or queue refers to it
 * (feed_maybe_free()); it owns its body while a transfer is running, and
 * copies of its remembered validators. A job owns everything it carries to the threadpool.
 */
#include "run_int.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

#include <curl/curl.h>
#include <uv.h>

#include "batch.h"
#include "fetch.h"
#include "hook.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "notify.h"
#include "parse.h"
#include "rules.h"
#include "sched.h"
#include "worker.h"

/* --- --once progress on a terminal ------------------------------------ */

/*
 * One line on stderr, redrawn in place: done/total, failures, the poll
 * rate and the slowest transfer in flight. Only when stderr is a TTY and
 * not --quiet; log lines clear it first (log_set_tty_hook()).
 */
static void
progress_clear(void *ud)
{
	struct run *r = ud;

	if (r->progress_shown) {
		fputs("\r\033[K", stderr);
		r->progress_shown = false;
	}
}

static void
on_progress(uv_timer_t *t)
{
	struct run *r = t->data;
	const struct feed *slow = NULL;
	int64_t now = wall_ms();
	double el = (double)(uv_hrtime() - r->start_ns) / 1e9;
	unsigned polled = r->once_done - r->once_skipped;
	char line[512];
	int n;

	for (const struct feed *f = r->feeds; f; f = f->next)
		if (f->fetching && (!slow || f->fetch_start_ms < slow->fetch_start_ms))
			slow = f;
	n = snprintf(line, sizeof(line), "feedd: %u/%u done, %u failed, "
		"%.1f feeds/s", r->once_done, r->once_total, r->once_failed,
		el > 0 ? polled / el : 0.0);
	if (slow && n > 0 && (size_t)n < sizeof(line))
		snprintf(line + n, sizeof(line) - (size_t)n, ", slowest %s (%.1f s)",
			slow->name, (double)(now - slow->fetch_start_ms) / 1000);
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
	r->progress_shown = true;
}

static void
progress_start(struct run *r)
{
	if (!r->opts->once || r->opts->quiet || !isatty(STDERR_FILENO))
		return;
	r->progress_on = true;
	log_set_tty_hook(progress_clear, r);
	uv_timer_start(&r->progress, on_progress, 200, 250);
}

/* The one-line summary at the end of a --once on a terminal. */
static void
progress_finish(struct run *r)
{
	double el = (double)(uv_hrtime() - r->start_ns) / 1e9;

	if (!r->progress_on)
		return;
	progress_clear(r);
	log_set_tty_hook(NULL, NULL);
	fprintf(stderr, "feedd: %u feed%s polled in %.1f s: %u ok, %u failed, "
		"%u not due; %u new and %u updated articles\n",
		r->once_done - r->once_skipped,
		r->once_done - r->once_skipped == 1 ? "" : "s", el,
		r->once_done - r->once_skipped - r->once_failed, r->once_failed,
		r->once_skipped, r->stats.inserted, r->stats.updated);
	r->progress_on = false;
}

/* --- status, stall measurement, watchdog -------------------------------- */

void
run_status(struct run *r)
{
	char hk[64] = "";

	if (r->hooks && hooks_count(r->hooks))
		snprintf(hk, sizeof(hk), ", %u hook%s (%u failing)",
			hooks_count(r->hooks), hooks_count(r->hooks) == 1 ? "" : "s",
			hooks_failing(r->hooks));
	notify_sendf("STATUS=%u feeds, %u failing, %u articles stored in the "
		"last cycle%s", r->nfeeds, r->nfailing,
		r->last_cycle_inserted > r->cycle_inserted ?
		r->last_cycle_inserted : r->cycle_inserted, hk);
}

/* Something of the hooks finished: --once may be done, or a stop may
 * now close everything. */
static void
on_hooks_changed(void *ud)
{
	run_maybe_finish(ud);
}

static uint64_t
thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
on_prepare(uv_prepare_t *h)
{
	struct run *r = h->data;
	uint64_t now = uv_hrtime();
	uint64_t idle = uv_metrics_idle_time(&r->loop);
	uint64_t cpu = thread_cpu_ns();

	if (r->last_prepare_ns) {
		uint64_t span = now - r->last_prepare_ns;
		uint64_t blocked = idle - r->last_idle_ns;
		uint64_t busy = span > blocked ? span - blocked : 0;
		uint64_t used = cpu - r->last_cpu_ns;

		/* A signal interrupts the poll with EINTR, and libuv then
		 * drops the idle time it had waited so far (it restarts the
		 * wait without recording it): an idle daemon that gets a
		 * SIGHUP after 12 s looked like a 12 s stall. In such an
		 * iteration count only what was measurably busy: the signal
		 * callbacks themselves, and the CPU the loop thread used. */
		if (r->signal_seen) {
			uint64_t sure = r->signal_ns > used ? r->signal_ns : used;

			if (busy > sure)
				busy = sure;
		}

		metrics_loop_busy(r->metrics, (double)busy / 1e9);
		if (busy > r->cycle_max_stall_ns)
			r->cycle_max_stall_ns = busy;
		if (busy > r->stats.max_stall_ns)
			r->stats.max_stall_ns = busy;
		if (used > r->stats.max_stall_cpu_ns)
			r->stats.max_stall_cpu_ns = used;
	}
	r->last_prepare_ns = now;
	r->last_idle_ns = idle;
	r->last_cpu_ns = cpu;
	r->signal_seen = false;
	r->signal_ns = 0;
}

void
on_cycle(uv_timer_t *t)
{
	struct run *r = t->data;

	log_info("sched", "cycle: feeds=%u failing=%u fetching=%u new=%u "
		"store_queue=%u max_loop_stall_ms=%.1f", r->nfeeds, r->nfailing,
		r->nfetching, r->cycle_inserted, r->worker.pending,
		(double)r->cycle_max_stall_ns / 1e6);
	if (hooks_count(r->hooks))
		log_info("hook", "cycle: hooks=%u failing=%u", hooks_count(r->hooks),
			hooks_failing(r->hooks));
	r->last_cycle_inserted = r->cycle_inserted;
	r->cycle_inserted = 0;
	r->cycle_max_stall_ns = 0;
	run_status(r);
}

/* The watchdog is fed only while /healthz would say ok: a daemon whose
 * store takes no writes gets restarted by systemd. */
static void
on_watchdog(uv_timer_t *t)
{
	struct run *r = t->data;
	char why[256];

	if (metrics_healthy(r->metrics, why, sizeof(why)))
		notify_send("WATCHDOG=1");
	else
		log_info("sys", "watchdog not fed: %s", why);
}

/* --- metrics ------------------------------------------------------------ */

/* Feeds counted by status per heartbeat, at most: a pass over 10^6 feeds
 * is spread over 100 s rather than stalling the loop. */
#define METRICS_FEEDS_PER_BEAT 10000

static void
on_heartbeat(uv_timer_t *t)
{
	struct run *r = t->data;
	unsigned n = 0;

	metrics_heartbeat(r->metrics);
	if (!r->status_cursor) {
		memset(r->status_count, 0, sizeof(r->status_count));
		r->status_cursor = r->feeds;
	}
	for (; r->status_cursor && n < METRICS_FEEDS_PER_BEAT; n++) {
		const struct feed *f = r->status_cursor;

		r->status_cursor = f->next;
		if (f->removed)
			continue;
		r->status_count[f->gone ? METRICS_FEED_GONE :
			f->failing ? METRICS_FEED_FAILING :
			f->id == 0 || f->never_fetched ? METRICS_FEED_NEW :
			METRICS_FEED_OK]++;
	}
	if (r->status_cursor)
		return;
	for (size_t i = 0; i < r->conf->nfeeds; i++)
		r->status_count[METRICS_FEED_DISABLED] += !r->conf->feeds[i].enabled;
	metrics_feeds(r->metrics, r->status_count);
}

/* --- stopping ----------------------------------------------------------- */

static void
on_run_handle_close(uv_handle_t *h)
{
	struct run *r = h->data;

	r->open_handles--;
}

static void
on_worker_close(uv_handle_t *h)
{
	struct worker *w = h->data;

	container_of(w, struct run, worker)->open_handles--;
}

static void
run_close_handle(struct run *r, uv_handle_t *h)
{
	if (uv_is_closing(h))
		return;
	uv_close(h, on_run_handle_close);
}

static void
cancel_all(struct run *r)
{
	struct feed *f, *next;

	r->cancelled_all = true;
	for (f = r->feeds; f; f = next) {
		next = f->next;
		if (f->fetching)
			fetch_req_cancel(f->req);
	}
}

static void
on_grace(uv_timer_t *t)
{
	struct run *r = t->data;

	if (r->nfetching)
		log_notice("sys", "grace period over; cancelling %u transfer%s",
			r->nfetching, r->nfetching == 1 ? "" : "s");
	cancel_all(r);
	hooks_cancel(r->hooks);
}

static void
run_close_all(struct run *r)
{
	struct feed *f, *next;

	r->closing = true;
	for (f = r->feeds; f; f = next) {
		next = f->next;
		if (!f->removed) {
			f->removed = true;
			f->cf = NULL;
		}
		dueq_remove(&r->dueq, &f->due);
		f->released = true;
		feed_maybe_free(f);
	}
	run_close_handle(r, (uv_handle_t *)&r->due_timer);
	run_close_handle(r, (uv_handle_t *)&r->due_idle);
	run_close_handle(r, (uv_handle_t *)&r->sig_hup);
	run_close_handle(r, (uv_handle_t *)&r->sig_term);
	run_close_handle(r, (uv_handle_t *)&r->sig_int);
	run_close_handle(r, (uv_handle_t *)&r->watchdog);
	run_close_handle(r, (uv_handle_t *)&r->grace);
	run_close_handle(r, (uv_handle_t *)&r->cycle);
	run_close_handle(r, (uv_handle_t *)&r->finish);
	run_close_handle(r, (uv_handle_t *)&r->prepare);
	run_close_handle(r, (uv_handle_t *)&r->progress);
	run_close_handle(r, (uv_handle_t *)&r->heartbeat);
	if (r->hooks)
		hooks_close(r->hooks);
	/* Idle here (run_can_close(), or start-up before any job). */
	worker_close(&r->worker, on_worker_close);
	fetch_destroy(r->fetch);
	r->fetch = NULL;
}

static void
run_stop(struct run *r, const char *why)
{
	if (r->stopping) {
		if (!r->cancelled_all) {
			log_notice("sys", "%s again: cancelling transfers and "
				"hook runs now", why);
			cancel_all(r);
			if (r->hooks)
				hooks_cancel(r->hooks);
		}
		return;
	}
	r->stopping = true;
	notify_send("STOPPING=1");
	if (!r->opts->once || strcmp(why, "done") != 0)
		log_notice("sys", "stopping (%s): %u transfer%s in flight, "
			"store queue %u", why, r->nfetching,
			r->nfetching == 1 ? "" : "s", r->worker.pending);
	/* A worker waiting for an unreachable store stops waiting. */
	worker_give_up(&r->worker);
	due_stop(r);
	ready_clear(r);
	uv_timer_stop(&r->cycle);
	hooks_stop(r->hooks);
	/* Hook runs in flight get the same grace as transfers, then are
	 * killed; their batches are delivered again after a restart. */
	if (r->nfetching || !hooks_idle(r->hooks)) {
		uint64_t g = r->opts->grace_ms > 0 ? (uint64_t)r->opts->grace_ms :
			FEEDD_STOP_GRACE_MS;

		uv_timer_start(&r->grace, on_grace, g, 0);
	}
	run_maybe_finish(r);
}

static bool
run_can_close(const struct run *r)
{
	return r->stopping && !r->closing && r->nfetching == 0 &&
		r->nparsing == 0 && worker_idle(&r->worker) &&
		hooks_idle(r->hooks);
}

static void
on_finish(uv_timer_t *t)
{
	struct run *r = t->data;

	if (run_can_close(r))
		run_close_all(r);
}

/*
 * Called after every transfer and store job. The closing itself happens
 * on a fresh loop iteration: we may be inside fetch/'s done callback, and
 * fetch_destroy() must not run there.
 */
void
run_maybe_finish(struct run *r)
{
	if (r->opts->once && !r->stopping && r->once_done >= r->once_total &&
	    worker_idle(&r->worker)) {
		/* --once delivers the hooks' backlog after polling, and
		 * waits for it (each run bounded by its timeout). */
		hooks_once_drain(r->hooks);
		/* The drain may have finished at once (no hooks) and called
		 * back into here already. */
		if (!r->stopping && hooks_once_drained(r->hooks) &&
		    worker_idle(&r->worker)) {
			progress_finish(r);
			run_stop(r, "done");
		}
	}
	if (run_can_close(r) && !uv_is_active((uv_handle_t *)&r->finish))
		uv_timer_start(&r->finish, on_finish, 0, 0);
}

static void
on_signal(uv_signal_t *s, int signum)
{
	struct run *r = s->data;

	uint64_t t0 = uv_hrtime();

	r->signal_seen = true;
	if (signum == SIGHUP) {
		if (r->opts->once)
			log_notice("sys", "SIGHUP ignored: --once runs on the config "
				"it started with");
		else if (!r->stopping)
			run_reload(r);
	} else {
		run_stop(r, signum == SIGTERM ? "SIGTERM" : "SIGINT");
	}
	r->signal_ns += uv_hrtime() - t0;
}

/* --- exit --------------------------------------------------------------- */

static void
walk_report(uv_handle_t *h, void *arg)
{
	(void)arg;
	log_err("sys", "handle still open at exit: %s%s",
		uv_handle_type_name(uv_handle_get_type(h)),
		uv_is_closing(h) ? " (closing)" : "");
}

static void
print_stats(struct run *r)
{
	double wall = (double)(uv_hrtime() - r->start_ns) / 1e9;

	printf("feedd-stats feeds=%u polls=%u ok=%u not_modified=%u "
		"unchanged=%u failed=%u inserted=%u updated=%u "
		"max_loop_stall_ms=%.2f max_loop_cpu_ms=%.2f wall_s=%.2f "
		"max_backlog=%u backlog_limit=%u\n",
		r->nfeeds ? r->nfeeds : r->once_total, r->stats.polls,
		r->stats.ok, r->stats.not_modified, r->stats.unchanged,
		r->stats.failed, r->stats.inserted, r->stats.updated,
		(double)r->stats.max_stall_ns / 1e6,
		(double)r->stats.max_stall_cpu_ns / 1e6, wall,
		r->max_npolljobs, backlog_limit(r));
	fflush(stdout);
}

int
run_main(struct conf *conf, struct store *st, const struct run_opts *o)
{
	struct run *r = calloc(1, sizeof(*r));
	struct fetch_opts fo;
	uint64_t wd;
	unsigned nensure = 0;
	int rc = 0, exit_code = FEEDD_EXIT_FATAL;
	bool loop_ok = false;

	if (!r) {
		log_err("sys", "out of memory");
		conf_free(conf);
		store_close(st);
		return FEEDD_EXIT_FATAL;
	}
	r->conf = conf;
	r->st = st;
	r->opts = o;
	r->start_ns = uv_hrtime();
	if (metrics_create(&r->metrics) < 0 ||
	    metrics_http_create(&r->http, r->metrics) < 0) {
		log_err("sys", "out of memory");
		goto out;
	}
	rc = uv_loop_init(&r->loop);
	if (rc < 0) {
		log_err("sys", "cannot start the event loop: %s", uv_strerror(rc));
		goto out;
	}
	loop_ok = true;
	/* Lets on_prepare() subtract the time spent waiting for events. */
	rc = uv_loop_configure(&r->loop, UV_METRICS_IDLE_TIME);
	if (rc < 0)
		log_warn("sys", "loop stall measurement unavailable: %s",
			uv_strerror(rc));
	fo = (struct fetch_opts){
		.max_total = conf->max_connections,
		.max_per_host = conf->max_per_host,
		.user_agent = conf->user_agent,
	};
	rc = fetch_create(&r->fetch, &r->loop, &fo);
	if (rc < 0) {
		log_err("fetch", "cannot set up transfers: %s", strerror(-rc));
		goto out;
	}
	rc = worker_init(&r->worker, &r->loop, st);
	if (rc < 0) {
		log_err("sys", "cannot start the store worker: %s",
			uv_strerror(rc));
		goto out;
	}
	r->worker.group_begin = store_group_begin;
	r->worker.group_commit = store_group_commit;
	r->worker.unreachable = store_unreachable;
	r->worker.reconnect = store_reconnect;
	r->worker.errmsg = store_errmsg;
	r->worker.metrics = r->metrics;

	uv_signal_init(&r->loop, &r->sig_hup);
	uv_signal_init(&r->loop, &r->sig_term);
	uv_signal_init(&r->loop, &r->sig_int);
	uv_timer_init(&r->loop, &r->watchdog);
	uv_timer_init(&r->loop, &r->grace);
	uv_timer_init(&r->loop, &r->cycle);
	uv_timer_init(&r->loop, &r->finish);
	uv_prepare_init(&r->loop, &r->prepare);
	r->sig_hup.data = r->sig_term.data = r->sig_int.data = r;
	r->watchdog.data = r->grace.data = r->cycle.data = r->prepare.data = r;
	r->finish.data = r;
	uv_timer_init(&r->loop, &r->progress);
	r->progress.data = r;
	uv_timer_init(&r->loop, &r->heartbeat);
	r->heartbeat.data = r;
	due_init(r);
	r->open_handles = 13; /* with the worker's */

	{
		/* Nothing but memory: the hooks make their handles when
		 * they are configured. */
		struct hook_ctx hc = { .loop = &r->loop, .fetch = r->fetch,
			.conf = &r->conf, .metrics = r->metrics };

		rc = hooks_create(&r->hooks, &hc, &r->worker, o->once,
			on_hooks_changed, r);
		if (rc < 0) {
			log_err("sys", "out of memory");
			goto close;
		}
	}
	rc = startup_feeds(r);
	if (rc < 0)
		goto close;
	if (rules_metrics_configure(conf, r->metrics) < 0) {
		log_err("sys", "out of memory");
		rc = -ENOMEM;
		goto close;
	}
	/* Bound before READY=1: a taken address is a start-up error. */
	rc = metrics_http_configure(r->http, conf, o->once);
	if (rc < 0)
		goto close;
	uv_timer_start(&r->heartbeat, on_heartbeat, 0, 1000);
	uv_unref((uv_handle_t *)&r->heartbeat);

	/* main() blocked SIGHUP until now; one that came meanwhile is
	 * delivered as soon as it is unblocked. */
	uv_signal_start(&r->sig_hup, on_signal, SIGHUP);
	{
		sigset_t hup;
		sigemptyset(&hup);
		sigaddset(&hup, SIGHUP);
		pthread_sigmask(SIG_UNBLOCK, &hup, NULL);
	}
	uv_signal_start(&r->sig_term, on_signal, SIGTERM);
	uv_signal_start(&r->sig_int, on_signal, SIGINT);
	uv_prepare_start(&r->prepare, on_prepare);
	uv_unref((uv_handle_t *)&r->prepare);
	wd = notify_watchdog_usec();
	if (wd)
		uv_timer_start(&r->watchdog, on_watchdog, wd / 2000 ? wd / 2000 : 1,
			wd / 2000 ? wd / 2000 : 1);
	if (!o->once)
		uv_timer_start(&r->cycle, on_cycle, (uint64_t)conf->interval_s * 1000,
			(uint64_t)conf->interval_s * 1000);

	for (struct feed *f = r->feeds; f; f = f->next) {
		if (f->ensured) {
			feed_schedule_initial(f, false, 0);
		} else {
			f->ensure_wanted = true;
			nensure++;
		}
	}
	r->ensure_cursor = r->feeds;
	ensure_pump(r);
	if (nensure)
		log_info("store", "%u new or changed feed%s: recording them in "
			"the background", nensure, nensure == 1 ? "" : "s");
	hooks_configure(r->hooks, conf);
	log_notice("sys", "feedd %s ready: %u feeds%s, database %s%s%s%s",
		FEEDD_VERSION, r->nfeeds, r->nfailing ? " (some failing)" : "",
		conf->database, o->once ? ", polling each once" : "",
		metrics_http_addr(r->http) ? ", metrics on " : "",
		metrics_http_addr(r->http) ? metrics_http_addr(r->http) : "");
	notify_send("READY=1");
	progress_start(r);
	run_status(r);
	run_maybe_finish(r);

	rc = uv_run(&r->loop, UV_RUN_DEFAULT);
	exit_code = FEEDD_EXIT_OK;
	if (o->once)
		log_notice("sys", "once: feeds=%u ok=%u failed=%u not_due=%u "
			"new=%u updated=%u max_loop_stall_ms=%.1f (cpu %.1f)",
			r->once_total - r->once_skipped,
			r->once_total - r->once_skipped - r->once_failed,
			r->once_failed, r->once_skipped,
			r->stats.inserted, r->stats.updated,
			(double)r->stats.max_stall_ns / 1e6,
			(double)r->stats.max_stall_cpu_ns / 1e6);
	else
		log_notice("sys", "stopped: polls=%u new=%u updated=%u failed=%u "
			"max_loop_stall_ms=%.1f (cpu %.1f)", r->stats.polls,
			r->stats.inserted, r->stats.updated, r->stats.failed,
			(double)r->stats.max_stall_ns / 1e6,
			(double)r->stats.max_stall_cpu_ns / 1e6);
	if (o->once && (r->once_failed || hooks_once_failed(r->hooks)))
		exit_code = FEEDD_EXIT_SOME_FAILED;
	if (o->stats)
		print_stats(r);
	goto done;
close:
	/* Start-up failed after the handles were made: close them all. */
	r->stopping = true;
	run_close_all(r);
	uv_run(&r->loop, UV_RUN_DEFAULT);
done:
	if (r->open_handles || r->feeds)
		log_err("sys", "internal error: %u handles, feeds %s left at exit",
			r->open_handles, r->feeds ? "still" : "not");
out:
	if (loop_ok) {
		if (!r->closing && r->fetch) {
			/* fetch_create() worked but nothing else was set up. */
			fetch_destroy(r->fetch);
			r->fetch = NULL;
			uv_run(&r->loop, UV_RUN_DEFAULT);
		}
		rc = uv_loop_close(&r->loop);
		if (rc < 0) {
			log_err("sys", "event loop not empty at exit: %s",
				uv_strerror(rc));
			uv_walk(&r->loop, walk_report, NULL);
			exit_code = FEEDD_EXIT_FATAL;
		}
	}
	/* The HTTP thread reads r->metrics: stopped first. */
	metrics_http_destroy(r->http);
	metrics_destroy(r->metrics);
	hooks_destroy(r->hooks);
	hosts_free(r);
	dueq_cleanup(&r->dueq);
	store_close(r->st);
	conf_free(r->conf);
	free(r);
	return exit_code;
}

