/*
 * parse/: formats, normalization rules, malformed recovery, encodings,
 * chunked input and the caps, against the fixtures in tests/data/feeds
 * (named by expected outcome) and a few generated documents.
 */
#include "parse.h"

#include "check.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* ---- helpers ---------------------------------------------------------- */

struct buf {
	char *s;
	size_t len, cap;
};

static void
buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (b->len + n + 1 > cap)
			cap *= 2;
		b->s = realloc(b->s, cap);
		if (!b->s)
			abort();
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
buf_str(struct buf *b, const char *k, const char *v)
{
	buf_add(b, k, strlen(k));
	buf_add(b, "=", 1);
	if (v)
		buf_add(b, v, strlen(v));
	else
		buf_add(b, "(null)", 6);
	buf_add(b, "\n", 1);
}

/* Up to 8 entries are kept field by field; all are serialized. */
#define MAXE 8
struct result {
	int rc;
	char err[256];
	struct parse_feed feed;
	char *ftitle, *flink, *fsubtitle, *flanguage, *fauthor, *femail, *fimage,
		*frights, *fupdated, *fpublished, *fid, *fgenerator;
	size_t n;
	struct {
		char *id, *link, *title, *author, *email, *published, *updated,
			*summary, *content, *text, *comments;
		char *cats[4];
		size_t ncats;
		char *enc_url, *enc_type;
		int64_t enc_len;
		size_t nencs;
	} e[MAXE];
	struct buf all; /* every entry serialized, for comparisons */
	int stop_after; /* callback returns 42 after this many (0 = never) */
};

static char *
dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static bool
utf8_ok(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	while (s && *u) {
		int n = *u < 0x80 ? 1 : (*u & 0xE0) == 0xC0 ? 2 : (*u & 0xF0) == 0xE0 ? 3
			: (*u & 0xF8) == 0xF0 ? 4 : 0;
		if (n == 0)
			return false;
		for (int i = 1; i < n; i++)
			if ((u[i] & 0xC0) != 0x80)
				return false;
		u += n;
	}
	return true;
}

static int
on_entry(void *ud, const struct parse_entry *e)
{
	struct result *r = ud;
	const char *f[] = { e->id, e->link, e->title, e->author, e->author_email,
		e->published, e->updated, e->summary, e->content, e->text, e->comments };

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		CHECK(utf8_ok(f[i]));
	if (r->n < MAXE) {
		r->e[r->n].id = dup(e->id);
		r->e[r->n].link = dup(e->link);
		r->e[r->n].title = dup(e->title);
		r->e[r->n].author = dup(e->author);
		r->e[r->n].email = dup(e->author_email);
		r->e[r->n].published = dup(e->published);
		r->e[r->n].updated = dup(e->updated);
		r->e[r->n].summary = dup(e->summary);
		r->e[r->n].content = dup(e->content);
		r->e[r->n].text = dup(e->text);
		r->e[r->n].comments = dup(e->comments);
		for (size_t i = 0; i < e->ncategories && i < 4; i++)
			r->e[r->n].cats[i] = dup(e->categories[i]);
		r->e[r->n].ncats = e->ncategories;
		r->e[r->n].nencs = e->nenclosures;
		if (e->nenclosures) {
			r->e[r->n].enc_url = dup(e->enclosures[0].url);
			r->e[r->n].enc_type = dup(e->enclosures[0].type);
			r->e[r->n].enc_len = e->enclosures[0].length;
		}
	}
	r->n++;
	buf_str(&r->all, "id", e->id);
	buf_str(&r->all, "link", e->link);
	buf_str(&r->all, "title", e->title);
	buf_str(&r->all, "author", e->author);
	buf_str(&r->all, "email", e->author_email);
	buf_str(&r->all, "published", e->published);
	buf_str(&r->all, "updated", e->updated);
	buf_str(&r->all, "summary", e->summary);
	buf_str(&r->all, "content", e->content);
	buf_str(&r->all, "text", e->text);
	buf_str(&r->all, "comments", e->comments);
	for (size_t i = 0; i < e->ncategories; i++)
		buf_str(&r->all, "cat", e->categories[i]);
	for (size_t i = 0; i < e->nenclosures; i++)
		buf_str(&r->all, "enc", e->enclosures[i].url);
	if (r->stop_after && (int)r->n >= r->stop_after)
		return 42;
	return 0;
}

static void
result_free(struct result *r)
{
	char **fs[] = { &r->ftitle, &r->flink, &r->fsubtitle, &r->flanguage,
		&r->fauthor, &r->femail, &r->fimage, &r->frights, &r->fupdated,
		&r->fpublished, &r->fid, &r->fgenerator };
	for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++)
		free(*fs[i]);
	for (size_t i = 0; i < MAXE; i++) {
		free(r->e[i].id);
		free(r->e[i].link);
		free(r->e[i].title);
		free(r->e[i].author);
		free(r->e[i].email);
		free(r->e[i].published);
		free(r->e[i].updated);
		free(r->e[i].summary);
		free(r->e[i].content);
		free(r->e[i].text);
		free(r->e[i].comments);
		for (size_t j = 0; j < 4; j++)
			free(r->e[i].cats[j]);
		free(r->e[i].enc_url);
		free(r->e[i].enc_type);
	}
	free(r->all.s);
	memset(r, 0, sizeof(*r));
}

/*
 * Parse data pushed in chunks: chunk = 0 means all at once, chunk > 0 that
 * size, chunk < 0 random sizes from 1 to -chunk (seeded).
 */
