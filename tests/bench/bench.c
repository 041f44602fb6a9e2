// SPDX-License-Identifier: GPL-2.0-only
/*
 * `make bench`, run as root inside the VM (no jitd running): time per
 * operation of open+close, fork+exec, TCP connect (socket_create and socket_connect),
 * chmod (inode_setattr, the cost every change hook adds), and the uses of an open
 * descriptor that "revoke": "open" checks: pread and pwrite of 1 byte at offset 0
 * (file_permission), and 1 byte sent and echoed back on a connected loopback TCP
 * socket (socket_sendmsg and socket_recvmsg on both ends), under
 *   none  - no LSM programs attached,
 *   min   - the cheapest possible hooks (bench_min.bpf.c: one lookup, allow),
 *   jitd  - jitd's own programs with 1,000 resources and 10,000 active grants,
 * on unprotected objects and on a protected object the caller holds a grant
 * for. For the uses, the policy holds a "revoke": "open" file and destination, and the
 * granted descriptors are theirs, opened and connected under a grant while jitd's
 * programs are attached, so that jitd tracks them. Configurations are interleaved
 * round by round (TCG is noisy) and the medians compared. Last line:
 * "ratio unprotected=X.XX granted=Y.YY", jitd's median over min's, worst of the
 * hot-path operations (open, exec, connect); the line before it gives the uses'
 * (worst of pread and pwrite, and send+recv; target: unprotected read/write <= 1.03),
 * the one before that chmod's, the cost a change hook adds to a change.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
#define OPEN_FILE   DIR "/data/a/b/revoke-open.txt" /* "revoke": "open", resource 4 */
#define OPEN_ADDR   "127.0.0.4"			    /* "revoke": "open", resource 5 */
#define ECHO_PORT   7001

enum cfg { CFG_NONE, CFG_MIN, CFG_JITD, N_CFG };
enum op { OP_OPEN, OP_EXEC, OP_CONNECT, OP_CHMOD, OP_PREAD, OP_PWRITE, OP_ECHO, N_OP };
enum target { T_UNPROT, T_GRANTED, N_T };

static const char *op_names[] = {"open+close", "fork+exec", "tcp connect", "chmod",
				 "pread 1B",   "pwrite 1B", "send+recv 1B"};
static const int batch[] = {2000, 40, 300, 2000, 20000, 20000, 1000};

static double samples[N_CFG][N_OP][N_T][ROUNDS];
static struct jitd_bpf *jskel;
static struct bench_min_bpf *mskel;
static struct ring_buffer *rb;

/* The descriptors the uses work on, per target: a file open for reading and writing, and
 * both ends of a loopback TCP connection (cli: the connected one, which jitd tracks when
 * granted; srv: its accepted peer, which echoes). */
static int rw_fd[N_T], cli_fd[N_T], srv_fd[N_T];
static int echo_fd; /* listening on ECHO_PORT */

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

/* A benchmark failure that sets no errno. */
static void fail(const char *what)
{
	fprintf(stderr, "bench: %s\n", what);
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

/* A file of one byte: what pread reads. */
static void one_byte_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, "x", 1) != 1)
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

static void start_echo_listener(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(ECHO_PORT)};
	int one = 1;

	echo_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	if (echo_fd < 0 || setsockopt(echo_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(echo_fd, (struct sockaddr *)&sin, sizeof(sin)) || listen(echo_fd, 16))
		die("listen (echo)");
}

/* A TCP connection to addr:ECHO_PORT, both ends in this process: returns the connected
 * end, *peer the accepted one. No Nagle delay, and a reset at close (no TIME_WAIT). */
static int echo_connect(const char *addr, int *peer)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(ECHO_PORT)};
	struct linger lg = {1, 0};
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, addr, &sin.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		die("connect (echo)");
	*peer = accept4(echo_fd, NULL, NULL, SOCK_CLOEXEC);
	if (*peer < 0)
		die("accept (echo)");
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    setsockopt(*peer, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
		die("setsockopt (echo)");
	return fd;
}

