/*
 * conf: the line-based config file (feedd.conf(5)) -> struct conf.
 *
 * A pure function from bytes to a struct, driven by a table of directives,
 * so it is unit-tested and fuzzed. `include PATTERN` reads further files
 * (glob, relative to the including file's directory); that is the only I/O,
 * and it goes through conf_load(). Errors name file:line and the directive.
 *
 * Two ways to read a config: conf_load()/conf_parse() stop at (report) the
 * first error, for the daemon and its reload; conf_load_all()/
 * conf_parse_all() collect every error of the file set, for
 * `feedd --check-config` and for feedctl validating an edit.
 * No message conf writes shows a password or a URL's userinfo.
 */
#ifndef FEEDD_DAEMON_CONF_H
#define FEEDD_DAEMON_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "listen.h"

/* Both are set by the build from GNUInstallDirs (daemon/CMakeLists.txt);
 * these fallbacks are the Debian layout. */
#ifndef FEEDD_DEFAULT_CONFIG
#define FEEDD_DEFAULT_CONFIG "/etc/feedd/feedd.conf"
#endif
/* The unit's StateDirectory=: where the default config's relative
 * `database` lives when $STATE_DIRECTORY is not set (feedctl, a feedd
 * started by hand). The full rule is at conf_parse(). */
#ifndef FEEDD_STATE_DIR
#define FEEDD_STATE_DIR "/var/lib/feedd"
#endif

struct conf_feed {
	char *name;            /* owned; unique, [A-Za-z0-9._-]+ */
	char *url;             /* owned; http or https */
	int64_t interval_s;    /* resolved: feed's own or the global one */
	char *tags;            /* owned; comma-separated, or NULL */
	int64_t timeout_s;     /* resolved */
	int64_t max_size;      /* resolved, bytes */
	char *user_agent;      /* resolved (NULL = fetch default); the conf's
	                        * own string when inherited (one copy for all),
	                        * else owned */
	char *username, *password; /* owned; NULL = none. Never logged. */
	char *proxy;           /* resolved (NULL = the environment's, "" = no
	                        * proxy at all); inherited or owned, as
	                        * user_agent */
	int keep_days;         /* 0 = forever */
	int keep_count;        /* 0 = unlimited */
	bool enabled;
	bool allow_private;    /* redirects may reach private addresses */
	char *title;           /* owned; title=, UTF-8, NULL = none (OPML's text) */
	char *site;            /* owned; site=, an http(s) URL, NULL = none
	                        * (OPML's htmlUrl) */
	char *file;            /* borrowed from conf->files: where it was
	                        * defined (one copy per file, not per feed) */
	int line;
};

/*
 * A hook: a program (exec) or an HTTP endpoint (webhook) that gets the
 * new and updated articles from the change log, in batches, in order,
 * at least once (docs/hooks.md).
 *   hook NAME exec PROGRAM [ARG...] [KEY=VALUE...]
 *   hook NAME webhook URL [KEY=VALUE...]
 * The options begin at the first word shaped like a key
 * ([a-z][a-z-]*=...); every word after that must be one.
 */
enum conf_hook_kind {
	CONF_HOOK_EXEC,
	CONF_HOOK_WEBHOOK,
};

/* conf_hook.events */
#define CONF_HOOK_NEW 1u
#define CONF_HOOK_UPDATED 2u

#define CONF_HOOK_BATCH_DEFAULT 100
#define CONF_HOOK_BATCH_MAX 10000
#define CONF_HOOK_TIMEOUT_DEFAULT 60     /* seconds */
#define CONF_HOOK_RETRY_DEFAULT 5        /* seconds: the first back-off */
#define CONF_HOOK_RETRY_MAX 3600         /* seconds: back-off ceiling */

