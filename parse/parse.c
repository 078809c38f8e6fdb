/*
 * The parse/ core: bytes in, chunk by chunk -> charset decoder (charset.c)
 * -> a small lexical repair pass -> libxml2's push parser with SAX2
 * callbacks -> a stack of open elements that maps RSS 0.9x/1.0/2.0 and
 * Atom 0.3/1.0 onto one feed and a stream of entries. JSON Feed is
 * buffered and handed to jansson (jsonfeed.c).
 *
 * Malformed documents. libxml2's recover mode keeps going after errors,
 * but its element stack does not match the document after a mismatched
 * end tag: in "<description>a <b>b</description></item><item>", the
 * </description> closes the <b>, </item> closes the description, and every
 * later item nests inside the first. We therefore keep our own stack and
 * close elements by the name the end tag really had (libxml2 passes it in
 * the mismatch error, which comes just before the end callback); an end
 * tag that matches nothing open is ignored, and an <item>/<entry> that
 * starts while another is open closes it first. Because stray end tags
 * make libxml2 believe the root closed early (after which it stops with
 * "extra content"), the repair pass opens a few wrapper elements around
 * the root that absorb them. The repair pass also escapes bare "&" and "<"
 * in text and attribute values (unescaped ampersands are the most common
 * error in real feeds), and drops junk before the first tag.
 *
 * Entities. The parser never substitutes entities for libxml2
 * (no XML_PARSE_NOENT) and never loads a DTD. Entities declared in the
 * internal subset are reported by libxml2 under its amplification limits
 * (XML_PARSE_HUGE stays off, so "billion laughs" stops early and cheaply).
 * HTML named entities that XML lacks (&nbsp; &eacute; ...) are answered
 * from libxml2's HTML entity table through the SAX getEntity hook.
 */
#include "parse.h"
#include "norm.h"
#include "parse_int.h"
#include "parse_xml.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/SAX2.h>
#include <libxml/entities.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>


/* ---------------------------------------------------------------- */

static void
set_err(struct parse *p, const char *msg)
{
	if (p->err_set)
		return;
	snprintf(p->err, sizeof(p->err), "%s", msg);
	/* Messages quote the document and may have been cut mid-character:
	 * drop an incomplete or invalid tail so the text stays UTF-8. */
	size_t n = strlen(p->err);
	while (n > 0 && !parse__utf8_valid(p->err, n))
		p->err[--n] = '\0';
	p->err_set = true;
}

static void
not_a_feed(struct parse *p, const char *msg)
{
	p->err_set = false;
	set_err(p, msg);
	p->notfeed = true;
}

void
parse__mark_malformed(struct parse *p, const char *why)
{
	if (!p->feed.malformed)
		set_err(p, why);
	p->feed.malformed = true;
}

static void
stop(struct parse *p)
{
	if (p->ctxt)
		xmlStopParser(p->ctxt);
}

/* Would a value of rank prio replace what s holds? */
static bool
slot_wins(const struct slot *s, int prio, bool replace_tie)
{
	return !s->v || prio > s->prio || (prio == s->prio && replace_tie);
}

/* Set v (and its text rendering, may be NULL) when prio wins; takes
 * ownership of both. */
static void
slot_set2(struct slot *s, char *v, char *text, int prio, bool replace_tie)
{
	if (!v || !*v || !slot_wins(s, prio, replace_tie)) {
		free(v);
		free(text);
		return;
	}
	free(s->v);
	free(s->text);
	s->v = v;
	s->text = text;
	s->prio = prio;
}

static void
slot_set(struct slot *s, char *v, int prio, bool replace_tie)
{
	slot_set2(s, v, NULL, prio, replace_tie);
}

static void
feed_sync(struct parse *p)
{
	struct parse_feed *f = &p->feed;
	f->title = p->f_title.v;
	f->link = p->f_link.v;
	f->id = p->f_id.v;
	f->subtitle = p->f_subtitle.v;
	f->language = p->f_language.v;
	f->updated = p->f_updated.v;
	f->published = p->f_published.v;
	f->author = p->f_author.v;
	f->author_email = p->f_author_email.v;
	f->image = p->f_image.v;
	f->generator = p->f_generator.v;
	f->rights = p->f_rights.v;
	if (p->sy_period > 0)
		f->update_period_s = p->sy_period / (p->sy_freq > 0 ? p->sy_freq : 1);
}

static void
entry_clear(struct entry_tmp *e)
{
	struct slot *s[] = { &e->id, &e->link, &e->title, &e->author,
		&e->author_email, &e->published, &e->updated, &e->summary,
		&e->content, &e->comments };
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		free(s[i]->v);
		free(s[i]->text);
	}
	for (size_t i = 0; i < e->ncats; i++)
		free(e->cats[i]);
	free(e->cats);
	for (size_t i = 0; i < e->nencs; i++) {
		free(e->encs[i].url);
		free(e->encs[i].type);
	}
	free(e->encs);
	free(e->guid);
	memset(e, 0, sizeof(*e));
}

void
parse__oom(struct parse *p)
{
	p->oom = -ENOMEM;
	stop(p);
}

static char *
xstrndup(struct parse *p, const char *s, size_t n)
{
	char *r = malloc(n + 1);
	if (!r) {
		parse__oom(p);
		return NULL;
	}
	memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

static char *
trim_dup(struct parse *p, const char *s, size_t n)
{
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(p, s, n);
}

/* Text that needs C1 repair gets it; takes ownership of s. */
static char *
demoronize(struct parse *p, char *s)
{
	int err = 0;
	if (!s)
		return NULL;
	char *r = parse__text_demoronize(s, strlen(s), &err);
	if (err < 0)
		parse__oom(p);
	if (!r)
		return s;
	free(s);
	return r;
}

/* A URL from the feed, resolved against base; NULL when unsafe. */
static char *
url_from(struct parse *p, const char *base, const char *s, size_t n)
{
	char *t = trim_dup(p, s, n);
	char *r;

	if (!t || !*t) {
		free(t);
		return NULL;
	}
	errno = 0;
	r = parse__url_resolve(base, t);
	if (!r && errno == ENOMEM)
		parse__oom(p);
	free(t);
	return r;
}

static bool
has_scheme(const char *s)
{
	if (!isalpha((unsigned char)*s))
		return false;
	for (s++; *s; s++) {
		if (*s == ':')
			return true;
		if (!isalnum((unsigned char)*s) && *s != '+' && *s != '-' && *s != '.')
			return false;
	}
	return false;
}

/* feedparser's test: a closing tag or an entity reference. */
static bool
looks_like_html(const char *s)
{
	for (const char *c = s; *c; c++) {
		if (c[0] == '<' && c[1] == '/' && isalpha((unsigned char)c[2])) {
			const char *e = c + 2;
			while (isalnum((unsigned char)*e))
				e++;
			if (*e == '>')
				return true;
		} else if (c[0] == '&') {
			const char *e = c + 1;
			if (*e == '#')
				e++;
			const char *n = e;
			while (isalnum((unsigned char)*e))
				e++;
			if (e > n && *e == ';')
				return true;
		}
	}
	return false;
}

static const char *
frame_base(struct parse *p)
{
	return p->depth > 0 ? p->stack[p->depth - 1].base : p->o.base_url;
}

/* ---------------------------------------------------------------- */
/* Field values. */

/* Plain text from a captured buffer, by type. */
static char *
plain_text(struct parse *p, const char *s, size_t n, enum ttype t)
{
	char *r = NULL;
	if (t == T_TEXT || (t == T_GUESS && !looks_like_html(s))) {
		r = trim_dup(p, s, n);
	} else {
		r = parse__html_strip(s, n);
		if (!r)
			parse__oom(p);
	}
	return demoronize(p, r);
}

/*
 * Sanitized HTML from a captured buffer, by type, and its plain-text
 * rendering (*text), both from one HTML parse. Returns NULL (and no text)
 * for whitespace-only HTML or on ENOMEM.
 */
static char *
html_text(struct parse *p, const char *s, size_t n, enum ttype t,
	const char *base, char **text)
{
	char *r = NULL, *tx = NULL, *esc = NULL;
	int rc;

	*text = NULL;
	if (t == T_TEXT) {
		char *t2 = trim_dup(p, s, n);
		if (!t2)
			return NULL;
		esc = parse__html_escape(t2, strlen(t2));
		free(t2);
		if (!esc) {
			parse__oom(p);
			return NULL;
		}
		s = esc;
		n = strlen(esc);
	}
	rc = parse__html_render(s, n, base, &r, &tx);
	free(esc);
	if (rc) {
		parse__oom(p);
		return NULL;
	}
	/* Whitespace-only HTML is no value. */
	const char *c = r;
	while (*c && isspace((unsigned char)*c))
		c++;
	if (!*c) {
		free(r);
		free(tx);
		return NULL;
	}
	*text = demoronize(p, tx);
	return demoronize(p, r);
}

/* Set a summary or content slot from a captured buffer, with its text. */
static void
body_set(struct parse *p, struct slot *sl, const char *s, size_t n,
	enum ttype t, const char *base, int prio, bool replace_tie)
{
	char *tx = NULL;

	/* A value that cannot win is not worth an HTML parse. */
	if (!slot_wins(sl, prio, replace_tie))
		return;
	char *v = html_text(p, s, n, t, base, &tx);
	slot_set2(sl, v, tx, prio, replace_tie);
}

static char *
date_text(struct parse *p, const char *s, size_t n)
{
	char out[21];
	char *t = trim_dup(p, s, n);
	char *r = NULL;
	if (!t)
		return NULL;
	if (parse__date(t, out) == 0)
		r = xstrndup(p, out, strlen(out));
	free(t);
	return r;
}

static bool
parse_int64(const char *s, int64_t *out)
{
	char *end;
	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	if (*end || errno)
		return false;
	*out = v;
	return true;
}

static void
add_category(struct parse *p, char *c)
{
	struct entry_tmp *e = &p->e;
	if (!c)
		return;
	if (!*c || e->ncats >= 256) {
		free(c);
		return;
	}
	if (e->ncats == e->capcats) {
		size_t cap = e->capcats ? e->capcats * 2 : 4;
		char **n = realloc(e->cats, cap * sizeof(*n));
		if (!n) {
			free(c);
			parse__oom(p);
			return;
		}
		e->cats = n;
		e->capcats = cap;
	}
	e->cats[e->ncats++] = c;
	e->any = true;
}

static void
add_enclosure(struct parse *p, char *url, const char *type, const char *length)
{
	struct entry_tmp *e = &p->e;
	int64_t len = -1;
	if (!url)
		return;
	if (e->nencs >= 64) {
		free(url);
		return;
	}
	for (size_t i = 0; i < e->nencs; i++) {
		if (strcmp(e->encs[i].url, url) == 0) {
			free(url);
			return;
		}
	}
	if (e->nencs == e->capencs) {
		size_t cap = e->capencs ? e->capencs * 2 : 2;
		struct encl *n = realloc(e->encs, cap * sizeof(*n));
		if (!n) {
			free(url);
			parse__oom(p);
			return;
		}
		e->encs = n;
		e->capencs = cap;
	}
	if (length)
		parse_int64(length, &len);
	struct encl *x = &e->encs[e->nencs++];
	x->url = url;
	x->type = NULL;
	if (type && *type) {
		x->type = trim_dup(p, type, strlen(type));
	}
	x->length = len;
	e->any = true;
}

static void
set_author(struct parse *p, bool entry, const char *s, int prio)
{
	char *name = NULL, *email = NULL;
	if (parse__author_split(s, &name, &email) < 0) {
		parse__oom(p);
		return;
	}
	if (name) {
		char *plain = looks_like_html(name) ? parse__html_strip(name, strlen(name))
						    : NULL;
		if (plain) {
			free(name);
			name = plain;
		}
	}
	name = demoronize(p, name);
	if (entry) {
		slot_set(&p->e.author, name, prio, false);
		slot_set(&p->e.author_email, email, prio, false);
		p->e.any = true;
	} else {
		slot_set(&p->f_author, name, prio, false);
		slot_set(&p->f_author_email, email, prio, false);
	}
}

static int
day_index(const char *s)
{
	static const char *const days[] = { "sunday", "monday", "tuesday",
		"wednesday", "thursday", "friday", "saturday" };
	for (int i = 0; i < 7; i++)
		if (strncasecmp(s, days[i], 3) == 0)
			return i;
	return -1;
}

static int64_t
period_seconds(const char *s)
{
	static const struct {
		const char *name;
		int64_t s;
	} t[] = { { "hourly", 3600 }, { "daily", 86400 }, { "weekly", 604800 },
		{ "monthly", 2592000 }, { "yearly", 31536000 } };
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcasecmp(s, t[i].name) == 0)
			return t[i].s;
	return 0;
}

