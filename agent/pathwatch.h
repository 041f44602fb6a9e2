/* SPDX-License-Identifier: GPL-2.0-only */
/* Re-resolve policy paths that appear or are replaced. */
#ifndef JITD_PATHWATCH_H
#define JITD_PATHWATCH_H

struct agent;

int pathwatch_update(struct agent *a);
void pathwatch_kick(struct agent *a);

#endif
