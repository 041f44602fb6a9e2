/* SPDX-License-Identifier: GPL-2.0-only */
/* Fleet mode: the host's link to the fleet database (PostgreSQL), kept by the loop. */
#ifndef JITD_FLEET_H
#define JITD_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

struct agent;
struct sd_event_source;
struct pg_conn;

#define FLEET_RESYNC_S	  30 /* heartbeat and full resync (changes are pushed) */
#define FLEET_BACKOFF_MAX 30 /* seconds between reconnection attempts, at most */

/* A fleet request as a host reads it (jitd.requests). */
struct fleet_row {
	int64_t id, rev;
	char res[16][64];
	unsigned n_res;
	char user[65], requested_by[65], requested_on[65], state[16], ended_by[65];
	int64_t starts_ns, expires_ns; /* this host's CLOCK_REALTIME (the database's distance) */
	char reason[1025];
	bool mine; /* the host's labels carry its selector */
};

/* agent.fleet: empty conninfo means single-host mode. */
struct fleet {
	const char *conninfo;
	json_t *labels; /* {"name": "value"} */
	struct pg_conn *conn;
	struct sd_event_source *io, *timer;
	int io_fd;
	bool up;		   /* connected, listening, synced once */
	bool connecting;	   /* PQconnectPoll in progress */
	unsigned backoff_s;	   /* next reconnection delay */
	int64_t last_rev;	   /* every row up to this revision is applied */
	int64_t synced_ns;	   /* CLOCK_REALTIME of the last full sync */
	int64_t failed_serial;	   /* a fleet policy refused here: not tried again */
	uint64_t applied, skipped; /* rows put in force, rows this host could not */
	char error[256];	   /* why it is down, or "" */
	char logged[256];	   /* the last reason logged (each said once) */
};

/* Parse one --label NAME=VALUE into labels; 0 or -EINVAL with err set. */
int fleet_label_add(json_t *labels, const char *arg, char *err, size_t errlen);
/* Start the link (when conninfo is set): connects in the background, reconnects forever. */
int fleet_start(struct agent *a);
void fleet_stop(struct agent *a);
/* `status`: the link's part of the reply. */
json_t *fleet_status(struct agent *a);

/* Fleet operations for the verbs; each needs the link up (else -ENOTCONN with err saying
 * so). 0 or negative errno with err set. */
/* A request is refused with -EDQUOT when requester_uid already has max_open requests of this
 * host pending or active (0: no limit). */
int fleet_insert_request(struct agent *a, const struct fleet_row *r, const json_t *selector,
			 int64_t duration_s, int64_t max_duration_s, unsigned approvals,
			 uid_t requester_uid, unsigned max_open, int64_t *id, char *err,
			 size_t errlen);
int fleet_insert_action(struct agent *a, int64_t id, const char *action, const char *by_user,
			uid_t by_uid, const char *reason, int64_t extend_s, char *err,
			size_t errlen);
/* One request this host may see; -ENOENT when none. */
int fleet_fetch(struct agent *a, int64_t id, struct fleet_row *r, json_t **detail, char *err,
		size_t errlen);
/* Requests this host may see, newest first (at most limit); all: ended ones too. */
int fleet_list(struct agent *a, bool all, size_t limit, json_t **out, char *err, size_t errlen);

#endif
