/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Verifying audit files: the hash chain, the seals (with the verification key) and an
 * off-host checkpoint, reported per file and as a whole. It reads past what is broken
 * (a torn line, a gap, an edited record) and reports everything after it.
 */
#ifndef JITD_AUDIT_VERIFY_H
#define JITD_AUDIT_VERIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "audit_seal.h"

enum av_kind {
	AV_BROKEN, /* the chain or a seal proves a change: verify fails */
	AV_WARN,   /* unexplained, not a proof (e.g. epochs without a seal) */
	AV_NOTE,   /* expected and said (a torn line the chain continues across) */
};

struct av_finding {
	enum av_kind kind;
	const char *file;
	unsigned long line; /* 0: not about one line */
	char *text;
};

struct av_file {
	const char *name;
	uint64_t records, first, last;
	uint64_t last_sealed; /* highest sequence of the file a valid seal covers, 0: none */
	unsigned long torn;
	bool opened;
};

#define AV_MAX_KEYS 8

/* What the caller gives: verification keys (more than one after a re-key) and a
 * checkpoint, both optional. */
struct av_opts {
	const struct seal_vkey *keys;
	size_t n_keys;
	const struct audit_checkpoint *checkpoint;
	int64_t now_ns; /* for seals dated in the future */
};

struct av_report {
	struct av_file *files;
	size_t n_files;
	struct av_finding *findings;
	size_t n_findings;
	uint64_t records, first, last;
	char last_hash[AUDIT_HASH_HEX + 1];
	uint64_t seals, seals_checked, sealed_upto, first_epoch, last_epoch;
	int64_t last_seal_time_ns;
	bool checkpoint_found;
	unsigned broken, warnings;
};

/* Verify files in order (oldest first). Returns 0 (the report says what holds) or a
 * negative errno for a failure to run (out of memory). Files that cannot be read are
 * findings. */
int audit_verify_files(char *const *files, size_t n, const struct av_opts *o,
		       struct av_report *out);
/* The report as JSON (see README "Integrity"). */
json_t *av_report_json(const struct av_report *r, const struct av_opts *o);
void av_report_free(struct av_report *r);

#endif
