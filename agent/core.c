// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent core: owns the sd-event loop, the ring buffer, the expiry timer, the signals,
 * the watchdog and the policy-file watch; wires struct agent_ops for the modules below
 * (grant.c, apply.c, verbs.c), which never call up (docs/architecture.md). main.c only
 * reads the arguments and runs agent_start() and agent_run().
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <systemd/sd-daemon.h>

#include "aggregate.h"
#include "apply.h"
#include "audit.h"
#include "audit_sub.h"
#include "audit_log.h"
#include "core.h"
#include "fleet.h"
#include "image.h"
#include "ctl.h"
#include "cut.h"
#include "grant.h"
#include "inotify.h"
#include "kern.h"
#include "log.h"
#include "usage.h"
#include "notify.h"
#include "pathwatch.h"
#include "ring.h"
#include "scope.h"
#include "util.h"

#define DROPS_CHECK_USEC (1000000ULL)
static int on_ringbuf(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	ring_turn(userdata);
	return 0;
}

static int on_expiry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct agent *a = userdata;

	grant_expire_due(a);
	audit_grant_changes(&a->grants);
	agent_rearm_expiry(a);
	return 0;
}

/* After every turn of the loop: a change of the store that no caller recorded yet (each
 * caller records its own at once; this only makes a forgotten one late, never lost). */
static int on_post(sd_event_source *s, void *userdata)
{
	struct agent *a = userdata;

	if (a->grants.n_changes)
		audit_grant_changes(&a->grants);
	return 0;
}

static void arm_expiry(struct agent *a, int64_t next)
{
	a->expiry_next = next;
	if (!a->expiry_timer)
		return;
	if (next < 0) {
		sd_event_source_set_enabled(a->expiry_timer, SD_EVENT_OFF);
		return;
	}
	sd_event_source_set_time(a->expiry_timer, next / 1000);
	sd_event_source_set_enabled(a->expiry_timer, SD_EVENT_ONESHOT);
}

/* Arm the one expiry timer at the earliest active grant's boot-clock expiry (a pass). */
void agent_rearm_expiry(struct agent *a)
{
	arm_expiry(a, grant_next_expiry_boot(a));
}

/* Grant g changed (NULL: any): the timer moves earlier when g is due first. It never moves
 * later here: a time that passed its grant (extended, ended) fires early, finds nothing
 * due and re-arms after a pass (on_expiry), so it is never late. */
void agent_grant_changed(struct agent *a, const struct grant *g)
{
	int64_t t;

	if (!g || !a->expiry_timer) {
		agent_rearm_expiry(a);
		return;
	}
	t = grant_due_boot(g);
	if (t >= 0 && (a->expiry_next < 0 || t < a->expiry_next))
		arm_expiry(a, t);
}

/* Every second: kernel ring-buffer losses become audit records; the audit file is synced. */
static int on_drops_check(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct agent *a = userdata;
	uint64_t allow, deny, drops;

	int64_t now = util_now_ns(CLOCK_REALTIME);
	char t0[40], t1[40];

	if (!kern_counters(a->kern, &allow, &deny, &drops) && drops > a->drops_seen) {
		ring_turn(a); /* what did fit comes first (a turn's worth) */
		audit_agent_event("records_dropped",
				  json_pack("{s:s,s:I,s:I,s:{s:s,s:s}}", "source",
					    "kernel ring buffer", "count",
					    (json_int_t)(drops - a->drops_seen), "total",
					    (json_int_t)drops, "window", "start",
					    util_format_time(a->drops_checked_ns ?: a->started_ns,
							     t0, sizeof(t0)),
					    "end", util_format_time(now, t1, sizeof(t1))));
		a->drops_seen = drops;
		kern_drops_reported(a->kern, NULL, &a->drops_seen);
	}
	a->drops_checked_ns = now;
	kern_fslot_settle(a->kern);
	aggregate_tick(a);
	audit_sync(); /* the decisions of the last second */
	audit_seal_tick(&a->audit);
	sd_event_source_set_time_relative(s, DROPS_CHECK_USEC);
	return 0;
}

/* The policy directory (or file) changed: reload after a short quiet period. */
static int on_policy_debounce(sd_event_source *s, uint64_t usec, void *userdata)
{
	apply_reload(userdata, true);
	return 0;
}

