/*
 * hook: cursors, batches, back-off and reload for the configured hooks.
 * See hook.h. A hook goes
 *
 *   idle -> load job (worker: open the row once, read the batch after
 *           the cursor as JSON Lines) -> transport start (loop)
 *        -> done -> save job (worker: cursor on success, failures and
 *           the planned retry otherwise) -> idle, or the back-off timer
 *
 * and a wake (new changes committed) while it is busy is remembered and
 * acted on when it is idle again. The body of a batch lives only while
 * its run does: a retry reads the same rows from the store again (bounded
 * by the failed batch's last seq, so it is the same batch while the
 * daemon runs).
 *
 * Ownership: struct hooks owns the hooks; a hook owns its timer
 * (embedded: freed in the timer's close callback, and only when no run
 * or job refers to it), its batch body while a run is in flight, and a
 * copy of its name. A job owns copies of everything the worker reads.
 */
#include "hook.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "artjson.h"
#include "log.h"
#include "store.h"

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/* A store job that failed (the database is busy or full): read again after
 * this long, without counting a failed run. */
#define HOOK_STORE_RETRY_MS 10000

enum hook_phase {
	HP_IDLE,       /* waiting for a wake */
	HP_LOADING,    /* load job in flight */
	HP_RUNNING,    /* the transport has the batch */
	HP_SAVING,     /* save job in flight */
	HP_WAITING,    /* back-off timer armed */
	HP_OFF,        /* no transport in this build, or disabled for good */
};

struct hook {
	struct hook *next;             /* hs->hooks */
	struct hooks *hs;              /* borrowed */
	const struct conf_hook *cf;    /* borrowed from the current conf;
	                                * NULL once removed */
	char *name;                    /* owned: logs after removal */
	uv_timer_t timer;              /* embedded: hook freed in its close cb */
	bool timer_closing, timer_closed;
	enum hook_phase phase;
	bool opened;                   /* its row was opened in the store */
	bool dirty;                    /* woken while busy */
	bool reconf;                   /* changed by a reload while busy: the
	                                * fresh start waits until it is idle */
	bool removed;
	bool once_failed;
	unsigned jobs;                 /* store jobs in flight */

	int64_t cursor;                /* as the store has it (or will) */
	int failures;                  /* consecutive */
	char *last_error;              /* owned; to tell repeats from news */
	int64_t retry_upto;            /* the failed batch's bound, 0 = none */
	int64_t backlog;               /* matching changes after the cursor, as
	                                * of the last read (metrics) */
	int64_t last_success;          /* Unix seconds; 0 = never */

	/* The run in flight. */
	const struct hook_transport *tr;
	struct hook_run *run;          /* borrowed; valid until done */
	char *body;                    /* owned */
	struct hook_batch batch;       /* points into body */
	int64_t upto;                  /* the cursor after this batch */
	int64_t attempt;               /* wall seconds it started */
	uint64_t started_ms;           /* uv_now() it started */
};

struct hooks {
	struct hook_ctx ctx;           /* pointers borrowed */
	uv_loop_t *loop;               /* borrowed: ctx.loop */
	struct worker *w;              /* borrowed */
	const struct conf *conf;       /* borrowed */
	struct hook *hooks;            /* owned list */
	bool once, draining, drained, stopping, closing;
	unsigned nruns, njobs;         /* in flight, all hooks */
	unsigned once_failed;          /* hooks whose --once run failed */
	uint64_t rng;
	hooks_changed_cb changed;
	void *ud;
};

enum hook_job_kind { HJ_LOAD, HJ_SAVE };

struct hook_job {
	struct worker_job wj;          /* first: container_of */
	struct hook *h;                /* borrowed; kept alive by h->jobs */
	enum hook_job_kind kind;
	/* Inputs, owned copies (the worker never reads h or the conf). */
	char *name;
	char **feeds, **tags;
	size_t nfeeds, ntags;
	unsigned events, batch;
	bool from_start;
	bool open;                     /* open the row first */
	bool open_only;                /* and read nothing */
	int64_t after, upto_bound, now;
	struct store_hook_result res;  /* HJ_SAVE; strings below */
	char *error, *disabled;

