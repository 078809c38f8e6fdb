/*
 * The exec transport: run the hook's program with the batch as JSON Lines
 * on its standard input (hook.h).
 *
 * The child leads a process group of its own (UV_PROCESS_DETACHED: setsid),
 * so a timeout or a cancel kills everything it started: kill(-pid,
 * SIGKILL). Standard input is written asynchronously and closed at the
 * end of the batch; a program that exits without reading it is judged by
 * its exit status alone. Standard output and error go to the log, line by
 * line, prefixed with the hook's name, at most FEEDD_HOOK_MAX_OUTPUT bytes
 * per run. Success is exit status 0, nothing else.
 *
 * The run owns its handles (embedded) and is freed when the last one is
 * closed, just before done is called.
 */
#include "hook.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

extern char **environ;

/* After the program exits, how long its output pipes may stay open (a
 * background child of it holding them) before they are closed anyway. */
#define EXEC_DRAIN_MS 1000
#define EXEC_LINE_MAX 512

enum { S_OUT, S_ERR };

struct hook_run {
	uv_process_t proc;
	uv_pipe_t in, out[2];
	uv_timer_t timer;              /* the timeout, then the drain */
	uv_write_t wr;
	unsigned open;                 /* handles not yet closed */
	bool in_open, out_open[2], proc_open, timer_open;
	bool spawned, exited, timed_out, cancelled, finished;
	int64_t exit_status;
	int term_signal;
	int pid;
	int64_t timeout_s;
	char name[80];
	/* Output to the log. */
	char line[2][EXEC_LINE_MAX];
	size_t linelen[2];
	size_t logged, dropped;
	char last_err[200];            /* the last line on stderr */
	char rbuf[4096];
	hook_done_cb done;
	void *ud;
	/* The child's environment: strings owned, array NULL-terminated. */
	char **env;
	size_t nenv;
};

static void
run_free(struct hook_run *r)
{
	for (size_t i = 0; i < r->nenv; i++)
		free(r->env[i]);
	free(r->env);
	free(r);
}

static void
run_finish(struct hook_run *r)
{
	struct hook_result res = { .retry_after_s = -1 };
	char err[400];
	hook_done_cb done = r->done;
	void *ud = r->ud;

	if (r->dropped)
		log_info("hook", "hook=%s: %zu more bytes of output not logged "
			"(at most %d per run)", r->name, r->dropped,
			FEEDD_HOOK_MAX_OUTPUT);
	if (!r->spawned) {
		/* start() failed: it reported, done is not called. */
		run_free(r);
		return;
	}
	if (r->timed_out)
		snprintf(err, sizeof(err), "timed out after %" PRId64 "s (its "
			"process group was killed)", r->timeout_s);
	else if (r->cancelled)
		snprintf(err, sizeof(err), "cancelled (its process group was "
			"killed)");
	else if (r->term_signal)
		snprintf(err, sizeof(err), "killed by signal %d (%s)%s%s",
			r->term_signal, strsignal(r->term_signal),
			r->last_err[0] ? ": " : "", r->last_err);
	else if (r->exit_status != 0)
		snprintf(err, sizeof(err), "exited with status %" PRId64 "%s%s",
			r->exit_status, r->last_err[0] ? ": " : "", r->last_err);
	else
		res.ok = true;
	if (!res.ok)
		res.error = err;
	run_free(r);
	done(ud, &res);
}

static void
on_close(uv_handle_t *h)
{
	struct hook_run *r = h->data;

	if (--r->open == 0)
		run_finish(r);
}

static void
close_one(struct hook_run *r, uv_handle_t *h, bool *is_open)
{
	if (!*is_open)
		return;
	*is_open = false;
	uv_close(h, on_close);
}

/* Once the process is gone and its pipes are closed, close the rest. */
static void
maybe_done(struct hook_run *r)
{
	if (!r->exited || r->out_open[S_OUT] || r->out_open[S_ERR])
		return;
	close_one(r, (uv_handle_t *)&r->in, &r->in_open);
	close_one(r, (uv_handle_t *)&r->timer, &r->timer_open);
	close_one(r, (uv_handle_t *)&r->proc, &r->proc_open);
}

static void
kill_group(struct hook_run *r)
{
	/* The child called setsid(): its pid is its group's id. */
	if (r->pid > 0 && !r->exited && kill(-r->pid, SIGKILL) < 0 &&
	    errno != ESRCH)
		log_warn("hook", "hook=%s: cannot kill process group %d: %s",
			r->name, r->pid, strerror(errno));
}

