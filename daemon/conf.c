/*
 * conf: the config file (feedd.conf(5)) -> struct conf.
 *
 * One table drives everything: each directive has its argument count, a
 * handler and, for global settings, its default written in config syntax.
 * Defaults are applied by running that text through the same handler, so
 * the table is the one place a default lives; the example config and the
 * man page are checked against it (tests/unit/test_conf.c).
 *
 * The only I/O is reading the main file (conf_load) and `include`d files.
 * A bad line never stops the parse: each error is collected as
 * "FILE:LINE: DIRECTIVE: what is wrong", quoting the offending text with
 * passwords and URL userinfo masked, and the next line is read (conf_load
 * reports the first, conf_load_all every one). A line with an error
 * changes nothing, except that a feed with a bad key or URL keeps its
 * name, so a later duplicate of it is still reported.
 */
#include "conf.h"
#include "log.h"
#include "rules.h"
#include "secret.h"
#include "addr.h"
#include "store.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONF_MAX_DEPTH 8          /* include nesting */
#define CONF_MAX_ARGS 64          /* tokens on one line */
#define CONF_MAX_FILE (16 << 20)  /* bytes in one config file */
#define CONF_MAX_NAME 64          /* bytes in a feed name */
#define CONF_MAX_DURATION (3650LL * 86400) /* ten years */

struct pstate;
struct directive;

typedef int (*directive_fn)(struct pstate *ps, const struct directive *d,
	int argc, char **argv);

/* Value kinds shared by global directives and feed keys. */
enum vkind {
	V_DURATION,  /* int64_t seconds */
	V_UINT,      /* unsigned */
	V_INT,       /* int */
	V_SIZE,      /* int64_t bytes */
	V_STRING,    /* char *, owned */
	V_BOOL,      /* bool */
	V_LOGLEVEL,  /* int */
	V_SYNC,      /* bool: full = true, normal = false */
	V_TAGS,      /* char *, owned, normalized comma list */
	V_TITLE,     /* char *, owned, valid UTF-8; empty = NULL */
	V_URL,       /* char *, owned, an http(s) URL */
};

struct directive {
	const char *name;
	int min_args, max_args;   /* after the name; -1 = no limit */
	directive_fn fn;
	enum vkind kind;          /* for value directives */
	size_t off;               /* offsetof(struct conf, field) */
	int64_t lo, hi;           /* accepted range for numbers and durations */
	const char *def;          /* default in config syntax; NULL = unset */
	bool setting;             /* a global setting (may appear once) */
};

/* Explicitly given feed keys, so unset ones inherit the global value
 * after the whole file (and its includes) has been read. */
enum {
	FSET_INTERVAL = 1 << 0,
	FSET_TIMEOUT = 1 << 1,
	FSET_MAX_SIZE = 1 << 2,
	FSET_USER_AGENT = 1 << 3,
	FSET_PROXY = 1 << 4,
};

struct feed_key {
	const char *name;
	enum vkind kind;
	size_t off;               /* offsetof(struct conf_feed, field) */
	int64_t lo, hi;
	unsigned fset;            /* FSET_* bit, or 0 */
};

static int d_value(struct pstate *ps, const struct directive *d, int argc, char **argv);
static int d_database(struct pstate *ps, const struct directive *d, int argc, char **argv);
static int d_include(struct pstate *ps, const struct directive *d, int argc, char **argv);
static int d_feed(struct pstate *ps, const struct directive *d, int argc, char **argv);
static int d_rule(struct pstate *ps, const struct directive *d, int argc, char **argv);
static int d_listen(struct pstate *ps, const struct directive *d, int argc, char **argv);
static int d_hook(struct pstate *ps, const struct directive *d, int argc, char **argv);

#define CO(f) offsetof(struct conf, f)
#define FO(f) offsetof(struct conf_feed, f)

static const struct directive directives[] = {
	{ .name = "database", 1, 1, d_database, V_STRING, CO(database), 0, 0, "feedd.db", true },
	{ .name = "interval", 1, 1, d_value, V_DURATION, CO(interval_s), 1, CONF_MAX_DURATION, "30m", true },
	{ .name = "max-interval", 1, 1, d_value, V_DURATION, CO(max_interval_s), 60, CONF_MAX_DURATION, "24h", true },
	{ .name = "max-connections", 1, 1, d_value, V_UINT, CO(max_connections), 1, 1024, "32", true },
	{ .name = "max-per-host", 1, 1, d_value, V_UINT, CO(max_per_host), 1, 64, "2", true },
	{ .name = "start-ramp", 1, 1, d_value, V_UINT, CO(start_ramp), 1, 1000000, "50", true },
	{ .name = "user-agent", 1, 1, d_value, V_STRING, CO(user_agent), 0, 0, NULL, true },
	{ .name = "timeout", 1, 1, d_value, V_DURATION, CO(timeout_s), 1, 86400, "60s", true },
	{ .name = "connect-timeout", 1, 1, d_value, V_DURATION, CO(connect_timeout_s), 1, 3600, "15s", true },
	{ .name = "max-size", 1, 1, d_value, V_SIZE, CO(max_size), 1024, 1LL << 30, "16M", true },
	{ .name = "proxy", 1, 1, d_value, V_STRING, CO(proxy), 0, 0, NULL, true },
	{ .name = "log-level", 1, 1, d_value, V_LOGLEVEL, CO(log_level), 0, 0, "notice", true },
	{ .name = "changelog-keep", 1, 1, d_value, V_DURATION, CO(changelog_keep_s), 3600, CONF_MAX_DURATION, "30d", true },
	{ .name = "sync", 1, 1, d_value, V_SYNC, CO(sync_full), 0, 0, "full", true },
	{ .name = "listen", 1, 3, d_listen, V_STRING, 0, 0, 0, NULL, true },
	{ .name = "include", 1, 1, d_include, V_STRING, 0, 0, 0, NULL, false },
	{ .name = "feed", 2, -1, d_feed, V_STRING, 0, 0, 0, NULL, false },
	{ .name = "rule", 3, -1, d_rule, V_STRING, 0, 0, 0, NULL, false },
	{ .name = "hook", 3, -1, d_hook, V_STRING, 0, 0, 0, NULL, false },
};
#define NDIRECTIVES (sizeof(directives) / sizeof(directives[0]))

static const struct feed_key feed_keys[] = {
	{ "interval", V_DURATION, FO(interval_s), 1, CONF_MAX_DURATION, FSET_INTERVAL },
	{ "tags", V_TAGS, FO(tags), 0, 0, 0 },
	{ "timeout", V_DURATION, FO(timeout_s), 1, 86400, FSET_TIMEOUT },
	{ "max-size", V_SIZE, FO(max_size), 1024, 1LL << 30, FSET_MAX_SIZE },
	{ "user-agent", V_STRING, FO(user_agent), 0, 0, FSET_USER_AGENT },
	{ "username", V_STRING, FO(username), 0, 0, 0 },
	{ "password", V_STRING, FO(password), 0, 0, 0 },
	{ "proxy", V_STRING, FO(proxy), 0, 0, FSET_PROXY },
	{ "keep-days", V_INT, FO(keep_days), 0, 100000, 0 },
	{ "keep-count", V_INT, FO(keep_count), 0, INT_MAX, 0 },
	{ "enabled", V_BOOL, FO(enabled), 0, 0, 0 },
	{ "allow-private", V_BOOL, FO(allow_private), 0, 0, 0 },
	{ "title", V_TITLE, FO(title), 0, 0, 0 },
	{ "site", V_URL, FO(site), 0, 0, 0 },
};
#define NFEED_KEYS (sizeof(feed_keys) / sizeof(feed_keys[0]))

struct pstate {
	struct conf *c;
	struct conf_errors *errs; /* borrowed: where errors go */
	bool oom;                 /* an error message could not be kept */
	bool db_bad;              /* the `database` line itself was wrong */
	const struct conf_override *ov; /* borrowed; NULL = none */
	char *ov_key;             /* owned: path_key() of ov->path */
	bool ov_read;             /* the override was read */
	const char *file;         /* borrowed: file being read, for messages */
	int line;
	const char *dir;          /* borrowed: directive being handled */
	int depth;                /* include nesting of the current file */
	char *stack[CONF_MAX_DEPTH + 2]; /* owned: real paths being read */
	unsigned *fset;           /* owned: FSET_* per feed, parallel to feeds */
	size_t feeds_cap;
	size_t *names;            /* owned: open-addressing set of feed index + 1 */
	size_t names_cap;         /* a power of two, or 0 */
	struct {
		char *file;       /* owned */
		int line;
	} seen[NDIRECTIVES];      /* where each setting was given */
};

/* -------------------------------------------------------------------- */
/* Errors */

static int
perr(struct pstate *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Append a copy of msg; false when out of memory. */
static bool
errors_add(struct conf_errors *e, const char *msg)
{
	char *m;

	e->total++;
	if (e->count >= CONF_MAX_ERRORS)
		return true;
	if (e->count == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 16;
		char **n = realloc(e->msgs, cap * sizeof(*n));
		if (!n)
			return false;
		e->msgs = n;
		e->cap = cap;
	}
	m = strdup(msg);
	if (!m)
		return false;
	e->msgs[e->count++] = m;
	return true;
}

void
conf_errors_free(struct conf_errors *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->count; i++)
		free(e->msgs[i]);
	free(e->msgs);
	memset(e, 0, sizeof(*e));
}

void
conf_errors_print(const struct conf_errors *e, void *file)
{
	FILE *f = file;

	if (!e || e->total == 0)
		return;
	for (size_t i = 0; i < e->count; i++)
		fprintf(f, "%s\n", e->msgs[i]);
	if (e->total > e->count)
		fprintf(f, "(%zu more not shown)\n", e->total - e->count);
	fprintf(f, "%zu error%s\n", e->total, e->total == 1 ? "" : "s");
}

/* Where the userinfo of the URL starting at s ends: the last '@' before
 * the path, or NULL. In text (a message), the host part also ends at
 * white space or a quote, so a URL is not read past its closing quote. */
static const char *
userinfo_end(const char *s, bool text)
{
	const char *at = NULL;

	for (const char *p = s; *p; p++) {
		if (*p == '/' || *p == '?' || *p == '#')
			break;
		if (text && (*p == ' ' || *p == '\t' || *p == '\'' || *p == '"'))
			break;
		if (*p == '@')
			at = p;
	}
	return at;
}

