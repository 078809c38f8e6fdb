/*
 * run_sched: when a feed is due, and when a due feed starts. Arming a
 * feed for a wall-clock time, the start-up ramp, a feed's first schedule
 * (feed_schedule_initial(), --once's choices), host slots (feed_due())
 * and the ready queue with its two limits (transfers in flight, polls not
 * yet stored). The next-due computation itself is sched.c's.
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

/* --- the due heap and its timer ---------------------------------------- */

static void on_due_timer(uv_timer_t *t);
static void on_due_idle(uv_idle_t *h);

/* Arm the run's timer for the earliest due feed, unless due_idle is
 * working through a backlog (it re-arms when done). */
static void
due_timer_update(struct run *r)
{
	const struct dueq_node *x = dueq_peek(&r->dueq);
	uint64_t now;

	if (uv_is_active((uv_handle_t *)&r->due_idle))
		return;
	if (!x) {
		uv_timer_stop(&r->due_timer);
		return;
	}
	now = uv_now(&r->loop);
	/* Already armed for exactly this: nothing to do (the common case
	 * of a feed armed later than the earliest). */
	if (uv_is_active((uv_handle_t *)&r->due_timer) &&
	    uv_timer_get_due_in(&r->due_timer) + now == (uint64_t)x->at)
		return;
	uv_timer_start(&r->due_timer, on_due_timer,
		x->at > (int64_t)now ? (uint64_t)x->at - now : 0, 0);
}

static void
on_due(struct dueq_node *x, void *ud)
{
	(void)ud;
	feed_due(container_of(x, struct feed, due));
}

/* One slice of due feeds; the idle handle runs the next slice on the next
 * loop iteration while more are due (an idle handle also keeps the loop
 * from blocking in the poll meanwhile). */
static void
due_dispatch(struct run *r)
{
	const struct dueq_node *x;
	int64_t now = (int64_t)uv_now(&r->loop);

	(void)dueq_run(&r->dueq, now, FEEDD_DUE_SLICE, on_due, NULL);
	x = dueq_peek(&r->dueq);
	if (x && x->at <= now && !r->stopping) {
		uv_timer_stop(&r->due_timer);
		uv_idle_start(&r->due_idle, on_due_idle);
		return;
	}
	uv_idle_stop(&r->due_idle);
	due_timer_update(r);
}

static void
on_due_timer(uv_timer_t *t)
{
	due_dispatch(t->data);
}

static void
on_due_idle(uv_idle_t *h)
{
	due_dispatch(h->data);
}

/* The handles are run_main()'s to close (run_close_all()). */
void
due_init(struct run *r)
{
	dueq_init(&r->dueq);
	uv_timer_init(&r->loop, &r->due_timer);
	uv_idle_init(&r->loop, &r->due_idle);
	r->due_timer.data = r->due_idle.data = r;
}

/* Nothing is due any more (stopping): every feed disarmed. */
void
due_stop(struct run *r)
{
	dueq_clear(&r->dueq);
	uv_timer_stop(&r->due_timer);
	uv_idle_stop(&r->due_idle);
}

/* --- scheduling --------------------------------------------------------- */

void
feed_arm_ms(struct feed *f, uint64_t delay_ms)
{
	struct run *r = f->run;

	if (f->removed || r->stopping)
		return;
	/* A host slot delays a poll that was due before. */
	if (!f->slot_reserved)
		f->due_ms = wall_ms() + (int64_t)delay_ms;
	/* Room was reserved in feed_new(): this cannot fail. */
	(void)dueq_set(&r->dueq, &f->due,
		(int64_t)uv_now(&r->loop) + (int64_t)delay_ms);
	due_timer_update(r);
}

void
feed_disarm(struct feed *f)
{
	dueq_remove(&f->run->dueq, &f->due);
	due_timer_update(f->run);
}

/* Arm f's timer for the wall-clock time at_ms (Unix milliseconds). */
static void
feed_arm_wall_ms(struct feed *f, int64_t at_ms)
{
	int64_t delay = at_ms - wall_ms();

	f->next_due = at_ms / 1000;
	f->slot_reserved = false;
	feed_arm_ms(f, delay > 0 ? (uint64_t)delay : 0);
}

/* Arm f's timer for the Unix time due (seconds). */
void
feed_arm_at(struct feed *f, int64_t due)
{
	feed_arm_wall_ms(f, due * 1000);
}

/*
 * The start-up ramp: the next slot for a never-fetched feed, as wall ms.
 * New feeds take slots start-ramp per second in the order they come, so a
 * first start with 100,000 feeds spreads their first fetches over
 * 100,000 / start-ramp seconds, never over their intervals; the connection
 * caps still hold on top of that.
 */
int64_t
ramp_slot_ms(struct run *r)
{
	int64_t now_us = wall_ms() * 1000;
	unsigned rate = r->conf->start_ramp ? r->conf->start_ramp : 50;
	int64_t step = 1000000 / (int64_t)rate;
	int64_t slot;

	if (step < 1)
		step = 1;
	if (r->ramp_next_us < now_us)
		r->ramp_next_us = now_us;
	slot = r->ramp_next_us;
	r->ramp_next_us += step;
	return slot / 1000;
}

static bool
once_named(const struct run *r, const char *name)
{
	for (size_t i = 0; i < r->opts->once_nfeeds; i++)
		if (strcmp(r->opts->once_feeds[i], name) == 0)
			return true;
	return false;
}

/* --once: a feed it does not poll (not due, or not named). */
static void
once_skip(struct feed *f, const char *why)
{
	struct run *r = f->run;
	char b[64];

	if (f->once_counted)
		return;
	if (f->next_due > 0) {
		time_t t = (time_t)f->next_due;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", &tm);
	} else {
		snprintf(b, sizeof(b), "-");
	}
	log_info("sched", "feed=%s not polled: %s (next due %s)", f->name, why,
		b);
	f->once_counted = true;
	r->once_done++;
	r->once_skipped++;
}