/* The capture ended: turn the text into its field. */
static void
capture_finish(struct parse *p, const char *base)
{
	struct sbuf *b = &p->cap;
	enum ttype t = p->cap_type;
	int prio = p->cap_prio;
	char *s = b->s ? b->s : "";
	size_t n = b->len;
	char *dec = NULL;
	char *v = NULL;

	if (t == T_B64_TEXT || t == T_B64_HTML) {
		size_t dl = 0;
		dec = parse__base64_decode(s, n, &dl);
		if (dec && parse__utf8_valid(dec, dl)) {
			s = dec;
			n = dl;
		}
		t = t == T_B64_HTML ? T_HTML : T_TEXT;
	}
	/* Elements inside a text field make it HTML. */
	if (p->cap_children && (t == T_TEXT || t == T_GUESS))
		t = T_HTML;

	switch (p->cap_field) {
	case F_NONE:
		break;
	case F_TITLE:
		slot_set(&p->f_title, plain_text(p, s, n, t), prio, false);
		break;
	case F_SUBTITLE:
		slot_set(&p->f_subtitle, plain_text(p, s, n, t), prio, false);
		break;
	case F_RIGHTS:
		slot_set(&p->f_rights, plain_text(p, s, n, t), prio, false);
		break;
	case F_GENERATOR:
		slot_set(&p->f_generator, plain_text(p, s, n, t), prio, false);
		break;
	case F_LANGUAGE:
		slot_set(&p->f_language, trim_dup(p, s, n), prio, false);
		break;
	case F_LINK:
		slot_set(&p->f_link, url_from(p, base, s, n), prio, false);
		break;
	case F_IMAGE:
		slot_set(&p->f_image, url_from(p, base, s, n), prio, false);
		break;
	case F_ID:
	case E_ID:
	case E_GUID:
		v = trim_dup(p, s, n);
		/* Relative Atom ids resolve like links; RSS guids are opaque. */
		if (v && *v && p->cap_field != E_GUID && !has_scheme(v) && base) {
			char *r = url_from(p, base, v, strlen(v));
			if (r) {
				free(v);
				v = r;
			}
		}
		if (p->cap_field == F_ID) {
			slot_set(&p->f_id, v, prio, false);
		} else {
			if (p->cap_field == E_GUID && v && *v && !p->e.guid &&
				p->e.guid_permalink)
				p->e.guid = xstrndup(p, v, strlen(v));
			slot_set(&p->e.id, v, prio, false);
			p->e.any = true;
		}
		break;
	case F_UPDATED:
		slot_set(&p->f_updated, date_text(p, s, n), prio, true);
		break;
	case F_PUBLISHED:
		slot_set(&p->f_published, date_text(p, s, n), prio, true);
		break;
	case F_AUTHOR:
	case E_AUTHOR:
		v = trim_dup(p, s, n);
		if (v && *v)
			set_author(p, p->cap_field == E_AUTHOR, v, prio);
		free(v);
		v = NULL;
		break;
	case F_AUTHOR_NAME:
		slot_set(&p->f_author, plain_text(p, s, n, t), prio, false);
		break;
	case E_AUTHOR_NAME:
		slot_set(&p->e.author, plain_text(p, s, n, t), prio, false);
		break;
	case F_AUTHOR_EMAIL:
	case E_AUTHOR_EMAIL:
		v = trim_dup(p, s, n);
		if (v && strncasecmp(v, "mailto:", 7) == 0)
			memmove(v, v + 7, strlen(v + 7) + 1);
		slot_set(p->cap_field == F_AUTHOR_EMAIL ? &p->f_author_email
							: &p->e.author_email,
			v, prio, false);
		break;
	case F_TTL:
		v = trim_dup(p, s, n);
		if (v) {
			int64_t x;
			if (parse_int64(v, &x) && x <= 1000000)
				p->feed.ttl_minutes = (int)x;
		}
		free(v);
		break;
	case F_SKIPHOUR:
		v = trim_dup(p, s, n);
		if (v) {
			int64_t x;
			if (parse_int64(v, &x) && x >= 0 && x <= 24)
				p->feed.skip_hours |= 1u << (x % 24);
		}
		free(v);
		break;
	case F_SKIPDAY:
		v = trim_dup(p, s, n);
		if (v) {
			int d = day_index(v);
			if (d >= 0)
				p->feed.skip_days |= (uint8_t)(1u << d);
		}
		free(v);
		break;
	case F_SYPERIOD:
		v = trim_dup(p, s, n);
		if (v)
			p->sy_period = period_seconds(v);
		free(v);
		break;
	case F_SYFREQ:
		v = trim_dup(p, s, n);
		if (v) {
			int64_t x;
			if (parse_int64(v, &x) && x > 0)
				p->sy_freq = x;
		}
		free(v);
		break;
	case E_TITLE:
		slot_set(&p->e.title, plain_text(p, s, n, t), prio, false);
		p->e.any = true;
		break;
	case E_LINK:
		slot_set(&p->e.link, url_from(p, base, s, n), prio, false);
		p->e.any = true;
		break;
	case E_COMMENTS:
		slot_set(&p->e.comments, url_from(p, base, s, n), prio, false);
		break;
	case E_PUBLISHED:
		slot_set(&p->e.published, date_text(p, s, n), prio, true);
		break;
	case E_UPDATED:
		slot_set(&p->e.updated, date_text(p, s, n), prio, true);
		break;
	case E_SUMMARY:
		body_set(p, &p->e.summary, s, n, t, base, prio, false);
		p->e.any = true;
		break;
	case E_CONTENT:
		body_set(p, &p->e.content, s, n, t, base, prio, false);
		p->e.any = true;
		break;
	case E_CATEGORY:
		add_category(p, plain_text(p, s, n, t));
		break;
	case E_ENCLOSURE_TEXT:
		add_enclosure(p, url_from(p, base, s, n), NULL, NULL);
		break;
	}
	free(dec);
	feed_sync(p);
}

/* The entry ended: report it. */
static void
entry_finish(struct parse *p)
{
	struct entry_tmp *e = &p->e;
	struct parse_entry pe;
	struct parse_enclosure encs[64];
	char *text = NULL;
	int rc;

	p->in_entry = false;
	if (!e->any || p->cb_rc || p->oom)
		goto out;
	if (p->feed.nentries >= (p->o.max_entries ? p->o.max_entries : FEEDD_MAX_ENTRIES)) {
		p->feed.truncated = true;
		goto out;
	}
	if (!e->link.v && e->guid && (strncasecmp(e->guid, "http://", 7) == 0 ||
					     strncasecmp(e->guid, "https://", 8) == 0)) {
		e->link.v = e->guid;
		e->guid = NULL;
	}
	/* The text of the content, or of the summary when there is none. */
	struct slot *body = e->content.v ? &e->content : &e->summary;
	text = body->text;
	body->text = NULL;
	memset(&pe, 0, sizeof(pe));
	pe.id = e->id.v;
	pe.link = e->link.v;
	pe.title = e->title.v;
	pe.author = e->author.v;
	pe.author_email = e->author_email.v;
	pe.published = e->published.v;
	pe.updated = e->updated.v;
	pe.summary = e->summary.v;
	pe.content = e->content.v;
	pe.text = text && *text ? text : NULL;
	pe.comments = e->comments.v;
	pe.categories = (const char *const *)e->cats;
	pe.ncategories = e->ncats;
	for (size_t i = 0; i < e->nencs; i++) {
		encs[i].url = e->encs[i].url;
		encs[i].type = e->encs[i].type;
		encs[i].length = e->encs[i].length;
	}
	pe.enclosures = encs;
	pe.nenclosures = e->nencs;
	p->feed.nentries++;
	if (p->o.on_entry) {
		rc = p->o.on_entry(p->o.ud, &pe);
		if (rc) {
			p->cb_rc = rc;
			stop(p);
		}
	}
out:
	free(text);
	entry_clear(e);
}

