/*
 * parse__url_resolve() / parse__url_safe(): the input is "BASE\nREF" (no
 * newline: REF alone, no base). A result is never NULL without errno
 * EPERM/ENOMEM, always has a safe scheme (or none), never contains tab, CR
 * or LF, and is valid UTF-8 when both inputs were; with no base it is the
 * reference itself, trimmed and without tab/CR/LF.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "norm.h"

/* Bytes <= 0x20 are trimmed from the ends when read again. */
static bool
has_ctl(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s <= 0x20)
			return true;
	}
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in, *base = NULL, *ref, *nl, *r;

	if (size > 4096)
		return 0;
	in = fuzz_strdup(data, size);
	nl = strchr(in, '\n');
	if (nl) {
		*nl = '\0';
		base = in;
		ref = nl + 1;
	} else {
		ref = in;
	}
	bool valid = parse__utf8_valid(in, strlen(in)) &&
		parse__utf8_valid(ref, strlen(ref));

	errno = 0;
	r = parse__url_resolve(base, ref);
	if (!r) {
		FUZZ_CHECK(errno == EPERM || errno == ENOMEM, "errno %d", errno);
	} else {
		FUZZ_CHECK(parse__url_safe(r), "unsafe result \"%s\"", r);
		FUZZ_CHECK(!strpbrk(r, "\t\r\n"), "tab/CR/LF in \"%s\"", r);
		if (valid)
			FUZZ_CHECK(parse__utf8_valid(r, strlen(r)), "invalid UTF-8 out");
		if (!base || !*base) {
			/* Same as resolving the result against nothing again. */
			char *again = parse__url_resolve(NULL, r);
			FUZZ_CHECK(again && strcmp(again, r) == 0, "\"%s\" -> \"%s\"", r,
				again ? again : "(null)");
			free(again);
		}
		/* An absolute http(s) result resolves to itself against any base. */
		if ((strncmp(r, "http://", 7) == 0 || strncmp(r, "https://", 8) == 0) &&
		    base && *base && !has_ctl(r)) {
			char *again = parse__url_resolve(base, r);
			FUZZ_CHECK(again && strcmp(again, r) == 0, "\"%s\" -> \"%s\"", r,
				again ? again : "(null)");
			free(again);
		}
	}
	/* The policy alone on the raw bytes must not crash either. */
	(void)parse__url_safe(ref);
	free(r);
	free(in);
	return 0;
}
