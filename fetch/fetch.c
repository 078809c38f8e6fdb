/*
 * fetch/: the curl-multi <-> libuv bridge, the caps and the queue, and the
 * per-request policy (conditional GET, protocols, redirects, sizes, times,
 * the private-address rule).
 *
 * Control flow. curl tells us which sockets to watch (sock_cb) and when to
 * wake it (timer_fn); uv tells us when a socket is ready (poll_cb) or the
 * timer fired (timer_cb); both call curl_multi_socket_action() and then
 * drain curl_multi_info_read() (drain()). Everything that creates or
 * destroys curl easy handles (starting queued requests, finishing cancelled
 * ones, fetch_destroy() called from a callback) is deferred to a uv_idle_t
 * ("kick") or done in drain(), never inside a curl callback: curl forbids
 * removing or cleaning up easy handles from its own callbacks, and on_data
 * runs inside one.
 *
 * Caps count transfers in flight, not connections: max_total over all
 * hosts, max_per_host per host name of the configured URL. Waiting requests
 * sit in a FIFO per host; hosts with waiters and a free slot sit in a
 * round-robin "ready" list, so one host with a thousand feeds cannot starve
 * the others.
 */
#include "fetch.h"
#include "addr.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define container_of(p, type, member)                                          \
	((type *)((char *)(p) - offsetof(type, member)))

/* Feed types first; the catch-all at q=0.5 keeps odd servers working. */
#define ACCEPT_HEADER                                                          \
	"Accept: application/atom+xml, application/rss+xml, "                  \
	"application/rdf+xml;q=0.9, application/feed+json;q=0.9, "             \
	"application/xml;q=0.8, text/xml;q=0.8, application/json;q=0.7, "      \
	"*/*;q=0.5"

/*
 * Which connections stay open (the issue "1,000,000 feeds": CPU per poll
 * must not grow with the number of hosts).
 *
 * libcurl 7.88 keeps finished connections in a cache, a hash of "bundles",
 * one per host:port, with 97 buckets. When a transfer ends and the cache
 * holds more than CURLMOPT_MAXCONNECTS connections (by default 4 x the easy
 * handles currently added: we remove each handle when it finishes, so that
 * is often just 4 or 8), Curl_conncache_return_conn() closes the oldest
 * idle one, taken out with Curl_conncache_extract_oldest(), which walks
 * every bundle and, unlike every other way out of the cache, leaves the
 * bundle in the hash even when it is now empty. So each host that ever had
 * its connection evicted leaves an empty bundle behind for good, and every
 * later walk of the cache pays for all of them: extract_oldest itself on
 * every finished transfer, Curl_conncache_foreach() in
 * curl_multi_remove_handle() (close_connect_only), prune_dead_connections()
 * and the hash chains of every lookup. perf on a libcurl built with -g,
 * bench_fetch, 40,000 requests (all 304): at 20,000 hosts,
 * Curl_conncache_extract_oldest 39% of the CPU, Curl_hash_next_element 27%,
 * Curl_conncache_foreach 8%; at 2,000 hosts none of them shows. That was
 * the cost per poll that grew with the hosts (bench/fetch_hosts.sh).
 *
 * So the cache must never be full: connections have to leave it by the
 * paths that drop the empty bundle (a transfer with CURLOPT_FORBID_REUSE
 * closing its connection at the end, a dead or too old idle connection
 * found by curl's pruning or at reuse). fetch/ counts the sockets curl has
 * open (opensocket_cb / closesocket_cb) and decides at launch which
 * transfer may leave its connection open afterwards (fetch_req.keep):
 *
 *   - only if its host is likely to be polled again soon: another request
 *     for it is running or waiting, or one of its transfers ended within
 *     FETCH_KEEP_S (fetch.recent keeps such hosts; it holds at most the
 *     hosts polled in the last FETCH_KEEP_S, whatever their total);
 *   - only while conns + keep_running < max_idle (4 x max_total).
 *
 * Every idle connection was left by a keeping transfer, which counted in
 * keep_running until it ended; other transfers only close connections. So
 * idle + keep_running <= max_idle at all times (a keeping transfer that
 * follows redirects may leave one idle connection per hop: at most
 * FEEDD_MAX_REDIRECTS more each), and curl's cache never holds more than
 * max_idle + (FEEDD_MAX_REDIRECTS + 1) x max_total, our CURLMOPT_MAXCONNECTS.
 * An idle connection older than FETCH_KEEP_S is closed by curl
 * (CURLOPT_MAXAGE_CONN). Every walk of the cache is then over at most
 * max_idle + max_total connections, a constant.
 *
 * The price: a host seen for the first time in FETCH_KEEP_S connects again
 * for its second poll; from then on, while it is polled at least every
 * FETCH_KEEP_S and the budget allows, its polls reuse one connection.
 */
#define FETCH_KEEP_S 60

struct list {
	struct list *prev, *next;
};

static void
list_init(struct list *l)
{
	l->prev = l->next = l;
}

static int
list_empty(const struct list *l)
{
	return l->next == l;
}

static void
list_add_tail(struct list *head, struct list *n)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

/* Unlinks and re-initializes, so unlinking twice is harmless. */
static void
list_del(struct list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	list_init(n);
}

struct host {
	struct host *hnext;       /* hash chain */
	struct list waiting;      /* fetch_req.link_q, FIFO */
	struct list ready_link;   /* in fetch.ready */
	struct list recent_link;  /* in fetch.recent */
	bool in_ready, in_recent;
	uint64_t last_done_ms;    /* uv_now() when a transfer last ended, 0 = never */
	uint64_t idle_since_ms;   /* uv_now() when it joined fetch.recent */
	unsigned running;         /* transfers in flight */
	unsigned refs;            /* requests pointing here */
	char name[];              /* lower case */
};

struct sock {
	uv_poll_t poll;           /* poll.data = this */
	struct fetch *f;
	curl_socket_t fd;
	bool cached;              /* fetch.byfd[fd] == this */
	struct list link;         /* in fetch.socks */
};

struct fetch {
	uv_loop_t *loop;          /* borrowed */
	CURLM *multi;             /* owned */
	CURLSH *share;            /* owned: DNS and TLS sessions */
	uv_timer_t timer;         /* curl's timeout */
	uv_idle_t kick;           /* deferred work, see the top comment */
	unsigned handles;         /* open uv handles; f is freed at 0 */
	unsigned max_total, max_per_host;
	char *user_agent;         /* owned */
	unsigned running;         /* transfers in flight */
	unsigned pending;         /* requests whose on_done has not fired */
	struct list all;          /* fetch_req.link_all */
	struct list ready;        /* host.ready_link */
	struct list cancelled;    /* fetch_req.link_q, awaiting on_done */
	struct list socks;        /* sock.link: every open uv_poll_t */
	struct list recent;       /* host.recent_link: hosts without requests
	                           * whose last transfer ended within
	                           * FETCH_KEEP_S, oldest first */
	unsigned conns;           /* sockets curl has open, idle or in use */
	unsigned keep_running;    /* transfers in flight that may keep their
	                           * connection (fetch_req.keep) */
	unsigned max_idle;        /* budget of conns + keep_running */
	struct sock **byfd;       /* owned array: the poll handle of each fd */
	size_t nbyfd;
	CURL **pool;              /* owned: idle easy handles, reset */
	unsigned npool;           /* in pool, at most max_total */
	struct host **htab;       /* owned, hcap buckets */
	size_t hcap, hcount;
	unsigned depth;           /* > 0 while one of our uv callbacks runs */
	bool destroying, destroy_pending;
};

enum req_state { REQ_QUEUED, REQ_RUNNING, REQ_DONE };

