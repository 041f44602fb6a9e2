// SPDX-License-Identifier: GPL-2.0-only
/*
 * The grant store: every grant jitd made, persisted in STATE_DIR/grants.json
 * (atomic replace + fsync) before a client hears about it, and its image in the
 * kernel's grants map: for each key, the active grant that ends last.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "jitd.h"
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

/* Boot-clock time of a realtime instant, as seen now. */
static uint64_t real_to_boot(int64_t real_ns)
{
	int64_t b = util_now_ns(CLOCK_BOOTTIME) + (real_ns - util_now_ns(CLOCK_REALTIME));

	return b > 0 ? (uint64_t)b : 0;
}

static const char *state_name(enum grant_state s)
{
	switch (s) {
	case GRANT_ACTIVE:
		return "active";
	case GRANT_EXPIRED:
		return "expired";
	case GRANT_REVOKED:
		return "revoked";
	case GRANT_PENDING:
		return "pending";
	case GRANT_DENIED:
		return "denied";
	}
	return "unknown";
}

/* The protocol's state: an active grant whose start is ahead is "scheduled". */
const char *grant_state_name(const struct grant *g)
{
	if (g->state == GRANT_ACTIVE && g->starts_ns > util_now_ns(CLOCK_REALTIME))
		return "scheduled";
	return state_name(g->state);
}

static enum grant_state state_parse(const char *s)
{
	static const enum grant_state all[] = { GRANT_EXPIRED, GRANT_REVOKED, GRANT_PENDING,
						GRANT_DENIED };

	for (size_t i = 0; s && i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(s, state_name(all[i])))
			return all[i];
	return GRANT_ACTIVE;
}

static const char *const kind_names[] = { [GRANT_DIRECT] = "direct",
					  [GRANT_REQUEST] = "request",
					  [GRANT_EXEC] = "exec",
					  [GRANT_FLEET] = "fleet" };

static enum grant_kind kind_parse(const char *s)
{
	for (size_t i = 0; s && i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
		if (!strcmp(s, kind_names[i]))
			return i;
	return GRANT_DIRECT;
}

static void grant_clear(struct grant *g)
{
	free(g->cgroup);
	free(g->reason);
	free(g->fleet_key);
	json_decref(g->approvers);
	json_decref(g->history);
}

static bool is_open(const struct grant *g)
{
	return g->state == GRANT_ACTIVE || g->state == GRANT_PENDING;
}

static json_t *res_json(const struct grant *g)
{
	json_t *arr = json_array();

	for (unsigned i = 0; i < g->n_res; i++)
		json_array_append_new(arr, json_string(g->res[i]));
	return arr;
}

static int res_from_json(json_t *o, struct grant *g)
{
	json_t *arr = json_object_get(o, "resources"), *v;
	size_t i;

	g->n_res = 0;
	if (!arr) {
		if (!json_is_string(json_object_get(o, "resource")))
			return -EINVAL;
		snprintf(g->res[0], sizeof(g->res[0]), "%s",
			 json_string_value(json_object_get(o, "resource")));
		g->n_res = 1;
		return 0;
	}
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || g->n_res >= GRANT_MAX_RES)
			return -EINVAL;
		snprintf(g->res[g->n_res++], sizeof(g->res[0]), "%s", json_string_value(v));
	}
	return g->n_res ? 0 : -EINVAL;
}

void grant_store_free(struct grant_store *s)
{
	for (size_t i = 0; i < s->n; i++)
		grant_clear(&s->v[i]);
	free(s->v);
	free(s->path);
	memset(s, 0, sizeof(*s));
}

static int store_append(struct grant_store *s, const struct grant *g)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct grant *nv = realloc(s->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = *g;
	return 0;
}

