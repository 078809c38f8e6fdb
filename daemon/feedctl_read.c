/*
 * feedctl's reading commands: articles, show, follow, search, feeds.
 * They open the database read-only through store/ (never SQLite
 * directly), print to stdout and say what went wrong on stderr:
 * exit 0 on success, 1 on an error, 2 on bad usage.
 */
#include "feedctl.h"
#include "conf.h"
#include "store.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

enum fmt {
	FMT_JSONL,
	FMT_TSV,
	FMT_TEXT,
};

/* --- shared helpers ----------------------------------------------------- */

static int
open_reader(const struct feedctl_global *g, const char *cmd, struct store **st)
{
	struct store_opts o = { .readonly = true };
	const char *path = feedctl_db_path(g);
	char err[600];
	int rc;

	if (!path)
		return 1;
	rc = store_open(st, path, &o, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "feedctl %s: cannot open the database: %s\n", cmd,
			err);
		return 1;
	}
	return 0;
}

static int
parse_fmt(const char *s, enum fmt *f)
{
	if (strcmp(s, "jsonl") == 0 || strcmp(s, "json") == 0)
		*f = FMT_JSONL;
	else if (strcmp(s, "tsv") == 0)
		*f = FMT_TSV;
	else if (strcmp(s, "text") == 0)
		*f = FMT_TEXT;
	else
		return -EINVAL;
	return 0;
}

static int
parse_i64(const char *s, int64_t min, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min)
		return -EINVAL;
	*out = v;
	return 0;
}

/* --since: Unix seconds, YYYY-MM-DD, RFC 3339, or an age ("2h", "3d"). */
static int
parse_since(const char *s, int64_t *out)
{
	struct tm tm = { 0 };
	const char *end;
	int64_t d;

	if (s[0] == '@' && parse_i64(s + 1, 0, out) == 0)
		return 0;
	if (strlen(s) >= 10 && s[4] == '-') {
		end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
		if (!end) {
			memset(&tm, 0, sizeof(tm));
			end = strptime(s, "%Y-%m-%d", &tm);
		}
		if (end && (*end == '\0' || strcmp(end, "Z") == 0)) {
			*out = (int64_t)timegm(&tm);
			return 0;
		}
		return -EINVAL;
	}
	if (conf_duration(s, &d) == 0 && d > 0) {
		*out = (int64_t)time(NULL) - d;
		return 0;
	}
	return -EINVAL;
}

static void
fmt_time(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || !gmtime_r(&tt, &tm)) {
		snprintf(buf, len, "-");
		return;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Local time for people reading a table. */
static void
fmt_local(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || !localtime_r(&tt, &tm)) {
		snprintf(buf, len, "-");
		return;
	}
	strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
}

/* A JSON string; invalid UTF-8 bytes (which the store should never hold)
 * become U+FFFD rather than losing the field. NULL gives JSON null. */
