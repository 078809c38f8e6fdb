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
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
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
	char *title;  /* owned; the outline's title or text, NULL = none */
	char *site;   /* owned; its htmlUrl when that is an http(s) URL */
};

struct import {
	struct import_feed *feeds; /* owned array */
	size_t n, cap;
	const struct conf *existing; /* borrowed; the config, or NULL */
	unsigned read;             /* outlines with a feed URL */
	unsigned dup, configured, invalid; /* skipped, by reason */
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

/* Latin letters written without their accents, for names: "é" -> "e",
 * "ß" -> "ss". Case does not matter (names are lower-cased). */
static const struct {
	uint32_t lo, hi;
	const char *ascii;
} translit[] = {
	{ 0xc0, 0xc5, "a" }, { 0xc6, 0xc6, "ae" }, { 0xc7, 0xc7, "c" },
	{ 0xc8, 0xcb, "e" }, { 0xcc, 0xcf, "i" }, { 0xd0, 0xd0, "d" },
	{ 0xd1, 0xd1, "n" }, { 0xd2, 0xd6, "o" }, { 0xd8, 0xd8, "o" },
	{ 0xd9, 0xdc, "u" }, { 0xdd, 0xdd, "y" }, { 0xde, 0xde, "th" },
	{ 0xdf, 0xdf, "ss" }, { 0xe0, 0xe5, "a" }, { 0xe6, 0xe6, "ae" },
	{ 0xe7, 0xe7, "c" }, { 0xe8, 0xeb, "e" }, { 0xec, 0xef, "i" },
	{ 0xf0, 0xf0, "d" }, { 0xf1, 0xf1, "n" }, { 0xf2, 0xf6, "o" },
	{ 0xf8, 0xf8, "o" }, { 0xf9, 0xfc, "u" }, { 0xfd, 0xfd, "y" },
	{ 0xfe, 0xfe, "th" }, { 0xff, 0xff, "y" },
	/* Latin Extended-A */
	{ 0x100, 0x105, "a" }, { 0x106, 0x10d, "c" }, { 0x10e, 0x111, "d" },
	{ 0x112, 0x11b, "e" }, { 0x11c, 0x123, "g" }, { 0x124, 0x127, "h" },
	{ 0x128, 0x131, "i" }, { 0x132, 0x133, "ij" }, { 0x134, 0x135, "j" },
	{ 0x136, 0x138, "k" }, { 0x139, 0x142, "l" }, { 0x143, 0x14b, "n" },
	{ 0x14c, 0x151, "o" }, { 0x152, 0x153, "oe" }, { 0x154, 0x159, "r" },
	{ 0x15a, 0x161, "s" }, { 0x162, 0x167, "t" }, { 0x168, 0x173, "u" },
	{ 0x174, 0x175, "w" }, { 0x176, 0x178, "y" }, { 0x179, 0x17e, "z" },
	{ 0x17f, 0x17f, "s" },
	/* Romanian comma-below letters */
	{ 0x218, 0x219, "s" }, { 0x21a, 0x21b, "t" },
};

/* Code points that separate words in titles (spaces, dashes, quotes,
 * symbols, emoji): they become '-' like ASCII punctuation. */
static bool
cp_separator(uint32_t c)
{
	return (c >= 0x80 && c <= 0xbf) || c == 0xd7 || c == 0xf7 ||
		(c >= 0x2000 && c <= 0x2bff) || (c >= 0x3000 && c <= 0x303f) ||
		(c >= 0xfe00 && c <= 0xfe0f) || c == 0xfeff ||
		(c >= 0x1f000 && c <= 0x1faff);
}

/* The code point at *p (UTF-8), advancing *p; an invalid byte is
 * skipped and read as 0xfffd (which no table holds). */
static uint32_t
utf8_cp(const char **p)
{
	const unsigned char *u = (const unsigned char *)*p;
	size_t n = u[0] < 0x80 ? 1 : (u[0] & 0xe0) == 0xc0 ? 2 :
		(u[0] & 0xf0) == 0xe0 ? 3 : (u[0] & 0xf8) == 0xf0 ? 4 : 0;
	uint32_t c;

	if (n == 0) {
		(*p)++;
		return 0xfffd;
	}
	c = n == 1 ? u[0] : u[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80) {
			(*p)++;
			return 0xfffd;
		}
		c = c << 6 | (u[i] & 0x3f);
	}
	*p += n;
	return c;
}

