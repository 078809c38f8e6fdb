/*
 * listen: the `listen` directive and its socket. See listen.h.
 */
#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int
listen_addr_parse(const char *s, struct listen_addr *out, const char **why)
{
	struct listen_addr a = { 0 };
	char host[INET6_ADDRSTRLEN + 1];
	const char *port, *hend;
	size_t hlen;
	long p = 0;

	*why = NULL;
	if (!s || !*s) {
		*why = "empty address";
		return -EINVAL;
	}
	if (s[0] == '/') {
		struct sockaddr_un *un = (struct sockaddr_un *)&a.ss;
		size_t n = strlen(s);

		if (n >= sizeof(un->sun_path)) {
			*why = "Unix socket path too long (at most 107 bytes)";
			return -EINVAL;
		}
		if (s[n - 1] == '/') {
			*why = "a Unix socket path names a file, not a directory";
			return -EINVAL;
		}
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, s, n + 1);
		a.len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
		a.family = AF_UNIX;
		*out = a;
		return 0;
	}
	if (s[0] == '[') {
		hend = strchr(s, ']');
		if (!hend || hend[1] != ':') {
			*why = "expected [IPV6]:PORT";
			return -EINVAL;
		}
		hlen = (size_t)(hend - s - 1);
		memcpy(host, s + 1, hlen < sizeof(host) ? hlen : 0);
		port = hend + 2;
	} else {
		hend = strrchr(s, ':');
		if (!hend) {
			*why = "expected IPV4:PORT, [IPV6]:PORT or an absolute path";
			return -EINVAL;
		}
		hlen = (size_t)(hend - s);
		memcpy(host, s, hlen < sizeof(host) ? hlen : 0);
		port = hend + 1;
	}
	if (hlen == 0 || hlen >= sizeof(host)) {
		*why = "bad host (an IP address literal)";
		return -EINVAL;
	}
	host[hlen] = '\0';
	if (!*port || strspn(port, "0123456789") != strlen(port) ||
	    strlen(port) > 5 || (p = strtol(port, NULL, 10)) < 1 || p > 65535) {
		*why = "bad port (1 to 65535)";
		return -EINVAL;
	}
	if (s[0] == '[') {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a.ss;

		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1) {
			*why = "bad IPv6 address";
			return -EINVAL;
		}
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
		a.len = sizeof(*in6);
		a.family = AF_INET6;
	} else {
		struct sockaddr_in *in4 = (struct sockaddr_in *)&a.ss;

		if (inet_pton(AF_INET, host, &in4->sin_addr) != 1) {
			*why = strchr(host, ':') ?
				"an IPv6 address goes in brackets: [::1]:9370" :
				"bad IPv4 address (host names are not resolved)";
			return -EINVAL;
		}
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)p);
		a.len = sizeof(*in4);
		a.family = AF_INET;
	}
	*out = a;
	return 0;
}

void
listen_conf_cleanup(struct conf_listen *l)
{
	if (!l)
		return;
	if (l->password) {
		/* The secret does not outlive its config in freed memory. */
		explicit_bzero(l->password, strlen(l->password));
		free(l->password);
	}
	free(l->addr);
	free(l->user);
	free(l->password_file);
	free(l->file);
	memset(l, 0, sizeof(*l));
}

static int
dup_or_null(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

int
listen_conf_copy(struct conf_listen *dst, const struct conf_listen *src)
{
	struct conf_listen c = { .line = src->line };

	listen_conf_cleanup(dst);
	if (dup_or_null(&c.addr, src->addr) < 0 ||
	    dup_or_null(&c.user, src->user) < 0 ||
	    dup_or_null(&c.password_file, src->password_file) < 0 ||
	    dup_or_null(&c.password, src->password) < 0 ||
	    dup_or_null(&c.file, src->file) < 0) {
		listen_conf_cleanup(&c);
		return -ENOMEM;
	}
	*dst = c;
	return 0;
}

/* The first line of path (without its line end) into *out, malloc'd. */
static int
read_password(const char *path, char **out, char *err, size_t errlen)
{
	char buf[FEEDD_MAX_PASSWORD_FILE + 1];
	size_t len = 0;
	int fd, rc = 0;
	struct stat st;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot read password file '%s': %s", path,
			strerror(-rc));
		return -EINVAL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "password file '%s' is not a regular file",
			path);
		rc = -EINVAL;
		goto out;
	}
	while (len < sizeof(buf)) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "cannot read password file '%s': %s",
				path, strerror(errno));
			rc = -EINVAL;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > FEEDD_MAX_PASSWORD_FILE) {
		snprintf(err, errlen, "password file '%s' is longer than %d bytes",
			path, FEEDD_MAX_PASSWORD_FILE);
		rc = -EINVAL;
		goto out;
	}
	/* The first line; buf is not NUL-terminated (a file without a
	 * final newline ends at len). */
	{
		size_t total = len;

		for (len = 0; len < total && buf[len] != '\n' &&
		    buf[len] != '\r'; len++)
			;
	}
	if (len == 0 || memchr(buf, '\0', len)) {
		snprintf(err, errlen, "password file '%s': %s", path, len ?
			"the first line holds a NUL byte" : "the first line is empty");
		rc = -EINVAL;
		goto out;
	}
	*out = strndup(buf, len);
	rc = *out ? 0 : -ENOMEM;
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

/*
 * path made absolute: relative to the directory of file (the config file
 * holding the line), and that relative to the working directory, so the
 * printed config (conf_print) names the same file from anywhere.
 */
