/*
 * run_poll: the fetch -> parse -> store pipeline of one feed. Store jobs
 * (ensure, poll, disable) and their worker side (job_work(), on the
 * store worker's thread), the fetch callbacks, parsing on the libuv
 * threadpool (parse_work()), and applying a stored poll's outcome to the
 * feed (poll_apply(): logs, counters, the next due time).
 */
#include "run_int.h"

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
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

/* --- store jobs --------------------------------------------------------- */

void
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

struct job *
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

void
job_submit(struct job *j)
{
	j->feed->jobs++;
	if (j->kind == JOB_ENSURE)
		j->run->nensuring++;
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
void
feed_ensure(struct feed *f, bool prompt)
{
	struct job *j = job_new(f, JOB_ENSURE);

	f->ensured = false;
	f->ensure_wanted = false;
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

/*
 * Start-up registration: the feeds that start-up left unensured
 * (ensure_wanted) get their ensure jobs as earlier ones finish, at most
 * FEEDD_ENSURE_INFLIGHT in flight, in the feed list's order; the writer
 * still commits them in groups. When the last is done, the memory that
 * start-up used and freed goes back to the system (malloc_trim()): glibc
 * would otherwise keep it for good.
 */
void
ensure_pump(struct run *r)
{
	while (r->ensure_cursor && r->nensuring < FEEDD_ENSURE_INFLIGHT &&
	    !r->stopping) {
		struct feed *f = r->ensure_cursor;

		r->ensure_cursor = f->next;
		if (f->ensure_wanted && !f->removed)
			feed_ensure(f, f->url_changed);
	}
	if (!r->trimmed && !r->ensure_cursor && r->nensuring == 0) {
		r->trimmed = true;
		malloc_trim(0);
	}
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
	if (!j->prompt && dueq_queued(&f->due))
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

void
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
		r->nensuring--;
		ensure_done(j);
		ensure_pump(r);
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

void
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

