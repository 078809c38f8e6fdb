/*
 * daemon/webhook.c without a network: Standard Webhooks signatures against
 * known vectors, base64 both ways, the secret file's checks, message ids,
 * and fetch/'s Retry-After parser (which webhook results rely on). The
 * deliveries themselves are in test_webhook_http.c.
 */
#include "webhook.h"

#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- signatures ---- */

static void
t_sign_spec_vector(void)
{
	/* The example of the Standard Webhooks specification, checked with
	 * Python's hmac and base64 modules. */
	unsigned char key[64];
	const char *b64 = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
	const char *body = "{\"test\": 2432232314}";
	char sig[FEEDD_WEBHOOK_SIG_LEN];
	int n = webhook_b64_decode(b64, strlen(b64), key, sizeof(key));

	CHECK_INT_EQ(n, 24);
	REQUIRE(n == 24);
	CHECK_INT_EQ(webhook_sign(key, (size_t)n, "msg_p5jXN8AQM9LWM0D4loKWxJek",
		1614265330, body, strlen(body), sig, sizeof(sig)), 0);
	CHECK_STR_EQ(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	CHECK_INT_EQ(strlen(sig) + 1, FEEDD_WEBHOOK_SIG_LEN);
}

static void
t_sign_vectors(void)
{
	/* Computed with Python: base64(hmac.new(key, msg, sha256).digest()). */
	static const struct {
		const char *key, *id, *body;
		int64_t ts;
		const char *want;
	} cases[] = {
		{ "raw secret bytes", "hook-1-3", "{\"a\":1}", 1700000000,
		  "v1,P+8RwwidhCqO47HwD3qPPRaCE/WVFUzqiY57WVj73s0=" },
		{ "raw secret bytes", "hook-1-3", "", 1700000000,
		  "v1,mt3mUM72qrdXY4zdjLyvWMXpFepwU85anMyy2iVoRnM=" },
	};
	char sig[FEEDD_WEBHOOK_SIG_LEN];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const unsigned char *k = (const unsigned char *)cases[i].key;
		CHECK_INT_EQ(webhook_sign(k, strlen(cases[i].key), cases[i].id,
			cases[i].ts, cases[i].body, strlen(cases[i].body), sig,
			sizeof(sig)), 0);
		CHECK_STR_EQ(sig, cases[i].want);
	}
	/* Any change of id, time or body changes the signature. */
	{
		const unsigned char *k = (const unsigned char *)"raw secret bytes";
		char a[FEEDD_WEBHOOK_SIG_LEN], b[FEEDD_WEBHOOK_SIG_LEN];
		CHECK_INT_EQ(webhook_sign(k, 16, "hook-1-3", 1700000001, "{\"a\":1}",
			7, a, sizeof(a)), 0);
		CHECK(strcmp(a, cases[0].want) != 0);
		CHECK_INT_EQ(webhook_sign(k, 16, "hook-1-4", 1700000000, "{\"a\":1}",
			7, b, sizeof(b)), 0);
		CHECK(strcmp(b, cases[0].want) != 0);
	}
}

static void
t_sign_errors(void)
{
	const unsigned char k[] = "k";
	char sig[FEEDD_WEBHOOK_SIG_LEN];

	CHECK_INT_EQ(webhook_sign(NULL, 0, "id", 1, "x", 1, sig, sizeof(sig)), -EINVAL);
	CHECK_INT_EQ(webhook_sign(k, 1, "", 1, "x", 1, sig, sizeof(sig)), -EINVAL);
	CHECK_INT_EQ(webhook_sign(k, 1, NULL, 1, "x", 1, sig, sizeof(sig)), -EINVAL);
	CHECK_INT_EQ(webhook_sign(k, 1, "id", -1, "x", 1, sig, sizeof(sig)), -EINVAL);
	CHECK_INT_EQ(webhook_sign(k, 1, "id", 1, NULL, 1, sig, sizeof(sig)), -EINVAL);
	CHECK_INT_EQ(webhook_sign(k, 1, "id", 1, "x", 1, sig, sizeof(sig) - 1), -ENOSPC);
	CHECK_INT_EQ(webhook_sign(k, 1, "id", 1, NULL, 0, sig, sizeof(sig)), 0);
}

/* ---- base64 ---- */

