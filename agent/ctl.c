// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket (docs/protocol.md): newline-delimited JSON over a Unix
 * stream socket, the caller's identity from SO_PEERCRED, bounded request size,
 * bounded clients, idle timeout. Bad input gets an error reply and changes nothing.
 */
#include <errno.h>
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

#define CTL_MAX_CLIENTS 64
#define CTL_IDLE_USEC (30ULL * 1000000)
#define CTL_MAX_OUT (2 * JITD_CTL_MAX_REPLY)

struct client {
	struct agent *a;
	int fd;
	struct ucred cred;
	sd_event_source *io, *idle;
	char in[JITD_CTL_MAX_LINE];
	size_t in_len;
	bool discarding; /* inside an over-long line: drop until its newline */
	char *out;
	size_t out_len, out_off;
	bool closing;
};

static int listen_fd = -1;
static sd_event_source *listen_src;
static const char *listen_path;
static unsigned n_clients;

static void client_free(struct client *c)
{
	audit_sub_remove(c);
	sd_event_source_disable_unref(c->io);
	sd_event_source_disable_unref(c->idle);
	close(c->fd);
	free(c->out);
	free(c);
	n_clients--;
}

static int client_flush(struct client *c)
{
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
	return sd_event_source_set_io_events(c->io, EPOLLIN | (c->out_len ? EPOLLOUT : 0));
}

/* Queue one reply line (takes the reference). */
static void client_reply(struct client *c, json_t *reply)
{
	char *line = json_dumps(reply, JSON_COMPACT);
	size_t len;

	json_decref(reply);
	if (!line) {
		c->closing = true;
		return;
	}
	len = strlen(line);
	if (c->out_len + len + 1 > CTL_MAX_OUT) {
		free(line);
		c->closing = true; /* a client that never reads */
		return;
	}
	char *no = realloc(c->out, c->out_len + len + 1);

	if (!no) {
		free(line);
		c->closing = true;
		return;
	}
	c->out = no;
	memcpy(c->out + c->out_len, line, len);
	c->out[c->out_len + len] = '\n';
	c->out_len += len + 1;
	free(line);
}

static json_t *error_reply(const char *errno_name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static json_t *error_reply(const char *errno_name, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b,s:s,s:s}", "ok", 0, "error", msg, "errno", errno_name);
}

static json_t *ok_reply(const char *key, json_t *val)
{
	json_t *r = json_pack("{s:b}", "ok", 1);

	if (key)
		json_object_set_new(r, key, val);
	return r;
}

