// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the audit records (lib/audit_fmt.c): every record type jitd emits
 * against OCSF 1.8.0's required fields and enums (tests/unit/data/ocsf), the hand-written
 * formatter against jansson's canonical JSON, the hash chain and its verifier, ECS,
 * journald fields and the policy's audit.allow.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "testlib.h"
#include "audit_fmt.h"
#include "jitd_abi.h"
#include "policy.h"
#include "util.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif
#define SUBSET SRCDIR "/tests/unit/data/ocsf/ocsf-1.8.0-subset.json"

static const struct audit_meta meta = {.hostname = "h", .version = "0.1.0"};
static const char *const events[] = {
	"requested", "approved",       "denied",	 "granted",	    "extended", "expired",
	"revoked",   "policy_applied", "policy_refused", "records_dropped", "started",	"stopped",
	"selftest",  "activated",      "alert",		 "break_glass",	    "reviewed"};

static struct audit_decision decision(uint8_t op, bool allow)
{
	struct audit_decision d = {
		.time_ns = 1795424462345000000LL,
		.op = op,
		.allow = allow,
		.uid = 0,
		.loginuid = 1001,
		.subject_uid = 1001,
		.pid = 812,
		.tid = 813,
		.comm = "cat",
		.cgroup_id = 77,
		.resource = "secrets",
		.grant_id = allow ? 7 : 0,
		.policy_serial = 3,
		.user = "alice",
		.proc_user = "root",
		.dev_major = 8,
		.dev_minor = 1,
		.ino = 1234,
		.path = "/srv/secret.txt",
	};

	if (op == JITD_OP_CONNECT || op == JITD_OP_SENDMSG) {
		d.path = NULL;
		d.addr = op == JITD_OP_CONNECT ? "10.0.5.3" : "fd00:5::1";
		d.v6 = op == JITD_OP_SENDMSG;
		d.port = 5432;
	}
	if (op == JITD_OP_PTRACE) {
		d.path = NULL;
		d.resource = "(grant's cgroup)";
		d.target_pid = 4242;
		d.target_cgroup = 99;
	}
	return d;
}

static json_t *event_fields(const char *ev)
{
	json_t *g = json_pack("{s:i,s:s,s:s,s:{s:i,s:s},s:s,s:s,s:s,s:s,s:{s:i}}", "id", 7,
			      "resource", "psql", "state", "active", "subject", "uid", 1001, "user",
			      "alice", "created", "2026-11-23T08:47:19.123Z", "starts",
			      "2026-11-23T08:47:19.123Z", "expires", "2026-11-23T09:47:19.123Z",
			      "reason", "INC-42", "granted_by", "uid", 0);

	if (!strcmp(ev, "policy_applied")) {
		json_decref(g);
		return json_pack("{s:i,s:s}", "serial", 4, "source", "/etc/jitd/policy.json");
	}
	if (!strcmp(ev, "policy_refused")) {
		json_decref(g);
		return json_pack("{s:s}", "error", "/etc/jitd/policy.json:2:3: bad");
	}
	if (!strcmp(ev, "records_dropped")) {
		json_decref(g);
		return json_pack("{s:s,s:i,s:i,s:{s:s,s:s}}", "source", "kernel ring buffer",
				 "count", 12, "total", 40, "window", "start",
				 "2026-11-23T08:47:19.123Z", "end", "2026-11-23T08:47:20.123Z");
	}
	if (!strcmp(ev, "started") || !strcmp(ev, "stopped") || !strcmp(ev, "selftest")) {
		json_decref(g);
		return json_pack("{s:s}", "result", "passed");
	}
	if (!strcmp(ev, "alert")) {
		json_decref(g);
		return json_pack("{s:{s:s,s:i,s:{s:i,s:s},s:i,s:i,s:i,s:s,s:s,s:i,s:s,s:s,s:s,"
				 "s:s,s:[s]}}",
				 "alert", "kind", "denial_burst", "severity_id", 4, "subject",
				 "uid", 1002, "user", "bob", "count", 5, "threshold", 5, "window_s",
				 60, "first_seen", "2026-11-23T08:47:19.123Z", "last_seen",
				 "2026-11-23T08:47:20.123Z", "suppressed", 0, "resource", "secrets",
				 "op", "open", "title", "Burst of denials", "desc",
				 "5 denials in 60s (threshold 5)", "evidence",
				 "open secrets denied");
	}
	return json_pack("{s:o,s:{s:i,s:s},s:s}", "grant", g, "actor", "uid", 1002, "user", "bob",
			 "reason", "INC-42");
}

/* ---- OCSF schema subset checks ---- */

static json_t *subset;
static char why[512];

static bool enum_ok(const json_t *vals, json_int_t v)
{
	size_t i;
	json_t *x;

	json_array_foreach(vals, i, x)
		if (json_integer_value(x) == v)
			return true;
	return false;
}

static bool check_object(const char *type, const json_t *o, const char *where);

