/* unit.rules: keep/block rule lines (through conf_parse), matching, the
 * verdict order, and the per-refresh tally. */
#include "rules.h"
#include "batch.h"
#include "check.h"
#include "conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FEEDS "feed a http://a.example/ tags=news,tech\nfeed b http://b.example/\n"

static struct conf *
parse_ok(const char *text)
{
	struct conf *c = NULL;
	char err[1024];
	int rc = conf_parse(&c, "t.conf", text, strlen(text), err, sizeof(err));

	if (rc != 0)
		fprintf(stderr, "unexpected error: %s\n", err);
	return c;
}

/* Every bad rule line gets "FILE:LINE: rule: why". */
static void
t_errors(void)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ FEEDS "rule x block title~(a", "t.conf:3: rule: invalid regex '(a': " },
		{ FEEDS "rule x block title~a[", "t.conf:3: rule: invalid regex 'a[': " },
		{ FEEDS "rule x drop title~a", "t.conf:3: rule: unknown action 'drop' (use block or keep)" },
		{ FEEDS "rule x block titel~a", "t.conf:3: rule: unknown field 'titel' (use title, text, summary, author, link or categories)" },
		{ FEEDS "rule x block ~a", "t.conf:3: rule: unknown field '' (use title, text, summary, author, link or categories)" },
		{ FEEDS "rule x block title=a", "t.conf:3: rule: expected FIELD~REGEX or FIELD~*REGEX, got 'title=a'" },
		{ FEEDS "rule x block title~", "t.conf:3: rule: empty regex in 'title~'" },
		{ FEEDS "rule x block title~*", "t.conf:3: rule: empty regex in 'title~*'" },
		{ FEEDS "rule x block title~a feeds=nope", "t.conf:3: rule: feeds=: no feed named 'nope'" },
		{ FEEDS "rule x block title~a feeds=tag:nope", "t.conf:3: rule: feeds=: no feed has tag 'nope'" },
		{ FEEDS "rule x block title~a feeds=tag:", "t.conf:3: rule: bad feeds= entry 'tag:' (use feed names and tag:TAG, comma-separated)" },
		{ FEEDS "rule x block title~a feeds=\"a b\"", "t.conf:3: rule: bad feeds= entry 'a b' (use feed names and tag:TAG, comma-separated)" },
		{ FEEDS "rule x block title~a feeds=", "t.conf:3: rule: feeds= is empty (name feeds, or tag:TAG; leave it out for every feed)" },
		{ FEEDS "rule x block title~a feeds=a feeds=b", "t.conf:3: rule: key 'feeds' given twice" },
		{ FEEDS "rule x block title~a case=no", "t.conf:3: rule: unknown key 'case' (a rule takes feeds=)" },
		{ FEEDS "rule x block title~two words", "t.conf:3: rule: expected key=value, got 'words' (quote a regex that has spaces: FIELD~\"A B\")" },
		{ FEEDS "rule x block title~a\nrule x keep text~b", "t.conf:4: rule: duplicate rule name 'x' (first defined at t.conf:3)" },
		{ FEEDS "rule \"a b\" block title~a", "t.conf:3: rule: invalid rule name 'a b' (use up to 64 letters, digits, '.', '_' and '-', not starting with '-')" },
		{ FEEDS "rule x block", "t.conf:3: rule: expects at least 3 arguments, got 2" },
		/* Regexes that would take regcomp() seconds and gigabytes. */
		{ FEEDS "rule x block title~((a{255}){255}){255}", "t.conf:3: rule: regex '((a{255}){255}){255}' too complex (its repetitions expand to more than 100000 items)" },
		{ FEEDS "rule x block title~(x(a{9}|b){255}){255}", "t.conf:3: rule: regex '(x(a{9}|b){255}){255}' too complex" },
		{ FEEDS "rule x block title~^ru++++++++++++++++++++++++++++++st$", "t.conf:3: rule: regex '^ru++++++++++++++++++++++++++++++st$' too complex" },
		/* A star between the pluses repeats all the copies before it
		 * (the conf fuzzer's ^ru+++*++++++++++++ took regcomp minutes). */
		{ FEEDS "rule x block title~^ru+++*++++++++++++++st$", "t.conf:3: rule: regex '^ru+++*++++++++++++++st$' too complex" },
		{ FEEDS "rule x block title~^ru?+?+?+?+?+?+?+?+?+?+?+?+?+?+?+?+?+st$", "t.conf:3: rule: regex '^ru?+?+?+?+?+?+?+?+?+?+?+?+?+?+?+?+?+st$' too complex" },
		/* A rule may come before the feed it names (includes, order). */
		{ "rule x block title~a feeds=late\nrule y block title~(", "t.conf:2: rule: invalid regex '(': " },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conf *c = NULL;
		char err[1024] = "";
		int rc = conf_parse(&c, "t.conf", cases[i].text, strlen(cases[i].text),
			err, sizeof(err));

		CHECK_INT_EQ(rc, -EINVAL);
		CHECK_NULL(c);
		if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
			CHECK_STR_EQ(err, cases[i].err);
		conf_free(c);
	}

	/* Every error of the file, each at its own line. */
	const char *all = FEEDS "rule r1 block title~(\nrule r2 keep nope~x\n"
		"rule r3 shout title~x\nrule r4 block title~x feeds=zz\n";
	struct conf_errors e = { 0 };
	CHECK_INT_EQ(conf_parse_all(NULL, "t.conf", all, strlen(all), &e), -EINVAL);
	CHECK_INT_EQ(e.total, 4);
	REQUIRE(e.count == 4);
	CHECK(strncmp(e.msgs[0], "t.conf:3: rule: invalid regex", 29) == 0);
	CHECK(strncmp(e.msgs[1], "t.conf:4: rule: unknown field 'nope'", 36) == 0);
	CHECK(strncmp(e.msgs[2], "t.conf:5: rule: unknown action 'shout'", 38) == 0);
	CHECK_STR_EQ(e.msgs[3], "t.conf:6: rule: feeds=: no feed named 'zz'");
	conf_errors_free(&e);
}

