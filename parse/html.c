/*
 * HTML fragments from feeds: sanitizing, plain-text rendering, escaping.
 *
 * The fragment is read by libxml2's HTML parser (SAX, no tree), which does
 * the hard part: tag soup, implied end tags, entities (HTML 4 named ones,
 * numeric ones), unclosed comments, raw-text script/style bodies. We walk
 * its events with our own element stack and write the output ourselves, so
 * every element we emit is closed and every text and attribute is escaped.
 * Well-formed fragments in a common subset skip libxml2: a fast reader
 * (see "the fast reader" below) sends the same events itself.
 *
 * Sanitizing follows Python feedparser's allow-lists (elements, attributes,
 * CSS properties and keywords, SVG and MathML), with these changes:
 *   - script and style are dropped with their content; every other element
 *     not on the list (iframe, object, embed, applet, frame, form, input,
 *     button, select, option, textarea, meta, link, blink, ...) loses its
 *     tags but keeps its text, so an unclosed <object> cannot swallow the
 *     rest of the entry;
 *   - form controls are not allowed (feedparser keeps them);
 *   - SVG animation elements are not allowed (attributeName="href" plus
 *     values="javascript:..." is a known script vector);
 *   - URL attributes are resolved against the base and dropped when their
 *     scheme is not safe (parse__url_resolve); feedparser empties them.
 * Output: lower-case tag names (SVG names in their camelCase), attributes
 * in source order with double quotes, void elements as <br />, no C0
 * control characters or U+FFFE/U+FFFF. Where libxml2 kept an element open
 * only because a dropped element stood between (<p><foo><div>), we emit
 * the end tag a reader would imply (</p>), so the output reads back as the
 * tree we wrote: sanitizing it again changes nothing (tests/fuzz/fuzz_html
 * checks this). "<!" with no ">" after it is text, not a declaration.
 *
 * Plain text (parse__html_to_text): block elements are separated by one
 * blank line, <br> ends a line, list items start a line with "- " (or
 * "1. ", "2. ", ... inside <ol>) indented two spaces per nesting level,
 * table rows end a line and cells are separated by a space; whitespace
 * runs (including no-break spaces) become one space except inside <pre>;
 * images and script/style bodies give no text; the result is trimmed.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "norm.h"
#include "parse.h"

/* ---- output buffer ------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
	bool bad;
};

/* Grow b so n more bytes and a NUL fit; false (b->bad set) when not. */
static bool
buf_grow(struct buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 256;

	while (cap < b->len + n + 1) {
		if (cap > ((size_t)-1) / 2) {
			b->bad = true;
			return false;
		}
		cap *= 2;
	}
	char *np = realloc(b->p, cap);
	if (!np) {
		b->bad = true;
		return false;
	}
	b->p = np;
	b->cap = cap;
	return true;
}

