// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of lib/explain.c and req_approver_users (lib/request.c): the dry-run reply's
 * outcome for a grant, a pending request and each kind of refusal; approver expansion
 * (sorted, unique, the requester left out, capped); and `policy explain` for an exempt
 * user, an admin, a chosen rule, a rule whose requesters leave the user out, uncovered
 * resources, several resources and rules for other hosts. Users come from the host's NSS:
 * root (0), daemon (1), bin (2), sync (4, primary group nogroup), games (5), nobody (65534,
 * primary group nogroup) exist on every Debian system.
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>

#include "explain.h"
#include "testlib.h"

#define DAEMON 1
#define BIN    2
#define GAMES  5
#define NOBODY 65534

static char err[1024];

static const char policy_text[] =
	"{\"version\": 1, \"serial\": 1,\n"
	" \"resources\": {\"a\": {\"open\": [\"/a\"]}, \"b\": {\"open\": [\"/b\"]},\n"
	"                \"c\": {\"open\": [\"/c\"]}, \"d\": {\"open\": [\"/d\"]}},\n"
	" \"exempt\": {\"uids\": [5]},\n"
	" \"admins\": [\"user:bin\"],\n"
	" \"rules\": [\n"
	"  {\"resources\": [\"a\", \"b\"], \"requesters\": [\"user:daemon\"], \"max_duration\": "
	"\"1h\",\n"
	"   \"approvals\": 2, \"approvers\": [\"user:root\", \"group:nogroup\"],\n"
	"   \"reason\": \"required\", \"reason_pattern\": \"^INC-[0-9]+$\"},\n"
	"  {\"resources\": [\"a\"], \"requesters\": [\"user:daemon\"], \"max_duration\": "
	"\"10m\"},\n"
	"  {\"resources\": [\"a\"], \"requesters\": [\"user:nobody\"], \"max_duration\": \"1h\",\n"
	"   \"approvals\": 1, \"approvers\": [\"user:daemon\", \"user:nobody\"]},\n"
	"  {\"resources\": [\"c\"], \"requesters\": [\"user:daemon\"], \"max_duration\": \"1h\"},\n"
	"  {\"resources\": [\"d\"], \"requesters\": [\"user:daemon\"], \"max_duration\": \"1h\",\n"
	"   \"hosts\": {\"role\": \"db\"}}\n"
	" ]}\n";

static struct policy *load(void)
{
	struct policy *p = NULL;

	err[0] = 0;
	if (policy_parse("t.json", policy_text, strlen(policy_text), &p, err, sizeof(err)))
		return NULL;
	policy_select_host(p, NULL);
	return p;
}

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Is user name in users ([{"uid","user"}]), with its uid? */
static bool has_user(const json_t *users, const char *name, uid_t uid)
{
	size_t i;
	json_t *v;

	json_array_foreach(users, i, v) {
		if (!strcmp(str(v, "user"), name))
			return json_integer_value(json_object_get(v, "uid")) == uid;
	}
	return false;
}

static void approver_users_are_sorted_unique_and_leave_the_requester_out(void)
{
	char *pr[] = {"user:sync",	     "group:nogroup",	      "user:root",
		      "user:no-such-user-x", "group:no-such-group-x", "user:sync"};
	json_t *u = NULL, *v;
	size_t i;

	CHECK(!req_approver_users(pr, 6, NOBODY, REQ_MAX_APPROVER_USERS, &u), "expansion failed");
	CHECK(has_user(u, "root", 0), "user:root not expanded");
	CHECK(has_user(u, "sync", 4), "sync (user: and primary group nogroup) not there");
	CHECK(!has_user(u, "nobody", NOBODY), "the requester (nobody) is named");
	json_array_foreach(u, i, v) {
		CHECK(i == 0 || strcmp(str(json_array_get(u, i - 1), "user"), str(v, "user")) < 0,
		      "not sorted and unique at %zu: %s", i, str(v, "user"));
	}
	json_decref(u);
	/* without the exclusion, nobody comes in through its primary group */
	CHECK(!req_approver_users(pr, 6, (uid_t)-1, REQ_MAX_APPROVER_USERS, &u), "failed");
	CHECK(has_user(u, "nobody", NOBODY), "primary-gid member nobody missing");
	json_decref(u);
	CHECK(!req_approver_users(pr, 6, (uid_t)-1, 1, &u), "failed");
	CHECK_INT(json_array_size(u), 1);
	CHECK(has_user(u, "root", 0) || strcmp(str(json_array_get(u, 0), "user"), "root") < 0,
	      "the cap kept %s, not the first name", str(json_array_get(u, 0), "user"));
	json_decref(u);
	CHECK(!req_approver_users(NULL, 0, 0, 10, &u) && json_array_size(u) == 0,
	      "no principals name somebody");
	json_decref(u);
}

