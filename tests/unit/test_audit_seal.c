// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of forward-secure sealing (lib/audit_seal.c) and of verifying audit files
 * (lib/audit_verify.c): an untouched sealed file verifies; an attacker's edits (edit and
 * re-hash, delete, reorder, cut the head or the tail, forge a seal, reseal with a later
 * key) are found with the verification key; a key of another host fails; verification
 * goes on past a torn line and reports what follows.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <openssl/sha.h>

#include "testlib.h"
#include "audit_seal.h"
#include "audit_verify.h"
#include "jitd_abi.h"
#include "util.h"

#define INTERVAL 60
#define EPOCHS	 11 /* the key started 11 intervals ago: epochs 0..10 have begun */

static const struct audit_meta meta = {.hostname = "h", .version = "0"};
static char *lines[256];
static size_t n_lines;
static struct seal_vkey vk;
static struct audit_chain chain;
static char path[] = "/tmp/jitd-seal-test-XXXXXX";

static void reset(void)
{
	for (size_t i = 0; i < n_lines; i++)
		free(lines[i]);
	n_lines = 0;
	audit_chain_init(&chain);
}

static int64_t epoch_time(uint64_t e)
{
	return seal_epoch_start_ns(vk.start_s, vk.interval_s, e) + NS_PER_S;
}

static void add_decision(enum audit_format fmt, int i, int64_t t)
{
	struct abuf b = {};
	struct audit_decision d = {.time_ns = t,
				   .op = JITD_OP_OPEN,
				   .allow = i & 1,
				   .uid = 1000,
				   .loginuid = 1000,
				   .subject_uid = 1000,
				   .pid = 100 + i,
				   .tid = 100 + i,
				   .comm = "cat",
				   .resource = "secrets",
				   .ino = 7,
				   .path = "/srv/secret.txt"};

	audit_fmt_decision(fmt, &meta, &d, &chain, &b, NULL);
	lines[n_lines++] = strdup(b.p);
	abuf_free(&b);
}

static void add_seal(enum audit_format fmt, const struct seal_vkey *key, uint64_t e, bool final)
{
	struct abuf b = {};
	struct seal_key k;

	seal_key_of_vkey(key, &k);
	seal_evolve(&k, e);
	audit_fmt_seal(fmt, &meta, &k, final, epoch_time(e), &chain, &b, NULL, NULL);
	lines[n_lines++] = strdup(b.p);
	abuf_free(&b);
	seal_key_wipe(&k);
}

/* The seal_started record seal-init writes for key. */
static void add_started(enum audit_format fmt, const struct seal_vkey *key)
{
	struct abuf b = {};
	json_t *f = json_pack("{s:s,s:i,s:b}", "key_id", key->key_id, "interval_s", INTERVAL,
			      "replaced", 0);

	audit_fmt_event(fmt, &meta, "seal_started", f, epoch_time(0), &chain, &b, NULL);
	json_decref(f);
	lines[n_lines++] = strdup(b.p);
	abuf_free(&b);
}

/* The key's seal_started record, then epochs 0..5: four records (the first epoch's first
 * is the seal_started record), then the epoch's seal; then three unsealed records.
 * 33 lines: seals at sequences 5, 10, 15, 20, 25, 30. */
static void make_sealed(enum audit_format fmt)
{
	reset();
	for (uint64_t e = 0; e <= 5; e++) {
		for (int i = 0; i < 4; i++)
			if (e == 0 && i == 0)
				add_started(fmt, &vk);
			else
				add_decision(fmt, (int)(e * 4 + i), epoch_time(e));
		add_seal(fmt, &vk, e, false);
	}
	for (int i = 0; i < 3; i++)
		add_decision(fmt, 100 + i, epoch_time(6));
}

static void write_lines(char **l, size_t n)
{
	FILE *f = fopen(path, "we");

	for (size_t i = 0; i < n; i++)
		fputs(l[i], f);
	fclose(f);
}

static struct av_report rep;

static void verify_with(const struct seal_vkey *keys, size_t n_keys,
			const struct audit_checkpoint *cp)
{
	char *files[] = {path};
	struct av_opts o = {.keys = keys,
			    .n_keys = n_keys,
			    .checkpoint = cp,
			    .now_ns = util_now_ns(CLOCK_REALTIME)};

	av_report_free(&rep);
	write_lines(lines, n_lines);
	audit_verify_files(files, 1, &o, &rep);
}

static void verify_key(void)
{
	verify_with(&vk, 1, NULL);
}