enum req_abort {
	ABORT_NONE,
	ABORT_BODY,               /* over max_body */
	ABORT_HEADERS,            /* over FEEDD_MAX_HEADERS */
	ABORT_USER,               /* on_data returned non-zero */
	ABORT_POLICY,             /* private address after a redirect */
};

struct fetch_req {
	struct fetch *f;
	struct list link_all;     /* in fetch.all */
	struct list link_q;       /* in host.waiting or fetch.cancelled */
	struct host *host;        /* counted in host.refs */
	enum req_state state;
	bool cancelled;
	bool keep;                /* its connection may stay open after it */
	CURL *easy;               /* owned, while running */
	struct curl_slist *headers; /* owned */

	/* Copies of the options (owned). */
	char *url, *etag, *last_modified, *user_agent, *proxy;
	char *username, *password;
	long connect_timeout_ms, timeout_ms, low_speed_bytes, low_speed_s;
	size_t max_body;
	bool allow_private;
	bool public_only;         /* the URL's own host is not trusted either */
	bool proxied;             /* a proxy may carry it: see policy_check */
	bool post;                /* fetch_post(): no redirects, no validators */
	char *body;               /* owned: the POST body (NULL when empty) */
	size_t body_len;
	struct curl_slist *extra; /* owned: the caller's header lines */
	fetch_data_cb on_data;
	fetch_done_cb on_done;
	void *ud;

	/* The response, as the callbacks see it (strings owned). */
	long cur_status;          /* of the response being received */
	unsigned redirects_seen;
	bool all_permanent;
	bool left_origin;
	size_t header_bytes;
	char *h_etag, *h_last_modified, *h_cache_control, *h_expires;
	char *h_retry_after, *h_content_type, *charset;
	uint64_t body_bytes;
	uint64_t hash;            /* FNV-1a 64 of the decoded 2xx body */
	enum req_abort abort;
	char policy_err[256];
	char msg[512];            /* our own error text (may name the proxy) */
	char errbuf[CURL_ERROR_SIZE];
};

/* 64-bit FNV-1a: small, well known, and fast enough (one multiply per
 * byte) next to the network. It spots a server re-sending the same bytes;
 * it is not meant to resist someone crafting collisions. */
#define FNV64_OFFSET 0xcbf29ce484222325ULL
#define FNV64_PRIME 0x100000001b3ULL

static uint64_t
fnv1a64(uint64_t h, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV64_PRIME;
	}
	return h;
}


/* A validator goes back into a request header, so it must not be able to
 * end that header early: no control characters. An unsafe or empty value is
 * treated as absent (the fetch is then unconditional). */
static bool
header_safe(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

/* ---- hosts ---- */

static uint64_t
host_hash(const char *s)
{
	return fnv1a64(FNV64_OFFSET, s, strlen(s));
}

static int
host_grow(struct fetch *f)
{
	size_t ncap = f->hcap ? f->hcap * 2 : 64;
	struct host **nt = calloc(ncap, sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	for (size_t i = 0; i < f->hcap; i++) {
		struct host *h = f->htab[i], *next;
		for (; h; h = next) {
			next = h->hnext;
			size_t b = host_hash(h->name) & (ncap - 1);
			h->hnext = nt[b];
			nt[b] = h;
		}
	}
	free(f->htab);
	f->htab = nt;
	f->hcap = ncap;
	return 0;
}

/* The entry for a host name (lower case), created on first use. */
static struct host *
host_get(struct fetch *f, const char *name)
{
	struct host *h = NULL;
	size_t b;

	if (f->hcount >= f->hcap && host_grow(f) < 0 && !f->hcap)
		goto out;
	b = host_hash(name) & (f->hcap - 1);
	for (h = f->htab[b]; h; h = h->hnext) {
		if (strcmp(h->name, name) == 0) {
			if (h->in_recent) {
				list_del(&h->recent_link);
				h->in_recent = false;
			}
			goto out;
		}
	}
	h = calloc(1, sizeof(*h) + strlen(name) + 1);
	if (!h)
		goto out;
	strcpy(h->name, name);
	list_init(&h->waiting);
	list_init(&h->ready_link);
	list_init(&h->recent_link);
	h->hnext = f->htab[b];
	f->htab[b] = h;
	f->hcount++;
out:
	return h;
}

static void
host_free(struct fetch *f, struct host *h)
{
	struct host **pp = &f->htab[host_hash(h->name) & (f->hcap - 1)];
	while (*pp != h)
		pp = &(*pp)->hnext;
	*pp = h->hnext;
	f->hcount--;
	free(h);
}

/* Whether a transfer of h ended within the last FETCH_KEEP_S. */
static bool
host_recent(const struct fetch *f, const struct host *h)
{
	return h->last_done_ms &&
		uv_now(f->loop) - h->last_done_ms <= FETCH_KEEP_S * 1000;
}

/* Free the hosts of the recent list whose time is up. The list is in the
 * order they joined it, so this stops at the first one still recent. */
static void
hosts_expire(struct fetch *f)
{
	uint64_t now = uv_now(f->loop);

	while (!list_empty(&f->recent)) {
		struct host *h = container_of(f->recent.next, struct host,
			recent_link);
		if (now - h->idle_since_ms <= FETCH_KEEP_S * 1000)
			break;
		list_del(&h->recent_link);
		host_free(f, h);
	}
}

/* Put the host in, or take it out of, the ready list; when no request
 * refers to it any more, free it, or keep it in the recent list if a
 * transfer of it ended lately (see launch()). h may be gone afterwards. */
static void
host_update(struct fetch *f, struct host *h)
{
	bool want = !list_empty(&h->waiting) && h->running < f->max_per_host;

	if (want && !h->in_ready) {
		list_add_tail(&f->ready, &h->ready_link);
		h->in_ready = true;
	} else if (!want && h->in_ready) {
		list_del(&h->ready_link);
		h->in_ready = false;
	}
	if (h->refs > 0 || h->in_ready || h->in_recent)
		return;
	if (host_recent(f, h) && !f->destroying) {
		h->idle_since_ms = uv_now(f->loop);
		list_add_tail(&f->recent, &h->recent_link);
		h->in_recent = true;
	} else {
		host_free(f, h);
	}
}

/* ---- requests ---- */

/* Easy handles are reused: curl_easy_reset() is much cheaper than a new
 * handle (allocation of its state and buffers), which shows in the CPU time
 * of a poll where everything answers 304. */
static void
easy_put(struct fetch *f, CURL *e)
{
	if (f->pool && f->npool < f->max_total && !f->destroying) {
		curl_easy_reset(e);
		f->pool[f->npool++] = e;
	} else {
		curl_easy_cleanup(e);
	}
}

static CURL *
easy_get(struct fetch *f)
{
	return f->npool ? f->pool[--f->npool] : curl_easy_init();
}

static void
req_free(struct fetch_req *r)
{
	if (r->easy)
		easy_put(r->f, r->easy);
	curl_slist_free_all(r->headers);
	curl_slist_free_all(r->extra);
	free(r->body);
	free(r->url);
	free(r->etag);
	free(r->last_modified);
	free(r->user_agent);
	free(r->proxy);
	if (r->password)
		memset(r->password, 0, strlen(r->password));
	free(r->username);
	free(r->password);
	free(r->h_etag);
	free(r->h_last_modified);
	free(r->h_cache_control);
	free(r->h_expires);
	free(r->h_retry_after);
	free(r->h_content_type);
	free(r->charset);
	free(r);
}

static void kick(struct fetch *f);

/*
 * The one way a request ends: unlink it everywhere, give the slot back,
 * call on_done, free it. Never called inside a curl callback.
 */
static void
finish(struct fetch_req *r, const struct fetch_result *res)
{
	struct fetch *f = r->f;
	enum req_state prev = r->state;

	r->state = REQ_DONE;
	list_del(&r->link_q);
	list_del(&r->link_all);
	if (prev == REQ_RUNNING) {
		if (r->easy && f->multi)
			curl_multi_remove_handle(f->multi, r->easy);
		f->running--;
		r->host->running--;
		r->host->last_done_ms = uv_now(f->loop) ? uv_now(f->loop) : 1;
		if (r->keep)
			f->keep_running--;
	}
	r->host->refs--;
	host_update(f, r->host);
	r->host = NULL;
	hosts_expire(f);
	f->pending--;
	r->on_done(r->ud, res);
	req_free(r);
}

static void
finish_simple(struct fetch_req *r, enum fetch_status st, int rc,
	const char *stage, const char *error)
{
	struct fetch_result res = {
		.status = st,
		.rc = rc,
		.stage = stage,
		.error = error,
		.url = r->url,
		.retry_after_s = -1,
	};
	finish(r, &res);
}

/* ---- curl callbacks (nothing here may add, remove or free handles) ---- */

static void
set_str(char **dst, const char *s, size_t len)
{
	free(*dst);
	*dst = strndup(s, len);
}

static void
new_response(struct fetch_req *r, long code)
{
	r->cur_status = code;
	/* A POST follows no redirect: a 3xx is its final answer. */
	if (!r->post && code >= 300 && code < 400 && code != 304) {
		r->redirects_seen++;
		if (code != 301 && code != 308)
			r->all_permanent = false;
	}
	/* Only the final response's headers count. */
	free(r->h_etag);
	free(r->h_last_modified);
	free(r->h_cache_control);
	free(r->h_expires);
	free(r->h_retry_after);
	free(r->h_content_type);
	r->h_etag = r->h_last_modified = r->h_cache_control = NULL;
	r->h_expires = r->h_retry_after = r->h_content_type = NULL;
	r->body_bytes = 0;
	r->hash = FNV64_OFFSET;
}

static size_t
header_cb(char *buf, size_t size, size_t n, void *ud)
{
	struct fetch_req *r = ud;
	size_t len = size * n;
	const char *colon, *v, *end;
	size_t nlen;

	r->header_bytes += len;
	if (r->header_bytes > FEEDD_MAX_HEADERS) {
		r->abort = ABORT_HEADERS;
		return 0;
	}
	if (r->cancelled)
		return 0;
	if (len > 5 && memcmp(buf, "HTTP/", 5) == 0) {
		const char *p = memchr(buf, ' ', len);
		long code = 0;
		if (p) {
			p++;
			for (int i = 0; i < 3 && p < buf + len && *p >= '0' &&
				*p <= '9'; i++, p++)
				code = code * 10 + (*p - '0');
		}
		new_response(r, code);
		return len;
	}
	colon = memchr(buf, ':', len);
	if (!colon)
		return len;
	nlen = (size_t)(colon - buf);
	v = colon + 1;
	end = buf + len;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
		end[-1] == ' ' || end[-1] == '\t'))
		end--;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;

#define IS(name) (nlen == sizeof(name) - 1 && strncasecmp(buf, name, nlen) == 0)
	if (IS("etag")) {
		if (header_safe(v, (size_t)(end - v)))
			set_str(&r->h_etag, v, (size_t)(end - v));
	} else if (IS("last-modified")) {
		if (header_safe(v, (size_t)(end - v)))
			set_str(&r->h_last_modified, v, (size_t)(end - v));
	} else if (IS("cache-control")) {
		/* Several Cache-Control lines form one list (RFC 9110 5.3). */
		if (r->h_cache_control) {
			size_t old = strlen(r->h_cache_control);
			size_t add = (size_t)(end - v);
			char *s = realloc(r->h_cache_control, old + 2 + add + 1);
			if (s) {
				memcpy(s + old, ", ", 2);
				memcpy(s + old + 2, v, add);
				s[old + 2 + add] = '\0';
				r->h_cache_control = s;
			}
		} else {
			set_str(&r->h_cache_control, v, (size_t)(end - v));
		}
	} else if (IS("expires")) {
		set_str(&r->h_expires, v, (size_t)(end - v));
	} else if (IS("retry-after")) {
		set_str(&r->h_retry_after, v, (size_t)(end - v));
	} else if (IS("content-type")) {
		set_str(&r->h_content_type, v, (size_t)(end - v));
	}
#undef IS
	return len;
}

