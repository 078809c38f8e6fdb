/*
 * feedctl discover [--allow-private] URL
 *
 * Finds the feeds a web page offers and prints them as feed lines ready
 * for feedd.conf. Fetches go through fetch/ with the daemon's budgets
 * (the configuration's timeouts, size cap, user agent and proxy when it
 * is readable, else the built-in defaults), and, unlike a configured
 * feed, the typed URL's own host must be public too: a URL pasted at a
 * prompt must not make feedctl probe the local network unless
 * --allow-private says so.
 *
 * Order of the search:
 *  1. the URL itself, if it parses as a feed (with parse/, as the daemon
 *     would read it), is the answer;
 *  2. else the page's <link rel="alternate"> elements of the feed types,
 *     found with libxml2's HTML parser and resolved against <base href>
 *     or the page's URL, each fetched and parsed;
 *  3. when none of those is a feed, the usual paths (/feed, /rss.xml,
 *     ...), under the page's directory and the site's root, each
 *     checked by a real parse: a 200 HTML page at /feed is not a feed.
 * The same document reached by several URLs (/feed and /feed/) is
 * printed once.
 */
#include "feedctl.h"
#include "conf.h"
#include "fetch.h"
#include "parse.h"

#include <curl/curl.h>
#include <errno.h>
#include <libxml/HTMLparser.h>
#include <libxml/uri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

/* A hostile page must not turn one command into thousands of requests. */
#define DISCOVER_MAX_LINKS 32

/* Paths where sites commonly serve their feed, in the order tried. */
static const char *const usual_paths[] = {
	"feed", "rss.xml", "atom.xml", "index.xml", "feed.json", "feed/", "rss",
};
#define NUSUAL (sizeof(usual_paths) / sizeof(usual_paths[0]))

/* The link types that announce a feed (lower case, without parameters).
 * JSON Feed 1.0 advised application/json, 1.1 application/feed+json. */
static const char *const feed_types[] = {
	"application/rss+xml", "application/atom+xml", "application/rdf+xml",
	"application/feed+json", "application/json",
};

struct policy {
	long connect_timeout_ms, timeout_ms;
	size_t max_body;
	const char *user_agent; /* borrowed from the conf; NULL = default */
	const char *proxy;      /* same; NULL = the environment's */
	bool allow_private;
};

/* One download and, once checked, what parse/ made of it. */
struct dl {
	char *url;              /* owned: requested */
	const char *found;      /* how it was found (static text) */
	char *adv_type;         /* owned: the advertised type, or NULL */
	/* the transfer */
	bool done, ok;
	char *cause;            /* owned: why it failed, or NULL */
	char *use_url;          /* owned: the URL a feed line should name */
	char *charset;          /* owned, or NULL */
	char hash[17];
	char *body;             /* owned */
	size_t len, cap;
	bool overflow;
	/* the parse */
	bool is_feed;
	enum parse_format format;
	bool malformed;
	size_t nentries;
	char *title, *site;     /* owned, or NULL */
	char *why_not;          /* owned: why it is not a feed */
	bool dup;               /* the same document as an earlier one */
};

struct ctx {
	uv_loop_t loop;
	struct fetch *fetch;
	struct policy pol;
	unsigned pending;
};

static int
on_data(void *ud, const void *buf, size_t len)
{
	struct dl *d = ud;

	if (d->len + len + 1 > d->cap) {
		size_t cap = d->cap ? d->cap : 16384;
		char *nb;

		while (cap < d->len + len + 1)
			cap *= 2;
		nb = realloc(d->body, cap);
		if (!nb) {
			d->overflow = true;
			return -1;
		}
		d->body = nb;
		d->cap = cap;
	}
	memcpy(d->body + d->len, buf, len);
	d->len += len;
	d->body[d->len] = '\0';
	return 0;
}

