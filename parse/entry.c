/*
 * Feed and entry assembly. The fields of the feed and of the entry being
 * read stage in ranked slots; a captured text becomes its field's value by
 * the field and the text's type (plain text, sanitized HTML with its
 * plain-text rendering, a date, a URL, an author split into name and
 * email, a polling hint); and an entry is reported to the caller when its
 * element ends. JSON Feed (jsonfeed.c) fills the same staging through the
 * parse__json_* functions at the end of this file.
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

/* ---------------------------------------------------------------- */
/* Slots, and the helpers every value goes through. */

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

void
parse__slot_set(struct slot *s, char *v, int prio, bool replace_tie)
{
	slot_set2(s, v, NULL, prio, replace_tie);
}

void
parse__feed_sync(struct parse *p)
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

char *
parse__trim_dup(struct parse *p, const char *s, size_t n)
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
char *
parse__url_from(struct parse *p, const char *base, const char *s, size_t n)
{
	char *t = parse__trim_dup(p, s, n);
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

/* ---------------------------------------------------------------- */
/* Field values. */

/* Plain text from a captured buffer, by type. */
static char *
plain_text(struct parse *p, const char *s, size_t n, enum ttype t)
{
	char *r = NULL;
	if (t == T_TEXT || (t == T_GUESS && !looks_like_html(s))) {
		r = parse__trim_dup(p, s, n);
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
		char *t2 = parse__trim_dup(p, s, n);
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
	char *t = parse__trim_dup(p, s, n);
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

void
parse__add_category(struct parse *p, char *c)
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

void
parse__add_enclosure(struct parse *p, char *url, const char *type, const char *length)
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
		x->type = parse__trim_dup(p, type, strlen(type));
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
		parse__slot_set(&p->e.author, name, prio, false);
		parse__slot_set(&p->e.author_email, email, prio, false);
		p->e.any = true;
	} else {
		parse__slot_set(&p->f_author, name, prio, false);
		parse__slot_set(&p->f_author_email, email, prio, false);
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
void
parse__capture_finish(struct parse *p, const char *base)
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
		parse__slot_set(&p->f_title, plain_text(p, s, n, t), prio, false);
		break;
	case F_SUBTITLE:
		parse__slot_set(&p->f_subtitle, plain_text(p, s, n, t), prio, false);
		break;
	case F_RIGHTS:
		parse__slot_set(&p->f_rights, plain_text(p, s, n, t), prio, false);
		break;
	case F_GENERATOR:
		parse__slot_set(&p->f_generator, plain_text(p, s, n, t), prio, false);
		break;
	case F_LANGUAGE:
		parse__slot_set(&p->f_language, parse__trim_dup(p, s, n), prio, false);
		break;
	case F_LINK:
		parse__slot_set(&p->f_link, parse__url_from(p, base, s, n), prio, false);
		break;
	case F_IMAGE:
		parse__slot_set(&p->f_image, parse__url_from(p, base, s, n), prio, false);
		break;
	case F_ID:
	case E_ID:
	case E_GUID:
		v = parse__trim_dup(p, s, n);
		/* Relative Atom ids resolve like links; RSS guids are opaque. */
		if (v && *v && p->cap_field != E_GUID && !has_scheme(v) && base) {
			char *r = parse__url_from(p, base, v, strlen(v));
			if (r) {
				free(v);
				v = r;
			}
		}
		if (p->cap_field == F_ID) {
			parse__slot_set(&p->f_id, v, prio, false);
		} else {
			if (p->cap_field == E_GUID && v && *v && !p->e.guid &&
				p->e.guid_permalink)
				p->e.guid = xstrndup(p, v, strlen(v));
			parse__slot_set(&p->e.id, v, prio, false);
			p->e.any = true;
		}
		break;
	case F_UPDATED:
		parse__slot_set(&p->f_updated, date_text(p, s, n), prio, true);
		break;
	case F_PUBLISHED:
		parse__slot_set(&p->f_published, date_text(p, s, n), prio, true);
		break;
	case F_AUTHOR:
	case E_AUTHOR:
		v = parse__trim_dup(p, s, n);
		if (v && *v)
			set_author(p, p->cap_field == E_AUTHOR, v, prio);
		free(v);
		v = NULL;
		break;
	case F_AUTHOR_NAME:
		parse__slot_set(&p->f_author, plain_text(p, s, n, t), prio, false);
		break;
	case E_AUTHOR_NAME:
		parse__slot_set(&p->e.author, plain_text(p, s, n, t), prio, false);
		break;
	case F_AUTHOR_EMAIL:
	case E_AUTHOR_EMAIL:
		v = parse__trim_dup(p, s, n);
		if (v && strncasecmp(v, "mailto:", 7) == 0)
			memmove(v, v + 7, strlen(v + 7) + 1);
		parse__slot_set(p->cap_field == F_AUTHOR_EMAIL ? &p->f_author_email
							: &p->e.author_email,
			v, prio, false);
		break;
	case F_TTL:
		v = parse__trim_dup(p, s, n);
		if (v) {
			int64_t x;
			if (parse_int64(v, &x) && x <= 1000000)
				p->feed.ttl_minutes = (int)x;
		}
		free(v);
		break;
	case F_SKIPHOUR:
		v = parse__trim_dup(p, s, n);
		if (v) {
			int64_t x;
			if (parse_int64(v, &x) && x >= 0 && x <= 24)
				p->feed.skip_hours |= 1u << (x % 24);
		}
		free(v);
		break;
	case F_SKIPDAY:
		v = parse__trim_dup(p, s, n);
		if (v) {
			int d = day_index(v);
			if (d >= 0)
				p->feed.skip_days |= (uint8_t)(1u << d);
		}
		free(v);
		break;
	case F_SYPERIOD:
		v = parse__trim_dup(p, s, n);
		if (v)
			p->sy_period = period_seconds(v);
		free(v);
		break;
	case F_SYFREQ:
		v = parse__trim_dup(p, s, n);
		if (v) {
			int64_t x;
			if (parse_int64(v, &x) && x > 0)
				p->sy_freq = x;
		}
		free(v);
		break;
	case E_TITLE:
		parse__slot_set(&p->e.title, plain_text(p, s, n, t), prio, false);
		p->e.any = true;
		break;
	case E_LINK:
		parse__slot_set(&p->e.link, parse__url_from(p, base, s, n), prio, false);
		p->e.any = true;
		break;
	case E_COMMENTS:
		parse__slot_set(&p->e.comments, parse__url_from(p, base, s, n), prio, false);
		break;
	case E_PUBLISHED:
		parse__slot_set(&p->e.published, date_text(p, s, n), prio, true);
		break;
	case E_UPDATED:
		parse__slot_set(&p->e.updated, date_text(p, s, n), prio, true);
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
		parse__add_category(p, plain_text(p, s, n, t));
		break;
	case E_ENCLOSURE_TEXT:
		parse__add_enclosure(p, parse__url_from(p, base, s, n), NULL, NULL);
		break;
	}
	free(dec);
	parse__feed_sync(p);
}

/* ---------------------------------------------------------------- */
/* Entries. */

void
parse__entry_clear(struct entry_tmp *e)
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

/* The entry ended: report it. */
void
parse__entry_finish(struct parse *p)
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
			parse__stop(p);
		}
	}
