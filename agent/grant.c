// SPDX-License-Identifier: GPL-2.0-only
/*
 * The grant store: every grant jitd made, persisted in STATE_DIR/grants.json
 * (atomic replace + fsync) before a client hears about it, and its image in the
 * kernel's grants map: for each key, the active grant that ends last.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "history.h"
#include "json_quick.h"
#include "image.h"
#include "log.h"
#include "usage.h"
#include "util.h"

#define BOOT_ID_LEN 37

static char boot_id[BOOT_ID_LEN];

static const char *current_boot_id(void)
{
	FILE *f;

	if (boot_id[0])
		return boot_id;
	f = fopen("/proc/sys/kernel/random/boot_id", "re");
	if (f) {
		if (!fgets(boot_id, sizeof(boot_id), f))
			boot_id[0] = 0;
		fclose(f);
	}
	boot_id[strcspn(boot_id, "\n")] = 0;
	return boot_id;
}

/* Boot-clock time of a realtime instant, as seen now (saturating). */
static uint64_t real_to_boot(int64_t real_ns)
{
	return util_real_to_boot(real_ns, util_now_ns(CLOCK_REALTIME), util_now_ns(CLOCK_BOOTTIME));
}

/* The protocol's state: an active grant whose start is ahead is "scheduled". */
const char *grant_state_name(const struct grant *g)
{
	if (g->state == GRANT_ACTIVE && g->starts_ns > util_now_ns(CLOCK_REALTIME))
		return "scheduled";
	return req_state_name(g->state);
}

static bool is_open(const struct grant *g)
{
	return g->state == GRANT_ACTIVE || g->state == GRANT_PENDING;
}

/* Does the store keep g whatever the trim: open, or a break-glass awaiting its review? */
bool grant_held(const struct grant *g)
{
	return is_open(g) || g->review == GRANT_REVIEW_UNREVIEWED;
}

/* May store_trim drop g? */
static bool droppable(const struct grant *g)
{
	return !grant_held(g);
}

static json_t *res_json(const struct grant *g)
{
	json_t *arr = json_array();

	for (unsigned i = 0; i < g->n_res; i++)
		json_array_append_new(arr, json_string(g->res[i]));
	return arr;
}

/* Queue an event of the store for the caller (grant_changes_take); takes fields. A change
 * that cannot be queued is logged: the grant itself is recorded in the state file. */
static void change(struct grant_store *s, const char *event, json_t *fields)
{
	struct grant_change *nc = realloc(s->changes, (s->n_changes + 1) * sizeof(*nc));

	if (!nc || !fields) {
		log_err("cannot queue the audit event '%s': out of memory", event);
		json_decref(fields);
		if (nc)
			s->changes = nc;
		return;
	}
	s->changes = nc;
	s->changes[s->n_changes++] = (struct grant_change){.event = event, .fields = fields};
}

struct grant_change *grant_changes_take(struct grant_store *s, size_t *n)
{
	struct grant_change *c = s->changes;

	*n = s->n_changes;
	s->changes = NULL;
	s->n_changes = 0;
	return c;
}

void grant_store_free(struct grant_store *s)
{
	for (size_t i = 0; i < s->n; i++)
		req_grant_clear(&s->v[i]);
	for (size_t i = 0; i < s->n_changes; i++)
		json_decref(s->changes[i].fields);
	free(s->changes);
	free(s->v);
	free(s->subj);
	free(s->path);
	if (s->j_open)
		close(s->j_fd);
	memset(s, 0, sizeof(*s));
}

/* Note g, just appended, in the subject hashes when they are up to date; else they are
 * made again at the next use. */
static void subjects_append(struct grant_store *s, const struct grant *g)
{
	if (!s->subj_ok || s->subj_n != s->n - 1)
		goto stale;
	if (s->subj_n == s->subj_cap) {
		size_t cap = s->subj_cap ? 2 * s->subj_cap : 64;
		uint32_t *t = realloc(s->subj, cap * sizeof(*t));

		if (!t)
			goto stale;
		s->subj = t;
		s->subj_cap = cap;
	}
	s->subj[s->subj_n++] = image_subject_of(g);
	return;
stale:
	s->subj_ok = false;
}

/* g into s (a reference to its resource list taken when it does not own it). 0 or -ENOMEM
 * (nothing taken). */
static int store_append(struct grant_store *s, const struct grant *g)
{
	struct grant own = *g;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct grant *nv = realloc(s->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = cap;
	}
	if (req_grant_own_res(&own))
		return -ENOMEM;
	s->v[s->n++] = own;
	subjects_append(s, &own);
	return 0;
}

static void add_time(json_t *o, const char *key, int64_t ns)
{
	char buf[40];

	json_object_set_new(o, key, json_string(util_format_time(ns, buf, sizeof(buf))));
}

/* A break-glass grant's "review": its state, and who reviewed it when and why (from its
 * history's "reviewed" entry). */
static json_t *review_json(const struct grant *g)
{
	json_t *o = json_pack("{s:s}", "state", req_review_name(g->review)), *e;
	json_t *h = hist_decode(g->history);
	static const char *const keys[] = {"uid", "user", "at", "reason"};
	size_t i;

	json_array_foreach(h, i, e) {
		if (!o || strcmp(json_string_value(json_object_get(e, "event")) ?: "", "reviewed"))
			continue;
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (json_object_get(e, keys[k]))
				json_object_set(o, keys[k], json_object_get(e, keys[k]));
	}
	json_decref(h);
	return o;
}

/* The grant object's "usage": uses, and first_use and last_use once used. */
static json_t *usage_json(const struct grant *g)
{
	json_t *o = json_pack("{s:I}", "uses", (json_int_t)g->uses);

	if (o && g->first_use_ns)
		add_time(o, "first_use", g->first_use_ns);
	if (o && g->last_use_ns)
		add_time(o, "last_use", g->last_use_ns);
	return o;
}

