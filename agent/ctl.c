// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket (docs/protocol.md): newline-delimited JSON over a Unix
 * stream socket, the caller's identity from SO_PEERCRED, bounded request size,
 * bounded clients, idle timeout. Bad input gets an error reply and changes nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "jitd.h"
#include "util.h"

/*
 * Limits against hostile clients (README, "Control socket limits"). A slot is a connection;
 * a subject (the peer's login uid) holds at most CTL_MAX_PER_UID of them, and the last
 * CTL_RESERVED of CTL_MAX_CLIENTS are only for root, exempt uids, admins and approvers.
 * A new connection over a limit evicts the least recently active connection of its own
 * uid, or of the uid holding the most slots when a pool is full: a user who floods only
 * ever pushes out their own connections.
 */
#define CTL_MAX_CLIENTS	     128
#define CTL_RESERVED	     32
#define CTL_MAX_PER_UID	     8
#define CTL_MAX_PER_UID_PRIV 32
#define CTL_ACCEPT_BATCH     64 /* the whole backlog: a full one blocks everyone's connect */
#define CTL_IDLE_USEC	     (30ULL * 1000000) /* since the last complete request */
#define CTL_LINE_USEC	     (10ULL * 1000000) /* to finish a line once its first byte came */
#define CTL_OUT_HIGH	     (1u << 20)	       /* no more lines run while this much is unsent */
#define CTL_UID_OUT_HIGH     (8u << 20)	       /* the same, over all connections of one uid */
#define CTL_OUT_MAX	     (CTL_OUT_HIGH + JITD_CTL_MAX_REPLY) /* one reply past the mark */
#define CTL_LINES_PER_RUN    16 /* then back to the loop (a deferred run goes on) */
#define CTL_RUN_USEC	     5000
#define CTL_PRIV_CACHE	     16
#define CTL_PRIV_CACHE_USEC  (5ULL * 1000000)

struct client {
	struct agent *a;
	struct client *prev, *next; /* clients, oldest first */
	int fd;
	struct ucred cred; /* cred.uid is the subject (login uid when set), as the kernel's */
	uid_t proc_uid;	   /* the peer process's own uid */
	bool privileged;   /* root, exempt, admin or approver when it connected */
	bool follower;	   /* an audit subscriber: no idle timeout, never evicted */
	bool stalled;	   /* lines wait for the output queue (its own or its uid's) to drain */
	sd_event_source *io, *idle, *work;
	char *in; /* request bytes: in_cap allocated, in_len used, from in_off on not run */
	size_t in_off, in_len, in_cap;
	size_t in_scanned; /* bytes of in before this index hold no newline */
	size_t in_max;	   /* longest line: more for root and admins (policy apply) */
	bool discarding; /* inside an over-long line: drop until its newline */
	uint64_t last_req;   /* CLOCK_MONOTONIC usec of the connect or the last request run */
	uint64_t line_start; /* when the first byte of the partial line came, or 0 */
	char *out;
	size_t out_len, out_off;
	bool closing;
};

static int listen_fd = -1;
static sd_event_source *listen_src;
static const char *listen_path;
static unsigned n_clients;
static struct client *clients_head, *clients_tail;

/* policy_show's reply, built and serialized once per policy and second (a reload may put an
 * unchanged serial at the same address) */
static struct {
	const struct policy *p;
	int64_t serial;
	uint64_t at;
	json_t *json;
	char *line;
	size_t len;
} show_cache;

static uint64_t now_usec(void)
{
	return util_now_ns(CLOCK_MONOTONIC) / 1000;
}

static void client_free(struct client *c)
{
	audit_sub_remove(c);
	sd_event_source_disable_unref(c->io);
	sd_event_source_disable_unref(c->idle);
	sd_event_source_disable_unref(c->work);
	close(c->fd);
	if (c->prev || clients_head == c) {
		*(c->prev ? &c->prev->next : &clients_head) = c->next;
		*(c->next ? &c->next->prev : &clients_tail) = c->prev;
		n_clients--;
	}
	free(c->in);
	free(c->out);
	free(c);
}

static size_t client_unsent(const struct client *c)
{
	return c->out_len - c->out_off;
}

/* Bytes queued to all connections of uid. */
static size_t uid_unsent(uid_t uid)
{
	size_t n = 0;

	for (struct client *x = clients_head; x; x = x->next)
		if (x->cred.uid == uid)
			n += client_unsent(x);
	return n;
}

/* May c run a request now? Not while its replies, or its uid's, are not being read. */
static bool client_may_run(const struct client *c)
{
	return !c->closing && client_unsent(c) < CTL_OUT_HIGH &&
	       uid_unsent(c->cred.uid) < CTL_UID_OUT_HIGH;
}

static bool client_has_line(const struct client *c)
{
	return memchr(c->in + c->in_scanned, '\n', c->in_len - c->in_scanned) != NULL;
}

/* Read only while requests may run and none waits: a client cannot make jitd buffer more
 * than one line of requests and CTL_OUT_MAX of replies. */
static int client_update(struct client *c)
{
	uint32_t ev = 0;
	uint64_t t;

	if (c->closing && !client_unsent(c)) /* the deferred run frees it */
		return sd_event_source_set_enabled(c->work, SD_EVENT_ONESHOT);
	if (!client_may_run(c))
		c->stalled = true; /* uid_resume reads it again */
	else if (!client_has_line(c) && c->in_len < c->in_cap)
		ev |= EPOLLIN;
	if (client_unsent(c))
		ev |= EPOLLOUT;
	if (c->follower)
		return sd_event_source_set_io_events(c->io, ev);
	t = c->last_req + CTL_IDLE_USEC;
	if (c->line_start && c->line_start + CTL_LINE_USEC < t)
		t = c->line_start + CTL_LINE_USEC;
	sd_event_source_set_time(c->idle, t);
	sd_event_source_set_enabled(c->idle, SD_EVENT_ONESHOT);
	return sd_event_source_set_io_events(c->io, ev);
}

/* Run the stalled clients of uid again (its queue went below the marks). */
static void uid_resume(uid_t uid)
{
	for (struct client *x = clients_head; x; x = x->next)
		if (x->cred.uid == uid && x->stalled && client_may_run(x)) {
			x->stalled = false;
			sd_event_source_set_enabled(x->work, SD_EVENT_ONESHOT);
		}
}

static int client_flush(struct client *c)
{
	size_t before = client_unsent(c);

	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -errno;
		}
		c->out_off += n;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (client_unsent(c) < before)
		uid_resume(c->cred.uid);
	return client_update(c);
}

/* Append len bytes to c's output queue; a client past CTL_OUT_MAX is closed. */
static void client_queue(struct client *c, const char *buf, size_t len)
{
	char *no;

	if (client_unsent(c) + len > CTL_OUT_MAX) {
		c->closing = true; /* a client that never reads */
		return;
	}
	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, client_unsent(c));
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	no = realloc(c->out, c->out_len + len);
	if (!no) {
		c->closing = true;
		return;
	}
	c->out = no;
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
}