	/* Results. */
	int rc;
	char errmsg[300];
	struct store_hook_state state; /* HJ_LOAD with open */
	bool deferred;                 /* the stored back-off is still on */
	char *body;                    /* owned until taken by the hook */
	size_t len, cap, count;
	int64_t first_seq, last_seq, upto;
	int64_t backlog;               /* matching rows after upto */
	bool full;                     /* stopped at the body cap */
	/* HJ_SAVE: what its done does next. */
	uint64_t delay_ms;             /* the back-off before the retry */
	bool permanent;                /* stop for good */
};

static void hook_kick(struct hook *h);
static void hook_metrics(struct hook *h);
static void hook_job_done(struct worker_job *wj);

const struct hook_transport *
hook_transport_for(enum conf_hook_kind kind)
{
	switch (kind) {
	case CONF_HOOK_EXEC:
		return &hook_exec_transport;
	case CONF_HOOK_WEBHOOK:
		return &hook_webhook_transport;
	}
	return NULL;
}

/* --- batches as JSON ---------------------------------------------------- */

int
hook_batch_json_object(const struct hook_batch *b, char **out, size_t *len)
{
	json_t *o = json_object(), *arr = json_array();
	const char *p = b->jsonl, *end = b->jsonl + b->len;
	int rc = 0;
	char *s;

	if (!o || !arr) {
		rc = -ENOMEM;
		goto out;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		json_t *a;

		if (n) {
			a = json_loadb(p, n, 0, NULL);
			if (!a) {
				rc = -EINVAL;
				goto out;
			}
			json_array_append_new(arr, a);
		}
		p += n + 1;
	}
	json_object_set_new(o, "hook", json_string(b->hook));
	json_object_set_new(o, "first_seq", json_integer(b->first_seq));
	json_object_set_new(o, "last_seq", json_integer(b->last_seq));
	json_object_set_new(o, "count", json_integer((json_int_t)b->count));
	json_object_set_new(o, "articles", arr);
	arr = NULL;
	s = json_dumps(o, JSON_COMPACT);
	if (!s) {
		rc = -ENOMEM;
		goto out;
	}
	*out = s;
	*len = strlen(s);
out:
	json_decref(arr);
	json_decref(o);
	return rc;
}

/* --- store jobs (the worker thread) ------------------------------------- */

static void
strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int
strv_dup(char **const src, size_t n, char ***out)
{
	char **v;

	*out = NULL;
	if (!n)
		return 0;
	v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	*out = v;
	for (size_t i = 0; i < n; i++)
		if (!(v[i] = strdup(src[i])))
			return -ENOMEM;
	return 0;
}

static void
job_free(struct hook_job *j)
{
	if (!j)
		return;
	free(j->name);
	strv_free(j->feeds, j->nfeeds);
	strv_free(j->tags, j->ntags);
	free(j->error);
	free(j->disabled);
	free(j->body);
	store_hook_state_cleanup(&j->state);
	free(j);
}

static void
errmsg_set(struct hook_job *j, const char *what, int rc, struct store *st)
{
	snprintf(j->errmsg, sizeof(j->errmsg), "store: %s: %s (%s)", what,
		strerror(-rc), store_errmsg(st));
}

/* One change row into the body: the article as feedctl shows it, plus
 * event and seq. */
static int
add_row(void *ud, const struct store_change_row *c)
{
	struct hook_job *j = ud;
	json_t *o;
	char *s;
	size_t n;

	/* A row whose article was purged since has nothing to deliver. */
	if (!c->article)
		return 0;
	if (j->count > 0 && j->len >= FEEDD_HOOK_MAX_BODY) {
		j->full = true;
		return 1;
	}
	o = artjson_article(c->article, true);
	if (!o)
		return -ENOMEM;
	json_object_set_new(o, "event", json_string(strcmp(c->kind, "new") == 0 ?
		"new" : "updated"));
	json_object_set_new(o, "seq", json_integer(c->seq));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		return -ENOMEM;
	n = strlen(s);
	if (j->len + n + 2 > j->cap) {
		size_t cap = (j->cap ? j->cap * 2 : 16384);
		char *nb;

		while (cap < j->len + n + 2)
			cap *= 2;
		nb = realloc(j->body, cap);
		if (!nb) {
			free(s);
			return -ENOMEM;
		}
		j->body = nb;
		j->cap = cap;
	}
	memcpy(j->body + j->len, s, n);
	j->len += n;
	j->body[j->len++] = '\n';
	j->body[j->len] = '\0';
	free(s);
	if (!j->count)
		j->first_seq = c->seq;
	j->last_seq = c->seq;
	j->count++;
	return 0;
}

