/*
 * rules: keep/block rules parsed and matched. See rules.h for the
 * semantics, feedd.conf(5) for the syntax. The per-refresh tally is in
 * rules_tally.c, so that conf.c (and its fuzz target) needs only this.
 */
#include "rules.h"
#include "conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define RULE_MAX_NAME 64

static const char *const field_names[] = {
	[RULE_FIELD_TITLE] = "title",
	[RULE_FIELD_TEXT] = "text",
	[RULE_FIELD_SUMMARY] = "summary",
	[RULE_FIELD_AUTHOR] = "author",
	[RULE_FIELD_LINK] = "link",
	[RULE_FIELD_CATEGORIES] = "categories",
};
#define NFIELDS (sizeof(field_names) / sizeof(field_names[0]))
_Static_assert(NFIELDS == RULE_FIELD_CATEGORIES + 1, "one name per field");

const char *
rule_action_name(enum rule_action a)
{
	return a == RULE_ACTION_KEEP ? "keep" : "block";
}

const char *
rule_field_name(enum rule_field f)
{
	return (size_t)f < NFIELDS ? field_names[f] : "?";
}

void
rule_cleanup(struct rule *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->pattern);
	if (r->compiled)
		regfree(&r->re);
	for (size_t i = 0; i < r->nfeeds; i++)
		free(r->feeds[i]);
	free(r->feeds);
	free(r->file);
	memset(r, 0, sizeof(*r));
}

struct rule_set *
rule_set_create(void)
{
	struct rule_set *s = calloc(1, sizeof(*s));

	if (s)
		s->refs = 1;
	return s;
}

int
rule_set_add(struct rule_set *s, struct rule *r)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct rule *nv = realloc(s->v, cap * sizeof(*nv));

		if (!nv) {
			rule_cleanup(r);
			return -ENOMEM;
		}
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = *r;
	memset(r, 0, sizeof(*r));
	return 0;
}

struct rule_set *
rule_set_ref(struct rule_set *s)
{
	if (s)
		s->refs++;
	return s;
}

void
rule_set_unref(struct rule_set *s)
{
	if (!s || --s->refs > 0)
		return;
	for (size_t i = 0; i < s->n; i++)
		rule_cleanup(&s->v[i]);
	free(s->v);
	free(s);
}

static bool
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > RULE_MAX_NAME || s[0] == '-')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"0123456789._-") == n;
}

/* Split "a, b,tag:x" into r->feeds; -EINVAL with why on a bad item. */
static int
parse_feeds(struct rule *r, const char *v, char *why, size_t whylen)
{
	const char *p = v;

	while (*p) {
		const char *b, *e;
		char *item, **nf;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		b = p;
		while (*p && *p != ',')
			p++;
		e = p;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		item = strndup(b, (size_t)(e - b));
		if (!item)
			return -ENOMEM;
		if (strncmp(item, "tag:", 4) == 0 ? !item[4] : !name_ok(item)) {
			snprintf(why, whylen, "bad feeds= entry '%s' (use feed names "
				"and tag:TAG, comma-separated)", item);
			free(item);
			return -EINVAL;
		}
		nf = realloc(r->feeds, (r->nfeeds + 1) * sizeof(*nf));
		if (!nf) {
			free(item);
			return -ENOMEM;
		}
		r->feeds = nf;
		r->feeds[r->nfeeds++] = item;
	}
	if (r->nfeeds == 0) {
		snprintf(why, whylen, "feeds= is empty (name feeds, or tag:TAG; "
			"leave it out for every feed)");
		return -EINVAL;
	}
	return 0;
}

/*
 * About how many items regcomp() would build for an extended regex:
 * every atom counts one, a bounded repetition multiplies what it repeats
 * and x+ doubles it (glibc expands x{n} into n copies and x+ into x x*,
 * so a++++++ grows as 2^k; so ((a{255}){255}){255} is 16
 * million items and takes regcomp seconds and gigabytes, a config line
 * that would hang a reload). Stops counting past limit. Unterminated
 * brackets and the like are left for regcomp() to report.
 */
