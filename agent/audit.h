/* SPDX-License-Identifier: GPL-2.0-only */
/* The audit stream of the agent: decisions from the ring buffer, agent events. */
#ifndef JITD_AUDIT_H
#define JITD_AUDIT_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "audit_fmt.h"
#include "jitd_abi.h"

struct agent;
struct grant_store;

void audit_configure(enum audit_format fmt, bool journal, const char *state_dir);
int audit_open(const char *path);
void audit_reopen(void);
void audit_close(void);
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
