/*
 * Internal to parse/: the normalization helpers every format shares.
 * Strings returned are malloc'd and owned by the caller (free()), valid
 * UTF-8, and NULL only on allocation failure unless said otherwise.
 */
#ifndef FEEDD_PARSE_NORM_H
#define FEEDD_PARSE_NORM_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Any date a feed may carry (RFC 822/1123 and their mistakes, W3C-DTF,
 * ISO 8601 variants, asctime, ...) -> "YYYY-MM-DDTHH:MM:SSZ" in out.
 * Returns 0, or -EINVAL when the date cannot be read (out untouched).
 */
int parse__date(const char *s, char out[21]);

/*
 * Sanitize an HTML fragment with an allow-list (libxml2's HTML parser):
 * no script/style/iframe/object/embed/form controls, no event handlers,
 * no dangerous URL schemes or CSS; relative href/src resolved against base
 * (may be NULL). The output is well-formed HTML.
 */
char *parse__html_sanitize(const char *html, size_t len, const char *base);

/*
 * Both of the above from one parse of the fragment (the HTML parse is the
 * expensive part): *sanitized as parse__html_sanitize(), *text as
 * parse__html_to_text(), both owned by the caller. Returns 0, or -ENOMEM
 * with neither set.
 */
int parse__html_render(const char *html, size_t len, const char *base,
	char **sanitized, char **text);

/*
 * Which reader parses a fragment for parse__html_render_path(). AUTO is
 * what every other function here does: html.c's fast reader for the
 * common well-formed subset (paragraphs, links, emphasis, lists, images,
 * line breaks, entities), libxml2's HTML parser for anything else. FAST
 * and LIBXML2 force one reader, for the differential fuzz target and the
 * tests, which check both give the same bytes.
 */
enum parse_html_path {
	PARSE_HTML_AUTO,
	PARSE_HTML_FAST,    /* -EAGAIN where the fast reader refuses */
	PARSE_HTML_LIBXML2,
};

/*
 * parse__html_render() through the given reader, and with strip not NULL
 * also *strip as parse__html_strip(); all owned by the caller. Returns 0,
 * -ENOMEM, or -EAGAIN (PARSE_HTML_FAST refused the fragment), with none
 * set on failure. A fragment with no markup and no reference needs no
 * reader and succeeds with every path.
 */
int parse__html_render_path(const char *html, size_t len, const char *base,
	enum parse_html_path path, char **sanitized, char **text, char **strip);

/* Plain-text rendering of an HTML fragment: blocks separated by blank lines,
 * list items on their own lines, entities decoded, whitespace collapsed. */
char *parse__html_to_text(const char *html, size_t len);

/* One-line plain text of an HTML fragment (for titles, authors): tags
 * removed (script/style bodies dropped), entities decoded, whitespace
 * collapsed and trimmed. */
char *parse__html_strip(const char *html, size_t len);

/* Escape text for inclusion in HTML (& < > "). */
char *parse__html_escape(const char *text, size_t len);

/*
 * Resolve ref against base (either may be relative; base may be NULL, then
 * ref is returned as is, trimmed). Returns NULL for a dangerous scheme
 * (javascript:, data:, vbscript:, file: ...) as well as on ENOMEM; check
 * errno (EPERM vs ENOMEM) to tell them apart.
 */
char *parse__url_resolve(const char *base, const char *ref);

/* true when url's scheme (if any) is allowed in links: http, https, mailto,
 * ftp, news, nntp, tel, magnet, ... */
bool parse__url_safe(const char *url);

/* Make s (len bytes) valid UTF-8: invalid sequences become U+FFFD. */
char *parse__utf8_fix(const char *s, size_t len);

/* Is s (len bytes) valid UTF-8? */
bool parse__utf8_valid(const char *s, size_t len);

/* Length (1-4) of the valid UTF-8 sequence starting s[0..len), len >= 1,
 * or 0 when none starts there (invalid, overlong, surrogate, > U+10FFFF). */
size_t parse__utf8_seqlen(const unsigned char *s, size_t len);

/* Write code point cp (a Unicode scalar value) as UTF-8 into buf (room
 * for 4 bytes); returns the byte count. */
size_t parse__utf8_put(char *buf, unsigned long cp);

#endif