/* One line of output to the log, within the run's budget. */
static void
log_line(struct hook_run *r, int s, const char *p, size_t n)
{
	if (s == S_ERR && n) {
		size_t k = n < sizeof(r->last_err) - 1 ? n : sizeof(r->last_err) - 1;

		memcpy(r->last_err, p, k);
		r->last_err[k] = '\0';
		for (char *c = r->last_err; *c; c++)
			if ((unsigned char)*c < ' ')
				*c = ' ';
	}
	if (r->logged + n > FEEDD_HOOK_MAX_OUTPUT) {
		r->dropped += n;
		return;
	}
	r->logged += n;
	/* Control characters would break the one-line-per-message rule. */
	char clean[EXEC_LINE_MAX + 1];
	size_t k = n < EXEC_LINE_MAX ? n : EXEC_LINE_MAX;

	for (size_t i = 0; i < k; i++)
		clean[i] = (unsigned char)p[i] < ' ' ? ' ' : p[i];
	clean[k] = '\0';
	if (s == S_ERR)
		log_notice("hook", "hook=%s stderr: %s", r->name, clean);
	else
		log_info("hook", "hook=%s stdout: %s", r->name, clean);
}

static void
take_output(struct hook_run *r, int s, const char *p, size_t n, bool eof)
{
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n;
		size_t room = EXEC_LINE_MAX - r->linelen[s];

		if (k > room)
			k = room;
		memcpy(r->line[s] + r->linelen[s], p, k);
		r->linelen[s] += k;
		p += k;
		n -= k;
		if ((n && *p == '\n') || r->linelen[s] == EXEC_LINE_MAX) {
			log_line(r, s, r->line[s], r->linelen[s]);
			r->linelen[s] = 0;
			if (n && *p == '\n') {
				p++;
				n--;
			}
		}
	}
	if (eof && r->linelen[s]) {
		log_line(r, s, r->line[s], r->linelen[s]);
		r->linelen[s] = 0;
	}
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct hook_run *r = h->data;

	(void)hint;
	/* One buffer for both pipes: a read is consumed before the next. */
	*buf = uv_buf_init(r->rbuf, sizeof(r->rbuf));
}

static void
on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct hook_run *r = st->data;
	int s = st == (uv_stream_t *)&r->out[S_OUT] ? S_OUT : S_ERR;

	if (n > 0) {
		take_output(r, s, buf->base, (size_t)n, false);
		return;
	}
	if (n == 0)
		return;
	take_output(r, s, "", 0, true);
	close_one(r, (uv_handle_t *)st, &r->out_open[s]);
	maybe_done(r);
}

static void
on_written(uv_write_t *w, int status)
{
	struct hook_run *r = w->data;

	/* EPIPE: the program stopped reading (or never did); its exit
	 * status says whether that is a failure. */
	if (status < 0 && status != UV_EPIPE && status != UV_ECANCELED)
		log_info("hook", "hook=%s: writing the batch: %s", r->name,
			uv_strerror(status));
	close_one(r, (uv_handle_t *)&r->in, &r->in_open);
}

static void
on_drain(uv_timer_t *t)
{
	struct hook_run *r = t->data;

	/* The program is gone but something it started keeps the pipes
	 * open: stop listening. */
	for (int s = 0; s < 2; s++) {
		take_output(r, s, "", 0, true);
		close_one(r, (uv_handle_t *)&r->out[s], &r->out_open[s]);
	}
	maybe_done(r);
}

static void
on_timeout(uv_timer_t *t)
{
	struct hook_run *r = t->data;

	r->timed_out = true;
	kill_group(r);
}

static void
on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct hook_run *r = p->data;

	r->exit_status = status;
	r->term_signal = sig;
	r->exited = true;
	uv_timer_stop(&r->timer);
	if (r->out_open[S_OUT] || r->out_open[S_ERR])
		uv_timer_start(&r->timer, on_drain, EXEC_DRAIN_MS, 0);
	maybe_done(r);
}