/* "Ars Technica: All" -> "ars-technica-all", "Café Müller" ->
 * "cafe-muller". A title that already is a valid name is kept as it is,
 * so export -> import keeps names. A title with letters of another
 * script (Cyrillic, CJK, ...) gives "": the caller then names the feed
 * after the URL's host, which reads better than the few ASCII letters
 * such a title may also have. */
static void
slugify(const char *s, char *out, size_t outlen)
{
	size_t w = 0;

	if (name_valid(s)) {
		snprintf(out, outlen, "%s", s);
		return;
	}
	for (const char *p = s; *p && w + 1 < outlen && w < OPML_NAME_MAX;) {
		uint32_t c = utf8_cp(&p);
		const char *t = NULL;
		char one[2] = { 0 };

		if (c < 0x80) {
			one[0] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : (char)c;
			if (name_char(one[0]) && one[0] != '-')
				t = one;
		} else if (!cp_separator(c)) {
			for (size_t i = 0; i < sizeof(translit) / sizeof(translit[0]); i++)
				if (c >= translit[i].lo && c <= translit[i].hi)
					t = translit[i].ascii;
			if (!t) {
				out[0] = '\0';
				return;
			}
		}
		if (!t) {
			/* Runs of anything else become one '-'. */
			if (w > 0 && out[w - 1] != '-')
				out[w++] = '-';
			continue;
		}
		for (; *t && w + 1 < outlen && w < OPML_NAME_MAX; t++)
			out[w++] = *t;
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

/* A title as one line: control characters and runs of white space
 * become one space, trimmed. *res is owned by the caller, NULL when
 * nothing is left. 0 or -ENOMEM. */
static int
title_clean(const char *s, char **res)
{
	char *out = malloc(strlen(s) + 1);
	size_t w = 0;

	*res = NULL;
	if (!out)
		return -ENOMEM;
	for (const char *p = s; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch <= ' ' || ch == 0x7f) {
			if (w > 0 && out[w - 1] != ' ')
				out[w++] = ' ';
			continue;
		}
		out[w++] = (char)ch;
	}
	while (w > 0 && out[w - 1] == ' ')
		w--;
	out[w] = '\0';
	if (!w)
		free(out);
	else
		*res = out;
	return 0;
}

static int
add_feed(struct import *im, const char *title, const char *url_raw,
	const char *html_url, const char *const *path, int depth, const char *category)
{
	char base[OPML_NAME_MAX + 1], name[OPML_NAME_MAX + 16], host[256];
	char *url = NULL, *tags = NULL, *ctitle = NULL, *site = NULL;
	const char *why;
	int rc = 0;

	im->read++;
	/* Trim the URL: exports carry stray whitespace and newlines. */
	while (*url_raw == ' ' || *url_raw == '\t' || *url_raw == '\n' || *url_raw == '\r')
		url_raw++;
	url = strdup(url_raw);
	if (!url)
		return -ENOMEM;
	for (size_t l = strlen(url); l > 0 && strchr(" \t\r\n", url[l - 1]); l--)
		url[l - 1] = '\0';

	if (conf_url_check(url, &why) < 0) {
		fprintf(stderr, "feedctl import-opml: skipping '%s': invalid URL '%s': %s\n",
			title, url, why);
		im->invalid++;
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
		im->dup++;
		goto out;
	}
	for (size_t i = 0; im->existing && i < im->existing->nfeeds; i++) {
		if (strcmp(im->existing->feeds[i].url, url) == 0) {
			fprintf(stderr, "feedctl import-opml: skipping '%s': already configured as '%s'\n",
				title, im->existing->feeds[i].name);
			im->configured++;
			goto out;
		}
	}
	if ((rc = title_clean(title, &ctitle)) < 0)
		goto out;
	/* A site link that is not http(s) is dropped, not the feed. */
	if (html_url && *html_url) {
		if ((rc = title_clean(html_url, &site)) < 0)
			goto out;
		if (site && conf_url_check(site, &why) < 0) {
			free(site);
			site = NULL;
		}
	}

	slugify(ctitle ? ctitle : "", base, sizeof(base));
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
	/* The title is kept unless it says no more than the name. */
	if (ctitle && strcmp(ctitle, name) == 0) {
		free(ctitle);
		ctitle = NULL;
	}
	im->feeds[im->n].title = ctitle;
	im->feeds[im->n].site = site;
	im->n++;
	url = NULL;
	tags = NULL;
	ctitle = NULL;
	site = NULL;
out:
	free(url);
	free(tags);
	free(ctitle);
	free(site);
	return rc;
}

static int
walk(struct import *im, xmlNode *parent, const char **path, int depth)
{
	int rc = 0;

	for (xmlNode *n = parent->children; n && rc == 0; n = n->next) {
		xmlChar *url, *title, *text, *cat, *html;
		const char *label;

		if (!is_outline(n))
			continue;
		url = attr(n, "xmlUrl");
		title = attr(n, "title");
		text = attr(n, "text");
		cat = attr(n, "category");
		html = attr(n, "htmlUrl");
		label = title && *title ? (const char *)title
			: text && *text ? (const char *)text : "";
		if (url && *url) {
			rc = add_feed(im, label, (const char *)url, (const char *)html,
				path, depth, (const char *)cat);
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
		xmlFree(html);
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
		if (im->feeds[i].title) {
			fputs(" title=", f);
			conf_print_token(im->feeds[i].title, f);
		}
		if (im->feeds[i].site) {
			fputs(" site=", f);
			conf_print_token(im->feeds[i].site, f);
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

/*
 * Write data to path as a whole or not at all: a temporary file in the
 * same directory, synced, then renamed over path (with force) or linked
 * to it (without: link() fails on an existing file, atomically, so a file
 * that appeared meanwhile is not lost either); then the directory is
 * synced so the new name survives a crash. A new file gets 0666 minus
 * the umask; a replaced one keeps its mode and owner. Returns 0, or -errno with what failed in *what.
 */
static int
write_atomic(const char *path, const char *data, size_t len, bool force,
	const char **what)
{
	char *tmp = NULL, *dir = NULL, *slash;
	struct stat old;
	mode_t mask;
	int fd = -1, dfd, rc = 0;
	size_t off = 0;

	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return -ENOMEM;
	*what = "creating a temporary file beside it";
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = -errno;
		free(tmp);
		return rc;
	}
	mask = umask(0);
	umask(mask);
	*what = "writing";
	/* A replaced file keeps its mode and, where we may, its owner and
	 * group (a 0640 root:feedd file must stay readable to feedd and no
	 * one else); a new one gets 0666 minus the umask. */
	if (force && stat(path, &old) == 0 && S_ISREG(old.st_mode)) {
		if (fchown(fd, old.st_uid, old.st_gid) < 0 &&
		    fchown(fd, (uid_t)-1, old.st_gid) < 0) {
			/* Not allowed: the new file is ours, as any edit's. */
		}
		if (fchmod(fd, old.st_mode & 07777) < 0)
			rc = -errno;
	} else if (fchmod(fd, 0666 & ~mask) < 0) {
		rc = -errno;
	}
	while (rc == 0 && off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = -errno;
		else
			off += (size_t)n;
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0) {
		*what = "putting it in place";
		if (force) {
			if (rename(tmp, path) < 0)
				rc = -errno;
		} else if (link(tmp, path) < 0) {
			rc = -errno;
			/* A file system without hard links: check, then rename
			 * (not atomic against a file appearing in between). */
			if (rc == -EPERM || rc == -ENOTSUP || rc == -EMLINK) {
				if (access(path, F_OK) == 0)
					rc = -EEXIST;
				else
					rc = rename(tmp, path) < 0 ? -errno : 0;
			}
			if (rc == -EEXIST)
				*what = "it exists (--force replaces it)";
		}
	}
	/* After rename() tmp is gone; after link() (or a failure) it goes. */
	unlink(tmp);
	free(tmp);
	if (rc < 0)
		return rc;
	dir = strdup(path);
	if (!dir)
		return 0; /* written and named; only the directory sync is skipped */
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	free(dir);
	return 0;
}

/* "skipped 2 (1 duplicate URL, 1 invalid URL)" */
static void
print_summary(const struct import *im, const char *dest)
{
	unsigned skipped = im->dup + im->configured + im->invalid;
	const char *sep = " (";

	fprintf(stderr, "feedctl import-opml: read %u feed%s, skipped %u", im->read,
		im->read == 1 ? "" : "s", skipped);
	if (im->dup) {
		fprintf(stderr, "%s%u duplicate URL%s", sep, im->dup, im->dup == 1 ? "" : "s");
		sep = ", ";
	}
	if (im->configured) {
		fprintf(stderr, "%s%u already configured", sep, im->configured);
		sep = ", ";
	}
	if (im->invalid) {
		fprintf(stderr, "%s%u invalid URL%s", sep, im->invalid,
			im->invalid == 1 ? "" : "s");
		sep = ", ";
	}
	fprintf(stderr, "%s, wrote %zu to %s\n", skipped ? ")" : "", im->n, dest);
}

/* path as one spelling: its directory's real path and its base name (the
 * file itself need not exist), into buf. False when the directory cannot
 * be resolved. */
static bool
path_canon(const char *path, char *buf, size_t len)
{
	char dir[4096], *real;
	const char *slash = strrchr(path, '/');
	int n;

	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash == path ? 1 : slash - path), path);
	else
		snprintf(dir, sizeof(dir), ".");
	real = realpath(dir, NULL);
	if (!real)
		return false;
	n = snprintf(buf, len, "%s/%s", strcmp(real, "/") ? real : "", slash ? slash + 1 : path);
	free(real);
	return n > 0 && (size_t)n < len;
}

static bool
same_path(const char *a, const char *b)
{
	char ka[4200], kb[4200];

	return path_canon(a, ka, sizeof(ka)) && path_canon(b, kb, sizeof(kb)) &&
		strcmp(ka, kb) == 0;
}

/*
 * The configuration the lines are meant for, with --output read as empty:
 * when it is one of the config's files (a re-import over an earlier one,
 * with --force), its feeds are about to be replaced, so they must neither
 * take names nor count as "already configured" (which would write an
 * empty file). Every error is printed. Returns 0 or -errno.
 */
static int
load_existing(const char *cfg, const char *output, struct conf **out, bool report)
{
	struct conf_override ov = { .path = output, .buf = "", .len = 0 };
	struct conf_errors errs = { 0 };
	int rc;

	rc = conf_load_all_with(out, cfg, output ? &ov : NULL, &errs);
	if (rc < 0) {
		if (report) {
			conf_errors_print(&errs, stderr);
		} else {
			fprintf(stderr, "feedctl import-opml: ignoring %s: %s\n", cfg,
				errs.count ? errs.msgs[0] : strerror(-rc));
		}
		conf_free(*out);
		*out = NULL;
	}
	conf_errors_free(&errs);
	return rc;
}

/*
 * Before --output is written into the configuration: the whole file set,
 * with the new file in it, must load as feedd will read it. Returns 0,
 * -EINVAL (errors printed), or 1 when no include matches the file: it
 * would silently never be read, which the caller says once it is written
 * (the user may mean to include it next).
 */
static int
check_with_output(const char *cfg, const char *output, const char *text,
	size_t n_new)
{
	struct conf_override ov = { .path = output, .buf = text, .len = strlen(text) };
	struct conf_errors errs = { 0 };
	struct conf *c = NULL;
	bool read_it = false;
	int rc;

	rc = conf_load_all_with(&c, cfg, &ov, &errs);
	if (rc < 0) {
		conf_errors_print(&errs, stderr);
		fprintf(stderr, "feedctl import-opml: %s not written: %s would not load "
			"with it\n", output, cfg);
		rc = -EINVAL;
	} else {
		for (size_t i = 0; i < c->nfeeds && !read_it; i++)
			read_it = c->feeds[i].file && same_path(c->feeds[i].file, output);
		rc = n_new > 0 && !read_it ? 1 : 0;
	}
	conf_free(c);
	conf_errors_free(&errs);
	return rc;
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
	const char *input = NULL, *output = NULL, *val, *what, *cfg = NULL;
	char *text = NULL, *raw = NULL, *all = NULL, err[1024];
	size_t textlen = 0, rawlen = 0;
	FILE *mem = NULL;
	struct conf *check = NULL;
	struct feedctl_args args;
	bool force = false;
	int status = FEEDCTL_ERR, rc, key, unread = 0;
	const int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;

	feedctl_args_init(&args, argc, argv);
	while ((key = feedctl_opt_next(&args, &val)) != -1) {
		switch (key) {
		case 'o':
			output = val;
			break;
		case 'f':
			force = true;
			break;
		case 0:
			if (input) {
				fprintf(stderr, "feedctl import-opml: one FILE at a time "
					"(unexpected '%s')\n", val);
				return FEEDCTL_USAGE;
			}
			input = val;
			break;
		default:
			return FEEDCTL_USAGE;
		}
	}
	if (!input) {
		fprintf(stderr, "feedctl import-opml: no input (an OPML FILE, or - for "
			"standard input)\n");
		return FEEDCTL_USAGE;
	}
	if (force && !output) {
		fprintf(stderr, "feedctl import-opml: --force is for --output\n");
		return FEEDCTL_USAGE;
	}
	if (output && !*output) {
		fprintf(stderr, "feedctl import-opml: bad --output '': a file name\n");
		return FEEDCTL_USAGE;
	}
	/* Said before the work, not after it (checked again when writing). */
	if (output && !force && access(output, F_OK) == 0) {
		fprintf(stderr, "feedctl import-opml: %s exists (--force replaces it)\n",
			output);
		return FEEDCTL_ERR;
	}
	im.file = input;

	/* Names must not collide with the config the lines are meant for. */
	if (g->config)
		cfg = g->config;
	else if (access(FEEDD_DEFAULT_CONFIG, R_OK) == 0)
		cfg = FEEDD_DEFAULT_CONFIG;
	if (cfg && output && same_path(cfg, output)) {
		fprintf(stderr, "feedctl import-opml: %s is the main configuration file: "
			"write to a file it includes (such as feeds.d/imported.conf)\n", output);
		goto out;
	}
	if (cfg && load_existing(cfg, output, &existing, g->config != NULL) < 0) {
		if (g->config)
			goto out;
		cfg = NULL; /* the default config is only a courtesy */
	}
	im.existing = existing;

	ctx = xmlNewParserCtxt();
	if (!ctx) {
		fprintf(stderr, "feedctl import-opml: out of memory\n");
		goto out;
	}
	/* Read the bytes ourselves: a clear message for a missing file, and
	 * libxml2 then has no I/O of its own to complain about on stderr. */
	rc = read_all(strcmp(input, "-") == 0 ? NULL : input, &raw, &rawlen);
	if (rc < 0) {
		fprintf(stderr, "feedctl import-opml: %s: %s\n", input, strerror(-rc));
		goto out;
	}
	doc = xmlCtxtReadMemory(ctx, raw, (int)rawlen,
		strcmp(input, "-") == 0 ? "stdin" : input, NULL, opts);
	if (!doc) {
		const xmlError *e = xmlCtxtGetLastError(ctx);
		char msg[512] = "cannot read the file";
		if (e && e->message) {
			snprintf(msg, sizeof(msg), "%s", e->message);
			msg[strcspn(msg, "\n")] = '\0';
		}
		if (e && e->line > 0)
			fprintf(stderr, "feedctl import-opml: %s:%d: %s\n", input, e->line, msg);
		else
			fprintf(stderr, "feedctl import-opml: %s: %s\n", input, msg);
		goto out;
	}
	root = xmlDocGetRootElement(doc);
	if (!root || xmlStrcasecmp(root->name, (const xmlChar *)"opml") != 0) {
		fprintf(stderr, "feedctl import-opml: %s: not OPML (the root element is <%s>, not <opml>)\n",
			input, root ? (const char *)root->name : "");
		goto out;
	}
	for (xmlNode *n = root->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE &&
		    xmlStrcasecmp(n->name, (const xmlChar *)"body") == 0)
			body = n;
	if (!body) {
		fprintf(stderr, "feedctl import-opml: %s: not OPML (no <body>)\n", input);
		goto out;
	}
	rc = walk(&im, body, path, 0);
	if (rc < 0) {
		fprintf(stderr, "feedctl import-opml: %s\n", strerror(-rc));
		goto out;
	}

	/* Check what we write with the parser that will read it. */
	mem = open_memstream(&text, &textlen);
	if (!mem || print_import(&im, mem) < 0 || fclose(mem) != 0) {
		mem = NULL;
		fprintf(stderr, "feedctl import-opml: out of memory\n");
		goto out;
	}
	mem = NULL;
	if (conf_parse(&check, "(import-opml output)", text, textlen, err, sizeof(err)) < 0) {
		fprintf(stderr, "feedctl import-opml: internal error: %s\n", err);
		goto out;
	}
	if (asprintf(&all, "# %zu feed%s imported from %s by feedctl import-opml\n%s",
		im.n, im.n == 1 ? "" : "s", strcmp(input, "-") == 0 ? "stdin" : input,
		text) < 0) {
		all = NULL;
		fprintf(stderr, "feedctl import-opml: out of memory\n");
		goto out;
	}
	if (output && existing && (unread = check_with_output(cfg, output, all, im.n)) < 0)
		goto out;
	if (output) {
		rc = write_atomic(output, all, strlen(all), force, &what);
		if (rc < 0) {
			if (rc == -EEXIST)
				fprintf(stderr, "feedctl import-opml: %s: %s\n", output, what);
			else
				fprintf(stderr, "feedctl import-opml: %s: %s: %s\n", output,
					what, strerror(-rc));
			goto out;
		}
	} else if (fputs(all, stdout) == EOF || fflush(stdout) != 0) {
		fprintf(stderr, "feedctl import-opml: writing: %s\n", strerror(errno));
		goto out;
	}
	if (unread > 0)
		fprintf(stderr, "feedctl import-opml: note: %s does not read %s "
			"(no include matches it)\n", cfg, output);
	print_summary(&im, output ? output : "standard output");
	status = FEEDCTL_OK;
out:
	if (mem)
		fclose(mem);
	free(raw);
	free(text);
	free(all);
	conf_free(check);
	for (size_t i = 0; i < im.n; i++) {
		free(im.feeds[i].name);
		free(im.feeds[i].url);
		free(im.feeds[i].tags);
		free(im.feeds[i].title);
		free(im.feeds[i].site);
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
	char url[4096], site[4096];
	const char *label = f->title ? f->title : f->name;
	int rc = 0;

	/* Credentials stay in feedd.conf: an OPML file gets shared. */
	log_url(f->url, url, sizeof(url));
	rc |= xmlTextWriterStartElement(w, BAD_CAST "outline") < 0;
	rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST "rss") < 0;
	rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "text", BAD_CAST label) < 0;
	rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "title", BAD_CAST label) < 0;
	rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "xmlUrl", BAD_CAST url) < 0;
	if (f->site) {
		log_url(f->site, site, sizeof(site));
		rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "htmlUrl", BAD_CAST site) < 0;
	}
	if (f->tags)
		rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "category", BAD_CAST f->tags) < 0;
	rc |= xmlTextWriterEndElement(w) < 0;
	return rc ? -EIO : 0;
}

