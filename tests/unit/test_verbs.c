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
#include <string.h>
#include <sys/stat.h>
#include <stdio.h>

#include "alert.h"
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
static int (*host_ops_unit_cgroup)(struct agent *, const char *, char **, char *, size_t);

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

/* Alert records ("class_uid":2004) in the host audit file. */
static int alert_records(void)
{
	char path[256], line[65536];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/audit.jsonl", a.state_dir);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "\"class_uid\":2004") != NULL;
	fclose(f);
	return n;
}

/* The request verb feeds alert.c: refusals by the rules count (dry runs and granted
 * requests do not), the threshold raises one alert record, status counts it. */
static void request_refusals_raise_one_alert(void)
{
	char pol[4096];
	int before = alert_records();
	json_t *r;

	snprintf(pol, sizeof(pol),
		 "%.*s,\"alerts\":{\"refused_requests\":{\"count\":2,"
		 "\"per\":\"1m\"}}}",
		 (int)strlen(host_policy) - 1, host_policy);
	if (host_agent_reset(&a, pol))
		abort();
	r = call(NOBODY, "{\"op\":\"request\",\"resource\":\"etc\",\"duration_s\":60,"
			 "\"dry_run\":true}");
	json_decref(r);
	r = call(REQUESTER, "{\"op\":\"request\",\"resource\":\"etc\",\"duration_s\":60}");
	CHECK(ok(r), "the rule's request refused: %s",
	      json_string_value(json_object_get(r, "error")));
	json_decref(r);
	/* an exec is a self-service grant under the same rules: its refusal counts too */
	r = call(NOBODY, "{\"op\":\"exec\",\"resource\":\"etc\",\"duration_s\":60}");
	CHECK_STR(err_name(r), "EPERM");
	json_decref(r);
	CHECK_INT(alert_records(), before);
	CHECK_INT(a.alert.raised[ALERT_REFUSED_REQUESTS], 0);
	r = call(NOBODY, "{\"op\":\"request\",\"resource\":\"etc\",\"duration_s\":60}");
	json_decref(r);
	CHECK_INT(a.alert.raised[ALERT_REFUSED_REQUESTS], 1);
	CHECK_INT(alert_records(), before + 1);
	r = call(NOBODY, "{\"op\":\"status\"}");
	CHECK_INT(json_integer_value(json_object_get(json_object_get(r, "alerts"), "raised")), 1);
	/* jitd's own memory, as /proc says: resident now, at most its peak */
	CHECK(json_integer_value(json_object_get(json_object_get(r, "memory"), "rss_kib")) > 0 &&
		      json_integer_value(
			      json_object_get(json_object_get(r, "memory"), "rss_kib")) <=
			      json_integer_value(
				      json_object_get(json_object_get(r, "memory"), "hwm_kib")),
	      "status memory: %s",
	      json_dumps(json_object_get(r, "memory"), JSON_COMPACT) ?: "(none)");
	json_decref(r);
	fresh();
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

/* REQUESTER's request of etc (no approval) for req_s seconds; its id, and in line (160
 * bytes) the request to extend it by add_s. */
static int64_t etc_to_extend(int req_s, int add_s, char *line)
{
	char req[128];
	json_t *r;
	int64_t id;

	fresh();
	snprintf(req, sizeof(req), "{\"op\":\"request\",\"resource\":\"etc\",\"duration_s\":%d}",
		 req_s);
	r = call(REQUESTER, req);
	id = grant_id(r);
	json_decref(r);
	snprintf(line, 160, "{\"op\":\"extend\",\"id\":%lld,\"duration_s\":%d}", (long long)id,
		 add_s);
	return id;
}

static void extension_stops_at_the_rules_maximum(void)
{
	char line[160];
	json_t *r;

	etc_to_extend(3600, 3600, line);
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

/* A user who may extend their own grant cannot grow its history without end (each extension
 * parses and writes it whole): past GRANT_HISTORY_MAX bytes extend is refused and changes
 * nothing. */
static void extensions_stop_when_the_history_is_full(void)
{
	char line[160];
	const char *err = NULL;
	json_t *r, *g;
	int64_t id = etc_to_extend(60, 1, line), exp = 0;
	int n;

	for (n = 0; n < 1000; n++) {
		r = call(REQUESTER, line);
		if (!ok(r)) {
			err = err_name(r);
			break;
		}
		exp = json_integer_value(
			json_object_get(json_object_get(r, "grant"), "duration_s"));
		json_decref(r);
	}
	CHECK_INT(n, GRANT_HISTORY_ENTRIES - 2); /* requested, granted, then the extensions */
	CHECK_STR(err ?: "(none)", "ENOSPC");
	CHECK(strstr(json_string_value(json_object_get(r, "error")) ?: "", "grant or request it"),
	      "the refusal does not say what to do");
	json_decref(r);
	snprintf(line, sizeof(line), "{\"op\":\"show\",\"id\":%lld}", (long long)id);
	r = call(REQUESTER, line);
	g = json_object_get(r, "grant");
	CHECK_INT(json_integer_value(json_object_get(g, "duration_s")), exp);
	/* requested, granted, then the extensions that were taken */
	CHECK_INT(json_array_size(json_object_get(g, "history")), (size_t)n + 2);
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

/* scope_kill as the tests see it: the cgroups asked for, and a fixed answer. */
static struct {
	char cgroups[8][64];
	size_t n;
	int answer;
} kills;

static int record_kill(struct agent *ag, const char *rel)
{
	if (kills.n < 8)
		snprintf(kills.cgroups[kills.n], sizeof(kills.cgroups[0]), "%s", rel);
	kills.n++;
	return kills.answer;
}

/* An exec grant of etc for the requester (its rule needs no approval), marked as made under
 * a rule with "on_end": "kill" when kill (verbs.c copies the rule's on_end). */
static struct grant *exec_grant(bool kill)
{
	json_t *r = call(REQUESTER, "{\"op\":\"exec\",\"resource\":\"etc\",\"duration_s\":60}");
	struct grant *g = grant_find(&a.grants, grant_id(r));

	json_decref(r);
	if (!g)
		abort();
	g->on_end_kill = kill;
	if (grant_store_save(&a.grants))
		abort();
	return g;
}

/* The changes the store queued, as one event name per change ("expired killed"); the
 * fields of the last one whose event is ev into *fields (owned by the caller), or NULL. */
static char *take_events(const char *ev, json_t **fields)
{
	static char names[256];
	struct grant_change *ch;
	size_t n;

	names[0] = 0;
	*fields = NULL;
	ch = grant_changes_take(&a.grants, &n);
	for (size_t i = 0; i < n; i++) {
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? " " : "",
			 ch[i].event);
		if (!strcmp(ch[i].event, ev)) {
			json_decref(*fields);
			*fields = json_incref(ch[i].fields);
		}
		json_decref(ch[i].fields);
	}
	free(ch);
	return names;
}

/* A grant's on_end "kill" is in the state file and read back; files without it read "keep";
 * an entry with any other value is refused (jitd never wrote it). */
static void on_end_kill_survives_a_store_reload(void)
{
	uint64_t kill_id, keep_id;
	char path[256], *text;
	json_t *root;
	FILE *f;

	fresh();
	kill_id = exec_grant(true)->id;
	keep_id = exec_grant(false)->id;
	grant_store_free(&a.grants);
	memset(&a.grants, 0, sizeof(a.grants));
	CHECK_INT(grant_store_load(&a.grants, a.state_dir), 0);
	CHECK(grant_find(&a.grants, kill_id) && grant_find(&a.grants, kill_id)->on_end_kill,
	      "on_end kill lost across the reload");
	CHECK(grant_find(&a.grants, keep_id) && !grant_find(&a.grants, keep_id)->on_end_kill,
	      "on_end kill appeared across the reload");
	root = grant_to_json(grant_find(&a.grants, kill_id));
	CHECK_STR(json_string_value(json_object_get(root, "on_end")), "kill");
	json_decref(root);

	/* the state file names it once, and only when set */
	snprintf(path, sizeof(path), "%s/grants.json", a.state_dir);
	CHECK_INT(util_read_file(path, 1 << 20, &text, &(size_t){0}), 0);
	CHECK_CONTAINS(text, "\"on_end\":\"kill\"");
	CHECK(!strstr(strstr(text, "\"on_end\"") + 1, "\"on_end\""), "on_end written twice");
	free(text);

	/* another value: that entry is refused, the others are kept */
	root = json_load_file(path, 0, NULL);
	for (size_t i = 0; i < json_array_size(json_object_get(root, "grants")); i++) {
		json_t *o = json_array_get(json_object_get(root, "grants"), i);

		if (json_integer_value(json_object_get(o, "id")) == (json_int_t)kill_id)
			json_object_set_new(o, "on_end", json_string("maybe"));
	}
	f = fopen(path, "w");
	CHECK(f && !json_dumpf(root, f, JSON_COMPACT), "cannot write %s", path);
	if (f)
		fclose(f);
	json_decref(root);
	grant_store_free(&a.grants);
	memset(&a.grants, 0, sizeof(a.grants));
	CHECK_INT(grant_store_load(&a.grants, a.state_dir), 0);
	CHECK(!grant_find(&a.grants, kill_id), "an entry with on_end 'maybe' was taken");
	CHECK(grant_find(&a.grants, keep_id), "the good entry was refused with the bad one");
}

/* Expiry and revocation of a started grant with on_end "kill" kill its cgroup's tree after
 * the kernel key is gone, with a "killed" record saying so; revoke --kill kills any cgroup
 * grant; a grant without a cgroup gets a "kill_skipped" record; others are left alone. */
static void on_end_kill_ends_the_tree_on_expiry_and_revoke(void)
{
	int (*saved)(struct agent *, const char *) = a.ops.scope_kill;
	const struct grant *out;
	struct grant *g;
	json_t *f;
	int killed;

	fresh();
	a.ops.scope_kill = record_kill;
	memset(&kills, 0, sizeof(kills));
	kills.answer = 3;

	g = exec_grant(true);
	g->expires_boot = 1; /* past */
	g->starts_boot = 0;
	CHECK(grant_expire_due(&a) >= 0, "grant_expire_due failed");
	CHECK_STR(take_events("killed", &f), "expired killed");
	CHECK_INT(kills.n, 1);
	CHECK_STR(kills.cgroups[0], g->cgroup);
	CHECK_STR(json_string_value(json_object_get(f, "cgroup")), g->cgroup);
	CHECK_INT(json_integer_value(json_object_get(f, "grant_id")), g->id);
	CHECK_INT(json_integer_value(json_object_get(f, "processes")), 3);
	CHECK_STR(json_string_value(json_object_get(f, "on_end")), "kill");
	CHECK_STR(json_string_value(json_object_get(f, "ended")), "expired");
	CHECK(!json_object_get(f, "by_uid"), "an expiry has a by_uid");
	json_decref(f);

	g = exec_grant(true);
	kills.answer = -EACCES;
	CHECK_INT(grant_revoke(&a, g->id, ADMIN, &out), 0);
	CHECK(!key_for(REQUESTER, "etc", NULL), "the kernel key outlived the revocation");
	CHECK_STR(take_events("killed", &f), "killed");
	CHECK_INT(kills.n, 2);
	CHECK_INT(json_integer_value(json_object_get(f, "by_uid")), ADMIN);
	CHECK_STR(json_string_value(json_object_get(f, "ended")), "revoked");
	CHECK_STR(json_string_value(json_object_get(f, "error")), strerror(EACCES));
	json_decref(f);

	/* keep: nothing; revoke --kill: killed without on_end, its count returned */
	kills.answer = 2;
	g = exec_grant(false);
	CHECK_INT(grant_revoke(&a, g->id, ADMIN, &out), 0);
	CHECK_INT(kills.n, 2);
	g = exec_grant(false);
	CHECK_INT(grant_revoke_kill(&a, g->id, ROOT, true, &out, &killed), 0);
	CHECK_INT(killed, 2);
	CHECK_STR(take_events("killed", &f), "killed");
	CHECK(!json_object_get(f, "on_end"), "revoke --kill said on_end");
	json_decref(f);

	/* a request (no cgroup): nothing to kill, and a record says why */
	f = call(REQUESTER, "{\"op\":\"request\",\"resource\":\"etc\",\"duration_s\":60}");
	g = grant_find(&a.grants, grant_id(f));
	json_decref(f);
	CHECK(g && !g->cgroup, "no request grant");
	if (g) {
		g->on_end_kill = true;
		CHECK_INT(grant_revoke(&a, g->id, ADMIN, &out), 0);
		CHECK_INT(kills.n, 3);
		CHECK_STR(take_events("kill_skipped", &f), "kill_skipped");
		CHECK_CONTAINS(json_string_value(json_object_get(f, "why")),
			       "not bound to a cgroup");
		json_decref(f);
	}
	a.ops.scope_kill = saved;
}

/* verbs: an exec or request under a rule with "on_end": "kill" carries it; revoking the
 * exec grant kills its tree and says how many in the reply; policy_show shows both keys. */
static void verbs_copy_on_end_from_the_rule(void)
{
	static const char pol[] =
		"{\"version\":1,\"serial\":10,\"resources\":{\"etc\":{\"open\":[\"/etc/app/\"],"
		"\"revoke\":\"open\"}},\"rules\":[{\"resources\":[\"etc\"],\"requesters\":"
		"[\"user:daemon\"],\"max_duration\":\"90m\",\"on_end\":\"kill\"}]}";
	int (*saved)(struct agent *, const char *) = a.ops.scope_kill;
	char line[128];
	json_t *r, *f;
	int64_t id;

	if (host_agent_reset(&a, pol))
		abort();
	a.ops.scope_kill = record_kill;
	memset(&kills, 0, sizeof(kills));
	kills.answer = 4;
	r = call(REQUESTER, "{\"op\":\"exec\",\"resource\":\"etc\",\"duration_s\":60}");
	id = grant_id(r);
	CHECK_STR(json_string_value(json_object_get(json_object_get(r, "grant"), "on_end")),
		  "kill");
	json_decref(r);
	snprintf(line, sizeof(line), "{\"op\":\"revoke\",\"id\":%lld}", (long long)id);
	r = call(REQUESTER, line);
	CHECK(ok(r), "revoke refused: %s", json_string_value(json_object_get(r, "error")));
	CHECK_INT(json_integer_value(json_object_get(r, "killed")), 4);
	CHECK_INT(kills.n, 1);
	json_decref(r);
	CHECK_INT(a.grants.n_changes, 0); /* the verb recorded its own */
	r = call(REQUESTER, "{\"op\":\"request\",\"resource\":\"etc\",\"duration_s\":60}");
	CHECK(grant_find(&a.grants, grant_id(r))->on_end_kill, "request without on_end");
	json_decref(r);
	r = call(REQUESTER, "{\"op\":\"policy_show\"}");
	f = json_object_get(r, "resources");
	CHECK_STR(json_string_value(json_object_get(json_object_get(f, "etc"), "revoke")), "open");
	f = json_array_get(json_object_get(r, "rules"), 0);
	CHECK_STR(json_string_value(json_object_get(f, "on_end")), "kill");
	json_decref(r);
	a.ops.scope_kill = saved;
	fresh();
}

/* The unit's cgroup as jitd without systemd names it, below the test's cgroup root. */
static int host_unit(struct agent *ag, const char *unit, char **out, char *err, size_t errlen)
{
	return asprintf(out, "/system.slice/%s", unit) < 0 ? -ENOMEM : 0;
}

/* Grant `etc` to the unit ci-42.service, until it stops when until: the grant's id. */
static uint64_t unit_grant(bool until)
{
	char line[256];
	json_t *r;
	uint64_t id;

	snprintf(line, sizeof(line),
		 "{\"op\":\"grant\",\"resource\":\"etc\",\"unit\":\"ci-42.service\","
		 "\"duration_s\":600%s}",
		 until ? ",\"until_unit_stops\":true" : "");
	r = call(ADMIN, line);
	if (!ok(r)) /* the caller's checks then fail on id 0 */
		fprintf(stderr, "unit grant refused: %s\n",
			json_string_value(json_object_get(r, "error")));
	id = grant_id(r);
	json_decref(r);
	return id;
}

/* --until-unit-stops: only with a unit; kept in the state file and read back; a cgroup made
 * again at the unit's path (a new run) rebinds a plain unit grant but never this one; a
 * state entry with a bad value is refused. */
static void until_unit_stops_is_kept_and_never_rebound(void)
{
	static const char *const bad[] = {
		"{\"op\":\"grant\",\"resource\":\"etc\",\"user\":\"daemon\",\"duration_s\":60,"
		"\"until_unit_stops\":true}",
		"{\"op\":\"grant\",\"resource\":\"etc\",\"unit\":\"ci-42.service\",\"duration_s\":"
		"60,"
		"\"until_unit_stops\":\"yes\"}",
	};
	char dir[256], moved[256], path[256], *text;
	uint64_t until_id, plain_id, old_cg;
	struct grant *g;
	json_t *r, *root;
	FILE *f;

	fresh();
	a.ops.unit_cgroup = host_unit;
	snprintf(dir, sizeof(dir), "%s/system.slice", a.cgroup_root);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/system.slice/ci-42.service", a.cgroup_root);
	CHECK_INT(mkdir(dir, 0755), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = call(ADMIN, bad[i]);
		CHECK(!ok(r) && !strcmp(err_name(r), "EINVAL"), "taken: %s", bad[i]);
		json_decref(r);
	}
	until_id = unit_grant(true);
	plain_id = unit_grant(false);
	CHECK(grant_find(&a.grants, plain_id), "plain unit grant refused");
	g = grant_find(&a.grants, until_id);
	CHECK(g && g->until_unit_stops && g->unit && !strcmp(g->unit, "ci-42.service"),
	      "the grant lost its unit or flag");
	CHECK(!grant_find(&a.grants, plain_id)->until_unit_stops, "plain unit grant flagged");
	root = grant_to_json(g);
	CHECK_STR(json_string_value(json_object_get(root, "unit")), "ci-42.service");
	CHECK(json_is_true(json_object_get(root, "until_unit_stops")), "no until_unit_stops");
	json_decref(root);

	grant_store_free(&a.grants);
	memset(&a.grants, 0, sizeof(a.grants));
	CHECK_INT(grant_store_load(&a.grants, a.state_dir), 0);
	g = grant_find(&a.grants, until_id);
	CHECK(g && g->until_unit_stops && g->unit && !strcmp(g->unit, "ci-42.service"),
	      "until_unit_stops lost across the reload");
	CHECK(grant_find(&a.grants, plain_id) &&
		      !grant_find(&a.grants, plain_id)->until_unit_stops &&
		      grant_find(&a.grants, plain_id)->unit,
	      "the plain unit grant changed across the reload");

	/* a grant synced first: the store's subject hashes are up to date before the rebind */
	r = call(ADMIN, "{\"op\":\"grant\",\"resource\":\"etc\",\"uid\":4242,\"duration_s\":60}");
	CHECK(ok(r), "grant refused");
	json_decref(r);
	g = grant_find(&a.grants, until_id);
	/* a new run: another cgroup (the old directory kept aside, so its inode is not reused) */
	old_cg = g->cgroup_id;
	snprintf(moved, sizeof(moved), "%s/system.slice/old-run", a.cgroup_root);
	CHECK_INT(rename(dir, moved), 0);
	CHECK_INT(mkdir(dir, 0755), 0);
	grant_rebind_cgroups(&a);
	CHECK(grant_find(&a.grants, until_id)->cgroup_id == old_cg,
	      "an until-unit-stops grant followed the unit's new run");
	CHECK(grant_find(&a.grants, plain_id)->cgroup_id != old_cg,
	      "a plain unit grant did not follow the new run");
	{ /* the kernel's key at the new cgroup names it (it ends last) also after a shorter
	   * grant on the same unit: sync_key found it under its new subject */
		const struct grant *pg;

		r = call(ADMIN, "{\"op\":\"grant\",\"resource\":\"etc\",\"unit\":"
				"\"ci-42.service\",\"duration_s\":10}");
		CHECK(ok(r), "short unit grant refused");
		json_decref(r);
		pg = grant_find(&a.grants, plain_id);
		struct jitd_grant_key k = {.resource = util_resource_id("etc"),
					   .uid = pg->has_uid ? pg->uid : JITD_ANY_UID,
					   .cgroup = pg->cgroup_id};
		const struct jitd_grant_val *v = host_image_get(&k);

		CHECK(v && v->grant_id == plain_id,
		      "no kernel key names the rebound grant at its new cgroup");
	}
	take_events("", &root); /* drop the queued "rebound" */
	json_decref(root);

	/* bad values in the state file: that entry is refused, the other kept */
	snprintf(path, sizeof(path), "%s/grants.json", a.state_dir);
	CHECK_INT(util_read_file(path, 1 << 20, &text, &(size_t){0}), 0);
	CHECK_CONTAINS(text, "\"until_unit_stops\":true");
	free(text);
	root = json_load_file(path, 0, NULL);
	for (size_t i = 0; i < json_array_size(json_object_get(root, "grants")); i++) {
		json_t *o = json_array_get(json_object_get(root, "grants"), i);

		if (json_integer_value(json_object_get(o, "id")) == (json_int_t)until_id)
			json_object_set_new(o, "until_unit_stops", json_string("yes"));
		else if (json_integer_value(json_object_get(o, "id")) == (json_int_t)plain_id)
			json_object_set_new(o, "unit", json_string("../etc.service"));
	}
	f = fopen(path, "w");
	CHECK(f && !json_dumpf(root, f, JSON_COMPACT), "cannot write %s", path);
	if (f)
		fclose(f);
	json_decref(root);
	grant_store_free(&a.grants);
	memset(&a.grants, 0, sizeof(a.grants));
	CHECK_INT(grant_store_load(&a.grants, a.state_dir), 0);
	CHECK(!grant_find(&a.grants, until_id), "until_unit_stops 'yes' was taken");
	CHECK(!grant_find(&a.grants, plain_id), "unit '../etc.service' was taken");
	rmdir(dir);
	rmdir(moved);
	a.ops.unit_cgroup = host_ops_unit_cgroup;
	fresh();
}

/* The audit file's size: what the verbs recorded so far. */
static long long audit_size(void)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/audit.jsonl", a.state_dir);
	return stat(path, &st) ? -1 : (long long)st.st_size;
}

/* Run a dry-run request line as uid; its "would", or NULL with the store, the image or the
 * audit changed (a failed check). */
static json_t *dry_run_changes_nothing(uid_t uid, const char *line)
{
	char *before = host_store_text(&a), *after;
	size_t img = host_img.n;
	long long audit = audit_size();
	json_t *r = call(uid, line);
	bool same;

	after = host_store_text(&a);
	same = before && after && !strcmp(before, after) && host_img.n == img &&
	       audit_size() == audit;
	free(before);
	free(after);
	if (!same)
		json_decref(r);
	return same ? r : NULL;
}

static void dry_run_changes_nothing_and_says_what_a_request_would_do(void)
{
	json_t *r;

	fresh();
	r = dry_run_changes_nothing(REQUESTER, "{\"op\":\"request\",\"resource\":\"etc\","
					       "\"duration_s\":600,\"dry_run\":true}");
	CHECK(r, "a dry-run changed the store, the image or the audit");
	CHECK(ok(r) && json_is_true(json_object_get(r, "dry_run")), "not a dry-run reply");
	CHECK_STR(json_string_value(json_object_get(r, "would")), "active");
	json_decref(r);
	r = dry_run_changes_nothing(REQUESTER,
				    "{\"op\":\"request\",\"resources\":[\"db\",\"psql\"],"
				    "\"duration_s\":600,\"reason\":\"INC-7\",\"dry_run\":true}");
	CHECK(r, "a dry-run changed the store, the image or the audit");
	CHECK_STR(json_string_value(json_object_get(r, "would")), "pending");
	CHECK_STR(json_string_value(json_object_get(
			  json_array_get(json_object_get(json_object_get(r, "approvers"), "users"),
					 0),
			  "user")),
		  "sys");
	json_decref(r);
	r = dry_run_changes_nothing(REQUESTER, "{\"op\":\"request\",\"resource\":\"db\","
					       "\"duration_s\":600,\"reason\":\"x\","
					       "\"dry_run\":true}");
	CHECK(r, "a refused dry-run changed the store, the image or the audit");
	CHECK(ok(r), "a refused dry-run is not ok:true");
	CHECK_STR(json_string_value(json_object_get(r, "would")), "refused");
	CHECK_STR(err_name(r), "EINVAL");
	json_decref(r);
	r = dry_run_changes_nothing(NOBODY, "{\"op\":\"request\",\"resource\":\"etc\","
					    "\"duration_s\":600,\"dry_run\":true}");
	CHECK(r, "a refused dry-run changed something");
	CHECK_STR(json_string_value(json_object_get(r, "would")), "refused");
	CHECK_STR(err_name(r), "EPERM");
	json_decref(r);
	r = call(REQUESTER, "{\"op\":\"request\",\"resource\":\"etc\",\"duration_s\":600,"
			    "\"dry_run\":1}");
	CHECK(!ok(r) && !strcmp(err_name(r), "EINVAL"), "dry_run 1 taken");
	json_decref(r);
	/* the same request for real does record and grant: the checks above can fail */
	long long audit = audit_size();

	r = call(REQUESTER, "{\"op\":\"request\",\"resource\":\"etc\",\"duration_s\":600}");
	CHECK(ok(r) && key_for(REQUESTER, "etc", NULL), "the real request was not granted");
	CHECK(audit_size() > audit, "the real request wrote no audit record");
	json_decref(r);
}

static void approvers_and_explain_answer_for_oneself_admins_for_anyone(void)
{
	json_t *r, *x;

	fresh();
	r = call(REQUESTER, "{\"op\":\"approvers\",\"resources\":[\"db\"]}");
	CHECK(ok(r), "approvers refused: %s", json_string_value(json_object_get(r, "error")));
	CHECK_INT(json_integer_value(json_object_get(r, "approvals")), 1);
	CHECK_STR(json_string_value(json_object_get(r, "user")), "daemon");
	CHECK_STR(json_string_value(json_object_get(
			  json_array_get(json_object_get(json_object_get(r, "approvers"), "users"),
					 0),
			  "user")),
		  "sys");
	json_decref(r);
	r = call(NOBODY, "{\"op\":\"approvers\",\"resources\":[\"db\"],\"user\":\"daemon\"}");
	CHECK(!ok(r) && !strcmp(err_name(r), "EPERM"), "a non-admin asked about another user");
	json_decref(r);
	r = call(ADMIN, "{\"op\":\"approvers\",\"resources\":[\"etc\"],\"user\":\"games\"}");
	CHECK(!ok(r) && !strcmp(err_name(r), "EPERM"), "approvers without a rule is not EPERM");
	json_decref(r);
	r = call(REQUESTER, "{\"op\":\"request\",\"resource\":\"etc\",\"duration_s\":600}");
	json_decref(r);
	r = call(ADMIN, "{\"op\":\"policy_explain\",\"user\":\"daemon\",\"resources\":[\"etc\"]}");
	CHECK(ok(r), "explain refused: %s", json_string_value(json_object_get(r, "error")));
	x = json_object_get(r, "explain");
	CHECK_INT(json_array_size(json_object_get(x, "holds")), 1);
	CHECK_CONTAINS(json_string_value(json_object_get(x, "answer")), "request: granted at once");
	json_decref(r);
	r = call(REQUESTER, "{\"op\":\"policy_explain\",\"user\":\"sys\",\"resources\":[\"etc\"]}");
	CHECK(!ok(r) && !strcmp(err_name(r), "EPERM"), "a non-admin explained another user");
	json_decref(r);
	r = call(REQUESTER,
		 "{\"op\":\"policy_explain\",\"user\":\"daemon\",\"resources\":[\"nope\"]}");
	CHECK(!ok(r) && !strcmp(err_name(r), "ENOENT"), "an unknown resource explained");
	json_decref(r);
	r = call(REQUESTER, "{\"op\":\"policy_explain\",\"resources\":[\"etc\"]}");
	CHECK(!ok(r) && !strcmp(err_name(r), "EINVAL"), "explain without a user");
	json_decref(r);
}

/* host_policy with break_glass_max 30m on the db/psql rule (the etc rule has none); nobody
 * (65534) requests db too. */
static const char bg_policy[] =
	"{\"version\":1,\"serial\":10,"
	"\"resources\":{\"db\":{\"connect\":[\"10.0.5.0/24:5432\"]},"
	"\"psql\":{\"exec\":[\"/usr/bin/psql\"]},\"etc\":{\"open\":[\"/etc/app/\"]}},"
	"\"admins\":[\"user:bin\"],"
	"\"rules\":[{\"resources\":[\"db\",\"psql\"],\"requesters\":[\"user:daemon\","
	"\"user:nobody\"],"
	"\"max_duration\":\"1h\",\"approvals\":1,\"approvers\":[\"user:sys\"],"
	"\"reason\":\"required\",\"reason_pattern\":\"^INC-[0-9]+\",\"break_glass_max\":\"30m\"},"
	"{\"resources\":[\"etc\"],\"requesters\":[\"user:daemon\"],\"max_duration\":\"90m\"}]}";

#define BREAK_GLASS                                                                                \
	"{\"op\":\"request\",\"resource\":\"db\",\"duration_s\":1800,\"reason\":\"INC-9\","        \
	"\"break_glass\":true}"

static long audit_from; /* the audit file's size at bg_fresh: ids start again at 1 there */

static void bg_fresh(void)
{
	char path[256];
	struct stat st;

	if (host_agent_reset(&a, bg_policy))
		abort();
	snprintf(path, sizeof(path), "%s/audit.jsonl", a.state_dir);
	audit_from = stat(path, &st) ? 0 : st.st_size;
}

/* The audit records written so far whose event is ev, as a JSON array (owned). */
static json_t *audit_records(const char *ev)
{
	char path[256], line[65536];
	json_t *arr = json_array();
	FILE *f;

	snprintf(path, sizeof(path), "%s/audit.jsonl", a.state_dir);
	f = fopen(path, "re");
	if (f && fseek(f, audit_from, SEEK_SET))
		abort();
	while (f && fgets(line, sizeof(line), f)) {
		json_t *o = json_loads(line, 0, NULL);
		json_t *j = json_object_get(json_object_get(o, "unmapped"), "jitd");

		if (!strcmp(json_string_value(json_object_get(j, "event")) ?: "", ev))
			json_array_append(arr, o);
		json_decref(o);
	}
	if (f)
		fclose(f);
	return arr;
}

/* The last audit record of event ev for grant id, or NULL (owned by the caller). */
static json_t *audit_last(const char *ev, int64_t id)
{
	json_t *arr = audit_records(ev), *o, *found = NULL;
	size_t i;

	json_array_foreach(arr, i, o) {
		json_t *m = json_object_get(o, "metadata");
		char want[32];

		snprintf(want, sizeof(want), "%lld", (long long)id);
		if (!strcmp(json_string_value(json_object_get(m, "correlation_uid")) ?: "", want)) {
			json_decref(found);
			found = json_incref(o);
		}
	}
	json_decref(arr);
	return found;
}

static void break_glass_is_active_at_once_with_a_high_record(void)
{
	json_t *r, *g, *rec;
	uint64_t kid;
	int64_t id;

	bg_fresh();
	r = call(REQUESTER, BREAK_GLASS);
	CHECK(ok(r), "break-glass refused: %s", json_string_value(json_object_get(r, "error")));
	g = json_object_get(r, "grant");
	CHECK_STR(grant_state(r), "active");
	CHECK(json_is_true(json_object_get(g, "break_glass")), "no break_glass in the grant");
	CHECK_STR(json_string_value(json_object_get(json_object_get(g, "review"), "state")),
		  "unreviewed");
	CHECK_INT(json_integer_value(json_object_get(g, "max_duration_s")), 1800);
	id = grant_id(r);
	json_decref(r);
	CHECK(key_for(REQUESTER, "db", &kid), "no kernel key: not active in the kernel");
	CHECK_INT(kid, id);
	rec = audit_last("break_glass", id);
	CHECK(rec, "no break_glass record");
	CHECK_INT(json_integer_value(json_object_get(rec, "severity_id")), 4);
	CHECK_INT(json_integer_value(json_object_get(rec, "class_uid")), 3005);
	CHECK_STR(json_string_value(json_object_get(
			  json_object_get(json_object_get(rec, "unmapped"), "jitd"), "reason")),
		  "INC-9");
	json_decref(rec);
	rec = audit_last("alert", id);
	CHECK(rec, "no break_glass alert");
	CHECK_INT(json_integer_value(json_object_get(rec, "class_uid")), 2004);
	json_decref(rec);
	CHECK(a.alert.raised[ALERT_BREAK_GLASS] == 1, "alert counters: %llu break-glass alerts",
	      (unsigned long long)a.alert.raised[ALERT_BREAK_GLASS]);
	rec = audit_last("granted", id);
	CHECK(!rec, "a granted record as well as break_glass");
	rec = audit_last("requested", id);
	CHECK(rec, "no requested record");
	json_decref(rec);
	/* the requester cannot stretch it: extend needs an approver (the rule has approvals) */
	char line[128];

	snprintf(line, sizeof(line), "{\"op\":\"extend\",\"id\":%lld,\"duration_s\":600}",
		 (long long)id);
	r = call(REQUESTER, line);
	CHECK_STR(err_name(r), "EPERM");
	json_decref(r);
}

/* Run line as uid: refused with errno want, nothing changed (store, image, audit). */
static void refused_unchanged(uid_t uid, const char *line, const char *want)
{
	char *before = host_store_text(&a), *after;
	json_t *recs = audit_records("break_glass"), *r;
	size_t img = host_img.n, n = json_array_size(recs);

	json_decref(recs);
	r = call(uid, line);
	after = host_store_text(&a);
	recs = audit_records("break_glass");
	if (ok(r) || strcmp(err_name(r), want) || strcmp(before, after) || host_img.n != img ||
	    json_array_size(recs) != n)
		TL_FAIL("%s as uid %u: %s %s (want %s), store %s, image %zu -> %zu", line, uid,
			ok(r) ? "accepted" : "refused", err_name(r), want,
			strcmp(before, after) ? "changed" : "same", img, host_img.n);
	json_decref(recs);
	json_decref(r);
	free(before);
	free(after);
}

/* A requester holds at most --max-open open requests and grants of its own: the next one,
 * break-glass included, is refused with EDQUOT (saying what to do) and changes nothing; one
 * ended makes room again; an admin's grant to the same user does not count. */
static void open_requests_and_grants_are_bounded_per_user(void)
{
	static const char etc[] = "{\"op\":\"request\",\"resource\":\"etc\",\"duration_s\":60}";
	static const char db[] = "{\"op\":\"request\",\"resource\":\"db\",\"duration_s\":60,"
				 "\"reason\":\"INC-1\"}";
	char line[96];
	int64_t pending;
	json_t *r;

	bg_fresh();
	a.max_open = 3;
	r = call(ADMIN, "{\"op\":\"grant\",\"resource\":\"etc\",\"user\":\"daemon\","
			"\"duration_s\":60}");
	CHECK(ok(r), "the admin's grant was refused: %s", err_name(r));
	json_decref(r);
	r = call(REQUESTER, etc);
	CHECK(ok(r), "first request refused: %s", err_name(r));
	json_decref(r);
	r = call(REQUESTER, db);
	CHECK(ok(r) && !strcmp(grant_state(r) ?: "", "pending"), "second request: %s", err_name(r));
	pending = grant_id(r);
	json_decref(r);
	r = call(REQUESTER, BREAK_GLASS);
	CHECK(ok(r), "break-glass refused: %s", err_name(r));
	json_decref(r);
	refused_unchanged(REQUESTER, etc, "EDQUOT");
	refused_unchanged(REQUESTER, db, "EDQUOT");
	refused_unchanged(REQUESTER, BREAK_GLASS, "EDQUOT");
	r = call(REQUESTER, etc);
	CHECK_CONTAINS(json_string_value(json_object_get(r, "error")) ?: "", "--max-open 3");
	CHECK_CONTAINS(json_string_value(json_object_get(r, "error")) ?: "", "jitctl revoke");
	json_decref(r);
	/* another user is not held back by this one */
	r = call(65534, db);
	CHECK(ok(r), "another user's request refused: %s", err_name(r));
	json_decref(r);
	snprintf(line, sizeof(line), "{\"op\":\"revoke\",\"id\":%lld}", (long long)pending);
	r = call(REQUESTER, line);
	CHECK(ok(r), "cancelling one's own request refused: %s", err_name(r));
	json_decref(r);
	r = call(REQUESTER, etc);
	CHECK(ok(r), "a request after one ended refused: %s", err_name(r));
	json_decref(r);
	refused_unchanged(REQUESTER, etc, "EDQUOT");
	a.max_open = GRANT_OPEN_DEFAULT;
}

/* A break-glass ended by its requester stays in the store until reviewed: it counts toward
 * --max-open until then, so break-glass then revoke, again and again, cannot grow the store
 * without bound (a review makes room). */
static void unreviewed_break_glass_counts_until_reviewed(void)
{
	char line[128];
	int64_t first = 0;
	size_t n0;
	json_t *r;
	int i;

	bg_fresh();
	a.max_open = 2;
	n0 = a.grants.n;
	for (i = 0; i < 50; i++) {
		r = call(REQUESTER, BREAK_GLASS);
		if (!ok(r)) {
			CHECK_STR(err_name(r), "EDQUOT");
			json_decref(r);
			break;
		}
		snprintf(line, sizeof(line), "{\"op\":\"revoke\",\"id\":%lld}",
			 (long long)grant_id(r));
		first = first ?: grant_id(r);
		json_decref(r);
		r = call(REQUESTER, line);
		CHECK(ok(r), "revoking one's own break-glass refused: %s", err_name(r));
		json_decref(r);
	}
	CHECK_INT(i, 2);
	CHECK_INT(a.grants.n - n0, 2);
	/* reviewed: no longer counted */
	snprintf(line, sizeof(line), "{\"op\":\"review\",\"id\":%lld,\"verdict\":\"approve\"}",
		 (long long)first);
	r = call(APPROVER, line);
	CHECK(ok(r), "review refused: %s", err_name(r));
	json_decref(r);
	r = call(REQUESTER, BREAK_GLASS);
	CHECK(ok(r), "a break-glass after a review refused: %s", err_name(r));
	json_decref(r);
	a.max_open = GRANT_OPEN_DEFAULT;
}

static void break_glass_refusals_change_nothing(void)
{
	bg_fresh();
	refused_unchanged(REQUESTER,
			  "{\"op\":\"request\",\"resource\":\"db\",\"duration_s\":1801,"
			  "\"reason\":\"INC-9\",\"break_glass\":true}",
			  "EINVAL");
	refused_unchanged(REQUESTER,
			  "{\"op\":\"request\",\"resource\":\"db\",\"duration_s\":60,"
			  "\"break_glass\":true}",
			  "EINVAL");
	refused_unchanged(REQUESTER,
			  "{\"op\":\"request\",\"resource\":\"db\",\"duration_s\":60,"
			  "\"reason\":\"outage\",\"break_glass\":true}",
			  "EINVAL");
	refused_unchanged(NOBODY, BREAK_GLASS, "EPERM");
	/* the etc rule has no break_glass_max */
	refused_unchanged(REQUESTER,
			  "{\"op\":\"request\",\"resource\":\"etc\",\"duration_s\":60,"
			  "\"reason\":\"INC-9\",\"break_glass\":true}",
			  "EPERM");
	refused_unchanged(REQUESTER,
			  "{\"op\":\"request\",\"resource\":\"nope\",\"duration_s\":60,"
			  "\"reason\":\"INC-9\",\"break_glass\":true}",
			  "ENOENT");
	refused_unchanged(REQUESTER,
			  "{\"op\":\"request\",\"resource\":\"db\",\"duration_s\":60,"
			  "\"reason\":\"INC-9\",\"break_glass\":\"yes\"}",
			  "EINVAL");
	refused_unchanged(REQUESTER,
			  "{\"op\":\"request\",\"resource\":\"db\",\"duration_s\":60,"
			  "\"reason\":\"INC-9\",\"break_glass\":true,\"hosts\":{\"role\":\"db\"}}",
			  "EINVAL");
	/* and on a policy without break_glass_max anywhere */
	fresh();
	refused_unchanged(REQUESTER, BREAK_GLASS, "EPERM");
}

/* Review grant id as uid: the reply. */
static json_t *review(uid_t uid, int64_t id, const char *rest)
{
	char line[256];

	snprintf(line, sizeof(line), "{\"op\":\"review\",\"id\":%lld%s}", (long long)id, rest);
	return call(uid, line);
}

static size_t unreviewed_count(uid_t uid)
{
	json_t *r = call(uid, "{\"op\":\"list\",\"unreviewed\":true}");
	size_t n = json_array_size(json_object_get(r, "grants"));

	json_decref(r);
	return n;
}

static void review_approves_once_and_empties_the_backlog(void)
{
	json_t *r, *rv, *rec;
	int64_t id, plain;

	bg_fresh();
	r = call(REQUESTER, BREAK_GLASS);
	id = grant_id(r);
	json_decref(r);
	r = call(ADMIN, "{\"op\":\"grant\",\"resource\":\"db\",\"uid\":1000,\"duration_s\":60}");
	plain = grant_id(r);
	json_decref(r);
	CHECK_INT(unreviewed_count(NOBODY), 1);
	r = call(NOBODY, "{\"op\":\"list\",\"unreviewed\":true}");
	CHECK_INT(json_integer_value(
			  json_object_get(json_array_get(json_object_get(r, "grants"), 0), "id")),
		  id);
	json_decref(r);
	r = review(REQUESTER, id, ",\"verdict\":\"approve\"");
	CHECK_STR(err_name(r), "EPERM");
	json_decref(r);
	r = review(NOBODY, id, ",\"verdict\":\"approve\"");
	CHECK_STR(err_name(r), "EPERM");
	json_decref(r);
	r = review(APPROVER, id, ",\"verdict\":\"flag\"");
	CHECK_STR(err_name(r), "EINVAL"); /* flag needs a reason */
	json_decref(r);
	r = review(APPROVER, id, ",\"verdict\":\"approve\",\"revoke\":true");
	CHECK_STR(err_name(r), "EINVAL"); /* revoke goes with flag */
	json_decref(r);
	r = review(APPROVER, id, ",\"verdict\":\"maybe\"");
	CHECK_STR(err_name(r), "EINVAL");
	json_decref(r);
	r = review(ADMIN, plain, ",\"verdict\":\"approve\"");
	CHECK_STR(err_name(r), "EINVAL"); /* not a break-glass grant */
	json_decref(r);
	CHECK_INT(unreviewed_count(NOBODY), 1);
	r = review(APPROVER, id, ",\"verdict\":\"approve\",\"reason\":\"real outage\"");
	CHECK(ok(r), "the approver could not review: %s",
	      json_string_value(json_object_get(r, "error")));
	rv = json_object_get(json_object_get(r, "grant"), "review");
	CHECK_STR(json_string_value(json_object_get(rv, "state")), "approved");
	CHECK_INT(json_integer_value(json_object_get(rv, "uid")), APPROVER);
	CHECK_STR(json_string_value(json_object_get(rv, "reason")), "real outage");
	CHECK(json_is_string(json_object_get(rv, "at")), "no review time");
	CHECK_STR(grant_state(r), "active");
	json_decref(r);
	CHECK_INT(unreviewed_count(NOBODY), 0);
	CHECK(key_for(REQUESTER, "db", NULL), "an approved review removed the kernel key");
	r = review(ADMIN, id, ",\"verdict\":\"flag\",\"reason\":\"x\"");
	CHECK_STR(err_name(r), "EALREADY");
	json_decref(r);
	rec = audit_last("reviewed", id);
	CHECK(rec, "no reviewed record");
	CHECK_INT(json_integer_value(json_object_get(rec, "class_uid")), 3004);
	CHECK_INT(json_integer_value(json_object_get(rec, "severity_id")), 1);
	json_decref(rec);
}

static void flag_with_revoke_ends_the_grant_in_the_kernel(void)
{
	json_t *r, *rec, *j;
	int64_t id;

	bg_fresh();
	r = call(REQUESTER, BREAK_GLASS);
	id = grant_id(r);
	json_decref(r);
	CHECK(key_for(REQUESTER, "db", NULL), "no kernel key");
	r = review(ADMIN, id, ",\"verdict\":\"flag\",\"reason\":\"x\",\"revoke\":true");
	CHECK(ok(r), "flag --revoke refused: %s", json_string_value(json_object_get(r, "error")));
	CHECK_STR(grant_state(r), "revoked");
	CHECK_STR(json_string_value(json_object_get(
			  json_object_get(json_object_get(r, "grant"), "review"), "state")),
		  "flagged");
	json_decref(r);
	CHECK(!key_for(REQUESTER, "db", NULL), "the kernel key outlived flag --revoke");
	rec = audit_last("reviewed", id);
	CHECK(rec, "no reviewed record");
	j = json_object_get(json_object_get(rec, "unmapped"), "jitd");
	CHECK_STR(json_string_value(json_object_get(j, "verdict")), "flag");
	CHECK_INT(json_integer_value(json_object_get(rec, "severity_id")), 3);
	json_decref(rec);
	rec = audit_last("revoked", id);
	CHECK(rec, "no revoked record");
	json_decref(rec);
	CHECK_INT(unreviewed_count(NOBODY), 0);
	/* a flag without --revoke leaves an active grant active */
	r = call(REQUESTER, BREAK_GLASS);
	id = grant_id(r);
	json_decref(r);
	r = review(APPROVER, id, ",\"verdict\":\"flag\",\"reason\":\"x\"");
	CHECK_STR(grant_state(r), "active");
	json_decref(r);
	CHECK(key_for(REQUESTER, "db", NULL), "flag without --revoke removed the kernel key");
}

static void review_state_survives_a_store_reload(void)
{
	char *before, *after;
	json_t *r;
	int64_t id;

	bg_fresh();
	r = call(REQUESTER, BREAK_GLASS);
	json_decref(r);
	r = call(REQUESTER, BREAK_GLASS);
	id = grant_id(r);
	json_decref(r);
	r = review(APPROVER, id, ",\"verdict\":\"flag\",\"reason\":\"x\"");
	json_decref(r);
	before = host_store_text(&a);
	grant_store_free(&a.grants);
	memset(&a.grants, 0, sizeof(a.grants));
	CHECK_INT(grant_store_load(&a.grants, a.state_dir), 0);
	after = host_store_text(&a);
	CHECK_STR(after, before);
	CHECK_INT(grant_find(&a.grants, id)->review, GRANT_REVIEW_FLAGGED);
	CHECK_INT(unreviewed_count(NOBODY), 1);
	free(before);
	free(after);
}

/* A state file of one ended unreviewed break-glass grant (id 1) and then GRANT_KEEP_ENDED + 1
 * ended ordinary ones (ids 2..): one more than store_trim keeps. */
static int write_full_store(void)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/grants.json", a.state_dir);
	f = fopen(path, "we");
	if (!f)
		return -1;
	fprintf(f, "{\"version\":1,\"next_id\":%d,\"grants\":[", GRANT_KEEP_ENDED + 3);
	for (int i = 1; i <= GRANT_KEEP_ENDED + 2; i++)
		fprintf(f,
			"%s{\"id\":%d,\"resources\":[\"db\"],\"state\":\"expired\",\"kind\":"
			"\"request\",\"uid\":1,\"requester_uid\":1,\"created_ns\":"
			"1790000000000000000,\"starts_ns\":1790000000000000000,\"expires_ns\":"
			"1790000060000000000,\"ended_ns\":1790000060000000000%s}",
			i > 1 ? "," : "", i,
			i == 1 ? ",\"break_glass\":true,\"review\":\"unreviewed\"" : "");
	fputs("]}", f);
	return fclose(f);
}