static inline void
buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->bad)
		return;
	if (b->len + n + 1 > b->cap && !buf_grow(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/*
 * Byte classes for the hot loops. C_BAD: may start a character XML and
 * HTML forbid (C0 controls other than tab, LF and CR; 0xEF may start the
 * noncharacters U+FFFE and U+FFFF); C_ESC: escaped in text (& < >);
 * C_QUOT: escaped in attribute values; C_WS: HTML whitespace; C_C2: may
 * start U+00A0 NO-BREAK SPACE; C_CR: carriage return (the fast reader
 * leaves it to libxml2).
 */
enum { C_BAD = 1, C_ESC = 2, C_QUOT = 4, C_WS = 8, C_C2 = 16, C_CR = 32 };

static const unsigned char cls[256] = {
	[0x00] = C_BAD, [0x01] = C_BAD, [0x02] = C_BAD, [0x03] = C_BAD,
	[0x04] = C_BAD, [0x05] = C_BAD, [0x06] = C_BAD, [0x07] = C_BAD,
	[0x08] = C_BAD, ['\t'] = C_WS, ['\n'] = C_WS, [0x0B] = C_BAD,
	['\f'] = C_BAD | C_WS, ['\r'] = C_WS | C_CR, [0x0E] = C_BAD, [0x0F] = C_BAD,
	[0x10] = C_BAD, [0x11] = C_BAD, [0x12] = C_BAD, [0x13] = C_BAD,
	[0x14] = C_BAD, [0x15] = C_BAD, [0x16] = C_BAD, [0x17] = C_BAD,
	[0x18] = C_BAD, [0x19] = C_BAD, [0x1A] = C_BAD, [0x1B] = C_BAD,
	[0x1C] = C_BAD, [0x1D] = C_BAD, [0x1E] = C_BAD, [0x1F] = C_BAD,
	[' '] = C_WS, ['&'] = C_ESC, ['<'] = C_ESC, ['>'] = C_ESC,
	['"'] = C_QUOT, [0xC2] = C_C2, [0xEF] = C_BAD,
};

/*
 * Characters XML and HTML forbid: C0 controls other than tab, LF and CR,
 * and the noncharacters U+FFFE and U+FFFF. libxml2 drops them; so do we,
 * everywhere, so output never depends on which path read the input.
 * Returns the length of the forbidden sequence at s, or 0.
 */
static inline size_t
forbidden(const char *s, size_t n)
{
	unsigned char c = (unsigned char)s[0];

	if (!(cls[c] & C_BAD))
		return 0;
	if (c < 0x20)
		return 1;
	if (c == 0xEF && n >= 3 && (unsigned char)s[1] == 0xBF &&
	    ((unsigned char)s[2] == 0xBE || (unsigned char)s[2] == 0xBF))
		return 3;
	return 0;
}

/* Escape & < > and, when quote, "; drop forbidden characters. */
static void
buf_escape(struct buf *b, const char *s, size_t n, bool quote)
{
	const unsigned char *u = (const unsigned char *)s;
	const unsigned mask = C_BAD | C_ESC | (quote ? C_QUOT : 0);
	size_t start = 0, k;

	if (b->bad)
		return;
	/* Room for the common case (nothing to escape) up front. */
	if (b->len + n + 1 > b->cap && !buf_grow(b, n))
		return;
	for (size_t i = 0; i < n; i++) {
		const char *rep;
		if (!(cls[u[i]] & mask))
			continue;
		if ((k = forbidden(s + i, n - i)) > 0) {
			buf_add(b, s + start, i - start);
			i += k - 1;
			start = i + 1;
			continue;
		}
		switch (s[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		default:
			continue; /* 0xEF starting an allowed character */
		}
		buf_add(b, s + start, i - start);
		buf_add(b, rep, strlen(rep));
		start = i + 1;
	}
	buf_add(b, s + start, n - start);
}

/* The result, trimmed of surrounding whitespace; NULL on ENOMEM. */
static char *
buf_take_trimmed(struct buf *b)
{
	size_t a = 0, n;

	buf_add(b, "", 0);
	if (b->bad) {
		free(b->p);
		b->p = NULL;
		return NULL;
	}
	n = b->len;
	while (a < n && (b->p[a] == ' ' || b->p[a] == '\n' || b->p[a] == '\t' ||
			 b->p[a] == '\r'))
		a++;
	while (n > a && (b->p[n - 1] == ' ' || b->p[n - 1] == '\n' ||
			 b->p[n - 1] == '\t' || b->p[n - 1] == '\r'))
		n--;
	memmove(b->p, b->p + a, n - a);
	b->p[n - a] = '\0';
	char *out = b->p;
	b->p = NULL;
	return out;
}

/* ---- allow-lists (sorted case-insensitively, for bsearch) ---------- */

static const char *const html_elements[] = {
	"a", "abbr", "acronym", "address", "area", "article", "aside",
	"audio", "b", "bdi", "bdo", "big", "blockquote", "br", "canvas",
	"caption", "center", "cite", "code", "col", "colgroup", "command",
	"datagrid", "dd", "del", "details", "dfn", "dialog", "dir", "div",
	"dl", "dt", "em", "event-source", "fieldset", "figcaption", "figure",
	"font", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
	"i", "img", "ins", "kbd", "label", "legend", "li", "m", "main",
	"map", "mark", "menu", "meter", "multicol", "nav", "nextid",
	"noscript", "ol", "output", "p", "picture", "pre", "progress", "q",
	"rp", "rt", "ruby", "s", "samp", "section", "small", "sound",
	"source", "spacer", "span", "strike", "strong", "sub", "summary",
	"sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr",
	"track", "tt", "u", "ul", "var", "video", "wbr",
};
static const char *const html_attributes[] = {
	"abbr", "accept", "accept-charset", "accesskey", "action", "align",
	"alt", "autocomplete", "autofocus", "axis", "background", "balance",
	"bgcolor", "bgproperties", "border", "bordercolor",
	"bordercolordark", "bordercolorlight", "bottompadding",
	"cellpadding", "cellspacing", "ch", "challenge", "char", "charoff",
	"charset", "checked", "choff", "cite", "class", "clear", "color",
	"cols", "colspan", "compact", "contenteditable", "controls",
	"coords", "data", "datafld", "datapagesize", "datasrc", "datetime",
	"default", "delay", "dir", "disabled", "draggable", "dynsrc",
	"enctype", "end", "face", "for", "form", "frame", "galleryimg",
	"gutter", "headers", "height", "hidden", "hidefocus", "high", "href",
	"hreflang", "hspace", "icon", "id", "inputmode", "ismap", "keytype",
	"label", "lang", "leftspacing", "list", "longdesc", "loop",
	"loopcount", "loopend", "loopstart", "low", "lowsrc", "max",
	"maxlength", "media", "method", "min", "multiple", "name", "nohref",
	"noshade", "nowrap", "open", "optimum", "pattern", "ping",
	"point-size", "poster", "pqg", "preload", "prompt", "radiogroup",
	"readonly", "rel", "repeat-max", "repeat-min", "replace", "required",
	"rev", "rightspacing", "rows", "rowspan", "rules", "scope",
	"selected", "shape", "size", "span", "src", "start", "step", "style",
	"summary", "suppress", "tabindex", "target", "template", "title",
	"toppadding", "type", "unselectable", "urn", "usemap", "valign",
	"value", "variable", "volume", "vrml", "vspace", "width", "wrap",
	"xml:lang",
};
static const char *const mathml_elements[] = {
	"annotation", "annotation-xml", "maction", "maligngroup",
	"malignmark", "math", "menclose", "merror", "mfenced", "mfrac",
	"mglyph", "mi", "mlabeledtr", "mlongdiv", "mmultiscripts", "mn",
	"mo", "mover", "mpadded", "mphantom", "mprescripts", "mroot", "mrow",
	"ms", "mscarries", "mscarry", "msgroup", "msline", "mspace", "msqrt",
	"msrow", "mstack", "mstyle", "msub", "msubsup", "msup", "mtable",
	"mtd", "mtext", "mtr", "munder", "munderover", "none", "semantics",
};
static const char *const mathml_attributes[] = {
	"accent", "accentunder", "actiontype", "align", "alignmentscope",
	"altimg", "altimg-height", "altimg-valign", "altimg-width",
	"alttext", "bevelled", "charalign", "close", "columnalign",
	"columnlines", "columnspacing", "columnspan", "columnwidth",
	"crossout", "decimalpoint", "denomalign", "depth", "dir", "display",
	"displaystyle", "edge", "encoding", "equalcolumns", "equalrows",
	"fence", "fontstyle", "fontweight", "form", "frame", "framespacing",
	"groupalign", "height", "href", "id", "indentalign",
	"indentalignfirst", "indentalignlast", "indentshift",
	"indentshiftfirst", "indentshiftlast", "indenttarget",
	"infixlinebreakstyle", "largeop", "length", "linebreak",
	"linebreakmultchar", "linebreakstyle", "lineleading",
	"linethickness", "location", "longdivstyle", "lquote", "lspace",
	"mathbackground", "mathcolor", "mathsize", "mathvariant", "maxsize",
	"minlabelspacing", "minsize", "movablelimits", "notation",
	"numalign", "open", "other", "overflow", "position", "rowalign",
	"rowlines", "rowspacing", "rowspan", "rquote", "rspace",
	"scriptlevel", "scriptminsize", "scriptsizemultiplier", "selection",
	"separator", "separators", "shift", "side", "src", "stackalign",
	"stretchy", "subscriptshift", "superscriptshift", "symmetric",
	"voffset", "width", "xlink:href", "xlink:show", "xlink:type",
	"xmlns:xlink",
};
/* SVG Tiny minus the animation elements (see the top of the file). */
static const char *const svg_elements[] = {
	"a", "circle", "defs", "desc", "ellipse", "font-face",
	"font-face-name", "font-face-src", "foreignObject", "g", "glyph",
	"hkern", "line", "linearGradient", "marker", "metadata",
	"missing-glyph", "mpath", "path", "polygon", "polyline",
	"radialGradient", "rect", "stop", "svg", "switch", "text", "title",
	"tspan", "use",
};
static const char *const svg_attributes[] = {
	"accent-height", "alphabetic", "arabic-form", "ascent",
	"baseProfile", "bbox", "cap-height", "class", "color",
	"color-rendering", "cx", "cy", "d", "descent", "display", "dx", "dy",
	"fill", "fill-opacity", "fill-rule", "font-family", "font-size",
	"font-stretch", "font-style", "font-variant", "font-weight", "fx",
	"fy", "g1", "g2", "glyph-name", "gradientUnits", "hanging", "height",
	"horiz-adv-x", "horiz-origin-x", "id", "ideographic", "k", "lang",
	"marker-end", "marker-mid", "marker-start", "markerHeight",
	"markerUnits", "markerWidth", "mathematical", "max", "min", "name",
	"offset", "opacity", "orient", "origin", "overline-position",
	"overline-thickness", "panose-1", "path", "pathLength", "points",
	"preserveAspectRatio", "r", "refX", "refY", "requiredExtensions",
	"requiredFeatures", "rotate", "rx", "ry", "slope", "stemh", "stemv",
	"stop-color", "stop-opacity", "strikethrough-position",
	"strikethrough-thickness", "stroke", "stroke-dasharray",
	"stroke-dashoffset", "stroke-linecap", "stroke-linejoin",
	"stroke-miterlimit", "stroke-opacity", "stroke-width",
	"systemLanguage", "target", "text-anchor", "transform", "type", "u1",
	"u2", "underline-position", "underline-thickness", "unicode",
	"unicode-range", "units-per-em", "version", "viewBox", "visibility",
	"width", "widths", "x", "x-height", "x1", "x2", "xlink:actuate",
	"xlink:arcrole", "xlink:href", "xlink:role", "xlink:show",
	"xlink:title", "xlink:type", "xml:lang", "xml:space", "xmlns:xlink",
	"y", "y1", "y2", "zoomAndPan",
};
static const char *const void_elements[] = {
	"area", "br", "col", "command", "hr", "img", "source", "spacer",
	"track", "wbr",
};
/* Attributes holding a URL: resolved against the base, scheme checked. */
static const char *const url_attributes[] = {
	"action", "background", "cite", "data", "datasrc", "dynsrc", "href",
	"icon", "longdesc", "lowsrc", "ping", "poster", "src", "usemap",
	"xlink:href",
};
static const char *const css_properties[] = {
	"azimuth", "background-color", "border-bottom-color",
	"border-collapse", "border-color", "border-left-color",
	"border-right-color", "border-top-color", "clear", "color", "cursor",
	"direction", "display", "elevation", "float", "font", "font-family",
	"font-size", "font-style", "font-variant", "font-weight", "height",
	"letter-spacing", "line-height", "overflow", "pause", "pause-after",
	"pause-before", "pitch", "pitch-range", "richness", "speak",
	"speak-header", "speak-numeral", "speak-punctuation", "speech-rate",
	"stress", "text-align", "text-decoration", "text-indent",
	"unicode-bidi", "vertical-align", "voice-family", "volume",
	"white-space", "width",
};
static const char *const css_keywords[] = {
	"!important", "aqua", "auto", "black", "block", "blue", "bold",
	"both", "bottom", "brown", "center", "collapse", "dashed", "dotted",
	"fuchsia", "gray", "green", "italic", "left", "lime", "maroon",
	"medium", "navy", "none", "normal", "nowrap", "olive", "pointer",
	"purple", "red", "right", "silver", "solid", "teal", "top",
	"transparent", "underline", "white", "yellow",
};
static const char *const svg_css_properties[] = {
	"fill", "fill-opacity", "fill-rule", "stroke", "stroke-linecap",
	"stroke-linejoin", "stroke-opacity", "stroke-width",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int
ascii_ncasecmp(const char *a, size_t an, const char *b)
{
	size_t i = 0;

	for (; i < an && b[i]; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return x < y ? -1 : 1;
	}
	if (i < an)
		return 1;
	return b[i] ? -1 : 0;
}

static inline unsigned char
ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* The list entry equal (ignoring ASCII case) to s[0..n), or NULL. */
static const char *
lookup(const char *const *list, size_t count, const char *s, size_t n)
{
	size_t lo = 0, hi = count;
	/* Most probes differ in the first byte: decide those inline (an
	 * empty s compares as its NUL, which sorts first, as in
	 * ascii_ncasecmp). */
	unsigned char first = n ? ascii_lower((unsigned char)s[0]) : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		unsigned char y = ascii_lower((unsigned char)list[mid][0]);
		int c = first != y ? (first < y ? -1 : 1) : ascii_ncasecmp(s, n, list[mid]);
		if (c == 0)
			return list[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static const char *
lookup_z(const char *const *list, size_t count, const char *s)
{
	return lookup(list, count, s, strlen(s));
}

/* ---- CSS ------------------------------------------------------------ */

static bool
css_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

static bool
css_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
		c == '\v';
}

/* Remove url(...) and what follows up to the next space, as feedparser
 * does; writes into out (same size as in). */
static size_t
css_strip_urls(const char *in, size_t n, char *out)
{
	size_t i = 0, o = 0;

	while (i < n) {
		if (i + 3 <= n && ascii_ncasecmp(in + i, 3, "url") == 0 &&
		    !(i > 0 && css_word((unsigned char)in[i - 1]))) {
			size_t j = i + 3;
			while (j < n && css_space(in[j]))
				j++;
			if (j < n && in[j] == '(') {
				size_t k = j + 1;
				while (k < n && in[k] != ')')
					k++;
				if (k < n) {
					k++;
					while (k < n && css_space(in[k]))
						k++;
					out[o++] = ' ';
					i = k;
					continue;
				}
				/* unclosed url( : the gauntlet rejects '(' */
			}
		}
		out[o++] = in[i++];
	}
	return o;
}

/* feedparser's gauntlet: only a small CSS alphabet is allowed at all. */
static bool
css_gauntlet(const char *s, size_t n)
{
	size_t last_hyphen = (size_t)-1;

	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		if (css_word(c) || css_space((char)c) || strchr(":,;#%.!", c)) {
			i++;
			continue;
		}
		if (c == '-') {
			/* \w-\w, and a word character belongs to one hyphen */
			if (i == 0 || i + 1 >= n || !css_word((unsigned char)s[i - 1]) ||
			    !css_word((unsigned char)s[i + 1]) ||
			    (last_hyphen != (size_t)-1 && last_hyphen + 2 == i))
				return false;
			last_hyphen = i;
			i += 2;
			continue;
		}
		if (c == '\'' || c == '"') {
			size_t j = i + 1;
			while (j < n && (css_word((unsigned char)s[j]) || css_space(s[j])))
				j++;
			if (j == i + 1 || j >= n || s[j] != (char)c)
				return false;
			i = j + 1;
			continue;
		}
		if (c == '(') {
			size_t j = i + 1;
			while (j < n && ((s[j] >= '0' && s[j] <= '9') || s[j] == ',' ||
					 css_space(s[j])))
				j++;
			if (j == i + 1 || j >= n || s[j] != ')')
				return false;
			i = j + 1;
			continue;
		}
		return false;
	}
	return true;
}

/* feedparser's valid_css_values, anchored at both ends. */
static bool
css_valid_value(const char *s, size_t n)
{
	size_t i = 0, d;

	if (n > 0 && s[0] == '#') {
		if (n == 1)
			return false;
		for (i = 1; i < n; i++) {
			char c = s[i];
			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			      (c >= 'A' && c <= 'F')))
				return false;
		}
		return true;
	}
	if (n >= 4 && memcmp(s, "rgb(", 4) == 0) {
		/* rgb\(\d+%?,\d*%?,?\d*%?\)? */
		i = 4;
		d = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d)
			return false;
		if (i < n && s[i] == '%')
			i++;
		if (i >= n || s[i] != ',')
			return false;
		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i < n && s[i] == '%')
			i++;
		if (i < n && s[i] == ',')
			i++;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i < n && s[i] == '%')
			i++;
		if (i < n && s[i] == ')')
			i++;
		return i == n;
	}
	/* \d{0,2}\.?\d{0,2}(cm|em|ex|in|mm|pc|pt|px|%|,|\))? */
	for (d = 0; i < n && d < 2 && s[i] >= '0' && s[i] <= '9'; d++)
		i++;
	if (i < n && s[i] == '.')
		i++;
	for (d = 0; i < n && d < 2 && s[i] >= '0' && s[i] <= '9'; d++)
		i++;
	if (i == n)
		return true;
	static const char *const units[] = { "cm", "em", "ex", "in", "mm", "pc",
		"pt", "px" };
	if (n - i == 2) {
		for (size_t u = 0; u < NELEM(units); u++) {
			if (memcmp(s + i, units[u], 2) == 0)
				return true;
		}
	}
	return n - i == 1 && (s[i] == '%' || s[i] == ',' || s[i] == ')');
}