/* Only name, url, tags, title and site of the feeds are read. */
static int
write_opml(const struct conf_feed *feeds, size_t nfeeds, xmlTextWriterPtr w)
{
	char date[64], tag[256], other[256];
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	time_t now = sde && *sde ? (time_t)strtoll(sde, NULL, 10) : time(NULL);
	struct tm tm;
	bool *done = NULL;
	int rc = 0;

	done = calloc(nfeeds + 1, sizeof(*done));
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
	for (size_t i = 0; i < nfeeds && !rc; i++) {
		if (done[i] || !feeds[i].tags)
			continue;
		first_tag(feeds[i].tags, tag, sizeof(tag));
		rc |= xmlTextWriterStartElement(w, BAD_CAST "outline") < 0;
		rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "text", BAD_CAST tag) < 0;
		rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "title", BAD_CAST tag) < 0;
		for (size_t j = i; j < nfeeds && !rc; j++) {
			if (done[j] || !feeds[j].tags)
				continue;
			first_tag(feeds[j].tags, other, sizeof(other));
			if (strcmp(tag, other) != 0)
				continue;
			rc |= write_outline(w, &feeds[j]) < 0;
			done[j] = true;
		}
		rc |= xmlTextWriterEndElement(w) < 0;
	}
	for (size_t i = 0; i < nfeeds && !rc; i++)
		if (!feeds[i].tags)
			rc |= write_outline(w, &feeds[i]) < 0;
	rc |= xmlTextWriterEndDocument(w) < 0;
	free(done);
	return rc ? -EIO : 0;
}

