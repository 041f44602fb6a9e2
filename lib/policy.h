/* SPDX-License-Identifier: GPL-2.0-only */
/* Policy: parse and validate a JSON policy file or directory (DESIGN.md, "Policy"). */
#ifndef JITD_POLICY_H
#define JITD_POLICY_H

#include <stdbool.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <regex.h>
#include <sys/types.h>

#include "policy_alerts.h"

#define POLICY_MAX_RESOURCES 4096
#define POLICY_MAX_NAME	     64		/* resource names: [A-Za-z0-9._-]{1,63} */
#define POLICY_MAX_ENTRIES   256	/* entries (exec + open + connect) per resource */
#define POLICY_MAX_FILE_SIZE (4u << 20) /* bytes per policy file */

enum policy_entry_kind { POLICY_EXEC = 1, POLICY_OPEN = 2, POLICY_CONNECT = 3 };

/* One entry of a resource: a path (exec/open) or a network (connect). */
struct policy_entry {
	enum policy_entry_kind kind;
	char *path;	  /* exec/open: absolute, as written (no trailing '/' except "/") */
	uint8_t addr[16]; /* connect: network address, IPv4 as ::ffff:a.b.c.d */
	unsigned prefix;  /* connect: prefix length in bits of the 128-bit form (IPv4 /24 => 120) */
	uint16_t port;	  /* connect: host order, 0 = any port ("10.0.0.0/8" or "host:*") */
	bool ipv4;	  /* connect: written as IPv4 */
};

struct policy_resource {
	char name[POLICY_MAX_NAME];
	uint32_t id; /* util_resource_id(name) */
	struct policy_entry *entries;
	size_t n_entries;
	bool revoke_open; /* "revoke": "open": a grant's end also cuts what is already open
			   * (default "new": only new opens, execs and connects are refused) */
};

#define POLICY_MAX_RULES       1024
#define POLICY_MAX_GRANTS      4096
#define POLICY_MAX_PRINCIPALS  256 /* per list: admins, requesters, approvers */
#define POLICY_MAX_APPROVALS   16
#define POLICY_MIN_IDLE_S      60 /* "max_idle" of a rule, and grant --max-idle */
#define POLICY_MAX_IDLE_S      86400
#define POLICY_MAX_PATTERN     256  /* bytes of a reason_pattern */
#define POLICY_MAX_REPEAT      255  /* largest count in a reason_pattern's {n,m} */
#define POLICY_MAX_REPEAT_SIZE 2048 /* bytes all {n,m} copies of one reason_pattern make */

/* A rule: who may request which resources, for how long, approved by whom. */
struct policy_rule {
	char **resources; /* resource names, all defined in the policy */
	size_t n_resources;
	char **requesters; /* principals: "user:NAME", "group:NAME" (resolved via NSS on use) */
	size_t n_requesters;
	char **approvers;
	size_t n_approvers;
	int64_t max_duration_s;
	unsigned approvals;   /* 0: granted at once */
	bool reason_required; /* "reason": "required" (default "optional") */
	bool on_end_kill;     /* "on_end": "kill" (default "keep"): its grants' cgroup process
			       * trees are killed when they expire or are revoked */

	/* "break_glass_max": requesters may break glass (granted at once, reviewed after) for
	 * at most this long, <= max_duration_s; 0: no break-glass under this rule */
	int64_t break_glass_max_s;
	int64_t max_idle_s;   /* "max_idle": its grants end once unused this long; 0: never */
	char *reason_pattern; /* POSIX extended regex a reason must match (policy_pattern_check) */
	regex_t reason_re;
	json_t *hosts; /* "hosts": labels a host must carry for the rule to apply there, or NULL */
	bool here;     /* applies on this host (policy_select_host; true when no "hosts") */
	size_t src, pos; /* source file index and index in its "rules" (error positions) */
};

/* A fleet grant: a standing or scheduled grant pushed with the policy. */
struct policy_grant {
	char resource[POLICY_MAX_NAME];
	bool has_uid;
	uid_t uid;
	char *cgroup;	       /* cgroup v2 path, or NULL */
	int64_t not_before_ns; /* CLOCK_REALTIME; 0: no lower bound */
	int64_t not_after_ns;  /* CLOCK_REALTIME */
	char *reason;	       /* or NULL */
	json_t *hosts;	       /* "hosts" selector, or NULL: every host */
	bool here;	       /* applies on this host (policy_select_host) */
	size_t src, pos;
};

#define POLICY_MAX_NOTIFY	 32
#define POLICY_MAX_NOTIFY_ARGS	 64
#define POLICY_MAX_NOTIFY_GROUPS 64
#define POLICY_NOTIFY_EVENTS                                                                       \
	"requested, approved, denied, granted, expired, revoked, "                                 \
	"break_glass, alert"

/* A notification target: a command run on chosen audit events (lib/policy_workflow.c). */
struct policy_notify {
	char name[POLICY_MAX_NAME];
	char **events; /* event names (a subset of POLICY_NOTIFY_EVENTS) */
	size_t n_events;
	char **argv; /* NULL-terminated; argv[0] absolute; a secret (never shown) */
	size_t argc;
	char user[64]; /* as written, for policy_show */
	uid_t uid;     /* resolved at parse time: the child does no NSS */
	gid_t gid;     /* primary group */
	gid_t groups[POLICY_MAX_NOTIFY_GROUPS];
	size_t n_groups;
	int64_t timeout_s;     /* 10 (1..300) */
	unsigned retries;      /* 2 (0..10) */
	int64_t retry_delay_s; /* 10 (1..3600), doubled after each failure, at most 300 */
	char **resources;      /* only events about these resources, or none: all */
	size_t n_resources;
	size_t src, pos;
};

