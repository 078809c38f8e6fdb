/*
 * The repair pass between the charset decoder and libxml2 (see parse.c):
 * a small lexer that keeps its own stack of open tag names and hands
 * libxml2 balanced tags only, escapes bare "&" and "<", rewrites HTML
 * entities in attribute values as character references, and drops
 * comments (and processing instructions inside elements). Every repair
 * marks the feed malformed.
 */
#include "parse_xml.h"
#include "norm.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>

static int
lx_emit(struct parse *p, const char *s, size_t n)
{
	return parse__sbuf_add(&p->lexout, s, n);
}

static bool
name_start(unsigned char c)
{
	return isalpha(c) || c == '_' || c == ':' || c >= 0x80;
}

static bool
name_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == ':' || c == '-' || c == '.' || c >= 0x80;
}

/* Is hold (starting "&") still a possible reference after adding c?
 * 1 = complete, 0 = go on, -1 = not a reference. */
static int
amp_step(const char *h, size_t n, unsigned char c)
{
	/* h[0] == '&', n >= 1; c is the next char. */
	if (n == 1)
		return c == '#' || name_start(c) ? 0 : -1;
	if (h[1] == '#') {
		if (n == 2)
			return c == 'x' || c == 'X' || isdigit(c) ? 0 : -1;
		bool hex = h[2] == 'x' || h[2] == 'X';
		if (c == ';')
			return n > (size_t)(hex ? 3 : 2) ? 1 : -1;
		return (hex ? isxdigit(c) : isdigit(c)) ? 0 : -1;
	}
	if (c == ';')
		return 1;
	return name_char(c) ? 0 : -1;
}

/* A tag name cut at LX_NAME bytes must not end inside a character. */
static void
lx_name_fix(struct parse *p)
{
	while (p->lx_namelen > 0 && !parse__utf8_valid(p->lx_name, p->lx_namelen))
		p->lx_namelen--;
}

static void
lx_push(struct parse *p)
{
	lx_name_fix(p);
	if (p->lx_depth_open >= FEEDD_MAX_DEPTH) {
		/* libxml2 stops at this depth anyway. */
		p->lx_over++;
		return;
	}
	p->lx_off[p->lx_depth_open++] = p->lx_names.len;
	if (parse__sbuf_add(&p->lx_names, p->lx_name, p->lx_namelen) < 0 ||
		parse__sbuf_addc(&p->lx_names, '\0') < 0)
		parse__oom(p);
}

static const char *
lx_name_at(struct parse *p, int i)
{
	return p->lx_names.s + p->lx_off[i];
}

/* Write the end tag of the innermost open element and pop it. */
static int
lx_close_top(struct parse *p)
{
	const char *nm = lx_name_at(p, --p->lx_depth_open);
	int rc = lx_emit(p, "</", 2);

	if (rc == 0)
		rc = lx_emit(p, nm, strlen(nm));
	if (rc == 0)
		rc = lx_emit(p, ">", 1);
	return rc;
}

/*
 * An end tag ("</" lx_name ">") is complete. Close the elements left open
 * inside the one it names, then it; an end tag that names no open element
 * is dropped. libxml2 then sees balanced tags only.
 */
static int
lx_end_tag(struct parse *p)
{
	int rc = 0, k;

	lx_name_fix(p);
	p->lx_name[p->lx_namelen] = '\0';
	if (p->lx_over > 0) {
		p->lx_over--;
		rc = lx_emit(p, "</", 2);
		if (rc == 0)
			rc = lx_emit(p, p->lx_name, p->lx_namelen);
		if (rc == 0)
			rc = lx_emit(p, ">", 1);
		return rc;
	}
	for (k = p->lx_depth_open - 1; k >= 0; k--)
		if (strcmp(lx_name_at(p, k), p->lx_name) == 0)
			break;
	if (k < 0 || p->lx_namelen == 0) {
		parse__mark_malformed(p, "an end tag without a start tag");
		return 0;
	}
	if (k < p->lx_depth_open - 1)
		parse__mark_malformed(p, "an element is not closed");
	while (p->lx_depth_open > k) {
		rc = lx_close_top(p);
		if (rc < 0)
			break;
		p->lx_names.len = p->lx_off[p->lx_depth_open];
	}
	return rc;
}

