// SPDX-License-Identifier: GPL-2.0-only
/*
 * The verbs of the control protocol (docs/protocol.md): one function per op, each deciding
 * who may run it and validating every field before anything changes. A request line comes
 * from the transport (ctl.c) with the peer it established; the kernel, cgroups and timers
 * are reached through a->ops only, so the verbs run on the host under a fuzzer
 * (tests/fuzz/fuzz_ctl.c).
 */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "apply.h"
#include "core.h"
#include "history.h"
#include "fleet.h"
#include "alert.h"
#include "audit.h"
#include "explain.h"
#include "log.h"
#include "report.h"
#include "usage.h"
#include "util.h"
#include "verbs.h"

static uint64_t now_usec(void)
{
	return util_now_ns(CLOCK_MONOTONIC) / 1000;
}

/*
 * Make s valid UTF-8 in place: a sequence cut at the end (by a bound on the message or a
 * "%.64s") is dropped, any other invalid byte becomes '?'. Jansson refuses invalid strings,
 * and an error reply that cannot be built would say nothing useful.
 */
static void utf8_repair(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		unsigned n = *p < 0x80		   ? 0
			     : (*p & 0xe0) == 0xc0 ? 1
			     : (*p & 0xf0) == 0xe0 ? 2
			     : (*p & 0xf8) == 0xf0 ? 3
						   : 4;
		unsigned i;

		if (n == 4) {
			*p++ = '?';
			continue;
		}
		for (i = 1; i <= n && (p[i] & 0xc0) == 0x80; i++)
			;
		if (i <= n && !p[i]) {
			*p = 0; /* cut at the end */
			return;
		}
		if (i <= n || (n == 1 && *p < 0xc2) || (n == 2 && *p == 0xe0 && p[1] < 0xa0) ||
		    (n == 2 && *p == 0xed && p[1] >= 0xa0) ||
		    (n == 3 && *p == 0xf0 && p[1] < 0x90) || (n == 3 && *p > 0xf4) ||
		    (n == 3 && *p == 0xf4 && p[1] >= 0x90)) {
			*p++ = '?';
			continue;
		}
		p += n + 1;
	}
}

json_t *verbs_error(const char *errno_name, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	json_t *r;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	utf8_repair(msg);
	r = json_pack("{s:b,s:s,s:s}", "ok", 0, "error", msg, "errno", errno_name);
	if (!r)
		r = json_pack("{s:b,s:s,s:s}", "ok", 0, "error", "(unprintable error)", "errno",
			      errno_name);
	return r;
}

/* The caller's reason into g (owned by g); an allocation failure fails the verb: a
 * grant is never recorded without what it was given for. */
static json_t *take_reason(struct grant *g, const char *reason)
{
	if (!reason || (g->reason = strdup(reason)))
		return NULL;
	req_grant_clear(g);
	return verbs_error("ENOMEM", "out of memory");
}

static json_t *ok_reply(const char *key, json_t *val)
{
	json_t *r = json_pack("{s:b}", "ok", 1);

	if (key)
		json_object_set_new(r, key, val);
	return r;
}

static const char *errno_name(int r)
{
	switch (-r) {
	case EPERM:
		return "EPERM";
	case ENOENT:
		return "ENOENT";
	case EINVAL:
		return "EINVAL";
	case EALREADY:
		return "EALREADY";
	case ERANGE:
		return "ERANGE";
	case ENOSPC:
		return "ENOSPC";
	case E2BIG:
		return "E2BIG";
	case ESRCH:
		return "ESRCH";
	case EDQUOT:
		return "EDQUOT";
	default:
		return "EIO";
	}
}

const char *verbs_cached_line(const struct agent *a, const json_t *reply, size_t *len)
{
	const struct verbs_cache *show_cache = &a->verbs_cache;

	if (!reply || reply != show_cache->json || !show_cache->line)
		return NULL;
	*len = show_cache->len;
	return show_cache->line;
}

/* Resources of a request: "resource" (string) or "resources" (array). 0 or an error reply. */
static json_t *get_resources(struct agent *a, json_t *req, struct grant *g)
{
	json_t *one = json_object_get(req, "resource"), *arr = json_object_get(req, "resources");
	json_t *v;
	size_t i;

	if (one && arr)
		return verbs_error("EINVAL", "give 'resource' or 'resources', not both");
	if (one) {
		arr = json_array();
		json_array_append(arr, one);
	} else if (!json_is_array(arr) || !json_array_size(arr)) {
		return verbs_error("EINVAL", "'resources' must be a non-empty array of names");
	} else {
		json_incref(arr);
	}
	if (json_array_size(arr) > GRANT_MAX_RES) {
		json_decref(arr);
		return verbs_error("E2BIG", "at most %d resources per request", GRANT_MAX_RES);
	}
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);

		if (!s || strlen(s) >= POLICY_MAX_NAME) {
			json_decref(arr);
			return verbs_error("EINVAL",
					   "resource names are strings of at most %d bytes",
					   POLICY_MAX_NAME - 1);
		}
		if (!policy_find(a->policy, s)) {
			json_t *e = verbs_error("ENOENT",
						"unknown resource '%s' (see 'jitctl policy "
						"show')",
						s);

			json_decref(arr);
			return e;
		}
		for (unsigned j = 0; j < g->n_res; j++)
			if (!strcmp(g->res[j], s)) {
				json_decref(arr);
				return verbs_error("EINVAL", "resource '%s' given twice", s);
			}
		strcpy(g->res[g->n_res++], s);
	}
	json_decref(arr);
	return NULL;
}

/*
 * The request's "reason" (NULL when absent, null or empty unless required): a string of at
 * most GRANT_MAX_REASON bytes with no NUL in it, the one rule for request, grant, exec,
 * approve and deny. NULL or an error reply.
 */
static json_t *get_reason(json_t *req, bool required, const char **reason)
{
	json_t *jr = json_object_get(req, "reason");

	if (required && !json_is_string(jr))
		return verbs_error("EINVAL", "'reason' (a string of at most %d bytes) is required",
				   GRANT_MAX_REASON);
	if (jr && !json_is_null(jr) &&
	    (!json_is_string(jr) || json_string_length(jr) > GRANT_MAX_REASON ||
	     strlen(json_string_value(jr)) != json_string_length(jr)))
		return verbs_error("EINVAL", "'reason' must be a string of at most %d bytes",
				   GRANT_MAX_REASON);
	*reason = json_string_value(jr);
	if (!required && *reason && !**reason)
		*reason = NULL;
	return NULL;
}

/* duration_s and reason of a request. NULL or an error reply. */
static json_t *get_duration_reason(json_t *req, int64_t *dur, const char **reason)
{
	json_t *jdur = json_object_get(req, "duration_s");

	if (!json_is_integer(jdur) || json_integer_value(jdur) < 1 ||
	    json_integer_value(jdur) > JITD_MAX_DURATION_S)
		return verbs_error("EINVAL", "'duration_s' must be an integer 1..%lld",
				   (long long)JITD_MAX_DURATION_S);
	*dur = json_integer_value(jdur);
	return get_reason(req, false, reason);
}

/* The grant of request field "id", or NULL with *reply set. */
static struct grant *get_grant(struct verb_peer *c, json_t *req, json_t **reply)
{
	json_t *jid = json_object_get(req, "id");
	struct grant *g;

	if (!json_is_integer(jid) || json_integer_value(jid) < 1) {
		*reply = verbs_error("EINVAL", "'id' must be a positive integer");
		return NULL;
	}
	g = grant_find(&c->a->grants, json_integer_value(jid));
	if (!g)
		*reply = verbs_error("ENOENT", "no grant or request %lld",
				     (long long)json_integer_value(jid));
	return g;
}

static json_t *grant_reply(const char *event, const struct grant *g, uid_t by)
{
	json_t *gj = grant_to_json(g);

	if (event)
		audit_agent_event(event,
				  json_pack("{s:O,s:I}", "grant", gj, "by_uid", (json_int_t)by));
	return ok_reply("grant", gj);
}

/* The user a grant is for, by name ("user") or number ("uid"), into g. NULL or an error. */
static json_t *get_user(json_t *juser, json_t *juid, struct grant *g)
{
	if (juser) {
		struct passwd pw, *res = NULL;
		char buf[4096];

		if (!json_is_string(juser))
			return verbs_error("EINVAL", "'user' must be a string");
		if (getpwnam_r(json_string_value(juser), &pw, buf, sizeof(buf), &res) || !res)
			return verbs_error("ENOENT", "unknown user '%s'", json_string_value(juser));
		g->has_uid = true;
		g->uid = pw.pw_uid;
	} else if (juid) {
		if (!json_is_integer(juid) || json_integer_value(juid) < 0 ||
		    json_integer_value(juid) >= JITD_ANY_UID)
			return verbs_error("EINVAL", "'uid' must be an integer 0..4294967294");
		g->has_uid = true;
		g->uid = json_integer_value(juid);
	}
	return NULL;
}

