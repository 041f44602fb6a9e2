// SPDX-License-Identifier: GPL-2.0-only
/*
 * probe: try one access the way a user would and say what the kernel answered.
 *
 * Every access subcommand prints "ok" or the errno name ("EPERM") on stdout and exits
 * 0 on success, 10 on EPERM, 11 on any other error (2 on usage errors). The wrapper
 * subcommands (as, loginuid, cgexec, suroot) change who or where the process is and
 * execvp the rest of the command line, so they chain:
 *
 *	probe loginuid 1001 probe as 1001 probe open /srv/secret.txt
 *
 * hold (and scm-recv) opens or connects while the caller is granted, then prints one
 * "ROUTE=RESULT" line per route each time its GO fifo gives a line: what an open
 * descriptor can still do after the grant ended ("revoke": "open").
 *
 * Built static so it runs in the VM's initramfs with nothing else around it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <linux/if_ether.h>
#include <linux/aio_abi.h>
#include <linux/io_uring.h>
#include <linux/bpf.h>
#include <linux/sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <signal.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#define EXIT_EPERM 10
#define EXIT_OTHER 11

extern char **environ;

static const char *errname(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "EUNKNOWN";
}

/* Report the outcome of an access: "ok" or the errno name, and the matching exit code. */
static int report(int err)
{
	if (!err) {
		printf("ok\n");
		fflush(stdout);
		return 0;
	}
	printf("%s\n", errname(err));
	fflush(stdout);
	return err == EPERM ? EXIT_EPERM : EXIT_OTHER;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: probe open PATH | exec PATH [ARGS] | execveat PATH | fexecve PATH |\n"
		"             reopen PATH | copyexec SRC DST | link SRC DST | symlink-open SRC DST "
		"|\n"
		"             rename A B | exchange A B | connect ADDR PORT | sendto ADDR PORT | "
		"ctl SOCKET LINE "
		"|\n"
		"             as UID[:GID] CMD... | loginuid N CMD... | cgexec CGPATH CMD... |\n"
		"             suroot CMD... | flood N PATH | open-many N PATH SECS | open-repeat N "
		"PATH GAP_MS | setloginuid N "
		"| chmod PATH MODE |\n"
		"             chown PATH UID | truncate PATH | setxattr PATH | rmxattr PATH |\n"
		"             unlink PATH | rmdir PATH | byhandle PATH MOUNT | rawsock | raw6sock "
		"|\n"
		"             packetsock | udpsock | sendto-unspec ADDR PORT |\n"
		"             opath-hold PATH READY GO | deepmk DIR N | deepdirs DIR N |\n"
		"             deepopen DIR N |\n"
		"             deepmv SRC DIR N | sctp-connect ADDR PORT |\n"
		"             sctp-connectx PORT ADDR... | jitd-bpf-ids |\n"
		"             bpf-getfd map|prog|link ID | bpf-grab SECONDS | bpf-objget PATH |\n"
		"             bpf-load socket|kprobe|tracepoint|lsm|tracing | kill PID SIG |\n"
		"             umount PATH | write PATH | create PATH | mkfifo PATH |\n"
		"             clone-into CGDIR |\n"
		"             poll-open PATH WANT INTERVAL_MS TIMEOUT_MS [STOPFILE] | realtime |\n"
		"             clock-from ADDR PORT | clock-step SECONDS |\n"
		"             hold file:PATH|dir:PATH|tcp:ADDR:PORT|udp:ADDR:PORT READY GO |\n"
		"             scm-send SOCKPATH SPEC | scm-recv SOCKPATH READY GO |\n"
		"             poll-read PATH WANT INTERVAL_MS TIMEOUT_MS | serve ADDR PORT\n");
	return 2;
}

/*
 * Run do_exec(arg) in a child and return 0 if the exec succeeded, else the errno of the
 * failed exec (passed back through a close-on-exec pipe). The child's exit status, when
 * the exec worked, goes to stderr only: what we report is whether the kernel let it run.
 */
static int run_child(int (*do_exec)(void *), void *arg)
{
	int pfd[2], status, err = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return errno;
	pid = fork();
	if (pid < 0) {
		err = errno;
		close(pfd[0]);
		close(pfd[1]);
		return err;
	}
	if (pid == 0) {
		close(pfd[0]);
		do_exec(arg);
		err = errno;
		if (write(pfd[1], &err, sizeof(err)) < 0)
			_exit(126);
		_exit(127);
	}
	close(pfd[1]);
	n = read(pfd[0], &err, sizeof(err));
	close(pfd[0]);
	if (n != sizeof(err))
		err = 0; /* pipe closed by a successful exec */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!err && WIFEXITED(status) && WEXITSTATUS(status))
		fprintf(stderr, "probe: child exited %d\n", WEXITSTATUS(status));
	if (!err && WIFSIGNALED(status))
		fprintf(stderr, "probe: child killed by signal %d\n", WTERMSIG(status));
	return err;
}

struct exec_args {
	const char *path;
	int fd;
	char **argv;
};

static int exec_path(void *p)
{
	struct exec_args *a = p;

	return execv(a->path, a->argv);
}

static int exec_at(void *p)
{
	struct exec_args *a = p;

	return syscall(SYS_execveat, a->fd, "", a->argv, environ, AT_EMPTY_PATH);
}

static int exec_fd(void *p)
{
	struct exec_args *a = p;

	return fexecve(a->fd, a->argv, environ);
}

static int cmd_open(const char *path)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return report(errno);
	close(fd);
	return report(0);
}

static int run_cmd(char **argv);

/*
 * open-repeat N PATH GAP_MS [CMD...]: open (and close) PATH N times in this one process,
 * GAP_MS apart; prints "PID OK EPERM OTHER" (the audit records of those uses carry PID).
 * Exits 0, or with CMD execs it (the same pid, another program).
 */
static int cmd_open_repeat(const char *n_s, const char *path, const char *gap_s, char **cmd)
{
	long n = atol(n_s), gap = atol(gap_s), ok = 0, eperm = 0, other = 0;
	struct timespec ts = {.tv_sec = gap / 1000, .tv_nsec = gap % 1000 * 1000000};

	for (long i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY);

		if (fd >= 0)
			ok++, close(fd);
		else if (errno == EPERM)
			eperm++;
		else
			other++;
		if (gap && i + 1 < n)
			nanosleep(&ts, NULL);
	}
	printf("%d %ld %ld %ld\n", getpid(), ok, eperm, other);
	fflush(stdout);
	return cmd && *cmd ? run_cmd(cmd) : 0;
}

/* The wall clock, seconds with microseconds: the clock the fleet database's times compare
 * with (busybox date has no sub-second output). */
static double realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * poll-open PATH WANT INTERVAL_MS TIMEOUT_MS [STOPFILE]: open PATH every INTERVAL_MS until
 * the answer is WANT ("ok", "EPERM", ...), TIMEOUT_MS pass or STOPFILE exists; all in one
 * process, so that the time of the change is not blurred by a fork per try. Prints
 * "WANT BEFORE AFTER TRIES LAST_OTHER" (wall-clock seconds around the first WANT try and of
 * the last try that answered otherwise, 0 if none) and exits 0; else "timeout|stopped
 * LAST TRIES" and exits 1.
 */
static int cmd_poll_open(int argc, char **argv)
{
	const char *path = argv[0], *want = argv[1], *stop = argc > 4 ? argv[4] : NULL;
	long interval = atol(argv[2]), timeout = atol(argv[3]), tries = 0;
	double start = realtime(), other = 0;
	char last[32] = "none";
	struct stat st;

	if (interval < 1 || timeout < 1)
		return usage();
	for (;;) {
		double before = realtime(), after;
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		int err = fd < 0 ? errno : 0;

		after = realtime();
		if (fd >= 0)
			close(fd);
		tries++;
		snprintf(last, sizeof(last), "%s", err ? errname(err) : "ok");
		if (!strcmp(last, want)) {
			printf("%s %.6f %.6f %ld %.6f\n", want, before, after, tries, other);
			return 0;
		}
		other = before;
		if (stop && !stat(stop, &st)) {
			printf("stopped %s %ld\n", last, tries);
			return 1;
		}
		if ((after - start) * 1000 >= timeout) {
			printf("timeout %s %ld\n", last, tries);
			return 1;
		}
		usleep(interval * 1000);
	}
}

static int cmd_exec(int argc, char **argv)
{
	struct exec_args a = {.path = argv[0], .fd = -1, .argv = argv};

	(void)argc;
	return report(run_child(exec_path, &a));
}

static int cmd_execveat(const char *path)
{
	char *argv[] = {(char *)path, NULL};
	struct exec_args a = {.path = path, .argv = argv};
	int err;

	a.fd = open(path, O_PATH | O_CLOEXEC);
	if (a.fd < 0)
		return report(errno);
	err = run_child(exec_at, &a);
	close(a.fd);
	return report(err);
}

static int cmd_fexecve(const char *path)
{
	char *argv[] = {(char *)path, NULL};
	struct exec_args a = {.path = path, .argv = argv};
	int err;

	/* Not O_CLOEXEC: fexecve of a close-on-exec fd fails with ENOENT for scripts. */
	a.fd = open(path, O_RDONLY);
	if (a.fd < 0)
		return report(errno);
	err = run_child(exec_fd, &a);
	close(a.fd);
	return report(err);
}

static int cmd_reopen(const char *path)
{
	char proc[64];
	int pfd, fd;

	pfd = open(path, O_PATH);
	if (pfd < 0)
		return report(errno);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	fd = open(proc, O_RDONLY);
	if (fd < 0) {
		int err = errno;

		close(pfd);
		return report(err);
	}
	close(fd);
	close(pfd);
	return report(0);
}

