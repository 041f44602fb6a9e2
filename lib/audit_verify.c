// SPDX-License-Identifier: GPL-2.0-only
/*
 * Verifying audit files. Each record's own hash is checked, then its link to the record
 * before (sequence + 1, prev_hash); a break is reported and verification goes on from the
 * next record, so one edit does not hide what comes after it. A seal record (event
 * "sealed") is checked with the verification key: its tag proves the chain head it names,
 * and with it every record of the unbroken run of links before it. Epochs in which no seal
 * was written, after a seal that was not jitd's last (final), are reported: a crash looks
 * like that, and so does a rewrite by someone holding a later key.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "audit_verify.h"
#include "util.h"

struct vstate {
	const struct av_opts *o;
	struct av_report *r;
	size_t fi;		       /* the file being read */
	unsigned long line;	       /* its line number */
	bool any, have;		       /* a record seen; the last one can be linked to */
	uint64_t seq;		       /* the last record's sequence */
	char hash[AUDIT_HASH_HEX + 1]; /* its hash */
	char chain_id[AUDIT_CHAIN_ID_HEX + 1];
	uint64_t seg_start; /* first sequence of the unbroken run ending at the last record */
	/* the last seal (valid, when keys are given), or a seal_started record: the start of
	 * a key, as if it were a seal of its epoch 0 (started) */
	bool have_seal, seal_final, started;
	uint64_t seal_epoch, seal_seq;
	char seal_key_id[SEAL_KEY_ID_HEX + 1];
	const struct seal_vkey *seal_key; /* the key of the last valid seal, or NULL */
	int64_t tail_time_ms;		  /* newest record time after the last valid seal */
	/* each key's ratchet, at the last checked epoch */
	struct seal_key k[AV_MAX_KEYS];
	bool have_k[AV_MAX_KEYS];
};

static void finding(struct vstate *s, enum av_kind kind, bool at_line, const char *fmt, ...)
{
	struct av_report *r = s->r;
	struct av_finding *n;
	va_list ap;
	char *text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	n = realloc(r->findings, (r->n_findings + 1) * sizeof(*n));
	if (!n || !text) {
		free(text);
		return;
	}
	r->findings = n;
	n[r->n_findings++] = (struct av_finding){
		.kind = kind,
		.file = s->fi < r->n_files ? r->files[s->fi].name : NULL,
		.line = at_line ? s->line : 0,
		.text = text,
	};
	if (kind == AV_BROKEN)
		r->broken++;
	else if (kind == AV_WARN)
		r->warnings++;
}

/* The records of the files up to the current one in [from, to] are sealed. */
static void mark_sealed(struct vstate *s, uint64_t from, uint64_t to)
{
	for (size_t i = 0; i <= s->fi && i < s->r->n_files; i++) {
		struct av_file *f = &s->r->files[i];

		if (f->records && f->last >= from && f->first <= to) {
			uint64_t hi = f->last < to ? f->last : to;

			if (hi > f->last_sealed)
				f->last_sealed = hi;
		}
	}
	s->r->sealed_upto = to;
}

/* Epochs a seal may claim: not past the current one (one of slack for clocks). */
static bool epoch_plausible(struct vstate *s, const struct seal_vkey *k, uint64_t epoch)
{
	return epoch <= seal_epoch_at(k->start_s, k->interval_s, s->o->now_ns) + 1;
}

