// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fleet mode: this host's link to the fleet database (PostgreSQL, schema in dist/fleet/).
 * The host registers itself (jitd.hosts), LISTENs on channel "jitd" and, on every
 * notification, applies the requests whose revision it has not seen, in revision order;
 * every FLEET_RESYNC_S it refreshes its row, puts a newer fleet policy in force and
 * reconciles the fleet grants it holds with the active requests that target it. A fleet
 * grant is a local grant of kind "fleet" keyed "db:ID", kept in the local state file: when
 * the database is gone, the host keeps enforcing what it last knew (expiries included) and
 * reconnects with backoff (a multi-host conninfo fails over to a promoted standby).
 *
 * Connecting is non-blocking (the loop keeps serving); queries are short and bounded by the
 * connection's statement_timeout and tcp_user_timeout.
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <systemd/sd-event.h>

#include "apply.h"
#include "audit.h"
#include "core.h"
#include "history.h"
#include "fleet.h"
#include "grant.h"
#include "log.h"
#include "pqdl.h"
#include "request.h"
#include "util.h"

#define ROW_COLUMNS                                                                                \
	"id, rev, array_to_json(resources)::text, user_name, state, "                              \
	"coalesce((extract(epoch from starts_at - clock_timestamp()) * 1000000)::bigint, 0), "     \
	"coalesce((extract(epoch from expires_at - clock_timestamp()) * 1000000)::bigint, 0), "    \
	"coalesce(reason, ''), requested_by, requested_on, jitd.host_matches(selector), "          \
	"coalesce(ended_by, '')"

/* Rows changed after revision $1, in order, at most FLEET_BATCH; and the head revision of the
 * same snapshot (column 12; one row with a NULL id when no row changed). */
#define CHANGES_SQL                                                                                \
	"WITH h AS MATERIALIZED (SELECT jitd.head_rev() AS head) SELECT " ROW_COLUMNS ", h.head "  \
	"FROM h LEFT JOIN LATERAL (SELECT * FROM jitd.requests WHERE rev > $1 AND rev <= h.head "  \
	"ORDER BY rev LIMIT 500) q ON true ORDER BY q.rev"
#define FLEET_BATCH 500

/* The newest fleet policy's serial, and its body when it is above $1 and not $2 (refused). */
#define POLICY_SQL                                                                                 \
	"SELECT serial, CASE WHEN serial > $1 AND serial <> $2 THEN body END FROM jitd.policies "  \
	"ORDER BY serial DESC LIMIT 1"

/* The schema this jitd reads (dist/fleet/; jitctl fleet init applies it). */
#define FLEET_SCHEMA 3

static void fleet_down(struct agent *a, const char *why);
static int fleet_connect(struct agent *a);

int fleet_label_add(json_t *labels, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	char name[64];

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(name)) {
		snprintf(err, errlen, "label '%.64s': expected NAME=VALUE", arg);
		return -EINVAL;
	}
	snprintf(name, sizeof(name), "%.*s", (int)(eq - arg), arg);
	return policy_label_add(labels, name, eq + 1, err, errlen);
}

/* The result of a statement just run, or NULL with err set (the link is dropped when the
 * connection broke). */
static PGresult *fleet_result(struct agent *a, PGresult *res, char *err, size_t errlen)
{
	struct fleet *f = &a->fleet;
	ExecStatusType st = res ? pq.PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return res;
	snprintf(err, errlen, "%s",
		 res && pq.PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
			 ? pq.PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
			 : pq.PQerrorMessage(f->conn));
	err[strcspn(err, "\n")] = 0;
	pq.PQclear(res);
	if (pq.PQstatus(f->conn) == CONNECTION_BAD)
		fleet_down(a, err);
	return NULL;
}

static bool fleet_usable(struct agent *a, char *err, size_t errlen)
{
	struct fleet *f = &a->fleet;

	if (f->up && f->conn)
		return true;
	snprintf(err, errlen,
		 "the fleet database is not reachable (%s); jitd reconnects "
		 "and keeps enforcing what is in force",
		 f->error[0] ? f->error : "connecting");
	return false;
}

/* Run one statement; the result, or NULL with err set. */
static PGresult *fleet_exec(struct agent *a, const char *sql, int n, const char *const *params,
			    char *err, size_t errlen)
{
	if (!fleet_usable(a, err, errlen))
		return NULL;
	return fleet_result(a, pq.PQexecParams(a->fleet.conn, sql, n, NULL, params, NULL, NULL, 0),
			    err, errlen);
}

