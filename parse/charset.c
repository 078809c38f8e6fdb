/*
 * The charset decoder in front of the XML parser: bytes in any supported
 * encoding -> valid UTF-8, streaming, so libxml2 only ever sees UTF-8
 * (it is told so, and told to ignore the XML declaration's encoding).
 *
 * Which encoding a document is in is decided once, from its first bytes:
 *   1. a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE);
 *   2. UTF-16 or UTF-32 without a BOM, from the byte pattern of the first
 *      characters (XML 1.0 Appendix F, see sniff_wide());
 *   3. the XML declaration's encoding="..."; then the caller's hint (the
 *      HTTP Content-Type charset; the document's own declaration is closer
 *      to the bytes than a server default, so it wins);
 *   4. UTF-8.
 * Two common mistakes are repaired as the bytes stream through:
 *   - a document that says UTF-8 but has bytes that are not: each invalid
 *     byte reads as Windows-1252 (and the feed is marked malformed);
 *   - a document that says ISO-8859-1 or another single-byte charset but is
 *     really UTF-8 (bytes that are valid UTF-8 win): the first non-ASCII
 *     sequence decides. ISO-8859-1 and US-ASCII read as Windows-1252, which
 *     is what they mean in practice (0x80-0x9F are never C1 controls).
 * Characters XML forbids (C0 controls other than tab, CR, LF) are dropped,
 * and invalid sequences in other charsets become U+FFFD.
 */
#include "parse_int.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum cs_mode {
	CS_UTF8,  /* UTF-8, invalid bytes read as Windows-1252 */
	CS_TABLE, /* an ASCII-compatible single-byte charset */
	CS_ICONV, /* anything else iconv knows */
};

struct charset {
	enum cs_mode mode;
	bool may_be_utf8; /* CS_TABLE: switch to UTF-8 if the first non-ASCII is */
	iconv_t cd;
	unsigned char hold[16]; /* an incomplete sequence from the last chunk */
	size_t nhold;
	struct sbuf tmp; /* iconv output before the UTF-8 pass */
	char table[128][4]; /* CS_TABLE: bytes 0x80-0xFF as UTF-8 */
	unsigned char tlen[128];
};