struct policy {
	int64_t version;
	int64_t serial;
	struct policy_resource *resources;
	size_t n_resources;
	uint32_t *by_name;  /* resources' indexes in name order (policy_find), NULL: none made */
	uid_t *exempt_uids; /* resolved: numbers as given, "user:NAME"/"NAME" via getpwnam */
	size_t n_exempt_uids;
	char **exempt_cgroups; /* cgroup v2 paths relative to the cgroupfs root, "/system.slice" */
	size_t n_exempt_cgroups;
	char **admins; /* principals who grant and revoke directly (root always may) */
	size_t n_admins;
	struct policy_rule *rules;
	size_t n_rules;
	struct policy_grant *grants;
	size_t n_grants;
	char *source;	 /* file or directory it was read from */
	int audit_allow; /* enum audit_allow: "audit": {"allow": "all"|"first"|"none"} */
	bool has_audit;
	json_t *fleet_labels;	     /* "fleet": {"labels": {...}}: this host's labels, or NULL */
	struct policy_alerts alerts; /* "alerts" (policy_alerts.c); without has_alerts: the
				      * defaults, policy_alerts_default() */
	bool has_alerts;
	struct policy_notify *notify; /* "notify": notification targets */
	size_t n_notify;
	/* SHA-256 of the files read (lengths, name, bytes, each in order): an unchanged policy
	 * reloaded by the file watcher is left as it is; has_digest false: compare nothing */
	unsigned char digest[32];
	bool has_digest;
};

#define POLICY_MAX_LABELS 16

/* Add label name=value to labels after checking its form (1..63 of A-Z a-z 0-9 . _ - /;
 * at most POLICY_MAX_LABELS). 0, or -EINVAL / -E2BIG / -ENOMEM with err set. */
int policy_label_add(json_t *labels, const char *name, const char *value, char *err, size_t errlen);
/* Does a host carrying labels match selector (every label of it, same value)? NULL matches. */
bool policy_hosts_match(const json_t *labels, const json_t *selector);
/* Can a host carry both selectors' labels (no label asked with two values)? */
bool policy_hosts_compatible(const json_t *a, const json_t *b);
/* Mark which rules and grants apply on a host carrying labels (NULL: none). */
void policy_select_host(struct policy *p, const json_t *labels);

/*
 * Parse and validate one policy file, or a directory of *.json files merged in name
 * order (resources/exempt merged; a resource defined twice is an error). On error
 * returns negative errno, leaves *out NULL and writes one line
 * "FILE:LINE:COLUMN: what is wrong" into err (LINE:COLUMN point at the offending
 * value or key). Unknown top-level keys are errors. Principals in "admins" and
 * rules are checked for form ("user:NAME", "group:NAME") and resolved when used;
 * users of fleet "grants" are resolved here.
 */
int policy_load(const char *path, struct policy **out, char *err, size_t errlen);

/* Parse from a buffer; name is used in error messages. Same contract as policy_load. */
/* The SHA-256 struct policy's digest would have for the files at path, without parsing
 * them. 0, or negative errno. */
int policy_digest(const char *path, unsigned char out[32]);
int policy_parse(const char *name, const char *text, size_t len, struct policy **out, char *err,
		 size_t errlen);

/* Find a resource by name, or NULL. */
const struct policy_resource *policy_find(const struct policy *p, const char *name);

/* Is uid one of the policy's exempt uids? */
bool policy_exempts_uid(const struct policy *p, uid_t uid);

/* Is the cgroup v2 path (relative to the cgroupfs root, "/system.slice/x.service") one of
 * the policy's exempt cgroups or below one? */
bool policy_exempts_cgroup(const struct policy *p, const char *path);

/* Format an entry as it would be written in a policy ("/usr/bin/psql", "10.0.5.0/24:5432",
 * "[fd00:5::/64]", any port shown without ":*"). Returns buf. */
char *policy_entry_format(const struct policy_entry *e, char *buf, size_t len);

/* Format a fleet grant's identity (resource, subject, window) into buf: two equal keys
 * mean the same standing grant across policy versions. Returns buf. */
char *policy_grant_key(const struct policy_grant *g, char *buf, size_t len);

/* Does target n want records of event about resource (NULL: none named)? */
bool policy_notify_wants(const struct policy_notify *n, const char *event, const char *resource);

/* Free a policy (NULL is fine). */
void policy_free(struct policy *p);

/*
 * Why a reason_pattern could stall jitd (compile or match time), or NULL when it cannot:
 * longer than POLICY_MAX_PATTERN, a back-reference, a {n,m} count above POLICY_MAX_REPEAT,
 * {n,m} copies of what they repeat (m copies of the atom before each) making more than
 * POLICY_MAX_REPEAT_SIZE bytes, or a repetition of a repetition, like (a*)* or a**.
 * Checked before regcomp; with these bounds glibc compiles and matches a 1 KiB reason in
 * milliseconds to tens of milliseconds.
 */
const char *policy_pattern_check(const char *re);

#endif
