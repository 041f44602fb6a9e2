/* SPDX-License-Identifier: GPL-2.0-only */
/* Allows aggregated in the kernel (jitd_allow_agg) into audit records (aggregate.c). */
#ifndef JITD_AGGREGATE_H
#define JITD_AGGREGATE_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

struct agent;

#define AGG_DEFAULT_S	  5    /* default --audit-aggregate */
#define AGG_MAX_S	  3600 /* the longest interval --audit-aggregate takes */
#define AGG_STOP_PAUSE_MS 50   /* at stop, for a program that read "aggregate" to count */

/* What the harvest keeps between its runs (in struct agent). */
struct agg_state {
	uint32_t interval_s;   /* --audit-aggregate (0: off) */
	int64_t next_boot_ns;  /* the next harvest, boot clock (0: at the first tick) */
	uint64_t records;      /* aggregate records written by this agent */
	uint64_t uses;	       /* the allows they count */
	uint64_t read_errors;  /* entries that could not be read (left for the next harvest) */
	uint64_t write_errors; /* harvests the audit file refused (entries left for the next) */
	uint64_t entries;      /* in the kernel map at the last harvest */
};

/* Put the interval in force in the kernel (jitd_config). 0 or negative errno. */
int aggregate_start(struct agent *a, uint32_t interval_s);
/* Each second: once an interval passed, write and delete the aggregates that are over. */
void aggregate_tick(struct agent *a);
/* Write and delete every aggregate that is over now (start-up, tick). */
void aggregate_harvest(struct agent *a);
/* At stop: write and delete every aggregate, the current interval's too. */
void aggregate_stop(struct agent *a);
/* Its part of status: {"interval_s", "records", "uses", "entries", "max", "read_errors",
 * "write_errors"}. */
json_t *aggregate_status(struct agent *a);

#endif
