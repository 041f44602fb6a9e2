/* SPDX-License-Identifier: GPL-2.0-only */
/* The policy parser's position-keeping helpers, lent by policy.c to the parsers of its
 * newer sections (policy_workflow.c) as pointers, so that the calls run one way. */
#ifndef JITD_POLICY_INT_H
#define JITD_POLICY_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <jansson.h>

#include "policy.h"

/* A name of the policy (resource, notification target): [A-Za-z0-9._-]{1,63}. */
static inline bool policy_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= POLICY_MAX_NAME)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

struct pctx; /* policy.c: where in which file the parser is, for error positions */

struct pctx_ops {
	void (*push_key)(struct pctx *c, const char *key); /* key must outlive the parse */
	void (*push_idx)(struct pctx *c, size_t idx);
	void (*pop)(struct pctx *c);
	/* "FILE:LINE:COLUMN: PATH: message" about the value (at_key: the key) here: -EINVAL */
	int (*err)(struct pctx *c, bool at_key, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
	int (*check_keys)(struct pctx *c, json_t *obj, const char *const *allowed);
	int (*duration)(struct pctx *c, json_t *v, int64_t *out); /* 1 s .. 366 d */
	const char *(*type_name)(const json_t *v);
};

/* Parse the top-level "notify" array of root (if any) into p->notify. 0 or negative errno
 * (the error said through o->err). */
int policy_notify_parse(struct pctx *c, const struct pctx_ops *o, json_t *root, struct policy *p);
/* Free n targets. */
void policy_notify_free(struct policy_notify *v, size_t n);

#endif