static void
entry_start(struct parse *p)
{
	entry_clear(&p->e);
	p->e.guid_permalink = true;
	p->e.any = true;
	p->in_entry = true;
}

/* ---------------------------------------------------------------- */
/* The element stack. */

static enum ns
ns_of(const xmlChar *uri)
{
	const char *u = (const char *)uri;
	if (!u || !*u)
		return NS_NONE;
	switch (u[7]) {
	case 'w':
		if (strcmp(u, "http://www.w3.org/2005/Atom") == 0)
			return NS_ATOM10;
		if (strcmp(u, "http://www.w3.org/1999/xhtml") == 0)
			return NS_XHTML;
		if (strcmp(u, "http://www.w3.org/1999/02/22-rdf-syntax-ns#") == 0)
			return NS_RDF;
		if (strcasecmp(u, "http://www.itunes.com/dtds/podcast-1.0.dtd") == 0)
			return NS_ITUNES;
		break;
	case 'p':
		if (strcmp(u, "http://purl.org/dc/elements/1.1/") == 0)
			return NS_DC;
		if (strcmp(u, "http://purl.org/dc/terms/") == 0)
			return NS_DCTERMS;
		if (strcmp(u, "http://purl.org/rss/1.0/modules/content/") == 0)
			return NS_CONTENT;
		if (strcmp(u, "http://purl.org/rss/1.0/") == 0)
			return NS_RSS;
		if (strcmp(u, "http://purl.org/atom/ns#") == 0)
			return NS_ATOM03;
		if (strcmp(u, "http://purl.org/rss/1.0/modules/syndication/") == 0)
			return NS_SY;
		break;
	case 'm':
		if (strcmp(u, "http://my.netscape.com/rdf/simple/0.9/") == 0)
			return NS_RSS;
		break;
	case 's':
		if (strncmp(u, "http://search.yahoo.com/mrss", 28) == 0)
			return NS_MEDIA;
		break;
	case 'b':
		if (strcmp(u, "http://backend.userland.com/rss2") == 0 ||
			strcmp(u, "http://backend.userland.com/rss") == 0 ||
			strcmp(u, "http://blogs.law.harvard.edu/tech/rss") == 0)
			return NS_RSS;
		break;
	default:
		break;
	}
	if (strcasecmp(u, "https://www.itunes.com/dtds/podcast-1.0.dtd") == 0)
		return NS_ITUNES;
	if (strcmp(u, "https://www.w3.org/2005/Atom") == 0)
		return NS_ATOM10;
	return NS_OTHER;
}

/* SAX2 attributes: 5 pointers each (local, prefix, URI, value, end). */
struct attrs {
	const xmlChar **a;
	int n;
};

/* The value of an attribute (any namespace unless uri given), decoded;
 * libxml2 leaves '&' as "&#38;" in values when it does not substitute
 * entities. Returns a malloc'd string or NULL. */
static char *
attr_get(struct parse *p, const struct attrs *at, const char *local,
	const char *uri)
{
	for (int i = 0; i < at->n; i++) {
		const xmlChar **x = at->a + i * 5;
		if (strcmp((const char *)x[0], local) != 0)
			continue;
		if (uri && (!x[2] || strcmp((const char *)x[2], uri) != 0))
			continue;
		if (!uri && x[2] && strcmp((const char *)x[2],
					    (const char *)XML_XML_NAMESPACE) == 0)
			continue;
		const char *v = (const char *)x[3], *e = (const char *)x[4];
		size_t n = (size_t)(e - v);
		char *r = malloc(n + 1);
		size_t j = 0;
		if (!r) {
			parse__oom(p);
			return NULL;
		}
		for (size_t k = 0; k < n; k++) {
			if (v[k] == '&' && n - k >= 5 && memcmp(v + k, "&#38;", 5) == 0) {
				r[j++] = '&';
				k += 4;
			} else {
				r[j++] = v[k];
			}
		}
		r[j] = '\0';
		/* libxml2 copies only the first byte of an entity we answer
		 * inside an attribute value; the repair pass rewrites HTML
		 * entities there, but broken quoting can hide one from it. */
		if (!parse__utf8_valid(r, j)) {
			char *fixed = parse__utf8_fix(r, j);
			free(r);
			r = fixed;
			if (!r)
				parse__oom(p);
		}
		return r;
	}
	return NULL;
}

static int
push_frame(struct parse *p, const xmlChar *local, enum ctx c, char *base,
	bool own)
{
	struct frame *f = &p->stack[p->depth++];
	memset(f, 0, sizeof(*f));
	f->local = local;
	f->ctx = (unsigned char)c;
	f->base = base;
	f->own_base = own;
	return p->depth - 1;
}

static void
cap_add(struct parse *p, const char *s, size_t n)
{
	if (p->cap.len + n > FEEDD_MAX_FIELD) {
		p->feed.truncated = true;
		if (p->cap.len >= FEEDD_MAX_FIELD)
			return;
		n = FEEDD_MAX_FIELD - p->cap.len;
	}
	if (parse__sbuf_add(&p->cap, s, n) < 0)
		parse__oom(p);
}

static void
cap_add_escaped(struct parse *p, const char *s, size_t n, bool attr)
{
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		const char *rep = NULL;
		switch (s[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = attr ? "&quot;" : NULL;
			break;
		default:
			break;
		}
		if (!rep)
			continue;
		cap_add(p, s + run, i - run);
		cap_add(p, rep, strlen(rep));
		run = i + 1;
	}
	cap_add(p, s + run, n - run);
}

static void
pop_frame(struct parse *p)
{
	struct frame *f = &p->stack[p->depth - 1];
	if (f->tagged) {
		cap_add(p, "</", 2);
		if (f->prefix) {
			cap_add(p, f->prefix, strlen(f->prefix));
			cap_add(p, ":", 1);
		}
		cap_add(p, (const char *)f->local, strlen((const char *)f->local));
		cap_add(p, ">", 1);
	}
	if (f->capture) {
		capture_finish(p, f->base);
		parse__sbuf_reset(&p->cap);
		p->cap_depth = -1;
	}
	if (f->entry)
		entry_finish(p);
	if (f->own_base)
		free(f->base);
	p->depth--;
}

static void
pop_to(struct parse *p, int idx)
{
	while (p->depth > idx)
		pop_frame(p);
}

static void
begin_capture(struct parse *p, int idx, enum field fld, enum ttype t, int prio)
{
	p->stack[idx].capture = true;
	p->cap_depth = idx;
	p->cap_field = fld;
	p->cap_type = t;
	p->cap_prio = prio;
	p->cap_children = false;
	parse__sbuf_reset(&p->cap);
}

/* Atom text construct type -> how to read it. */
static enum ttype
atom_type(struct parse *p, const struct attrs *at, bool atom03)
{
	char *type = attr_get(p, at, "type", NULL);
	char *mode = atom03 ? attr_get(p, at, "mode", NULL) : NULL;
	enum ttype t = T_TEXT;
	const char *ty = type ? type : (atom03 ? "text/plain" : "text");

	if (mode && strcasecmp(mode, "base64") == 0) {
		t = strcasecmp(ty, "text/html") == 0 || strcasecmp(ty, "html") == 0
			? T_B64_HTML
			: T_B64_TEXT;
	} else if (mode && strcasecmp(mode, "escaped") == 0) {
		t = strcasecmp(ty, "text/html") == 0 || strcasecmp(ty, "html") == 0
			? T_HTML
			: T_TEXT;
	} else if (strcasecmp(ty, "text") == 0 || strcasecmp(ty, "text/plain") == 0) {
		t = T_TEXT;
	} else if (strcasecmp(ty, "html") == 0 || strcasecmp(ty, "text/html") == 0) {
		t = T_HTML;
	} else if (strcasecmp(ty, "xhtml") == 0) {
		t = atom03 ? T_XHTML_KEEP : T_XHTML;
	} else if (strstr(ty, "xml")) {
		t = T_XHTML_KEEP;
	} else if (strncasecmp(ty, "text/", 5) == 0) {
		t = T_TEXT;
	} else if (atom03) {
		t = T_TEXT;
	} else {
		t = T_B64_TEXT;
	}
	free(type);
	free(mode);
	return t;
}

static bool
is_rssish(enum ns n)
{
	return n == NS_NONE || n == NS_RSS;
}

static bool
is_atom(enum ns n)
{
	return n == NS_ATOM10 || n == NS_ATOM03;
}

/* An Atom <link>: in the feed, in an entry, or an atom:link in RSS. */
static void
atom_link(struct parse *p, int idx, const struct attrs *at, bool entry)
{
	char *rel = attr_get(p, at, "rel", NULL);
	char *href = attr_get(p, at, "href", NULL);
	const char *r = rel && *rel ? rel : "alternate";
	const char *base = p->stack[idx].base;

	if (strcasecmp(r, "alternate") == 0 ||
		strcasecmp(r, "http://www.iana.org/assignments/relation/alternate") == 0) {
		if (href) {
			char *u = url_from(p, base, href, strlen(href));
			if (entry) {
				slot_set(&p->e.link, u, 1, false);
				p->e.any = true;
			} else {
				slot_set(&p->f_link, u, 1, false);
				feed_sync(p);
			}
		} else {
			begin_capture(p, idx, entry ? E_LINK : F_LINK, T_TEXT, 1);
		}
	} else if (entry && strcasecmp(r, "enclosure") == 0) {
		if (href) {
			char *type = attr_get(p, at, "type", NULL);
			char *len = attr_get(p, at, "length", NULL);
			add_enclosure(p, url_from(p, base, href, strlen(href)), type, len);
			free(type);
			free(len);
		}
	}
	free(rel);
	free(href);
}

