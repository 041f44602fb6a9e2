// SPDX-License-Identifier: GPL-2.0-only
/*
 * Requests: which rule lets a user ask for which resources, whether a duration and a
 * reason are acceptable, who may approve or deny, and when a request has enough
 * approvals; and whether a grant read back from the state file is one jitd could have
 * made. Pure logic on struct grant and struct policy (users and groups resolved
 * through NSS), unit-tested without root; grant.c persists and enforces the results.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jitd_abi.h"
#include "history.h"
#include "request.h"
#include "util.h"

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

/* Is uid one of the principals in text (a JSON array of strings)? */
static bool json_names(const char *text, uid_t uid)
{
	json_t *arr = req_json_list(text), *v;
	bool found = false;
	size_t i;

	json_array_foreach(arr, i, v) {
		if (json_is_string(v) && req_principal_match(json_string_value(v), uid)) {
			found = true;
			break;
		}
	}
	json_decref(arr);
	return found;
}

bool req_may_extend(const struct policy *p, const struct grant *g, uid_t by)
{
	if (req_is_admin(p, by))
		return true;
	/* the requester, of what needed no approval */
	if ((g->kind == GRANT_REQUEST || g->kind == GRANT_EXEC) && g->requester_uid == by &&
	    !g->approvals_needed)
		return true;
	/* an approver of the request, never its requester */
	return g->kind == GRANT_REQUEST && g->requester_uid != by && json_names(g->approvers, by);
}

bool req_may_revoke(const struct policy *p, const struct grant *g, uid_t by)
{
	return req_is_admin(p, by) || g->requester_uid == by ||
	       (g->has_uid && g->uid == by && g->kind != GRANT_FLEET);
}

bool req_may_read_audit(uid_t by)
{
	return by == 0;
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
 * maximum). NULL with the reason in err when there is none. Rules for other hosts count
 * when sel is given and they could hold on a host of it (a fleet request), never otherwise.
 */
