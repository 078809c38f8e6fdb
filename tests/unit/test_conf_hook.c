/*
 * conf: the `hook` directive. Every field of an exec and a webhook hook,
 * the defaults, every error message, PROGRAM resolution (absolute,
 * relative to the config file, by $PATH), the conf_print round trip and
 * conf_hook_equal().
 */
#include "conf.h"

#include "check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tdir[64];
static char noexec[128], exe[128], confpath[128];

/* A temporary directory with an executable, a non-executable file and a
 * config path in it. */
static void
setup(void)
{
	FILE *f;

	if (tdir[0])
		return;
	snprintf(tdir, sizeof(tdir), "/tmp/feedd-test-hook-XXXXXX");
	if (!mkdtemp(tdir)) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(exe, sizeof(exe), "%s/run.sh", tdir);
	snprintf(noexec, sizeof(noexec), "%s/plain.sh", tdir);
	snprintf(confpath, sizeof(confpath), "%s/feedd.conf", tdir);
	for (int i = 0; i < 2; i++) {
		f = fopen(i ? noexec : exe, "w");
		if (!f) {
			perror("fopen");
			exit(1);
		}
		fputs("#!/bin/sh\nexit 0\n", f);
		fclose(f);
	}
	chmod(exe, 0755);
	chmod(noexec, 0644);
	/* Secret files: one the service may use (0600), one others may
	 * read (0644). */
	for (int i = 0; i < 2; i++) {
		char path[300];

		snprintf(path, sizeof(path), "%s/%s", tdir,
			i ? "open.secret" : "my secret");
		f = fopen(path, "w");
		if (!f) {
			perror("fopen");
			exit(1);
		}
		fputs("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", f);
		fclose(f);
		chmod(path, i ? 0644 : 0600);
	}
}