static void
job_load(struct hook_job *j, struct store *st)
{
	struct store_change_filter f = {
		.new_rows = j->events & CONF_HOOK_NEW,
		.update_rows = j->events & CONF_HOOK_UPDATED,
		.feeds = (const char *const *)j->feeds,
		.nfeeds = j->nfeeds,
		.tags = (const char *const *)j->tags,
		.ntags = j->ntags,
	};
	int64_t scanned = 0;
	int rc;

	if (j->open) {
		rc = store_hook_open(st, j->name, j->from_start, &j->state);
		if (rc < 0) {
			errmsg_set(j, "opening the hook's cursor", rc, st);
			goto out;
		}
		j->after = j->state.cursor;
		if (j->open_only)
			goto out;
		if (j->state.failures > 0 && j->state.next_attempt > j->now) {
			/* A back-off from before a restart is still on. */
			j->deferred = true;
			goto out;
		}
	}
	rc = store_hook_changes(st, j->after, j->upto_bound, &f, j->batch,
		add_row, j, &scanned);
	if (rc == 1) {
		/* Stopped at the body cap: the cursor goes only as far as
		 * the last row taken. */
		scanned = j->last_seq;
		rc = 0;
	}
	if (rc < 0) {
		errmsg_set(j, "reading the change log", rc, st);
		goto out;
	}
	j->upto = scanned > j->after ? scanned : j->after;
	/* What waits behind this batch: a count over the rows after it
	 * (the change log's primary key), for the backlog gauge. */
	j->backlog = 0;
	if (store_hook_backlog(st, j->upto, &f, &j->backlog) < 0)
		j->backlog = -1;
	/* Nothing matched: step over what was read, so the next wake does
	 * not read it again. */
	if (j->count == 0 && j->upto > j->after) {
		rc = store_hook_skip(st, j->name, j->upto);
		if (rc < 0)
			errmsg_set(j, "moving the hook's cursor", rc, st);
	}
out:
	j->rc = rc;
}

static void
job_work(struct worker_job *wj, struct store *st)
{
	struct hook_job *j = container_of(wj, struct hook_job, wj);

	/* The worker may run a job again after a group that did not
	 * commit: start from clean results. */
	j->rc = 0;
	j->errmsg[0] = '\0';
	store_hook_state_cleanup(&j->state);
	j->deferred = j->full = false;
	j->len = j->count = 0;
	j->first_seq = j->last_seq = j->upto = 0;
	j->backlog = 0;
	if (j->kind == HJ_LOAD) {
		job_load(j, st);
		return;
	}
	j->rc = store_hook_record(st, j->name, &j->res);
	if (j->rc < 0)
		errmsg_set(j, "recording the run", j->rc, st);
}

static struct hook_job *
job_new(struct hook *h, enum hook_job_kind kind)
{
	struct hook_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->h = h;
	j->kind = kind;
	j->wj.work = job_work;
	j->wj.done = hook_job_done;
	j->now = time(NULL);
	if (!(j->name = strdup(h->name))) {
		job_free(j);
		return NULL;
	}
	return j;
}

static void
job_submit(struct hook_job *j)
{
	j->h->jobs++;
	j->h->hs->njobs++;
	worker_submit(j->h->hs->w, &j->wj);
}

/* --- the state machine (loop thread) ------------------------------------ */

static uint64_t
rng_next(struct hooks *hs)
{
	/* xorshift64*: jitter only, nothing secret. */
	hs->rng ^= hs->rng >> 12;
	hs->rng ^= hs->rng << 25;
	hs->rng ^= hs->rng >> 27;
	return hs->rng * 2685821657736338717ull;
}

/* The back-off before retry number `failures`: retry= doubled per
 * failure up to CONF_HOOK_RETRY_MAX, minus up to a quarter at random, so
 * hooks failing together do not retry together. */
