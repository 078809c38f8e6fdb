/*
 * run_int: what the files of the running daemon share, and nothing else
 * includes. struct run (the loop and everything it owns), struct feed,
 * struct host and struct job, and the functions one file of run_*.c calls
 * in another. run.h is the public side (run_main()).
 *
 * Who owns what (all on the loop thread but job_work() and parse_work()):
 *   run.c          the loop, its run-level handles, status, stall
 *                  measurement, the watchdog, metrics heartbeat, stopping,
 *                  signals and run_main()
 *   run_feed.c     struct feed: create, remember stored state, remove, free;
 *                  small URL and string helpers
 *   run_host.c     the host table: lookup by URL host, per-host spacing
 *   run_sched.c    when a feed is due: arming, the start-up ramp, host
 *                  slots, the ready queue and its limits
 *   run_poll.c     one poll: store jobs (ensure, poll, disable), fetch ->
 *                  parse on the pool -> store job -> apply the outcome
 *   run_reload.c   SIGHUP: diffing the new config against the feeds
 *   run_startup.c  start-up: reading every stored feed once before READY=1
 */
#ifndef FEEDD_DAEMON_RUN_INT_H
#define FEEDD_DAEMON_RUN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "conf.h"
#include "dueq.h"
#include "fetch.h"
#include "metrics.h"
#include "run.h"
#include "store.h"
#include "worker.h"

struct batch;
struct hooks;
struct metrics_http;
struct parse;
struct rules_tally;

#define HOST_BUCKETS 1024
/* Ensure jobs in flight during start-up registration, far fewer than the
 * feeds (about 5 MiB of jobs). They share the writer's queue with the
 * ramp's poll jobs (up to backlog_limit(), about a second of the writer's
 * work), so the bound must register several times the start-ramp per
 * queue turn: at 256, 100,000 new feeds on one nginx were registered at
 * under 100 a second and their first polls paced by that, not the ramp. */
#define FEEDD_ENSURE_INFLIGHT 4096
/* Due feeds dispatched per loop iteration, at most: 100,000 feeds due at
 * once (a restart after downtime) take about 100 iterations, each short,
 * instead of one that stalls the loop. */
#define FEEDD_DUE_SLICE 1024
#define HOST_SPACING_MS 1000      /* at most this between starts on a host */
#define ENSURE_RETRY_MS 60000     /* a failed store_feed_ensure on reload */
/* Entries stored from one document. parse/ allows more (feedctl parse), but
 * the daemon stores one refresh as one store job, and a 100,000-entry
 * document would hold every other feed's refresh back for seconds. A real
 * feed this long is pathological; the feed is flagged as capped. */
#define FEEDD_DAEMON_MAX_ENTRIES 10000
/* How much lower parse threads run than the loop and the writer (nice
 * steps; parse_thread_priority()). */
#define FEEDD_PARSE_NICE 10

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

struct host {
	struct host *next;        /* bucket chain */
	uint64_t next_slot_ms;    /* uv_now() of the next free start slot */
	unsigned nfeeds;          /* active feeds polling this host */
	char name[];
};

/* Feed-level polling hints, remembered from the last parsed document so a
 * 304 keeps honouring them. */
struct hints {
	int ttl_minutes;
	uint32_t skip_hours;
	uint8_t skip_days;
	int64_t update_period_s;
};

struct feed {
	struct feed *prev, *next;     /* run->feeds */
	struct run *run;              /* borrowed */
	const struct conf_feed *cf;   /* borrowed from run->conf; NULL once removed */
	char *name;                   /* owned copy: logs after removal */
	struct host *host;            /* borrowed from run->hosts */
	int64_t id;                   /* store id; 0 until ensured */
	struct dueq_node due;         /* in run->dueq while armed */
	bool released;                /* removed and let go: freed once idle */
	bool removed;                 /* no longer configured (or shutting down) */
	bool ensured;
	bool ensure_failing;          /* the last store_feed_ensure failed */
	bool ensure_wanted;           /* start-up: waiting for ensure_pump() */
	bool url_changed;             /* at start-up: not the stored URL */
	bool capped;                  /* the last document hit a parse cap */
	bool slot_reserved;           /* the armed timer is a host slot */
	bool once_counted;
	int64_t fetch_start_ms;       /* wall ms the transfer started (progress) */
	char *last_warning;           /* owned; the last document's recovered
	                               * errors, logged at warning when new */
	bool never_fetched;           /* no poll stored yet: the ramp, not the
	                               * host spacing, paces its first fetch */
	bool queued;                  /* on run->ready, waiting for a slot */
	struct feed *ready_next;
	unsigned generation;          /* bumped when the URL changes */
	int64_t due_ms;               /* wall ms the poll was due (schedule lag) */
	enum metrics_error poll_error; /* why the poll in progress failed */