/* Queue one reply line (takes the reference). */
static void client_reply(struct client *c, json_t *reply)
{
	char *line;
	size_t len;

	if (reply && reply == show_cache.json && show_cache.line) {
		json_decref(reply);
		client_queue(c, show_cache.line, show_cache.len);
		return;
	}
	line = json_dumps(reply, JSON_COMPACT);
	json_decref(reply);
	if (!line) {
		c->closing = true;
		return;
	}
	len = strlen(line);
	line[len] = '\n'; /* json_dumps' terminator: the line is len + 1 bytes */
	client_queue(c, line, len + 1);
	free(line);
}

/*
 * Make s valid UTF-8 in place: a sequence cut at the end (by a bound on the message or a
 * "%.64s") is dropped, any other invalid byte becomes '?'. Jansson refuses invalid strings,
 * and an error reply that cannot be built would say nothing useful.
 */
static void utf8_repair(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		unsigned n = *p < 0x80		   ? 0
			     : (*p & 0xe0) == 0xc0 ? 1
			     : (*p & 0xf0) == 0xe0 ? 2
			     : (*p & 0xf8) == 0xf0 ? 3
						   : 4;
		unsigned i;

		if (n == 4) {
			*p++ = '?';
			continue;
		}
		for (i = 1; i <= n && (p[i] & 0xc0) == 0x80; i++)
			;
		if (i <= n && !p[i]) {
			*p = 0; /* cut at the end */
			return;
		}
		if (i <= n || (n == 1 && *p < 0xc2) || (n == 2 && *p == 0xe0 && p[1] < 0xa0) ||
		    (n == 2 && *p == 0xed && p[1] >= 0xa0) ||
		    (n == 3 && *p == 0xf0 && p[1] < 0x90) || (n == 3 && *p > 0xf4) ||
		    (n == 3 && *p == 0xf4 && p[1] >= 0x90)) {
			*p++ = '?';
			continue;
		}
		p += n + 1;
	}
}

static json_t *error_reply(const char *errno_name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static json_t *error_reply(const char *errno_name, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	json_t *r;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	utf8_repair(msg);
	r = json_pack("{s:b,s:s,s:s}", "ok", 0, "error", msg, "errno", errno_name);
	if (!r)
		r = json_pack("{s:b,s:s,s:s}", "ok", 0, "error", "(unprintable error)", "errno",
			      errno_name);
	return r;
}

/* The caller's reason into g (owned by g); an allocation failure fails the verb: a
 * grant is never recorded without what it was given for. */
static json_t *take_reason(struct grant *g, const char *reason)
{
	if (!reason || (g->reason = strdup(reason)))
		return NULL;
	req_grant_clear(g);
	return error_reply("ENOMEM", "out of memory");
}

static json_t *ok_reply(const char *key, json_t *val)
{
	json_t *r = json_pack("{s:b}", "ok", 1);

	if (key)
		json_object_set_new(r, key, val);
	return r;
}

static const char *errno_name(int r)
{
	switch (-r) {
	case EPERM:
		return "EPERM";
	case ENOENT:
		return "ENOENT";
	case EINVAL:
		return "EINVAL";
	case EALREADY:
		return "EALREADY";
	case ERANGE:
		return "ERANGE";
	case ENOSPC:
		return "ENOSPC";
	case E2BIG:
		return "E2BIG";
	case ESRCH:
		return "ESRCH";
	default:
		return "EIO";
	}
}

/* Resources of a request: "resource" (string) or "resources" (array). 0 or an error reply. */
static json_t *get_resources(struct agent *a, json_t *req, struct grant *g)
{
	json_t *one = json_object_get(req, "resource"), *arr = json_object_get(req, "resources");
	json_t *v;
	size_t i;

	if (one && arr)
		return error_reply("EINVAL", "give 'resource' or 'resources', not both");
	if (one) {
		arr = json_array();
		json_array_append(arr, one);
	} else if (!json_is_array(arr) || !json_array_size(arr)) {
		return error_reply("EINVAL", "'resources' must be a non-empty array of names");
	} else {
		json_incref(arr);
	}
	if (json_array_size(arr) > GRANT_MAX_RES) {
		json_decref(arr);
		return error_reply("E2BIG", "at most %d resources per request", GRANT_MAX_RES);
	}
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);

		if (!s || strlen(s) >= POLICY_MAX_NAME) {
			json_decref(arr);
			return error_reply("EINVAL", "resource names are strings of at most %d bytes",
					   POLICY_MAX_NAME - 1);
		}
		if (!policy_find(a->policy, s)) {
			json_t *e = error_reply("ENOENT", "unknown resource '%s' (see 'jitctl policy "
							  "show')",
						s);

			json_decref(arr);
			return e;
		}
		for (unsigned j = 0; j < g->n_res; j++)
			if (!strcmp(g->res[j], s)) {
				json_decref(arr);
				return error_reply("EINVAL", "resource '%s' given twice", s);
			}
		strcpy(g->res[g->n_res++], s);
	}
	json_decref(arr);
	return NULL;
}

/* duration_s and reason of a request. NULL or an error reply. */
static json_t *get_duration_reason(json_t *req, int64_t *dur, const char **reason)
{
	json_t *jdur = json_object_get(req, "duration_s"), *jr = json_object_get(req, "reason");

	if (!json_is_integer(jdur) || json_integer_value(jdur) < 1 ||
	    json_integer_value(jdur) > JITD_MAX_DURATION_S)
		return error_reply("EINVAL", "'duration_s' must be an integer 1..%lld",
				   (long long)JITD_MAX_DURATION_S);
	if (jr && !json_is_null(jr) &&
	    (!json_is_string(jr) || json_string_length(jr) > GRANT_MAX_REASON ||
	     strlen(json_string_value(jr)) != json_string_length(jr)))
		return error_reply("EINVAL", "'reason' must be a string of at most %d bytes",
				   GRANT_MAX_REASON);
	*dur = json_integer_value(jdur);
	*reason = json_string_value(jr);
	if (*reason && !**reason)
		*reason = NULL;
	return NULL;
}

/* The grant of request field "id", or NULL with *reply set. */
static struct grant *get_grant(struct client *c, json_t *req, json_t **reply)
{
	json_t *jid = json_object_get(req, "id");
	struct grant *g;

	if (!json_is_integer(jid) || json_integer_value(jid) < 1) {
		*reply = error_reply("EINVAL", "'id' must be a positive integer");
		return NULL;
	}
	g = grant_find(&c->a->grants, json_integer_value(jid));
	if (!g)
		*reply = error_reply("ENOENT", "no grant or request %lld",
				     (long long)json_integer_value(jid));
	return g;
}

