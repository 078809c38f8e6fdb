/*
 * daemon/webhook.c: Standard Webhooks signing, the secret file, and one
 * delivery on top of fetch_post(). See webhook.h.
 *
 * HMAC-SHA256 is OpenSSL's (EVP_MAC), fed the id, the timestamp and the
 * body in pieces so the body is never copied for signing. Base64 is ours:
 * twenty lines, and strict decoding (OpenSSL's EVP_DecodeBlock accepts
 * white space and reports padding as data).
 */
#include "webhook.h"

#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct webhook_req {
	struct fetch_req *fr;     /* borrowed: fetch/ owns it until on_done */
	webhook_done_cb cb;
	void *ud;
	bool cancelled;           /* webhook_cancel(): no cb, just free */
	char url_shown[160];      /* the URL for messages, masked */
};

/* ---- signing ---- */

/* An id goes into a header line and into the signed text: printable
 * ASCII without spaces, so no receiver can read it two ways. */
static bool
id_ok(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0 || n > FEEDD_WEBHOOK_MAX_ID)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)id[i];
		if (c <= 0x20 || c >= 0x7f)
			return false;
	}
	return true;
}

int
webhook_sign(const unsigned char *key, size_t keylen, const char *msg_id,
	int64_t ts, const char *body, size_t len, char *out, size_t outlen)
{
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	unsigned char md[EVP_MAX_MD_SIZE];
	char tsbuf[32];
	size_t mdlen = 0;
	int rc = 0;

	if (!key || keylen == 0 || !msg_id || !*msg_id || ts < 0 ||
		(len && !body) || !out)
		return -EINVAL;
	if (outlen < FEEDD_WEBHOOK_SIG_LEN)
		return -ENOSPC;
	snprintf(tsbuf, sizeof(tsbuf), ".%" PRId64 ".", ts);
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	if (!ctx) {
		rc = -EIO;
		goto out;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
		(char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(ctx, key, keylen, params) ||
		!EVP_MAC_update(ctx, (const unsigned char *)msg_id,
			strlen(msg_id)) ||
		!EVP_MAC_update(ctx, (const unsigned char *)tsbuf,
			strlen(tsbuf)) ||
		(len && !EVP_MAC_update(ctx, (const unsigned char *)body,
			len)) ||
		!EVP_MAC_final(ctx, md, &mdlen, sizeof(md)) || mdlen != 32) {
		rc = -EIO;
		goto out;
	}
	memcpy(out, "v1,", 3);
	if (webhook_b64_encode(md, mdlen, out + 3, outlen - 3) < 0)
		rc = -ENOSPC;
out:
	OPENSSL_cleanse(md, sizeof(md));
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return rc;
}

int
webhook_msg_id(char *out, size_t outlen, const char *hook, uint64_t first_seq,
	uint64_t last_seq)
{
	int n;

	if (!out || !hook || !*hook)
		return -EINVAL;
	for (const char *p = hook; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || strchr("-_.:", *p)))
			return -EINVAL;
	n = snprintf(out, outlen, "%s-%" PRIu64 "-%" PRIu64, hook, first_seq,
		last_seq);
	if (n < 0 || (size_t)n >= outlen || n > FEEDD_WEBHOOK_MAX_ID)
		return -ENOSPC;
	return 0;
}

/* ---- one delivery ---- */

/* The URL as messages show it: user name and password masked (as
 * everywhere in feedd), and the query too, where webhook URLs often carry
 * a token. The path stays: it is what tells two hooks on one host apart. */
static void
url_shown(const char *url, char *buf, size_t len)
{
	char *q;

	conf_redact_url(url, buf, len);
	q = strpbrk(buf, "?#");
	if (q && *q == '?' && (size_t)(q - buf) + 6 <= len)
		memcpy(q, "?****", 6);
	else if (q)
		*q = '\0';
}

/* What an answer means for the hook, and the line to log about it. */
static void
result_of(const struct fetch_result *r, const char *u,
	struct webhook_result *res)
{
	char *e = res->error;
	size_t elen = sizeof(res->error);
	long st = r->http_status;
	const char *why;

	res->http_status = (int)st;
	res->rc = r->rc;
	switch (r->status) {
	case FETCH_OK:
		res->ok = true;
		res->rc = 0;
		break;
	case FETCH_HTTP_ERROR:
	case FETCH_NOT_MODIFIED:  /* never for a POST; defensive */
		res->rc = -EREMOTEIO;
		if (st == 410) {
			res->disable = true;
			snprintf(e, elen, "webhook %s: HTTP 410 Gone: the "
				"receiver asks to stop; hook disabled", u);
		} else if ((st == 429 || st == 503) && r->retry_after_s >= 0) {
			res->retry_after_s = r->retry_after_s;
			if (res->retry_after_s > FEEDD_WEBHOOK_MAX_RETRY_AFTER)
				res->retry_after_s = FEEDD_WEBHOOK_MAX_RETRY_AFTER;
			snprintf(e, elen, "webhook %s: HTTP %ld, retry after "
				"%" PRId64 " s", u, st, res->retry_after_s);
		} else {
			why = st >= 300 && st < 400 ?
				" (redirects are not followed)" : "";
			snprintf(e, elen, "webhook %s: HTTP %ld%s", u, st, why);
		}
		break;
	case FETCH_FAILED:
	case FETCH_CANCELLED:
		if (res->rc == 0)
			res->rc = -EIO;
		why = res->rc == -EPERM ? " (allow-private=yes permits it)" : "";
		snprintf(e, elen, "webhook %s: %s%s%s%s", u,
			r->stage ? r->stage : "", r->stage ? ": " : "",
			r->error ? r->error : strerror(-res->rc), why);
		break;
	}
}

