/*
 * hook: the exec transport on a private loop (the batch on stdin, the
 * FEEDD_* and env= variables, exit statuses with the last stderr line,
 * the timeout killing the process group, cancel, a program that cannot
 * be started), and the webhook's JSON object of a batch.
 */
#include "hook.h"

#include "check.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct outcome {
	int calls;
	bool ok;
	char error[512];
};

static void
on_done(void *ud, const struct hook_result *r)
{
	struct outcome *o = ud;

	o->calls++;
	o->ok = r->ok;
	snprintf(o->error, sizeof(o->error), "%s", r->error ? r->error : "");
	CHECK_INT_EQ(r->retry_after_s, -1);
	CHECK(!r->permanent);
}

static const char LINES[] =
	"{\"id\":7,\"title\":\"a\",\"event\":\"new\",\"seq\":11}\n"
	"{\"id\":8,\"title\":\"b\",\"event\":\"updated\",\"seq\":12}\n";

static const struct hook_batch batch = {
	.hook = "t", .jsonl = LINES, .len = sizeof(LINES) - 1, .count = 2,
	.first_seq = 11, .last_seq = 12,
};

/* Run `sh -c script` as hook "t" with env A=1 and the given timeout; the
 * outcome in *o. Returns start()'s result. */
static int
run_sh(const char *script, int64_t timeout_s, bool cancel, struct outcome *o,
	char *err, size_t errlen)
{
	char *argv[] = { "sh", "-c", (char *)script, NULL };
	char *env[] = { "A=1 2", NULL };
	struct conf_hook h = { .name = "t", .kind = CONF_HOOK_EXEC,
		.program = "/bin/sh", .argv = argv, .argc = 3, .env = env,
		.nenv = 1, .timeout_s = timeout_s };
	struct hook_run *run = NULL;
	struct hook_ctx ctx = { 0 };
	uv_loop_t loop;
	int rc;

	memset(o, 0, sizeof(*o));
	if (uv_loop_init(&loop) != 0) {
		CHECK(!"uv_loop_init");
		return -1;
	}
	ctx.loop = &loop;
	rc = hook_exec_transport.start(&run, &ctx, &h, &batch, on_done, o,
		err, errlen);
	if (rc == 0 && cancel) {
		uv_run(&loop, UV_RUN_NOWAIT);
		hook_exec_transport.cancel(run);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK_INT_EQ(uv_loop_close(&loop), 0);
	return rc;
}

static void
t_stdin_and_env(void)
{
	char path[] = "/tmp/feedd-test-hook-XXXXXX", script[512], buf[512] = "";
	struct outcome o;
	char err[256] = "";
	FILE *f;
	int fd = mkstemp(path);

	REQUIRE(fd >= 0);
	close(fd);
	snprintf(script, sizeof(script), "{ cat; echo \"$FEEDD_HOOK "
		"$FEEDD_BATCH_SIZE $FEEDD_FIRST_SEQ $FEEDD_LAST_SEQ $A\"; "
		"echo \"${NOTIFY_SOCKET-unset}\"; } > %s", path);
	setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1);
	CHECK_INT_EQ(run_sh(script, 10, false, &o, err, sizeof(err)), 0);
	unsetenv("NOTIFY_SOCKET");
	CHECK_INT_EQ(o.calls, 1);
	CHECK(o.ok);
	f = fopen(path, "r");
	REQUIRE(f);
	buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
	fclose(f);
	unlink(path);
	CHECK(strncmp(buf, LINES, sizeof(LINES) - 1) == 0);
	CHECK_STR_EQ(buf + sizeof(LINES) - 1, "t 2 11 12 1 2\nunset\n");
}

static void
t_exit_status(void)
{
	struct outcome o;
	char err[256] = "";

	CHECK_INT_EQ(run_sh("cat >/dev/null; echo first >&2; echo 'it broke' >&2; "
		"exit 3", 10, false, &o, err, sizeof(err)), 0);
	CHECK_INT_EQ(o.calls, 1);
	CHECK(!o.ok);
	CHECK_STR_EQ(o.error, "exited with status 3: it broke");
	/* Not reading stdin at all is fine when the status says so. */
	CHECK_INT_EQ(run_sh("exit 0", 10, false, &o, err, sizeof(err)), 0);
	CHECK(o.ok);
	CHECK_INT_EQ(run_sh("kill -TERM $$", 10, false, &o, err, sizeof(err)), 0);
	CHECK(!o.ok);
	CHECK_STR_EQ(o.error, "killed by signal 15 (Terminated)");
}

