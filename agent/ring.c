// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel's decisions, read from the ring buffer: each one an audit record and a look
 * for alerts. Every read takes at most RING_TURN records: under a flood of decisions faster
 * than jitd writes them, libbpf's consume would not return, and the control socket, the
 * timers (expiry, the once-a-second drops report and fdatasync) and the watchdog would
 * wait. The ring buffer stays readable (level-triggered), so the next read goes on where
 * this one stopped; at stop, the rest waits in the pinned ring buffer for the next jitd.
 */
#include <errno.h>
#include <time.h>
#include <bpf/libbpf.h>

#include "alert.h"
#include "audit.h"
#include "core.h"
#include "kern.h"
#include "ring.h"
#include "util.h"

static const char *path_of(struct agent *a, uint64_t dev, uint64_t ino)
{
	return kern_path_of(a->kern, dev, ino);
}

static int handle_event(void *ctx, void *data, size_t len)
{
	const struct jitd_event *e = data;
	struct agent *a = ctx;

	if (len < sizeof(struct jitd_event))
		return 0;
	audit_decision(a, e, path_of);
	alert_decision(a, e, util_now_ns(CLOCK_REALTIME));
	/* this record is taken (libbpf moves past it); the rest waits for the next turn */
	if (a->rb_budget && !--a->rb_budget)
		return -EAGAIN;
	return 0;
}

int ring_open(struct agent *a)
{
	a->ringbuf = ring_buffer__new(kern_ringbuf_fd(a->kern), handle_event, a, NULL);
	return a->ringbuf ? 0 : -errno;
}

int ring_turn(struct agent *a)
{
	int r;

	a->rb_budget = RING_TURN;
	r = ring_buffer__consume(a->ringbuf);
	a->rb_budget = 0;
	return r == -EAGAIN ? 1 : 0;
}