static void
on_done(void *ud, const struct fetch_result *r)
{
	struct webhook_req *rq = ud;
	struct webhook_result res = { .retry_after_s = -1 };

	rq->fr = NULL;
	if (!rq->cancelled) {
		result_of(r, rq->url_shown, &res);
		rq->cb(rq->ud, &res);
	}
	free(rq);
}

int
webhook_post(struct fetch *fx, const struct webhook_conf *wc,
	const char *msg_id, int64_t ts, const char *body, size_t len,
	webhook_done_cb cb, void *ud, struct webhook_req **out)
{
	struct webhook_req *rq = NULL;
	struct fetch_req_opts o = { 0 };
	char sig[FEEDD_WEBHOOK_SIG_LEN];
	char h_id[32 + FEEDD_WEBHOOK_MAX_ID], h_ts[64], h_sig[64 + sizeof(sig)];
	const char *headers[5];
	int nh = 0, rc = 0;

	if (!fx || !wc || !wc->url || !cb || !id_ok(msg_id) || ts < 0 ||
		(len && !body) || (wc->keylen && !wc->key)) {
		rc = -EINVAL;
		goto out;
	}
	rq = calloc(1, sizeof(*rq));
	if (!rq) {
		rc = -ENOMEM;
		goto out;
	}
	rq->cb = cb;
	rq->ud = ud;
	url_shown(wc->url, rq->url_shown, sizeof(rq->url_shown));

	snprintf(h_id, sizeof(h_id), "webhook-id: %s", msg_id);
	snprintf(h_ts, sizeof(h_ts), "webhook-timestamp: %" PRId64, ts);
	headers[nh++] = "Content-Type: application/json";
	headers[nh++] = h_id;
	headers[nh++] = h_ts;
	if (wc->keylen) {
		rc = webhook_sign(wc->key, wc->keylen, msg_id, ts, body, len,
			sig, sizeof(sig));
		if (rc < 0)
			goto out;
		snprintf(h_sig, sizeof(h_sig), "webhook-signature: %s", sig);
		headers[nh++] = h_sig;
	}
	headers[nh] = NULL;

	o.url = wc->url;
	o.headers = headers;
	o.proxy = wc->proxy;
	o.user_agent = wc->user_agent;
	o.connect_timeout_ms = wc->connect_timeout_ms;
	o.timeout_ms = wc->timeout_ms;
	o.max_body = wc->max_response ? wc->max_response :
		FEEDD_WEBHOOK_MAX_RESPONSE;
	o.allow_private = wc->allow_private;
	o.public_only = true;   /* the receiver's own host is checked too */
	o.on_done = on_done;
	o.ud = rq;
	rc = fetch_post(fx, &o, body, len, &rq->fr);
	if (rc < 0)
		goto out;
	if (out)
		*out = rq;
	rq = NULL;
out:
	free(rq);
	return rc;
}

int
webhook_post_batch(struct fetch *fx, const struct webhook_conf *wc,
	const char *secret_file, const char *hook, uint64_t first_seq,
	uint64_t last_seq, const char *body, size_t len, webhook_done_cb cb,
	void *ud, struct webhook_req **out, char *err, size_t errlen)
{
	struct webhook_conf c;
	unsigned char *key = NULL;
	size_t keylen = 0;
	char id[FEEDD_WEBHOOK_MAX_ID + 1], shown[160];
	int rc;

	if (errlen)
		err[0] = '\0';
	if (!wc || !wc->url) {
		snprintf(err, errlen, "webhook: no URL");
		return -EINVAL;
	}
	url_shown(wc->url, shown, sizeof(shown));
	rc = webhook_msg_id(id, sizeof(id), hook ? hook : "", first_seq,
		last_seq);
	if (rc < 0) {
		snprintf(err, errlen, "webhook %s: hook name \"%s\" cannot "
			"make a message id", shown, hook ? hook : "");
		return rc;
	}
	if (secret_file) {
		rc = webhook_load_secret(secret_file, &key, &keylen, err,
			errlen);
		if (rc < 0)
			return rc;
	}
	c = *wc;
	c.key = key;
	c.keylen = keylen;
	rc = webhook_post(fx, &c, id, (int64_t)time(NULL), body, len, cb, ud,
		out);
	if (rc < 0)
		snprintf(err, errlen, "webhook %s: %s", shown, rc == -EINVAL ?
			"not an http or https URL" : strerror(-rc));
	webhook_secret_free(key, keylen);
	return rc;
}

void
webhook_abort(struct webhook_req *rq)
{
	/* fetch/ finishes a cancelled request on its next loop turn, so the
	 * callback never runs inside this call. */
	if (rq && !rq->cancelled && rq->fr)
		fetch_req_cancel(rq->fr);
}

void
webhook_cancel(struct webhook_req *rq)
{
	if (!rq || rq->cancelled)
		return;
	rq->cancelled = true;
	/* Within the callback fr is already NULL: on_done frees rq after. */
	if (rq->fr)
		fetch_req_cancel(rq->fr);
}
