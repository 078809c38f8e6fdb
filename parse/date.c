/*
 * Feed dates -> "YYYY-MM-DDTHH:MM:SSZ".
 *
 * Three readers are tried in order, each strict about its own shape:
 *   1. Korean blog formats (OnBlog "2004년 05월 28일 01:31:15", Nate
 *      "2004-05-25 오후 11:23:17"), read as +09:00.
 *   2. W3C-DTF / ISO 8601: extended and basic forms, "T" or spaces between
 *      date and time, fractions, Z / numeric / named zones (no zone = UTC),
 *      year-month and year-only, ordinal dates (YYYY-DDD), the two-digit
 *      year forms YYMMDD, YY-MM-DD, -YYMM, -YY-MM (20YY), Google's
 *      "2003-012-31", Hungarian month names ("2004-július-13T9:15-05:00").
 *   3. RFC 822/1123 and relatives, read token by token so the common
 *      mistakes pass: missing weekday or a wrong one, day and month swapped
 *      (asctime, JavaScript's Date.toString), long month names, two-digit
 *      years (00-89 = 20xx, 90-99 = 19xx), missing seconds or time, commas
 *      anywhere, US/European/military/GMT+hh:mm zones, Perforce's
 *      "2006/09/15", Greek month and day names. An unknown zone name counts
 *      as UTC (as Python feedparser does); a malformed numeric one rejects.
 *
 * Forms whose meaning depends on today's date ("--12-25", "-335") and bare
 * 5-digit numbers (a year 22013 or a truncated YYDDD?) are rejected. So are
 * out-of-range fields: month 13, day 32, Feb 29 of a common year, hour 24+,
 * minute or second 60+ (second 60, a leap second, reads as 59), zone
 * offsets of 24 h or more, and results outside years 0001-9999.
 *
 * Arithmetic is done here (days from the civil calendar), so no locale,
 * no TZ variable and no strptime/timegm are involved.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "norm.h"

struct dt {
	int year, month, day;
	int hour, min, sec;
	int off_min; /* local = UTC + off_min */
};

/* Howard Hinnant's days_from_civil: days since 1970-01-01. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int y, int m)
{
	static const int dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* v (0 <= v < 10^n) as exactly n decimal digits */
