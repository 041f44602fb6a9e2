/* SPDX-License-Identifier: GPL-2.0-only */
/* What a request would do and why (dry-run, approvers, policy explain): pure logic on the
 * policy and lib/request.c, unit-tested on the host. */
#ifndef JITD_EXPLAIN_H
#define JITD_EXPLAIN_H

#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "policy.h"
#include "request.h"

/* Rule r as dry-run and approvers replies show it: {"index","resources","approvals",
 * "max_duration_s","reason"[,"reason_pattern"]}. */
json_t *explain_rule(const struct policy *p, const struct policy_rule *r);
/* Who can act on a request under r by requester: {"principals":[...],"users":[{"uid",
 * "user"}]} (req_approver_users). NULL when out of memory. */
json_t *explain_approvers(const struct policy_rule *r, uid_t requester);
/*
 * The reply to a request with "dry_run": the rule choice and checks of a real request
 * (req_find_rule, req_check) and nothing else. {"ok":true,"dry_run":true,"would":
 * "active"|"pending"|"refused"[,"rule","approvals","approvers","duration_ok","reason_ok"]
 * [,"error","errno"]}: a refusal carries the error and errno a real request would get.
 */
json_t *explain_dry_run(const struct policy *p, uid_t uid, char res[][POLICY_MAX_NAME], unsigned n,
			int64_t duration_s, const char *reason);
/* The approvers reply for uid (named user) under rule r: {"ok":true,"user","uid","rule",
 * "approvals","approvers"}. */
json_t *explain_approvers_reply(const struct policy *p, const struct policy_rule *r, uid_t uid,
				const char *user);
/*
 * Could uid (named user) reach res, and how: {"user","uid","resources","exempt","admin",
 * "holds","answer","rules":[...]}. holds: ids of uid's active grants of any of res (taken
 * over; NULL for none). Each rule naming one of res is listed with "here", "requester",
 * "covers", "chosen" and, when not chosen, "why_not". NULL when out of memory.
 */
json_t *explain_build(const struct policy *p, uid_t uid, const char *user,
		      char res[][POLICY_MAX_NAME], unsigned n, json_t *holds);

#endif
