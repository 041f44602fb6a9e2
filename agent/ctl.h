/* SPDX-License-Identifier: GPL-2.0-only */
/* The control socket's transport (framing, peers, limits, push). */
#ifndef JITD_CTL_H
#define JITD_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

struct agent;
struct client;

#define CTL_PRIV_CACHE 16

/* Whether a uid was root, exempt, an admin or an approver under a policy, and when. */
struct ctl_priv {
	const void *p; /* the policy */
	int64_t serial;
	uid_t uid;
	uint64_t at;
	bool priv;
};

/* The listening socket and the connections (agent.ctl). */
struct ctl_server {
	int listen_fd;
	sd_event_source *listen_src;
	const char *listen_path;
	unsigned n_clients;
	struct client *head, *tail;	      /* oldest first */
	struct ctl_priv priv[CTL_PRIV_CACHE]; /* recent uid_privileged answers */
	unsigned priv_next;
};

int ctl_start(struct agent *a);
void ctl_stop(struct agent *a);
int ctl_push(void *client, const char *buf, size_t len, bool close_after);

#endif