static uint64_t
backoff_ms(struct hooks *hs, const struct conf_hook *cf, int failures,
	int64_t retry_after_s)
{
	int64_t base = cf ? cf->retry_s : CONF_HOOK_RETRY_DEFAULT;
	uint64_t ms = (uint64_t)base * 1000, cap = CONF_HOOK_RETRY_MAX * 1000ull;

	for (int i = 1; i < failures && ms < cap; i++)
		ms *= 2;
	if (ms > cap)
		ms = cap;
	ms -= rng_next(hs) % (ms / 4 + 1);
	/* The other side's Retry-After, up to a day. */
	if (retry_after_s > 86400)
		retry_after_s = 86400;
	if (retry_after_s >= 0 && (uint64_t)retry_after_s * 1000 > ms)
		ms = (uint64_t)retry_after_s * 1000;
	return ms;
}

static void
hooks_notify(struct hooks *hs)
{
	struct hook *h;

	if (hs->draining && !hs->drained) {
		bool busy = hs->njobs || hs->nruns;

		for (h = hs->hooks; h && !busy; h = h->next)
			busy = !h->removed && (h->phase != HP_IDLE &&
				h->phase != HP_OFF);
		if (!busy)
			hs->drained = true;
	}
	if (hs->changed)
		hs->changed(hs->ud);
}

static void
on_timer_close(uv_handle_t *t)
{
	struct hook *h = t->data;

	h->timer_closed = true;
	if (!h->jobs && !h->run) {
		free(h->name);
		free(h->last_error);
		free(h->body);
		free(h);
	}
}

/* Unlinks h and closes its timer; h is freed in the close callback, or
 * by the last job or run to finish after it. */