/* Epochs a key skipped between the seal before (or its seal_started record) and si. */
static void seal_gap(struct vstate *s, const struct seal_vkey *k, const struct seal_info *si)
{
	char a[40], b[40];

	finding(s, AV_WARN, true,
		"no seal for epochs %llu to %llu (%s to %s) after %s at sequence %llu: %s, or the "
		"records after sequence %llu were rewritten by someone holding a later key "
		"(sequences %llu to %llu are sealed only by this seal)",
		(unsigned long long)s->seal_epoch + 1, (unsigned long long)si->epoch - 1,
		util_format_time(seal_epoch_start_ns(k->start_s, k->interval_s, s->seal_epoch + 1),
				 a, sizeof(a)),
		util_format_time(seal_epoch_start_ns(k->start_s, k->interval_s, si->epoch), b,
				 sizeof(b)),
		s->started ? "the key's seal_started record" : "the seal",
		(unsigned long long)s->seal_seq,
		s->seal_final ? "jitd was not running then (it stopped with a final seal)"
			      : "jitd was not running then (a crash, power loss or kill -9)",
		(unsigned long long)s->seal_seq, (unsigned long long)s->seal_seq + 1,
		(unsigned long long)si->sealed_seq);
}

/*
 * A seal's place among the seals of its key: the epoch after the one before (jitd seals
 * each epoch it runs in), or its key's first seal right after the key's seal_started
 * record. A key's first seal without that record, in files that hold the chain's start,
 * is what removing every earlier seal looks like.
 */
static void seal_continuity(struct vstate *s, const struct seal_vkey *k, const struct seal_info *si)
{
	bool same = s->have_seal && !strcmp(s->seal_key_id, si->key_id);

	if (same && si->epoch > s->seal_epoch + 1)
		seal_gap(s, k, si);
	else if (!same && s->have_seal)
		finding(s, AV_WARN, true,
			"the seals change from key %s to key %s without a seal_started record of "
			"the new key",
			s->seal_key_id, si->key_id);
	else if (!same && s->r->first == 1)
		finding(s, AV_WARN, true,
			"the first seal (key %s, epoch %llu) has no seal_started record before it, "
			"though these files begin with the chain: seals removed?",
			si->key_id, (unsigned long long)si->epoch);
	else if (!same)
		finding(s, AV_NOTE, true,
			"the first seal here is of epoch %llu: the key's earlier seals are in "
			"older "
			"files",
			(unsigned long long)si->epoch);
}

/* A seal that checked out: its place among the seals, and what it proves. */
static void seal_valid(struct vstate *s, const struct seal_vkey *k, const struct seal_info *si)
{
	seal_continuity(s, k, si);
	if (!s->r->seals_checked++)
		s->r->first_epoch = si->epoch;
	s->r->last_epoch = si->epoch;
	s->r->last_seal_time_ns = seal_epoch_start_ns(k->start_s, k->interval_s, si->epoch);
	s->seal_key = k;
	s->tail_time_ms = 0;
	mark_sealed(s, s->seg_start, si->sealed_seq + 1);
}

/* A seal_started record (seal-init): its key's seals begin here, at epoch 0. */
static void on_seal_started(struct vstate *s, const struct audit_rec_info *ri)
{
	const char *id = json_string_value(json_object_get(ri->fields, "key_id"));

	if (!id || strlen(id) != SEAL_KEY_ID_HEX)
		return;
	s->have_seal = s->started = true;
	s->seal_final = false;
	s->seal_epoch = 0;
	s->seal_seq = ri->seq;
	snprintf(s->seal_key_id, sizeof(s->seal_key_id), "%s", id);
}