static size_t
write_cb(char *buf, size_t size, size_t n, void *ud)
{
	struct fetch_req *r = ud;
	size_t len = size * n;

	if (r->cancelled)
		return 0;
	if (len > r->max_body || r->body_bytes > r->max_body - len) {
		r->abort = ABORT_BODY;
		return 0;
	}
	r->body_bytes += len;
	/* Only a 2xx body is the feed; an error page is counted against the
	 * cap and dropped. */
	if (r->cur_status < 200 || r->cur_status > 299)
		return len;
	r->hash = fnv1a64(r->hash, buf, len);
	if (r->on_data && r->on_data(r->ud, buf, len) != 0) {
		r->abort = ABORT_USER;
		return 0;
	}
	if (r->cancelled)   /* on_data cancelled this very request */
		return 0;
	return len;
}

/* The host of the URL, lower case, in a malloc'd string; NULL when the URL
 * does not parse. *scheme_ok tells whether it is http or https. */
static char *
url_host(const char *url, bool *scheme_ok)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *out = NULL;

	*scheme_ok = false;
	if (!u)
		goto out;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host)
		goto out;
	*scheme_ok = strcasecmp(scheme, "http") == 0 ||
		strcasecmp(scheme, "https") == 0;
	out = strdup(host);
	for (char *p = out; p && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return out;
}

/* ---- which proxy carries a URL ---- */

/* Does host (lower case, no brackets) match one no_proxy entry? The rules
 * of libcurl 7.86+: a name matches itself and its subdomains (a leading dot
 * is optional), an address matches itself or a CIDR block containing it. */
static bool
noproxy_entry(const char *host, const char *e, size_t n)
{
	unsigned char ha[16], na[16];
	char buf[256];
	int fam = strchr(host, ':') ? AF_INET6 : AF_INET;
	long bits = -1;
	size_t hl = strlen(host);

	while (n > 0 && e[0] == '.') {
		e++;
		n--;
	}
	while (n > 0 && e[n - 1] == '.')
		n--;
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, e, n);
	buf[n] = '\0';
	if (inet_pton(fam, host, ha) == 1) {
		char *slash = strchr(buf, '/');
		if (slash) {
			*slash = '\0';
			bits = strtol(slash + 1, NULL, 10);
		}
		if (buf[0] == '[') {
			memmove(buf, buf + 1, strlen(buf));
			char *rb = strchr(buf, ']');
			if (rb)
				*rb = '\0';
		}
		if (inet_pton(fam, buf, na) != 1)
			return false;
		long all = fam == AF_INET ? 32 : 128;
		if (bits < 0 || bits > all)
			bits = all;
		for (long i = 0; i < bits; i++) {
			unsigned char m = (unsigned char)(0x80u >> (i % 8));
			if ((ha[i / 8] & m) != (na[i / 8] & m))
				return false;
		}
		return true;
	}
	if (hl == n)
		return strcasecmp(host, buf) == 0;
	return hl > n && host[hl - n - 1] == '.' &&
		strcasecmp(host + hl - n, buf) == 0;
}

static bool
noproxy_match(const char *host, const char *list)
{
	if (!list || !host)
		return false;
	if (strcmp(list, "*") == 0)
		return true;
	for (const char *p = list; *p;) {
		size_t n;
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, ", \t");
		if (n > 0 && noproxy_entry(host, p, n))
			return true;
		p += n;
	}
	return false;
}