/* Windows-1252 0x80-0x9F; the five holes keep their C1 code point. */
static const unsigned short cp1252_c1[32] = {
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

static size_t
utf8_put(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* The Windows-1252 reading of byte b (0x80-0xFF) as UTF-8. */
static size_t
cp1252_put(char *out, unsigned char b)
{
	return utf8_put(out, b < 0xA0 ? cp1252_c1[b - 0x80] : b);
}

/*
 * Length of the valid UTF-8 sequence at s (n bytes available), 0 when it
 * is invalid, or -1 when it is a valid prefix cut off by the end of s.
 */
static int
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	int len;
	unsigned min;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	unsigned cp = c & (0x3F >> (len - 1));
	for (int i = 1; i < len; i++) {
		if ((size_t)i >= n)
			return -1;
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	/* U+FFFE and U+FFFF are not XML characters. */
	if (cp == 0xFFFE || cp == 0xFFFF)
		return 0;
	return len;
}

static bool
xml_forbidden(unsigned char c)
{
	return c < 0x20 && c != '\t' && c != '\n' && c != '\r';
}

/*
 * The UTF-8 pass: copy valid runs, read invalid bytes as Windows-1252,
 * drop forbidden controls. Returns the number of bytes consumed; a cut-off
 * sequence at the end is left unconsumed unless last.
 */
static int
utf8_pass(const unsigned char *s, size_t n, bool last, struct sbuf *out,
	bool *repaired, size_t *used)
{
	size_t i = 0, run = 0;
	int rc = 0;

	while (i < n) {
		unsigned char c = s[i];
		if (c >= 0x20 && c < 0x80) {
			i++;
			/* Eight bytes at a time while all are printable ASCII. */
			while (i + 8 <= n) {
				uint64_t w;
				memcpy(&w, s + i, 8);
				if (((w - 0x2020202020202020ull) | w) & 0x8080808080808080ull)
					break;
				i += 8;
			}
			continue;
		}
		if (c < 0x80) {
			if (!xml_forbidden(c)) {
				i++;
				continue;
			}
			rc = parse__sbuf_add(out, s + run, i - run);
			if (rc < 0)
				goto out;
			*repaired = true;
			run = ++i;
			continue;
		}
		int len = utf8_seq(s + i, n - i);
		if (len > 0) {
			i += (size_t)len;
			continue;
		}
		if (len < 0 && !last)
			break;
		char tmp[4];
		rc = parse__sbuf_add(out, s + run, i - run);
		if (rc < 0)
			goto out;
		rc = parse__sbuf_add(out, tmp, cp1252_put(tmp, c));
		if (rc < 0)
			goto out;
		*repaired = true;
		run = ++i;
	}
	if (i > run) /* s may be NULL when n is 0 */
		rc = parse__sbuf_add(out, s + run, i - run);
	*used = i;
out:
	return rc;
}

static int
table_pass(struct charset *cs, const unsigned char *s, size_t n, bool last,
	struct sbuf *out, bool *repaired, size_t *used)
{
	size_t i = 0, run = 0;
	int rc = 0;

	while (i < n) {
		unsigned char c = s[i];
		if (c >= 0x20 && c < 0x80) {
			i++;
			continue;
		}
		rc = parse__sbuf_add(out, s + run, i - run);
		if (rc < 0)
			goto out;
		if (c < 0x80) {
			if (!xml_forbidden(c)) {
				rc = parse__sbuf_addc(out, (char)c);
				if (rc < 0)
					goto out;
			} else {
				*repaired = true;
			}
			run = ++i;
			continue;
		}
		if (cs->may_be_utf8) {
			int len = utf8_seq(s + i, n - i);
			if (len < 0 && !last) {
				run = i;
				goto done;
			}
			cs->may_be_utf8 = false;
			if (len > 0) {
				/* Valid UTF-8 wins over what the document said. */
				cs->mode = CS_UTF8;
				size_t u = 0;
				rc = utf8_pass(s + i, n - i, last, out, repaired, &u);
				*used = i + u;
				goto out;
			}
		}
		rc = parse__sbuf_add(out, cs->table[c - 0x80], cs->tlen[c - 0x80]);
		if (rc < 0)
			goto out;
		run = ++i;
	}
done:
	rc = parse__sbuf_add(out, s + run, i - run);
	*used = i;
out:
	return rc;
}

static int
iconv_pass(struct charset *cs, const unsigned char *s, size_t n, bool last,
	struct sbuf *out, bool *repaired, size_t *used)
{
	char *in = (char *)s;
	size_t inleft = n;
	int rc = 0;

	parse__sbuf_reset(&cs->tmp);
	while (inleft > 0) {
		size_t want = inleft * 4 + 16;
		if (cs->tmp.cap - cs->tmp.len < want + 1) {
			size_t l = cs->tmp.len;
			rc = parse__sbuf_add(&cs->tmp, NULL, want + 1);
			if (rc < 0)
				goto out;
			cs->tmp.len = l;
		}
		char *o = cs->tmp.s + cs->tmp.len;
		size_t oleft = cs->tmp.cap - cs->tmp.len - 1;
		size_t r = iconv(cs->cd, &in, &inleft, &o, &oleft);
		cs->tmp.len = (size_t)(o - cs->tmp.s);
		if (r != (size_t)-1)
			continue;
		if (errno == E2BIG)
			continue;
		if (errno == EINVAL && !last)
			break;
		/* EILSEQ, or a cut-off sequence at the very end. */
		rc = parse__sbuf_add(&cs->tmp, "\xEF\xBF\xBD", 3);
		if (rc < 0)
			goto out;
		*repaired = true;
		in++;
		inleft--;
	}
	*used = n - inleft;
	size_t u = 0;
	rc = utf8_pass((unsigned char *)cs->tmp.s, cs->tmp.len, true, out,
		repaired, &u);
out:
	return rc;
}

int
parse__charset_decode(struct charset *cs, const char *in, size_t n, bool last,
	struct sbuf *out, bool *repaired)
{
	const unsigned char *s = (const unsigned char *)in;
	unsigned char joined[32];
	size_t used = 0;
	int rc = 0;

	/* Finish a sequence cut off at the end of the previous chunk first. */
	while (cs->nhold > 0 && (n > 0 || last)) {
		size_t take = sizeof(joined) - cs->nhold;
		if (take > n)
			take = n;
		memcpy(joined, cs->hold, cs->nhold);
		memcpy(joined + cs->nhold, s, take);
		size_t total = cs->nhold + take;
		bool fin = last && take == n;
		used = 0;
		if (cs->mode == CS_UTF8)
			rc = utf8_pass(joined, total, fin, out, repaired, &used);
		else if (cs->mode == CS_TABLE)
			rc = table_pass(cs, joined, total, fin, out, repaired, &used);
		else
			rc = iconv_pass(cs, joined, total, fin, out, repaired, &used);
		if (rc < 0)
			goto out;
		if (used < cs->nhold) {
			/* Still incomplete: keep holding. */
			if (total > sizeof(cs->hold))
				total = sizeof(cs->hold);
			memcpy(cs->hold, joined, total);
			cs->nhold = total;
			s += take;
			n -= take;
			if (n == 0 && !last)
				goto out;
			continue;
		}
		size_t from_s = used - cs->nhold;
		cs->nhold = 0;
		s += from_s;
		n -= from_s;
		break;
	}
	used = 0;
	if (cs->mode == CS_UTF8)
		rc = utf8_pass(s, n, last, out, repaired, &used);
	else if (cs->mode == CS_TABLE)
		rc = table_pass(cs, s, n, last, out, repaired, &used);
	else
		rc = iconv_pass(cs, s, n, last, out, repaired, &used);
	if (rc < 0)
		goto out;
	if (used < n) {
		size_t rest = n - used;
		if (rest > sizeof(cs->hold)) {
			/* Cannot happen for real encodings; be safe anyway. */
			rest = sizeof(cs->hold);
		}
		memcpy(cs->hold, s + used, rest);
		cs->nhold = rest;
	}
out:
	return rc;
}

/* The encoding="..." of an XML declaration at the start of head, or "". */
static void
xml_decl_encoding(const char *head, size_t n, char *enc, size_t enclen)
{
	size_t i = 0;

	enc[0] = '\0';
	while (i < n && isspace((unsigned char)head[i]))
		i++;
	if (n - i < 5 || memcmp(head + i, "<?xml", 5) != 0)
		return;
	size_t end = i;
	while (end + 1 < n && !(head[end] == '?' && head[end + 1] == '>'))
		end++;
	const char *p = head + i;
	const char *e = head + end;
	while (p < e) {
		const char *k = memmem(p, (size_t)(e - p), "encoding", 8);
		if (!k)
			return;
		p = k + 8;
		while (p < e && isspace((unsigned char)*p))
			p++;
		if (p >= e || *p != '=')
			continue;
		p++;
		while (p < e && isspace((unsigned char)*p))
			p++;
		if (p >= e || (*p != '"' && *p != '\''))
			continue;
		char q = *p++;
		size_t j = 0;
		while (p < e && *p != q && j + 1 < enclen)
			enc[j++] = *p++;
		enc[j] = '\0';
		return;
	}
}

static bool
is_name(const char *a, const char *const *names)
{
	for (; *names; names++)
		if (strcasecmp(a, *names) == 0)
			return true;
	return false;
}

static const char *const utf8_names[] = { "utf-8", "utf8", "unicode-1-1-utf-8",
	NULL };
static const char *const latin1_names[] = { "iso-8859-1", "iso8859-1",
	"iso_8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii",
	"windows-1252", "cp1252", "x-cp1252", "ibm819", "cp819", NULL };
static const char *const utf16_names[] = { "utf-16", "utf16", "utf-16le",
	"utf-16be", "ucs-2", "utf-32", "ucs-4", NULL };

/* Fill the 0x80-0xFF table from iconv; false if cd is not a single-byte
 * ASCII superset. */
static bool
table_from_iconv(struct charset *cs, iconv_t cd)
{
	for (unsigned b = 0; b < 256; b++) {
		char in[1] = { (char)b }, outb[8];
		char *ip = in, *op = outb;
		size_t il = 1, ol = sizeof(outb);
		iconv(cd, NULL, NULL, NULL, NULL);
		size_t r = iconv(cd, &ip, &il, &op, &ol);
		size_t len = sizeof(outb) - ol;
		if (r == (size_t)-1 && errno == EINVAL)
			return false; /* a multi-byte lead byte */
		if (b < 0x80) {
			if (r == (size_t)-1 || len != 1 || (unsigned char)outb[0] != b)
				return false;
			continue;
		}
		if (r == (size_t)-1 || len == 0 || len > 4) {
			memcpy(cs->table[b - 0x80], "\xEF\xBF\xBD", 3);
			cs->tlen[b - 0x80] = 3;
		} else {
			memcpy(cs->table[b - 0x80], outb, len);
			cs->tlen[b - 0x80] = (unsigned char)len;
		}
	}
	iconv(cd, NULL, NULL, NULL, NULL);
	return true;
}

/*
 * UTF-16 or UTF-32 without a byte-order mark, from the code units of the
 * first characters (XML 1.0 Appendix F). Appendix F looks for the "<?" of
 * the XML declaration (3C 00 3F 00 is UTF-16LE, 00 00 00 3C UTF-32BE, ...);
 * a document without a declaration, or with white space before it (not
 * allowed, but servers send it), is just as clear: white space, then '<'
 * and a character that can follow it, each in a code unit whose other bytes
 * are zero. No ASCII-compatible document starts that way. Returns the
 * iconv name, or NULL.
 */
static const char *
sniff_wide(const unsigned char *h, size_t n)
{
	static const struct {
		const char *name;
		size_t unit, pos; /* code unit size; where the ASCII byte is */
	} w[] = {
		{ "UTF-32LE", 4, 0 },
		{ "UTF-32BE", 4, 3 },
		{ "UTF-16LE", 2, 0 },
		{ "UTF-16BE", 2, 1 },
	};

	for (size_t k = 0; k < sizeof(w) / sizeof(w[0]); k++) {
		size_t u = w[k].unit, pos = w[k].pos;
		bool lt = false;

		for (size_t i = 0; i + u <= n; i += u) {
			unsigned char c = h[i + pos];
			bool ascii = c != 0 && c < 0x80;

			for (size_t j = 0; j < u && ascii; j++)
				if (j != pos && h[i + j] != 0)
					ascii = false;
			if (!ascii)
				break;
			if (lt) {
				if (isalpha(c) || c == '?' || c == '!' || c == '_')
					return w[k].name;
				break;
			}
			if (c == '<')
				lt = true;
			else if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
				break;
		}
	}
	return NULL;
}

int
parse__charset_open(struct charset **out, const char *head, size_t n,
	const char *hint, bool *bad, size_t *skip, bool *wide)
{
	const unsigned char *h = (const unsigned char *)head;
	struct charset *cs = calloc(1, sizeof(*cs));
	const char *name = NULL;
	char decl[64];
	bool sniffed = false;
	int rc = 0;

	if (!cs)
		return -ENOMEM;
	cs->cd = (iconv_t)-1;
	*bad = false;
	*skip = 0;
	*wide = false;
	if (n >= 3 && h[0] == 0xEF && h[1] == 0xBB && h[2] == 0xBF) {
		*skip = 3;
		name = "UTF-8";
	} else if (n >= 4 && h[0] == 0xFF && h[1] == 0xFE && h[2] == 0 && h[3] == 0) {
		*skip = 4;
		name = "UTF-32LE";
	} else if (n >= 4 && h[0] == 0 && h[1] == 0 && h[2] == 0xFE && h[3] == 0xFF) {
		*skip = 4;
		name = "UTF-32BE";
	} else if (n >= 2 && h[0] == 0xFF && h[1] == 0xFE) {
		*skip = 2;
		name = "UTF-16LE";
	} else if (n >= 2 && h[0] == 0xFE && h[1] == 0xFF) {
		*skip = 2;
		name = "UTF-16BE";
	} else if ((name = sniff_wide(h, n)) != NULL) {
		/* UTF-16 or UTF-32 without a BOM: the bytes say so, whatever
		 * the declaration or the server claims. */
		sniffed = true;
	} else {
		xml_decl_encoding(head, n, decl, sizeof(decl));
		if (decl[0])
			name = decl;
		else if (hint && *hint)
			name = hint;
		else
			name = "UTF-8";
		/* A declaration of UTF-16 in ASCII-compatible bytes is wrong. */
		if (is_name(name, utf16_names))
			name = "UTF-8";
	}

	/* Chosen from a BOM or the byte pattern: NUL bytes are expected. */
	*wide = *skip == 2 || *skip == 4 || sniffed;
	if (is_name(name, utf8_names)) {
		cs->mode = CS_UTF8;
	} else if (is_name(name, latin1_names)) {
		cs->mode = CS_TABLE;
		cs->may_be_utf8 = true;
		for (unsigned b = 0x80; b < 0x100; b++)
			cs->tlen[b - 0x80] =
				(unsigned char)cp1252_put(cs->table[b - 0x80], (unsigned char)b);
	} else {
		iconv_t cd = iconv_open("UTF-8", name);
		if (cd == (iconv_t)-1) {
			*bad = true;
			cs->mode = CS_UTF8;
		} else if (table_from_iconv(cs, cd)) {
			iconv_close(cd);
			cs->mode = CS_TABLE;
			cs->may_be_utf8 = true;
		} else {
			cs->cd = cd;
			cs->mode = CS_ICONV;
		}
	}
	*out = cs;
	return rc;
}

void
parse__charset_close(struct charset *cs)
{
	if (!cs)
		return;
	if (cs->cd != (iconv_t)-1)
		iconv_close(cs->cd);
	parse__sbuf_free(&cs->tmp);
	free(cs);
}

char *
parse__text_demoronize(const char *s, size_t len, int *err)
{
	const unsigned char *u = (const unsigned char *)s;
	bool c1 = false, latin_only = true;
	char *r = NULL;

	*err = 0;
	/* Most text has no C1 control: find the first one with memchr. */
	for (const unsigned char *q = u, *end = u + len;
	     (q = memchr(q, 0xC2, (size_t)(end - q))) != NULL; q++) {
		if (q + 1 < end && q[1] >= 0x80 && q[1] <= 0x9F) {
			c1 = true;
			break;
		}
	}
	if (!c1)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (u[i] >= 0xC4 && u[i] < 0xF8)
			latin_only = false; /* a code point above U+00FF */
	}
	r = malloc(len * 3 + 1);
	if (!r) {
		*err = -ENOMEM;
		return NULL;
	}
	if (latin_only) {
		/* UTF-8 read as ISO-8859-1 and encoded again: undo it if the
		 * bytes make valid UTF-8. */
		size_t j = 0;
		for (size_t i = 0; i < len; i++) {
			if (u[i] < 0x80)
				r[j++] = (char)u[i];
			else {
				r[j++] = (char)(((u[i] & 0x03) << 6) | (u[i + 1] & 0x3F));
				i++;
			}
		}
		bool ok = true;
		for (size_t i = 0; i < j;) {
			int l = utf8_seq((unsigned char *)r + i, j - i);
			if (l <= 0) {
				ok = false;
				break;
			}
			i += (size_t)l;
		}
		if (ok) {
			r[j] = '\0';
			return r;
		}
	}
	size_t j = 0;
	for (size_t i = 0; i < len; i++) {
		if (u[i] == 0xC2 && i + 1 < len && u[i + 1] >= 0x80 && u[i + 1] <= 0x9F) {
			j += cp1252_put(r + j, u[i + 1]);
			i++;
		} else {
			r[j++] = (char)u[i];
		}
	}
	r[j] = '\0';
	return r;
}
