/*
 * parse/'s normalization helpers (parse/norm.h): dates, HTML sanitizing and
 * text rendering, URL resolution and scheme policy, UTF-8.
 */
#include "norm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* ---- dates ------------------------------------------------------------ */

struct date_case {
	const char *in;
	const char *want; /* NULL: must be rejected */
};

static const struct date_case date_cases[] = {
	/* RFC 822 / 1123 */
	{ "Thu, 01 Jan 2004 19:48:21 GMT", "2004-01-01T19:48:21Z" },
	{ "Thu, 01 Jan 04 19:48:21 GMT", "2004-01-01T19:48:21Z" },
	{ "Fri, 01 Jan 99 19:48:21 GMT", "1999-01-01T19:48:21Z" },
	{ "Thu,  5 Apr 2012 10:00:00 GMT", "2012-04-05T10:00:00Z" },
	{ "Thu, 01 Jan 0100 00:00:01 +0100", "0099-12-31T23:00:01Z" },
	{ "Wed, 19 Aug 2009 18:28:00 Etc/GMT", "2009-08-19T18:28:00Z" },
	{ "Wed, 19 Feb 2012 22:40:00 GMT-01:01", "2012-02-19T23:41:00Z" },
	{ "Wed, 19 Feb 2012 22:40:00 -01:01", "2012-02-19T23:41:00Z" },
	{ "Mon, 13 Feb, 2012 06:28:00 UTC", "2012-02-13T06:28:00Z" },
	{ "Fri,24 Nov 2023 18:28:36 -0000", "2023-11-24T18:28:36Z" },
	{ "Thu, 01 Jan 2004 00:00 GMT", "2004-01-01T00:00:00Z" },
	{ "Thu, 01 Jan 2004", "2004-01-01T00:00:00Z" },
	{ "01 Jan 2004 12:00:00 +0530", "2004-01-01T06:30:00Z" },
	{ "Mon, 01 Jan 2004 12:00:00 GMT", "2004-01-01T12:00:00Z" }, /* wrong weekday */
	{ "  Thu,   01   Jan   2004   12:00:00   GMT  ", "2004-01-01T12:00:00Z" },
	{ "Thu, 30 Apr 2015 08:57:00 MET", "2015-04-30T07:57:00Z" },
	{ "Thu, 30 Apr 2015 08:57:00 MEST", "2015-04-30T06:57:00Z" },
	{ "Mon, 26 January 2004 16:31:00 AT", "2004-01-26T20:31:00Z" },
	{ "Mon, 26 January 2004 16:31:00 ET", "2004-01-26T21:31:00Z" },
	{ "Mon, 26 January 2004 16:31:00 EDT", "2004-01-26T20:31:00Z" },
	{ "Mon, 26 January 2004 16:31:00 CT", "2004-01-26T22:31:00Z" },
	{ "Mon, 26 January 2004 16:31:00 MST", "2004-01-26T23:31:00Z" },
	{ "Mon, 26 January 2004 16:31:00 PT", "2004-01-27T00:31:00Z" },
	{ "Mon, 26 Jan 2004 16:31:00 PDT", "2004-01-26T23:31:00Z" },
	{ "Mon, 26 Jan 2004 16:31:00 Z", "2004-01-26T16:31:00Z" },
	{ "Mon, 26 Jan 2004 16:31:00 A", "2004-01-26T17:31:00Z" },  /* military */
	{ "Mon, 26 Jan 2004 16:31:00 N", "2004-01-26T15:31:00Z" },
	{ "Mon, 26 Jan 2004 16:31:00 Y", "2004-01-26T04:31:00Z" },
	{ "Mon, 26 Jan 2004 16:31:00 XYZT", "2004-01-26T16:31:00Z" }, /* unknown zone: UTC */
	{ "Mon, 26 Jan 2004 4:31 PM EST", "2004-01-26T21:31:00Z" },
	{ "Tue, 10 Jun 2003 04:00:00 GMT (Pacific)", "2003-06-10T04:00:00Z" },
	{ "Thu Aug 30 2012 17:26:16 +0200", "2012-08-30T15:26:16Z" },
	{ "Thu Aug 30 2012 17:26:16 GMT+0200 (CEST)", "2012-08-30T15:26:16Z" },
	{ "Sun Jan  4 16:29:06 2004", "2004-01-04T16:29:06Z" }, /* asctime */
	{ "Sun Jul 15 01:16:00 +0000 2012", "2012-07-15T01:16:00Z" },
	{ "Fri, 2006/09/15 08:19:53 EDT", "2006-09-15T12:19:53Z" }, /* Perforce */
	{ "2006/01/01 12:00:00", "2006-01-01T12:00:00Z" },
	{ "\xCE\x9A\xCF\x85\xCF\x81, 11 \xCE\x99\xCE\xBF\xCF\x8D\xCE\xBB 2004 12:00:00 EST",
		"2004-07-11T17:00:00Z" }, /* Greek */
	/* W3C-DTF / ISO 8601 */
	{ "2003-12-31T10:14:55Z", "2003-12-31T10:14:55Z" },
	{ "2003-12-31T10:14:55-08:00", "2003-12-31T18:14:55Z" },
	{ "2003-12-31T18:14:55+08:00", "2003-12-31T10:14:55Z" },
	{ "2007-04-23T23:25:47.538+10:00", "2007-04-23T13:25:47Z" },
	{ "2003-12-31T10:14:55.1234Z", "2003-12-31T10:14:55Z" },
	{ "2003-12-31t10:14:55z", "2003-12-31T10:14:55Z" },
	{ "2003-12-31T10:14Z", "2003-12-31T10:14:00Z" },
	{ "2003-12-31T10:14:55+0100", "2003-12-31T09:14:55Z" },
	{ "2003-12-31T10:14:55+01", "2003-12-31T09:14:55Z" },
	{ "2003-12-31T10:14:55", "2003-12-31T10:14:55Z" }, /* no zone = UTC */
	{ "2003-12-31", "2003-12-31T00:00:00Z" },
	{ "2003-12", "2003-12-01T00:00:00Z" },
	{ "2003", "2003-01-01T00:00:00Z" },
	{ "2004-07-08 23:56:58", "2004-07-08T23:56:58Z" },
	{ "2004-07-08 23:56:58.0", "2004-07-08T23:56:58Z" },
	{ "2004-07-08 23:56:58 -00:20", "2004-07-09T00:16:58Z" },
	{ "2004-07-08 23:56:58 EST", "2004-07-09T04:56:58Z" },
	{ "2004-02-28T18:14:55-08:00", "2004-02-29T02:14:55Z" },
	{ "2003-02-28T18:14:55-08:00", "2003-03-01T02:14:55Z" },
	{ "2000-02-28T18:14:55-08:00", "2000-02-29T02:14:55Z" },
	{ "1900-02-28T23:00:00-02:00", "1900-03-01T01:00:00Z" },
	{ "1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z" },
	{ "2016-12-31T23:59:60Z", "2016-12-31T23:59:59Z" }, /* leap second */
	{ "20040105", "2004-01-05T00:00:00Z" },                /* basic */
	{ "20040105T101010Z", "2004-01-05T10:10:10Z" },
	{ "20040105T1010+0100", "2004-01-05T09:10:00Z" },
	{ "2004-335", "2004-11-30T00:00:00Z" },                /* ordinal */
	{ "2004335", "2004-11-30T00:00:00Z" },
	{ "2003-012-31T10:14:55+00:00", "2003-12-31T10:14:55Z" },
	{ "031231", "2003-12-31T00:00:00Z" },
	{ "03-12-31", "2003-12-31T00:00:00Z" },
	{ "-0312", "2003-12-01T00:00:00Z" },
	{ "-03-12", "2003-12-01T00:00:00Z" },
	{ "2004-j\xC3\xBAlius-13T9:15-05:00", "2004-07-13T14:15:00Z" }, /* Hungarian */
	/* Korean */
	{ "2004-05-25 \xEC\x98\xA4\xED\x9B\x84 11:23:17", "2004-05-25T14:23:17Z" },
	{ "2004-05-25 \xEC\x98\xA4\xEC\xA0\x84 12:23:17", "2004-05-24T15:23:17Z" },
	{ "2004\xEB\x85\x84 05\xEC\x9B\x94 28\xEC\x9D\xBC  01:31:15", "2004-05-27T16:31:15Z" },
	/* rejected: absent, never 1970 and never now */
	{ "", NULL },
	{ "   ", NULL },
	{ "not a date", NULL },
	{ "2003-12-31T25:14:55Z", NULL },
	{ "2003-12-31T24:00:00Z", NULL },
	{ "2003-12-31T10:61:55Z", NULL },
	{ "2003-12-31T10:14:61Z", NULL },
	{ "2003-13-01", NULL },
	{ "2003-00-01", NULL },
	{ "2003-02-29", NULL },
	{ "2003-04-31", NULL },
	{ "2013-xx-27", NULL },
	{ "2013-01-28T09:xx:00Z", NULL },
	{ "2013-01-28T09:00:00+00:xx", NULL },
	{ "2013-01-27-01", NULL },
	{ "2013-01-28T11:30:00-06:00Textra", NULL },
	{ "9999-12-31T23:59:59-99:99", NULL },
	{ "9999-12-31T23:59:59-01:00", NULL }, /* year 10000 */
	{ "0001-01-01T00:00:00+01:00", NULL }, /* year 0 */
	{ "0000-06-01", NULL },
	{ "22013", NULL },
	{ "013", NULL },
	{ "--12-25", NULL },
	{ "-335", NULL },
	{ "Sun, 16 Dec 2012 1:2:3:4 GMT", NULL },
	{ "Sun, 16 zzz 2012 11:47:32 GMT", NULL },
	{ "Sun, Dec x 2012 11:47:32 GMT", NULL },
	{ "Sun, 16 Dec zz 11:47:32 GMT", NULL },
	{ "Sun, 16 Dec 2012 11:47:32 +zz:00", NULL },
	{ "Sun, 16 Dec 2012 11:47:32 +00:zz", NULL },
	{ "Sun, 99 Jun 2009 12:00:00 GMT", NULL },
	{ "Sun, 31 Dec 9999 23:59:59 -9999", NULL },
	{ "Sun, 16 Dec 2012 11:47:32 +2500", NULL },
	{ "Sun, 16 Dec", NULL },
	{ "12/25/2004", NULL }, /* ambiguous: US or European? */
	{ "1104567890", NULL }, /* a Unix time is no date string */
};