static const char *
env_nonempty(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

/*
 * The proxy libcurl uses for url, as libcurl chooses it: the option (""
 * means none), else <scheme>_proxy (HTTPS_PROXY too, never HTTP_PROXY),
 * then all_proxy / ALL_PROXY. *bypass is set when no_proxy (NO_PROXY)
 * exempts the URL's host. Borrowed; NULL when there is none.
 */
static const char *
proxy_for(const struct fetch_req *r, const char *url, bool *bypass)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	const char *px = NULL;

	*bypass = false;
	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	if (r->proxy) {
		px = *r->proxy ? r->proxy : NULL;
	} else {
		if (strcasecmp(scheme, "https") == 0)
			px = env_nonempty("https_proxy") ? env_nonempty("https_proxy")
							  : env_nonempty("HTTPS_PROXY");
		else
			px = env_nonempty("http_proxy");
		if (!px)
			px = env_nonempty("all_proxy") ? env_nonempty("all_proxy")
							: env_nonempty("ALL_PROXY");
	}
	if (px) {
		const char *np = getenv("no_proxy");
		size_t hl = strlen(host);
		if (!np)
			np = getenv("NO_PROXY");
		/* curl gives IPv6 hosts in brackets. */
		if (hl > 1 && host[0] == '[' && host[hl - 1] == ']') {
			memmove(host, host + 1, hl - 2);
			host[hl - 2] = '\0';
		}
		*bypass = noproxy_match(host, np);
	}
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return px;
}

/* The proxy as the user wrote it, with any user name and password masked
 * (user:password@ becomes ***@), into buf. */
static void
proxy_shown(const char *px, char *buf, size_t len)
{
	const char *auth = strstr(px, "://");
	const char *end, *at = NULL;

	auth = auth ? auth + 3 : px;
	end = auth + strcspn(auth, "/?#");
	for (const char *c = auth; c < end; c++)
		if (*c == '@')
			at = c;
	if (at)
		snprintf(buf, len, "%.*s***%.*s", (int)(auth - px), px,
			(int)(end - at), at);
	else
		snprintf(buf, len, "%.*s", (int)(end - px), px);
}

/*
 * The private-address rule, for one connection about to be made or reused.
 * The configured URL's host is trusted wherever it points (self-hosted
 * feeds). Once a redirect has led to a different host name, every further
 * connection (even back to the first host) must go to a public address
 * unless the feed allows private ones; with public_only the first host
 * is held to that rule too. Through a proxy the target address
 * is the proxy's business: we only see the proxy's. Returns 0 or -EPERM
 * (with r->policy_err set).
 */
static int
policy_check(struct fetch_req *r, const char *why_private, const char *ip)
{
	char *host = NULL, *eff = NULL;
	bool ok;

	if (r->allow_private || r->proxied || !why_private)
		return 0;
	if (!r->left_origin && r->redirects_seen > 0) {
		/* EFFECTIVE_URL is the URL being connected to: curl updates
		 * it when it follows a redirect, before connecting. */
		curl_easy_getinfo(r->easy, CURLINFO_EFFECTIVE_URL, &eff);
		host = eff ? url_host(eff, &ok) : NULL;
		if (!host || strcmp(host, r->host->name) != 0)
			r->left_origin = true;
		free(host);
	}
	if (!r->left_origin && r->public_only) {
		snprintf(r->policy_err, sizeof(r->policy_err),
			"address %s is %s, not a public address; not connected "
			"(private addresses are not allowed)", ip, why_private);
		r->abort = ABORT_POLICY;
		return -EPERM;
	}
	if (!r->left_origin)
		return 0;
	snprintf(r->policy_err, sizeof(r->policy_err),
		"redirected to another host whose address %s is %s; "
		"not followed (allow-private is off)", ip, why_private);
	r->abort = ABORT_POLICY;
	return -EPERM;
}

static curl_socket_t
opensocket_cb(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct fetch_req *r = ud;
	curl_socket_t fd;

	if (purpose == CURLSOCKTYPE_IPCXN) {
		const char *why = fetch_addr_private(&a->addr, a->addrlen);
		char ip[64] = "?";
		if (why) {
			const void *src = a->family == AF_INET6 ?
				(const void *)&((struct sockaddr_in6 *)&a->addr)->sin6_addr :
				(const void *)&((struct sockaddr_in *)&a->addr)->sin_addr;
			inet_ntop(a->family, src, ip, sizeof(ip));
		}
		if (policy_check(r, why, ip) < 0)
			return CURL_SOCKET_BAD;
	}
	fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (fd != CURL_SOCKET_BAD)
		r->f->conns++;
	return fd;
}

/* Every socket opensocket_cb made is closed here, whichever transfer (or
 * curl_multi_cleanup) closes it: the connection keeps the callback and ud
 * is the struct fetch, not a request. */
static int
closesocket_cb(void *ud, curl_socket_t fd)
{
	struct fetch *f = ud;

	f->conns--;
	return close(fd);
}

/* A reused connection skips opensocket_cb; this runs before every request,
 * on a new or reused connection alike. */
static int
prereq_cb(void *ud, char *primary_ip, char *local_ip, int primary_port,
	int local_port)
{
	struct fetch_req *r = ud;

	if (policy_check(r, fetch_addr_private_str(primary_ip), primary_ip) < 0)
		return CURL_PREREQFUNC_ABORT;
	return CURL_PREREQFUNC_OK;
}

/* ---- completion ---- */

static const char *
stage_by_progress(struct fetch_req *r, long http_status)
{
	curl_off_t t_conn = 0, t_app = 0;
	char *scheme = NULL;

	if (http_status > 0)
		return r->cur_status >= 300 && r->cur_status < 400 ?
			"redirect" : "body";
	curl_easy_getinfo(r->easy, CURLINFO_CONNECT_TIME_T, &t_conn);
	if (t_conn == 0)
		return "connect";
	curl_easy_getinfo(r->easy, CURLINFO_SCHEME, &scheme);
	curl_easy_getinfo(r->easy, CURLINFO_APPCONNECT_TIME_T, &t_app);
	if (scheme && strcasecmp(scheme, "https") == 0 && t_app == 0)
		return "tls";
	return "request";
}

static int
os_errno_or(struct fetch_req *r, int fallback)
{
	long e = 0;
	curl_easy_getinfo(r->easy, CURLINFO_OS_ERRNO, &e);
	return e > 0 ? -(int)e : -fallback;
}

/*
 * A failure of the proxy rather than of the feed's server: say which proxy
 * (masked) and why, stage "proxy". code is the transfer's result; status a
 * response status when it completed (a 407 from a plain HTTP proxy).
 * Through a proxy every connection is to the proxy, so a refused or timed
 * out connect is the proxy's; a CONNECT answered with an error, a proxy
 * name that does not resolve and a proxy handshake failure are the proxy's
 * whatever no_proxy says. Returns true when res was filled.
 */
static bool
proxy_failure(struct fetch_req *r, CURLcode code, long status,
	struct fetch_result *res)
{
	char *eff = NULL, shown[256];
	long tunnel = 0;
	curl_off_t t_conn = 0;
	bool bypass = false;
	const char *px, *why = NULL;
	char whybuf[160];
	int rc = 0;

