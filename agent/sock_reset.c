// SPDX-License-Identifier: GPL-2.0-only
/*
 * Resetting connections by socket inode, what `ss -K` does (sock_reset.h). Over
 * NETLINK_SOCK_DIAG: four SOCK_DIAG_BY_FAMILY dumps (TCP and UDP, IPv4 and IPv6) of the
 * caller's network namespace keep the sockets whose inode is asked for; then one
 * SOCK_DESTROY each with the dumped inet_diag_sockid, cookie included, so that a socket
 * which took the same addresses and ports since the dump is not hit (-ENOENT). The kernel
 * aborts the socket (tcp_abort, udp_abort) with ECONNABORTED.
 *
 * The destroys wait for the end of the dumps: a dump goes on from a position in the hash
 * chains, and a socket removed from under it would make it skip another.
 *
 * What the kernel needs: inet_diag, tcp_diag and udp_diag (modules on Debian, loaded on
 * first use where modprobe can; -ENOENT otherwise), CONFIG_INET_DIAG_DESTROY, and
 * CAP_NET_ADMIN over the network namespace for SOCK_DESTROY (not for the dumps). A leaf:
 * it calls nothing else of jitd, and logs nothing; the caller logs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "sock_reset.h"

/* The longest one send or receive waits for the kernel; then -ETIMEDOUT. */
#define SR_TIMEOUT_S 2
/* The kernel fills one dump datagram up to 32 KiB (netlink_dump), never more. */
#define SR_BUF_SIZE 32768

/*
 * The TCP states of a socket a process may hold and that has a peer: SYN-SENT (a connect
 * under way), SYN-RECV (a TCP Fast Open child, readable before the handshake ends),
 * ESTABLISHED, and the closing states in which one direction may still carry data. Left
 * out: LISTEN (no connection, and not tagged by connect), TIME-WAIT (no socket file
 * behind it: inode 0) and CLOSE (a closed socket is in no hash table the dump walks).
 * SYN-RECV also dumps pending requests; they have inode 0 and never match.
 */
#define SR_TCP_STATES                                                                              \
	((1u << TCP_SYN_SENT) | (1u << TCP_SYN_RECV) | (1u << TCP_ESTABLISHED) |                   \
	 (1u << TCP_FIN_WAIT1) | (1u << TCP_FIN_WAIT2) | (1u << TCP_CLOSE_WAIT) |                  \
	 (1u << TCP_LAST_ACK) | (1u << TCP_CLOSING))
/* UDP: connected (ESTABLISHED) and bound (CLOSE) sockets alike; the inode decides. */
#define SR_UDP_STATES ((1u << TCP_ESTABLISHED) | (1u << TCP_CLOSE))

/* A socket found by a dump, to destroy. */
struct sr_match {
	struct inet_diag_sockid id;
	uint64_t ino;
	uint8_t family, protocol;
};

struct sr_ctx {
	int fd;
	uint32_t seq;		  /* of the last request sent */
	uint64_t *inos;		  /* the inodes asked for: sorted, unique, no 0 */
	bool *found;		  /* found[i]: inos[i] was dumped already (one destroy each) */
	size_t n;		  /* of inos */
	struct sr_match *matches; /* n at most, as found is */
	size_t n_matches;
	union {
		struct nlmsghdr h; /* for the alignment */
		char b[SR_BUF_SIZE];
	} buf;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* c's set from inos[0..n): sorted, duplicates and 0 (no socket's inode) dropped. */
static int set_init(struct sr_ctx *c, const uint64_t *inos, size_t n)
{
	size_t i, j;

	c->inos = calloc(n ? n : 1, sizeof(*c->inos));
	c->found = calloc(n ? n : 1, sizeof(*c->found));
	c->matches = calloc(n ? n : 1, sizeof(*c->matches));
	if (!c->inos || !c->found || !c->matches)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (inos[i])
			c->inos[c->n++] = inos[i];
	qsort(c->inos, c->n, sizeof(*c->inos), cmp_u64);
	for (i = 0, j = 0; i < c->n; i++)
		if (!j || c->inos[j - 1] != c->inos[i])
			c->inos[j++] = c->inos[i];
	c->n = j;
	return 0;
}

/* A NETLINK_SOCK_DIAG socket whose sends and receives wait SR_TIMEOUT_S at most; or -errno. */
static int nl_open(void)
{
	struct timeval tv = {.tv_sec = SR_TIMEOUT_S};
	int fd, r;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv))) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* Close c's socket and open another: a failed dump may have left parts of it queued. */
