/*
 * libxml2's side of the XML path: the SAX2 handlers of the push parser
 * (parse__xml_start installs them) and the element stack they keep. Here:
 * frames with their xml:base, the document element (a feed inside an
 * <html> wrapper, a feed in a namespace of its own, content after the
 * root), the text capture and the markup of child elements inside it,
 * end tags closed by the name they really had, entities, and libxml2's
 * errors. What an element means is classify.c's; what its text becomes,
 * and the entry it belongs to, is entry.c's.
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

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/SAX2.h>
#include <libxml/entities.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>

/* ---------------------------------------------------------------- */
/* The element stack. */

const char *
parse__frame_base(struct parse *p)
{
	return p->depth > 0 ? p->stack[p->depth - 1].base : p->o.base_url;
}

/* The value of an attribute (any namespace unless uri given), decoded;
 * libxml2 leaves '&' as "&#38;" in values when it does not substitute
 * entities. Returns a malloc'd string or NULL. */
char *
parse__attr_get(struct parse *p, const struct attrs *at, const char *local,
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

int
parse__push_frame(struct parse *p, const xmlChar *local, enum ctx c, char *base,
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
		parse__capture_finish(p, f->base);
		parse__sbuf_reset(&p->cap);
		p->cap_depth = -1;
	}
	if (f->entry)
		parse__entry_finish(p);
	if (f->own_base)
		free(f->base);
	p->depth--;
}

void
parse__pop_to(struct parse *p, int idx)
{
	while (p->depth > idx)
		pop_frame(p);
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
		char *v = parse__attr_get(p, &one, (const char *)x[0], (const char *)x[2]);
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
	ns = parse__ns_of(uri);
	if (ns == NS_OTHER && p->root_uri && strcmp((const char *)uri, p->root_uri) == 0)
		ns = p->root_ns;
	else if (ns == NS_NONE && p->none_ns != NS_NONE)
		ns = p->none_ns;

	/* xml:base, resolved against the enclosing base. */
	base = (char *)parse__frame_base(p);
	char *xb = parse__attr_get(p, &at, "base", (const char *)XML_XML_NAMESPACE);
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
		parse__push_frame(p, local, CTX_IGNORE, base, own);
		return;
	}
	if (!p->root_seen && p->html_wrap && (p->depth == 0 || !parse__feed_root(local, ns))) {
		if (p->depth == 0) {
			/* After </html>: not part of anything. */
			p->feed.malformed = true;
			if (own)
				free(base);
			return;
		}
		parse__push_frame(p, local, CTX_IGNORE, base, own);
		return;
	}
	if (!p->root_seen) {
		p->root_seen = true;
		if (!parse__detect_root(p, local, ns, &at, nb_ns, nss)) {
			if (own)
				free(base);
			parse__stop(p);
			return;
		}
		int idx = parse__push_frame(p, local, CTX_FEED, base, own);
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
		char *lang = parse__attr_get(p, &at, "lang", (const char *)XML_XML_NAMESPACE);
		if (lang)
			parse__slot_set(&p->f_language,
				parse__trim_dup(p, lang, strlen(lang)), 0, false);
		free(lang);
		parse__feed_sync(p);
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
			parse__pop_to(p, p->cap_depth);
			if (!own)
				base = (char *)parse__frame_base(p);
		} else {
			int idx = parse__push_frame(p, local, CTX_IGNORE, base, own);
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
	parse__classify(p, local, ns, &at, base, own);
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
		parse__pop_to(p, i);
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
		parse__stop(p);
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

/* The push parser for this document, with the handlers above. */
int
parse__xml_start(struct parse *p)
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