/* Run a statement prepared on connecting (the hot ones: planned once per connection). */
static PGresult *fleet_exec_prepared(struct agent *a, const char *name, int n,
				     const char *const *params, char *err, size_t errlen)
{
	if (!fleet_usable(a, err, errlen))
		return NULL;
	return fleet_result(a, pq.PQexecPrepared(a->fleet.conn, name, n, params, NULL, NULL, 0),
			    err, errlen);
}

static void copy_field(char *dst, size_t len, const PGresult *res, int row, int col)
{
	snprintf(dst, len, "%s", pq.PQgetvalue(res, row, col));
}

/* Row i of a ROW_COLUMNS result into r. 0, or -EINVAL for a row this host cannot use. */
static int row_read(const PGresult *res, int i, struct fleet_row *r)
{
	json_t *arr = json_loads(pq.PQgetvalue(res, i, 2), 0, NULL), *v;
	int64_t now;
	size_t k;

	memset(r, 0, sizeof(*r));
	r->id = strtoll(pq.PQgetvalue(res, i, 0), NULL, 10);
	r->rev = strtoll(pq.PQgetvalue(res, i, 1), NULL, 10);
	copy_field(r->user, sizeof(r->user), res, i, 3);
	copy_field(r->state, sizeof(r->state), res, i, 4);
	/* The database says how far ahead the start and expiry are, and they are put on this
	 * host's clock: a host whose clock is off from the database's still enforces each
	 * grant from when the database started it, for as long as it lasts. */
	now = util_now_ns(CLOCK_REALTIME);
	r->starts_ns = now + strtoll(pq.PQgetvalue(res, i, 5), NULL, 10) * 1000;
	r->expires_ns = now + strtoll(pq.PQgetvalue(res, i, 6), NULL, 10) * 1000;
	copy_field(r->reason, sizeof(r->reason), res, i, 7);
	copy_field(r->requested_by, sizeof(r->requested_by), res, i, 8);
	copy_field(r->requested_on, sizeof(r->requested_on), res, i, 9);
	r->mine = !strcmp(pq.PQgetvalue(res, i, 10), "t");
	copy_field(r->ended_by, sizeof(r->ended_by), res, i, 11);
	json_array_foreach(arr, k, v) {
		if (!json_is_string(v) || json_string_length(v) >= sizeof(r->res[0]) ||
		    r->n_res >= 16)
			break;
		snprintf(r->res[r->n_res++], sizeof(r->res[0]), "%s", json_string_value(v));
	}
	k = json_array_size(arr);
	json_decref(arr);
	return r->n_res && r->n_res == k ? 0 : -EINVAL;
}

/* The open local grant of fleet request id, or NULL. */
static struct grant *local_grant(struct agent *a, int64_t id)
{
	char key[32];

	snprintf(key, sizeof(key), FLEET_KEY_PREFIX "%lld", (long long)id);
	for (size_t i = 0; i < a->grants.n; i++) {
		struct grant *g = &a->grants.v[i];

		if (g->kind == GRANT_FLEET && g->state == GRANT_ACTIVE && g->fleet_key &&
		    !strcmp(g->fleet_key, key))
			return g;
	}
	return NULL;
}

static json_t *row_event(const struct fleet_row *r, const struct grant *g)
{
	return json_pack("{s:o,s:s,s:I,s:s,s:s}", "grant", grant_to_json(g), "by", "fleet",
			 "fleet_id", (json_int_t)r->id, "requested_on", r->requested_on,
			 "requested_by", r->requested_by);
}

/* A fleet grant for r on this host: its user resolved here, its resources in the policy. */
static int row_grant(struct agent *a, const struct fleet_row *r)
{
	char res[GRANT_MAX_RES][POLICY_MAX_NAME];
	struct grant g = {.res = res, .kind = GRANT_FLEET, .state = GRANT_ACTIVE, .has_uid = true};
	struct passwd pw, *pwr = NULL;
	char buf[4096], key[32], why[256], err[256];
	int64_t now = util_now_ns(CLOCK_REALTIME);

	if (getpwnam_r(r->user, &pw, buf, sizeof(buf), &pwr) || !pwr) {
		log_warn("fleet request f%lld: no user '%s' on this host; not granted here",
			 (long long)r->id, r->user);
		return -ENOENT;
	}
	g.uid = g.requester_uid = g.by_uid = pwr->pw_uid;
	for (unsigned i = 0; i < r->n_res; i++) {
		if (strlen(r->res[i]) >= POLICY_MAX_NAME)
			return -EINVAL;
		strcpy(g.res[g.n_res++], r->res[i]);
	}
	g.created_ns = now;
	g.starts_ns = r->starts_ns;
	g.expires_ns = r->expires_ns;
	g.duration_s = (r->expires_ns - r->starts_ns) / NS_PER_S;
	snprintf(key, sizeof(key), FLEET_KEY_PREFIX "%lld", (long long)r->id);
	snprintf(why, sizeof(why), "fleet request f%lld from %s on %s", (long long)r->id,
		 r->requested_by, r->requested_on);
	g.fleet_key = strdup(key);
	g.reason = r->reason[0] ? strdup(r->reason) : NULL;
	g.history = hist_empty();
	if (!g.fleet_key || (r->reason[0] && !g.reason) || !g.history) {
		req_grant_clear(&g);
		return -ENOMEM;
	}
	req_history_add(&g, "granted_by_fleet", g.uid, why, now);
	int rc = grant_add(a, &g, err, sizeof(err));

	if (rc) {
		log_warn("fleet request f%lld: %s; not granted here", (long long)r->id, err);
		return rc;
	}
	audit_agent_event("granted", row_event(r, grant_find(&a->grants, g.id)));
	return 0;
}