static void add_time(json_t *o, const char *key, int64_t ns)
{
	char buf[40];

	json_object_set_new(o, key, json_string(util_format_time(ns, buf, sizeof(buf))));
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
	json_object_set_new(o, "kind", json_string(kind_names[g->kind]));
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
		      1000000000;
	json_object_set_new(o, "remaining_s", json_integer(rem));
	if (g->ended_ns)
		add_time(o, "ended", g->ended_ns);
	if (g->reason)
		json_object_set_new(o, "reason", json_string(g->reason));
	json_object_set_new(o, "granted_by", json_pack("{s:i}", "uid", (int)g->by_uid));
	json_object_set_new(o, "requested_by", json_pack("{s:i}", "uid", (int)g->requester_uid));
	if (g->kind == GRANT_REQUEST)
		json_object_set_new(o, "approvals",
				    json_pack("{s:i,s:i}", "needed", (int)g->approvals_needed,
					      "given", (int)req_approval_count(g)));
	if (g->max_duration_s)
		json_object_set_new(o, "max_duration_s", json_integer(g->max_duration_s));
	json_object_set_new(o, "history", g->history ? json_deep_copy(g->history) : json_array());
	return o;
}

/* The on-disk form: protocol fields plus exact nanosecond and boot-clock times. */
static json_t *grant_to_state(const struct grant *g)
{
	json_t *o = json_pack("{s:I,s:o,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:i}", "id",
			      (json_int_t)g->id, "resources", res_json(g), "state",
			      state_name(g->state), "created_ns", (json_int_t)g->created_ns,
			      "starts_ns", (json_int_t)g->starts_ns, "expires_ns",
			      (json_int_t)g->expires_ns, "ended_ns", (json_int_t)g->ended_ns,
			      "starts_boot", (json_int_t)g->starts_boot, "expires_boot",
			      (json_int_t)g->expires_boot, "by_uid", (int)g->by_uid);

	if (g->has_uid)
		json_object_set_new(o, "uid", json_integer(g->uid));
	if (g->cgroup) {
		json_object_set_new(o, "cgroup", json_string(g->cgroup));
		json_object_set_new(o, "cgroup_id", json_integer((json_int_t)g->cgroup_id));
	}
	if (g->reason)
		json_object_set_new(o, "reason", json_string(g->reason));
	json_object_set_new(o, "kind", json_string(kind_names[g->kind]));
	json_object_set_new(o, "requester_uid", json_integer(g->requester_uid));
	json_object_set_new(o, "duration_s", json_integer(g->duration_s));
	json_object_set_new(o, "max_duration_s", json_integer(g->max_duration_s));
	json_object_set_new(o, "approvals_needed", json_integer(g->approvals_needed));
	if (g->approvers)
		json_object_set(o, "approvers", g->approvers);
	if (g->history)
		json_object_set(o, "history", g->history);
	if (g->fleet_key)
		json_object_set_new(o, "fleet_key", json_string(g->fleet_key));
	return o;
}