static void
t_dates(void)
{
	for (size_t i = 0; i < sizeof(date_cases) / sizeof(date_cases[0]); i++) {
		const struct date_case *c = &date_cases[i];
		char out[21] = "untouched";
		int rc = parse__date(c->in, out);
		if (c->want) {
			if (rc != 0)
				CHECK_FAIL_("date \"%s\": rejected, want %s", c->in, c->want);
			else
				CHECK_STR_EQ(out, c->want);
		} else {
			if (rc != -EINVAL)
				CHECK_FAIL_("date \"%s\": accepted as %s", c->in, out);
			CHECK_STR_EQ(out, "untouched");
		}
	}
	char out[21];
	CHECK_INT_EQ(parse__date(NULL, out), -EINVAL);
}

/* Every output reads back as itself. */
static void
t_dates_roundtrip(void)
{
	for (size_t i = 0; i < sizeof(date_cases) / sizeof(date_cases[0]); i++) {
		char a[21], b[21];
		if (!date_cases[i].want || parse__date(date_cases[i].in, a) != 0)
			continue;
		REQUIRE(parse__date(a, b) == 0);
		CHECK_STR_EQ(a, b);
	}
}

/* ---- sanitizer -------------------------------------------------------- */

struct html_case {
	const char *in;
	const char *want;
};

