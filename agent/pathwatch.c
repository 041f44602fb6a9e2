// SPDX-License-Identifier: GPL-2.0-only
/*
 * Re-resolve protected paths when they appear or are replaced. Files are
 * protected by (device, inode), so a package upgrade that renames a new binary
 * over /usr/bin/psql, or a file created after jitd started, needs a fresh
 * stat(). inotify watches the directory holding each policy path (or, while it
 * does not exist, its nearest existing ancestor), before the paths are resolved; a change
 * there to a name on the way to a policy path schedules one resync of the protected-object
 * maps shortly after. Changes to other names (a log rotated beside a protected file, dpkg's
 * temporary files) cost a hash and a lookup, not a resync.
 */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"
#include "inotify.h"
#include "pathwatch.h"
#include "log.h"
#include "util.h"

#define PATHWATCH_DELAY_USEC 50000ULL	    /* coalesce bursts (dpkg unpacks many files) */
#define PATHWATCH_TRIM_NS    (5 * NS_PER_S) /* at most one malloc_trim a resync this often */
#define PATHWATCH_MASK                                                                             \
	(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF |     \
	 IN_ONLYDIR)

/* FNV-1a of a name of len bytes, ASCII letters folded (a case-insensitive directory names
 * "TOOL" what the policy calls "tool"): the set of names that matter (a false match only
 * costs a resync, so 32 bits do) */
static uint32_t name_hash(const char *name, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		h = (h ^ (c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c)) * 16777619u;
	}
	return h;
}

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

static int cmp_int(const void *x, const void *y)
{
	int a = *(const int *)x, b = *(const int *)y;

	return a < b ? -1 : a > b;
}

/* Every name on the way to path (its components) into names, which has room. */
static size_t add_names(uint32_t *names, size_t n, const char *path)
{
	for (const char *p = path, *end; *p; p = end) {
		while (*p == '/')
			p++;
		end = strchrnul(p, '/');
		if (end > p)
			names[n++] = name_hash(p, (size_t)(end - p));
	}
	return n;
}

/* The sorted, distinct hashes of every component of the policy's exec/open paths. */
static int names_build(const struct policy *p, uint32_t **out, size_t *n_out)
{
	size_t cap = 0, n = 0, k = 0;
	uint32_t *names;

	for (size_t i = 0; i < p->n_resources; i++)
		for (size_t j = 0; j < p->resources[i].n_entries; j++)
			if (p->resources[i].entries[j].kind != POLICY_CONNECT)
				cap += strlen(p->resources[i].entries[j].path) / 2 + 1;
	names = malloc((cap ? cap : 1) * sizeof(*names));
	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_resources; i++)
		for (size_t j = 0; j < p->resources[i].n_entries; j++)
			if (p->resources[i].entries[j].kind != POLICY_CONNECT)
				n = add_names(names, n, p->resources[i].entries[j].path);
	qsort(names, n, sizeof(*names), cmp_u32);
	for (size_t i = 0; i < n; i++)
		if (!k || names[k - 1] != names[i])
			names[k++] = names[i];
	*out = realloc(names, (k ? k : 1) * sizeof(*names)) ?: names;
	*n_out = k;
	return 0;
}

/* Whether an event can change what a policy path resolves to: a change to one of its
 * names, the watched directory itself gone or moved, or events lost; any event in a
 * directory watched for a symlink (its target's name may be any other in it: the policy
 * path itself, or a dangling one on its way); any event while the watches or the last
 * resolution failed. */
static bool event_matters(const struct pathwatch *w, const struct inotify_event *ev)
{
	uint32_t h;

	if (ev->mask & (IN_Q_OVERFLOW | IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF) || !ev->len ||
	    w->unfiltered || bsearch(&ev->wd, w->any_wds, w->n_any_wds, sizeof(int), cmp_int))
		return true;
	h = name_hash(ev->name, strnlen(ev->name, ev->len));
	return bsearch(&h, w->names, w->n_names, sizeof(h), cmp_u32) != NULL;
}

