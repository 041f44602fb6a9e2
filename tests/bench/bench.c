// SPDX-License-Identifier: GPL-2.0-only
/*
 * `make bench`, run as root inside the VM (no jitd running): time per
 * operation of open+close, fork+exec, TCP connect (socket_create and socket_connect),
 * and chmod (inode_setattr, the cost every change hook adds) under
 *   none  - no LSM programs attached,
 *   min   - the cheapest possible hooks (bench_min.bpf.c: one lookup, allow),
 *   jitd  - jitd's own programs with 1,000 resources and 10,000 active grants,
 * on unprotected objects and on a protected object the caller holds a grant
 * for. Configurations are interleaved round by round (TCG is noisy) and the
 * medians compared. Last line: "ratio unprotected=X.XX granted=Y.YY", jitd's
 * median over min's, worst of the hot-path operations (open, exec, connect); the line
 * before it gives chmod's, the cost a change hook adds to a change.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "jitd_abi.h"
#include "jitd.skel.h"
#include "bench_min.skel.h"
#include "lsm_hooks.h"

#define ROUNDS	    31
#define N_RESOURCES 1000
#define N_GRANTS    10000
#define DIR	    "/tmp/bench"
#define UNPROT_FILE DIR "/data/a/b/unprotected.txt"
#define PROT_FILE   DIR "/data/a/b/protected.txt"
#define UNPROT_BIN  DIR "/nop"
#define PROT_BIN    DIR "/pnop"
#define UNPROT_ADDR "127.0.0.1"
#define PROT_ADDR   "127.0.0.3"
#define PORT	    7000

enum cfg { CFG_NONE, CFG_MIN, CFG_JITD, N_CFG };
enum op { OP_OPEN, OP_EXEC, OP_CONNECT, OP_CHMOD, N_OP };
enum target { T_UNPROT, T_GRANTED, N_T };

static const char *op_names[] = {"open+close", "fork+exec", "tcp connect", "chmod"};
static const int batch[] = {2000, 40, 300, 2000};

static double samples[N_CFG][N_OP][N_T][ROUNDS];
static struct jitd_bpf *jskel;
static struct bench_min_bpf *mskel;
static struct ring_buffer *rb;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void copy_file(const char *src, const char *dst)
{
	char buf[65536];
	int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	ssize_t n;

	if (in < 0 || out < 0)
		die(src);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			die(dst);
	close(in);
	close(out);
}

static void touch_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0644);

	if (fd < 0)
		die(path);
	close(fd);
}

static void do_open(const char *path)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		die(path);
	close(fd);
}

static void do_exec(const char *path)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		die("exec");
}

static void do_connect(const char *addr)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(PORT)};
	struct linger lg = {1, 0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, addr, &sin.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		die("connect");
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)); /* RST: no TIME_WAIT pile-up */
	close(fd);
}

static pid_t start_listener(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(PORT)};
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
	pid_t pid;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) || listen(fd, 1024))
		die("listen");
	pid = fork();
	if (pid == 0) {
		for (;;) {
			int c = accept(fd, NULL, NULL);

			if (c >= 0)
				close(c);
		}
	}
	close(fd);
	return pid;
}

static int drain(void *ctx, void *data, size_t len)
{
	return 0;
}

static double run_batch(enum op op, enum target t, int n)
{
	double start;

	start = now_ns();
	for (int i = 0; i < n; i++) {
		switch (op) {
		case OP_OPEN:
			do_open(t == T_GRANTED ? PROT_FILE : UNPROT_FILE);
			break;
		case OP_EXEC:
			do_exec(t == T_GRANTED ? PROT_BIN : UNPROT_BIN);
			break;
		case OP_CONNECT:
			do_connect(t == T_GRANTED ? PROT_ADDR : UNPROT_ADDR);
			break;
		default:
			if (chmod(t == T_GRANTED ? PROT_FILE : UNPROT_FILE, 0644))
				die("chmod");
			break;
		}
	}
	return (now_ns() - start) / n;
}

static uint64_t kdev_of(const char *path, uint64_t *ino)
{
	struct stat st;

	if (stat(path, &st))
		die(path);
	*ino = st.st_ino;
	return ((uint64_t)major(st.st_dev) << 20) | minor(st.st_dev);
}

static struct jitd_filter filt;

