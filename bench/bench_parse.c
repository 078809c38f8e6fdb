/*
 * bench_parse: parse/ throughput beside a bare libxml2 SAX pass over the
 * same bytes, in the same run.
 *
 *   bench_parse [--mb N] [--runs R] [--dir DIR]
 *	Builds a corpus of about N MB (default 40) of realistic feeds -- RSS
 *	2.0 with HTML bodies (content:encoded and description), Atom 1.0 with
 *	html and xhtml content, RSS 1.0 -- or reads every file in DIR, then
 *	times R runs (default 5) of each parser over the whole corpus, pushed
 *	in 64 KiB chunks (files ending in .gz are skipped), and prints the
 *	median MB/s, entries/s and the ratio. Times are CPU time
 *	(CLOCK_PROCESS_CPUTIME_ID), so a loaded machine slows no figure.
 *	It also times libxml2's HTML parser alone (SAX, no callbacks doing
 *	work) over every entry's summary and content as parse/ returned them,
 *	and prints the floor that sets: a parser that reads the feed once and
 *	each HTML body once, doing nothing else, reaches at best
 *	bare / (bare + HTML) of the bare XML rate.
 *
 *   bench_parse --stream-mb N
 *	Generates one RSS 2.0 document of N MB on the fly and pushes it
 *	through parse/ without ever holding it, to show that peak memory does
 *	not depend on document size:
 *	  /usr/bin/time -v bench_parse --stream-mb 1
 *	  /usr/bin/time -v bench_parse --stream-mb 200   (compare "Maximum resident")
 */
#include "parse.h"

#include <dirent.h>
#include <errno.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNK 65536

struct doc {
	char *s;
	size_t len;
};

struct gen {
	char *s;
	size_t len, cap;
	uint64_t rng;
};

static void
g_add(struct gen *g, const char *s, size_t n)
{
	if (g->len + n + 1 > g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 1 << 16;
		while (cap < g->len + n + 1)
			cap *= 2;
		g->s = realloc(g->s, cap);
		if (!g->s) {
			perror("realloc");
			exit(1);
		}
		g->cap = cap;
	}
	memcpy(g->s + g->len, s, n);
	g->len += n;
	g->s[g->len] = '\0';
}

static void
g_str(struct gen *g, const char *s)
{
	g_add(g, s, strlen(s));
}

