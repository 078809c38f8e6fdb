/*
 * batch: copies of a document's entries as store/ articles. See batch.h.
 *
 * Each entry becomes one allocation: the struct store_article followed by
 * every string it points to, so a 10,000-entry document costs 10,000
 * mallocs rather than 100,000, and freeing is one loop.
 */
#include "batch.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

struct batch_item {
	struct store_article a;   /* every pointer points into data[] */
	char data[];
};

struct batch {
	struct batch_item **items; /* owned, each owned */
	size_t n, cap;
};

int
batch_create(struct batch **out)
{
	struct batch *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	*out = b;
	return 0;
}

void
batch_destroy(struct batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++)
		free(b->items[i]);
	free(b->items);
	free(b);
}

size_t
batch_count(const struct batch *b)
{
	return b->n;
}

const struct store_article *
batch_article(const struct batch *b, size_t i)
{
	return i < b->n ? &b->items[i]->a : NULL;
}

/* "" and NULL both mean absent to the store: send NULL for both. */
static const char *
present(const char *s)
{
	return s && *s ? s : NULL;
}

/* A JSON array of the category strings, or NULL when there are none. */
static int
categories_json(const struct parse_entry *e, char **out)
{
	json_t *arr = NULL;
	int rc = 0;

	*out = NULL;
	if (e->ncategories == 0)
		goto out;
	arr = json_array();
	if (!arr) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < e->ncategories; i++) {
		const char *c = present(e->categories[i]);
		/* parse/ promises UTF-8; json_string() rechecks and
		 * returns NULL otherwise, and such a category is dropped. */
		json_t *s = c ? json_string(c) : NULL;

		if (s && json_array_append_new(arr, s) < 0) {
			rc = -ENOMEM;
			goto out;
		}
	}
	if (json_array_size(arr) == 0)
		goto out;
	*out = json_dumps(arr, JSON_COMPACT);
	if (!*out)
		rc = -ENOMEM;
out:
	json_decref(arr);
	return rc;
}

/* A JSON array of {"url", "type", "length"} objects; type and length are
 * left out when unknown. NULL when there are no enclosures. */
static int
enclosures_json(const struct parse_entry *e, char **out)
{
	json_t *arr = NULL;
	int rc = 0;

	*out = NULL;
	if (e->nenclosures == 0)
		goto out;
	arr = json_array();
	if (!arr) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < e->nenclosures; i++) {
		const struct parse_enclosure *en = &e->enclosures[i];
		json_t *o, *url, *type;

		if (!present(en->url))
			continue;
		/* parse/ promises UTF-8; json_string() rechecks and returns
		 * NULL otherwise (or out of memory, which we cannot tell
		 * apart): such an enclosure is dropped, such a type left
		 * out, as for categories. The _new() calls take the value's
		 * reference even when they fail. */
		url = json_string(en->url);
		if (!url)
			continue;
		o = json_object();
		if (!o) {
			json_decref(url);
			rc = -ENOMEM;
			goto out;
		}
		if (json_object_set_new(o, "url", url) < 0)
			goto nomem_o;
		type = present(en->type) ? json_string(en->type) : NULL;
		if (type && json_object_set_new(o, "type", type) < 0)
			goto nomem_o;
		if (en->length >= 0 &&
		    json_object_set_new(o, "length", json_integer(en->length)) < 0)
			goto nomem_o;
		if (json_array_append_new(arr, o) < 0) {
			rc = -ENOMEM;
			goto out;
		}
		continue;
nomem_o:
		json_decref(o);
		rc = -ENOMEM;
		goto out;
	}
	if (json_array_size(arr) == 0)
		goto out;
	*out = json_dumps(arr, JSON_COMPACT);
	if (!*out)
		rc = -ENOMEM;
out:
	json_decref(arr);
	return rc;
}

/*
 * The mapping from parse/ to store/. Policy, written down:
 * - guid is the entry's own id as the feed gave it (trimmed by parse/);
 *   the store derives the dedupe key from guid, else link, else a hash of
 *   title and date (store/SCHEMA.md).
 * - published falls back to updated: an Atom entry often has only
 *   <updated>, and readers sort by published. updated stays as given.
 * - author is the name, else the e-mail address when that is all there is.
 * - empty strings are absent (NULL), so "no title" is stored one way.
 * - categories and enclosures become compact JSON arrays (NULL when none).
 * - no truncation here: parse/ already caps every field at FEEDD_MAX_FIELD.
 */
static int
entry_to_item(const struct parse_entry *e, struct batch_item **out)
{
	char *cats = NULL, *encl = NULL;
	struct batch_item *it = NULL;
	struct store_article tmp = { 0 };
	const char *src[11];
	const char **dst[11];
	size_t n = 0, total = 0;
	char *p;
	int rc;

	rc = categories_json(e, &cats);
	if (rc < 0)
		goto out;
	rc = enclosures_json(e, &encl);
	if (rc < 0)
		goto out;

#define FIELD(value, member) \
	do { src[n] = present(value); dst[n] = &tmp.member; n++; } while (0)
	FIELD(e->id, guid);
	FIELD(e->link, link);
	FIELD(e->title, title);
	FIELD(present(e->author) ? e->author : e->author_email, author);
	FIELD(present(e->published) ? e->published : e->updated, published);
	FIELD(e->updated, updated);
	FIELD(e->summary, summary);
	FIELD(e->content, content);
	FIELD(e->text, text);
	FIELD(cats, categories_json);
	FIELD(encl, enclosures_json);
#undef FIELD
	_Static_assert(sizeof(src) / sizeof(src[0]) == 11, "one slot per field");

	for (size_t i = 0; i < n; i++)
		if (src[i])
			total += strlen(src[i]) + 1;
	it = malloc(sizeof(*it) + total);
	if (!it) {
		rc = -ENOMEM;
		goto out;
	}
	p = it->data;
	for (size_t i = 0; i < n; i++) {
		size_t len;

		if (!src[i]) {
			*dst[i] = NULL;
			continue;
		}
		len = strlen(src[i]) + 1;
		memcpy(p, src[i], len);
		*dst[i] = p;
		p += len;
	}
	it->a = tmp;
	*out = it;
	it = NULL;
out:
	free(it);
	free(cats);
	free(encl);
	return rc;
}

int
batch_add(struct batch *b, const struct parse_entry *e)
{
	struct batch_item *it = NULL;
	int rc;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct batch_item **items = realloc(b->items, cap * sizeof(*items));

		if (!items)
			return -ENOMEM;
		b->items = items;
		b->cap = cap;
	}
	rc = entry_to_item(e, &it);
	if (rc < 0)
		return rc;
	b->items[b->n++] = it;
	return 0;
}
