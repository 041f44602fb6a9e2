// SPDX-License-Identifier: GPL-2.0-only
/*
 * The quick JSON reader (json_quick.h). A recursive descent over the bytes, each value
 * built with jansson's own constructors (the _nocheck ones: every string it takes is
 * ASCII without NUL). It never decides that input is wrong: anything it does not take is
 * NULL, and jansson reads the same bytes.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_quick.h"

#define JQ_MAX_DEPTH  64
#define JQ_MAX_DIGITS 19
#define JQ_KEY_STACK  256

struct jq {
	const char *t;
	size_t n, i;
};

static json_t *parse_value(struct jq *q, int depth);

static void skip_space(struct jq *q)
{
	q->i = jq_space(q->t, q->n, q->i);
}

/* The string at t[i] (its opening quote): its bytes t[*s, *s + *len) and, in *esc, whether
 * it has escapes (short ones only). false: not one jq reads. */
static bool scan_string(struct jq *q, size_t *s, size_t *len, bool *esc)
{
	size_t i = q->i + 1;

	*esc = false;
	for (; i < q->n; i++) {
		unsigned char c = (unsigned char)q->t[i];

		if (c == '"')
			break;
		if (c < 0x20 || c > 0x7f)
			return false; /* control bytes (refused) and UTF-8 (checked) are jansson's
				       */
		if (c == '\\') {
			if (++i >= q->n || !q->t[i] || !strchr("\"\\/bfnrt", q->t[i]))
				return false; /* \u, or an escape JSON has not */
			*esc = true;
		}
	}
	if (i >= q->n)
		return false;
	*s = q->i + 1;
	*len = i - *s;
	q->i = i + 1;
	return true;
}

/* The len bytes at src, escapes replaced, into dst (room for len); the bytes written. */
static size_t unescape(const char *src, size_t len, char *dst)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	size_t o = 0;

	for (size_t i = 0; i < len; i++)
		dst[o++] = src[i] == '\\' ? to[strchr(from, src[++i]) - from] : src[i];
	return o;
}

static json_t *parse_string(struct jq *q)
{
	size_t s, len;
	bool esc;
	char *buf;
	json_t *v;

	if (!scan_string(q, &s, &len, &esc))
		return NULL;
	if (!esc)
		return json_stringn_nocheck(q->t + s, len);
	buf = malloc(len + 1);
	v = buf ? json_stringn_nocheck(buf, unescape(q->t + s, len, buf)) : NULL;
	free(buf);
	return v;
}

/* -?(0|[1-9][0-9]*) of at most 19 digits, in json_int_t's range, not followed by a
 * fraction, an exponent or another digit: a json_integer (jansson: strtoll, ERANGE refused). */
static json_t *parse_number(struct jq *q)
{
	size_t i = q->i, digits = 0;
	bool neg = i < q->n && q->t[i] == '-';
	uint64_t v = 0; /* 19 digits: below 10^19 < 2^64 */

	i += neg;
	if (i < q->n && q->t[i] == '0') {
		i++;
		digits = 1;
	} else {
		for (; i < q->n && q->t[i] >= '0' && q->t[i] <= '9' && digits < 20; i++, digits++)
			v = v * 10 + (uint64_t)(q->t[i] - '0');
	}
	if (!digits || digits > JQ_MAX_DIGITS || v > (uint64_t)INT64_MAX + neg ||
	    (i < q->n && (strchr(".eE", q->t[i]) || (q->t[i] >= '0' && q->t[i] <= '9'))))
		return NULL; /* "-", 01, a real, out of range: jansson's */
	q->i = i;
	return json_integer(neg ? (json_int_t)(0 - v) : (json_int_t)v);
}

