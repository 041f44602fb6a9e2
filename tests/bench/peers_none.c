// SPDX-License-Identifier: GPL-2.0-only
/*
 * peers.h for a bench built without the peers (tests/bench/peers.c): every peer is "not
 * built in", so the bench prints that instead of their rows. The Makefile links this file
 * until peers.c is there (BENCH_PEERS).
 */
#include <stdio.h>

#include "peers.h"

int apparmor_setup(const struct peer_objects *o, char *why, size_t len)
{
	snprintf(why, len, "not built in");
	return -1;
}

int apparmor_confine(char *why, size_t len)
{
	snprintf(why, len, "not built in");
	return -1;
}

int apparmor_has_net(void)
{
	return 0;
}

int fapolicyd_start(const struct peer_objects *o, char *why, size_t len)
{
	snprintf(why, len, "not built in");
	return -1;
}

void fapolicyd_stop(void)
{
}
