/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A BPF ring buffer read in place (ringread.c): the positions and the data as the kernel
 * lays them out, each in memory jitd mapped (ring.c), the data once.
 */
#ifndef JITD_RINGREAD_H
#define JITD_RINGREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A record crossing the end of the data is copied here first (jitd's are 104 bytes). */
#define RINGREAD_SCRATCH 256

struct ringread {
	unsigned long *consumer;       /* the consumer position (the only thing written) */
	const unsigned long *producer; /* the producer position */
	const uint8_t *data;	       /* size bytes */
	size_t size;		       /* a power of two */
	uint64_t scratch[RINGREAD_SCRATCH / 8];
};

/* What is done with one committed record: rec is its len bytes in one piece, or NULL when
 * it is longer than RINGREAD_SCRATCH (passed over). true: it counts against the read. */
typedef bool (*ringread_fn)(void *ctx, const void *rec, size_t len);

/* Read committed records in order, discarded ones skipped, each passed to fn and then given
 * back to the kernel (the consumer position stored past it), until none is left, one is
 * still being written, or fn counted max of them: 1 then (more may wait), else 0. */
int ringread_read(struct ringread *r, unsigned max, ringread_fn fn, void *ctx);

#endif