#define BASE "http://example.com/dir/page.html"

static const struct html_case sanitize_cases[] = {
	/* kept */
	{ "plain text", "plain text" },
	{ "a & b < c", "a &amp; b &lt; c" },
	{ "<p>Hello <b>bold</b> <i>it</i></p>", "<p>Hello <b>bold</b> <i>it</i></p>" },
	{ "<P CLASS=x>Up</P>", "<p class=\"x\">Up</p>" },
	{ "line<br>break<hr>", "line<br />break<hr />" },
	{ "<span accept-charset=\"\">z</span>", "<span accept-charset=\"\">z</span>" },
	{ "<img src=\"a.png\" alt='x \"y\"'>", "<img src=\"http://example.com/dir/a.png\" alt=\"x &quot;y&quot;\" />" },
	{ "<a href=\"../up?q=1#f\" title=t>x</a>", "<a href=\"http://example.com/up?q=1#f\" title=\"t\">x</a>" },
	{ "<a href=\"mailto:me@example.com\">m</a>", "<a href=\"mailto:me@example.com\">m</a>" },
	{ "<blockquote cite=\"/src\">q</blockquote>", "<blockquote cite=\"http://example.com/src\">q</blockquote>" },
	{ "<video src=v.mp4 poster=p.jpg controls></video>", "<video src=\"http://example.com/dir/v.mp4\" poster=\"http://example.com/dir/p.jpg\" controls=\"\"></video>" },
	{ "&eacute;&nbsp;&#233;&#x263A;", "\xC3\xA9\xC2\xA0\xC3\xA9\xE2\x98\xBA" },
	{ "&bogus; &amp;", "&amp;bogus; &amp;" },
	{ "<p>unclosed <b>bold", "<p>unclosed <b>bold</b></p>" },
	{ "<b><i>mis</b>nested</i>", "<b><i>mis</i></b>nested" },
	/* implied end tags across a dropped element, as a reader would imply */
	{ "<p>para<foo><div>block</div></foo>after</p>", "<p>para</p><div>block</div>after" },
	{ "<a href=\"http://x/\">one<foo><a href=\"http://y/\">two</a></foo></a>",
		"<a href=\"http://x/\">one</a><a href=\"http://y/\">two</a>" },
	{ "<ul><li>a<foo><li>b</foo></ul>", "<ul><li>a</li><li>b</li></ul>" },
	/* dropped with content */
	{ "safe<script>alert(1)</script> description", "safe description" },
	{ "safe<script type=\"text/javascript\">if (a<b) x()</script> description", "safe description" },
	{ "safe<style>body{display:none}</style> description", "safe description" },
	{ "<![CDATA[<script></script>]]>", "&lt;![CDATA[]]&gt;" },
	/* tags dropped, text kept */
	{ "safe<iframe src=\"http://example.com/\"/> description", "safe description" },
	{ "safe<object classid=\"clsid:x\"> description", "safe description" },
	{ "safe<embed src=\"http://example.com/\"> description", "safe description" },
	{ "safe<applet code=\"foo.class\"></applet> <b>description</b>", "safe <b>description</b>" },
	{ "safe<frameset rows=\"*\"><frame src=\"http://example.com/\"></frameset> description", "safe description" },
	{ "safe<meta http-equiv=\"refresh\" content=\"0\"> description", "safe description" },
	{ "safe<link rel=\"stylesheet\" href=\"http://example.com/evil.css\"> description", "safe description" },
	{ "<blink>safe</blink> description", "safe description" },
	{ "<form action=\"/x\"><input name=q><button>Go</button><select><option>o</option></select><textarea>t</textarea></form>", "Goot" },
	{ "<html><head><title>T</title></head><body onload=\"x()\">B</body></html>", "TB" },
	{ "a<!-- comment <script> -->b", "ab" },
	{ "safe<!--", "safe" },
	{ " <!DOCTYPE ", "&lt;!DOCTYPE" },
	{ "a<!DOCTYPE html>b", "ab" },
	/* attributes */
	{ "<a href=\"http://x/\" onclick=\"evil()\" onmouseover=\"e\">x</a>", "<a href=\"http://x/\">x</a>" },
	{ "<img src=\"http://x/i\" onerror=\"e()\" notrealattribute=\"v\">", "<img src=\"http://x/i\" />" },
	{ "<a href=\"javascript:alert(1)\">safe</a>", "<a>safe</a>" },
	{ "<a href=\" JaVaScRiPt:alert(1)\">safe</a>", "<a>safe</a>" },
	{ "<a href=\"java&#x0A;script:alert(1)\">safe</a>", "<a>safe</a>" },
	{ "<a href=\"vbscript:x\">v</a>", "<a>v</a>" },
	{ "<a href=\"data:text/html,<script>x</script>\">d</a>", "<a>d</a>" },
	{ "<img src=\"data:image/png;base64,AAAA\">", "<img />" },
	{ "<a href=\"file:///etc/passwd\">f</a>", "<a>f</a>" },
	{ "<div background=\"javascript:x\" lowsrc=\"about:blank\">d</div>", "<div>d</div>" },
	/* CSS */
	{ "<span style=\"color: red\">x</span>", "<span style=\"color: red;\">x</span>" },
	{ "<span style=\"TEXT-INDENT: 0.5in;\">x</span>", "<span style=\"TEXT-INDENT: 0.5in;\">x</span>" },
	{ "<span style=\"background-color: #000; background-image: url(/i.jpg); background-repeat: no-repeat;\">x</span>", "<span style=\"background-color: #000;\">x</span>" },
	{ "<span style=\"border: 1px solid rgb(0, 0, 0);\">x</span>", "<span style=\"border: 1px solid rgb(0, 0, 0);\">x</span>" },
	{ "<span style=\"margin: 0px !important;\">x</span>", "<span style=\"margin: 0px !important;\">x</span>" },
	{ "<span style=\"padding: 99999em;\">x</span>", "<span>x</span>" },
	{ "<span style=\"display:block; position:absolute; z-index:1; color:teal\">x</span>", "<span style=\"display: block; color: teal;\">x</span>" },
	{ "<span style=\"width: expression(alert(1))\">x</span>", "<span>x</span>" },
	{ "<span style=\"-moz-binding: url(x.xml#y); color: red\">x</span>", "<span>x</span>" },
	{ "<span style=\"color: red; mso-list: l0 level1 lfo1\">x</span>", "<span style=\"color: red;\">x</span>" },
	{ "<span style=\"font-family: 'Lucida Console';\">x</span>", "<span style=\"font-family: 'Lucida Console';\">x</span>" },
	/* SVG and MathML */
	{ "<svg viewBox=\"0 0 1 1\"><circle cx=\"1\" onload=\"e()\"/></svg>", "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1 1\"><circle cx=\"1\"></circle></svg>" },
	{ "<svg><a xlink:href=\"javascript:x\"><animate attributeName=\"href\" values=\"javascript:alert(1)\"/><text>t</text></a></svg>", "<svg xmlns=\"http://www.w3.org/2000/svg\"><a><text>t</text></a></svg>" },
	{ "<math><mi>a</mi><script>x</script></math>", "<math xmlns=\"http://www.w3.org/1998/Math/MathML\"><mi>a</mi></math>" },
	/* invalid UTF-8 in, valid out */
	{ "<b>caf\xE9</b>", "<b>caf\xEF\xBF\xBD</b>" },
	{ "caf\xC0\xAF", "caf\xEF\xBF\xBD\xEF\xBF\xBD" },
	{ "<meta charset=\"iso-8859-1\">caf\xC3\xA9", "caf\xC3\xA9" },
};