static int cmd_copyexec(const char *src, const char *dst)
{
	char buf[65536], *argv[] = {(char *)dst, NULL};
	struct exec_args a = {.path = dst, .fd = -1, .argv = argv};
	int in, out, err = 0;
	ssize_t n;

	in = open(src, O_RDONLY);
	if (in < 0)
		return report(errno);
	unlink(dst);
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (out < 0) {
		err = errno;
		close(in);
		return report(err);
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, n) != n) {
			err = errno ? errno : EIO;
			break;
		}
	}
	if (n < 0)
		err = errno;
	close(in);
	if (close(out) < 0 && !err)
		err = errno;
	if (!err && chmod(dst, 0755) < 0)
		err = errno;
	if (err)
		return report(err);
	return report(run_child(exec_path, &a));
}

static int parse_addr(const char *addr, const char *port, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char buf[INET6_ADDRSTRLEN + 2];
	char *end;
	long p;

	p = strtol(port, &end, 10);
	if (*port == '\0' || *end || p < 0 || p > 65535)
		return -EINVAL;
	/* Accept "[::1]" as well as "::1". */
	snprintf(buf, sizeof(buf), "%s", addr[0] == '[' ? addr + 1 : addr);
	if (buf[0] && buf[strlen(buf) - 1] == ']')
		buf[strlen(buf) - 1] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, buf, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(p);
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(p);
		*len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

/* A socket of type for ADDR PORT (parsed into *ss, *len): its fd; or -1, having said why and
 * given the exit status in *status (2: a bad address, else report's). */
static int addr_socket(const char *addr, const char *port, int type, struct sockaddr_storage *ss,
		       socklen_t *len, int *status)
{
	int fd;

	if (parse_addr(addr, port, ss, len) < 0) {
		fprintf(stderr, "probe: bad address %s port %s\n", addr, port);
		*status = 2;
		return -1;
	}
	fd = socket(ss->ss_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		*status = report(errno);
	return fd;
}

static int cmd_connect(const char *addr, const char *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, err = 0, status;

	fd = addr_socket(addr, port, SOCK_STREAM, &ss, &len, &status);
	if (fd < 0)
		return status;
	alarm(20); /* loopback answers at once; never hang the test run */
	if (connect(fd, (struct sockaddr *)&ss, len) < 0)
		err = errno;
	alarm(0);
	close(fd);
	/* Refused means the LSM let the connect through to the network stack. */
	if (err == ECONNREFUSED)
		err = 0;
	return report(err);
}

static int cmd_sendto(const char *addr, const char *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, err = 0, status;

	fd = addr_socket(addr, port, SOCK_DGRAM, &ss, &len, &status);
	if (fd < 0)
		return status;
	if (sendto(fd, "probe", 5, 0, (struct sockaddr *)&ss, len) < 0)
		err = errno;
	close(fd);
	if (err == ECONNREFUSED)
		err = 0;
	return report(err);
}

/* sendto-repeat N ADDR PORT: N datagrams from one socket (one process); prints
 * "PID OK EPERM OTHER" as open-repeat does. */
static int cmd_sendto_repeat(const char *n_s, const char *addr, const char *port)
{
	long n = atol(n_s), ok = 0, eperm = 0, other = 0;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, status;

	fd = addr_socket(addr, port, SOCK_DGRAM, &ss, &len, &status);
	if (fd < 0)
		return status;
	for (long i = 0; i < n; i++) {
		if (sendto(fd, "probe", 5, 0, (struct sockaddr *)&ss, len) >= 0 ||
		    errno == ECONNREFUSED)
			ok++;
		else if (errno == EPERM)
			eperm++;
		else
			other++;
	}
	close(fd);
	printf("%d %ld %ld %ld\n", getpid(), ok, eperm, other);
	return 0;
}

/* execvp the wrapped command; only returns (with a report) when that fails. */
static int run_cmd(char **argv)
{
	execvp(argv[0], argv);
	fprintf(stderr, "probe: exec %s: %s\n", argv[0], strerror(errno));
	return report(errno);
}

/* Send one line to a Unix stream socket and print the one-line reply ("@big": a line of
 * 70000 bytes). For testing jitd's handling of raw, malformed and oversized requests. */
static int cmd_ctl(const char *path, const char *text)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	static char buf[1 << 17];
	size_t len, off = 0;
	ssize_t n;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return report(errno);
	if (!strcmp(text, "@big")) {
		memset(buf, 'x', 70000);
		len = 70000;
	} else {
		len = snprintf(buf, sizeof(buf) - 1, "%s", text);
	}
	buf[len++] = '\n';
	while (off < len) {
		n = write(fd, buf + off, len - off);
		if (n < 0)
			return report(errno);
		off += n;
	}
	off = 0;
	while (off < sizeof(buf) - 1 && (n = read(fd, buf + off, sizeof(buf) - 1 - off)) > 0) {
		off += n;
		if (memchr(buf, '\n', off))
			break;
	}
	buf[off] = 0;
	printf("%s", buf);
	return 0;
}

static int parse_id(const char *s, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return (*s && !*end && !errno) ? 0 : -EINVAL;
}

static int cmd_as(const char *ids, char **argv)
{
	unsigned long uid, gid;
	char buf[64], *colon;

	snprintf(buf, sizeof(buf), "%s", ids);
	colon = strchr(buf, ':');
	if (colon)
		*colon++ = '\0';
	if (parse_id(buf, &uid) < 0 || (colon && parse_id(colon, &gid) < 0))
		return usage();
	if (!colon)
		gid = uid;
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0) {
		fprintf(stderr, "probe: as %s: %s\n", ids, strerror(errno));
		return report(errno);
	}
	return run_cmd(argv);
}

static int write_file(const char *path, const char *text)
{
	int fd, err = 0;
	ssize_t n;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	n = write(fd, text, strlen(text));
	if (n < 0)
		err = errno;
	else if ((size_t)n != strlen(text))
		err = EIO;
	close(fd);
	return err;
}

static int cmd_loginuid(const char *n, char **argv)
{
	unsigned long id;
	int err;

	if (parse_id(n, &id) < 0)
		return usage();
	err = write_file("/proc/self/loginuid", n);
	if (err) {
		fprintf(stderr, "probe: set loginuid %s: %s\n", n, strerror(err));
		return report(err);
	}
	return run_cmd(argv);
}

static int cmd_cgexec(const char *cg, char **argv)
{
	char path[4096], pid[32];
	int err;

	snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/cgroup.procs", cg[0] == '/' ? cg + 1 : cg);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	err = write_file(path, pid);
	if (err) {
		fprintf(stderr, "probe: join %s: %s\n", path, strerror(err));
		return report(err);
	}
	return run_cmd(argv);
}

static int cmd_suroot(char **argv)
{
	if (setresuid(0, 0, 0) < 0 || setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0) {
		fprintf(stderr, "probe: suroot: %s\n", strerror(errno));
		return report(errno);
	}
	return run_cmd(argv);
}

/* PTRACE_ATTACH to pid (then detach): can this process control that one? */
static int cmd_ptrace(pid_t pid)
{
	if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) < 0)
		return report(errno);
	waitpid(pid, NULL, __WALL);
	ptrace(PTRACE_DETACH, pid, NULL, NULL);
	return report(0);
}

/* Open /proc/PID/mem for writing (code injection without ptrace). */
static int cmd_procmem(const char *pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/mem", pid);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return report(errno);
	close(fd);
	return report(0);
}

/* Send stdin as-is to a Unix stream socket, print what comes back (2 s of quiet ends it).
 * For hostile-client tests of jitd's control socket. */
static int cmd_sock(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 2};
	static char buf[1 << 20];
	ssize_t n;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		return report(errno);
	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0)
		if (write(fd, buf, n) != n)
			return report(errno);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, n, stdout);
	close(fd);
	return 0;
}

/* truncate PATH to its own size: the setattr route, without changing the contents. */
static int cmd_truncate(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return report(errno);
	return report(truncate(path, st.st_size) < 0 ? errno : 0);
}

/* open_by_handle_at: reach PATH by a file handle, not by a name (CAP_DAC_READ_SEARCH). */
static int cmd_byhandle(const char *path, const char *mnt)
{
	struct {
		struct file_handle fh;
		unsigned char buf[128];
	} h;
	int mount_id, mfd, fd;

	h.fh.handle_bytes = sizeof(h.buf);
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) < 0)
		return report(errno);
	mfd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* not O_PATH: EBADF */
	if (mfd < 0)
		return report(errno);
	fd = open_by_handle_at(mfd, &h.fh, O_RDONLY | O_CLOEXEC);
	close(mfd);
	if (fd < 0)
		return report(errno);
	close(fd);
	return report(0);
}

static int cmd_socket(int family, int type, int proto)
{
	int fd = socket(family, type | SOCK_CLOEXEC, proto);

	if (fd < 0)
		return report(errno);
	close(fd);
	return report(0);
}

/*
 * SCTP: connect(2), or the connectx socket option with a packed list of IPv4 addresses
 * (the address list route). Refused means the LSM let it through.
 */
static int cmd_sctp(int argc, char **argv, int connectx)
{
	struct sockaddr_storage ss[8];
	char packed[8 * sizeof(struct sockaddr_in6)];
	size_t off = 0;
	socklen_t len;
	int fd, err = 0;

	if (argc < 2 || argc > 9)
		return usage();
	for (int i = 1; i < argc; i++) {
		if (parse_addr(argv[i], argv[0], &ss[i - 1], &len) < 0)
			return usage();
		memcpy(packed + off, &ss[i - 1], len);
		off += len;
	}
	fd = socket(ss[0].ss_family, SOCK_STREAM | SOCK_CLOEXEC, 132 /* IPPROTO_SCTP */);
	if (fd < 0)
		return report(errno);
	alarm(20);
	if (connectx) {
		if (setsockopt(fd, 132 /* SOL_SCTP */, 110 /* SCTP_SOCKOPT_CONNECTX */, packed,
			       off) < 0)
			err = errno;
	} else if (connect(fd, (struct sockaddr *)&ss[0], len) < 0) {
		err = errno;
	}
	alarm(0);
	close(fd);
	return report(err == ECONNREFUSED || err == ECONNRESET ? 0 : err);
}