static json_t *
jstr(const char *s)
{
	json_t *j;
	char *fixed;
	size_t o = 0, n;

	if (!s)
		return json_null();
	j = json_string(s);
	if (j)
		return j;
	n = strlen(s);
	fixed = malloc(n * 3 + 1);
	if (!fixed)
		return json_null();
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3
			: (c >> 3) == 30 ? 4 : 0;
		bool ok = len > 0 && i + len <= n;
		for (size_t k = 1; ok && k < len; k++)
			ok = ((unsigned char)s[i + k] >> 6) == 2;
		if (ok) {
			memcpy(fixed + o, s + i, len);
			o += len;
			i += len;
		} else {
			memcpy(fixed + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	j = json_stringn(fixed, o);
	free(fixed);
	return j ? j : json_null();
}

static json_t *
jtime(int64_t t)
{
	char buf[32];

	if (t <= 0)
		return json_null();
	fmt_time(t, buf, sizeof(buf));
	return json_string(buf);
}

/* A stored JSON array column, embedded as JSON (as a string if broken). */
static json_t *
jarray(const char *s)
{
	json_t *j;

	if (!s)
		return json_null();
	j = json_loads(s, JSON_DECODE_ANY, NULL);
	return j ? j : jstr(s);
}

static json_t *
article_json(const struct store_article_row *a, bool bodies)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "id", json_integer(a->id));
	json_object_set_new(o, "feed", jstr(a->feed));
	json_object_set_new(o, "feed_id", json_integer(a->feed_id));
	json_object_set_new(o, "story_id", json_integer(a->story_id));
	json_object_set_new(o, "title", jstr(a->title));
	json_object_set_new(o, "link", jstr(a->link));
	json_object_set_new(o, "canonical_link", jstr(a->canonical_link));
	json_object_set_new(o, "author", jstr(a->author));
	json_object_set_new(o, "published", jstr(a->published));
	json_object_set_new(o, "updated", jstr(a->updated));
	json_object_set_new(o, "date", jtime(a->sort_time));
	json_object_set_new(o, "guid", jstr(a->guid));
	json_object_set_new(o, "key", jstr(a->key));
	json_object_set_new(o, "categories", jarray(a->categories_json));
	json_object_set_new(o, "enclosures", jarray(a->enclosures_json));
	if (bodies) {
		json_object_set_new(o, "summary", jstr(a->summary));
		json_object_set_new(o, "content", jstr(a->content));
		json_object_set_new(o, "text", jstr(a->text));
	}
	json_object_set_new(o, "content_hash", jstr(a->content_hash));
	json_object_set_new(o, "first_seen", jtime(a->first_seen));
	json_object_set_new(o, "last_changed", jtime(a->last_changed));
	json_object_set_new(o, "revision", json_integer(a->revision));
	return o;
}

/* Print one JSON value as a line and free it; flushes when asked (follow
 * must hand each change over as it happens). Returns 0 or -EIO. */
static int
print_json_line(json_t *j, bool flush)
{
	char *s;
	int rc = 0;

	if (!j)
		return -ENOMEM;
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!s)
		return -ENOMEM;
	if (puts(s) == EOF || (flush && fflush(stdout) != 0))
		rc = -EIO;
	free(s);
	return rc;
}

static int
term_width(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
		return ws.ws_col;
	return 100;
}

/* Print at most width columns of s (UTF-8 aware: one column per code
 * point, good enough for a table), control characters as spaces. */
static void
put_cols(const char *s, int width, bool pad)
{
	int cols = 0;

	for (; s && *s && cols < width; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c & 0xc0) == 0x80) {
			putchar(c);
			continue;
		}
		if (cols == width - 1 && s[1] && width > 3) {
			fputs("\xe2\x80\xa6", stdout); /* ellipsis */
			cols++;
			break;
		}
		putchar(c < 0x20 || c == 0x7f ? ' ' : c);
		cols++;
	}
	for (; pad && cols < width; cols++)
		putchar(' ');
}

/* A TSV field: tabs and line breaks become spaces; an absent value is an
 * empty field, so `cut` always sees the same number of fields. */
static void
put_tsv(const char *s, bool last)
{
	for (; s && *s; s++)
		putchar(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s);
	putchar(last ? '\n' : '\t');
}

/* --- articles ----------------------------------------------------------- */

struct list_ctx {
	enum fmt fmt;
	int width;
	int64_t rows;
	int err;
};

static int
print_article_row(void *ud, const struct store_article_row *a)
{
	struct list_ctx *c = ud;
	char t[40];

	c->rows++;
	switch (c->fmt) {
	case FMT_JSONL:
		c->err = print_json_line(article_json(a, true), false);
		return c->err ? 1 : 0;
	case FMT_TSV:
		printf("%" PRId64 "\t", a->id);
		fmt_time(a->sort_time, t, sizeof(t));
		put_tsv(t, false);
		put_tsv(a->feed, false);
		put_tsv(a->title, false);
		put_tsv(a->link, true);
		break;
	case FMT_TEXT:
		fmt_local(a->sort_time, t, sizeof(t));
		printf("%7" PRId64 "  %-16s  ", a->id, t);
		put_cols(a->feed, 14, true);
		fputs("  ", stdout);
		put_cols(a->title ? a->title : "(no title)", c->width - 45, false);
		putchar('\n');
		break;
	}
	return ferror(stdout) ? 1 : 0;
}