static json_t *grant_reply(const char *event, const struct grant *g, uid_t by)
{
	json_t *gj = grant_to_json(g);

	if (event)
		audit_agent_event(event, json_pack("{s:O,s:i}", "grant", gj, "by_uid", (int)by));
	return ok_reply("grant", gj);
}

static json_t *do_grant(struct client *c, json_t *req)
{
	struct agent *a = c->a;
	json_t *juser = json_object_get(req, "user"), *juid = json_object_get(req, "uid");
	json_t *jcg = json_object_get(req, "cgroup"), *junit = json_object_get(req, "unit");
	json_t *jstart = json_object_get(req, "start"), *e;
	struct grant g = { .kind = GRANT_DIRECT, .state = GRANT_ACTIVE };
	const char *reason, *cgpath = NULL;
	char err[256], *unit_cg = NULL;
	int64_t now, dur, start;
	int r;

	if (!req_is_admin(a->policy, c->cred.uid))
		return error_reply("EPERM",
				   "only root and admins may grant (you are uid %u; see 'jitctl "
				   "request')",
				   c->cred.uid);
	if ((e = get_resources(a, req, &g)) || (e = get_duration_reason(req, &dur, &reason)))
		return e;
	if (juser && juid)
		return error_reply("EINVAL", "give 'user' or 'uid', not both");
	if (jcg && junit)
		return error_reply("EINVAL", "give 'cgroup' or 'unit', not both");
	if (!juser && !juid && !jcg && !junit)
		return error_reply("EINVAL",
				   "a grant needs a subject: 'user', 'uid', 'cgroup' or 'unit'");
	if (juser) {
		struct passwd pw, *res = NULL;
		char buf[4096];

		if (!json_is_string(juser))
			return error_reply("EINVAL", "'user' must be a string");
		if (getpwnam_r(json_string_value(juser), &pw, buf, sizeof(buf), &res) || !res)
			return error_reply("ENOENT", "unknown user '%s'", json_string_value(juser));
		g.has_uid = true;
		g.uid = pw.pw_uid;
	} else if (juid) {
		if (!json_is_integer(juid) || json_integer_value(juid) < 0 ||
		    json_integer_value(juid) >= JITD_ANY_UID)
			return error_reply("EINVAL", "'uid' must be an integer 0..4294967294");
		g.has_uid = true;
		g.uid = json_integer_value(juid);
	}
	now = util_now_ns(CLOCK_REALTIME);
	start = now;
	if (jstart) {
		if (!json_is_string(jstart) || util_parse_time(json_string_value(jstart), &start))
			return error_reply("EINVAL", "'start' must be an RFC 3339 UTC time like "
						     "2026-12-01T02:00:00Z");
		if (start < now)
			start = now;
		if (start - now > JITD_MAX_DURATION_S * 1000000000LL)
			return error_reply("EINVAL", "'start' is more than 366 days ahead");
	}
	if (junit) {
		if (!json_is_string(junit))
			return error_reply("EINVAL", "'unit' must be a string");
		r = scope_unit_cgroup(a, json_string_value(junit), &unit_cg, err, sizeof(err));
		if (r)
			return error_reply(errno_name(r), "unit '%s': %s", json_string_value(junit),
					   err);
		cgpath = unit_cg;
	} else if (jcg) {
		if (!json_is_string(jcg))
			return error_reply("EINVAL", "'cgroup' must be a string");
		cgpath = json_string_value(jcg);
	}
	if (cgpath) {
		r = util_cgroup_id(a->cgroup_root, cgpath, &g.cgroup_id);
		if (r) {
			e = error_reply(r == -EINVAL ? "EINVAL" : "ENOENT",
					"cgroup '%s': %s (a cgroup v2 path like /system.slice)",
					cgpath, strerror(-r));
			free(unit_cg);
			return e;
		}
		g.cgroup = unit_cg ?: strdup(cgpath);
	}
	g.created_ns = now;
	g.starts_ns = start;
	g.expires_ns = start + dur * 1000000000LL;
	g.duration_s = dur;
	g.by_uid = g.requester_uid = c->cred.uid;
	if ((e = take_reason(&g, reason)))
		return e;
	req_history_add(&g, "granted", c->cred.uid, reason, now);
	r = grant_add(a, &g, err, sizeof(err));
	if (r)
		return error_reply(errno_name(r), "%s", err);
	return grant_reply("granted", grant_find(&a->grants, g.id), c->cred.uid);
}

/* A request by the caller for themselves: granted at once (0 approvals) or pending. */
static json_t *do_request(struct client *c, json_t *req)
{
	struct agent *a = c->a;
	struct grant g = { .kind = GRANT_REQUEST };
	const struct policy_rule *rule;
	const char *reason;
	char err[512];
	int64_t now, dur;
	json_t *e;
	int r;

	if (json_object_get(req, "user") || json_object_get(req, "uid") ||
	    json_object_get(req, "cgroup"))
		return error_reply("EINVAL", "a request is always for the caller: no 'user', 'uid' "
					     "or 'cgroup' (admins use 'grant')");
	if ((e = get_resources(a, req, &g)) || (e = get_duration_reason(req, &dur, &reason)))
		return e;
	rule = req_find_rule(a->policy, c->cred.uid, g.res, g.n_res, err, sizeof(err));
	if (!rule)
		return error_reply(strncmp(err, "unknown", 7) ? "EPERM" : "ENOENT", "%s", err);
	r = req_check(rule, dur, reason, err, sizeof(err));
	if (r)
		return error_reply("EINVAL", "%s", err);
	now = util_now_ns(CLOCK_REALTIME);
	g.has_uid = true;
	g.uid = g.requester_uid = g.by_uid = c->cred.uid;
	g.created_ns = now;
	g.duration_s = dur;
	g.max_duration_s = rule->max_duration_s;
	g.approvals_needed = rule->approvals;
	g.approvers = json_array();
	for (size_t i = 0; i < rule->n_approvers; i++)
		json_array_append_new(g.approvers, json_string(rule->approvers[i]));
	if (!g.approvers || json_array_size(g.approvers) != rule->n_approvers) {
		req_grant_clear(&g);
		return error_reply("ENOMEM", "out of memory");
	}
	if ((e = take_reason(&g, reason)))
		return e;
	req_history_add(&g, "requested", c->cred.uid, reason, now);
	if (rule->approvals) {
		g.state = GRANT_PENDING;
		g.expires_ns = now + a->pending_ttl_s * 1000000000LL;
	} else {
		g.state = GRANT_ACTIVE;
		g.starts_ns = now;
		g.expires_ns = now + dur * 1000000000LL;
		req_history_add(&g, "granted", c->cred.uid, "rule needs no approval", now);
	}
	r = grant_add(a, &g, err, sizeof(err));
	if (r)
		return error_reply(errno_name(r), "%s", err);
	const struct grant *ng = grant_find(&a->grants, g.id);
	json_t *gj = grant_to_json(ng);

	audit_agent_event("requested", json_pack("{s:O,s:i}", "grant", gj, "by_uid",
						 (int)c->cred.uid));
	if (ng->state == GRANT_ACTIVE)
		audit_agent_event("granted", json_pack("{s:O,s:i}", "grant", gj, "by_uid",
						       (int)c->cred.uid));
	return ok_reply("grant", gj);
}

