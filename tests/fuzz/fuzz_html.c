/*
 * parse__html_sanitize(), parse__html_to_text(), parse__html_strip().
 *
 * Sanitized output: valid UTF-8; well-formed by a strict reader of our own
 * (every '<' opens a tag, every non-void tag is closed in order, '&' only
 * starts &amp; &lt; &gt; &quot;, attribute values double-quoted); no
 * script/style/iframe/object/embed element; no on* attribute; every URL
 * attribute has a safe scheme; and sanitizing the output again changes
 * nothing (it only holds what the allow-list accepts, and libxml2 reads
 * that unchanged; a difference means the first pass let something
 * through that a reader would parse differently).
 *
 * parse__html_render() gives what the separate calls give.
 *
 * Text: valid UTF-8, trimmed, no run of more than one blank line. Strip:
 * valid UTF-8, one line, trimmed, no double spaces.
 */
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>

#include "fuzz.h"
#include "norm.h"

#define BASE "http://example.com/dir/page.html"

static const char *const voids[] = { "area", "br", "col", "command", "hr",
	"img", "source", "spacer", "track", "wbr", NULL };
static const char *const banned[] = { "script", "style", "iframe", "object",
	"embed", "applet", "frame", "frameset", "meta", "link", "base", "form",
	"input", "button", "textarea", "select", "animate", "set", NULL };
static const char *const url_attrs[] = { "href", "src", "cite", "action",
	"background", "longdesc", "lowsrc", "dynsrc", "poster", "usemap", "data",
	"datasrc", "icon", "ping", "xlink:href", NULL };

static bool
in(const char *const *list, const char *s, size_t n)
{
	for (; *list; list++) {
		if (strlen(*list) == n && strncasecmp(*list, s, n) == 0)
			return true;
	}
	return false;
}

static bool
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '-' || c == ':' || c == '_' || c == '.';
}

/* &amp; &lt; &gt; &quot; only; returns the entity length or 0. */
static size_t
entity(const char *p)
{
	static const char *const ok[] = { "&amp;", "&lt;", "&gt;", "&quot;" };
	for (size_t i = 0; i < 4; i++) {
		if (strncmp(p, ok[i], strlen(ok[i])) == 0)
			return strlen(ok[i]);
	}
	return 0;
}

static void
check_sanitized(const char *out)
{
	const char *stack[300];
	size_t slen[300];
	size_t depth = 0;
	const char *p = out;

	while (*p) {
		if (*p == '&') {
			size_t n = entity(p);
			FUZZ_CHECK(n > 0, "bare & at ...%.40s", p);
			p += n;
			continue;
		}
		FUZZ_CHECK(*p != '>', "bare > at ...%.40s", p);
		if (*p != '<') {
			p++;
			continue;
		}
		p++;
		bool end = *p == '/';
		if (end)
			p++;
		const char *name = p;
		while (name_char(*p))
			p++;
		size_t nlen = (size_t)(p - name);
		FUZZ_CHECK(nlen > 0, "empty tag name at ...%.40s", name);
		FUZZ_CHECK(!in(banned, name, nlen), "banned element <%.*s>", (int)nlen, name);
		if (end) {
			FUZZ_CHECK(*p == '>', "junk in end tag ...%.40s", p);
			p++;
			FUZZ_CHECK(depth > 0, "</%.*s> closes nothing", (int)nlen, name);
			depth--;
			FUZZ_CHECK(slen[depth] == nlen && memcmp(stack[depth], name, nlen) == 0,
				"</%.*s> closes <%.*s>", (int)nlen, name, (int)slen[depth],
				stack[depth]);
			continue;
		}
		/* attributes: ' name="value"' */
		while (*p == ' ') {
			p++;
			const char *an = p;
			while (name_char(*p))
				p++;
			size_t alen = (size_t)(p - an);
			if (alen == 0) {
				p--; /* " />" */
				break;
			}
			FUZZ_CHECK(!(alen >= 2 && strncasecmp(an, "on", 2) == 0),
				"event handler %.*s", (int)alen, an);
			FUZZ_CHECK(p[0] == '=' && p[1] == '"', "unquoted attribute %.*s",
				(int)alen, an);
			p += 2;
			char val[4096];
			size_t vl = 0;
			while (*p && *p != '"') {
				FUZZ_CHECK(*p != '<' && *p != '>', "raw < or > in attribute");
				if (*p == '&') {
					size_t n = entity(p);
					FUZZ_CHECK(n > 0, "bare & in attribute");
					char c = p[1] == 'a' ? '&' : p[1] == 'l' ? '<' : p[1] == 'g' ? '>' : '"';
					if (vl < sizeof(val) - 1)
						val[vl++] = c;
					p += n;
					continue;
				}
				if (vl < sizeof(val) - 1)
					val[vl++] = *p;
				p++;
			}
			FUZZ_CHECK(*p == '"', "unterminated attribute value");
			p++;
			val[vl] = '\0';
			if (in(url_attrs, an, alen) && vl < sizeof(val) - 1)
				FUZZ_CHECK(parse__url_safe(val), "unsafe %.*s=\"%s\"", (int)alen, an, val);
			if (alen == 5 && strncasecmp(an, "style", 5) == 0) {
				FUZZ_CHECK(!strcasestr(val, "url("), "url( in style");
				for (const char *e = val; (e = strcasestr(e, "expression")); e++) {
					const char *q = e + 10;
					while (*q == ' ' || *q == '\t' || *q == '\n')
						q++;
					FUZZ_CHECK(*q != '(', "expression( in style");
				}
			}
		}
		bool selfclose = p[0] == ' ' && p[1] == '/' && p[2] == '>';
		if (selfclose) {
			p += 3;
			FUZZ_CHECK(in(voids, name, nlen), "<%.*s /> is no void element",
				(int)nlen, name);
			continue;
		}
		FUZZ_CHECK(*p == '>', "junk in start tag <%.*s: ...%.40s", (int)nlen, name, p);
		p++;
		FUZZ_CHECK(!in(voids, name, nlen), "void <%.*s> not self-closed", (int)nlen, name);
		FUZZ_CHECK(depth < sizeof(stack) / sizeof(stack[0]), "nesting over %zu", depth);
		stack[depth] = name;
		slen[depth] = nlen;
		depth++;
	}
	FUZZ_CHECK(depth == 0, "%zu element(s) left open", depth);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	xmlInitParser();
	return 0;
}

