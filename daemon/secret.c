/*
 * A webhook's secret file and base64 (secret.h).
 */
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_PREFIX "whsec_"

/* ---- base64 ---- */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
webhook_b64_encode(const unsigned char *in, size_t len, char *out,
	size_t outlen)
{
	size_t need = (len + 2) / 3 * 4, o = 0;

	if (len > SIZE_MAX / 2 || outlen < need + 1)
		return -ENOSPC;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t n = len - i < 3 ? len - i : 3;
		if (n > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (n > 2)
			v |= in[i + 2];
		out[o++] = b64_alphabet[(v >> 18) & 63];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = n > 1 ? b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = n > 2 ? b64_alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	return (int)o;
}

static int
b64_value(char c)
{
	const char *p = c ? strchr(b64_alphabet, c) : NULL;
	return p ? (int)(p - b64_alphabet) : -1;
}

int
webhook_b64_decode(const char *in, size_t len, unsigned char *out,
	size_t outlen)
{
	size_t o = 0, pad = 0;
	uint32_t acc = 0;
	unsigned nbits = 0, ndigits = 0;

	/* At most two '=', only at the end, and only to fill a quantum. */
	while (pad < 2 && len > 0 && in[len - 1] == '=') {
		len--;
		pad++;
	}
	if (pad && (len + pad) % 4 != 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value(in[i]);
		if (v < 0)
			return -EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		nbits += 6;
		ndigits++;
		if (nbits >= 8) {
			nbits -= 8;
			if (o >= outlen)
				return -ENOSPC;
			out[o++] = (unsigned char)(acc >> nbits);
			acc &= (1u << nbits) - 1;
		}
	}
	/* One digit left over encodes no byte; leftover bits must be zero
	 * (RFC 4648 3.5), so each byte string has one encoding. */
	if (ndigits % 4 == 1 || acc != 0)
		return -EINVAL;
	if (o > INT32_MAX)
		return -ENOSPC;
	return (int)o;
}

/* ---- the secret ---- */

int
webhook_load_secret(const char *path, unsigned char **key, size_t *keylen,
	char *err, size_t errlen)
{
	unsigned char buf[FEEDD_WEBHOOK_MAX_SECRET + 1];
	unsigned char *k = NULL;
	size_t n = 0, klen = 0;
	struct stat st;
	int fd = -1, rc = 0;

	if (errlen)
		err[0] = '\0';
	if (!path || !*path || !key || !keylen) {
		snprintf(err, errlen, "secret file: no path given");
		return -EINVAL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		rc = e == ENOENT ? -ENOENT : e == EACCES ? -EACCES : -EIO;
		snprintf(err, errlen, "secret file %s: %s", path, strerror(e));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		rc = -EIO;
		snprintf(err, errlen, "secret file %s: %s", path,
			strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		snprintf(err, errlen, "secret file %s: not a regular file",
			path);
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		rc = -EACCES;
		snprintf(err, errlen, "secret file %s: mode %04o lets group or "
			"others at it; it must be readable by its owner only "
			"(chmod 600)", path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		rc = -EACCES;
		snprintf(err, errlen, "secret file %s: owned by uid %u, not "
			"by this service (uid %u) or root", path,
			(unsigned)st.st_uid, (unsigned)geteuid());
		goto out;
	}
	for (;;) {
		ssize_t k2 = read(fd, buf + n, sizeof(buf) - n);
		if (k2 < 0 && errno == EINTR)
			continue;
		if (k2 < 0) {
			rc = -EIO;
			snprintf(err, errlen, "secret file %s: %s", path,
				strerror(errno));
			goto out;
		}
		if (k2 == 0)
			break;
		n += (size_t)k2;
		if (n == sizeof(buf)) {
			rc = -EFBIG;
			snprintf(err, errlen, "secret file %s: larger than %d "
				"bytes", path, FEEDD_WEBHOOK_MAX_SECRET);
			goto out;
		}
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n == 0) {
		rc = -EINVAL;
		snprintf(err, errlen, "secret file %s: empty", path);
		goto out;
	}
	k = malloc(n);
	if (!k) {
		rc = -ENOMEM;
		snprintf(err, errlen, "secret file %s: out of memory", path);
		goto out;
	}
	if (n >= sizeof(SECRET_PREFIX) - 1 &&
		memcmp(buf, SECRET_PREFIX, sizeof(SECRET_PREFIX) - 1) == 0) {
		size_t plen = sizeof(SECRET_PREFIX) - 1;
		int d = webhook_b64_decode((const char *)buf + plen, n - plen,
			k, n);
		if (d <= 0) {
			rc = -EINVAL;
			snprintf(err, errlen, "secret file %s: %s after \"%s\"",
				path, d == 0 ? "no key" : "not valid base64",
				SECRET_PREFIX);
			goto out;
		}
		klen = (size_t)d;
	} else {
		memcpy(k, buf, n);
		klen = n;
	}
	*key = k;
	*keylen = klen;
	k = NULL;
out:
	if (k) {
		explicit_bzero(k, n);
		free(k);
	}
	explicit_bzero(buf, sizeof(buf));
	if (fd >= 0)
		close(fd);
	return rc;
}

void
webhook_secret_free(unsigned char *key, size_t keylen)
{
	if (!key)
		return;
	explicit_bzero(key, keylen);
	free(key);
}