/* Check attributes of o (class or object schema s): known names, enums, nested objects. */
static bool check_attrs(const json_t *s, const json_t *o, const char *where, bool top)
{
	const json_t *types = json_object_get(s, "types"), *enums = json_object_get(s, "enums");
	const char *k;
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(s, "required"), i, v)
		if (!json_object_get(o, json_string_value(v))) {
			snprintf(why, sizeof(why), "%s: required '%s' missing", where,
				 json_string_value(v));
			return false;
		}
	json_object_foreach((json_t *)o, k, v) {
		const char *t = json_string_value(json_object_get(types, k));
		char sub[256];

		if (top && !strcmp(k, "unmapped"))
			continue;
		if (top && strlen(k) > 3 && !strcmp(k + strlen(k) - 3, "_dt"))
			continue; /* datetime profile */
		if (!t) {
			snprintf(why, sizeof(why), "%s: '%s' is not an attribute here", where, k);
			return false;
		}
		if (json_object_get(enums, k) &&
		    (!json_is_integer(v) ||
		     !enum_ok(json_object_get(enums, k), json_integer_value(v)))) {
			snprintf(why, sizeof(why), "%s: %s = %lld not in the enum", where, k,
				 (long long)json_integer_value(v));
			return false;
		}
		if ((!strcmp(t, "integer_t") || !strcmp(t, "long_t") || !strcmp(t, "timestamp_t") ||
		     !strcmp(t, "port_t")) &&
		    !json_is_integer(v)) {
			snprintf(why, sizeof(why), "%s: %s must be an integer", where, k);
			return false;
		}
		if (strstr(t, "string_t") || !strcmp(t, "ip_t") || !strcmp(t, "username_t") ||
		    !strcmp(t, "file_path_t") || !strcmp(t, "file_name_t") ||
		    !strcmp(t, "process_name_t") || !strcmp(t, "hostname_t") ||
		    !strcmp(t, "datetime_t")) {
			if (!json_is_string(v) && !json_is_array(v)) {
				snprintf(why, sizeof(why), "%s: %s must be a string", where, k);
				return false;
			}
		}
		snprintf(sub, sizeof(sub), "%s.%s", where, k);
		if (json_object_get(json_object_get(subset, "objects"), t)) {
			if (json_is_array(v)) {
				json_t *e;
				size_t j;

				json_array_foreach(v, j, e)
					if (!check_object(t, e, sub))
						return false;
			} else if (!check_object(t, v, sub)) {
				return false;
			}
		}
	}
	return true;
}

static bool check_object(const char *type, const json_t *o, const char *where)
{
	const json_t *s = json_object_get(json_object_get(subset, "objects"), type), *v;
	size_t i;
	bool any = false;

	if (!json_is_object(o)) {
		snprintf(why, sizeof(why), "%s: not an object", where);
		return false;
	}
	json_array_foreach(json_object_get(s, "at_least_one"), i, v)
		any |= json_object_get(o, json_string_value(v)) != NULL;
	if (json_array_size(json_object_get(s, "at_least_one")) && !any) {
		snprintf(why, sizeof(why), "%s (%s): needs at least one of its at_least_one", where,
			 type);
		return false;
	}
	return check_attrs(s, o, where, false);
}

/* A record against its class. */
static bool check_ocsf(const char *line)
{
	json_t *rec = json_loads(line, 0, NULL), *cls, *md;
	char uid[16];
	json_int_t cu, act;
	bool ok = false;

	if (!rec) {
		snprintf(why, sizeof(why), "not JSON: %.80s", line);
		return false;
	}
	cu = json_integer_value(json_object_get(rec, "class_uid"));
	act = json_integer_value(json_object_get(rec, "activity_id"));
	snprintf(uid, sizeof(uid), "%lld", (long long)cu);
	cls = json_object_get(json_object_get(subset, "classes"), uid);
	md = json_object_get(rec, "metadata");
	if (!cls)
		snprintf(why, sizeof(why), "class_uid %s not one of ours", uid);
	else if (json_integer_value(json_object_get(rec, "type_uid")) != cu * 100 + act)
		snprintf(why, sizeof(why), "type_uid is not class_uid * 100 + activity_id");
	else if (strcmp(json_string_value(json_object_get(rec, "class_name")) ?: "",
			json_string_value(json_object_get(cls, "caption"))))
		snprintf(why, sizeof(why), "class_name is not '%s'",
			 json_string_value(json_object_get(cls, "caption")));
	else if (strcmp(json_string_value(json_object_get(rec, "category_name")) ?: "",
			json_string_value(json_object_get(cls, "category_name"))))
		snprintf(why, sizeof(why), "category_name wrong");
	else if (strcmp(json_string_value(json_object_get(md, "version")) ?: "", "1.8.0"))
		snprintf(why, sizeof(why), "metadata.version is not 1.8.0");
	else if (!json_is_integer(json_object_get(md, "sequence")) ||
		 !json_is_string(json_object_get(md, "uid")))
		snprintf(why, sizeof(why), "metadata.sequence/uid missing");
	else if (act != 99 &&
		 !json_object_get(json_object_get(cls, "activities"),
				  (snprintf(uid, sizeof(uid), "%lld", (long long)act), uid)))
		snprintf(why, sizeof(why), "activity_id %lld not defined by the class",
			 (long long)act);
	else if (act != 99 && strcmp(json_string_value(json_object_get(rec, "activity_name")) ?: "",
				     json_string_value(json_object_get(
					     json_object_get(cls, "activities"), uid))))
		snprintf(why, sizeof(why), "activity_name is not the caption of %lld",
			 (long long)act);
	else
		ok = check_attrs(cls, rec, json_string_value(json_object_get(cls, "name")), true);
	json_decref(rec);
	return ok;
}

static void ocsf_every_decision_meets_the_schema(void)
{
	static const uint8_t ops[] = {JITD_OP_EXEC,    JITD_OP_OPEN, JITD_OP_CONNECT,
				      JITD_OP_SENDMSG, JITD_OP_LINK, JITD_OP_RENAME,
				      JITD_OP_PTRACE};
	struct audit_chain c;
	struct abuf b = {};

	audit_chain_init(&c);
	CHECK(subset, "cannot load %s", SUBSET);
	for (size_t i = 0; i < sizeof(ops); i++)
		for (int allow = 0; allow < 2; allow++) {
			struct audit_decision d = decision(ops[i], allow);

			CHECK_INT(audit_fmt_decision(AUDIT_FMT_OCSF, &meta, &d, &c, &b, NULL), 0);
			CHECK(check_ocsf(b.p), "op %d allow %d: %s", ops[i], allow, why);
		}
	abuf_free(&b);
}

