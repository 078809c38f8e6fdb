/*
 * feedctl import-opml FILE: OPML subscriptions -> `feed` lines for
 * feedd.conf. feedctl export-opml: the configured feeds -> OPML 2.0.
 *
 * OPML (http://opml.org/spec2.opml) is what feed readers exchange: an
 * <outline> with an xmlUrl is a feed, an <outline> without one is a folder,
 * and the optional `category` attribute lists comma-separated categories,
 * each a "/"-separated path. Folders and categories become tags; titles
 * become names that feedd.conf accepts. libxml2 reads and writes the XML.
 */
#include "feedctl.h"
#include "conf.h"
#include "log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>

#define OPML_NAME_MAX 48   /* leaves room for a "-NNN" suffix within 64 */
#define OPML_MAX_DEPTH 64  /* folder nesting we follow */
#define OPML_MAX_FILE (64 << 20) /* bytes; exports are kilobytes */

struct import_feed {
	char *name;   /* owned */
	char *url;    /* owned */
	char *tags;   /* owned; comma-separated, or NULL */
};

struct import {
	struct import_feed *feeds; /* owned array */
	size_t n, cap;
	const struct conf *existing; /* borrowed; the config, or NULL */
	unsigned skipped;
	const char *file;          /* borrowed: for messages */
};

/* ------------------------------------------------------------------ */
/* Names and tags */

static bool
name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		(ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
}

static bool
name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > OPML_NAME_MAX || s[0] == '-')
		return false;
	for (const char *p = s; *p; p++)
		if (!name_char(*p))
			return false;
	return true;
}

/* "Ars Technica: All" -> "ars-technica-all". A title that already is a
 * valid name is kept as it is, so export -> import keeps names. */
static void
slugify(const char *s, char *out, size_t outlen)
{
	size_t w = 0;

	if (name_valid(s)) {
		snprintf(out, outlen, "%s", s);
		return;
	}
	for (const char *p = s; *p && w + 1 < outlen && w < OPML_NAME_MAX; p++) {
		char ch = *p;
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (!name_char(ch) || ch == '-') {
			/* Runs of anything else become one '-'. */
			if (w > 0 && out[w - 1] != '-')
				out[w++] = '-';
			continue;
		}
		out[w++] = ch;
	}
	while (w > 0 && (out[w - 1] == '-' || out[w - 1] == '.'))
		w--;
	out[w] = '\0';
	/* No leading '-' or '.': it would read as an option or a dotfile. */
	size_t lead = strspn(out, "-.");
	memmove(out, out + lead, w - lead + 1);
}

/* The host of an http(s) URL, without "www.", into buf. */
static void
url_host(const char *url, char *buf, size_t len)
{
	const char *p = strstr(url, "://"), *e, *at;

	buf[0] = '\0';
	if (!p)
		return;
	p += 3;
	e = p + strcspn(p, "/?#");
	at = memchr(p, '@', (size_t)(e - p));
	while (at) {
		p = at + 1;
		at = memchr(p, '@', (size_t)(e - p));
	}
	if (e - p > 4 && strncasecmp(p, "www.", 4) == 0)
		p += 4;
	snprintf(buf, len, "%.*s", (int)strcspn(p, ":/?#"), p);
}

static bool
name_taken(const struct import *im, const char *name)
{
	if (im->existing && conf_feed_find(im->existing, name))
		return true;
	for (size_t i = 0; i < im->n; i++)
		if (strcmp(im->feeds[i].name, name) == 0)
			return true;
	return false;
}

/* A tag as readers show it: one line, no commas, trimmed, single spaces. */
static void
tag_clean(const char *s, char *out, size_t outlen)
{
	size_t w = 0;

	for (const char *p = s; *p && w + 1 < outlen; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch < ' ' || ch == ' ' || ch == ',' || ch == 0x7f) {
			if (w > 0 && out[w - 1] != ' ')
				out[w++] = ' ';
			continue;
		}
		out[w++] = (char)ch;
	}
	while (w > 0 && out[w - 1] == ' ')
		w--;
	out[w] = '\0';
}