static void
t_b64(void)
{
	/* RFC 4648 section 10. */
	static const struct {
		const char *raw, *enc;
	} v[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	char enc[32];
	unsigned char dec[32];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t rl = strlen(v[i].raw), el = strlen(v[i].enc);
		CHECK_INT_EQ(webhook_b64_encode((const unsigned char *)v[i].raw,
			rl, enc, sizeof(enc)), (int)el);
		CHECK_STR_EQ(enc, v[i].enc);
		CHECK_INT_EQ(webhook_b64_decode(v[i].enc, el, dec, sizeof(dec)),
			(int)rl);
		CHECK(memcmp(dec, v[i].raw, rl) == 0);
		/* Without the padding too. */
		while (el > 0 && v[i].enc[el - 1] == '=')
			el--;
		CHECK_INT_EQ(webhook_b64_decode(v[i].enc, el, dec, sizeof(dec)),
			(int)rl);
	}
	/* Bytes with the high bit, and + and / in the output. */
	{
		const unsigned char hi[] = { 0xfb, 0xff, 0xbf, 0x00 };
		CHECK_INT_EQ(webhook_b64_encode(hi, 4, enc, sizeof(enc)), 8);
		CHECK_STR_EQ(enc, "+/+/AA==");
		CHECK_INT_EQ(webhook_b64_decode(enc, 8, dec, sizeof(dec)), 4);
		CHECK(memcmp(dec, hi, 4) == 0);
	}
	/* Refused: foreign characters, white space, misplaced or extra
	 * padding, a lone digit, non-zero leftover bits, no room. */
	static const char *bad[] = { "Zm9v!", "Zm9 v", "Zm9v\n", "Z=m9",
		"Zg===", "Zm9vY", "Zh==", "Zm9=", "-_8=" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT_EQ(webhook_b64_decode(bad[i], strlen(bad[i]), dec,
			sizeof(dec)), -EINVAL);
	/* Round trips of every length up to 96, pseudo-random bytes. */
	{
		unsigned char raw[96], back[96];
		char e2[132];
		uint32_t x = 2463534242u;
		for (size_t n = 0; n <= sizeof(raw); n++) {
			for (size_t i = 0; i < n; i++) {
				x ^= x << 13;
				x ^= x >> 17;
				x ^= x << 5;
				raw[i] = (unsigned char)x;
			}
			int el = webhook_b64_encode(raw, n, e2, sizeof(e2));
			CHECK_INT_EQ(el, (int)((n + 2) / 3 * 4));
			REQUIRE(el >= 0);
			CHECK_INT_EQ(webhook_b64_decode(e2, (size_t)el, back,
				sizeof(back)), (int)n);
			CHECK(memcmp(raw, back, n) == 0);
		}
	}
	CHECK_INT_EQ(webhook_b64_decode("Zm9vYmFy", 8, dec, 5), -ENOSPC);
	CHECK_INT_EQ(webhook_b64_encode((const unsigned char *)"foo", 3, enc, 4),
		-ENOSPC);
}

/* ---- the secret file ---- */

static char tmpdir[64];

static const char *
secret_file(const char *name, const void *content, size_t len, mode_t mode)
{
	static char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return NULL;
	if (write(fd, content, len) != (ssize_t)len) {
		close(fd);
		return NULL;
	}
	close(fd);
	if (chmod(path, mode) < 0)
		return NULL;
	return path;
}

static void
t_secret_forms(void)
{
	static const struct {
		const char *content;
		const char *key;   /* expected bytes */
		size_t keylen;
	} cases[] = {
		/* whsec_ + base64: the decoded bytes. */
		{ "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", NULL, 24 },
		{ "whsec_Zm9vYmFy", "foobar", 6 },
		{ "whsec_Zm9vYg\r\n", "foob", 4 },   /* no padding, CRLF */
		/* Anything else: the bytes themselves, trailing newlines off. */
		{ "raw secret bytes\n", "raw secret bytes", 16 },
		{ "raw secret bytes\n\n\r\n", "raw secret bytes", 16 },
		{ "  spaced key ", "  spaced key ", 13 },
		{ "WHSEC_Zm9v", "WHSEC_Zm9v", 10 },    /* the prefix is exact */
	};
	REQUIRE(mkdtemp(strcpy(tmpdir, "/tmp/feedd-webhook-XXXXXX")));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char *k = NULL;
		size_t kl = 0;
		char err[256];
		const char *p = secret_file("s", cases[i].content,
			strlen(cases[i].content), 0600);
		REQUIRE(p);
		CHECK_INT_EQ(webhook_load_secret(p, &k, &kl, err, sizeof(err)), 0);
		CHECK_STR_EQ(err, "");
		CHECK_INT_EQ(kl, cases[i].keylen);
		if (k && cases[i].key)
			CHECK(memcmp(k, cases[i].key, kl) == 0);
		webhook_secret_free(k, kl);
		unlink(p);
	}
	/* The spec's secret, loaded from a file, signs the spec's vector; and
	 * a 0400 file is fine. */
	{
		unsigned char *k = NULL;
		size_t kl = 0;
		char err[256], sig[FEEDD_WEBHOOK_SIG_LEN];
		const char *body = "{\"test\": 2432232314}";
		const char *p = secret_file("spec",
			"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", 39, 0400);
		REQUIRE(p);
		CHECK_INT_EQ(webhook_load_secret(p, &k, &kl, err, sizeof(err)), 0);
		REQUIRE(k);
		CHECK_INT_EQ(webhook_sign(k, kl, "msg_p5jXN8AQM9LWM0D4loKWxJek",
			1614265330, body, strlen(body), sig, sizeof(sig)), 0);
		CHECK_STR_EQ(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
		webhook_secret_free(k, kl);
		unlink(p);
	}
	webhook_secret_free(NULL, 0);
}

static void
t_secret_refused(void)
{
	static const struct {
		const char *name, *content;
		mode_t mode;
		int rc;
		const char *msg;   /* part of the message */
	} cases[] = {
		{ "group", "k", 0640, -EACCES, "mode 0640" },
		{ "world", "k", 0604, -EACCES, "mode 0604" },
		{ "gwrite", "k", 0620, -EACCES, "readable by its owner only" },
		{ "empty", "", 0600, -EINVAL, "empty" },
		{ "newlines", "\n\r\n", 0600, -EINVAL, "empty" },
		{ "badb64", "whsec_not base64!", 0600, -EINVAL, "not valid base64" },
		{ "nokey", "whsec_", 0600, -EINVAL, "no key" },
	};
	unsigned char *k = (unsigned char *)"untouched";
	size_t kl = 42;
	char err[256], path[128];

	if (!tmpdir[0])
		REQUIRE(mkdtemp(strcpy(tmpdir, "/tmp/feedd-webhook-XXXXXX")));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p = secret_file(cases[i].name, cases[i].content,
			strlen(cases[i].content), cases[i].mode);
		REQUIRE(p);
		CHECK_INT_EQ(webhook_load_secret(p, &k, &kl, err, sizeof(err)),
			cases[i].rc);
		CHECK(strstr(err, p) != NULL);
		CHECK(strstr(err, cases[i].msg) != NULL);
		if (!strstr(err, cases[i].msg))
			fprintf(stderr, "  message: %s\n", err);
		unlink(p);
	}
	/* Missing, a directory, too large. */
	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	CHECK_INT_EQ(webhook_load_secret(path, &k, &kl, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, path) && strstr(err, "No such file"));
	CHECK_INT_EQ(webhook_load_secret(tmpdir, &k, &kl, err, sizeof(err)),
		-EINVAL);
	CHECK(strstr(err, "not a regular file") != NULL);
	{
		char *big = malloc(FEEDD_WEBHOOK_MAX_SECRET + 1);
		REQUIRE(big);
		memset(big, 'k', FEEDD_WEBHOOK_MAX_SECRET + 1);
		const char *p = secret_file("big", big, FEEDD_WEBHOOK_MAX_SECRET + 1,
			0600);
		free(big);
		REQUIRE(p);
		CHECK_INT_EQ(webhook_load_secret(p, &k, &kl, err, sizeof(err)), -EFBIG);
		unlink(p);
		/* Exactly the cap is fine. */
		big = malloc(FEEDD_WEBHOOK_MAX_SECRET);
		REQUIRE(big);
		memset(big, 'k', FEEDD_WEBHOOK_MAX_SECRET);
		p = secret_file("cap", big, FEEDD_WEBHOOK_MAX_SECRET, 0600);
		free(big);
		REQUIRE(p);
		unsigned char *k2 = NULL;
		size_t kl2 = 0;
		CHECK_INT_EQ(webhook_load_secret(p, &k2, &kl2, err, sizeof(err)), 0);
		CHECK_INT_EQ(kl2, FEEDD_WEBHOOK_MAX_SECRET);
		webhook_secret_free(k2, kl2);
		unlink(p);
	}
	CHECK_INT_EQ(webhook_load_secret("", &k, &kl, err, sizeof(err)), -EINVAL);
	/* Failures leave the outputs alone. */
	CHECK_STR_EQ((const char *)k, "untouched");
	CHECK_INT_EQ(kl, 42);
	rmdir(tmpdir);
}