static void
t_sanitize(void)
{
	for (size_t i = 0; i < sizeof(sanitize_cases) / sizeof(sanitize_cases[0]); i++) {
		const struct html_case *c = &sanitize_cases[i];
		char *got = parse__html_sanitize(c->in, strlen(c->in), BASE);
		REQUIRE(got);
		if (strcmp(got, c->want) != 0)
			CHECK_FAIL_("sanitize \"%s\":\n  got  \"%s\"\n  want \"%s\"", c->in, got, c->want);
		CHECK(parse__utf8_valid(got, strlen(got)));
		/* Sanitized output passes through unchanged. */
		char *again = parse__html_sanitize(got, strlen(got), BASE);
		REQUIRE(again);
		if (strcmp(got, again) != 0)
			CHECK_FAIL_("sanitize twice \"%s\":\n  once  \"%s\"\n  twice \"%s\"",
				c->in, got, again);
		free(again);
		free(got);
	}
}

static void
t_sanitize_nobase(void)
{
	char *got = parse__html_sanitize("<a href=\"/rel\">x</a>", 20, NULL);
	CHECK_STR_EQ(got, "<a href=\"/rel\">x</a>");
	free(got);
	got = parse__html_sanitize(NULL, 0, NULL);
	CHECK_STR_EQ(got, "");
	free(got);
	/* A length shorter than the string: only those bytes count. */
	got = parse__html_sanitize("<b>ab</b>cd", 8, NULL);
	CHECK_STR_EQ(got, "<b>ab</b>");
	free(got);
}

