// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of agent/sock_reset.c on this host's loopback: connections made in this
 * process are reset by their sockets' inodes, as jitd resets them when a grant ends. The
 * dumps need no privilege. The resets need CAP_NET_ADMIN and a kernel with
 * CONFIG_INET_DIAG_DESTROY: without them each reset test says SKIP and why; so do all
 * tests when the host has no sock_diag for TCP and UDP (inet_diag, tcp_diag, udp_diag).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sock_reset.h"
#include "testlib.h"

#define MAX_SEEN 8

/* What sock_reset reported through its callback. */
struct seen {
	int n;
	struct sock_reset_result r[MAX_SEEN];
};

static void record(void *arg, const struct sock_reset_result *r)
{
	struct seen *s = arg;

	if (s->n < MAX_SEEN)
		s->r[s->n] = *r;
	s->n++;
}

static uint64_t ino_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : (uint64_t)st.st_ino;
}

/* The loopback address of family, port 0. */
static socklen_t loopback(int family, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		return sizeof(*a);
	}
	((struct sockaddr_in *)ss)->sin_family = AF_INET;
	((struct sockaddr_in *)ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sizeof(struct sockaddr_in);
}

static unsigned port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					      : ((struct sockaddr_in *)&ss)->sin_port);
}

/* Close what of fd[0..3) is open, and mark it closed (-1). */
static void close3(int fd[3])
{
	for (int i = 0; i < 3; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	fd[0] = fd[1] = fd[2] = -1;
}

/* A loopback connection of type (SOCK_STREAM, SOCK_DGRAM) and family: fd[0] the client
 * connected to fd[1] (the accepted socket, or the bound UDP one), fd[2] the listener or -1.
 * 0, or -errno with nothing left open. */
static int pair(int family, int type, int fd[3])
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, &ss);
	int srv, r = 0;

	fd[0] = fd[1] = fd[2] = -1;
	srv = socket(family, type | SOCK_CLOEXEC, 0);
	if (srv < 0)
		return -errno;
	if (bind(srv, (struct sockaddr *)&ss, len) || (type == SOCK_STREAM && listen(srv, 4)) ||
	    getsockname(srv, (struct sockaddr *)&ss, &len))
		r = -errno;
	if (!r && (fd[0] = socket(family, type | SOCK_CLOEXEC, 0)) < 0)
		r = -errno;
	if (!r && connect(fd[0], (struct sockaddr *)&ss, len))
		r = -errno;
	if (!r && type == SOCK_STREAM && (fd[1] = accept4(srv, NULL, NULL, SOCK_CLOEXEC)) < 0)
		r = -errno;
	if (type == SOCK_STREAM)
		fd[2] = srv;
	else
		fd[1] = srv;
	if (r)
		close3(fd);
	return r;
}

/* errno of a recv on fd that waits up to 1 s for something to come; 0 when data or EOF came. */
static int recv_errno(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c;

	poll(&p, 1, 1000);
	return recv(fd, &c, 1, MSG_DONTWAIT) < 0 ? errno : 0;
}

/* Why the tests cannot run here (NULL: they can), found once by probe(). */
static const char *skip_dumps, *skip_resets, *skip_ipv6;

/* The dumps' errors that say the host has no sock_diag for us, not that sock_reset is wrong. */
static bool host_lacks_diag(int r)
{
	return r == -ENOENT || r == -EPROTONOSUPPORT || r == -EAFNOSUPPORT || r == -EPERM ||
	       r == -EACCES;
}

/* Whether a loopback TCP connection of family can be made here (lo down or absent: not). */
static bool has_loopback(int family)
{
	int fd[3];

	if (pair(family, SOCK_STREAM, fd))
		return false;
	close3(fd);
	return true;
}