/* sendto with sa_family AF_UNSPEC: udp_sendmsg takes it as AF_INET. */
static int cmd_sendto_unspec(const char *addr, const char *port)
{
	struct sockaddr_in in = {.sin_family = AF_UNSPEC, .sin_port = htons(atoi(port))};
	int fd, err = 0;

	if (inet_pton(AF_INET, addr, &in.sin_addr) != 1)
		return usage();
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return report(errno);
	if (sendto(fd, "probe", 5, 0, (struct sockaddr *)&in, sizeof(in)) < 0)
		err = errno;
	close(fd);
	return report(err == ECONNREFUSED ? 0 : err);
}

/*
 * Hold PATH by an O_PATH descriptor, create READY, wait (up to 60 s) for GO to exist,
 * then reopen the held inode through /proc/self/fd for reading: what someone keeps
 * across a replacement of the file under its name.
 */
static int cmd_opath_hold(const char *path, const char *ready, const char *go)
{
	char proc[64];
	int fd = open(path, O_PATH | O_CLOEXEC), rfd;

	if (fd < 0)
		return report(errno);
	rfd = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (rfd >= 0)
		close(rfd);
	for (int i = 0; i < 1200 && access(go, F_OK); i++)
		usleep(50000);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	rfd = open(proc, O_RDONLY | O_CLOEXEC);
	if (rfd < 0)
		return report(errno);
	close(rfd);
	return report(0);
}

/*
 * DIR/d/d/.../d (N levels) by *at() calls, so the depth is not limited by PATH_MAX.
 * deepmk makes them and a file f at the bottom; deepopen opens that f for reading (the
 * directories by O_PATH, which opens nothing); deepmv renames SRC to the bottom.
 */
static int deep_dir(const char *dir, long n, int make)
{
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

	for (long i = 0; fd >= 0 && i < n; i++) {
		int next;

		if (make && mkdirat(fd, "d", 0755) < 0 && errno != EEXIST) {
			close(fd);
			return -errno;
		}
		next = openat(fd, "d", O_PATH | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = next;
	}
	return fd < 0 ? -errno : fd;
}

static int cmd_deep(const char *what, const char *dir, const char *n_s, const char *src)
{
	long n = atol(n_s);
	int fd = deep_dir(dir, n, !strcmp(what, "deepmk") || !strcmp(what, "deepdirs")), f, err = 0;

	if (fd < 0)
		return report(-fd);
	if (!strcmp(what, "deepdirs")) {
		/* the directories only */
	} else if (!strcmp(what, "deepmk")) {
		f = openat(fd, "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (f < 0 || write(f, "deep\n", 5) != 5)
			err = errno;
		if (f >= 0)
			close(f);
	} else if (!strcmp(what, "deepopen")) {
		f = openat(fd, "f", O_RDONLY | O_CLOEXEC);
		if (f < 0)
			err = errno;
		else
			close(f);
	} else if (renameat(AT_FDCWD, src, fd, "f") < 0) {
		err = errno;
	}
	close(fd);
	return report(err);
}

/* Open PATH n times as fast as possible; print "eperm=A ok=B other=C" (the audit flood). */
static int cmd_flood(const char *n_s, const char *path)
{
	long n = atol(n_s), eperm = 0, ok = 0, other = 0;

	for (long i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY);

		if (fd >= 0) {
			close(fd);
			ok++;
		} else if (errno == EPERM) {
			eperm++;
		} else {
			other++;
		}
	}
	printf("eperm=%ld ok=%ld other=%ld\n", eperm, ok, other);
	return 0;
}

/* Open PATH N times and keep every descriptor for SECONDS (the soft limit of open files
 * raised to the hard one): "eperm=E ok=O other=X" once they are open. */
static int cmd_open_many(const char *n_s, const char *path, const char *secs)
{
	long n = atol(n_s), eperm = 0, ok = 0, other = 0;
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (long i = 0; i < n; i++) {
		if (open(path, O_RDONLY) >= 0)
			ok++;
		else if (errno == EPERM)
			eperm++;
		else
			other++;
	}
	printf("eperm=%ld ok=%ld other=%ld\n", eperm, ok, other);
	fflush(stdout);
	sleep((unsigned)atoi(secs));
	return 0;
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/*
 * Walk every map, program and link id, asking for a descriptor of each; print
 * "map|prog|link ID NAME" for each got. With seen (n_seen of max_seen kept there): only
 * the ids not asked for before.
 */
static void bpf_ids_walk(__u32 (*seen)[2], size_t *n_seen, size_t max_seen);

/* Print "map|prog|link ID NAME" for jitd's BPF objects (run by an exempt subject: the
 * attack tests use the ids as another subject). */
static int cmd_jitd_bpf_ids(void)
{
	bpf_ids_walk(NULL, NULL, 0);
	return 0;
}

static volatile sig_atomic_t grab_stop;
static unsigned long grab_asked, grab_refused;

static void on_grab_term(int sig)
{
	grab_stop = 1;
}

/*
 * bpf-grab SECONDS: what a governed root would try while jitd loads a new build: for
 * SECONDS (or until SIGTERM), every new id of a map, program or link asked for a
 * descriptor as soon as it appears; prints each object it got one of ("KIND ID NAME",
 * "KIND ID ?" when its info is not readable), each one refused ("refused KIND ID"), and
 * at the end "asked N refused M" ("full" if it saw more ids than it can remember).
 */
static int cmd_bpf_grab(const char *secs)
{
	static __u32 seen[4096][2];
	size_t n = 0;
	time_t end = time(NULL) + atoi(secs);

	signal(SIGTERM, on_grab_term);
	while (!grab_stop && time(NULL) < end) {
		bpf_ids_walk(seen, &n, sizeof(seen) / sizeof(seen[0]));
		fflush(stdout);
		usleep(500); /* the load shares the CPU; its window lasts far longer */
	}
	if (n == sizeof(seen) / sizeof(seen[0]))
		printf("full\n");
	printf("asked %lu refused %lu\n", grab_asked, grab_refused);
	return 0;
}

static void bpf_ids_walk(__u32 (*seen)[2], size_t *n_seen, size_t max_seen)
{
	static const struct {
		const char *kind;
		int next, getfd;
	} kinds[] = {{"map", BPF_MAP_GET_NEXT_ID, BPF_MAP_GET_FD_BY_ID},
		     {"prog", BPF_PROG_GET_NEXT_ID, BPF_PROG_GET_FD_BY_ID},
		     {"link", BPF_LINK_GET_NEXT_ID, BPF_LINK_GET_FD_BY_ID}};

	for (size_t k = 0; k < 3; k++) {
		union bpf_attr a = {};
		__u32 id = 0;

		for (;;) {
			union {
				struct bpf_map_info m;
				struct bpf_prog_info p;
				struct bpf_link_info l;
			} info;
			union bpf_attr g = {};
			int fd;

			memset(&a, 0, sizeof(a));
			a.start_id = id;
			if (sys_bpf(kinds[k].next, &a) < 0)
				break;
			id = a.next_id;
			if (seen) { /* each id asked once: a refusal is for good (its audit record)
				     */
				size_t i = 0;

				while (i < *n_seen && (seen[i][0] != k || seen[i][1] != id))
					i++;
				if (i < *n_seen || *n_seen == max_seen)
					continue;
				seen[*n_seen][0] = (__u32)k;
				seen[(*n_seen)++][1] = id;
			}
			g.map_id = id;
			fd = sys_bpf(kinds[k].getfd, &g);
			if (seen)
				grab_asked++;
			if (fd < 0) {
				if (seen) {
					grab_refused++;
					printf("refused %s %u\n", kinds[k].kind, id);
				}
				continue;
			}
			memset(&info, 0, sizeof(info));
			memset(&g, 0, sizeof(g));
			g.info.bpf_fd = fd;
			g.info.info_len = sizeof(info);
			g.info.info = (__u64)(unsigned long)&info;
			if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &g) == 0) {
				if (k == 0)
					printf("map %u %s\n", id, info.m.name);
				else if (k == 1)
					printf("prog %u %s\n", id, info.p.name);
				else
					printf("link %u prog%u\n", id, info.l.prog_id);
			} else {
				printf("%s %u ?\n", kinds[k].kind, id);
			}
			close(fd);
		}
	}
}

static int cmd_bpf_getfd(const char *kind, const char *id)
{
	union bpf_attr a = {};
	int cmd = !strcmp(kind, "map")	  ? BPF_MAP_GET_FD_BY_ID
		  : !strcmp(kind, "prog") ? BPF_PROG_GET_FD_BY_ID
					  : BPF_LINK_GET_FD_BY_ID;
	long fd;

	a.map_id = atoi(id);
	fd = sys_bpf(cmd, &a);
	if (fd >= 0)
		close(fd);
	return report(fd < 0 ? errno : 0);
}

static int cmd_bpf_objget(const char *path)
{
	union bpf_attr a = {};
	long fd;

	a.pathname = (__u64)(unsigned long)path;
	fd = sys_bpf(BPF_OBJ_GET, &a);
	if (fd >= 0)
		close(fd);
	return report(fd < 0 ? errno : 0);
}