/* Decide what an element is and push its frame. */
static void
classify(struct parse *p, const xmlChar *xlocal, enum ns ns,
	const struct attrs *at, char *base, bool own_base)
{
	const char *l = (const char *)xlocal;
	enum ctx pc = p->depth ? p->stack[p->depth - 1].ctx : CTX_IGNORE; /* after the root */
	int idx;

	if (pc == CTX_IGNORE) {
		push_frame(p, xlocal, CTX_IGNORE, base, own_base);
		return;
	}
	/* Entries start at any level, except inside an entry's text. */
	if ((is_rssish(ns) && strcmp(l, "item") == 0) ||
		(is_atom(ns) && strcmp(l, "entry") == 0)) {
		if (pc == CTX_FEED || pc == CTX_ENTRY) {
			/* An entry left open (by broken markup) ends here. */
			for (int i = p->depth - 1; i >= 0; i--) {
				if (p->stack[i].entry) {
					pop_to(p, i);
					break;
				}
			}
			/* A borrowed base may have belonged to a closed frame. */
			if (!own_base)
				base = (char *)frame_base(p);
			idx = push_frame(p, xlocal, CTX_ENTRY, base, own_base);
			p->stack[idx].entry = true;
			entry_start(p);
			/* RSS 1.0: the item's rdf:about is its id (a guid wins). */
			char *about = attr_get(p, at, "about",
				"http://www.w3.org/1999/02/22-rdf-syntax-ns#");
			if (about)
				slot_set(&p->e.id, trim_dup(p, about, strlen(about)), 1, false);
			free(about);
			return;
		}
	}
	idx = push_frame(p, xlocal, CTX_IGNORE, base, own_base);
	struct frame *f = &p->stack[idx];

	if (pc == CTX_AUTHOR_F || pc == CTX_AUTHOR_E) {
		bool e = pc == CTX_AUTHOR_E;
		if (strcmp(l, "name") == 0)
			begin_capture(p, idx, e ? E_AUTHOR_NAME : F_AUTHOR_NAME, T_TEXT, 2);
		else if (strcmp(l, "email") == 0)
			begin_capture(p, idx, e ? E_AUTHOR_EMAIL : F_AUTHOR_EMAIL, T_TEXT, 2);
		return;
	}
	if (pc == CTX_IMAGE) {
		if (strcmp(l, "url") == 0)
			begin_capture(p, idx, F_IMAGE, T_TEXT, 2);
		return;
	}
	bool E = pc == CTX_ENTRY;

	switch (ns) {
	case NS_NONE:
	case NS_RSS:
		if (!E) {
			if (strcmp(l, "channel") == 0 || strcmp(l, "skipHours") == 0 ||
				strcmp(l, "skipDays") == 0)
				f->ctx = CTX_FEED;
			else if (strcmp(l, "title") == 0)
				begin_capture(p, idx, F_TITLE, T_GUESS, 2);
			else if (strcmp(l, "link") == 0)
				begin_capture(p, idx, F_LINK, T_TEXT, 2);
			else if (strcmp(l, "description") == 0)
				begin_capture(p, idx, F_SUBTITLE, T_GUESS, 2);
			else if (strcmp(l, "language") == 0)
				begin_capture(p, idx, F_LANGUAGE, T_TEXT, 2);
			else if (strcmp(l, "copyright") == 0)
				begin_capture(p, idx, F_RIGHTS, T_GUESS, 2);
			else if (strcmp(l, "managingEditor") == 0 ||
				strcmp(l, "author") == 0)
				begin_capture(p, idx, F_AUTHOR, T_TEXT, 2);
			else if (strcmp(l, "pubDate") == 0)
				begin_capture(p, idx, F_PUBLISHED, T_TEXT, 2);
			else if (strcmp(l, "lastBuildDate") == 0)
				begin_capture(p, idx, F_UPDATED, T_TEXT, 2);
			else if (strcmp(l, "modified") == 0)
				/* Atom 0.3's name, seen in RSS without a namespace;
				 * feedparser reads it as updated, as dcterms:modified. */
				begin_capture(p, idx, F_UPDATED, T_TEXT, 1);
			else if (strcmp(l, "generator") == 0)
				begin_capture(p, idx, F_GENERATOR, T_GUESS, 2);
			else if (strcmp(l, "ttl") == 0)
				begin_capture(p, idx, F_TTL, T_TEXT, 2);
			else if (strcmp(l, "hour") == 0)
				begin_capture(p, idx, F_SKIPHOUR, T_TEXT, 2);
			else if (strcmp(l, "day") == 0)
				begin_capture(p, idx, F_SKIPDAY, T_TEXT, 2);
			else if (strcmp(l, "image") == 0)
				f->ctx = CTX_IMAGE;
		} else {
			if (strcmp(l, "title") == 0)
				begin_capture(p, idx, E_TITLE, T_GUESS, 2);
			else if (strcmp(l, "link") == 0)
				begin_capture(p, idx, E_LINK, T_TEXT, 2);
			else if (strcmp(l, "description") == 0)
				begin_capture(p, idx, E_SUMMARY, T_GUESS, 2);
			else if (strcmp(l, "guid") == 0) {
				char *pl = attr_get(p, at, "isPermaLink", NULL);
				p->e.guid_permalink = !(pl && strcasecmp(pl, "false") == 0);
				free(pl);
				begin_capture(p, idx, E_GUID, T_TEXT, 2);
			} else if (strcmp(l, "pubDate") == 0)
				begin_capture(p, idx, E_PUBLISHED, T_TEXT, 2);
			else if (strcmp(l, "modified") == 0)
				begin_capture(p, idx, E_UPDATED, T_TEXT, 1);
			else if (strcmp(l, "author") == 0)
				begin_capture(p, idx, E_AUTHOR, T_TEXT, 2);
			else if (strcmp(l, "category") == 0)
				begin_capture(p, idx, E_CATEGORY, T_GUESS, 2);
			else if (strcmp(l, "comments") == 0)
				begin_capture(p, idx, E_COMMENTS, T_TEXT, 2);
			else if (strcmp(l, "enclosure") == 0) {
				char *url = attr_get(p, at, "url", NULL);
				char *type = attr_get(p, at, "type", NULL);
				char *len = attr_get(p, at, "length", NULL);
				if (url)
					add_enclosure(p, url_from(p, base, url, strlen(url)),
						type, len);
				free(url);
				free(type);
				free(len);
			} else if (strcmp(l, "body") == 0 || strcmp(l, "fullitem") == 0)
				begin_capture(p, idx, E_CONTENT, T_HTML, 1);
			else if (strcmp(l, "summary") == 0)
				begin_capture(p, idx, E_SUMMARY, T_GUESS, 1);
		}
		break;
	case NS_ATOM03:
	case NS_ATOM10: {
		bool a03 = ns == NS_ATOM03;
		if (strcmp(l, "title") == 0)
			begin_capture(p, idx, E ? E_TITLE : F_TITLE, atom_type(p, at, a03), 2);
		else if (strcmp(l, "link") == 0)
			atom_link(p, idx, at, E);
		else if (strcmp(l, "id") == 0)
			begin_capture(p, idx, E ? E_ID : F_ID, T_TEXT, 2);
		else if (strcmp(l, "updated") == 0)
			begin_capture(p, idx, E ? E_UPDATED : F_UPDATED, T_TEXT, 2);
		else if (strcmp(l, "modified") == 0)
			begin_capture(p, idx, E ? E_UPDATED : F_UPDATED, T_TEXT, 1);
		else if (strcmp(l, "published") == 0)
			begin_capture(p, idx, E ? E_PUBLISHED : F_PUBLISHED, T_TEXT, 2);
		else if (strcmp(l, "issued") == 0)
			begin_capture(p, idx, E ? E_PUBLISHED : F_PUBLISHED, T_TEXT, 1);
		else if (strcmp(l, "created") == 0)
			begin_capture(p, idx, E ? E_PUBLISHED : F_PUBLISHED, T_TEXT, 0);
		else if (strcmp(l, "author") == 0)
			f->ctx = E ? CTX_AUTHOR_E : CTX_AUTHOR_F;
		else if (E && strcmp(l, "summary") == 0)
			begin_capture(p, idx, E_SUMMARY, atom_type(p, at, a03), 2);
		else if (E && strcmp(l, "content") == 0)
			begin_capture(p, idx, E_CONTENT, atom_type(p, at, a03), 2);
		else if (E && strcmp(l, "category") == 0) {
			char *c = attr_get(p, at, "term", NULL);
			if (!c || !*c) {
				free(c);
				c = attr_get(p, at, "label", NULL);
			}
			if (c)
				add_category(p, trim_dup(p, c, strlen(c)));
			free(c);
		} else if (!E && (strcmp(l, "subtitle") == 0 || strcmp(l, "tagline") == 0))
			begin_capture(p, idx, F_SUBTITLE, atom_type(p, at, a03), 2);
		else if (!E && (strcmp(l, "rights") == 0 || strcmp(l, "copyright") == 0))
			begin_capture(p, idx, F_RIGHTS, atom_type(p, at, a03), 2);
		else if (!E && strcmp(l, "generator") == 0)
			begin_capture(p, idx, F_GENERATOR, T_TEXT, 2);
		else if (!E && strcmp(l, "logo") == 0)
			begin_capture(p, idx, F_IMAGE, T_TEXT, 2);
		else if (!E && strcmp(l, "icon") == 0)
			begin_capture(p, idx, F_IMAGE, T_TEXT, 1);
		break;
	}
	case NS_DC:
		if (strcmp(l, "title") == 0)
			begin_capture(p, idx, E ? E_TITLE : F_TITLE, T_GUESS, 1);
		else if (strcmp(l, "creator") == 0 || strcmp(l, "author") == 0)
			begin_capture(p, idx, E ? E_AUTHOR : F_AUTHOR, T_TEXT, 1);
		else if (strcmp(l, "date") == 0)
			begin_capture(p, idx, E ? E_UPDATED : F_UPDATED, T_TEXT, 1);
		else if (strcmp(l, "description") == 0)
			begin_capture(p, idx, E ? E_SUMMARY : F_SUBTITLE, T_GUESS, 1);
		else if (E && strcmp(l, "subject") == 0)
			begin_capture(p, idx, E_CATEGORY, T_GUESS, 1);
		else if (!E && strcmp(l, "language") == 0)
			begin_capture(p, idx, F_LANGUAGE, T_TEXT, 1);
		else if (!E && strcmp(l, "rights") == 0)
			begin_capture(p, idx, F_RIGHTS, T_GUESS, 1);
		else if (E && strcmp(l, "identifier") == 0)
			begin_capture(p, idx, E_ID, T_TEXT, 0);
		break;
	case NS_DCTERMS:
		if (strcmp(l, "issued") == 0)
			begin_capture(p, idx, E ? E_PUBLISHED : F_PUBLISHED, T_TEXT, 1);
		else if (strcmp(l, "created") == 0)
			begin_capture(p, idx, E ? E_PUBLISHED : F_PUBLISHED, T_TEXT, 0);
		else if (strcmp(l, "modified") == 0)
			begin_capture(p, idx, E ? E_UPDATED : F_UPDATED, T_TEXT, 1);
		break;
	case NS_CONTENT:
		if (E && strcmp(l, "encoded") == 0)
			begin_capture(p, idx, E_CONTENT, T_HTML, 2);
		break;
	case NS_XHTML:
		if (E && strcmp(l, "body") == 0)
			begin_capture(p, idx, E_CONTENT, T_HTML, 2);
		break;
	case NS_MEDIA:
		if (strcmp(l, "group") == 0) {
			f->ctx = (unsigned char)pc;
		} else if (E && strcmp(l, "title") == 0) {
			char *ty = attr_get(p, at, "type", NULL);
			begin_capture(p, idx, E_TITLE,
				ty && strcasecmp(ty, "html") == 0 ? T_HTML : T_TEXT, 0);
			free(ty);
		} else if (E && strcmp(l, "description") == 0) {
			char *ty = attr_get(p, at, "type", NULL);
			begin_capture(p, idx, E_SUMMARY,
				ty && strcasecmp(ty, "html") == 0 ? T_HTML : T_TEXT, 0);
			free(ty);
		} else if (E && strcmp(l, "category") == 0) {
			begin_capture(p, idx, E_CATEGORY, T_TEXT, 0);
		}
		break;
	case NS_ITUNES:
		if (strcmp(l, "author") == 0) {
			begin_capture(p, idx, E ? E_AUTHOR : F_AUTHOR, T_TEXT, 0);
		} else if (!E && strcmp(l, "subtitle") == 0) {
			begin_capture(p, idx, F_SUBTITLE, T_GUESS, 0);
		} else if (!E && strcmp(l, "summary") == 0) {
			begin_capture(p, idx, F_SUBTITLE, T_GUESS, -1);
		} else if (E && strcmp(l, "summary") == 0) {
			begin_capture(p, idx, E_SUMMARY, T_GUESS, 0);
		} else if (!E && strcmp(l, "image") == 0) {
			char *h = attr_get(p, at, "href", NULL);
			if (!h)
				h = attr_get(p, at, "url", NULL);
			if (h)
				slot_set(&p->f_image, url_from(p, base, h, strlen(h)), 0, false);
			free(h);
			feed_sync(p);
		} else if (strcmp(l, "category") == 0) {
			f->ctx = (unsigned char)pc;
			if (E) {
				char *c = attr_get(p, at, "text", NULL);
				if (c)
					add_category(p, trim_dup(p, c, strlen(c)));
				free(c);
			}
		}
		break;
	case NS_SY:
		if (!E && strcmp(l, "updatePeriod") == 0)
			begin_capture(p, idx, F_SYPERIOD, T_TEXT, 2);
		else if (!E && strcmp(l, "updateFrequency") == 0)
			begin_capture(p, idx, F_SYFREQ, T_TEXT, 2);
		break;
	default:
		break;
	}
}

