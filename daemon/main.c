/*
 * feedd: the news-feed aggregator daemon. Runs in the foreground (systemd
 * Type=notify); see feedd(8). This file parses the command line, does the
 * process-wide set-up (logging, config, libcurl, libxml2, the database) and
 * hands over to run_main(). exit() lives here and in feedctl.c only.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#include "conf.h"
#include "log.h"
#include "notify.h"
#include "run.h"
#include "store.h"

static void
usage(FILE *f)
{
	fprintf(f,
"usage: feedd [--config PATH] [--once [--all | --feed NAME...] [--quiet]]\n"
"             [--check-config] [--stats] [--stop-grace DURATION]\n"
"             [--version] [--help]\n"
"\n"
"  -c, --config PATH     config file (default " FEEDD_DEFAULT_CONFIG ")\n"
"      --once            poll the feeds that are due (stored schedule,\n"
"                        back-off and Retry-After honoured; never-fetched\n"
"                        feeds are due), store, and exit: safe from cron\n"
"      --all             with --once: every enabled feed, due or not\n"
"      --feed NAME       with --once: this feed now, whatever its schedule\n"
"                        (repeatable; only the named feeds are polled)\n"
"  -q, --quiet           with --once: no progress line on a terminal\n"
"  -t, --check-config    check the config (every error of it and its\n"
"                        includes, and the database's directory), print\n"
"                        it resolved with secrets masked, and exit\n"
"      --stats           at exit, print one 'feedd-stats key=value ...' line\n"
"                        on stdout (polls, articles, longest loop stall)\n"
"      --stop-grace D    on SIGTERM/SIGINT, let transfers finish for D\n"
"                        (default 5s) before cancelling them\n"
"  -V, --version         print the version and exit\n"
"  -h, --help            print this help and exit\n"
"\n"
"Signals: SIGHUP reloads the config (a config with errors is rejected and\n"
"the running one kept; --once ignores it); SIGTERM and SIGINT stop\n"
"gracefully.\n"
"\n"
"Exit status:\n"
"  0  stopped cleanly; with --once, every feed was polled successfully\n"
"     (304 Not Modified counts as success); with --check-config, the\n"
"     config is valid\n"
"  1  fatal error: bad config, database cannot be opened, internal error\n"
"  2  --once only: at least one feed failed (fetch, HTTP or parse error,\n"
"     410 Gone, or interrupted before it finished); the others are stored\n");
}

/*
 * --check-config: every error of the file set and of the database's
 * location, one "FILE:LINE: DIRECTIVE: what is wrong" line each on stderr
 * and a count, exit 1; or the resolved config on stdout, exit 0.
 */
static int
check_config(const char *path)
{
	struct conf_errors errs = { 0 };
	struct conf *conf = NULL;
	size_t enabled = 0;
	int rc;

	rc = conf_load_all(&conf, path, &errs);
	/* A config with errors still names its database: check it too, so
	 * one run shows everything to fix. */
	if (rc != -ENOMEM && conf && conf_check_database(conf, &errs) == -ENOMEM)
		rc = -ENOMEM;
	if (rc == -ENOMEM) {
		fprintf(stderr, "feedd: %s: out of memory\n", path);
		rc = FEEDD_EXIT_FATAL;
		goto out;
	}
	if (errs.total) {
		conf_errors_print(&errs, stderr);
		rc = FEEDD_EXIT_FATAL;
		goto out;
	}
	for (size_t i = 0; i < conf->nfeeds; i++)
		enabled += conf->feeds[i].enabled;
	conf_print(conf, stdout);
	fprintf(stderr, "feedd: %s: config OK (%zu feeds, %zu enabled)\n",
		path, conf->nfeeds, enabled);
	rc = FEEDD_EXIT_OK;
out:
	conf_free(conf);
	conf_errors_free(&errs);
	return rc;
}

/* Start-up back-off while the database server cannot be reached. */
#define OPEN_RETRY_MIN_MS 500
#define OPEN_RETRY_MAX_MS 30000

/*
 * store_open(), tried again with back-off for as long as the database
 * server cannot be reached (store_err_unreachable(); SQLite never says
 * so), except with --once, which a cron job runs and should not hang.
 * READY=1 comes from run_main(), so it waits for this too. SIGTERM and
 * SIGINT are blocked meanwhile and taken with sigtimedwait(), so one
 * stops the wait at once: *stopped, and 0 with *st NULL. Otherwise 0 or
 * store_open()'s error, with its message in err.
 */