/* A scheduled grant's "start" (now when absent or past), at most 366 days ahead. */
static json_t *get_start(json_t *jstart, int64_t now, int64_t *start)
{
	*start = now;
	if (!jstart)
		return NULL;
	if (!json_is_string(jstart) || util_parse_time(json_string_value(jstart), start))
		return verbs_error("EINVAL", "'start' must be an RFC 3339 UTC time like "
					     "2026-12-01T02:00:00Z");
	if (*start < now)
		*start = now;
	if (*start - now > JITD_MAX_DURATION_S * NS_PER_S)
		return verbs_error("EINVAL", "'start' is more than 366 days ahead");
	return NULL;
}

/* "max_idle_s" of a grant: absent (0: no idle limit), or 60..86400. */
static json_t *get_max_idle(json_t *req, int64_t *out)
{
	json_t *v = json_object_get(req, "max_idle_s");

	*out = 0;
	if (!v)
		return NULL;
	if (!json_is_integer(v) || json_integer_value(v) < POLICY_MIN_IDLE_S ||
	    json_integer_value(v) > POLICY_MAX_IDLE_S)
		return verbs_error("EINVAL",
				   "'max_idle_s' must be an integer from %d to %d (seconds: the "
				   "grant ends once unused this long)",
				   POLICY_MIN_IDLE_S, POLICY_MAX_IDLE_S);
	*out = json_integer_value(v);
	return NULL;
}

/*
 * "from_first_use" (true) with its "latest_start" (RFC 3339, ahead of now, at most 366 days;
 * absent: 24 hours from now): the window [now, latest start + duration] bounds it, the
 * kernel starts its clock at the first use. Not with "start" nor "max_idle_s".
 */
static json_t *get_first_use(json_t *req, struct grant *g, int64_t now)
{
	json_t *f = json_object_get(req, "from_first_use"),
	       *l = json_object_get(req, "latest_start");
	int64_t by = now + 86400 * NS_PER_S;

	if ((f && !json_is_boolean(f)) || (l && !json_is_true(f)))
		return verbs_error("EINVAL", "'from_first_use' is a boolean, and 'latest_start' "
					     "comes only with it true");
	if (!json_is_true(f))
		return NULL;
	if (json_object_get(req, "start") || json_object_get(req, "max_idle_s"))
		return verbs_error("EINVAL", "'from_first_use' does not go with 'start' or "
					     "'max_idle_s'");
	if (l && (!json_is_string(l) || util_parse_time(json_string_value(l), &by)))
		return verbs_error("EINVAL", "'latest_start' must be an RFC 3339 UTC time like "
					     "2026-12-01T02:00:00Z");
	if (by <= now || by - now > JITD_MAX_DURATION_S * NS_PER_S)
		return verbs_error("EINVAL", "'latest_start' must be ahead of now, at most 366 "
					     "days");
	g->from_first_use = true;
	g->first_by_ns = by;
	g->expires_ns = by + g->duration_s * NS_PER_S;
	return NULL;
}

static json_t *do_grant(struct verb_peer *c, json_t *req)
{
	struct agent *a = c->a;
	json_t *juser = json_object_get(req, "user"), *juid = json_object_get(req, "uid");
	json_t *jcg = json_object_get(req, "cgroup"), *junit = json_object_get(req, "unit");
	json_t *jstart = json_object_get(req, "start"), *e;
	json_t *juntil = json_object_get(req, "until_unit_stops");
	char res[GRANT_MAX_RES][POLICY_MAX_NAME];
	struct grant g = {.res = res, .kind = GRANT_DIRECT, .state = GRANT_ACTIVE};
	const char *reason, *cgpath = NULL;
	char err[256], *unit_cg = NULL;
	int64_t now, dur, start;
	int r;

	if (!req_is_admin(a->policy, c->uid))
		return verbs_error("EPERM",
				   "only root and admins may grant (you are uid %u; see 'jitctl "
				   "request')",
				   c->uid);
	if ((e = get_resources(a, req, &g)) || (e = get_duration_reason(req, &dur, &reason)))
		return e;
	if (juser && juid)
		return verbs_error("EINVAL", "give 'user' or 'uid', not both");
	if (jcg && junit)
		return verbs_error("EINVAL", "give 'cgroup' or 'unit', not both");
	if (!juser && !juid && !jcg && !junit)
		return verbs_error("EINVAL",
				   "a grant needs a subject: 'user', 'uid', 'cgroup' or 'unit'");
	if (juntil && (!json_is_boolean(juntil) || (json_is_true(juntil) && !junit)))
		return verbs_error("EINVAL", "'until_unit_stops' is a boolean, true only with "
					     "'unit'");
	now = util_now_ns(CLOCK_REALTIME);
	if ((e = get_user(juser, juid, &g)) || (e = get_start(jstart, now, &start)))
		return e;
	if (junit) {
		if (!json_is_string(junit))
			return verbs_error("EINVAL", "'unit' must be a string");
		r = a->ops.unit_cgroup(a, json_string_value(junit), &unit_cg, err, sizeof(err));
		if (r)
			return verbs_error(errno_name(r), "unit '%s': %s", json_string_value(junit),
					   err);
		cgpath = unit_cg;
	} else if (jcg) {
		if (!json_is_string(jcg))
			return verbs_error("EINVAL", "'cgroup' must be a string");
		cgpath = json_string_value(jcg);
	}
	if (cgpath) {
		r = util_cgroup_id(a->cgroup_root, cgpath, &g.cgroup_id);
		if (r) {
			e = verbs_error(r == -EINVAL ? "EINVAL" : "ENOENT",
					"cgroup '%s': %s (a cgroup v2 path like /system.slice)",
					cgpath, strerror(-r));
			free(unit_cg);
			return e;
		}
		g.cgroup = unit_cg ?: strdup(cgpath);
		if (junit && !(g.unit = strdup(json_string_value(junit)))) {
			req_grant_clear(&g);
			return verbs_error("ENOMEM", "out of memory");
		}
		g.until_unit_stops = json_is_true(juntil);
	}
	g.created_ns = now;
	g.starts_ns = start;
	g.expires_ns = start + dur * NS_PER_S;
	g.duration_s = dur;
	g.by_uid = g.requester_uid = c->uid;
	if ((e = get_max_idle(req, &g.max_idle_s)) || (e = get_first_use(req, &g, now))) {
		req_grant_clear(&g);
		return e;
	}
	if ((e = take_reason(&g, reason)))
		return e;
	req_history_add(&g, "granted", c->uid, reason, now);
	r = grant_add(a, &g, err, sizeof(err));
	if (r)
		return verbs_error(errno_name(r), "%s", err);
	return grant_reply("granted", grant_find(&a->grants, g.id), c->uid);
}

/* A request by the caller for themselves: granted at once (0 approvals) or pending. */
/* ---- fleet requests (fleet.c holds the link; the rules are checked here, as for local
 * requests, against the policy in force, which in fleet mode is the fleet's) ---- */

/* "hosts": a selector {"label": "value"}, at most POLICY_MAX_LABELS of them. */
static json_t *get_selector(json_t *req, json_t **sel)
{
	json_t *h = json_object_get(req, "hosts"), *v;
	const char *k;
	char err[256];

	*sel = json_object();
	if (!json_is_object(h) || !*sel)
		return verbs_error("EINVAL", "'hosts' must be an object of labels, like "
					     "{\"role\": \"db\"}");
	json_object_foreach(h, k, v) {
		if (!json_is_string(v) ||
		    policy_label_add(*sel, k, json_string_value(v), err, sizeof(err))) {
			json_decref(*sel);
			return verbs_error("EINVAL", "hosts: %s",
					   json_is_string(v) ? err : "label values are strings");
		}
	}
	return NULL;
}

/* The caller's user name (fleet rows name users, each host resolves them). */
static json_t *peer_name(uid_t uid, char *name, size_t len)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) || !res || strlen(res->pw_name) >= len)
		return verbs_error("EPERM",
				   "uid %u has no user name here: fleet requests name "
				   "users, and hosts resolve them by name",
				   uid);
	snprintf(name, len, "%s", res->pw_name);
	return NULL;
}

