// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of agent/alert.c on a host agent with no loop: thresholds crossed and not
 * crossed, the sliding window's edge, quiet and suppressed counts, max_per_hour, bounded
 * memory, hours, tamper by (resource, op); records caught by a stub audit_agent_event. */
#include <stdlib.h>
#include <time.h>

#include "core.h"
#include "testlib.h"
#include "util.h"

static json_t *records[64];
static size_t n_records;

/* The stub of agent/audit.c's writer: keeps the records. */
void audit_agent_event(const char *event, json_t *fields)
{
	if (strcmp(event, "alert") || n_records == 64) {
		json_decref(fields);
		return;
	}
	records[n_records++] = fields;
}

static void reset(struct agent *a)
{
	for (size_t i = 0; i < n_records; i++)
		json_decref(records[i]);
	n_records = 0;
	alert_free(&a->alert);
	policy_free(a->policy);
	a->policy = NULL;
}

static const char *kind_of(size_t i)
{
	return json_string_value(json_object_get(json_object_get(records[i], "alert"), "kind"));
}

static json_int_t field_of(size_t i, const char *k)
{
	return json_integer_value(json_object_get(json_object_get(records[i], "alert"), k));
}

/* A policy with alerts (JSON text of the object); NULL on a parse error. */
static struct policy *with_alerts(const char *alerts)
{
	char text[1024], err[512];
	struct policy *p = NULL;

	snprintf(text, sizeof(text),
		 "{\"version\":1,\"serial\":1,\"resources\":{\"s\":{\"open\":[\"/srv/s\"]}},"
		 "\"alerts\":%s}",
		 alerts);
	if (policy_parse("t.json", text, strlen(text), &p, err, sizeof(err)))
		printf("# %s\n", err);
	return p;
}

static struct jitd_event denial(uint32_t uid, uint32_t res, uint8_t op)
{
	struct jitd_event e = {.subject_uid = uid,
			       .uid = uid,
			       .resource = res,
			       .op = op,
			       .decision = JITD_DENY,
			       .pid = 42};

	memcpy(e.comm, "cat", 4);
	return e;
}

#define T0 (1800000000LL * NS_PER_S)

static void denials_threshold_crossed_once_then_quiet(void)
{
	struct agent a = {};
	struct jitd_event e = denial(1002, 0, JITD_OP_OPEN);

	a.policy = with_alerts("{\"denials\":{\"count\":5,\"per\":\"1m\"},\"quiet\":\"10m\"}");
	CHECK(a.policy, "policy");
	a.policy->resources[0].id = 1;
	e.resource = 1;
	for (int i = 0; i < 4; i++)
		alert_decision(&a, &e, T0 + i * NS_PER_S);
	CHECK_INT(n_records, 0);
	alert_decision(&a, &e, T0 + 4 * NS_PER_S);
	CHECK_INT(n_records, 1);
	CHECK_STR(kind_of(0), "denial_burst");
	CHECK_INT(field_of(0, "severity_id"), 4);
	CHECK_INT(field_of(0, "count"), 5);
	CHECK_INT(field_of(0, "threshold"), 5);
	CHECK_STR(json_string_value(
			  json_object_get(json_object_get(records[0], "alert"), "resource")),
		  "s");
	for (int i = 0; i < 10; i++)
		alert_decision(&a, &e, T0 + (5 + i) * NS_PER_S);
	CHECK_INT(n_records, 1);
	json_t *st = alert_status(&a);

	CHECK_INT(json_integer_value(json_object_get(st, "raised")), 1);
	CHECK_INT(json_integer_value(json_object_get(st, "suppressed")), 10);
	CHECK_INT(json_integer_value(json_object_get(
			  json_object_get(json_object_get(st, "by_kind"), "denial_burst"),
			  "suppressed")),
		  10);
	json_decref(st);
	/* after quiet, the next crossing is raised and carries what was held back */
	for (int i = 0; i < 5; i++)
		alert_decision(&a, &e, T0 + 700 * NS_PER_S + i);
	CHECK_INT(n_records, 2);
	CHECK_INT(field_of(1, "suppressed"), 10);
	/* allows and the self-test never count */
	e.decision = JITD_ALLOW;
	alert_decision(&a, &e, T0 + 2000 * NS_PER_S);
	CHECK_INT(a.alert.raised[ALERT_DENIAL_BURST], 2);
	reset(&a);
}

static void denials_spread_past_the_window_do_not_alert(void)
{
	struct agent a = {};
	struct jitd_event e = denial(1002, 1, JITD_OP_OPEN);

	a.policy = with_alerts("{\"denials\":{\"count\":5,\"per\":\"1m\"}}");
	CHECK(a.policy, "policy");
	/* one every 20 s: the window never holds 5 */
	for (int i = 0; i < 20; i++)
		alert_decision(&a, &e, T0 + i * 20 * NS_PER_S);
	CHECK_INT(n_records, 0);
	/* 4 at the end of one minute, 1 just after: the previous bucket still counts them */
	for (int i = 0; i < 4; i++)
		alert_decision(&a, &e, T0 + 1000 * NS_PER_S + i);
	alert_decision(&a, &e, T0 + 1060 * NS_PER_S);
	CHECK_INT(n_records, 1);
	reset(&a);
}

