/* SPDX-License-Identifier: GPL-2.0-only */
/* The audit pipeline: chain head, file/stdout sink, journald, subscriber hook, losses. */
#ifndef JITD_AUDIT_LOG_H
#define JITD_AUDIT_LOG_H

#include "audit_fmt.h"

struct audit_log_opts {
	const char *path;	/* file, or "-" for stdout */
	const char *state_file; /* chain head kept across rotations and restarts, or NULL */
	enum audit_format fmt;
	bool journal;
	struct audit_meta meta;
};

typedef void (*audit_hook_fn)(const char *line, size_t len, const struct audit_summary *s,
			      void *ud);

#define AUDIT_LOG_MAX_HOOKS 4

/* Open the sink and recover the chain head (file tail, path.1 tail, state file). */
int audit_log_open(const struct audit_log_opts *o);
/* Reopen the file (after logrotate moved it) and save the chain head. */
int audit_log_reopen(void);
/* fdatasync what was written since the last call. 0 or negative errno. */
int audit_log_sync(void);
/* Save the chain head and close. */
void audit_log_close(void);
/* Write one decision / agent event (fields borrowed). Returns 0 or negative errno. */
int audit_log_decision(const struct audit_decision *d);
int audit_log_event(const char *event, const json_t *fields, int64_t time_ns);
/* Call fn(line, len, summary, ud) with every record written (live subscribers, the
 * notification runner), in the order added. 0, or -ENOSPC past AUDIT_LOG_MAX_HOOKS. */
int audit_log_add_hook(audit_hook_fn fn, void *ud);
/* Remove a hook added with the same fn and ud (none: nothing happens). */
void audit_log_remove_hook(audit_hook_fn fn, void *ud);
/* The chain head now. */
const struct audit_chain *audit_log_head(void);
/* The sink path ("-" for stdout), or NULL. */
const char *audit_log_path(void);
/* Records lost to write failures and not yet reported. */
uint64_t audit_log_pending_losses(void);
struct seal_key;
struct audit_checkpoint;
/* Write a seal record of the chain head with k; *cp (optional) is the seal as a
 * checkpoint. Returns 0 or negative errno. */
int audit_log_seal(const struct seal_key *k, bool final, int64_t time_ns,
		   struct audit_checkpoint *cp);
/* Recover a chain head from the last complete record of a file. Returns 0 or -ENOENT. */
int audit_log_tail_head(const char *path, struct audit_chain *out);

#endif
