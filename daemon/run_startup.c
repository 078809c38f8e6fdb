/*
 * run_startup: start-up's one read of every stored feed before READY=1.
 * Feeds whose row matches the config resume from it; new or changed ones
 * are left for a store job; stored feeds the config no longer polls are
 * marked inactive, in one transaction.
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
int
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
