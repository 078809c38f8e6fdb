/*
 * run_feed: struct feed's life: created for a configured feed, loaded
 * from its stored state, removed (disabled or gone from the config) and
 * freed once nothing refers to it. Also the small URL and string helpers
 * the other run_*.c files share (wall_ms, remember, url_public, ...).
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

/* --- small helpers ------------------------------------------------------ */

int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint32_t
fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Replace *dst with a copy of src (when src is not NULL). -ENOMEM keeps *dst. */
int
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

const char *
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
char *
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
int64_t
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

int64_t
http_date(const char *s)
{
	time_t t;

	if (!s || !*s)
		return 0;
	t = curl_getdate(s, NULL);
	return t > 0 ? (int64_t)t : 0;
}

/* The lower-cased host name of url, or "" when it has none. */
char *
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

/* --- feed lifecycle ----------------------------------------------------- */

void
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

void
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
	if (r->ensure_cursor == f)
		r->ensure_cursor = f->next;
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

/* A removed feed goes once it is released (feed_remove() is done with it)
 * and no transfer, job or queue refers to it. */
void
feed_maybe_free(struct feed *f)
{
	if (f->removed && f->released && !f->fetching && f->jobs == 0 &&
	    !f->queued)
		feed_free(f);
}

struct feed *
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
	/* Room in the heap for every active feed: arming never allocates. */
	if (dueq_reserve(&r->dueq, (size_t)r->nfeeds + 1) < 0) {
		free(f->name);
		free(f);
		return NULL;
	}
	f->run = r;
	f->cf = cf;
	f->hints.ttl_minutes = -1;
	f->next = r->feeds;
	if (r->feeds)
		r->feeds->prev = f;
	r->feeds = f;
	f->host->nfeeds++;
	r->nfeeds++;
	return f;
}


/* Stop polling f (removed or disabled in the config). Its articles stay
 * in the store, which marks it inactive. */
void
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
	feed_disarm(f);
	/* Released only after the cancel: it may call on_done at once,
	 * which must not free the feed while we are still here. */
	if (f->fetching)
		fetch_req_cancel(f->req);
	f->released = true;
	feed_maybe_free(f);
}

/* Load what the store remembers about f. */
int
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

