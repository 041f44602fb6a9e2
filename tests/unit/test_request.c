// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of lib/request.c and the rule/grant parts of lib/policy.c: which rule a
 * request falls under, durations and reasons, approvals by distinct approvers (never the
 * requester), denials, extensions capped at the rule's maximum, and positioned errors for
 * rules and fleet grants. Users come from the host's NSS: root (0), daemon (1), bin (2)
 * and nobody (65534) exist on every Debian system.
 */
#include <errno.h>
#include <stdlib.h>

#include "history.h"
#include "request.h"
#include "testlib.h"
#include "util.h"

#define NS 1000000000LL

static char err[1024];

static const char policy_text[] =
	"{\n"
	"  \"version\": 1, \"serial\": 3,\n"
	"  \"resources\": { \"a\": { \"open\": [\"/a\"] }, \"b\": { \"open\": [\"/b\"] },\n"
	"                 \"c\": { \"open\": [\"/c\"] } },\n"
	"  \"admins\": [\"user:daemon\"],\n"
	"  \"rules\": [\n"
	"    { \"resources\": [\"a\", \"b\"], \"requesters\": [\"user:root\"], \"max_duration\": "
	"\"1h\",\n"
	"      \"approvals\": 2, \"approvers\": [\"user:daemon\", \"user:bin\"],\n"
	"      \"reason\": \"required\", \"reason_pattern\": \"^INC-[0-9]+$\" },\n"
	"    { \"resources\": [\"a\"], \"requesters\": [\"group:root\"], \"max_duration\": 600 },\n"
	"    { \"resources\": [\"c\"], \"requesters\": [\"user:nobody\"], \"max_duration\": \"1m\" "
	"}\n"
	"  ],\n"
	"  \"grants\": [ { \"resource\": \"c\", \"uid\": 1234, \"not_before\": "
	"\"2026-12-01T02:00:00Z\",\n"
	"                \"not_after\": \"2026-12-01T03:00:00Z\" } ]\n"
	"}\n";

static struct policy *load(void)
{
	struct policy *p = NULL;

	err[0] = 0;
	if (policy_parse("t.json", policy_text, strlen(policy_text), &p, err, sizeof(err)))
		return NULL;
	return p;
}

static void rules_and_grants_are_parsed(void)
{
	struct policy *p = load();

	CHECK(p, "policy refused: %s", err);
	CHECK_INT(p->n_rules, 3);
	CHECK_INT(p->n_admins, 1);
	CHECK_INT(p->rules[0].approvals, 2);
	CHECK_INT(p->rules[0].max_duration_s, 3600);
	CHECK(p->rules[0].reason_required, "reason not required");
	CHECK_INT(p->rules[1].max_duration_s, 600);
	CHECK_INT(p->rules[1].approvals, 0);
	CHECK_INT(p->n_grants, 1);
	CHECK_INT(p->grants[0].uid, 1234);
	CHECK_INT(p->grants[0].not_after_ns - p->grants[0].not_before_ns, 3600 * NS);
	policy_free(p);
}

static void principals_resolve_through_nss(void)
{
	CHECK(req_principal_match("user:root", 0), "user:root does not match uid 0");
	CHECK(req_principal_match("group:root", 0), "group:root does not match uid 0");
	CHECK(!req_principal_match("user:root", 1), "user:root matches uid 1");
	CHECK(!req_principal_match("group:no-such-group-jitd", 0), "unknown group matches");
	CHECK(!req_principal_match("user:daemon", 4000000), "a uid without a name matches");
}

static void admins_are_root_and_listed_principals(void)
{
	struct policy *p = load();

	CHECK(p, "policy refused: %s", err);
	CHECK(req_is_admin(p, 0), "root is not an admin");
	CHECK(req_is_admin(p, 1), "daemon (listed) is not an admin");
	CHECK(!req_is_admin(p, 2), "bin (not listed) is an admin");
	policy_free(p);
}

static void rule_with_fewest_approvals_wins(void)
{
	struct policy *p = load();
	char res[2][POLICY_MAX_NAME] = {"a", "b"};
	const struct policy_rule *r;

	CHECK(p, "policy refused: %s", err);
	r = req_find_rule(p, 0, res, 1, err, sizeof(err));
	CHECK(r == &p->rules[1], "for 'a' root got rule %td, expected 1", r ? r - p->rules : -1);
	r = req_find_rule(p, 0, res, 2, err, sizeof(err));
	CHECK(r == &p->rules[0], "for 'a','b' root got rule %td, expected 0",
	      r ? r - p->rules : -1);
	policy_free(p);
}

