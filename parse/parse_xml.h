/*
 * Internal to parse/'s XML path: the state of one document's parse, and
 * the functions its parts call in each other. parse.c drives the document,
 * repair.c is the repair pass, sax.c the SAX handlers and the element
 * stack, classify.c what each element is, entry.c the feed's and entries'
 * fields (jsonfeed.c reaches entry.c through parse_int.h).
 */
#ifndef FEEDD_PARSE_PARSE_XML_H
#define FEEDD_PARSE_PARSE_XML_H

#include "parse.h"
#include "parse_int.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/parser.h>

#define SNIFF_BYTES 1024           /* bytes read before choosing a charset */
#define MAX_JUNK (64 * 1024)       /* junk skipped before the first tag */
#define MAX_JSON (32 * 1024 * 1024) /* a JSON Feed is parsed whole */
#define LX_NAME 64                 /* tag-name bytes the repair pass compares */

enum ns {
	NS_NONE,
	NS_RSS, /* RSS 0.9x/2.0 (no namespace or a userland one), 0.90, 1.0 */
	NS_ATOM03,
	NS_ATOM10,
	NS_DC,
	NS_DCTERMS,
	NS_CONTENT,
	NS_MEDIA,
	NS_ITUNES,
	NS_XHTML,
	NS_RDF,
	NS_SY,
	NS_OTHER,
};

enum ctx {
	CTX_FEED,     /* feed-level: children of rss, channel, rdf:RDF, feed */
	CTX_ENTRY,    /* inside item/entry */
	CTX_AUTHOR_F, /* atom author of the feed */
	CTX_AUTHOR_E, /* atom author of an entry */
	CTX_IMAGE,    /* RSS channel image */
	CTX_IGNORE,   /* an element we do not map, and all inside it */
};

/* Where a captured text goes. */
enum field {
	F_NONE,
	F_TITLE,
	F_LINK,
	F_ID,
	F_SUBTITLE,
	F_LANGUAGE,
	F_UPDATED,
	F_PUBLISHED,
	F_AUTHOR,       /* "name (email)" style: split */
	F_AUTHOR_NAME,
	F_AUTHOR_EMAIL,
	F_IMAGE,
	F_GENERATOR,
	F_RIGHTS,
	F_TTL,
	F_SKIPHOUR,
	F_SKIPDAY,
	F_SYPERIOD,
	F_SYFREQ,
	E_TITLE,
	E_LINK,
	E_ID,
	E_GUID,
	E_AUTHOR,
	E_AUTHOR_NAME,
	E_AUTHOR_EMAIL,
	E_PUBLISHED,
	E_UPDATED,
	E_SUMMARY,
	E_CONTENT,
	E_COMMENTS,
	E_CATEGORY,
	E_ENCLOSURE_TEXT, /* atom link rel=enclosure without href */
};

/* How a captured text is to be read. */
enum ttype {
	T_GUESS,       /* RSS: HTML if it looks like HTML */
	T_TEXT,        /* plain text */
	T_HTML,        /* escaped HTML */
	T_XHTML,       /* Atom 1.0 xhtml: inline markup in a wrapper div */
	T_XHTML_KEEP,  /* inline markup, kept whole (Atom 0.3 xml mode) */
	T_B64_TEXT,    /* base64 of plain text */
	T_B64_HTML,    /* base64 of HTML */
};

struct slot {
	char *v;
	char *text; /* summary/content: the plain-text rendering of v */
	int prio;
};

struct frame {
	const xmlChar *local; /* libxml2 dict string, lives as long as ctxt */
	char *base;           /* owned when own_base */
	bool own_base;
	unsigned char ctx;
	bool entry;           /* this element is an item/entry */
	bool capture;         /* this element is the capture root */
	bool tagged;          /* a start tag was serialized into the capture */
	bool root;            /* the document element */
	unsigned char ns;     /* enum ns of the element */
	const char *prefix;   /* tagged: the prefix written, dict string */
};

struct encl {
	char *url, *type;
	int64_t length;
};

struct entry_tmp {
	struct slot id, link, title, author, author_email, published, updated,
		summary, content, comments;
	char *guid;
	bool guid_permalink;
	char **cats;
	size_t ncats, capcats;
	struct encl *encs;
	size_t nencs, capencs;
	bool any;
};

enum lx {
	LX_TEXT,
	LX_LT,
	LX_BANG,
	LX_CDATA,
	LX_COMMENT,
	LX_PI,
	LX_DECL,
	LX_TAG,
	LX_ETAG,
	LX_AMP,
};

enum mode {
	M_SNIFF,
	M_START, /* charset chosen, looking for the first tag or '{' */
	M_XML,
	M_JSON,
	M_DONE,
};

struct parse {
	struct parse_opts o;
	struct parse_feed feed;
	struct slot f_title, f_link, f_id, f_subtitle, f_language, f_updated,
		f_published, f_author, f_author_email, f_image, f_generator, f_rights;
	int64_t sy_period, sy_freq;

	enum mode mode;
	struct sbuf head;   /* M_SNIFF: raw bytes so far */
	struct charset *cs;
	struct sbuf dec;    /* decoded UTF-8 of the current chunk */
	struct sbuf lexout; /* repaired bytes for libxml2 */
	struct sbuf json;   /* M_JSON: the whole document */
	size_t junk;
	bool binary;