static bool
alive(pid_t pid)
{
	char path[64], buf[256] = "";
	const char *p;
	FILE *f;

	if (kill(pid, 0) < 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
	fclose(f);
	p = strrchr(buf, ')');
	return !(p && p[1] == ' ' && p[2] == 'Z');
}

static void
t_timeout_kills_group(void)
{
	char path[] = "/tmp/feedd-test-hook-XXXXXX", script[256], buf[32] = "";
	struct outcome o;
	char err[256] = "";
	uint64_t t0 = uv_hrtime();
	FILE *f;
	int fd = mkstemp(path);
	long bg;

	REQUIRE(fd >= 0);
	close(fd);
	snprintf(script, sizeof(script), "sleep 30 & echo $! > %s; sleep 30",
		path);
	CHECK_INT_EQ(run_sh(script, 1, false, &o, err, sizeof(err)), 0);
	CHECK(uv_hrtime() - t0 < 10000000000ull);
	CHECK(!o.ok);
	CHECK_STR_EQ(o.error, "timed out after 1s (its process group was killed)");
	f = fopen(path, "r");
	REQUIRE(f);
	buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
	fclose(f);
	unlink(path);
	bg = strtol(buf, NULL, 10);
	REQUIRE(bg > 0);
	/* The background sleep was in the group: gone, or a zombie no one
	 * has reaped yet (its parent died with it). */
	for (int i = 0; i < 50 && alive((pid_t)bg); i++)
		usleep(20000);
	CHECK(!alive((pid_t)bg));
}

static void
t_cancel(void)
{
	struct outcome o;
	char err[256] = "";

	CHECK_INT_EQ(run_sh("sleep 30", 30, true, &o, err, sizeof(err)), 0);
	CHECK_INT_EQ(o.calls, 1);
	CHECK(!o.ok);
	CHECK_STR_EQ(o.error, "cancelled (its process group was killed)");
}

static void
t_cannot_start(void)
{
	char *argv[] = { "nope", NULL };
	struct conf_hook h = { .name = "t", .kind = CONF_HOOK_EXEC,
		.program = "/nonexistent/nope", .argv = argv, .argc = 1,
		.timeout_s = 5 };
	struct hook_run *run = NULL;
	struct outcome o = { 0 };
	char err[256] = "";
	uv_loop_t loop;
	struct hook_ctx ctx = { .loop = &loop };

	REQUIRE(uv_loop_init(&loop) == 0);
	CHECK(hook_exec_transport.start(&run, &ctx, &h, &batch, on_done, &o,
		err, sizeof(err)) < 0);
	CHECK_STR_EQ(err, "cannot run /nonexistent/nope: no such file or directory");
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK_INT_EQ(o.calls, 0);
	CHECK_INT_EQ(uv_loop_close(&loop), 0);
}

static void
t_json_object(void)
{
	char *out = NULL;
	size_t len = 0;
	json_t *j, *a;
	struct hook_batch bad = batch;

	REQUIRE(hook_batch_json_object(&batch, &out, &len) == 0);
	CHECK_INT_EQ(len, strlen(out));
	j = json_loads(out, 0, NULL);
	REQUIRE(j);
	CHECK_STR_EQ(json_string_value(json_object_get(j, "hook")), "t");
	CHECK_INT_EQ(json_integer_value(json_object_get(j, "first_seq")), 11);
	CHECK_INT_EQ(json_integer_value(json_object_get(j, "last_seq")), 12);
	CHECK_INT_EQ(json_integer_value(json_object_get(j, "count")), 2);
	a = json_object_get(j, "articles");
	CHECK_INT_EQ(json_array_size(a), 2);
	CHECK_INT_EQ(json_integer_value(json_object_get(json_array_get(a, 1),
		"id")), 8);
	CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(a, 1),
		"event")), "updated");
	json_decref(j);
	free(out);
	bad.jsonl = "{\"id\":1}\nnot json\n";
	bad.len = strlen(bad.jsonl);
	out = NULL;
	CHECK_INT_EQ(hook_batch_json_object(&bad, &out, &len), -EINVAL);
	CHECK_NULL(out);
	CHECK(hook_transport_for(CONF_HOOK_EXEC) == &hook_exec_transport);
	CHECK(hook_transport_for(CONF_HOOK_WEBHOOK) == &hook_webhook_transport);
}

static const struct check_case cases[] = {
	{ "stdin_and_env", t_stdin_and_env },
	{ "exit_status", t_exit_status },
	{ "timeout_kills_group", t_timeout_kills_group },
	{ "cancel", t_cancel },
	{ "cannot_start", t_cannot_start },
	{ "json_object", t_json_object },
	{ 0 },
};

int
main(int argc, char **argv)
{
	/* feedd ignores SIGPIPE (main.c): a hook that does not read its
	 * stdin must not kill the test either. */
	signal(SIGPIPE, SIG_IGN);
	return check_main(argc, argv, cases);
}
