/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A quick reader for the JSON jitd writes itself (the state file's grants): ASCII strings
 * with the short escapes, integers (as json_int_t holds them), true, false, null, objects without a
 * key given twice, arrays, nesting up to 64. It builds the same jansson values as
 * json_loadb, without jansson's per-byte reading and checking (about a sixth of the work).
 * Anything else (a \u escape, a byte above 0x7f, a real number, a key twice, a token it
 * does not know, bytes cut short) it leaves to jansson: it answers NULL, and the caller
 * parses the same bytes with json_loadb, which reads all JSON and says what is wrong.
 * tests/fuzz/fuzz_json_quick.c checks that what it reads, jansson reads the same.
 */
#ifndef JITD_JSON_QUICK_H
#define JITD_JSON_QUICK_H

#include <stddef.h>
#include <jansson.h>

/* The JSON value at the start of t[0, n) (no space before it) as a new reference, its end
 * (one past its last byte) in *end; NULL when it is not one jq reads, or out of memory. */
json_t *jq_value(const char *t, size_t n, size_t *end);
/* Past the JSON white space (space, tab, CR, LF) at t[i], within n. */
size_t jq_space(const char *t, size_t n, size_t i);
/* The end of the JSON value starting at t[i] (one past it), or 0 if it is cut short:
 * strings (their escapes) and nesting followed, nothing else checked (for bounds before
 * a parse: what is inside is checked when the value is parsed). */
size_t jq_end(const char *t, size_t n, size_t i);

#endif
