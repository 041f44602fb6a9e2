// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of what jitd reads back or is handed and must check like user input: grants
 * from the state file (req_grant_from_state), times and durations that would overflow
 * (util_real_to_boot, req_extend, fleet not_before), reason patterns that could stall
 * the daemon (policy_pattern_check at policy load), overlong reasons, and audit verify's
 * comparison of the whole hash field.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "audit_fmt.h"
#include "jitd_abi.h"
#include "request.h"
#include "testlib.h"
#include "util.h"

#define NS 1000000000LL
#define T0 (1795000000LL * NS) /* 2026-11 */

static char err[1024];

/* A state entry as grant_store_save writes it, with one field replaced (or removed). */
static json_t *entry(const char *key, json_t *v)
{
	json_t *o = json_pack("{s:I,s:[s],s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:i,s:i,s:i,s:i,s:i,"
			      "s:i,s:[]}",
			      "id", (json_int_t)7, "resources", "a", "state", "active", "kind",
			      "direct", "created_ns", (json_int_t)T0, "starts_ns", (json_int_t)T0,
			      "expires_ns", (json_int_t)(T0 + 3600 * NS), "ended_ns", (json_int_t)0,
			      "starts_boot", (json_int_t)(5 * NS), "expires_boot",
			      (json_int_t)(3605 * NS), "by_uid", 0, "uid", 1001, "requester_uid", 0,
			      "duration_s", 3600, "max_duration_s", 0, "approvals_needed", 0,
			      "history");

	if (key && v)
		json_object_set_new(o, key, v);
	else if (key)
		json_object_del(o, key);
	return o;
}

/* Parse entry(key, v) as read in the same boot; the result, g filled on success. */
static int parse(const char *key, json_t *v, struct grant *g)
{
	json_t *o = entry(key, v);
	int r;

	err[0] = 0;
	r = req_grant_from_state(o, true, T0, 10 * NS, g, err, sizeof(err));
	json_decref(o);
	return r;
}

static void state_entry_as_written_is_kept_with_its_boot_times(void)
{
	struct grant g;

	CHECK_INT(parse(NULL, NULL, &g), 0);
	CHECK_INT(g.id, 7);
	CHECK_INT(g.state, GRANT_ACTIVE);
	CHECK(g.has_uid && g.uid == 1001, "uid lost");
	CHECK_INT(g.starts_boot, 5 * NS);
	CHECK_INT(g.expires_boot, 3605 * NS);
	CHECK(!g.cgroup && !g.cgroup_id, "a cgroup appeared");
	req_grant_clear(&g);
}

static void state_entry_without_state_is_refused_not_active(void)
{
	struct grant g;

	CHECK_INT(parse("state", NULL, &g), -EINVAL);
	CHECK_CONTAINS(err, "'state'");
	CHECK_CONTAINS(err, "missing");
	CHECK_INT(parse("state", json_string("bogus"), &g), -EINVAL);
	CHECK_CONTAINS(err, "'bogus'");
	CHECK_INT(parse("state", json_integer(1), &g), -EINVAL);
	CHECK_INT(parse("kind", json_string("root"), &g), -EINVAL);
}

static void state_entry_max_duration_92200000000_is_refused(void)
{
	struct grant g;

	CHECK_INT(parse("max_duration_s", json_integer(92200000000LL), &g), -EINVAL);
	CHECK_CONTAINS(err, "max_duration_s");
	CHECK_INT(parse("duration_s", json_integer(-1), &g), -EINVAL);
	CHECK_INT(parse("max_duration_s", json_integer(JITD_MAX_DURATION_S), &g), 0);
	req_grant_clear(&g);
	/* a direct grant of 10 years; a request longer than its rule's maximum */
	CHECK_INT(parse("duration_s", json_integer(10 * 366 * 86400LL), &g), -ERANGE);
	CHECK_INT(parse("max_duration_s", json_integer(60), &g), -ERANGE);
	CHECK_CONTAINS(err, "rule's maximum");
}

static void state_entry_fleet_grant_of_years_is_kept(void)
{
	json_t *o = entry("kind", json_string("fleet"));
	struct grant g;

	json_object_set_new(o, "duration_s", json_integer(10 * 366 * 86400LL));
	json_object_set_new(o, "expires_ns", json_integer(T0 + 10 * 366 * 86400LL * NS));
	CHECK_INT(req_grant_from_state(o, false, T0, 10 * NS, &g, err, sizeof(err)), 0);
	json_decref(o);
	CHECK_INT(g.kind, GRANT_FLEET);
	CHECK_INT(g.duration_s, 10 * 366 * 86400LL);
	req_grant_clear(&g);
}

