/*
 * metrics: counters, histograms, the health check and their rendering.
 * See metrics.h; the metric names and their meaning are in docs/metrics.md.
 */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define WHY_MAX 200

/* Upper bounds of the histogram buckets, in seconds (+Inf is implied). */
static const double fetch_bounds[] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
	30, 60 };
static const double lag_bounds[] = { 0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 900,
	3600 };
static const double txn_bounds[] = { 0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
	0.25, 0.5, 1, 2.5, 5 };
static const double loop_bounds[] = { 0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
	0.25, 0.5, 1 };
#define HIST_MAX_BOUNDS 12

struct hist {
	const double *bounds;         /* borrowed: one of the tables above */
	size_t nbounds;
	uint64_t counts[HIST_MAX_BOUNDS + 1]; /* per bucket, not cumulative;
	                               * [nbounds] is +Inf */
	uint64_t count;
	double sum;
};

struct hook {
	char *name;                   /* owned */
	int64_t backlog, last_success;
	uint64_t deliveries, failures;
};

struct rule {
	char *name;                   /* owned */
	enum metrics_rule_action action;
	uint64_t matches;
};

struct metrics {
	pthread_mutex_t mu;           /* guards everything below */
	double start_time;            /* Unix seconds */
	uint64_t polls[METRICS_RESULT__N];
	uint64_t errors[METRICS_ERROR__N];
	uint64_t bytes;
	uint64_t articles[3];         /* new, updated, purged */
	uint64_t feeds[METRICS_FEED__N];
	uint64_t store_queue;
	uint64_t store_failures;
	struct hist fetch, lag, txn, loop;
	double loop_max;
	int64_t beat_ms;              /* CLOCK_MONOTONIC ms of the last beat */
	int64_t stale_ms;             /* FEEDD_HEALTH_STALE_MS */
	bool store_bad;
	char store_why[WHY_MAX + 1];
	struct hook *hooks;           /* owned, sorted by name */
	size_t nhooks;
	struct rule *rules;           /* owned, sorted by name, then action */
	size_t nrules;
};

static const char *const result_names[METRICS_RESULT__N] = {
	[METRICS_RESULT_OK] = "ok",
	[METRICS_RESULT_NOT_MODIFIED] = "not_modified",
	[METRICS_RESULT_ERROR] = "error",
	[METRICS_RESULT_GONE] = "gone",
};
static const char *const error_names[METRICS_ERROR__N] = {
	[METRICS_ERROR_DNS] = "dns",
	[METRICS_ERROR_CONNECT] = "connect",
	[METRICS_ERROR_TLS] = "tls",
	[METRICS_ERROR_TIMEOUT] = "timeout",
	[METRICS_ERROR_HTTP_4XX] = "http_4xx",
	[METRICS_ERROR_HTTP_5XX] = "http_5xx",
	[METRICS_ERROR_TOO_LARGE] = "too_large",
	[METRICS_ERROR_PARSE] = "parse",
	[METRICS_ERROR_STORE] = "store",
	[METRICS_ERROR_OTHER] = "other",
};
static const char *const status_names[METRICS_FEED__N] = {
	[METRICS_FEED_OK] = "ok",
	[METRICS_FEED_FAILING] = "failing",
	[METRICS_FEED_NEW] = "new",
	[METRICS_FEED_DISABLED] = "disabled",
	[METRICS_FEED_GONE] = "gone",
};
static const char *const action_names[METRICS_RULE__N] = {
	[METRICS_RULE_KEEP] = "keep",
	[METRICS_RULE_BLOCK] = "block",
};
static const char *const event_names[3] = { "new", "updated", "purged" };

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
hist_init(struct hist *h, const double *bounds, size_t n)
{
	_Static_assert(NELEM(txn_bounds) <= HIST_MAX_BOUNDS, "bucket table");
	*h = (struct hist){ .bounds = bounds, .nbounds = n };
}

static void
hist_observe(struct hist *h, double v)
{
	size_t i = 0;

	if (!(v >= 0)) /* NaN or negative: a clock step, not a duration */
		v = 0;
	while (i < h->nbounds && v > h->bounds[i])
		i++;
	h->counts[i]++;
	h->count++;
	h->sum += v;
}

