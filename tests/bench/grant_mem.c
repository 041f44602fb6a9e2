// SPDX-License-Identifier: GPL-2.0-only
/*
 * grant_mem: the agent's heap for N grants, on the host (no root, no kernel): one admin grant
 * made through the real verbs (as bench-scale makes them: one resource, a reason, a uid each),
 * copied N times into the state file, then the real store loads it. Prints the heap in use
 * (mallinfo2) and the RSS a grant adds, and what one grant holds beside its record.
 * `make bench-mem` (N: GRANT_MEM_N, 100000). Figures, not a test: nothing is judged.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grant.h"
#include "history.h"
#include "host_agent.h"
#include "request.h"
#include "util.h"

static long rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kib = atol(line + 6);
	if (f)
		fclose(f);
	return kib;
}

/* N copies of the store's one grant, each its own id and uid (bench/scale.c's "state"). */
static int fill_state(const char *path, long n)
{
	json_t *root = json_load_file(path, 0, NULL), *arr, *tmpl;
	int err = 1;

	arr = root ? json_object_get(root, "grants") : NULL;
	/* the last: the admin's grant (the policy's fleet grant came first) */
	tmpl = arr ? json_array_get(arr, json_array_size(arr) - 1) : NULL;
	if (!tmpl)
		goto out;
	json_incref(tmpl);
	json_array_clear(arr);
	for (long i = 0; i < n; i++) {
		json_t *g = json_deep_copy(tmpl);

		json_object_set_new(g, "id", json_integer(i + 1));
		json_object_set_new(g, "uid", json_integer(100000 + i));
		json_array_append_new(arr, g);
	}
	json_object_set_new(root, "next_id", json_integer(n + 1));
	json_decref(tmpl);
	err = json_dump_file(root, path, JSON_COMPACT);
out:
	json_decref(root);
	return err;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	static struct agent a;
	static const char line[] =
		"{\"op\":\"grant\",\"resource\":\"etc\",\"uid\":1000,\"duration_s\":86400,"
		"\"reason\":\"scale\"}";
	struct mallinfo2 m0, m1;
	size_t hist = 0, reason = 0, other = 0;
	char path[512];
	long r0, r1;
	int64_t t0, t1;
	json_t *r;

	if (n < 1 || host_agent_init(&a, host_policy))
		return 1;
	r = host_call(&a, 2, line, sizeof(line) - 1);
	if (!json_is_true(json_object_get(r, "ok"))) {
		fprintf(stderr, "grant_mem: the grant was refused\n");
		return 1;
	}
	json_decref(r);
	snprintf(path, sizeof(path), "%s/grants.json", a.state_dir);
	grant_store_save(&a.grants);
	grant_store_free(&a.grants);
	memset(&a.grants, 0, sizeof(a.grants));
	if (fill_state(path, n))
		return 1;
	malloc_trim(0);
	m0 = mallinfo2();
	r0 = rss_kib();
	t0 = util_now_ns(CLOCK_MONOTONIC);
	if (grant_store_load(&a.grants, a.state_dir)) {
		fprintf(stderr, "grant_mem: the store did not load\n");
		return 1;
	}
	t1 = util_now_ns(CLOCK_MONOTONIC);
	m1 = mallinfo2();
	r1 = rss_kib();
	for (size_t i = 0; i < a.grants.n; i++) {
		const struct grant *g = &a.grants.v[i];

		hist += hist_size(g->history);
		reason += g->reason ? strlen(g->reason) + 1 : 0;
		other += (g->cgroup ? strlen(g->cgroup) + 1 : 0) +
			 (g->approvers ? strlen(g->approvers) + 1 : 0) +
			 (g->fleet_key ? strlen(g->fleet_key) + 1 : 0) +
			 (g->unit ? strlen(g->unit) + 1 : 0);
	}
	printf("grants loaded: %zu (of %ld) in %.0f ms\n", a.grants.n, n, (double)(t1 - t0) / 1e6);
	printf("record: %zu B a grant (array capacity %zu)\n", sizeof(struct grant), a.grants.cap);
	printf("kept a grant: history %.1f B, reason %.1f B, other %.1f B\n",
	       (double)hist / (double)a.grants.n, (double)reason / (double)a.grants.n,
	       (double)other / (double)a.grants.n);
	printf("heap in use a grant: %.1f B (%.1f MB in all)\n",
	       (double)(m1.uordblks + m1.hblkhd - m0.uordblks - m0.hblkhd) / (double)a.grants.n,
	       (double)(m1.uordblks + m1.hblkhd - m0.uordblks - m0.hblkhd) / 1e6);
	printf("rss a grant: %.1f B (%.1f MB in all)\n",
	       (double)(r1 - r0) * 1024 / (double)a.grants.n, (double)(r1 - r0) * 1024 / 1e6);
	host_agent_free(&a);
	return 0;
}
