// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of usage per grant on the host (tests/host_agent.h): the kernel's usage entry
 * made before a grant's keys and deleted after its end, the counts read into the store and
 * the state file, kept across a restart (entry adopted) and a reboot (entry made again from
 * the saved count), the state file's usage keys checked like input, and the report verb.
 * Here the test plays the kernel's part: it writes the counts into the entry, as
 * bpf/jitd.bpf.c:count_use does (tests/vm/usage.sh checks the kernel itself).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "history.h"
#include "host_agent.h"
#include "image.h"
#include "testlib.h"
#include "usage.h"
#include "util.h"

#define ADMIN 2

static struct agent a;

static json_t *call(uid_t uid, const char *line)
{
	return host_call(&a, uid, line, strlen(line));
}

static bool ok(json_t *r)
{
	return json_is_true(json_object_get(r, "ok"));
}

static void fresh(void)
{
	if (host_agent_reset(&a, host_policy))
		abort();
}

/* An admin's grant of res to daemon (uid 1) for 600 s; its id, or 0. */
static uint64_t grant(const char *res)
{
	char line[160];
	json_t *r;
	uint64_t id;

	snprintf(line, sizeof(line),
		 "{\"op\":\"grant\",\"resource\":\"%s\",\"uid\":1,\"duration_s\":600}", res);
	r = call(ADMIN, line);
	id = ok(r) ? (uint64_t)json_integer_value(
			     json_object_get(json_object_get(r, "grant"), "id"))
		   : 0;
	json_decref(r);
	return id;
}

/* As the kernel: n uses of grant id, the first 2 s ago (when none yet), the last now. */
static void kernel_uses(uint64_t id, unsigned n)
{
	struct jitd_grant_use *u = host_image_use(id);
	uint64_t now = util_now_ns(CLOCK_BOOTTIME);

	if (!u)
		return;
	if (!u->first_ns)
		u->first_ns = now - 2 * NS_PER_S;
	u->last_ns = now;
	u->uses += n;
}

/* The "usage" object of grant id as `show` answers it (a new reference), or NULL. */
static json_t *show_usage(uint64_t id)
{
	char line[64];
	json_t *r, *u;

	snprintf(line, sizeof(line), "{\"op\":\"show\",\"id\":%llu}", (unsigned long long)id);
	r = call(ADMIN, line);
	u = json_incref(json_object_get(json_object_get(r, "grant"), "usage"));
	json_decref(r);
	return u;
}

static json_int_t show_uses(uint64_t id)
{
	json_t *u = show_usage(id);
	json_int_t n = u ? json_integer_value(json_object_get(u, "uses")) : -1;

	json_decref(u);
	return n;
}

/* The entry exists before the grant's key, reads back as usage, and goes with the grant. */
static void entry_made_with_the_grant_and_deleted_after_its_end(void)
{
	char line[64];
	json_t *r, *u;
	uint64_t id;
	int64_t real = util_now_ns(CLOCK_REALTIME);

	fresh();
	id = grant("db");
	CHECK(id, "grant refused");
	CHECK(host_image_use(id), "no usage entry for an active grant");
	CHECK_INT(host_image_use(id)->uses_base, 0);
	u = show_usage(id);
	CHECK(u, "show has no usage");
	CHECK_INT(json_integer_value(json_object_get(u, "uses")), 0);
	CHECK(!json_object_get(u, "first_use"), "an unused grant has a first_use");
	json_decref(u);
	kernel_uses(id, 3);
	u = show_usage(id);
	CHECK_INT(json_integer_value(json_object_get(u, "uses")), 3);
	CHECK(json_is_string(json_object_get(u, "first_use")) &&
		      json_is_string(json_object_get(u, "last_use")),
	      "no first_use/last_use after uses");
	json_decref(u);
	{
		struct grant *g = grant_find(&a.grants, id);
		int64_t first = g->first_use_ns, last = g->last_use_ns;

		/* boot clock to realtime: 2 s before now, and now (0.5 s slack) */
		CHECK(first > real - 3 * NS_PER_S && first < real - NS_PER_S,
		      "first use %lld not 2 s before %lld", (long long)first, (long long)real);
		CHECK(last >= first && last < real + NS_PER_S / 2, "last use %lld out of range",
		      (long long)last);
	}
	kernel_uses(id, 2);
	snprintf(line, sizeof(line), "{\"op\":\"revoke\",\"id\":%llu}", (unsigned long long)id);
	r = call(ADMIN, line);
	CHECK(ok(r), "revoke refused");
	json_decref(r);
	CHECK(!host_image_use(id), "the usage entry outlived the grant");
	CHECK_INT(show_uses(id), 5); /* read before the entry went */
	/* and saved with the end */
	grant_store_free(&a.grants);
	memset(&a.grants, 0, sizeof(a.grants));
	CHECK_INT(grant_store_load(&a.grants, a.state_dir), 0);
	CHECK_INT(show_uses(id), 5);
}