int
metrics_create(struct metrics **out)
{
	struct metrics *m = calloc(1, sizeof(*m));
	struct timespec ts;

	if (!m)
		return -ENOMEM;
	if (pthread_mutex_init(&m->mu, NULL) != 0) {
		free(m);
		return -ENOMEM;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	m->start_time = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	hist_init(&m->fetch, fetch_bounds, NELEM(fetch_bounds));
	hist_init(&m->lag, lag_bounds, NELEM(lag_bounds));
	hist_init(&m->txn, txn_bounds, NELEM(txn_bounds));
	hist_init(&m->loop, loop_bounds, NELEM(loop_bounds));
	m->beat_ms = mono_ms();
	m->stale_ms = FEEDD_HEALTH_STALE_MS;
	*out = m;
	return 0;
}

static void
hooks_free(struct hook *h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(h[i].name);
	free(h);
}

static void
rules_free(struct rule *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(r[i].name);
	free(r);
}

void
metrics_destroy(struct metrics *m)
{
	if (!m)
		return;
	hooks_free(m->hooks, m->nhooks);
	rules_free(m->rules, m->nrules);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

#define LOCKED(m, stmt) do { \
		pthread_mutex_lock(&(m)->mu); \
		stmt; \
		pthread_mutex_unlock(&(m)->mu); \
	} while (0)

enum metrics_error
metrics_error_class(const char *stage, int rc, long http_status)
{
	if (rc == -ETIMEDOUT)
		return METRICS_ERROR_TIMEOUT;
	if (rc == -EFBIG)
		return METRICS_ERROR_TOO_LARGE;
	if (stage && strcmp(stage, "response") == 0) {
		if (http_status >= 400 && http_status < 500)
			return METRICS_ERROR_HTTP_4XX;
		if (http_status >= 500 && http_status < 600)
			return METRICS_ERROR_HTTP_5XX;
		return METRICS_ERROR_OTHER;
	}
	if (stage && strcmp(stage, "resolve") == 0)
		return METRICS_ERROR_DNS;
	if (stage && strcmp(stage, "connect") == 0)
		return METRICS_ERROR_CONNECT;
	if (stage && strcmp(stage, "tls") == 0)
		return METRICS_ERROR_TLS;
	return METRICS_ERROR_OTHER;
}

void
metrics_poll(struct metrics *m, enum metrics_result r, enum metrics_error e)
{
	if ((unsigned)r >= METRICS_RESULT__N)
		return;
	if ((unsigned)e >= METRICS_ERROR__N)
		e = METRICS_ERROR_OTHER;
	LOCKED(m, {
		m->polls[r]++;
		if (r == METRICS_RESULT_ERROR)
			m->errors[e]++;
	});
}

void
metrics_fetch(struct metrics *m, double seconds, uint64_t bytes)
{
	LOCKED(m, {
		hist_observe(&m->fetch, seconds);
		m->bytes += bytes;
	});
}

void
metrics_articles(struct metrics *m, uint64_t new_, uint64_t updated,
	uint64_t purged)
{
	LOCKED(m, {
		m->articles[0] += new_;
		m->articles[1] += updated;
		m->articles[2] += purged;
	});
}

void
metrics_schedule_lag(struct metrics *m, double seconds)
{
	LOCKED(m, hist_observe(&m->lag, seconds));
}

void
metrics_feeds(struct metrics *m, const uint64_t n[METRICS_FEED__N])
{
	LOCKED(m, memcpy(m->feeds, n, sizeof(m->feeds)));
}

void
metrics_store_queue(struct metrics *m, uint64_t jobs)
{
	LOCKED(m, m->store_queue = jobs);
}

void
metrics_store_transaction(struct metrics *m, double seconds)
{
	LOCKED(m, hist_observe(&m->txn, seconds));
}

/* Whether rc says the database takes no writes, rather than that it
 * refused one job's data. */
static bool
store_wide(int rc)
{
	switch (-rc) {
	case EBUSY: case EROFS: case ENOSPC: case EACCES: case EIO:
	case ENOMEM: case EDQUOT: case EPERM:
		return true;
	}
	return false;
}

void
metrics_store_result(struct metrics *m, int rc, const char *why)
{
	LOCKED(m, {
		if (rc >= 0) {
			m->store_bad = false;
		} else if (!store_wide(rc)) {
			m->store_failures++;
		} else {
			m->store_bad = true;
			m->store_failures++;
			snprintf(m->store_why, sizeof(m->store_why), "%s",
				why && *why ? why : "store: write failed");
			/* One line, whatever the SQLite message held. */
			for (char *p = m->store_why; *p; p++)
				if ((unsigned char)*p < ' ')
					*p = ' ';
		}
	});
}

void
metrics_loop_busy(struct metrics *m, double seconds)
{
	LOCKED(m, {
		hist_observe(&m->loop, seconds);
		if (seconds > m->loop_max)
			m->loop_max = seconds;
	});
}

void
metrics_heartbeat(struct metrics *m)
{
	int64_t now = mono_ms();

	LOCKED(m, m->beat_ms = now);
}

void
metrics_set_stale_ms(struct metrics *m, int64_t ms)
{
	LOCKED(m, m->stale_ms = ms > 0 ? ms : FEEDD_HEALTH_STALE_MS);
}

bool
metrics_healthy(struct metrics *m, char *why, size_t whylen)
{
	int64_t age, now = mono_ms();
	bool ok = true;

	pthread_mutex_lock(&m->mu);
	age = now - m->beat_ms;
	if (age > m->stale_ms) {
		ok = false;
		if (why && whylen)
			snprintf(why, whylen, "loop: no heartbeat for %.1f s",
				(double)age / 1000);
	} else if (m->store_bad) {
		ok = false;
		if (why && whylen)
			snprintf(why, whylen, "%s", m->store_why);
	} else if (why && whylen) {
		snprintf(why, whylen, "ok");
	}
	pthread_mutex_unlock(&m->mu);
	return ok;
}

/* --- hooks and rules ---------------------------------------------------- */

static int
cmp_hook(const void *a, const void *b)
{
	return strcmp(((const struct hook *)a)->name,
		((const struct hook *)b)->name);
}

static int
cmp_rule(const void *a, const void *b)
{
	const struct rule *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (int)x->action - (int)y->action;
}

int
metrics_hooks_configure(struct metrics *m, const char *const *names, size_t n)
{
	struct hook *h = calloc(n ? n : 1, sizeof(*h));
	size_t k = 0;

	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!names[i])
			continue;
		h[k].name = strdup(names[i]);
		if (!h[k].name) {
			hooks_free(h, k);
			return -ENOMEM;
		}
		k++;
	}
	qsort(h, k, sizeof(*h), cmp_hook);
	/* Duplicates once. */
	for (size_t i = 1; i < k;) {
		if (strcmp(h[i].name, h[i - 1].name) == 0) {
			free(h[i].name);
			memmove(&h[i], &h[i + 1], (k - i - 1) * sizeof(*h));
			k--;
		} else {
			i++;
		}
	}
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < k; i++) {
		struct hook *old = m->nhooks ? bsearch(&h[i], m->hooks, m->nhooks,
			sizeof(*h), cmp_hook) : NULL;

		if (old) {
			h[i].backlog = old->backlog;
			h[i].last_success = old->last_success;
			h[i].deliveries = old->deliveries;
			h[i].failures = old->failures;
		}
	}
	hooks_free(m->hooks, m->nhooks);
	m->hooks = h;
	m->nhooks = k;
	pthread_mutex_unlock(&m->mu);
	return 0;
}

