// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the verbs (agent/verbs.c) and the grant store (agent/grant.c) on the host
 * (tests/host_agent.h): who may do what, the state a request goes through, what reaches
 * the kernel image, and the store read back from its state file. Users from the host's
 * NSS: root (0), daemon (1, a requester), bin (2, an admin), sys (3, an approver),
 * games (5, nobody in the policy).
 */
#include <errno.h>
#include <stdlib.h>

#include "host_agent.h"
#include "image.h"
#include "testlib.h"
#include "util.h"

#define ROOT	  0
#define REQUESTER 1
#define ADMIN	  2
#define APPROVER  3
#define NOBODY	  5

static struct agent a;

/* Run request line (a JSON object) as uid; the reply's "ok", its errno or "" in *errno_out. */
static json_t *call(uid_t uid, const char *line)
{
	return host_call(&a, uid, line, strlen(line));
}

static bool ok(json_t *r)
{
	return json_is_true(json_object_get(r, "ok"));
}

static const char *err_name(json_t *r)
{
	return json_string_value(json_object_get(r, "errno")) ?: "";
}

static int64_t grant_id(json_t *r)
{
	return json_integer_value(json_object_get(json_object_get(r, "grant"), "id"));
}

static const char *grant_state(json_t *r)
{
	return json_string_value(json_object_get(json_object_get(r, "grant"), "state"));
}

/* Is there a kernel key for uid and resource name (any cgroup)? */
static bool key_for(uid_t uid, const char *res, uint64_t *id)
{
	uint32_t rid = util_resource_id(res);

	for (size_t i = 0; i < host_img.n; i++)
		if (host_img.v[i].key.uid == uid && host_img.v[i].key.resource == rid) {
			if (id)
				*id = host_img.v[i].val.grant_id;
			return true;
		}
	return false;
}

static void fresh(void)
{
	if (host_agent_reset(&a, host_policy))
		abort();
}

static void grant_needs_root_or_admin_and_refusal_changes_nothing(void)
{
	static const char req[] = "{\"op\":\"grant\",\"resource\":\"db\",\"uid\":1000,"
				  "\"duration_s\":60}";
	char *before, *after;
	size_t img = host_img.n;
	json_t *r;

	fresh();
	img = host_img.n;
	before = host_store_text(&a);
	r = call(REQUESTER, req);
	after = host_store_text(&a);
	CHECK(!ok(r), "a requester granted");
	CHECK_STR(err_name(r), "EPERM");
	CHECK_STR(after, before);
	CHECK_INT(host_img.n, img);
	json_decref(r);
	free(before);
	free(after);
	r = call(ADMIN, req);
	CHECK(ok(r), "the admin could not grant: %s",
	      json_string_value(json_object_get(r, "error")));
	CHECK(key_for(1000, "db", NULL), "no kernel key for uid 1000");
	json_decref(r);
}

static void request_is_pending_until_an_approver_approves(void)
{
	json_t *r;
	int64_t id;
	uint64_t kid;

	fresh();
	r = call(REQUESTER, "{\"op\":\"request\",\"resource\":\"db\",\"duration_s\":600,"
			    "\"reason\":\"INC-7\"}");
	CHECK(ok(r), "request refused: %s", json_string_value(json_object_get(r, "error")));
	CHECK_STR(grant_state(r), "pending");
	id = grant_id(r);
	json_decref(r);
	CHECK(!key_for(REQUESTER, "db", NULL), "a pending request reached the kernel");
	char line[128];

	snprintf(line, sizeof(line), "{\"op\":\"approve\",\"id\":%lld}", (long long)id);
	r = call(REQUESTER, line);
	CHECK(!ok(r), "the requester approved their own request");
	json_decref(r);
	r = call(NOBODY, line);
	CHECK(!ok(r), "someone who is no approver approved");
	json_decref(r);
	CHECK(!key_for(REQUESTER, "db", NULL), "a refused approval reached the kernel");
	r = call(APPROVER, line);
	CHECK(ok(r), "the approver could not approve: %s",
	      json_string_value(json_object_get(r, "error")));
	CHECK_STR(grant_state(r), "active");
	json_decref(r);
	CHECK(key_for(REQUESTER, "db", &kid), "no kernel key after the approval");
	CHECK_INT(kid, id);
}

