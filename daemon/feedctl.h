/*
 * feedctl: the command-line front end. Each subcommand lives in its own
 * file (feedctl_<cmd>.c) and is listed in the table in feedctl.c. A command
 * gets argv with argv[0] = its own name, prints to stdout, prints one clear
 * line to stderr on error, and returns the process exit status.
 */
#ifndef FEEDD_DAEMON_FEEDCTL_H
#define FEEDD_DAEMON_FEEDCTL_H

/* Options every command may take before its name: --db, --config. */
struct feedctl_global {
	const char *db;     /* --db PATH, or NULL */
	const char *config; /* --config PATH, or NULL (then /etc/feedd/feedd.conf) */
};

typedef int (*feedctl_cmd_fn)(const struct feedctl_global *g, int argc, char **argv);

int feedctl_parse(const struct feedctl_global *g, int argc, char **argv);

/* Reading commands (feedctl_read.c): read-only, through store/. */
int feedctl_articles(const struct feedctl_global *g, int argc, char **argv);
int feedctl_show(const struct feedctl_global *g, int argc, char **argv);
int feedctl_follow(const struct feedctl_global *g, int argc, char **argv);
int feedctl_search(const struct feedctl_global *g, int argc, char **argv);
int feedctl_feeds(const struct feedctl_global *g, int argc, char **argv);

/* OPML (feedctl_opml.c): import prints config lines, export reads the config. */
int feedctl_import_opml(const struct feedctl_global *g, int argc, char **argv);
int feedctl_export_opml(const struct feedctl_global *g, int argc, char **argv);

#endif

/* The database path for reading commands: --db, else the config's
 * `database`, else an error (message on stderr, returns NULL). */
const char *feedctl_db_path(const struct feedctl_global *g);