/* Resolve a cgroup v2 path (relative to the cgroupfs root) to its id. */
static int resolve_cgroup(struct agent *a, const char *path, uint64_t *id)
{
	char full[4096];
	struct stat st;

	if (path[0] != '/' || strstr(path, "/..") || strlen(path) > 2048)
		return -EINVAL;
	snprintf(full, sizeof(full), "%s%s", a->cgroup_root, path);
	if (stat(full, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = st.st_ino;
	return 0;
}

static json_t *do_grant(struct client *c, json_t *req)
{
	struct agent *a = c->a;
	json_t *juser = json_object_get(req, "user"), *juid = json_object_get(req, "uid");
	json_t *jcg = json_object_get(req, "cgroup"), *jdur = json_object_get(req, "duration_s");
	json_t *jres = json_object_get(req, "resource"), *jreason = json_object_get(req, "reason");
	struct grant g = {};
	char err[256];
	int64_t now;
	int r;

	if (c->cred.uid != 0)
		return error_reply("EPERM", "only root may grant (you are uid %u)", c->cred.uid);
	if (!json_is_string(jres))
		return error_reply("EINVAL", "'resource' must be a string");
	if (!policy_find(a->policy, json_string_value(jres)))
		return error_reply("ENOENT", "unknown resource '%s' (see 'jitctl status')",
				   json_string_value(jres));
	if (!json_is_integer(jdur) || json_integer_value(jdur) < 1 ||
	    json_integer_value(jdur) > JITD_MAX_DURATION_S)
		return error_reply("EINVAL", "'duration_s' must be an integer 1..%lld",
				   (long long)JITD_MAX_DURATION_S);
	if (jreason && !json_is_null(jreason) &&
	    (!json_is_string(jreason) || json_string_length(jreason) > GRANT_MAX_REASON))
		return error_reply("EINVAL", "'reason' must be a string of at most %d bytes",
				   GRANT_MAX_REASON);
	if (juser && juid)
		return error_reply("EINVAL", "give 'user' or 'uid', not both");
	if (!juser && !juid && !jcg)
		return error_reply("EINVAL", "a grant needs a subject: 'user', 'uid' or 'cgroup'");
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
	if (jcg) {
		if (!json_is_string(jcg))
			return error_reply("EINVAL", "'cgroup' must be a string");
		r = resolve_cgroup(a, json_string_value(jcg), &g.cgroup_id);
		if (r)
			return error_reply(r == -EINVAL ? "EINVAL" : "ENOENT",
					   "cgroup '%s': %s (a cgroup v2 path like /system.slice)",
					   json_string_value(jcg), strerror(-r));
		g.cgroup = strdup(json_string_value(jcg));
	}
	snprintf(g.resource, sizeof(g.resource), "%s", json_string_value(jres));
	now = util_now_ns(CLOCK_REALTIME);
	g.created_ns = g.starts_ns = now;
	g.expires_ns = now + json_integer_value(jdur) * 1000000000LL;
	g.by_uid = c->cred.uid;
	if (json_is_string(jreason))
		g.reason = strdup(json_string_value(jreason));
	r = grant_add(a, &g, err, sizeof(err));
	if (r)
		return error_reply(r == -ENOENT ? "ENOENT" : "EIO", "%s", err);
	const struct grant *ng = grant_find(&a->grants, g.id);
	json_t *gj = grant_to_json(ng);

	audit_agent_event("granted", json_pack("{s:O}", "grant", gj));
	return ok_reply("grant", gj);
}

static json_t *do_revoke(struct client *c, json_t *req)
{
	json_t *jid = json_object_get(req, "id");
	const struct grant *g;
	int r;

	if (c->cred.uid != 0)
		return error_reply("EPERM", "only root may revoke (you are uid %u)", c->cred.uid);
	if (!json_is_integer(jid) || json_integer_value(jid) < 1)
		return error_reply("EINVAL", "'id' must be a positive integer");
	r = grant_revoke(c->a, json_integer_value(jid), c->cred.uid, &g);
	if (r == -ENOENT)
		return error_reply("ENOENT", "no grant %lld", (long long)json_integer_value(jid));
	if (r == -EALREADY)
		return error_reply("EINVAL", "grant %lld is not active",
				   (long long)json_integer_value(jid));
	if (r)
		return error_reply("EIO", "cannot revoke: %s", strerror(-r));
	json_t *gj = grant_to_json(g);

	audit_agent_event("revoked", json_pack("{s:O,s:i}", "grant", gj, "by_uid", c->cred.uid));
	return ok_reply("grant", gj);
}

static json_t *do_list(struct client *c, json_t *req)
{
	bool all = json_is_true(json_object_get(req, "all"));
	json_t *arr = json_array();

	for (size_t i = 0; i < c->a->grants.n; i++)
		if (all || c->a->grants.v[i].state == GRANT_ACTIVE)
			json_array_append_new(arr, grant_to_json(&c->a->grants.v[i]));
	return ok_reply("grants", arr);
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
	json_object_set_new(r, "counters", json_pack("{s:I,s:I,s:I}", "allow", (json_int_t)allow,
						     "deny", (json_int_t)deny, "drops",
						     (json_int_t)drops));
	json_object_set_new(r, "policy",
			    json_pack("{s:s,s:I,s:I}", "source", a->policy_path, "serial",
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
	sd_event_source_set_enabled(c->idle, SD_EVENT_OFF); /* a follower may stay silent */
	return audit_sub_request(c->a, c, req);
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
	no = realloc(c->out, c->out_len + len + 1);
	if (!no)
		return -ENOMEM;
	c->out = no;
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	c->closing = close_after;
	return sd_event_source_set_io_events(c->io, EPOLLIN | EPOLLOUT);
}

static json_t *dispatch(struct client *c, const char *line, size_t len)
{
	static const struct {
		const char *op;
		json_t *(*fn)(struct client *, json_t *);
	} verbs[] = { { "grant", do_grant },
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
		if (!strcmp(op, verbs[i].op))
			reply = verbs[i].fn(c, req);
	if (!reply)
		reply = error_reply("EINVAL", "unknown op '%.64s'", op);
	json_decref(req);
	return reply;
}

static void client_consume(struct client *c)
{
	char *nl;

	while ((nl = memchr(c->in, '\n', c->in_len))) {
		size_t len = nl - c->in;

		if (c->discarding)
			c->discarding = false;
		else
			client_reply(c, dispatch(c, c->in, len));
		memmove(c->in, nl + 1, c->in_len - len - 1);
		c->in_len -= len + 1;
	}
	if (c->in_len == sizeof(c->in)) {
		/* No newline in a full buffer: refuse the line, skip to its end. */
		if (!c->discarding)
			client_reply(c, error_reply("E2BIG", "request longer than %d bytes",
						    JITD_CTL_MAX_LINE));
		c->discarding = true;
		c->in_len = 0;
	}
}

static int on_client_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct client *c = userdata;

	if (revents & EPOLLIN) {
		ssize_t n = recv(fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			client_free(c);
			return 0;
		}
		if (n > 0) {
			c->in_len += n;
			client_consume(c);
			sd_event_source_set_time_relative(c->idle, CTL_IDLE_USEC);
		}
	}
	if (client_flush(c) < 0 || (c->closing && !c->out_len))
		client_free(c);
	return 0;
}

static int on_client_idle(sd_event_source *s, uint64_t usec, void *userdata)
{
	client_free(userdata);
	return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct agent *a = userdata;
	socklen_t len = sizeof(struct ucred);
	struct client *c;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (cfd < 0)
		return 0;
	if (n_clients >= CTL_MAX_CLIENTS) {
		static const char busy[] = "{\"ok\":false,\"error\":\"too many clients, try again\","
					   "\"errno\":\"EBUSY\"}\n";

		send(cfd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		close(cfd);
		return 0;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(cfd);
		return 0;
	}
	n_clients++;
	c->a = a;
	c->fd = cfd;
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) ||
	    sd_event_add_io(a->event, &c->io, cfd, EPOLLIN, on_client_io, c) < 0 ||
	    sd_event_add_time_relative(a->event, &c->idle, CLOCK_MONOTONIC, CTL_IDLE_USEC, 0,
				       on_client_idle, c) < 0) {
		client_free(c);
		return 0;
	}
	sd_event_source_set_description(c->io, "ctl-client");
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
