/*
 * artjson: an article row of the store as the JSON object feedd shows to
 * programs (`feedctl articles --format jsonl`, `feedctl show --json`,
 * `feedctl follow`, and what hooks get). One function, so every consumer
 * sees the same field names and the same null rules.
 *
 * Pure functions over jansson; safe on any thread (each call builds its
 * own objects).
 */
#ifndef FEEDD_DAEMON_ARTJSON_H
#define FEEDD_DAEMON_ARTJSON_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "store.h"

/* The article as a new JSON object (the caller owns the reference), with
 * summary/content/text when bodies; NULL when out of memory. */
json_t *artjson_article(const struct store_article_row *a, bool bodies);

/* A JSON string; invalid UTF-8 becomes U+FFFD; NULL gives JSON null. */
json_t *artjson_str(const char *s);

/* Unix seconds as an RFC 3339 UTC string; 0 or less gives null. */
json_t *artjson_time(int64_t t);

/* A comma list ("a,b") as a JSON array; NULL or empty is []. */
json_t *artjson_tags(const char *tags);

/* A stored JSON array column embedded as JSON (as a string if broken);
 * NULL gives null. */
json_t *artjson_array(const char *s);

#endif
