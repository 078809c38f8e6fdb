/*
 * The fast HTML reader against libxml2's HTML parser (parse/html.c).
 *
 * For every input the fast reader takes, the sanitized HTML, the plain
 * text and the one-line strip must be byte for byte what libxml2's path
 * gives; any difference aborts with both outputs. Inputs it refuses must
 * still render through PARSE_HTML_AUTO exactly as through libxml2 (AUTO
 * falls back), so the fallback is checked too. The seed corpus is
 * tests/fuzz/corpus/fuzz_html_fast/: bodies in the subset (as news sites
 * write them), and near misses that must be refused.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "norm.h"

#define BASE "http://example.com/dir/page.html"

static void
same(const char *what, const char *fast, const char *slow, const uint8_t *in,
	size_t size)
{
	FUZZ_CHECK(strcmp(fast, slow) == 0,
		"%s differs\n input: %.*s\n fast:    %s\n libxml2: %s", what,
		(int)(size > 2000 ? 2000 : size), (const char *)in, fast, slow);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char *fs = NULL, *ft = NULL, *fr = NULL, *ls = NULL, *lt = NULL, *lr = NULL;
	int rc;

	if (size > 65536)
		return 0;
	FUZZ_CHECK(parse__html_render_path(s, size, BASE, PARSE_HTML_LIBXML2,
		&ls, &lt, &lr) == 0, "libxml2 path failed");
	rc = parse__html_render_path(s, size, BASE, PARSE_HTML_FAST, &fs, &ft, &fr);
	FUZZ_CHECK(rc == 0 || rc == -EAGAIN, "fast path: rc %d", rc);
	if (rc == -EAGAIN) {
		FUZZ_CHECK(parse__html_render_path(s, size, BASE, PARSE_HTML_AUTO,
			&fs, &ft, &fr) == 0, "auto path failed");
	}
	same("sanitized", fs, ls, data, size);
	same("text", ft, lt, data, size);
	same("strip", fr, lr, data, size);
	free(fs);
	free(ft);
	free(fr);
	free(ls);
	free(lt);
	free(lr);
	return 0;
}