static void
t_parse(void)
{
	struct conf *c = parse_ok(FEEDS
		"rule ads block title~*\"^sponsored: \" feeds=a,tag:tech\n"
		"rule rust keep categories~^rust$\n"
		"rule \"odd.name_1\" block \"link~example\\\\.com/ads\"\n");

	REQUIRE(c);
	REQUIRE(c->rules->n == 3);
	CHECK_STR_EQ(c->rules->v[0].name, "ads");
	CHECK_INT_EQ(c->rules->v[0].action, RULE_ACTION_BLOCK);
	CHECK_INT_EQ(c->rules->v[0].field, RULE_FIELD_TITLE);
	CHECK(c->rules->v[0].icase);
	CHECK_STR_EQ(c->rules->v[0].pattern, "^sponsored: ");
	REQUIRE(c->rules->v[0].nfeeds == 2);
	CHECK_STR_EQ(c->rules->v[0].feeds[0], "a");
	CHECK_STR_EQ(c->rules->v[0].feeds[1], "tag:tech");
	CHECK_STR_EQ(c->rules->v[0].file, "t.conf");
	CHECK_INT_EQ(c->rules->v[0].line, 3);
	CHECK_INT_EQ(c->rules->v[1].action, RULE_ACTION_KEEP);
	CHECK_INT_EQ(c->rules->v[1].field, RULE_FIELD_CATEGORIES);
	CHECK(!c->rules->v[1].icase);
	CHECK_INT_EQ(c->rules->v[1].nfeeds, 0);
	/* In quotes \\ is one backslash: the regex gets "\." */
	CHECK_STR_EQ(c->rules->v[2].pattern, "example\\.com/ads");
	CHECK_STR_EQ(c->rules->v[2].name, "odd.name_1");
	CHECK_INT_EQ(c->rules->v[2].field, RULE_FIELD_LINK);
	conf_free(c);
}

/* conf_print() prints rules so that they parse back to the same text. */
static void
t_print_roundtrip(void)
{
	struct conf *c = parse_ok(FEEDS
		"rule ads block title~*\"^sponsored: \\\"x\\\"\" feeds=a,tag:tech\n"
		"rule rust keep categories~^rust$\n"
		"rule bs block \"text~a\\\\\\\\b\"\n"
		"rule hash block title~#1\n");
	char *out1 = NULL, *out2 = NULL;
	size_t n1 = 0, n2 = 0;
	FILE *f;
	struct conf *c2;

	REQUIRE(c);
	f = open_memstream(&out1, &n1);
	REQUIRE(f);
	conf_print(c, f);
	fclose(f);
	CHECK(strstr(out1, "rule ads block \"title~*^sponsored: \\\"x\\\"\" feeds=a,tag:tech\n"));
	CHECK(strstr(out1, "rule rust keep categories~^rust$\n"));
	CHECK(strstr(out1, "rule hash block title~#1\n"));
	c2 = parse_ok(out1);
	REQUIRE(c2);
	REQUIRE(c2->rules->n == 4);
	CHECK_STR_EQ(c2->rules->v[0].pattern, "^sponsored: \"x\"");
	CHECK_STR_EQ(c2->rules->v[2].pattern, "a\\\\b");
	CHECK_STR_EQ(c2->rules->v[3].pattern, "#1");
	f = open_memstream(&out2, &n2);
	REQUIRE(f);
	conf_print(c2, f);
	fclose(f);
	/* The first line names the file read; the rest must be equal. */
	CHECK_STR_EQ(strchr(out2, '\n'), strchr(out1, '\n'));
	free(out1);
	free(out2);
	conf_free(c);
	conf_free(c2);
}