static void ocsf_every_agent_event_meets_the_schema(void)
{
	struct audit_chain c;
	struct abuf b = {};

	audit_chain_init(&c);
	CHECK(subset, "cannot load %s", SUBSET);
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		json_t *f = event_fields(events[i]);

		CHECK_INT(audit_fmt_event(AUDIT_FMT_OCSF, &meta, events[i], f,
					  1795424462345000000LL, &c, &b, NULL),
			  0);
		json_decref(f);
		CHECK(check_ocsf(b.p), "%s: %s", events[i], why);
	}
	/* no fields at all still makes a valid record */
	CHECK_INT(audit_fmt_event(AUDIT_FMT_OCSF, &meta, "granted", NULL, 1, &c, &b, NULL), 0);
	CHECK(check_ocsf(b.p), "granted without fields: %s", why);
	abuf_free(&b);
}

/* The checker itself: broken records must fail it. */
static void ocsf_checker_rejects_broken_records(void)
{
	static const char *const breaks[][2] = {
		{"\"device\":{", "\"devicX\":{"},		  /* required object gone */
		{"\"activity_id\":14", "\"activity_id\":42"},	  /* not in the enum */
		{"\"h\",\"type_id\":0}", "\"\",\"type_id\":16}"}, /* device.type_id enum */
		{"\"action_id\":2", "\"action_id\":5"},
		{"\"name\":\"secret.txt\"", "\"desc\":\"secret.txt\""}, /* file.name required */
	};
	struct audit_chain c;
	struct abuf b = {};
	struct audit_decision d = decision(JITD_OP_OPEN, false);

	audit_chain_init(&c);
	CHECK(subset, "cannot load %s", SUBSET);
	audit_fmt_decision(AUDIT_FMT_OCSF, &meta, &d, &c, &b, NULL);
	for (size_t i = 0; i < sizeof(breaks) / sizeof(breaks[0]); i++) {
		char *copy = strdup(b.p), *p = strstr(copy, breaks[i][0]);

		CHECK(p && strlen(breaks[i][0]) == strlen(breaks[i][1]), "case %zu", i);
		memcpy(p, breaks[i][1], strlen(breaks[i][1]));
		CHECK(!check_ocsf(copy), "case %zu passed: %s", i, breaks[i][1]);
		free(copy);
	}
	abuf_free(&b);
}

static void ocsf_mapping_classes_and_actions(void)
{
	struct audit_chain c;
	struct abuf b = {};
	struct audit_decision d = decision(JITD_OP_OPEN, false);

	audit_chain_init(&c);
	audit_fmt_decision(AUDIT_FMT_OCSF, &meta, &d, &c, &b, NULL);
	CHECK_CONTAINS(b.p, "\"class_uid\":1001");
	CHECK_CONTAINS(b.p, "\"action_id\":2");
	CHECK_CONTAINS(b.p, "\"disposition_id\":2");
	CHECK_CONTAINS(b.p, "\"type_uid\":100114");
	CHECK_CONTAINS(b.p, "\"path\":\"/srv/secret.txt\"");
	d = decision(JITD_OP_EXEC, true);
	audit_fmt_decision(AUDIT_FMT_OCSF, &meta, &d, &c, &b, NULL);
	CHECK_CONTAINS(b.p, "\"class_uid\":1007");
	CHECK_CONTAINS(b.p, "\"action_id\":1");
	CHECK_CONTAINS(b.p, "\"correlation_uid\":\"7\"");
	d = decision(JITD_OP_CONNECT, false);
	audit_fmt_decision(AUDIT_FMT_OCSF, &meta, &d, &c, &b, NULL);
	CHECK_CONTAINS(b.p, "\"class_uid\":4001");
	CHECK_CONTAINS(b.p, "\"dst_endpoint\":{\"ip\":\"10.0.5.3\",\"port\":5432}");
	json_t *f = event_fields("granted");

	audit_fmt_event(AUDIT_FMT_OCSF, &meta, "granted", f, 1, &c, &b, NULL);
	CHECK_CONTAINS(b.p, "\"class_uid\":3005");
	CHECK_CONTAINS(b.p, "\"privileges\":[\"jitd:psql\"]");
	audit_fmt_event(AUDIT_FMT_OCSF, &meta, "requested", f, 1, &c, &b, NULL);
	CHECK_CONTAINS(b.p, "\"class_uid\":3004");
	json_decref(f);
	f = event_fields("records_dropped");
	audit_fmt_event(AUDIT_FMT_OCSF, &meta, "records_dropped", f, 1, &c, &b, NULL);
	json_decref(f);
	CHECK_CONTAINS(b.p, "\"class_uid\":1008");
	CHECK_CONTAINS(b.p, "\"count\":12");
	CHECK_CONTAINS(b.p, "\"start_time\":");
	CHECK_CONTAINS(b.p, "\"end_time\":");
	abuf_free(&b);
}

/* The hand-written decision line is exactly jansson's canonical dump of itself. */
static void ocsf_decision_line_is_canonical_json(void)
{
	static const char *const paths[] = {"/srv/secret.txt", NULL, "/tmp/a\"b\\c\td\x01\x7f",
					    "/srv/caf\xc3\xa9/\xe2\x82\xac", "/bad/\xff\xc3(x"};
	struct audit_chain c;
	struct abuf b = {};

	audit_chain_init(&c);
	for (int op = JITD_OP_EXEC; op <= JITD_OP_PTRACE; op++)
		for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
			struct audit_decision d = decision(op, p & 1);
			json_t *j;
			char *canon;

			d.path = d.addr ? NULL : paths[p];
			d.comm = p == 2 ? "we\"ird\n" : "cat";
			d.loginuid = p == 1 ? JITD_NO_LOGINUID : 1001;
			d.user = p == 3 ? NULL : "alice";
			CHECK_INT(audit_fmt_decision(AUDIT_FMT_OCSF, &meta, &d, &c, &b, NULL), 0);
			CHECK(b.len && b.p[b.len - 1] == '\n', "no newline");
			j = json_loadb(b.p, b.len - 1, 0, NULL);
			CHECK(j, "op %d path %zu: not JSON: %s", op, p, b.p);
			canon = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
			json_decref(j);
			CHECK(canon && strlen(canon) == b.len - 1 && !memcmp(canon, b.p, b.len - 1),
			      "op %d path %zu:\n  ours  %s  canon %s", op, p, b.p, canon);
			free(canon);
		}
	abuf_free(&b);
}

