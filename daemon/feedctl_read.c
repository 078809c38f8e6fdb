/*
 * feedctl's reading commands: articles, show, follow, search, feeds.
 * They open the database read-only through store/ (never SQLite
 * directly), print to stdout and say what went wrong on stderr:
 * exit 0 on success, 1 on an error, 2 on bad usage.
 */
#include "feedctl.h"
#include "artjson.h"
#include "conf.h"
#include "store.h"

#include <errno.h>
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
unexpected(const char *cmd, const char *arg)
{
	fprintf(stderr, "feedctl %s: unexpected argument '%s' (see 'feedctl %s --help')\n",
		cmd, arg, cmd);
	return FEEDCTL_USAGE;
}

static int
bad_fmt(const char *cmd, const char *val)
{
	return feedctl_bad_value(cmd, "format", val, "use text, jsonl (or json) or tsv");
}

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

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil), so no struct tm or time zone is involved. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* n digits at *p as a number, advancing *p; -1 when they are not digits. */
static int
digits(const char **p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return v;
}

/*
 * An RFC 3339 time: YYYY-MM-DD, then optionally T (or t, or a space)
 * HH:MM[:SS[.fraction]] and an offset Z, z, +HH:MM or -HH:MM (also +HHMM,
 * +HH). A date alone is midnight UTC; a time without an offset is UTC.
 * A fraction rounds up: --since means "at or after" and stored times
 * are whole seconds. Returns 0 or -EINVAL with *why set.
 */
static int
parse_rfc3339(const char *s, int64_t *out, const char **why)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0;
	bool frac = false;
	int64_t t;

	*why = "not a time: use e.g. 2024-05-01, 2024-05-01T12:00:00+02:00, "
		"@1714557600 or an age such as 30m, 2h, 1d, 1w";
	if ((y = digits(&p, 4)) < 0 || *p++ != '-' || (mo = digits(&p, 2)) < 0 ||
	    *p++ != '-' || (d = digits(&p, 2)) < 0)
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))) {
		*why = "no such date";
		return -EINVAL;
	}
	if (*p == 'T' || *p == 't' || (*p == ' ' && p[1])) {
		p++;
		if ((h = digits(&p, 2)) < 0 || *p++ != ':' || (mi = digits(&p, 2)) < 0)
			return -EINVAL;
		if (*p == ':') {
			p++;
			if ((sec = digits(&p, 2)) < 0)
				return -EINVAL;
			if (*p == '.' || *p == ',') {
				p++;
				if (*p < '0' || *p > '9')
					return -EINVAL;
				for (; *p >= '0' && *p <= '9'; p++)
					frac = frac || *p != '0';
			}
		}
		if (h > 23 || mi > 59 || sec > 60) {
			*why = "no such time of day";
			return -EINVAL;
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			sign = *p++ == '-' ? -1 : 1;
			if ((oh = digits(&p, 2)) < 0)
				return -EINVAL;
			if (*p == ':')
				p++;
			if (*p && (om = digits(&p, 2)) < 0)
				return -EINVAL;
			if (oh > 23 || om > 59) {
				*why = "no such UTC offset";
				return -EINVAL;
			}
		}
	}
	if (*p)
		return -EINVAL;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= sign * (oh * 3600 + om * 60);
	*out = t + (frac ? 1 : 0);
	return 0;
}

/* --since: RFC 3339 (see above), @UNIXTIME, or an age ("30m", "2h",
 * "1d", "1w", "1h30m"): that long before now. A bare number is none of
 * these (seconds of age, or a Unix time?) and is refused. */
static int
parse_since(const char *s, int64_t *out, const char **why)
{
	size_t n = strlen(s);
	int64_t d;

	if (s[0] == '@') {
		*why = "@ takes Unix seconds, e.g. @1714557600";
		return parse_i64(s + 1, 0, out);
	}
	if (n > 1 && strchr("smhdw", s[n - 1]) && s[0] >= '0' && s[0] <= '9') {
		*why = "not an age: use e.g. 90s, 30m, 2h, 1d, 1w or 1h30m";
		if (conf_duration(s, &d) < 0)
			return -EINVAL;
		*out = (int64_t)time(NULL) - d;
		return 0;
	}
	if (n > 0 && strspn(s, "0123456789") == n) {
		*why = "a bare number is ambiguous: write @UNIXTIME, or an age with a unit (2h)";
		return -EINVAL;
	}
	return parse_rfc3339(s, out, why);
}

