/*
 * notify: sd_notify(3) by hand. One datagram per message to the AF_UNIX
 * socket named by $NOTIFY_SOCKET: a file system path, or "@name" for
 * Linux's abstract namespace. A fresh socket per message keeps this free
 * of state, and feedd sends only a handful of messages per minute.
 */
#include "notify.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int
notify_send(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t plen;
	socklen_t salen;
	ssize_t n;
	int fd = -1, rc = 0;

	if (!path || !*path)
		goto out;
	if (path[0] != '/' && path[0] != '@') {
		/* systemd also knows "vsock:..." addresses; feedd does not. */
		rc = -EAFNOSUPPORT;
		goto out;
	}
	plen = strlen(path);
	if (plen >= sizeof(sa.sun_path)) {
		rc = -ENAMETOOLONG;
		goto out;
	}
	memcpy(sa.sun_path, path, plen);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	/* An abstract name is exactly plen bytes long (no terminator). */
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen +
		(path[0] == '/'));

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	/* Never block the loop on a notify reader that stopped draining
	 * (systemd always drains; a test or a wrapper may not): a full
	 * socket buffer loses this one message with -EAGAIN instead. */
	do
		n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT,
			(const struct sockaddr *)&sa, salen);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		rc = -errno;
	else if ((size_t)n != strlen(msg))
		rc = -EIO;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int
notify_sendf(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= sizeof(buf))
		return -EMSGSIZE;
	return notify_send(buf);
}

uint64_t
notify_watchdog_usec(void)
{
	const char *us = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	char *end;
	uint64_t v;

	if (!us || !*us)
		return 0;
	if (pid && *pid) {
		errno = 0;
		long long p = strtoll(pid, &end, 10);
		if (errno || *end || p != (long long)getpid())
			return 0;
	}
	if (*us < '0' || *us > '9')
		return 0;
	errno = 0;
	v = strtoull(us, &end, 10);
	if (errno || *end)
		return 0;
	return v;
}
