// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of lib/policy.c: parsing, validation, error positions, directory merge. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"
#include "testlib.h"
#include "util.h"

static char err[1024];

/* Parse text as "t.json"; NULL on error (message in err). */
static struct policy *parse(const char *text)
{
	struct policy *p = NULL;

	err[0] = '\0';
	if (policy_parse("t.json", text, strlen(text), &p, err, sizeof(err)))
		return NULL;
	return p;
}

static void exempts_uid_and_cgroup_subtree(void)
{
	struct policy *p = parse("{\"version\":1,\"serial\":1,\"resources\":{\"s\":{\"open\":"
				 "[\"/srv/s\"]}},\"exempt\":{\"uids\":[0,7],"
				 "\"cgroups\":[\"/system.slice\"]}}");

	CHECK(p != NULL, "p != NULL");
	if (!p)
		return;
	CHECK(policy_exempts_uid(p, 7), "policy_exempts_uid(p, 7)");
	CHECK(!policy_exempts_uid(p, 1001), "!policy_exempts_uid(p, 1001)");
	CHECK(policy_exempts_cgroup(p, "/system.slice"),
	      "policy_exempts_cgroup(p, \"/system.slice\")");
	CHECK(policy_exempts_cgroup(p, "/system.slice/jitd.service"),
	      "policy_exempts_cgroup(p, \"/system.slice/jitd.service\")");
	CHECK(!policy_exempts_cgroup(p, "/system.slice2/x.service"),
	      "!policy_exempts_cgroup(p, \"/system.slice2/x.service\")");
	CHECK(!policy_exempts_cgroup(p, "/user.slice"),
	      "!policy_exempts_cgroup(p, \"/user.slice\")");
	policy_free(p);
}

/*
 * Parse text, expect -EINVAL and an error that starts with "t.json:LOC: " and contains
 * msg. Leaves the calling test on failure.
 */
#define BAD(text, loc, msg)                                                                        \
	do {                                                                                       \
		struct policy *p_ = (struct policy *)1;                                            \
		int r_;                                                                            \
		err[0] = '\0';                                                                     \
		r_ = policy_parse("t.json", text, strlen(text), &p_, err, sizeof(err));            \
		CHECK(r_ == -EINVAL, "returned %d, expected -EINVAL (err \"%s\")", r_, err);       \
		CHECK(!p_, "policy set on error");                                                 \
		CHECK(!strncmp(err, "t.json:" loc ": ", strlen("t.json:" loc ": ")),               \
		      "error \"%s\" does not start with \"t.json:%s: \"", err, loc);               \
		CHECK_CONTAINS(err, msg);                                                          \
		CHECK(!strchr(err, '\n'), "error has a newline");                                  \
	} while (0)

#define HEAD "{\n  \"version\": 1,\n  \"serial\": 1,\n"

static const char full_policy[] =
	"{\n"
	"  \"version\": 1,\n"
	"  \"serial\": 42,\n"
	"  \"resources\": {\n"
	"    \"prod-db\": { \"connect\": [\"10.0.5.0/24:5432\", \"[fd00:5::/64]:5432\",\n"
	"                 \"127.0.0.2:8080\", \"10.1.0.0/16\", \"[::1]:22\", \"10.2.0.1:*\"] },\n"
	"    \"psql\":    { \"exec\": [\"/usr/bin/psql\"] },\n"
	"    \"secrets\": { \"open\": [\"/etc/app/secrets/\"] }\n"
	"  },\n"
	"  \"exempt\": { \"uids\": [0, \"user:root\", \"nobody\", 4294967294],\n"
	"              \"cgroups\": [\"/system.slice\"] },\n"
	"  \"admins\": [\"group:jit-admins\"],\n"
	"  \"rules\": [\n"
	"    { \"resources\": [\"prod-db\", \"psql\"], \"requesters\": [\"group:dba\", "
	"\"user:alice\"],\n"
	"      \"max_duration\": \"1h\", \"approvals\": 1, \"approvers\": [\"group:sre\"],\n"
	"      \"reason\": \"required\", \"reason_pattern\": \"^(INC|CHG)-[0-9]+\" }\n"
	"  ],\n"
	"  \"grants\": [\n"
	"    { \"resource\": \"secrets\", \"user\": \"backup\", \"not_before\": "
	"\"2026-12-01T02:00:00Z\",\n"
	"      \"not_after\": \"2026-12-01T03:00:00Z\", \"reason\": \"CHG-7\" }\n"
	"  ]\n"
	"}\n";

static void check_v4(const struct policy_entry *e, const char *what, uint8_t a, uint8_t b,
		     uint8_t c, uint8_t d, unsigned prefix, uint16_t port)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	CHECK(e->kind == POLICY_CONNECT && e->ipv4, "%s: not an IPv4 connect entry", what);
	CHECK(!memcmp(e->addr, mapped, 12), "%s: not IPv4-mapped", what);
	CHECK(e->addr[12] == a && e->addr[13] == b && e->addr[14] == c && e->addr[15] == d,
	      "%s: address %u.%u.%u.%u", what, e->addr[12], e->addr[13], e->addr[14], e->addr[15]);
	CHECK(e->prefix == prefix, "%s: prefix %u, expected %u", what, e->prefix, prefix);
	CHECK(e->port == port, "%s: port %u, expected %u", what, e->port, port);
}

#define V4(...)                                                                                    \
	do {                                                                                       \
		check_v4(__VA_ARGS__);                                                             \
		if (tl.failed)                                                                     \
			return;                                                                    \
	} while (0)

