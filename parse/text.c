/*
 * Small text helpers of the parse/ core: a growable buffer, RSS author
 * strings, base64 (Atom 0.3 mode="base64" and binary Atom 1.0 types).
 */
#include "parse_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
parse__sbuf_add(struct sbuf *b, const void *p, size_t n)
{
	if (b->cap - b->len <= n || !b->s) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap - b->len <= n) {
			if (cap > SIZE_MAX / 2)
				return -ENOMEM;
			cap *= 2;
		}
		char *s = realloc(b->s, cap);
		if (!s)
			return -ENOMEM;
		b->s = s;
		b->cap = cap;
	}
	if (p && n)
		memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

int
parse__sbuf_addc(struct sbuf *b, char c)
{
	if (b->s && b->cap - b->len > 1) {
		b->s[b->len++] = c;
		b->s[b->len] = '\0';
		return 0;
	}
	return parse__sbuf_add(b, &c, 1);
}

void
parse__sbuf_reset(struct sbuf *b)
{
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
}

void
parse__sbuf_free(struct sbuf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

static char *
dup_trim(const char *s, size_t n)
{
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	char *r = malloc(n + 1);
	if (r) {
		memcpy(r, s, n);
		r[n] = '\0';
	}
	return r;
}

/* An e-mail address: one token with an @ and a dot after it, no spaces. */
static bool
looks_email(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n);
	if (!at || at == s)
		return false;
	for (size_t i = 0; i < n; i++)
		if (isspace((unsigned char)s[i]) || s[i] == '<' || s[i] == '>' ||
			s[i] == '(' || s[i] == ')')
			return false;
	return at + 1 < s + n;
}

static const char *
skip_mailto(const char *s, size_t *n)
{
	if (*n >= 7 && strncasecmp(s, "mailto:", 7) == 0) {
		*n -= 7;
		return s + 7;
	}
	return s;
}

int
parse__author_split(const char *s, char **name, char **email)
{
	size_t n = strlen(s);
	const char *open, *close;
	char oc = 0, cc = 0;
	int rc = 0;

	*name = NULL;
	*email = NULL;
	/* "x (y)" or "x <y>": one of x and y is the address. */
	open = strchr(s, '(');
	close = open ? strrchr(s, ')') : NULL;
	if (open && close && close > open) {
		oc = '(';
		cc = ')';
	} else {
		open = strchr(s, '<');
		close = open ? strrchr(s, '>') : NULL;
		if (open && close && close > open) {
			oc = '<';
			cc = '>';
		}
	}
	if (oc) {
		const char *in = open + 1;
		size_t inn = (size_t)(close - in);
		const char *outer = s;
		size_t outern = (size_t)(open - s);
		const char *tail = close + 1;
		while (inn > 0 && isspace((unsigned char)*in)) {
			in++;
			inn--;
		}
		while (inn > 0 && isspace((unsigned char)in[inn - 1]))
			inn--;
		in = skip_mailto(in, &inn);
		while (outern > 0 && isspace((unsigned char)outer[outern - 1]))
			outern--;
		while (outern > 0 && isspace((unsigned char)*outer)) {
			outer++;
			outern--;
		}
		outer = skip_mailto(outer, &outern);
		if (looks_email(in, inn)) {
			*email = dup_trim(in, inn);
			*name = outern ? dup_trim(outer, outern) : NULL;
			if (!*name && *tail)
				*name = dup_trim(tail, strlen(tail));
		} else if (looks_email(outer, outern)) {
			*email = dup_trim(outer, outern);
			*name = inn ? dup_trim(in, inn) : NULL;
		} else {
			*name = dup_trim(s, n);
		}
	} else {
		const char *t = s;
		size_t tn = n;
		while (tn > 0 && isspace((unsigned char)*t)) {
			t++;
			tn--;
		}
		while (tn > 0 && isspace((unsigned char)t[tn - 1]))
			tn--;
		t = skip_mailto(t, &tn);
		if (looks_email(t, tn))
			*email = dup_trim(t, tn);
		else
			*name = dup_trim(s, n);
	}
	if ((*name == NULL && *email == NULL) || (*name && !**name)) {
		free(*name);
		*name = NULL;
	}
	if (*email && !**email) {
		free(*email);
		*email = NULL;
	}
	(void)cc;
	return rc;
}

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

char *
parse__base64_decode(const char *s, size_t len, size_t *outlen)
{
	char *r = malloc(len / 4 * 3 + 4);
	unsigned acc = 0;
	int bits = 0;
	size_t j = 0;

	if (!r)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isspace(c))
			continue;
		if (c == '=')
			break;
		int v = b64val(c);
		if (v < 0) {
			free(r);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			r[j++] = (char)((acc >> bits) & 0xFF);
		}
	}
	r[j] = '\0';
	*outlen = j;
	return r;
}