static json_t *fleet_error(int r, const char *err)
{
	return verbs_error(r == -ENOTCONN ? "ENOTCONN" : errno_name(r), "%s", err);
}

static json_t *fleet_request(struct verb_peer *c, json_t *req)
{
	struct agent *a = c->a;
	char res[GRANT_MAX_RES][POLICY_MAX_NAME];
	struct grant g = {.res = res, .kind = GRANT_REQUEST};
	struct fleet_row row = {0};
	const struct policy_rule *rule;
	const char *reason;
	json_t *sel = NULL, *e, *detail = NULL;
	char err[512];
	int64_t dur, id;
	int r;

	if (!a->fleet.conninfo)
		return verbs_error("EINVAL", "'hosts' needs fleet mode (jitd --fleet)");
	if ((e = get_resources(a, req, &g)) || (e = get_duration_reason(req, &dur, &reason)) ||
	    (e = peer_name(c->uid, row.user, sizeof(row.user))))
		return e;
	if ((e = get_selector(req, &sel)))
		return e;
	rule = req_find_fleet_rule(a->policy, c->uid, g.res, g.n_res, sel, err, sizeof(err));
	if (!rule || req_check(rule, dur, reason, err, sizeof(err))) {
		json_decref(sel);
		return verbs_error(!rule ? (strncmp(err, "unknown", 7) ? "EPERM" : "ENOENT")
					 : "EINVAL",
				   "%s", err);
	}
	/* a rule for some hosts grants only there: the request is narrowed to them */
	json_object_update_missing(sel, rule->hosts);
	for (unsigned i = 0; i < g.n_res; i++)
		snprintf(row.res[row.n_res++], sizeof(row.res[0]), "%s", g.res[i]);
	snprintf(row.reason, sizeof(row.reason), "%s", reason ?: "");
	r = fleet_insert_request(a, &row, sel, dur, rule->max_duration_s, rule->approvals, c->uid,
				 req_is_admin(a->policy, c->uid) ? 0 : a->max_open, &id, err,
				 sizeof(err));
	json_decref(sel);
	if (r)
		return fleet_error(r, err);
	r = fleet_fetch(a, id, &row, &detail, err, sizeof(err));
	audit_agent_event("requested",
			  json_pack("{s:o,s:I}", "fleet",
				    detail ? json_incref(detail)
					   : json_pack("{s:I}", "fleet_id", (json_int_t)id),
				    "by_uid", (json_int_t)c->uid));
	return ok_reply("fleet", detail ?: json_pack("{s:I}", "fleet_id", (json_int_t)id));
}

/* g's approvers: rule's principals (none without a rule), as the grant's text. 0 or
 * -ENOMEM. */
static int set_approvers(struct grant *g, const struct policy_rule *rule)
{
	json_t *ap = json_array();
	int r = -ENOMEM;

	for (size_t i = 0; ap && rule && i < rule->n_approvers; i++)
		json_array_append_new(ap, json_string(rule->approvers[i]));
	if (ap && json_array_size(ap) == (rule ? rule->n_approvers : 0))
		r = req_json_list_set(&g->approvers, ap);
	json_decref(ap);
	return r;
}
/* The fleet request of "fleet_id" as a grant of this host's rules (requester, user and the
 * rule's approvers resolved here) for the checks of lib/request.c. */
static json_t *fleet_subject(struct verb_peer *c, json_t *req, struct fleet_row *row,
			     struct grant *g, json_t **detail)
{
	json_t *jid = json_object_get(req, "fleet_id"), *sel, *empty = NULL;
	const struct policy_rule *rule;
	struct passwd pw, *res = NULL;
	char buf[4096], err[512];
	int r;

	if (!json_is_integer(jid) || json_integer_value(jid) < 1)
		return verbs_error("EINVAL", "'fleet_id' must be a positive integer");
	r = fleet_fetch(c->a, json_integer_value(jid), row, detail, err, sizeof(err));
	if (r)
		return fleet_error(r, err);
	*g = (struct grant){.res = g->res, /* the caller's array */
			    .id = row->id,
			    .kind = GRANT_REQUEST,
			    .state = GRANT_PENDING,
			    .requester_uid = (uid_t)-1,
			    .uid = (uid_t)-1,
			    .has_uid = true};
	for (unsigned i = 0; i < row->n_res && i < GRANT_MAX_RES; i++)
		snprintf(g->res[g->n_res++], POLICY_MAX_NAME, "%s", row->res[i]);
	if (!getpwnam_r(row->user, &pw, buf, sizeof(buf), &res) && res)
		g->uid = res->pw_uid;
	res = NULL;
	if (!getpwnam_r(row->requested_by, &pw, buf, sizeof(buf), &res) && res)
		g->requester_uid = res->pw_uid;
	/* the rule is the fleet's, wherever it holds: approvers need not be on those hosts */
	sel = json_object_get(*detail, "hosts");
	if (!json_is_object(sel))
		sel = empty = json_object();
	rule = g->requester_uid != (uid_t)-1
		       ? req_find_fleet_rule(c->a->policy, g->requester_uid, g->res, g->n_res, sel,
					     err, sizeof(err))
		       : NULL;
	json_decref(empty);
	g->approvals_needed = rule ? rule->approvals : 0;
	set_approvers(g, rule);
	g->history = hist_empty();
	return NULL;
}

/* approve, deny, revoke, extend or show of a fleet request. */
static json_t *fleet_decide(struct verb_peer *c, json_t *req, const char *op)
{
	struct fleet_row row;
	char res[GRANT_MAX_RES][POLICY_MAX_NAME];
	struct grant g = {.res = res};
	json_t *e, *detail = NULL, *jdur = json_object_get(req, "duration_s");
	const char *reason = NULL;
	char err[512], name[65];
	int64_t ext = 0;
	int r = 0;

	if (!c->a->fleet.conninfo)
		return verbs_error("EINVAL", "'fleet_id' needs fleet mode (jitd --fleet)");
	if ((e = fleet_subject(c, req, &row, &g, &detail)))
		return e;
	if (!strcmp(op, "show")) {
		req_grant_clear(&g);
		return ok_reply("fleet", detail);
	}
	json_decref(detail);
	detail = NULL;
	if ((e = peer_name(c->uid, name, sizeof(name))) ||
	    (e = get_reason(req, !strcmp(op, "deny"), &reason)))
		goto out;
	if (!strcmp(op, "approve") || !strcmp(op, "deny")) {
		r = !strcmp(op, "approve") ? req_approve(&g, c->uid, reason, 0, err, sizeof(err))
					   : req_deny(&g, c->uid, reason, 0, err, sizeof(err));
		r = r > 0 ? 0 : r;
	} else if (!strcmp(op, "revoke") && !req_may_revoke(c->a->policy, &g, c->uid)) {
		r = -EPERM;
		snprintf(err, sizeof(err), "uid %u may not revoke fleet request f%lld", c->uid,
			 (long long)row.id);
	} else if (!strcmp(op, "extend")) {
		ext = json_integer_value(jdur);
		if (!json_is_integer(jdur) || ext < 1 || ext > JITD_MAX_DURATION_S) {
			e = verbs_error("EINVAL", "'duration_s' must be an integer 1..%lld",
					(long long)JITD_MAX_DURATION_S);
			goto out;
		}
		if (!req_may_extend(c->a->policy, &g, c->uid)) {
			r = -EPERM;
			snprintf(err, sizeof(err), "uid %u may not extend fleet request f%lld",
				 c->uid, (long long)row.id);
		}
	}
	if (!r)
		r = fleet_insert_action(c->a, row.id, op, name, c->uid, reason, ext, err,
					sizeof(err));
	if (r) {
		char msg[600];

		/* lib/request.c names the request by number: say that it is the fleet's */
		snprintf(msg, sizeof(msg), "fleet request f%lld: %s", (long long)row.id, err);
		e = fleet_error(r, msg);
		goto out;
	}
	if (fleet_fetch(c->a, row.id, &row, &detail, err, sizeof(err)))
		detail = NULL;
	audit_agent_event(!strcmp(op, "approve")  ? "approved"
			  : !strcmp(op, "deny")	  ? "denied"
			  : !strcmp(op, "revoke") ? "revoked"
						  : "extended",
			  json_pack("{s:O?,s:I,s:I}", "fleet", detail, "fleet_id",
				    (json_int_t)row.id, "by_uid", (json_int_t)c->uid));
	e = ok_reply("fleet", detail ?: json_pack("{s:I}", "fleet_id", (json_int_t)row.id));
out:
	req_grant_clear(&g);
	return e;
}

