// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel's decisions, read from the ring buffer: each one an audit record and a look
 * for alerts. Every read takes at most RING_TURN records: under a flood of decisions faster
 * than jitd writes them, a read to the end would not return, and the control socket, the
 * timers (expiry, the once-a-second drops report and fdatasync) and the watchdog would
 * wait. The ring buffer stays readable (level-triggered), so the next read goes on where
 * this one stopped; at stop, the rest waits in the pinned ring buffer for the next jitd.
 *
 * jitd reads the map itself rather than through libbpf's ring_buffer, which maps the data
 * area twice (a record crossing the end reads as one piece): the kernel inserts every page
 * at mmap time, so that is twice the ring's size in jitd's memory (VmRSS) from start-up.
 * Here the consumer position is mapped read-write (its page alone: the kernel refuses
 * more), the producer position and the data once, read-only; the rare record that crosses
 * the end is copied into a small scratch buffer. The protocol (the kernel's
 * kernel/bpf/ringbuf.c): each record is an 8-byte header (the length, a busy bit while the
 * producer writes it, a discard bit) and the data, 8-byte aligned; positions only grow and
 * are masked by the size; the producer position is read with acquire, the header's length
 * too (the kernel commits with xchg), and the consumer position is stored with release
 * once the record is read (the kernel may overwrite it from then on).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "alert.h"
#include "audit.h"
#include "core.h"
#include "kern.h"
#include "log.h"
#include "ring.h"
#include "util.h"

/* A record crossing the end of the data is copied here first. jitd's BPF programs write
 * struct jitd_event (104 bytes); a longer record is not ours and is passed over. */
#define RING_SCRATCH 256

struct ring {
	unsigned long *consumer;       /* the consumer page, read-write */
	const unsigned long *producer; /* the producer page, then the data: read-only */
	const uint8_t *data;
	size_t page, size; /* size: the data's, a power of two */
	bool warned;	   /* a record too long was passed over (said once) */
	uint64_t scratch[RING_SCRATCH / 8];
};

static const char *path_of(struct agent *a, uint64_t dev, uint64_t ino)
{
	return kern_path_of(a->kern, dev, ino);
}

/* One record's data (len bytes from offset off of the data): its bytes in one piece, in
 * place or copied into the scratch when they cross the end. NULL when it is too long. */
static const void *record_bytes(struct ring *r, size_t off, size_t len)
{
	size_t first = r->size - off;

	if (len <= first)
		return r->data + off;
	if (len > sizeof(r->scratch))
		return NULL;
	memcpy(r->scratch, r->data + off, first);
	memcpy((uint8_t *)r->scratch + first, r->data, len - first);
	return r->scratch;
}

/* One committed record: a decision, unless it is shorter than one (ignored) or too long.
 * true when it was a decision (it counts against the turn). */
static bool handle_record(struct agent *a, struct ring *r, unsigned long pos, size_t len)
{
	const struct jitd_event *e;

	if (len < sizeof(struct jitd_event))
		return false;
	e = record_bytes(r, (pos + BPF_RINGBUF_HDR_SZ) & (r->size - 1), len);
	if (!e) {
		if (!r->warned)
			log_warn("ring buffer: a record of %zu bytes is not a decision, passed "
				 "over (said once)",
				 len);
		r->warned = true;
		return false;
	}
	audit_decision(a, e, path_of);
	alert_decision(a, e, util_now_ns(CLOCK_REALTIME));
	return true;
}

int ring_turn(struct agent *a)
{
	struct ring *r = a->ring;
	unsigned long cons, prod;
	unsigned taken = 0;

	if (!r)
		return 0;
	cons = __atomic_load_n(r->consumer, __ATOMIC_ACQUIRE);
	prod = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);
	for (;;) {
		if (cons >= prod) {
			/* caught up: what the programs wrote meanwhile belongs to this turn */
			prod = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);
			if (cons >= prod)
				return 0;
		}
		const uint32_t *hdr = (const void *)(r->data + (cons & (r->size - 1)));
		uint32_t head = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
		size_t len = head & ~(uint32_t)(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
		unsigned long pos = cons;

		/* still being written: its commit wakes the ring buffer up again */
		if (head & BPF_RINGBUF_BUSY_BIT)
			return 0;
		cons += (BPF_RINGBUF_HDR_SZ + len + 7) & ~7UL;
		if (!(head & BPF_RINGBUF_DISCARD_BIT) && handle_record(a, r, pos, len))
			taken++;
		/* read: the kernel may write there now */
		__atomic_store_n(r->consumer, cons, __ATOMIC_RELEASE);
		if (taken == RING_TURN)
			return 1;
	}
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
	struct ring *r = calloc(1, sizeof(*r));
	void *p;

	if (!r)
		return -ENOMEM;
	r->page = (size_t)sysconf(_SC_PAGESIZE);
	if ((err = ring_size(fd, r->page, &r->size)))
		goto fail;
	p = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		goto fail;
	}
	r->consumer = p;
	p = mmap(NULL, r->page + r->size, PROT_READ, MAP_SHARED, fd, (off_t)r->page);
	if (p == MAP_FAILED) {
		err = -errno;
		munmap(r->consumer, r->page);
		goto fail;
	}
	r->producer = p;
	r->data = (const uint8_t *)p + r->page;
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
	struct ring *r = a->ring;

	if (!r)
		return;
	munmap((void *)r->producer, r->page + r->size);
	munmap(r->consumer, r->page);
	free(r);
	a->ring = NULL;
}