/* The text of the first finding of kind k, or "". */
static const char *finding(enum av_kind k)
{
	for (size_t i = 0; i < rep.n_findings; i++)
		if (rep.findings[i].kind == k)
			return rep.findings[i].text;
	return "";
}

/* Is there a finding of kind k containing text? */
static bool found(enum av_kind k, const char *text)
{
	for (size_t i = 0; i < rep.n_findings; i++)
		if (rep.findings[i].kind == k && strstr(rep.findings[i].text, text))
			return true;
	return false;
}

static void hex(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", in[i]);
}

/* Number line i's record i + 1 (sequence, uid; a seal's sealed_sequence). */
static void renumber(json_t *rec, size_t i)
{
	json_t *md = json_object_get(rec, "metadata"), *j;
	char uid[64];

	json_object_set_new(md, "sequence", json_integer((json_int_t)i + 1));
	snprintf(uid, sizeof(uid), "%.24s%012zx", json_string_value(json_object_get(md, "uid")),
		 i + 1);
	json_object_set_new(md, "uid", json_string(uid));
	j = json_object_get(json_object_get(rec, "unmapped"), "jitd");
	if (json_object_get(j, "sealed_sequence"))
		json_object_set_new(j, "sealed_sequence", json_integer((json_int_t)i));
}

/* What an attacker with the file does (README's recipe): from line from on, set each
 * record's prev_hash (and a seal's sealed_hash) to the hash before and re-hash it;
 * with renumbering, sequences follow the lines again. */
static void rehash_from(size_t from, bool renumber_too)
{
	char prev[65] = "";

	for (size_t i = 0; i < n_lines; i++) {
		json_t *rec = json_loads(lines[i], 0, NULL);
		json_t *um = json_object_get(rec, "unmapped");
		unsigned char d[32];
		char *canon;

		if (i >= from) {
			if (renumber_too)
				renumber(rec, i);
			json_object_set_new(um, "prev_hash", json_string(prev));
			if (json_object_get(json_object_get(um, "jitd"), "sealed_hash"))
				json_object_set_new(json_object_get(um, "jitd"), "sealed_hash",
						    json_string(prev));
			json_object_del(um, "hash");
			canon = json_dumps(rec, JSON_SORT_KEYS | JSON_COMPACT);
			SHA256((unsigned char *)canon, strlen(canon), d);
			free(canon);
			hex(d, 32, prev);
			json_object_set_new(um, "hash", json_string(prev));
			canon = json_dumps(rec, JSON_SORT_KEYS | JSON_COMPACT);
			free(lines[i]);
			if (asprintf(&lines[i], "%s\n", canon) < 0)
				lines[i] = NULL;
			free(canon);
		} else {
			snprintf(prev, sizeof(prev), "%s",
				 json_string_value(json_object_get(um, "hash")));
		}
		json_decref(rec);
	}
}

/* Change the character after key in line i (a digit, or a hex digit). */
static bool flip_after(size_t i, const char *key)
{
	char *p = strstr(lines[i], key);

	if (!p)
		return false;
	p += strlen(key);
	if (*p >= '0' && *p <= '9') /* a digit stays a digit: JSON and hex stay valid */
		*p = *p == '9' ? '8' : '9';
	else
		*p = *p == 'a' ? 'b' : 'a';
	return true;
}

/* The chain head is the last line's record (after lines were rewritten). */
static void set_head(void)
{
	json_t *rec = json_loads(lines[n_lines - 1], 0, NULL);

	audit_record_head(rec, &chain);
	json_decref(rec);
}

static void delete_line(size_t i)
{
	free(lines[i]);
	memmove(lines + i, lines + i + 1, (n_lines - i - 1) * sizeof(*lines));
	n_lines--;
}

/* ---- formats ---- */