/* Pin at path a hash map of that shape holding one entry (key, val); report()'s status. */
static int pin_hash_map(const char *path, const void *key, __u32 ksz, const void *val, __u32 vsz,
			__u32 max)
{
	union bpf_attr a = {};
	long fd;

	a.map_type = BPF_MAP_TYPE_HASH;
	a.key_size = ksz;
	a.value_size = vsz;
	a.max_entries = max;
	fd = sys_bpf(BPF_MAP_CREATE, &a);
	if (fd < 0)
		return report(errno);
	memset(&a, 0, sizeof(a));
	a.map_fd = fd;
	a.key = (__u64)(unsigned long)key;
	a.value = (__u64)(unsigned long)val;
	if (sys_bpf(BPF_MAP_UPDATE_ELEM, &a) < 0)
		return report(errno);
	memset(&a, 0, sizeof(a));
	a.bpf_fd = fd;
	a.pathname = (__u64)(unsigned long)path;
	return report(sys_bpf(BPF_OBJ_PIN, &a) < 0 ? errno : 0);
}

/*
 * bpf-oldpin PATH KEYSZ VALSZ MAX: pin at PATH a hash map of that shape holding one entry
 * (key and value bytes 1), as a jitd of another build left it. bpf-maxent PATH: print the
 * pinned map's max_entries.
 */
static int cmd_bpf_oldpin(const char *path, const char *ksz, const char *vsz, const char *max)
{
	unsigned char key[256], val[256];
	size_t k = atoi(ksz), v = atoi(vsz);

	if (k > sizeof(key) || v > sizeof(val))
		return report(EINVAL);
	memset(key, 1, sizeof(key));
	memset(val, 1, sizeof(val));
	return pin_hash_map(path, key, k, val, v, atoi(max));
}

/*
 * bpf-oldagg PATH FILE GRANT RESOURCE COUNT: pin at PATH an aggregate map of the layout
 * before 72-byte keys (jitd_allow_agg of 104-byte keys, the program's name in the key, 48-byte
 * values), holding one entry as that build's programs left it: COUNT opens of FILE by pid
 * 4242 ("oldagg"), uid 1001, under grant GRANT of RESOURCE, in an interval long over.
 */
struct oldagg_key {
	__u64 grant_id, dev, ino;
	__u8 addr[16];
	char comm[16];
	__u64 cgroup, start_ns;
	__u32 uid, loginuid, exec_id, epoch_end_s, tgid, resource;
	__u8 op, family;
	__u16 port;
	__u32 pad;
};

struct oldagg_val {
	__u64 count, first_ns, last_ns, cgroup;
	__u32 uid, loginuid, subject_uid, tid;
};

static int cmd_bpf_oldagg(const char *path, const char *file, const char *grant,
			  const char *resource, const char *count)
{
	struct oldagg_key k = {.comm = "oldagg",
			       .cgroup = 1,
			       .start_ns = 1,
			       .uid = 1001,
			       .loginuid = 0xffffffff,
			       .exec_id = 1,
			       .epoch_end_s = 1,
			       .tgid = 4242,
			       .op = 2 /* JITD_OP_OPEN */};
	struct oldagg_val v = {
		.cgroup = 1, .uid = 1001, .loginuid = 0xffffffff, .subject_uid = 1001, .tid = 4242};
	struct timespec now;
	struct stat st;

	if (stat(file, &st) || clock_gettime(CLOCK_BOOTTIME, &now))
		return report(errno);
	k.grant_id = strtoull(grant, NULL, 10);
	k.resource = atoi(resource);
	k.dev = (__u64)major(st.st_dev) << 20 | minor(st.st_dev);
	k.ino = st.st_ino;
	v.count = strtoull(count, NULL, 10);
	v.last_ns = (__u64)now.tv_sec * 1000000000ULL + now.tv_nsec;
	v.first_ns = v.last_ns - 1000000;
	return pin_hash_map(path, &k, sizeof(k), &v, sizeof(v), 65536);
}

static int cmd_bpf_maxent(const char *path)
{
	struct bpf_map_info info = {};
	union bpf_attr a = {};
	long fd;

	a.pathname = (__u64)(unsigned long)path;
	fd = sys_bpf(BPF_OBJ_GET, &a);
	if (fd < 0)
		return report(errno);
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = fd;
	a.info.info_len = sizeof(info);
	a.info.info = (__u64)(unsigned long)&info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) < 0)
		return report(errno);
	printf("%u\n", info.max_entries);
	close(fd);
	return 0;
}

/* Load "r0 = 0; exit" as a program of the named type (lsm and tracing lack the attach
 * target the kernel wants: only jitd's refusal is EPERM for them). */
static int cmd_bpf_load(const char *type)
{
	struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
		{.code = BPF_JMP | BPF_EXIT},
	};
	struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
	union bpf_attr a = {};
	long fd;

	/* 5.10 charges programs to RLIMIT_MEMLOCK (EPERM past it), later kernels to memcg */
	setrlimit(RLIMIT_MEMLOCK, &rl);
	a.prog_type = !strcmp(type, "socket")	    ? BPF_PROG_TYPE_SOCKET_FILTER
		      : !strcmp(type, "kprobe")	    ? BPF_PROG_TYPE_KPROBE
		      : !strcmp(type, "tracepoint") ? BPF_PROG_TYPE_TRACEPOINT
		      : !strcmp(type, "lsm")	    ? BPF_PROG_TYPE_LSM
						    : BPF_PROG_TYPE_TRACING;
	a.insns = (__u64)(unsigned long)insns;
	a.insn_cnt = 2;
	a.license = (__u64)(unsigned long)"GPL";
	fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0)
		close(fd);
	return report(fd < 0 ? errno : 0);
}

/* clone3(CLONE_INTO_CGROUP) into CGDIR: the child exits at once. */
static int cmd_clone_into(const char *dir)
{
	struct clone_args ca = {};
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC), status;
	long pid;

	if (fd < 0)
		return report(errno);
	ca.flags = CLONE_INTO_CGROUP;
	ca.exit_signal = SIGCHLD;
	ca.cgroup = fd;
	pid = syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return report(errno);
	waitpid(pid, &status, 0);
	return report(0);
}

static int cmd_write(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0600);

	if (fd < 0)
		return report(errno);
	close(fd);
	return report(0);
}

/* Step the wall clock by delta seconds. */
static int clock_step(double delta)
{
	struct timespec ts;
	double t = realtime() + delta;

	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - ts.tv_sec) * 1e9);
	return clock_settime(CLOCK_REALTIME, &ts) < 0 ? errno : 0;
}

/*
 * clock-from ADDR PORT: set the wall clock from a time server's (tests/vm/timeserver.py: one
 * line "SECONDS.FRACTION" per connection), the way NTP would on a real host: five tries, the
 * one with the shortest round trip, its answer taken as the middle of the round trip. Prints
 * "stepped OFFSET_MS rtt RTT_MS", or the error.
 */
static int cmd_clock_from(const char *addr, const char *port)
{
	double best_rtt = 1e9, best_off = 0;
	struct sockaddr_storage ss;
	socklen_t len;

	if (parse_addr(addr, port, &ss, &len) < 0) {
		fprintf(stderr, "probe: bad address %s port %s\n", addr, port);
		return 2;
	}
	for (int i = 0; i < 5; i++) {
		char buf[64] = "";
		double t0, t1, host;
		ssize_t n;
		int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return report(errno);
		alarm(20); /* never hang the test run */
		t0 = realtime();
		if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
			int err = errno;

			close(fd);
			return report(err);
		}
		n = read(fd, buf, sizeof(buf) - 1);
		t1 = realtime();
		alarm(0);
		close(fd);
		if (n <= 0 || sscanf(buf, "%lf", &host) != 1) {
			fprintf(stderr, "probe: no time from %s:%s\n", addr, port);
			return report(EPROTO);
		}
		if (t1 - t0 < best_rtt) {
			best_rtt = t1 - t0;
			best_off = host - (t0 + t1) / 2;
		}
	}
	if (clock_step(best_off))
		return report(errno);
	printf("stepped %.1f rtt %.1f\n", best_off * 1000, best_rtt * 1000);
	return 0;
}

/* ---- hold: what was opened or connected under a grant, used again after it ended ---- */

/*
 * The routes of `hold`, `scm-recv`: each is tried once per round and prints one line
 * "ROUTE=RESULT": "ok", the errno name, or "skip[-ERRNO]" when the route could not be
 * prepared (then the errno of that preparation). A route function returns 0, an errno, or
 * HOLD_SKIP / -errno for a skip.
 */
#define HOLD_SKIP   (-100000)
#define HOLD_MAPLEN 4096

enum hold_kind { HOLD_FILE = 'f', HOLD_DIR = 'd', HOLD_TCP = 't', HOLD_UDP = 'u' };

/* A raw io_uring (no liburing in the static build): one submission, one completion. */
struct uring {
	int fd;
	int err;       /* io_uring_setup's errno: the io_uring routes are skipped */
	int fixed_err; /* IORING_REGISTER_FILES's errno: uring_fixed is skipped */
	unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
};

struct hold {
	enum hold_kind kind;
	bool received;	     /* by SCM_RIGHTS: the receiver has no grant to reopen with */
	int fd;		     /* the file, directory or connected socket */
	int wfd;	     /* the same file opened O_RDWR, or -1 (werr: why) */
	int werr;	     /* errno of the O_RDWR open */
	int dupfd;	     /* dup(fd) */
	int pipe[2];	     /* sendfile and splice to and from a pipe (non-blocking) */
	int tmpfd;	     /* a file in $TMPDIR holding one byte */
	int tmperr;	     /* errno of making it */
	unsigned char first; /* the file's first byte: what the write routes write back */
	volatile unsigned char *oldmap; /* PROT_READ mapping made while granted */
	void *nonemap;			/* PROT_NONE mapping made while granted */
	int map_err;			/* errno of making them */
	pid_t child;			/* forked while granted: reads fd on each request */
	int child_cmd, child_res;	/* the pipes to and from it */
	struct uring ring;
	aio_context_t aio;
	int aio_err; /* io_setup's errno */
};