/* The document element decides the format. */
static bool
detect_root(struct parse *p, const xmlChar *xlocal, enum ns ns,
	const struct attrs *at, int nb_ns, const xmlChar **nss)
{
	const char *l = (const char *)xlocal;
	char *v = NULL;

	if (strcmp(l, "rss") == 0 || strcmp(l, "channel") == 0) {
		v = attr_get(p, at, "version", NULL);
		if (!v)
			p->feed.format = PARSE_FORMAT_RSS20;
		else if (strcmp(v, "0.91") == 0)
			p->feed.format = p->netscape ? PARSE_FORMAT_RSS091N
						     : PARSE_FORMAT_RSS091U;
		else if (strcmp(v, "0.92") == 0)
			p->feed.format = PARSE_FORMAT_RSS092;
		else if (strcmp(v, "0.93") == 0)
			p->feed.format = PARSE_FORMAT_RSS093;
		else if (strcmp(v, "0.94") == 0)
			p->feed.format = PARSE_FORMAT_RSS094;
		else if (strcmp(v, "0.90") == 0 || strcmp(v, "0.9") == 0)
			p->feed.format = PARSE_FORMAT_RSS090;
		else
			p->feed.format = PARSE_FORMAT_RSS20;
	} else if (strcmp(l, "RDF") == 0) {
		p->feed.format = PARSE_FORMAT_RSS10;
		for (int i = 0; i < nb_ns; i++) {
			const char *u = (const char *)nss[i * 2 + 1];
			if (u && strcmp(u, "http://my.netscape.com/rdf/simple/0.9/") == 0)
				p->feed.format = PARSE_FORMAT_RSS090;
		}
	} else if (strcmp(l, "feed") == 0) {
		v = attr_get(p, at, "version", NULL);
		if (ns == NS_ATOM03 || (ns != NS_ATOM10 && v && strncmp(v, "0.", 2) == 0))
			p->feed.format = PARSE_FORMAT_ATOM03;
		else
			p->feed.format = PARSE_FORMAT_ATOM10;
	} else {
		char msg[160];
		snprintf(msg, sizeof(msg), "not a feed: root element is <%.100s>", l);
		not_a_feed(p, msg);
		return false;
	}
	free(v);
	return true;
}

/* A feed's document element, looked for inside an <html> wrapper. */
static bool
feed_root(const xmlChar *xlocal, enum ns ns)
{
	const char *l = (const char *)xlocal;

	if (strcmp(l, "feed") == 0)
		return ns == NS_NONE || is_atom(ns);
	if (strcmp(l, "rss") == 0)
		return ns == NS_NONE;
	return strcmp(l, "RDF") == 0 && ns == NS_RDF;
}

/* ---------------------------------------------------------------- */
/* SAX callbacks. The user data is the parser context itself (so that
 * libxml2's own SAX2 DTD handlers work); our state is in ctxt->_private. */

static struct parse *
P(void *ctx)
{
	xmlParserCtxtPtr c = ctx;
	/* Keep libxml2 on its well-formed path after a recovered error;
	 * otherwise it drops every later entity reference (even &amp;).
	 * Whether the document was well-formed is recorded in p->feed. */
	c->wellFormed = 1;
	return c->_private;
}

#define SVG_NS "http://www.w3.org/2000/svg"
#define MATHML_NS "http://www.w3.org/1998/Math/MathML"
#define XLINK_NS "http://www.w3.org/1999/xlink"

/*
 * An element inside captured text becomes markup. XHTML elements lose
 * their namespace; SVG and MathML become unprefixed with the namespace
 * declared where the foreign subtree starts (as HTML5 embeds them); other
 * namespaces keep their prefixes and declarations.
 */
static void
serialize_start(struct parse *p, struct frame *f, const xmlChar *prefix,
	const xmlChar *local, const xmlChar *uri, int nb_ns, const xmlChar **nss,
	int nb_attrs, const xmlChar **attrs)
{
	const char *u = (const char *)uri;
	bool foreign = u && (strcmp(u, SVG_NS) == 0 || strcmp(u, MATHML_NS) == 0);
	bool xhtml = f->ns == NS_XHTML;
	bool xlink_declared = false, xlink_used = false;

	cap_add(p, "<", 1);
	if (prefix && !xhtml && !foreign) {
		f->prefix = (const char *)prefix;
		cap_add(p, (const char *)prefix, strlen((const char *)prefix));
		cap_add(p, ":", 1);
	}
	cap_add(p, (const char *)local, strlen((const char *)local));
	if (foreign) {
		const struct frame *parent = f - 1;
		if (!parent->tagged || !parent->local || parent->ns != f->ns ||
			(parent - p->stack) <= p->cap_depth) {
			cap_add(p, " xmlns=\"", 8);
			cap_add(p, u, strlen(u));
			cap_add(p, "\"", 1);
		}
	}
	if (!xhtml) {
		for (int i = 0; i < nb_ns; i++) {
			const char *pf = (const char *)nss[2 * i];
			const char *nu = (const char *)nss[2 * i + 1];
			if (!pf && foreign)
				continue;
			if (nu && strcmp(nu, SVG_NS) == 0 && pf)
				continue;
			if (pf && strcmp(pf, "xlink") == 0)
				xlink_declared = true;
			cap_add(p, " xmlns", 6);
			if (pf) {
				cap_add(p, ":", 1);
				cap_add(p, pf, strlen(pf));
			}
			cap_add(p, "=\"", 2);
			cap_add_escaped(p, nu ? nu : "", nu ? strlen(nu) : 0, true);
			cap_add(p, "\"", 1);
		}
	}
	for (int i = 0; i < nb_attrs; i++) {
		const xmlChar **x = attrs + i * 5;
		if (x[2] && strcmp((const char *)x[2], XLINK_NS) == 0)
			xlink_used = true;
	}
	if (xlink_used && !xlink_declared)
		cap_add(p, " xmlns:xlink=\"" XLINK_NS "\"", 14 + strlen(XLINK_NS) + 1);
	for (int i = 0; i < nb_attrs; i++) {
		const xmlChar **x = attrs + i * 5;
		cap_add(p, " ", 1);
		if (x[1]) {
			const char *pf = (const char *)x[1];
			if (x[2] && strcmp((const char *)x[2], XLINK_NS) == 0)
				pf = "xlink";
			cap_add(p, pf, strlen(pf));
			cap_add(p, ":", 1);
		}
		cap_add(p, (const char *)x[0], strlen((const char *)x[0]));
		cap_add(p, "=\"", 2);
		struct attrs one = { x, 1 };
		char *v = attr_get(p, &one, (const char *)x[0], (const char *)x[2]);
		if (v)
			cap_add_escaped(p, v, strlen(v), true);
		free(v);
		cap_add(p, "\"", 1);
	}
	cap_add(p, ">", 1);
}