/* Open the uses' descriptors: under jitd, with its programs attached, so that the granted
 * ones are tracked. */
static void open_handles(void)
{
	for (int t = 0; t < N_T; t++) {
		rw_fd[t] = open(t == T_GRANTED ? OPEN_FILE : UNPROT_FILE, O_RDWR | O_CLOEXEC);
		if (rw_fd[t] < 0)
			die(t == T_GRANTED ? OPEN_FILE : UNPROT_FILE);
		cli_fd[t] = echo_connect(t == T_GRANTED ? OPEN_ADDR : UNPROT_ADDR, &srv_fd[t]);
	}
}

/* Close them: under jitd, before its programs are detached, so that file_free_security
 * forgets the tracked ones (a stale entry could match a later file at the same address). */
static void close_handles(void)
{
	for (int t = 0; t < N_T; t++) {
		close(rw_fd[t]);
		close(cli_fd[t]);
		close(srv_fd[t]);
	}
}

/* One byte there and back: the connected end sends, its peer receives and echoes, the
 * connected end receives. */
static void do_echo(enum target t)
{
	char byte = 'x';

	if (send(cli_fd[t], &byte, 1, 0) != 1 || recv(srv_fd[t], &byte, 1, 0) != 1 ||
	    send(srv_fd[t], &byte, 1, 0) != 1 || recv(cli_fd[t], &byte, 1, 0) != 1)
		die("send/recv");
}

static int drain(void *ctx, void *data, size_t len)
{
	return 0;
}

