// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the policy's "notify" targets (lib/policy_workflow.c, merged by policy.c). */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"
#include "testlib.h"
#include "util.h"

static char err[1024];

#define HEAD                                                                                       \
	"{\"version\": 1, \"serial\": 1,\n"                                                        \
	" \"resources\": {\"db\": {\"open\": [\"/srv/db\"]}, \"psql\": {\"exec\": "                \
	"[\"/usr/bin/psql\"]}},\n"

static struct policy *parse(const char *text)
{
	struct policy *p = NULL;

	err[0] = '\0';
	if (policy_parse("t.json", text, strlen(text), &p, err, sizeof(err)))
		return NULL;
	return p;
}

/* A policy with one target whose object is body (the rest of HEAD's policy fixed). */
static struct policy *parse_target(const char *body)
{
	char text[4096];

	snprintf(text, sizeof(text), HEAD " \"notify\": [\n  %s\n ]}", body);
	return parse(text);
}

static void example_targets_parse_with_defaults_and_resolved_user(void)
{
	struct policy *p = parse(
		HEAD
		" \"notify\": [\n"
		"  {\"name\": \"slack\", \"events\": [\"requested\", \"break_glass\", \"alert\"],\n"
		"   \"command\": [\"/usr/bin/curl\", \"-sS\", \"--data-binary\", \"@-\", "
		"\"https://x\"],\n"
		"   \"user\": \"nobody\", \"timeout\": \"5s\", \"retries\": 3, \"retry_delay\": "
		"2,\n"
		"   \"resources\": [\"db\"]},\n"
		"  {\"name\": \"log\", \"events\": [\"granted\"], \"command\": [\"/bin/true\"],\n"
		"   \"user\": \"user:daemon\"}]}");
	const struct policy_notify *t;

	CHECK(p, "parse: %s", err);
	CHECK_INT(p->n_notify, 2);
	t = &p->notify[0];
	CHECK_STR(t->name, "slack");
	CHECK_INT(t->n_events, 3);
	CHECK_STR(t->events[2], "alert");
	CHECK_INT(t->argc, 5);
	CHECK_STR(t->argv[4], "https://x");
	CHECK(!t->argv[5], "argv not NULL-terminated");
	CHECK_INT(t->uid, getpwnam("nobody")->pw_uid);
	CHECK_INT(t->gid, getpwnam("nobody")->pw_gid);
	CHECK(t->n_groups >= 1, "no groups");
	CHECK_INT(t->timeout_s, 5);
	CHECK_INT(t->retries, 3);
	CHECK_INT(t->retry_delay_s, 2);
	CHECK_INT(t->n_resources, 1);
	CHECK(policy_notify_wants(t, "requested", "db"), "requested db");
	CHECK(!policy_notify_wants(t, "requested", "psql"), "psql is filtered out");
	CHECK(policy_notify_wants(t, "alert", NULL), "an alert without a resource passes");
	CHECK(!policy_notify_wants(t, "granted", "db"), "granted is not chosen");
	t = &p->notify[1];
	CHECK_STR(t->user, "daemon");
	CHECK_INT(t->timeout_s, 10);
	CHECK_INT(t->retries, 2);
	CHECK_INT(t->retry_delay_s, 10);
	CHECK(policy_notify_wants(t, "granted", "psql"), "no resources: all");
	policy_free(p);
}

static void a_policy_without_notify_has_no_targets(void)
{
	struct policy *p = parse(HEAD " \"rules\": []}");

	CHECK(p, "parse: %s", err);
	CHECK_INT(p->n_notify, 0);
	CHECK(!p->notify, "notify set");
	policy_free(p);
}

struct bad {
	const char *body, *want;
};