static json_t *do_approve(struct client *c, json_t *req)
{
	json_t *jr = json_object_get(req, "reason"), *e = NULL;
	struct grant *g = get_grant(c, req, &e), before;
	char err[512];
	int r;

	if (!g)
		return e;
	if (jr && !json_is_null(jr) &&
	    (!json_is_string(jr) || json_string_length(jr) > GRANT_MAX_REASON))
		return error_reply("EINVAL", "'reason' must be a string of at most %d bytes",
				   GRANT_MAX_REASON);
	grant_mark(g, &before);
	r = req_approve(g, c->cred.uid, json_string_value(jr), util_now_ns(CLOCK_REALTIME), err,
			sizeof(err));
	if (r < 0) {
		grant_mark_drop(&before);
		return error_reply(errno_name(r), "%s", err);
	}
	if (r > 0)
		r = grant_activate(c->a, g, &before);
	else
		r = grant_commit(c->a, g, &before);
	if (r)
		return error_reply("EIO", "cannot record the approval: %s", strerror(-r));
	audit_agent_event("approved", json_pack("{s:o,s:i}", "grant", grant_to_json(g), "by_uid",
						(int)c->cred.uid));
	return grant_reply(g->state == GRANT_ACTIVE ? "granted" : NULL, g, c->cred.uid);
}

static json_t *do_deny(struct client *c, json_t *req)
{
	json_t *jr = json_object_get(req, "reason"), *e = NULL;
	struct grant *g = get_grant(c, req, &e), before;
	char err[512];
	int r;

	if (!g)
		return e;
	if (!json_is_string(jr) || json_string_length(jr) > GRANT_MAX_REASON)
		return error_reply("EINVAL", "'reason' (a string of at most %d bytes) is required",
				   GRANT_MAX_REASON);
	grant_mark(g, &before);
	r = req_deny(g, c->cred.uid, json_string_value(jr), util_now_ns(CLOCK_REALTIME), err,
		     sizeof(err));
	if (r) {
		grant_mark_drop(&before);
		return error_reply(errno_name(r), "%s", err);
	}
	r = grant_commit(c->a, g, &before);
	if (r)
		return error_reply("EIO", "cannot record the denial: %s", strerror(-r));
	return grant_reply("denied", g, c->cred.uid);
}

static bool json_has_principal_of(json_t *arr, uid_t uid)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) {
		if (json_is_string(v) && req_principal_match(json_string_value(v), uid))
			return true;
	}
	return false;
}

static json_t *do_extend(struct client *c, json_t *req)
{
	json_t *jdur = json_object_get(req, "duration_s"), *e = NULL;
	struct grant *g = get_grant(c, req, &e), before;
	uid_t by = c->cred.uid;
	int64_t new_exp, old_exp;
	char err[256], when[40];
	bool may;
	int r;

	if (!g)
		return e;
	if (!json_is_integer(jdur) || json_integer_value(jdur) < 1 ||
	    json_integer_value(jdur) > JITD_MAX_DURATION_S)
		return error_reply("EINVAL", "'duration_s' must be an integer 1..%lld",
				   (long long)JITD_MAX_DURATION_S);
	may = req_is_admin(c->a->policy, by) ||
	      ((g->kind == GRANT_REQUEST || g->kind == GRANT_EXEC) && g->requester_uid == by &&
	       !g->approvals_needed) ||
	      (g->kind == GRANT_REQUEST && g->requester_uid != by &&
	       json_has_principal_of(g->approvers, by));
	if (!may)
		return error_reply("EPERM", "uid %u may not extend grant %llu", by,
				   (unsigned long long)g->id);
	if (g->kind == GRANT_FLEET)
		return error_reply("EINVAL", "grant %llu comes from the policy; change the policy",
				   (unsigned long long)g->id);
	r = req_extend(g, json_integer_value(jdur), &new_exp, err, sizeof(err));
	if (r)
		return error_reply(errno_name(r), "%s", err);
	grant_mark(g, &before);
	old_exp = g->expires_ns;
	g->expires_ns = new_exp;
	g->expires_boot += new_exp - old_exp;
	g->duration_s = (g->expires_ns - g->starts_ns) / 1000000000LL;
	snprintf(err, sizeof(err), "until %s", util_format_time(new_exp, when, sizeof(when)));
	req_history_add(g, "extended", by, err, util_now_ns(CLOCK_REALTIME));
	r = grant_commit(c->a, g, &before);
	if (r)
		return error_reply("EIO", "cannot record the extension: %s", strerror(-r));
	return grant_reply("extended", g, by);
}

static json_t *do_revoke(struct client *c, json_t *req)
{
	json_t *e = NULL;
	struct grant *g = get_grant(c, req, &e);
	const struct grant *out;
	uid_t by = c->cred.uid;
	int r;

	if (!g)
		return e;
	json_t *jkill = json_object_get(req, "kill");
	char *cg = NULL;
	json_t *reply;
	int killed = 0;

	if (!req_is_admin(c->a->policy, by) && g->requester_uid != by &&
	    !(g->has_uid && g->uid == by && g->kind != GRANT_FLEET))
		return error_reply("EPERM", "uid %u may not revoke grant %llu (root, admins and "
					    "its own user may)",
				   by, (unsigned long long)g->id);
	if (jkill && !json_is_boolean(jkill))
		return error_reply("EINVAL", "\"kill\" must be true or false");
	if (json_is_true(jkill) && !g->cgroup)
		return error_reply("EINVAL",
				   "grant %llu is not bound to a cgroup: --kill needs a grant made by "
				   "'jitctl exec', --cgroup or --unit (for a user grant jitd cannot "
				   "tell which processes used it)",
				   (unsigned long long)g->id);
	if (json_is_true(jkill) && !(cg = strdup(g->cgroup)))
		return error_reply("ENOMEM", "out of memory");
	r = grant_revoke(c->a, g->id, by, &out);
	if (r == -EALREADY) {
		free(cg);
		return error_reply("EINVAL", "grant %llu is not active or pending",
				   (unsigned long long)g->id);
	}
	if (r) {
		free(cg);
		return error_reply("EIO", "cannot revoke: %s", strerror(-r));
	}
	/* revoked first (the kernel denies from now on), then the tree is ended */
	if (cg) {
		killed = scope_kill(c->a, cg);
		audit_agent_event("killed", json_pack("{s:I,s:s,s:i,s:i}", "grant_id",
						      (json_int_t)out->id, "cgroup", cg, "processes",
						      killed > 0 ? killed : 0, "by_uid", (int)by));
		free(cg);
	}
	reply = grant_reply("revoked", out, by);
	if (killed < 0)
		json_object_set_new(reply, "kill_error", json_string(strerror(-killed)));
	else if (jkill && json_is_true(jkill))
		json_object_set_new(reply, "killed", json_integer(killed));
	return reply;
}