static void keys_round_trip(void)
{
	struct seal_vkey back;
	struct seal_key k, k2;
	char text[SEAL_VKEY_MAX], state[256];

	CHECK(!seal_vkey_format(&vk, text, sizeof(text)), "format");
	CHECK(!strncmp(text, "jitd1-", 6), "prefix: %s", text);
	CHECK(!seal_vkey_parse(text, &back), "parse %s", text);
	CHECK_STR(back.key_id, vk.key_id);
	CHECK(!memcmp(back.seed, vk.seed, sizeof(vk.seed)), "seed differs");
	seal_key_of_vkey(&vk, &k);
	seal_evolve(&k, 3);
	CHECK(!seal_state_format(&k, state, sizeof(state)), "state format");
	CHECK(!seal_state_parse(state, &k2), "state parse: %s", state);
	CHECK_INT(k2.epoch, 3);
	CHECK(!memcmp(k.k, k2.k, sizeof(k.k)), "key differs after the round trip");
	CHECK(seal_vkey_parse("jitd1-00-1-1", &back), "a short seed is refused");
	text[10] = 'X';
	CHECK(seal_vkey_parse(text, &back), "a non-hex seed is refused");
	CHECK(seal_state_parse("jitd-seal-state2 1 x 1 1 1 00\n", &k2), "a bad state is refused");
	state[strlen(state) - 1] = 0; /* a copy cut short by a crash */
	CHECK(seal_state_parse(state, &k2), "a state without its newline is refused");
	CHECK_INT(seal_epoch_start_ns(0, 60, UINT64_MAX / 2), INT64_MAX);
}

/* Evolving in one step or in several gives the same key; the old key is not the new. */
static void ratchet_is_one_way_and_consistent(void)
{
	struct seal_key a, b;

	seal_key_of_vkey(&vk, &a);
	seal_key_of_vkey(&vk, &b);
	seal_evolve(&a, 7);
	for (int i = 1; i <= 7; i++)
		seal_evolve(&b, i);
	CHECK(!memcmp(a.k, b.k, sizeof(a.k)), "stepwise evolution differs");
	seal_evolve(&b, 8);
	CHECK(memcmp(a.k, b.k, sizeof(a.k)), "evolving did not change the key");
	seal_evolve(&b, 2); /* never backwards */
	CHECK_INT(b.epoch, 8);
}

static void checkpoint_round_trip(void)
{
	struct audit_checkpoint cp = {.seq = 42, .epoch = 3}, back;
	char text[SEAL_CHECKPOINT_MAX];

	memset(cp.chain_id, 'a', AUDIT_CHAIN_ID_HEX);
	memset(cp.hash, 'b', AUDIT_HASH_HEX);
	memset(cp.tag, 'c', SEAL_TAG_HEX);
	CHECK(!seal_checkpoint_format(&cp, text, sizeof(text)), "format");
	CHECK(!seal_checkpoint_parse(text, &back), "parse %s", text);
	CHECK_INT(back.seq, 42);
	CHECK_INT(back.epoch, 3);
	CHECK_STR(back.hash, cp.hash);
	CHECK(seal_checkpoint_parse("jitd-checkpoint1-zz", &back), "garbage accepted");
}

/* ---- verify ---- */

static void untouched_sealed_file_verifies(void)
{
	for (int fmt = AUDIT_FMT_OCSF; fmt <= AUDIT_FMT_ECS; fmt++) {
		make_sealed(fmt);
		verify_key();
		CHECK(!rep.broken && !rep.warnings, "format %d: %s%s", fmt, finding(AV_BROKEN),
		      finding(AV_WARN));
		CHECK_INT(rep.records, 33);
		CHECK_INT(rep.seals_checked, 6);
		CHECK_INT(rep.sealed_upto, 30);
		CHECK_INT(rep.last - rep.sealed_upto, 3);
		CHECK_INT(rep.files[0].first, 1);
		CHECK_INT(rep.files[0].last_sealed, 30);
		CHECK_INT(rep.first_epoch, 0);
		CHECK_INT(rep.last_epoch, 5);
	}
}

static void without_key_seals_are_not_checked(void)
{
	make_sealed(AUDIT_FMT_OCSF);
	verify_with(NULL, 0, NULL);
	CHECK_INT(rep.broken, 0);
	CHECK_INT(rep.seals, 6);
	CHECK_INT(rep.seals_checked, 0);
	CHECK_CONTAINS(finding(AV_NOTE), "not checked");
}

/* Edit record 8 and re-hash everything after it, as README's recipe allows: the chain
 * alone verifies, the seal of epoch 1 does not. */
static void edit_and_rehash_is_caught_by_the_seal(void)
{
	make_sealed(AUDIT_FMT_OCSF);
	CHECK(flip_after(7, "\"pid\":"), "no pid in line 8");
	rehash_from(7, false);
	verify_with(NULL, 0, NULL);
	CHECK(!rep.broken, "without the key the re-hashed chain verifies: %s", finding(AV_BROKEN));
	verify_key();
	CHECK(rep.broken, "the edit was not found");
	CHECK_CONTAINS(finding(AV_BROKEN), "sequence 10: the seal (epoch 1) does not match");
	CHECK_INT(rep.sealed_upto, 5); /* only epoch 0 stays proven */
}

