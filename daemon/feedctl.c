/*
 * feedctl: read the article store, parse feeds, manage OPML.
 * The commands themselves live in feedctl_<cmd>.c; this file holds the
 * command table (the single description of every command and option that
 * help, the option parser and the bash completion read) and main().
 */
#include "feedctl.h"
#include "conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- the table ------------------------------------------------------------
 * To add a command: write its function, give it an option array here (keys
 * are what feedctl_opt_next() returns to it) and a row in commands[], and
 * a section in docs/man/feedctl.1 (tests/cli.cmake checks they agree). */

#define FORMAT_HELP "output format (json = jsonl); default: text on a terminal, else jsonl"

static const struct feedctl_opt parse_opts[] = {
	{ "base", 'b', "URL", "resolve relative links as if the input came from URL" },
	{ "charset", 'c', "NAME", "read the input in this encoding, whatever it declares" },
	{ 0 },
};

static const struct feedctl_opt articles_opts[] = {
	{ "feed", 'f', "NAME", "only the articles of feed NAME" },
	{ "tag", 't', "TAG", "only the articles of feeds tagged TAG" },
	{ "since", 's', "TIME", "only articles dated TIME or later: RFC 3339, YYYY-MM-DD, @UNIX or an age (2h, 1d)" },
	{ "after", 'a', "ID", "only articles with an id above ID" },
	{ "limit", 'n', "N", "at most N articles (0 = no limit, the default)" },
	{ "unique", 'u', NULL, "an article carried by several feeds once" },
	{ "reverse", 'r', NULL, "oldest first" },
	{ "format", 'F', "text|jsonl|tsv", FORMAT_HELP },
	{ "header", 'H', NULL, "with --format tsv, a first line naming the columns" },
	{ 0 },
};

static const struct feedctl_opt show_opts[] = {
	{ "json", 'j', NULL, "print the article as one JSON object" },
	{ 0 },
};

static const struct feedctl_opt follow_opts[] = {
	{ "after", 'a', "SEQ", "start after change-log entry SEQ (0 = replay the whole log)" },
	{ "feed", 'f', "NAME", "only the changes of feed NAME" },
	{ "tag", 't', "TAG", "only the changes of feeds tagged TAG" },
	{ "new-only", 'N', NULL, "only new articles, no updates or purges" },
	{ "interval", 'i', "MS", "check the database every MS milliseconds (default 200, at least 10)" },
	{ 0 },
};

static const struct feedctl_opt search_opts[] = {
	{ "feed", 'f', "NAME", "only the articles of feed NAME" },
	{ "tag", 't', "TAG", "only the articles of feeds tagged TAG" },
	{ "since", 's', "TIME", "only articles dated TIME or later (as for articles)" },
	{ "limit", 'n', "N", "at most N results (default 20, 0 = no limit)" },
	{ "fts", 'x', NULL, "QUERY is SQLite FTS5 query syntax (AND, OR, NOT, \"phrase\", prefix*)" },
	{ "format", 'F', "text|jsonl|tsv", FORMAT_HELP },
	{ "header", 'H', NULL, "with --format tsv, a first line naming the columns" },
	{ 0 },
};

static const struct feedctl_opt feeds_opts[] = {
	{ "format", 'F', "text|jsonl|tsv", FORMAT_HELP },
	{ "header", 'H', NULL, "with --format tsv, a first line naming the columns" },
	{ 0 },
};

static const struct feedctl_opt rules_opts[] = {
	{ "test", 'T', "FEED", "what the rules would keep or block of FEED's stored articles (changes nothing)" },
	{ "format", 'F', "text|jsonl", "output format (json = jsonl); default: text on a terminal, else jsonl" },
	{ 0 },
};

static const struct feedctl_opt import_opts[] = {
	{ "output", 'o', "FILE", "write the feed lines to FILE (atomically) instead of standard output" },
	{ "force", 'f', NULL, "with --output, replace FILE if it exists" },
	{ 0 },
};

