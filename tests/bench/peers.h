/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The peers `make bench` measures beside jitd, in the same VM boot and the same
 * interleaved rounds (tests/bench/peers.c): AppArmor (a profile with one deny rule per
 * protected object and filler rules, loaded with Debian's apparmor_parser into a kernel
 * booted with apparmor in lsm=) and fapolicyd (Debian's daemon, fanotify permission
 * events, deny rules for the protected file and binary).
 *
 * Every function returns 0, or -1 with why[] set to one line saying why that peer's rows
 * are not measured (the bench prints it instead of the row: never a silent gap).
 */
#ifndef JITD_BENCH_PEERS_H
#define JITD_BENCH_PEERS_H

#include <stddef.h>
#include <sys/types.h>

/* The objects the bench times, as the peers must see them. */
struct peer_objects {
	const char *prot_file;	 /* protected; "granted" rows: allowed to bench_uid */
	const char *prot_bin;	 /* protected binary, same */
	const char *unprot_file; /* never mentioned by a rule */
	const char *unprot_bin;
	const char *prot_addr; /* IPv4 destination jitd protects (port below) */
	int port;
	uid_t bench_uid;      /* the unprivileged uid the timed operations run as */
	int n_rules;	      /* filler rules, as jitd's 1,000 resources */
	const char *rule_dir; /* existing files the filler rules name */
};

/* AppArmor: compile and load the profile (once per boot). */
int apparmor_setup(const struct peer_objects *o, char *why, size_t len);
/* In the calling process (a worker forked for the AppArmor rounds, still root): confine it
 * and its children by the profile from now on (irreversible). granted 0: the profile that
 * denies the protected file and binary (the unprotected rows); 1: the one that allows them
 * by explicit rules (the "protected object allowed" rows: AppArmor has no rule per user and
 * none that expires, so it allows them to every process it confines). */
int apparmor_confine(int granted, char *why, size_t len);
/* Whether the profile has a network rule equivalent to jitd's destination check (0: the
 * connect rows are printed as "no equivalent"). */
int apparmor_has_net(void);

/* fapolicyd: start the daemon with the bench's rules; returns once it decides opens. */
int fapolicyd_start(const struct peer_objects *o, char *why, size_t len);
/* Stop it; returns once its fanotify marks are gone. */
void fapolicyd_stop(void);

#endif /* JITD_BENCH_PEERS_H */
