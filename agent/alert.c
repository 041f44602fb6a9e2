// SPDX-License-Identifier: GPL-2.0-only
/*
 * Alerts (README, "Alerts"): a burst of denials by one subject, repeated refused requests,
 * a request outside the policy's hours, a break-glass use, and a tamper attempt the kernel
 * denied, each written as one audit record "alert" (OCSF Detection Finding 2004).
 *
 * Counts are kept per subject (the login uid, else the uid) in a table of ALERT_SUBJECTS
 * slots: a subject hashes to 8 neighbouring slots and takes an empty one, or the least
 * recently seen of them (its counts are lost): memory never grows. A counted kind uses a
 * two-bucket sliding window (this bucket + the previous one scaled by what is left of it)
 * and fires at >= count. Rate limits: one alert per (kind, subject) per "quiet", the held
 * back ones counted into the next ("suppressed"), and a global bucket of "max_per_hour".
 * Pure logic on the time it is given (host-testable); records go to audit_agent_event.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "core.h"
#include "util.h"

#define PROBE 8

static const char *const kind_names[ALERT_KINDS] = {"denial_burst", "refused_requests",
						    "off_hours_request", "break_glass", "tamper"};
static const int kind_severity[ALERT_KINDS] = {4, 3, 3, 4, 5};

/* Printable ASCII only: comm and truncated messages may hold anything (jansson wants UTF-8). */
static void ascii(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

const char *alert_kind_name(enum alert_kind k)
{
	return k < ALERT_KINDS ? kind_names[k] : "unknown";
}

static const struct policy_alerts *config(const struct agent *a, struct policy_alerts *def)
{
	if (a->policy && a->policy->has_alerts)
		return &a->policy->alerts;
	policy_alerts_default(def);
	return def;
}

/* The slot of uid, made (or taken from the least recently seen neighbour) when absent;
 * NULL only when the table cannot be allocated. */
static struct alert_subject *subject(struct alert_state *st, uint32_t uid)
{
	size_t h = (size_t)((uid * 0x9e3779b97f4a7c15ULL) >> 40) % ALERT_SUBJECTS;
	struct alert_subject *old = NULL;

	if (!st->subjects && !(st->subjects = calloc(ALERT_SUBJECTS, sizeof(*st->subjects))))
		return NULL;
	st->tick++;
	for (size_t i = 0; i < PROBE; i++) {
		struct alert_subject *s = &st->subjects[(h + i) % ALERT_SUBJECTS];

		if (s->seen && s->uid == uid) {
			s->seen = st->tick;
			return s;
		}
		if (!old || (old->seen && s->seen < old->seen))
			old = s;
	}
	if (old->seen)
		st->evicted++;
	memset(old, 0, sizeof(*old));
	old->uid = uid;
	old->seen = st->tick;
	return old;
}

/* Add one event at now; the sliding-window estimate of the events within per_s. */
static double window_add(struct alert_window *w, int64_t per_s, int64_t now)
{
	int64_t per = per_s * NS_PER_S;

	if (!w->start_ns || now - w->start_ns >= 2 * per || now < w->start_ns) {
		*w = (struct alert_window){.start_ns = now};
	} else if (now - w->start_ns >= per) {
		w->prev = w->cur;
		w->cur = 0;
		w->start_ns += per;
	}
	if (!w->cur && !w->prev)
		w->first_ns = now;
	w->cur++;
	w->last_ns = now;
	return w->cur + w->prev * (1.0 - (double)(now - w->start_ns) / (double)per);
}

/* One token of max_per_hour, refilled continuously. */
static bool take_token(struct alert_state *st, uint32_t per_hour, int64_t now)
{
	if (!st->tokens_set || now < st->tokens_at) {
		st->tokens = per_hour;
		st->tokens_set = true;
	} else {
		st->tokens += (double)(now - st->tokens_at) / (3600.0 * NS_PER_S) * per_hour;
		if (st->tokens > per_hour)
			st->tokens = per_hour;
	}
	st->tokens_at = now;
	if (st->tokens < 1.0)
		return false;
	st->tokens -= 1.0;
	return true;
}

static json_t *subject_json(uint32_t uid)
{
	struct passwd pw, *res = NULL;
	char buf[2048];
	json_t *o = json_pack("{s:I}", "uid", (json_int_t)uid);

	if (!getpwuid_r(uid, &pw, buf, sizeof(buf), &res) && res)
		json_object_set_new(o, "user", json_string(pw.pw_name));
	return o;
}

/*
 * Raise kind for s unless rate-limited; al (taken) holds the kind's own fields, title
 * and desc. Quiet per (kind, subject), then the global bucket; a held-back alert is
 * counted and carried into the next one raised. A break-glass alert is never held back:
 * each is a grant without approval (bounded by the rule), and a harmless first one must
 * not hide the next (nor may other users' alerts empty the bucket before it).
 */
static void raise_alert(struct agent *a, enum alert_kind kind, struct alert_subject *s, json_t *al,
			int64_t now)
{
	struct policy_alerts def;
	const struct policy_alerts *cfg = config(a, &def);
	struct alert_state *st = &a->alert;
	char tbuf[40];

	if (kind != ALERT_BREAK_GLASS &&
	    (now < s->quiet_until[kind] || !take_token(st, cfg->max_per_hour, now))) {
		s->held[kind]++;
		st->suppressed[kind]++;
		json_decref(al);
		return;
	}
	s->quiet_until[kind] = now + cfg->quiet_s * NS_PER_S;
	json_object_set_new(al, "kind", json_string(kind_names[kind]));
	json_object_set_new(al, "severity_id", json_integer(kind_severity[kind]));
	json_object_set_new(al, "subject", subject_json(s->uid));
	json_object_set_new(al, "suppressed", json_integer(s->held[kind]));
	if (!json_object_get(al, "last_seen"))
		json_object_set_new(al, "last_seen",
				    json_string(util_format_time(now, tbuf, sizeof(tbuf))));
	s->held[kind] = 0;
	st->raised[kind]++;
	audit_agent_event("alert", json_pack("{s:o}", "alert", al));
}

/* "count", "threshold", "window_s", "first_seen", "last_seen" of a counted kind. */
static json_t *window_fields(const struct alert_window *w, double est,
			     const struct policy_alert_window *cfg)
{
	char f[40], l[40];

	return json_pack("{s:I,s:I,s:I,s:s,s:s}", "count", (json_int_t)(est + 0.5), "threshold",
			 (json_int_t)cfg->count, "window_s", (json_int_t)cfg->per_s, "first_seen",
			 util_format_time(w->first_ns, f, sizeof(f)), "last_seen",
			 util_format_time(w->last_ns, l, sizeof(l)));
}

static json_t *evidence(const struct alert_subject *s)
{
	json_t *arr = json_array();
	unsigned n = s->n_ev < ALERT_EVIDENCE ? s->n_ev : ALERT_EVIDENCE;

	for (unsigned i = 0; i < n; i++)
		json_array_append_new(arr, json_string(s->ev[(s->n_ev - n + i) % ALERT_EVIDENCE]));
	return arr;
}

static const char *resource_of(const struct agent *a, uint32_t id, char *buf, size_t len)
{
	if (id == JITD_RES_GUARD)
		return "(jitd guard)";
	if (id == JITD_RES_SELF)
		return "(jitd)";
	for (size_t i = 0; a->policy && i < a->policy->n_resources; i++)
		if (a->policy->resources[i].id == id)
			return a->policy->resources[i].name;
	snprintf(buf, len, "#%u", id);
	return buf;
}

/* Tamper: jitd's own objects (bpf, signals, unmounts, its files), or a login uid change. */
static bool is_tamper(const struct jitd_event *e)
{
	return e->resource == JITD_RES_SELF ||
	       (e->resource == JITD_RES_GUARD && e->op == JITD_OP_LOGINUID);
}

void alert_decision(struct agent *a, const struct jitd_event *e, int64_t now)
{
	struct policy_alerts def;
	const struct policy_alerts *cfg;
	struct alert_subject *s;
	char rbuf[16], comm[JITD_COMM_LEN + 1], what[ALERT_EV_LEN];
	const char *res, *op;
	double est;

	if (e->decision == JITD_ALLOW || e->resource == JITD_RES_SELFTEST)
		return;
	cfg = config(a, &def);
	if (!(cfg->tamper && is_tamper(e)) && !cfg->denials.count)
		return;
	if (!(s = subject(&a->alert, e->subject_uid)))
		return;
	memcpy(comm, e->comm, JITD_COMM_LEN);
	comm[JITD_COMM_LEN] = 0;
	ascii(comm);
	res = resource_of(a, e->resource, rbuf, sizeof(rbuf));
	op = audit_op_name(e->op);
	snprintf(what, sizeof(what), "%s %s denied to pid %u (%s)", op, res, e->pid, comm);
	if (cfg->tamper && is_tamper(e))
		raise_alert(a, ALERT_TAMPER, s,
			    json_pack("{s:s,s:s,s:I,s:s,s:s,s:[s]}", "resource", res, "op", op,
				      "pid", (json_int_t)e->pid, "title", "Tamper attempt on jitd",
				      "desc", what, "evidence", what),
			    now);
	if (!cfg->denials.count)
		return;
	est = window_add(&s->win[0], cfg->denials.per_s, now);
	if (est < cfg->denials.count)
		return;
	json_t *al = window_fields(&s->win[0], est, &cfg->denials);
	char desc[160];

	snprintf(desc, sizeof(desc), "%.0f denials in %llds (threshold %u); last: %s", est,
		 (long long)cfg->denials.per_s, cfg->denials.count, what);
	json_object_set_new(al, "resource", json_string(res));
	json_object_set_new(al, "op", json_string(op));
	json_object_set_new(al, "title", json_string("Burst of denials"));
	json_object_set_new(al, "desc", json_string(desc));
	raise_alert(a, ALERT_DENIAL_BURST, s, al, now);
}

static json_t *names_json(const char *const *res, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(res[i]));
	return arr;
}

