/*
 * log and notify: the line formats under journald and on a terminal,
 * level filtering, URL credential stripping, and sd_notify datagrams to a
 * socket the test binds (a path and an "@abstract" name).
 */
#include "log.h"
#include "notify.h"

#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* log */

/* Run fn with stderr sent to a temporary file; return what it wrote. */
static char *
capture_stderr(void (*fn)(int fd), int *fd_out)
{
	char path[] = "/tmp/feedd-log-XXXXXX";
	int fd = mkstemp(path), saved;
	char *buf = NULL;
	off_t len;

	if (fd < 0)
		return NULL;
	unlink(path);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd_out)
		*fd_out = fd;
	fn(fd);
	dup2(saved, STDERR_FILENO);
	close(saved);
	len = lseek(fd, 0, SEEK_END);
	buf = calloc(1, (size_t)len + 1);
	if (buf && pread(fd, buf, (size_t)len, 0) != len) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	return buf;
}

static int evaluated;

static int
side_effect(void)
{
	return ++evaluated;
}

static void
emit_journal(int fd)
{
	struct stat st;
	char js[64];

	fstat(fd, &st);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
		(unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	log_init();
	log_level = LOG_L_NOTICE;
	log_warn("fetch", "feed=%s status=%d retry_in=%ds", "lwn", 503, 600);
	log_err("store", "cannot open %s", "/x.db");
	log_notice(NULL, "ready");
	log_info("sched", "not shown %d", side_effect());
	log_msg(LOG_L_WARNING, "parse", "title=%s", "line1\nline2\r\x1b[31m");
}

static void
t_log_journal(void)
{
	char *out = capture_stderr(emit_journal, NULL);

	REQUIRE(out);
	CHECK_STR_EQ(out,
		"<4>[fetch] feed=lwn status=503 retry_in=600s\n"
		"<3>[store] cannot open /x.db\n"
		"<5>ready\n"
		"<4>[parse] title=line1 line2  [31m\n");
	CHECK_INT_EQ(evaluated, 0);
	free(out);
	unsetenv("JOURNAL_STREAM");
}

static void
emit_terminal(int fd)
{
	/* A JOURNAL_STREAM inherited from a parent whose stderr was the
	 * journal, while ours now goes elsewhere: not journald. */
	setenv("JOURNAL_STREAM", "8:12345", 1);
	log_init();
	log_level = LOG_L_DEBUG;
	log_debug("sched", "feed=%s due_in=%ds", "x", side_effect());
	log_warn("fetch", "feed=%s failing", "y");
	log_level = LOG_L_NOTICE;
}

static void
t_log_terminal(void)
{
	char *out = capture_stderr(emit_terminal, NULL);
	struct tm tm = { 0 };
	char *rest;
	time_t t, now = time(NULL);

	REQUIRE(out);
	CHECK_INT_EQ(evaluated, 1);
	/* "2026-11-29T10:00:00Z debug [sched] feed=x due_in=1s" */
	rest = strptime(out, "%Y-%m-%dT%H:%M:%SZ ", &tm);
	REQUIRE(rest);
	t = timegm(&tm);
	CHECK(t <= now + 1 && t >= now - 60);
	CHECK(strncmp(rest, "debug [sched] feed=x due_in=1s\n", 31) == 0);
	rest = strchr(rest, '\n');
	REQUIRE(rest);
	rest = strptime(rest + 1, "%Y-%m-%dT%H:%M:%SZ ", &tm);
	REQUIRE(rest);
	CHECK_STR_EQ(rest, "warning [fetch] feed=y failing\n");
	free(out);
	unsetenv("JOURNAL_STREAM");
}

static void
emit_long(int fd)
{
	static char big[10000];

	unsetenv("JOURNAL_STREAM");
	log_init();
	memset(big, 'a', sizeof(big) - 1);
	log_msg(LOG_L_ERR, "sys", "%s", big);
}

static void
t_log_long(void)
{
	char *out = capture_stderr(emit_long, NULL);
	size_t n;

	REQUIRE(out);
	n = strlen(out);
	CHECK(n > 1000 && n <= 4096);
	CHECK(strstr(out, "...\n") == out + n - 4);
	CHECK(strchr(out, '\n') == out + n - 1);
	free(out);
}

static void
t_log_levels(void)
{
	static const struct {
		const char *in;
		int level;
	} cases[] = {
		{ "err", 3 }, { "error", 3 }, { "warning", 4 }, { "warn", 4 },
		{ "notice", 5 }, { "info", 6 }, { "debug", 7 }, { "3", 3 },
		{ "7", 7 }, { "8", -1 }, { "2", -1 }, { "", -1 }, { "Debug", -1 },
		{ "loud", -1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_INT_EQ(log_level_parse(cases[i].in), cases[i].level);
	CHECK_INT_EQ(log_level_parse(NULL), -1);
	for (int l = LOG_L_ERR; l <= LOG_L_DEBUG; l++)
		CHECK_INT_EQ(log_level_parse(log_level_name(l)), l);
}

static void
t_log_url(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "https://user:secret@example.org/feed", "https://example.org/feed" },
		{ "http://token@example.org:8080/x?a=b", "http://example.org:8080/x?a=b" },
		{ "https://a:b@c@example.org/", "https://example.org/" },
		{ "https://example.org/path@x", "https://example.org/path@x" },
		{ "https://example.org/?q=a@b", "https://example.org/?q=a@b" },
		{ "https://example.org", "https://example.org" },
		{ "not a url", "not a url" },
	};
	char buf[256], small[12];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_STR_EQ(log_url(cases[i].in, buf, sizeof(buf)), cases[i].out);
	CHECK_STR_EQ(log_url("https://u:p@example.org/", small, sizeof(small)), "https://exa");
	CHECK_STR_EQ(log_url("https://u:p@example.org/", buf, 0), "");
}

/* ------------------------------------------------------------------ */
/* notify */

static int
bind_dgram(const char *name, socklen_t *len_out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(name);
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memcpy(sa.sun_path, name, n);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] != '@'));
	if (bind(fd, (struct sockaddr *)&sa, len) < 0) {
		close(fd);
		return -1;
	}
	if (len_out)
		*len_out = len;
	return fd;
}

