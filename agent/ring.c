// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel's decisions, read from the ring buffer: each one an audit record and a look
 * for alerts. Every read takes at most RING_TURN records: under a flood of decisions faster
 * than jitd writes them, a read to the end would not return, and the control socket, the
 * timers (expiry, the once-a-second drops report and fdatasync) and the watchdog would
 * wait. The ring buffer stays readable (level-triggered), so the next read goes on where
 * this one stopped; at stop, the rest waits in the pinned ring buffer for the next jitd.
 *
 * jitd reads the map itself (ringread.c) rather than through libbpf's ring_buffer, which
 * maps the data twice (a record crossing the end reads as one piece): the kernel inserts
 * every page at mmap time, so that was twice the ring's size in jitd's RSS from start-up.
 * Here the consumer page is mapped read-write (alone: the kernel refuses more), and the
 * producer page with the data once, read-only (a mapping shorter than the kernel's double
 * area is accepted: remap_vmalloc_range only checks that it does not go past its end).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "alert.h"
#include "audit.h"
#include "core.h"
#include "kern.h"
#include "log.h"
#include "ring.h"
#include "ringread.h"
#include "util.h"

static const char *path_of(struct agent *a, uint64_t dev, uint64_t ino)
{
	return kern_path_of(a->kern, dev, ino);
}

/* One record: a decision (it counts against the turn), unless it is shorter than one
 * (ignored) or too long to be one of ours (passed over, said once). */
static bool handle_event(void *ctx, const void *rec, size_t len)
{
	static bool warned;
	struct agent *a = ctx;

	if (len < sizeof(struct jitd_event))
		return false;
	if (!rec) {
		if (!warned)
			log_warn("ring buffer: a record of %zu bytes is not a decision: passed "
				 "over (said once)",
				 len);
		warned = true;
		return false;
	}
	audit_decision(a, rec, path_of);
	alert_decision(a, rec, util_now_ns(CLOCK_REALTIME));
	return true;
}

int ring_turn(struct agent *a)
{
	return a->ring ? ringread_read(a->ring, RING_TURN, handle_event, a) : 0;
}

/* The map's data size (max_entries: a pinned ring buffer keeps the size it was made with),
 * checked as the kernel makes it. 0 or -errno. */
static int ring_size(int fd, size_t page, size_t *size)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_RINGBUF || !info.max_entries ||
	    info.max_entries & (info.max_entries - 1) || info.max_entries % page)
		return -EINVAL;
	*size = info.max_entries;
	return 0;
}

int ring_open(struct agent *a)
{
	int fd = kern_ringbuf_fd(a->kern), err;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct ringread *r = calloc(1, sizeof(*r));
	void *p;

	if (!r)
		return -ENOMEM;
	if ((err = ring_size(fd, page, &r->size)))
		goto fail;
	p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		goto fail;
	}
	r->consumer = p;
	p = mmap(NULL, page + r->size, PROT_READ, MAP_SHARED, fd, (off_t)page);
	if (p == MAP_FAILED) {
		err = -errno;
		munmap(r->consumer, page);
		goto fail;
	}
	r->producer = p;
	r->data = (const uint8_t *)p + page;
	a->ring = r;
	return 0;
fail:
	free(r);
	return err;
}

int ring_fd(struct agent *a)
{
	return kern_ringbuf_fd(a->kern);
}

void ring_close(struct agent *a)
{
	struct ringread *r = a->ring;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (!r)
		return;
	munmap((void *)r->producer, page + r->size);
	munmap(r->consumer, page);
	free(r);
	a->ring = NULL;
}