static void full_example_parses_with_correct_values(void)
{
	static const uint8_t fd00_5[16] = {0xfd, 0, 0, 5};
	static const uint8_t loop6[16] = {[15] = 1};
	struct policy *p = parse(full_policy);
	const struct policy_resource *r;
	struct passwd *nobody = getpwnam("nobody");
	char buf[128];

	CHECK(p, "parse failed: %s", err);
	CHECK_INT(p->version, 1);
	CHECK_INT(p->serial, 42);
	CHECK_INT(p->n_resources, 3);
	CHECK_STR(p->source, "t.json");

	r = policy_find(p, "prod-db");
	CHECK(r, "prod-db not found");
	CHECK_STR(r->name, "prod-db");
	CHECK_INT(r->id, util_resource_id("prod-db"));
	CHECK_INT(r->n_entries, 6);
	V4(&r->entries[0], "10.0.5.0/24:5432", 10, 0, 5, 0, 120, 5432);
	CHECK(r->entries[1].kind == POLICY_CONNECT && !r->entries[1].ipv4, "fd00 kind");
	CHECK(!memcmp(r->entries[1].addr, fd00_5, 16), "fd00:5:: address bytes");
	CHECK_INT(r->entries[1].prefix, 64);
	CHECK_INT(r->entries[1].port, 5432);
	V4(&r->entries[2], "127.0.0.2:8080", 127, 0, 0, 2, 128, 8080);
	V4(&r->entries[3], "10.1.0.0/16", 10, 1, 0, 0, 112, 0);
	CHECK(!memcmp(r->entries[4].addr, loop6, 16), "::1 address bytes");
	CHECK_INT(r->entries[4].prefix, 128);
	CHECK_INT(r->entries[4].port, 22);
	V4(&r->entries[5], "10.2.0.1:*", 10, 2, 0, 1, 128, 0);
	CHECK_STR(policy_entry_format(&r->entries[0], buf, sizeof(buf)), "10.0.5.0/24:5432");
	CHECK_STR(policy_entry_format(&r->entries[1], buf, sizeof(buf)), "[fd00:5::/64]:5432");
	CHECK_STR(policy_entry_format(&r->entries[5], buf, sizeof(buf)), "10.2.0.1");

	r = policy_find(p, "psql");
	CHECK(r && r->n_entries == 1, "psql");
	CHECK_INT(r->entries[0].kind, POLICY_EXEC);
	CHECK_STR(r->entries[0].path, "/usr/bin/psql");
	r = policy_find(p, "secrets");
	CHECK(r && r->n_entries == 1, "secrets");
	CHECK_INT(r->entries[0].kind, POLICY_OPEN);
	CHECK_STR(r->entries[0].path, "/etc/app/secrets"); /* trailing '/' stripped */
	CHECK(!policy_find(p, "nope"), "found a resource that does not exist");

	CHECK_INT(p->n_exempt_uids, 4);
	CHECK_INT(p->exempt_uids[0], 0);
	CHECK_INT(p->exempt_uids[1], 0);
	CHECK(nobody, "no user nobody on this host");
	CHECK_INT(p->exempt_uids[2], nobody->pw_uid);
	CHECK_INT(p->exempt_uids[3], 4294967294u);
	CHECK_INT(p->n_exempt_cgroups, 1);
	CHECK_STR(p->exempt_cgroups[0], "/system.slice");
	policy_free(p);
}

static void minimal_policy_with_empty_resources_parses(void)
{
	struct policy *p = parse("{\"version\":1,\"serial\":0,\"resources\":{}}");

	CHECK(p, "parse failed: %s", err);
	CHECK_INT(p->serial, 0);
	CHECK_INT(p->n_resources, 0);
	CHECK_INT(p->n_exempt_uids, 0);
	policy_free(p);
	policy_free(NULL);
}

static void paths_root_and_exec_open_same_resource_are_accepted(void)
{
	struct policy *p = parse(HEAD "  \"resources\": { \"all\": { \"open\": [\"/\"],"
				      " \"exec\": [\"/bin/sh\"] },\n"
				      "    \"sh\": { \"exec\": [\"/usr/bin/sh\"], \"open\": "
				      "[\"/usr/bin/sh\"] } }\n}");

	CHECK(p, "parse failed: %s", err);
	CHECK_STR(p->resources[0].entries[0].path, "/");
	CHECK_INT(p->resources[0].entries[1].kind, POLICY_EXEC);
	CHECK_INT(p->resources[1].n_entries, 2);
	policy_free(p);
}

static void syntax_error_reports_jansson_position(void)
{
	BAD("{\n  \"version\": 1,\n  \"serial\": 2,\n}", "4:1", "invalid JSON: string or '}'");
	BAD("", "1:1", "invalid JSON");
}

static void duplicate_json_key_is_an_error(void)
{
	BAD(HEAD "  \"resources\": {},\n  \"serial\": 2\n}", "5:10", "duplicate object key");
}

static void top_level_must_be_an_object(void)
{
	BAD("\n  [1, 2]", "2:3", "expected an object at the top level, got an array");
}

static void wrong_version_points_at_value(void)
{
	BAD("{\n  \"version\": 2,\n  \"serial\": 1,\n  \"resources\": {}\n}", "2:14",
	    "version: unsupported version 2 (expected 1)");
	BAD("{\n  \"version\": \"1\",\n  \"serial\": 1,\n  \"resources\": {}\n}", "2:14",
	    "expected the integer 1, got a string");
}

static void missing_serial_points_at_object(void)
{
	BAD("{\n  \"version\": 1,\n  \"resources\": {}\n}", "1:1", "missing key 'serial'");
	BAD("  {\"version\": 1, \"serial\": 3}", "1:3", "missing key 'resources'");
}

static void bad_serial_is_rejected(void)
{
	BAD("{\"version\": 1, \"serial\": -1, \"resources\": {}}", "1:26",
	    "serial: negative serial -1 (expected an integer >= 0)");
	BAD("{\"version\": 1, \"serial\": 1.5, \"resources\": {}}", "1:26",
	    "expected an integer >= 0, got a real number");
}

static void bad_resource_name_points_at_key(void)
{
	BAD(HEAD "  \"resources\": {\n    \"ok\": { \"exec\": [\"/bin/true\"] },\n"
		 "    \"prod db\": { \"exec\": [\"/bin/false\"] }\n  }\n}",
	    "6:5", "resources: bad resource name 'prod db' (expected 1 to 63 characters");
	BAD(HEAD "  \"resources\": { \"\": { \"exec\": [\"/bin/true\"] } }\n}", "4:18",
	    "bad resource name ''");
	BAD(HEAD "  \"resources\": { \"a234567890123456789012345678901234567890123456789012345678"
		 "901234\": { \"exec\": [\"/bin/true\"] } }\n}",
	    "4:18", "bad resource name");
}

static void relative_path_points_at_value(void)
{
	BAD(HEAD
	    "  \"resources\": {\n    \"psql\": { \"exec\": [\"/usr/bin/psql\", \"bin/psql\"] }\n"
	    "  }\n}",
	    "5:41", "resources.psql.exec[1]: relative path 'bin/psql' (expected an absolute path");
}

static void dotdot_and_empty_components_are_rejected(void)
{
	BAD(HEAD "  \"resources\": { \"x\": { \"open\": [\"/etc/../shadow\"] } }\n}", "4:34",
	    "'.' or '..' component in path '/etc/../shadow'");
	BAD(HEAD "  \"resources\": { \"x\": { \"open\": [\"/etc/./shadow\"] } }\n}", "4:34",
	    "'.' or '..' component");
	BAD(HEAD "  \"resources\": { \"x\": { \"open\": [\"/etc//shadow\"] } }\n}", "4:34",
	    "empty component in path '/etc//shadow'");
	BAD(HEAD "  \"resources\": { \"x\": { \"open\": [\"\"] } }\n}", "4:34", "empty path");
}