out:
	free(text);
	parse__entry_clear(e);
}

void
parse__entry_start(struct parse *p)
{
	parse__entry_clear(&p->e);
	p->e.guid_permalink = true;
	p->e.any = true;
	p->in_entry = true;
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
	parse__not_a_feed(p, why);
}

void
parse__json_feed_field(struct parse *p, const char *name, const char *v)
{
	const char *base = p->o.base_url;
	size_t n = strlen(v);

	if (strcmp(name, "title") == 0)
		parse__slot_set(&p->f_title, plain_text(p, v, n, T_TEXT), 2, false);
	else if (strcmp(name, "home_page_url") == 0)
		parse__slot_set(&p->f_link, parse__url_from(p, base, v, n), 2, false);
	else if (strcmp(name, "feed_url") == 0)
		parse__slot_set(&p->f_id, parse__url_from(p, base, v, n), 1, false);
	else if (strcmp(name, "description") == 0)
		parse__slot_set(&p->f_subtitle, plain_text(p, v, n, T_TEXT), 2, false);
	else if (strcmp(name, "icon") == 0)
		parse__slot_set(&p->f_image, parse__url_from(p, base, v, n), 2, false);
	else if (strcmp(name, "favicon") == 0)
		parse__slot_set(&p->f_image, parse__url_from(p, base, v, n), 1, false);
	else if (strcmp(name, "language") == 0)
		parse__slot_set(&p->f_language, parse__trim_dup(p, v, n), 2, false);
	else if (strcmp(name, "author") == 0)
		parse__slot_set(&p->f_author, plain_text(p, v, n, T_TEXT), 2, false);
	parse__feed_sync(p);
}

void
parse__json_entry_begin(struct parse *p)
{
	parse__entry_start(p);
}

void
parse__json_entry_field(struct parse *p, const char *name, const char *v)
{
	const char *base = p->o.base_url;
	size_t n = strlen(v);
	struct entry_tmp *e = &p->e;

	e->any = true;
	if (strcmp(name, "id") == 0)
		parse__slot_set(&e->id, parse__trim_dup(p, v, n), 2, false);
	else if (strcmp(name, "url") == 0)
		parse__slot_set(&e->link, parse__url_from(p, base, v, n), 2, false);
	else if (strcmp(name, "external_url") == 0)
		parse__slot_set(&e->link, parse__url_from(p, base, v, n), 1, false);
	else if (strcmp(name, "title") == 0)
		parse__slot_set(&e->title, plain_text(p, v, n, T_TEXT), 2, false);
	else if (strcmp(name, "content_html") == 0)
		body_set(p, &e->content, v, n, T_HTML, base, 2, false);
	else if (strcmp(name, "content_text") == 0)
		body_set(p, &e->content, v, n, T_TEXT, base, 1, false);
	else if (strcmp(name, "summary") == 0)
		body_set(p, &e->summary, v, n, T_TEXT, base, 2, false);
	else if (strcmp(name, "date_published") == 0)
		parse__slot_set(&e->published, date_text(p, v, n), 2, false);
	else if (strcmp(name, "date_modified") == 0)
		parse__slot_set(&e->updated, date_text(p, v, n), 2, false);
	else if (strcmp(name, "author") == 0)
		parse__slot_set(&e->author, plain_text(p, v, n, T_TEXT), 2, false);
	else if (strcmp(name, "tag") == 0)
		parse__add_category(p, parse__trim_dup(p, v, n));
}

void
parse__json_entry_enclosure(struct parse *p, const char *url, const char *type,
	int64_t length)
{
	char lenbuf[32];
	if (length >= 0)
		snprintf(lenbuf, sizeof(lenbuf), "%lld", (long long)length);
	parse__add_enclosure(p, parse__url_from(p, p->o.base_url, url, strlen(url)),
		type, length >= 0 ? lenbuf : NULL);
}

void
parse__json_entry_end(struct parse *p)
{
	parse__entry_finish(p);
}

int
parse__json_stopped(struct parse *p)
{
	return p->cb_rc || p->oom;
}