static json_t *do_list(struct client *c, json_t *req)
{
	bool all = json_is_true(json_object_get(req, "all"));
	bool mine = json_is_true(json_object_get(req, "mine"));
	json_t *arr = json_array();

	for (size_t i = 0; i < c->a->grants.n; i++) {
		const struct grant *g = &c->a->grants.v[i];

		if (!all && g->state != GRANT_ACTIVE && g->state != GRANT_PENDING)
			continue;
		if (mine && g->requester_uid != c->cred.uid &&
		    !(g->has_uid && g->uid == c->cred.uid))
			continue;
		json_array_append_new(arr, grant_to_json(g));
	}
	return ok_reply("grants", arr);
}

static json_t *do_show(struct client *c, json_t *req)
{
	json_t *e = NULL;
	struct grant *g = get_grant(c, req, &e);

	return g ? grant_reply(NULL, g, 0) : e;
}

/* A grant for one process tree: jitd makes a cgroup, moves the caller into it, grants it. */
static json_t *do_exec(struct client *c, json_t *req)
{
	struct agent *a = c->a;
	struct grant g = { .kind = GRANT_EXEC, .state = GRANT_ACTIVE };
	const struct policy_rule *rule = NULL;
	char err[512], proc[64];
	const char *reason;
	int64_t now, dur;
	struct stat st;
	json_t *e;
	int r;

	if ((e = get_resources(a, req, &g)) || (e = get_duration_reason(req, &dur, &reason)))
		return e;
	if (!req_is_admin(a->policy, c->cred.uid)) {
		rule = req_find_rule(a->policy, c->cred.uid, g.res, g.n_res, err, sizeof(err));
		if (!rule)
			return error_reply(strncmp(err, "unknown", 7) ? "EPERM" : "ENOENT", "%s",
					   err);
		if (rule->approvals)
			return error_reply("EPERM",
					   "the rule needs %u approval(s): use 'jitctl request', "
					   "then run the command once it is granted",
					   rule->approvals);
		r = req_check(rule, dur, reason, err, sizeof(err));
		if (r)
			return error_reply("EINVAL", "%s", err);
	}
	/* the peer must still be the process that connected, owned by the same user */
	snprintf(proc, sizeof(proc), "/proc/%d", (int)c->cred.pid);
	if (c->cred.pid <= 1 || stat(proc, &st) || st.st_uid != c->proc_uid)
		return error_reply("EPERM", "cannot verify the calling process %d",
				   (int)c->cred.pid);
	r = scope_create(a, a->grants.next_id, c->cred.pid, &g.cgroup, &g.cgroup_id);
	if (r)
		return error_reply("EIO", "cannot create the cgroup: %s", strerror(-r));
	now = util_now_ns(CLOCK_REALTIME);
	g.has_uid = true;
	g.uid = g.requester_uid = g.by_uid = c->cred.uid;
	g.created_ns = g.starts_ns = now;
	g.expires_ns = now + dur * 1000000000LL;
	g.duration_s = dur;
	g.max_duration_s = rule ? rule->max_duration_s : 0;
	if ((e = take_reason(&g, reason)))
		return e;
	req_history_add(&g, "exec", c->cred.uid, reason, now);
	r = grant_add(a, &g, err, sizeof(err));
	if (r)
		return error_reply(errno_name(r), "%s", err);
	struct grant *ng = grant_find(&a->grants, g.id);
	json_t *reply = grant_reply("granted", ng, c->cred.uid);

	r = scope_watch(a, ng);
	if (r)
		log_warn("exec grant %llu: cannot watch its cgroup: %s",
			 (unsigned long long)g.id, strerror(-r));
	return reply;
}

static json_t *do_policy_apply(struct client *c, json_t *req)
{
	json_t *jt = json_object_get(req, "text");
	char err[1024];
	struct policy *p = NULL;
	int r;

	if (!req_is_admin(c->a->policy, c->cred.uid))
		return error_reply("EPERM", "only root and admins may apply a policy (you are uid %u)",
				   c->cred.uid);
	if (!json_is_string(jt))
		return error_reply("EINVAL", "'text' must be the policy as a string");
	r = policy_parse("policy", json_string_value(jt), json_string_length(jt), &p, err,
			 sizeof(err));
	if (r)
		return error_reply("EINVAL", "%s", err);
	if (p->serial <= c->a->policy->serial) {
		json_t *e = error_reply("EINVAL",
					"serial %lld does not increase the active serial %lld",
					(long long)p->serial, (long long)c->a->policy->serial);

		policy_free(p);
		return e;
	}
	r = agent_apply_policy_text(c->a, p, json_string_value(jt), json_string_length(jt), err,
				    sizeof(err));
	if (r)
		return error_reply(errno_name(r), "%s", err);
	return json_pack("{s:b,s:I}", "ok", 1, "serial", (json_int_t)c->a->policy->serial);
}

static json_t *policy_show_build(const struct policy *p)
{
	json_t *o = json_pack("{s:b,s:I,s:s}", "ok", 1, "serial", (json_int_t)p->serial,
			      "source", p->source ?: "");
	json_t *res = json_object(), *rules = json_array(), *grants = json_array();
	json_t *admins = json_array();
	char buf[256];

	for (size_t i = 0; i < p->n_resources; i++) {
		json_t *r = json_object();

		for (size_t j = 0; j < p->resources[i].n_entries; j++) {
			const struct policy_entry *e = &p->resources[i].entries[j];
			const char *k = e->kind == POLICY_EXEC ? "exec"
					: e->kind == POLICY_OPEN ? "open"
								 : "connect";

			if (!json_object_get(r, k))
				json_object_set_new(r, k, json_array());
			json_array_append_new(json_object_get(r, k),
					      json_string(policy_entry_format(e, buf, sizeof(buf))));
		}
		json_object_set_new(res, p->resources[i].name, r);
	}
	for (size_t i = 0; i < p->n_admins; i++)
		json_array_append_new(admins, json_string(p->admins[i]));
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct policy_rule *ru = &p->rules[i];
		json_t *r = json_pack("{s:[],s:[],s:I,s:i,s:[],s:s}", "resources", "requesters",
				      "max_duration_s", (json_int_t)ru->max_duration_s, "approvals",
				      (int)ru->approvals, "approvers", "reason",
				      ru->reason_required ? "required" : "optional");

		for (size_t j = 0; j < ru->n_resources; j++)
			json_array_append_new(json_object_get(r, "resources"),
					      json_string(ru->resources[j]));
		for (size_t j = 0; j < ru->n_requesters; j++)
			json_array_append_new(json_object_get(r, "requesters"),
					      json_string(ru->requesters[j]));
		for (size_t j = 0; j < ru->n_approvers; j++)
			json_array_append_new(json_object_get(r, "approvers"),
					      json_string(ru->approvers[j]));
		if (ru->reason_pattern)
			json_object_set_new(r, "reason_pattern", json_string(ru->reason_pattern));
		json_array_append_new(rules, r);
	}
	for (size_t i = 0; i < p->n_grants; i++) {
		const struct policy_grant *g = &p->grants[i];
		json_t *o2 = json_pack("{s:s}", "resource", g->resource);
		char t[40];

		if (g->has_uid)
			json_object_set_new(o2, "uid", json_integer(g->uid));
		if (g->cgroup)
			json_object_set_new(o2, "cgroup", json_string(g->cgroup));
		if (g->not_before_ns)
			json_object_set_new(o2, "not_before",
					    json_string(util_format_time(g->not_before_ns, t,
									 sizeof(t))));
		json_object_set_new(o2, "not_after",
				    json_string(util_format_time(g->not_after_ns, t, sizeof(t))));
		json_array_append_new(grants, o2);
	}
	json_object_set_new(o, "resources", res);
	json_object_set_new(o, "admins", admins);
	json_object_set_new(o, "rules", rules);
	json_object_set_new(o, "grants", grants);
	return o;
}

