// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz the audit verifier: any bytes as an audit file, read line by line as
 * `jitctl audit verify` does (cli/audit_cmd.c: each line with its newline to
 * audit_verify_line, the chain state carried across lines), and each line that parses as
 * JSON also through what reads records back: audit_record_head (jitd adopting the chain of
 * its file) and audit_record_summary (jitctl audit's human view, subscribers' filters).
 * An edited audit file is exactly what the verifier is for: it must name the break, never
 * crash, leak or read out of bounds.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit_fmt.h"

/* One line as the readers of records see it. */
static void read_back(const char *line, size_t len)
{
	json_t *rec = json_loadb(line, len, 0, NULL);
	struct audit_summary s;
	struct audit_chain c;

	if (!rec)
		return;
	if (!audit_record_head(rec, &c) &&
	    (strlen(c.hash) != AUDIT_HASH_HEX || strlen(c.chain_id) > AUDIT_CHAIN_ID_HEX))
		abort();
	audit_record_summary(rec, &s);
	json_decref(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_verify v = {};
	const uint8_t *p = data, *end = data + size;
	char err[512];

	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', end - p);
		size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		/* a copy of exactly the line: an over-read is ASan's to see */
		char *line = malloc(len);
		struct audit_verify before = v;

		if (!line)
			return 0;
		memcpy(line, p, len);
		/* the CLI calls a line without newline torn and does not verify it */
		if (nl) {
			err[0] = '\0';
			if (audit_verify_line(&v, line, len, err, sizeof(err))) {
				/* a break is named, and the chain so far is kept */
				if (!err[0] || v.have != before.have || v.seq != before.seq ||
				    v.n != before.n || strcmp(v.hash, before.hash))
					abort();
			} else if (v.n != before.n + 1 || strlen(v.hash) != AUDIT_HASH_HEX) {
				abort();
			}
		}
		read_back(line, len);
		free(line);
		p += len;
	}
	return 0;
}