static const struct policy_rule *find_rule(const struct policy *p, uid_t uid,
					   char res[][POLICY_MAX_NAME], unsigned n,
					   const json_t *sel, char *err, size_t errlen)
{
	const struct policy_rule *best = NULL;
	bool any_requester = false;

	for (size_t i = 0; i < p->n_rules; i++) {
		const struct policy_rule *r = &p->rules[i];
		unsigned j;

		if (!(sel ? policy_hosts_compatible(sel, r->hosts) : r->here) ||
		    !match_any(r->requesters, r->n_requesters, uid))
			continue; /* a rule for other hosts ("hosts" selector), or other users */
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

const struct policy_rule *req_find_rule(const struct policy *p, uid_t uid,
					char res[][POLICY_MAX_NAME], unsigned n, char *err,
					size_t errlen)
{
	return find_rule(p, uid, res, n, NULL, err, errlen);
}

const struct policy_rule *req_find_fleet_rule(const struct policy *p, uid_t uid,
					      char res[][POLICY_MAX_NAME], unsigned n,
					      const json_t *sel, char *err, size_t errlen)
{
	return find_rule(p, uid, res, n, sel, err, errlen);
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
	/* bounded before any pattern sees it: matching time stays small */
	if (reason && strlen(reason) > GRANT_MAX_REASON) {
		snprintf(err, errlen, "the reason is longer than %d bytes", GRANT_MAX_REASON);
		return -EINVAL;
	}
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

json_t *req_json_list(const char *text)
{
	json_t *v;

	if (!text)
		return json_array();
	v = json_loads(text, 0, NULL);
	if (v && !json_is_array(v)) {
		json_decref(v);
		return NULL;
	}
	return v;
}

int req_json_list_set(char **text, const json_t *arr)
{
	char *t = NULL;

	if (arr && !(t = json_dumps(arr, JSON_COMPACT)))
		return -ENOMEM;
	free(*text);
	*text = t;
	return 0;
}

/* One history entry: event, uid, at, user (when known) and reason (when given). */
static json_t *history_entry(const char *event, uid_t uid, const char *reason, int64_t now_ns)
{
	struct passwd pw, *res = NULL;
	char at[40], buf[4096];
	json_t *e;

	e = json_pack("{s:s,s:I,s:s}", "event", event, "uid", (json_int_t)uid, "at",
		      util_format_time(now_ns, at, sizeof(at)));
	if (!e)
		return NULL;
	if (!getpwuid_r(uid, &pw, buf, sizeof(buf), &res) && res)
		json_object_set_new(e, "user", json_string(pw.pw_name));
	if (reason && *reason)
		json_object_set_new(e, "reason", json_string(reason));
	return e;
}

/* Append entry e (taken over) to g's history text. 0 or -ENOMEM (history unchanged). */
static int history_append(struct grant *g, json_t *e)
{
	json_t *h = hist_decode(g->history);
	int r = -ENOMEM;
	char *t;

	if (h && e && !json_array_append(h, e) && !(r = hist_encode(h, &t))) {
		free(g->history);
		g->history = t;
	}
	json_decref(h);
	json_decref(e);
	return r;
}

/* Whether g's history is full (no more extensions): GRANT_HISTORY_ENTRIES entries, or
 * more than GRANT_HISTORY_MAX bytes. */
_Static_assert(GRANT_HISTORY_ENTRIES < 255, "hist_count says 255 for any more");

bool req_history_full(const struct grant *g)
{
	return hist_count(g->history) >= GRANT_HISTORY_ENTRIES ||
	       hist_size(g->history) > GRANT_HISTORY_MAX;
}

/* Append one entry to g's history. */
void req_history_add(struct grant *g, const char *event, uid_t uid, const char *reason,
		     int64_t now_ns)
{
	history_append(g, history_entry(event, uid, reason, now_ns));
}

/* The distinct uids of g's "approved" entries, at most max of them in uids: their number,
 * or -ENOMEM when the history cannot be read. */
static int approvers_of(const struct grant *g, json_int_t *uids, size_t max)
{
	json_t *h = hist_decode(g->history), *e;
	size_t i, n = 0;

	if (!h)
		return -ENOMEM;
	json_array_foreach(h, i, e) {
		json_int_t u = json_integer_value(json_object_get(e, "uid"));
		size_t k = 0;

		/* written as a negative int before: the same uid (uids are 32 bits) */
		if (u < 0 && u >= INT32_MIN)
			u = (json_int_t)(uint32_t)u;
		if (strcmp(json_string_value(json_object_get(e, "event")) ?: "", "approved"))
			continue;
		while (k < n && uids[k] != u)
			k++;
		if (k == n && n < max)
			uids[n++] = u;
	}
	json_decref(h);
	return (int)n;
}

#define APPROVERS_SEEN (2 * POLICY_MAX_APPROVALS)

/* Whether uid approved g already; true when the history cannot be read (fail closed: no
 * second approval by anyone then). */
static bool has_approved(const struct grant *g, uid_t uid)
{
	json_int_t uids[APPROVERS_SEEN];
	int n = approvers_of(g, uids, APPROVERS_SEEN);

	for (int k = 0; k < n; k++)
		if (uids[k] == (json_int_t)uid)
			return true;
	return n < 0;
}

/* Approvals given so far: each approver counts once (0 when the history cannot be read:
 * not enough, fail closed). */
unsigned req_approval_count(const struct grant *g)
{
	json_int_t uids[APPROVERS_SEEN];
	int n = approvers_of(g, uids, APPROVERS_SEEN);

	return n < 0 ? 0 : (unsigned)n;
}

/* May uid approve or deny g? 0, or -EPERM / -EINVAL with the reason in err. */
static int may_decide(const struct grant *g, uid_t by, const char *verb, char *err, size_t errlen)
{
	if (g->state != GRANT_PENDING) {
		snprintf(err, errlen, "request %llu is not pending", (unsigned long long)g->id);
		return -EINVAL;
	}
	if (by == g->requester_uid) {
		snprintf(err, errlen, "nobody may %s their own request (%llu)", verb,
			 (unsigned long long)g->id);
		return -EPERM;
	}
	if (json_names(g->approvers, by))
		return 0;
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

/* ---- break-glass: granted at once within the rule's break_glass_max, reviewed after ---- */

/* Why no break-glass rule serves uid for res, into err (called when none does). */
static void no_break_glass_rule(const struct policy *p, uid_t uid, char res[][POLICY_MAX_NAME],
				unsigned n, bool *enoent, char *err, size_t errlen)
{
	char why[256];
	size_t i;

	for (unsigned j = 0; j < n; j++)
		if (!policy_find(p, res[j])) {
			*enoent = true;
			snprintf(err, errlen, "unknown resource '%s'", res[j]);
			return;
		}
	/* the ordinary rule's refusal says what is wrong with the requester or resources */
	if (!find_rule(p, uid, res, n, NULL, why, sizeof(why))) {
		snprintf(err, errlen, "no break-glass: %s", why);
		return;
	}
	for (i = 0; i < p->n_rules; i++) {
		const struct policy_rule *r = &p->rules[i];
		unsigned j;

		for (j = 0; j < n && rule_covers(r, res[j]); j++)
			;
		if (r->here && j == n && match_any(r->requesters, r->n_requesters, uid))
			break;
	}
	snprintf(err, errlen,
		 "no break-glass: rule %zu (and every other rule that lets uid %u request %s%s) "
		 "has no 'break_glass_max'",
		 i, uid, res[0], n > 1 ? " and the rest" : "");
}

const struct policy_rule *req_find_break_glass_rule(const struct policy *p, uid_t uid,
						    char res[][POLICY_MAX_NAME], unsigned n,
						    bool *enoent, char *err, size_t errlen)
{
	const struct policy_rule *best = NULL;

	*enoent = false;
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct policy_rule *r = &p->rules[i];
		unsigned j;

		if (!r->here || !r->break_glass_max_s ||
		    (best && r->break_glass_max_s <= best->break_glass_max_s))
			continue;
		for (j = 0; j < n && rule_covers(r, res[j]); j++)
			;
		if (j == n && match_any(r->requesters, r->n_requesters, uid))
			best = r;
	}
	if (!best)
		no_break_glass_rule(p, uid, res, n, enoent, err, errlen);
	return best;
}

int req_check_break_glass(const struct policy_rule *r, int64_t duration_s, const char *reason,
			  char *err, size_t errlen)
{
	char a[32], b[32];

	if (!reason || !*reason) {
		snprintf(err, errlen, "break-glass needs a reason (--reason TEXT%s%s)",
			 r->reason_pattern ? " matching " : "", r->reason_pattern ?: "");
		return -EINVAL;
	}
	if (duration_s < 1 || duration_s > r->break_glass_max_s) {
		snprintf(err, errlen, "duration %s exceeds the rule's break_glass_max of %s",
			 util_format_duration(duration_s, a, sizeof(a)),
			 util_format_duration(r->break_glass_max_s, b, sizeof(b)));
		return -EINVAL;
	}
	/* length and pattern as for any request (break_glass_max <= max_duration) */
	return req_check(r, duration_s, reason, err, errlen);
}

int req_may_review(const struct policy *p, const struct grant *g, uid_t by, char *err,
		   size_t errlen)
{
	if (by == g->requester_uid) {
		snprintf(err, errlen, "nobody may review their own break-glass (grant %llu)",
			 (unsigned long long)g->id);
		return -EPERM;
	}
	if (req_is_admin(p, by) || json_names(g->approvers, by))
		return 0;
	snprintf(err, errlen,
		 "uid %u may not review grant %llu (its rule's approvers, root and admins may)", by,
		 (unsigned long long)g->id);
	return -EPERM;
}

int req_review(const struct policy *p, struct grant *g, uid_t by, bool flag, const char *reason,
	       int64_t now_ns, char *err, size_t errlen)
{
	json_t *e;
	int r;

	if (!g->break_glass) {
		snprintf(err, errlen, "grant %llu is not a break-glass grant: nothing to review",
			 (unsigned long long)g->id);
		return -EINVAL;
	}
	r = req_may_review(p, g, by, err, errlen);
	if (r)
		return r;
	if (g->review != GRANT_REVIEW_UNREVIEWED) {
		snprintf(err, errlen, "grant %llu was already reviewed (%s)",
			 (unsigned long long)g->id, req_review_name(g->review));
		return -EALREADY;
	}
	if (flag && (!reason || !*reason)) {
		snprintf(err, errlen, "flagging needs a reason (--reason TEXT)");
		return -EINVAL;
	}
	e = history_entry("reviewed", by, reason, now_ns);
	if (!e || json_object_set_new(e, "verdict", json_string(flag ? "flag" : "approve")) ||
	    history_append(g, json_incref(e))) {
		json_decref(e);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	json_decref(e);
	g->review = flag ? GRANT_REVIEW_FLAGGED : GRANT_REVIEW_APPROVED;
	return 0;
}

/* t + s seconds in ns, saturating instead of overflowing. */
static int64_t add_seconds(int64_t t, int64_t s)
{
	int64_t ns, r;

	if (__builtin_mul_overflow(s, NS_PER_S, &ns))
		return s < 0 ? INT64_MIN : INT64_MAX;
	if (__builtin_add_overflow(t, ns, &r))
		return ns < 0 ? INT64_MIN : INT64_MAX;
	return r;
}

/*
 * The new expiry of active grant g extended by add_s, never past its start plus its
 * maximum duration. -ERANGE when it is already at the maximum.
 */
int req_extend(const struct grant *g, int64_t add_s, int64_t *new_expires_ns, char *err,
	       size_t errlen)
{
	int64_t max_s = g->max_duration_s ? g->max_duration_s : JITD_MAX_DURATION_S;
	int64_t limit, want;
	char buf[32];

	/* the state file is untrusted: never past JITD_MAX_DURATION_S, never overflowing */
	if (max_s < 0 || max_s > JITD_MAX_DURATION_S)
		max_s = JITD_MAX_DURATION_S;
	limit = add_seconds(g->starts_ns, max_s);
	want = add_seconds(g->expires_ns, add_s);
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

/* ---- grants read back from the state file: checked like user input ---- */

static const char *const state_names[] = {[GRANT_ACTIVE] = "active",
					  [GRANT_EXPIRED] = "expired",
					  [GRANT_REVOKED] = "revoked",
					  [GRANT_PENDING] = "pending",
					  [GRANT_DENIED] = "denied"};

static const char *const kind_names[] = {[GRANT_DIRECT] = "direct",
					 [GRANT_REQUEST] = "request",
					 [GRANT_EXEC] = "exec",
					 [GRANT_FLEET] = "fleet"};

static const char *const review_names[] = {[GRANT_REVIEW_NONE] = "",
					   [GRANT_REVIEW_UNREVIEWED] = "unreviewed",
					   [GRANT_REVIEW_APPROVED] = "approved",
					   [GRANT_REVIEW_FLAGGED] = "flagged"};

#define N_STATES	     (sizeof(state_names) / sizeof(state_names[0]))
#define N_KINDS		     (sizeof(kind_names) / sizeof(kind_names[0]))
#define STATE_MAX_TEXT	     4096 /* reason and cgroup path of a state entry */
#define FLEET_MAX_DURATION_S ((JITD_TIME_MAX_NS - JITD_TIME_MIN_NS) / NS_PER_S)

/* The state file's name of a grant state. */
const char *req_state_name(enum grant_state s)
{
	return (unsigned)s < N_STATES && state_names[s] ? state_names[s] : "unknown";
}

/* The state file's name of a review state. */
const char *req_review_name(enum grant_review r)
{
	return (unsigned)r < sizeof(review_names) / sizeof(review_names[0]) ? review_names[r]
									    : "unknown";
}

/* The state file's name of a grant kind. */
const char *req_kind_name(enum grant_kind k)
{
	return (unsigned)k < N_KINDS ? kind_names[k] : "unknown";
}

/* Free what a grant owns (strings, JSON); the grant itself is the caller's. */

/*
 * The store's resource lists, one copy of each distinct list shared by the grants that name
 * it (100,000 grants of one resource hold one 64-byte name, not 100,000): an open-addressing
 * table (linear probing, backward-shift deletion) of reference-counted lists. A grant owns
 * one reference (res_owned); a struct copy moves it, as the whole store does with its
 * strings. jitd has one thread.
 */
struct res_list {
	uint64_t hash;
	unsigned n, refs;
	char (*names)[POLICY_MAX_NAME]; /* n entries, zero past each name; NULL: free slot */
};
static struct res_list *rl_tab;
static size_t rl_cap, rl_used;

static uint64_t res_hash(char (*names)[POLICY_MAX_NAME], unsigned n)
{
	uint64_t h = 1469598103934665603ULL ^ n;

	for (unsigned i = 0; i < n; i++)
		for (const unsigned char *c = (const unsigned char *)names[i];; c++) {
			h = (h ^ *c) * 1099511628211ULL;
			if (!*c)
				break;
		}
	return h;
}

static bool res_same(const struct res_list *l, uint64_t h, char (*names)[POLICY_MAX_NAME],
		     unsigned n)
{
	if (l->hash != h || l->n != n)
		return false;
	for (unsigned i = 0; i < n; i++)
		if (strcmp(l->names[i], names[i]))
			return false;
	return true;
}

static int res_grow(void)
{
	size_t cap = rl_cap ? rl_cap * 2 : 64;
	struct res_list *t = calloc(cap, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < rl_cap; i++) {
		size_t j = rl_tab[i].hash & (cap - 1);

		if (!rl_tab[i].names)
			continue;
		while (t[j].names)
			j = (j + 1) & (cap - 1);
		t[j] = rl_tab[i];
	}
	free(rl_tab);
	rl_tab = t;
	rl_cap = cap;
	return 0;
}

/* One more reference to the shared list equal to names[0..n): it, or NULL (no memory). */
static char (*res_ref(char (*names)[POLICY_MAX_NAME], unsigned n))[POLICY_MAX_NAME]
{
	uint64_t h = res_hash(names, n);
	size_t i;

	if ((rl_used + 1) * 2 > rl_cap && res_grow())
		return NULL;
	for (i = h & (rl_cap - 1); rl_tab[i].names; i = (i + 1) & (rl_cap - 1))
		if (res_same(&rl_tab[i], h, names, n)) {
			rl_tab[i].refs++;
			return rl_tab[i].names;
		}
	rl_tab[i].names = calloc(n ?: 1, sizeof(*names));
	if (!rl_tab[i].names)
		return NULL;
	for (unsigned k = 0; k < n; k++)
		snprintf(rl_tab[i].names[k], sizeof(*names), "%s", names[k]);
	rl_tab[i].hash = h;
	rl_tab[i].n = n;
	rl_tab[i].refs = 1;
	rl_used++;
	return rl_tab[i].names;
}

/* Drop a reference taken by res_ref: the list (and the table, once empty) is freed at 0. */
static void res_unref(char (*names)[POLICY_MAX_NAME], unsigned n)
{
	uint64_t h = res_hash(names, n);
	size_t i, j;

	for (i = h & (rl_cap - 1); rl_cap && rl_tab[i].names != names; i = (i + 1) & (rl_cap - 1))
		if (!rl_tab[i].names)
			abort(); /* not a shared list: a grant's ownership was broken */
	if (!rl_cap)
		abort();
	if (--rl_tab[i].refs)
		return;
	free(rl_tab[i].names);
	rl_tab[i].names = NULL;
	rl_used--;
	/* backward shift: move later members of the run into the hole they may occupy */
	for (j = (i + 1) & (rl_cap - 1); rl_tab[j].names; j = (j + 1) & (rl_cap - 1)) {
		size_t home = rl_tab[j].hash & (rl_cap - 1);

		if (((j - home) & (rl_cap - 1)) >= ((j - i) & (rl_cap - 1))) {
			rl_tab[i] = rl_tab[j];
			rl_tab[j].names = NULL;
			i = j;
		}
	}
	if (!rl_used) {
		free(rl_tab);
		rl_tab = NULL;
		rl_cap = 0;
	}
}

size_t req_res_lists(void)
{
	return rl_used;
}

int req_grant_own_res(struct grant *g)
{
	char(*r)[POLICY_MAX_NAME];

	if (g->res_owned)
		return 0;
	r = res_ref(g->res, g->n_res);
	if (!r)
		return -ENOMEM;
	g->res = r;
	g->res_owned = true;
	return 0;
}

void req_grant_clear(struct grant *g)
{
	free(g->cgroup);
	free(g->reason);
	free(g->fleet_key);
	free(g->unit);
	free(g->approvers);
	free(g->history);
	if (g->res_owned)
		res_unref(g->res, g->n_res);
	g->res = NULL;
	g->n_res = 0;
	g->res_owned = false;
	g->cgroup = g->reason = g->fleet_key = g->unit = NULL;
	g->approvers = g->history = NULL;
}

/* Integer field key of o in [min, max] into *out; absent: 0, or an error when required. */
static int st_int(json_t *o, const char *key, bool required, int64_t min, int64_t max, int64_t *out,
		  char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	*out = 0;
	if (!v && !required)
		return 0;
	if (!v) {
		snprintf(err, errlen, "no '%s'", key);
		return -EINVAL;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		snprintf(err, errlen, "'%s' is not an integer in [%lld, %lld]", key, (long long)min,
			 (long long)max);
		return -EINVAL;
	}
	*out = json_integer_value(v);
	return 0;
}

/* Optional string field key of o (at most STATE_MAX_TEXT bytes) into *out, copied. */
static int st_str(json_t *o, const char *key, char **out, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v) || json_string_length(v) > STATE_MAX_TEXT ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(err, errlen, "'%s' is not a string of at most %d bytes", key,
			 STATE_MAX_TEXT);
		return -EINVAL;
	}
	*out = strdup(json_string_value(v));
	return *out ? 0 : -ENOMEM;
}

/* Name field key of o: one of names[0..n), required when no default (dflt < 0). */
static int st_enum(json_t *o, const char *key, const char *const *names, size_t n, int dflt,
		   int *out, char *err, size_t errlen)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (!json_object_get(o, key) && dflt >= 0) {
		*out = dflt;
		return 0;
	}
	for (size_t i = 0; s && i < n; i++)
		if (names[i] && !strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
	snprintf(err, errlen, "'%s' is %s%.32s%s, not a known %s", key, s ? "'" : "",
		 s ?: (json_object_get(o, key) ? "not a string" : "missing"), s ? "'" : "", key);
	return -EINVAL;
}

static int st_resources(json_t *o, struct grant *g, char *err, size_t errlen)
{
	json_t *arr = json_object_get(o, "resources"), *one = json_object_get(o, "resource"), *v;
	size_t i;

	char names[GRANT_MAX_RES][POLICY_MAX_NAME];

	g->n_res = 0;
	g->res = names; /* then a copy of its own, of n_res entries */
	if (!arr && json_is_string(one)) {
		arr = json_array();
		if (!arr || json_array_append(arr, one)) {
			json_decref(arr);
			g->res = NULL;
			return -ENOMEM;
		}
	} else {
		json_incref(arr);
	}
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || g->n_res >= GRANT_MAX_RES ||
		    json_string_length(v) >= POLICY_MAX_NAME || !json_string_length(v))
			break;
		memcpy(g->res[g->n_res++], json_string_value(v), json_string_length(v) + 1);
	}
	if (!json_is_array(arr) || !g->n_res || i < json_array_size(arr)) {
		snprintf(err, errlen, "'resources' is not a list of 1 to %d resource names",
			 GRANT_MAX_RES);
		json_decref(arr);
		g->res = NULL;
		return -EINVAL;
	}
	json_decref(arr);
	if (req_grant_own_res(g)) {
		g->res = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* id, state, kind, uids and counts of a state entry. */
static int st_numbers(json_t *o, struct grant *g, char *err, size_t errlen)
{
	const int64_t uid_max = JITD_ANY_UID - 1;
	int64_t v[7];
	int st, kind, r;

	r = st_int(o, "id", true, 1, GRANT_MAX_ID - 1, &v[0], err, errlen) ?:
	    st_enum(o, "state", state_names, N_STATES, -1, &st, err, errlen) ?:
	    st_enum(o, "kind", kind_names, N_KINDS, GRANT_DIRECT, &kind, err, errlen) ?:
	    st_int(o, "requester_uid", false, 0, uid_max, &v[1], err, errlen) ?:
	    st_int(o, "by_uid", false, 0, uid_max, &v[2], err, errlen) ?:
	    st_int(o, "duration_s", false, 0, FLEET_MAX_DURATION_S, &v[3], err, errlen) ?:
	    st_int(o, "max_duration_s", false, 0, JITD_MAX_DURATION_S, &v[4], err, errlen) ?:
	    st_int(o, "approvals_needed", false, 0, POLICY_MAX_APPROVALS, &v[5], err, errlen) ?:
	    st_int(o, "uid", false, 0, uid_max, &v[6], err, errlen);
	if (r)
		return r;
	/* a fleet grant's window may span years; any other is at most what a rule allows */
	if ((kind != GRANT_FLEET && v[3] > JITD_MAX_DURATION_S) || (v[4] && v[3] > v[4])) {
		snprintf(err, errlen, "'duration_s' %lld is above the %s maximum", (long long)v[3],
			 v[4] ? "rule's" : "global");
		return -ERANGE;
	}
	g->id = v[0];
	g->state = st;
	g->kind = kind;
	g->requester_uid = v[1];
	g->by_uid = v[2];
	g->duration_s = v[3];
	g->max_duration_s = v[4];
	g->approvals_needed = v[5];
	g->has_uid = json_object_get(o, "uid") != NULL;
	g->uid = v[6];
	return 0;
}

/*
 * Times of a state entry: each 0 (unset) or within JITD_TIME_MIN_NS..JITD_TIME_MAX_NS; an
 * active grant has a start before its end; a pending request has its deadline. Same boot:
 * the stored boot-clock times, a window as long as the realtime one (1 s slack). Else (or
 * when they disagree) re-armed from the realtime ones, saturating.
 */
static int st_times(json_t *o, bool same_boot, int64_t real_now, int64_t boot_now, struct grant *g,
		    char *err, size_t errlen)
{
	static const char *const keys[] = {"created_ns", "starts_ns", "expires_ns", "ended_ns"};
	int64_t t[4], sb, eb;
	int r;

	for (int i = 0; i < 4; i++) {
		r = st_int(o, keys[i], false, 0, JITD_TIME_MAX_NS - 1, &t[i], err, errlen);
		if (r)
			return r;
		if (t[i] && !util_time_sane(t[i])) {
			snprintf(err, errlen, "'%s' is %lld, not a time in 2000..2199", keys[i],
				 (long long)t[i]);
			return -ERANGE;
		}
	}
	g->created_ns = t[0];
	g->starts_ns = t[1];
	g->expires_ns = t[2];
	g->ended_ns = t[3];
	if ((g->state == GRANT_ACTIVE && (!g->starts_ns || g->expires_ns <= g->starts_ns)) ||
	    (g->state == GRANT_PENDING && !g->expires_ns)) {
		snprintf(err, errlen, "%s grant without a start before its end",
			 req_state_name(g->state));
		return -ERANGE;
	}
	g->starts_boot = util_real_to_boot(g->starts_ns, real_now, boot_now);
	g->expires_boot = util_real_to_boot(g->expires_ns, real_now, boot_now);
	if (!same_boot || st_int(o, "starts_boot", true, 0, INT64_MAX, &sb, err, errlen) ||
	    st_int(o, "expires_boot", true, 0, INT64_MAX, &eb, err, errlen))
		return 0;
	/* same boot: the exact kernel times, when they describe the same window */
	if (eb >= sb && (eb - sb) - (g->expires_ns - g->starts_ns) <= NS_PER_S &&
	    (g->expires_ns - g->starts_ns) - (eb - sb) <= NS_PER_S) {
		g->starts_boot = sb;
		g->expires_boot = eb;
	}
	return 0;
}

/* cgroup (absolute path with its id), reason, fleet key, approvers and history. */
static int st_owned(json_t *o, struct grant *g, char *err, size_t errlen)
{
	json_t *ap = json_object_get(o, "approvers"), *hi = json_object_get(o, "history");
	int64_t cgid;
	int r;

	r = st_str(o, "cgroup", &g->cgroup, err, errlen) ?:
	    st_int(o, "cgroup_id", false, 1, INT64_MAX, &cgid, err, errlen) ?:
	    st_str(o, "reason", &g->reason, err, errlen) ?:
	    st_str(o, "fleet_key", &g->fleet_key, err, errlen);
	if (r)
		return r;
	/* a cgroup without its id (or the reverse) would widen to "anywhere": refused */
	if (!g->cgroup != !cgid || (g->cgroup && g->cgroup[0] != '/')) {
		snprintf(err, errlen,
			 "'cgroup' and 'cgroup_id' must come together (an absolute "
			 "path and its id)");
		return -EINVAL;
	}
	g->cgroup_id = cgid;
	if (!g->has_uid && !g->cgroup) {
		snprintf(err, errlen, "no subject: neither 'uid' nor 'cgroup'");
		return -EINVAL;
	}
	if ((ap && !json_is_array(ap)) || (hi && !json_is_array(hi))) {
		snprintf(err, errlen, "'approvers' and 'history' must be lists");
		return -EINVAL;
	}
	/* text, not the parse tree's nodes: a kept node would hold the whole tree's pages */
	if (ap && !(g->approvers = json_dumps(ap, JSON_COMPACT))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r = hi ? hist_encode(hi, &g->history) : 0;
	if (r)
		snprintf(err, errlen, "%s",
			 r == -E2BIG ? "'history' is larger than 16 MiB" : "out of memory");
	return r;
}

/* "break_glass" (true, only on a request) and its "review" (always with it); absent: an
 * ordinary grant, as state files written before break-glass existed. */
static int st_break_glass(json_t *o, struct grant *g, char *err, size_t errlen)
{
	json_t *bg = json_object_get(o, "break_glass");
	int rv;

	if (!bg && !json_object_get(o, "review"))
		return 0;
	if (!json_is_true(bg) || g->kind != GRANT_REQUEST) {
		snprintf(err, errlen,
			 "'break_glass' is not true on a request, or 'review' "
			 "comes without it");
		return -EINVAL;
	}
	if (st_enum(o, "review", review_names + 1, 3, -1, &rv, err, errlen))
		return -EINVAL;
	g->break_glass = true;
	g->review = rv + 1;
	return 0;
}

/* Usage and its limit (optional keys; absent: never used, no idle limit): a count below 2^53 and
 * sane times, a last use never before the first, and times only with uses. */
static int st_usage(json_t *o, struct grant *g, char *err, size_t errlen)
{
	int64_t uses, first, last;
	int r = st_int(o, "max_idle_s", false, 0, POLICY_MAX_IDLE_S, &g->max_idle_s, err, errlen) ?:
		st_int(o, "uses", false, 0, (1LL << 53) - 1, &uses, err, errlen) ?:
		st_int(o, "first_use_ns", false, 0, JITD_TIME_MAX_NS - 1, &first, err, errlen) ?:
		st_int(o, "last_use_ns", false, 0, JITD_TIME_MAX_NS - 1, &last, err, errlen);

	if (r)
		return r;
	if ((first || last) && (!uses || !first || !last || last < first)) {
		snprintf(err, errlen,
			 "'first_use_ns' and 'last_use_ns' need 'uses' and "
			 "first <= last");
		return -EINVAL;
	}
	g->uses = (uint64_t)uses;
	g->first_use_ns = first;
	g->last_use_ns = last;
	return 0;
}

/* "clock": "first_use" (absent: the clock starts at the grant's start), on a direct grant,
 * and its latest start "first_by_ns" (a sane time within its window) until a first use. */
static int st_clock(json_t *o, int64_t real_now, int64_t boot_now, struct grant *g, char *err,
		    size_t errlen)
{
	json_t *c = json_object_get(o, "clock");
	int64_t by;
	int r = st_int(o, "first_by_ns", false, 0, JITD_TIME_MAX_NS - 1, &by, err, errlen);

	if (r)
		return r;
	if ((c && (!json_is_string(c) || strcmp(json_string_value(c), "first_use"))) ||
	    (by && !c) || (by && (by < g->starts_ns || by > g->expires_ns)) ||
	    (c && (g->kind != GRANT_DIRECT || (!by && !g->first_use_ns)))) {
		snprintf(err, errlen,
			 "'clock' must be \"first_use\" on a direct grant, with 'first_by_ns' "
			 "within its window until its first use");
		return -EINVAL;
	}
	g->from_first_use = c;
	g->first_by_ns = by;
	if (by)
		g->first_by_boot = util_real_to_boot(by, real_now, boot_now);
	return 0;
}

/*
 * Parse one entry of the state file into g, checked like user input: known state and
 * kind, uids and durations in range, sane times, a subject. same_boot: the file was
 * written in this boot (its boot-clock times are kept); real_now and boot_now are the two
 * clocks read at one moment. 0, -ENOMEM, or -EINVAL/-ERANGE with the reason in err; on
 * error g owns nothing.
 */
int req_grant_from_state(json_t *o, bool same_boot, int64_t real_now, int64_t boot_now,
			 struct grant *g, char *err, size_t errlen)
{
	int r;

	memset(g, 0, sizeof(*g));
	if (!json_is_object(o)) {
		snprintf(err, errlen, "not an object");
		return -EINVAL;
	}
	r = st_resources(o, g, err, errlen) ?: st_numbers(o, g, err, errlen) ?:
	    st_times(o, same_boot, real_now, boot_now, g, err, errlen) ?:
	    st_owned(o, g, err, errlen) ?: st_break_glass(o, g, err, errlen) ?:
	    st_usage(o, g, err, errlen) ?: st_clock(o, real_now, boot_now, g, err, errlen);
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (r)
		req_grant_clear(g);
	return r;
}

/* A user found by approver expansion, into set (name -> uid), unless it is exclude. */
static int approver_add(json_t *set, const char *name, uid_t uid, uid_t exclude)
{
	if (uid == exclude || json_object_get(set, name))
		return 0;
	return json_object_set_new(set, name, json_integer(uid)) ? -ENOMEM : 0;
}

/* getgrnam_r with a buffer grown up to 1 MiB for large groups; the buffer in *buf. */
static int group_by_name(const char *name, struct group *gr, char **buf)
{
	struct group *res = NULL;
	size_t len = 16384;
	int r;

	for (;;) {
		char *nb = realloc(*buf, len);

		if (!nb)
			return -ENOMEM;
		*buf = nb;
		r = getgrnam_r(name, gr, *buf, len, &res);
		if (r != ERANGE || len >= (1u << 20))
			break;
		len *= 2;
	}
	return !r && res ? 0 : -ENOENT;
}

/* group:NAME into set: its listed members, and into gids for the primary-gid scan. */
static int approver_group(json_t *set, const char *name, uid_t exclude, gid_t *gids, size_t *n_gids)
{
	struct passwd pw, *pres;
	struct group gr;
	char *gbuf = NULL, buf[4096];
	int r = group_by_name(name, &gr, &gbuf);

	if (r) {
		free(gbuf);
		return r == -ENOMEM ? r : 0; /* an unknown group names nobody */
	}
	if (*n_gids < REQ_MAX_APPROVER_GROUPS)
		gids[(*n_gids)++] = gr.gr_gid;
	for (char **m = gr.gr_mem; !r && m && *m; m++) {
		pres = NULL;
		if (!getpwnam_r(*m, &pw, buf, sizeof(buf), &pres) && pres)
			r = approver_add(set, pw.pw_name, pw.pw_uid, exclude);
	}
	free(gbuf);
	return r;
}

/* Users whose primary group is one of gids: one scan of the user database, capped. */
static int approver_primary(json_t *set, const gid_t *gids, size_t n_gids, uid_t exclude)
{
	struct passwd pw, *pres;
	char buf[4096];
	int r = 0;

	if (!n_gids)
		return 0;
	setpwent();
	for (unsigned seen = 0; !r && seen < REQ_MAX_USER_SCAN; seen++) {
		pres = NULL;
		if (getpwent_r(&pw, buf, sizeof(buf), &pres) || !pres)
			break;
		for (size_t i = 0; i < n_gids && !r; i++)
			if (pw.pw_gid == gids[i])
				r = approver_add(set, pw.pw_name, pw.pw_uid, exclude);
	}
	endpwent();
	return r;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The set's users sorted by name, the first max of them, as [{"uid","user"}]. */
static json_t *approver_list(json_t *set, size_t max)
{
	size_t n = json_object_size(set), i = 0;
	const char **names = calloc(n ?: 1, sizeof(*names));
	json_t *out = json_array(), *v;
	const char *k;

	if (!names || !out) {
		free(names);
		json_decref(out);
		return NULL;
	}
	json_object_foreach(set, k, v)
		names[i++] = k;
	qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n && i < max; i++)
		if (json_array_append_new(out, json_pack("{s:O,s:s}", "uid",
							 json_object_get(set, names[i]), "user",
							 names[i]))) {
			json_decref(out);
			out = NULL;
			break;
		}
	free(names);
	return out;
}

int req_approver_users(char *const *principals, size_t n, uid_t exclude, size_t max, json_t **users)
{
	gid_t gids[REQ_MAX_APPROVER_GROUPS];
	size_t n_gids = 0;
	json_t *set = json_object();
	int r = set ? 0 : -ENOMEM;

	for (size_t i = 0; i < n && !r; i++) {
		struct passwd pw, *pres = NULL;
		char buf[4096];

		if (!strncmp(principals[i], "user:", 5)) {
			if (!getpwnam_r(principals[i] + 5, &pw, buf, sizeof(buf), &pres) && pres)
				r = approver_add(set, pw.pw_name, pw.pw_uid, exclude);
		} else if (!strncmp(principals[i], "group:", 6)) {
			r = approver_group(set, principals[i] + 6, exclude, gids, &n_gids);
		}
	}
	if (!r)
		r = approver_primary(set, gids, n_gids, exclude);
	*users = r ? NULL : approver_list(set, max);
	json_decref(set);
	return r ?: (*users ? 0 : -ENOMEM);
}
