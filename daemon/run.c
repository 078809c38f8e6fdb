/*
 * run: the running daemon. See run.h for the scheduling rules.
 *
 * Threads: everything here runs on the loop thread except parse_work(),
 * which runs on the libuv threadpool (at a lower priority), and
 * job_work(), which runs on the store worker's own thread (worker.h); both
 * touch only their own job (and job_work the store, one job at a time).
 * A poll goes
 *
 *   timer -> feed_due(): host spacing -> ready queue -> feed_poll()
 *         -> fetch_start() -> on_data(): collect the body
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
 * Ownership: struct run owns the conf, the store, the fetch object and the
 * feeds; a feed owns its timer (embedded, so the feed is freed only in the
 * timer's close callback, and only when no transfer or job refers to it),
 * its body while a transfer is running, and copies of its remembered
 * validators. A job owns everything it carries to the threadpool.
 */
#include "run.h"

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

#define HOST_BUCKETS 1024
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
	uv_timer_t timer;             /* embedded: feed freed in its close cb */
	bool timer_closing, timer_closed;
	bool removed;                 /* no longer configured (or shutting down) */
	bool ensured;
	bool ensure_failing;          /* the last store_feed_ensure failed */
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

static void feed_due(struct feed *f);
static void run_pump(struct run *r);
static void once_count(struct feed *f, bool failed);
static void run_maybe_finish(struct run *r);
static void run_status(struct run *r);

