// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy's "alerts" object (lib/policy.c calls it; README, "Alerts"):
 *
 *   "alerts": {"denials": {"count": 20, "per": "1m"}, "refused_requests": {"count": 5,
 *              "per": "10m"}, "hours": {"days": ["mon", ...], "from": "08:00", "to": "19:00"},
 *              "break_glass": true, "tamper": true, "quiet": "10m", "max_per_hour": 60}
 *
 * Without the key, tamper and break-glass alerts are on and nothing is counted. With it,
 * a counted kind (denials, refused_requests, hours) left out is off, while tamper and
 * break_glass stay on unless set to false: configuring a burst never silently turns the
 * alerts about jitd itself off.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policy_alerts.h"
#include "util.h"

static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

__attribute__((format(printf, 3, 4))) static int aerr(struct policy_alerts_err *e, bool at_key,
						      const char *fmt, ...)
{
	va_list ap;

	e->at_key = at_key;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static void push(struct policy_alerts_err *e, const char *key)
{
	if (e->depth < 3)
		e->key[e->depth] = key;
	e->depth++;
}

static void pop(struct policy_alerts_err *e)
{
	e->depth--;
}

void policy_alerts_default(struct policy_alerts *out)
{
	*out = (struct policy_alerts){.break_glass = true,
				      .tamper = true,
				      .quiet_s = ALERTS_QUIET_S,
				      .max_per_hour = ALERTS_MAX_PER_H};
}

/* A duration "90s", "10m", "1h" (or seconds) in [min_s, max_s]. */
static int alert_duration(struct policy_alerts_err *e, const json_t *v, int64_t min_s,
			  int64_t max_s, int64_t *out)
{
	int64_t s = 0;

	if (json_is_integer(v))
		s = json_integer_value(v);
	else if (!json_is_string(v) || util_parse_duration(json_string_value(v), &s))
		return aerr(e, false, "expected a duration like \"10m\" or \"1h\"");
	if (s < min_s || s > max_s)
		return aerr(e, false, "duration %llds out of range (expected %llds to %llds)",
			    (long long)s, (long long)min_s, (long long)max_s);
	*out = s;
	return 0;
}

static int check_keys(struct policy_alerts_err *e, const json_t *o, const char *const *allowed,
		      const char *list)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)o, key, v) {
		size_t i;

		for (i = 0; allowed[i] && strcmp(key, allowed[i]); i++)
			;
		if (allowed[i])
			continue;
		push(e, key);
		return aerr(e, true, "unknown key '%.64s' (allowed: %s)", key, list);
	}
	return 0;
}

/* {"count": N, "per": D}: N in 1..100000, D in 10s..1d. */
static int alert_window(struct policy_alerts_err *e, const json_t *o, const char *key,
			struct policy_alert_window *w)
{
	static const char *const allowed[] = {"count", "per", NULL};
	const json_t *v;
	int r;

	push(e, key);
	if (!json_is_object(o))
		return aerr(e, false, "expected an object like {\"count\": 20, \"per\": \"1m\"}");
	if ((r = check_keys(e, o, allowed, "count, per")))
		return r;
	v = json_object_get(o, "count");
	if (!v)
		return aerr(e, false, "missing key 'count' (expected a number of events, 1 to %d)",
			    ALERTS_MAX_COUNT);
	push(e, "count");
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > ALERTS_MAX_COUNT)
		return aerr(e, false, "expected a number of events, 1 to %d", ALERTS_MAX_COUNT);
	w->count = (uint32_t)json_integer_value(v);
	pop(e);
	v = json_object_get(o, "per");
	if (!v)
		return aerr(e, false,
			    "missing key 'per' (expected a window like \"1m\", 10s to 1d)");
	push(e, "per");
	if ((r = alert_duration(e, v, 10, 86400, &w->per_s)))
		return r;
	pop(e);
	pop(e);
	return 0;
}

/* "HH:MM" into minutes after midnight; "24:00" only where end is true. */
static int hour_minute(struct policy_alerts_err *e, const json_t *v, bool end, uint16_t *out)
{
	const char *s = json_string_value(v);
	unsigned h, m;
	char tail;

	if (!s || strlen(s) != 5 || sscanf(s, "%2u:%2u%c", &h, &m, &tail) != 2 || s[2] != ':' ||
	    m > 59 || h > 24 || (h == 24 && (m || !end)))
		return aerr(e, false, "expected a time of day \"HH:MM\" (00:00 to 23:59%s)",
			    end ? ", or 24:00" : "");
	*out = (uint16_t)(h * 60 + m);
	return 0;
}