static bool
css_keywords_ok(const char *v, size_t n)
{
	size_t i = 0;

	while (i < n) {
		while (i < n && css_space(v[i]))
			i++;
		size_t j = i;
		while (j < n && !css_space(v[j]))
			j++;
		if (j > i) {
			bool kw = false;
			for (size_t k = 0; k < NELEM(css_keywords); k++) {
				if (strlen(css_keywords[k]) == j - i &&
				    memcmp(css_keywords[k], v + i, j - i) == 0) {
					kw = true;
					break;
				}
			}
			if (!kw && !css_valid_value(v + i, j - i))
				return false;
		}
		i = j;
	}
	return true;
}

/*
 * Filter a style attribute to allowed declarations, appended to out as
 * "prop: value;" separated by spaces. Returns whether anything was kept.
 */
static bool
css_sanitize(struct buf *out, const char *style, bool svg)
{
	size_t n = strlen(style), i = 0, start = out->len;
	char *s;
	bool any = false;

	s = malloc(n + 1);
	if (!s) {
		out->bad = true;
		return false;
	}
	n = css_strip_urls(style, n, s);
	if (!css_gauntlet(s, n))
		goto out;
	/* The whole value must be declarations: \s*[-\w]+\s*:\s*[^:;]*;? */
	while (i < n) {
		while (i < n && css_space(s[i]))
			i++;
		if (i == n)
			break;
		size_t p0 = i;
		/* property names are ASCII */
		while (i < n && (unsigned char)s[i] < 0x80 &&
		       (css_word((unsigned char)s[i]) || s[i] == '-'))
			i++;
		size_t p1 = i;
		if (p1 == p0)
			goto reject;
		while (i < n && css_space(s[i]))
			i++;
		if (i == n || s[i] != ':')
			goto reject;
		i++;
		while (i < n && css_space(s[i]))
			i++;
		size_t v0 = i;
		while (i < n && s[i] != ':' && s[i] != ';')
			i++;
		size_t v1 = i;
		if (i < n && s[i] == ';')
			i++;
		else if (i < n)
			goto reject; /* a second ':' */
		if (v1 == v0)
			continue;
		/* IE's expression() runs script; no declaration may mention it. */
		bool expr = false;
		for (size_t k = v0; k + 10 <= v1 && !expr; k++)
			expr = ascii_ncasecmp(s + k, 10, "expression") == 0;
		if (expr)
			continue;
		const char *prop = s + p0;
		size_t plen = p1 - p0;
		bool keep = false;
		if (lookup(css_properties, NELEM(css_properties), prop, plen)) {
			keep = true;
		} else {
			size_t k = 0;
			while (k < plen && prop[k] != '-')
				k++;
			if ((ascii_ncasecmp(prop, k, "background") == 0 ||
			     ascii_ncasecmp(prop, k, "border") == 0 ||
			     ascii_ncasecmp(prop, k, "margin") == 0 ||
			     ascii_ncasecmp(prop, k, "padding") == 0))
				keep = css_keywords_ok(s + v0, v1 - v0);
			else if (svg)
				keep = lookup(svg_css_properties,
					NELEM(svg_css_properties), prop, plen) != NULL;
		}
		if (!keep)
			continue;
		if (any)
			buf_add(out, " ", 1);
		buf_add(out, prop, plen);
		buf_add(out, ": ", 2);
		buf_escape(out, s + v0, v1 - v0, true);
		buf_add(out, ";", 1);
		any = true;
	}
	goto out;
reject:
	if (!out->bad)
		out->len = start;
	any = false;
out:
	free(s);
	return any;
}

