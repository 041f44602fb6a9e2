/* SPDX-License-Identifier: GPL-2.0-only */
/* Cgroups for jitd exec, and the systemd units of cgroup grants. */
#ifndef JITD_SCOPE_H
#define JITD_SCOPE_H

#include <stdint.h>
#include <sys/types.h>

#define GRANT_EXEC_CGROUP "/jitd.exec" /* jitd exec cgroups without systemd */

struct agent;
struct grant;

int scope_create(struct agent *a, uint64_t id, pid_t pid, char **cgroup, uint64_t *cgroup_id);
int scope_watch(struct agent *a, struct grant *g);
void scope_release(struct agent *a, const struct grant *g);
int scope_kill(struct agent *a, const char *rel);
void scope_follow(struct agent *a, const struct grant *g);
int scope_start(struct agent *a);
int scope_unit_cgroup(struct agent *a, const char *unit, char **out, char *err, size_t errlen);

#endif
