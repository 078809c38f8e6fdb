/*
 * parse/: documents from the wild that read wrong before (issue 12, point
 * 7), each from a fixture in tests/data/feeds: an Atom <feed> without its
 * namespace, an Atom feed inside an XHTML page, UTF-16 (and UTF-32) without
 * a byte-order mark, RSS <modified>, comments and processing instructions
 * inside text. Every document is parsed whole and in small chunks; the
 * chunked results must be the same as the whole one.
 */
#include "parse.h"

#include "check.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#define MAXE 8

struct ent {
	char *id, *link, *title, *author, *email, *published, *updated,
		*summary, *content, *cat;
	size_t ncats;
};

struct res {
	int rc;
	char err[256];
	enum parse_format format;
	bool malformed;
	char *title, *link, *subtitle, *updated, *author;
	size_t n;
	struct ent e[MAXE];
};

static char *
dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int
on_entry(void *ud, const struct parse_entry *pe)
{
	struct res *r = ud;

	if (r->n < MAXE) {
		struct ent *e = &r->e[r->n];
		e->id = dup(pe->id);
		e->link = dup(pe->link);
		e->title = dup(pe->title);
		e->author = dup(pe->author);
		e->email = dup(pe->author_email);
		e->published = dup(pe->published);
		e->updated = dup(pe->updated);
		e->summary = dup(pe->summary);
		e->content = dup(pe->content);
		e->cat = pe->ncategories ? dup(pe->categories[0]) : NULL;
		e->ncats = pe->ncategories;
	}
	r->n++;
	return 0;
}

static void
res_free(struct res *r)
{
	free(r->title);
	free(r->link);
	free(r->subtitle);
	free(r->updated);
	free(r->author);
	for (size_t i = 0; i < MAXE; i++) {
		struct ent *e = &r->e[i];
		free(e->id);
		free(e->link);
		free(e->title);
		free(e->author);
		free(e->email);
		free(e->published);
		free(e->updated);
		free(e->summary);
		free(e->content);
		free(e->cat);
	}
	memset(r, 0, sizeof(*r));
}

/* Push data in chunks of `chunk` bytes (0: all at once). */
static void
parse_mem(struct res *r, const char *data, size_t len, size_t chunk)
{
	struct parse_opts o = { .on_entry = on_entry, .ud = r };
	struct parse *p = NULL;
	int rc;

	REQUIRE(parse_create(&p, &o) == 0);
	rc = 0;
	for (size_t off = 0; off < len && rc == 0;) {
		size_t n = chunk && chunk < len - off ? chunk : len - off;
		rc = parse_push(p, data + off, n);
		off += n;
	}
	if (rc == 0)
		rc = parse_finish(p);
	r->rc = rc;
	snprintf(r->err, sizeof(r->err), "%s", parse_errmsg(p));
	const struct parse_feed *f = parse_feed_get(p);
	r->format = f->format;
	r->malformed = f->malformed;
	r->title = dup(f->title);
	r->link = dup(f->link);
	r->subtitle = dup(f->subtitle);
	r->updated = dup(f->updated);
	r->author = dup(f->author);
	parse_destroy(p);
}

static char *
slurp(const char *name, size_t *len)
{
	const char *dir = getenv("FEEDD_TEST_DATA");
	char path[1024];
	FILE *f;
	char *s;
	long n;

	snprintf(path, sizeof(path), "%s/feeds/%s", dir ? dir : "tests/data", name);
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = malloc((size_t)n + 1);
	if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	if (s)
		s[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return s;
}

static bool
same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Whole and chunked parses agree on everything this file looks at. */
static void
check_chunked(const struct res *whole, const char *data, size_t len)
{
	static const size_t chunks[] = { 1, 2, 3, 7, 64 };

	for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
		struct res r = { 0 };
		parse_mem(&r, data, len, chunks[k]);
		CHECK_INT_EQ(r.rc, whole->rc);
		CHECK_INT_EQ(r.format, whole->format);
		CHECK_INT_EQ(r.malformed, whole->malformed);
		CHECK_INT_EQ(r.n, whole->n);
		CHECK(same(r.title, whole->title));
		for (size_t i = 0; i < r.n && i < MAXE; i++) {
			const struct ent *a = &r.e[i], *b = &whole->e[i];
			if (!same(a->title, b->title) || !same(a->summary, b->summary) ||
				!same(a->content, b->content) ||
				!same(a->author, b->author) ||
				!same(a->published, b->published) ||
				!same(a->updated, b->updated))
				CHECK_FAIL_("chunk %zu: entry %zu differs (title \"%s\" vs \"%s\")",
					chunks[k], i, a->title ? a->title : "(null)",
					b->title ? b->title : "(null)");
		}
		res_free(&r);
	}
}

