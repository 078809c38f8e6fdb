/*
 * daemon/webhook.h: the webhook transport of push hooks. One delivery is
 * one HTTP POST of a JSON body (built by the caller: the hook runner puts
 * the batch in it) signed the Standard Webhooks way
 * (https://www.standardwebhooks.com/):
 *
 *	webhook-id: <msg_id>              stable across retries of a batch
 *	webhook-timestamp: <Unix seconds> of this attempt
 *	webhook-signature: v1,<base64(HMAC-SHA256(key, "<id>.<ts>.<body>"))>
 *	Content-Type: application/json
 *
 * The POST goes through fetch/ (fetch_post()): the same curl multi on the
 * same loop as feed fetches, with their TLS settings, caps and proxy rules.
 * The private-address rule is stricter than a feed's: every connection,
 * also the first, must go to a public address unless allow_private
 * (fetch_req_opts.public_only), and redirects are not followed.
 *
 * What the answer means (struct webhook_result): 2xx delivered (ok); 410
 * Gone: disable the hook for good (disable); anything else, or no answer,
 * is retryable, and a 429 or 503 may say when (retry_after_s). Retrying,
 * backoff and cursors are the caller's business. docs/webhooks.md is the
 * receiver's side.
 *
 * Everything runs on the loop's thread; the secret and signing functions
 * are pure and may be called from anywhere.
 *
 * A hook runner, in outline: load the key once (start-up, SIGHUP) with
 * webhook_load_secret(), failing the config on an error; per batch, make
 * the id with webhook_msg_id(), then
 *
 *	struct webhook_conf wc = { .url = h->url, .key = h->key,
 *		.keylen = h->keylen, .allow_private = h->allow_private,
 *		.proxy = conf->proxy, .timeout_ms = h->timeout_s * 1000 };
 *	rc = webhook_post(run->fetch, &wc, id, time(NULL), body, len,
 *		hook_sent, h, &h->wreq);
 *
 * (or webhook_post_batch(), which also loads the key and makes the id),
 * and in hook_sent(): res->ok -> advance the cursor; res->disable ->
 * disable the hook; else retry later, no sooner than res->retry_after_s
 * when that is >= 0, logging res->error. webhook_cancel(h->wreq) (no
 * callback) or webhook_abort() (a cancelled callback) on reload or
 * shutdown.
 */
#ifndef FEEDD_DAEMON_WEBHOOK_H
#define FEEDD_DAEMON_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fetch.h"
#include "secret.h"

#define FEEDD_WEBHOOK_MAX_RESPONSE (64 * 1024) /* default response body cap */
#define FEEDD_WEBHOOK_MAX_RETRY_AFTER 86400    /* Retry-After capped at 24 h */
#define FEEDD_WEBHOOK_MAX_ID 255               /* bytes of a message id */
#define FEEDD_WEBHOOK_SIG_LEN 48               /* "v1," + 44 base64 + NUL */

struct webhook_req;

/* One hook's endpoint. All pointers borrowed: webhook_post() copies what it
 * needs, so they may go away once it returns. */
struct webhook_conf {
	const char *url;            /* http or https */
	const unsigned char *key;   /* HMAC key bytes (webhook_load_secret());
	                             * NULL with keylen 0: unsigned, no
	                             * webhook-signature header */
	size_t keylen;
	bool allow_private;         /* allow-private=yes: loopback, RFC 1918,
	                             * link-local, ... receivers allowed */
	const char *proxy;          /* NULL = environment, "" = none */
	const char *user_agent;     /* NULL = the fetch default */
	long connect_timeout_ms;    /* 0 = fetch's default (15 s) */
	long timeout_ms;            /* the whole request; 0 = fetch's
	                             * default (60 s) */
	size_t max_response;        /* response body cap in bytes; 0 =
	                             * FEEDD_WEBHOOK_MAX_RESPONSE */
};

