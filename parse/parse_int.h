/*
 * Internal to parse/ (the core: parse.c, sax.c, classify.c, entry.c,
 * charset.c, jsonfeed.c): a growable byte buffer, the charset decoder in
 * front of the XML parser, and the per-entry / per-feed staging the
 * formats fill in.
 */
#ifndef FEEDD_PARSE_PARSE_INT_H
#define FEEDD_PARSE_PARSE_INT_H

#include "parse.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growable byte string, always NUL-terminated when s != NULL. */
struct sbuf {
	char *s;
	size_t len, cap;
};

int parse__sbuf_add(struct sbuf *b, const void *p, size_t n);
int parse__sbuf_addc(struct sbuf *b, char c);
void parse__sbuf_reset(struct sbuf *b);
void parse__sbuf_free(struct sbuf *b);

/*
 * The charset decoder: any supported encoding in, UTF-8 out, streaming.
 * It is chosen once from the BOM, the caller's hint and the XML declaration
 * (see charset.c for the rules), then fed chunk by chunk.
 */
struct charset;

/* Decide from the first bytes of the document (head, n bytes) and the hint.
 * Returns 0 or -ENOMEM; *bad is set when the declared or hinted charset is
 * unknown (the document then reads as UTF-8). *skip is the BOM length;
 * *wide is set when the bytes themselves (a BOM or the pattern of UTF-16 or
 * UTF-32 code units) chose a UTF-16/32 decoder, so NUL bytes are text. */
int parse__charset_open(struct charset **out, const char *head, size_t n,
	const char *hint, bool *bad, size_t *skip, bool *wide);
/* Decode n bytes, appending UTF-8 to out. *repaired is set when invalid
 * input had to be replaced or reinterpreted. Returns 0 or -ENOMEM. */
int parse__charset_decode(struct charset *cs, const char *in, size_t n,
	bool last, struct sbuf *out, bool *repaired);
void parse__charset_close(struct charset *cs);

/*
 * Fix a decoded text field in place-ish: C1 control characters (U+0080 to
 * U+009F) are almost always Windows-1252 bytes read as ISO-8859-1, or UTF-8
 * read as ISO-8859-1 and re-encoded. Returns a new string (caller frees),
 * or NULL when s needs no change (or on ENOMEM, *err set).
 */
char *parse__text_demoronize(const char *s, size_t len, int *err);

/*
 * Split an RSS author string ("me@x.org (Name)", "Name <me@x.org>",
 * "Name") into name and email. Each out pointer gets a malloc'd string or
 * NULL. Returns 0 or -ENOMEM.
 */
int parse__author_split(const char *s, char **name, char **email);

/* Decode base64 (whitespace ignored). Returns malloc'd NUL-terminated bytes
 * or NULL (invalid input or ENOMEM). */
char *parse__base64_decode(const char *s, size_t len, size_t *outlen);

/*
 * JSON Feed (jsonfeed.c) fills the same staging as the XML formats through
 * these (defined in entry.c).
 */
int parse__jsonfeed(struct parse *p, const char *buf, size_t len);
void parse__json_set_format(struct parse *p);
void parse__json_not_feed(struct parse *p, const char *why);
void parse__json_feed_field(struct parse *p, const char *name, const char *v);
void parse__json_entry_begin(struct parse *p);
void parse__json_entry_field(struct parse *p, const char *name, const char *v);
void parse__json_entry_enclosure(struct parse *p, const char *url,
	const char *type, int64_t length);
void parse__json_entry_end(struct parse *p);
int parse__json_stopped(struct parse *p);

#endif
