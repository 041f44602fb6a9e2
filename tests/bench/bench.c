// SPDX-License-Identifier: GPL-2.0-only
/*
 * `make bench`, run as root inside the VM (tests/bench/bench.sh): the cost a user pays, per
 * operation and for a small workload. Timed: open+close, fork+exec, TCP connect
 * (socket_create and socket_connect), chmod (inode_setattr, the cost every change hook adds
 * to a change) and the uses of an open descriptor that "revoke": "open" checks: pread and
 * pwrite of 1 byte (file_permission), 1 byte sent and echoed back on a loopback TCP socket
 * (socket_sendmsg and socket_recvmsg on both ends); on unprotected objects and on protected
 * objects the caller holds a grant for, under
 *   none         - no LSM programs attached,
 *   min          - the cheapest possible hooks (bench_min.bpf.c: one lookup, allow),
 *   jitd kernel  - jitd's programs from the skeleton, maps filled here as jitd fills them
 *                  (1,000 resources, 10,000 grants), a ring buffer nobody reads during a
 *                  batch (drained between batches, untimed),
 *   jitd + agent - the real agent, /usr/sbin/jitd, on a policy of the same 1,000 resources
 *                  with the worker's grants scheduled in it (no filler grants: jitd's
 *                  start-up grows much faster than linearly with policy grants, minutes
 *                  for 1,000 under TCG), running and recording every decision to its
 *                  audit file: the system cost (bench_agent.c),
 *   apparmor     - a profile confining the worker, fapolicyd - its daemon (peers.h; a peer
 *                  not built in or not available prints why instead of its rows).
 * Every timed operation runs in a worker process forked per (round, configuration) as an
 * unprivileged uid (BENCH_UID, after the configuration's own setup as root: AppArmor
 * confines the worker there); it sends each batch's mean through a pipe and waits for the
 * parent between batches. Configurations are interleaved round by round (TCG is noisy):
 * the agent is started before its worker, and stopped and its programs unpinned (as `jitd
 * --unload` does) after it, every round. Medians of per-round means are compared.
 *
 * Then, untimed rounds with bpf(BPF_ENABLE_STATS): the kernel's own run time and count of
 * each jitd program, kernel only and with the agent (one worker each). The macro workload
 * (as BENCH_UID, with no programs and with jitd + agent, in the same rounds): unpack a
 * source tree (/tests/src.tar, made by run.sh), find and grep over it, and build a C
 * program when the image has a compiler. Last line: "ratio unprotected=X.XX granted=Y.YY",
 * jitd + agent's median over min's, worst of the hot-path operations (open, exec, connect);
 * the lines before it give the same for the kernel-only configuration, the uses' (target:
 * unprotected read/write <= 1.03) and chmod's.
 *
 * Usage: bench NOP_BINARY [ROUNDS]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/mount.h>
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
#include "bench_agent.h"
#include "peers.h"

#define MAX_ROUNDS	64
#define DEFAULT_ROUNDS	5
#define N_RESOURCES	1000
#define N_GRANTS	10000
#define N_POLICY_GRANTS 0 /* filler grants in the agent's policy (see the top) */
#define BENCH_UID	1000
#define DIR		"/tmp/bench"
#define UNPROT_FILE	DIR "/data/a/b/unprotected.txt"
#define PROT_FILE	DIR "/data/a/b/protected.txt"
#define UNPROT_BIN	DIR "/nop"
#define PROT_BIN	DIR "/pnop"
#define UNPROT_ADDR	"127.0.0.1"
#define PROT_ADDR	"127.0.0.3"
#define PORT		7000
#define OPEN_FILE	DIR "/data/a/b/revoke-open.txt" /* "revoke": "open", resource 4 */
/* A tmpfs where nothing is protected, its file as deep below its root as UNPROT_FILE is
 * below /: open+close there (OP_OPEN_FS, unprotected only) walks no directory. */
#define FS_DIR	  DIR "/fs"
#define FS_FILE	  FS_DIR "/t/u/a/b/c/unprotected.txt"
#define OPEN_ADDR "127.0.0.4" /* "revoke": "open", resource 5 */
#define ECHO_PORT 7001
#define MACRO_TAR "/tests/src.tar"
#define MACRO_DIR DIR "/macro"
#define MACRO_CC  "/usr/bin/cc"

