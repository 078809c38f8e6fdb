/*
 * run: the running daemon. One private libuv loop with one timer over a
 * heap of every feed's due time,
 * the fetch -> parse -> store pipeline, per-host spacing, SIGHUP reload,
 * graceful SIGTERM/SIGINT, sd_notify and the watchdog, and a measurement of
 * the longest loop stall. Store work runs on the threadpool (worker.h).
 *
 * Scheduling rules (also in feedd(8)):
 * - At start-up a feed with a stored next-due time resumes it; a feed with
 *   none (never fetched) takes the next slot of the start-up ramp
 *   (start-ramp per second, default 50), so it is fetched within seconds,
 *   not after a phase of its interval. The slot is stored at once: a
 *   restart during the ramp resumes it. A feed that the store marks gone
 *   (HTTP 410) is not polled until its configured URL changes.
 * - A feed added (or whose URL changed) on SIGHUP takes a ramp slot too.
 * - --once polls the feeds that are due (stored next-due, back-off and
 *   Retry-After honoured; never-fetched feeds are due) and exits;
 *   --once --all polls every enabled feed, --once --feed NAME the named
 *   ones, whatever their schedule.
 * - Polls to one host are spaced: consecutive starts are at least
 *   min(1 s, interval / feeds-on-that-host) apart, so a host with many
 *   feeds is still polled within each interval. --once skips the spacing
 *   and relies on max-per-host alone.
 */
#ifndef FEEDD_DAEMON_RUN_H
#define FEEDD_DAEMON_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "store.h"

/* feedd's exit statuses. */
#define FEEDD_EXIT_OK 0
#define FEEDD_EXIT_FATAL 1
#define FEEDD_EXIT_SOME_FAILED 2   /* --once: at least one feed failed */

#define FEEDD_STOP_GRACE_MS 5000   /* default in-flight grace on SIGTERM */

struct run_opts {
	bool once;          /* poll the enabled feeds that are due, then exit */
	bool once_all;      /* --once --all: every enabled feed, due or not */
	const char *const *once_feeds; /* --once --feed NAME...: only these, now */
	size_t once_nfeeds;
	bool quiet;         /* no progress on a TTY */
	bool stats;         /* print a "feedd-stats ..." line on stdout at exit */
	int64_t grace_ms;   /* in-flight transfer grace on SIGTERM; 0 = default */
	const char *config_path; /* borrowed; reloaded on SIGHUP */
};

/*
 * Run until stopped (or, with once, until every feed was polled). Takes
 * ownership of conf and st whatever happens. Returns FEEDD_EXIT_OK,
 * FEEDD_EXIT_FATAL or FEEDD_EXIT_SOME_FAILED. Process-wide initialisation
 * (curl_global_init, xmlInitParser, log_init) is the caller's.
 */
int run_main(struct conf *conf, struct store *st, const struct run_opts *o);

#endif