/* Check a seal's tag with the key of its key id. Returns the key, or NULL (said). */
static const struct seal_vkey *seal_check(struct vstate *s, const struct audit_rec_info *ri,
					  const struct seal_info *si)
{
	char tag[SEAL_TAG_HEX + 1];
	size_t i;

	for (i = 0; i < s->o->n_keys && strcmp(si->key_id, s->o->keys[i].key_id); i++)
		;
	if (i == s->o->n_keys) {
		finding(s, AV_BROKEN, true,
			"sequence %llu: sealed with another key (key id %s; the key%s given: %s%s)",
			(unsigned long long)ri->seq, si->key_id, s->o->n_keys > 1 ? "s" : "",
			s->o->keys[0].key_id, s->o->n_keys > 1 ? ", ..." : "");
		return NULL;
	}
	if (!epoch_plausible(s, &s->o->keys[i], si->epoch)) {
		finding(s, AV_BROKEN, true,
			"sequence %llu: seal of epoch %llu, which has not begun: forged",
			(unsigned long long)ri->seq, (unsigned long long)si->epoch);
		return NULL;
	}
	if (s->have_k[i] && s->k[i].epoch > si->epoch) {
		/* never wound back: each rewind would cost up to the current epoch's HMACs */
		finding(s, AV_BROKEN, true,
			"sequence %llu: seal of epoch %llu after a seal of epoch %llu of the same "
			"key "
			"(seals reordered or forged)",
			(unsigned long long)ri->seq, (unsigned long long)si->epoch,
			(unsigned long long)s->k[i].epoch);
		return NULL;
	}
	if (!s->have_k[i])
		seal_key_of_vkey(&s->o->keys[i], &s->k[i]);
	s->have_k[i] = true;
	seal_evolve(&s->k[i], si->epoch);
	seal_tag(&s->k[i], si, tag);
	if (CRYPTO_memcmp(tag, si->tag, SEAL_TAG_HEX)) {
		finding(s, AV_BROKEN, true,
			"sequence %llu: the seal (epoch %llu) does not match: records before it "
			"were changed, or the seal was forged",
			(unsigned long long)ri->seq, (unsigned long long)si->epoch);
		return NULL;
	}
	return &s->o->keys[i];
}

/* A seal record at sequence seq (its own hash and link already checked). */
static void on_seal(struct vstate *s, const struct audit_rec_info *ri)
{
	const struct seal_vkey *key = NULL;
	struct seal_info si;

	if (seal_info_of_fields(ri->fields, &si)) {
		finding(s, AV_BROKEN, true,
			"sequence %llu: a seal record without valid seal fields",
			(unsigned long long)ri->seq);
		return;
	}
	memcpy(si.chain_id, ri->chain_id, sizeof(si.chain_id));
	s->r->seals++;
	if (si.sealed_seq + 1 != ri->seq || strcmp(si.head_hash, ri->prev)) {
		finding(s, AV_BROKEN, true,
			"sequence %llu: the seal does not name the record before it",
			(unsigned long long)ri->seq);
		return;
	}
	if (s->have_seal && !strcmp(si.key_id, s->seal_key_id) && si.epoch < s->seal_epoch) {
		finding(s, AV_BROKEN, true,
			"sequence %llu: seal of epoch %llu after one of epoch %llu (seals "
			"reordered "
			"or forged)",
			(unsigned long long)ri->seq, (unsigned long long)si.epoch,
			(unsigned long long)s->seal_epoch);
		return;
	}
	if (s->o->n_keys) {
		key = seal_check(s, ri, &si);
		if (!key)
			return;
		seal_valid(s, key, &si);
	}
	s->have_seal = true;
	s->started = false;
	s->seal_epoch = si.epoch;
	s->seal_final = si.final;
	s->seal_seq = ri->seq;
	memcpy(s->seal_key_id, si.key_id, sizeof(s->seal_key_id));
}

/* Link record ri to the one before; on a break, a new run starts at ri. */
static void link(struct vstate *s, const struct audit_rec_info *ri)
{
	unsigned long long q = ri->seq, p = s->seq;
	bool new_chain = s->any && q == 1 && strcmp(ri->chain_id, s->chain_id);

	if (!s->any || new_chain) {
		if (new_chain)
			finding(s, AV_WARN, true,
				"a new chain (id %s) starts here: jitd started without the head of "
				"the previous one (its state directory lost), or the records "
				"before "
				"were replaced",
				ri->chain_id);
		else if (q != 1)
			finding(s, AV_NOTE, true,
				"the chain starts at sequence %llu: records 1 to %llu are not in "
				"these files (rotated away, or removed)",
				q, q - 1);
		s->seg_start = q;
		return;
	}
	if (q > p + 1)
		finding(s, AV_BROKEN, true,
			"records %llu to %llu are missing (deleted, or the file was cut)", p + 1,
			q - 1);
	else if (q <= p)
		finding(s, AV_BROKEN, true,
			"sequence %llu follows %llu: records out of order (reordered or "
			"duplicated)",
			q, p);
	else if (s->have && strcmp(ri->prev, s->hash))
		finding(s, AV_BROKEN, true,
			"sequence %llu: prev_hash does not match the previous record's hash (a "
			"record was replaced or inserted)",
			q);
	else if (s->have)
		return; /* linked */
	s->seg_start = q;
}