static void store_trim_keeps_unreviewed_break_glass(void)
{
	json_t *r;

	bg_fresh();
	CHECK_INT(write_full_store(), 0);
	grant_store_free(&a.grants);
	memset(&a.grants, 0, sizeof(a.grants));
	CHECK_INT(grant_store_load(&a.grants, a.state_dir), 0);
	CHECK_INT(a.grants.n, GRANT_KEEP_ENDED + 2);
	/* the next grant trims: the oldest droppable one goes, never the unreviewed one */
	r = call(ADMIN, "{\"op\":\"grant\",\"resource\":\"db\",\"uid\":1000,\"duration_s\":60}");
	CHECK(ok(r), "grant refused");
	json_decref(r);
	r = call(ADMIN, "{\"op\":\"grant\",\"resource\":\"db\",\"uid\":1001,\"duration_s\":60}");
	json_decref(r);
	CHECK(grant_find(&a.grants, 1), "store_trim dropped the unreviewed break-glass grant");
	CHECK(!grant_find(&a.grants, 2), "store_trim kept more than GRANT_KEEP_ENDED ended");
	CHECK(grant_find(&a.grants, 3), "store_trim dropped too many");
	CHECK_INT(unreviewed_count(NOBODY), 1);
	/* once reviewed it is an ordinary ended grant again */
	r = review(ADMIN, 1, ",\"verdict\":\"approve\"");
	CHECK(ok(r), "review refused: %s", json_string_value(json_object_get(r, "error")));
	json_decref(r);
	r = call(ADMIN, "{\"op\":\"grant\",\"resource\":\"db\",\"uid\":1002,\"duration_s\":60}");
	json_decref(r);
	CHECK(!grant_find(&a.grants, 1), "a reviewed ended grant outlived the trim");
	fresh();
}

