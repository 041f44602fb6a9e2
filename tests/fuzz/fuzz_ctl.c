// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz the control protocol through its real dispatch: any bytes as request lines from
 * peers of every standing, each line run by verbs_dispatch (agent/verbs.c) on a real grant
 * store (agent/grant.c, its state file on /dev/shm) and policy (agent/apply.c for
 * policy_apply), as tests/host_agent.c sets them up: a->ops wired to a recorder of the
 * kernel image and to fixed cgroup answers (the kernel itself is tested in the VM tests).
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

#include "host_agent.h"
#include "verbs.h"

/* root, an admin (bin), requesters (daemon, nobody), an approver (sys), no one (games) */
static const uid_t peers[] = {0, 2, 1, 65534, 3, 5};

static struct agent agent;

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
	for (size_t i = 0; i < host_img.n; i++) {
		const struct jitd_grant_key *k = &host_img.v[i].key;
		const struct jitd_grant_val *v = &host_img.v[i].val;
		const struct grant *g = grant_find(&agent.grants, v->grant_id);

		if (!g || g->state != GRANT_ACTIVE || v->expires_ns != g->expires_boot ||
		    v->starts_ns != g->starts_boot)
			abort();
		if (g->has_uid && k->uid != g->uid)
			abort();
		if (g->cgroup && k->cgroup != g->cgroup_id)
			abort();
	}
}

static void run_line(uid_t uid, const char *line, size_t len)
{
	uint64_t first_new = agent.grants.next_id;
	int64_t serial = agent.policy->serial;
	char *before = host_store_text(&agent), *after;
	size_t img_before = host_img.n;
	static typeof(host_img.v) img_copy;
	json_t *reply;

	memcpy(img_copy, host_img.v, host_img.n * sizeof(host_img.v[0]));
	reply = host_call(&agent, uid, line, len);

	check_reply(reply);
	after = host_store_text(&agent);
	if (json_is_false(json_object_get(reply, "ok")) &&
	    (strcmp(before, after) || host_img.n != img_before ||
	     memcmp(img_copy, host_img.v, img_before * sizeof(host_img.v[0])) ||
	     agent.policy->serial != serial)) {
		if (getenv("FUZZ_CTL_DEBUG"))
			fprintf(stderr, "refused: %s\nbefore: %s\nafter:  %s\nimage %zu -> %zu\n",
				json_string_value(json_object_get(reply, "error")), before, after,
				img_before, host_img.n);
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

	static bool ready;

	if (!ready && host_agent_init(&agent, host_policy))
		abort();
	ready = true;
	if (host_agent_reset(&agent, host_policy))
		abort();
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