static void on_checkpoint(struct vstate *s, const struct audit_rec_info *ri)
{
	const struct audit_checkpoint *cp = s->o->checkpoint;

	if (!cp || ri->seq != cp->seq || strcmp(ri->chain_id, cp->chain_id))
		return;
	s->r->checkpoint_found = true;
	if (strcmp(ri->hash, cp->hash))
		finding(s, AV_BROKEN, true,
			"sequence %llu differs from the checkpoint's record (hash %.12s..., the "
			"checkpoint says %.12s...)",
			(unsigned long long)ri->seq, ri->hash, cp->hash);
}

/* A line that is the start of a record, cut (without its newline, the text just stops). */
static bool is_torn(const char *line, size_t len)
{
	json_error_t je;
	json_t *rec = json_loadb(line, len - 1, JSON_REJECT_DUPLICATES, &je);

	json_decref(rec);
	return !rec && json_error_code(&je) == json_error_premature_end_of_input;
}

/* One line of a file. */
static void on_line(struct vstate *s, const char *line, size_t len)
{
	struct av_file *f = &s->r->files[s->fi];
	struct audit_rec_info ri = {};
	char err[512];
	json_error_t je;
	json_t *rec = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);

	/* without its newline (jitd ends a torn line at start), the text just stops */
	if (!rec && is_torn(line, len)) {
		/* the start of a record whose write a crash cut: never part of the chain */
		f->torn++;
		finding(s, AV_NOTE, true,
			"a torn record (a write cut by a crash): skipped; the chain is checked "
			"across it");
		return;
	}
	if (!json_is_object(rec)) {
		finding(s, AV_BROKEN, true, "not a record of jitd's (%s)",
			rec ? "not a JSON object" : je.text);
		json_decref(rec);
		return;
	}
	if (audit_record_check(rec, &ri, err, sizeof(err))) {
		finding(s, AV_BROKEN, true, "%s", err);
		if (ri.seq) { /* the record is there, but nothing links to it */
			s->any = true;
			s->seq = ri.seq;
		}
		s->have = false;
		json_decref(rec);
		return;
	}
	link(s, &ri);
	s->any = s->have = true;
	s->seq = ri.seq;
	memcpy(s->hash, ri.hash, sizeof(s->hash));
	memcpy(s->chain_id, ri.chain_id, sizeof(s->chain_id));
	if (!f->records++)
		f->first = ri.seq;
	f->last = ri.seq;
	if (!s->r->records++)
		s->r->first = ri.seq;
	s->r->last = ri.seq;
	memcpy(s->r->last_hash, ri.hash, sizeof(s->r->last_hash));
	on_checkpoint(s, &ri);
	if (ri.time_ms > s->tail_time_ms)
		s->tail_time_ms = ri.time_ms;
	if (ri.event && !strcmp(ri.event, "sealed"))
		on_seal(s, &ri);
	else if (ri.event && !strcmp(ri.event, "seal_started"))
		on_seal_started(s, &ri);
	json_decref(rec);
}

static void read_file(struct vstate *s, FILE *in)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	s->line = 0;
	while ((len = getline(&line, &cap, in)) > 0) {
		s->line++;
		if (line[len - 1] != '\n') { /* the file ends inside a record */
			s->r->files[s->fi].torn++;
			finding(s, AV_NOTE, true,
				"a truncated record (no newline at the end of the file): skipped");
			break;
		}
		on_line(s, line, len);
	}
	free(line);
}