struct conf_hook {
	char *name;            /* owned; unique among hooks, [A-Za-z0-9._-]+ */
	enum conf_hook_kind kind;
	/* exec */
	char *program;         /* owned; the absolute path that is run */
	char **argv;           /* owned, NULL-terminated: PROGRAM as written,
	                        * then the ARGs */
	size_t argc;
	char **env;            /* owned; "NAME=VALUE" from env=, NULL-terminated */
	size_t nenv;
	/* webhook */
	char *url;             /* owned; http or https */
	char *secret_file;     /* owned; secret-file=, NULL = unsigned */
	bool allow_private;    /* allow-private=: the URL may be a private address */
	/* both */
	char **feeds;          /* owned; feeds= names (NULL-terminated) */
	size_t nfeeds;
	char **tags;           /* owned; feeds= tag:NAME entries, without "tag:" */
	size_t ntags;          /* nfeeds == ntags == 0: every feed */
	unsigned events;       /* CONF_HOOK_NEW | CONF_HOOK_UPDATED */
	unsigned batch;        /* articles per run at most */
	int64_t timeout_s;     /* a run longer than this is killed */
	int64_t retry_s;       /* first back-off after a failure; doubles */
	bool from_start;       /* from=start: a new hook gets the whole log */
	char *file;            /* owned; where it was defined */
	int line;
};

struct conf {
	char *path;            /* owned; the main config file */
	char *database;        /* owned; resolved absolute path */
	char *database_file;   /* owned; file of the `database` line, NULL when
	                        * the default is used */
	int database_line;     /* its line; 0 with the default */
	int64_t interval_s;    /* default 30m */
	int64_t max_interval_s;/* ceiling for hints and backoff; default 24h */
	unsigned max_connections; /* default 32 */
	unsigned max_per_host;    /* default 2 */
	unsigned start_ramp;      /* never-fetched feeds started per second; default 50 */
	char *user_agent;      /* owned; NULL = "feedd/VERSION (+url)" */
	char **files;          /* owned, strings owned: the names that
	                        * conf_feed.file points into */
	size_t nfiles;
	int64_t timeout_s;     /* default 60s */
	int64_t connect_timeout_s; /* default 15s */
	int64_t max_size;      /* bytes; default 16 MiB */
	char *proxy;           /* owned; NULL = environment */
	int log_level;         /* syslog priority threshold; default LOG_NOTICE (5) */
	int64_t changelog_keep_s; /* default 30d */
	bool sync_full;        /* database durability; default true */
	struct conf_listen listen; /* the metrics/health endpoint; off by default */
	struct conf_feed *feeds; /* owned array */
	size_t nfeeds;
	struct rule_set *rules; /* owned reference (rules.h); never NULL */
	struct conf_hook *hooks; /* owned array */
	size_t nhooks;
};

/*
 * Parse buf (the contents of file `path`, used for messages and to resolve
 * includes and a relative database path) into a fresh conf. On error returns
 * -EINVAL and writes the first "FILE:LINE: DIRECTIVE: what is wrong" into
 * err; *out is untouched. Returns -ENOMEM on allocation failure.
 *
 * A relative database path resolves, first match wins:
 *  1. against $STATE_DIRECTORY (its first path) when set: feedd run by
 *     systemd with StateDirectory=;
 *  2. against FEEDD_STATE_DIR when path is the installed config
 *     FEEDD_DEFAULT_CONFIG (the same file, however it is spelled), so
 *     feedctl and a feedd started by hand use the service's database;
 *  3. against the directory of the config file `path` (not the current
 *     directory: the same config names the same database from anywhere).
 */
int conf_parse(struct conf **out, const char *path, const char *buf, size_t len,
	char *err, size_t errlen);

/* Read the file at path and conf_parse() it. -ENOENT etc. with err set. */
int conf_load(struct conf **out, const char *path, char *err, size_t errlen);

/* Every error of a parse, in the order the lines were read. */
struct conf_errors {
	char **msgs;           /* owned; msgs[i] is one line, no newline:
	                        * "FILE:LINE: DIRECTIVE: what is wrong" */
	size_t count;          /* messages held */
	size_t total;          /* errors found; more than count only past
	                        * CONF_MAX_ERRORS */
	size_t cap;
};
#define CONF_MAX_ERRORS 1000

/* Free the messages and zero *e; e may be reused after. */
void conf_errors_free(struct conf_errors *e);

/* Print every message on its own line, then "N error(s)" (and how many
 * were not kept), to file (FILE*). Prints nothing when there are none. */
void conf_errors_print(const struct conf_errors *e, void *file);

