/*
 * daemon/webhook.c against a real receiver: tests/support/webhook_receiver.py
 * on 127.0.0.1, which checks every signature itself (Python's hmac, the
 * spec's algorithm) and logs each request as a JSON line that the cases
 * read back. One receiver for the run; a fresh uv loop and fetch object per
 * case, and uv_loop_close() must return 0 after each. Without python3 the
 * executable exits 77 (skip).
 */
#include "webhook.h"

#include "check.h"
#include "feedserver.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The Standard Webhooks specification's example secret. */
#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static struct feedserver srv;
static char tmpdir[64], logpath[128], secretpath[128];
static unsigned char *key;
static size_t keylen;

/* ---- one loop and one fetch object per case ---- */

struct env {
	uv_loop_t loop;
	struct fetch *f;
};

struct got {
	int calls;
	struct webhook_result res;
	struct webhook_req *cancel_in_cb; /* webhook_cancel()ed from the cb */
};

static void
on_result(void *ud, const struct webhook_result *res)
{
	struct got *g = ud;

	g->calls++;
	g->res = *res;
	if (g->cancel_in_cb)
		webhook_cancel(g->cancel_in_cb);
}

static bool
env_open(struct env *e)
{
	if (uv_loop_init(&e->loop) != 0)
		return false;
	if (fetch_create(&e->f, &e->loop, NULL) != 0) {
		uv_loop_close(&e->loop);
		return false;
	}
	return true;
}

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
run_until(struct env *e, const int *count, int want)
{
	double deadline = now_s() + 60;

	while (*count < want && now_s() < deadline)
		uv_run(&e->loop, UV_RUN_ONCE);
	CHECK(*count >= want);
}

static void
env_close(struct env *e)
{
	fetch_destroy(e->f);
	uv_run(&e->loop, UV_RUN_DEFAULT);
	CHECK_INT_EQ(uv_loop_close(&e->loop), 0);
}

static struct webhook_conf
conf_for(const char *path, char *url, size_t urllen)
{
	struct webhook_conf wc = {
		.url = feedserver_url(&srv, url, urllen, path),
		.key = key,
		.keylen = keylen,
		.allow_private = true,   /* 127.0.0.1 is loopback */
		.proxy = "",             /* a proxy in the environment must not matter */
	};
	return wc;
}

/* One delivery of body with id to wc, into g. */
static void
deliver(const struct webhook_conf *wc, const char *id, const char *body,
	size_t len, struct got *g)
{
	struct env e;

	memset(g, 0, sizeof(*g));
	REQUIRE(env_open(&e));
	CHECK_INT_EQ(webhook_post(e.f, wc, id, (int64_t)time(NULL), body, len,
		on_result, g, NULL), 0);
	run_until(&e, &g->calls, 1);
	env_close(&e);
	CHECK_INT_EQ(g->calls, 1);
}

/* ---- the receiver's log ---- */

/* The logged requests whose path starts with prefix, oldest first (a new
 * reference: json_decref it). */
static json_t *
logged(const char *prefix)
{
	json_t *all = json_array();
	FILE *f = fopen(logpath, "r");
	char *line = NULL;
	size_t cap = 0;

	while (f && getline(&line, &cap, f) > 0) {
		json_t *rec = json_loads(line, 0, NULL);
		const char *p = json_string_value(json_object_get(rec, "path"));
		if (p && strncmp(p, prefix, strlen(prefix)) == 0)
			json_array_append(all, rec);
		json_decref(rec);
	}
	free(line);
	if (f)
		fclose(f);
	return all;
}

static const char *
rec_header(json_t *rec, const char *name)
{
	return json_string_value(json_object_get(json_object_get(rec, "headers"),
		name));
}

static bool
rec_true(json_t *rec, const char *name)
{
	return json_is_true(json_object_get(rec, name));
}

static void
fetch_noop(void *ud, const struct fetch_result *r)
{
	(void)ud;
	(void)r;
	CHECK(!"a fetch_post() that failed to start called on_done");
}

/* ---- cases ---- */

static const char batch[] = "{\"hook\":\"chat\",\"first_seq\":1,"
	"\"last_seq\":2,\"articles\":[{\"title\":\"caf\xc3\xa9\"}]}";

