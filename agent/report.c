// SPDX-License-Identifier: GPL-2.0-only
/*
 * The `report` verb, for access reviews: the grants held at some time in a window (from
 * the store: ended grants with the usage saved at their end, active ones read from the
 * kernel now), how long each was held and how often used, the never-used ones marked, and
 * a sum per subject. The store keeps GRANT_KEEP_ENDED ended grants: "complete" says
 * whether older ones inside the window may have been dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core.h"
#include "report.h"
#include "usage.h"
#include "util.h"

#define REPORT_DEFAULT_S (30 * 86400)

static void put_time(json_t *o, const char *key, int64_t ns)
{
	char buf[40];

	json_object_set_new(o, key, json_string(util_format_time(ns, buf, sizeof(buf))));
}

/* When g stopped being held: its end, its expiry if that came first, or now. */
static int64_t held_until(const struct grant *g, int64_t now)
{
	int64_t end = g->state == GRANT_ACTIVE ? now : (g->ended_ns ?: g->expires_ns);

	if (g->expires_ns && g->expires_ns < end)
		end = g->expires_ns;
	return end < now ? end : now;
}

/* Was g held at some time in [since, now]? (Never held: pending, denied, withdrawn.) */
static bool held_in(const struct grant *g, int64_t since, int64_t now)
{
	if (g->state == GRANT_PENDING || g->state == GRANT_DENIED || !g->starts_ns)
		return false;
	return g->starts_ns <= now && held_until(g, now) >= since &&
	       held_until(g, now) > g->starts_ns;
}

static json_t *grant_row(const struct grant *g, int64_t now)
{
	json_t *o = grant_to_json(g);
	int64_t end = held_until(g, now);

	json_object_del(o, "history");
	json_object_del(o, "approvers");
	json_object_set_new(o, "held_s", json_integer((end - g->starts_ns) / NS_PER_S));
	json_object_set_new(o, "uses", json_integer((json_int_t)g->uses));
	if (g->first_use_ns)
		put_time(o, "first_use", g->first_use_ns);
	if (g->last_use_ns)
		put_time(o, "last_use", g->last_use_ns);
	json_object_set_new(o, "never_used", json_boolean(!g->uses));
	return o;
}

/* Add row's numbers to its subject's sum in by (found by its "subject" object). */
static void sum_row(json_t *by, const json_t *row)
{
	json_t *subj = json_object_get(row, "subject"), *s = NULL, *res;
	size_t i;

	json_array_foreach(by, i, s)
		if (json_equal(json_object_get(s, "subject"), subj))
			break;
	if (i == json_array_size(by)) {
		s = json_pack("{s:O,s:[],s:i,s:i,s:i,s:i}", "subject", subj, "resources", "grants",
			      0, "held_s", 0, "uses", 0, "never_used", 0);
		if (!s || json_array_append_new(by, s))
			return;
	}
	json_array_foreach(json_object_get(row, "resources"), i, res) {
		json_t *have = json_object_get(s, "resources"), *r;
		size_t j;
		bool seen = false;

		json_array_foreach(have, j, r)
			seen = seen || json_equal(r, res);
		if (!seen)
			json_array_append(have, res);
	}
#define ADD(key, v)                                                                                \
	json_object_set_new(s, key, json_integer(json_integer_value(json_object_get(s, key)) + (v)))
	ADD("grants", 1);
	ADD("held_s", json_integer_value(json_object_get(row, "held_s")));
	ADD("uses", json_integer_value(json_object_get(row, "uses")));
	ADD("never_used", json_is_true(json_object_get(row, "never_used")));
#undef ADD
}

/* "since": a duration back from now ("30d") or an RFC 3339 time; absent: 30 days. */
static int report_since(json_t *req, int64_t now, int64_t *since)
{
	json_t *v = json_object_get(req, "since");
	int64_t d;

	*since = now - REPORT_DEFAULT_S * NS_PER_S;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return -EINVAL;
	if (!util_parse_duration(json_string_value(v), &d) && d > 0 && d <= 3660LL * 86400) {
		*since = now - d * NS_PER_S;
		return 0;
	}
	if (util_parse_time(json_string_value(v), since) || *since > now)
		return -EINVAL;
	return 0;
}

json_t *report_build(struct agent *a, json_t *req, char *err, size_t errlen)
{
	int64_t now = util_now_ns(CLOCK_REALTIME), since, oldest = 0;
	bool unused = json_is_true(json_object_get(req, "unused"));
	json_t *grants = json_array(), *by = json_array(), *rep;
	size_t ended = 0;

	if (report_since(req, now, &since)) {
		json_decref(grants);
		json_decref(by);
		snprintf(err, errlen,
			 "'since' is a duration back from now (30d, 12h) or an RFC 3339 "
			 "time in the past");
		return NULL;
	}
	usage_refresh(a);
	for (size_t i = 0; i < a->grants.n; i++) {
		const struct grant *g = &a->grants.v[i];
		json_t *row;

		if (g->state != GRANT_ACTIVE && g->state != GRANT_PENDING) {
			ended++;
			if (g->ended_ns && (!oldest || g->ended_ns < oldest))
				oldest = g->ended_ns;
		}
		if (!held_in(g, since, now) || (unused && g->uses))
			continue;
		row = grant_row(g, now);
		sum_row(by, row);
		json_array_append_new(grants, row);
	}
	rep = json_object();
	put_time(rep, "since", since);
	put_time(rep, "until", now);
	/* a full store of ended grants may have dropped older ones inside the window */
	json_object_set_new(rep, "complete",
			    json_boolean(ended < GRANT_KEEP_ENDED || !oldest || oldest <= since));
	if (oldest)
		put_time(rep, "oldest_kept", oldest);
	json_object_set_new(rep, "grants", grants);
	json_object_set_new(rep, "by_subject", by);
	return rep;
}