/* Write s to buf with the userinfo of every "scheme://" URL in it masked
 * (text), or of s read as one URL, scheme optional (!text). */
static const char *
redact(const char *s, bool text, char *buf, size_t len)
{
	size_t n = 0;
	const char *p = s;

#define PUT(str, l) do { \
		size_t l_ = (l); \
		if (len && n < len - 1) { \
			size_t k_ = l_ < len - 1 - n ? l_ : len - 1 - n; \
			memcpy(buf + n, (str), k_); \
		} \
		n += l_; \
	} while (0)
	if (!text) {
		const char *sep = strstr(s, "://"), *auth, *at;
		/* A scheme is letters before "://" with no '/' '@' first. */
		auth = sep && (size_t)(sep - s) <= strcspn(s, "/@?#") ? sep + 3 : s;
		at = userinfo_end(auth, false);
		if (at) {
			PUT(s, (size_t)(auth - s));
			PUT("****", 4);
			p = at;
		}
		PUT(p, strlen(p));
	} else {
		for (;;) {
			const char *sep = strstr(p, "://"), *at;
			if (!sep) {
				PUT(p, strlen(p));
				break;
			}
			PUT(p, (size_t)(sep + 3 - p));
			p = sep + 3;
			at = userinfo_end(p, true);
			if (at) {
				PUT("****", 4);
				p = at;
			}
		}
	}
#undef PUT
	if (len)
		buf[n < len ? n : len - 1] = '\0';
	return buf;
}

const char *
conf_redact_url(const char *url, char *buf, size_t len)
{
	return redact(url, false, buf, len);
}

/* A token for a message: a password value is shown as ****. */
static const char *
shown(const char *tok)
{
	return strncmp(tok, "password=", 9) == 0 ? "password=****" : tok;
}

static int
perr(struct pstate *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
perr(struct pstate *ps, const char *fmt, ...)
{
	char msg[1024], clean[1100];
	va_list ap;
	size_t n = 0;
	int w;

	/* Line 0: about the file as a whole (a default setting). */
	if (ps->line > 0)
		w = snprintf(msg, sizeof(msg), "%s:%d: ", ps->file ? ps->file : "?",
			ps->line);
	else
		w = snprintf(msg, sizeof(msg), "%s: ", ps->file ? ps->file : "?");
	if (w > 0)
		n = (size_t)w;
	if (ps->dir && n < sizeof(msg)) {
		w = snprintf(msg + n, sizeof(msg) - n, "%s: ", ps->dir);
		if (w > 0)
			n += (size_t)w;
	}
	if (n < sizeof(msg)) {
		va_start(ap, fmt);
		vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
		va_end(ap);
	}
	/* The message quotes user text; keep it on one line, and mask any
	 * URL's credentials that slipped into it. */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < ' ')
			*p = '?';
	redact(msg, true, clean, sizeof(clean));
	if (!errors_add(ps->errs, clean))
		ps->oom = true;
	return -EINVAL;
}

static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[64];

	if (la >= 63 || lb >= 63)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* The closest of names[i * stride] to s, or NULL when nothing is close. */
static const char *
suggest(const char *s, const void *table, size_t n, size_t stride)
{
	const char *best = NULL;
	size_t bestd = 3; /* at most two edits away */

	for (size_t i = 0; i < n; i++) {
		const char *name = *(const char *const *)((const char *)table + i * stride);
		size_t d = edit_distance(s, name);
		if (d < bestd && d < strlen(name)) {
			bestd = d;
			best = name;
		}
	}
	return best;
}

/* -------------------------------------------------------------------- */
/* Values */

int
conf_duration(const char *s, int64_t *out)
{
	int64_t total = 0;
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;
	while (*p) {
		int64_t n = 0, unit;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++) {
			n = n * 10 + (*p - '0');
			if (n > CONF_MAX_DURATION * 10)
				return -EINVAL;
		}
		switch (*p) {
		case 's': unit = 1; p++; break;
		case 'm': unit = 60; p++; break;
		case 'h': unit = 3600; p++; break;
		case 'd': unit = 86400; p++; break;
		case 'w': unit = 7 * 86400; p++; break;
		case '\0':
			/* A bare number is seconds, but only on its own:
			 * "1h30" is more likely a typo than 1h and 30s. */
			if (p - s != (ptrdiff_t)strspn(s, "0123456789"))
				return -EINVAL;
			unit = 1;
			break;
		default:
			return -EINVAL;
		}
		if (n > CONF_MAX_DURATION * 10 / unit)
			return -EINVAL;
		total += n * unit;
		if (total > CONF_MAX_DURATION * 10)
			return -EINVAL;
	}
	*out = total;
	return 0;
}

int
conf_size(const char *s, int64_t *out)
{
	int64_t n = 0, unit = 1;
	const char *p = s;

	if (!s || *p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (*p - '0');
		if (n > (1LL << 40))
			return -EINVAL;
	}
	switch (*p) {
	case '\0': break;
	case 'k': case 'K': unit = 1LL << 10; p++; break;
	case 'm': case 'M': unit = 1LL << 20; p++; break;
	case 'g': case 'G': unit = 1LL << 30; p++; break;
	default: return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	if (n > (1LL << 40) / unit)
		return -EINVAL;
	*out = n * unit;
	return 0;
}

static int
parse_number(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	int64_t n = 0;

	if (!*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		n = n * 10 + (*p - '0');
		if (n > hi)
			return -ERANGE;
	}
	if (n < lo)
		return -ERANGE;
	*out = n;
	return 0;
}

static int
parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* "a, b,,c " -> "a,b,c"; NULL when no tag is left. Tags keep their case
 * and inner spaces; commas separate them. */
static int
tags_normalize(const char *s, char **out)
{
	size_t len = strlen(s);
	char *t = malloc(len + 1), *w = t;
	const char *p = s;

	if (!t)
		return -ENOMEM;
	while (*p) {
		const char *b, *e;
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		b = p;
		while (*p && *p != ',')
			p++;
		e = p;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e == b)
			continue;
		if (w != t)
			*w++ = ',';
		memcpy(w, b, (size_t)(e - b));
		w += e - b;
	}
	*w = '\0';
	if (w == t) {
		free(t);
		t = NULL;
	}
	*out = t;
	return 0;
}

int
conf_url_check(const char *url, const char **why)
{
	const char *p, *auth, *end, *at, *host, *hend;

	*why = NULL;
	if (strncasecmp(url, "http://", 7) == 0) {
		auth = url + 7;
	} else if (strncasecmp(url, "https://", 8) == 0) {
		auth = url + 8;
	} else {
		*why = strstr(url, "://") ? "only http and https are supported"
			: "expected http://HOST/... or https://HOST/...";
		return -EINVAL;
	}
	for (p = url; *p; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			*why = "contains a space or control character";
			return -EINVAL;
		}
	}
	end = auth + strcspn(auth, "/?#");
	at = NULL;
	for (p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	host = at ? at + 1 : auth;
	if (*host == '[') {
		hend = memchr(host, ']', (size_t)(end - host));
		if (!hend || hend == host + 1) {
			*why = "bad IPv6 address";
			return -EINVAL;
		}
		hend++;
	} else {
		hend = memchr(host, ':', (size_t)(end - host));
		if (!hend)
			hend = end;
	}
	if (hend == host) {
		*why = "no host";
		return -EINVAL;
	}
	if (hend < end) {
		/* Only ":PORT" may follow the host. */
		char port[8];
		size_t n = (size_t)(end - hend - 1);
		int64_t v;
		if (*hend != ':' || n == 0 || n >= sizeof(port)) {
			*why = "bad port";
			return -EINVAL;
		}
		memcpy(port, hend + 1, n);
		port[n] = '\0';
		if (parse_number(port, 1, 65535, &v) < 0) {
			*why = "bad port";
			return -EINVAL;
		}
	}
	return 0;
}

/* Whether s is well-formed UTF-8 (no overlong forms, surrogates or
 * code points past U+10FFFF). */
static bool
utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned c = *p, n;
		uint32_t cp;
		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		for (unsigned i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		p += n + 1;
	}
	return true;
}

/* Store text into an owned string field, replacing the old value. */
static int
set_string(char **field, const char *s)
{
	char *d = strdup(s);

	if (!d)
		return -ENOMEM;
	free(*field);
	*field = d;
	return 0;
}

/*
 * Parse text as kind into the field at base + off. `key` names the setting
 * in messages ("" for a global directive, " for interval" for a feed key).
 */
static int
set_value(struct pstate *ps, enum vkind kind, void *field, int64_t lo,
	int64_t hi, const char *text, const char *key)
{
	int64_t n;
	int rc = 0;

	switch (kind) {
	case V_DURATION:
		if (conf_duration(text, &n) < 0)
			return perr(ps, "bad duration '%s'%s (use e.g. 90s, 30m, 2h, 1d, 1w)",
				text, key);
		if (n < lo || n > hi) {
			char a[32], b[32];
			conf_format_duration(lo, a, sizeof(a));
			conf_format_duration(hi, b, sizeof(b));
			return perr(ps, "duration '%s'%s out of range (%s to %s)",
				text, key, a, b);
		}
		*(int64_t *)field = n;
		break;
	case V_SIZE:
		if (conf_size(text, &n) < 0)
			return perr(ps, "bad size '%s'%s (use e.g. 512K, 16M, 1G)", text, key);
		if (n < lo || n > hi) {
			char a[32], b[32];
			conf_format_size(lo, a, sizeof(a));
			conf_format_size(hi, b, sizeof(b));
			return perr(ps, "size '%s'%s out of range (%s to %s)", text, key, a, b);
		}
		*(int64_t *)field = n;
		break;
	case V_UINT:
	case V_INT:
		if (parse_number(text, lo, hi, &n) < 0)
			return perr(ps, "bad number '%s'%s (expected %lld to %lld)", text, key,
				(long long)lo, (long long)hi);
		if (kind == V_UINT)
			*(unsigned *)field = (unsigned)n;
		else
			*(int *)field = (int)n;
		break;
	case V_STRING:
		rc = set_string(field, text);
		break;
	case V_BOOL:
		if (parse_bool(text, field) < 0)
			return perr(ps, "bad value '%s'%s (use yes or no)", text, key);
		break;
	case V_LOGLEVEL:
		n = log_level_parse(text);
		if (n < 0)
			return perr(ps, "unknown level '%s' (use err, warning, notice, info or debug)",
				text);
		*(int *)field = (int)n;
		break;
	case V_SYNC:
		if (strcmp(text, "full") == 0)
			*(bool *)field = true;
		else if (strcmp(text, "normal") == 0)
			*(bool *)field = false;
		else
			return perr(ps, "bad value '%s' (use full or normal)", text);
		break;
	case V_TAGS: {
		char *t;
		rc = tags_normalize(text, &t);
		if (rc < 0)
			break;
		free(*(char **)field);
		*(char **)field = t;
		break;
	}
	case V_TITLE:
		if (!utf8_valid(text))
			return perr(ps, "text%s is not valid UTF-8 (save the file as UTF-8)",
				key);
		if (!*text) {
			/* An empty title is no title (an OPML outline
			 * without text). */
			free(*(char **)field);
			*(char **)field = NULL;
			break;
		}
		rc = set_string(field, text);
		break;
	case V_URL: {
		const char *why;
		char shown_url[512];
		if (conf_url_check(text, &why) < 0)
			return perr(ps, "invalid URL '%s'%s: %s",
				conf_redact_url(text, shown_url, sizeof(shown_url)),
				key, why);
		rc = set_string(field, text);
		break;
	}
	}
	return rc;
}