static json_t *parse_literal(struct jq *q)
{
	static const char *const words[] = {"true", "false", "null"};

	for (int w = 0; w < 3; w++) {
		size_t len = strlen(words[w]);

		if (q->n - q->i >= len && !memcmp(q->t + q->i, words[w], len)) {
			char next = q->n - q->i > len ? q->t[q->i + len] : ' ';

			if ((next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z'))
				return NULL; /* "truex": one token for jansson */
			q->i += len;
			return w == 0 ? json_true() : w == 1 ? json_false() : json_null();
		}
	}
	return NULL;
}

/* One "key": value of an object into o; q at the key's quote. */
static bool parse_member(struct jq *q, json_t *o, int depth)
{
	char stack[JQ_KEY_STACK], *key;
	size_t s, len;
	bool esc, ok = false;
	json_t *v;

	if (q->i >= q->n || q->t[q->i] != '"' || !scan_string(q, &s, &len, &esc))
		return false;
	key = (char *)q->t + s;
	if (esc) {
		key = len < sizeof(stack) ? stack : malloc(len);
		if (!key)
			return false;
		len = unescape(q->t + s, len, key);
	}
	skip_space(q);
	if (q->i < q->n && q->t[q->i] == ':' && !json_object_getn(o, key, len)) {
		q->i++;
		skip_space(q);
		v = parse_value(q, depth);
		/* setn copies the key; it takes v even when it fails */
		ok = v && !json_object_setn_new_nocheck(o, key, len, v);
	}
	if (key != stack && key != q->t + s)
		free(key);
	return ok;
}

/* An object or an array (open is its first byte), q at that byte. */
static json_t *parse_container(struct jq *q, int depth, char open)
{
	char close = open == '{' ? '}' : ']';
	json_t *c = open == '{' ? json_object() : json_array();

	if (!c || depth >= JQ_MAX_DEPTH)
		goto fail;
	q->i++;
	skip_space(q);
	if (q->i < q->n && q->t[q->i] == close) {
		q->i++;
		return c;
	}
	for (;;) {
		if (open == '{') {
			if (!parse_member(q, c, depth + 1))
				goto fail;
		} else {
			json_t *v = parse_value(q, depth + 1);

			if (!v || json_array_append_new(c, v))
				goto fail;
		}
		skip_space(q);
		if (q->i >= q->n || (q->t[q->i] != ',' && q->t[q->i] != close))
			goto fail;
		if (q->t[q->i++] == close)
			return c;
		skip_space(q);
	}
fail:
	json_decref(c);
	return NULL;
}

static json_t *parse_value(struct jq *q, int depth)
{
	char c;

	if (q->i >= q->n)
		return NULL;
	c = q->t[q->i];
	if (c == '{' || c == '[')
		return parse_container(q, depth, c);
	if (c == '"')
		return parse_string(q);
	if (c == '-' || (c >= '0' && c <= '9'))
		return parse_number(q);
	return parse_literal(q);
}

json_t *jq_value(const char *t, size_t n, size_t *end)
{
	struct jq q = {.t = t, .n = n, .i = 0};
	json_t *v = parse_value(&q, 0);

	if (v)
		*end = q.i;
	return v;
}

size_t jq_space(const char *t, size_t n, size_t i)
{
	while (i < n && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
		i++;
	return i;
}

/* One past the closing quote of the string whose opening quote is t[i], or 0 if it is cut
 * short: the next quote not escaped (after an even run of backslashes), found by memchr. */
static size_t string_end(const char *t, size_t n, size_t i)
{
	size_t from = i + 1;

	for (;;) {
		const char *q = from < n ? memchr(t + from, '"', n - from) : NULL;
		size_t at, k = 0;

		if (!q)
			return 0;
		at = (size_t)(q - t);
		while (at - k > i + 1 && t[at - k - 1] == '\\')
			k++;
		if (!(k & 1))
			return at + 1;
		from = at + 1;
	}
}

size_t jq_end(const char *t, size_t n, size_t i)
{
	size_t depth = 0;

	do {
		if (i >= n)
			return 0;
		if (t[i] == '"') {
			i = string_end(t, n, i);
			if (!i)
				return 0;
		} else if (t[i] == '{' || t[i] == '[') {
			depth++;
			i++;
		} else if (t[i] == '}' || t[i] == ']') {
			if (!depth)
				return 0;
			depth--;
			i++;
		} else if (depth) {
			i++;
		} else { /* a scalar: to the next delimiter */
			while (i < n && !strchr(",}] \t\r\n", t[i]))
				i++;
			return i;
		}
	} while (depth);
	return i;
}