/* n grants of db, to uids uid0.., each granted; and the number of ended grants. */
static void grant_many(int n, int uid0)
{
	char line[160];
	json_t *r;

	for (int i = 0; i < n; i++) {
		snprintf(line, sizeof(line),
			 "{\"op\":\"grant\",\"resource\":\"db\",\"uid\":%d,\"duration_s\":60}",
			 uid0 + i);
		r = call(ADMIN, line);
		CHECK(ok(r), "grant %d refused", i);
		json_decref(r);
	}
}

static size_t ended_grants(void)
{
	size_t ended = 0;

	for (size_t i = 0; i < a.grants.n; i++)
		ended += a.grants.v[i].state != GRANT_ACTIVE;
	return ended;
}

/* Grants that end while jitd runs (revoked here) are trimmed at the next grant as well: the
 * store counts its ended grants again whenever a change may have made one droppable. */
static void grants_ended_at_run_time_are_trimmed(void)
{
	char line[160];

	fresh();
	grant_many(GRANT_KEEP_ENDED + 3, 5000);
	for (size_t i = 0; i < a.grants.n; i++) {
		if (a.grants.v[i].state != GRANT_ACTIVE)
			continue;
		snprintf(line, sizeof(line), "{\"op\":\"revoke\",\"id\":%llu}",
			 (unsigned long long)a.grants.v[i].id);
		json_decref(call(ADMIN, line));
	}
	grant_many(1, 1000);
	CHECK_INT(ended_grants(), GRANT_KEEP_ENDED);
	fresh();
}

