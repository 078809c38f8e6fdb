/*
 * metrics_http: /metrics and /healthz over libmicrohttpd. See
 * metrics_http.h.
 */
#include "metrics_http.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "log.h"

#define CONTENT_TYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define CONTENT_TYPE_TEXT "text/plain; charset=utf-8"
/* A scraper and a health checker or two; nobody else should be here. */
#define HTTP_MAX_CONNECTIONS 16
#define HTTP_TIMEOUT_S 10

struct metrics_http {
	struct metrics *m;            /* borrowed */
	struct MHD_Daemon *d;         /* owned; NULL: not serving */
	char *addr;                   /* owned: what d serves */
	pthread_mutex_t mu;           /* guards user and password */
	char *user, *password;        /* owned; NULL: no authentication */
};

static void
secret_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* Comparing credentials takes the same time whatever the first wrong byte
 * is. The lengths may differ; that is not a secret worth a timing oracle
 * of its own. */
static bool
same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;

	for (size_t i = 0; i < la; i++)
		d |= (unsigned char)a[i] ^ (unsigned char)b[i % (lb ? lb : 1)];
	return d == 0 && lb != 0;
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *type,
	char *body, size_t len, bool owned)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	r = owned ? MHD_create_response_from_buffer(len, body,
			MHD_RESPMEM_MUST_FREE) :
		MHD_create_response_from_buffer(len, body,
			MHD_RESPMEM_PERSISTENT);
	if (!r) {
		if (owned)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
reply_static(struct MHD_Connection *c, unsigned status, const char *text)
{
	return reply(c, status, CONTENT_TYPE_TEXT, (char *)text, strlen(text),
		false);
}

/* Whether the request carries the configured credentials (true when none
 * are configured). */
static bool
authorized(struct metrics_http *h, struct MHD_Connection *c)
{
	char *user, *pass = NULL;
	bool ok;

	pthread_mutex_lock(&h->mu);
	if (!h->user) {
		pthread_mutex_unlock(&h->mu);
		return true;
	}
	user = MHD_basic_auth_get_username_password(c, &pass);
	ok = user && pass && same(user, h->user) && same(pass, h->password);
	pthread_mutex_unlock(&h->mu);
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		MHD_free(pass);
	}
	if (user)
		MHD_free(user);
	return ok;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
	const char *method, const char *version, const char *upload_data,
	size_t *upload_size, void **con_cls)
{
	struct metrics_http *h = cls;
	char why[256], *body;
	size_t len;

	(void)version;
	(void)upload_data;
	(void)upload_size;
	(void)con_cls;
	if (!authorized(h, c)) {
		struct MHD_Response *r = MHD_create_response_from_buffer(
			strlen("unauthorized\n"), (void *)"unauthorized\n",
			MHD_RESPMEM_PERSISTENT);
		enum MHD_Result rc;

		if (!r)
			return MHD_NO;
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
			CONTENT_TYPE_TEXT);
		rc = MHD_queue_basic_auth_fail_response(c, "feedd", r);
		MHD_destroy_response(r);
		return rc;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_static(c, MHD_HTTP_METHOD_NOT_ALLOWED,
			"method not allowed\n");
	if (strcmp(url, "/metrics") == 0) {
		if (metrics_render(h->m, &body, &len) < 0)
			return reply_static(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				"out of memory\n");
		return reply(c, MHD_HTTP_OK, CONTENT_TYPE_METRICS, body, len,
			true);
	}
	if (strcmp(url, "/healthz") == 0) {
		bool ok = metrics_healthy(h->m, why, sizeof(why) - 1);

		if (asprintf(&body, "%s\n", why) < 0)
			return reply_static(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				"out of memory\n");
		return reply(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
			CONTENT_TYPE_TEXT, body, strlen(body), true);
	}
	return reply_static(c, MHD_HTTP_NOT_FOUND, "not found\n");
}

int
metrics_http_create(struct metrics_http **out, struct metrics *m)
{
	struct metrics_http *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	if (pthread_mutex_init(&h->mu, NULL) != 0) {
		free(h);
		return -ENOMEM;
	}
	h->m = m;
	*out = h;
	return 0;
}

