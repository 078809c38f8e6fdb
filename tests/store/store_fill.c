/*
 * Test helper: write articles into a feedd database through store/, as the
 * daemon would. Used by the feedctl and Python reader tests.
 *
 *   store_fill DB FEED FIRST COUNT [--edit] [--keep-count N] [--link-base URL]
 *
 * stores entries FIRST .. FIRST+COUNT-1 of FEED in one refresh (id
 * "FEED-i", title "Article i of FEED", text with the word "number<i>");
 * --edit changes their titles ("(edited)") so they count as updates.
 * Prints "new=N updated=N unchanged=N purged=N" on success.
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main(int argc, char **argv)
{
	struct store_opts o = { .sync_normal = true };
	struct store *st = NULL;
	struct store_refresh *r = NULL;
	struct store_refresh_stats stats = { 0 };
	struct store_feed_conf fc = { 0 };
	const char *link_base = "https://example.org/";
	bool edit = false;
	int64_t fid = 0;
	long first, count;
	char err[512];
	int rc;

	if (argc < 5) {
		fprintf(stderr, "usage: store_fill DB FEED FIRST COUNT [--edit] "
			"[--keep-count N] [--link-base URL]\n");
		return 2;
	}
	first = atol(argv[3]);
	count = atol(argv[4]);
	fc.name = argv[2];
	fc.url = "https://example.org/feed.xml";
	for (int i = 5; i < argc; i++) {
		if (strcmp(argv[i], "--edit") == 0)
			edit = true;
		else if (strcmp(argv[i], "--keep-count") == 0 && i + 1 < argc)
			fc.keep_count = atoi(argv[++i]);
		else if (strcmp(argv[i], "--link-base") == 0 && i + 1 < argc)
			link_base = argv[++i];
	}
	rc = store_open(&st, argv[1], &o, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "store_fill: %s\n", err);
		return 1;
	}
	rc = store_feed_ensure(st, &fc, &fid);
	if (rc == 0)
		rc = store_refresh_begin(st, fid, &r);
	for (long i = first; rc == 0 && i < first + count; i++) {
		char guid[64], link[256], title[128], text[256], pub[32];
		struct store_article a = { 0 };

		snprintf(guid, sizeof(guid), "%s-%ld", fc.name, i);
		snprintf(link, sizeof(link), "%sp/%ld?utm_source=%s", link_base, i,
			fc.name);
		snprintf(title, sizeof(title), "Article %ld of %s%s", i, fc.name,
			edit ? " (edited)" : "");
		snprintf(text, sizeof(text),
			"First paragraph of article number%ld.\nSecond paragraph, "
			"about gardening and tomatoes.", i);
		snprintf(pub, sizeof(pub), "2024-01-01T%02ld:%02ld:00Z",
			(i / 60) % 24, i % 60);
		a.guid = guid;
		a.link = link;
		a.title = title;
		a.text = text;
		a.published = pub;
		a.content = "<p>content</p>";
		a.categories_json = "[\"test\"]";
		a.enclosures_json = "[]";
		rc = store_refresh_put(r, &a, NULL, NULL);
	}
	if (rc == 0) {
		struct store_feed_result res = { .attempt = 1700000000, .ok = true,
			.http_status = 200, .next_due = 1700003600, .title = "A feed" };
		rc = store_refresh_commit(r, &res, &stats);
		r = NULL;
	}
	if (rc < 0) {
		fprintf(stderr, "store_fill: %s\n", store_errmsg(st));
		store_refresh_abort(r);
		store_close(st);
		return 1;
	}
	printf("new=%u updated=%u unchanged=%u purged=%u\n", stats.inserted,
		stats.updated, stats.unchanged, stats.purged);
	store_close(st);
	return 0;
}