static void bad_cidr_prefix_is_rejected(void)
{
	BAD(HEAD "  \"resources\": {\n    \"db\": { \"connect\": [\"10.0.5.0/33:5432\"] }\n  }\n}",
	    "5:25",
	    "resources.db.connect[0]: bad prefix length '/33' in '10.0.5.0/33:5432' "
	    "(expected /0../32)");
	BAD(HEAD "  \"resources\": { \"db\": { \"connect\": [\"[fd00::/129]\"] } }\n}", "4:38",
	    "bad prefix length '/129'");
	BAD(HEAD "  \"resources\": { \"db\": { \"connect\": [\"10.0.5/24\"] } }\n}", "4:38",
	    "bad IPv4 address '10.0.5'");
	BAD(HEAD "  \"resources\": { \"db\": { \"connect\": [\"[fd00::g]:1\"] } }\n}", "4:38",
	    "bad IPv6 address 'fd00::g'");
}

static void host_bits_set_suggests_network(void)
{
	BAD(HEAD
	    "  \"resources\": { \"db\": { \"connect\": [\"10.0.5.0/24\", \"10.0.5.1/24:5432\"] "
	    "} }\n}",
	    "4:53", "host bits set in '10.0.5.1/24:5432'; did you mean 10.0.5.0/24:5432?");
	BAD(HEAD "  \"resources\": { \"db\": { \"connect\": [\"[fd00:5::1/64]\"] } }\n}", "4:38",
	    "did you mean [fd00:5::/64]?");
}

static void bad_port_is_rejected(void)
{
	BAD(HEAD "  \"resources\": {\n    \"db\": { \"connect\": [\"10.0.5.0/24:5432\",\n"
		 "                         \"10.0.5.0/24:99999\"] }\n  }\n}",
	    "6:26", "resources.db.connect[1]: bad port '99999' (expected 1..65535");
	BAD(HEAD "  \"resources\": { \"db\": { \"connect\": [\"10.0.0.1:0\"] } }\n}", "4:38",
	    "bad port '0'");
	BAD(HEAD "  \"resources\": { \"db\": { \"connect\": [\"[::1]:\"] } }\n}", "4:38",
	    "bad port ''");
	BAD(HEAD "  \"resources\": { \"db\": { \"connect\": [\"[::1]22\"] } }\n}", "4:38",
	    "unexpected '22' after ']'");
}

static void ipv6_without_brackets_is_rejected(void)
{
	BAD(HEAD "  \"resources\": { \"db\": { \"connect\": [\"fd00:5::/64\"] } }\n}", "4:38",
	    "IPv6 address 'fd00:5::/64' must be in brackets");
	BAD(HEAD "  \"resources\": { \"db\": { \"connect\": [\"::1\"] } }\n}", "4:38",
	    "must be in brackets");
}

static void unknown_keys_are_errors_naming_allowed_keys(void)
{
	BAD(HEAD "  \"resources\": {},\n  \"resorces\": {}\n}", "5:3",
	    "unknown key 'resorces' (allowed: version, serial, resources, exempt, admins, rules, "
	    "grants, audit, fleet, alerts, notify)");
	BAD(HEAD
	    "  \"resources\": {\n    \"psql\": { \"exec\": [\"/usr/bin/psql\"], \"exex\": [] }\n"
	    "  }\n}",
	    "5:42", "resources.psql: unknown key 'exex' (allowed: exec, open, connect, revoke)");
	BAD(HEAD "  \"resources\": {},\n  \"exempt\": { \"gids\": [0] }\n}", "5:15",
	    "exempt: unknown key 'gids' (allowed: uids, cgroups)");
}

static void unknown_user_is_an_error(void)
{
	BAD(HEAD
	    "  \"resources\": {},\n  \"exempt\": { \"uids\": [0, \"user:no-such-user-jitd\"] }\n}",
	    "5:27", "exempt.uids[1]: unknown user 'no-such-user-jitd'");
	BAD(HEAD
	    "  \"resources\": {},\n  \"exempt\": { \"uids\": [\"nobody\", \"jitd-nobody-x\"] }\n}",
	    "5:34", "unknown user 'jitd-nobody-x'");
	BAD(HEAD "  \"resources\": {},\n  \"exempt\": { \"uids\": [\"group:wheel\"] }\n}", "5:24",
	    "bad user 'group:wheel'");
	BAD(HEAD "  \"resources\": {},\n  \"exempt\": { \"uids\": [4294967295] }\n}", "5:24",
	    "uid 4294967295 out of range (expected 0..4294967294)");
	BAD(HEAD "  \"resources\": {},\n  \"exempt\": { \"uids\": [-1] }\n}", "5:24",
	    "uid -1 out of range");
}

static void bad_exempt_cgroups_are_rejected(void)
{
	BAD(HEAD "  \"resources\": {},\n  \"exempt\": { \"cgroups\": [\"system.slice\"] }\n}",
	    "5:27", "exempt.cgroups[0]: relative cgroup path 'system.slice'");
	BAD(HEAD "  \"resources\": {},\n  \"exempt\": { \"cgroups\": [\"/\"] }\n}", "5:27",
	    "cgroup '/' would exempt every process");
}

static void duplicate_path_across_resources_names_both(void)
{
	BAD(HEAD "  \"resources\": {\n"
		 "    \"a\": { \"open\": [\"/etc/app/secrets\"] },\n"
		 "    \"b\": { \"exec\": [\"/bin/x\"], \"open\": [\"/etc/app/secrets/\"] }\n"
		 "  }\n}",
	    "6:41",
	    "resources.b.open[0]: path '/etc/app/secrets' is listed by both resource 'a' "
	    "(t.json:5:21) and resource 'b'");
}

static void duplicate_network_across_resources_names_both(void)
{
	BAD(HEAD "  \"resources\": {\n"
		 "    \"a\": { \"connect\": [\"10.0.5.0/24:5432\"] },\n"
		 "    \"b\": { \"connect\": [\"10.0.0.0/8\", \"[::ffff:10.0.5.0/120]:5432\"] }\n"
		 "  }\n}",
	    "6:38",
	    "network '[::ffff:10.0.5.0/120]:5432' is listed by both resource 'a' (t.json:5:24) "
	    "and resource 'b'");
}

static void duplicate_in_one_list_is_an_error(void)
{
	BAD(HEAD
	    "  \"resources\": { \"a\": { \"exec\": [\"/bin/x\", \"/bin/y\", \"/bin/x\"] } }\n}",
	    "4:54", "path '/bin/x' is listed twice in resource 'a' (first at t.json:4:34)");
}

