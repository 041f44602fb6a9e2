/* SPDX-License-Identifier: GPL-2.0-only */
/* The agent's modules and the state they share. */
#ifndef JITD_AGENT_H
#define JITD_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>
#include <jansson.h>

#include "jitd_abi.h"
#include "policy.h"
#include "audit_fmt.h"

#ifndef JITD_VERSION
#define JITD_VERSION "0.1.0"
#endif

#define GRANT_MAX_REASON 1024
#define GRANT_KEEP_ENDED 1000 /* ended grants kept for `list --all` */

/* Log to stderr with a level prefix sd-journal understands. */
#define log_err(fmt, ...) fprintf(stderr, "<3>jitd: " fmt "\n", ##__VA_ARGS__)
#define log_warn(fmt, ...) fprintf(stderr, "<4>jitd: " fmt "\n", ##__VA_ARGS__)
#define log_info(fmt, ...) fprintf(stderr, "<6>jitd: " fmt "\n", ##__VA_ARGS__)

#define GRANT_MAX_RES 16		       /* resources of one request */
#define GRANT_MAX_ID (1LL << 53)	       /* grant ids: 1 .. GRANT_MAX_ID - 1 */
#define GRANT_PENDING_TTL_S 3600	       /* default --pending-ttl */
#define GRANT_EXEC_CGROUP "/jitd.exec"	       /* jitd exec cgroups without systemd */

/* "scheduled" is an active grant whose start is still ahead (docs/protocol.md). */
enum grant_state {
	GRANT_ACTIVE = 1,
	GRANT_EXPIRED = 2,
	GRANT_REVOKED = 3,
	GRANT_PENDING = 4,
	GRANT_DENIED = 5
};

/* Where a grant came from. */
enum grant_kind { GRANT_DIRECT = 0, GRANT_REQUEST = 1, GRANT_EXEC = 2, GRANT_FLEET = 3 };

/*
 * A grant, or a request on its way to become one. A request is PENDING until enough
 * approvals (then ACTIVE, its clock starting at the last approval), a denial (DENIED) or
 * its pending deadline (EXPIRED; expires_ns holds the deadline while PENDING).
 */
struct grant {
	uint64_t id;
	char res[GRANT_MAX_RES][POLICY_MAX_NAME];
	unsigned n_res;
	enum grant_state state;
	enum grant_kind kind;
	bool has_uid;
	uid_t uid;
	char *cgroup; /* path relative to the cgroupfs root, or NULL */
	uint64_t cgroup_id;
	int64_t created_ns; /* CLOCK_REALTIME */
	int64_t starts_ns;  /* CLOCK_REALTIME */
	int64_t expires_ns; /* CLOCK_REALTIME */
	int64_t ended_ns;   /* CLOCK_REALTIME, 0 while active */
	uint64_t starts_boot; /* CLOCK_BOOTTIME of this boot (see store boot_id) */
	uint64_t expires_boot;
	char *reason;
	uid_t by_uid;	      /* who granted: the admin, or the last approver */
	uid_t requester_uid;  /* who asked (requests and exec), else by_uid */
	int64_t duration_s;   /* asked for; the clock starts at approval */
	int64_t max_duration_s; /* the rule's maximum (extend never goes past it); 0: none */
	unsigned approvals_needed;
	json_t *approvers; /* the rule's approvers when requested (array of principals) */
	json_t *history;   /* [{"event","uid","at","reason"}] */
	char *fleet_key;   /* fleet grants: policy_grant_key() */
	bool live;	   /* runtime: the kernel entry reflects that it started */
};

struct grant_store {
	struct grant *v;
	size_t n, cap;
	uint64_t next_id;
	char *path; /* state file */
};

/* The loaded BPF side: skeleton, links, map fds. */
struct kern;
struct agent;

/*
 * What the modules below the core (grant.c, verbs.c, apply.c) need from the parts the core
 * owns: the kernel, the loop's timers, the exec cgroups, the audit subscribers. The core
 * (main.c) wires every field; the modules call these and never main.c, bpfload.c or
 * scope.c directly (docs/architecture.md). A host test wires what it exercises.
 */
