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

/* Whether an event can change what a policy path resolves to: a change to one of its
 * names or of its symlinks' targets (chase), the watched directory itself gone or moved,
 * or events lost; a name beyond ASCII (no case folding here); any event in a directory
 * where a symlink could not be followed; any event while the watches or the last
 * resolution failed. */
static bool event_matters(const struct pathwatch *w, const struct inotify_event *ev)
{
	uint32_t h;
	size_t len;

	if (ev->mask & (IN_Q_OVERFLOW | IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF) || !ev->len ||
	    w->unfiltered || bsearch(&ev->wd, w->any_wds, w->n_any_wds, sizeof(int), cmp_int))
		return true;
	len = strnlen(ev->name, ev->len);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)ev->name[i] >= 0x80) /* case folded beyond ASCII: compared */
			return true;
	h = name_hash(ev->name, len);
	return bsearch(&h, w->names, w->n_names, sizeof(h), cmp_u32) != NULL;
}

#define PATHWATCH_MAX_LINKS 40 /* symlinks followed for one policy path (the kernel's limit) */
#define PATHWATCH_CHASE_LSTATS                                                                     \
	4096 /* lstat calls following one policy path's symlinks may                               \
	      * make (targets of ./././... would make it quadratic) */

/* What a rearm builds: the new instance, the hashes of every name that matters, the
 * watches where every event does, and the directories found free of symlinks. */
struct rearm {
	int fd, err;
	uint32_t *names;
	size_t n_names, cap_names;
	int *wds;
	size_t n_wds, cap_wds;
	uint64_t *clean; /* open addressing, 0 empty: hashes of directories with no symlink on
			  * their way (64 bits: a collision would skip one check) */
	size_t n_clean, cap_clean;
};

/* Room for one more of size sz in *v (n used of *cap). false: no memory (rb->err set). */
static bool room(struct rearm *rb, void **v, size_t n, size_t *cap, size_t sz)
{
	size_t c = *cap ? 2 * *cap : 256;
	void *nv;

	if (n < *cap)
		return true;
	nv = realloc(*v, c * sz);
	if (!nv) {
		rb->err = -ENOMEM;
		return false;
	}
	*v = nv;
	*cap = c;
	return true;
}

static void add_name(struct rearm *rb, const char *name, size_t len)
{
	if (room(rb, (void **)&rb->names, rb->n_names, &rb->cap_names, sizeof(*rb->names)))
		rb->names[rb->n_names++] = name_hash(name, len);
}

/* Every name on the way to path (its components). */
static void add_names(struct rearm *rb, const char *path)
{
	for (const char *p = path, *end; *p; p = end) {
		while (*p == '/')
			p++;
		end = strchrnul(p, '/');
		if (end > p)
			add_name(rb, p, (size_t)(end - p));
	}
}

static uint64_t hash64(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h ? h : 1;
}

static bool clean_has(const struct rearm *rb, uint64_t h)
{
	if (!rb->cap_clean)
		return false;
	for (size_t i = h & (rb->cap_clean - 1); rb->clean[i]; i = (i + 1) & (rb->cap_clean - 1))
		if (rb->clean[i] == h)
			return true;
	return false;
}

static void clean_insert(uint64_t *v, size_t cap, uint64_t h)
{
	size_t k = h & (cap - 1);

	while (v[k])
		k = (k + 1) & (cap - 1);
	v[k] = h;
}

/* Remember a directory free of symlinks (out of memory: it is checked again, no more). */
static void clean_put(struct rearm *rb, uint64_t h)
{
	if (2 * (rb->n_clean + 1) > rb->cap_clean) {
		size_t cap = rb->cap_clean ? 2 * rb->cap_clean : 1024;
		uint64_t *v = calloc(cap, sizeof(*v));

		if (!v)
			return;
		for (size_t i = 0; i < rb->cap_clean; i++)
			if (rb->clean[i])
				clean_insert(v, cap, rb->clean[i]);
		free(rb->clean);
		rb->clean = v;
		rb->cap_clean = cap;
	}
	clean_insert(rb->clean, rb->cap_clean, h);
	rb->n_clean++;
}

/* Does resolving path meet a symlink (itself, or a directory on its way, dangling or not)?
 * Directories found free of them are remembered: 100,000 paths in a few directories cost
 * one lstat each, not one per component. */
static bool link_on_way(struct rearm *rb, const char *path)
{
	char dir[PATH_MAX];
	struct stat st;

	for (size_t i = 1; path[i]; i++) {
		uint64_t h;

		if (path[i] != '/')
			continue;
		h = hash64(path, i);
		if (clean_has(rb, h))
			continue;
		if (i >= sizeof(dir))
			return true; /* not checked here: chase says what it can */
		memcpy(dir, path, i);
		dir[i] = 0;
		if (lstat(dir, &st))
			return false; /* missing: nothing below it resolves yet (its name matters)
				       */
		if (S_ISLNK(st.st_mode))
			return true;
		clean_put(rb, h);
	}
	return !lstat(path, &st) && S_ISLNK(st.st_mode);
}

/* The directory to watch for path: its parent, or the nearest existing ancestor. */
static int watch_dir_of(const char *path, char *dir, size_t len)
{
	struct stat st;
	char *slash;

	snprintf(dir, len, "%s", path);
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
	}
}

/* Watch dir (for the policy path path); every event there matters when all. */
static void watch_dir(struct rearm *rb, const char *dir, const char *path, bool all)
{
	int wd = inotify_add_watch(rb->fd, dir, PATHWATCH_MASK);

	if (wd < 0)
		log_warn("cannot watch %s for %s: %s", dir, path, strerror(errno));
	else if (all && room(rb, (void **)&rb->wds, rb->n_wds, &rb->cap_wds, sizeof(*rb->wds)))
		rb->wds[rb->n_wds++] = wd;
}