static const struct feedctl_opt export_opts[] = {
	{ "from-db", 'd', NULL, "export the feeds stored in the database instead of the configured ones" },
	{ 0 },
};

static const struct feedctl_opt discover_opts[] = {
	{ "allow-private", 'p', NULL, "let URL and its feeds be on loopback or private network addresses" },
	{ 0 },
};

#define NO_RELOAD_HELP "do not run 'systemctl reload feedd'; print how to reload instead"

static const struct feedctl_opt add_opts[] = {
	{ "name", 'n', "NAME", "the feed's name (default: from title=, else the URL's host)" },
	{ "tags", 't', "TAGS", "comma-separated tags (tags=TAGS)" },
	{ "no-reload", 'R', NULL, NO_RELOAD_HELP },
	{ 0 },
};

static const struct feedctl_opt edit_opts[] = {
	{ "no-reload", 'R', NULL, NO_RELOAD_HELP },
	{ 0 },
};

static const struct feedctl_opt migrate_opts[] = {
	{ "from", 'f', "DB", "the database to copy: PATH, sqlite:PATH, postgresql://... or a libpq keyword string (only read)" },
	{ "to", 't', "DB", "the new database, in the same forms; it must hold no feeds, articles or other rows" },
	{ "batch", 'b', "N", "rows read and written per batch (default 1000)" },
	{ 0 },
};

