// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the audit pipeline (lib/audit_log.c): the chain continues across a
 * restart and a rotation, a rotation in the middle of a flood loses no record (the
 * sequence is gap-free across files), and write failures become "records_dropped".
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"
#include "audit_log.h"
#include "jitd_abi.h"
#include "util.h"

static char dir[] = "/tmp/jitd-audit-test-XXXXXX";
static char path[256], state[256];

static struct audit_log_opts opts(void)
{
	return (struct audit_log_opts){
		.path = path, .state_file = state, .meta = {.hostname = "h", .version = "0"}};
}

static void emit(int i)
{
	struct audit_decision d = {.time_ns = util_now_ns(CLOCK_REALTIME),
				   .op = JITD_OP_OPEN,
				   .uid = 1000 + i % 7,
				   .loginuid = JITD_NO_LOGINUID,
				   .subject_uid = 1000 + i % 7,
				   .pid = i,
				   .tid = i,
				   .comm = "t",
				   .resource = "r",
				   .ino = i,
				   .path = "/srv/x"};

	audit_log_decision(&d);
}

/* Verify files in order: returns records verified, or -(line number) of the first break
 * counted over all files. */
static long verify_files(char **files, int n, uint64_t *last_seq)
{
	struct audit_verify v = {};
	char err[256], *line = NULL;
	size_t cap = 0;
	long no = 0;
	ssize_t len;

	for (int i = 0; i < n; i++) {
		FILE *f = fopen(files[i], "re");

		if (!f)
			return -1000000;
		while ((len = getline(&line, &cap, f)) > 0) {
			no++;
			if (line[len - 1] != '\n' ||
			    audit_verify_line(&v, line, len, err, sizeof(err))) {
				printf("    break at %s line %ld: %s\n", files[i], no, err);
				fclose(f);
				free(line);
				return -no;
			}
		}
		fclose(f);
	}
	free(line);
	if (last_seq)
		*last_seq = v.seq;
	return (long)v.n;
}

static void reset(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -f %s/*", dir);
	if (system(cmd)) {
	}
}

static void chain_continues_across_restart(void)
{
	struct audit_log_opts o = opts();
	char *files[] = {path};
	uint64_t seq;

	reset();
	CHECK_INT(audit_log_open(&o), 0);
	for (int i = 0; i < 10; i++)
		emit(i);
	audit_log_close();
	unlink(state); /* the file alone is enough */
	CHECK_INT(audit_log_open(&o), 0);
	CHECK_INT(audit_log_head()->seq, 10);
	for (int i = 0; i < 10; i++)
		emit(i);
	audit_log_close();
	CHECK_INT(verify_files(files, 1, &seq), 20);
	CHECK_INT(seq, 20);
}

static void chain_continues_across_rotation_and_restart(void)
{
	struct audit_log_opts o = opts();
	char p1[300], p2[300];
	char *files[] = {p2, p1, path};
	uint64_t seq;

	reset();
	snprintf(p1, sizeof(p1), "%s.1", path);
	snprintf(p2, sizeof(p2), "%s.2", path);
	CHECK_INT(audit_log_open(&o), 0);
	for (int i = 0; i < 5; i++)
		emit(i);
	CHECK(!rename(path, p1), "rename");
	CHECK_INT(audit_log_reopen(), 0);
	for (int i = 0; i < 5; i++)
		emit(i);
	audit_log_close();
	/* rotated again while jitd was down: the new file is empty, chain from PATH.1 */
	CHECK(!rename(p1, p2) && !rename(path, p1), "rename");
	unlink(state);
	CHECK_INT(audit_log_open(&o), 0);
	CHECK_INT(audit_log_head()->seq, 10);
	emit(1);
	audit_log_close();
	CHECK_INT(verify_files(files, 3, &seq), 11);
	CHECK_INT(seq, 11);
	/* and with only the state file to go by */
	CHECK(!unlink(p1) && !unlink(p2) && !rename(path, p1) && !unlink(p1), "cleanup");
	CHECK_INT(audit_log_open(&o), 0);
	audit_log_close(); /* writes nothing, keeps the head */
	CHECK_INT(audit_log_open(&o), 0);
	CHECK_INT(audit_log_head()->seq, 11);
	audit_log_close();
}