static int uring_setup(struct uring *r, int file)
{
	struct io_uring_params p = {};
	size_t sq_len, cq_len;
	char *sq, *cq;

	r->fd = syscall(__NR_io_uring_setup, 4, &p);
	if (r->fd < 0)
		return r->err = errno;
	sq_len = p.sq_off.array + p.sq_entries * sizeof(__u32);
	cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP)
		sq_len = cq_len = sq_len > cq_len ? sq_len : cq_len;
	sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
		  IORING_OFF_SQ_RING);
	if (sq == MAP_FAILED)
		return r->err = errno;
	cq = sq;
	if (!(p.features & IORING_FEAT_SINGLE_MMAP)) {
		cq = mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
			  IORING_OFF_CQ_RING);
		if (cq == MAP_FAILED)
			return r->err = errno;
	}
	r->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
	if (r->sqes == MAP_FAILED)
		return r->err = errno;
	r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
	r->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	r->sq_array = (unsigned *)(sq + p.sq_off.array);
	r->cq_head = (unsigned *)(cq + p.cq_off.head);
	r->cq_tail = (unsigned *)(cq + p.cq_off.tail);
	r->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	if (file >= 0 &&
	    syscall(__NR_io_uring_register, r->fd, IORING_REGISTER_FILES, &file, 1) < 0)
		r->fixed_err = errno;
	return 0;
}

/* Submit one request and wait for its completion: 0 or the errno it completed with. */
static int uring_do(struct uring *r, __u8 op, int fd, bool fixed, void *buf, __u32 len,
		    __u32 msg_flags)
{
	unsigned tail, head, idx;
	struct io_uring_sqe *sqe;
	int res;

	if (r->err)
		return -r->err;
	if (fixed && r->fixed_err)
		return -r->fixed_err;
	tail = *r->sq_tail;
	idx = tail & *r->sq_mask;
	sqe = &r->sqes[idx];
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = op;
	sqe->fd = fixed ? 0 : fd;
	sqe->flags = fixed ? IOSQE_FIXED_FILE : 0;
	sqe->addr = (unsigned long)buf;
	sqe->len = len;
	sqe->msg_flags = msg_flags; /* rw_flags for a read: 0 */
	sqe->user_data = 1;
	r->sq_array[idx] = idx;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, r->fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return errno;
	head = __atomic_load_n(r->cq_head, __ATOMIC_ACQUIRE);
	if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
		return ENODATA; /* no completion after waiting for one */
	res = r->cqes[head & *r->cq_mask].res;
	__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
	if (res < 0)
		return -res;
	return res == 0 && (op == IORING_OP_RECV) ? ENODATA : 0;
}

