/*
 * Start and talk to tests/support/feedserver.py (the scriptable HTTP test
 * server; its route language is documented at the top of that file) from a
 * C test. Blocking calls, no event loop: use them before and after running
 * the loop under test, never from inside its callbacks.
 *
 *	struct feedserver s;
 *	if (feedserver_start(&s, NULL) < 0) return 77;   // no python3: skip
 *	... fetch feedserver_url(&s, buf, sizeof(buf), "/x?status=304") ...
 *	long peak = feedserver_stat(&s, "max_requests");
 *	feedserver_stop(&s);
 */
#ifndef FEEDD_TESTS_SUPPORT_FEEDSERVER_H
#define FEEDD_TESTS_SUPPORT_FEEDSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct feedserver {
	pid_t pid;
	int port;
	int stdin_fd;   /* the server exits when this closes */
};

/*
 * Start the server on 127.0.0.1 and a free port, serving static files from
 * root (may be NULL). The script is found through $FEEDD_FEEDSERVER, else
 * $FEEDD_TEST_DATA/../support/feedserver.py, else next to this file.
 * Returns 0, or -ENOENT when python3 or the script is missing (skip the
 * test), or another negative errno.
 */
int feedserver_start(struct feedserver *s, const char *root);

/* The same with more command-line arguments for feedserver.py (a NULL-
 * terminated list, may be NULL), e.g. { "--tls", NULL } for HTTPS with a
 * throw-away self-signed certificate. */
int feedserver_start_args(struct feedserver *s, const char *root,
	const char *const *args);

/* Another server script of tests/support/ that speaks the same protocol
 * (--exit-on-eof, then "PORT <n>" on stdout), such as
 * "webhook_receiver.py", with its arguments (NULL-terminated, may be
 * NULL). feedserver_stop() and feedserver_url() work on it too. */
int feedserver_start_script(struct feedserver *s, const char *name,
	const char *const *args);

/* Stop it and reap it. Safe on a server that failed to start. */
void feedserver_stop(struct feedserver *s);

/* "http://127.0.0.1:PORT" followed by path, in buf. Returns buf. */
char *feedserver_url(const struct feedserver *s, char *buf, size_t len,
	const char *path);

/*
 * GET path from the server with a plain socket; the body goes to buf
 * (NUL-terminated, truncated to len - 1). Returns the HTTP status, or a
 * negative errno.
 */
int feedserver_get(const struct feedserver *s, const char *path, char *buf,
	size_t len);

/* A counter of /_/stats ("requests", "max_requests", "max_connections",
 * ...), or -1. */
long feedserver_stat(const struct feedserver *s, const char *name);

/*
 * The header `name` of the latest request whose path starts with
 * path_prefix, exactly as the server received it, in buf. Returns 0, or
 * -ENOENT when there was no such request or header.
 */
int feedserver_header(const struct feedserver *s, const char *path_prefix,
	const char *name, char *buf, size_t len);

/* A counter of the requests that carried group=G in their query
 * ("requests", "active_requests", "max_requests"); 0 for an unseen group,
 * -1 on error. */
long feedserver_group_stat(const struct feedserver *s, const char *group,
	const char *name);

/* Forget logged requests and counters. */
void feedserver_reset(const struct feedserver *s);

#endif