/* A fleet grant whose expiry moved (extend). */
static int row_extend(struct agent *a, const struct fleet_row *r, struct grant *g)
{
	struct grant before;
	int64_t old = g->expires_ns;
	int rc;

	grant_mark(g, &before);
	g->expires_ns = r->expires_ns;
	g->expires_boot += r->expires_ns - old;
	g->duration_s = (g->expires_ns - g->starts_ns) / NS_PER_S;
	/* the fleet's extensions are its actions rows; here the history stops growing past
	 * req_history_full (as a local extend would be refused), the audit stream still says it */
	if (!req_history_full(g))
		req_history_add(g, "extended", g->uid, "fleet", util_now_ns(CLOCK_REALTIME));
	rc = grant_commit(a, g, &before);
	if (!rc)
		audit_agent_event("extended", row_event(r, g));
	return rc;
}

/* Make the local store agree with one request row (idempotent: a row seen twice, or a
 * full resync after notifications, changes nothing the second time). */
static void row_apply(struct agent *a, const struct fleet_row *r)
{
	int64_t now = util_now_ns(CLOCK_REALTIME);
	bool want = r->mine && !strcmp(r->state, "active") && r->expires_ns > now;
	struct grant *g = local_grant(a, r->id);
	int rc = 0;

	if (want && !g)
		rc = row_grant(a, r);
	else if (want && llabs(g->expires_ns - r->expires_ns) > NS_PER_S / 2)
		/* extended (by a second at least); less is the time the query took */
		rc = row_extend(a, r, g);
	else if (!want && g) {
		bool revoked = strcmp(r->state, "active") && strcmp(r->state, "expired");

		rc = grant_end(a, g, revoked ? GRANT_REVOKED : GRANT_EXPIRED,
			       revoked ? "revoked" : "expired", g->uid,
			       r->ended_by[0] ? r->ended_by : "fleet");
		if (!rc)
			audit_agent_event(revoked ? "revoked" : "expired", row_event(r, g));
	} else {
		return;
	}
	if (rc)
		a->fleet.skipped++;
	else
		a->fleet.applied++;
}

/* Apply every row of res; the highest revision seen. */
static int64_t rows_apply(struct agent *a, const PGresult *res, int64_t top)
{
	struct fleet_row r;

	for (int i = 0; i < pq.PQntuples(res); i++) {
		if (row_read(res, i, &r)) {
			log_warn("fleet: request row %s unreadable here; skipped",
				 pq.PQgetvalue(res, i, 0));
			a->fleet.skipped++;
			continue;
		}
		row_apply(a, &r);
		if (r.rev > top)
			top = r.rev;
	}
	return top;
}

/* The rows changed since the last revision applied, in order. Rows this host may not read
 * are not shown to it: after the last batch it stands at the head revision of that batch's
 * snapshot, which every row up to it had committed into. */
static int sync_changes(struct agent *a)
{
	struct fleet *f = &a->fleet;
	char err[256], rev[32];
	int n;

	do {
		const char *p[1] = {rev};
		PGresult *res;

		snprintf(rev, sizeof(rev), "%lld", (long long)f->last_rev);
		res = fleet_exec_prepared(a, "changes", 1, p, err, sizeof(err));
		if (!res)
			return -EIO;
		n = pq.PQntuples(res);
		if (n == 1 && pq.PQgetisnull(res, 0, 0))
			n = 0;
		else
			f->last_rev = rows_apply(a, res, f->last_rev);
		if (n < FLEET_BATCH && pq.PQntuples(res)) {
			int64_t head = strtoll(pq.PQgetvalue(res, 0, 12), NULL, 10);

			if (head > f->last_rev)
				f->last_rev = head;
		}
		pq.PQclear(res);
	} while (n == FLEET_BATCH);
	audit_grant_changes(&a->grants);
	return 0;
}