/* ---- the walk --------------------------------------------------------- */

enum mode { MODE_SANITIZE, MODE_TEXT, MODE_STRIP };

enum frame_kind {
	FRAME_DROP,   /* tag not emitted, content kept */
	FRAME_SKIP,   /* tag and content dropped */
	FRAME_KEEP,   /* emitted; close it */
};

struct frame {
	const char *out_name; /* KEEP: the name written */
	unsigned char kind;
	unsigned char ns;     /* NS_* this element opened, if any */
	unsigned char block;  /* text mode: block-level */
	unsigned char list;   /* text mode: opened a list */
};

enum { NS_NONE, NS_SVG, NS_MATH };

struct walk {
	enum mode mode;
	const char *base;
	struct buf out;
	htmlParserCtxtPtr ctxt;
	struct frame *st;
	size_t depth, cap;
	int skip;      /* inside script/style */
	int svg, math; /* inside svg / math */
	/* text rendering */
	int nl;        /* pending newlines (0-2) */
	bool sp;       /* pending space */
	int pre;       /* inside <pre> */
	bool prefix;   /* a list-item prefix is pending */
	int lists[32]; /* per open list: -1 = ul, else the ol counter */
	int nlists;
	int item;      /* the pending item's number, or -1 */
	bool cell;     /* a table cell was written on this row */
	struct walk *next; /* another rendering fed by the same parse */
	char *result;  /* owned: the finished rendering */
};

static void
oom(struct walk *w)
{
	w->out.bad = true;
	if (w->ctxt)
		xmlStopParser(w->ctxt);
}

static struct frame *
push(struct walk *w)
{
	if (w->depth == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 32;
		struct frame *np = realloc(w->st, cap * sizeof(*np));
		if (!np) {
			oom(w);
			return NULL;
		}
		w->st = np;
		w->cap = cap;
	}
	struct frame *f = &w->st[w->depth++];
	memset(f, 0, sizeof(*f));
	f->kind = FRAME_DROP;
	return f;
}

static bool
name_is(const char *name, const char *const *list, size_t n)
{
	return lookup_z(list, n, name) != NULL;
}

static bool
is_skip_element(const char *name)
{
	return strcmp(name, "script") == 0 || strcmp(name, "style") == 0;
}

/* A copy of s[0..n) without forbidden characters; NULL on ENOMEM. */
static char *
strip_forbidden(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t o = 0, k;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		if ((k = forbidden(s + i, n - i)) > 0) {
			i += k;
			continue;
		}
		out[o++] = s[i++];
	}
	out[o] = '\0';
	return out;
}

static void
emit_attr_value(struct buf *b, const char *name, const char *value)
{
	buf_add(b, " ", 1);
	buf_str(b, name);
	buf_add(b, "=\"", 2);
	buf_escape(b, value, strlen(value), true);
	buf_add(b, "\"", 1);
}

/* One attribute of an allowed element, filtered; an is the name libxml2
 * read (lower case), out_name its allow-list entry or NULL. */
static void
emit_attr(struct walk *w, const char *an, const char *av, const char *out_name,
	int ns, bool *xlink, bool *xlink_decl)
{
	struct buf *b = &w->out;
	char *u;

	if (strcmp(an, "style") == 0 && (ns == NS_SVG || ns == NS_NONE)) {
		size_t mark = b->len;
		buf_str(b, " style=\"");
		if (css_sanitize(b, av, ns == NS_SVG))
			buf_add(b, "\"", 1);
		else if (!b->bad)
			b->len = mark;
		return;
	}
	if (!out_name)
		return;
	if (strcmp(out_name, "xmlns:xlink") == 0) {
		if (!*xlink_decl)
			buf_str(b, " xmlns:xlink=\"http://www.w3.org/1999/xlink\"");
		*xlink_decl = true;
		return;
	}
	if (!lookup_z(url_attributes, NELEM(url_attributes), out_name)) {
		emit_attr_value(b, out_name, av);
	} else {
		u = parse__url_resolve(w->base, av);
		if (!u) {
			if (errno == ENOMEM)
				oom(w);
			return; /* unsafe scheme: drop the attribute */
		}
		emit_attr_value(b, out_name, u);
		free(u);
	}
	if (strncmp(out_name, "xlink:", 6) == 0)
		*xlink = true;
}

/* Emit one allowed start tag with its filtered attributes. */
static void
emit_start(struct walk *w, const char *name, const xmlChar **atts, int ns,
	bool opens_ns, bool is_void)
{
	struct buf *b = &w->out;
	bool xlink = false, xlink_decl = false;

	buf_add(b, "<", 1);
	buf_str(b, name);
	if (opens_ns && ns == NS_SVG)
		buf_str(b, " xmlns=\"http://www.w3.org/2000/svg\"");
	else if (opens_ns && ns == NS_MATH)
		buf_str(b, " xmlns=\"http://www.w3.org/1998/Math/MathML\"");
	for (const xmlChar **a = atts; a && a[0] && !b->bad; a += 2) {
		const char *an = (const char *)a[0];
		const char *av = a[1] ? (const char *)a[1] : "";
		const char *out_name;
		char *clean = NULL;

		if (ns == NS_SVG)
			out_name = lookup_z(svg_attributes, NELEM(svg_attributes), an);
		else if (ns == NS_MATH)
			out_name = lookup_z(mathml_attributes, NELEM(mathml_attributes), an);
		else
			out_name = lookup_z(html_attributes, NELEM(html_attributes), an);
		/* Forbidden characters go before the value is interpreted: the
		 * output drops them anyway, and ".\x01" is no dot segment but
		 * "." is. */
		for (size_t k = 0, n = strlen(av); k < n; k++) {
			if (forbidden(av + k, n - k)) {
				clean = strip_forbidden(av, n);
				if (!clean) {
					oom(w);
					return;
				}
				av = clean;
				break;
			}
		}
		emit_attr(w, an, av, out_name, ns, &xlink, &xlink_decl);
		free(clean);
	}
	/* xlink:* attributes need their namespace declared */
	if (xlink && !xlink_decl)
		buf_str(b, " xmlns:xlink=\"http://www.w3.org/1999/xlink\"");
	buf_str(b, is_void ? " />" : ">");
}

/* Elements a start tag of the same name closes (<p>a<p>b), as libxml2
 * 2.9's HTML parser reads them (not <dt><dt> or <dd><dd>: it nests those). */
static const char *const self_closing[] = {
	"a", "colgroup", "form", "li", "option", "p", "tbody", "td", "th", "tr",
};

/*
 * Between an open <p> and a <div> libxml2 may have seen an element we drop
 * (<p><foo><div>): it then keeps the <div> inside the <p>, which a reader
 * of our output would not (a <div> start closes an open <p>). Apply the
 * same implied end tags to what we emit, so the output reads back as the
 * tree we wrote.
 */
