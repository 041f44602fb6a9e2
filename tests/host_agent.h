/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An agent on the host for the unit tests and fuzzers of the verbs and the grant store:
 * the real store (its state file in a private directory), a real policy, and a->ops wired
 * to a recorder of the kernel image (the grants map's keys and values) and to fixed cgroup
 * answers. The kernel itself is tested in the VM tests (tests/vm), never here.
 */
#ifndef JITD_HOST_AGENT_H
#define JITD_HOST_AGENT_H

#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

#include "core.h"

#define HOST_IMG_MAX 4096

/* The kernel grants map as the store last wrote it. */
struct host_image {
	struct {
		struct jitd_grant_key key;
		struct jitd_grant_val val;
	} v[HOST_IMG_MAX];
	size_t n;
	size_t n_cgroups; /* the granted-cgroups set's size */
	struct {
		uint64_t id;
		struct jitd_grant_use use;
	} uses[HOST_IMG_MAX]; /* the grant_use map: a test plays the kernel's counting */
	size_t n_uses;
	bool fail_uses;	   /* making an entry fails (as a full map) */
	bool fail_rewrite; /* rewriting a key fails (ENOMEM: a map without preallocation) */
};

extern struct host_image host_img;

/*
 * A policy for host tests, serial 10: resources db (connect), psql (exec), etc (open);
 * admin bin (uid 2); daemon (1) and nobody (65534) may request db and psql for up to 1h
 * with one approval by sys (3) and a reason like INC-123; daemon may take etc for 90m
 * without approval; a fleet grant of etc to uid 3 until 2099.
 */
extern const char host_policy[];

/* Set a up in a new private directory (on /dev/shm when there is one) with policy text;
 * 0 or negative errno. */
int host_agent_init(struct agent *a, const char *policy_text);
/* Back to policy text, an empty store and an empty image (the state file removed). */
int host_agent_reset(struct agent *a, const char *policy_text);
/* Free everything and remove the directory. */
void host_agent_free(struct agent *a);
/* Run one request line as uid; the reply (never NULL: aborts when out of memory). */
json_t *host_call(struct agent *a, uid_t uid, const char *line, size_t len);
/* The store as text without what the clock changes (remaining_s); free() it. */
char *host_store_text(const struct agent *a);
/* The usage entry of grant id (a test may count into it as the kernel would), or NULL. */
struct jitd_grant_use *host_image_use(uint64_t id);
/* The kernel value written for a key, or NULL. */
const struct jitd_grant_val *host_image_get(const struct jitd_grant_key *key);

#endif