/* ---- chain and verify ---- */

static char *lines[64];
static size_t n_lines;

static void make_chain(enum audit_format fmt, size_t n)
{
	struct audit_chain c;
	struct abuf b = {};

	for (size_t i = 0; i < n_lines; i++)
		free(lines[i]);
	n_lines = 0;
	audit_chain_init(&c);
	for (size_t i = 0; i < n; i++) {
		if (i % 3 == 2) {
			json_t *f = event_fields(events[i % 13]);

			audit_fmt_event(fmt, &meta, events[i % 13], f, 1795424462345000000LL, &c,
					&b, NULL);
			json_decref(f);
		} else {
			struct audit_decision d = decision(1 + i % 6, i & 1);

			audit_fmt_decision(fmt, &meta, &d, &c, &b, NULL);
		}
		lines[n_lines++] = strdup(b.p);
	}
	abuf_free(&b);
}

/* Verify lines[] in order; returns the 1-based index of the first broken one, 0 if none. */
static size_t verify_lines(char **l, size_t n)
{
	struct audit_verify v = {};
	char err[256];

	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(l[i]);

		if (!len || l[i][len - 1] != '\n' ||
		    audit_verify_line(&v, l[i], len, err, sizeof(err)))
			return i + 1;
	}
	return 0;
}

static void chain_untouched_verifies(void)
{
	make_chain(AUDIT_FMT_OCSF, 30);
	CHECK_INT(verify_lines(lines, n_lines), 0);
	make_chain(AUDIT_FMT_ECS, 30);
	CHECK_INT(verify_lines(lines, n_lines), 0);
}

static void chain_sequence_is_gap_free_and_linked(void)
{
	struct audit_chain h;
	json_t *a, *b;

	make_chain(AUDIT_FMT_OCSF, 10);
	for (size_t i = 1; i < n_lines; i++) {
		struct audit_chain ha;

		a = json_loads(lines[i - 1], 0, NULL);
		b = json_loads(lines[i], 0, NULL);
		CHECK(!audit_record_head(a, &ha) && !audit_record_head(b, &h), "no head");
		CHECK_INT(h.seq, ha.seq + 1);
		CHECK_STR(json_string_value(
				  json_object_get(json_object_get(b, "unmapped"), "prev_hash")),
			  ha.hash);
		CHECK_STR(h.chain_id, ha.chain_id);
		json_decref(a);
		json_decref(b);
	}
}

static void verify_catches_edit(void)
{
	for (int fmt = 0; fmt < 2; fmt++) {
		make_chain(fmt, 12);
		char *p = strstr(lines[4], "\"pid\":812");

		if (!p)
			p = strstr(lines[4], "secrets");
		CHECK(p, "nothing to edit in line 5: %s", lines[4]);
		p[strlen(p) > 8 ? 7 : 0] ^= 1; /* one digit or letter */
		CHECK_INT(verify_lines(lines, n_lines), 5);
	}
}

static void verify_catches_deletion(void)
{
	make_chain(AUDIT_FMT_OCSF, 12);
	free(lines[6]);
	memmove(&lines[6], &lines[7], (n_lines - 7) * sizeof(*lines));
	n_lines--;
	CHECK_INT(verify_lines(lines, n_lines), 7);
}

static void verify_catches_reordering(void)
{
	char *t;

	make_chain(AUDIT_FMT_ECS, 12);
	t = lines[3];
	lines[3] = lines[4];
	lines[4] = t;
	CHECK_INT(verify_lines(lines, n_lines), 4);
}

static void verify_catches_truncation(void)
{
	make_chain(AUDIT_FMT_OCSF, 12);
	lines[11][strlen(lines[11]) / 2] = 0; /* a torn last record */
	CHECK_INT(verify_lines(lines, n_lines), 12);
	make_chain(AUDIT_FMT_OCSF, 12);
	lines[11][strlen(lines[11]) - 1] = 0; /* newline gone */
	CHECK_INT(verify_lines(lines, n_lines), 12);
}

static void verify_catches_recomputed_hash_without_relinking(void)
{
	/* Forge record 5 and re-hash it: the next record's prev_hash no longer matches. */
	struct audit_chain c;
	struct abuf b = {};
	struct audit_decision d = decision(JITD_OP_OPEN, false);
	json_t *j;

	make_chain(AUDIT_FMT_OCSF, 8);
	j = json_loads(lines[3], 0, NULL);
	CHECK(!audit_record_head(j, &c), "head");
	json_decref(j);
	j = json_loads(lines[4], 0, NULL);
	json_decref(j);
	c.seq = 4; /* recreate seq 5 with other content on the true prev hash */
	{
		json_t *p = json_loads(lines[3], 0, NULL);

		audit_record_head(p, &c);
		json_decref(p);
	}
	d.uid = 4242;
	audit_fmt_decision(AUDIT_FMT_OCSF, &meta, &d, &c, &b, NULL);
	free(lines[4]);
	lines[4] = strdup(b.p);
	abuf_free(&b);
	CHECK_INT(verify_lines(lines, n_lines), 6);
}

/* ---- ECS, journald, policy ---- */

