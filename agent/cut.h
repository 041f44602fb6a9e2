/* SPDX-License-Identifier: GPL-2.0-only */
/* "revoke": "open": what a grant key's end does to what is already open (cut.c). */
#ifndef JITD_CUT_H
#define JITD_CUT_H

#include "jitd_abi.h"

struct agent;

/* The kernel key ended (deleted): record what the kernel now refuses (files and
 * connections opened under it) and reset its connections in jitd's network namespace. */
void cut_key_ended(struct agent *a, const struct jitd_grant_key *key);

#endif