/* Watch what target resolves to by its names: its parent or nearest existing ancestor. */
static void watch_by_names(struct rearm *rb, const char *target, const char *path)
{
	char dir[PATH_MAX];

	add_names(rb, target);
	if (!watch_dir_of(target, dir, sizeof(dir)))
		watch_dir(rb, dir, path, false);
}

/* The length of the first prefix of path that is a symlink; 0: none (or it is missing);
 * SIZE_MAX: *budget of lstat calls spent first. */
static size_t first_link(const char *path, unsigned *budget)
{
	char q[PATH_MAX];
	struct stat st;

	for (size_t i = 1;; i++) {
		if (path[i] && path[i] != '/')
			continue;
		if (i >= sizeof(q))
			return 0;
		if (!*budget)
			return SIZE_MAX;
		--*budget;
		memcpy(q, path, i);
		q[i] = 0;
		if (lstat(q, &st))
			return 0;
		if (S_ISLNK(st.st_mode))
			return i;
		if (!path[i])
			return 0;
	}
}

/*
 * Follow the symlinks of a policy path as the kernel would, one at a time: the directory
 * holding each is watched and every name of each target matters (python3 -> python3.11 in
 * the same directory, /usr/bin/java -> /etc/alternatives/java -> /usr/lib/jvm/..., a
 * release directory swapped under a 'current' link, a target beside another policy path).
 * Watched before read, as everywhere here: a link retargeted meanwhile is reported. What
 * cannot be followed (a loop, a name too long, a link changing meanwhile, too much work):
 * every event in the last directory reached matters.
 */
static void chase(struct rearm *rb, const char *path)
{
	char cur[PATH_MAX], link[PATH_MAX], t[PATH_MAX], next[PATH_MAX], dir[PATH_MAX];
	unsigned budget = PATHWATCH_CHASE_LSTATS;

	snprintf(cur, sizeof(cur), "%s", path);
	for (int links = 0;; links++) {
		size_t at;
		ssize_t n;

		watch_by_names(rb, cur, path);
		at = first_link(cur, &budget);
		if (!at)
			return;
		if (at == SIZE_MAX) {
			if (!watch_dir_of(cur, dir, sizeof(dir)))
				watch_dir(rb, dir, path, true);
			return;
		}
		snprintf(link, sizeof(link), "%.*s", (int)at, cur);
		snprintf(dir, sizeof(dir), "%s", link);
		if (strrchr(dir, '/'))
			*strrchr(dir, '/') = 0;
		if (!*dir)
			strcpy(dir, "/");
		watch_dir(rb, dir, path, false); /* the link's own name is one of cur's */
		n = readlink(link, t, sizeof(t) - 1);
		if (n <= 0 || links == PATHWATCH_MAX_LINKS) {
			watch_dir(rb, dir, path, true);
			return;
		}
		t[n] = 0;
		if ((size_t)snprintf(next, sizeof(next), "%s%s%s%s", t[0] == '/' ? "" : dir,
				     t[0] == '/' || !strcmp(dir, "/") ? "" : "/", t,
				     cur + at) >= sizeof(next)) {
			watch_dir(rb, dir, path, true);
			return;
		}
		add_names(rb, next);
		memcpy(cur, next, sizeof(cur));
	}
}

/* Watch what one exec/open path of the policy depends on. */
static void watch_path(struct rearm *rb, const char *path)
{
	watch_by_names(rb, path, path);
	if (link_on_way(rb, path))
		chase(rb, path);
}

/* Watch the directories of every exec/open path of the policy (replacing old watches). */
static int pathwatch_rearm(struct agent *a)
{
	struct rearm rb = {.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)};
	size_t k = 0;

	if (rb.fd < 0)
		return -errno;
	for (size_t i = 0; i < a->policy->n_resources && !rb.err; i++) {
		const struct policy_resource *r = &a->policy->resources[i];

		for (size_t j = 0; j < r->n_entries && !rb.err; j++)
			if (r->entries[j].kind != POLICY_CONNECT)
				watch_path(&rb, r->entries[j].path);
	}
	free(rb.clean);
	if (rb.err) {
		close(rb.fd);
		free(rb.names);
		free(rb.wds);
		return rb.err;
	}
	qsort(rb.names, rb.n_names, sizeof(*rb.names), cmp_u32);
	for (size_t i = 0; i < rb.n_names; i++)
		if (!k || rb.names[k - 1] != rb.names[i])
			rb.names[k++] = rb.names[i];
	qsort(rb.wds, rb.n_wds, sizeof(*rb.wds), cmp_int);
	free(a->pathwatch.any_wds);
	a->pathwatch.any_wds = rb.wds;
	a->pathwatch.n_any_wds = rb.n_wds;
	a->pathwatch.io_src = sd_event_source_disable_unref(a->pathwatch.io_src);
	if (a->pathwatch.has_fd)
		close(a->pathwatch.ino_fd);
	a->pathwatch.ino_fd = rb.fd;
	a->pathwatch.has_fd = true;
	free(a->pathwatch.names);
	a->pathwatch.names = rb.names;
	a->pathwatch.n_names = k;
	return 0;
}

static int on_resync(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct agent *a = userdata;
	bool watched, synced;
	int64_t now;
	int r;

	/* Watch first, then stat: a change in between triggers another resync. Until both
	 * succeed, any event triggers one (a failure is logged by what failed). The grants'
	 * keys name resources, not inodes: they stay as they are. */
	a->pathwatch.resyncs++;
	r = pathwatch_update(a);
	watched = r >= 0;
	if (!watched)
		log_warn("cannot watch the policy's paths again: %s (every change a watch still "
			 "sees resyncs; the next reload retries)",
			 strerror(-r));
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