/* The feeds the store holds, as conf_feed entries (strings owned). */
struct db_feeds {
	struct conf_feed *feeds;
	size_t n, cap;
	int err;
};

static int
db_feed(void *ud, const struct store_feed_state *f)
{
	struct db_feeds *d = ud;
	struct conf_feed *cf;
	const char *url = f->url_in_use && *f->url_in_use ? f->url_in_use : f->url;
	const char *why, *title, *site;
	bool oom;

	/* No longer configured: left out, as in the config it came from
	 * (a disabled feed is still configured). */
	if (!f->active && f->enabled)
		return 0;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct conf_feed *nf = realloc(d->feeds, cap * sizeof(*nf));
		if (!nf) {
			d->err = -ENOMEM;
			return 1;
		}
		d->feeds = nf;
		d->cap = cap;
	}
	cf = &d->feeds[d->n++];
	*cf = (struct conf_feed){ .name = strdup(f->name), .url = strdup(url ? url : "") };
	oom = !cf->name || !cf->url;
	/* The configured title=/site= first, else what the feed's own
	 * document gave. */
	title = f->conf_title && *f->conf_title ? f->conf_title : f->title;
	site = f->conf_site && *f->conf_site ? f->conf_site : f->site_link;
	if (title && *title && !(cf->title = strdup(title)))
		oom = true;
	if (site && conf_url_check(site, &why) == 0 && !(cf->site = strdup(site)))
		oom = true;
	if (f->tags && *f->tags && !(cf->tags = strdup(f->tags)))
		oom = true;
	if (oom) {
		d->err = -ENOMEM;
		return 1;
	}
	return 0;
}

