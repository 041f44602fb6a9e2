/* SPDX-License-Identifier: GPL-2.0-only */
/* The audit stream of the agent: decisions from the ring buffer, agent events. */
#ifndef JITD_AUDIT_H
#define JITD_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "audit_fmt.h"
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
void audit_agent_event(const char *event, json_t *fields);
void audit_sync(void);
/* Record, in order, the changes the grant store made on its own (grant_changes_take). */
void audit_grant_changes(struct grant_store *s);
int64_t audit_boot_to_real(uint64_t boot_ns);

#endif
