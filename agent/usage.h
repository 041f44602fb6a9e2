/* SPDX-License-Identifier: GPL-2.0-only */
/* Usage per grant: the kernel's counts (jitd_grant_use) into the store (usage.c). */
#ifndef JITD_USAGE_H
#define JITD_USAGE_H

#include <stdint.h>

#include "jitd_abi.h"
#include "request.h"

struct agent;

/* The kernel entry grant g gets before its first key: what it counted in earlier boots. */
void usage_entry(const struct grant *g, struct jitd_grant_use *u);
/* Read g's kernel entry into g->uses, first_use_ns, last_use_ns (realtime). 0; -ENOENT
 * when the kernel has none (pending, ended, or written by an older jitd); -errno. */
int usage_read(struct agent *a, struct grant *g);
/* usage_read for every active grant (list, show, report, stop). */
void usage_refresh(struct agent *a);

#endif
