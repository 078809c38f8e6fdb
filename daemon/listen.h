/*
 * listen: the `listen` directive (feedd.conf(5)) and the socket it names,
 * for the metrics and health endpoints (metrics.h, docs/metrics.md).
 *
 *   listen 127.0.0.1:9370
 *   listen [::1]:9370 user=prometheus password-file=/etc/feedd/metrics.pw
 *   listen /run/feedd/metrics.sock
 *
 * The address is an IPv4 literal with a port, an IPv6 literal in brackets
 * with a port, or an absolute path for a Unix socket; host names are not
 * resolved (a config that means a different address after a DNS change is
 * a surprise). user= and password-file= come together and turn on HTTP
 * Basic authentication; the password is the first line of the file, read
 * when the config is read, so an unreadable or empty file is a config error
 * with file:line at start-up, on SIGHUP and from --check-config.
 *
 * Only the config parser (conf.c) and the HTTP server (metrics_http.c) use
 * this; any thread may call it, on its own objects.
 */
#ifndef FEEDD_DAEMON_LISTEN_H
#define FEEDD_DAEMON_LISTEN_H

#include <stddef.h>
#include <sys/socket.h>

/* Bytes of a password file that are read; a longer one is an error. */
#define FEEDD_MAX_PASSWORD_FILE 4096

struct conf_listen {
	char *addr;            /* owned; NULL: no HTTP endpoint (the default) */
	char *user;            /* owned; NULL: no authentication */
	char *password_file;   /* owned; as written, relative paths resolved
	                        * against the config file's directory */
	char *password;        /* owned; the file's first line. Never printed
	                        * or logged; wiped when freed. */
	char *file;            /* owned; where the line was, for messages */
	int line;
};

struct listen_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	int family;            /* AF_INET, AF_INET6 or AF_UNIX */
};

/* Parse "A.B.C.D:PORT", "[V6]:PORT" or "/path". 0, or -EINVAL with *why a
 * static string saying what is wrong. */
int listen_addr_parse(const char *s, struct listen_addr *out, const char **why);

/*
 * The arguments of one `listen` line (argv[0] the address, then key=value
 * words) into *l, replacing what it held; file and line name the line, and
 * a relative password-file resolves against file's directory. On -EINVAL,
 * err says why ("bad address '...': ..."; never the password) and *l is
 * untouched; -ENOMEM likewise.
 */
int listen_conf_set(struct conf_listen *l, int argc, char **argv,
	const char *file, int line, char *err, size_t errlen);

/* Free and zero *l (the password wiped first). */
void listen_conf_cleanup(struct conf_listen *l);

/* Copy src into *dst (cleaned up first). 0 or -ENOMEM (*dst zeroed). */
int listen_conf_copy(struct conf_listen *dst, const struct conf_listen *src);

/* The line for conf_print() (file is a FILE*): "listen ADDR [user=U
 * password-file=P]", or a comment when unset. */
void listen_conf_print(const struct conf_listen *l, void *file);

/*
 * A listening stream socket (non-blocking, close-on-exec) bound to a.
 * SO_REUSEADDR for TCP (a restart does not wait out TIME_WAIT); for a Unix
 * socket a stale socket file at the path is removed first (anything else
 * there is left alone: -EEXIST), and the new one is made mode 0660.
 * Returns the descriptor, or a negative errno with err saying what failed
 * ("bind 127.0.0.1:9370: Address already in use").
 */
int listen_open(const char *addr, char *err, size_t errlen);

#endif