static int grant_from_state(json_t *o, bool same_boot, struct grant *g)
{
	json_t *v;

	memset(g, 0, sizeof(*g));
	if (!json_is_object(o) || !json_is_integer(json_object_get(o, "id")) ||
	    res_from_json(o, g))
		return -EINVAL;
	g->id = json_integer_value(json_object_get(o, "id"));
	g->state = state_parse(json_string_value(json_object_get(o, "state")));
	g->kind = kind_parse(json_string_value(json_object_get(o, "kind")));
	g->requester_uid = json_integer_value(json_object_get(o, "requester_uid"));
	g->duration_s = json_integer_value(json_object_get(o, "duration_s"));
	g->max_duration_s = json_integer_value(json_object_get(o, "max_duration_s"));
	g->approvals_needed = json_integer_value(json_object_get(o, "approvals_needed"));
	if ((v = json_object_get(o, "approvers")) && json_is_array(v))
		g->approvers = json_incref(v);
	if ((v = json_object_get(o, "history")) && json_is_array(v))
		g->history = json_incref(v);
	if ((v = json_object_get(o, "fleet_key")) && json_is_string(v))
		g->fleet_key = strdup(json_string_value(v));
	g->created_ns = json_integer_value(json_object_get(o, "created_ns"));
	g->starts_ns = json_integer_value(json_object_get(o, "starts_ns"));
	g->expires_ns = json_integer_value(json_object_get(o, "expires_ns"));
	g->ended_ns = json_integer_value(json_object_get(o, "ended_ns"));
	g->by_uid = json_integer_value(json_object_get(o, "by_uid"));
	if ((v = json_object_get(o, "uid")) && json_is_integer(v)) {
		g->has_uid = true;
		g->uid = json_integer_value(v);
	}
	if ((v = json_object_get(o, "cgroup")) && json_is_string(v)) {
		g->cgroup = strdup(json_string_value(v));
		g->cgroup_id = json_integer_value(json_object_get(o, "cgroup_id"));
	}
	if ((v = json_object_get(o, "reason")) && json_is_string(v))
		g->reason = strdup(json_string_value(v));
	/* Same boot: the exact kernel times. After a reboot: re-armed from wall clock. */
	if (same_boot) {
		g->starts_boot = json_integer_value(json_object_get(o, "starts_boot"));
		g->expires_boot = json_integer_value(json_object_get(o, "expires_boot"));
	} else {
		g->starts_boot = real_to_boot(g->starts_ns);
		g->expires_boot = real_to_boot(g->expires_ns);
	}
	return 0;
}

/* Load STATE_DIR/grants.json (absent: empty store). */
int grant_store_load(struct grant_store *s, const char *state_dir)
{
	json_error_t jerr;
	json_t *root, *arr, *o;
	size_t i;
	bool same_boot;
	int err = 0;

	memset(s, 0, sizeof(*s));
	s->next_id = 1;
	if (asprintf(&s->path, "%s/grants.json", state_dir) < 0) {
		s->path = NULL;
		return -ENOMEM;
	}
	root = json_load_file(s->path, 0, &jerr);
	if (!root) {
		if (access(s->path, F_OK) && errno == ENOENT)
			return 0;
		log_err("%s:%d:%d: %s", s->path, jerr.line, jerr.column, jerr.text);
		return -EINVAL;
	}
	same_boot = !strcmp(json_string_value(json_object_get(root, "boot_id")) ?: "",
			    current_boot_id());
	s->next_id = json_integer_value(json_object_get(root, "next_id"));
	if (s->next_id < 1)
		s->next_id = 1;
	arr = json_object_get(root, "grants");
	json_array_foreach(arr, i, o)
	{
		struct grant g;

		err = grant_from_state(o, same_boot, &g);
		if (err) {
			log_err("%s: grant #%zu is malformed", s->path, i);
			break;
		}
		g.live = g.state == GRANT_ACTIVE &&
			 g.starts_boot <= (uint64_t)util_now_ns(CLOCK_BOOTTIME);
		err = store_append(s, &g);
		if (err)
			break;
		if (g.id >= s->next_id)
			s->next_id = g.id + 1;
	}
	json_decref(root);
	return err;
}

/* Write the store (atomic replace, fsync) — done before any reply. */
int grant_store_save(const struct grant_store *s)
{
	json_t *root = json_object(), *arr = json_array();
	char *text;
	int err;

	for (size_t i = 0; i < s->n; i++)
		json_array_append_new(arr, grant_to_state(&s->v[i]));
	json_object_set_new(root, "version", json_integer(1));
	json_object_set_new(root, "boot_id", json_string(current_boot_id()));
	json_object_set_new(root, "next_id", json_integer((json_int_t)s->next_id));
	json_object_set_new(root, "grants", arr);
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!text)
		return -ENOMEM;
	err = util_write_atomic(s->path, text, strlen(text), 0600);
	free(text);
	if (err)
		log_err("cannot write %s: %s", s->path, strerror(-err));
	return err;
}

struct grant *grant_find(struct grant_store *s, uint64_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].id == id)
			return &s->v[i];
	return NULL;
}

size_t grant_count_active(const struct grant_store *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->v[i].state == GRANT_ACTIVE;
	return n;
}

