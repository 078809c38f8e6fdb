/*
 * feedctl parse [--base URL] [--charset NAME] FILE|-...
 *
 * Parses each input with parse/ and prints one JSON object per input on
 * its own line (JSON Lines): format, malformed, feed{...}, entries[...].
 * An input that is not a feed gets a one-line message on stderr (and, when
 * there are several inputs, an {"file", "error"} line so lines stay in
 * step with inputs); the exit status is then 1.
 */
#include "feedctl.h"
#include "parse.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct collect {
	json_t *entries;
	int err;
};

static void
put_str(json_t *o, const char *k, const char *v)
{
	if (v)
		json_object_set_new(o, k, json_string(v));
}

static int
on_entry(void *ud, const struct parse_entry *e)
{
	struct collect *c = ud;
	json_t *o = json_object();
	json_t *cats = json_array();
	json_t *encs = json_array();

	if (!o || !cats || !encs) {
		json_decref(o);
		json_decref(cats);
		json_decref(encs);
		c->err = -ENOMEM;
		return -ENOMEM;
	}
	put_str(o, "id", e->id);
	put_str(o, "link", e->link);
	put_str(o, "title", e->title);
	put_str(o, "author", e->author);
	put_str(o, "author_email", e->author_email);
	put_str(o, "published", e->published);
	put_str(o, "updated", e->updated);
	put_str(o, "summary", e->summary);
	put_str(o, "content", e->content);
	put_str(o, "text", e->text);
	put_str(o, "comments", e->comments);
	for (size_t i = 0; i < e->ncategories; i++)
		json_array_append_new(cats, json_string(e->categories[i]));
	for (size_t i = 0; i < e->nenclosures; i++) {
		const struct parse_enclosure *x = &e->enclosures[i];
		json_t *eo = json_object();
		put_str(eo, "url", x->url);
		put_str(eo, "type", x->type);
		if (x->length >= 0)
			json_object_set_new(eo, "length", json_integer(x->length));
		json_array_append_new(encs, eo);
	}
	json_object_set_new(o, "categories", cats);
	json_object_set_new(o, "enclosures", encs);
	json_array_append_new(c->entries, o);
	return 0;
}

static json_t *
feed_json(const struct parse_feed *f)
{
	json_t *o = json_object();
	put_str(o, "title", f->title);
	put_str(o, "link", f->link);
	put_str(o, "id", f->id);
	put_str(o, "subtitle", f->subtitle);
	put_str(o, "language", f->language);
	put_str(o, "updated", f->updated);
	put_str(o, "published", f->published);
	put_str(o, "author", f->author);
	put_str(o, "author_email", f->author_email);
	put_str(o, "image", f->image);
	put_str(o, "generator", f->generator);
	put_str(o, "rights", f->rights);
	if (f->ttl_minutes >= 0)
		json_object_set_new(o, "ttl", json_integer(f->ttl_minutes));
	if (f->update_period_s > 0)
		json_object_set_new(o, "update_period", json_integer(f->update_period_s));
	return o;
}

/* Parse one input; print its line. Returns 0, or 1 when it is no feed. */
static int
parse_one(const char *path, const char *base, const char *charset, bool many)
{
	struct collect c = { json_array(), 0 };
	struct parse_opts o = { .base_url = base, .charset = charset,
		.on_entry = on_entry, .ud = &c };
	struct parse *p = NULL;
	FILE *f = NULL;
	json_t *out = NULL;
	char buf[65536];
	int rc = 0, ret = 1;
	const char *why = NULL;

	if (strcmp(path, "-") == 0) {
		f = stdin;
	} else {
		f = fopen(path, "rb");
		if (!f) {
			why = strerror(errno);
			goto out;
		}
	}
	rc = parse_create(&p, &o);
	if (rc < 0 || !c.entries) {
		why = strerror(ENOMEM);
		goto out;
	}
	for (;;) {
		size_t n = fread(buf, 1, sizeof(buf), f);
		if (n > 0) {
			rc = parse_push(p, buf, n);
			if (rc != 0)
				break;
		}
		if (n < sizeof(buf)) {
			if (ferror(f)) {
				why = strerror(errno ? errno : EIO);
				goto out;
			}
			break;
		}
	}
	if (rc == 0)
		rc = parse_finish(p);
	if (rc != 0) {
		why = rc == -EBADMSG ? parse_errmsg(p) : strerror(rc < 0 ? -rc : EIO);
		goto out;
	}
	const struct parse_feed *fd = parse_feed_get(p);
	out = json_object();
	json_object_set_new(out, "format", json_string(parse_format_name(fd->format)));
	json_object_set_new(out, "malformed", json_boolean(fd->malformed));
	if (fd->malformed)
		json_object_set_new(out, "error", json_string(parse_errmsg(p)));
	if (fd->truncated)
		json_object_set_new(out, "truncated", json_true());
	json_object_set_new(out, "feed", feed_json(fd));
	json_object_set(out, "entries", c.entries);
	char *s = json_dumps(out, JSON_COMPACT);
	if (!s) {
		why = strerror(ENOMEM);
		goto out;
	}
	fputs(s, stdout);
	fputc('\n', stdout);
	free(s);
	ret = 0;
out:
	if (why) {
		fprintf(stderr, "feedctl parse: %s: %s\n", path, why);
		if (many) {
			json_t *e = json_pack("{s:s, s:s}", "file", path, "error", why);
			char *line = e ? json_dumps(e, JSON_COMPACT) : NULL;
			if (line)
				printf("%s\n", line);
			free(line);
			json_decref(e);
		}
	}
	json_decref(out);
	json_decref(c.entries);
	parse_destroy(p);
	if (f && f != stdin)
		fclose(f);
	return ret;
}

int
feedctl_parse(const struct feedctl_global *g, int argc, char **argv)
{
	const char *base = NULL, *charset = NULL, *val;
	struct feedctl_args a;
	char **files;
	int key, nfiles = 0, status = FEEDCTL_OK;

	(void)g;
	files = calloc((size_t)argc + 1, sizeof(*files));
	if (!files) {
		fprintf(stderr, "feedctl parse: out of memory\n");
		return FEEDCTL_ERR;
	}
	feedctl_args_init(&a, argc, argv);
	while ((key = feedctl_opt_next(&a, &val)) != -1) {
		switch (key) {
		case 'b':
			base = val;
			break;
		case 'c':
			charset = val;
			break;
		case 0:
			files[nfiles++] = (char *)val;
			break;
		default:
			free(files);
			return FEEDCTL_USAGE;
		}
	}
	if (nfiles <= 0) {
		fprintf(stderr, "feedctl parse: no input (a FILE, or - for standard input)\n");
		free(files);
		return FEEDCTL_USAGE;
	}
	for (int i = 0; i < nfiles; i++)
		if (parse_one(files[i], base, charset, nfiles > 1) != 0)
			status = FEEDCTL_ERR;
	free(files);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "feedctl parse: writing the output failed\n");
		status = FEEDCTL_ERR;
	}
	return status;
}
