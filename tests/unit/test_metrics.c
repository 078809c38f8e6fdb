/*
 * metrics: the exposition rendering (families, label escaping, cumulative
 * histogram buckets with +Inf, _sum and _count), the bounded hook and
 * rule label sets, the health check, the error classes, and the `listen`
 * directive (addresses, password files, file:line errors).
 */
#include "metrics.h"
#include "conf.h"
#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static char *
render(struct metrics *m)
{
	char *text = NULL;
	size_t len = 0;

	if (metrics_render(m, &text, &len) < 0)
		return NULL;
	if (strlen(text) != len) {
		free(text);
		return NULL;
	}
	return text;
}

/* Whether text has line as one whole line. */
static bool
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

#define CHECK_LINE(text, line) do { \
		if (!has_line(text, line)) \
			CHECK_FAIL_("no line '%s' in the exposition", line); \
	} while (0)
#define CHECK_NO_LINE(text, line) do { \
		if (has_line(text, line)) \
			CHECK_FAIL_("unexpected line '%s'", line); \
	} while (0)

/* Every family has HELP then TYPE, and each sample's family was declared
 * right before it (no family split in two). */
static void
t_families(void)
{
	struct metrics *m;
	char *text, *save = NULL, last[128] = "";
	static const char *const families[] = {
		"feedd_build_info gauge", "feedd_process_start_time_seconds gauge",
		"feedd_polls_total counter", "feedd_poll_errors_total counter",
		"feedd_fetch_duration_seconds histogram",
		"feedd_fetch_received_bytes_total counter",
		"feedd_articles_total counter", "feedd_feeds gauge",
		"feedd_schedule_lag_seconds histogram",
		"feedd_store_queue_jobs gauge",
		"feedd_store_transaction_duration_seconds histogram",
		"feedd_store_write_failures_total counter",
		"feedd_loop_stall_seconds histogram",
		"feedd_loop_stall_max_seconds gauge",
		"feedd_hook_backlog gauge", "feedd_hook_deliveries_total counter",
		"feedd_hook_failures_total counter",
		"feedd_hook_last_success_timestamp_seconds gauge",
		"feedd_rule_matches_total counter",
	};
	int types = 0;

	REQUIRE(metrics_create(&m) == 0);
	text = render(m);
	REQUIRE(text);
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		char want[160];

		snprintf(want, sizeof(want), "# TYPE %s", families[i]);
		CHECK_LINE(text, want);
	}
	CHECK_LINE(text, "feedd_build_info{version=\"" FEEDD_VERSION "\"} 1");
	CHECK_LINE(text, "feedd_polls_total{result=\"not_modified\"} 0");
	CHECK_LINE(text, "feedd_feeds{status=\"disabled\"} 0");
	CHECK(strstr(text, "feedd_process_start_time_seconds 1") != NULL);
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char fam[128];

		if (strncmp(l, "# HELP ", 7) == 0)
			continue;
		if (strncmp(l, "# TYPE ", 7) == 0) {
			sscanf(l + 7, "%127s", last);
			types++;
			continue;
		}
		sscanf(l, "%127[a-z_]", fam);
		/* A histogram's samples carry suffixes of its name. */
		if (strncmp(fam, last, strlen(last)) != 0)
			CHECK_FAIL_("sample '%s' is not in family '%s'", l, last);
	}
	CHECK_INT_EQ(types, sizeof(families) / sizeof(families[0]));
	free(text);
	metrics_destroy(m);
	metrics_destroy(NULL);
}

