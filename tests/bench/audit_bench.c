// SPDX-License-Identifier: GPL-2.0-only
/*
 * audit_bench: records formatted (OCSF, by hand), hashed into the SHA-256 chain and
 * written (one write() each) per second on one core, from synthetic decisions.
 * Host only, no root: `make bench-audit`. Prints "audit records/s: N". Sealing is on, far
 * more often than jitd seals (once an interval, 15 minutes by default): a seal record after
 * every SEAL_EVERY records, each an HMAC under a key evolved one epoch per seal.
 * Usage: audit_bench [N [SINK]] (SINK /dev/null measures formatting and hashing alone).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit_log.h"
#include "audit_seal.h"
#include "jitd_abi.h"
#include "util.h"

#define ROUNDS	   7
#define SEAL_EVERY 10000

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The next epoch's seal, as jitd writes one at the end of each interval. */
static int seal(struct seal_key *key, int64_t t)
{
	seal_evolve(key, key->epoch + 1);
	return audit_log_seal(key, false, t, NULL);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	double rates[ROUNDS];
	char path[] = "/tmp/jitd-audit-bench-XXXXXX";
	int fd = mkstemp(path);
	struct audit_log_opts o = {.path = path,
				   .meta = {.hostname = "bench-host", .version = "0.1.0"}};
	static const char *const paths[] = {"/srv/secret.txt", "/etc/app/secrets", "/usr/bin/psql",
					    NULL};
	struct seal_vkey vk;
	struct seal_key key;
	int64_t t0, t1;

	if (fd < 0 || seal_generate(0, 1, &vk, &key))
		return 1;
	close(fd);
	if (argc > 2) /* another sink, e.g. /dev/null: the formatting alone */
		o.path = argv[2];
	if (audit_log_open(&o))
		return 1;
	for (int round = 0; round < ROUNDS; round++) {
		/* each round starts a fresh file, as after a rotation (the chain goes on) */
		if (round && argc <= 2 && (truncate(o.path, 0) || audit_log_reopen()))
			return 1;
		t0 = util_now_ns(CLOCK_MONOTONIC);
		for (long i = 0; i < n; i++) {
			uint8_t op = 1 + i % 4;
			struct audit_decision d = {
				.time_ns = 1795424462345000000LL + i * 1000,
				.op = op,
				.allow = i & 1,
				.uid = 1000 + i % 50,
				.loginuid = 1000 + i % 50,
				.subject_uid = 1000 + i % 50,
				.pid = 4000 + i % 3000,
				.tid = 4000 + i % 3000,
				.comm = "psql",
				.cgroup_id = 1234,
				.resource = "prod-db",
				.grant_id = i & 1 ? 7 : 0,
				.policy_serial = 42,
				.user = "alice",
				.proc_user = "alice",
				.dev_major = 8,
				.dev_minor = 1,
				.ino = 100000 + i,
				.path = paths[i % 4],
				.addr = op >= 3 ? "10.0.5.3" : NULL,
				.port = 5432,
			};

			if (audit_log_decision(&d) ||
			    (i % SEAL_EVERY == SEAL_EVERY - 1 && seal(&key, d.time_ns))) {
				fprintf(stderr, "audit_bench: write failed\n");
				return 1;
			}
		}
		t1 = util_now_ns(CLOCK_MONOTONIC);
		rates[round] = n / ((t1 - t0) / 1e9);
		printf("round %d: %ld records in %.3f s, %.0f/s\n", round + 1, n, (t1 - t0) / 1e9,
		       rates[round]);
	}
	audit_log_close();
	unlink(path);
	qsort(rates, ROUNDS, sizeof(rates[0]), cmp);
	printf("audit records/s: %.0f (median of %d rounds; best %.0f; sealed: a seal every %d "
	       "records)\n",
	       rates[ROUNDS / 2], ROUNDS, rates[ROUNDS - 1], SEAL_EVERY);
	return 0;
}