/* Is ev about a policy file: the file itself, or *.json in the policy directory? */
static void on_policy_event(const struct inotify_event *ev, void *ud)
{
	struct agent *a = ud;
	const char *base = strrchr(a->policy_path, '/');
	size_t len = ev->len ? strlen(ev->name) : 0;
	struct stat st;

	base = base ? base + 1 : a->policy_path;
	if (!stat(a->policy_path, &st) && S_ISDIR(st.st_mode))
		a->policy_touched |=
			len > 5 && ev->name[0] != '.' && !strcmp(ev->name + len - 5, ".json");
	else
		a->policy_touched |= len && !strcmp(ev->name, base);
}

static int on_policy_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct agent *a = userdata;

	a->policy_touched = false;
	inotify_drain(fd, on_policy_event, a);
	if (a->policy_touched) {
		sd_event_source_set_time_relative(a->policy_debounce, 300000);
		sd_event_source_set_enabled(a->policy_debounce, SD_EVENT_ONESHOT);
	}
	return 0;
}

/* Watch the policy directory (or the file's directory) for new, changed, removed files. */
static int watch_policy(struct agent *a)
{
	char dir[4096];
	struct stat st;
	int fd, r;

	snprintf(dir, sizeof(dir), "%s", a->policy_path);
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		char *slash = strrchr(dir, '/');

		if (slash == dir)
			dir[1] = 0;
		else if (slash)
			*slash = 0;
		else
			snprintf(dir, sizeof(dir), ".");
	}
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (inotify_add_watch(fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE) <
	    0) {
		r = -errno;
		close(fd);
		return r;
	}
	r = sd_event_add_io(a->event, NULL, fd, EPOLLIN, on_policy_inotify, a);
	if (r < 0) {
		close(fd);
		return r;
	}
	r = sd_event_add_time(a->event, &a->policy_debounce, CLOCK_MONOTONIC, UINT64_MAX, 0,
			      on_policy_debounce, a);
	if (r < 0)
		return r;
	sd_event_source_set_description(a->policy_debounce, "policy-reload");
	return 0;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	audit_reopen();
	apply_reload(userdata, false); /* asked for: names and cgroups resolved again too */
	return 0;
}

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

/*
 * One jitd per state directory: an exclusive lock on STATE_DIR/jitd.lock (our pid written
 * in it), held by the open fd for the life of the process. A second jitd would take the
 * socket over and leave the first unreachable. create false (--unload): only look, and a
 * missing lock file means no jitd. Returns the fd (or 0 when not created), -EBUSY when
 * another jitd holds it (said on stderr), or negative errno.
 */