static void
autoclose(struct walk *w, const char *name)
{
	xmlNode fake;

	/* With the parent emitted, libxml2 has applied its rules already. */
	if (w->depth < 2 || w->st[w->depth - 2].kind == FRAME_KEEP)
		return;
	memset(&fake, 0, sizeof(fake));
	fake.type = XML_ELEMENT_NODE;
	fake.name = (const xmlChar *)name;
	for (size_t i = w->depth - 1; i-- > 0;) {
		struct frame *e = &w->st[i];
		if (e->kind == FRAME_SKIP)
			break;
		if (e->kind != FRAME_KEEP)
			continue;
		/* htmlAutoCloseTag() answers "no" for the same name. libxml2
		 * applies its HTML rules inside svg and math too. */
		if (strcmp(e->out_name, name) == 0 ?
			!name_is(name, self_closing, NELEM(self_closing)) :
			!htmlAutoCloseTag(NULL, (const xmlChar *)e->out_name, &fake))
			break;
		buf_add(&w->out, "</", 2);
		buf_str(&w->out, e->out_name);
		buf_add(&w->out, ">", 1);
		e->kind = FRAME_DROP;
		if (e->ns == NS_SVG)
			w->svg--;
		else if (e->ns == NS_MATH)
			w->math--;
		e->ns = NS_NONE;
	}
}

static void
sanitize_start(struct walk *w, struct frame *f, const char *name,
	const xmlChar **atts)
{
	const char *out_name = NULL;
	int ns = w->svg ? NS_SVG : w->math ? NS_MATH : NS_NONE;
	bool opens = false, is_void = false;

	if (w->skip || is_skip_element(name)) {
		f->kind = FRAME_SKIP;
		w->skip++;
		return;
	}
	if (w->depth > FEEDD_MAX_DEPTH)
		return; /* too deep: text only */
	if (ns == NS_SVG) {
		out_name = lookup_z(svg_elements, NELEM(svg_elements), name);
	} else if (ns == NS_MATH) {
		out_name = lookup_z(mathml_elements, NELEM(mathml_elements), name);
	} else if (strcmp(name, "svg") == 0) {
		out_name = "svg";
		ns = NS_SVG;
		opens = true;
	} else if (strcmp(name, "math") == 0) {
		out_name = "math";
		ns = NS_MATH;
		opens = true;
	} else {
		out_name = lookup_z(html_elements, NELEM(html_elements), name);
		is_void = out_name && name_is(name, void_elements, NELEM(void_elements));
	}
	if (!out_name)
		return;
	autoclose(w, out_name);
	emit_start(w, out_name, atts, ns, opens, is_void);
	if (is_void)
		return;
	f->kind = FRAME_KEEP;
	f->out_name = out_name;
	if (opens) {
		f->ns = (unsigned char)ns;
		if (ns == NS_SVG)
			w->svg++;
		else
			w->math++;
	}
}

/* ---- text rendering ---------------------------------------------------- */

static const char *const block_elements[] = {
	"address", "article", "aside", "blockquote", "body", "caption",
	"center", "details", "dialog", "dir", "div", "dl", "fieldset",
	"figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4",
	"h5", "h6", "header", "hr", "html", "legend", "main", "menu",
	"nav", "ol", "p", "pre", "section", "summary", "table", "ul",
};

static void
text_break(struct walk *w, int nl)
{
	if (w->mode == MODE_STRIP) {
		w->sp = true;
		return;
	}
	if (w->nl < nl)
		w->nl = nl;
}

/* Write pending separators before visible text. */
static void
text_flush(struct walk *w)
{
	if (w->out.len > 0) {
		if (w->nl > 0)
			buf_add(&w->out, "\n\n", (size_t)(w->nl > 2 ? 2 : w->nl));
		else if (w->sp)
			buf_add(&w->out, " ", 1);
	}
	w->nl = 0;
	w->sp = false;
	if (w->prefix) {
		char tmp[80];
		int indent = w->nlists > 1 ? (w->nlists - 1) * 2 : 0;
		if (indent > 40)
			indent = 40;
		memset(tmp, ' ', (size_t)indent);
		if (w->item >= 0) {
			int k = indent + snprintf(tmp + indent, sizeof(tmp) - (size_t)indent,
				"%d. ", w->item);
			buf_add(&w->out, tmp, (size_t)k);
		} else {
			memcpy(tmp + indent, "- ", 2);
			buf_add(&w->out, tmp, (size_t)indent + 2);
		}
		w->prefix = false;
	}
}

static void
text_chars(struct walk *w, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned char c = u[i];
		bool nbsp = c == 0xC2 && i + 1 < n && u[i + 1] == 0xA0;
		if ((cls[c] & C_WS) || nbsp) {
			size_t k = nbsp ? 2 : 1;
			if (w->pre && w->mode == MODE_TEXT) {
				if (c == '\n') {
					if (w->out.len > 0 && w->nl < 2)
						w->nl++;
				} else if (c != '\r') {
					text_flush(w);
					buf_add(&w->out, " ", 1);
				}
			} else {
				w->sp = true;
			}
			i += k;
			continue;
		}
		size_t k = forbidden(s + i, n - i);
		if (k > 0) {
			i += k;
			continue;
		}
		/* A run of visible bytes; a single space between two of them
		 * comes out as itself in every mode, so it stays in the run. */
		size_t j = i + 1;
		while (j < n) {
			unsigned char d = u[j];
			if (cls[d] & (C_WS | C_BAD | C_C2)) {
				if (d == ' ' && j + 1 < n &&
				    !(cls[u[j + 1]] & (C_WS | C_BAD | C_C2))) {
					j += 2;
					continue;
				}
				if ((cls[d] & C_WS) ||
				    (d == 0xC2 && j + 1 < n && u[j + 1] == 0xA0) ||
				    forbidden(s + j, n - j))
					break;
			}
			j++;
		}
		if (w->nl || w->sp || w->prefix)
			text_flush(w);
		buf_add(&w->out, s + i, j - i);
		i = j;
	}
}

static void
text_start(struct walk *w, struct frame *f, const char *name,
	const xmlChar **atts)
{
	if (w->skip || is_skip_element(name)) {
		f->kind = FRAME_SKIP;
		w->skip++;
		return;
	}
	if (strcmp(name, "br") == 0) {
		if (w->mode == MODE_STRIP) {
			w->sp = true;
		} else if (w->out.len > 0 && w->nl < 2) {
			w->nl++;
		}
		return;
	}
	if (strcmp(name, "li") == 0) {
		text_break(w, 1);
		f->block = 1;
		if (w->mode == MODE_TEXT) {
			w->prefix = true;
			w->item = -1;
			if (w->nlists > 0 && w->lists[w->nlists - 1] >= 0)
				w->item = ++w->lists[w->nlists - 1];
		}
		return;
	}
	if (strcmp(name, "tr") == 0 || strcmp(name, "dt") == 0 ||
	    strcmp(name, "dd") == 0) {
		text_break(w, 1);
		f->block = 1;
		w->cell = false;
		return;
	}
	if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0) {
		if (w->cell)
			w->sp = true;
		w->cell = true;
		return;
	}
	if (name_is(name, block_elements, NELEM(block_elements))) {
		text_break(w, 2);
		f->block = 2;
		if (strcmp(name, "pre") == 0)
			w->pre++;
		if (strcmp(name, "ul") == 0 || strcmp(name, "ol") == 0 ||
		    strcmp(name, "dir") == 0 || strcmp(name, "menu") == 0) {
			if (w->nlists < (int)NELEM(w->lists)) {
				int start = 0;
				for (const xmlChar **a = atts; a && a[0]; a += 2) {
					if (strcmp((const char *)a[0], "start") == 0 && a[1]) {
						long v = strtol((const char *)a[1], NULL, 10);
						if (v > -1000000 && v < 1000000)
							start = (int)v - 1;
					}
				}
				w->lists[w->nlists++] = name[0] == 'o' ? (start < 0 ? 0 : start) : -1;
				f->list = 1;
			}
			/* Items of a nested list follow their parent on the next line. */
			if (w->nlists > 1)
				w->nl = w->nl > 1 ? 1 : w->nl;
		}
	}
}