enum cfg { CFG_NONE, CFG_MIN, CFG_JITD, CFG_AGENT, CFG_APPARMOR, CFG_FAPOLICYD, N_CFG };
enum op { OP_OPEN, OP_OPEN_FS, OP_EXEC, OP_CONNECT, OP_CHMOD, OP_PREAD, OP_PWRITE, OP_ECHO, N_OP };
enum target { T_UNPROT, T_GRANTED, N_T };
enum phase { PH_UNPACK, PH_FIND, PH_GREP, PH_BUILD, N_PH };

static const char *cfg_names[] = {"none",	  "min",      "jitd kernel",
				  "jitd + agent", "apparmor", "fapolicyd"};
static const char *op_names[] = {"open+close", "open+close", "fork+exec", "tcp connect",
				 "chmod",      "pread 1B",   "pwrite 1B", "send+recv 1B"};
static const char *phase_names[] = {"unpack (tar -x)", "find", "grep -r", "build (cc)"};
static const int batch[] = {2000, 2000, 40, 300, 2000, 20000, 20000, 1000};

static int rounds = DEFAULT_ROUNDS;
static double samples[N_CFG][N_OP][N_T][MAX_ROUNDS];
static double macro[N_CFG][N_PH][MAX_ROUNDS]; /* CFG_NONE and CFG_AGENT */
static int avail[N_CFG];
static char why[N_CFG][256];   /* why a configuration is not measured */
static long agent_records;     /* audit records the agent wrote, all rounds */
static int macro_ok, macro_cc; /* the source tarball, a compiler */
static char macro_why[256];
static struct jitd_bpf *jskel;
static struct bench_min_bpf *mskel;
static struct ring_buffer *rb;
static const struct peer_objects peer_objs = {
	.prot_file = PROT_FILE,
	.prot_bin = PROT_BIN,
	.unprot_file = UNPROT_FILE,
	.unprot_bin = UNPROT_BIN,
	.prot_addr = PROT_ADDR,
	.port = PORT,
	.bench_uid = BENCH_UID,
	.n_rules = N_RESOURCES,
	.rule_dir = DIR "/res",
};

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