static void off_hours(struct agent *a, const struct policy_alerts *cfg, struct alert_subject *s,
		      const char *const *res, size_t n, int64_t now)
{
	time_t t = (time_t)(now / NS_PER_S);
	char desc[160];
	struct tm tm;

	if (!localtime_r(&t, &tm) ||
	    policy_alerts_in_hours(cfg, tm.tm_wday, tm.tm_hour * 60 + tm.tm_min))
		return;
	snprintf(desc, sizeof(desc),
		 "a request at %02d:%02d local time, outside %02u:%02u-%02u:%02u", tm.tm_hour,
		 tm.tm_min, cfg->from_min / 60, cfg->from_min % 60, cfg->to_min / 60,
		 cfg->to_min % 60);
	raise_alert(a, ALERT_OFF_HOURS, s,
		    json_pack("{s:o,s:s,s:s}", "resources", names_json(res, n), "title",
			      "Request outside configured hours", "desc", desc),
		    now);
}

void alert_request(struct agent *a, uid_t uid, const char *const *res, size_t n,
		   const char *refusal, int64_t now)
{
	struct policy_alerts def;
	const struct policy_alerts *cfg = config(a, &def);
	struct alert_subject *s;
	char desc[160];
	double est;

	if (!cfg->hours && !(refusal && cfg->refused_requests.count))
		return;
	if (!(s = subject(&a->alert, (uint32_t)uid)))
		return;
	if (cfg->hours)
		off_hours(a, cfg, s, res, n, now);
	if (!refusal || !cfg->refused_requests.count)
		return;
	snprintf(s->ev[s->n_ev++ % ALERT_EVIDENCE], ALERT_EV_LEN, "%s", refusal);
	ascii(s->ev[(s->n_ev - 1) % ALERT_EVIDENCE]);
	est = window_add(&s->win[1], cfg->refused_requests.per_s, now);
	if (est < cfg->refused_requests.count)
		return;
	json_t *al = window_fields(&s->win[1], est, &cfg->refused_requests);

	snprintf(desc, sizeof(desc), "%.0f refused requests in %llds (threshold %u)", est,
		 (long long)cfg->refused_requests.per_s, cfg->refused_requests.count);
	json_object_set_new(al, "resources", names_json(res, n));
	json_object_set_new(al, "evidence", evidence(s));
	json_object_set_new(al, "title", json_string("Repeated refused requests"));
	json_object_set_new(al, "desc", json_string(desc));
	raise_alert(a, ALERT_REFUSED_REQUESTS, s, al, now);
}

