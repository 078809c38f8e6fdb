/*
 * artjson: the one mapping from a store article row to its JSON object
 * (artjson.h), shared by feedctl's reading commands and the hooks.
 */
#include "artjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A JSON string; invalid UTF-8 bytes (which the store should never hold)
 * become U+FFFD rather than losing the field. NULL gives JSON null. */
json_t *
artjson_str(const char *s)
{
	json_t *j;
	char *fixed;
	size_t o = 0, n;

	if (!s)
		return json_null();
	j = json_string(s);
	if (j)
		return j;
	n = strlen(s);
	fixed = malloc(n * 3 + 1);
	if (!fixed)
		return json_null();
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3
			: (c >> 3) == 30 ? 4 : 0;
		bool ok = len > 0 && i + len <= n;
		for (size_t k = 1; ok && k < len; k++)
			ok = ((unsigned char)s[i + k] >> 6) == 2;
		if (ok) {
			memcpy(fixed + o, s + i, len);
			o += len;
			i += len;
		} else {
			memcpy(fixed + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	j = json_stringn(fixed, o);
	free(fixed);
	return j ? j : json_null();
}

json_t *
artjson_time(int64_t t)
{
	char buf[32];
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || !gmtime_r(&tt, &tm))
		return json_null();
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

/* A stored JSON array column, embedded as JSON (as a string if broken). */
json_t *
artjson_array(const char *s)
{
	json_t *j;

	if (!s)
		return json_null();
	j = json_loads(s, JSON_DECODE_ANY, NULL);
	return j ? j : artjson_str(s);
}

/* A stored comma list ("a,b") as a JSON array; none is []. */
json_t *
artjson_tags(const char *tags)
{
	json_t *a = json_array();

	for (const char *p = tags; a && p && *p;) {
		size_t l = strcspn(p, ",");
		if (l)
			json_array_append_new(a, json_stringn(p, l));
		p += l;
		if (*p == ',')
			p++;
	}
	return a ? a : json_null();
}

json_t *
artjson_article(const struct store_article_row *a, bool bodies)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "id", json_integer(a->id));
	json_object_set_new(o, "feed", artjson_str(a->feed));
	json_object_set_new(o, "feed_id", json_integer(a->feed_id));
	json_object_set_new(o, "tags", artjson_tags(a->tags));
	json_object_set_new(o, "story_id", json_integer(a->story_id));
	json_object_set_new(o, "title", artjson_str(a->title));
	json_object_set_new(o, "link", artjson_str(a->link));
	json_object_set_new(o, "canonical_link", artjson_str(a->canonical_link));
	json_object_set_new(o, "author", artjson_str(a->author));
	json_object_set_new(o, "published", artjson_str(a->published));
	json_object_set_new(o, "updated", artjson_str(a->updated));
	json_object_set_new(o, "date", artjson_time(a->sort_time));
	json_object_set_new(o, "guid", artjson_str(a->guid));
	json_object_set_new(o, "key", artjson_str(a->key));
	json_object_set_new(o, "categories", artjson_array(a->categories_json));
	json_object_set_new(o, "enclosures", artjson_array(a->enclosures_json));
	if (bodies) {
		json_object_set_new(o, "summary", artjson_str(a->summary));
		json_object_set_new(o, "content", artjson_str(a->content));
		json_object_set_new(o, "text", artjson_str(a->text));
	}
	json_object_set_new(o, "content_hash", artjson_str(a->content_hash));
	json_object_set_new(o, "first_seen", artjson_time(a->first_seen));
	json_object_set_new(o, "last_changed", artjson_time(a->last_changed));
	json_object_set_new(o, "revision", json_integer(a->revision));
	return o;
}