static void
on_done(void *ud, const struct fetch_result *r)
{
	struct dl *d = ud;
	int n;

	d->done = true;
	if (r->status == FETCH_OK) {
		const char *u = r->permanent_redirect && r->redirect_url ?
			r->redirect_url : r->url;
		d->ok = true;
		d->use_url = strdup(u);
		if (r->charset)
			d->charset = strdup(r->charset);
		snprintf(d->hash, sizeof(d->hash), "%s", r->body_hash ? r->body_hash : "");
		if (!d->use_url)
			d->ok = false;
	}
	if (!d->ok) {
		if (d->overflow)
			n = asprintf(&d->cause, "out of memory");
		else if (r->status == FETCH_HTTP_ERROR)
			n = asprintf(&d->cause, "HTTP status %ld", r->http_status);
		else if (r->rc == -EPERM && strcmp(r->stage, "policy") == 0)
			n = asprintf(&d->cause, "%s: %s (--allow-private allows private addresses)",
				r->stage, r->error ? r->error : strerror(-r->rc));
		else
			n = asprintf(&d->cause, "%s: %s", r->stage ? r->stage : "fetch",
				r->error ? r->error : strerror(-r->rc));
		if (n < 0)
			d->cause = NULL;
	}
}

/* Fetch every download of ds[0..n) (at most the per-host cap at once)
 * and wait for all of them. */
static void
fetch_all(struct ctx *cx, struct dl *ds, size_t n)
{
	size_t started = 0;

	for (size_t i = 0; i < n; i++) {
		struct fetch_req_opts o = {
			.url = ds[i].url,
			.proxy = cx->pol.proxy,
			.user_agent = cx->pol.user_agent,
			.connect_timeout_ms = cx->pol.connect_timeout_ms,
			.timeout_ms = cx->pol.timeout_ms,
			.max_body = cx->pol.max_body,
			.allow_private = cx->pol.allow_private,
			.public_only = !cx->pol.allow_private,
			.on_data = on_data,
			.on_done = on_done,
			.ud = &ds[i],
		};
		int rc = fetch_start(cx->fetch, &o, NULL);

		if (rc < 0) {
			ds[i].done = true;
			if (asprintf(&ds[i].cause, "cannot start: %s", strerror(-rc)) < 0)
				ds[i].cause = NULL;
			continue;
		}
		started++;
	}
	for (;;) {
		bool all = true;

		for (size_t i = 0; i < n; i++)
			all = all && ds[i].done;
		if (all || started == 0)
			break;
		uv_run(&cx->loop, UV_RUN_ONCE);
	}
}

/* Whitespace and control characters collapsed to single spaces, trimmed;
 * NULL when nothing is left (or out of memory). */
static char *
clean_text(const char *s)
{
	char *out;
	size_t w = 0;

	if (!s || !(out = malloc(strlen(s) + 1)))
		return NULL;
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
	if (!w) {
		free(out);
		return NULL;
	}
	return out;
}

/* Parse d's body with parse/ as the daemon would; fills the parse part. */
static void
check_feed(struct dl *d)
{
	struct parse_opts po = { .base_url = d->use_url, .charset = d->charset };
	struct parse *p = NULL;
	const struct parse_feed *f;
	const char *why;
	int rc;

	if (!d->ok)
		return;
	if (parse_create(&p, &po) < 0) {
		d->why_not = strdup("out of memory");
		return;
	}
	rc = parse_push(p, d->body ? d->body : "", d->len);
	if (rc == 0)
		rc = parse_finish(p);
	f = parse_feed_get(p);
	if (rc == 0) {
		d->is_feed = true;
		d->format = f->format;
		d->malformed = f->malformed;
		d->nentries = f->nentries;
		d->title = clean_text(f->title);
		if (f->link && conf_url_check(f->link, &why) == 0)
			d->site = strdup(f->link);
	} else {
		d->why_not = strdup(rc == -ENOMEM ? "out of memory" : parse_errmsg(p));
	}
	parse_destroy(p);
}

static void
dl_free(struct dl *d)
{
	free(d->url);
	free(d->adv_type);
	free(d->cause);
	free(d->use_url);
	free(d->charset);
	free(d->body);
	free(d->title);
	free(d->site);
	free(d->why_not);
}

/* --- the page's links ------------------------------------------------------ */

static bool
rel_has(const char *rel, const char *word)
{
	size_t wl = strlen(word);

	for (const char *p = rel; *p;) {
		size_t n;

		p += strspn(p, " \t\r\n\f");
		n = strcspn(p, " \t\r\n\f");
		if (n == wl && strncasecmp(p, word, n) == 0)
			return true;
		p += n;
	}
	return false;
}