void alert_break_glass(struct agent *a, const struct grant *g, int64_t now)
{
	struct policy_alerts def;
	const struct policy_alerts *cfg = config(a, &def);
	uint32_t uid = g->has_uid ? g->uid : g->requester_uid;
	const char *res[GRANT_MAX_RES];
	struct alert_subject *s;
	char desc[160];

	if (!cfg->break_glass || !(s = subject(&a->alert, uid)))
		return;
	for (unsigned i = 0; i < g->n_res && i < GRANT_MAX_RES; i++)
		res[i] = g->res[i];
	snprintf(desc, sizeof(desc), "break-glass grant %llu of %s without approval: %.80s",
		 (unsigned long long)g->id, g->n_res ? g->res[0] : "?", g->reason ?: "");
	ascii(desc);
	raise_alert(a, ALERT_BREAK_GLASS, s,
		    json_pack("{s:I,s:o,s:s,s:s}", "grant_id", (json_int_t)g->id, "resources",
			      names_json(res, g->n_res), "title", "Break-glass access", "desc",
			      desc),
		    now);
}

json_t *alert_status(const struct agent *a)
{
	const struct alert_state *st = &a->alert;
	json_t *by = json_object();
	uint64_t raised = 0, suppressed = 0;

	for (int k = 0; k < ALERT_KINDS; k++) {
		raised += st->raised[k];
		suppressed += st->suppressed[k];
		json_object_set_new(by, kind_names[k],
				    json_pack("{s:I,s:I}", "raised", (json_int_t)st->raised[k],
					      "suppressed", (json_int_t)st->suppressed[k]));
	}
	return json_pack("{s:I,s:I,s:I,s:o}", "raised", (json_int_t)raised, "suppressed",
			 (json_int_t)suppressed, "evicted", (json_int_t)st->evicted, "by_kind", by);
}

void alert_free(struct alert_state *st)
{
	free(st->subjects);
	memset(st, 0, sizeof(*st));
}