static void
t_histogram(void)
{
	struct metrics *m;
	char *text;

	REQUIRE(metrics_create(&m) == 0);
	/* 0.001 and 0.005 are bounds: le is inclusive. */
	metrics_store_transaction(m, 0.0005);
	metrics_store_transaction(m, 0.001);
	metrics_store_transaction(m, 0.003);
	metrics_store_transaction(m, 0.005);
	metrics_store_transaction(m, 0.2);
	metrics_store_transaction(m, 100);
	metrics_store_transaction(m, -1); /* a clock step: counted as 0 */
	text = render(m);
	REQUIRE(text);
#define TXN "feedd_store_transaction_duration_seconds"
	CHECK_LINE(text, TXN "_bucket{le=\"0.001\"} 3");
	CHECK_LINE(text, TXN "_bucket{le=\"0.005\"} 5");
	CHECK_LINE(text, TXN "_bucket{le=\"0.01\"} 5");
	CHECK_LINE(text, TXN "_bucket{le=\"0.1\"} 5");
	CHECK_LINE(text, TXN "_bucket{le=\"0.25\"} 6");
	CHECK_LINE(text, TXN "_bucket{le=\"5\"} 6");
	CHECK_LINE(text, TXN "_bucket{le=\"+Inf\"} 7");
	CHECK_LINE(text, TXN "_sum 100.2095");
	CHECK_LINE(text, TXN "_count 7");
	/* Buckets are listed in increasing order, +Inf last. */
	{
		const char *a = strstr(text, TXN "_bucket{le=\"0.001\"}");
		const char *b = strstr(text, TXN "_bucket{le=\"5\"}");
		const char *c = strstr(text, TXN "_bucket{le=\"+Inf\"}");
		const char *d = strstr(text, TXN "_sum");

		CHECK(a && b && c && d && a < b && b < c && c < d);
	}
	/* The other histograms start empty but complete. */
	CHECK_LINE(text, "feedd_fetch_duration_seconds_bucket{le=\"+Inf\"} 0");
	CHECK_LINE(text, "feedd_fetch_duration_seconds_sum 0");
	CHECK_LINE(text, "feedd_schedule_lag_seconds_count 0");
	free(text);

	metrics_loop_busy(m, 0.002);
	metrics_loop_busy(m, 0.7);
	metrics_loop_busy(m, 0.01);
	metrics_fetch(m, 0.3, 1000);
	metrics_fetch(m, 0.05, 24);
	metrics_schedule_lag(m, 2);
	text = render(m);
	REQUIRE(text);
	CHECK_LINE(text, "feedd_loop_stall_max_seconds 0.7");
	CHECK_LINE(text, "feedd_loop_stall_seconds_bucket{le=\"0.01\"} 2");
	CHECK_LINE(text, "feedd_loop_stall_seconds_bucket{le=\"0.5\"} 2");
	CHECK_LINE(text, "feedd_loop_stall_seconds_bucket{le=\"1\"} 3");
	CHECK_LINE(text, "feedd_fetch_duration_seconds_bucket{le=\"0.05\"} 1");
	CHECK_LINE(text, "feedd_fetch_duration_seconds_bucket{le=\"0.25\"} 1");
	CHECK_LINE(text, "feedd_fetch_duration_seconds_bucket{le=\"0.5\"} 2");
	CHECK_LINE(text, "feedd_fetch_received_bytes_total 1024");
	CHECK_LINE(text, "feedd_schedule_lag_seconds_bucket{le=\"1\"} 0");
	CHECK_LINE(text, "feedd_schedule_lag_seconds_bucket{le=\"5\"} 1");
	free(text);
	metrics_destroy(m);
}