/* --- small helpers ------------------------------------------------------ */

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t
fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Replace *dst with a copy of src (when src is not NULL). -ENOMEM keeps *dst. */
static int
remember(char **dst, const char *src)
{
	char *c;

	if (!src)
		return 0;
	c = strdup(src);
	if (!c)
		return -ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

static const char *
feed_url(const struct feed *f)
{
	if (f->url_in_use)
		return f->url_in_use;
	return f->cf ? f->cf->url : "(removed)";
}

/*
 * url without its "user:password@" part, malloc'd (NULL on ENOMEM). The
 * database is readable by other programs, so it gets this form; fetches
 * use the configured URL. Credentials belong in username=/password=.
 */
static char *
url_public(const char *url)
{
	const char *auth = strstr(url, "://"), *end, *at = NULL;
	char *out;

	if (!auth)
		return strdup(url);
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	if (!at)
		return strdup(url);
	out = malloc(strlen(url) + 1);
	if (!out)
		return NULL;
	memcpy(out, url, (size_t)(auth - url));
	strcpy(out + (auth - url), at + 1);
	return out;
}

/* Cache-Control max-age in seconds, -1 when absent. no-store/no-cache give
 * no hint at all (they say nothing about how often to poll). */
static int64_t
cache_max_age(const char *cc)
{
	const char *p = cc;

	if (!cc)
		return -1;
	while ((p = strcasestr(p, "max-age")) != NULL) {
		bool boundary = p == cc || p[-1] == ' ' || p[-1] == ',' ||
			p[-1] == '\t';
		const char *v = p + 7;

		p += 7;
		if (!boundary)
			continue;
		while (*v == ' ')
			v++;
		if (*v != '=')
			continue;
		v++;
		while (*v == ' ' || *v == '"')
			v++;
		if (*v >= '0' && *v <= '9') {
			char *end;
			long long n = strtoll(v, &end, 10);

			return n < 0 ? -1 : (int64_t)n;
		}
	}
	return -1;
}

static int64_t
http_date(const char *s)
{
	time_t t;

	if (!s || !*s)
		return 0;
	t = curl_getdate(s, NULL);
	return t > 0 ? (int64_t)t : 0;
}

/* The lower-cased host name of url, or "" when it has none. */
static char *
url_host(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL, *out;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK)
		curl_url_get(u, CURLUPART_HOST, &host, 0);
	out = strdup(host ? host : "");
	curl_free(host);
	curl_url_cleanup(u);
	if (out)
		for (char *p = out; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
	return out;
}

/*
 * *dst = a copy of url (a stored url_in_use, which never holds
 * credentials) with the user:password@ of conf_url put back when both
 * name the same host, as libcurl itself keeps them on a same-host
 * redirect. 0 or -ENOMEM (*dst kept).
 */
static int
url_add_userinfo(char **dst, const char *url, const char *conf_url)
{
	const char *auth = strstr(conf_url, "://"), *at = NULL, *end, *sep;
	char *h1 = NULL, *h2 = NULL, *out = NULL;
	int rc = 0;

	if (auth) {
		auth += 3;
		end = auth + strcspn(auth, "/?#");
		for (const char *p = auth; p < end; p++)
			if (*p == '@')
				at = p;
	}
	sep = strstr(url, "://");
	if (!at || !sep || memchr(sep + 3, '@', strcspn(sep + 3, "/?#")))
		return remember(dst, url);
	h1 = url_host(conf_url);
	h2 = url_host(url);
	if (!h1 || !h2) {
		rc = -ENOMEM;
		goto out;
	}
	if (strcmp(h1, h2) != 0) {
		rc = remember(dst, url);
		goto out;
	}
	sep += 3;
	/* scheme://  userinfo@  rest */
	out = malloc(strlen(url) + (size_t)(at + 1 - auth) + 1);
	if (!out) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(out, url, (size_t)(sep - url));
	memcpy(out + (sep - url), auth, (size_t)(at + 1 - auth));
	strcpy(out + (sep - url) + (at + 1 - auth), sep);
	free(*dst);
	*dst = out;
out:
	free(h1);
	free(h2);
	return rc;
}

/* --- hosts -------------------------------------------------------------- */

static struct host *
host_get(struct run *r, const char *url)
{
	char *name = url_host(url);
	struct host *h = NULL;
	uint32_t b;
	size_t len;

	if (!name)
		return NULL;
	b = fnv1a(name) % HOST_BUCKETS;
	for (h = r->hosts[b]; h; h = h->next)
		if (strcmp(h->name, name) == 0)
			goto out;
	len = strlen(name);
	h = calloc(1, sizeof(*h) + len + 1);
	if (!h)
		goto out;
	memcpy(h->name, name, len + 1);
	h->next = r->hosts[b];
	r->hosts[b] = h;
out:
	free(name);
	return h;
}

static void
hosts_free(struct run *r)
{
	for (size_t i = 0; i < HOST_BUCKETS; i++) {
		struct host *h = r->hosts[i], *next;

		for (; h; h = next) {
			next = h->next;
			free(h);
		}
		r->hosts[i] = NULL;
	}
}

/* The spacing rule of run.h: min(1 s, interval / feeds on the host). */
static uint64_t
host_spacing_ms(const struct host *h, int64_t interval_s)
{
	uint64_t per = h->nfeeds ? (uint64_t)interval_s * 1000 / h->nfeeds :
		HOST_SPACING_MS;

	return per < HOST_SPACING_MS ? per : HOST_SPACING_MS;
}

/* --- feed lifecycle ----------------------------------------------------- */

static void
feed_set_failing(struct feed *f, bool failing)
{
	if (f->failing == failing)
		return;
	f->failing = failing;
	if (failing)
		f->run->nfailing++;
	else
		f->run->nfailing--;
}

static void
poll_cleanup(struct feed *f)
{
	free(f->body);
	f->body = NULL;
	f->body_len = f->body_cap = 0;
	free(f->attempt_url);
	f->attempt_url = NULL;
}

static void
feed_free(struct feed *f)
{
	struct run *r = f->run;

	if (f->prev)
		f->prev->next = f->next;
	else
		r->feeds = f->next;
	if (f->next)
		f->next->prev = f->prev;
	if (r->status_cursor == f)
		r->status_cursor = f->next;
	poll_cleanup(f);
	free(f->name);
	free(f->url_in_use);
	free(f->etag);
	free(f->last_modified);
	free(f->body_hash);
	free(f->last_cause);
	free(f->last_warning);
	free(f);
}

/* A removed feed goes once its timer is closed and nothing refers to it. */
static void
feed_maybe_free(struct feed *f)
{
	if (f->removed && f->timer_closed && !f->fetching && f->jobs == 0 &&
	    !f->queued)
		feed_free(f);
}

static void
on_feed_timer_close(uv_handle_t *h)
{
	struct feed *f = container_of((uv_timer_t *)h, struct feed, timer);

	f->timer_closed = true;
	feed_maybe_free(f);
}

static void
feed_close_timer(struct feed *f)
{
	if (f->timer_closing)
		return;
	f->timer_closing = true;
	uv_timer_stop(&f->timer);
	uv_close((uv_handle_t *)&f->timer, on_feed_timer_close);
}

static void
on_feed_timer(uv_timer_t *t)
{
	feed_due(container_of(t, struct feed, timer));
}

static struct feed *
feed_new(struct run *r, const struct conf_feed *cf)
{
	struct feed *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->name = strdup(cf->name);
	f->host = host_get(r, cf->url);
	if (!f->name || !f->host) {
		free(f->name);
		free(f);
		return NULL;
	}
	f->run = r;
	f->cf = cf;
	f->hints.ttl_minutes = -1;
	uv_timer_init(&r->loop, &f->timer);
	f->next = r->feeds;
	if (r->feeds)
		r->feeds->prev = f;
	r->feeds = f;
	f->host->nfeeds++;
	r->nfeeds++;
	return f;
}

static void job_submit(struct job *j);
static struct job *job_new(struct feed *f, enum job_kind kind);
static void job_free(struct job *j);
static bool str_differs(const char *a, const char *b);

/* Stop polling f (removed or disabled in the config). Its articles stay
 * in the store, which marks it inactive. */
static void
feed_remove(struct feed *f, const struct conf_feed *disabled)
{
	struct run *r = f->run;
	struct job *j;

	if (f->removed)
		return;
	/* Also while an ensure is still queued (f->jobs): it will mark the
	 * row active, and this job, queued after it, must undo that. With
	 * disabled (enabled=no in the new config), the row is updated to
	 * say so (status "disabled") instead of "removed". */
	j = f->ensured || f->jobs ? job_new(f, JOB_DISABLE) : NULL;
	if (j) {
		bool ok = (j->ens_name = strdup(f->name)) != NULL;

		if (ok && disabled) {
			ok = (j->ens_url = url_public(disabled->url)) != NULL &&
				(!disabled->tags ||
				 (j->ens_tags = strdup(disabled->tags))) &&
				(!disabled->title ||
				 (j->ens_title = strdup(disabled->title))) &&
				(!disabled->site ||
				 (j->ens_site = strdup(disabled->site)));
			j->sconf = (struct store_feed_conf){
				.name = j->ens_name,
				.url = j->ens_url,
				.keep_days = disabled->keep_days,
				.keep_count = disabled->keep_count,
				.tags = j->ens_tags,
				.title = j->ens_title,
				.site = j->ens_site,
				.disabled = true,
			};
		}
		if (ok)
			job_submit(j);
		else
			job_free(j);
	}
	f->removed = true;
	f->cf = NULL;
	f->host->nfeeds--;
	r->nfeeds--;
	feed_set_failing(f, false);
	/* Close first: a cancel may call on_done at once, which must not
	 * free the feed while we are still here. */
	feed_close_timer(f);
	if (f->fetching)
		fetch_req_cancel(f->req);
	feed_maybe_free(f);
}

/* Load what the store remembers about f. */
static int
feed_load_state(struct feed *f, const struct store_feed_state *s)
{
	int rc = 0;

	f->id = s->id;
	free(f->url_in_use);
	f->url_in_use = NULL;
	free(f->etag);
	f->etag = NULL;
	free(f->last_modified);
	f->last_modified = NULL;
	free(f->body_hash);
	f->body_hash = NULL;
	/* A url_in_use equal to the configured URL is no redirect. */
	if (s->url_in_use && f->cf) {
		char *pub = url_public(f->cf->url);

		if (!pub)
			rc = -ENOMEM;
		else if (strcmp(s->url_in_use, pub) != 0)
			rc |= url_add_userinfo(&f->url_in_use, s->url_in_use,
				f->cf->url);
		free(pub);
	}
	rc |= remember(&f->etag, s->etag);
	rc |= remember(&f->last_modified, s->last_modified);
	rc |= remember(&f->body_hash, s->body_hash);
	f->failures = s->failures;
	f->gone = s->gone;
	f->next_due = s->next_due;
	f->never_fetched = s->last_attempt == 0;
	feed_set_failing(f, f->failures > 0 || f->gone);
	f->ensured = true;
	return rc < 0 ? -ENOMEM : 0;
}

/* --- scheduling --------------------------------------------------------- */

static void
feed_arm_ms(struct feed *f, uint64_t delay_ms)
{
	if (f->removed || f->run->stopping)
		return;
	/* A host slot delays a poll that was due before. */
	if (!f->slot_reserved)
		f->due_ms = wall_ms() + (int64_t)delay_ms;
	uv_timer_start(&f->timer, on_feed_timer, delay_ms, 0);
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
static void
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
static int64_t
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
static void
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

/* --- store jobs --------------------------------------------------------- */

static void
job_free(struct job *j)
{
	if (!j)
		return;
	if (j->kind == JOB_POLL)
		j->run->npolljobs--;
	batch_destroy(j->batch);
	rules_tally_destroy(j->tally);
	free(j->body);
	free(j->base_url);
	free(j->charset);
	parse_destroy(j->parser);
	free(j->r_etag);
	free(j->r_last_modified);
	free(j->r_redirect);
	free(j->r_body_hash);
	free(j->ens_name);
	free(j->ens_url);
	free(j->ens_tags);
	free(j->ens_title);
	free(j->ens_site);
	free(j->warning);
	store_feed_state_cleanup(&j->state);
	free(j->cause);
	free(j->etag);
	free(j->last_modified);
	free(j->url_in_use);
	free(j->url_in_use_pub);
	free(j->body_hash);
	free(j->title);
	free(j->site_link);
	free(j);
}

static void
errmsg_set(struct job *j, const char *what, int rc, struct store *st)
{
	snprintf(j->errmsg, sizeof(j->errmsg), "store: %s: %s (%s)", what,
		strerror(-rc), store_errmsg(st));
}

/* Threadpool: the only code here that touches the store after start-up. */
static void
job_work(struct worker_job *wj, struct store *st)
{
	struct job *j = container_of(wj, struct job, wj);
	struct store_refresh *rf = NULL;
	int rc = 0;

	/* The worker runs a job again, alone, when the group it ran in
	 * could not be committed: start from clean results. */
	j->rc = 0;
	j->errmsg[0] = '\0';
	j->stats = (struct store_refresh_stats){ 0 };
	store_feed_state_cleanup(&j->state);
	if (j->kind == JOB_ENSURE) {
		rc = store_feed_ensure(st, &j->sconf, &j->state.id);
		if (rc < 0) {
			errmsg_set(j, "ensure", rc, st);
			goto out;
		}
		rc = store_feed_get(st, j->sconf.name, &j->state);
		if (rc < 0) {
			errmsg_set(j, "get", rc, st);
			goto out;
		}
		/* A feed never scheduled (or whose URL changed) keeps its ramp
		 * slot in the store: feedctl feeds shows it, and a restart
		 * before it comes round resumes it instead of starting the
		 * ramp over (frequent restarts must not starve the last
		 * feeds of a long ramp). */
		if (j->first_due_ms > 0 && (j->prompt || j->state.next_due <= 0)) {
			rc = store_feed_set_due(st, j->state.id,
				j->first_due_ms / 1000);
			if (rc < 0) {
				errmsg_set(j, "set due", rc, st);
				goto out;
			}
			j->state.next_due = j->first_due_ms / 1000;
		}
		goto out;
	}
	if (j->kind == JOB_DISABLE) {
		rc = j->sconf.disabled ? store_feed_ensure(st, &j->sconf, NULL) :
			store_feed_disable(st, j->ens_name);
		if (rc < 0)
			errmsg_set(j, "disable", rc, st);
		goto out;
	}
	if (j->out != OUT_OK) {
		rc = store_feed_record(st, j->feed_id, &j->res);
		if (rc < 0)
			errmsg_set(j, "record", rc, st);
		goto out;
	}
	rc = store_refresh_begin(st, j->feed_id, &rf);
	if (rc < 0) {
		errmsg_set(j, "begin", rc, st);
		goto failed;
	}
	/* The whole document first, so a repost listed before its original
	 * is not taken for it (store_refresh_expect()). */
	for (size_t i = 0; i < batch_count(j->batch); i++) {
		rc = store_refresh_expect(rf, batch_article(j->batch, i));
		if (rc < 0) {
			errmsg_set(j, "put", rc, st);
			store_refresh_abort(rf);
			goto failed;
		}
	}
	rules_tally_reset(j->tally);
	for (size_t i = 0; i < batch_count(j->batch); i++) {
		struct store_article a = *batch_article(j->batch, i);
		enum store_put_outcome oc;

		a.block_new = rules_tally_blocks(j->tally, i);
		rc = store_refresh_put(rf, &a, &oc, NULL);
		if (rc < 0) {
			errmsg_set(j, "put", rc, st);
			store_refresh_abort(rf);
			goto failed;
		}
		rules_tally_count(j->tally, i, oc);
	}
	rc = rules_tally_store(j->tally, rf);
	if (rc < 0) {
		errmsg_set(j, "rule counts", rc, st);
		store_refresh_abort(rf);
		goto failed;
	}
	/* commit frees rf whatever happens and rolls back on failure. */
	rc = store_refresh_commit(rf, &j->res, &j->stats);
	if (rc < 0) {
		errmsg_set(j, "commit", rc, st);
		goto failed;
	}
	goto out;
failed:
	/* Nothing of the refresh is stored; record the poll as failed so
	 * `feedctl feeds` shows why. If even that fails, the feed keeps its
	 * previous state and is retried at the failure schedule. */
	{
		struct store_feed_result fr = {
			.attempt = j->res.attempt,
			.ok = false,
			.http_status = j->res.http_status,
			.error = j->errmsg,
			.next_due = j->fail_next_due,
			.failures = j->fail_failures,
		};
		(void)store_feed_record(st, j->feed_id, &fr);
	}
out:
	j->rc = rc;
}

static void job_done(struct worker_job *wj);

static struct job *
job_new(struct feed *f, enum job_kind kind)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->run = f->run;
	j->feed = f;
	j->kind = kind;
	j->generation = f->generation;
	j->feed_id = f->id;
	j->wj.work = job_work;
	j->wj.done = job_done;
	if (kind == JOB_POLL && ++j->run->npolljobs > j->run->max_npolljobs)
		j->run->max_npolljobs = j->run->npolljobs;
	return j;
}

static void
job_submit(struct job *j)
{
	j->feed->jobs++;
	worker_submit(&j->run->worker, &j->wj);
}

/*
 * f's row could not be created or updated. The daemon retries later (the
 * first failure at err, repeats at info); --once counts the feed as
 * failed instead, or it would retry forever and never exit.
 */
static void
ensure_failed(struct feed *f, const char *cause)
{
	struct run *r = f->run;
	char ubuf[1024];

	f->ensured = false;
	if (r->opts->once) {
		log_err("store", "feed=%s url=%s: cannot record the feed: %s",
			f->name, log_url(f->cf->url, ubuf, sizeof(ubuf)), cause);
		r->stats.failed++;
		once_count(f, true);
		return;
	}
	if (!f->ensure_failing)
		log_err("store", "feed=%s: cannot record the feed: %s; retrying "
			"every %ds", f->name, cause, ENSURE_RETRY_MS / 1000);
	else
		log_info("store", "feed=%s: still cannot record the feed: %s",
			f->name, cause);
	f->ensure_failing = true;
	feed_arm_ms(f, ENSURE_RETRY_MS);
}

/* Create or update f's row (reload: added, or URL/retention changed). */
static void
feed_ensure(struct feed *f, bool prompt)
{
	struct job *j = job_new(f, JOB_ENSURE);

	f->ensured = false;
	if (!j)
		goto nomem;
	j->ens_name = strdup(f->cf->name);
	j->ens_url = url_public(f->cf->url);
	if (!j->ens_name || !j->ens_url)
		goto nomem;
	if ((f->cf->tags && !(j->ens_tags = strdup(f->cf->tags))) ||
	    (f->cf->title && !(j->ens_title = strdup(f->cf->title))) ||
	    (f->cf->site && !(j->ens_site = strdup(f->cf->site))))
		goto nomem;
	j->sconf = (struct store_feed_conf){
		.name = j->ens_name,
		.url = j->ens_url,
		.keep_days = f->cf->keep_days,
		.keep_count = f->cf->keep_count,
		.tags = j->ens_tags,
		.title = j->ens_title,
		.site = j->ens_site,
	};
	j->prompt = prompt;
	if (prompt || f->next_due <= 0)
		j->first_due_ms = ramp_slot_ms(f->run);
	job_submit(j);
	return;
nomem:
	job_free(j);
	ensure_failed(f, "out of memory");
}

static void
ensure_done(struct job *j)
{
	struct feed *f = j->feed;

	if (f->removed || j->run->stopping)
		return;
	if (j->rc < 0) {
		ensure_failed(f, j->errmsg);
		return;
	}
	if (feed_load_state(f, &j->state) < 0) {
		ensure_failed(f, "out of memory");
		return;
	}
	if (f->ensure_failing)
		log_notice("store", "feed=%s recorded; polling resumes", f->name);
	f->ensure_failing = false;
	if (!j->prompt && uv_is_active((uv_handle_t *)&f->timer))
		return;
	if (f->fetching)
		return;
	feed_schedule_initial(f, j->prompt, j->first_due_ms);
}

/* --- the outcome of one poll ------------------------------------------- */

/* What on_done found, handed to poll_submit(). Pointers borrowed. */
struct poll {
	enum outcome out;
	int http_status;
	const char *cause;
	const char *etag, *last_modified, *body_hash, *redirect_url;
	int64_t retry_after_s, max_age_s, expires_at;
	const struct parse_feed *pf;
	struct batch *batch;          /* moved into the job (OUT_OK) */
	bool unparsable;              /* a body the parser rejected (cause) */
};

static int64_t
next_due(const struct feed *f, const struct poll *p, bool ok, int failures)
{
	const struct run *r = f->run;
	struct sched_input in = {
		/* Rounded up: due times are whole seconds, and rounding now
		 * down polls up to a second before the interval or a
		 * Retry-After has passed. */
		.now = (wall_ms() + 999) / 1000,
		.interval_s = f->cf->interval_s,
		.ceiling_s = r->conf->max_interval_s,
		.ok = ok,
		.http_status = p->http_status,
		.failures = failures,
		.retry_after_s = p->retry_after_s,
		.ttl_minutes = f->hints.ttl_minutes,
		.skip_hours = f->hints.skip_hours,
		.skip_days = f->hints.skip_days,
		.update_period_s = f->hints.update_period_s,
		.max_age_s = p->max_age_s,
		.expires_at = p->expires_at,
	};

	in.jitter_seed = fnv1a(f->name) ^ (uint32_t)in.now;
	return sched_next_due(&in);
}

static void
poll_done_local(struct feed *f, enum outcome out, const char *cause);

/* Fill j (a new job, or the parse job) from p and queue its store work.
 * Takes p->batch. */
static void
poll_fill_submit(struct feed *f, struct job *j, struct poll *p)
{
	bool ok = p->out == OUT_OK || p->out == OUT_NOT_MODIFIED ||
		p->out == OUT_UNCHANGED;
	int rc = 0;

	j->generation = f->generation;
	j->feed_id = f->id;
	j->out = p->out;
	j->fail_failures = f->failures + 1;
	j->fail_next_due = next_due(f, p, false, j->fail_failures);
	j->res.attempt = f->attempt;
	j->res.ok = ok;
	j->res.not_modified = p->out == OUT_NOT_MODIFIED ||
		p->out == OUT_UNCHANGED;
	j->res.http_status = p->http_status;
	j->res.gone = p->out == OUT_GONE;
	if (ok) {
		j->res.failures = 0;
		j->res.next_due = next_due(f, p, true, 0);
		rc |= remember(&j->etag, p->etag);
		rc |= remember(&j->last_modified, p->last_modified);
		if (p->redirect_url && strcmp(p->redirect_url, feed_url(f)) != 0) {
			rc |= remember(&j->url_in_use, p->redirect_url);
			/* libcurl keeps user:password@ in a redirect on the
			 * same host; the database is for other programs. */
			j->url_in_use_pub = url_public(p->redirect_url);
			rc |= j->url_in_use_pub ? 0 : -ENOMEM;
			j->redirected = true;
		}
	} else {
		j->res.failures = j->fail_failures;
		j->res.next_due = p->out == OUT_GONE ? 0 : j->fail_next_due;
		rc |= remember(&j->cause, p->cause);
	}
	if (p->out == OUT_OK) {
		rc |= remember(&j->body_hash, p->body_hash);
		if (p->pf) {
			rc |= remember(&j->title, p->pf->title);
			rc |= remember(&j->site_link, p->pf->link);
			j->truncated = p->pf->truncated;
			j->malformed = p->pf->malformed;
			j->nentries = p->pf->nentries;
			if (j->malformed && j->parser)
				rc |= remember(&j->warning,
					parse_errmsg(j->parser));
		}
		/* Done with the parser (handed over from the pool thread). */
		parse_destroy(j->parser);
		j->parser = NULL;
		j->batch = p->batch;
		p->batch = NULL;
	}
	batch_destroy(p->batch); /* not OUT_OK: nothing to store */
	p->batch = NULL;
	if (rc < 0) {
		job_free(j);
		poll_done_local(f, OUT_FAIL, "out of memory");
		return;
	}
	j->res.error = j->cause;
	j->res.etag = j->etag;
	j->res.last_modified = j->last_modified;
	j->res.url_in_use = j->url_in_use_pub;
	j->res.body_hash = j->body_hash;
	j->res.title = j->title;
	j->res.site_link = j->site_link;
	/* What the store shows of the document: set with each new one,
	 * kept on a 304, an unchanged body or a failed fetch. */
	j->res.document = p->out == OUT_OK || p->unparsable;
	j->res.malformed = j->malformed || p->unparsable;
	j->res.warning = p->unparsable ? j->cause : j->warning;
	job_submit(j);
}

/* Queue the store work for a finished poll that needs no parsing. */
static void
poll_submit(struct feed *f, struct poll *p)
{
	struct job *j = job_new(f, JOB_POLL);

	if (!j) {
		poll_done_local(f, OUT_FAIL, "out of memory");
		return;
	}
	poll_fill_submit(f, j, p);
}

static const char *
outcome_name(enum outcome o)
{
	switch (o) {
	case OUT_OK: return "ok";
	case OUT_NOT_MODIFIED: return "not-modified";
	case OUT_UNCHANGED: return "unchanged";
	case OUT_FAIL: return "failed";
	case OUT_GONE: return "gone";
	}
	return "?";
}

static void
once_count(struct feed *f, bool failed)
{
	struct run *r = f->run;

	if (!r->opts->once || f->once_counted)
		return;
	f->once_counted = true;
	r->once_done++;
	if (failed)
		r->once_failed++;
}

/* Log the state change, update counters, schedule the next poll. The
 * store has recorded the poll already (or failed to: then out is FAIL). */
static void
poll_apply(struct feed *f, struct job *j, enum outcome out, const char *cause)
{
	struct run *r = f->run;
	int prev_failures = f->failures;
	char ubuf[1024];
	int64_t due = 0, now = time(NULL);
	bool ok = out == OUT_OK || out == OUT_NOT_MODIFIED || out == OUT_UNCHANGED;

	metrics_poll(r->metrics, out == OUT_NOT_MODIFIED ?
		METRICS_RESULT_NOT_MODIFIED : out == OUT_GONE ? METRICS_RESULT_GONE :
		ok ? METRICS_RESULT_OK : METRICS_RESULT_ERROR, f->poll_error);
	if (ok) {
		r->stats.ok += out == OUT_OK;
		r->stats.not_modified += out == OUT_NOT_MODIFIED;
		r->stats.unchanged += out == OUT_UNCHANGED;
		f->failures = 0;
		f->gone = false;
		feed_set_failing(f, false);
		if (j) {
			/* Remember validators even across 304s. */
			(void)remember(&f->etag, j->etag);
			(void)remember(&f->last_modified, j->last_modified);
			if (out == OUT_OK)
				(void)remember(&f->body_hash, j->body_hash);
			if (j->redirected) {
				(void)remember(&f->url_in_use, j->url_in_use);
				log_notice("fetch", "feed=%s permanently redirected; "
					"polling url=%s from now on", f->name,
					log_url(f->url_in_use, ubuf, sizeof(ubuf)));
			}
			due = j->res.next_due;
		}
		if (prev_failures > 0)
			log_notice("fetch", "feed=%s recovered after %d failure%s",
				f->name, prev_failures, prev_failures == 1 ? "" : "s");
		if (out == OUT_OK && j) {
			r->stats.inserted += j->stats.inserted;
			r->stats.updated += j->stats.updated;
			metrics_articles(r->metrics, j->stats.inserted,
				j->stats.updated, j->stats.purged);
			r->cycle_inserted += j->stats.inserted;
			/* At warning when it starts, not on every refresh. */
			if (j->truncated && !f->capped)
				log_warn("parse", "feed=%s hit a cap (entries, depth "
					"or field size); stored what fit", f->name);
			else if (!j->truncated && f->capped)
				log_notice("parse", "feed=%s fits the caps again",
					f->name);
			f->capped = j->truncated;
			if (j->malformed && str_differs(j->warning,
			    f->last_warning)) {
				log_warn("parse", "feed=%s url=%s: malformed "
					"document, read with recovered errors: %s",
					f->name, log_url(feed_url(f), ubuf,
					sizeof(ubuf)), j->warning ? j->warning : "?");
				free(f->last_warning);
				f->last_warning = j->warning ?
					strdup(j->warning) : NULL;
			} else if (!j->malformed && f->last_warning) {
				log_notice("parse", "feed=%s is well-formed again",
					f->name);
				free(f->last_warning);
				f->last_warning = NULL;
			}
			log_info("store", "feed=%s entries=%zu new=%u updated=%u "
				"unchanged=%u purged=%u blocked=%u%s next_in=%" PRId64 "s",
				f->name, j->nentries, j->stats.inserted,
				j->stats.updated, j->stats.unchanged,
				j->stats.purged, j->stats.blocked,
				j->malformed ? " malformed=1" : "", due - now);
		} else {
			log_info("fetch", "feed=%s %s next_in=%" PRId64 "s", f->name,
				outcome_name(out), due - now);
		}
		free(f->last_cause);
		f->last_cause = NULL;
	} else {
		r->stats.failed++;
		f->failures = j ? j->fail_failures : f->failures + 1;
		feed_set_failing(f, true);
		due = j ? j->fail_next_due : 0;
		if (out == OUT_GONE) {
			f->gone = true;
			log_warn("fetch", "feed=%s url=%s is gone (HTTP 410); disabled "
				"until its URL changes in the config", f->name,
				log_url(feed_url(f), ubuf, sizeof(ubuf)));
		} else if (prev_failures == 0) {
			log_warn("fetch", "feed=%s url=%s failing: %s (retry_in=%"
				PRId64 "s)", f->name,
				log_url(feed_url(f), ubuf, sizeof(ubuf)), cause,
				due - now);
		} else if (f->last_cause && strcmp(f->last_cause, cause) == 0) {
			log_info("fetch", "feed=%s still failing failures=%d: %s "
				"(retry_in=%" PRId64 "s)", f->name, f->failures,
				cause, due - now);
		} else {
			log_info("fetch", "feed=%s failing failures=%d: %s "
				"(retry_in=%" PRId64 "s)", f->name, f->failures,
				cause, due - now);
		}
		(void)remember(&f->last_cause, cause);
	}
	once_count(f, !ok);
	if (r->opts->once || f->removed || r->stopping || f->gone)
		return;
	if (due <= 0)
		due = now + f->cf->interval_s;
	feed_arm_at(f, due);
}

/* A poll that ends without reaching the store (out of memory before a job
 * could be made). */
static void
poll_done_local(struct feed *f, enum outcome out, const char *cause)
{
	f->poll_error = METRICS_ERROR_OTHER;
	poll_apply(f, NULL, out, cause);
}

/*
 * A poll or job of f just ended without scheduling the next poll: a stale
 * result (the URL changed meanwhile) or a cancelled transfer. If f is idle
 * and has no timer, its timer fired while it was busy (feed_due() ignores
 * a busy feed) and the poll it asked for must not be lost: it is due now.
 */
static void
feed_resume_if_idle(struct feed *f)
{
	struct run *r = f->run;

	if (f->removed || r->stopping || r->opts->once || f->gone ||
	    f->fetching || f->jobs || f->queued ||
	    uv_is_active((uv_handle_t *)&f->timer))
		return;
	f->slot_reserved = false;
	feed_arm_ms(f, 0);
}

static void
job_done(struct worker_job *wj)
{
	struct job *j = container_of(wj, struct job, wj);
	struct feed *f = j->feed;
	struct run *r = j->run;

	f->jobs--;
	/* Committed: the rules' in-memory counters (and metrics) follow. */
	if (j->kind == JOB_POLL && j->rc == 0) {
		rules_tally_apply(j->tally, r->conf);
		rules_tally_metrics(j->tally, r->metrics);
	}
	/* Whether the store takes writes: /healthz and the watchdog. A
	 * feed the store never had is not the store failing. */
	if (j->kind != JOB_DISABLE || j->rc != -ENOENT)
		metrics_store_result(r->metrics, j->rc, j->errmsg);
	if (j->kind == JOB_ENSURE) {
		ensure_done(j);
	} else if (j->kind == JOB_DISABLE) {
		/* -ENOENT: the feed never reached the store. */
		if (j->rc < 0 && j->rc != -ENOENT)
			log_err("store", "feed=%s: %s", f->name, j->errmsg);
	} else if (f->removed || j->generation != f->generation) {
		/* Removed, or the URL changed while this poll was in
		 * flight: its result is stored, but the feed's state now
		 * comes from the config (and the new ensure). */
		feed_resume_if_idle(f);
	} else if (j->rc < 0) {
		/* At err once per distinct cause; poll_apply() logs the
		 * repeats at info. */
		if (!f->last_cause || strcmp(f->last_cause, j->errmsg) != 0)
			log_err("store", "feed=%s: %s", f->name, j->errmsg);
		f->poll_error = METRICS_ERROR_STORE;
		poll_apply(f, j, OUT_FAIL, j->errmsg);
	} else {
		poll_apply(f, j, j->out, j->cause);
	}
	/* New rows in the change log (committed: done callbacks run after
	 * the group's commit): hooks waiting for them read them now. */
	if (j->kind == JOB_POLL && j->rc == 0 && j->out == OUT_OK &&
	    (j->stats.inserted || j->stats.updated))
		hooks_wake(r->hooks);
	job_free(j);
	feed_maybe_free(f);
	run_pump(r);   /* a slot of the store backlog is free */
	run_maybe_finish(r);
	run_status(r);
}

/* --- one poll ----------------------------------------------------------- */

/*
 * The body is collected as it arrives and parsed on the threadpool once the
 * transfer is done, never on the loop: a 16 MiB document takes the parser
 * hundreds of milliseconds, and curl hands over everything it can read in
 * one loop iteration. Parsing after the transfer also means the HTTP
 * Content-Type charset is known and goes to the parser as its hint, and
 * that a body whose hash matches the last one is not parsed at all.
 * Collecting costs memory up to max-size per transfer, about what the copied
 * entries cost anyway.
 */
static int
on_data(void *ud, const void *buf, size_t len)
{
	struct feed *f = ud;

	if (len > f->body_cap - f->body_len) {
		size_t cap = f->body_cap ? f->body_cap : 64 * 1024;
		char *nb;

		while (cap - f->body_len < len)
			cap *= 2;
		nb = realloc(f->body, cap);
		if (!nb)
			return 1; /* FETCH_FAILED, -ECANCELED: see on_done() */
		f->body = nb;
		f->body_cap = cap;
	}
	memcpy(f->body + f->body_len, buf, len);
	f->body_len += len;
	return 0;
}

static int
on_entry(void *ud, const struct parse_entry *e)
{
	struct job *j = ud;

	return batch_add(j->batch, e);
}

/*
 * Parsing yields to the loop and to the store's writer: those two are
 * each one thread, and a cycle's speed is theirs (the loop moves the
 * bytes, the writer is the only one who can store them), while parse jobs
 * run in parallel on libuv's pool and can use whatever CPU is left. So
 * each pool thread lowers its own scheduling priority once (on Linux a
 * nice value is per thread). If that fails, parsing just competes as
 * before.
 */
static void
parse_thread_priority(void)
{
	static _Thread_local bool done;
	id_t self;
	int prio;

	if (done)
		return;
	done = true;
	self = (id_t)gettid();
	errno = 0;
	prio = getpriority(PRIO_PROCESS, self);
	if (errno == 0)
		(void)setpriority(PRIO_PROCESS, self, prio + FEEDD_PARSE_NICE);
}

/* Threadpool, concurrently with other parse jobs and the store worker: it
 * touches only its own job. */
static void
parse_work(uv_work_t *req)
{
	struct job *j = container_of(req, struct job, parse_req);
	struct parse_opts po = {
		.base_url = j->base_url,
		.charset = j->charset,
		.on_entry = on_entry,
		.ud = j,
		.max_entries = FEEDD_DAEMON_MAX_ENTRIES,
	};
	int rc;

	parse_thread_priority();
	rc = batch_create(&j->batch);
	if (rc == 0)
		rc = parse_create(&j->parser, &po);
	if (rc == 0)
		rc = parse_push(j->parser, j->body ? j->body : "", j->body_len);
	if (rc == 0)
		rc = parse_finish(j->parser);
	/* Keep/block rules, here rather than on the loop: regexes over a
	 * large document take time. */
	if (rc == 0)
		rc = rules_tally_judge(j->tally, j->batch);
	free(j->body);
	j->body = NULL;
	j->parse_rc = rc;
}

static void poll_fill_submit(struct feed *f, struct job *j, struct poll *p);

static void
parse_after(uv_work_t *req, int status)
{
	struct job *j = container_of(req, struct job, parse_req);
	struct feed *f = j->feed;
	struct run *r = j->run;
	struct poll p = {
		.http_status = j->r_http_status,
		.retry_after_s = j->r_retry_after_s,
		.max_age_s = j->r_max_age_s,
		.expires_at = j->r_expires_at,
		.etag = j->r_etag,
		.last_modified = j->r_last_modified,
		.redirect_url = j->r_redirect,
		.body_hash = j->r_body_hash,
	};
	char cause[1024];
	int rc = j->parse_rc;

	(void)status; /* never cancelled */
	r->nparsing--;
	f->jobs--;
	if (f->removed || j->generation != f->generation) {
		job_free(j);
		once_count(f, true);
		feed_resume_if_idle(f);
		feed_maybe_free(f);
		goto out;
	}
	if (rc != 0) {
		/* The parser says why ("not a feed: root element is <html>"),
		 * or it ran out of memory. */
		snprintf(cause, sizeof(cause), "parse: %s", rc == -EBADMSG &&
			j->parser ? parse_errmsg(j->parser) :
			strerror(rc < 0 ? -rc : ENOMEM));
		p = (struct poll){ .out = OUT_FAIL, .cause = cause,
			.http_status = j->r_http_status, .retry_after_s = -1,
			.max_age_s = -1, .unparsable = rc == -EBADMSG };
		f->poll_error = rc == -EBADMSG ? METRICS_ERROR_PARSE :
			METRICS_ERROR_OTHER;
		batch_destroy(j->batch);
		j->batch = NULL;
	} else {
		const struct parse_feed *pf = parse_feed_get(j->parser);

		f->hints = (struct hints){
			.ttl_minutes = pf->ttl_minutes,
			.skip_hours = pf->skip_hours,
			.skip_days = pf->skip_days,
			.update_period_s = pf->update_period_s,
		};
		p.out = OUT_OK;
		p.pf = pf;
		p.batch = j->batch;
		j->batch = NULL;
	}
	poll_fill_submit(f, j, &p);
out:
	run_pump(r);
	run_maybe_finish(r);
}

/* Hand a fetched body to a parse job (which then becomes the store job). */
static void
parse_start(struct feed *f, const struct fetch_result *res)
{
	struct run *r = f->run;
	struct job *j = job_new(f, JOB_POLL);
	int rc = 0;

	if (!j)
		goto nomem;
	j->body = f->body;
	j->body_len = f->body_len;
	f->body = NULL;
	f->body_len = f->body_cap = 0;
	j->base_url = strdup(f->attempt_url);
	rc |= j->base_url ? 0 : -ENOMEM;
	rc |= remember(&j->charset, res->charset);
	rc |= remember(&j->r_etag, res->etag);
	rc |= remember(&j->r_last_modified, res->last_modified);
	rc |= remember(&j->r_body_hash, res->body_hash);
	/* The running rules (a reference) for the parse thread to judge by. */
	rc |= rules_tally_create(&j->tally, r->conf->rules, f->cf);
	if (res->permanent_redirect)
		rc |= remember(&j->r_redirect, res->redirect_url);
	if (rc < 0)
		goto nomem;
	j->r_http_status = (int)res->http_status;
	j->r_retry_after_s = res->retry_after_s;
	j->r_max_age_s = cache_max_age(res->cache_control);
	j->r_expires_at = http_date(res->expires);
	f->jobs++;
	r->nparsing++;
	if (uv_queue_work(&r->loop, &j->parse_req, parse_work, parse_after) == 0)
		return;
	/* Only fails for a NULL callback; parse here rather than lose it. */
	parse_work(&j->parse_req);
	parse_after(&j->parse_req, 0);
	return;
nomem:
	job_free(j);
	poll_done_local(f, OUT_FAIL, "out of memory");
}

static void
on_done(void *ud, const struct fetch_result *res)
{
	struct feed *f = ud;
	struct run *r = f->run;
	struct poll p = {
		.http_status = (int)res->http_status,
		.retry_after_s = res->retry_after_s,
		.max_age_s = cache_max_age(res->cache_control),
		.expires_at = http_date(res->expires),
	};
	char cause[1024];

	f->req = NULL;
	f->fetching = false;
	r->nfetching--;
	cause[0] = '\0';
	/* A removed feed's transfer may have finished just before the
	 * cancel: its result no longer matters. */
	if (res->status == FETCH_CANCELLED || f->removed)
		goto cancelled;
	metrics_fetch(r->metrics, res->t_total, res->wire_bytes);
	f->poll_error = metrics_error_class(res->stage, res->rc,
		res->http_status);
	switch (res->status) {
	case FETCH_OK:
		if (res->body_hash && f->body_hash &&
		    strcmp(res->body_hash, f->body_hash) == 0) {
			/* Byte for byte what we stored last time. */
			p.out = OUT_UNCHANGED;
			break;
		}
		parse_start(f, res);
		goto out;
	case FETCH_NOT_MODIFIED:
		p.out = OUT_NOT_MODIFIED;
		break;
	case FETCH_HTTP_ERROR:
		if (res->http_status == 410) {
			p.out = OUT_GONE;
			snprintf(cause, sizeof(cause), "HTTP 410 Gone");
		} else {
			p.out = OUT_FAIL;
			snprintf(cause, sizeof(cause), "HTTP %ld", res->http_status);
		}
		break;
	case FETCH_FAILED:
	default:
		p.out = OUT_FAIL;
		if (res->rc == -ECANCELED && res->stage &&
		    strcmp(res->stage, "body") == 0)
			/* on_data() could not grow the buffer. */
			snprintf(cause, sizeof(cause), "fetch (body): out of memory");
		else
			snprintf(cause, sizeof(cause), "fetch (%s): %s",
				res->stage ? res->stage : "?",
				res->error && *res->error ? res->error :
				strerror(res->rc < 0 ? -res->rc : EIO));
		break;
	}
	p.cause = cause;
	if (p.out == OUT_NOT_MODIFIED || p.out == OUT_UNCHANGED) {
		p.etag = res->etag;
		p.last_modified = res->last_modified;
		if (res->permanent_redirect)
			p.redirect_url = res->redirect_url;
	}
	poll_submit(f, &p);
out:
	poll_cleanup(f);
	run_pump(r);
	run_maybe_finish(r);
	return;
cancelled:
	poll_cleanup(f);
	once_count(f, true);
	feed_resume_if_idle(f);
	feed_maybe_free(f);
	run_pump(r);
	run_maybe_finish(r);
}

static void
feed_poll(struct feed *f)
{
	struct run *r = f->run;
	const struct conf_feed *cf = f->cf;
	struct fetch_req_opts o = { 0 };
	char cause[256];
	int rc;

	f->attempt = time(NULL);
	f->poll_error = METRICS_ERROR_OTHER;
	if (f->due_ms > 0) {
		int64_t late = wall_ms() - f->due_ms;

		metrics_schedule_lag(r->metrics, late > 0 ? late / 1000.0 : 0);
	}
	f->attempt_url = strdup(feed_url(f));
	rc = f->attempt_url ? 0 : -ENOMEM;
	if (rc < 0)
		goto fail;
	o.url = f->attempt_url;
	o.etag = f->etag;
	o.last_modified = f->last_modified;
	o.user_agent = cf->user_agent;
	o.proxy = cf->proxy ? cf->proxy : r->conf->proxy;
	o.username = cf->username;
	o.password = cf->password;
	o.connect_timeout_ms = (long)(r->conf->connect_timeout_s * 1000);
	o.timeout_ms = (long)(cf->timeout_s * 1000);
	o.max_body = cf->max_size > 0 ? (size_t)cf->max_size : 0;
	o.allow_private = cf->allow_private;
	o.on_data = on_data;
	o.on_done = on_done;
	o.ud = f;
	rc = fetch_start(r->fetch, &o, &f->req);
	if (rc < 0)
		goto fail;
	f->fetching = true;
	f->fetch_start_ms = wall_ms();
	f->never_fetched = false;
	r->nfetching++;
	r->stats.polls++;
	if (log_level >= LOG_L_DEBUG) {
		char ubuf[1024];

		log_debug("fetch", "feed=%s start url=%s%s%s", f->name,
			log_url(f->attempt_url, ubuf, sizeof(ubuf)),
			f->etag ? " if-none-match" : "",
			f->last_modified ? " if-modified-since" : "");
	}
	return;
fail:
	poll_cleanup(f);
	snprintf(cause, sizeof(cause), "fetch (start): %s", strerror(-rc));
	{
		struct poll p = { .out = OUT_FAIL, .cause = cause,
			.retry_after_s = -1, .max_age_s = -1 };

		r->stats.polls++;
		poll_submit(f, &p);
	}
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
static unsigned
backlog_limit(const struct run *r)
{
	return start_limit(r) * 4;
}

static void
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
static void
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
static void
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

static void
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

static void
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

/* --- reload ------------------------------------------------------------- */

/*
 * Name lookups for a reload: sorted arrays and bsearch, so diffing two
 * configs of n feeds costs O(n log n) on the loop rather than O(n^2)
 * (conf_feed_find() is a linear scan). Each falls back to a linear scan
 * when the index could not be allocated.
 */
static int
cmp_conf_feed(const void *a, const void *b)
{
	const struct conf_feed *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static int
cmp_feed(const void *a, const void *b)
{
	const struct feed *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/* Sorted pointers to c's feeds; NULL on ENOMEM or when c has none. */
static const struct conf_feed **
conf_index(const struct conf *c)
{
	const struct conf_feed **idx;

	if (c->nfeeds == 0)
		return NULL;
	idx = malloc(c->nfeeds * sizeof(*idx));
	if (!idx)
		return NULL;
	for (size_t i = 0; i < c->nfeeds; i++)
		idx[i] = &c->feeds[i];
	qsort(idx, c->nfeeds, sizeof(*idx), cmp_conf_feed);
	return idx;
}

static const struct conf_feed *
conf_index_find(const struct conf *c, const struct conf_feed **idx,
	const char *name)
{
	struct conf_feed key = { .name = (char *)name };
	const struct conf_feed *kp = &key, **hit;

	if (!idx)
		return conf_feed_find(c, name);
	hit = bsearch(&kp, idx, c->nfeeds, sizeof(*idx), cmp_conf_feed);
	return hit ? *hit : NULL;
}

/* Sorted pointers to the active feeds; *n is their count. */
static struct feed **
feed_index(struct run *r, size_t *n)
{
	struct feed **idx = malloc((r->nfeeds ? r->nfeeds : 1) * sizeof(*idx));

	*n = 0;
	if (!idx)
		return NULL;
	for (struct feed *f = r->feeds; f; f = f->next)
		if (!f->removed && *n < r->nfeeds)
			idx[(*n)++] = f;
	qsort(idx, *n, sizeof(*idx), cmp_feed);
	return idx;
}

static struct feed *
feed_find(struct run *r, struct feed **idx, size_t n, const char *name)
{
	struct feed key = { .name = (char *)name }, *kp = &key, **hit;

	if (!idx) {
		for (struct feed *f = r->feeds; f; f = f->next)
			if (!f->removed && strcmp(f->name, name) == 0)
				return f;
		return NULL;
	}
	hit = bsearch(&kp, idx, n, sizeof(*idx), cmp_feed);
	return hit ? *hit : NULL;
}

static bool
str_differs(const char *a, const char *b)
{
	if (!a || !b)
		return a != b;
	return strcmp(a, b) != 0;
}

static void
run_reload(struct run *r)
{
	struct conf *nc = NULL;
	struct feed *f, *next, **fidx = NULL;
	const struct conf_feed **cidx = NULL;
	size_t nidx = 0;
	unsigned added = 0, removed = 0, changed = 0;
	char err[1024];
	int rc;

	rc = conf_load(&nc, r->opts->config_path, err, sizeof(err));
	if (rc < 0) {
		log_err("conf", "reload rejected, keeping the running config: %s",
			err);
		return;
	}
	notify_send("RELOADING=1");
	log_level = nc->log_level;
	if (str_differs(nc->database, r->conf->database))
		log_warn("conf", "database changed to %s: takes effect after a "
			"restart (still using %s)", nc->database, r->conf->database);
	if (nc->max_connections != r->conf->max_connections ||
	    nc->max_per_host != r->conf->max_per_host ||
	    str_differs(nc->user_agent, r->conf->user_agent))
		log_notice("conf", "max-connections, max-per-host and the "
			"global user-agent take effect after a restart");
	cidx = conf_index(nc);

	for (f = r->feeds; f; f = next) {
		const struct conf_feed *ncf;
		bool url_changed, keep_changed;

		next = f->next;
		if (f->removed)
			continue;
		ncf = conf_index_find(nc, cidx, f->name);
		if (!ncf || !ncf->enabled) {
			log_notice("conf", "feed=%s %s; stopped polling (articles "
				"stay)", f->name, ncf ? "disabled" : "removed");
			feed_remove(f, ncf);
			removed++;
			continue;
		}
		url_changed = strcmp(ncf->url, f->cf->url) != 0;
		keep_changed = ncf->keep_days != f->cf->keep_days ||
			ncf->keep_count != f->cf->keep_count ||
			str_differs(ncf->tags, f->cf->tags) ||
			str_differs(ncf->title, f->cf->title) ||
			str_differs(ncf->site, f->cf->site);
		f->cf = ncf;
		if (url_changed) {
			struct host *h = host_get(r, ncf->url);

			if (h) {
				f->host->nfeeds--;
				f->host = h;
				h->nfeeds++;
			}
			f->generation++;
			uv_timer_stop(&f->timer);
			if (f->fetching)
				fetch_req_cancel(f->req);
			free(f->url_in_use);
			f->url_in_use = NULL;
			f->gone = false;
			feed_ensure(f, true);
			changed++;
		} else if (keep_changed) {
			feed_ensure(f, false);
			changed++;
		}
	}
	/* Feeds created below are not in the index; config names are unique. */
	fidx = feed_index(r, &nidx);
	for (size_t i = 0; i < nc->nfeeds; i++) {
		const struct conf_feed *ncf = &nc->feeds[i];

		if (!ncf->enabled || feed_find(r, fidx, nidx, ncf->name))
			continue;
		f = feed_new(r, ncf);
		if (!f) {
			log_err("conf", "feed=%s: out of memory; not added",
				ncf->name);
			continue;
		}
		log_notice("conf", "feed=%s added", f->name);
		feed_ensure(f, true);
		added++;
	}
	if (nc->interval_s != r->conf->interval_s)
		uv_timer_start(&r->cycle, on_cycle, (uint64_t)nc->interval_s * 1000,
			(uint64_t)nc->interval_s * 1000);
	(void)metrics_http_configure(r->http, nc, r->opts->once);
	if (rules_metrics_configure(nc, r->metrics) < 0)
		log_err("conf", "rule metrics: out of memory");
	free(fidx);
	free(cidx);
	rules_carry(nc, r->conf);
	/* Before the old config goes: the hooks borrow it. */
	hooks_configure(r->hooks, nc);
	conf_free(r->conf);
	r->conf = nc;
	log_notice("conf", "reloaded %s: feeds=%u added=%u removed=%u changed=%u",
		r->opts->config_path, r->nfeeds, added, removed, changed);
	notify_send("READY=1");
	run_status(r);
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
		feed_close_timer(f);
	}
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
	for (struct feed *f = r->feeds; f; f = f->next)
		uv_timer_stop(&f->timer);
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
static void
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

/* --- start-up ----------------------------------------------------------- */

static void
walk_report(uv_handle_t *h, void *arg)
{
	(void)arg;
	log_err("sys", "handle still open at exit: %s%s",
		uv_handle_type_name(uv_handle_get_type(h)),
		uv_is_closing(h) ? " (closing)" : "");
}

/* Copies of every stored feed's state, from store_feeds_list(). The
 * strings are our malloc'd copies: freed by state_copy_free(), never by
 * store_feed_state_cleanup() (the store allocates its own differently). */
struct stored {
	struct store_feed_state *v;   /* owned; strings owned */
	size_t n, cap;
};

static void
state_copy_free(struct store_feed_state *c)
{
	free(c->name);
	free(c->url);
	free(c->url_in_use);
	free(c->etag);
	free(c->last_modified);
	free(c->body_hash);
	free(c->tags);
	free(c->conf_title);
	free(c->conf_site);
}

static int
collect_state(void *ud, const struct store_feed_state *s)
{
	struct stored *sd = ud;
	struct store_feed_state *c;

	if (sd->n == sd->cap) {
		size_t cap = sd->cap ? sd->cap * 2 : 64;
		struct store_feed_state *v = realloc(sd->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		sd->v = v;
		sd->cap = cap;
	}
	c = &sd->v[sd->n];
	*c = (struct store_feed_state){
		.id = s->id,
		.next_due = s->next_due,
		.failures = s->failures,
		.last_status = s->last_status,
		.gone = s->gone,
		.active = s->active,
		.enabled = s->enabled,
		.keep_days = s->keep_days,
		.keep_count = s->keep_count,
		.last_attempt = s->last_attempt,
	};
	/* Only what the daemon uses; the rest stays NULL. */
	if (remember(&c->name, s->name) < 0 || remember(&c->url, s->url) < 0 ||
	    remember(&c->url_in_use, s->url_in_use) < 0 ||
	    remember(&c->etag, s->etag) < 0 ||
	    remember(&c->last_modified, s->last_modified) < 0 ||
	    remember(&c->body_hash, s->body_hash) < 0 ||
	    remember(&c->tags, s->tags) < 0 ||
	    remember(&c->conf_title, s->conf_title) < 0 ||
	    remember(&c->conf_site, s->conf_site) < 0 || !c->name) {
		state_copy_free(c);
		return -ENOMEM;
	}
	sd->n++;
	return 0;
}

static int
cmp_state(const void *a, const void *b)
{
	const struct store_feed_state *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static void
stored_cleanup(struct stored *sd)
{
	for (size_t i = 0; i < sd->n; i++)
		state_copy_free(&sd->v[i]);
	free(sd->v);
}

/* A feed the config has with enabled=no: its row says so (status
 * "disabled" in feeds_v1), and it is never polled. */
static int
store_conf_disabled(struct run *r, const struct conf_feed *cf)
{
	char *pub = url_public(cf->url);
	struct store_feed_conf sc = {
		.name = cf->name,
		.url = pub,
		.keep_days = cf->keep_days,
		.keep_count = cf->keep_count,
		.tags = cf->tags,
		.title = cf->title,
		.site = cf->site,
		.disabled = true,
	};
	int rc = pub ? store_feed_ensure(r->st, &sc, NULL) : -ENOMEM;

	free(pub);
	return rc;
}

/* Whether the stored row already matches cf (no store_feed_ensure needed). */
static bool
stored_matches(const struct store_feed_state *s, const struct conf_feed *cf)
{
	char *pub;
	bool same;

	if (!s->active || !s->enabled || !s->url ||
	    s->keep_days != cf->keep_days || s->keep_count != cf->keep_count ||
	    str_differs(s->tags, cf->tags && *cf->tags ? cf->tags : NULL) ||
	    str_differs(s->conf_title, cf->title && *cf->title ? cf->title : NULL) ||
	    str_differs(s->conf_site, cf->site && *cf->site ? cf->site : NULL))
		return false;
	pub = url_public(cf->url);
	same = pub && strcmp(pub, s->url) == 0;
	free(pub);
	return same;
}

/*
 * Start-up: one read of every stored feed, before READY=1 (an unreadable
 * database is fatal). A feed whose row matches the config resumes from it
 * at once. A new or changed feed is left unensured: its store_feed_ensure()
 * runs as a store job once the loop runs, so a first start with thousands
 * of feeds (one durable write each) does not hold back READY=1; its first
 * poll is spread over its interval anyway. Feeds the store has as active
 * but the config no longer polls are marked inactive (articles stay).
 */
static int
startup_feeds(struct run *r)
{
	struct stored sd = { 0 };
	const struct conf_feed **cidx = NULL;
	struct gone {
		size_t i;             /* in sd.v, or the config's index */
		const struct conf_feed *disabled; /* enabled=no in the config */
		bool ok;
	} *gone = NULL;
	size_t ngone = 0;
	bool grouped;
	int rc;

	rc = store_feeds_list(r->st, false, collect_state, &sd);
	if (rc < 0) {
		log_err("store", "cannot read the feeds in %s: %s (%s)",
			r->conf->database, strerror(-rc), store_errmsg(r->st));
		goto out;
	}
	if (sd.n)
		qsort(sd.v, sd.n, sizeof(*sd.v), cmp_state);
	for (size_t i = 0; i < r->conf->nfeeds; i++) {
		const struct conf_feed *cf = &r->conf->feeds[i];
		struct store_feed_state key = { .name = cf->name }, *s;
		struct feed *f;

		if (!cf->enabled)
			continue;
		f = feed_new(r, cf);
		if (!f) {
			rc = -ENOMEM;
			goto nomem;
		}
		r->once_total++;
		s = sd.n ? bsearch(&key, sd.v, sd.n, sizeof(*sd.v), cmp_state) :
			NULL;
		if (s && stored_matches(s, cf)) {
			rc = feed_load_state(f, s);
			if (rc < 0)
				goto nomem;
		} else if (s && s->url) {
			/* Its stored next-due time (perhaps a long backoff)
			 * was for the old URL: poll the new one soon. */
			char *pub = url_public(cf->url);

			f->url_changed = !pub || strcmp(pub, s->url) != 0;
			free(pub);
		}
	}
	cidx = conf_index(r->conf);
	gone = calloc(sd.n + r->conf->nfeeds + 1, sizeof(*gone));
	if (!gone) {
		rc = -ENOMEM;
		goto nomem;
	}
	for (size_t i = 0; i < sd.n; i++) {
		const struct conf_feed *cf = conf_index_find(r->conf, cidx,
			sd.v[i].name);

		if (cf && cf->enabled)
			continue;
		if (cf && sd.v[i].enabled)
			gone[ngone++] = (struct gone){ .i = i, .disabled = cf };
		else if (!cf && sd.v[i].active)
			gone[ngone++] = (struct gone){ .i = i };
	}
	/* Disabled in the config and not stored yet: recorded as such. */
	for (size_t i = 0; i < r->conf->nfeeds; i++) {
		const struct conf_feed *cf = &r->conf->feeds[i];
		struct store_feed_state key = { .name = cf->name };

		if (cf->enabled || (sd.n && bsearch(&key, sd.v, sd.n,
		    sizeof(*sd.v), cmp_state)))
			continue;
		gone[ngone++] = (struct gone){ .i = SIZE_MAX, .disabled = cf };
	}
	/* One transaction for all of them; each on its own if that fails. */
	grouped = ngone > 1 && store_group_begin(r->st) == 0;
	for (int pass = grouped ? 0 : 1; pass < 2; pass++) {
		for (size_t k = 0; k < ngone; k++)
			gone[k].ok = gone[k].disabled ?
				store_conf_disabled(r, gone[k].disabled) == 0 :
				store_feed_disable(r->st, sd.v[gone[k].i].name) == 0;
		if (pass == 0 && store_group_commit(r->st) == 0)
			break;
	}
	for (size_t k = 0; k < ngone; k++) {
		if (!gone[k].ok)
			continue;
		if (gone[k].disabled)
			log_notice("store", "feed=%s is disabled in the config "
				"(enabled=no): not polled", gone[k].disabled->name);
		else
			log_notice("store", "feed=%s is no longer polled; marked "
				"inactive (articles stay)", sd.v[gone[k].i].name);
	}
	goto out;
nomem:
	log_err("sys", "out of memory");
out:
	free(gone);
	free(cidx);
	stored_cleanup(&sd);
	return rc;
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
	r->open_handles = 11; /* with the worker's */

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
			feed_ensure(f, f->url_changed);
			nensure++;
		}
	}
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
	store_close(r->st);
	conf_free(r->conf);
	free(r);
	return exit_code;
}