struct agent_ops {
	/* the kernel image of the grant store */
	int (*put_grant)(struct agent *a, const struct jitd_grant_key *key,
			 const struct jitd_grant_val *val);
	int (*del_grant)(struct agent *a, const struct jitd_grant_key *key);
	int (*prune_grants)(struct agent *a, bool (*keep)(const struct jitd_grant_key *, void *),
			    void *arg);
	int (*set_granted_cgroups)(struct agent *a, const uint64_t *ids, size_t n);
	/* the kernel's policy maps (apply.c) */
	int (*sync_policy)(struct agent *a, const struct policy *p);
	/* the store changed: re-arm the expiry timer */
	void (*grants_changed)(struct agent *a);
	/* a policy was put in force: re-watch its paths */
	void (*policy_changed)(struct agent *a);
	/* exec and cgroup grants (scope.c) */
	void (*grant_ended)(struct agent *a, const struct grant *g);
	void (*grant_follow)(struct agent *a, const struct grant *g);
	int (*scope_create)(struct agent *a, uint64_t id, pid_t pid, char **cgroup,
			    uint64_t *cgroup_id);
	int (*scope_watch)(struct agent *a, struct grant *g);
	int (*scope_kill)(struct agent *a, const char *rel);
	int (*unit_cgroup)(struct agent *a, const char *unit, char **out, char *err,
			   size_t errlen);
	/* `status`: the kernel's part of the reply (enforcing, programs, counters...) */
	void (*status)(struct agent *a, json_t *reply);
	/* `audit`: make client a live subscriber (audit_sub.c) */
	json_t *(*audit_subscribe)(struct agent *a, void *client, json_t *req);
};

struct agent {
	struct agent_ops ops;
	sd_event *event;
	struct kern *kern;
	struct policy *policy;
	char *policy_path;
	struct grant_store grants;
	const char *state_dir;
	const char *socket_path;
	const char *cgroup_root;
	int64_t started_ns;
	bool selftest_ok;
	sd_event_source *expiry_timer;
	bool use_systemd; /* jitd exec: transient scopes over D-Bus (systemd is PID 1) */
	int64_t pending_ttl_s; /* a pending request expires after this (--pending-ttl) */
};

/* bpfload.c: the kernel side. */
int kern_lsm_active(char *lsm, size_t len);
/* Load (or, same build and !reload, adopt) the programs, attach, pin, register self. */
int kern_open(struct kern **out, bool reload);
void kern_close(struct kern *k);
int kern_unload(void);
int kern_ringbuf_fd(struct kern *k);
int kern_sync_policy(struct kern *k, const struct policy *p, const char *cgroup_root);
/* jitd's own files (policy, state directory, audit file; NULL: none), protected from the
 * next kern_sync_policy on with the binary, the pins, the unit and the exempt cgroups. */
int kern_set_self(struct kern *k, const char *policy_path, const char *state_dir,
		  const char *audit_path);
int kern_put_grant(struct kern *k, const struct jitd_grant_key *key,
		   const struct jitd_grant_val *val);
int kern_del_grant(struct kern *k, const struct jitd_grant_key *key);
int kern_prune_grants(struct kern *k, bool (*keep)(const struct jitd_grant_key *, void *),
		      void *arg);
int kern_selftest(struct kern *k, const char *dir);
int kern_set_granted_cgroups(struct kern *k, const uint64_t *ids, size_t n);
int kern_counters(struct kern *k, uint64_t *allow, uint64_t *deny, uint64_t *drops);
int kern_drops_reported(struct kern *k, uint64_t *get, const uint64_t *set);
json_t *kern_programs_json(struct kern *k);
json_t *kern_features_json(struct kern *k);
bool kern_enforcing(struct kern *k);
const char *kern_path_of(struct kern *k, uint64_t dev, uint64_t ino);

