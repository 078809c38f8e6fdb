/*
 * A tiny test framework. Each test executable is a table of named test
 * functions; `test_x [NAME]` runs all or one. Exit 0 pass, 1 fail, 77 skip.
 *
 *	static void t_basic(void) { CHECK_INT_EQ(1 + 1, 2); }
 *	static const struct check_case cases[] = { { "basic", t_basic }, { 0 } };
 *	int main(int argc, char **argv) { return check_main(argc, argv, cases); }
 */
#ifndef FEEDD_TESTS_CHECK_H
#define FEEDD_TESTS_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct check_case {
	const char *name;
	void (*fn)(void);
};

static int check_failures;
static const char *check_current;

#define CHECK_FAIL_(fmt, ...)                                                  \
	do {                                                                   \
		fprintf(stderr, "%s:%d: [%s] " fmt "\n", __FILE__, __LINE__,   \
			check_current ? check_current : "?", __VA_ARGS__);     \
		check_failures++;                                              \
	} while (0)

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			CHECK_FAIL_("CHECK(%s) failed", #cond);                \
	} while (0)

#define CHECK_INT_EQ(a, b)                                                     \
	do {                                                                   \
		intmax_t a_ = (intmax_t)(a), b_ = (intmax_t)(b);               \
		if (a_ != b_)                                                  \
			CHECK_FAIL_("%s == %s: %jd != %jd", #a, #b, a_, b_);   \
	} while (0)

#define CHECK_STR_EQ(a, b)                                                     \
	do {                                                                   \
		const char *a_ = (a), *b_ = (b);                               \
		if (!a_ || !b_ || strcmp(a_, b_) != 0)                         \
			CHECK_FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b,      \
				a_ ? a_ : "(null)", b_ ? b_ : "(null)");       \
	} while (0)

#define CHECK_NULL(a)                                                          \
	do {                                                                   \
		const void *a_ = (a);                                          \
		if (a_)                                                        \
			CHECK_FAIL_("%s is not NULL", #a);                     \
	} while (0)

/* Stop the current test function (after a failed precondition). */
#define REQUIRE(cond)                                                          \
	do {                                                                   \
		if (!(cond)) {                                                 \
			CHECK_FAIL_("REQUIRE(%s) failed", #cond);              \
			return;                                                \
		}                                                              \
	} while (0)

static inline int
check_main(int argc, char **argv, const struct check_case *cases)
{
	int ran = 0;
	for (const struct check_case *c = cases; c->name; c++) {
		if (argc > 1 && strcmp(argv[1], c->name) != 0)
			continue;
		check_current = c->name;
		int before = check_failures;
		c->fn();
		fprintf(stderr, "%s %s\n", check_failures == before ? "ok  " : "FAIL",
			c->name);
		ran++;
	}
	if (argc > 1 && ran == 0) {
		fprintf(stderr, "no test named %s\n", argv[1]);
		return 1;
	}
	fprintf(stderr, "%d test(s), %d failure(s)\n", ran, check_failures);
	return check_failures ? 1 : 0;
}

#endif