/* A rule with a "hosts" selector: only where it holds for a local request; for a fleet
 * request from anywhere, when the request's selector does not contradict it. */
static void rules_for_other_hosts_count_for_fleet_requests_only(void)
{
	static const char text[] =
		"{\"version\": 1, \"serial\": 1, \"resources\": {\"a\": {\"open\": [\"/a\"]}}, "
		"\"rules\": ["
		"{\"resources\": [\"a\"], \"requesters\": [\"user:root\"], \"max_duration\": 60, "
		"\"approvals\": 1, \"approvers\": [\"user:bin\"], \"hosts\": {\"role\": \"db\"}}]}";
	char res[1][POLICY_MAX_NAME] = {"a"};
	struct policy *p = NULL;
	json_t *web, *db_eu, *none, *labels;

	CHECK(!policy_parse("t", text, sizeof(text) - 1, &p, err, sizeof(err)), "%s", err);
	web = json_pack("{s:s}", "role", "web");
	db_eu = json_pack("{s:s,s:s}", "role", "db", "zone", "eu");
	none = json_object();
	labels = json_pack("{s:s}", "role", "web");
	policy_select_host(p, labels);
	CHECK(!req_find_rule(p, 0, res, 1, err, sizeof(err)), "a rule for role=db holds on web");
	CHECK(req_find_fleet_rule(p, 0, res, 1, none, err, sizeof(err)) == &p->rules[0],
	      "a fleet request for every host does not find the role=db rule: %s", err);
	CHECK(req_find_fleet_rule(p, 0, res, 1, db_eu, err, sizeof(err)) == &p->rules[0],
	      "a fleet request for role=db,zone=eu does not find the role=db rule: %s", err);
	CHECK(!req_find_fleet_rule(p, 0, res, 1, web, err, sizeof(err)),
	      "a fleet request for role=web finds the role=db rule");
	CHECK(policy_hosts_compatible(none, web) && !policy_hosts_compatible(db_eu, web),
	      "selector compatibility");
	json_decref(web);
	json_decref(db_eu);
	json_decref(none);
	json_decref(labels);
	policy_free(p);
}

static void non_requesters_and_uncovered_resources_are_refused(void)
{
	struct policy *p = load();
	char res[2][POLICY_MAX_NAME] = {"a", "c"}, unk[1][POLICY_MAX_NAME] = {"zz"};

	CHECK(p, "policy refused: %s", err);
	CHECK(!req_find_rule(p, 2, res, 1, err, sizeof(err)), "bin may request 'a'");
	CHECK_CONTAINS(err, "no rule lists you as a requester");
	CHECK(!req_find_rule(p, 0, res, 2, err, sizeof(err)), "root may request 'a' and 'c'");
	CHECK_CONTAINS(err, "no single rule");
	CHECK(!req_find_rule(p, 65534, res, 1, err, sizeof(err)), "nobody may request 'a'");
	CHECK_CONTAINS(err, "no rule lets uid 65534 request 'a'");
	CHECK(!req_find_rule(p, 0, unk, 1, err, sizeof(err)), "unknown resource accepted");
	CHECK_CONTAINS(err, "unknown resource 'zz'");
	policy_free(p);
}