static void other_subjects_count_apart(void)
{
	struct agent a = {};

	a.policy = with_alerts("{\"denials\":{\"count\":3,\"per\":\"1m\"}}");
	CHECK(a.policy, "policy");
	for (uint32_t u = 2000; u < 2010; u++)
		for (int i = 0; i < 2; i++) {
			struct jitd_event e = denial(u, 1, JITD_OP_OPEN);

			alert_decision(&a, &e, T0 + i);
		}
	CHECK_INT(n_records, 0);
	reset(&a);
}

static void max_per_hour_bounds_all_subjects(void)
{
	struct agent a = {};

	a.policy = with_alerts("{\"denials\":{\"count\":1,\"per\":\"1m\"},\"max_per_hour\":3}");
	CHECK(a.policy, "policy");
	for (uint32_t u = 3000; u < 3010; u++) {
		struct jitd_event e = denial(u, 1, JITD_OP_OPEN);

		alert_decision(&a, &e, T0 + u);
	}
	CHECK_INT(n_records, 3);
	CHECK_INT(a.alert.suppressed[ALERT_DENIAL_BURST], 7);
	/* 20 minutes refill one token */
	struct jitd_event e = denial(4000, 1, JITD_OP_OPEN);

	alert_decision(&a, &e, T0 + 1200 * NS_PER_S + 5000);
	CHECK_INT(n_records, 4);
	reset(&a);
}

static void ten_thousand_subjects_keep_memory_bounded(void)
{
	struct agent a = {};
	struct alert_subject *table;

	a.policy = with_alerts("{\"denials\":{\"count\":100,\"per\":\"1m\"}}");
	CHECK(a.policy, "policy");
	for (uint32_t u = 0; u < 10000; u++) {
		struct jitd_event e = denial(10000 + u, 1, JITD_OP_OPEN);

		alert_decision(&a, &e, T0 + u);
	}
	table = a.alert.subjects;
	CHECK(table, "no table");
	CHECK(a.alert.evicted >= 10000 - ALERT_SUBJECTS, "evicted %llu",
	      (unsigned long long)a.alert.evicted);
	/* the most recent subject is still counted, in the same table */
	struct jitd_event e = denial(19999, 1, JITD_OP_OPEN);

	alert_decision(&a, &e, T0 + 20000);
	CHECK(a.alert.subjects == table, "table moved");
	CHECK_INT(n_records, 0);
	reset(&a);
}

static void tamper_by_resource_and_op(void)
{
	struct agent a = {};
	struct jitd_event self = denial(1001, JITD_RES_SELF, JITD_OP_BPF);
	struct jitd_event login = denial(1001, JITD_RES_GUARD, JITD_OP_LOGINUID);
	struct jitd_event raw = denial(1003, JITD_RES_GUARD, JITD_OP_SOCKET);
	struct jitd_event test = denial(1003, JITD_RES_SELFTEST, JITD_OP_OPEN);

	/* no "alerts" key: tamper is on, counting off */
	alert_decision(&a, &raw, T0);
	alert_decision(&a, &test, T0);
	CHECK_INT(n_records, 0);
	alert_decision(&a, &self, T0 + 1);
	CHECK_INT(n_records, 1);
	CHECK_STR(kind_of(0), "tamper");
	CHECK_INT(field_of(0, "severity_id"), 5);
	CHECK_STR(json_string_value(json_object_get(json_object_get(records[0], "alert"), "op")),
		  "bpf");
	/* same subject within quiet: counted, not raised */
	alert_decision(&a, &login, T0 + 2);
	CHECK_INT(n_records, 1);
	CHECK_INT(a.alert.suppressed[ALERT_TAMPER], 1);
	/* "tamper": false turns it off */
	reset(&a);
	a.policy = with_alerts("{\"tamper\":false}");
	CHECK(a.policy, "policy");
	alert_decision(&a, &self, T0);
	CHECK_INT(n_records, 0);
	reset(&a);
}

static void refused_requests_threshold_and_evidence(void)
{
	struct agent a = {};
	const char *res[] = {"s"};
	char msg[64];

	a.policy = with_alerts("{\"refused_requests\":{\"count\":3,\"per\":\"10m\"}}");
	CHECK(a.policy, "policy");
	alert_request(&a, 1002, res, 1, NULL, T0); /* granted: not a refusal */
	for (int i = 0; i < 2; i++) {
		snprintf(msg, sizeof(msg), "refusal %d", i);
		alert_request(&a, 1002, res, 1, msg, T0 + i);
	}
	CHECK_INT(n_records, 0);
	alert_request(&a, 1002, res, 1, "refusal 2\xff", T0 + 3);
	CHECK_INT(n_records, 1);
	CHECK_STR(kind_of(0), "refused_requests");
	CHECK_INT(field_of(0, "severity_id"), 3);
	json_t *ev = json_object_get(json_object_get(records[0], "alert"), "evidence");

	CHECK_INT(json_array_size(ev), 3);
	CHECK_STR(json_string_value(json_array_get(ev, 0)), "refusal 0");
	CHECK_STR(json_string_value(json_array_get(ev, 2)), "refusal 2?");
	reset(&a);
}