/* Grants that end on the timer (saved whole, not put a grant at a time) are trimmed at the
 * next grant too: expiry is how most grants end. */
static void grants_that_expire_are_trimmed(void)
{
	fresh();
	grant_many(GRANT_KEEP_ENDED + 3, 5000);
	for (size_t i = 0; i < a.grants.n; i++)
		a.grants.v[i].expires_boot = 1;
	CHECK(grant_expire_due(&a) > 0, "nothing expired");
	grant_many(1, 1000);
	CHECK_INT(ended_grants(), GRANT_KEEP_ENDED);
	fresh();
}

#ifndef __SANITIZE_ADDRESS__
/* realloc fails once, for the store's next size (store_append's growth) */
extern void *__libc_realloc(void *, size_t);
static size_t realloc_fail_size;

void *realloc(void *p, size_t n)
{
	if (realloc_fail_size && n == realloc_fail_size) {
		realloc_fail_size = 0;
		return NULL;
	}
	return __libc_realloc(p, n);
}

/* A grant the store cannot grow for is refused and takes nothing: the resource list it
 * would have shared stays the other grants' (it was freed once while they held it). */
static void a_grant_refused_for_memory_leaves_the_shared_list(void)
{
	char line[160];
	json_t *r;
	int i = 0;

	fresh();
	do {
		snprintf(line, sizeof(line),
			 "{\"op\":\"grant\",\"resource\":\"db\",\"uid\":%d,\"duration_s\":60}",
			 6000 + i++);
		r = call(ADMIN, line);
		CHECK(ok(r), "grant refused");
		json_decref(r);
	} while (a.grants.n < a.grants.cap);
	realloc_fail_size = a.grants.cap * 2 * sizeof(struct grant);
	r = call(ADMIN, "{\"op\":\"grant\",\"resource\":\"db\",\"uid\":7777,\"duration_s\":60}");
	CHECK(!ok(r), "granted without memory for it");
	json_decref(r);
	CHECK_INT(realloc_fail_size, 0);
	for (int k = 0; k < 8; k++) { /* what a freed list's chunk would be handed out as */
		char *x = calloc(1, POLICY_MAX_NAME);

		snprintf(x, POLICY_MAX_NAME, "etc");
		CHECK((void *)x != (void *)a.grants.v[0].res, "the shared list was freed");
		free(x);
	}
	CHECK_STR(a.grants.v[a.grants.n - 1].res[0], "db");
	fresh();
}
#endif