static void duration_and_reason_are_checked_against_the_rule(void)
{
	struct policy *p = load();
	const struct policy_rule *r;

	CHECK(p, "policy refused: %s", err);
	r = &p->rules[0];
	CHECK_INT(req_check(r, 3600, "INC-1", err, sizeof(err)), 0);
	CHECK_INT(req_check(r, 3601, "INC-1", err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "exceeds the rule's maximum of 1h");
	CHECK_INT(req_check(r, 60, NULL, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "reason is required");
	CHECK_INT(req_check(r, 60, "", err, sizeof(err)), -EINVAL);
	CHECK_INT(req_check(r, 60, "INC-12 and more", err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "does not match the required pattern ^INC-[0-9]+$");
	CHECK_INT(req_check(&p->rules[1], 60, NULL, err, sizeof(err)), 0);
	CHECK_INT(req_check(&p->rules[1], 0, NULL, err, sizeof(err)), -EINVAL);
	policy_free(p);
}

static void pending(struct grant *g, unsigned needed)
{
	memset(g, 0, sizeof(*g));
	g->id = 7;
	g->state = GRANT_PENDING;
	g->kind = GRANT_REQUEST;
	g->requester_uid = 0;
	g->approvals_needed = needed;
	g->approvers = strdup("[\"user:daemon\",\"user:bin\"]");
	req_history_add(g, "requested", 0, "INC-1", 1 * NS);
}

static void clear(struct grant *g)
{
	req_grant_clear(g);
}

/* Entries in g's history (its text parsed). */
static size_t hist_len(const struct grant *g)
{
	json_t *h = hist_decode(g->history);
	size_t n = json_array_size(h);

	json_decref(h);
	return n;
}

/* String key of g's history entry i ("" when absent), copied. */
static const char *hist_str(const struct grant *g, size_t i, const char *key)
{
	static char buf[256];
	json_t *h = hist_decode(g->history);

	snprintf(buf, sizeof(buf), "%s",
		 json_string_value(json_object_get(json_array_get(h, i), key)) ?: "");
	json_decref(h);
	return buf;
}

static void requester_never_approves_own_request(void)
{
	struct grant g;

	pending(&g, 1);
	free(g.approvers);
	g.approvers = strdup("[\"user:daemon\",\"user:bin\",\"user:root\"]");
	CHECK_INT(req_approve(&g, 0, NULL, 2 * NS, err, sizeof(err)), -EPERM);
	CHECK_CONTAINS(err, "own request");
	CHECK_INT(req_approval_count(&g), 0);
	clear(&g);
}

static void n_approvals_need_n_different_approvers(void)
{
	struct grant g;

	pending(&g, 2);
	CHECK_INT(req_approve(&g, 1, "ok", 2 * NS, err, sizeof(err)), 0);
	CHECK_INT(req_approve(&g, 1, "again", 3 * NS, err, sizeof(err)), -EALREADY);
	CHECK_INT(req_approve(&g, 65534, NULL, 3 * NS, err, sizeof(err)), -EPERM);
	CHECK_CONTAINS(err, "not an approver");
	CHECK_INT(req_approval_count(&g), 1);
	CHECK_INT(req_approve(&g, 2, NULL, 4 * NS, err, sizeof(err)), 1);
	CHECK_INT(req_approval_count(&g), 2);
	CHECK_INT(g.by_uid, 2);
	CHECK_INT(hist_len(&g), 3);
	clear(&g);
}

/* A uid of 2^31 and above is written as it is (not as a negative int), and one approver
 * counts once however often they appear. */
static void large_uids_are_kept_and_approvers_count_once(void)
{
	struct grant g = {0};
	json_t *h;

	req_history_add(&g, "approved", 3000000000u, NULL, 2 * NS);
	req_history_add(&g, "approved", 3000000000u, NULL, 3 * NS);
	req_history_add(&g, "approved", 4294967294u, NULL, 4 * NS);
	h = hist_decode(g.history);
	CHECK_INT(json_integer_value(json_object_get(json_array_get(h, 0), "uid")), 3000000000LL);
	CHECK_INT(json_integer_value(json_object_get(json_array_get(h, 2), "uid")), 4294967294LL);
	json_decref(h);
	CHECK_INT(req_approval_count(&g), 2);
	req_grant_clear(&g);

	/* an approval written before as a negative int is the same approver */
	h = json_loads("[{\"event\":\"approved\",\"uid\":-1294967296,"
		       "\"at\":\"2026-12-04T20:48:05.429Z\"}]",
		       0, NULL);
	g = (struct grant){0};
	CHECK_INT(hist_encode(h, &g.history), 0);
	json_decref(h);
	req_history_add(&g, "approved", 3000000000u, NULL, 2 * NS);
	CHECK_INT(req_approval_count(&g), 1);
	req_grant_clear(&g);
}

static void deny_needs_reason_and_ends_request(void)
{
	struct grant g;

	pending(&g, 1);
	CHECK_INT(req_deny(&g, 1, NULL, 2 * NS, err, sizeof(err)), -EINVAL);
	CHECK_INT(g.state, GRANT_PENDING);
	CHECK_INT(req_deny(&g, 0, "mine", 2 * NS, err, sizeof(err)), -EPERM);
	CHECK_INT(req_deny(&g, 1, "freeze", 2 * NS, err, sizeof(err)), 0);
	CHECK_INT(g.state, GRANT_DENIED);
	CHECK_INT(g.ended_ns, 2 * NS);
	CHECK_INT(req_approve(&g, 2, NULL, 3 * NS, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "not pending");
	CHECK_STR(hist_str(&g, 1, "reason"), "freeze");
	clear(&g);
}

static void extend_stops_at_the_rule_maximum(void)
{
	struct grant g = {.id = 3,
			  .state = GRANT_ACTIVE,
			  .starts_ns = 100 * NS,
			  .expires_ns = 103 * NS,
			  .max_duration_s = 6};
	int64_t exp = 0;

	CHECK_INT(req_extend(&g, 2, &exp, err, sizeof(err)), 0);
	CHECK_INT(exp, 105 * NS);
	CHECK_INT(req_extend(&g, 60, &exp, err, sizeof(err)), 0);
	CHECK_INT(exp, 106 * NS);
	g.expires_ns = 106 * NS;
	CHECK_INT(req_extend(&g, 1, &exp, err, sizeof(err)), -ERANGE);
	CHECK_CONTAINS(err, "maximum duration of 6s");
	g.max_duration_s = 0; /* a direct grant: only the global limit */
	CHECK_INT(req_extend(&g, 3600, &exp, err, sizeof(err)), 0);
	CHECK_INT(exp, 3706 * NS);
	g.state = GRANT_EXPIRED;
	CHECK_INT(req_extend(&g, 1, &exp, err, sizeof(err)), -EINVAL);
}

/* Extension: admins, the requester of what needed no approval, an approver of a request. */
static void who_may_extend_and_revoke(void)
{
	struct policy *p = load();
	struct grant g = {.id = 7,
			  .kind = GRANT_REQUEST,
			  .state = GRANT_ACTIVE,
			  .has_uid = true,
			  .uid = 65534,
			  .requester_uid = 65534,
			  .approvals_needed = 1};

	CHECK(p, "policy: %s", err);
	g.approvers = strdup("[\"user:bin\"]");
	CHECK(req_may_extend(p, &g, 0), "root may not extend");
	CHECK(req_may_extend(p, &g, 1), "an admin (daemon) may not extend");
	CHECK(req_may_extend(p, &g, 2), "the request's approver (bin) may not extend");
	CHECK(!req_may_extend(p, &g, 65534), "the requester extended what needed an approval");
	g.approvals_needed = 0;
	CHECK(req_may_extend(p, &g, 65534), "the requester may not extend what needed none");
	g.kind = GRANT_DIRECT;
	CHECK(!req_may_extend(p, &g, 65534), "a user extended a direct grant");
	CHECK(!req_may_extend(p, &g, 2), "an approver extended a direct grant");
	CHECK(req_may_revoke(p, &g, 65534), "the user may not revoke their own grant");
	CHECK(!req_may_revoke(p, &g, 2), "someone else revoked a user's grant");
	g.kind = GRANT_FLEET;
	g.requester_uid = 0;
	CHECK(!req_may_revoke(p, &g, 65534), "a user revoked a grant of the policy");
	CHECK(req_may_revoke(p, &g, 1), "an admin may not revoke a grant of the policy");
	CHECK(req_may_read_audit(0) && !req_may_read_audit(1), "audit stream not root only");
	free(g.approvers);
	policy_free(p);
}

#define HEAD                                                                                       \
	"{\n  \"version\": 1,\n  \"serial\": 1,\n  \"resources\": { \"a\": { \"open\": [\"/a\"] "  \
	"} },\n"

#define BAD(text, loc, msg)                                                                        \
	do {                                                                                       \
		struct policy *p_ = NULL;                                                          \
		int r_ = policy_parse("t.json", text, strlen(text), &p_, err, sizeof(err));        \
		CHECK(r_ == -EINVAL && !p_, "returned %d (err \"%s\")", r_, err);                  \
		CHECK(!strncmp(err, "t.json:" loc ": ", strlen("t.json:" loc ": ")),               \
		      "error \"%s\" is not at %s", err, loc);                                      \
		CHECK_CONTAINS(err, msg);                                                          \
	} while (0)

static void rule_errors_are_positioned(void)
{
	BAD(HEAD "  \"rules\": [ { \"resources\": [\"a\"], \"requesters\": [\"alice\"],\n"
		 "    \"max_duration\": \"1h\" } ]\n}",
	    "5:51", "rules[0].requesters[0]: bad principal 'alice'");
	BAD(HEAD "  \"rules\": [ { \"resources\": [\"zz\"], \"requesters\": [\"user:x\"],\n"
		 "    \"max_duration\": \"1h\" } ]\n}",
	    "5:30", "rules[0].resources[0]: unknown resource 'zz'");
	BAD(HEAD "  \"rules\": [ { \"resources\": [\"a\"], \"requesters\": [\"user:x\"],\n"
		 "    \"max_duration\": \"1 hour\" } ]\n}",
	    "6:21", "bad duration '1 hour'");
	BAD(HEAD "  \"rules\": [ { \"resources\": [\"a\"], \"requesters\": [\"user:x\"],\n"
		 "    \"max_duration\": \"1h\", \"approvals\": 1 } ]\n}",
	    "6:40", "1 approvals but no 'approvers'");
	BAD(HEAD "  \"rules\": [ { \"resources\": [\"a\"], \"requesters\": [\"user:x\"],\n"
		 "    \"max_duration\": \"1h\", \"reason_pattern\": \"(INC\" } ]\n}",
	    "6:45", "bad regular expression '(INC'");
	BAD(HEAD "  \"rules\": [ { \"resources\": [\"a\"], \"requesters\": [\"user:x\"],\n"
		 "    \"max_duration\": \"1h\", \"reason\": \"maybe\" } ]\n}",
	    "6:37", "expected \"required\" or \"optional\"");
	BAD(HEAD "  \"rules\": [ { \"resources\": [\"a\"], \"requesters\": [\"user:x\"] } ]\n}",
	    "5:14", "missing key 'max_duration'");
}

static void fleet_grant_errors_are_positioned(void)
{
	BAD(HEAD "  \"grants\": [ { \"resource\": \"a\", \"uid\": 5 } ]\n}", "5:15",
	    "missing key 'not_after'");
	BAD(HEAD "  \"grants\": [ { \"resource\": \"a\", \"uid\": 5,\n"
		 "    \"not_before\": \"2026-12-01T03:00:00Z\", \"not_after\": "
		 "\"2026-12-01T02:00:00Z\" } ]\n}",
	    "6:56", "not_after is not later than not_before");
	BAD(HEAD
	    "  \"grants\": [ { \"resource\": \"a\", \"uid\": 5, \"not_after\": \"tomorrow\" } ]\n}",
	    "5:57", "expected a UTC time");
	BAD(HEAD "  \"grants\": [ { \"resource\": \"a\", \"not_after\": \"2026-12-01T02:00:00Z\" } "
		 "]\n}",
	    "5:15", "a grant needs a subject");
	BAD(HEAD "  \"grants\": [ { \"resource\": \"b\", \"uid\": 5, \"not_after\": "
		 "\"2026-12-01T02:00:00Z\" } ]\n}",
	    "5:29", "grants[0].resource: unknown resource 'b'");
	BAD(HEAD "  \"grants\": [ { \"resource\": \"a\", \"user\": \"no-such-user-jitd\", "
		 "\"not_after\": \"2026-12-01T02:00:00Z\" } ]\n}",
	    "5:42", "unknown user 'no-such-user-jitd'");
}

/* Rules for break-glass: root may take a (rule 1, 45m) or a and b (rule 0, 30m); nobody
 * requests c under a rule without break_glass_max. */
static const char bg_policy[] =
	"{\"version\":1,\"serial\":1,\"resources\":{\"a\":{\"open\":[\"/a\"]},\"b\":{\"open\":"
	"[\"/b\"]},\"c\":{\"open\":[\"/c\"]}},\"admins\":[\"user:bin\"],\"rules\":["
	"{\"resources\":[\"a\",\"b\"],\"requesters\":[\"user:root\"],\"max_duration\":\"1h\","
	"\"approvals\":1,\"approvers\":[\"user:daemon\"],\"reason_pattern\":\"^INC-[0-9]+$\","
	"\"break_glass_max\":\"30m\"},"
	"{\"resources\":[\"a\"],\"requesters\":[\"user:root\"],\"max_duration\":\"1h\","
	"\"break_glass_max\":\"45m\"},"
	"{\"resources\":[\"a\"],\"requesters\":[\"user:root\"],\"max_duration\":\"2h\"},"
	"{\"resources\":[\"c\"],\"requesters\":[\"user:nobody\"],\"max_duration\":\"1h\"}]}";

static void break_glass_takes_the_longest_covering_rule(void)
{
	struct policy *p = NULL;
	char res[2][POLICY_MAX_NAME] = {"a", "b"}, c[1][POLICY_MAX_NAME] = {"c"};
	char z[1][POLICY_MAX_NAME] = {"zz"};
	const struct policy_rule *r;
	bool enoent;

	CHECK_INT(policy_parse("t.json", bg_policy, strlen(bg_policy), &p, err, sizeof(err)), 0);
	r = req_find_break_glass_rule(p, 0, res, 1, &enoent, err, sizeof(err));
	CHECK(r == &p->rules[1], "a alone: not the 45m rule");
	r = req_find_break_glass_rule(p, 0, res, 2, &enoent, err, sizeof(err));
	CHECK(r == &p->rules[0], "a and b: not the only rule covering both");
	/* daemon requests nothing: refused whatever the rules */
	CHECK(!req_find_break_glass_rule(p, 1, res, 1, &enoent, err, sizeof(err)) && !enoent,
	      "a non-requester broke glass");
	CHECK_CONTAINS(err, "no rule lists you as a requester");
	/* nobody may request c, but under a rule without break_glass_max */
	CHECK(!req_find_break_glass_rule(p, 65534, c, 1, &enoent, err, sizeof(err)) && !enoent,
	      "break-glass under a rule without break_glass_max");
	CHECK_CONTAINS(err, "rule 3");
	CHECK_CONTAINS(err, "has no 'break_glass_max'");
	CHECK(!req_find_break_glass_rule(p, 0, z, 1, &enoent, err, sizeof(err)) && enoent,
	      "unknown resource not ENOENT");
	policy_free(p);
}

static void break_glass_always_needs_a_reason_within_its_max(void)
{
	struct policy *p = NULL;

	CHECK_INT(policy_parse("t.json", bg_policy, strlen(bg_policy), &p, err, sizeof(err)), 0);
	/* rule 1's reason is optional: break-glass needs one anyway */
	CHECK_INT(req_check_break_glass(&p->rules[1], 60, NULL, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "break-glass needs a reason");
	CHECK_INT(req_check_break_glass(&p->rules[1], 60, "", err, sizeof(err)), -EINVAL);
	CHECK_INT(req_check_break_glass(&p->rules[1], 45 * 60, "x", err, sizeof(err)), 0);
	CHECK_INT(req_check_break_glass(&p->rules[1], 45 * 60 + 1, "x", err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "exceeds the rule's break_glass_max of 45m");
	CHECK_INT(req_check_break_glass(&p->rules[0], 60, "outage", err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "does not match the required pattern");
	CHECK_INT(req_check_break_glass(&p->rules[0], 60, "INC-9", err, sizeof(err)), 0);
	policy_free(p);
}

/* A break-glass grant 7 of root's, approvers daemon (and nobody). */
static void broken_glass(struct grant *g)
{
	memset(g, 0, sizeof(*g));
	g->id = 7;
	g->state = GRANT_ACTIVE;
	g->kind = GRANT_REQUEST;
	g->requester_uid = 0;
	g->break_glass = true;
	g->review = GRANT_REVIEW_UNREVIEWED;
	g->approvers = strdup("[\"user:daemon\",\"user:nobody\"]");
	req_history_add(g, "break_glass", 0, "INC-1", 1 * NS);
}

static void review_by_approvers_and_admins_never_the_requester(void)
{
	struct policy *p = NULL;
	struct grant g;

	CHECK_INT(policy_parse("t.json", bg_policy, strlen(bg_policy), &p, err, sizeof(err)), 0);
	broken_glass(&g);
	/* root is an admin, but broke the glass: may not review it */
	CHECK_INT(req_review(p, &g, 0, false, NULL, 2 * NS, err, sizeof(err)), -EPERM);
	CHECK_CONTAINS(err, "own break-glass");
	CHECK_INT(req_may_review(p, &g, 3, err, sizeof(err)), -EPERM); /* sys: nobody here */
	CHECK_INT(req_may_review(p, &g, 2, err, sizeof(err)), 0);      /* bin: an admin */
	CHECK_INT(req_may_review(p, &g, 65534, err, sizeof(err)), 0);  /* an approver */
	CHECK_INT(req_review(p, &g, 1, true, NULL, 2 * NS, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "flagging needs a reason");
	CHECK_INT(g.review, GRANT_REVIEW_UNREVIEWED);
	CHECK_INT(req_review(p, &g, 1, true, "not an incident", 2 * NS, err, sizeof(err)), 0);
	CHECK_INT(g.review, GRANT_REVIEW_FLAGGED);
	CHECK_STR(hist_str(&g, 1, "verdict"), "flag");
	CHECK_INT(req_review(p, &g, 2, false, NULL, 3 * NS, err, sizeof(err)), -EALREADY);
	CHECK_INT(hist_len(&g), 2);
	g.break_glass = false;
	g.review = GRANT_REVIEW_NONE;
	CHECK_INT(req_review(p, &g, 2, false, NULL, 3 * NS, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "not a break-glass grant");
	clear(&g);
	policy_free(p);
}

/* Parse state entry text; 0 or the error. */
static int state_entry(const char *text, struct grant *g)
{
	json_t *o = json_loads(text, 0, NULL);
	int r = req_grant_from_state(o, false, 1800000000LL * NS, 10 * NS, g, err, sizeof(err));

	json_decref(o);
	return r;
}

static void break_glass_state_keys_are_checked_like_input(void)
{
#define ENTRY(kind, extra)                                                                         \
	"{\"id\":3,\"resources\":[\"a\"],\"state\":\"active\",\"kind\":\"" kind "\",\"uid\":0,"    \
	"\"created_ns\":1790000000000000000,\"starts_ns\":1790000000000000000,"                    \
	"\"expires_ns\":1790000060000000000" extra "}"
	struct grant g;

	CHECK_INT(state_entry(ENTRY("request", ""), &g), 0);
	CHECK(!g.break_glass && g.review == GRANT_REVIEW_NONE, "an old entry became break-glass");
	req_grant_clear(&g);
	CHECK_INT(state_entry(ENTRY("request", ",\"break_glass\":true,\"review\":\"unreviewed\""),
			      &g),
		  0);
	CHECK(g.break_glass && g.review == GRANT_REVIEW_UNREVIEWED, "unreviewed not read");
	req_grant_clear(&g);
	CHECK_INT(state_entry(ENTRY("request", ",\"break_glass\":true,\"review\":\"flagged\""), &g),
		  0);
	CHECK_INT(g.review, GRANT_REVIEW_FLAGGED);
	req_grant_clear(&g);
	CHECK_INT(
		state_entry(ENTRY("request", ",\"break_glass\":true,\"review\":\"approved\""), &g),
		0);
	CHECK_INT(g.review, GRANT_REVIEW_APPROVED);
	req_grant_clear(&g);
	CHECK_INT(state_entry(ENTRY("request", ",\"break_glass\":true"), &g), -EINVAL);
	CHECK_CONTAINS(err, "'review' is missing");
	CHECK_INT(state_entry(ENTRY("request", ",\"break_glass\":true,\"review\":\"ok\""), &g),
		  -EINVAL);
	CHECK_CONTAINS(err, "'review' is 'ok', not a known review");
	CHECK_INT(state_entry(ENTRY("request", ",\"break_glass\":true,\"review\":\"\""), &g),
		  -EINVAL);
	CHECK_INT(state_entry(ENTRY("request", ",\"review\":\"unreviewed\""), &g), -EINVAL);
	CHECK_CONTAINS(err, "'review' comes without it");
	CHECK_INT(state_entry(ENTRY("request", ",\"break_glass\":1,\"review\":\"unreviewed\""), &g),
		  -EINVAL);
	CHECK_INT(state_entry(ENTRY("request", ",\"break_glass\":false"), &g), -EINVAL);
	CHECK_INT(
		state_entry(ENTRY("direct", ",\"break_glass\":true,\"review\":\"unreviewed\""), &g),
		-EINVAL);
	CHECK_CONTAINS(err, "not true on a request");
#undef ENTRY
}

/* A state entry's resources, history and approvers belong to the grant, not to the parse
 * tree: they outlive it, and a grant's own copy of a request's names outlives the request. */
static void a_grant_owns_its_resources_and_history(void)
{
	char names[GRANT_MAX_RES][POLICY_MAX_NAME] = {"x", "y"};
	struct grant g, req = {.res = names, .n_res = 2};
	json_t *hist;
	char *text;

	CHECK_INT(state_entry("{\"id\":3,\"resources\":[\"a\",\"b\",\"c\"],\"state\":\"active\","
			      "\"kind\":\"request\",\"uid\":0,\"created_ns\":1790000000000000000,"
			      "\"starts_ns\":1790000000000000000,\"expires_ns\":"
			      "1790000060000000000,\"approvers\":[\"user:bin\"],\"history\":"
			      "[{\"event\":\"requested\",\"uid\":0},{\"event\":\"approved\","
			      "\"uid\":2,\"reason\":\"ok\"}]}",
			      &g),
		  0);
	CHECK(g.res_owned && g.n_res == 3 && !strcmp(g.res[0], "a") && !strcmp(g.res[2], "c"),
	      "resources not kept");
	text = json_dumps(hist = hist_decode(g.history), JSON_COMPACT);
	CHECK_STR(text ?: "(none)", "[{\"event\":\"requested\",\"uid\":0},{\"event\":\"approved\","
				    "\"uid\":2,\"reason\":\"ok\"}]");
	free(text);
	json_decref(hist);
	CHECK_STR(g.approvers, "[\"user:bin\"]");
	CHECK_INT(req_approval_count(&g), 1);
	req_grant_clear(&g);
	CHECK(!g.res && !g.history && !g.approvers, "cleared grant keeps pointers");
	CHECK_INT(req_grant_own_res(&req), 0);
	CHECK(req.res_owned && req.res != names, "request names not copied");
	strcpy(names[1], "changed");
	CHECK_STR(req.res[1], "y");
	req_grant_clear(&req);
	strcpy(names[0], "still there"); /* a cleared copy never freed the request's array */
	CHECK_STR(names[0], "still there");
}

/* List k of 150: "sK" alone (k <= 50), "rJ", "sK" (J = k / 2, up to 100), or the list k - 50
 * the other way round (a different list); its length. */
static unsigned list_of(int k, char (*names)[POLICY_MAX_NAME])
{
	int o = k > 100 ? k - 50 : k;

	memset(names, 0, 2 * sizeof(*names));
	if (o <= 50) {
		snprintf(names[0], sizeof(*names), "s%d", o);
		return 1;
	}
	snprintf(names[k > 100], sizeof(*names), "r%d", o / 2);
	snprintf(names[k <= 100], sizeof(*names), "s%d", o);
	return 2;
}

/* Grants naming the same resources share one list (100,000 grants of one resource hold
 * one name); a list lives while a grant holds it, and the table keeps finding every list
 * while others come and go (removal moves the later members of a probe run). */
static void grants_share_one_list_of_the_same_resources(void)
{
	enum { N = 600 };
	static struct grant g[N];
	char names[GRANT_MAX_RES][POLICY_MAX_NAME], want[2][POLICY_MAX_NAME];
	size_t base = req_res_lists(), live = 0;
	unsigned seed = 7;

	for (int i = 0; i < N; i++) {
		g[i] = (struct grant){.res = names, .n_res = list_of(i % 150, names)};
		CHECK_INT(req_grant_own_res(&g[i]), 0);
		CHECK(g[i].res != names && g[i].res_owned, "grant %d does not own its list", i);
		if (i >= 150)
			CHECK(g[i].res == g[i - 150].res, "grant %d does not share its list", i);
	}
	CHECK_INT(req_res_lists() - base, 150);
	CHECK(g[60].res != g[110].res && !strcmp(g[60].res[0], g[110].res[1]),
	      "the same names in another order share a list");
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < N; i++) {
			seed = seed * 1103515245 + 12345;
			if (!g[i].res_owned || (seed >> 16) % 3)
				continue;
			req_grant_clear(&g[i]);
			/* every other grant still holds its own names */
			for (int j = 0; j < N; j++) {
				unsigned n = list_of(j % 150, want);

				CHECK(!g[j].res_owned ||
					      (g[j].n_res == n &&
					       !memcmp(g[j].res, want, n * sizeof(want[0]))),
				      "grant %d lost its names", j);
			}
		}
	for (int i = 0; i < N; i++) {
		struct grant again = {.res = names};

		if (!g[i].res_owned)
			continue;
		live++;
		again.n_res = list_of(i % 150, names);
		CHECK_INT(req_grant_own_res(&again), 0);
		CHECK(again.res == g[i].res, "list of grant %d not found again", i);
		req_grant_clear(&again);
	}
	CHECK(live > 0 && live < N, "%zu grants left", live);
	for (int i = 0; i < N; i++)
		req_grant_clear(&g[i]);
	CHECK_INT(req_res_lists(), base);
}

int main(void)
{
	RUN(rules_and_grants_are_parsed);
	RUN(principals_resolve_through_nss);
	RUN(admins_are_root_and_listed_principals);
	RUN(rule_with_fewest_approvals_wins);
	RUN(non_requesters_and_uncovered_resources_are_refused);
	RUN(rules_for_other_hosts_count_for_fleet_requests_only);
	RUN(duration_and_reason_are_checked_against_the_rule);
	RUN(requester_never_approves_own_request);
	RUN(n_approvals_need_n_different_approvers);
	RUN(large_uids_are_kept_and_approvers_count_once);
	RUN(deny_needs_reason_and_ends_request);
	RUN(extend_stops_at_the_rule_maximum);
	RUN(who_may_extend_and_revoke);
	RUN(rule_errors_are_positioned);
	RUN(fleet_grant_errors_are_positioned);
	RUN(break_glass_takes_the_longest_covering_rule);
	RUN(break_glass_always_needs_a_reason_within_its_max);
	RUN(review_by_approvers_and_admins_never_the_requester);
	RUN(a_grant_owns_its_resources_and_history);
	RUN(grants_share_one_list_of_the_same_resources);
	RUN(break_glass_state_keys_are_checked_like_input);
	return tl_exit();
}
