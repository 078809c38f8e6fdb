/*
 * JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1), read with
 * jansson from the whole buffered document, mapped onto the same feed and
 * entry fields as RSS and Atom.
 */
#include "parse_int.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static void
feed_str(struct parse *p, json_t *o, const char *key, const char *as)
{
	json_t *v = json_object_get(o, key);
	if (json_is_string(v))
		parse__json_feed_field(p, as, json_string_value(v));
}

static void
entry_str(struct parse *p, json_t *o, const char *key, const char *as)
{
	json_t *v = json_object_get(o, key);
	if (json_is_string(v))
		parse__json_entry_field(p, as, json_string_value(v));
}

/* 1.1 has "authors": [ {name} ]; 1.0 has "author": {name}. */
static const char *
author_name(json_t *o)
{
	json_t *a = json_object_get(o, "authors");
	if (json_is_array(a) && json_array_size(a) > 0)
		a = json_array_get(a, 0);
	else
		a = json_object_get(o, "author");
	if (!json_is_object(a))
		return NULL;
	json_t *n = json_object_get(a, "name");
	return json_is_string(n) ? json_string_value(n) : NULL;
}

static void
item(struct parse *p, json_t *it)
{
	json_t *v;
	char num[32];

	if (!json_is_object(it))
		return;
	parse__json_entry_begin(p);
	v = json_object_get(it, "id");
	if (json_is_string(v)) {
		parse__json_entry_field(p, "id", json_string_value(v));
	} else if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		parse__json_entry_field(p, "id", num);
	}
	entry_str(p, it, "url", "url");
	entry_str(p, it, "external_url", "external_url");
	entry_str(p, it, "title", "title");
	entry_str(p, it, "content_html", "content_html");
	entry_str(p, it, "content_text", "content_text");
	entry_str(p, it, "summary", "summary");
	entry_str(p, it, "date_published", "date_published");
	entry_str(p, it, "date_modified", "date_modified");
	const char *a = author_name(it);
	if (a)
		parse__json_entry_field(p, "author", a);
	v = json_object_get(it, "tags");
	if (json_is_array(v)) {
		size_t i;
		json_t *t;
		json_array_foreach(v, i, t) {
			if (json_is_string(t))
				parse__json_entry_field(p, "tag", json_string_value(t));
		}
	}
	v = json_object_get(it, "attachments");
	if (json_is_array(v)) {
		size_t i;
		json_t *at;
		json_array_foreach(v, i, at) {
			json_t *u = json_object_get(at, "url");
			json_t *m = json_object_get(at, "mime_type");
			json_t *s = json_object_get(at, "size_in_bytes");
			if (!json_is_string(u))
				continue;
			parse__json_entry_enclosure(p, json_string_value(u),
				json_is_string(m) ? json_string_value(m) : NULL,
				json_is_integer(s) ? (int64_t)json_integer_value(s) : -1);
		}
	}
	parse__json_entry_end(p);
}

int
parse__jsonfeed(struct parse *p, const char *buf, size_t len)
{
	json_error_t err;
	json_t *root = json_loadb(buf, len, 0, &err);
	json_t *v;
	int rc = 0;

	if (!root) {
		parse__json_not_feed(p, "not a feed: invalid JSON");
		goto out;
	}
	v = json_object_get(root, "version");
	if (!json_is_object(root) || !json_is_string(v) ||
		strstr(json_string_value(v), "jsonfeed.org/version/") == NULL) {
		parse__json_not_feed(p, "not a feed: JSON without a JSON Feed version");
		goto out;
	}
	parse__json_set_format(p);
	feed_str(p, root, "title", "title");
	feed_str(p, root, "home_page_url", "home_page_url");
	feed_str(p, root, "feed_url", "feed_url");
	feed_str(p, root, "description", "description");
	feed_str(p, root, "icon", "icon");
	feed_str(p, root, "favicon", "favicon");
	feed_str(p, root, "language", "language");
	const char *a = author_name(root);
	if (a)
		parse__json_feed_field(p, "author", a);
	v = json_object_get(root, "items");
	if (json_is_array(v)) {
		size_t i;
		json_t *it;
		json_array_foreach(v, i, it) {
			item(p, it);
			if (parse__json_stopped(p))
				break;
		}
	}
out:
	json_decref(root);
	return rc;
}