static double run_batch(enum op op, enum target t, int n)
{
	char byte = 'x';
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
		case OP_CHMOD:
			if (chmod(t == T_GRANTED ? PROT_FILE : UNPROT_FILE, 0644))
				die("chmod");
			break;
		case OP_PREAD:
			if (pread(rw_fd[t], &byte, 1, 0) != 1)
				die("pread");
			break;
		case OP_PWRITE:
			if (pwrite(rw_fd[t], &byte, 1, 0) != 1)
				die("pwrite");
			break;
		default:
			do_echo(t);
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

/* jitd's maps as jitd fills them: 1,000 resources (files, a directory, networks, two of
 * them "revoke": "open") and 10,000 grants, among them the caller's grants on the
 * protected objects. */
static void fill_jitd_maps(void)
{
	int inodes = bpf_map__fd(jskel->maps.inodes);
	int nets = bpf_map__fd(jskel->maps.nets), grants = bpf_map__fd(jskel->maps.grants);
	int uses = bpf_map__fd(jskel->maps.grant_use);
	struct jitd_grant_use gu = {};
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
	/* Resource 4: the "revoke": "open" file, 5: the "revoke": "open" destination. */
	ik.dev = kdev_of(OPEN_FILE, &ino);
	ik.ino = ino;
	iv.resource = 4;
	iv.flags = JITD_INODE_REVOKE_OPEN;
	jitd_filter_set(&filt, ik.dev, ik.ino);
	if (bpf_map_update_elem(inodes, &ik, &iv, BPF_ANY))
		die("inodes");
	nk.port = htons(ECHO_PORT);
	inet_pton(AF_INET, OPEN_ADDR, &nk.addr[12]);
	nv.resource = 5;
	nv.flags = JITD_NET_REVOKE_OPEN;
	if (bpf_map_update_elem(nets, &nk, &nv, BPF_ANY))
		die("nets");
	nv.flags = 0;
	/* 995 more: real files and directories on the same filesystem, and networks. */
	for (res = 6; res <= N_RESOURCES; res++) {
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
	/* The caller (root, no loginuid) holds grants on resources 1..5. */
	/* jitd's default --audit-aggregate 5: repeated allows counted in the kernel */
	struct jitd_config cfg = {.agg_interval_s = 5};

	if (bpf_map_update_elem(bpf_map__fd(jskel->maps.jconfig), &zero, &cfg, BPF_ANY))
		die("jconfig");
	for (uint32_t r = 1; r <= 5; r++) {
		gk = (struct jitd_grant_key){.resource = r, .uid = 0, .cgroup = 0};
		gv.grant_id = r;
		/* as jitd: the usage entry before the key, so granted rows pay the counting */
		if (bpf_map_update_elem(uses, &gv.grant_id, &gu, BPF_ANY))
			die("grant_use");
		if (bpf_map_update_elem(grants, &gk, &gv, BPF_ANY))
			die("grants");
	}
	for (uint32_t i = 5; i < N_GRANTS; i++) {
		gk.resource = 1 + i % N_RESOURCES;
		gk.uid = 2000 + i;
		gk.cgroup = i % 4 ? 0 : 100 + i;
		gv.grant_id = 100 + i;
		if (bpf_map_update_elem(uses, &gv.grant_id, &gu, BPF_ANY))
			die("grant_use");
		if (bpf_map_update_elem(grants, &gk, &gv, BPF_ANY))
			die("grants");
	}
}

/* The number of open files and sockets jitd tracks ("revoke": "open"). */
static int tracked(void)
{
	int fd = bpf_map__fd(jskel->maps.open_files), n = 0;
	__u64 key, next;

	for (void *prev = NULL; !bpf_map_get_next_key(fd, prev, &next); prev = &key, n++)
		key = next;
	return n;
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
	double worst[N_T] = {0, 0}, change[N_T] = {0, 0}, rw[N_T] = {0, 0}, echo[N_T] = {0, 0};
	pid_t listener;

	mkdir(DIR, 0755);
	mkdir(DIR "/res", 0755);
	mkdir(DIR "/data", 0755);
	mkdir(DIR "/data/a", 0755);
	mkdir(DIR "/data/a/b", 0755);
	one_byte_file(UNPROT_FILE);
	touch_file(PROT_FILE);
	one_byte_file(OPEN_FILE);
	copy_file(nop, UNPROT_BIN);
	copy_file(nop, PROT_BIN);
	listener = start_listener();
	start_echo_listener();

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
	open_handles();
	for (int op = 0; op < N_OP; op++)
		for (int t = 0; t < N_T; t++)
			run_batch(op, t, batch[op]);
	close_handles();

	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < N_CFG; i++) {
			enum cfg c = (r + i) % N_CFG; /* rotate the order each round */

			attach(c);
			open_handles();
			/* Exactly the granted file and connection, or the granted rows would time
			 * something else (the unprotected ones must not be tracked). */
			if (c == CFG_JITD && tracked() != 2)
				fail("jitd does not track exactly the granted file and socket");
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
			close_handles();
			if (c == CFG_JITD && tracked() > 0)
				fail("jitd still tracks closed files (file_free_security)");
			detach();
		}
		fprintf(stderr, "bench: round %d/%d\n", r + 1, ROUNDS);
	}
	kill(listener, SIGKILL);
	close(echo_fd);

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
			else if (op == OP_ECHO)
				echo[t] = ratio; /* uses: reported on their own line */
			else if (op == OP_PREAD || op == OP_PWRITE)
				rw[t] = ratio > rw[t] ? ratio : rw[t];
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
	printf("use hooks (\"revoke\": \"open\"; granted: tracked) read/write unprotected=%.3f "
	       "granted=%.3f send+recv unprotected=%.3f granted=%.3f (target: read/write "
	       "unprotected <= 1.03)\n",
	       rw[T_UNPROT], rw[T_GRANTED], echo[T_UNPROT], echo[T_GRANTED]);
	printf("ratio unprotected=%.2f granted=%.2f\n", worst[T_UNPROT], worst[T_GRANTED]);
	ring_buffer__free(rb);
	jitd_bpf__destroy(jskel);
	bench_min_bpf__destroy(mskel);
	return 0;
}