/* Where a feed goes after start-up or (re-)ensuring. first_due_ms is the
 * ramp slot reserved for it when it was ensured (0: none). */
void
feed_schedule_initial(struct feed *f, bool prompt, int64_t first_due_ms)
{
	struct run *r = f->run;
	char ubuf[1024];

	if (r->opts->once && r->opts->once_nfeeds && !once_named(r, f->name)) {
		once_skip(f, "not named by --feed");
		return;
	}
	if (f->gone && !(r->opts->once && (r->opts->once_all ||
	    r->opts->once_nfeeds))) {
		log_notice("sched", "feed=%s url=%s is gone (HTTP 410); not polling "
			"until its URL changes in the config", f->name,
			log_url(feed_url(f), ubuf, sizeof(ubuf)));
		if (r->opts->once) {
			r->stats.failed++;
			once_count(f, true);
		}
		return;
	}
	if (r->opts->once) {
		/* Due, never fetched, or asked for by --all / --feed: now.
		 * Otherwise its stored schedule (interval, back-off,
		 * Retry-After) says not yet, and cron must not override it. */
		if (r->opts->once_all || r->opts->once_nfeeds ||
		    f->never_fetched || f->next_due <= 0 ||
		    f->next_due * 1000 <= wall_ms())
			feed_arm_ms(f, 0);
		else
			once_skip(f, "not due");
	} else if (first_due_ms > 0 && f->next_due == first_due_ms / 1000) {
		/* A new feed: its ramp slot, to the millisecond. */
		feed_arm_wall_ms(f, first_due_ms);
	} else if (prompt || f->next_due <= 0) {
		feed_arm_wall_ms(f, ramp_slot_ms(r));
	} else {
		feed_arm_at(f, f->next_due);
	}
}

/*
 * A poll or job of f just ended without scheduling the next poll: a stale
 * result (the URL changed meanwhile) or a cancelled transfer. If f is idle
 * and has no timer, its timer fired while it was busy (feed_due() ignores
 * a busy feed) and the poll it asked for must not be lost: it is due now.
 */
void
feed_resume_if_idle(struct feed *f)
{
	struct run *r = f->run;

	if (f->removed || r->stopping || r->opts->once || f->gone ||
	    f->fetching || f->jobs || f->queued || dueq_queued(&f->due))
		return;
	f->slot_reserved = false;
	feed_arm_ms(f, 0);
}
/*
 * Due feeds wait in a FIFO and start while fewer than twice max-connections
 * transfers are in flight. So the loop never starts hundreds of transfers
 * in one iteration (after a restart, or with --once, everything is due at
 * once), and fetch/'s own queue stays short.
 */
static unsigned
start_limit(const struct run *r)
{
	unsigned n = r->conf->max_connections ? r->conf->max_connections : 32;

	return n * 2;
}

/*
 * Polls fetched but not yet stored (parsing, or waiting for the writer)
 * hold their body and parsed entries in memory. When the writer falls
 * behind (a first cycle of 100,000 feeds inserts 2 million articles; a
 * database locked by another process), new polls wait here instead of
 * piling up: at 100,000 feeds an unbounded backlog reached 1 GiB of RSS.
 * Four times the transfers in flight keeps the writer's groups full
 * (up to 64 jobs each) and the parse threads busy.
 */
unsigned
backlog_limit(const struct run *r)
{
	return start_limit(r) * 4;
}

void
run_pump(struct run *r)
{
	while (r->ready && !r->stopping && r->nfetching < start_limit(r) &&
		r->nfetching + r->npolljobs < backlog_limit(r)) {
		struct feed *f = r->ready;

		r->ready = f->ready_next;
		if (!r->ready)
			r->ready_tail = NULL;
		f->ready_next = NULL;
		f->queued = false;
		if (f->removed || f->fetching || f->jobs) {
			feed_maybe_free(f);
			continue;
		}
		feed_poll(f);
	}
}

/* Drop every queued feed (shutdown). */
void
ready_clear(struct run *r)
{
	while (r->ready) {
		struct feed *f = r->ready;

		r->ready = f->ready_next;
		f->ready_next = NULL;
		f->queued = false;
		once_count(f, true);
		feed_maybe_free(f);
	}
	r->ready_tail = NULL;
}

static void
feed_enqueue(struct feed *f)
{
	struct run *r = f->run;

	if (f->queued)
		return;
	f->queued = true;
	if (r->ready_tail)
		r->ready_tail->ready_next = f;
	else
		r->ready = f;
	r->ready_tail = f;
	run_pump(r);
}

/* The feed's timer fired. */
void
feed_due(struct feed *f)
{
	struct run *r = f->run;

	if (r->stopping || f->removed || f->fetching || f->jobs)
		return;
	if (!f->ensured) {
		feed_ensure(f, true);
		return;
	}
	if (f->gone)
		return;
	/* A first fetch is paced by the start-up ramp and the connection
	 * caps alone: spacing 10,000 new feeds on one host by
	 * interval / feeds would spread them over the interval again. */
	if (!r->opts->once && !f->slot_reserved && !f->never_fetched) {
		uint64_t now = uv_now(&r->loop);
		uint64_t slot = f->host->next_slot_ms > now ?
			f->host->next_slot_ms : now;

		f->host->next_slot_ms = slot + host_spacing_ms(f->host,
			f->cf->interval_s);
		if (slot > now) {
			f->slot_reserved = true;
			feed_arm_ms(f, slot - now);
			return;
		}
	}
	f->slot_reserved = false;
	feed_enqueue(f);
}