static int lock_state_dir(const char *dir, bool create)
{
	char path[4096], pid[32] = "?";
	int fd, r;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/jitd.lock", dir);
	fd = open(path, (create ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return !create && errno == ENOENT ? 0 : -errno;
	if (!flock(fd, LOCK_EX | LOCK_NB)) {
		if (create && (ftruncate(fd, 0) || dprintf(fd, "%d\n", (int)getpid()) < 0))
			log_warn("cannot write our pid into %s: %s", path, strerror(errno));
		if (!create)
			close(fd);
		return create ? fd : 0;
	}
	r = errno == EWOULDBLOCK ? -EBUSY : -errno;
	if (r == -EBUSY) {
		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 1] = 0;
		pid[strcspn(pid, "\n")] = 0;
		fprintf(stderr,
			"jitd: another jitd (pid %s) is running with state dir %s; "
			"stop it first\n",
			pid, dir);
	}
	close(fd);
	return r;
}

static int make_dirs(const char *path, mode_t mode)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * jitd's own subject must be exempt: its BPF objects and pins are guarded from every
 * subject that is not (bpf/jitd.bpf.c), so a jitd that is not could not adopt or replace
 * them when restarted. Said once at start, loudly; enforcement itself is unaffected.
 */
static void warn_if_not_exempt(const struct policy *p)
{
	char buf[4096] = "";
	unsigned long loginuid = (uid_t)-1;
	FILE *f = fopen("/proc/self/loginuid", "re");
	uid_t subj;

	if (f) {
		if (fscanf(f, "%lu", &loginuid) != 1)
			loginuid = (uid_t)-1;
		fclose(f);
	}
	subj = loginuid != (uid_t)-1 ? (uid_t)loginuid : getuid();
	if (policy_exempts_uid(p, subj))
		return;
	f = fopen("/proc/self/cgroup", "re");
	if (f) {
		while (fgets(buf, sizeof(buf), f) && strncmp(buf, "0::", 3))
			;
		fclose(f);
		buf[strcspn(buf, "\n")] = 0;
		if (strncmp(buf, "0::", 3))
			buf[0] = 0; /* no cgroup v2 line */
	}
	if (buf[0] && policy_exempts_cgroup(p, buf + 3))
		return;
	log_warn("jitd's own subject (uid %u, cgroup %s) is not exempt in the policy: a restart "
		 "could not adopt or replace its guarded BPF objects; exempt uid %u or that cgroup",
		 subj, buf[0] ? buf + 3 : "unknown", subj);
}

static int setup_loop(struct agent *a)
{
	sd_event_source *src;
	int r;

	r = sd_event_default(&a->event);
	if (r < 0)
		return r;
	sigset_t ss;

	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	sigaddset(&ss, SIGCHLD); /* notification children: sd_event_add_child (notify.c) */
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((r = sd_event_add_signal(a->event, NULL, SIGTERM, on_sigterm, a)) < 0 ||
	    (r = sd_event_add_signal(a->event, NULL, SIGINT, on_sigterm, a)) < 0 ||
	    (r = sd_event_add_signal(a->event, NULL, SIGHUP, on_sighup, a)) < 0)
		return r;
	if ((r = ring_open(a)) < 0)
		return r;
	r = sd_event_add_io(a->event, &src, ring_fd(a), EPOLLIN, on_ringbuf, a);
	if (r < 0)
		return r;
	sd_event_source_set_description(src, "ringbuf");
	a->expiry_next = -1; /* off until the first pass */
	r = sd_event_add_time(a->event, &a->expiry_timer, CLOCK_BOOTTIME, UINT64_MAX, 0, on_expiry,
			      a);
	if (r < 0)
		return r;
	sd_event_source_set_description(a->expiry_timer, "grant-expiry");
	r = sd_event_add_time_relative(a->event, &src, CLOCK_MONOTONIC, DROPS_CHECK_USEC, 0,
				       on_drops_check, a);
	if (r < 0)
		return r;
	sd_event_source_set_enabled(src, SD_EVENT_ON);
	sd_event_source_set_description(src, "drops-check");
	r = sd_event_add_post(a->event, &src, on_post, a);
	if (r < 0)
		return r;
	sd_event_source_set_description(src, "grant-changes");
	return sd_event_set_watchdog(a->event, true);
}

/* The core's side of struct agent_ops: what grant.c, apply.c and verbs.c reach through it. */
static int op_put_grants(struct agent *a, const struct jitd_grant_key *keys,
			 const struct jitd_grant_val *vals, size_t n)
{
	return kern_put_grants(a->kern, keys, vals, n);
}

static int op_del_grant(struct agent *a, const struct jitd_grant_key *key)
{
	int r = kern_del_grant(a->kern, key);

	if (!r)
		cut_key_ended(a, key);
	return r;
}

static int op_prune_grants(struct agent *a, bool (*keep)(const struct jitd_grant_key *, void *),
			   void *arg)
{
	return kern_prune_grants(a->kern, keep, arg);
}

static int op_put_use(struct agent *a, uint64_t id, const struct jitd_grant_use *u)
{
	return kern_use_put(a->kern, id, u);
}

static int op_get_use(struct agent *a, uint64_t id, struct jitd_grant_use *u)
{
	return kern_use_get(a->kern, id, u);
}

static int op_del_use(struct agent *a, uint64_t id)
{
	return kern_use_del(a->kern, id);
}

static int op_prune_uses(struct agent *a, bool (*keep)(uint64_t id, void *), void *arg)
{
	return kern_use_prune(a->kern, keep, arg);
}

static int op_set_granted_cgroups(struct agent *a, const uint64_t *ids, size_t n)
{
	return kern_set_granted_cgroups(a->kern, ids, n);
}

static int op_sync_policy(struct agent *a, const struct policy *p)
{
	return kern_sync_policy(a->kern, p, a->cgroup_root);
}

static void op_watch_paths(struct agent *a)
{
	if (pathwatch_update(a) < 0)
		log_warn("cannot watch the policy's paths: replaced files stay unprotected until "
			 "the next reload");
}

static void op_status(struct agent *a, json_t *r)
{
	uint64_t allow = 0, deny = 0, drops = 0, use[JITD_USE_STAT_MAX] = {};
	char lsm[256] = "";

	kern_lsm_active(lsm, sizeof(lsm));
	kern_counters(a->kern, &allow, &deny, &drops);
	kern_use_counters(a->kern, use);
	json_object_set_new(r, "enforcing",
			    json_boolean(kern_enforcing(a->kern) && a->selftest_ok));
	json_object_set_new(r, "pid", json_integer(getpid()));
	json_object_set_new(r, "lsm", json_string(lsm));
	json_object_set_new(r, "programs", kern_programs_json(a->kern));
	json_object_set_new(r, "kernel", kern_features_json(a->kern));
	json_object_set_new(r, "counters",
			    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "allow", (json_int_t)allow,
				      "deny", (json_int_t)deny, "drops", (json_int_t)drops,
				      "use_missing", (json_int_t)use[JITD_USE_STAT_MISSING],
				      "use_expired", (json_int_t)use[JITD_USE_STAT_EXPIRED],
				      "aggregated", (json_int_t)use[JITD_USE_STAT_AGGREGATED],
				      "aggregate_full", (json_int_t)use[JITD_USE_STAT_AGG_FULL]));
	json_object_set_new(r, "audit_aggregate", aggregate_status(a));
	json_object_set_new(r, "revoke_open", kern_open_json(a->kern));
	json_object_set_new(r, "paths", pathwatch_status(a));
	/* the audit stream under load: records written (the chain's sequence), ring-buffer
	 * drops in the kernel, and those already in the stream as records_dropped */
	json_object_set_new(r, "records",
			    json_pack("{s:I,s:I,s:I,s:I}", "written",
				      (json_int_t)audit_log_head()->seq, "dropped",
				      (json_int_t)drops, "dropped_reported",
				      (json_int_t)a->drops_seen, "write_lost",
				      (json_int_t)audit_log_pending_losses()));
	json_object_set_new(r, "selftest", json_string(a->selftest_ok ? "passed" : "failed"));
	json_object_set_new(r, "notify", notify_status_json(a));
}

