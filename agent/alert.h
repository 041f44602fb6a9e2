/* SPDX-License-Identifier: GPL-2.0-only */
/* Alerts: bursts of denials, refused and off-hours requests, break-glass, tamper (README,
 * "Alerts"); each an audit record "alert" (OCSF Detection Finding 2004). */
#ifndef JITD_ALERT_H
#define JITD_ALERT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#define ALERT_SUBJECTS 4096 /* subjects with counts kept; the least recently seen go first */
#define ALERT_EVIDENCE 5    /* refusal messages an alert carries */
#define ALERT_EV_LEN   96

enum alert_kind {
	ALERT_DENIAL_BURST = 0,
	ALERT_REFUSED_REQUESTS = 1,
	ALERT_OFF_HOURS = 2,
	ALERT_BREAK_GLASS = 3,
	ALERT_TAMPER = 4,
	ALERT_KINDS = 5
};

/* A two-bucket sliding window: cur counts since start, prev the bucket before. */
struct alert_window {
	int64_t start_ns, first_ns, last_ns;
	uint32_t cur, prev;
};

/* One subject's counts; uid ALERT_FREE: an empty slot. */
struct alert_subject {
	uint32_t uid;
	uint64_t seen;		    /* alert_state.tick of its last use (LRU) */
	struct alert_window win[2]; /* denials, refused requests */
	int64_t quiet_until[ALERT_KINDS];
	uint32_t held[ALERT_KINDS]; /* alerts held back since the last one raised */
	char ev[ALERT_EVIDENCE][ALERT_EV_LEN];
	unsigned n_ev;
};

struct alert_state {
	struct alert_subject *subjects; /* ALERT_SUBJECTS, allocated at the first use */
	uint64_t tick;
	double tokens; /* max_per_hour bucket */
	int64_t tokens_at;
	bool tokens_set;
	uint64_t raised[ALERT_KINDS], suppressed[ALERT_KINDS];
	uint64_t evicted;
};

struct agent;
struct grant;
struct jitd_event;

/* A kernel decision from the ring buffer: denials count, tamper raises. now: realtime ns. */
void alert_decision(struct agent *a, const struct jitd_event *e, int64_t now);
/* A request by uid for res (n names; NULL n 0 when unknown): refused (refusal its message,
 * or NULL when it was not refused) or not; outside "hours" raises off_hours_request. */
void alert_request(struct agent *a, uid_t uid, const char *const *res, size_t n,
		   const char *refusal, int64_t now);
/* A break-glass grant was given (g active at once, without approval). */
void alert_break_glass(struct agent *a, const struct grant *g, int64_t now);
/* status's "alerts": {"raised", "suppressed", "by_kind": {KIND: {"raised","suppressed"}}}. */
json_t *alert_status(const struct agent *a);
/* The name of a kind ("denial_burst", ...). */
const char *alert_kind_name(enum alert_kind k);
/* Free the counts (the state can be used again). */
void alert_free(struct alert_state *st);

#endif