static void deletion_is_caught(void)
{
	make_sealed(AUDIT_FMT_OCSF);
	delete_line(12);
	verify_key();
	CHECK_CONTAINS(finding(AV_BROKEN), "records 13 to 13 are missing");
	/* a deletion re-hashed: the seal after it fails */
	make_sealed(AUDIT_FMT_OCSF);
	delete_line(12);
	rehash_from(12, false);
	verify_key();
	CHECK_CONTAINS(finding(AV_BROKEN), "missing");
	/* and verification went on: the seals after the break still count */
	CHECK_INT(rep.seals, 6);
}

static void reordering_is_caught(void)
{
	char *t;

	make_sealed(AUDIT_FMT_OCSF);
	t = lines[2];
	lines[2] = lines[3];
	lines[3] = t;
	verify_key();
	CHECK(rep.broken, "a swap was not found");
	CHECK(found(AV_BROKEN, "out of order"), "first finding: %s", finding(AV_BROKEN));
}

static void cut_head_is_said_not_broken(void)
{
	make_sealed(AUDIT_FMT_OCSF);
	for (int i = 0; i < 7; i++)
		delete_line(0);
	verify_key();
	CHECK(!rep.broken, "%s", finding(AV_BROKEN));
	CHECK_INT(rep.first, 8);
	CHECK_CONTAINS(finding(AV_NOTE), "the chain starts at sequence 8");
	CHECK_INT(rep.sealed_upto, 30);
}

/* The tail cut back to an earlier seal: only a checkpoint kept elsewhere shows it. */
static void cut_tail_is_caught_by_a_checkpoint(void)
{
	struct audit_checkpoint cp;
	struct audit_chain h;
	json_t *rec;

	make_sealed(AUDIT_FMT_OCSF);
	rec = json_loads(lines[29], 0, NULL); /* the seal at sequence 30 */
	CHECK(!audit_record_head(rec, &h), "no head");
	json_decref(rec);
	memset(&cp, 0, sizeof(cp));
	memcpy(cp.chain_id, h.chain_id, sizeof(cp.chain_id));
	memcpy(cp.hash, h.hash, sizeof(cp.hash));
	memset(cp.tag, 'a', SEAL_TAG_HEX);
	cp.seq = h.seq;
	verify_with(&vk, 1, &cp);
	CHECK(!rep.broken && rep.checkpoint_found, "%s", finding(AV_BROKEN));
	while (n_lines > 20)
		delete_line(n_lines - 1);
	verify_key();
	CHECK(!rep.broken, "without the checkpoint a cut tail cannot be seen");
	verify_with(&vk, 1, &cp);
	CHECK_CONTAINS(finding(AV_BROKEN), "records 21 to 30 were removed");
}

/* A seal inserted with a made-up tag, or for an epoch that has not begun. */
static void forged_seal_is_caught(void)
{
	struct seal_vkey other;
	struct seal_key k;

	make_sealed(AUDIT_FMT_OCSF);
	CHECK(flip_after(9, "\"tag\":\""), "no tag");
	rehash_from(9, false);
	verify_key();
	CHECK_CONTAINS(finding(AV_BROKEN), "sequence 10: the seal (epoch 1) does not match");
	/* a seal of a future epoch, with a key the attacker evolved there */
	make_sealed(AUDIT_FMT_OCSF);
	add_seal(AUDIT_FMT_OCSF, &vk, EPOCHS + 5, false);
	verify_key();
	CHECK_CONTAINS(finding(AV_BROKEN), "has not begun");
	/* a seal by another key */
	CHECK(!seal_generate(vk.start_s, INTERVAL, &other, &k), "generate");
	make_sealed(AUDIT_FMT_OCSF);
	add_seal(AUDIT_FMT_OCSF, &other, 6, false);
	verify_key();
	CHECK_CONTAINS(finding(AV_BROKEN), "sealed with another key");
}

/* Someone holding the key of epoch 10 rewrites record 8: the seals of epochs 1..5 no
 * longer match, so they drop them and seal everything again with their key. */