/* Does op have a row for target t? The other file system's open has no granted one. */
static int has_target(enum op op, enum target t)
{
	return op != OP_OPEN_FS || t == T_UNPROT;
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

	if (!has_target(op, t))
		return 0;
	start = now_ns();
	for (int i = 0; i < n; i++) {
		switch (op) {
		case OP_OPEN:
			do_open(t == T_GRANTED ? PROT_FILE : UNPROT_FILE);
			break;
		case OP_OPEN_FS:
			do_open(FS_FILE);
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
			if (iv.flags & JITD_INODE_SUBTREE) /* as jitd: its device may hold them */
				jitd_filter_set_dev(&filt, ik.dev);
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
	/* as jitd once settled: its maps are new, so every tracked file is counted */
	__u32 trust = JITD_OPEN_FSLOT_TRUST, on = 1;

	if (bpf_map_update_elem(bpf_map__fd(jskel->maps.open_fslot), &trust, &on, BPF_ANY))
		die("open_fslot");
	/* root exempt, as jitd's policy here (the worker is not): the controller reads the
	 * programs' statistics, which the guard refuses to anyone governed */
	__u32 root = 0, one = 1;

	if (bpf_map_update_elem(bpf_map__fd(jskel->maps.ex_uids), &root, &one, BPF_ANY))
		die("ex_uids");
	/* The worker (BENCH_UID, no loginuid) holds grants on resources 1..5. */
	/* jitd's default --audit-aggregate 5: repeated allows counted in the kernel; as jitd
	 * writes it for this policy: its one exempt uid compared inline, no exempt cgroup */
	struct jitd_config cfg = {.agg_interval_s = 5,
				  .flags = JITD_CFG_EXUID_INLINE | JITD_CFG_EXCG_NONE
									   << JITD_CFG_EXCG_SHIFT,
				  .n_ex_uids = 1,
				  .ex_uids = {0, JITD_CFG_NO_UID, JITD_CFG_NO_UID, JITD_CFG_NO_UID,
					      JITD_CFG_NO_UID, JITD_CFG_NO_UID}};

	if (bpf_map_update_elem(bpf_map__fd(jskel->maps.jconfig), &zero, &cfg, BPF_ANY))
		die("jconfig");
	for (uint32_t r = 1; r <= 5; r++) {
		gk = (struct jitd_grant_key){.resource = r, .uid = BENCH_UID, .cgroup = 0};
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

/* The agent's policy: the same 1,000 resources as fill_jitd_maps (same numbering; files,
 * directories as subtrees, networks; 4 and 5 "revoke": "open"), the worker's grants on 1..5
 * and filler grants for other uids, all scheduled in the policy until 2199. */
static void write_policy(void)
{
	FILE *f;

	mkdir(AGENT_DIR, 0755);
	f = fopen(AGENT_POLICY, "w");
	if (!f)
		die(AGENT_POLICY);
	fprintf(f, "{\"version\": 1, \"serial\": 1, \"resources\": {\n");
	fprintf(f, "\"r1\": {\"open\": [\"%s\"]},\n\"r2\": {\"exec\": [\"%s\"]},\n", PROT_FILE,
		PROT_BIN);
	fprintf(f, "\"r3\": {\"connect\": [\"%s:%d\"]},\n", PROT_ADDR, PORT);
	fprintf(f, "\"r4\": {\"open\": [\"%s\"], \"revoke\": \"open\"},\n", OPEN_FILE);
	fprintf(f, "\"r5\": {\"connect\": [\"%s:%d\"], \"revoke\": \"open\"}", OPEN_ADDR,
		ECHO_PORT);
	for (int res = 6; res <= N_RESOURCES; res++) {
		if (res % 3)
			fprintf(f, ",\n\"r%d\": {\"open\": [\"" DIR "/res/%d\"]}", res, res);
		else
			fprintf(f, ",\n\"r%d\": {\"connect\": [\"10.%d.0.0/%d:%d\"]}", res,
				res & 0xff, 16 + res % 17, 1000 + res);
	}
	fprintf(f, "},\n\"exempt\": {\"uids\": [0]},\n\"grants\": [\n");
	for (int i = 0; i < 5 + N_POLICY_GRANTS; i++)
		fprintf(f,
			"%s{\"resource\": \"r%d\", \"uid\": %d, \"not_after\": "
			"\"2199-01-01T00:00:00Z\"}",
			i ? ",\n" : "", i < 5 ? 1 + i : 6 + i % (N_RESOURCES - 5),
			i < 5 ? BENCH_UID : 2000 + i);
	fprintf(f, "]}\n");
	if (fclose(f))
		die(AGENT_POLICY);
}

/* The worker's side: BENCH_UID, no supplementary groups. */
static void drop_privileges(void)
{
	if (setgroups(0, NULL) || setgid(BENCH_UID) || setuid(BENCH_UID))
		die("drop privileges");
	if (getuid() != BENCH_UID || geteuid() != BENCH_UID)
		fail("still privileged");
}

static void send_double(int fd, double v)
{
	if (write(fd, &v, sizeof(v)) != sizeof(v))
		die("write (pipe)");
}

/* A double from the worker; 0 when it stopped (it said why on stderr). */
static int recv_double(int fd, double *v)
{
	return read(fd, v, sizeof(*v)) == sizeof(*v);
}

static void wait_go(int fd)
{
	char go;

	if (read(fd, &go, 1) != 1)
		_exit(1);
}

/* The worker of one (round, configuration): the configuration's setup still as root, then
 * BENCH_UID; opens the uses' descriptors and warms up, says it is ready (-1), then times
 * each batch and sends its mean (ns per operation), waiting for the parent's go before
 * each. Never returns. */
static void worker(enum cfg c, int out, int in)
{
	char reason[256];

	/* the profile that allows BENCH_UID the protected objects among its 1,000 filler deny
	 * rules: jitd's state (1,000 resources, grants on the protected ones) as AppArmor has it */
	if (c == CFG_APPARMOR && apparmor_confine(1, reason, sizeof(reason))) {
		fprintf(stderr, "bench: apparmor_confine: %s\n", reason);
		_exit(1);
	}
	drop_privileges();
	open_handles();
	/* Untimed: TCG translates the freshly JITed programs on first use. */
	for (int op = 0; op < N_OP; op++)
		for (int t = 0; t < N_T; t++)
			run_batch(op, t, 4);
	send_double(out, -1);
	wait_go(in);
	for (int op = 0; op < N_OP; op++)
		for (int t = 0; t < N_T; t++) {
			send_double(out, run_batch(op, t, batch[op]));
			wait_go(in);
		}
	close_handles();
	_exit(0);
}

static void reap(pid_t pid, const char *what)
{
	int status;

	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		fail(what);
}

/* Fork the worker of configuration c (already set up) and collect its batches into
 * res[op][t]. The parent drains the skeleton's ring buffer between batches (kernel only),
 * and checks that jitd tracks exactly the granted file and socket while the worker has
 * them open, and none once it has exited (file_free_security). */
static void run_worker(enum cfg c, double res[N_OP][N_T])
{
	int out[2], in[2];
	double ready;
	pid_t pid;

	if (pipe2(out, O_CLOEXEC) || pipe2(in, O_CLOEXEC))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(out[0]);
		close(in[1]);
		worker(c, out[1], in[0]);
	}
	close(out[1]);
	close(in[0]);
	if (!recv_double(out[0], &ready) || ready != -1)
		fail("the worker stopped before it was ready");
	if (c == CFG_JITD && tracked() != 2)
		fail("jitd does not track exactly the granted file and socket");
	if (c == CFG_JITD)
		ring_buffer__consume(rb);
	for (int op = 0; op < N_OP; op++)
		for (int t = 0; t < N_T; t++) {
			if (write(in[1], "g", 1) != 1 || !recv_double(out[0], &res[op][t]))
				fail("the worker stopped during a batch");
			if (c == CFG_JITD)
				ring_buffer__consume(rb); /* not timed */
		}
	if (write(in[1], "g", 1) != 1)
		die("write (pipe)");
	close(in[1]);
	close(out[0]);
	reap(pid, "the worker failed");
	if (c == CFG_JITD && tracked() > 0)
		fail("jitd still tracks closed files (file_free_security)");
}

/* One phase of the macro workload: sh -c cmd, its wall time in ns. */
static double macro_phase(const char *cmd)
{
	double t0 = now_ns();
	int rc = system(cmd);

	if (rc != 0) {
		fprintf(stderr, "bench: macro: '%s' exited %d\n", cmd, rc);
		_exit(1);
	}
	return now_ns() - t0;
}

/* The macro workload as BENCH_UID in MACRO_DIR/w (made here, removed after): unpack, find,
 * grep, build; each phase's time into m[phase][r] (build: -1 without a compiler). */
static void run_macro(double m[N_PH][MAX_ROUNDS], int r)
{
	static const char *cmds[] = {
		"tar -xf " MACRO_TAR " -C " MACRO_DIR "/w",
		"find " MACRO_DIR "/w -type f | wc -l >/dev/null",
		"grep -r -l bpf_map_lookup_elem " MACRO_DIR "/w >/dev/null",
		"cd " MACRO_DIR "/w && " MACRO_CC " -O1 -o hello ../hello.c && ./hello >/dev/null",
	};
	char *rm[] = {"/bin/rm", "-rf", MACRO_DIR "/w", NULL};
	int out[2];
	pid_t pid;

	mkdir(MACRO_DIR, 0755);
	if (mkdir(MACRO_DIR "/w", 0755) || chown(MACRO_DIR "/w", BENCH_UID, BENCH_UID))
		die(MACRO_DIR "/w");
	if (pipe2(out, O_CLOEXEC))
		die("pipe");
	pid = fork();
	if (pid == 0) {
		drop_privileges();
		for (int ph = 0; ph < N_PH; ph++)
			send_double(out[1],
				    ph == PH_BUILD && !macro_cc ? -1 : macro_phase(cmds[ph]));
		_exit(0);
	}
	close(out[1]);
	for (int ph = 0; ph < N_PH; ph++)
		if (!recv_double(out[0], &m[ph][r]))
			fail("the macro workload failed");
	close(out[0]);
	reap(pid, "the macro workload failed");
	pid = fork();
	if (pid == 0) {
		execv(rm[0], rm);
		_exit(127);
	}
	reap(pid, "rm -rf " MACRO_DIR "/w");
}

/* Set configuration c up as root before its worker: attach, start the agent or the peer.
 * 0, or -1 with why[c] set (the configuration is then not measured). */
static int setup(enum cfg c)
{
	switch (c) {
	case CFG_MIN:
	case CFG_JITD:
		attach(c);
		return 0;
	case CFG_AGENT:
		return agent_start(why[c], sizeof(why[c]));
	case CFG_FAPOLICYD:
		return fapolicyd_start(&peer_objs, why[c], sizeof(why[c]));
	default:
		return 0;
	}
}

static void teardown(enum cfg c)
{
	long n;

	switch (c) {
	case CFG_MIN:
	case CFG_JITD:
		detach();
		break;
	case CFG_AGENT:
		n = agent_stop(why[c], sizeof(why[c]));
		if (n < 0) {
			fprintf(stderr, "bench: removing the agent's programs: %s\n", why[c]);
			fail("the agent's programs stay attached");
		}
		agent_records += n;
		break;
	case CFG_FAPOLICYD:
		fapolicyd_stop();
		break;
	default:
		break;
	}
}

/* One round of configuration c: set up, the worker, the macro workload (none and the
 * agent), tear down. A setup that fails in the first round makes c unavailable; later, it
 * is a failure of the bench. */
static void run_round(enum cfg c, int r)
{
	double res[N_OP][N_T];

	if (setup(c)) {
		if (r > 0) {
			fprintf(stderr, "bench: %s: %s\n", cfg_names[c], why[c]);
			fail("a configuration that worked stopped working");
		}
		avail[c] = 0;
		return;
	}
	run_worker(c, res);
	for (int op = 0; op < N_OP; op++)
		for (int t = 0; t < N_T; t++)
			samples[c][op][t][r] = res[op][t];
	if (macro_ok && (c == CFG_NONE || c == CFG_AGENT))
		run_macro(macro[c], r);
	teardown(c);
}

/* ---- the kernel's own cost per program (BPF_ENABLE_STATS) */

#define MAX_PROGS 128

struct prog_stat {
	__u32 id;
	char name[BPF_OBJ_NAME_LEN];
	__u64 cnt, ns;
};

/* The run count and time of every loaded LSM program, as the kernel keeps them. */
static int snap_progs(struct prog_stat *s)
{
	static struct bpf_prog_info info[MAX_PROGS];
	__u32 ids[MAX_PROGS];
	int n = lsm_progs(ids, info, MAX_PROGS);

	for (int i = 0; i < n; i++) {
		s[i].id = ids[i];
		memcpy(s[i].name, info[i].name, sizeof(s[i].name));
		s[i].cnt = info[i].run_cnt;
		s[i].ns = info[i].run_time_ns;
	}
	return n;
}

static struct prog_stat pstat[2][MAX_PROGS]; /* kernel only, agent: the deltas */
static int n_pstat[2];

/* One untimed round of c (CFG_JITD or CFG_AGENT) with run-time statistics on: the
 * programs that ran, their calls and time, into pstat[k]. */
static void stats_round(enum cfg c, int k)
{
	static struct prog_stat before[MAX_PROGS], after[MAX_PROGS];
	double res[N_OP][N_T];
	int nb, na, fd;

	if (!avail[c] || setup(c))
		return;
	fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (fd < 0)
		die("bpf(BPF_ENABLE_STATS)");
	nb = snap_progs(before);
	run_worker(c, res);
	na = snap_progs(after);
	close(fd);
	teardown(c);
	for (int i = 0; i < na; i++) {
		struct prog_stat d = after[i];

		for (int j = 0; j < nb; j++)
			if (before[j].id == d.id) {
				d.cnt -= before[j].cnt;
				d.ns -= before[j].ns;
			}
		if (d.cnt)
			pstat[k][n_pstat[k]++] = d;
	}
}

static const struct prog_stat *find_stat(int k, const char *name)
{
	for (int i = 0; i < n_pstat[k]; i++)
		if (!strcmp(pstat[k][i].name, name))
			return &pstat[k][i];
	return NULL;
}

static void print_stats(void)
{
	printf("\nper program, from the kernel (BPF_ENABLE_STATS run_time_ns/run_cnt), one "
	       "untimed round each (stats on add two clock reads per call)\n");
	printf("%-16s %12s %10s %12s %10s\n", "program", "kern calls", "ns/call", "agent calls",
	       "ns/call");
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < n_pstat[k]; i++) {
			const struct prog_stat *s[2];

			if (k == 1 && find_stat(0, pstat[1][i].name))
				continue; /* printed with the kernel-only row */
			s[0] = find_stat(0, pstat[k][i].name);
			s[1] = find_stat(1, pstat[k][i].name);
			printf("%-16s", pstat[k][i].name);
			for (int j = 0; j < 2; j++)
				if (s[j])
					printf(" %12llu %10.0f", (unsigned long long)s[j]->cnt,
					       (double)s[j]->ns / s[j]->cnt);
				else
					printf(" %12s %10s", "-", "-");
			printf("\n");
		}
	if (!n_pstat[0] && !n_pstat[1])
		printf("(no program ran with statistics on)\n");
}

/* ---- results */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v)
{
	double tmp[MAX_ROUNDS];

	memcpy(tmp, v, rounds * sizeof(double));
	qsort(tmp, rounds, sizeof(double), cmp_double);
	return tmp[rounds / 2];
}

/* Whether configuration c has a row for op (a peer without an equivalent check has not). */
static int comparable(enum cfg c, enum op op)
{
	if (op != OP_CONNECT)
		return 1;
	if (c == CFG_FAPOLICYD)
		return 0; /* fanotify sees files, never destinations */
	return c != CFG_APPARMOR || apparmor_has_net();
}

struct ratios {
	double hot[N_T], change[N_T], rw[N_T], echo[N_T];
};

/* c's medians over min's, per group of operations (worst of the group). */
static void ratios_of(enum cfg c, struct ratios *q)
{
	memset(q, 0, sizeof(*q));
	for (int op = 0; op < N_OP; op++)
		for (int t = 0; t < N_T; t++) {
			if (!has_target(op, t))
				continue;
			double ratio = median(samples[c][op][t]) / median(samples[CFG_MIN][op][t]);
			double *slot = op == OP_CHMOD			   ? &q->change[t]
				       : op == OP_ECHO			   ? &q->echo[t]
				       : op == OP_PREAD || op == OP_PWRITE ? &q->rw[t]
									   : &q->hot[t];

			if (ratio > *slot)
				*slot = ratio;
		}
}

static void print_micro(void)
{
	printf("%-12s %-12s", "operation", "object");
	for (int c = 0; c < N_CFG; c++)
		if (avail[c])
			printf(" %13s", cfg_names[c]);
	printf(" %8s%s\n", "kern/min", avail[CFG_AGENT] ? " agent/min" : "");
	for (int op = 0; op < N_OP; op++)
		for (int t = 0; t < N_T; t++) {
			if (!has_target(op, t))
				continue;
			printf("%-12s %-12s", op_names[op],
			       t == T_GRANTED	  ? "granted"
			       : op == OP_OPEN_FS ? "unprot tmpfs"
						  : "unprotected");
			for (int c = 0; c < N_CFG; c++)
				if (!avail[c])
					continue;
				else if (!comparable(c, op))
					printf(" %13s", "no equivalent");
				else
					printf(" %13.0f", median(samples[c][op][t]));
			printf(" %8.3f",
			       median(samples[CFG_JITD][op][t]) / median(samples[CFG_MIN][op][t]));
			if (avail[CFG_AGENT])
				printf(" %9.3f", median(samples[CFG_AGENT][op][t]) /
							 median(samples[CFG_MIN][op][t]));
			printf("\n");
		}
	printf("ns per operation: medians of %d per-round means, as uid %d; resources=%d, "
	       "grants=%d (kernel) / %d (agent's policy)\n",
	       rounds, BENCH_UID, N_RESOURCES, N_GRANTS, 5 + N_POLICY_GRANTS);
	for (int c = 0; c < N_CFG; c++)
		if (!avail[c])
			printf("%s: not measured: %s\n", cfg_names[c], why[c]);
	if (avail[CFG_AGENT])
		printf("jitd + agent: %ld audit records written in %d rounds\n", agent_records,
		       rounds);
}

static void print_macro(void)
{
	double tot[2][MAX_ROUNDS] = {};
	const enum cfg mc[2] = {CFG_NONE, CFG_AGENT};

	printf("\nmacro workload (uid %d, 1,000 protected resources), ms, medians of %d "
	       "rounds\n",
	       BENCH_UID, rounds);
	if (!macro_ok) {
		printf("not measured: %s\n", macro_why);
		return;
	}
	if (!avail[CFG_AGENT]) {
		printf("not measured: jitd + agent: %s\n", why[CFG_AGENT]);
		return;
	}
	printf("%-18s %12s %14s %8s\n", "phase", "none ms", "jitd+agent ms", "ratio");
	for (int ph = 0; ph < N_PH; ph++) {
		if (ph == PH_BUILD && !macro_cc) {
			printf("%-18s %12s %14s %8s\n", phase_names[ph], "-", "-", "-");
			continue;
		}
		for (int k = 0; k < 2; k++)
			for (int r = 0; r < rounds; r++)
				tot[k][r] += macro[mc[k]][ph][r];
		printf("%-18s %12.1f %14.1f %8.3f\n", phase_names[ph],
		       median(macro[CFG_NONE][ph]) / 1e6, median(macro[CFG_AGENT][ph]) / 1e6,
		       median(macro[CFG_AGENT][ph]) / median(macro[CFG_NONE][ph]));
	}
	printf("%-18s %12.1f %14.1f %8.3f\n", "total", median(tot[0]) / 1e6, median(tot[1]) / 1e6,
	       median(tot[1]) / median(tot[0]));
	if (!macro_cc)
		printf("build: not measured: %s\n", macro_why);
}

static void print_summary(void)
{
	struct ratios k, a;

	ratios_of(CFG_JITD, &k);
	printf("\nchange hooks (chmod: inode_setattr, as every change hook) unprotected=%.2f "
	       "granted=%.2f (jitd kernel)\n",
	       k.change[T_UNPROT], k.change[T_GRANTED]);
	printf("use hooks (\"revoke\": \"open\"; granted: tracked) read/write unprotected=%.3f "
	       "granted=%.3f send+recv unprotected=%.3f granted=%.3f (jitd kernel; target: "
	       "read/write unprotected <= 1.03)\n",
	       k.rw[T_UNPROT], k.rw[T_GRANTED], k.echo[T_UNPROT], k.echo[T_GRANTED]);
	printf("jitd kernel over cheapest hooks (open, exec, connect): unprotected=%.2f "
	       "granted=%.2f\n",
	       k.hot[T_UNPROT], k.hot[T_GRANTED]);
	if (!avail[CFG_AGENT]) {
		printf("no agent (%s): the ratio below is the kernel's alone\n", why[CFG_AGENT]);
		printf("ratio unprotected=%.2f granted=%.2f\n", k.hot[T_UNPROT], k.hot[T_GRANTED]);
		return;
	}
	ratios_of(CFG_AGENT, &a);
	printf("change hooks unprotected=%.2f granted=%.2f, use hooks read/write "
	       "unprotected=%.3f granted=%.3f send+recv unprotected=%.3f granted=%.3f (jitd + "
	       "agent)\n",
	       a.change[T_UNPROT], a.change[T_GRANTED], a.rw[T_UNPROT], a.rw[T_GRANTED],
	       a.echo[T_UNPROT], a.echo[T_GRANTED]);
	printf("jitd + agent over cheapest hooks, worst of open, exec, connect (targets: "
	       "unprotected <= 1.03, granted <= 1.20):\n");
	printf("ratio unprotected=%.2f granted=%.2f\n", a.hot[T_UNPROT], a.hot[T_GRANTED]);
}

/* The files, binaries, listeners, BPF objects, the agent's policy, the peers and the
 * macro workload's inputs. */
static pid_t prepare(const char *nop)
{
	pid_t listener;
	FILE *f;

	mkdir(DIR, 0755);
	mkdir(DIR "/res", 0755);
	mkdir(DIR "/data", 0755);
	mkdir(DIR "/data/a", 0755);
	mkdir(DIR "/data/a/b", 0755);
	one_byte_file(UNPROT_FILE);
	touch_file(PROT_FILE);
	if (mkdir(FS_DIR, 0755) || mount("jitd-bench", FS_DIR, "tmpfs", 0, "size=1m,mode=0755") ||
	    mkdir(FS_DIR "/t", 0755) || mkdir(FS_DIR "/t/u", 0755) ||
	    mkdir(FS_DIR "/t/u/a", 0755) || mkdir(FS_DIR "/t/u/a/b", 0755) ||
	    mkdir(FS_DIR "/t/u/a/b/c", 0755))
		die(FS_DIR);
	one_byte_file(FS_FILE);
	one_byte_file(OPEN_FILE);
	/* the worker chmods and writes them */
	if (chown(UNPROT_FILE, BENCH_UID, BENCH_UID) || chown(PROT_FILE, BENCH_UID, BENCH_UID) ||
	    chown(OPEN_FILE, BENCH_UID, BENCH_UID))
		die("chown");
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
	write_policy();

	for (int c = 0; c < N_CFG; c++)
		avail[c] = 1;
	if (agent_available(why[CFG_AGENT], sizeof(why[CFG_AGENT])))
		avail[CFG_AGENT] = 0;
	if (apparmor_setup(&peer_objs, why[CFG_APPARMOR], sizeof(why[CFG_APPARMOR])))
		avail[CFG_APPARMOR] = 0;

	macro_ok = access(MACRO_TAR, R_OK) == 0;
	macro_cc = access(MACRO_CC, X_OK) == 0;
	snprintf(macro_why, sizeof(macro_why), "%s",
		 !macro_ok ? "no " MACRO_TAR " in this image"
			   : "no compiler (" MACRO_CC ") in this image");
	mkdir(MACRO_DIR, 0755);
	f = fopen(MACRO_DIR "/hello.c", "w");
	if (!f ||
	    fputs("#include <stdio.h>\n#include <string.h>\n\nint main(int argc, char **argv)\n"
		  "{\n\tsize_t n = 0;\n\n\tfor (int i = 0; i < argc; i++)\n"
		  "\t\tn += strlen(argv[i]);\n\tprintf(\"%zu\\n\", n);\n\treturn 0;\n}\n",
		  f) < 0 ||
	    fclose(f))
		die(MACRO_DIR "/hello.c");
	return listener;
}

int main(int argc, char **argv)
{
	const char *nop = argc > 1 ? argv[1] : "/tests/nop";
	pid_t listener;

	if (argc > 2)
		rounds = atoi(argv[2]);
	if (rounds < 1 || rounds > MAX_ROUNDS)
		fail("usage: bench NOP_BINARY [ROUNDS (1-64)]");
	listener = prepare(nop);

	for (int r = 0; r < rounds; r++) {
		for (int i = 0; i < N_CFG; i++) {
			enum cfg c = (r + i) % N_CFG; /* rotate the order each round */

			if (avail[c])
				run_round(c, r);
		}
		fprintf(stderr, "bench: round %d/%d\n", r + 1, rounds);
	}
	stats_round(CFG_JITD, 0);
	stats_round(CFG_AGENT, 1);
	kill(listener, SIGKILL);
	close(echo_fd);

	print_micro();
	print_stats();
	print_macro();
	print_summary();
	ring_buffer__free(rb);
	jitd_bpf__destroy(jskel);
	bench_min_bpf__destroy(mskel);
	return 0;
}
