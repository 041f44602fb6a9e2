// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of lib/history.c: a grant's history kept compact, given back as it was. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "testlib.h"

/* text encoded then decoded is text again, byte for byte; the encoding's size in *size */
static void round_trip(const char *text, size_t *size)
{
	json_t *in = json_loads(text, JSON_ALLOW_NUL, NULL), *out;
	char *h = NULL, *back;

	CHECK(in, "bad test input: %s", text);
	CHECK_INT(hist_encode(in, &h), 0);
	CHECK_INT(hist_count(h), json_array_size(in));
	out = hist_decode(h);
	back = out ? json_dumps(out, JSON_COMPACT) : NULL;
	CHECK_STR(back ?: "(none)", text);
	if (size)
		*size = hist_size(h);
	free(back);
	free(h);
	json_decref(out);
	json_decref(in);
}

/* The entries jitd writes come back the same, at about a quarter of their text. */
static void usual_entries_come_back_the_same_and_smaller(void)
{
	static const char *const texts[] = {
		"[]",
		"[{\"event\":\"granted\",\"uid\":2,\"at\":\"2026-12-04T20:48:05.429Z\",\"user\":"
		"\"bin\",\"reason\":\"scale\"}]",
		"[{\"event\":\"requested\",\"uid\":1000,\"at\":\"2026-12-04T20:48:05.000Z\","
		"\"user\":\"alice\",\"reason\":\"INC-42 the nightly job\"},{\"event\":\"approved\","
		"\"uid\":1003,\"at\":\"2026-12-04T20:49:00.001Z\",\"user\":\"carol\"},"
		"{\"event\":\"extended\",\"uid\":4294967295,\"at\":\"1970-01-01T00:00:00.000Z\"},"
		"{\"event\":\"reviewed\",\"uid\":0,\"at\":\"2099-12-31T23:59:59.999Z\",\"user\":"
		"\"root\",\"reason\":\"r\xc3\xa9sum\xc3\xa9 \\u0000 nul\",\"verdict\":\"flag\"},"
		"{\"event\":\"a_new_kind_of_event\",\"uid\":7,\"at\":\"2026-01-01T00:00:00.000Z\"}"
		"]",
	};
	size_t size;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		round_trip(texts[i], &size);
		if (i)
			CHECK(size * 3 < strlen(texts[i]), "entry %zu: %zu bytes for %zu of text",
			      i, size, strlen(texts[i]));
	}
}

