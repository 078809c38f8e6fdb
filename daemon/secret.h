/*
 * secret: a webhook's secret file, read and checked (mode, owner, size,
 * the Standard Webhooks "whsec_" form), and the base64 it uses. No
 * libcrypto here: conf.c checks secret files for --check-config with it,
 * webhook.c signs with the key (webhook.h).
 */
#ifndef FEEDD_DAEMON_SECRET_H
#define FEEDD_DAEMON_SECRET_H

#include <stddef.h>

#define FEEDD_WEBHOOK_MAX_SECRET 4096          /* bytes of a secret file */

/*
 * Read a secret file into a key. The file must be a regular file owned by
 * this user (or root) and accessible to its owner only (mode 0600 or 0400);
 * at most FEEDD_WEBHOOK_MAX_SECRET bytes; trailing CR and LF characters are
 * ignored. "whsec_<base64>" (the Standard Webhooks form) gives the decoded
 * bytes; anything else is the key itself, byte for byte (so its receiver's
 * secret is "whsec_" + base64 of those bytes). Returns 0 with *key (owned by
 * the caller: webhook_secret_free()) and *keylen set; or -ENOENT (missing),
 * -EACCES (mode, owner or unreadable), -EINVAL (empty, not a regular file,
 * bad base64), -EFBIG, -ENOMEM, -EIO, with a message naming the path in err
 * and *key untouched.
 */
int webhook_load_secret(const char *path, unsigned char **key, size_t *keylen,
	char *err, size_t errlen);

/* Wipe and free a key from webhook_load_secret(). NULL is a no-op. */
void webhook_secret_free(unsigned char *key, size_t keylen);

/*
 * Standard base64 (RFC 4648 section 4) of len bytes, NUL-terminated;
 * returns the length written, or -ENOSPC. Decoding accepts the same
 * alphabet with or without "=" padding and nothing else (no white space);
 * returns the byte count, -EINVAL or -ENOSPC. Exposed for tests.
 */
int webhook_b64_encode(const unsigned char *in, size_t len, char *out,
	size_t outlen);
int webhook_b64_decode(const char *in, size_t len, unsigned char *out,
	size_t outlen);

#endif
