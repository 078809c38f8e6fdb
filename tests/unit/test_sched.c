/*
 * sched: the next-due computation as a table of
 * {interval, hints, failures, Retry-After, ceiling} -> due (with jitter
 * bounds), plus the first-poll spread.
 */
#include "sched.h"

#include "check.h"

#include <stdbool.h>

#define NOW 1795946400LL /* Sunday 2026-11-29 10:00:00 UTC */
#define M 60LL
#define H 3600LL
#define D 86400LL

#define SUN (1u << 0)
#define MON (1u << 1)
#define HOUR(h) (1u << (h))

/* Absent hints are -1 (ttl, Retry-After, max-age) or 0 (the rest). */
static const struct {
	const char *what;
	int64_t interval, ceiling;
	bool ok;
	int status, failures;
	int64_t retry_after;
	int ttl_min;
	int64_t update_period, max_age;
	int64_t expires_in;             /* Expires - now; 0 = absent */
	uint32_t skip_hours;
	uint8_t skip_days;
	int64_t lo, hi;                 /* due - now, inclusive */
} cases[] = {
	/* what, interval, ceiling, ok, status, failures, retry-after, ttl(min),
	 * updatePeriod, max-age, expires, skipHours, skipDays -> lo, hi */
	/* Success: the interval is the floor, hints only stretch it. */
	{ "plain interval", 30 * M, D, 1, 200, 0, -1, -1, 0, -1, 0, 0, 0, 30 * M, 30 * M },
	{ "304 counts as success", 30 * M, D, 1, 304, 0, -1, -1, 0, -1, 0, 0, 0, 30 * M, 30 * M },
	{ "ttl longer than interval", 30 * M, D, 1, 0, 0, -1, 60, 0, -1, 0, 0, 0, H, H },
	{ "ttl shorter than interval", 30 * M, D, 1, 0, 0, -1, 10, 0, -1, 0, 0, 0, 30 * M, 30 * M },
	{ "ttl 0 ignored", 30 * M, D, 1, 0, 0, -1, 0, 0, -1, 0, 0, 0, 30 * M, 30 * M },
	{ "sy:updatePeriod", 30 * M, D, 1, 0, 0, -1, -1, 2 * H, -1, 0, 0, 0, 2 * H, 2 * H },
	{ "max-age longer", 30 * M, D, 1, 0, 0, -1, -1, 0, 2 * H, 0, 0, 0, 2 * H, 2 * H },
	{ "max-age shorter", 30 * M, D, 1, 0, 0, -1, -1, 0, 60, 0, 0, 0, 30 * M, 30 * M },
	{ "Expires later", 30 * M, D, 1, 0, 0, -1, -1, 0, -1, 90 * M, 0, 0, 90 * M, 90 * M },
	{ "Expires in the past", 30 * M, D, 1, 0, 0, -1, -1, 0, -1, -H, 0, 0, 30 * M, 30 * M },
	{ "largest hint wins", 30 * M, D, 1, 0, 0, -1, 45, 3 * H, H, 0, 0, 0, 3 * H, 3 * H },
	{ "hint capped at ceiling", 30 * M, D, 1, 0, 0, -1, 2880, 0, -1, 0, 0, 0, D, D },
	{ "ceiling 0 means 24h", 30 * M, 0, 1, 0, 0, -1, -1, 0, 7 * D, 0, 0, 0, D, D },
	{ "custom ceiling", 30 * M, 6 * H, 1, 0, 0, -1, -1, D, -1, 0, 0, 0, 6 * H, 6 * H },
	{ "interval above ceiling kept", 2 * D, D, 1, 0, 0, -1, -1, 0, -1, 0, 0, 0, 2 * D, 2 * D },
	{ "interval 0 treated as 1s", 0, D, 1, 0, 0, -1, -1, 0, -1, 0, 0, 0, 1, 1 },
	{ "success resets backoff", 30 * M, D, 1, 200, 5, -1, -1, 0, -1, 0, 0, 0, 30 * M, 30 * M },
	/* skipHours / skipDays (UTC); NOW is Sunday 10:00. */
	{ "skip hour of due time", 30 * M, D, 1, 0, 0, -1, -1, 0, -1, 0, HOUR(10), 0, H, H },
	{ "skip several hours", 30 * M, D, 1, 0, 0, -1, -1, 0, -1, 0, HOUR(10) | HOUR(11) | HOUR(12), 0, 3 * H, 3 * H },
	{ "other hour skipped", 30 * M, D, 1, 0, 0, -1, -1, 0, -1, 0, HOUR(11), 0, 30 * M, 30 * M },
	{ "skip Sunday", 30 * M, D, 1, 0, 0, -1, -1, 0, -1, 0, 0, SUN, 14 * H, 14 * H },
	{ "skip Sunday and 0-1h", 30 * M, D, 1, 0, 0, -1, -1, 0, -1, 0, HOUR(0) | HOUR(1), SUN, 16 * H, 16 * H },
	{ "skip Sunday and Monday", 30 * M, 3 * D, 1, 0, 0, -1, -1, 0, -1, 0, 0, SUN | MON, 38 * H, 38 * H },
	{ "skip wraps past midnight", 13 * H + 30 * M, D, 1, 0, 0, -1, -1, 0, -1, 0, HOUR(23) | HOUR(0), 0, 15 * H, 15 * H },
	{ "skip every hour ignored", 30 * M, D, 1, 0, 0, -1, -1, 0, -1, 0, 0xffffff, 0, 30 * M, 30 * M },
	{ "skip every day ignored", 30 * M, D, 1, 0, 0, -1, -1, 0, -1, 0, 0, 0x7f, 30 * M, 30 * M },
	{ "skip capped at ceiling", 30 * M, H, 1, 0, 0, -1, -1, 0, -1, 0, 0, SUN, H, H },
	{ "skip after a hint", 30 * M, D, 1, 0, 0, -1, 120, 0, -1, 0, HOUR(12), 0, 3 * H, 3 * H },
	/* Failures: min(60 s, interval) * 2^(failures-1), +-10%, cap ceiling. */
	{ "1st failure", 30 * M, D, 0, 500, 1, -1, -1, 0, -1, 0, 0, 0, 54, 66 },
	{ "1st failure of a 10s feed", 10, D, 0, 0, 1, -1, -1, 0, -1, 0, 0, 0, 9, 11 },
	{ "3rd failure of a 10s feed", 10, D, 0, 0, 3, -1, -1, 0, -1, 0, 0, 0, 36, 44 },
	{ "1st failure of a daily feed", D, D, 0, 0, 1, -1, -1, 0, -1, 0, 0, 0, 54, 66 },
	{ "1st failure of a weekly feed", 7 * D, D, 0, 0, 1, -1, -1, 0, -1, 0, 0, 0, 54, 66 },
	{ "failure without count", 30 * M, D, 0, 0, 0, -1, -1, 0, -1, 0, 0, 0, 54, 66 },
	{ "2nd failure", 30 * M, D, 0, 502, 2, -1, -1, 0, -1, 0, 0, 0, 108, 132 },
	{ "3rd failure", 30 * M, D, 0, 0, 3, -1, -1, 0, -1, 0, 0, 0, 216, 264 },
	{ "6th failure", 30 * M, D, 0, 0, 6, -1, -1, 0, -1, 0, 0, 0, 1728, 2112 },
	{ "12th failure hits ceiling", 30 * M, D, 0, 0, 12, -1, -1, 0, -1, 0, 0, 0, 77760, D },
	{ "11th failure near ceiling", 30 * M, D, 0, 0, 11, -1, -1, 0, -1, 0, 0, 0, 55296, 67584 },
	{ "never given up", 30 * M, D, 0, 0, 100000, -1, -1, 0, -1, 0, 0, 0, 77760, D },
	{ "backoff with small ceiling", 30 * M, 2 * H, 0, 0, 9, -1, -1, 0, -1, 0, 0, 0, 108 * M, 2 * H },
	{ "weekly feed backs off past 24h", 7 * D, D, 0, 0, 13, -1, -1, 0, -1, 0, 0, 0, 221184, 270336 },
	{ "hints ignored on failure", 30 * M, D, 0, 0, 1, -1, 600, 0, 5 * H, 0, 0, 0, 54, 66 },
	/* Retry-After: obeyed on 429/503, capped. */
	{ "503 Retry-After 2h", 30 * M, D, 0, 503, 1, 2 * H, -1, 0, -1, 0, 0, 0, 2 * H, 2 * H },
	{ "429 Retry-After 90m", 30 * M, D, 0, 429, 1, 90 * M, -1, 0, -1, 0, 0, 0, 90 * M, 90 * M },
	{ "429 Retry-After below backoff", 30 * M, D, 0, 429, 1, 10, -1, 0, -1, 0, 0, 0, 54, 66 },
	{ "503 Retry-After 3d capped", 30 * M, D, 0, 503, 1, 3 * D, -1, 0, -1, 0, 0, 0, D, D },
};

