// SPDX-License-Identifier: GPL-2.0-only
/*
 * Re-resolve protected paths when they appear or are replaced. Files are
 * protected by (device, inode), so a package upgrade that renames a new binary
 * over /usr/bin/psql, or a file created after jitd started, needs a fresh
 * stat(). inotify watches the directory holding each policy path (or, while it
 * does not exist, its nearest existing ancestor); any change there schedules one
 * resync of the protected-object maps shortly after.
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
#include "image.h"
#include "inotify.h"
#include "pathwatch.h"
#include "log.h"
#include "util.h"

#define PATHWATCH_DELAY_USEC 50000ULL	    /* coalesce bursts (dpkg unpacks many files) */
#define PATHWATCH_TRIM_NS    (5 * NS_PER_S) /* at most one malloc_trim a resync this often */
#define PATHWATCH_MASK                                                                             \
	(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF |     \
	 IN_ONLYDIR)

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

/* Watch the directories of every exec/open path of the policy (replacing old watches). */
static int pathwatch_rearm(struct agent *a)
{
	char dir[PATH_MAX];
	int fd;

	/* A fresh inotify instance drops every old watch in one go. */
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < a->policy->n_resources; i++) {
		const struct policy_resource *r = &a->policy->resources[i];

		for (size_t j = 0; j < r->n_entries; j++) {
			if (r->entries[j].kind == POLICY_CONNECT ||
			    watch_dir_of(r->entries[j].path, dir, sizeof(dir)))
				continue;
			if (inotify_add_watch(fd, dir, PATHWATCH_MASK) < 0)
				log_warn("cannot watch %s for %s: %s", dir, r->entries[j].path,
					 strerror(errno));
		}
	}
	a->pathwatch.io_src = sd_event_source_disable_unref(a->pathwatch.io_src);
	if (a->pathwatch.has_fd)
		close(a->pathwatch.ino_fd);
	a->pathwatch.ino_fd = fd;
	a->pathwatch.has_fd = true;
	return 0;
}

static int on_resync(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct agent *a = userdata;
	int64_t now;

	/* Watch first, then stat: a change in between triggers another resync. */
	pathwatch_update(a);
	/* Failures are logged by kern_sync_policy; the next change retries. */
	if (a->ops.sync_policy(a, a->policy))
		return 0;
	image_sync_all(a);
	/* the index of the policy's paths was made again: the old one's pages back (4 MB at
	 * 100,000 paths), once in a while when a watched directory churns */
	now = util_now_ns(CLOCK_MONOTONIC);
	if (!a->pathwatch.trimmed_ns || now - a->pathwatch.trimmed_ns >= PATHWATCH_TRIM_NS) {
		malloc_trim(0);
		a->pathwatch.trimmed_ns = now;
	}
	return 0;
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	inotify_drain(fd, NULL, NULL); /* what changed does not matter: all is re-resolved */
	pathwatch_kick(userdata);
	return 0;
}

/* Schedule a re-resolution of the policy's paths (after a reload or at start-up). An
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

/* (Re)start watching the current policy's paths. Returns 0 or negative errno. */
int pathwatch_update(struct agent *a)
{
	int r;

	if (!a->pathwatch.resync_src) {
		r = sd_event_add_time_relative(a->event, &a->pathwatch.resync_src, CLOCK_MONOTONIC,
					       PATHWATCH_DELAY_USEC, 0, on_resync, a);
		if (r < 0)
			return r;
		sd_event_source_set_enabled(a->pathwatch.resync_src, SD_EVENT_OFF);
		sd_event_source_set_description(a->pathwatch.resync_src, "path-resync");
	}
	r = pathwatch_rearm(a);
	if (r < 0)
		return r;
	r = sd_event_add_io(a->event, &a->pathwatch.io_src, a->pathwatch.ino_fd, EPOLLIN,
			    on_inotify, a);
	if (r >= 0)
		sd_event_source_set_description(a->pathwatch.io_src, "path-watch");
	return r < 0 ? r : 0;
}
