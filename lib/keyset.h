/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * keyset: an index of fixed-size keys (bytes) to their position in a caller's array, so
 * that "is this key there" costs one hash probe, not a scan (policy loads of 100,000
 * paths). Open addressing, linear probing, grown at half full.
 */
#ifndef JITD_KEYSET_H
#define JITD_KEYSET_H

#include <stdbool.h>
#include <stddef.h>

struct keyset {
	const void *keys; /* the caller's array of n keys of ksz bytes (may move: see keyset_put) */
	size_t ksz;
	size_t *slot; /* cap slots: position + 1, 0 empty */
	size_t cap, n;
};

/* Record that the key at position pos of keys (which now holds pos + 1 keys) is there.
 * 0 or -ENOMEM (then the set is unchanged). */
int keyset_put(struct keyset *s, const void *keys, size_t pos);
/* The position of key in keys, or -1. */
long keyset_find(const struct keyset *s, const void *key);
/* Free the slots (the keys are the caller's). */
void keyset_free(struct keyset *s);

#endif