	/* The poll in progress. */
	struct fetch_req *req;        /* borrowed handle, valid while fetching */
	bool fetching;
	char *body;                   /* owned; the body as it arrives */
	size_t body_len, body_cap;
	char *attempt_url;            /* owned; the base URL for the parser */
	int64_t attempt;              /* Unix seconds the poll started */
	unsigned jobs;                /* store jobs in flight for this feed */

	/* Remembered across polls (and restarts, through the store). */
	char *url_in_use;             /* owned; NULL = the configured URL */
	char *etag, *last_modified, *body_hash; /* owned; NULL = none */
	int failures;
	bool gone;
	bool failing;                 /* counted in run->nfailing */
	char *last_cause;             /* owned; to spot identical repeats */
	struct hints hints;
	int64_t next_due;             /* Unix seconds; 0 = not scheduled */
};

struct run_stats {
	unsigned polls, ok, not_modified, unchanged, failed;
	unsigned inserted, updated;
	uint64_t max_stall_ns;         /* wall clock */
	uint64_t max_stall_cpu_ns;     /* the loop thread's own CPU time */
};

struct run {
	uv_loop_t loop;               /* private, never the default loop */
	struct conf *conf;            /* owned */
	struct store *st;             /* owned; used only through worker */
	struct fetch *fetch;          /* owned */
	struct worker worker;
	struct hooks *hooks;          /* owned */
	const struct run_opts *opts;  /* borrowed */
	struct feed *feeds;           /* owned list */
	struct feed *ready, *ready_tail; /* due feeds waiting to start (FIFO) */
	struct host *hosts[HOST_BUCKETS]; /* owned */
	/* When each armed feed is due (uv_now() ms), under one timer; due
	 * feeds are handed out at most FEEDD_DUE_SLICE per loop iteration,
	 * the rest on the next ones (due_idle). */
	struct dueq dueq;
	uv_timer_t due_timer;
	uv_idle_t due_idle;

	uv_signal_t sig_hup, sig_term, sig_int;
	uv_timer_t watchdog, grace, cycle;
	uv_timer_t finish;            /* closes everything, outside callbacks */
	uv_prepare_t prepare;
	unsigned open_handles;        /* run-level handles not yet closed */

	bool stopping, closing, cancelled_all;
	unsigned nfetching;
	unsigned nparsing;            /* parse jobs on the threadpool */
	unsigned npolljobs;           /* polls fetched and not yet stored:
	                               * parsing or waiting for the writer */
	unsigned max_npolljobs;       /* its peak (--stats) */
	unsigned nfeeds;              /* active (not removed) */
	unsigned nfailing;
	unsigned once_total, once_done, once_failed, once_skipped;
	/* The start-up ramp: the next free slot for a never-fetched feed, in
	 * wall-clock microseconds (start-ramp slots per second). */
	int64_t ramp_next_us;
	/* --once progress on a TTY. */
	uv_timer_t progress;
	bool progress_on, progress_shown;
	uint64_t signal_ns;           /* time spent in signal callbacks this iteration */
	bool signal_seen;

	/* Loop stall measurement: time between two prepare callbacks minus
	 * the time spent blocked in the poll (uv_metrics_idle_time). That
	 * wall-clock figure includes time the OS ran other processes, so the
	 * loop thread's CPU time per iteration is kept too: a large wall
	 * figure with a small CPU one is a busy machine, not our code. */
	uint64_t last_prepare_ns, last_idle_ns, last_cpu_ns;
	uint64_t cycle_max_stall_ns;

	unsigned cycle_inserted, last_cycle_inserted;
	uint64_t start_ns;
	struct run_stats stats;
	int exit_code;

	/* Metrics (metrics.h): updated here, served by http's thread. */
	struct metrics *metrics;      /* owned */
	struct metrics_http *http;    /* owned */
	uv_timer_t heartbeat;         /* 1 s: health, feeds by status */
	struct feed *status_cursor;   /* where the feed status count is */

	/* Start-up registration: new or changed feeds are ensured at most
	 * FEEDD_ENSURE_INFLIGHT at a time, walking the feed list from here
	 * (a job each is over 1 KiB: 100,000 at once were 110 MiB). */
	struct feed *ensure_cursor;
	unsigned nensuring;           /* JOB_ENSURE jobs in flight */
	bool trimmed;                 /* malloc_trim() after registration */
	uint64_t status_count[METRICS_FEED__N];
};

