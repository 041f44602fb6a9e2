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

enum grant_state { GRANT_ACTIVE = 1, GRANT_EXPIRED = 2, GRANT_REVOKED = 3 };

struct grant {
	uint64_t id;
	char resource[POLICY_MAX_NAME];
	enum grant_state state;
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
	uid_t by_uid;
};

struct grant_store {
	struct grant *v;
	size_t n, cap;
	uint64_t next_id;
	char *path; /* state file */
};

/* The loaded BPF side: skeleton, links, map fds. */
struct kern;

struct agent {
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
};

/* bpfload.c: the kernel side. */
int kern_lsm_active(char *lsm, size_t len);
int kern_open(struct kern **out);
void kern_close(struct kern *k);
int kern_unload(void);
int kern_ringbuf_fd(struct kern *k);
int kern_sync_policy(struct kern *k, const struct policy *p, const char *cgroup_root);
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
bool kern_enforcing(struct kern *k);
const char *kern_path_of(struct kern *k, uint64_t dev, uint64_t ino);

/* grant.c: the grant store and its kernel image. */
int grant_store_load(struct grant_store *s, const char *state_dir);
int grant_store_save(const struct grant_store *s);
void grant_store_free(struct grant_store *s);
int grant_sync_all(struct agent *a);
int grant_add(struct agent *a, struct grant *g, char *err, size_t errlen);
int grant_revoke(struct agent *a, uint64_t id, uid_t by, const struct grant **out);
int grant_expire_due(struct agent *a);
int64_t grant_next_expiry_boot(const struct agent *a);
struct grant *grant_find(struct grant_store *s, uint64_t id);
size_t grant_count_active(const struct grant_store *s);
json_t *grant_to_json(const struct grant *g);

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
int audit_decision(struct agent *a, const struct jitd_event *e);
void audit_agent_event(const char *event, json_t *fields);
int64_t audit_boot_to_real(uint64_t boot_ns);

/* pathwatch.c: re-resolve policy paths that appear or are replaced. */
int pathwatch_update(struct agent *a);
void pathwatch_kick(struct agent *a);

/* main.c */
void agent_rearm_expiry(struct agent *a);

#endif