static void
articles_usage(FILE *f)
{
	fprintf(f, "usage: feedctl articles [--feed NAME] [--since TIME] "
		"[--after ID] [--limit N]\n"
		"                        [--unique] [--reverse] "
		"[--format jsonl|tsv|text]\n"
		"TIME is YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, @UNIXTIME or an age "
		"like 2h, 3d.\n");
}

int
feedctl_articles(const struct feedctl_global *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "feed", required_argument, NULL, 'f' },
		{ "since", required_argument, NULL, 's' },
		{ "after", required_argument, NULL, 'a' },
		{ "limit", required_argument, NULL, 'n' },
		{ "unique", no_argument, NULL, 'u' },
		{ "reverse", no_argument, NULL, 'r' },
		{ "format", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct store_query q = { 0 };
	struct list_ctx c = { .fmt = isatty(STDOUT_FILENO) ? FMT_TEXT : FMT_JSONL };
	struct store *st = NULL;
	int opt, rc;

	optind = 1;
	for (;;) {
		opt = getopt_long(argc, argv, "+f:s:a:n:urF:h", opts, NULL);
		if (opt == -1)
			break;
		switch (opt) {
		case 'f':
			q.feed = optarg;
			break;
		case 's':
			if (parse_since(optarg, &q.since) < 0) {
				fprintf(stderr, "feedctl articles: bad --since '%s'\n", optarg);
				return 2;
			}
			break;
		case 'a':
			if (parse_i64(optarg, 0, &q.after_id) < 0) {
				fprintf(stderr, "feedctl articles: bad --after '%s' (an article id)\n",
					optarg);
				return 2;
			}
			break;
		case 'n':
			if (parse_i64(optarg, 1, &q.limit) < 0) {
				fprintf(stderr, "feedctl articles: bad --limit '%s'\n", optarg);
				return 2;
			}
			break;
		case 'u':
			q.unique = true;
			break;
		case 'r':
			q.oldest_first = true;
			break;
		case 'F':
			if (parse_fmt(optarg, &c.fmt) < 0) {
				fprintf(stderr, "feedctl articles: bad --format '%s' "
					"(jsonl, tsv or text)\n", optarg);
				return 2;
			}
			break;
		case 'h':
			articles_usage(stdout);
			return 0;
		default:
			articles_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "feedctl articles: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	if (open_reader(g, "articles", &st))
		return 1;
	q.no_bodies = c.fmt != FMT_JSONL;
	c.width = term_width();
	if (c.fmt == FMT_TEXT)
		printf("%7s  %-16s  %-14s  %s\n", "ID", "DATE", "FEED", "TITLE");
	rc = store_articles_query(st, &q, print_article_row, &c);
	if (rc < 0)
		fprintf(stderr, "feedctl articles: %s\n", store_errmsg(st));
	else if (c.err || ferror(stdout))
		fprintf(stderr, "feedctl articles: writing the output failed\n");
	store_close(st);
	return rc < 0 || c.err || fflush(stdout) != 0 ? 1 : 0;
}

/* --- show --------------------------------------------------------------- */

/* Wrap a paragraph at width columns (code points), breaking at spaces. */
static void
put_wrapped(const char *p, size_t len, int width)
{
	size_t i = 0;
	int col = 0;

	while (i < len) {
		size_t w = i;
		int wcols = 0;

		while (w < len && p[w] != ' ') {
			if (((unsigned char)p[w] & 0xc0) != 0x80)
				wcols++;
			w++;
		}
		if (col > 0 && col + 1 + wcols > width) {
			putchar('\n');
			col = 0;
		} else if (col > 0) {
			putchar(' ');
			col++;
		}
		fwrite(p + i, 1, w - i, stdout);
		col += wcols;
		i = w;
		while (i < len && p[i] == ' ')
			i++;
	}
	putchar('\n');
}

struct show_ctx {
	bool json;
	int err;
};

static int
show_row(void *ud, const struct store_article_row *a)
{
	struct show_ctx *c = ud;
	const char *text = a->text, *p;

	if (c->json) {
		c->err = print_json_line(article_json(a, true), false);
		return 0;
	}
	printf("%s\n\n", a->title ? a->title : "(no title)");
	if (!text || !*text)
		text = a->summary;
	/* Paragraphs are separated by line breaks in the plain text. */
	for (p = text; p && *p;) {
		size_t n = strcspn(p, "\n");
		if (n > 0 && strspn(p, " \t\r") < n) {
			put_wrapped(p, n, 76);
			putchar('\n');
		}
		p += n;
		while (*p == '\n')
			p++;
	}
	printf("Source: %s", a->feed ? a->feed : "?");
	if (a->published || a->updated)
		printf(", %s", a->published ? a->published : a->updated);
	if (a->author)
		printf(", by %s", a->author);
	printf("\n");
	if (a->link)
		printf("Link: %s\n", a->link);
	return 0;
}

int
feedctl_show(const struct feedctl_global *g, int argc, char **argv)
{
	struct show_ctx c = { 0 };
	struct store *st = NULL;
	const char *ids = NULL;
	int64_t id;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			c.json = true;
		} else if (strcmp(argv[i], "--help") == 0) {
			printf("usage: feedctl show ID [--json]\n");
			return 0;
		} else if (!ids) {
			ids = argv[i];
		} else {
			fprintf(stderr, "usage: feedctl show ID [--json]\n");
			return 2;
		}
	}
	if (!ids) {
		fprintf(stderr, "usage: feedctl show ID [--json]\n");
		return 2;
	}
	if (parse_i64(ids, 1, &id) < 0) {
		fprintf(stderr, "feedctl show: bad article id '%s' (a positive number)\n",
			ids);
		return 2;
	}
	if (open_reader(g, "show", &st))
		return 1;
	rc = store_article_get(st, id, show_row, &c);
	if (rc < 0)
		fprintf(stderr, "feedctl show: %s\n", store_errmsg(st));
	store_close(st);
	return rc < 0 || c.err || fflush(stdout) != 0 ? 1 : 0;
}