static json_t *fleet_list_verb(struct verb_peer *c, json_t *req)
{
	json_t *out = NULL;
	char err[512];
	int r;

	if (!c->a->fleet.conninfo)
		return verbs_error("EINVAL", "--fleet needs fleet mode (jitd --fleet)");
	r = fleet_list(c->a, json_is_true(json_object_get(req, "all")), 500, &out, err,
		       sizeof(err));
	return r ? fleet_error(r, err) : ok_reply("fleet", out);
}

/* What a request grant keeps of its rule: approvals and their approvers (frozen: who may
 * approve or review it), on_end and max_idle. NULL, or an ENOMEM reply with g cleared. */
static json_t *take_rule(struct grant *g, const struct policy_rule *rule)
{
	g->approvals_needed = rule->approvals;
	g->on_end_kill = rule->on_end_kill;
	g->max_idle_s = rule->max_idle_s;
	if (set_approvers(g, rule)) {
		req_grant_clear(g);
		return verbs_error("ENOMEM", "out of memory");
	}
	return NULL;
}

/*
 * A user's self-service grants the store holds (requests, break-glass, exec made by that user
 * under the rules: pending or active, a break-glass until it is reviewed; grant_held) are
 * bounded by --max-open, so no requester can grow the store, the state file and every pass
 * over them without end. Admins are not bounded (they may grant anything), nor are grants an
 * admin or the policy made. NULL, or the refusal.
 */
static json_t *open_limit(const struct agent *a, uid_t uid)
{
	size_t n = 0;

	if (req_is_admin(a->policy, uid))
		return NULL;
	for (size_t i = 0; i < a->grants.n; i++) {
		const struct grant *g = &a->grants.v[i];

		n += g->requester_uid == uid &&
		     (g->kind == GRANT_REQUEST || g->kind == GRANT_EXEC) && grant_held(g);
	}
	if (n < a->max_open)
		return NULL;
	return verbs_error("EDQUOT",
			   "uid %u already holds %zu open requests and grants of its own "
			   "(jitd --max-open %u): cancel or end some first (jitctl list --mine, "
			   "jitctl revoke ID); a break-glass counts until an approver reviews it",
			   (unsigned)uid, n, a->max_open);
}

/*
 * {"op":"request",...,"break_glass":true}: granted at once, for at most the rule's
 * break_glass_max, with a reason; unreviewed until an approver reviews it. Only the local
 * store and the policy in force (in fleet mode the cached fleet policy) are used, never
 * the fleet database: it works while the network is down.
 */
static json_t *request_break_glass(struct verb_peer *c, json_t *req)
{
	struct agent *a = c->a;
	char res[GRANT_MAX_RES][POLICY_MAX_NAME];
	struct grant g = {.res = res, .kind = GRANT_REQUEST, .state = GRANT_ACTIVE};
	const struct policy_rule *rule;
	const char *reason;
	char err[512];
	bool enoent;
	int64_t now, dur;
	json_t *e, *gj;
	int r;

	if (json_object_get(req, "hosts") || json_object_get(req, "user") ||
	    json_object_get(req, "uid") || json_object_get(req, "cgroup"))
		return verbs_error("EINVAL", "a break-glass is for the caller on this host: no "
					     "'hosts', 'user', 'uid' or 'cgroup'");
	if ((e = get_resources(a, req, &g)) || (e = get_duration_reason(req, &dur, &reason)))
		return e;
	rule = req_find_break_glass_rule(a->policy, c->uid, g.res, g.n_res, &enoent, err,
					 sizeof(err));
	if (!rule)
		return verbs_error(enoent ? "ENOENT" : "EPERM", "%s", err);
	if (req_check_break_glass(rule, dur, reason, err, sizeof(err)))
		return verbs_error("EINVAL", "%s", err);
	if ((e = open_limit(a, c->uid)))
		return e;
	now = util_now_ns(CLOCK_REALTIME);
	g.has_uid = true;
	g.uid = g.requester_uid = g.by_uid = c->uid;
	g.created_ns = g.starts_ns = now;
	g.expires_ns = now + dur * NS_PER_S;
	g.duration_s = dur;
	g.max_duration_s = rule->break_glass_max_s; /* extend never past it */
	g.break_glass = true;
	g.review = GRANT_REVIEW_UNREVIEWED;
	/* the rule's limits hold for a break-glass too */
	if ((e = take_rule(&g, rule)) || (e = take_reason(&g, reason)))
		return e;
	req_history_add(&g, "requested", c->uid, reason, now);
	req_history_add(&g, "break_glass", c->uid, reason, now);
	r = grant_add(a, &g, err, sizeof(err));
	if (r)
		return verbs_error(errno_name(r), "%s", err);
	gj = grant_to_json(grant_find(&a->grants, g.id));
	audit_agent_event("requested",
			  json_pack("{s:O,s:I}", "grant", gj, "by_uid", (json_int_t)c->uid));
	/* instead of "granted", in the same class (3005), severity High */
	audit_agent_event("break_glass", json_pack("{s:O,s:I,s:s}", "grant", gj, "by_uid",
						   (json_int_t)c->uid, "reason", reason));
	/* after the grant's own records: the alert follows what it is about */
	alert_break_glass(a, grant_find(&a->grants, g.id), util_now_ns(CLOCK_REALTIME));
	return ok_reply("grant", gj);
}

/* {"op":"review","id":N,"verdict":"approve"|"flag","reason":...,"revoke":bool}. */
static json_t *do_review(struct verb_peer *c, json_t *req)
{
	json_t *jv = json_object_get(req, "verdict"), *jrev = json_object_get(req, "revoke");
	const char *v = json_string_value(jv), *reason = NULL;
	json_t *e = NULL, *reply;
	struct grant *g = get_grant(c, req, &e), before;
	const struct grant *out;
	bool flag;
	char err[512];
	int r;

	if (!g)
		return e;
	if (!v || (strcmp(v, "approve") && strcmp(v, "flag")))
		return verbs_error("EINVAL", "'verdict' must be \"approve\" or \"flag\"");
	flag = !strcmp(v, "flag");
	if ((jrev && !json_is_boolean(jrev)) || (json_is_true(jrev) && !flag))
		return verbs_error("EINVAL", "'revoke' is true or false, and only with \"flag\"");
	if ((e = get_reason(req, false, &reason)))
		return e;
	grant_mark(g, &before);
	r = req_review(c->a->policy, g, c->uid, flag, reason, util_now_ns(CLOCK_REALTIME), err,
		       sizeof(err));
	if (r) {
		grant_mark_drop(&before);
		return verbs_error(errno_name(r), "%s", err);
	}
	r = grant_commit(c->a, g, &before);
	if (r)
		return verbs_error("EIO", "cannot record the review: %s", strerror(-r));
	audit_agent_event("reviewed",
			  json_pack("{s:o,s:I,s:s,s:s?}", "grant", grant_to_json(g), "by_uid",
				    (json_int_t)c->uid, "verdict", v, "reason", reason));
	if (!json_is_true(jrev) || (g->state != GRANT_ACTIVE && g->state != GRANT_PENDING))
		return grant_reply(NULL, g, c->uid);
	r = grant_revoke(c->a, g->id, c->uid, &out);
	if (r)
		return verbs_error("EIO", "reviewed, but cannot revoke: %s", strerror(-r));
	reply = grant_reply("revoked", out, c->uid);
	audit_grant_changes(&c->a->grants); /* its rule's on_end kill, after "revoked" */
	return reply;
}

