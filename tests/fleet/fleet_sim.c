// SPDX-License-Identifier: GPL-2.0-only
/*
 * fleet_sim: N jitd hosts of a fleet in one process, each the real agent code of the fleet
 * link (agent/fleet.c), the grant store, the verbs and policy application on one sd-event
 * loop, with a recorder in place of the kernel (the VM tests enforce with the real one).
 * For tests/fleet/fleet_test.py and the fleet benchmark.
 *
 *   fleet_sim --db TEMPLATE --policy FILE --hosts N [--first K] [--label I:NAME=VALUE]...
 *
 * TEMPLATE is a libpq conninfo in which %d is the host's number (its role "simNNNN" is the
 * caller's to create). Host i keeps its state under a private directory. On stdout, one line
 * per change of a host's kernel image: "grants HOST N FLEET_IDS... at REALTIME_NS" (FLEET_IDS
 * of the keys it holds for fleet grants), "up HOST" when its link first synced, and replies.
 * On stdin, "HOST UID JSON" runs a control request on that host as that uid.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>
#include <systemd/sd-event.h>

#include "audit.h"
#include "core.h"
#include "fleet.h"
#include "image.h"
#include "util.h"
#include "verbs.h"

#define MAX_HOSTS 4096
#define MAX_KEYS  64

struct sim_host {
	struct agent a; /* first: the ops get &a */
	int no;
	char dir[256], conninfo[512];
	struct {
		struct jitd_grant_key key;
		uint64_t grant_id;
	} keys[MAX_KEYS];
	size_t n_keys;
	bool was_up;
};

static struct sim_host *hosts;
static int n_hosts, first_no;

static void report(struct sim_host *h)
{
	char line[4096];
	int n = snprintf(line, sizeof(line), "grants %d %zu", h->no, h->n_keys);

	for (size_t i = 0; i < h->n_keys; i++) {
		const struct grant *g = grant_find(&h->a.grants, h->keys[i].grant_id);

		if (g && g->fleet_key && n < (int)sizeof(line) - 64)
			n += snprintf(line + n, sizeof(line) - n, " f%s",
				      g->fleet_key + strlen(FLEET_KEY_PREFIX));
	}
	printf("%s at %lld\n", line, (long long)util_now_ns(CLOCK_REALTIME));
	fflush(stdout);
}

static int put_grant1(struct agent *a, const struct jitd_grant_key *key,
		      const struct jitd_grant_val *val)
{
	struct sim_host *h = (struct sim_host *)a;
	size_t i;

	for (i = 0; i < h->n_keys && memcmp(&h->keys[i].key, key, sizeof(*key)); i++)
		;
	if (i == MAX_KEYS)
		return -E2BIG;
	if (i == h->n_keys)
		h->n_keys++;
	h->keys[i].key = *key;
	h->keys[i].grant_id = val->grant_id;
	report(h);
	return 0;
}

static int put_grants(struct agent *a, const struct jitd_grant_key *keys,
		      const struct jitd_grant_val *vals, size_t n)
{
	int r = 0;

	for (size_t i = 0; i < n && !r; i++)
		r = put_grant1(a, &keys[i], &vals[i]);
	return r;
}

static int del_grant(struct agent *a, const struct jitd_grant_key *key)
{
	struct sim_host *h = (struct sim_host *)a;

	for (size_t i = 0; i < h->n_keys; i++)
		if (!memcmp(&h->keys[i].key, key, sizeof(*key))) {
			h->keys[i] = h->keys[--h->n_keys];
			report(h);
			break;
		}
	return 0;
}

static int prune_grants(struct agent *a, bool (*keep)(const struct jitd_grant_key *, void *),
			void *arg)
{
	struct sim_host *h = (struct sim_host *)a;
	size_t before = h->n_keys;

	for (size_t i = 0; i < h->n_keys;)
		if (!keep(&h->keys[i].key, arg))
			h->keys[i] = h->keys[--h->n_keys];
		else
			i++;
	if (before != h->n_keys)
		report(h);
	return 0;
}

