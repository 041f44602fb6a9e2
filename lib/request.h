/* SPDX-License-Identifier: GPL-2.0-only */
/* Grants and requests: the record, and the pure rules on it (principals, approvals, state entries).
 */
#ifndef JITD_REQUEST_H
#define JITD_REQUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "policy.h"

#define GRANT_MAX_REASON 1024
#define GRANT_MAX_RES	 16 /* resources of one request */
/* A grant is no longer extended once its history holds GRANT_HISTORY_ENTRIES entries or
 * GRANT_HISTORY_MAX bytes as kept (lib/history.h; long reasons): each extension adds an
 * entry, parsed and written whole, and a user may extend their own grant */
#define GRANT_HISTORY_MAX     16384
#define GRANT_HISTORY_ENTRIES 160
#define GRANT_MAX_ID	      (1LL << 53) /* grant ids: 1 .. GRANT_MAX_ID - 1 */

/* "scheduled" is an active grant whose start is still ahead (docs/protocol.md). */
/* one byte each (packed): three of them in every grant record */
enum __attribute__((packed)) grant_state {
	GRANT_ACTIVE = 1,
	GRANT_EXPIRED = 2,
	GRANT_REVOKED = 3,
	GRANT_PENDING = 4,
	GRANT_DENIED = 5
};

/* The review of a break-glass grant (only those have one). */
enum __attribute__((packed)) grant_review {
	GRANT_REVIEW_NONE = 0,
	GRANT_REVIEW_UNREVIEWED = 1,
	GRANT_REVIEW_APPROVED = 2,
	GRANT_REVIEW_FLAGGED = 3
};

/* Where a grant came from. */
enum __attribute__((packed)) grant_kind {
	GRANT_DIRECT = 0,
	GRANT_REQUEST = 1,
	GRANT_EXEC = 2,
	GRANT_FLEET = 3
};

/*
 * A grant, or a request on its way to become one. A request is PENDING until enough
 * approvals (then ACTIVE, its clock starting at the last approval), a denial (DENIED) or
 * its pending deadline (EXPIRED; expires_ns holds the deadline while PENDING).
 */
struct grant {
	/* the fields sync_key compares for every grant (state, subject) in the first 64 bytes;
	 * the small ones together (no padding): 224 bytes a grant in the store */
	uint64_t id;
	/* n_res names. A grant in the store owns a reference to a list shared by the grants
	 * naming the same resources (res_owned; dropped by req_grant_clear; never written
	 * through); a request being parsed points at its own array of GRANT_MAX_RES, shared
	 * when it enters the store (req_grant_own_res) */
	char (*res)[POLICY_MAX_NAME];
	uid_t uid;
	uid_t by_uid;	     /* who granted: the admin, or the last approver */
	uid_t requester_uid; /* who asked (requests and exec), else by_uid */
	uint8_t n_res;	     /* at most GRANT_MAX_RES */
	enum grant_state state;
	enum grant_kind kind;
	/* break-glass: granted at once; review NONE unless break_glass (who reviewed it, when
	 * and why: its history's "reviewed" entry) */
	enum grant_review review;
	uint8_t approvals_needed; /* at most POLICY_MAX_APPROVALS */
	bool res_owned;
	bool has_uid;
	bool on_end_kill;      /* its rule's "on_end": "kill": its cgroup's tree dies with it */
	bool live;	       /* runtime: the kernel entry reflects that it started */
	bool until_unit_stops; /* the grant ends when its unit stops (scope.c) */
	bool break_glass;
	bool from_first_use; /* "clock": "first_use" (first_by_ns below) */
	uint64_t cgroup_id;
	char *cgroup;	      /* path relative to the cgroupfs root, or NULL */
	int64_t created_ns;   /* CLOCK_REALTIME */
	int64_t starts_ns;    /* CLOCK_REALTIME */
	int64_t expires_ns;   /* CLOCK_REALTIME */
	int64_t ended_ns;     /* CLOCK_REALTIME, 0 while active */
	uint64_t starts_boot; /* CLOCK_BOOTTIME of this boot (see store boot_id) */
	uint64_t expires_boot;
	char *reason;
	int64_t duration_s;	/* asked for; the clock starts at approval */
	int64_t max_duration_s; /* the rule's maximum (extend never goes past it); 0: none */
	/* compact JSON text (req_json_list reads it): kept as text, a tree costs ~1 KB */
	char *approvers; /* the rule's approvers when requested (array of principals) */
	/* [{"event","uid","at","user","reason"}] encoded (lib/history.h: hist_decode reads it,
	 * hist_encode makes it); NULL: none (not even []) */
	char *history;
	char *fleet_key; /* fleet grants: policy_grant_key() */
	char *unit;	 /* a --unit grant's unit (NAME.service), or NULL */
	/* usage, as last read from the kernel (agent/usage.c) and saved in the state file */
	uint64_t uses;		  /* allowed accesses counted in all boots */
	int64_t first_use_ns;	  /* CLOCK_REALTIME, 0: never used */
	int64_t last_use_ns;	  /* CLOCK_REALTIME, 0: never used */
	int64_t max_idle_s;	  /* ends once unused this long (the rule's "max_idle"); 0: never */
	uint64_t idle_until_boot; /* runtime: CLOCK_BOOTTIME it idles out at, as last read */
	/* from_first_use: the duration counts from the first use; first_by_ns (realtime) is
	 * the latest start while unused, 0 once used (starts/expires tightened to it) */
	int64_t first_by_ns;
	uint64_t first_by_boot;	 /* runtime: first_by_ns on the boot clock */
	uint64_t first_use_boot; /* runtime: the kernel's first use of this boot, 0: none read */
};
_Static_assert(GRANT_MAX_RES <= UINT8_MAX && POLICY_MAX_APPROVALS <= UINT8_MAX,
	       "n_res and approvals_needed are one byte");
