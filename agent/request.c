// SPDX-License-Identifier: GPL-2.0-only
/*
 * Requests: which rule lets a user ask for which resources, whether a duration and a
 * reason are acceptable, who may approve or deny, and when a request has enough
 * approvals. Pure logic on struct grant and struct policy (users and groups resolved
 * through NSS), unit-tested without root; grant.c persists and enforces the results.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jitd.h"
#include "util.h"

#define NS_PER_S   1000000000LL
#define MAX_GROUPS 1024

/* Does principal ("user:NAME" or "group:NAME") name uid (its primary or any group)? */
bool req_principal_match(const char *principal, uid_t uid)
{
	struct passwd pw, *pres = NULL;
	struct group gr, *gres = NULL;
	char buf[8192], gbuf[8192];
	gid_t groups[MAX_GROUPS];
	int n = MAX_GROUPS;

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &pres) || !pres)
		return false;
	if (!strncmp(principal, "user:", 5))
		return !strcmp(principal + 5, pw.pw_name);
	if (strncmp(principal, "group:", 6))
		return false;
	if (getgrnam_r(principal + 6, &gr, gbuf, sizeof(gbuf), &gres) || !gres)
		return false;
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0)
		n = MAX_GROUPS; /* truncated: check what we have */
	for (int i = 0; i < n; i++)
		if (groups[i] == gr.gr_gid)
			return true;
	return false;
}

static bool match_any(char *const *list, size_t n, uid_t uid)
{
	for (size_t i = 0; i < n; i++)
		if (req_principal_match(list[i], uid))
			return true;
	return false;
}

/* Root, or a member of the policy's "admins". */
bool req_is_admin(const struct policy *p, uid_t uid)
{
	return uid == 0 || (p && match_any(p->admins, p->n_admins, uid));
}

static bool rule_covers(const struct policy_rule *r, const char *res)
{
	for (size_t i = 0; i < r->n_resources; i++)
		if (!strcmp(r->resources[i], res))
			return true;
	return false;
}

/*
 * The rule that lets uid request all of res: of the rules naming uid as a requester and
 * covering every resource, the one needing the fewest approvals (then the longest
 * maximum). NULL with the reason in err when there is none.
 */
const struct policy_rule *req_find_rule(const struct policy *p, uid_t uid,
					char res[][POLICY_MAX_NAME], unsigned n, char *err,
					size_t errlen)
{
	const struct policy_rule *best = NULL;
	bool any_requester = false;

	for (size_t i = 0; i < p->n_rules; i++) {
		const struct policy_rule *r = &p->rules[i];
		unsigned j;

		if (!match_any(r->requesters, r->n_requesters, uid))
			continue;
		any_requester = true;
		for (j = 0; j < n && rule_covers(r, res[j]); j++)
			;
		if (j < n)
			continue;
		if (!best || r->approvals < best->approvals ||
		    (r->approvals == best->approvals && r->max_duration_s > best->max_duration_s))
			best = r;
	}
	if (best)
		return best;
	for (unsigned j = 0; j < n; j++)
		if (!policy_find(p, res[j])) {
			snprintf(err, errlen, "unknown resource '%s'", res[j]);
			return NULL;
		}
	if (!any_requester)
		snprintf(err, errlen,
			 "uid %u may not request access: no rule lists you as a requester", uid);
	else if (n == 1)
		snprintf(err, errlen, "no rule lets uid %u request '%s'", uid, res[0]);
	else
		snprintf(err, errlen,
			 "no single rule lets uid %u request all of these resources; "
			 "request them separately",
			 uid);
	return NULL;
}

/* Is a request for duration_s with reason (or NULL) acceptable under rule r? 0 or -EINVAL. */
int req_check(const struct policy_rule *r, int64_t duration_s, const char *reason, char *err,
	      size_t errlen)
{
	char a[32], b[32];

	if (duration_s < 1 || duration_s > r->max_duration_s) {
		snprintf(err, errlen, "duration %s exceeds the rule's maximum of %s",
			 util_format_duration(duration_s, a, sizeof(a)),
			 util_format_duration(r->max_duration_s, b, sizeof(b)));
		return -EINVAL;
	}
	if (reason && !*reason)
		reason = NULL;
	if (!reason && r->reason_required) {
		snprintf(err, errlen, "a reason is required (--reason%s%s)",
			 r->reason_pattern ? " matching " : "", r->reason_pattern ?: "");
		return -EINVAL;
	}
	if (reason && r->reason_pattern && regexec(&r->reason_re, reason, 0, NULL, 0)) {
		snprintf(err, errlen, "reason '%.128s' does not match the required pattern %s",
			 reason, r->reason_pattern);
		return -EINVAL;
	}
	return 0;
}

