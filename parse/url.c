/*
 * URL reference resolution (RFC 3986 section 5.2) and the scheme policy for
 * links that leave parse/.
 *
 * Written out rather than taken from xmlBuildURI(): libxml2 2.9's resolver
 * escapes and re-serializes the reference (spaces become %20, IRIs change)
 * and handles a relative base differently from RFC 3986; feeds need the
 * reference kept byte for byte apart from the parts resolution replaces.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "norm.h"

struct uri {
	const char *scheme;
	size_t scheme_len;
	bool has_scheme;
	const char *auth;
	size_t auth_len;
	bool has_auth;
	const char *path;
	size_t path_len;
	const char *query;
	size_t query_len;
	bool has_query;
	const char *frag;
	size_t frag_len;
	bool has_frag;
};

/* A growing output buffer; on allocation failure it goes "bad" and later
 * appends do nothing. */
struct sbuf {
	char *p;
	size_t len, cap;
	bool bad;
};

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->bad)
		return;
	if (n > ((size_t)-1) / 2 - b->len) {
		b->bad = true;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->bad = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static bool
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_scheme_char(unsigned char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' ||
		c == '.';
}

/* Length of the scheme at s (without the ':'), or 0 when s has none. */
static size_t
scheme_len(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || !is_alpha((unsigned char)s[0]))
		return 0;
	while (i < n && is_scheme_char((unsigned char)s[i]))
		i++;
	if (i < n && s[i] == ':')
		return i;
	return 0;
}

/* RFC 3986 appendix B, without the regular expression. */
static void
uri_split(const char *s, size_t n, struct uri *u)
{
	size_t i = 0, j;

	memset(u, 0, sizeof(*u));
	j = scheme_len(s, n);
	if (j) {
		u->scheme = s;
		u->scheme_len = j;
		u->has_scheme = true;
		i = j + 1;
	}
	if (n - i >= 2 && s[i] == '/' && s[i + 1] == '/') {
		i += 2;
		j = i;
		while (j < n && s[j] != '/' && s[j] != '?' && s[j] != '#')
			j++;
		u->auth = s + i;
		u->auth_len = j - i;
		u->has_auth = true;
		i = j;
	}
	j = i;
	while (j < n && s[j] != '?' && s[j] != '#')
		j++;
	u->path = s + i;
	u->path_len = j - i;
	i = j;
	if (i < n && s[i] == '?') {
		i++;
		j = i;
		while (j < n && s[j] != '#')
			j++;
		u->query = s + i;
		u->query_len = j - i;
		u->has_query = true;
		i = j;
	}
	if (i < n && s[i] == '#') {
		i++;
		u->frag = s + i;
		u->frag_len = n - i;
		u->has_frag = true;
	}
}

/*
 * RFC 3986 5.2.4 remove_dot_segments, appending the result to out. Works
 * on the input in place with an output stack of segment starts.
 */
static void
remove_dots(struct sbuf *out, const char *in, size_t n)
{
	size_t start = out->len;
	size_t i = 0;

	while (i < n) {
		const char *p = in + i;
		size_t rest = n - i;

		/* A. "../" or "./" prefixes */
		if (rest >= 3 && memcmp(p, "../", 3) == 0) {
			i += 3;
			continue;
		}
		if (rest >= 2 && memcmp(p, "./", 2) == 0) {
			i += 2;
			continue;
		}
		/* B. "/./" or "/." at the end: becomes "/" */
		if (rest >= 3 && memcmp(p, "/./", 3) == 0) {
			i += 2;
			continue;
		}
		if (rest == 2 && memcmp(p, "/.", 2) == 0) {
			sb_add(out, "/", 1);
			break;
		}
		/* C. "/../" or "/.." at the end: drop the last output segment */
		if ((rest >= 4 && memcmp(p, "/../", 4) == 0) ||
		    (rest == 3 && memcmp(p, "/..", 3) == 0)) {
			if (!out->bad) {
				size_t k = out->len;
				while (k > start && out->p[k - 1] != '/')
					k--;
				if (k > start)
					k--;
				out->len = k;
				if (out->p) /* nothing written yet: a relative base */
					out->p[k] = '\0';
			}
			if (rest == 3) {
				sb_add(out, "/", 1);
				break;
			}
			i += 3;
			continue;
		}
		/* D. "." or ".." alone */
		if ((rest == 1 && p[0] == '.') ||
		    (rest == 2 && p[0] == '.' && p[1] == '.'))
			break;
		/* E. move the first segment (with its leading "/") to output */
		size_t k = 1;
		if (p[0] != '/')
			k = 0;
		while (k < rest && p[k] != '/')
			k++;
		sb_add(out, p, k);
		i += k;
	}
}

/* Copy s without leading/trailing whitespace and control characters and
 * without embedded tab, CR and LF (which browsers ignore inside URLs). */