	/* The repair pass. */
	enum lx lx, lx_ret;
	char lx_hold[48];
	size_t lx_nhold;
	char lx_quote;
	int lx_count, lx_depth;
	uint32_t lx_tail;   /* LX_DECL: the last four bytes */
	bool lx_dcomment;   /* LX_DECL: inside a comment */
	int lx_cpos;        /* LX_COMMENT: bytes since "<!--" */
	bool lx_cbang;      /* LX_COMMENT: "--!" seen, '>' would end it */
	bool lx_cbad;       /* LX_COMMENT: "--" inside, or ends in "-" */
	bool lx_pi_drop;    /* LX_PI: inside an element, dropped */
	bool lx_in_name, lx_name_done;
	char lx_last;       /* last non-space char in a start tag */
	char lx_name[LX_NAME + 1];
	size_t lx_namelen;
	/* The repair pass's own stack of open tag names (QNames as written),
	 * so that libxml2 only ever sees balanced tags. */
	struct sbuf lx_names;
	size_t lx_off[FEEDD_MAX_DEPTH + 1];
	int lx_depth_open, lx_over;

	xmlParserCtxtPtr ctxt;
	xmlSAXHandler sax;
	xmlEntity hent; /* the HTML entity answered last */
	xmlChar hent_buf[72];
	xmlEntity ient; /* the internal entity answered last, inlined */
	struct sbuf ient_buf; /* its replacement text */
	size_t ient_used;     /* bytes of replacement text so far */
	bool ient_over;       /* over the budget: no more expansions */
	bool ext_subset, netscape;
	char *root_uri;     /* an unknown namespace on the root element ... */
	enum ns root_ns;    /* ... read as this one */
	enum ns none_ns;    /* no namespace reads as this one (an Atom <feed>
	                     * without its namespace); NS_NONE: as RSS */
	bool html_wrap;     /* the document element is <html>: a feed may be
	                     * inside it (an Atom feed in an XHTML page) */

	struct frame *stack;
	int depth, overflow;
	bool root_seen, root_closed;
	char mismatch[128]; /* the real name of the end tag libxml2 misread */
	bool have_mismatch;

	/* The text being captured. */
	struct sbuf cap;
	int cap_depth;
	enum field cap_field;
	enum ttype cap_type;
	int cap_prio;
	bool cap_children;

	struct entry_tmp e;
	bool in_entry;

	int cb_rc;   /* non-zero: the entry callback stopped us */
	int oom;
	char err[256];
	bool err_set, notfeed;
};

/* parse.c: not a feed; msg replaces any earlier message. */
void parse__not_a_feed(struct parse *p, const char *msg);
/* parse.c: the feed is not well-formed (why: the first reason is kept). */
void parse__mark_malformed(struct parse *p, const char *why);
/* parse.c: stop libxml2 (no more callbacks for this document). */
void parse__stop(struct parse *p);
/* parse.c: out of memory; stops the parse. */
void parse__oom(struct parse *p);

/* SAX2 attributes: 5 pointers each (local, prefix, URI, value, end). */
struct attrs {
	const xmlChar **a;
	int n;
};

/* sax.c: the push parser in p->ctxt, with our SAX handlers. 0 or -ENOMEM. */
int parse__xml_start(struct parse *p);
/* sax.c: the xml:base in effect (the innermost frame's, else the
 * document's URL). */
const char *parse__frame_base(struct parse *p);
/* sax.c: an attribute's value, decoded (malloc'd, or NULL when absent). */
char *parse__attr_get(struct parse *p, const struct attrs *at,
	const char *local, const char *uri);
/* sax.c: push a frame (base owned when own); returns its index. */
int parse__push_frame(struct parse *p, const xmlChar *local, enum ctx c,
	char *base, bool own);
/* sax.c: close the frames from the innermost down to index idx. */
void parse__pop_to(struct parse *p, int idx);

/* classify.c: what a namespace URI is. */
enum ns parse__ns_of(const xmlChar *uri);
/* classify.c: decide what an element is and push its frame. */
void parse__classify(struct parse *p, const xmlChar *xlocal, enum ns ns,
	const struct attrs *at, char *base, bool own_base);
/* classify.c: the document element sets the format; false: not a feed. */
bool parse__detect_root(struct parse *p, const xmlChar *xlocal, enum ns ns,
	const struct attrs *at, int nb_ns, const xmlChar **nss);
/* classify.c: a feed's document element, inside an <html> wrapper. */
bool parse__feed_root(const xmlChar *xlocal, enum ns ns);

static inline bool
is_rssish(enum ns n)
{
	return n == NS_NONE || n == NS_RSS;
}

static inline bool
is_atom(enum ns n)
{
	return n == NS_ATOM10 || n == NS_ATOM03;
}

/* entry.c: set a slot when prio wins; takes ownership of v. */
void parse__slot_set(struct slot *s, char *v, int prio, bool replace_tie);
/* entry.c: point p->feed at the feed's slots (and derive the update
 * period). */
void parse__feed_sync(struct parse *p);
/* entry.c: a trimmed copy (NULL on ENOMEM, the parse stopped). */
char *parse__trim_dup(struct parse *p, const char *s, size_t n);
/* entry.c: a URL resolved against base (NULL when empty or unsafe, or on
 * ENOMEM). */
char *parse__url_from(struct parse *p, const char *base, const char *s,
	size_t n);
/* entry.c: add to the entry; both take ownership of c / url. */
void parse__add_category(struct parse *p, char *c);
void parse__add_enclosure(struct parse *p, char *url, const char *type,
	const char *length);
/* entry.c: the capture ended: its text becomes its field. */
void parse__capture_finish(struct parse *p, const char *base);
/* entry.c: an entry starts, ends (and is reported), or is dropped. */
void parse__entry_start(struct parse *p);
void parse__entry_finish(struct parse *p);
void parse__entry_clear(struct entry_tmp *e);

/* repair.c: the repair pass. Decoded UTF-8 in, balanced and escaped XML
 * appended to p->lexout; parse__lex_flush() at the end of the document.
 * Both return 0 or -ENOMEM. */
int parse__lex(struct parse *p, const char *in, size_t n);
int parse__lex_flush(struct parse *p);

#endif