static void
t_match_fields(void)
{
	struct conf *c = parse_ok(FEEDS
		"rule t block title~^Hello\n"
		"rule ti block title~*^hello\n"
		"rule x block text~needle\n"
		"rule s block summary~<b>\n"
		"rule au block author~^Ann$\n"
		"rule l block link~/ads/\n"
		"rule cat block categories~^rust$\n"
		"rule empty block title~^$\n");
	struct rule_item it = {
		.title = "hello world", .text = "a needle here",
		.summary = "<p><b>x</b></p>", .author = "Ann",
		.link = "http://a.example/ads/1",
		.categories_json = "[\"go\",\"rust\"]",
	};
	struct rule_item none = { 0 };

	REQUIRE(c && c->rules->n == 8);
	CHECK(!rule_matches(&c->rules->v[0], &it));  /* case matters */
	CHECK(rule_matches(&c->rules->v[1], &it));   /* ~* ignores case */
	CHECK(rule_matches(&c->rules->v[2], &it));
	CHECK(rule_matches(&c->rules->v[3], &it));   /* summary is the HTML */
	CHECK(rule_matches(&c->rules->v[4], &it));
	CHECK(rule_matches(&c->rules->v[5], &it));
	CHECK(rule_matches(&c->rules->v[6], &it));   /* one category, whole */
	it.categories_json = "[\"rustacean\"]";
	CHECK(!rule_matches(&c->rules->v[6], &it));
	it.categories_json = "not json";
	CHECK(!rule_matches(&c->rules->v[6], &it));
	CHECK(!rule_matches(&c->rules->v[7], &it));
	/* Absent fields read as "". */
	CHECK(rule_matches(&c->rules->v[7], &none));
	CHECK(!rule_matches(&c->rules->v[2], &none));
	conf_free(c);

	/* Bytes of UTF-8, as feedd.conf(5) says: ~* folds ASCII only, and
	 * a non-ASCII letter written outside brackets matches whole. */
	c = parse_ok(FEEDS "rule u block title~*^\xc3\xbc" "ber$\n"
		"rule alt block title~^(\xc3\xa4|\xc3\xb6)x$\n");
	REQUIRE(c && c->rules->n == 2);
	it.title = "\xc3\xbc" "BER";
	CHECK(rule_matches(&c->rules->v[0], &it));
	it.title = "\xc3\x9c" "BER";
	CHECK(!rule_matches(&c->rules->v[0], &it));
	it.title = "\xc3\xb6x";
	CHECK(rule_matches(&c->rules->v[1], &it));
	it.title = "\xc3\xbcx";
	CHECK(!rule_matches(&c->rules->v[1], &it));
	conf_free(c);
}

static void
t_applies(void)
{
	struct conf *c = parse_ok(FEEDS
		"rule all block title~x\n"
		"rule byname block title~x feeds=b\n"
		"rule bytag block title~x feeds=tag:tech\n"
		"rule both block title~x feeds=b,tag:news\n");

	REQUIRE(c && c->rules->n == 4);
	CHECK(rule_applies(&c->rules->v[0], "a", "news,tech"));
	CHECK(rule_applies(&c->rules->v[0], "b", NULL));
	CHECK(!rule_applies(&c->rules->v[1], "a", "news,tech"));
	CHECK(rule_applies(&c->rules->v[1], "b", NULL));
	CHECK(rule_applies(&c->rules->v[2], "a", "news,tech"));
	CHECK(!rule_applies(&c->rules->v[2], "b", NULL));
	CHECK(!rule_applies(&c->rules->v[2], "c", "technology")); /* whole tags */
	CHECK(rule_applies(&c->rules->v[3], "a", "news,tech"));
	CHECK(rule_applies(&c->rules->v[3], "b", NULL));
	conf_free(c);
}