/* The outcome of one delivery. */
struct webhook_result {
	bool ok;                    /* a 2xx: the batch is delivered */
	bool disable;               /* a 410: disable the hook permanently */
	int rc;                     /* 0 when ok; -EREMOTEIO for another HTTP
	                             * status (410 too); else fetch's code
	                             * (-ECONNREFUSED, -ETIMEDOUT, -EFBIG,
	                             * -EPERM for a refused private address,
	                             * ...), or
	                             * -ECANCELED when the fetch object was
	                             * destroyed */
	int http_status;            /* 0 when there was no response; set on
	                             * some failures too (a 2xx whose body
	                             * went over max_response: not ok) */
	int64_t retry_after_s;      /* 429 or 503 with a valid Retry-After:
	                             * seconds from now, at most
	                             * FEEDD_WEBHOOK_MAX_RETRY_AFTER; else -1 */
	char error[256];            /* "" when ok; else "webhook URL: cause",
	                             * the URL's user name, password and query
	                             * masked: log it as is */
};

/* Runs once per delivery on the loop, unless webhook_cancel() came first.
 * res is valid until the callback returns, and so is the request handle:
 * the callback may call webhook_post() and webhook_cancel() on others (and
 * on this one, which is then a no-op) and fetch_destroy(). */
typedef void (*webhook_done_cb)(void *ud, const struct webhook_result *res);

/*
 * The webhook-signature value for one attempt: "v1," + base64 of
 * HMAC-SHA256(key, "<msg_id>.<ts>.<body>"), NUL-terminated in out (at least
 * FEEDD_WEBHOOK_SIG_LEN bytes). Returns 0, -EINVAL (no key or id, ts < 0),
 * -ENOSPC (out too small), -EIO (libcrypto failed).
 */
int webhook_sign(const unsigned char *key, size_t keylen, const char *msg_id,
	int64_t ts, const char *body, size_t len, char *out, size_t outlen);

/*
 * The message id of a batch, "<hook>-<first_seq>-<last_seq>": the same for
 * every retry of that batch, so receivers can drop duplicates. Returns 0,
 * -EINVAL (a hook name with characters other than letters, digits and
 * "-_.:", or empty) or -ENOSPC.
 */
int webhook_msg_id(char *out, size_t outlen, const char *hook,
	uint64_t first_seq, uint64_t last_seq);

/*
 * POST body (len bytes, JSON; copied) to wc->url with the headers above,
 * ts being this attempt's time (receivers refuse stale timestamps: give
 * the current time on every retry, and the same msg_id). Returns 0 and the
 * request in *out (may be NULL; valid until cb has returned or
 * webhook_cancel()), or -EINVAL (no URL, cb or id, a URL that is not
 * http/https, an id over FEEDD_WEBHOOK_MAX_ID bytes or with control
 * characters or spaces, ts < 0), -ENOMEM, -EIO, -ECANCELED (fetch object
 * being destroyed). A failed start never calls cb and leaves *out untouched.
 */
int webhook_post(struct fetch *fx, const struct webhook_conf *wc,
	const char *msg_id, int64_t ts, const char *body, size_t len,
	webhook_done_cb cb, void *ud, struct webhook_req **out);

/*
 * The whole of one hook delivery: read the key from secret_file (NULL: an
 * unsigned delivery; wc->key is ignored), make the id with
 * webhook_msg_id(hook, first_seq, last_seq), stamp it with the current
 * time, and webhook_post() it; the key is wiped before this returns. So a
 * rotated secret file takes effect on the next batch. Returns as
 * webhook_post(), plus webhook_load_secret()'s errors; on failure err
 * holds one line naming the secret file or the (masked) URL, and cb is
 * not called.
 */
int webhook_post_batch(struct fetch *fx, const struct webhook_conf *wc,
	const char *secret_file, const char *hook, uint64_t first_seq,
	uint64_t last_seq, const char *body, size_t len, webhook_done_cb cb,
	void *ud, struct webhook_req **out, char *err, size_t errlen);

/* Stop a delivery and still get its cb: once, soon, on the loop (never
 * from within this call), with ok false and rc -ECANCELED. For a caller
 * whose own contract promises a completion. No-op on NULL, after
 * webhook_cancel() and from within the cb. */
void webhook_abort(struct webhook_req *rq);

/* Stop a delivery; cb is never called for it afterwards and rq is invalid
 * once this returns. Whether the receiver got the request is unknown, so a
 * cancelled batch is sent again later with the same id. NULL is a no-op. */
void webhook_cancel(struct webhook_req *rq);

#endif
