/*
 * run_reload: SIGHUP. The new config is diffed against the running feeds
 * by name (sorted indexes, O(n log n)): removed and disabled feeds stop,
 * changed ones are ensured again, new ones are added; then the new config
 * replaces the old one.
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
const struct conf_feed **
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

const struct conf_feed *
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

bool
str_differs(const char *a, const char *b)
{
	if (!a || !b)
		return a != b;
	return strcmp(a, b) != 0;
}

void
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
			feed_disarm(f);
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
	/* The old config of every feed is freed memory glibc would keep. */
	malloc_trim(0);
	log_notice("conf", "reloaded %s: feeds=%u added=%u removed=%u changed=%u",
		r->opts->config_path, r->nfeeds, added, removed, changed);
	notify_send("READY=1");
	run_status(r);
}