/* A complete reference in lx_hold ("&...;"): emit it, repaired. */
static int
amp_done(struct parse *p)
{
	char *h = p->lx_hold;
	size_t n = p->lx_nhold;

	if (h[1] == '#' && h[2] == 'X') {
		/* HTML allows &#X41;, XML only &#x41;. */
		h[2] = 'x';
		parse__mark_malformed(p, "a character reference with an upper-case X");
	} else if (h[1] != '#' && p->lx_ret == LX_TAG) {
		/* In attribute values libxml2 copies only the first byte of
		 * an entity we answer, so HTML entities become character
		 * references here. */
		char name[48];
		memcpy(name, h + 1, n - 2);
		name[n - 2] = '\0';
		if (strcmp(name, "amp") && strcmp(name, "lt") && strcmp(name, "gt") &&
			strcmp(name, "quot") && strcmp(name, "apos")) {
			const htmlEntityDesc *d = htmlEntityLookup((const xmlChar *)name);
			if (d) {
				char ref[24];
				int len = snprintf(ref, sizeof(ref), "&#%u;", d->value);
				if (!p->ext_subset)
					parse__mark_malformed(p, "an HTML entity in XML without a DTD");
				return lx_emit(p, ref, (size_t)len);
			}
		}
	}
	return lx_emit(p, h, n);
}

int
parse__lex(struct parse *p, const char *in, size_t n)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, run = 0;
	int rc = 0;

