/*
 * sched: when is a feed next due? A pure computation, table-tested.
 * The runtime (timers, per-host spacing) lives in the daemon's wiring.
 */
#ifndef FEEDD_DAEMON_SCHED_H
#define FEEDD_DAEMON_SCHED_H

#include <stdbool.h>
#include <stdint.h>

/* What one poll produced, as far as scheduling cares. */
struct sched_input {
	int64_t now;              /* Unix seconds, when the poll finished */
	int64_t interval_s;       /* configured interval (the floor) */
	int64_t ceiling_s;        /* never wait longer than this (default 24h) */
	bool ok;                  /* 2xx or 304 */
	int http_status;          /* 0 when no response */
	int failures;             /* consecutive failures INCLUDING this poll */
	int64_t retry_after_s;    /* -1 when absent */
	/* Feed hints (0 / -1 when absent): */
	int ttl_minutes;          /* RSS ttl, -1 absent */
	uint32_t skip_hours;      /* bit h: skip hour h UTC */
	uint8_t skip_days;        /* bit d: skip day d, 0 = Sunday */
	int64_t update_period_s;  /* sy:updatePeriod / updateFrequency */
	int64_t max_age_s;        /* Cache-Control max-age, -1 absent */
	int64_t expires_at;       /* Expires as Unix seconds, 0 absent */
	uint32_t jitter_seed;     /* deterministic jitter source */
};

/* The Unix time the feed is next due. */
int64_t sched_next_due(const struct sched_input *in);

#endif
