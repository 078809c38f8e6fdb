/*
 * store/ helpers with no SQL: canonical links, hashing, trimming, times and
 * the per-refresh key set.
 */
#include "store_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *
store__printf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	s = store__malloc((size_t)n + 1);
	if (!s)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

void *
store__calloc(size_t n, size_t size)
{
	void *p;

	if (size && n > SIZE_MAX / size)
		return NULL;
	p = store__malloc(n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

char *
store__strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *d = store__malloc(len + 1);

	if (d) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	return d;
}

char *
store__strdup(const char *s)
{
	return store__strndup(s, SIZE_MAX);
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
		c == '\v';
}

char *
store__trim_dup(const char *s, int *err)
{
	const char *e;
	char *out;

	if (!s)
		return NULL;
	while (is_space(*s))
		s++;
	e = s + strlen(s);
	while (e > s && is_space(e[-1]))
		e--;
	if (e == s)
		return NULL;
	out = store__strndup(s, (size_t)(e - s));
	if (!out)
		*err = -ENOMEM;
	return out;
}

/* Tags after which no word break is written: inline markup may sit
 * inside a word ("<b>un</b>safe"). Every other tag separates words. */
static bool
inline_tag(const char *name, size_t len)
{
	static const char *const names[] = { "a", "abbr", "b", "bdi", "bdo",
		"cite", "code", "data", "dfn", "em", "i", "kbd", "mark", "q",
		"s", "samp", "small", "span", "strong", "sub", "sup", "time",
		"u", "var", "wbr", "del", "ins" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == len && strncasecmp(names[i], name, len) == 0)
			return true;
	return false;
}

/* Append the UTF-8 encoding of code point c (which must be valid). */
static size_t
put_utf8(char *o, uint32_t c)
{
	if (c < 0x80) {
		o[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (char)(0xc0 | (c >> 6));
		o[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (char)(0xe0 | (c >> 12));
		o[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		o[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (c >> 18));
	o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	o[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* An entity at p ('&'): writes its text to o, returns the bytes of input
 * it took (0: not one we decode; the '&' is then copied as is). Every
 * decoded form is no longer than its entity, so o never outruns p. */
static size_t
entity(const char *p, char *o, size_t *olen)
{
	static const struct {
		const char *name;
		const char *text;
	} named[] = { { "amp;", "&" }, { "lt;", "<" }, { "gt;", ">" },
		{ "quot;", "\"" }, { "apos;", "'" }, { "nbsp;", " " } };
	uint32_t c = 0;
	size_t n = 1;
	int base = 10, digits = 0;

	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		size_t l = strlen(named[i].name);
		if (strncmp(p + 1, named[i].name, l) == 0) {
			*olen = strlen(named[i].text);
			memcpy(o, named[i].text, *olen);
			return l + 1;
		}
	}
	if (p[n] != '#')
		return 0;
	n++;
	if (p[n] == 'x' || p[n] == 'X') {
		base = 16;
		n++;
	}
	for (; digits < 7; n++, digits++) {
		int d;
		if (isdigit((unsigned char)p[n]))
			d = p[n] - '0';
		else if (base == 16 && isxdigit((unsigned char)p[n]))
			d = tolower((unsigned char)p[n]) - 'a' + 10;
		else
			break;
		c = c * (uint32_t)base + (uint32_t)d;
	}
	/* "&#1;" is 4 bytes and its longest UTF-8 form is too: only the
	 * shortest decimal ones could outgrow, and they are below 0x80. */
	if (!digits || p[n] != ';' || c == 0 || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*olen = put_utf8(o, c);
	return n + 1;
}

char *
store__summary_text(const char *summary, const char *text, int *err)
{
	const char *p = summary;
	char *out;
	size_t o = 0;
	bool space = false;

	if (!summary)
		return NULL;
	out = store__malloc(strlen(summary) + 1);
	if (!out) {
		*err = -ENOMEM;
		return NULL;
	}
	while (*p) {
		if (*p == '<') {
			const char *e, *name = p + 1;
			size_t nlen;

			if (strncmp(p, "<!--", 4) == 0) {
				e = strstr(p + 4, "-->");
				p = e ? e + 3 : p + strlen(p);
				space = true;
				continue;
			}
			if (*name == '/')
				name++;
			nlen = strspn(name, "abcdefghijklmnopqrstuvwxyz"
				"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
			e = strchr(p, '>');
			p = e ? e + 1 : p + strlen(p);
			if (!inline_tag(name, nlen))
				space = true;
			continue;
		}
		if (is_space(*p)) {
			space = true;
			p++;
			continue;
		}
		if (*p == '&') {
			char dec[8];
			size_t olen = 0, took = entity(p, dec, &olen);

			if (took) {
				p += took;
				/* "&nbsp;" is white space too. */
				if (olen == 1 && dec[0] == ' ') {
					space = true;
					continue;
				}
				if (space && o)
					out[o++] = ' ';
				space = false;
				memcpy(out + o, dec, olen);
				o += olen;
				continue;
			}
		}
		if (space && o)
			out[o++] = ' ';
		space = false;
		out[o++] = *p++;
	}
	out[o] = '\0';
	if (!o) {
		store__free(out);
		return NULL;
	}
	/* The same words as the text (white space aside): nothing new for
	 * the index. */
	if (text) {
		const char *a = out, *b = text;
		for (;;) {
			while (is_space(*a))
				a++;
			while (is_space(*b))
				b++;
			if (!*a || !*b || *a != *b)
				break;
			a++;
			b++;
		}
		if (!*a && !*b) {
			store__free(out);
			return NULL;
		}
	}
	return out;
}

void
store__hash_fields(const char *const *f, size_t n, char out[17])
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++) {
		/* A presence byte and the length keep field boundaries apart. */
		uint64_t len = f[i] ? (uint64_t)strlen(f[i]) : 0;
		unsigned char pre[9];

		pre[0] = f[i] ? 1 : 0;
		for (int b = 0; b < 8; b++)
			pre[1 + b] = (unsigned char)(len >> (8 * b));
		for (size_t j = 0; j < sizeof(pre); j++) {
			h ^= pre[j];
			h *= 1099511628211ULL;
		}
		for (uint64_t j = 0; j < len; j++) {
			h ^= (unsigned char)f[i][j];
			h *= 1099511628211ULL;
		}
	}
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* Is the query parameter [p, p+len) one of the tracking parameters? */
static bool
tracking_param(const char *p, size_t len)
{
	size_t nlen = 0;

	while (nlen < len && p[nlen] != '=')
		nlen++;
	if (nlen >= 4 && strncasecmp(p, "utm_", 4) == 0)
		return true;
	if (nlen == 6 && strncasecmp(p, "fbclid", 6) == 0)
		return true;
	if (nlen == 5 && strncasecmp(p, "gclid", 5) == 0)
		return true;
	return nlen == 0 && len == 0;
}

int
store__canon_link(const char *link, char **out)
{
	int rc = 0;
	char *t = store__trim_dup(link, &rc);
	char *buf = NULL;
	size_t n, o = 0;
	const char *p, *scheme_end, *auth, *auth_end, *host_end, *port;
	const char *q, *frag, *path_end;
	bool http = false, https = false;

	*out = NULL;
	if (!t)
		goto out;
	n = strlen(t);
	buf = store__malloc(n + 2);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	frag = strchr(t, '#');
	if (frag)
		t[frag - t] = '\0';
	scheme_end = strstr(t, "://");
	for (p = t; scheme_end && p < scheme_end; p++)
		if (!isalnum((unsigned char)*p) && *p != '+' && *p != '-' &&
			*p != '.')
			scheme_end = NULL;
	if (!scheme_end || scheme_end == t) {
		/* Not an absolute URL: only the fragment goes. */
		memcpy(buf, t, strlen(t) + 1);
		goto done;
	}
	for (p = t; p < scheme_end; p++)
		buf[o++] = (char)tolower((unsigned char)*p);
	buf[o] = '\0';
	http = strcmp(buf, "http") == 0;
	https = strcmp(buf, "https") == 0;
	memcpy(buf + o, "://", 3);
	o += 3;
	auth = scheme_end + 3;
	auth_end = auth + strcspn(auth, "/?");
	/* userinfo is kept as given; the host is lower-cased. */
	p = auth;
	for (const char *at = auth; at < auth_end; at++)
		if (*at == '@')
			p = at + 1;
	memcpy(buf + o, auth, (size_t)(p - auth));
	o += (size_t)(p - auth);
	host_end = auth_end;
	port = NULL;
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(auth_end - p));
		if (rb && rb + 1 < auth_end && rb[1] == ':') {
			port = rb + 1;
			host_end = port;
		}
	} else {
		const char *c = memchr(p, ':', (size_t)(auth_end - p));
		if (c) {
			port = c;
			host_end = c;
		}
	}
	for (; p < host_end; p++)
		buf[o++] = (char)tolower((unsigned char)*p);
	if (port) {
		size_t plen = (size_t)(auth_end - port);
		bool dflt = plen == 1 ||
			(http && plen == 3 && memcmp(port, ":80", 3) == 0) ||
			(https && plen == 4 && memcmp(port, ":443", 4) == 0);
		if (!dflt) {
			memcpy(buf + o, port, plen);
			o += plen;
		}
	}
	q = strchr(auth_end, '?');
	path_end = q ? q : auth_end + strlen(auth_end);
	if (path_end == auth_end) {
		buf[o++] = '/';
	} else {
		memcpy(buf + o, auth_end, (size_t)(path_end - auth_end));
		o += (size_t)(path_end - auth_end);
	}
	if (q) {
		bool first = true;
		const char *s = q + 1;

		while (*s) {
			size_t len = strcspn(s, "&");
			if (!tracking_param(s, len)) {
				buf[o++] = first ? '?' : '&';
				memcpy(buf + o, s, len);
				o += len;
				first = false;
			}
			s += len;
			if (*s == '&')
				s++;
		}
	}
	buf[o] = '\0';
done:
	*out = buf;
	buf = NULL;
out:
	store__free(buf);
	store__free(t);
	return rc;
}

int64_t
store__parse_time(const char *s)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
	struct tm tm = { 0 };
	int64_t t;
	const char *p;

	if (!s || sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
		return -1;
	p = s + n;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		if (sscanf(p + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3)
			return -1;
		p += 1 + n;
		if (*p == '.')
			for (p++; isdigit((unsigned char)*p); p++)
				;
		if (*p == '+' || *p == '-') {
			int oh, om;
			if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
				return -1;
			int off = (oh * 60 + om) * 60;
			sec -= *p == '+' ? off : -off;
		}
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 86400 * 2)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = 0;
	t = (int64_t)timegm(&tm);
	return t + sec;
}

static uint64_t
key_hash(const char *k)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *k; k++) {
		h ^= (unsigned char)*k;
		h *= 1099511628211ULL;
	}
	return h;
}

static size_t
keyset_slot(const struct store__keyset *ks, const char *key)
{
	size_t i = (size_t)key_hash(key) & (ks->cap - 1);

	while (ks->keys[i] && strcmp(ks->keys[i], key) != 0)
		i = (i + 1) & (ks->cap - 1);
	return i;
}

bool
store__keyset_get(const struct store__keyset *ks, const char *key, int64_t *val)
{
	size_t i;

	if (!ks->cap)
		return false;
	i = keyset_slot(ks, key);
	if (!ks->keys[i])
		return false;
	if (val)
		*val = ks->vals[i];
	return true;
}

int
store__keyset_put(struct store__keyset *ks, const char *key, int64_t val)
{
	size_t i;

	if ((ks->len + 1) * 2 > ks->cap) {
		struct store__keyset nk = { 0 };
		nk.cap = ks->cap ? ks->cap * 2 : 64;
		nk.keys = store__calloc(nk.cap, sizeof(*nk.keys));
		nk.vals = store__calloc(nk.cap, sizeof(*nk.vals));
		if (!nk.keys || !nk.vals) {
			store__free(nk.keys);
			store__free(nk.vals);
			return -ENOMEM;
		}
		for (size_t j = 0; j < ks->cap; j++) {
			if (!ks->keys[j])
				continue;
			size_t s = keyset_slot(&nk, ks->keys[j]);
			nk.keys[s] = ks->keys[j];
			nk.vals[s] = ks->vals[j];
		}
		nk.len = ks->len;
		store__free(ks->keys);
		store__free(ks->vals);
		*ks = nk;
	}
	i = keyset_slot(ks, key);
	if (!ks->keys[i]) {
		ks->keys[i] = store__strdup(key);
		if (!ks->keys[i])
			return -ENOMEM;
		ks->len++;
	}
	ks->vals[i] = val;
	return 0;
}

void
store__keyset_cleanup(struct store__keyset *ks)
{
	for (size_t i = 0; i < ks->cap; i++)
		store__free(ks->keys[i]);
	store__free(ks->keys);
	store__free(ks->vals);
	memset(ks, 0, sizeof(*ks));
}