/* No usage entry can be made (full map): no key is written and the grant is refused. */
static void grant_refused_when_its_entry_cannot_be_made(void)
{
	size_t keys;
	json_t *r;

	fresh();
	keys = host_img.n; /* the policy's own grant */
	host_img.fail_uses = true;
	r = call(ADMIN, "{\"op\":\"grant\",\"resource\":\"db\",\"uid\":1,\"duration_s\":600}");
	CHECK(!ok(r), "granted without a usage entry");
	json_decref(r);
	CHECK_INT(host_img.n, keys);
	host_img.fail_uses = false;
}

/* A restarted jitd adopts the entry (the kernel's count stands); after a reboot the entry
 * is made again and counts on from the saved count; image_sync_all drops stray entries. */
static void counts_survive_restart_and_reboot(void)
{
	uint64_t id;

	fresh();
	id = grant("psql");
	kernel_uses(id, 4);
	CHECK_INT(show_uses(id), 4);
	/* restart: the store read again, the pinned entry adopted (and still counting) */
	kernel_uses(id, 1);
	grant_store_free(&a.grants);
	memset(&a.grants, 0, sizeof(a.grants));
	CHECK_INT(grant_store_load(&a.grants, a.state_dir), 0);
	CHECK_INT(image_sync_all(&a), 0);
	CHECK_INT(show_uses(id), 5);
	/* reboot: the map is empty; the count saved (5) is where the new entry starts */
	CHECK_INT(grant_store_save(&a.grants), 0);
	host_img.n = 0;
	host_img.n_uses = 0;
	grant_store_free(&a.grants);
	memset(&a.grants, 0, sizeof(a.grants));
	CHECK_INT(grant_store_load(&a.grants, a.state_dir), 0);
	CHECK_INT(image_sync_all(&a), 0);
	CHECK(host_image_use(id) && host_image_use(id)->uses_base == 5,
	      "the new entry does not start from the saved count");
	kernel_uses(id, 2);
	CHECK_INT(show_uses(id), 7);
	/* an entry no active grant has is pruned */
	host_img.uses[host_img.n_uses].id = 999999;
	host_img.n_uses++;
	CHECK_INT(image_sync_all(&a), 0);
	CHECK(!host_image_use(999999), "a stray usage entry was kept");
	CHECK(host_image_use(id), "the active grant's entry was pruned");
}

/* The state file's usage keys are checked like input. */
static void state_usage_keys_are_checked(void)
{
	static const char *const bad[] = {
		"\"uses\":-1",
		"\"uses\":9007199254740992",
		"\"uses\":\"3\"",
		"\"uses\":2,\"first_use_ns\":1796000000000000000,\"last_use_ns\":"
		"1795000000000000000",
		"\"first_use_ns\":1796000000000000000,\"last_use_ns\":1796000000000000000",
	};
	const char *base =
		"{\"id\":7,\"resources\":[\"db\"],\"state\":\"expired\",\"uid\":1,"
		"\"created_ns\":1795000000000000000,\"starts_ns\":1795000000000000000,"
		"\"expires_ns\":1795000600000000000,\"ended_ns\":1795000600000000000,%s}";
	char text[512], err[256];
	struct grant g;
	json_t *o;
	int64_t real = util_now_ns(CLOCK_REALTIME), boot = util_now_ns(CLOCK_BOOTTIME);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), base, bad[i]);
		o = json_loads(text, 0, NULL);
		CHECK(o, "bad test JSON %s", text);
		CHECK(req_grant_from_state(o, false, real, boot, &g, err, sizeof(err)) == -EINVAL,
		      "state entry with %s taken", bad[i]);
		json_decref(o);
	}
	snprintf(text, sizeof(text), base,
		 "\"uses\":2,\"first_use_ns\":1795000001000000000,\"last_use_ns\":"
		 "1795000002000000000");
	o = json_loads(text, 0, NULL);
	CHECK_INT(req_grant_from_state(o, false, real, boot, &g, err, sizeof(err)), 0);
	CHECK_INT((long long)g.uses, 2);
	CHECK_INT((long long)g.first_use_ns, 1795000001000000000LL);
	req_grant_clear(&g);
	json_decref(o);
	/* without the keys: never used, as before */
	snprintf(text, sizeof(text), base, "\"reason\":\"x\"");
	o = json_loads(text, 0, NULL);
	CHECK_INT(req_grant_from_state(o, false, real, boot, &g, err, sizeof(err)), 0);
	CHECK_INT((long long)g.uses, 0);
	req_grant_clear(&g);
	json_decref(o);
}