/* Nesting far beyond any real document: output stays bounded and closed. */
static void
t_sanitize_deep(void)
{
	size_t n = 20000;
	char *in = malloc(n * 5 + 2);
	REQUIRE(in);
	for (size_t i = 0; i < n; i++)
		memcpy(in + i * 5, "<div>", 5);
	strcpy(in + n * 5, "x");
	char *got = parse__html_sanitize(in, strlen(in), NULL);
	REQUIRE(got);
	size_t open = 0, close = 0;
	for (const char *p = got; (p = strstr(p, "<div>")); p++)
		open++;
	for (const char *p = got; (p = strstr(p, "</div>")); p++)
		close++;
	CHECK_INT_EQ(open, close);
	CHECK(open <= 256);
	CHECK(strchr(got, 'x') != NULL);
	free(got);
	free(in);
}

/* One parse for both renderings gives what the two calls give. */
static void
t_render(void)
{
	static const char *const in[] = { "plain", "<p>a <b>b</b></p><ul><li>x</ul>",
		"safe<script>x</script> <a href=\"/r\" onclick=\"e\">l</a>", "", "a &amp; b" };
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		char *s = NULL, *t = NULL;
		REQUIRE(parse__html_render(in[i], strlen(in[i]), BASE, &s, &t) == 0);
		char *s1 = parse__html_sanitize(in[i], strlen(in[i]), BASE);
		char *t1 = parse__html_to_text(in[i], strlen(in[i]));
		CHECK_STR_EQ(s, s1);
		CHECK_STR_EQ(t, t1);
		free(s);
		free(t);
		free(s1);
		free(t1);
	}
}

/* ---- text ------------------------------------------------------------- */

static const struct html_case text_cases[] = {
	{ "plain   text\n\twith  spaces ", "plain text with spaces" },
	{ "<p>One.</p><p>Two.</p>", "One.\n\nTwo." },
	{ "<div>a</div>\n\n\n<div>b</div>", "a\n\nb" },
	{ "line<br>next<br/>third", "line\nnext\nthird" },
	{ "a<br><br><br><br>b", "a\n\nb" },
	{ "<h1>Head</h1>Body <b>bold</b> text", "Head\n\nBody bold text" },
	{ "<ul><li>one</li><li>two</li></ul>after", "- one\n- two\n\nafter" },
	{ "<ol><li>a<li>b</ol>", "1. a\n2. b" },
	{ "<ol start=\"5\"><li>a<li>b</ol>", "5. a\n6. b" },
	{ "<ul><li>x<ul><li>y</li></ul></li><li>z</li></ul>", "- x\n  - y\n- z" },
	{ "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc" },
	{ "Fish &amp; chips &eacute;&#233; &lt;tag&gt;", "Fish & chips \xC3\xA9\xC3\xA9 <tag>" },
	{ "a&nbsp;&nbsp;&nbsp;b", "a b" },
	{ "x<script>alert(1)</script>y<style>p{}</style>z", "xyz" },
	{ "<pre>a  b\nc</pre>", "a  b\nc" },
	{ "<p>  </p><p>x</p>", "x" },
	{ "", "" },
};