#define FLUSH()                                                                \
	do {                                                                   \
		if (i > run) {                                                 \
			rc = lx_emit(p, in + run, i - run);                    \
			if (rc < 0)                                            \
				goto out;                                      \
		}                                                              \
	} while (0)

	while (i < n) {
		unsigned char c = s[i];
		switch (p->lx) {
		case LX_TEXT:
			/* Eight bytes at a time while none is '<' or '&'. */
			while (i + 8 <= n) {
				uint64_t w, a, b;
				memcpy(&w, s + i, 8);
				a = w ^ 0x3C3C3C3C3C3C3C3Cull; /* '<' */
				b = w ^ 0x2626262626262626ull; /* '&' */
				if (((a - 0x0101010101010101ull) & ~a & 0x8080808080808080ull) |
				    ((b - 0x0101010101010101ull) & ~b & 0x8080808080808080ull))
					break;
				i += 8;
			}
			while (i < n && s[i] != '<' && s[i] != '&')
				i++;
			if (i == n)
				break;
			if (s[i] == '&') {
				/* A complete reference in text goes through as it
				 * is (amp_done() changes only "&#X" and references
				 * in attribute values): keep it in the run rather
				 * than hold it byte by byte. One cut by the end of
				 * the chunk, or too long to hold, takes the slow
				 * way below. */
				size_t k = 1;
				int r = 0;
				while (i + k < n && k < sizeof(p->lx_hold) - 1 &&
				       (r = amp_step(in + i, k, s[i + k])) == 0)
					k++;
				if (r == 1 && i + k < n &&
				    !(s[i + 1] == '#' && s[i + 2] == 'X')) {
					i += k + 1;
					continue;
				}
			}
			FLUSH();
			p->lx_hold[0] = (char)s[i];
			p->lx_nhold = 1;
			if (s[i] == '<') {
				p->lx = LX_LT;
			} else {
				p->lx = LX_AMP;
				p->lx_ret = LX_TEXT;
			}
			run = ++i;
			break;
		case LX_LT:
			if (c == '!') {
				p->lx_hold[p->lx_nhold++] = '!';
				p->lx = LX_BANG;
				run = ++i;
			} else if (c == '?') {
				/* Inside an element a processing instruction
				 * carries nothing for us; libxml2 would end the
				 * text there when it is malformed ("<? x ?>"). In
				 * the prolog it goes through (the declaration). */
				p->lx = LX_PI;
				p->lx_count = 0;
				p->lx_pi_drop = p->lx_depth_open > 0;
				p->lx_in_name = true;
				p->lx_namelen = 0;
				if (p->lx_pi_drop) {
					run = ++i;
				} else {
					rc = lx_emit(p, "<", 1);
					run = i++;
				}
			} else if (c == '/') {
				p->lx = LX_ETAG;
				p->lx_namelen = 0;
				p->lx_name_done = false;
				run = ++i;
			} else if (name_start(c)) {
				/* The '<' goes out with the tag: from the input
				 * when it is the byte before (this chunk's). */
				if (i == 0)
					rc = lx_emit(p, "<", 1);
				p->lx = LX_TAG;
				p->lx_quote = 0;
				p->lx_last = 0;
				p->lx_in_name = true;
				p->lx_namelen = 0;
				run = i == 0 ? 0 : i - 1;
			} else {
				/* A bare '<' in text. */
				rc = lx_emit(p, "&lt;", 4);
				parse__mark_malformed(p, "unescaped '<' in text");
				p->lx = LX_TEXT;
				run = i;
			}
			if (rc < 0)
				goto out;
			break;
		case LX_BANG: {
			static const char cdata[] = "<![CDATA[", comment[] = "<!--";
			p->lx_hold[p->lx_nhold++] = (char)c;
			i++;
			run = i;
			size_t h = p->lx_nhold;
			if (h == 4 && memcmp(p->lx_hold, comment, 4) == 0) {
				/* Comments are dropped here, not by libxml2:
				 * see LX_COMMENT. */
				p->lx = LX_COMMENT;
				p->lx_count = 0;
				p->lx_cpos = 0;
				p->lx_cbang = false;
				p->lx_cbad = false;
				break;
			} else if (h == 9 && memcmp(p->lx_hold, cdata, 9) == 0) {
				p->lx = LX_CDATA;
				p->lx_count = 0;
			} else if ((h <= 4 && memcmp(p->lx_hold, comment, h) == 0) ||
				   memcmp(p->lx_hold, cdata, h) == 0) {
				break;
			} else {
				p->lx = LX_DECL;
				p->lx_quote = 0;
				p->lx_depth = 0;
				/* The held chars are part of the declaration. */
				for (size_t k = 2; k < h; k++) {
					char d = p->lx_hold[k];
					if (d == '[')
						p->lx_depth++;
				}
			}
			rc = lx_emit(p, p->lx_hold, h);
			if (rc < 0)
				goto out;
			break;
		}
		case LX_COMMENT:
			/*
			 * A comment never reaches libxml2, so text around it
			 * stays one text ("sa<!-- x -->fe" is "safe"). Given a
			 * comment XML does not allow (a "--" inside, "--->",
			 * "<!-->"), libxml2's recovery would end the text at
			 * the comment, or read the rest of the document as
			 * one: the comment ends where a browser ends it
			 * ("-->", "--!>", or "<!-->" and "<!--->" as empty
			 * comments), and the feed is marked malformed.
			 */
			while (i < n) {
				unsigned char d = s[i++];
				bool end = false;
				if (d == '>') {
					if (p->lx_count >= 2) {
						end = true;
					} else if (p->lx_cbang ||
						   p->lx_cpos == p->lx_count) {
						/* "--!>", "<!-->", "<!--->" */
						end = true;
						p->lx_cbad = true;
					}
				}
				if (end) {
					if (p->lx_cbad)
						parse__mark_malformed(p, "a comment XML does not "
							"allow ('--' inside, or '-' at its end)");
					p->lx = LX_TEXT;
					break;
				}
				if (p->lx_count >= 2)
					p->lx_cbad = true; /* "--" not before '>' */
				p->lx_cbang = d == '!' && p->lx_count >= 2;
				p->lx_count = d == '-' ? p->lx_count + 1 : 0;
				if (p->lx_cpos < 8)
					p->lx_cpos++;
			}
			run = i;
			break;
		case LX_CDATA:
			while (i < n) {
				/* Up to the next ']', nothing can end the section. */
				if (p->lx_count == 0) {
					const void *b = memchr(s + i, ']', n - i);
					if (!b) {
						i = n;
						break;
					}
					i = (size_t)((const unsigned char *)b - s);
				}
				unsigned char d = s[i++];
				if (d == '>' && p->lx_count >= 2) {
					p->lx = LX_TEXT;
					break;
				}
				p->lx_count = d == ']' ? p->lx_count + 1 : 0;
			}
			break;
		case LX_PI:
			while (i < n) {
				unsigned char d = s[i++];
				if (d == '>' && p->lx_count) {
					p->lx = LX_TEXT;
					break;
				}
				p->lx_count = d == '?';
				if (p->lx_in_name) {
					if (p->lx_namelen < LX_NAME &&
						(p->lx_namelen ? name_char(d) : name_start(d)))
						p->lx_name[p->lx_namelen++] = (char)d;
					else
						p->lx_in_name = false;
				}
			}
			if (p->lx_pi_drop) {
				run = i;
				/* What libxml2 would have reported. */
				if (p->lx == LX_TEXT && (p->lx_namelen == 0 ||
					(p->lx_namelen == 3 &&
					 strncasecmp(p->lx_name, "xml", 3) == 0)))
					parse__mark_malformed(p, p->lx_namelen ?
						"an XML declaration inside the document" :
						"a processing instruction without a target");
			}
			break;
		case LX_DECL:
			while (i < n) {
				unsigned char d = s[i++];
				/* Comments inside the internal subset may hold
				 * quotes and brackets that mean nothing. */
				p->lx_tail = (p->lx_tail << 8) | d;
				if (p->lx_dcomment) {
					if ((p->lx_tail & 0xFFFFFF) == 0x2D2D3E) /* --> */
						p->lx_dcomment = false;
					continue;
				}
				if (!p->lx_quote && p->lx_tail == 0x3C212D2D) { /* <!-- */
					p->lx_dcomment = true;
					continue;
				}
				if (p->lx_quote) {
					if (d == (unsigned char)p->lx_quote)
						p->lx_quote = 0;
				} else if (d == '"' || d == '\'') {
					p->lx_quote = (char)d;
				} else if (d == '[') {
					p->lx_depth++;
				} else if (d == ']') {
					p->lx_depth--;
				} else if (d == '>' && p->lx_depth <= 0) {
					p->lx = LX_TEXT;
					break;
				}
			}
			break;
		case LX_TAG:
			while (i < n) {
				unsigned char d = s[i];
				if (p->lx_quote && !p->lx_in_name &&
				    d != (unsigned char)p->lx_quote && d != '&' && d != '<') {
					/* Inside a quoted value only its quote, '&'
					 * and '<' matter: skip to the first of them,
					 * keeping lx_last what the byte loop leaves. */
					size_t j = i + 1;
					while (j < n && s[j] != (unsigned char)p->lx_quote &&
					       s[j] != '&' && s[j] != '<')
						j++;
					for (size_t k = j; k-- > i;) {
						if (!isspace(s[k])) {
							p->lx_last = (char)s[k];
							break;
						}
					}
					i = j;
					continue;
				}
				if (p->lx_quote) {
					if (d == (unsigned char)p->lx_quote)
						p->lx_quote = 0;
					else if (d == '&' || d == '<')
						break;
				} else if (d == '"' || d == '\'') {
					p->lx_quote = (char)d;
				} else if (d == '>') {
					i++;
					p->lx = LX_TEXT;
					if (p->lx_last != '/')
						lx_push(p);
					break;
				}
				if (p->lx_in_name) {
					if (name_char(d) && p->lx_namelen < LX_NAME)
						p->lx_name[p->lx_namelen++] = (char)d;
					else if (!name_char(d))
						p->lx_in_name = false;
				}
				if (!isspace(d))
					p->lx_last = (char)d;
				i++;
			}
			if (p->lx == LX_TAG && i < n) {
				FLUSH();
				if (s[i] == '<') {
					rc = lx_emit(p, "&lt;", 4);
					if (rc < 0)
						goto out;
					parse__mark_malformed(p, "unescaped '<' in an attribute value");
					run = ++i;
				} else {
					p->lx_hold[0] = '&';
					p->lx_nhold = 1;
					p->lx = LX_AMP;
					p->lx_ret = LX_TAG;
					run = ++i;
				}
			}
			break;
		case LX_ETAG:
			while (i < n) {
				unsigned char d = s[i++];
				if (d == '>') {
					p->lx = LX_TEXT;
					break;
				}
				if (!p->lx_name_done && p->lx_namelen < LX_NAME &&
					(p->lx_namelen ? name_char(d) : name_start(d)))
					p->lx_name[p->lx_namelen++] = (char)d;
				else if (p->lx_namelen > 0 || !isspace(d))
					p->lx_name_done = true;
			}
			run = i;
			if (p->lx == LX_TEXT) {
				rc = lx_end_tag(p);
				if (rc < 0)
					goto out;
			}
			break;
		case LX_AMP: {
			int r = p->lx_nhold >= sizeof(p->lx_hold) - 1
				? -1
				: amp_step(p->lx_hold, p->lx_nhold, c);
			if (r >= 0) {
				p->lx_hold[p->lx_nhold++] = (char)c;
				run = ++i;
				if (r == 1) {
					rc = amp_done(p);
					if (rc < 0)
						goto out;
					p->lx = p->lx_ret;
				}
				break;
			}
			/* A bare '&': escape it, then read c again. */
			parse__mark_malformed(p, "unescaped '&'");
			rc = lx_emit(p, "&amp;", 5);
			if (rc == 0)
				rc = lx_emit(p, p->lx_hold + 1, p->lx_nhold - 1);
			if (rc < 0)
				goto out;
			p->lx = p->lx_ret;
			run = i;
			break;
		}
		}
	}
	FLUSH();
