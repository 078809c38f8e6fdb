/*
 * What an element is. A namespace URI names the format or module it
 * belongs to (enum ns); the document element gives the feed's format; and
 * every other element, by namespace, local name and the context it appears
 * in (feed, entry, author, image), becomes a frame context, a captured
 * field with how to read its text and its rank, or a value taken from its
 * attributes (Atom links, enclosures, categories, itunes:image). The field
 * precedence in README.md is the prio of each capture here: a higher rank
 * wins; at equal rank the first, except for dates, where the last does.
 */
#include "parse.h"
#include "parse_int.h"
#include "parse_xml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum ns
parse__ns_of(const xmlChar *uri)
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

/* Atom text construct type -> how to read it. */
static enum ttype
atom_type(struct parse *p, const struct attrs *at, bool atom03)
{
	char *type = parse__attr_get(p, at, "type", NULL);
	char *mode = atom03 ? parse__attr_get(p, at, "mode", NULL) : NULL;
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

/* An Atom <link>: in the feed, in an entry, or an atom:link in RSS. */
static void
atom_link(struct parse *p, int idx, const struct attrs *at, bool entry)
{
	char *rel = parse__attr_get(p, at, "rel", NULL);
	char *href = parse__attr_get(p, at, "href", NULL);
	const char *r = rel && *rel ? rel : "alternate";
	const char *base = p->stack[idx].base;

	if (strcasecmp(r, "alternate") == 0 ||
		strcasecmp(r, "http://www.iana.org/assignments/relation/alternate") == 0) {
		if (href) {
			char *u = parse__url_from(p, base, href, strlen(href));
			if (entry) {
				parse__slot_set(&p->e.link, u, 1, false);
				p->e.any = true;
			} else {
				parse__slot_set(&p->f_link, u, 1, false);
				parse__feed_sync(p);
			}
		} else {
			begin_capture(p, idx, entry ? E_LINK : F_LINK, T_TEXT, 1);
		}
	} else if (entry && strcasecmp(r, "enclosure") == 0) {
		if (href) {
			char *type = parse__attr_get(p, at, "type", NULL);
			char *len = parse__attr_get(p, at, "length", NULL);
			parse__add_enclosure(p, parse__url_from(p, base, href, strlen(href)),
				type, len);
			free(type);
			free(len);
		}
	}
	free(rel);
	free(href);
}

/* Decide what an element is and push its frame. */
void
parse__classify(struct parse *p, const xmlChar *xlocal, enum ns ns,
	const struct attrs *at, char *base, bool own_base)
{
	const char *l = (const char *)xlocal;
	enum ctx pc = p->depth ? p->stack[p->depth - 1].ctx : CTX_IGNORE; /* after the root */
	int idx;

	if (pc == CTX_IGNORE) {
		parse__push_frame(p, xlocal, CTX_IGNORE, base, own_base);
		return;
	}
	/* Entries start at any level, except inside an entry's text. */
	if ((is_rssish(ns) && strcmp(l, "item") == 0) ||
		(is_atom(ns) && strcmp(l, "entry") == 0)) {
		if (pc == CTX_FEED || pc == CTX_ENTRY) {
			/* An entry left open (by broken markup) ends here. */
			for (int i = p->depth - 1; i >= 0; i--) {
				if (p->stack[i].entry) {
					parse__pop_to(p, i);
					break;
				}
			}
			/* A borrowed base may have belonged to a closed frame. */
			if (!own_base)
				base = (char *)parse__frame_base(p);
			idx = parse__push_frame(p, xlocal, CTX_ENTRY, base, own_base);
			p->stack[idx].entry = true;
			parse__entry_start(p);
			/* RSS 1.0: the item's rdf:about is its id (a guid wins). */
			char *about = parse__attr_get(p, at, "about",
				"http://www.w3.org/1999/02/22-rdf-syntax-ns#");
			if (about)
				parse__slot_set(&p->e.id,
					parse__trim_dup(p, about, strlen(about)), 1, false);
			free(about);
			return;
		}
	}
	idx = parse__push_frame(p, xlocal, CTX_IGNORE, base, own_base);
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
				char *pl = parse__attr_get(p, at, "isPermaLink", NULL);
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
				char *url = parse__attr_get(p, at, "url", NULL);
				char *type = parse__attr_get(p, at, "type", NULL);
				char *len = parse__attr_get(p, at, "length", NULL);
				if (url)
					parse__add_enclosure(p,
						parse__url_from(p, base, url, strlen(url)),
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
			char *c = parse__attr_get(p, at, "term", NULL);
			if (!c || !*c) {
				free(c);
				c = parse__attr_get(p, at, "label", NULL);
			}
			if (c)
				parse__add_category(p, parse__trim_dup(p, c, strlen(c)));
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
			char *ty = parse__attr_get(p, at, "type", NULL);
			begin_capture(p, idx, E_TITLE,
				ty && strcasecmp(ty, "html") == 0 ? T_HTML : T_TEXT, 0);
			free(ty);
		} else if (E && strcmp(l, "description") == 0) {
			char *ty = parse__attr_get(p, at, "type", NULL);
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
			char *h = parse__attr_get(p, at, "href", NULL);
			if (!h)
				h = parse__attr_get(p, at, "url", NULL);
			if (h)
				parse__slot_set(&p->f_image,
					parse__url_from(p, base, h, strlen(h)), 0, false);
			free(h);
			parse__feed_sync(p);
		} else if (strcmp(l, "category") == 0) {
			f->ctx = (unsigned char)pc;
			if (E) {
				char *c = parse__attr_get(p, at, "text", NULL);
				if (c)
					parse__add_category(p, parse__trim_dup(p, c, strlen(c)));
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
bool
parse__detect_root(struct parse *p, const xmlChar *xlocal, enum ns ns,
	const struct attrs *at, int nb_ns, const xmlChar **nss)
{
	const char *l = (const char *)xlocal;
	char *v = NULL;

	if (strcmp(l, "rss") == 0 || strcmp(l, "channel") == 0) {
		v = parse__attr_get(p, at, "version", NULL);
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
		v = parse__attr_get(p, at, "version", NULL);
		if (ns == NS_ATOM03 || (ns != NS_ATOM10 && v && strncmp(v, "0.", 2) == 0))
			p->feed.format = PARSE_FORMAT_ATOM03;
		else
			p->feed.format = PARSE_FORMAT_ATOM10;
	} else {
		char msg[160];
		snprintf(msg, sizeof(msg), "not a feed: root element is <%.100s>", l);
		parse__not_a_feed(p, msg);
		return false;
	}
	free(v);
	return true;
}

/* A feed's document element, looked for inside an <html> wrapper. */
bool
parse__feed_root(const xmlChar *xlocal, enum ns ns)
{
	const char *l = (const char *)xlocal;

	if (strcmp(l, "feed") == 0)
		return ns == NS_NONE || is_atom(ns);
	if (strcmp(l, "rss") == 0)
		return ns == NS_NONE;
	return strcmp(l, "RDF") == 0 && ns == NS_RDF;
}
