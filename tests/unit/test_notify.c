// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of agent/notify.c on a real sd-event loop with real children: the host
 * agent's store, policy and audit file (tests/host_agent.h), no cgroup (a->cgroup_root is
 * NULL here; the VM test tests/vm/notify.sh checks the job cgroup). Run as root, the
 * commands run as nobody; otherwise as the caller.
 */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "host_agent.h"
#include "notify.h"
#include "testlib.h"
#include "util.h"

static struct agent A;
static char tmp[64];
static char user[64];

static void replace_all(char *b, size_t size, const char *word, const char *with)
{
	char *at;

	while ((at = strstr(b, word))) {
		char rest[4096];

		snprintf(rest, sizeof(rest), "%s", at + strlen(word));
		snprintf(at, size - (at - b), "%s%s", with, rest);
	}
}

/* host_policy with notify targets (TMP: the temp dir, USER: the user to run as); a fresh
 * temp dir and an empty audit file. */
static int set_target(const char *body)
{
	char text[8192], b[4096], path[256];
	size_t n = strlen(host_policy);

	snprintf(b, sizeof(b), "%s", body);
	replace_all(b, sizeof(b), "TMP", tmp);
	replace_all(b, sizeof(b), "USER", user);
	snprintf(text, sizeof(text), "%.*s,\"notify\":[%s]}", (int)(n - 1), host_policy, b);
	notify_stop(&A);
	snprintf(path, sizeof(path), "rm -rf %s/*", tmp);
	if (system(path))
		return -EIO;
	snprintf(path, sizeof(path), "%s/audit.jsonl", A.state_dir);
	if (truncate(path, 0))
		return -errno;
	return host_agent_reset(&A, text);
}

/* Run the loop until done() or ms milliseconds. */
static bool run_until(bool (*done)(void), int ms)
{
	int64_t end = util_now_ns(CLOCK_MONOTONIC) + (int64_t)ms * 1000000;

	while (util_now_ns(CLOCK_MONOTONIC) < end) {
		if (done && done())
			return true;
		sd_event_run(A.event, 10000);
	}
	return done ? done() : true;
}

static char *slurp(const char *name)
{
	char path[256], *text = NULL;

	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	if (util_read_file(path, 1 << 20, &text, NULL))
		return NULL;
	return text;
}

/* Audit records of event written since the file was last truncated. */
static int count_records(const char *event, char *last, size_t len)
{
	char path[256], *text = NULL, key[64];
	int n = 0;

	snprintf(path, sizeof(path), "%s/audit.jsonl", A.state_dir);
	snprintf(key, sizeof(key), "\"event\":\"%s\"", event);
	if (util_read_file(path, 16 << 20, &text, NULL))
		return 0;
	for (char *p = text; (p = strstr(p, key)); p++) {
		char *s = p, *e = strchr(p, '\n');

		while (s > text && s[-1] != '\n')
			s--;
		if (last)
			snprintf(last, len, "%.*s", (int)(e ? e - s : (long)strlen(s)), s);
		n++;
	}
	free(text);
	return n;
}

static void fire(const char *event, uint64_t grant_id)
{
	audit_agent_event(event, json_pack("{s:{s:I,s:s}}", "grant", "id", (json_int_t)grant_id,
					   "resource", "db"));
}

static bool no_jobs(void)
{
	return !A.notify.n_pending;
}

static int start(unsigned jobs, unsigned queue)
{
	A.cgroup_root = NULL;
	return notify_start(&A, jobs, queue);
}