/* The policy as a reply. Built and serialized at most once a second (client_reply sends the
 * cached line): a client repeating policy_show costs a copy, not a rebuild. */
static json_t *do_policy_show(struct client *c, json_t *req)
{
	const struct policy *p = c->a->policy;
	char *line;

	if (show_cache.json && show_cache.p == p && show_cache.serial == p->serial &&
	    now_usec() - show_cache.at < 1000000)
		return json_incref(show_cache.json);
	json_decref(show_cache.json);
	free(show_cache.line);
	memset(&show_cache, 0, sizeof(show_cache));
	show_cache.json = policy_show_build(p);
	line = show_cache.json ? json_dumps(show_cache.json, JSON_COMPACT) : NULL;
	if (!line)
		return json_incref(show_cache.json);
	show_cache.len = strlen(line) + 1;
	line[show_cache.len - 1] = '\n';
	show_cache.line = line;
	show_cache.p = p;
	show_cache.serial = p->serial;
	show_cache.at = now_usec();
	return json_incref(show_cache.json);
}

static json_t *do_status(struct client *c, json_t *req)
{
	struct agent *a = c->a;
	uint64_t allow = 0, deny = 0, drops = 0;
	char lsm[256] = "", started[40];
	json_t *r;

	kern_lsm_active(lsm, sizeof(lsm));
	kern_counters(a->kern, &allow, &deny, &drops);
	r = ok_reply(NULL, NULL);
	json_object_set_new(r, "enforcing", json_boolean(kern_enforcing(a->kern) && a->selftest_ok));
	json_object_set_new(r, "pid", json_integer(getpid()));
	json_object_set_new(r, "lsm", json_string(lsm));
	json_object_set_new(r, "programs", kern_programs_json(a->kern));
	json_object_set_new(r, "kernel", kern_features_json(a->kern));
	json_object_set_new(r, "counters", json_pack("{s:I,s:I,s:I}", "allow", (json_int_t)allow,
						     "deny", (json_int_t)deny, "drops",
						     (json_int_t)drops));
	json_object_set_new(r, "policy",
			    json_pack("{s:s,s:I,s:I}", "source", a->policy->source ?: a->policy_path,
				      "serial",
				      (json_int_t)a->policy->serial, "resources",
				      (json_int_t)a->policy->n_resources));
	json_object_set_new(r, "grants", json_pack("{s:I}", "active",
						   (json_int_t)grant_count_active(&a->grants)));
	json_object_set_new(r, "selftest", json_string(a->selftest_ok ? "passed" : "failed"));
	json_object_set_new(r, "started",
			    json_string(util_format_time(a->started_ns, started, sizeof(started))));
	return r;
}

/* {"op":"audit",...}: become a live audit subscriber (audit_sub.c); root only. */
static json_t *do_audit(struct client *c, json_t *req)
{
	if (c->cred.uid != 0)
		return error_reply("EPERM", "only root may read the audit stream (you are uid %u)",
				   c->cred.uid);
	json_t *r = audit_sub_request(c->a, c, req);

	if (json_is_true(json_object_get(r, "ok"))) {
		c->follower = true; /* may stay silent: no idle timeout */
		sd_event_source_set_enabled(c->idle, SD_EVENT_OFF);
	}
	return r;
}

#define CTL_MAX_SUB_OUT (4u << 20)

/* Queue raw lines for a subscriber. A client that does not keep up is dropped (-ENOBUFS)
 * rather than slowing jitd; close_after closes it once the queue is sent. */
int ctl_push(void *client, const char *buf, size_t len, bool close_after)
{
	struct client *c = client;
	char *no;

	if (c->closing)
		return -EPIPE;
	if (c->out_len + len > CTL_MAX_SUB_OUT) {
		c->closing = true;
		c->out_len = c->out_off = 0;
		shutdown(c->fd, SHUT_RDWR); /* the next wakeup frees it */
		sd_event_source_set_io_events(c->io, EPOLLIN | EPOLLOUT);
		return -ENOBUFS;
	}
	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, client_unsent(c));
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	no = realloc(c->out, c->out_len + len + 1);
	if (!no)
		return -ENOMEM;
	c->out = no;
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	c->closing = close_after;
	return client_update(c);
}

static json_t *dispatch(struct client *c, const char *line, size_t len)
{
	static const struct {
		const char *op;
		json_t *(*fn)(struct client *, json_t *);
	} verbs[] = { { "grant", do_grant },
		      { "request", do_request },
		      { "approve", do_approve },
		      { "deny", do_deny },
		      { "extend", do_extend },
		      { "show", do_show },
		      { "exec", do_exec },
		      { "policy_apply", do_policy_apply },
		      { "policy_show", do_policy_show },
		      { "revoke", do_revoke },
		      { "list", do_list },
		      { "status", do_status },
		      { "audit", do_audit } };
	json_error_t jerr;
	json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr), *reply = NULL;
	const char *op;

	if (!req)
		return error_reply("EINVAL", "malformed request: %s (column %d)", jerr.text,
				   jerr.column);
	op = json_string_value(json_object_get(req, "op"));
	if (!json_is_object(req) || !op) {
		json_decref(req);
		return error_reply("EINVAL", "a request is a JSON object with a string 'op'");
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(op, verbs[i].op)) {
			reply = verbs[i].fn(c, req) ?: error_reply("EIO", "cannot build the reply");
			break;
		}
	if (!reply)
		reply = error_reply("EINVAL", "unknown op '%.64s'", op);
	json_decref(req);
	return reply;
}