/* The protocol's grant object (docs/protocol.md). */
json_t *grant_to_json(const struct grant *g)
{
	json_t *o = json_object(), *subj = json_object();
	int64_t now = util_now_ns(CLOCK_REALTIME), rem = 0;

	json_object_set_new(o, "id", json_integer((json_int_t)g->id));
	json_object_set_new(o, "resource", json_string(g->res[0]));
	json_object_set_new(o, "resources", res_json(g));
	json_object_set_new(o, "state", json_string(grant_state_name(g)));
	json_object_set_new(o, "kind", json_string(req_kind_name(g->kind)));
	if (g->has_uid) {
		struct passwd pw, *res = NULL;
		char buf[1024];

		json_object_set_new(subj, "uid", json_integer(g->uid));
		if (!getpwuid_r(g->uid, &pw, buf, sizeof(buf), &res) && res)
			json_object_set_new(subj, "user", json_string(pw.pw_name));
	}
	if (g->cgroup) {
		json_object_set_new(subj, "cgroup", json_string(g->cgroup));
		json_object_set_new(subj, "cgroup_id", json_integer((json_int_t)g->cgroup_id));
	}
	json_object_set_new(o, "subject", subj);
	if (g->fleet_key && !strncmp(g->fleet_key, FLEET_KEY_PREFIX, strlen(FLEET_KEY_PREFIX)))
		json_object_set_new(
			o, "fleet_id",
			json_integer(strtoll(g->fleet_key + strlen(FLEET_KEY_PREFIX), NULL, 10)));
	add_time(o, "created", g->created_ns);
	if (g->state == GRANT_PENDING || (g->state != GRANT_ACTIVE && !g->starts_ns)) {
		if (g->state == GRANT_PENDING)
			add_time(o, "pending_until", g->expires_ns);
	} else {
		add_time(o, "starts", g->starts_ns);
		add_time(o, "expires", g->expires_ns);
	}
	json_object_set_new(o, "duration_s", json_integer(g->duration_s));
	if (g->state == GRANT_ACTIVE && g->expires_ns > now)
		rem = (g->expires_ns - (g->starts_ns > now ? g->starts_ns : now) + 999999999) /
		      NS_PER_S;
	json_object_set_new(o, "remaining_s", json_integer(rem));
	if (g->ended_ns)
		add_time(o, "ended", g->ended_ns);
	if (g->reason)
		json_object_set_new(o, "reason", json_string(g->reason));
	json_object_set_new(o, "granted_by", json_pack("{s:I}", "uid", (json_int_t)g->by_uid));
	json_object_set_new(o, "requested_by",
			    json_pack("{s:I}", "uid", (json_int_t)g->requester_uid));
	if (g->kind == GRANT_REQUEST)
		json_object_set_new(o, "approvals",
				    json_pack("{s:i,s:i}", "needed", (int)g->approvals_needed,
					      "given", (int)req_approval_count(g)));
	if (g->max_duration_s)
		json_object_set_new(o, "max_duration_s", json_integer(g->max_duration_s));
	if (g->on_end_kill)
		json_object_set_new(o, "on_end", json_string("kill"));
	if (g->unit)
		json_object_set_new(o, "unit", json_string(g->unit));
	if (g->until_unit_stops)
		json_object_set_new(o, "until_unit_stops", json_true());
	if (g->break_glass) {
		json_object_set_new(o, "break_glass", json_true());
		json_object_set_new(o, "review", review_json(g));
	}
	if (g->max_idle_s)
		json_object_set_new(o, "max_idle_s", json_integer(g->max_idle_s));
	if (g->from_first_use)
		json_object_set_new(o, "clock", json_string("first_use"));
	if (g->first_by_ns && g->state == GRANT_ACTIVE)
		add_time(o, "first_use_by", g->first_by_ns);
	/* once it reached the kernel (not a request still pending, denied or withdrawn) */
	if (g->state == GRANT_ACTIVE ||
	    (g->state != GRANT_PENDING && g->state != GRANT_DENIED && g->starts_ns))
		json_object_set_new(o, "usage", usage_json(g));
	json_object_set_new(o, "history", hist_decode(g->history));
	return o;
}

/* Set key of o to v (taken over); false when v is NULL or cannot be set (no memory). */
static bool put(json_t *o, const char *key, json_t *v)
{
	return v && !json_object_set_new(o, key, v);
}

/*
 * The on-disk form: protocol fields plus exact nanosecond and boot-clock times. NULL when
 * out of memory: a state file missing a field (a grant's cgroup...) is never written.
 */
static json_t *grant_to_state(const struct grant *g)
{
	json_t *o = json_pack("{s:I,s:o,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "id", (json_int_t)g->id,
			      "resources", res_json(g), "state", req_state_name(g->state),
			      "created_ns", (json_int_t)g->created_ns, "starts_ns",
			      (json_int_t)g->starts_ns, "expires_ns", (json_int_t)g->expires_ns,
			      "ended_ns", (json_int_t)g->ended_ns, "starts_boot",
			      (json_int_t)g->starts_boot, "expires_boot",
			      (json_int_t)g->expires_boot, "by_uid", (json_int_t)g->by_uid);
	bool ok = o;

	if (ok && g->has_uid)
		ok = put(o, "uid", json_integer(g->uid));
	if (ok && g->cgroup)
		ok = put(o, "cgroup", json_string(g->cgroup)) &&
		     put(o, "cgroup_id", json_integer((json_int_t)g->cgroup_id));
	if (ok && g->reason)
		ok = put(o, "reason", json_string(g->reason));
	ok = ok && put(o, "kind", json_string(req_kind_name(g->kind))) &&
	     put(o, "requester_uid", json_integer(g->requester_uid)) &&
	     put(o, "duration_s", json_integer(g->duration_s)) &&
	     put(o, "max_duration_s", json_integer(g->max_duration_s)) &&
	     put(o, "approvals_needed", json_integer(g->approvals_needed));
	if (ok && g->approvers)
		ok = put(o, "approvers", req_json_list(g->approvers));
	if (ok && g->history)
		ok = put(o, "history", hist_decode(g->history));
	if (ok && g->fleet_key)
		ok = put(o, "fleet_key", json_string(g->fleet_key));
	/* absent is "keep": state files written before on_end existed read the same */
	if (ok && g->on_end_kill)
		ok = put(o, "on_end", json_string("kill"));
	/* absent: not a unit grant, or one from before "unit" was kept; not ending with it */
	if (ok && g->unit)
		ok = put(o, "unit", json_string(g->unit));
	if (ok && g->until_unit_stops)
		ok = put(o, "until_unit_stops", json_true());
	/* absent: not break-glass (req_grant_from_state checks the pair) */
	if (ok && g->break_glass)
		ok = put(o, "break_glass", json_true()) &&
		     put(o, "review", json_string(req_review_name(g->review)));
	if (ok && g->max_idle_s)
		ok = put(o, "max_idle_s", json_integer(g->max_idle_s));
	/* absent: the clock started with the grant; first_by_ns only until its first use */
	if (ok && g->from_first_use)
		ok = put(o, "clock", json_string("first_use"));
	if (ok && g->first_by_ns)
		ok = put(o, "first_by_ns", json_integer(g->first_by_ns));
	/* absent: never used (an older jitd's entries read the same) */
	if (ok && g->uses)
		ok = put(o, "uses", json_integer((json_int_t)g->uses)) &&
		     put(o, "first_use_ns", json_integer(g->first_use_ns)) &&
		     put(o, "last_use_ns", json_integer(g->last_use_ns));
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Keep the state file as read (it had refused entries) next to it, as grants.json.refused. */
static void keep_refused(const struct grant_store *s, const char *text, size_t len, size_t refused)
{
	char *path = NULL;

	if (asprintf(&path, "%s.refused", s->path) < 0) {
		path = NULL;
		log_err("cannot keep a copy of %s with its refused grants: out of memory", s->path);
	} else if (util_write_atomic(path, text, len, 0600)) {
		log_err("cannot keep a copy of %s with its refused grants in %s", s->path, path);
	} else {
		log_err("%s: %zu grant(s) refused; the file as read is kept in %s", s->path,
			refused, path);
	}
	free(path);
}

/* A state entry's "on_end" (absent or "keep": false; "kill": true) into g; on an other
 * value g is cleared and -EINVAL returned with the reason in why. */
static int on_end_from_state(json_t *o, struct grant *g, char *why, size_t len)
{
	json_t *v = json_object_get(o, "on_end");
	const char *s = json_string_value(v);

	if (v && (!s || (strcmp(s, "keep") && strcmp(s, "kill")))) {
		snprintf(why, len, "'on_end' is not \"keep\" or \"kill\"");
		req_grant_clear(g);
		return -EINVAL;
	}
	g->on_end_kill = s && !strcmp(s, "kill");
	return 0;
}

/*
 * A state entry's "unit" (NAME.service, with a cgroup) and "until_unit_stops" (a boolean,
 * only with "unit") into g; on a bad value g is cleared and -EINVAL (-ENOMEM) returned.
 */
static int unit_from_state(json_t *o, struct grant *g, char *why, size_t len)
{
	json_t *u = json_object_get(o, "unit"), *until = json_object_get(o, "until_unit_stops");
	const char *s = json_string_value(u);
	size_t n = s ? strlen(s) : 0;
	int r = -EINVAL;

	if (u && (!s || n < 9 || n > 200 || strcmp(s + n - 8, ".service") || strchr(s, '/') ||
		  !g->cgroup))
		snprintf(why, len, "'unit' is not a NAME.service of a grant with a cgroup");
	else if (until && (!json_is_boolean(until) || !u))
		snprintf(why, len, "'until_unit_stops' is not a boolean of a unit grant");
	else if (s && !(g->unit = strdup(s)))
		r = -ENOMEM;
	else {
		g->until_unit_stops = json_is_true(until);
		return 0;
	}
	req_grant_clear(g);
	return r;
}

/* A grant by id in a store still being loaded (a state file out of id order: a scan). */
static bool grant_find_any(const struct grant_store *s, uint64_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].id == id)
			return true;
	return false;
}

