/*
 * notify: systemd's sd_notify datagram protocol, written by hand (no
 * libsystemd). Sends to $NOTIFY_SOCKET (a path, or "@name" abstract).
 */
#ifndef FEEDD_DAEMON_NOTIFY_H
#define FEEDD_DAEMON_NOTIFY_H

#include <stdint.h>

/* Send one message such as "READY=1" or "STATUS=...". Returns 0, or a
 * negative errno; 0 as well when $NOTIFY_SOCKET is unset. */
int notify_send(const char *msg);

/* printf-style convenience. */
int notify_sendf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* WatchdogSec as microseconds from $WATCHDOG_USEC (when $WATCHDOG_PID is
 * ours or unset); 0 when the watchdog is off. */
uint64_t notify_watchdog_usec(void);

#endif