static void hours_inside_outside_and_across_midnight(void)
{
	struct policy_alerts h = {.hours = true, .days = 0x3e, .from_min = 480, .to_min = 1140};

	CHECK(policy_alerts_in_hours(&h, 1, 9 * 60), "mon 09:00 inside");
	CHECK(!policy_alerts_in_hours(&h, 1, 7 * 60 + 59), "mon 07:59 outside");
	CHECK(!policy_alerts_in_hours(&h, 1, 19 * 60), "mon 19:00 outside (to excluded)");
	CHECK(!policy_alerts_in_hours(&h, 0, 9 * 60), "sun outside");
	h.from_min = 22 * 60;
	h.to_min = 6 * 60;
	h.days = 1u << 5; /* friday night shift */
	CHECK(policy_alerts_in_hours(&h, 5, 23 * 60), "fri 23:00 inside");
	CHECK(policy_alerts_in_hours(&h, 6, 5 * 60), "sat 05:00 (friday's night) inside");
	CHECK(!policy_alerts_in_hours(&h, 5, 5 * 60), "fri 05:00 (thursday's night) outside");
	CHECK(!policy_alerts_in_hours(&h, 6, 23 * 60), "sat 23:00 outside");
}

static void off_hours_request_raises(void)
{
	struct agent a = {};
	const char *res[] = {"s"};
	time_t t = (time_t)(T0 / NS_PER_S);
	struct tm tm;
	char alerts[256];

	localtime_r(&t, &tm);
	/* hours on every day but today's: now is outside */
	snprintf(alerts, sizeof(alerts),
		 "{\"hours\":{\"days\":[%s],\"from\":\"00:00\",\"to\":\"24:00\"}}",
		 tm.tm_wday == 0 ? "\"mon\"" : "\"sun\"");
	a.policy = with_alerts(alerts);
	CHECK(a.policy, "policy");
	alert_request(&a, 1001, res, 1, NULL, T0);
	CHECK_INT(n_records, 1);
	CHECK_STR(kind_of(0), "off_hours_request");
	reset(&a);
	snprintf(alerts, sizeof(alerts), "{\"hours\":{\"from\":\"00:00\",\"to\":\"24:00\"}}");
	a.policy = with_alerts(alerts);
	CHECK(a.policy, "policy");
	alert_request(&a, 1001, res, 1, NULL, T0);
	CHECK_INT(n_records, 0);
	reset(&a);
}

static void break_glass_on_by_default(void)
{
	struct agent a = {};
	char res[1][POLICY_MAX_NAME];
	struct grant g = {
		.id = 9, .res = res, .n_res = 1, .has_uid = true, .uid = 1001, .reason = "INC-9"};

	strcpy(g.res[0], "s");
	alert_break_glass(&a, &g, T0);
	CHECK_INT(n_records, 1);
	CHECK_STR(kind_of(0), "break_glass");
	CHECK_INT(field_of(0, "severity_id"), 4);
	CHECK_INT(field_of(0, "grant_id"), 9);
	/* never held back: a second within the quiet period, or past an empty bucket */
	g.id = 10;
	alert_break_glass(&a, &g, T0 + NS_PER_S);
	CHECK_INT(n_records, 2);
	CHECK_INT(field_of(1, "grant_id"), 10);
	reset(&a);
	a.policy = with_alerts("{\"max_per_hour\":1}");
	CHECK(a.policy, "policy");
	for (int i = 0; i < 3; i++)
		alert_break_glass(&a, &g, T0 + i * NS_PER_S);
	CHECK_INT(n_records, 3);
	reset(&a);
	a.policy = with_alerts("{\"break_glass\":false}");
	CHECK(a.policy, "policy");
	alert_break_glass(&a, &g, T0);
	CHECK_INT(n_records, 0);
	reset(&a);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	RUN(denials_threshold_crossed_once_then_quiet);
	RUN(denials_spread_past_the_window_do_not_alert);
	RUN(other_subjects_count_apart);
	RUN(max_per_hour_bounds_all_subjects);
	RUN(ten_thousand_subjects_keep_memory_bounded);
	RUN(tamper_by_resource_and_op);
	RUN(refused_requests_threshold_and_evidence);
	RUN(hours_inside_outside_and_across_midnight);
	RUN(off_hours_request_raises);
	RUN(break_glass_on_by_default);
	return tl_exit();
}