static int
bad_since(const char *cmd, const char *val, const char *why)
{
	return feedctl_bad_value(cmd, "since", val, why);
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

/* Whether the comma list tags holds tag, whole (as the store matches). */
static bool
has_tag(const char *tags, const char *tag)
{
	size_t n = strlen(tag);

	for (const char *p = tags; p && *p;) {
		size_t l = strcspn(p, ",");
		if (l == n && strncmp(p, tag, n) == 0)
			return true;
		p += l;
		if (*p == ',')
			p++;
	}
	return false;
}

static int
tag_seen(void *ud, const struct store_feed_state *f)
{
	const char *tag = ud;

	return has_tag(f->tags, tag) ? 1 : 0;
}

/* --tag of a tag no feed has: an error, as --feed of a feed that does not
 * exist, rather than an empty answer that hides a typo. */
static int
check_tag(struct store *st, const char *cmd, const char *tag)
{
	int rc = store_feeds_list(st, false, tag_seen, (void *)tag);

	if (rc == 1)
		return 0;
	if (rc < 0)
		fprintf(stderr, "feedctl %s: %s\n", cmd, store_errmsg(st));
	else
		fprintf(stderr, "feedctl %s: no feed has the tag '%s'\n", cmd, tag);
	return FEEDCTL_ERR;
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

/* The width text output must fit: the terminal's (TIOCGWINSZ), else
 * $COLUMNS (what shells export and tests set), else 80. */
static int
term_width(void)
{
	struct winsize ws;
	const char *e = getenv("COLUMNS");
	int64_t n;

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col > 0)
		return ws.ws_col;
	if (e && parse_i64(e, 1, &n) == 0 && n <= 10000)
		return (int)n;
	return 80;
}

/* The code point at s (UTF-8), its length in *len; an invalid or
 * truncated sequence is one byte read as U+FFFD. */
static uint32_t
utf8_next(const char *s, size_t *len)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t cp, min;
	size_t n;

	if (u[0] < 0x80) {
		*len = 1;
		return u[0];
	}
	if ((u[0] & 0xe0) == 0xc0) {
		n = 2, cp = u[0] & 0x1f, min = 0x80;
	} else if ((u[0] & 0xf0) == 0xe0) {
		n = 3, cp = u[0] & 0x0f, min = 0x800;
	} else if ((u[0] & 0xf8) == 0xf0) {
		n = 4, cp = u[0] & 0x07, min = 0x10000;
	} else {
		*len = 1;
		return 0xfffd;
	}
	for (size_t i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80) {
			*len = 1;
			return 0xfffd;
		}
		cp = cp << 6 | (u[i] & 0x3f);
	}
	*len = n;
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
		*len = 1;
		return 0xfffd;
	}
	return cp;
}

/* Columns a code point takes on a terminal: 0 for combining marks and
 * zero-width characters, 2 for East Asian wide and emoji, else 1. A
 * table rather than wcwidth(), which depends on the locale. */
static int
cp_width(uint32_t c)
{
	static const uint32_t zero[][2] = {
		{ 0x0300, 0x036f }, { 0x0483, 0x0489 }, { 0x0591, 0x05bd },
		{ 0x0610, 0x061a }, { 0x064b, 0x065f }, { 0x1ab0, 0x1aff },
		{ 0x1dc0, 0x1dff }, { 0x200b, 0x200f }, { 0x202a, 0x202e },
		{ 0x2060, 0x2064 }, { 0x20d0, 0x20ff }, { 0xfe00, 0xfe0f },
		{ 0xfe20, 0xfe2f }, { 0xfeff, 0xfeff },
	};
	static const uint32_t wide[][2] = {
		{ 0x1100, 0x115f }, { 0x2e80, 0x303e }, { 0x3041, 0x33ff },
		{ 0x3400, 0x4dbf }, { 0x4e00, 0x9fff }, { 0xa000, 0xa4cf },
		{ 0xac00, 0xd7a3 }, { 0xf900, 0xfaff }, { 0xfe30, 0xfe4f },
		{ 0xff00, 0xff60 }, { 0xffe0, 0xffe6 }, { 0x1f300, 0x1f64f },
		{ 0x1f900, 0x1f9ff }, { 0x20000, 0x2fffd }, { 0x30000, 0x3fffd },
	};

	for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
		if (c >= zero[i][0] && c <= zero[i][1])
			return 0;
	for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++)
		if (c >= wide[i][0] && c <= wide[i][1])
			return 2;
	return 1;
}

/* Display columns of s; control characters print as one space each. */
static int
str_width(const char *s)
{
	int w = 0;
	size_t len;

	for (; s && *s; s += len)
		w += cp_width(utf8_next(s, &len));
	return w;
}

/* Print s in exactly width columns when pad (else at most width): whole
 * code points only, and when s does not fit, as much as fits before an
 * ellipsis. Control characters become spaces, invalid bytes U+FFFD. */
static void
put_cols(const char *s, int width, bool pad)
{
	int total = str_width(s), room = total <= width ? width : width - 1, cols = 0;
	size_t len;

	for (; s && *s && width > 0; s += len) {
		uint32_t c = utf8_next(s, &len);
		int w = cp_width(c);
		if (cols + w > room)
			break;
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0))
			putchar(' ');
		else if (c == 0xfffd && len == 1)
			fputs("\xef\xbf\xbd", stdout);
		else
			fwrite(s, 1, len, stdout);
		cols += w;
	}
	if (total > width && width > 0) {
		fputs("\xe2\x80\xa6", stdout); /* ellipsis */
		cols++;
	}
	for (; pad && cols < width; cols++)
		putchar(' ');
}

/*
 * A text table: rows are kept until the end so each column is as wide as
 * its widest cell, then the whole fits the terminal by shrinking the flex
 * column (the title or message) first, then the widest of the others.
 * An optional second line per row (a search snippet) is indented and cut.
 */
#define TABLE_MAX_COLS 8
#define TABLE_MIN_FLEX 10
#define TABLE_SUB_INDENT 4

struct table {
	int ncols;
	const char *heads[TABLE_MAX_COLS];
	bool right[TABLE_MAX_COLS]; /* right-aligned (numbers) */
	int min[TABLE_MAX_COLS];    /* widths kept until nothing else gives */
	int drop[TABLE_MAX_COLS];   /* 0: always shown; else left out, highest
	                             * first, when the flex column alone cannot
	                             * make the table fit */
	int flex;
	char **cells;               /* owned: nrows * ncols */
	char **sub;                 /* owned: nrows, entries may be NULL */
	size_t nrows, cap;
};

static int
table_add(struct table *t, const char *const *cells, const char *sub)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **nc = realloc(t->cells, cap * (size_t)t->ncols * sizeof(*nc));
		if (!nc)
			return -ENOMEM;
		t->cells = nc;
		nc = realloc(t->sub, cap * sizeof(*nc));
		if (!nc)
			return -ENOMEM;
		t->sub = nc;
		t->cap = cap;
	}
	for (int i = 0; i < t->ncols; i++) {
		char *c = strdup(cells[i] ? cells[i] : "");
		if (!c) {
			for (int k = 0; k < i; k++)
				free(t->cells[t->nrows * (size_t)t->ncols + (size_t)k]);
			return -ENOMEM;
		}
		t->cells[t->nrows * (size_t)t->ncols + (size_t)i] = c;
	}
	t->sub[t->nrows] = sub ? strdup(sub) : NULL;
	t->nrows++;
	return 0;
}