/* Parse a fixture whole into r, then check that chunking changes nothing. */
static void
parse_fixture(struct res *r, const char *name)
{
	size_t len = 0;
	char *s = slurp(name, &len);

	REQUIRE(s);
	parse_mem(r, s, len, 0);
	check_chunked(r, s, len);
	free(s);
}

/* ---- an Atom <feed> without the Atom namespace ------------------------ */

static void
t_atom_no_namespace(void)
{
	struct res r = { 0 };
	static const char atom03[] =
		"<feed version=\"0.3\"><title>Old</title><entry><title>One</title>"
		"<issued>2004-01-01T12:00:00Z</issued><modified>2004-01-02T12:00:00Z</modified>"
		"</entry></feed>";

	parse_fixture(&r, "ok_atom10_no_namespace.xml");
	CHECK_INT_EQ(r.rc, 0);
	CHECK_INT_EQ(r.format, PARSE_FORMAT_ATOM10);
	CHECK(!r.malformed);
	CHECK_STR_EQ(r.title, "Fietsenmakerij de Spaak");
	CHECK_STR_EQ(r.subtitle, "Werkplaatsnieuws en openingstijden");
	CHECK_STR_EQ(r.link, "https://spaak.example.nl/");
	CHECK_STR_EQ(r.updated, "2024-03-18T07:15:00Z");
	CHECK_STR_EQ(r.author, "Joke van der Spaak");
	CHECK_INT_EQ(r.n, 3);
	CHECK_STR_EQ(r.e[0].title, "Paasweekend gesloten");
	CHECK_STR_EQ(r.e[0].link, "https://spaak.example.nl/nieuws/paasweekend.html");
	CHECK_STR_EQ(r.e[0].id, "https://spaak.example.nl/nieuws/paasweekend.html");
	CHECK_STR_EQ(r.e[0].published, "2024-03-18T07:00:00Z");
	CHECK_STR_EQ(r.e[0].updated, "2024-03-18T07:15:00Z");
	CHECK_STR_EQ(r.e[0].summary,
		"<p>Van vrijdag 29 maart tot en met maandag 1 april is de werkplaats dicht.</p>");
	CHECK_STR_EQ(r.e[1].title, "Nieuwe bakfietsen binnen");
	CHECK_STR_EQ(r.e[1].author, "Ruud");
	CHECK_STR_EQ(r.e[1].published, "2024-03-02T13:30:00Z");
	CHECK_STR_EQ(r.e[1].updated, "2024-03-04T08:00:00Z");
	CHECK_STR_EQ(r.e[1].content, "<p>Drie modellen staan klaar voor een proefrit.</p>");
	CHECK_STR_EQ(r.e[2].title, "Winterbeurt: de laatste plekken");
	CHECK_NULL(r.e[2].published);
	CHECK_STR_EQ(r.e[2].updated, "2024-01-15T10:00:00Z");
	res_free(&r);

	/* Atom 0.3 without its namespace: the version says which. */
	parse_mem(&r, atom03, sizeof(atom03) - 1, 0);
	CHECK_INT_EQ(r.rc, 0);
	CHECK_INT_EQ(r.format, PARSE_FORMAT_ATOM03);
	CHECK_INT_EQ(r.n, 1);
	CHECK_STR_EQ(r.e[0].title, "One");
	CHECK_STR_EQ(r.e[0].published, "2004-01-01T12:00:00Z");
	CHECK_STR_EQ(r.e[0].updated, "2004-01-02T12:00:00Z");
	res_free(&r);
}

/* ---- an Atom feed inside an XHTML page -------------------------------- */

