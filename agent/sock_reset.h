/* SPDX-License-Identifier: GPL-2.0-only */
/* Resetting TCP and UDP connections by socket inode, the way `ss -K` does (sock_diag). */
#ifndef JITD_SOCK_RESET_H
#define JITD_SOCK_RESET_H

#include <stddef.h>
#include <stdint.h>

#define SOCK_RESET_TUPLE_MAX 128

/* One socket sock_reset found: what it did to it and which connection it was. */
struct sock_reset_result {
	uint64_t ino; /* its sockfs inode number (st_ino of the socket's fd) */
	int err;      /* 0 destroyed, or -errno: -EPERM without CAP_NET_ADMIN, -EOPNOTSUPP
		       * without CONFIG_INET_DIAG_DESTROY, -ENOENT gone since the dump */
	char tuple[SOCK_RESET_TUPLE_MAX]; /* "tcp 10.0.0.1:5432 -> 10.0.0.2:40000", local first;
					   * IPv6 addresses in brackets */
};

/*
 * Destroy every TCP and UDP socket (IPv4 and IPv6) of the calling process's network
 * namespace whose sockfs inode number is in inos[0..n) (duplicates and 0 ignored): TCP
 * sends a RST and the owner's next call fails with ECONNABORTED; UDP is disconnected with
 * ECONNABORTED. Calls cb (may be NULL) once per socket found, destroyed or not. Returns
 * the number destroyed, or -errno when the sock_diag socket or a dump failed (-ENOENT or
 * -EPROTONOSUPPORT: no inet_diag, tcp_diag or udp_diag; -EAFNOSUPPORT: AF_NETLINK
 * refused), after still resetting, and reporting to cb, what the other dumps found. The
 * dumps need no privilege: a missing CAP_NET_ADMIN shows as -EPERM in each result. With
 * no inode to look for it only runs the dumps: 0 says they work here. Each wait for the
 * kernel is bounded (2 s).
 */
int sock_reset(const uint64_t *inos, size_t n,
	       void (*cb)(void *arg, const struct sock_reset_result *r), void *arg);

#endif