/*
 * As conf_parse()/conf_load(), but a bad line does not stop the parse:
 * every error in the file and its includes is appended to *errs (which
 * must be zeroed or conf_errors_free()d before; messages are added, so
 * conf_check_database() may add more after).
 * Returns 0 (no error; *out is the config), -EINVAL (errors in *errs),
 * -ENOMEM, or for conf_load_all a main file that cannot be read its
 * -errno (also in *errs as "FILE: cannot read: ...").
 * On -EINVAL *out, when out is not NULL, still receives the config with
 * the bad values left out, for reporting more (conf_check_database())
 * only, never to run: its database is NULL if the `database` line itself
 * was bad. The caller frees it. Pass out = NULL to only validate.
 */
int conf_parse_all(struct conf **out, const char *path, const char *buf,
	size_t len, struct conf_errors *errs);
int conf_load_all(struct conf **out, const char *path, struct conf_errors *errs);

/*
 * Validate an edit before writing it: as conf_load_all(), but the file at
 * ov->path (any spelling of it) reads as ov->buf instead, whether or not
 * it exists yet. A file not on disk is read where an include would have
 * matched it (a pattern "*.conf" in feeds.d/ and ov->path
 * feeds.d/feedctl.conf: in its sorted place among the other matches),
 * so duplicates across the
 * whole file set are found; ov->path may also be the main file. Messages
 * name ov->path as the include spells it. Wildcards in the directory part
 * of a pattern do not match a file that does not exist yet.
 */
struct conf_override {
	const char *path;      /* borrowed */
	const char *buf;       /* borrowed; need not be NUL-terminated */
	size_t len;
};
int conf_load_all_with(struct conf **out, const char *path,
	const struct conf_override *ov, struct conf_errors *errs);

/*
 * What `--check-config` checks beyond the syntax: the database's directory
 * exists and the effective user may create files in it (SQLite adds -wal
 * and -shm beside the database); if the database exists, it is a regular
 * file that user may read and write. Each problem is appended to *errs as
 * "FILE:LINE: database: ..." naming the path (the `database` line, or the
 * main file when the default is used). 0, -EINVAL or -ENOMEM.
 * c->database NULL is skipped (0).
 */
int conf_check_database(const struct conf *c, struct conf_errors *errs);

/*
 * url with its userinfo ("user:pass@" in https://user:pass@host/) replaced
 * by "****@", into buf (cut to len like snprintf); returns buf. Also for a
 * proxy without a scheme ("user:pass@proxy:3128"). For every message or
 * log line that shows a configured URL.
 */
const char *conf_redact_url(const char *url, char *buf, size_t len);

/* conf_free(NULL) is a no-op. */
void conf_free(struct conf *c);

/* Find a feed by name; borrowed, or NULL. */
const struct conf_feed *conf_feed_find(const struct conf *c, const char *name);

/* Find a hook by name; borrowed, or NULL. */
const struct conf_hook *conf_hook_find(const struct conf *c, const char *name);

/* Whether two hooks are defined alike (everything but file and line). */
bool conf_hook_equal(const struct conf_hook *a, const struct conf_hook *b);

/* Parse "90s", "30m", "2h", "1d", "1w" or plain seconds. 0 or -EINVAL. */
int conf_duration(const char *s, int64_t *out);

/* Print the resolved config in the config syntax. Passwords print as
 * password=****, URL userinfo as ****@ (conf_redact_url()); the output
 * parses back (conf_parse) to the same printout. */
void conf_print(const struct conf *c, void *file /* FILE* */);

/* Parse "512K", "16M", "1G" (binary units) or plain bytes. 0 or -EINVAL. */
int conf_size(const char *s, int64_t *out);

/* Format seconds / bytes in the largest exact unit ("90m", "16M") into buf;
 * returns buf. */
const char *conf_format_duration(int64_t s, char *buf, size_t len);
const char *conf_format_size(int64_t n, char *buf, size_t len);

/* 0 when url is an http(s) URL with a host; else -EINVAL and *why says
 * what is wrong (a static string). */
int conf_url_check(const char *url, const char **why);

/* Write s as one config word to file (FILE*), quoted when it must be. */
void conf_print_token(const char *s, void *file);

/* The i-th global setting in the directive table: its name and default in
 * config syntax (*def NULL: unset by default). False past the end. This
 * table is the single source of the defaults etc/feedd.conf documents. */
bool conf_setting_get(size_t i, const char **name, const char **def);

#endif
