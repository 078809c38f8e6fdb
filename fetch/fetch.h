/*
 * fetch/: HTTP(S) transfers on a caller's libuv loop.
 *
 * One CURLM handle driven by the loop (a uv_poll_t per socket, one
 * uv_timer_t), with a global and a per-host cap on transfers in flight,
 * conditional GET, size/time caps, and a redirect policy (http/https only,
 * at most 5 hops, no redirect from public into private address space unless
 * allowed). The body is handed over chunk by chunk as it arrives.
 *
 * fetch/ knows nothing about feeds, SQLite or XML. All functions must be
 * called on the loop's thread. The process calls
 * curl_global_init(CURL_GLOBAL_DEFAULT) once before fetch_create().
 * fetch/README.md has the policy details, error codes and caps.
 */
#ifndef FEEDD_FETCH_FETCH_H
#define FEEDD_FETCH_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define FEEDD_MAX_BODY (16 * 1024 * 1024)  /* decoded body bytes */
#define FEEDD_MAX_HEADERS (64 * 1024)      /* all response header bytes */
#define FEEDD_MAX_REDIRECTS 5

struct fetch;
struct fetch_req;

struct fetch_opts {
	unsigned max_total;       /* transfers in flight; 0 = 32 */
	unsigned max_per_host;    /* per host name; 0 = 2 */
	const char *user_agent;   /* borrowed (copied); NULL = "feedd/VERSION" */
};

enum fetch_status {
	FETCH_OK = 0,             /* 2xx, body delivered */
	FETCH_NOT_MODIFIED,       /* 304, no body */
	FETCH_HTTP_ERROR,         /* a response with another status */
	FETCH_FAILED,             /* no usable response: see rc, stage, error */
	FETCH_CANCELLED,
};

/* Everything the completion callback gets. All pointers borrowed, valid
 * until the callback returns; NULL = absent. rc is 0 exactly when status is
 * FETCH_OK or FETCH_NOT_MODIFIED; FETCH_HTTP_ERROR has -EREMOTEIO,
 * FETCH_CANCELLED -ECANCELED. Only FETCH_OK means the body is complete and
 * may be stored. */
struct fetch_result {
	enum fetch_status status;
	int rc;                   /* 0, or -ETIMEDOUT, -EFBIG, -ECONNREFUSED, -EPERM (policy), ... */
	long http_status;         /* 0 when no response */
	int curl_code;
	const char *error;        /* specific text: libcurl's message or the policy;
	                           * at stage "proxy", "proxy URL: why" (the URL's
	                           * user name and password masked) */
	const char *stage;        /* "resolve", "connect", "tls", "request", "body", "policy",
	                           * "redirect", "headers", "response" (HTTP error), "proxy", "cancel" */
	const char *url;          /* the requested URL */
	const char *effective_url;
	bool permanent_redirect;  /* every hop was 301 or 308 */
	const char *redirect_url; /* where the permanent chain led, if any */
	const char *etag, *last_modified; /* exactly as the server sent them (a 304
	                           * may omit them: keep the stored ones); a value with
	                           * control characters is reported as absent */
	const char *cache_control, *expires, *retry_after;
	int64_t retry_after_s;    /* Retry-After in seconds from now, -1 when absent */
	const char *content_type, *charset;
	const char *body_hash;    /* FETCH_OK only: 64-bit FNV-1a of the decoded
	                           * body, 16 lower-case hex digits */
	uint64_t body_bytes;      /* decoded */
	uint64_t wire_bytes;      /* body as downloaded (before decoding; no headers) */
	double t_connect, t_first_byte, t_total; /* seconds */
};

/* A chunk of the decoded body of a 2xx response (error pages and redirect
 * bodies are never passed on). Return 0 to go on; non-zero aborts the
 * transfer (status FETCH_FAILED, rc -ECANCELED). Runs inside a libcurl
 * callback: it may call fetch_req_cancel() on any request (this one too)
 * and fetch_start(); both take effect on the next loop turn. If the
 * transfer then fails, what was passed on must be discarded. */
typedef int (*fetch_data_cb)(void *ud, const void *buf, size_t len);

/* Fires exactly once per successfully started request. The request handle
 * is invalid after it returns. It may call fetch_start() and
 * fetch_req_cancel() on other requests. */