static char *
url_clean(const char *s)
{
	size_t n = strlen(s), a = 0, o = 0;
	char *out;

	while (a < n && (unsigned char)s[a] <= 0x20)
		a++;
	while (n > a && (unsigned char)s[n - 1] <= 0x20)
		n--;
	out = malloc(n - a + 1);
	if (!out)
		return NULL;
	for (size_t i = a; i < n; i++) {
		if (s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
			continue;
		out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

static void
add_path_merge(struct sbuf *out, const struct uri *b, const struct uri *r)
{
	struct sbuf tmp = { 0 };

	/* RFC 3986 5.2.3 */
	if (b->has_auth && b->path_len == 0) {
		sb_add(&tmp, "/", 1);
	} else {
		size_t k = b->path_len;
		while (k > 0 && b->path[k - 1] != '/')
			k--;
		sb_add(&tmp, b->path, k);
	}
	sb_add(&tmp, r->path, r->path_len);
	if (tmp.bad) {
		out->bad = true;
	} else if (tmp.len) {
		remove_dots(out, tmp.p, tmp.len);
	}
	free(tmp.p);
}

static void
add_lower(struct sbuf *out, const char *s, size_t n)
{
	size_t at = out->len;

	sb_add(out, s, n);
	if (out->bad)
		return;
	for (size_t i = at; i < at + n; i++) {
		char c = out->p[i];
		if (c >= 'A' && c <= 'Z')
			out->p[i] = (char)(c - 'A' + 'a');
	}
}

/* RFC 3986 5.2.2 and 5.3 */
static char *
resolve(const char *base, const char *ref)
{
	struct uri b, r;
	struct sbuf out = { 0 };
	const struct uri *q;
	size_t rn = strlen(ref), bn = strlen(base);

	uri_split(ref, rn, &r);
	uri_split(base, bn, &b);
	/* The result's parts come from the two (plus a '/' for an empty
	 * merged path): room for it up front, so sb_add() rarely grows. */
	out.cap = rn + bn + 8;
	out.p = malloc(out.cap);
	if (!out.p)
		return NULL;

	if (r.has_scheme) {
		add_lower(&out, r.scheme, r.scheme_len);
		sb_add(&out, ":", 1);
		if (r.has_auth) {
			sb_add(&out, "//", 2);
			sb_add(&out, r.auth, r.auth_len);
		}
		remove_dots(&out, r.path, r.path_len);
		q = &r;
	} else {
		if (b.has_scheme) {
			add_lower(&out, b.scheme, b.scheme_len);
			sb_add(&out, ":", 1);
		}
		if (r.has_auth) {
			sb_add(&out, "//", 2);
			sb_add(&out, r.auth, r.auth_len);
			remove_dots(&out, r.path, r.path_len);
			q = &r;
		} else {
			if (b.has_auth) {
				sb_add(&out, "//", 2);
				sb_add(&out, b.auth, b.auth_len);
			}
			if (r.path_len == 0) {
				/* RFC 3986 takes the base path as is; normalizing
				 * it too makes every result canonical. */
				remove_dots(&out, b.path, b.path_len);
				q = r.has_query ? &r : &b;
			} else {
				if (r.path[0] == '/')
					remove_dots(&out, r.path, r.path_len);
				else
					add_path_merge(&out, &b, &r);
				q = &r;
			}
		}
	}
	if (q->has_query) {
		sb_add(&out, "?", 1);
		sb_add(&out, q->query, q->query_len);
	}
	if (r.has_frag) {
		sb_add(&out, "#", 1);
		sb_add(&out, r.frag, r.frag_len);
	}
	sb_add(&out, "", 0); /* the empty result still gets a buffer */
	if (out.bad) {
		free(out.p);
		out.p = NULL;
	}
	return out.p;
}

/* Schemes a link may carry out of parse/. Everything else (javascript,
 * vbscript, data, file, about, blob, filesystem, view-source, jar, ...) is
 * refused. Keep sorted for readers, not for the lookup. */
static const char *const safe_schemes[] = {
	"aim", "bitcoin", "callto", "cvs", "dav", "davs", "ed2k", "facetime",
	"feed", "ftp", "ftps", "geo", "git", "gopher", "gtalk", "h323", "hdl",
	"http", "https", "im", "imap", "irc", "irc6", "ircs", "itms", "magnet",
	"mailto", "mms", "msnim", "news", "nntp", "rsync", "rtsp", "rtspu",
	"sftp", "sip", "sips", "skype", "sms", "snews", "ssh", "svn", "svn+ssh",
	"tel", "telnet", "urn", "webcal", "wais", "xmpp", "ymsg",
};

static bool
scheme_allowed(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(safe_schemes) / sizeof(safe_schemes[0]); i++) {
		const char *a = safe_schemes[i];
		if (strlen(a) != n)
			continue;
		size_t k = 0;
		while (k < n) {
			char c = s[k];
			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (c != a[k])
				break;
			k++;
		}
		if (k == n)
			return true;
	}
	return false;
}

bool
parse__url_safe(const char *url)
{
	char scheme[8]; /* longer than every safe scheme */
	size_t i = 0, k = 0;

	if (!url)
		return true;
	/* The scheme of url_clean(url), read in place: after the leading
	 * white space and controls, skipping tab, CR and LF (the trailing
	 * ones cannot come before a ':'). */
	while (url[i] && (unsigned char)url[i] <= 0x20)
		i++;
	for (; url[i]; i++) {
		unsigned char c = (unsigned char)url[i];
		if (c == '\t' || c == '\n' || c == '\r')
			continue;
		if (k == 0 ? !is_alpha(c) : !is_scheme_char(c))
			break;
		if (k < sizeof(scheme))
			scheme[k] = (char)c;
		k++;
	}
	if (k == 0 || url[i] != ':')
		return true; /* no scheme: a relative reference */
	return k <= sizeof(scheme) && scheme_allowed(scheme, k);
}

char *
parse__url_resolve(const char *base, const char *ref)
{
	char *r = NULL, *b = NULL, *out = NULL;
	int err = ENOMEM;

	r = url_clean(ref ? ref : "");
	if (!r)
		goto out;
	if (base && *base) {
		b = url_clean(base);
		if (!b)
			goto out;
	}
	if (b && *b) {
		out = resolve(b, r);
		if (!out)
			goto out;
	} else {
		out = r;
		r = NULL;
	}
	if (!parse__url_safe(out)) {
		free(out);
		out = NULL;
		err = EPERM;
		goto out;
	}
	err = 0;
out:
	free(r);
	free(b);
	if (err)
		errno = err;
	return out;
}
