// SPDX-License-Identifier: GPL-2.0-only
/*
 * loadgen: decisions at a set rate for the audit-under-load benchmark (tests/vm/load.sh,
 * `make bench-load`).
 *
 *	loadgen UID RATE SECONDS PATH...
 *	loadgen clock      (prints the cost of one clock_gettime(CLOCK_REALTIME))
 *	loadgen pin-ringbuf PATH BYTES   (pins a new BPF ring buffer of BYTES at PATH)
 *
 * As UID (setgid/setuid first; 0 keeps root), opens the PATHs in turn, RATE opens a second
 * spread over the second (the opens due so far, checked every millisecond), for SECONDS.
 * An open jitd denies is one decision and one audit record; so is one it allows by a grant.
 * RATE 0: as fast as it can (what the generator alone reaches). Prints one line:
 *	loadgen asked=R achieved=A opens=N denied=D allowed=K seconds=S
 * (achieved: opens per second over the whole run; a generator that falls behind does not
 * catch up beyond the opens due, so achieved < asked says the generator is the limit).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/bpf.h>

#define TICK_NS 1000000LL /* one millisecond between checks of the opens due */

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A BPF ring buffer of size bytes pinned at path (as an older jitd would have left its
 * "events" map: tests/vm/crashes.sh). 0 or 1. */
static int pin_ringbuf(const char *path, unsigned long size)
{
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_RINGBUF;
	a.max_entries = (unsigned)size;
	fd = (int)syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a));
	if (fd < 0) {
		perror("loadgen: BPF_MAP_CREATE");
		return 1;
	}
	memset(&a, 0, sizeof(a));
	a.pathname = (unsigned long)path;
	a.bpf_fd = (unsigned)fd;
	if (syscall(SYS_bpf, BPF_OBJ_PIN, &a, sizeof(a))) {
		perror("loadgen: BPF_OBJ_PIN");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long n = 0, denied = 0, allowed = 0, other = 0;
	long long t0, end, t, due;
	double rate, secs;
	char **paths;
	int n_paths;
	unsigned uid;

	if (argc == 2 && !strcmp(argv[1], "clock")) { /* the cost of one clock read here */
		long long c0 = now_ns(), c1;
		struct timespec ts;
		int k;

		for (k = 0; k < 100000; k++)
			clock_gettime(CLOCK_REALTIME, &ts);
		c1 = now_ns();
		printf("clock_gettime: %.0f ns\n", (c1 - c0) / 1e5);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "pin-ringbuf"))
		return pin_ringbuf(argv[2], strtoul(argv[3], NULL, 0));
	if (argc < 5) {
		fprintf(stderr, "usage: loadgen UID RATE SECONDS PATH...\n");
		return 2;
	}
	uid = (unsigned)strtoul(argv[1], NULL, 10);
	rate = strtod(argv[2], NULL);
	secs = strtod(argv[3], NULL);
	paths = argv + 4;
	n_paths = argc - 4;
	if (uid && (setgroups(0, NULL) || setgid(uid) || setuid(uid))) {
		perror("loadgen: setuid");
		return 1;
	}
	t0 = now_ns();
	end = t0 + (long long)(secs * 1e9);
	for (t = t0; t < end; t = now_ns()) {
		due = rate > 0 ? (long long)((t - t0) / 1e9 * rate) : (long long)n + 256;
		if ((long long)n >= due) {
			struct timespec ts = {0, TICK_NS};

			nanosleep(&ts, NULL);
			continue;
		}
		while ((long long)n < due) {
			int fd = open(paths[n % n_paths], O_RDONLY | O_CLOEXEC);

			n++;
			if (fd >= 0) {
				allowed++;
				close(fd);
			} else if (errno == EPERM || errno == EACCES) {
				denied++;
			} else {
				other++;
			}
			if (!(n & 255) && now_ns() >= end)
				break;
		}
	}
	t = now_ns();
	printf("loadgen asked=%.0f achieved=%.0f opens=%lu denied=%lu allowed=%lu other=%lu "
	       "seconds=%.2f\n",
	       rate, n / ((t - t0) / 1e9), n, denied, allowed, other, (t - t0) / 1e9);
	return other ? 1 : 0;
}