static void
t_counters(void)
{
	struct metrics *m;
	uint64_t feeds[METRICS_FEED__N] = { 0 };
	char *text;

	REQUIRE(metrics_create(&m) == 0);
	metrics_poll(m, METRICS_RESULT_OK, METRICS_ERROR_OTHER);
	metrics_poll(m, METRICS_RESULT_OK, METRICS_ERROR_DNS); /* class ignored */
	metrics_poll(m, METRICS_RESULT_NOT_MODIFIED, METRICS_ERROR_OTHER);
	metrics_poll(m, METRICS_RESULT_ERROR, METRICS_ERROR_HTTP_4XX);
	metrics_poll(m, METRICS_RESULT_ERROR, METRICS_ERROR_CONNECT);
	metrics_poll(m, METRICS_RESULT_ERROR, (enum metrics_error)99);
	metrics_poll(m, (enum metrics_result)99, METRICS_ERROR_OTHER);
	metrics_poll(m, METRICS_RESULT_GONE, METRICS_ERROR_OTHER);
	metrics_articles(m, 5, 2, 1);
	metrics_articles(m, 1, 0, 0);
	feeds[METRICS_FEED_OK] = 7;
	feeds[METRICS_FEED_GONE] = 1;
	feeds[METRICS_FEED_DISABLED] = 2;
	metrics_feeds(m, feeds);
	metrics_store_queue(m, 3);
	metrics_store_result(m, -EBUSY, "store: x");
	metrics_store_result(m, 0, NULL);
	text = render(m);
	REQUIRE(text);
	CHECK_LINE(text, "feedd_polls_total{result=\"ok\"} 2");
	CHECK_LINE(text, "feedd_polls_total{result=\"not_modified\"} 1");
	CHECK_LINE(text, "feedd_polls_total{result=\"error\"} 3");
	CHECK_LINE(text, "feedd_polls_total{result=\"gone\"} 1");
	CHECK_LINE(text, "feedd_poll_errors_total{class=\"http_4xx\"} 1");
	CHECK_LINE(text, "feedd_poll_errors_total{class=\"connect\"} 1");
	CHECK_LINE(text, "feedd_poll_errors_total{class=\"other\"} 1");
	CHECK_LINE(text, "feedd_poll_errors_total{class=\"dns\"} 0");
	CHECK_LINE(text, "feedd_articles_total{event=\"new\"} 6");
	CHECK_LINE(text, "feedd_articles_total{event=\"updated\"} 2");
	CHECK_LINE(text, "feedd_articles_total{event=\"purged\"} 1");
	CHECK_LINE(text, "feedd_feeds{status=\"ok\"} 7");
	CHECK_LINE(text, "feedd_feeds{status=\"gone\"} 1");
	CHECK_LINE(text, "feedd_feeds{status=\"disabled\"} 2");
	CHECK_LINE(text, "feedd_feeds{status=\"failing\"} 0");
	CHECK_LINE(text, "feedd_store_queue_jobs 3");
	CHECK_LINE(text, "feedd_store_write_failures_total 1");
	free(text);
	metrics_destroy(m);
}

static void
t_error_class(void)
{
	static const struct {
		const char *stage;
		int rc;
		long status;
		enum metrics_error want;
	} cases[] = {
		{ "resolve", -EHOSTUNREACH, 0, METRICS_ERROR_DNS },
		{ "connect", -ECONNREFUSED, 0, METRICS_ERROR_CONNECT },
		{ "connect", -ETIMEDOUT, 0, METRICS_ERROR_TIMEOUT },
		{ "body", -ETIMEDOUT, 200, METRICS_ERROR_TIMEOUT },
		{ "tls", -EPROTO, 0, METRICS_ERROR_TLS },
		{ "response", -EREMOTEIO, 404, METRICS_ERROR_HTTP_4XX },
		{ "response", -EREMOTEIO, 403, METRICS_ERROR_HTTP_4XX },
		{ "response", -EREMOTEIO, 503, METRICS_ERROR_HTTP_5XX },
		{ "response", -EREMOTEIO, 302, METRICS_ERROR_OTHER },
		{ "body", -EFBIG, 200, METRICS_ERROR_TOO_LARGE },
		{ "policy", -EPERM, 0, METRICS_ERROR_OTHER },
		{ "redirect", -ELOOP, 0, METRICS_ERROR_OTHER },
		{ NULL, -EIO, 0, METRICS_ERROR_OTHER },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum metrics_error got = metrics_error_class(cases[i].stage,
			cases[i].rc, cases[i].status);

		if (got != cases[i].want)
			CHECK_FAIL_("case %zu (%s %d %ld): class %d, want %d", i,
				cases[i].stage ? cases[i].stage : "NULL",
				cases[i].rc, cases[i].status, (int)got,
				(int)cases[i].want);
	}
}

/* Hook names are escaped (\\, \", \n), bounded by the config, and
 * forgotten when the config drops them. */