static void
text_end(struct walk *w, struct frame *f, const char *name)
{
	if (f->list) {
		w->nlists--;
		text_break(w, w->nlists > 0 ? 1 : 2);
		return;
	}
	if (f->block) {
		text_break(w, f->block);
		if (f->block == 2 && strcmp(name, "pre") == 0 && w->pre > 0)
			w->pre--;
	}
	if (strcmp(name, "li") == 0)
		w->prefix = false;
}

/* ---- SAX callbacks ------------------------------------------------------ */

static void
start_one(struct walk *w, const xmlChar *xname, const xmlChar **atts)
{
	const char *name = (const char *)xname;
	struct frame *f;

	if (w->out.bad)
		return;
	f = push(w);
	if (!f)
		return;
	/* Remember the name for the end event: libxml2 interns it. */
	f->out_name = name;
	if (w->mode == MODE_SANITIZE) {
		f->out_name = NULL;
		sanitize_start(w, f, name, atts);
	} else {
		text_start(w, f, name, atts);
	}
	if (w->out.bad)
		oom(w);
}

static void
pop_one(struct walk *w)
{
	struct frame *f = &w->st[--w->depth];

	if (f->kind == FRAME_SKIP) {
		w->skip--;
		return;
	}
	if (w->mode == MODE_SANITIZE) {
		if (f->kind == FRAME_KEEP) {
			buf_add(&w->out, "</", 2);
			buf_str(&w->out, f->out_name);
			buf_add(&w->out, ">", 1);
		}
		if (f->ns == NS_SVG)
			w->svg--;
		else if (f->ns == NS_MATH)
			w->math--;
	} else {
		text_end(w, f, f->out_name ? f->out_name : "");
	}
}

static void
on_start(void *ud, const xmlChar *name, const xmlChar **atts)
{
	for (struct walk *w = ud; w; w = w->next)
		start_one(w, name, atts);
}

static void
on_end(void *ud, const xmlChar *name)
{
	(void)name;
	/* libxml2's HTML parser reports every start with a matching end. */
	for (struct walk *w = ud; w; w = w->next) {
		if (w->depth > 0)
			pop_one(w);
	}
}

static void
chars_one(struct walk *w, const xmlChar *s, int len)
{
	if (w->skip || len <= 0 || w->out.bad)
		return;
	if (w->mode == MODE_SANITIZE)
		buf_escape(&w->out, (const char *)s, (size_t)len, false);
	else
		text_chars(w, (const char *)s, (size_t)len);
	if (w->out.bad)
		oom(w);
}

static void
on_chars(void *ud, const xmlChar *s, int len)
{
	for (struct walk *w = ud; w; w = w->next)
		chars_one(w, s, len);
}

/* ---- the fast reader ---------------------------------------------------- */

/*
 * Most entry bodies are a few paragraphs with links, emphasis, lists and
 * images, written well-formed. For those, libxml2's HTML parser (a parser
 * context, a dictionary and input buffers per fragment, then its tokenizer)
 * costs more than everything we do with its events. fast_run() reads that
 * subset itself and sends the walks the events libxml2 would send: the
 * implied <html> and our <body>, each start tag with its attributes
 * (names in lower case, values with entities decoded), text split where
 * libxml2 splits it at references, each end tag, </body> and </html>.
 *
 * It accepts only what it is sure libxml2 reads the same way and answers
 * "not mine" for anything else (walk_run() then starts the walks again
 * and hands the fragment to libxml2): a tag outside fast_tags, a child its parent's content
 * model does not take (libxml2 would close the parent: <p><ul>, <a><a>),
 * an end tag that does not close the innermost open element, elements
 * left open, comments, declarations, CDATA, a '<' that starts no tag, an
 * attribute without a quoted value or given twice, an entity libxml2 does
 * not know or a character reference outside the characters XML allows,
 * CR and characters XML forbids. tests/fuzz/fuzz_html_fast.c checks that
 * on everything accepted the output is byte for byte libxml2's; the
 * content models are checked against libxml2's own rules in
 * tests/unit/test_parse_fast.c.
 */
enum fast_class {
	FC_INLINE, /* phrasing: text, inline and void children */
	FC_VOID,   /* no content, no end tag */
	FC_PARA,   /* p, h1-h6: phrasing content */
	FC_LIST,   /* ul, ol: li children and white space */
	FC_ITEM,   /* li: flow content */
	FC_BLOCK,  /* blockquote, div: flow content */
	FC_BODY,   /* the <body> we open */
};

#define FC_FLOW ((1u << FC_INLINE) | (1u << FC_VOID) | (1u << FC_PARA) | \
	(1u << FC_LIST) | (1u << FC_BLOCK))

/* The classes each class may contain. */
static const unsigned fast_content[] = {
	[FC_INLINE] = (1u << FC_INLINE) | (1u << FC_VOID),
	[FC_VOID] = 0,
	[FC_PARA] = (1u << FC_INLINE) | (1u << FC_VOID),
	[FC_LIST] = 1u << FC_ITEM,
	[FC_ITEM] = FC_FLOW,
	[FC_BLOCK] = FC_FLOW,
	[FC_BODY] = FC_FLOW,
};

/* Sorted by name, for bsearch. */
static const struct fast_tag {
	const char *name;
	unsigned char cls;
} fast_tags[] = {
	{ "a", FC_INLINE }, { "b", FC_INLINE }, { "blockquote", FC_BLOCK },
	{ "br", FC_VOID }, { "code", FC_INLINE }, { "div", FC_BLOCK },
	{ "em", FC_INLINE }, { "h1", FC_PARA }, { "h2", FC_PARA },
	{ "h3", FC_PARA }, { "h4", FC_PARA }, { "h5", FC_PARA },
	{ "h6", FC_PARA }, { "i", FC_INLINE }, { "img", FC_VOID },
	{ "li", FC_ITEM }, { "ol", FC_LIST }, { "p", FC_PARA },
	{ "s", FC_INLINE }, { "small", FC_INLINE }, { "span", FC_INLINE },
	{ "strong", FC_INLINE }, { "sub", FC_INLINE }, { "sup", FC_INLINE },
	{ "u", FC_INLINE }, { "ul", FC_LIST },
};

#define FAST_MAX_DEPTH 64
#define FAST_MAX_ATTS 16
#define FAST_MAX_NAME 32
#define FAST_MAX_TAG 4096

