/* SPDX-License-Identifier: GPL-2.0-only */
/* Cgroups for jitd exec, and the systemd units of cgroup grants. */
#ifndef JITD_SCOPE_H
#define JITD_SCOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>
#include <sys/types.h>

#define GRANT_EXEC_CGROUP "/jitd.exec" /* jitd exec cgroups without systemd */

#define SCOPE_MAX_WATCH	  4096
#define SCOPE_MAX_PARENTS 256

struct agent;
struct grant;

/* An exec grant's cgroup, watched until the grant ends and the cgroup is empty. */
struct scope_watch {
	int wd;
	uint64_t grant_id;
	char *dir;  /* full path of the cgroup directory */
	bool ended; /* the grant ended: remove the cgroup once it is empty */
};

/* The watches of exec cgroups and of the directories holding cgroup-grant paths
 * (agent.scope); the inotify instance exists once ino_src is set. */
struct scope_state {
	int ino_fd;
	sd_event_source *ino_src;
	struct scope_watch watches[SCOPE_MAX_WATCH];
	size_t n_watches;
	int parent_wds[SCOPE_MAX_PARENTS];
	size_t n_parents;
};

int scope_create(struct agent *a, uint64_t id, pid_t pid, char **cgroup, uint64_t *cgroup_id);
int scope_watch(struct agent *a, struct grant *g);
void scope_release(struct agent *a, const struct grant *g);
int scope_kill(struct agent *a, const char *rel);
void scope_follow(struct agent *a, const struct grant *g);
int scope_start(struct agent *a);
int scope_unit_cgroup(struct agent *a, const char *unit, char **out, char *err, size_t errlen);

#endif