/* The kernel key of a grant's resource i; false if it is not in the policy. */
static bool grant_key(const struct agent *a, const struct grant *g, unsigned i,
		      struct jitd_grant_key *key)
{
	const struct policy_resource *r = policy_find(a->policy, g->res[i]);

	if (!r)
		return false;
	key->resource = r->id;
	key->uid = g->has_uid ? g->uid : JITD_ANY_UID;
	key->cgroup = g->cgroup ? g->cgroup_id : 0;
	return true;
}

/* Cgroup and unit grants (not exec grants, whose cgroup is made once for them). */
static bool follows_path(const struct grant *g)
{
	return g->state == GRANT_ACTIVE && g->cgroup && g->kind != GRANT_EXEC;
}

/*
 * The set of cgroups with an active cgroup grant, for the kernel's ptrace guard; and the
 * directories of cgroup-grant paths watched, for grant_rebind_cgroups.
 */
static void sync_granted_cgroups(struct agent *a)
{
	uint64_t *ids = calloc(a->grants.n + 1, sizeof(*ids));
	size_t n = 0;

	if (!ids)
		return;
	for (size_t i = 0; i < a->grants.n; i++) {
		if (a->grants.v[i].state == GRANT_ACTIVE && a->grants.v[i].cgroup)
			ids[n++] = a->grants.v[i].cgroup_id;
		if (follows_path(&a->grants.v[i]))
			scope_follow(a, &a->grants.v[i]);
	}
	if (kern_set_granted_cgroups(a->kern, ids, n))
		log_err("cannot update the granted-cgroups map");
	free(ids);
}

static bool grant_has_key(const struct agent *a, const struct grant *g,
			  const struct jitd_grant_key *key)
{
	struct jitd_grant_key k;

	if (g->state != GRANT_ACTIVE)
		return false;
	for (unsigned i = 0; i < g->n_res; i++)
		if (grant_key(a, g, i, &k) && !memcmp(&k, key, sizeof(k)))
			return true;
	return false;
}

/*
 * Write the kernel value for one key: of the active grants with that key, the started one
 * that ends last, else the one that starts first (a scheduled grant, written in advance:
 * the kernel checks its start). The expiry timer re-syncs at every start and end.
 */
static int sync_key(struct agent *a, const struct jitd_grant_key *key)
{
	uint64_t now = util_now_ns(CLOCK_BOOTTIME);
	const struct grant *best = NULL;

	for (size_t i = 0; i < a->grants.n; i++) {
		const struct grant *g = &a->grants.v[i];
		bool started, best_started;

		if (!grant_has_key(a, g, key))
			continue;
		if (!best) {
			best = g;
			continue;
		}
		started = g->starts_boot <= now;
		best_started = best->starts_boot <= now;
		if (started != best_started) {
			if (started)
				best = g;
		} else if (started ? g->expires_boot > best->expires_boot
				   : g->starts_boot < best->starts_boot) {
			best = g;
		}
	}
	if (key->cgroup)
		sync_granted_cgroups(a);
	if (!best)
		return kern_del_grant(a->kern, key);
	struct jitd_grant_val val = { .grant_id = best->id,
				      .starts_ns = best->starts_boot,
				      .expires_ns = best->expires_boot };
	return kern_put_grant(a->kern, key, &val);
}

/* Sync every key of grant g. */
static int sync_grant(struct agent *a, const struct grant *g)
{
	struct jitd_grant_key key;
	int r = 0;

	for (unsigned i = 0; i < g->n_res && !r; i++)
		if (grant_key(a, g, i, &key))
			r = sync_key(a, &key);
	return r;
}

static bool key_wanted(const struct jitd_grant_key *key, void *arg)
{
	struct agent *a = arg;

	for (size_t i = 0; i < a->grants.n; i++)
		if (grant_has_key(a, &a->grants.v[i], key))
			return true;
	return false;
}