/* grant.c: the grant store and its kernel image. */
int grant_store_load(struct grant_store *s, const char *state_dir);
int grant_store_save(const struct grant_store *s);
void grant_store_free(struct grant_store *s);
int grant_sync_all(struct agent *a);
int grant_rebind_cgroups(struct agent *a);
int grant_add(struct agent *a, struct grant *g, char *err, size_t errlen);
void grant_mark(const struct grant *g, struct grant *before);
void grant_mark_drop(struct grant *before);
int grant_activate(struct agent *a, struct grant *g, struct grant *before);
int grant_commit(struct agent *a, struct grant *g, struct grant *before);
int grant_end(struct agent *a, struct grant *g, enum grant_state st, const char *event, uid_t by,
	      const char *reason);
int grant_revoke(struct agent *a, uint64_t id, uid_t by, const struct grant **out);
int grant_apply_fleet(struct agent *a);
const char *grant_state_name(const struct grant *g);
int grant_expire_due(struct agent *a);
int64_t grant_next_expiry_boot(const struct agent *a);
struct grant *grant_find(struct grant_store *s, uint64_t id);
size_t grant_count_active(const struct grant_store *s);
json_t *grant_to_json(const struct grant *g);

/* request.c: rules, principals, approvals, state entries (pure logic, unit-tested). */
bool req_principal_match(const char *principal, uid_t uid);
bool req_is_admin(const struct policy *p, uid_t uid);
const struct policy_rule *req_find_rule(const struct policy *p, uid_t uid,
					char res[][POLICY_MAX_NAME], unsigned n, char *err,
					size_t errlen);
int req_check(const struct policy_rule *r, int64_t duration_s, const char *reason, char *err,
	      size_t errlen);
void req_history_add(struct grant *g, const char *event, uid_t uid, const char *reason,
		     int64_t now_ns);
unsigned req_approval_count(const struct grant *g);
int req_approve(struct grant *g, uid_t by, const char *reason, int64_t now_ns, char *err,
		size_t errlen);
int req_deny(struct grant *g, uid_t by, const char *reason, int64_t now_ns, char *err,
	     size_t errlen);
int req_extend(const struct grant *g, int64_t add_s, int64_t *new_expires_ns, char *err,
	       size_t errlen);
const char *req_state_name(enum grant_state s);
const char *req_kind_name(enum grant_kind k);
void req_grant_clear(struct grant *g);
int req_grant_from_state(json_t *o, bool same_boot, int64_t real_now, int64_t boot_now,
			 struct grant *g, char *err, size_t errlen);

/* scope.c: cgroups for jitd exec. */
int scope_create(struct agent *a, uint64_t id, pid_t pid, char **cgroup, uint64_t *cgroup_id);
int scope_watch(struct agent *a, struct grant *g);
void scope_release(struct agent *a, const struct grant *g);
int scope_kill(struct agent *a, const char *rel);
void scope_follow(struct agent *a, const struct grant *g);
int scope_start(struct agent *a);
int scope_unit_cgroup(struct agent *a, const char *unit, char **out, char *err, size_t errlen);

/* ctl.c: the control socket. */
int ctl_start(struct agent *a);
void ctl_stop(void);
int ctl_push(void *client, const char *buf, size_t len, bool close_after);

/* audit_sub.c: live audit subscribers on the control socket. */
json_t *audit_sub_request(struct agent *a, void *client, json_t *req);
void audit_sub_remove(void *client);
void audit_sub_init(void);

/* audit.c: the audit stream. */
void audit_configure(enum audit_format fmt, bool journal, const char *state_dir);
int audit_open(const char *path);
void audit_reopen(void);
void audit_close(void);
/* path: the protected path of the event's inode, when known (kern_path_of) */
int audit_decision(struct agent *a, const struct jitd_event *e, const char *path);
void audit_agent_event(const char *event, json_t *fields);
void audit_sync(void);
int64_t audit_boot_to_real(uint64_t boot_ns);

/* pathwatch.c: re-resolve policy paths that appear or are replaced. */
int pathwatch_update(struct agent *a);
void pathwatch_kick(struct agent *a);

/* main.c: the core. */
void agent_rearm_expiry(struct agent *a);

#endif