/* The dry-run reply of uid asking for r0 (and r1) for dur with reason. */
static json_t *dry(struct policy *p, uid_t uid, const char *r0, const char *r1, int64_t dur,
		   const char *reason)
{
	char res[2][POLICY_MAX_NAME] = {{0}};

	snprintf(res[0], sizeof(res[0]), "%s", r0);
	if (r1)
		snprintf(res[1], sizeof(res[1]), "%s", r1);
	return explain_dry_run(p, uid, res, r1 ? 2 : 1, dur, reason);
}

static void dry_run_says_active_pending_or_refused_as_a_request_would(void)
{
	struct policy *p = load();
	json_t *r;

	CHECK(p, "policy refused: %s", err);
	r = dry(p, DAEMON, "a", NULL, 300, NULL);
	CHECK_STR(str(r, "would"), "active");
	CHECK_INT(json_integer_value(json_object_get(json_object_get(r, "rule"), "index")), 1);
	CHECK(json_is_true(json_object_get(r, "ok")) && json_is_true(json_object_get(r, "dry_run")),
	      "not ok/dry_run");
	CHECK(!json_object_get(r, "error"), "an error on a grant");
	json_decref(r);

	r = dry(p, DAEMON, "a", "b", 1800, "INC-42");
	CHECK_STR(str(r, "would"), "pending");
	CHECK_INT(json_integer_value(json_object_get(r, "approvals")), 2);
	CHECK(has_user(json_object_get(json_object_get(r, "approvers"), "users"), "sync", 4),
	      "group:nogroup not expanded in the dry-run");
	CHECK_STR(json_string_value(json_array_get(
			  json_object_get(json_object_get(r, "approvers"), "principals"), 1)),
		  "group:nogroup");
	CHECK(json_is_true(json_object_get(r, "duration_ok")) &&
		      json_is_true(json_object_get(r, "reason_ok")),
	      "duration_ok/reason_ok false");
	json_decref(r);

	r = dry(p, DAEMON, "a", "b", 1800, "because");
	CHECK_STR(str(r, "would"), "refused");
	CHECK_STR(str(r, "errno"), "EINVAL");
	CHECK_CONTAINS(str(r, "error"), "^INC-[0-9]+$");
	CHECK(json_is_true(json_object_get(r, "duration_ok")) &&
		      json_is_false(json_object_get(r, "reason_ok")),
	      "a bad reason is not the only fault");
	json_decref(r);

	/* the error quotes 128 bytes of the reason: cut inside a 2-byte character here */
	char long_reason[301] = "x";

	for (int i = 1; i < 299; i += 2)
		memcpy(long_reason + i, "\xc3\xa9", 2);
	r = dry(p, DAEMON, "a", "b", 1800, long_reason);
	CHECK_STR(str(r, "would"), "refused");
	CHECK_CONTAINS(str(r, "error"), "does not match the required pattern ^INC-[0-9]+$");
	json_decref(r);

	r = dry(p, DAEMON, "a", "b", 7200, "INC-1");
	CHECK_STR(str(r, "would"), "refused");
	CHECK_CONTAINS(str(r, "error"), "exceeds the rule's maximum of 1h");
	CHECK(json_is_false(json_object_get(r, "duration_ok")) &&
		      json_is_true(json_object_get(r, "reason_ok")),
	      "a long duration is not the only fault");
	json_decref(r);

	r = dry(p, BIN, "a", NULL, 60, NULL);
	CHECK_STR(str(r, "would"), "refused");
	CHECK_STR(str(r, "errno"), "EPERM");
	CHECK_CONTAINS(str(r, "error"), "no rule lists you as a requester");
	CHECK(!json_object_get(r, "rule"), "a rule for a refused requester");
	json_decref(r);
	policy_free(p);
}

