// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz the state file loader: any bytes as STATE_DIR/grants.json, each entry of its
 * "grants" list through req_grant_from_state (lib/request.c), the check jitd's loader
 * (grant_store_load) makes of every entry before it enforces one. The state file is
 * untrusted input: an entry is refused with a reason or taken with every field in range,
 * never a crash, a leak or a grant wider than it says.
 */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

/* What an accepted entry must hold: a subject, a cgroup only with its id, an active
 * grant's window in order, no negative duration. */
static void check_taken(const struct grant *g)
{
	if (!g->has_uid && !g->cgroup)
		abort(); /* no subject: would be nobody's, or everybody's */
	if ((g->cgroup != NULL) != (g->cgroup_id != 0))
		abort(); /* a cgroup path without its id (or the reverse) widens the kernel key */
	if (g->state == GRANT_ACTIVE && g->starts_ns >= g->expires_ns)
		abort(); /* only an active grant is enforced: its window must be one */
	if (g->max_duration_s < 0 || g->duration_s < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *root = json_loadb((const char *)data, size, 0, NULL), *arr, *o;
	size_t i;

	if (!root)
		return 0;
	arr = json_object_get(root, "grants");
	json_array_foreach(arr, i, o) {
		struct grant g;
		char err[256] = "";

		memset(&g, 0, sizeof(g));
		for (int same_boot = 0; same_boot < 2; same_boot++) {
			int r = req_grant_from_state(o, same_boot, 1764000000000000000LL,
						     5000000000000LL, &g, err, sizeof(err));

			if (r == 0) {
				check_taken(&g);
				req_grant_clear(&g);
			} else if (r != -ENOMEM && !err[0]) {
				abort(); /* a refusal must say why */
			}
			memset(&g, 0, sizeof(g));
		}
	}
	json_decref(root);
	return 0;
}
