// SPDX-License-Identifier: GPL-2.0-only
/*
 * scale: the measuring half of `make bench-scale` (tests/vm/scale.sh runs it in the VM).
 * It speaks docs/protocol.md on the control socket itself, so that a grant's latency is
 * jitd's, not jitctl's fork and exec.
 *
 *   scale ready NOTIFY_PATH JITD ARG...   start jitd with NOTIFY_SOCKET=NOTIFY_PATH; print
 *                                         "ready_ms=MS pid=PID" when it says READY=1
 *   scale grants SOCK N UIDBASE NRES DUR BUDGET_S IDS
 *                                         N grants, grant i: resource r(i % NRES) for uid
 *                                         UIDBASE + i / NRES; ids appended to IDS; stops
 *                                         after BUDGET_S seconds; latency p50/p99 and rate
 *   scale revoke SOCK IDS K               revoke the last K ids of IDS; latency p50/p99
 *   scale reload SOCK PID SERIAL          SIGHUP jitd, time until status has SERIAL
 *   scale opens UID PATH N                N open+close of PATH as UID: ns per open
 *   scale mapmem PID                      jitd's maps (its /proc/PID/fdinfo): memlock
 *   scale state FILE N UIDBASE NRES       grow FILE (jitd's grants.json with one active
 *                                         grant) to N grants like its first, as grants did
 *   scale rss PID                         VmRSS and VmHWM of PID in KiB
 *   scale paths DIR NRES PER SERIAL POLICY
 *                                         NRES resources r0.. of PER paths each under DIR
 *                                         (files DIR/I/fJ; every 10th a directory DIR/I/dJ
 *                                         holding a file), the policy into POLICY
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/un.h>
#include <bpf/bpf.h>
#include <jansson.h>

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Print "NAME n= p50= p99= max=" (microseconds) of v[0..n) (sorted in place). */
static void print_lat(const char *name, int64_t *v, size_t n)
{
	if (!n) {
		printf("%-24s n=0\n", name);
		return;
	}
	qsort(v, n, sizeof(*v), cmp_i64);
	printf("%-24s n=%zu p50_us=%.0f p99_us=%.0f max_us=%.0f\n", name, n, v[n / 2] / 1e3,
	       v[(n * 99) / 100] / 1e3, v[n - 1] / 1e3);
}

static int ctl_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror(path);
		exit(1);
	}
	return fd;
}

static char rbuf[1 << 20];
static size_t rlen;

/* Send one request line, read its reply line into out (NUL-terminated). 0 or -1. */
static int ctl_call(int fd, const char *req, char *out, size_t outlen)
{
	size_t len = strlen(req);
	char *nl;

	if (write(fd, req, len) != (ssize_t)len)
		return -1;
	while (!(nl = memchr(rbuf, '\n', rlen))) {
		ssize_t r;

		if (rlen == sizeof(rbuf))
			return -1;
		r = read(fd, rbuf + rlen, sizeof(rbuf) - rlen);
		if (r <= 0)
			return -1;
		rlen += r;
	}
	*nl = 0;
	len = nl - rbuf < (ptrdiff_t)outlen ? (size_t)(nl - rbuf) : outlen - 1;
	memcpy(out, rbuf, len);
	out[len] = 0;
	rlen -= nl + 1 - rbuf;
	memmove(rbuf, nl + 1, rlen);
	return 0;
}

static int do_ready(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char buf[4096];
	int64_t t0;
	pid_t pid;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[2]);
	unlink(argv[2]);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("notify socket");
		return 1;
	}
	setenv("NOTIFY_SOCKET", argv[2], 1);
	t0 = now_ns();
	pid = fork();
	if (!pid) {
		/* not our stdout: a shell reading it ($(...)) would wait for jitd to exit */
		dup2(2, 1);
		execv(argv[3], argv + 3);
		_exit(127);
	}
	for (;;) {
		struct timeval tv = {.tv_sec = 5};
		ssize_t n;

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n < 0 && waitpid(pid, NULL, WNOHANG) == pid) {
			printf("ready_ms=-1 pid=%d (jitd exited)\n", pid);
			return 1;
		}
		if (n <= 0 && now_ns() - t0 > 1800 * 1000000000LL) {
			printf("ready_ms=-1 pid=%d (no READY=1 in 1800 s)\n", pid);
			return 1;
		}
		if (n <= 0)
			continue;
		buf[n] = 0;
		if (strstr(buf, "READY=1"))
			break;
	}
	printf("ready_ms=%.0f pid=%d\n", (now_ns() - t0) / 1e6, pid);
	return 0;
}