/* --- follow ------------------------------------------------------------- */

struct follow_ctx {
	int64_t seq;     /* the cursor: last seq printed */
	int64_t rows;
	int err;
};

static int
follow_row(void *ud, const struct store_change_row *ch)
{
	struct follow_ctx *c = ud;
	json_t *o = json_object();

	c->seq = ch->seq;
	c->rows++;
	if (!o) {
		c->err = -ENOMEM;
		return 1;
	}
	json_object_set_new(o, "seq", json_integer(ch->seq));
	json_object_set_new(o, "change", jstr(ch->kind));
	json_object_set_new(o, "at", jtime(ch->at));
	json_object_set_new(o, "feed", jstr(ch->feed));
	json_object_set_new(o, "article_id", json_integer(ch->article_id));
	json_object_set_new(o, "article",
		ch->article ? article_json(ch->article, true) : json_null());
	c->err = print_json_line(o, true);
	return c->err ? 1 : 0;
}

static volatile sig_atomic_t follow_stop;

static void
on_signal(int sig)
{
	(void)sig;
	follow_stop = 1;
}

static void
follow_usage(FILE *f)
{
	fprintf(f, "usage: feedctl follow [--after SEQ] [--feed NAME] [--new-only] "
		"[--interval MS]\n"
		"Prints every change (new, update, purge) as a JSON line when it is "
		"committed.\n--after 0 replays the whole change log; without "
		"--after, only changes from now on.\n");
}