/* The grant with id in report rep's grants, or NULL. */
static json_t *report_grant(json_t *rep, uint64_t id)
{
	json_t *g;
	size_t i;

	json_array_foreach(json_object_get(rep, "grants"), i, g)
		if ((uint64_t)json_integer_value(json_object_get(g, "id")) == id)
			return g;
	return NULL;
}

/* report: used and never-used grants, --unused, the per-subject sum, a bad since. */
static void report_marks_never_used_grants(void)
{
	uint64_t used, unused;
	json_t *r, *rep, *g, *s;

	fresh();
	used = grant("db");
	unused = grant("psql");
	kernel_uses(used, 2);
	r = call(5, "{\"op\":\"report\",\"since\":\"1h\"}"); /* any user */
	CHECK(ok(r), "report refused: %s", json_string_value(json_object_get(r, "error")));
	rep = json_object_get(r, "report");
	g = report_grant(rep, used);
	CHECK(g && json_is_false(json_object_get(g, "never_used")), "used grant not in report");
	CHECK_INT(json_integer_value(json_object_get(g, "uses")), 2);
	g = report_grant(rep, unused);
	CHECK(g && json_is_true(json_object_get(g, "never_used")), "unused grant not marked");
	CHECK(json_is_true(json_object_get(rep, "complete")), "a small store is not complete");
	/* daemon's sum (the policy's own grant to sys is another subject) */
	s = json_array_get(json_object_get(rep, "by_subject"), 1);
	if (json_integer_value(json_object_get(json_object_get(s, "subject"), "uid")) != 1)
		s = json_array_get(json_object_get(rep, "by_subject"), 0);
	CHECK_INT(json_array_size(json_object_get(rep, "by_subject")), 2);
	CHECK_INT(json_integer_value(json_object_get(json_object_get(s, "subject"), "uid")), 1);
	CHECK_INT(json_integer_value(json_object_get(s, "grants")), 2);
	CHECK_INT(json_integer_value(json_object_get(s, "uses")), 2);
	CHECK_INT(json_integer_value(json_object_get(s, "never_used")), 1);
	json_decref(r);
	r = call(5, "{\"op\":\"report\",\"since\":\"1h\",\"unused\":true}");
	rep = json_object_get(r, "report");
	CHECK(!report_grant(rep, used) && report_grant(rep, unused), "--unused filter wrong");
	json_decref(r);
	r = call(5, "{\"op\":\"report\",\"since\":\"yesterday\"}");
	CHECK(!ok(r), "a bad since was taken");
	CHECK_STR(json_string_value(json_object_get(r, "errno")), "EINVAL");
	json_decref(r);
	r = call(5, "{\"op\":\"report\",\"since\":\"2099-01-01T00:00:00Z\"}");
	CHECK(!ok(r), "a since in the future was taken");
	json_decref(r);
}

/* The event of g's last history entry. */
static const char *last_event(const struct grant *g)
{
	static char buf[64];
	json_t *h = hist_decode(g->history);

	snprintf(buf, sizeof(buf), "%s",
		 json_string_value(
			 json_object_get(json_array_get(h, json_array_size(h) - 1), "event"))
			 ?: "");
	json_decref(h);
	return buf;
}

