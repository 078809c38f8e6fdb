/*
 * log: one line per message on stderr. Under journald the line carries a
 * "<N>" priority prefix and nothing else journald records itself (time,
 * pid); elsewhere it starts with a UTC timestamp and the level name.
 *
 * Each line goes out in one write(2), so lines from different threads do
 * not interleave.
 */
#include "log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 4096

int log_level = LOG_L_NOTICE;

static bool log_journal; /* stderr is the journal's stream */
static void (*tty_hook)(void *);
static void *tty_hook_ud;

void
log_set_tty_hook(void (*fn)(void *ud), void *ud)
{
	tty_hook = fn;
	tty_hook_ud = ud;
}

static const char *const level_names[] = {
	[LOG_L_ERR] = "err",
	[LOG_L_WARNING] = "warning",
	[LOG_L_NOTICE] = "notice",
	[LOG_L_INFO] = "info",
	[LOG_L_DEBUG] = "debug",
};

void
log_init(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	/* systemd.exec(5): JOURNAL_STREAM is "DEVICE:INODE" of the stream
	 * it connected; it is inherited by children whose stderr may since
	 * have been redirected, so compare with what stderr is now. */
	log_journal = js && sscanf(js, "%llu:%llu%c", &dev, &ino, &tail) == 2 &&
		fstat(STDERR_FILENO, &st) == 0 &&
		(unsigned long long)st.st_dev == dev &&
		(unsigned long long)st.st_ino == ino;
}

int
log_level_parse(const char *s)
{
	if (!s)
		return -1;
	if (s[0] >= '3' && s[0] <= '7' && s[1] == '\0')
		return s[0] - '0';
	for (int l = LOG_L_ERR; l <= LOG_L_DEBUG; l++)
		if (strcmp(s, level_names[l]) == 0)
			return l;
	if (strcmp(s, "error") == 0)
		return LOG_L_ERR;
	if (strcmp(s, "warn") == 0)
		return LOG_L_WARNING;
	return -1;
}

const char *
log_level_name(int level)
{
	if (level < LOG_L_ERR)
		level = LOG_L_ERR;
	if (level > LOG_L_DEBUG)
		level = LOG_L_DEBUG;
	return level_names[level];
}

void
log_msg(int level, const char *grp, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	size_t n = 0, start;
	va_list ap;
	int w;

	if (level < LOG_L_ERR)
		level = LOG_L_ERR;
	if (level > LOG_L_DEBUG)
		level = LOG_L_DEBUG;
	if (log_journal) {
		w = snprintf(line, sizeof(line), "<%d>", level);
	} else {
		struct timespec ts;
		struct tm tm;
		char when[32] = "?";
		if (clock_gettime(CLOCK_REALTIME, &ts) == 0 && gmtime_r(&ts.tv_sec, &tm))
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		w = snprintf(line, sizeof(line), "%s %s ", when, level_names[level]);
	}
	if (w > 0)
		n = (size_t)w;
	if (grp && n < sizeof(line)) {
		w = snprintf(line + n, sizeof(line) - n, "[%s] ", grp);
		if (w > 0)
			n += (size_t)w;
	}
	start = n < sizeof(line) ? n : sizeof(line) - 1;
	if (n < sizeof(line)) {
		va_start(ap, fmt);
		w = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		va_end(ap);
		if (w > 0)
			n += (size_t)w;
	}
	if (n >= sizeof(line) - 1) {
		/* Truncated: say so rather than cut silently. */
		n = sizeof(line) - 2;
		memcpy(line + n - 3, "...", 3);
	}
	/* A message never spans lines: journald would split it and a reader
	 * could forge a second entry through a feed title. */
	for (size_t i = start; i < n; i++)
		if ((unsigned char)line[i] < ' ' && line[i] != '\t')
			line[i] = ' ';
	line[n++] = '\n';

	if (tty_hook)
		tty_hook(tty_hook_ud);
	for (size_t off = 0; off < n;) {
		ssize_t r = write(STDERR_FILENO, line + off, n - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		off += (size_t)r;
	}
}

const char *
log_url(const char *url, char *buf, unsigned long len)
{
	const char *auth, *end, *at = NULL;

	if (!buf || len == 0)
		return "";
	if (!url) {
		snprintf(buf, len, "(none)");
		return buf;
	}
	auth = strstr(url, "://");
	if (!auth) {
		snprintf(buf, len, "%s", url);
		return buf;
	}
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	if (at)
		snprintf(buf, len, "%.*s%s", (int)(auth - url), url, at + 1);
	else
		snprintf(buf, len, "%s", url);
	return buf;
}