static size_t
pattern_cost(const char *p, size_t limit)
{
	size_t total[32] = { 0 }, last[32] = { 0 };
	/* Whether the last atom may match the empty string (x*, x?, x{0,n},
	 * or a group holding any of them: an over-estimate), and whether
	 * the group open at each depth holds one. */
	bool lastnull[32] = { false }, hasnull[32] = { false };
	int d = 0;

	while (*p && total[0] <= limit) {
		size_t atom = 1;
		bool null = false;

		if (*p == '\\' && p[1]) {
			p += 2;
		} else if (*p == '[') {
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p && *p != ']') {
				if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
					char end = p[1];
					p += 2;
					while (*p && !(*p == end && p[1] == ']'))
						p++;
					if (*p)
						p += 2;
					continue;
				}
				p++;
			}
			if (*p)
				p++;
		} else if (*p == '(') {
			p++;
			if (d < 31) {
				d++;
				total[d] = last[d] = 0;
				lastnull[d] = hasnull[d] = false;
			}
			continue;
		} else if (*p == ')' && d > 0) {
			p++;
			atom = total[d] + 1;
			null = hasnull[d];
			d--;
		} else if (*p == '{') {
			unsigned long m = 0, n = 0;
			char *e;

			m = strtoul(p + 1, &e, 10);
			n = m;
			if (*e == ',')
				n = e[1] == '}' ? m : strtoul(e + 1, &e, 10);
			if (e[0] == ',' && e[1] == '}')
				e++;
			p = *e == '}' ? e + 1 : p + 1;
			if (n > limit)
				n = limit;
			/* The repeated atom is already counted once; a
			 * repetition of it repeats all n copies. */
			if (n > 1) {
				total[d] += last[d] * (n - 1);
				last[d] = last[d] * n > limit ? limit + 1 :
					last[d] * n;
			}
			if (m == 0)
				lastnull[d] = hasnull[d] = true;
			if (total[d] > limit)
				total[0] = limit + 1;
			continue;
		} else if (*p == '*' || *p == '?') {
			/* x* and x? build no copy of x, but what follows
			 * repeats all of it: x+++*++++ is still 2^7 copies
			 * (not a new one-item atom). */
			p++;
			lastnull[d] = hasnull[d] = true;
			continue;
		} else if (*p == '+') {
			/* x+ is built as x x*: a copy, so x+++ doubles thrice.
			 * When x may match the empty string, regcomp's
			 * epsilon closures grow about 4x per '+' instead
			 * (measured: x+++*+++++++++ takes 0.4 s, each
			 * further '+' four times that): counted as 4 copies. */
			size_t k = lastnull[d] ? 4 : 2;

			p++;
			total[d] += last[d] * (k - 1);
			last[d] = last[d] * k > limit ? limit + 1 : last[d] * k;
			if (total[d] > limit)
				total[0] = limit + 1;
			continue;
		} else {
			p++;
		}
		total[d] += atom;
		last[d] = atom;
		lastnull[d] = null;
	}
	return total[0];
}

#define RULE_MAX_COST 100000