static void bad_targets_are_errors_naming_the_field(void)
{
	static const struct bad v[] = {
		{"{\"name\": \"a\", \"events\": [\"granted\"], \"command\": [\"curl\"], \"user\": "
		 "\"nobody\"}",
		 "t.json:4:52: notify[0].command[0]: the command must be an absolute path"},
		{"{\"name\": \"a\", \"events\": [\"granted\", \"opened\"], \"command\": "
		 "[\"/bin/true\"], "
		 "\"user\": \"nobody\"}",
		 "notify[0].events[1]: unknown event (expected one of requested"},
		{"{\"name\": \"a\", \"events\": [], \"command\": [\"/bin/true\"], \"user\": "
		 "\"nobody\"}",
		 "notify[0].events: expected an array of 1 to 16 strings"},
		{"{\"name\": \"a\", \"events\": [\"granted\"], \"command\": [\"/bin/true\"], "
		 "\"user\": "
		 "\"root\"}",
		 "notify[0].user: user 'root' is root"},
		{"{\"name\": \"a\", \"events\": [\"granted\"], \"command\": [\"/bin/true\"], "
		 "\"user\": "
		 "\"no-such-user-jitd\"}",
		 "notify[0].user: unknown user 'no-such-user-jitd'"},
		{"{\"name\": \"a\", \"events\": [\"granted\"], \"command\": [\"/bin/true\"]}",
		 "notify[0]: missing key 'user'"},
		{"{\"name\": \"a\", \"events\": [\"granted\"], \"command\": [\"/bin/true\"], "
		 "\"user\": "
		 "\"nobody\", \"timeout\": \"6m\"}",
		 "notify[0].timeout: at most 300s"},
		{"{\"name\": \"a\", \"events\": [\"granted\"], \"command\": [\"/bin/true\"], "
		 "\"user\": "
		 "\"nobody\", \"timeout\": 0}",
		 "notify[0].timeout: duration 0 s out of range"},
		{"{\"name\": \"a\", \"events\": [\"granted\"], \"command\": [\"/bin/true\"], "
		 "\"user\": "
		 "\"nobody\", \"retries\": 11}",
		 "notify[0].retries: expected an integer from 0 to 10"},
		{"{\"name\": \"a b\", \"events\": [\"granted\"], \"command\": [\"/bin/true\"], "
		 "\"user\": \"nobody\"}",
		 "notify[0].name: expected a name"},
		{"{\"name\": \"a\", \"events\": [\"granted\"], \"command\": [\"/bin/true\"], "
		 "\"user\": "
		 "\"nobody\", \"shell\": true}",
		 "notify[0]: unknown key 'shell'"},
		{"{\"name\": \"a\", \"events\": [\"granted\"], \"command\": [\"/bin/true\"], "
		 "\"user\": "
		 "\"nobody\", \"resources\": [\"nope\"]}",
		 "t.json:4:98: notify[0].resources[0]: unknown resource 'nope'"},
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct policy *p = parse_target(v[i].body);

		CHECK(!p, "case %zu parsed", i);
		CHECK(strstr(err, v[i].want), "case %zu: '%s' lacks '%s'", i, err, v[i].want);
	}
}

static void an_exempt_user_or_cgroup_is_refused(void)
{
	struct policy *p;

	p = parse(HEAD " \"exempt\": {\"uids\": [\"nobody\"]},\n"
		       " \"notify\": [{\"name\": \"a\", \"events\": [\"granted\"], \"command\": "
		       "[\"/bin/true\"], \"user\": \"nobody\"}]}");
	CHECK(!p, "exempt user accepted");
	CHECK_CONTAINS(err, "notify[0].user: user 'nobody' (uid ");
	CHECK_CONTAINS(err, "is exempt");
	p = parse(HEAD " \"exempt\": {\"cgroups\": [\"/jitd.notify\"]},\n"
		       " \"notify\": [{\"name\": \"a\", \"events\": [\"granted\"], \"command\": "
		       "[\"/bin/true\"], \"user\": \"nobody\"}]}");
	CHECK(!p, "exempt cgroup accepted");
	CHECK_CONTAINS(err, "exempts /jitd.notify");
	p = parse(HEAD " \"exempt\": {\"cgroups\": [\"/system.slice\"]},\n"
		       " \"notify\": [{\"name\": \"a\", \"events\": [\"granted\"], \"command\": "
		       "[\"/bin/true\"], \"user\": \"nobody\"}]}");
	CHECK(p, "/system.slice exempt: %s", err);
	policy_free(p);
}

static void a_name_given_twice_across_files_names_both(void)
{
	char dir[64], path[128], want[256];
	struct policy *p = NULL;
	static const char t[] = "{\"notify\": [{\"name\": \"pager\", \"events\": [\"granted\"], "
				"\"command\": [\"/bin/true\"], \"user\": \"nobody\"}]}";

	snprintf(dir, sizeof(dir), "/tmp/jitd-pnotify.XXXXXX");
	CHECK(mkdtemp(dir), "mkdtemp");
	snprintf(path, sizeof(path), "%s/a.json", dir);
	CHECK_INT(util_write_atomic(path, HEAD " \"rules\": []}", strlen(HEAD " \"rules\": []}"),
				    0644),
		  0);
	snprintf(path, sizeof(path), "%s/b.json", dir);
	CHECK_INT(util_write_atomic(path, t, strlen(t), 0644), 0);
	snprintf(path, sizeof(path), "%s/c.json", dir);
	CHECK_INT(util_write_atomic(path, t, strlen(t), 0644), 0);
	CHECK_INT(policy_load(dir, &p, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s/c.json:1:22: notify[0].name: notify target 'pager' is already defined in "
		 "%s/b.json:1:22",
		 dir, dir);
	CHECK_CONTAINS(err, want);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CHECK_INT(system(path), 0);
}

int main(void)
{
	RUN(example_targets_parse_with_defaults_and_resolved_user);
	RUN(a_policy_without_notify_has_no_targets);
	RUN(bad_targets_are_errors_naming_the_field);
	RUN(an_exempt_user_or_cgroup_is_refused);
	RUN(a_name_given_twice_across_files_names_both);
	return tl_exit();
}
