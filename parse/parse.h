/*
 * parse/: a feed document's bytes -> one normalized feed and its entries.
 *
 * Reads RSS 0.90-2.0, RSS 1.0 (RDF), Atom 0.3/1.0 (libxml2 push parser) and
 * JSON Feed 1.0/1.1 (jansson). The format is detected from the document
 * itself. Bytes may be pushed in chunks as they arrive from the network; each
 * entry is reported through a callback as soon as it is complete, so memory
 * is bounded by one entry rather than by the document.
 *
 * Every string that leaves this module is valid UTF-8 and normalized: dates
 * are RFC 3339 UTC ("2004-01-01T12:00:00Z"), URLs are absolute where a base
 * is known and use a safe scheme, summary/content are sanitized HTML, and
 * title/author/subtitle/rights are plain text.
 *
 * parse/ does no I/O of its own: no files, no network, no DTD loading, no
 * external entities, no logging. A parser object belongs to one thread at a
 * time; separate objects may be used on separate threads.
 */
#ifndef FEEDD_PARSE_PARSE_H
#define FEEDD_PARSE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Budgets for everything that comes from the network. */
#define FEEDD_MAX_ENTRIES 100000         /* entries reported per document */
#define FEEDD_MAX_FIELD (1024 * 1024)    /* bytes in one text field */
#define FEEDD_MAX_DEPTH 256              /* element nesting */

enum parse_format {
	PARSE_FORMAT_UNKNOWN = 0,
	PARSE_FORMAT_RSS090,
	PARSE_FORMAT_RSS091N, /* Netscape 0.91 (has a DTD) */
	PARSE_FORMAT_RSS091U, /* UserLand 0.91 */
	PARSE_FORMAT_RSS092,
	PARSE_FORMAT_RSS093,
	PARSE_FORMAT_RSS094,
	PARSE_FORMAT_RSS10,
	PARSE_FORMAT_RSS20,
	PARSE_FORMAT_ATOM03,
	PARSE_FORMAT_ATOM10,
	PARSE_FORMAT_JSONFEED,
};

/* The short name used in JSON output: "rss20", "atom10", "jsonfeed", ... */
const char *parse_format_name(enum parse_format f);

struct parse_enclosure {
	const char *url;  /* borrowed; absolute when a base is known */
	const char *type; /* borrowed; may be NULL */
	int64_t length;   /* bytes, or -1 when unknown */
};

/*
 * One entry. Every pointer is borrowed and valid only until the entry
 * callback returns; NULL means absent. Callers copy what they keep.
 */
struct parse_entry {
	const char *id;           /* guid / atom:id / JSON id, trimmed */
	const char *link;         /* the alternate link, absolute */
	const char *title;        /* plain text */
	const char *author;       /* name only, plain text */
	const char *author_email;
	const char *published;    /* RFC 3339 UTC */
	const char *updated;      /* RFC 3339 UTC */
	const char *summary;      /* sanitized HTML */
	const char *content;      /* sanitized HTML */
	const char *text;         /* plain-text rendering of content, else summary */
	const char *comments;     /* URL */
	const char *const *categories; /* ncategories strings */
	size_t ncategories;
	const struct parse_enclosure *enclosures;
	size_t nenclosures;
};

/*
 * Feed-level data. Valid after parse_finish() (fields seen so far are
 * visible earlier) until parse_destroy(). Strings are owned by the parser.
 */
struct parse_feed {
	enum parse_format format;
	bool malformed;           /* not well-formed, or not decodable as declared */
	const char *title, *link, *id, *subtitle, *language;
	const char *updated, *published;
	const char *author, *author_email;
	const char *image, *generator, *rights;
	/* Polling hints; 0 / -1 when absent. */
	int ttl_minutes;          /* RSS <ttl>, -1 when absent */
	uint32_t skip_hours;      /* bit h set: skip hour h (0-23, UTC) */
	uint8_t skip_days;        /* bit d set: skip day d (0 = Sunday) */
	int64_t update_period_s;  /* sy:updatePeriod / sy:updateFrequency, 0 when absent */
	size_t nentries;          /* entries reported so far */
	bool truncated;           /* a cap (entries, depth, field size) was hit */
};

/*
 * Called once per complete entry, in document order. Return 0 to go on;
 * any other value stops parsing, and parse_push()/parse_finish() return it.
 * The callback must not call parse_destroy() on its own parser.
 */
typedef int (*parse_entry_cb)(void *ud, const struct parse_entry *e);

struct parse_opts {
	const char *base_url;  /* borrowed; the document's own URL, may be NULL */
	const char *charset;   /* borrowed; HTTP Content-Type charset hint, may be NULL */
	parse_entry_cb on_entry;
	void *ud;
	size_t max_entries;    /* 0 = FEEDD_MAX_ENTRIES */
};

struct parse;

/* Returns 0 or -ENOMEM; *out is untouched on failure. */
int parse_create(struct parse **out, const struct parse_opts *o);

/*
 * Feed the next chunk of the document. Returns 0, -ENOMEM, or the entry
 * callback's non-zero value. A malformed document is not an error here:
 * parsing recovers and the feed is marked malformed.
 */
int parse_push(struct parse *p, const void *buf, size_t len);

/*
 * End of document. Returns 0 when a feed was recognized (entries may be
 * zero), -EBADMSG when the input is not a feed (parse_errmsg() says why,
 * e.g. "not a feed: root element is <html>"), -ENOMEM, or the entry
 * callback's non-zero value.
 */
int parse_finish(struct parse *p);

/* Borrowed; valid until parse_destroy(). */
const struct parse_feed *parse_feed_get(const struct parse *p);

/* Human-readable reason for the last failure or the first recovery; never NULL. */
const char *parse_errmsg(const struct parse *p);

/* parse_destroy(NULL) is a no-op. */
void parse_destroy(struct parse *p);

/* Convenience: create, push the whole buffer, finish. The feed data is
 * reported through the callback only; returns as parse_finish(). If
 * errbuf is not NULL, the error text is copied into it. */
int parse_buffer(const void *buf, size_t len, const struct parse_opts *o,
	char *errbuf, size_t errlen);

#endif