static void
cleanup(void)
{
	if (!tdir[0])
		return;
	char path[300];

	unlink(exe);
	unlink(noexec);
	snprintf(path, sizeof(path), "%s/my secret", tdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/open.secret", tdir);
	unlink(path);
	rmdir(tdir);
}

static int
parse(struct conf **c, const char *text, char *err, size_t errlen)
{
	return conf_parse(c, confpath, text, strlen(text), err, errlen);
}

/* text with every "@X" replaced by the executable's path, "@N" by the
 * non-executable one, "@D" by the directory. */
static char *
expand(const char *text)
{
	static char buf[4096];
	size_t n = 0;

	for (const char *p = text; *p && n < sizeof(buf) - 200; p++) {
		if (p[0] == '@' && (p[1] == 'X' || p[1] == 'N' || p[1] == 'D')) {
			const char *r = p[1] == 'X' ? exe : p[1] == 'N' ? noexec : tdir;
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", r);
			p++;
		} else {
			buf[n++] = *p;
		}
	}
	buf[n] = '\0';
	return buf;
}

static void
t_exec_fields(void)
{
	struct conf *c = NULL;
	char err[1024] = "";
	const struct conf_hook *h;

	setup();
	REQUIRE(parse(&c, expand("feed a http://x/a\nfeed b http://x/b tags=news\n"
		"hook push exec @X --to \"two words\" feeds=a,tag:news,b "
		"events=new batch=5 timeout=2m retry=10s from=start env=A=1 "
		"\"env=B=x, y\"\n"), err, sizeof(err)) == 0);
	REQUIRE(c->nhooks == 1);
	h = &c->hooks[0];
	CHECK_STR_EQ(h->name, "push");
	CHECK(h->kind == CONF_HOOK_EXEC);
	CHECK_STR_EQ(h->program, exe);
	CHECK_INT_EQ(h->argc, 3);
	CHECK_STR_EQ(h->argv[0], exe);
	CHECK_STR_EQ(h->argv[1], "--to");
	CHECK_STR_EQ(h->argv[2], "two words");
	CHECK_NULL(h->argv[3]);
	CHECK_INT_EQ(h->nfeeds, 2);
	CHECK_STR_EQ(h->feeds[0], "a");
	CHECK_STR_EQ(h->feeds[1], "b");
	CHECK_INT_EQ(h->ntags, 1);
	CHECK_STR_EQ(h->tags[0], "news");
	CHECK_INT_EQ(h->events, CONF_HOOK_NEW);
	CHECK_INT_EQ(h->batch, 5);
	CHECK_INT_EQ(h->timeout_s, 120);
	CHECK_INT_EQ(h->retry_s, 10);
	CHECK(h->from_start);
	CHECK_INT_EQ(h->nenv, 2);
	CHECK_STR_EQ(h->env[0], "A=1");
	CHECK_STR_EQ(h->env[1], "B=x, y");
	CHECK_NULL(h->env[2]);
	CHECK_INT_EQ(h->line, 3);
	CHECK_STR_EQ(h->file, confpath);
	CHECK(conf_hook_find(c, "push") == h);
	CHECK_NULL(conf_hook_find(c, "other"));
	conf_free(c);
}

static void
t_defaults_and_webhook(void)
{
	struct conf *c = NULL;
	char err[1024] = "";
	const struct conf_hook *h;

	setup();
	REQUIRE(parse(&c, expand("hook a exec @X\n"
		"hook w webhook https://example.com/in secret-file=\"@D/my secret\" "
		"allow-private=yes events=updated\n"), err, sizeof(err)) == 0);
	REQUIRE(c->nhooks == 2);
	h = &c->hooks[0];
	CHECK_INT_EQ(h->argc, 1);
	CHECK_INT_EQ(h->events, CONF_HOOK_NEW | CONF_HOOK_UPDATED);
	CHECK_INT_EQ(h->batch, CONF_HOOK_BATCH_DEFAULT);
	CHECK_INT_EQ(h->timeout_s, 60);
	CHECK_INT_EQ(h->retry_s, 5);
	CHECK(!h->from_start);
	CHECK_INT_EQ(h->nfeeds + h->ntags + h->nenv, 0);
	h = &c->hooks[1];
	CHECK(h->kind == CONF_HOOK_WEBHOOK);
	CHECK_STR_EQ(h->url, "https://example.com/in");
	{
		char want[300];

		snprintf(want, sizeof(want), "%s/my secret", tdir);
		CHECK_STR_EQ(h->secret_file, want);
	}
	CHECK(h->allow_private);
	CHECK_INT_EQ(h->events, CONF_HOOK_UPDATED);
	CHECK_NULL(h->program);
	conf_free(c);
}

static void
t_program_resolution(void)
{
	struct conf *c = NULL;
	char err[1024] = "", want[256];

	setup();
	/* Relative to the config file's directory, not the current one. */
	REQUIRE(parse(&c, "hook a exec ./run.sh\n", err, sizeof(err)) == 0);
	snprintf(want, sizeof(want), "%s/./run.sh", tdir);
	CHECK_STR_EQ(c->hooks[0].program, want);
	CHECK_STR_EQ(c->hooks[0].argv[0], "./run.sh");
	conf_free(c);
	c = NULL;
	/* A bare name by $PATH. */
	setenv("PATH", tdir, 1);
	REQUIRE(parse(&c, "hook a exec run.sh\n", err, sizeof(err)) == 0);
	CHECK_STR_EQ(c->hooks[0].program, exe);
	conf_free(c);
	c = NULL;
	CHECK_INT_EQ(parse(&c, "hook a exec plain.sh\n", err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:1: hook: program 'plain.sh' not found "
		"in PATH (%s)", confpath, tdir);
	CHECK_STR_EQ(err, want);
	CHECK_NULL(c);
	setenv("PATH", "/usr/bin:/bin", 1);
}

static const struct {
	const char *in;
	const char *err;      /* after "CONFPATH:" */
} error_cases[] = {
	{ "hook h exec @D/nope", "1: hook: program '@D/nope': No such file or directory" },
	{ "hook h exec @N", "1: hook: program '@N' is not executable (chmod +x?)" },
	{ "hook h exec @D", "1: hook: program '@D' is not a regular file" },
	{ "hook h exec", "1: hook: expects at least 3 arguments, got 2" },
	{ "hook h exec batch=1", "1: hook: exec needs a program (hook NAME exec PROGRAM [ARG...] [KEY=VALUE...])" },
	{ "hook h webhook batch=1", "1: hook: webhook needs a URL (hook NAME webhook URL [KEY=VALUE...])" },
	{ "hook h pipe @X", "1: hook: unknown hook kind 'pipe' (use exec or webhook)" },
	{ "hook -h exec @X", "1: hook: invalid hook name '-h' (use up to 64 letters, digits, '.', '_' and '-', not starting with '-')" },
	{ "hook h exec @X\nhook h exec @X", "2: hook: duplicate hook name 'h' (first defined at @C:2)" },
	{ "hook h exec @X batchsize=3", "1: hook: unknown key 'batchsize'" },
	{ "hook h exec @X batc=3", "1: hook: unknown key 'batc' (did you mean 'batch'?)" },
	{ "hook h exec @X batch=0", "1: hook: bad number '0' for batch (expected 1 to 10000)" },
	{ "hook h exec @X batch=2 batch=3", "1: hook: key 'batch' given twice" },
	{ "hook h exec @X timeout=soon", "1: hook: bad duration 'soon' for timeout (use e.g. 90s, 30m, 2h, 1d, 1w)" },
	{ "hook h exec @X retry=2h", "1: hook: duration '2h' for retry out of range (1s to 1h)" },
	{ "hook h exec @X events=deleted", "1: hook: unknown event 'deleted' in events= (use new, updated or new,updated)" },
	{ "hook h exec @X events=", "1: hook: empty events= (use new, updated or new,updated)" },
	{ "hook h exec @X from=later", "1: hook: bad value 'later' for from (use start or now)" },
	{ "hook h exec @X env=1A=x", "1: hook: bad env= '1A' (use env=NAME=VALUE, NAME of letters, digits and '_')" },
	{ "hook h exec @X env=A", "1: hook: bad env= 'A' (use env=NAME=VALUE, NAME of letters, digits and '_')" },
	{ "hook h exec @X env=FEEDD_HOOK=x", "1: hook: env=FEEDD_HOOK: FEEDD_ variables are set by feedd" },
	{ "hook h exec @X env=A=1 env=A=2", "1: hook: env=A given twice" },
	{ "hook h exec @X feeds=", "1: hook: empty feeds= (leave it out for every feed)" },
	{ "hook h exec @X feeds=a,,b", "1: hook: bad feeds= entry '' (use feed names and tag:TAG, comma-separated)" },
	{ "hook h exec @X feeds=tag:", "1: hook: bad tag in feeds= 'tag:'" },
	{ "hook h exec @X feeds=zz", "1: hook: hook h: feeds= names 'zz', which is not a configured feed" },
	{ "hook h exec @X secret-file=/s", "1: hook: key 'secret-file' is for webhook hooks" },
	{ "hook h webhook https://e/x env=A=1", "1: hook: key 'env' is for exec hooks" },
	{ "hook h webhook ftp://e/x", "1: hook: invalid URL 'ftp://e/x': only http and https are supported" },
	{ "hook h webhook https://e/x allow-private=maybe", "1: hook: bad value 'maybe' for allow-private (use yes or no)" },
	{ "hook h exec @X batch=1 extra", "1: hook: expected key=value after the first option, got 'extra' (an argument shaped like key=value must be passed by a wrapper script)" },
	{ "hook h webhook https://e.com/x secret-file=@D/none", "1: hook: hook h: secret file @D/none: No such file or directory" },
	{ "hook h webhook https://e.com/x secret-file=@D/open.secret", "1: hook: hook h: secret file @D/open.secret: mode 0644 lets group or others at it; it must be readable by its owner only (chmod 600)" },
	{ "hook h webhook http://127.0.0.1:8080/in", "1: hook: hook h: 127.0.0.1 is loopback (127.0.0.0/8); webhooks go to public addresses only unless allow-private=yes" },
	{ "hook h webhook http://u:p@[::1]/in", "1: hook: hook h: ::1 is loopback (::1); webhooks go to public addresses only unless allow-private=yes" },
	{ "hook h webhook https://e/x extra", "1: hook: expected key=value after the first option, got 'extra' (an argument shaped like key=value must be passed by a wrapper script)" },
	{ NULL, NULL },
};

static void
t_errors(void)
{
	setup();
	for (size_t i = 0; error_cases[i].in; i++) {
		struct conf *c = NULL;
		char err[1024] = "", want[1024], in[2048];
		const char *p = error_cases[i].err;
		size_t n;

		snprintf(in, sizeof(in), "feed a http://x/a\n%s\n",
			expand(error_cases[i].in));
		/* The feed line comes first: line numbers are one more. */
		n = (size_t)snprintf(want, sizeof(want), "%s:%d", confpath,
			atoi(p) + 1);
		p += strspn(p, "0123456789");
		for (; *p && n < sizeof(want) - 200; p++) {
			if (p[0] == '@' && p[1] == 'C') {
				n += (size_t)snprintf(want + n, sizeof(want) - n,
					"%s", confpath);
				p++;
			} else if (p[0] == '@' && (p[1] == 'X' || p[1] == 'N' ||
			    p[1] == 'D')) {
				char two[3] = { p[0], p[1], 0 };
				n += (size_t)snprintf(want + n, sizeof(want) - n,
					"%s", expand(two));
				p++;
			} else {
				want[n++] = *p;
			}
		}
		want[n] = '\0';
		CHECK_INT_EQ(parse(&c, in, err, sizeof(err)), -EINVAL);
		CHECK_NULL(c);
		if (strcmp(err, want) != 0)
			fprintf(stderr, "case %zu: %s\n", i, error_cases[i].in);
		CHECK_STR_EQ(err, want);
	}
}

static void
t_all_errors_reported(void)
{
	struct conf_errors e = { 0 };
	struct conf *c = NULL;
	const char *in;

	setup();
	in = expand("hook h exec @D/nope bad=1 timeout=x\nhook h exec @X\n"
		"hook h exec @X\n");
	CHECK_INT_EQ(conf_parse_all(&c, confpath, in, strlen(in), &e), -EINVAL);
	/* The missing program, the bad key, the bad value; the bad first h
	 * keeps its name (for reporting only), so the next two are
	 * duplicates of it. */
	CHECK_INT_EQ(e.total, 5);
	conf_errors_free(&e);
	conf_free(c);
}

static void
t_print_round_trip(void)
{
	struct conf *c = NULL, *c2 = NULL;
	char err[1024] = "", *buf = NULL;
	size_t len = 0;
	FILE *f;

	setup();
	REQUIRE(parse(&c, expand("feed a http://x/a\n"
		"hook p exec @X -v \"a b\" feeds=a,tag:t events=updated batch=7 "
		"timeout=90s retry=2s from=start\n"
		"hook w webhook https://e.com/x secret-file=\"@D/my secret\" "
		"allow-private=yes\n"), err, sizeof(err)) == 0);
	f = open_memstream(&buf, &len);
	REQUIRE(f);
	conf_print(c, f);
	fclose(f);
	{
		char want[400];

		snprintf(want, sizeof(want), "hook w webhook https://e.com/x "
			"secret-file=\"%s/my secret\" allow-private=yes\n", tdir);
		CHECK(strstr(buf, want) != NULL);
	}
	REQUIRE(parse(&c2, buf, err, sizeof(err)) == 0);
	REQUIRE(c2->nhooks == 2);
	CHECK(conf_hook_equal(&c->hooks[0], &c2->hooks[0]));
	CHECK(conf_hook_equal(&c->hooks[1], &c2->hooks[1]));
	CHECK(!conf_hook_equal(&c->hooks[0], &c2->hooks[1]));
	c2->hooks[0].batch++;
	CHECK(!conf_hook_equal(&c->hooks[0], &c2->hooks[0]));
	c2->hooks[0].batch--;
	c2->hooks[0].events = CONF_HOOK_NEW;
	CHECK(!conf_hook_equal(&c->hooks[0], &c2->hooks[0]));
	free(buf);
	conf_free(c);
	conf_free(c2);
}

static void
t_env_masked_in_print(void)
{
	struct conf *c = NULL;
	char err[1024] = "", *buf = NULL;
	size_t len = 0;
	FILE *f;

	setup();
	REQUIRE(parse(&c, expand("hook p exec @X env=TOKEN=hunter2\n"), err,
		sizeof(err)) == 0);
	f = open_memstream(&buf, &len);
	REQUIRE(f);
	conf_print(c, f);
	fclose(f);
	CHECK(strstr(buf, " env=TOKEN=****\n") != NULL);
	CHECK(strstr(buf, "hunter2") == NULL);
	free(buf);
	conf_free(c);
}

static const struct check_case cases[] = {
	{ "exec_fields", t_exec_fields },
	{ "defaults_and_webhook", t_defaults_and_webhook },
	{ "program_resolution", t_program_resolution },
	{ "errors", t_errors },
	{ "all_errors_reported", t_all_errors_reported },
	{ "print_round_trip", t_print_round_trip },
	{ "env_masked_in_print", t_env_masked_in_print },
	{ 0 },
};

int
main(int argc, char **argv)
{
	int rc = check_main(argc, argv, cases);

	cleanup();
	return rc;
}