static void probe(void)
{
	static char why[160];
	struct seen s = {0};
	uint64_t ino;
	int fd[3], r;

	r = sock_reset(NULL, 0, NULL, NULL);
	if (r < 0 && host_lacks_diag(r)) {
		snprintf(why, sizeof(why), "no sock_diag dumps of TCP and UDP here: %s",
			 strerror(-r));
		skip_dumps = skip_resets = skip_ipv6 = why;
		return;
	}
	if (!has_loopback(AF_INET6))
		skip_ipv6 = "no IPv6 loopback (::1) here";
	if (!has_loopback(AF_INET)) {
		skip_resets = "no IPv4 loopback (127.0.0.1) here";
		return;
	}
	if (pair(AF_INET, SOCK_STREAM, fd))
		return; /* the tests say what fails */
	ino = ino_of(fd[0]);
	sock_reset(&ino, 1, record, &s);
	close3(fd);
	if (s.n == 1 && s.r[0].err == -EPERM)
		skip_resets = "SOCK_DESTROY needs CAP_NET_ADMIN in this network namespace";
	else if (s.n == 1 && s.r[0].err == -EOPNOTSUPP)
		skip_resets = "the kernel has no SOCK_DESTROY (CONFIG_INET_DIAG_DESTROY)";
	if (skip_resets)
		skip_ipv6 = skip_resets;
}

static void no_inode_only_runs_the_dumps(void)
{
	struct seen s = {0};

	CHECK_INT(sock_reset(NULL, 0, record, &s), 0);
	CHECK_INT(s.n, 0);
}

static void closed_socket_inode_resets_nothing(void)
{
	struct seen s = {0};
	uint64_t inos[3] = {0, UINT64_MAX};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	CHECK(fd >= 0, "socket: %s", strerror(errno));
	inos[2] = ino_of(fd);
	close(fd);
	CHECK_INT(sock_reset(inos, 3, record, &s), 0);
	CHECK_INT(s.n, 0);
}

/* Reset the client of a TCP connection of family: the client's next recv gets ECONNABORTED,
 * the peer a RST (ECONNRESET), and the result names the connection, client side first. */
static void check_tcp_reset(int family, const char *fmt)
{
	struct seen s = {0};
	char want[SOCK_RESET_TUPLE_MAX];
	uint64_t ino;
	int fd[3], r, client, server;

	r = pair(family, SOCK_STREAM, fd);
	CHECK(!r, "loopback TCP connection: %s", strerror(-r));
	ino = ino_of(fd[0]);
	snprintf(want, sizeof(want), fmt, port_of(fd[0]), port_of(fd[2]));
	r = sock_reset(&ino, 1, record, &s);
	client = recv_errno(fd[0]);
	server = recv_errno(fd[1]);
	close3(fd);
	CHECK_INT(r, 1);
	CHECK_INT(s.n, 1);
	CHECK_INT(s.r[0].err, 0);
	CHECK_INT(s.r[0].ino, ino);
	CHECK_STR(s.r[0].tuple, want);
	CHECK(client == ECONNABORTED, "client recv: %s, expected ECONNABORTED", strerror(client));
	CHECK(server == ECONNRESET, "server recv: %s, expected ECONNRESET (a RST)",
	      strerror(server));
}

static void tcp_client_gets_econnaborted_and_peer_rst(void)
{
	check_tcp_reset(AF_INET, "tcp 127.0.0.1:%u -> 127.0.0.1:%u");
}

static void tcp6_client_is_reset_and_named_in_brackets(void)
{
	check_tcp_reset(AF_INET6, "tcp [::1]:%u -> [::1]:%u");
}

static void connected_udp_gets_econnaborted(void)
{
	struct seen s = {0};
	char want[SOCK_RESET_TUPLE_MAX];
	uint64_t ino;
	int fd[3], r, client;

	r = pair(AF_INET, SOCK_DGRAM, fd);
	CHECK(!r, "loopback UDP pair: %s", strerror(-r));
	ino = ino_of(fd[0]);
	snprintf(want, sizeof(want), "udp 127.0.0.1:%u -> 127.0.0.1:%u", port_of(fd[0]),
		 port_of(fd[1]));
	r = sock_reset(&ino, 1, record, &s);
	client = recv_errno(fd[0]);
	close3(fd);
	CHECK_INT(r, 1);
	CHECK_INT(s.n, 1);
	CHECK_INT(s.r[0].err, 0);
	CHECK_INT(s.r[0].ino, ino);
	CHECK_STR(s.r[0].tuple, want);
	CHECK(client == ECONNABORTED, "client recv: %s, expected ECONNABORTED", strerror(client));
}