/* Make the kernel grants map the image of the store (start-up, policy reload). */
int grant_sync_all(struct agent *a)
{
	uint64_t now = util_now_ns(CLOCK_BOOTTIME);
	int err;

	for (size_t i = 0; i < a->grants.n; i++) {
		struct grant *g = &a->grants.v[i];

		if (g->state != GRANT_ACTIVE)
			continue;
		err = sync_grant(a, g);
		if (err)
			return err;
		g->live = g->starts_boot <= now;
	}
	sync_granted_cgroups(a);
	return kern_prune_grants(a->kern, key_wanted, a);
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

		if (!follows_path(g) || util_cgroup_id(a->cgroup_root, g->cgroup, &id) ||
		    id == old)
			continue;
		g->cgroup_id = id;
		req_history_add(g, "rebound", 0, "cgroup made again (unit restarted)", now);
		log_info("grant %llu: %s is a new cgroup (id %llu, was %llu); the grant follows it",
			 (unsigned long long)g->id, g->cgroup, (unsigned long long)id,
			 (unsigned long long)old);
		audit_agent_event("rebound", json_pack("{s:o,s:I}", "grant", grant_to_json(g),
						       "old_cgroup_id", (json_int_t)old));
		moved++;
	}
	if (!moved)
		return 0;
	r = grant_store_save(&a->grants);
	if (r)
		log_err("cannot save the grants: %s", strerror(-r));
	r = grant_sync_all(a);
	if (r)
		log_err("cannot update the kernel's grants: %s", strerror(-r));
	return r;
}

/* Drop the oldest ended grants beyond GRANT_KEEP_ENDED. */
static void store_trim(struct grant_store *s)
{
	size_t ended = 0, drop, w = 0;

	for (size_t i = 0; i < s->n; i++)
		ended += !is_open(&s->v[i]);
	if (ended <= GRANT_KEEP_ENDED)
		return;
	drop = ended - GRANT_KEEP_ENDED;
	for (size_t i = 0; i < s->n; i++) {
		if (drop && !is_open(&s->v[i])) {
			grant_clear(&s->v[i]);
			drop--;
			continue;
		}
		s->v[w++] = s->v[i];
	}
	s->n = w;
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

	for (unsigned i = 0; i < g->n_res; i++) {
		if (policy_find(a->policy, g->res[i]))
			continue;
		snprintf(err, errlen, "unknown resource '%s'", g->res[i]);
		grant_clear(g);
		return -ENOENT;
	}
	if (g->state != GRANT_PENDING)
		g->state = GRANT_ACTIVE;
	g->id = a->grants.next_id++;
	g->starts_boot = real_to_boot(g->starts_ns);
	g->expires_boot = real_to_boot(g->expires_ns);
	g->live = g->starts_boot <= (uint64_t)util_now_ns(CLOCK_BOOTTIME);
	r = store_append(&a->grants, g);
	if (r) {
		grant_clear(g);
		return r;
	}
	store_trim(&a->grants);
	r = grant_store_save(&a->grants);
	if (r) {
		/* not on disk: not granted (it is the last entry; trimming keeps the order) */
		grant_clear(&a->grants.v[--a->grants.n]);
		snprintf(err, errlen, "cannot record the grant: %s", strerror(-r));
		return r;
	}
	if (g->state == GRANT_ACTIVE) {
		struct grant *ng = grant_find(&a->grants, g->id);

		r = sync_grant(a, ng);
		if (r) {
			/* Kernel map full or failing: the grant must not stand anywhere. */
			ng->state = GRANT_REVOKED;
			ng->ended_ns = util_now_ns(CLOCK_REALTIME);
			grant_store_save(&a->grants);
			sync_grant(a, ng);
			snprintf(err, errlen, "cannot write the grant to the kernel: %s%s",
				 strerror(-r), r == -E2BIG || r == -ENOSPC ? " (grant map full)" : "");
			return r;
		}
	}
	agent_rearm_expiry(a);
	return 0;
}

/* Remember g as it is, so that a change that cannot be persisted can be taken back. */
void grant_mark(const struct grant *g, struct grant *before)
{
	*before = *g;
	before->history = g->history ? json_deep_copy(g->history) : NULL;
}

