/*
 * Spawning tests/support/feedserver.py and asking it what it saw. See
 * feedserver.h.
 */
#include "feedserver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* name is a script in tests/support/; $FEEDD_FEEDSERVER overrides
 * feedserver.py only. */
static int
script_path(const char *name, char *buf, size_t len)
{
	const char *env = getenv("FEEDD_FEEDSERVER");
	const char *data = getenv("FEEDD_TEST_DATA");
	const char *here = __FILE__;
	const char *slash;

	if (env && *env && strcmp(name, "feedserver.py") == 0) {
		snprintf(buf, len, "%s", env);
	} else if (data && *data) {
		snprintf(buf, len, "%s/../support/%s", data, name);
	} else if ((slash = strrchr(here, '/'))) {
		snprintf(buf, len, "%.*s/%s", (int)(slash - here), here, name);
	} else {
		snprintf(buf, len, "%s", name);
	}
	return access(buf, R_OK) == 0 ? 0 : -ENOENT;
}

static int start(struct feedserver *s, const char *name, const char *root,
	const char *const *args);

int
feedserver_start(struct feedserver *s, const char *root)
{
	return feedserver_start_args(s, root, NULL);
}

int
feedserver_start_args(struct feedserver *s, const char *root,
	const char *const *args)
{
	return start(s, "feedserver.py", root, args);
}

int
feedserver_start_script(struct feedserver *s, const char *name,
	const char *const *args)
{
	return start(s, name, NULL, args);
}

static int
start(struct feedserver *s, const char *name, const char *root,
	const char *const *args)
{
	char script[4096], line[64];
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	char *argv[24];
	int argc = 0, rc = 0, n = 0;
	bool fa_ok = false;
	struct pollfd pfd;

	memset(s, 0, sizeof(*s));
	s->pid = -1;
	s->stdin_fd = -1;
	rc = script_path(name, script, sizeof(script));
	if (rc < 0)
		goto out;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		rc = -errno;
		goto out;
	}
	if (posix_spawn_file_actions_init(&fa) != 0) {
		rc = -ENOMEM;
		goto out;
	}
	fa_ok = true;
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	argv[argc++] = "python3";
	argv[argc++] = script;
	argv[argc++] = "--exit-on-eof";
	if (root) {
		argv[argc++] = "--root";
		argv[argc++] = (char *)root;
	}
	for (; args && *args && argc < (int)(sizeof(argv) / sizeof(argv[0])) - 1;
		args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	rc = posix_spawnp(&s->pid, "python3", &fa, NULL, argv, environ);
	if (rc != 0) {
		s->pid = -1;
		rc = rc == ENOENT ? -ENOENT : -rc;
		goto out;
	}
	close(in[0]);
	in[0] = -1;
	close(out[1]);
	out[1] = -1;
	s->stdin_fd = in[1];
	in[1] = -1;

	/* Read "PORT <n>\n", waiting at most 15 s for the interpreter. */
	pfd.fd = out[0];
	pfd.events = POLLIN;
	while (n < (int)sizeof(line) - 1 && !memchr(line, '\n', (size_t)n)) {
		ssize_t k;
		if (poll(&pfd, 1, 15000) <= 0) {
			rc = -ETIMEDOUT;
			goto out;
		}
		k = read(out[0], line + n, sizeof(line) - 1 - (size_t)n);
		if (k <= 0) {
			rc = -ENOENT;   /* python3 missing or the script died */
			goto out;
		}
		n += (int)k;
	}
	line[n] = '\0';
	if (sscanf(line, "PORT %d", &s->port) != 1 || s->port <= 0) {
		rc = -EPROTO;
		goto out;
	}
out:
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	if (rc < 0)
		feedserver_stop(s);
	return rc;
}

void
feedserver_stop(struct feedserver *s)
{
	if (s->stdin_fd >= 0) {
		close(s->stdin_fd);
		s->stdin_fd = -1;
	}
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
			;
		s->pid = -1;
	}
}

char *
feedserver_url(const struct feedserver *s, char *buf, size_t len,
	const char *path)
{
	snprintf(buf, len, "http://127.0.0.1:%d%s", s->port, path);
	return buf;
}

int
feedserver_get(const struct feedserver *s, const char *path, char *buf,
	size_t len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char req[1024], *resp = NULL, *body;
	size_t cap = 65536, got = 0;
	int fd = -1, rc = 0, status = 0;

	if (len)
		buf[0] = '\0';
	sa.sin_port = htons((uint16_t)s->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	resp = malloc(cap);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!resp || fd < 0) {
		rc = -ENOMEM;
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		goto out;
	}
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n"
		"Connection: close\r\n\r\n", path);
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
		rc = -errno;
		goto out;
	}
	for (;;) {
		ssize_t k = recv(fd, resp + got, cap - 1 - got, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
		if (got == cap - 1)
			break;
	}
	resp[got] = '\0';
	if (sscanf(resp, "HTTP/%*d.%*d %d", &status) != 1) {
		rc = -EPROTO;
		goto out;
	}
	body = strstr(resp, "\r\n\r\n");
	if (body && len)
		snprintf(buf, len, "%s", body + 4);
	rc = status;
out:
	if (fd >= 0)
		close(fd);
	free(resp);
	return rc;
}

long
feedserver_stat(const struct feedserver *s, const char *name)
{
	char path[256], buf[64];

	snprintf(path, sizeof(path), "/_/stat?name=%s", name);
	if (feedserver_get(s, path, buf, sizeof(buf)) != 200)
		return -1;
	return strtol(buf, NULL, 10);
}

long
feedserver_group_stat(const struct feedserver *s, const char *group,
	const char *name)
{
	char path[512], buf[64];

	snprintf(path, sizeof(path), "/_/stat?name=%s&group=%s", name, group);
	if (feedserver_get(s, path, buf, sizeof(buf)) != 200)
		return -1;
	return strtol(buf, NULL, 10);
}

/* Percent-encode everything but unreserved characters. */
static void
urlenc(char *dst, size_t len, const char *src)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *src && o + 4 < len; src++) {
		unsigned char c = (unsigned char)*src;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || strchr("-._~", c)) {
			dst[o++] = (char)c;
		} else {
			dst[o++] = '%';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
}

int
feedserver_header(const struct feedserver *s, const char *path_prefix,
	const char *name, char *buf, size_t len)
{
	char p[1024], n[128], path[1400];

	urlenc(p, sizeof(p), path_prefix);
	urlenc(n, sizeof(n), name);
	snprintf(path, sizeof(path), "/_/header?path=%s&name=%s", p, n);
	return feedserver_get(s, path, buf, len) == 200 ? 0 : -ENOENT;
}

void
feedserver_reset(const struct feedserver *s)
{
	char buf[64];
	feedserver_get(s, "/_/reset", buf, sizeof(buf));
}