static void
put_digits(char *p, int v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* Validate, convert to UTC and format. */
static int
dt_emit(struct dt *t, char out[21])
{
	int64_t days, secs, y;
	int m, d;

	if (t->year < 1 || t->year > 9999 || t->month < 1 || t->month > 12)
		return -EINVAL;
	if (t->day < 1 || t->day > days_in_month(t->year, t->month))
		return -EINVAL;
	if (t->hour < 0 || t->hour > 23 || t->min < 0 || t->min > 59 ||
	    t->sec < 0 || t->sec > 60)
		return -EINVAL;
	if (t->off_min <= -24 * 60 || t->off_min >= 24 * 60)
		return -EINVAL;
	if (t->sec == 60)
		t->sec = 59;
	days = days_from_civil(t->year, t->month, t->day);
	secs = days * 86400 + t->hour * 3600 + t->min * 60 + t->sec -
		(int64_t)t->off_min * 60;
	/* Floor division for dates before 1970. */
	days = secs / 86400;
	secs %= 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (y < 1 || y > 9999)
		return -EINVAL;
	put_digits(out, (int)y, 4);
	out[4] = '-';
	put_digits(out + 5, m, 2);
	out[7] = '-';
	put_digits(out + 8, d, 2);
	out[10] = 'T';
	put_digits(out + 11, (int)(secs / 3600), 2);
	out[13] = ':';
	put_digits(out + 14, (int)(secs / 60 % 60), 2);
	out[16] = ':';
	put_digits(out + 17, (int)(secs % 60), 2);
	out[19] = 'Z';
	out[20] = '\0';
	return 0;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
		c == '\v';
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Read between min and max digits at *p; -1 when there are fewer. */
static int
digits(const char **p, const char *end, int min, int max)
{
	const char *s = *p;
	int v = 0, n = 0;

	while (s < end && n < max && is_digit(*s)) {
		v = v * 10 + (*s - '0');
		s++;
		n++;
	}
	if (n < min)
		return -1;
	*p = s;
	return v;
}

static int
count_digits(const char *s, const char *end)
{
	int n = 0;
	while (s + n < end && is_digit(s[n]))
		n++;
	return n;
}

/* ---- zones ---------------------------------------------------------- */

struct zone {
	const char *name;
	int off_min;
};

/* US zones as RFC 822 and feeds use them; common European and Asian
 * abbreviations. Ambiguous ones follow what feeds mean most often. */
static const struct zone zones[] = {
	{ "ut", 0 }, { "utc", 0 }, { "gmt", 0 }, { "z", 0 }, { "uct", 0 },
	{ "wet", 0 }, { "west", 60 }, { "bst", 60 }, { "ist", 330 },
	{ "cet", 60 }, { "cest", 120 }, { "met", 60 }, { "mest", 120 },
	{ "mez", 60 }, { "mesz", 120 }, { "eet", 120 }, { "eest", 180 },
	{ "msk", 180 }, { "jst", 540 }, { "kst", 540 }, { "hkt", 480 },
	{ "sgt", 480 }, { "awst", 480 }, { "acst", 570 }, { "acdt", 630 },
	{ "aest", 600 }, { "aedt", 660 }, { "nzst", 720 }, { "nzdt", 780 },
	{ "nst", -210 }, { "ndt", -150 },
	{ "adt", -180 }, { "ast", -240 }, { "at", -240 },
	{ "edt", -240 }, { "est", -300 }, { "et", -300 },
	{ "cdt", -300 }, { "cst", -360 }, { "ct", -360 },
	{ "mdt", -360 }, { "mst", -420 }, { "mt", -420 },
	{ "pdt", -420 }, { "pst", -480 }, { "pt", -480 },
	{ "akdt", -480 }, { "akst", -540 }, { "hst", -600 },
};

/* Numeric offset after the sign: H, HH, HMM, HHMM, H:MM, HH:MM. */
static int
zone_numeric(const char *s, const char *end, int *off)
{
	int sign = *s == '-' ? -1 : 1, h, m = 0;
	const char *p = s + 1;
	int n = count_digits(p, end);

	if (n == 0 || n > 4)
		return -EINVAL;
	if (n <= 2 && p + n < end && p[n] == ':') {
		h = digits(&p, end, n, n);
		p++;
		if (count_digits(p, end) != 2)
			return -EINVAL;
		m = digits(&p, end, 2, 2);
	} else if (n <= 2) {
		h = digits(&p, end, n, n);
	} else {
		h = digits(&p, end, n - 2, n - 2);
		m = digits(&p, end, 2, 2);
	}
	if (p != end || h > 23 || m > 59)
		return -EINVAL;
	*off = sign * (h * 60 + m);
	return 0;
}

/* A zone token (already lower-cased). Returns 0, or -EINVAL when the token
 * is a malformed zone, or 1 when it is no zone at all. */
static int
zone_parse(const char *s, const char *end, int *off)
{
	size_t n;

	if (s >= end)
		return 1;
	if (end - s > 4 && memcmp(s, "etc/", 4) == 0)
		s += 4;
	if (*s == '+' || *s == '-')
		return zone_numeric(s, end, off);
	/* GMT+hh:mm, UTC-5 */
	if (end - s > 3 && (memcmp(s, "gmt", 3) == 0 || memcmp(s, "utc", 3) == 0) &&
	    (s[3] == '+' || s[3] == '-'))
		return zone_numeric(s + 3, end, off);
	n = (size_t)(end - s);
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		if (strlen(zones[i].name) == n && memcmp(zones[i].name, s, n) == 0) {
			*off = zones[i].off_min;
			return 0;
		}
	}
	/* Military single letters, with feedparser's signs (A = -1 ...). */
	if (n == 1 && *s >= 'a' && *s <= 'y' && *s != 'j') {
		char c = *s;
		if (c <= 'i')
			*off = -(c - 'a' + 1) * 60;
		else if (c <= 'm')
			*off = -(c - 'a') * 60;
		else
			*off = (c - 'n' + 1) * 60;
		return 0;
	}
	/* Any other zone name: unknown offset, read as UTC. */
	for (const char *p = s; p < end; p++) {
		if (!((*p >= 'a' && *p <= 'z') || *p == '/' || *p == '_'))
			return 1;
	}
	*off = 0;
	return 0;
}

/* ---- month and day names ------------------------------------------- */

static const char *const months_en[] = { "jan", "feb", "mar", "apr", "may",
	"jun", "jul", "aug", "sep", "oct", "nov", "dec" };
static const char *const days_en[] = { "mon", "tue", "wed", "thu", "fri",
	"sat", "sun" };

struct name {
	const char *s;
	int v;
};

/* Greek (as in Python feedparser, UTF-8) */
static const struct name months_el[] = {
	{ "Ιαν", 1 }, { "Φεβ", 2 }, { "Μάώ", 3 }, { "Μαώ", 3 }, { "Απρ", 4 },
	{ "Μάι", 5 }, { "Μαϊ", 5 }, { "Μαι", 5 }, { "Ιούν", 6 }, { "Ιον", 6 },
	{ "Ιούλ", 7 }, { "Ιολ", 7 }, { "Αύγ", 8 }, { "Αυγ", 8 }, { "Σεπ", 9 },
	{ "Οκτ", 10 }, { "Νοέ", 11 }, { "Νοε", 11 }, { "Δεκ", 12 },
};
static const char *const days_el[] = { "Κυρ", "Δευ", "Τρι", "Τετ", "Πεμ",
	"Παρ", "Σαβ" };
/* Hungarian */
static const struct name months_hu[] = {
	{ "január", 1 }, { "február", 2 }, { "február", 2 }, { "március", 3 },
	{ "április", 4 }, { "május", 5 }, { "június", 6 }, { "július", 7 },
	{ "augusztus", 8 }, { "szeptember", 9 }, { "október", 10 },
	{ "november", 11 }, { "december", 12 },
};

static bool
all_alpha(const char *s, const char *end)
{
	if (s >= end)
		return false;
	for (; s < end; s++) {
		if (!(*s >= 'a' && *s <= 'z'))
			return false;
	}
	return true;
}

static int
name_lookup(const struct name *t, size_t n, const char *s, const char *end)
{
	size_t len = (size_t)(end - s);
	for (size_t i = 0; i < n; i++) {
		if (strlen(t[i].s) == len && memcmp(t[i].s, s, len) == 0)
			return t[i].v;
	}
	return 0;
}

/* An English month name (any abbreviation of 3+ letters, lower-cased, a
 * trailing '.' allowed), a Greek or a Hungarian one. Returns 1-12 or 0. */
static int
month_name(const char *s, const char *end)
{
	static const char *const full[] = { "january", "february", "march",
		"april", "may", "june", "july", "august", "september", "october",
		"november", "december" };
	int m;

	if (end > s && end[-1] == '.')
		end--;
	if (all_alpha(s, end) && end - s >= 3) {
		for (int i = 0; i < 12; i++) {
			size_t n = (size_t)(end - s);
			if (memcmp(s, months_en[i], 3) != 0)
				continue;
			/* "sept" is a common abbreviation not a prefix of... it is. */
			if (n <= strlen(full[i]) && memcmp(s, full[i], n) == 0)
				return i + 1;
			return 0;
		}
		return 0;
	}
	m = name_lookup(months_el, sizeof(months_el) / sizeof(months_el[0]), s, end);
	if (!m)
		m = name_lookup(months_hu, sizeof(months_hu) / sizeof(months_hu[0]), s, end);
	return m;
}

static bool
day_name(const char *s, const char *end)
{
	static const char *const full[] = { "monday", "tuesday", "wednesday",
		"thursday", "friday", "saturday", "sunday" };

	if (end > s && end[-1] == '.')
		end--;
	if (all_alpha(s, end) && end - s >= 2) {
		size_t n = (size_t)(end - s);
		for (int i = 0; i < 7; i++) {
			/* "Thu", "Thur", "Thurs", "Tues", "Thursday" */
			if (n >= 3 && memcmp(s, days_en[i], 3) == 0 &&
			    (n <= strlen(full[i]) ? memcmp(s, full[i], n) == 0 :
				false))
				return true;
			if (n == 4 && (memcmp(s, "tues", 4) == 0 || memcmp(s, "thur", 4) == 0))
				return true;
			if (n == 5 && memcmp(s, "thurs", 5) == 0)
				return true;
		}
		return false;
	}
	for (size_t i = 0; i < 7; i++) {
		if ((size_t)(end - s) == strlen(days_el[i]) &&
		    memcmp(s, days_el[i], (size_t)(end - s)) == 0)
			return true;
	}
	return false;
}

/* ---- Korean --------------------------------------------------------- */

#define KO_YEAR "\xEB\x85\x84"  /* 년 */
#define KO_MONTH "\xEC\x9B\x94" /* 월 */
#define KO_DAY "\xEC\x9D\xBC"   /* 일 */
#define KO_AM "\xEC\x98\xA4\xEC\xA0\x84" /* 오전 */
#define KO_PM "\xEC\x98\xA4\xED\x9B\x84" /* 오후 */

static bool
lit(const char **p, const char *end, const char *s)
{
	size_t n = strlen(s);
	if ((size_t)(end - *p) < n || memcmp(*p, s, n) != 0)
		return false;
	*p += n;
	return true;
}

static bool
spaces(const char **p, const char *end)
{
	const char *s = *p;
	while (*p < end && is_space(**p))
		(*p)++;
	return *p > s;
}

/* "H:M:S" with 1-2 digits each (Korean forms) */
static bool
hms(const char **p, const char *end, struct dt *t)
{
	if ((t->hour = digits(p, end, 1, 2)) < 0 || !lit(p, end, ":") ||
	    (t->min = digits(p, end, 1, 2)) < 0 || !lit(p, end, ":") ||
	    (t->sec = digits(p, end, 1, 2)) < 0)
		return false;
	return true;
}

static int
date_korean(const char *s, const char *end, char out[21])
{
	struct dt t = { .off_min = 9 * 60 };
	const char *p = s;

	if ((t.year = digits(&p, end, 4, 4)) < 0)
		return -EINVAL;
	if (lit(&p, end, KO_YEAR)) {
		/* OnBlog: 2004년 05월 28일  01:31:15 */
		if (!spaces(&p, end) || (t.month = digits(&p, end, 1, 2)) < 0 ||
		    !lit(&p, end, KO_MONTH) || !spaces(&p, end) ||
		    (t.day = digits(&p, end, 1, 2)) < 0 || !lit(&p, end, KO_DAY) ||
		    !spaces(&p, end) || !hms(&p, end, &t))
			return -EINVAL;
	} else {
		/* Nate: 2004-05-25 오후 11:23:17 */
		bool pm;
		if (!lit(&p, end, "-") || (t.month = digits(&p, end, 2, 2)) < 0 ||
		    !lit(&p, end, "-") || (t.day = digits(&p, end, 2, 2)) < 0 ||
		    !spaces(&p, end))
			return -EINVAL;
		if (lit(&p, end, KO_PM))
			pm = true;
		else if (lit(&p, end, KO_AM))
			pm = false;
		else
			return -EINVAL;
		if (!spaces(&p, end) || !hms(&p, end, &t) || t.hour > 12)
			return -EINVAL;
		if (pm && t.hour < 12)
			t.hour += 12;
		else if (!pm && t.hour == 12)
			t.hour = 0;
	}
	spaces(&p, end);
	if (p != end)
		return -EINVAL;
	return dt_emit(&t, out);
}

/* ---- W3C-DTF / ISO 8601 -------------------------------------------- */

/* Ordinal day (1-366) of year -> month/day. */
static bool
ordinal(struct dt *t, int yday)
{
	if (yday < 1 || yday > (is_leap(t->year) ? 366 : 365))
		return false;
	t->month = 1;
	while (yday > days_in_month(t->year, t->month)) {
		yday -= days_in_month(t->year, t->month);
		t->month++;
	}
	t->day = yday;
	return true;
}

/* The date part. Returns false when s is no ISO date. *basic tells whether
 * the date had no separators. */
static bool
iso_date(const char **pp, const char *end, struct dt *t, bool *basic)
{
	const char *p = *pp;
	int n;

	t->month = t->day = 1;
	*basic = false;
	if (*p == '-') {
		/* -YYMM or -YY-MM (year and month in this century) */
		p++;
		if (count_digits(p, end) == 4) {
			t->year = 2000 + digits(&p, end, 2, 2);
			t->month = digits(&p, end, 2, 2);
		} else if (count_digits(p, end) == 2 && p + 2 < end && p[2] == '-' &&
			   count_digits(p + 3, end) == 2) {
			t->year = 2000 + digits(&p, end, 2, 2);
			p++;
			t->month = digits(&p, end, 2, 2);
		} else {
			return false;
		}
		*pp = p;
		return true;
	}
	n = count_digits(p, end);
	switch (n) {
	case 2: /* YY-MM-DD */
		if (!(p + 8 <= end && p[2] == '-' && count_digits(p + 3, end) == 2 &&
		      p[5] == '-' && count_digits(p + 6, end) == 2))
			return false;
		t->year = 2000 + digits(&p, end, 2, 2);
		p++;
		t->month = digits(&p, end, 2, 2);
		p++;
		t->day = digits(&p, end, 2, 2);
		break;
	case 6: /* YYMMDD */
		t->year = 2000 + digits(&p, end, 2, 2);
		t->month = digits(&p, end, 2, 2);
		t->day = digits(&p, end, 2, 2);
		*basic = true;
		break;
	case 7: /* YYYYDDD */
		t->year = digits(&p, end, 4, 4);
		if (!ordinal(t, digits(&p, end, 3, 3)))
			return false;
		*basic = true;
		break;
	case 8: /* YYYYMMDD */
		t->year = digits(&p, end, 4, 4);
		t->month = digits(&p, end, 2, 2);
		t->day = digits(&p, end, 2, 2);
		*basic = true;
		break;
	case 4:
		t->year = digits(&p, end, 4, 4);
		if (p >= end || *p != '-')
			break; /* year only */
		p++;
		n = count_digits(p, end);
		if (n == 3 && (p + 3 == end || p[3] != '-')) {
			/* YYYY-DDD */
			if (!ordinal(t, digits(&p, end, 3, 3)))
				return false;
			break;
		}
		if (n >= 1 && n <= 3) {
			/* MM, M, or Google's 0MM */
			if (n == 3 && *p != '0')
				return false;
			t->month = digits(&p, end, n, n);
		} else if (n == 0) {
			/* Hungarian month name */
			const char *q = p;
			while (q < end && *q != '-')
				q++;
			t->month = month_name(p, q);
			if (!t->month || all_alpha(p, q))
				return false; /* English names are not W3C-DTF */
			p = q;
		} else {
			return false;
		}
		if (p < end && *p == '-') {
			p++;
			n = count_digits(p, end);
			if (n < 1 || n > 2)
				return false;
			t->day = digits(&p, end, n, n);
		}
		break;
	default:
		return false;
	}
	*pp = p;
	return true;
}

/* Time: H[H]:MM[:SS[.f]] or HHMM[SS[.f]]; then an optional zone. */
static bool
iso_time(const char **pp, const char *end, struct dt *t)
{
	const char *p = *pp;
	int n = count_digits(p, end);

	if (n >= 1 && n <= 2 && p + n < end && p[n] == ':') {
		t->hour = digits(&p, end, n, n);
		p++;
		if (count_digits(p, end) != 2)
			return false;
		t->min = digits(&p, end, 2, 2);
		if (p < end && *p == ':') {
			p++;
			if (count_digits(p, end) != 2)
				return false;
			t->sec = digits(&p, end, 2, 2);
		}
	} else if (n == 4 || n == 6) {
		t->hour = digits(&p, end, 2, 2);
		t->min = digits(&p, end, 2, 2);
		if (n == 6)
			t->sec = digits(&p, end, 2, 2);
	} else {
		return false;
	}
	if (p < end && (*p == '.' || *p == ',')) {
		p++;
		if (count_digits(p, end) == 0)
			return false;
		p += count_digits(p, end); /* whole seconds only */
	}
	*pp = p;
	return true;
}

static int
date_iso(const char *s, const char *end, char out[21])
{
	struct dt t = { 0 };
	const char *p = s;
	bool basic;
	char zbuf[16];

	if (!iso_date(&p, end, &t, &basic))
		return -EINVAL;
	if (p == end)
		return dt_emit(&t, out);
	/* Date and time are separated by T or by spaces (MSSQL style). */
	if (*p == 'T' || *p == 't') {
		p++;
	} else if (!spaces(&p, end)) {
		return -EINVAL;
	}
	if (!iso_time(&p, end, &t))
		return -EINVAL;
	(void)basic;
	/* Zone: Z, +hh:mm, +hhmm, +hh, optionally after spaces; or a name. */
	spaces(&p, end);
	if (p == end)
		return dt_emit(&t, out);
	size_t zn = (size_t)(end - p);
	if (zn >= sizeof(zbuf))
		return -EINVAL;
	for (size_t i = 0; i < zn; i++)
		zbuf[i] = lower(p[i]);
	if (zone_parse(zbuf, zbuf + zn, &t.off_min) != 0)
		return -EINVAL;
	return dt_emit(&t, out);
}

/* ---- RFC 822 and relatives ------------------------------------------ */

#define MAX_TOKENS 12

struct tok {
	const char *s, *e;
};

static bool
all_digits(const struct tok *k)
{
	if (k->s >= k->e)
		return false;
	for (const char *p = k->s; p < k->e; p++) {
		if (!is_digit(*p))
			return false;
	}
	return true;
}

static int
tok_int(const struct tok *k)
{
	const char *p = k->s;
	return digits(&p, k->e, 1, 4);
}

/* "H:MM[:SS[.f]]" with an optional zone glued on ("10:00:00+0100"). */
static int
rfc_time(const struct tok *k, struct dt *t, bool *have_zone)
{
	const char *p = k->s, *e = k->e;
	int n;

	if ((n = count_digits(p, e)) < 1 || n > 2)
		return -EINVAL;
	t->hour = digits(&p, e, n, n);
	if (!lit(&p, e, ":") || (n = count_digits(p, e)) < 1 || n > 2)
		return -EINVAL;
	t->min = digits(&p, e, n, n);
	if (p < e && *p == ':') {
		p++;
		if ((n = count_digits(p, e)) < 1 || n > 2)
			return -EINVAL;
		t->sec = digits(&p, e, n, n);
		if (p < e && *p == '.') {
			p++;
			if (count_digits(p, e) == 0)
				return -EINVAL;
			p += count_digits(p, e);
		}
	}
	if (p == e)
		return 0;
	if (*p == ':' || is_digit(*p))
		return -EINVAL; /* 1:2:3:4 */
	if (zone_parse(p, e, &t->off_min) != 0)
		return -EINVAL;
	*have_zone = true;
	return 0;
}

static int
date_rfc822(const char *s, const char *end, char out[21])
{
	char buf[128];
	struct tok tk[MAX_TOKENS];
	struct dt t = { 0 };
	size_t n = (size_t)(end - s), nt = 0, i = 0;
	bool have_year = false, have_time = false, have_zone = false;
	int v;

	if (n >= sizeof(buf))
		return -EINVAL;
	for (size_t k = 0; k < n; k++)
		buf[k] = lower(s[k]);
	/* Tokens are separated by whitespace and commas. */
	for (size_t k = 0; k < n;) {
		while (k < n && (is_space(buf[k]) || buf[k] == ','))
			k++;
		if (k == n)
			break;
		if (nt == MAX_TOKENS)
			return -EINVAL;
		tk[nt].s = buf + k;
		while (k < n && !is_space(buf[k]) && buf[k] != ',')
			k++;
		tk[nt].e = buf + k;
		nt++;
	}
	if (nt == 0)
		return -EINVAL;
	if (day_name(tk[0].s, tk[0].e))
		i++;
	if (i >= nt)
		return -EINVAL;

	/* Perforce: 2006/09/15 */
	const char *p = tk[i].s;
	if (count_digits(p, tk[i].e) == 4 && p[4] == '/') {
		t.year = digits(&p, tk[i].e, 4, 4);
		p++;
		if ((t.month = digits(&p, tk[i].e, 1, 2)) < 0 || !lit(&p, tk[i].e, "/") ||
		    (t.day = digits(&p, tk[i].e, 1, 2)) < 0 || p != tk[i].e)
			return -EINVAL;
		have_year = true;
		i++;
	} else {
		/* day month, or month day */
		if (i + 1 >= nt)
			return -EINVAL;
		if (all_digits(&tk[i]) && tk[i].e - tk[i].s <= 2 &&
		    (t.month = month_name(tk[i + 1].s, tk[i + 1].e)) != 0) {
			t.day = tok_int(&tk[i]);
		} else if ((t.month = month_name(tk[i].s, tk[i].e)) != 0 &&
			   all_digits(&tk[i + 1]) && tk[i + 1].e - tk[i + 1].s <= 2) {
			t.day = tok_int(&tk[i + 1]);
		} else {
			return -EINVAL;
		}
		i += 2;
	}
	/* The rest in any order: year, time, am/pm, zone, comments. */
	for (; i < nt; i++) {
		struct tok *k = &tk[i];
		if (all_digits(k) && !have_year) {
			size_t len = (size_t)(k->e - k->s);
			if (len > 4)
				return -EINVAL;
			v = tok_int(k);
			if (len <= 2)
				v += v < 90 ? 2000 : 1900;
			t.year = v;
			have_year = true;
		} else if (!have_time && k->e - k->s >= 3 && is_digit(k->s[0]) &&
			   memchr(k->s, ':', (size_t)(k->e - k->s))) {
			if (rfc_time(k, &t, &have_zone) != 0)
				return -EINVAL;
			have_time = true;
		} else if (have_time && k->e - k->s == 2 &&
			   (memcmp(k->s, "am", 2) == 0 || memcmp(k->s, "pm", 2) == 0)) {
			if (t.hour < 1 || t.hour > 12)
				return -EINVAL;
			if (k->s[0] == 'p' && t.hour < 12)
				t.hour += 12;
			else if (k->s[0] == 'a' && t.hour == 12)
				t.hour = 0;
		} else if (k->s[0] == '(') {
			break; /* a comment: "(PST)" */
		} else if (!have_zone) {
			int rc = zone_parse(k->s, k->e, &t.off_min);
			if (rc != 0)
				return -EINVAL;
			have_zone = true;
		} else if (all_alpha(k->s, k->e)) {
			continue; /* words after the zone */
		} else {
			return -EINVAL;
		}
	}
	if (!have_year)
		return -EINVAL;
	return dt_emit(&t, out);
}

int
parse__date(const char *s, char out[21])
{
	const char *end;
	char tmp[21];
	int rc;

	if (!s)
		return -EINVAL;
	while (is_space(*s))
		s++;
	end = s + strlen(s);
	while (end > s && is_space(end[-1]))
		end--;
	if (end == s || end - s > 100)
		return -EINVAL;
	/* Each reader is strict about its own shape, so the order only
	 * decides which one reads a string; none overlap in what they accept
	 * except where they agree. */
	rc = date_korean(s, end, tmp);
	if (rc != 0)
		rc = date_iso(s, end, tmp);
	if (rc != 0)
		rc = date_rfc822(s, end, tmp);
	if (rc == 0)
		memcpy(out, tmp, 21);
	return rc;
}
