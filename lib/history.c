// SPDX-License-Identifier: GPL-2.0-only
/*
 * A grant's history in memory (history.h). The text of one entry, e.g.
 *   {"event":"granted","uid":2,"at":"2026-12-04T20:48:05.429Z","user":"bin","reason":"x"}
 * is 80 to 100 bytes; encoded, about 20: a tag byte (the event's number in a table, or a
 * name that follows; whether a user, a reason and a review's verdict follow), the uid and the time
 * in milliseconds as varints, then the strings each with its length.
 *
 * Layout: 3 bytes of total length (little-endian, this header included: at most 16 MiB), 1
 * byte of kind (HIST_BIN: entries as above; HIST_TEXT: the list's compact JSON text and a
 * NUL), 1 byte of the number of entries (255 for any more), then the payload: the usual
 * one-entry history of a grant fits malloc's smallest chunk (24 bytes). A list with any
 * entry of another shape (other keys, another order, a time that would not be written back the
 * same) is kept as text: what is decoded is always what was encoded, which hist_encode checks
 * before it answers.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "util.h"

enum { HIST_BIN = 1, HIST_TEXT = 2 };
#define HIST_HEAD     5
#define HIST_MAX_SIZE 0xffffff /* 3 bytes of length */
#define HIST_MAX_SAID 0xff
#define TAG_USER      0x80
#define TAG_REASON    0x40
#define TAG_VERDICT   0x20
#define TAG_EVENT     0x1f /* the event's number in events[] + 1, or TAG_LITERAL */
#define TAG_LITERAL   0x1f /* the event's name follows */
#define NS_PER_MS     1000000LL
#define HIST_KEYS     6
#define HIST_REQUIRED 3 /* event, uid, at */

/* the events jitd writes (lib/request.c, agent/): a number each; others are written out */
static const char *const events[] = {
	"requested",	"granted",	     "approved",
	"denied",	"extended",	     "revoked",
	"expired",	"break_glass",	     "reviewed",
	"exec",		"granted_by_policy", "granted_by_fleet",
	"rebound",	"first_use",	     "first_use_missed",
	"idle_expired", "removed_by_policy", "request_expired",
	"flagged",	"cancelled",
};
#define N_EVENTS (sizeof(events) / sizeof(events[0]))

/* a review's entry also has a "verdict" */
static const char *const keys[HIST_KEYS] = {"event", "uid", "at", "user", "reason", "verdict"};
_Static_assert(N_EVENTS < TAG_LITERAL, "events[] outgrew the tag");

struct buf {
	char *p;
	size_t n, cap;
	bool oom;
};

static void put_bytes(struct buf *b, const void *src, size_t len)
{
	if (b->oom)
		return;
	if (b->n + len > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *np;

		while (cap < b->n + len)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, src, len);
	b->n += len;
}