static void
t_ok_2xx(void)
{
	char url[256];
	struct webhook_conf wc = conf_for("/ok", url, sizeof(url));
	struct got g;
	json_t *recs, *r;
	char ts[32];

	deliver(&wc, "chat-1-2", batch, sizeof(batch) - 1, &g);
	CHECK(g.res.ok);
	CHECK(!g.res.disable);
	CHECK_INT_EQ(g.res.rc, 0);
	CHECK_INT_EQ(g.res.http_status, 200);
	CHECK_INT_EQ(g.res.retry_after_s, -1);
	CHECK_STR_EQ(g.res.error, "");

	recs = logged("/ok");
	CHECK_INT_EQ(json_array_size(recs), 1);
	r = json_array_get(recs, 0);
	CHECK_STR_EQ(json_string_value(json_object_get(r, "method")), "POST");
	CHECK_STR_EQ(json_string_value(json_object_get(r, "body")), batch);
	CHECK_STR_EQ(rec_header(r, "content-type"), "application/json");
	CHECK_STR_EQ(rec_header(r, "webhook-id"), "chat-1-2");
	CHECK(rec_header(r, "webhook-signature") &&
		strncmp(rec_header(r, "webhook-signature"), "v1,", 3) == 0);
	CHECK(rec_header(r, "expect") == NULL);
	/* The receiver's own HMAC agrees, and the timestamp is now. */
	CHECK(rec_true(r, "sig_ok"));
	CHECK(rec_true(r, "ts_ok"));
	/* The same signature as webhook_sign() gives for what was sent. */
	{
		const char *t = rec_header(r, "webhook-timestamp");
		char sig[FEEDD_WEBHOOK_SIG_LEN];
		snprintf(ts, sizeof(ts), "%s", t ? t : "");
		CHECK_INT_EQ(webhook_sign(key, keylen, "chat-1-2",
			strtoll(ts, NULL, 10), batch, sizeof(batch) - 1, sig,
			sizeof(sig)), 0);
		CHECK_STR_EQ(rec_header(r, "webhook-signature"), sig);
	}
	json_decref(recs);

	/* Any 2xx counts. */
	wc = conf_for("/ok204?respond=204", url, sizeof(url));
	deliver(&wc, "chat-3-3", batch, sizeof(batch) - 1, &g);
	CHECK(g.res.ok);
	CHECK_INT_EQ(g.res.http_status, 204);
}

static void
t_unsigned(void)
{
	char url[256];
	struct webhook_conf wc = conf_for("/unsigned", url, sizeof(url));
	struct got g;
	json_t *recs, *r;

	wc.key = NULL;
	wc.keylen = 0;
	deliver(&wc, "u-1-1", "{}", 2, &g);
	CHECK(g.res.ok);
	recs = logged("/unsigned");
	CHECK_INT_EQ(json_array_size(recs), 1);
	r = json_array_get(recs, 0);
	CHECK_NULL(rec_header(r, "webhook-signature"));
	CHECK_STR_EQ(rec_header(r, "webhook-id"), "u-1-1");
	CHECK(json_is_false(json_object_get(r, "sig_ok")));
	json_decref(recs);
}

static void
t_large_body(void)
{
	/* 2 MiB: curl would ask "Expect: 100-continue" for this; the
	 * signature covers every byte. */
	size_t n = 2 * 1024 * 1024;
	char *body = malloc(n), url[256];
	struct webhook_conf wc = conf_for("/large", url, sizeof(url));
	struct got g;
	json_t *recs;

	REQUIRE(body);
	memset(body, 'a', n);
	body[0] = '"';
	body[n - 1] = '"';
	deliver(&wc, "large-1-1", body, n, &g);
	free(body);
	CHECK(g.res.ok);
	recs = logged("/large");
	CHECK_INT_EQ(json_array_size(recs), 1);
	CHECK_INT_EQ(json_integer_value(json_object_get(json_array_get(recs, 0),
		"body_len")), (json_int_t)n);
	CHECK(rec_true(json_array_get(recs, 0), "sig_ok"));
	json_decref(recs);
}