_Static_assert(sizeof(struct grant) == 224, "the grant record grew: each byte is 100 KB at "
					    "100,000 grants");

/* request.c: rules, principals, approvals, state entries (pure logic, unit-tested). */
bool req_principal_match(const char *principal, uid_t uid);
bool req_is_admin(const struct policy *p, uid_t uid);
/* Who may extend g: root and admins; its requester when it needed no approval (a request
 * or exec grant); an approver of a request (not its requester). */
bool req_may_extend(const struct policy *p, const struct grant *g, uid_t by);
/* Who may revoke g (or cancel a pending request): root and admins, its requester, and the
 * user it is for unless it comes from the policy. */
bool req_may_revoke(const struct policy *p, const struct grant *g, uid_t by);
/* Who may follow the audit stream over the control socket: root only. */
bool req_may_read_audit(uid_t by);
/* The rule of this host's that lets uid request all of res (fewest approvals, then longest
 * maximum), or NULL with the reason in err. */
const struct policy_rule *req_find_rule(const struct policy *p, uid_t uid,
					char res[][POLICY_MAX_NAME], unsigned n, char *err,
					size_t errlen);
/* The same for a fleet request for the hosts of selector sel: any rule whose own "hosts"
 * selector a host could carry together with sel, wherever this host is. */
const struct policy_rule *req_find_fleet_rule(const struct policy *p, uid_t uid,
					      char res[][POLICY_MAX_NAME], unsigned n,
					      const json_t *sel, char *err, size_t errlen);
int req_check(const struct policy_rule *r, int64_t duration_s, const char *reason, char *err,
	      size_t errlen);
bool req_history_full(const struct grant *g);
void req_history_add(struct grant *g, const char *event, uid_t uid, const char *reason,
		     int64_t now_ns);
unsigned req_approval_count(const struct grant *g);
/* A grant's history or approvers text as a JSON array (a new reference): an empty array
 * for NULL; NULL when out of memory (or not an array). */
json_t *req_json_list(const char *text);
/* arr (NULL: none) as compact text into *text, replacing it. 0 or -ENOMEM (*text kept). */
int req_json_list_set(char **text, const json_t *arr);
int req_approve(struct grant *g, uid_t by, const char *reason, int64_t now_ns, char *err,
		size_t errlen);
int req_deny(struct grant *g, uid_t by, const char *reason, int64_t now_ns, char *err,
	     size_t errlen);
int req_extend(const struct grant *g, int64_t add_s, int64_t *new_expires_ns, char *err,
	       size_t errlen);
/* The break-glass rule that lets uid take all of res at once: a requester of it, covering
 * every resource, with "break_glass_max" (the longest). NULL with the reason in err; *enoent
 * set when a resource is unknown. */
const struct policy_rule *req_find_break_glass_rule(const struct policy *p, uid_t uid,
						    char res[][POLICY_MAX_NAME], unsigned n,
						    bool *enoent, char *err, size_t errlen);
/* Is a break-glass of duration_s with reason acceptable under r? A reason is always needed
 * (and matches the rule's pattern); at most r's break_glass_max. 0 or -EINVAL. */
int req_check_break_glass(const struct policy_rule *r, int64_t duration_s, const char *reason,
			  char *err, size_t errlen);
/* May uid review break-glass grant g? Root, admins and its frozen approvers; never its
 * requester. 0 or -EPERM with the reason in err. */
int req_may_review(const struct policy *p, const struct grant *g, uid_t by, char *err,
		   size_t errlen);
/* Review unreviewed break-glass grant g: flag (a reason needed) or approve; history
 * "reviewed". 0, or -EPERM / -EINVAL / -EALREADY (reviewed already) with err set. */
int req_review(const struct policy *p, struct grant *g, uid_t by, bool flag, const char *reason,
	       int64_t now_ns, char *err, size_t errlen);
/* The name of a review state ("unreviewed", "approved", "flagged"; "" for none). */
const char *req_review_name(enum grant_review r);
const char *req_state_name(enum grant_state s);
const char *req_kind_name(enum grant_kind k);
void req_grant_clear(struct grant *g);
/* g->res as a reference to the shared list of the same n_res names (when not yet owned;
 * the list must not be written through): 0 or -ENOMEM. */
int req_grant_own_res(struct grant *g);
/* How many distinct shared resource lists there are (tests). */
size_t req_res_lists(void);
int req_grant_from_state(json_t *o, bool same_boot, int64_t real_now, int64_t boot_now,
			 struct grant *g, char *err, size_t errlen);

#define REQ_MAX_APPROVER_USERS	256   /* users an approver expansion names at most */
#define REQ_MAX_APPROVER_GROUPS 64    /* group principals whose primary-gid members count */
#define REQ_MAX_USER_SCAN	65536 /* user database entries scanned for primary-gid members */
/* The users principals ("user:NAME", "group:NAME": listed members and users whose primary
 * group it is) name, but never exclude (the requester): [{"uid","user"}] sorted by name,
 * unique, the first max by name (REQ_MAX_APPROVER_USERS for replies and notifications).
 * Unknown names name nobody. NSS lookups and one capped scan of the user database.
 * 0 or -ENOMEM. */
int req_approver_users(char *const *principals, size_t n, uid_t exclude, size_t max,
		       json_t **users);

#endif
