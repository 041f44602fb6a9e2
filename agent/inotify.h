/* SPDX-License-Identifier: GPL-2.0-only */
/* The one inotify read loop of the watchers (policy files, policy paths, exec cgroups). */
#ifndef JITD_INOTIFY_H
#define JITD_INOTIFY_H

#include <sys/inotify.h>

/* Read every event queued on the non-blocking inotify fd, calling fn(ev, ud) for each (fn
 * NULL: only drain). Returns the number of events. */
int inotify_drain(int fd, void (*fn)(const struct inotify_event *ev, void *ud), void *ud);

#endif
