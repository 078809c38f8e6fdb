/*
 * feedctl: read the article store, parse feeds, manage OPML.
 * The commands themselves live in feedctl_<cmd>.c.
 */
#include "feedctl.h"
#include "conf.h"

#include <errno.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	feedctl_cmd_fn fn;
	const char *usage;
} commands[] = {
	{ "parse", feedctl_parse,
	  "parse [--base URL] [--charset NAME] FILE|- ...   parse feeds, print JSON" },
	{ "articles", feedctl_articles,
	  "articles [--feed NAME] [--since TIME] [--after ID] [--limit N] [--unique]\n"
	  "           [--reverse] [--format jsonl|tsv|text]   list articles, newest first" },
	{ "show", feedctl_show,
	  "show ID [--json]   one article: title, text, source and link" },
	{ "follow", feedctl_follow,
	  "follow [--after SEQ] [--feed NAME] [--new-only]   print changes as JSON lines as they are committed" },
	{ "search", feedctl_search,
	  "search [--limit N] [--fts] [--format F] QUERY...   full-text search, best first" },
	{ "feeds", feedctl_feeds,
	  "feeds [--format jsonl|tsv|text]   every feed with its state" },
	{ "import-opml", feedctl_import_opml,
	  "import-opml FILE|-   print OPML subscriptions as feedd.conf 'feed' lines" },
	{ "export-opml", feedctl_export_opml,
	  "export-opml   print the configured feeds as OPML 2.0" },
};

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

static void
usage(FILE *f)
{
	fprintf(f, "usage: feedctl [--db PATH] [--config PATH] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s\n", commands[i].usage);
	fprintf(f, "\nglobal options:\n"
		"  --db PATH        database (default: the config's database)\n"
		"  --config PATH    config file (default " FEEDD_DEFAULT_CONFIG ")\n"
		"  --help, -h       print this help\n"
		"  --version        print the version\n");
}

int
main(int argc, char **argv)
{
	struct feedctl_global g = { 0 };
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
			g.db = argv[++i];
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			g.config = argv[++i];
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("feedctl %s\n", FEEDD_VERSION);
			return 0;
		} else {
			fprintf(stderr, "feedctl: unknown option %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (strcmp(argv[i], commands[c].name) == 0)
			return commands[c].fn(&g, argc - i, argv + i);
	fprintf(stderr, "feedctl: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return 2;
}