static const struct feedctl_cmd commands[] = {
	{ "parse", feedctl_parse, "FILE|-...",
	  "parse feed documents with feedd's parser and print them as JSON lines", parse_opts },
	{ "articles", feedctl_articles, "",
	  "list stored articles, newest first", articles_opts },
	{ "show", feedctl_show, "ID",
	  "one article in full: title, text, source and link", show_opts },
	{ "follow", feedctl_follow, "",
	  "print each change to the articles as a JSON line as it is committed", follow_opts },
	{ "search", feedctl_search, "QUERY...",
	  "full-text search of the articles, best match first", search_opts },
	{ "feeds", feedctl_feeds, "",
	  "every feed with its state", feeds_opts },
	{ "rules", feedctl_rules, "",
	  "the keep/block rules with how often each matched", rules_opts },
	{ "hooks", feedctl_hooks, "",
	  "every hook with its cursor, backlog and last run", feeds_opts },
	{ "import-opml", feedctl_import_opml, "FILE|-",
	  "turn an OPML subscription list into feedd.conf feed lines", import_opts },
	{ "export-opml", feedctl_export_opml, "",
	  "print the configured (or stored) feeds as OPML 2.0", export_opts },
	{ "discover", feedctl_discover, "URL",
	  "find the feeds a web page advertises and print them as feed lines", discover_opts },
	{ "add", feedctl_add, "URL [KEY=VALUE]...",
	  "add a feed to feeds.d/feedctl.conf and reload feedd", add_opts },
	{ "remove", feedctl_remove, "NAME",
	  "remove a feed that feedctl add added, and reload feedd", edit_opts },
	{ "enable", feedctl_enable, "NAME",
	  "poll a disabled feed again (drops its enabled=no), and reload feedd", edit_opts },
	{ "disable", feedctl_disable, "NAME",
	  "stop polling a feed (enabled=no), keeping its articles, and reload feedd", edit_opts },
	{ "migrate", feedctl_migrate, "",
	  "copy the whole store to a new database (SQLite or PostgreSQL), verified, all or nothing", migrate_opts },
	{ "help", feedctl_help, "[COMMAND]",
	  "list the commands, or describe one", NULL },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Options of every command; --version only before a command. */
enum { G_DB = 1, G_CONFIG, G_HELP, G_VERSION };
static const struct feedctl_opt global_opts[] = {
	{ "db", G_DB, "PATH", "the database to read (default: $FEEDD_DB, else the configuration's database)" },
	{ "config", G_CONFIG, "PATH", "the configuration file (default " FEEDD_DEFAULT_CONFIG ")" },
	{ "help", G_HELP, NULL, "print this help and exit (also -h)" },
	{ "version", G_VERSION, NULL, "print feedctl's version and exit" },
	{ 0 },
};
#define NGLOBAL_CMD 3 /* the first three apply to commands too */

const struct feedctl_cmd *
feedctl_cmd_find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* --- help ----------------------------------------------------------------- */

static void
print_opts(FILE *f, const struct feedctl_opt *opts, size_t n)
{
	size_t w = 0;
	char buf[128];

	for (size_t i = 0; i < n && opts[i].name; i++) {
		size_t l = 2 + strlen(opts[i].name) + (opts[i].arg ? 1 + strlen(opts[i].arg) : 0);
		if (l > w)
			w = l;
	}
	for (size_t i = 0; i < n && opts[i].name; i++) {
		snprintf(buf, sizeof(buf), "--%s%s%s", opts[i].name,
			opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
		fprintf(f, "  %-*s  %s\n", (int)w, buf, opts[i].help);
	}
}

/* "usage: feedctl CMD [--opt ARG]... OPERANDS", wrapped under itself. */
static void
print_synopsis(FILE *f, const struct feedctl_cmd *c)
{
	char tok[160];
	int indent = (int)strlen("usage: feedctl ") + (int)strlen(c->name) + 1;
	int col = indent - 1;

	fprintf(f, "usage: feedctl %s", c->name);
	for (size_t i = 0; c->opts && c->opts[i].name; i++) {
		snprintf(tok, sizeof(tok), "[--%s%s%s]", c->opts[i].name,
			c->opts[i].arg ? " " : "", c->opts[i].arg ? c->opts[i].arg : "");
		if (col > indent && col + 1 + (int)strlen(tok) > 79) {
			fprintf(f, "\n%*s", indent - 1, "");
			col = indent - 1;
		}
		fprintf(f, " %s", tok);
		col += 1 + (int)strlen(tok);
	}
	if (c->operands[0]) {
		if (col > indent && col + 1 + (int)strlen(c->operands) > 79)
			fprintf(f, "\n%*s", indent - 1, "");
		fprintf(f, " %s", c->operands);
	}
	fputc('\n', f);
}

static void
print_cmd_help(FILE *f, const struct feedctl_cmd *c)
{
	print_synopsis(f, c);
	fprintf(f, "%c%s.\n", c->summary[0] >= 'a' && c->summary[0] <= 'z' ?
		c->summary[0] - 'a' + 'A' : c->summary[0], c->summary + 1);
	if (c->opts && c->opts[0].name) {
		fprintf(f, "\noptions:\n");
		print_opts(f, c->opts, (size_t)-1);
	}
	fprintf(f, "\nglobal options:\n");
	print_opts(f, global_opts, NGLOBAL_CMD);
	fprintf(f, "\nExit status: 0 success, 1 error, 2 usage error. See feedctl(1).\n");
}

static void
print_usage(FILE *f)
{
	size_t w = 0;

	fprintf(f, "usage: feedctl [--db PATH] [--config PATH] COMMAND [OPTION]... [ARG]...\n"
		"\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strlen(commands[i].name) > w)
			w = strlen(commands[i].name);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-*s  %s\n", (int)w, commands[i].name, commands[i].summary);
	fprintf(f, "\nglobal options (before or after the command):\n");
	print_opts(f, global_opts, (size_t)-1);
	fprintf(f, "\n'feedctl help COMMAND' or 'feedctl COMMAND --help' describes a command.\n"
		"Exit status: 0 success, 1 error, 2 usage error. See feedctl(1).\n");
}

int
feedctl_help(const struct feedctl_global *g, int argc, char **argv)
{
	const struct feedctl_cmd *c;

	(void)g;
	if (argc == 1) {
		print_usage(stdout);
		return fflush(stdout) == 0 ? FEEDCTL_OK : FEEDCTL_ERR;
	}
	if (argc > 2) {
		fprintf(stderr, "feedctl help: one command at a time\n");
		return FEEDCTL_USAGE;
	}
	c = feedctl_cmd_find(argv[1]);
	if (!c) {
		fprintf(stderr, "feedctl help: unknown command '%s' (see 'feedctl help')\n",
			argv[1]);
		return FEEDCTL_USAGE;
	}
	print_cmd_help(stdout, c);
	return fflush(stdout) == 0 ? FEEDCTL_OK : FEEDCTL_ERR;
}

/* --- option parsing ------------------------------------------------------- */

/* The option of opts that "--NAME[=...]" (s points after the dashes) names. */
static const struct feedctl_opt *
opt_find(const struct feedctl_opt *opts, size_t n, const char *s)
{
	size_t len = strcspn(s, "=");

	for (size_t i = 0; opts && i < n && opts[i].name; i++)
		if (strlen(opts[i].name) == len && strncmp(opts[i].name, s, len) == 0)
			return &opts[i];
	return NULL;
}

void
feedctl_args_init(struct feedctl_args *a, int argc, char **argv)
{
	*a = (struct feedctl_args){ .argc = argc, .argv = argv, .i = 1,
		.cmd = argc > 0 ? feedctl_cmd_find(argv[0]) : NULL };
}

int
feedctl_opt_next(struct feedctl_args *a, const char **val)
{
	const char *cmd = a->argc > 0 ? a->argv[0] : "?";
	const struct feedctl_opt *o;
	const char *s, *eq;

	*val = NULL;
	for (;;) {
		if (a->i >= a->argc)
			return -1;
		s = a->argv[a->i++];
		if (a->only_operands || s[0] != '-' || s[1] == '\0') {
			*val = s;
			return 0;
		}
		if (strcmp(s, "--") != 0)
			break;
		a->only_operands = true;
	}
	if (s[1] != '-') {
		fprintf(stderr, "feedctl %s: unknown option '%s' (see 'feedctl %s --help')\n",
			cmd, s, cmd);
		return -2;
	}
	o = a->cmd ? opt_find(a->cmd->opts, (size_t)-1, s + 2) : NULL;
	if (!o) {
		fprintf(stderr, "feedctl %s: unknown option '%.*s' (see 'feedctl %s --help')\n",
			cmd, (int)strcspn(s, "="), s, cmd);
		return -2;
	}
	eq = strchr(s, '=');
	if (!o->arg) {
		if (eq) {
			fprintf(stderr, "feedctl %s: option '--%s' takes no value\n", cmd, o->name);
			return -2;
		}
		return o->key;
	}
	if (eq) {
		*val = eq + 1;
	} else if (a->i < a->argc) {
		*val = a->argv[a->i++];
	} else {
		fprintf(stderr, "feedctl %s: option '--%s' needs a value (%s)\n", cmd,
			o->name, o->arg);
		return -2;
	}
	return o->key;
}

int
feedctl_bad_value(const char *cmd, const char *opt, const char *value, const char *why)
{
	fprintf(stderr, "feedctl %s: bad --%s '%s': %s\n", cmd, opt, value, why);
	return FEEDCTL_USAGE;
}

/* --- database path -------------------------------------------------------- */

const char *
feedctl_db_path(const struct feedctl_global *g)
{
	static char path[4096];
	const char *cfg = g->config ? g->config : FEEDD_DEFAULT_CONFIG;
	char err[512];
	struct conf *c = NULL;

	if (g->db)
		return g->db;
	if (getenv("FEEDD_DB") && *getenv("FEEDD_DB"))
		return getenv("FEEDD_DB");
	if (conf_load(&c, cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "feedctl: no --db given and the config could not be read: %s\n", err);
		return NULL;
	}
	snprintf(path, sizeof(path), "%s", c->database);
	conf_free(c);
	return path;
}

/* --- main ----------------------------------------------------------------- */

/* A global option at argv[*i]: sets g and advances *i past it and its
 * value. Returns its key, 0 when argv[*i] is not one, -2 on a usage
 * error (reported). */
static int
global_opt(struct feedctl_global *g, int argc, char **argv, int *i, const char *where)
{
	const char *s = argv[*i], *val;
	const struct feedctl_opt *o;

	if (strcmp(s, "-h") == 0) {
		(*i)++;
		return G_HELP;
	}
	if (strncmp(s, "--", 2) != 0 || !(o = opt_find(global_opts, (size_t)-1, s + 2)))
		return 0;
	if (o->key == G_VERSION && strcmp(where, "feedctl") != 0)
		return 0;
	(*i)++;
	if (!o->arg)
		return o->key;
	if (strchr(s, '=')) {
		val = strchr(s, '=') + 1;
	} else if (*i < argc) {
		val = argv[(*i)++];
	} else {
		fprintf(stderr, "%s: option '--%s' needs a value (%s)\n", where, o->name, o->arg);
		return -2;
	}
	if (o->key == G_DB)
		g->db = val;
	else
		g->config = val;
	return o->key;
}

int
main(int argc, char **argv)
{
	struct feedctl_global g = { 0 };
	const struct feedctl_cmd *c;
	char where[96], **cargv;
	int i = 1, n = 0, rc;
	bool dashdash = false;

	while (i < argc && argv[i][0] == '-' && argv[i][1]) {
		rc = global_opt(&g, argc, argv, &i, "feedctl");
		if (rc == -2)
			return FEEDCTL_USAGE;
		if (rc == G_HELP) {
			print_usage(stdout);
			return fflush(stdout) == 0 ? FEEDCTL_OK : FEEDCTL_ERR;
		}
		if (rc == G_VERSION) {
			printf("feedctl %s\n", FEEDD_VERSION);
			return FEEDCTL_OK;
		}
		if (rc == 0) {
			fprintf(stderr, "feedctl: unknown option '%s' (see 'feedctl help')\n",
				argv[i]);
			return FEEDCTL_USAGE;
		}
	}
	if (i >= argc) {
		print_usage(stderr);
		return FEEDCTL_USAGE;
	}
	c = feedctl_cmd_find(argv[i]);
	if (!c) {
		fprintf(stderr, "feedctl: unknown command '%s' (see 'feedctl help')\n", argv[i]);
		return FEEDCTL_USAGE;
	}
	snprintf(where, sizeof(where), "feedctl %s", c->name);

	/* The command's own argv, without the global options. Its table row
	 * says which of its options take a value, so a value that looks like
	 * a global option ("--feed --db") stays the command's. */
	cargv = calloc((size_t)(argc - i + 1), sizeof(*cargv));
	if (!cargv) {
		fprintf(stderr, "feedctl: out of memory\n");
		return FEEDCTL_ERR;
	}
	cargv[n++] = argv[i++];
	while (i < argc) {
		const char *s = argv[i];
		const struct feedctl_opt *o;

		if (dashdash || s[0] != '-' || !s[1]) {
			cargv[n++] = argv[i++];
			continue;
		}
		if (strcmp(s, "--") == 0) {
			dashdash = true;
			cargv[n++] = argv[i++];
			continue;
		}
		rc = global_opt(&g, argc, argv, &i, where);
		if (rc == -2) {
			free(cargv);
			return FEEDCTL_USAGE;
		}
		if (rc == G_HELP) {
			free(cargv);
			print_cmd_help(stdout, c);
			return fflush(stdout) == 0 ? FEEDCTL_OK : FEEDCTL_ERR;
		}
		if (rc > 0)
			continue;
		o = strncmp(s, "--", 2) == 0 ? opt_find(c->opts, (size_t)-1, s + 2) : NULL;
		cargv[n++] = argv[i++];
		if (o && o->arg && !strchr(s, '=') && i < argc)
			cargv[n++] = argv[i++];
	}
	cargv[n] = NULL;
	rc = c->fn(&g, n, cargv);
	free(cargv);
	return rc;
}