typedef void (*fetch_done_cb)(void *ud, const struct fetch_result *r);

struct fetch_req_opts {
	const char *url;           /* borrowed (copied) */
	const char *etag;          /* If-None-Match, echoed as stored; not sent if
	                            * empty or holding control characters */
	const char *last_modified; /* If-Modified-Since, echoed as stored (same) */
	const char *user_agent;    /* NULL = the fetch default */
	const char *proxy;         /* NULL = environment (http_proxy, https_proxy,
	                            * all_proxy, no_proxy); "" = never a proxy */
	const char *username, *password; /* basic auth; never logged */
	long connect_timeout_ms;   /* 0 = 15000 */
	long timeout_ms;           /* 0 = 60000 */
	long low_speed_bytes;      /* abort below this rate ... 0 = 16 */
	long low_speed_s;          /* ... for this long; 0 = 30 */
	size_t max_body;           /* 0 = FEEDD_MAX_BODY */
	bool allow_private;        /* redirects may go to private addresses. Without
	                            * it, once a redirect has left the configured
	                            * URL's host name, every connection must go to a
	                            * public address (fetch/addr.h); the configured
	                            * host itself is trusted. Through a proxy only
	                            * the proxy can check. */
	bool public_only;          /* Stricter: every connection, also to the
	                            * URL's own host, must go to a public
	                            * address (unless allow_private). For a URL
	                            * a person typed at a prompt (feedctl
	                            * discover) rather than one configured. */
	const char *const *headers; /* more request header lines, "Name: value",
	                            * NULL-terminated; borrowed (copied), sent
	                            * after fetch/'s own. A line without a name
	                            * and a colon, or with control characters,
	                            * makes the start fail with -EINVAL. */
	fetch_data_cb on_data;     /* may be NULL: the body is only hashed */
	fetch_done_cb on_done;
	void *ud;
};

/* Returns 0, -ENOMEM, -EIO. */
int fetch_create(struct fetch **out, uv_loop_t *loop, const struct fetch_opts *o);

/*
 * Queue a transfer; it starts when the caps allow (queued transfers start
 * round-robin across hosts). Returns 0 and the request in *out (may be
 * NULL), or -EINVAL (no on_done, a URL that does not parse, a scheme other
 * than http/https), -ENOMEM, -ECANCELED (after fetch_destroy()); a failed
 * start never calls on_done and leaves *out untouched.
 */
int fetch_start(struct fetch *f, const struct fetch_req_opts *o,
	struct fetch_req **out);

/*
 * The POST kind: the same queue, caps, budgets, proxy, TLS and address
 * policy as fetch_start(), with len bytes of body (copied; body may be
 * NULL when len is 0). Differences: etag and last_modified are ignored,
 * redirects are not followed (a 3xx is FETCH_HTTP_ERROR, and so is a 304),
 * no feed Accept header is sent and "Expect: 100-continue" is suppressed.
 * Give the Content-Type in o->headers (libcurl's default is
 * application/x-www-form-urlencoded). Returns as fetch_start().
 */
int fetch_post(struct fetch *f, const struct fetch_req_opts *o,
	const void *body, size_t len, struct fetch_req **out);

/*
 * A Retry-After value (RFC 9110 10.2.3): delta-seconds, or an HTTP date
 * (IMF-fixdate, RFC 850 or asctime form) read against now (Unix seconds).
 * Returns the seconds from now (0 for a date in the past), or -1 when value
 * is NULL, empty or neither form. Huge deltas saturate at INT64_MAX / 10.
 * fetch_result.retry_after_s is this with now = time(NULL).
 */
int64_t fetch_retry_after_parse(const char *value, int64_t now);

/* Cancel a queued or running transfer; its on_done fires once with
 * FETCH_CANCELLED (from within this call or soon after, on the loop). */
void fetch_req_cancel(struct fetch_req *r);

/* Transfers queued or in flight. */
unsigned fetch_pending(const struct fetch *f);

/*
 * Cancel everything (callbacks fire), then close the uv handles. The
 * object is freed in the last close callback: keep running the loop until
 * it has no more active handles. fetch_destroy(NULL) is a no-op.
 */
void fetch_destroy(struct fetch *f);

#endif