static void
db_feeds_free(struct db_feeds *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->feeds[i].name);
		free(d->feeds[i].url);
		free(d->feeds[i].title);
		free(d->feeds[i].site);
		free(d->feeds[i].tags);
	}
	free(d->feeds);
}

int
feedctl_export_opml(const struct feedctl_global *g, int argc, char **argv)
{
	const char *cfg = g->config ? g->config : FEEDD_DEFAULT_CONFIG;
	struct conf *c = NULL;
	struct db_feeds d = { 0 };
	struct store *st = NULL;
	struct store_opts so = { .readonly = true };
	xmlBufferPtr buf = NULL;
	xmlTextWriterPtr w = NULL;
	struct feedctl_args args;
	const char *val, *dbpath;
	char err[1024];
	bool from_db = false;
	int status = FEEDCTL_ERR, key, rc;

	feedctl_args_init(&args, argc, argv);
	while ((key = feedctl_opt_next(&args, &val)) != -1) {
		switch (key) {
		case 'd':
			from_db = true;
			break;
		case 0:
			fprintf(stderr, "feedctl export-opml: unexpected argument '%s' "
				"(see 'feedctl export-opml --help')\n", val);
			return FEEDCTL_USAGE;
		default:
			return FEEDCTL_USAGE;
		}
	}
	if (from_db) {
		if (!(dbpath = feedctl_db_path(g)))
			goto out;
		if (store_open(&st, dbpath, &so, err, sizeof(err)) < 0) {
			fprintf(stderr, "feedctl export-opml: cannot open the database: %s\n", err);
			goto out;
		}
		rc = store_feeds_list(st, false, db_feed, &d);
		if (rc < 0 || d.err) {
			fprintf(stderr, "feedctl export-opml: %s\n",
				d.err ? strerror(-d.err) : store_errmsg(st));
			goto out;
		}
	} else if (conf_load(&c, cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "feedctl export-opml: %s\n", err);
		goto out;
	}
	buf = xmlBufferCreate();
	w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
	if (!w) {
		fprintf(stderr, "feedctl export-opml: out of memory\n");
		goto out;
	}
	if (write_opml(c ? c->feeds : d.feeds, c ? c->nfeeds : d.n, w) < 0) {
		fprintf(stderr, "feedctl export-opml: cannot write the document\n");
		goto out;
	}
	xmlFreeTextWriter(w); /* flushes into buf */
	w = NULL;
	if (fwrite(xmlBufferContent(buf), 1, (size_t)xmlBufferLength(buf), stdout) !=
		(size_t)xmlBufferLength(buf) || fflush(stdout) != 0) {
		fprintf(stderr, "feedctl export-opml: writing: %s\n", strerror(errno));
		goto out;
	}
	status = FEEDCTL_OK;
out:
	if (w)
		xmlFreeTextWriter(w);
	xmlBufferFree(buf);
	conf_free(c);
	db_feeds_free(&d);
	store_close(st);
	return status;
}

/* For discover and add: the name import-opml would give a feed with this
 * title (NULL: none) and URL, so every command names feeds alike. */
void
feedctl_feed_name(const char *title, const char *url, char *out, size_t outlen)
{
	char host[256];

	out[0] = '\0';
	if (title)
		slugify(title, out, outlen);
	if (!out[0]) {
		url_host(url, host, sizeof(host));
		slugify(host, out, outlen);
	}
	if (!out[0])
		snprintf(out, outlen, "feed");
}