static void state_entry_times_outside_2000_to_2200_are_refused(void)
{
	struct grant g;

	/* 1678-01-01: near INT64_MIN ns, overflowed real_to_boot */
	CHECK_INT(parse("starts_ns", json_integer(-9214560000LL * NS), &g), -EINVAL);
	CHECK_INT(parse("starts_ns", json_integer(INT64_MAX), &g), -EINVAL);
	CHECK_INT(parse("expires_ns", json_integer(JITD_TIME_MAX_NS), &g), -EINVAL);
	CHECK_INT(parse("created_ns", json_integer(5), &g), -ERANGE);
	CHECK_CONTAINS(err, "created_ns");
	CHECK_INT(parse("expires_ns", json_integer(T0), &g), -ERANGE); /* end == start */
	CHECK_INT(parse("starts_ns", json_string("2026"), &g), -EINVAL);
}

static void state_entry_boot_times_that_disagree_are_rearmed(void)
{
	struct grant g;

	/* same boot, but a window of centuries in boot time: re-armed from the realtime one */
	CHECK_INT(parse("expires_boot", json_integer(INT64_MAX), &g), 0);
	CHECK_INT(g.starts_boot, 10 * NS);
	CHECK_INT(g.expires_boot, 3610 * NS);
	req_grant_clear(&g);
	CHECK_INT(parse("starts_boot", json_integer(-1), &g), 0);
	CHECK_INT(g.expires_boot, 3610 * NS);
	req_grant_clear(&g);
}

static void state_entry_scope_is_never_widened(void)
{
	struct grant g;
	json_t *o;

	CHECK_INT(parse("cgroup", json_string("/jitd.exec/1"), &g), -EINVAL); /* no id */
	CHECK_CONTAINS(err, "cgroup_id");
	CHECK_INT(parse("cgroup_id", json_integer(77), &g), -EINVAL); /* no path */
	CHECK_INT(parse("uid", NULL, &g), -EINVAL);		      /* no subject at all */
	CHECK_CONTAINS(err, "no subject");
	CHECK_INT(parse("uid", json_integer(JITD_ANY_UID), &g), -EINVAL);
	CHECK_INT(parse("uid", json_integer(-1), &g), -EINVAL);
	CHECK_INT(parse("resources", json_pack("[s]", ""), &g), -EINVAL);
	CHECK_INT(parse("resources",
			json_pack("[s]", "a-name-much-longer-than-sixty-three-"
					 "characters-which-would-be-truncated"),
			&g),
		  -EINVAL);
	o = entry("cgroup", json_string("/jitd.exec/1"));
	json_object_set_new(o, "cgroup_id", json_integer(77));
	CHECK_INT(req_grant_from_state(o, false, T0, 10 * NS, &g, err, sizeof(err)), 0);
	json_decref(o);
	CHECK_STR(g.cgroup, "/jitd.exec/1");
	CHECK_INT(g.cgroup_id, 77);
	CHECK_INT(g.expires_boot, 3610 * NS); /* other boot: re-armed from realtime */
	req_grant_clear(&g);
}

static void real_to_boot_saturates_instead_of_overflowing(void)
{
	CHECK_INT(util_real_to_boot(T0 + 5 * NS, T0, 100 * NS), 105 * NS);
	CHECK_INT(util_real_to_boot(T0 - 500 * NS, T0, 100 * NS), 0);
	CHECK_INT(util_real_to_boot(INT64_MIN, T0, 100 * NS), 0);
	CHECK_INT(util_real_to_boot(-9214560000LL * NS, INT64_MAX, 100 * NS), 0);
	CHECK(util_real_to_boot(INT64_MAX, -T0, 100 * NS) == INT64_MAX, "not saturated");
	CHECK(util_real_to_boot(INT64_MAX - 1, 0, INT64_MAX - 1) == INT64_MAX, "not saturated");
}

