// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of agent/ringread.c: a BPF ring buffer read in place, its data mapped once.
 * The records are laid out in memory as the kernel writes them (kernel/bpf/ringbuf.c:
 * header length with the busy and discard bits, 8-byte rounding, masked positions).
 */
#include <stdlib.h>
#include <linux/bpf.h>

#include "ringread.h"
#include "testlib.h"

#define SIZE 4096 /* the data: a power of two, like the kernel's */

struct fake {
	unsigned long cons, prod;
	uint64_t data[SIZE / 8];
	struct ringread r;
};

struct seen {
	unsigned n, n_null;
	size_t len[16];
	uint8_t first[16], last[16]; /* each record's first and last byte */
	bool bad[16];		     /* a byte not as written */
};

static void fake_init(struct fake *f, unsigned long pos)
{
	memset(f, 0, sizeof(*f));
	f->cons = f->prod = pos;
	f->r.consumer = &f->cons;
	f->r.producer = &f->prod;
	f->r.data = (const uint8_t *)f->data;
	f->r.size = SIZE;
}

/* Write a record of len bytes (byte i: seed + i) at the producer position, with header
 * bits flags, as the kernel does (crossing the end of the data when it comes to that). */
static void put(struct fake *f, uint32_t len, uint32_t flags, uint8_t seed)
{
	uint8_t *d = (uint8_t *)f->data;
	uint32_t head = len | flags;

	memcpy(d + (f->prod & (SIZE - 1)), &head, 4);
	for (uint32_t i = 0; i < len; i++)
		d[(f->prod + BPF_RINGBUF_HDR_SZ + i) & (SIZE - 1)] = (uint8_t)(seed + i);
	f->prod += (BPF_RINGBUF_HDR_SZ + len + 7) & ~7UL;
}

/* Counts records of at least 104 bytes (a jitd_event), checks every byte. */
static bool take(void *ctx, const void *rec, size_t len)
{
	struct seen *s = ctx;
	const uint8_t *b = rec;

	if (!rec) {
		s->n_null++;
		return false;
	}
	if (s->n < 16) {
		s->len[s->n] = len;
		s->first[s->n] = b[0];
		s->last[s->n] = b[len - 1];
		for (size_t i = 1; i < len; i++)
			if (b[i] != (uint8_t)(b[0] + i))
				s->bad[s->n] = true;
	}
	s->n++;
	return len >= 104;
}

static void records_read_in_order_and_given_back(void)
{
	static struct fake f;
	struct seen s = {};

	fake_init(&f, 0);
	put(&f, 104, 0, 1);
	put(&f, 104, 0, 2);
	put(&f, 104, 0, 3);
	CHECK_INT(ringread_read(&f.r, 4096, take, &s), 0);
	CHECK_INT(s.n, 3);
	CHECK(s.first[0] == 1 && s.first[1] == 2 && s.first[2] == 3, "order %u %u %u", s.first[0],
	      s.first[1], s.first[2]);
	CHECK(!s.bad[0] && !s.bad[1] && !s.bad[2], "a record's bytes differ");
	CHECK_INT(f.cons, 3 * 112);
	CHECK_INT(ringread_read(&f.r, 4096, take, &s), 0);
	CHECK_INT(s.n, 3);
}

/* The header 32 bytes before the end: 24 bytes of the record there, 80 at the start. */
static void record_crossing_the_end_reads_whole(void)
{
	static struct fake f;
	struct seen s = {};

	fake_init(&f, 5 * SIZE - 32);
	put(&f, 104, 0, 7);
	put(&f, 104, 0, 9);
	CHECK_INT(ringread_read(&f.r, 4096, take, &s), 0);
	CHECK_INT(s.n, 2);
	CHECK_INT(s.len[0], 104);
	CHECK(!s.bad[0] && s.first[0] == 7 && s.last[0] == (uint8_t)(7 + 103),
	      "the crossing record reads %u..%u", s.first[0], s.last[0]);
	CHECK(!s.bad[1] && s.first[1] == 9, "the record after it reads from %u", s.first[1]);
	CHECK_INT(f.cons, 5 * SIZE - 32 + 2 * 112);
}

