/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tiny test helpers. Each test is a void function; RUN(fn) prints "PASS fn" or
 * "FAIL fn: reason" (the first failed check's reason), and tl_exit() is non-zero if any
 * test failed. A failed check returns from the test function at once.
 */
#ifndef JITD_TESTLIB_H
#define JITD_TESTLIB_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static struct {
	const char *name;
	bool failed;
	int n_failed;
} tl;

#define TL_FAIL(...)                                                                               \
	do {                                                                                       \
		if (!tl.failed) {                                                                  \
			printf("FAIL %s: ", tl.name);                                              \
			printf(__VA_ARGS__);                                                       \
			printf(" (%s:%d)\n", __FILE__, __LINE__);                                  \
		}                                                                                  \
		tl.failed = true;                                                                  \
	} while (0)

/* Check a condition; on failure print the reason (printf arguments) and leave the test. */
#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			TL_FAIL(__VA_ARGS__);                                                      \
			return;                                                                    \
		}                                                                                  \
	} while (0)

#define CHECK_INT(got, want)                                                                       \
	do {                                                                                       \
		long long g_ = (long long)(got), w_ = (long long)(want);                           \
		CHECK(g_ == w_, "%s is %lld, expected %lld", #got, g_, w_);                        \
	} while (0)

#define CHECK_STR(got, want)                                                                       \
	do {                                                                                       \
		const char *g_ = (got), *w_ = (want);                                              \
		CHECK(g_ && !strcmp(g_, w_), "%s is \"%s\", expected \"%s\"", #got,                \
		      g_ ? g_ : "(null)", w_);                                                     \
	} while (0)

/* Check that string got contains want. */
#define CHECK_CONTAINS(got, want)                                                                  \
	do {                                                                                       \
		const char *g_ = (got), *w_ = (want);                                              \
		bool ok_ = g_ && strstr(g_, w_);                                                   \
		CHECK(ok_, "%s is \"%s\", expected it to contain \"%s\"", #got,                    \
		      g_ ? g_ : "(null)", w_);                                                     \
	} while (0)

static inline void tl_run(const char *name, void (*fn)(void))
{
	tl.name = name;
	tl.failed = false;
	fn();
	if (tl.failed)
		tl.n_failed++;
	else
		printf("PASS %s\n", name);
	fflush(stdout);
}

#define RUN(fn) tl_run(#fn, fn)

static inline int tl_exit(void)
{
	return tl.n_failed ? 1 : 0;
}

#endif