static void
sax_start(void *ctx, const xmlChar *local, const xmlChar *prefix,
	const xmlChar *uri, int nb_ns, const xmlChar **nss, int nb_attrs,
	int nb_def, const xmlChar **attrs)
{
	struct parse *p = P(ctx);
	struct attrs at = { attrs, nb_attrs };
	enum ns ns;
	char *base;
	bool own = false;

	(void)nb_def;
	if (p->cb_rc || p->oom || p->notfeed)
		return;
	if (p->overflow || p->depth >= FEEDD_MAX_DEPTH) {
		p->overflow++;
		p->feed.truncated = true;
		return;
	}
	ns = ns_of(uri);
	if (ns == NS_OTHER && p->root_uri && strcmp((const char *)uri, p->root_uri) == 0)
		ns = p->root_ns;
	else if (ns == NS_NONE && p->none_ns != NS_NONE)
		ns = p->none_ns;

	/* xml:base, resolved against the enclosing base. */
	base = (char *)frame_base(p);
	char *xb = attr_get(p, &at, "base", (const char *)XML_XML_NAMESPACE);
	if (xb) {
		errno = 0;
		char *r = parse__url_resolve(base, xb);
		if (r) {
			base = r;
			own = true;
		} else if (errno == ENOMEM) {
			parse__oom(p);
		}
		free(xb);
	}

	if (!p->root_seen && !p->html_wrap && (ns == NS_NONE || ns == NS_XHTML) &&
		strcmp((const char *)local, "html") == 0) {
		/* Not a feed itself, but it may hold one: look inside. Until a
		 * feed element starts, every element is ignored. */
		p->html_wrap = true;
		push_frame(p, local, CTX_IGNORE, base, own);
		return;
	}
	if (!p->root_seen && p->html_wrap && (p->depth == 0 || !feed_root(local, ns))) {
		if (p->depth == 0) {
			/* After </html>: not part of anything. */
			p->feed.malformed = true;
			if (own)
				free(base);
			return;
		}
		push_frame(p, local, CTX_IGNORE, base, own);
		return;
	}
	if (!p->root_seen) {
		p->root_seen = true;
		if (!detect_root(p, local, ns, &at, nb_ns, nss)) {
			if (own)
				free(base);
			stop(p);
			return;
		}
		int idx = push_frame(p, local, CTX_FEED, base, own);
		p->stack[idx].root = true;
		/* A feed in a namespace of its own (a later or unofficial
		 * version): its elements read as the format's own. */
		if (ns == NS_OTHER) {
			p->root_uri = strdup((const char *)uri);
			if (!p->root_uri)
				parse__oom(p);
			p->root_ns = p->feed.format == PARSE_FORMAT_ATOM03 ? NS_ATOM03
				: p->feed.format == PARSE_FORMAT_ATOM10 ? NS_ATOM10
				: NS_RSS;
			if (strcmp((const char *)local, "RDF") == 0) {
				free(p->root_uri);
				p->root_uri = NULL;
			}
		}
		/* An Atom <feed> without the Atom namespace (feedparser reads
		 * its elements by name): elements without a namespace are
		 * Atom's. */
		if (ns == NS_NONE && strcmp((const char *)local, "feed") == 0)
			p->none_ns = p->feed.format == PARSE_FORMAT_ATOM03 ? NS_ATOM03
								     : NS_ATOM10;
		char *lang = attr_get(p, &at, "lang", (const char *)XML_XML_NAMESPACE);
		if (lang)
			slot_set(&p->f_language, trim_dup(p, lang, strlen(lang)), 0, false);
		free(lang);
		feed_sync(p);
		return;
	}
	if (p->depth == 0) {
		/* An element after the root element closed: not part of the
		 * feed. Its end tag matches no frame and is ignored too. */
		p->feed.malformed = true;
		if (own)
			free(base);
		return;
	}

	if (p->cap_depth >= 0) {
		bool xhtml = p->cap_type == T_XHTML || p->cap_type == T_XHTML_KEEP;
		/* An entry start inside an entry's text: the text was never
		 * closed. End it (and the entry) and go on. */
		if (!xhtml && ((is_rssish(ns) && strcmp((const char *)local, "item") == 0) ||
				      (is_atom(ns) && strcmp((const char *)local, "entry") == 0))) {
			parse__mark_malformed(p, "an entry starts inside a text element");
			pop_to(p, p->cap_depth);
			if (!own)
				base = (char *)frame_base(p);
		} else {
			int idx = push_frame(p, local, CTX_IGNORE, base, own);
			struct frame *f = &p->stack[idx];
			/* Atom 1.0 xhtml: the wrapper div is not content. */
			if ((p->cap_type == T_XHTML || p->cap_type == T_HTML) &&
				idx == p->cap_depth + 1 &&
				ns == NS_XHTML && strcmp((const char *)local, "div") == 0 &&
				p->cap.len == 0)
				return;
			p->cap_children = true;
			f->tagged = true;
			f->ns = (unsigned char)ns;
			serialize_start(p, f, prefix, local, uri, nb_ns, nss, nb_attrs, attrs);
			return;
		}
	}
	classify(p, local, ns, &at, base, own);
}

static void
sax_end(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri)
{
	struct parse *p = P(ctx);
	const char *name = (const char *)local;

	(void)prefix;
	(void)uri;
	if (p->have_mismatch) {
		name = p->mismatch;
		p->have_mismatch = false;
	}
	if (p->cb_rc || p->oom || p->notfeed)
		return;
	if (p->overflow) {
		p->overflow--;
		return;
	}
	for (int i = p->depth - 1; i >= 0; i--) {
		if (strcmp((const char *)p->stack[i].local, name) != 0)
			continue;
		/* Inside a capture, only close elements of the capture or the
		 * capture itself; in XHTML text, an unmatched end tag is noise. */
		bool root = p->stack[i].root;
		pop_to(p, i);
		if (root)
			p->root_closed = true;
		return;
	}
}

static void
sax_text(void *ctx, const xmlChar *s, int n)
{
	struct parse *p = P(ctx);
	if (p->cap_depth < 0 || p->cb_rc || p->oom)
		return;
	if (p->cap_type == T_XHTML || p->cap_type == T_XHTML_KEEP)
		cap_add_escaped(p, (const char *)s, (size_t)n, false);
	else
		cap_add(p, (const char *)s, (size_t)n);
}

/*
 * Internal entities are expanded here, not by libxml2. In pure SAX mode
 * libxml2 2.9 re-parses an entity's replacement text in a fresh parser
 * context for every reference after the first, recursively, with no
 * amplification limit on that path: "billion laughs" (1 KB) then runs for
 * hours, and even 100,000 references to a one-letter entity take seconds.
 * Answering with the replacement text as a predefined-style entity makes
 * libxml2 pass it straight to the characters callback; the budget below
 * bounds all expansions of one document together.
 */
#define MAX_ENTITY_EXPANSION FEEDD_MAX_FIELD
#define MAX_ENTITY_DEPTH 16

/* Append the replacement text s to p->ient_buf, expanding character
 * references, the predefined entities and internal entities (markup stays
 * text). 0, -E2BIG (over the budget or nested too deep) or -ENOMEM. */
static int
entity_expand(struct parse *p, xmlParserCtxtPtr c, const char *s, int depth)
{
	int rc = 0;

	if (depth > MAX_ENTITY_DEPTH)
		return -E2BIG;
	while (*s && rc == 0) {
		const char *amp = strchr(s, '&'), *semi;
		size_t n = amp ? (size_t)(amp - s) : strlen(s);
		char name[72], ch[8];
		xmlEntityPtr e;

		if (p->ient_used + n > MAX_ENTITY_EXPANSION)
			return -E2BIG;
		p->ient_used += n;
		rc = parse__sbuf_add(&p->ient_buf, s, n);
		if (rc < 0 || !amp)
			break;
		s = amp + 1;
		semi = strchr(s, ';');
		if (!semi || semi == s || (size_t)(semi - s) >= sizeof(name)) {
			/* A bare "&": text. */
			p->ient_used++;
			rc = parse__sbuf_addc(&p->ient_buf, '&');
			continue;
		}
		memcpy(name, s, (size_t)(semi - s));
		name[semi - s] = '\0';
		s = semi + 1;
		if (name[0] == '#') {
			char *end;
			unsigned long cp = name[1] == 'x' ?
				strtoul(name + 2, &end, 16) : strtoul(name + 1, &end, 10);
			int len = 0;

			if (*end == '\0' && cp > 0 && cp <= 0x10FFFF &&
			    (cp < 0xD800 || cp > 0xDFFF))
				len = xmlCopyCharMultiByte((xmlChar *)ch, (int)cp);
			if (len > 0) {
				p->ient_used += (size_t)len;
				rc = parse__sbuf_add(&p->ient_buf, ch, (size_t)len);
			}
			continue;
		}
		e = xmlGetPredefinedEntity((const xmlChar *)name);
		if (e) {
			p->ient_used++;
			rc = parse__sbuf_add(&p->ient_buf, e->content,
				(size_t)e->length);
			continue;
		}
		e = c->myDoc ? xmlGetDocEntity(c->myDoc, (const xmlChar *)name) :
			NULL;
		if (e && e->etype == XML_INTERNAL_GENERAL_ENTITY && e->content) {
			rc = entity_expand(p, c, (const char *)e->content,
				depth + 1);
		} else {
			/* Unknown or external: the reference stays as text. */
			p->ient_used += strlen(name) + 2;
			rc = parse__sbuf_addc(&p->ient_buf, '&');
			if (rc == 0)
				rc = parse__sbuf_add(&p->ient_buf, name,
					strlen(name));
			if (rc == 0)
				rc = parse__sbuf_addc(&p->ient_buf, ';');
		}
	}
	return rc;
}

