/* SPDX-License-Identifier: GPL-2.0-only */
/* Re-resolve policy paths that appear or are replaced. */
#ifndef JITD_PATHWATCH_H
#define JITD_PATHWATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

struct agent;

/* The inotify instance on the policy's directories and the resync timer (agent.pathwatch). */
struct pathwatch {
	int ino_fd;
	bool has_fd;
	sd_event_source *io_src, *resync_src;
	int64_t trimmed_ns; /* CLOCK_MONOTONIC of the last resync's malloc_trim, 0: none */
};

int pathwatch_update(struct agent *a);
void pathwatch_kick(struct agent *a);

#endif
