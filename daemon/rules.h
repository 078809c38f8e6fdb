/*
 * rules: keep and block rules (`rule NAME block|keep FIELD~REGEX
 * [feeds=...]` in feedd.conf(5)), decided for each new entry before it
 * is stored.
 *
 * Semantics, also in feedd.conf(5):
 * - A rule applies to a feed when it has no feeds= or when feeds= names
 *   the feed or one of its tags (tag:TAG).
 * - Of the rules that apply, the first block rule (config order) whose
 *   regex matches blocks the entry. Otherwise, when any keep rule
 *   applies, the first matching keep rule keeps it, and an entry no keep
 *   rule matches is blocked (by no rule). Without keep rules an entry no
 *   block rule matches is kept. Block wins over keep.
 * - Only entries that would be new articles are affected: an article
 *   already stored is updated as usual whatever the rules say now.
 * - A rule's count is the new entries it decided: for a keep rule the
 *   articles it let in, for a block rule the entries it kept out, each
 *   counted once (the store remembers blocked keys).
 *
 * Parsing and matching are pure (conf.c calls rule_parse(); tests call
 * rules_judge()); the tally carries one refresh's verdicts from the loop
 * to the store worker and the counts back. Regexes are POSIX extended,
 * compiled REG_EXTENDED | REG_NOSUB (| REG_ICASE for FIELD~*REGEX), in
 * the C locale feedd runs in: they match bytes of the UTF-8 text, and
 * REG_ICASE folds ASCII letters only (documented in feedd.conf(5)).
 */
#ifndef FEEDD_DAEMON_RULES_H
#define FEEDD_DAEMON_RULES_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct batch;
struct conf;
struct conf_feed;

enum rule_action {
	RULE_ACTION_BLOCK,
	RULE_ACTION_KEEP,
};

enum rule_field {
	RULE_FIELD_TITLE,
	RULE_FIELD_TEXT,
	RULE_FIELD_SUMMARY,
	RULE_FIELD_AUTHOR,
	RULE_FIELD_LINK,
	RULE_FIELD_CATEGORIES,
};

struct rule {
	char *name;            /* owned; unique, [A-Za-z0-9._-]+ */
	enum rule_action action;
	enum rule_field field;
	bool icase;            /* FIELD~*REGEX */
	char *pattern;         /* owned; the regex as written */
	regex_t re;            /* compiled; freed by rule_cleanup() */
	bool compiled;
	char **feeds;          /* owned; names and "tag:TAG"; NULL = all feeds */
	size_t nfeeds;
	char *file;            /* owned; where it was defined */
	int line;
	/* Loop side, for metrics: the new entries this rule decided since
	 * feedd started (carried over a reload by name, rules_carry()). */
	uint64_t matched;
};

/*
 * A config's rules, in config order. Immutable once parsed, so parse
 * threads may match with it while the loop reloads: whoever needs it
 * past the config's life takes a reference. References are taken and
 * dropped on the loop thread only (or a single-threaded program).
 */
struct rule_set {
	struct rule *v;        /* owned array */
	size_t n, cap;
	unsigned refs;
};

/* An empty set with one reference; NULL when out of memory. */
struct rule_set *rule_set_create(void);
/* Append *r (moved: *r is zeroed); 0, or -ENOMEM and *r cleaned up. */
int rule_set_add(struct rule_set *s, struct rule *r);
/* Another reference to s (NULL stays NULL); returns s. */
struct rule_set *rule_set_ref(struct rule_set *s);
/* Drop a reference; the last frees the rules. NULL is a no-op. */
void rule_set_unref(struct rule_set *s);

/* What a rule looks at, as stored; NULL = absent (matched as ""). */
struct rule_item {
	const char *title, *text, *summary, *author, *link;
	const char *categories_json; /* JSON array of strings */
};

const char *rule_action_name(enum rule_action a);
const char *rule_field_name(enum rule_field f);