static json_t *do_request(struct verb_peer *c, json_t *req)
{
	struct agent *a = c->a;
	char res[GRANT_MAX_RES][POLICY_MAX_NAME];
	struct grant g = {.res = res, .kind = GRANT_REQUEST};
	const struct policy_rule *rule;
	const char *reason;
	char err[512];
	int64_t now, dur;
	json_t *e;
	int r;
	json_t *jdry = json_object_get(req, "dry_run"), *jbg = json_object_get(req, "break_glass");

	if (jdry &&
	    (!json_is_boolean(jdry) || (json_is_true(jdry) && json_object_get(req, "hosts"))))
		return verbs_error("EINVAL", "'dry_run' is true or false, for local requests only");
	if (jbg && !json_is_boolean(jbg))
		return verbs_error("EINVAL", "'break_glass' must be true or false");
	/* a dry run of a break-glass would need its own rule choice (req_find_break_glass_rule):
	 * refused rather than breaking the glass for real */
	if (json_is_true(jdry) && json_is_true(jbg))
		return verbs_error("EINVAL", "'dry_run' cannot be combined with 'break_glass' yet");
	if (json_is_true(jbg))
		return request_break_glass(c, req);
	if (json_object_get(req, "hosts"))
		return fleet_request(c, req);

	if (json_object_get(req, "user") || json_object_get(req, "uid") ||
	    json_object_get(req, "cgroup"))
		return verbs_error("EINVAL", "a request is always for the caller: no 'user', 'uid' "
					     "or 'cgroup' (admins use 'grant')");
	if ((e = get_resources(a, req, &g)) || (e = get_duration_reason(req, &dur, &reason)))
		return e;
	if (json_is_true(jdry)) /* the same choice and checks as below; nothing changes */
		return explain_dry_run(a->policy, c->uid, g.res, g.n_res, dur, reason);
	rule = req_find_rule(a->policy, c->uid, g.res, g.n_res, err, sizeof(err));
	if (!rule)
		return verbs_error(strncmp(err, "unknown", 7) ? "EPERM" : "ENOENT", "%s", err);
	r = req_check(rule, dur, reason, err, sizeof(err));
	if (r)
		return verbs_error("EINVAL", "%s", err);
	if ((e = open_limit(a, c->uid)))
		return e;
	now = util_now_ns(CLOCK_REALTIME);
	g.has_uid = true;
	g.uid = g.requester_uid = g.by_uid = c->uid;
	g.created_ns = now;
	g.duration_s = dur;
	g.max_duration_s = rule->max_duration_s;
	if ((e = take_rule(&g, rule)) || (e = take_reason(&g, reason)))
		return e;
	req_history_add(&g, "requested", c->uid, reason, now);
	if (rule->approvals) {
		g.state = GRANT_PENDING;
		g.expires_ns = now + a->pending_ttl_s * NS_PER_S;
	} else {
		g.state = GRANT_ACTIVE;
		g.starts_ns = now;
		g.expires_ns = now + dur * NS_PER_S;
		req_history_add(&g, "granted", c->uid, "rule needs no approval", now);
	}
	r = grant_add(a, &g, err, sizeof(err));
	if (r)
		return verbs_error(errno_name(r), "%s", err);
	const struct grant *ng = grant_find(&a->grants, g.id);
	json_t *gj = grant_to_json(ng);

	audit_agent_event("requested",
			  json_pack("{s:O,s:I}", "grant", gj, "by_uid", (json_int_t)c->uid));
	if (ng->state == GRANT_ACTIVE)
		audit_agent_event("granted", json_pack("{s:O,s:I}", "grant", gj, "by_uid",
						       (json_int_t)c->uid));
	return ok_reply("grant", gj);
}

/* What alert.c makes of the reply to a request or an exec (both self-service grants under
 * the rules): a refusal counts, any of them may be outside the policy's hours. Dry runs
 * count nothing; a refusal gets no audit record of its own (one each would let any user
 * flood the stream): an alert carries the last few. Returns reply. */
static json_t *alerted(struct verb_peer *c, json_t *req, json_t *reply)
{
	json_t *arr = json_object_get(req, "resources"), *v;
	const char *res[GRANT_MAX_RES], *s;
	size_t n = 0, i;

	if (!reply || json_is_true(json_object_get(req, "dry_run")))
		return reply;
	if ((s = json_string_value(json_object_get(req, "resource"))) &&
	    strlen(s) < POLICY_MAX_NAME)
		res[n++] = s;
	json_array_foreach(arr, i, v)
		if ((s = json_string_value(v)) && strlen(s) < POLICY_MAX_NAME && n < GRANT_MAX_RES)
			res[n++] = s;
	s = json_string_value(json_object_get(reply, "errno")) ?: "";
	/* refused by the rules or for its input; not jitd's own failures (ENOMEM, EIO,
	 * ENOTCONN from the fleet database, a full grants map) */
	if (json_is_true(json_object_get(reply, "ok")) ||
	    (strcmp(s, "EPERM") && strcmp(s, "EACCES") && strcmp(s, "EINVAL") &&
	     strcmp(s, "ENOENT") && strcmp(s, "E2BIG") && strcmp(s, "EDQUOT")))
		s = NULL;
	else
		s = json_string_value(json_object_get(reply, "error")) ?: "refused";
	alert_request(c->a, c->uid, res, n, s, util_now_ns(CLOCK_REALTIME));
	return reply;
}

static json_t *do_request_alerted(struct verb_peer *c, json_t *req)
{
	return alerted(c, req, do_request(c, req));
}

/* The grant an approve or deny is about, and its reason; NULL with *e set. */
static struct grant *get_decision(struct verb_peer *c, json_t *req, bool reason_required,
				  const char **reason, json_t **e)
{
	struct grant *g = get_grant(c, req, e);

	if (g && (*e = get_reason(req, reason_required, reason)))
		return NULL;
	return g;
}

static json_t *do_approve(struct verb_peer *c, json_t *req)
{
	const char *reason = NULL;
	json_t *e = NULL;
	struct grant *g = get_decision(c, req, false, &reason, &e), before;
	char err[512];
	int r;

	if (!g)
		return e;
	grant_mark(g, &before);
	r = req_approve(g, c->uid, reason, util_now_ns(CLOCK_REALTIME), err, sizeof(err));
	if (r < 0) {
		grant_mark_drop(&before);
		return verbs_error(errno_name(r), "%s", err);
	}
	if (r > 0)
		r = grant_activate(c->a, g, &before);
	else
		r = grant_commit(c->a, g, &before);
	if (r)
		return verbs_error("EIO", "cannot record the approval: %s", strerror(-r));
	audit_agent_event("approved", json_pack("{s:o,s:I}", "grant", grant_to_json(g), "by_uid",
						(json_int_t)c->uid));
	return grant_reply(g->state == GRANT_ACTIVE ? "granted" : NULL, g, c->uid);
}

static json_t *do_deny(struct verb_peer *c, json_t *req)
{
	const char *reason = NULL;
	json_t *e = NULL;
	struct grant *g = get_decision(c, req, true, &reason, &e), before;
	char err[512];
	int r;

	if (!g)
		return e;
	grant_mark(g, &before);
	r = req_deny(g, c->uid, reason, util_now_ns(CLOCK_REALTIME), err, sizeof(err));
	if (r) {
		grant_mark_drop(&before);
		return verbs_error(errno_name(r), "%s", err);
	}
	r = grant_commit(c->a, g, &before);
	if (r)
		return verbs_error("EIO", "cannot record the denial: %s", strerror(-r));
	return grant_reply("denied", g, c->uid);
}

static json_t *do_extend(struct verb_peer *c, json_t *req)
{
	json_t *jdur = json_object_get(req, "duration_s"), *e = NULL;
	struct grant *g = get_grant(c, req, &e), before;
	uid_t by = c->uid;
	int64_t new_exp, old_exp;
	char err[256], when[40];
	int r;

	if (!g)
		return e;
	if (!json_is_integer(jdur) || json_integer_value(jdur) < 1 ||
	    json_integer_value(jdur) > JITD_MAX_DURATION_S)
		return verbs_error("EINVAL", "'duration_s' must be an integer 1..%lld",
				   (long long)JITD_MAX_DURATION_S);
	if (!req_may_extend(c->a->policy, g, by))
		return verbs_error("EPERM", "uid %u may not extend grant %llu", by,
				   (unsigned long long)g->id);
	if (g->kind == GRANT_FLEET)
		return verbs_error("EINVAL", "grant %llu comes from the policy; change the policy",
				   (unsigned long long)g->id);
	if (g->from_first_use)
		return verbs_error("EINVAL",
				   "grant %llu's clock starts at its first use (the kernel counts "
				   "its duration from it): it cannot be extended; grant again",
				   (unsigned long long)g->id);
	if (req_history_full(g))
		return verbs_error("ENOSPC",
				   "grant %llu has been extended too often (its history holds %zu "
				   "entries in %zu bytes, at most %d or %d): grant or request it "
				   "again",
				   (unsigned long long)g->id, hist_count(g->history),
				   hist_size(g->history), GRANT_HISTORY_ENTRIES, GRANT_HISTORY_MAX);
	r = req_extend(g, json_integer_value(jdur), &new_exp, err, sizeof(err));
	if (r)
		return verbs_error(errno_name(r), "%s", err);
	grant_mark(g, &before);
	old_exp = g->expires_ns;
	g->expires_ns = new_exp;
	g->expires_boot += new_exp - old_exp;
	g->duration_s = (g->expires_ns - g->starts_ns) / NS_PER_S;
	snprintf(err, sizeof(err), "until %s", util_format_time(new_exp, when, sizeof(when)));
	req_history_add(g, "extended", by, err, util_now_ns(CLOCK_REALTIME));
	r = grant_commit(c->a, g, &before);
	if (r)
		return verbs_error("EIO", "cannot record the extension: %s", strerror(-r));
	return grant_reply("extended", g, by);
}

