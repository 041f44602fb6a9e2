/* SPDX-License-Identifier: GPL-2.0-only */
/* The control protocol's verbs: one function per op, a request line in, a reply out. */
#ifndef JITD_VERBS_H
#define JITD_VERBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

struct agent;
struct policy;

/* policy_show's reply, built and serialized once per policy and second (a reload may put an
 * unchanged serial at the same address); agent.verbs_cache. */
struct verbs_cache {
	const struct policy *p;
	int64_t serial;
	uint64_t at;
	json_t *json;
	char *line;
	size_t len;
};

/* Who sent a request, as the transport (ctl.c) established it from the socket. */
struct verb_peer {
	struct agent *a;
	uid_t uid;	/* the subject: the login uid when set, as the kernel programs see it */
	pid_t pid;	/* the connecting process (SO_PEERCRED) */
	uid_t proc_uid; /* that process's own uid */
	void *client;	/* the connection, for an audit subscription (ctl_push) */
	bool follow;	/* set by `audit`: the connection is now a live subscriber */
};

/*
 * Run one request line (docs/protocol.md) for peer; returns the reply (never NULL unless out
 * of memory). Every op checks who may run it here; a refused or malformed request changes
 * nothing.
 */
json_t *verbs_dispatch(struct verb_peer *peer, const char *line, size_t len);
/* The reply as one serialized line when it is the cached policy_show reply, else NULL. */
const char *verbs_cached_line(const struct agent *a, const json_t *reply, size_t *len);
/* Error reply {"ok":false,"error":...,"errno":...}, the message made valid UTF-8. */
json_t *verbs_error(const char *errno_name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