static void empty_entry_list_is_an_error(void)
{
	BAD(HEAD "  \"resources\": {\n    \"psql\": { \"exec\": [] }\n  }\n}", "5:23",
	    "resources.psql.exec: empty 'exec' list (expected at least one entry");
	BAD(HEAD "  \"resources\": {\n    \"psql\": {}\n  }\n}", "5:13",
	    "resources.psql: resource 'psql' has no entries");
	BAD(HEAD "  \"resources\": {\n    \"psql\": { \"exec\": \"/usr/bin/psql\" }\n  }\n}",
	    "5:23", "expected a non-empty array of strings, got a string");
	BAD(HEAD "  \"resources\": {\n    \"psql\": { \"exec\": [42] }\n  }\n}", "5:24",
	    "resources.psql.exec[0]: expected a string, got an integer");
}

static void admins_rules_grants_types_are_checked(void)
{
	BAD(HEAD "  \"resources\": {},\n  \"admins\": \"root\"\n}", "5:13",
	    "admins: expected an array of strings, got a string");
	BAD(HEAD "  \"resources\": {},\n  \"rules\": [{}, []]\n}", "5:13",
	    "rules[0]: missing key 'resources'");
	BAD(HEAD "  \"resources\": {},\n  \"grants\": [\"x\"]\n}", "5:14",
	    "grants[0]: expected an object, got a string");
}

/* The position scanner must step over strings with escapes, nested values and UTF-8. */
static void error_position_survives_escapes_nesting_and_utf8(void)
{
	BAD(HEAD
	    "  \"admins\": [\"{[\\\"\", \"]}\\\\\", \"\\u00e9\"],\n"
	    "  \"rules\": [{\"a\": [[{\"}\": \"]\"}]], \"b\": {\"c\": [1, 2.5e3, true, null]}}],\n"
	    "  \"resources\": { \"r\\u00e9\": { \"exec\": [\"/x\"] } }\n}",
	    "6:18", "bad resource name 'r\xc3\xa9'");
	BAD(HEAD
	    "  \"resources\": { \"\\u0072\": { \"open\": [\"/\xc3\xa9\xc3\xa9\", \"x\"] } }\n}",
	    "4:46", "resources.r.open[1]: relative path 'x'");
}

static void too_many_entries_points_at_first_extra(void)
{
	size_t cap = 64 + 300 * 16;
	char *t = malloc(cap), *p = t;

	CHECK(t, "malloc");
	p += sprintf(p, "{\"version\":1,\"serial\":1,\"resources\":{\"r\":{\"open\":[\n");
	for (int i = 0; i < 300; i++)
		p += sprintf(p, "\"/f%d\"%s\n", i, i < 299 ? "," : "");
	sprintf(p, "]}}}");
	BAD(t, "258:1", "resources.r.open[256]: too many entries in resource 'r' (max 256)");
	free(t);
}

static void too_many_resources_is_an_error(void)
{
	size_t cap = 64 + 4097 * 40;
	char *t = malloc(cap), *p = t;
	struct policy *pol;

	CHECK(t, "malloc");
	p += sprintf(p, "{\"version\":1,\"serial\":1,\"resources\":{\n");
	for (int i = 0; i < 4096; i++)
		p += sprintf(p, "\"r%d\":{\"open\":[\"/f%d\"]},\n", i, i);
	sprintf(p, "\"last\":{\"open\":[\"/last\"]}}}");
	BAD(t, "1:37", "resources: too many resources (4097, max 4096)");
	/* exactly the limit is fine */
	p = strrchr(t, ',');
	strcpy(p, "}}");
	pol = parse(t);
	CHECK(pol, "4096 resources refused: %s", err);
	CHECK_INT(pol->n_resources, 4096);
	policy_free(pol);
	free(t);
}

static void oversized_text_is_efbig(void)
{
	size_t len = POLICY_MAX_FILE_SIZE + 1;
	char *t = malloc(len);
	struct policy *p = NULL;

	CHECK(t, "malloc");
	memset(t, ' ', len);
	CHECK_INT(policy_parse("big.json", t, len, &p, err, sizeof(err)), -EFBIG);
	CHECK(!p, "policy set");
	CHECK_CONTAINS(err, "big.json:1:1: policy file is 4194305 bytes (max 4194304, 4 MiB)");
	free(t);
}

/* ---- files and directories ---- */

static char dir[64];

static int mk_dir(void)
{
	snprintf(dir, sizeof(dir), "%.40s/jitd-policy.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(dir) ? 0 : -errno;
}

static int put(const char *name, const char *text)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return util_write_atomic(path, text, strlen(text), 0644);
}

static void rm_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
}