static void
t_atom_in_xhtml(void)
{
	struct res r = { 0 };
	static const char rss_in_html[] =
		"<html><head><title>x</title></head><body><div>"
		"<rss version=\"2.0\"><channel><title>Inner</title>"
		"<item><title>A</title><pubDate>Sun, 07 Jan 2024 10:00:00 GMT</pubDate></item>"
		"</channel></rss></div><item><title>outside</title></item></body></html>";
	static const char page[] =
		"<html><body><p>No feed <b>here</b>, <entry>nor</entry> here.</p></body></html>";

	parse_fixture(&r, "ok_atom10_in_xhtml.xhtml");
	CHECK_INT_EQ(r.rc, 0);
	CHECK_INT_EQ(r.format, PARSE_FORMAT_ATOM10);
	CHECK(!r.malformed);
	CHECK_STR_EQ(r.title, "Widgetd releases");
	CHECK_STR_EQ(r.link, "https://widgetd.example.org/releases/");
	CHECK_STR_EQ(r.updated, "2024-05-02T16:20:00Z");
	CHECK_INT_EQ(r.n, 2);
	CHECK_STR_EQ(r.e[0].title, "widgetd 2.4.1");
	CHECK_STR_EQ(r.e[0].published, "2024-05-02T16:00:00Z");
	CHECK_STR_EQ(r.e[0].updated, "2024-05-02T16:20:00Z");
	CHECK_STR_EQ(r.e[0].summary,
		"<p>Fixes a crash when the <code>--watch</code> directory is removed.</p>");
	CHECK_STR_EQ(r.e[1].title, "widgetd 2.4.0");
	CHECK_STR_EQ(r.e[1].published, "2024-04-11T07:30:00Z");
	res_free(&r);

	/* RSS inside HTML likewise; what follows the feed is not read. */
	parse_mem(&r, rss_in_html, sizeof(rss_in_html) - 1, 0);
	CHECK_INT_EQ(r.rc, 0);
	CHECK_INT_EQ(r.format, PARSE_FORMAT_RSS20);
	CHECK_STR_EQ(r.title, "Inner");
	CHECK_INT_EQ(r.n, 1);
	CHECK_STR_EQ(r.e[0].title, "A");
	CHECK_STR_EQ(r.e[0].published, "2024-01-07T10:00:00Z");
	res_free(&r);

	/* A page without a feed is still no feed, and says so as before. */
	parse_mem(&r, page, sizeof(page) - 1, 0);
	CHECK_INT_EQ(r.rc, -EBADMSG);
	CHECK_STR_EQ(r.err, "not a feed: root element is <html>");
	CHECK_INT_EQ(r.n, 0);
	res_free(&r);
}

/* ---- UTF-16 and UTF-32 without a byte-order mark ---------------------- */

/* The code points of UTF-16LE/BE text (surrogate pairs joined). */
static size_t
utf16_decode(const unsigned char *s, size_t len, bool be, uint32_t *out,
	size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i + 1 < len && n < max; i += 2) {
		uint32_t u = be ? (uint32_t)(s[i] << 8 | s[i + 1])
				: (uint32_t)(s[i + 1] << 8 | s[i]);
		if (u >= 0xD800 && u < 0xDC00 && i + 3 < len) {
			uint32_t l = be ? (uint32_t)(s[i + 2] << 8 | s[i + 3])
					: (uint32_t)(s[i + 3] << 8 | s[i + 2]);
			u = 0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00);
			i += 2;
		}
		out[n++] = u;
	}
	return n;
}

static void
check_utf16_feed(const struct res *r)
{
	CHECK_INT_EQ(r->rc, 0);
	CHECK_INT_EQ(r->format, PARSE_FORMAT_RSS20);
	/* Well-formed and decoded as what it is: no "malformed", no
	 * "bytes not valid in the document's encoding". */
	CHECK(!r->malformed);
	CHECK_STR_EQ(r->err, "no error");
	CHECK_STR_EQ(r->title, "Ελληνικά νέα · 日本語ニュース");
	CHECK_INT_EQ(r->n, 2);
	CHECK_STR_EQ(r->e[0].title, "Καλημέρα κόσμε");
	CHECK_STR_EQ(r->e[0].published, "2024-07-03T03:30:00Z");
	CHECK_STR_EQ(r->e[0].summary, "Πρώτο άρθρο — first article");
	CHECK_STR_EQ(r->e[1].title, "東京の天気 ☀");
	CHECK_STR_EQ(r->e[1].published, "2024-07-02T09:00:00Z");
	CHECK_STR_EQ(r->e[1].summary, "晴れ、最高気温 31℃");
}

