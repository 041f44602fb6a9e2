// SPDX-License-Identifier: GPL-2.0-only
/*
 * peers_check NOP: in the VM, as root, with no jitd running: whether the peers of the
 * benchmark (peers.c) decide what they are meant to, and a rough time per operation under
 * each. Lines "PASS name" / "FAIL name: why" (the peers part and the bench mode print them),
 * then a table "peers: ..." of the time per operation as uid 1000: no peer, AppArmor (the
 * deny and the granted profile), fapolicyd with and without the filler rules, interleaved
 * over ROUNDS rounds, medians (TCG, a shared machine: rough figures, never judged). The
 * checks run in the first round.
 *
 * AppArmor (profile "jitd-bench", and "jitd-bench-granted" for the allowed rows) and
 * fapolicyd are checked as the bench uid (1000) and another (1001): the protected file and
 * binary refused (AppArmor: EACCES, fapolicyd: EPERM) unless allowed, the unprotected ones
 * allowed, a filler rule enforced, a child exec'd under AppArmor still confined, and
 * fapolicyd's refusal gone once it stopped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "peers.h"

#define DIR	   "/tmp/peers"
#define RULE_DIR   DIR "/rules"
#define FILLER_DIR RULE_DIR "/r0999"
#define N_RULES	   1000
#define BENCH_UID  1000
#define OTHER_UID  1001
#define ROUNDS	   7

static const struct peer_objects objs = {
	.prot_file = DIR "/data/protected.txt",
	.prot_bin = DIR "/pnop",
	.unprot_file = DIR "/data/unprotected.txt",
	.unprot_bin = DIR "/nop",
	.prot_addr = "127.0.0.3",
	.port = 7000,
	.bench_uid = BENCH_UID,
	.n_rules = N_RULES,
	.rule_dir = RULE_DIR,
};

static int failures;

static void result(const char *name, int ok, const char *why)
{
	if (ok)
		printf("PASS %s\n", name);
	else
		printf("FAIL %s: %s\n", name, why);
	fflush(stdout);
	failures += !ok;
}

static void die(const char *what)
{
	printf("FAIL peers-setup: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void write_file(const char *path, const void *data, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd < 0 || write(fd, data, n) != (ssize_t)n || fchmod(fd, mode) || close(fd))
		die(path);
}

static void setup(const char *nop)
{
	static char buf[1 << 20];
	char path[256];
	ssize_t n;
	int fd;

	if ((mkdir(DIR, 0755) && errno != EEXIST) ||
	    (mkdir(DIR "/data", 0755) && errno != EEXIST) ||
	    (mkdir(RULE_DIR, 0755) && errno != EEXIST))
		die("mkdir " DIR);
	fd = open(nop, O_RDONLY);
	n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
	if (n <= 0 || (size_t)n == sizeof(buf))
		die(nop);
	close(fd);
	write_file(objs.unprot_bin, buf, (size_t)n, 0755);
	write_file(objs.prot_bin, buf, (size_t)n, 0755);
	write_file(objs.prot_file, "secret\n", 7, 0644);
	write_file(objs.unprot_file, "public\n", 7, 0644);
	/* filler: files, and one directory whose subtree a rule covers */
	for (int i = 0; i < N_RULES - 1; i++) {
		snprintf(path, sizeof(path), RULE_DIR "/r%04d", i);
		write_file(path, "x", 1, 0644);
	}
	if (mkdir(FILLER_DIR, 0755) && errno != EEXIST)
		die("mkdir " FILLER_DIR);
	write_file(FILLER_DIR "/f", "x", 1, 0644);
}

/* 0 when the open of path succeeds, else its errno. */
static int try_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* 0 when path ran and exited 0, its execve errno when that failed, else -1. */
static int try_exec(const char *path)
{
	int st, p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		int e;

		execl(path, path, (char *)NULL);
		e = errno;
		if (write(p[1], &e, sizeof(e)) < 0)
			_exit(126);
		_exit(127);
	}
	close(p[1]);
	int e = 0;
	if (read(p[0], &e, sizeof(e)) != sizeof(e))
		e = 0;
	close(p[0]);
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	if (e)
		return e;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* The AppArmor label of a process exec'd from this one (busybox cat of its own attr). */