static void
t_retry_500_then_200(void)
{
	char url[256];
	struct webhook_conf wc = conf_for("/flaky?respond=500,200", url,
		sizeof(url));
	struct got g;
	json_t *recs;

	deliver(&wc, "chat-5-9", batch, sizeof(batch) - 1, &g);
	CHECK(!g.res.ok);
	CHECK(!g.res.disable);
	CHECK_INT_EQ(g.res.rc, -EREMOTEIO);
	CHECK_INT_EQ(g.res.http_status, 500);
	CHECK_INT_EQ(g.res.retry_after_s, -1);
	CHECK(strstr(g.res.error, "http://127.0.0.1:") != NULL);
	CHECK(strstr(g.res.error, "/flaky") != NULL);
	CHECK(strstr(g.res.error, "HTTP 500") != NULL);

	/* The retry: same id, so the receiver can tell it is the same batch. */
	deliver(&wc, "chat-5-9", batch, sizeof(batch) - 1, &g);
	CHECK(g.res.ok);
	CHECK_INT_EQ(g.res.http_status, 200);

	recs = logged("/flaky");
	CHECK_INT_EQ(json_array_size(recs), 2);
	for (size_t i = 0; i < json_array_size(recs); i++) {
		json_t *r = json_array_get(recs, i);
		CHECK_STR_EQ(rec_header(r, "webhook-id"), "chat-5-9");
		CHECK(rec_true(r, "sig_ok"));
	}
	json_decref(recs);
}

static void
t_gone_410(void)
{
	char url[256];
	struct webhook_conf wc = conf_for("/gone?respond=410", url, sizeof(url));
	struct got g;

	deliver(&wc, "chat-1-1", batch, sizeof(batch) - 1, &g);
	CHECK(!g.res.ok);
	CHECK(g.res.disable);
	CHECK_INT_EQ(g.res.http_status, 410);
	CHECK_INT_EQ(g.res.rc, -EREMOTEIO);
	CHECK(strstr(g.res.error, "410") && strstr(g.res.error, "disabled"));

	/* 404 is not 410: retryable, the hook stays. */
	wc = conf_for("/gone404?respond=404", url, sizeof(url));
	deliver(&wc, "chat-1-1", batch, sizeof(batch) - 1, &g);
	CHECK(!g.res.ok);
	CHECK(!g.res.disable);
	CHECK_INT_EQ(g.res.http_status, 404);
}

static void
t_retry_after(void)
{
	static const struct {
		const char *path;
		int status;
		int64_t lo, hi;
	} cases[] = {
		{ "/ra1?respond=429:retry=7", 429, 7, 7 },
		{ "/ra2?respond=503:retry=0", 503, 0, 0 },
		{ "/ra3?respond=503:retry-date=30", 503, 27, 30 },
		{ "/ra4?respond=429:retry-date=-60", 429, 0, 0 },  /* past */
		{ "/ra5?respond=429", 429, -1, -1 },               /* absent */
		{ "/ra6?respond=429:retry=soon", 429, -1, -1 },    /* invalid */
		{ "/ra7?respond=503:retry=99999999", 503, FEEDD_WEBHOOK_MAX_RETRY_AFTER,
		  FEEDD_WEBHOOK_MAX_RETRY_AFTER },                 /* capped */
		{ "/ra8?respond=500:retry=5", 500, -1, -1 },       /* not 429/503 */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char url[256];
		struct webhook_conf wc = conf_for(cases[i].path, url, sizeof(url));
		struct got g;

		deliver(&wc, "ra-1-1", "{}", 2, &g);
		CHECK(!g.res.ok);
		CHECK(!g.res.disable);
		CHECK_INT_EQ(g.res.http_status, cases[i].status);
		CHECK(g.res.retry_after_s >= cases[i].lo &&
			g.res.retry_after_s <= cases[i].hi);
		if (g.res.retry_after_s < cases[i].lo ||
			g.res.retry_after_s > cases[i].hi)
			fprintf(stderr, "  %s: retry_after_s %lld\n", cases[i].path,
				(long long)g.res.retry_after_s);
		if (cases[i].lo > 0)
			CHECK(strstr(g.res.error, "retry after") != NULL);
	}
}