/* A newer fleet policy is put in force as a whole, as `jitctl policy apply` would. */
static int sync_policy(struct agent *a)
{
	struct fleet *f = &a->fleet;
	char err[1024], have[32], refused[32];
	const char *p[2] = {have, refused};
	struct policy *pol = NULL;
	PGresult *res;
	int64_t serial;
	int r;

	snprintf(have, sizeof(have), "%lld", (long long)a->policy->serial);
	snprintf(refused, sizeof(refused), "%lld", (long long)f->failed_serial);
	res = fleet_exec_prepared(a, "policy", 2, p, err, sizeof(err));
	if (!res)
		return -EIO;
	if (!pq.PQntuples(res) || pq.PQgetisnull(res, 0, 1)) {
		pq.PQclear(res);
		return 0;
	}
	serial = strtoll(pq.PQgetvalue(res, 0, 0), NULL, 10);
	r = policy_parse("fleet policy", pq.PQgetvalue(res, 0, 1), pq.PQgetlength(res, 0, 1), &pol,
			 err, sizeof(err));
	if (!r)
		r = apply_pushed(a, pol, pq.PQgetvalue(res, 0, 1), pq.PQgetlength(res, 0, 1), err,
				 sizeof(err));
	pq.PQclear(res);
	if (r) {
		f->failed_serial = serial;
		log_err("fleet policy %lld refused: %s", (long long)serial, err);
		audit_agent_event("policy_refused",
				  json_pack("{s:I,s:s,s:s}", "serial", (json_int_t)serial, "source",
					    "fleet", "error", err));
		return 0; /* the link is fine: the policy was refused, and said so */
	}
	audit_grant_changes(&a->grants);
	return 0;
}

/* End the local fleet grants of requests that are no longer active for this host (revoked
 * while the link was down, or the host's labels changed); ids: the active ones. */
static void end_unlisted(struct agent *a, const PGresult *res)
{
	int64_t now = util_now_ns(CLOCK_REALTIME);

	for (size_t i = 0; i < a->grants.n; i++) {
		struct grant *g = &a->grants.v[i];
		bool listed = false;
		long long id;

		if (g->kind != GRANT_FLEET || g->state != GRANT_ACTIVE || !g->fleet_key ||
		    strncmp(g->fleet_key, FLEET_KEY_PREFIX, strlen(FLEET_KEY_PREFIX)) ||
		    g->expires_ns <= now + NS_PER_S) /* its own expiry ends it */
			continue;
		id = strtoll(g->fleet_key + strlen(FLEET_KEY_PREFIX), NULL, 10);
		for (int j = 0; j < pq.PQntuples(res) && !listed; j++)
			listed = strtoll(pq.PQgetvalue(res, j, 0), NULL, 10) == id;
		if (listed)
			continue;
		if (!grant_end(a, g, GRANT_REVOKED, "revoked", g->uid, "fleet: no longer active"))
			audit_agent_event("revoked",
					  json_pack("{s:o,s:s,s:I}", "grant", grant_to_json(g),
						    "by", "fleet", "fleet_id", (json_int_t)id));
	}
}

/* Everything active that targets this host, and the revision it is complete up to, read in
 * one snapshot. */
static int sync_full(struct agent *a)
{
	struct fleet *f = &a->fleet;
	PGresult *res = NULL, *top = NULL;
	char err[256];
	int r = -EIO;

	if (!(res = fleet_exec(a, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, err,
			       sizeof(err))))
		return -EIO;
	pq.PQclear(res);
	top = fleet_exec(a, "SELECT jitd.head_rev()", 0, NULL, err, sizeof(err));
	res = top ? fleet_exec(
			    a,
			    "SELECT " ROW_COLUMNS " FROM jitd.requests WHERE state = 'active' "
			    "AND expires_at > now() AND jitd.host_matches(selector) ORDER BY rev",
			    0, NULL, err, sizeof(err))
		  : NULL;
	if (res) {
		rows_apply(a, res, 0);
		end_unlisted(a, res);
		int64_t t = strtoll(pq.PQgetvalue(top, 0, 0), NULL, 10);

		if (t > f->last_rev)
			f->last_rev = t;
		f->synced_ns = util_now_ns(CLOCK_REALTIME);
		r = 0;
	}
	pq.PQclear(res);
	pq.PQclear(top);
	pq.PQclear(fleet_exec(a, r ? "ROLLBACK" : "COMMIT", 0, NULL, err, sizeof(err)));
	audit_grant_changes(&a->grants);
	return r;
}

