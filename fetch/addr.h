/*
 * fetch/addr.h: the address policy behind "a redirect must not carry a feed
 * into non-public space". A pure function of one socket address, so it can
 * be unit-tested as a table and fuzzed; fetch.c calls it after DNS and
 * before connect (CURLOPT_OPENSOCKETFUNCTION) and again before a request
 * goes out on a reused connection (CURLOPT_PREREQFUNCTION).
 */
#ifndef FEEDD_FETCH_ADDR_H
#define FEEDD_FETCH_ADDR_H

#include <sys/socket.h>

/*
 * NULL when the address is public (globally routable unicast), else a
 * static string naming the special range it falls in, e.g.
 * "loopback (127.0.0.0/8)". IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible
 * (::a.b.c.d), NAT64 (64:ff9b::/96), 6to4 (2002::/16) and Teredo forms are
 * judged by the IPv4 address they embed. An address family other than
 * AF_INET/AF_INET6, or a too short len, is "not an IP address" (refused).
 */
const char *fetch_addr_private(const struct sockaddr *sa, socklen_t len);

/*
 * The same for an address in text form (as CURLINFO_PRIMARY_IP gives it):
 * NULL when public, else the reason; "not an IP address" when it does not
 * parse.
 */
const char *fetch_addr_private_str(const char *ip);

#endif
