/*
 * daemon/conf.c: conf_parse() on any bytes. Returns 0, -EINVAL (with a
 * message naming the file and line) or -ENOMEM; on success every feed has
 * a valid name, an http(s) URL that conf_url_check() accepts, positive
 * intervals and limits, and conf_feed_find() finds each feed by its name.
 * conf_parse_all() agrees: the same result, its first message is
 * conf_parse()'s, and every message names the file. A config that parses
 * prints (conf_print) to text that parses again and prints the same.
 *
 * Inputs mentioning "include" are skipped: that directive reads files
 * (glob patterns), and a fuzzer must not wander the file system or block
 * on a FIFO.
 */
#include <errno.h>
#include <stdio.h>
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

	struct conf_errors errs = { 0 };
	struct conf *all = NULL;
	int rc_all = conf_parse_all(&all, PATH, (const char *)data, size, &errs);
	if (rc != -ENOMEM && rc_all != -ENOMEM) {
		FUZZ_CHECK(rc_all == rc, "conf_parse_all %d, conf_parse %d", rc_all, rc);
		FUZZ_CHECK((rc_all == 0) == (errs.total == 0), "rc %d with %zu errors",
			rc_all, errs.total);
		if (rc == -EINVAL && errs.count)
			/* err is errs.msgs[0] cut to its size. */
			FUZZ_CHECK(strncmp(errs.msgs[0], err, strlen(err)) == 0,
				"first error \"%s\" vs \"%s\"", errs.msgs[0], err);
		for (size_t i = 0; i < errs.count; i++)
			FUZZ_CHECK(strncmp(errs.msgs[i], PATH ":", strlen(PATH) + 1) == 0 &&
				!strchr(errs.msgs[i], '\n'),
				"message does not name the file: \"%s\"", errs.msgs[i]);
	}
	conf_free(all);
	conf_errors_free(&errs);

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

	/* The printout is a config: it parses and prints the same again. */
	char *p1 = NULL, *p2 = NULL;
	size_t n1 = 0, n2 = 0;
	struct conf *c2 = NULL;
	FILE *m = open_memstream(&p1, &n1);
	if (m) {
		conf_print(c, m);
		fclose(m);
		err[0] = '\0';
		int rc2 = conf_parse(&c2, PATH, p1, n1, err, sizeof(err));
		FUZZ_CHECK(rc2 == 0 || rc2 == -ENOMEM, "printout does not parse: %s\n%s",
			err, p1);
		if (rc2 == 0 && (m = open_memstream(&p2, &n2))) {
			conf_print(c2, m);
			fclose(m);
			FUZZ_CHECK(strcmp(p1, p2) == 0, "printout changes on re-parse:\n%s\n---\n%s",
				p1, p2);
		}
		conf_free(c2);
		free(p1);
		free(p2);
	}
	conf_free(c);
out:
	free(s);
	return 0;
}