/*
 * Two grants share a kernel key; the one whose window is in the kernel is revoked while the
 * key cannot be rewritten (ENOMEM: the map makes a new element): the key goes (fail
 * closed), never keeping the revoked grant's window.
 */
static void revoke_with_a_key_that_cannot_be_rewritten_removes_it(void)
{
	json_t *r1, *r2, *r;
	uint64_t kid = 0;
	char line[128];
	int64_t g1, g2;

	fresh();
	r1 = call(ROOT, "{\"op\":\"grant\",\"resource\":\"db\",\"uid\":1000,\"duration_s\":60}");
	r2 = call(ROOT, "{\"op\":\"grant\",\"resource\":\"db\",\"uid\":1000,\"duration_s\":600}");
	g1 = grant_id(r1);
	g2 = grant_id(r2);
	CHECK(ok(r1) && ok(r2), "the two grants were refused");
	CHECK(key_for(1000, "db", &kid) && kid == (uint64_t)g2,
	      "the key does not carry the grant that ends last");
	host_img.fail_rewrite = true;
	snprintf(line, sizeof(line), "{\"op\":\"revoke\",\"id\":%lld}", (long long)g2);
	r = call(ROOT, line);
	host_img.fail_rewrite = false;
	CHECK(!key_for(1000, "db", &kid) || kid != (uint64_t)g2,
	      "the key still carries the revoked grant's window");
	CHECK(g1 > 0, "no first grant");
	json_decref(r);
	json_decref(r1);
	json_decref(r2);
}

