/*
 * conf: every error message, durations and sizes, defaults, resolution,
 * includes, conf_print round trip, and etc/feedd.conf + feedd.conf(5)
 * against the default table in conf.c.
 */
#include "conf.h"
#include "log.h"

#include "check.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int
parse_str(struct conf **c, const char *text, char *err, size_t errlen)
{
	return conf_parse(c, "t.conf", text, strlen(text), err, errlen);
}

/* ------------------------------------------------------------------ */

static const struct {
	const char *in;
	const char *err;
} error_cases[] = {
	{ "intreval 30m", "t.conf:1: intreval: unknown directive (did you mean 'interval'?)" },
	{ "max-connection 4", "t.conf:1: max-connection: unknown directive (did you mean 'max-connections'?)" },
	{ "frobnicate yes", "t.conf:1: frobnicate: unknown directive" },
	{ "tags linux", "t.conf:1: tags: unknown directive ('tags' is a feed key: feed NAME URL tags=...)" },
	{ "# comment\n\n  \ninterval 5x", "t.conf:4: interval: bad duration '5x' (use e.g. 90s, 30m, 2h, 1d, 1w)" },
	{ "interval 0s", "t.conf:1: interval: duration '0s' out of range (1s to 3650d)" },
	{ "interval", "t.conf:1: interval: expects 1 argument, got 0" },
	{ "interval 1h 2h", "t.conf:1: interval: expects 1 argument, got 2: '1h' '2h' (quote a value that has spaces)" },
	{ "user-agent feedd (admin@example.org)", "t.conf:1: user-agent: expects 1 argument, got 2: 'feedd' '(admin@example.org)' (quote a value that has spaces)" },
	{ "interval 1h\ninterval 2h", "t.conf:2: interval: already set at t.conf:1" },
	{ "max-interval 30s", "t.conf:1: max-interval: duration '30s' out of range (1m to 3650d)" },
	{ "max-connections abc", "t.conf:1: max-connections: bad number 'abc' (expected 1 to 1024)" },
	{ "max-connections 0", "t.conf:1: max-connections: bad number '0' (expected 1 to 1024)" },
	{ "max-per-host 99999999999999999999", "t.conf:1: max-per-host: bad number '99999999999999999999' (expected 1 to 64)" },
	{ "max-size 16X", "t.conf:1: max-size: bad size '16X' (use e.g. 512K, 16M, 1G)" },
	{ "max-size 2G", "t.conf:1: max-size: size '2G' out of range (1K to 1G)" },
	{ "timeout 2d", "t.conf:1: timeout: duration '2d' out of range (1s to 1d)" },
	{ "log-level loud", "t.conf:1: log-level: unknown level 'loud' (use err, warning, notice, info or debug)" },
	{ "sync maybe", "t.conf:1: sync: bad value 'maybe' (use full or normal)" },
	{ "database \"\"", "t.conf:1: database: empty path" },
	{ "user-agent \"feedd (test", "t.conf:1: user-agent: unterminated quote in 'feedd (test'" },
	{ "\"interval 1h", "t.conf:1: unterminated quote in 'interval 1h'" },
	{ "feed a", "t.conf:1: feed: expects at least 2 arguments, got 1" },
	{ "feed a http://x/\nfeed b http://y/\nfeed a http://z/", "t.conf:3: feed: duplicate feed name 'a' (first defined at t.conf:1)" },
	{ "feed \"a b\" http://x/", "t.conf:1: feed: invalid feed name 'a b' (use up to 64 letters, digits, '.', '_' and '-', not starting with '-')" },
	{ "feed -a http://x/", "t.conf:1: feed: invalid feed name '-a' (use up to 64 letters, digits, '.', '_' and '-', not starting with '-')" },
	{ "feed a ftp://x/f", "t.conf:1: feed: invalid URL 'ftp://x/f': only http and https are supported" },
	{ "feed a example.com/rss", "t.conf:1: feed: invalid URL 'example.com/rss': expected http://HOST/... or https://HOST/..." },
	{ "feed a http:///rss", "t.conf:1: feed: invalid URL 'http:///rss': no host" },
	{ "feed a http://user@/rss", "t.conf:1: feed: invalid URL 'http://****@/rss': no host" },
	{ "feed a http://x:99999/", "t.conf:1: feed: invalid URL 'http://x:99999/': bad port" },
	{ "feed a http://x:/", "t.conf:1: feed: invalid URL 'http://x:/': bad port" },
	{ "feed a http://[::1/", "t.conf:1: feed: invalid URL 'http://[::1/': bad IPv6 address" },
	{ "feed a \"http://x/a b\"", "t.conf:1: feed: invalid URL 'http://x/a b': contains a space or control character" },
	{ "feed a http://x/ intervall=1h", "t.conf:1: feed: unknown key 'intervall' (did you mean 'interval'?)" },
	{ "feed a http://x/ colour=red", "t.conf:1: feed: unknown key 'colour'" },
	{ "feed a http://x/ tags linux", "t.conf:1: feed: expected key=value, got 'tags' (write tags=VALUE)" },
	{ "feed a http://x/ 1h", "t.conf:1: feed: expected key=value, got '1h'" },
	{ "feed a http://x/ interval=soon", "t.conf:1: feed: bad duration 'soon' for interval (use e.g. 90s, 30m, 2h, 1d, 1w)" },
	{ "feed a http://x/ timeout=0", "t.conf:1: feed: duration '0' for timeout out of range (1s to 1d)" },
	{ "feed a http://x/ max-size=lots", "t.conf:1: feed: bad size 'lots' for max-size (use e.g. 512K, 16M, 1G)" },
	{ "feed a http://x/ keep-days=-1", "t.conf:1: feed: bad number '-1' for keep-days (expected 0 to 100000)" },
	{ "feed a http://x/ keep-count=many", "t.conf:1: feed: bad number 'many' for keep-count (expected 0 to 2147483647)" },
	{ "feed a http://x/ enabled=maybe", "t.conf:1: feed: bad value 'maybe' for enabled (use yes or no)" },
	{ "feed a http://x/ allow-private=2", "t.conf:1: feed: bad value '2' for allow-private (use yes or no)" },
	{ "feed a http://x/ interval=1h interval=2h", "t.conf:1: feed: key 'interval' given twice" },
	{ "feed a http://x/ password=secret", "t.conf:1: feed: password without username" },
	{ "include nothere.conf", "t.conf:1: include: nothere.conf: No such file or directory" },
	{ "feed a http://x/ site=example.org", "t.conf:1: feed: invalid URL 'example.org' for site: expected http://HOST/... or https://HOST/..." },
	{ "feed a http://x/ site=ftp://u:pw@x/", "t.conf:1: feed: invalid URL 'ftp://****@x/' for site: only http and https are supported" },
	{ "feed a http://x/ title=\"caf\xc3\"", "t.conf:1: feed: text for title is not valid UTF-8 (save the file as UTF-8)" },
	{ "feed a http://x/ title=\xc0\xaf", "t.conf:1: feed: text for title is not valid UTF-8 (save the file as UTF-8)" },
	{ "feed a http://x/ title=a title=b", "t.conf:1: feed: key 'title' given twice" },
	{ "include", "t.conf:1: include: expects 1 argument, got 0" },
};

static void
t_errors(void)
{
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		struct conf *c = (struct conf *)&c; /* must stay untouched */
		struct conf *orig = c;
		char err[512] = "";
		int rc = conf_parse(&c, "t.conf", error_cases[i].in,
			strlen(error_cases[i].in), err, sizeof(err));
		if (rc != -EINVAL || strcmp(err, error_cases[i].err) != 0) {
			fprintf(stderr, "case %zu: input \"%s\"\n", i, error_cases[i].in);
			CHECK_INT_EQ(rc, -EINVAL);
			CHECK_STR_EQ(err, error_cases[i].err);
		}
		CHECK(c == orig);
	}

	/* A NUL byte (a binary file given as config) is an error too. */
	static const char nul[] = "interval 1h\nlog-level\0 debug\n";
	struct conf *c = NULL;
	char err[512];
	CHECK_INT_EQ(conf_parse(&c, "t.conf", nul, sizeof(nul) - 1, err, sizeof(err)), -EINVAL);
	CHECK_STR_EQ(err, "t.conf:2: NUL byte in line");
	CHECK_NULL(c);
}