static void put_varint(struct buf *b, uint64_t v)
{
	uint8_t t[10];
	size_t n = 0;

	do {
		t[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	put_bytes(b, t, n);
}

static void put_str(struct buf *b, const json_t *s)
{
	put_varint(b, json_string_length(s));
	put_bytes(b, json_string_value(s), json_string_length(s));
}

/* The values of an entry of the usual shape, in v[] by keys[]; false for any other. */
static bool entry_fields(const json_t *e, const json_t *v[HIST_KEYS], uint64_t *ms)
{
	char at[40];
	int64_t ns;
	size_t k = 0;

	if (!json_is_object(e))
		return false;
	memset(v, 0, HIST_KEYS * sizeof(*v));
	for (void *it = json_object_iter((json_t *)e); it;
	     it = json_object_iter_next((json_t *)e, it)) {
		const char *key = json_object_iter_key(it);

		/* in keys[] order; only the optional ones (user, reason, verdict) may be left
		 * out */
		while (k >= HIST_REQUIRED && k < HIST_KEYS && strcmp(key, keys[k]))
			k++;
		if (k == HIST_KEYS || strcmp(key, keys[k]))
			return false;
		v[k++] = json_object_iter_value(it);
	}
	if (k < HIST_REQUIRED || !json_is_string(v[0]) || !json_is_integer(v[1]) ||
	    !json_is_string(v[2]) || (v[3] && !json_is_string(v[3])) ||
	    (v[4] && !json_is_string(v[4])) || (v[5] && !json_is_string(v[5])))
		return false;
	if (json_integer_value(v[1]) < 0 || json_integer_value(v[1]) > UINT32_MAX)
		return false;
	/* a time that is written back the same: milliseconds, UTC, as util_format_time */
	if (util_parse_time(json_string_value(v[2]), &ns) || ns < 0 || ns % NS_PER_MS)
		return false;
	util_format_time(ns, at, sizeof(at));
	if (strcmp(at, json_string_value(v[2])))
		return false;
	*ms = (uint64_t)(ns / NS_PER_MS);
	return true;
}

static unsigned event_number(const json_t *ev)
{
	for (unsigned i = 0; i < N_EVENTS; i++)
		if (json_string_length(ev) == strlen(events[i]) &&
		    !strcmp(json_string_value(ev), events[i]))
			return i + 1;
	return TAG_LITERAL;
}

/* Entries of arr into b; false when one has another shape. */
static bool encode_entries(const json_t *arr, struct buf *b)
{
	const json_t *v[HIST_KEYS];
	json_t *e;
	uint64_t ms;
	size_t i;

	json_array_foreach((json_t *)arr, i, e) {
		unsigned ev;
		uint8_t tag;

		if (!entry_fields(e, v, &ms))
			return false;
		ev = event_number(v[0]);
		tag = (uint8_t)(ev | (v[3] ? TAG_USER : 0) | (v[4] ? TAG_REASON : 0) |
				(v[5] ? TAG_VERDICT : 0));
		put_bytes(b, &tag, 1);
		put_varint(b, (uint64_t)json_integer_value(v[1]));
		put_varint(b, ms);
		if (ev == TAG_LITERAL)
			put_str(b, v[0]);
		if (v[3])
			put_str(b, v[3]);
		if (v[4])
			put_str(b, v[4]);
		if (v[5])
			put_str(b, v[5]);
	}
	return true;
}

static void set_head(struct buf *b, uint8_t kind, size_t entries)
{
	for (int i = 0; i < 3; i++)
		b->p[i] = (char)(b->n >> (8 * i));
	b->p[3] = (char)kind;
	b->p[4] = (char)(entries > HIST_MAX_SAID ? HIST_MAX_SAID : entries);
}

/* b's bytes alone, in a chunk of their size (not what realloc would leave of the scratch
 * buffer: the rest of it split off, a hole between the grants' chunks); kept if no memory */
static void shrink(struct buf *b)
{
	char *np = b->n < b->cap ? malloc(b->n) : NULL;

	if (np) {
		memcpy(np, b->p, b->n);
		free(b->p);
		b->p = np;
		b->cap = b->n;
	}
}

/* arr as text, when it cannot be encoded */
static int encode_text(const json_t *arr, char **out)
{
	char *t = json_dumps(arr, JSON_COMPACT);
	struct buf b = {0};
	static const char head[HIST_HEAD];

	if (!t)
		return -ENOMEM;
	put_bytes(&b, head, HIST_HEAD);
	put_bytes(&b, t, strlen(t) + 1);
	free(t);
	if (b.oom || b.n > HIST_MAX_SIZE) {
		free(b.p);
		return b.oom ? -ENOMEM : -E2BIG;
	}
	set_head(&b, HIST_TEXT, json_array_size(arr));
	shrink(&b);
	*out = b.p;
	return 0;
}

int hist_encode(const json_t *arr, char **out)
{
	static const char head[HIST_HEAD];
	struct buf b = {0};
	json_t *back;
	bool same;

	if (!json_is_array(arr))
		return -EINVAL;
	put_bytes(&b, head, HIST_HEAD);
	if (!encode_entries(arr, &b)) {
		free(b.p);
		return encode_text(arr, out);
	}
	if (b.oom || b.n > HIST_MAX_SIZE) {
		free(b.p);
		return b.oom ? -ENOMEM : -E2BIG;
	}
	set_head(&b, HIST_BIN, json_array_size(arr));
	shrink(&b);
	/* what is kept must be what was given: checked, never assumed */
	back = hist_decode(b.p);
	same = back && json_equal(back, (json_t *)arr);
	json_decref(back);
	if (!same) {
		free(b.p);
		return back ? encode_text(arr, out) : -ENOMEM;
	}
	*out = b.p;
	return 0;
}

size_t hist_size(const char *h)
{
	const uint8_t *u = (const uint8_t *)h;

	return h ? (size_t)u[0] | (size_t)u[1] << 8 | (size_t)u[2] << 16 : 0;
}

size_t hist_count(const char *h)
{
	const uint8_t *u = (const uint8_t *)h;

	return h ? u[4] : 0;
}

char *hist_dup(const char *h)
{
	char *c = h ? malloc(hist_size(h)) : NULL;

	if (c)
		memcpy(c, h, hist_size(h));
	return c;
}

char *hist_empty(void)
{
	char *out = NULL;
	json_t *arr = json_array();

	if (arr && hist_encode(arr, &out))
		out = NULL;
	json_decref(arr);
	return out;
}

struct reader {
	const uint8_t *p, *end;
	bool bad;
};

static uint64_t get_varint(struct reader *r)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (r->p == r->end)
			break;
		v |= (uint64_t)(*r->p & 0x7f) << shift;
		if (!(*r->p++ & 0x80))
			return v;
	}
	r->bad = true;
	return 0;
}

