// SPDX-License-Identifier: GPL-2.0-only
/* An agent on the host for unit tests and fuzzers of the verbs and the store (host_agent.h). */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "host_agent.h"
#include "image.h"
#include "verbs.h"

struct host_image host_img;

const char host_policy[] =
	"{\"version\":1,\"serial\":10,"
	"\"resources\":{\"db\":{\"connect\":[\"10.0.5.0/24:5432\"]},"
	"\"psql\":{\"exec\":[\"/usr/bin/psql\"]},\"etc\":{\"open\":[\"/etc/app/\"]}},"
	"\"admins\":[\"user:bin\"],"
	"\"rules\":[{\"resources\":[\"db\",\"psql\"],\"requesters\":[\"user:daemon\","
	"\"user:nobody\"],\"max_duration\":\"1h\",\"approvals\":1,\"approvers\":[\"user:sys\"],"
	"\"reason\":\"required\",\"reason_pattern\":\"^INC-[0-9]+\"},"
	"{\"resources\":[\"etc\"],\"requesters\":[\"user:daemon\"],\"max_duration\":\"90m\"}],"
	"\"grants\":[{\"resource\":\"etc\",\"uid\":3,\"not_after\":\"2099-01-01T00:00:00Z\"}]}";
static char dir[64];

static size_t img_find(const struct jitd_grant_key *key)
{
	size_t i;

	for (i = 0; i < host_img.n; i++)
		if (!memcmp(&host_img.v[i].key, key, sizeof(*key)))
			break;
	return i;
}

const struct jitd_grant_val *host_image_get(const struct jitd_grant_key *key)
{
	size_t i = img_find(key);

	return i < host_img.n ? &host_img.v[i].val : NULL;
}

static int put_grant1(struct agent *a, const struct jitd_grant_key *key,
		      const struct jitd_grant_val *val)
{
	size_t i = img_find(key);

	if (i < host_img.n && host_img.fail_rewrite)
		return -ENOMEM;
	if (i == host_img.n) {
		if (host_img.n == HOST_IMG_MAX)
			return -E2BIG; /* as the kernel's full map */
		host_img.n++;
	}
	host_img.v[i].key = *key;
	host_img.v[i].val = *val;
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
	size_t i = img_find(key);

	if (i < host_img.n)
		host_img.v[i] = host_img.v[--host_img.n];
	return 0;
}

static int prune_grants(struct agent *a, bool (*keep)(const struct jitd_grant_key *, void *),
			void *arg)
{
	for (size_t i = 0; i < host_img.n;)
		if (!keep(&host_img.v[i].key, arg))
			host_img.v[i] = host_img.v[--host_img.n];
		else
			i++;
	return 0;
}

static size_t use_find(uint64_t id)
{
	size_t i;

	for (i = 0; i < host_img.n_uses; i++)
		if (host_img.uses[i].id == id)
			break;
	return i;
}

struct jitd_grant_use *host_image_use(uint64_t id)
{
	size_t i = use_find(id);

	return i < host_img.n_uses ? &host_img.uses[i].use : NULL;
}

static int put_use(struct agent *a, uint64_t id, const struct jitd_grant_use *u)
{
	size_t i = use_find(id);

	if (i < host_img.n_uses)
		return 0; /* BPF_NOEXIST: the kernel's counts stand */
	if (host_img.n_uses == HOST_IMG_MAX || host_img.fail_uses)
		return -E2BIG; /* as the kernel's full map */
	host_img.uses[i].id = id;
	host_img.uses[i].use = *u;
	host_img.n_uses++;
	return 1;
}

static int get_use(struct agent *a, uint64_t id, struct jitd_grant_use *u)
{
	size_t i = use_find(id);

	if (i == host_img.n_uses)
		return -ENOENT;
	*u = host_img.uses[i].use;
	return 0;
}

static int del_use(struct agent *a, uint64_t id)
{
	size_t i = use_find(id);

	if (i < host_img.n_uses)
		host_img.uses[i] = host_img.uses[--host_img.n_uses];
	return 0;
}

static int prune_uses(struct agent *a, bool (*keep)(uint64_t id, void *), void *arg)
{
	for (size_t i = 0; i < host_img.n_uses;)
		if (!keep(host_img.uses[i].id, arg))
			host_img.uses[i] = host_img.uses[--host_img.n_uses];
		else
			i++;
	return 0;
}