/* A header at the very end's last 8 bytes: the record is all at the start. */
static void record_starting_at_the_start_after_a_header_at_the_end(void)
{
	static struct fake f;
	struct seen s = {};

	fake_init(&f, SIZE - 8);
	put(&f, 104, 0, 40);
	CHECK_INT(ringread_read(&f.r, 4096, take, &s), 0);
	CHECK(s.n == 1 && !s.bad[0] && s.first[0] == 40, "%u records, first byte %u", s.n,
	      s.first[0]);
}

static void discarded_skipped_and_busy_waits(void)
{
	static struct fake f;
	struct seen s = {};
	unsigned long busy;

	fake_init(&f, 0);
	put(&f, 104, 0, 1);
	put(&f, 104, BPF_RINGBUF_DISCARD_BIT, 2);
	put(&f, 104, 0, 3);
	busy = f.prod;
	put(&f, 104, BPF_RINGBUF_BUSY_BIT, 4);
	put(&f, 104, 0, 5);
	CHECK_INT(ringread_read(&f.r, 4096, take, &s), 0);
	CHECK(s.n == 2 && s.first[0] == 1 && s.first[1] == 3, "%u records: %u %u", s.n, s.first[0],
	      s.first[1]);
	CHECK_INT(f.cons, busy);
	/* committed: read from there on */
	((uint8_t *)f.data)[(busy & (SIZE - 1)) + 3] &= (uint8_t) ~(BPF_RINGBUF_BUSY_BIT >> 24);
	CHECK_INT(ringread_read(&f.r, 4096, take, &s), 0);
	CHECK(s.n == 4 && s.first[2] == 4 && s.first[3] == 5, "%u records", s.n);
	CHECK_INT(f.cons, f.prod);
}

/* max counted records a read (short ones do not count), 1 when it stopped there. */
static void turn_stops_after_max_counted(void)
{
	static struct fake f;
	struct seen s = {};

	fake_init(&f, 0);
	for (int i = 0; i < 5; i++) {
		put(&f, 104, 0, (uint8_t)(10 + i));
		put(&f, 16, 0, 100); /* short: read, not counted */
	}
	CHECK_INT(ringread_read(&f.r, 2, take, &s), 1);
	CHECK_INT(s.n, 3); /* 104, 16, 104 */
	CHECK_INT(f.cons, 2 * 112 + 24);
	CHECK_INT(ringread_read(&f.r, 2, take, &s), 1);
	CHECK_INT(ringread_read(&f.r, 2, take, &s), 0);
	CHECK_INT(s.n, 10);
	CHECK_INT(f.cons, f.prod);
}

/* Longer than the scratch: passed over as NULL wherever it is, the next one read. */
static void record_longer_than_scratch_passed_over(void)
{
	static struct fake f;
	struct seen s = {};

	fake_init(&f, SIZE - 64);
	put(&f, RINGREAD_SCRATCH + 8, 0, 1); /* crosses the end */
	put(&f, RINGREAD_SCRATCH + 8, 0, 2); /* does not */
	put(&f, 104, 0, 3);
	CHECK_INT(ringread_read(&f.r, 4096, take, &s), 0);
	CHECK_INT(s.n_null, 2);
	CHECK(s.n == 1 && s.first[0] == 3 && !s.bad[0], "%u records, first byte %u", s.n,
	      s.first[0]);
	CHECK_INT(f.cons, f.prod);
}

int main(void)
{
	RUN(records_read_in_order_and_given_back);
	RUN(record_crossing_the_end_reads_whole);
	RUN(record_starting_at_the_start_after_a_header_at_the_end);
	RUN(discarded_skipped_and_busy_waits);
	RUN(turn_stops_after_max_counted);
	RUN(record_longer_than_scratch_passed_over);
	return tl_exit();
}