static void
t_hooks(void)
{
	struct metrics *m;
	const char *names[] = { "mail", "a\"b", "x\\y\nz", "mail" };
	const char *later[] = { "mail", "new" };
	char *text;

	REQUIRE(metrics_create(&m) == 0);
	CHECK_INT_EQ(metrics_hook_set(m, "mail", 1, 2), -ENOENT);
	REQUIRE(metrics_hooks_configure(m, names, 4) == 0);
	CHECK_INT_EQ(metrics_hook_set(m, "mail", 12, 1700000000), 0);
	CHECK_INT_EQ(metrics_hook_add(m, "mail", 3, 1), 0);
	CHECK_INT_EQ(metrics_hook_add(m, "mail", 2, 0), 0);
	CHECK_INT_EQ(metrics_hook_add(m, "a\"b", 0, 4), 0);
	CHECK_INT_EQ(metrics_hook_add(m, "other", 1, 1), -ENOENT);
	CHECK_INT_EQ(metrics_hook_add(m, NULL, 1, 1), -ENOENT);
	text = render(m);
	REQUIRE(text);
	CHECK_LINE(text, "feedd_hook_backlog{hook=\"mail\"} 12");
	CHECK_LINE(text, "feedd_hook_deliveries_total{hook=\"mail\"} 5");
	CHECK_LINE(text, "feedd_hook_failures_total{hook=\"mail\"} 1");
	CHECK_LINE(text, "feedd_hook_last_success_timestamp_seconds{hook=\"mail\"} 1700000000");
	CHECK_LINE(text, "feedd_hook_failures_total{hook=\"a\\\"b\"} 4");
	CHECK_LINE(text, "feedd_hook_backlog{hook=\"x\\\\y\\nz\"} 0");
	CHECK_NO_LINE(text, "feedd_hook_other");
	{
		/* "mail" listed twice is one series. */
		const char *p = strstr(text, "feedd_hook_backlog{hook=\"mail\"}");

		CHECK(p && !strstr(p + 1, "feedd_hook_backlog{hook=\"mail\"}"));
	}
	free(text);
	/* A reload: mail stays with its numbers, the others go. */
	REQUIRE(metrics_hooks_configure(m, later, 2) == 0);
	CHECK_INT_EQ(metrics_hook_add(m, "a\"b", 1, 1), -ENOENT);
	CHECK_INT_EQ(metrics_hook_add(m, "new", 1, 0), 0);
	text = render(m);
	REQUIRE(text);
	CHECK_LINE(text, "feedd_hook_deliveries_total{hook=\"mail\"} 5");
	CHECK_LINE(text, "feedd_hook_deliveries_total{hook=\"new\"} 1");
	CHECK(strstr(text, "a\\\"b") == NULL);
	CHECK(strstr(text, "x\\\\y") == NULL);
	free(text);
	REQUIRE(metrics_hooks_configure(m, NULL, 0) == 0);
	text = render(m);
	REQUIRE(text);
	CHECK(strstr(text, "{hook=") == NULL);
	CHECK_LINE(text, "# TYPE feedd_hook_backlog gauge");
	free(text);
	metrics_destroy(m);
}

static void
t_rules(void)
{
	struct metrics *m;
	const struct metrics_rule rules[] = {
		{ "spam", METRICS_RULE_BLOCK },
		{ "rust", METRICS_RULE_KEEP },
		{ "both", METRICS_RULE_KEEP },
		{ "both", METRICS_RULE_BLOCK },
		{ "bad", (enum metrics_rule_action)7 },
	};
	const struct metrics_rule later[] = { { "rust", METRICS_RULE_KEEP } };
	char *text;

	REQUIRE(metrics_create(&m) == 0);
	REQUIRE(metrics_rules_configure(m, rules, 5) == 0);
	CHECK_INT_EQ(metrics_rule_match(m, "spam", METRICS_RULE_BLOCK, 3), 0);
	CHECK_INT_EQ(metrics_rule_match(m, "spam", METRICS_RULE_KEEP, 1), -ENOENT);
	CHECK_INT_EQ(metrics_rule_match(m, "rust", METRICS_RULE_KEEP, 1), 0);
	CHECK_INT_EQ(metrics_rule_match(m, "rust", METRICS_RULE_KEEP, 1), 0);
	CHECK_INT_EQ(metrics_rule_match(m, "both", METRICS_RULE_BLOCK, 1), 0);
	CHECK_INT_EQ(metrics_rule_match(m, "bad", (enum metrics_rule_action)7, 1),
		-ENOENT);
	text = render(m);
	REQUIRE(text);
	CHECK_LINE(text, "feedd_rule_matches_total{rule=\"spam\",action=\"block\"} 3");
	CHECK_LINE(text, "feedd_rule_matches_total{rule=\"rust\",action=\"keep\"} 2");
	CHECK_LINE(text, "feedd_rule_matches_total{rule=\"both\",action=\"keep\"} 0");
	CHECK_LINE(text, "feedd_rule_matches_total{rule=\"both\",action=\"block\"} 1");
	CHECK(strstr(text, "rule=\"bad\"") == NULL);
	free(text);
	REQUIRE(metrics_rules_configure(m, later, 1) == 0);
	CHECK_INT_EQ(metrics_rule_match(m, "spam", METRICS_RULE_BLOCK, 1), -ENOENT);
	text = render(m);
	REQUIRE(text);
	CHECK_LINE(text, "feedd_rule_matches_total{rule=\"rust\",action=\"keep\"} 2");
	CHECK(strstr(text, "rule=\"spam\"") == NULL);
	free(text);
	metrics_destroy(m);
}