/* jitd's maps as jitd fills them: 1,000 resources (files, a directory, networks)
 * and 10,000 grants, among them the caller's grants on the protected objects. */
static void fill_jitd_maps(void)
{
	int inodes = bpf_map__fd(jskel->maps.inodes);
	int nets = bpf_map__fd(jskel->maps.nets), grants = bpf_map__fd(jskel->maps.grants);
	struct jitd_inode_key ik;
	struct jitd_inode_val iv = {};
	struct jitd_net_key nk = {};
	struct jitd_net_val nv = {};
	struct jitd_grant_key gk = {};
	struct jitd_grant_val gv = {.starts_ns = 0, .expires_ns = UINT64_MAX / 2};
	uint32_t zero = 0, res = 1;
	uint64_t ino;
	char path[256];

	/* Resource 1: the protected file, 2: the protected binary, 3: the network. */
	ik.dev = kdev_of(PROT_FILE, &ino);
	ik.ino = ino;
	iv.resource = 1;
	jitd_filter_set(&filt, ik.dev, ik.ino);
	bpf_map_update_elem(inodes, &ik, &iv, BPF_ANY);
	ik.dev = kdev_of(PROT_BIN, &ino);
	ik.ino = ino;
	iv.resource = 2;
	iv.flags = JITD_INODE_EXEC;
	jitd_filter_set(&filt, ik.dev, ik.ino);
	bpf_map_update_elem(inodes, &ik, &iv, BPF_ANY);
	nk.prefixlen = 16 + 128;
	nk.port = htons(PORT);
	nk.addr[10] = nk.addr[11] = 0xff;
	inet_pton(AF_INET, PROT_ADDR, &nk.addr[12]);
	nv.resource = 3;
	if (bpf_map_update_elem(nets, &nk, &nv, BPF_ANY))
		die("nets");
	/* 997 more: real files and directories on the same filesystem, and networks. */
	for (res = 4; res <= N_RESOURCES; res++) {
		if (res % 3) {
			snprintf(path, sizeof(path), DIR "/res/%u", res);
			if (res % 3 == 1)
				mkdir(path, 0755);
			else
				touch_file(path);
			ik.dev = kdev_of(path, &ino);
			ik.ino = ino;
			iv.resource = res;
			iv.flags = res % 3 == 1 ? JITD_INODE_SUBTREE : 0;
			jitd_filter_set(&filt, ik.dev, ik.ino);
			if (bpf_map_update_elem(inodes, &ik, &iv, BPF_ANY))
				die("inodes");
		} else {
			nk.prefixlen = 16 + 96 + 16 + (res % 17);
			nk.port = htons(1000 + res);
			nk.addr[12] = 10;
			nk.addr[13] = res & 0xff;
			nk.addr[14] = nk.addr[15] = 0;
			nv.resource = res;
			if (bpf_map_update_elem(nets, &nk, &nv, BPF_ANY))
				die("nets");
		}
	}
	if (bpf_map_update_elem(bpf_map__fd(jskel->maps.filter), &zero, &filt, BPF_ANY))
		die("filter");
	/* The caller (root, no loginuid) holds grants on resources 1..3. */
	for (uint32_t r = 1; r <= 3; r++) {
		gk = (struct jitd_grant_key){.resource = r, .uid = 0, .cgroup = 0};
		gv.grant_id = r;
		if (bpf_map_update_elem(grants, &gk, &gv, BPF_ANY))
			die("grants");
	}
	for (uint32_t i = 3; i < N_GRANTS; i++) {
		gk.resource = 1 + i % N_RESOURCES;
		gk.uid = 2000 + i;
		gk.cgroup = i % 4 ? 0 : 100 + i;
		gv.grant_id = 100 + i;
		if (bpf_map_update_elem(grants, &gk, &gv, BPF_ANY))
			die("grants");
	}
}

static struct bpf_link *links[64];
static int n_links;

static void attach(enum cfg c)
{
	struct bpf_program *prog;
	struct bpf_object *obj = c == CFG_JITD ? jskel->obj : c == CFG_MIN ? mskel->obj : NULL;

	if (!obj)
		return;
	bpf_object__for_each_program(prog, obj) {
		if (!bpf_program__autoload(prog))
			continue; /* the other kernels' signature */
		if (n_links == sizeof(links) / sizeof(links[0]))
			die("too many programs");
		links[n_links] = bpf_program__attach(prog);
		if (!links[n_links])
			die(bpf_program__name(prog));
		n_links++;
	}
}