static void
parse_chunks(struct result *r, const char *data, size_t len, long chunk,
	const char *base, const char *charset)
{
	struct parse_opts o = { .base_url = base, .charset = charset,
		.on_entry = on_entry, .ud = r };
	struct parse *p = NULL;
	int rc;
	size_t off = 0;
	unsigned seed = 12345;

	rc = parse_create(&p, &o);
	REQUIRE(rc == 0);
	while (off < len) {
		size_t n = len - off;
		if (chunk > 0 && (size_t)chunk < n)
			n = (size_t)chunk;
		if (chunk < 0) {
			seed = seed * 1103515245u + 12345u;
			size_t k = 1 + (seed >> 8) % (size_t)(-chunk);
			if (k < n)
				n = k;
		}
		rc = parse_push(p, data + off, n);
		if (rc != 0)
			break;
		off += n;
	}
	if (rc == 0)
		rc = parse_finish(p);
	r->rc = rc;
	snprintf(r->err, sizeof(r->err), "%s", parse_errmsg(p));
	const struct parse_feed *f = parse_feed_get(p);
	r->feed = *f;
	r->ftitle = dup(f->title);
	r->flink = dup(f->link);
	r->fsubtitle = dup(f->subtitle);
	r->flanguage = dup(f->language);
	r->fauthor = dup(f->author);
	r->femail = dup(f->author_email);
	r->fimage = dup(f->image);
	r->frights = dup(f->rights);
	r->fupdated = dup(f->updated);
	r->fpublished = dup(f->published);
	r->fid = dup(f->id);
	r->fgenerator = dup(f->generator);
	/* The feed's strings are gone after destroy; copies stay. */
	r->feed.title = r->feed.link = r->feed.id = r->feed.subtitle = NULL;
	r->feed.language = r->feed.updated = r->feed.published = NULL;
	r->feed.author = r->feed.author_email = r->feed.image = NULL;
	r->feed.generator = r->feed.rights = NULL;
	buf_str(&r->all, "feed.title", f->title);
	buf_str(&r->all, "feed.link", f->link);
	buf_str(&r->all, "feed.subtitle", f->subtitle);
	buf_str(&r->all, "feed.malformed", f->malformed ? "1" : "0");
	parse_destroy(p);
}

