/*
 * The address policy: is a resolved address public? The ranges come from
 * the IANA IPv4 and IPv6 special-purpose address registries (RFC 6890 and
 * its updates). Anything not public is refused as the target of a redirect
 * to another host unless the feed allows private addresses.
 */
#include "addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

struct v4_range {
	uint32_t net;
	unsigned bits;
	const char *why;
};

#define V4(a, b, c, d) (((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))

static const struct v4_range v4_special[] = {
	{ V4(0, 0, 0, 0), 8, "\"this network\" (0.0.0.0/8)" },
	{ V4(10, 0, 0, 0), 8, "private (10.0.0.0/8)" },
	{ V4(100, 64, 0, 0), 10, "carrier-grade NAT (100.64.0.0/10)" },
	{ V4(127, 0, 0, 0), 8, "loopback (127.0.0.0/8)" },
	{ V4(169, 254, 0, 0), 16, "link-local (169.254.0.0/16)" },
	{ V4(172, 16, 0, 0), 12, "private (172.16.0.0/12)" },
	{ V4(192, 0, 0, 0), 24, "IETF protocol assignments (192.0.0.0/24)" },
	{ V4(192, 0, 2, 0), 24, "documentation (192.0.2.0/24)" },
	{ V4(192, 88, 99, 0), 24, "6to4 relay anycast (192.88.99.0/24)" },
	{ V4(192, 168, 0, 0), 16, "private (192.168.0.0/16)" },
	{ V4(198, 18, 0, 0), 15, "benchmarking (198.18.0.0/15)" },
	{ V4(198, 51, 100, 0), 24, "documentation (198.51.100.0/24)" },
	{ V4(203, 0, 113, 0), 24, "documentation (203.0.113.0/24)" },
	{ V4(224, 0, 0, 0), 4, "multicast (224.0.0.0/4)" },
	{ V4(240, 0, 0, 0), 4, "reserved (240.0.0.0/4, broadcast)" },
};

static const char *
v4_private(uint32_t a)
{
	for (size_t i = 0; i < sizeof(v4_special) / sizeof(v4_special[0]); i++) {
		const struct v4_range *r = &v4_special[i];
		uint32_t mask = r->bits ? ~(uint32_t)0 << (32 - r->bits) : 0;
		if ((a & mask) == r->net)
			return r->why;
	}
	return NULL;
}

static uint32_t
be32_at(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
		((uint32_t)p[2] << 8) | p[3];
}

static int
all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static const char *
v6_private(const uint8_t *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };

	if (all_zero(a, 15) && a[15] == 0)
		return "unspecified (::)";
	if (all_zero(a, 15) && a[15] == 1)
		return "loopback (::1)";
	/* Forms that embed an IPv4 address are as public as that address:
	 * connecting to ::ffff:127.0.0.1 reaches the IPv4 loopback. */
	if (memcmp(a, mapped, 12) == 0 || all_zero(a, 12) ||
		memcmp(a, nat64, 12) == 0)
		return v4_private(be32_at(a + 12));
	if (a[0] == 0x20 && a[1] == 0x02)       /* 6to4: 2002:AABB:CCDD::/48 */
		return v4_private(be32_at(a + 2));
	if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b &&
		a[4] == 0x00 && a[5] == 0x01)
		return "local-use NAT64 (64:ff9b:1::/48)";
	if (a[0] == 0x01 && a[1] == 0x00 && all_zero(a + 2, 6))
		return "discard-only (100::/64)";
	if ((a[0] & 0xfe) == 0xfc)
		return "unique-local (fc00::/7)";
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return "link-local (fe80::/10)";
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
		return "site-local (fec0::/10)";
	if (a[0] == 0xff)
		return "multicast (ff00::/8)";
	/* 2001::/23 holds Teredo, ORCHID, benchmarking and protocol
	 * anycast; none of it is a place a feed lives. */
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] < 0x02)
		return "IETF protocol assignments (2001::/23, Teredo)";
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
		return "documentation (2001:db8::/32)";
	if (a[0] == 0x3f && a[1] == 0xff && (a[2] & 0xf0) == 0x00)
		return "documentation (3fff::/20)";
	/* Only 2000::/3 is allocated as global unicast. */
	if ((a[0] & 0xe0) != 0x20)
		return "reserved (outside 2000::/3)";
	return NULL;
}

const char *
fetch_addr_private(const struct sockaddr *sa, socklen_t len)
{
	const char *why = "not an IP address";

	if (!sa)
		goto out;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		why = v4_private(ntohl(in->sin_addr.s_addr));
	} else if (sa->sa_family == AF_INET6 &&
		len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		why = v6_private(in6->sin6_addr.s6_addr);
	}
out:
	return why;
}

const char *
fetch_addr_private_str(const char *ip)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };

	if (!ip)
		return "not an IP address";
	if (inet_pton(AF_INET, ip, &in.sin_addr) == 1)
		return fetch_addr_private((struct sockaddr *)&in, sizeof(in));
	if (inet_pton(AF_INET6, ip, &in6.sin6_addr) == 1)
		return fetch_addr_private((struct sockaddr *)&in6, sizeof(in6));
	return "not an IP address";
}
