/*
 * metrics: the daemon's counters, gauges and histograms, its health check,
 * and their Prometheus text rendering (docs/metrics.md lists every metric).
 *
 * The loop thread (run.c), the store worker (worker.c) and later the hook
 * and rule code update a struct metrics through the functions below; the
 * HTTP thread (metrics_http.c) renders it. Everything sits behind one
 * mutex, held only to add a number or copy a few: no caller ever waits on
 * I/O while holding it, and nothing the HTTP thread reads belongs to the
 * loop. Every function here may be called from any thread.
 *
 * Labels are bounded by design: results, error classes, feed statuses and
 * article events are fixed sets; hooks and rules are the names in the
 * config (metrics_hooks_configure(), metrics_rules_configure()), and a name
 * not configured is refused rather than added. No label is per feed.
 *
 * The health check (metrics_healthy()) is what /healthz answers and what
 * decides whether the systemd watchdog is fed: the loop's heartbeat must
 * be fresh and the last store write must have succeeded.
 */
#ifndef FEEDD_DAEMON_METRICS_H
#define FEEDD_DAEMON_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The heartbeat is stale, and the daemon unhealthy, after this long. */
#define FEEDD_HEALTH_STALE_MS 10000

struct metrics;

enum metrics_result {
	METRICS_RESULT_OK,            /* 2xx (stored or unchanged) */
	METRICS_RESULT_NOT_MODIFIED,  /* 304 */
	METRICS_RESULT_ERROR,
	METRICS_RESULT_GONE,          /* 410 */
	METRICS_RESULT__N
};

/* Why a poll failed (METRICS_RESULT_ERROR). */
enum metrics_error {
	METRICS_ERROR_DNS,
	METRICS_ERROR_CONNECT,
	METRICS_ERROR_TLS,
	METRICS_ERROR_TIMEOUT,
	METRICS_ERROR_HTTP_4XX,
	METRICS_ERROR_HTTP_5XX,
	METRICS_ERROR_TOO_LARGE,      /* over max-size */
	METRICS_ERROR_PARSE,
	METRICS_ERROR_STORE,
	METRICS_ERROR_OTHER,          /* policy, redirects, proxy, memory, ... */
	METRICS_ERROR__N
};

enum metrics_feed_status {
	METRICS_FEED_OK,
	METRICS_FEED_FAILING,
	METRICS_FEED_NEW,             /* not fetched yet */
	METRICS_FEED_DISABLED,        /* enabled=no in the config */
	METRICS_FEED_GONE,            /* HTTP 410 */
	METRICS_FEED__N
};

enum metrics_rule_action {
	METRICS_RULE_KEEP,
	METRICS_RULE_BLOCK,
	METRICS_RULE__N
};

/* A rule as the config names it, for metrics_rules_configure(). */
struct metrics_rule {
	const char *name;             /* borrowed (copied) */
	enum metrics_rule_action action;
};

/* 0 or -ENOMEM (*out untouched). The process start time is now. */
int metrics_create(struct metrics **out);
/* metrics_destroy(NULL) is a no-op. Nobody may use m after. */
void metrics_destroy(struct metrics *m);

/* --- the daemon's own numbers ------------------------------------------ */

/* The class of a failed transfer, from fetch/'s result: its stage
 * ("resolve", "connect", "tls", "response", ...), rc and HTTP status. */
enum metrics_error metrics_error_class(const char *stage, int rc,
	long http_status);
/* One poll ended with result r; e is used for METRICS_RESULT_ERROR only. */
void metrics_poll(struct metrics *m, enum metrics_result r,
	enum metrics_error e);
/* A transfer got an answer (or failed) after seconds, bytes on the wire. */
void metrics_fetch(struct metrics *m, double seconds, uint64_t bytes);
/* Articles a refresh stored. */
void metrics_articles(struct metrics *m, uint64_t new_, uint64_t updated,
	uint64_t purged);
/* A poll started seconds after it was due (0 if early). */
void metrics_schedule_lag(struct metrics *m, double seconds);
/* How many configured feeds are in each status, counted by the loop. */
void metrics_feeds(struct metrics *m, const uint64_t n[METRICS_FEED__N]);
/* Store jobs submitted and not yet done. */
void metrics_store_queue(struct metrics *m, uint64_t jobs);
/* One store transaction (a group, or a job run alone) took seconds, begin
 * to durable commit (or to its failure: a failed write is counted by the
 * job's metrics_store_result()). */
void metrics_store_transaction(struct metrics *m, double seconds);
/* The result of a job that wrote to the store: rc 0 makes the store
 * healthy again; an error of the database itself (-EBUSY, -EROFS,
 * -ENOSPC, -EACCES, -EIO, -ENOMEM, -EDQUOT) unhealthy with why (copied,
 * cut to 200 bytes; e.g. "store: commit: ... (attempt to write a readonly
 * database)"). Any other negative rc is about the job's own data (a
 * record the store refused): counted as a failure, health unchanged, so
 * one odd feed cannot stop the watchdog. */
void metrics_store_result(struct metrics *m, int rc, const char *why);
/* One loop iteration was busy for seconds. */
void metrics_loop_busy(struct metrics *m, double seconds);
/* The loop turns (a 1 s timer calls this). */
void metrics_heartbeat(struct metrics *m);

/*
 * Whether the daemon is healthy: a heartbeat within FEEDD_HEALTH_STALE_MS
 * and no store write failure since the last success. When not, why
 * (may be NULL) gets a one-line reason such as "loop: no heartbeat for
 * 12.0 s" or "store: ...".
 */
bool metrics_healthy(struct metrics *m, char *why, size_t whylen);

/* How old a heartbeat may be (ms; <= 0: FEEDD_HEALTH_STALE_MS). For the
 * tests, which cannot wait ten seconds. */
void metrics_set_stale_ms(struct metrics *m, int64_t ms);

/* --- hooks and rules (named by the config) ----------------------------- */

/*
 * The hooks that exist now: names[0..n) (copied; duplicates are counted
 * once). A name that stays keeps its numbers, a new one starts at zero, a
 * name no longer listed is forgotten. Call at start-up and after each
 * reload. 0 or -ENOMEM (the previous set kept).
 */
int metrics_hooks_configure(struct metrics *m, const char *const *names,
	size_t n);
/* The hook's gauges: deliveries waiting, and the Unix time of its last
 * successful delivery (0: none yet). 0, or -ENOENT for a name not
 * configured (nothing recorded). */
int metrics_hook_set(struct metrics *m, const char *name, int64_t backlog,
	int64_t last_success_unix);
/* Add to the hook's counters: deliveries made and deliveries that failed.
 * 0 or -ENOENT. */
int metrics_hook_add(struct metrics *m, const char *name, uint64_t deliveries,
	uint64_t failures);

/* The keep/block rules that exist now, as metrics_hooks_configure(). A
 * rule is its name and action; the same name may appear with both. */
int metrics_rules_configure(struct metrics *m, const struct metrics_rule *rules,
	size_t n);
/* The rule matched n more articles. 0 or -ENOENT. */
int metrics_rule_match(struct metrics *m, const char *name,
	enum metrics_rule_action action, uint64_t n);

/* --- rendering --------------------------------------------------------- */

/*
 * Everything in the Prometheus text exposition format (version 0.0.4)
 * into *out (malloc'd, NUL-terminated; the caller frees it) and *len.
 * 0 or -ENOMEM (*out untouched).
 */
int metrics_render(struct metrics *m, char **out, size_t *len);

#endif