static char *
slurp(const char *name, size_t *len)
{
	const char *dir = getenv("FEEDD_TEST_DATA");
	char path[1024];
	FILE *f;
	char *s = NULL;
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

static void
parse_file(struct result *r, const char *name, const char *base)
{
	size_t len = 0;
	char *s = slurp(name, &len);
	REQUIRE(s);
	parse_chunks(r, s, len, 0, base, NULL);
	free(s);
}

static void
parse_str(struct result *r, const char *doc)
{
	parse_chunks(r, doc, strlen(doc), 0, NULL, NULL);
}

/* ---- formats ---------------------------------------------------------- */

static void
t_rss20(void)
{
	struct result r = { 0 };
	parse_file(&r, "ok_rss20_basic.xml", NULL);
	CHECK_INT_EQ(r.rc, 0);
	CHECK_INT_EQ(r.feed.format, PARSE_FORMAT_RSS20);
	CHECK(!r.feed.malformed);
	CHECK_STR_EQ(r.ftitle, "Example & Co news");
	CHECK_STR_EQ(r.flink, "http://example.com/");
	/* RSS channel description is the subtitle, as plain text. */
	CHECK_STR_EQ(r.fsubtitle, "All the news fit to print");
	CHECK_STR_EQ(r.flanguage, "en-us");
	CHECK_STR_EQ(r.fauthor, "Ed Itor");
	CHECK_STR_EQ(r.femail, "editor@example.com");
	/* The image's own title and link do not overwrite the channel's. */
	CHECK_STR_EQ(r.fimage, "http://example.com/logo.png");
	CHECK_STR_EQ(r.fupdated, "2024-01-01T11:00:00Z");
	CHECK_STR_EQ(r.frights, "Copyright 2024 Example");
	CHECK_INT_EQ(r.feed.ttl_minutes, 60);
	CHECK_INT_EQ(r.feed.skip_hours, (1u << 0) | (1u << 23));
	CHECK_INT_EQ(r.feed.skip_days, (1u << 0) | (1u << 6));
	CHECK_INT_EQ(r.feed.update_period_s, 86400 / 4);
	CHECK_INT_EQ(r.n, 2);
	CHECK_INT_EQ(r.feed.nentries, 2);
	CHECK_STR_EQ(r.e[0].id, "story-1");
	CHECK_STR_EQ(r.e[0].link, "http://example.com/1");
	CHECK_STR_EQ(r.e[0].title, "First story");
	CHECK_STR_EQ(r.e[0].author, "Jane Doe");
	CHECK_STR_EQ(r.e[0].email, "jane@example.com");
	CHECK_STR_EQ(r.e[0].published, "2024-01-02T08:30:00Z");
	CHECK(r.e[0].summary && strstr(r.e[0].summary, "summary</a>"));
	CHECK(r.e[0].summary && !strstr(r.e[0].summary, "script"));
	CHECK(r.e[0].content && strstr(r.e[0].content, "<em>body</em>"));
	/* text renders content (not summary), paragraphs apart. */
	CHECK_STR_EQ(r.e[0].text, "Full body one.\n\nSecond paragraph.");
	CHECK_STR_EQ(r.e[0].comments, "http://example.com/1#comments");
	CHECK_INT_EQ(r.e[0].ncats, 2);
	CHECK_STR_EQ(r.e[0].cats[0], "World");
	CHECK_STR_EQ(r.e[0].cats[1], "Politics");
	CHECK_INT_EQ(r.e[0].nencs, 1);
	CHECK_STR_EQ(r.e[0].enc_url, "http://example.com/1.mp3");
	CHECK_STR_EQ(r.e[0].enc_type, "audio/mpeg");
	CHECK_INT_EQ(r.e[0].enc_len, 12345);
	/* A permalink guid is the id and, without <link>, the link. */
	CHECK_STR_EQ(r.e[1].id, "http://example.com/2");
	CHECK_STR_EQ(r.e[1].link, "http://example.com/2");
	CHECK_STR_EQ(r.e[1].author, "John Roe");
	CHECK_STR_EQ(r.e[1].updated, "2024-01-03T08:00:00Z");
	CHECK_NULL(r.e[1].published);
	result_free(&r);
}

static void
t_rss091_netscape(void)
{
	struct result r = { 0 };
	parse_file(&r, "ok_rss091_netscape.xml", NULL);
	CHECK_INT_EQ(r.rc, 0);
	CHECK_INT_EQ(r.feed.format, PARSE_FORMAT_RSS091N);
	CHECK_STR_EQ(parse_format_name(r.feed.format), "rss091n");
	/* HTML entities come from the Netscape DTD: well-formed. */
	CHECK(!r.feed.malformed);
	CHECK_STR_EQ(r.ftitle, "Caf\xc3\xa9 news");
	CHECK_STR_EQ(r.e[0].title, "Cr\xc3\xa8me br\xc3\xbbl\xc3\xa9" "e\xc2\xa0recipe");
	result_free(&r);
}

static void
t_rss_versions(void)
{
	static const struct {
		const char *doc;
		enum parse_format f;
	} t[] = {
		{ "<rss version=\"0.91\"><channel><title>x</title></channel></rss>", PARSE_FORMAT_RSS091U },
		{ "<rss version=\"0.92\"><channel><title>x</title></channel></rss>", PARSE_FORMAT_RSS092 },
		{ "<rss version=\"0.93\"><channel><title>x</title></channel></rss>", PARSE_FORMAT_RSS093 },
		{ "<rss version=\"0.94\"><channel><title>x</title></channel></rss>", PARSE_FORMAT_RSS094 },
		{ "<rss version=\"2.0\"><channel><title>x</title></channel></rss>", PARSE_FORMAT_RSS20 },
		{ "<rss version=\"2.1\"><channel><title>x</title></channel></rss>", PARSE_FORMAT_RSS20 },
		{ "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>x</title></feed>", PARSE_FORMAT_ATOM10 },
		{ "<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\"><title>x</title></feed>", PARSE_FORMAT_ATOM03 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct result r = { 0 };
		parse_str(&r, t[i].doc);
		CHECK_INT_EQ(r.rc, 0);
		CHECK_INT_EQ(r.feed.format, t[i].f);
		CHECK_STR_EQ(r.ftitle, "x");
		CHECK(!r.feed.malformed);
		result_free(&r);
	}
}

static void
t_rss10(void)
{
	struct result r = { 0 };
	parse_file(&r, "ok_rss10_rdf.xml", NULL);
	CHECK_INT_EQ(r.rc, 0);
	CHECK_INT_EQ(r.feed.format, PARSE_FORMAT_RSS10);
	CHECK(!r.feed.malformed);
	CHECK_STR_EQ(r.ftitle, "RDF site");
	CHECK_STR_EQ(r.flanguage, "de");
	CHECK_STR_EQ(r.fimage, "http://example.org/img.png");
	CHECK_INT_EQ(r.n, 1);
	/* rdf:about is the id. */
	CHECK_STR_EQ(r.e[0].id, "http://example.org/a");
	CHECK_STR_EQ(r.e[0].title, "Item A");
	CHECK_STR_EQ(r.e[0].updated, "2004-05-06T07:08:09Z");
	CHECK_STR_EQ(r.e[0].cats[0], "Science");
	CHECK_STR_EQ(r.e[0].content, "<p>A in full</p>");
	result_free(&r);

	parse_file(&r, "ok_rss090.xml", NULL);
	CHECK_INT_EQ(r.feed.format, PARSE_FORMAT_RSS090);
	CHECK_STR_EQ(r.e[0].link, "http://old.example/1");
	result_free(&r);
}

static void
t_atom10(void)
{
	struct result r = { 0 };
	parse_file(&r, "ok_atom10_xhtml.xml", NULL);
	CHECK_INT_EQ(r.rc, 0);
	CHECK_INT_EQ(r.feed.format, PARSE_FORMAT_ATOM10);
	CHECK(!r.feed.malformed);
	/* type="html" titles are stripped; type="text" stays literal. */
	CHECK_STR_EQ(r.ftitle, "Blog of things");
	CHECK_STR_EQ(r.fsubtitle, "Text <b> stays");
	CHECK_STR_EQ(r.frights, "\xc2\xa9 Me");
	CHECK_STR_EQ(r.flink, "http://example.net/blog/");
	CHECK_STR_EQ(r.flanguage, "en-GB");
	CHECK_STR_EQ(r.fauthor, "Alice");
	CHECK_STR_EQ(r.femail, "alice@example.net");
	CHECK_STR_EQ(r.fimage, "http://example.net/blog/logo.png");
	CHECK_STR_EQ(r.fgenerator, "Gen");
	CHECK_INT_EQ(r.n, 2);
	/* xml:base stacks: feed base + entry "posts/". */
	CHECK_STR_EQ(r.e[0].link, "http://example.net/blog/posts/one.html");
	CHECK_STR_EQ(r.e[0].id, "http://example.net/posts/one");
	CHECK_STR_EQ(r.e[0].title, "Post & one");
	CHECK_STR_EQ(r.e[0].author, "Bob");
	CHECK_STR_EQ(r.e[0].published, "2024-02-01T00:30:00Z");
	CHECK_STR_EQ(r.e[0].updated, "2024-02-01T09:00:00Z");
	CHECK_INT_EQ(r.e[0].ncats, 2);
	CHECK_STR_EQ(r.e[0].cats[0], "cats");
	CHECK_STR_EQ(r.e[0].enc_url, "http://example.net/media/one.mp4");
	CHECK_INT_EQ(r.e[0].enc_len, 42);
	/* Text-typed summary is escaped HTML. */
	CHECK_STR_EQ(r.e[0].summary, "1 &lt; 2 &amp; 3 &gt; 2");
	/* xhtml: the wrapper div is gone, the content's own xml:base applies. */
	CHECK(r.e[0].content && strncmp(r.e[0].content, "<p>Hello", 8) == 0);
	CHECK(r.e[0].content && strstr(r.e[0].content,
		"href=\"http://example.net/other/page.html\""));
	CHECK(r.e[0].text && strstr(r.e[0].text, "one\n") && strstr(r.e[0].text, "two"));
	CHECK_STR_EQ(r.e[1].title, "X Y");
	CHECK(r.e[1].content && !strstr(r.e[1].content, "onclick"));
	CHECK(r.e[1].content && !strstr(r.e[1].content, "iframe"));
	result_free(&r);
}

static void
t_atom03(void)
{
	struct result r = { 0 };
	parse_file(&r, "ok_atom03_basic.xml", NULL);
	CHECK_INT_EQ(r.rc, 0);
	CHECK_INT_EQ(r.feed.format, PARSE_FORMAT_ATOM03);
	CHECK_STR_EQ(r.ftitle, "Atom 0.3");
	CHECK_STR_EQ(r.fsubtitle, "Old atom");
	CHECK_STR_EQ(r.fupdated, "2003-12-13T18:30:02Z");
	CHECK_STR_EQ(r.e[0].published, "2003-12-13T12:29:29Z");
	CHECK_STR_EQ(r.e[0].updated, "2003-12-13T18:30:02Z");
	/* mode="base64" decoded, then read as its type (text/html). */
	CHECK_STR_EQ(r.e[0].summary, "<p>Base64 <b>summary</b></p>");
	CHECK(r.e[0].content && strstr(r.e[0].content, "<p>Inline</p>"));
	result_free(&r);
}

static void
t_jsonfeed(void)
{
	struct result r = { 0 };
	parse_file(&r, "ok_jsonfeed11.json", NULL);
	CHECK_INT_EQ(r.rc, 0);
	CHECK_INT_EQ(r.feed.format, PARSE_FORMAT_JSONFEED);
	CHECK_STR_EQ(r.ftitle, "JSON blog");
	CHECK_STR_EQ(r.flink, "https://json.example/");
	CHECK_STR_EQ(r.fauthor, "Jay Son");
	CHECK_INT_EQ(r.n, 2);
	CHECK_STR_EQ(r.e[0].id, "1");
	CHECK_STR_EQ(r.e[0].published, "2024-03-01T11:00:00Z");
	CHECK(r.e[0].content && !strstr(r.e[0].content, "script"));
	CHECK_INT_EQ(r.e[0].ncats, 2);
	CHECK_INT_EQ(r.e[0].enc_len, 99);
	CHECK_STR_EQ(r.e[1].id, "2");
	CHECK_STR_EQ(r.e[1].content, "Plain &lt;text&gt; &amp; more");
	result_free(&r);
}

/* ---- not feeds -------------------------------------------------------- */

static void
t_not_feeds(void)
{
	static const struct {
		const char *file, *msg;
	} t[] = {
		{ "err_html_page.html", "not a feed: root element is <html>" },
		{ "err_empty.xml", "not a feed: empty document" },
		{ "err_binary.png", "not a feed: binary data" },
		{ "err_not_xml.txt", "not a feed: not XML or JSON" },
		{ "err_json_not_feed.json", "not a feed: JSON without a JSON Feed version" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct result r = { 0 };
		parse_file(&r, t[i].file, NULL);
		CHECK_INT_EQ(r.rc, -EBADMSG);
		CHECK_STR_EQ(r.err, t[i].msg);
		CHECK_INT_EQ(r.n, 0);
		result_free(&r);
	}
	struct result r = { 0 };
	parse_chunks(&r, "", 0, 0, NULL, NULL);
	CHECK_INT_EQ(r.rc, -EBADMSG);
	CHECK_STR_EQ(r.err, "not a feed: empty document");
	result_free(&r);
	parse_str(&r, "<?xml version=\"1.0\"?><opml><body/></opml>");
	CHECK_INT_EQ(r.rc, -EBADMSG);
	CHECK_STR_EQ(r.err, "not a feed: root element is <opml>");
	result_free(&r);
}

/* ---- malformed recovery ----------------------------------------------- */

static void
t_malformed_unclosed(void)
{
	struct result r = { 0 };
	parse_file(&r, "ok_malformed_unclosed_b.xml", NULL);
	CHECK_INT_EQ(r.rc, 0);
	CHECK(r.feed.malformed);
	/* Every item comes out, each with its own link. */
	CHECK_INT_EQ(r.n, 5);
	static const char *const titles[] = { "one", "two", "three", "four", "five" };
	for (size_t i = 0; i < 5; i++) {
		char link[32];
		snprintf(link, sizeof(link), "http://e.com/%zu", i + 1);
		CHECK_STR_EQ(r.e[i].title, titles[i]);
		CHECK_STR_EQ(r.e[i].link, link);
	}
	CHECK(r.e[0].summary && strstr(r.e[0].summary, "<b>world</b>"));
	CHECK_STR_EQ(r.e[1].summary, "text stray");
	result_free(&r);
}

static void
t_malformed_amp(void)
{
	struct result r = { 0 };
	parse_file(&r, "ok_malformed_amp.xml", NULL);
	CHECK_INT_EQ(r.rc, 0);
	CHECK(r.feed.malformed);
	CHECK_STR_EQ(r.ftitle, "AT&T & friends");
	CHECK_INT_EQ(r.n, 2);
	CHECK_STR_EQ(r.e[0].title, "Q&A");
	CHECK_STR_EQ(r.e[0].link, "http://e.com/?a=1&b=2");
	CHECK_STR_EQ(r.e[0].text, "Fish & chips & peas");
	CHECK_STR_EQ(r.e[1].title, "after");
	result_free(&r);
}

static void
t_malformed_misc(void)
{
	struct result r = { 0 };

	parse_file(&r, "ok_malformed_junk_before_root.xml", NULL);
	CHECK_INT_EQ(r.rc, 0);
	CHECK(r.feed.malformed);
	CHECK_STR_EQ(r.err, "junk before the root element");
	CHECK_STR_EQ(r.e[0].title, "kept");
	result_free(&r);

	parse_file(&r, "ok_malformed_truncated.xml", NULL);
	CHECK_INT_EQ(r.rc, 0);
	CHECK(r.feed.malformed);
	CHECK_INT_EQ(r.n, 2);
	CHECK_STR_EQ(r.e[1].title, "partial");
	CHECK_STR_EQ(r.e[1].summary, "the body is cu");
	result_free(&r);

	/* HTML named entities are decoded; unknown ones stay literal. */
	parse_file(&r, "ok_malformed_html_entities.xml", NULL);
	CHECK_INT_EQ(r.rc, 0);
	CHECK(r.feed.malformed);
	CHECK_STR_EQ(r.ftitle, "Caf\xc3\xa9\xc2\xa0\xe2\x80\x94 \xe2\x80\xa6");
	CHECK_STR_EQ(r.e[0].title, "\xe2\x80\x98quoted\xe2\x80\x99 &doesnotexist;");
	CHECK_STR_EQ(r.e[0].link, "http://e.com/?x=\xc3\xa9");
	result_free(&r);

	/* Internal-subset entities are expanded and not an error. */
	parse_file(&r, "ok_entity_internal.xml", NULL);
	CHECK(!r.feed.malformed);
	CHECK_STR_EQ(r.ftitle, "Example site news");
	CHECK_STR_EQ(r.e[0].id, "Example site-1");
	result_free(&r);

	/* A comment with quotes and brackets inside the internal subset is
	 * no reason to repair anything. */
	parse_str(&r, "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n<!-- don't [x] -->\n"
		      "<!ENTITY x \"ok\">\n]>\n<rss><channel><title>&x; &amp; fine</title>"
		      "</channel></rss>");
	CHECK(!r.feed.malformed);
	CHECK_STR_EQ(r.ftitle, "ok & fine");
	result_free(&r);

	/* Mis-nested inline markup in a title. */
	parse_str(&r, "<rss><channel><item><title>a <b><i>b</b></i> c</title>"
		      "</item><item><title>d</title></item></channel></rss>");
	CHECK(r.feed.malformed);
	CHECK_INT_EQ(r.n, 2);
	CHECK_STR_EQ(r.e[0].title, "a b c");
	CHECK_STR_EQ(r.e[1].title, "d");
	result_free(&r);

	/* An item that starts inside another item's text closes it. */
	parse_str(&r, "<rss><channel><item><title>x</title><description>open "
		      "<item><title>y</title></item></channel></rss>");
	CHECK_INT_EQ(r.n, 2);
	CHECK_STR_EQ(r.e[0].title, "x");
	CHECK_STR_EQ(r.e[1].title, "y");
	result_free(&r);

	/* ... and the new entry resolves against the enclosing base, not the
	 * closed entry's (found by fuzzing: a use after free). */
	parse_str(&r, "<rss xml:base=\"http://a.example/\"><channel>"
		      "<item xml:base=\"b/\"><description>open "
		      "<item><link>x</link></item></channel></rss>");
	CHECK_INT_EQ(r.n, 2);
	CHECK_STR_EQ(r.e[1].link, "http://a.example/x");
	result_free(&r);

	/* Tag names longer than the repair pass compares, cut inside a
	 * multi-byte character: output stays UTF-8 (found by fuzzing). */
	struct buf b = { 0 };
	buf_add(&b, "<rss><channel><item><id>i", 25);
	for (int i = 0; i < 40; i++)
		buf_add(&b, "<\xc3\xa9\xc3\xa9\xc3\xa9>", 8);
	buf_add(&b, "x</id></item></channel></rss>", 29);
	parse_chunks(&r, b.s, b.len, 0, NULL, NULL);
	CHECK_INT_EQ(r.rc, 0);
	CHECK(utf8_ok(r.e[0].id));
	CHECK(utf8_ok(r.err));
	result_free(&r);
	free(b.s);
}

static void
t_billion_laughs(void)
{
	struct result r = { 0 };
	clock_t t0 = clock();
	parse_file(&r, "ok_billion_laughs.xml", NULL);
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	CHECK_INT_EQ(r.rc, 0);
	CHECK(r.feed.malformed);
	CHECK(r.feed.truncated);
	CHECK_STR_EQ(r.ftitle, "bomb");
	/* Not a timing assertion: a generous bound that only a real
	 * expansion (3 GB of "lol") would break. */
	CHECK(secs < 30);
	CHECK(r.e[0].title == NULL || strlen(r.e[0].title) <= FEEDD_MAX_FIELD);
	result_free(&r);
}

/* ---- encodings -------------------------------------------------------- */

static void
t_encodings(void)
{
	static const struct {
		const char *file, *title;
		bool malformed;
	} t[] = {
		/* Valid UTF-8 wins over a declared ISO-8859-1. */
		{ "ok_encoding_latin1_declared_utf8_bytes.xml",
			"Caf\xc3\xa9 \xe2\x80\x93 na\xc3\xafve", false },
		/* Declared UTF-8 that is not: Windows-1252, flagged. */
		{ "ok_encoding_utf8_declared_cp1252_bytes.xml",
			"don\xe2\x80\x99t caf\xc3\xa9", true },
		/* ISO-8859-1 0x80-0x9F read as Windows-1252. */
		{ "ok_encoding_latin1_c1.xml",
			"\xe2\x80\x9cquoted\xe2\x80\x9d caf\xc3\xa9", false },
		{ "ok_encoding_utf16le_bom.xml",
			"UTF-16 \xc3\xbc" "ber \xe6\x97\xa5\xe6\x9c\xac", false },
		{ "ok_encoding_koi8r.xml",
			"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", false },
		{ "ok_encoding_shift_jis.xml", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", false },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct result r = { 0 };
		parse_file(&r, t[i].file, NULL);
		CHECK_INT_EQ(r.rc, 0);
		CHECK_STR_EQ(r.ftitle, t[i].title);
		CHECK_INT_EQ(r.feed.malformed, t[i].malformed);
		result_free(&r);
	}
	/* The caller's hint applies when the document declares nothing. */
	struct result r = { 0 };
	const char *doc = "<rss><channel><title>\xe9t\xe9</title></channel></rss>";
	parse_chunks(&r, doc, strlen(doc), 0, NULL, "iso-8859-15");
	CHECK_STR_EQ(r.ftitle, "\xc3\xa9t\xc3\xa9");
	result_free(&r);
	/* An unknown declared encoding reads as UTF-8 and is flagged. */
	parse_str(&r, "<?xml version=\"1.0\" encoding=\"bogus\"?><rss><channel>"
		      "<title>ok</title></channel></rss>");
	CHECK_INT_EQ(r.rc, 0);
	CHECK(r.feed.malformed);
	CHECK_STR_EQ(r.ftitle, "ok");
	result_free(&r);
}

/* ---- normalization rules ---------------------------------------------- */

static void
t_base_and_urls(void)
{
	struct result r = { 0 };
	const char *doc =
		"<rss version=\"2.0\"><channel><link>/home</link><item>"
		"<link>story?id=1</link><comments>/c/1</comments>"
		"<description>&lt;a href=\"/rel\"&gt;x&lt;/a&gt;&lt;img src=\"i.png\"&gt;"
		"</description>"
		"<enclosure url=\"media/a.mp3\" length=\"nope\" type=\"audio/mpeg\"/>"
		"</item><item><link>javascript:alert(1)</link></item></channel></rss>";
	parse_chunks(&r, doc, strlen(doc), 0, "http://base.example/dir/feed.xml", NULL);
	CHECK_STR_EQ(r.flink, "http://base.example/home");
	CHECK_STR_EQ(r.e[0].link, "http://base.example/dir/story?id=1");
	CHECK_STR_EQ(r.e[0].comments, "http://base.example/c/1");
	CHECK(r.e[0].summary && strstr(r.e[0].summary, "http://base.example/rel"));
	CHECK(r.e[0].summary && strstr(r.e[0].summary, "http://base.example/dir/i.png"));
	CHECK_STR_EQ(r.e[0].enc_url, "http://base.example/dir/media/a.mp3");
	CHECK_INT_EQ(r.e[0].enc_len, -1);
	/* A dangerous scheme is dropped, never passed on. */
	CHECK_NULL(r.e[1].link);
	result_free(&r);

	/* Without any base, relative references stay relative. */
	parse_str(&r, "<rss><channel><item><link>/x</link></item></channel></rss>");
	CHECK_STR_EQ(r.e[0].link, "/x");
	result_free(&r);
}

static void
t_dates(void)
{
	static const struct {
		const char *in, *out;
	} t[] = {
		{ "Thu, 01 Jan 2004 19:48:21 GMT", "2004-01-01T19:48:21Z" },
		{ "Thu, 01 Jan 04 19:48:21 EST", "2004-01-02T00:48:21Z" },
		{ "2003-12-31T10:14:55-08:00", "2003-12-31T18:14:55Z" },
		{ "2003-12-31 10:14:55", "2003-12-31T10:14:55Z" },
		{ "not a date", NULL },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct result r = { 0 };
		char doc[512];
		snprintf(doc, sizeof(doc), "<rss><channel><item><pubDate>%s</pubDate>"
			"</item></channel></rss>", t[i].in);
		parse_str(&r, doc);
		if (t[i].out)
			CHECK_STR_EQ(r.e[0].published, t[i].out);
		else
			CHECK_NULL(r.e[0].published);
		result_free(&r);
	}
}

static void
t_authors(void)
{
	static const struct {
		const char *in, *name, *email;
	} t[] = {
		{ "me@example.com (Example editor)", "Example editor", "me@example.com" },
		{ "Example editor (me@example.com)", "Example editor", "me@example.com" },
		{ "Example editor <me@example.com>", "Example editor", "me@example.com" },
		{ "Example editor", "Example editor", NULL },
		{ "me+spam@example.com", NULL, "me+spam@example.com" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct result r = { 0 };
		char doc[512];
		snprintf(doc, sizeof(doc), "<rss><channel><item><author>%s</author>"
			"</item></channel></rss>", t[i].in);
		/* '<' in the author must be escaped in XML. */
		char esc[600];
		size_t j = 0;
		const char *open = strstr(doc, "<author>") + 8;
		const char *close = strstr(doc, "</author>");
		memcpy(esc, doc, (size_t)(open - doc));
		j = (size_t)(open - doc);
		for (const char *c = open; c < close; c++) {
			if (*c == '<') {
				memcpy(esc + j, "&lt;", 4);
				j += 4;
			} else if (*c == '>') {
				memcpy(esc + j, "&gt;", 4);
				j += 4;
			} else {
				esc[j++] = *c;
			}
		}
		strcpy(esc + j, close);
		parse_str(&r, esc);
		if (t[i].name)
			CHECK_STR_EQ(r.e[0].author, t[i].name);
		else
			CHECK_NULL(r.e[0].author);
		if (t[i].email)
			CHECK_STR_EQ(r.e[0].email, t[i].email);
		else
			CHECK_NULL(r.e[0].email);
		result_free(&r);
	}
}

static void
t_text_constructs(void)
{
	struct result r = { 0 };
	parse_str(&r,
		"<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry>"
		"<title type=\"text\">History of the &lt;blink&gt; tag</title>"
		"<summary type=\"html\">&lt;b&gt;bold&lt;/b&gt; &amp;amp; more</summary>"
		"<content type=\"text\">a &lt;b&gt;</content></entry>"
		"<entry><title type=\"html\">&lt;script&gt;bad()&lt;/script&gt;Good</title>"
		"</entry></feed>");
	CHECK_STR_EQ(r.e[0].title, "History of the <blink> tag");
	CHECK_STR_EQ(r.e[0].summary, "<b>bold</b> &amp; more");
	CHECK_STR_EQ(r.e[0].content, "a &lt;b&gt;");
	CHECK_STR_EQ(r.e[1].title, "Good");
	result_free(&r);

	/* Precedence: content:encoded is content, description the summary,
	 * published beats dc:date for published; media/itunes fill gaps. */
	parse_str(&r,
		"<rss xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\" "
		"xmlns:media=\"http://search.yahoo.com/mrss/\">"
		"<channel><itunes:image href=\"http://i.example/i.png\"/>"
		"<itunes:subtitle>Sub</itunes:subtitle><item>"
		"<itunes:summary>from itunes</itunes:summary>"
		"<description>from description</description>"
		"<media:title>media title</media:title>"
		"<itunes:author>Pod Caster</itunes:author>"
		"<itunes:category text=\"Tech\"><itunes:category text=\"Gadgets\"/></itunes:category>"
		"<media:group><media:category>cat1</media:category></media:group>"
		"</item></channel></rss>");
	CHECK_STR_EQ(r.fimage, "http://i.example/i.png");
	CHECK_STR_EQ(r.fsubtitle, "Sub");
	CHECK_STR_EQ(r.e[0].summary, "from description");
	CHECK_STR_EQ(r.e[0].title, "media title");
	CHECK_STR_EQ(r.e[0].author, "Pod Caster");
	CHECK_INT_EQ(r.e[0].ncats, 3);
	CHECK_STR_EQ(r.e[0].cats[1], "Gadgets");
	CHECK_STR_EQ(r.e[0].cats[2], "cat1");
	result_free(&r);
}

/* ---- chunked input ---------------------------------------------------- */

static void
t_chunked(void)
{
	static const char *const files[] = { "ok_rss20_basic.xml",
		"ok_rss091_netscape.xml", "ok_rss10_rdf.xml", "ok_atom10_xhtml.xml",
		"ok_atom03_basic.xml", "ok_jsonfeed11.json",
		"ok_malformed_unclosed_b.xml", "ok_malformed_amp.xml",
		"ok_malformed_junk_before_root.xml", "ok_malformed_truncated.xml",
		"ok_malformed_html_entities.xml", "ok_encoding_utf16le_bom.xml",
		"ok_encoding_utf8_declared_cp1252_bytes.xml",
		"ok_encoding_latin1_declared_utf8_bytes.xml", "ok_encoding_koi8r.xml",
		"ok_encoding_shift_jis.xml", "ok_entity_internal.xml" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t len = 0;
		char *s = slurp(files[i], &len);
		REQUIRE(s);
		struct result whole = { 0 };
		parse_chunks(&whole, s, len, 0, "http://b.example/", NULL);
		CHECK_INT_EQ(whole.rc, 0);
		const long sizes[] = { 1, 2, 3, 7, -5, -64, -4096 };
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			struct result part = { 0 };
			parse_chunks(&part, s, len, sizes[k], "http://b.example/", NULL);
			CHECK_INT_EQ(part.rc, whole.rc);
			if (strcmp(part.all.s, whole.all.s) != 0)
				fprintf(stderr, "%s chunk %ld differs:\n%s\n---\n%s\n",
					files[i], sizes[k], whole.all.s, part.all.s);
			CHECK_STR_EQ(part.all.s, whole.all.s);
			result_free(&part);
		}
		result_free(&whole);
		free(s);
	}
}

/* ---- caps and the callback -------------------------------------------- */

static void
t_callback_stop(void)
{
	struct result r = { .stop_after = 1 };
	size_t len = 0;
	char *s = slurp("ok_rss20_basic.xml", &len);
	REQUIRE(s);
	parse_chunks(&r, s, len, 0, NULL, NULL);
	CHECK_INT_EQ(r.rc, 42);
	CHECK_INT_EQ(r.n, 1);
	result_free(&r);
	free(s);
}

static void
t_caps(void)
{
	struct result r = { 0 };
	struct buf b = { 0 };

	/* max_entries */
	buf_add(&b, "<rss><channel>", 14);
	for (int i = 0; i < 50; i++)
		buf_add(&b, "<item><title>t</title></item>", 29);
	buf_add(&b, "</channel></rss>", 16);
	struct parse_opts o = { .on_entry = on_entry, .ud = &r, .max_entries = 10 };
	char err[128];
	CHECK_INT_EQ(parse_buffer(b.s, b.len, &o, err, sizeof(err)), 0);
	CHECK_INT_EQ(r.n, 10);
	result_free(&r);
	b.len = 0;

	/* Nesting far beyond the depth cap: no crash, flagged. */
	buf_add(&b, "<rss><channel><item><title>deep</title>", 39);
	for (int i = 0; i < 5000; i++)
		buf_add(&b, "<x>", 3);
	for (int i = 0; i < 5000; i++)
		buf_add(&b, "</x>", 4);
	buf_add(&b, "</item></channel></rss>", 23);
	parse_chunks(&r, b.s, b.len, 0, NULL, NULL);
	CHECK_INT_EQ(r.rc, 0);
	CHECK(r.feed.truncated || r.feed.malformed);
	CHECK_STR_EQ(r.e[0].title, "deep");
	result_free(&r);
	b.len = 0;

	/* A field over FEEDD_MAX_FIELD is cut and flagged. */
	buf_add(&b, "<rss><channel><item><title>", 27);
	for (int i = 0; i < FEEDD_MAX_FIELD / 1000 + 100; i++) {
		char chunk[1001];
		memset(chunk, 'a', 1000);
		chunk[999] = ' ';
		buf_add(&b, chunk, 1000);
	}
	buf_add(&b, "</title></item></channel></rss>", 31);
	parse_chunks(&r, b.s, b.len, 65536, NULL, NULL);
	CHECK_INT_EQ(r.rc, 0);
	CHECK(r.feed.truncated);
	CHECK(r.e[0].title && strlen(r.e[0].title) <= FEEDD_MAX_FIELD);
	result_free(&r);
	free(b.s);
}

/* Arbitrary bytes never crash and never produce invalid UTF-8. */
static void
t_garbage(void)
{
	unsigned seed = 99;
	char doc[4096];
	static const char *const frags[] = { "<rss>", "<channel>", "<item>", "<title>",
		"</title>", "</item>", "&amp;", "&", "<", ">", "<![CDATA[", "]]>",
		"<!--", "-->", "\xff", "\xc3", "\xa9", "<b>", "</p>", "&eacute;",
		"<feed xmlns=\"http://www.w3.org/2005/Atom\">", "<entry>", "<content type=\"xhtml\">",
		"<div xmlns=\"http://www.w3.org/1999/xhtml\">", "x", " ", "\"", "<!DOCTYPE x [",
		"<!ENTITY a \"&b;\">", "]>", "&a;", "<?xml version=\"1.0\"?>" };
	for (int round = 0; round < 300; round++) {
		size_t len = 0;
		while (len < sizeof(doc) - 64) {
			seed = seed * 1103515245u + 12345u;
			const char *f = frags[(seed >> 8) % (sizeof(frags) / sizeof(frags[0]))];
			size_t n = strlen(f);
			memcpy(doc + len, f, n);
			len += n;
			if ((seed >> 20) % 50 == 0)
				break;
		}
		struct result r = { 0 };
		parse_chunks(&r, doc, len, -(long)(1 + round % 17), NULL, NULL);
		CHECK(r.rc == 0 || r.rc == -EBADMSG);
		CHECK(utf8_ok(r.ftitle));
		result_free(&r);
	}
}


/* ---- feeds new users add that read wrong (issue: the first hour) ------ */

static void
t_atom_no_namespace(void)
{
	struct result r = { 0 };
	parse_file(&r, "ok_atom_no_namespace.xml", "http://workshop.example/feed");
	CHECK_INT_EQ(r.rc, 0);
	CHECK_INT_EQ(r.feed.format, PARSE_FORMAT_ATOM10);
	CHECK(!r.feed.malformed);
	CHECK_STR_EQ(r.ftitle, "Notes from the workshop");
	REQUIRE(r.n == 2);
	CHECK_STR_EQ(r.e[0].title, "Sharpening chisels");
	CHECK_STR_EQ(r.e[0].link, "http://workshop.example/2024/03/chisels.html");
	CHECK_STR_EQ(r.e[0].published, "2024-03-01T09:00:00Z");
	CHECK_STR_EQ(r.e[1].id, "tag:workshop.example,2024:bench");
	CHECK(r.e[1].content && strstr(r.e[1].content, "<b>two</b>"));
	result_free(&r);
}

static void
t_atom_in_xhtml(void)
{
	struct result r = { 0 };
	parse_file(&r, "ok_atom_in_xhtml.xml", NULL);
	CHECK_INT_EQ(r.rc, 0);
	CHECK_INT_EQ(r.feed.format, PARSE_FORMAT_ATOM10);
	CHECK(!r.feed.malformed);
	CHECK_STR_EQ(r.ftitle, "Wrapped releases");
	REQUIRE(r.n == 1);
	CHECK_STR_EQ(r.e[0].title, "Version 2.4");
	CHECK_STR_EQ(r.e[0].link, "https://releases.example/2.4");
	result_free(&r);
	/* A plain XHTML page is still no feed, and says so. */
	const char page[] = "<?xml version=\"1.0\"?><html xmlns="
		"\"http://www.w3.org/1999/xhtml\"><body><p>hi</p></body></html>";
	r = (struct result){ 0 };
	parse_chunks(&r, page, sizeof(page) - 1, 0, NULL, NULL);
	CHECK_INT_EQ(r.rc, -EBADMSG);
	CHECK(strstr(r.err, "root element is <html>") != NULL);
	result_free(&r);
}

static void
t_utf16_no_bom(void)
{
	struct result r = { 0 };
	parse_file(&r, "ok_encoding_utf16le_nobom_decl.xml", NULL);
	CHECK_INT_EQ(r.rc, 0);
	CHECK(!r.feed.malformed);
	CHECK_STR_EQ(r.ftitle, "Kaffeehaus");
	REQUIRE(r.n == 2);
	CHECK_STR_EQ(r.e[0].title, "Caf\xc3\xa9 und Kuchen");
	CHECK_STR_EQ(r.e[1].title, "Stra\xc3\x9f" "enfest");
	CHECK_STR_EQ(r.e[0].published, "2024-03-05T08:00:00Z");
	result_free(&r);
	r = (struct result){ 0 };
	parse_file(&r, "ok_encoding_utf16be_nobom.xml", NULL);
	CHECK_INT_EQ(r.rc, 0);
	CHECK(!r.feed.malformed);
	REQUIRE(r.n == 1);
	CHECK_STR_EQ(r.e[0].title, "\xc3\x84rger im B\xc3\xbcro");
	result_free(&r);
}

static void
t_rss_modified(void)
{
	struct result r = { 0 };
	parse_file(&r, "ok_rss_modified.xml", NULL);
	CHECK_INT_EQ(r.rc, 0);
	CHECK_STR_EQ(r.fupdated, "2024-02-03T04:05:06Z");
	REQUIRE(r.n == 1);
	CHECK_STR_EQ(r.e[0].updated, "2024-02-03T03:05:06Z");
	result_free(&r);
}

static void
t_comment_in_text(void)
{
	struct result r = { 0 };
	parse_file(&r, "ok_comment_in_text.xml", NULL);
	CHECK_INT_EQ(r.rc, 0);
	CHECK_STR_EQ(r.ftitle, "Security notes");
	REQUIRE(r.n == 1);
	CHECK_STR_EQ(r.e[0].title, "safe");
	CHECK_STR_EQ(r.e[0].summary, "before after");
	CHECK_STR_EQ(r.e[0].email, "ops@sec.example");
	REQUIRE(r.e[0].ncats == 1);
	CHECK_STR_EQ(r.e[0].cats[0], "advisory");
	result_free(&r);
}

static const struct check_case cases[] = {
	{ "rss20", t_rss20 },
	{ "atom_no_namespace", t_atom_no_namespace },
	{ "atom_in_xhtml", t_atom_in_xhtml },
	{ "utf16_no_bom", t_utf16_no_bom },
	{ "rss_modified", t_rss_modified },
	{ "comment_in_text", t_comment_in_text },
	{ "rss091_netscape", t_rss091_netscape },
	{ "rss_versions", t_rss_versions },
	{ "rss10", t_rss10 },
	{ "atom10", t_atom10 },
	{ "atom03", t_atom03 },
	{ "jsonfeed", t_jsonfeed },
	{ "not_feeds", t_not_feeds },
	{ "malformed_unclosed", t_malformed_unclosed },
	{ "malformed_amp", t_malformed_amp },
	{ "malformed_misc", t_malformed_misc },
	{ "billion_laughs", t_billion_laughs },
	{ "encodings", t_encodings },
	{ "base_and_urls", t_base_and_urls },
	{ "dates", t_dates },
	{ "authors", t_authors },
	{ "text_constructs", t_text_constructs },
	{ "chunked", t_chunked },
	{ "callback_stop", t_callback_stop },
	{ "caps", t_caps },
	{ "garbage", t_garbage },
	{ 0 },
};

int
main(int argc, char **argv)
{
	return check_main(argc, argv, cases);
}