static void
expect_datagram(int fd, const char *want)
{
	char buf[2048];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	REQUIRE(n >= 0);
	buf[n] = '\0';
	CHECK_STR_EQ(buf, want);
}

static void
t_notify_path(void)
{
	char dir[] = "/tmp/feedd-notify-XXXXXX", path[128];
	int fd;

	unsetenv("NOTIFY_SOCKET");
	CHECK_INT_EQ(notify_send("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	CHECK_INT_EQ(notify_send("READY=1"), 0);

	REQUIRE(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = bind_dgram(path, NULL);
	REQUIRE(fd >= 0);
	setenv("NOTIFY_SOCKET", path, 1);
	CHECK_INT_EQ(notify_send("READY=1"), 0);
	expect_datagram(fd, "READY=1");
	CHECK_INT_EQ(notify_sendf("STATUS=%d feeds, %d failing", 120, 3), 0);
	expect_datagram(fd, "STATUS=120 feeds, 3 failing");
	CHECK_INT_EQ(notify_send("RELOADING=1\nSTATUS=reloading"), 0);
	expect_datagram(fd, "RELOADING=1\nSTATUS=reloading");
	close(fd);
	unlink(path);

	/* Nobody listening: a negative errno, not a crash or a hang. */
	CHECK_INT_EQ(notify_send("STOPPING=1"), -ENOENT);
	rmdir(dir);
}

static void
t_notify_abstract(void)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "@feedd-test-%ld", (long)getpid());
	fd = bind_dgram(name, NULL);
	REQUIRE(fd >= 0);
	setenv("NOTIFY_SOCKET", name, 1);
	CHECK_INT_EQ(notify_send("WATCHDOG=1"), 0);
	expect_datagram(fd, "WATCHDOG=1");
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

static void
t_notify_errors(void)
{
	char longp[200];

	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	CHECK_INT_EQ(notify_send("READY=1"), -EAFNOSUPPORT);
	memset(longp, 'x', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longp, 1);
	CHECK_INT_EQ(notify_send("READY=1"), -ENAMETOOLONG);
	unsetenv("NOTIFY_SOCKET");

	char big[2000];
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_INT_EQ(notify_sendf("STATUS=%s", big), -EMSGSIZE);
}

static void
t_watchdog(void)
{
	char pid[32];

	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	CHECK_INT_EQ(notify_watchdog_usec(), 0);
	setenv("WATCHDOG_USEC", "30000000", 1);
	CHECK_INT_EQ(notify_watchdog_usec(), 30000000);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	CHECK_INT_EQ(notify_watchdog_usec(), 30000000);
	/* Meant for another process (our parent, say). */
	snprintf(pid, sizeof(pid), "%ld", (long)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	CHECK_INT_EQ(notify_watchdog_usec(), 0);
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "-5", 1);
	CHECK_INT_EQ(notify_watchdog_usec(), 0);
	setenv("WATCHDOG_USEC", "12abc", 1);
	CHECK_INT_EQ(notify_watchdog_usec(), 0);
	unsetenv("WATCHDOG_USEC");
}

static const struct check_case cases[] = {
	{ "log_journal", t_log_journal },
	{ "log_terminal", t_log_terminal },
	{ "log_long", t_log_long },
	{ "log_levels", t_log_levels },
	{ "log_url", t_log_url },
	{ "notify_path", t_notify_path },
	{ "notify_abstract", t_notify_abstract },
	{ "notify_errors", t_notify_errors },
	{ "watchdog", t_watchdog },
	{ 0 },
};

int
main(int argc, char **argv)
{
	return check_main(argc, argv, cases);
}