static int nl_reopen(struct sr_ctx *c)
{
	close(c->fd);
	c->fd = nl_open();
	return c->fd < 0 ? c->fd : 0;
}

/* Send the request type (NLM_F_REQUEST | flags) with payload req, as sequence ++c->seq. */
static int nl_send(struct sr_ctx *c, uint16_t type, uint16_t flags,
		   const struct inet_diag_req_v2 *req)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} msg = {
		.h = {.nlmsg_len = sizeof(msg),
		      .nlmsg_type = type,
		      .nlmsg_flags = NLM_F_REQUEST | flags,
		      .nlmsg_seq = ++c->seq},
		.r = *req,
	};
	ssize_t n;

	_Static_assert(sizeof(msg) == NLMSG_LENGTH(sizeof(struct inet_diag_req_v2)),
		       "no padding between the header and the request");
	do
		n = sendto(c->fd, &msg, sizeof(msg), 0, (struct sockaddr *)&kernel, sizeof(kernel));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	return n == sizeof(msg) ? 0 : -EIO;
}

/*
 * The next datagram from the kernel into c->buf: its length, or -ETIMEDOUT after
 * SR_TIMEOUT_S, -EMSGSIZE when it did not fit (the kernel dropped the rest), or -errno.
 * Datagrams from other senders (only a privileged one can) are skipped.
 */
static int nl_recv(struct sr_ctx *c)
{
	struct sockaddr_nl from;
	struct iovec iov = {.iov_base = c->buf.b, .iov_len = sizeof(c->buf.b)};
	struct msghdr mh;
	ssize_t n;

	for (;;) {
		mh = (struct msghdr){.msg_name = &from,
				     .msg_namelen = sizeof(from),
				     .msg_iov = &iov,
				     .msg_iovlen = 1};
		n = recvmsg(c->fd, &mh, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		if (mh.msg_flags & MSG_TRUNC)
			return -EMSGSIZE;
		if (mh.msg_namelen >= sizeof(from) && from.nl_pid == 0)
			return (int)n;
	}
}

/* The errno of an NLMSG_ERROR message: 0 (an ack) or negative. */
static int nl_error(const struct nlmsghdr *h)
{
	struct nlmsgerr e;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(e)))
		return -EBADMSG;
	memcpy(&e, NLMSG_DATA(h), sizeof(e));
	return e.error <= 0 ? e.error : -EPROTO;
}

/* The end of a dump: 1, or the error its NLMSG_DONE carries (a dump that failed midway). */
static int nl_done(const struct nlmsghdr *h)
{
	int err = 0;

	if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(err)))
		memcpy(&err, NLMSG_DATA(h), sizeof(err));
	return err < 0 ? err : 1;
}

/* A dumped socket: kept for a destroy when its inode is asked for and not kept yet. */
static void keep(struct sr_ctx *c, const struct inet_diag_msg *m, uint8_t protocol)
{
	uint64_t ino = m->idiag_inode;
	const uint64_t *p;
	size_t i;

	if (!ino)
		return;
	p = bsearch(&ino, c->inos, c->n, sizeof(*c->inos), cmp_u64);
	if (!p)
		return;
	i = (size_t)(p - c->inos);
	if (c->found[i])
		return;
	c->found[i] = true;
	c->matches[c->n_matches++] = (struct sr_match){
		.id = m->id, .ino = ino, .family = m->idiag_family, .protocol = protocol};
}

/*
 * One datagram (len bytes in c->buf) of the dump of request seq: 0 when more follow, 1 at
 * its NLMSG_DONE, or -errno (the kernel's error, or -EBADMSG for a truncated message).
 * inet_diag does not mark interrupted dumps (NLM_F_DUMP_INTR): there is none to retry.
 */
static int dump_part(struct sr_ctx *c, int len, uint32_t seq, uint8_t protocol)
{
	const struct nlmsghdr *h;
	int r;

	for (h = &c->buf.h; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
		if (h->nlmsg_seq != seq)
			continue; /* the late answer of an earlier request */
		if (h->nlmsg_type == NLMSG_DONE)
			return nl_done(h);
		if (h->nlmsg_type == NLMSG_ERROR) {
			r = nl_error(h);
			if (r)
				return r;
			continue; /* an ack: the dump goes on */
		}
		if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
			continue;
		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
			return -EBADMSG;
		keep(c, NLMSG_DATA(h), protocol);
	}
	return len > 0 ? -EBADMSG : 0;
}

