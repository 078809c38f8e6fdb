/*
 * feedctl rules: the configured keep/block rules with their stored counts,
 * and (--test FEED) what they would decide for a feed's stored articles.
 * Reads the config and opens the database read-only: changes nothing.
 */
#include "feedctl.h"
#include "conf.h"
#include "rules.h"
#include "store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

struct counts {
	struct store_rule_count *v; /* owned; name owned */
	size_t n;
};

static int
count_row(void *ud, const struct store_rule_count *c)
{
	struct counts *cs = ud;
	struct store_rule_count *nv = realloc(cs->v, (cs->n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	cs->v = nv;
	nv[cs->n] = (struct store_rule_count){ .matches = c->matches,
		.last_match = c->last_match, .name = strdup(c->name) };
	if (!nv[cs->n].name)
		return -ENOMEM;
	cs->n++;
	return 0;
}

static void
counts_free(struct counts *cs)
{
	for (size_t i = 0; i < cs->n; i++)
		free((char *)cs->v[i].name);
	free(cs->v);
}

static const struct store_rule_count *
counts_find(const struct counts *cs, const char *name)
{
	for (size_t i = 0; i < cs->n; i++)
		if (strcmp(cs->v[i].name, name) == 0)
			return &cs->v[i];
	return NULL;
}

static void
fmt_utc(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || !gmtime_r(&tt, &tm))
		snprintf(buf, len, "never");
	else
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
fmt_local(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || !localtime_r(&tt, &tm))
		snprintf(buf, len, "never");
	else
		strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
}

/* "title~*REGEX" and "a,tag:b" (or "all"), malloc'd; NULL: out of memory. */
static char *
match_text(const struct rule *r)
{
	char *s = NULL;

	if (asprintf(&s, "%s~%s%s", rule_field_name(r->field), r->icase ? "*" : "",
		r->pattern) < 0)
		return NULL;
	return s;
}

static char *
feeds_text(const struct rule *r)
{
	size_t len = 4;
	char *s;

	for (size_t i = 0; i < r->nfeeds; i++)
		len += strlen(r->feeds[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	strcpy(s, r->nfeeds ? "" : "all");
	for (size_t i = 0; i < r->nfeeds; i++) {
		if (i)
			strcat(s, ",");
		strcat(s, r->feeds[i]);
	}
	return s;
}

/* One JSON line; 0 or -EIO/-ENOMEM. Takes o. */
static int
put_json(json_t *o)
{
	char *line;
	int rc = 0;

	if (!o)
		return -ENOMEM;
	line = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!line)
		return -ENOMEM;
	if (printf("%s\n", line) < 0)
		rc = -EIO;
	free(line);
	return rc;
}

/* A string as JSON; one that is not UTF-8 (never from the config or the
 * store, defensively) becomes null rather than losing the line. */
static json_t *
jstr(const char *s)
{
	json_t *j = s ? json_string(s) : NULL;

	return j ? j : json_null();
}

/* A text cell: control characters would break the table. */
static void
put_cell(const char *s, int width)
{
	int n = 0;

	for (const char *p = s ? s : ""; *p; p++, n++)
		putchar((unsigned char)*p < ' ' ? ' ' : *p);
	if (width > n)
		printf("%*s", width - n, "");
}

static int
list_rules(const struct conf *c, const struct counts *cs, bool json)
{
	int w[4] = { 4, 6, 5, 5 }, rc = 0;
	char **match = NULL, **feeds = NULL;

	match = calloc(c->rules->n + 1, sizeof(*match));
	feeds = calloc(c->rules->n + 1, sizeof(*feeds));
	if (!match || !feeds) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < c->rules->n; i++) {
		match[i] = match_text(&c->rules->v[i]);
		feeds[i] = feeds_text(&c->rules->v[i]);
		if (!match[i] || !feeds[i]) {
			rc = -ENOMEM;
			goto out;
		}
		if ((int)strlen(c->rules->v[i].name) > w[0])
			w[0] = (int)strlen(c->rules->v[i].name);
		if ((int)strlen(match[i]) > w[2])
			w[2] = (int)strlen(match[i]);
		if ((int)strlen(feeds[i]) > w[3])
			w[3] = (int)strlen(feeds[i]);
	}
	if (!json && c->rules->n == 0) {
		printf("no rules in %s\n", c->path);
		goto out;
	}
	if (!json) {
		put_cell("RULE", w[0] + 2);
		put_cell("ACTION", w[1] + 2);
		put_cell("MATCH", w[2] + 2);
		put_cell("FEEDS", w[3] + 2);
		printf("%7s  %s\n", "MATCHES", "LAST MATCH");
	}
	for (size_t i = 0; i < c->rules->n && rc == 0; i++) {
		const struct rule *r = &c->rules->v[i];
		const struct store_rule_count *sc = counts_find(cs, r->name);
		int64_t n = sc ? sc->matches : 0, last = sc ? sc->last_match : 0;
		char when[40];

		if (json) {
			json_t *o = json_object(), *fl = r->nfeeds ? json_array() : json_null();
			char *file = NULL;

			for (size_t k = 0; fl && k < r->nfeeds; k++)
				json_array_append_new(fl, jstr(r->feeds[k]));
			fmt_utc(last, when, sizeof(when));
			if (o && asprintf(&file, "%s:%d", r->file, r->line) < 0)
				file = NULL;
			json_object_set_new(o, "name", jstr(r->name));
			json_object_set_new(o, "action", json_string(rule_action_name(r->action)));
			json_object_set_new(o, "field", json_string(rule_field_name(r->field)));
			json_object_set_new(o, "regex", jstr(r->pattern));
			json_object_set_new(o, "icase", json_boolean(r->icase));
			json_object_set_new(o, "feeds", fl ? fl : json_null());
			json_object_set_new(o, "defined", jstr(file));
			json_object_set_new(o, "matches", json_integer(n));
			json_object_set_new(o, "last_match", last > 0 ? json_string(when)
								    : json_null());
			free(file);
			rc = put_json(o);
			continue;
		}
		fmt_local(last, when, sizeof(when));
		put_cell(r->name, w[0] + 2);
		put_cell(rule_action_name(r->action), w[1] + 2);
		put_cell(match[i], w[2] + 2);
		put_cell(feeds[i], w[3] + 2);
		printf("%7" PRId64 "  %s\n", n, when);
	}
out:
	for (size_t i = 0; match && i < c->rules->n; i++)
		free(match[i]);
	for (size_t i = 0; feeds && i < c->rules->n; i++)
		free(feeds[i]);
	free(match);
	free(feeds);
	return rc;
}

struct test_ctx {
	const struct conf *c;
	const struct conf_feed *f;
	bool json;
	size_t kept, blocked;
};

static int
test_row(void *ud, const struct store_article_row *a)
{
	struct test_ctx *t = ud;
	struct rule_item it;
	const char *rule, *why;
	bool keep;
	int d;

	rule_item_from_row(&it, a);
	keep = rules_judge(t->c->rules->v, t->c->rules->n, t->f->name, t->f->tags, &it, &d);
	rule = d >= 0 ? t->c->rules->v[d].name : NULL;
	if (d >= 0)
		why = keep ? "keep rule matched" : "block rule matched";
	else
		why = keep ? "no rule matched" : "no keep rule matched";
	if (keep)
		t->kept++;
	else
		t->blocked++;
	if (t->json) {
		json_t *o = json_object();

		json_object_set_new(o, "id", json_integer(a->id));
		json_object_set_new(o, "title", jstr(a->title));
		json_object_set_new(o, "verdict", json_string(keep ? "keep" : "block"));
		json_object_set_new(o, "rule", jstr(rule));
		json_object_set_new(o, "why", json_string(why));
		return put_json(o);
	}
	printf("%-8" PRId64 "  %-7s  ", a->id, keep ? "keep" : "block");
	put_cell(rule ? rule : d < 0 && !keep ? "(no keep rule matched)" : "-", 20);
	printf("  ");
	put_cell(a->title ? a->title : "(no title)", 0);
	putchar('\n');
	return ferror(stdout) ? -EIO : 0;
}

int
feedctl_rules(const struct feedctl_global *g, int argc, char **argv)
{
	const char *cfg = g->config ? g->config : FEEDD_DEFAULT_CONFIG;
	const char *val, *test = NULL, *path;
	struct store_opts so = { .readonly = true };
	struct store *st = NULL;
	struct conf *c = NULL;
	struct counts cs = { 0 };
	struct feedctl_args args;
	bool json = !isatty(STDOUT_FILENO);
	char err[1024];
	int key, rc, ret = FEEDCTL_ERR;

	feedctl_args_init(&args, argc, argv);
	while ((key = feedctl_opt_next(&args, &val)) != -1) {
		switch (key) {
		case 'F':
			if (strcmp(val, "jsonl") == 0 || strcmp(val, "json") == 0)
				json = true;
			else if (strcmp(val, "text") == 0)
				json = false;
			else
				return feedctl_bad_value(argv[0], "format", val,
					"use text or jsonl (or json)");
			break;
		case 'T':
			test = val;
			break;
		case 0:
			fprintf(stderr, "feedctl %s: unexpected argument '%s' (see "
				"'feedctl %s --help')\n", argv[0], val, argv[0]);
			return FEEDCTL_USAGE;
		default:
			return FEEDCTL_USAGE;
		}
	}
	if (conf_load(&c, cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "feedctl rules: %s\n", err);
		goto out;
	}
	path = feedctl_db_path(g);
	if (!path)
		goto out;
	rc = store_open(&st, path, &so, err, sizeof(err));
	if (rc == -ENOENT && !test) {
		/* Nothing fetched yet: every rule has matched nothing. */
		fprintf(stderr, "feedctl rules: no database at %s yet: no rule "
			"has matched\n", path);
	} else if (rc < 0) {
		fprintf(stderr, "feedctl rules: cannot open the database: %s\n", err);
		goto out;
	}
	if (test) {
		struct test_ctx t = { .c = c, .json = json };
		struct store_query q = { .feed = test, .oldest_first = true };

		t.f = conf_feed_find(c, test);
		if (!t.f) {
			fprintf(stderr, "feedctl rules: no feed named '%s' in %s\n",
				test, c->path);
			goto out;
		}
		if (!json)
			printf("%-8s  %-7s  %-20s  %s\n", "ID", "VERDICT", "RULE", "TITLE");
		rc = store_articles_query(st, &q, test_row, &t);
		if (rc == -ENOENT) {
			fprintf(stderr, "feedctl rules: feed '%s' has nothing stored "
				"yet\n", test);
			goto out;
		}
		if (rc < 0) {
			fprintf(stderr, "feedctl rules: %s: %s\n", strerror(-rc),
				store_errmsg(st));
			goto out;
		}
		if (!json)
			printf("%zu kept, %zu blocked (nothing changed: the rules "
				"apply to new articles only)\n", t.kept, t.blocked);
	} else {
		rc = st ? store_rule_counts_list(st, count_row, &cs) : 0;
		if (rc == 0)
			rc = list_rules(c, &cs, json);
		if (rc < 0) {
			bool detail = st && rc != -ENOMEM && rc != -EIO;

			fprintf(stderr, "feedctl rules: %s%s%s\n", strerror(-rc),
				detail ? ": " : "", detail ? store_errmsg(st) : "");
			goto out;
		}
	}
	ret = fflush(stdout) == 0 ? FEEDCTL_OK : FEEDCTL_ERR;
out:
	counts_free(&cs);
	store_close(st);
	conf_free(c);
	return ret;
}