static int do_grants(int argc, char **argv)
{
	long n = atol(argv[3]), uidbase = atol(argv[4]), nres = atol(argv[5]);
	long dur = atol(argv[6]), budget = atol(argv[7]);
	int64_t *lat = calloc(n ? n : 1, sizeof(*lat)), t0 = now_ns(), tc = t0;
	FILE *ids = fopen(argv[8], "a");
	int fd = ctl_connect(argv[2]);
	char req[256], rep[4096];
	long i, failed = 0, chunk = n >= 10 ? n / 10 : 1;

	if (!lat || !ids)
		return 1;
	for (i = 0; i < n; i++) {
		int64_t t = now_ns();
		const char *id;

		snprintf(req, sizeof(req),
			 "{\"op\":\"grant\",\"resource\":\"r%ld\",\"uid\":%ld,\"duration_s\":%ld,"
			 "\"reason\":\"scale\"}\n",
			 i % nres, uidbase + i / nres, dur);
		if (ctl_call(fd, req, rep, sizeof(rep))) {
			printf("grants: connection lost after %ld\n", i);
			break;
		}
		lat[i] = now_ns() - t;
		id = strstr(rep, "\"id\":");
		if (!strstr(rep, "\"ok\":true") || !id) {
			if (failed++ < 3)
				printf("grants: grant %ld refused: %.300s\n", i, rep);
		} else {
			fprintf(ids, "%ld\n", atol(id + 5));
		}
		if ((i + 1) % chunk == 0) {
			int64_t t1 = now_ns();

			printf("grants: %ld done, last %ld at %.0f grants/s\n", i + 1, chunk,
			       chunk / ((t1 - tc) / 1e9));
			fflush(stdout);
			tc = t1;
		}
		if (budget && now_ns() - t0 > budget * 1000000000LL) {
			i++;
			printf("grants: stopped at %ld of %ld: the %ld s budget is spent\n", i, n,
			       budget);
			break;
		}
	}
	printf("grants: %ld sent, %ld refused, %.1f s, sustained %.1f grants/s\n", i, failed,
	       (now_ns() - t0) / 1e9, i / ((now_ns() - t0) / 1e9));
	print_lat("grant_add_latency", lat, i);
	fclose(ids);
	return failed ? 1 : 0;
}

static int do_revoke(int argc, char **argv)
{
	long k = atol(argv[4]), n = 0, cap = 1024, failed = 0;
	long *ids = malloc(cap * sizeof(*ids));
	int64_t *lat;
	FILE *f = fopen(argv[3], "r");
	int fd = ctl_connect(argv[2]);
	char req[128], rep[4096];
	long v;

	if (!f || !ids)
		return 1;
	while (fscanf(f, "%ld", &v) == 1) {
		if (n == cap && !(ids = realloc(ids, (cap *= 2) * sizeof(*ids))))
			return 1;
		ids[n++] = v;
	}
	fclose(f);
	if (k > n)
		k = n;
	lat = calloc(k ? k : 1, sizeof(*lat));
	for (long i = 0; i < k; i++) {
		int64_t t = now_ns();

		snprintf(req, sizeof(req), "{\"op\":\"revoke\",\"id\":%ld}\n", ids[n - 1 - i]);
		if (ctl_call(fd, req, rep, sizeof(rep)))
			return 1;
		lat[i] = now_ns() - t;
		if (!strstr(rep, "\"ok\":true") && failed++ < 3)
			printf("revoke: %ld refused: %.300s\n", ids[n - 1 - i], rep);
	}
	print_lat("grant_revoke_latency", lat, k);
	return failed ? 1 : 0;
}

static long status_serial(int fd)
{
	static char rep[1 << 16];
	const char *p;

	if (ctl_call(fd, "{\"op\":\"status\"}\n", rep, sizeof(rep)))
		return -1;
	p = strstr(rep, "\"policy\":");
	p = p ? strstr(p, "\"serial\":") : NULL;
	return p ? atol(p + 9) : -1;
}

static int do_reload(int argc, char **argv)
{
	long want = atol(argv[4]);
	int fd = ctl_connect(argv[2]);
	int64_t t0 = now_ns();

	kill(atoi(argv[3]), SIGHUP);
	while (status_serial(fd) != want) {
		if (now_ns() - t0 > 1200 * 1000000000LL) {
			printf("reload_ms=-1 (serial %ld not seen in 1200 s)\n", want);
			return 1;
		}
		usleep(20000);
	}
	printf("reload_ms=%.0f\n", (now_ns() - t0) / 1e6);
	return 0;
}

static int do_opens(int argc, char **argv)
{
	long n = atol(argv[4]), denied = 0;
	int64_t t0;

	if (setgid(atoi(argv[2])) || setuid(atoi(argv[2]))) {
		perror("setuid");
		return 1;
	}
	for (long i = 0; i < n / 10 + 1; i++) { /* warm up */
		int fd = open(argv[3], O_RDONLY);

		if (fd >= 0)
			close(fd);
	}
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		int fd = open(argv[3], O_RDONLY);

		if (fd < 0)
			denied++;
		else
			close(fd);
	}
	printf("open_close_ns=%.0f n=%ld failed=%ld\n", (double)(now_ns() - t0) / n, n, denied);
	return 0;
}