static json_t *get_str(struct reader *r)
{
	uint64_t len = get_varint(r);
	json_t *s;

	if (r->bad || len > (uint64_t)(r->end - r->p)) {
		r->bad = true;
		return NULL;
	}
	s = json_stringn((const char *)r->p, (size_t)len);
	r->p += len;
	return s;
}

/* One entry at r; NULL when out of memory or the encoding is broken. */
static json_t *decode_entry(struct reader *r)
{
	uint8_t tag = *r->p++;
	uint64_t uid = get_varint(r), ms = get_varint(r);
	unsigned ev = tag & TAG_EVENT;
	json_t *e = json_object();
	char at[40];
	bool ok;

	if (r->bad || !e || (ev != TAG_LITERAL && (ev < 1 || ev > N_EVENTS)) ||
	    ms > (uint64_t)INT64_MAX / NS_PER_MS) {
		json_decref(e);
		return NULL;
	}
	ok = !json_object_set_new(e, "event",
				  ev == TAG_LITERAL ? get_str(r) : json_string(events[ev - 1])) &&
	     !json_object_set_new(e, "uid", json_integer((json_int_t)uid)) &&
	     !json_object_set_new(
		     e, "at",
		     json_string(util_format_time((int64_t)ms * NS_PER_MS, at, sizeof(at))));
	if (ok && (tag & TAG_USER))
		ok = !json_object_set_new(e, "user", get_str(r));
	if (ok && (tag & TAG_REASON))
		ok = !json_object_set_new(e, "reason", get_str(r));
	if (ok && (tag & TAG_VERDICT))
		ok = !json_object_set_new(e, "verdict", get_str(r));
	if (!ok || r->bad) {
		json_decref(e);
		return NULL;
	}
	return e;
}

json_t *hist_decode(const char *h)
{
	size_t n = hist_size(h);
	struct reader r;
	json_t *arr;

	if (!h)
		return json_array();
	if (n < HIST_HEAD)
		return NULL;
	if (h[3] == HIST_TEXT)
		return json_loads(h + HIST_HEAD, JSON_ALLOW_NUL, NULL);
	r = (struct reader){.p = (const uint8_t *)h + HIST_HEAD, .end = (const uint8_t *)h + n};
	arr = json_array();
	while (arr && r.p < r.end) {
		json_t *e = decode_entry(&r);

		if (!e || json_array_append_new(arr, e)) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}