static void
hook_release(struct hook *h)
{
	struct hook **pp;

	for (pp = &h->hs->hooks; *pp; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	h->removed = true;
	h->cf = NULL;
	if (!h->timer_closing) {
		h->timer_closing = true;
		uv_close((uv_handle_t *)&h->timer, on_timer_close);
	}
}

/* A removed hook whose last job or run just ended. */
static bool
hook_gone(struct hook *h)
{
	if (!h->removed)
		return false;
	if (h->timer_closed && !h->jobs && !h->run) {
		free(h->name);
		free(h->last_error);
		free(h->body);
		free(h);
	}
	return true;
}

static void
on_timer(uv_timer_t *t)
{
	struct hook *h = t->data;

	if (h->phase == HP_WAITING)
		h->phase = HP_IDLE;
	hook_kick(h);
}

static void
hook_arm(struct hook *h, uint64_t ms)
{
	h->phase = HP_WAITING;
	uv_timer_start(&h->timer, on_timer, ms, 0);
}

static bool
set_error(struct hook *h, const char *err)
{
	bool same = h->last_error && strcmp(h->last_error, err) == 0;

	if (!same) {
		free(h->last_error);
		h->last_error = strdup(err);
	}
	return same;
}

/* Read the next batch (or the same one again after a failure). */
static void
hook_kick(struct hook *h)
{
	struct hooks *hs = h->hs;
	const struct conf_hook *cf = h->cf;
	struct hook_job *j;

	if (h->removed || hs->stopping || hs->closing || !cf)
		return;
	if (h->phase == HP_OFF)
		return;
	if (hs->once && h->once_failed)
		return;
	/* --once delivers after polling, but a new hook's row is opened at
	 * start-up: "from now" means before this run's polls. */
	if (hs->once && !hs->draining && (h->opened || h->phase != HP_IDLE))
		return;
	if (h->phase != HP_IDLE) {
		/* HP_WAITING: the timer will read it, new rows included. */
		h->dirty = true;
		return;
	}
	/* The transport is picked here, not when the run starts: a reload
	 * may have changed the hook's kind while it was busy. */
	h->tr = hook_transport_for(cf->kind);
	if (!h->tr) {
		h->phase = HP_OFF;
		log_err("hook", "hook=%s: no transport for its kind; skipped",
			h->name);
		return;
	}
	h->dirty = false;
	j = job_new(h, HJ_LOAD);
	if (j) {
		/* Counted first, so job_free() releases a partial copy. */
		j->nfeeds = cf->nfeeds;
		j->ntags = cf->ntags;
	}
	if (!j || strv_dup(cf->feeds, cf->nfeeds, &j->feeds) < 0 ||
	    strv_dup(cf->tags, cf->ntags, &j->tags) < 0) {
		job_free(j);
		if (hs->once) {
			log_err("hook", "hook=%s: out of memory", h->name);
			h->once_failed = true;
			hs->once_failed++;
			return;
		}
		log_err("hook", "hook=%s: out of memory; retrying in %ds", h->name,
			HOOK_STORE_RETRY_MS / 1000);
		hook_arm(h, HOOK_STORE_RETRY_MS);
		return;
	}
	j->events = cf->events;
	j->batch = cf->batch;
	j->from_start = cf->from_start;
	j->open = !h->opened;
	j->open_only = hs->once && !hs->draining;
	j->after = h->cursor;
	j->upto_bound = h->retry_upto;
	h->phase = HP_LOADING;
	job_submit(j);
}

static void save_result(struct hook *h, const struct hook_result *r);

static void
on_run_done(void *ud, const struct hook_result *r)
{
	struct hook *h = ud;
	struct hooks *hs = h->hs;

	h->run = NULL;
	hs->nruns--;
	if (hook_gone(h)) {
		hooks_notify(hs);
		return;
	}
	save_result(h, r);
}

/* The batch in j is ready: hand it to the transport. */
static void
hook_start(struct hook *h, struct hook_job *j)
{
	struct hooks *hs = h->hs;
	struct hook_result fail = { .retry_after_s = -1 };
	char err[512];
	int rc;

	if (h->tr != hook_transport_for(h->cf->kind)) {
		/* A reload changed the hook's kind while its batch was read. */
		hook_kick(h);
		return;
	}
	free(h->body);
	h->body = j->body;
	j->body = NULL;
	h->batch = (struct hook_batch){
		.hook = h->name,
		.jsonl = h->body,
		.len = j->len,
		.count = j->count,
		.first_seq = j->first_seq,
		.last_seq = j->last_seq,
	};
	h->upto = j->upto;
	h->attempt = time(NULL);
	h->started_ms = uv_now(hs->loop);
	err[0] = '\0';
	rc = h->tr->start(&h->run, &hs->ctx, h->cf, &h->batch, on_run_done, h,
		err, sizeof(err));
	if (rc == 0) {
		h->phase = HP_RUNNING;
		hs->nruns++;
		log_debug("hook", "hook=%s started: %zu article%s seq=%" PRId64
			"..%" PRId64, h->name, j->count, j->count == 1 ? "" : "s",
			j->first_seq, j->last_seq);
		return;
	}
	fail.error = err[0] ? err : strerror(-rc);
	save_result(h, &fail);
}

/* Log the outcome, update the in-memory state, and record it. */
static void
save_result(struct hook *h, const struct hook_result *r)
{
	struct hooks *hs = h->hs;
	struct hook_job *j = job_new(h, HJ_SAVE);
	uint64_t ms = uv_now(hs->loop) - h->started_ms;
	uint64_t delay = 0;
	bool same;

	free(h->body);
	h->body = NULL;
	h->batch.jsonl = NULL;
	if (!r->ok && hs->stopping) {
		/* Killed by the stop, not failed: nothing to record, the
		 * cursor did not move and the batch comes again. */
		log_info("hook", "hook=%s: %s while stopping; the batch comes "
			"again after the restart", h->name, r->error ? r->error :
			"stopped");
		job_free(j);
		h->phase = HP_IDLE;
		hooks_notify(hs);
		return;
	}
	if (hs->ctx.metrics)
		(void)metrics_hook_add(hs->ctx.metrics, h->name, r->ok ? 1 : 0,
			r->ok ? 0 : 1);
	if (r->ok) {
		h->last_success = time(NULL);
		h->backlog -= (int64_t)h->batch.count;
		if (h->backlog < 0)
			h->backlog = 0;
		hook_metrics(h);
		if (h->failures > 0)
			log_notice("hook", "hook=%s recovered after %d failure%s",
				h->name, h->failures, h->failures == 1 ? "" : "s");
		log_info("hook", "hook=%s delivered %zu article%s seq=%" PRId64
			"..%" PRId64 " in %" PRIu64 "ms", h->name, h->batch.count,
			h->batch.count == 1 ? "" : "s", h->batch.first_seq,
			h->batch.last_seq, ms);
		h->failures = 0;
		free(h->last_error);
		h->last_error = NULL;
		h->retry_upto = 0;
		h->cursor = h->upto > h->cursor ? h->upto : h->cursor;
		if (j)
			j->res = (struct store_hook_result){
				.attempt = h->attempt, .ok = true, .cursor = h->cursor };
	} else {
		const char *err = r->error ? r->error : "failed";

		h->failures++;
		h->retry_upto = h->upto;
		same = set_error(h, err);
		if (hs->once) {
			h->once_failed = true;
			hs->once_failed++;
			log_warn("hook", "hook=%s failed: %s (%zu article%s seq=%"
				PRId64 "..%" PRId64 "; not retried by --once, the "
				"next run delivers them)", h->name, err,
				h->batch.count, h->batch.count == 1 ? "" : "s",
				h->batch.first_seq, h->batch.last_seq);
		} else if (r->permanent) {
			log_err("hook", "hook=%s failed for good: %s; delivery stopped "
				"until the hook is configured anew", h->name, err);
		} else {
			delay = backoff_ms(hs, h->cf, h->failures, r->retry_after_s);
			if (h->failures == 1 || !same)
				log_warn("hook", "hook=%s failed: %s (%zu article%s seq=%"
					PRId64 "..%" PRId64 "; retry in %.1fs)", h->name,
					err, h->batch.count, h->batch.count == 1 ? "" : "s",
					h->batch.first_seq, h->batch.last_seq,
					(double)delay / 1000);
			else
				log_info("hook", "hook=%s still failing failures=%d: %s "
					"(retry in %.1fs)", h->name, h->failures, err,
					(double)delay / 1000);
		}
		if (j) {
			j->error = strdup(err);
			if (r->permanent)
				j->disabled = strdup(err);
			j->res = (struct store_hook_result){
				.attempt = h->attempt,
				.failures = h->failures,
				.error = j->error,
				.next_attempt = delay ? h->attempt +
					(int64_t)((delay + 999) / 1000) : 0,
				.disabled = j->disabled,
			};
		}
	}
	if (!j) {
		log_err("hook", "hook=%s: out of memory recording the run", h->name);
		h->phase = HP_IDLE;
		if (!r->ok && !hs->once)
			hook_arm(h, delay ? delay : HOOK_STORE_RETRY_MS);
		else
			hook_kick(h);
		hooks_notify(hs);
		return;
	}
	h->phase = HP_SAVING;
	j->delay_ms = delay;
	j->permanent = r->permanent;
	job_submit(j);
}

/* A new definition: the row is opened again (which clears a permanent
 * disable), the back-off and a retry's bound are dropped. Idle hooks
 * only. */
static void
hook_fresh_start(struct hook *h)
{
	h->reconf = false;
	h->opened = false;
	h->retry_upto = 0;
	if (h->phase == HP_WAITING)
		uv_timer_stop(&h->timer);
	h->phase = HP_IDLE;
}

/* Changed while busy, and now idle: start afresh instead of acting on
 * the old definition's outcome (a 410 from the old URL, say). */
static bool
hook_reconf_now(struct hook *h)
{
	if (!h->reconf || h->run || h->jobs)
		return false;
	hook_fresh_start(h);
	hook_kick(h);
	return true;
}

static void
hook_metrics(struct hook *h)
{
	if (h->hs->ctx.metrics)
		(void)metrics_hook_set(h->hs->ctx.metrics, h->name,
			h->backlog > 0 ? h->backlog : 0, h->last_success);
}

static void
load_done(struct hook *h, struct hook_job *j)
{
	struct hooks *hs = h->hs;

	h->phase = HP_IDLE;
	if (hook_reconf_now(h))
		return;
	if (j->rc == 0) {
		if (j->open)
			h->last_success = j->state.last_success;
		if (!j->open_only && !j->deferred && j->backlog >= 0)
			h->backlog = (int64_t)j->count + j->backlog;
		hook_metrics(h);
	}
	if (j->rc < 0) {
		log_err("hook", "hook=%s: %s; retrying in %ds", h->name, j->errmsg,
			HOOK_STORE_RETRY_MS / 1000);
		if (!hs->once) {
			hook_arm(h, HOOK_STORE_RETRY_MS);
		} else if (!h->once_failed) {
			h->once_failed = true;
			hs->once_failed++;
		}
		return;
	}
	if (j->open) {
		h->opened = true;
		h->cursor = j->state.cursor;
		h->failures = j->state.failures;
		if (j->state.last_error)
			set_error(h, j->state.last_error);
		if (j->open_only) {
			if (h->dirty || hs->draining)
				hook_kick(h);
			return;
		}
		if (j->deferred && !hs->once) {
			int64_t wait = j->state.next_attempt - time(NULL);

			log_notice("hook", "hook=%s: %d failed run%s before the "
				"restart (%s); next try in %" PRId64 "s", h->name,
				h->failures, h->failures == 1 ? "" : "s",
				h->last_error ? h->last_error : "?",
				wait > 0 ? wait : 0);
			hook_arm(h, wait > 0 ? (uint64_t)wait * 1000 : 0);
			return;
		}
		if (j->deferred) {
			/* --once ignores a stored back-off: read again. */
			h->dirty = true;
			hook_kick(h);
			return;
		}
	}
	if (j->count == 0) {
		h->cursor = j->upto > h->cursor ? j->upto : h->cursor;
		h->retry_upto = 0;
		if (h->dirty)
			hook_kick(h);
		return;
	}
	if (hs->stopping) {
		/* Not started: the batch stays in the store. */
		return;
	}
	hook_start(h, j);
}

static void
save_done(struct hook *h, struct hook_job *j)
{
	struct hooks *hs = h->hs;
	bool ok = j->res.ok;

	if (j->rc < 0)
		log_err("hook", "hook=%s: %s (a restart may deliver the batch "
			"again)", h->name, j->errmsg);
	h->phase = HP_IDLE;
	if (hook_reconf_now(h))
		return;
	if (j->permanent) {
		h->phase = HP_OFF;
		return;
	}
	if (!ok) {
		if (!hs->once && !hs->stopping)
			hook_arm(h, j->delay_ms);
		return;
	}
	/* Delivered: there may be more after it. */
	hook_kick(h);
}

static void
hook_job_done(struct worker_job *wj)
{
	struct hook_job *j = container_of(wj, struct hook_job, wj);
	struct hook *h = j->h;
	struct hooks *hs = h->hs;

	h->jobs--;
	hs->njobs--;
	if (!hook_gone(h)) {
		if (j->kind == HJ_LOAD)
			load_done(h, j);
		else
			save_done(h, j);
	}
	job_free(j);
	hooks_notify(hs);
}

/* --- the set ------------------------------------------------------------ */

int
hooks_create(struct hooks **out, const struct hook_ctx *ctx, struct worker *w,
	bool once, hooks_changed_cb changed, void *ud)
{
	struct hooks *hs = calloc(1, sizeof(*hs));

	if (!hs)
		return -ENOMEM;
	hs->ctx = *ctx;
	hs->loop = ctx->loop;
	hs->w = w;
	hs->once = once;
	hs->changed = changed;
	hs->ud = ud;
	hs->rng = uv_hrtime() | 1;
	*out = hs;
	return 0;
}

static struct hook *
hook_new(struct hooks *hs, const struct conf_hook *cf)
{
	struct hook *h = calloc(1, sizeof(*h));

	if (!h || !(h->name = strdup(cf->name))) {
		free(h);
		return NULL;
	}
	h->hs = hs;
	h->cf = cf;
	uv_timer_init(hs->loop, &h->timer);
	h->timer.data = h;
	h->next = hs->hooks;
	hs->hooks = h;
	return h;
}

static const struct conf_hook *
conf_find(const struct conf *c, const char *name)
{
	return c ? conf_hook_find(c, name) : NULL;
}

void
hooks_configure(struct hooks *hs, const struct conf *c)
{
	struct hook *h, *next;
	unsigned added = 0, removed = 0, changed = 0;
	bool first = hs->conf == NULL;

	for (h = hs->hooks; h; h = next) {
		const struct conf_hook *ncf = conf_find(c, h->name);

		next = h->next;
		if (!ncf) {
			if (h->run) {
				log_notice("hook", "hook=%s removed from the config; "
					"killing its running %s (the batch counts as not "
					"delivered); its state stays", h->name, h->tr->kind);
				h->tr->cancel(h->run);
			} else {
				log_notice("hook", "hook=%s removed from the config; its "
					"state stays", h->name);
			}
			hook_release(h);
			removed++;
			continue;
		}
		if (!conf_hook_equal(h->cf, ncf)) {
			changed++;
			log_notice("hook", "hook=%s changed%s", h->name, h->run ?
				": the running batch finishes under the old definition"
				: "");
			/* A new definition gets a fresh start: the row is
			 * opened again (which clears a permanent disable), the
			 * back-off and a retry's bound are dropped. */
			if (!h->run && !h->jobs)
				hook_fresh_start(h);
			else
				h->reconf = true;
			h->dirty = true;
		}
		h->cf = ncf;
	}
	for (size_t i = 0; c && i < c->nhooks; i++) {
		const struct conf_hook *cf = &c->hooks[i];
		bool known = false;

		for (h = hs->hooks; h && !known; h = h->next)
			known = strcmp(h->name, cf->name) == 0;
		if (known)
			continue;
		h = hook_new(hs, cf);
		if (!h) {
			log_err("hook", "hook=%s: out of memory; not added", cf->name);
			continue;
		}
		if (!first)
			log_notice("hook", "hook=%s added", h->name);
		added++;
	}
	hs->conf = c;
	if (hs->ctx.metrics) {
		size_t n = c ? c->nhooks : 0;
		const char **names = calloc(n ? n : 1, sizeof(*names));

		for (size_t i = 0; names && i < n; i++)
			names[i] = c->hooks[i].name;
		if (!names || metrics_hooks_configure(hs->ctx.metrics,
				names, n) < 0)
			log_err("hook", "hook metrics: out of memory");
		free(names);
		/* Series that start again from zero get their gauges back. */
		for (h = hs->hooks; h; h = h->next)
			hook_metrics(h);
	}
	if (!first && (added || removed || changed))
		log_notice("hook", "hooks reloaded: %u configured, %u added, %u "
			"removed, %u changed", hooks_count(hs), added, removed,
			changed);
	/* Every hook reads its backlog at start-up and after a reload. */
	for (h = hs->hooks; h; h = h->next)
		hook_kick(h);
}

void
hooks_wake(struct hooks *hs)
{
	for (struct hook *h = hs->hooks; h; h = h->next)
		hook_kick(h);
}

void
hooks_once_drain(struct hooks *hs)
{
	if (hs->draining)
		return;
	hs->draining = true;
	for (struct hook *h = hs->hooks; h; h = h->next)
		hook_kick(h);
	hooks_notify(hs);
}

bool
hooks_once_drained(const struct hooks *hs)
{
	return hs->drained;
}

unsigned
hooks_once_failed(const struct hooks *hs)
{
	return hs->once_failed;
}

void
hooks_stop(struct hooks *hs)
{
	hs->stopping = true;
	for (struct hook *h = hs->hooks; h; h = h->next)
		uv_timer_stop(&h->timer);
}

void
hooks_cancel(struct hooks *hs)
{
	for (struct hook *h = hs->hooks; h; h = h->next)
		if (h->run) {
			log_notice("hook", "hook=%s: stopping; killing its running %s "
				"(the batch is delivered again after the restart)",
				h->name, h->tr->kind);
			h->tr->cancel(h->run);
		}
}

bool
hooks_idle(const struct hooks *hs)
{
	return hs->nruns == 0 && hs->njobs == 0;
}

unsigned
hooks_count(const struct hooks *hs)
{
	unsigned n = 0;

	for (const struct hook *h = hs->hooks; h; h = h->next)
		n++;
	return n;
}

unsigned
hooks_failing(const struct hooks *hs)
{
	unsigned n = 0;

	for (const struct hook *h = hs->hooks; h; h = h->next)
		n += h->failures > 0;
	return n;
}

void
hooks_close(struct hooks *hs)
{
	hs->closing = true;
	hs->stopping = true;
	while (hs->hooks)
		hook_release(hs->hooks);
}

void
hooks_destroy(struct hooks *hs)
{
	if (!hs)
		return;
	/* hooks_close() released every hook; their close callbacks ran. */
	free(hs);
}