static void store_trim(struct grant_store *s);

static int cmp_id(const void *a, const void *b)
{
	const struct grant *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * Take entry i of the state file into s, or refuse it (logged with the reason: it is
 * never enforced, and its kernel keys are pruned). 0, 1 when refused, or -ENOMEM.
 */
static int load_entry(struct grant_store *s, json_t *o, size_t i, bool same_boot, int64_t real_now,
		      int64_t boot_now)
{
	json_int_t id = json_integer_value(json_object_get(o, "id"));
	struct grant g;
	char why[256];
	int r;

	/* ids of refused entries are not handed out again either */
	if (id > 0 && id < GRANT_MAX_ID && (uint64_t)id >= s->next_id)
		s->next_id = id + 1;
	r = req_grant_from_state(o, same_boot, real_now, boot_now, &g, why, sizeof(why));
	if (!r)
		r = on_end_from_state(o, &g, why, sizeof(why));
	if (!r)
		r = unit_from_state(o, &g, why, sizeof(why));
	if (!r && (s->n && g.id <= s->v[s->n - 1].id) && grant_find_any(s, g.id)) {
		snprintf(why, sizeof(why), "a second grant with id %llu", (unsigned long long)g.id);
		req_grant_clear(&g);
		r = -EEXIST;
	}
	if (r == -ENOMEM)
		return r;
	if (r) {
		log_err("%s: grant #%zu (id %lld) refused, not enforced: %s", s->path, i,
			(long long)id, why);
		return 1;
	}
	g.live = g.state == GRANT_ACTIVE && g.starts_boot <= (uint64_t)boot_now;
	r = store_append(s, &g);
	if (r)
		req_grant_clear(&g);
	return r;
}

/* The journal's path, or NULL (out of memory). Freed by the caller. */
static char *journal_path(const struct grant_store *s)
{
	char *p;

	return asprintf(&p, "%s.journal", s->path) < 0 ? NULL : p;
}

/* Put g (loaded from a journal line) in s: replacing the grant with its id, or appended. */
static int journal_take(struct grant_store *s, struct grant *g)
{
	struct grant *old = grant_find(s, g->id);
	int r;

	if (old) {
		req_grant_clear(old);
		*old = *g;
		s->subj_ok = false; /* its subject may have changed */
		return 0;
	}
	r = store_append(s, g);
	if (r)
		req_grant_clear(g);
	else if (s->n > 1 && s->v[s->n - 2].id > g->id) {
		qsort(s->v, s->n, sizeof(*s->v), cmp_id); /* not written by jitd: rare */
		s->subj_ok = false;
	}
	return r;
}

/* Line no of the journal (its text parsed) into s. 0, -EINVAL or -ENOMEM. A line jitd
 * could not have written is refused as a state entry is, and so is the grant it would
 * change. jitd numbers the lines it answered for one after the other (a write it cut back
 * takes no number): a line without its number, or after a gap (a change answered and then
 * lost, or a journal of another state file), stops the replay, and jitd does not start. */
static int journal_line(struct grant_store *s, json_t *o, size_t no, int64_t real_now,
			int64_t boot_now)
{
	json_t *jseq = json_object_get(o, "seq");
	json_int_t seq = json_integer_value(jseq);
	json_int_t nid = json_integer_value(json_object_get(o, "next_id"));
	json_t *jg = json_object_get(o, "grant");
	struct grant_store one = {.path = s->path, .next_id = 1};
	struct grant *old;
	bool same_boot;
	int r;

	if (!json_is_integer(jseq) || seq < 1) {
		log_err("%s.journal: line %zu has no \"seq\": refusing to replay it (check the "
			"journal, then move it aside to start from %s alone)",
			s->path, no, s->path);
		return -EINVAL;
	}
	if ((uint64_t)seq <= s->seq)
		return 0; /* in the state file already */
	if ((uint64_t)seq != s->seq + 1) {
		log_err("%s.journal: line %zu has seq %lld where %llu comes next: a change is "
			"missing; refusing to replay over it (check the journal, then move it "
			"aside to start from %s alone)",
			s->path, no, (long long)seq, (unsigned long long)s->seq + 1, s->path);
		return -EINVAL;
	}
	s->seq = seq;
	if (nid > 0 && nid < GRANT_MAX_ID && (uint64_t)nid > s->next_id)
		s->next_id = nid;
	same_boot =
		!strcmp(json_string_value(json_object_get(o, "boot_id")) ?: "", current_boot_id());
	r = load_entry(&one, jg, no, same_boot, real_now, boot_now);
	if (one.next_id > s->next_id)
		s->next_id = one.next_id;
	if (r == 1) {
		old = grant_find(s, json_integer_value(json_object_get(jg, "id")));
		if (old) { /* refused: never enforced, not even as it was before */
			req_grant_clear(old);
			memmove(old, old + 1, (s->v + s->n - old - 1) * sizeof(*old));
			s->n--;
			s->subj_ok = false;
		}
	}
	r = r == 1 ? 0 : r ?: journal_take(s, &one.v[0]);
	free(one.v);
	return r;
}

/* A journal line's JSON: the quick reader's when it takes the line whole (json_quick.h),
 * else jansson's, as before (a line with a NUL: up to the NUL). */
static json_t *line_value(const char *line, size_t len)
{
	size_t end = 0;
	json_t *o = jq_value(line, len, &end);

	if (o && jq_space(line, len, end) == len)
		return o;
	json_decref(o);
	return json_loads(line, 0, NULL);
}

/* Replay the journal over the loaded state file. Lines applied (> 0: the caller writes the
 * state file whole and empties the journal), -EINVAL (a gap, see journal_line) or -ENOMEM.
 * A line that is not JSON (a write cut short by a crash: its change was never answered, and
 * took no seq) is skipped. */
static int journal_replay(struct grant_store *s, int64_t real_now, int64_t boot_now)
{
	char *path = journal_path(s), *line = NULL;
	FILE *f = path ? fopen(path, "re") : NULL;
	size_t cap = 0, no = 0;
	ssize_t len;
	int n = 0, r = 0;

	if (!f) {
		if (path && errno != ENOENT)
			log_err("cannot read %s: %s", path, strerror(errno));
		free(path);
		return path ? 0 : -ENOMEM;
	}
	while (r >= 0 && (len = getline(&line, &cap, f)) > 0) {
		json_t *o = line_value(line, (size_t)len);

		no++;
		if (!json_is_object(o) || !json_is_object(json_object_get(o, "grant")))
			log_err("%s: line %zu is not a journal line: skipped", path, no);
		else
			r = journal_line(s, o, no, real_now, boot_now);
		n += r >= 0;
		json_decref(o);
	}
	free(line);
	fclose(f);
	free(path);
	return r < 0 ? r : n;
}

/*
 * Load STATE_DIR/grants.json (absent: empty store). A file that is not JSON is refused
 * whole; an entry that jitd could not have written is refused alone (see load_entry), and
 * the file as read is kept as grants.json.refused for whoever looks into it.
 */
/*
 * The state file read a grant at a time. json_load_file made the whole file one JSON tree
 * first: about 4.9 KB a grant (490 MB at 100,000 grants, 4.9 GB at 1,000,000) before the
 * first grant was taken. Now the text is scanned (strings with their escapes, nesting):
 * the top-level keys other than "grants" are parsed into a small object, and each element
 * of "grants" is parsed alone, taken, and freed. Anything the scan does not take for
 * well-formed JSON is read the old way, whole, which says where the file is wrong.
 */
/* The top-level object of text: its keys but "grants" into head, the bounds of the
 * "grants" value into *gi, *ge (0, 0 when absent). false: not scanned (malformed). */
static bool scan_top(const char *t, size_t n, json_t *head, size_t *gi, size_t *ge)
{
	size_t i = jq_space(t, n, 0), e;

	*gi = *ge = 0;
	if (i >= n || t[i++] != '{')
		return false;
	i = jq_space(t, n, i);
	if (i < n && t[i] == '}')
		return jq_space(t, n, i + 1) == n;
	for (;; i = jq_space(t, n, i + 1)) {
		json_t *k, *v;
		bool grants;

		e = i < n && t[i] == '"' ? jq_end(t, n, i) : 0;
		k = e ? json_loadb(t + i, e - i, JSON_DECODE_ANY, NULL) : NULL;
		grants = k && !strcmp(json_string_value(k) ?: "", "grants");
		i = jq_space(t, n, e);
		if (!json_is_string(k) || i >= n || t[i] != ':') {
			json_decref(k);
			return false;
		}
		i = jq_space(t, n, i + 1);
		e = jq_end(t, n, i);
		v = e && !grants ? json_loadb(t + i, e - i, JSON_DECODE_ANY, NULL) : NULL;
		/* a key twice: the first value would go unread (json_load_file parsed it) */
		if ((grants && *ge) || json_object_get(head, json_string_value(k))) {
			json_decref(v);
			json_decref(k);
			return false;
		}
		if (grants && e) {
			*gi = i;
			*ge = e;
		} else if (!v || json_object_set_new(head, json_string_value(k), v)) {
			json_decref(k);
			return false;
		}
		json_decref(k);
		i = jq_space(t, n, e);
		if (i >= n || t[i] != ',')
			break;
	}
	return i < n && t[i] == '}' && jq_space(t, n, i + 1) == n;
}

/* Each element of the "grants" array t[gi, ge) into s. 0, -EINVAL (malformed: the load
 * fails, jitd does not start) or -ENOMEM; *refused counts the refused entries. */
static int load_grants(struct grant_store *s, const char *t, size_t gi, size_t ge, bool same_boot,
		       int64_t real_now, int64_t boot_now, size_t *refused)
{
	size_t i = jq_space(t, ge, gi + 1), n = 0;

	if (i < ge && t[i] == ']')
		return i + 1 == ge ? 0 : -EINVAL;
	for (;;) {
		size_t e = 0;
		json_t *o = jq_value(t + i, ge - i, &e);
		int r;

		if (o) { /* what jitd writes: the quick reader's (json_quick.h) */
			e += i;
		} else { /* anything else: jansson's, which says what is wrong */
			e = jq_end(t, ge, i);
			o = e ? json_loadb(t + i, e - i, JSON_DECODE_ANY, NULL) : NULL;
		}

		if (!o)
			return -EINVAL;
		r = load_entry(s, o, n++, same_boot, real_now, boot_now);
		json_decref(o);
		if (r < 0)
			return r;
		*refused += r;
		i = jq_space(t, ge, e);
		if (i >= ge || t[i] != ',')
			return i + 1 == ge && t[i] == ']' ? 0 : -EINVAL;
		i = jq_space(t, ge, i + 1);
	}
}

/* The state file whole, as before: only to say where a file the scan refused is wrong. */
static int state_file_error(const struct grant_store *s)
{
	json_error_t jerr;
	json_t *root = json_load_file(s->path, 0, &jerr);

	if (root) {
		json_decref(root);
		log_err("%s: not read: a key given twice, or bytes jitd never writes (a NUL); "
			"check the file, or move it aside to start without its grants",
			s->path);
	} else {
		log_err("%s:%d:%d: %s", s->path, jerr.line, jerr.column, jerr.text);
	}
	return -EINVAL;
}

static int load_state_file(struct grant_store *s, int64_t real_now, int64_t boot_now)
{
	json_t *head = json_object(), *nid;
	size_t refused = 0, len = 0, gi, ge;
	char *text = NULL;
	bool same_boot;
	int err;

	err = head ? util_read_file(s->path, (size_t)1 << 40, &text, &len) : -ENOMEM;
	if (err) {
		json_decref(head);
		if (err == -ENOENT)
			return 0;
		log_err("cannot read %s: %s", s->path, strerror(-err));
		return err;
	}
	if (!scan_top(text, len, head, &gi, &ge)) {
		err = state_file_error(s);
		goto out;
	}
	nid = json_object_get(head, "next_id");
	if (!ge || text[gi] != '[' ||
	    (nid && (!json_is_integer(nid) || json_integer_value(nid) < 1 ||
		     json_integer_value(nid) >= GRANT_MAX_ID))) {
		log_err("%s: expected {\"next_id\": 1..%lld, \"grants\": [...]}", s->path,
			(long long)GRANT_MAX_ID - 1);
		err = -EINVAL;
		goto out;
	}
	s->next_id = nid ? json_integer_value(nid) : 1;
	s->seq = json_integer_value(json_object_get(head, "seq")); /* absent: 0 */
	same_boot = !strcmp(json_string_value(json_object_get(head, "boot_id")) ?: "",
			    current_boot_id());
	err = load_grants(s, text, gi, ge, same_boot, real_now, boot_now, &refused);
	if (err == -EINVAL)
		err = state_file_error(s);
	if (refused && !err)
		keep_refused(s, text, len, refused);
out:
	json_decref(head);
	free(text);
	return err;
}

/*
 * Load STATE_DIR/grants.json and replay STATE_DIR/grants.json.journal over it (either may
 * be absent: an empty store). A journal replayed is folded into the state file at once.
 */
int grant_store_load(struct grant_store *s, const char *state_dir)
{
	int64_t real_now = util_now_ns(CLOCK_REALTIME), boot_now = util_now_ns(CLOCK_BOOTTIME);
	int err;

	memset(s, 0, sizeof(*s));
	s->next_id = 1;
	if (asprintf(&s->path, "%s/grants.json", state_dir) < 0) {
		s->path = NULL;
		return -ENOMEM;
	}
	err = load_state_file(s, real_now, boot_now);
	if (err)
		return err;
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), cmp_id); /* grant_find: in id order */
	s->subj_ok = false;
	s->trim_due = true; /* what the file holds was never counted */
	err = journal_replay(s, real_now, boot_now);
	if (err > 0) {
		store_trim(s);
		err = grant_store_save(s);
	}
	malloc_trim(0); /* the file's JSON tree is freed: give its pages back (RSS) */
	return err;
}

