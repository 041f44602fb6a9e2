/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A grant's history as it is kept in memory: a compact encoding of the JSON list of entries
 * {"event","uid","at","user","reason","verdict"} (about a quarter of its text), or the text itself
 * for a list that does not have that shape. Decoding gives back the same list, keys in the same
 * order, so the state file is written as it was read.
 */
#ifndef JITD_HISTORY_H
#define JITD_HISTORY_H

#include <stddef.h>
#include <jansson.h>

/* The encoding of the list arr into *out (malloc'd; the caller frees it). 0, -ENOMEM, -E2BIG
 * (more than 16 MiB) or -EINVAL (arr is not a list). */
int hist_encode(const json_t *arr, char **out);
/* The list h encodes (a new reference): [] for NULL; NULL when out of memory. */
json_t *hist_decode(const char *h);
/* Bytes of the encoding (0 for NULL). */
size_t hist_size(const char *h);
/* Entries in the list (255 for any more; 0 for NULL). */
size_t hist_count(const char *h);
/* A copy of the encoding; NULL for NULL, or when out of memory. */
char *hist_dup(const char *h);
/* The encoding of an empty list, or NULL when out of memory. */
char *hist_empty(void);

#endif