	curl_easy_getinfo(r->easy, CURLINFO_EFFECTIVE_URL, &eff);
	px = proxy_for(r, eff ? eff : r->url, &bypass);
	if (!px)
		return false;
	curl_easy_getinfo(r->easy, CURLINFO_HTTP_CONNECTCODE, &tunnel);
	if (code == CURLE_COULDNT_RESOLVE_PROXY) {
		rc = -EHOSTUNREACH;
		why = "its host name does not resolve";
	} else if (code == CURLE_PROXY) {
		rc = -EPROTO;
		snprintf(whybuf, sizeof(whybuf), "handshake failed (%s)",
			r->errbuf[0] ? r->errbuf : curl_easy_strerror(code));
		why = whybuf;
	} else if (code != CURLE_OK && tunnel > 0 && (tunnel < 200 || tunnel > 299)) {
		rc = tunnel == 407 ? -EACCES : -ECONNREFUSED;
		snprintf(whybuf, sizeof(whybuf), "CONNECT refused (%ld%s)", tunnel,
			tunnel == 407 ? ": proxy authentication required" : "");
		why = whybuf;
	} else if (bypass) {
		return false;
	} else if (code == CURLE_COULDNT_CONNECT) {
		rc = os_errno_or(r, ECONNREFUSED);
		why = strerror(-rc);
	} else if (code == CURLE_OPERATION_TIMEDOUT &&
		   curl_easy_getinfo(r->easy, CURLINFO_CONNECT_TIME_T, &t_conn) ==
			   CURLE_OK && t_conn == 0) {
		rc = -ETIMEDOUT;
		why = "connect timed out";
	} else if (code == CURLE_OK && status == 407) {
		rc = -EACCES;
		why = "authentication required (HTTP 407)";
	} else {
		return false;
	}
	proxy_shown(px, shown, sizeof(shown));
	snprintf(r->msg, sizeof(r->msg), "proxy %s: %s", shown, why);
	res->status = FETCH_FAILED;
	res->rc = rc;
	res->stage = "proxy";
	res->error = r->msg;
	return true;
}

static void
classify(struct fetch_req *r, CURLcode code, struct fetch_result *res)
{
	char *msg = r->msg;
	size_t msgsz = sizeof(r->msg);

	res->status = FETCH_FAILED;
	res->error = r->errbuf[0] ? r->errbuf : curl_easy_strerror(code);
	switch (r->abort) {
	case ABORT_BODY:
		snprintf(msg, msgsz,
			"decoded body exceeds the cap of %zu bytes", r->max_body);
		res->rc = -EFBIG;
		res->stage = "body";
		res->error = msg;
		return;
	case ABORT_HEADERS:
		snprintf(msg, msgsz,
			"response headers exceed the cap of %d bytes",
			FEEDD_MAX_HEADERS);
		res->rc = -EFBIG;
		res->stage = "headers";
		res->error = msg;
		return;
	case ABORT_USER:
		res->rc = -ECANCELED;
		res->stage = "body";
		res->error = "the data callback stopped the transfer";
		return;
	case ABORT_POLICY:
		res->rc = -EPERM;
		res->stage = "policy";
		res->error = r->policy_err;
		return;
	case ABORT_NONE:
		break;
	}
	if (proxy_failure(r, code, 0, res))
		return;
	switch (code) {
	case CURLE_FILESIZE_EXCEEDED:
		snprintf(msg, msgsz,
			"Content-Length exceeds the cap of %zu bytes", r->max_body);
		res->rc = -EFBIG;
		res->stage = "body";
		res->error = msg;
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		res->rc = -EHOSTUNREACH;
		res->stage = "resolve";
		break;
	case CURLE_COULDNT_RESOLVE_PROXY:
		res->rc = -EHOSTUNREACH;
		res->stage = "proxy";
		break;
	case CURLE_COULDNT_CONNECT:
		res->rc = os_errno_or(r, ECONNREFUSED);
		res->stage = "connect";
		break;
	case CURLE_OPERATION_TIMEDOUT:
		res->rc = -ETIMEDOUT;
		res->stage = stage_by_progress(r, res->http_status);
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_USE_SSL_FAILED:
		res->rc = -EPROTO;
		res->stage = "tls";
		break;
	case CURLE_TOO_MANY_REDIRECTS:
		res->rc = -ELOOP;
		res->stage = "redirect";
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
		/* The first URL's scheme was checked in fetch_start(). */
		res->rc = -EPROTONOSUPPORT;
		res->stage = "redirect";
		break;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		res->rc = os_errno_or(r, ECONNRESET);
		res->stage = stage_by_progress(r, res->http_status);
		break;
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
		res->rc = -EIO;
		res->stage = stage_by_progress(r, res->http_status);
		break;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_HTTP3:
		res->rc = -EBADMSG;
		res->stage = stage_by_progress(r, res->http_status);
		break;
	case CURLE_OUT_OF_MEMORY:
		/* libcurl 7.x also says "out of memory" (without an error
		 * text) for one response header line over CURL_MAX_HTTP_HEADER:
		 * once a status line arrived, that is by far the likelier. */
		if (r->cur_status > 0 && !r->errbuf[0]) {
			snprintf(msg, msgsz, "a response header line exceeds "
				"libcurl's limit of %d bytes (or out of memory)",
				CURL_MAX_HTTP_HEADER);
			res->rc = -EFBIG;
			res->stage = "headers";
			res->error = msg;
			break;
		}
		res->rc = -ENOMEM;
		res->stage = "request";
		break;
	default:
		res->rc = -EIO;
		res->stage = stage_by_progress(r, res->http_status);
		break;
	}
}

int64_t
fetch_retry_after_parse(const char *s, int64_t now)
{
	int64_t v = 0;
	const char *p = s;
	time_t t;

	if (!s || !*s)
		return -1;
	if (*p >= '0' && *p <= '9') {
		for (; *p >= '0' && *p <= '9'; p++) {
			if (v > INT64_MAX / 10 - 10)
				return INT64_MAX / 10;
			v = v * 10 + (*p - '0');
		}
		return *p ? -1 : v;
	}
	t = curl_getdate(s, NULL);
	if (t == (time_t)-1)
		return -1;
	v = (int64_t)t - now;
	return v < 0 ? 0 : v;
}

/* The charset parameter of a Content-Type, unquoted; NULL if none. */
static char *
parse_charset(const char *ct)
{
	const char *p = ct ? strchr(ct, ';') : NULL;

	while (p) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, "charset", 7) == 0) {
			const char *v = p + 7, *e;
			while (*v == ' ' || *v == '\t')
				v++;
			if (*v == '=') {
				v++;
				while (*v == ' ' || *v == '\t')
					v++;
				if (*v == '"') {
					v++;
					e = strchr(v, '"');
				} else {
					e = v + strcspn(v, "; \t");
				}
				if (e && e > v)
					return strndup(v, (size_t)(e - v));
				return NULL;
			}
		}
		p = strchr(p, ';');
	}
	return NULL;
}

static void
complete(struct fetch_req *r, CURLcode code)
{
	struct fetch_result res = { .retry_after_s = -1 };
	char hash[17];
	char *eff = NULL;
	curl_off_t v = 0;

	res.url = r->url;
	res.curl_code = (int)code;
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &res.http_status);
	curl_easy_getinfo(r->easy, CURLINFO_EFFECTIVE_URL, &eff);
	res.effective_url = eff;
	res.etag = r->h_etag;
	res.last_modified = r->h_last_modified;
	res.cache_control = r->h_cache_control;
	res.expires = r->h_expires;
	res.retry_after = r->h_retry_after;
	res.retry_after_s = fetch_retry_after_parse(r->h_retry_after,
		(int64_t)time(NULL));
	res.content_type = r->h_content_type;
	r->charset = parse_charset(r->h_content_type);
	res.charset = r->charset;
	res.body_bytes = r->body_bytes;
	if (curl_easy_getinfo(r->easy, CURLINFO_SIZE_DOWNLOAD_T, &v) == CURLE_OK)
		res.wire_bytes = (uint64_t)v;
	if (curl_easy_getinfo(r->easy, CURLINFO_CONNECT_TIME_T, &v) == CURLE_OK)
		res.t_connect = (double)v / 1e6;
	if (curl_easy_getinfo(r->easy, CURLINFO_STARTTRANSFER_TIME_T, &v) == CURLE_OK)
		res.t_first_byte = (double)v / 1e6;
	if (curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME_T, &v) == CURLE_OK)
		res.t_total = (double)v / 1e6;
	res.permanent_redirect = !r->post && r->redirects_seen > 0 &&
		r->all_permanent;
	if (res.permanent_redirect)
		res.redirect_url = eff;

	if (r->cancelled) {
		res.status = FETCH_CANCELLED;
		res.rc = -ECANCELED;
		res.stage = "cancel";
		res.error = "cancelled";
	} else if (code != CURLE_OK) {
		classify(r, code, &res);
	} else if (res.http_status == 304 && !r->post) {
		res.status = FETCH_NOT_MODIFIED;
	} else if (res.http_status >= 200 && res.http_status <= 299) {
		res.status = FETCH_OK;
		snprintf(hash, sizeof(hash), "%016" PRIx64, r->hash);
		res.body_hash = hash;
	} else if (res.http_status == 407 && proxy_failure(r, code, 407, &res)) {
		/* The proxy wants credentials: the feed's server never answered. */
	} else {
		snprintf(r->msg, sizeof(r->msg), "the server answered HTTP %ld",
			res.http_status);
		res.status = FETCH_HTTP_ERROR;
		res.rc = -EREMOTEIO;
		res.stage = "response";
		res.error = r->msg;
	}
	finish(r, &res);
}

