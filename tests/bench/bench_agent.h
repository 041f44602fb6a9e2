/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The bench's "jitd + agent" configuration (tests/bench/bench_agent.c): the real jitd
 * (/usr/sbin/jitd) started on a policy the bench wrote, recording to an audit file, and
 * removed again (stop, then unpin as `jitd --unload` does) so that the next configuration
 * starts from a kernel with no program of the agent's attached.
 */
#ifndef JITD_BENCH_AGENT_H
#define JITD_BENCH_AGENT_H

#include <stddef.h>
#include <bpf/bpf.h>

/* The directory of the agent's policy, state, socket, log and audit file. */
#define AGENT_DIR    "/tmp/bench/agent"
#define AGENT_POLICY AGENT_DIR "/policy.json"

/* Whether jitd and jitctl are installed: 0, or -1 with why[] set. */
int agent_available(char *why, size_t len);
/* Start jitd on AGENT_POLICY with a fresh state directory and audit file; returns once
 * `jitctl status` says it enforces (0), or -1 with why[] set (jitd is then stopped). */
int agent_start(char *why, size_t len);
/* Stop jitd (SIGTERM), remove its programs (unpin, wait until they are gone) and count,
 * then delete, its audit file: the audit records it wrote, or -1 with why[] set. */
long agent_stop(char *why, size_t len);

/* The loaded LSM programs: their ids and info, at most max of them; how many. */
int lsm_progs(__u32 *ids, struct bpf_prog_info *info, int max);

#endif /* JITD_BENCH_AGENT_H */