static const struct agent_ops core_ops = {
	.put_grants = op_put_grants,
	.del_grant = op_del_grant,
	.prune_grants = op_prune_grants,
	.set_granted_cgroups = op_set_granted_cgroups,
	.put_use = op_put_use,
	.get_use = op_get_use,
	.del_use = op_del_use,
	.prune_uses = op_prune_uses,
	.sync_policy = op_sync_policy,
	.grants_changed = agent_grant_changed,
	.watch_paths = op_watch_paths,
	.grant_ended = scope_release,
	.grant_follow = scope_follow,
	.scope_create = scope_create,
	.scope_watch = scope_watch,
	.scope_kill = scope_kill,
	.unit_cgroup = scope_unit_cgroup,
	.status = op_status,
	.audit_subscribe = audit_sub_request,
};

/* --unload: remove enforcement, unless a jitd runs (it would keep writing maps that are
 * gone). Exit status. */
int agent_unload(const char *state_dir)
{
	int r = lock_state_dir(state_dir, false);

	if (r < 0) {
		if (r != -EBUSY)
			log_err("cannot check %s/jitd.lock: %s", state_dir, strerror(-r));
		return 1;
	}
	r = kern_unload();
	if (r) {
		log_err("unload incomplete: %s", strerror(-r));
		return 1;
	}
	log_info("enforcement removed: %s unpinned", JITD_PIN_DIR);
	return 0;
}

/* STATE_DIR/seal, 0700. 0 or -1 (errno). */
static int mkdirat_secret(const char *state_dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", state_dir, JITD_SECRET_SUBDIR);
	if (mkdir(path, 0700) && errno != EEXIST)
		return -1;
	return 0;
}

