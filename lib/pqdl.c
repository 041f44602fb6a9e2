// SPDX-License-Identifier: GPL-2.0-only
/* libpq loaded on first use (pqdl.h says why). */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "pqdl.h"

#define PQ_LIBRARY "libpq.so.5"

struct pq_api pq;

int pq_load(char *err, size_t errlen)
{
	static bool loaded;
	struct pq_api fns = {};
	void *h;

	if (loaded)
		return 0;
	h = dlopen(PQ_LIBRARY, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen,
			 "fleet mode needs PostgreSQL's client library: %s (on Debian: apt-get "
			 "install libpq5)",
			 dlerror());
		return -ENOENT;
	}
#define PQ_LOAD(name)                                                                              \
	if (!(*(void **)&fns.name = dlsym(h, #name))) {                                            \
		snprintf(err, errlen,                                                              \
			 "%s has no %s: not the PostgreSQL client library jitd was built for",     \
			 PQ_LIBRARY, #name);                                                       \
		dlclose(h);                                                                        \
		return -ENOENT;                                                                    \
	}
	PQ_SYMBOLS(PQ_LOAD)
#undef PQ_LOAD
	pq = fns;
	loaded = true;
	return 0;
}