static void
t_text(void)
{
	for (size_t i = 0; i < sizeof(text_cases) / sizeof(text_cases[0]); i++) {
		const struct html_case *c = &text_cases[i];
		char *got = parse__html_to_text(c->in, strlen(c->in));
		REQUIRE(got);
		if (strcmp(got, c->want) != 0)
			CHECK_FAIL_("to_text \"%s\":\n  got  \"%s\"\n  want \"%s\"", c->in, got, c->want);
		free(got);
	}
}

static const struct html_case strip_cases[] = {
	{ "<p>One</p><p>Two<br>three</p>", "One Two three" },
	{ "safe<script>location.href='x'</script> description", "safe description" },
	{ "<a href=\"javascript:alert(1)\">safe</a>", "safe" },
	{ "safe&lt;!--", "safe<!--" },
	{ "safe<!--", "safe" },
	{ "  AT&amp;T  &eacute; ", "AT&T \xC3\xA9" },
	{ "a<br>b", "a b" },
};

static void
t_strip(void)
{
	for (size_t i = 0; i < sizeof(strip_cases) / sizeof(strip_cases[0]); i++) {
		const struct html_case *c = &strip_cases[i];
		char *got = parse__html_strip(c->in, strlen(c->in));
		REQUIRE(got);
		if (strcmp(got, c->want) != 0)
			CHECK_FAIL_("strip \"%s\":\n  got  \"%s\"\n  want \"%s\"", c->in, got, c->want);
		free(got);
	}
}

static void
t_escape(void)
{
	char *got = parse__html_escape("<a href=\"x\">&amp;</a>", 21);
	CHECK_STR_EQ(got, "&lt;a href=&quot;x&quot;&gt;&amp;amp;&lt;/a&gt;");
	free(got);
	got = parse__html_escape("bad\xFF", 4);
	CHECK_STR_EQ(got, "bad\xEF\xBF\xBD");
	free(got);
}

/* ---- URLs ------------------------------------------------------------- */

struct url_case {
	const char *base, *ref, *want; /* want NULL: refused (EPERM) */
};

