/*
 * sched: the next-due computation. No clock, no state: everything comes in
 * struct sched_input, so the table in tests/unit/test_sched.c pins it down.
 *
 * The rules, in order:
 *   - the configured interval is the floor: a feed is never polled sooner;
 *   - the ceiling (max-interval, default 24h) is the cap on every delay,
 *     but never below the interval itself;
 *   - success: a feed's hints (ttl, sy:updatePeriod, Cache-Control max-age,
 *     Expires) can only make the delay longer; skipHours/skipDays then move
 *     the due time out of the skipped hours and days (UTC);
 *   - failure: min(60 s, interval) * 2^(failures-1), with +-10% jitter:
 *     a DNS blip must not cost a daily feed a day, a feed polled every
 *     10 s is retried after 10 s, and a feed that stays down backs off
 *     to the ceiling. 429 and
 *     503 with Retry-After wait at least that long. There is no give-up:
 *     at the ceiling a failing feed is still tried every ceiling.
 */
#include "sched.h"

#include <string.h>

#define SCHED_DEFAULT_CEILING (24 * 3600)
#define SCHED_RETRY_BASE 60      /* the first retry after a failure */

static int64_t
max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* A well-mixed 32-bit value from x (the murmur3 finalizer). */
static uint32_t
mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x;
}

/* Move t forward out of skipped UTC hours and weekdays. A mask that skips
 * every hour or every day is nonsense from the feed, and is ignored. */
static int64_t
skip_forward(int64_t t, uint32_t skip_hours, uint8_t skip_days)
{
	skip_hours &= 0xffffffu;
	skip_days &= 0x7fu;
	if (skip_hours == 0xffffffu)
		skip_hours = 0;
	if (skip_days == 0x7fu)
		skip_days = 0;
	if (t < 0 || (!skip_hours && !skip_days))
		return t;
	/* At most 7 day jumps and 23 hour jumps are ever needed. */
	for (int guard = 0; guard < 24 * 8; guard++) {
		int64_t day = t / 86400;
		int wday = (int)((day + 4) % 7); /* 1970-01-01 was a Thursday */
		int hour = (int)((t / 3600) % 24);
		if (skip_days & (1u << wday)) {
			t = (day + 1) * 86400;
			continue;
		}
		if (skip_hours & (1u << hour)) {
			t = (t / 3600 + 1) * 3600;
			continue;
		}
		break;
	}
	return t;
}

int64_t
sched_next_due(const struct sched_input *in)
{
	int64_t interval = max64(in->interval_s, 1);
	int64_t ceiling = in->ceiling_s > 0 ? in->ceiling_s : SCHED_DEFAULT_CEILING;
	int64_t delay, due;

	/* A feed configured to poll less often than the ceiling keeps its
	 * interval: the ceiling limits hints and backoff, not the config. */
	ceiling = max64(ceiling, interval);

	if (!in->ok) {
		int failures = in->failures > 0 ? in->failures : 1;
		int32_t j;

		delay = min64(SCHED_RETRY_BASE, interval);
		for (int i = 1; i < failures && delay < ceiling; i++)
			delay *= 2;
		delay = min64(delay, ceiling);
		/* +-10% spreads feeds that failed together (one host down). */
		j = (int32_t)(mix32(in->jitter_seed ^ mix32((uint32_t)failures)) % 2001) - 1000;
		delay += delay * j / 10000;
		if ((in->http_status == 429 || in->http_status == 503) &&
		    in->retry_after_s >= 0)
			delay = max64(delay, in->retry_after_s);
		delay = min64(max64(delay, 1), ceiling);
		return in->now + delay;
	}

	delay = interval;
	if (in->ttl_minutes > 0)
		delay = max64(delay, (int64_t)in->ttl_minutes * 60);
	if (in->update_period_s > 0)
		delay = max64(delay, in->update_period_s);
	if (in->max_age_s > 0)
		delay = max64(delay, in->max_age_s);
	if (in->expires_at > in->now)
		delay = max64(delay, in->expires_at - in->now);
	delay = min64(delay, ceiling);
	due = skip_forward(in->now + delay, in->skip_hours, in->skip_days);
	return min64(due, in->now + ceiling);
}