static void
t_health(void)
{
	struct metrics *m;
	char why[256];
	struct timespec ts = { 0, 120 * 1000000 };

	REQUIRE(metrics_create(&m) == 0);
	CHECK(metrics_healthy(m, why, sizeof(why)));
	CHECK_STR_EQ(why, "ok");
	CHECK(metrics_healthy(m, NULL, 0));
	metrics_store_result(m, -EROFS, "store: commit: Read-only file system "
		"(attempt to write a\na readonly database)");
	CHECK(!metrics_healthy(m, why, sizeof(why)));
	CHECK_STR_EQ(why, "store: commit: Read-only file system (attempt to "
		"write a a readonly database)");
	metrics_store_result(m, -EIO, "");
	CHECK(!metrics_healthy(m, why, sizeof(why)));
	CHECK_STR_EQ(why, "store: write failed");
	metrics_store_result(m, 0, "");
	CHECK(metrics_healthy(m, why, sizeof(why)));
	/* One job's data refused: the store still takes writes. */
	metrics_store_result(m, -EINVAL, "store: put: bad article");
	CHECK(metrics_healthy(m, why, sizeof(why)));
	metrics_store_result(m, -ENOSPC, "store: commit: database or disk is full");
	CHECK(!metrics_healthy(m, why, sizeof(why)));
	CHECK_STR_EQ(why, "store: commit: database or disk is full");
	metrics_store_result(m, -EINVAL, "store: put: bad article");
	CHECK(!metrics_healthy(m, why, sizeof(why)));
	metrics_store_result(m, 0, NULL);
	CHECK(metrics_healthy(m, why, sizeof(why)));
	/* A stale heartbeat. */
	metrics_set_stale_ms(m, 50);
	nanosleep(&ts, NULL);
	CHECK(!metrics_healthy(m, why, sizeof(why)));
	CHECK(strncmp(why, "loop: no heartbeat for ", 23) == 0);
	metrics_heartbeat(m);
	CHECK(metrics_healthy(m, why, sizeof(why)));
	metrics_destroy(m);
}

/* The HTTP thread renders while the loop counts: nothing is lost, and
 * what an update costs (printed, for the record). */
static struct metrics *race_m;
static volatile int race_stop;

static void *
race_render(void *arg)
{
	(void)arg;
	while (!race_stop) {
		char *t = render(race_m);

		if (!t)
			return (void *)1;
		free(t);
	}
	return NULL;
}