/* A grant with max_idle_s: its entry asks the kernel to refuse it once idle; jitd ends it
 * only when the kernel's last use (or its start) is max_idle_s old; bad values refused. */
static void idle_grants_end_after_max_idle(void)
{
	struct jitd_grant_use *u;
	struct grant *g;
	json_t *r;
	uint64_t now;
	int64_t id;

	fresh();
	r = call(ADMIN, "{\"op\":\"grant\",\"resource\":\"db\",\"uid\":1,\"duration_s\":600,"
			"\"max_idle_s\":30}");
	CHECK(!ok(r), "max_idle_s 30 taken");
	json_decref(r);
	r = call(ADMIN, "{\"op\":\"grant\",\"resource\":\"db\",\"uid\":1,\"duration_s\":600,"
			"\"max_idle_s\":60}");
	CHECK(ok(r), "max_idle_s 60 refused");
	id = json_integer_value(json_object_get(json_object_get(r, "grant"), "id"));
	CHECK_INT(json_integer_value(json_object_get(json_object_get(r, "grant"), "max_idle_s")),
		  60);
	json_decref(r);
	u = host_image_use(id);
	g = grant_find(&a.grants, id);
	CHECK(u && u->flags == JITD_USE_IDLE && u->idle_ns == 60ULL * NS_PER_S &&
		      u->idle_from_ns == g->starts_boot,
	      "the entry does not carry the idle limit");
	/* used 30 s ago (as the kernel writes it): not idle; the deadline moves to the use */
	now = util_now_ns(CLOCK_BOOTTIME);
	u->first_ns = u->last_ns = now - 30ULL * NS_PER_S;
	u->uses = 1;
	g->idle_until_boot = 0; /* as after a restart: read at the next timer */
	CHECK_INT(grant_expire_due(&a), 0);
	CHECK(g->state == GRANT_ACTIVE, "ended while used 30 s ago");
	CHECK(g->idle_until_boot == u->last_ns + 60ULL * NS_PER_S, "deadline not moved");
	CHECK(grant_next_expiry_boot(&a) == (int64_t)g->idle_until_boot, "timer not at it");
	/* last used 61 s ago: jitd ends it, "why": "idle" */
	u->last_ns = now - 61ULL * NS_PER_S;
	g->idle_until_boot = 0;
	CHECK_INT(grant_expire_due(&a), 1);
	CHECK(g->state == GRANT_EXPIRED, "an idle grant still active");
	CHECK_STR(last_event(g), "idle_expired");
	CHECK(!host_image_use(id), "the idle grant's entry stayed");
	CHECK_INT(a.grants.n_changes, 1);
	CHECK_STR(json_string_value(json_object_get(a.grants.changes[0].fields, "why")), "idle");
	CHECK_INT((long long)g->uses, 1);
}

/* The policy's rule key "max_idle": 1m..1d, copied into the grants of its requests. */
static void rule_max_idle_is_checked_and_copied(void)
{
	static const char bad[] =
		"{\"version\":1,\"serial\":10,\"resources\":{\"etc\":{\"open\":[\"/etc/app/\"]}},"
		"\"rules\":[{\"resources\":[\"etc\"],\"requesters\":[\"user:daemon\"],"
		"\"max_duration\":\"90m\",\"max_idle\":\"30s\"}]}";
	static const char good[] =
		"{\"version\":1,\"serial\":10,\"resources\":{\"etc\":{\"open\":[\"/etc/app/\"]}},"
		"\"rules\":[{\"resources\":[\"etc\"],\"requesters\":[\"user:daemon\"],"
		"\"max_duration\":\"90m\",\"max_idle\":\"15m\"}]}";
	struct policy *p = NULL;
	char err[512];
	json_t *r;

	CHECK(policy_parse("bad.json", bad, strlen(bad), &p, err, sizeof(err)),
	      "max_idle 30s taken");
	CHECK_CONTAINS(err, "max_idle");
	if (host_agent_reset(&a, good))
		abort();
	r = call(1, "{\"op\":\"request\",\"resource\":\"etc\",\"duration_s\":60}");
	CHECK(ok(r), "request refused");
	CHECK_INT(json_integer_value(json_object_get(json_object_get(r, "grant"), "max_idle_s")),
		  900);
	json_decref(r);
	fresh();
}