static void
t_utf16_no_bom(void)
{
	struct res r = { 0 };

	/* With the declaration (Appendix F's "<?" pattern). */
	parse_fixture(&r, "ok_encoding_utf16le_nobom.xml");
	check_utf16_feed(&r);
	res_free(&r);
	/* Without a declaration: the '<' and the name after it. */
	parse_fixture(&r, "ok_encoding_utf16be_nobom_nodecl.xml");
	check_utf16_feed(&r);
	res_free(&r);
}

static void
t_utf32_and_leading_space(void)
{
	size_t len = 0;
	char *src = slurp("ok_encoding_utf16le_nobom.xml", &len);
	uint32_t *cp;
	unsigned char *doc;
	size_t ncp;

	REQUIRE(src);
	cp = malloc((len / 2 + 1) * sizeof(*cp));
	doc = malloc((len / 2 + 2) * 4);
	REQUIRE(cp && doc);
	ncp = utf16_decode((const unsigned char *)src, len, false, cp, len / 2 + 1);
	for (int v = 0; v < 4; v++) {
		/* UTF-32LE, UTF-32BE; then UTF-16BE with a line break before
		 * the declaration, UTF-32LE likewise. */
		bool be = v == 1 || v == 2;
		size_t unit = v == 2 ? 2 : 4, m = 0;
		struct res r = { 0 };
		uint32_t lead = '\n';

		if (v >= 2) {
			for (size_t b = 0; b < unit; b++)
				doc[m + b] = (unsigned char)(be ? (b == unit - 1 ? lead : 0)
								 : (b == 0 ? lead : 0));
			m += unit;
		}
		for (size_t i = 0; i < ncp; i++) {
			uint32_t c = cp[i];
			if (unit == 2) {
				REQUIRE(c < 0x10000);
				doc[m] = (unsigned char)(be ? c >> 8 : c);
				doc[m + 1] = (unsigned char)(be ? c : c >> 8);
			} else {
				for (int b = 0; b < 4; b++)
					doc[m + (size_t)b] = (unsigned char)(c >>
						(8 * (be ? 3 - b : b)));
			}
			m += unit;
		}
		parse_mem(&r, (const char *)doc, m, 0);
		check_utf16_feed(&r);
		check_chunked(&r, (const char *)doc, m);
		res_free(&r);
	}
	free(cp);
	free(doc);
	free(src);
}

/* ---- RSS <modified> --------------------------------------------------- */

static void
t_rss_modified(void)
{
	struct res r = { 0 };

	parse_fixture(&r, "ok_rss20_modified.xml");
	CHECK_INT_EQ(r.rc, 0);
	CHECK_INT_EQ(r.format, PARSE_FORMAT_RSS20);
	CHECK(!r.malformed);
	CHECK_STR_EQ(r.title, "Gemeentenieuws Oosterveld");
	CHECK_STR_EQ(r.updated, "2024-04-12T13:45:00Z");
	CHECK_INT_EQ(r.n, 3);
	CHECK_STR_EQ(r.e[0].title, "Werkzaamheden Dorpsstraat verlengd");
	CHECK_STR_EQ(r.e[0].published, "2024-04-08T07:00:00Z");
	CHECK_STR_EQ(r.e[0].updated, "2024-04-12T13:45:00Z");
	CHECK_STR_EQ(r.e[1].title, "Inloopavond omgevingsvisie");
	CHECK_NULL(r.e[1].published);
	CHECK_STR_EQ(r.e[1].updated, "2024-03-28T10:20:00Z");
	CHECK_STR_EQ(r.e[2].title, "Afvalkalender 2024");
	CHECK_STR_EQ(r.e[2].published, "2024-01-02T07:00:00Z");
	CHECK_NULL(r.e[2].updated);
	res_free(&r);
}

/* ---- comments and processing instructions inside text ----------------- */