static void drain(int fd)
{
	char buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* ---- file routes (fd: O_RDONLY, wfd: O_RDWR) */

static int r_read(struct hold *h)
{
	char c;

	lseek(h->fd, 0, SEEK_SET);
	return read(h->fd, &c, 1) < 0 ? errno : 0;
}

static int r_pread(struct hold *h)
{
	char c;

	return pread(h->fd, &c, 1, 0) < 0 ? errno : 0;
}

static int r_readv(struct hold *h)
{
	char a, b;
	struct iovec iov[2] = {{&a, 1}, {&b, 1}};

	lseek(h->fd, 0, SEEK_SET);
	return readv(h->fd, iov, 2) < 0 ? errno : 0;
}

static int r_preadv2(struct hold *h)
{
	char c;
	struct iovec iov = {&c, 1};

	return preadv2(h->fd, &iov, 1, 0, 0) < 0 ? errno : 0;
}

static int r_write(struct hold *h)
{
	if (h->wfd < 0)
		return -h->werr;
	lseek(h->wfd, 0, SEEK_SET);
	return write(h->wfd, &h->first, 1) < 0 ? errno : 0;
}

static int r_pwrite(struct hold *h)
{
	if (h->wfd < 0)
		return -h->werr;
	return pwrite(h->wfd, &h->first, 1, 0) < 0 ? errno : 0;
}

static int r_writev(struct hold *h)
{
	struct iovec iov = {&h->first, 1};

	if (h->wfd < 0)
		return -h->werr;
	lseek(h->wfd, 0, SEEK_SET);
	return writev(h->wfd, &iov, 1) < 0 ? errno : 0;
}

/* sendfile from the file into a pipe. */
static int r_sendfile(struct hold *h)
{
	off_t off = 0;
	int err;

	err = sendfile(h->pipe[1], h->fd, &off, 1) < 0 ? errno : 0;
	drain(h->pipe[0]);
	return err;
}

/* sendfile from the temporary file into the file (its O_RDWR descriptor). */
static int r_sendfile_out(struct hold *h)
{
	off_t off = 0;

	if (h->wfd < 0)
		return -h->werr;
	if (h->tmpfd < 0)
		return -h->tmperr;
	lseek(h->wfd, 0, SEEK_SET);
	return sendfile(h->wfd, h->tmpfd, &off, 1) < 0 ? errno : 0;
}

static int r_splice(struct hold *h)
{
	loff_t off = 0;
	int err;

	err = splice(h->fd, &off, h->pipe[1], NULL, 1, 0) < 0 ? errno : 0;
	drain(h->pipe[0]);
	return err;
}

/* splice from a pipe into the file. */
static int r_splice_out(struct hold *h)
{
	loff_t off = 0;
	int err;

	if (h->wfd < 0)
		return -h->werr;
	if (write(h->pipe[1], &h->first, 1) != 1)
		return -errno;
	err = splice(h->pipe[0], NULL, h->wfd, &off, 1, 0) < 0 ? errno : 0;
	drain(h->pipe[0]);
	return err;
}

/* copy_file_range from the file into the temporary file (on the same file system when
 * $TMPDIR is: across file systems later kernels answer EXDEV before any check). */
static int r_copy_file_range(struct hold *h)
{
	loff_t in = 0, out = 0;

	if (h->tmpfd < 0)
		return -h->tmperr;
	return copy_file_range(h->fd, &in, h->tmpfd, &out, 1, 0) < 0 ? errno : 0;
}

static int r_copy_file_range_out(struct hold *h)
{
	loff_t in = 0, out = 0;

	if (h->wfd < 0)
		return -h->werr;
	if (h->tmpfd < 0)
		return -h->tmperr;
	return copy_file_range(h->tmpfd, &in, h->wfd, &out, 1, 0) < 0 ? errno : 0;
}

static int map_now(struct hold *h, int flags)
{
	void *p = mmap(NULL, HOLD_MAPLEN, PROT_READ, flags, h->fd, 0);

	if (p == MAP_FAILED)
		return errno;
	munmap(p, HOLD_MAPLEN);
	return 0;
}

static int r_mmap(struct hold *h)
{
	return map_now(h, MAP_SHARED);
}

static int r_mmap_private(struct hold *h)
{
	return map_now(h, MAP_PRIVATE);
}

/* mprotect of the PROT_NONE mapping made while granted to PROT_READ (and back). */
static int r_mprotect(struct hold *h)
{
	if (!h->nonemap)
		return -h->map_err;
	if (mprotect(h->nonemap, HOLD_MAPLEN, PROT_READ) < 0)
		return errno;
	mprotect(h->nonemap, HOLD_MAPLEN, PROT_NONE);
	return 0;
}

/* The mapping made while granted: its pages stay readable (a documented limit). */
static int r_oldmap(struct hold *h)
{
	if (!h->oldmap)
		return -h->map_err;
	return h->oldmap[0] == h->first ? 0 : EIO;
}

static int r_dupfd(struct hold *h)
{
	char c;

	return pread(h->dupfd, &c, 1, 0) < 0 ? errno : 0;
}

/* The child forked while granted reads through its copy of the descriptor. */
static int r_forkchild(struct hold *h)
{
	int err;

	if (h->child <= 0)
		return -ECHILD; /* not forked */
	if (write(h->child_cmd, "r", 1) != 1 ||
	    read(h->child_res, &err, sizeof(err)) != sizeof(err))
		return ECHILD; /* it died */
	return err;
}

static int r_uring(struct hold *h)
{
	char c;

	return uring_do(&h->ring, IORING_OP_READ, h->fd, false, &c, 1, 0);
}

/* The same read through the file registered with IORING_REGISTER_FILES while granted. */
static int r_uring_fixed(struct hold *h)
{
	char c;

	return uring_do(&h->ring, IORING_OP_READ, h->fd, true, &c, 1, 0);
}

/* Linux AIO: IOCB_CMD_PREAD through io_submit (a refusal comes back from io_submit). */
/* An ioctl (FIONREAD: file and socket alike) reaches file_ioctl. */
static int r_ioctl(struct hold *h)
{
	int n;

	return ioctl(h->fd, FIONREAD, &n) < 0 ? errno : 0;
}

/* getsockopt(TCP_ZEROCOPY_RECEIVE), a receive without recvmsg: only a refusal (EPERM) is
 * jitd's; what the protocol answers to an empty request is not judged ("ok"). */
static int r_zerocopy(struct hold *h)
{
	char buf[64] = {0};
	socklen_t len = sizeof(buf);

	if (getsockopt(h->fd, IPPROTO_TCP, 35 /* TCP_ZEROCOPY_RECEIVE */, buf, &len) < 0 &&
	    errno == EPERM)
		return EPERM;
	return 0;
}

static int r_aio(struct hold *h)
{
	char c;
	struct iocb cb = {.aio_fildes = h->fd,
			  .aio_lio_opcode = IOCB_CMD_PREAD,
			  .aio_buf = (unsigned long)&c,
			  .aio_nbytes = 1};
	struct iocb *cbs[1] = {&cb};
	struct timespec ts = {.tv_sec = 20};
	struct io_event ev;
	long n;

	if (h->aio_err)
		return -h->aio_err;
	n = syscall(__NR_io_submit, h->aio, 1, cbs);
	if (n < 0)
		return errno;
	if (n == 0)
		return EAGAIN;
	n = syscall(__NR_io_getevents, h->aio, 1, 1, &ev, &ts);
	if (n < 0)
		return errno;
	if (n == 0)
		return ETIMEDOUT;
	return (long long)ev.res < 0 ? (int)-(long long)ev.res : 0;
}

/* A new open of the held file through /proc/self/fd/N (the file_open check, not a cut). */
static int r_reopen(struct hold *h)
{
	char proc[64];
	int fd;

	if (h->received)
		return HOLD_SKIP; /* the receiver never had a grant of its own */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", h->fd);
	fd = open(proc, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int r_getdents(struct hold *h)
{
	char buf[4096];

	lseek(h->fd, 0, SEEK_SET);
	return syscall(SYS_getdents64, h->fd, buf, sizeof(buf)) < 0 ? errno : 0;
}

/* ---- socket routes (fd non-blocking; the peer echoes what it gets) */

static int r_send(struct hold *h)
{
	return send(h->fd, "s", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 ? errno : 0;
}

static int r_swrite(struct hold *h)
{
	return write(h->fd, "w", 1) < 0 ? errno : 0;
}

/* sendfile from the temporary file into the socket. */
static int r_ssendfile(struct hold *h)
{
	off_t off = 0;

	if (h->tmpfd < 0)
		return -h->tmperr;
	return sendfile(h->fd, h->tmpfd, &off, 1) < 0 ? errno : 0;
}

static int r_uring_send(struct hold *h)
{
	return uring_do(&h->ring, IORING_OP_SEND, h->fd, false, "u", 1,
			MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* One byte (TCP) or datagram (UDP) of what the peer echoed: "ok"; none: EAGAIN. */
static int r_recv(struct hold *h)
{
	ssize_t n;
	char c;

	n = recv(h->fd, &c, 1, MSG_DONTWAIT);
	return n < 0 ? errno : n == 0 ? ENODATA : 0;
}

static int r_sread(struct hold *h)
{
	ssize_t n;
	char c;

	n = read(h->fd, &c, 1);
	return n < 0 ? errno : n == 0 ? ENODATA : 0;
}

static int r_uring_recv(struct hold *h)
{
	char c;

	return uring_do(&h->ring, IORING_OP_RECV, h->fd, false, &c, 1, MSG_DONTWAIT);
}

struct hold_route {
	const char *name;
	int (*fn)(struct hold *h);
};

static const struct hold_route file_routes[] = {
	{"read", r_read},
	{"pread", r_pread},
	{"readv", r_readv},
	{"preadv2", r_preadv2},
	{"write", r_write},
	{"pwrite", r_pwrite},
	{"writev", r_writev},
	{"sendfile", r_sendfile},
	{"sendfile_out", r_sendfile_out},
	{"splice", r_splice},
	{"splice_out", r_splice_out},
	{"copy_file_range", r_copy_file_range},
	{"copy_file_range_out", r_copy_file_range_out},
	{"mmap", r_mmap},
	{"mmap_private", r_mmap_private},
	{"mprotect", r_mprotect},
	{"oldmap", r_oldmap},
	{"dupfd", r_dupfd},
	{"forkchild", r_forkchild},
	{"uring", r_uring},
	{"uring_fixed", r_uring_fixed},
	{"aio", r_aio},
	{"ioctl", r_ioctl},
	{"reopen", r_reopen},
	{NULL, NULL},
};

static const struct hold_route dir_routes[] = {
	{"getdents", r_getdents},
	{"reopen", r_reopen},
	{NULL, NULL},
};

/* Sends first: what they send comes back for the receives of the next round. */
static const struct hold_route sock_routes[] = {
	{"send", r_send},
	{"write", r_swrite},
	{"sendfile", r_ssendfile},
	{"uring_send", r_uring_send},
	{"recv", r_recv},
	{"read", r_sread},
	{"uring_recv", r_uring_recv},
	{"ioctl", r_ioctl},
	{"zerocopy", r_zerocopy},
	{NULL, NULL},
};

static void hold_init(struct hold *h, enum hold_kind kind)
{
	memset(h, 0, sizeof(*h));
	h->kind = kind;
	h->fd = h->wfd = h->dupfd = h->tmpfd = h->ring.fd = -1;
	h->pipe[0] = h->pipe[1] = h->child_cmd = h->child_res = -1;
}

/* Split "ADDR:PORT" ("[::1]:PORT" too) at its last colon. */
static int parse_hostport(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	const char *colon = strrchr(s, ':');
	char addr[INET6_ADDRSTRLEN + 2];

	if (!colon || (size_t)(colon - s) >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, colon - s);
	addr[colon - s] = '\0';
	return parse_addr(addr, colon + 1, ss, len);
}

/*
 * Open or connect what SPEC names, as the caller is now (under a grant): file:PATH (also
 * O_RDWR when allowed), dir:PATH, tcp:ADDR:PORT, udp:ADDR:PORT. Returns 0, an errno of the
 * open or connect, or -EINVAL for a bad SPEC.
 */
static int hold_open(struct hold *h, const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int err = 0;

	if (!strncmp(spec, "file:", 5)) {
		hold_init(h, HOLD_FILE);
		h->fd = open(spec + 5, O_RDONLY | O_CLOEXEC);
		if (h->fd < 0)
			return errno;
		h->wfd = open(spec + 5, O_RDWR | O_CLOEXEC);
		h->werr = h->wfd < 0 ? errno : 0;
		return 0;
	}
	if (!strncmp(spec, "dir:", 4)) {
		hold_init(h, HOLD_DIR);
		h->fd = open(spec + 4, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		return h->fd < 0 ? errno : 0;
	}
	if (strncmp(spec, "tcp:", 4) && strncmp(spec, "udp:", 4))
		return -EINVAL;
	hold_init(h, spec[0] == 't' ? HOLD_TCP : HOLD_UDP);
	if (parse_hostport(spec + 4, &ss, &len) < 0)
		return -EINVAL;
	h->fd = socket(ss.ss_family,
		       (h->kind == HOLD_TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (h->fd < 0)
		return errno;
	alarm(20); /* loopback answers at once; never hang the test run */
	if (connect(h->fd, (struct sockaddr *)&ss, len) < 0)
		err = errno;
	alarm(0);
	return err;
}

/* The forked reader: one pread per byte on cmd, its errno back on res; EOF ends it. */
static void hold_child(struct hold *h, int cmd, int res)
{
	char c;

	while (read(cmd, &c, 1) == 1) {
		int err = pread(h->fd, &c, 1, 0) < 0 ? errno : 0;

		if (write(res, &err, sizeof(err)) != sizeof(err))
			break;
	}
	_exit(0);
}

static void hold_fork(struct hold *h)
{
	int cmd[2], res[2];

	if (pipe2(cmd, O_CLOEXEC) < 0)
		return;
	if (pipe2(res, O_CLOEXEC) < 0) {
		close(cmd[0]);
		close(cmd[1]);
		return;
	}
	fflush(stdout);
	h->child = fork();
	if (h->child == 0) {
		close(cmd[1]);
		close(res[0]);
		hold_child(h, cmd[0], res[1]);
	}
	close(cmd[0]);
	close(res[1]);
	h->child_cmd = cmd[1];
	h->child_res = res[0];
}

/* A file of one byte in $TMPDIR (default /tmp), already unlinked. */
static void hold_tmpfile(struct hold *h, unsigned char byte)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];

	snprintf(path, sizeof(path), "%s/probe-hold.XXXXXX", dir && *dir ? dir : "/tmp");
	h->tmpfd = mkostemp(path, O_CLOEXEC);
	if (h->tmpfd < 0) {
		h->tmperr = errno;
		return;
	}
	unlink(path);
	if (write(h->tmpfd, &byte, 1) != 1) {
		h->tmperr = errno ? errno : EIO;
		close(h->tmpfd);
		h->tmpfd = -1;
	}
}

/* Send bytes (TCP) or datagrams (UDP) to the echoing peer while granted and wait (5 s at
 * most) until the echo is queued: the receive routes then have something to read. */
static void hold_prime(struct hold *h)
{
	int want = h->kind == HOLD_TCP ? 32 : 12, avail = 0;

	for (int i = 0; i < want; i++)
		send(h->fd, "p", 1, MSG_NOSIGNAL);
	for (int i = 0; i < 50; i++) {
		usleep(100000);
		if (ioctl(h->fd, FIONREAD, &avail) == 0 &&
		    (h->kind == HOLD_TCP ? avail >= want : avail > 0))
			break;
	}
	if (h->kind == HOLD_UDP)
		usleep(300000); /* FIONREAD says the first datagram only: let the rest come */
	if (avail <= 0)
		fprintf(stderr, "probe: hold: nothing echoed back after 5 s\n");
}

/* The mappings made while granted: one to read later, one to mprotect later. */
static void hold_maps(struct hold *h)
{
	void *ro, *none;

	if (h->map_err)
		return;
	ro = mmap(NULL, HOLD_MAPLEN, PROT_READ, MAP_SHARED, h->fd, 0);
	if (ro == MAP_FAILED) {
		h->map_err = errno;
		return;
	}
	none = mmap(NULL, HOLD_MAPLEN, PROT_NONE, MAP_SHARED, h->fd, 0);
	if (none == MAP_FAILED) {
		h->map_err = errno;
		munmap(ro, HOLD_MAPLEN);
		return;
	}
	h->oldmap = ro;
	h->nonemap = none;
}

/* Everything the routes need, made while the grant is active. */
static void hold_prepare(struct hold *h)
{
	if (h->kind == HOLD_FILE) {
		if (pread(h->fd, &h->first, 1, 0) != 1)
			h->map_err = ENODATA; /* empty: a byte of a mapping would be SIGBUS */
		hold_fork(h);
		h->dupfd = dup(h->fd);
		if (pipe2(h->pipe, O_CLOEXEC | O_NONBLOCK) < 0)
			h->pipe[0] = h->pipe[1] = -1;
		hold_tmpfile(h, h->first);
		hold_maps(h);
		uring_setup(&h->ring, h->fd);
		if (syscall(__NR_io_setup, 4, &h->aio) < 0)
			h->aio_err = errno;
	} else if (h->kind == HOLD_TCP || h->kind == HOLD_UDP) {
		fcntl(h->fd, F_SETFL, fcntl(h->fd, F_GETFL) | O_NONBLOCK);
		hold_tmpfile(h, 'f');
		uring_setup(&h->ring, -1);
		hold_prime(h);
	}
}

static const struct hold_route *hold_routes(const struct hold *h)
{
	switch (h->kind) {
	case HOLD_FILE:
		return file_routes;
	case HOLD_DIR:
		return dir_routes;
	default:
		return sock_routes;
	}
}

/* One round: every route once, then "round=N". */
static void hold_round(struct hold *h, int n)
{
	alarm(60); /* a route that hangs kills the holder: its round line never comes */
	for (const struct hold_route *r = hold_routes(h); r->name; r++) {
		int err = r->fn(h);

		if (err == HOLD_SKIP)
			printf("%s=skip\n", r->name);
		else if (err < 0)
			printf("%s=skip-%s\n", r->name, errname(-err));
		else
			printf("%s=%s\n", r->name, err ? errname(err) : "ok");
	}
	alarm(0);
	printf("round=%d\n", n);
	fflush(stdout);
}

/*
 * Prepare, write "ready" to READY, then a round per line read from GO (a fifo, opened
 * again after each writer): "end" or a writer that wrote nothing ends it. A writer waits
 * for "round=N" before the next write: writers that come while GO is still open are read
 * together, and an empty one among them is then no end.
 */
static int hold_run(struct hold *h, const char *ready, const char *go)
{
	int fd, n = 0, done = 0, rc = 0;
	char buf[4096];

	signal(SIGPIPE, SIG_IGN);
	hold_prepare(h);
	fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "ready\n", 6) != 6) {
		fprintf(stderr, "probe: hold: %s: %s\n", ready, strerror(errno));
		return EXIT_OTHER;
	}
	close(fd);
	while (!done) {
		size_t len = 0;
		ssize_t got;

		fd = open(go, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "probe: hold: %s: %s\n", go, strerror(errno));
			rc = EXIT_OTHER;
			break;
		}
		while (len < sizeof(buf) - 1 &&
		       (got = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
			len += got;
		close(fd);
		buf[len] = '\0';
		if (!len)
			break;
		for (char *line = strtok(buf, "\n"); line && !done; line = strtok(NULL, "\n")) {
			if (!strcmp(line, "end"))
				done = 1;
			else
				hold_round(h, ++n);
		}
	}
	if (h->child_cmd >= 0) {
		close(h->child_cmd);
		waitpid(h->child, NULL, 0);
	}
	return rc;
}

/* The answer of a failed open or connect: "open=ERRNO", exit code as report()'s. */
static int hold_refused(int err)
{
	printf("open=%s\n", errname(err));
	fflush(stdout);
	return err == EPERM ? EXIT_EPERM : EXIT_OTHER;
}

/* hold SPEC READY GO: open or connect SPEC now (granted), use it after each line on GO. */
static int cmd_hold(const char *spec, const char *ready, const char *go)
{
	struct hold h;
	int err = hold_open(&h, spec);

	if (err < 0)
		return usage();
	if (err)
		return hold_refused(err);
	return hold_run(&h, ready, go);
}

/*
 * scm-send SOCKPATH SPEC: open or connect SPEC (file: the O_RDWR descriptor too, when
 * allowed) and pass the descriptors with SCM_RIGHTS over the Unix socket SOCKPATH, with a
 * byte saying their kind. Prints "ok" once sent.
 */
static int cmd_scm_send(const char *path, const char *spec)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(2 * sizeof(int))];
	} u = {};
	struct hold h;
	char kind;
	struct iovec iov = {&kind, 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf};
	int nfd, s, err = hold_open(&h, spec);

	if (err < 0)
		return usage();
	if (err)
		return hold_refused(err);
	kind = h.kind;
	nfd = h.wfd >= 0 ? 2 : 1;
	msg.msg_controllen = CMSG_SPACE(nfd * sizeof(int));
	u.h.cmsg_level = SOL_SOCKET;
	u.h.cmsg_type = SCM_RIGHTS;
	u.h.cmsg_len = CMSG_LEN(nfd * sizeof(int));
	memcpy(CMSG_DATA(&u.h), &h.fd, sizeof(int));
	if (nfd == 2)
		memcpy(CMSG_DATA(&u.h) + sizeof(int), &h.wfd, sizeof(int));
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    sendmsg(s, &msg, 0) != 1)
		err = errno;
	if (s >= 0)
		close(s);
	return report(err);
}

/*
 * scm-recv SOCKPATH READY GO: listen on the Unix socket SOCKPATH (mode 0777, so that a
 * process of another uid can connect), take the descriptors one scm-send passes, then as
 * `hold` does with them (no reopen route: the receiver has no grant of its own).
 */
static int cmd_scm_recv(const char *path, const char *ready, const char *go)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(2 * sizeof(int))];
	} u = {};
	char kind = 0;
	struct iovec iov = {&kind, 1};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *cm;
	struct hold h;
	int ls, c, fds[2] = {-1, -1};

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	unlink(path);
	ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(path, 0777) < 0 ||
	    listen(ls, 1) < 0)
		return report(errno);
	alarm(120); /* the sender comes within the test's own bounds */
	c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0 || recvmsg(c, &msg, MSG_CMSG_CLOEXEC) != 1)
		return report(errno);
	alarm(0);
	close(c);
	close(ls);
	unlink(path);
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len < CMSG_LEN(sizeof(int))) {
		fprintf(stderr, "probe: scm-recv: no descriptor came\n");
		return report(EBADMSG);
	}
	memcpy(fds, CMSG_DATA(cm),
	       cm->cmsg_len >= CMSG_LEN(2 * sizeof(int)) ? 2 * sizeof(int) : sizeof(int));
	if (!strchr("fdtu", kind) || !kind) {
		fprintf(stderr, "probe: scm-recv: unknown kind '%c'\n", kind);
		return report(EBADMSG);
	}
	hold_init(&h, (enum hold_kind)kind);
	h.received = true;
	h.fd = fds[0];
	h.wfd = fds[1];
	h.werr = fds[1] < 0 ? EBADF : 0;
	return hold_run(&h, ready, go);
}

