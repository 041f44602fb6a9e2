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
	}
	return "unknown";
}

static enum grant_state state_parse(const char *s)
{
	if (s && !strcmp(s, "expired"))
		return GRANT_EXPIRED;
	if (s && !strcmp(s, "revoked"))
		return GRANT_REVOKED;
	return GRANT_ACTIVE;
}

static void grant_clear(struct grant *g)
{
	free(g->cgroup);
	free(g->reason);
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
	json_object_set_new(o, "resource", json_string(g->resource));
	json_object_set_new(o, "state", json_string(state_name(g->state)));
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
	add_time(o, "starts", g->starts_ns);
	add_time(o, "expires", g->expires_ns);
	if (g->state == GRANT_ACTIVE && g->expires_ns > now)
		rem = (g->expires_ns - now + 999999999) / 1000000000;
	json_object_set_new(o, "remaining_s", json_integer(rem));
	if (g->ended_ns)
		add_time(o, "ended", g->ended_ns);
	if (g->reason)
		json_object_set_new(o, "reason", json_string(g->reason));
	json_object_set_new(o, "granted_by", json_pack("{s:i}", "uid", (int)g->by_uid));
	return o;
}

/* The on-disk form: protocol fields plus exact nanosecond and boot-clock times. */
static json_t *grant_to_state(const struct grant *g)
{
	json_t *o = json_pack("{s:I,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:i}", "id",
			      (json_int_t)g->id, "resource", g->resource, "state",
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
	return o;
}

static int grant_from_state(json_t *o, bool same_boot, struct grant *g)
{
	json_t *v;

	memset(g, 0, sizeof(*g));
	if (!json_is_object(o) || !json_is_integer(json_object_get(o, "id")) ||
	    !json_is_string(json_object_get(o, "resource")))
		return -EINVAL;
	g->id = json_integer_value(json_object_get(o, "id"));
	snprintf(g->resource, sizeof(g->resource), "%s",
		 json_string_value(json_object_get(o, "resource")));
	g->state = state_parse(json_string_value(json_object_get(o, "state")));
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

/* The kernel key of a grant; false if its resource is not in the policy. */
static bool grant_key(const struct agent *a, const struct grant *g, struct jitd_grant_key *key)
{
	const struct policy_resource *r = policy_find(a->policy, g->resource);

	if (!r)
		return false;
	key->resource = r->id;
	key->uid = g->has_uid ? g->uid : JITD_ANY_UID;
	key->cgroup = g->cgroup ? g->cgroup_id : 0;
	return true;
}

/* The set of cgroups with an active cgroup grant, for the kernel's ptrace guard. */
static void sync_granted_cgroups(struct agent *a)
{
	uint64_t *ids = calloc(a->grants.n + 1, sizeof(*ids));
	size_t n = 0;

	if (!ids)
		return;
	for (size_t i = 0; i < a->grants.n; i++)
		if (a->grants.v[i].state == GRANT_ACTIVE && a->grants.v[i].cgroup)
			ids[n++] = a->grants.v[i].cgroup_id;
	if (kern_set_granted_cgroups(a->kern, ids, n))
		log_err("cannot update the granted-cgroups map");
	free(ids);
}

/* Write the kernel value for one key: the active grant that ends last, or none. */
static int sync_key(struct agent *a, const struct jitd_grant_key *key)
{
	const struct grant *best = NULL;
	struct jitd_grant_key k;

	for (size_t i = 0; i < a->grants.n; i++) {
		const struct grant *g = &a->grants.v[i];

		if (g->state != GRANT_ACTIVE || !grant_key(a, g, &k) || memcmp(&k, key, sizeof(k)))
			continue;
		if (!best || g->expires_boot > best->expires_boot)
			best = g;
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

static bool key_wanted(const struct jitd_grant_key *key, void *arg)
{
	struct agent *a = arg;
	struct jitd_grant_key k;

	for (size_t i = 0; i < a->grants.n; i++)
		if (a->grants.v[i].state == GRANT_ACTIVE && grant_key(a, &a->grants.v[i], &k) &&
		    !memcmp(&k, key, sizeof(k)))
			return true;
	return false;
}

/* Make the kernel grants map the image of the store (start-up, policy reload). */
int grant_sync_all(struct agent *a)
{
	struct jitd_grant_key key;
	int err;

	for (size_t i = 0; i < a->grants.n; i++) {
		if (a->grants.v[i].state != GRANT_ACTIVE || !grant_key(a, &a->grants.v[i], &key))
			continue;
		err = sync_key(a, &key);
		if (err)
			return err;
	}
	sync_granted_cgroups(a);
	return kern_prune_grants(a->kern, key_wanted, a);
}

/* Drop the oldest ended grants beyond GRANT_KEEP_ENDED. */
static void store_trim(struct grant_store *s)
{
	size_t ended = 0, drop, w = 0;

	for (size_t i = 0; i < s->n; i++)
		ended += s->v[i].state != GRANT_ACTIVE;
	if (ended <= GRANT_KEEP_ENDED)
		return;
	drop = ended - GRANT_KEEP_ENDED;
	for (size_t i = 0; i < s->n; i++) {
		if (drop && s->v[i].state != GRANT_ACTIVE) {
			grant_clear(&s->v[i]);
			drop--;
			continue;
		}
		s->v[w++] = s->v[i];
	}
	s->n = w;
}

/*
 * Add a new active grant (g is filled by the caller: resource, subject, times,
 * reason, by_uid; g's strings are taken over). Persisted before the kernel map
 * is written, so a crash never leaves a kernel grant the store does not know.
 */
int grant_add(struct agent *a, struct grant *g, char *err, size_t errlen)
{
	struct jitd_grant_key key;
	int r;

	if (!grant_key(a, g, &key)) {
		snprintf(err, errlen, "unknown resource '%s'", g->resource);
		grant_clear(g);
		return -ENOENT;
	}
	g->id = a->grants.next_id++;
	g->state = GRANT_ACTIVE;
	g->starts_boot = real_to_boot(g->starts_ns);
	g->expires_boot = g->starts_boot + (g->expires_ns - g->starts_ns);
	r = store_append(&a->grants, g);
	if (r) {
		grant_clear(g);
		return r;
	}
	store_trim(&a->grants);
	r = grant_store_save(&a->grants);
	if (!r) {
		r = sync_key(a, &key);
		if (r) {
			/* Kernel map full or failing: the grant must not exist anywhere. */
			grant_clear(&a->grants.v[--a->grants.n]);
			grant_store_save(&a->grants);
			sync_key(a, &key);
			snprintf(err, errlen, "cannot write the grant to the kernel: %s%s",
				 strerror(-r), r == -E2BIG || r == -ENOSPC ? " (grant map full)" : "");
			return r;
		}
	} else {
		grant_clear(&a->grants.v[--a->grants.n]);
		snprintf(err, errlen, "cannot record the grant: %s", strerror(-r));
		return r;
	}
	agent_rearm_expiry(a);
	return 0;
}

/* End an active grant by revocation. */
int grant_revoke(struct agent *a, uint64_t id, uid_t by, const struct grant **out)
{
	struct grant *g = grant_find(&a->grants, id);
	struct jitd_grant_key key;
	int r;

	if (!g)
		return -ENOENT;
	if (g->state != GRANT_ACTIVE)
		return -EALREADY;
	g->state = GRANT_REVOKED;
	g->ended_ns = util_now_ns(CLOCK_REALTIME);
	r = grant_store_save(&a->grants);
	if (!r && grant_key(a, g, &key))
		r = sync_key(a, &key);
	*out = g;
	agent_rearm_expiry(a);
	return r;
}

/* Mark grants whose boot-clock expiry has passed as expired (the kernel already
 * refuses them) and remove them from the map. Returns how many ended. */
int grant_expire_due(struct agent *a)
{
	uint64_t now = util_now_ns(CLOCK_BOOTTIME);
	struct jitd_grant_key key;
	int n = 0, r;

	for (size_t i = 0; i < a->grants.n; i++) {
		struct grant *g = &a->grants.v[i];

		if (g->state != GRANT_ACTIVE || g->expires_boot > now)
			continue;
		g->state = GRANT_EXPIRED;
		g->ended_ns = util_now_ns(CLOCK_REALTIME);
		n++;
		if (grant_key(a, g, &key))
			sync_key(a, &key);
		audit_agent_event("expired", json_pack("{s:o}", "grant", grant_to_json(g)));
	}
	if (!n)
		return 0;
	r = grant_store_save(&a->grants);
	return r ? r : n;
}

/* Boot-clock time of the next expiry, or -1. */
int64_t grant_next_expiry_boot(const struct agent *a)
{
	int64_t next = -1;

	for (size_t i = 0; i < a->grants.n; i++) {
		const struct grant *g = &a->grants.v[i];

		if (g->state == GRANT_ACTIVE && (next < 0 || (int64_t)g->expires_boot < next))
			next = g->expires_boot;
	}
	return next;
}