/* After the state file was written whole: its lines are in it (a failure here is harmless:
 * lines whose seq the file has are skipped on load). */
static void journal_empty(struct grant_store *s)
{
	char *path;

	s->j_lines = 0;
	if (s->j_open) {
		if (ftruncate(s->j_fd, 0))
			log_warn("cannot empty the grant journal: %s", strerror(errno));
		return;
	}
	path = journal_path(s);
	if (path && unlink(path) && errno != ENOENT)
		log_warn("cannot remove %s: %s", path, strerror(errno));
	free(path);
}

static int journal_open(struct grant_store *s)
{
	char *path = journal_path(s), *slash;
	int r;

	if (!path)
		return -ENOMEM;
	s->j_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (s->j_fd < 0) {
		free(path);
		return -errno;
	}
	s->j_open = true;
	/* a journal just made is in its directory before a line is answered as written */
	slash = strrchr(path, '/');
	if (slash)
		slash[slash == path ? 1 : 0] = 0; /* "/x": "/" */
	r = util_fsync_dir(slash ? path : ".");
	free(path);
	return r;
}

/* Append text (len bytes) to the journal and sync it; on a short or failed write the journal
 * is cut back to where it was, so a line is there whole or not at all. 0 or -errno. */
static int journal_append(struct grant_store *s, const char *text, size_t len)
{
	off_t end = lseek(s->j_fd, 0, SEEK_END);
	size_t done = 0;
	int err = end < 0 ? -errno : 0;
	struct statvfs vfs;

	/* a full file system is refused, even when the line would fit in the journal's last
	 * block: the state file must still be written whole at the next fold */
	if (!err && !fstatvfs(s->j_fd, &vfs) && (uint64_t)vfs.f_bavail * vfs.f_frsize < len)
		err = -ENOSPC;

	while (!err && done < len) {
		ssize_t w = write(s->j_fd, text + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		err = w < 0 ? -errno : 0;
		done += w > 0 ? (size_t)w : 0;
	}
	if (!err && fdatasync(s->j_fd))
		err = -errno;
	if (err && end >= 0 && ftruncate(s->j_fd, end))
		log_err("cannot cut back the grant journal: %s", strerror(errno));
	return err;
}

/*
 * Persist one changed (or new) grant: a line {"seq", "boot_id", "next_id", "grant"} appended
 * to the journal and synced, before any reply. When the journal has half as many lines as
 * the store has grants (and at least GRANT_JOURNAL_MIN), the store is written whole instead
 * and the journal emptied: a change costs O(1) amortised, not the whole store (adds only:
 * a whole write each time the store grew by half).
 */
int grant_store_put(struct grant_store *s, const struct grant *g)
{
	json_t *line, *o;
	char *text = NULL, *nl;
	size_t len = 0;
	int err;

	/* every change is put here: one that lets store_trim drop g makes its scan due */
	s->trim_due = s->trim_due || droppable(g);
	if (s->j_lines >= GRANT_JOURNAL_MIN && 2 * s->j_lines >= s->n)
		return grant_store_save(s);
	if (!s->j_open && (err = journal_open(s))) {
		log_err("cannot open the grant journal of %s: %s", s->path, strerror(-err));
		return err;
	}
	o = grant_to_state(g);
	line = o ? json_pack("{s:I,s:s,s:I,s:o}", "seq", (json_int_t)(s->seq + 1), "boot_id",
			     current_boot_id(), "next_id", (json_int_t)s->next_id, "grant", o)
		 : NULL;
	if (line)
		text = json_dumps(line, JSON_COMPACT);
	json_decref(line);
	if (text)
		len = strlen(text);
	nl = text ? realloc(text, len + 2) : NULL;
	if (!nl) {
		free(text);
		log_err("cannot write the grant journal: out of memory");
		return -ENOMEM;
	}
	text = nl;
	memcpy(text + len, "\n", 2);
	err = journal_append(s, text, len + 1);
	free(text);
	if (err) {
		log_err("cannot write the grant journal of %s: %s", s->path, strerror(-err));
		return err;
	}
	s->seq++;
	s->j_lines++;
	return 0;
}

/* Write the store whole (atomic replace, fsync), then empty the journal (its lines are
 * in it: their seq is at most the file's) — done before any reply; all of it or nothing. */
/*
 * The state file's text, built one grant at a time: the whole store as one JSON tree took
 * 4 KB a grant at every save (450 MB at 100,000 grants) before its text. The same document
 * as one json_dumps of it: the header's keys, then "grants". NULL when out of memory.
 */
static char *state_text(const struct grant_store *s, size_t *len)
{
	json_t *head = json_object();
	char *text = NULL, *line = NULL;
	bool ok = head && put(head, "version", json_integer(1)) &&
		  put(head, "seq", json_integer((json_int_t)s->seq)) &&
		  put(head, "boot_id", json_string(current_boot_id())) &&
		  put(head, "next_id", json_integer((json_int_t)s->next_id));
	FILE *f;

	if (ok)
		line = json_dumps(head, JSON_COMPACT); /* {"version":1,...,"next_id":N} */
	json_decref(head);
	f = line ? open_memstream(&text, len) : NULL;
	ok = f && fprintf(f, "%.*s,\"grants\":[", (int)strlen(line) - 1, line) > 0;
	free(line);
	for (size_t i = 0; ok && i < s->n; i++) {
		json_t *o = grant_to_state(&s->v[i]);

		line = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		ok = line && fprintf(f, "%s%s", i ? "," : "", line) > 0;
		free(line);
	}
	ok = ok && fputs("]}", f) >= 0;
	if (f && fclose(f))
		ok = false;
	if (!ok) {
		free(text);
		return NULL;
	}
	return text;
}

int grant_store_save(struct grant_store *s)
{
	size_t len = 0;
	char *text = state_text(s, &len);
	int err;

	/* grants that end on a timer (expiry, idle, first use missed, fleet) are saved here,
	 * not put: one may have become droppable */
	s->trim_due = true;
	if (!text) {
		log_err("cannot write %s: out of memory", s->path);
		return -ENOMEM;
	}
	err = util_write_atomic(s->path, text, len, 0600);
	free(text);
	malloc_trim(0); /* the whole store's text: give its pages back (RSS) */
	if (err)
		log_err("cannot write %s: %s", s->path, strerror(-err));
	else
		journal_empty(s);
	return err;
}

/* The store is in id order (ids are handed out increasing, grant_store_load sorts): a
 * binary search, not a scan per request at 100,000 grants. */
struct grant *grant_find(struct grant_store *s, uint64_t id)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid].id == id)
			return &s->v[mid];
		if (s->v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

size_t grant_count_active(const struct grant_store *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->v[i].state == GRANT_ACTIVE;
	return n;
}

/*
 * A restarted unit (or a cgroup removed and made again) has a new cgroup id at the same
 * path: bind the active cgroup and unit grants on such a path to the new id.
 */
int grant_rebind_cgroups(struct agent *a)
{
	int64_t now = util_now_ns(CLOCK_REALTIME);
	int moved = 0, r;

	for (size_t i = 0; i < a->grants.n; i++) {
		struct grant *g = &a->grants.v[i];
		uint64_t id, old = g->cgroup_id;

		if (!grant_follows_path(g) || util_cgroup_id(a->cgroup_root, g->cgroup, &id) ||
		    id == old)
			continue;
		g->cgroup_id = id;
		a->grants.subj_ok = false; /* its subject changed */
		/* a unit that restarts in a loop would grow it without end (as extend would) */
		if (!req_history_full(g))
			req_history_add(g, "rebound", 0, "cgroup made again (unit restarted)", now);
		log_info("grant %llu: %s is a new cgroup (id %llu, was %llu); the grant follows it",
			 (unsigned long long)g->id, g->cgroup, (unsigned long long)id,
			 (unsigned long long)old);
		change(&a->grants, "rebound",
		       json_pack("{s:o,s:I}", "grant", grant_to_json(g), "old_cgroup_id",
				 (json_int_t)old));
		moved++;
	}
	if (!moved)
		return 0;
	r = grant_store_save(&a->grants);
	if (r)
		log_err("cannot save the grants: %s", strerror(-r));
	r = image_sync_all(a);
	if (r)
		log_err("cannot update the kernel's grants: %s", strerror(-r));
	return r;
}

/* Drop the oldest ended grants beyond GRANT_KEEP_ENDED; unreviewed break-glass grants are
 * never dropped (list --unreviewed is the backlog) and do not count. */
static void store_trim(struct grant_store *s)
{
	size_t ended = 0, drop, w = 0;

	/* no grant became droppable since the last scan: nothing to count (a pass over the
	 * store at every grant was most of a grant's cost at 100,000) */
	if (!s->trim_due)
		return;
	s->trim_due = false;
	for (size_t i = 0; i < s->n; i++)
		ended += droppable(&s->v[i]);
	if (ended <= GRANT_KEEP_ENDED)
		return;
	drop = ended - GRANT_KEEP_ENDED;
	for (size_t i = 0; i < s->n; i++) {
		if (drop && droppable(&s->v[i])) {
			req_grant_clear(&s->v[i]);
			drop--;
			continue;
		}
		s->v[w++] = s->v[i];
	}
	s->n = w;
	s->subj_ok = false; /* grants moved */
}

/*
 * Add a new grant, ACTIVE (possibly scheduled) or PENDING as g->state says (g is filled
 * by the caller: resources, subject, times, reason, uids; its strings and JSON are taken
 * over). Persisted before the kernel map is written, so a crash never leaves a kernel
 * grant the store does not know. On success g->id is set.
 */
int grant_add(struct agent *a, struct grant *g, char *err, size_t errlen)
{
	int r;

	/*
	 * A scope whose path could not be copied (strdup failed in the caller) or is missing
	 * its id would turn "uid within cgroup" into "uid anywhere": nothing is granted.
	 */
	if (!g->cgroup != !g->cgroup_id) {
		snprintf(err, errlen, "cannot record the grant's cgroup: out of memory");
		req_grant_clear(g);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < g->n_res; i++) {
		if (policy_find(a->policy, g->res[i]))
			continue;
		snprintf(err, errlen, "unknown resource '%s'", g->res[i]);
		req_grant_clear(g);
		return -ENOENT;
	}
	if (g->state != GRANT_PENDING)
		g->state = GRANT_ACTIVE;
	g->id = a->grants.next_id++;
	g->starts_boot = real_to_boot(g->starts_ns);
	g->expires_boot = real_to_boot(g->expires_ns);
	g->live = g->starts_boot <= (uint64_t)util_now_ns(CLOCK_BOOTTIME);
	if (g->max_idle_s)
		g->idle_until_boot = g->starts_boot + g->max_idle_s * (uint64_t)NS_PER_S;
	if (g->first_by_ns)
		g->first_by_boot = real_to_boot(g->first_by_ns);
	r = store_append(&a->grants, g);
	if (r) {
		snprintf(err, errlen, "cannot keep the grant: out of memory");
		req_grant_clear(g);
		return r;
	}
	store_trim(&a->grants);
	/* the new grant is the last entry (trimming keeps the order) */
	r = grant_store_put(&a->grants, &a->grants.v[a->grants.n - 1]);
	if (r) {
		/* not on disk: not granted (it is the last entry; trimming keeps the order) */
		req_grant_clear(&a->grants.v[--a->grants.n]);
		snprintf(err, errlen, "cannot record the grant: %s", strerror(-r));
		return r;
	}
	if (g->state == GRANT_ACTIVE) {
		struct grant *ng = grant_find(&a->grants, g->id);

		r = image_sync_grant(a, ng);
		if (r) {
			/* Kernel map full or failing: the grant must not stand anywhere. */
			ng->state = GRANT_REVOKED;
			ng->ended_ns = util_now_ns(CLOCK_REALTIME);
			/* the journal's last line says active: a restart must not bring it back */
			if (grant_store_put(&a->grants, ng) && grant_store_save(&a->grants))
				log_err("grant %llu: refused, but the state file still says "
					"active: "
					"a restart would enforce it until the state file is "
					"written whole (make room in the state directory)",
					(unsigned long long)ng->id);
			if (image_sync_grant(a, ng))
				log_err("grant %llu: refused, but a kernel key of it may stand "
					"until its expiry",
					(unsigned long long)ng->id);
			snprintf(err, errlen, "cannot write the grant to the kernel: %s%s",
				 strerror(-r),
				 r == -E2BIG || r == -ENOSPC ? " (grant map full)" : "");
			return r;
		}
	}
	a->ops.grants_changed(a, grant_find(&a->grants, g->id));
	return 0;
}

/* Remember g as it is, so that a change that cannot be persisted can be taken back. */
void grant_mark(const struct grant *g, struct grant *before)
{
	*before = *g;
	before->history = hist_dup(g->history);
}

/* Forget a mark (the change was refused before anything was written). */
void grant_mark_drop(struct grant *before)
{
	free(before->history);
}

/*
 * Persist a changed grant and write its kernel keys (approval, extension, denial...).
 * When the state file cannot be written, g goes back to before (its mark, consumed
 * either way): nothing is promised that is not on disk.
 */
int grant_commit(struct agent *a, struct grant *g, struct grant *before)
{
	int r = grant_store_put(&a->grants, g);

	if (r) {
		free(g->history);
		*g = *before;
		return r;
	}
	free(before->history);
	r = image_sync_grant(a, g);
	if (r)
		log_err("grant %llu: cannot write its kernel keys: %s", (unsigned long long)g->id,
			strerror(-r));
	a->ops.grants_changed(a, g);
	return r;
}

/* A pending request got its last approval: its clock starts now (see grant_commit). */
int grant_activate(struct agent *a, struct grant *g, struct grant *before)
{
	int64_t now = util_now_ns(CLOCK_REALTIME);

	g->state = GRANT_ACTIVE;
	g->starts_ns = now;
	g->expires_ns = now + g->duration_s * NS_PER_S;
	g->starts_boot = real_to_boot(g->starts_ns);
	g->expires_boot = g->starts_boot + g->duration_s * (uint64_t)NS_PER_S;
	g->live = true;
	return grant_commit(a, g, before);
}

/*
 * Kill the process tree of ended grant g's cgroup (ops.scope_kill: cgroup.kill, or SIGKILL
 * to each process) and queue its "killed" record {grant_id, cgroup, processes, ended}, with
 * by_uid when someone ended it (not for an expiry: jitd did), "on_end": "kill" when its
 * rule asked for it and "error" when the kill failed. A grant without a cgroup has no tree
 * jitd could name: nothing is killed, and a "kill_skipped" record says why. Returns the
 * processes signalled, or negative errno.
 */
static int tree_kill(struct agent *a, const struct grant *g, const uid_t *by, bool on_end)
{
	json_t *f;
	int n;

	if (!g->cgroup) {
		f = json_pack("{s:I,s:s,s:s}", "grant_id", (json_int_t)g->id, "ended",
			      req_state_name(g->state), "why",
			      "not bound to a cgroup (only jitctl exec, --cgroup and --unit grants "
			      "are): jitd cannot tell which processes used it");
		n = 0;
	} else {
		n = a->ops.scope_kill(a, g->cgroup);
		f = json_pack("{s:I,s:s,s:i,s:s}", "grant_id", (json_int_t)g->id, "cgroup",
			      g->cgroup, "processes", n > 0 ? n : 0, "ended",
			      req_state_name(g->state));
	}
	if (f && by)
		json_object_set_new(f, "by_uid", json_integer(*by));
	if (f && on_end)
		json_object_set_new(f, "on_end", json_string("kill"));
	if (f && n < 0)
		json_object_set_new(f, "error", json_string(strerror(-n)));
	if (n < 0)
		log_warn("grant %llu ended: cannot kill the processes of %s: %s",
			 (unsigned long long)g->id, g->cgroup, strerror(-n));
	change(&a->grants, g->cgroup ? "killed" : "kill_skipped", f);
	return n;
}

/* What ending a grant does to its cgroup's process tree. */
enum end_tree {
	END_TREE_KEEP,	 /* nothing (grant_end) */
	END_TREE_ON_END, /* what its rule's on_end says */
	END_TREE_KILL,	 /* kill it (revoke --kill) */
};

/*
 * End an open grant or request: state, history entry, disk, kernel; then its cgroup's
 * process tree as tree says (*killed, when not NULL: what tree_kill returned, else 0);
 * then the exec cgroup.
 */
static int end_grant(struct agent *a, struct grant *g, enum grant_state st, const char *event,
		     uid_t by, const char *reason, enum end_tree tree, int *killed)
{
	bool started = g->state == GRANT_ACTIVE && g->starts_ns <= util_now_ns(CLOCK_REALTIME);
	struct grant before;
	int r, n = 0;

	/* its last count, saved with its end (the entry goes with its keys) */
	if (g->state == GRANT_ACTIVE)
		usage_read(a, g);
	grant_mark(g, &before);
	g->state = st;
	g->ended_ns = util_now_ns(CLOCK_REALTIME);
	req_history_add(g, event, by, reason, g->ended_ns);
	r = grant_store_put(&a->grants, g);
	if (r) {
		free(g->history);
		*g = before;
		return r;
	}
	grant_mark_drop(&before);
	if (before.state == GRANT_ACTIVE)
		r = image_sync_grant(a, g);
	/* the kernel refuses the grant first, then its tree is ended (on_end: once it started) */
	if (tree == END_TREE_KILL || (tree == END_TREE_ON_END && started && g->on_end_kill))
		n = tree_kill(a, g, &by, tree == END_TREE_ON_END);
	if (killed)
		*killed = n;
	if (g->kind == GRANT_EXEC)
		a->ops.grant_ended(a, g);
	a->ops.grants_changed(a, g);
	return r;
}

/* End an open grant or request: state, history entry, disk, kernel, exec cgroup. Its rule's
 * on_end is not applied here: the ends that come through here leave no tree (an exec tree
 * that exited, fleet grants); grant_revoke and grant_expire_due apply it. */
int grant_end(struct agent *a, struct grant *g, enum grant_state st, const char *event, uid_t by,
	      const char *reason)
{
	return end_grant(a, g, st, event, by, reason, END_TREE_KEEP, NULL);
}

/* End an active grant (or cancel a pending request) by revocation; a started grant whose
 * rule says "on_end": "kill" takes its cgroup's process tree with it. */
int grant_revoke(struct agent *a, uint64_t id, uid_t by, const struct grant **out)
{
	return grant_revoke_kill(a, id, by, false, out, NULL);
}

/* grant_revoke, and with kill (revoke --kill) the tree is killed whatever the rule says. */
int grant_revoke_kill(struct agent *a, uint64_t id, uid_t by, bool kill, const struct grant **out,
		      int *killed)
{
	struct grant *g = grant_find(&a->grants, id);

	if (killed)
		*killed = 0;
	if (!g)
		return -ENOENT;
	if (!is_open(g))
		return -EALREADY;
	*out = g;
	return end_grant(a, g, GRANT_REVOKED, "revoked", by, NULL,
			 kill ? END_TREE_KILL : END_TREE_ON_END, killed);
}

/*
 * An active grant with a "max_idle" whose idle deadline passed: read its usage (a use since
 * moves the deadline), and if it is still idle end it as expired, "why": "idle" (the
 * kernel already refuses it: its usage entry says idle too). True when it ended.
 */
static bool idled_out(struct agent *a, struct grant *g, uint64_t now)
{
	json_t *f;

	if (g->idle_until_boot > now)
		return false;
	if (usage_read(a, g)) {
		/* no entry to read (an older jitd's grant): its window alone bounds it */
		g->idle_until_boot = g->expires_boot;
		return false;
	}
	if (g->idle_until_boot > now)
		return false;
	g->ended_ns = util_now_ns(CLOCK_REALTIME);
	req_history_add(g, "idle_expired", 0, NULL, g->ended_ns);
	g->state = GRANT_EXPIRED;
	image_sync_grant(a, g);
	f = json_pack("{s:o,s:s,s:I}", "grant", grant_to_json(g), "why", "idle", "idle_s",
		      (json_int_t)g->max_idle_s);
	change(&a->grants, "expired", f);
	if (g->on_end_kill)
		tree_kill(a, g, NULL, true);
	if (g->kind == GRANT_EXEC)
		a->ops.grant_ended(a, g);
	return true;
}

/*
 * An unused first-use grant (checked every second and at list/show). Its first use, read
 * from the kernel, starts its clock: it starts at that use and expires at the earlier of
 * that use + its duration and its outer bound; history "first_use", its kernel window
 * rewritten, record "activated" "why": "first use". Unused at its latest start, it ends
 * (the kernel already refuses it): "first_use_missed", "expired". True when it changed.
 */
static bool first_use_step(struct agent *a, struct grant *g, uint64_t now)
{
	const char *why = "not used before its latest start";

	if (g->state != GRANT_ACTIVE || !g->live || !g->first_by_ns)
		return false;
	usage_read(a, g);
	if (g->first_use_ns) {
		g->starts_ns = g->first_use_ns;
		g->starts_boot = g->first_use_boot ?: real_to_boot(g->first_use_ns);
		if (g->first_use_ns + g->duration_s * NS_PER_S < g->expires_ns) {
			g->expires_ns = g->first_use_ns + g->duration_s * NS_PER_S;
			g->expires_boot = g->starts_boot + g->duration_s * (uint64_t)NS_PER_S;
		}
		g->first_by_ns = 0;
		req_history_add(g, "first_use", 0, NULL, g->first_use_ns);
		image_sync_grant(a, g);
		change(&a->grants, "activated",
		       json_pack("{s:o,s:s}", "grant", grant_to_json(g), "why", "first use"));
		return true;
	}
	if (g->first_by_boot > now)
		return false;
	g->ended_ns = util_now_ns(CLOCK_REALTIME);
	req_history_add(g, "first_use_missed", 0, NULL, g->ended_ns);
	g->state = GRANT_EXPIRED;
	image_sync_grant(a, g);
	change(&a->grants, "expired",
	       json_pack("{s:o,s:s}", "grant", grant_to_json(g), "why", why));
	return true;
}

int grant_first_use_due(struct agent *a)
{
	uint64_t now = util_now_ns(CLOCK_BOOTTIME);
	int n = 0;

	for (size_t i = 0; i < a->grants.n; i++)
		n += first_use_step(a, &a->grants.v[i], now);
	return n ? grant_store_save(&a->grants) : 0;
}

/*
 * Timer work: end grants whose boot-clock expiry has passed (the kernel already refuses
 * them), expire pending requests past their deadline, and re-sync the keys of scheduled
 * grants that just started. Returns how many grants changed.
 */
int grant_expire_due(struct agent *a)
{
	uint64_t now = util_now_ns(CLOCK_BOOTTIME);
	int n = 0, r;

	for (size_t i = 0; i < a->grants.n; i++) {
		struct grant *g = &a->grants.v[i];
		bool kill;

		if (g->state == GRANT_ACTIVE && !g->live && g->starts_boot <= now &&
		    g->expires_boot > now) {
			g->live = true;
			image_sync_grant(a, g);
			change(&a->grants, "activated",
			       json_pack("{s:o}", "grant", grant_to_json(g)));
			continue;
		}
		if (first_use_step(a, g, now)) {
			n++;
			continue;
		}
		if (g->state == GRANT_ACTIVE && g->live && g->max_idle_s && g->expires_boot > now &&
		    idled_out(a, g, now)) {
			n++;
			continue;
		}
		if (!is_open(g) || g->expires_boot > now)
			continue;
		if (g->state == GRANT_ACTIVE)
			usage_read(a, g); /* its last count, before the entry goes */
		g->ended_ns = util_now_ns(CLOCK_REALTIME);
		req_history_add(g, g->state == GRANT_PENDING ? "request_expired" : "expired", 0,
				NULL, g->ended_ns);
		kill = g->state == GRANT_ACTIVE && g->on_end_kill;
		if (g->state == GRANT_ACTIVE) {
			g->state = GRANT_EXPIRED;
			image_sync_grant(a, g);
		}
		g->state = GRANT_EXPIRED;
		change(&a->grants, "expired", json_pack("{s:o}", "grant", grant_to_json(g)));
		/* after the kernel's refusal and the expired record, before the exec cgroup */
		if (kill)
			tree_kill(a, g, NULL, true);
		if (g->kind == GRANT_EXEC)
			a->ops.grant_ended(a, g);
		n++;
	}
	if (!n)
		return 0;
	r = grant_store_save(&a->grants);
	return r ? r : n;
}

int64_t grant_due_boot(const struct grant *g)
{
	int64_t t = g->expires_boot;

	if (!is_open(g))
		return -1;
	if (g->state == GRANT_ACTIVE && !g->live && (int64_t)g->starts_boot < t)
		t = g->starts_boot;
	/* the earliest it can idle out (a use since moves it later: read then) */
	if (g->state == GRANT_ACTIVE && g->live && g->max_idle_s && (int64_t)g->idle_until_boot < t)
		t = g->idle_until_boot;
	/* unused first-use: its first use is looked for every second, until its latest start */
	if (g->state == GRANT_ACTIVE && g->live && g->first_by_ns) {
		int64_t poll = util_now_ns(CLOCK_BOOTTIME) + NS_PER_S;

		t = (int64_t)g->first_by_boot < t ? (int64_t)g->first_by_boot : t;
		t = poll < t ? poll : t;
	}
	return t;
}

/* Boot-clock time of the next start, expiry or pending deadline, or -1. */
int64_t grant_next_expiry_boot(const struct agent *a)
{
	int64_t next = -1;

	for (size_t i = 0; i < a->grants.n; i++) {
		int64_t t = grant_due_boot(&a->grants.v[i]);

		if (t >= 0 && (next < 0 || t < next))
			next = t;
	}
	return next;
}

/* End the store's open fleet grants that the policy in force no longer lists. */
static bool fleet_end_unlisted(struct agent *a, int64_t now)
{
	const struct policy *p = a->policy;
	bool changed = false;
	char key[512];

	for (size_t i = 0; i < a->grants.n; i++) {
		struct grant *g = &a->grants.v[i];
		bool listed = false;

		/* the fleet database's grants ("db:ID") are fleet.c's to end */
		if (g->kind != GRANT_FLEET || !is_open(g) ||
		    (g->fleet_key &&
		     !strncmp(g->fleet_key, FLEET_KEY_PREFIX, strlen(FLEET_KEY_PREFIX))))
			continue;
		for (size_t j = 0; j < p->n_grants && !listed; j++)
			listed = p->grants[j].here &&
				 !strcmp(policy_grant_key(&p->grants[j], key, sizeof(key)),
					 g->fleet_key ?: "");
		if (listed)
			continue;
		usage_read(a, g); /* its last count: image_sync_all drops the entry */
		g->state = GRANT_REVOKED;
		g->ended_ns = now;
		req_history_add(g, "removed_by_policy", 0, NULL, now);
		change(&a->grants, "revoked",
		       json_pack("{s:o,s:s}", "grant", grant_to_json(g), "by", "policy"));
		changed = true;
	}
	return changed;
}

static bool fleet_have(const struct grant_store *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].kind == GRANT_FLEET && s->v[i].fleet_key &&
		    !strcmp(s->v[i].fleet_key, key))
			return true;
	return false;
}