/* ---- starting transfers ---- */

#define SET(opt, val)                                                          \
	do {                                                                   \
		if (cc == CURLE_OK)                                            \
			cc = curl_easy_setopt(e, opt, val);                    \
	} while (0)

static int
launch(struct fetch_req *r)
{
	struct fetch *f = r->f;
	CURL *e = easy_get(f);
	CURLcode cc = CURLE_OK;
	struct curl_slist *h = NULL, *t;
	char *line = NULL;
	int rc = 0;

	if (!e) {
		rc = -ENOMEM;
		goto out;
	}
	r->easy = e;
	r->cur_status = 0;
	r->all_permanent = true;
	r->hash = FNV64_OFFSET;

	/* A POST carries no feed Accept header and no validators; curl's
	 * "Expect: 100-continue" (sent for large bodies) costs a round trip
	 * or a 1 s wait on servers that ignore it, so it is switched off. */
	h = curl_slist_append(NULL, r->post ? "Expect:" : ACCEPT_HEADER);
	if (h && r->etag && !r->post) {
		if (asprintf(&line, "If-None-Match: %s", r->etag) < 0)
			line = NULL;
		t = line ? curl_slist_append(h, line) : NULL;
		if (!t) {
			curl_slist_free_all(h);
			h = NULL;
		}
		free(line);
		line = NULL;
	}
	if (h && r->last_modified && !r->post) {
		if (asprintf(&line, "If-Modified-Since: %s", r->last_modified) < 0)
			line = NULL;
		t = line ? curl_slist_append(h, line) : NULL;
		if (!t) {
			curl_slist_free_all(h);
			h = NULL;
		}
		free(line);
		line = NULL;
	}
	for (struct curl_slist *x = r->extra; h && x; x = x->next) {
		t = curl_slist_append(h, x->data);
		if (!t) {
			curl_slist_free_all(h);
			h = NULL;
		}
	}
	if (!h) {
		rc = -ENOMEM;
		goto out;
	}
	r->headers = h;

	SET(CURLOPT_URL, r->url);
	SET(CURLOPT_PRIVATE, r);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, r->errbuf);
	SET(CURLOPT_WRITEFUNCTION, write_cb);
	SET(CURLOPT_WRITEDATA, r);
	SET(CURLOPT_HEADERFUNCTION, header_cb);
	SET(CURLOPT_HEADERDATA, r);
	SET(CURLOPT_OPENSOCKETFUNCTION, opensocket_cb);
	SET(CURLOPT_OPENSOCKETDATA, r);
	SET(CURLOPT_CLOSESOCKETFUNCTION, closesocket_cb);
	SET(CURLOPT_CLOSESOCKETDATA, f);
	/* Which connections stay open: see the comment above FETCH_KEEP_S. */
	r->keep = (host_recent(f, r->host) || r->host->running > 0 ||
			!list_empty(&r->host->waiting)) &&
		f->conns + f->keep_running < f->max_idle;
	if (!r->keep)
		SET(CURLOPT_FORBID_REUSE, 1L);
	SET(CURLOPT_MAXAGE_CONN, (long)FETCH_KEEP_S);
	SET(CURLOPT_PREREQFUNCTION, prereq_cb);
	SET(CURLOPT_PREREQDATA, r);
	SET(CURLOPT_SHARE, f->share);
	SET(CURLOPT_DNS_CACHE_TIMEOUT, 0L); /* see fetch_create() */
	SET(CURLOPT_HTTPHEADER, r->headers);
	SET(CURLOPT_ACCEPT_ENCODING, "");
	SET(CURLOPT_USERAGENT, r->user_agent ? r->user_agent : f->user_agent);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, r->post ? 0L : 1L);
	SET(CURLOPT_MAXREDIRS, (long)FEEDD_MAX_REDIRECTS);
	if (r->post) {
		/* The size first: with it set, curl never calls strlen(). */
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
		SET(CURLOPT_POSTFIELDS, r->body ? r->body : "");
	}
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, r->connect_timeout_ms);
	SET(CURLOPT_TIMEOUT_MS, r->timeout_ms);
	SET(CURLOPT_LOW_SPEED_LIMIT, r->low_speed_bytes);
	SET(CURLOPT_LOW_SPEED_TIME, r->low_speed_s);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)r->max_body);
	if (r->proxy)
		SET(CURLOPT_PROXY, r->proxy);
	if (r->username) {
		SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		SET(CURLOPT_USERNAME, r->username);
		SET(CURLOPT_PASSWORD, r->password ? r->password : "");
	}
	/* Over TLS, wait for the first connection's ALPN answer rather than
	 * open a second one: with HTTP/2 both transfers share it. */
	if (strncasecmp(r->url, "https:", 6) == 0)
		SET(CURLOPT_PIPEWAIT, 1L);
	if (cc != CURLE_OK) {
		rc = cc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO;
		goto out;
	}
	if (curl_multi_add_handle(f->multi, e) != CURLM_OK)
		rc = -EIO;
out:
	return rc;
}

#undef SET

/* Start queued transfers while the caps allow. Only from our own frames. */
static void
start_ready(struct fetch *f)
{
	static const char *why[] = { "out of memory", "could not set up the transfer" };

	while (f->running < f->max_total && !list_empty(&f->ready) &&
		!f->destroying && !f->destroy_pending) {
		struct host *h = container_of(f->ready.next, struct host, ready_link);
		struct fetch_req *r = container_of(h->waiting.next,
			struct fetch_req, link_q);
		int rc;

		list_del(&r->link_q);
		/* Round robin: the host goes to the back of the line. */
		list_del(&h->ready_link);
		h->in_ready = false;
		rc = launch(r);
		if (rc < 0) {
			host_update(f, h);
			finish_simple(r, FETCH_FAILED, rc, "request",
				why[rc == -ENOMEM ? 0 : 1]);
			continue;
		}
		r->state = REQ_RUNNING;
		h->running++;
		f->running++;
		if (r->keep)
			f->keep_running++;
		host_update(f, h);
	}
}

static void
drain(struct fetch *f)
{
	CURLMsg *m;
	int left;

	while (f->multi && (m = curl_multi_info_read(f->multi, &left))) {
		struct fetch_req *r = NULL;
		CURLcode code;

		if (m->msg != CURLMSG_DONE)
			continue;
		code = m->data.result;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		if (!r || r->state != REQ_RUNNING)
			continue;
		complete(r, code);
	}
	start_ready(f);
}