static void ecs_decision_fields(void)
{
	struct audit_chain c;
	struct abuf b = {};
	struct audit_decision d = decision(JITD_OP_CONNECT, false);
	json_t *j;

	audit_chain_init(&c);
	CHECK_INT(audit_fmt_decision(AUDIT_FMT_ECS, &meta, &d, &c, &b, NULL), 0);
	j = json_loads(b.p, 0, NULL);
	CHECK(j, "not JSON");
	CHECK(json_is_string(json_object_get(j, "@timestamp")), "@timestamp");
	CHECK_STR(json_string_value(json_object_get(json_object_get(j, "ecs"), "version")),
		  AUDIT_ECS_VERSION);
	json_t *ev = json_object_get(j, "event");

	CHECK_STR(json_string_value(json_object_get(ev, "kind")), "event");
	CHECK_STR(json_string_value(json_array_get(json_object_get(ev, "category"), 0)), "network");
	CHECK_STR(json_string_value(json_object_get(ev, "outcome")), "failure");
	CHECK_STR(json_string_value(json_object_get(json_object_get(j, "destination"), "ip")),
		  "10.0.5.3");
	CHECK_INT(json_integer_value(json_object_get(json_object_get(j, "destination"), "port")),
		  5432);
	CHECK_STR(json_string_value(json_object_get(json_object_get(j, "user"), "id")), "1001");
	CHECK_INT(json_integer_value(json_object_get(json_object_get(j, "process"), "pid")), 812);
	CHECK_INT(json_integer_value(json_object_get(ev, "sequence")), 1);
	CHECK(json_string_length(json_object_get(ev, "hash")) == 64, "event.hash");
	json_decref(j);
	d = decision(JITD_OP_OPEN, true);
	audit_fmt_decision(AUDIT_FMT_ECS, &meta, &d, &c, &b, NULL);
	j = json_loads(b.p, 0, NULL);
	CHECK_STR(json_string_value(json_object_get(json_object_get(j, "file"), "inode")), "1234");
	CHECK_STR(json_string_value(json_object_get(json_object_get(j, "file"), "path")),
		  "/srv/secret.txt");
	json_decref(j);
	abuf_free(&b);
}

static const char *field(char **f, size_t n, const char *key)
{
	size_t kl = strlen(key);

	for (size_t i = 0; i < n; i++)
		if (!strncmp(f[i], key, kl) && f[i][kl] == '=')
			return f[i] + kl + 1;
	return NULL;
}

static void journal_fields_map_the_record(void)
{
	struct audit_chain c;
	struct abuf b = {};
	struct audit_summary s;
	struct audit_decision d = decision(JITD_OP_OPEN, false);
	char **f;
	size_t n;

	audit_chain_init(&c);
	audit_fmt_decision(AUDIT_FMT_OCSF, &meta, &d, &c, &b, &s);
	CHECK_INT(audit_journal_fields(&s, b.p, b.len, &f, &n), 0);
	CHECK_STR(field(f, n, "MESSAGE_ID"), audit_message_id("decision", "deny"));
	CHECK_STR(field(f, n, "PRIORITY"), "4");
	CHECK_STR(field(f, n, "JITD_DECISION"), "deny");
	CHECK_STR(field(f, n, "JITD_OP"), "open");
	CHECK_STR(field(f, n, "JITD_USER"), "alice");
	CHECK_STR(field(f, n, "JITD_RESOURCE"), "secrets");
	CHECK_STR(field(f, n, "JITD_OBJECT"), "/srv/secret.txt");
	CHECK_STR(field(f, n, "JITD_SEQUENCE"), "1");
	CHECK(field(f, n, "JITD_RECORD") && !strncmp(field(f, n, "JITD_RECORD"), b.p, b.len - 1) &&
		      strlen(field(f, n, "JITD_RECORD")) == b.len - 1,
	      "JITD_RECORD is not the record");
	CHECK_CONTAINS(field(f, n, "MESSAGE"), "deny open /srv/secret.txt by alice");
	for (size_t i = 0; i < n; i++)
		free(f[i]);
	free(f);
	/* each event type has its own MESSAGE_ID */
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		for (size_t k = 0; k < i; k++)
			CHECK(strcmp(audit_message_id(events[i], NULL),
				     audit_message_id(events[k], NULL)),
			      "%s and %s share a MESSAGE_ID", events[i], events[k]);
		CHECK(strcmp(audit_message_id(events[i], NULL),
			     audit_message_id("decision", "deny")),
		      "%s", events[i]);
	}
	json_t *jf = event_fields("records_dropped");

	audit_fmt_event(AUDIT_FMT_OCSF, &meta, "records_dropped", jf, 1, &c, &b, &s);
	json_decref(jf);
	CHECK_INT(audit_journal_fields(&s, b.p, b.len, &f, &n), 0);
	CHECK_STR(field(f, n, "PRIORITY"), "3");
	CHECK_STR(field(f, n, "JITD_EVENT"), "records_dropped");
	CHECK(!field(f, n, "JITD_DECISION"), "an event has no decision");
	for (size_t i = 0; i < n; i++)
		free(f[i]);
	free(f);
	abuf_free(&b);
}

/* break_glass: 3005 Assign Privileges, High, warning priority; reviewed: 3004 Update, Medium
 * and warning when flagged; both verify in a chain, in both formats, and read back. */
