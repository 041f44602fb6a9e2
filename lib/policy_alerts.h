/* SPDX-License-Identifier: GPL-2.0-only */
/* The policy's "alerts" object: thresholds and rate limits of jitd's alerts (README, "Alerts"). */
#ifndef JITD_POLICY_ALERTS_H
#define JITD_POLICY_ALERTS_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#define ALERTS_MAX_COUNT     100000
#define ALERTS_QUIET_S	     600 /* default "quiet": 10m */
#define ALERTS_MAX_PER_H     60	 /* default "max_per_hour" */
#define ALERTS_MAX_PER_H_MAX 100000

/* A counted kind: at least count events within per_s seconds; count 0: off. */
struct policy_alert_window {
	uint32_t count;
	int64_t per_s;
};

struct policy_alerts {
	struct policy_alert_window denials, refused_requests;
	bool hours;		   /* "hours" given: requests outside them raise an alert */
	uint8_t days;		   /* bit (1 << tm_wday): 0 sun .. 6 sat */
	uint16_t from_min, to_min; /* minutes after local midnight; to 1440: "24:00" */
	bool break_glass, tamper;
	int64_t quiet_s;
	uint32_t max_per_hour;
};

/* Where an "alerts" error is (keys below "alerts", at most 3) and what it says. */
struct policy_alerts_err {
	const char *key[3];
	int depth;
	bool at_key; /* the complaint is about the last key, not its value */
	char msg[256];
};

/* The behaviour without an "alerts" key: tamper and break-glass alerts only. */
void policy_alerts_default(struct policy_alerts *out);
/* Parse the "alerts" object v into out (defaults first). 0, or -EINVAL with e set. */
int policy_alerts_parse(const json_t *v, struct policy_alerts *out, struct policy_alerts_err *e);
/* Is local time (tm_wday, minutes after midnight) inside the configured hours? A span
 * across midnight (from > to) belongs to the day it starts on. */
bool policy_alerts_in_hours(const struct policy_alerts *a, int wday, int minute);

#endif
