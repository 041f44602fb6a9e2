/* SPDX-License-Identifier: GPL-2.0-only */
/* Live audit subscribers on the control socket. */
#ifndef JITD_AUDIT_SUB_H
#define JITD_AUDIT_SUB_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

struct agent;

json_t *audit_sub_request(struct agent *a, void *client, json_t *req);
void audit_sub_remove(void *client);
/* push queues lines for a client of the control socket (ctl_push). */
void audit_sub_init(int (*push)(void *client, const char *buf, size_t len, bool close_after));

#endif