static xmlEntityPtr
entity_inline(struct parse *p, xmlParserCtxtPtr c, xmlEntityPtr e)
{
	int rc;

	if (p->ient_over)
		return NULL;
	parse__sbuf_reset(&p->ient_buf);
	rc = parse__sbuf_add(&p->ient_buf, "", 0);
	if (rc == 0)
		rc = entity_expand(p, c, e->content ?
			(const char *)e->content : "", 0);
	if (rc == -ENOMEM) {
		parse__oom(p);
		return NULL;
	}
	if (rc < 0) {
		p->ient_over = true;
		p->feed.truncated = true;
		parse__mark_malformed(p, "entity expansion over its budget "
			"(an entity bomb?)");
		stop(p);
		return NULL;
	}
	memset(&p->ient, 0, sizeof(p->ient));
	p->ient.type = XML_ENTITY_DECL;
	p->ient.name = e->name;
	p->ient.etype = XML_INTERNAL_PREDEFINED_ENTITY;
	p->ient.content = (xmlChar *)p->ient_buf.s;
	p->ient.orig = p->ient.content;
	p->ient.length = (int)p->ient_buf.len;
	return &p->ient;
}

static xmlEntityPtr
sax_get_entity(void *ctx, const xmlChar *name)
{
	xmlParserCtxtPtr c = ctx;
	struct parse *p = P(ctx);
	xmlEntityPtr e = NULL;
	const htmlEntityDesc *d;

	if (c->myDoc) {
		e = xmlGetDocEntity(c->myDoc, name);
		if (e && !c->inSubset && e->etype == XML_INTERNAL_GENERAL_ENTITY)
			return entity_inline(p, c, e);
		if (e)
			return e;
	}
	if (c->inSubset)
		return NULL;
	d = htmlEntityLookup(name);
	int len;
	if (d) {
		if (!p->ext_subset)
			parse__mark_malformed(p, "an HTML entity in XML without a DTD");
		len = xmlCopyCharMultiByte(p->hent_buf, (int)d->value);
		if (len <= 0)
			return NULL;
	} else {
		/* Unknown: the reference stays as text, as browsers show it. */
		len = snprintf((char *)p->hent_buf, sizeof(p->hent_buf), "&%s;",
			(const char *)name);
		if (len <= 0 || (size_t)len >= sizeof(p->hent_buf))
			return NULL;
		if (!p->ext_subset)
			parse__mark_malformed(p, "an undefined entity");
	}
	p->hent_buf[len] = '\0';
	memset(&p->hent, 0, sizeof(p->hent));
	p->hent.type = XML_ENTITY_DECL;
	p->hent.name = name;
	p->hent.etype = XML_INTERNAL_PREDEFINED_ENTITY;
	p->hent.content = p->hent_buf;
	p->hent.orig = p->hent_buf;
	p->hent.length = len;
	return &p->hent;
}

static void
sax_internal_subset(void *ctx, const xmlChar *name, const xmlChar *ext,
	const xmlChar *sys)
{
	struct parse *p = P(ctx);
	if (ext && strstr((const char *)ext, "Netscape"))
		p->netscape = true;
	if (ext || sys)
		p->ext_subset = true;
	xmlSAX2InternalSubset(ctx, name, ext, sys);
}

static void
sax_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *pub,
	const xmlChar *sys, xmlChar *content)
{
	/* Only internal general entities: nothing is ever loaded. */
	if (type != XML_INTERNAL_GENERAL_ENTITY)
		return;
	xmlSAX2EntityDecl(ctx, name, type, pub, sys, content);
}

static void
sax_error(void *ud, xmlErrorPtr err)
{
	xmlParserCtxtPtr c = ud;
	struct parse *p = c ? c->_private : NULL;
	char msg[200];

	if (!p || !err || err->level == XML_ERR_WARNING)
		return;
	/* An entity that an unread external DTD may define: not an error
	 * of the document (libxml2 reports it as a "warning" code). */
	if (err->code == XML_WAR_UNDECLARED_ENTITY ||
		(err->code == XML_ERR_UNDECLARED_ENTITY && c->inSubset))
		return;
	if (err->code == XML_ERR_TAG_NAME_MISMATCH && err->str2) {
		const char *n = (const char *)err->str2;
		const char *colon = strchr(n, ':');
		snprintf(p->mismatch, sizeof(p->mismatch), "%s", colon ? colon + 1 : n);
		p->have_mismatch = true;
	}
	/* After the real root closed, only our wrappers remain unclosed. */
	if (p->root_closed || p->notfeed)
		return;
	if (!p->feed.malformed) {
		size_t n;
		snprintf(msg, sizeof(msg), "line %d: %s", err->line,
			err->message ? err->message : "not well-formed");
		n = strlen(msg);
		while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			msg[--n] = '\0';
		parse__mark_malformed(p, msg);
	}
}


/* ---------------------------------------------------------------- */

const char *
parse_format_name(enum parse_format f)
{
	switch (f) {
	case PARSE_FORMAT_RSS090:
		return "rss090";
	case PARSE_FORMAT_RSS091N:
		return "rss091n";
	case PARSE_FORMAT_RSS091U:
		return "rss091u";
	case PARSE_FORMAT_RSS092:
		return "rss092";
	case PARSE_FORMAT_RSS093:
		return "rss093";
	case PARSE_FORMAT_RSS094:
		return "rss094";
	case PARSE_FORMAT_RSS10:
		return "rss10";
	case PARSE_FORMAT_RSS20:
		return "rss20";
	case PARSE_FORMAT_ATOM03:
		return "atom03";
	case PARSE_FORMAT_ATOM10:
		return "atom10";
	case PARSE_FORMAT_JSONFEED:
		return "jsonfeed";
	case PARSE_FORMAT_UNKNOWN:
		break;
	}
	return "unknown";
}

int
parse_create(struct parse **out, const struct parse_opts *o)
{
	struct parse *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->stack = calloc(FEEDD_MAX_DEPTH + 1, sizeof(*p->stack));
	if (!p->stack) {
		free(p);
		return -ENOMEM;
	}
	if (o)
		p->o = *o;
	p->feed.ttl_minutes = -1;
	p->cap_depth = -1;
	snprintf(p->err, sizeof(p->err), "no error");
	*out = p;
	return 0;
}

static int
xml_start(struct parse *p)
{
	xmlSAXHandler *h = &p->sax;

	memset(h, 0, sizeof(*h));
	h->initialized = XML_SAX2_MAGIC;
	h->startElementNs = sax_start;
	h->endElementNs = sax_end;
	h->characters = sax_text;
	h->cdataBlock = sax_text;
	h->getEntity = sax_get_entity;
	h->internalSubset = sax_internal_subset;
	h->entityDecl = sax_entity_decl;
	/* Creates the document that holds internal-subset entities. */
	h->startDocument = xmlSAX2StartDocument;
	h->serror = sax_error;
	p->ctxt = xmlCreatePushParserCtxt(h, NULL, NULL, 0, NULL);
	if (!p->ctxt)
		return -ENOMEM;
	p->ctxt->_private = p;
	xmlCtxtUseOptions(p->ctxt, XML_PARSE_NONET | XML_PARSE_RECOVER |
		XML_PARSE_IGNORE_ENC | XML_PARSE_NOCDATA);
	xmlSwitchEncoding(p->ctxt, XML_CHAR_ENCODING_UTF8);
	return 0;
}

/* Decoded UTF-8 arrives here; route it to XML or JSON. */
static int
route(struct parse *p, const char *s, size_t n, bool last)
{
	int rc = 0;

	if (p->mode == M_START) {
		size_t i = 0;
		for (; i < n; i++) {
			if (s[i] == '<' || s[i] == '{')
				break;
			if (isspace((unsigned char)s[i]))
				continue;
			if (++p->junk >= MAX_JUNK)
				break;
		}
		s += i;
		n -= i;
		if (p->junk >= MAX_JUNK) {
			not_a_feed(p, "not a feed: not XML or JSON");
			p->mode = M_DONE;
			goto out;
		}
		if (n == 0)
			goto out;
		if (*s == '{' && p->junk == 0) {
			p->mode = M_JSON;
		} else if (*s == '<') {
			if (p->junk)
				parse__mark_malformed(p, "junk before the root element");
			rc = xml_start(p);
			if (rc < 0)
				goto out;
			p->mode = M_XML;
		} else {
			/* '{' after junk: keep looking for a tag. */
			p->junk++;
			rc = route(p, s + 1, n - 1, last);
			goto out;
		}
	}
	if (p->mode == M_JSON) {
		if (p->json.len + n > MAX_JSON) {
			p->feed.truncated = true;
			not_a_feed(p, "not a feed: JSON document too large");
			p->mode = M_DONE;
			goto out;
		}
		rc = parse__sbuf_add(&p->json, s, n);
		if (rc == 0 && last)
			rc = parse__jsonfeed(p, p->json.s, p->json.len);
		goto out;
	}
	if (p->mode == M_XML) {
		parse__sbuf_reset(&p->lexout);
		rc = parse__lex(p, s, n);
		if (rc == 0 && last)
			rc = parse__lex_flush(p);
		if (rc < 0)
			goto out;
		if (p->lexout.len || last)
			xmlParseChunk(p->ctxt, p->lexout.s ? p->lexout.s : "",
				(int)p->lexout.len, last);
		if (p->lexout.cap > 1024 * 1024) {
			parse__sbuf_free(&p->lexout);
	parse__sbuf_free(&p->lx_names);
		}
	}
out:
	return rc;
}