static void break_glass_and_reviewed_records(void)
{
	static const char *const ev[] = {"break_glass", "reviewed", "reviewed"};
	static const int sev[] = {4, 3, 1}, cls[] = {3005, 3004, 3004};
	static const char *const prio[] = {"4", "4", "5"};
	struct audit_verify v = {};
	struct audit_chain c;
	struct abuf b = {};
	struct audit_summary s;
	char err[256], **f;
	json_t *j, *fl;
	size_t n;

	audit_chain_init(&c);
	for (int i = 0; i < 3; i++) {
		fl = event_fields(ev[i]);
		if (i < 2)
			json_object_set_new(fl, i ? "verdict" : "by_uid",
					    i ? json_string("flag") : json_integer(1001));
		CHECK_INT(audit_fmt_event(AUDIT_FMT_OCSF, &meta, ev[i], fl, 1795424462345000000LL,
					  &c, &b, &s),
			  0);
		CHECK(check_ocsf(b.p), "%s: %s", ev[i], why);
		CHECK_INT(audit_verify_line(&v, b.p, b.len, err, sizeof(err)), 0);
		CHECK_INT(audit_journal_fields(&s, b.p, b.len, &f, &n), 0); /* s points into fl */
		json_decref(fl);
		CHECK_STR(field(f, n, "MESSAGE_ID"), audit_message_id(ev[i], NULL));
		CHECK_STR(field(f, n, "PRIORITY"), prio[i]);
		for (size_t k = 0; k < n; k++)
			free(f[k]);
		free(f);
		j = json_loads(b.p, 0, NULL);
		CHECK_INT(json_integer_value(json_object_get(j, "class_uid")), cls[i]);
		CHECK_INT(json_integer_value(json_object_get(j, "severity_id")), sev[i]);
		CHECK_INT(json_integer_value(json_object_get(j, "type_uid")), i ? 300403 : 300501);
		CHECK_INT(audit_record_summary(j, &s), 0);
		CHECK_STR(s.event, ev[i]);
		CHECK_INT(s.grant_id, 7);
		json_decref(j);
	}
	CHECK(strcmp(audit_message_id("break_glass", NULL), audit_message_id("granted", NULL)) &&
		      strcmp(audit_message_id("reviewed", NULL), audit_message_id("nope", NULL)),
	      "break_glass or reviewed without a MESSAGE_ID of its own");
	/* ECS: event.severity for the High one, and the chain still verifies */
	audit_chain_init(&c);
	memset(&v, 0, sizeof(v));
	fl = event_fields("break_glass");
	CHECK_INT(audit_fmt_event(AUDIT_FMT_ECS, &meta, "break_glass", fl, 1795424462345000000LL,
				  &c, &b, &s),
		  0);
	json_decref(fl);
	CHECK_INT(audit_verify_line(&v, b.p, b.len, err, sizeof(err)), 0);
	j = json_loads(b.p, 0, NULL);
	CHECK_INT(json_integer_value(json_object_get(json_object_get(j, "event"), "severity")), 4);
	CHECK_STR(json_string_value(
			  json_object_get(json_object_get(j, "event"), "category")
				  ? json_array_get(json_object_get(json_object_get(j, "event"),
								   "category"),
						   0)
				  : NULL),
		  "iam");
	json_decref(j);
	abuf_free(&b);
}

static void summary_reads_both_formats(void)
{
	for (int fmt = 0; fmt < 2; fmt++) {
		struct audit_chain c;
		struct abuf b = {};
		struct audit_summary s;
		struct audit_decision d = decision(JITD_OP_OPEN, false);
		json_t *j;

		audit_chain_init(&c);
		audit_fmt_decision(fmt, &meta, &d, &c, &b, NULL);
		j = json_loads(b.p, 0, NULL);
		CHECK_INT(audit_record_summary(j, &s), 0);
		CHECK_STR(s.decision, "deny");
		CHECK_STR(s.op, "open");
		CHECK_STR(s.object, "/srv/secret.txt");
		CHECK_INT(s.time_ms, 1795424462345LL);
		json_decref(j);
		json_t *f = event_fields("granted");

		audit_fmt_event(fmt, &meta, "granted", f, 1795424462345000000LL, &c, &b, NULL);
		json_decref(f);
		j = json_loads(b.p, 0, NULL);
		CHECK_INT(audit_record_summary(j, &s), 0);
		CHECK_STR(s.event, "granted");
		CHECK(!s.decision, "decision on an event");
		CHECK_INT(s.grant_id, 7);
		json_decref(j);
		abuf_free(&b);
	}
}

/* An alert is an OCSF Detection Finding: the class's required attributes, a new finding
 * that is an alertable signal, finding_info.uid the record's own uid; it chains and
 * verifies like any record, in both formats; journald sees it at priority 2. */
static void alert_is_detection_finding_and_verifies(void)
{
	struct audit_chain c;
	struct abuf b = {};
	struct audit_summary s;
	json_t *f = event_fields("alert"), *j, *fi;
	char *chain[3];
	char **jf;
	size_t n;

	CHECK(subset, "cannot load %s", SUBSET);
	audit_chain_init(&c);
	for (int i = 0; i < 3; i++) {
		struct audit_decision d = decision(JITD_OP_OPEN, false);

		if (i == 1)
			CHECK_INT(audit_fmt_event(AUDIT_FMT_OCSF, &meta, "alert", f,
						  1795424462345000000LL, &c, &b, &s),
				  0);
		else
			audit_fmt_decision(AUDIT_FMT_OCSF, &meta, &d, &c, &b, NULL);
		chain[i] = strdup(b.p);
		if (i == 1)
			CHECK(check_ocsf(b.p), "alert: %s", why);
	}
	CHECK_INT(verify_lines(chain, 3), 0);
	j = json_loads(chain[1], 0, NULL);
	fi = json_object_get(j, "finding_info");
	CHECK_INT(json_integer_value(json_object_get(j, "class_uid")), 2004);
	CHECK_INT(json_integer_value(json_object_get(j, "category_uid")), 2);
	CHECK_INT(json_integer_value(json_object_get(j, "type_uid")), 200401);
	CHECK_INT(json_integer_value(json_object_get(j, "severity_id")), 4);
	CHECK_INT(json_integer_value(json_object_get(j, "status_id")), 1);
	CHECK_STR(json_string_value(json_object_get(j, "status")), "New");
	CHECK(json_is_true(json_object_get(j, "is_alert")), "is_alert not true");
	CHECK_STR(json_string_value(json_object_get(fi, "uid")),
		  json_string_value(json_object_get(json_object_get(j, "metadata"), "uid")));
	CHECK_STR(json_string_value(json_object_get(fi, "title")), "Burst of denials");
	CHECK_STR(json_string_value(json_array_get(json_object_get(fi, "types"), 0)),
		  "denial_burst");
	CHECK_STR(json_string_value(json_object_get(
			  json_object_get(json_object_get(j, "actor"), "user"), "name")),
		  "bob");
	CHECK_STR(json_string_value(
			  json_object_get(json_object_get(j, "metadata"), "correlation_uid")),
		  "uid:1002");
	json_decref(j);
	CHECK_INT(audit_journal_fields(&s, chain[1], strlen(chain[1]), &jf, &n), 0);
	CHECK_STR(field(jf, n, "PRIORITY"), "2");
	CHECK_STR(field(jf, n, "MESSAGE_ID"), audit_message_id("alert", NULL));
	CHECK_STR(field(jf, n, "JITD_USER"), "bob");
	for (size_t i = 0; i < n; i++)
		free(jf[i]);
	free(jf);
	memcpy(strstr(chain[1], "Burst of denials"), "Burxt", 5); /* edited: caught */
	CHECK_INT(verify_lines(chain, 3), 2);
	for (int i = 0; i < 3; i++)
		free(chain[i]);
	CHECK_INT(audit_fmt_event(AUDIT_FMT_ECS, &meta, "alert", f, 1795424462345000000LL, &c, &b,
				  NULL),
		  0);
	j = json_loads(b.p, 0, NULL);
	CHECK_STR(json_string_value(json_object_get(json_object_get(j, "event"), "kind")), "alert");
	CHECK_STR(json_string_value(json_array_get(
			  json_object_get(json_object_get(j, "event"), "category"), 0)),
		  "intrusion_detection");
	CHECK_STR(json_string_value(json_object_get(json_object_get(j, "rule"), "name")),
		  "denial_burst");
	CHECK_INT(audit_record_summary(j, &s), 0);
	CHECK_STR(s.event, "alert");
	json_decref(j);
	json_decref(f);
	abuf_free(&b);
}

