/* SPDX-License-Identifier: GPL-2.0-only */
/* Re-resolve policy paths that appear or are replaced. */
#ifndef JITD_PATHWATCH_H
#define JITD_PATHWATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>
#include <jansson.h>

struct agent;

/* The inotify instance on the policy's directories and the resync timer (agent.pathwatch). */
struct pathwatch {
	int ino_fd;
	bool has_fd;
	sd_event_source *io_src, *resync_src;
	int64_t trimmed_ns; /* CLOCK_MONOTONIC of the last resync's malloc_trim, 0: none */
	uint32_t *names;    /* sorted hashes of the names on the way to the policy's paths */
	size_t n_names;
	bool matters; /* an event of the batch being read can change a path's inode */
	/* watches where every event matters (symlinks: watch_dir_of; sorted) */
	int *any_wds;
	size_t n_any_wds;
	bool unfiltered; /* the last watch or resolution failed: every event matters */
	uint64_t resyncs, events, events_ignored; /* since jitd started (`status`: paths) */
};

/* Watch the current policy's paths (a->policy) before resolving them; joins the event
 * loop if there is one. 0 or negative errno. */
int pathwatch_update(struct agent *a);
/* Start serving: the watches made before the loop join it. 0 or negative errno. */
int pathwatch_start(struct agent *a);
/* Resolve the policy's paths again shortly. */
void pathwatch_kick(struct agent *a);
/* `status`: {"resyncs", "events", "events_ignored"} */
json_t *pathwatch_status(const struct agent *a);

#endif