/* The verdict order: block wins, then keep rules restrict. */
static void
t_judge(void)
{
	struct conf *c = parse_ok(FEEDS
		"rule k1 keep title~rust feeds=a\n"
		"rule b1 block title~*sponsored\n"
		"rule k2 keep text~rust feeds=a\n"
		"rule b2 block title~spam feeds=b\n");
	static const struct {
		const char *feed, *tags, *title, *text;
		bool keep;
		int decider;
	} cases[] = {
		/* Feed a has keep rules: must match one. */
		{ "a", "news,tech", "rust 1.80", NULL, true, 0 },
		{ "a", "news,tech", "go 1.23", "about rust", true, 2 },
		{ "a", "news,tech", "go 1.23", "about go", false, -1 },
		/* Block wins over a matching keep rule, before or after it. */
		{ "a", "news,tech", "Sponsored: rust", NULL, false, 1 },
		/* Feed b: no keep rule applies, only blocks. */
		{ "b", NULL, "rust", NULL, true, -1 },
		{ "b", NULL, "spam and eggs", NULL, false, 3 },
		{ "b", NULL, "SPONSORED", NULL, false, 1 },
		{ "b", NULL, NULL, NULL, true, -1 },
	};

	REQUIRE(c && c->rules->n == 4);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rule_item it = { .title = cases[i].title, .text = cases[i].text };
		int d = 99;
		bool keep = rules_judge(c->rules->v, c->rules->n, cases[i].feed,
			cases[i].tags, &it, &d);

		if (keep != cases[i].keep || d != cases[i].decider)
			fprintf(stderr, "case %zu\n", i);
		CHECK_INT_EQ(keep, cases[i].keep);
		CHECK_INT_EQ(d, cases[i].decider);
	}
	/* No rules at all: everything is kept. */
	struct rule_item it = { .title = "x" };
	int d = 99;
	CHECK(rules_judge(NULL, 0, "a", NULL, &it, &d));
	CHECK_INT_EQ(d, -1);
	conf_free(c);
}

static void
add_entry(struct batch *b, const char *id, const char *title)
{
	struct parse_entry e = { .id = id, .title = title };

	CHECK_INT_EQ(batch_add(b, &e), 0);
}

/* The tally: verdicts per entry; counts only for the new entries a rule
 * decided; the counts reach the rules' in-memory counters by name; the
 * rules outlive their config while a tally holds them. */