static int set_granted_cgroups(struct agent *a, const uint64_t *ids, size_t n)
{
	host_img.n_cgroups = n;
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
static int host_scope_create(struct agent *a, uint64_t id, pid_t pid, char **cgroup,
			     uint64_t *cgroup_id)
{
	if (asprintf(cgroup, "/jitd.exec/%llu", (unsigned long long)id) < 0)
		return -ENOMEM;
	*cgroup_id = 1000000 + id;
	return 0;
}

static int host_scope_watch(struct agent *a, struct grant *g)
{
	return 0;
}

static int host_scope_kill(struct agent *a, const char *rel)
{
	return 0;
}

static int unit_cgroup(struct agent *a, const char *unit, char **out, char *err, size_t errlen)
{
	snprintf(err, errlen, "no such unit (systemd is not asked on the host)");
	return -ENOENT;
}

static void status(struct agent *a, json_t *r)
{
	json_object_set_new(r, "enforcing", json_false());
}

static json_t *audit_subscribe(struct agent *a, void *client, json_t *req)
{
	return verbs_error("EINVAL", "no audit subscriptions on the host");
}

static const struct agent_ops host_ops = {
	.put_grants = put_grants,
	.del_grant = del_grant,
	.prune_grants = prune_grants,
	.set_granted_cgroups = set_granted_cgroups,
	.put_use = put_use,
	.get_use = get_use,
	.del_use = del_use,
	.prune_uses = prune_uses,
	.sync_policy = sync_policy,
	.grants_changed = grant_nothing,
	.watch_paths = nothing,
	.grant_ended = grant_nothing,
	.grant_follow = grant_nothing,
	.scope_create = host_scope_create,
	.scope_watch = host_scope_watch,
	.scope_kill = host_scope_kill,
	.unit_cgroup = unit_cgroup,
	.status = status,
	.audit_subscribe = audit_subscribe,
};

int host_agent_init(struct agent *a, const char *policy_text)
{
	char path[128];

	snprintf(dir, sizeof(dir), "%s/jitd-host.XXXXXX",
		 access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
	if (!mkdtemp(dir))
		return -errno;
	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	memset(a, 0, sizeof(*a));
	audit_configure(&a->audit, AUDIT_FMT_OCSF, false, dir);
	if (audit_open(&a->audit, path))
		return -errno;
	a->ops = host_ops;
	a->state_dir = dir;
	a->cgroup_root = dir; /* cgroup grants: directories below it */
	a->policy_path = "host-policy.json";
	a->pending_ttl_s = GRANT_PENDING_TTL_S;
	a->max_open = GRANT_OPEN_DEFAULT;
	return host_agent_reset(a, policy_text);
}

int host_agent_reset(struct agent *a, const char *policy_text)
{
	char err[512], path[128];
	struct policy *p = NULL;
	int r;

	snprintf(path, sizeof(path), "%s/grants.json", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/grants.json.journal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/policy.applied.json", dir);
	unlink(path);
	grant_store_free(&a->grants);
	memset(&a->grants, 0, sizeof(a->grants));
	alert_free(&a->alert);
	host_img.n = 0;
	host_img.n_uses = 0;
	host_img.fail_uses = false;
	host_img.fail_rewrite = false;
	r = policy_parse("host", policy_text, strlen(policy_text), &p, err, sizeof(err));
	if (r) {
		fprintf(stderr, "host_agent: policy: %s\n", err);
		return r;
	}
	policy_free(a->policy);
	a->policy = p;
	r = grant_store_load(&a->grants, dir);
	if (!r)
		r = image_sync_all(a);
	if (!r)
		r = grant_apply_fleet(a);
	audit_grant_changes(&a->grants); /* as the core does at start-up */
	return r;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void host_agent_free(struct agent *a)
{
	grant_store_free(&a->grants);
	alert_free(&a->alert);
	policy_free(a->policy);
	a->policy = NULL;
	audit_close(&a->audit);
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

json_t *host_call(struct agent *a, uid_t uid, const char *line, size_t len)
{
	struct verb_peer peer = {.a = a, .uid = uid, .pid = getpid(), .proc_uid = getuid()};
	json_t *reply = verbs_dispatch(&peer, line, len);

	if (!reply)
		abort();
	return reply;
}

char *host_store_text(const struct agent *a)
{
	json_t *arr = json_array();
	char *s;

	for (size_t i = 0; i < a->grants.n; i++) {
		json_t *g = grant_to_json(&a->grants.v[i]);

		json_object_del(g, "remaining_s"); /* the clock's, not the request's */
		json_array_append_new(arr, g);
	}
	json_array_append_new(arr, json_integer(a->grants.next_id));
	s = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	if (!s)
		abort();
	return s;
}
