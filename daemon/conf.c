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
 * The first error stops the parse; it is written as
 * "FILE:LINE: DIRECTIVE: what is wrong" and quotes the offending text.
 */
#include "conf.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
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

#define CO(f) offsetof(struct conf, f)
#define FO(f) offsetof(struct conf_feed, f)

static const struct directive directives[] = {
	{ .name = "database", 1, 1, d_database, V_STRING, CO(database), 0, 0, "feedd.db", true },
	{ .name = "interval", 1, 1, d_value, V_DURATION, CO(interval_s), 1, CONF_MAX_DURATION, "30m", true },
	{ .name = "max-interval", 1, 1, d_value, V_DURATION, CO(max_interval_s), 60, CONF_MAX_DURATION, "24h", true },
	{ .name = "max-connections", 1, 1, d_value, V_UINT, CO(max_connections), 1, 1024, "32", true },
	{ .name = "max-per-host", 1, 1, d_value, V_UINT, CO(max_per_host), 1, 64, "2", true },
	{ .name = "user-agent", 1, 1, d_value, V_STRING, CO(user_agent), 0, 0, NULL, true },
	{ .name = "timeout", 1, 1, d_value, V_DURATION, CO(timeout_s), 1, 86400, "60s", true },
	{ .name = "connect-timeout", 1, 1, d_value, V_DURATION, CO(connect_timeout_s), 1, 3600, "15s", true },
	{ .name = "max-size", 1, 1, d_value, V_SIZE, CO(max_size), 1024, 1LL << 30, "16M", true },
	{ .name = "proxy", 1, 1, d_value, V_STRING, CO(proxy), 0, 0, NULL, true },
	{ .name = "log-level", 1, 1, d_value, V_LOGLEVEL, CO(log_level), 0, 0, "notice", true },
	{ .name = "changelog-keep", 1, 1, d_value, V_DURATION, CO(changelog_keep_s), 3600, CONF_MAX_DURATION, "30d", true },
	{ .name = "sync", 1, 1, d_value, V_SYNC, CO(sync_full), 0, 0, "full", true },
	{ .name = "include", 1, 1, d_include, V_STRING, 0, 0, 0, NULL, false },
	{ .name = "feed", 2, -1, d_feed, V_STRING, 0, 0, 0, NULL, false },
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
};
#define NFEED_KEYS (sizeof(feed_keys) / sizeof(feed_keys[0]))