int
rule_parse(struct rule *out, int argc, char **argv, char *why, size_t whylen)
{
	struct rule r = { 0 };
	const char *tilde, *pat;
	bool have_feeds = false;
	size_t flen;
	int rc = -EINVAL, erc;

	why[0] = '\0';
	if (argc < 3) {
		snprintf(why, whylen, "expects NAME block|keep FIELD~REGEX [feeds=...]");
		goto out;
	}
	if (!name_ok(argv[0])) {
		snprintf(why, whylen, "invalid rule name '%s' (use up to %d letters, "
			"digits, '.', '_' and '-', not starting with '-')", argv[0],
			RULE_MAX_NAME);
		goto out;
	}
	if (strcmp(argv[1], "block") == 0) {
		r.action = RULE_ACTION_BLOCK;
	} else if (strcmp(argv[1], "keep") == 0) {
		r.action = RULE_ACTION_KEEP;
	} else {
		snprintf(why, whylen, "unknown action '%s' (use block or keep)", argv[1]);
		goto out;
	}
	tilde = strchr(argv[2], '~');
	if (!tilde) {
		snprintf(why, whylen, "expected FIELD~REGEX or FIELD~*REGEX, got '%s'",
			argv[2]);
		goto out;
	}
	flen = (size_t)(tilde - argv[2]);
	r.field = (enum rule_field)NFIELDS;
	for (size_t i = 0; i < NFIELDS; i++)
		if (strlen(field_names[i]) == flen &&
		    strncmp(argv[2], field_names[i], flen) == 0)
			r.field = (enum rule_field)i;
	if ((size_t)r.field == NFIELDS) {
		snprintf(why, whylen, "unknown field '%.*s' (use title, text, summary, "
			"author, link or categories)", (int)flen, argv[2]);
		goto out;
	}
	pat = tilde + 1;
	if (*pat == '*') {
		r.icase = true;
		pat++;
	}
	if (!*pat) {
		snprintf(why, whylen, "empty regex in '%s'", argv[2]);
		goto out;
	}
	if (pattern_cost(pat, RULE_MAX_COST) > RULE_MAX_COST) {
		snprintf(why, whylen, "regex '%.60s%s' too complex (its repetitions "
			"expand to more than %d items)", pat, strlen(pat) > 60 ? "..." : "",
			RULE_MAX_COST);
		goto out;
	}
	erc = regcomp(&r.re, pat, REG_EXTENDED | REG_NOSUB | (r.icase ? REG_ICASE : 0));
	if (erc != 0) {
		char msg[128];
		/* REG_ESPACE is also a regex too large to compile
		 * (a{1000}{1000}): the line's fault, reported as such. */
		regerror(erc, &r.re, msg, sizeof(msg));
		snprintf(why, whylen, "invalid regex '%s': %s", pat, msg);
		goto out;
	}
	r.compiled = true;
	for (int i = 3; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq) {
			snprintf(why, whylen, "expected key=value, got '%s' (quote a "
				"regex that has spaces: FIELD~\"A B\")", argv[i]);
			goto out;
		}
		if ((size_t)(eq - argv[i]) != 5 || strncmp(argv[i], "feeds", 5) != 0) {
			snprintf(why, whylen, "unknown key '%.*s' (a rule takes feeds=)",
				(int)(eq - argv[i]), argv[i]);
			goto out;
		}
		if (have_feeds) {
			snprintf(why, whylen, "key 'feeds' given twice");
			goto out;
		}
		have_feeds = true;
		rc = parse_feeds(&r, eq + 1, why, whylen);
		if (rc < 0)
			goto out;
		rc = -EINVAL;
	}
	r.name = strdup(argv[0]);
	r.pattern = strdup(pat);
	if (!r.name || !r.pattern) {
		rc = -ENOMEM;
		goto out;
	}
	*out = r;
	return 0;
out:
	rule_cleanup(&r);
	return rc;
}

static bool
has_tag(const char *tags, const char *tag)
{
	size_t n = strlen(tag);

	for (const char *p = tags; p && *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && strncmp(p, tag, n) == 0)
			return true;
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}

int
rule_check_feeds(const struct rule *r, const struct conf *c, char *why,
	size_t whylen)
{
	for (size_t i = 0; i < r->nfeeds; i++) {
		const char *it = r->feeds[i];
		bool found = false;

		if (strncmp(it, "tag:", 4) == 0) {
			for (size_t k = 0; k < c->nfeeds && !found; k++)
				found = has_tag(c->feeds[k].tags, it + 4);
			if (!found) {
				snprintf(why, whylen, "feeds=: no feed has tag '%s'", it + 4);
				return -EINVAL;
			}
		} else if (!conf_feed_find(c, it)) {
			snprintf(why, whylen, "feeds=: no feed named '%s'", it);
			return -EINVAL;
		}
	}
	return 0;
}