/* Dump the sockets of family and protocol to the end, keeping those asked for; 0 or -errno. */
static int dump(struct sr_ctx *c, uint8_t family, uint8_t protocol)
{
	struct inet_diag_req_v2 req = {
		.sdiag_family = family,
		.sdiag_protocol = protocol,
		.idiag_states = protocol == IPPROTO_TCP ? SR_TCP_STATES : SR_UDP_STATES,
	};
	int len, r;

	r = nl_send(c, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, &req);
	while (!r) {
		len = nl_recv(c);
		r = len < 0 ? len : dump_part(c, len, c->seq, protocol);
	}
	return r > 0 ? 0 : r;
}

/* SOCK_DESTROY of socket m and the kernel's answer: 0 destroyed, or -errno. */
static int destroy(struct sr_ctx *c, const struct sr_match *m)
{
	struct inet_diag_req_v2 req = {
		.sdiag_family = m->family,
		.sdiag_protocol = m->protocol,
		.idiag_states = ~0u,
		.id = m->id,
	};
	const struct nlmsghdr *h;
	int len, r;

	r = nl_send(c, SOCK_DESTROY, NLM_F_ACK, &req);
	if (r)
		return r;
	for (;;) {
		len = nl_recv(c);
		if (len < 0)
			return len;
		for (h = &c->buf.h; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len))
			if (h->nlmsg_seq == c->seq && h->nlmsg_type == NLMSG_ERROR)
				return nl_error(h);
	}
}

/* "tcp 10.0.0.1:5432 -> 10.0.0.2:40000" or "udp [::1]:53 -> [::1]:40000": m, local first. */
static void format_tuple(char *out, size_t size, const struct sr_match *m)
{
	char src[INET6_ADDRSTRLEN] = "?", dst[INET6_ADDRSTRLEN] = "?";
	const char *proto = m->protocol == IPPROTO_TCP ? "tcp" : "udp";
	bool v6 = m->family == AF_INET6;

	if (!inet_ntop(m->family, m->id.idiag_src, src, sizeof(src)))
		strcpy(src, "?");
	if (!inet_ntop(m->family, m->id.idiag_dst, dst, sizeof(dst)))
		strcpy(dst, "?");
	snprintf(out, size, "%s %s%s%s:%u -> %s%s%s:%u", proto, v6 ? "[" : "", src, v6 ? "]" : "",
		 ntohs(m->id.idiag_sport), v6 ? "[" : "", dst, v6 ? "]" : "",
		 ntohs(m->id.idiag_dport));
}

/* Destroy each socket the dumps kept, telling cb; the number destroyed. */
static int destroy_all(struct sr_ctx *c, void (*cb)(void *arg, const struct sock_reset_result *r),
		       void *arg)
{
	struct sock_reset_result res;
	int destroyed = 0;
	size_t i;

	for (i = 0; i < c->n_matches; i++) {
		memset(&res, 0, sizeof(res));
		res.ino = c->matches[i].ino;
		res.err = destroy(c, &c->matches[i]);
		format_tuple(res.tuple, sizeof(res.tuple), &c->matches[i]);
		if (!res.err)
			destroyed++;
		if (cb)
			cb(arg, &res);
	}
	return destroyed;
}

int sock_reset(const uint64_t *inos, size_t n,
	       void (*cb)(void *arg, const struct sock_reset_result *r), void *arg)
{
	static const struct {
		uint8_t family, protocol;
	} dumps[] = {
		{AF_INET, IPPROTO_TCP},
		{AF_INET6, IPPROTO_TCP},
		{AF_INET, IPPROTO_UDP},
		{AF_INET6, IPPROTO_UDP},
	};
	struct sr_ctx *c;
	int r, err = 0;
	size_t i;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = -1;
	r = set_init(c, inos, n);
	if (r)
		goto out;
	r = c->fd = nl_open();
	if (r < 0)
		goto out;
	/* every dump when there is no inode to look for (a probe), else until all are found */
	for (i = 0; i < sizeof(dumps) / sizeof(dumps[0]) && (!c->n || c->n_matches < c->n); i++) {
		r = dump(c, dumps[i].family, dumps[i].protocol);
		if (!r)
			continue;
		if (!err)
			err = r;
		r = nl_reopen(c);
		if (r)
			goto out;
	}
	r = destroy_all(c, cb, arg);
	if (err)
		r = err;
out:
	if (c->fd >= 0)
		close(c->fd);
	free(c->inos);
	free(c->found);
	free(c->matches);
	free(c);
	return r;
}