static void
g_fmt(struct gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
g_fmt(struct gen *g, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	g_add(g, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static unsigned
rnd(struct gen *g, unsigned n)
{
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return (unsigned)(g->rng % n);
}

static const char *const words[] = { "government", "market", "the", "of",
	"report", "said", "on", "Tuesday", "officials", "and", "a", "new",
	"policy", "city", "council", "voted", "to", "expand", "program",
	"economy", "growth", "inflation", "river", "festival", "école",
	"naïve", "über", "players", "season", "final", "minister", "data",
	"research", "climate", "energy", "price", "“quoted”", "—", "in", "with" };

static void
sentence(struct gen *g, unsigned nwords)
{
	for (unsigned i = 0; i < nwords; i++) {
		if (i)
			g_str(g, " ");
		g_str(g, words[rnd(g, sizeof(words) / sizeof(words[0]))]);
	}
}

/* An HTML body of a few paragraphs, as news sites publish them. */
static void
html_body(struct gen *g, bool escaped)
{
	const char *lt = escaped ? "&lt;" : "<", *gt = escaped ? "&gt;" : ">";
	const char *amp = escaped ? "&amp;amp;" : "&amp;";
	unsigned paras = 3 + rnd(g, 5);
	for (unsigned p = 0; p < paras; p++) {
		g_fmt(g, "%sp%s", lt, gt);
		sentence(g, 20 + rnd(g, 40));
		g_fmt(g, " %sa href=\"/news/%u?x=1%sy=2\"%s", lt, rnd(g, 100000), amp, gt);
		sentence(g, 3);
		g_fmt(g, "%s/a%s ", lt, gt);
		if (rnd(g, 3) == 0) {
			g_fmt(g, "%sstrong%s", lt, gt);
			sentence(g, 4);
			g_fmt(g, "%s/strong%s ", lt, gt);
		}
		sentence(g, 10 + rnd(g, 20));
		g_fmt(g, ".%s/p%s\n", lt, gt);
		if (rnd(g, 4) == 0) {
			g_fmt(g, "%simg src=\"https://img.example.com/%u.jpg\" alt=\"photo\" "
				"onload=\"track()\"%s", lt, rnd(g, 1000000), gt);
		}
		if (rnd(g, 6) == 0) {
			g_fmt(g, "%sul%s", lt, gt);
			for (int i = 0; i < 3; i++) {
				g_fmt(g, "%sli%s", lt, gt);
				sentence(g, 6);
				g_fmt(g, "%s/li%s", lt, gt);
			}
			g_fmt(g, "%s/ul%s", lt, gt);
		}
		if (rnd(g, 10) == 0)
			g_fmt(g, "%sscript%svar x = 1;%s/script%s", lt, gt, lt, gt);
	}
}

static void
rss20_item(struct gen *g, unsigned i)
{
	g_str(g, "<item>\n<title>");
	sentence(g, 8);
	g_fmt(g, "</title>\n<link>https://news.example.com/story/%u</link>\n", i);
	g_fmt(g, "<guid isPermaLink=\"false\">story-%u</guid>\n", i);
	g_fmt(g, "<pubDate>%s, %02u %s 2024 %02u:%02u:%02u %s</pubDate>\n",
		(const char *[]){ "Mon", "Tue", "Wed", "Thu" }[rnd(g, 4)], 1 + rnd(g, 28),
		(const char *[]){ "Jan", "Feb", "Mar", "Apr" }[rnd(g, 4)], rnd(g, 24),
		rnd(g, 60), rnd(g, 60), (const char *[]){ "GMT", "+0100", "EST" }[rnd(g, 3)]);
	g_str(g, "<dc:creator>Jane Reporter</dc:creator>\n<category>World</category>\n");
	g_str(g, "<description>");
	sentence(g, 30);
	g_str(g, "</description>\n<content:encoded><![CDATA[");
	html_body(g, false);
	g_str(g, "]]></content:encoded>\n");
	if (rnd(g, 5) == 0)
		g_fmt(g, "<enclosure url=\"https://media.example.com/%u.mp3\" "
			"length=\"%u\" type=\"audio/mpeg\"/>\n", i, rnd(g, 10000000));
	g_str(g, "</item>\n");
}

static void
rss20_head(struct gen *g)
{
	g_str(g, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" "
		 "xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" "
		 "xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n<channel>\n"
		 "<title>Example News</title>\n<link>https://news.example.com/</link>\n"
		 "<description>Top stories</description>\n<language>en</language>\n");
}

static void
gen_rss20(struct gen *g, unsigned items)
{
	rss20_head(g);
	for (unsigned i = 0; i < items; i++)
		rss20_item(g, i);
	g_str(g, "</channel>\n</rss>\n");
}

static void
gen_atom(struct gen *g, unsigned items)
{
	g_str(g, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" "
		 "xml:base=\"https://blog.example.org/\">\n<title>Example Blog</title>\n"
		 "<link href=\"/\"/>\n<id>tag:blog.example.org,2024:feed</id>\n"
		 "<updated>2024-03-01T12:00:00Z</updated>\n");
	for (unsigned i = 0; i < items; i++) {
		g_str(g, "<entry>\n<title type=\"html\">");
		sentence(g, 7);
		g_fmt(g, " &amp;amp; more</title>\n<link rel=\"alternate\" href=\"/posts/%u\"/>\n"
			"<id>tag:blog.example.org,2024:%u</id>\n"
			"<published>2024-02-%02uT10:%02u:00+01:00</published>\n"
			"<updated>2024-02-%02uT11:00:00Z</updated>\n"
			"<author><name>Blogger</name><email>b@example.org</email></author>\n"
			"<category term=\"tech\"/>\n",
			i, i, 1 + rnd(g, 28), rnd(g, 60), 1 + rnd(g, 28));
		if (i % 2) {
			g_str(g, "<content type=\"html\">");
			html_body(g, true);
			g_str(g, "</content>\n");
		} else {
			g_str(g, "<summary>");
			sentence(g, 25);
			g_str(g, "</summary>\n<content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">");
			html_body(g, false);
			g_str(g, "</div></content>\n");
		}
		g_str(g, "</entry>\n");
	}
	g_str(g, "</feed>\n");
}

static void
gen_rss10(struct gen *g, unsigned items)
{
	g_str(g, "<?xml version=\"1.0\"?>\n<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" "
		 "xmlns=\"http://purl.org/rss/1.0/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
		 "<channel rdf:about=\"https://rdf.example.net/\"><title>RDF</title>"
		 "<link>https://rdf.example.net/</link><description>d</description></channel>\n");
	for (unsigned i = 0; i < items; i++) {
		g_fmt(g, "<item rdf:about=\"https://rdf.example.net/%u\">\n<title>", i);
		sentence(g, 8);
		g_fmt(g, "</title>\n<link>https://rdf.example.net/%u</link>\n<description>", i);
		html_body(g, true);
		g_fmt(g, "</description>\n<dc:date>2024-01-%02uT08:00:00Z</dc:date>\n"
			"<dc:subject>Science</dc:subject>\n</item>\n", 1 + rnd(g, 28));
	}
	g_str(g, "</rdf:RDF>\n");
}

/* CPU time, not wall time: on a machine shared with builds and other
 * benchmarks, wall time measures the neighbours (everything here runs on
 * one thread, so the process's CPU clock is this thread's). */
static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- bare libxml2: a SAX2 push pass with empty handlers ---- */

static void
bare_start(void *ctx, const xmlChar *l, const xmlChar *p, const xmlChar *u, int nn,
	const xmlChar **ns, int na, int nd, const xmlChar **a)
{
	(void)ctx, (void)l, (void)p, (void)u, (void)nn, (void)ns, (void)na, (void)nd, (void)a;
}

static void
bare_end(void *ctx, const xmlChar *l, const xmlChar *p, const xmlChar *u)
{
	(void)ctx, (void)l, (void)p, (void)u;
}

static void
bare_chars(void *ctx, const xmlChar *s, int n)
{
	(void)ctx, (void)s, (void)n;
}

static void
bare_start1(void *ctx, const xmlChar *name, const xmlChar **atts)
{
	(void)ctx, (void)name, (void)atts;
}

static void
bare_end1(void *ctx, const xmlChar *name)
{
	(void)ctx, (void)name;
}

static size_t
bare_pass(const struct doc *docs, size_t ndocs)
{
	xmlSAXHandler h;
	memset(&h, 0, sizeof(h));
	h.initialized = XML_SAX2_MAGIC;
	h.startElementNs = bare_start;
	h.endElementNs = bare_end;
	h.characters = bare_chars;
	h.cdataBlock = bare_chars;
	for (size_t d = 0; d < ndocs; d++) {
		xmlParserCtxtPtr c = xmlCreatePushParserCtxt(&h, NULL, NULL, 0, NULL);
		xmlCtxtUseOptions(c, XML_PARSE_NONET | XML_PARSE_RECOVER);
		for (size_t off = 0; off < docs[d].len; off += CHUNK) {
			size_t n = docs[d].len - off < CHUNK ? docs[d].len - off : CHUNK;
			xmlParseChunk(c, docs[d].s + off, (int)n, 0);
		}
		xmlParseChunk(c, NULL, 0, 1);
		xmlFreeParserCtxt(c);
	}
	return 0;
}

/* ---- parse/ ---- */

static int
count_entry(void *ud, const struct parse_entry *e)
{
	size_t *n = ud;
	(void)e;
	(*n)++;
	return 0;
}

/* Every document through parse/ in CHUNK pieces, entries to on_entry;
 * report: print the documents parse/ refused. */
static void
parse_all(const struct doc *docs, size_t ndocs,
	int (*on_entry)(void *, const struct parse_entry *), void *ud, bool report)
{
	struct parse_opts o = { .on_entry = on_entry, .ud = ud,
		.base_url = "https://feeds.example.com/feed" };
	for (size_t d = 0; d < ndocs; d++) {
		struct parse *p = NULL;
		if (parse_create(&p, &o) < 0) {
			fprintf(stderr, "out of memory\n");
			exit(1);
		}
		for (size_t off = 0; off < docs[d].len; off += CHUNK) {
			size_t n = docs[d].len - off < CHUNK ? docs[d].len - off : CHUNK;
			parse_push(p, docs[d].s + off, n);
		}
		if (parse_finish(p) != 0 && report)
			fprintf(stderr, "doc %zu: %s\n", d, parse_errmsg(p));
		parse_destroy(p);
	}
}

static size_t
full_pass(const struct doc *docs, size_t ndocs)
{
	size_t entries = 0;

	parse_all(docs, ndocs, count_entry, &entries, true);
	return entries;
}

/* ---- the HTML bodies: libxml2's HTML parser alone ---- */

struct bodies {
	char **s;
	size_t *n;
	size_t count, cap, bytes;
};

static void
body_add(struct bodies *b, const char *s)
{
	if (!s)
		return;
	if (b->count == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 1024;
		b->s = realloc(b->s, b->cap * sizeof(*b->s));
		b->n = realloc(b->n, b->cap * sizeof(*b->n));
		if (!b->s || !b->n) {
			fprintf(stderr, "out of memory\n");
			exit(1);
		}
	}
	b->n[b->count] = strlen(s);
	b->s[b->count] = strdup(s);
	if (!b->s[b->count]) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	b->bytes += b->n[b->count++];
}

static int
collect_entry(void *ud, const struct parse_entry *e)
{
	body_add(ud, e->summary);
	body_add(ud, e->content);
	return 0;
}

static void
collect_bodies(const struct doc *docs, size_t ndocs, struct bodies *b)
{
	parse_all(docs, ndocs, collect_entry, b, false);
}

static void
html_pass(const struct bodies *b)
{
	htmlSAXHandler h;
	memset(&h, 0, sizeof(h));
	h.startElement = bare_start1;
	h.endElement = bare_end1;
	h.characters = bare_chars;
	for (size_t i = 0; i < b->count; i++) {
		htmlParserCtxtPtr c = htmlCreateMemoryParserCtxt(b->s[i], (int)b->n[i]);
		if (!c)
			continue;
		memcpy(c->sax, &h, sizeof(h));
		htmlCtxtUseOptions(c, HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
			HTML_PARSE_NOWARNING | HTML_PARSE_NONET | HTML_PARSE_NODEFDTD);
		htmlParseDocument(c);
		if (c->myDoc)
			xmlFreeDoc(c->myDoc);
		htmlFreeParserCtxt(c);
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int
stream(unsigned mb)
{
	struct gen g = { .rng = 42 };
	size_t entries = 0, total = 0, target = (size_t)mb << 20;
	struct parse_opts o = { .on_entry = count_entry, .ud = &entries };
	struct parse *p = NULL;
	unsigned i = 0;

	if (parse_create(&p, &o) < 0)
		return 1;
	rss20_head(&g);
	while (total < target) {
		while (g.len < CHUNK)
			rss20_item(&g, i++);
		parse_push(p, g.s, g.len);
		total += g.len;
		g.len = 0;
	}
	g_str(&g, "</channel>\n</rss>\n");
	parse_push(p, g.s, g.len);
	int rc = parse_finish(p);
	printf("streamed %.1f MB, %zu entries, rc=%d malformed=%d\n",
		(double)total / 1048576, entries, rc, parse_feed_get(p)->malformed);
	parse_destroy(p);
	free(g.s);
	return rc != 0;
}

static size_t
load_dir(const char *dir, struct doc **out)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0, cap = 0;
	struct doc *docs = NULL;

	if (!d) {
		perror(dir);
		exit(1);
	}
	while ((de = readdir(d))) {
		char path[4096];
		size_t nl = strlen(de->d_name);
		/* Compressed copies (a web server's gzip_static files) are not
		 * feeds: reading them would time gzip bytes as documents. */
		if (de->d_name[0] == '.' ||
		    (nl > 3 && strcmp(de->d_name + nl - 3, ".gz") == 0))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		struct gen g = { 0 };
		char buf[CHUNK];
		size_t r;
		while ((r = fread(buf, 1, sizeof(buf), f)) > 0)
			g_add(&g, buf, r);
		fclose(f);
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			docs = realloc(docs, cap * sizeof(*docs));
		}
		docs[n].s = g.s;
		docs[n++].len = g.len;
	}
	closedir(d);
	*out = docs;
	return n;
}

int
main(int argc, char **argv)
{
	unsigned mb = 40, runs = 5;
	const char *dir = NULL;
	struct doc *docs = NULL;
	size_t ndocs = 0, bytes = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--mb") == 0 && i + 1 < argc)
			mb = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--stream-mb") == 0 && i + 1 < argc)
			return stream((unsigned)atoi(argv[++i]));
		else {
			fprintf(stderr, "usage: %s [--mb N] [--runs R] [--dir DIR] | --stream-mb N\n",
				argv[0]);
			return 2;
		}
	}
	if (runs < 1)
		runs = 1;
	xmlInitParser();
	if (dir) {
		ndocs = load_dir(dir, &docs);
	} else {
		/* Documents of 50 to 400 items, formats in turn. */
		struct gen g = { .rng = 0x9E3779B97F4A7C15ull };
		size_t target = (size_t)mb << 20;
		while (bytes < target) {
			struct gen d = { .rng = g.rng + ndocs };
			unsigned items = 50 + rnd(&g, 350);
			switch (ndocs % 3) {
			case 0:
				gen_rss20(&d, items);
				break;
			case 1:
				gen_atom(&d, items);
				break;
			default:
				gen_rss10(&d, items);
				break;
			}
			docs = realloc(docs, (ndocs + 1) * sizeof(*docs));
			docs[ndocs].s = d.s;
			docs[ndocs++].len = d.len;
			bytes += d.len;
		}
	}
	bytes = 0;
	for (size_t i = 0; i < ndocs; i++)
		bytes += docs[i].len;

	double *tb = calloc(runs, sizeof(double)), *tf = calloc(runs, sizeof(double));
	double *th = calloc(runs, sizeof(double));
	struct bodies bodies = { 0 };
	size_t entries = 0;
	collect_bodies(docs, ndocs, &bodies);
	for (unsigned r = 0; r < runs; r++) {
		double t0 = now();
		bare_pass(docs, ndocs);
		double t1 = now();
		entries = full_pass(docs, ndocs);
		double t2 = now();
		html_pass(&bodies);
		double t3 = now();
		tb[r] = t1 - t0;
		tf[r] = t2 - t1;
		th[r] = t3 - t2;
	}
	double mbytes = (double)bytes / 1048576;
	double b = median(tb, (int)runs), f = median(tf, (int)runs);
	printf("corpus: %zu documents, %.1f MB, %zu entries (%s)\n", ndocs, mbytes,
		entries, dir ? dir : "generated: RSS 2.0, Atom 1.0, RSS 1.0");
	printf("bare libxml2 SAX : %8.1f MB/s  %10.0f entries/s  (median of %u)\n",
		mbytes / b, (double)entries / b, runs);
	printf("parse/ (full)    : %8.1f MB/s  %10.0f entries/s  (median of %u)\n",
		mbytes / f, (double)entries / f, runs);
	printf("ratio parse/ / bare libxml2: %.2f (target >= 0.5)\n", b / f);
	double h = median(th, (int)runs), hb = (double)bodies.bytes / 1048576;
	printf("bare libxml2 HTML SAX over the %zu summaries and contents parse/ returned:"
		" %.1f MB (%.0f%% of the corpus) at %.1f MB/s (median of %u)\n",
		bodies.count, hb, 100.0 * hb / mbytes, hb / h, runs);
	printf("floor: reading the feed once and each body once, nothing else:"
		" ratio %.2f at best\n", b / (b + h));
	for (size_t i = 0; i < bodies.count; i++)
		free(bodies.s[i]);
	free(bodies.s);
	free(bodies.n);
	for (size_t i = 0; i < ndocs; i++)
		free(docs[i].s);
	free(docs);
	free(tb);
	free(tf);
	free(th);
	return 0;
}