/* A first-use grant of db to daemon for dur_s, latest start by_s from now; its id, or 0. */
static uint64_t grant_first_use(int by_s, int dur_s)
{
	char line[256], when[40];
	json_t *r;
	uint64_t id;

	util_format_time(util_now_ns(CLOCK_REALTIME) + by_s * NS_PER_S, when, sizeof(when));
	snprintf(line, sizeof(line),
		 "{\"op\":\"grant\",\"resource\":\"db\",\"uid\":1,\"duration_s\":%d,"
		 "\"from_first_use\":true,\"latest_start\":\"%s\"}",
		 dur_s, when);
	r = call(ADMIN, line);
	id = ok(r) ? (uint64_t)json_integer_value(
			     json_object_get(json_object_get(r, "grant"), "id"))
		   : 0;
	json_decref(r);
	return id;
}

/* from_first_use and latest_start are checked; a good one carries its clock to the kernel:
 * window [now, latest start + duration], entry FIRST_USE with the latest start and duration. */
static void first_use_grant_options_checked(void)
{
	static const char *const bad[] = {
		"\"from_first_use\":\"yes\"",
		"\"latest_start\":\"2099-01-01T00:00:00Z\"",
		"\"from_first_use\":false,\"latest_start\":\"2099-01-01T00:00:00Z\"",
		"\"from_first_use\":true,\"latest_start\":\"2020-01-01T00:00:00Z\"",
		"\"from_first_use\":true,\"latest_start\":\"2099-01-01T00:00:00Z\"",
		"\"from_first_use\":true,\"latest_start\":\"tomorrow\"",
		"\"from_first_use\":true,\"start\":\"2099-01-01T00:00:00Z\"",
		"\"from_first_use\":true,\"max_idle_s\":60",
	};
	char line[256];
	struct jitd_grant_use *u;
	struct grant *g;
	json_t *r, *o;
	uint64_t id;
	int64_t now = util_now_ns(CLOCK_REALTIME);

	fresh();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line),
			 "{\"op\":\"grant\",\"resource\":\"db\",\"uid\":1,\"duration_s\":60,%s}",
			 bad[i]);
		r = call(ADMIN, line);
		CHECK(!ok(r), "grant with %s taken", bad[i]);
		CHECK_STR(json_string_value(json_object_get(r, "errno")), "EINVAL");
		json_decref(r);
	}
	CHECK_INT(a.grants.n, 1); /* the policy's own grant only: nothing changed */
	id = grant_first_use(3600, 600);
	CHECK(id, "first-use grant refused");
	g = grant_find(&a.grants, id);
	u = host_image_use(id);
	CHECK(g && g->from_first_use && g->first_by_ns > now + 3599 * NS_PER_S, "no latest start");
	CHECK(g && g->expires_ns == g->first_by_ns + 600 * NS_PER_S, "outer bound not latest "
								     "start + duration");
	CHECK(u && u->flags == JITD_USE_FIRST_USE && u->first_by_ns == g->first_by_boot &&
		      u->use_for_ns == 600ULL * NS_PER_S,
	      "the entry does not carry the first-use clock");
	snprintf(line, sizeof(line), "{\"op\":\"show\",\"id\":%llu}", (unsigned long long)id);
	r = call(ADMIN, line);
	o = json_object_get(r, "grant");
	CHECK_STR(json_string_value(json_object_get(o, "clock")), "first_use");
	CHECK(json_is_string(json_object_get(o, "first_use_by")), "no first_use_by while unused");
	CHECK_STR(json_string_value(json_object_get(o, "state")), "active");
	json_decref(r);
	/* the default latest start: 24 hours */
	r = call(ADMIN, "{\"op\":\"grant\",\"resource\":\"db\",\"uid\":1,\"duration_s\":60,"
			"\"from_first_use\":true}");
	CHECK(ok(r), "first-use grant without latest_start refused");
	g = grant_find(&a.grants,
		       json_integer_value(json_object_get(json_object_get(r, "grant"), "id")));
	CHECK(g && g->first_by_ns >= now + 86400 * NS_PER_S &&
		      g->first_by_ns < now + 86401 * NS_PER_S,
	      "default latest start not 24 h");
	json_decref(r);
}