/* Forget a mark (the change was refused before anything was written). */
void grant_mark_drop(struct grant *before)
{
	json_decref(before->history);
}

/*
 * Persist a changed grant and write its kernel keys (approval, extension, denial...).
 * When the state file cannot be written, g goes back to before (its mark, consumed
 * either way): nothing is promised that is not on disk.
 */
int grant_commit(struct agent *a, struct grant *g, struct grant *before)
{
	int r = grant_store_save(&a->grants);

	if (r) {
		json_decref(g->history);
		*g = *before;
		return r;
	}
	json_decref(before->history);
	r = sync_grant(a, g);
	if (r)
		log_err("grant %llu: cannot write its kernel keys: %s", (unsigned long long)g->id,
			strerror(-r));
	agent_rearm_expiry(a);
	return r;
}

/* A pending request got its last approval: its clock starts now (see grant_commit). */
int grant_activate(struct agent *a, struct grant *g, struct grant *before)
{
	int64_t now = util_now_ns(CLOCK_REALTIME);

	g->state = GRANT_ACTIVE;
	g->starts_ns = now;
	g->expires_ns = now + g->duration_s * 1000000000LL;
	g->starts_boot = real_to_boot(g->starts_ns);
	g->expires_boot = g->starts_boot + g->duration_s * 1000000000ULL;
	g->live = true;
	return grant_commit(a, g, before);
}

/* End an open grant or request: state, history entry, disk, kernel, exec cgroup. */
int grant_end(struct agent *a, struct grant *g, enum grant_state st, const char *event, uid_t by,
	      const char *reason)
{
	bool was_active = g->state == GRANT_ACTIVE;
	struct grant before;
	int r;

	grant_mark(g, &before);
	g->state = st;
	g->ended_ns = util_now_ns(CLOCK_REALTIME);
	req_history_add(g, event, by, reason, g->ended_ns);
	r = grant_store_save(&a->grants);
	if (r) {
		json_decref(g->history);
		*g = before;
		return r;
	}
	grant_mark_drop(&before);
	if (was_active)
		r = sync_grant(a, g);
	if (g->kind == GRANT_EXEC)
		scope_release(a, g);
	agent_rearm_expiry(a);
	return r;
}

/* End an active grant (or cancel a pending request) by revocation. */
int grant_revoke(struct agent *a, uint64_t id, uid_t by, const struct grant **out)
{
	struct grant *g = grant_find(&a->grants, id);

	if (!g)
		return -ENOENT;
	if (!is_open(g))
		return -EALREADY;
	*out = g;
	return grant_end(a, g, GRANT_REVOKED, "revoked", by, NULL);
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

		if (g->state == GRANT_ACTIVE && !g->live && g->starts_boot <= now &&
		    g->expires_boot > now) {
			g->live = true;
			sync_grant(a, g);
			audit_agent_event("activated", json_pack("{s:o}", "grant", grant_to_json(g)));
			continue;
		}
		if (!is_open(g) || g->expires_boot > now)
			continue;
		g->ended_ns = util_now_ns(CLOCK_REALTIME);
		req_history_add(g, g->state == GRANT_PENDING ? "request_expired" : "expired", 0,
				NULL, g->ended_ns);
		if (g->state == GRANT_ACTIVE) {
			g->state = GRANT_EXPIRED;
			sync_grant(a, g);
		}
		g->state = GRANT_EXPIRED;
		if (g->kind == GRANT_EXEC)
			scope_release(a, g);
		n++;
		audit_agent_event("expired", json_pack("{s:o}", "grant", grant_to_json(g)));
	}
	if (!n)
		return 0;
	r = grant_store_save(&a->grants);
	return r ? r : n;
}

