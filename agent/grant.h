/* SPDX-License-Identifier: GPL-2.0-only */
/* The grant store, its state file and its kernel image (through agent_ops). */
#ifndef JITD_GRANT_H
#define JITD_GRANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "request.h"

struct agent;

#define GRANT_KEEP_ENDED  1000	/* ended grants kept for `list --all` */
#define GRANT_JOURNAL_MIN 1024	/* journal lines before the state file is written whole */
#define FLEET_KEY_PREFIX  "db:" /* fleet_key of a grant from the fleet database (fleet.c) */

/* Cgroup and unit grants (not exec grants, whose cgroup is made once for them, nor unit
 * grants that end when their unit stops: for them a new cgroup is a new run). */
static inline bool grant_follows_path(const struct grant *g)
{
	return g->state == GRANT_ACTIVE && g->cgroup && g->kind != GRANT_EXEC &&
	       !g->until_unit_stops;
}

/* Unit grants that end when their unit stops (its cgroup removed or made again). */
static inline bool grant_ends_with_unit(const struct grant *g)
{
	return g->state == GRANT_ACTIVE && g->cgroup && g->until_unit_stops;
}

/* What an operation of the store changed on its own (expiry, the policy's grants, a cgroup
 * made again): an audit event and its fields, for the caller to record. */
struct grant_change {
	const char *event; /* "activated", "expired", "revoked", "granted", "rebound",
			    * "killed", "kill_skipped" (a grant's end killing its tree) */
	json_t *fields;	   /* {"grant": ..., ...}, owned */
};

struct grant_store {
	struct grant *v;
	size_t n, cap;
	uint64_t next_id;
	char *path;		      /* state file */
	struct grant_change *changes; /* since the caller last took them */
	size_t n_changes;
	/* the journal (path.journal): one line per grant changed since the state file was
	 * written whole, so a change costs a line, not the whole store (see grant_store_put) */
	uint64_t seq;	/* changes written: the state file's "seq", then one per line */
	size_t j_lines; /* lines in the journal */
	int j_fd;	/* open for appending, or -1 (0 in a store never loaded: not open) */
	bool j_open;
	bool trim_due; /* a grant may have become droppable since store_trim last counted */
	/* sync_key's scan: the hash of each grant's subject in store order (image.c),
	 * valid while subj_ok and subj_n == n: store_append keeps it, whatever moves grants or
	 * changes a subject clears subj_ok */
	uint32_t *subj;
	size_t subj_n, subj_cap;
	bool subj_ok;
};

/* grant.c: the grant store and its kernel image. */
/* Take the changes queued by grant_expire_due, grant_revoke, grant_apply_fleet and
 * grant_rebind_cgroups (the caller records and frees them, in order); *n is set to their
 * number. */
struct grant_change *grant_changes_take(struct grant_store *s, size_t *n);
int grant_store_load(struct grant_store *s, const char *state_dir);
int grant_store_save(struct grant_store *s);
int grant_store_put(struct grant_store *s, const struct grant *g);
void grant_store_free(struct grant_store *s);
int grant_rebind_cgroups(struct agent *a);
int grant_add(struct agent *a, struct grant *g, char *err, size_t errlen);
void grant_mark(const struct grant *g, struct grant *before);
void grant_mark_drop(struct grant *before);
int grant_activate(struct agent *a, struct grant *g, struct grant *before);
int grant_commit(struct agent *a, struct grant *g, struct grant *before);
int grant_end(struct agent *a, struct grant *g, enum grant_state st, const char *event, uid_t by,
	      const char *reason);
/* Revoke grant id (or cancel a pending request): -ENOENT, -EALREADY when it is not open.
 * A started grant whose rule says "on_end": "kill" takes its cgroup's process tree with it,
 * after the kernel refuses it (a queued "killed" or "kill_skipped" change). */
int grant_revoke(struct agent *a, uint64_t id, uid_t by, const struct grant **out);
/* grant_revoke; with kill (revoke --kill) the tree is killed whatever the rule says.
 * *killed (may be NULL): processes signalled, negative errno, or 0 when no kill ran. */
int grant_revoke_kill(struct agent *a, uint64_t id, uid_t by, bool kill, const struct grant **out,
		      int *killed);
int grant_apply_fleet(struct agent *a);
const char *grant_state_name(const struct grant *g);
/* Open (active or pending), or a break-glass awaiting its review: kept by every trim. */
bool grant_held(const struct grant *g);
int grant_expire_due(struct agent *a);
/* Start the clock of unused first-use grants the kernel saw used, end those unused at their
 * latest start (saved when any changed): 0 or -errno of the save. */
int grant_first_use_due(struct agent *a);
/* When g next needs the expiry timer (boot clock: its end, its start, its idle-out, its
 * first-use poll), or -1 when it is closed. */
int64_t grant_due_boot(const struct grant *g);
int64_t grant_next_expiry_boot(const struct agent *a);
struct grant *grant_find(struct grant_store *s, uint64_t id);
size_t grant_count_active(const struct grant_store *s);
json_t *grant_to_json(const struct grant *g);

#endif