/* The state directory (locked: one jitd per state directory), the audit file, the policy
 * applied last and the grants. 0, or -1 when said on stderr. */
static int start_files(struct agent *a, const struct agent_config *cfg)
{
	const char *audit_path = cfg->audit_path;
	int r;

	if ((r = make_dirs(a->state_dir, 0700)) < 0) {
		log_err("cannot create state directory %s: %s", a->state_dir, strerror(-r));
		return -1;
	}
	/* before the kernel, the state file or the socket is touched; kept open until exit */
	r = lock_state_dir(a->state_dir, true);
	if (r < 0) {
		if (r != -EBUSY)
			log_err("cannot lock %s/jitd.lock: %s", a->state_dir, strerror(-r));
		return -1;
	}
	/* the secret directory exists before the kernel protects it (kern_set_self) */
	if (mkdirat_secret(a->state_dir) < 0) {
		log_err("cannot create %s/%s: %s", a->state_dir, JITD_SECRET_SUBDIR,
			strerror(errno));
		return -1;
	}
	if (strcmp(audit_path, "-") && strrchr(audit_path, '/')) {
		char dir[4096];

		snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(audit_path, '/') - audit_path),
			 audit_path);
		if (*dir)
			make_dirs(dir, 0750);
	}
	audit_configure(&a->audit, cfg->audit_fmt, cfg->journal, a->state_dir);
	if (audit_open(&a->audit, audit_path)) {
		log_err("cannot open audit file %s: %s", audit_path, strerror(errno));
		return -1;
	}
	apply_load_applied(a);
	policy_select_host(a->policy, a->fleet.labels);
	a->use_systemd = sd_booted() > 0;
	if (grant_store_load(&a->grants, a->state_dir)) {
		log_err("cannot load grants from %s; refusing to start with a partial view",
			a->state_dir);
		return -1;
	}
	return 0;
}

/* The programs loaded or adopted, the maps filled from the policy and the grants, the
 * self-test passed. 0, or -1 when said on stderr. */
static int start_kernel(struct agent *a, const struct agent_config *cfg)
{
	bool fresh;
	int r;

	warn_if_not_exempt(a->policy);
	if (kern_open(&a->kern, cfg->reload_programs) || aggregate_start(a, cfg->audit_aggregate_s))
		return -1;
	r = kern_set_self(a->kern, a->policy_path, a->state_dir,
			  strcmp(cfg->audit_path, "-") ? cfg->audit_path : NULL);
	/* watched before they are resolved: a file replaced in between is reported */
	if (!r)
		op_watch_paths(a);
	if (!r)
		r = kern_sync_policy(a->kern, a->policy, a->cgroup_root);
	if (!r) {
		grant_expire_due(a);
		r = image_sync_all(a);
	}
	if (!r)
		r = grant_apply_fleet(a);
	audit_grant_changes(&a->grants);
	if (r) {
		log_err("cannot fill the kernel maps: %s", strerror(-r));
		return -1;
	}
	/* a new build's programs take over only now, on maps that hold everything */
	fresh = kern_to_attach(a->kern);
	r = kern_attach(a->kern);
	if (r) {
		log_err("cannot attach the BPF programs: %s (the programs attached before, if "
			"any, still enforce)",
			strerror(-r));
		return -1;
	}
	/* the links pinned just now are jitd's own files too: protected before serving (the
	 * resync after READY that used to do it is gone) */
	if (fresh && (r = kern_sync_policy(a->kern, a->policy, a->cgroup_root))) {
		log_err("cannot protect the new pins: %s", strerror(-r));
		return -1;
	}
	kern_drops_reported(a->kern, &a->drops_seen, NULL); /* what earlier agents reported */
	r = setup_loop(a);
	if (r < 0) {
		log_err("cannot set up the event loop: %s", strerror(-r));
		return -1;
	}
	/* decisions made while no agent ran, room for the test's: the whole ring buffer, in
	 * turns, unless a flood outruns RING_START_TURNS of them */
	for (int t = 0; t < RING_START_TURNS && ring_turn(a); t++)
		;
	r = kern_selftest(a->kern, a->state_dir);
	a->selftest_ok = r == 0;
	ring_turn(a); /* the self-test's own record, unless a flood is ahead of it */
	audit_agent_event("selftest", json_pack("{s:s}", "result", r ? "failed" : "passed"));
	if (r) {
		log_err("enforcement self-test failed (%s): a protected open was not denied",
			strerror(-r));
		return -1;
	}
	return 0;
}