/* The boot clock in seconds (/proc/uptime's, which the VM scripts' now() reads). */
static double boottime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * poll-read PATH WANT INTERVAL_MS TIMEOUT_MS: open PATH once (now, granted), then pread a
 * byte every INTERVAL_MS until the answer is WANT or TIMEOUT_MS pass. Prints "WANT BEFORE
 * AFTER TRIES LAST_OTHER" (boot-clock seconds around the first WANT try, and of the last
 * try that answered otherwise, 0 if none) and exits 0; else "timeout LAST TRIES", exit 1;
 * "open=ERRNO" when the open fails.
 */
static int cmd_poll_read(char **argv)
{
	const char *want = argv[1];
	long interval = atol(argv[2]), timeout = atol(argv[3]), tries = 0;
	double start = boottime(), other = 0;
	char last[32];
	int fd;

	if (interval < 1 || timeout < 1)
		return usage();
	fd = open(argv[0], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hold_refused(errno);
	for (;;) {
		double before = boottime(), after;
		char c;
		int err = pread(fd, &c, 1, 0) < 0 ? errno : 0;

		after = boottime();
		tries++;
		snprintf(last, sizeof(last), "%s", err ? errname(err) : "ok");
		if (!strcmp(last, want)) {
			printf("%s %.6f %.6f %ld %.6f\n", want, before, after, tries, other);
			return 0;
		}
		other = before;
		if ((after - start) * 1000 >= timeout) {
			printf("timeout %s %ld\n", last, tries);
			return 1;
		}
		usleep(interval * 1000);
	}
}

/*
 * serve ADDR PORT: a TCP and a UDP echo server on ADDR:PORT (the peer of the socket routes
 * of `hold`). Prints "listening" once bound, then nothing; runs until killed.
 */
static int cmd_serve(const char *addr, const char *port)
{
	struct sockaddr_storage ss;
	struct pollfd pf[64];
	socklen_t len;
	int n = 2, one = 1;
	char buf[4096];

	if (parse_addr(addr, port, &ss, &len) < 0)
		return usage();
	signal(SIGPIPE, SIG_IGN);
	pf[0].fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pf[1].fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	for (int i = 0; i < 2; i++) {
		if (pf[i].fd < 0)
			return report(errno);
		setsockopt(pf[i].fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(pf[i].fd, (struct sockaddr *)&ss, len) < 0)
			return report(errno);
	}
	if (listen(pf[0].fd, 16) < 0)
		return report(errno);
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		for (int i = 0; i < n; i++)
			pf[i].events = POLLIN;
		if (poll(pf, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return report(errno);
		}
		if (pf[0].revents & POLLIN) {
			int c = accept4(pf[0].fd, NULL, NULL, SOCK_CLOEXEC);

			if (c >= 0 && n < (int)(sizeof(pf) / sizeof(pf[0])))
				pf[n++].fd = c;
			else if (c >= 0)
				close(c);
		}
		if (pf[1].revents & POLLIN) {
			struct sockaddr_storage from;
			socklen_t flen = sizeof(from);
			ssize_t m = recvfrom(pf[1].fd, buf, sizeof(buf), 0,
					     (struct sockaddr *)&from, &flen);

			if (m >= 0)
				sendto(pf[1].fd, buf, m, 0, (struct sockaddr *)&from, flen);
		}
		for (int i = 2; i < n; i++) {
			ssize_t m;

			if (!pf[i].revents)
				continue;
			m = read(pf[i].fd, buf, sizeof(buf));
			if (m <= 0 || write(pf[i].fd, buf, m) != m) {
				close(pf[i].fd);
				pf[i--] = pf[--n]; /* its revents are this poll's too */
			}
		}
	}
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2)
		return usage();
	cmd = argv[1];
	argc -= 2;
	argv += 2;

	if (!strcmp(cmd, "open") && argc == 1)
		return cmd_open(argv[0]);
	if (!strcmp(cmd, "open-repeat") && argc >= 3)
		return cmd_open_repeat(argv[0], argv[1], argv[2], argv + 3);
	if (!strcmp(cmd, "exec") && argc >= 1)
		return cmd_exec(argc, argv);
	if (!strcmp(cmd, "execveat") && argc == 1)
		return cmd_execveat(argv[0]);
	if (!strcmp(cmd, "fexecve") && argc == 1)
		return cmd_fexecve(argv[0]);
	if (!strcmp(cmd, "reopen") && argc == 1)
		return cmd_reopen(argv[0]);
	if (!strcmp(cmd, "copyexec") && argc == 2)
		return cmd_copyexec(argv[0], argv[1]);
	if (!strcmp(cmd, "link") && argc == 2)
		return report(link(argv[0], argv[1]) < 0 ? errno : 0);
	if (!strcmp(cmd, "symlink-open") && argc == 2) {
		if (symlink(argv[0], argv[1]) < 0)
			return report(errno);
		return cmd_open(argv[1]);
	}
	if (!strcmp(cmd, "rename") && argc == 2)
		return report(rename(argv[0], argv[1]) < 0 ? errno : 0);
	if (!strcmp(cmd, "exchange") && argc == 2)
		return report(renameat2(AT_FDCWD, argv[0], AT_FDCWD, argv[1], RENAME_EXCHANGE) < 0
				      ? errno
				      : 0);
	if (!strcmp(cmd, "ptrace") && argc == 1)
		return cmd_ptrace(atoi(argv[0]));
	if (!strcmp(cmd, "procmem") && argc == 1)
		return cmd_procmem(argv[0]);
	if (!strcmp(cmd, "sock") && argc == 1)
		return cmd_sock(argv[0]);
	if (!strcmp(cmd, "connect") && argc == 2)
		return cmd_connect(argv[0], argv[1]);
	if (!strcmp(cmd, "sendto-repeat") && argc == 3)
		return cmd_sendto_repeat(argv[0], argv[1], argv[2]);
	if (!strcmp(cmd, "sendto") && argc == 2)
		return cmd_sendto(argv[0], argv[1]);
	if (!strcmp(cmd, "as") && argc >= 2)
		return cmd_as(argv[0], argv + 1);
	if (!strcmp(cmd, "ctl") && argc == 2)
		return cmd_ctl(argv[0], argv[1]);
	if (!strcmp(cmd, "loginuid") && argc >= 2)
		return cmd_loginuid(argv[0], argv + 1);
	if (!strcmp(cmd, "cgexec") && argc >= 2)
		return cmd_cgexec(argv[0], argv + 1);
	if (!strcmp(cmd, "suroot") && argc >= 1)
		return cmd_suroot(argv);
	if (!strcmp(cmd, "flood") && argc == 2)
		return cmd_flood(argv[0], argv[1]);
	if (!strcmp(cmd, "open-many") && argc == 3)
		return cmd_open_many(argv[0], argv[1], argv[2]);
	if (!strcmp(cmd, "setloginuid") && argc == 1)
		return report(write_file("/proc/self/loginuid", argv[0]));
	if (!strcmp(cmd, "chmod") && argc == 2)
		return report(chmod(argv[0], strtol(argv[1], NULL, 8)) < 0 ? errno : 0);
	if (!strcmp(cmd, "chown") && argc == 2)
		return report(chown(argv[0], atoi(argv[1]), -1) < 0 ? errno : 0);
	if (!strcmp(cmd, "truncate") && argc == 1)
		return cmd_truncate(argv[0]);
	if (!strcmp(cmd, "setxattr") && argc == 1)
		return report(setxattr(argv[0], "user.jitd", "x", 1, 0) < 0 ? errno : 0);
	if (!strcmp(cmd, "rmxattr") && argc == 1)
		return report(removexattr(argv[0], "user.jitd") < 0 ? errno : 0);
	if (!strcmp(cmd, "unlink") && argc == 1)
		return report(unlink(argv[0]) < 0 ? errno : 0);
	if (!strcmp(cmd, "rmdir") && argc == 1)
		return report(rmdir(argv[0]) < 0 ? errno : 0);
	if (!strcmp(cmd, "byhandle") && argc == 2)
		return cmd_byhandle(argv[0], argv[1]);
	if (!strcmp(cmd, "rawsock") && argc == 0)
		return cmd_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (!strcmp(cmd, "raw6sock") && argc == 0)
		return cmd_socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	if (!strcmp(cmd, "packetsock") && argc == 0)
		return cmd_socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (!strcmp(cmd, "udpsock") && argc == 0)
		return cmd_socket(AF_INET, SOCK_DGRAM, 0);
	if (!strcmp(cmd, "sctp-connect") && argc == 2)
		return cmd_sctp(2, (char *[]){argv[1], argv[0]}, 0);
	if (!strcmp(cmd, "sctp-connectx") && argc >= 2)
		return cmd_sctp(argc, argv, 1);
	if (!strcmp(cmd, "sendto-unspec") && argc == 2)
		return cmd_sendto_unspec(argv[0], argv[1]);
	if (!strcmp(cmd, "opath-hold") && argc == 3)
		return cmd_opath_hold(argv[0], argv[1], argv[2]);
	if ((!strcmp(cmd, "deepmk") || !strcmp(cmd, "deepopen") || !strcmp(cmd, "deepdirs")) &&
	    argc == 2)
		return cmd_deep(cmd, argv[0], argv[1], NULL);
	if (!strcmp(cmd, "deepmv") && argc == 3)
		return cmd_deep(cmd, argv[1], argv[2], argv[0]);
	if (!strcmp(cmd, "jitd-bpf-ids") && argc == 0)
		return cmd_jitd_bpf_ids();
	if (!strcmp(cmd, "bpf-grab") && argc == 1)
		return cmd_bpf_grab(argv[0]);
	if (!strcmp(cmd, "bpf-getfd") && argc == 2)
		return cmd_bpf_getfd(argv[0], argv[1]);
	if (!strcmp(cmd, "bpf-objget") && argc == 1)
		return cmd_bpf_objget(argv[0]);
	if (!strcmp(cmd, "bpf-load") && argc == 1)
		return cmd_bpf_load(argv[0]);
	if (!strcmp(cmd, "bpf-oldpin") && argc == 4)
		return cmd_bpf_oldpin(argv[0], argv[1], argv[2], argv[3]);
	if (!strcmp(cmd, "bpf-oldagg") && argc == 5)
		return cmd_bpf_oldagg(argv[0], argv[1], argv[2], argv[3], argv[4]);
	if (!strcmp(cmd, "bpf-maxent") && argc == 1)
		return cmd_bpf_maxent(argv[0]);
	if (!strcmp(cmd, "kill") && argc == 2)
		return report(kill(atoi(argv[0]), atoi(argv[1])) < 0 ? errno : 0);
	if (!strcmp(cmd, "umount") && argc == 1)
		return report(umount2(argv[0], MNT_DETACH) < 0 ? errno : 0);
	if (!strcmp(cmd, "write") && argc == 1)
		return cmd_write(argv[0], O_WRONLY | O_APPEND);
	if (!strcmp(cmd, "create") && argc == 1)
		return cmd_write(argv[0], O_WRONLY | O_CREAT | O_EXCL);
	if (!strcmp(cmd, "mkfifo") && argc == 1)
		return report(mkfifo(argv[0], 0600) < 0 ? errno : 0);
	if (!strcmp(cmd, "clone-into") && argc == 1)
		return cmd_clone_into(argv[0]);
	if (!strcmp(cmd, "poll-open") && (argc == 4 || argc == 5))
		return cmd_poll_open(argc, argv);
	if (!strcmp(cmd, "realtime") && argc == 0)
		return printf("%.6f\n", realtime()) < 0;
	if (!strcmp(cmd, "clock-from") && argc == 2)
		return cmd_clock_from(argv[0], argv[1]);
	if (!strcmp(cmd, "clock-step") && argc == 1)
		return report(clock_step(atof(argv[0])));
	if (!strcmp(cmd, "hold") && argc == 3)
		return cmd_hold(argv[0], argv[1], argv[2]);
	if (!strcmp(cmd, "scm-send") && argc == 2)
		return cmd_scm_send(argv[0], argv[1]);
	if (!strcmp(cmd, "scm-recv") && argc == 3)
		return cmd_scm_recv(argv[0], argv[1], argv[2]);
	if (!strcmp(cmd, "poll-read") && argc == 4)
		return cmd_poll_read(argv);
	if (!strcmp(cmd, "serve") && argc == 2)
		return cmd_serve(argv[0], argv[1]);
	return usage();
}