static const struct url_case url_cases[] = {
	/* RFC 3986 5.4.1 normal examples */
	{ "http://a/b/c/d;p?q", "g:h", NULL }, /* unknown scheme: refused */
	{ "http://a/b/c/d;p?q", "g", "http://a/b/c/g" },
	{ "http://a/b/c/d;p?q", "./g", "http://a/b/c/g" },
	{ "http://a/b/c/d;p?q", "g/", "http://a/b/c/g/" },
	{ "http://a/b/c/d;p?q", "/g", "http://a/g" },
	{ "http://a/b/c/d;p?q", "//g", "http://g" },
	{ "http://a/b/c/d;p?q", "?y", "http://a/b/c/d;p?y" },
	{ "http://a/b/c/d;p?q", "g?y", "http://a/b/c/g?y" },
	{ "http://a/b/c/d;p?q", "#s", "http://a/b/c/d;p?q#s" },
	{ "http://a/b/c/d;p?q", "g#s", "http://a/b/c/g#s" },
	{ "http://a/b/c/d;p?q", "g?y#s", "http://a/b/c/g?y#s" },
	{ "http://a/b/c/d;p?q", ";x", "http://a/b/c/;x" },
	{ "http://a/b/c/d;p?q", "g;x", "http://a/b/c/g;x" },
	{ "http://a/b/c/d;p?q", "g;x?y#s", "http://a/b/c/g;x?y#s" },
	{ "http://a/b/c/d;p?q", "", "http://a/b/c/d;p?q" },
	{ "http://a/b/c/d;p?q", ".", "http://a/b/c/" },
	{ "http://a/b/c/d;p?q", "./", "http://a/b/c/" },
	{ "http://a/b/c/d;p?q", "..", "http://a/b/" },
	{ "http://a/b/c/d;p?q", "../", "http://a/b/" },
	{ "http://a/b/c/d;p?q", "../g", "http://a/b/g" },
	{ "http://a/b/c/d;p?q", "../..", "http://a/" },
	{ "http://a/b/c/d;p?q", "../../", "http://a/" },
	{ "http://a/b/c/d;p?q", "../../g", "http://a/g" },
	/* 5.4.2 abnormal examples */
	{ "http://a/b/c/d;p?q", "../../../g", "http://a/g" },
	{ "http://a/b/c/d;p?q", "../../../../g", "http://a/g" },
	{ "http://a/b/c/d;p?q", "/./g", "http://a/g" },
	{ "http://a/b/c/d;p?q", "/../g", "http://a/g" },
	{ "http://a/b/c/d;p?q", "g.", "http://a/b/c/g." },
	{ "http://a/b/c/d;p?q", ".g", "http://a/b/c/.g" },
	{ "http://a/b/c/d;p?q", "g..", "http://a/b/c/g.." },
	{ "http://a/b/c/d;p?q", "..g", "http://a/b/c/..g" },
	{ "http://a/b/c/d;p?q", "./../g", "http://a/b/g" },
	{ "http://a/b/c/d;p?q", "./g/.", "http://a/b/c/g/" },
	{ "http://a/b/c/d;p?q", "g/./h", "http://a/b/c/g/h" },
	{ "http://a/b/c/d;p?q", "g/../h", "http://a/b/c/h" },
	{ "http://a/b/c/d;p?q", "g;x=1/./y", "http://a/b/c/g;x=1/y" },
	{ "http://a/b/c/d;p?q", "g;x=1/../y", "http://a/b/c/y" },
	{ "http://a/b/c/d;p?q", "g?y/./x", "http://a/b/c/g?y/./x" },
	{ "http://a/b/c/d;p?q", "g?y/../x", "http://a/b/c/g?y/../x" },
	{ "http://a/b/c/d;p?q", "g#s/./x", "http://a/b/c/g#s/./x" },
	{ "http://a/b/c/d;p?q", "g#s/../x", "http://a/b/c/g#s/../x" },
	{ "http://a/b/c/d;p?q", "http:g", "http:g" }, /* strict parser */
	/* feeds */
	{ "http://example.com", "x", "http://example.com/x" },
	{ "HTTP://Example.com/a/", "b", "http://Example.com/a/b" },
	{ "http://example.com/a/", "  https://other.org/x \n", "https://other.org/x" },
	{ "http://example.com/a/", "//cdn.example.net/i.png", "http://cdn.example.net/i.png" },
	{ "/relative/base/", "x", "/relative/base/x" },
	{ "relative/base", "x", "relative/x" },
	{ NULL, "/relative/link", "/relative/link" },
	{ "", " x ", "x" },
	{ NULL, NULL, "" },
	{ "http://example.com/", "mailto:me@example.com", "mailto:me@example.com" },
	{ "http://example.com/", "magnet:?xt=urn:btih:x", "magnet:?xt=urn:btih:x" },
	{ "http://example.com/", "tel:+123", "tel:+123" },
	{ "http://example.com/", "irc://irc.example.net/c", "irc://irc.example.net/c" },
	{ "http://example.com/", "ftp://f.example.com/x", "ftp://f.example.com/x" },
	{ "http://example.com/", "a b.html", "http://example.com/a b.html" },
	/* refused */
	{ "http://example.com/", "javascript:alert(1)", NULL },
	{ "http://example.com/", "JavaScript:alert(1)", NULL },
	{ "http://example.com/", "java\nscript:alert(1)", NULL },
	{ "http://example.com/", "\x01javascript:alert(1)", NULL },
	{ "http://example.com/", "vbscript:x", NULL },
	{ "http://example.com/", "data:text/html,x", NULL },
	{ "http://example.com/", "file:///etc/passwd", NULL },
	{ "http://example.com/", "about:blank", NULL },
	{ NULL, "javascript:x", NULL },
	{ "javascript:alert(1)//", "x", NULL },
	{ "data:text/html,", "x", NULL },
};

static void
t_url_resolve(void)
{
	for (size_t i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++) {
		const struct url_case *c = &url_cases[i];
		errno = 0;
		char *got = parse__url_resolve(c->base, c->ref);
		if (c->want) {
			if (!got)
				CHECK_FAIL_("resolve(%s, %s): NULL, want %s", c->base ? c->base : "NULL",
					c->ref ? c->ref : "NULL", c->want);
			else if (strcmp(got, c->want) != 0)
				CHECK_FAIL_("resolve(%s, %s): %s, want %s", c->base ? c->base : "NULL",
					c->ref ? c->ref : "NULL", got, c->want);
		} else {
			if (got)
				CHECK_FAIL_("resolve(%s, %s): %s, want refusal", c->base ? c->base : "NULL",
					c->ref, got);
			else
				CHECK_INT_EQ(errno, EPERM);
		}
		free(got);
	}
}