/* This host's row: name (its role), host name, labels, version, serial in force. */
static int sync_register(struct agent *a)
{
	char serial[32], err[256], *labels = json_dumps(a->fleet.labels, JSON_COMPACT);
	const char *p[4] = {a->audit.hostname, labels ?: "{}", JITD_VERSION, serial};
	PGresult *res;

	snprintf(serial, sizeof(serial), "%lld", (long long)a->policy->serial);
	res = fleet_exec(a,
			 "INSERT INTO jitd.hosts (hostname, labels, version, serial, last_sync) "
			 "VALUES ($1, $2::jsonb, $3, $4, now()) ON CONFLICT (name) DO UPDATE SET "
			 "hostname = $1, labels = $2::jsonb, version = $3, serial = $4, "
			 "last_seen = now(), last_sync = now()",
			 4, p, err, sizeof(err));
	free(labels);
	if (!res) {
		log_warn("fleet: cannot register this host: %s", err);
		return -EIO;
	}
	pq.PQclear(res);
	return 0;
}

/* Notifications libpq has read ("request ID", "policy SERIAL"): apply what changed. */
static void drain_notifies(struct agent *a)
{
	PGnotify *n;
	bool requests = false, policy = false;

	while (a->fleet.conn && (n = pq.PQnotifies(a->fleet.conn))) {
		if (!strncmp(n->extra, "policy ", 7))
			policy = true;
		else
			requests = true;
		pq.PQfreemem(n);
	}
	/* a policy first: the rows that follow are checked against it */
	if (policy && sync_policy(a))
		return;
	if (requests)
		sync_changes(a);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);

/* Watch the connection's socket for events (it may change while connecting). */
static int watch(struct agent *a, uint32_t events)
{
	struct fleet *f = &a->fleet;
	int fd = pq.PQsocket(f->conn);

	/* while connecting, libpq may close the socket and open the next host's under the same
	 * number, which epoll forgot: the source is made anew each time then */
	if (f->io && f->io_fd == fd && !f->connecting)
		return sd_event_source_set_io_events(f->io, events);
	f->io = sd_event_source_disable_unref(f->io);
	f->io_fd = fd;
	return sd_event_add_io(a->event, &f->io, fd, events, on_io, a);
}

/* The schema is one this jitd reads; the hot statements prepared; notifications on. */
static int link_setup(struct agent *a, char *err, size_t errlen)
{
	PGresult *res = fleet_exec(a, "SELECT coalesce(max(version), 0) FROM jitd.schema_version",
				   0, NULL, err, errlen);
	long v;

	if (!res)
		return -EIO;
	v = strtol(pq.PQgetvalue(res, 0, 0), NULL, 10);
	pq.PQclear(res);
	if (v < FLEET_SCHEMA) {
		snprintf(err, errlen,
			 "the fleet schema is at version %ld, this jitd needs %d: run `jitctl "
			 "fleet init` with this release's migrations",
			 v, FLEET_SCHEMA);
		return -EPROTO;
	}
	res = fleet_result(a, pq.PQprepare(a->fleet.conn, "changes", CHANGES_SQL, 1, NULL), err,
			   errlen);
	pq.PQclear(res);
	if (res)
		res = fleet_result(a, pq.PQprepare(a->fleet.conn, "policy", POLICY_SQL, 2, NULL),
				   err, errlen);
	pq.PQclear(res);
	if (res)
		res = fleet_exec(a, "LISTEN jitd", 0, NULL, err, errlen);
	pq.PQclear(res);
	return res ? 0 : -EIO;
}

