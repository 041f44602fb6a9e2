// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel image of the grant store: which grants map key each active grant holds
 * (resource, uid, cgroup), which grant's window the kernel gets for a key several grants
 * share, the granted-cgroups set of the ptrace guard, and pruning keys no grant holds.
 * Reads the store; writes the kernel only through a->ops (core.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"
#include "image.h"
#include "keyset.h"
#include "log.h"
#include "usage.h"
#include "util.h"

/* The kernel key of a grant's resource i; false if it is not in the policy. */
static bool grant_key(const struct agent *a, const struct grant *g, unsigned i,
		      struct jitd_grant_key *key)
{
	const struct policy_resource *r = policy_find(a->policy, g->res[i]);

	if (!r)
		return false;
	key->resource = r->id;
	key->uid = g->has_uid ? g->uid : JITD_ANY_UID;
	/* from the id, never from whether the path string exists (see grant_add) */
	key->cgroup = g->cgroup_id;
	return true;
}

/*
 * The set of cgroups with an active cgroup grant, for the kernel's ptrace guard; and the
 * directories of cgroup-grant paths watched, for grant_rebind_cgroups.
 */
static int sync_granted_cgroups(struct agent *a)
{
	uint64_t *ids = calloc(a->grants.n + 1, sizeof(*ids));
	size_t n = 0;
	int r;

	if (!ids) {
		log_err("cannot update the granted-cgroups map: out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < a->grants.n; i++) {
		if (a->grants.v[i].state == GRANT_ACTIVE && a->grants.v[i].cgroup)
			ids[n++] = a->grants.v[i].cgroup_id;
		if (grant_follows_path(&a->grants.v[i]) || grant_ends_with_unit(&a->grants.v[i]))
			a->ops.grant_follow(a, &a->grants.v[i]);
	}
	r = a->ops.set_granted_cgroups(a, ids, n);
	if (r)
		log_err("cannot update the granted-cgroups map: %s", strerror(-r));
	free(ids);
	return r;
}

static bool grant_has_key(const struct agent *a, const struct grant *g,
			  const struct jitd_grant_key *key)
{
	struct jitd_grant_key k;

	if (g->state != GRANT_ACTIVE)
		return false;
	/* the id is the name's hash (util_resource_id): compared before the policy lookup */
	for (unsigned i = 0; i < g->n_res; i++)
		if (util_resource_id(g->res[i]) == key->resource && grant_key(a, g, i, &k) &&
		    !memcmp(&k, key, sizeof(k)))
			return true;
	return false;
}

static bool better(const struct grant *g, const struct grant *best, uint64_t now);

/* The hash of a subject as sync_key compares it (uid or JITD_ANY_UID, cgroup id). */
static uint32_t subject_hash(uint32_t uid, uint64_t cgroup_id)
{
	uint64_t h = (uid * 0x9E3779B97F4A7C15ULL) ^ (cgroup_id * 0xC2B2AE3D27D4EB4FULL);

	return (uint32_t)(h ^ h >> 32);
}

unsigned image_subject_of(const struct grant *g)
{
	return subject_hash(g->has_uid ? g->uid : JITD_ANY_UID, g->cgroup_id);
}

/* The subject hash of every grant (s->n of them, in store order: grant.c's store_append
 * keeps them), made again when stale; NULL when out of memory (then compare every grant). */
static const uint32_t *subjects(struct grant_store *s)
{
	if (s->subj_ok && s->subj_n == s->n)
		return s->subj;
	if (s->n > s->subj_cap) {
		uint32_t *t = realloc(s->subj, s->cap * sizeof(*t));

		if (!t)
			return NULL;
		s->subj = t;
		s->subj_cap = s->cap;
	}
	for (size_t i = 0; i < s->n; i++)
		s->subj[i] = image_subject_of(&s->v[i]);
	s->subj_n = s->n;
	s->subj_ok = true;
	return s->subj;
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
	/* a pass over 4 bytes a grant, the whole compare only where the subject's hash is */
	const uint32_t *subj = subjects(&a->grants);
	uint32_t want = subject_hash(key->uid, key->cgroup);
	int r, e;

	for (size_t i = 0; i < a->grants.n; i++) {
		const struct grant *g = &a->grants.v[i];

		if (subj && subj[i] != want)
			continue;
		/* the subject first: a compare, before a policy lookup per resource */
		if (g->state != GRANT_ACTIVE || g->cgroup_id != key->cgroup ||
		    (g->has_uid ? g->uid : JITD_ANY_UID) != key->uid || !grant_has_key(a, g, key))
			continue;
		if (!best || better(g, best, now))
			best = g;
	}
	if (!best) {
		r = a->ops.del_grant(a, key);
		e = key->cgroup ? sync_granted_cgroups(a) : 0;
		return r ?: e;
	}
	/* the ptrace guard's set before the grant: a granted cgroup is never unguarded */
	if (key->cgroup && (r = sync_granted_cgroups(a)))
		return r;
	struct jitd_grant_val val = {.grant_id = best->id,
				     .starts_ns = best->starts_boot,
				     .expires_ns = best->expires_boot};
	r = a->ops.put_grants(a, key, &val, 1);
	/* a key that cannot be rewritten (the map makes a new element for it: ENOMEM) may
	 * still name a grant that just ended: removed, fail closed, until a sync writes it */
	if (r)
		a->ops.del_grant(a, key);
	return r;
}

/*
 * Sync every key of grant g; every key is tried even when one fails (an ended grant's
 * other keys must still go), and the first error is returned. An active grant's usage
 * entry is made before its first key (kept if there: a restarted jitd adopts its counts),
 * so none of its uses goes uncounted; failing that, no key is written (as for a full
 * grants map). An ended grant's entry goes after its last key (its count was read first).
 */
int image_sync_grant(struct agent *a, const struct grant *g)
{
	struct jitd_grant_key key;
	struct jitd_grant_use u;
	int r = 0, e;

	if (g->state == GRANT_ACTIVE) {
		usage_entry(g, &u);
		r = a->ops.put_use(a, g->id, &u);
		if (r < 0)
			return r;
		r = 0;
	}
	for (unsigned i = 0; i < g->n_res; i++) {
		if (!grant_key(a, g, i, &key))
			continue;
		e = sync_key(a, &key);
		if (e && !r)
			r = e;
	}
	if (g->state != GRANT_ACTIVE) {
		e = a->ops.del_use(a, g->id);
		if (e && !r)
			r = e;
	}
	return r;
}

/* Which grant's window the kernel gets when g and best share a key (see sync_key). */
static bool better(const struct grant *g, const struct grant *best, uint64_t now)
{
	bool started = g->starts_boot <= now, best_started = best->starts_boot <= now;

	if (started != best_started)
		return started;
	return started ? g->expires_boot > best->expires_boot : g->starts_boot < best->starts_boot;
}

/* Every key the active grants hold, each with its best grant: one pass over the store
 * (sync_key per grant would be a pass per key, O(n^2) at 100,000 grants). */
struct key_table {
	struct jitd_grant_key *keys;
	size_t *best, n, cap;
	struct keyset idx;
};

static int key_table_add(struct key_table *t, const struct jitd_grant_key *key, size_t gi,
			 const struct agent *a, uint64_t now)
{
	long pos = keyset_find(&t->idx, key);

	if (pos >= 0) {
		if (better(&a->grants.v[gi], &a->grants.v[t->best[pos]], now))
			t->best[pos] = gi;
		return 0;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 256;
		struct jitd_grant_key *k = realloc(t->keys, cap * sizeof(*k));
		size_t *b = k ? realloc(t->best, cap * sizeof(*b)) : NULL;

		if (k)
			t->keys = k;
		if (!b)
			return -ENOMEM;
		t->best = b;
		t->cap = cap;
	}
	t->keys[t->n] = *key;
	t->best[t->n] = gi;
	t->idx.ksz = sizeof(*key);
	if (keyset_put(&t->idx, t->keys, t->n))
		return -ENOMEM;
	t->n++;
	return 0;
}

static int key_table_build(struct key_table *t, const struct agent *a, uint64_t now)
{
	struct jitd_grant_key key;
	int r = 0;

	for (size_t i = 0; i < a->grants.n && !r; i++) {
		const struct grant *g = &a->grants.v[i];

		if (g->state != GRANT_ACTIVE)
			continue;
		for (unsigned j = 0; j < g->n_res && !r; j++)
			if (grant_key(a, g, j, &key))
				r = key_table_add(t, &key, i, a, now);
	}
	return r;
}

static void key_table_free(struct key_table *t)
{
	free(t->keys);
	free(t->best);
	keyset_free(&t->idx);
}

static bool key_wanted(const struct jitd_grant_key *key, void *arg)
{
	return keyset_find(&((struct key_table *)arg)->idx, key) >= 0;
}

/* Every key with its best grant's window, in one call. */
static int key_table_write(struct agent *a, const struct key_table *t)
{
	struct jitd_grant_val *vals = malloc((t->n ? t->n : 1) * sizeof(*vals));
	int err;

	if (!vals)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		const struct grant *best = &a->grants.v[t->best[i]];

		vals[i] = (struct jitd_grant_val){.grant_id = best->id,
						  .starts_ns = best->starts_boot,
						  .expires_ns = best->expires_boot};
	}
	err = a->ops.put_grants(a, t->keys, vals, t->n);
	free(vals);
	return err;
}

/* Usage entries to keep: those of active grants (an ended grant's was read at its end). */
static bool use_wanted(uint64_t id, void *arg)
{
	const struct grant_store *s = &((struct agent *)arg)->grants;
	size_t lo = 0, hi = s->n;

	/* the store is in id order (grant_find; not called: grant.c calls this file) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid].id == id)
			return s->v[mid].state == GRANT_ACTIVE;
		if (s->v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* The usage entries of the active grants, then (the ptrace guard's set first) every key
 * with its best grant's window, then pruning what no grant holds. */
int image_sync_all(struct agent *a)
{
	uint64_t now = util_now_ns(CLOCK_BOOTTIME);
	struct key_table t = {};
	struct jitd_grant_use u;
	int err = key_table_build(&t, a, now);

	for (size_t i = 0; i < a->grants.n && !err; i++) {
		struct grant *g = &a->grants.v[i];

		if (g->state != GRANT_ACTIVE)
			continue;
		usage_entry(g, &u);
		err = a->ops.put_use(a, g->id, &u);
		err = err < 0 ? err : 0;
		g->live = g->starts_boot <= now;
	}
	err = err ?: sync_granted_cgroups(a);
	err = err ?: key_table_write(a, &t);
	err = err ?: a->ops.prune_grants(a, key_wanted, &t);
	key_table_free(&t);
	return err ?: a->ops.prune_uses(a, use_wanted, a);
}