/* The directory to watch for path: its parent, or the nearest existing ancestor. *link:
 * path, or a component of it that does not lead to a directory, is a symlink (its target
 * may be any name: every event in the directory matters). */
static int watch_dir_of(const char *path, char *dir, size_t len, bool *link)
{
	struct stat st;
	char *slash;

	snprintf(dir, len, "%s", path);
	*link = !lstat(dir, &st) && S_ISLNK(st.st_mode);
	for (;;) {
		slash = strrchr(dir, '/');
		if (!slash)
			return -ENOENT;
		if (slash == dir) {
			dir[1] = 0;
			return 0;
		}
		*slash = 0;
		if (!stat(dir, &st) && S_ISDIR(st.st_mode))
			return 0;
		/* a dangling symlink on the way: what it will point to has another name */
		*link = !lstat(dir, &st) && S_ISLNK(st.st_mode);
	}
}

/* Watch path's directory on fd; the watch into *wds (room for one more) when every event
 * there matters (a symlink: watch_dir_of). */
static void watch_path(int fd, const char *path, int *wds, size_t *n_wds)
{
	char dir[PATH_MAX];
	bool link;
	int wd;

	if (watch_dir_of(path, dir, sizeof(dir), &link))
		return;
	wd = inotify_add_watch(fd, dir, PATHWATCH_MASK);
	if (wd < 0)
		log_warn("cannot watch %s for %s: %s", dir, path, strerror(errno));
	else if (link)
		wds[(*n_wds)++] = wd;
}

/* Watch the directories of every exec/open path of the policy (replacing old watches). */
static int pathwatch_rearm(struct agent *a)
{
	size_t n_names, n_paths = 0, n_wds = 0;
	uint32_t *names;
	int fd, r, *wds;

	for (size_t i = 0; i < a->policy->n_resources; i++)
		n_paths += a->policy->resources[i].n_entries;
	wds = malloc((n_paths ? n_paths : 1) * sizeof(*wds));
	r = wds ? names_build(a->policy, &names, &n_names) : -ENOMEM;
	if (r) {
		free(wds);
		return r;
	}
	/* A fresh inotify instance drops every old watch in one go. */
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		free(names);
		free(wds);
		return r;
	}
	for (size_t i = 0; i < a->policy->n_resources; i++) {
		const struct policy_resource *r = &a->policy->resources[i];

		for (size_t j = 0; j < r->n_entries; j++)
			if (r->entries[j].kind != POLICY_CONNECT)
				watch_path(fd, r->entries[j].path, wds, &n_wds);
	}
	qsort(wds, n_wds, sizeof(*wds), cmp_int);
	free(a->pathwatch.any_wds);
	a->pathwatch.any_wds = wds;
	a->pathwatch.n_any_wds = n_wds;
	a->pathwatch.io_src = sd_event_source_disable_unref(a->pathwatch.io_src);
	if (a->pathwatch.has_fd)
		close(a->pathwatch.ino_fd);
	a->pathwatch.ino_fd = fd;
	a->pathwatch.has_fd = true;
	free(a->pathwatch.names);
	a->pathwatch.names = names;
	a->pathwatch.n_names = n_names;
	return 0;
}

static int on_resync(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct agent *a = userdata;
	bool watched, synced;
	int64_t now;

	/* Watch first, then stat: a change in between triggers another resync. Until both
	 * succeed, any event triggers one (a failure is logged by what failed). The grants'
	 * keys name resources, not inodes: they stay as they are. */
	a->pathwatch.resyncs++;
	watched = pathwatch_update(a) >= 0;
	synced = !a->ops.sync_policy(a, a->policy);
	a->pathwatch.unfiltered = !watched || !synced;
	if (!synced)
		return 0;
	/* the index of the policy's paths was made again: the old one's pages back (4 MB at
	 * 100,000 paths), once in a while when a watched directory churns */
	now = util_now_ns(CLOCK_MONOTONIC);
	if (!a->pathwatch.trimmed_ns || now - a->pathwatch.trimmed_ns >= PATHWATCH_TRIM_NS) {
		malloc_trim(0);
		a->pathwatch.trimmed_ns = now;
	}
	return 0;
}