/*
 * Parse the words of a rule line after the directive: argv[0] NAME,
 * argv[1] ACTION, argv[2] FIELD~REGEX or FIELD~*REGEX, then key=value
 * words (feeds=a,b,tag:x). On success *out is filled (release with
 * rule_cleanup()); file/line/matched are the caller's. On -EINVAL why
 * holds what is wrong ("unknown field 'x' (use title, ...)"), *out is
 * cleaned. -ENOMEM.
 */
int rule_parse(struct rule *out, int argc, char **argv, char *why,
	size_t whylen);

/* Whether every feeds= entry names a configured feed or a tag some
 * configured feed has. 0, or -EINVAL with why set. */
int rule_check_feeds(const struct rule *r, const struct conf *c, char *why,
	size_t whylen);

void rule_cleanup(struct rule *r);

/* Print r as a config line ("rule NAME ACTION FIELD~REGEX feeds=...\n"),
 * quoted so that it parses back the same. */
void rule_print(const struct rule *r, void *file /* FILE* */);

/* Whether r applies to the feed named feed with tags ("a,b" or NULL). */
bool rule_applies(const struct rule *r, const char *feed, const char *tags);

/* Whether r's regex matches its field of it. */
bool rule_matches(const struct rule *r, const struct rule_item *it);

/*
 * The verdict on one entry of feed (name, tags) under rules[0..n):
 * returns true to store (keep), false to block; *decider is the index
 * of the deciding rule, or -1 (no rule matched: kept when no keep rule
 * applies, blocked when one does).
 */
bool rules_judge(const struct rule *rules, size_t n, const char *feed,
	const char *tags, const struct rule_item *it, int *decider);

/* An article as the store gives it back, as a rule item. */
void rule_item_from_row(struct rule_item *it, const struct store_article_row *a);

/*
 * One refresh's verdicts. Created on the loop when a fetched body goes
 * to the parser, from the running config's rules (a reference) and the
 * feed's name and tags (copies): it needs nothing of the config after,
 * which a reload may free. rules_tally_judge() then runs on the parse
 * thread, so regexes over large documents never stall the loop; the
 * store job carries the tally to the worker. rules_tally_create() gives
 * *out = NULL (and 0) when no rule applies to the feed: then nothing is
 * blocked or counted, and every rules_tally_*() takes NULL.
 * rules_tally_destroy() on the loop (it drops the reference).
 */
struct rules_tally;

int rules_tally_create(struct rules_tally **out, struct rule_set *s,
	const struct conf_feed *f);
/* Any thread: decide every entry of b (once). 0 or -ENOMEM. */
int rules_tally_judge(struct rules_tally *t, const struct batch *b);
void rules_tally_destroy(struct rules_tally *t);

/* Worker: whether entry i is to be blocked (store_article.block_new). */
bool rules_tally_blocks(const struct rules_tally *t, size_t i);
/* Worker: zero the counts (a job run again after a failed group). */
void rules_tally_reset(struct rules_tally *t);
/* Worker: entry i was put with this outcome; counts it for its rule when
 * the rule decided a new entry (STORE_PUT_NEW for keep, STORE_PUT_BLOCKED
 * for block). */
void rules_tally_count(struct rules_tally *t, size_t i,
	enum store_put_outcome oc);
/* Worker: add the counts to the store in refresh rf (before its commit).
 * 0 or the store's error. */
int rules_tally_store(const struct rules_tally *t, struct store_refresh *rf);

/*
 * Loop, after the refresh was committed: add the counts to the in-memory
 * counters of the rules of c with the same names (rule.matched). This is
 * the call site for metrics: each (rule, action, n) passes through here
 * once per committed refresh.
 */
void rules_tally_apply(const struct rules_tally *t, struct conf *c);

struct metrics;
/* The tally's counts into feedd_rule_matches_total (metrics.h). */
void rules_tally_metrics(const struct rules_tally *t, struct metrics *m);
/* The exported rule series follow c's rules (start-up and each reload):
 * 0 or -ENOMEM. */
int rules_metrics_configure(const struct conf *c, struct metrics *m);

/* Reload: new rules take the in-memory counters of old rules of the same
 * name. */
void rules_carry(struct conf *to, const struct conf *from);

#endif
