/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Audit record formatting (OCSF 1.8.0 or ECS 9.x JSON lines), the SHA-256 hash chain,
 * chain verification and the summary used by journald, subscribers and jitctl's
 * human view. Pure code: no BPF, no event loop (shared by jitd, jitctl, tests).
 */
#ifndef JITD_AUDIT_FMT_H
#define JITD_AUDIT_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define AUDIT_OCSF_VERSION "1.8.0"
#define AUDIT_ECS_VERSION  "9.0.0"
#define AUDIT_HASH_HEX	   64
#define AUDIT_CHAIN_ID_HEX 20
#define AUDIT_GENESIS_HASH "0000000000000000000000000000000000000000000000000000000000000000"

enum audit_format { AUDIT_FMT_OCSF = 0, AUDIT_FMT_ECS = 1 };
enum audit_allow { AUDIT_ALLOW_ALL = 0, AUDIT_ALLOW_FIRST = 1, AUDIT_ALLOW_NONE = 2 };

/* The head of the chain: the last record written (seq 0: none yet). */
struct audit_chain {
	uint64_t seq;
	char hash[AUDIT_HASH_HEX + 1];
	char chain_id[AUDIT_CHAIN_ID_HEX + 1]; /* hex, fixed for the life of a chain */
};

/* Who writes: the host and the product version. */
struct audit_meta {
	const char *hostname;
	const char *version;
};

/* One kernel decision, resolved by the agent (names, path). */
struct audit_decision {
	int64_t time_ns; /* CLOCK_REALTIME */
	uint8_t op;	 /* enum jitd_op */
	bool allow;
	uint32_t uid, loginuid, subject_uid, pid, tid;
	const char *comm;
	uint64_t cgroup_id;
	const char *resource;
	uint64_t grant_id; /* 0: none */
	int64_t policy_serial;
	const char *user;      /* name of subject_uid, or NULL */
	const char *proc_user; /* name of uid, or NULL */
	/* files */
	unsigned dev_major, dev_minor;
	uint64_t ino;
	const char *path; /* or NULL when unknown */
	/* ptrace (op JITD_OP_PTRACE): the target process; cgroup is the granted one */
	uint32_t target_pid;
	uint64_t target_cgroup;
	/* network */
	bool v6;
	const char *addr; /* text form */
	uint16_t port;
	/* an aggregate of allows (the kernel's jitd_allow_agg): count > 0 of them between
	 * start_ns and end_ns (CLOCK_REALTIME); 0: one decision */
	uint64_t count;
	int64_t start_ns, end_ns;
};

/* What a record is about, for journald, filters and the human view. Strings borrowed. */
struct audit_summary {
	const char *event;    /* "decision" or the agent event name */
	const char *decision; /* "allow", "deny" or NULL */
	const char *op;
	char user[64];
	char object[256];
	const char *resource;
	uint64_t grant_id;
	char reason[256];
	uint64_t seq;
	int64_t time_ms;
	int priority;	/* syslog priority */
	uint64_t count; /* an aggregate of allows: how many (else 0) */
};

/* A growable output buffer. */
struct abuf {
	char *p;
	size_t len, cap;
};

void abuf_free(struct abuf *b);

/* Start a new chain: random chain id, no records. */
void audit_chain_init(struct audit_chain *c);

/* Format one decision as a sealed record line (newline included) into out, advancing *c.
 * sum (optional) is filled. Returns 0 or negative errno (*c unchanged on error). */
int audit_fmt_decision(enum audit_format fmt, const struct audit_meta *m,
		       const struct audit_decision *d, struct audit_chain *c, struct abuf *out,
		       struct audit_summary *sum);

/* Summary of a decision record with sequence seq (for journald and subscribers). */
void audit_decision_summary(const struct audit_decision *d, uint64_t seq, struct audit_summary *s);

/* Format one agent event (fields borrowed, see docs) into out, advancing *c. */
int audit_fmt_event(enum audit_format fmt, const struct audit_meta *m, const char *event,
		    const json_t *fields, int64_t time_ns, struct audit_chain *c, struct abuf *out,
		    struct audit_summary *sum);

/* Verification state across the lines of one or more files. */
struct audit_verify {
	bool have;
	uint64_t seq;
	char hash[AUDIT_HASH_HEX + 1];
	uint64_t n;
};

/* Check one line against the chain so far. Returns 0, or -EBADMSG with err set. */
int audit_verify_line(struct audit_verify *v, const char *line, size_t len, char *err,
		      size_t errlen);

/* A record's chain fields, read by audit_record_check. */
struct audit_rec_info {
	uint64_t seq;
	char hash[AUDIT_HASH_HEX + 1];
	char prev[AUDIT_HASH_HEX + 1];
	char chain_id[AUDIT_CHAIN_ID_HEX + 1];
	const json_t *fields; /* an agent event's fields (borrowed from the record), or NULL */
	const char *event;    /* fields' "event", or NULL (a kernel decision) */
	int64_t time_ms;      /* the record's time (OCSF time, ECS @timestamp), 0 if none */
};

/* Check a parsed record's own hash and read its chain fields (rec loses "hash").
 * Returns 0, or -EBADMSG with err set. */
int audit_record_check(json_t *rec, struct audit_rec_info *out, char *err, size_t errlen);

/* Chain head (seq, hash, chain id) of a parsed record. Returns 0 or -EINVAL. */
int audit_record_head(const json_t *rec, struct audit_chain *out);

/* Summary of a parsed record of either format. Returns 0 or -EINVAL. */
int audit_record_summary(const json_t *rec, struct audit_summary *s);

/* journald fields of a record: "KEY=value" strings (malloc'd, *n of them) including
 * MESSAGE_ID, PRIORITY, MESSAGE, JITD_* and JITD_RECORD (the full JSON). */
int audit_journal_fields(const struct audit_summary *s, const char *line, size_t len, char ***out,
			 size_t *n);

/* The MESSAGE_ID (32 hex) of an event name ("decision-allow", "decision-deny", ...). */
const char *audit_message_id(const char *event, const char *decision);

/* The name of a jitd_op ("open", "bpf", ...; "unknown"). */
const char *audit_op_name(uint8_t op);

/* Parse "all", "first", "none". Returns 0 or -EINVAL. */
int audit_parse_allow(const char *s, enum audit_allow *out);

#endif