static int hours_days(struct policy_alerts_err *e, const json_t *v, uint8_t *days)
{
	size_t i;
	json_t *d;

	push(e, "days");
	if (!json_is_array(v) || !json_array_size(v))
		return aerr(e, false, "expected a non-empty array of days like [\"mon\", \"fri\"]");
	json_array_foreach(v, i, d) {
		size_t k;

		for (k = 0;
		     k < 7 && !(json_is_string(d) && !strcmp(json_string_value(d), day_names[k]));
		     k++)
			;
		if (k == 7)
			return aerr(e, false,
				    "day %zu: expected one of sun, mon, tue, wed, thu, "
				    "fri, sat",
				    i);
		*days |= 1u << k;
	}
	pop(e);
	return 0;
}

/* {"days": [...], "from": "08:00", "to": "19:00"}; days default to every day. */
static int alert_hours(struct policy_alerts_err *e, const json_t *o, struct policy_alerts *a)
{
	static const char *const allowed[] = {"days", "from", "to", NULL};
	const json_t *v;
	int r;

	push(e, "hours");
	if (!json_is_object(o))
		return aerr(e, false,
			    "expected an object like {\"days\": [\"mon\"], \"from\": "
			    "\"08:00\", \"to\": \"19:00\"}");
	if ((r = check_keys(e, o, allowed, "days, from, to")))
		return r;
	a->days = 0x7f;
	if ((v = json_object_get(o, "days"))) {
		a->days = 0;
		if ((r = hours_days(e, v, &a->days)))
			return r;
	}
	if (!(v = json_object_get(o, "from")))
		return aerr(e, false, "missing key 'from' (expected \"HH:MM\")");
	push(e, "from");
	if ((r = hour_minute(e, v, false, &a->from_min)))
		return r;
	pop(e);
	if (!(v = json_object_get(o, "to")))
		return aerr(e, false, "missing key 'to' (expected \"HH:MM\")");
	push(e, "to");
	if ((r = hour_minute(e, v, true, &a->to_min)))
		return r;
	if (a->to_min == a->from_min)
		return aerr(e, false,
			    "equal to \"from\" (expected a span; 00:00 to 24:00 is the "
			    "whole day)");
	pop(e);
	pop(e);
	a->hours = true;
	return 0;
}

static int alert_bool(struct policy_alerts_err *e, const json_t *o, const char *key, bool *out)
{
	const json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	push(e, key);
	if (!json_is_boolean(v))
		return aerr(e, false, "expected true or false");
	pop(e);
	*out = json_is_true(v);
	return 0;
}

static int alert_limits(struct policy_alerts_err *e, const json_t *o, struct policy_alerts *a)
{
	const json_t *v;
	int r;

	if ((v = json_object_get(o, "quiet"))) {
		push(e, "quiet");
		if ((r = alert_duration(e, v, 1, 86400, &a->quiet_s)))
			return r;
		pop(e);
	}
	if ((v = json_object_get(o, "max_per_hour"))) {
		push(e, "max_per_hour");
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > ALERTS_MAX_PER_H_MAX)
			return aerr(e, false, "expected a number of alerts, 1 to %d",
				    ALERTS_MAX_PER_H_MAX);
		a->max_per_hour = (uint32_t)json_integer_value(v);
		pop(e);
	}
	return 0;
}

int policy_alerts_parse(const json_t *v, struct policy_alerts *out, struct policy_alerts_err *e)
{
	static const char *const allowed[] = {
		"denials", "refused_requests", "hours", "break_glass", "tamper",
		"quiet",   "max_per_hour",     NULL};
	struct policy_alerts a;
	const json_t *o;
	int r;

	memset(e, 0, sizeof(*e));
	policy_alerts_default(&a);
	if (!json_is_object(v))
		return aerr(e, false,
			    "expected an object like {\"denials\": {\"count\": 20, "
			    "\"per\": \"1m\"}}");
	if ((r = check_keys(e, v, allowed,
			    "denials, refused_requests, hours, break_glass, tamper, quiet, "
			    "max_per_hour")))
		return r;
	if ((o = json_object_get(v, "denials")) && (r = alert_window(e, o, "denials", &a.denials)))
		return r;
	if ((o = json_object_get(v, "refused_requests")) &&
	    (r = alert_window(e, o, "refused_requests", &a.refused_requests)))
		return r;
	if ((o = json_object_get(v, "hours")) && (r = alert_hours(e, o, &a)))
		return r;
	if ((r = alert_bool(e, v, "break_glass", &a.break_glass)) ||
	    (r = alert_bool(e, v, "tamper", &a.tamper)) || (r = alert_limits(e, v, &a)))
		return r;
	*out = a;
	return 0;
}

bool policy_alerts_in_hours(const struct policy_alerts *a, int wday, int minute)
{
	int yday = (wday + 6) % 7;

	if (a->from_min < a->to_min)
		return (a->days & (1u << wday)) && minute >= a->from_min && minute < a->to_min;
	/* across midnight: the evening part is today's, the morning part yesterday's */
	if (minute >= a->from_min)
		return a->days & (1u << wday);
	return minute < a->to_min && (a->days & (1u << yday));
}
