// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policy application: which policy may replace the active one (the serial rule), putting
 * it in force with rollback, and the copy a pushed policy leaves in the state directory.
 * Reaches the kernel and the path watches only through a->ops (core.h).
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply.h"
#include "core.h"
#include "image.h"
#include "audit.h"
#include "log.h"
#include "util.h"

int apply_check_serial(const struct policy *active, const struct policy *p, bool pushed, char *err,
		       size_t errlen)
{
	if (pushed && p->serial <= active->serial) {
		snprintf(err, errlen, "serial %lld does not increase the active serial %lld",
			 (long long)p->serial, (long long)active->serial);
		return -EINVAL;
	}
	if (p->serial < active->serial) {
		snprintf(err, errlen, "serial %lld is older than the active %lld",
			 (long long)p->serial, (long long)active->serial);
		return -ESTALE;
	}
	return 0;
}

int apply_policy(struct agent *a, struct policy *p)
{
	struct policy *old = a->policy;
	int r;

	policy_select_host(p, a->fleet.labels); /* rules and grants with "hosts" */
	a->policy = p;
	a->ops.watch_paths(a);
	r = a->ops.sync_policy(a, p);
	if (!r)
		r = image_sync_all(a);
	if (r) {
		log_err("policy reload failed halfway; restoring serial %lld",
			(long long)old->serial);
		a->policy = old;
		a->ops.watch_paths(a);
		a->ops.sync_policy(a, old);
		image_sync_all(a);
		policy_free(p);
		malloc_trim(0);
		return r;
	}
	policy_free(old);
	r = grant_apply_fleet(a);
	audit_grant_changes(&a->grants);
	if (r)
		log_err("fleet grants of serial %lld not applied: %s", (long long)p->serial,
			strerror(-r));
	/* the parse tree of the policy and the old policy are freed, between what is kept: their
	 * pages back to the system (9 MB of 16 at 100,000 paths) */
	malloc_trim(0);
	return 0;
}

static char *applied_path(const struct agent *a)
{
	char *path;

	return asprintf(&path, "%s/policy.applied.json", a->state_dir) < 0 ? NULL : path;
}

int apply_pushed(struct agent *a, struct policy *p, const char *text, size_t len, char *err,
		 size_t errlen)
{
	char *path, *prev = NULL;
	size_t prev_len = 0;
	int64_t serial = p->serial;
	int r = apply_check_serial(a->policy, p, true, err, errlen);

	if (r) {
		policy_free(p);
		return r;
	}
	path = applied_path(a);
	if (!path) {
		policy_free(p);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (util_read_file(path, POLICY_MAX_FILE_SIZE, &prev, &prev_len))
		prev = NULL;
	free(p->source);
	p->source = strdup(path);
	r = util_write_atomic(path, text, len, 0600);
	if (r) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-r));
		policy_free(p);
		goto out;
	}
	r = apply_policy(a, p);
	if (r) {
		snprintf(err, errlen, "cannot put the policy in force: %s", strerror(-r));
		if (prev)
			util_write_atomic(path, prev, prev_len, 0600);
		else
			unlink(path);
		goto out;
	}
	audit_agent_event("policy_applied",
			  json_pack("{s:I,s:s}", "serial", (json_int_t)serial, "source", path));
out:
	free(prev);
	free(path);
	return r;
}

int apply_reload(struct agent *a, bool if_changed)
{
	char err[1024];
	struct policy *p = NULL;
	unsigned char dg[sizeof(p->digest)];
	int r;

	/* the watcher after an editor's save and `systemctl reload` (or a touch): the same
	 * files again would be the same work again (seconds at 100,000 paths), parsing
	 * included: their bytes are compared first */
	if (if_changed && a->policy->has_digest && !policy_digest(a->policy_path, dg) &&
	    !memcmp(dg, a->policy->digest, sizeof(dg))) {
		log_info("policy files in %s changed on disk but read the same (serial %lld): "
			 "nothing to reload",
			 a->policy_path, (long long)a->policy->serial);
		return 0;
	}
	r = policy_load(a->policy_path, &p, err, sizeof(err));
	if (r) {
		log_err("policy not reloaded: %s", err);
		audit_agent_event("policy_refused", json_pack("{s:s}", "error", err));
		return r;
	}
	r = apply_check_serial(a->policy, p, false, err, sizeof(err));
	if (r) {
		log_err("policy not reloaded: %s", err);
		policy_free(p);
		return r;
	}
	r = apply_policy(a, p);
	if (r)
		return r;
	audit_agent_event("policy_applied", json_pack("{s:I,s:s}", "serial", (json_int_t)p->serial,
						      "source", a->policy_path));
	return 0;
}

void apply_load_applied(struct agent *a)
{
	char *path = applied_path(a), err[1024];
	struct policy *p = NULL;

	if (!path)
		return;
	if (!access(path, F_OK)) {
		if (policy_load(path, &p, err, sizeof(err)))
			log_err("ignoring the applied policy: %s", err);
		else if (p->serial > a->policy->serial) {
			log_info("using the applied policy %s (serial %lld > %lld)", path,
				 (long long)p->serial, (long long)a->policy->serial);
			policy_free(a->policy);
			a->policy = p;
			p = NULL;
		}
	}
	policy_free(p);
	free(path);
}
