// SPDX-License-Identifier: GPL-2.0-only
/*
 * A BPF ring buffer read in place, as the kernel writes it (kernel/bpf/ringbuf.c): each
 * record is an 8-byte header (its length, a busy bit while the producer writes it, a
 * discard bit) and then its bytes, the whole rounded up to 8; positions only grow and are
 * masked by the size. The producer position is read with acquire, the header's length too
 * (the kernel commits it with xchg), and the consumer position is stored with release once
 * the record is read: the kernel may overwrite it from then on. The data is mapped once
 * (ring.c), so the rare record that crosses its end is copied into a scratch buffer.
 */
#include <string.h>
#include <linux/bpf.h>

#include "ringread.h"

/* Record len bytes (at most RINGREAD_SCRATCH) from offset off of the data, in one piece:
 * in place, or copied into the scratch when they cross the end. */
static const void *record_bytes(struct ringread *r, size_t off, size_t len)
{
	size_t first = r->size - off;

	if (len <= first)
		return r->data + off;
	memcpy(r->scratch, r->data + off, first);
	memcpy((uint8_t *)r->scratch + first, r->data, len - first);
	return r->scratch;
}

int ringread_read(struct ringread *r, unsigned max, ringread_fn fn, void *ctx)
{
	unsigned long cons = __atomic_load_n(r->consumer, __ATOMIC_ACQUIRE), prod = cons;
	size_t mask = r->size - 1;
	unsigned taken = 0;

	for (;;) {
		if (cons >= prod) {
			/* caught up: what was written meanwhile belongs to this read too */
			prod = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);
			if (cons >= prod)
				return 0;
		}
		const uint32_t *hdr = (const void *)(r->data + (cons & mask));
		uint32_t head = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
		size_t len = head & ~(uint32_t)(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
		size_t off = (cons + BPF_RINGBUF_HDR_SZ) & mask;
		const void *rec;

		/* still being written: its commit wakes the reader (the record is first) */
		if (head & BPF_RINGBUF_BUSY_BIT)
			return 0;
		cons += (BPF_RINGBUF_HDR_SZ + len + 7) & ~7UL;
		if (!(head & BPF_RINGBUF_DISCARD_BIT)) {
			rec = len > RINGREAD_SCRATCH ? NULL : record_bytes(r, off, len);
			if (fn(ctx, rec, len))
				taken++;
		}
		/* read: the kernel may write there now */
		__atomic_store_n(r->consumer, cons, __ATOMIC_RELEASE);
		if (taken == max)
			return 1;
	}
}
