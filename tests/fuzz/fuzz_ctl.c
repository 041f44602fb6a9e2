// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz the control protocol through its real dispatch: any bytes as request lines from
 * peers of every standing, each line run by verbs_dispatch (agent/verbs.c) on a real grant
 * store (agent/grant.c, its state file on /dev/shm) and policy (agent/apply.c for
 * policy_apply). What the core would reach through a->ops is wired here to a recorder of
 * the kernel image (the grants map's keys and values) and to fixed cgroup answers: the
 * kernel itself is tested in the VM tests, not here.
 *
 * Input: lines; a line's first byte picks the peer (root, an admin, two requesters, an
 * approver, nobody), the rest is the request. Each input starts from the same policy and an
 * empty store. Checked after every line, beyond ASan/UBSan/leaks:
 *  - the reply is {"ok":true,...} or {"ok":false,"error":STRING,"errno":STRING};
 *  - a refused request changed nothing: store, kernel image, policy serial;
 *  - every kernel key names an active grant of the store, with its window;
 *  - a peer that is not root or an admin never made a grant for anyone else.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"
#include "audit.h"
#include "verbs.h"

#define IMG_MAX 4096

static const char base_policy[] =
	"{\"version\":1,\"serial\":10,"
	"\"resources\":{\"db\":{\"connect\":[\"10.0.5.0/24:5432\"]},"
	"\"psql\":{\"exec\":[\"/usr/bin/psql\"]},\"etc\":{\"open\":[\"/etc/app/\"]}},"
	"\"admins\":[\"user:bin\"],"
	"\"rules\":[{\"resources\":[\"db\",\"psql\"],\"requesters\":[\"user:daemon\","
	"\"user:nobody\"],\"max_duration\":\"1h\",\"approvals\":1,\"approvers\":[\"user:sys\"],"
	"\"reason\":\"required\",\"reason_pattern\":\"^INC-[0-9]+\"},"
	"{\"resources\":[\"etc\"],\"requesters\":[\"user:daemon\"],\"max_duration\":\"90m\"}],"
	"\"grants\":[{\"resource\":\"etc\",\"uid\":3,\"not_after\":\"2099-01-01T00:00:00Z\"}]}";

/* root, an admin (bin), requesters (daemon, nobody), an approver (sys), no one (games) */
static const uid_t peers[] = { 0, 2, 1, 65534, 3, 5 };

static struct agent agent;
static char dir[64];

/* The kernel image: the grants map as the store wrote it. */
static struct {
	struct jitd_grant_key key;
	struct jitd_grant_val val;
} img[IMG_MAX];
static size_t n_img;
static uint64_t n_cgroups_set;

static size_t img_find(const struct jitd_grant_key *key)
{
	size_t i;

	for (i = 0; i < n_img; i++)
		if (!memcmp(&img[i].key, key, sizeof(*key)))
			break;
	return i;
}

static int put_grant(struct agent *a, const struct jitd_grant_key *key,
		     const struct jitd_grant_val *val)
{
	size_t i = img_find(key);

	if (i == n_img) {
		if (n_img == IMG_MAX)
			abort(); /* inputs are too small to fill it: a leak of keys */
		n_img++;
	}
	img[i].key = *key;
	img[i].val = *val;
	return 0;
}

static int del_grant(struct agent *a, const struct jitd_grant_key *key)
{
	size_t i = img_find(key);

	if (i < n_img)
		img[i] = img[--n_img];
	return 0;
}

static int prune_grants(struct agent *a, bool (*keep)(const struct jitd_grant_key *, void *),
			void *arg)
{
	for (size_t i = 0; i < n_img;)
		if (!keep(&img[i].key, arg))
			img[i] = img[--n_img];
		else
			i++;
	return 0;
}

static int set_granted_cgroups(struct agent *a, const uint64_t *ids, size_t n)
{
	n_cgroups_set = n;
	return 0;
}

static int sync_policy(struct agent *a, const struct policy *p)
{
	return 0;
}

static void nothing(struct agent *a)
{
}

static void grant_nothing(struct agent *a, const struct grant *g)
{
}

/* An exec grant's cgroup, as scope.c would have made it (no cgroup is made here). */
static int fz_scope_create(struct agent *a, uint64_t id, pid_t pid, char **cgroup,
			uint64_t *cgroup_id)
{
	if (asprintf(cgroup, "/jitd.exec/%llu", (unsigned long long)id) < 0)
		return -ENOMEM;
	*cgroup_id = 1000000 + id;
	return 0;
}

static int fz_scope_watch(struct agent *a, struct grant *g)
{
	return 0;
}

static int fz_scope_kill(struct agent *a, const char *rel)
{
	return 0;
}

static int unit_cgroup(struct agent *a, const char *unit, char **out, char *err, size_t errlen)
{
	snprintf(err, errlen, "no such unit (systemd is not asked in the fuzzer)");
	return -ENOENT;
}

static void status(struct agent *a, json_t *r)
{
	json_object_set_new(r, "enforcing", json_false());
}

static json_t *audit_subscribe(struct agent *a, void *client, json_t *req)
{
	return verbs_error("EINVAL", "no audit subscriptions in the fuzzer");
}

