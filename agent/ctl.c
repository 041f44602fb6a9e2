// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket's transport (docs/protocol.md): newline-delimited JSON over a Unix
 * stream socket, the caller's identity from SO_PEERCRED and its login uid, bounded request
 * size, bounded clients, idle timeout, fair turns. Each complete line goes to the verbs
 * (verbs.c) with the peer established here; replies and audit pushes are queued back.
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

#include "core.h"
#include "ctl.h"
#include "audit_sub.h"
#include "log.h"
#include "util.h"
#include "verbs.h"

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
#define CTL_PRIV_CACHE_USEC  (5ULL * 1000000)

struct client {
	struct agent *a;
	struct ctl_server *srv;	    /* &a->ctl */
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
	size_t in_scanned;   /* bytes of in before this index hold no newline */
	size_t in_max;	     /* longest line: more for root and admins (policy apply) */
	bool discarding;     /* inside an over-long line: drop until its newline */
	uint64_t last_req;   /* CLOCK_MONOTONIC usec of the connect or the last request run */
	uint64_t line_start; /* when the first byte of the partial line came, or 0 */
	char *out;
	size_t out_len, out_off;
	bool closing;
};

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
	if (c->prev || c->srv->head == c) {
		*(c->prev ? &c->prev->next : &c->srv->head) = c->next;
		*(c->next ? &c->next->prev : &c->srv->tail) = c->prev;
		c->srv->n_clients--;
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
static size_t uid_unsent(const struct ctl_server *srv, uid_t uid)
{
	size_t n = 0;

	for (struct client *x = srv->head; x; x = x->next)
		if (x->cred.uid == uid)
			n += client_unsent(x);
	return n;
}

/* May c run a request now? Not while its replies, or its uid's, are not being read. */
static bool client_may_run(const struct client *c)
{
	return !c->closing && client_unsent(c) < CTL_OUT_HIGH &&
	       uid_unsent(c->srv, c->cred.uid) < CTL_UID_OUT_HIGH;
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
static void uid_resume(struct ctl_server *srv, uid_t uid)
{
	for (struct client *x = srv->head; x; x = x->next)
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
		uid_resume(c->srv, c->cred.uid);
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

	const char *cached = verbs_cached_line(c->a, reply, &len);

	if (cached) {
		client_queue(c, cached, len);
		json_decref(reply);
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

/* One request line through the verbs, as c's peer; its reply queued. */
static void client_run_line(struct client *c, const char *line, size_t len)
{
	struct verb_peer peer = {.a = c->a,
				 .uid = c->cred.uid,
				 .pid = c->cred.pid,
				 .proc_uid = c->proc_uid,
				 .client = c};

	client_reply(c, verbs_dispatch(&peer, line, len));
	if (peer.follow && !c->follower) {
		c->follower = true; /* may stay silent: no idle timeout */
		sd_event_source_set_enabled(c->idle, SD_EVENT_OFF);
	}
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
		client_reply(c, verbs_error("E2BIG", "request longer than %zu bytes%s", c->in_max,
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
			client_run_line(c, c->in + c->in_off, len);
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
	struct pollfd pfd = {.events = POLLIN};
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
	char groups[64][64];
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
static bool uid_privileged(struct ctl_server *srv, const struct policy *p, uid_t uid)
{
	struct ctl_priv *cache = srv->priv;
	uint64_t now = now_usec();
	unsigned next;

	for (unsigned i = 0; i < CTL_PRIV_CACHE; i++)
		if (cache[i].p == p && cache[i].serial == p->serial && cache[i].uid == uid &&
		    now - cache[i].at < CTL_PRIV_CACHE_USEC)
			return cache[i].priv;
	next = srv->priv_next = (srv->priv_next + 1) % CTL_PRIV_CACHE;
	cache[next].p = p;
	cache[next].serial = p->serial;
	cache[next].uid = uid;
	cache[next].at = now;
	cache[next].priv = uid_privileged_lookup(p, uid);
	return cache[next].priv;
}

/* The least recently active connection of uid (followers are never evicted), or NULL. */
static struct client *uid_oldest(struct ctl_server *srv, uid_t uid)
{
	struct client *best = NULL;

	for (struct client *x = srv->head; x; x = x->next)
		if (x->cred.uid == uid && !x->follower && (!best || x->last_req < best->last_req))
			best = x;
	return best;
}

/* The uid holding the most connections (only unprivileged ones if unpriv). */
static struct client *heaviest_oldest(struct ctl_server *srv, bool unpriv)
{
	unsigned best_n = 0;
	uid_t best = 0;

	for (struct client *x = srv->head; x; x = x->next) {
		unsigned n = 0;

		if ((unpriv && x->privileged) || x->follower)
			continue;
		for (struct client *y = srv->head; y; y = y->next)
			n += y->cred.uid == x->cred.uid && !y->follower;
		if (n > best_n) {
			best_n = n;
			best = x->cred.uid;
		}
	}
	return best_n ? uid_oldest(srv, best) : NULL;
}

/* Make room for a new client of uid: 0, or -EBUSY when nothing may be evicted. */
static int client_admit(struct ctl_server *srv, uid_t uid, bool privileged)
{
	unsigned mine = 0, unpriv = 0;
	struct client *victim = NULL;

	for (struct client *x = srv->head; x; x = x->next) {
		mine += x->cred.uid == uid;
		unpriv += !x->privileged;
	}
	if (mine >= (privileged ? CTL_MAX_PER_UID_PRIV : CTL_MAX_PER_UID))
		victim = uid_oldest(srv, uid);
	else if (!privileged && unpriv >= CTL_MAX_CLIENTS - CTL_RESERVED)
		victim = heaviest_oldest(srv, true);
	else if (srv->n_clients >= CTL_MAX_CLIENTS)
		victim = heaviest_oldest(srv, false);
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
	priv = uid_privileged(&a->ctl, a->policy, subject);
	if (client_admit(&a->ctl, subject, priv)) {
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
	c->srv = &a->ctl;
	c->prev = a->ctl.tail;
	*(a->ctl.tail ? &a->ctl.tail->next : &a->ctl.head) = c;
	a->ctl.tail = c;
	a->ctl.n_clients++;
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
	struct ctl_server *srv = &a->ctl;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
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
	srv->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (srv->listen_fd < 0)
		return -errno;
	unlink(a->socket_path);
	if (bind(srv->listen_fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    chmod(a->socket_path, 0666) || listen(srv->listen_fd, 64)) {
		r = -errno;
		close(srv->listen_fd);
		srv->listen_fd = -1;
		return r;
	}
	srv->listen_path = a->socket_path;
	r = sd_event_add_io(a->event, &srv->listen_src, srv->listen_fd, EPOLLIN, on_accept, a);
	if (r >= 0)
		sd_event_source_set_description(srv->listen_src, "ctl-listen");
	return r < 0 ? r : 0;
}

void ctl_stop(struct agent *a)
{
	struct ctl_server *srv = &a->ctl;

	if (!srv->listen_src)
		return; /* never started */
	srv->listen_src = sd_event_source_disable_unref(srv->listen_src);
	if (srv->listen_fd >= 0) {
		close(srv->listen_fd);
		unlink(srv->listen_path);
	}
	srv->listen_fd = -1;
}