/* Append tag to the comma list *tags unless it is empty or present. */
static int
tag_add(char **tags, const char *raw)
{
	char tag[256], *n;
	size_t tl, ol;

	tag_clean(raw, tag, sizeof(tag));
	tl = strlen(tag);
	if (tl == 0)
		return 0;
	if (*tags) {
		for (const char *p = *tags; p;) {
			const char *e = strchr(p, ',');
			size_t l = e ? (size_t)(e - p) : strlen(p);
			if (l == tl && strncmp(p, tag, tl) == 0)
				return 0;
			p = e ? e + 1 : NULL;
		}
	}
	ol = *tags ? strlen(*tags) : 0;
	n = realloc(*tags, ol + tl + 2);
	if (!n)
		return -ENOMEM;
	if (ol)
		n[ol++] = ',';
	memcpy(n + ol, tag, tl + 1);
	*tags = n;
	return 0;
}

/* A category attribute: "a,/b/c" -> tags a, b, c. */
static int
tags_from_category(char **tags, const char *cat)
{
	char *copy = strdup(cat), *save = NULL;
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	for (char *tok = strtok_r(copy, ",/", &save); tok && rc == 0;
	     tok = strtok_r(NULL, ",/", &save))
		rc = tag_add(tags, tok);
	free(copy);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Reading OPML */

/* An attribute by name, ignoring case: exporters write xmlUrl, xmlurl
 * and XMLURL. Owned by the caller (xmlFree). */
static xmlChar *
attr(xmlNode *n, const char *name)
{
	for (xmlAttr *a = n->properties; a; a = a->next)
		if (a->name && xmlStrcasecmp(a->name, (const xmlChar *)name) == 0)
			return xmlNodeGetContent((xmlNode *)a);
	return NULL;
}

static bool
is_outline(xmlNode *n)
{
	return n->type == XML_ELEMENT_NODE &&
		xmlStrcasecmp(n->name, (const xmlChar *)"outline") == 0;
}

static int
add_feed(struct import *im, const char *title, const char *url_raw,
	const char *const *path, int depth, const char *category)
{
	char base[OPML_NAME_MAX + 1], name[OPML_NAME_MAX + 16], host[256];
	char *url = NULL, *tags = NULL;
	const char *why;
	int rc = 0;

	/* Trim the URL: exports carry stray whitespace and newlines. */
	while (*url_raw == ' ' || *url_raw == '\t' || *url_raw == '\n' || *url_raw == '\r')
		url_raw++;
	url = strdup(url_raw);
	if (!url)
		return -ENOMEM;
	for (size_t l = strlen(url); l > 0 && strchr(" \t\r\n", url[l - 1]); l--)
		url[l - 1] = '\0';

	if (conf_url_check(url, &why) < 0) {
		fprintf(stderr, "feedctl: import-opml: skipping '%s': invalid URL '%s': %s\n",
			title, url, why);
		im->skipped++;
		goto out;
	}
	for (int i = 0; i < depth; i++)
		if ((rc = tag_add(&tags, path[i])) < 0)
			goto out;
	if (category && (rc = tags_from_category(&tags, category)) < 0)
		goto out;

	/* The same feed in two folders: one feed with both tags. */
	for (size_t i = 0; i < im->n; i++) {
		if (strcmp(im->feeds[i].url, url) != 0)
			continue;
		for (const char *p = tags; p && *p;) {
			const char *e = strchr(p, ',');
			char one[256];
			snprintf(one, sizeof(one), "%.*s", (int)(e ? e - p : (long)strlen(p)), p);
			if ((rc = tag_add(&im->feeds[i].tags, one)) < 0)
				goto out;
			p = e ? e + 1 : NULL;
		}
		goto out;
	}
	for (size_t i = 0; im->existing && i < im->existing->nfeeds; i++) {
		if (strcmp(im->existing->feeds[i].url, url) == 0) {
			fprintf(stderr, "feedctl: import-opml: skipping '%s': already configured as '%s'\n",
				title, im->existing->feeds[i].name);
			im->skipped++;
			goto out;
		}
	}

	slugify(title, base, sizeof(base));
	if (!base[0]) {
		url_host(url, host, sizeof(host));
		slugify(host, base, sizeof(base));
	}
	if (!base[0])
		snprintf(base, sizeof(base), "feed");
	snprintf(name, sizeof(name), "%s", base);
	for (unsigned k = 2; name_taken(im, name); k++)
		snprintf(name, sizeof(name), "%s-%u", base, k);

	if (im->n == im->cap) {
		size_t cap = im->cap ? im->cap * 2 : 32;
		struct import_feed *nf = realloc(im->feeds, cap * sizeof(*nf));
		if (!nf) {
			rc = -ENOMEM;
			goto out;
		}
		im->feeds = nf;
		im->cap = cap;
	}
	im->feeds[im->n].name = strdup(name);
	if (!im->feeds[im->n].name) {
		rc = -ENOMEM;
		goto out;
	}
	im->feeds[im->n].url = url;
	im->feeds[im->n].tags = tags;
	im->n++;
	url = NULL;
	tags = NULL;
out:
	free(url);
	free(tags);
	return rc;
}

static int
walk(struct import *im, xmlNode *parent, const char **path, int depth)
{
	int rc = 0;

	for (xmlNode *n = parent->children; n && rc == 0; n = n->next) {
		xmlChar *url, *title, *text, *cat;
		const char *label;

		if (!is_outline(n))
			continue;
		url = attr(n, "xmlUrl");
		title = attr(n, "title");
		text = attr(n, "text");
		cat = attr(n, "category");
		label = title && *title ? (const char *)title
			: text && *text ? (const char *)text : "";
		if (url && *url) {
			rc = add_feed(im, label, (const char *)url, path, depth,
				(const char *)cat);
			/* A feed outline's children (rare) share its folder. */
			if (rc == 0)
				rc = walk(im, n, path, depth);
		} else if (*label && depth < OPML_MAX_DEPTH) {
			path[depth] = label;
			rc = walk(im, n, path, depth + 1);
		} else {
			rc = walk(im, n, path, depth);
		}
		xmlFree(url);
		xmlFree(title);
		xmlFree(text);
		xmlFree(cat);
	}
	return rc;
}

static int
print_import(const struct import *im, FILE *f)
{
	for (size_t i = 0; i < im->n; i++) {
		fputs("feed ", f);
		conf_print_token(im->feeds[i].name, f);
		fputc(' ', f);
		conf_print_token(im->feeds[i].url, f);
		if (im->feeds[i].tags) {
			fputs(" tags=", f);
			conf_print_token(im->feeds[i].tags, f);
		}
		fputc('\n', f);
	}
	return ferror(f) ? -EIO : 0;
}

/* The whole of path (NULL: standard input), up to OPML_MAX_FILE bytes. */
static int
read_all(const char *path, char **out, size_t *outlen)
{
	FILE *f = path ? fopen(path, "rb") : stdin;
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0, n;
	int rc = 0;

	if (!f)
		return -errno;
	do {
		if (len == cap) {
			if (cap >= OPML_MAX_FILE) {
				rc = -EFBIG;
				goto out;
			}
			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap);
			if (!nb) {
				rc = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		rc = -(errno ? errno : EIO);
		goto out;
	}
	*out = buf;
	*outlen = len;
	buf = NULL;
out:
	free(buf);
	if (path)
		fclose(f);
	return rc;
}

static void
usage_import(FILE *f)
{
	fprintf(f, "usage: feedctl import-opml FILE|-\n");
}

int
feedctl_import_opml(const struct feedctl_global *g, int argc, char **argv)
{
	struct import im = { 0 };
	struct conf *existing = NULL;
	xmlParserCtxtPtr ctx = NULL;
	xmlDocPtr doc = NULL;
	xmlNode *root, *body = NULL;
	const char *path[OPML_MAX_DEPTH];
	char *text = NULL, *raw = NULL, err[1024];
	size_t textlen = 0, rawlen = 0;
	FILE *mem = NULL;
	struct conf *check = NULL;
	int status = 1, rc;
	const int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;

	if (argc != 2 || (argv[1][0] == '-' && argv[1][1])) {
		usage_import(argc == 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
		return argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
	}
	im.file = argv[1];

	/* Names must not collide with the config the lines are meant for. */
	if (g->config) {
		if (conf_load(&existing, g->config, err, sizeof(err)) < 0) {
			fprintf(stderr, "feedctl: import-opml: %s\n", err);
			goto out;
		}
	} else if (access(FEEDD_DEFAULT_CONFIG, R_OK) == 0) {
		if (conf_load(&existing, FEEDD_DEFAULT_CONFIG, err, sizeof(err)) < 0)
			fprintf(stderr, "feedctl: import-opml: ignoring %s: %s\n",
				FEEDD_DEFAULT_CONFIG, err);
	}
	im.existing = existing;

	ctx = xmlNewParserCtxt();
	if (!ctx) {
		fprintf(stderr, "feedctl: import-opml: out of memory\n");
		goto out;
	}
	/* Read the bytes ourselves: a clear message for a missing file, and
	 * libxml2 then has no I/O of its own to complain about on stderr. */
	rc = read_all(strcmp(argv[1], "-") == 0 ? NULL : argv[1], &raw, &rawlen);
	if (rc < 0) {
		fprintf(stderr, "feedctl: import-opml: %s: %s\n", argv[1], strerror(-rc));
		goto out;
	}
	doc = xmlCtxtReadMemory(ctx, raw, (int)rawlen,
		strcmp(argv[1], "-") == 0 ? "stdin" : argv[1], NULL, opts);
	if (!doc) {
		const xmlError *e = xmlCtxtGetLastError(ctx);
		char msg[512] = "cannot read the file";
		if (e && e->message) {
			snprintf(msg, sizeof(msg), "%s", e->message);
			msg[strcspn(msg, "\n")] = '\0';
		}
		if (e && e->line > 0)
			fprintf(stderr, "feedctl: import-opml: %s:%d: %s\n", argv[1], e->line, msg);
		else
			fprintf(stderr, "feedctl: import-opml: %s: %s\n", argv[1], msg);
		goto out;
	}
	root = xmlDocGetRootElement(doc);
	if (!root || xmlStrcasecmp(root->name, (const xmlChar *)"opml") != 0) {
		fprintf(stderr, "feedctl: import-opml: %s: not OPML (the root element is <%s>, not <opml>)\n",
			argv[1], root ? (const char *)root->name : "");
		goto out;
	}
	for (xmlNode *n = root->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE &&
		    xmlStrcasecmp(n->name, (const xmlChar *)"body") == 0)
			body = n;
	if (!body) {
		fprintf(stderr, "feedctl: import-opml: %s: not OPML (no <body>)\n", argv[1]);
		goto out;
	}
	rc = walk(&im, body, path, 0);
	if (rc < 0) {
		fprintf(stderr, "feedctl: import-opml: %s\n", strerror(-rc));
		goto out;
	}

	/* Check what we print with the parser that will read it. */
	mem = open_memstream(&text, &textlen);
	if (!mem || print_import(&im, mem) < 0 || fclose(mem) != 0) {
		mem = NULL;
		fprintf(stderr, "feedctl: import-opml: out of memory\n");
		goto out;
	}
	mem = NULL;
	if (conf_parse(&check, "(import-opml output)", text, textlen, err, sizeof(err)) < 0) {
		fprintf(stderr, "feedctl: import-opml: internal error: %s\n", err);
		goto out;
	}
	printf("# %zu feed%s imported from %s by feedctl import-opml\n", im.n,
		im.n == 1 ? "" : "s", strcmp(argv[1], "-") == 0 ? "stdin" : argv[1]);
	fputs(text, stdout);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "feedctl: import-opml: writing: %s\n", strerror(errno));
		goto out;
	}
	if (im.skipped)
		fprintf(stderr, "feedctl: import-opml: %zu imported, %u skipped\n", im.n, im.skipped);
	status = 0;
out:
	if (mem)
		fclose(mem);
	free(raw);
	free(text);
	conf_free(check);
	for (size_t i = 0; i < im.n; i++) {
		free(im.feeds[i].name);
		free(im.feeds[i].url);
		free(im.feeds[i].tags);
	}
	free(im.feeds);
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctx);
	conf_free(existing);
	return status;
}

