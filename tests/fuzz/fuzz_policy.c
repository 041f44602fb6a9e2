// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz the policy parser (lib/policy.c): any bytes as one policy file. A policy comes
 * from a file or `jitctl policy apply` that fleet tooling writes; whatever it holds, the
 * parser must return a policy or one error line, never crash, leak or read out of bounds.
 * Accepted policies also go through what jitd does with them (find, format, grant keys).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

/* What jitd does with an accepted policy: look every resource up, format every entry and
 * every grant's key (bounded output buffers). */
static void use(const struct policy *p)
{
	char buf[256];

	for (size_t i = 0; i < p->n_resources; i++) {
		const struct policy_resource *r = &p->resources[i];

		if (policy_find(p, r->name) != r)
			abort(); /* a defined resource must be found, and be itself */
		for (size_t j = 0; j < r->n_entries; j++)
			policy_entry_format(&r->entries[j], buf, sizeof(buf));
	}
	for (size_t i = 0; i < p->n_grants; i++)
		policy_grant_key(&p->grants[i], buf, sizeof(buf));
	for (size_t i = 0; i < p->n_rules; i++)
		if (p->rules[i].reason_pattern)
			regexec(&p->rules[i].reason_re, "INC-1 a reason", 0, NULL, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy *p = (struct policy *)1;
	char err[512];
	char *text;
	int r;

	if (size > POLICY_MAX_FILE_SIZE)
		return -1;
	/* a copy of exactly size bytes, no NUL: an over-read is ASan's to see */
	text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	err[0] = '\0';
	r = policy_parse("fuzz.json", text, size, &p, err, sizeof(err));
	if (r) {
		/* the contract: negative errno, no policy, one non-empty line */
		if (r > 0 || p || !err[0] || strchr(err, '\n'))
			abort();
	} else {
		if (!p)
			abort();
		use(p);
		policy_free(p);
	}
	free(text);
	return 0;
}
