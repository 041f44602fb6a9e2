// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz the quick JSON reader (lib/json_quick.c) against jansson: whatever jq_value takes,
 * json_loadb takes too, as the same value, with the same keys in the same order (the state
 * file is written back as it was read), and jq's end is where the value ends (no byte after
 * it was read as part of it). What jq leaves is jansson's: nothing to check.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_quick.h"

/* a and b the same, objects' keys in the same order at every depth */
static int same(json_t *a, json_t *b)
{
	const char *k;
	json_t *v;
	size_t i;
	void *it;

	if (!json_equal(a, b) || json_typeof(a) != json_typeof(b))
		return 0;
	if (json_is_array(a)) {
		json_array_foreach(a, i, v)
			if (!same(v, json_array_get(b, i)))
				return 0;
	}
	if (!json_is_object(a))
		return 1;
	it = json_object_iter(b);
	json_object_foreach(a, k, v) {
		if (!it || strcmp(k, json_object_iter_key(it)) ||
		    !same(v, json_object_iter_value(it)))
			return 0;
		it = json_object_iter_next(b, it);
	}
	return !it;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *t = malloc(size ? size : 1);
	size_t end = 0;
	json_t *q, *j;

	if (!t)
		return 0;
	memcpy(t, data, size);
	q = jq_value(t, size, &end);
	if (q) {
		if (end == 0 || end > size)
			abort();
		j = json_loadb(t, end, JSON_DECODE_ANY, NULL);
		if (!j || !same(q, j))
			abort(); /* jq read what jansson does not, or read it otherwise */
		json_decref(j);
		json_decref(q);
	}
	free(t);
	return 0;
}