/* Boot-clock time of the next start, expiry or pending deadline, or -1. */
int64_t grant_next_expiry_boot(const struct agent *a)
{
	int64_t next = -1;

	for (size_t i = 0; i < a->grants.n; i++) {
		const struct grant *g = &a->grants.v[i];
		int64_t t = g->expires_boot;

		if (!is_open(g))
			continue;
		if (g->state == GRANT_ACTIVE && !g->live && (int64_t)g->starts_boot < t)
			t = g->starts_boot;
		if (next < 0 || t < next)
			next = t;
	}
	return next;
}

/*
 * Make the store's fleet grants those of the policy in force: keep the ones still listed,
 * end the ones no longer listed ("removed by policy"), add new ones whose window has not
 * passed. One save for the whole change, so a push is applied all at once.
 */
int grant_apply_fleet(struct agent *a)
{
	const struct policy *p = a->policy;
	int64_t now = util_now_ns(CLOCK_REALTIME);
	char key[512];
	bool changed = false;
	int r;

	for (size_t i = 0; i < a->grants.n; i++) {
		struct grant *g = &a->grants.v[i];
		bool listed = false;

		if (g->kind != GRANT_FLEET || !is_open(g))
			continue;
		for (size_t j = 0; j < p->n_grants && !listed; j++)
			listed = !strcmp(policy_grant_key(&p->grants[j], key, sizeof(key)),
					 g->fleet_key ?: "");
		if (listed)
			continue;
		g->state = GRANT_REVOKED;
		g->ended_ns = now;
		req_history_add(g, "removed_by_policy", 0, NULL, now);
		audit_agent_event("revoked", json_pack("{s:o,s:s}", "grant", grant_to_json(g),
						       "by", "policy"));
		changed = true;
	}
	for (size_t j = 0; j < p->n_grants; j++) {
		const struct policy_grant *pg = &p->grants[j];
		bool have = false;

		policy_grant_key(pg, key, sizeof(key));
		for (size_t i = 0; i < a->grants.n && !have; i++)
			have = a->grants.v[i].kind == GRANT_FLEET && a->grants.v[i].fleet_key &&
			       !strcmp(a->grants.v[i].fleet_key, key);
		if (have || pg->not_after_ns <= now)
			continue;
		struct grant g = { .n_res = 1, .kind = GRANT_FLEET, .state = GRANT_ACTIVE,
				   .has_uid = pg->has_uid, .uid = pg->uid };

		snprintf(g.res[0], sizeof(g.res[0]), "%s", pg->resource);
		if (pg->cgroup) {
			char full[4096];
			struct stat st;

			snprintf(full, sizeof(full), "%s%s", a->cgroup_root, pg->cgroup);
			if (stat(full, &st)) {
				log_warn("fleet grant %s: cgroup %s: %s; skipped", key, pg->cgroup,
					 strerror(errno));
				continue;
			}
			g.cgroup = strdup(pg->cgroup);
			g.cgroup_id = st.st_ino;
		}
		g.created_ns = now;
		g.starts_ns = pg->not_before_ns;
		g.expires_ns = pg->not_after_ns;
		g.duration_s = (g.expires_ns - (g.starts_ns > now ? g.starts_ns : now)) / 1000000000LL;
		g.reason = pg->reason ? strdup(pg->reason) : NULL;
		g.fleet_key = strdup(key);
		g.by_uid = g.requester_uid = 0;
		req_history_add(&g, "granted_by_policy", 0, pg->reason, now);
		/* not via grant_add: one save for the whole push */
		g.id = a->grants.next_id++;
		g.starts_boot = real_to_boot(g.starts_ns);
		g.expires_boot = real_to_boot(g.expires_ns);
		r = store_append(&a->grants, &g);
		if (r) {
			grant_clear(&g);
			return r;
		}
		audit_agent_event("granted", json_pack("{s:o,s:s}", "grant",
						       grant_to_json(&a->grants.v[a->grants.n - 1]),
						       "by", "policy"));
		changed = true;
	}
	if (!changed)
		return 0;
	r = grant_store_save(&a->grants);
	if (!r)
		r = grant_sync_all(a);
	agent_rearm_expiry(a);
	return r;
}