static void request_outside_the_rules_is_refused(void)
{
	json_t *r;

	fresh();
	r = call(REQUESTER, "{\"op\":\"request\",\"resource\":\"db\",\"duration_s\":600,"
			    "\"reason\":\"because\"}");
	CHECK(!ok(r), "a reason not matching the pattern was taken");
	json_decref(r);
	r = call(REQUESTER, "{\"op\":\"request\",\"resource\":\"db\",\"duration_s\":7200,"
			    "\"reason\":\"INC-1\"}");
	CHECK(!ok(r), "a duration over the rule's maximum was taken");
	json_decref(r);
	r = call(NOBODY, "{\"op\":\"request\",\"resource\":\"etc\",\"duration_s\":60}");
	CHECK(!ok(r), "a user with no rule for the resource requested it");
	CHECK_STR(err_name(r), "EPERM");
	json_decref(r);
	r = call(REQUESTER, "{\"op\":\"request\",\"resource\":\"db\",\"uid\":0,"
			    "\"duration_s\":60,\"reason\":\"INC-1\"}");
	CHECK(!ok(r), "a request named another subject");
	json_decref(r);
	CHECK_INT(a.grants.n, 1); /* the policy's fleet grant only */
}

static void denial_and_revocation_end_grants(void)
{
	char line[160];
	json_t *r;
	int64_t id;

	fresh();
	r = call(REQUESTER, "{\"op\":\"request\",\"resource\":\"psql\",\"duration_s\":60,"
			    "\"reason\":\"INC-2\"}");
	id = grant_id(r);
	json_decref(r);
	snprintf(line, sizeof(line), "{\"op\":\"deny\",\"id\":%lld,\"reason\":\"no\"}",
		 (long long)id);
	r = call(APPROVER, line);
	CHECK(ok(r), "the approver could not deny");
	CHECK_STR(grant_state(r), "denied");
	json_decref(r);
	r = call(REQUESTER, "{\"op\":\"request\",\"resource\":\"etc\",\"duration_s\":60}");
	CHECK(ok(r), "a rule without approvals did not grant at once");
	CHECK_STR(grant_state(r), "active");
	id = grant_id(r);
	json_decref(r);
	CHECK(key_for(REQUESTER, "etc", NULL), "no kernel key for a granted request");
	snprintf(line, sizeof(line), "{\"op\":\"revoke\",\"id\":%lld}", (long long)id);
	r = call(NOBODY, line);
	CHECK(!ok(r), "someone else revoked a user's grant");
	CHECK_STR(err_name(r), "EPERM");
	json_decref(r);
	r = call(REQUESTER, line);
	CHECK(ok(r), "the user could not revoke their own grant");
	CHECK_STR(grant_state(r), "revoked");
	json_decref(r);
	CHECK(!key_for(REQUESTER, "etc", NULL), "the kernel key outlived the revocation");
	r = call(REQUESTER, line);
	CHECK(!ok(r), "a revoked grant was revoked again");
	json_decref(r);
}

/* issue 10: approve and deny refused a reason with an embedded NUL only in request */
static void reasons_with_nul_are_refused_everywhere(void)
{
	char line[200];
	json_t *r;
	int64_t id;

	fresh();
	r = call(REQUESTER, "{\"op\":\"request\",\"resource\":\"db\",\"duration_s\":60,"
			    "\"reason\":\"INC-1\\u0000hidden\"}");
	CHECK(!ok(r), "request took a reason with a NUL");
	json_decref(r);
	r = call(REQUESTER, "{\"op\":\"request\",\"resource\":\"db\",\"duration_s\":60,"
			    "\"reason\":\"INC-1\"}");
	id = grant_id(r);
	json_decref(r);
	snprintf(line, sizeof(line),
		 "{\"op\":\"approve\",\"id\":%lld,\"reason\":\"ok\\u0000hidden\"}", (long long)id);
	r = call(APPROVER, line);
	CHECK(!ok(r), "approve took a reason with a NUL");
	CHECK_STR(err_name(r), "EINVAL");
	json_decref(r);
	snprintf(line, sizeof(line), "{\"op\":\"deny\",\"id\":%lld,\"reason\":\"no\\u0000hidden\"}",
		 (long long)id);
	r = call(APPROVER, line);
	CHECK(!ok(r), "deny took a reason with a NUL");
	CHECK_STR(err_name(r), "EINVAL");
	json_decref(r);
	snprintf(line, sizeof(line), "{\"op\":\"show\",\"id\":%lld}", (long long)id);
	r = call(REQUESTER, line);
	CHECK_STR(grant_state(r), "pending");
	json_decref(r);
}