static void
t_comments_in_text(void)
{
	struct res r = { 0 };

	parse_fixture(&r, "ok_comments_in_text.xml");
	CHECK_INT_EQ(r.rc, 0);
	CHECK_INT_EQ(r.format, PARSE_FORMAT_RSS20);
	CHECK_STR_EQ(r.title, "The Night Shift");
	CHECK_STR_EQ(r.subtitle, "Notes from the late desk");
	CHECK_INT_EQ(r.n, 3);
	CHECK_STR_EQ(r.e[0].title, "safe");
	CHECK_STR_EQ(r.e[0].author, "Marta Ruiz");
	CHECK_STR_EQ(r.e[0].email, "desk@nightshift.example.com");
	CHECK_STR_EQ(r.e[0].cat, "Security");
	CHECK_STR_EQ(r.e[0].published, "2024-06-01T23:10:00Z");
	CHECK_STR_EQ(r.e[0].summary, "Lock  your doors");
	CHECK_STR_EQ(r.e[0].content, "<p>Keep it <b>safe</b></p> and sound");
	/* "--->" and "<!-->" are not XML, but end where a browser ends
	 * them: the rest of the text (and document) is still read. */
	CHECK_STR_EQ(r.e[1].title, "Template leftovers");
	CHECK_STR_EQ(r.e[1].author, "Sam Okafor");
	CHECK_STR_EQ(r.e[1].summary, "An empty comment is not the end");
	CHECK_STR_EQ(r.e[1].published, "2024-05-31T22:00:00Z");
	CHECK_STR_EQ(r.e[2].title, "Processing instructions");
	CHECK_STR_EQ(r.e[2].summary, "still read");
	CHECK_STR_EQ(r.e[2].published, "2024-05-30T21:00:00Z");
	CHECK(r.malformed);
	res_free(&r);

	parse_fixture(&r, "ok_comments_in_text_atom.xml");
	CHECK_INT_EQ(r.rc, 0);
	CHECK_INT_EQ(r.format, PARSE_FORMAT_ATOM10);
	CHECK(!r.malformed);
	CHECK_STR_EQ(r.title, "Field notes weekly");
	CHECK_INT_EQ(r.n, 1);
	CHECK_STR_EQ(r.e[0].title, "Moss and ferns");
	CHECK_STR_EQ(r.e[0].author, "Ingrid Holm");
	CHECK_STR_EQ(r.e[0].summary, "Wet  woods");
	CHECK_STR_EQ(r.e[0].content, "<p>Green everywhere</p>");
	CHECK_STR_EQ(r.e[0].updated, "2024-02-10T07:00:00Z");
	res_free(&r);
}

/* Each kind of comment alone: well-formed ones leave the feed well-formed,
 * the others mark it malformed; none loses text. */
static void
t_comment_forms(void)
{
	static const struct {
		const char *c;
		bool malformed;
	} forms[] = {
		{ "<!-- x -->", false },
		{ "<!---->", false },
		{ "<!--x-->", false },
		{ "<!-- a - b -->", false },
		{ "<?php echo 1; ?>", false },
		{ "<!-- x --->", true },
		{ "<!-- a -- b -->", true },
		{ "<!-->", true },
		{ "<!--->", true },
		{ "<!-- x --!>", true },
		{ "<? x ?>", true },
		{ "<?xml version=\"1.0\"?>", true },
	};
	char doc[512];

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct res r = { 0 };
		int n = snprintf(doc, sizeof(doc),
			"<rss version=\"2.0\"><channel><title>c</title>"
			"<item><title>sa%sfe</title><description>one</description></item>"
			"<item><title>two</title></item></channel></rss>", forms[i].c);
		parse_mem(&r, doc, (size_t)n, 0);
		check_chunked(&r, doc, (size_t)n);
		CHECK_INT_EQ(r.rc, 0);
		CHECK_INT_EQ(r.n, 2);
		if (!r.e[0].title || strcmp(r.e[0].title, "safe") != 0)
			CHECK_FAIL_("%s: title \"%s\"", forms[i].c,
				r.e[0].title ? r.e[0].title : "(null)");
		CHECK_STR_EQ(r.e[0].summary, "one");
		CHECK_STR_EQ(r.e[1].title, "two");
		if (r.malformed != forms[i].malformed)
			CHECK_FAIL_("%s: malformed %d, want %d", forms[i].c,
				r.malformed, forms[i].malformed);
		res_free(&r);
	}
}

static const struct check_case cases[] = {
	{ "atom_no_namespace", t_atom_no_namespace },
	{ "atom_in_xhtml", t_atom_in_xhtml },
	{ "utf16_no_bom", t_utf16_no_bom },
	{ "utf32_and_leading_space", t_utf32_and_leading_space },
	{ "rss_modified", t_rss_modified },
	{ "comments_in_text", t_comments_in_text },
	{ "comment_forms", t_comment_forms },
	{ 0 },
};

int
main(int argc, char **argv)
{
	return check_main(argc, argv, cases);
}