static int set_granted_cgroups(struct agent *a, const uint64_t *ids, size_t n)
{
	return 0;
}

static int sync_policy(struct agent *a, const struct policy *p)
{
	printf("policy %d %lld\n", ((struct sim_host *)a)->no, (long long)p->serial);
	fflush(stdout);
	return 0;
}

static void nothing(struct agent *a)
{
}

static void grant_nothing(struct agent *a, const struct grant *g)
{
}

static void status(struct agent *a, json_t *r)
{
	json_object_set_new(r, "enforcing", json_false());
}

/* Usage entries (jitd_grant_use): a simulated host has no kernel to count uses. */
static int put_use(struct agent *a, uint64_t id, const struct jitd_grant_use *u)
{
	return 0;
}

static int get_use(struct agent *a, uint64_t id, struct jitd_grant_use *u)
{
	return -ENOENT;
}

static int del_use(struct agent *a, uint64_t id)
{
	return 0;
}

static int prune_uses(struct agent *a, bool (*keep)(uint64_t id, void *), void *arg)
{
	return 0;
}

static const struct agent_ops sim_ops = {
	.put_grants = put_grants,
	.put_use = put_use,
	.get_use = get_use,
	.del_use = del_use,
	.prune_uses = prune_uses,
	.del_grant = del_grant,
	.prune_grants = prune_grants,
	.set_granted_cgroups = set_granted_cgroups,
	.sync_policy = sync_policy,
	.grants_changed = grant_nothing,
	.watch_paths = nothing,
	.grant_ended = grant_nothing,
	.grant_follow = grant_nothing,
	.status = status,
};

static int host_init(struct sim_host *h, int no, const char *tmpl, const char *policy_path,
		     sd_event *ev, json_t *labels)
{
	char err[1024];
	int r;

	h->no = no;
	snprintf(h->conninfo, sizeof(h->conninfo), tmpl, no);
	if (mkdir(h->dir, 0700) && errno != EEXIST)
		return -errno;
	h->a.ops = sim_ops;
	h->a.event = ev;
	h->a.state_dir = h->dir;
	h->a.cgroup_root = h->dir;
	h->a.policy_path = policy_path;
	h->a.pending_ttl_s = GRANT_PENDING_TTL_S;
	h->a.max_open = GRANT_OPEN_DEFAULT;
	snprintf(h->a.audit.hostname, sizeof(h->a.audit.hostname), "sim%04d", no);
	if (policy_load(policy_path, &h->a.policy, err, sizeof(err))) {
		fprintf(stderr, "fleet_sim: %s\n", err);
		return -EINVAL;
	}
	r = grant_store_load(&h->a.grants, h->dir);
	if (!r)
		r = image_sync_all(&h->a);
	if (r)
		return r;
	h->a.fleet.conninfo = h->conninfo;
	h->a.fleet.labels = labels;
	policy_select_host(h->a.policy, labels);
	return fleet_start(&h->a);
}

/* "HOST UID JSON": a control request on that host as that uid; the reply on one line. */
static int on_stdin(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	static char buf[65536];
	static size_t len;
	ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
	char *nl;

	if (n <= 0) {
		sd_event_exit(sd_event_source_get_event(s), 0);
		return 0;
	}
	len += n;
	while ((nl = memchr(buf, '\n', len))) {
		int no, uid, off = 0;

		*nl = 0;
		if (sscanf(buf, "%d %d %n", &no, &uid, &off) == 2 && no >= first_no &&
		    no < first_no + n_hosts) {
			struct verb_peer peer = {.a = &hosts[no - first_no].a, .uid = uid};
			const char *line = buf + off;
			json_t *reply = verbs_dispatch(&peer, line, strlen(line));
			char *out = json_dumps(reply, JSON_COMPACT);

			printf("reply %d %s\n", no, out ?: "null");
			fflush(stdout);
			free(out);
			json_decref(reply);
		} else {
			printf("reply -1 {\"ok\":false,\"error\":\"bad command\"}\n");
			fflush(stdout);
		}
		len -= nl + 1 - buf;
		memmove(buf, nl + 1, len);
	}
	return 0;
}

