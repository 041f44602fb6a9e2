/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libpq, loaded only when fleet mode is used: a jitd without --fleet, and every jitctl
 * command but `jitctl fleet`, never map it and the dozen libraries it pulls in (TLS,
 * Kerberos, LDAP: ~3.4 MiB of a host agent's memory). Calls go through pq.NAME(...).
 */
#ifndef JITD_PQDL_H
#define JITD_PQDL_H

#include <stddef.h>
#include <libpq-fe.h>

/* Every libpq function jitd and jitctl call. */
#define PQ_SYMBOLS(X)                                                                              \
	X(PQclear)                                                                                 \
	X(PQconnectPoll)                                                                           \
	X(PQconnectStartParams)                                                                    \
	X(PQconnectdbParams)                                                                       \
	X(PQconsumeInput)                                                                          \
	X(PQerrorMessage)                                                                          \
	X(PQescapeIdentifier)                                                                      \
	X(PQescapeLiteral)                                                                         \
	X(PQexec)                                                                                  \
	X(PQexecParams)                                                                            \
	X(PQexecPrepared)                                                                          \
	X(PQfinish)                                                                                \
	X(PQfreemem)                                                                               \
	X(PQgetisnull)                                                                             \
	X(PQgetlength)                                                                             \
	X(PQgetvalue)                                                                              \
	X(PQhost)                                                                                  \
	X(PQnotifies)                                                                              \
	X(PQntuples)                                                                               \
	X(PQport)                                                                                  \
	X(PQprepare)                                                                               \
	X(PQresultErrorField)                                                                      \
	X(PQresultStatus)                                                                          \
	X(PQsetNoticeProcessor)                                                                    \
	X(PQsocket)                                                                                \
	X(PQstatus)

struct pq_api {
#define PQ_MEMBER(name) __typeof__(name) *name;
	PQ_SYMBOLS(PQ_MEMBER)
#undef PQ_MEMBER
};

/* The functions, once pq_load returned 0 (all NULL before). */
extern struct pq_api pq;

/* Load libpq (libpq.so.5) and every function above, once. 0, or -ENOENT with what is
 * missing and what to do in err. */
int pq_load(char *err, size_t errlen);

#endif
