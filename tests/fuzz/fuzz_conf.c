/*
 * daemon/conf.c: conf_parse() on any bytes. Returns 0, -EINVAL (with a
 * message naming the file and line) or -ENOMEM; on success every feed has
 * a valid name, an http(s) URL that conf_url_check() accepts, positive
 * intervals and limits, and conf_feed_find() finds each feed by its name.
 *
 * Inputs mentioning "include" are skipped: that directive reads files
 * (glob patterns), and a fuzzer must not wander the file system or block
 * on a FIFO.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "fuzz.h"

#define PATH "/nonexistent/feedd-fuzz/feedd.conf"

static bool
valid_name(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *c = NULL;
	char err[512];
	char *s;

	if (size > 65536)
		return 0;
	s = fuzz_strdup(data, size);
	for (char *p = s; (p = strpbrk(p, "iI")); p++) {
		if (strncasecmp(p, "include", 7) == 0)
			goto out;
	}
	err[0] = '\0';
	int rc = conf_parse(&c, PATH, (const char *)data, size, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM, "rc %d", rc);
	if (rc == -EINVAL) {
		FUZZ_CHECK(c == NULL, "*out set on failure");
		FUZZ_CHECK(strncmp(err, PATH ":", strlen(PATH) + 1) == 0,
			"message does not name the file: \"%s\"", err);
	}
	if (rc != 0)
		goto out;
	FUZZ_CHECK(c, "no conf");
	FUZZ_CHECK(c->interval_s > 0 && c->max_interval_s > 0, "intervals");
	FUZZ_CHECK(c->max_size > 0 && c->timeout_s > 0, "limits");
	for (size_t i = 0; i < c->nfeeds; i++) {
		const struct conf_feed *f = &c->feeds[i];
		const char *why = NULL;
		FUZZ_CHECK(valid_name(f->name), "feed name \"%s\"", f->name ? f->name : "");
		FUZZ_CHECK(f->url && conf_url_check(f->url, &why) == 0, "feed %s url: %s",
			f->name, why ? why : "");
		FUZZ_CHECK(f->interval_s > 0 && f->timeout_s > 0 && f->max_size > 0,
			"feed %s limits", f->name);
		FUZZ_CHECK(conf_feed_find(c, f->name) == f, "feed %s not found by name",
			f->name);
	}
	conf_free(c);
out:
	free(s);
	return 0;
}