/* Every 50 ms: "up HOST" / "down HOST WHY" when a host's link changed (the tests wait for
 * them), and every half second the expiry of each host's grants. */
static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
	static unsigned ticks;

	/* the core's expiry timer, coarsely (the kernel checks expiry on its own) */
	for (int i = 0; ++ticks % 10 == 0 && i < n_hosts; i++)
		if (grant_expire_due(&hosts[i].a) > 0)
			audit_grant_changes(&hosts[i].a.grants);
	for (int i = 0; i < n_hosts; i++)
		if (hosts[i].a.fleet.up && !hosts[i].was_up) {
			hosts[i].was_up = true;
			printf("up %d\n", hosts[i].no);
			fflush(stdout);
		} else if (!hosts[i].a.fleet.up && hosts[i].was_up) {
			hosts[i].was_up = false;
			printf("down %d %s\n", hosts[i].no, hosts[i].a.fleet.error);
			fflush(stdout);
		}
	sd_event_source_set_time(s, usec + 50000);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

int main(int argc, char **argv)
{
	const char *tmpl = NULL, *policy = NULL, *dir = NULL;
	json_t *labels[MAX_HOSTS] = {0};
	sd_event *ev;
	int i;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--db"))
			tmpl = argv[i + 1];
		else if (!strcmp(argv[i], "--policy"))
			policy = argv[i + 1];
		else if (!strcmp(argv[i], "--dir"))
			dir = argv[i + 1];
		else if (!strcmp(argv[i], "--hosts"))
			n_hosts = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--first"))
			first_no = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--label")) {
			int no = atoi(argv[i + 1]);
			const char *c = strchr(argv[i + 1], ':');
			char err[256];

			if (!c || no < 0 || no >= MAX_HOSTS)
				break;
			if (!labels[no])
				labels[no] = json_object();
			if (fleet_label_add(labels[no], c + 1, err, sizeof(err))) {
				fprintf(stderr, "fleet_sim: %s\n", err);
				return 2;
			}
		} else
			break;
	}
	if (i < argc || !tmpl || !policy || !dir || n_hosts < 1 || n_hosts > MAX_HOSTS ||
	    first_no < 0 || first_no + n_hosts > MAX_HOSTS) {
		fputs("usage: fleet_sim --db TEMPLATE --policy FILE --dir DIR --hosts N "
		      "[--first K] [--label I:NAME=VALUE]...\n",
		      stderr);
		return 2;
	}
	hosts = calloc(n_hosts, sizeof(*hosts));
	if (!hosts || sd_event_default(&ev) < 0)
		return 1;
	audit_configure(&hosts[0].a.audit, AUDIT_FMT_OCSF, false, dir);
	if (audit_open(&hosts[0].a.audit, "/dev/null"))
		return 1;
	for (i = 0; i < n_hosts; i++) {
		int no = first_no + i, r;

		snprintf(hosts[i].dir, sizeof(hosts[i].dir), "%s/host%d", dir, no);
		r = host_init(&hosts[i], no, tmpl, policy, ev,
			      labels[no] ? labels[no] : json_object());
		if (r) {
			fprintf(stderr, "fleet_sim: host %d: %s\n", no, strerror(-r));
			return 1;
		}
	}
	sd_event_add_io(ev, NULL, 0, EPOLLIN, on_stdin, NULL);
	sd_event_add_time_relative(ev, NULL, CLOCK_MONOTONIC, 50000, 0, on_tick, NULL);
	return sd_event_loop(ev) < 0;
}