/* The control socket, the watches and the expiry timer: serving from here on. */
static int start_serving(struct agent *a)
{
	int r;

	audit_sub_init(ctl_push);
	r = ctl_start(a);
	if (r < 0) {
		log_err("cannot listen on %s: %s", a->socket_path, strerror(-r));
		return -1;
	}
	r = scope_start(a);
	if (r)
		log_warn("cannot watch the jitd exec cgroups: %s", strerror(-r));
	r = watch_policy(a);
	if (r)
		log_warn("cannot watch %s for changes (SIGHUP still reloads): %s", a->policy_path,
			 strerror(-r));
	agent_rearm_expiry(a);
	/* the watches made before the paths were resolved, into the loop (no second pass) */
	if (pathwatch_start(a) < 0)
		log_warn("cannot watch policy paths: replaced files stay unprotected until SIGHUP");
	/* fleet mode: connects in the background; what is in force holds meanwhile */
	r = fleet_start(a);
	if (r < 0) {
		log_err("cannot start the fleet link: %s", strerror(-r));
		return -1;
	}
	return 0;
}

/* This host's labels: the local policy file's "fleet": {"labels"}, then --label (which
 * wins). Later policies (pushed, reloaded) keep them: a pushed fleet policy is the same on
 * every host, so it cannot say which host is which. */
static int host_labels(struct agent *a)
{
	json_t *l = json_object();

	if (!l || (a->policy->fleet_labels && json_object_update(l, a->policy->fleet_labels)) ||
	    (a->fleet.labels && json_object_update(l, a->fleet.labels))) {
		json_decref(l);
		return -ENOMEM;
	}
	json_decref(a->fleet.labels);
	a->fleet.labels = l;
	return 0;
}

/*
 * A policy directory with no file in it (a fresh install): nothing is loaded or enforced
 * (jitd's own guard neither, so that an admin with sudo can write the first policy), the
 * service is up and says why, and the directory is looked at every second until it holds
 * a policy (SIGTERM ends the process meanwhile). 0, with the policy.
 */
static int wait_for_policy(struct agent *a)
{
	char err[1024], said[1024] = "";
	int r;

	log_warn("no policy files in %s: nothing is enforced; waiting for a policy file there "
		 "(looked for every second)",
		 a->policy_path);
	sd_notifyf(0, "READY=1\nSTATUS=waiting for a policy file in %s: nothing is enforced",
		   a->policy_path);
	signal(SIGHUP, SIG_IGN); /* systemctl reload: nothing to reload yet */
	for (;;) {
		sleep(1);
		sd_notify(0, "WATCHDOG=1");
		r = policy_load(a->policy_path, &a->policy, err, sizeof(err));
		if (!r)
			break;
		if (r != -ENOENT && strcmp(err, said)) { /* a file, but not a valid policy */
			log_err("%s; still waiting for a valid policy", err);
			snprintf(said, sizeof(said), "%s", err);
		}
	}
	signal(SIGHUP, SIG_DFL);
	log_info("policy found in %s (serial %lld): starting", a->policy_path,
		 (long long)a->policy->serial);
	sd_notify(0, "STATUS=policy found: starting");
	return 0;
}

/* The policy at start (an empty policy directory: wait_for_policy, never while the
 * enforcement of an earlier policy is pinned, and not for --check-policy). 0, or -1 said
 * on stderr. */