static void note_event(const struct inotify_event *ev, void *ud)
{
	struct agent *a = ud;

	a->pathwatch.events++;
	if (event_matters(&a->pathwatch, ev))
		a->pathwatch.matters = true;
	else
		a->pathwatch.events_ignored++;
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct agent *a = userdata;

	a->pathwatch.matters = false;
	inotify_drain(fd, note_event, a); /* which path changed does not matter: all are
					     re-resolved */
	if (a->pathwatch.matters)
		pathwatch_kick(a);
	return 0;
}

/* Schedule a re-resolution of the policy's paths. An
 * already scheduled one is not pushed back: files churning in a watched directory must
 * not postpone the protection of a replaced inode (the window stays one delay). */
void pathwatch_kick(struct agent *a)
{
	int enabled = SD_EVENT_OFF;

	if (!a->pathwatch.resync_src)
		return;
	if (sd_event_source_get_enabled(a->pathwatch.resync_src, &enabled) >= 0 &&
	    enabled != SD_EVENT_OFF)
		return;
	sd_event_source_set_time_relative(a->pathwatch.resync_src, PATHWATCH_DELAY_USEC);
	sd_event_source_set_enabled(a->pathwatch.resync_src, SD_EVENT_ONESHOT);
}

/* The resync timer and the watches in the event loop, once there is one. */
static int pathwatch_attach(struct agent *a)
{
	int r;

	if (!a->event || !a->pathwatch.has_fd)
		return 0;
	if (!a->pathwatch.resync_src) {
		r = sd_event_add_time_relative(a->event, &a->pathwatch.resync_src, CLOCK_MONOTONIC,
					       PATHWATCH_DELAY_USEC, 0, on_resync, a);
		if (r < 0)
			return r;
		sd_event_source_set_enabled(a->pathwatch.resync_src, SD_EVENT_OFF);
		sd_event_source_set_description(a->pathwatch.resync_src, "path-resync");
	}
	a->pathwatch.io_src = sd_event_source_disable_unref(a->pathwatch.io_src);
	r = sd_event_add_io(a->event, &a->pathwatch.io_src, a->pathwatch.ino_fd, EPOLLIN,
			    on_inotify, a);
	if (r >= 0)
		sd_event_source_set_description(a->pathwatch.io_src, "path-watch");
	return r < 0 ? r : 0;
}

/* Watch the current policy's paths, before they are resolved: a change after the watch
 * is reported, one before it is seen by the resolution. Returns 0 or negative errno. */
int pathwatch_update(struct agent *a)
{
	int r = pathwatch_rearm(a);

	r = r < 0 ? r : pathwatch_attach(a);
	if (r < 0) /* the old watches, if any, stay: every event they see counts */
		a->pathwatch.unfiltered = true;
	return r;
}

/* Serving: the watches set before the first resolution join the event loop (what they saw
 * meanwhile is reported then). Without them (inotify failed), watch now and resolve once
 * more. */
int pathwatch_start(struct agent *a)
{
	int r;

	if (a->pathwatch.has_fd)
		return pathwatch_attach(a);
	r = pathwatch_update(a);
	if (r >= 0)
		pathwatch_kick(a);
	return r;
}

json_t *pathwatch_status(const struct agent *a)
{
	return json_pack("{s:I,s:I,s:I,s:I}", "resyncs", (json_int_t)a->pathwatch.resyncs, "events",
			 (json_int_t)a->pathwatch.events, "events_ignored",
			 (json_int_t)a->pathwatch.events_ignored, "unfiltered_dirs",
			 (json_int_t)a->pathwatch.n_any_wds);
}
