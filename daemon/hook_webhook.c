/*
 * The webhook transport: POST the batch as one JSON object, signed the
 * Standard Webhooks way (webhook.h, docs/webhooks.md).
 *
 * The body is {"hook","first_seq","last_seq","count","articles":[...]}
 * (hook_batch_json_object()), the message id "<hook>-<first>-<last>", so
 * a retried batch keeps its id and a receiver can drop a duplicate. The
 * secret file is read for every delivery: a rotated secret applies to the
 * next batch without a reload.
 *
 * A 2xx delivers; a 410 stops the hook until it is configured anew; any
 * other answer or a transfer error is retried by hook.c's back-off, no
 * sooner than a 429's or 503's Retry-After.
 */
#include "hook.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webhook.h"

struct hook_run {
	struct webhook_req *rq;        /* borrowed; valid until on_done */
	hook_done_cb done;
	void *ud;
};

static void
on_done(void *ud, const struct webhook_result *res)
{
	struct hook_run *run = ud;
	hook_done_cb done = run->done;
	void *dud = run->ud;
	struct hook_result hr = {
		.ok = res->ok,
		.retry_after_s = res->ok ? -1 : res->retry_after_s,
		.permanent = !res->ok && res->disable,
		.error = res->ok ? NULL : res->error,
	};

	/* The run is gone when done is called (hook.h). res stays valid
	 * for this call: it belongs to webhook.c. */
	free(run);
	done(dud, &hr);
}

static int
webhook_start(struct hook_run **out, const struct hook_ctx *ctx,
	const struct conf_hook *h, const struct hook_batch *b,
	hook_done_cb done, void *ud, char *err, size_t errlen)
{
	const struct conf *c = ctx->conf ? *ctx->conf : NULL;
	struct webhook_conf wc = {
		.url = h->url,
		.allow_private = h->allow_private,
		.proxy = c ? c->proxy : NULL,
		.user_agent = c ? c->user_agent : NULL,
		.timeout_ms = h->timeout_s > 0 ? (long)h->timeout_s * 1000 : 0,
		.connect_timeout_ms = c && c->connect_timeout_s > 0 ?
			(long)c->connect_timeout_s * 1000 : 0,
	};
	struct hook_run *run;
	char *body = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (!ctx->fetch) {
		snprintf(err, errlen, "webhook: no transfers to send with");
		return -EINVAL;
	}
	rc = hook_batch_json_object(b, &body, &len);
	if (rc < 0) {
		snprintf(err, errlen, "webhook: cannot build the body: %s",
			strerror(-rc));
		return rc;
	}
	run = calloc(1, sizeof(*run));
	if (!run) {
		free(body);
		snprintf(err, errlen, "webhook: out of memory");
		return -ENOMEM;
	}
	run->done = done;
	run->ud = ud;
	/* fetch_post() copies the body: ours goes at once. */
	rc = webhook_post_batch(ctx->fetch, &wc, h->secret_file, h->name,
		(uint64_t)b->first_seq, (uint64_t)b->last_seq, body, len,
		on_done, run, &run->rq, err, errlen);
	free(body);
	if (rc < 0) {
		free(run);
		return rc;
	}
	*out = run;
	return 0;
}

static void
webhook_stop(struct hook_run *run)
{
	/* The callback still comes, later, with ok false. */
	webhook_abort(run->rq);
}

const struct hook_transport hook_webhook_transport = {
	.kind = "webhook",
	.start = webhook_start,
	.cancel = webhook_stop,
};
