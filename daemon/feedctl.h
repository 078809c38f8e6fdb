/*
 * feedctl: the command-line front end. Each subcommand lives in its own
 * file (feedctl_<cmd>.c) and is listed in the command table in feedctl.c,
 * which is the one description of every command: its synopsis, summary and
 * options. `feedctl help`, `feedctl CMD --help`, the option parsing below
 * and the bash completion all come from it, and a test checks that
 * feedctl(1) says the same.
 *
 * A command gets argv with argv[0] = its own name and the global options
 * (--db, --config, wherever they were written) already taken out; --help
 * and -h never reach it. It prints to stdout, prints one clear line to
 * stderr on error, and returns the exit status: FEEDCTL_OK, FEEDCTL_ERR
 * (a runtime error) or FEEDCTL_USAGE (unknown option, missing argument,
 * bad value).
 */
#ifndef FEEDD_DAEMON_FEEDCTL_H
#define FEEDD_DAEMON_FEEDCTL_H

#include <stdbool.h>
#include <stddef.h>

enum {
	FEEDCTL_OK = 0,
	FEEDCTL_ERR = 1,
	FEEDCTL_USAGE = 2,
};

/* Options every command takes, before or after its name: --db, --config. */
struct feedctl_global {
	const char *db;     /* --db PATH, or NULL */
	const char *config; /* --config PATH, or NULL (then FEEDD_DEFAULT_CONFIG) */
};

typedef int (*feedctl_cmd_fn)(const struct feedctl_global *g, int argc, char **argv);

/* One option of a command. */
struct feedctl_opt {
	const char *name;   /* long name without "--" */
	int key;            /* what feedctl_opt_next() returns for it (> 0) */
	const char *arg;    /* the argument's name in help ("TIME"), NULL = a flag */
	const char *help;   /* one line, lower case, no full stop */
};

/* One command: its row in the table. */
struct feedctl_cmd {
	const char *name;
	feedctl_cmd_fn fn;
	const char *operands;        /* after the options in the synopsis; "" = none */
	const char *summary;         /* one line, lower case, no full stop */
	const struct feedctl_opt *opts; /* ends with { 0 }; NULL = no options */
};

/* The command named name, or NULL. */
const struct feedctl_cmd *feedctl_cmd_find(const char *name);

/*
 * Walking a command's argv by its table row. Options and operands may be
 * mixed; "--" ends the options. Each call returns:
 *   key > 0   an option, *val its argument (NULL for a flag);
 *   0         an operand, in *val;
 *   -1        the end;
 *   -2        a usage error, already reported on stderr: return FEEDCTL_USAGE.
 * Long options are matched whole (no abbreviations) as --name VALUE or
 * --name=VALUE.
 */
struct feedctl_args {
	int argc;
	char **argv;
	int i;              /* next argv index */
	bool only_operands; /* after "--" */
	const struct feedctl_cmd *cmd;
};
void feedctl_args_init(struct feedctl_args *a, int argc, char **argv);
int feedctl_opt_next(struct feedctl_args *a, const char **val);

/* Report a bad option value and return FEEDCTL_USAGE:
 * "feedctl CMD: bad --OPT 'VALUE': why". */
int feedctl_bad_value(const char *cmd, const char *opt, const char *value,
	const char *why);

/* The database path for reading commands: --db, else $FEEDD_DB, else the
 * config's `database`, else an error (message on stderr, returns NULL). */
const char *feedctl_db_path(const struct feedctl_global *g);

/* The commands. */
int feedctl_help(const struct feedctl_global *g, int argc, char **argv);
int feedctl_parse(const struct feedctl_global *g, int argc, char **argv);

/* Reading commands (feedctl_read.c): read-only, through store/. */
int feedctl_articles(const struct feedctl_global *g, int argc, char **argv);
int feedctl_show(const struct feedctl_global *g, int argc, char **argv);
int feedctl_follow(const struct feedctl_global *g, int argc, char **argv);
int feedctl_search(const struct feedctl_global *g, int argc, char **argv);
int feedctl_feeds(const struct feedctl_global *g, int argc, char **argv);
int feedctl_hooks(const struct feedctl_global *g, int argc, char **argv);

/* Keep/block rules (feedctl_rules.c): the config's rules with their
 * stored counts; --test FEED judges FEED's stored articles. Read-only. */
int feedctl_rules(const struct feedctl_global *g, int argc, char **argv);

/* OPML (feedctl_opml.c): import writes config lines, export reads the
 * config or the store. */
int feedctl_import_opml(const struct feedctl_global *g, int argc, char **argv);
int feedctl_export_opml(const struct feedctl_global *g, int argc, char **argv);

/* Finding feeds (feedctl_discover.c): fetches a page, prints feed lines. */
int feedctl_discover(const struct feedctl_global *g, int argc, char **argv);

/* Editing the feed list (feedctl_edit.c): feeds.d/feedctl.conf beside the
 * main config, validated before it is written, then a reload. */
int feedctl_add(const struct feedctl_global *g, int argc, char **argv);
int feedctl_remove(const struct feedctl_global *g, int argc, char **argv);
int feedctl_enable(const struct feedctl_global *g, int argc, char **argv);
int feedctl_disable(const struct feedctl_global *g, int argc, char **argv);

/* Moving the store (feedctl_migrate.c): every table from --from (read
 * only) into an empty --to, in one verified transaction. */
int feedctl_migrate(const struct feedctl_global *g, int argc, char **argv);

/* The name import-opml gives a feed with this title (NULL = none) and URL
 * (feedctl_opml.c): from the title, else the URL's host; never empty. */
void feedctl_feed_name(const char *title, const char *url, char *out, size_t outlen);

#endif