static json_t *explain(struct policy *p, uid_t uid, const char *user, const char *r0,
		       const char *r1, json_t *holds)
{
	char res[2][POLICY_MAX_NAME] = {{0}};

	snprintf(res[0], sizeof(res[0]), "%s", r0);
	if (r1)
		snprintf(res[1], sizeof(res[1]), "%s", r1);
	return explain_build(p, uid, user, res, r1 ? 2 : 1, holds);
}

/* The entry of explain's rules with index i, or NULL. */
static json_t *rule_at(json_t *x, int i)
{
	size_t k;
	json_t *v;

	json_array_foreach(json_object_get(x, "rules"), k, v) {
		if (json_integer_value(json_object_get(v, "index")) == i)
			return v;
	}
	return NULL;
}

static void explain_names_the_chosen_rule_and_why_not_the_others(void)
{
	struct policy *p = load();
	json_t *x, *r;

	CHECK(p, "policy refused: %s", err);
	x = explain(p, DAEMON, "daemon", "a", NULL, json_pack("[i]", 7));
	CHECK(x, "no explain");
	CHECK_STR(str(x, "answer"), "holds grant 7; request: granted at once, no approval, at "
				    "most 10m");
	CHECK(json_is_false(json_object_get(x, "exempt")) &&
		      json_is_false(json_object_get(x, "admin")),
	      "daemon exempt or admin");
	r = rule_at(x, 1);
	CHECK(r && json_is_true(json_object_get(r, "chosen")) && !json_object_get(r, "why_not"),
	      "rule 1 not chosen");
	CHECK_CONTAINS(str(rule_at(x, 0), "why_not"), "rule 1 is preferred");
	CHECK_STR(str(rule_at(x, 2), "why_not"), "daemon is not a requester (user:nobody)");
	CHECK(json_is_false(json_object_get(rule_at(x, 2), "requester")), "requester true");
	CHECK(!rule_at(x, 3) && !rule_at(x, 4), "rules for other resources listed");
	json_decref(x);

	x = explain(p, NOBODY, "nobody", "a", NULL, NULL);
	CHECK_STR(str(x, "answer"),
		  "request: 1 approval from user:daemon, user:nobody, at most 1h");
	json_decref(x);
	policy_free(p);
}

static void explain_of_several_resources_exempt_and_admin_users(void)
{
	struct policy *p = load();
	json_t *x;

	CHECK(p, "policy refused: %s", err);
	x = explain(p, DAEMON, "daemon", "a", "c", NULL);
	CHECK_STR(str(x, "answer"), "no rule lets daemon request a, c");
	CHECK_STR(str(rule_at(x, 0), "why_not"), "does not cover c");
	CHECK_STR(str(rule_at(x, 3), "why_not"), "does not cover a");
	CHECK(json_is_false(json_object_get(rule_at(x, 3), "covers")), "rule 3 covers a and c");
	CHECK_INT(json_array_size(json_object_get(x, "holds")), 0);
	json_decref(x);

	x = explain(p, DAEMON, "daemon", "a", "b", NULL);
	CHECK_STR(str(x, "answer"), "request: 2 approvals from user:root, group:nogroup, at most "
				    "1h, a reason matching ^INC-[0-9]+$");
	CHECK_STR(str(rule_at(x, 1), "why_not"), "does not cover b");
	json_decref(x);

	x = explain(p, DAEMON, "daemon", "d", NULL, NULL);
	CHECK_CONTAINS(str(rule_at(x, 4), "why_not"), "other hosts");
	CHECK_CONTAINS(str(x, "answer"), "no rule");
	json_decref(x);

	x = explain(p, GAMES, "games", "a", NULL, NULL);
	CHECK(json_is_true(json_object_get(x, "exempt")), "games not exempt");
	CHECK_CONTAINS(str(x, "answer"), "exempt: jitd never checks games's accesses");
	json_decref(x);

	x = explain(p, BIN, "bin", "a", "b", json_pack("[i,i]", 3, 9));
	CHECK(json_is_true(json_object_get(x, "admin")), "bin not admin");
	CHECK_STR(str(x, "answer"), "holds grants 3, 9; no rule lets bin request a, b; admin: may "
				    "grant a, b directly");
	json_decref(x);
	policy_free(p);
}

int main(void)
{
	RUN(approver_users_are_sorted_unique_and_leave_the_requester_out);
	RUN(dry_run_says_active_pending_or_refused_as_a_request_would);
	RUN(explain_names_the_chosen_rule_and_why_not_the_others);
	RUN(explain_of_several_resources_exempt_and_admin_users);
	return tl_exit();
}