static void
table_print(const struct table *t, int width)
{
	int w[TABLE_MAX_COLS], cellw[TABLE_MAX_COLS], total = 0, shown = 0;
	bool hide[TABLE_MAX_COLS] = { false };

	/* Natural widths; a column empty in every row (a NOTE column when
	 * nothing failed) is left out rather than taking room for its name. */
	for (int i = 0; i < t->ncols; i++) {
		w[i] = 0;
		for (size_t r = 0; r < t->nrows; r++) {
			int cw = str_width(t->cells[r * (size_t)t->ncols + (size_t)i]);
			if (cw > w[i])
				w[i] = cw;
		}
		cellw[i] = w[i];
		hide[i] = i > 0 && w[i] == 0 && t->nrows > 0;
		if (str_width(t->heads[i]) > w[i])
			w[i] = str_width(t->heads[i]);
		if (!hide[i]) {
			total += w[i] + (shown ? 2 : 0);
			shown++;
		}
	}
	/* Shrink: the flex column down to TABLE_MIN_FLEX; then leave out
	 * the columns least needed (a narrow terminal rather sees whole
	 * names than every column cut); then the widest of the others down
	 * to their minimum (dates and numbers, with their heading, are kept
	 * whole as long as anything else can give), then anything down to
	 * one column. */
	for (int pass = 0; pass < 3 && total > width; pass++) {
		while (pass == 1 && total > width) {
			int pick = -1;
			for (int i = 0; i < t->ncols; i++)
				if (!hide[i] && t->drop[i] && (pick < 0 || t->drop[i] > t->drop[pick]))
					pick = i;
			if (pick < 0)
				break;
			hide[pick] = true;
			total -= w[pick] + 2;
		}
		while (total > width) {
			int pick = -1;
			for (int i = 0; i < t->ncols; i++) {
				int floor = pass == 2 ? 1 : i == t->flex ? TABLE_MIN_FLEX
					: t->right[i] ? (cellw[i] > str_width(t->heads[i])
						? cellw[i] : str_width(t->heads[i]))
					: t->min[i] > 0 ? t->min[i] : 1;
				if (hide[i] || w[i] <= floor || (pass == 0 && i != t->flex))
					continue;
				if (pick < 0 || w[i] > w[pick])
					pick = i;
			}
			if (pick < 0)
				break;
			w[pick]--;
			total--;
		}
	}
	for (size_t r = 0; r <= t->nrows; r++) {
		const char *const *row = r == 0 ? t->heads
			: (const char *const *)&t->cells[(r - 1) * (size_t)t->ncols];
		int end = t->ncols; /* no trailing blanks for empty last cells */
		bool first = true;
		while (end > 1 && (hide[end - 1] || !*row[end - 1]))
			end--;
		for (int i = 0; i < end; i++) {
			const char *c = row[i];
			bool last = i == end - 1;
			if (hide[i])
				continue;
			if (!first)
				fputs("  ", stdout);
			first = false;
			if (t->right[i] && str_width(c) < w[i])
				printf("%*s", w[i] - str_width(c), "");
			put_cols(c, w[i], !last && !t->right[i]);
		}
		putchar('\n');
		if (r > 0 && t->sub[r - 1] && width > TABLE_SUB_INDENT) {
			printf("%*s", TABLE_SUB_INDENT, "");
			put_cols(t->sub[r - 1], width - TABLE_SUB_INDENT, false);
			putchar('\n');
		}
	}
}

static void
table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	for (size_t i = 0; i < t->nrows; i++)
		free(t->sub[i]);
	free(t->cells);
	free(t->sub);
	t->cells = t->sub = NULL;
	t->nrows = t->cap = 0;
}

/*
 * Write n bytes of s as text for a terminal: control characters (C0, DEL
 * and the C1 range U+0080..U+009F) become spaces. Titles and authors come
 * from whoever writes the feed, and a JSON Feed may carry ESC in a string:
 * printed raw, that drives the reader's terminal (retitling it, clearing
 * it, or worse).
 */
static void
put_clean(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f) {
			putchar(' ');
			i++;
		} else {
			putchar(c < 0x20 || c == 0x7f ? ' ' : c);
		}
	}
}

static void
put_clean_str(const char *s)
{
	if (s)
		put_clean(s, strlen(s));
}

/* A TSV field: tabs, line breaks and other control characters become
 * spaces; an absent value is an empty field, so `cut` always sees the
 * same number of fields. */
static void
put_tsv(const char *s, bool last)
{
	put_clean_str(s);
	putchar(last ? '\n' : '\t');
}

/* --- articles ----------------------------------------------------------- */

/* Output state shared by articles, search and feeds. */
struct list_ctx {
	enum fmt fmt;
	bool fmt_given;   /* --format was on the command line */
	bool header;      /* --header */
	struct table table; /* FMT_TEXT: rows collected until the end */
	int64_t rows;
	int err;
};

/* Settle the format after the options: --header alone means TSV (it is
 * TSV's option), and is refused with JSON Lines. */
static int
list_format(struct list_ctx *c, const char *cmd)
{
	if (c->header && !c->fmt_given)
		c->fmt = FMT_TSV;
	if (c->header && c->fmt == FMT_JSONL) {
		fprintf(stderr, "feedctl %s: --header is for --format tsv (JSON Lines "
			"name every field)\n", cmd);
		return FEEDCTL_USAGE;
	}
	return 0;
}