static void
t_private_refused(void)
{
	char url[256];
	struct webhook_conf wc = conf_for("/private", url, sizeof(url));
	struct got g;
	json_t *recs;

	wc.allow_private = false;
	deliver(&wc, "p-1-1", "{}", 2, &g);
	CHECK(!g.res.ok);
	CHECK(!g.res.disable);
	CHECK_INT_EQ(g.res.rc, -EPERM);
	CHECK_INT_EQ(g.res.http_status, 0);
	CHECK(strstr(g.res.error, "/private") != NULL);
	CHECK(strstr(g.res.error, "127.0.0.1") != NULL);
	CHECK(strstr(g.res.error, "loopback") != NULL);
	CHECK(strstr(g.res.error, "allow-private=yes") != NULL);
	if (!strstr(g.res.error, "allow-private=yes"))
		fprintf(stderr, "  error: %s\n", g.res.error);
	/* Refused before connecting: the receiver never saw it. */
	recs = logged("/private");
	CHECK_INT_EQ(json_array_size(recs), 0);
	json_decref(recs);

	/* By name too: localhost resolves to loopback. */
	snprintf(url, sizeof(url), "http://localhost:%d/private-name", srv.port);
	wc.url = url;
	deliver(&wc, "p-1-1", "{}", 2, &g);
	CHECK_INT_EQ(g.res.rc, -EPERM);
	recs = logged("/private-name");
	CHECK_INT_EQ(json_array_size(recs), 0);
	json_decref(recs);

	/* The same URL with allow-private goes through. */
	wc = conf_for("/private", url, sizeof(url));
	deliver(&wc, "p-1-1", "{}", 2, &g);
	CHECK(g.res.ok);
}

static void
t_timeout(void)
{
	char url[256];
	struct webhook_conf wc = conf_for("/slow?respond=200:delay=3", url,
		sizeof(url));
	struct got g;
	double t0 = now_s();

	wc.timeout_ms = 400;
	deliver(&wc, "slow-1-1", "{}", 2, &g);
	CHECK(!g.res.ok);
	CHECK_INT_EQ(g.res.rc, -ETIMEDOUT);
	CHECK(now_s() - t0 < 2.5);
	CHECK(strstr(g.res.error, "/slow") != NULL);
	CHECK(strstr(g.res.error, "imed out") != NULL);
}

static void
t_oversize(void)
{
	char url[256];
	struct webhook_conf wc = conf_for("/big?respond=200:size=5000", url,
		sizeof(url));
	struct got g;

	wc.max_response = 1000;
	deliver(&wc, "big-1-1", "{}", 2, &g);
	CHECK(!g.res.ok);
	CHECK_INT_EQ(g.res.rc, -EFBIG);
	CHECK(strstr(g.res.error, "/big") && strstr(g.res.error, "1000"));

	/* The default cap: FEEDD_WEBHOOK_MAX_RESPONSE, not a feed's 16 MiB. */
	wc = conf_for("/big2?respond=200:size=70000", url, sizeof(url));
	deliver(&wc, "big-1-1", "{}", 2, &g);
	CHECK_INT_EQ(g.res.rc, -EFBIG);
	wc = conf_for("/big3?respond=200:size=60000", url, sizeof(url));
	deliver(&wc, "big-1-1", "{}", 2, &g);
	CHECK(g.res.ok);
}

static void
t_no_redirect(void)
{
	char url[256];
	struct webhook_conf wc = conf_for("/moved?respond=307:location=/moved-to",
		url, sizeof(url));
	json_t *recs;
	struct got g;

	deliver(&wc, "r-1-1", "{}", 2, &g);
	CHECK(!g.res.ok);
	CHECK_INT_EQ(g.res.http_status, 307);
	CHECK(strstr(g.res.error, "not followed") != NULL);
	recs = logged("/moved-to");
	CHECK_INT_EQ(json_array_size(recs), 0);
	json_decref(recs);
}

static void
t_redacted(void)
{
	char url[256];
	struct got g;
	struct webhook_conf wc = conf_for("", url, sizeof(url));

	snprintf(url, sizeof(url), "http://hookuser:s3cretpw@127.0.0.1:%d"
		"/red?respond=500&token=t0ken", srv.port);
	deliver(&wc, "red-1-1", "{}", 2, &g);
	CHECK_INT_EQ(g.res.http_status, 500);
	CHECK(strstr(g.res.error, "****@127.0.0.1") != NULL);
	CHECK(strstr(g.res.error, "/red?****") != NULL);
	CHECK(strstr(g.res.error, "s3cretpw") == NULL);
	CHECK(strstr(g.res.error, "hookuser") == NULL);
	CHECK(strstr(g.res.error, "t0ken") == NULL);
}

