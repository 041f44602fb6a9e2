// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of lib/keyset.c: the key index policy loads use instead of a scan. */
#include <stdint.h>
#include <stdlib.h>

#include "keyset.h"
#include "testlib.h"

struct ik {
	uint64_t dev, ino;
};

static void empty_set_finds_nothing(void)
{
	struct keyset s = {.ksz = sizeof(struct ik)};
	struct ik k = {1, 2};

	CHECK_INT(keyset_find(&s, &k), -1);
	keyset_free(&s);
}

/* 200,000 keys in a growing array (moved by realloc as it grows, as entries_add does):
 * each is found at its position, and keys never put are not found. */
static void finds_every_key_at_its_position_across_growth(void)
{
	struct keyset s = {.ksz = sizeof(struct ik)};
	struct ik *v = NULL, miss;
	size_t n = 200000, cap = 0;

	for (size_t i = 0; i < n; i++) {
		if (i == cap) {
			cap = cap ? 2 * cap : 16;
			v = realloc(v, cap * sizeof(*v));
			CHECK(v, "out of memory");
		}
		v[i] = (struct ik){.dev = 8 << 20 | (i & 3), .ino = 1000 + i * 7};
		CHECK_INT(keyset_put(&s, v, i), 0);
	}
	CHECK_INT(s.n, n);
	CHECK(s.cap >= 2 * n, "grown at half full: cap %zu for %zu keys", s.cap, n);
	for (size_t i = 0; i < n; i++) {
		long pos = keyset_find(&s, &v[i]);

		if (pos != (long)i) {
			free(v);
			keyset_free(&s);
			CHECK(0, "key %zu found at %ld", i, pos);
		}
	}
	miss = (struct ik){.dev = 8 << 20, .ino = 1001};
	CHECK_INT(keyset_find(&s, &miss), -1);
	miss = (struct ik){.dev = 9 << 20, .ino = 1000};
	CHECK_INT(keyset_find(&s, &miss), -1);
	free(v);
	keyset_free(&s);
	CHECK_INT(s.cap, 0);
}

/* Keys are compared as bytes, over ksz bytes only. */
static void equal_bytes_are_one_key_whatever_the_hash(void)
{
	struct keyset s = {.ksz = 3};
	const char keys[] = "abcabdabc";

	CHECK_INT(keyset_put(&s, keys, 0), 0);
	CHECK_INT(keyset_put(&s, keys, 1), 0);
	/* a caller checks before putting; the first position is the one found */
	CHECK_INT(keyset_find(&s, "abc"), 0);
	CHECK_INT(keyset_find(&s, "abd"), 1);
	CHECK_INT(keyset_find(&s, "abe"), -1);
	keyset_free(&s);
}

int main(void)
{
	RUN(empty_set_finds_nothing);
	RUN(finds_every_key_at_its_position_across_growth);
	RUN(equal_bytes_are_one_key_whatever_the_hash);
	return tl_exit();
}
