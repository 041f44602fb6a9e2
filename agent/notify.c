// SPDX-License-Identifier: GPL-2.0-only
/*
 * The notification runner (docs/plans/workflow.md §8). Its only input is the audit hook:
 * every notification follows a written record. A record whose event a policy "notify"
 * target wants becomes one job per target; a job runs the target's command with the
 * event's JSON on stdin, as the target's user, in a cgroup of its own below
 * CGROUP_ROOT/jitd.notify (jitd's own cgroup is usually exempt), with a timeout that kills
 * the whole tree, and retries with a doubling delay. Nothing here waits: children are
 * watched by the loop (sd_event_add_child, SIGCHLD blocked by the core). A job that fails
 * for good is a `notify_failed` record; a full queue drops and says so in `notify_dropped`
 * (at most one a second). The workflow never waits for a notification.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h> /* setgroups */
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "audit_log.h"
#include "core.h"
#include "log.h"
#include "notify.h"
#include "util.h"

#define NOTIFY_MAX_INPUT    (64u << 10) /* bytes of stdin; the record is left out beyond */
#define NOTIFY_STDERR	    4096	/* bytes of the child's stderr kept (sealed memfd) */
#define NOTIFY_STDERR_SHOWN 512		/* of which a notify_failed record shows */
#define NOTIFY_KILL_GRACE   (2 * USEC_PER_SEC)
#define NOTIFY_DELAY_CAP_S  300
#define USEC_PER_SEC	    1000000ULL

struct notify_job {
	struct notify_job *next;
	struct agent *a;
	uint64_t id;
	char target[POLICY_MAX_NAME];
	char event[32];
	uint64_t seq, grant_id;
	json_t *payload; /* "attempt" set at each run */
	char **argv;	 /* copied from the target: a reload does not change a queued job */
	uid_t uid;
	gid_t gid, groups[POLICY_MAX_NOTIFY_GROUPS];
	size_t n_groups;
	int64_t timeout_s, delay_s;
	unsigned attempt, tries;
	uint64_t due_usec; /* CLOCK_MONOTONIC: may run from then on (0: now) */
	/* while running */
	pid_t pid;
	int err_fd;
	bool timed_out;
	sd_event_source *child, *timer;
	char cgroup[64]; /* relative to the cgroupfs root, "" when none */
};

static uint64_t now_usec(void)
{
	return util_now_ns(CLOCK_MONOTONIC) / 1000;
}

/* ---- payload ---- */

static char *user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char tmp[4096];

	if (!getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) && res)
		snprintf(buf, len, "%s", res->pw_name);
	else
		snprintf(buf, len, "%u", (unsigned)uid);
	return buf;
}

/*
 * The names of the users behind approver principals (req_approver_users: "user:NAME";
 * "group:NAME" by its members and the users whose primary group it is), the requester
 * left out, sorted; an empty array when out of memory.
 */
static json_t *approver_users(const json_t *principals, uid_t requester)
{
	size_t n = json_array_size(principals), k = 0, i;
	char **v = calloc(n + 1, sizeof(*v));
	json_t *list = NULL, *names = json_array(), *e;

	for (i = 0; v && i < n; i++)
		if (json_is_string(json_array_get(principals, i)))
			v[k++] = (char *)json_string_value(json_array_get(principals, i));
	if (v && names && !req_approver_users(v, k, requester, REQ_MAX_APPROVER_USERS, &list))
		json_array_foreach(list, i, e)
			json_array_append(names, json_object_get(e, "user"));
	json_decref(list);
	free(v);
	return names;
}

