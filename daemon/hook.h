/*
 * hook: pushing the change log to downstream programs (feedd.conf `hook`,
 * docs/hooks.md).
 *
 * Each configured hook has a cursor over the change log in the store
 * (store_hook_*). A run reads the next batch after the cursor (at most
 * `batch` new/updated articles matching its feeds= and events=) through
 * the store worker, hands it to the hook's transport, and moves the
 * cursor only when the transport reports success. A failure retries the
 * same batch after an exponential back-off with jitter (retry=, doubling,
 * at most CONF_HOOK_RETRY_MAX). So delivery is at least once and in
 * change-log order per hook, one run at a time per hook, and the backlog
 * stays in the store: nothing is queued in memory between runs.
 *
 * Loop thread only: every store call goes through the worker (worker.h),
 * transports run on the loop. Nothing here ever blocks polling.
 */
#ifndef FEEDD_DAEMON_HOOK_H
#define FEEDD_DAEMON_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "conf.h"
#include "fetch.h"
#include "metrics.h"
#include "worker.h"

/* A batch's body is capped: a run stops adding articles past this many
 * bytes (it always holds at least one). */
#define FEEDD_HOOK_MAX_BODY (16 << 20)
/* Output of one run (stdout and stderr) logged at most; the rest is
 * counted and dropped. */
#define FEEDD_HOOK_MAX_OUTPUT 4096

/* --- transports: how a batch reaches the other side ---------------------
 *
 * A transport delivers one batch and says how it went. exec (hook_exec.c)
 * runs a program with the batch on its standard input; a webhook POSTs
 * it. hook.c picks the transport by conf_hook.kind (hook_transport_for())
 * and does everything else: cursors, batches, back-off, logging of the
 * outcome, reload and shutdown. */

struct hook_batch {
	const char *hook;      /* borrowed: the hook's name */
	/* borrowed: the articles as JSON Lines, one object per line, each
	 * line ending in '\n' (hook_batch_json_object() makes the webhook's
	 * JSON object of the same objects) */
	const char *jsonl;
	size_t len;
	size_t count;          /* articles (lines) */
	int64_t first_seq, last_seq; /* change-log seq of the first and last */
};

struct hook_result {
	bool ok;               /* delivered: the cursor moves past the batch */
	int64_t retry_after_s; /* !ok: wait at least this long; -1 = no say */
	bool permanent;        /* !ok: stop delivering until the hook is
	                        * configured anew (e.g. HTTP 410 Gone) */
	const char *error;     /* !ok: why, one line; borrowed for the call */
};

/* Runs on the loop thread, exactly once per successful start(), never
 * from inside start() or cancel(); the run is gone when it is called. */
typedef void (*hook_done_cb)(void *ud, const struct hook_result *r);

struct hook_run;

/* What the daemon lends every transport; borrowed, valid for the life of
 * the hooks. */
struct hook_ctx {
	uv_loop_t *loop;
	struct fetch *fetch;   /* the daemon's transfers (a webhook's POST);
	                        * NULL in tests that need none */
	/* The running config, for the fetch settings a webhook shares with
	 * feeds (proxy, user agent); a pointer to the daemon's pointer, so
	 * a reload is seen. NULL: the defaults. */
	struct conf *const *conf;
	/* Per-hook series (backlog, last success, deliveries, failures);
	 * NULL: none. */
	struct metrics *metrics;
};

struct hook_transport {
	const char *kind;      /* "exec", "webhook": for log lines */
	/*
	 * Deliver b. h is borrowed for the call only (a reload may free it
	 * while the run goes on): copy what the run needs. b and its body
	 * stay valid until done is called. Returns 0 (done will be called),
	 * or a negative errno with a one-line reason in err (done is not
	 * called, the hook counts a failed run).
	 */
	int (*start)(struct hook_run **out, const struct hook_ctx *ctx,
		const struct conf_hook *h, const struct hook_batch *b,
		hook_done_cb done, void *ud, char *err, size_t errlen);
	/* Stop the run soon (shutdown, hook removed); done still comes,
	 * with ok false. */
	void (*cancel)(struct hook_run *run);
};

extern const struct hook_transport hook_exec_transport;
extern const struct hook_transport hook_webhook_transport;

/* The transport for a kind, or NULL when this build has none. */
const struct hook_transport *hook_transport_for(enum conf_hook_kind kind);

/*
 * {"hook":NAME,"first_seq":N,"last_seq":N,"count":N,"articles":[...]}:
 * the batch's article objects in one JSON object (a webhook's body).
 * *out is malloc'd (the caller frees it). 0, -ENOMEM or -EINVAL (a body
 * that is not JSON Lines).
 */
int hook_batch_json_object(const struct hook_batch *b, char **out,
	size_t *len);

/* --- the set of hooks of a running daemon ---------------------------- */

struct hooks;

/* Called (loop thread) after anything of the hooks finished: a run, a
 * store job, the end of a --once drain. May call hooks_idle(). */
typedef void (*hooks_changed_cb)(void *ud);

/*
 * once: --once mode. Wakes are ignored until hooks_once_drain(), and a
 * failed run is not retried. 0 or -ENOMEM. ctx (copied; its pointers
 * borrowed) and w must outlive the hooks.
 */
int hooks_create(struct hooks **out, const struct hook_ctx *ctx,
	struct worker *w, bool once, hooks_changed_cb changed, void *ud);

/* Start-up and every reload: add, change and remove hooks to match c.
 * c is borrowed until the next hooks_configure() or hooks_close(): call
 * this before freeing the config it replaces. A removed hook's running
 * process is killed (its batch counts as not delivered); a changed hook's
 * run goes on and the new definition applies from its next run. */
void hooks_configure(struct hooks *hs, const struct conf *c);

/* New changes were committed: idle hooks read their next batch. */
void hooks_wake(struct hooks *hs);

/* --once, after polling: deliver every hook's backlog, batch after
 * batch, until each is empty or a run failed; then changed() is called
 * and hooks_once_drained() is true. */
void hooks_once_drain(struct hooks *hs);
bool hooks_once_drained(const struct hooks *hs);
/* Hooks whose run failed in --once. */
unsigned hooks_once_failed(const struct hooks *hs);

/* Shutdown: start no more runs or jobs; running ones go on. */
void hooks_stop(struct hooks *hs);
/* Kill the running processes (the grace period is over). */
void hooks_cancel(struct hooks *hs);
/* No run and no store job in flight. */
bool hooks_idle(const struct hooks *hs);

/* Configured hooks, and how many of them are failing (for STATUS=). */
unsigned hooks_count(const struct hooks *hs);
unsigned hooks_failing(const struct hooks *hs);

/* Close every handle (hooks_idle() must be true); the hooks are freed by
 * hooks_destroy() once the loop has run the close callbacks. */
void hooks_close(struct hooks *hs);
/* hooks_destroy(NULL) is a no-op. */
void hooks_destroy(struct hooks *hs);

#endif