static void do_destroy(struct fetch *f);

static void
kick_cb(uv_idle_t *h)
{
	struct fetch *f = h->data;

	uv_idle_stop(&f->kick);
	f->depth++;
	if (f->destroy_pending) {
		do_destroy(f);
	} else {
		while (!list_empty(&f->cancelled)) {
			struct fetch_req *r = container_of(f->cancelled.next,
				struct fetch_req, link_q);
			finish_simple(r, FETCH_CANCELLED, -ECANCELED, "cancel",
				"cancelled");
		}
		start_ready(f);
	}
	f->depth--;
}

static void
kick(struct fetch *f)
{
	if (!f->destroying && !uv_is_active((uv_handle_t *)&f->kick))
		uv_idle_start(&f->kick, kick_cb);
}

/* ---- the curl <-> uv bridge ---- */

static void
after_action(struct fetch *f)
{
	drain(f);
	f->depth--;
}

static void
poll_cb(uv_poll_t *h, int status, int events)
{
	struct sock *s = h->data;
	struct fetch *f = s->f;
	int flags = 0, running;

	/* On a poll error (a reset connection) let curl read as well: with
	 * CURL_CSELECT_ERR alone it reports only "select/poll returned
	 * error", while a read names the cause ("Connection reset by peer"). */
	if (status < 0)
		flags |= CURL_CSELECT_ERR | CURL_CSELECT_IN;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	f->depth++;
	curl_multi_socket_action(f->multi, s->fd, flags, &running);
	after_action(f);
}

static void
timer_cb(uv_timer_t *h)
{
	struct fetch *f = h->data;
	int running;

	f->depth++;
	curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	after_action(f);
}

static int
timer_fn(CURLM *m, long timeout_ms, void *ud)
{
	struct fetch *f = ud;

	if (f->destroying)
		return 0;
	if (timeout_ms < 0)
		uv_timer_stop(&f->timer);
	else
		uv_timer_start(&f->timer, timer_cb, (uint64_t)timeout_ms, 0);
	return 0;
}

static void
free_fetch(struct fetch *f)
{
	free(f->pool);
	free(f->byfd);
	free(f->htab);
	free(f->user_agent);
	free(f);
}

static void
handle_closed(uv_handle_t *h)
{
	struct fetch *f = h->data;
	if (--f->handles == 0)
		free_fetch(f);
}

static void
sock_closed(uv_handle_t *h)
{
	struct sock *s = h->data;
	struct fetch *f = s->f;

	free(s);
	if (--f->handles == 0)
		free_fetch(f);
}

static void
sock_close(struct sock *s)
{
	struct fetch *f = s->f;

	if (s->cached)
		f->byfd[s->fd] = NULL;
	uv_poll_stop(&s->poll);
	list_del(&s->link);
	uv_close((uv_handle_t *)&s->poll, sock_closed);
}

static int
sock_cb(CURL *e, curl_socket_t fd, int what, void *ud, void *sockp)
{
	struct fetch *f = ud;
	struct sock *s = sockp;
	int events = 0;

	/*
	 * curl says REMOVE at the end of every transfer, and a kept-alive
	 * connection comes back with the next one. Creating a uv_poll_t costs
	 * libuv four system calls (an epoll probe, FIONBIO) and closing it two,
	 * so the handle of each fd number stays, stopped, for the next socket
	 * with that number. A stopped uv_poll_t holds no kernel state, so the
	 * number being closed and reused meanwhile does not matter.
	 */
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			if (s->cached)
				uv_poll_stop(&s->poll);
			else
				sock_close(s);
			if (!f->destroying)
				curl_multi_assign(f->multi, fd, NULL);
		}
		return 0;
	}
	if (!s && fd >= 0 && (size_t)fd < f->nbyfd)
		s = f->byfd[fd];
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -1;
		if (uv_poll_init_socket(f->loop, &s->poll, fd) < 0) {
			free(s);
			return -1;
		}
		s->poll.data = s;
		s->f = f;
		s->fd = fd;
		f->handles++;
		list_add_tail(&f->socks, &s->link);
		if (fd >= 0 && (size_t)fd >= f->nbyfd) {
			size_t n = f->nbyfd ? f->nbyfd : 64;
			struct sock **nb;
			while (n <= (size_t)fd)
				n *= 2;
			nb = realloc(f->byfd, n * sizeof(*nb));
			if (nb) {
				memset(nb + f->nbyfd, 0, (n - f->nbyfd) * sizeof(*nb));
				f->byfd = nb;
				f->nbyfd = n;
			}
		}
		/* Without room in byfd, the handle is closed at REMOVE. */
		if (fd >= 0 && (size_t)fd < f->nbyfd) {
			f->byfd[fd] = s;
			s->cached = true;
		}
	}
	if (!sockp)
		curl_multi_assign(f->multi, fd, s);
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	uv_poll_start(&s->poll, events, poll_cb);
	return 0;
}

/* ---- public API ---- */

int
fetch_create(struct fetch **out, uv_loop_t *loop, const struct fetch_opts *o)
{
	struct fetch *f = NULL;
	int rc = 0;

	if (!out || !loop)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f) {
		rc = -ENOMEM;
		goto out;
	}
	f->loop = loop;
	f->max_total = o && o->max_total ? o->max_total : 32;
	f->max_per_host = o && o->max_per_host ? o->max_per_host : 2;
	f->max_idle = 4 * f->max_total;
	f->user_agent = strdup(o && o->user_agent ? o->user_agent :
		"feedd/" FEEDD_VERSION);
	list_init(&f->all);
	list_init(&f->ready);
	list_init(&f->cancelled);
	list_init(&f->socks);
	list_init(&f->recent);
	/* Without a pool (no memory for it) handles are simply not reused. */
	f->pool = calloc(f->max_total, sizeof(*f->pool));
	if (!f->user_agent || host_grow(f) < 0) {
		rc = -ENOMEM;
		goto out;
	}
	f->multi = curl_multi_init();
	f->share = curl_share_init();
	if (!f->multi || !f->share) {
		rc = -ENOMEM;
		goto out;
	}
	/* The multi handle already shares connections among its transfers;
	 * TLS sessions live in each easy handle unless shared, and ours are
	 * short-lived, so share them. No locks: one thread.
	 *
	 * DNS is deliberately not cached across transfers (timeout 0 in
	 * start_req). libcurl 7.88 prunes its DNS cache on every finished
	 * transfer (multi_done -> Curl_hostcache_prune walks the whole hash)
	 * and the shared cache has 23 buckets: with the default 60 s
	 * lifetime it holds every host of the last minute, so each poll cost
	 * O(hosts). Measured with bench_fetch, 40,000 requests to one nginx:
	 * 0.035 ms of CPU per request over 200 hosts, 1.66 ms over 20,000
	 * hosts, 2.2 ms over 40,000; with the cache off, 0.10-0.15 ms over
	 * 8,000 distinct hosts (each a new connection) and 0.98 ms over
	 * 20,000 hosts visited twice each: the second per-host cost was the
	 * connection cache's empty bundles, see the comment above
	 * FETCH_KEEP_S. A host polled often reuses its kept-alive
	 * connection, which needs no lookup; the rest are minutes apart,
	 * longer than that cache's lifetime anyway. A local caching resolver
	 * serves repeated lookups at their real TTL.
	 *
	 * CURLMOPT_MAXCONNECTS is set high enough that curl never finds its
	 * connection cache full (see FETCH_KEEP_S): fetch/ closes the
	 * connections itself before that. */
	if (curl_share_setopt(f->share, CURLSHOPT_SHARE,
			CURL_LOCK_DATA_SSL_SESSION) ||
		curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, sock_cb) ||
		curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f) ||
		curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, timer_fn) ||
		curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f) ||
		curl_multi_setopt(f->multi, CURLMOPT_PIPELINING,
			(long)CURLPIPE_MULTIPLEX) ||
		curl_multi_setopt(f->multi, CURLMOPT_MAXCONNECTS,
			(long)(f->max_idle +
			(FEEDD_MAX_REDIRECTS + 1) * f->max_total))) {
		rc = -EIO;
		goto out;
	}
	/* uv_timer_init and uv_idle_init cannot fail on Unix; from here on
	 * the object is freed by its close callbacks. */
	uv_timer_init(loop, &f->timer);
	uv_idle_init(loop, &f->kick);
	f->timer.data = f;
	f->kick.data = f;
	f->handles = 2;
	*out = f;
	f = NULL;