/* The feed type of a link's type attribute, lower case and without
 * parameters, or NULL when it is not one. */
static const char *
feed_type(const char *type)
{
	char t[64];
	size_t n, k = 0;

	type += strspn(type, " \t");
	n = strcspn(type, "; \t");
	if (n >= sizeof(t))
		return NULL;
	for (size_t i = 0; i < n; i++)
		t[k++] = (char)(type[i] >= 'A' && type[i] <= 'Z' ? type[i] - 'A' + 'a' : type[i]);
	t[k] = '\0';
	for (size_t i = 0; i < sizeof(feed_types) / sizeof(feed_types[0]); i++)
		if (strcmp(t, feed_types[i]) == 0)
			return feed_types[i];
	return NULL;
}

static char *
attr(xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	char *s = v ? strdup((const char *)v) : NULL;

	xmlFree(v);
	return s;
}

/* s with bytes a URI may not hold (non-ASCII, spaces, controls) written
 * as %XX, as browsers do with an href; NULL when out of memory. */
static char *
uri_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(strlen(s) * 3 + 1), *w = out;

	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p <= ' ' || *p >= 0x7f) {
			*w++ = '%';
			*w++ = hex[*p >> 4];
			*w++ = hex[*p & 15];
		} else {
			*w++ = (char)*p;
		}
	}
	*w = '\0';
	return out;
}

/* href resolved against base, when it gives an http(s) URL; else NULL. */
static char *
resolve(const char *href, const char *base)
{
	char *t = clean_text(href), *h, *out = NULL;
	xmlChar *u;
	const char *why;

	h = t ? uri_escape(t) : NULL;
	free(t);
	if (!h)
		return NULL;
	u = xmlBuildURI((const xmlChar *)h, (const xmlChar *)base);
	if (u && conf_url_check((const char *)u, &why) == 0)
		out = strdup((const char *)u);
	xmlFree(u);
	free(h);
	return out;
}

static void
first_base(xmlNode *n, char **base)
{
	for (; n && !*base; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (strcasecmp((const char *)n->name, "base") == 0) {
			char *h = attr(n, "href");

			if (h && *h)
				*base = h;
			else
				free(h);
			continue;
		}
		first_base(n->children, base);
	}
}

struct links {
	struct dl *d;
	size_t n, cap;
};

static int
links_add(struct links *l, char *url, const char *type)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->d[i].url, url) == 0) {
			free(url);
			return 0;
		}
	}
	if (l->n == DISCOVER_MAX_LINKS) {
		free(url);
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct dl *nd = realloc(l->d, cap * sizeof(*nd));

		if (!nd) {
			free(url);
			return -ENOMEM;
		}
		l->d = nd;
		l->cap = cap;
	}
	l->d[l->n] = (struct dl){ .url = url };
	if (type && !(l->d[l->n].adv_type = strdup(type))) {
		free(url);
		return -ENOMEM;
	}
	l->n++;
	return 0;
}

static int
find_links(xmlNode *n, const char *base, struct links *l)
{
	int rc;

	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (strcasecmp((const char *)n->name, "link") == 0) {
			char *rel = attr(n, "rel"), *type = attr(n, "type");
			char *href = attr(n, "href"), *url = NULL;
			const char *ft = type ? feed_type(type) : NULL;

			if (rel && ft && href && rel_has(rel, "alternate") &&
			    !rel_has(rel, "stylesheet"))
				url = resolve(href, base);
			free(rel);
			free(type);
			free(href);
			if (url && (rc = links_add(l, url, ft)) < 0)
				return rc;
			continue;
		}
		if ((rc = find_links(n->children, base, l)) < 0)
			return rc;
	}
	return 0;
}