/* A full buffer without a newline: grow it (root and admins, up to in_max) or refuse the
 * line and skip to its end. */
static void client_full(struct client *c)
{
	if (c->in_cap < c->in_max && !c->discarding) {
		size_t cap = c->in_cap * 2 < c->in_max ? c->in_cap * 2 : c->in_max;
		char *in = realloc(c->in, cap);

		if (in) {
			c->in = in;
			c->in_cap = cap;
			return;
		}
	}
	if (!c->discarding)
		client_reply(c, error_reply("E2BIG", "request longer than %zu bytes%s", c->in_max,
					    c->in_max < JITD_CTL_MAX_ADMIN_LINE
						    ? " (root and admins may send up to 16 MiB)"
						    : ""));
	c->discarding = true;
	c->in_len = c->in_scanned = 0;
}

/*
 * Run c's complete request lines: at most CTL_LINES_PER_RUN or CTL_RUN_USEC, then the rest
 * in a deferred run (other clients are served in between); none once c is closing or while
 * its replies are not being read (then it is stalled until they drain).
 */
static void client_run(struct client *c)
{
	uint64_t t0 = now_usec();
	unsigned n = 0;
	char *nl;

	while ((nl = memchr(c->in + c->in_scanned, '\n', c->in_len - c->in_scanned))) {
		size_t len = nl - (c->in + c->in_off);

		if (c->closing)
			break;
		if (!client_may_run(c)) {
			c->stalled = true;
			break;
		}
		if (n++ == CTL_LINES_PER_RUN || now_usec() - t0 > CTL_RUN_USEC) {
			sd_event_source_set_enabled(c->work, SD_EVENT_ONESHOT);
			break;
		}
		if (c->discarding) {
			c->discarding = false;
		} else {
			client_reply(c, dispatch(c, c->in + c->in_off, len));
			c->last_req = now_usec();
		}
		c->in_off += len + 1;
		c->in_scanned = c->in_off;
		c->line_start = c->in_off < c->in_len ? now_usec() : 0;
	}
	if (!nl)
		c->in_scanned = c->in_len;
	if (c->in_off) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_scanned -= c->in_off;
		c->in_off = 0;
	}
	if (!nl && c->in_len == c->in_cap)
		client_full(c);
}

/* Send what can be sent; false when c is gone (freed). */
static bool client_settle(struct client *c)
{
	if (client_flush(c) < 0 || (c->closing && !client_unsent(c))) {
		client_free(c);
		return false;
	}
	return true;
}

static int on_client_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct client *c = userdata;

	if ((revents & EPOLLIN) && c->in_len < c->in_cap) {
		ssize_t n = recv(fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			client_free(c);
			return 0;
		}
		if (n > 0) {
			if (!c->in_len)
				c->line_start = now_usec();
			c->in_len += n;
			if (!c->closing)
				client_run(c);
		}
	} else if (revents & (EPOLLHUP | EPOLLERR) && !(revents & EPOLLOUT)) {
		client_free(c);
		return 0;
	}
	client_settle(c);
	return 0;
}

static int on_client_work(sd_event_source *s, void *userdata)
{
	struct client *c = userdata;

	client_run(c);
	client_settle(c);
	return 0;
}

static int on_client_idle(sd_event_source *s, uint64_t usec, void *userdata)
{
	client_free(userdata);
	return 0;
}

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

/*
 * The peer's subject, as the kernel programs see it: its login uid when set (a root
 * shell from `sudo -i` by alice is alice), else its uid. The login uid is read from
 * /proc/PID while a pidfd of the peer (SO_PEERPIDFD, 6.5+; else pidfd_open of the
 * SO_PEERCRED pid) shows the same process is still alive, so a reused pid cannot
 * lend its login uid. Returns 0, or -errno when the subject cannot be known (then the
 * client is refused: no guessing toward root).
 */
static int peer_subject(int cfd, const struct ucred *cred, uid_t *subject)
{
	socklen_t len = sizeof(int);
	char path[64], buf[32] = "";
	struct pollfd pfd = { .events = POLLIN };
	unsigned long v;
	ssize_t n;
	int fd, pidfd = -1, err = 0;

	if (getsockopt(cfd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0)
		pidfd = (int)syscall(SYS_pidfd_open, cred->pid, 0);
	snprintf(path, sizeof(path), "/proc/%d/loginuid", (int)cred->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		err = -errno;
	if (!err) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n <= 0)
			err = n < 0 ? -errno : -EIO;
		close(fd);
	}
	/* still alive after the read: the /proc entry was the peer's (a pidfd turns
	 * readable when its process exits) */
	pfd.fd = pidfd;
	if (!err && pidfd >= 0 && poll(&pfd, 1, 0) != 0)
		err = -ESRCH;
	if (pidfd >= 0)
		close(pidfd);
	if (err)
		return err;
	v = strtoul(buf, NULL, 10);
	*subject = v == JITD_NO_LOGINUID ? cred->uid : (uid_t)v;
	return 0;
}

/* Does principal ("user:NAME", "group:NAME") name a user called name in groups? */
static bool principal_in(const char *principal, const char *name, char (*groups)[64], int n_groups)
{
	if (!strncmp(principal, "user:", 5))
		return !strcmp(principal + 5, name);
	if (strncmp(principal, "group:", 6))
		return false;
	for (int i = 0; i < n_groups; i++)
		if (!strcmp(principal + 6, groups[i]))
			return true;
	return false;
}

/* Is uid root, exempt, an admin or an approver of any rule? Names are looked up once, then
 * every principal is a string compare (a policy may list thousands). */
static bool uid_privileged_lookup(const struct policy *p, uid_t uid)
{
	static char groups[64][64];
	struct passwd pw, *pres = NULL;
	gid_t gids[64];
	char buf[8192];
	int n = 64, ng = 0;

	if (uid == 0 || policy_exempts_uid(p, uid))
		return true;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &pres) || !pres)
		return false;
	if (getgrouplist(pw.pw_name, pw.pw_gid, gids, &n) < 0)
		n = 64;
	for (int i = 0; i < n; i++) {
		struct group gr, *gres = NULL;
		char gbuf[8192];

		if (!getgrgid_r(gids[i], &gr, gbuf, sizeof(gbuf), &gres) && gres)
			snprintf(groups[ng++], sizeof(groups[0]), "%s", gr.gr_name);
	}
	for (size_t i = 0; i < p->n_admins; i++)
		if (principal_in(p->admins[i], pw.pw_name, groups, ng))
			return true;
	for (size_t i = 0; i < p->n_rules; i++)
		for (size_t j = 0; j < p->rules[i].n_approvers; j++)
			if (principal_in(p->rules[i].approvers[j], pw.pw_name, groups, ng))
				return true;
	return false;
}