/* Entries of any other shape are kept as their text: still the same list, key order too. */
static void other_shapes_are_kept_as_text(void)
{
	static const char *const texts[] = {
		/* another key, another order, a missing required key */
		"[{\"event\":\"granted\",\"uid\":2,\"at\":\"2026-12-04T20:48:05.429Z\",\"x\":1}]",
		"[{\"uid\":2,\"event\":\"granted\",\"at\":\"2026-12-04T20:48:05.429Z\"}]",
		"[{\"event\":\"granted\",\"uid\":2,\"at\":\"2026-12-04T20:48:05.429Z\","
		"\"reason\":\"r\",\"user\":\"u\"}]",
		"[{\"event\":\"granted\",\"at\":\"2026-12-04T20:48:05.429Z\"}]",
		/* times written another way than jitd writes them, or before 1970 */
		"[{\"event\":\"granted\",\"uid\":2,\"at\":\"2026-12-04T20:48:05Z\"}]",
		"[{\"event\":\"granted\",\"uid\":2,\"at\":\"2026-12-04T20:48:05.429123Z\"}]",
		"[{\"event\":\"granted\",\"uid\":2,\"at\":\"2026-12-04T22:48:05.429+02:00\"}]",
		"[{\"event\":\"granted\",\"uid\":2,\"at\":\"1969-12-31T23:59:59.000Z\"}]",
		"[{\"event\":\"granted\",\"uid\":2,\"at\":\"yesterday\"}]",
		/* other types */
		"[{\"event\":\"granted\",\"uid\":-1,\"at\":\"2026-12-04T20:48:05.429Z\"}]",
		"[{\"event\":\"granted\",\"uid\":4294967296,\"at\":\"2026-12-04T20:48:05.429Z\"}]",
		"[{\"event\":\"granted\",\"uid\":\"2\",\"at\":\"2026-12-04T20:48:05.429Z\"}]",
		"[{\"event\":1,\"uid\":2,\"at\":\"2026-12-04T20:48:05.429Z\"}]",
		"[{\"event\":\"granted\",\"uid\":2,\"at\":\"2026-12-04T20:48:05.429Z\","
		"\"user\":null}]",
		"[1,\"x\",null,[],{}]",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		round_trip(texts[i], NULL);
}

static void null_empty_copy_and_refusals(void)
{
	json_t *h = hist_decode(NULL), *obj = json_object();
	char *e = hist_empty(), *c, *out = NULL;

	CHECK(json_is_array(h) && !json_array_size(h), "NULL is not []");
	json_decref(h);
	CHECK_INT(hist_size(NULL), 0);
	CHECK_INT(hist_count(NULL), 0);
	CHECK(!hist_dup(NULL), "a copy of NULL");
	CHECK(e && hist_size(e) > 0, "no empty history");
	h = hist_decode(e);
	CHECK(json_is_array(h) && !json_array_size(h), "the empty history is not []");
	json_decref(h);
	c = hist_dup(e);
	CHECK(c && hist_size(c) == hist_size(e) && !memcmp(c, e, hist_size(e)), "bad copy");
	CHECK_INT(hist_encode(obj, &out), -EINVAL);
	CHECK(!out, "an object was encoded");
	free(c);
	free(e);
	json_decref(obj);
}

/* A broken encoding (cut short) decodes to NULL, never past its end. */
static void a_cut_encoding_is_refused(void)
{
	json_t *in = json_loads("[{\"event\":\"x_y\",\"uid\":300,\"at\":\"2026-12-04T20:48:05.429Z"
				"\",\"user\":\"alice\",\"reason\":\"because\"}]",
				0, NULL);
	char *h = NULL;
	size_t n;

	CHECK_INT(hist_encode(in, &h), 0);
	n = hist_size(h);
	for (size_t cut = 8; cut < n; cut++) { /* past the 7-byte header */
		char *c = malloc(cut);
		json_t *out;

		memcpy(c, h, cut);
		c[0] = (char)cut; /* the header says the shorter size */
		c[1] = c[2] = c[3] = 0;
		out = hist_decode(c);
		CHECK(!out, "cut at %zu of %zu decoded", cut, n);
		json_decref(out);
		free(c);
	}
	free(h);
	json_decref(in);
}

/* Random lists of entries with random keys, values and orders: each comes back the same. */
static void random_lists_come_back_the_same(void)
{
	static const char *const keys[] = {"event", "uid", "at", "user", "reason", "verdict", "x"};
	static const char *const evs[] = {"granted", "approved", "zzz", "", "reviewed"};
	unsigned seed = 1;

	for (int round = 0; round < 2000; round++) {
		json_t *arr = json_array(), *out;
		char *h = NULL, *a, *b;
		int n = rand_r(&seed) % 5;

		for (int i = 0; i < n; i++) {
			json_t *e = json_object();
			int nk = rand_r(&seed) % 7;

			for (int k = 0; k < nk; k++) {
				const char *key =
					rand_r(&seed) % 4 ? keys[k] : keys[rand_r(&seed) % 7];
				json_t *v;

				if (!strcmp(key, "uid"))
					v = json_integer(rand_r(&seed) % 3 ? rand_r(&seed) : -5);
				else if (!strcmp(key, "at"))
					v = json_string(rand_r(&seed) % 5
								? "2026-12-04T20:48:05.429Z"
								: "2026-12-04T20:48:05Z");
				else if (!strcmp(key, "event"))
					v = json_string(evs[rand_r(&seed) % 5]);
				else
					v = rand_r(&seed) % 6 ? json_string("v\xc3\xa9")
							      : json_null();
				json_object_set_new(e, key, v);
			}
			json_array_append_new(arr, e);
		}
		CHECK_INT(hist_encode(arr, &h), 0);
		out = hist_decode(h);
		a = json_dumps(arr, JSON_COMPACT);
		b = out ? json_dumps(out, JSON_COMPACT) : NULL;
		CHECK_STR(b ?: "(none)", a);
		free(a);
		free(b);
		free(h);
		json_decref(out);
		json_decref(arr);
	}
}

int main(void)
{
	RUN(usual_entries_come_back_the_same_and_smaller);
	RUN(other_shapes_are_kept_as_text);
	RUN(null_empty_copy_and_refusals);
	RUN(a_cut_encoding_is_refused);
	RUN(random_lists_come_back_the_same);
	return tl_exit();
}