static int
open_store(struct store **st, const struct conf *conf,
	const struct store_opts *so, bool once, bool *stopped, char *err,
	size_t errlen)
{
	sigset_t stop, old;
	long delay = OPEN_RETRY_MIN_MS;
	struct timespec t0, t1;
	unsigned tries = 0;
	int rc;

	*stopped = false;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, &old);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct timespec ts = { delay / 1000, (delay % 1000) * 1000000 };
		int sig;

		err[0] = '\0';
		rc = store_open(st, conf->database, so, err, errlen);
		tries++;
		if (rc == 0 || once || !store_err_unreachable(rc))
			break;
		if (tries == 1) {
			/* err names the server (host, port) and has libpq's
			 * own words. */
			log_err("store", "database unreachable: %s; retrying "
				"(not ready until it can be reached)",
				err[0] ? err : strerror(-rc));
			notify_send("STATUS=waiting for the database");
		} else {
			log_info("store", "database still unreachable "
				"(attempt %u): %s", tries, err);
		}
		sig = sigtimedwait(&stop, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT) {
			log_notice("sys", "stopping (%s) while waiting for the "
				"database", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			*stopped = true;
			rc = 0;
			break;
		}
		delay = delay * 2 > OPEN_RETRY_MAX_MS ? OPEN_RETRY_MAX_MS :
			delay * 2;
	}
	if (rc == 0 && !*stopped && tries > 1) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		log_notice("store", "database reachable after %.1fs "
			"(%u attempts)", (double)(t1.tv_sec - t0.tv_sec) +
			(double)(t1.tv_nsec - t0.tv_nsec) / 1e9, tries);
	}
	/* A stop asked for once the store was open: taken here rather than
	 * left to the default action when unblocked (run_main()'s handler
	 * is not in place yet). */
	if (rc == 0 && !*stopped) {
		struct timespec zero = { 0, 0 };
		int sig = sigtimedwait(&stop, NULL, &zero);

		if (sig == SIGTERM || sig == SIGINT) {
			log_notice("sys", "stopping (%s) before start",
				sig == SIGTERM ? "SIGTERM" : "SIGINT");
			store_close(*st);
			*st = NULL;
			*stopped = true;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

int
main(int argc, char **argv)
{
	struct run_opts ro = { .config_path = FEEDD_DEFAULT_CONFIG };
	struct store_opts so = { 0 };
	struct conf *conf = NULL;
	struct store *st = NULL;
	/* --feed NAME...: pointers into argv, at most one per argument. */
	static const char *once_feeds[4096];
	size_t nonce = 0;
	bool check = false, stopped;
	char err[1024];
	sigset_t hup;
	int rc;

	/* A reload asked for while we start (systemctl reload right after
	 * start) waits until run_main() can take it, instead of killing us:
	 * SIGHUP stays blocked until its handler is in place. Threads started
	 * meanwhile keep it blocked, so it reaches the loop thread. */
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &hup, NULL);

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if ((strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0) &&
		    i + 1 < argc) {
			ro.config_path = argv[++i];
		} else if (strncmp(a, "--config=", 9) == 0) {
			ro.config_path = a + 9;
		} else if (strcmp(a, "--once") == 0) {
			ro.once = true;
		} else if (strcmp(a, "--all") == 0) {
			ro.once_all = true;
		} else if ((strcmp(a, "--feed") == 0 && i + 1 < argc) ||
			   strncmp(a, "--feed=", 7) == 0) {
			if (nonce == sizeof(once_feeds) / sizeof(once_feeds[0])) {
				fprintf(stderr, "feedd: too many --feed options\n");
				return FEEDD_EXIT_FATAL;
			}
			once_feeds[nonce++] = a[6] == '=' ? a + 7 : argv[++i];
		} else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
			ro.quiet = true;
		} else if (strcmp(a, "--check-config") == 0 ||
			   strcmp(a, "-t") == 0) {
			check = true;
		} else if (strcmp(a, "--stats") == 0) {
			ro.stats = true;
		} else if (strcmp(a, "--stop-grace") == 0 && i + 1 < argc) {
			int64_t s;

			if (conf_duration(argv[++i], &s) < 0) {
				fprintf(stderr, "feedd: --stop-grace: bad "
					"duration '%s' (e.g. 5s, 1m)\n", argv[i]);
				return FEEDD_EXIT_FATAL;
			}
			ro.grace_ms = s * 1000;
		} else if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
			printf("feedd %s\n", FEEDD_VERSION);
			return FEEDD_EXIT_OK;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return FEEDD_EXIT_OK;
		} else {
			fprintf(stderr, "feedd: unknown or incomplete option '%s'\n", a);
			usage(stderr);
			return FEEDD_EXIT_FATAL;
		}
	}

	if ((ro.once_all || nonce || ro.quiet) && !ro.once) {
		fprintf(stderr, "feedd: --all, --feed and --quiet go with --once\n");
		return FEEDD_EXIT_FATAL;
	}
	if (ro.once_all && nonce) {
		fprintf(stderr, "feedd: --all and --feed exclude each other\n");
		return FEEDD_EXIT_FATAL;
	}
	ro.once_feeds = once_feeds;
	ro.once_nfeeds = nonce;

	log_init();
	if (check)
		return check_config(ro.config_path);
	rc = conf_load(&conf, ro.config_path, err, sizeof(err));
	if (rc < 0) {
		/* err reads "FILE:LINE: DIRECTIVE: what is wrong". */
		fprintf(stderr, "feedd: %s\n", err);
		return FEEDD_EXIT_FATAL;
	}
	log_level = conf->log_level;
	for (size_t i = 0; i < nonce; i++) {
		const struct conf_feed *cf = conf_feed_find(conf, once_feeds[i]);

		if (!cf || !cf->enabled) {
			fprintf(stderr, "feedd: --feed %s: %s in %s\n", once_feeds[i],
				cf ? "that feed is disabled (enabled=no)" :
				"no feed of that name", conf->path);
			conf_free(conf);
			return FEEDD_EXIT_FATAL;
		}
	}

	/* A closed reader must not kill us; curl and the notify socket
	 * report EPIPE instead. */
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_err("sys", "libcurl initialisation failed");
		conf_free(conf);
		return FEEDD_EXIT_FATAL;
	}
	xmlInitParser();

	so.sync_normal = !conf->sync_full;
	so.changelog_keep_s = conf->changelog_keep_s;
	rc = open_store(&st, conf, &so, ro.once, &stopped, err, sizeof(err));
	if (stopped) {
		conf_free(conf);
		rc = FEEDD_EXIT_OK;
		goto out;
	}
	if (rc < 0) {
		log_err("store", "cannot open database %s: %s", conf->database,
			err[0] ? err : strerror(-rc));
		conf_free(conf);
		rc = FEEDD_EXIT_FATAL;
		goto out;
	}
	/* run_main() owns conf and st from here. */
	rc = run_main(conf, st, &ro);
out:
	xmlCleanupParser();
	curl_global_cleanup();
	return rc;
}