/* uid_privileged_lookup, remembered for a few seconds per policy (reconnect floods). */
static bool uid_privileged(const struct policy *p, uid_t uid)
{
	static struct {
		const struct policy *p;
		int64_t serial;
		uid_t uid;
		uint64_t at;
		bool priv;
	} cache[CTL_PRIV_CACHE];
	static unsigned next;
	uint64_t now = now_usec();

	for (unsigned i = 0; i < CTL_PRIV_CACHE; i++)
		if (cache[i].p == p && cache[i].serial == p->serial && cache[i].uid == uid &&
		    now - cache[i].at < CTL_PRIV_CACHE_USEC)
			return cache[i].priv;
	next = (next + 1) % CTL_PRIV_CACHE;
	cache[next].p = p;
	cache[next].serial = p->serial;
	cache[next].uid = uid;
	cache[next].at = now;
	cache[next].priv = uid_privileged_lookup(p, uid);
	return cache[next].priv;
}

/* The least recently active connection of uid (followers are never evicted), or NULL. */
static struct client *uid_oldest(uid_t uid)
{
	struct client *best = NULL;

	for (struct client *x = clients_head; x; x = x->next)
		if (x->cred.uid == uid && !x->follower && (!best || x->last_req < best->last_req))
			best = x;
	return best;
}

/* The uid holding the most connections (only unprivileged ones if unpriv). */
static struct client *heaviest_oldest(bool unpriv)
{
	unsigned best_n = 0;
	uid_t best = 0;

	for (struct client *x = clients_head; x; x = x->next) {
		unsigned n = 0;

		if ((unpriv && x->privileged) || x->follower)
			continue;
		for (struct client *y = clients_head; y; y = y->next)
			n += y->cred.uid == x->cred.uid && !y->follower;
		if (n > best_n) {
			best_n = n;
			best = x->cred.uid;
		}
	}
	return best_n ? uid_oldest(best) : NULL;
}

/* Make room for a new client of uid: 0, or -EBUSY when nothing may be evicted. */
static int client_admit(uid_t uid, bool privileged)
{
	unsigned mine = 0, unpriv = 0;
	struct client *victim = NULL;

	for (struct client *x = clients_head; x; x = x->next) {
		mine += x->cred.uid == uid;
		unpriv += !x->privileged;
	}
	if (mine >= (privileged ? CTL_MAX_PER_UID_PRIV : CTL_MAX_PER_UID))
		victim = uid_oldest(uid);
	else if (!privileged && unpriv >= CTL_MAX_CLIENTS - CTL_RESERVED)
		victim = heaviest_oldest(true);
	else if (n_clients >= CTL_MAX_CLIENTS)
		victim = heaviest_oldest(false);
	else
		return 0;
	if (!victim)
		return -EBUSY;
	client_free(victim);
	return 0;
}

/* Refuse cfd with one error line. */
static void refuse(int cfd, const char *line)
{
	send(cfd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL);
	close(cfd);
}

static int client_sources(struct agent *a, struct client *c)
{
	if (sd_event_add_io(a->event, &c->io, c->fd, EPOLLIN, on_client_io, c) < 0 ||
	    sd_event_add_time(a->event, &c->idle, CLOCK_MONOTONIC, c->last_req + CTL_IDLE_USEC, 0,
			      on_client_idle, c) < 0 ||
	    sd_event_add_defer(a->event, &c->work, on_client_work, c) < 0)
		return -ENOMEM;
	sd_event_source_set_enabled(c->work, SD_EVENT_OFF);
	if (c->privileged) { /* served first: an approver or root is never behind a flood */
		sd_event_source_set_priority(c->io, SD_EVENT_PRIORITY_IMPORTANT);
		sd_event_source_set_priority(c->work, SD_EVENT_PRIORITY_IMPORTANT);
	}
	sd_event_source_set_description(c->io, "ctl-client");
	sd_event_source_set_description(c->idle, "ctl-client-idle");
	sd_event_source_set_description(c->work, "ctl-client-work");
	return 0;
}

static void client_new(struct agent *a, int cfd)
{
	socklen_t len = sizeof(struct ucred);
	struct ucred cred;
	struct client *c;
	uid_t subject;
	bool priv;
	int r;

	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len)) {
		close(cfd);
		return;
	}
	r = peer_subject(cfd, &cred, &subject);
	if (r) {
		log_warn("control client pid %d: cannot read its login uid: %s; refused",
			 (int)cred.pid, strerror(-r));
		refuse(cfd, "{\"ok\":false,\"error\":\"cannot tell who you are (no login uid of "
			    "the connecting process)\",\"errno\":\"EPERM\"}\n");
		return;
	}
	priv = uid_privileged(a->policy, subject);
	if (client_admit(subject, priv)) {
		refuse(cfd, "{\"ok\":false,\"error\":\"too many clients, try again\","
			    "\"errno\":\"EBUSY\"}\n");
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(cfd);
		return;
	}
	c->a = a;
	c->fd = cfd;
	c->cred = cred;
	c->proc_uid = cred.uid;
	c->cred.uid = subject;
	c->privileged = priv;
	c->last_req = now_usec();
	/* who may send long lines is fixed at connect time */
	c->in_max = req_is_admin(a->policy, subject) ? JITD_CTL_MAX_ADMIN_LINE : JITD_CTL_MAX_LINE;
	c->in_cap = JITD_CTL_MAX_LINE;
	c->in = malloc(c->in_cap);
	c->prev = clients_tail;
	*(clients_tail ? &clients_tail->next : &clients_head) = c;
	clients_tail = c;
	n_clients++;
	if (!c->in || client_sources(a, c))
		client_free(c);
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	for (int i = 0; i < CTL_ACCEPT_BATCH; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (cfd < 0)
			break;
		client_new(userdata, cfd);
	}
	return 0;
}

/* Listen on a->socket_path (mode 0666; authorization is per request). */
int ctl_start(struct agent *a)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[sizeof(sun.sun_path)];
	int r;

	if (strlen(a->socket_path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, a->socket_path);
	strcpy(dir, a->socket_path);
	if (strrchr(dir, '/') && strrchr(dir, '/') != dir) {
		*strrchr(dir, '/') = 0;
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
	}
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (listen_fd < 0)
		return -errno;
	unlink(a->socket_path);
	if (bind(listen_fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    chmod(a->socket_path, 0666) || listen(listen_fd, 64)) {
		r = -errno;
		close(listen_fd);
		listen_fd = -1;
		return r;
	}
	listen_path = a->socket_path;
	r = sd_event_add_io(a->event, &listen_src, listen_fd, EPOLLIN, on_accept, a);
	if (r >= 0)
		sd_event_source_set_description(listen_src, "ctl-listen");
	return r < 0 ? r : 0;
}

void ctl_stop(void)
{
	listen_src = sd_event_source_disable_unref(listen_src);
	if (listen_fd >= 0) {
		close(listen_fd);
		unlink(listen_path);
	}
	listen_fd = -1;
}
