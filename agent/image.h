/* SPDX-License-Identifier: GPL-2.0-only */
/* The kernel image of the grant store (the grants map, the granted-cgroups set). */
#ifndef JITD_IMAGE_H
#define JITD_IMAGE_H

struct agent;
struct grant;

/* Write (or delete) the kernel keys of grant g; every key is tried, the first error is
 * returned. */
int image_sync_grant(struct agent *a, const struct grant *g);
/* Make the kernel grants map the image of the whole store (start-up, policy reload). */
int image_sync_all(struct agent *a);
/* The hash of g's subject (uid, cgroup) that sync_key's pass compares first: the store's
 * subj array holds it per grant (struct grant_store). */
unsigned image_subject_of(const struct grant *g);

#endif