static void
t_tally(void)
{
	struct conf *c = parse_ok(FEEDS
		"rule ads block title~^Ad\n"
		"rule news keep title~. feeds=b\n");
	struct conf *c2 = parse_ok(FEEDS "rule news keep title~.\nrule ads block title~^Ad\n");
	struct rules_tally *t = NULL, *tb = NULL;
	struct batch *b = NULL;

	REQUIRE(c && c2);
	REQUIRE(batch_create(&b) == 0);
	add_entry(b, "1", "Ad one");
	add_entry(b, "2", "Story");
	add_entry(b, "3", "Ad two");
	add_entry(b, "4", "Another");

	/* Feed a: only the block rule applies. */
	CHECK_INT_EQ(rules_tally_create(&t, c->rules, conf_feed_find(c, "a")), 0);
	REQUIRE(t);
	CHECK(!rules_tally_blocks(t, 0)); /* not judged yet */
	CHECK_INT_EQ(rules_tally_create(&tb, c->rules, conf_feed_find(c, "b")), 0);
	REQUIRE(tb);
	/* The config goes (a reload) while the tallies hold its rules. */
	rules_carry(c2, c);
	conf_free(c);
	c = NULL;
	CHECK_INT_EQ(rules_tally_judge(t, b), 0);
	CHECK(rules_tally_blocks(t, 0));
	CHECK(!rules_tally_blocks(t, 1));
	CHECK(rules_tally_blocks(t, 2));
	CHECK(!rules_tally_blocks(t, 3));
	CHECK(!rules_tally_blocks(t, 99));
	rules_tally_count(t, 0, STORE_PUT_BLOCKED);
	rules_tally_count(t, 1, STORE_PUT_NEW);        /* no rule decided it */
	rules_tally_count(t, 2, STORE_PUT_BLOCKED_AGAIN); /* counted before */
	rules_tally_count(t, 3, STORE_PUT_UNCHANGED);
	/* Applied to the reloaded config: by name, whatever the order. */
	rules_tally_apply(t, c2);
	CHECK_INT_EQ(c2->rules->v[1].matched, 1); /* ads */
	CHECK_INT_EQ(c2->rules->v[0].matched, 0); /* news */
	/* A job run again starts from zero. */
	rules_tally_reset(t);
	rules_tally_apply(t, c2);
	CHECK_INT_EQ(c2->rules->v[1].matched, 1);
	rules_tally_count(t, 0, STORE_PUT_BLOCKED);
	rules_tally_count(t, 2, STORE_PUT_BLOCKED);
	rules_tally_apply(t, c2);
	CHECK_INT_EQ(c2->rules->v[1].matched, 3);
	rules_tally_destroy(t);

	/* Feed b: the keep rule applies too; kept entries count for it
	 * only when they were new. */
	CHECK_INT_EQ(rules_tally_judge(tb, b), 0);
	CHECK(rules_tally_blocks(tb, 0));
	CHECK(!rules_tally_blocks(tb, 1));
	rules_tally_count(tb, 1, STORE_PUT_NEW);
	rules_tally_count(tb, 3, STORE_PUT_UPDATED);
	rules_tally_apply(tb, c2);
	CHECK_INT_EQ(c2->rules->v[0].matched, 1);
	rules_tally_destroy(tb);

	/* A counter carried over a reload. */
	struct conf *c4 = parse_ok(FEEDS "rule ads block title~^Ad\n");
	REQUIRE(c4);
	rules_carry(c4, c2);
	CHECK_INT_EQ(c4->rules->v[0].matched, 3);
	conf_free(c4);

	/* No rule applies: no tally, nothing blocked. */
	struct conf *c3 = parse_ok(FEEDS "rule only-b block title~. feeds=b\n");
	REQUIRE(c3);
	t = (struct rules_tally *)1;
	CHECK_INT_EQ(rules_tally_create(&t, c3->rules, conf_feed_find(c3, "a")), 0);
	CHECK_NULL(t);
	CHECK_INT_EQ(rules_tally_judge(NULL, b), 0);
	CHECK(!rules_tally_blocks(NULL, 0));
	CHECK_INT_EQ(rules_tally_store(NULL, NULL), 0);
	conf_free(c3);

	batch_destroy(b);
	conf_free(c2);
}

/* Hostile rule lines never crash and always either parse or say why. */
static void
t_hostile(void)
{
	/* Still fine: repetitions that stay small, and counted ones side by
	 * side (which add up, not multiply). */
	struct conf *ok = parse_ok(FEEDS "rule x block title~(a{255}){255}\n"
		"rule y block title~a{300}b{300}c{300}\n"
		"rule z block \"text~[{(]{9}\\\\{[a-z]{2,}\"\n");
	CHECK(ok && ok->rules->n == 3);
	conf_free(ok);

	static const char *const lines[] = {
		"rule x block title~\\",
		"rule x block title~a{99999}",
		"rule x block title~((a{255}){255}){255}{2,}",
		"rule x block title~([[:alpha:]](b{9,}|c){99}){99,}",
		"rule x block title~[]{({]{255}",
		"rule x block title~((((((((((((((((((((a))))))))))))))))))))",
		"rule x block title~~~",
		"rule x block categories~*[[:alpha:]]+",
		"rule x block title~a feeds=,,,",
		"rule x block title~a feeds=tag:news,,b",
		"rule x keep text~\xff\xfe",
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		char text[512], err[1024] = "";
		struct conf *c = NULL;
		int rc;

		snprintf(text, sizeof(text), FEEDS "%s\n", lines[i]);
		rc = conf_parse(&c, "t.conf", text, strlen(text), err, sizeof(err));
		CHECK(rc == 0 || rc == -EINVAL);
		if (rc == 0) {
			struct rule_item it = { .title = "a", .categories_json = "[1,\"b\"]" };
			int d;
			REQUIRE(c && c->rules->n == 1);
			(void)rules_judge(c->rules->v, c->rules->n, "a", "news", &it, &d);
		} else {
			CHECK(strncmp(err, "t.conf:3: rule: ", 16) == 0);
		}
		conf_free(c);
	}
}

static const struct check_case cases[] = {
	{ "errors", t_errors },
	{ "parse", t_parse },
	{ "print_roundtrip", t_print_roundtrip },
	{ "match_fields", t_match_fields },
	{ "applies", t_applies },
	{ "judge", t_judge },
	{ "tally", t_tally },
	{ "hostile", t_hostile },
	{ 0 },
};

int
main(int argc, char **argv)
{
	return check_main(argc, argv, cases);
}