static void
t_concurrent(void)
{
	pthread_t th;
	void *ret = NULL;
	char *text, want[128];
	struct timespec a, b;
	enum { N = 200000 };

	REQUIRE(metrics_create(&race_m) == 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < N; i++)
		metrics_poll(race_m, METRICS_RESULT_OK, METRICS_ERROR_OTHER);
	clock_gettime(CLOCK_MONOTONIC, &b);
	fprintf(stderr, "metrics_poll, uncontended: %.0f ns per call\n",
		((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / N);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < 1000; i++)
		free(render(race_m));
	clock_gettime(CLOCK_MONOTONIC, &b);
	fprintf(stderr, "metrics_render: %.1f us per scrape\n",
		((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1000 / 1e3);
	REQUIRE(pthread_create(&th, NULL, race_render, NULL) == 0);
	for (int i = 0; i < N; i++) {
		metrics_poll(race_m, METRICS_RESULT_ERROR, METRICS_ERROR_TLS);
		metrics_loop_busy(race_m, 0.0001);
	}
	race_stop = 1;
	pthread_join(th, &ret);
	CHECK(ret == NULL);
	text = render(race_m);
	REQUIRE(text);
	snprintf(want, sizeof(want), "feedd_poll_errors_total{class=\"tls\"} %d", N);
	CHECK_LINE(text, want);
	snprintf(want, sizeof(want), "feedd_loop_stall_seconds_count %d", N);
	CHECK_LINE(text, want);
	free(text);
	metrics_destroy(race_m);
}

static void
t_listen_addr(void)
{
	static const struct {
		const char *in;
		int family;       /* 0: rejected */
		int port;
	} cases[] = {
		{ "127.0.0.1:9370", AF_INET, 9370 },
		{ "0.0.0.0:1", AF_INET, 1 },
		{ "[::1]:9370", AF_INET6, 9370 },
		{ "[::]:65535", AF_INET6, 65535 },
		{ "/run/feedd/metrics.sock", AF_UNIX, 0 },
		{ "", 0, 0 },
		{ "127.0.0.1", 0, 0 },
		{ "127.0.0.1:", 0, 0 },
		{ "127.0.0.1:0", 0, 0 },
		{ "127.0.0.1:65536", 0, 0 },
		{ "127.0.0.1:99999999999", 0, 0 },
		{ "127.0.0.1:80x", 0, 0 },
		{ "127.0.0.1:-1", 0, 0 },
		{ "localhost:9370", 0, 0 },
		{ ":9370", 0, 0 },
		{ "::1:9370", 0, 0 },
		{ "[::1]", 0, 0 },
		{ "[::1]9370", 0, 0 },
		{ "[nonsense]:9370", 0, 0 },
		{ "[]:9370", 0, 0 },
		{ "1.2.3.4.5:80", 0, 0 },
		{ "relative/path.sock", 0, 0 },
		{ "/run/feedd/", 0, 0 },
		{ "/a/very/long/path/that/is/longer/than/the/one/hundred/and/eight/bytes/a/unix/socket/address/can/hold/in/sun_path.sock", 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct listen_addr a;
		const char *why = NULL;
		int rc = listen_addr_parse(cases[i].in, &a, &why);

		if (!cases[i].family) {
			if (rc != -EINVAL || !why)
				CHECK_FAIL_("'%s' accepted", cases[i].in);
			continue;
		}
		if (rc != 0) {
			CHECK_FAIL_("'%s' rejected: %s", cases[i].in, why);
			continue;
		}
		CHECK_INT_EQ(a.family, cases[i].family);
		if (a.family == AF_INET)
			CHECK_INT_EQ(ntohs(((struct sockaddr_in *)&a.ss)->sin_port),
				cases[i].port);
		if (a.family == AF_INET6)
			CHECK_INT_EQ(ntohs(((struct sockaddr_in6 *)&a.ss)->sin6_port),
				cases[i].port);
	}
}

static char tmp[64];

static void
write_file(const char *name, const char *text, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", tmp, name);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* A config with `listen` lines: accepted, printed back, or rejected with
 * file:line and the reason (never the password). */
static void
t_listen_conf(void)
{
	char pw[128], empty[128], confp[128], buf[2048], err[1024];
	struct conf *c = NULL;
	static const struct {
		const char *line;
		const char *err;  /* NULL: accepted */
	} cases[] = {
		{ "listen 127.0.0.1:9370", NULL },
		{ "listen [::1]:9370 user=prom password-file=pw", NULL },
		{ "listen /tmp/feedd-metrics.sock user=prom password-file=pw", NULL },
		{ "listen 127.0.0.1:99999", "feedd.conf:2: listen: bad address '127.0.0.1:99999': bad port (1 to 65535)" },
		{ "listen example.com:80", "feedd.conf:2: listen: bad address 'example.com:80': bad IPv4 address (host names are not resolved)" },
		{ "listen 127.0.0.1:9370 user=prom", "feedd.conf:2: listen: user= and password-file= go together" },
		{ "listen 127.0.0.1:9370 password-file=pw", "feedd.conf:2: listen: user= and password-file= go together" },
		{ "listen 127.0.0.1:9370 user=prom password-file=nope", "feedd.conf:2: listen: cannot read password file '%s/nope': No such file or directory" },
		{ "listen 127.0.0.1:9370 user=prom password-file=empty", "feedd.conf:2: listen: password file '%s/empty': the first line is empty" },
		{ "listen 127.0.0.1:9370 user=a:b password-file=pw", "feedd.conf:2: listen: user= must be a non-empty name without ':'" },
		{ "listen 127.0.0.1:9370 pass=x", "feedd.conf:2: listen: unknown or repeated key 'pass' (use user=NAME password-file=PATH)" },
		{ "listen", "feedd.conf:2: listen: " },
		{ "listen 127.0.0.1:1\nlisten 127.0.0.1:2", "feedd.conf:3: listen: " },
	};

	snprintf(tmp, sizeof(tmp), "/tmp/test_metrics.XXXXXX");
	REQUIRE(mkdtemp(tmp));
	write_file("pw", "s3cret\nsecond line ignored\n", pw, sizeof(pw));
	write_file("empty", "\n", empty, sizeof(empty));
	snprintf(confp, sizeof(confp), "%s/feedd.conf", tmp);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[1024];
		int rc;

		snprintf(buf, sizeof(buf), "database %s/x.db\n%s\n", tmp,
			cases[i].line);
		err[0] = '\0';
		c = NULL;
		rc = conf_parse(&c, confp, buf, strlen(buf), err, sizeof(err));
		if (!cases[i].err) {
			if (rc != 0)
				CHECK_FAIL_("'%s' rejected: %s", cases[i].line, err);
			CHECK(c && c->listen.addr);
			conf_free(c);
			continue;
		}
		CHECK_INT_EQ(rc, -EINVAL);
		/* Messages name the file as given: strip the directory. */
		{
			/* "%s" in the expected text is the temporary dir. */
			const char *pct = strstr(cases[i].err, "%s");

			if (pct)
				snprintf(want, sizeof(want), "%.*s%s%s",
					(int)(pct - cases[i].err), cases[i].err,
					tmp, pct + 2);
			else
				snprintf(want, sizeof(want), "%s", cases[i].err);
		}
		{
			const char *e = strstr(err, "feedd.conf:");

			if (!e || strncmp(e, want, strlen(want)) != 0)
				CHECK_FAIL_("'%s': error '%s', want '%s'",
					cases[i].line, err, want);
		}
		CHECK(strstr(err, "s3cret") == NULL);
		if (rc == 0)
			conf_free(c);
	}

	/* Parsed: the password read, the path resolved, printed without it. */
	snprintf(buf, sizeof(buf), "database %s/x.db\nlisten [::1]:9370 "
		"user=prom password-file=pw\n", tmp);
	REQUIRE(conf_parse(&c, confp, buf, strlen(buf), err, sizeof(err)) == 0);
	CHECK_STR_EQ(c->listen.addr, "[::1]:9370");
	CHECK_STR_EQ(c->listen.user, "prom");
	CHECK_STR_EQ(c->listen.password, "s3cret");
	CHECK_STR_EQ(c->listen.password_file, pw);
	CHECK_INT_EQ(c->listen.line, 2);
	conf_free(c);
	c = NULL;
	/* A file without a final newline: exactly its bytes, nothing past
	 * them (the buffer it is read into is not NUL-terminated). */
	{
		char nonl[128];

		write_file("nonl", "abc", nonl, sizeof(nonl));
		snprintf(buf, sizeof(buf), "database %s/x.db\nlisten [::1]:9370 "
			"user=prom password-file=nonl\n", tmp);
		REQUIRE(conf_parse(&c, confp, buf, strlen(buf), err,
			sizeof(err)) == 0);
		CHECK_STR_EQ(c->listen.password, "abc");
		conf_free(c);
		c = NULL;
		unlink(nonl);
	}
	snprintf(buf, sizeof(buf), "database %s/x.db\nlisten [::1]:9370 "
		"user=prom password-file=pw\n", tmp);
	REQUIRE(conf_parse(&c, confp, buf, strlen(buf), err, sizeof(err)) == 0);
	{
		char *out = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&out, &len);

		REQUIRE(f);
		conf_print(c, f);
		fclose(f);
		snprintf(buf, sizeof(buf), "\nlisten [::1]:9370 user=prom "
			"password-file=%s\n", pw);
		CHECK(strstr(out, buf) != NULL);
		CHECK(strstr(out, "s3cret") == NULL);
		free(out);
	}
	{
		struct conf_listen copy = { 0 };

		REQUIRE(listen_conf_copy(&copy, &c->listen) == 0);
		CHECK_STR_EQ(copy.password, "s3cret");
		listen_conf_cleanup(&copy);
		CHECK_NULL(copy.password);
	}
	conf_free(c);
	/* Off by default. */
	snprintf(buf, sizeof(buf), "database %s/x.db\n", tmp);
	REQUIRE(conf_parse(&c, confp, buf, strlen(buf), err, sizeof(err)) == 0);
	CHECK_NULL(c->listen.addr);
	conf_free(c);
	unlink(pw);
	unlink(empty);
	rmdir(tmp);
}

/* A bind that cannot happen says which address and why. */
static void
t_listen_open(void)
{
	char err[256], addr[64], want[128];
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, fd2;

	fd = listen_open("127.0.0.1:0", err, sizeof(err));
	CHECK(fd < 0); /* port 0 is not an address one can scrape */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	REQUIRE(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	REQUIRE(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	REQUIRE(listen(fd, 1) == 0);
	REQUIRE(getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sa.sin_port));
	fd2 = listen_open(addr, err, sizeof(err));
	CHECK_INT_EQ(fd2, -EADDRINUSE);
	snprintf(want, sizeof(want), "bind %s: %s", addr, strerror(EADDRINUSE));
	CHECK_STR_EQ(err, want);
	close(fd);
	/* Free now: it binds. */
	fd2 = listen_open(addr, err, sizeof(err));
	CHECK(fd2 >= 0);
	if (fd2 >= 0)
		close(fd2);

	/* A Unix socket: made, its stale file replaced, a non-socket kept. */
	{
		char dir[] = "/tmp/test_metrics_sock.XXXXXX", path[128];
		struct stat st;

		REQUIRE(mkdtemp(dir));
		snprintf(path, sizeof(path), "%s/m.sock", dir);
		fd = listen_open(path, err, sizeof(err));
		CHECK(fd >= 0);
		CHECK(stat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
			(st.st_mode & 0777) == 0660);
		/* Still listening: refused. */
		fd2 = listen_open(path, err, sizeof(err));
		CHECK_INT_EQ(fd2, -EADDRINUSE);
		close(fd);
		/* Left behind by a dead process: replaced. */
		fd2 = listen_open(path, err, sizeof(err));
		CHECK(fd2 >= 0);
		if (fd2 >= 0)
			close(fd2);
		unlink(path);
		fd = open(path, O_CREAT | O_WRONLY, 0600);
		REQUIRE(fd >= 0);
		close(fd);
		fd2 = listen_open(path, err, sizeof(err));
		CHECK_INT_EQ(fd2, -EEXIST);
		CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode));
		unlink(path);
		rmdir(dir);
	}
}

static const struct check_case cases[] = {
	{ "families", t_families },
	{ "histogram", t_histogram },
	{ "counters", t_counters },
	{ "error_class", t_error_class },
	{ "hooks", t_hooks },
	{ "rules", t_rules },
	{ "health", t_health },
	{ "concurrent", t_concurrent },
	{ "listen_addr", t_listen_addr },
	{ "listen_conf", t_listen_conf },
	{ "listen_open", t_listen_open },
	{ 0 },
};

int
main(int argc, char **argv)
{
	return check_main(argc, argv, cases);
}