static const struct agent_ops ops = {
	.put_grant = put_grant,
	.del_grant = del_grant,
	.prune_grants = prune_grants,
	.set_granted_cgroups = set_granted_cgroups,
	.sync_policy = sync_policy,
	.grants_changed = nothing,
	.policy_changed = nothing,
	.grant_ended = grant_nothing,
	.grant_follow = grant_nothing,
	.scope_create = fz_scope_create,
	.scope_watch = fz_scope_watch,
	.scope_kill = fz_scope_kill,
	.unit_cgroup = unit_cgroup,
	.status = status,
	.audit_subscribe = audit_subscribe,
};

/* The store as text, to see whether a refused request changed it. */
static char *store_text(void)
{
	json_t *arr = json_array();
	char *s;

	for (size_t i = 0; i < agent.grants.n; i++) {
		json_t *g = grant_to_json(&agent.grants.v[i]);

		json_object_del(g, "remaining_s"); /* the clock's, not the request's */
		json_array_append_new(arr, g);
	}
	json_array_append_new(arr, json_integer(agent.grants.next_id));
	s = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	if (!s)
		abort();
	return s;
}

static void setup(void)
{
	char err[512], path[128];

	snprintf(dir, sizeof(dir), "%s/jitd-fuzz-ctl.XXXXXX",
		 access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	audit_configure(AUDIT_FMT_OCSF, false, dir);
	if (audit_open(path))
		abort();
	agent.ops = ops;
	agent.state_dir = dir;
	agent.cgroup_root = dir;
	agent.policy_path = "fuzz-policy.json";
	agent.pending_ttl_s = GRANT_PENDING_TTL_S;
	if (policy_parse("fuzz", base_policy, strlen(base_policy), &agent.policy, err,
			 sizeof(err))) {
		fprintf(stderr, "fuzz_ctl: base policy: %s\n", err);
		abort();
	}
}

/* The same start for every input: base policy, empty store, empty image. */
static void reset(void)
{
	char err[512], path[128];
	struct policy *p = NULL;

	snprintf(path, sizeof(path), "%s/grants.json", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/policy.applied.json", dir);
	unlink(path);
	grant_store_free(&agent.grants);
	memset(&agent.grants, 0, sizeof(agent.grants));
	if (grant_store_load(&agent.grants, dir))
		abort();
	n_img = 0;
	if (agent.policy->serial != 10) {
		if (policy_parse("fuzz", base_policy, strlen(base_policy), &p, err, sizeof(err)))
			abort();
		policy_free(agent.policy);
		agent.policy = p;
	}
	if (grant_sync_all(&agent) || grant_apply_fleet(&agent))
		abort();
}

static void check_reply(json_t *reply)
{
	json_t *ok = json_object_get(reply, "ok");

	if (!json_is_boolean(ok))
		abort();
	if (json_is_false(ok) && (!json_is_string(json_object_get(reply, "error")) ||
				  !json_is_string(json_object_get(reply, "errno")) ||
				  !json_string_length(json_object_get(reply, "error"))))
		abort();
}

/* Every kernel key is held by an active grant of the store, with its window. */
static void check_image(void)
{
	for (size_t i = 0; i < n_img; i++) {
		const struct grant *g = grant_find(&agent.grants, img[i].val.grant_id);

		if (!g || g->state != GRANT_ACTIVE || img[i].val.expires_ns != g->expires_boot ||
		    img[i].val.starts_ns != g->starts_boot)
			abort();
		if (g->has_uid && img[i].key.uid != g->uid)
			abort();
		if (g->cgroup && img[i].key.cgroup != g->cgroup_id)
			abort();
	}
}

static void run_line(uid_t uid, const char *line, size_t len)
{
	struct verb_peer peer = { .a = &agent, .uid = uid, .pid = getpid(), .proc_uid = getuid() };
	uint64_t first_new = agent.grants.next_id;
	int64_t serial = agent.policy->serial;
	char *before = store_text(), *after;
	size_t img_before = n_img;
	json_t *reply = verbs_dispatch(&peer, line, len);

	if (!reply)
		abort();
	check_reply(reply);
	after = store_text();
	if (json_is_false(json_object_get(reply, "ok")) &&
	    (strcmp(before, after) || n_img != img_before || agent.policy->serial != serial))
	{
		if (getenv("FUZZ_CTL_DEBUG"))
			fprintf(stderr, "refused: %s\nbefore: %s\nafter:  %s\nimage %zu -> %zu\n",
				json_string_value(json_object_get(reply, "error")), before, after,
				img_before, n_img);
		abort(); /* refused, yet something changed */
	}
	check_image();
	if (uid != 0 && uid != 2)
		for (size_t i = 0; i < agent.grants.n; i++) {
			const struct grant *g = &agent.grants.v[i];

			if (g->id >= first_new &&
			    (!g->has_uid || g->uid != uid || (g->cgroup && g->kind != GRANT_EXEC)))
				abort(); /* a non-admin made a grant for someone else */
		}
	json_decref(reply);
	free(before);
	free(after);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;

	if (!dir[0])
		setup();
	reset();
	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', end - p);
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		/* a copy of exactly the line: an over-read is ASan's to see */
		char *line = malloc(len ? len : 1);

		if (!line)
			return 0;
		memcpy(line, p, len);
		if (len)
			run_line(peers[(uint8_t)line[0] % (sizeof(peers) / sizeof(peers[0]))],
				 line + 1, len - 1);
		free(line);
		p += len + 1;
	}
	return 0;
}
