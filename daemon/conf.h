/*
 * conf: the line-based config file (feedd.conf(5)) -> struct conf.
 *
 * A pure function from bytes to a struct, driven by a table of directives,
 * so it is unit-tested and fuzzed. `include PATTERN` reads further files
 * (glob, relative to the including file's directory); that is the only I/O,
 * and it goes through conf_load(). Errors name file:line and the directive.
 */
#ifndef FEEDD_DAEMON_CONF_H
#define FEEDD_DAEMON_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Both are set by the build from GNUInstallDirs (daemon/CMakeLists.txt);
 * these fallbacks are the Debian layout. */
#ifndef FEEDD_DEFAULT_CONFIG
#define FEEDD_DEFAULT_CONFIG "/etc/feedd/feedd.conf"
#endif
/* The unit's StateDirectory=: where the default config's relative
 * `database` lives when $STATE_DIRECTORY is not set (feedctl, a feedd
 * started by hand). */
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
	char *user_agent;      /* owned; resolved (NULL = fetch default) */
	char *username, *password; /* owned; NULL = none. Never logged. */
	char *proxy;           /* owned; resolved (NULL = the environment's,
	                        * "" = no proxy at all) */
	int keep_days;         /* 0 = forever */
	int keep_count;        /* 0 = unlimited */
	bool enabled;
	bool allow_private;    /* redirects may reach private addresses */
	char *file;            /* owned; where it was defined */
	int line;
};

struct conf {
	char *path;            /* owned; the main config file */
	char *database;        /* owned; resolved absolute path */
	int64_t interval_s;    /* default 30m */
	int64_t max_interval_s;/* ceiling for hints and backoff; default 24h */
	unsigned max_connections; /* default 32 */
	unsigned max_per_host;    /* default 2 */
	char *user_agent;      /* owned; NULL = "feedd/VERSION (+url)" */
	int64_t timeout_s;     /* default 60s */
	int64_t connect_timeout_s; /* default 15s */
	int64_t max_size;      /* bytes; default 16 MiB */
	char *proxy;           /* owned; NULL = environment */
	int log_level;         /* syslog priority threshold; default LOG_NOTICE (5) */
	int64_t changelog_keep_s; /* default 30d */
	bool sync_full;        /* database durability; default true */
	struct conf_feed *feeds; /* owned array */
	size_t nfeeds;
};

/*
 * Parse buf (the contents of file `path`, used for messages and to resolve
 * includes and a relative database path) into a fresh conf. On error returns
 * -EINVAL and writes "FILE:LINE: DIRECTIVE: what is wrong" into err; *out is
 * untouched. Returns -ENOMEM on allocation failure.
 * A relative database path resolves against $STATE_DIRECTORY when set
 * (its first path), else against FEEDD_STATE_DIR when path is
 * FEEDD_DEFAULT_CONFIG, else against the current directory.
 */
int conf_parse(struct conf **out, const char *path, const char *buf, size_t len,
	char *err, size_t errlen);

/* Read the file at path and conf_parse() it. -ENOENT etc. with err set. */
int conf_load(struct conf **out, const char *path, char *err, size_t errlen);

/* conf_free(NULL) is a no-op. */
void conf_free(struct conf *c);

/* Find a feed by name; borrowed, or NULL. */
const struct conf_feed *conf_feed_find(const struct conf *c, const char *name);

/* Parse "90s", "30m", "2h", "1d", "1w" or plain seconds. 0 or -EINVAL. */
int conf_duration(const char *s, int64_t *out);

/* Print the resolved config in the config syntax (passwords masked). */
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
