/*
 * parse/: bytes -> parse_create(), parse_push() in chunks of varying size,
 * parse_finish(). The first input byte picks the options (base URL, charset
 * hint, entry cap) and seeds the chunk sizes; the rest is the document.
 *
 * Properties, for every entry and for the feed: every string is valid
 * UTF-8 and within the field cap (sanitized HTML may grow by escaping, so
 * 8 x FEEDD_MAX_FIELD); dates have the RFC 3339 shape; links, comments and
 * enclosure URLs have a safe scheme; summary/content hold no <script;
 * title/author hold no markup from the sanitizer (plain text); categories
 * and enclosures are present as counted; entries never exceed the cap; the
 * return codes are the documented ones.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>

#include "fuzz.h"
#include "norm.h"
#include "parse.h"

#define MAX_OUT ((size_t)FEEDD_MAX_FIELD * 8)

struct ctx {
	size_t n;
	size_t max;
};

static void
check_str(const char *what, const char *s)
{
	if (!s)
		return;
	size_t n = strlen(s);
	FUZZ_CHECK(n <= MAX_OUT, "%s: %zu bytes", what, n);
	FUZZ_CHECK(parse__utf8_valid(s, n), "%s: invalid UTF-8", what);
}

static void
check_date(const char *what, const char *d)
{
	if (!d)
		return;
	char again[21];
	FUZZ_CHECK(strlen(d) == 20 && d[4] == '-' && d[7] == '-' && d[10] == 'T' &&
		d[13] == ':' && d[16] == ':' && d[19] == 'Z', "%s: \"%s\"", what, d);
	FUZZ_CHECK(parse__date(d, again) == 0 && strcmp(d, again) == 0,
		"%s: \"%s\" is no valid date", what, d);
}

static void
check_url(const char *what, const char *u)
{
	if (!u)
		return;
	check_str(what, u);
	FUZZ_CHECK(parse__url_safe(u), "%s: unsafe \"%s\"", what, u);
}

static void
check_html(const char *what, const char *h)
{
	if (!h)
		return;
	check_str(what, h);
	FUZZ_CHECK(!strcasestr(h, "<script"), "%s: <script survived", what);
	FUZZ_CHECK(!strcasestr(h, "<iframe"), "%s: <iframe survived", what);
}

static int
on_entry(void *ud, const struct parse_entry *e)
{
	struct ctx *c = ud;

	c->n++;
	FUZZ_CHECK(c->n <= c->max, "entry %zu over the cap %zu", c->n, c->max);
	check_str("id", e->id);
	check_url("link", e->link);
	check_str("title", e->title);
	check_str("author", e->author);
	check_str("author_email", e->author_email);
	check_date("published", e->published);
	check_date("updated", e->updated);
	check_html("summary", e->summary);
	check_html("content", e->content);
	check_str("text", e->text);
	check_url("comments", e->comments);
	FUZZ_CHECK(e->ncategories == 0 || e->categories, "categories NULL");
	for (size_t i = 0; i < e->ncategories; i++) {
		FUZZ_CHECK(e->categories[i], "category %zu NULL", i);
		check_str("category", e->categories[i]);
	}
	FUZZ_CHECK(e->nenclosures == 0 || e->enclosures, "enclosures NULL");
	for (size_t i = 0; i < e->nenclosures; i++) {
		check_url("enclosure", e->enclosures[i].url);
		check_str("enclosure type", e->enclosures[i].type);
		FUZZ_CHECK(e->enclosures[i].length >= -1, "length %lld",
			(long long)e->enclosures[i].length);
	}
	return 0;
}

static void
check_feed(const struct parse_feed *f)
{
	check_str("feed title", f->title);
	check_url("feed link", f->link);
	check_str("feed id", f->id);
	check_str("feed subtitle", f->subtitle);
	check_str("feed language", f->language);
	check_date("feed updated", f->updated);
	check_date("feed published", f->published);
	check_str("feed author", f->author);
	check_str("feed author_email", f->author_email);
	check_url("feed image", f->image);
	check_str("feed generator", f->generator);
	check_str("feed rights", f->rights);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	xmlInitParser(); /* process-wide, as feedd's main does */
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const bases[] = { NULL, "http://example.com/feed/rss.xml",
		"https://example.org/a/b/", "relative/base" };
	static const char *const charsets[] = { NULL, "utf-8", "iso-8859-1",
		"windows-1252", "utf-16", "koi8-r", "bogus-charset", "" };
	struct parse_opts o = { 0 };
	struct parse *p = NULL;
	struct ctx c = { 0 };
	uint32_t seed;
	int rc;

	if (size < 1 || size > 1024 * 1024)
		return 0;
	seed = data[0];
	data++;
	size--;
	o.base_url = bases[seed & 3];
	o.charset = charsets[(seed >> 2) & 7];
	o.max_entries = (seed & 0x20) ? 3 : 0;
	c.max = o.max_entries ? o.max_entries : FEEDD_MAX_ENTRIES;
	o.on_entry = on_entry;
	o.ud = &c;

	rc = parse_create(&p, &o);
	if (rc == -ENOMEM)
		return 0;
	FUZZ_CHECK(rc == 0 && p, "parse_create: %d", rc);
	/* Chunk sizes from a small LCG: 1 byte up to the whole input. */
	size_t off = 0;
	uint32_t x = seed * 2654435761u + 1;
	while (off < size) {
		x = x * 1103515245u + 12345u;
		size_t chunk = (seed & 0x40) ? size : 1 + (x >> 16) % 512;
		if (chunk > size - off)
			chunk = size - off;
		rc = parse_push(p, data + off, chunk);
		FUZZ_CHECK(rc == 0 || rc == -ENOMEM, "parse_push: %d", rc);
		if (rc)
			goto out;
		off += chunk;
	}
	rc = parse_finish(p);
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -ENOMEM, "parse_finish: %d", rc);
	const struct parse_feed *f = parse_feed_get(p);
	FUZZ_CHECK(f, "no feed");
	check_feed(f);
	FUZZ_CHECK(f->nentries == c.n, "nentries %zu, callbacks %zu", f->nentries, c.n);
	const char *msg = parse_errmsg(p);
	FUZZ_CHECK(msg, "errmsg NULL");
	check_str("errmsg", msg);
	if (rc == -EBADMSG)
		FUZZ_CHECK(*msg, "-EBADMSG without a message");
out:
	parse_destroy(p);
	return 0;
}
