/* SPDX-License-Identifier: GPL-2.0-only */
/* The agent core: the object that owns the loop, and what the modules below reach through it. */
#ifndef JITD_CORE_H
#define JITD_CORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>
#include <jansson.h>

#include "aggregate.h"
#include "alert.h"
#include "audit.h"
#include "audit_fmt.h"
#include "ctl.h"
#include "fleet.h"
#include "grant.h"
#include "notify.h"
#include "pathwatch.h"
#include "scope.h"
#include "verbs.h"
#include "jitd_abi.h"
#include "policy.h"

#ifndef JITD_VERSION
#define JITD_VERSION "0.1.0"
#endif

#define GRANT_PENDING_TTL_S 3600   /* default --pending-ttl */
#define GRANT_OPEN_DEFAULT  100	   /* default --max-open */
#define GRANT_OPEN_MAX	    100000 /* largest --max-open */

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
	/* n keys with their values (one system call for all where the kernel can) */
	int (*put_grants)(struct agent *a, const struct jitd_grant_key *keys,
			  const struct jitd_grant_val *vals, size_t n);
	int (*del_grant)(struct agent *a, const struct jitd_grant_key *key);
	int (*prune_grants)(struct agent *a, bool (*keep)(const struct jitd_grant_key *, void *),
			    void *arg);
	int (*set_granted_cgroups)(struct agent *a, const uint64_t *ids, size_t n);
	/* usage per grant id (jitd_grant_use): put makes it (1; 0: it was there) */
	int (*put_use)(struct agent *a, uint64_t id, const struct jitd_grant_use *u);
	int (*get_use)(struct agent *a, uint64_t id, struct jitd_grant_use *u);
	int (*del_use)(struct agent *a, uint64_t id);
	int (*prune_uses)(struct agent *a, bool (*keep)(uint64_t id, void *), void *arg);
	/* the kernel's policy maps (apply.c) */
	int (*sync_policy)(struct agent *a, const struct policy *p);
	/* the store changed: re-arm the expiry timer. g: the one grant that changed (the timer
	 * may only move earlier for it: a pass over the store per change was the cost of a
	 * grant at 100,000), NULL: any number (a pass) */
	void (*grants_changed)(struct agent *a, const struct grant *g);
	/* a->policy is about to be put in force: watch its paths before they are resolved */
	void (*watch_paths)(struct agent *a);
	/* exec and cgroup grants (scope.c) */
	void (*grant_ended)(struct agent *a, const struct grant *g);
	void (*grant_follow)(struct agent *a, const struct grant *g);
	int (*scope_create)(struct agent *a, uint64_t id, pid_t pid, char **cgroup,
			    uint64_t *cgroup_id);
	int (*scope_watch)(struct agent *a, struct grant *g);
	int (*scope_kill)(struct agent *a, const char *rel);
	int (*unit_cgroup)(struct agent *a, const char *unit, char **out, char *err, size_t errlen);
	/* `status`: the kernel's part of the reply (enforcing, programs, counters...) */
	void (*status)(struct agent *a, json_t *reply);
	/* `audit`: make client a live subscriber (audit_sub.c) */
	json_t *(*audit_subscribe)(struct agent *a, void *client, json_t *req);
};

struct ringread;

struct agent {
	struct agent_ops ops;
	sd_event *event;
	struct kern *kern;
	struct policy *policy;
	const char *policy_path;
	struct grant_store grants;
	const char *state_dir;
	const char *socket_path;
	const char *cgroup_root;
	int64_t started_ns;
	bool selftest_ok;
	sd_event_source *expiry_timer;
	int64_t expiry_next;	    /* CLOCK_BOOTTIME ns the timer is set to, -1: off (core.c) */
	bool use_systemd;	    /* jitd exec: transient scopes over D-Bus (systemd is PID 1) */
	int64_t pending_ttl_s;	    /* a pending request expires after this (--pending-ttl) */
	unsigned max_open;	    /* open self-service grants a user may hold (--max-open) */
	struct ctl_server ctl;	    /* the control socket (ctl.c) */
	struct scope_state scope;   /* exec and cgroup-grant watches (scope.c) */
	struct pathwatch pathwatch; /* the policy's paths (pathwatch.c) */
	struct verbs_cache verbs_cache; /* policy_show's reply (verbs.c) */
	struct audit_state audit;	/* decision records (audit.c) */
	struct fleet fleet;		/* the fleet database link (fleet.c) */
	struct alert_state alert;	/* alert windows and counters (alert.c) */
	struct notify_state notify;	/* notification commands (notify.c) */
	struct agg_state agg;		/* aggregated allows (aggregate.c) */
	/* the core's own (core.c) */
	struct ringread *ring;	  /* the ring buffer's reader (ring.c) */
	uint64_t drops_seen;	  /* kernel ring-buffer losses reported so far */
	int64_t drops_checked_ns; /* when they were last looked at */
	sd_event_source *policy_debounce;
	bool policy_touched; /* a policy file changed (inotify, before the debounce) */
};

/* What jitd's arguments say (main.c). */
struct agent_config {
	const char *policy_path, *socket_path, *state_dir, *audit_path, *cgroup_root;
	const char *fleet; /* libpq conninfo, or NULL: single host */
	json_t *labels;	   /* --label NAME=VALUE, taken over */
	int64_t pending_ttl_s;
	unsigned max_open;		    /* --max-open */
	unsigned notify_jobs, notify_queue; /* --notify-jobs, --notify-queue */
	uint32_t audit_aggregate_s;	    /* --audit-aggregate (0: off) */
	enum audit_format audit_fmt;
	bool journal, check_only, reload_programs;
};

/* Arm the one expiry timer at the earliest active grant's boot-clock expiry. */
void agent_rearm_expiry(struct agent *a);
void agent_grant_changed(struct agent *a, const struct grant *g);

/* Everything up to READY=1 (with --check-policy: the policy parsed). 0, or -1 when the
 * reason was said on stderr. */
int agent_start(struct agent *a, const struct agent_config *cfg);
/* The loop until SIGTERM, then the orderly stop (enforcement stays pinned). Exit status. */
int agent_run(struct agent *a);
/* `jitd --unload`. Exit status. */
int agent_unload(const char *state_dir);

#endif