static void extension_stops_at_the_rules_maximum(void)
{
	char line[160];
	json_t *r;
	int64_t id;

	fresh();
	r = call(REQUESTER, "{\"op\":\"request\",\"resource\":\"etc\",\"duration_s\":3600}");
	id = grant_id(r);
	json_decref(r);
	snprintf(line, sizeof(line), "{\"op\":\"extend\",\"id\":%lld,\"duration_s\":3600}",
		 (long long)id);
	r = call(NOBODY, line);
	CHECK(!ok(r), "someone else extended a user's grant");
	CHECK_STR(err_name(r), "EPERM");
	json_decref(r);
	r = call(REQUESTER, line);
	CHECK(ok(r), "the extension was refused: %s",
	      json_string_value(json_object_get(r, "error")));
	/* capped at the rule's 90 minutes */
	CHECK_INT(json_integer_value(json_object_get(json_object_get(r, "grant"), "duration_s")),
		  5400);
	json_decref(r);
	r = call(REQUESTER, line);
	CHECK(!ok(r), "extended past the rule's maximum");
	CHECK_STR(err_name(r), "ERANGE");
	json_decref(r);
}

/* The store read back from its state file is the same store, with the same kernel image. */
static void store_survives_a_reload(void)
{
	char *before, *after;
	size_t img;
	json_t *r;

	fresh();
	r = call(ADMIN, "{\"op\":\"grant\",\"resources\":[\"db\",\"psql\"],\"user\":\"daemon\","
			"\"duration_s\":600,\"reason\":\"CHG-1\"}");
	CHECK(ok(r), "grant refused");
	json_decref(r);
	r = call(REQUESTER, "{\"op\":\"request\",\"resource\":\"db\",\"duration_s\":60,"
			    "\"reason\":\"INC-3\"}");
	json_decref(r);
	before = host_store_text(&a);
	img = host_img.n;
	grant_store_free(&a.grants);
	memset(&a.grants, 0, sizeof(a.grants));
	host_img.n = 0;
	CHECK_INT(grant_store_load(&a.grants, a.state_dir), 0);
	CHECK_INT(image_sync_all(&a), 0);
	after = host_store_text(&a);
	CHECK_STR(after, before);
	CHECK_INT(host_img.n, img);
	CHECK(key_for(REQUESTER, "psql", NULL), "the reloaded grant has no kernel key");
	free(before);
	free(after);
}

static void policy_apply_needs_an_admin_and_a_higher_serial(void)
{
	static const char newer[] = "{\"op\":\"policy_apply\",\"text\":\"{\\\"version\\\":1,"
				    "\\\"serial\\\":%d,\\\"resources\\\":{\\\"db\\\":"
				    "{\\\"connect\\\":[\\\"10.0.5.0/24:5432\\\"]}}}\"}";
	char line[256];
	json_t *r;

	fresh();
	snprintf(line, sizeof(line), newer, 11);
	r = call(REQUESTER, line);
	CHECK(!ok(r), "a requester applied a policy");
	CHECK_STR(err_name(r), "EPERM");
	json_decref(r);
	snprintf(line, sizeof(line), newer, 10);
	r = call(ROOT, line);
	CHECK(!ok(r), "the same serial was applied again");
	CHECK_CONTAINS(json_string_value(json_object_get(r, "error")), "does not increase");
	json_decref(r);
	CHECK_INT(a.policy->serial, 10);
	snprintf(line, sizeof(line), newer, 11);
	r = call(ADMIN, line);
	CHECK(ok(r), "the admin could not apply serial 11: %s",
	      json_string_value(json_object_get(r, "error")));
	json_decref(r);
	CHECK_INT(a.policy->serial, 11);
	CHECK(!key_for(APPROVER, "etc", NULL), "the old policy's fleet grant kept its key");
}

