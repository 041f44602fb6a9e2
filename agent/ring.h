/* SPDX-License-Identifier: GPL-2.0-only */
/* The kernel's decisions from the ring buffer into the audit stream and alerts (ring.c). */
#ifndef JITD_RING_H
#define JITD_RING_H

struct agent;

#define RING_TURN 4096 /* records a read of the ring buffer takes at most */
/* reads at start: 262,144 records, more than the ring buffer holds (about 75,000) */
#define RING_START_TURNS 64

/* The reader of the kernel's ring buffer, in a->ring (its data mapped once). 0 or
 * negative errno. */
int ring_open(struct agent *a);
/* The descriptor to poll: readable while records wait (the map's). */
int ring_fd(struct agent *a);
/* Unmap the ring buffer (the pinned map and what it holds stay). */
void ring_close(struct agent *a);
/* Read at most RING_TURN records (the rest waits): 1 when the turn was used up (more may
 * wait), else 0. */
int ring_turn(struct agent *a);

#endif
