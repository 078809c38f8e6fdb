/*
 * fetch/ through proxies that fail: the error says which proxy (user name
 * and password masked) and why, at stage "proxy", and a failure that is not
 * the proxy's is not blamed on it. The proxies are real: a closed port on
 * 127.0.0.1 (nothing listens), tests/support/feedserver.py started with
 * --connect-status as a proxy that refuses CONNECT tunnels, and the plain
 * feedserver as a plain HTTP proxy (it answers absolute URLs by their path).
 * Without python3 the executable exits 77 (skip).
 */
#include "fetch.h"

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

struct got {
	int calls;
	enum fetch_status status;
	int rc;
	long http;
	char error[512], stage[32];
	size_t body_len;
};

static int
on_data(void *ud, const void *buf, size_t len)
{
	struct got *g = ud;
	(void)buf;
	g->body_len += len;
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
	snprintf(g->error, sizeof(g->error), "%s", r->error ? r->error : "");
	snprintf(g->stage, sizeof(g->stage), "%s", r->stage ? r->stage : "");
}

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Fetch url through proxy (NULL: the environment's) into g. */
static void
get(const char *url, const char *proxy, struct got *g)
{
	uv_loop_t loop;
	struct fetch *f = NULL;
	struct fetch_opts fo = { 0 };
	struct fetch_req_opts o = { .url = url, .proxy = proxy,
		.on_data = on_data, .on_done = on_done, .ud = g,
		.connect_timeout_ms = 10000, .timeout_ms = 20000 };
	double deadline = now_s() + 60;

	memset(g, 0, sizeof(*g));
	REQUIRE(uv_loop_init(&loop) == 0);
	REQUIRE(fetch_create(&f, &loop, &fo) == 0);
	CHECK_INT_EQ(fetch_start(f, &o, NULL), 0);
	while (g->calls < 1 && now_s() < deadline)
		uv_run(&loop, UV_RUN_ONCE);
	fetch_destroy(f);
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK_INT_EQ(uv_loop_close(&loop), 0);
	CHECK_INT_EQ(g->calls, 1);
}

/* A port on 127.0.0.1 where connecting is refused: bound, never
 * listening, so no other process can take it while the test runs. */
static int
closed_port(int *fd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*fd = socket(AF_INET, SOCK_STREAM, 0);
	if (*fd < 0 || bind(*fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
		getsockname(*fd, (struct sockaddr *)&sa, &len) != 0)
		return -1;
	return ntohs(sa.sin_port);
}

static void
clear_env(void)
{
	static const char *const vars[] = { "http_proxy", "https_proxy",
		"HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY" };
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
}

/* ---- cases ---- */

static void
t_refused(void)
{
	struct got g;
	char proxy[128], want[192];
	int fd, port = closed_port(&fd);

	REQUIRE(port > 0);
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", port);
	get("http://feeds.example.invalid/news.xml", proxy, &g);
	CHECK_INT_EQ(g.status, FETCH_FAILED);
	CHECK_INT_EQ(g.rc, -ECONNREFUSED);
	CHECK_STR_EQ(g.stage, "proxy");
	snprintf(want, sizeof(want), "proxy http://127.0.0.1:%d: Connection refused", port);
	CHECK_STR_EQ(g.error, want);

	/* Credentials in the proxy URL never show. */
	snprintf(proxy, sizeof(proxy), "http://feedd:s3cr%%40t@127.0.0.1:%d/", port);
	get("https://feeds.example.invalid/news.xml", proxy, &g);
	CHECK_INT_EQ(g.rc, -ECONNREFUSED);
	CHECK_STR_EQ(g.stage, "proxy");
	snprintf(want, sizeof(want), "proxy http://***@127.0.0.1:%d: Connection refused", port);
	CHECK_STR_EQ(g.error, want);
	CHECK(strstr(g.error, "s3cr") == NULL);
	CHECK(strstr(g.error, "feedd") == NULL);

	/* A proxy written without a scheme is shown as written. */
	snprintf(proxy, sizeof(proxy), "127.0.0.1:%d", port);
	get("http://feeds.example.invalid/news.xml", proxy, &g);
	snprintf(want, sizeof(want), "proxy 127.0.0.1:%d: Connection refused", port);
	CHECK_STR_EQ(g.error, want);
	close(fd);
}

static void
t_connect_refused(void)
{
	static const char *const a403[] = { "--connect-status", "403", NULL };
	static const char *const a407[] = { "--connect-status", "407", NULL };
	struct feedserver px;
	struct got g;
	char proxy[128], want[192], host[128];

	REQUIRE(feedserver_start_args(&px, NULL, a403) == 0);
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", px.port);
	get("https://feeds.example.invalid/news.xml", proxy, &g);
	CHECK_INT_EQ(g.status, FETCH_FAILED);
	CHECK_INT_EQ(g.rc, -ECONNREFUSED);
	CHECK_STR_EQ(g.stage, "proxy");
	snprintf(want, sizeof(want), "proxy http://127.0.0.1:%d: CONNECT refused (403)",
		px.port);
	CHECK_STR_EQ(g.error, want);
	/* It really was asked for a tunnel to the feed's host. */
	CHECK_INT_EQ(feedserver_header(&px, "feeds.example.invalid:443", "host",
			     host, sizeof(host)), 0);
	CHECK_STR_EQ(host, "feeds.example.invalid:443");
	feedserver_stop(&px);

	REQUIRE(feedserver_start_args(&px, NULL, a407) == 0);
	snprintf(proxy, sizeof(proxy), "http://user:pw@127.0.0.1:%d", px.port);
	get("https://feeds.example.invalid/news.xml", proxy, &g);
	CHECK_INT_EQ(g.rc, -EACCES);
	CHECK_STR_EQ(g.stage, "proxy");
	snprintf(want, sizeof(want), "proxy http://***@127.0.0.1:%d: CONNECT refused "
		"(407: proxy authentication required)", px.port);
	CHECK_STR_EQ(g.error, want);
	feedserver_stop(&px);
}

static void
t_plain_proxy(void)
{
	struct got g;
	char proxy[128], want[192];

	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", srv.port);
	/* A plain HTTP proxy that works: nothing to blame. */
	get("http://feeds.example.invalid/news.xml?feed=2", proxy, &g);
	CHECK_INT_EQ(g.status, FETCH_OK);
	CHECK_INT_EQ(g.rc, 0);
	CHECK(g.body_len > 0);
	/* An error status could be the feed server's: not blamed on the
	 * proxy, reported as the HTTP error it is. */
	get("http://feeds.example.invalid/news.xml?status=403", proxy, &g);
	CHECK_INT_EQ(g.status, FETCH_HTTP_ERROR);
	CHECK_INT_EQ(g.http, 403);
	CHECK_STR_EQ(g.stage, "response");
	/* 407 is the proxy's own. */
	get("http://feeds.example.invalid/news.xml?status=407", proxy, &g);
	CHECK_INT_EQ(g.status, FETCH_FAILED);
	CHECK_INT_EQ(g.rc, -EACCES);
	CHECK_STR_EQ(g.stage, "proxy");
	snprintf(want, sizeof(want),
		"proxy http://127.0.0.1:%d: authentication required (HTTP 407)", srv.port);
	CHECK_STR_EQ(g.error, want);
}

static void
t_unresolvable(void)
{
	struct got g;

	get("http://feeds.example.invalid/news.xml", "http://proxy.nonexistent.invalid:3128", &g);
	CHECK_INT_EQ(g.status, FETCH_FAILED);
	CHECK_INT_EQ(g.rc, -EHOSTUNREACH);
	CHECK_STR_EQ(g.stage, "proxy");
	CHECK_STR_EQ(g.error, "proxy http://proxy.nonexistent.invalid:3128: "
			      "its host name does not resolve");
}

/* The environment's proxy, chosen as libcurl chooses it, and no_proxy. */
static void
t_environment(void)
{
	struct got g;
	char proxy[128], want[192], url[192];
	int fd, port = closed_port(&fd);

	REQUIRE(port > 0);
	snprintf(proxy, sizeof(proxy), "http://ops:hunter2@127.0.0.1:%d", port);
	setenv("https_proxy", proxy, 1);
	get("https://feeds.example.invalid/news.xml", NULL, &g);
	CHECK_STR_EQ(g.stage, "proxy");
	snprintf(want, sizeof(want), "proxy http://***@127.0.0.1:%d: Connection refused", port);
	CHECK_STR_EQ(g.error, want);
	CHECK(strstr(g.error, "hunter2") == NULL);
	unsetenv("https_proxy");

	/* no_proxy exempts the host: libcurl connects directly, and a
	 * failure there is not the proxy's. */
	setenv("http_proxy", proxy, 1);
	setenv("no_proxy", "example.org, 127.0.0.0/8", 1);
	feedserver_url(&srv, url, sizeof(url), "/direct?feed=1");
	get(url, NULL, &g);
	CHECK_INT_EQ(g.status, FETCH_OK);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/nothing-listens", port);
	get(url, NULL, &g);
	CHECK_INT_EQ(g.rc, -ECONNREFUSED);
	CHECK_STR_EQ(g.stage, "connect");
	CHECK(strstr(g.error, "proxy") == NULL);
	/* A host no_proxy does not name goes through the proxy. */
	get("http://feeds.example.invalid/news.xml", NULL, &g);
	CHECK_STR_EQ(g.stage, "proxy");
	CHECK_STR_EQ(g.error, want);
	/* The option wins over the environment; "" means no proxy. */
	get("http://127.0.0.1:1/x", "", &g);
	CHECK_STR_EQ(g.stage, "connect");
	clear_env();
	close(fd);
}

static const struct check_case cases[] = {
	{ "refused", t_refused },
	{ "connect_refused", t_connect_refused },
	{ "plain_proxy", t_plain_proxy },
	{ "unresolvable", t_unresolvable },
	{ "environment", t_environment },
	{ 0 },
};

int
main(int argc, char **argv)
{
	int rc;

	clear_env();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = feedserver_start(&srv, NULL);
	if (rc < 0) {
		fprintf(stderr, "feedserver: %s; skipped\n", strerror(-rc));
		curl_global_cleanup();
		return 77;
	}
	rc = check_main(argc, argv, cases);
	feedserver_stop(&srv);
	curl_global_cleanup();
	return rc;
}
