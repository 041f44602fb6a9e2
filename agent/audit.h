/* SPDX-License-Identifier: GPL-2.0-only */
/* The audit stream of the agent: decisions from the ring buffer, agent events. */
#ifndef JITD_AUDIT_H
#define JITD_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "audit_fmt.h"
#include "audit_seal.h"
#include "jitd_abi.h"

struct agent;
struct grant_store;

#define AUDIT_NAME_CACHE 256

/* A user name looked up for decision records (kept a minute: NSS lookups are slow). */
struct audit_name {
	uint32_t uid;
	bool valid, known;
	int64_t at;
	char name[64];
};

/* What the agent's decision records need besides the audit file (lib/audit_log.c, one per
 * process): format, journald, the chain head's directory, the host name, the user-name
 * cache and the first-use set of audit.allow = first (agent.audit). */
struct audit_state {
	enum audit_format fmt;
	bool journal;
	const char *state_dir;
	char hostname[256];
	struct audit_name names[AUDIT_NAME_CACHE];
	uint64_t *seen; /* open-addressing set of first-use keys (0 = empty) */
	size_t n_seen;
	/* forward-secure sealing: on while STATE_DIR/audit-seal.key holds a key */
	bool sealing;
	const char *seal_error; /* why sealing is off although a key file exists, or NULL */
	struct seal_key seal;	/* the current epoch's key (older ones are erased) */
	struct audit_checkpoint checkpoint; /* the last seal written */
	bool have_checkpoint;
};

/* Choose the format, journald and where the chain head is kept; before audit_open(). */
void audit_configure(struct audit_state *st, enum audit_format fmt, bool journal,
		     const char *state_dir);
/* Open the sink: a file path, or "-" for stdout. Returns 0 or negative errno. */
int audit_open(struct audit_state *st, const char *path);
/* Reopen after logrotate moved the file (SIGHUP). Keeps the old fd on failure. */
void audit_reopen(void);
/* Save the chain head and close the sink. */
void audit_close(struct audit_state *st);
/* path_of: the protected path of an inode, when known (kern_path_of); asked only for the
 * events about files */
int audit_decision(struct agent *a, const struct jitd_event *e,
		   const char *(*path_of)(struct agent *a, uint64_t dev, uint64_t ino));
/* An aggregate of count allows like e (jitd_allow_agg) from first_ns to e->ts_ns (boot
 * clock): one record with the count, start and end time (audit_decision when count is 0). */
int audit_decision_count(struct agent *a, const struct jitd_event *e, uint64_t count,
			 uint64_t first_ns,
			 const char *(*path_of)(struct agent *a, uint64_t dev, uint64_t ino));
void audit_agent_event(const char *event, json_t *fields);
/* Seal the chain head now (after the start, after seal-init). */
void audit_seal_now(struct audit_state *st);
/* Each second: at an epoch's end, seal it and evolve the key (erasing the old one). */
void audit_seal_tick(struct audit_state *st);
/* jitctl audit seal-init: a new key (a final seal with the old one first); the
 * verification key in vkey. Returns 0 or negative errno with err set. */
int audit_seal_init(struct audit_state *st, uint32_t interval_s, bool force, char *vkey,
		    size_t vlen, char *err, size_t errlen);
/* Sealing's part of status: {"sealing", "key_id", "interval_s", "epoch", ...}. */
json_t *audit_seal_status(const struct audit_state *st);
void audit_sync(void);
/* Record, in order, the changes the grant store made on its own (grant_changes_take). */
void audit_grant_changes(struct grant_store *s);
int64_t audit_boot_to_real(uint64_t boot_ns);

#endif