#undef FLUSH
out:
	return rc;
}

int
parse__lex_flush(struct parse *p)
{
	int rc = 0;
	if (p->lx == LX_AMP) {
		rc = lx_emit(p, "&amp;", 5);
		if (rc == 0)
			rc = lx_emit(p, p->lx_hold + 1, p->lx_nhold - 1);
	} else if (p->lx == LX_LT) {
		rc = lx_emit(p, "&lt;", 4);
	} else if (p->lx == LX_BANG) {
		rc = lx_emit(p, p->lx_hold, p->lx_nhold);
	} else if (p->lx == LX_TAG) {
		/* Cut off inside a start tag: libxml2 drops it. */
		p->lx_over = 0;
	} else if (p->lx == LX_COMMENT || (p->lx == LX_PI && p->lx_pi_drop)) {
		parse__mark_malformed(p, p->lx == LX_COMMENT ?
			"the document ends inside a comment" :
			"the document ends inside a processing instruction");
	}
	p->lx = LX_TEXT;
	/* A truncated document: close what is open so that libxml2 reports
	 * every element (libxml2 itself reports nothing at a premature end). */
	if (rc == 0 && p->lx_depth_open > 0) {
		parse__mark_malformed(p, "the document ends before its root element closes");
		while (rc == 0 && p->lx_depth_open > 0)
			rc = lx_close_top(p);
	}
	return rc;
}