/* TSV's header line: the JSON field names of its columns. */
static void
tsv_header(const struct list_ctx *c, const char *const *names, int n)
{
	if (c->fmt != FMT_TSV || !c->header)
		return;
	for (int i = 0; i < n; i++)
		put_tsv(names[i], i == n - 1);
}

/* Print the text table (if any) and say what went wrong, if anything.
 * Returns the exit status. */
static int
list_finish(struct list_ctx *c, const char *cmd, struct store *st, int rc)
{
	if (rc == 0 && !c->err && c->fmt == FMT_TEXT)
		table_print(&c->table, term_width());
	table_free(&c->table);
	if (rc < 0 && rc != -ENOMEM)
		fprintf(stderr, "feedctl %s: %s\n", cmd, store_errmsg(st));
	else if (rc < 0 || c->err == -ENOMEM)
		fprintf(stderr, "feedctl %s: out of memory\n", cmd);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (rc == 0 && c->err != -ENOMEM)
			fprintf(stderr, "feedctl %s: writing the output failed\n", cmd);
		return FEEDCTL_ERR;
	}
	return rc < 0 || c->err ? FEEDCTL_ERR : FEEDCTL_OK;
}

static int
print_article_row(void *ud, const struct store_article_row *a)
{
	struct list_ctx *c = ud;
	char t[40], id[32];

	c->rows++;
	switch (c->fmt) {
	case FMT_JSONL:
		c->err = print_json_line(artjson_article(a, true), false);
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
		snprintf(id, sizeof(id), "%" PRId64, a->id);
		c->err = table_add(&c->table, (const char *[]){ id, t, a->feed,
			a->title ? a->title : "(no title)" }, NULL);
		return c->err ? 1 : 0;
	}
	return ferror(stdout) ? 1 : 0;
}

int
feedctl_articles(const struct feedctl_global *g, int argc, char **argv)
{
	struct store_query q = { 0 };
	struct list_ctx c = { .fmt = isatty(STDOUT_FILENO) ? FMT_TEXT : FMT_JSONL,
		.table = { .ncols = 4, .heads = { "ID", "DATE", "FEED", "TITLE" },
			.right = { true }, .min = { 0, 16, 8 }, .flex = 3 } };
	struct store *st = NULL;
	struct feedctl_args args;
	const char *val, *why;
	int key, rc;

	feedctl_args_init(&args, argc, argv);
	while ((key = feedctl_opt_next(&args, &val)) != -1) {
		switch (key) {
		case 'f':
			q.feed = val;
			break;
		case 't':
			q.tag = val;
			break;
		case 's':
			if (parse_since(val, &q.since, &why) < 0)
				return bad_since(argv[0], val, why);
			break;
		case 'a':
			if (parse_i64(val, 0, &q.after_id) < 0)
				return feedctl_bad_value(argv[0], "after", val,
					"an article id, 0 or more");
			break;
		case 'n':
			if (parse_i64(val, 0, &q.limit) < 0)
				return feedctl_bad_value(argv[0], "limit", val,
					"a number, 0 (no limit) or more");
			break;
		case 'u':
			q.unique = true;
			break;
		case 'r':
			q.oldest_first = true;
			break;
		case 'F':
			if (parse_fmt(val, &c.fmt) < 0)
				return bad_fmt(argv[0], val);
			c.fmt_given = true;
			break;
		case 'H':
			c.header = true;
			break;
		case 0:
			return unexpected(argv[0], val);
		default:
			return FEEDCTL_USAGE;
		}
	}
	if ((rc = list_format(&c, argv[0])) != 0)
		return rc;
	if (open_reader(g, "articles", &st))
		return FEEDCTL_ERR;
	if (q.tag && check_tag(st, argv[0], q.tag) != 0) {
		store_close(st);
		return FEEDCTL_ERR;
	}
	q.no_bodies = c.fmt != FMT_JSONL;
	tsv_header(&c, (const char *[]){ "id", "date", "feed", "title", "link" }, 5);
	rc = store_articles_query(st, &q, print_article_row, &c);
	rc = list_finish(&c, argv[0], st, rc);
	store_close(st);
	return rc;
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
		put_clean(p + i, w - i);
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
		c->err = print_json_line(artjson_article(a, true), false);
		return 0;
	}
	put_clean_str(a->title ? a->title : "(no title)");
	fputs("\n\n", stdout);
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
	fputs("Source: ", stdout);
	put_clean_str(a->feed ? a->feed : "?");
	if (a->published || a->updated) {
		fputs(", ", stdout);
		put_clean_str(a->published ? a->published : a->updated);
	}
	if (a->author) {
		fputs(", by ", stdout);
		put_clean_str(a->author);
	}
	putchar('\n');
	if (a->link) {
		fputs("Link: ", stdout);
		put_clean_str(a->link);
		putchar('\n');
	}
	return 0;
}

