// SPDX-License-Identifier: GPL-2.0-only
/*
 * Allows aggregated in the kernel. With --audit-aggregate N (default 5, 0 off) the BPF side
 * records the first allow of a process, object and grant in an interval of N seconds in
 * full and only counts the later ones in jitd_allow_agg (bpf/jitd.bpf.c, agg_count). Here,
 * once an interval is over, each entry with a count becomes one audit record like that
 * full record plus the count and the first and last time, and is deleted. The entries are
 * keyed by the boot-clock second their interval ends, so a restarted jitd (or one with
 * another interval) harvests what an earlier one left. An entry is read one whole interval
 * after its end: a program that read the clock just before the end has long added its count.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "aggregate.h"
#include "audit.h"
#include "core.h"
#include "kern.h"
#include "log.h"
#include "ring.h"
#include "util.h"

int aggregate_start(struct agent *a, uint32_t interval_s)
{
	int r = kern_agg_set(a->kern, interval_s);

	a->agg.interval_s = interval_s;
	if (r)
		log_err("cannot set the audit aggregation interval: %s", strerror(-r));
	return r;
}

static const char *agg_path_of(struct agent *a, uint64_t dev, uint64_t ino)
{
	return kern_path_of(a->kern, dev, ino);
}

/* The record of one aggregate read from the kernel (the subject of its full record). 0 or
 * negative errno (the audit write failed). */
static int agg_write(struct agent *a, const struct jitd_agg_key *k, const struct jitd_agg_val *v)
{
	struct jitd_event e = {};

	e.ts_ns = v->last_ns;
	e.cgroup = v->cgroup;
	e.grant_id = k->grant_id;
	if (!k->family) {
		e.dev = k->obj[0];
		e.ino = k->obj[1];
	} else
		memcpy(e.addr, k->obj, sizeof(e.addr));
	e.pid = k->tgid;
	e.tid = v->tid;
	e.uid = v->uid;
	e.loginuid = v->loginuid;
	e.subject_uid = v->subject_uid;
	e.resource = k->resource;
	e.op = k->op;
	e.decision = JITD_ALLOW;
	e.family = k->family;
	e.port = k->port;
	memcpy(e.comm, v->comm, sizeof(e.comm));
	if (audit_decision_count(a, &e, v->count, v->first_ns ?: v->last_ns, agg_path_of) < 0)
		return -EIO;
	a->agg.records++;
	a->agg.uses += v->count;
	return 0;
}

/* The keys of the entries over at now_s (boot clock; every entry when every), in *keys
 * (malloc'd); *all: every entry seen. */
static size_t agg_due(int fd, uint32_t now_s, uint32_t ival, bool every, struct jitd_agg_key **keys,
		      uint64_t *all)
{
	struct jitd_agg_key key, next, *v = NULL;
	size_t n = 0, cap = 0;
	void *prev = NULL;

	*all = 0;
	while (!bpf_map_get_next_key(fd, prev, &next) && *all < 2 * JITD_MAX_AGG) {
		key = next;
		prev = &key;
		++*all;
		if (!every && (uint64_t)next.epoch_end_s + ival > now_s)
			continue;
		if (n == cap) {
			struct jitd_agg_key *nv = realloc(v, (cap ? cap * 2 : 64) * sizeof(*v));

			if (!nv)
				break;
			v = nv;
			cap = cap ? cap * 2 : 64;
		}
		v[n++] = next;
	}
	*keys = v;
	return n;
}

/*
 * Write and delete the aggregates that are over (every one when every). An aggregate whose
 * record cannot be written (a full disk) stays in the kernel for the next harvest: its uses
 * are not lost with it; the failed write is reported as any other (records_dropped).
 */
static void harvest(struct agent *a, bool every)
{
	int fd = kern_agg_fd(a->kern);
	uint32_t now_s = (uint32_t)(util_now_ns(CLOCK_BOOTTIME) / NS_PER_S);
	uint32_t ival = a->agg.interval_s ? a->agg.interval_s : 1;
	struct jitd_agg_key *keys;
	size_t n;

	/* the full records come first: each entry was made after its own */
	ring_turn(a);
	n = agg_due(fd, now_s, ival, every, &keys, &a->agg.entries);
	for (size_t i = 0; i < n; i++) {
		struct jitd_agg_val v;

		if (bpf_map_lookup_elem(fd, &keys[i], &v)) {
			if (errno != ENOENT)
				a->agg.read_errors++;
			continue;
		}
		if (v.count && agg_write(a, &keys[i], &v)) {
			a->agg.write_errors++;
			break; /* the audit file refuses: the rest waits too */
		}
		if (bpf_map_delete_elem(fd, &keys[i]) && errno != ENOENT)
			log_warn("cannot delete an audit aggregate: %s", strerror(errno));
	}
	free(keys);
}

void aggregate_harvest(struct agent *a)
{
	harvest(a, false);
}

/*
 * At stop, every count so far becomes a record, the current interval's too, so that a
 * reboot after a clean stop loses none. Aggregation is switched off in the kernel first
 * (an allow meanwhile is a full record, kept in the pinned ring buffer for the next jitd),
 * a program that read the setting before has AGG_STOP_PAUSE_MS to add its count, every
 * entry is harvested, and the interval is put back: the uses while no jitd runs are
 * counted again, for the next jitd.
 */
void aggregate_stop(struct agent *a)
{
	struct timespec pause = {0, AGG_STOP_PAUSE_MS * 1000000L};
	uint32_t ival = a->agg.interval_s;

	if (kern_agg_set(a->kern, 0)) {
		log_warn("cannot switch aggregation off at stop: the current interval's counts "
			 "wait for the next jitd");
		harvest(a, false);
		return;
	}
	nanosleep(&pause, NULL);
	harvest(a, true);
	if (kern_agg_set(a->kern, ival))
		log_warn("cannot put the aggregation interval back at stop: every allow is a "
			 "full record until jitd starts");
}

void aggregate_tick(struct agent *a)
{
	int64_t now = util_now_ns(CLOCK_BOOTTIME);

	if (now < a->agg.next_boot_ns)
		return;
	aggregate_harvest(a);
	/* off: still every AGG_DEFAULT_S, for what an earlier jitd with it on left */
	a->agg.next_boot_ns =
		now + (int64_t)(a->agg.interval_s ? a->agg.interval_s : AGG_DEFAULT_S) * NS_PER_S;
}

json_t *aggregate_status(struct agent *a)
{
	/* the map as the last harvest found it: status does not walk it (any user may ask) */
	return json_pack(
		"{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "interval_s", (json_int_t)a->agg.interval_s,
		"records", (json_int_t)a->agg.records, "uses", (json_int_t)a->agg.uses, "entries",
		(json_int_t)a->agg.entries, "max", (json_int_t)JITD_MAX_AGG, "read_errors",
		(json_int_t)a->agg.read_errors, "write_errors", (json_int_t)a->agg.write_errors);
}
