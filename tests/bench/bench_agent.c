// SPDX-License-Identifier: GPL-2.0-only
/*
 * The bench's "jitd + agent" configuration: /usr/sbin/jitd as tests/vm/lib.sh starts it
 * (start_jitd), on the policy the bench wrote to AGENT_POLICY, with its own state
 * directory, socket and audit file under AGENT_DIR; ready when `jitctl status` exits 0.
 * jitd leaves its programs attached when it stops (fail closed): agent_stop() removes
 * them as `jitd --unload` does (kern_unload: the pins under PIN_DIR, links first, then
 * maps, by an exempt root), then waits until the agent's programs are gone. Not `jitd
 * --unload` itself: it waits for every program named jitd_* to go, and the bench holds its
 * own (the kernel-only configuration's skeleton) for the whole run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "bench_agent.h"

#define JITD	    "/usr/sbin/jitd"
#define JITCTL	    "/usr/bin/jitctl"
#define STATE	    AGENT_DIR "/state"
#define SOCK	    AGENT_DIR "/jitd.sock"
#define AUDIT	    AGENT_DIR "/audit.jsonl"
#define LOG	    AGENT_DIR "/jitd.log"
#define STATUS_JSON AGENT_DIR "/status.json"
#define START_WAIT  180 /* s: TCG is slow, the verifier slower */
#define PIN_DIR	    "/sys/fs/bpf/jitd"
#define MAX_IDS	    256

static pid_t agent_pid;
static __u32 before_ids[MAX_IDS]; /* the LSM programs named jitd_* before jitd started */
static int n_before;

int lsm_progs(__u32 *ids, struct bpf_prog_info *info, int max)
{
	__u32 id = 0;
	int n = 0;

	while (n < max && !bpf_prog_get_next_id(id, &id)) {
		__u32 len = sizeof(info[n]);
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue;
		memset(&info[n], 0, sizeof(info[n]));
		if (!bpf_obj_get_info_by_fd(fd, &info[n], &len) &&
		    info[n].type == BPF_PROG_TYPE_LSM)
			ids[n++] = id;
		close(fd);
	}
	return n;
}

/* The ids of the LSM programs named jitd_* (as kern_unload counts them). */
static int jitd_prog_ids(__u32 *ids)
{
	static struct bpf_prog_info info[MAX_IDS];
	__u32 all[MAX_IDS];
	int n = lsm_progs(all, info, MAX_IDS), k = 0;

	for (int i = 0; i < n; i++)
		if (!strncmp(info[i].name, "jitd_", 5))
			ids[k++] = all[i];
	return k;
}

/* How many of the jitd_* programs were not there before jitd started: the agent's. */
static int agent_progs(void)
{
	__u32 ids[MAX_IDS];
	int n = jitd_prog_ids(ids), left = 0;

	for (int i = 0; i < n; i++) {
		int old = 0;

		for (int j = 0; j < n_before && !old; j++)
			old = ids[i] == before_ids[j];
		left += !old;
	}
	return left;
}

/* Unpin everything under PIN_DIR (links first: enforcement ends), then wait up to 30 s
 * for the agent's programs to go (links are released from deferred work). 0 or -1. */