static json_t *do_revoke(struct verb_peer *c, json_t *req)
{
	json_t *e = NULL;
	struct grant *g = get_grant(c, req, &e);
	const struct grant *out;
	uid_t by = c->uid;
	int r;

	if (!g)
		return e;
	json_t *jkill = json_object_get(req, "kill");
	json_t *reply;
	int killed = 0;

	if (!req_may_revoke(c->a->policy, g, by))
		return verbs_error("EPERM",
				   "uid %u may not revoke grant %llu (root, admins and "
				   "its own user may)",
				   by, (unsigned long long)g->id);
	if (jkill && !json_is_boolean(jkill))
		return verbs_error("EINVAL", "\"kill\" must be true or false");
	if (json_is_true(jkill) && !g->cgroup)
		return verbs_error(
			"EINVAL",
			"grant %llu is not bound to a cgroup: --kill needs a grant made by "
			"'jitctl exec', --cgroup or --unit (for a user grant jitd cannot "
			"tell which processes used it)",
			(unsigned long long)g->id);
	/* revoked first (the kernel denies from now on), then the tree is ended: --kill, or
	 * the rule's "on_end": "kill" (grant.c) */
	r = grant_revoke_kill(c->a, g->id, by, json_is_true(jkill), &out, &killed);
	if (r == -EALREADY)
		return verbs_error("EINVAL", "grant %llu is not active or pending",
				   (unsigned long long)g->id);
	if (r)
		return verbs_error("EIO", "cannot revoke: %s", strerror(-r));
	reply = grant_reply("revoked", out, by);
	audit_grant_changes(&c->a->grants); /* "killed" or "kill_skipped", after "revoked" */
	if (killed < 0)
		json_object_set_new(reply, "kill_error", json_string(strerror(-killed)));
	else if (json_is_true(jkill) || (out->on_end_kill && out->cgroup))
		json_object_set_new(reply, "killed", json_integer(killed));
	return reply;
}

static json_t *do_list(struct verb_peer *c, json_t *req)
{
	bool all = json_is_true(json_object_get(req, "all"));
	bool mine = json_is_true(json_object_get(req, "mine"));
	bool unreviewed = json_is_true(json_object_get(req, "unreviewed"));
	json_t *arr = json_array();
	if (unreviewed && json_is_true(json_object_get(req, "fleet")))
		return json_decref(arr),
		       verbs_error("EINVAL",
				   "'unreviewed' lists this host's grants, not the fleet's");
	if (json_is_true(json_object_get(req, "fleet")))
		return fleet_list_verb(c, req);

	usage_refresh(c->a); /* the kernel's counts as of now */
	grant_first_use_due(c->a);
	for (size_t i = 0; i < c->a->grants.n; i++) {
		const struct grant *g = &c->a->grants.v[i];

		if (!all && !unreviewed && g->state != GRANT_ACTIVE && g->state != GRANT_PENDING)
			continue;
		if (unreviewed && g->review != GRANT_REVIEW_UNREVIEWED)
			continue; /* the backlog: break-glass grants in any state */
		if (mine && g->requester_uid != c->uid && !(g->has_uid && g->uid == c->uid))
			continue;
		json_array_append_new(arr, grant_to_json(g));
	}
	return ok_reply("grants", arr);
}

static json_t *do_show(struct verb_peer *c, json_t *req)
{
	json_t *e = NULL;
	struct grant *g = get_grant(c, req, &e);

	if (g && g->state == GRANT_ACTIVE)
		usage_read(c->a, g); /* the kernel's counts as of now */
	if (g && g->first_by_ns)
		grant_first_use_due(c->a);
	return g ? grant_reply(NULL, g, 0) : e;
}

/* Who held what, how long, how often used (report.c); answers every user, as list does. */
static json_t *do_report(struct verb_peer *c, json_t *req)
{
	char err[256];
	json_t *rep = report_build(c->a, req, err, sizeof(err));

	return rep ? ok_reply("report", rep) : verbs_error("EINVAL", "%s", err);
}

/* A grant for one process tree: jitd makes a cgroup, moves the caller into it, grants it. */
static json_t *do_exec(struct verb_peer *c, json_t *req)
{
	struct agent *a = c->a;
	char res[GRANT_MAX_RES][POLICY_MAX_NAME];
	struct grant g = {.res = res, .kind = GRANT_EXEC, .state = GRANT_ACTIVE};
	const struct policy_rule *rule = NULL;
	char err[512], proc[64];
	const char *reason;
	int64_t now, dur;
	struct stat st;
	json_t *e;
	int r;

	if ((e = get_resources(a, req, &g)) || (e = get_duration_reason(req, &dur, &reason)))
		return e;
	if (!req_is_admin(a->policy, c->uid)) {
		rule = req_find_rule(a->policy, c->uid, g.res, g.n_res, err, sizeof(err));
		if (!rule)
			return verbs_error(strncmp(err, "unknown", 7) ? "EPERM" : "ENOENT", "%s",
					   err);
		if (rule->approvals)
			return verbs_error("EPERM",
					   "the rule needs %u approval(s): use 'jitctl request', "
					   "then run the command once it is granted",
					   rule->approvals);
		r = req_check(rule, dur, reason, err, sizeof(err));
		if (r)
			return verbs_error("EINVAL", "%s", err);
		if ((e = open_limit(a, c->uid)))
			return e;
	}
	/* the peer must still be the process that connected, owned by the same user */
	snprintf(proc, sizeof(proc), "/proc/%d", (int)c->pid);
	if (c->pid <= 1 || stat(proc, &st) || st.st_uid != c->proc_uid)
		return verbs_error("EPERM", "cannot verify the calling process %d", (int)c->pid);
	r = a->ops.scope_create(a, a->grants.next_id, c->pid, &g.cgroup, &g.cgroup_id);
	if (r)
		return verbs_error("EIO", "cannot create the cgroup: %s", strerror(-r));
	now = util_now_ns(CLOCK_REALTIME);
	g.has_uid = true;
	g.uid = g.requester_uid = g.by_uid = c->uid;
	g.created_ns = g.starts_ns = now;
	g.expires_ns = now + dur * NS_PER_S;
	g.duration_s = dur;
	g.max_duration_s = rule ? rule->max_duration_s : 0;
	g.on_end_kill = rule && rule->on_end_kill;
	g.max_idle_s = rule ? rule->max_idle_s : 0;
	if ((e = take_reason(&g, reason)))
		return e;
	req_history_add(&g, "exec", c->uid, reason, now);
	r = grant_add(a, &g, err, sizeof(err));
	if (r)
		return verbs_error(errno_name(r), "%s", err);
	struct grant *ng = grant_find(&a->grants, g.id);
	json_t *reply = grant_reply("granted", ng, c->uid);

	r = a->ops.scope_watch(a, ng);
	if (r)
		log_warn("exec grant %llu: cannot watch its cgroup: %s", (unsigned long long)g.id,
			 strerror(-r));
	return reply;
}

static json_t *do_exec_alerted(struct verb_peer *c, json_t *req)
{
	return alerted(c, req, do_exec(c, req));
}

static json_t *do_policy_apply(struct verb_peer *c, json_t *req)
{
	json_t *jt = json_object_get(req, "text");
	char err[1024];
	struct policy *p = NULL;
	int r;

	if (!req_is_admin(c->a->policy, c->uid))
		return verbs_error("EPERM",
				   "only root and admins may apply a policy (you are uid %u)",
				   c->uid);
	if (!json_is_string(jt))
		return verbs_error("EINVAL", "'text' must be the policy as a string");
	r = policy_parse("policy", json_string_value(jt), json_string_length(jt), &p, err,
			 sizeof(err));
	if (r)
		return verbs_error("EINVAL", "%s", err);
	r = apply_pushed(c->a, p, json_string_value(jt), json_string_length(jt), err, sizeof(err));
	if (r)
		return verbs_error(errno_name(r), "%s", err);
	return json_pack("{s:b,s:I}", "ok", 1, "serial", (json_int_t)c->a->policy->serial);
}

/* A rule's "break_glass_max_s" in policy_show, when it has one. */
static void rule_show_break_glass(const struct policy_rule *ru, json_t *r)
{
	if (ru->break_glass_max_s)
		json_object_set_new(r, "break_glass_max_s", json_integer(ru->break_glass_max_s));
}

/* The notification targets as everyone may see them: never the command (a webhook URL
 * in it is a secret). */
