// SPDX-License-Identifier: GPL-2.0-only
/*
 * Cgroups for `jitctl exec`: one new cgroup per exec grant, holding the caller's process
 * tree. With systemd as PID 1 it is a transient scope (jitd-exec-ID.scope in jitd.slice)
 * made over D-Bus; otherwise jitd makes it directly, CGROUP_ROOT/jitd.exec/ID. jitd
 * a->scope.watches its cgroup.events (inotify) and ends the grant when "populated 0" says the
 * last process left, then removes the cgroup.
 *
 * Cgroup and unit grants name a path, but the kernel matches a cgroup id, and a restarted
 * service gets a new cgroup (a new id) at the same path. jitd a->scope.watches the parent
 * directories of those paths for new directories and rebinds the grants
 * (grant_rebind_cgroups). A unit grant given --until-unit-stops is not rebound: the same
 * watches (removed directories too) end it once its cgroup is gone or another
 * (scope_check_units); the kernel, matching the old id, already refuses a new run.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

#include "core.h"
#include "inotify.h"
#include "scope.h"
#include "audit.h"
#include "log.h"
#include "util.h"

/* Read the start of a small kernel file (one read) into buf as a string; 0 or -errno. */
static int read_text(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

static int populated(const char *dir)
{
	char path[4200], buf[256];
	int r;

	snprintf(path, sizeof(path), "%s/cgroup.events", dir);
	r = read_text(path, buf, sizeof(buf));
	return r ? r : !strstr(buf, "populated 0");
}

static void watch_drop(struct agent *a, struct scope_watch *w)
{
	inotify_rm_watch(a->scope.ino_fd, w->wd);
	free(w->dir);
	*w = a->scope.watches[--a->scope.n_watches];
}

/*
 * Grant g's process tree (exec) or unit (--until-unit-stops) is gone: end g, and write its
 * expired record once the end is on disk; event is its history entry, why says how jitd
 * knows.
 */
static void grant_gone(struct agent *a, struct grant *g, const char *event, const char *why)
{
	grant_end(a, g, GRANT_EXPIRED, event, g->requester_uid, NULL);
	if (g->state == GRANT_EXPIRED)
		audit_agent_event("expired",
				  json_pack("{s:o,s:s}", "grant", grant_to_json(g), "why", why));
}

static void tree_ended(struct agent *a, struct grant *g, const char *why)
{
	grant_gone(a, g, "process_tree_exited", why);
}

/*
 * End each active --until-unit-stops grant whose unit's cgroup is gone or was made again
 * (another id: a new run of the unit). Called on every create or remove in a watched
 * directory, and at start (the unit may have stopped while jitd was not running).
 */
static void scope_check_units(struct agent *a)
{
	for (size_t i = 0; i < a->grants.n; i++) {
		struct grant *g = &a->grants.v[i];
		uint64_t id;
		int r;

		if (!grant_ends_with_unit(g))
			continue;
		r = util_cgroup_id(a->cgroup_root, g->cgroup, &id);
		if (!r && id == g->cgroup_id)
			continue;
		/* any other error (EACCES...): jitd cannot tell the unit runs, so it ends */
		grant_gone(a, g, "unit_stopped",
			   r == -ENOENT || !r ? "unit stopped" : "unit's cgroup unreadable");
	}
}

/* Look at one watched cgroup: end its grant when empty, remove it once ended and empty. */
static void watch_check(struct agent *a, struct scope_watch *w)
{
	int pop = populated(w->dir);
	struct grant *g;

	if (pop > 0)
		return;
	g = grant_find(&a->grants, w->grant_id);
	if (g && g->state == GRANT_ACTIVE) {
		w->ended = true; /* before grant_end, which calls scope_release */
		tree_ended(a, g, "process tree exited");
	}
	if (!a->use_systemd && rmdir(w->dir) && errno != ENOENT && errno != EBUSY)
		log_warn("cannot remove %s: %s", w->dir, strerror(errno));
	watch_drop(a, w);
}

static bool is_parent_wd(const struct agent *a, int wd)
{
	for (size_t i = 0; i < a->scope.n_parents; i++)
		if (a->scope.parent_wds[i] == wd)
			return true;
	return false;
}

struct scope_events {
	struct agent *a;
	bool created, removed;
};

static void on_scope_event(const struct inotify_event *ev, void *ud)
{
	struct scope_events *se = ud;

	if ((ev->mask & IN_CREATE) && is_parent_wd(se->a, ev->wd))
		se->created = true;
	if ((ev->mask & (IN_DELETE | IN_Q_OVERFLOW)) && (ev->wd < 0 || is_parent_wd(se->a, ev->wd)))
		se->removed = true;
	for (size_t i = 0; i < se->a->scope.n_watches; i++)
		if (se->a->scope.watches[i].wd == ev->wd) {
			watch_check(se->a, &se->a->scope.watches[i]);
			break;
		}
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct scope_events se = {.a = userdata};

	inotify_drain(fd, on_scope_event, &se);
	if (se.created || se.removed)
		scope_check_units(se.a);
	if (se.created) {
		grant_rebind_cgroups(userdata);
		audit_grant_changes(&se.a->grants);
	}
	return 0;
}

static int ensure_inotify(struct agent *a)
{
	int r;

	if (a->scope.ino_src)
		return 0;
	a->scope.ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (a->scope.ino_fd < 0)
		return -errno;
	r = sd_event_add_io(a->event, &a->scope.ino_src, a->scope.ino_fd, EPOLLIN, on_inotify, a);
	if (r < 0) {
		close(a->scope.ino_fd);
		return r;
	}
	sd_event_source_set_description(a->scope.ino_src, "exec-cgroups");
	return 0;
}

/* Watch exec grant g's cgroup; ends g at once when the cgroup is gone or already empty. */
int scope_watch(struct agent *a, struct grant *g)
{
	char dir[4200], ev[4300];
	struct scope_watch *w;
	int r, wd;

	snprintf(dir, sizeof(dir), "%s%s", a->cgroup_root, g->cgroup);
	snprintf(ev, sizeof(ev), "%s/cgroup.events", dir);
	r = ensure_inotify(a);
	if (r)
		return r;
	if (a->scope.n_watches == SCOPE_MAX_WATCH)
		return -ENOSPC;
	wd = inotify_add_watch(a->scope.ino_fd, ev, IN_MODIFY);
	if (wd < 0) {
		const char *why = "cgroup gone (process tree ended while jitd was not running, "
				  "or a reboot)";
		char buf[128];

		r = -errno;
		/*
		 * The cgroup is gone (a reboot, or removed while jitd was down): so is the
		 * process tree. Any other error: jitd could not tell when the tree ends, so
		 * the grant ends now.
		 */
		if (r != -ENOENT) {
			snprintf(buf, sizeof(buf), "cannot watch its cgroup: %s", strerror(-r));
			why = buf;
		}
		tree_ended(a, g, why);
		return r == -ENOENT ? 0 : r;
	}
	w = &a->scope.watches[a->scope.n_watches++];
	*w = (struct scope_watch){.wd = wd, .grant_id = g->id, .dir = strdup(dir)};
	if (!w->dir) {
		watch_drop(a, w);
		return -ENOMEM;
	}
	watch_check(a, w);
	return 0;
}

/*
 * Watch the directory holding cgroup grant g's path, so that a cgroup made again there
 * (a restarted unit) rebinds the grant, and one removed there ends an --until-unit-stops
 * grant. Watches stay until jitd exits: one per directory.
 */
void scope_follow(struct agent *a, const struct grant *g)
{
	char dir[4200], *slash;
	int wd;

	snprintf(dir, sizeof(dir), "%s%s", a->cgroup_root, g->cgroup);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir || ensure_inotify(a))
		return;
	*slash = 0;
	wd = inotify_add_watch(a->scope.ino_fd, dir, IN_CREATE | IN_DELETE | IN_ONLYDIR);
	if (wd < 0) {
		log_warn("cannot watch %s for grant %llu: %s", dir, (unsigned long long)g->id,
			 strerror(errno));
		return;
	}
	if (is_parent_wd(a, wd))
		return;
	if (a->scope.n_parents == SCOPE_MAX_PARENTS) {
		log_warn("watching %d cgroup directories already; grant %llu will not follow a "
			 "new cgroup at %s",
			 SCOPE_MAX_PARENTS, (unsigned long long)g->id, g->cgroup);
		return;
	}
	a->scope.parent_wds[a->scope.n_parents++] = wd;
}