static void reseal_with_a_later_key_is_warned(void)
{
	make_sealed(AUDIT_FMT_OCSF);
	for (size_t i = n_lines; i-- > 5;)
		if (strstr(lines[i], "\"sealed_hash\""))
			delete_line(i);
	CHECK(flip_after(7, "\"pid\":"), "no pid in line 8");
	rehash_from(5, true);
	/* the chain (28 records) sealed again with the attacker's key of epoch 10 */
	set_head();
	add_seal(AUDIT_FMT_OCSF, &vk, 10, false);
	verify_key();
	CHECK(!rep.broken, "%s", finding(AV_BROKEN));
	CHECK(rep.warnings, "no warning for epochs 1..9 without a seal");
	CHECK_CONTAINS(finding(AV_WARN), "no seal for epochs 1 to 9");
	CHECK_INT(rep.sealed_upto, 29); /* 28 records and the new seal */
}

/* A final seal (jitd stopped) then the next epoch's seal: no warning; epochs later: said,
 * since removing seals after a restart would look the same. */
static void pause_after_a_final_seal(void)
{
	reset();
	add_started(AUDIT_FMT_OCSF, &vk);
	add_seal(AUDIT_FMT_OCSF, &vk, 1, true);
	add_decision(AUDIT_FMT_OCSF, 2, epoch_time(2));
	add_seal(AUDIT_FMT_OCSF, &vk, 2, false);
	verify_key();
	CHECK(!rep.broken && !rep.warnings, "%s%s", finding(AV_BROKEN), finding(AV_WARN));
	add_decision(AUDIT_FMT_OCSF, 3, epoch_time(2));
	add_seal(AUDIT_FMT_OCSF, &vk, 2, true);
	add_decision(AUDIT_FMT_OCSF, 4, epoch_time(7));
	add_seal(AUDIT_FMT_OCSF, &vk, 7, false);
	verify_key();
	CHECK(!rep.broken, "%s", finding(AV_BROKEN));
	CHECK_CONTAINS(finding(AV_WARN), "no seal for epochs 3 to 6");
	CHECK_CONTAINS(finding(AV_WARN), "it stopped with a final seal");
	/* the same pause without the final seal (a crash) is said too */
	reset();
	add_started(AUDIT_FMT_OCSF, &vk);
	add_seal(AUDIT_FMT_OCSF, &vk, 1, false);
	add_decision(AUDIT_FMT_OCSF, 2, epoch_time(7));
	add_seal(AUDIT_FMT_OCSF, &vk, 7, false);
	verify_key();
	CHECK_CONTAINS(finding(AV_WARN), "no seal for epochs 2 to 6");
}

/* Every seal removed and the file sealed once with a later key: the key's seal_started
 * record says where its seals begin; removing that record too is said. */
static void all_seals_replaced_by_one_is_warned(void)
{
	make_sealed(AUDIT_FMT_OCSF);
	for (size_t i = n_lines; i-- > 0;)
		if (strstr(lines[i], "\"sealed_hash\""))
			delete_line(i);
	CHECK(flip_after(3, "\"pid\":"), "no pid in line 4");
	rehash_from(1, true);
	set_head();
	add_seal(AUDIT_FMT_OCSF, &vk, 10, false);
	verify_key();
	CHECK(!rep.broken, "%s", finding(AV_BROKEN));
	CHECK_CONTAINS(finding(AV_WARN), "no seal for epochs 1 to 9");
	delete_line(n_lines - 1);
	delete_line(0);
	rehash_from(0, true);
	set_head();
	add_seal(AUDIT_FMT_OCSF, &vk, 10, false);
	verify_key();
	CHECK(!rep.broken, "%s", finding(AV_BROKEN));
	CHECK_CONTAINS(finding(AV_WARN), "has no seal_started record");
}

/* History replaced by a new chain after the checkpoint's record, and a line a SIEM reads
 * as a record but jitd did not write (duplicate keys): both said. */
static void new_chain_and_foreign_lines_are_said(void)
{
	struct audit_chain keep;

	make_sealed(AUDIT_FMT_OCSF);
	keep = chain;
	audit_chain_init(&chain);
	add_decision(AUDIT_FMT_OCSF, 1, epoch_time(6));
	verify_key();
	CHECK_CONTAINS(finding(AV_WARN), "a new chain");
	chain = keep;
	make_sealed(AUDIT_FMT_OCSF);
	free(lines[n_lines - 1]);
	lines[n_lines - 1] = strdup("{\"a\":1,\"a\":2}\n");
	verify_key();
	CHECK_CONTAINS(finding(AV_BROKEN), "not a record of jitd's");
}