static void extend_with_max_duration_92200000000_does_not_overflow(void)
{
	struct grant g = {.id = 1,
			  .state = GRANT_ACTIVE,
			  .starts_ns = T0,
			  .expires_ns = T0 + 60 * NS,
			  .max_duration_s = 92200000000LL};
	int64_t exp = 0;

	CHECK_INT(req_extend(&g, 3600, &exp, err, sizeof(err)), 0);
	CHECK_INT(exp, T0 + 3660 * NS);
	CHECK_INT(req_extend(&g, 1000LL * 24 * 3600, &exp, err, sizeof(err)), 0);
	CHECK_INT(exp, T0 + JITD_MAX_DURATION_S * NS); /* capped, not wrapped */
	g.starts_ns = INT64_MAX - NS;
	g.expires_ns = INT64_MAX - NS;
	CHECK_INT(req_extend(&g, 3600, &exp, err, sizeof(err)), 0);
	CHECK(exp >= g.expires_ns, "expiry moved backwards: %lld", (long long)exp);
}

static const char *policy_with(const char *rule_extra, const char *grant_times)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf),
		 "{ \"version\": 1, \"serial\": 1,\n"
		 "  \"resources\": { \"a\": { \"open\": [\"/a\"] } },\n"
		 "  \"rules\": [ { \"resources\": [\"a\"], \"requesters\": [\"user:root\"],\n"
		 "                 \"max_duration\": \"1h\"%s } ],\n"
		 "  \"grants\": [ { \"resource\": \"a\", \"uid\": 5, %s } ] }\n",
		 rule_extra, grant_times);
	return buf;
}

static int parse_policy(const char *text, struct policy **p)
{
	err[0] = 0;
	*p = NULL;
	return policy_parse("t.json", text, strlen(text), p, err, sizeof(err));
}

static void fleet_not_before_1678_is_refused(void)
{
	const char *ok = "\"not_before\": \"2026-12-01T02:00:00Z\", "
			 "\"not_after\": \"2026-12-01T03:00:00Z\"";
	struct policy *p;

	CHECK_INT(parse_policy(policy_with("", ok), &p), 0);
	policy_free(p);
	CHECK(parse_policy(policy_with("", "\"not_before\": \"1678-01-01T00:00:00Z\", "
					   "\"not_after\": \"2026-12-01T03:00:00Z\""),
			   &p),
	      "a not_before of 1678 was accepted");
	CHECK_CONTAINS(err, "not_before");
	CHECK_CONTAINS(err, "2000-01-01..2200-01-01");
	CHECK(parse_policy(policy_with("", "\"not_after\": \"9999-12-31T00:00:00Z\""), &p),
	      "a not_after of 9999 was accepted");
}

/* Parse a policy whose rule has reason_pattern re; the result, in under 100 ms. */
static int pattern(const char *re, struct policy **p)
{
	char extra[1024];
	json_t *s = json_string(re);
	char *q = json_dumps(s, JSON_ENCODE_ANY);
	int64_t t = util_now_ns(CLOCK_MONOTONIC);
	int r;

	snprintf(extra, sizeof(extra), ", \"reason_pattern\": %s", q);
	free(q);
	json_decref(s);
	r = parse_policy(policy_with(extra, "\"not_after\": \"2026-12-01T03:00:00Z\""), p);
	if (util_now_ns(CLOCK_MONOTONIC) - t > NS / 10)
		return -ETIMEDOUT;
	return r;
}

static void reason_patterns_that_could_stall_are_refused_quickly(void)
{
	static const char *const bad[] = {
		"a{1,32767}", "^(a*)*\\1$", "(a*)*",  "(a+)+b",	  "((ab)*c)*",
		"a**",	      "(x|y\\1)",   "a{256}", "a{1,}{2}", "(a{2}b)+",
	};
	char many[400];
	struct policy *p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(pattern(bad[i], &p) == -EINVAL, "'%s' accepted (or slow): %s", bad[i], err);
		CHECK_CONTAINS(err, "reason_pattern");
		CHECK_CONTAINS(err, "refused");
	}
	/* 0.7 s to match 1 KiB when allowed: 44-byte group copied 255 times */
	CHECK(pattern("(a|aa|aaa|aaaa|aaaaa|aaaaaa|aaaaaaa|aaaaaaaa){255}b", &p) == -EINVAL,
	      "copies not bounded");
	CHECK_CONTAINS(err, "more than 2048 bytes");
	CHECK(pattern("[a-z]{255}[a-z]{255}", &p) == -EINVAL, "copies not bounded");
	CHECK(pattern("a{255}a{255}a{255}a{255}a{255}a{255}a{255}a{255}a{255}", &p) == -EINVAL,
	      "copies not bounded");
	memset(many, 'a', sizeof(many) - 1);
	many[sizeof(many) - 1] = 0;
	CHECK(pattern(many, &p) == -EINVAL, "a 399-byte pattern accepted");
	CHECK_CONTAINS(err, "longer than 256 bytes");
	CHECK(pattern("^(a*)*\\1$", &p) == -EINVAL && strstr(err, "back-reference"),
	      "no reason given: %s", err);
	CHECK(pattern("(a*)*", &p) == -EINVAL && strstr(err, "(a*)*"), "no reason: %s", err);
}