/* Exec grant g ended: remove its cgroup now if empty, else when it empties. */
void scope_release(struct agent *a, const struct grant *g)
{
	for (size_t i = 0; i < a->scope.n_watches; i++) {
		if (a->scope.watches[i].grant_id != g->id)
			continue;
		if (a->scope.watches[i].ended)
			return; /* watch_check is on it */
		a->scope.watches[i].ended = true;
		if (populated(a->scope.watches[i].dir) <= 0) {
			if (!a->use_systemd)
				rmdir(a->scope.watches[i].dir);
			watch_drop(a, &a->scope.watches[i]);
		}
		return;
	}
}

static int scope_systemd(uint64_t id, pid_t pid, char *path, size_t len)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL, *reply = NULL;
	char unit[64], desc[96];
	sd_bus *bus = NULL;
	int r;

	snprintf(unit, sizeof(unit), "jitd-exec-%llu.scope", (unsigned long long)id);
	snprintf(desc, sizeof(desc), "jitd exec grant %llu", (unsigned long long)id);
	r = sd_bus_open_system(&bus);
	if (r < 0)
		return r;
	r = sd_bus_message_new_method_call(
		bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
		"org.freedesktop.systemd1.Manager", "StartTransientUnit");
	if (r >= 0)
		r = sd_bus_message_append(m, "ss", unit, "fail");
	if (r >= 0)
		r = sd_bus_message_append(m, "a(sv)", 3, "PIDs", "au", 1, (uint32_t)pid, "Slice",
					  "s", "jitd.slice", "Description", "s", desc);
	if (r >= 0)
		r = sd_bus_message_append(m, "a(sa(sv))", 0);
	if (r >= 0)
		r = sd_bus_call(bus, m, 0, &e, &reply);
	if (r < 0)
		log_err("StartTransientUnit %s: %s", unit, e.message ?: strerror(-r));
	sd_bus_error_free(&e);
	sd_bus_message_unref(m);
	sd_bus_message_unref(reply);
	sd_bus_flush_close_unref(bus);
	if (r < 0)
		return r;
	snprintf(path, len, "/jitd.slice/%s", unit);
	return 0;
}