/*
 * The new fleet grant of pg (key: its policy_grant_key), its strings copied: 0, 1 when
 * its cgroup does not exist (skipped, logged), or -ENOMEM (g owns nothing then).
 */
static int fleet_grant_new(struct agent *a, const struct policy_grant *pg, const char *key,
			   int64_t now, struct grant *g)
{
	char name[1][POLICY_MAX_NAME];

	snprintf(name[0], sizeof(name[0]), "%s", pg->resource);
	*g = (struct grant){.n_res = 1,
			    .res = name,
			    .kind = GRANT_FLEET,
			    .state = GRANT_ACTIVE,
			    .has_uid = pg->has_uid,
			    .uid = pg->uid,
			    .created_ns = now,
			    .starts_ns = pg->not_before_ns ?: now,
			    .expires_ns = pg->not_after_ns};
	if (req_grant_own_res(g)) {
		g->res = NULL;
		return -ENOMEM;
	}
	if (pg->cgroup) {
		char full[4096];
		struct stat st;

		snprintf(full, sizeof(full), "%s%s", a->cgroup_root, pg->cgroup);
		if (stat(full, &st)) {
			log_warn("fleet grant %s: cgroup %s: %s; skipped", key, pg->cgroup,
				 strerror(errno));
			req_grant_clear(g);
			return 1;
		}
		g->cgroup_id = st.st_ino;
		g->cgroup = strdup(pg->cgroup);
	}
	g->duration_s = (g->expires_ns - (g->starts_ns > now ? g->starts_ns : now)) / NS_PER_S;
	g->reason = pg->reason ? strdup(pg->reason) : NULL;
	g->fleet_key = strdup(key);
	g->history = hist_empty();
	/* a missing copy (the cgroup above all) would widen the grant: none is made */
	if ((pg->cgroup && !g->cgroup) || (pg->reason && !g->reason) || !g->fleet_key ||
	    !g->history) {
		req_grant_clear(g);
		return -ENOMEM;
	}
	return 0;
}