/* A server on addr in *d (fd given over to it). 0 or a negative errno. */
static int
serve(struct metrics_http *h, const char *addr, struct MHD_Daemon **d,
	char *err, size_t errlen)
{
	int fd = listen_open(addr, err, errlen);

	if (fd < 0)
		return fd;
	*d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL,
		0, NULL, NULL, on_request, h,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNECTIONS,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S,
		MHD_OPTION_END);
	if (!*d) {
		snprintf(err, errlen, "%s: cannot start the HTTP server "
			"(libmicrohttpd)", addr);
		/* Whether a failed start closed the socket is not documented,
		 * and by now its number may belong to another thread's file
		 * (the store worker opens files at any time): never close it
		 * here. At worst one socket leaks per failed start. */
		if (addr[0] == '/')
			(void)unlink(addr);
		return -EIO;
	}
	return 0;
}

static void
unserve(struct MHD_Daemon *d, const char *addr)
{
	if (!d)
		return;
	MHD_stop_daemon(d);
	if (addr && addr[0] == '/')
		(void)unlink(addr);
}

int
metrics_http_apply(struct metrics_http *h, const struct conf_listen *l,
	char *err, size_t errlen)
{
	struct MHD_Daemon *nd = NULL;
	char *user = NULL, *pass = NULL, *naddr = NULL, e2[512];
	int rc = 0;

	err[0] = '\0';
	if ((l->user && !(user = strdup(l->user))) ||
	    (l->password && !(pass = strdup(l->password))) ||
	    (l->addr && !(naddr = strdup(l->addr)))) {
		free(user);
		secret_free(pass);
		free(naddr);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_lock(&h->mu);
	free(h->user);
	secret_free(h->password);
	h->user = user;
	h->password = pass;
	pthread_mutex_unlock(&h->mu);

	if (!naddr) {
		unserve(h->d, h->addr);
		h->d = NULL;
		free(h->addr);
		h->addr = NULL;
		return 0;
	}
	if (h->addr && strcmp(h->addr, naddr) == 0) {
		free(naddr);
		return 0;
	}
	rc = serve(h, naddr, &nd, err, errlen);
	if (rc == -EADDRINUSE && h->d) {
		/* The same port on another address of ours: let it go. */
		unserve(h->d, h->addr);
		h->d = NULL;
		rc = serve(h, naddr, &nd, err, errlen);
		if (rc < 0) {
			if (serve(h, h->addr, &h->d, e2, sizeof(e2)) == 0) {
				size_t n = strlen(err);

				snprintf(err + n, errlen - n, "; still serving "
					"on %s", h->addr);
			} else {
				size_t n = strlen(err);

				snprintf(err + n, errlen - n, "; and %s: no "
					"longer serving", e2);
				free(h->addr);
				h->addr = NULL;
			}
			free(naddr);
			return rc;
		}
	} else if (rc < 0) {
		if (h->addr) {
			size_t n = strlen(err);

			snprintf(err + n, errlen - n, "; still serving on %s",
				h->addr);
		}
		free(naddr);
		return rc;
	}
	unserve(h->d, h->addr);
	free(h->addr);
	h->d = nd;
	h->addr = naddr;
	return 0;
}

int
metrics_http_configure(struct metrics_http *h, const struct conf *c, bool off)
{
	static const struct conf_listen none = { 0 };
	char err[1024];
	int rc;

	rc = metrics_http_apply(h, off ? &none : &c->listen, err, sizeof(err));
	if (rc < 0)
		log_err("sys", "%s:%d: listen: %s", c->listen.file ?
			c->listen.file : c->path, c->listen.line, err);
	return rc;
}

const char *
metrics_http_addr(const struct metrics_http *h)
{
	return h && h->d ? h->addr : NULL;
}

void
metrics_http_destroy(struct metrics_http *h)
{
	if (!h)
		return;
	unserve(h->d, h->addr);
	free(h->addr);
	free(h->user);
	secret_free(h->password);
	pthread_mutex_destroy(&h->mu);
	free(h);
}
