/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Forward-secure sealing of the audit chain. A random seed (the verification key, kept
 * off the host) starts a one-way key ratchet: K(0) is derived from the seed, K(e+1) =
 * HMAC-SHA256(K(e), "evolve"), one epoch per interval since the key's start. The host
 * holds only the key of the current epoch; a seal record carries HMAC-SHA256 over the
 * chain head (chain id, sequence, hash) under a MAC key derived from K(e). Whoever takes
 * the host in epoch e can seal epochs >= e only: what was sealed before stays proven.
 * Pure code (OpenSSL libcrypto): shared by jitd, jitctl and the tests.
 */
#ifndef JITD_AUDIT_SEAL_H
#define JITD_AUDIT_SEAL_H

#include <stdbool.h>
#include <stdint.h>

#include "audit_fmt.h"

#define SEAL_KEY_BYTES	      32
#define SEAL_KEY_ID_HEX	      16
#define SEAL_TAG_HEX	      64
#define SEAL_DEFAULT_INTERVAL (15 * 60)
#define SEAL_VKEY_MAX	      128 /* "jitd1-<64 hex>-<start>-<interval>" */
#define SEAL_CHECKPOINT_MAX   256

/* The host's evolving sealing key: the key of one epoch. */
struct seal_key {
	uint8_t k[SEAL_KEY_BYTES];
	uint64_t epoch;
	int64_t start_s;     /* epoch 0 starts here (Unix seconds) */
	uint32_t interval_s; /* length of an epoch */
	char key_id[SEAL_KEY_ID_HEX + 1];
	uint64_t gen; /* the host's key file: which of its two copies is newer */
};

/* The verification key: the seed, its start and interval. Whoever holds it can derive
 * every epoch's key (keep it off the host). */
struct seal_vkey {
	uint8_t seed[SEAL_KEY_BYTES];
	int64_t start_s;
	uint32_t interval_s;
	char key_id[SEAL_KEY_ID_HEX + 1];
};

/* A seal as read back from a record: what its tag covers. */
struct seal_info {
	uint64_t epoch;
	uint64_t sealed_seq; /* the chain head sealed: the record before the seal */
	char head_hash[AUDIT_HASH_HEX + 1];
	char chain_id[AUDIT_CHAIN_ID_HEX + 1];
	char key_id[SEAL_KEY_ID_HEX + 1];
	char tag[SEAL_TAG_HEX + 1];
	bool final; /* jitd stopped after it (the key was evolved past this epoch) */
};

/* An off-host anchor: the seal record at sequence seq with hash hash. */
struct audit_checkpoint {
	char chain_id[AUDIT_CHAIN_ID_HEX + 1];
	uint64_t seq;
	char hash[AUDIT_HASH_HEX + 1];
	uint64_t epoch;
	char tag[SEAL_TAG_HEX + 1];
};

/* A new random seed starting now (start_s) with interval_s; *k is its epoch 0 key. */
int seal_generate(int64_t start_s, uint32_t interval_s, struct seal_vkey *vk, struct seal_key *k);
/* The epoch-0 key of a verification key. */
void seal_key_of_vkey(const struct seal_vkey *vk, struct seal_key *k);
/* Wipe a key from memory. */
void seal_key_wipe(struct seal_key *k);
/* Evolve k forward to epoch to (no-op if k is already there or past); old keys erased. */
void seal_evolve(struct seal_key *k, uint64_t to);
/* The epoch of a realtime instant (0 before the start). */
uint64_t seal_epoch_at(int64_t start_s, uint32_t interval_s, int64_t realtime_ns);
/* Start of an epoch in realtime ns. */
int64_t seal_epoch_start_ns(int64_t start_s, uint32_t interval_s, uint64_t epoch);
/* The tag of a seal over the chain head (chain_id, seq, hash) with k (at si->epoch). */
void seal_tag(const struct seal_key *k, const struct seal_info *si, char out[SEAL_TAG_HEX + 1]);

/* "jitd1-<seed hex>-<start>-<interval>" and back. Returns 0 or -EINVAL. */
int seal_vkey_format(const struct seal_vkey *vk, char *out, size_t len);
int seal_vkey_parse(const char *s, struct seal_vkey *vk);
/* The host's key state, one line "jitd-seal-state2 GEN KEYID EPOCH START INTERVAL KEYHEX",
 * and back. The caller wipes the text. Returns 0 or -EINVAL. */
int seal_state_format(const struct seal_key *k, char *out, size_t len);
int seal_state_parse(const char *s, struct seal_key *k);
/* "jitd-checkpoint1-CHAIN-SEQ-HASH-EPOCH-TAG" and back. Returns 0 or -EINVAL. */
int seal_checkpoint_format(const struct audit_checkpoint *cp, char *out, size_t len);
int seal_checkpoint_parse(const char *s, struct audit_checkpoint *cp);

/* The seal fields of an agent event's fields object (event "sealed"). 0 or -EINVAL. */
int seal_info_of_fields(const json_t *fields, struct seal_info *out);

/* Format a seal record of the chain head *c with key k into out, advancing *c; its tag
 * in tag (optional). */
int audit_fmt_seal(enum audit_format fmt, const struct audit_meta *m, const struct seal_key *k,
		   bool final, int64_t time_ns, struct audit_chain *c, struct abuf *out,
		   struct audit_summary *sum, char tag[SEAL_TAG_HEX + 1]);

#endif
