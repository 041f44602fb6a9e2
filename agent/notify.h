/* SPDX-License-Identifier: GPL-2.0-only */
/* The notification runner: policy "notify" targets run on audit records (notify.c). */
#ifndef JITD_NOTIFY_H
#define JITD_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <systemd/sd-event.h>

#define NOTIFY_JOBS_DEFAULT  4
#define NOTIFY_JOBS_MAX	     32
#define NOTIFY_QUEUE_DEFAULT 256
#define NOTIFY_QUEUE_MAX     4096
#define NOTIFY_CGROUP	     "/jitd.notify" /* below the cgroupfs root: one child per job */

struct agent;
struct notify_job;

struct notify_state {
	unsigned max_jobs, max_queue;
	struct notify_job *jobs; /* queued, waiting for a retry, or running */
	unsigned n_running, n_pending;
	uint64_t next_id;
	sd_event_source *kick;	/* deferred: start what may start, report drops */
	sd_event_source *timer; /* the earliest retry, or the next drop report */
	uint64_t sent, failed, dropped, retried;
	uint64_t drops_unreported;
	int64_t drops_reported_ns; /* CLOCK_MONOTONIC */
	bool running;		   /* between notify_start and notify_stop */
	bool no_cgroup;		   /* host tests only: a->cgroup_root is NULL */
};

/* Start the runner on a->event: its cgroup, its audit hook. jobs (1..32) run at once, at
 * most queue (1..4096) wait. 0 or negative errno. */
int notify_start(struct agent *a, unsigned jobs, unsigned queue);
/* Kill what runs, record what is lost ("jitd stopped"), free everything. */
void notify_stop(struct agent *a);
/* The runner's counters for `status`. */
json_t *notify_status_json(const struct agent *a);

#endif