static json_t *notify_show(const struct policy *p)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < p->n_notify; i++) {
		const struct policy_notify *t = &p->notify[i];
		json_t *o =
			json_pack("{s:s,s:[],s:s,s:I,s:i,s:I}", "name", t->name, "events", "user",
				  t->user, "timeout_s", (json_int_t)t->timeout_s, "retries",
				  (int)t->retries, "retry_delay_s", (json_int_t)t->retry_delay_s);

		for (size_t j = 0; j < t->n_events; j++)
			json_array_append_new(json_object_get(o, "events"),
					      json_string(t->events[j]));
		if (t->n_resources) {
			json_t *r = json_array();

			for (size_t j = 0; j < t->n_resources; j++)
				json_array_append_new(r, json_string(t->resources[j]));
			json_object_set_new(o, "resources", r);
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *policy_show_build(const struct policy *p)
{
	json_t *o = json_pack("{s:b,s:I,s:s}", "ok", 1, "serial", (json_int_t)p->serial, "source",
			      p->source ?: "");
	json_t *res = json_object(), *rules = json_array(), *grants = json_array();
	json_t *admins = json_array();
	char buf[256];

	for (size_t i = 0; i < p->n_resources; i++) {
		json_t *r = json_object();

		for (size_t j = 0; j < p->resources[i].n_entries; j++) {
			const struct policy_entry *e = &p->resources[i].entries[j];
			const char *k = e->kind == POLICY_EXEC	 ? "exec"
					: e->kind == POLICY_OPEN ? "open"
								 : "connect";

			if (!json_object_get(r, k))
				json_object_set_new(r, k, json_array());
			json_array_append_new(
				json_object_get(r, k),
				json_string(policy_entry_format(e, buf, sizeof(buf))));
		}
		if (p->resources[i].revoke_open)
			json_object_set_new(r, "revoke", json_string("open"));
		json_object_set_new(res, p->resources[i].name, r);
	}
	for (size_t i = 0; i < p->n_admins; i++)
		json_array_append_new(admins, json_string(p->admins[i]));
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct policy_rule *ru = &p->rules[i];
		json_t *r = json_pack("{s:[],s:[],s:I,s:i,s:[],s:s}", "resources", "requesters",
				      "max_duration_s", (json_int_t)ru->max_duration_s, "approvals",
				      (int)ru->approvals, "approvers", "reason",
				      ru->reason_required ? "required" : "optional");

		for (size_t j = 0; j < ru->n_resources; j++)
			json_array_append_new(json_object_get(r, "resources"),
					      json_string(ru->resources[j]));
		for (size_t j = 0; j < ru->n_requesters; j++)
			json_array_append_new(json_object_get(r, "requesters"),
					      json_string(ru->requesters[j]));
		for (size_t j = 0; j < ru->n_approvers; j++)
			json_array_append_new(json_object_get(r, "approvers"),
					      json_string(ru->approvers[j]));
		if (ru->reason_pattern)
			json_object_set_new(r, "reason_pattern", json_string(ru->reason_pattern));
		json_object_set_new(r, "on_end", json_string(ru->on_end_kill ? "kill" : "keep"));
		rule_show_break_glass(ru, r);
		if (ru->hosts)
			json_object_set_new(
				r, "hosts",
				json_pack("{s:O,s:b}", "labels", ru->hosts, "here", ru->here));
		json_array_append_new(rules, r);
	}
	for (size_t i = 0; i < p->n_grants; i++) {
		const struct policy_grant *g = &p->grants[i];
		json_t *o2 = json_pack("{s:s}", "resource", g->resource);
		char t[40];

		if (g->has_uid)
			json_object_set_new(o2, "uid", json_integer(g->uid));
		if (g->cgroup)
			json_object_set_new(o2, "cgroup", json_string(g->cgroup));
		if (g->not_before_ns)
			json_object_set_new(
				o2, "not_before",
				json_string(util_format_time(g->not_before_ns, t, sizeof(t))));
		json_object_set_new(o2, "not_after",
				    json_string(util_format_time(g->not_after_ns, t, sizeof(t))));
		if (g->hosts)
			json_object_set_new(
				o2, "hosts",
				json_pack("{s:O,s:b}", "labels", g->hosts, "here", g->here));
		json_array_append_new(grants, o2);
	}
	json_object_set_new(o, "resources", res);
	json_object_set_new(o, "admins", admins);
	json_object_set_new(o, "rules", rules);
	json_object_set_new(o, "grants", grants);
	return o;
}

/* Forget policy_show's reply once it is a second old (at the next request): a big
 * policy's tree and line (MBs) are not kept for a client that never asks again. */
static void show_cache_expire(struct verbs_cache *show_cache)
{
	if (!show_cache->json || now_usec() - show_cache->at < 1000000)
		return;
	json_decref(show_cache->json);
	free(show_cache->line);
	memset(show_cache, 0, sizeof(*show_cache));
}

/* The policy as a reply. Built and serialized at most once a second (client_reply sends the
 * cached line): a client repeating policy_show costs a copy, not a rebuild. */
static json_t *do_policy_show(struct verb_peer *c, json_t *req)
{
	struct verbs_cache *show_cache = &c->a->verbs_cache;
	const struct policy *p = c->a->policy;
	char *line;

	if (show_cache->json && show_cache->p == p && show_cache->serial == p->serial &&
	    now_usec() - show_cache->at < 1000000)
		return json_incref(show_cache->json);
	json_decref(show_cache->json);
	free(show_cache->line);
	memset(show_cache, 0, sizeof(*show_cache));
	show_cache->json = policy_show_build(p);
	if (show_cache->json && p->n_notify)
		json_object_set_new(show_cache->json, "notify", notify_show(p));
	line = show_cache->json ? json_dumps(show_cache->json, JSON_COMPACT) : NULL;
	if (!line)
		return json_incref(show_cache->json);
	show_cache->len = strlen(line) + 1;
	line[show_cache->len - 1] = '\n';
	show_cache->line = line;
	show_cache->p = p;
	show_cache->serial = p->serial;
	show_cache->at = now_usec();
	return json_incref(show_cache->json);
}

/* "memory": jitd's resident set now and at its peak (VmRSS, VmHWM of /proc/self/status),
 * in KiB; empty when unreadable. */
static json_t *memory_status(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	json_t *o = json_object();
	char line[256];
	long v;

	while (f && o && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmRSS: %ld kB", &v) == 1)
			json_object_set_new(o, "rss_kib", json_integer(v));
		else if (sscanf(line, "VmHWM: %ld kB", &v) == 1)
			json_object_set_new(o, "hwm_kib", json_integer(v));
	}
	if (f)
		fclose(f);
	return o;
}

static json_t *do_status(struct verb_peer *c, json_t *req)
{
	struct agent *a = c->a;
	char started[40];
	json_t *r = ok_reply(NULL, NULL);

	a->ops.status(a, r);
	json_object_set_new(r, "policy",
			    json_pack("{s:s,s:I,s:I}", "source",
				      a->policy->source ?: a->policy_path, "serial",
				      (json_int_t)a->policy->serial, "resources",
				      (json_int_t)a->policy->n_resources));
	json_object_set_new(
		r, "grants",
		json_pack("{s:I}", "active", (json_int_t)grant_count_active(&a->grants)));
	json_object_set_new(r, "started",
			    json_string(util_format_time(a->started_ns, started, sizeof(started))));
	json_object_set_new(r, "fleet", fleet_status(a));
	json_object_set_new(r, "audit", audit_seal_status(&a->audit));
	json_object_set_new(r, "alerts", alert_status(a));
	json_object_set_new(r, "memory", memory_status());
	return r;
}

/* {"op":"audit",...}: become a live audit subscriber (audit_sub.c); root only. */
static json_t *do_audit(struct verb_peer *c, json_t *req)
{
	if (!req_may_read_audit(c->uid))
		return verbs_error("EPERM", "only root may read the audit stream (you are uid %u)",
				   c->uid);
	json_t *r = c->a->ops.audit_subscribe(c->a, c->client, req);

	if (json_is_true(json_object_get(r, "ok")))
		c->follow = true; /* may stay silent: the transport drops its idle timeout */
	return r;
}

/*
 * The user approvers and policy_explain are about: "user" (a name), else the caller when
 * !required. Every user may ask about themselves; about another user, root and admins only
 * (who may request what, and who approves it, is the policy's business and theirs).
 */
static json_t *get_subject_user(struct verb_peer *c, json_t *req, bool required, uid_t *uid,
				char *name, size_t len)
{
	json_t *ju = json_object_get(req, "user");
	struct passwd pw, *res = NULL;
	char buf[4096];

	if ((ju || required) && !json_is_string(ju))
		return verbs_error("EINVAL", "'user' must be a user name");
	if (ju ? getpwnam_r(json_string_value(ju), &pw, buf, sizeof(buf), &res)
	       : getpwuid_r(c->uid, &pw, buf, sizeof(buf), &res))
		res = NULL;
	if (ju && !res)
		return verbs_error("ENOENT", "unknown user '%s'", json_string_value(ju));
	*uid = res ? res->pw_uid : c->uid;
	if (res)
		snprintf(name, len, "%s", res->pw_name);
	else
		snprintf(name, len, "uid %u", c->uid);
	if (*uid != c->uid && !req_is_admin(c->a->policy, c->uid))
		return verbs_error("EPERM",
				   "only root and admins may ask about another user (you are uid "
				   "%u)",
				   c->uid);
	return NULL;
}

/* {"op":"approvers","resources":[...][,"user"]}: the rule a request would fall under, and
 * who can approve it. */
static json_t *do_approvers(struct verb_peer *c, json_t *req)
{
	char res[GRANT_MAX_RES][POLICY_MAX_NAME];
	struct grant g = {.res = res};
	const struct policy_rule *rule;
	char err[512], name[256];
	uid_t uid;
	json_t *e;

	if ((e = get_subject_user(c, req, false, &uid, name, sizeof(name))) ||
	    (e = get_resources(c->a, req, &g)))
		return e;
	rule = req_find_rule(c->a->policy, uid, g.res, g.n_res, err, sizeof(err));
	if (!rule) /* the message a real request gets, saying whose it is when not the caller's */
		return verbs_error("EPERM", "%s%s%s", uid != c->uid ? name : "",
				   uid != c->uid ? ": " : "", err);
	return explain_approvers_reply(c->a->policy, rule, uid, name);
}

/* {"op":"policy_explain","user","resources"}: could the user reach them, and how. */
static json_t *do_policy_explain(struct verb_peer *c, json_t *req)
{
	char res[GRANT_MAX_RES][POLICY_MAX_NAME];
	struct grant g = {.res = res};
	json_t *e, *holds = json_array();
	char name[256];
	uid_t uid;

	if ((e = get_subject_user(c, req, true, &uid, name, sizeof(name))) ||
	    (e = get_resources(c->a, req, &g))) {
		json_decref(holds);
		return e;
	}
	for (size_t i = 0; i < c->a->grants.n; i++) {
		const struct grant *h = &c->a->grants.v[i];
		bool any = false;

		for (unsigned j = 0; j < h->n_res && h->state == GRANT_ACTIVE; j++)
			for (unsigned k = 0; k < g.n_res; k++)
				any = any || !strcmp(h->res[j], g.res[k]);
		if (any && h->has_uid && h->uid == uid)
			json_array_append_new(holds, json_integer((json_int_t)h->id));
	}
	e = explain_build(c->a->policy, uid, name, g.res, g.n_res, holds);
	return e ? ok_reply("explain", e) : NULL;
}

/* Is the peer exempt: its uid, or the cgroup of the process that connected? */
static bool peer_exempt(const struct verb_peer *c)
{
	char path[64], buf[4200], *line;
	FILE *f;
	bool ok = false;

	if (policy_exempts_uid(c->a->policy, c->uid))
		return true;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)c->pid);
	f = fopen(path, "re");
	while (f && !ok && (line = fgets(buf, sizeof(buf), f)))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			ok = policy_exempts_cgroup(c->a->policy, line + 3);
		}
	if (f)
		fclose(f);
	return ok;
}