static void policy_audit_allow_parsed(void)
{
	static const char ok[] = "{\"version\":1,\"serial\":1,\"resources\":{},"
				 "\"audit\":{\"allow\":\"first\"}}";
	static const char bad[] = "{\"version\":1,\"serial\":1,\"resources\":{},"
				  "\"audit\":{\"allow\":\"some\"}}";
	struct policy *p = NULL;
	char err[512];

	CHECK(!policy_parse("t.json", ok, strlen(ok), &p, err, sizeof(err)), "%s", err);
	CHECK_INT(p->audit_allow, AUDIT_ALLOW_FIRST);
	policy_free(p);
	p = NULL;
	CHECK(policy_parse("t.json", bad, strlen(bad), &p, err, sizeof(err)) < 0, "accepted");
	CHECK_CONTAINS(err, "audit");
	CHECK_CONTAINS(err, "first");
}

/* ---- aggregates of allows (the kernel's jitd_allow_agg, agent/aggregate.c) ---- */

static struct audit_decision aggregate(uint8_t op)
{
	struct audit_decision d = decision(op, true);

	d.count = 41;
	d.start_ns = 1795424460001000000LL;
	d.end_ns = d.time_ns;
	return d;
}

static const uint8_t agg_ops[] = {JITD_OP_EXEC,	   JITD_OP_OPEN,   JITD_OP_CONNECT,
				  JITD_OP_SENDMSG, JITD_OP_PTRACE, JITD_OP_SETATTR};

static void ocsf_aggregate_meets_the_schema_and_is_canonical(void)
{
	struct audit_chain c;
	struct abuf b = {};

	audit_chain_init(&c);
	for (size_t i = 0; i < sizeof(agg_ops); i++) {
		struct audit_decision d = aggregate(agg_ops[i]);
		json_t *j;
		char *canon;

		CHECK_INT(audit_fmt_decision(AUDIT_FMT_OCSF, &meta, &d, &c, &b, NULL), 0);
		CHECK(check_ocsf(b.p), "op %d: %s", agg_ops[i], why);
		j = json_loadb(b.p, b.len - 1, 0, NULL);
		CHECK(j, "op %d: not JSON: %s", agg_ops[i], b.p);
		canon = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
		CHECK(canon && strlen(canon) == b.len - 1 && !memcmp(canon, b.p, b.len - 1),
		      "op %d:\n  ours  %s  canon %s", agg_ops[i], b.p, canon);
		free(canon);
		json_decref(j);
	}
	abuf_free(&b);
}

static void ocsf_aggregate_has_count_start_end(void)
{
	struct audit_decision d = aggregate(JITD_OP_OPEN);
	struct audit_chain c;
	struct abuf b = {};
	json_t *j;

	audit_chain_init(&c);
	CHECK_INT(audit_fmt_decision(AUDIT_FMT_OCSF, &meta, &d, &c, &b, NULL), 0);
	j = json_loads(b.p, 0, NULL);
	CHECK_INT(json_integer_value(json_object_get(j, "count")), 41);
	CHECK_INT(json_integer_value(json_object_get(j, "start_time")), 1795424460001LL);
	CHECK_INT(json_integer_value(json_object_get(j, "end_time")), 1795424462345LL);
	CHECK_INT(json_integer_value(json_object_get(j, "time")), 1795424462345LL);
	CHECK_STR(json_string_value(json_object_get(j, "start_time_dt")),
		  "2026-11-23T09:01:00.001Z");
	CHECK_STR(json_string_value(json_object_get(j, "end_time_dt")), "2026-11-23T09:01:02.345Z");
	/* an aggregate is the same class, activity and subject as the full record */
	CHECK_INT(json_integer_value(json_object_get(j, "class_uid")), 1001);
	CHECK_INT(json_integer_value(json_object_get(j, "activity_id")), 14);
	CHECK_INT(json_integer_value(json_object_get(
			  json_object_get(json_object_get(j, "actor"), "process"), "pid")),
		  812);
	json_decref(j);
	/* a single decision has none of them */
	d = decision(JITD_OP_OPEN, true);
	CHECK_INT(audit_fmt_decision(AUDIT_FMT_OCSF, &meta, &d, &c, &b, NULL), 0);
	CHECK(!strstr(b.p, "\"count\"") && !strstr(b.p, "start_time") && !strstr(b.p, "end_time"),
	      "a single decision has aggregate fields: %s", b.p);
	abuf_free(&b);
}

