/*
 * metrics_http: the HTTP endpoints of `listen` (listen.h), served by
 * libmicrohttpd on a thread of its own.
 *
 *   GET /metrics   metrics_render(): the Prometheus text format
 *   GET /healthz   200 "ok", or 503 with metrics_healthy()'s reason
 *
 * HEAD works as GET without the body; other methods get 405, other paths
 * 404. With user= and password-file= every request needs HTTP Basic
 * credentials (401 otherwise). The HTTP thread reads only the struct
 * metrics (under its mutex) and the credentials (under this object's);
 * it never sees the loop's data.
 *
 * The object itself is the loop thread's: create, apply and destroy are
 * called from there (apply may block briefly: it binds, and stopping the
 * server joins its thread).
 */
#ifndef FEEDD_DAEMON_METRICS_HTTP_H
#define FEEDD_DAEMON_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "listen.h"
#include "metrics.h"

struct metrics_http;

/* Not serving yet. m is borrowed and must outlive the object. 0 or
 * -ENOMEM (*out untouched). */
int metrics_http_create(struct metrics_http **out, struct metrics *m);

/*
 * Serve what l says (start-up and each reload). The credentials are
 * swapped at once. If the address is the one being served, nothing else
 * changes; a new address is bound before the old one is let go, except
 * when the new one is busy (the same port on another address, say): then
 * the old server stops first, and if the new address still cannot be
 * bound, the old one is bound again. No address stops serving.
 * Returns 0, or a negative errno with err saying what happened
 * ("bind 127.0.0.1:9370: Address already in use; still serving on ...").
 */
int metrics_http_apply(struct metrics_http *h, const struct conf_listen *l,
	char *err, size_t errlen);

/* metrics_http_apply() for c's `listen` (nothing when off: --once does
 * not serve, or a cron run beside the daemon would find its address
 * taken), logging a failure at err with the line's file:line. */
int metrics_http_configure(struct metrics_http *h, const struct conf *c,
	bool off);

/* The address being served, or NULL. Borrowed until the next apply. */
const char *metrics_http_addr(const struct metrics_http *h);

/* Stop serving (a Unix socket's file is removed) and free h. NULL is a
 * no-op. */
void metrics_http_destroy(struct metrics_http *h);

#endif