/* The feed links the HTML page in d advertises, in document order. */
static int
page_links(const struct dl *d, struct links *l)
{
	const int opts = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
		HTML_PARSE_NOWARNING | HTML_PARSE_NONET;
	htmlDocPtr doc = NULL;
	char *base_attr = NULL, *base = NULL;
	int rc = 0;

	if (!d->body || d->len == 0 || d->len > (size_t)0x7fffffff)
		return 0;
	if (d->charset)
		doc = htmlReadMemory(d->body, (int)d->len, d->use_url, d->charset, opts);
	if (!doc) /* no charset, or one libxml2 does not know: let it sniff */
		doc = htmlReadMemory(d->body, (int)d->len, d->use_url, NULL, opts);
	if (!doc)
		return 0;
	first_base(xmlDocGetRootElement(doc), &base_attr);
	if (base_attr)
		base = resolve(base_attr, d->use_url);
	rc = find_links(xmlDocGetRootElement(doc), base ? base : d->use_url, l);
	free(base_attr);
	free(base);
	xmlFreeDoc(doc);
	return rc;
}

/* The usual paths under the page's directory, then under the root, but
 * none the page advertised (tried already). */
static int
usual_candidates(const char *page, const struct links *adv, struct links *l)
{
	int rc;

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < NUSUAL; i++) {
			char rel[32];
			xmlChar *u;
			const char *why;

			snprintf(rel, sizeof(rel), "%s%s", pass ? "/" : "", usual_paths[i]);
			u = xmlBuildURI((const xmlChar *)rel, (const xmlChar *)page);
			if (!u)
				continue;
			bool tried = false;

			for (size_t j = 0; j < adv->n; j++)
				tried = tried || strcmp(adv->d[j].url, (const char *)u) == 0;
			if (!tried && conf_url_check((const char *)u, &why) == 0) {
				char *s = strdup((const char *)u);

				if (!s || (rc = links_add(l, s, NULL)) < 0) {
					xmlFree(u);
					return -ENOMEM;
				}
			}
			xmlFree(u);
		}
	}
	return 0;
}

/* --- output ---------------------------------------------------------------- */

static const char *
format_label(enum parse_format f)
{
	switch (f) {
	case PARSE_FORMAT_RSS090: return "RSS 0.90";
	case PARSE_FORMAT_RSS091N:
	case PARSE_FORMAT_RSS091U: return "RSS 0.91";
	case PARSE_FORMAT_RSS092: return "RSS 0.92";
	case PARSE_FORMAT_RSS093: return "RSS 0.93";
	case PARSE_FORMAT_RSS094: return "RSS 0.94";
	case PARSE_FORMAT_RSS10: return "RSS 1.0";
	case PARSE_FORMAT_RSS20: return "RSS 2.0";
	case PARSE_FORMAT_ATOM03: return "Atom 0.3";
	case PARSE_FORMAT_ATOM10: return "Atom 1.0";
	case PARSE_FORMAT_JSONFEED: return "JSON Feed";
	default: return "feed";
	}
}

static void
print_quoted(const char *s, FILE *f)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

struct names {
	char (*v)[72];
	size_t n;
};

/* A name for d: from its title, else the host; not one the configuration
 * or an earlier line already uses. */
static void
pick_name(const struct dl *d, const struct conf *c, struct names *used, char *out,
	size_t outlen)
{
	char base[64];

	feedctl_feed_name(d->title, d->use_url, base, sizeof(base));
	snprintf(out, outlen, "%s", base);
	for (unsigned k = 2;; k++) {
		bool taken = c && conf_feed_find(c, out);

		for (size_t i = 0; !taken && i < used->n; i++)
			taken = strcmp(used->v[i], out) == 0;
		if (!taken)
			break;
		snprintf(out, outlen, "%s-%u", base, k);
	}
	snprintf(used->v[used->n++], sizeof(used->v[0]), "%s", out);
}

static const struct conf_feed *
configured_url(const struct conf *c, const char *url)
{
	for (size_t i = 0; c && i < c->nfeeds; i++)
		if (strcmp(c->feeds[i].url, url) == 0)
			return &c->feeds[i];
	return NULL;
}

static void
print_feed(const struct dl *d, const struct conf *c, struct names *used)
{
	const struct conf_feed *cf = configured_url(c, d->use_url);
	char name[72];

	printf("# %s (%s), %s%s%s, %zu entr%s%s", format_label(d->format),
		parse_format_name(d->format), d->found,
		d->adv_type ? " as " : "", d->adv_type ? d->adv_type : "",
		d->nentries, d->nentries == 1 ? "y" : "ies",
		d->malformed ? ", malformed (read with recovery)" : "");
	if (cf)
		printf("; already configured as feed %s (%s:%d)", cf->name, cf->file, cf->line);
	putchar('\n');
	pick_name(d, c, used, name, sizeof(name));
	fputs("feed ", stdout);
	conf_print_token(name, stdout);
	putchar(' ');
	conf_print_token(d->use_url, stdout);
	if (d->title) {
		fputs(" title=", stdout);
		print_quoted(d->title, stdout);
	}
	if (d->site) {
		fputs(" site=", stdout);
		conf_print_token(d->site, stdout);
	}
	putchar('\n');
}