int
feedctl_follow(const struct feedctl_global *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "after", required_argument, NULL, 'a' },
		{ "feed", required_argument, NULL, 'f' },
		{ "new-only", no_argument, NULL, 'N' },
		{ "interval", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct follow_ctx c = { .seq = -1 };
	const char *feed = NULL;
	bool new_only = false, warned = false;
	int64_t interval_ms = 200, dv = 0, last_dv = -1;
	struct store *st = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	int opt, rc = 0;

	optind = 1;
	for (;;) {
		opt = getopt_long(argc, argv, "+a:f:Ni:h", opts, NULL);
		if (opt == -1)
			break;
		switch (opt) {
		case 'a':
			if (parse_i64(optarg, 0, &c.seq) < 0) {
				fprintf(stderr, "feedctl follow: bad --after '%s' (a change-log seq)\n",
					optarg);
				return 2;
			}
			break;
		case 'f':
			feed = optarg;
			break;
		case 'N':
			new_only = true;
			break;
		case 'i':
			if (parse_i64(optarg, 10, &interval_ms) < 0) {
				fprintf(stderr, "feedctl follow: bad --interval '%s' (ms, >= 10)\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			follow_usage(stdout);
			return 0;
		default:
			follow_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "feedctl follow: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (open_reader(g, "follow", &st))
		return 1;
	if (c.seq < 0 && store_last_seq(st, &c.seq) < 0) {
		fprintf(stderr, "feedctl follow: %s\n", store_errmsg(st));
		rc = 1;
		goto out;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/*
	 * PRAGMA data_version changes when another connection commits; only
	 * then is the change log read, from the cursor on, by seq (indexed).
	 * The connection stays open across daemon restarts: the WAL files are
	 * kept, so a stopped daemon is just a quiet database.
	 */
	while (!follow_stop) {
		if (store_data_version(st, &dv) < 0) {
			if (!warned)
				fprintf(stderr, "feedctl follow: %s (retrying)\n",
					store_errmsg(st));
			warned = true;
		} else if (dv != last_dv) {
			int64_t before;
			do {
				before = c.rows;
				rc = store_changes_after(st, c.seq, feed, new_only, 500,
					follow_row, &c);
			} while (rc == 0 && c.rows - before == 500 && !follow_stop);
			if (c.err) {
				/* stdout is gone (the reader quit): stop quietly. */
				rc = 0;
				break;
			}
			if (rc < 0) {
				if (!warned)
					fprintf(stderr, "feedctl follow: %s (retrying)\n",
						store_errmsg(st));
				warned = true;
			} else {
				last_dv = dv;
				warned = false;
			}
			rc = 0;
		}
		struct timespec ts = { (time_t)(interval_ms / 1000),
			(long)(interval_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
out:
	store_close(st);
	return rc;
}

/* --- search ------------------------------------------------------------- */

struct search_ctx {
	enum fmt fmt;
	int width;
	int64_t rows;
	int err;
};

static int
search_row(void *ud, const struct store_article_row *a)
{
	struct search_ctx *c = ud;
	json_t *o;
	char t[40];

	c->rows++;
	switch (c->fmt) {
	case FMT_JSONL:
		o = json_object();
		if (!o) {
			c->err = -ENOMEM;
			return 1;
		}
		json_object_set_new(o, "id", json_integer(a->id));
		json_object_set_new(o, "feed", jstr(a->feed));
		json_object_set_new(o, "title", jstr(a->title));
		json_object_set_new(o, "link", jstr(a->link));
		json_object_set_new(o, "date", jtime(a->sort_time));
		json_object_set_new(o, "snippet", jstr(a->snippet));
		json_object_set_new(o, "rank", json_real(a->rank));
		c->err = print_json_line(o, false);
		return c->err ? 1 : 0;
	case FMT_TSV:
		printf("%" PRId64 "\t", a->id);
		put_tsv(a->feed, false);
		put_tsv(a->title, false);
		put_tsv(a->link, false);
		put_tsv(a->snippet, true);
		break;
	case FMT_TEXT:
		fmt_local(a->sort_time, t, sizeof(t));
		printf("%7" PRId64 "  %s  ", a->id, t);
		put_cols(a->feed, 14, true);
		fputs("  ", stdout);
		put_cols(a->title ? a->title : "(no title)", c->width - 45, false);
		fputs("\n         ", stdout);
		put_cols(a->snippet ? a->snippet : "", c->width - 10, false);
		putchar('\n');
		break;
	}
	return ferror(stdout) ? 1 : 0;
}

/* Plain words become FTS5 strings ("word"), so punctuation such as
 * "c++" or "foo-bar" cannot be a syntax error; --fts passes the query
 * through for FTS5's own syntax (AND, OR, NOT, NEAR, prefix*, column:). */
static char *
quote_words(int argc, char **argv)
{
	size_t len = 1;
	char *q, *o;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) * 2 + 4;
	q = malloc(len);
	if (!q)
		return NULL;
	o = q;
	for (int i = 0; i < argc; i++) {
		for (const char *w = argv[i]; *w;) {
			size_t n;
			w += strspn(w, " \t\n");
			n = strcspn(w, " \t\n");
			if (!n)
				break;
			if (o != q)
				*o++ = ' ';
			*o++ = '"';
			for (size_t k = 0; k < n; k++) {
				if (w[k] == '"')
					*o++ = '"';
				*o++ = w[k];
			}
			*o++ = '"';
			w += n;
		}
	}
	*o = '\0';
	return q;
}

static void
search_usage(FILE *f)
{
	fprintf(f, "usage: feedctl search [--limit N] [--fts] [--format jsonl|tsv|text] "
		"QUERY...\n"
		"Every word must match (title or text); --fts takes FTS5 query syntax.\n");
}

int
feedctl_search(const struct feedctl_global *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "limit", required_argument, NULL, 'n' },
		{ "fts", no_argument, NULL, 'x' },
		{ "format", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct search_ctx c = { .fmt = isatty(STDOUT_FILENO) ? FMT_TEXT : FMT_JSONL };
	struct store *st = NULL;
	int64_t limit = 20;
	bool raw = false;
	char *q = NULL;
	int opt, rc = 0;

	optind = 1;
	for (;;) {
		opt = getopt_long(argc, argv, "n:xF:h", opts, NULL);
		if (opt == -1)
			break;
		switch (opt) {
		case 'n':
			if (parse_i64(optarg, 1, &limit) < 0) {
				fprintf(stderr, "feedctl search: bad --limit '%s'\n", optarg);
				return 2;
			}
			break;
		case 'x':
			raw = true;
			break;
		case 'F':
			if (parse_fmt(optarg, &c.fmt) < 0) {
				fprintf(stderr, "feedctl search: bad --format '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h':
			search_usage(stdout);
			return 0;
		default:
			search_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		search_usage(stderr);
		return 2;
	}
	if (raw) {
		size_t len = 1;
		for (int i = optind; i < argc; i++)
			len += strlen(argv[i]) + 1;
		q = calloc(1, len);
		for (int i = optind; q && i < argc; i++) {
			if (i > optind)
				strcat(q, " ");
			strcat(q, argv[i]);
		}
	} else {
		q = quote_words(argc - optind, argv + optind);
	}
	if (!q) {
		fprintf(stderr, "feedctl search: out of memory\n");
		return 1;
	}
	if (!*q) {
		fprintf(stderr, "feedctl search: empty query\n");
		free(q);
		return 2;
	}
	if (open_reader(g, "search", &st)) {
		free(q);
		return 1;
	}
	c.width = term_width();
	rc = store_search(st, q, limit, search_row, &c);
	if (rc < 0)
		fprintf(stderr, "feedctl search: %s\n", store_errmsg(st));
	store_close(st);
	free(q);
	return rc < 0 || c.err || fflush(stdout) != 0 ? 1 : 0;
}

/* --- feeds -------------------------------------------------------------- */

struct feeds_ctx {
	enum fmt fmt;
	int width;
	int err;
};

static int
feed_row(void *ud, const struct store_feed_state *f)
{
	struct feeds_ctx *c = ud;
	char ok[40], next[40], err[300];
	json_t *o;

	switch (c->fmt) {
	case FMT_JSONL:
		o = json_object();
		if (!o) {
			c->err = -ENOMEM;
			return 1;
		}
		json_object_set_new(o, "name", jstr(f->name));
		json_object_set_new(o, "url", jstr(f->url));
		json_object_set_new(o, "url_in_use", jstr(f->url_in_use));
		json_object_set_new(o, "title", jstr(f->title));
		json_object_set_new(o, "site_link", jstr(f->site_link));
		json_object_set_new(o, "active", json_boolean(f->active));
		json_object_set_new(o, "articles", json_integer(f->articles));
		json_object_set_new(o, "last_attempt", jtime(f->last_attempt));
		json_object_set_new(o, "last_success", jtime(f->last_success));
		json_object_set_new(o, "next_fetch", jtime(f->next_due));
		json_object_set_new(o, "failures", json_integer(f->failures));
		json_object_set_new(o, "last_error", jstr(f->last_error));
		json_object_set_new(o, "last_status",
			f->last_status ? json_integer(f->last_status) : json_null());
		json_object_set_new(o, "gone", json_boolean(f->gone));
		json_object_set_new(o, "etag", jstr(f->etag));
		json_object_set_new(o, "last_modified", jstr(f->last_modified));
		c->err = print_json_line(o, false);
		return c->err ? 1 : 0;
	case FMT_TSV:
		put_tsv(f->name, false);
		printf("%" PRId64 "\t", f->articles);
		fmt_time(f->last_success, ok, sizeof(ok));
		put_tsv(ok, false);
		fmt_time(f->next_due, next, sizeof(next));
		put_tsv(next, false);
		printf("%d\t", f->failures);
		put_tsv(f->last_error, true);
		break;
	case FMT_TEXT:
		fmt_local(f->last_success, ok, sizeof(ok));
		fmt_local(f->next_due, next, sizeof(next));
		put_cols(f->name, 16, true);
		printf("  %8" PRId64 "  %-16s  %-16s  ", f->articles, ok,
			f->active ? next : "(not configured)");
		if (f->last_error)
			snprintf(err, sizeof(err), "%s (%d in a row)", f->last_error,
				f->failures);
		else
			snprintf(err, sizeof(err), "%s", f->gone ? "gone (410)" : "ok");
		put_cols(err, c->width - 66, false);
		putchar('\n');
		break;
	}
	return ferror(stdout) ? 1 : 0;
}

int
feedctl_feeds(const struct feedctl_global *g, int argc, char **argv)
{
	struct feeds_ctx c = { .fmt = isatty(STDOUT_FILENO) ? FMT_TEXT : FMT_JSONL };
	struct store *st = NULL;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--format") == 0 && i + 1 < argc &&
			parse_fmt(argv[i + 1], &c.fmt) == 0) {
			i++;
		} else if (strcmp(argv[i], "--help") == 0) {
			printf("usage: feedctl feeds [--format jsonl|tsv|text]\n");
			return 0;
		} else {
			fprintf(stderr, "usage: feedctl feeds [--format jsonl|tsv|text]\n");
			return 2;
		}
	}
	if (open_reader(g, "feeds", &st))
		return 1;
	c.width = term_width();
	if (c.fmt == FMT_TEXT)
		printf("%-16s  %8s  %-16s  %-16s  %s\n", "FEED", "ARTICLES",
			"LAST SUCCESS", "NEXT FETCH", "STATE");
	rc = store_feeds_list(st, true, feed_row, &c);
	if (rc < 0)
		fprintf(stderr, "feedctl feeds: %s\n", store_errmsg(st));
	store_close(st);
	return rc < 0 || c.err || fflush(stdout) != 0 ? 1 : 0;
}