/* Records long after the last seal (sealing stopped: its key removed) are said. */
static void records_never_sealed_are_said(void)
{
	make_sealed(AUDIT_FMT_OCSF);
	add_decision(AUDIT_FMT_OCSF, 9, epoch_time(9));
	verify_key();
	CHECK(!rep.broken, "%s", finding(AV_BROKEN));
	CHECK_CONTAINS(finding(AV_WARN), "were never sealed");
}

/* A torn line (a write cut by a crash, never part of the chain) is said once and the
 * records after it are verified. */
static void torn_line_is_skipped_and_the_rest_verified(void)
{
	make_sealed(AUDIT_FMT_OCSF);
	memmove(lines + 13, lines + 12, (n_lines - 12) * sizeof(*lines));
	lines[12] = strdup("{\"activity_id\":1,\"cat\n");
	n_lines++;
	verify_key();
	CHECK(!rep.broken, "%s", finding(AV_BROKEN));
	CHECK_CONTAINS(finding(AV_NOTE), "a torn record");
	CHECK_INT(rep.files[0].torn, 1);
	CHECK_INT(rep.sealed_upto, 30);
	CHECK_INT(rep.records, 33);
	/* a truncated last line (no newline) is said too */
	free(lines[n_lines - 1]);
	lines[n_lines - 1] = strdup("{\"activity");
	verify_key();
	CHECK(!rep.broken, "%s", finding(AV_BROKEN));
	CHECK_INT(rep.files[0].torn, 2);
}

/* After a re-key, each key verifies its own seals; one key alone calls the others foreign. */
static void rekey_verifies_with_both_keys(void)
{
	struct seal_vkey keys[2];
	struct seal_key k;

	keys[0] = vk;
	CHECK(!seal_generate(vk.start_s, INTERVAL, &keys[1], &k), "generate");
	make_sealed(AUDIT_FMT_OCSF);
	add_seal(AUDIT_FMT_OCSF, &vk, 6, true);
	add_started(AUDIT_FMT_OCSF, &keys[1]);
	add_seal(AUDIT_FMT_OCSF, &keys[1], 0, false);
	add_decision(AUDIT_FMT_OCSF, 1, epoch_time(6));
	add_seal(AUDIT_FMT_OCSF, &keys[1], 1, false);
	verify_with(keys, 2, NULL);
	CHECK(!rep.broken && !rep.warnings, "%s%s", finding(AV_BROKEN), finding(AV_WARN));
	CHECK_INT(rep.seals_checked, 9);
	verify_key();
	CHECK_CONTAINS(finding(AV_BROKEN), "sealed with another key");
	/* the new key's seals removed and one made with its key of epoch 10 */
	make_sealed(AUDIT_FMT_OCSF);
	add_seal(AUDIT_FMT_OCSF, &vk, 6, true);
	add_started(AUDIT_FMT_OCSF, &keys[1]);
	add_decision(AUDIT_FMT_OCSF, 1, epoch_time(6));
	add_seal(AUDIT_FMT_OCSF, &keys[1], 10, false);
	verify_with(keys, 2, NULL);
	CHECK_CONTAINS(finding(AV_WARN), "no seal for epochs 1 to 9");
}

int main(void)
{
	struct seal_key k;
	int fd = mkstemp(path);

	if (fd < 0)
		return 1;
	close(fd);
	if (seal_generate(util_now_ns(CLOCK_REALTIME) / NS_PER_S - EPOCHS * INTERVAL, INTERVAL, &vk,
			  &k))
		return 1;
	RUN(keys_round_trip);
	RUN(ratchet_is_one_way_and_consistent);
	RUN(checkpoint_round_trip);
	RUN(untouched_sealed_file_verifies);
	RUN(without_key_seals_are_not_checked);
	RUN(edit_and_rehash_is_caught_by_the_seal);
	RUN(deletion_is_caught);
	RUN(reordering_is_caught);
	RUN(cut_head_is_said_not_broken);
	RUN(cut_tail_is_caught_by_a_checkpoint);
	RUN(forged_seal_is_caught);
	RUN(reseal_with_a_later_key_is_warned);
	RUN(pause_after_a_final_seal);
	RUN(all_seals_replaced_by_one_is_warned);
	RUN(new_chain_and_foreign_lines_are_said);
	RUN(records_never_sealed_are_said);
	RUN(torn_line_is_skipped_and_the_rest_verified);
	RUN(rekey_verifies_with_both_keys);
	reset();
	av_report_free(&rep);
	unlink(path);
	return tl_exit();
}