static void exec_label(char *label, size_t len)
{
	int p[2], st;
	ssize_t n;
	pid_t pid;

	label[0] = 0;
	if (pipe(p))
		return;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		execl("/bin/busybox", "cat", "/proc/self/attr/current", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	n = read(p[0], label, len - 1);
	label[n > 0 ? n : 0] = 0;
	label[strcspn(label, "\n")] = 0;
	close(p[0]);
	waitpid(pid, &st, 0);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

enum cfg { C_NONE, C_AA, C_AA_GRANTED, C_FA, C_FA_NOFILL, N_CFG };
enum op { O_OPEN_UNPROT, O_EXEC_UNPROT, O_OPEN_GRANTED, O_EXEC_GRANTED, N_OP };
static const char *cfg_names[] = {"none", "apparmor", "apparmor granted profile", "fapolicyd",
				  "fapolicyd, no filler rules"};
static const char *op_names[] = {"open+close unprot", "fork+exec unprot", "open+close granted",
				 "fork+exec granted"};
static const int batch[] = {1000, 20, 1000, 20};

/* Time per call of each operation, per configuration and round: shared with the children
 * that measure (mmap), 0 where not measured. */
static double (*times)[N_OP][ROUNDS];

/* Time the operations as this process is (confined, uid): those on the protected objects
 * only when prot_ok. */
static void time_ops(enum cfg c, int round, int prot_ok)
{
	for (int op = 0; op < N_OP; op++) {
		int exec = op == O_EXEC_UNPROT || op == O_EXEC_GRANTED;
		int prot = op == O_OPEN_GRANTED || op == O_EXEC_GRANTED;
		const char *path = exec ? (prot ? objs.prot_bin : objs.unprot_bin)
					: (prot ? objs.prot_file : objs.unprot_file);
		double t0;

		if (prot && !prot_ok)
			continue;
		t0 = now_us();
		for (int i = 0; i < batch[op]; i++)
			if (exec ? try_exec(path) : try_open(path)) {
				printf("peers: %s %s failed in round %d\n", cfg_names[c],
				       op_names[op], round);
				return;
			}
		times[c][op][round] = (now_us() - t0) / batch[op];
	}
}

/* PASS/FAIL lines: what the peer decides for this process (see probe). */
static void check_decisions(const char *peer, int aa, uid_t uid, int want, int prot_ok)
{
	char name[128], why[256], label[128];
	int e;

#define CHECK(what, cond, ...)                                                                     \
	do {                                                                                       \
		snprintf(name, sizeof(name), "%s-uid%u-%s", peer, (unsigned)uid, what);            \
		snprintf(why, sizeof(why), __VA_ARGS__);                                           \
		result(name, cond, why);                                                           \
	} while (0)
	e = try_open(objs.unprot_file);
	CHECK("unprotected-open-allowed", e == 0, "open: %s", strerror(e));
	e = try_exec(objs.unprot_bin);
	CHECK("unprotected-exec-allowed", e == 0, "exec: %s", e > 0 ? strerror(e) : "exit != 0");
	e = try_open(objs.prot_file);
	if (prot_ok)
		CHECK("protected-open-allowed", e == 0, "open: %s", strerror(e));
	else
		CHECK("protected-open-refused", e == want, "open: %s, not %s", strerror(e),
		      strerror(want));
	e = try_exec(objs.prot_bin);
	if (prot_ok)
		CHECK("protected-exec-allowed", e == 0, "exec: %s",
		      e > 0 ? strerror(e) : "exit != 0");
	else
		CHECK("protected-exec-refused", e == want, "exec: %s, not %s",
		      e > 0 ? strerror(e)
		      : e   ? "exit != 0"
			    : "allowed",
		      strerror(want));
	e = try_open(RULE_DIR "/r0000");
	CHECK("filler-rule-refused", e == want, "open of the first filler file: %s, not %s",
	      strerror(e), strerror(want));
	e = try_open(FILLER_DIR "/f");
	CHECK("filler-subtree-rule-refused", e == want,
	      "open of a file in the last filler directory: %s, not %s", strerror(e),
	      strerror(want));
	if (aa >= 0) {
		exec_label(label, sizeof(label));
		CHECK("confined-after-exec", strstr(label, "jitd-bench") != NULL,
		      "a child exec'd runs as '%s'", label);
	}
}

/* In a child: confined by AppArmor when aa >= 0 (aa: granted), then as uid: what the peer
 * decides (checks: PASS/FAIL lines), and the time per operation into times[c][.][round]
 * (c >= 0). want: the errno of a refusal (EACCES for AppArmor, EPERM for fapolicyd);
 * prot_ok: whether the protected objects are allowed to this uid. Returns the child's
 * number of failures. */
static int probe(const char *peer, int aa, uid_t uid, int want, int prot_ok, int checks, int c,
		 int round)
{
	char name[128], why[256];
	pid_t pid = fork();
	int st;

	if (pid != 0)
		return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st)
									       : 1;
	failures = 0;
	if (aa >= 0 && apparmor_confine(aa, why, sizeof(why))) {
		snprintf(name, sizeof(name), "%s-confine-%s", peer, aa ? "granted" : "deny");
		result(name, 0, why);
		_exit(failures);
	}
	if (setgid(uid) || setuid(uid)) {
		result("peers-setuid", 0, strerror(errno));
		_exit(failures);
	}
	if (c >= 0)
		time_ops(c, round, prot_ok);
	if (!checks)
		_exit(failures);
	check_decisions(peer, aa, uid, want, prot_ok);
	_exit(failures);
}

/* One round of AppArmor: the checks in the first, the times as the bench uid in each. */
static void round_apparmor(int round)
{
	int first = round == 0;

	failures += probe("apparmor", 0, BENCH_UID, EACCES, 0, first, C_AA, round);
	/* the granted profile allows everyone it confines: no rule per user in AppArmor */
	failures += probe("apparmor-granted", 1, BENCH_UID, EACCES, 1, first, C_AA_GRANTED, round);
	if (!first)
		return;
	failures += probe("apparmor", 0, OTHER_UID, EACCES, 0, 1, -1, round);
	failures += probe("apparmor-granted", 1, OTHER_UID, EACCES, 1, 1, -1, round);
	result("apparmor-parent-unconfined", try_open(objs.prot_file) == 0,
	       "the process that loaded the profiles is refused the protected file");
}

/* One round of fapolicyd with the filler rules (c C_FA) or without (C_FA_NOFILL): started,
 * checked in the first round, timed, stopped. */
static void round_fapolicyd(enum cfg c, int round)
{
	struct peer_objects o = objs;
	int checks = round == 0 && c == C_FA;
	char why[256];
	double t0 = now_us();
	int e;

	if (c == C_FA_NOFILL)
		o.n_rules = 0;
	if (fapolicyd_start(&o, why, sizeof(why))) {
		result("fapolicyd-start", 0, why);
		return;
	}
	if (checks) {
		result("fapolicyd-start", 1, "");
		printf("peers: fapolicyd deciding %.1f s after the start\n", (now_us() - t0) / 1e6);
	}
	failures += probe("fapolicyd", -1, BENCH_UID, EPERM, 1, checks, c, round);
	if (checks)
		failures += probe("fapolicyd", -1, OTHER_UID, EPERM, 0, 1, -1, round);
	fapolicyd_stop();
	e = try_open(objs.prot_file);
	if (checks || e)
		result("fapolicyd-stop-no-more-refusal", e == 0, strerror(e));
}

/* The table: medians over the rounds, and each over none's. */
static void print_table(void)
{
	printf("peers: median of %d interleaved rounds, us per operation as uid %d (x: over "
	       "none)\n",
	       ROUNDS, BENCH_UID);
	printf("peers: %-28s", "");
	for (int op = 0; op < N_OP; op++)
		printf(" %20s", op_names[op]);
	printf("\n");
	for (int c = 0; c < N_CFG; c++) {
		printf("peers: %-28s", cfg_names[c]);
		for (int op = 0; op < N_OP; op++) {
			double m[ROUNDS], base[ROUNDS];

			memcpy(m, times[c][op], sizeof(m));
			memcpy(base, times[C_NONE][op], sizeof(base));
			qsort(m, ROUNDS, sizeof(m[0]), cmp_double);
			qsort(base, ROUNDS, sizeof(base[0]), cmp_double);
			if (m[0] <= 0)
				printf(" %20s", c == C_AA ? "refused" : "-");
			else
				printf(" %11.2f (%5.2fx)", m[ROUNDS / 2],
				       m[ROUNDS / 2] / base[ROUNDS / 2]);
		}
		printf("\n");
	}
}

int main(int argc, char **argv)
{
	char why[256];
	int aa_ok;

	if (argc != 2) {
		fprintf(stderr, "usage: peers_check NOP\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	times = mmap(NULL, sizeof(double[N_CFG][N_OP][ROUNDS]), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (times == MAP_FAILED)
		die("mmap");
	setup(argv[1]);
	aa_ok = apparmor_setup(&objs, why, sizeof(why)) == 0;
	result("apparmor-setup", aa_ok, why);
	/* configurations interleaved round by round: TCG and a shared host are noisy */
	for (int r = 0; r < ROUNDS; r++) {
		failures += probe("none", -1, BENCH_UID, 0, 1, 0, C_NONE, r);
		if (aa_ok)
			round_apparmor(r);
		round_fapolicyd(C_FA, r);
		round_fapolicyd(C_FA_NOFILL, r);
	}
	print_table();
	printf("peers: %d failed\n", failures);
	return failures ? 1 : 0;
}