/* policy_show's reply is kept for a second (a repeat is a copy), then dropped at the next
 * request: a big policy's tree and line do not stay in memory. */
static void policy_show_cache_is_dropped_once_a_second_old(void)
{
	json_t *r1, *r2;

	fresh();
	r1 = call(NOBODY, "{\"op\":\"policy_show\"}");
	CHECK(a.verbs_cache.json && a.verbs_cache.line, "policy_show not cached");
	r2 = call(NOBODY, "{\"op\":\"policy_show\"}");
	CHECK(r1 == r2, "a repeat within the second was built again");
	json_decref(r2);
	a.verbs_cache.at -= 2000000; /* as a second later */
	r2 = call(NOBODY, "{\"op\":\"status\"}");
	json_decref(r2);
	CHECK(!a.verbs_cache.json && !a.verbs_cache.line, "a stale policy_show reply kept");
	r2 = call(NOBODY, "{\"op\":\"policy_show\"}");
	CHECK(r2 && r2 != r1 && json_equal(r1, r2), "policy_show after the drop differs");
	json_decref(r1);
	json_decref(r2);
}

int main(void)
{
	if (host_agent_init(&a, host_policy)) {
		printf("FAIL host_agent_init\n");
		return 1;
	}
	host_ops_unit_cgroup = a.ops.unit_cgroup;
	RUN(policy_show_cache_is_dropped_once_a_second_old);
	RUN(extensions_stop_when_the_history_is_full);
	RUN(open_requests_and_grants_are_bounded_per_user);
	RUN(unreviewed_break_glass_counts_until_reviewed);
	RUN(grants_ended_at_run_time_are_trimmed);
	RUN(grants_that_expire_are_trimmed);
#ifndef __SANITIZE_ADDRESS__
	RUN(a_grant_refused_for_memory_leaves_the_shared_list);
#endif
	RUN(grant_needs_root_or_admin_and_refusal_changes_nothing);
	RUN(request_is_pending_until_an_approver_approves);
	RUN(request_outside_the_rules_is_refused);
	RUN(request_refusals_raise_one_alert);
	RUN(denial_and_revocation_end_grants);
	RUN(reasons_with_nul_are_refused_everywhere);
	RUN(extension_stops_at_the_rules_maximum);
	RUN(store_survives_a_reload);
	RUN(policy_apply_needs_an_admin_and_a_higher_serial);
	RUN(exec_follows_the_rules);
	RUN(audit_stream_is_root_only);
	RUN(store_queues_its_own_changes);
	RUN(malformed_requests_get_errors);
	RUN(on_end_kill_survives_a_store_reload);
	RUN(on_end_kill_ends_the_tree_on_expiry_and_revoke);
	RUN(verbs_copy_on_end_from_the_rule);
	RUN(until_unit_stops_is_kept_and_never_rebound);
	RUN(dry_run_changes_nothing_and_says_what_a_request_would_do);
	RUN(approvers_and_explain_answer_for_oneself_admins_for_anyone);
	RUN(break_glass_is_active_at_once_with_a_high_record);
	RUN(break_glass_refusals_change_nothing);
	RUN(review_approves_once_and_empties_the_backlog);
	RUN(flag_with_revoke_ends_the_grant_in_the_kernel);
	RUN(review_state_survives_a_store_reload);
	RUN(store_trim_keeps_unreviewed_break_glass);
	RUN(revoke_with_a_key_that_cannot_be_rewritten_removes_it);
	host_agent_free(&a);
	return tl_exit();
}