static void
t_url_safe(void)
{
	CHECK(parse__url_safe("http://x/"));
	CHECK(parse__url_safe("HTTPS://x/"));
	CHECK(parse__url_safe("/relative"));
	CHECK(parse__url_safe("rel:ative/../x") == false); /* "rel" is a scheme */
	CHECK(parse__url_safe("./rel:ative"));
	CHECK(parse__url_safe("mailto:x@y"));
	CHECK(parse__url_safe("news:comp.lang.c"));
	CHECK(parse__url_safe("xmpp:x@y"));
	CHECK(parse__url_safe(""));
	CHECK(parse__url_safe(NULL));
	CHECK(!parse__url_safe("javascript:x"));
	CHECK(!parse__url_safe(" \tjavascript:x"));
	CHECK(!parse__url_safe("jav\tascript:x"));
	CHECK(!parse__url_safe("vbscript:x"));
	CHECK(!parse__url_safe("data:x"));
	CHECK(!parse__url_safe("file:x"));
	CHECK(!parse__url_safe("about:blank"));
	CHECK(!parse__url_safe("blob:x"));
	CHECK(!parse__url_safe("view-source:http://x"));
}

/* ---- UTF-8 ------------------------------------------------------------ */

struct utf8_case {
	const char *in;
	size_t len;
	bool valid;
	const char *fixed;
};

#define U(s, v, f) { s, sizeof(s) - 1, v, f }
static const struct utf8_case utf8_cases[] = {
	U("", true, ""),
	U("ascii", true, "ascii"),
	U("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", true, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
	U("\xEF\xBF\xBF", true, "\xEF\xBF\xBF"),     /* U+FFFF is a scalar value */
	U("\xF4\x8F\xBF\xBF", true, "\xF4\x8F\xBF\xBF"), /* U+10FFFF */
	U("caf\xE9", false, "caf\xEF\xBF\xBD"),      /* Latin-1 */
	U("\xC0\xAF", false, "\xEF\xBF\xBD\xEF\xBF\xBD"), /* overlong '/' */
	U("\xE0\x80\xAF", false, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"),
	U("\xF0\x80\x80\xAF", false, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"),
	U("\xED\xA0\x80", false, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"), /* surrogate */
	U("\xF4\x90\x80\x80", false, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"),
	U("\xF5\x80", false, "\xEF\xBF\xBD\xEF\xBF\xBD"),
	U("a\xC3", false, "a\xEF\xBF\xBD"),          /* truncated */
	U("\xE2\x82", false, "\xEF\xBF\xBD\xEF\xBF\xBD"),
	U("\x80x", false, "\xEF\xBF\xBDx"),          /* stray continuation */
	U("a\0b", true, "a"),                         /* NUL is valid; C string ends */
};

static void
t_utf8(void)
{
	for (size_t i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]); i++) {
		const struct utf8_case *c = &utf8_cases[i];
		CHECK_INT_EQ(parse__utf8_valid(c->in, c->len), c->valid);
		char *f = parse__utf8_fix(c->in, c->len);
		REQUIRE(f);
		CHECK_STR_EQ(f, c->fixed);
		CHECK(parse__utf8_valid(f, strlen(f)));
		free(f);
	}
}

static void
t_utf8_put(void)
{
	char b[4];
	CHECK_INT_EQ(parse__utf8_put(b, 0x41), 1);
	CHECK_INT_EQ(parse__utf8_put(b, 0xE9), 2);
	CHECK(memcmp(b, "\xC3\xA9", 2) == 0);
	CHECK_INT_EQ(parse__utf8_put(b, 0x20AC), 3);
	CHECK(memcmp(b, "\xE2\x82\xAC", 3) == 0);
	CHECK_INT_EQ(parse__utf8_put(b, 0x1F600), 4);
	CHECK(memcmp(b, "\xF0\x9F\x98\x80", 4) == 0);
	CHECK_INT_EQ(parse__utf8_seqlen((const unsigned char *)"\xF0\x9F\x98\x80", 4), 4);
	CHECK_INT_EQ(parse__utf8_seqlen((const unsigned char *)"\xF0\x9F\x98", 3), 0);
}

static const struct check_case cases[] = {
	{ "dates", t_dates },
	{ "dates_roundtrip", t_dates_roundtrip },
	{ "sanitize", t_sanitize },
	{ "sanitize_nobase", t_sanitize_nobase },
	{ "sanitize_deep", t_sanitize_deep },
	{ "render", t_render },
	{ "text", t_text },
	{ "strip", t_strip },
	{ "escape", t_escape },
	{ "url_resolve", t_url_resolve },
	{ "url_safe", t_url_safe },
	{ "utf8", t_utf8 },
	{ "utf8_put", t_utf8_put },
	{ 0 },
};

int
main(int argc, char **argv)
{
	return check_main(argc, argv, cases);
}