/* Append one entry to g's history. */
void req_history_add(struct grant *g, const char *event, uid_t uid, const char *reason,
		     int64_t now_ns)
{
	struct passwd pw, *res = NULL;
	char at[40], buf[4096];
	json_t *e;

	if (!g->history)
		g->history = json_array();
	e = json_pack("{s:s,s:i,s:s}", "event", event, "uid", (int)uid, "at",
		      util_format_time(now_ns, at, sizeof(at)));
	if (!e)
		return;
	if (!getpwuid_r(uid, &pw, buf, sizeof(buf), &res) && res)
		json_object_set_new(e, "user", json_string(pw.pw_name));
	if (reason && *reason)
		json_object_set_new(e, "reason", json_string(reason));
	json_array_append_new(g->history, e);
}

static bool has_approved(const struct grant *g, uid_t uid)
{
	size_t i;
	json_t *e;

	json_array_foreach(g->history, i, e) {
		if (!strcmp(json_string_value(json_object_get(e, "event")) ?: "", "approved") &&
		    json_integer_value(json_object_get(e, "uid")) == (json_int_t)uid)
			return true;
	}
	return false;
}

/* Approvals given so far: each approver counts once. */
unsigned req_approval_count(const struct grant *g)
{
	unsigned n = 0;
	size_t i;
	json_t *e;

	json_array_foreach(g->history, i, e) {
		if (!strcmp(json_string_value(json_object_get(e, "event")) ?: "", "approved"))
			n++;
	}
	return n;
}

/* May uid approve or deny g? 0, or -EPERM / -EINVAL with the reason in err. */
static int may_decide(const struct grant *g, uid_t by, const char *verb, char *err, size_t errlen)
{
	size_t i;
	json_t *v;

	if (g->state != GRANT_PENDING) {
		snprintf(err, errlen, "request %llu is not pending", (unsigned long long)g->id);
		return -EINVAL;
	}
	if (by == g->requester_uid) {
		snprintf(err, errlen, "nobody may %s their own request (%llu)", verb,
			 (unsigned long long)g->id);
		return -EPERM;
	}
	json_array_foreach(g->approvers, i, v) {
		if (json_is_string(v) && req_principal_match(json_string_value(v), by))
			return 0;
	}
	snprintf(err, errlen, "uid %u is not an approver of request %llu", by,
		 (unsigned long long)g->id);
	return -EPERM;
}

/*
 * Record by's approval of pending request g. Returns 1 when g now has all its approvals
 * (the caller activates it), 0 when more are needed, or -EPERM/-EINVAL/-EALREADY.
 */
int req_approve(struct grant *g, uid_t by, const char *reason, int64_t now_ns, char *err,
		size_t errlen)
{
	int r = may_decide(g, by, "approve", err, errlen);

	if (r)
		return r;
	if (has_approved(g, by)) {
		snprintf(err, errlen,
			 "uid %u already approved request %llu; it needs %u different "
			 "approvers",
			 by, (unsigned long long)g->id, g->approvals_needed);
		return -EALREADY;
	}
	req_history_add(g, "approved", by, reason, now_ns);
	g->by_uid = by;
	return req_approval_count(g) >= g->approvals_needed;
}

/* Deny pending request g (a reason is required). 0 or negative errno. */
int req_deny(struct grant *g, uid_t by, const char *reason, int64_t now_ns, char *err,
	     size_t errlen)
{
	int r = may_decide(g, by, "deny", err, errlen);

	if (r)
		return r;
	if (!reason || !*reason) {
		snprintf(err, errlen, "a denial needs a reason (--reason TEXT)");
		return -EINVAL;
	}
	req_history_add(g, "denied", by, reason, now_ns);
	g->state = GRANT_DENIED;
	g->ended_ns = now_ns;
	return 0;
}

/*
 * The new expiry of active grant g extended by add_s, never past its start plus its
 * maximum duration. -ERANGE when it is already at the maximum.
 */
int req_extend(const struct grant *g, int64_t add_s, int64_t *new_expires_ns, char *err,
	       size_t errlen)
{
	int64_t max_s = g->max_duration_s ? g->max_duration_s : JITD_MAX_DURATION_S;
	int64_t limit = g->starts_ns + max_s * NS_PER_S, want = g->expires_ns + add_s * NS_PER_S;
	char buf[32];

	if (g->state != GRANT_ACTIVE) {
		snprintf(err, errlen, "grant %llu is not active", (unsigned long long)g->id);
		return -EINVAL;
	}
	if (g->expires_ns >= limit) {
		snprintf(err, errlen, "grant %llu is already at its maximum duration of %s",
			 (unsigned long long)g->id, util_format_duration(max_s, buf, sizeof(buf)));
		return -ERANGE;
	}
	*new_expires_ns = want < limit ? want : limit;
	return 0;
}
