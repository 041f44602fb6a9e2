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
	int r, e;

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
	return a->ops.put_grant(a, key, &val);
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

static bool key_wanted(const struct jitd_grant_key *key, void *arg)
{
	struct agent *a = arg;

	for (size_t i = 0; i < a->grants.n; i++)
		if (grant_has_key(a, &a->grants.v[i], key))
			return true;
	return false;
}

/* Usage entries to keep: those of active grants (an ended grant's was read at its end). */
static bool use_wanted(uint64_t id, void *arg)
{
	struct agent *a = arg;

	for (size_t i = 0; i < a->grants.n; i++)
		if (a->grants.v[i].id == id)
			return a->grants.v[i].state == GRANT_ACTIVE;
	return false;
}

int image_sync_all(struct agent *a)
{
	uint64_t now = util_now_ns(CLOCK_BOOTTIME);
	int err;

	for (size_t i = 0; i < a->grants.n; i++) {
		struct grant *g = &a->grants.v[i];

		if (g->state != GRANT_ACTIVE)
			continue;
		err = image_sync_grant(a, g);
		if (err)
			return err;
		g->live = g->starts_boot <= now;
	}
	err = sync_granted_cgroups(a);
	err = err ?: a->ops.prune_grants(a, key_wanted, a);
	return err ?: a->ops.prune_uses(a, use_wanted, a);
}
