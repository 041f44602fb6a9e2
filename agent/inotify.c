// SPDX-License-Identifier: GPL-2.0-only
/* The one inotify read loop of the watchers (inotify.h). */
#include <unistd.h>

#include "inotify.h"

int inotify_drain(int fd, void (*fn)(const struct inotify_event *ev, void *ud), void *ud)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;
	int count = 0;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + n; count++) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if (fn)
				fn(ev, ud);
			p += sizeof(*ev) + ev->len;
		}
	return count;
}
