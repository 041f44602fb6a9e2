// SPDX-License-Identifier: GPL-2.0-only
/* keyset: see keyset.h. */
#include "keyset.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t key_hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a, then a final mix */

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	return h ^ (h >> 33);
}

static const void *key_at(const struct keyset *s, size_t pos)
{
	return (const char *)s->keys + pos * s->ksz;
}

static void slot_insert(size_t *slot, size_t cap, uint64_t h, size_t pos)
{
	size_t i = h & (cap - 1);

	while (slot[i])
		i = (i + 1) & (cap - 1);
	slot[i] = pos + 1;
}

static int grow(struct keyset *s)
{
	size_t cap = s->cap ? s->cap * 2 : 64;
	size_t *slot = calloc(cap, sizeof(*slot));

	if (!slot)
		return -ENOMEM;
	for (size_t i = 0; i < s->cap; i++)
		if (s->slot[i])
			slot_insert(slot, cap, key_hash(key_at(s, s->slot[i] - 1), s->ksz),
				    s->slot[i] - 1);
	free(s->slot);
	s->slot = slot;
	s->cap = cap;
	return 0;
}

int keyset_put(struct keyset *s, const void *keys, size_t pos)
{
	s->keys = keys;
	if (2 * (s->n + 1) > s->cap && grow(s))
		return -ENOMEM;
	slot_insert(s->slot, s->cap, key_hash(key_at(s, pos), s->ksz), pos);
	s->n++;
	return 0;
}

long keyset_find(const struct keyset *s, const void *key)
{
	if (!s->cap)
		return -1;
	for (size_t i = key_hash(key, s->ksz) & (s->cap - 1); s->slot[i];
	     i = (i + 1) & (s->cap - 1))
		if (!memcmp(key_at(s, s->slot[i] - 1), key, s->ksz))
			return (long)(s->slot[i] - 1);
	return -1;
}

void keyset_free(struct keyset *s)
{
	free(s->slot);
	s->slot = NULL;
	s->cap = s->n = 0;
}