/* ------------------------------------------------------------------ */

static void
t_durations(void)
{
	static const struct {
		const char *in;
		int64_t secs; /* -1: rejected */
	} cases[] = {
		{ "90s", 90 }, { "30m", 1800 }, { "2h", 7200 }, { "1d", 86400 },
		{ "1w", 604800 }, { "45", 45 }, { "0", 0 }, { "1h30m", 5400 },
		{ "1d12h", 129600 }, { "", -1 }, { "h", -1 }, { "1x", -1 },
		{ "1h30", -1 }, { "-1m", -1 }, { "1.5h", -1 }, { "1H", -1 },
		{ " 1h", -1 }, { "1h ", -1 }, { "99999999999999999999d", -1 },
		{ "52150w", -1 }, { "5000w", 5000LL * 604800 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = -7;
		int rc = conf_duration(cases[i].in, &v);
		if (cases[i].secs < 0) {
			if (rc != -EINVAL)
				fprintf(stderr, "duration \"%s\" accepted as %lld\n",
					cases[i].in, (long long)v);
			CHECK_INT_EQ(rc, -EINVAL);
			CHECK_INT_EQ(v, -7);
		} else {
			if (rc != 0 || v != cases[i].secs)
				fprintf(stderr, "duration \"%s\"\n", cases[i].in);
			CHECK_INT_EQ(rc, 0);
			CHECK_INT_EQ(v, cases[i].secs);
		}
	}

	static const struct {
		int64_t secs;
		const char *out;
	} fmt[] = {
		{ 90, "90s" }, { 5400, "90m" }, { 3600, "1h" }, { 129600, "36h" },
		{ 86400, "1d" }, { 1209600, "2w" }, { 0, "0s" }, { 61, "61s" },
	};
	for (size_t i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++) {
		char b[32];
		int64_t back;
		CHECK_STR_EQ(conf_format_duration(fmt[i].secs, b, sizeof(b)), fmt[i].out);
		CHECK_INT_EQ(conf_duration(b, &back), 0);
		CHECK_INT_EQ(back, fmt[i].secs);
	}
}

static void
t_sizes(void)
{
	static const struct {
		const char *in;
		int64_t bytes;
	} cases[] = {
		{ "16M", 16 << 20 }, { "512K", 512 << 10 }, { "512k", 512 << 10 },
		{ "1G", 1 << 30 }, { "1000", 1000 }, { "0", 0 }, { "", -1 },
		{ "M", -1 }, { "16MB", -1 }, { "1.5M", -1 }, { "-1", -1 },
		{ "99999999999999999G", -1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = -7;
		int rc = conf_size(cases[i].in, &v);
		if (cases[i].bytes < 0) {
			CHECK_INT_EQ(rc, -EINVAL);
			CHECK_INT_EQ(v, -7);
		} else {
			CHECK_INT_EQ(rc, 0);
			CHECK_INT_EQ(v, cases[i].bytes);
		}
	}
	char b[32];
	CHECK_STR_EQ(conf_format_size(16 << 20, b, sizeof(b)), "16M");
	CHECK_STR_EQ(conf_format_size(1536, b, sizeof(b)), "1536");
	CHECK_STR_EQ(conf_format_size(3 << 10, b, sizeof(b)), "3K");
	CHECK_STR_EQ(conf_format_size(2LL << 30, b, sizeof(b)), "2G");
}

/* ------------------------------------------------------------------ */

static void
t_defaults(void)
{
	struct conf *c = NULL;
	char err[512], cwd[PATH_MAX], want[PATH_MAX + 16];

	unsetenv("STATE_DIRECTORY");
	REQUIRE(parse_str(&c, "", err, sizeof(err)) == 0);
	CHECK_INT_EQ(c->interval_s, 1800);
	CHECK_INT_EQ(c->max_interval_s, 86400);
	CHECK_INT_EQ(c->max_connections, 32);
	CHECK_INT_EQ(c->max_per_host, 2);
	CHECK_NULL(c->user_agent);
	CHECK_INT_EQ(c->timeout_s, 60);
	CHECK_INT_EQ(c->connect_timeout_s, 15);
	CHECK_INT_EQ(c->max_size, 16 << 20);
	CHECK_NULL(c->proxy);
	CHECK_INT_EQ(c->log_level, LOG_L_NOTICE);
	CHECK_INT_EQ(c->changelog_keep_s, 30 * 86400);
	CHECK(c->sync_full);
	CHECK_INT_EQ(c->nfeeds, 0);
	CHECK_STR_EQ(c->path, "t.conf");
	REQUIRE(getcwd(cwd, sizeof(cwd)));
	snprintf(want, sizeof(want), "%s/feedd.db", cwd);
	CHECK_STR_EQ(c->database, want);
	conf_free(c);
	conf_free(NULL);
}

static void
t_database_path(void)
{
	struct conf *c = NULL;
	char err[512];

	/* systemd may pass several state directories; the first is ours. */
	setenv("STATE_DIRECTORY", "/var/lib/feedd:/var/lib/other", 1);
	REQUIRE(parse_str(&c, "database articles.db\n", err, sizeof(err)) == 0);
	CHECK_STR_EQ(c->database, "/var/lib/feedd/articles.db");
	conf_free(c);

	setenv("STATE_DIRECTORY", "/srv/feedd/", 1);
	REQUIRE(parse_str(&c, "database sub/a.db\n", err, sizeof(err)) == 0);
	CHECK_STR_EQ(c->database, "/srv/feedd/sub/a.db");
	conf_free(c);

	REQUIRE(parse_str(&c, "database /data/x.db\n", err, sizeof(err)) == 0);
	CHECK_STR_EQ(c->database, "/data/x.db");
	conf_free(c);
	unsetenv("STATE_DIRECTORY");

	/* Without systemd, the system config still means the service's
	 * database (feedctl run from anywhere), any other the cwd's. */
	static const char text[] = "database feeds.db\n";
	REQUIRE(conf_parse(&c, FEEDD_DEFAULT_CONFIG, text, strlen(text), err,
		sizeof(err)) == 0);
	CHECK_STR_EQ(c->database, FEEDD_STATE_DIR "/feeds.db");
	CHECK_STR_EQ(c->database_file, FEEDD_DEFAULT_CONFIG);
	CHECK_INT_EQ(c->database_line, 1);
	conf_free(c);

	/* Any other config: its own directory, wherever feedd or feedctl
	 * is started from; a path relative to the current directory
	 * included. */
	char cwd[PATH_MAX], want[PATH_MAX + 32];
	REQUIRE(getcwd(cwd, sizeof(cwd)));
	REQUIRE(conf_parse(&c, "/nonexistent/dir/f.conf", text, strlen(text), err,
		sizeof(err)) == 0);
	CHECK_STR_EQ(c->database, "/nonexistent/dir/feeds.db");
	conf_free(c);
	snprintf(want, sizeof(want), "%s/etc/feeds.db", cwd);
	REQUIRE(conf_parse(&c, "etc/feedd.conf", text, strlen(text), err, sizeof(err)) == 0);
	CHECK_STR_EQ(c->database, want);
	conf_free(c);
	snprintf(want, sizeof(want), "%s/sub/dir/feeds.db", cwd);
	REQUIRE(conf_parse(&c, "t.conf", "database sub/dir/feeds.db", 25, err,
		sizeof(err)) == 0);
	CHECK_STR_EQ(c->database, want);
	conf_free(c);

	/* Left unset, the default has no line to name. */
	REQUIRE(conf_parse(&c, "/srv/f/f.conf", "", 0, err, sizeof(err)) == 0);
	CHECK_STR_EQ(c->database, "/srv/f/feedd.db");
	CHECK_NULL(c->database_file);
	CHECK_INT_EQ(c->database_line, 0);
	conf_free(c);

	/* The same file under another spelling is still the installed
	 * config: a symlink to it. */
	struct stat sb;
	if (stat(FEEDD_DEFAULT_CONFIG, &sb) == 0) {
		char link[] = "/tmp/feedd-conf-link-XXXXXX";
		REQUIRE(mkdtemp(link));
		char lp[sizeof(link) + 16];
		snprintf(lp, sizeof(lp), "%s/x.conf", link);
		REQUIRE(symlink(FEEDD_DEFAULT_CONFIG, lp) == 0);
		REQUIRE(conf_parse(&c, lp, text, strlen(text), err, sizeof(err)) == 0);
		CHECK_STR_EQ(c->database, FEEDD_STATE_DIR "/feeds.db");
		conf_free(c);
		unlink(lp);
		rmdir(link);
	}
}

static void
t_feeds(void)
{
	struct conf *c = NULL;
	char err[512];
	const struct conf_feed *f;
	const char *text =
		"# feeds before the globals they inherit\n"
		"feed lwn https://lwn.net/headlines/rss interval=1h tags=\" linux , news,,\"\n"
		"feed frag http://example.org/feed#atom   # a trailing comment\n"
		"feed priv HTTPS://user@[::1]:8443/x username=bob password=\"p w\\\"d\" "
		"user-agent=\"Mozilla/5.0 (X11; \\\"quoted\\\")\" proxy=\"\" enabled=no "
		"allow-private=yes keep-days=30 keep-count=500 max-size=512K timeout=2m\n"
		"\r\n"
		"interval 2h\r\n"
		"timeout 30s\n"
		"user-agent \"feedd test\"\n"
		"proxy http://proxy:3128\n"
		"log-level debug\n"
		"sync normal\n";

	REQUIRE(parse_str(&c, text, err, sizeof(err)) == 0);
	REQUIRE(c->nfeeds == 3);

	f = conf_feed_find(c, "lwn");
	REQUIRE(f);
	CHECK_STR_EQ(f->url, "https://lwn.net/headlines/rss");
	CHECK_INT_EQ(f->interval_s, 3600);
	CHECK_STR_EQ(f->tags, "linux,news");
	CHECK_INT_EQ(f->timeout_s, 30);
	CHECK_INT_EQ(f->max_size, 16 << 20);
	CHECK_STR_EQ(f->user_agent, "feedd test");
	CHECK_STR_EQ(f->proxy, "http://proxy:3128");
	CHECK(f->enabled);
	CHECK(!f->allow_private);
	CHECK_STR_EQ(f->file, "t.conf");
	CHECK_INT_EQ(f->line, 2);

	f = conf_feed_find(c, "frag");
	REQUIRE(f);
	CHECK_STR_EQ(f->url, "http://example.org/feed#atom");
	CHECK_INT_EQ(f->interval_s, 7200);
	CHECK_NULL(f->tags);
	CHECK_NULL(f->username);

	f = conf_feed_find(c, "priv");
	REQUIRE(f);
	CHECK_STR_EQ(f->username, "bob");
	CHECK_STR_EQ(f->password, "p w\"d");
	CHECK_STR_EQ(f->user_agent, "Mozilla/5.0 (X11; \"quoted\")");
	CHECK_STR_EQ(f->proxy, "");
	CHECK(!f->enabled);
	CHECK(f->allow_private);
	CHECK_INT_EQ(f->keep_days, 30);
	CHECK_INT_EQ(f->keep_count, 500);
	CHECK_INT_EQ(f->max_size, 512 << 10);
	CHECK_INT_EQ(f->timeout_s, 120);
	CHECK_INT_EQ(f->interval_s, 7200);

	CHECK_INT_EQ(c->log_level, LOG_L_DEBUG);
	CHECK(!c->sync_full);
	CHECK_NULL(conf_feed_find(c, "nope"));
	conf_free(c);
}

/* Print, parse the printout, print again: the same text, passwords masked. */
static void
t_print_roundtrip(void)
{
	struct conf *c = NULL, *c2 = NULL;
	char err[512], *out1 = NULL, *out2 = NULL;
	size_t n1 = 0, n2 = 0;
	FILE *f;
	const char *text =
		"database /tmp/x.db\ninterval 45m\nmax-size 1G\n"
		"user-agent \"a \\\"b\\\" \\\\c\"\n"
		"feed one http://h/1 tags=\"x y,z\" interval=45m\n"
		"feed two http://h/2 interval=3h username=u password=hunter2 enabled=off\n";

	REQUIRE(parse_str(&c, text, err, sizeof(err)) == 0);
	f = open_memstream(&out1, &n1);
	REQUIRE(f);
	conf_print(c, f);
	fclose(f);
	CHECK(strstr(out1, "password=****"));
	CHECK(!strstr(out1, "hunter2"));
	CHECK(strstr(out1, "\ninterval 45m\n"));
	CHECK(strstr(out1, "\nmax-size 1G\n"));
	CHECK(strstr(out1, "\nuser-agent \"a \\\"b\\\" \\\\c\"\n"));
	CHECK(strstr(out1, "\nfeed one http://h/1 tags=\"x y,z\"\n"));
	CHECK(strstr(out1, "\nfeed two http://h/2 interval=3h username=u password=**** enabled=no\n"));

	REQUIRE(parse_str(&c2, out1, err, sizeof(err)) == 0);
	CHECK_STR_EQ(c2->user_agent, "a \"b\" \\c");
	f = open_memstream(&out2, &n2);
	REQUIRE(f);
	conf_print(c2, f);
	fclose(f);
	CHECK_STR_EQ(out1, out2);
	free(out1);
	free(out2);
	conf_free(c);
	conf_free(c2);
}

/* ------------------------------------------------------------------ */
/* include */

static char tmpdir[64]; /* from mkdtemp, short */

static void
put(const char *name, const char *text)
{
	char p[PATH_MAX + 64];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	f = fopen(p, "w");
	if (!f) {
		perror(p);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

static int
load(struct conf **c, const char *name, char *err, size_t errlen)
{
	char p[PATH_MAX + 64];

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	return conf_load(c, p, err, errlen);
}

static void
t_include(void)
{
	struct conf *c = NULL;
	char err[1024], want[2 * PATH_MAX];
	char tmpl[] = "/tmp/feedd-conf-XXXXXX";

	REQUIRE(mkdtemp(tmpl));
	snprintf(tmpdir, sizeof(tmpdir), "%s", tmpl);
	snprintf(want, sizeof(want), "%s/feeds.d", tmpdir);
	REQUIRE(mkdir(want, 0700) == 0);

	/* A wildcard that matches nothing is fine (an empty feeds.d/). */
	put("main.conf", "interval 1h\ninclude feeds.d/*.conf\n");
	REQUIRE(load(&c, "main.conf", err, sizeof(err)) == 0);
	CHECK_INT_EQ(c->nfeeds, 0);
	conf_free(c);

	/* Matches are read in sorted order, relative to the including file. */
	put("feeds.d/b.conf", "feed b http://b/\n");
	put("feeds.d/a.conf", "feed a http://a/ interval=2h\n\nfeed a2 http://a2/\n");
	REQUIRE(load(&c, "main.conf", err, sizeof(err)) == 0);
	REQUIRE(c->nfeeds == 3);
	CHECK_STR_EQ(c->feeds[0].name, "a");
	CHECK_STR_EQ(c->feeds[1].name, "a2");
	CHECK_STR_EQ(c->feeds[2].name, "b");
	CHECK_INT_EQ(c->feeds[1].line, 3);
	snprintf(want, sizeof(want), "%s/feeds.d/a.conf", tmpdir);
	CHECK_STR_EQ(c->feeds[1].file, want);
	CHECK_INT_EQ(c->feeds[1].interval_s, 3600);
	conf_free(c);

	/* An error inside an included file names that file and line. */
	put("feeds.d/c.conf", "# c\nfeed a http://dup/\n");
	CHECK_INT_EQ(load(&c, "main.conf", err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
		"%s/feeds.d/c.conf:2: feed: duplicate feed name 'a' (first defined at %s/feeds.d/a.conf:1)",
		tmpdir, tmpdir);
	CHECK_STR_EQ(err, want);
	put("feeds.d/c.conf", "\n");

	/* A directive after the include still reports its own line. */
	put("main.conf", "include feeds.d/*.conf\nintreval 1h\n");
	CHECK_INT_EQ(load(&c, "main.conf", err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
		"%s/main.conf:2: intreval: unknown directive (did you mean 'interval'?)", tmpdir);
	CHECK_STR_EQ(err, want);

	/* Settings given twice across files. */
	put("main.conf", "interval 1h\ninclude g.conf\n");
	put("g.conf", "interval 2h\n");
	CHECK_INT_EQ(load(&c, "main.conf", err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s/g.conf:1: interval: already set at %s/main.conf:1",
		tmpdir, tmpdir);
	CHECK_STR_EQ(err, want);

	/* Unreadable: a missing file and a directory. */
	put("main.conf", "include missing.conf\n");
	CHECK_INT_EQ(load(&c, "main.conf", err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
		"%s/main.conf:1: include: %s/missing.conf: No such file or directory",
		tmpdir, tmpdir);
	CHECK_STR_EQ(err, want);
	put("main.conf", "include feeds.d\n");
	CHECK_INT_EQ(load(&c, "main.conf", err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
		"%s/main.conf:1: include: %s/feeds.d: Is a directory", tmpdir, tmpdir);
	CHECK_STR_EQ(err, want);
	if (geteuid() != 0) {
		put("secret.conf", "interval 1h\n");
		snprintf(want, sizeof(want), "%s/secret.conf", tmpdir);
		chmod(want, 0);
		put("main.conf", "include secret.conf\n");
		CHECK_INT_EQ(load(&c, "main.conf", err, sizeof(err)), -EINVAL);
		CHECK(strstr(err, "Permission denied"));
	}

	/* Cycles: a file including itself, and a -> b -> a. */
	put("main.conf", "include main.conf\n");
	CHECK_INT_EQ(load(&c, "main.conf", err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
		"%s/main.conf:1: include: cycle: '%s/main.conf' is already being read", tmpdir, tmpdir);
	CHECK_STR_EQ(err, want);
	put("main.conf", "include x.conf\n");
	put("x.conf", "\ninclude y.conf\n");
	put("y.conf", "include x.conf\n");
	CHECK_INT_EQ(load(&c, "main.conf", err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
		"%s/y.conf:1: include: cycle: '%s/x.conf' is already being read", tmpdir, tmpdir);
	CHECK_STR_EQ(err, want);

	/* Depth: a chain of distinct files deeper than the limit. */
	for (int i = 0; i < 10; i++) {
		char name[32], text[64];
		snprintf(name, sizeof(name), "d%d.conf", i);
		snprintf(text, sizeof(text), "include d%d.conf\n", i + 1);
		put(name, text);
	}
	put("d10.conf", "\n");
	put("main.conf", "include d0.conf\n");
	CHECK_INT_EQ(load(&c, "main.conf", err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
		"%s/d7.conf:1: include: includes nested more than 8 deep at '%s/d8.conf'", tmpdir, tmpdir);
	CHECK_STR_EQ(err, want);

	/* conf_load of a missing main file. */
	CHECK_INT_EQ(load(&c, "absent.conf", err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s/absent.conf: cannot read: No such file or directory", tmpdir);
	CHECK_STR_EQ(err, want);

	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	CHECK_INT_EQ(system(cmd), 0);
}

/* ------------------------------------------------------------------ */
/* etc/feedd.conf and feedd.conf(5) agree with the table in conf.c. */

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t n = 0;
	FILE *m;
	int ch;

	if (!f)
		return NULL;
	m = open_memstream(&buf, &n);
	if (!m) {
		fclose(f);
		return NULL;
	}
	while ((ch = fgetc(f)) != EOF)
		fputc(ch, m);
	fclose(m);
	fclose(f);
	return buf;
}

static const char *
srcdir_file(const char *rel, char *buf, size_t len)
{
	const char *data = getenv("FEEDD_TEST_DATA");

	snprintf(buf, len, "%s/../../%s", data ? data : "tests/data", rel);
	return buf;
}

static void
t_example_config(void)
{
	char path[PATH_MAX], err[512];
	struct conf *ex = NULL, *def = NULL;
	char *text;
	const char *name, *dflt;

	srcdir_file("etc/feedd.conf", path, sizeof(path));
	unsetenv("STATE_DIRECTORY");
	if (conf_load(&ex, path, err, sizeof(err)) != 0)
		fprintf(stderr, "%s\n", err);
	REQUIRE(ex);
	REQUIRE(parse_str(&def, "", err, sizeof(err)) == 0);

	/* Running the example changes no setting from its default (its
	 * database lands beside it, etc/feedd.db, for ./dev.sh run) ... */
	char want_db[PATH_MAX + 16], *etc = realpath(path, NULL);
	REQUIRE(etc);
	*strrchr(etc, '/') = '\0';
	snprintf(want_db, sizeof(want_db), "%s/feedd.db", etc);
	free(etc);
	CHECK_STR_EQ(ex->database, want_db);
	CHECK_INT_EQ(ex->interval_s, def->interval_s);
	CHECK_INT_EQ(ex->max_interval_s, def->max_interval_s);
	CHECK_INT_EQ(ex->max_connections, def->max_connections);
	CHECK_INT_EQ(ex->max_per_host, def->max_per_host);
	CHECK(ex->user_agent == NULL && def->user_agent == NULL);
	CHECK_INT_EQ(ex->timeout_s, def->timeout_s);
	CHECK_INT_EQ(ex->connect_timeout_s, def->connect_timeout_s);
	CHECK_INT_EQ(ex->max_size, def->max_size);
	CHECK(ex->proxy == NULL && def->proxy == NULL);
	CHECK_INT_EQ(ex->log_level, def->log_level);
	CHECK_INT_EQ(ex->changelog_keep_s, def->changelog_keep_s);
	CHECK_INT_EQ(ex->sync_full, def->sync_full);
	/* ... and it has a handful of real feeds to run. */
	CHECK(ex->nfeeds >= 3 && ex->nfeeds <= 10);
	for (size_t i = 0; i < ex->nfeeds; i++)
		CHECK(strncmp(ex->feeds[i].url, "https://", 8) == 0);

	/* Every setting is documented as "#name default" (or set to its
	 * default); one with no default as "#name example". */
	text = slurp(path);
	REQUIRE(text);
	for (size_t i = 0; conf_setting_get(i, &name, &dflt); i++) {
		char want[256];
		int found = 0;
		size_t nl = strlen(name);
		for (char *line = text; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
			char *l = line + (*line == '#');
			char *eol = strchr(l, '\n');
			size_t len = eol ? (size_t)(eol - l) : strlen(l);
			if (len <= nl || strncmp(l, name, nl) != 0 || l[nl] != ' ')
				continue;
			found++;
			if (dflt) {
				snprintf(want, sizeof(want), "%s %s", name, dflt);
				if (len != strlen(want) || strncmp(l, want, len) != 0) {
					fprintf(stderr, "example documents '%.*s', the code's default is '%s'\n",
						(int)len, l, want);
					CHECK(0);
				}
			} else if (l == line) {
				fprintf(stderr, "example sets '%s', which has no default\n", name);
				CHECK(0);
			}
		}
		if (found != 1)
			fprintf(stderr, "setting '%s' documented %d times in %s\n", name, found, path);
		CHECK_INT_EQ(found, 1);
	}
	free(text);

	/* feedd.conf(5) states the same defaults. */
	srcdir_file("docs/man/feedd.conf.5", path, sizeof(path));
	text = slurp(path);
	REQUIRE(text);
	for (size_t i = 0; conf_setting_get(i, &name, &dflt); i++) {
		char head[128], want[128];
		snprintf(head, sizeof(head), ".TP\n.BI \"%s \"", name);
		char *p = strstr(text, head), *next;
		if (!p) {
			fprintf(stderr, "feedd.conf.5: no entry '%s'\n", head);
			CHECK(0);
			continue;
		}
		next = strstr(p + 1, ".TP\n");
		if (!next)
			next = p + strlen(p);
		if (dflt)
			snprintf(want, sizeof(want), "Default: \\fB%s\\fR", dflt);
		else
			snprintf(want, sizeof(want), "Default: unset");
		char *d = strstr(p, want);
		if (!d || d > next) {
			fprintf(stderr, "feedd.conf.5: entry '%s' lacks '%s'\n", name, want);
			CHECK(0);
		}
	}
	free(text);
	conf_free(ex);
	conf_free(def);
}

static void
t_url_check(void)
{
	const char *why;

	CHECK_INT_EQ(conf_url_check("https://example.org", &why), 0);
	CHECK_INT_EQ(conf_url_check("http://a:b@example.org:8080/x?y#z", &why), 0);
	CHECK_INT_EQ(conf_url_check("http://[2001:db8::1]:80/", &why), 0);
	CHECK_INT_EQ(conf_url_check("http://127.0.0.1:1/", &why), 0);
	CHECK_INT_EQ(conf_url_check("file:///etc/passwd", &why), -EINVAL);
	CHECK_STR_EQ(why, "only http and https are supported");
	CHECK_INT_EQ(conf_url_check("http://h:0/", &why), -EINVAL);
	CHECK_INT_EQ(conf_url_check("http://h:80x/", &why), -EINVAL);
	CHECK_INT_EQ(conf_url_check("http://[]/", &why), -EINVAL);
	CHECK_INT_EQ(conf_url_check("https://", &why), -EINVAL);
	CHECK_STR_EQ(why, "no host");
}


/* ------------------------------------------------------------------ */
/* Every error, not only the first */

static void
t_all_errors(void)
{
	struct conf_errors e = { 0 };
	struct conf *c = NULL;
	char err[512];
	const char *text =
		"intreval 30m\n"                                   /* 1 */
		"feed a http://a/ interval=soon keep-count=x\n"    /* 2: two bad keys */
		"feed b ftp://b/\n"                                /* 3 */
		"feed a http://a2/\n"                              /* 4: dup of a bad feed */
		"feed \"bad name\" http://x/ colour=red\n"         /* 5: dropped, key checked */
		"\"unterminated\n"                                 /* 6 */
		"max-connections 0\n"                              /* 7 */
		"feed ok http://ok/ title=Fine\n"                  /* 8: fine */
		"interval 1h\n"                                    /* 9: fine */
		"interval 2h\n";                                   /* 10 */
	static const char *const want[] = {
		"t.conf:1: intreval: unknown directive (did you mean 'interval'?)",
		"t.conf:2: feed: bad duration 'soon' for interval (use e.g. 90s, 30m, 2h, 1d, 1w)",
		"t.conf:2: feed: bad number 'x' for keep-count (expected 0 to 2147483647)",
		"t.conf:3: feed: invalid URL 'ftp://b/': only http and https are supported",
		"t.conf:4: feed: duplicate feed name 'a' (first defined at t.conf:2)",
		"t.conf:5: feed: invalid feed name 'bad name' (use up to 64 letters, digits, '.', '_' and '-', not starting with '-')",
		"t.conf:5: feed: unknown key 'colour'",
		"t.conf:6: unterminated quote in 'unterminated'",
		"t.conf:7: max-connections: bad number '0' (expected 1 to 1024)",
		"t.conf:10: interval: already set at t.conf:9",
	};
	size_t nwant = sizeof(want) / sizeof(want[0]);

	CHECK_INT_EQ(conf_parse_all(&c, "t.conf", text, strlen(text), &e), -EINVAL);
	CHECK_INT_EQ(e.total, nwant);
	REQUIRE(e.count == nwant);
	for (size_t i = 0; i < nwant; i++)
		CHECK_STR_EQ(e.msgs[i], want[i]);
	/* The partial config is there for more checks: the good lines are
	 * in it, the dropped feed is not. */
	REQUIRE(c);
	CHECK(conf_feed_find(c, "ok") != NULL);
	CHECK(conf_feed_find(c, "a") != NULL);
	CHECK_NULL(conf_feed_find(c, "bad name"));
	CHECK_INT_EQ(c->interval_s, 3600);
	CHECK(c->database != NULL);
	conf_free(c);
	c = NULL;

	/* The printout: one line each, then the count. */
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);
	REQUIRE(f);
	conf_errors_print(&e, f);
	fclose(f);
	CHECK(strncmp(out, want[0], strlen(want[0])) == 0);
	CHECK(strstr(out, "\nt.conf:10: interval: already set at t.conf:9\n10 errors\n"));
	free(out);
	conf_errors_free(&e);
	CHECK_INT_EQ(e.total, 0);
	CHECK_NULL(e.msgs);

	/* conf_parse() still reports the first, and leaves *out alone. */
	CHECK_INT_EQ(parse_str(&c, text, err, sizeof(err)), -EINVAL);
	CHECK_STR_EQ(err, want[0]);
	CHECK_NULL(c);

	/* out = NULL only validates; a clean text is 0 with no message. */
	CHECK_INT_EQ(conf_parse_all(NULL, "t.conf", text, strlen(text), &e), -EINVAL);
	CHECK_INT_EQ(e.total, nwant);
	conf_errors_free(&e);
	CHECK_INT_EQ(conf_parse_all(&c, "t.conf", "feed x http://x/\n", 17, &e), 0);
	CHECK_INT_EQ(e.total, 0);
	REQUIRE(c);
	conf_free(c);
	c = NULL;

	/* A bad database line leaves no path to check. */
	CHECK_INT_EQ(conf_parse_all(&c, "t.conf", "database \"\"\n", 12, &e), -EINVAL);
	REQUIRE(c);
	CHECK_NULL(c->database);
	CHECK_INT_EQ(conf_check_database(c, &e), 0);
	CHECK_INT_EQ(e.total, 1);
	conf_free(c);
	conf_errors_free(&e);

	/* Thousands of bad lines: counted, the first CONF_MAX_ERRORS kept. */
	char *many = NULL;
	n = 0;
	f = open_memstream(&many, &n);
	REQUIRE(f);
	for (int i = 0; i < CONF_MAX_ERRORS + 500; i++)
		fputs("nonsense\n", f);
	fclose(f);
	CHECK_INT_EQ(conf_parse_all(NULL, "t.conf", many, n, &e), -EINVAL);
	CHECK_INT_EQ(e.total, CONF_MAX_ERRORS + 500);
	CHECK_INT_EQ(e.count, CONF_MAX_ERRORS);
	free(many);
	out = NULL;
	f = open_memstream(&out, &n);
	REQUIRE(f);
	conf_errors_print(&e, f);
	fclose(f);
	CHECK(strstr(out, "\n(500 more not shown)\n1500 errors\n"));
	free(out);
	conf_errors_free(&e);
}

/* ------------------------------------------------------------------ */
/* Secrets never appear in anything conf prints */

static const char *const secrets[] = { "hunter2", "s3cr3t", "pr0xy", "h1dden", "t0psecret" };

static void
check_no_secret(const char *what, const char *text)
{
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		if (strstr(text, secrets[i])) {
			fprintf(stderr, "%s shows '%s':\n%s\n", what, secrets[i], text);
			CHECK(0);
		}
	}
}

static void
t_masking(void)
{
	struct conf_errors e = { 0 };
	struct conf *c = NULL, *c2 = NULL;
	char b[256], *out = NULL, *out2 = NULL;
	size_t n = 0;
	FILE *f;

	/* conf_redact_url() */
	CHECK_STR_EQ(conf_redact_url("https://user:hunter2@example.org/x", b, sizeof(b)),
		"https://****@example.org/x");
	CHECK_STR_EQ(conf_redact_url("http://u@h:8080/?a=b@c", b, sizeof(b)), "http://****@h:8080/?a=b@c");
	CHECK_STR_EQ(conf_redact_url("https://example.org/a@b", b, sizeof(b)), "https://example.org/a@b");
	CHECK_STR_EQ(conf_redact_url("user:pr0xy@proxy:3128", b, sizeof(b)), "****@proxy:3128");
	CHECK_STR_EQ(conf_redact_url("socks5h://a:b@p", b, sizeof(b)), "socks5h://****@p");
	CHECK_STR_EQ(conf_redact_url("http://a:b:c@@h/", b, sizeof(b)), "http://****@h/");
	CHECK_STR_EQ(conf_redact_url("", b, sizeof(b)), "");
	CHECK_STR_EQ(conf_redact_url("https://u:hunter2@host/", b, 12), "https://***");

	/* A good config: conf_print masks and still parses back the same. */
	const char *good =
		"database /tmp/m.db\n"
		"proxy http://pu:pr0xy@proxy:3128\n"
		"feed a https://bob:hunter2@example.org/rss username=bob password=s3cr3t "
		"site=https://x:h1dden@example.org/ proxy=pu2:t0psecret@p2:8080\n";
	REQUIRE(conf_parse_all(&c, "t.conf", good, strlen(good), &e) == 0);
	CHECK_STR_EQ(c->feeds[0].password, "s3cr3t");
	f = open_memstream(&out, &n);
	REQUIRE(f);
	conf_print(c, f);
	fclose(f);
	check_no_secret("conf_print", out);
	CHECK(strstr(out, "\nproxy http://****@proxy:3128\n"));
	CHECK(strstr(out, "\nfeed a https://****@example.org/rss site=https://****@example.org/ "
		"username=bob password=**** proxy=****@p2:8080\n"));
	REQUIRE(conf_parse_all(&c2, "t.conf", out, strlen(out), &e) == 0);
	f = open_memstream(&out2, &n);
	REQUIRE(f);
	conf_print(c2, f);
	fclose(f);
	CHECK_STR_EQ(out, out2);
	free(out);
	free(out2);
	conf_free(c);
	conf_free(c2);
	c = NULL;

	/* Error messages that would quote them. */
	const char *bad =
		"feed a ftp://u:hunter2@x/ password=s3cr3t username=u\n"
		"feed b \"http://u:hunter2 x@h/\"\n"
		"feed c http://c/ password s3cr3t\n"
		"feed d http://d/ password = s3cr3t\n"
		"feed e http://e/ username=u password=\"s3cr3t\n"
		"proxy http://u:pr0xy@p:1 extra\n"
		"proxy u:pr0xy@p:1 extra\n"
		"feed f http://f/ site=\"https://u:h1dden@\"\n"
		"feed g http://u:t0psecret@g/ intreval=1\n"
		"database \"https://u:t0psecret@x\" y\n";
	CHECK_INT_EQ(conf_parse_all(NULL, "t.conf", bad, strlen(bad), &e), -EINVAL);
	out = NULL;
	f = open_memstream(&out, &n);
	REQUIRE(f);
	conf_errors_print(&e, f);
	fclose(f);
	check_no_secret("errors", out);
	CHECK(strstr(out, "t.conf:1: feed: invalid URL 'ftp://****@x/': only http and https are supported\n"));
	CHECK(strstr(out, "t.conf:3: feed: expected key=value, got '****'\n"));
	CHECK(strstr(out, "t.conf:5: feed: unterminated quote in 'password=****'\n"));
	CHECK(strstr(out, "t.conf:7: proxy: expects 1 argument, got 2: '****@p:1' 'extra'"));
	/* The line number and what is wrong survive the masking. */
	CHECK(strstr(out, "t.conf:9: feed: unknown key 'intreval' (did you mean 'interval'?)\n"));
	free(out);
	conf_errors_free(&e);
}

/* ------------------------------------------------------------------ */
/* title= and site= */

static void
t_title_site(void)
{
	struct conf *c = NULL, *c2 = NULL;
	char err[512], *out = NULL;
	size_t n = 0;
	FILE *f;
	const struct conf_feed *fd;
	const char *text =
		"feed nyt https://example.org/rss title=\"Die Zeit – Nachrichten \\\"aktuell\\\" \\\\ #1\" "
		"site=https://example.org/\n"
		"feed jp https://example.jp/feed title=日本語のブログ site=http://example.jp:8080/a?b#c\n"
		"feed plain http://p/ title=\"\"\n"
		"feed hash http://h/ \"title=#hash\" tags=x\n";

	REQUIRE(parse_str(&c, text, err, sizeof(err)) == 0);
	fd = conf_feed_find(c, "nyt");
	REQUIRE(fd);
	CHECK_STR_EQ(fd->title, "Die Zeit – Nachrichten \"aktuell\" \\ #1");
	CHECK_STR_EQ(fd->site, "https://example.org/");
	fd = conf_feed_find(c, "jp");
	REQUIRE(fd);
	CHECK_STR_EQ(fd->title, "日本語のブログ");
	CHECK_STR_EQ(fd->site, "http://example.jp:8080/a?b#c");
	fd = conf_feed_find(c, "plain");
	REQUIRE(fd);
	CHECK_NULL(fd->title);
	CHECK_NULL(fd->site);
	CHECK_STR_EQ(conf_feed_find(c, "hash")->title, "#hash");

	f = open_memstream(&out, &n);
	REQUIRE(f);
	conf_print(c, f);
	fclose(f);
	CHECK(strstr(out, "\nfeed nyt https://example.org/rss title=\"Die Zeit – Nachrichten \\\"aktuell\\\" \\\\ #1\" site=https://example.org/\n"));
	CHECK(strstr(out, "\nfeed jp https://example.jp/feed title=日本語のブログ site=http://example.jp:8080/a?b#c\n"));
	CHECK(strstr(out, "\nfeed plain http://p/\n"));

	/* Round trip: the printout reads back to the same fields. */
	REQUIRE(parse_str(&c2, out, err, sizeof(err)) == 0);
	REQUIRE(c2->nfeeds == c->nfeeds);
	for (size_t i = 0; i < c->nfeeds; i++) {
		const struct conf_feed *a = &c->feeds[i], *b2 = &c2->feeds[i];
		CHECK_STR_EQ(a->name, b2->name);
		CHECK((a->title == NULL) == (b2->title == NULL));
		if (a->title)
			CHECK_STR_EQ(a->title, b2->title);
		CHECK((a->site == NULL) == (b2->site == NULL));
		if (a->site)
			CHECK_STR_EQ(a->site, b2->site);
	}
	free(out);
	conf_free(c);
	conf_free(c2);
}

/* ------------------------------------------------------------------ */
/* Includes: a glob may match nothing, a plain path must exist */

static void
t_include_glob(void)
{
	struct conf_errors e = { 0 };
	struct conf *c = NULL;
	char tmpl[] = "/tmp/feedd-glob-XXXXXX", p[PATH_MAX], want[2 * PATH_MAX];

	REQUIRE(mkdtemp(tmpl));
	snprintf(tmpdir, sizeof(tmpdir), "%s", tmpl);

	/* Wildcards in a directory that does not exist, or in a file name
	 * that matches nothing: silently nothing. */
	put("main.conf", "include feeds.d/*.conf\ninclude none-*.conf\n"
		"include /nonexistent/feedd/*/x?.conf\nfeed m http://m/\n");
	snprintf(p, sizeof(p), "%s/main.conf", tmpdir);
	CHECK_INT_EQ(conf_load_all(&c, p, &e), 0);
	CHECK_INT_EQ(e.total, 0);
	REQUIRE(c);
	CHECK_INT_EQ(c->nfeeds, 1);
	conf_free(c);
	c = NULL;

	/* A plain path that does not exist is an error at its line, in
	 * the main file and in an included one; the rest is still read. */
	put("main.conf", "include feeds.d/*.conf\ninclude extra.conf\nintreval 1h\n");
	snprintf(want, sizeof(want), "%s/feeds.d", tmpdir);
	REQUIRE(mkdir(want, 0700) == 0);
	put("feeds.d/a.conf", "feed a http://a/ keep-days=x\ninclude ../gone/b.conf\n");
	put("feeds.d/b.conf", "feed a http://dup/\n");
	CHECK_INT_EQ(conf_load_all(&c, p, &e), -EINVAL);
	CHECK_INT_EQ(e.total, 5);
	REQUIRE(e.count == 5);
	snprintf(want, sizeof(want), "%s/feeds.d/a.conf:1: feed: bad number 'x' for keep-days (expected 0 to 100000)", tmpdir);
	CHECK_STR_EQ(e.msgs[0], want);
	snprintf(want, sizeof(want), "%s/feeds.d/a.conf:2: include: %s/feeds.d/../gone/b.conf: No such file or directory", tmpdir, tmpdir);
	CHECK_STR_EQ(e.msgs[1], want);
	snprintf(want, sizeof(want), "%s/feeds.d/b.conf:1: feed: duplicate feed name 'a' (first defined at %s/feeds.d/a.conf:1)", tmpdir, tmpdir);
	CHECK_STR_EQ(e.msgs[2], want);
	snprintf(want, sizeof(want), "%s/main.conf:2: include: %s/extra.conf: No such file or directory", tmpdir, tmpdir);
	CHECK_STR_EQ(e.msgs[3], want);
	snprintf(want, sizeof(want), "%s/main.conf:3: intreval: unknown directive (did you mean 'interval'?)", tmpdir);
	CHECK_STR_EQ(e.msgs[4], want);
	conf_free(c);
	c = NULL;
	conf_errors_free(&e);

	/* A directory the glob cannot read is an error, not "nothing". */
	if (geteuid() != 0) {
		snprintf(want, sizeof(want), "%s/feeds.d", tmpdir);
		REQUIRE(chmod(want, 0) == 0);
		put("main.conf", "include feeds.d/*.conf\n");
		CHECK_INT_EQ(conf_load_all(NULL, p, &e), -EINVAL);
		REQUIRE(e.count == 1);
		snprintf(want, sizeof(want), "%s/main.conf:1: include: %s/feeds.d: Permission denied",
			tmpdir, tmpdir);
		CHECK_STR_EQ(e.msgs[0], want);
		conf_errors_free(&e);
		snprintf(want, sizeof(want), "%s/feeds.d", tmpdir);
		chmod(want, 0700);
	}

	/* The main file itself missing. */
	snprintf(p, sizeof(p), "%s/absent.conf", tmpdir);
	CHECK_INT_EQ(conf_load_all(&c, p, &e), -ENOENT);
	CHECK_NULL(c);
	REQUIRE(e.count == 1);
	snprintf(want, sizeof(want), "%s: cannot read: No such file or directory", p);
	CHECK_STR_EQ(e.msgs[0], want);
	conf_errors_free(&e);

	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	CHECK_INT_EQ(system(cmd), 0);
}

/* ------------------------------------------------------------------ */
/* conf_check_database */

/* Check the database of text (main file at dir/f.conf) and return the
 * messages joined by newlines (caller frees). As root, the check runs in
 * a child with the uid and gid of nobody, where permissions mean
 * something. */
static char *
db_check(const char *dir, const char *text, bool as_nobody)
{
	char path[PATH_MAX], *out = NULL;
	struct conf_errors e = { 0 };
	struct conf *c = NULL;
	size_t n = 0;
	int fds[2];

	snprintf(path, sizeof(path), "%s/f.conf", dir);
	if (conf_parse_all(&c, path, text, strlen(text), &e) != 0)
		return strdup("parse failed");
	if (!as_nobody) {
		FILE *f = open_memstream(&out, &n);
		conf_check_database(c, &e);
		for (size_t i = 0; i < e.count; i++)
			fprintf(f, "%s\n", e.msgs[i]);
		fclose(f);
		conf_free(c);
		conf_errors_free(&e);
		return out;
	}
	if (pipe(fds) < 0)
		return NULL;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(3);
		conf_check_database(c, &e);
		for (size_t i = 0; i < e.count; i++) {
			if (write(fds[1], e.msgs[i], strlen(e.msgs[i])) < 0 ||
			    write(fds[1], "\n", 1) < 0)
				_exit(4);
		}
		_exit(0);
	}
	close(fds[1]);
	FILE *f = open_memstream(&out, &n);
	char buf[512];
	ssize_t r;
	while ((r = read(fds[0], buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)r, f);
	fclose(f);
	close(fds[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	conf_free(c);
	conf_errors_free(&e);
	return out;
}

static void
t_check_database(void)
{
	char tmpl[] = "/tmp/feedd-db-XXXXXX", p[PATH_MAX], want[3 * PATH_MAX];
	char *out;
	bool root = geteuid() == 0;

	unsetenv("STATE_DIRECTORY");
	REQUIRE(mkdtemp(tmpl));
	/* nobody must reach the directory to see what is in it. */
	REQUIRE(chmod(tmpl, 0755) == 0);

	/* Writable directory, database not there yet: fine. */
	out = db_check(tmpl, "database feedd.db\n", false);
	CHECK_STR_EQ(out, "");
	free(out);

	/* The default (no database line): the main file is named. */
	out = db_check(tmpl, "", false);
	CHECK_STR_EQ(out, "");
	free(out);

	/* A missing directory, named with the database line. */
	out = db_check(tmpl, "\ndatabase sub/feedd.db\n", false);
	snprintf(want, sizeof(want), "%s/f.conf:2: database: directory '%s/sub' of '%s/sub/feedd.db' does not exist (create it, writable by the user feedd runs as)\n",
		tmpl, tmpl, tmpl);
	CHECK_STR_EQ(out, want);
	free(out);
	out = db_check(tmpl, "feed x http://x/\n", false);
	CHECK_STR_EQ(out, "");
	free(out);
	snprintf(p, sizeof(p), "feed x http://x/\ndatabase /nonexistent/feedd/x.db\n");
	out = db_check(tmpl, p, false);
	snprintf(want, sizeof(want), "%s/f.conf:2: database: directory '/nonexistent/feedd' of '/nonexistent/feedd/x.db' does not exist (create it, writable by the user feedd runs as)\n",
		tmpl);
	CHECK_STR_EQ(out, want);
	free(out);

	/* The directory is a file; the database is a directory. */
	snprintf(p, sizeof(p), "%s/plain", tmpl);
	FILE *f = fopen(p, "w");
	REQUIRE(f);
	fclose(f);
	out = db_check(tmpl, "database plain/x.db\n", false);
	snprintf(want, sizeof(want), "%s/f.conf:1: database: '%s/plain' (the directory of '%s/plain/x.db') is not a directory\n",
		tmpl, tmpl, tmpl);
	CHECK_STR_EQ(out, want);
	free(out);
	snprintf(p, sizeof(p), "%s/isdir.db", tmpl);
	REQUIRE(mkdir(p, 0755) == 0);
	out = db_check(tmpl, "database isdir.db\n", false);
	snprintf(want, sizeof(want), "%s/f.conf:1: database: '%s/isdir.db' is not a regular file\n",
		tmpl, tmpl);
	CHECK_STR_EQ(out, want);
	free(out);

	/* Not writable by the user running the check: a directory only
	 * its owner may write, and a database file only its owner may
	 * read. As root that is nobody, in a child. */
	snprintf(p, sizeof(p), "%s/ro", tmpl);
	REQUIRE(mkdir(p, 0755) == 0);
	if (!root)
		REQUIRE(chmod(p, 0555) == 0);
	out = db_check(tmpl, "database ro/feedd.db\n", root);
	snprintf(want, sizeof(want), "%s/f.conf:1: database: directory '%s/ro' is not writable by ",
		tmpl, tmpl);
	CHECK(out && strncmp(out, want, strlen(want)) == 0);
	CHECK(out && strstr(out, ": Permission denied (the database and its -wal and -shm files are created there)\n"));
	if (root)
		CHECK(out && strstr(out, "(uid 65534)"));
	free(out);

	snprintf(p, sizeof(p), "%s/rw", tmpl);
	REQUIRE(mkdir(p, 0777) == 0);
	REQUIRE(chmod(p, 0777) == 0);
	snprintf(p, sizeof(p), "%s/rw/feedd.db", tmpl);
	f = fopen(p, "w");
	REQUIRE(f);
	fclose(f);
	REQUIRE(chmod(p, root ? 0600 : 0400) == 0);
	out = db_check(tmpl, "database rw/feedd.db\n", root);
	snprintf(want, sizeof(want), "%s/f.conf:1: database: '%s/rw/feedd.db' is not readable and writable by ",
		tmpl, tmpl);
	CHECK(out && strncmp(out, want, strlen(want)) == 0);
	CHECK(out && strstr(out, ": Permission denied\n"));
	free(out);
	REQUIRE(chmod(p, 0666) == 0);
	out = db_check(tmpl, "database rw/feedd.db\n", root);
	CHECK_STR_EQ(out, "");
	free(out);

	snprintf(p, sizeof(p), "%s/ro", tmpl);
	chmod(p, 0755);
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
	CHECK_INT_EQ(system(cmd), 0);
}


/* ------------------------------------------------------------------ */
/* conf_load_all_with(): an edit checked before it is written */

static void
t_override(void)
{
	struct conf_errors e = { 0 };
	struct conf *c = NULL;
	struct conf_override ov;
	char tmpl[] = "/tmp/feedd-ov-XXXXXX", mainp[PATH_MAX], ovp[PATH_MAX], want[3 * PATH_MAX];
	const char *add = "feed b http://b/ title=\"Added\"\n";

	REQUIRE(mkdtemp(tmpl));
	snprintf(tmpdir, sizeof(tmpdir), "%s", tmpl);
	snprintf(mainp, sizeof(mainp), "%s/main.conf", tmpdir);

	/* No feeds.d/ yet (a fresh install): the new file is read. */
	put("main.conf", "include feeds.d/*.conf\nfeed m http://m/\n");
	snprintf(ovp, sizeof(ovp), "%s/feeds.d/feedctl.conf", tmpdir);
	ov = (struct conf_override){ .path = ovp, .buf = add, .len = strlen(add) };
	CHECK_INT_EQ(conf_load_all_with(&c, mainp, &ov, &e), 0);
	CHECK_INT_EQ(e.total, 0);
	REQUIRE(c && c->nfeeds == 2);
	CHECK_STR_EQ(c->feeds[0].name, "b");
	CHECK_STR_EQ(c->feeds[0].file, ovp);
	CHECK_STR_EQ(c->feeds[0].title, "Added");
	conf_free(c);
	c = NULL;

	/* Among other files, in sorted order; a duplicate is found. */
	snprintf(want, sizeof(want), "%s/feeds.d", tmpdir);
	REQUIRE(mkdir(want, 0700) == 0);
	put("feeds.d/a.conf", "feed a http://a/\n");
	put("feeds.d/z.conf", "feed z http://z/\n");
	put("feeds.d/skip.txt", "feed skip http://s/\n");
	CHECK_INT_EQ(conf_load_all_with(&c, mainp, &ov, &e), 0);
	REQUIRE(c && c->nfeeds == 4);
	CHECK_STR_EQ(c->feeds[0].name, "a");
	CHECK_STR_EQ(c->feeds[1].name, "b");
	CHECK_STR_EQ(c->feeds[2].name, "z");
	CHECK_STR_EQ(c->feeds[3].name, "m");
	conf_free(c);
	c = NULL;
	const char *dup = "feed ok http://ok/\nfeed z http://z2/\n";
	ov = (struct conf_override){ .path = ovp, .buf = dup, .len = strlen(dup) };
	CHECK_INT_EQ(conf_load_all_with(NULL, mainp, &ov, &e), -EINVAL);
	REQUIRE(e.count == 1);
	snprintf(want, sizeof(want), "%s/feeds.d/z.conf:1: feed: duplicate feed name 'z' (first defined at %s:2)",
		tmpdir, ovp);
	CHECK_STR_EQ(e.msgs[0], want);
	conf_errors_free(&e);

	/* The file on disk, under another spelling, reads as the edit. */
	put("feeds.d/feedctl.conf", "feed old http://old/\n");
	snprintf(ovp, sizeof(ovp), "%s/./feeds.d/../feeds.d/feedctl.conf", tmpdir);
	ov = (struct conf_override){ .path = ovp, .buf = add, .len = strlen(add) };
	CHECK_INT_EQ(conf_load_all_with(&c, mainp, &ov, &e), 0);
	REQUIRE(c);
	CHECK(conf_feed_find(c, "b") != NULL);
	CHECK_NULL(conf_feed_find(c, "old"));
	CHECK_INT_EQ(c->nfeeds, 4);
	conf_free(c);
	c = NULL;

	/* A file no include names is not read; the main file may be the
	 * one edited. */
	snprintf(ovp, sizeof(ovp), "%s/elsewhere.conf", tmpdir);
	ov = (struct conf_override){ .path = ovp, .buf = add, .len = strlen(add) };
	CHECK_INT_EQ(conf_load_all_with(&c, mainp, &ov, &e), 0);
	REQUIRE(c);
	CHECK_NULL(conf_feed_find(c, "b"));
	conf_free(c);
	c = NULL;
	const char *newmain = "interval 1h\nfeed only http://only/\n";
	ov = (struct conf_override){ .path = mainp, .buf = newmain, .len = strlen(newmain) };
	CHECK_INT_EQ(conf_load_all_with(&c, mainp, &ov, &e), 0);
	REQUIRE(c && c->nfeeds == 1);
	CHECK_INT_EQ(c->interval_s, 3600);
	conf_free(c);
	c = NULL;
	CHECK_INT_EQ(e.total, 0);

	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	CHECK_INT_EQ(system(cmd), 0);
}

/* Per-feed strings that are the same for every feed are kept once: the
 * file name, an inherited user-agent and proxy. A feed's own value is its
 * own, and freeing the config frees each string once (ASan checks). */
static void
t_shared_strings(void)
{
	struct conf *c = NULL;
	char err[512];
	const char *text =
		"user-agent shared-agent/1\n"
		"proxy http://proxy.example:3128\n"
		"feed a https://a.example/feed\n"
		"feed b https://b.example/feed\n"
		"feed c https://c.example/feed user-agent=own/2 proxy=\n";

	REQUIRE(parse_str(&c, text, err, sizeof(err)) == 0);
	REQUIRE(c->nfeeds == 3);
	CHECK_STR_EQ(c->feeds[0].user_agent, "shared-agent/1");
	CHECK(c->feeds[0].user_agent == c->user_agent);
	CHECK(c->feeds[1].user_agent == c->user_agent);
	CHECK(c->feeds[1].proxy == c->proxy);
	CHECK_STR_EQ(c->feeds[1].proxy, "http://proxy.example:3128");
	CHECK_STR_EQ(c->feeds[2].user_agent, "own/2");
	CHECK(c->feeds[2].user_agent != c->user_agent);
	CHECK_STR_EQ(c->feeds[2].proxy, "");
	CHECK_STR_EQ(c->feeds[0].file, "t.conf");
	CHECK(c->feeds[0].file == c->feeds[2].file);
	CHECK_INT_EQ(c->nfiles, 1);
	conf_free(c);
}

static const struct check_case cases[] = {
	{ "errors", t_errors },
	{ "durations", t_durations },
	{ "sizes", t_sizes },
	{ "defaults", t_defaults },
	{ "database_path", t_database_path },
	{ "shared_strings", t_shared_strings },
	{ "feeds", t_feeds },
	{ "print_roundtrip", t_print_roundtrip },
	{ "include", t_include },
	{ "example_config", t_example_config },
	{ "url_check", t_url_check },
	{ "all_errors", t_all_errors },
	{ "masking", t_masking },
	{ "title_site", t_title_site },
	{ "include_glob", t_include_glob },
	{ "check_database", t_check_database },
	{ "override", t_override },
	{ 0 },
};

int
main(int argc, char **argv)
{
	return check_main(argc, argv, cases);
}
