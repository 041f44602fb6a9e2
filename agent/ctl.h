/* SPDX-License-Identifier: GPL-2.0-only */
/* The control socket's transport (framing, peers, limits, push). */
#ifndef JITD_CTL_H
#define JITD_CTL_H

#include <stdbool.h>
#include <stddef.h>

struct agent;

int ctl_start(struct agent *a);
void ctl_stop(void);
int ctl_push(void *client, const char *buf, size_t len, bool close_after);

#endif