/* {"op":"audit_seal_init","interval_s":N,"force":bool}: a new sealing key; the reply
 * carries the verification key, once. Root only. */
static json_t *do_audit_seal_init(struct verb_peer *c, json_t *req)
{
	json_t *iv = json_object_get(req, "interval_s");
	json_int_t interval = iv ? json_integer_value(iv) : SEAL_DEFAULT_INTERVAL;
	char vkey[SEAL_VKEY_MAX], err[256];
	struct audit_state *st = &c->a->audit;
	json_t *r;

	if (!req_may_read_audit(c->uid) || !peer_exempt(c))
		return verbs_error(
			"EPERM", "only an exempt root may set up audit sealing (you are uid %u%s)",
			c->uid, req_may_read_audit(c->uid) ? ", not exempt" : "");
	if ((iv && !json_is_integer(iv)) || interval < 1 || interval > 7 * 24 * 3600)
		return verbs_error("EINVAL", "interval_s: an integer from 1 to 604800 (a week)");
	int e = audit_seal_init(st, (uint32_t)interval, json_is_true(json_object_get(req, "force")),
				vkey, sizeof(vkey), err, sizeof(err));

	if (e)
		return verbs_error(e == -EEXIST ? "EEXIST" : "EIO", "%s", err);
	r = ok_reply(NULL, NULL);
	json_object_set_new(r, "verification_key", json_string(vkey));
	OPENSSL_cleanse(vkey, sizeof(vkey));
	json_object_set_new(r, "audit", audit_seal_status(st));
	return r;
}

/* {"op":"audit_checkpoint"}: the last seal, to keep off the host. Root only. */
static json_t *do_audit_checkpoint(struct verb_peer *c, json_t *req)
{
	const struct audit_state *st = &c->a->audit;
	char cp[SEAL_CHECKPOINT_MAX], t[40];
	json_t *r;

	if (!req_may_read_audit(c->uid))
		return verbs_error("EPERM", "only root may read audit checkpoints (you are uid %u)",
				   c->uid);
	if (!st->have_checkpoint || seal_checkpoint_format(&st->checkpoint, cp, sizeof(cp)))
		return verbs_error("ENOENT", "%s",
				   st->sealing ? "no seal written yet"
					       : "audit sealing is off: 'jitctl audit seal-init' "
						 "starts it");
	r = ok_reply(NULL, NULL);
	json_object_set_new(r, "checkpoint",
			    json_pack("{s:s,s:I,s:s,s:I,s:s,s:s,s:s}", "text", cp, "sequence",
				      (json_int_t)st->checkpoint.seq, "hash", st->checkpoint.hash,
				      "epoch", (json_int_t)st->checkpoint.epoch, "tag",
				      st->checkpoint.tag, "key_id", st->seal.key_id, "epoch_start",
				      util_format_time(seal_epoch_start_ns(st->seal.start_s,
									   st->seal.interval_s,
									   st->checkpoint.epoch),
						       t, sizeof(t))));
	return r;
}

json_t *verbs_dispatch(struct verb_peer *c, const char *line, size_t len)
{
	static const struct {
		const char *op;
		json_t *(*fn)(struct verb_peer *, json_t *);
	} verbs[] = {{"grant", do_grant},
		     {"request", do_request_alerted},
		     {"approve", do_approve},
		     {"deny", do_deny},
		     {"extend", do_extend},
		     {"show", do_show},
		     {"exec", do_exec_alerted},
		     {"policy_apply", do_policy_apply},
		     {"policy_show", do_policy_show},
		     {"revoke", do_revoke},
		     {"list", do_list},
		     {"review", do_review},
		     {"report", do_report},
		     {"status", do_status},
		     {"audit", do_audit},
		     {"audit_seal_init", do_audit_seal_init},
		     {"audit_checkpoint", do_audit_checkpoint},
		     {"approvers", do_approvers},
		     {"policy_explain", do_policy_explain}};
	json_error_t jerr;
	json_t *req, *reply = NULL;
	const char *op;

	show_cache_expire(&c->a->verbs_cache);
	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!req)
		return verbs_error("EINVAL", "malformed request: %s (column %d)", jerr.text,
				   jerr.column);
	op = json_string_value(json_object_get(req, "op"));
	if (!json_is_object(req) || !op) {
		json_decref(req);
		return verbs_error("EINVAL", "a request is a JSON object with a string 'op'");
	}
	if (json_object_get(req, "fleet_id") &&
	    (!strcmp(op, "approve") || !strcmp(op, "deny") || !strcmp(op, "extend") ||
	     !strcmp(op, "revoke") || !strcmp(op, "show")))
		reply = fleet_decide(c, req, op);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]) && !reply; i++)
		if (!strcmp(op, verbs[i].op)) {
			reply = verbs[i].fn(c, req) ?: verbs_error("EIO", "cannot build the reply");
			break;
		}
	if (!reply)
		reply = verbs_error("EINVAL", "unknown op '%.64s'", op);
	json_decref(req);
	return reply;
}