static void a_request_reaches_the_command_with_approvers_as_the_user(void)
{
	char body[512], *out;
	static const char req[] = "{\"op\":\"request\",\"resources\":[\"db\"],\"duration_s\":600,"
				  "\"reason\":\"INC-42 \\\"quoted\\\"\"}";
	json_t *reply, *p;

	snprintf(body, sizeof(body),
		 "{\"name\":\"file\",\"events\":[\"requested\"],\"command\":[\"/bin/sh\",\"-c\","
		 "\"cat > TMP/out; id -u > TMP/uid\"],\"user\":\"%s\"}",
		 user);
	CHECK_INT(set_target(body), 0);
	CHECK_INT(start(4, 16), 0);
	reply = host_call(&A, 1, req, strlen(req));
	CHECK(json_is_true(json_object_get(reply, "ok")), "request refused: %s",
	      json_string_value(json_object_get(reply, "error")));
	json_decref(reply);
	CHECK(run_until(no_jobs, 5000), "the job did not end");
	out = slurp("out");
	CHECK(out, "no payload written");
	p = json_loads(out, 0, NULL);
	free(out);
	CHECK(p, "payload is not JSON");
	CHECK_STR(json_string_value(json_object_get(p, "event")), "requested");
	CHECK_STR(json_string_value(json_object_get(p, "target")), "file");
	CHECK_INT(json_integer_value(json_object_get(p, "attempt")), 1);
	CHECK_STR(json_string_value(json_object_get(json_object_get(p, "grant"), "reason")),
		  "INC-42 \"quoted\"");
	CHECK_STR(json_string_value(json_array_get(
			  json_object_get(json_object_get(p, "approvers"), "principals"), 0)),
		  "user:sys");
	CHECK_STR(json_string_value(json_array_get(
			  json_object_get(json_object_get(p, "approvers"), "users"), 0)),
		  "sys");
	CHECK_CONTAINS(json_string_value(json_object_get(p, "text")), "approvers: sys");
	CHECK(json_object_get(p, "record"), "no record in the payload");
	json_decref(p);
	out = slurp("uid");
	CHECK(out, "no uid written");
	CHECK_INT(atoi(out), getpwnam(user)->pw_uid);
	free(out);
	CHECK_INT(A.notify.sent, 1);
	CHECK_INT(count_records("notify_failed", NULL, 0), 0);
	notify_stop(&A);
}

/* The process whose pid the file name holds is gone (or a zombie, about to be reaped). */
static bool gone(const char *name)
{
	char *pid = slurp(name), path[64], *stat = NULL;
	bool r;

	if (!pid)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", atoi(pid));
	free(pid);
	if (util_read_file(path, 4096, &stat, NULL))
		return true;
	r = strstr(stat, ") Z ") != NULL;
	free(stat);
	return r;
}

static bool sleeps_gone(void)
{
	return gone("p0") && gone("p1");
}

static void a_hanging_tree_is_killed_at_the_timeout(void)
{
	char last[4096];
	int64_t t0;

	CHECK_INT(
		set_target(
			"{\"name\":\"hang\",\"events\":[\"granted\"],\"command\":[\"/bin/sh\","
			"\"-c\",\"sleep 60 & echo $! > TMP/p1; echo $$ > TMP/p0; exec sleep 60\"],"
			"\"user\":\"USER\",\"timeout\":1,"
			"\"retries\":0}"),
		0);
	CHECK_INT(start(4, 16), 0);
	t0 = util_now_ns(CLOCK_MONOTONIC);
	fire("granted", 7);
	CHECK(run_until(no_jobs, 6000), "the job was not ended");
	CHECK((util_now_ns(CLOCK_MONOTONIC) - t0) / 1000000 < 5000, "took %lld ms",
	      (long long)(util_now_ns(CLOCK_MONOTONIC) - t0) / 1000000);
	CHECK_INT(count_records("notify_failed", last, sizeof(last)), 1);
	CHECK_CONTAINS(last, "\"result\":\"timeout\"");
	CHECK_CONTAINS(last, "\"attempts\":1");
	CHECK_CONTAINS(last, "\"target\":\"hang\"");
	/* the whole process group: signalled, so gone within moments on a loaded host */
	CHECK(run_until(sleeps_gone, 2000), "a sleep is left");
	notify_stop(&A);
}

static void fail_fail_succeed_is_three_tries_and_no_failure(void)
{
	char *n;

	CHECK_INT(
		set_target("{\"name\":\"flaky\",\"events\":[\"granted\"],\"command\":[\"/bin/sh\","
			   "\"-c\",\"n=$(cat TMP/count 2>/dev/null || echo 0); echo $((n+1)) > "
			   "TMP/count; [ $n -ge 2 ]\"],\"user\":\"USER\",\"retries\":2,"
			   "\"retry_delay\":1}"),
		0);
	CHECK_INT(start(4, 16), 0);
	fire("granted", 8);
	CHECK(run_until(no_jobs, 8000), "still retrying");
	n = slurp("count");
	CHECK(n, "never ran");
	CHECK_INT(atoi(n), 3);
	free(n);
	CHECK_INT(A.notify.sent, 1);
	CHECK_INT(A.notify.retried, 2);
	CHECK_INT(count_records("notify_failed", NULL, 0), 0);
	notify_stop(&A);
}

