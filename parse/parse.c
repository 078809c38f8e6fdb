/*
 * The parse/ core: the public API (parse.h) and the document-level state
 * machine behind it. Bytes arrive chunk by chunk; the first SNIFF_BYTES
 * choose the charset (charset.c), then the first '<' or '{' chooses the
 * path. XML goes through the repair pass (repair.c) into libxml2's push
 * parser, whose SAX2 callbacks (sax.c) keep our own stack of open
 * elements; classify.c decides what each element is, and entry.c turns
 * captured text into feed and entry fields and reports each entry. JSON
 * Feed is buffered whole and handed to jansson (jsonfeed.c).
 *
 * Also here: the one error message, and the verdicts every stage reports
 * through (malformed, not a feed, out of memory, stopped).
 */
#include "parse.h"
#include "norm.h"
#include "parse_int.h"
#include "parse_xml.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

/* ---------------------------------------------------------------- */
/* The error message and the verdicts every stage reports through. */

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

void
parse__not_a_feed(struct parse *p, const char *msg)
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

void
parse__stop(struct parse *p)
{
	if (p->ctxt)
		xmlStopParser(p->ctxt);
}

void
parse__oom(struct parse *p)
{
	p->oom = -ENOMEM;
	parse__stop(p);
}

/* ---------------------------------------------------------------- */
/* The public API and the document-level state machine. */

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
			parse__not_a_feed(p, "not a feed: not XML or JSON");
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
			rc = parse__xml_start(p);
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
			parse__not_a_feed(p, "not a feed: JSON document too large");
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
		/* A big chunk's output is not kept for the rest of the
		 * document. (lx_names stays: it holds the names of the
		 * elements still open, which later chunks close.) */
		if (p->lexout.cap > 1024 * 1024)
			parse__sbuf_free(&p->lexout);
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
		parse__not_a_feed(p, "not a feed: binary data");
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
			parse__pop_to(p, 0);
		}
	}
	if (p->notfeed) {
		rc = -EBADMSG;
		goto out;
	}
	if (p->mode == M_START && p->junk == 0) {
		parse__not_a_feed(p, "not a feed: empty document");
		rc = -EBADMSG;
		goto out;
	}
	if (p->feed.format == PARSE_FORMAT_UNKNOWN) {
		if (p->html_wrap)
			parse__not_a_feed(p, "not a feed: root element is <html>");
		else if (p->mode == M_XML && !p->root_seen)
			parse__not_a_feed(p, "not a feed: no root element");
		else if (p->mode != M_JSON)
			parse__not_a_feed(p, "not a feed: not XML or JSON");
		else
			p->notfeed = true;
		rc = -EBADMSG;
	}
out:
	p->mode = M_DONE;
	parse__feed_sync(p);
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
	parse__entry_clear(&p->e);
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