static void on_connected(struct agent *a)
{
	struct fleet *f = &a->fleet;
	char err[256];

	f->connecting = false;
	f->up = true;
	if (link_setup(a, err, sizeof(err))) {
		if (f->conn) {
			f->up = false; /* not yet in use: said once per reason, like connecting */
			fleet_down(a, err);
		}
		return;
	}
	if (watch(a, EPOLLIN) < 0 || sync_policy(a) || sync_register(a) || sync_full(a) ||
	    sync_changes(a)) {
		if (f->up)
			fleet_down(a, "the first sync failed");
		return;
	}
	log_info("fleet: connected to %s:%s, in sync up to revision %lld", pq.PQhost(f->conn),
		 pq.PQport(f->conn), (long long)f->last_rev);
	audit_agent_event("fleet_connected",
			  json_pack("{s:s,s:s,s:I}", "server", pq.PQhost(f->conn), "port",
				    pq.PQport(f->conn), "revision", (json_int_t)f->last_rev));
	f->backoff_s = 1;
	f->error[0] = 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct agent *a = userdata;
	struct fleet *f = &a->fleet;

	if (f->connecting) {
		switch (pq.PQconnectPoll(f->conn)) {
		case PGRES_POLLING_READING:
			watch(a, EPOLLIN);
			break;
		case PGRES_POLLING_WRITING:
			watch(a, EPOLLOUT);
			break;
		case PGRES_POLLING_OK:
			on_connected(a);
			break;
		default:
			fleet_down(a, pq.PQerrorMessage(f->conn));
		}
		return 0;
	}
	if (!f->conn)
		return 0;
	if (!pq.PQconsumeInput(f->conn)) {
		fleet_down(a, pq.PQerrorMessage(f->conn));
		return 0;
	}
	drain_notifies(a);
	return 0;
}

static int64_t now_usec(void)
{
	return util_now_ns(CLOCK_MONOTONIC) / 1000;
}

/* The timer in about seconds: up to a fifth less, so that hosts started (or cut off) together
 * do not keep coming back together. */
static void arm(struct agent *a, unsigned seconds)
{
	static unsigned seed;
	uint64_t usec = seconds * 1000000ULL;

	if (!seed)
		seed = (unsigned)(util_now_ns(CLOCK_MONOTONIC) ^ (getpid() << 16)) | 1;
	usec -= usec / 5 * (rand_r(&seed) % 1000) / 1000;
	sd_event_source_set_time(a->fleet.timer, now_usec() + usec);
	sd_event_source_set_enabled(a->fleet.timer, SD_EVENT_ONESHOT);
}

/* The link is gone: keep enforcing what is in force, try again after the backoff. */
static void fleet_down(struct agent *a, const char *why)
{
	struct fleet *f = &a->fleet;
	bool was_up = f->up;

	/* why may be libpq's message of the connection closed here: copied first */
	if (why != f->error)
		snprintf(f->error, sizeof(f->error), "%s", why && *why ? why : "connection lost");
	f->error[strcspn(f->error, "\n")] = 0;
	f->io = sd_event_source_disable_unref(f->io);
	if (f->conn)
		pq.PQfinish(f->conn);
	f->conn = NULL;
	f->up = f->connecting = false;
	if (was_up) {
		log_warn("fleet: link lost (%s); enforcing the local state, reconnecting",
			 f->error);
		audit_agent_event("fleet_disconnected", json_pack("{s:s}", "error", f->error));
	} else if (strcmp(f->error, f->logged)) {
		/* never connected, or failing anew: said once per reason, not per attempt */
		log_warn("fleet: cannot connect (%s); enforcing the local state, retrying",
			 f->error);
	}
	snprintf(f->logged, sizeof(f->logged), "%s", f->error);
	arm(a, f->backoff_s);
	f->backoff_s = f->backoff_s * 2 > FLEET_BACKOFF_MAX ? FLEET_BACKOFF_MAX : f->backoff_s * 2;
}

static int fleet_connect(struct agent *a)
{
	static const char *const kw[] = {"connect_timeout",
					 "application_name",
					 "keepalives_idle",
					 "keepalives_interval",
					 "keepalives_count",
					 "tcp_user_timeout",
					 "options",
					 "dbname",
					 NULL};
	struct fleet *f = &a->fleet;
	const char *val[] = {
		"3", "jitd", "5", "2", "2", "5000", "-c statement_timeout=5000", f->conninfo, NULL};

	f->conn = pq.PQconnectStartParams(kw, val, 1);
	if (!f->conn || pq.PQstatus(f->conn) == CONNECTION_BAD) {
		fleet_down(a, f->conn ? pq.PQerrorMessage(f->conn) : "out of memory");
		return -ENOTCONN;
	}
	f->connecting = true;
	arm(a, 5); /* libpq's connect_timeout does not hold for PQconnectPoll */
	if (watch(a, EPOLLOUT) < 0) {
		fleet_down(a, "cannot watch the connection");
		return -EIO;
	}
	return 0;
}

/* Every FLEET_RESYNC_S: heartbeat, policy, full resync. Down: the next attempt. */
static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct agent *a = userdata;
	struct fleet *f = &a->fleet;

	if (f->connecting) {
		fleet_down(a, "connecting timed out");
		return 0;
	}
	if (!f->up) {
		fleet_connect(a);
		return 0;
	}
	if (!sync_policy(a) && !sync_register(a) && !sync_full(a))
		sync_changes(a);
	drain_notifies(a);
	if (f->up)
		arm(a, FLEET_RESYNC_S);
	return 0;
}