struct pstate {
	struct conf *c;
	char *err;
	size_t errlen;
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

static int
perr(struct pstate *ps, const char *fmt, ...)
{
	va_list ap;
	size_t n = 0;
	int w;

	if (!ps->err || ps->errlen == 0)
		return -EINVAL;
	w = snprintf(ps->err, ps->errlen, "%s:%d: ", ps->file ? ps->file : "?",
		ps->line);
	if (w > 0)
		n = (size_t)w;
	if (ps->dir && n < ps->errlen) {
		w = snprintf(ps->err + n, ps->errlen - n, "%s: ", ps->dir);
		if (w > 0)
			n += (size_t)w;
	}
	if (n < ps->errlen) {
		va_start(ap, fmt);
		vsnprintf(ps->err + n, ps->errlen - n, fmt, ap);
		va_end(ap);
	}
	/* The message quotes user text; keep it on one line. */
	for (char *p = ps->err; *p; p++)
		if ((unsigned char)*p < ' ')
			*p = '?';
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
	if (!argv[1][0])
		return perr(ps, "empty path");
	return set_string(&ps->c->database, argv[1]);
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

static int
d_feed(struct pstate *ps, const struct directive *d, int argc, char **argv)
{
	struct conf *c = ps->c;
	const struct conf_feed *dup;
	struct conf_feed *f;
	const char *why;
	unsigned seen = 0;
	int rc;

	if (!feed_name_ok(argv[1]))
		return perr(ps, "invalid feed name '%s' (use up to %d letters, digits, '.', '_' and '-', not starting with '-')",
			argv[1], CONF_MAX_NAME);
	dup = names_find(ps, argv[1]);
	if (dup)
		return perr(ps, "duplicate feed name '%s' (first defined at %s:%d)",
			argv[1], dup->file, dup->line);
	if (conf_url_check(argv[2], &why) < 0)
		return perr(ps, "invalid URL '%s': %s", argv[2], why);

	if (c->nfeeds == ps->feeds_cap) {
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
	/* Counted at once, so conf_free() releases a half-built feed. */
	f = &c->feeds[c->nfeeds];
	memset(f, 0, sizeof(*f));
	ps->fset[c->nfeeds] = 0;
	c->nfeeds++;
	f->enabled = true;
	f->line = ps->line;
	if (!(f->name = strdup(argv[1])) || !(f->url = strdup(argv[2])) ||
	    !(f->file = strdup(ps->file)))
		return -ENOMEM;
	rc = names_add(ps, c->nfeeds - 1);
	if (rc < 0)
		return rc;

	for (int i = 3; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		const struct feed_key *k = NULL;
		size_t ki;
		char key[64];

		if (!eq) {
			for (ki = 0; ki < NFEED_KEYS; ki++)
				if (strcmp(argv[i], feed_keys[ki].name) == 0)
					return perr(ps, "expected key=value, got '%s' (write %s=VALUE)",
						argv[i], argv[i]);
			return perr(ps, "expected key=value, got '%s'", argv[i]);
		}
		*eq = '\0';
		for (ki = 0; ki < NFEED_KEYS; ki++) {
			if (strcmp(argv[i], feed_keys[ki].name) == 0) {
				k = &feed_keys[ki];
				break;
			}
		}
		if (!k) {
			const char *s = suggest(argv[i], feed_keys, NFEED_KEYS,
				sizeof(feed_keys[0]));
			if (s)
				rc = perr(ps, "unknown key '%s' (did you mean '%s'?)", argv[i], s);
			else
				rc = perr(ps, "unknown key '%s'", argv[i]);
			return rc;
		}
		if (seen & (1u << ki))
			return perr(ps, "key '%s' given twice", k->name);
		seen |= 1u << ki;
		snprintf(key, sizeof(key), " for %s", k->name);
		rc = set_value(ps, k->kind, (char *)f + k->off, k->lo, k->hi, eq + 1, key);
		if (rc < 0)
			return rc;
		ps->fset[c->nfeeds - 1] |= k->fset;
	}
	if (f->password && !f->username)
		return perr(ps, "password without username");
	return 0;
}

static int parse_buf(struct pstate *ps, const char *path, const char *buf, size_t len);

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

/* Read one included file: guard depth and cycles, then parse it. */
static int
include_one(struct pstate *ps, const char *path)
{
	const char *saved_file = ps->file, *saved_dir = ps->dir;
	int saved_line = ps->line;
	char *buf = NULL, *real = NULL;
	size_t len;
	int rc;

	rc = read_file(path, &buf, &len);
	if (rc == -ENOMEM)
		goto out;
	if (rc < 0) {
		rc = perr(ps, "cannot read '%s': %s", path, strerror(-rc));
		goto out;
	}
	real = realpath(path, NULL);
	if (!real) {
		rc = errno == ENOMEM ? -ENOMEM
			: perr(ps, "cannot read '%s': %s", path, strerror(errno));
		goto out;
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
	if (rc < 0)
		goto out;
	ps->file = saved_file;
	ps->line = saved_line;
	ps->dir = saved_dir;
out:
	free(real);
	free(buf);
	return rc;
}

static int
d_include(struct pstate *ps, const struct directive *d, int argc, char **argv)
{
	const char *pat = argv[1];
	char dir[PATH_MAX], *full = NULL;
	glob_t g = { 0 };
	int rc = 0, grc;

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
	/* GLOB_NOMAGIC: a plain file name that does not exist comes back as
	 * itself (and then fails to read: an error), while a wildcard that
	 * matches nothing is fine, e.g. an empty feeds.d/. */
	grc = glob(full, GLOB_NOMAGIC | GLOB_ERR, NULL, &g);
	if (grc == GLOB_NOSPACE) {
		rc = -ENOMEM;
		goto out;
	}
	if (grc == GLOB_ABORTED) {
		rc = perr(ps, "cannot read '%s': %s", full, strerror(errno));
		goto out;
	}
	for (size_t i = 0; grc == 0 && i < g.gl_pathc; i++) {
		rc = include_one(ps, g.gl_pathv[i]);
		if (rc < 0)
			goto out;
	}
out:
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
				return perr(ps, "unterminated quote in '%s'", argv[n - 1]);
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
			int w = snprintf(words + n, sizeof(words) - n, "%s'%s'",
				k > 1 ? " " : "", argv[k]);
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
			rc = perr(ps, "NUL byte in line");
			goto out;
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
		rc = tokenize(ps, line, argv, &argc);
		if (rc < 0)
			goto out;
		if (argc == 0)
			continue;
		rc = run_directive(ps, argc, argv);
		if (rc < 0)
			goto out;
	}
out:
	free(line);
	return rc;
}

/* -------------------------------------------------------------------- */
/* Resolution after the whole file has been read */

static int
resolve_database(struct pstate *ps)
{
	struct conf *c = ps->c;
	const char *base;
	char cwd[PATH_MAX], *full = NULL;
	size_t blen;
	int rc = 0;

	if (c->database[0] == '/')
		return 0;
	base = getenv("STATE_DIRECTORY");
	if (base && *base) {
		/* systemd passes every StateDirectory=, colon-separated. */
		blen = strcspn(base, ":");
	} else if (strcmp(c->path, FEEDD_DEFAULT_CONFIG) == 0) {
		/* The system config means the service's database, also for
		 * feedctl run from a user's home directory. */
		base = FEEDD_STATE_DIR;
		blen = strlen(base);
	} else {
		if (!getcwd(cwd, sizeof(cwd))) {
			/* directives[0] is `database`. */
			ps->file = ps->seen[0].file ? ps->seen[0].file : ps->c->path;
			ps->line = ps->seen[0].line;
			ps->dir = "database";
			return perr(ps, "cannot resolve relative path '%s': %s",
				c->database, strerror(errno));
		}
		base = cwd;
		blen = strlen(cwd);
	}
	while (blen > 1 && base[blen - 1] == '/')
		blen--;
	if (asprintf(&full, "%.*s%s%s", (int)blen, base,
		blen == 1 && base[0] == '/' ? "" : "/", c->database) < 0) {
		rc = -ENOMEM;
		goto out;
	}
	free(c->database);
	c->database = full;
out:
	return rc;
}

static int
dup_or_null(char **dst, const char *src)
{
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
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
		if (!(set & FSET_USER_AGENT) && dup_or_null(&f->user_agent, c->user_agent) < 0)
			return -ENOMEM;
		if (!(set & FSET_PROXY) && dup_or_null(&f->proxy, c->proxy) < 0)
			return -ENOMEM;
	}
	return 0;
}

int
conf_parse(struct conf **out, const char *path, const char *buf, size_t len,
	char *err, size_t errlen)
{
	struct pstate ps = { .err = err, .errlen = errlen };
	char *real = NULL;
	int rc = 0;

	if (err && errlen)
		err[0] = '\0';
	ps.c = calloc(1, sizeof(*ps.c));
	if (!ps.c) {
		rc = -ENOMEM;
		goto out;
	}
	ps.c->path = strdup(path);
	if (!ps.c->path) {
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
	rc = resolve_database(&ps);
	if (rc < 0)
		goto out;
	*out = ps.c;
	ps.c = NULL;
out:
	if (rc == -ENOMEM && err && errlen)
		snprintf(err, errlen, "%s: out of memory", path);
	conf_free(ps.c);
	free(ps.fset);
	free(ps.names);
	for (size_t i = 0; i < NDIRECTIVES; i++)
		free(ps.seen[i].file);
	free(real);
	return rc;
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

void
conf_free(struct conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nfeeds; i++) {
		struct conf_feed *f = &c->feeds[i];
		free(f->name);
		free(f->url);
		free(f->tags);
		free(f->user_agent);
		free(f->username);
		free(f->password);
		free(f->proxy);
		free(f->file);
	}
	free(c->feeds);
	free(c->path);
	free(c->database);
	free(c->user_agent);
	free(c->proxy);
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

static bool
str_differs(const char *a, const char *b)
{
	if (!a || !b)
		return a != b;
	return strcmp(a, b) != 0;
}

void
conf_print(const struct conf *c, void *file)
{
	FILE *f = file;
	char b[32];

	fprintf(f, "# resolved from %s\n", c->path);
	fputs("database ", f);
	conf_print_token(c->database, f);
	fprintf(f, "\ninterval %s\n", conf_format_duration(c->interval_s, b, sizeof(b)));
	fprintf(f, "max-interval %s\n", conf_format_duration(c->max_interval_s, b, sizeof(b)));
	fprintf(f, "max-connections %u\n", c->max_connections);
	fprintf(f, "max-per-host %u\n", c->max_per_host);
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
		conf_print_token(c->proxy, f);
		fputc('\n', f);
	} else {
		fputs("# proxy (unset: the environment's http_proxy/https_proxy)\n", f);
	}
	fprintf(f, "log-level %s\n", log_level_name(c->log_level));
	fprintf(f, "changelog-keep %s\n",
		conf_format_duration(c->changelog_keep_s, b, sizeof(b)));
	fprintf(f, "sync %s\n", c->sync_full ? "full" : "normal");

	for (size_t i = 0; i < c->nfeeds; i++) {
		const struct conf_feed *fd = &c->feeds[i];
		fputs("feed ", f);
		conf_print_token(fd->name, f);
		fputc(' ', f);
		conf_print_token(fd->url, f);
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
			print_kv(f, "proxy", fd->proxy);
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
}