/* ---- message ids ---- */

static void
t_msg_id(void)
{
	char id[FEEDD_WEBHOOK_MAX_ID + 1], small[8];
	char longname[300], big[400];

	CHECK_INT_EQ(webhook_msg_id(id, sizeof(id), "chat", 17, 42), 0);
	CHECK_STR_EQ(id, "chat-17-42");
	CHECK_INT_EQ(webhook_msg_id(id, sizeof(id), "a.b_c:d-e", 0,
		18446744073709551615ULL), 0);
	CHECK_STR_EQ(id, "a.b_c:d-e-0-18446744073709551615");
	CHECK_INT_EQ(webhook_msg_id(id, sizeof(id), "", 1, 2), -EINVAL);
	CHECK_INT_EQ(webhook_msg_id(id, sizeof(id), "two words", 1, 2), -EINVAL);
	CHECK_INT_EQ(webhook_msg_id(id, sizeof(id), "nl\n", 1, 2), -EINVAL);
	CHECK_INT_EQ(webhook_msg_id(small, sizeof(small), "chat", 17, 42), -ENOSPC);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	/* Over FEEDD_WEBHOOK_MAX_ID even with room in the buffer. */
	CHECK_INT_EQ(webhook_msg_id(big, sizeof(big), longname, 1, 2), -ENOSPC);
	longname[FEEDD_WEBHOOK_MAX_ID - 4] = '\0';
	CHECK_INT_EQ(webhook_msg_id(big, sizeof(big), longname, 1, 2), 0);
	CHECK_INT_EQ(strlen(big), FEEDD_WEBHOOK_MAX_ID);
}

