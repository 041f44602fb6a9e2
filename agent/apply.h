/* SPDX-License-Identifier: GPL-2.0-only */
/* Policy application: the one serial rule, apply and roll back, the applied copy. */
#ifndef JITD_APPLY_H
#define JITD_APPLY_H

#include <stdbool.h>
#include <stddef.h>

struct agent;
struct policy;

/*
 * May p replace the active policy? Never an older serial (fleet pushes cannot roll back);
 * a pushed policy (`jitctl policy apply`) must carry a higher one, while --policy may be
 * reloaded at the same serial (an edit and SIGHUP). 0, or -EINVAL / -ESTALE with err set.
 */
int apply_check_serial(const struct policy *active, const struct policy *p, bool pushed, char *err,
		       size_t errlen);
/* Put p in force (taking it over): kernel maps, grant keys, fleet grants. On failure the
 * previous policy is restored and p freed. */
int apply_policy(struct agent *a, struct policy *p);
/* `jitctl policy apply`: check the serial, keep text as STATE_DIR/policy.applied.json and
 * put p in force, all or nothing (p is taken over either way). */
int apply_pushed(struct agent *a, struct policy *p, const char *text, size_t len, char *err,
		 size_t errlen);
/* Reload --policy (SIGHUP, a changed file): refused and recorded when invalid or older.
 * if_changed (the file watcher): files with the same bytes as those the policy in force
 * was read from are not even parsed; SIGHUP resolves everything again. */
int apply_reload(struct agent *a, bool if_changed);
/* At start-up: the applied copy replaces --policy while its serial is higher. */
void apply_load_applied(struct agent *a);

#endif