int fleet_start(struct agent *a)
{
	struct fleet *f = &a->fleet;
	char err[256];
	int r;

	if (!f->conninfo || !*f->conninfo)
		return 0;
	r = pq_load(err, sizeof(err));
	if (r) {
		log_err("%s", err);
		return r;
	}
	if (!f->labels && !(f->labels = json_object()))
		return -ENOMEM;
	f->backoff_s = 1;
	r = sd_event_add_time(a->event, &f->timer, CLOCK_MONOTONIC, UINT64_MAX, 0, on_timer, a);
	if (r < 0)
		return r;
	fleet_connect(a);
	return 0;
}

void fleet_stop(struct agent *a)
{
	struct fleet *f = &a->fleet;

	f->io = sd_event_source_disable_unref(f->io);
	f->timer = sd_event_source_disable_unref(f->timer);
	if (f->conn)
		pq.PQfinish(f->conn);
	f->conn = NULL;
	f->up = false;
	json_decref(f->labels);
	f->labels = NULL;
}

json_t *fleet_status(struct agent *a)
{
	struct fleet *f = &a->fleet;
	char t[40];
	json_t *o;

	if (!f->conninfo || !*f->conninfo)
		return json_pack("{s:b}", "enabled", 0);
	o = json_pack("{s:b,s:b,s:O,s:I,s:I,s:I}", "enabled", 1, "connected", f->up, "labels",
		      f->labels, "revision", (json_int_t)f->last_rev, "applied",
		      (json_int_t)f->applied, "skipped", (json_int_t)f->skipped);
	if (f->up)
		json_object_set_new(o, "server",
				    json_sprintf("%s:%s", pq.PQhost(f->conn), pq.PQport(f->conn)));
	if (f->synced_ns)
		json_object_set_new(o, "synced",
				    json_string(util_format_time(f->synced_ns, t, sizeof(t))));
	if (f->error[0])
		json_object_set_new(o, "error", json_string(f->error));
	return o;
}

int fleet_insert_request(struct agent *a, const struct fleet_row *r, const json_t *selector,
			 int64_t duration_s, int64_t max_duration_s, unsigned approvals,
			 uid_t requester_uid, unsigned max_open, int64_t *id, char *err,
			 size_t errlen)
{
	json_t *res_arr = json_array();
	char *res_s, *sel_s = json_dumps(selector, JSON_COMPACT);
	char dur[32], max[32], appr[16], ruid[16], ttl[32], lim[16];
	PGresult *res;

	for (unsigned i = 0; i < r->n_res; i++)
		json_array_append_new(res_arr, json_string(r->res[i]));
	res_s = json_dumps(res_arr, JSON_COMPACT);
	json_decref(res_arr);
	snprintf(dur, sizeof(dur), "%lld", (long long)duration_s);
	snprintf(max, sizeof(max), "%lld", (long long)max_duration_s);
	snprintf(appr, sizeof(appr), "%u", approvals);
	snprintf(ruid, sizeof(ruid), "%u", requester_uid);
	snprintf(ttl, sizeof(ttl), "%lld", (long long)a->pending_ttl_s);
	snprintf(lim, sizeof(lim), "%u", max_open ? max_open : UINT_MAX);
	const char *p[10] = {res_s, r->user, sel_s, dur, max, r->reason, appr, ruid, ttl, lim};

	/* inserted only while the user's open requests from this host are fewer than $10 (this
	 * jitd is the one writer of this host's requests: nothing comes between) */
	res = res_s && sel_s
		      ? fleet_exec(a,
				   "INSERT INTO jitd.requests (resources, user_name, selector, "
				   "duration_s, max_duration_s, reason, approvals_needed, "
				   "requested_by, requested_uid, pending_until) SELECT "
				   "ARRAY(SELECT json_array_elements_text($1::json)), $2::text, "
				   "$3::jsonb, $4::bigint, $5::bigint, nullif($6::text, ''), "
				   "$7::int, $2::text, $8::bigint, "
				   "now() + make_interval(secs => $9::double precision) "
				   "WHERE (SELECT count(*) FROM jitd.requests WHERE requested_on = "
				   "session_user::text COLLATE \"default\" AND "
				   "requested_uid = $8::bigint AND "
				   "((state = 'pending' AND pending_until > now()) OR "
				   "(state = 'active' AND expires_at > now()))) < $10::bigint "
				   "RETURNING id",
				   10, p, err, errlen)
		      : NULL;
	free(res_s);
	free(sel_s);
	if (!res)
		return a->fleet.up ? -EPERM : -ENOTCONN;
	if (pq.PQntuples(res) != 1) {
		pq.PQclear(res);
		snprintf(err, errlen,
			 "uid %u already holds %u open fleet requests from this host (jitd "
			 "--max-open %u): cancel or end some first (jitctl list --fleet, jitctl "
			 "revoke fN)",
			 (unsigned)requester_uid, max_open, max_open);
		return -EDQUOT;
	}
	*id = strtoll(pq.PQgetvalue(res, 0, 0), NULL, 10);
	pq.PQclear(res);
	sync_changes(a); /* granted at once (no approval needed) here too */
	return 0;
}