/* Check every download of ds, marking repeats of an earlier document (in
 * prior[0..np) or ds) as duplicates. Returns how many new feeds. */
static size_t
check_all(struct dl *ds, size_t n, const struct dl *prior, size_t np)
{
	size_t found = 0;

	for (size_t i = 0; i < n; i++) {
		check_feed(&ds[i]);
		if (!ds[i].is_feed)
			continue;
		for (size_t j = 0; j < np && !ds[i].dup; j++)
			ds[i].dup = prior[j].is_feed && (strcmp(prior[j].hash, ds[i].hash) == 0 ||
				strcmp(prior[j].use_url, ds[i].use_url) == 0);
		for (size_t j = 0; j < i && !ds[i].dup; j++)
			ds[i].dup = ds[j].is_feed && !ds[j].dup &&
				(strcmp(ds[j].hash, ds[i].hash) == 0 ||
				 strcmp(ds[j].use_url, ds[i].use_url) == 0);
		if (!ds[i].dup)
			found++;
	}
	return found;
}

/* --- the command ----------------------------------------------------------- */

enum { O_ALLOW_PRIVATE = 'p' };

int
feedctl_discover(const struct feedctl_global *g, int argc, char **argv)
{
	struct feedctl_args a;
	const char *val, *url_arg = NULL, *why;
	char *url = NULL, err[1024];
	struct conf *c = NULL;
	struct ctx cx = { 0 };
	struct dl page = { 0 };
	struct links adv = { 0 }, usual = { 0 };
	struct names used = { 0 };
	size_t nadv = 0, nusual = 0;
	int k, status = FEEDCTL_ERR, rc;
	bool loop_ok = false, curl_ok = false;

	feedctl_args_init(&a, argc, argv);
	while ((k = feedctl_opt_next(&a, &val)) != -1) {
		if (k == -2)
			return FEEDCTL_USAGE;
		if (k == O_ALLOW_PRIVATE) {
			cx.pol.allow_private = true;
		} else if (k == 0 && !url_arg) {
			url_arg = val;
		} else {
			fprintf(stderr, "feedctl discover: unexpected argument '%s'\n", val);
			return FEEDCTL_USAGE;
		}
	}
	if (!url_arg) {
		fprintf(stderr, "feedctl discover: which URL? (feedctl discover https://example.org/)\n");
		return FEEDCTL_USAGE;
	}
	/* "example.org" as a person types it means its https:// site. */
	if (!strstr(url_arg, "://") ? asprintf(&url, "https://%s", url_arg) < 0 :
	    !(url = strdup(url_arg))) {
		fprintf(stderr, "feedctl discover: out of memory\n");
		return FEEDCTL_ERR;
	}
	if (conf_url_check(url, &why) < 0) {
		fprintf(stderr, "feedctl discover: bad URL '%s': %s\n", url_arg, why);
		free(url);
		return FEEDCTL_USAGE;
	}

	/* The daemon's budgets, from the configuration when there is one. */
	cx.pol.connect_timeout_ms = 15000;
	cx.pol.timeout_ms = 60000;
	cx.pol.max_body = FEEDD_MAX_BODY;
	if (conf_load(&c, g->config ? g->config : FEEDD_DEFAULT_CONFIG, err, sizeof(err)) < 0) {
		if (g->config) {
			fprintf(stderr, "feedctl discover: %s\n", err);
			free(url);
			return FEEDCTL_ERR;
		}
		c = NULL; /* no readable default config: the built-in defaults */
	} else {
		cx.pol.connect_timeout_ms = (long)(c->connect_timeout_s * 1000);
		cx.pol.timeout_ms = (long)(c->timeout_s * 1000);
		cx.pol.max_body = c->max_size > 0 ? (size_t)c->max_size : FEEDD_MAX_BODY;
		cx.pol.user_agent = c->user_agent;
		cx.pol.proxy = c->proxy;
	}

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "feedctl discover: cannot initialise libcurl\n");
		goto out;
	}
	curl_ok = true;
	if ((rc = uv_loop_init(&cx.loop)) < 0) {
		fprintf(stderr, "feedctl discover: %s\n", uv_strerror(rc));
		goto out;
	}
	loop_ok = true;
	{
		struct fetch_opts fo = {
			.user_agent = cx.pol.user_agent,
			.max_per_host = c ? c->max_per_host : 0,
		};
		if ((rc = fetch_create(&cx.fetch, &cx.loop, &fo)) < 0) {
			fprintf(stderr, "feedctl discover: cannot set up transfers: %s\n",
				strerror(-rc));
			goto out;
		}
	}

	page.url = url;
	url = NULL;
	page.found = "the URL itself";
	fetch_all(&cx, &page, 1);
	if (!page.ok) {
		fprintf(stderr, "feedctl discover: %s: %s\n", page.url,
			page.cause ? page.cause : "failed");
		goto out;
	}
	check_feed(&page);
	if (page.is_feed) {
		used.v = calloc(1, sizeof(*used.v));
		if (!used.v)
			goto oom;
		print_feed(&page, c, &used);
		status = FEEDCTL_OK;
		goto out;
	}

	if (page_links(&page, &adv) < 0)
		goto oom;
	for (size_t i = 0; i < adv.n; i++)
		adv.d[i].found = "advertised by the page";
	fetch_all(&cx, adv.d, adv.n);
	nadv = check_all(adv.d, adv.n, NULL, 0);
	if (nadv == 0) {
		if (usual_candidates(page.use_url, &adv, &usual) < 0)
			goto oom;
		for (size_t i = 0; i < usual.n; i++)
			usual.d[i].found = "at a usual path";
		fetch_all(&cx, usual.d, usual.n);
		nusual = check_all(usual.d, usual.n, adv.d, adv.n);
	}
	used.v = calloc(nadv + nusual + 1, sizeof(*used.v));
	if (!used.v)
		goto oom;
	/* What was advertised but is not a feed is worth a note. */
	for (size_t i = 0; i < adv.n; i++)
		if (!adv.d[i].is_feed)
			fprintf(stderr, "feedctl discover: note: %s (advertised as %s): %s\n",
				adv.d[i].url, adv.d[i].adv_type,
				adv.d[i].cause ? adv.d[i].cause :
				adv.d[i].why_not ? adv.d[i].why_not : "not a feed");
	for (size_t i = 0; i < adv.n; i++)
		if (adv.d[i].is_feed && !adv.d[i].dup)
			print_feed(&adv.d[i], c, &used);
	for (size_t i = 0; i < usual.n; i++)
		if (usual.d[i].is_feed && !usual.d[i].dup)
			print_feed(&usual.d[i], c, &used);
	if (nadv + nusual == 0) {
		fprintf(stderr, "feedctl discover: no feed found at %s: the page advertises %s, "
			"and none of the usual paths (", page.use_url,
			adv.n ? "no link that is a feed" : "no feed links");
		for (size_t i = 0; i < NUSUAL; i++)
			fprintf(stderr, "%s/%s", i ? ", " : "", usual_paths[i]);
		fprintf(stderr, ") is a feed\n");
		goto out;
	}
	status = fflush(stdout) == 0 ? FEEDCTL_OK : FEEDCTL_ERR;
	goto out;
oom:
	fprintf(stderr, "feedctl discover: out of memory\n");
out:
	if (cx.fetch) {
		fetch_destroy(cx.fetch);
		uv_run(&cx.loop, UV_RUN_DEFAULT);
	}
	if (loop_ok)
		uv_loop_close(&cx.loop);
	if (curl_ok)
		curl_global_cleanup();
	dl_free(&page);
	for (size_t i = 0; i < adv.n; i++)
		dl_free(&adv.d[i]);
	for (size_t i = 0; i < usual.n; i++)
		dl_free(&usual.d[i]);
	free(adv.d);
	free(usual.d);
	free(used.v);
	free(url);
	conf_free(c);
	return status;
}