void
rule_print(const struct rule *r, void *file)
{
	FILE *f = file;
	size_t len = strlen(r->pattern) + 16;
	char *m = malloc(len);

	fprintf(f, "rule %s %s ", r->name, rule_action_name(r->action));
	if (m) {
		snprintf(m, len, "%s~%s%s", rule_field_name(r->field),
			r->icase ? "*" : "", r->pattern);
		conf_print_token(m, f);
		free(m);
	} else {
		/* Never print a rule that would parse back differently. */
		fputs("\"(out of memory)\"", f);
	}
	for (size_t i = 0; i < r->nfeeds; i++) {
		fputs(i ? "," : " feeds=", f);
		fputs(r->feeds[i], f);
	}
	fputc('\n', f);
}

bool
rule_applies(const struct rule *r, const char *feed, const char *tags)
{
	if (r->nfeeds == 0)
		return true;
	for (size_t i = 0; i < r->nfeeds; i++) {
		const char *it = r->feeds[i];
		if (strncmp(it, "tag:", 4) == 0 ? has_tag(tags, it + 4)
						: strcmp(it, feed) == 0)
			return true;
	}
	return false;
}

static bool
text_match(const struct rule *r, const char *s)
{
	return regexec(&r->re, s ? s : "", 0, NULL, 0) == 0;
}

/* Categories: any one of them matches. An article without categories
 * (or whose list cannot be read) is matched as one empty category. */
static bool
match_categories(const struct rule *r, const char *json)
{
	json_t *arr = json ? json_loads(json, 0, NULL) : NULL;
	bool any = false, hit = false;
	size_t i;
	json_t *v;

	if (json_is_array(arr)) {
		json_array_foreach(arr, i, v) {
			if (!json_is_string(v))
				continue;
			any = true;
			if (text_match(r, json_string_value(v))) {
				hit = true;
				break;
			}
		}
	}
	json_decref(arr);
	return any ? hit : text_match(r, "");
}

bool
rule_matches(const struct rule *r, const struct rule_item *it)
{
	switch (r->field) {
	case RULE_FIELD_TITLE: return text_match(r, it->title);
	case RULE_FIELD_TEXT: return text_match(r, it->text);
	case RULE_FIELD_SUMMARY: return text_match(r, it->summary);
	case RULE_FIELD_AUTHOR: return text_match(r, it->author);
	case RULE_FIELD_LINK: return text_match(r, it->link);
	case RULE_FIELD_CATEGORIES: return match_categories(r, it->categories_json);
	}
	return false;
}

bool
rules_judge(const struct rule *rules, size_t n, const char *feed,
	const char *tags, const struct rule_item *it, int *decider)
{
	int keep = -1;
	bool any_keep = false;

	*decider = -1;
	for (size_t i = 0; i < n; i++) {
		const struct rule *r = &rules[i];

		if (!rule_applies(r, feed, tags))
			continue;
		if (r->action == RULE_ACTION_KEEP) {
			any_keep = true;
			/* Only the first matching keep rule decides; the
			 * block rules after it must still be looked at. */
			if (keep < 0 && rule_matches(r, it))
				keep = (int)i;
			continue;
		}
		if (rule_matches(r, it)) {
			*decider = (int)i;
			return false;
		}
	}
	*decider = keep;
	return keep >= 0 || !any_keep;
}

void
rule_item_from_row(struct rule_item *it, const struct store_article_row *a)
{
	*it = (struct rule_item){
		.title = a->title,
		.text = a->text,
		.summary = a->summary,
		.author = a->author,
		.link = a->link,
		.categories_json = a->categories_json,
	};
}

