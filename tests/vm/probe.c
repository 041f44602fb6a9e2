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
 * Built static so it runs in the VM's initramfs with nothing else around it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <linux/if_ether.h>
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
		"             rename A B | connect ADDR PORT | sendto ADDR PORT | ctl SOCKET LINE "
		"|\n"
		"             as UID[:GID] CMD... | loginuid N CMD... | cgexec CGPATH CMD... |\n"
		"             suroot CMD... | flood N PATH | setloginuid N | chmod PATH MODE |\n"
		"             chown PATH UID | truncate PATH | setxattr PATH | rmxattr PATH |\n"
		"             unlink PATH | rmdir PATH | byhandle PATH MOUNT | rawsock | raw6sock "
		"|\n"
		"             packetsock | udpsock | sendto-unspec ADDR PORT |\n"
		"             opath-hold PATH READY GO | deepmk DIR N | deepdirs DIR N |\n"
		"             deepopen DIR N |\n"
		"             deepmv SRC DIR N | sctp-connect ADDR PORT |\n"
		"             sctp-connectx PORT ADDR... | jitd-bpf-ids |\n"
		"             bpf-getfd map|prog|link ID | bpf-objget PATH |\n"
		"             bpf-load socket|kprobe|tracepoint|lsm|tracing | kill PID SIG |\n"
		"             umount PATH | write PATH | create PATH | mkfifo PATH |\n"
		"             clone-into CGDIR |\n"
		"             poll-open PATH WANT INTERVAL_MS TIMEOUT_MS [STOPFILE] | realtime |\n"
		"             clock-from ADDR PORT | clock-step SECONDS\n");
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

static int cmd_connect(const char *addr, const char *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, err = 0;

	if (parse_addr(addr, port, &ss, &len) < 0) {
		fprintf(stderr, "probe: bad address %s port %s\n", addr, port);
		return 2;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return report(errno);
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
	int fd, err = 0;

	if (parse_addr(addr, port, &ss, &len) < 0) {
		fprintf(stderr, "probe: bad address %s port %s\n", addr, port);
		return 2;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return report(errno);
	if (sendto(fd, "probe", 5, 0, (struct sockaddr *)&ss, len) < 0)
		err = errno;
	close(fd);
	if (err == ECONNREFUSED)
		err = 0;
	return report(err);
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

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* Print "map|prog|link ID NAME" for jitd's BPF objects (run by an exempt subject: the
 * attack tests use the ids as another subject). */
static int cmd_jitd_bpf_ids(void)
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
			g.map_id = id;
			fd = sys_bpf(kinds[k].getfd, &g);
			if (fd < 0)
				continue;
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
			}
			close(fd);
		}
	}
	return 0;
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
	if (!strcmp(cmd, "ptrace") && argc == 1)
		return cmd_ptrace(atoi(argv[0]));
	if (!strcmp(cmd, "procmem") && argc == 1)
		return cmd_procmem(argv[0]);
	if (!strcmp(cmd, "sock") && argc == 1)
		return cmd_sock(argv[0]);
	if (!strcmp(cmd, "connect") && argc == 2)
		return cmd_connect(argv[0], argv[1]);
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
	if (!strcmp(cmd, "bpf-getfd") && argc == 2)
		return cmd_bpf_getfd(argv[0], argv[1]);
	if (!strcmp(cmd, "bpf-objget") && argc == 1)
		return cmd_bpf_objget(argv[0]);
	if (!strcmp(cmd, "bpf-load") && argc == 1)
		return cmd_bpf_load(argv[0]);
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
	return usage();
}