static int unpin(char *why, size_t len)
{
	DIR *d = opendir(PIN_DIR);
	struct dirent *de;
	char path[512];

	if (d) {
		for (int pass = 0; pass < 2; pass++) {
			rewinddir(d);
			while ((de = readdir(d))) {
				int is_link = !strncmp(de->d_name, "link_", 5);

				if (de->d_name[0] == '.' || is_link != (pass == 0))
					continue;
				snprintf(path, sizeof(path), "%s/%s", PIN_DIR, de->d_name);
				if (unlink(path)) {
					snprintf(why, len, "unlink %s: %s", path, strerror(errno));
					closedir(d);
					return -1;
				}
			}
		}
		closedir(d);
		if (rmdir(PIN_DIR)) {
			snprintf(why, len, "rmdir %s: %s", PIN_DIR, strerror(errno));
			return -1;
		}
	}
	for (int i = 0; agent_progs() > 0; i++) {
		if (i == 300) {
			snprintf(why, len, "%d jitd programs still loaded 30 s after unpinning",
				 agent_progs());
			return -1;
		}
		usleep(100000);
	}
	return 0;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Run argv with stdout and stderr to the file out; its exit status, or -1. */
static int run(char *const argv[], const char *out)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The last line of LOG that says something, for a reason; the last lines on stderr. */
static void last_log_line(char *out, size_t len)
{
	char line[512], *tail[20] = {};
	FILE *f = fopen(LOG, "r");
	int n = 0;

	out[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		free(tail[n % 20]);
		tail[n++ % 20] = strdup(line);
		if (line[0] != '\n')
			snprintf(out, len, "%s", strtok(line, "\n"));
	}
	fclose(f);
	fprintf(stderr, "bench: the end of %s:\n", LOG);
	for (int i = n > 20 ? n - 20 : 0; i < n; i++) {
		fprintf(stderr, "    %s", tail[i % 20] ?: "");
		free(tail[i % 20]);
	}
}

int agent_available(char *why, size_t len)
{
	if (access(JITD, X_OK) || access(JITCTL, X_OK)) {
		snprintf(why, len, "no %s or %s in this image", JITD, JITCTL);
		return -1;
	}
	return 0;
}

static void remove_state(void)
{
	char *rm[] = {"/bin/rm", "-rf", STATE, NULL};

	run(rm, "/dev/null");
	unlink(AUDIT);
	unlink(SOCK);
}

/* Ready as a host in its steady state: a file's release trusts the per-slot counts of
 * tracked files (a second or two after the programs are loaded). 0, or -1 with why. */
static int settled(char *why, size_t len)
{
	char *json[] = {JITCTL, "--socket", SOCK, "status", "--json", NULL};
	static char buf[1 << 20]; /* the whole status (its list of programs alone is kilobytes) */
	char last[256];
	double t0 = mono_s();

	while (mono_s() - t0 < START_WAIT) {
		FILE *f;
		size_t n = 0;

		unlink(STATUS_JSON); /* run() appends */
		if (run(json, STATUS_JSON) == 0 && (f = fopen(STATUS_JSON, "r"))) {
			n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
		}
		buf[n] = 0;
		if (strstr(buf, "\"release_by_slot\": true") ||
		    strstr(buf, "\"release_by_slot\":true"))
			return 0;
		usleep(200000);
	}
	last_log_line(last, sizeof(last));
	snprintf(why, len, "jitd never trusted its tracked files' counts (%d s): %s", START_WAIT,
		 last);
	agent_stop(last, sizeof(last));
	return -1;
}

int agent_start(char *why, size_t len)
{
	char *status[] = {JITCTL, "--socket", SOCK, "status", NULL};
	char last[256];
	double t0 = mono_s();

	mkdir(AGENT_DIR, 0755);
	remove_state();
	n_before = jitd_prog_ids(before_ids);
	agent_pid = fork();
	if (agent_pid == 0) {
		int fd = open(LOG, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(JITD, JITD, "--policy", AGENT_POLICY, "--socket", SOCK, "--state-dir", STATE,
		      "--audit-file", AUDIT, (char *)NULL);
		_exit(127);
	}
	if (agent_pid < 0) {
		snprintf(why, len, "fork: %s", strerror(errno));
		return -1;
	}
	while (mono_s() - t0 < START_WAIT) {
		int st;

		if (run(status, "/dev/null") == 0)
			return settled(why, len);
		if (waitpid(agent_pid, &st, WNOHANG) == agent_pid) {
			last_log_line(last, sizeof(last));
			snprintf(why, len, "jitd exited (status %d) before it was ready: %s",
				 WIFEXITED(st) ? WEXITSTATUS(st) : -1, last);
			agent_pid = 0;
			return -1;
		}
		usleep(200000);
	}
	last_log_line(last, sizeof(last));
	snprintf(why, len, "jitd not ready after %d s: %s", START_WAIT, last);
	agent_stop(last, sizeof(last));
	return -1;
}

/* The audit file's lines (records). */
static long count_lines(const char *path)
{
	char buf[65536];
	long n = 0;
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((got = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < got; i++)
			n += buf[i] == '\n';
	close(fd);
	return n;
}

long agent_stop(char *why, size_t len)
{
	long records;
	int st;

	if (agent_pid > 0) {
		kill(agent_pid, SIGTERM);
		for (int i = 0; i < 200 && waitpid(agent_pid, &st, WNOHANG) != agent_pid; i++)
			usleep(100000);
		if (kill(agent_pid, 0) == 0) {
			kill(agent_pid, SIGKILL);
			waitpid(agent_pid, &st, 0);
		}
		agent_pid = 0;
	}
	records = count_lines(AUDIT);
	if (unpin(why, len))
		return -1;
	remove_state();
	return records;
}
