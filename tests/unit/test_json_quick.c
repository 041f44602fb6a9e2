// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of lib/json_quick.c: what it reads is what jansson reads; the rest is left. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_quick.h"
#include "testlib.h"

/* text read by jq, whole, as jansson reads it (same dump, keys in the same order) */
static void reads_as_jansson(const char *text)
{
	size_t end = 0;
	json_t *q = jq_value(text, strlen(text), &end);
	json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
	char *a = q ? json_dumps(q, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	char *b = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	CHECK(q, "jq left to jansson: %s", text);
	CHECK_INT(end, strlen(text));
	CHECK_STR(a ?: "(none)", b ?: "(jansson: none)");
	free(a);
	free(b);
	json_decref(q);
	json_decref(j);
}

/* A grant as jitd writes it to its state file: nanosecond times are 19 digits. */
static void the_state_files_grants_are_read(void)
{
	reads_as_jansson(
		"{\"id\":1,\"resources\":[\"etc\",\"db-prod\"],\"state\":\"active\",\"created_ns\":"
		"1796444199658985149,\"ended_ns\":0,\"uid\":100000,\"reason\":\"INC "
		"\\\"42\\\"\\n\\t/\\\\"
		"\\/\\b\\f\\r\",\"cgroup\":null,\"break_glass\":false,\"live\":true,\"history\":[{"
		"\"event\":\"granted\",\"uid\":2,\"at\":\"2026-12-05T04:16:39.658Z\"}],\"e\":{},"
		"\"a\":[],\"n\":-42,\"z\":-0}");
	reads_as_jansson("[9223372036854775807,-9223372036854775808,0,-1]");
	reads_as_jansson("\"\"");
	reads_as_jansson("[ 1 ,\t{ \"a\" :\r\n[ ] } ]");
}

/* Not jq's: NULL, and jansson reads (or refuses) the same bytes. */
static void the_rest_is_left_to_jansson(void)
{
	static const char *const left[] = {
		"\"\\u0041\"",		    /* \u escapes */
		"\"r\xc3\xa9sum\xc3\xa9\"", /* UTF-8 (jansson checks it) */
		"\"a\xff\"",		    /* not UTF-8 */
		"\"tab\there\"",	    /* a control byte in a string (jansson refuses it) */
		"1.5",			    /* reals */
		"1e3",
		"9223372036854775808", /* out of range (jansson refuses it) */
		"-9223372036854775809",
		"12345678901234567890",
		"01", /* refused by jansson */
		"-",
		"{\"a\":1,\"a\":2}", /* a key twice */
		"[1,]",
		"{\"a\":1,}",
		"{\"a\" 1}",
		"{1:2}",
		"truex",
		"nul",
		"[1",
		"\"open",
		"",
		"\"\\x\"",
	};
	char deep[200];

	for (size_t i = 0; i < sizeof(left) / sizeof(left[0]); i++) {
		size_t end = 0;
		json_t *q = jq_value(left[i], strlen(left[i]), &end);

		CHECK(!q, "jq read what is jansson's: %s", left[i]);
		json_decref(q);
	}
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	{
		size_t end = 0;
		json_t *q = jq_value(deep, sizeof(deep), &end);

		CHECK(!q, "jq read 100 levels of nesting (at most 64)");
		json_decref(q);
	}
}

/* The value ends where it ends: what follows is the caller's (a comma, the array's end). */
static void the_end_is_the_values(void)
{
	static const char text[] = "{\"a\":[1,2]}, {\"b\":3}]";
	size_t end = 0;
	json_t *q = jq_value(text, sizeof(text) - 1, &end);

	CHECK(q, "not read");
	CHECK_INT(end, 11);
	json_decref(q);
	q = jq_value("true,", 5, &end);
	CHECK(json_is_true(q), "true not read");
	CHECK_INT(end, 4);
	json_decref(q);
}

int main(void)
{
	RUN(the_state_files_grants_are_read);
	RUN(the_rest_is_left_to_jansson);
	RUN(the_end_is_the_values);
	return tl_exit();
}