static void exec_follows_the_rules(void)
{
	uint64_t kid;
	json_t *r;

	fresh();
	r = call(REQUESTER, "{\"op\":\"exec\",\"resource\":\"db\",\"duration_s\":60,"
			    "\"reason\":\"INC-4\"}");
	CHECK(!ok(r), "exec skipped the rule's approval");
	CHECK_STR(err_name(r), "EPERM");
	json_decref(r);
	r = call(NOBODY, "{\"op\":\"exec\",\"resource\":\"etc\",\"duration_s\":60}");
	CHECK(!ok(r), "exec by a user with no rule");
	CHECK_STR(err_name(r), "EPERM");
	json_decref(r);
	r = call(REQUESTER, "{\"op\":\"exec\",\"resource\":\"etc\",\"duration_s\":7200}");
	CHECK(!ok(r), "exec past the rule's maximum");
	json_decref(r);
	CHECK(!key_for(REQUESTER, "etc", NULL), "a refused exec reached the kernel");
	r = call(REQUESTER, "{\"op\":\"exec\",\"resource\":\"etc\",\"duration_s\":60}");
	CHECK(ok(r), "exec within the rule refused: %s",
	      json_string_value(json_object_get(r, "error")));
	CHECK_STR(json_string_value(json_object_get(json_object_get(r, "grant"), "kind")), "exec");
	CHECK(key_for(REQUESTER, "etc", &kid), "no kernel key for the exec grant");
	CHECK_INT(kid, grant_id(r));
	json_decref(r);
}

static void audit_stream_is_root_only(void)
{
	static const char req[] = "{\"op\":\"audit\",\"follow\":true}";
	json_t *r;

	fresh();
	r = call(ADMIN, req);
	CHECK(!ok(r), "an admin subscribed to the audit stream");
	CHECK_STR(err_name(r), "EPERM");
	json_decref(r);
	r = call(REQUESTER, req);
	CHECK_STR(err_name(r), "EPERM");
	json_decref(r);
	/* root reaches the subscription (which the host agent does not have) */
	r = call(ROOT, req);
	CHECK_CONTAINS(json_string_value(json_object_get(r, "error")), "no audit subscriptions");
	json_decref(r);
}

/* The store does not write audit records: it queues what it changed on its own (expiry,
 * the policy's grants) for the caller, in order. */
static void store_queues_its_own_changes(void)
{
	struct grant_change *ch;
	struct grant *g;
	uint64_t id;
	size_t n;
	json_t *r;

	fresh();
	CHECK_INT(a.grants.n_changes, 0);
	r = call(ADMIN, "{\"op\":\"grant\",\"resource\":\"db\",\"uid\":1000,"
			"\"duration_s\":60}");
	g = grant_find(&a.grants, grant_id(r));
	json_decref(r);
	CHECK(g, "no grant");
	id = g->id;
	CHECK_INT(a.grants.n_changes, 0); /* a verb records its own */
	g->expires_boot = 1;		  /* past */
	g->starts_boot = 0;
	CHECK(grant_expire_due(&a) >= 0, "grant_expire_due failed");
	ch = grant_changes_take(&a.grants, &n);
	CHECK_INT(n, 1);
	CHECK_STR(ch[0].event, "expired");
	CHECK_INT(json_integer_value(json_object_get(json_object_get(ch[0].fields, "grant"), "id")),
		  id);
	json_decref(ch[0].fields);
	free(ch);
	CHECK_INT(a.grants.n_changes, 0);
	CHECK(!key_for(1000, "db", NULL), "the expired grant kept its kernel key");
}

static void malformed_requests_get_errors(void)
{
	static const char *bad[] = {"",
				    "{",
				    "[]",
				    "{\"op\":1}",
				    "{\"op\":\"nope\"}",
				    "{\"op\":\"show\",\"id\":-1}",
				    "{\"op\":\"show\",\"id\":99}",
				    "{\"op\":\"grant\",\"op\":\"grant\"}"};

	fresh();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *r = call(ROOT, bad[i]);

		CHECK(!ok(r), "'%s' was taken", bad[i]);
		CHECK(json_string_length(json_object_get(r, "error")) > 0, "'%s': no error",
		      bad[i]);
		json_decref(r);
	}
}

int main(void)
{
	if (host_agent_init(&a, host_policy)) {
		printf("FAIL host_agent_init\n");
		return 1;
	}
	RUN(grant_needs_root_or_admin_and_refusal_changes_nothing);
	RUN(request_is_pending_until_an_approver_approves);
	RUN(request_outside_the_rules_is_refused);
	RUN(denial_and_revocation_end_grants);
	RUN(reasons_with_nul_are_refused_everywhere);
	RUN(extension_stops_at_the_rules_maximum);
	RUN(store_survives_a_reload);
	RUN(policy_apply_needs_an_admin_and_a_higher_serial);
	RUN(exec_follows_the_rules);
	RUN(audit_stream_is_root_only);
	RUN(store_queues_its_own_changes);
	RUN(malformed_requests_get_errors);
	host_agent_free(&a);
	return tl_exit();
}