static int
env_add(struct hook_run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
env_add(struct hook_run *r, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	r->env[r->nenv++] = s;
	r->env[r->nenv] = NULL;
	return 0;
}

/* Whether an inherited variable is left out of the child's environment:
 * ours (FEEDD_*), systemd's for feedd itself, and the ones env= sets. */
static bool
env_skip(const char *e, const struct conf_hook *h)
{
	static const char *const drop[] = { "FEEDD_", "NOTIFY_SOCKET=",
		"WATCHDOG_USEC=", "WATCHDOG_PID=", "LISTEN_FDS=", "LISTEN_PID=",
		"LISTEN_FDNAMES=" };
	size_t n = strcspn(e, "=");

	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
		if (strncmp(e, drop[i], strlen(drop[i])) == 0)
			return true;
	for (size_t i = 0; i < h->nenv; i++)
		if (strncmp(h->env[i], e, n) == 0 && h->env[i][n] == '=')
			return true;
	return false;
}

static int
env_build(struct hook_run *r, const struct conf_hook *h,
	const struct hook_batch *b)
{
	size_t n = 0;
	int rc = 0;

	while (environ && environ[n])
		n++;
	r->env = calloc(n + h->nenv + 6, sizeof(*r->env));
	if (!r->env)
		return -ENOMEM;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (!env_skip(environ[i], h))
			rc = env_add(r, "%s", environ[i]);
	for (size_t i = 0; i < h->nenv && rc == 0; i++)
		rc = env_add(r, "%s", h->env[i]);
	if (rc == 0)
		rc = env_add(r, "FEEDD_HOOK=%s", h->name);
	if (rc == 0)
		rc = env_add(r, "FEEDD_BATCH_SIZE=%zu", b->count);
	if (rc == 0)
		rc = env_add(r, "FEEDD_FIRST_SEQ=%" PRId64, b->first_seq);
	if (rc == 0)
		rc = env_add(r, "FEEDD_LAST_SEQ=%" PRId64, b->last_seq);
	return rc;
}

static int
exec_start(struct hook_run **out, const struct hook_ctx *ctx,
	const struct conf_hook *h, const struct hook_batch *b, hook_done_cb done,
	void *ud, char *err, size_t errlen)
{
	uv_loop_t *loop = ctx->loop;
	struct hook_run *r = calloc(1, sizeof(*r));
	uv_process_options_t po = { 0 };
	uv_stdio_container_t stdio[3];
	uv_buf_t buf;
	int rc;

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(r->name, sizeof(r->name), "%s", h->name);
	r->timeout_s = h->timeout_s;
	r->done = done;
	r->ud = ud;
	if (env_build(r, h, b) < 0) {
		snprintf(err, errlen, "out of memory");
		run_free(r);
		return -ENOMEM;
	}
	uv_pipe_init(loop, &r->in, 0);
	uv_pipe_init(loop, &r->out[S_OUT], 0);
	uv_pipe_init(loop, &r->out[S_ERR], 0);
	uv_timer_init(loop, &r->timer);
	r->in.data = r->out[S_OUT].data = r->out[S_ERR].data = r;
	r->timer.data = r->proc.data = r->wr.data = r;
	r->in_open = r->out_open[S_OUT] = r->out_open[S_ERR] = true;
	r->timer_open = true;
	r->open = 4;

	stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
	stdio[0].data.stream = (uv_stream_t *)&r->in;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&r->out[S_OUT];
	stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[2].data.stream = (uv_stream_t *)&r->out[S_ERR];
	po.file = h->program;
	po.args = h->argv;
	po.env = r->env;
	po.stdio = stdio;
	po.stdio_count = 3;
	po.exit_cb = on_exit_cb;
	/* setsid(): its own process group, for kill(-pid). */
	po.flags = UV_PROCESS_DETACHED;
	rc = uv_spawn(loop, &r->proc, &po);
	/* libuv initialises the process handle even when the spawn fails;
	 * it is closed like the others. */
	r->proc_open = true;
	r->open++;
	if (rc < 0) {
		snprintf(err, errlen, "cannot run %s: %s", h->program,
			uv_strerror(rc));
		r->exited = true;
		r->out_open[S_OUT] = r->out_open[S_ERR] = false;
		uv_close((uv_handle_t *)&r->out[S_OUT], on_close);
		uv_close((uv_handle_t *)&r->out[S_ERR], on_close);
		maybe_done(r);
		return rc;
	}
	r->spawned = true;
	r->pid = r->proc.pid;
	uv_read_start((uv_stream_t *)&r->out[S_OUT], on_alloc, on_read);
	uv_read_start((uv_stream_t *)&r->out[S_ERR], on_alloc, on_read);
	buf = uv_buf_init((char *)b->jsonl, (unsigned)b->len);
	rc = uv_write(&r->wr, (uv_stream_t *)&r->in, &buf, 1, on_written);
	if (rc < 0)
		close_one(r, (uv_handle_t *)&r->in, &r->in_open);
	uv_timer_start(&r->timer, on_timeout, (uint64_t)r->timeout_s * 1000, 0);
	*out = r;
	return 0;
}

static void
exec_cancel(struct hook_run *r)
{
	r->cancelled = true;
	kill_group(r);
}

const struct hook_transport hook_exec_transport = {
	.kind = "exec",
	.start = exec_start,
	.cancel = exec_cancel,
};