static void detach(void)
{
	while (n_links)
		bpf_link__destroy(links[--n_links]);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v)
{
	double tmp[ROUNDS];

	memcpy(tmp, v, sizeof(tmp));
	qsort(tmp, ROUNDS, sizeof(double), cmp_double);
	return tmp[ROUNDS / 2];
}

int main(int argc, char **argv)
{
	const char *nop = argc > 1 ? argv[1] : "/tests/nop";
	double worst[N_T] = {0, 0}, change[N_T] = {0, 0};
	pid_t listener;

	mkdir(DIR, 0755);
	mkdir(DIR "/res", 0755);
	mkdir(DIR "/data", 0755);
	mkdir(DIR "/data/a", 0755);
	mkdir(DIR "/data/a/b", 0755);
	touch_file(UNPROT_FILE);
	touch_file(PROT_FILE);
	copy_file(nop, UNPROT_BIN);
	copy_file(nop, PROT_BIN);
	listener = start_listener();

	jskel = jitd_bpf__open();
	mskel = bench_min_bpf__open();
	if (!jskel || !mskel)
		die("open BPF objects");
	if (lsm_hooks_choose(jskel->obj, NULL) || lsm_hooks_choose(mskel->obj, NULL))
		die("choose hook variants");
	if (jitd_bpf__load(jskel) || bench_min_bpf__load(mskel))
		die("load BPF objects");
	fill_jitd_maps();
	rb = ring_buffer__new(bpf_map__fd(jskel->maps.events), drain, NULL, NULL);
	if (!rb)
		die("ring buffer");

	/* Warm up caches and the page cache once per operation. */
	for (int op = 0; op < N_OP; op++)
		for (int t = 0; t < N_T; t++)
			run_batch(op, t, batch[op]);

	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < N_CFG; i++) {
			enum cfg c = (r + i) % N_CFG; /* rotate the order each round */

			attach(c);
			/* Untimed: TCG translates the freshly JITed programs on first use. */
			for (int op = 0; op < N_OP; op++)
				for (int t = 0; t < N_T; t++)
					run_batch(op, t, 4);
			ring_buffer__consume(rb);
			for (int op = 0; op < N_OP; op++)
				for (int t = 0; t < N_T; t++) {
					samples[c][op][t][r] = run_batch(op, t, batch[op]);
					ring_buffer__consume(rb); /* not timed */
				}
			detach();
		}
		fprintf(stderr, "bench: round %d/%d\n", r + 1, ROUNDS);
	}
	kill(listener, SIGKILL);

	printf("%-12s %-12s %12s %12s %12s %8s\n", "operation", "object", "none ns", "min ns",
	       "jitd ns", "jitd/min");
	for (int op = 0; op < N_OP; op++)
		for (int t = 0; t < N_T; t++) {
			double m[N_CFG], ratio;

			for (int c = 0; c < N_CFG; c++)
				m[c] = median(samples[c][op][t]);
			ratio = m[CFG_JITD] / m[CFG_MIN];
			if (op == OP_CHMOD)
				change[t] = ratio; /* not a hot path: reported on its own */
			else if (ratio > worst[t])
				worst[t] = ratio;
			printf("%-12s %-12s %12.0f %12.0f %12.0f %8.3f\n", op_names[op],
			       t == T_GRANTED ? "granted" : "unprotected", m[CFG_NONE], m[CFG_MIN],
			       m[CFG_JITD], ratio);
		}
	printf("rounds=%d resources=%d grants=%d (medians of per-round means)\n", ROUNDS,
	       N_RESOURCES, N_GRANTS);
	printf("change hooks (chmod: inode_setattr, as every change hook) unprotected=%.2f "
	       "granted=%.2f\n",
	       change[T_UNPROT], change[T_GRANTED]);
	printf("ratio unprotected=%.2f granted=%.2f\n", worst[T_UNPROT], worst[T_GRANTED]);
	ring_buffer__free(rb);
	jitd_bpf__destroy(jskel);
	bench_min_bpf__destroy(mskel);
	return 0;
}