/* ------------------------------------------------------------------ */
/* Writing OPML */

/* The first tag of a comma list, into buf ("" when untagged). */
static void
first_tag(const char *tags, char *buf, size_t len)
{
	if (!tags)
		buf[0] = '\0';
	else
		snprintf(buf, len, "%.*s", (int)strcspn(tags, ","), tags);
}

static int
write_outline(xmlTextWriterPtr w, const struct conf_feed *f)
{
	char url[4096];
	int rc = 0;

	/* Credentials stay in feedd.conf: an OPML file gets shared. */
	log_url(f->url, url, sizeof(url));
	rc |= xmlTextWriterStartElement(w, BAD_CAST "outline") < 0;
	rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST "rss") < 0;
	rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "text", BAD_CAST f->name) < 0;
	rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "title", BAD_CAST f->name) < 0;
	rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "xmlUrl", BAD_CAST url) < 0;
	if (f->tags)
		rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "category", BAD_CAST f->tags) < 0;
	rc |= xmlTextWriterEndElement(w) < 0;
	return rc ? -EIO : 0;
}

static int
write_opml(const struct conf *c, xmlTextWriterPtr w)
{
	char date[64], tag[256], other[256];
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	time_t now = sde && *sde ? (time_t)strtoll(sde, NULL, 10) : time(NULL);
	struct tm tm;
	bool *done = NULL;
	int rc = 0;

	done = calloc(c->nfeeds + 1, sizeof(*done));
	if (!done)
		return -ENOMEM;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);

	rc |= xmlTextWriterSetIndent(w, 1) < 0;
	rc |= xmlTextWriterSetIndentString(w, BAD_CAST "  ") < 0;
	rc |= xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL) < 0;
	rc |= xmlTextWriterStartElement(w, BAD_CAST "opml") < 0;
	rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "version", BAD_CAST "2.0") < 0;
	rc |= xmlTextWriterStartElement(w, BAD_CAST "head") < 0;
	rc |= xmlTextWriterWriteElement(w, BAD_CAST "title", BAD_CAST "feedd subscriptions") < 0;
	rc |= xmlTextWriterWriteElement(w, BAD_CAST "dateCreated", BAD_CAST date) < 0;
	rc |= xmlTextWriterWriteElement(w, BAD_CAST "docs",
		BAD_CAST "http://opml.org/spec2.opml") < 0;
	rc |= xmlTextWriterEndElement(w) < 0;
	rc |= xmlTextWriterStartElement(w, BAD_CAST "body") < 0;

	/* Readers show folders, so each feed goes in the folder of its first
	 * tag (folders in order of first use); `category` keeps all tags. */
	for (size_t i = 0; i < c->nfeeds && !rc; i++) {
		if (done[i] || !c->feeds[i].tags)
			continue;
		first_tag(c->feeds[i].tags, tag, sizeof(tag));
		rc |= xmlTextWriterStartElement(w, BAD_CAST "outline") < 0;
		rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "text", BAD_CAST tag) < 0;
		rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "title", BAD_CAST tag) < 0;
		for (size_t j = i; j < c->nfeeds && !rc; j++) {
			if (done[j] || !c->feeds[j].tags)
				continue;
			first_tag(c->feeds[j].tags, other, sizeof(other));
			if (strcmp(tag, other) != 0)
				continue;
			rc |= write_outline(w, &c->feeds[j]) < 0;
			done[j] = true;
		}
		rc |= xmlTextWriterEndElement(w) < 0;
	}
	for (size_t i = 0; i < c->nfeeds && !rc; i++)
		if (!c->feeds[i].tags)
			rc |= write_outline(w, &c->feeds[i]) < 0;
	rc |= xmlTextWriterEndDocument(w) < 0;
	free(done);
	return rc ? -EIO : 0;
}