static const struct fast_tag *
fast_tag(const char *s, size_t n)
{
	size_t lo = 0, hi = NELEM(fast_tags);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = ascii_ncasecmp(s, n, fast_tags[mid].name);
		if (c == 0)
			return &fast_tags[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static inline bool
fast_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool
fast_alnum(unsigned char c)
{
	return fast_alpha(c) || (c >= '0' && c <= '9');
}

/* libxml2's IS_BLANK_CH less CR (refused before). */
static inline bool
fast_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* A code point as UTF-8 into out (4 bytes); its length. */
static size_t
fast_utf8(unsigned v, char *out)
{
	if (v < 0x80) {
		out[0] = (char)v;
		return 1;
	}
	if (v < 0x800) {
		out[0] = (char)(0xC0 | (v >> 6));
		out[1] = (char)(0x80 | (v & 0x3F));
		return 2;
	}
	if (v < 0x10000) {
		out[0] = (char)(0xE0 | (v >> 12));
		out[1] = (char)(0x80 | ((v >> 6) & 0x3F));
		out[2] = (char)(0x80 | (v & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (v >> 18));
	out[1] = (char)(0x80 | ((v >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((v >> 6) & 0x3F));
	out[3] = (char)(0x80 | (v & 0x3F));
	return 4;
}

/*
 * The reference at s[0] == '&': its UTF-8 into out (at most 4 bytes), its
 * length in *used. 0 when it is not one the fast reader takes: a named
 * entity libxml2's table has, spelled "&name;", or "&#N;" / "&#xH;" for a
 * character XML allows other than CR.
 */
static size_t
fast_ref(const char *s, size_t n, char *out, size_t *used)
{
	size_t i = 1;

	if (i < n && s[i] == '#') {
		unsigned v = 0;
		size_t d = 0;
		bool hex = i + 1 < n && (s[i + 1] == 'x' || s[i + 1] == 'X');
		i += hex ? 2 : 1;
		for (; i < n && d < 8; i++, d++) {
			unsigned char c = (unsigned char)s[i];
			unsigned x;
			if (c >= '0' && c <= '9')
				x = c - '0';
			else if (hex && c >= 'a' && c <= 'f')
				x = c - 'a' + 10;
			else if (hex && c >= 'A' && c <= 'F')
				x = c - 'A' + 10;
			else
				break;
			v = v * (hex ? 16 : 10) + x;
		}
		if (d == 0 || d == 8 || i >= n || s[i] != ';')
			return 0;
		if (!(v == 0x9 || v == 0xA || (v >= 0x20 && v <= 0xD7FF) ||
		      (v >= 0xE000 && v <= 0xFFFD) || (v >= 0x10000 && v <= 0x10FFFF)))
			return 0;
		*used = i + 1;
		return fast_utf8(v, out);
	}
	char name[FAST_MAX_NAME];
	size_t k = 0;
	for (; i < n && fast_alnum((unsigned char)s[i]) && k + 1 < sizeof(name); i++)
		name[k++] = s[i];
	if (k == 0 || i >= n || s[i] != ';')
		return 0;
	name[k] = '\0';
	const htmlEntityDesc *e = htmlEntityLookup((const xmlChar *)name);
	if (!e || e->value == 0 || e->value == 0xD)
		return 0;
	*used = i + 1;
	return fast_utf8(e->value, out);
}

static void
fast_start(struct walk *w, const char *name, const xmlChar **atts)
{
	on_start(w, (const xmlChar *)name, atts);
}

static void
fast_end(struct walk *w, const char *name)
{
	on_end(w, (const xmlChar *)name);
}

/*
 * Text s[0..n) (no '<'): checks it and sends it in the pieces libxml2
 * sends. ws_only: only white space may appear (in a list).
 * False when the fast reader does not take it.
 */
static bool
fast_text(struct walk *w, const char *s, size_t n, bool ws_only)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t start = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = u[i];
		if (ws_only && !fast_blank(c))
			return false;
		if (!(cls[c] & (C_BAD | C_ESC | C_CR)) || c == '>')
			continue;
		if ((cls[c] & C_CR) || ((cls[c] & C_BAD) && forbidden(s + i, n - i)))
			return false;
		if (c == '&') {
			char ch[4];
			size_t used = 0, k = fast_ref(s + i, n - i, ch, &used);
			if (k == 0)
				return false;
			if (i > start)
				on_chars(w, u + start, (int)(i - start));
			on_chars(w, (const xmlChar *)ch, (int)k);
			i += used - 1;
			start = i + 1;
		}
	}
	if (n > start)
		on_chars(w, u + start, (int)(n - start));
	return true;
}

/*
 * An attribute value s[0..n) decoded into out (room for n + 1 bytes: a
 * reference is never shorter than its UTF-8); false when refused.
 */
static bool
fast_value(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '<' || c == '\r' || ((cls[c] & C_BAD) && forbidden(s + i, n - i)))
			return false;
		if (c == '&') {
			size_t used = 0, k = fast_ref(s + i, n - i, out + o, &used);
			if (k == 0)
				return false;
			o += k;
			i += used - 1;
			continue;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return true;
}

/*
 * One pass over the fragment: checks that the fast reader takes it and
 * sends the events to the walks as it goes (the caller starts them again
 * when it is not taken). Returns true when taken.
 */
static bool
fast_pass(struct walk *w, const char *s, size_t len)
{
	const struct fast_tag *stack[FAST_MAX_DEPTH];
	char scratch[FAST_MAX_TAG]; /* one tag's attribute names and values */
	size_t depth = 0, i = 0;

	fast_start(w, "html", NULL);
	fast_start(w, "body", NULL);
	while (i < len) {
		unsigned parent = depth ? stack[depth - 1]->cls : FC_BODY;
		const char *lt = memchr(s + i, '<', len - i);
		size_t end = lt ? (size_t)(lt - s) : len;

		if (end > i) {
			if (!fast_text(w, s + i, end - i, parent == FC_LIST))
				return false;
			i = end;
			continue;
		}
		/* s[i] == '<' */
		if (i + 1 < len && s[i + 1] == '/') {
			size_t j = i + 2, k;
			while (j < len && fast_alnum((unsigned char)s[j]))
				j++;
			if (depth == 0 || j >= len || s[j] != '>')
				return false;
			const struct fast_tag *t = stack[depth - 1];
			k = j - (i + 2);
			if (ascii_ncasecmp(s + i + 2, k, t->name) != 0)
				return false;
			depth--;
			fast_end(w, t->name);
			i = j + 1;
			continue;
		}
		size_t j = i + 1;
		while (j < len && fast_alnum((unsigned char)s[j]))
			j++;
		if (j == i + 1 || !fast_alpha((unsigned char)s[i + 1]))
			return false;
		const struct fast_tag *t = fast_tag(s + i + 1, j - (i + 1));
		if (!t || !(fast_content[parent] & (1u << t->cls)))
			return false;
		/* <a> inside <a> anywhere: libxml2 closes the outer one. */
		if (t->name[0] == 'a' && t->name[1] == '\0') {
			for (size_t d = 0; d < depth; d++) {
				if (stack[d] == t)
					return false;
			}
		}
		/* Attributes: blank, name, '=', a quoted value, ... */
		const xmlChar *atts[2 * FAST_MAX_ATTS + 1];
		size_t natts = 0, o = 0;
		bool closed = false;
		while (j < len) {
			size_t b = j;
			while (j < len && fast_blank((unsigned char)s[j]))
				j++;
			if (j >= len)
				return false;
			if (s[j] == '>') {
				j++;
				closed = true;
				break;
			}
			if (s[j] == '/') {
				if (t->cls != FC_VOID || j + 1 >= len || s[j + 1] != '>')
					return false;
				j += 2;
				closed = true;
				break;
			}
			if (j == b || !fast_alpha((unsigned char)s[j]) || natts == FAST_MAX_ATTS)
				return false;
			size_t a = j;
			while (j < len && (fast_alnum((unsigned char)s[j]) || s[j] == '-'))
				j++;
			if (j - a >= FAST_MAX_NAME || o + (j - a) + 1 > sizeof(scratch) ||
			    j + 1 >= len || s[j] != '=' ||
			    (s[j + 1] != '"' && s[j + 1] != '\''))
				return false;
			char *an = scratch + o;
			for (size_t k = a; k < j; k++) {
				unsigned char c = (unsigned char)s[k];
				an[k - a] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
			}
			an[j - a] = '\0';
			for (size_t k = 0; k < natts; k++) {
				if (strcmp((const char *)atts[2 * k], an) == 0)
					return false;
			}
			o += j - a + 1;
			char q = s[j + 1];
			size_t v = j + 2;
			const char *qe = memchr(s + v, q, len - v);
			if (!qe)
				return false;
			size_t vn = (size_t)(qe - (s + v));
			if (o + vn + 1 > sizeof(scratch) || !fast_value(s + v, vn, scratch + o))
				return false;
			atts[2 * natts] = (const xmlChar *)an;
			atts[2 * natts + 1] = (const xmlChar *)(scratch + o);
			natts++;
			o += strlen(scratch + o) + 1;
			j = v + vn + 1;
		}
		if (!closed)
			return false;
		atts[2 * natts] = NULL;
		fast_start(w, t->name, natts ? atts : NULL);
		if (t->cls == FC_VOID) {
			fast_end(w, t->name);
		} else {
			if (depth == FAST_MAX_DEPTH)
				return false;
			stack[depth++] = t;
		}
		i = j;
	}
	if (depth > 0)
		return false;
	fast_end(w, "body");
	fast_end(w, "html");
	return true;
}

/* Free everything a walk holds but its result. */
static void
walk_cleanup(struct walk *w)
{
	free(w->out.p);
	w->out.p = NULL;
	free(w->st);
	w->st = NULL;
}

/*
 * Parse once, render into every walk of the chain w: with the fast reader
 * when it takes the fragment and path allows, else with libxml2's HTML
 * parser. Returns 0 with each w->result set, -ENOMEM, or -EAGAIN when
 * path is PARSE_HTML_FAST and the fast reader refused (no result set).
 */
static int
walk_run(struct walk *w, const char *html, size_t len, enum parse_html_path path)
{
	static const char prefix[] = "<body>";
	htmlSAXHandler sax;
	htmlParserCtxtPtr ctxt = NULL;
	char *in = NULL, *fixed = NULL;
	const char *src = html;
	int rc = -ENOMEM;

	if (len > INT_MAX / 2) /* libxml2 takes an int; callers cap fields far lower */
		goto out;
	if (!parse__utf8_valid(html, len)) {
		fixed = parse__utf8_fix(html, len);
		if (!fixed)
			goto out;
		src = fixed;
		len = strlen(fixed);
	}
	/* As the walks start, to start them again if the fast reader refuses
	 * part way; a chain is the three renderings at most. */
	struct walk saved[3], *chain[3];
	size_t nsaved = 0;
	for (struct walk *x = w; x && nsaved < 3; x = x->next) {
		chain[nsaved] = x;
		saved[nsaved++] = *x;
	}
	if (nsaved == 3 && chain[2]->next)
		path = PARSE_HTML_LIBXML2;
	/* The output is about as long as the input: size it once. */
	for (struct walk *x = w; x; x = x->next) {
		if (!x->out.p && !buf_grow(&x->out, len + len / 8 + 64))
			goto out;
	}
	if (path != PARSE_HTML_LIBXML2) {
		if (fast_pass(w, src, len))
			goto results;
		if (path == PARSE_HTML_FAST) {
			rc = -EAGAIN;
			goto out;
		}
		/* Refused part way: start the walks again for libxml2. */
		for (size_t i = 0; i < nsaved; i++) {
			walk_cleanup(chain[i]);
			*chain[i] = saved[i];
			if (!buf_grow(&chain[i]->out, len + len / 8 + 64))
				goto out;
		}
	}
	/* An open <body> first, so text at the start is not wrapped in an
	 * implied <p> and a stray <head> or <title> stays in the body.
	 * "<!" with no ">" after it (other than an unclosed comment) is text,
	 * as in a browser; libxml2 would drop it as a broken declaration.
	 * Each such '<' becomes "&lt;" (3 bytes more). */
	size_t last_gt = len, extra = 0;
	while (last_gt > 0 && src[last_gt - 1] != '>')
		last_gt--;
	for (size_t k = last_gt; k + 1 < len; k++) {
		if (src[k] == '<' && src[k + 1] == '!' &&
		    !(k + 3 < len && src[k + 2] == '-' && src[k + 3] == '-'))
			extra += 3;
	}
	in = malloc(sizeof(prefix) - 1 + len + extra + 1);
	if (!in)
		goto out;
	size_t o = sizeof(prefix) - 1;
	memcpy(in, prefix, o);
	memcpy(in + o, src, last_gt);
	o += last_gt;
	for (size_t k = last_gt; k < len; k++) {
		if (extra && src[k] == '<' && k + 1 < len && src[k + 1] == '!' &&
		    !(k + 3 < len && src[k + 2] == '-' && src[k + 3] == '-')) {
			memcpy(in + o, "&lt;", 4);
			o += 4;
		} else {
			in[o++] = src[k];
		}
	}
	in[o] = '\0';

	memset(&sax, 0, sizeof(sax));
	sax.startElement = on_start;
	sax.endElement = on_end;
	sax.characters = on_chars;
	sax.ignorableWhitespace = on_chars;
	sax.cdataBlock = on_chars;
	ctxt = htmlCreateMemoryParserCtxt(in, (int)o);
	if (!ctxt)
		goto out;
	memcpy(ctxt->sax, &sax, sizeof(sax));
	ctxt->userData = w;
	for (struct walk *x = w; x; x = x->next)
		x->ctxt = ctxt;
	htmlCtxtUseOptions(ctxt, HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
		HTML_PARSE_NOWARNING | HTML_PARSE_NONET | HTML_PARSE_IGNORE_ENC |
		HTML_PARSE_NODEFDTD);
	/* The input is UTF-8 (repaired above): never guess another encoding,
	 * and ignore <meta charset> (HTML_PARSE_IGNORE_ENC). */
	xmlSwitchEncoding(ctxt, XML_CHAR_ENCODING_UTF8);
	htmlParseDocument(ctxt);
results:
	rc = 0;
	for (struct walk *x = w; x; x = x->next) {
		while (x->depth > 0 && !x->out.bad)
			pop_one(x);
		x->result = buf_take_trimmed(&x->out);
		if (!x->result)
			rc = -ENOMEM;
	}
	if (rc) {
		for (struct walk *x = w; x; x = x->next) {
			free(x->result);
			x->result = NULL;
		}
	}
out:
	for (struct walk *x = w; x; x = x->next) {
		x->ctxt = NULL;
		walk_cleanup(x);
	}
	if (ctxt) {
		if (ctxt->myDoc)
			xmlFreeDoc(ctxt->myDoc);
		htmlFreeParserCtxt(ctxt);
	}
	free(in);
	free(fixed);
	return rc;
}

/* No markup and no entity: nothing for a parser to do. */
static bool
plain(const char *s, size_t len)
{
	return !memchr(s, '<', len) && !memchr(s, '&', len);
}

/* The rendering of w without a parser, for input plain() accepts. */
static char *
render_plain(struct walk *w, const char *html, size_t len)
{
	if (w->mode == MODE_SANITIZE)
		buf_escape(&w->out, html, len, false);
	else
		text_chars(w, html, len);
	return buf_take_trimmed(&w->out);
}

static char *
render(struct walk *w, const char *html, size_t len)
{
	if (!html)
		len = 0, html = "";
	if (plain(html, len) && parse__utf8_valid(html, len))
		return render_plain(w, html, len);
	if (walk_run(w, html, len, PARSE_HTML_AUTO) != 0)
		return NULL;
	return w->result;
}

char *
parse__html_sanitize(const char *html, size_t len, const char *base)
{
	struct walk w = { .mode = MODE_SANITIZE, .base = base };

	return render(&w, html, len);
}

char *
parse__html_to_text(const char *html, size_t len)
{
	struct walk w = { .mode = MODE_TEXT, .item = -1 };

	return render(&w, html, len);
}

char *
parse__html_strip(const char *html, size_t len)
{
	struct walk w = { .mode = MODE_STRIP, .item = -1 };

	return render(&w, html, len);
}

int
parse__html_render_path(const char *html, size_t len, const char *base,
	enum parse_html_path path, char **sanitized, char **text, char **strip)
{
	struct walk r = { .mode = MODE_STRIP, .item = -1 };
	struct walk t = { .mode = MODE_TEXT, .item = -1, .next = strip ? &r : NULL };
	struct walk s = { .mode = MODE_SANITIZE, .base = base, .next = &t };
	int rc = 0;

	if (!html)
		len = 0, html = "";
	if (plain(html, len) && parse__utf8_valid(html, len)) {
		for (struct walk *x = &s; x; x = x->next) {
			x->result = render_plain(x, html, len);
			if (!x->result)
				rc = -ENOMEM;
		}
	} else {
		rc = walk_run(&s, html, len, path);
	}
	if (rc) {
		free(s.result);
		free(t.result);
		free(r.result);
		return rc;
	}
	*sanitized = s.result;
	*text = t.result;
	if (strip)
		*strip = r.result;
	return 0;
}

int
parse__html_render(const char *html, size_t len, const char *base,
	char **sanitized, char **text)
{
	return parse__html_render_path(html, len, base, PARSE_HTML_AUTO,
		sanitized, text, NULL);
}

char *
parse__html_escape(const char *text, size_t len)
{
	struct buf b = { 0 };
	char *fixed = NULL;

	if (!text)
		len = 0, text = "";
	if (!parse__utf8_valid(text, len)) {
		fixed = parse__utf8_fix(text, len);
		if (!fixed)
			return NULL;
		text = fixed;
		len = strlen(fixed);
	}
	buf_escape(&b, text, len, true);
	buf_add(&b, "", 0);
	free(fixed);
	if (b.bad) {
		free(b.p);
		b.p = NULL;
	}
	return b.p;
}
