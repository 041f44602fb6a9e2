// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz the audit verifier: any bytes as an audit file, read line by line as
 * `jitctl audit verify` does (cli/audit_cmd.c: each line with its newline to
 * audit_verify_line, the chain state carried across lines), and each line that parses as
 * JSON also through what reads records back: audit_record_head (jitd adopting the chain of
 * its file) and audit_record_summary (jitctl audit's human view, subscribers' filters).
 * Then the whole input as one file through audit_verify_files with a verification key and
 * a checkpoint (`jitctl audit verify --key --since-checkpoint`), and its JSON report.
 * An edited audit file is exactly what the verifier is for: it must name the break, never
 * crash, leak or read out of bounds.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "audit_fmt.h"
#include "audit_verify.h"
#include "util.h"

#define VKEY "jitd1-00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff-1790000000-900"
#define CHECKPOINT                                                                                 \
	"jitd-checkpoint1-0123456789abcdef0123-3-"                                                 \
	"0000000000000000000000000000000000000000000000000000000000000000-1-"                      \
	"1111111111111111111111111111111111111111111111111111111111111111"

/* The input as one file, verified with a key and a checkpoint. */
static void verify_whole(const uint8_t *data, size_t size)
{
	static struct seal_vkey key;
	static struct audit_checkpoint cp;
	struct av_opts o = {.keys = &key, .n_keys = 1, .checkpoint = &cp};
	int fd = memfd_create("audit", MFD_CLOEXEC);
	char path[64], *files[] = {path};
	struct av_report r;

	if (!key.interval_s &&
	    (seal_vkey_parse(VKEY, &key) || seal_checkpoint_parse(CHECKPOINT, &cp)))
		abort();
	o.now_ns = 1800000000LL * NS_PER_S; /* epochs up to ~11,000 have begun */
	if (fd < 0)
		return;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (!audit_verify_files(files, 1, &o, &r)) {
		json_t *j = av_report_json(&r, &o);

		if (!j || r.broken + r.warnings > r.n_findings || r.seals_checked > r.seals)
			abort();
		json_decref(j);
		av_report_free(&r);
	}
	close(fd);
}

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
	verify_whole(data, size);
	return 0;
}