static void always_failing_is_one_record_with_all_attempts(void)
{
	char last[4096];

	CHECK_INT(
		set_target("{\"name\":\"down\",\"events\":[\"granted\"],\"command\":[\"/bin/sh\","
			   "\"-c\",\"echo no route >&2; exit 3\"],\"user\":\"USER\",\"retries\":1,"
			   "\"retry_delay\":1}"),
		0);
	CHECK_INT(start(4, 16), 0);
	fire("granted", 9);
	CHECK(run_until(no_jobs, 5000), "still retrying");
	CHECK_INT(count_records("notify_failed", last, sizeof(last)), 1);
	CHECK_CONTAINS(last, "\"attempts\":2");
	CHECK_CONTAINS(last, "\"result\":\"exit 3\"");
	CHECK_CONTAINS(last, "\"stderr\":\"no route\"");
	CHECK_INT(A.notify.failed, 1);
	notify_stop(&A);
}

static void a_missing_command_fails_with_its_reason(void)
{
	char last[4096];

	CHECK_INT(set_target("{\"name\":\"gone\",\"events\":[\"granted\"],\"command\":"
			     "[\"/nonexistent/jitd-hook\"],\"user\":\"USER\",\"retries\":0}"),
		  0);
	CHECK_INT(start(4, 16), 0);
	fire("granted", 12);
	CHECK(run_until(no_jobs, 5000), "the job did not end");
	CHECK_INT(count_records("notify_failed", last, sizeof(last)), 1);
	CHECK_CONTAINS(last, "\"result\":\"exit 127\"");
	CHECK_CONTAINS(last, "cannot run /nonexistent/jitd-hook: No such file or directory");
	notify_stop(&A);
}

static unsigned max_running;

static int on_watch(sd_event_source *s, uint64_t usec, void *ud)
{
	if (A.notify.n_running > max_running)
		max_running = A.notify.n_running;
	sd_event_source_set_time_relative(s, 5000);
	return 0;
}

static void jobs_never_exceed_the_bound(void)
{
	char body[2048], *log;
	sd_event_source *w;
	int all_max = 0, per_target_max = 0;

	/* 4 targets, 2 events: 8 jobs, each 1 s; at most 2 at once, 1 per target */
	snprintf(body, sizeof(body), "%s", "");
	for (int t = 0; t < 4; t++)
		snprintf(body + strlen(body), sizeof(body) - strlen(body),
			 "%s{\"name\":\"t%d\",\"events\":[\"granted\"],\"command\":[\"/bin/"
			 "sh\",\"-c\","
			 "\"mkdir -p TMP/run TMP/run%d; touch TMP/run/$$ TMP/run%d/$$; echo "
			 "$(ls TMP/run | wc -l) $(ls TMP/run%d | wc -l) >> TMP/conc; sleep 1; "
			 "rm TMP/run/$$ TMP/run%d/$$\"],\"user\":\"USER\"}",
			 t ? "," : "", t, t, t, t, t);
	CHECK_INT(set_target(body), 0);
	CHECK_INT(start(2, 16), 0);
	max_running = 0;
	CHECK(sd_event_add_time_relative(A.event, &w, CLOCK_MONOTONIC, 5000, 0, on_watch, NULL) >=
		      0,
	      "timer");
	sd_event_source_set_enabled(w, SD_EVENT_ON);
	fire("granted", 10);
	fire("granted", 11);
	CHECK(run_until(no_jobs, 15000), "jobs left");
	sd_event_source_disable_unref(w);
	CHECK_INT(max_running, 2);
	CHECK_INT(A.notify.sent, 8);
	log = slurp("conc");
	CHECK(log, "no runs logged");
	for (char *l = log; *l;) {
		int all = 0, one = 0;

		sscanf(l, "%d %d", &all, &one);
		all_max = all > all_max ? all : all_max;
		per_target_max = one > per_target_max ? one : per_target_max;
		l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l);
	}
	free(log);
	CHECK(all_max == 2, "%d ran at once", all_max);
	CHECK(per_target_max == 1, "%d of one target ran at once", per_target_max);
	notify_stop(&A);
}

static void a_full_queue_drops_and_says_so(void)
{
	char last[4096];

	CHECK_INT(set_target("{\"name\":\"q\",\"events\":[\"granted\"],\"command\":[\"/bin/true\"],"
			     "\"user\":\"USER\"}"),
		  0);
	CHECK_INT(start(1, 4), 0);
	for (int i = 0; i < 10; i++)
		fire("granted", 100 + i);
	CHECK(run_until(no_jobs, 5000), "jobs left");
	run_until(NULL, 100);
	CHECK_INT(A.notify.sent, 4);
	CHECK_INT(A.notify.dropped, 6);
	CHECK_INT(count_records("notify_dropped", last, sizeof(last)), 1);
	CHECK_CONTAINS(last, "\"count\":6");
	notify_stop(&A);
}

