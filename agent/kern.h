/* SPDX-License-Identifier: GPL-2.0-only */
/* The kernel side: BPF skeleton, pins, maps, self-test (bpfload.c). */
#ifndef JITD_KERN_H
#define JITD_KERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "jitd_abi.h"
#include "policy.h"

/* The loaded BPF side: skeleton, links, map fds. */
struct kern;

int kern_lsm_active(char *lsm, size_t len);
/* Load the programs (attached by kern_attach once the maps are filled), or, same build and
 * !reload, adopt the attached ones and register self. */
int kern_open(struct kern **out, bool reload);
/* Attach what kern_open loaded, swap the link pins, register self (nothing if adopted). */
int kern_attach(struct kern *k);
/* Once only this agent's programs run: count the tracked open files no program counted, and
 * let a release with an empty slot look nothing up (jitd_abi.h, jitd_open_fslot). Called
 * every second; nothing to do after it succeeded. */
void kern_fslot_settle(struct kern *k);
/* Whether a release may trust open_fslot's counts (status). */
bool kern_fslot_trusted(struct kern *k);
void kern_close(struct kern *k);
int kern_unload(void);
int kern_ringbuf_fd(struct kern *k);
/* The map of aggregated allows (jitd_allow_agg), and its interval in jitd_config (0: off;
 * kept by kern_sync_policy). */
int kern_agg_fd(struct kern *k);
int kern_agg_set(struct kern *k, uint32_t interval_s);
int kern_sync_policy(struct kern *k, const struct policy *p, const char *cgroup_root);
/* jitd's own files (policy, state directory, audit file; NULL: none), protected from the
 * next kern_sync_policy on with the binary, the pins, the unit and the exempt cgroups. */
int kern_set_self(struct kern *k, const char *policy_path, const char *state_dir,
		  const char *audit_path);
/* Programs loaded now (not adopted) that kern_attach will attach and pin. */
bool kern_to_attach(const struct kern *k);
/* Write n grant keys with their values: one BPF_MAP_UPDATE_BATCH, or one at a time. */
int kern_put_grants(struct kern *k, const struct jitd_grant_key *keys,
		    const struct jitd_grant_val *vals, size_t n);
int kern_del_grant(struct kern *k, const struct jitd_grant_key *key);
/* Each open file and socket tracked for "revoke": "open" (by its struct file's address);
 * cb's non-zero stops (returned). kern_open_cut: refuse its every later use. */
int kern_open_each(struct kern *k,
		   int (*cb)(uint64_t file, const struct jitd_open_val *v, void *arg), void *arg);
int kern_open_cut(struct kern *k, uint64_t file);
/* Usage per grant id (jitd_grant_use): make (1 made, 0 there already), read, delete,
 * delete all but what keep() keeps; and the usage counters (enum jitd_use_stat). */
int kern_use_put(struct kern *k, uint64_t id, const struct jitd_grant_use *u);
int kern_use_get(struct kern *k, uint64_t id, struct jitd_grant_use *u);
int kern_use_del(struct kern *k, uint64_t id);
int kern_use_prune(struct kern *k, bool (*keep)(uint64_t id, void *), void *arg);
int kern_use_counters(struct kern *k, uint64_t *sums);
int kern_prune_grants(struct kern *k, bool (*keep)(const struct jitd_grant_key *, void *),
		      void *arg);
int kern_selftest(struct kern *k, const char *dir);
int kern_set_granted_cgroups(struct kern *k, const uint64_t *ids, size_t n);
int kern_counters(struct kern *k, uint64_t *allow, uint64_t *deny, uint64_t *drops);
/* "revoke": "open" in status (tracked now, the table's size, counters). */
json_t *kern_open_json(struct kern *k);
int kern_drops_reported(struct kern *k, uint64_t *get, const uint64_t *set);
json_t *kern_programs_json(struct kern *k);
json_t *kern_features_json(struct kern *k);
bool kern_enforcing(struct kern *k);
const char *kern_path_of(struct kern *k, uint64_t dev, uint64_t ino);

#endif