static int
decode_and_route(struct parse *p, const char *s, size_t n, bool last)
{
	bool repaired = false;
	int rc;

	/* Decode in slices so libxml2 gets modest chunks. */
	do {
		size_t take = n > 65536 ? 65536 : n;
		bool fin = last && take == n;
		parse__sbuf_reset(&p->dec);
		rc = parse__charset_decode(p->cs, s, take, fin, &p->dec, &repaired);
		if (rc < 0)
			break;
		if (repaired)
			parse__mark_malformed(p, "bytes not valid in the document's encoding");
		rc = route(p, p->dec.s ? p->dec.s : "", p->dec.len, fin);
		if (rc < 0 || p->mode == M_DONE)
			break;
		s += take;
		n -= take;
		if (p->cb_rc || p->oom)
			break;
	} while (n > 0);
	if (p->dec.cap > 1024 * 1024)
		parse__sbuf_free(&p->dec);
	return rc;
}

static int
open_charset(struct parse *p)
{
	bool bad = false, wide = false;
	size_t skip = 0;
	int rc;

	rc = parse__charset_open(&p->cs, p->head.s ? p->head.s : "", p->head.len,
		p->o.charset, &bad, &skip, &wide);
	if (rc < 0)
		return rc;
	if (bad)
		parse__mark_malformed(p, "unknown character encoding");
	/* NUL bytes that are not UTF-16/32 (no BOM, not their byte pattern):
	 * binary data, not a feed. */
	if (!wide && p->head.len && memchr(p->head.s, '\0', p->head.len))
		p->binary = true;
	p->mode = M_START;
	/* An empty body leaves head.s NULL; NULL + 0 is undefined in C. */
	return decode_and_route(p, p->head.s ? p->head.s + skip : "",
		p->head.len - skip, false);
}

static int
result(struct parse *p, int rc)
{
	if (rc < 0)
		return rc;
	if (p->oom)
		return p->oom;
	return p->cb_rc;
}

int
parse_push(struct parse *p, const void *buf, size_t len)
{
	int rc = 0;

	if (p->cb_rc || p->oom || p->mode == M_DONE || len == 0)
		goto out;
	if (p->mode == M_SNIFF) {
		rc = parse__sbuf_add(&p->head, buf, len);
		if (rc < 0 || p->head.len < SNIFF_BYTES)
			goto out;
		rc = open_charset(p);
		parse__sbuf_free(&p->head);
		goto out;
	}
	rc = decode_and_route(p, buf, len, false);
out:
	return result(p, rc);
}

int
parse_finish(struct parse *p)
{
	int rc = 0;

	if (p->cb_rc || p->oom)
		goto out;
	if (p->mode == M_SNIFF) {
		rc = open_charset(p);
		parse__sbuf_free(&p->head);
		if (rc < 0)
			goto out;
	}
	if (p->binary && !p->root_seen && p->mode != M_JSON) {
		not_a_feed(p, "not a feed: binary data");
		p->mode = M_DONE;
	}
	if (p->mode == M_START || p->mode == M_XML || p->mode == M_JSON)
		rc = decode_and_route(p, "", 0, true);
	if (rc < 0)
		goto out;
	if (p->ctxt) {
		/* A truncated document: close what is still open. */
		if (!p->notfeed && !p->cb_rc && !p->oom) {
			if (p->depth > 0 && !p->root_closed)
				parse__mark_malformed(p, "the document ends before its root element closes");
			pop_to(p, 0);
		}
	}
	if (p->notfeed) {
		rc = -EBADMSG;
		goto out;
	}
	if (p->mode == M_START && p->junk == 0) {
		not_a_feed(p, "not a feed: empty document");
		rc = -EBADMSG;
		goto out;
	}
	if (p->feed.format == PARSE_FORMAT_UNKNOWN) {
		if (p->html_wrap)
			not_a_feed(p, "not a feed: root element is <html>");
		else if (p->mode == M_XML && !p->root_seen)
			not_a_feed(p, "not a feed: no root element");
		else if (p->mode != M_JSON)
			not_a_feed(p, "not a feed: not XML or JSON");
		else
			p->notfeed = true;
		rc = -EBADMSG;
	}
out:
	p->mode = M_DONE;
	feed_sync(p);
	return result(p, rc);
}

const struct parse_feed *
parse_feed_get(const struct parse *p)
{
	return &p->feed;
}

const char *
parse_errmsg(const struct parse *p)
{
	return p->err;
}

void
parse_destroy(struct parse *p)
{
	if (!p)
		return;
	while (p->depth > 0) {
		struct frame *f = &p->stack[--p->depth];
		if (f->own_base)
			free(f->base);
	}
	free(p->stack);
	free(p->root_uri);
	entry_clear(&p->e);
	struct slot *s[] = { &p->f_title, &p->f_link, &p->f_id, &p->f_subtitle,
		&p->f_language, &p->f_updated, &p->f_published, &p->f_author,
		&p->f_author_email, &p->f_image, &p->f_generator, &p->f_rights };
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		free(s[i]->v);
	if (p->ctxt) {
		if (p->ctxt->myDoc)
			xmlFreeDoc(p->ctxt->myDoc);
		p->ctxt->myDoc = NULL;
		xmlFreeParserCtxt(p->ctxt);
	}
	parse__charset_close(p->cs);
	parse__sbuf_free(&p->head);
	parse__sbuf_free(&p->ient_buf);
	parse__sbuf_free(&p->dec);
	parse__sbuf_free(&p->lexout);
	parse__sbuf_free(&p->lx_names);
	parse__sbuf_free(&p->json);
	parse__sbuf_free(&p->cap);
	free(p);
}

int
parse_buffer(const void *buf, size_t len, const struct parse_opts *o,
	char *errbuf, size_t errlen)
{
	struct parse *p = NULL;
	int rc = parse_create(&p, o);
	if (rc < 0)
		goto out;
	rc = parse_push(p, buf, len);
	if (rc == 0)
		rc = parse_finish(p);
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s", parse_errmsg(p));
out:
	if (rc == -ENOMEM && errbuf && errlen)
		snprintf(errbuf, errlen, "out of memory");
	parse_destroy(p);
	return rc;
}

/* ---------------------------------------------------------------- */
/* For jsonfeed.c: it fills the same staging as the XML formats. */

void
parse__json_set_format(struct parse *p)
{
	p->feed.format = PARSE_FORMAT_JSONFEED;
}

void
parse__json_not_feed(struct parse *p, const char *why)
{
	not_a_feed(p, why);
}

void
parse__json_feed_field(struct parse *p, const char *name, const char *v)
{
	const char *base = p->o.base_url;
	size_t n = strlen(v);

	if (strcmp(name, "title") == 0)
		slot_set(&p->f_title, plain_text(p, v, n, T_TEXT), 2, false);
	else if (strcmp(name, "home_page_url") == 0)
		slot_set(&p->f_link, url_from(p, base, v, n), 2, false);
	else if (strcmp(name, "feed_url") == 0)
		slot_set(&p->f_id, url_from(p, base, v, n), 1, false);
	else if (strcmp(name, "description") == 0)
		slot_set(&p->f_subtitle, plain_text(p, v, n, T_TEXT), 2, false);
	else if (strcmp(name, "icon") == 0)
		slot_set(&p->f_image, url_from(p, base, v, n), 2, false);
	else if (strcmp(name, "favicon") == 0)
		slot_set(&p->f_image, url_from(p, base, v, n), 1, false);
	else if (strcmp(name, "language") == 0)
		slot_set(&p->f_language, trim_dup(p, v, n), 2, false);
	else if (strcmp(name, "author") == 0)
		slot_set(&p->f_author, plain_text(p, v, n, T_TEXT), 2, false);
	feed_sync(p);
}

void
parse__json_entry_begin(struct parse *p)
{
	entry_start(p);
}

void
parse__json_entry_field(struct parse *p, const char *name, const char *v)
{
	const char *base = p->o.base_url;
	size_t n = strlen(v);
	struct entry_tmp *e = &p->e;

	e->any = true;
	if (strcmp(name, "id") == 0)
		slot_set(&e->id, trim_dup(p, v, n), 2, false);
	else if (strcmp(name, "url") == 0)
		slot_set(&e->link, url_from(p, base, v, n), 2, false);
	else if (strcmp(name, "external_url") == 0)
		slot_set(&e->link, url_from(p, base, v, n), 1, false);
	else if (strcmp(name, "title") == 0)
		slot_set(&e->title, plain_text(p, v, n, T_TEXT), 2, false);
	else if (strcmp(name, "content_html") == 0)
		body_set(p, &e->content, v, n, T_HTML, base, 2, false);
	else if (strcmp(name, "content_text") == 0)
		body_set(p, &e->content, v, n, T_TEXT, base, 1, false);
	else if (strcmp(name, "summary") == 0)
		body_set(p, &e->summary, v, n, T_TEXT, base, 2, false);
	else if (strcmp(name, "date_published") == 0)
		slot_set(&e->published, date_text(p, v, n), 2, false);
	else if (strcmp(name, "date_modified") == 0)
		slot_set(&e->updated, date_text(p, v, n), 2, false);
	else if (strcmp(name, "author") == 0)
		slot_set(&e->author, plain_text(p, v, n, T_TEXT), 2, false);
	else if (strcmp(name, "tag") == 0)
		add_category(p, trim_dup(p, v, n));
}

void
parse__json_entry_enclosure(struct parse *p, const char *url, const char *type,
	int64_t length)
{
	char lenbuf[32];
	if (length >= 0)
		snprintf(lenbuf, sizeof(lenbuf), "%lld", (long long)length);
	add_enclosure(p, url_from(p, p->o.base_url, url, strlen(url)), type,
		length >= 0 ? lenbuf : NULL);
}

void
parse__json_entry_end(struct parse *p)
{
	entry_finish(p);
}

int
parse__json_stopped(struct parse *p)
{
	return p->cb_rc || p->oom;
}