/* The flood: 100 000 records, rotated every 7919 (a prime: never in step with anything);
 * under ASan, which makes each record about five times dearer, 20 000 every 1999. */
#if defined(__SANITIZE_ADDRESS__) /* gcc */
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) /* clang */
#define UNDER_ASAN 1
#endif
#endif
#ifdef UNDER_ASAN
#define FLOOD_N	    20000
#define FLOOD_EVERY 1999
#else
#define FLOOD_N	    100000
#define FLOOD_EVERY 7919
#endif

static void rotation_during_flood_loses_nothing(void)
{
	enum { N = FLOOD_N, EVERY = FLOOD_EVERY };
	struct audit_log_opts o = opts();
	char *files[32];
	int nf = 0;
	uint64_t seq;
	long n;

	reset();
	CHECK_INT(audit_log_open(&o), 0);
	for (int i = 0; i < N; i++) {
		emit(i);
		if (i % EVERY == EVERY - 1) { /* logrotate: mv, then SIGHUP */
			files[nf] = malloc(300);
			snprintf(files[nf], 300, "%s.r%02d", path, nf);
			CHECK(!rename(path, files[nf]), "rename");
			nf++;
			CHECK_INT(audit_log_reopen(), 0);
		}
	}
	audit_log_close();
	files[nf++] = path;
	n = verify_files(files, nf, &seq);
	for (int i = 0; i < nf - 1; i++)
		free(files[i]);
	CHECK_INT(nf, N / EVERY + 1);
	CHECK_INT(n, N);
	CHECK_INT(seq, N);
}

static void write_failure_becomes_records_dropped(void)
{
	struct audit_log_opts o = opts();
	struct rlimit rl, old;
	char *files[] = {path}, *text = NULL;
	struct stat st;
	long n;

	reset();
	signal(SIGXFSZ, SIG_IGN);
	CHECK_INT(audit_log_open(&o), 0);
	for (int i = 0; i < 5; i++)
		emit(i);
	CHECK(!stat(path, &st), "stat");
	getrlimit(RLIMIT_FSIZE, &old);
	rl = old;
	rl.rlim_cur = st.st_size + 10; /* the next record cannot fit */
	setrlimit(RLIMIT_FSIZE, &rl);
	for (int i = 0; i < 7; i++)
		emit(i);
	CHECK_INT(audit_log_pending_losses(), 7);
	setrlimit(RLIMIT_FSIZE, &old);
	emit(99);
	CHECK_INT(audit_log_pending_losses(), 0);
	audit_log_close();
	n = verify_files(files, 1, NULL);
	CHECK_INT(n, 5 + 1 + 1); /* five, the drop record, the one after */
	CHECK(!util_read_file(path, 1 << 20, &text, NULL), "read");
	CHECK_CONTAINS(text, "\"event\":\"records_dropped\"");
	CHECK_CONTAINS(text, "\"source\":\"audit write\"");
	CHECK_CONTAINS(text, "\"count\":7");
	CHECK_CONTAINS(text, "\"start_time\":");
	free(text);
}

/* Sync: 0 on a file (and a no-op with nothing new), 0 on a pipe (nothing to sync). */
static void sync_file_and_pipe(void)
{
	struct audit_log_opts o = opts();
	int p[2], saved = dup(STDOUT_FILENO);

	reset();
	CHECK_INT(audit_log_open(&o), 0);
	CHECK_INT(audit_log_sync(), 0);
	emit(1);
	CHECK_INT(audit_log_sync(), 0);
	CHECK_INT(audit_log_sync(), 0);
	audit_log_close();
	CHECK(!pipe(p) && dup2(p[1], STDOUT_FILENO) >= 0, "pipe as stdout");
	o.path = "-";
	CHECK_INT(audit_log_open(&o), 0);
	emit(2);
	CHECK_INT(audit_log_sync(), 0);
	audit_log_close();
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		printf("FAIL test_audit_log: mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	snprintf(state, sizeof(state), "%s/audit-chain.json", dir);
	RUN(chain_continues_across_restart);
	RUN(chain_continues_across_rotation_and_restart);
	RUN(rotation_during_flood_loses_nothing);
	RUN(write_failure_becomes_records_dropped);
	RUN(sync_file_and_pipe);
	reset();
	rmdir(dir);
	return tl_exit();
}