static void reason_patterns_in_common_use_are_accepted(void)
{
	static const char *const good[] = {
		"^(INC|CHG)-[0-9]+",
		"^[[:upper:]]{2,8}-[0-9]{1,6}$",
		"^(INC-[0-9]+ )?[a-z ]+$",
		"\\(ticket\\)*",
		"[*+?{]+x",
		"^[]a]+[[:digit:]]*$",
		"^(a|b)(c|d)?[0-9]{4}$",
		"a{255}",
		"[a-z]{255}",
		"(ab|cd){100}",
	};
	struct policy *p;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK(pattern(good[i], &p) == 0, "'%s' refused: %s", good[i], err);
		policy_free(p);
	}
	CHECK(pattern("^(INC|CHG)-[0-9]+", &p) == 0, "refused: %s", err);
	CHECK_INT(req_check(&p->rules[0], 60, "INC-42", err, sizeof(err)), 0);
	CHECK_INT(req_check(&p->rules[0], 60, "oops", err, sizeof(err)), -EINVAL);
	policy_free(p);
}

static void reason_longer_than_1024_is_refused_before_matching(void)
{
	static char reason[GRANT_MAX_REASON + 2];
	struct policy *p;

	memset(reason, 'a', sizeof(reason) - 1);
	CHECK(pattern("^a+$", &p) == 0, "refused: %s", err);
	CHECK_INT(req_check(&p->rules[0], 60, reason, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "longer than 1024");
	reason[GRANT_MAX_REASON] = 0;
	CHECK_INT(req_check(&p->rules[0], 60, reason, err, sizeof(err)), 0);
	policy_free(p);
}

/* Two sealed records; line 0 with text inserted right after its hash's 64 digits. */
static void verify_refuses_a_hash_followed_by_extra_characters(void)
{
	static const struct audit_meta meta = {.hostname = "h", .version = "0.1.0"};
	struct audit_chain c;
	struct audit_verify v = {};
	struct abuf b = {};
	char *l[2], *h, *bad;
	json_t *f = json_pack("{s:i}", "grant_id", 1);

	audit_chain_init(&c);
	for (int i = 0; i < 2; i++) {
		CHECK_INT(audit_fmt_event(AUDIT_FMT_OCSF, &meta, "granted", f, T0, &c, &b, NULL),
			  0);
		l[i] = strdup(b.p);
	}
	json_decref(f);
	abuf_free(&b);
	for (int i = 0; i < 2; i++)
		CHECK(!audit_verify_line(&v, l[i], strlen(l[i]), err, sizeof(err)), "untouched: %s",
		      err);
	h = strstr(l[0], "\"hash\":\"");
	CHECK(h, "no hash in %s", l[0]);
	h += 8 + AUDIT_HASH_HEX;
	bad = malloc(strlen(l[0]) + 3);
	sprintf(bad, "%.*sab%s", (int)(h - l[0]), l[0], h);
	memset(&v, 0, sizeof(v));
	CHECK_INT(audit_verify_line(&v, bad, strlen(bad), err, sizeof(err)), -EBADMSG);
	CHECK_CONTAINS(err, "64 hex digits");
	free(bad);
	free(l[0]);
	free(l[1]);
}

int main(void)
{
	RUN(state_entry_as_written_is_kept_with_its_boot_times);
	RUN(state_entry_without_state_is_refused_not_active);
	RUN(state_entry_max_duration_92200000000_is_refused);
	RUN(state_entry_fleet_grant_of_years_is_kept);
	RUN(state_entry_times_outside_2000_to_2200_are_refused);
	RUN(state_entry_boot_times_that_disagree_are_rearmed);
	RUN(state_entry_scope_is_never_widened);
	RUN(real_to_boot_saturates_instead_of_overflowing);
	RUN(extend_with_max_duration_92200000000_does_not_overflow);
	RUN(fleet_not_before_1678_is_refused);
	RUN(reason_patterns_that_could_stall_are_refused_quickly);
	RUN(reason_patterns_in_common_use_are_accepted);
	RUN(reason_longer_than_1024_is_refused_before_matching);
	RUN(verify_refuses_a_hash_followed_by_extra_characters);
	return tl_exit();
}