/* "alice: requested psql for 30m (INC-42), grant 17; approvers: carol, dave" */
static char *payload_text(const char *event, const struct grant *g, const json_t *users)
{
	char who[64], res[512] = "", line[2048];
	size_t i, off;
	json_t *v;

	if (!g) {
		snprintf(line, sizeof(line), "%s", event);
		return strdup(line);
	}
	for (unsigned k = 0; k < g->n_res; k++)
		snprintf(res + strlen(res), sizeof(res) - strlen(res), "%s%s", k ? "," : "",
			 g->res[k]);
	off = snprintf(line, sizeof(line), "%s: %s %s for %llds%s%.256s%s, grant %llu",
		       g->has_uid ? user_name(g->uid, who, sizeof(who)) : (g->cgroup ?: "-"), event,
		       res, (long long)g->duration_s, g->reason ? " (" : "", g->reason ?: "",
		       g->reason ? ")" : "", (unsigned long long)g->id);
	json_array_foreach(users, i, v)
		if (off < sizeof(line))
			off += snprintf(line + off, sizeof(line) - off, "%s%s",
					i ? ", " : "; approvers: ", json_string_value(v));
	/* printable ASCII: a reason cut inside a UTF-8 character would make the text invalid
	 * (no "text" at all), and control characters have no place in a chat line; the
	 * grant object beside it keeps the reason as given */
	for (char *c = line; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			*c = '?';
	return strdup(line);
}

static void payload_grant(struct agent *a, json_t *p, const char *event, uint64_t id)
{
	const struct grant *g = id ? grant_find(&a->grants, id) : NULL;
	json_t *users = NULL, *ap = g ? req_json_list(g->approvers) : NULL;
	char *text;

	if (g)
		json_object_set_new(p, "grant", grant_to_json(g));
	if (g && json_array_size(ap)) {
		users = approver_users(ap, g->requester_uid);
		json_object_set_new(p, "approvers",
				    json_pack("{s:O,s:O}", "principals", ap, "users", users));
	}
	json_decref(ap);
	text = payload_text(event, g, users);
	json_object_set_new(p, "text", json_string(text ?: event));
	free(text);
	json_decref(users);
}

static json_t *payload_new(struct agent *a, const char *line, size_t len,
			   const struct audit_summary *sum)
{
	char host[256] = "", t[40];
	json_t *p;

	gethostname(host, sizeof(host) - 1);
	p = json_pack("{s:i,s:s,s:s,s:s}", "version", 1, "event", sum->event, "time",
		      util_format_time(sum->time_ms * 1000000, t, sizeof(t)), "host", host);
	if (!p)
		return NULL;
	payload_grant(a, p, sum->event, sum->grant_id);
	if (len < NOTIFY_MAX_INPUT / 2)
		json_object_set_new(p, "record", json_loadb(line, len, 0, NULL));
	return p;
}

/* ---- queue ---- */

static bool target_wants(const struct agent *a, const struct policy_notify *t,
			 const struct audit_summary *sum)
{
	const struct grant *g;

	if (policy_notify_wants(t, sum->event, sum->resource))
		return true;
	/* a grant of several resources: any of them */
	g = sum->grant_id ? grant_find((struct grant_store *)&a->grants, sum->grant_id) : NULL;
	for (unsigned k = 0; g && k < g->n_res; k++)
		if (policy_notify_wants(t, sum->event, g->res[k]))
			return true;
	return false;
}

static void job_free(struct notify_job *j)
{
	if (!j)
		return;
	for (size_t i = 0; j->argv && j->argv[i]; i++)
		free(j->argv[i]);
	free(j->argv);
	json_decref(j->payload);
	sd_event_source_disable_unref(j->child);
	sd_event_source_disable_unref(j->timer);
	if (j->err_fd >= 0)
		close(j->err_fd);
	free(j);
}

static struct notify_job *job_new(struct agent *a, const struct policy_notify *t,
				  const struct audit_summary *sum, json_t *payload)
{
	struct notify_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->a = a;
	j->err_fd = -1;
	j->argv = calloc(t->argc + 1, sizeof(*j->argv));
	for (size_t i = 0; j->argv && i < t->argc; i++)
		if (!(j->argv[i] = strdup(t->argv[i]))) {
			job_free(j);
			return NULL;
		}
	j->payload = json_deep_copy(payload);
	if (!j->argv || !j->payload) {
		job_free(j);
		return NULL;
	}
	json_object_set_new(j->payload, "target", json_string(t->name));
	j->id = ++a->notify.next_id;
	snprintf(j->target, sizeof(j->target), "%s", t->name);
	snprintf(j->event, sizeof(j->event), "%s", sum->event);
	j->seq = sum->seq;
	j->grant_id = sum->grant_id;
	j->uid = t->uid;
	j->gid = t->gid;
	memcpy(j->groups, t->groups, sizeof(j->groups));
	j->n_groups = t->n_groups;
	j->timeout_s = t->timeout_s;
	j->delay_s = t->retry_delay_s;
	j->tries = t->retries + 1;
	return j;
}

/* The audit hook: queue one job per target that wants this record; never blocks, never
 * writes a record (the hook runs inside the audit writer). */
static void notify_on_record(const char *line, size_t len, const struct audit_summary *sum,
			     void *ud)
{
	struct agent *a = ud;
	struct notify_state *ns = &a->notify;
	json_t *payload = NULL;

	if (!ns->running || sum->decision || !sum->event || !a->policy || !a->policy->n_notify ||
	    !strncmp(sum->event, "notify_", 7))
		return;
	for (size_t i = 0; i < a->policy->n_notify; i++) {
		const struct policy_notify *t = &a->policy->notify[i];
		struct notify_job *j;

		if (!target_wants(a, t, sum))
			continue;
		if (!payload && !(payload = payload_new(a, line, len, sum)))
			break;
		if (ns->n_pending >= ns->max_queue || !(j = job_new(a, t, sum, payload))) {
			ns->dropped++;
			ns->drops_unreported++;
			continue;
		}
		j->next = ns->jobs;
		ns->jobs = j;
		ns->n_pending++;
	}
	json_decref(payload);
	sd_event_source_set_enabled(ns->kick, SD_EVENT_ONESHOT);
}

/* ---- running a job ---- */

static unsigned running_for(const struct notify_state *ns, const char *target)
{
	unsigned n = 0;

	for (const struct notify_job *j = ns->jobs; j; j = j->next)
		n += j->pid > 0 && !strcmp(j->target, target);
	return n;
}

static void child_env(const struct notify_job *j, char env[8][96])
{
	snprintf(env[0], 96, "PATH=/usr/local/bin:/usr/bin:/bin");
	snprintf(env[1], 96, "LANG=C.UTF-8");
	snprintf(env[2], 96, "HOME=/");
	snprintf(env[3], 96, "JITD_EVENT=%s", j->event);
	snprintf(env[4], 96, "JITD_GRANT_ID=%llu", (unsigned long long)j->grant_id);
	snprintf(env[5], 96, "JITD_TARGET=%s", j->target);
	snprintf(env[6], 96, "JITD_ATTEMPT=%u", j->attempt);
}

/* In the forked child: a fresh session and signal state, stdin/stderr, the job's cgroup,
 * the user, no new privileges; then the command. Never returns. */
static __attribute__((noreturn)) void child_run(const struct notify_job *j, int in_fd,
						const char *procs)
{
	char env[8][96], *envp[8];
	sigset_t none;
	int fd;

	setsid();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (dup2(in_fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(j->err_fd, 2) < 0)
		_exit(126);
	if (close_range(3, ~0U, 0))
		for (int k = 3; k < 1024; k++)
			close(k);
	if (procs) { /* leave jitd's (exempt) cgroup, or run nothing */
		fd = open(procs, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1) {
			dprintf(2, "jitd: cannot join %s: %s\n", procs, strerror(errno));
			_exit(126);
		}
		close(fd);
	}
	if (getuid() == 0 || j->uid != getuid()) {
		if (setgroups(j->n_groups, j->groups) || setresgid(j->gid, j->gid, j->gid) ||
		    setresuid(j->uid, j->uid, j->uid)) {
			dprintf(2, "jitd: cannot become uid %u: %s\n", (unsigned)j->uid,
				strerror(errno));
			_exit(126);
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_PDEATHSIG, SIGKILL) ||
	    chdir("/"))
		_exit(126);
	child_env(j, env);
	for (int k = 0; k < 7; k++)
		envp[k] = env[k];
	envp[7] = NULL;
	execve(j->argv[0], j->argv, envp);
	dprintf(2, "jitd: cannot run %s: %s\n", j->argv[0], strerror(errno));
	_exit(127);
}

/* The job's stdin (the payload, rewound) and its stderr (4096 bytes at most): memfds. */
static int job_fds(struct notify_job *j, int *in_fd)
{
	char *text;
	size_t n;

	json_object_set_new(j->payload, "attempt", json_integer(j->attempt));
	text = json_dumps(j->payload, JSON_COMPACT);
	if (text && strlen(text) > NOTIFY_MAX_INPUT) {
		free(text);
		json_object_del(j->payload, "record");
		text = json_dumps(j->payload, JSON_COMPACT);
	}
	if (!text)
		return -ENOMEM;
	n = strlen(text);
	*in_fd = memfd_create("jitd-notify-in", MFD_CLOEXEC);
	j->err_fd = memfd_create("jitd-notify-err", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (*in_fd < 0 || j->err_fd < 0 || write(*in_fd, text, n) != (ssize_t)n ||
	    write(*in_fd, "\n", 1) != 1 || lseek(*in_fd, 0, SEEK_SET) ||
	    ftruncate(j->err_fd, NOTIFY_STDERR) ||
	    fcntl(j->err_fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)) {
		free(text);
		return -errno;
	}
	free(text);
	return 0;
}

/* The job's cgroup below NOTIFY_CGROUP; its cgroup.procs into procs. */
static int job_cgroup(struct notify_job *j, char *procs, size_t len)
{
	char dir[4096];

	snprintf(j->cgroup, sizeof(j->cgroup), NOTIFY_CGROUP "/%llu", (unsigned long long)j->id);
	snprintf(dir, sizeof(dir), "%s%s", j->a->cgroup_root, j->cgroup);
	if (mkdir(dir, 0700) && errno != EEXIST) {
		j->cgroup[0] = 0;
		return -errno;
	}
	snprintf(procs, len, "%s/cgroup.procs", dir);
	return 0;
}

static void job_done(struct notify_job *j, const char *result);
static void job_reap_cgroup(struct notify_job *j);
static int on_child(sd_event_source *s, const siginfo_t *si, void *ud);
static int on_timeout(sd_event_source *s, uint64_t usec, void *ud);

static int job_start(struct notify_job *j)
{
	struct notify_state *ns = &j->a->notify;
	char procs[4200];
	int in_fd = -1, r;

	j->attempt++;
	j->timed_out = false;
	r = job_fds(j, &in_fd);
	if (!r && !ns->no_cgroup)
		r = job_cgroup(j, procs, sizeof(procs));
	if (!r) {
		j->pid = fork();
		if (j->pid == 0)
			child_run(j, in_fd, ns->no_cgroup ? NULL : procs);
		r = j->pid < 0 ? -errno : 0;
	}
	if (in_fd >= 0)
		close(in_fd);
	if (!r)
		r = sd_event_add_child(sd_event_source_get_event(ns->kick), &j->child, j->pid,
				       WEXITED, on_child, j);
	if (!r)
		r = sd_event_add_time_relative(sd_event_source_get_event(ns->kick), &j->timer,
					       CLOCK_MONOTONIC, j->timeout_s * USEC_PER_SEC, 0,
					       on_timeout, j);
	if (r < 0 && j->pid > 0) {
		kill(-j->pid, SIGKILL);
		waitpid(j->pid, NULL, 0);
		j->child = sd_event_source_disable_unref(j->child);
	}
	if (r < 0) {
		j->pid = 0;
		job_reap_cgroup(j);
		return r;
	}
	ns->n_running++;
	return 0;
}

/* Kill what is left of the job's tree and remove its cgroup. */
static void job_reap_cgroup(struct notify_job *j)
{
	char dir[4096];

	if (!j->cgroup[0])
		return;
	if (j->a->ops.scope_kill)
		j->a->ops.scope_kill(j->a, j->cgroup);
	snprintf(dir, sizeof(dir), "%s%s", j->a->cgroup_root, j->cgroup);
	for (int k = 0; k < 50 && rmdir(dir) && errno == EBUSY; k++)
		usleep(20000);
	j->cgroup[0] = 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *ud)
{
	struct notify_job *j = ud;

	if (!j->timed_out) { /* ask first, then the whole tree two seconds later */
		j->timed_out = true;
		kill(-j->pid, SIGTERM);
		sd_event_source_set_time_relative(s, NOTIFY_KILL_GRACE);
		sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
		return 0;
	}
	kill(-j->pid, SIGKILL);
	if (j->cgroup[0] && j->a->ops.scope_kill)
		j->a->ops.scope_kill(j->a, j->cgroup);
	return 0;
}

/* The first bytes the child wrote to stderr, as printable ASCII. */
static void job_stderr(const struct notify_job *j, char *buf, size_t len)
{
	off_t n = j->err_fd >= 0 ? lseek(j->err_fd, 0, SEEK_CUR) : 0;
	ssize_t got;

	buf[0] = 0;
	if (n <= 0)
		return;
	if ((size_t)n >= len)
		n = len - 1;
	got = pread(j->err_fd, buf, n, 0);
	buf[got > 0 ? got : 0] = 0;
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = *p == '\n' && p[1] ? ' ' : (*p == '\n' ? 0 : '?');
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *ud)
{
	struct notify_job *j = ud;
	struct notify_state *ns = &j->a->notify;
	char result[64];

	waitpid(j->pid, NULL, WNOHANG); /* a zombie now: reaped here or by sd-event */
	j->child = sd_event_source_disable_unref(j->child);
	j->timer = sd_event_source_disable_unref(j->timer);
	ns->n_running--;
	j->pid = 0;
	job_reap_cgroup(j);
	if (j->timed_out)
		snprintf(result, sizeof(result), "timeout");
	else if (si->si_code == CLD_EXITED)
		snprintf(result, sizeof(result), "exit %d", si->si_status);
	else
		snprintf(result, sizeof(result), "signal %d", si->si_status);
	job_done(j, strcmp(result, "exit 0") ? result : NULL);
	return 0;
}

static void job_unlink(struct notify_job *j)
{
	struct notify_state *ns = &j->a->notify;

	for (struct notify_job **p = &ns->jobs; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	ns->n_pending--;
}

static void record_failed(struct notify_job *j, const char *result)
{
	char err[NOTIFY_STDERR_SHOWN + 1];

	job_stderr(j, err, sizeof(err));
	audit_agent_event("notify_failed",
			  json_pack("{s:s,s:s,s:I,s:I,s:i,s:s,s:s}", "target", j->target, "event",
				    j->event, "record_sequence", (json_int_t)j->seq, "grant_id",
				    (json_int_t)j->grant_id, "attempts", (int)j->attempt, "result",
				    result, "stderr", err));
}

/* A run ended (result NULL: delivered): done, or again after the delay, or failed. */
static void job_done(struct notify_job *j, const char *result)
{
	struct notify_state *ns = &j->a->notify;
	int64_t delay;

	if (!result || j->attempt >= j->tries) {
		if (result) {
			ns->failed++;
			record_failed(j, result);
		} else {
			ns->sent++;
		}
		job_unlink(j);
		job_free(j);
	} else {
		ns->retried++;
		delay = j->delay_s << (j->attempt - 1 < 9 ? j->attempt - 1 : 9);
		if (delay > NOTIFY_DELAY_CAP_S)
			delay = NOTIFY_DELAY_CAP_S;
		j->due_usec = now_usec() + delay * USEC_PER_SEC;
		if (j->err_fd >= 0)
			close(j->err_fd);
		j->err_fd = -1;
	}
	sd_event_source_set_enabled(ns->kick, SD_EVENT_ONESHOT);
}

/* ---- the loop's side ---- */

static void report_drops(struct notify_state *ns, uint64_t now, uint64_t *next)
{
	uint64_t at = ns->drops_reported_ns / 1000 + USEC_PER_SEC;

	if (!ns->drops_unreported)
		return;
	if (ns->drops_reported_ns && now < at) {
		*next = *next < at ? *next : at;
		return;
	}
	audit_agent_event("notify_dropped",
			  json_pack("{s:I,s:i}", "count", (json_int_t)ns->drops_unreported, "queue",
				    (int)ns->max_queue));
	ns->drops_unreported = 0;
	ns->drops_reported_ns = now * 1000;
}

/* Start what may start now (at most max_jobs, at most half of them per target, oldest
 * first); arm the timer at the next retry or drop report. */
static int on_kick(sd_event_source *s, void *ud)
{
	struct agent *a = ud;
	struct notify_state *ns = &a->notify;
	unsigned per_target = (ns->max_jobs + 1) / 2;
	uint64_t now = now_usec(), next = UINT64_MAX;
	struct notify_job *order[NOTIFY_QUEUE_MAX];
	size_t n = 0;

	for (struct notify_job *j = ns->jobs; j && n < NOTIFY_QUEUE_MAX; j = j->next)
		if (!j->pid)
			order[n++] = j; /* newest first: start from the end */
	while (n--) {
		struct notify_job *j = order[n];

		if (j->due_usec > now) {
			next = next < j->due_usec ? next : j->due_usec;
			continue;
		}
		if (ns->n_running >= ns->max_jobs || running_for(ns, j->target) >= per_target)
			continue; /* a child's exit kicks again */
		int r = job_start(j);

		if (r < 0) {
			char why[64];

			snprintf(why, sizeof(why), "cannot start: %s", strerror(-r));
			j->tries = j->attempt;
			job_done(j, why);
		}
	}
	report_drops(ns, now, &next);
	if (next != UINT64_MAX) {
		sd_event_source_set_time(ns->timer, next);
		sd_event_source_set_enabled(ns->timer, SD_EVENT_ONESHOT);
	}
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *ud)
{
	struct agent *a = ud;

	sd_event_source_set_enabled(a->notify.kick, SD_EVENT_ONESHOT);
	return 0;
}

/* The job cgroups a previous jitd left: its children died with it (PR_SET_PDEATHSIG), what
 * they started may not have; job ids start again at 1. */
static void clean_cgroups(struct agent *a, const char *dir)
{
	char rel[128], path[4200];
	struct dirent *e;
	DIR *d = opendir(dir);

	while (d && (e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(rel, sizeof(rel), NOTIFY_CGROUP "/%.64s", e->d_name);
		if (a->ops.scope_kill)
			a->ops.scope_kill(a, rel);
		snprintf(path, sizeof(path), "%.4096s/%.64s", dir, e->d_name);
		if (rmdir(path))
			log_warn("cannot remove %s: %s", path, strerror(errno));
	}
	if (d)
		closedir(d);
}

int notify_start(struct agent *a, unsigned jobs, unsigned queue)
{
	struct notify_state *ns = &a->notify;
	char dir[4096];
	int r;

	*ns = (struct notify_state){.max_jobs = jobs ?: NOTIFY_JOBS_DEFAULT,
				    .max_queue = queue ?: NOTIFY_QUEUE_DEFAULT,
				    .no_cgroup = !a->cgroup_root};
	if (a->cgroup_root) {
		snprintf(dir, sizeof(dir), "%s" NOTIFY_CGROUP, a->cgroup_root);
		if (mkdir(dir, 0700) && errno != EEXIST)
			log_warn("cannot make %s: %s (notification commands will fail)", dir,
				 strerror(errno));
		else
			clean_cgroups(a, dir);
	}
	r = sd_event_add_defer(a->event, &ns->kick, on_kick, a);
	if (r >= 0)
		r = sd_event_source_set_enabled(ns->kick, SD_EVENT_OFF);
	if (r >= 0)
		r = sd_event_add_time(a->event, &ns->timer, CLOCK_MONOTONIC, UINT64_MAX, 0,
				      on_timer, a);
	if (r >= 0)
		r = audit_log_add_hook(notify_on_record, a);
	if (r < 0)
		return r;
	sd_event_source_set_description(ns->kick, "notify-kick");
	sd_event_source_set_description(ns->timer, "notify-retry");
	ns->running = true;
	return 0;
}

void notify_stop(struct agent *a)
{
	struct notify_state *ns = &a->notify;
	struct notify_job *j;

	if (!ns->running)
		return;
	ns->running = false;
	audit_log_remove_hook(notify_on_record, a);
	while ((j = ns->jobs)) {
		if (j->pid > 0) {
			kill(-j->pid, SIGKILL);
			waitpid(j->pid, NULL, 0);
			ns->n_running--;
			j->pid = 0;
			job_reap_cgroup(j);
		}
		ns->failed++;
		record_failed(j, "jitd stopped");
		job_unlink(j);
		job_free(j);
	}
	ns->kick = sd_event_source_disable_unref(ns->kick);
	ns->timer = sd_event_source_disable_unref(ns->timer);
}

json_t *notify_status_json(const struct agent *a)
{
	const struct notify_state *ns = &a->notify;

	return json_pack("{s:I,s:I,s:I,s:I,s:i,s:i,s:i,s:i}", "sent", (json_int_t)ns->sent,
			 "failed", (json_int_t)ns->failed, "dropped", (json_int_t)ns->dropped,
			 "retried", (json_int_t)ns->retried, "running", (int)ns->n_running,
			 "queued", (int)(ns->n_pending - ns->n_running), "max_jobs",
			 (int)ns->max_jobs, "max_queue", (int)ns->max_queue);
}
