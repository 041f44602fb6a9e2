/* SPDX-License-Identifier: GPL-2.0-only */
/* Policy: parse and validate a JSON policy file or directory (DESIGN.md, "Policy"). */
#ifndef JITD_POLICY_H
#define JITD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define POLICY_MAX_RESOURCES 4096
#define POLICY_MAX_NAME 64 /* resource names: [A-Za-z0-9._-]{1,63} */
#define POLICY_MAX_ENTRIES 256 /* entries (exec + open + connect) per resource */
#define POLICY_MAX_FILE_SIZE (4u << 20) /* bytes per policy file */

enum policy_entry_kind { POLICY_EXEC = 1, POLICY_OPEN = 2, POLICY_CONNECT = 3 };

/* One entry of a resource: a path (exec/open) or a network (connect). */
struct policy_entry {
	enum policy_entry_kind kind;
	char *path;	     /* exec/open: absolute, as written (no trailing '/' except "/") */
	uint8_t addr[16];    /* connect: network address, IPv4 as ::ffff:a.b.c.d */
	unsigned prefix;     /* connect: prefix length in bits of the 128-bit form (IPv4 /24 => 120) */
	uint16_t port;	     /* connect: host order, 0 = any port ("10.0.0.0/8" or "host:*") */
	bool ipv4;	     /* connect: written as IPv4 */
};

struct policy_resource {
	char name[POLICY_MAX_NAME];
	uint32_t id; /* util_resource_id(name) */
	struct policy_entry *entries;
	size_t n_entries;
};

struct policy {
	int64_t version;
	int64_t serial;
	struct policy_resource *resources;
	size_t n_resources;
	uid_t *exempt_uids; /* resolved: numbers as given, "user:NAME"/"NAME" via getpwnam */
	size_t n_exempt_uids;
	char **exempt_cgroups; /* cgroup v2 paths relative to the cgroupfs root, "/system.slice" */
	size_t n_exempt_cgroups;
	char *source; /* file or directory it was read from */
	int audit_allow; /* enum audit_allow: "audit": {"allow": "all"|"first"|"none"} */
	bool has_audit;
};

/*
 * Parse and validate one policy file, or a directory of *.json files merged in name
 * order (resources/exempt merged; a resource defined twice is an error). On error
 * returns negative errno, leaves *out NULL and writes one line
 * "FILE:LINE:COLUMN: what is wrong" into err (LINE:COLUMN point at the offending
 * value or key). Unknown top-level keys are errors; "admins", "rules" and "grants"
 * are accepted and checked for type only (later issues use them).
 */
int policy_load(const char *path, struct policy **out, char *err, size_t errlen);

/* Parse from a buffer; name is used in error messages. Same contract as policy_load. */
int policy_parse(const char *name, const char *text, size_t len, struct policy **out, char *err,
		 size_t errlen);

/* Find a resource by name, or NULL. */
const struct policy_resource *policy_find(const struct policy *p, const char *name);

/* Format an entry as it would be written in a policy ("/usr/bin/psql", "10.0.5.0/24:5432",
 * "[fd00:5::/64]", any port shown without ":*"). Returns buf. */
char *policy_entry_format(const struct policy_entry *e, char *buf, size_t len);

/* Free a policy (NULL is fine). */
void policy_free(struct policy *p);

#endif