enum outcome {
	OUT_OK,            /* 2xx and parsed: a refresh transaction */
	OUT_NOT_MODIFIED,  /* 304 */
	OUT_UNCHANGED,     /* 2xx with the same body hash as last time */
	OUT_FAIL,
	OUT_GONE,          /* 410 */
};

enum job_kind { JOB_ENSURE, JOB_POLL, JOB_DISABLE };

struct job {
	struct worker_job wj;         /* first: container_of */
	struct run *run;              /* borrowed */
	struct feed *feed;            /* borrowed; kept alive by feed->jobs */
	enum job_kind kind;
	unsigned generation;
	int64_t feed_id;              /* copied: the worker never reads feed */

	/* JOB_ENSURE */
	struct store_feed_conf sconf; /* strings owned (ens_*) */
	char *ens_name, *ens_url, *ens_tags, *ens_title, *ens_site;
	bool prompt;                  /* schedule soon after ensuring */
	int64_t first_due_ms;         /* its ramp slot, if it has no schedule */
	struct store_feed_state state;

	/* JOB_POLL, parse stage (threadpool, before the store stage) */
	uv_work_t parse_req;
	char *body;                   /* owned until parsed */
	size_t body_len;
	char *base_url, *charset;     /* owned */
	struct parse *parser;         /* owned; created on the pool thread */
	int parse_rc;
	char *r_etag, *r_last_modified, *r_redirect, *r_body_hash; /* owned */
	int r_http_status;
	int64_t r_retry_after_s, r_max_age_s, r_expires_at;

	/* JOB_POLL */
	enum outcome out;
	struct batch *batch;          /* owned; OUT_OK only */
	struct rules_tally *tally;    /* owned; NULL = no rule applies */
	struct store_feed_result res; /* strings point to the owned copies */
	char *cause, *etag, *last_modified, *url_in_use, *body_hash;
	char *url_in_use_pub;         /* url_in_use without user:password@ */
	char *title, *site_link;
	char *warning;                /* owned; the parser's recovered errors */
	int fail_failures;            /* failures if the store step fails */
	int64_t fail_next_due;
	bool redirected, truncated, malformed;
	size_t nentries;

	/* Results from the worker. */
	int rc;
	char errmsg[256];
	struct store_refresh_stats stats;
};


/* run.c */
void run_status(struct run *r);
void on_cycle(uv_timer_t *t);
void run_maybe_finish(struct run *r);

/* run_feed.c */
int64_t wall_ms(void);
uint32_t fnv1a(const char *s);
int remember(char **dst, const char *src);
const char *feed_url(const struct feed *f);
char *url_public(const char *url);
int64_t cache_max_age(const char *cc);
int64_t http_date(const char *s);
char *url_host(const char *url);
void feed_set_failing(struct feed *f, bool failing);
void poll_cleanup(struct feed *f);
void feed_maybe_free(struct feed *f);
struct feed *feed_new(struct run *r, const struct conf_feed *cf);
void feed_remove(struct feed *f, const struct conf_feed *disabled);
int feed_load_state(struct feed *f, const struct store_feed_state *s);

/* run_host.c */
struct host *host_get(struct run *r, const char *url);
void hosts_free(struct run *r);
uint64_t host_spacing_ms(const struct host *h, int64_t interval_s);

/* run_poll.c */
void job_free(struct job *j);
struct job *job_new(struct feed *f, enum job_kind kind);
void job_submit(struct job *j);
void feed_ensure(struct feed *f, bool prompt);
void ensure_pump(struct run *r);
void once_count(struct feed *f, bool failed);
void feed_poll(struct feed *f);

/* run_reload.c */
const struct conf_feed ** conf_index(const struct conf *c);
const struct conf_feed *conf_index_find(const struct conf *c,
	const struct conf_feed **idx, const char *name);
bool str_differs(const char *a, const char *b);
void run_reload(struct run *r);

/* run_sched.c */
void feed_arm_ms(struct feed *f, uint64_t delay_ms);
void feed_disarm(struct feed *f);
void due_init(struct run *r);
void due_stop(struct run *r);
void feed_arm_at(struct feed *f, int64_t due);
int64_t ramp_slot_ms(struct run *r);
void feed_schedule_initial(struct feed *f, bool prompt, int64_t first_due_ms);
void feed_resume_if_idle(struct feed *f);
unsigned backlog_limit(const struct run *r);
void run_pump(struct run *r);
void ready_clear(struct run *r);
void feed_due(struct feed *f);

/* run_startup.c */
int startup_feeds(struct run *r);

#endif