static int
resolve(const char *path, const char *file, char **out)
{
	const char *slash = file ? strrchr(file, '/') : NULL;
	char cwd[PATH_MAX];
	int n;

	if (path[0] == '/') {
		*out = strdup(path);
		return *out ? 0 : -ENOMEM;
	}
	if (slash && file[0] == '/')
		n = asprintf(out, "%.*s/%s", (int)(slash - file), file, path);
	else if (!getcwd(cwd, sizeof(cwd)))
		n = asprintf(out, "%.*s%s%s", slash ? (int)(slash - file) : 0,
			slash ? file : "", slash ? "/" : "", path);
	else if (slash)
		n = asprintf(out, "%s/%.*s/%s", strcmp(cwd, "/") ? cwd : "",
			(int)(slash - file), file, path);
	else
		n = asprintf(out, "%s/%s", strcmp(cwd, "/") ? cwd : "", path);
	if (n < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

int
listen_conf_set(struct conf_listen *l, int argc, char **argv,
	const char *file, int line, char *err, size_t errlen)
{
	struct conf_listen c = { .line = line };
	struct listen_addr a;
	const char *why, *pwfile = NULL;
	int rc = 0;

	err[0] = '\0';
	if (listen_addr_parse(argv[0], &a, &why) < 0) {
		snprintf(err, errlen, "bad address '%s': %s", argv[0], why);
		return -EINVAL;
	}
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "user=", 5) == 0 && !c.user) {
			if (!argv[i][5] || strchr(argv[i] + 5, ':')) {
				snprintf(err, errlen, "user= must be a non-empty "
					"name without ':'");
				rc = -EINVAL;
				goto out;
			}
			c.user = strdup(argv[i] + 5);
			if (!c.user) {
				rc = -ENOMEM;
				goto out;
			}
		} else if (strncmp(argv[i], "password-file=", 14) == 0 && !pwfile) {
			pwfile = argv[i] + 14;
			if (!*pwfile) {
				snprintf(err, errlen, "password-file= needs a path");
				rc = -EINVAL;
				goto out;
			}
		} else {
			snprintf(err, errlen, "unknown or repeated key '%.*s' (use "
				"user=NAME password-file=PATH)",
				(int)strcspn(argv[i], "="), argv[i]);
			rc = -EINVAL;
			goto out;
		}
	}
	if (!c.user != !pwfile) {
		snprintf(err, errlen, "user= and password-file= go together");
		rc = -EINVAL;
		goto out;
	}
	if (pwfile) {
		rc = resolve(pwfile, file, &c.password_file);
		if (rc < 0)
			goto out;
		rc = read_password(c.password_file, &c.password, err, errlen);
		if (rc < 0)
			goto out;
	}
	if (!(c.addr = strdup(argv[0])) ||
	    (file && !(c.file = strdup(file)))) {
		rc = -ENOMEM;
		goto out;
	}
	listen_conf_cleanup(l);
	*l = c;
	return 0;
out:
	listen_conf_cleanup(&c);
	return rc;
}

void
listen_conf_print(const struct conf_listen *l, void *file)
{
	FILE *f = file;

	if (!l->addr) {
		fputs("# listen (unset: no metrics or health endpoint)\n", f);
		return;
	}
	fprintf(f, "listen %s", l->addr);
	if (l->user)
		fprintf(f, " user=%s password-file=%s", l->user, l->password_file);
	fputc('\n', f);
}

int
listen_open(const char *addr, char *err, size_t errlen)
{
	struct listen_addr a;
	const char *why;
	int fd = -1, rc, one = 1;

	if (listen_addr_parse(addr, &a, &why) < 0) {
		snprintf(err, errlen, "bad address '%s': %s", addr, why);
		return -EINVAL;
	}
	fd = socket(a.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "socket for %s: %s", addr, strerror(-rc));
		return rc;
	}
	if (a.family == AF_UNIX) {
		struct stat st;

		/* A socket file left by a feedd that was killed: nobody
		 * listens there any more once we could not connect. Anything
		 * else at the path is not ours to remove. */
		if (lstat(addr, &st) == 0) {
			if (!S_ISSOCK(st.st_mode)) {
				snprintf(err, errlen, "bind %s: exists and is not "
					"a socket", addr);
				close(fd);
				return -EEXIST;
			}
			if (connect(fd, (struct sockaddr *)&a.ss, a.len) == 0 ||
			    errno == EAGAIN || errno == EINPROGRESS) {
				snprintf(err, errlen, "bind %s: %s (another "
					"process listens there)", addr,
					strerror(EADDRINUSE));
				close(fd);
				return -EADDRINUSE;
			}
			close(fd);
			fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
				SOCK_CLOEXEC, 0);
			if (fd < 0) {
				rc = -errno;
				snprintf(err, errlen, "socket for %s: %s", addr,
					strerror(-rc));
				return rc;
			}
			(void)unlink(addr);
		}
	} else {
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* [::]:PORT means IPv6 only; 0.0.0.0:PORT is the IPv4 one. */
		if (a.family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
				sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&a.ss, a.len) < 0 ||
	    (a.family == AF_UNIX && chmod(addr, 0660) < 0) ||
	    listen(fd, 16) < 0) {
		rc = -errno;
		snprintf(err, errlen, "bind %s: %s", addr, strerror(-rc));
		close(fd);
		return rc;
	}
	return fd;
}