/* One map of jitd's: its fdinfo fields and, by its id, its name. */
static void map_line(const char *path, long long *total)
{
	char line[256], type[32] = "?", name[BPF_OBJ_NAME_LEN] = "?";
	long long memlock = -1, max = 0, id = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "map_type:\t%31s", type);
		sscanf(line, "max_entries:\t%lld", &max);
		sscanf(line, "memlock:\t%lld", &memlock);
		sscanf(line, "map_id:\t%lld", &id);
	}
	fclose(f);
	if (memlock < 0 || id < 0) /* not a map (a program or a link) */
		return;
	if (id >= 0) {
		int fd = bpf_map_get_fd_by_id(id);
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);

		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
			snprintf(name, sizeof(name), "%s", info.name);
		if (fd >= 0)
			close(fd);
	}
	printf("map %-16s %-14s max_entries=%-8lld memlock_kib=%.0f\n", name, type, max,
	       memlock / 1024.0);
	*total += memlock;
}

static int do_mapmem(int argc, char **argv)
{
	char dir[64], path[512];
	long long total = 0;
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%s/fdinfo", argv[2]);
	d = opendir(dir);
	if (!d)
		return 1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		map_line(path, &total);
	}
	closedir(d);
	printf("maps_total_memlock_kib=%.0f\n", total / 1024.0);
	return 0;
}

static int do_state(int argc, char **argv)
{
	long n = atol(argv[3]), uidbase = atol(argv[4]), nres = atol(argv[5]);
	json_error_t jerr;
	json_t *root = json_load_file(argv[2], 0, &jerr), *arr, *tmpl;

	arr = root ? json_object_get(root, "grants") : NULL;
	tmpl = arr ? json_array_get(arr, 0) : NULL;
	if (!tmpl) {
		fprintf(stderr, "%s: no grant to copy\n", argv[2]);
		return 1;
	}
	json_incref(tmpl);
	json_array_clear(arr);
	for (long i = 0; i < n; i++) {
		json_t *g = json_deep_copy(tmpl);
		char res[32];

		snprintf(res, sizeof(res), "r%ld", i % nres);
		json_object_set_new(g, "id", json_integer(i + 1));
		json_object_set_new(g, "uid", json_integer(uidbase + i / nres));
		json_object_set_new(g, "resources", json_pack("[s]", res));
		json_array_append_new(arr, g);
	}
	json_object_set_new(root, "next_id", json_integer(n + 1));
	json_decref(tmpl);
	if (json_dump_file(root, argv[2], JSON_COMPACT))
		return 1;
	json_decref(root);
	return 0;
}

static int do_rss(int argc, char **argv)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/status", argv[2]);
	f = fopen(path, "r");
	if (!f)
		return 1;
	while (fgets(line, sizeof(line), f))
		/* RssAnon: jitd's own heap and stacks; RssFile: libraries and the ring buffer's
		 * pages (mapped from the kernel, shared with it) */
		if (!strncmp(line, "VmRSS:", 6) || !strncmp(line, "VmHWM:", 6) ||
		    !strncmp(line, "RssAnon:", 8) || !strncmp(line, "RssFile:", 8) ||
		    !strncmp(line, "RssShmem:", 9))
			printf("%s", line);
	fclose(f);
	return 0;
}

static int do_paths(int argc, char **argv)
{
	long nres = atol(argv[3]), per = atol(argv[4]);
	FILE *p = fopen(argv[6], "w");
	char path[512];

	if (!p)
		return 1;
	fprintf(p,
		"{\"version\": 1, \"serial\": %ld, \"exempt\": {\"uids\": [0]},\n"
		"\"resources\": {\n",
		atol(argv[5]));
	mkdir(argv[2], 0755);
	for (long i = 0; i < nres; i++) {
		snprintf(path, sizeof(path), "%s/%ld", argv[2], i);
		if (mkdir(path, 0755) && errno != EEXIST)
			return 1;
		fprintf(p, "%s\"r%ld\": {\"open\": [", i ? ",\n" : "", i);
		for (long j = 0; j < per; j++) {
			int fd;

			if (j % 10 == 9) {
				snprintf(path, sizeof(path), "%s/%ld/d%ld", argv[2], i, j);
				mkdir(path, 0755);
				fprintf(p, "%s\"%s\"", j ? ", " : "", path);
				snprintf(path, sizeof(path), "%s/%ld/d%ld/file", argv[2], i, j);
			} else {
				snprintf(path, sizeof(path), "%s/%ld/f%ld", argv[2], i, j);
				fprintf(p, "%s\"%s\"", j ? ", " : "", path);
			}
			fd = open(path, O_WRONLY | O_CREAT, 0644);
			if (fd < 0)
				return 1;
			close(fd);
		}
		fprintf(p, "]}");
	}
	fprintf(p, "\n}}\n");
	return fclose(p) ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int argc;
		int (*fn)(int, char **);
	} modes[] = {{"ready", 4, do_ready},   {"grants", 9, do_grants}, {"revoke", 5, do_revoke},
		     {"reload", 5, do_reload}, {"opens", 5, do_opens},	 {"mapmem", 3, do_mapmem},
		     {"state", 6, do_state},   {"rss", 3, do_rss},	 {"paths", 7, do_paths}};

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; argc > 1 && i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(argv[1], modes[i].name) && argc >= modes[i].argc)
			return modes[i].fn(argc, argv);
	fprintf(stderr, "usage: see tests/bench/scale.c\n");
	return 2;
}