static void ecs_aggregate_has_event_start_end_and_count(void)
{
	struct audit_decision d = aggregate(JITD_OP_CONNECT);
	struct audit_chain c;
	struct abuf b = {};
	json_t *j, *ev;

	audit_chain_init(&c);
	CHECK_INT(audit_fmt_decision(AUDIT_FMT_ECS, &meta, &d, &c, &b, NULL), 0);
	j = json_loads(b.p, 0, NULL);
	ev = json_object_get(j, "event");
	CHECK_STR(json_string_value(json_object_get(ev, "start")), "2026-11-23T09:01:00.001Z");
	CHECK_STR(json_string_value(json_object_get(ev, "end")), "2026-11-23T09:01:02.345Z");
	CHECK_INT(json_integer_value(json_object_get(json_object_get(j, "jitd"), "count")), 41);
	json_decref(j);
	d = decision(JITD_OP_CONNECT, true);
	CHECK_INT(audit_fmt_decision(AUDIT_FMT_ECS, &meta, &d, &c, &b, NULL), 0);
	CHECK(!strstr(b.p, "\"count\"") && !strstr(b.p, "\"start\""),
	      "a single decision has aggregate fields: %s", b.p);
	abuf_free(&b);
}

/* A chain of full records and aggregates verifies; an edited count is caught. */
static void chain_with_aggregates_verifies_and_catches_a_count_edit(void)
{
	for (int fmt = 0; fmt < 2; fmt++) {
		struct audit_chain c;
		struct abuf b = {};
		char *p;

		for (size_t i = 0; i < n_lines; i++)
			free(lines[i]);
		n_lines = 0;
		audit_chain_init(&c);
		for (size_t i = 0; i < 12; i++) {
			struct audit_decision d =
				i % 2 ? aggregate(agg_ops[i % sizeof(agg_ops)])
				      : decision(agg_ops[i % sizeof(agg_ops)], i % 4);

			CHECK_INT(audit_fmt_decision(fmt, &meta, &d, &c, &b, NULL), 0);
			lines[n_lines++] = strdup(b.p);
		}
		abuf_free(&b);
		CHECK_INT(verify_lines(lines, n_lines), 0);
		p = strstr(lines[5], "\"count\":41");
		CHECK(p, "no count in line 6: %s", lines[5]);
		p[sizeof("\"count\":4") - 1] = '2'; /* 41 -> 42 */
		CHECK_INT(verify_lines(lines, n_lines), 6);
	}
}

/* journald and the human view say an aggregate's count: JITD_COUNT, the summary of the
 * record as written (both formats) and as formatted. */
static void aggregate_count_in_journal_and_summary(void)
{
	for (int fmt = 0; fmt < 2; fmt++) {
		struct audit_decision d = aggregate(JITD_OP_OPEN);
		struct audit_chain c;
		struct abuf b = {};
		struct audit_summary s, rs;
		char **f;
		size_t n;
		json_t *j;

		audit_chain_init(&c);
		CHECK_INT(audit_fmt_decision(fmt, &meta, &d, &c, &b, &s), 0);
		CHECK_INT(s.count, 41);
		j = json_loads(b.p, 0, NULL);
		CHECK_INT(audit_record_summary(j, &rs), 0);
		CHECK_INT(rs.count, 41);
		json_decref(j);
		CHECK_INT(audit_journal_fields(&s, b.p, b.len, &f, &n), 0);
		CHECK_STR(field(f, n, "JITD_COUNT"), "41");
		CHECK_CONTAINS(field(f, n, "MESSAGE"), "(41 times)");
		for (size_t i = 0; i < n; i++)
			free(f[i]);
		free(f);
		d = decision(JITD_OP_OPEN, true);
		CHECK_INT(audit_fmt_decision(fmt, &meta, &d, &c, &b, &s), 0);
		j = json_loads(b.p, 0, NULL);
		CHECK_INT(audit_record_summary(j, &rs), 0);
		CHECK_INT(rs.count + s.count, 0);
		json_decref(j);
		CHECK_INT(audit_journal_fields(&s, b.p, b.len, &f, &n), 0);
		CHECK(!field(f, n, "JITD_COUNT"), "a single decision has JITD_COUNT");
		for (size_t i = 0; i < n; i++)
			free(f[i]);
		free(f);
		abuf_free(&b);
	}
}

int main(void)
{
	subset = json_load_file(SUBSET, 0, NULL);
	RUN(ocsf_every_decision_meets_the_schema);
	RUN(ocsf_every_agent_event_meets_the_schema);
	RUN(alert_is_detection_finding_and_verifies);
	RUN(ocsf_checker_rejects_broken_records);
	RUN(ocsf_mapping_classes_and_actions);
	RUN(ocsf_decision_line_is_canonical_json);
	RUN(chain_untouched_verifies);
	RUN(chain_sequence_is_gap_free_and_linked);
	RUN(verify_catches_edit);
	RUN(verify_catches_deletion);
	RUN(verify_catches_reordering);
	RUN(verify_catches_truncation);
	RUN(verify_catches_recomputed_hash_without_relinking);
	RUN(ecs_decision_fields);
	RUN(journal_fields_map_the_record);
	RUN(summary_reads_both_formats);
	RUN(break_glass_and_reviewed_records);
	RUN(policy_audit_allow_parsed);
	RUN(ocsf_aggregate_meets_the_schema_and_is_canonical);
	RUN(ocsf_aggregate_has_count_start_end);
	RUN(ecs_aggregate_has_event_start_end_and_count);
	RUN(chain_with_aggregates_verifies_and_catches_a_count_edit);
	RUN(aggregate_count_in_journal_and_summary);
	json_decref(subset);
	return tl_exit();
}