static void
t_table(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* Every case must hold for any jitter seed. */
		for (uint32_t seed = 0; seed < 200; seed++) {
			struct sched_input in = {
				.now = NOW,
				.interval_s = cases[i].interval,
				.ceiling_s = cases[i].ceiling,
				.ok = cases[i].ok,
				.http_status = cases[i].status,
				.failures = cases[i].failures,
				.retry_after_s = cases[i].retry_after,
				.ttl_minutes = cases[i].ttl_min,
				.skip_hours = cases[i].skip_hours,
				.skip_days = cases[i].skip_days,
				.update_period_s = cases[i].update_period,
				.max_age_s = cases[i].max_age,
				.expires_at = cases[i].expires_in ? NOW + cases[i].expires_in : 0,
				.jitter_seed = seed * 2654435761u,
			};
			int64_t d = sched_next_due(&in) - NOW;
			if (d < cases[i].lo || d > cases[i].hi) {
				fprintf(stderr, "case '%s' seed %u: due in %lld, want %lld..%lld\n",
					cases[i].what, seed, (long long)d,
					(long long)cases[i].lo, (long long)cases[i].hi);
				CHECK(0);
				break;
			}
		}
	}
}

/* The jitter is deterministic per seed, and really spreads both ways. */
static void
t_jitter(void)
{
	struct sched_input in = { .now = NOW, .interval_s = 30 * M, .ceiling_s = D,
		.failures = 10, .ttl_minutes = -1, .max_age_s = -1, .retry_after_s = -1 };
	int64_t lo = INT64_MAX, hi = 0;
	int distinct = 0;
	int64_t prev = -1;

	for (uint32_t seed = 0; seed < 1000; seed++) {
		in.jitter_seed = seed;
		int64_t d = sched_next_due(&in) - NOW;
		CHECK_INT_EQ(sched_next_due(&in) - NOW, d);
		if (d < lo)
			lo = d;
		if (d > hi)
			hi = d;
		if (d != prev)
			distinct++;
		prev = d;
	}
	/* 60 s * 2^9 = 30720 s +- 10%: expect the extremes near both bounds. */
	CHECK(lo < 30720 - 1500);
	CHECK(hi > 30720 + 1500);
	CHECK(lo >= 27648 && hi <= 33792);
	CHECK(distinct > 500);
}

static const struct check_case tests[] = {
	{ "table", t_table },
	{ "jitter", t_jitter },
	{ 0 },
};

int
main(int argc, char **argv)
{
	return check_main(argc, argv, tests);
}