/* The sockets of a, b, u: one TCP and one UDP client reset (the TCP one named twice, with
 * 0 and a closed socket's inode), the other TCP connection still carries data. */
static void check_each_once(int a[3], int b[3], int u[3])
{
	struct seen s = {0};
	uint64_t inos[5] = {ino_of(a[0]), 0, ino_of(u[0]), ino_of(a[0]), UINT64_MAX};
	char c = 'x';

	CHECK_INT(sock_reset(inos, 5, record, &s), 2);
	CHECK_INT(s.n, 2);
	CHECK(s.r[0].ino != s.r[1].ino, "inode %" PRIu64 " reported twice", s.r[0].ino);
	for (int i = 0; i < 2; i++) {
		CHECK(s.r[i].ino == inos[0] || s.r[i].ino == inos[2], "reset %" PRIu64, s.r[i].ino);
		CHECK_INT(s.r[i].err, 0);
	}
	CHECK_INT(recv_errno(a[0]), ECONNABORTED);
	CHECK_INT(recv_errno(u[0]), ECONNABORTED);
	CHECK_INT(send(b[0], &c, 1, MSG_NOSIGNAL), 1);
	CHECK_INT(recv(b[1], &c, 1, 0), 1);
	CHECK_INT(send(b[1], &c, 1, MSG_NOSIGNAL), 1);
	CHECK_INT(recv(b[0], &c, 1, 0), 1);
}

static void each_socket_reset_once_others_untouched(void)
{
	int a[3] = {-1, -1, -1}, b[3] = {-1, -1, -1}, u[3] = {-1, -1, -1}, r;

	r = pair(AF_INET, SOCK_STREAM, a);
	if (!r)
		r = pair(AF_INET, SOCK_STREAM, b);
	if (!r)
		r = pair(AF_INET, SOCK_DGRAM, u);
	if (!r)
		check_each_once(a, b, u);
	close3(a);
	close3(b);
	close3(u);
	CHECK(!r, "loopback sockets: %s", strerror(-r));
}

#define MANY 500

/* MANY bound UDP sockets, more than one 32 KiB dump datagram holds: all found and reset. */
static void sockets_in_later_dump_parts_are_reset(void)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(AF_INET, &ss);
	struct seen s = {0};
	uint64_t inos[MANY];
	int fd[MANY], n, r = 0;

	for (n = 0; n < MANY && !r; n++) {
		fd[n] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd[n] < 0 || bind(fd[n], (struct sockaddr *)&ss, len))
			r = -errno;
		inos[n] = ino_of(fd[n]);
	}
	if (!r)
		r = sock_reset(inos, MANY, record, &s);
	for (int i = 0; i < n; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	CHECK(r >= 0, "%d bound UDP sockets: %s", n, strerror(-r));
	CHECK_INT(r, MANY);
	CHECK_INT(s.n, MANY);
}

/* RUN fn, or say SKIP and why when the host cannot do what fn needs. */
#define RUN_IF(why, fn)                                                                            \
	do {                                                                                       \
		if (why)                                                                           \
			printf("SKIP %s: %s\n", #fn, why);                                         \
		else                                                                               \
			RUN(fn);                                                                   \
	} while (0)

int main(void)
{
	probe();
	RUN_IF(skip_dumps, no_inode_only_runs_the_dumps);
	RUN_IF(skip_dumps, closed_socket_inode_resets_nothing);
	RUN_IF(skip_resets, tcp_client_gets_econnaborted_and_peer_rst);
	RUN_IF(skip_ipv6, tcp6_client_is_reset_and_named_in_brackets);
	RUN_IF(skip_resets, connected_udp_gets_econnaborted);
	RUN_IF(skip_resets, each_socket_reset_once_others_untouched);
	RUN_IF(skip_resets, sockets_in_later_dump_parts_are_reset);
	return tl_exit();
}
