// SPDX-License-Identifier: GPL-2.0-only
/*
 * "revoke": "open": what the end of a kernel grant key does to what is already open.
 * The kernel refuses every later use of a file or socket tracked under the key by itself
 * (bpf/jitd.bpf.c, file_permission and the socket hooks); here the agent says what was
 * cut (one "open_cut" record per ended key) and resets the key's connections in its own
 * network namespace, the way `ss -K` does, so that their peers see the end too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <arpa/inet.h>

#include "audit.h"
#include "core.h"
#include "cut.h"
#include "kern.h"
#include "log.h"
#include "sock_reset.h"

struct cut_walk {
	struct kern *kern;
	struct jitd_grant_key key;
	uint64_t netns;
	uint64_t *inos; /* sockets to reset, in jitd's network namespace (made at the first) */
	size_t n_inos, files, sockets, elsewhere;
	uint64_t grant_id;
	int err;
};

static int cut_collect(uint64_t file, const struct jitd_open_val *v, void *arg)
{
	struct cut_walk *w = arg;
	int r;

	if (memcmp(&v->key, &w->key, sizeof(w->key)))
		return 0;
	/* cut now, not at its next use: a later grant of the same key does not revive it */
	r = kern_open_cut(w->kern, file);
	if (r)
		log_warn("grant %llu: cannot mark an open file cut: %s (its next use is refused "
			 "until a grant of the same key comes)",
			 (unsigned long long)v->grant_id, strerror(-r));
	w->grant_id = v->grant_id;
	if (!(v->flags & JITD_OPEN_SOCKET)) {
		w->files++;
		return 0;
	}
	w->sockets++;
	if (v->netns != w->netns) {
		w->elsewhere++;
		return 0;
	}
	if (!w->inos && !(w->inos = calloc(JITD_MAX_OPEN, sizeof(*w->inos)))) {
		log_err("grant %llu: cannot list its connections to reset: out of memory",
			(unsigned long long)v->grant_id);
		return 0;
	}
	if (w->n_inos == JITD_MAX_OPEN)
		return 0;
	w->inos[w->n_inos++] = v->ino;
	return 0;
}

static const char *resource_name(const struct agent *a, uint32_t id)
{
	for (size_t i = 0; a->policy && i < a->policy->n_resources; i++)
		if (a->policy->resources[i].id == id)
			return a->policy->resources[i].name;
	return "?";
}

struct reset_ctx {
	struct agent *a;
	struct cut_walk *w;
	size_t reset;
};

static void on_reset(void *arg, const struct sock_reset_result *r)
{
	struct reset_ctx *c = arg;

	if (!r->err)
		c->reset++;
	else
		log_warn("grant %llu: cannot reset %s: %s", (unsigned long long)c->w->grant_id,
			 r->tuple, strerror(-r->err));
	audit_agent_event(
		"connection_reset",
		json_pack("{s:I,s:s,s:s,s:I,s:s,s:s}", "grant_id", (json_int_t)c->w->grant_id,
			  "resource", resource_name(c->a, c->w->key.resource), "connection",
			  r->tuple, "inode", (json_int_t)r->ino, "result",
			  r->err ? "failed" : "reset", "error", r->err ? strerror(-r->err) : ""));
}

static uint64_t own_netns(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (uint64_t)st.st_ino;
}

/* Reset the walk's sockets; a dump that failed as a whole is said once, in the log and
 * in the record. Returns how many were reset. */
static size_t reset_sockets(struct agent *a, struct cut_walk *w, const char **why)
{
	struct reset_ctx c = {.a = a, .w = w};
	int r;

	*why = NULL;
	if (!w->n_inos)
		return 0;
	r = sock_reset(w->inos, w->n_inos, on_reset, &c);
	if (r < 0) {
		*why = strerror(-r);
		log_err("grant %llu: cannot reset its connections: %s (their sends and receives "
			"are refused by the kernel all the same)",
			(unsigned long long)w->grant_id, *why);
	}
	return c.reset;
}

void cut_key_ended(struct agent *a, const struct jitd_grant_key *key)
{
	struct cut_walk w = {.kern = a->kern, .key = *key, .netns = own_netns()};
	const char *why;
	size_t reset;

	if (!a->kern)
		return;
	kern_open_each(a->kern, cut_collect, &w);
	if (w.files || w.sockets) {
		reset = reset_sockets(a, &w, &why);
		audit_agent_event("open_cut",
				  json_pack("{s:I,s:s,s:I,s:I,s:I,s:I,s:s?}", "grant_id",
					    (json_int_t)w.grant_id, "resource",
					    resource_name(a, key->resource), "files",
					    (json_int_t)w.files, "connections",
					    (json_int_t)w.sockets, "connections_reset",
					    (json_int_t)reset, "connections_elsewhere",
					    (json_int_t)w.elsewhere, "reset_error", why));
	}
	free(w.inos);
}