/* Under mu. */
static struct hook *
hook_find(struct metrics *m, const char *name)
{
	struct hook key = { .name = (char *)name };

	if (!name || !m->nhooks)
		return NULL;
	return bsearch(&key, m->hooks, m->nhooks, sizeof(key), cmp_hook);
}

int
metrics_hook_set(struct metrics *m, const char *name, int64_t backlog,
	int64_t last_success_unix)
{
	struct hook *h;
	int rc = -ENOENT;

	pthread_mutex_lock(&m->mu);
	h = hook_find(m, name);
	if (h) {
		h->backlog = backlog;
		h->last_success = last_success_unix;
		rc = 0;
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

int
metrics_hook_add(struct metrics *m, const char *name, uint64_t deliveries,
	uint64_t failures)
{
	struct hook *h;
	int rc = -ENOENT;

	pthread_mutex_lock(&m->mu);
	h = hook_find(m, name);
	if (h) {
		h->deliveries += deliveries;
		h->failures += failures;
		rc = 0;
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

int
metrics_rules_configure(struct metrics *m, const struct metrics_rule *rules,
	size_t n)
{
	struct rule *r = calloc(n ? n : 1, sizeof(*r));
	size_t k = 0;

	if (!r)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!rules[i].name || (unsigned)rules[i].action >= METRICS_RULE__N)
			continue;
		r[k].name = strdup(rules[i].name);
		if (!r[k].name) {
			rules_free(r, k);
			return -ENOMEM;
		}
		r[k].action = rules[i].action;
		k++;
	}
	qsort(r, k, sizeof(*r), cmp_rule);
	for (size_t i = 1; i < k;) {
		if (cmp_rule(&r[i], &r[i - 1]) == 0) {
			free(r[i].name);
			memmove(&r[i], &r[i + 1], (k - i - 1) * sizeof(*r));
			k--;
		} else {
			i++;
		}
	}
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < k; i++) {
		struct rule *old = m->nrules ? bsearch(&r[i], m->rules, m->nrules,
			sizeof(*r), cmp_rule) : NULL;

		if (old)
			r[i].matches = old->matches;
	}
	rules_free(m->rules, m->nrules);
	m->rules = r;
	m->nrules = k;
	pthread_mutex_unlock(&m->mu);
	return 0;
}

int
metrics_rule_match(struct metrics *m, const char *name,
	enum metrics_rule_action action, uint64_t n)
{
	struct rule key = { .name = (char *)name, .action = action }, *r;
	int rc = -ENOENT;

	if (!name)
		return -ENOENT;
	pthread_mutex_lock(&m->mu);
	r = m->nrules ? bsearch(&key, m->rules, m->nrules, sizeof(key),
		cmp_rule) : NULL;
	if (r) {
		r->matches += n;
		rc = 0;
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

/* --- rendering ---------------------------------------------------------- */

struct buf {
	char *p;                      /* owned */
	size_t len, cap;
	bool oom;
};

static void
buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap * 2 + (size_t)n;
		char *np = realloc(b->p, cap);

		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
}

/* A label value, escaped as the exposition format requires. */
static void
buf_label(struct buf *b, const char *v)
{
	for (; *v && !b->oom; v++) {
		if (*v == '\\')
			buf_printf(b, "\\\\");
		else if (*v == '"')
			buf_printf(b, "\\\"");
		else if (*v == '\n')
			buf_printf(b, "\\n");
		else
			buf_printf(b, "%c", *v);
	}
}

static void
family(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A float the way Prometheus parses it. */
static void
buf_double(struct buf *b, double v)
{
	buf_printf(b, "%.15g", v);
}

static void
render_hist(struct buf *b, const char *name, const char *help,
	const struct hist *h)
{
	uint64_t cum = 0;

	family(b, name, "histogram", help);
	for (size_t i = 0; i < h->nbounds; i++) {
		cum += h->counts[i];
		buf_printf(b, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name,
			h->bounds[i], cum);
	}
	cum += h->counts[h->nbounds];
	buf_printf(b, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, cum);
	buf_printf(b, "%s_sum ", name);
	buf_double(b, h->sum);
	buf_printf(b, "\n%s_count %" PRIu64 "\n", name, h->count);
}

static void
render(struct buf *b, const struct metrics *m)
{
	family(b, "feedd_build_info", "gauge",
		"Always 1; the version label says which feedd runs.");
	buf_printf(b, "feedd_build_info{version=\"");
	buf_label(b, FEEDD_VERSION);
	buf_printf(b, "\"} 1\n");
	family(b, "feedd_process_start_time_seconds", "gauge",
		"When the daemon started, in Unix seconds.");
	buf_printf(b, "feedd_process_start_time_seconds ");
	buf_double(b, m->start_time);
	buf_printf(b, "\n");

	family(b, "feedd_polls_total", "counter",
		"Polls that ended, by result (ok includes unchanged bodies).");
	for (size_t i = 0; i < METRICS_RESULT__N; i++)
		buf_printf(b, "feedd_polls_total{result=\"%s\"} %" PRIu64 "\n",
			result_names[i], m->polls[i]);
	family(b, "feedd_poll_errors_total", "counter",
		"Polls that ended in an error, by class; they sum to "
		"feedd_polls_total{result=\"error\"}.");
	for (size_t i = 0; i < METRICS_ERROR__N; i++)
		buf_printf(b, "feedd_poll_errors_total{class=\"%s\"} %" PRIu64
			"\n", error_names[i], m->errors[i]);
	render_hist(b, "feedd_fetch_duration_seconds",
		"Time from the start of a transfer to its end.", &m->fetch);
	family(b, "feedd_fetch_received_bytes_total", "counter",
		"Response body bytes received, as sent on the wire.");
	buf_printf(b, "feedd_fetch_received_bytes_total %" PRIu64 "\n", m->bytes);
	family(b, "feedd_articles_total", "counter",
		"Articles stored by refreshes: new, updated, or purged by "
		"retention.");
	for (size_t i = 0; i < NELEM(event_names); i++)
		buf_printf(b, "feedd_articles_total{event=\"%s\"} %" PRIu64 "\n",
			event_names[i], m->articles[i]);
	family(b, "feedd_feeds", "gauge", "Configured feeds by status.");
	for (size_t i = 0; i < METRICS_FEED__N; i++)
		buf_printf(b, "feedd_feeds{status=\"%s\"} %" PRIu64 "\n",
			status_names[i], m->feeds[i]);
	render_hist(b, "feedd_schedule_lag_seconds",
		"How late a poll started after it was due.", &m->lag);
	family(b, "feedd_store_queue_jobs", "gauge",
		"Store jobs submitted and not yet done.");
	buf_printf(b, "feedd_store_queue_jobs %" PRIu64 "\n", m->store_queue);
	render_hist(b, "feedd_store_transaction_duration_seconds",
		"One store transaction (a group of jobs, or one job alone), "
		"from its begin to its durable commit.", &m->txn);
	family(b, "feedd_store_write_failures_total", "counter",
		"Store jobs whose writes failed.");
	buf_printf(b, "feedd_store_write_failures_total %" PRIu64 "\n",
		m->store_failures);
	render_hist(b, "feedd_loop_stall_seconds",
		"Busy time of each event loop iteration.", &m->loop);
	family(b, "feedd_loop_stall_max_seconds", "gauge",
		"The longest event loop iteration since start-up.");
	buf_printf(b, "feedd_loop_stall_max_seconds ");
	buf_double(b, m->loop_max);
	buf_printf(b, "\n");

	family(b, "feedd_hook_backlog", "gauge",
		"Deliveries a hook has waiting.");
	for (size_t i = 0; i < m->nhooks; i++) {
		buf_printf(b, "feedd_hook_backlog{hook=\"");
		buf_label(b, m->hooks[i].name);
		buf_printf(b, "\"} %" PRId64 "\n", m->hooks[i].backlog);
	}
	family(b, "feedd_hook_deliveries_total", "counter",
		"Deliveries a hook made.");
	for (size_t i = 0; i < m->nhooks; i++) {
		buf_printf(b, "feedd_hook_deliveries_total{hook=\"");
		buf_label(b, m->hooks[i].name);
		buf_printf(b, "\"} %" PRIu64 "\n", m->hooks[i].deliveries);
	}
	family(b, "feedd_hook_failures_total", "counter",
		"Deliveries of a hook that failed.");
	for (size_t i = 0; i < m->nhooks; i++) {
		buf_printf(b, "feedd_hook_failures_total{hook=\"");
		buf_label(b, m->hooks[i].name);
		buf_printf(b, "\"} %" PRIu64 "\n", m->hooks[i].failures);
	}
	family(b, "feedd_hook_last_success_timestamp_seconds", "gauge",
		"When a hook last delivered successfully, in Unix seconds "
		"(0: never).");
	for (size_t i = 0; i < m->nhooks; i++) {
		buf_printf(b, "feedd_hook_last_success_timestamp_seconds{hook=\"");
		buf_label(b, m->hooks[i].name);
		buf_printf(b, "\"} %" PRId64 "\n", m->hooks[i].last_success);
	}
	family(b, "feedd_rule_matches_total", "counter",
		"Articles a keep or block rule matched.");
	for (size_t i = 0; i < m->nrules; i++) {
		buf_printf(b, "feedd_rule_matches_total{rule=\"");
		buf_label(b, m->rules[i].name);
		buf_printf(b, "\",action=\"%s\"} %" PRIu64 "\n",
			action_names[m->rules[i].action], m->rules[i].matches);
	}
}

int
metrics_render(struct metrics *m, char **out, size_t *len)
{
	struct buf b = { .cap = 8192 };

	b.p = malloc(b.cap);
	if (!b.p)
		return -ENOMEM;
	b.p[0] = '\0';
	/* Formatting a few kilobytes under the lock is cheaper than copying
	 * the hook and rule tables out first. */
	pthread_mutex_lock(&m->mu);
	render(&b, m);
	pthread_mutex_unlock(&m->mu);
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}