/* 0 when pid's cgroup v2 is rel, -ETIMEDOUT when not (yet), -errno when pid is gone. */
static int in_cgroup(pid_t pid, const char *rel)
{
	char path[64], buf[4200];
	size_t len = strlen(rel);
	int r;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	r = read_text(path, buf, sizeof(buf));
	if (r)
		return r;
	/* cgroup v2 is the line "0::PATH" */
	for (char *line = buf; line && *line;) {
		char *nl = strchr(line, '\n');

		if (!strncmp(line, "0::", 3) && !strncmp(line + 3, rel, len) &&
		    (line[3 + len] == '\n' || !line[3 + len]))
			return 0;
		line = nl ? nl + 1 : NULL;
	}
	return -ETIMEDOUT;
}

/*
 * Make the cgroup of exec grant id and move pid (the caller, checked by SO_PEERCRED) into
 * it. Returns 0 with *cgroup (malloc'd, relative to the cgroupfs root) and its id.
 */
int scope_create(struct agent *a, uint64_t id, pid_t pid, char **cgroup, uint64_t *cgroup_id)
{
	char rel[256], full[4400], procs[4500], num[32];
	struct stat st;
	int r, fd;

	if (a->use_systemd) {
		r = scope_systemd(id, pid, rel, sizeof(rel));
		if (r)
			return r;
		snprintf(full, sizeof(full), "%s%s", a->cgroup_root, rel);
		/*
		 * The job runs after the call returns, and systemd makes the cgroup before it
		 * moves the pid: wait (bounded) until pid is inside, or the new cgroup would
		 * look empty and its grant would end at once.
		 */
		r = -ETIMEDOUT;
		for (int i = 0; i < 500 && r; i++) {
			r = in_cgroup(pid, rel);
			if (r == -ETIMEDOUT)
				usleep(10000);
		}
		if (r) {
			log_err("exec grant %llu: pid %d not in %s: %s", (unsigned long long)id,
				(int)pid, rel, strerror(-r));
			return r;
		}
	} else {
		snprintf(full, sizeof(full), "%s%s", a->cgroup_root, GRANT_EXEC_CGROUP);
		if (mkdir(full, 0755) && errno != EEXIST)
			return -errno;
		snprintf(rel, sizeof(rel), "%s/%llu", GRANT_EXEC_CGROUP, (unsigned long long)id);
		snprintf(full, sizeof(full), "%s%s", a->cgroup_root, rel);
		if (mkdir(full, 0755))
			return -errno;
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", full);
		fd = open(procs, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || dprintf(fd, "%d", (int)pid) < 0) {
			r = -errno;
			if (fd >= 0)
				close(fd);
			rmdir(full);
			return r;
		}
		close(fd);
	}
	if (stat(full, &st))
		return -errno;
	*cgroup = strdup(rel);
	if (!*cgroup)
		return -ENOMEM;
	*cgroup_id = st.st_ino;
	snprintf(num, sizeof(num), "%d", (int)pid); /* for the log only */
	log_info("exec grant %llu: pid %s in cgroup %s", (unsigned long long)id, num, rel);
	return 0;
}

/*
 * Watch the cgroups of the active exec grants (start-up, after a restart or reboot), and
 * end the --until-unit-stops grants whose unit stopped meanwhile (their directories are
 * watched already: image_sync_all ran).
 */