static int ticks;

static int on_tick(sd_event_source *s, uint64_t usec, void *ud)
{
	ticks++;
	sd_event_source_set_time_relative(s, 10000);
	return 0;
}

static void the_loop_runs_while_children_hang(void)
{
	sd_event_source *t;

	CHECK_INT(set_target(
			  "{\"name\":\"slow\",\"events\":[\"granted\"],\"command\":[\"/bin/sleep\","
			  "\"5\"],\"user\":\"USER\"},{\"name\":\"slow2\",\"events\":[\"granted\"],"
			  "\"command\":[\"/bin/sleep\",\"5\"],\"user\":\"USER\"}"),
		  0);
	CHECK_INT(start(4, 16), 0);
	fire("granted", 20);
	fire("granted", 21);
	ticks = 0;
	CHECK(sd_event_add_time_relative(A.event, &t, CLOCK_MONOTONIC, 10000, 0, on_tick, NULL) >=
		      0,
	      "timer");
	sd_event_source_set_enabled(t, SD_EVENT_ON);
	run_until(NULL, 1000);
	CHECK_INT(A.notify.n_running, 4);
	CHECK(ticks >= 20, "%d ticks of 10 ms in 1 s", ticks); /* 0 if it waited */
	sd_event_source_disable_unref(t);
	notify_stop(&A); /* kills them: recorded as "jitd stopped" */
	CHECK_INT(count_records("notify_failed", NULL, 0), 4);
}

static void policy_show_lists_targets_without_commands(void)
{
	static const char req[] = "{\"op\":\"policy_show\"}";
	json_t *reply, *t;
	char *text;

	CHECK_INT(
		set_target("{\"name\":\"hook\",\"events\":[\"granted\"],\"command\":"
			   "[\"/usr/bin/curl\",\"https://hooks.example/SECRET\"],\"user\":\"USER\","
			   "\"resources\":[\"db\"]}"),
		0);
	reply = host_call(&A, 1, req, strlen(req));
	text = json_dumps(reply, JSON_COMPACT);
	t = json_array_get(json_object_get(reply, "notify"), 0);
	CHECK(text && !strstr(text, "SECRET") && !strstr(text, "/usr/bin/curl"), "shown: %s",
	      text ?: "?");
	free(text);
	CHECK_STR(json_string_value(json_object_get(t, "name")), "hook");
	CHECK_STR(json_string_value(json_object_get(t, "user")), user);
	CHECK_STR(json_string_value(json_array_get(json_object_get(t, "events"), 0)), "granted");
	CHECK_STR(json_string_value(json_array_get(json_object_get(t, "resources"), 0)), "db");
	CHECK(!json_object_get(t, "command"), "command shown");
	json_decref(reply);
}

int main(void)
{
	sigset_t ss;

	sigemptyset(&ss);
	sigaddset(&ss, SIGCHLD);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	snprintf(user, sizeof(user), "%s", getuid() ? getpwuid(getuid())->pw_name : "nobody");
	snprintf(tmp, sizeof(tmp), "/tmp/jitd-notify.XXXXXX");
	if (!mkdtemp(tmp) || chmod(tmp, 0777) || host_agent_init(&A, host_policy) ||
	    sd_event_new(&A.event) < 0) {
		printf("FAIL setup\n");
		return 1;
	}
	/* USER in the targets: the user the commands run as */
	RUN(a_request_reaches_the_command_with_approvers_as_the_user);
	RUN(a_hanging_tree_is_killed_at_the_timeout);
	RUN(fail_fail_succeed_is_three_tries_and_no_failure);
	RUN(always_failing_is_one_record_with_all_attempts);
	RUN(a_missing_command_fails_with_its_reason);
	RUN(jobs_never_exceed_the_bound);
	RUN(a_full_queue_drops_and_says_so);
	RUN(the_loop_runs_while_children_hang);
	RUN(policy_show_lists_targets_without_commands);
	notify_stop(&A);
	host_agent_free(&A);
	sd_event_unref(A.event);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
		if (system(cmd))
			printf("FAIL cleanup\n");
	}
	return tl_exit();
}
