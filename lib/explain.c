// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a request would do and why: the dry-run reply (the same rule choice and checks as a
 * real request, lib/request.c, and nothing else), who can approve it, and `policy explain`
 * (which rules are considered for a user and resources, which one is chosen, why the others
 * are not). Pure logic on struct policy; users and groups through NSS as request.c does.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "explain.h"
#include "util.h"

static bool covers(const struct policy_rule *r, const char *res)
{
	for (size_t i = 0; i < r->n_resources; i++)
		if (!strcmp(r->resources[i], res))
			return true;
	return false;
}

static bool is_requester(const struct policy_rule *r, uid_t uid)
{
	for (size_t i = 0; i < r->n_requesters; i++)
		if (req_principal_match(r->requesters[i], uid))
			return true;
	return false;
}

static json_t *strings(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

json_t *explain_rule(const struct policy *p, const struct policy_rule *r)
{
	json_t *o = json_pack("{s:I,s:o,s:i,s:I,s:s}", "index", (json_int_t)(r - p->rules),
			      "resources", strings(r->resources, r->n_resources), "approvals",
			      (int)r->approvals, "max_duration_s", (json_int_t)r->max_duration_s,
			      "reason", r->reason_required ? "required" : "optional");

	if (o && r->reason_pattern)
		json_object_set_new(o, "reason_pattern", json_string(r->reason_pattern));
	return o;
}

json_t *explain_approvers(const struct policy_rule *r, uid_t requester)
{
	json_t *users;

	if (req_approver_users(r->approvers, r->n_approvers, requester, REQ_MAX_APPROVER_USERS,
			       &users))
		return NULL;
	return json_pack("{s:o,s:o}", "principals", strings(r->approvers, r->n_approvers), "users",
			 users);
}

/* "rule", "approvals" and "approvers" of rule r into o; false when out of memory. */
static bool add_rule(json_t *o, const struct policy *p, const struct policy_rule *r, uid_t uid)
{
	json_t *ap = explain_approvers(r, uid);

	return ap && !json_object_set_new(o, "approvers", ap) &&
	       !json_object_set_new(o, "rule", explain_rule(p, r)) &&
	       !json_object_set_new(o, "approvals", json_integer(r->approvals));
}

/* An error message as a JSON string: a reason cut inside a UTF-8 sequence ("%.128s") would
 * make it invalid, and then its bytes from 0x80 up become '?'. */
static json_t *message(char *s)
{
	json_t *j = json_string(s);

	for (char *q = s; !j && *q; q++)
		if ((unsigned char)*q >= 0x80)
			*q = '?';
	return j ?: json_string(s);
}

json_t *explain_dry_run(const struct policy *p, uid_t uid, char res[][POLICY_MAX_NAME], unsigned n,
			int64_t duration_s, const char *reason)
{
	const struct policy_rule *r;
	char err[512], ignored[512];
	json_t *o = json_pack("{s:b,s:b}", "ok", 1, "dry_run", 1);
	int ret;

	if (!o)
		return NULL;
	/* a break-glass request would choose and check its rule here instead
	 * (req_find_break_glass_rule and its check), and say so in "would" */
	r = req_find_rule(p, uid, res, n, err, sizeof(err));
	if (!r) {
		json_object_set_new(o, "would", json_string("refused"));
		json_object_set_new(o, "errno",
				    json_string(strncmp(err, "unknown", 7) ? "EPERM" : "ENOENT"));
		json_object_set_new(o, "error", message(err));
		return o;
	}
	ret = req_check(r, duration_s, reason, err, sizeof(err));
	if (!add_rule(o, p, r, uid)) {
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "duration_ok",
			    json_boolean(duration_s >= 1 && duration_s <= r->max_duration_s));
	/* the reason alone: req_check with a duration the rule always takes */
	json_object_set_new(o, "reason_ok",
			    json_boolean(!req_check(r, 1, reason, ignored, sizeof(ignored))));
	json_object_set_new(o, "would",
			    json_string(ret	       ? "refused"
					: r->approvals ? "pending"
						       : "active"));
	if (ret) {
		json_object_set_new(o, "error", message(err));
		json_object_set_new(o, "errno", json_string("EINVAL"));
	}
	return o;
}

json_t *explain_approvers_reply(const struct policy *p, const struct policy_rule *r, uid_t uid,
				const char *user)
{
	json_t *o = json_pack("{s:b,s:s,s:I}", "ok", 1, "user", user, "uid", (json_int_t)uid);

	if (o && !add_rule(o, p, r, uid)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Principals of v joined by ", " into buf. */
static char *joined(char *const *v, size_t n, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (size_t i = 0; i < n && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s", i ? ", " : "", v[i]);
	return buf;
}

/* Why rule r is not chosen for uid (user) and res, into buf; NULL when it qualifies. */
static const char *why_not(const struct policy_rule *r, uid_t uid, const char *user,
			   char res[][POLICY_MAX_NAME], unsigned n, char *buf, size_t len)
{
	char who[512];

	if (!r->here) {
		snprintf(buf, len, "applies on other hosts (its \"hosts\" selector)");
		return buf;
	}
	if (!is_requester(r, uid)) {
		snprintf(buf, len, "%s is not a requester (%s)", user,
			 joined(r->requesters, r->n_requesters, who, sizeof(who)));
		return buf;
	}
	for (unsigned j = 0; j < n; j++)
		if (!covers(r, res[j])) {
			snprintf(buf, len, "does not cover %s", res[j]);
			return buf;
		}
	return NULL;
}

/* One entry of explain's "rules": rule r as considered for uid, chosen or why not. */
static json_t *rule_entry(const struct policy *p, const struct policy_rule *r,
			  const struct policy_rule *chosen, uid_t uid, const char *user,
			  char res[][POLICY_MAX_NAME], unsigned n)
{
	char buf[700];
	const char *why = why_not(r, uid, user, res, n, buf, sizeof(buf));
	bool all = true;
	json_t *o;

	for (unsigned j = 0; j < n; j++)
		all = all && covers(r, res[j]);
	o = json_pack("{s:I,s:o,s:b,s:b,s:b,s:b,s:i,s:o,s:I,s:s}", "index",
		      (json_int_t)(r - p->rules), "resources",
		      strings(r->resources, r->n_resources), "here", r->here, "requester",
		      is_requester(r, uid), "covers", all, "chosen", r == chosen, "approvals",
		      (int)r->approvals, "approvers", strings(r->approvers, r->n_approvers),
		      "max_duration_s", (json_int_t)r->max_duration_s, "reason",
		      r->reason_required ? "required" : "optional");
	if (o && r->reason_pattern)
		json_object_set_new(o, "reason_pattern", json_string(r->reason_pattern));
	if (o && r != chosen) {
		if (!why) {
			snprintf(buf, sizeof(buf),
				 "rule %td is preferred (fewer approvals, then a longer maximum)",
				 chosen - p->rules);
			why = buf;
		}
		json_object_set_new(o, "why_not", json_string(why));
	}
	return o;
}

/* "request: 1 approval from group:sre, at most 1h, reason required" into buf. */
static void request_answer(const struct policy_rule *r, char *buf, size_t len)
{
	char who[512], d[32];
	size_t off;

	if (r->approvals)
		off = snprintf(buf, len, "request: %u approval%s from %s", r->approvals,
			       r->approvals == 1 ? "" : "s",
			       joined(r->approvers, r->n_approvers, who, sizeof(who)));
	else
		off = snprintf(buf, len, "request: granted at once, no approval");
	if (off < len)
		off += snprintf(buf + off, len - off, ", at most %s",
				util_format_duration(r->max_duration_s, d, sizeof(d)));
	if (off < len && r->reason_pattern)
		snprintf(buf + off, len - off, ", a reason matching %s", r->reason_pattern);
	else if (off < len && r->reason_required)
		snprintf(buf + off, len - off, ", a reason required");
}

/* The one-line answer of explain: exempt, the grants held, how to request, admin rights. */
static json_t *answer(const struct policy *p, const struct policy_rule *chosen, uid_t uid,
		      const char *user, char res[][POLICY_MAX_NAME], unsigned n, json_t *holds)
{
	char buf[2048], part[1024], names[256];
	size_t off = 0, i;
	json_t *v;

	names[0] = 0;
	for (unsigned j = 0, o = 0; j < n && o < sizeof(names); j++)
		o += snprintf(names + o, sizeof(names) - o, "%s%s", j ? ", " : "", res[j]);
	if (policy_exempts_uid(p, uid))
		off += snprintf(buf + off, sizeof(buf) - off,
				"exempt: jitd never checks %s's accesses; ", user);
	json_array_foreach(holds, i, v) {
		if (off < sizeof(buf))
			off += snprintf(buf + off, sizeof(buf) - off, "%s%" JSON_INTEGER_FORMAT,
					i			     ? ", "
					: json_array_size(holds) > 1 ? "holds grants "
								     : "holds grant ",
					json_integer_value(v));
		if (i + 1 == json_array_size(holds) && off < sizeof(buf))
			off += snprintf(buf + off, sizeof(buf) - off, "; ");
	}
	if (chosen)
		request_answer(chosen, part, sizeof(part));
	else
		snprintf(part, sizeof(part), "no rule lets %s request %s", user, names);
	if (off < sizeof(buf))
		off += snprintf(buf + off, sizeof(buf) - off, "%s", part);
	if (req_is_admin(p, uid) && off < sizeof(buf))
		snprintf(buf + off, sizeof(buf) - off, "; admin: may grant %s directly", names);
	return json_string(buf);
}

json_t *explain_build(const struct policy *p, uid_t uid, const char *user,
		      char res[][POLICY_MAX_NAME], unsigned n, json_t *holds)
{
	const struct policy_rule *chosen;
	char err[512];
	json_t *o, *rules, *names = json_array();

	if (!holds)
		holds = json_array();
	for (unsigned j = 0; names && j < n; j++)
		json_array_append_new(names, json_string(res[j]));
	chosen = req_find_rule(p, uid, res, n, err, sizeof(err));
	o = json_pack("{s:s,s:I,s:o,s:b,s:b,s:o,s:o,s:[]}", "user", user, "uid", (json_int_t)uid,
		      "resources", names, "exempt", policy_exempts_uid(p, uid), "admin",
		      req_is_admin(p, uid), "answer", answer(p, chosen, uid, user, res, n, holds),
		      "holds", holds, "rules");
	rules = json_object_get(o, "rules");
	for (size_t i = 0; rules && i < p->n_rules; i++) {
		const struct policy_rule *r = &p->rules[i];
		bool any = false;

		for (unsigned j = 0; j < n; j++)
			any = any || covers(r, res[j]);
		if (any &&
		    json_array_append_new(rules, rule_entry(p, r, chosen, uid, user, res, n))) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}