int fleet_insert_action(struct agent *a, int64_t id, const char *action, const char *by_user,
			uid_t by_uid, const char *reason, int64_t extend_s, char *err,
			size_t errlen)
{
	char sid[32], suid[16], sext[32];
	const char *p[6] = {sid, action, by_user, suid, reason ?: "", sext};
	PGresult *res;

	snprintf(sid, sizeof(sid), "%lld", (long long)id);
	snprintf(suid, sizeof(suid), "%u", by_uid);
	snprintf(sext, sizeof(sext), "%lld", (long long)extend_s);
	res = fleet_exec(a,
			 "INSERT INTO jitd.actions (request_id, action, by_user, by_uid, reason, "
			 "extend_s) VALUES ($1, $2, $3, $4, nullif($5, ''), "
			 "nullif($6, '0')::bigint)",
			 6, p, err, errlen);
	if (!res)
		return a->fleet.up ? -EPERM : -ENOTCONN;
	pq.PQclear(res);
	sync_changes(a);
	return 0;
}

#define DETAIL_COLUMNS                                                                             \
	"json_build_object('fleet_id', id, 'resources', resources, 'user', user_name, "            \
	"'hosts', selector, 'duration_s', duration_s, 'reason', reason, "                          \
	"'approvals_needed', approvals_needed, 'requested_by', requested_by, "                     \
	"'requested_on', requested_on, 'state', CASE WHEN state = 'active' AND "                   \
	"expires_at <= now() THEN 'expired' WHEN state = 'pending' AND pending_until <= now() "    \
	"THEN 'expired' ELSE state END, 'created', created_at, 'starts', starts_at, "              \
	"'expires', expires_at, 'ended', ended_at, 'ended_by', ended_by, 'targets_this_host', "    \
	"jitd.host_matches(selector))::text"

int fleet_fetch(struct agent *a, int64_t id, struct fleet_row *r, json_t **detail, char *err,
		size_t errlen)
{
	char sid[32];
	const char *p[1] = {sid};
	PGresult *res;

	if (detail)
		*detail = NULL;
	snprintf(sid, sizeof(sid), "%lld", (long long)id);
	res = fleet_exec(
		a, "SELECT " ROW_COLUMNS ", " DETAIL_COLUMNS " FROM jitd.requests WHERE id = $1", 1,
		p, err, errlen);
	if (!res)
		return -ENOTCONN;
	if (pq.PQntuples(res) != 1 || row_read(res, 0, r)) {
		pq.PQclear(res);
		snprintf(err, errlen, "no fleet request f%lld that this host may see",
			 (long long)id);
		return -ENOENT;
	}
	if (detail)
		*detail = json_loads(pq.PQgetvalue(res, 0, 12), 0, NULL);
	pq.PQclear(res);
	return 0;
}

int fleet_list(struct agent *a, bool all, size_t limit, json_t **out, char *err, size_t errlen)
{
	char slim[32];
	const char *p[2] = {all ? "t" : "f", slim};
	PGresult *res;

	snprintf(slim, sizeof(slim), "%zu", limit);
	res = fleet_exec(a,
			 "SELECT coalesce(json_agg(d ORDER BY id DESC), '[]')::text FROM "
			 "(SELECT id, " DETAIL_COLUMNS "::json AS d FROM jitd.requests WHERE $1 OR "
			 "(state = 'pending' AND pending_until > now()) OR (state = 'active' AND "
			 "expires_at > now()) ORDER BY id DESC LIMIT $2) q",
			 2, p, err, errlen);
	if (!res)
		return -ENOTCONN;
	*out = json_loads(pq.PQgetvalue(res, 0, 0), 0, NULL);
	pq.PQclear(res);
	return *out ? 0 : -ENOMEM;
}