/* What the whole read says beyond single lines: seals, tail, checkpoint. */
static void conclude(struct vstate *s)
{
	const struct audit_checkpoint *cp = s->o->checkpoint;
	struct av_report *r = s->r;

	s->line = 0;
	s->fi = r->n_files;
	if (s->o->n_keys && r->records && !r->seals_checked)
		finding(s, AV_WARN, false,
			"no valid seal in these files: nothing in them is proven by a seal "
			"(written "
			"before sealing was set up, or the seals were removed)");
	if (s->seal_key && s->tail_time_ms) {
		const struct seal_vkey *k = s->seal_key;
		int64_t due = seal_epoch_start_ns(k->start_s, k->interval_s, r->last_epoch + 2);
		char a[40], b[40];

		if (s->tail_time_ms * 1000000 > due + 5 * NS_PER_S)
			finding(s, AV_WARN, false,
				"records up to %s came after the last seal (epoch %llu, from %s) "
				"and "
				"were never sealed: sealing stopped (its key file removed or "
				"replaced, "
				"or jitd's clock stepped)",
				util_format_time(s->tail_time_ms * 1000000, a, sizeof(a)),
				(unsigned long long)r->last_epoch,
				util_format_time(r->last_seal_time_ns, b, sizeof(b)));
	}
	if (cp && r->checkpoint_found && r->first != 1)
		finding(s, AV_WARN, false,
			"these files begin at sequence %llu: the checkpoint proves the records "
			"from "
			"there to %llu, not those before",
			(unsigned long long)r->first, (unsigned long long)cp->seq);
	if (!s->o->n_keys && r->seals)
		finding(s, AV_NOTE, false,
			"%llu seal records not checked: give the verification key (--key)",
			(unsigned long long)r->seals);
	if (cp && !r->checkpoint_found) {
		if (r->records && !strcmp(s->chain_id, cp->chain_id) && r->last < cp->seq)
			finding(s, AV_BROKEN, false,
				"the files end at sequence %llu but the checkpoint is at %llu: "
				"records %llu to %llu were removed (the tail was cut)",
				(unsigned long long)r->last, (unsigned long long)cp->seq,
				(unsigned long long)r->last + 1, (unsigned long long)cp->seq);
		else
			finding(s, AV_BROKEN, false,
				"the checkpoint's record (sequence %llu of chain %s) is not in "
				"these "
				"files",
				(unsigned long long)cp->seq, cp->chain_id);
	}
}

/* Verify files in order (oldest first). */
int audit_verify_files(char *const *files, size_t n, const struct av_opts *o, struct av_report *out)
{
	struct vstate s = {.o = o, .r = out};

	memset(out, 0, sizeof(*out));
	out->files = calloc(n ?: 1, sizeof(*out->files));
	if (!out->files)
		return -ENOMEM;
	out->n_files = n;
	for (size_t i = 0; i < n; i++) {
		FILE *in = fopen(files[i], "re");

		s.fi = i;
		out->files[i].name = files[i];
		if (!in) {
			s.line = 0;
			finding(&s, AV_BROKEN, false, "cannot read: %s", strerror(errno));
			continue;
		}
		out->files[i].opened = true;
		read_file(&s, in);
		fclose(in);
	}
	conclude(&s);
	for (size_t i = 0; i < AV_MAX_KEYS; i++)
		seal_key_wipe(&s.k[i]);
	return 0;
}

void av_report_free(struct av_report *r)
{
	for (size_t i = 0; i < r->n_findings; i++)
		free(r->findings[i].text);
	free(r->findings);
	free(r->files);
	memset(r, 0, sizeof(*r));
}

static const char *kind_name(enum av_kind k)
{
	return k == AV_BROKEN ? "broken" : k == AV_WARN ? "warning" : "note";
}

