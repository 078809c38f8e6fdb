/*
 * fetch/ against a real server: tests/support/feedserver.py on 127.0.0.1,
 * one process for the whole run, a fresh uv loop and fetch object per case
 * (uv_loop_close() must return 0 at the end of each). Without python3 only
 * the address-policy table runs and the executable exits 77 (skip).
 */
#include "fetch.h"
#include "addr.h"

#include "check.h"
#include "feedserver.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct feedserver srv;
static bool have_server;

/* ---- a recorded completion ---- */

struct got {
	int calls;
	int data_calls;
	enum fetch_status status;
	int rc;
	long http;
	int curl_code;
	char error[512], stage[32], url[512], eff[512], redirect[512];
	char etag[256], lm[128], cc[256], expires[128], ra[128];
	char ctype[128], charset[64], hash[32];
	bool has_etag, has_lm, has_hash, has_redirect;
	bool permanent;
	int64_t ra_s;
	uint64_t body_bytes, wire_bytes;
	char *body;            /* owned: what on_data delivered */
	size_t body_len, body_cap;
	size_t data_limit;     /* on_data returns 1 past this many bytes */
	struct fetch_req *cancel_in_data; /* cancelled from on_data */
};

static void
cp(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

static int
on_data(void *ud, const void *buf, size_t len)
{
	struct got *g = ud;
	char *b;

	g->data_calls++;
	if (g->cancel_in_data) {
		fetch_req_cancel(g->cancel_in_data);
		g->cancel_in_data = NULL;
	}
	if (g->data_limit && g->body_len + len > g->data_limit)
		return 1;
	if (g->body_len + len + 1 > g->body_cap) {
		size_t cap = g->body_cap ? g->body_cap : 4096;
		while (cap < g->body_len + len + 1)
			cap *= 2;
		b = realloc(g->body, cap);
		if (!b)
			return 1;
		g->body = b;
		g->body_cap = cap;
	}
	memcpy(g->body + g->body_len, buf, len);
	g->body_len += len;
	g->body[g->body_len] = '\0';
	return 0;
}

static void
on_done(void *ud, const struct fetch_result *r)
{
	struct got *g = ud;

	g->calls++;
	g->status = r->status;
	g->rc = r->rc;
	g->http = r->http_status;
	g->curl_code = r->curl_code;
	cp(g->error, sizeof(g->error), r->error);
	cp(g->stage, sizeof(g->stage), r->stage);
	cp(g->url, sizeof(g->url), r->url);
	cp(g->eff, sizeof(g->eff), r->effective_url);
	cp(g->redirect, sizeof(g->redirect), r->redirect_url);
	cp(g->etag, sizeof(g->etag), r->etag);
	cp(g->lm, sizeof(g->lm), r->last_modified);
	cp(g->cc, sizeof(g->cc), r->cache_control);
	cp(g->expires, sizeof(g->expires), r->expires);
	cp(g->ra, sizeof(g->ra), r->retry_after);
	cp(g->ctype, sizeof(g->ctype), r->content_type);
	cp(g->charset, sizeof(g->charset), r->charset);
	cp(g->hash, sizeof(g->hash), r->body_hash);
	g->has_etag = r->etag != NULL;
	g->has_lm = r->last_modified != NULL;
	g->has_hash = r->body_hash != NULL;
	g->has_redirect = r->redirect_url != NULL;
	g->permanent = r->permanent_redirect;
	g->ra_s = r->retry_after_s;
	g->body_bytes = r->body_bytes;
	g->wire_bytes = r->wire_bytes;
}

static void
got_free(struct got *g)
{
	free(g->body);
	memset(g, 0, sizeof(*g));
}

/* ---- one loop and one fetch object per case ---- */

struct env {
	uv_loop_t loop;
	struct fetch *f;
};

static bool
env_open(struct env *e, unsigned max_total, unsigned max_per_host)
{
	struct fetch_opts o = { .max_total = max_total,
		.max_per_host = max_per_host };

	if (uv_loop_init(&e->loop) != 0)
		return false;
	if (fetch_create(&e->f, &e->loop, &o) != 0) {
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

/* Run the loop until *count reaches want (or 60 s pass: a failure). */
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

/* Fetch one server path with options o (url, callbacks and ud are set
 * here) into g. */
static void
get(const char *path, struct fetch_req_opts *o, struct got *g)
{
	struct env e;
	char url[1024];
	struct fetch_req_opts local = { 0 };

	if (!o)
		o = &local;
	if (strncmp(path, "http", 4) == 0)
		snprintf(url, sizeof(url), "%s", path);
	else
		feedserver_url(&srv, url, sizeof(url), path);
	o->url = url;
	o->on_data = on_data;
	o->on_done = on_done;
	o->ud = g;
	REQUIRE(env_open(&e, 0, 0));
	CHECK_INT_EQ(fetch_start(e.f, o, NULL), 0);
	run_until(&e, &g->calls, 1);
	CHECK_INT_EQ(fetch_pending(e.f), 0);
	env_close(&e);
	CHECK_INT_EQ(g->calls, 1);
}

static uint64_t
fnv1a64(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* ---- cases ---- */

static void
t_ok_200(void)
{
	struct got g = { 0 };
	char hex[32], hdr[512];

	get("/ok?feed=3&etag=%22e1%22&lm=Mon,%2001%20Jan%202024%2000:00:00%20GMT"
		"&h=Cache-Control:max-age%3D60&h=Cache-Control:public"
		"&h=Expires:Tue,%2002%20Jan%202024%2000:00:00%20GMT", NULL, &g);
	CHECK_INT_EQ(g.status, FETCH_OK);
	CHECK_INT_EQ(g.rc, 0);
	CHECK_INT_EQ(g.http, 200);
	CHECK_STR_EQ(g.stage, "");
	CHECK_STR_EQ(g.etag, "\"e1\"");
	CHECK_STR_EQ(g.lm, "Mon, 01 Jan 2024 00:00:00 GMT");
	CHECK_STR_EQ(g.cc, "max-age=60, public");
	CHECK_STR_EQ(g.expires, "Tue, 02 Jan 2024 00:00:00 GMT");
	CHECK_STR_EQ(g.ctype, "application/rss+xml; charset=utf-8");
	CHECK_STR_EQ(g.charset, "utf-8");
	CHECK_STR_EQ(g.eff, g.url);
	CHECK(!g.permanent && !g.has_redirect);
	CHECK_INT_EQ(g.ra_s, -1);
	REQUIRE(g.body);
	CHECK(strstr(g.body, "<rss version=\"2.0\">") != NULL);
	CHECK_INT_EQ(g.body_bytes, g.body_len);
	CHECK_INT_EQ(g.wire_bytes, g.body_len);
	snprintf(hex, sizeof(hex), "%016" PRIx64, fnv1a64(g.body, g.body_len));
	CHECK_STR_EQ(g.hash, hex);
	/* What the server saw. */
	REQUIRE(feedserver_header(&srv, "/ok?", "user-agent", hdr, sizeof(hdr)) == 0);
	CHECK_STR_EQ(hdr, "feedd/" FEEDD_VERSION);
	REQUIRE(feedserver_header(&srv, "/ok?", "accept", hdr, sizeof(hdr)) == 0);
	CHECK(strncmp(hdr, "application/atom+xml, application/rss+xml", 41) == 0);
	REQUIRE(feedserver_header(&srv, "/ok?", "accept-encoding", hdr, sizeof(hdr)) == 0);
	CHECK(strstr(hdr, "gzip") && strstr(hdr, "deflate"));
	CHECK(feedserver_header(&srv, "/ok?", "if-none-match", hdr, sizeof(hdr)) < 0);
	CHECK(feedserver_header(&srv, "/ok?", "if-modified-since", hdr, sizeof(hdr)) < 0);
	got_free(&g);
}

/* The validators go back byte for byte, and a matching server says 304. */
static void
t_not_modified_etag(void)
{
	static const char *path = "/inm?body=x&etag=W/%22a%20b%3B1%22";
	struct got g = { 0 }, g2 = { 0 };
	struct fetch_req_opts o = { 0 };
	char hdr[256];

	get(path, NULL, &g);
	CHECK_INT_EQ(g.status, FETCH_OK);
	CHECK_STR_EQ(g.etag, "W/\"a b;1\"");
	o.etag = g.etag;
	get(path, &o, &g2);
	CHECK_INT_EQ(g2.status, FETCH_NOT_MODIFIED);
	CHECK_INT_EQ(g2.rc, 0);
	CHECK_INT_EQ(g2.http, 304);
	CHECK_INT_EQ(g2.data_calls, 0);
	CHECK_INT_EQ(g2.body_bytes, 0);
	CHECK(!g2.has_hash);
	CHECK_STR_EQ(g2.etag, "W/\"a b;1\"");
	REQUIRE(feedserver_header(&srv, "/inm?", "if-none-match", hdr, sizeof(hdr)) == 0);
	CHECK_STR_EQ(hdr, "W/\"a b;1\"");
	got_free(&g);
	got_free(&g2);
}

static void
t_not_modified_last_modified(void)
{
	/* An obsolete RFC 850 date: libcurl's own time condition would send
	 * it re-formatted, and this server only matches the exact bytes. */
	static const char *path =
		"/ims?body=x&lm=Monday,%2001-Jan-24%2000:00:00%20GMT";
	struct got g = { 0 }, g2 = { 0 };
	struct fetch_req_opts o = { 0 };
	char hdr[256];

	get(path, NULL, &g);
	CHECK_INT_EQ(g.status, FETCH_OK);
	CHECK_STR_EQ(g.lm, "Monday, 01-Jan-24 00:00:00 GMT");
	CHECK(!g.has_etag);
	o.last_modified = g.lm;
	get(path, &o, &g2);
	CHECK_INT_EQ(g2.status, FETCH_NOT_MODIFIED);
	CHECK_INT_EQ(g2.http, 304);
	CHECK_INT_EQ(g2.data_calls, 0);
	REQUIRE(feedserver_header(&srv, "/ims?", "if-modified-since", hdr, sizeof(hdr)) == 0);
	CHECK_STR_EQ(hdr, "Monday, 01-Jan-24 00:00:00 GMT");
	CHECK(feedserver_header(&srv, "/ims?", "if-none-match", hdr, sizeof(hdr)) < 0);
	got_free(&g);
	got_free(&g2);
}

/* A stored validator that could end its header line is not sent. */
static void
t_validator_injection(void)
{
	struct got g = { 0 };
	struct fetch_req_opts o = { .etag = "\"a\"\r\nX-Evil: 1",
		.last_modified = "Mon\n" };
	char hdr[256];

	get("/inj?body=x", &o, &g);
	CHECK_INT_EQ(g.status, FETCH_OK);
	CHECK(feedserver_header(&srv, "/inj?", "if-none-match", hdr, sizeof(hdr)) < 0);
	CHECK(feedserver_header(&srv, "/inj?", "if-modified-since", hdr, sizeof(hdr)) < 0);
	CHECK(feedserver_header(&srv, "/inj?", "x-evil", hdr, sizeof(hdr)) < 0);
	got_free(&g);
}

static void
t_encodings(void)
{
	static const char *encs[] = { "gzip", "deflate", "rawdeflate" };

	for (size_t i = 0; i < sizeof(encs) / sizeof(encs[0]); i++) {
		struct got g = { 0 };
		char path[128];
		snprintf(path, sizeof(path), "/enc?size=200000&enc=%s", encs[i]);
		get(path, NULL, &g);
		CHECK_INT_EQ(g.status, FETCH_OK);
		CHECK_INT_EQ(g.body_bytes, 200000);
		CHECK_INT_EQ(g.body_len, 200000);
		CHECK(g.wire_bytes > 0 && g.wire_bytes < 20000);
		CHECK(g.body && strncmp(g.body, "feedd test body", 15) == 0);
		if (g.status != FETCH_OK)
			fprintf(stderr, "  enc=%s: %s\n", encs[i], g.error);
		got_free(&g);
	}
}

static void
t_chunked(void)
{
	struct got g = { 0 };

	get("/chunked?size=100000&chunked=1&chunk=1000", NULL, &g);
	CHECK_INT_EQ(g.status, FETCH_OK);
	CHECK_INT_EQ(g.body_len, 100000);
	CHECK(g.data_calls > 1);
	got_free(&g);
}

static void
t_redirects(void)
{
	static const struct {
		const char *hops;
		bool permanent;
	} cases[] = {
		{ "301", true }, { "302", false }, { "307", false },
		{ "308", true }, { "301,308", true }, { "308,302", false },
		{ "301,301,301,301,301", true },   /* 5 hops: the most allowed */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct got g = { 0 };
		char path[128], want[256];
		snprintf(path, sizeof(path), "/redir%zu?body=final&hops=%s", i,
			cases[i].hops);
		get(path, NULL, &g);
		CHECK_INT_EQ(g.status, FETCH_OK);
		CHECK_INT_EQ(g.http, 200);
		CHECK(g.body && strcmp(g.body, "final") == 0);
		feedserver_url(&srv, want, sizeof(want), "");
		snprintf(want + strlen(want), sizeof(want) - strlen(want),
			"/redir%zu?body=final", i);
		CHECK_STR_EQ(g.eff, want);
		CHECK_INT_EQ(g.permanent, cases[i].permanent);
		if (cases[i].permanent)
			CHECK_STR_EQ(g.redirect, want);
		else
			CHECK(!g.has_redirect);
		if (g.permanent != cases[i].permanent)
			fprintf(stderr, "  hops=%s\n", cases[i].hops);
		got_free(&g);
	}
}

static void
t_redirect_limits(void)
{
	struct got g = { 0 }, g2 = { 0 };

	get("/loop?loop=1", NULL, &g);
	CHECK_INT_EQ(g.status, FETCH_FAILED);
	CHECK_INT_EQ(g.rc, -ELOOP);
	CHECK_STR_EQ(g.stage, "redirect");
	CHECK_INT_EQ(g.curl_code, CURLE_TOO_MANY_REDIRECTS);
	CHECK(g.error[0] != '\0');
	get("/six?body=x&hops=301,301,301,301,301,301", NULL, &g2);
	CHECK_INT_EQ(g2.status, FETCH_FAILED);
	CHECK_INT_EQ(g2.rc, -ELOOP);
	got_free(&g);
	got_free(&g2);
}

static void
t_redirect_bad_scheme(void)
{
	static const char *paths[] = {
		"/tofile?location=file:///etc/passwd",
		"/toftp?location=ftp://127.0.0.1/feed.xml",
		"/togopher?status=301&location=gopher://127.0.0.1/",
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct got g = { 0 };
		get(paths[i], NULL, &g);
		CHECK_INT_EQ(g.status, FETCH_FAILED);
		CHECK_INT_EQ(g.rc, -EPROTONOSUPPORT);
		CHECK_STR_EQ(g.stage, "redirect");
		CHECK_INT_EQ(g.data_calls, 0);
		if (g.rc != -EPROTONOSUPPORT)
			fprintf(stderr, "  %s: %s\n", paths[i], g.error);
		got_free(&g);
	}
}

/* fetch_start() refuses what it cannot fetch, and never calls back. */
static void
t_start_rejects(void)
{
	static const char *urls[] = { "file:///etc/passwd", "ftp://example.com/",
		"not a url", "http://", "example.com/feed", "gopher://x/" };
	struct env e;
	struct got g = { 0 };
	struct fetch_req *r = (struct fetch_req *)&g;

	REQUIRE(env_open(&e, 0, 0));
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		struct fetch_req_opts o = { .url = urls[i], .on_done = on_done,
			.ud = &g };
		CHECK_INT_EQ(fetch_start(e.f, &o, &r), -EINVAL);
		CHECK(r == (struct fetch_req *)&g);   /* *out untouched */
	}
	{
		struct fetch_req_opts o = { .url = "http://x/", .ud = &g };
		CHECK_INT_EQ(fetch_start(e.f, &o, NULL), -EINVAL); /* no on_done */
	}
	CHECK_INT_EQ(fetch_pending(e.f), 0);
	uv_run(&e.loop, UV_RUN_NOWAIT);
	env_close(&e);
	CHECK_INT_EQ(g.calls, 0);
}

static void
t_http_errors(void)
{
	static const long codes[] = { 404, 410, 500 };

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		struct got g = { 0 };
		char path[128];
		snprintf(path, sizeof(path), "/err?status=%ld&body=error%%20page",
			codes[i]);
		get(path, NULL, &g);
		CHECK_INT_EQ(g.status, FETCH_HTTP_ERROR);
		CHECK_INT_EQ(g.http, codes[i]);
		CHECK_INT_EQ(g.rc, -EREMOTEIO);
		CHECK_STR_EQ(g.stage, "response");
		CHECK(strstr(g.error, "HTTP") != NULL);
		/* An error page is not a feed: nothing reaches on_data. */
		CHECK_INT_EQ(g.data_calls, 0);
		CHECK(!g.has_hash);
		got_free(&g);
	}
}

static void
t_retry_after(void)
{
	struct got g = { 0 }, g2 = { 0 }, g3 = { 0 };

	get("/429?status=429&retry_after=120", NULL, &g);
	CHECK_INT_EQ(g.status, FETCH_HTTP_ERROR);
	CHECK_INT_EQ(g.http, 429);
	CHECK_STR_EQ(g.ra, "120");
	CHECK_INT_EQ(g.ra_s, 120);
	get("/503?status=503&retry_after_date=600", NULL, &g2);
	CHECK_INT_EQ(g2.http, 503);
	CHECK(strstr(g2.ra, " GMT") != NULL);
	CHECK(g2.ra_s >= 590 && g2.ra_s <= 601);
	get("/503b?status=503&retry_after=soon", NULL, &g3);
	CHECK_STR_EQ(g3.ra, "soon");
	CHECK_INT_EQ(g3.ra_s, -1);     /* unparsable = absent */
	got_free(&g);
	got_free(&g2);
	got_free(&g3);
}

static void
t_timeouts(void)
{
	struct got g = { 0 }, g2 = { 0 };
	struct fetch_req_opts o = { .low_speed_bytes = 1000, .low_speed_s = 1 };
	struct fetch_req_opts o2 = { .timeout_ms = 500 };

	/* Headers and one chunk, then silence: the low-speed abort. */
	get("/stall?size=100000&chunk=1000&stall=4", &o, &g);
	CHECK_INT_EQ(g.status, FETCH_FAILED);
	CHECK_INT_EQ(g.rc, -ETIMEDOUT);
	CHECK_STR_EQ(g.stage, "body");
	CHECK_INT_EQ(g.http, 200);
	CHECK(strstr(g.error, "slow") != NULL);
	/* No answer at all: the total timeout. */
	get("/slow?delay=4&body=x", &o2, &g2);
	CHECK_INT_EQ(g2.status, FETCH_FAILED);
	CHECK_INT_EQ(g2.rc, -ETIMEDOUT);
	CHECK_STR_EQ(g2.stage, "request");
	got_free(&g);
	got_free(&g2);
}

static void
t_body_cap(void)
{
	static const struct {
		const char *path;
		size_t cap;
	} cases[] = {
		{ "/cap-plain?size=300000", 100000 },
		{ "/cap-chunked?size=300000&chunked=1", 100000 },
		{ "/cap-eof?size=300000&cl=none", 100000 },  /* ends at close */
		{ "/cap-gzip?size=3000000&enc=gzip", 1000000 },
		{ "/cap-bomb?bomb=200000000", 0 },   /* default: 16 MiB */
		{ "/cap-endless?endless=1", 1000000 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct got g = { 0 };
		struct fetch_req_opts o = { .max_body = cases[i].cap };
		size_t cap = cases[i].cap ? cases[i].cap : FEEDD_MAX_BODY;
		get(cases[i].path, &o, &g);
		CHECK_INT_EQ(g.status, FETCH_FAILED);
		CHECK_INT_EQ(g.rc, -EFBIG);
		CHECK_STR_EQ(g.stage, "body");
		CHECK(strstr(g.error, "cap") != NULL);
		CHECK(g.body_len <= cap);
		CHECK(g.body_bytes <= cap);
		if (g.rc != -EFBIG)
			fprintf(stderr, "  %s: %d %s\n", cases[i].path, g.rc, g.error);
		got_free(&g);
	}
}

/* Content-Length lies: larger than the body (then the connection closes),
 * or smaller (the rest is not read as body). */
static void
t_lying_length(void)
{
	struct got g = { 0 }, g2 = { 0 };

	get("/long?size=300000&cl=1000", NULL, &g2);
	CHECK_INT_EQ(g2.status, FETCH_OK);
	CHECK_INT_EQ(g2.body_len, 1000);
	CHECK_INT_EQ(g2.body_bytes, 1000);
	got_free(&g2);

	get("/short?body=short&cl=100000&close=1", NULL, &g);
	CHECK_INT_EQ(g.status, FETCH_FAILED);
	CHECK_INT_EQ(g.rc, -EIO);
	CHECK_STR_EQ(g.stage, "body");
	CHECK_INT_EQ(g.curl_code, CURLE_PARTIAL_FILE);
	got_free(&g);
}

/* A body that claims gzip but is not: a malformed response, not a crash. */
static void
t_bad_encoding(void)
{
	struct got g = { 0 };

	get("/badgz?body=this%20is%20not%20gzip&h=Content-Encoding:gzip", NULL, &g);
	CHECK_INT_EQ(g.status, FETCH_FAILED);
	CHECK_INT_EQ(g.rc, -EBADMSG);
	CHECK_STR_EQ(g.stage, "body");
	CHECK_INT_EQ(g.curl_code, CURLE_BAD_CONTENT_ENCODING);
	got_free(&g);
}

static void
t_header_cap(void)
{
	struct got g = { 0 };

	get("/bighdr?bighdr=100000&body=x", NULL, &g);
	CHECK_INT_EQ(g.status, FETCH_FAILED);
	CHECK_INT_EQ(g.rc, -EFBIG);
	CHECK_STR_EQ(g.stage, "headers");
	got_free(&g);
}

static void
t_reset(void)
{
	struct got g = { 0 };

	get("/reset?size=200000&chunk=1000&reset=5000", NULL, &g);
	CHECK_INT_EQ(g.status, FETCH_FAILED);
	CHECK_INT_EQ(g.rc, -ECONNRESET);
	CHECK_STR_EQ(g.stage, "body");
	CHECK(g.body_len <= 5000);
	got_free(&g);
}

static void
t_refused(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	struct got g = { 0 };
	char url[128];
	int fd;

	/* A bound socket that never listens: the port stays ours and
	 * connecting to it is refused. */
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	REQUIRE(fd >= 0);
	REQUIRE(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	REQUIRE(getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/feed", ntohs(sa.sin_port));
	get(url, NULL, &g);
	close(fd);
	CHECK_INT_EQ(g.status, FETCH_FAILED);
	CHECK_INT_EQ(g.rc, -ECONNREFUSED);
	CHECK_STR_EQ(g.stage, "connect");
	CHECK_INT_EQ(g.http, 0);
	CHECK(g.error[0] != '\0');
	got_free(&g);
}

static void
t_unresolvable(void)
{
	struct got g = { 0 };

	get("http://nonexistent.invalid/feed", NULL, &g);
	CHECK_INT_EQ(g.status, FETCH_FAILED);
	CHECK_INT_EQ(g.rc, -EHOSTUNREACH);
	CHECK_STR_EQ(g.stage, "resolve");
	CHECK(strstr(g.error, "nonexistent.invalid") != NULL);
	got_free(&g);
}

static void
t_on_data_abort(void)
{
	struct got g = { .data_limit = 10000 };

	get("/abort?size=100000&chunk=1000", NULL, &g);
	CHECK_INT_EQ(g.status, FETCH_FAILED);
	CHECK_INT_EQ(g.rc, -ECANCELED);
	CHECK_STR_EQ(g.stage, "body");
	got_free(&g);
}

static void
t_auth_and_agent(void)
{
	struct got g = { 0 };
	struct fetch_req_opts o = { .username = "alice", .password = "s3cret",
		.user_agent = "test-agent/1" };
	char hdr[256];

	get("/auth?body=x", &o, &g);
	CHECK_INT_EQ(g.status, FETCH_OK);
	REQUIRE(feedserver_header(&srv, "/auth?", "authorization", hdr, sizeof(hdr)) == 0);
	CHECK_STR_EQ(hdr, "Basic YWxpY2U6czNjcmV0");   /* alice:s3cret */
	REQUIRE(feedserver_header(&srv, "/auth?", "user-agent", hdr, sizeof(hdr)) == 0);
	CHECK_STR_EQ(hdr, "test-agent/1");
	got_free(&g);
}

/* Many feeds on one host: never more than max_per_host at once. */
static void
t_per_host_cap(void)
{
	enum { N = 200 };
	struct env e;
	struct got *g = calloc(N, sizeof(*g));
	int done = 0;
	char url[256];

	REQUIRE(g);
	feedserver_reset(&srv);
	REQUIRE(env_open(&e, 32, 2));
	for (int i = 0; i < N; i++) {
		struct fetch_req_opts o = { .on_data = on_data, .on_done = on_done,
			.ud = &g[i] };
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/cap%d?feed=5&seed=%d&delay=0.01&group=cap",
			srv.port, i, i);
		o.url = url;
		CHECK_INT_EQ(fetch_start(e.f, &o, NULL), 0);
	}
	CHECK_INT_EQ(fetch_pending(e.f), N);
	{
		double deadline = now_s() + 120;
		while (done < N && now_s() < deadline) {
			uv_run(&e.loop, UV_RUN_ONCE);
			done = 0;
			for (int i = 0; i < N; i++)
				done += g[i].calls;
		}
	}
	CHECK_INT_EQ(done, N);
	for (int i = 0; i < N; i++) {
		CHECK_INT_EQ(g[i].calls, 1);
		CHECK_INT_EQ(g[i].status, FETCH_OK);
		got_free(&g[i]);
	}
	CHECK_INT_EQ(feedserver_group_stat(&srv, "cap", "requests"), N);
	CHECK_INT_EQ(feedserver_group_stat(&srv, "cap", "max_requests"), 2);
	env_close(&e);
	free(g);
}

/* The global cap holds across hosts (127.0.0.1 and localhost). */
static void
t_global_cap(void)
{
	enum { N = 24 };
	struct env e;
	struct got g[N];
	int done = 0;
	char url[256];

	memset(g, 0, sizeof(g));
	feedserver_reset(&srv);
	REQUIRE(env_open(&e, 3, 8));
	for (int i = 0; i < N; i++) {
		struct fetch_req_opts o = { .on_done = on_done, .ud = &g[i] };
		snprintf(url, sizeof(url), "http://%s:%d/g%d?body=x&delay=0.05&group=global",
			i % 2 ? "localhost" : "127.0.0.1", srv.port, i);
		o.url = url;
		CHECK_INT_EQ(fetch_start(e.f, &o, NULL), 0);
	}
	{
		double deadline = now_s() + 60;
		while (done < N && now_s() < deadline) {
			uv_run(&e.loop, UV_RUN_ONCE);
			done = 0;
			for (int i = 0; i < N; i++)
				done += g[i].calls;
		}
	}
	CHECK_INT_EQ(done, N);
	for (int i = 0; i < N; i++)
		CHECK_INT_EQ(g[i].status, FETCH_OK);
	CHECK_INT_EQ(feedserver_group_stat(&srv, "global", "max_requests"), 3);
	env_close(&e);
}

static void
cancel_timer_cb(uv_timer_t *t)
{
	struct fetch_req **reqs = t->data;
	for (int i = 0; i < 6; i++)
		fetch_req_cancel(reqs[i]);
	for (int i = 0; i < 6; i++)
		fetch_req_cancel(reqs[i]);   /* twice: still one callback */
	uv_close((uv_handle_t *)t, NULL);
}

/* In flight and queued transfers, cancelled from a timer, from on_data
 * and by fetch_destroy(): exactly one callback each. */
static void
t_cancel(void)
{
	struct env e;
	struct got g[8];
	struct fetch_req *reqs[8];
	uv_timer_t t;
	char url[256];
	int total = 0;

	memset(g, 0, sizeof(g));
	REQUIRE(env_open(&e, 32, 2));
	for (int i = 0; i < 6; i++) {
		struct fetch_req_opts o = { .on_done = on_done, .ud = &g[i] };
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/c%d?body=x&delay=3",
			srv.port, i);
		o.url = url;
		REQUIRE(fetch_start(e.f, &o, &reqs[i]) == 0);
	}
	/* Two run (per-host cap), four wait; cancel all after 300 ms. */
	uv_timer_init(&e.loop, &t);
	t.data = reqs;
	uv_timer_start(&t, cancel_timer_cb, 300, 0);
	{
		double deadline = now_s() + 10;
		while (total < 6 && now_s() < deadline) {
			uv_run(&e.loop, UV_RUN_ONCE);
			total = 0;
			for (int i = 0; i < 6; i++)
				total += g[i].calls;
		}
	}
	for (int i = 0; i < 6; i++) {
		CHECK_INT_EQ(g[i].calls, 1);
		CHECK_INT_EQ(g[i].status, FETCH_CANCELLED);
		CHECK_INT_EQ(g[i].rc, -ECANCELED);
	}
	CHECK_INT_EQ(fetch_pending(e.f), 0);

	/* A request cancels itself from its own on_data. */
	{
		struct fetch_req_opts o = { .on_data = on_data, .on_done = on_done,
			.ud = &g[6] };
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/self?size=100000&chunk=1000",
			srv.port);
		o.url = url;
		REQUIRE(fetch_start(e.f, &o, &reqs[6]) == 0);
		g[6].cancel_in_data = reqs[6];
		run_until(&e, &g[6].calls, 1);
		CHECK_INT_EQ(g[6].status, FETCH_CANCELLED);
	}
	/* fetch_destroy() with one in flight: its callback fires. */
	{
		struct fetch_req_opts o = { .on_done = on_done, .ud = &g[7] };
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/d?body=x&delay=3",
			srv.port);
		o.url = url;
		REQUIRE(fetch_start(e.f, &o, NULL) == 0);
		for (int i = 0; i < 20; i++)
			uv_run(&e.loop, UV_RUN_NOWAIT);
	}
	env_close(&e);
	CHECK_INT_EQ(g[7].calls, 1);
	CHECK_INT_EQ(g[7].status, FETCH_CANCELLED);
	for (int i = 0; i < 8; i++)
		got_free(&g[i]);
}

/* Callbacks that call back in: A's on_done starts B, B's on_done destroys
 * the fetch object while C is still in flight. */
struct chain {
	struct fetch *f;
	struct got a, b, c;
	char url_b[256];
	int start_b_rc;
};

static void
chain_done_b(void *ud, const struct fetch_result *r)
{
	struct chain *ch = ud;
	on_done(&ch->b, r);
	fetch_destroy(ch->f);   /* inside a callback: deferred */
	fetch_destroy(ch->f);   /* twice: harmless */
}

static void
chain_done_a(void *ud, const struct fetch_result *r)
{
	struct chain *ch = ud;
	struct fetch_req_opts o = { .url = ch->url_b, .on_done = chain_done_b,
		.ud = ch };
	on_done(&ch->a, r);
	ch->start_b_rc = fetch_start(ch->f, &o, NULL);
}

static void
t_reentrancy(void)
{
	struct chain ch;
	uv_loop_t loop;
	struct fetch_opts fo = { 0 };
	char url_a[256], url_c[256];
	double deadline = now_s() + 30;

	memset(&ch, 0, sizeof(ch));
	ch.start_b_rc = 1;
	REQUIRE(uv_loop_init(&loop) == 0);
	REQUIRE(fetch_create(&ch.f, &loop, &fo) == 0);
	feedserver_url(&srv, url_a, sizeof(url_a), "/chain-a?body=a");
	feedserver_url(&srv, ch.url_b, sizeof(ch.url_b), "/chain-b?body=b");
	feedserver_url(&srv, url_c, sizeof(url_c), "/chain-c?body=c&delay=3");
	{
		struct fetch_req_opts oa = { .url = url_a, .on_done = chain_done_a,
			.ud = &ch };
		struct fetch_req_opts oc = { .url = url_c, .on_done = on_done,
			.ud = &ch.c };
		REQUIRE(fetch_start(ch.f, &oc, NULL) == 0);
		REQUIRE(fetch_start(ch.f, &oa, NULL) == 0);
	}
	/* The loop ends by itself once the fetch object has closed. */
	while (uv_run(&loop, UV_RUN_ONCE) && now_s() < deadline)
		;
	CHECK_INT_EQ(ch.start_b_rc, 0);
	CHECK_INT_EQ(ch.a.calls, 1);
	CHECK_INT_EQ(ch.a.status, FETCH_OK);
	CHECK_INT_EQ(ch.b.calls, 1);
	CHECK_INT_EQ(ch.b.status, FETCH_OK);
	CHECK_INT_EQ(ch.c.calls, 1);
	CHECK_INT_EQ(ch.c.status, FETCH_CANCELLED);
	CHECK_INT_EQ(uv_loop_close(&loop), 0);
}

/* ---- the address policy ---- */

static void
t_addr_policy(void)
{
	static const struct {
		const char *ip;
		bool is_public;
	} cases[] = {
		{ "8.8.8.8", true },
		{ "1.1.1.1", true },
		{ "93.184.216.34", true },
		{ "100.63.255.255", true },
		{ "100.128.0.0", true },
		{ "172.15.255.255", true },
		{ "172.32.0.0", true },
		{ "192.169.0.1", true },
		{ "223.255.255.255", true },
		{ "0.0.0.0", false },
		{ "0.1.2.3", false },
		{ "10.0.0.1", false },
		{ "10.255.255.255", false },
		{ "100.64.0.1", false },
		{ "100.127.255.255", false },
		{ "127.0.0.1", false },
		{ "127.255.0.1", false },
		{ "169.254.169.254", false },   /* cloud metadata */
		{ "169.254.0.1", false },
		{ "172.16.0.1", false },
		{ "172.31.255.255", false },
		{ "192.0.0.8", false },
		{ "192.0.2.1", false },
		{ "192.168.1.1", false },
		{ "198.18.0.1", false },
		{ "198.51.100.7", false },
		{ "203.0.113.9", false },
		{ "224.0.0.1", false },
		{ "239.255.255.250", false },
		{ "240.0.0.1", false },
		{ "255.255.255.255", false },
		{ "2001:4860:4860::8888", true },
		{ "2606:4700:4700::1111", true },
		{ "2a00:1450:4001:81b::200e", true },
		{ "::", false },
		{ "::1", false },
		{ "::ffff:127.0.0.1", false },
		{ "::ffff:169.254.169.254", false },
		{ "::ffff:10.1.2.3", false },
		{ "::ffff:8.8.8.8", true },
		{ "::127.0.0.1", false },       /* IPv4-compatible */
		{ "::8.8.8.8", true },
		{ "64:ff9b::7f00:1", false },   /* NAT64 of 127.0.0.1 */
		{ "64:ff9b::808:808", true },   /* NAT64 of 8.8.8.8 */
		{ "64:ff9b:1::1", false },
		{ "2002:7f00:1::1", false },    /* 6to4 of 127.0.0.1 */
		{ "2002:c0a8:101::1", false },  /* 6to4 of 192.168.1.1 */
		{ "2002:808:808::1", true },
		{ "2001::1", false },           /* Teredo */
		{ "2001:db8::1", false },
		{ "3fff::1", false },
		{ "100::1", false },
		{ "fc00::1", false },
		{ "fd12:3456:789a::1", false },
		{ "fe80::1", false },
		{ "febf::1", false },
		{ "fec0::1", false },
		{ "ff02::1", false },
		{ "4000::1", false },           /* outside 2000::/3 */
		{ "not-an-ip", false },
		{ "", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = fetch_addr_private_str(cases[i].ip);
		if ((why == NULL) != cases[i].is_public) {
			CHECK_FAIL_("%s: expected %s, got %s", cases[i].ip,
				cases[i].is_public ? "public" : "private",
				why ? why : "public");
		}
	}
	/* The sockaddr form, as the open-socket callback sees it. */
	{
		struct sockaddr_in in = { .sin_family = AF_INET };
		struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
		struct sockaddr un = { .sa_family = AF_UNIX };
		inet_pton(AF_INET, "169.254.169.254", &in.sin_addr);
		CHECK_STR_EQ(fetch_addr_private((struct sockaddr *)&in, sizeof(in)),
			"link-local (169.254.0.0/16)");
		inet_pton(AF_INET6, "::ffff:127.0.0.1", &in6.sin6_addr);
		CHECK_STR_EQ(fetch_addr_private((struct sockaddr *)&in6, sizeof(in6)),
			"loopback (127.0.0.0/8)");
		CHECK(fetch_addr_private((struct sockaddr *)&in, 4) != NULL);
		CHECK(fetch_addr_private(&un, sizeof(un)) != NULL);
		CHECK(fetch_addr_private(NULL, 0) != NULL);
	}
}

/*
 * The redirect rule end to end. Every address this test can reach is
 * loopback, so "public" cannot be staged honestly; what is tested is the
 * rule as built: the configured host is trusted even when private, a
 * redirect to the same host is followed, a redirect to another host name
 * that resolves to a private address is refused (on a fresh connection in
 * the open-socket callback, and on a reused one in the pre-request
 * callback), and allow_private lifts the rule.
 */
static void
t_redirect_private(void)
{
	struct got g1 = { 0 }, g2 = { 0 }, g3 = { 0 }, g4 = { 0 };
	struct fetch_req_opts allow = { .allow_private = true };
	char path[512];

	/* Same host: followed. */
	get("/p-same?location=/p-final%3Fbody%3Dok", NULL, &g1);
	CHECK_INT_EQ(g1.status, FETCH_OK);
	CHECK(g1.body && strcmp(g1.body, "ok") == 0);

	/* Another host name (localhost), private address: refused. */
	snprintf(path, sizeof(path),
		"/p-other?location=http://localhost:%d/p-final%%3Fbody%%3Dsecret",
		srv.port);
	feedserver_reset(&srv);
	get(path, NULL, &g2);
	CHECK_INT_EQ(g2.status, FETCH_FAILED);
	CHECK_INT_EQ(g2.rc, -EPERM);
	CHECK_STR_EQ(g2.stage, "policy");
	CHECK(strstr(g2.error, "loopback") != NULL);
	CHECK(strstr(g2.error, "allow-private") != NULL);
	CHECK_INT_EQ(g2.data_calls, 0);
	CHECK_INT_EQ(feedserver_stat(&srv, "requests"), 1);  /* never reached */

	/* The same with allow_private: followed. */
	get(path, &allow, &g3);
	CHECK_INT_EQ(g3.status, FETCH_OK);
	CHECK(g3.body && strcmp(g3.body, "secret") == 0);

	/* A pooled connection to localhost exists (a feed configured on it);
	 * a redirect from 127.0.0.1 onto it must still be refused. */
	{
		struct env e;
		struct got a = { 0 }, b = { 0 };
		char url[512];
		struct fetch_req_opts o = { .on_done = on_done, .ud = &a };

		REQUIRE(env_open(&e, 0, 0));
		snprintf(url, sizeof(url), "http://localhost:%d/p-warm?body=x",
			srv.port);
		o.url = url;
		REQUIRE(fetch_start(e.f, &o, NULL) == 0);
		run_until(&e, &a.calls, 1);
		CHECK_INT_EQ(a.status, FETCH_OK);
		feedserver_reset(&srv);
		feedserver_url(&srv, url, sizeof(url), path);
		o.ud = &b;
		o.url = url;
		REQUIRE(fetch_start(e.f, &o, NULL) == 0);
		run_until(&e, &b.calls, 1);
		CHECK_INT_EQ(b.status, FETCH_FAILED);
		CHECK_INT_EQ(b.rc, -EPERM);
		CHECK_STR_EQ(b.stage, "policy");
		CHECK_INT_EQ(feedserver_stat(&srv, "requests"), 1);
		env_close(&e);
		g4 = b;
	}
	got_free(&g1);
	got_free(&g2);
	got_free(&g3);
	got_free(&g4);
}

/* TLS verification is on: a self-signed certificate is refused. */
static void
t_tls_verify(void)
{
	static const char *const args[] = { "--tls", NULL };
	struct feedserver tls;
	struct got g = { 0 };
	char url[128];
	int rc = feedserver_start_args(&tls, NULL, args);

	if (rc < 0) {
		/* Only when the openssl command is missing. */
		fprintf(stderr, "  tls_verify: no TLS server (%s), not run\n",
			strerror(-rc));
		return;
	}
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/tls?body=x", tls.port);
	get(url, NULL, &g);
	feedserver_stop(&tls);
	CHECK_INT_EQ(g.status, FETCH_FAILED);
	CHECK_INT_EQ(g.rc, -EPROTO);
	CHECK_STR_EQ(g.stage, "tls");
	CHECK(strstr(g.error, "certificate") != NULL);
	CHECK_INT_EQ(g.data_calls, 0);
	got_free(&g);
}

/* Keep-alive as fetch/ rations it (the comment above FETCH_KEEP_S in
 * fetch.c): a host's first poll in a while closes its connection; once the
 * host has been polled lately, its polls share one kept-alive connection;
 * polls queued together for one host share one too. Counted by the
 * server: its "connections" counter, less the one that asks for it. */
static void
t_keep_alive(void)
{
	struct env e;
	struct got g[4] = { { 0 } };
	char url[256];
	struct fetch_req_opts o = { .on_done = on_done };

	feedserver_url(&srv, url, sizeof(url), "/ka?status=304");
	o.url = url;
	REQUIRE(env_open(&e, 0, 0));
	feedserver_reset(&srv);
	for (int i = 0; i < 4; i++) {
		o.ud = &g[i];
		REQUIRE(fetch_start(e.f, &o, NULL) == 0);
		run_until(&e, &g[i].calls, 1);
		CHECK_INT_EQ(g[i].status, FETCH_NOT_MODIFIED);
	}
	/* One for the first poll, one for the other three. */
	CHECK_INT_EQ(feedserver_stat(&srv, "connections") - 1, 2);
	env_close(&e);

	/* Three polls of one host at once, one at a time (max_per_host 1):
	 * the first already knows the next is waiting. */
	REQUIRE(env_open(&e, 0, 1));
	feedserver_reset(&srv);
	memset(g, 0, sizeof(g));
	for (int i = 0; i < 3; i++) {
		o.ud = &g[i];
		REQUIRE(fetch_start(e.f, &o, NULL) == 0);
	}
	run_until(&e, &g[2].calls, 1);
	for (int i = 0; i < 3; i++)
		CHECK_INT_EQ(g[i].status, FETCH_NOT_MODIFIED);
	CHECK_INT_EQ(feedserver_stat(&srv, "connections") - 1, 1);
	CHECK_INT_EQ(feedserver_stat(&srv, "requests"), 3);
	env_close(&e);
	for (int i = 0; i < 4; i++)
		got_free(&g[i]);
}

static const struct check_case cases[] = {
	{ "addr_policy", t_addr_policy },
	{ "ok_200", t_ok_200 },
	{ "not_modified_etag", t_not_modified_etag },
	{ "not_modified_last_modified", t_not_modified_last_modified },
	{ "validator_injection", t_validator_injection },
	{ "encodings", t_encodings },
	{ "chunked", t_chunked },
	{ "redirects", t_redirects },
	{ "redirect_limits", t_redirect_limits },
	{ "redirect_bad_scheme", t_redirect_bad_scheme },
	{ "redirect_private", t_redirect_private },
	{ "start_rejects", t_start_rejects },
	{ "http_errors", t_http_errors },
	{ "retry_after", t_retry_after },
	{ "timeouts", t_timeouts },
	{ "body_cap", t_body_cap },
	{ "lying_length", t_lying_length },
	{ "bad_encoding", t_bad_encoding },
	{ "header_cap", t_header_cap },
	{ "reset", t_reset },
	{ "refused", t_refused },
	{ "tls_verify", t_tls_verify },
	{ "unresolvable", t_unresolvable },
	{ "on_data_abort", t_on_data_abort },
	{ "auth_and_agent", t_auth_and_agent },
	{ "per_host_cap", t_per_host_cap },
	{ "global_cap", t_global_cap },
	{ "keep_alive", t_keep_alive },
	{ "cancel", t_cancel },
	{ "reentrancy", t_reentrancy },
	{ 0 },
};

int
main(int argc, char **argv)
{
	static const struct check_case offline[] = {
		{ "addr_policy", t_addr_policy },
		{ 0 },
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = feedserver_start(&srv, NULL);
	have_server = rc == 0;
	if (!have_server) {
		fprintf(stderr, "feedserver: %s; only offline cases run\n",
			strerror(-rc));
		rc = check_main(argc, argv, offline);
		curl_global_cleanup();
		return rc ? rc : 77;
	}
	rc = check_main(argc, argv, cases);
	feedserver_stop(&srv);
	curl_global_cleanup();
	return rc;
}