static void
t_refused_connect(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char url[256];
	struct webhook_conf wc = conf_for("", url, sizeof(url));
	struct got g;

	/* A port that was free a moment ago and has no listener. */
	REQUIRE(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	REQUIRE(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	REQUIRE(getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/none", ntohs(sa.sin_port));
	deliver(&wc, "c-1-1", "{}", 2, &g);
	CHECK(!g.res.ok);
	CHECK(!g.res.disable);
	CHECK_INT_EQ(g.res.rc, -ECONNREFUSED);
	CHECK_INT_EQ(g.res.http_status, 0);
	CHECK(strstr(g.res.error, url) != NULL);
	CHECK(strstr(g.res.error, "connect") != NULL);
}

static void
t_cancel(void)
{
	char url[256];
	struct webhook_conf wc = conf_for("/cancel?respond=200:delay=1", url,
		sizeof(url));
	struct got g = { 0 }, g2 = { 0 };
	struct webhook_req *rq = NULL, *rq2 = NULL;
	struct env e;

	REQUIRE(env_open(&e));
	/* Cancelled while queued or running: the callback never comes. */
	CHECK_INT_EQ(webhook_post(e.f, &wc, "x-1-1", time(NULL), "{}", 2,
		on_result, &g, &rq), 0);
	CHECK(rq != NULL);
	webhook_cancel(rq);
	/* Cancelled from its own callback: a no-op. */
	wc = conf_for("/cancel2", url, sizeof(url));
	CHECK_INT_EQ(webhook_post(e.f, &wc, "x-2-2", time(NULL), "{}", 2,
		on_result, &g2, &rq2), 0);
	g2.cancel_in_cb = rq2;
	run_until(&e, &g2.calls, 1);
	for (double end = now_s() + 2; fetch_pending(e.f) > 0 && now_s() < end;)
		uv_run(&e.loop, UV_RUN_ONCE);
	CHECK_INT_EQ(fetch_pending(e.f), 0);
	CHECK_INT_EQ(g.calls, 0);
	CHECK_INT_EQ(g2.calls, 1);
	CHECK(g2.res.ok);
	env_close(&e);
	CHECK_INT_EQ(g.calls, 0);
	webhook_cancel(NULL);
}

static void
t_destroy(void)
{
	char url[256];
	struct webhook_conf wc = conf_for("/destroy?respond=200:delay=2", url,
		sizeof(url));
	struct got g = { 0 };
	struct env e;

	/* Destroying the fetch object ends a delivery: retryable, once. */
	REQUIRE(env_open(&e));
	CHECK_INT_EQ(webhook_post(e.f, &wc, "d-1-1", time(NULL), "{}", 2,
		on_result, &g, NULL), 0);
	for (int i = 0; i < 5; i++)
		uv_run(&e.loop, UV_RUN_NOWAIT);
	env_close(&e);
	CHECK_INT_EQ(g.calls, 1);
	CHECK(!g.res.ok);
	CHECK(!g.res.disable);
	CHECK_INT_EQ(g.res.rc, -ECANCELED);
	CHECK(strstr(g.res.error, "/destroy") != NULL);
}

static void
t_tls_verified(void)
{
	/* The fetches' TLS settings: a self-signed certificate is refused,
	 * before any byte of the batch is sent. */
	static const char *const args[] = { "--tls", NULL };
	struct feedserver tls;
	char url[128];
	struct webhook_conf wc = conf_for("", url, sizeof(url));
	struct got g;
	int rc = feedserver_start_args(&tls, NULL, args);

	if (rc < 0) {
		fprintf(stderr, "  tls_verified: no TLS server (%s), not run\n",
			strerror(-rc));
		return;
	}
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/tls", tls.port);
	deliver(&wc, "tls-1-1", "{}", 2, &g);
	feedserver_stop(&tls);
	CHECK(!g.res.ok);
	CHECK(!g.res.disable);
	CHECK_INT_EQ(g.res.rc, -EPROTO);
	CHECK(strstr(g.res.error, url) != NULL);
	CHECK(strstr(g.res.error, "tls: ") != NULL);
	CHECK(strstr(g.res.error, "certificate") != NULL);
}

static void
t_abort(void)
{
	char url[256];
	struct webhook_conf wc = conf_for("/abort?respond=200:delay=2", url,
		sizeof(url));
	struct got g = { 0 };
	struct webhook_req *rq = NULL;
	struct env e;

	REQUIRE(env_open(&e));
	CHECK_INT_EQ(webhook_post(e.f, &wc, "a-1-1", time(NULL), "{}", 2,
		on_result, &g, &rq), 0);
	for (int i = 0; i < 5; i++)
		uv_run(&e.loop, UV_RUN_NOWAIT);
	webhook_abort(rq);
	CHECK_INT_EQ(g.calls, 0);   /* not from within webhook_abort() */
	run_until(&e, &g.calls, 1);
	CHECK_INT_EQ(g.calls, 1);
	CHECK(!g.res.ok);
	CHECK(!g.res.disable);
	CHECK_INT_EQ(g.res.rc, -ECANCELED);
	CHECK(strstr(g.res.error, "/abort") != NULL);
	env_close(&e);
	CHECK_INT_EQ(g.calls, 1);
	webhook_abort(NULL);
}

static void
t_post_batch(void)
{
	char url[256], err[256], bad[160];
	struct webhook_conf wc = conf_for("/batch", url, sizeof(url));
	struct got g = { 0 };
	struct env e;
	json_t *recs;
	int fd;

	/* The key comes from the file; the id from the hook and the seqs. */
	wc.key = NULL;
	wc.keylen = 0;
	REQUIRE(env_open(&e));
	CHECK_INT_EQ(webhook_post_batch(e.f, &wc, secretpath, "chat", 7, 9,
		batch, sizeof(batch) - 1, on_result, &g, NULL, err, sizeof(err)), 0);
	CHECK_STR_EQ(err, "");
	run_until(&e, &g.calls, 1);
	CHECK(g.res.ok);
	recs = logged("/batch");
	CHECK_INT_EQ(json_array_size(recs), 1);
	CHECK_STR_EQ(rec_header(json_array_get(recs, 0), "webhook-id"), "chat-7-9");
	CHECK(rec_true(json_array_get(recs, 0), "sig_ok"));
	CHECK(rec_true(json_array_get(recs, 0), "ts_ok"));
	json_decref(recs);

	/* Without a secret file: unsigned, even with a key in wc. */
	wc = conf_for("/batch-unsigned", url, sizeof(url));
	g.calls = 0;
	CHECK_INT_EQ(webhook_post_batch(e.f, &wc, NULL, "chat", 1, 1, "{}", 2,
		on_result, &g, NULL, err, sizeof(err)), 0);
	run_until(&e, &g.calls, 1);
	recs = logged("/batch-unsigned");
	CHECK_NULL(rec_header(json_array_get(recs, 0), "webhook-signature"));
	json_decref(recs);

	/* Refused before anything is sent, with a reason; no callback. */
	g.calls = 0;
	snprintf(bad, sizeof(bad), "%s/open-secret", tmpdir);
	fd = open(bad, O_WRONLY | O_CREAT | O_EXCL, 0600);
	REQUIRE(fd >= 0);
	CHECK_INT_EQ(write(fd, "k\n", 2), 2);
	close(fd);
	REQUIRE(chmod(bad, 0644) == 0);
	wc = conf_for("/batch-refused", url, sizeof(url));
	CHECK_INT_EQ(webhook_post_batch(e.f, &wc, bad, "chat", 1, 1, "{}", 2,
		on_result, &g, NULL, err, sizeof(err)), -EACCES);
	CHECK(strstr(err, bad) && strstr(err, "mode 0644"));
	unlink(bad);
	CHECK_INT_EQ(webhook_post_batch(e.f, &wc, bad, "chat", 1, 1, "{}", 2,
		on_result, &g, NULL, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, bad) != NULL);
	CHECK_INT_EQ(webhook_post_batch(e.f, &wc, NULL, "two words", 1, 1, "{}",
		2, on_result, &g, NULL, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "two words") && strstr(err, "/batch-refused"));
	wc.url = "ftp://127.0.0.1/x";
	CHECK_INT_EQ(webhook_post_batch(e.f, &wc, secretpath, "chat", 1, 1, "{}",
		2, on_result, &g, NULL, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "ftp://127.0.0.1/x") && strstr(err, "http"));
	CHECK_INT_EQ(fetch_pending(e.f), 0);
	env_close(&e);
	CHECK_INT_EQ(g.calls, 0);
	recs = logged("/batch-refused");
	CHECK_INT_EQ(json_array_size(recs), 0);
	json_decref(recs);
}

static void
t_bad_input(void)
{
	char url[256], longid[FEEDD_WEBHOOK_MAX_ID + 2];
	struct webhook_conf wc = conf_for("/bad", url, sizeof(url));
	struct webhook_conf ftp = wc;
	struct got g = { 0 };
	struct webhook_req *rq = (struct webhook_req *)&g;
	struct env e;
	static const char *bad_ids[] = { "", "two words", "cr\r\nx-evil: 1",
		"tab\tid", "nl\n", "del\x7f", "high\xc3\xa9" };

	REQUIRE(env_open(&e));
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++)
		CHECK_INT_EQ(webhook_post(e.f, &wc, bad_ids[i], 1, "{}", 2,
			on_result, &g, &rq), -EINVAL);
	memset(longid, 'i', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	CHECK_INT_EQ(webhook_post(e.f, &wc, longid, 1, "{}", 2, on_result, &g,
		&rq), -EINVAL);
	longid[FEEDD_WEBHOOK_MAX_ID] = '\0';
	CHECK_INT_EQ(webhook_post(e.f, &wc, NULL, 1, "{}", 2, on_result, &g,
		&rq), -EINVAL);
	CHECK_INT_EQ(webhook_post(e.f, &wc, "id", -1, "{}", 2, on_result, &g,
		&rq), -EINVAL);
	CHECK_INT_EQ(webhook_post(e.f, &wc, "id", 1, NULL, 2, on_result, &g,
		&rq), -EINVAL);
	CHECK_INT_EQ(webhook_post(e.f, &wc, "id", 1, "{}", 2, NULL, &g, &rq),
		-EINVAL);
	CHECK_INT_EQ(webhook_post(NULL, &wc, "id", 1, "{}", 2, on_result, &g,
		&rq), -EINVAL);
	ftp.url = "ftp://127.0.0.1/x";
	CHECK_INT_EQ(webhook_post(e.f, &ftp, "id", 1, "{}", 2, on_result, &g,
		&rq), -EINVAL);
	ftp.url = "not a url";
	CHECK_INT_EQ(webhook_post(e.f, &ftp, "id", 1, "{}", 2, on_result, &g,
		&rq), -EINVAL);
	ftp = wc;
	ftp.key = NULL;   /* a length without a key */
	CHECK_INT_EQ(webhook_post(e.f, &ftp, "id", 1, "{}", 2, on_result, &g,
		&rq), -EINVAL);
	CHECK(rq == (struct webhook_req *)&g);   /* untouched */
	/* The longest id allowed goes out. */
	CHECK_INT_EQ(webhook_post(e.f, &wc, longid, 1, "{}", 2, on_result, &g,
		NULL), 0);
	run_until(&e, &g.calls, 1);
	CHECK(g.res.ok);
	env_close(&e);
	CHECK_INT_EQ(g.calls, 1);

	/* fetch_post() itself refuses header lines that could split. */
	{
		const char *hl[] = { "X-Ok: 1", "X-Bad: a\r\nX-Evil: 1", NULL };
		const char *nocolon[] = { "NoColon", NULL };
		const char *noname[] = { ": v", NULL };
		struct fetch_req_opts o = { .url = url, .on_done = fetch_noop };
		REQUIRE(env_open(&e));
		o.headers = hl;
		CHECK_INT_EQ(fetch_post(e.f, &o, "x", 1, NULL), -EINVAL);
		o.headers = nocolon;
		CHECK_INT_EQ(fetch_post(e.f, &o, "x", 1, NULL), -EINVAL);
		o.headers = noname;
		CHECK_INT_EQ(fetch_post(e.f, &o, "x", 1, NULL), -EINVAL);
		o.headers = NULL;
		CHECK_INT_EQ(fetch_post(e.f, &o, NULL, 1, NULL), -EINVAL);
		CHECK_INT_EQ(fetch_pending(e.f), 0);
		env_close(&e);
	}
}

/* ---- fetch_post() itself ---- */

struct fgot {
	int calls;
	enum fetch_status status;
	long http;
	bool permanent;
	int rc;
};

static void
fetch_record(void *ud, const struct fetch_result *r)
{
	struct fgot *g = ud;

	g->calls++;
	g->status = r->status;
	g->http = r->http_status;
	g->permanent = r->permanent_redirect;
	g->rc = r->rc;
}

static void
fpost(const char *path, const char *const *headers, const char *etag,
	const char *body, struct fgot *g)
{
	char url[256];
	struct fetch_req_opts o = {
		.url = feedserver_url(&srv, url, sizeof(url), path),
		.headers = headers,
		.etag = etag,
		.allow_private = true,
		.proxy = "",
		.on_done = fetch_record,
		.ud = g,
	};
	struct env e;

	memset(g, 0, sizeof(*g));
	REQUIRE(env_open(&e));
	CHECK_INT_EQ(fetch_post(e.f, &o, body, body ? strlen(body) : 0, NULL), 0);
	run_until(&e, &g->calls, 1);
	env_close(&e);
}

static void
t_fetch_post_kind(void)
{
	const char *hl[] = { "Content-Type: text/plain", "X-Extra: yes", NULL };
	struct fgot g;
	json_t *recs, *r;

	/* Extra header lines go out; validators and the feed Accept do not. */
	fpost("/fp-headers", hl, "\"v1\"", "plain body", &g);
	CHECK_INT_EQ(g.status, FETCH_OK);
	recs = logged("/fp-headers");
	CHECK_INT_EQ(json_array_size(recs), 1);
	r = json_array_get(recs, 0);
	CHECK_STR_EQ(json_string_value(json_object_get(r, "method")), "POST");
	CHECK_STR_EQ(json_string_value(json_object_get(r, "body")), "plain body");
	CHECK_STR_EQ(rec_header(r, "content-type"), "text/plain");
	CHECK_STR_EQ(rec_header(r, "x-extra"), "yes");
	CHECK_NULL(rec_header(r, "if-none-match"));
	CHECK(!rec_header(r, "accept") ||
		!strstr(rec_header(r, "accept"), "atom"));
	json_decref(recs);

	/* An empty body is a POST with Content-Length 0. */
	fpost("/fp-empty", NULL, NULL, NULL, &g);
	CHECK_INT_EQ(g.status, FETCH_OK);
	recs = logged("/fp-empty");
	r = json_array_get(recs, 0);
	CHECK_STR_EQ(rec_header(r, "content-length"), "0");
	json_decref(recs);

	/* 304 is not "not modified" for a POST, and a 301 is not followed
	 * nor reported as a permanent redirect. */
	fpost("/fp-304?respond=304", NULL, NULL, "x", &g);
	CHECK_INT_EQ(g.status, FETCH_HTTP_ERROR);
	CHECK_INT_EQ(g.http, 304);
	CHECK_INT_EQ(g.rc, -EREMOTEIO);
	fpost("/fp-301?respond=301:location=/fp-target", NULL, NULL, "x", &g);
	CHECK_INT_EQ(g.status, FETCH_HTTP_ERROR);
	CHECK_INT_EQ(g.http, 301);
	CHECK(!g.permanent);
	recs = logged("/fp-target");
	CHECK_INT_EQ(json_array_size(recs), 0);
	json_decref(recs);
}

static const struct check_case cases[] = {
	{ "fetch_post_kind", t_fetch_post_kind },
	{ "ok_2xx", t_ok_2xx },
	{ "unsigned", t_unsigned },
	{ "large_body", t_large_body },
	{ "retry_500_then_200", t_retry_500_then_200 },
	{ "gone_410", t_gone_410 },
	{ "retry_after", t_retry_after },
	{ "private_refused", t_private_refused },
	{ "timeout", t_timeout },
	{ "oversize", t_oversize },
	{ "no_redirect", t_no_redirect },
	{ "redacted", t_redacted },
	{ "refused_connect", t_refused_connect },
	{ "tls_verified", t_tls_verified },
	{ "cancel", t_cancel },
	{ "destroy", t_destroy },
	{ "abort", t_abort },
	{ "post_batch", t_post_batch },
	{ "bad_input", t_bad_input },
	{ 0 },
};

int
main(int argc, char **argv)
{
	char err[256];
	const char *args[] = { "--log", logpath, "--secret-file", secretpath,
		NULL };
	int rc, fd;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!mkdtemp(strcpy(tmpdir, "/tmp/feedd-webhook-http-XXXXXX")))
		return 1;
	snprintf(logpath, sizeof(logpath), "%s/requests.jsonl", tmpdir);
	snprintf(secretpath, sizeof(secretpath), "%s/secret", tmpdir);
	fd = open(secretpath, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, SECRET "\n", sizeof(SECRET)) != (ssize_t)sizeof(SECRET))
		return 1;
	close(fd);
	if (webhook_load_secret(secretpath, &key, &keylen, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	rc = feedserver_start_script(&srv, "webhook_receiver.py", args);
	if (rc < 0) {
		fprintf(stderr, "webhook_receiver.py did not start (%s): skipped\n",
			strerror(-rc));
		rc = rc == -ENOENT ? 77 : 1;
	} else {
		rc = check_main(argc, argv, cases);
		feedserver_stop(&srv);
	}
	webhook_secret_free(key, keylen);
	unlink(logpath);
	unlink(secretpath);
	rmdir(tmpdir);
	curl_global_cleanup();
	return rc;
}