int
feedctl_show(const struct feedctl_global *g, int argc, char **argv)
{
	struct show_ctx c = { 0 };
	struct store *st = NULL;
	struct feedctl_args args;
	const char *ids = NULL, *val;
	int64_t id;
	int key, rc;

	feedctl_args_init(&args, argc, argv);
	while ((key = feedctl_opt_next(&args, &val)) != -1) {
		switch (key) {
		case 'j':
			c.json = true;
			break;
		case 0:
			if (ids)
				return unexpected(argv[0], val);
			ids = val;
			break;
		default:
			return FEEDCTL_USAGE;
		}
	}
	if (!ids) {
		fprintf(stderr, "feedctl show: which article? (feedctl show ID)\n");
		return FEEDCTL_USAGE;
	}
	if (parse_i64(ids, 1, &id) < 0) {
		fprintf(stderr, "feedctl show: bad article id '%s' (a positive number)\n",
			ids);
		return FEEDCTL_USAGE;
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
	int64_t seq;     /* the cursor: last seq read */
	int64_t rows;    /* change-log rows read (printed or not) */
	const char *tag; /* --tag, or NULL */
	struct store *st;
	int err;
};

/* Whether a change belongs to a feed tagged c->tag: the article says
 * (its feed's tags as they are now); a purge has no article, so its
 * feed is looked up. */
static bool
follow_wanted(struct follow_ctx *c, const struct store_change_row *ch)
{
	struct store_feed_state fs = { 0 };
	bool yes;

	if (!c->tag)
		return true;
	if (ch->article)
		return has_tag(ch->article->tags, c->tag);
	if (!ch->feed || store_feed_get(c->st, ch->feed, &fs) < 0)
		return false;
	yes = has_tag(fs.tags, c->tag);
	store_feed_state_cleanup(&fs);
	return yes;
}

static int
follow_row(void *ud, const struct store_change_row *ch)
{
	struct follow_ctx *c = ud;
	json_t *o;

	c->seq = ch->seq;
	c->rows++;
	if (!follow_wanted(c, ch))
		return 0;
	o = json_object();
	if (!o) {
		c->err = -ENOMEM;
		return 1;
	}
	json_object_set_new(o, "seq", json_integer(ch->seq));
	json_object_set_new(o, "change", artjson_str(ch->kind));
	json_object_set_new(o, "at", artjson_time(ch->at));
	json_object_set_new(o, "feed", artjson_str(ch->feed));
	json_object_set_new(o, "article_id", json_integer(ch->article_id));
	json_object_set_new(o, "article",
		ch->article ? artjson_article(ch->article, true) : json_null());
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

int
feedctl_follow(const struct feedctl_global *g, int argc, char **argv)
{
	struct follow_ctx c = { .seq = -1 };
	const char *feed = NULL;
	bool new_only = false, warned = false, pending = false;
	int64_t interval_ms = 200;
	struct store *st = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	struct feedctl_args args;
	const char *val;
	int key, rc = 0;

	feedctl_args_init(&args, argc, argv);
	while ((key = feedctl_opt_next(&args, &val)) != -1) {
		switch (key) {
		case 'a':
			if (parse_i64(val, 0, &c.seq) < 0)
				return feedctl_bad_value(argv[0], "after", val,
					"a change-log seq, 0 or more");
			break;
		case 'f':
			feed = val;
			break;
		case 't':
			c.tag = val;
			break;
		case 'N':
			new_only = true;
			break;
		case 'i':
			if (parse_i64(val, 10, &interval_ms) < 0)
				return feedctl_bad_value(argv[0], "interval", val,
					"milliseconds, 10 or more");
			break;
		case 0:
			return unexpected(argv[0], val);
		default:
			return FEEDCTL_USAGE;
		}
	}
	if (open_reader(g, "follow", &st))
		return FEEDCTL_ERR;
	/* A misspelt feed would otherwise wait silently forever. */
	if (feed) {
		struct store_feed_state fs = { 0 };
		rc = store_feed_get(st, feed, &fs);
		store_feed_state_cleanup(&fs);
		if (rc < 0) {
			if (rc == -ENOENT)
				fprintf(stderr, "feedctl follow: no feed named '%s'\n", feed);
			else
				fprintf(stderr, "feedctl follow: %s\n", store_errmsg(st));
			store_close(st);
			return FEEDCTL_ERR;
		}
		rc = 0;
	}
	if (c.tag && check_tag(st, argv[0], c.tag) != 0) {
		store_close(st);
		return FEEDCTL_ERR;
	}
	c.st = st;
	if (c.seq < 0 && store_last_seq(st, &c.seq) < 0) {
		fprintf(stderr, "feedctl follow: %s\n", store_errmsg(st));
		rc = 1;
		goto out;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/*
	 * store_wait_changes() says when another connection committed (on
	 * SQLite PRAGMA data_version, polled every interval; on PostgreSQL
	 * the commit's NOTIFY, with that poll as the fallback); only then is
	 * the change log read, from the cursor on, by seq (indexed). A read
	 * that failed is retried at the next wake-up or interval. The
	 * connection stays open across daemon restarts: the WAL files are
	 * kept, so a stopped daemon is just a quiet database.
	 */
	while (!follow_stop) {
		int w = store_wait_changes(st, pending ? 0 :
			(int)(interval_ms > 86400000 ? 86400000 : interval_ms));

		if (w < 0) {
			if (!warned)
				fprintf(stderr, "feedctl follow: %s (retrying)\n",
					store_errmsg(st));
			warned = true;
		} else if (w > 0 || pending) {
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
			pending = rc < 0;
			if (rc < 0) {
				if (!warned)
					fprintf(stderr, "feedctl follow: %s (retrying)\n",
						store_errmsg(st));
				warned = true;
			} else {
				warned = false;
			}
			rc = 0;
		}
		if (w < 0 || pending) {
			/* Failing: not faster than the interval. */
			struct timespec ts = { (time_t)(interval_ms / 1000),
				(long)(interval_ms % 1000) * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
out:
	store_close(st);
	return rc;
}

/* --- search ------------------------------------------------------------- */

static int
search_row(void *ud, const struct store_article_row *a)
{
	struct list_ctx *c = ud;
	json_t *o;
	char t[40], id[32];

	c->rows++;
	switch (c->fmt) {
	case FMT_JSONL:
		o = json_object();
		if (!o) {
			c->err = -ENOMEM;
			return 1;
		}
		json_object_set_new(o, "id", json_integer(a->id));
		json_object_set_new(o, "feed", artjson_str(a->feed));
		json_object_set_new(o, "tags", artjson_tags(a->tags));
		json_object_set_new(o, "title", artjson_str(a->title));
		json_object_set_new(o, "link", artjson_str(a->link));
		json_object_set_new(o, "date", artjson_time(a->sort_time));
		json_object_set_new(o, "snippet", artjson_str(a->snippet));
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
		snprintf(id, sizeof(id), "%" PRId64, a->id);
		c->err = table_add(&c->table, (const char *[]){ id, t, a->feed,
			a->title ? a->title : "(no title)" }, a->snippet ? a->snippet : "");
		return c->err ? 1 : 0;
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

int
feedctl_search(const struct feedctl_global *g, int argc, char **argv)
{
	struct list_ctx c = { .fmt = isatty(STDOUT_FILENO) ? FMT_TEXT : FMT_JSONL,
		.table = { .ncols = 4, .heads = { "ID", "DATE", "FEED", "TITLE" },
			.right = { true }, .min = { 0, 16, 8 }, .flex = 3 } };
	struct store *st = NULL;
	struct store_query sq = { 0 };
	int64_t limit = 20;
	bool raw = false;
	char *q = NULL, **words;
	struct feedctl_args args;
	const char *val, *why;
	int key, nwords = 0, rc = 0;

	words = calloc((size_t)argc + 1, sizeof(*words));
	if (!words) {
		fprintf(stderr, "feedctl search: out of memory\n");
		return FEEDCTL_ERR;
	}
	feedctl_args_init(&args, argc, argv);
	while ((key = feedctl_opt_next(&args, &val)) != -1) {
		switch (key) {
		case 'n':
			if (parse_i64(val, 0, &limit) < 0) {
				free(words);
				return feedctl_bad_value(argv[0], "limit", val,
					"a number, 0 (no limit) or more");
			}
			break;
		case 'f':
			sq.feed = val;
			break;
		case 't':
			sq.tag = val;
			break;
		case 's':
			if (parse_since(val, &sq.since, &why) < 0) {
				free(words);
				return bad_since(argv[0], val, why);
			}
			break;
		case 'x':
			raw = true;
			break;
		case 'F':
			if (parse_fmt(val, &c.fmt) < 0) {
				free(words);
				return bad_fmt(argv[0], val);
			}
			c.fmt_given = true;
			break;
		case 'H':
			c.header = true;
			break;
		case 0:
			words[nwords++] = (char *)val;
			break;
		default:
			free(words);
			return FEEDCTL_USAGE;
		}
	}
	if (nwords == 0) {
		free(words);
		fprintf(stderr, "feedctl search: no QUERY given\n");
		return FEEDCTL_USAGE;
	}
	if ((rc = list_format(&c, argv[0])) != 0) {
		free(words);
		return rc;
	}
	if (raw) {
		size_t len = 1;
		for (int i = 0; i < nwords; i++)
			len += strlen(words[i]) + 1;
		q = calloc(1, len);
		for (int i = 0; q && i < nwords; i++) {
			if (i > 0)
				strcat(q, " ");
			strcat(q, words[i]);
		}
	} else {
		q = quote_words(nwords, words);
	}
	free(words);
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
	tsv_header(&c, (const char *[]){ "id", "feed", "title", "link", "snippet" }, 5);
	if (sq.tag && check_tag(st, argv[0], sq.tag) != 0) {
		store_close(st);
		free(q);
		return FEEDCTL_ERR;
	}
	/* The store reads 0 as its default; --limit 0 means every match. */
	sq.limit = limit > 0 ? limit : INT64_MAX;
	rc = store_search_query(st, q, &sq, search_row, &c);
	rc = list_finish(&c, argv[0], st, rc);
	store_close(st);
	free(q);
	return rc;
}

/* --- feeds -------------------------------------------------------------- */

static int
feed_row(void *ud, const struct store_feed_state *f)
{
	struct list_ctx *c = ud;
	const char *status = f->status ? f->status : "ok";
	char ok[40], next[40], n[32], note[600];
	json_t *o;

	switch (c->fmt) {
	case FMT_JSONL:
		o = json_object();
		if (!o) {
			c->err = -ENOMEM;
			return 1;
		}
		json_object_set_new(o, "name", artjson_str(f->name));
		json_object_set_new(o, "status", json_string(status));
		json_object_set_new(o, "tags", artjson_tags(f->tags));
		json_object_set_new(o, "url", artjson_str(f->url));
		json_object_set_new(o, "url_in_use", artjson_str(f->url_in_use));
		json_object_set_new(o, "title", artjson_str(f->title));
		json_object_set_new(o, "site_link", artjson_str(f->site_link));
		json_object_set_new(o, "conf_title", artjson_str(f->conf_title));
		json_object_set_new(o, "conf_site", artjson_str(f->conf_site));
		json_object_set_new(o, "active", json_boolean(f->active));
		json_object_set_new(o, "enabled", json_boolean(f->enabled));
		json_object_set_new(o, "articles", json_integer(f->articles));
		json_object_set_new(o, "last_attempt", artjson_time(f->last_attempt));
		json_object_set_new(o, "last_success", artjson_time(f->last_success));
		json_object_set_new(o, "next_fetch", artjson_time(f->next_due));
		json_object_set_new(o, "failures", json_integer(f->failures));
		json_object_set_new(o, "last_error", artjson_str(f->last_error));
		json_object_set_new(o, "last_status",
			f->last_status ? json_integer(f->last_status) : json_null());
		json_object_set_new(o, "gone", json_boolean(f->gone));
		json_object_set_new(o, "malformed", json_boolean(f->malformed));
		json_object_set_new(o, "last_warning", artjson_str(f->last_warning));
		json_object_set_new(o, "etag", artjson_str(f->etag));
		json_object_set_new(o, "last_modified", artjson_str(f->last_modified));
		c->err = print_json_line(o, false);
		return c->err ? 1 : 0;
	case FMT_TSV:
		/* New columns go at the end: scripts cut by position. */
		put_tsv(f->name, false);
		printf("%" PRId64 "\t", f->articles);
		fmt_time(f->last_success, ok, sizeof(ok));
		put_tsv(ok, false);
		fmt_time(f->next_due, next, sizeof(next));
		put_tsv(next, false);
		printf("%d\t", f->failures);
		put_tsv(f->last_error, false);
		put_tsv(status, false);
		put_tsv(f->tags, true);
		break;
	case FMT_TEXT:
		fmt_local(f->last_success, ok, sizeof(ok));
		fmt_local(f->next_due, next, sizeof(next));
		snprintf(n, sizeof(n), "%" PRId64, f->articles);
		note[0] = '\0';
		if (strcmp(status, "disabled") == 0)
			snprintf(note, sizeof(note), "enabled=no in the configuration");
		else if (strcmp(status, "removed") == 0)
			snprintf(note, sizeof(note), "no longer in the configuration");
		else if (f->gone)
			snprintf(note, sizeof(note), "HTTP 410: no longer fetched");
		else if (f->last_error)
			snprintf(note, sizeof(note), "%s (%d in a row)", f->last_error,
				f->failures);
		else if (f->malformed && f->last_warning)
			snprintf(note, sizeof(note), "%s", f->last_warning);
		else if (strcmp(status, "new") == 0)
			snprintf(note, sizeof(note), "not fetched yet");
		/* A new feed's NEXT FETCH is its planned first fetch; one
		 * that will not be fetched has none. */
		c->err = table_add(&c->table, (const char *[]){ f->name, status, n, ok,
			strcmp(status, "disabled") == 0 || strcmp(status, "removed") == 0 ||
			f->gone ? "-" : next, f->tags, note }, NULL);
		return c->err ? 1 : 0;
	}
	return ferror(stdout) ? 1 : 0;
}

int
feedctl_feeds(const struct feedctl_global *g, int argc, char **argv)
{
	struct list_ctx c = { .fmt = isatty(STDOUT_FILENO) ? FMT_TEXT : FMT_JSONL,
		.table = { .ncols = 7, .heads = { "FEED", "STATUS", "ARTICLES",
			"LAST SUCCESS", "NEXT FETCH", "TAGS", "NOTE" },
			.right = { false, false, true }, .min = { 8, 9, 0, 16, 16, 8 },
			/* LAST SUCCESS goes first: STATUS and NOTE say whether it
			 * works; then the tags. */
			.drop = { [3] = 2, [5] = 1 }, .flex = 6 } };
	struct store *st = NULL;
	struct feedctl_args args;
	const char *val;
	int key, rc;

	feedctl_args_init(&args, argc, argv);
	while ((key = feedctl_opt_next(&args, &val)) != -1) {
		switch (key) {
		case 'F':
			if (parse_fmt(val, &c.fmt) < 0)
				return bad_fmt(argv[0], val);
			c.fmt_given = true;
			break;
		case 'H':
			c.header = true;
			break;
		case 0:
			return unexpected(argv[0], val);
		default:
			return FEEDCTL_USAGE;
		}
	}
	if ((rc = list_format(&c, argv[0])) != 0)
		return rc;
	if (open_reader(g, "feeds", &st))
		return FEEDCTL_ERR;
	tsv_header(&c, (const char *[]){ "name", "articles", "last_success",
		"next_fetch", "failures", "last_error", "status", "tags" }, 8);
	rc = store_feeds_list(st, true, feed_row, &c);
	rc = list_finish(&c, argv[0], st, rc);
	store_close(st);
	return rc;
}

/* --- hooks -------------------------------------------------------------- */

struct hooks_ctx {
	struct list_ctx c;
	struct store *st;
	const struct conf *conf;   /* borrowed; NULL: the config was not read */
	bool *seen;                /* owned; per conf->hooks[i]: has a row */
};

/* One word for a hook's state: the first that applies. */
static const char *
hook_status(const struct store_hook_state *h, const struct conf_hook *cf,
	const struct conf *conf)
{
	if (conf && !cf)
		return "removed";
	if (h->cursor < 0)
		return "new";
	if (h->disabled)
		return "disabled";
	if (h->failures > 0)
		return "failing";
	if (!h->last_success)
		return "new";
	return "ok";
}

static int
hook_row(void *ud, const struct store_hook_state *h)
{
	struct hooks_ctx *x = ud;
	struct list_ctx *c = &x->c;
	const struct conf_hook *cf = x->conf ? conf_hook_find(x->conf, h->name) : NULL;
	struct store_change_filter f = { .new_rows = true, .update_rows = true };
	const char *status = hook_status(h, cf, x->conf);
	char ok[40], next[40], cur[32], back[32], fails[32], note[600];
	int64_t backlog = -1;
	json_t *o;
	int rc;

	/* The backlog by the hook's own filter when it is configured, else
	 * every new or updated article after its cursor. */
	if (cf && x->seen)
		x->seen[cf - x->conf->hooks] = true;
	if (cf) {
		f.new_rows = cf->events & CONF_HOOK_NEW;
		f.update_rows = cf->events & CONF_HOOK_UPDATED;
		f.feeds = (const char *const *)cf->feeds;
		f.nfeeds = cf->nfeeds;
		f.tags = (const char *const *)cf->tags;
		f.ntags = cf->ntags;
	}
	/* A hook that never ran (cursor -1) starts at the end of the log,
	 * or with from=start at its beginning. */
	if (h->cursor >= 0 || (cf && cf->from_start)) {
		rc = store_hook_backlog(x->st, h->cursor > 0 ? h->cursor : 0, &f,
			&backlog);
		if (rc < 0)
			return rc;
	} else {
		backlog = 0;
	}
	switch (c->fmt) {
	case FMT_JSONL:
		o = json_object();
		if (!o) {
			c->err = -ENOMEM;
			return 1;
		}
		json_object_set_new(o, "name", artjson_str(h->name));
		json_object_set_new(o, "status", json_string(status));
		json_object_set_new(o, "kind", cf ? json_string(cf->kind ==
			CONF_HOOK_EXEC ? "exec" : "webhook") : json_null());
		json_object_set_new(o, "configured", x->conf ?
			json_boolean(cf != NULL) : json_null());
		json_object_set_new(o, "cursor", h->cursor >= 0 ?
			json_integer(h->cursor) : json_null());
		json_object_set_new(o, "backlog", json_integer(backlog));
		json_object_set_new(o, "last_attempt", artjson_time(h->last_attempt));
		json_object_set_new(o, "last_success", artjson_time(h->last_success));
		json_object_set_new(o, "next_attempt", artjson_time(h->next_attempt));
		json_object_set_new(o, "failures", json_integer(h->failures));
		json_object_set_new(o, "last_error", artjson_str(h->last_error));
		json_object_set_new(o, "disabled", artjson_str(h->disabled));
		c->err = print_json_line(o, false);
		return c->err ? 1 : 0;
	case FMT_TSV:
		put_tsv(h->name, false);
		put_tsv(status, false);
		if (h->cursor >= 0)
			printf("%" PRId64, h->cursor);
		printf("\t%" PRId64 "\t", backlog);
		fmt_time(h->last_success, ok, sizeof(ok));
		put_tsv(ok, false);
		printf("%d\t", h->failures);
		put_tsv(h->last_error, false);
		fmt_time(h->next_attempt, next, sizeof(next));
		put_tsv(next, true);
		break;
	case FMT_TEXT:
		fmt_local(h->last_success, ok, sizeof(ok));
		if (h->cursor >= 0)
			snprintf(cur, sizeof(cur), "%" PRId64, h->cursor);
		else
			snprintf(cur, sizeof(cur), "-");
		snprintf(back, sizeof(back), "%" PRId64, backlog);
		snprintf(fails, sizeof(fails), "%d", h->failures);
		note[0] = '\0';
		if (strcmp(status, "removed") == 0)
			snprintf(note, sizeof(note), "no longer in the configuration");
		else if (h->disabled)
			snprintf(note, sizeof(note), "stopped: %s", h->disabled);
		else if (h->cursor < 0)
			snprintf(note, sizeof(note), "not run yet");
		else if (h->last_error) {
			fmt_local(h->next_attempt, next, sizeof(next));
			snprintf(note, sizeof(note), "%s (retry %s)", h->last_error,
				next);
		}
		c->err = table_add(&c->table, (const char *[]){ h->name, status,
			cur, back, ok, fails, note }, NULL);
		return c->err ? 1 : 0;
	}
	return ferror(stdout) ? 1 : 0;
}

int
feedctl_hooks(const struct feedctl_global *g, int argc, char **argv)
{
	struct hooks_ctx x = { .c = { .fmt = isatty(STDOUT_FILENO) ? FMT_TEXT :
		FMT_JSONL, .table = { .ncols = 7, .heads = { "HOOK", "STATUS",
			"CURSOR", "BACKLOG", "LAST SUCCESS", "FAILURES", "NOTE" },
			.right = { false, false, true, true, false, true },
			.min = { 8, 8, 0, 0, 16, 0 }, .drop = { [2] = 1 },
			.flex = 6 } } };
	struct conf *conf = NULL;
	struct feedctl_args args;
	const char *val;
	char err[512];
	int key, rc;

	feedctl_args_init(&args, argc, argv);
	while ((key = feedctl_opt_next(&args, &val)) != -1) {
		switch (key) {
		case 'F':
			if (parse_fmt(val, &x.c.fmt) < 0)
				return bad_fmt(argv[0], val);
			x.c.fmt_given = true;
			break;
		case 'H':
			x.c.header = true;
			break;
		case 0:
			return unexpected(argv[0], val);
		default:
			return FEEDCTL_USAGE;
		}
	}
	if ((rc = list_format(&x.c, argv[0])) != 0)
		return rc;
	/* The config says which hooks are still configured and what each
	 * one's backlog counts; without it, every change after the cursor. */
	if (conf_load(&conf, g->config ? g->config : FEEDD_DEFAULT_CONFIG, err,
	    sizeof(err)) < 0 && g->config)
		fprintf(stderr, "feedctl hooks: %s (backlogs count every new or "
			"updated article)\n", err);
	x.conf = conf;
	if (open_reader(g, "hooks", &x.st)) {
		conf_free(conf);
		return FEEDCTL_ERR;
	}
	tsv_header(&x.c, (const char *[]){ "name", "status", "cursor", "backlog",
		"last_success", "failures", "last_error", "next_attempt" }, 8);
	if (conf && conf->nhooks && !(x.seen = calloc(conf->nhooks,
	    sizeof(*x.seen)))) {
		x.c.err = -ENOMEM;
		rc = 0;
	} else {
		rc = store_hooks_list(x.st, hook_row, &x);
	}
	/* Configured hooks that have not run yet have no row: show them. */
	for (size_t i = 0; rc == 0 && !x.c.err && x.seen && i < conf->nhooks; i++) {
		struct store_hook_state h = { .name = conf->hooks[i].name,
			.cursor = -1 };

		if (!x.seen[i])
			rc = hook_row(&x, &h);
	}
	rc = list_finish(&x.c, argv[0], x.st, rc);
	store_close(x.st);
	free(x.seen);
	conf_free(conf);
	return rc;
}
