/*
 * The parse_entry -> store_article mapping (daemon/batch.c): which field
 * feeds which column, the fallbacks, the JSON for lists, and that a batch
 * owns its copies (the parser's strings are gone when the store runs).
 */
#include "batch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static void
t_all_fields(void)
{
	const char *cats[] = { "tech", "linux" };
	const struct parse_enclosure encl[] = {
		{ .url = "http://example.com/a.mp3", .type = "audio/mpeg", .length = 1234 },
	};
	char title[32];
	struct parse_entry e = {
		.id = "urn:x:1", .link = "http://example.com/1", .title = title,
		.author = "Ann", .author_email = "ann@example.com",
		.published = "2024-01-02T03:04:05Z", .updated = "2024-01-03T00:00:00Z",
		.summary = "<p>s</p>", .content = "<p>c</p>", .text = "c",
		.comments = "http://example.com/1#c",
		.categories = cats, .ncategories = 2,
		.enclosures = encl, .nenclosures = 1,
	};
	struct batch *b = NULL;
	const struct store_article *a;

	snprintf(title, sizeof(title), "Title");
	REQUIRE(batch_create(&b) == 0);
	REQUIRE(batch_add(b, &e) == 0);
	/* The parser reuses its buffers: the batch must hold copies. */
	snprintf(title, sizeof(title), "CLOBBERED");
	CHECK_INT_EQ(batch_count(b), 1);
	a = batch_article(b, 0);
	REQUIRE(a != NULL);
	CHECK_STR_EQ(a->guid, "urn:x:1");
	CHECK_STR_EQ(a->link, "http://example.com/1");
	CHECK_STR_EQ(a->title, "Title");
	CHECK_STR_EQ(a->author, "Ann");
	CHECK_STR_EQ(a->published, "2024-01-02T03:04:05Z");
	CHECK_STR_EQ(a->updated, "2024-01-03T00:00:00Z");
	CHECK_STR_EQ(a->summary, "<p>s</p>");
	CHECK_STR_EQ(a->content, "<p>c</p>");
	CHECK_STR_EQ(a->text, "c");
	CHECK_STR_EQ(a->categories_json, "[\"tech\",\"linux\"]");
	CHECK_STR_EQ(a->enclosures_json,
		"[{\"url\":\"http://example.com/a.mp3\",\"type\":\"audio/mpeg\","
		"\"length\":1234}]");
	CHECK(batch_article(b, 1) == NULL);
	batch_destroy(b);
}

static void
t_fallbacks(void)
{
	struct parse_entry e = {
		.id = "", .title = "", .author_email = "ann@example.com",
		.updated = "2024-01-03T00:00:00Z",
	};
	struct batch *b = NULL;
	const struct store_article *a;

	REQUIRE(batch_create(&b) == 0);
	REQUIRE(batch_add(b, &e) == 0);
	a = batch_article(b, 0);
	REQUIRE(a != NULL);
	/* Empty is absent; published falls back to updated; the e-mail
	 * stands in for a missing author name. */
	CHECK_NULL(a->guid);
	CHECK_NULL(a->title);
	CHECK_NULL(a->link);
	CHECK_STR_EQ(a->author, "ann@example.com");
	CHECK_STR_EQ(a->published, "2024-01-03T00:00:00Z");
	CHECK_STR_EQ(a->updated, "2024-01-03T00:00:00Z");
	CHECK_NULL(a->categories_json);
	CHECK_NULL(a->enclosures_json);
	batch_destroy(b);
}

static void
t_lists(void)
{
	/* A category that is not UTF-8 (parse/ should never send one) is
	 * dropped rather than failing the entry; enclosures without a URL are
	 * dropped; unknown type and length are left out. */
	const char *cats[] = { "ok", "\xff\xfe", "", "caf\xc3\xa9" };
	const struct parse_enclosure encl[] = {
		{ .url = NULL, .type = "x/y", .length = 5 },
		{ .url = "http://example.com/v.ogg", .type = NULL, .length = -1 },
	};
	const char *bad[] = { "\xff" };
	const struct parse_enclosure nourl[] = { { .url = "", .length = 1 } };
	struct parse_entry e = {
		.id = "1", .categories = cats, .ncategories = 4,
		.enclosures = encl, .nenclosures = 2,
	};
	struct parse_entry e2 = {
		.id = "2", .categories = bad, .ncategories = 1,
		.enclosures = nourl, .nenclosures = 1,
	};
	struct batch *b = NULL;

	REQUIRE(batch_create(&b) == 0);
	REQUIRE(batch_add(b, &e) == 0);
	REQUIRE(batch_add(b, &e2) == 0);
	CHECK_STR_EQ(batch_article(b, 0)->categories_json, "[\"ok\",\"caf\xc3\xa9\"]");
	CHECK_STR_EQ(batch_article(b, 0)->enclosures_json,
		"[{\"url\":\"http://example.com/v.ogg\"}]");
	CHECK_NULL(batch_article(b, 1)->categories_json);
	CHECK_NULL(batch_article(b, 1)->enclosures_json);
	batch_destroy(b);
}

static void
t_many_in_order(void)
{
	struct batch *b = NULL;
	const struct store_article *first;
	char id[32];

	REQUIRE(batch_create(&b) == 0);
	for (int i = 0; i < 1000; i++) {
		struct parse_entry e = { .id = id, .title = "t" };

		snprintf(id, sizeof(id), "id-%d", i);
		REQUIRE(batch_add(b, &e) == 0);
		if (i == 0)
			first = batch_article(b, 0);
	}
	CHECK_INT_EQ(batch_count(b), 1000);
	/* Articles do not move when the batch grows. */
	CHECK(batch_article(b, 0) == first);
	CHECK_STR_EQ(batch_article(b, 0)->guid, "id-0");
	CHECK_STR_EQ(batch_article(b, 999)->guid, "id-999");
	batch_destroy(b);
	batch_destroy(NULL);
}

static void
t_enclosure_not_utf8(void)
{
	/* Like categories: an enclosure whose URL is not UTF-8 is dropped and
	 * a type that is not UTF-8 is left out, rather than failing the whole
	 * entry (and with it the whole document) as "out of memory". */
	const struct parse_enclosure encl[] = {
		{ .url = "http://example.com/\xff.mp3", .type = "audio/mpeg", .length = 1 },
		{ .url = "http://example.com/b.mp3", .type = "audio/\xfe", .length = 2 },
	};
	struct parse_entry e = { .id = "1", .enclosures = encl, .nenclosures = 2 };
	struct batch *b = NULL;

	REQUIRE(batch_create(&b) == 0);
	CHECK_INT_EQ(batch_add(b, &e), 0);
	CHECK_INT_EQ(batch_count(b), 1);
	if (batch_count(b) == 1)
		CHECK_STR_EQ(batch_article(b, 0)->enclosures_json,
			"[{\"url\":\"http://example.com/b.mp3\",\"length\":2}]");
	batch_destroy(b);
}

static const struct check_case cases[] = {
	{ "all_fields", t_all_fields },
	{ "fallbacks", t_fallbacks },
	{ "lists", t_lists },
	{ "many_in_order", t_many_in_order },
	{ "enclosure_not_utf8", t_enclosure_not_utf8 },
	{ 0 },
};

int
main(int argc, char **argv)
{
	return check_main(argc, argv, cases);
}
