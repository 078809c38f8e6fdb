/*
 * parse__date(): any string in; when a date comes out it has exactly the
 * shape YYYY-MM-DDTHH:MM:SSZ with fields in range (day valid for its month),
 * and reading the output back gives the same output (round trip).
 */
#include <string.h>

#include "fuzz.h"
#include "norm.h"

static int
num(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		FUZZ_CHECK(s[i] >= '0' && s[i] <= '9', "digit expected in \"%s\"", s);
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static void
check_shape(const char *d)
{
	static const int dim[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	FUZZ_CHECK(strlen(d) == 20, "\"%s\"", d);
	FUZZ_CHECK(d[4] == '-' && d[7] == '-' && d[10] == 'T' && d[13] == ':' &&
		d[16] == ':' && d[19] == 'Z', "\"%s\"", d);
	int y = num(d, 4), mo = num(d + 5, 2), da = num(d + 8, 2);
	int h = num(d + 11, 2), mi = num(d + 14, 2), s = num(d + 17, 2);
	FUZZ_CHECK(y >= 1, "\"%s\"", d);
	FUZZ_CHECK(mo >= 1 && mo <= 12, "\"%s\"", d);
	FUZZ_CHECK(da >= 1 && da <= dim[mo - 1], "\"%s\"", d);
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	FUZZ_CHECK(!(mo == 2 && da == 29 && !leap), "\"%s\"", d);
	FUZZ_CHECK(h <= 23 && mi <= 59 && s <= 59, "\"%s\"", d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[21], again[21];
	char *s;

	if (size > 512)
		return 0;
	s = fuzz_strdup(data, size);
	memset(out, 'x', sizeof(out));
	int rc = parse__date(s, out);
	FUZZ_CHECK(rc == 0 || rc == -22 /* -EINVAL */, "rc %d", rc);
	if (rc == 0) {
		check_shape(out);
		FUZZ_CHECK(parse__date(out, again) == 0, "\"%s\" does not read back", out);
		FUZZ_CHECK(strcmp(out, again) == 0, "\"%s\" reads back as \"%s\"", out, again);
	} else {
		/* out untouched on failure */
		for (size_t i = 0; i < sizeof(out); i++)
			FUZZ_CHECK(out[i] == 'x', "out written on failure");
	}
	free(s);
	return 0;
}