/* The kernel's first use starts the clock: starts at it, expires at it + the duration,
 * history first_use, record activated "first use", saved (clock kept, no first_by_ns),
 * the kernel window rewritten; extend refused before and after. */
static void first_use_starts_the_clock(void)
{
	char line[128];
	struct grant_change *ch;
	struct grant *g;
	size_t n;
	json_t *r;
	uint64_t id, now;
	int64_t next;

	fresh();
	id = grant_first_use(3600, 600);
	g = grant_find(&a.grants, id);
	CHECK_INT(grant_expire_due(&a), 0);
	CHECK(g->first_by_ns, "started without a use");
	next = grant_next_expiry_boot(&a);
	now = util_now_ns(CLOCK_BOOTTIME);
	CHECK(next <= (int64_t)(now + NS_PER_S),
	      "an unused first-use grant is not looked at within a second");
	snprintf(line, sizeof(line), "{\"op\":\"extend\",\"id\":%llu,\"duration_s\":60}",
		 (unsigned long long)id);
	r = call(ADMIN, line);
	CHECK(!ok(r), "an unused first-use grant was extended");
	CHECK_STR(json_string_value(json_object_get(r, "errno")), "EINVAL");
	CHECK_CONTAINS(json_string_value(json_object_get(r, "error")) ?: "", "first use");
	json_decref(r);
	free(grant_changes_take(&a.grants, &n));
	kernel_uses(id, 1); /* the first use, 2 s ago */
	CHECK_INT(grant_expire_due(&a), 1);
	CHECK(!g->first_by_ns && g->from_first_use, "the clock did not start");
	CHECK(g->state == GRANT_ACTIVE, "not active after its first use");
	CHECK_INT((long long)g->starts_ns, (long long)g->first_use_ns);
	CHECK_INT((long long)g->expires_ns, (long long)(g->first_use_ns + 600 * NS_PER_S));
	CHECK_INT((long long)g->starts_boot, (long long)host_image_use(id)->first_ns);
	CHECK_INT((long long)g->expires_boot,
		  (long long)(host_image_use(id)->first_ns + 600ULL * NS_PER_S));
	CHECK_STR(last_event(g), "first_use");
	ch = grant_changes_take(&a.grants, &n);
	CHECK(n == 1 && !strcmp(ch[0].event, "activated") &&
		      !strcmp(json_string_value(json_object_get(ch[0].fields, "why")) ?: "",
			      "first use"),
	      "no activated record with why first use");
	for (size_t i = 0; i < n; i++)
		json_decref(ch[i].fields);
	free(ch);
	/* saved: the clock kept, the latest start gone */
	grant_store_free(&a.grants);
	memset(&a.grants, 0, sizeof(a.grants));
	CHECK_INT(grant_store_load(&a.grants, a.state_dir), 0);
	g = grant_find(&a.grants, id);
	CHECK(g && g->from_first_use && !g->first_by_ns && g->first_use_ns == g->starts_ns,
	      "the started clock was not saved");
	r = call(ADMIN, line);
	CHECK(!ok(r), "a first-use grant was extended");
	json_decref(r);
}

/* show looks at the kernel too: a first use seen there starts the clock at once. */
static void first_use_seen_at_show(void)
{
	char line[64];
	json_t *r, *o;
	uint64_t id;

	fresh();
	id = grant_first_use(3600, 600);
	kernel_uses(id, 1);
	snprintf(line, sizeof(line), "{\"op\":\"show\",\"id\":%llu}", (unsigned long long)id);
	r = call(ADMIN, line);
	o = json_object_get(r, "grant");
	CHECK(!json_object_get(o, "first_use_by"), "first_use_by after the first use");
	CHECK_STR(json_string_value(json_object_get(o, "starts")),
		  json_string_value(json_object_get(json_object_get(o, "usage"), "first_use")));
	json_decref(r);
	CHECK_STR(last_event(grant_find(&a.grants, id)), "first_use");
}