static int start_policy(struct agent *a, bool check_only)
{
	char err[1024];
	struct stat st;
	int r = policy_load(a->policy_path, &a->policy, err, sizeof(err));

	if (!r)
		return 0;
	if (r != -ENOENT || check_only || stat(a->policy_path, &st) || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (!access(JITD_PIN_DIR, F_OK)) {
		fprintf(stderr,
			"%s\njitd: the enforcement of an earlier policy is pinned in %s: starting "
			"with no policy would lift it; put the policy back in %s, or run 'jitd "
			"--unload' to lift enforcement deliberately\n",
			err, JITD_PIN_DIR, a->policy_path);
		return -1;
	}
	return wait_for_policy(a);
}

int agent_start(struct agent *a, const struct agent_config *cfg)
{
	int64_t t_start = util_now_ns(CLOCK_MONOTONIC), t_policy, t_files, t_kernel;
	char lsm[256] = "";
	int r;

	*a = (struct agent){.ops = core_ops,
			    .policy_path = cfg->policy_path,
			    .socket_path = cfg->socket_path,
			    .state_dir = cfg->state_dir,
			    .cgroup_root = cfg->cgroup_root,
			    .pending_ttl_s = cfg->pending_ttl_s,
			    .max_open = cfg->max_open,
			    .fleet = {.conninfo = cfg->fleet, .labels = cfg->labels}};
	if (start_policy(a, cfg->check_only))
		return -1;
	t_policy = util_now_ns(CLOCK_MONOTONIC);
	if (host_labels(a)) {
		fputs("jitd: out of memory\n", stderr);
		return -1;
	}
	if (cfg->check_only) {
		printf("%s: valid (serial %lld, %zu resources, %zu rules, %zu grants)\n",
		       a->policy_path, (long long)a->policy->serial, a->policy->n_resources,
		       a->policy->n_rules, a->policy->n_grants);
		return 0;
	}
	r = kern_lsm_active(lsm, sizeof(lsm));
	if (r <= 0) {
		log_err("BPF LSM is not active (%s): boot the kernel with 'lsm=' listing bpf, e.g. "
			"lsm=lockdown,capability,landlock,yama,apparmor,bpf",
			r < 0 ? "cannot read /sys/kernel/security/lsm" : lsm);
		return -1;
	}
	a->started_ns = util_now_ns(CLOCK_REALTIME);
	if (start_files(a, cfg))
		return -1;
	t_files = util_now_ns(CLOCK_MONOTONIC);
	if (start_kernel(a, cfg) || start_serving(a))
		return -1;
	t_kernel = util_now_ns(CLOCK_MONOTONIC);
	r = notify_start(a, cfg->notify_jobs, cfg->notify_queue);
	if (r < 0) {
		log_err("cannot start the notification runner: %s", strerror(-r));
		return -1;
	}
	audit_agent_event("started", json_pack("{s:i,s:I,s:s}", "pid", getpid(), "policy_serial",
					       (json_int_t)a->policy->serial, "lsm", lsm));
	audit_seal_now(&a->audit); /* what was written before, a crash's tail included */
	/* where a slow start went (a policy of 100,000 paths, a state file of 100,000 grants) */
	log_info("enforcing: policy %s serial %lld, %zu resources, %zu active grants (ready in "
		 "%.1f s: policy read %.1f s, grants loaded %.1f s, kernel maps filled and "
		 "checked %.1f s)",
		 a->policy_path, (long long)a->policy->serial, a->policy->n_resources,
		 grant_count_active(&a->grants), (double)(t_kernel - t_start) / NS_PER_S,
		 (double)(t_policy - t_start) / NS_PER_S, (double)(t_files - t_policy) / NS_PER_S,
		 (double)(t_kernel - t_files) / NS_PER_S);
	malloc_trim(0); /* what starting freed (the policy's parse, the programs' load) */
	sd_notify(0, "READY=1\nSTATUS=enforcing");
	return 0;
}

int agent_run(struct agent *a)
{
	int r = sd_event_loop(a->event);

	sd_notify(0, "STOPPING=1");
	ctl_stop(a);
	fleet_stop(a);
	notify_stop(a);
	ring_turn(a);
	aggregate_stop(a); /* every count so far, the current interval's too */
	/* the counts so far on disk too (the pinned map keeps counting) */
	usage_refresh(a);
	if (grant_store_save(&a->grants))
		log_warn("cannot save the grants' usage at stop");
	audit_agent_event("stopped", json_pack("{s:s}", "enforcement", "kept (pinned)"));
	ring_close(a);
	kern_close(a->kern);
	audit_close(&a->audit);
	alert_free(&a->alert);
	grant_store_free(&a->grants);
	policy_free(a->policy);
	sd_event_unref(a->event);
	return r < 0 ? 1 : 0;
}
