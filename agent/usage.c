// SPDX-License-Identifier: GPL-2.0-only
/*
 * Usage per grant. The kernel counts each allowed, recorded access in the grant's
 * jitd_grant_use entry (bpf/jitd.bpf.c, count_use): first and last use on the boot clock,
 * and the number of uses. jitd makes the entry before the grant's first key (image.c),
 * reads it here into the store (realtime), and deletes it once the grant ended and its
 * last count was read. While a grant is active the pinned map is the truth (adopted by a
 * restarted jitd); after a reboot the entry starts again from the saved count.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "core.h"
#include "log.h"
#include "usage.h"
#include "util.h"

void usage_entry(const struct grant *g, struct jitd_grant_use *u)
{
	memset(u, 0, sizeof(*u));
	u->uses_base = g->uses;
	if (g->max_idle_s) {
		/* idle from its start, or from its last use in an earlier boot when that is
		 * later (before this boot: 0, so a grant idle across a reboot ends at once) */
		uint64_t last = g->last_use_ns ? util_real_to_boot(g->last_use_ns,
								   util_now_ns(CLOCK_REALTIME),
								   util_now_ns(CLOCK_BOOTTIME))
					       : 0;

		u->flags = JITD_USE_IDLE;
		u->idle_ns = (uint64_t)g->max_idle_s * NS_PER_S;
		u->idle_from_ns = last > g->starts_boot ? last : g->starts_boot;
	}
	/* unused first-use grant: the kernel starts its clock at the first use it allows */
	if (g->from_first_use && g->first_by_ns) {
		u->flags |= JITD_USE_FIRST_USE;
		u->first_by_ns = g->first_by_boot;
		u->use_for_ns = (uint64_t)g->duration_s * NS_PER_S;
	}
}

/* Realtime of a boot-clock instant of this boot, as the clocks read now. */
static int64_t boot_to_real(uint64_t boot_ns)
{
	int64_t real = util_now_ns(CLOCK_REALTIME), boot = util_now_ns(CLOCK_BOOTTIME);

	return real - (boot - (int64_t)boot_ns);
}

int usage_read(struct agent *a, struct grant *g)
{
	struct jitd_grant_use u;
	int r;

	if (!a->ops.get_use)
		return -ENOENT;
	r = a->ops.get_use(a, g->id, &u);
	if (r)
		return r;
	if (u.flags & JITD_USE_IDLE)
		g->idle_until_boot = (u.last_ns ?: u.idle_from_ns) + u.idle_ns;
	/* the count only grows: a lower one is an entry made again (--unload, reboot) */
	if (u.uses_base + u.uses > g->uses)
		g->uses = u.uses_base + u.uses;
	/* the first use of all boots is kept; the kernel's is this boot's */
	if (u.first_ns)
		g->first_use_boot = u.first_ns;
	if (u.first_ns && !g->first_use_ns)
		g->first_use_ns = boot_to_real(u.first_ns);
	if (u.last_ns) {
		int64_t last = boot_to_real(u.last_ns);

		/* never before the first (the two conversions differ by the clocks' drift) */
		if (last < g->first_use_ns)
			last = g->first_use_ns;
		if (last > g->last_use_ns)
			g->last_use_ns = last;
	}
	return 0;
}

void usage_refresh(struct agent *a)
{
	for (size_t i = 0; i < a->grants.n; i++) {
		struct grant *g = &a->grants.v[i];
		int r;

		if (g->state != GRANT_ACTIVE)
			continue;
		r = usage_read(a, g);
		if (r && r != -ENOENT)
			log_warn("grant %llu: cannot read its usage: %s", (unsigned long long)g->id,
				 strerror(-r));
	}
}
