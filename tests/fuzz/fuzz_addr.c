/*
 * fetch/addr.c, the address policy: fetch_addr_private_str() on any text,
 * and fetch_addr_private() on any bytes as a socket address.
 *
 * Properties: the text and sockaddr forms agree for every string inet_pton
 * reads; a reason, when given, is a non-empty string; well-known non-public
 * ranges (0/8, 10/8, 127/8, 169.254/16, 172.16/12, 192.168/16, 100.64/10,
 * 224/4 and up, ::, ::1, fc00::/7, fe80::/10, ff00::/8, and IPv4-mapped
 * forms of the IPv4 ones) are never called public.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "addr.h"
#include <stdbool.h>

#include "fuzz.h"

static bool
v4_special(const unsigned char *a)
{
	return a[0] == 0 || a[0] == 10 || a[0] == 127 || a[0] >= 224 ||
		(a[0] == 169 && a[1] == 254) || (a[0] == 172 && (a[1] & 0xF0) == 16) ||
		(a[0] == 192 && a[1] == 168) || (a[0] == 100 && (a[1] & 0xC0) == 64);
}

static bool
v6_special(const unsigned char *a)
{
	static const unsigned char zero[16], mapped[12] = { 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0xFF, 0xFF };
	if (memcmp(a, zero, 15) == 0 && (a[15] == 0 || a[15] == 1))
		return true;
	if ((a[0] & 0xFE) == 0xFC || (a[0] == 0xFE && (a[1] & 0xC0) == 0x80) ||
	    a[0] == 0xFF)
		return true;
	if (memcmp(a, mapped, 12) == 0)
		return v4_special(a + 12);
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	const char *why, *why2;

	if (size > 256)
		return 0;
	s = fuzz_strdup(data, size);
	why = fetch_addr_private_str(s);
	FUZZ_CHECK(!why || *why, "empty reason");

	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, s, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		why2 = fetch_addr_private((const struct sockaddr *)&sin, sizeof(sin));
		FUZZ_CHECK(!why == !why2, "\"%s\": text says %s, sockaddr says %s", s,
			why ? why : "public", why2 ? why2 : "public");
		if (v4_special((const unsigned char *)&sin.sin_addr))
			FUZZ_CHECK(why, "\"%s\" called public", s);
	} else if (inet_pton(AF_INET6, s, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		why2 = fetch_addr_private((const struct sockaddr *)&sin6, sizeof(sin6));
		FUZZ_CHECK(!why == !why2, "\"%s\": text says %s, sockaddr says %s", s,
			why ? why : "public", why2 ? why2 : "public");
		if (v6_special((const unsigned char *)&sin6.sin6_addr))
			FUZZ_CHECK(why, "\"%s\" called public", s);
	}

	/* Raw bytes as a socket address of any length and family. */
	if (size >= sizeof(sa_family_t)) {
		struct sockaddr_storage raw; /* aligned like a real one */
		size_t n = size < sizeof(raw) ? size : sizeof(raw);
		memset(&raw, 0, sizeof(raw));
		memcpy(&raw, data, n);
		why2 = fetch_addr_private((const struct sockaddr *)&raw, (socklen_t)n);
		FUZZ_CHECK(!why2 || *why2, "empty reason");
	}
	free(s);
	return 0;
}
