/*
 * UTF-8 validation and repair (RFC 3629): no overlong forms, no UTF-16
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "norm.h"

/*
 * Length of the valid UTF-8 sequence at s[0..len), or 0 when the bytes
 * there do not start one (the caller then skips one byte).
 */
size_t
parse__utf8_seqlen(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c < 0xC2) /* continuation byte, or overlong 2-byte lead */
		return 0;
	if (c < 0xE0) {
		if (len < 2 || (s[1] & 0xC0) != 0x80)
			return 0;
		return 2;
	}
	if (c < 0xF0) {
		if (len < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && s[1] < 0xA0) /* overlong */
			return 0;
		if (c == 0xED && s[1] >= 0xA0) /* surrogate */
			return 0;
		return 3;
	}
	if (c < 0xF5) {
		if (len < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
		    (s[3] & 0xC0) != 0x80)
			return 0;
		if (c == 0xF0 && s[1] < 0x90) /* overlong */
			return 0;
		if (c == 0xF4 && s[1] >= 0x90) /* above U+10FFFF */
			return 0;
		return 4;
	}
	return 0;
}

bool
parse__utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		/* Fast path over ASCII, eight bytes at a time. */
		if (p[i] < 0x80) {
			uint64_t w;
			i++;
			while (i + 8 <= len) {
				memcpy(&w, p + i, 8);
				if (w & 0x8080808080808080ull)
					break;
				i += 8;
			}
			continue;
		}
		size_t n = parse__utf8_seqlen(p + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

char *
parse__utf8_fix(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out;
	size_t i = 0, o = 0;

	/* Worst case: every byte becomes U+FFFD (3 bytes). */
	if (len > (((size_t)-1) - 1) / 3)
		return NULL;
	out = malloc(len * 3 + 1);
	if (!out)
		return NULL;
	while (i < len) {
		size_t n = p[i] < 0x80 ? 1 : parse__utf8_seqlen(p + i, len - i);
		if (n == 0) {
			/* U+FFFD REPLACEMENT CHARACTER, one per bad byte. */
			memcpy(out + o, "\xEF\xBF\xBD", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, p + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	/* Give back the slack when it is large; keep the buffer otherwise. */
	if (len * 3 - o > 4096) {
		char *shrunk = realloc(out, o + 1);
		if (shrunk)
			out = shrunk;
	}
	return out;
}

/* Append the UTF-8 encoding of cp (which must be a valid scalar value) to
 * buf; returns the number of bytes written (1..4). */
size_t
parse__utf8_put(char *buf, unsigned long cp)
{
	unsigned char *b = (unsigned char *)buf;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (unsigned char)(0xC0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (unsigned char)(0xE0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	b[0] = (unsigned char)(0xF0 | (cp >> 18));
	b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	b[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}