static json_t *files_json(const struct av_report *r)
{
	json_t *a = json_array();

	for (size_t i = 0; i < r->n_files; i++) {
		const struct av_file *f = &r->files[i];
		uint64_t unsealed = f->last_sealed >= f->first && f->last_sealed
					    ? f->last - f->last_sealed
					    : f->records;

		json_array_append_new(
			a, json_pack("{s:s,s:b,s:I,s:I,s:I,s:b,s:o,s:I,s:I}", "file", f->name,
				     "read", f->opened, "records", (json_int_t)f->records,
				     "first_sequence", (json_int_t)f->first, "last_sequence",
				     (json_int_t)f->last, "starts_at_1",
				     f->records && f->first == 1, "last_sealed_sequence",
				     f->last_sealed ? json_integer((json_int_t)f->last_sealed)
						    : json_null(),
				     "unsealed_tail", (json_int_t)unsealed, "torn_lines",
				     (json_int_t)f->torn));
	}
	return a;
}

static json_t *findings_json(const struct av_report *r, const char *kind)
{
	json_t *a = json_array();

	for (size_t i = 0; i < r->n_findings; i++) {
		const struct av_finding *f = &r->findings[i];

		if (strcmp(kind_name(f->kind), kind))
			continue;
		json_array_append_new(a, json_pack("{s:s?,s:I,s:s}", "file", f->file, "line",
						   (json_int_t)f->line, "text", f->text));
	}
	return a;
}

/* The report as JSON: "ok", totals, "files", "seals", "checkpoint", findings by kind, and
 * for the first break "file", "line" and "error". */
json_t *av_report_json(const struct av_report *r, const struct av_opts *o)
{
	char t[40];
	json_t *j = json_pack(
		"{s:b,s:I,s:I,s:I,s:I,s:b,s:s?,s:o,s:o,s:o,s:o}", "ok", !r->broken, "records",
		(json_int_t)r->records, "first_sequence", (json_int_t)r->first, "last_sequence",
		(json_int_t)r->last, "sequence", (json_int_t)r->last, "starts_at_1",
		r->records && r->first == 1, "last_hash", r->records ? r->last_hash : NULL, "files",
		files_json(r), "broken", findings_json(r, "broken"), "warnings",
		findings_json(r, "warning"), "notes", findings_json(r, "note"));

	json_object_set_new(
		j, "seals",
		json_pack("{s:I,s:b,s:s?,s:I,s:o,s:o,s:o,s:o,s:I}", "records", (json_int_t)r->seals,
			  "checked", o->n_keys > 0, "key_id", o->n_keys ? o->keys[0].key_id : NULL,
			  "valid", (json_int_t)r->seals_checked, "first_epoch",
			  r->seals_checked ? json_integer((json_int_t)r->first_epoch) : json_null(),
			  "last_epoch",
			  r->seals_checked ? json_integer((json_int_t)r->last_epoch) : json_null(),
			  "last_sealed_sequence",
			  r->seals_checked ? json_integer((json_int_t)r->sealed_upto) : json_null(),
			  "last_epoch_start",
			  r->seals_checked ? json_string(util_format_time(r->last_seal_time_ns, t,
									  sizeof(t)))
					   : json_null(),
			  "unsealed_tail",
			  (json_int_t)(r->seals_checked ? r->last - r->sealed_upto : r->records)));
	json_object_set_new(j, "checkpoint",
			    o->checkpoint ? json_pack("{s:I,s:b,s:b}", "sequence",
						      (json_int_t)o->checkpoint->seq, "found",
						      r->checkpoint_found, "ok",
						      r->checkpoint_found && !r->broken)
					  : json_null());
	for (size_t i = 0; i < r->n_findings; i++)
		if (r->findings[i].kind == AV_BROKEN) {
			json_object_set_new(j, "file", json_string(r->findings[i].file ?: ""));
			json_object_set_new(j, "line",
					    json_integer((json_int_t)r->findings[i].line));
			json_object_set_new(j, "error", json_string(r->findings[i].text));
			break;
		}
	return j;
}