static bool
is_ws(char c)
{
	return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char *san, *again, *text, *strip;
	size_t n;

	if (size > 65536)
		return 0;
	san = parse__html_sanitize(s, size, BASE);
	FUZZ_CHECK(san, "sanitize returned NULL");
	n = strlen(san);
	FUZZ_CHECK(parse__utf8_valid(san, n), "sanitize: invalid UTF-8");
	check_sanitized(san);
	again = parse__html_sanitize(san, n, BASE);
	FUZZ_CHECK(again, "sanitize returned NULL");
	FUZZ_CHECK(strcmp(san, again) == 0, "not idempotent:\n 1: %s\n 2: %s", san, again);
	free(again);
	free(san);

	text = parse__html_to_text(s, size);
	FUZZ_CHECK(text, "to_text returned NULL");
	{
		/* one parse for both gives the same as the two calls */
		char *rs = NULL, *rt = NULL;
		FUZZ_CHECK(parse__html_render(s, size, BASE, &rs, &rt) == 0, "render failed");
		san = parse__html_sanitize(s, size, BASE);
		FUZZ_CHECK(san && strcmp(rs, san) == 0, "render: sanitized differs");
		FUZZ_CHECK(strcmp(rt, text) == 0, "render: text differs");
		free(san);
		free(rs);
		free(rt);
	}
	n = strlen(text);
	FUZZ_CHECK(parse__utf8_valid(text, n), "to_text: invalid UTF-8");
	FUZZ_CHECK(n == 0 || (!is_ws(text[0]) && !is_ws(text[n - 1])), "to_text: not trimmed");
	FUZZ_CHECK(!strstr(text, "\n\n\n"), "to_text: more than one blank line");
	free(text);

	strip = parse__html_strip(s, size);
	FUZZ_CHECK(strip, "strip returned NULL");
	n = strlen(strip);
	FUZZ_CHECK(parse__utf8_valid(strip, n), "strip: invalid UTF-8");
	FUZZ_CHECK(!strpbrk(strip, "\n\r\t"), "strip: not one line");
	FUZZ_CHECK(!strstr(strip, "  "), "strip: double space");
	FUZZ_CHECK(n == 0 || (strip[0] != ' ' && strip[n - 1] != ' '), "strip: not trimmed");
	free(strip);
	return 0;
}