/* Room for n grants in s, so that appending them cannot fail half-way. */
static int store_reserve(struct grant_store *s, size_t n)
{
	struct grant *nv;

	if (n <= s->cap)
		return 0;
	nv = realloc(s->v, n * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	s->v = nv;
	s->cap = n;
	return 0;
}

/*
 * Make the store's fleet grants those of the policy in force: keep the ones still listed,
 * end the ones no longer listed ("removed by policy"), add new ones whose window has not
 * passed. Everything is allocated before the store changes (out of memory: nothing
 * changes), and one save covers the whole change, so a push is applied all at once.
 */
int grant_apply_fleet(struct agent *a)
{
	const struct policy *p = a->policy;
	int64_t now = util_now_ns(CLOCK_REALTIME);
	struct grant *add = calloc(p->n_grants + 1, sizeof(*add));
	size_t n_add = 0;
	char key[512];
	bool changed;
	int r = 0;

	if (!add)
		return -ENOMEM;
	for (size_t j = 0; j < p->n_grants && r >= 0; j++) {
		policy_grant_key(&p->grants[j], key, sizeof(key));
		if (!p->grants[j].here || fleet_have(&a->grants, key) ||
		    p->grants[j].not_after_ns <= now)
			continue;
		r = fleet_grant_new(a, &p->grants[j], key, now, &add[n_add]);
		n_add += r == 0;
	}
	if (r >= 0)
		r = store_reserve(&a->grants, a->grants.n + n_add);
	if (r < 0) {
		for (size_t i = 0; i < n_add; i++)
			req_grant_clear(&add[i]);
		free(add);
		return r;
	}
	changed = fleet_end_unlisted(a, now) || n_add;
	for (size_t i = 0; i < n_add; i++) {
		struct grant *g = &add[i];

		/* not via grant_add: one save for the whole push */
		req_history_add(g, "granted_by_policy", 0, g->reason, now);
		g->id = a->grants.next_id++;
		g->starts_boot = real_to_boot(g->starts_ns);
		g->expires_boot = real_to_boot(g->expires_ns);
		store_append(&a->grants, g); /* cannot fail: room reserved */
		change(&a->grants, "granted",
		       json_pack("{s:o,s:s}", "grant", grant_to_json(g), "by", "policy"));
	}
	free(add);
	if (!changed)
		return 0;
	r = grant_store_save(&a->grants);
	if (!r)
		r = image_sync_all(a);
	a->ops.grants_changed(a, NULL);
	return r;
}