out:
	if (f) {
		if (f->multi)
			curl_multi_cleanup(f->multi);
		if (f->share)
			curl_share_cleanup(f->share);
		free_fetch(f);
	}
	return rc;
}

/* *dst = a copy of s (NULL stays NULL). A validator that could break out
 * of its header line is dropped instead. Returns 0 or -ENOMEM. */
static int
copy_opt(char **dst, const char *s, bool validator)
{
	*dst = NULL;
	if (!s || (validator && !header_safe(s, strlen(s))))
		return 0;
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

static bool
env_proxy(void)
{
	/* The variables libcurl reads (it ignores upper-case HTTP_PROXY). */
	static const char *vars[] = { "http_proxy", "https_proxy",
		"HTTPS_PROXY", "all_proxy", "ALL_PROXY" };
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);
		if (v && *v)
			return true;
	}
	return false;
}

/* A caller's header line: "Name: value" (or curl's "Name;" for an empty
 * value), with a name of token characters and nothing that could end the
 * line early. */
static bool
header_line_ok(const char *s)
{
	size_t n = strcspn(s, ":;");

	if (n == 0 || !s[n] || !header_safe(s, strlen(s)))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("!#$%&'*+-.^_`|~", s[i]) &&
			!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
			  (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return true;
}

static int
start_req(struct fetch *f, const struct fetch_req_opts *o, bool post,
	const void *body, size_t body_len, struct fetch_req **out)
{
	struct fetch_req *r = NULL;
	struct host *h;
	char *hostname = NULL;
	bool scheme_ok;
	int rc = 0;

	if (!f || !o || !o->url || !o->on_done || (body_len && !body)) {
		rc = -EINVAL;
		goto out;
	}
	for (const char *const *hl = o->headers; hl && *hl; hl++) {
		if (!header_line_ok(*hl)) {
			rc = -EINVAL;
			goto out;
		}
	}
	if (f->destroying || f->destroy_pending) {
		rc = -ECANCELED;
		goto out;
	}
	hostname = url_host(o->url, &scheme_ok);
	if (!hostname || !scheme_ok) {
		rc = -EINVAL;
		goto out;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		rc = -ENOMEM;
		goto out;
	}
	list_init(&r->link_all);
	list_init(&r->link_q);
	r->f = f;
	r->url = strdup(o->url);
	if (!r->url || copy_opt(&r->etag, o->etag, true) < 0 ||
		copy_opt(&r->last_modified, o->last_modified, true) < 0 ||
		copy_opt(&r->user_agent, o->user_agent, false) < 0 ||
		copy_opt(&r->proxy, o->proxy, false) < 0 ||
		copy_opt(&r->username, o->username, false) < 0 ||
		copy_opt(&r->password, o->password, false) < 0) {
		rc = -ENOMEM;
		goto out;
	}
	r->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 15000;
	r->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 60000;
	r->low_speed_bytes = o->low_speed_bytes > 0 ? o->low_speed_bytes : 16;
	r->low_speed_s = o->low_speed_s > 0 ? o->low_speed_s : 30;
	r->max_body = o->max_body ? o->max_body : FEEDD_MAX_BODY;
	r->allow_private = o->allow_private;
	r->public_only = o->public_only;
	r->proxied = o->proxy ? *o->proxy != '\0' : env_proxy();
	r->on_data = o->on_data;
	r->on_done = o->on_done;
	r->ud = o->ud;
	r->post = post;
	if (post && body_len) {
		r->body = malloc(body_len);
		if (!r->body) {
			rc = -ENOMEM;
			goto out;
		}
		memcpy(r->body, body, body_len);
		r->body_len = body_len;
	}
	for (const char *const *hl = o->headers; hl && *hl; hl++) {
		struct curl_slist *t = curl_slist_append(r->extra, *hl);
		if (!t) {
			rc = -ENOMEM;
			goto out;
		}
		r->extra = t;
	}

	h = host_get(f, hostname);
	if (!h) {
		rc = -ENOMEM;
		goto out;
	}
	r->host = h;
	h->refs++;
	r->state = REQ_QUEUED;
	list_add_tail(&h->waiting, &r->link_q);
	list_add_tail(&f->all, &r->link_all);
	f->pending++;
	host_update(f, h);
	kick(f);
	if (out)
		*out = r;
	r = NULL;
out:
	if (r)
		req_free(r);
	free(hostname);
	return rc;
}

int
fetch_start(struct fetch *f, const struct fetch_req_opts *o,
	struct fetch_req **out)
{
	return start_req(f, o, false, NULL, 0, out);
}

int
fetch_post(struct fetch *f, const struct fetch_req_opts *o, const void *body,
	size_t len, struct fetch_req **out)
{
	return start_req(f, o, true, body, len, out);
}

void
fetch_req_cancel(struct fetch_req *r)
{
	struct fetch *f;

	if (!r || r->cancelled || r->state == REQ_DONE)
		return;
	f = r->f;
	r->cancelled = true;
	if (r->state == REQ_QUEUED) {
		list_del(&r->link_q);
		host_update(f, r->host);   /* refs > 0: h stays */
	}
	list_add_tail(&f->cancelled, &r->link_q);
	kick(f);
}

unsigned
fetch_pending(const struct fetch *f)
{
	return f ? f->pending : 0;
}

static void
do_destroy(struct fetch *f)
{
	f->destroying = true;
	f->destroy_pending = false;
	uv_idle_stop(&f->kick);
	uv_timer_stop(&f->timer);
	while (!list_empty(&f->all)) {
		struct fetch_req *r = container_of(f->all.next, struct fetch_req,
			link_all);
		r->cancelled = true;
		finish_simple(r, FETCH_CANCELLED, -ECANCELED, "cancel",
			"cancelled");
	}
	while (!list_empty(&f->recent)) {
		struct host *h = container_of(f->recent.next, struct host,
			recent_link);
		list_del(&h->recent_link);
		host_free(f, h);
	}
	while (f->npool)
		curl_easy_cleanup(f->pool[--f->npool]);
	/* Idle connections still have sockets; stop watching them before
	 * curl closes them, and close our handles after. */
	for (struct list *l = f->socks.next; l != &f->socks; l = l->next)
		uv_poll_stop(&container_of(l, struct sock, link)->poll);
	curl_multi_cleanup(f->multi);
	f->multi = NULL;
	curl_share_cleanup(f->share);
	f->share = NULL;
	while (!list_empty(&f->socks))
		sock_close(container_of(f->socks.next, struct sock, link));
	uv_close((uv_handle_t *)&f->timer, handle_closed);
	uv_close((uv_handle_t *)&f->kick, handle_closed);
}

void
fetch_destroy(struct fetch *f)
{
	if (!f || f->destroying || f->destroy_pending)
		return;
	if (f->depth > 0) {
		/* Called from inside one of our callbacks: finish there. */
		f->destroy_pending = true;
		if (!uv_is_active((uv_handle_t *)&f->kick))
			uv_idle_start(&f->kick, kick_cb);
		return;
	}
	do_destroy(f);
}