/* ---- Retry-After ---- */

static void
t_retry_after(void)
{
	/* now = Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example date). */
	const int64_t now = 784111777;
	static const struct {
		const char *v;
		int64_t want;
	} cases[] = {
		{ "0", 0 },
		{ "120", 120 },
		{ "007", 7 },
		{ "Sun, 06 Nov 1994 08:49:37 GMT", 0 },
		{ "Sun, 06 Nov 1994 08:50:37 GMT", 60 },        /* IMF-fixdate */
		{ "Sunday, 06-Nov-94 09:49:37 GMT", 3600 },     /* RFC 850 */
		{ "Sun Nov  6 08:49:47 1994", 10 },             /* asctime */
		{ "Sat, 05 Nov 1994 08:49:37 GMT", 0 },         /* in the past */
		{ "99999999999999999999999", INT64_MAX / 10 },  /* saturates */
		{ "", -1 },
		{ "-5", -1 },
		{ "12s", -1 },
		{ "1.5", -1 },
		{ "soon", -1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t got = fetch_retry_after_parse(cases[i].v, now);
		if (got != cases[i].want)
			fprintf(stderr, "  Retry-After \"%s\"\n", cases[i].v);
		CHECK_INT_EQ(got, cases[i].want);
	}
	CHECK_INT_EQ(fetch_retry_after_parse(NULL, now), -1);
}

static const struct check_case cases[] = {
	{ "sign_spec_vector", t_sign_spec_vector },
	{ "sign_vectors", t_sign_vectors },
	{ "sign_errors", t_sign_errors },
	{ "b64", t_b64 },
	{ "secret_forms", t_secret_forms },
	{ "secret_refused", t_secret_refused },
	{ "msg_id", t_msg_id },
	{ "retry_after", t_retry_after },
	{ 0 },
};

int
main(int argc, char **argv)
{
	return check_main(argc, argv, cases);
}