/* -------------------------------------------------------------------- */
/* Directives */

static int
d_value(struct pstate *ps, const struct directive *d, int argc, char **argv)
{
	return set_value(ps, d->kind, (char *)ps->c + d->off, d->lo, d->hi, argv[1], "");
}

static int
d_database(struct pstate *ps, const struct directive *d, int argc, char **argv)
{
	struct conf *c = ps->c;
	int rc;

	if (!argv[1][0]) {
		ps->db_bad = true;
		return perr(ps, "empty path");
	}
	rc = set_string(&c->database, argv[1]);
	if (rc < 0 || !ps->file)
		return rc; /* the default: no line to name */
	c->database_line = ps->line;
	return set_string(&c->database_file, ps->file);
}

/* The address and its keys are listen.c's; it reads the password file. */
static int
d_listen(struct pstate *ps, const struct directive *d, int argc, char **argv)
{
	char why[PATH_MAX + 128];
	int rc;

	(void)d;
	rc = listen_conf_set(&ps->c->listen, argc - 1, argv + 1, ps->file,
		ps->line, why, sizeof(why));
	return rc == -EINVAL ? perr(ps, "%s", why) : rc;
}

static bool
feed_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CONF_MAX_NAME)
		return false;
	if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"0123456789._-") != n)
		return false;
	/* A leading '-' would read as an option on feedctl's command line. */
	return s[0] != '-';
}

/* Feed names are checked for duplicates through a hash set, so a config
 * with 100,000 feeds parses in linear time. */