static void load_single_file_uses_its_path_in_errors(void)
{
	struct policy *p = NULL;
	char path[256], want[512];

	CHECK_INT(mk_dir(), 0);
	CHECK_INT(put("p.json", full_policy), 0);
	snprintf(path, sizeof(path), "%s/p.json", dir);
	CHECK_INT(policy_load(path, &p, err, sizeof(err)), 0);
	CHECK_STR(p->source, path);
	CHECK_INT(p->n_resources, 3);
	policy_free(p);

	CHECK_INT(put("p.json", "{\"version\": 1, \"serial\": 1, \"resources\": 7}"), 0);
	CHECK_INT(policy_load(path, &p, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s:1:42: resources: expected an object mapping resource names to resources, "
		 "got an integer",
		 path);
	CHECK_STR(err, want);

	snprintf(path, sizeof(path), "%s/missing.json", dir);
	CHECK_INT(policy_load(path, &p, err, sizeof(err)), -ENOENT);
	CHECK_CONTAINS(err, "missing.json:1:1: cannot read policy: ");
	rm_dir();
}

/* What the watcher compares: the digest of the files, before any parse, equals the loaded
 * policy's; another byte or (in a directory) another file name changes it. */
static void digest_is_the_files_bytes_and_names(void)
{
	unsigned char d[32], d2[32];
	struct policy *p = NULL;
	char path[256];

	CHECK_INT(mk_dir(), 0);
	CHECK_INT(put("10-a.json", full_policy), 0);
	CHECK_INT(policy_load(dir, &p, err, sizeof(err)), 0);
	CHECK(p->has_digest, "no digest");
	CHECK_INT(policy_digest(dir, d), 0);
	CHECK(!memcmp(d, p->digest, sizeof(d)), "digest before the parse differs");
	policy_free(p);
	CHECK_INT(put("10-a.json", full_policy), 0); /* the same bytes written again */
	CHECK_INT(policy_digest(dir, d2), 0);
	CHECK(!memcmp(d, d2, sizeof(d)), "same bytes, other digest");
	snprintf(path, sizeof(path), "%s/10-a.json", dir);
	CHECK_INT(policy_digest(path, d2), 0);
	CHECK(!memcmp(d, d2, sizeof(d)), "the file alone and its directory differ");
	{
		char *t = strdup(full_policy);

		CHECK(t && strlen(t) > 2, "strdup");
		t[strlen(t) - 2] = t[strlen(t) - 2] == ' ' ? '\n' : ' ';
		CHECK_INT(put("10-a.json", t), 0);
		CHECK_INT(policy_digest(dir, d2), 0);
		CHECK(memcmp(d, d2, sizeof(d)), "one byte changed, same digest");
		free(t);
	}
	CHECK_INT(put("10-a.json", full_policy), 0);
	snprintf(path, sizeof(path), "%s/10-a.json", dir);
	{
		char to[256];

		snprintf(to, sizeof(to), "%s/20-a.json", dir);
		CHECK_INT(rename(path, to), 0);
	}
	CHECK_INT(policy_digest(dir, d2), 0);
	CHECK(memcmp(d, d2, sizeof(d)), "file renamed, same digest");
	CHECK_INT(policy_digest("/nonexistent/jitd-policy", d2), -ENOENT);
	rm_dir();
}

static void load_refuses_files_over_4mib(void)
{
	char path[256];
	struct policy *p = NULL;
	int fd;

	CHECK_INT(mk_dir(), 0);
	snprintf(path, sizeof(path), "%s/big.json", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	CHECK(fd >= 0 && ftruncate(fd, POLICY_MAX_FILE_SIZE + 1) == 0, "create big file");
	close(fd);
	CHECK_INT(policy_load(path, &p, err, sizeof(err)), -EFBIG);
	CHECK_CONTAINS(err, "big.json:1:1: policy file is larger than 4194304 bytes (4 MiB)");
	rm_dir();
}

static void directory_merges_files_in_name_order(void)
{
	struct policy *p = NULL;
	char sub[128];

	CHECK_INT(mk_dir(), 0);
	CHECK_INT(put("20-db.json",
		      "{\"version\": 1, \"serial\": 7, \"resources\": {\n"
		      "  \"db\": { \"connect\": [\"10.0.5.0/24:5432\"] } },\n"
		      "  \"exempt\": { \"uids\": [\"nobody\"], \"cgroups\": [\"/b\"] } }"),
		  0);
	CHECK_INT(put("10-base.json", "{\"version\": 1, \"serial\": 9, \"resources\": {\n"
				      "  \"psql\": { \"exec\": [\"/usr/bin/psql\"] } },\n"
				      "  \"exempt\": { \"uids\": [0], \"cgroups\": [\"/a\"] } }"),
		  0);
	CHECK_INT(put("30-empty.json", "{\"version\": 1, \"serial\": 3, \"resources\": {}}"), 0);
	/* ignored: hidden, other suffixes, directories */
	CHECK_INT(put(".hidden.json", "not json"), 0);
	CHECK_INT(put("README", "not json"), 0);
	CHECK_INT(put("40-x.json.bak", "not json"), 0);
	snprintf(sub, sizeof(sub), "%s/50-dir.json", dir);
	CHECK(mkdir(sub, 0755) == 0, "mkdir");

	CHECK_INT(policy_load(dir, &p, err, sizeof(err)), 0);
	CHECK_STR(p->source, dir);
	CHECK_INT(p->version, 1);
	CHECK_INT(p->serial, 9);
	CHECK_INT(p->n_resources, 2);
	CHECK_STR(p->resources[0].name, "psql");
	CHECK_STR(p->resources[1].name, "db");
	CHECK_INT(p->resources[1].entries[0].prefix, 120);
	CHECK_INT(p->n_exempt_uids, 2);
	CHECK_INT(p->exempt_uids[0], 0);
	CHECK_INT(p->exempt_uids[1], getpwnam("nobody")->pw_uid);
	CHECK_INT(p->n_exempt_cgroups, 2);
	CHECK_STR(p->exempt_cgroups[0], "/a");
	CHECK_STR(p->exempt_cgroups[1], "/b");
	policy_free(p);
	rm_dir();
}

/* Drop-ins are partial: one file only resources, another only rules, a third only admins;
 * the serial is the highest any file states. A single file stays complete. */
static void directory_drop_ins_are_partial(void)
{
	struct policy *p = NULL;
	char path[128];

	CHECK_INT(mk_dir(), 0);
	CHECK_INT(put("10-resources.json", "{\"version\": 1, \"serial\": 4, \"resources\": {\n"
					   "  \"db\": { \"connect\": [\"10.0.5.0/24:5432\"] } } }"),
		  0);
	CHECK_INT(put("20-rules.json", "{\"rules\": [{\"resources\": [\"db\"], \"requesters\": "
				       "[\"user:root\"], \"max_duration\": \"1h\"}]}"),
		  0);
	CHECK_INT(put("30-admins.json", "{\"serial\": 11, \"admins\": [\"user:daemon\"]}"), 0);
	CHECK_INT(policy_load(dir, &p, err, sizeof(err)), 0);
	CHECK(p, "partial drop-ins refused: %s", err);
	if (p) {
		CHECK_INT(p->version, 1);
		CHECK_INT(p->serial, 11);
		CHECK_INT(p->n_resources, 1);
		CHECK_INT(p->n_rules, 1);
		CHECK_INT(p->n_admins, 1);
		policy_free(p);
	}
	p = NULL;
	/* a rule naming a resource no drop-in defines is still an error, in its file */
	CHECK_INT(put("40-more.json", "{\"rules\": [{\"resources\": [\"nope\"], \"requesters\": "
				      "[\"user:root\"], \"max_duration\": \"1h\"}]}"),
		  0);
	CHECK(policy_load(dir, &p, err, sizeof(err)) < 0, "unknown resource in a drop-in accepted");
	CHECK_CONTAINS(err, "40-more.json:");
	CHECK_CONTAINS(err, "unknown resource 'nope'");
	/* no drop-in states a serial: 0 */
	snprintf(path, sizeof(path), "%s/40-more.json", dir);
	unlink(path);
	CHECK_INT(put("10-resources.json", "{\"resources\": {}}"), 0);
	CHECK_INT(put("20-rules.json", "{}"), 0);
	CHECK_INT(put("30-admins.json", "{\"admins\": []}"), 0);
	CHECK_INT(policy_load(dir, &p, err, sizeof(err)), 0);
	if (p)
		CHECK_INT(p->serial, 0);
	policy_free(p);
	/* one file on its own is the whole policy: version, serial and resources required */
	snprintf(path, sizeof(path), "%s/30-admins.json", dir);
	p = NULL;
	CHECK(policy_load(path, &p, err, sizeof(err)) < 0, "a partial single file accepted");
	CHECK_CONTAINS(err, "missing key 'version'");
	rm_dir();
}

static void directory_duplicate_resource_names_both_files(void)
{
	struct policy *p = (struct policy *)1;
	char want[512];

	CHECK_INT(mk_dir(), 0);
	CHECK_INT(put("a.json", "{\"version\": 1, \"serial\": 1, \"resources\": {\n"
				"  \"db\": { \"connect\": [\"10.0.5.0/24:5432\"] } } }"),
		  0);
	CHECK_INT(put("b.json", "{\"version\": 1, \"serial\": 2, \"resources\": {\n"
				"  \"x\": { \"open\": [\"/x\"] },\n"
				"  \"db\": { \"connect\": [\"10.0.6.0/24:5432\"] } } }"),
		  0);
	CHECK_INT(policy_load(dir, &p, err, sizeof(err)), -EINVAL);
	CHECK(!p, "policy set on error");
	snprintf(want, sizeof(want),
		 "%s/b.json:3:3: resources: resource 'db' is already defined in %s/a.json:2:3", dir,
		 dir);
	CHECK_CONTAINS(err, want);
	rm_dir();
}

static void directory_duplicate_path_names_both_files(void)
{
	struct policy *p = NULL;
	char want[512];

	CHECK_INT(mk_dir(), 0);
	CHECK_INT(put("a.json", "{\"version\": 1, \"serial\": 1, \"resources\": {\n"
				"  \"s1\": { \"open\": [\"/etc/app\"] } } }"),
		  0);
	CHECK_INT(put("b.json", "{\"version\": 1, \"serial\": 2, \"resources\": {\n"
				"  \"s2\": { \"open\": [\"/etc/app/\"] } } }"),
		  0);
	CHECK_INT(policy_load(dir, &p, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s/b.json:2:20: resources.s2.open[0]: path '/etc/app' is listed by both "
		 "resource 's1' (%s/a.json:2:20) and resource 's2'",
		 dir, dir);
	CHECK_CONTAINS(err, want);
	rm_dir();
}

static void directory_error_in_one_file_names_that_file(void)
{
	struct policy *p = NULL;
	char want[512];

	CHECK_INT(mk_dir(), 0);
	CHECK_INT(put("a.json", "{\"version\": 1, \"serial\": 1, \"resources\": {}}"), 0);
	CHECK_INT(put("b.json", "{\"version\": 1,\n \"serial\": 1,\n \"resources\": {},\n}"), 0);
	CHECK_INT(policy_load(dir, &p, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s/b.json:4:1: invalid JSON", dir);
	CHECK_CONTAINS(err, want);
	rm_dir();
}

static void empty_directory_is_an_error(void)
{
	struct policy *p = NULL;
	char want[256];

	CHECK_INT(mk_dir(), 0);
	CHECK_INT(put("README", "x"), 0);
	CHECK(policy_load(dir, &p, err, sizeof(err)) < 0, "empty directory accepted");
	CHECK(!p, "policy set");
	snprintf(want, sizeof(want), "%s:1:1: no policy files in directory", dir);
	CHECK_CONTAINS(err, want);
	rm_dir();
}

/* "hosts" on rules and grants select where they apply; "fleet": {"labels"} names the host. */
static void hosts_selectors_pick_rules_and_grants(void)
{
	struct policy *p =
		parse("{\"version\":1,\"serial\":1,\"resources\":{\"s\":{\"open\":[\"/srv/s\"]}},"
		      "\"fleet\":{\"labels\":{\"role\":\"db\",\"zone\":\"eu-1\"}},"
		      "\"rules\":[{\"resources\":[\"s\"],\"requesters\":[\"user:daemon\"],\"max_"
		      "duration\":\"1h\","
		      "\"hosts\":{\"role\":\"db\"}},{\"resources\":[\"s\"],\"requesters\":"
		      "[\"user:bin\"],\"max_duration\":\"1h\",\"hosts\":{\"role\":\"web\"}},{"
		      "\"resources\":[\"s\"],\"max_duration\":\"1h\","
		      "\"requesters\":[\"user:sys\"]}],\"grants\":[{\"resource\":\"s\",\"uid\":5,"
		      "\"not_after\":\"2099-01-01T00:00:00Z\",\"hosts\":{\"zone\":\"us-1\"}}]}");
	char res[1][POLICY_MAX_NAME] = {"s"}, e[256];
	json_t *db = json_pack("{s:s}", "role", "db");

	CHECK(p != NULL, "parse: %s", err);
	if (!p)
		return;
	CHECK_STR(json_string_value(json_object_get(p->fleet_labels, "zone")), "eu-1");
	/* parsed alone: rules with "hosts" apply nowhere until the host is known */
	CHECK(!p->rules[0].here && !p->rules[1].here && p->rules[2].here, "here before select");
	policy_select_host(p, db);
	CHECK(p->rules[0].here && !p->rules[1].here && p->rules[2].here, "here for role=db");
	CHECK(!p->grants[0].here, "grant for zone us-1 is not here");
	CHECK(policy_hosts_match(db, NULL), "no selector matches every host");
	CHECK(!policy_hosts_match(NULL, p->rules[0].hosts), "no labels match no selector");
	json_decref(db);
	policy_free(p);
	(void)res;
	(void)e;
	BAD(HEAD "  \"resources\": {},\n  \"fleet\": { \"labels\": { \"role\": \"d b\" } }\n}",
	    "5:34", "fleet.labels.role: label 'role=d b': names and values are 1..63");
	BAD(HEAD "  \"resources\": {},\n  \"fleet\": { \"labels\": { \"role\": 1 } }\n}", "5:34",
	    "label values are strings");
	BAD(HEAD "  \"resources\": {},\n  \"fleet\": { \"label\": {} }\n}", "5:14",
	    "unknown key 'label'");
}

/* "revoke": "open" sets revoke_open; "new" and no key leave it false (today's behaviour). */
static void resource_revoke_open_is_parsed_and_new_is_the_default(void)
{
	struct policy *p = parse("{\"version\":1,\"serial\":1,\"resources\":{"
				 "\"a\":{\"open\":[\"/srv/a\"],\"revoke\":\"open\"},"
				 "\"b\":{\"revoke\":\"new\",\"connect\":[\"10.0.0.1:5432\"]},"
				 "\"c\":{\"exec\":[\"/bin/c\"]}}}");

	CHECK(p != NULL, "parse: %s", err);
	if (!p)
		return;
	CHECK(policy_find(p, "a")->revoke_open, "a: revoke open not set");
	CHECK(!policy_find(p, "b")->revoke_open, "b: revoke new set revoke_open");
	CHECK(!policy_find(p, "c")->revoke_open, "c: revoke_open without the key");
	/* the key is no entry: a's one path, b's one network */
	CHECK_INT(policy_find(p, "a")->n_entries, 1);
	CHECK_INT(policy_find(p, "b")->n_entries, 1);
	CHECK_INT(policy_find(p, "b")->entries[0].kind, POLICY_CONNECT);
	policy_free(p);
}

/* Any other value, or a resource of nothing but "revoke", is refused naming the resource. */
static void resource_revoke_other_values_are_errors_naming_the_resource(void)
{
	BAD(HEAD
	    "  \"resources\": {\n    \"db\": { \"open\": [\"/srv/db\"], \"revoke\": \"close\" }\n"
	    "  }\n}",
	    "5:44",
	    "resources.db.revoke: resource 'db': revoke is 'close' (expected \"open\": a grant's "
	    "end also cuts what is already open, or \"new\", the default: only new opens, "
	    "execs and connects are refused)");
	BAD(HEAD "  \"resources\": {\n    \"db\": { \"open\": [\"/srv/db\"], \"revoke\": true }\n"
		 "  }\n}",
	    "5:44", "resource 'db': revoke is true (expected \"open\"");
	BAD(HEAD "  \"resources\": {\n    \"db\": { \"revoke\": \"OPEN\", \"open\": [\"/x\"] }\n"
		 "  }\n}",
	    "5:23", "resource 'db': revoke is 'OPEN'");
	BAD(HEAD "  \"resources\": {\n    \"db\": { \"revoke\": \"open\" }\n  }\n}", "5:11",
	    "resources.db: resource 'db' has no entries");
}

/* A rule's "on_end": "kill" sets on_end_kill; "keep" and no key leave it false. */
static void rule_on_end_kill_is_parsed_and_keep_is_the_default(void)
{
	struct policy *p =
		parse("{\"version\":1,\"serial\":1,\"resources\":{\"s\":{\"open\":[\"/srv/s\"]}},"
		      "\"rules\":[{\"resources\":[\"s\"],\"requesters\":[\"user:daemon\"],"
		      "\"max_duration\":\"1h\",\"on_end\":\"kill\"},"
		      "{\"resources\":[\"s\"],\"requesters\":[\"user:bin\"],"
		      "\"max_duration\":\"1h\",\"on_end\":\"keep\"},"
		      "{\"resources\":[\"s\"],\"requesters\":[\"user:sys\"],"
		      "\"max_duration\":\"1h\"}]}");

	CHECK(p != NULL, "parse: %s", err);
	if (!p)
		return;
	CHECK_INT(p->n_rules, 3);
	CHECK(p->rules[0].on_end_kill, "on_end kill not set");
	CHECK(!p->rules[1].on_end_kill, "on_end keep set on_end_kill");
	CHECK(!p->rules[2].on_end_kill, "on_end_kill without the key");
	policy_free(p);
}

static void rule_on_end_other_values_are_errors(void)
{
#define RULE_HEAD                                                                                  \
	HEAD "  \"resources\": { \"s\": { \"open\": [\"/srv/s\"] } },\n"                           \
	     "  \"rules\": [{ \"resources\": [\"s\"], \"requesters\": [\"user:daemon\"],\n"        \
	     "             \"max_duration\": \"1h\", "
	BAD(RULE_HEAD "\"on_end\": \"terminate\" }]\n}", "6:46",
	    "rules[0].on_end: on_end is 'terminate' (expected \"keep\", the default, or "
	    "\"kill\": kill the process tree of a cgroup grant when it expires or is revoked)");
	BAD(RULE_HEAD "\"on_end\": 1 }]\n}", "6:46", "on_end is an integer (expected");
	BAD(RULE_HEAD "\"on-end\": \"kill\" }]\n}", "6:36",
	    "rules[0]: unknown key 'on-end' (allowed: resources, requesters, max_duration, "
	    "approvals, approvers, reason, reason_pattern, hosts, on_end, break_glass_max, "
	    "max_idle)");
#undef RULE_HEAD
}

static void rule_break_glass_max_is_parsed_and_absent_means_none(void)
{
	struct policy *p =
		parse("{\"version\":1,\"serial\":1,\"resources\":{\"s\":{\"open\":[\"/srv/s\"]}},"
		      "\"rules\":[{\"resources\":[\"s\"],\"requesters\":[\"user:daemon\"],"
		      "\"max_duration\":\"1h\",\"break_glass_max\":\"30m\"},"
		      "{\"resources\":[\"s\"],\"requesters\":[\"user:bin\"],"
		      "\"max_duration\":\"1h\",\"break_glass_max\":3600},"
		      "{\"resources\":[\"s\"],\"requesters\":[\"user:sys\"],"
		      "\"max_duration\":\"1h\"}]}");

	CHECK(p != NULL, "parse: %s", err);
	CHECK_INT(p->rules[0].break_glass_max_s, 1800);
	CHECK_INT(p->rules[1].break_glass_max_s, 3600); /* equal to max_duration: allowed */
	CHECK_INT(p->rules[2].break_glass_max_s, 0);
	policy_free(p);
}

static void rule_break_glass_max_errors_name_the_rule(void)
{
#define RULE_HEAD                                                                                  \
	HEAD "  \"resources\": { \"s\": { \"open\": [\"/srv/s\"] } },\n"                           \
	     "  \"rules\": [{ \"resources\": [\"s\"], \"requesters\": [\"user:daemon\"],\n"        \
	     "             \"max_duration\": \"1h\", "
	BAD(RULE_HEAD "\"break_glass_max\": \"2h\" }]\n}", "6:55",
	    "rules[0].break_glass_max: break_glass_max 2h is longer than the rule's max_duration "
	    "1h");
	BAD(RULE_HEAD "\"break_glass_max\": \"soon\" }]\n}", "6:55",
	    "rules[0].break_glass_max: bad duration 'soon'");
	BAD(RULE_HEAD "\"break_glass_max\": 0 }]\n}", "6:55",
	    "rules[0].break_glass_max: duration 0 s out of range");
	BAD(RULE_HEAD "\"break_glass_max\": true }]\n}", "6:55",
	    "rules[0].break_glass_max: expected a duration");
#undef RULE_HEAD
}

/* "alerts": the plan's example parses; without it the defaults (tamper and break-glass
 * only); each error names file:line:column and the field. */
static void alerts_parsed_defaults_and_errors(void)
{
	struct policy *p =
		parse(HEAD "  \"resources\": {},\n  \"alerts\": {\n"
			   "    \"denials\": {\"count\": 20, \"per\": \"1m\"},\n"
			   "    \"refused_requests\": {\"count\": 5, \"per\": \"10m\"},\n"
			   "    \"hours\": {\"days\": [\"mon\", \"fri\"], \"from\": \"08:00\", "
			   "\"to\": \"19:00\"},\n"
			   "    \"break_glass\": true, \"tamper\": false, \"quiet\": \"5m\", "
			   "\"max_per_hour\": 30\n  }\n}");

	CHECK(p, "%s", err);
	CHECK(p->has_alerts, "has_alerts");
	CHECK_INT(p->alerts.denials.count, 20);
	CHECK_INT(p->alerts.denials.per_s, 60);
	CHECK_INT(p->alerts.refused_requests.count, 5);
	CHECK_INT(p->alerts.refused_requests.per_s, 600);
	CHECK(p->alerts.hours, "hours");
	CHECK_INT(p->alerts.days, (1 << 1) | (1 << 5));
	CHECK_INT(p->alerts.from_min, 480);
	CHECK_INT(p->alerts.to_min, 1140);
	CHECK(p->alerts.break_glass && !p->alerts.tamper, "break_glass, tamper");
	CHECK_INT(p->alerts.quiet_s, 300);
	CHECK_INT(p->alerts.max_per_hour, 30);
	policy_free(p);
	/* present but partial: counted kinds left out are off, tamper/break_glass stay on */
	p = parse(HEAD "  \"resources\": {},\n  \"alerts\": {\"quiet\": \"1m\"}\n}");
	CHECK(p, "%s", err);
	CHECK(!p->alerts.denials.count && !p->alerts.hours, "counted kinds off");
	CHECK(p->alerts.tamper && p->alerts.break_glass, "tamper and break_glass on");
	CHECK_INT(p->alerts.max_per_hour, 60);
	policy_free(p);
	p = parse(HEAD "  \"resources\": {}\n}");
	CHECK(p && !p->has_alerts, "no alerts key");
	policy_free(p);
	BAD(HEAD "  \"resources\": {},\n  \"alerts\": {\"hours\": {\"from\": \"24:00\", "
		 "\"to\": \"08:00\"}}\n}",
	    "5:32", "alerts.hours.from: expected a time of day");
	BAD(HEAD "  \"resources\": {},\n  \"alerts\": {\"bursts\": 1}\n}", "5:14",
	    "unknown key 'bursts'");
	BAD(HEAD "  \"resources\": {},\n  \"alerts\": {\"denials\": {\"count\": 0, "
		 "\"per\": \"1m\"}}\n}",
	    "5:35", "alerts.denials.count: expected a number of events, 1 to 100000");
	BAD(HEAD "  \"resources\": {},\n  \"alerts\": {\"denials\": {\"count\": 3}}\n}", "5:25",
	    "missing key 'per'");
	BAD(HEAD "  \"resources\": {},\n  \"alerts\": {\"refused_requests\": {\"count\": 3, "
		 "\"per\": \"5s\"}}\n}",
	    "5:54", "alerts.refused_requests.per: duration 5s out of range");
	BAD(HEAD "  \"resources\": {},\n  \"alerts\": {\"hours\": {\"days\": [\"mon\", "
		 "\"someday\"], \"from\": \"08:00\", \"to\": \"09:00\"}}\n}",
	    "5:32", "day 1: expected one of sun");
	BAD(HEAD "  \"resources\": {},\n  \"alerts\": {\"tamper\": \"yes\"}\n}", "5:24",
	    "alerts.tamper: expected true or false");
	BAD(HEAD "  \"resources\": {},\n  \"alerts\": {\"max_per_hour\": 0}\n}", "5:30",
	    "alerts.max_per_hour");
}

int main(void)
{
	RUN(full_example_parses_with_correct_values);
	RUN(alerts_parsed_defaults_and_errors);
	RUN(hosts_selectors_pick_rules_and_grants);
	RUN(minimal_policy_with_empty_resources_parses);
	RUN(paths_root_and_exec_open_same_resource_are_accepted);
	RUN(syntax_error_reports_jansson_position);
	RUN(duplicate_json_key_is_an_error);
	RUN(top_level_must_be_an_object);
	RUN(wrong_version_points_at_value);
	RUN(missing_serial_points_at_object);
	RUN(bad_serial_is_rejected);
	RUN(bad_resource_name_points_at_key);
	RUN(relative_path_points_at_value);
	RUN(dotdot_and_empty_components_are_rejected);
	RUN(bad_cidr_prefix_is_rejected);
	RUN(host_bits_set_suggests_network);
	RUN(bad_port_is_rejected);
	RUN(ipv6_without_brackets_is_rejected);
	RUN(unknown_keys_are_errors_naming_allowed_keys);
	RUN(unknown_user_is_an_error);
	RUN(bad_exempt_cgroups_are_rejected);
	RUN(duplicate_path_across_resources_names_both);
	RUN(duplicate_network_across_resources_names_both);
	RUN(duplicate_in_one_list_is_an_error);
	RUN(empty_entry_list_is_an_error);
	RUN(admins_rules_grants_types_are_checked);
	RUN(error_position_survives_escapes_nesting_and_utf8);
	RUN(too_many_entries_points_at_first_extra);
	RUN(too_many_resources_is_an_error);
	RUN(oversized_text_is_efbig);
	RUN(load_single_file_uses_its_path_in_errors);
	RUN(load_refuses_files_over_4mib);
	RUN(directory_merges_files_in_name_order);
	RUN(directory_drop_ins_are_partial);
	RUN(directory_duplicate_resource_names_both_files);
	RUN(directory_duplicate_path_names_both_files);
	RUN(directory_error_in_one_file_names_that_file);
	RUN(empty_directory_is_an_error);
	RUN(exempts_uid_and_cgroup_subtree);
	RUN(resource_revoke_open_is_parsed_and_new_is_the_default);
	RUN(resource_revoke_other_values_are_errors_naming_the_resource);
	RUN(rule_on_end_kill_is_parsed_and_keep_is_the_default);
	RUN(rule_on_end_other_values_are_errors);
	RUN(rule_break_glass_max_is_parsed_and_absent_means_none);
	RUN(rule_break_glass_max_errors_name_the_rule);
	RUN(digest_is_the_files_bytes_and_names);
	return tl_exit();
}