int scope_start(struct agent *a)
{
	int r = 0;

	scope_check_units(a);
	for (size_t i = 0; i < a->grants.n && !r; i++) {
		struct grant *g = &a->grants.v[i];

		if (g->kind == GRANT_EXEC && g->state == GRANT_ACTIVE && g->cgroup)
			r = scope_watch(a, g);
	}
	return r;
}

/*
 * The cgroup of systemd unit NAME.service: asked over D-Bus when systemd runs, else the
 * conventional /system.slice/NAME.service. On failure, err says why for the caller:
 * -EINVAL a bad name, -ENOENT no such unit, -ESRCH not running (no cgroup to bind to).
 */
int scope_unit_cgroup(struct agent *a, const char *unit, char **out, char *err, size_t errlen)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char *path = NULL, *cg = NULL, *load = NULL;
	sd_bus *bus = NULL;
	size_t len = strlen(unit);
	int r;

	if (len < 9 || len > 200 || strcmp(unit + len - 8, ".service") || strchr(unit, '/')) {
		snprintf(err, errlen, "expected a service name like NAME.service");
		return -EINVAL;
	}
	if (!a->use_systemd)
		return asprintf(out, "/system.slice/%s", unit) < 0 ? -ENOMEM : 0;
	r = sd_bus_open_system(&bus);
	if (r < 0) {
		snprintf(err, errlen, "cannot reach systemd over D-Bus: %s", strerror(-r));
		return r;
	}
	r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, &path);
	if (r >= 0)
		r = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path,
					       "org.freedesktop.systemd1.Unit", "LoadState", &e,
					       &load);
	if (r >= 0)
		r = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path,
					       "org.freedesktop.systemd1.Service", "ControlGroup",
					       &e, &cg);
	if (r < 0)
		snprintf(err, errlen, "systemd: %s", e.message ?: strerror(-r));
	else if (!strcmp(load, "not-found")) {
		snprintf(err, errlen, "no such unit (see systemctl list-units --type=service)");
		r = -ENOENT;
	} else if (!cg || !*cg) {
		snprintf(err, errlen,
			 "not running; a unit grant binds to the running unit's cgroup, "
			 "so start it first");
		r = -ESRCH;
	}
	sd_bus_error_free(&e);
	free(path);
	free(load);
	sd_bus_flush_close_unref(bus);
	if (r < 0) {
		free(cg);
		return r;
	}
	*out = cg;
	return 0;
}

/*
 * Kill every process in cgroup `rel` (below the cgroup root) and its children: the
 * tree a revoked grant was bound to (`jitctl revoke --kill`). cgroup.kill where the
 * kernel has it (5.14+), else SIGKILL to each pid of cgroup.procs of every level,
 * repeated until none is left (a fork racing the kill is caught next round). Returns
 * the number of processes signalled, or negative errno.
 */
static int kill_procs(const char *dir, int depth)
{
	char path[4200], line[32];
	int n = 0;
	FILE *f;
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		pid_t pid = (pid_t)strtol(line, NULL, 10);

		if (pid > 1 && !kill(pid, SIGKILL))
			n++;
	}
	fclose(f);
	if (depth >= JITD_CGROUP_DEPTH || !(d = opendir(dir)))
		return n;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		int r = kill_procs(path, depth + 1);

		if (r > 0)
			n += r;
	}
	closedir(d);
	return n;
}

int scope_kill(struct agent *a, const char *rel)
{
	char dir[4096], path[4300];
	int fd, n = 0, r;

	if (!rel || rel[0] != '/' || strstr(rel, "/..") || !strcmp(rel, "/"))
		return -EINVAL;
	snprintf(dir, sizeof(dir), "%s%s", a->cgroup_root, rel);
	snprintf(path, sizeof(path), "%s/cgroup.kill", dir);
	/* count first (for the record), then kill */
	for (int round = 0; round < 50; round++) {
		r = populated(dir);
		/* gone after a kill: systemd removes an emptied transient scope at once */
		if (r == -ENOENT && round > 0)
			return n;
		if (r <= 0)
			return r < 0 ? r : n;
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			char pids[4300];
			FILE *f;

			snprintf(pids, sizeof(pids), "%s/cgroup.procs", dir);
			f = fopen(pids, "re");
			while (f && fgets(pids, 32, f))
				n++;
			if (f)
				fclose(f);
			r = write(fd, "1", 1) == 1 ? 0 : -errno;
			close(fd);
			if (r)
				return r;
		} else {
			r = kill_procs(dir, 0);
			if (r < 0)
				return r;
			n += r;
		}
		usleep(20000);
	}
	return n;
}