static size_t
name_hash(const char *s)
{
	size_t h = 1469598103934665603u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static const struct conf_feed *
names_find(const struct pstate *ps, const char *name)
{
	if (!ps->names_cap)
		return NULL;
	for (size_t i = name_hash(name) & (ps->names_cap - 1);;
		i = (i + 1) & (ps->names_cap - 1)) {
		size_t v = ps->names[i];
		if (!v)
			return NULL;
		if (strcmp(ps->c->feeds[v - 1].name, name) == 0)
			return &ps->c->feeds[v - 1];
	}
}

static int
names_add(struct pstate *ps, size_t idx)
{
	if ((idx + 1) * 2 >= ps->names_cap) {
		size_t cap = ps->names_cap ? ps->names_cap * 2 : 64;
		size_t *n = calloc(cap, sizeof(*n));
		if (!n)
			return -ENOMEM;
		free(ps->names);
		ps->names = n;
		ps->names_cap = cap;
		/* Re-insert every named feed before this one. */
		for (size_t j = 0; j < idx; j++) {
			size_t i = name_hash(ps->c->feeds[j].name) & (cap - 1);
			while (n[i])
				i = (i + 1) & (cap - 1);
			n[i] = j + 1;
		}
	}
	size_t i = name_hash(ps->c->feeds[idx].name) & (ps->names_cap - 1);
	while (ps->names[i])
		i = (i + 1) & (ps->names_cap - 1);
	ps->names[i] = idx + 1;
	return 0;
}

/* f->file is c's (conf_free() frees c->files), and so are the inherited
 * user_agent and proxy. */
static void
feed_free(const struct conf *c, struct conf_feed *f)
{
	free(f->name);
	free(f->url);
	free(f->tags);
	if (f->user_agent != c->user_agent)
		free(f->user_agent);
	free(f->username);
	free(f->password);
	if (f->proxy != c->proxy)
		free(f->proxy);
	free(f->title);
	free(f->site);
}

/* The name of the file being read, kept once in c->files for the feeds
 * defined in it (consecutive feeds share it). NULL on ENOMEM. */
static char *
file_intern(struct pstate *ps)
{
	struct conf *c = ps->c;
	const char *name = ps->file ? ps->file : "?";
	char **v, *s;

	if (c->nfiles && strcmp(c->files[c->nfiles - 1], name) == 0)
		return c->files[c->nfiles - 1];
	v = realloc(c->files, (c->nfiles + 1) * sizeof(*v));
	if (!v)
		return NULL;
	c->files = v;
	s = strdup(name);
	if (!s)
		return NULL;
	c->files[c->nfiles++] = s;
	return s;
}

/*
 * A feed line. Every bad key is reported, not only the first. A feed with
 * a bad URL or key is still added under its name (so a later duplicate is
 * reported too); one with a bad or duplicate name is checked on a scratch
 * copy and dropped.
 */
static int
d_feed(struct pstate *ps, const struct directive *d, int argc, char **argv)
{
	struct conf *c = ps->c;
	const struct conf_feed *dup;
	struct conf_feed scratch = { 0 }, *f = &scratch;
	unsigned scratch_set = 0, *fset = &scratch_set;
	const char *why;
	char url_shown[512];
	unsigned seen = 0;
	bool keep = true, secret = false;
	int rc = 0;

	(void)d;
	if (!feed_name_ok(argv[1])) {
		perr(ps, "invalid feed name '%s' (use up to %d letters, digits, '.', '_' and '-', not starting with '-')",
			argv[1], CONF_MAX_NAME);
		keep = false;
	} else if ((dup = names_find(ps, argv[1]))) {
		perr(ps, "duplicate feed name '%s' (first defined at %s:%d)",
			argv[1], dup->file, dup->line);
		keep = false;
	}
	if (conf_url_check(argv[2], &why) < 0)
		perr(ps, "invalid URL '%s': %s",
			conf_redact_url(argv[2], url_shown, sizeof(url_shown)), why);

	if (keep && c->nfeeds == ps->feeds_cap) {
		size_t cap = ps->feeds_cap ? ps->feeds_cap * 2 : 16;
		struct conf_feed *nf = realloc(c->feeds, cap * sizeof(*nf));
		if (!nf)
			return -ENOMEM;
		c->feeds = nf;
		unsigned *ns = realloc(ps->fset, cap * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		ps->fset = ns;
		ps->feeds_cap = cap;
	}
	if (keep) {
		/* Counted at once, so conf_free() releases a half-built feed. */
		f = &c->feeds[c->nfeeds];
		memset(f, 0, sizeof(*f));
		fset = &ps->fset[c->nfeeds];
		*fset = 0;
		c->nfeeds++;
	}
	f->enabled = true;
	f->line = ps->line;
	if (!(f->name = strdup(argv[1])) || !(f->url = strdup(argv[2])) ||
	    !(f->file = file_intern(ps))) {
		rc = -ENOMEM;
		goto out;
	}
	if (keep) {
		rc = names_add(ps, c->nfeeds - 1);
		if (rc < 0)
			goto out;
	}

	for (int i = 3; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		const struct feed_key *k = NULL;
		size_t ki;
		char key[64];

		if (!eq) {
			bool known = false;
			for (ki = 0; ki < NFEED_KEYS; ki++)
				if (strcmp(argv[i], feed_keys[ki].name) == 0)
					known = true;
			if (known)
				perr(ps, "expected key=value, got '%s' (write %s=VALUE)",
					argv[i], argv[i]);
			else
				/* After a "password" without '=' the
				 * next word is likely the secret. */
				perr(ps, "expected key=value, got '%s'",
					secret ? "****" : argv[i]);
			if (strncmp(argv[i], "password", 8) == 0)
				secret = true;
			continue;
		}
		*eq = '\0';
		if (strncmp(argv[i], "password", 8) == 0)
			secret = true;
		for (ki = 0; ki < NFEED_KEYS; ki++) {
			if (strcmp(argv[i], feed_keys[ki].name) == 0) {
				k = &feed_keys[ki];
				break;
			}
		}
		if (!k) {
			const char *sug = suggest(argv[i], feed_keys, NFEED_KEYS,
				sizeof(feed_keys[0]));
			if (sug)
				perr(ps, "unknown key '%s' (did you mean '%s'?)", argv[i], sug);
			else
				perr(ps, "unknown key '%s'", argv[i]);
			continue;
		}
		if (seen & (1u << ki)) {
			perr(ps, "key '%s' given twice", k->name);
			continue;
		}
		seen |= 1u << ki;
		snprintf(key, sizeof(key), " for %s", k->name);
		rc = set_value(ps, k->kind, (char *)f + k->off, k->lo, k->hi, eq + 1, key);
		if (rc == -ENOMEM)
			goto out;
		if (rc == 0)
			*fset |= k->fset;
		rc = 0;
	}
	if (f->password && !f->username)
		perr(ps, "password without username");
out:
	if (f == &scratch)
		feed_free(c, &scratch);
	return rc;
}

/* A keep/block rule (rules.h); its feeds= are checked once every feed
 * is known (check_rules()). */
static int
d_rule(struct pstate *ps, const struct directive *d, int argc, char **argv)
{
	struct conf *c = ps->c;
	struct rule r;
	char why[512];
	int rc;

	(void)d;
	for (size_t i = 0; i < c->rules->n; i++)
		if (strcmp(c->rules->v[i].name, argv[1]) == 0)
			return perr(ps, "duplicate rule name '%s' (first defined at %s:%d)",
				argv[1], c->rules->v[i].file, c->rules->v[i].line);
	rc = rule_parse(&r, argc - 1, argv + 1, why, sizeof(why));
	if (rc == -EINVAL)
		return perr(ps, "%s", why);
	if (rc < 0)
		return rc;
	r.line = ps->line;
	r.file = strdup(ps->file ? ps->file : "?");
	if (!r.file) {
		rule_cleanup(&r);
		return -ENOMEM;
	}
	return rule_set_add(c->rules, &r);
}

static void
check_rules(struct pstate *ps)
{
	char why[512];

	for (size_t i = 0; i < ps->c->rules->n; i++) {
		const struct rule *r = &ps->c->rules->v[i];
		if (rule_check_feeds(r, ps->c, why, sizeof(why)) == 0)
			continue;
		ps->file = r->file;
		ps->line = r->line;
		ps->dir = "rule";
		perr(ps, "%s", why);
	}
}

static int parse_buf(struct pstate *ps, const char *path, const char *buf, size_t len);

/* -------------------------------------------------------------------- */
/* Hooks */

static void dir_of(const char *path, char *buf, size_t len);

/* Append a copy of s to the NULL-terminated list *v of *n strings. */
static int
strv_add(char ***v, size_t *n, const char *s, size_t len)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strndup(s, len);
	if (!nv[*n]) {
		nv[*n] = NULL;
		return -ENOMEM;
	}
	(*n)++;
	nv[*n] = NULL;
	return 0;
}

static void
strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static bool
strv_equal(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

static void
hook_free(struct conf_hook *h)
{
	free(h->name);
	free(h->program);
	strv_free(h->argv);
	strv_free(h->env);
	free(h->url);
	free(h->secret_file);
	strv_free(h->feeds);
	strv_free(h->tags);
	free(h->file);
}

/* Keys of a hook line; exec/webhook say which kind takes them. */
enum hook_key {
	HK_FEEDS, HK_EVENTS, HK_BATCH, HK_TIMEOUT, HK_RETRY, HK_FROM,
	HK_ENV, HK_SECRET_FILE, HK_ALLOW_PRIVATE,
};
static const struct {
	const char *name;
	enum hook_key key;
	bool exec, webhook;
	bool repeat;              /* may be given more than once */
} hook_keys[] = {
	{ "feeds", HK_FEEDS, true, true, false },
	{ "events", HK_EVENTS, true, true, false },
	{ "batch", HK_BATCH, true, true, false },
	{ "timeout", HK_TIMEOUT, true, true, false },
	{ "retry", HK_RETRY, true, true, false },
	{ "from", HK_FROM, true, true, false },
	{ "env", HK_ENV, true, false, true },
	{ "secret-file", HK_SECRET_FILE, false, true, false },
	{ "allow-private", HK_ALLOW_PRIVATE, false, true, false },
};
#define NHOOK_KEYS (sizeof(hook_keys) / sizeof(hook_keys[0]))

/* A word that starts the options: [a-z][a-z-]*=... */
static bool
looks_like_key(const char *w)
{
	const char *p = w;

	if (*p < 'a' || *p > 'z')
		return false;
	while ((*p >= 'a' && *p <= 'z') || *p == '-')
		p++;
	return *p == '=';
}

/*
 * Where PROGRAM is: an absolute path as is, a relative one with a '/'
 * against the config file's directory, a bare name by $PATH (as the shell
 * would, once, when the config is read: the daemon runs what was checked).
 * 0 with *out malloc'd, or -EINVAL (reported), -ENOMEM.
 */
static int
hook_program(struct pstate *ps, const char *prog, char **out)
{
	char dir[PATH_MAX], *full = NULL;
	struct stat sb;

	if (!*prog)
		return perr(ps, "empty program");
	if (prog[0] == '/') {
		full = strdup(prog);
	} else if (strchr(prog, '/')) {
		dir_of(ps->file ? ps->file : ".", dir, sizeof(dir));
		if (asprintf(&full, "%s/%s", dir, prog) < 0)
			full = NULL;
	} else {
		const char *path = getenv("PATH");

		if (!path || !*path)
			path = "/usr/local/bin:/usr/bin:/bin";
		for (const char *p = path; *p;) {
			size_t l = strcspn(p, ":");
			char *cand = NULL;

			if (l && asprintf(&cand, "%.*s/%s", (int)l, p, prog) < 0)
				return -ENOMEM;
			if (cand && stat(cand, &sb) == 0 && S_ISREG(sb.st_mode) &&
			    access(cand, X_OK) == 0) {
				full = cand;
				break;
			}
			free(cand);
			p += l;
			if (*p == ':')
				p++;
		}
		if (!full)
			return perr(ps, "program '%s' not found in PATH (%s)", prog,
				path);
		*out = full;
		return 0;
	}
	if (!full)
		return -ENOMEM;
	if (stat(full, &sb) < 0) {
		perr(ps, "program '%s': %s", full, strerror(errno));
		free(full);
		return -EINVAL;
	}
	if (!S_ISREG(sb.st_mode) || access(full, X_OK) < 0) {
		perr(ps, "program '%s' is not %s", full, S_ISREG(sb.st_mode) ?
			"executable (chmod +x?)" : "a regular file");
		free(full);
		return -EINVAL;
	}
	*out = full;
	return 0;
}

/* feeds=a,b,tag:x */
static int
hook_feeds(struct pstate *ps, struct conf_hook *h, const char *v)
{
	int rc = 0;

	if (!*v)
		return perr(ps, "empty feeds= (leave it out for every feed)");
	for (const char *p = v; *p;) {
		size_t l = strcspn(p, ",");
		char word[CONF_MAX_NAME + 8];

		if (l == 0 || l >= sizeof(word)) {
			return perr(ps, "bad feeds= entry '%.*s' (use feed names "
				"and tag:TAG, comma-separated)", (int)l, p);
		}
		memcpy(word, p, l);
		word[l] = '\0';
		if (strncmp(word, "tag:", 4) == 0) {
			if (!word[4] || strpbrk(word + 4, " \t"))
				return perr(ps, "bad tag in feeds= '%s'", word);
			rc = strv_add(&h->tags, &h->ntags, word + 4, l - 4);
		} else if (!feed_name_ok(word)) {
			return perr(ps, "bad feed name '%s' in feeds= (a feed "
				"name, or tag:TAG)", word);
		} else {
			rc = strv_add(&h->feeds, &h->nfeeds, word, l);
		}
		if (rc < 0)
			return rc;
		p += l;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int
hook_events(struct pstate *ps, struct conf_hook *h, const char *v)
{
	unsigned ev = 0;

	for (const char *p = v; *p;) {
		size_t l = strcspn(p, ",");

		if (l == 3 && strncmp(p, "new", 3) == 0)
			ev |= CONF_HOOK_NEW;
		else if (l == 7 && strncmp(p, "updated", 7) == 0)
			ev |= CONF_HOOK_UPDATED;
		else
			return perr(ps, "unknown event '%.*s' in events= (use new, "
				"updated or new,updated)", (int)l, p);
		p += l;
		if (*p == ',')
			p++;
	}
	if (!ev)
		return perr(ps, "empty events= (use new, updated or new,updated)");
	h->events = ev;
	return 0;
}

/* env=NAME=VALUE: one variable per key (a value may hold commas). */
static int
hook_env(struct pstate *ps, struct conf_hook *h, const char *v)
{
	size_t n = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		"0123456789_");

	if (n == 0 || v[n] != '=' || (v[0] >= '0' && v[0] <= '9'))
		return perr(ps, "bad env= '%.*s' (use env=NAME=VALUE, NAME of "
			"letters, digits and '_')", (int)strcspn(v, "="), v);
	if (strncmp(v, "FEEDD_", 6) == 0)
		return perr(ps, "env=%.*s: FEEDD_ variables are set by feedd",
			(int)n, v);
	for (size_t i = 0; i < h->nenv; i++)
		if (strncmp(h->env[i], v, n + 1) == 0)
			return perr(ps, "env=%.*s given twice", (int)n, v);
	return strv_add(&h->env, &h->nenv, v, strlen(v));
}

static int
hook_key_set(struct pstate *ps, struct conf_hook *h, enum hook_key k,
	const char *v)
{
	switch (k) {
	case HK_FEEDS:
		return hook_feeds(ps, h, v);
	case HK_EVENTS:
		return hook_events(ps, h, v);
	case HK_BATCH:
		return set_value(ps, V_UINT, &h->batch, 1, CONF_HOOK_BATCH_MAX, v,
			" for batch");
	case HK_TIMEOUT:
		return set_value(ps, V_DURATION, &h->timeout_s, 1, 86400, v,
			" for timeout");
	case HK_RETRY:
		return set_value(ps, V_DURATION, &h->retry_s, 1,
			CONF_HOOK_RETRY_MAX, v, " for retry");
	case HK_FROM:
		if (strcmp(v, "start") == 0)
			h->from_start = true;
		else if (strcmp(v, "now") == 0)
			h->from_start = false;
		else
			return perr(ps, "bad value '%s' for from (use start or now)", v);
		return 0;
	case HK_ENV:
		return hook_env(ps, h, v);
	case HK_SECRET_FILE:
		if (!*v)
			return perr(ps, "empty secret-file=");
		return set_string(&h->secret_file, v);
	case HK_ALLOW_PRIVATE:
		return set_value(ps, V_BOOL, &h->allow_private, 0, 0, v,
			" for allow-private");
	}
	return 0;
}

/*
 * hook NAME exec PROGRAM [ARG...] [KEY=VALUE...]
 * hook NAME webhook URL [KEY=VALUE...]
 * Every bad word is reported. A hook with any error is not kept, except
 * under its name for the duplicate check (as a feed).
 */
static int
d_hook(struct pstate *ps, const struct directive *d, int argc, char **argv)
{
	struct conf *c = ps->c;
	struct conf_hook h = { 0 };
	const struct conf_hook *dup = NULL;
	unsigned seen = 0;
	bool exec;
	int i, rc = 0, opt;

	(void)d;
	h.events = CONF_HOOK_NEW | CONF_HOOK_UPDATED;
	h.batch = CONF_HOOK_BATCH_DEFAULT;
	h.timeout_s = CONF_HOOK_TIMEOUT_DEFAULT;
	h.retry_s = CONF_HOOK_RETRY_DEFAULT;
	h.line = ps->line;
	if (!(h.name = strdup(argv[1])) ||
	    !(h.file = strdup(ps->file ? ps->file : "?"))) {
		rc = -ENOMEM;
		goto out;
	}
	if (!feed_name_ok(argv[1])) {
		perr(ps, "invalid hook name '%s' (use up to %d letters, digits, "
			"'.', '_' and '-', not starting with '-')", argv[1],
			CONF_MAX_NAME);
	} else if ((dup = conf_hook_find(c, argv[1]))) {
		perr(ps, "duplicate hook name '%s' (first defined at %s:%d)",
			argv[1], dup->file, dup->line);
	}
	if (strcmp(argv[2], "exec") == 0) {
		h.kind = CONF_HOOK_EXEC;
	} else if (strcmp(argv[2], "webhook") == 0) {
		h.kind = CONF_HOOK_WEBHOOK;
	} else {
		perr(ps, "unknown hook kind '%s' (use exec or webhook)", argv[2]);
		goto out;
	}
	exec = h.kind == CONF_HOOK_EXEC;
	if (argc < 4 || looks_like_key(argv[3])) {
		perr(ps, "%s", exec ? "exec needs a program (hook NAME exec "
			"PROGRAM [ARG...] [KEY=VALUE...])" : "webhook needs a URL "
			"(hook NAME webhook URL [KEY=VALUE...])");
		opt = 3;
	} else if (exec) {
		rc = hook_program(ps, argv[3], &h.program);
		if (rc == -ENOMEM)
			goto out;
		for (opt = 3; opt < argc && !looks_like_key(argv[opt]); opt++) {
			rc = strv_add(&h.argv, &h.argc, argv[opt], strlen(argv[opt]));
			if (rc < 0)
				goto out;
		}
	} else {
		const char *why;
		char shown_url[512];

		if (conf_url_check(argv[3], &why) < 0) {
			perr(ps, "invalid URL '%s': %s", conf_redact_url(argv[3],
				shown_url, sizeof(shown_url)), why);
		} else if (!(h.url = strdup(argv[3]))) {
			rc = -ENOMEM;
			goto out;
		}
		opt = 4;
	}
	rc = 0;
	for (i = opt; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		size_t ki;

		if (!eq || !looks_like_key(argv[i])) {
			perr(ps, "expected key=value after the first option, got "
				"'%s' (an argument shaped like key=value must be "
				"passed by a wrapper script)", argv[i]);
			continue;
		}
		*eq = '\0';
		for (ki = 0; ki < NHOOK_KEYS; ki++)
			if (strcmp(argv[i], hook_keys[ki].name) == 0)
				break;
		if (ki == NHOOK_KEYS) {
			const char *sug = suggest(argv[i], hook_keys, NHOOK_KEYS,
				sizeof(hook_keys[0]));
			if (sug)
				perr(ps, "unknown key '%s' (did you mean '%s'?)",
					argv[i], sug);
			else
				perr(ps, "unknown key '%s'", argv[i]);
			continue;
		}
		if (!(exec ? hook_keys[ki].exec : hook_keys[ki].webhook)) {
			perr(ps, "key '%s' is for %s hooks", argv[i],
				exec ? "webhook" : "exec");
			continue;
		}
		if ((seen & (1u << ki)) && !hook_keys[ki].repeat) {
			perr(ps, "key '%s' given twice", argv[i]);
			continue;
		}
		seen |= 1u << ki;
		rc = hook_key_set(ps, &h, hook_keys[ki].key, eq + 1);
		if (rc == -ENOMEM)
			goto out;
		rc = 0;
	}
out:
	/* Kept under a good, new name even with bad values (as a feed), so
	 * a later duplicate is reported; a config with any error never
	 * runs. */
	if (rc == 0 && !dup && feed_name_ok(h.name) && !conf_hook_find(c, h.name)) {
		struct conf_hook *nh = realloc(c->hooks,
			(c->nhooks + 1) * sizeof(*nh));
		if (nh) {
			c->hooks = nh;
			c->hooks[c->nhooks++] = h;
			return 0;
		}
		rc = -ENOMEM;
	}
	hook_free(&h);
	return rc;
}

/*
 * A webhook's URL and secret, checked the way a delivery would: a secret
 * file the service cannot use (missing, empty, readable by others) and a
 * literal private address without allow-private=yes fail here with the
 * line, not at the first delivery. A host name is resolved only when
 * delivering (the same refusal then reaches the log and feedctl hooks).
 */
static void
check_webhook(struct pstate *ps, const struct conf_hook *h)
{
	char err[512];

	if (h->secret_file) {
		unsigned char *key = NULL;
		size_t keylen = 0;

		if (webhook_load_secret(h->secret_file, &key, &keylen, err,
				sizeof(err)) < 0)
			perr(ps, "hook %s: %s", h->name, err);
		else
			webhook_secret_free(key, keylen);
	}
	if (h->url && !h->allow_private) {
		/* libcurl's reading of the URL, as the delivery will do it;
		 * an IPv6 host comes back in brackets. */
		CURLU *u = curl_url();
		char *host = NULL;

		if (u && curl_url_set(u, CURLUPART_URL, h->url, 0) == CURLUE_OK &&
		    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
			char ip[64];
			unsigned char a[16];
			size_t n = strlen(host);
			const char *why = NULL;

			if (n > 2 && host[0] == '[' && host[n - 1] == ']')
				snprintf(ip, sizeof(ip), "%.*s", (int)(n - 2), host + 1);
			else
				snprintf(ip, sizeof(ip), "%s", host);
			if (inet_pton(AF_INET, ip, a) == 1 ||
			    inet_pton(AF_INET6, ip, a) == 1)
				why = fetch_addr_private_str(ip);
			if (why)
				perr(ps, "hook %s: %s is %s; webhooks go to public "
					"addresses only unless allow-private=yes", h->name,
					ip, why);
		}
		curl_free(host);
		curl_url_cleanup(u);
	}
}

/* After the whole file set: feeds= names must be configured feeds. */
static int
resolve_hooks(struct pstate *ps)
{
	struct conf *c = ps->c;

	for (size_t i = 0; i < c->nhooks; i++) {
		struct conf_hook *h = &c->hooks[i];

		if (h->kind == CONF_HOOK_WEBHOOK) {
			ps->file = h->file;
			ps->line = h->line;
			ps->dir = "hook";
			check_webhook(ps, h);
		}

		for (size_t k = 0; k < h->nfeeds; k++) {
			if (names_find(ps, h->feeds[k]))
				continue;
			ps->file = h->file;
			ps->line = h->line;
			ps->dir = "hook";
			perr(ps, "hook %s: feeds= names '%s', which is not a "
				"configured feed", h->name, h->feeds[k]);
		}
	}
	return ps->oom ? -ENOMEM : 0;
}

const struct conf_hook *
conf_hook_find(const struct conf *c, const char *name)
{
	for (size_t i = 0; c && i < c->nhooks; i++)
		if (strcmp(c->hooks[i].name, name) == 0)
			return &c->hooks[i];
	return NULL;
}

static bool
str_same(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

bool
conf_hook_equal(const struct conf_hook *a, const struct conf_hook *b)
{
	return str_same(a->name, b->name) && a->kind == b->kind &&
		str_same(a->program, b->program) &&
		strv_equal(a->argv, a->argc, b->argv, b->argc) &&
		strv_equal(a->env, a->nenv, b->env, b->nenv) &&
		str_same(a->url, b->url) &&
		str_same(a->secret_file, b->secret_file) &&
		a->allow_private == b->allow_private &&
		strv_equal(a->feeds, a->nfeeds, b->feeds, b->nfeeds) &&
		strv_equal(a->tags, a->ntags, b->tags, b->ntags) &&
		a->events == b->events && a->batch == b->batch &&
		a->timeout_s == b->timeout_s && a->retry_s == b->retry_s &&
		a->from_start == b->from_start;
}

static int
read_file(const char *path, char **out, size_t *outlen)
{
	int fd = -1, rc = 0;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	struct stat st;

	/* O_NONBLOCK: opening a FIFO nobody writes to must not hang a reload;
	 * reads block again, and such a FIFO reads as empty. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0 ||
	    fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
		goto out;
	}
	for (;;) {
		ssize_t n;
		if (len == cap) {
			char *nb;
			if (cap >= CONF_MAX_FILE) {
				rc = -EFBIG;
				goto out;
			}
			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				rc = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (!buf) {
		buf = malloc(1);
		if (!buf) {
			rc = -ENOMEM;
			goto out;
		}
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	buf = NULL;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* The directory part of path ("." when none), into buf. */
static void
dir_of(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(buf, len, ".");
	else if (slash == path)
		snprintf(buf, len, "/");
	else
		snprintf(buf, len, "%.*s", (int)(slash - path), path);
}

/* An absolute spelling of path with its directory's symlinks, "." and
 * ".." resolved when the directory exists, so two spellings of one file
 * compare equal; the file itself need not exist. NULL: out of memory. */
static char *
path_key(const char *path)
{
	char dir[PATH_MAX], cwd[PATH_MAX], *rdir, *key = NULL;
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	dir_of(path, dir, sizeof(dir));
	rdir = realpath(dir, NULL);
	if (rdir) {
		if (asprintf(&key, "%s/%s", strcmp(rdir, "/") ? rdir : "", base) < 0)
			key = NULL;
		free(rdir);
	} else if (errno == ENOMEM) {
		return NULL;
	} else if (path[0] == '/' || !getcwd(cwd, sizeof(cwd))) {
		key = strdup(path);
	} else if (asprintf(&key, "%s/%s", cwd, path) < 0) {
		key = NULL;
	}
	return key;
}

/* Whether path is the override's file. -ENOMEM, 0 or 1. */
static int
is_override(struct pstate *ps, const char *path)
{
	char *key;
	int rc;

	if (!ps->ov)
		return 0;
	key = path_key(path);
	if (!key)
		return -ENOMEM;
	rc = strcmp(key, ps->ov_key) == 0;
	free(key);
	return rc;
}

/* Read one included file: guard depth and cycles, then parse it. Errors
 * about the file itself are reported at the include line. */
static int
include_one(struct pstate *ps, const char *path)
{
	const char *saved_file = ps->file, *saved_dir = ps->dir;
	int saved_line = ps->line;
	char *buf = NULL, *real = NULL;
	size_t len;
	int rc;

	rc = is_override(ps, path);
	if (rc < 0)
		goto out;
	if (rc == 1) {
		/* The text given in memory, whether or not the file exists;
		 * its key stands in for realpath() in the cycle check. */
		rc = 0;
		buf = malloc(ps->ov->len + 1);
		real = strdup(ps->ov_key);
		if (!buf || !real) {
			rc = -ENOMEM;
			goto out;
		}
		memcpy(buf, ps->ov->buf, ps->ov->len);
		buf[ps->ov->len] = '\0';
		len = ps->ov->len;
		ps->ov_read = true;
	} else {
		rc = read_file(path, &buf, &len);
		if (rc == -ENOMEM)
			goto out;
		if (rc < 0) {
			rc = perr(ps, "%s: %s", path, strerror(-rc));
			goto out;
		}
		real = realpath(path, NULL);
		if (!real) {
			rc = errno == ENOMEM ? -ENOMEM : perr(ps, "%s: %s", path, strerror(errno));
			goto out;
		}
	}
	for (int i = 0; i <= ps->depth; i++) {
		if (ps->stack[i] && strcmp(ps->stack[i], real) == 0) {
			rc = perr(ps, "cycle: '%s' is already being read", path);
			goto out;
		}
	}
	if (ps->depth >= CONF_MAX_DEPTH) {
		rc = perr(ps, "includes nested more than %d deep at '%s'",
			CONF_MAX_DEPTH, path);
		goto out;
	}
	ps->depth++;
	ps->stack[ps->depth] = real;
	rc = parse_buf(ps, path, buf, len);
	ps->stack[ps->depth] = NULL;
	ps->depth--;
	ps->file = saved_file;
	ps->line = saved_line;
	ps->dir = saved_dir;
out:
	free(real);
	free(buf);
	return rc;
}

/* glob()'s error callback has no user pointer: the first real error
 * (not a missing directory) of the glob() running on this thread. */
static _Thread_local struct {
	char path[PATH_MAX];
	int err;
} glob_fail;

static int
glob_error(const char *path, int err)
{
	/* A directory that does not exist just matches nothing. */
	if (err == ENOENT || err == ENOTDIR)
		return 0;
	if (!glob_fail.err) {
		snprintf(glob_fail.path, sizeof(glob_fail.path), "%s", path);
		glob_fail.err = err;
	}
	return 1;
}

/*
 * With an override whose file does not exist yet: would the pattern full
 * match it? Then *extra is its path spelled like the pattern's matches
 * (to sort among them). Only the last component of the pattern may have
 * wildcards for this; a plain path is handled by include_one() already.
 */
static int
override_match(struct pstate *ps, const char *full, const glob_t *g, char **extra)
{
	const char *slash = strrchr(full, '/'), *obase;
	char dir[PATH_MAX], *dkey = NULL, *okey = NULL;
	int rc = 0;

	*extra = NULL;
	if (!ps->ov || ps->ov_read || !strpbrk(full, "*?["))
		return 0;
	for (size_t i = 0; g && i < g->gl_pathc; i++) {
		rc = is_override(ps, g->gl_pathv[i]);
		if (rc != 0)
			return rc < 0 ? rc : 0; /* on disk: glob found it */
	}
	if (slash && strpbrk(full, "*?[") < slash)
		return 0;
	obase = strrchr(ps->ov_key, '/') + 1;
	if (fnmatch(slash ? slash + 1 : full, obase, FNM_PERIOD) != 0)
		return 0;
	/* Same directory? Compare keys of "DIR/x". */
	snprintf(dir, sizeof(dir), "%.*s/x", slash ? (int)(slash - full) : 1,
		slash ? full : ".");
	dkey = path_key(dir);
	okey = strdup(ps->ov_key);
	if (!dkey || !okey) {
		rc = -ENOMEM;
		goto out;
	}
	*strrchr(dkey, '/') = '\0';
	*strrchr(okey, '/') = '\0';
	if (strcmp(dkey, okey) == 0 &&
	    asprintf(extra, "%.*s%s", slash ? (int)(slash - full + 1) : 0, full, obase) < 0) {
		*extra = NULL;
		rc = -ENOMEM;
	}
out:
	free(dkey);
	free(okey);
	return rc;
}

/*
 * A pattern with wildcards (* ? [) may match nothing, also when its
 * directory does not exist: that is an empty feeds.d/, not an error. A
 * plain path names one file, which must be readable; GLOB_NOMAGIC hands
 * it back as is, so include_one() reports it.
 */
static int
d_include(struct pstate *ps, const struct directive *d, int argc, char **argv)
{
	const char *pat = argv[1];
	char dir[PATH_MAX], *full = NULL, *extra = NULL;
	glob_t g = { 0 };
	int rc = 0, grc;

	(void)d;
	(void)argc;
	if (!pat[0])
		return perr(ps, "empty pattern");
	if (pat[0] == '/' || !strchr(ps->file, '/')) {
		full = strdup(pat);
	} else {
		dir_of(ps->file, dir, sizeof(dir));
		if (asprintf(&full, "%s/%s", dir, pat) < 0)
			full = NULL;
	}
	if (!full)
		return -ENOMEM;
	glob_fail.err = 0;
	grc = glob(full, GLOB_NOMAGIC, glob_error, &g);
	if (grc == GLOB_NOSPACE) {
		rc = -ENOMEM;
		goto out;
	}
	if (grc == GLOB_ABORTED) {
		rc = perr(ps, "%s: %s", glob_fail.err ? glob_fail.path : full,
			strerror(glob_fail.err ? glob_fail.err : EIO));
		goto out;
	}
	rc = override_match(ps, full, grc == 0 ? &g : NULL, &extra);
	if (rc < 0)
		goto out;
	for (size_t i = 0; grc == 0 && i < g.gl_pathc; i++) {
		/* The override not yet on disk goes in its sorted place. */
		if (extra && strcmp(extra, g.gl_pathv[i]) < 0) {
			rc = include_one(ps, extra);
			free(extra);
			extra = NULL;
			if (rc == -ENOMEM)
				goto out;
		}
		rc = include_one(ps, g.gl_pathv[i]);
		if (rc == -ENOMEM)
			goto out;
		rc = 0;
	}
	if (extra) {
		rc = include_one(ps, extra);
		if (rc == -ENOMEM)
			goto out;
		rc = 0;
	}
out:
	free(extra);
	if (grc == 0 || grc == GLOB_ABORTED)
		globfree(&g);
	free(full);
	return rc;
}

/* -------------------------------------------------------------------- */
/* Lines */

static bool
is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

/*
 * Split a line into tokens in place (s is a writable copy). A token may
 * hold "quoted parts" in which spaces are kept and \" and \\ are escapes;
 * a token starting with # ends the line.
 */
static int
tokenize(struct pstate *ps, char *s, char **argv, int *argc)
{
	int n = 0;
	char *r = s;

	for (;;) {
		char *w;
		while (is_space(*r))
			r++;
		if (!*r || *r == '#')
			break;
		if (n == CONF_MAX_ARGS)
			return perr(ps, "more than %d words on one line", CONF_MAX_ARGS);
		w = r;
		argv[n++] = w;
		while (*r && !is_space(*r)) {
			if (*r != '"') {
				*w++ = *r++;
				continue;
			}
			r++;
			while (*r && *r != '"') {
				if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
					r++;
				*w++ = *r++;
			}
			if (!*r) {
				*w = '\0';
				if (n > 1)
					ps->dir = argv[0];
				return perr(ps, "unterminated quote in '%s'",
					shown(argv[n - 1]));
			}
			r++;
		}
		if (*r)
			r++;
		*w = '\0';
	}
	*argc = n;
	return 0;
}

static int
run_directive(struct pstate *ps, int argc, char **argv)
{
	const struct directive *d = NULL;
	size_t i;
	int nargs = argc - 1;

	for (i = 0; i < NDIRECTIVES; i++) {
		if (strcmp(argv[0], directives[i].name) == 0) {
			d = &directives[i];
			break;
		}
	}
	if (!d) {
		const char *s = suggest(argv[0], directives, NDIRECTIVES,
			sizeof(directives[0]));
		ps->dir = argv[0];
		for (size_t k = 0; k < NFEED_KEYS; k++)
			if (strcmp(argv[0], feed_keys[k].name) == 0)
				return perr(ps, "unknown directive ('%s' is a feed key: feed NAME URL %s=...)",
					argv[0], argv[0]);
		if (s)
			return perr(ps, "unknown directive (did you mean '%s'?)", s);
		return perr(ps, "unknown directive");
	}
	ps->dir = d->name;
	if (d->max_args >= 0 && nargs > d->max_args) {
		/* Echo the words: most often an unquoted value with spaces. */
		char words[256];
		size_t n = 0;
		words[0] = '\0';
		for (int k = 1; k < argc && n < sizeof(words); k++) {
			/* A proxy may hold credentials, also without a
			 * scheme (perr() masks those of scheme:// URLs). */
			char red[256];
			const char *word = d->kind == V_STRING && strcmp(d->name, "proxy") == 0
				? conf_redact_url(argv[k], red, sizeof(red)) : argv[k];
			int w = snprintf(words + n, sizeof(words) - n, "%s'%s'",
				k > 1 ? " " : "", word);
			if (w > 0)
				n += (size_t)w;
		}
		return perr(ps, "expects %d argument%s, got %d: %s (quote a value that has spaces)",
			d->max_args, d->max_args == 1 ? "" : "s", nargs, words);
	}
	if (nargs < d->min_args)
		return perr(ps, "expects %s%d argument%s, got %d",
			d->max_args < 0 ? "at least " : "", d->min_args,
			d->min_args == 1 ? "" : "s", nargs);
	if (d->setting && ps->file) {
		if (ps->seen[i].file)
			return perr(ps, "already set at %s:%d", ps->seen[i].file,
				ps->seen[i].line);
		ps->seen[i].file = strdup(ps->file);
		if (!ps->seen[i].file)
			return -ENOMEM;
		ps->seen[i].line = ps->line;
	}
	return d->fn(ps, d, argc, argv);
}

static int
parse_buf(struct pstate *ps, const char *path, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	char *line = NULL, *argv[CONF_MAX_ARGS];
	size_t cap = 0;
	int rc = 0, argc = 0;

	ps->file = path;
	ps->line = 0;
	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		size_t n;
		if (!e)
			e = end;
		n = (size_t)(e - p);
		ps->line++;
		ps->dir = NULL;
		if (memchr(p, '\0', n)) {
			perr(ps, "NUL byte in line");
			p = e + 1;
			continue;
		}
		if (n + 1 > cap) {
			char *nl = realloc(line, n + 1);
			if (!nl) {
				rc = -ENOMEM;
				goto out;
			}
			line = nl;
			cap = n + 1;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p = e + 1;
		/* An error is collected by perr(); only running out of
		 * memory stops the parse. */
		if (tokenize(ps, line, argv, &argc) < 0 || argc == 0)
			continue;
		rc = run_directive(ps, argc, argv);
		if (rc == -ENOMEM || ps->oom) {
			rc = -ENOMEM;
			goto out;
		}
		rc = 0;
	}
out:
	free(line);
	return rc;
}

/* -------------------------------------------------------------------- */
/* Resolution after the whole file has been read */

/* Whether path is the installed config: the same file when both exist
 * (a symlink, "/etc/feedd/./feedd.conf"), else the same spelling. */
static bool
is_default_config(const char *path)
{
	struct stat a, b;

	if (stat(path, &a) == 0 && stat(FEEDD_DEFAULT_CONFIG, &b) == 0)
		return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	return strcmp(path, FEEDD_DEFAULT_CONFIG) == 0;
}

/* A relative database path, by the rule at conf_parse() in conf.h. */
static int
resolve_database(struct pstate *ps)
{
	struct conf *c = ps->c;
	const char *base, *file;
	char cwd[PATH_MAX], dir[PATH_MAX], *full = NULL;
	size_t blen;

	if (ps->db_bad) {
		/* Do not check or show a path nobody asked for. */
		free(c->database);
		c->database = NULL;
		return 0;
	}
	/* A server's connection string is no path; "sqlite:PATH" is PATH. */
	file = store_db_file(c->database);
	if (!file)
		return 0;
	if (file[0] == '/') {
		if (file != c->database) {
			/* "sqlite:/x" is plainly /x from here on. */
			full = strdup(file);
			if (!full)
				return -ENOMEM;
			free(c->database);
			c->database = full;
		}
		return 0;
	}
	base = getenv("STATE_DIRECTORY");
	if (base && *base) {
		/* systemd passes every StateDirectory=, colon-separated. */
		blen = strcspn(base, ":");
	} else if (is_default_config(c->path)) {
		base = FEEDD_STATE_DIR;
		blen = strlen(base);
	} else {
		char *rdir;
		dir_of(c->path, dir, sizeof(dir));
		/* Spelled without "." and ".." when it exists. */
		rdir = realpath(dir, NULL);
		if (rdir) {
			snprintf(dir, sizeof(dir), "%s", rdir);
			free(rdir);
		} else if (errno == ENOMEM) {
			return -ENOMEM;
		}
		if (dir[0] == '/') {
			base = dir;
		} else if (!getcwd(cwd, sizeof(cwd))) {
			ps->file = c->database_file ? c->database_file : c->path;
			ps->line = c->database_line;
			ps->dir = "database";
			return perr(ps, "cannot resolve relative path '%s': %s",
				c->database, strerror(errno));
		} else {
			/* "etc/feedd.conf" is read from the current
			 * directory: so is its directory. */
			size_t n = strlen(cwd);
			if (strcmp(dir, ".") != 0 &&
			    snprintf(cwd + n, sizeof(cwd) - n, "%s%s", n > 1 ? "/" : "",
				dir) >= (int)(sizeof(cwd) - n)) {
				ps->file = c->database_file ? c->database_file : c->path;
				ps->line = c->database_line;
				ps->dir = "database";
				return perr(ps, "cannot resolve relative path '%s': %s",
					c->database, strerror(ENAMETOOLONG));
			}
			base = cwd;
		}
		blen = strlen(base);
	}
	while (blen > 1 && base[blen - 1] == '/')
		blen--;
	if (asprintf(&full, "%.*s%s%s", (int)blen, base,
		blen == 1 && base[0] == '/' ? "" : "/", file) < 0)
		return -ENOMEM;
	free(c->database);
	c->database = full;
	return 0;
}

static int
resolve_feeds(struct pstate *ps)
{
	struct conf *c = ps->c;

	for (size_t i = 0; i < c->nfeeds; i++) {
		struct conf_feed *f = &c->feeds[i];
		unsigned set = ps->fset[i];
		if (!(set & FSET_INTERVAL))
			f->interval_s = c->interval_s;
		if (!(set & FSET_TIMEOUT))
			f->timeout_s = c->timeout_s;
		if (!(set & FSET_MAX_SIZE))
			f->max_size = c->max_size;
		/* Inherited by pointer: 100,000 feeds, one copy. */
		if (!(set & FSET_USER_AGENT))
			f->user_agent = c->user_agent;
		if (!(set & FSET_PROXY))
			f->proxy = c->proxy;
	}
	return 0;
}

/* The one parser behind the four entry points: collects every error in
 * errs; *out on success, or also on -EINVAL when partial. */
static int
parse_all(struct conf **out, const char *path, const char *buf, size_t len,
	struct conf_errors *errs, bool partial, const struct conf_override *ov)
{
	struct pstate ps = { .errs = errs, .ov = ov };
	size_t before = errs->total;
	char *real = NULL;
	int rc = 0;

	ps.c = calloc(1, sizeof(*ps.c));
	if (!ps.c) {
		rc = -ENOMEM;
		goto out;
	}
	ps.c->path = strdup(path);
	ps.c->rules = rule_set_create();
	if (!ps.c->path || !ps.c->rules) {
		rc = -ENOMEM;
		goto out;
	}
	if (ov && !(ps.ov_key = path_key(ov->path))) {
		rc = -ENOMEM;
		goto out;
	}

	/* Defaults go through the same handlers as the file's own lines. */
	ps.file = NULL;
	for (size_t i = 0; i < NDIRECTIVES; i++) {
		char *argv[2] = { (char *)directives[i].name, (char *)directives[i].def };
		if (!directives[i].setting || !directives[i].def)
			continue;
		ps.dir = directives[i].name;
		rc = directives[i].fn(&ps, &directives[i], 2, argv);
		if (rc < 0)
			goto out;
	}

	/* The main file heads the include stack, so including it is a cycle. */
	real = realpath(path, NULL);
	ps.stack[0] = real;
	rc = parse_buf(&ps, path, buf, len);
	if (rc < 0)
		goto out;
	rc = resolve_feeds(&ps);
	if (rc < 0)
		goto out;
	check_rules(&ps);
	rc = resolve_hooks(&ps);
	if (rc < 0)
		goto out;
	rc = resolve_database(&ps);
	if (rc == -ENOMEM || ps.oom) {
		rc = -ENOMEM;
		goto out;
	}
	rc = errs->total > before ? -EINVAL : 0;
	if (rc == 0 || (partial && out)) {
		if (out)
			*out = ps.c;
		else
			conf_free(ps.c);
		ps.c = NULL;
	}
out:
	conf_free(ps.c);
	free(ps.fset);
	free(ps.names);
	for (size_t i = 0; i < NDIRECTIVES; i++)
		free(ps.seen[i].file);
	free(ps.ov_key);
	free(real);
	return rc;
}

int
conf_parse_all(struct conf **out, const char *path, const char *buf,
	size_t len, struct conf_errors *errs)
{
	int rc = parse_all(out, path, buf, len, errs, true, NULL);

	if (rc == -ENOMEM) {
		char m[PATH_MAX + 32];
		snprintf(m, sizeof(m), "%s: out of memory", path);
		errors_add(errs, m);
	}
	return rc;
}

int
conf_parse(struct conf **out, const char *path, const char *buf, size_t len,
	char *err, size_t errlen)
{
	struct conf_errors errs = { 0 };
	int rc;

	if (err && errlen)
		err[0] = '\0';
	rc = parse_all(out, path, buf, len, &errs, false, NULL);
	if (err && errlen) {
		if (rc == -ENOMEM)
			snprintf(err, errlen, "%s: out of memory", path);
		else if (rc < 0 && errs.count)
			snprintf(err, errlen, "%s", errs.msgs[0]);
	}
	conf_errors_free(&errs);
	return rc;
}

int
conf_load_all_with(struct conf **out, const char *path,
	const struct conf_override *ov, struct conf_errors *errs)
{
	char *buf = NULL, m[PATH_MAX + 64], *mkey = NULL, *okey = NULL;
	size_t len;
	int rc;

	if (ov) {
		mkey = path_key(path);
		okey = path_key(ov->path);
		if (!mkey || !okey) {
			rc = -ENOMEM;
			goto out;
		}
	}
	if (ov && strcmp(mkey, okey) == 0) {
		/* An edit of the main file itself. */
		rc = parse_all(out, path, ov->buf, ov->len, errs, true, NULL);
		goto out;
	}
	rc = read_file(path, &buf, &len);
	if (rc < 0) {
		snprintf(m, sizeof(m), "%s: cannot read: %s", path, strerror(-rc));
		errors_add(errs, m);
		goto done;
	}
	rc = parse_all(out, path, buf, len, errs, true, ov);
out:
	if (rc == -ENOMEM) {
		snprintf(m, sizeof(m), "%s: out of memory", path);
		errors_add(errs, m);
	}
done:
	free(buf);
	free(mkey);
	free(okey);
	return rc;
}

int
conf_load_all(struct conf **out, const char *path, struct conf_errors *errs)
{
	return conf_load_all_with(out, path, NULL, errs);
}

int
conf_load(struct conf **out, const char *path, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len;
	int rc;

	rc = read_file(path, &buf, &len);
	if (rc < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-rc));
		goto out;
	}
	rc = conf_parse(out, path, buf, len, err, errlen);
out:
	free(buf);
	return rc;
}

/* Who the checks are about: "user feedd (uid 105)". */
static void
user_desc(char *buf, size_t len)
{
	uid_t uid = geteuid();
	struct passwd *pw = getpwuid(uid);

	if (pw && pw->pw_name)
		snprintf(buf, len, "user %s (uid %u)", pw->pw_name, (unsigned)uid);
	else
		snprintf(buf, len, "uid %u", (unsigned)uid);
}

int
conf_check_database(const struct conf *c, struct conf_errors *errs)
{
	struct pstate ps = { .errs = errs, .dir = "database" };
	char dir[PATH_MAX], who[128];
	size_t before = errs->total;
	struct stat st;

	if (!c || !c->database)
		return 0;
	/* A database server: nothing on this file system to check (the
	 * open at start-up reports what the server says). */
	if (!store_db_file(c->database))
		return 0;
	/* The `database` line, or with the default the main file alone. */
	ps.file = c->database_file ? c->database_file : c->path;
	ps.line = c->database_file ? c->database_line : 0;
	user_desc(who, sizeof(who));
	dir_of(c->database, dir, sizeof(dir));

#define DERR(...) perr(&ps, __VA_ARGS__)
	if (stat(dir, &st) < 0) {
		if (errno == ENOENT)
			DERR("directory '%s' of '%s' does not exist (create it, writable by the user feedd runs as)",
				dir, c->database);
		else
			DERR("directory '%s' of '%s': %s", dir, c->database, strerror(errno));
	} else if (!S_ISDIR(st.st_mode)) {
		DERR("'%s' (the directory of '%s') is not a directory", dir, c->database);
	} else if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) < 0) {
		DERR("directory '%s' is not writable by %s: %s (the database and its -wal and -shm files are created there)",
			dir, who, strerror(errno));
	}
	if (stat(c->database, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			DERR("'%s' is not a regular file", c->database);
		else if (faccessat(AT_FDCWD, c->database, R_OK | W_OK, AT_EACCESS) < 0)
			DERR("'%s' is not readable and writable by %s: %s",
				c->database, who, strerror(errno));
	} else if (errno != ENOENT && errno != ENOTDIR) {
		DERR("'%s': %s", c->database, strerror(errno));
	}
#undef DERR
	if (ps.oom)
		return -ENOMEM;
	return errs->total > before ? -EINVAL : 0;
}

void
conf_free(struct conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nfeeds; i++)
		feed_free(c, &c->feeds[i]);
	free(c->feeds);
	for (size_t i = 0; i < c->nfiles; i++)
		free(c->files[i]);
	free(c->files);
	rule_set_unref(c->rules);
	for (size_t i = 0; i < c->nhooks; i++)
		hook_free(&c->hooks[i]);
	free(c->hooks);
	free(c->path);
	free(c->database);
	free(c->database_file);
	free(c->user_agent);
	free(c->proxy);
	listen_conf_cleanup(&c->listen);
	free(c);
}

const struct conf_feed *
conf_feed_find(const struct conf *c, const char *name)
{
	for (size_t i = 0; c && i < c->nfeeds; i++)
		if (c->feeds[i].name && strcmp(c->feeds[i].name, name) == 0)
			return &c->feeds[i];
	return NULL;
}

bool
conf_setting_get(size_t i, const char **name, const char **def)
{
	size_t k = 0;

	for (size_t j = 0; j < NDIRECTIVES; j++) {
		if (!directives[j].setting)
			continue;
		if (k++ == i) {
			*name = directives[j].name;
			*def = directives[j].def;
			return true;
		}
	}
	return false;
}

/* -------------------------------------------------------------------- */
/* Printing */

const char *
conf_format_duration(int64_t s, char *buf, size_t len)
{
	static const struct {
		int64_t secs;
		char unit;
	} units[] = { { 7 * 86400, 'w' }, { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' } };
	char unit = 's';
	int64_t n = s;

	for (size_t i = 0; s > 0 && i < sizeof(units) / sizeof(units[0]); i++) {
		if (s % units[i].secs == 0) {
			n = s / units[i].secs;
			unit = units[i].unit;
			break;
		}
	}
	snprintf(buf, len, "%lld%c", (long long)n, unit);
	return buf;
}

const char *
conf_format_size(int64_t n, char *buf, size_t len)
{
	if (n > 0 && n % (1LL << 30) == 0)
		snprintf(buf, len, "%lldG", (long long)(n >> 30));
	else if (n > 0 && n % (1LL << 20) == 0)
		snprintf(buf, len, "%lldM", (long long)(n >> 20));
	else if (n > 0 && n % (1LL << 10) == 0)
		snprintf(buf, len, "%lldK", (long long)(n >> 10));
	else
		snprintf(buf, len, "%lld", (long long)n);
	return buf;
}

void
conf_print_token(const char *s, void *file)
{
	FILE *f = file;
	bool quote = !*s || *s == '#';

	for (const char *p = s; *p && !quote; p++)
		if (is_space(*p) || *p == '"' || *p == '\n')
			quote = true;
	if (!quote) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (const char *p = s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', f);
		fputc(*p, f);
	}
	fputc('"', f);
}

static void
print_kv(FILE *f, const char *key, const char *value)
{
	fprintf(f, " %s=", key);
	conf_print_token(value, f);
}

/* A URL (or proxy) as one word, its userinfo masked. */
static void
print_url(FILE *f, const char *url)
{
	size_t n = strlen(url) + 8;
	char small[512], *buf = n <= sizeof(small) ? small : malloc(n);

	if (!buf) {
		/* Never print what could not be masked. */
		fputs("\"(out of memory)\"", f);
		return;
	}
	conf_print_token(conf_redact_url(url, buf, n), f);
	if (buf != small)
		free(buf);
}

static void
print_url_kv(FILE *f, const char *key, const char *url)
{
	fprintf(f, " %s=", key);
	print_url(f, url);
}

static bool
str_differs(const char *a, const char *b)
{
	if (!a || !b)
		return a != b;
	return strcmp(a, b) != 0;
}

/* A hook line that parses back to the same hook; env= values are masked
 * (they are where tokens go). */
static void
print_hook(FILE *f, const struct conf_hook *h)
{
	char b[32];

	fputs("hook ", f);
	conf_print_token(h->name, f);
	if (h->kind == CONF_HOOK_EXEC) {
		fputs(" exec ", f);
		conf_print_token(h->program ? h->program : "(invalid)", f);
		for (size_t i = 1; i < h->argc; i++) {
			fputc(' ', f);
			conf_print_token(h->argv[i], f);
		}
	} else {
		fputs(" webhook ", f);
		print_url(f, h->url ? h->url : "(invalid)");
		if (h->secret_file)
			print_kv(f, "secret-file", h->secret_file);
		if (h->allow_private)
			fputs(" allow-private=yes", f);
	}
	if (h->nfeeds || h->ntags) {
		fputs(" feeds=", f);
		for (size_t i = 0; i < h->nfeeds; i++)
			fprintf(f, "%s%s", i ? "," : "", h->feeds[i]);
		for (size_t i = 0; i < h->ntags; i++)
			fprintf(f, "%stag:%s", i || h->nfeeds ? "," : "", h->tags[i]);
	}
	if (h->events != (CONF_HOOK_NEW | CONF_HOOK_UPDATED))
		fprintf(f, " events=%s", h->events == CONF_HOOK_NEW ? "new" :
			"updated");
	if (h->batch != CONF_HOOK_BATCH_DEFAULT)
		fprintf(f, " batch=%u", h->batch);
	if (h->timeout_s != CONF_HOOK_TIMEOUT_DEFAULT)
		fprintf(f, " timeout=%s", conf_format_duration(h->timeout_s, b,
			sizeof(b)));
	if (h->retry_s != CONF_HOOK_RETRY_DEFAULT)
		fprintf(f, " retry=%s", conf_format_duration(h->retry_s, b,
			sizeof(b)));
	if (h->from_start)
		fputs(" from=start", f);
	for (size_t i = 0; i < h->nenv; i++)
		fprintf(f, " env=%.*s=****", (int)strcspn(h->env[i], "="),
			h->env[i]);
	fputc('\n', f);
}

void
conf_print(const struct conf *c, void *file)
{
	FILE *f = file;
	char b[32];

	fprintf(f, "# resolved from %s\n", c->path);
	fputs("database ", f);
	conf_print_token(c->database ? c->database : "(invalid)", f);
	fprintf(f, "\ninterval %s\n", conf_format_duration(c->interval_s, b, sizeof(b)));
	fprintf(f, "max-interval %s\n", conf_format_duration(c->max_interval_s, b, sizeof(b)));
	fprintf(f, "max-connections %u\n", c->max_connections);
	fprintf(f, "max-per-host %u\n", c->max_per_host);
	fprintf(f, "start-ramp %u\n", c->start_ramp);
	if (c->user_agent) {
		fputs("user-agent ", f);
		conf_print_token(c->user_agent, f);
		fputc('\n', f);
	} else {
		fputs("# user-agent (unset: feedd/" FEEDD_VERSION ")\n", f);
	}
	fprintf(f, "timeout %s\n", conf_format_duration(c->timeout_s, b, sizeof(b)));
	fprintf(f, "connect-timeout %s\n",
		conf_format_duration(c->connect_timeout_s, b, sizeof(b)));
	fprintf(f, "max-size %s\n", conf_format_size(c->max_size, b, sizeof(b)));
	if (c->proxy) {
		fputs("proxy ", f);
		print_url(f, c->proxy);
		fputc('\n', f);
	} else {
		fputs("# proxy (unset: the environment's http_proxy/https_proxy)\n", f);
	}
	fprintf(f, "log-level %s\n", log_level_name(c->log_level));
	fprintf(f, "changelog-keep %s\n",
		conf_format_duration(c->changelog_keep_s, b, sizeof(b)));
	fprintf(f, "sync %s\n", c->sync_full ? "full" : "normal");
	listen_conf_print(&c->listen, f);

	for (size_t i = 0; i < c->nfeeds; i++) {
		const struct conf_feed *fd = &c->feeds[i];
		fputs("feed ", f);
		conf_print_token(fd->name, f);
		fputc(' ', f);
		print_url(f, fd->url);
		if (fd->title)
			print_kv(f, "title", fd->title);
		if (fd->site)
			print_url_kv(f, "site", fd->site);
		if (fd->interval_s != c->interval_s)
			print_kv(f, "interval", conf_format_duration(fd->interval_s, b, sizeof(b)));
		if (fd->tags)
			print_kv(f, "tags", fd->tags);
		if (fd->timeout_s != c->timeout_s)
			print_kv(f, "timeout", conf_format_duration(fd->timeout_s, b, sizeof(b)));
		if (fd->max_size != c->max_size)
			print_kv(f, "max-size", conf_format_size(fd->max_size, b, sizeof(b)));
		if (str_differs(fd->user_agent, c->user_agent) && fd->user_agent)
			print_kv(f, "user-agent", fd->user_agent);
		if (fd->username)
			print_kv(f, "username", fd->username);
		if (fd->password)
			print_kv(f, "password", "****");
		if (str_differs(fd->proxy, c->proxy) && fd->proxy)
			print_url_kv(f, "proxy", fd->proxy);
		if (fd->keep_days)
			fprintf(f, " keep-days=%d", fd->keep_days);
		if (fd->keep_count)
			fprintf(f, " keep-count=%d", fd->keep_count);
		if (!fd->enabled)
			fputs(" enabled=no", f);
		if (fd->allow_private)
			fputs(" allow-private=yes", f);
		fputc('\n', f);
	}
	for (size_t i = 0; i < c->rules->n; i++)
		rule_print(&c->rules->v[i], f);
	for (size_t i = 0; i < c->nhooks; i++)
		print_hook(f, &c->hooks[i]);
}