int
feedctl_export_opml(const struct feedctl_global *g, int argc, char **argv)
{
	const char *cfg = g->config ? g->config : FEEDD_DEFAULT_CONFIG;
	struct conf *c = NULL;
	xmlBufferPtr buf = NULL;
	xmlTextWriterPtr w = NULL;
	char err[1024];
	int status = 1;

	if (argc != 1) {
		bool help = argc == 2 && strcmp(argv[1], "--help") == 0;
		fprintf(help ? stdout : stderr, "usage: feedctl [--config PATH] export-opml\n");
		return help ? 0 : 2;
	}
	if (conf_load(&c, cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "feedctl: export-opml: %s\n", err);
		goto out;
	}
	buf = xmlBufferCreate();
	w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
	if (!w) {
		fprintf(stderr, "feedctl: export-opml: out of memory\n");
		goto out;
	}
	if (write_opml(c, w) < 0) {
		fprintf(stderr, "feedctl: export-opml: cannot write the document\n");
		goto out;
	}
	xmlFreeTextWriter(w); /* flushes into buf */
	w = NULL;
	if (fwrite(xmlBufferContent(buf), 1, (size_t)xmlBufferLength(buf), stdout) !=
		(size_t)xmlBufferLength(buf) || fflush(stdout) != 0) {
		fprintf(stderr, "feedctl: export-opml: writing: %s\n", strerror(errno));
		goto out;
	}
	status = 0;
out:
	if (w)
		xmlFreeTextWriter(w);
	xmlBufferFree(buf);
	conf_free(c);
	return status;
}