/* Unused at its latest start: ended, history first_use_missed, record expired with why. */
static void first_use_missed_ends_the_grant(void)
{
	struct grant_change *ch;
	struct grant *g;
	size_t n;
	uint64_t id;

	fresh();
	id = grant_first_use(3600, 600);
	g = grant_find(&a.grants, id);
	free(grant_changes_take(&a.grants, &n));
	g->first_by_boot = util_now_ns(CLOCK_BOOTTIME) - 1; /* its latest start passed */
	CHECK_INT(grant_expire_due(&a), 1);
	CHECK(g->state == GRANT_EXPIRED, "unused past its latest start but not ended");
	CHECK_STR(last_event(g), "first_use_missed");
	CHECK(!host_image_use(id), "the ended grant's entry stayed");
	ch = grant_changes_take(&a.grants, &n);
	CHECK(n == 1 && !strcmp(ch[0].event, "expired") &&
		      !strcmp(json_string_value(json_object_get(ch[0].fields, "why")) ?: "",
			      "not used before its latest start"),
	      "no expired record 'not used before its latest start'");
	for (size_t i = 0; i < n; i++)
		json_decref(ch[i].fields);
	free(ch);
}

/* The state file's clock keys are checked like input. */
static void state_clock_keys_are_checked(void)
{
	static const char *const bad[] = {
		"\"clock\":\"approval\",\"first_by_ns\":1795000100000000000",
		"\"clock\":true,\"first_by_ns\":1795000100000000000",
		"\"first_by_ns\":1795000100000000000",
		"\"clock\":\"first_use\",\"first_by_ns\":1794000000000000000",
		"\"clock\":\"first_use\",\"first_by_ns\":1796000000000000000",
		"\"clock\":\"first_use\",\"first_by_ns\":-5",
		"\"clock\":\"first_use\"",
		"\"clock\":\"first_use\",\"first_by_ns\":1795000100000000000,\"kind\":\"request\"",
	};
	static const char *const good[] = {
		"\"clock\":\"first_use\",\"first_by_ns\":1795000100000000000",
		"\"clock\":\"first_use\",\"uses\":1,\"first_use_ns\":1795000001000000000,"
		"\"last_use_ns\":1795000001000000000",
	};
	const char *base =
		"{\"id\":7,\"resources\":[\"db\"],\"state\":\"expired\",\"uid\":1,"
		"\"created_ns\":1795000000000000000,\"starts_ns\":1795000000000000000,"
		"\"expires_ns\":1795000600000000000,\"ended_ns\":1795000600000000000,%s}";
	char text[512], err[256];
	struct grant g;
	json_t *o;
	int64_t real = util_now_ns(CLOCK_REALTIME), boot = util_now_ns(CLOCK_BOOTTIME);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), base, bad[i]);
		o = json_loads(text, 0, NULL);
		CHECK(o, "bad test JSON %s", text);
		CHECK(req_grant_from_state(o, false, real, boot, &g, err, sizeof(err)) == -EINVAL,
		      "state entry with %s taken", bad[i]);
		json_decref(o);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), base, good[i]);
		o = json_loads(text, 0, NULL);
		CHECK_INT(req_grant_from_state(o, false, real, boot, &g, err, sizeof(err)), 0);
		CHECK(g.from_first_use, "clock not read from %s", good[i]);
		CHECK_INT((long long)g.first_by_ns, i ? 0 : 1795000100000000000LL);
		req_grant_clear(&g);
		json_decref(o);
	}
}

int main(void)
{
	if (host_agent_init(&a, host_policy)) {
		printf("FAIL host_agent_init\n");
		return 1;
	}
	RUN(entry_made_with_the_grant_and_deleted_after_its_end);
	RUN(grant_refused_when_its_entry_cannot_be_made);
	RUN(counts_survive_restart_and_reboot);
	RUN(state_usage_keys_are_checked);
	RUN(report_marks_never_used_grants);
	RUN(idle_grants_end_after_max_idle);
	RUN(rule_max_idle_is_checked_and_copied);
	RUN(first_use_grant_options_checked);
	RUN(first_use_starts_the_clock);
	RUN(first_use_seen_at_show);
	RUN(first_use_missed_ends_the_grant);
	RUN(state_clock_keys_are_checked);
	host_agent_free(&a);
	return tl_exit();
}
