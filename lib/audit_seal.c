// SPDX-License-Identifier: GPL-2.0-only
/*
 * Forward-secure sealing (see audit_seal.h): a hash ratchet of HMAC-SHA256 keys, one per
 * epoch, and seal records that bind the chain head to an epoch's key. All cryptography is
 * OpenSSL's (HMAC, RAND_bytes, CRYPTO_memcmp, OPENSSL_cleanse).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "audit_seal.h"
#include "util.h"

#define LABEL_K0     "jitd-seal-v1 epoch 0"
#define LABEL_EVOLVE "jitd-seal-v1 evolve"
#define LABEL_MAC    "jitd-seal-v1 mac"
#define LABEL_ID     "jitd-seal-v1 key id"

static void hmac(const uint8_t key[SEAL_KEY_BYTES], const void *msg, size_t len,
		 uint8_t out[SEAL_KEY_BYTES])
{
	unsigned int n = SEAL_KEY_BYTES;

	if (!HMAC(EVP_sha256(), key, SEAL_KEY_BYTES, msg, len, out, &n))
		abort(); /* only on allocation failure inside OpenSSL: never seal with garbage */
}

static void to_hex(const uint8_t *in, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[2 * n] = 0;
}

static bool is_hex(const char *s, size_t n)
{
	return strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

/* n bytes of lower-case hex s (2n digits, checked by is_hex first). */
static int from_hex(const char *s, uint8_t *out, size_t n)
{
	if (!is_hex(s, 2 * n))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int hi = s[2 * i] <= '9' ? s[2 * i] - '0' : s[2 * i] - 'a' + 10;
		int lo = s[2 * i + 1] <= '9' ? s[2 * i + 1] - '0' : s[2 * i + 1] - 'a' + 10;

		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static void derive_id(const struct seal_vkey *vk, char out[SEAL_KEY_ID_HEX + 1])
{
	uint8_t d[SEAL_KEY_BYTES];

	hmac(vk->seed, LABEL_ID, strlen(LABEL_ID), d);
	to_hex(d, SEAL_KEY_ID_HEX / 2, out);
}

/* The epoch-0 key of a verification key. */
void seal_key_of_vkey(const struct seal_vkey *vk, struct seal_key *k)
{
	hmac(vk->seed, LABEL_K0, strlen(LABEL_K0), k->k);
	k->epoch = 0;
	k->start_s = vk->start_s;
	k->interval_s = vk->interval_s;
	memcpy(k->key_id, vk->key_id, sizeof(k->key_id));
}

/* A new random seed starting now (start_s) with interval_s; *k is its epoch 0 key. */
int seal_generate(int64_t start_s, uint32_t interval_s, struct seal_vkey *vk, struct seal_key *k)
{
	if (!interval_s || start_s < 0)
		return -EINVAL;
	if (RAND_bytes(vk->seed, SEAL_KEY_BYTES) != 1)
		return -EIO;
	vk->start_s = start_s;
	vk->interval_s = interval_s;
	derive_id(vk, vk->key_id);
	seal_key_of_vkey(vk, k);
	return 0;
}

void seal_key_wipe(struct seal_key *k)
{
	OPENSSL_cleanse(k->k, sizeof(k->k));
}

/* Evolve k forward to epoch to; each old key is overwritten in place. */
void seal_evolve(struct seal_key *k, uint64_t to)
{
	uint8_t next[SEAL_KEY_BYTES];

	while (k->epoch < to) {
		hmac(k->k, LABEL_EVOLVE, strlen(LABEL_EVOLVE), next);
		memcpy(k->k, next, sizeof(next));
		k->epoch++;
	}
	OPENSSL_cleanse(next, sizeof(next));
}

uint64_t seal_epoch_at(int64_t start_s, uint32_t interval_s, int64_t realtime_ns)
{
	int64_t s = realtime_ns / NS_PER_S;

	if (!interval_s || s < start_s)
		return 0;
	return (uint64_t)(s - start_s) / interval_s;
}

/* Saturates at INT64_MAX (a clock set centuries ahead must not overflow). */
int64_t seal_epoch_start_ns(int64_t start_s, uint32_t interval_s, uint64_t epoch)
{
	uint64_t max_s = (uint64_t)(INT64_MAX / NS_PER_S);

	if (start_s < 0 || (uint64_t)start_s > max_s ||
	    (interval_s && epoch > (max_s - (uint64_t)start_s) / interval_s))
		return INT64_MAX;
	return (start_s + (int64_t)(epoch * interval_s)) * NS_PER_S;
}

/* The tag of a seal over the chain head with k (at si->epoch). */
void seal_tag(const struct seal_key *k, const struct seal_info *si, char out[SEAL_TAG_HEX + 1])
{
	uint8_t mac[SEAL_KEY_BYTES], d[SEAL_KEY_BYTES];
	char msg[256];
	int n;

	hmac(k->k, LABEL_MAC, strlen(LABEL_MAC), mac);
	n = snprintf(msg, sizeof(msg), "jitd-seal-v1|%s|%s|%" PRIu64 "|%" PRIu64 "|%s|%d",
		     si->key_id, si->chain_id, si->epoch, si->sealed_seq, si->head_hash,
		     si->final ? 1 : 0);
	hmac(mac, msg, (size_t)n, d);
	OPENSSL_cleanse(mac, sizeof(mac));
	to_hex(d, sizeof(d), out);
}

/* "jitd1-<seed hex>-<start>-<interval>". */
int seal_vkey_format(const struct seal_vkey *vk, char *out, size_t len)
{
	char hex[2 * SEAL_KEY_BYTES + 1];
	int n;

	to_hex(vk->seed, SEAL_KEY_BYTES, hex);
	n = snprintf(out, len, "jitd1-%s-%" PRId64 "-%" PRIu32, hex, vk->start_s, vk->interval_s);
	OPENSSL_cleanse(hex, sizeof(hex));
	return n > 0 && (size_t)n < len ? 0 : -EINVAL;
}

int seal_vkey_parse(const char *s, struct seal_vkey *vk)
{
	char hex[2 * SEAL_KEY_BYTES + 1], tail;
	long long start;
	unsigned long interval;
	int r = -EINVAL;

	if (sscanf(s, "jitd1-%64[0-9a-f]-%lld-%lu%c", hex, &start, &interval, &tail) == 3 &&
	    is_hex(hex, 2 * SEAL_KEY_BYTES) && start >= 0 && interval > 0 &&
	    interval <= UINT32_MAX && !from_hex(hex, vk->seed, SEAL_KEY_BYTES)) {
		vk->start_s = start;
		vk->interval_s = (uint32_t)interval;
		derive_id(vk, vk->key_id);
		r = 0;
	}
	OPENSSL_cleanse(hex, sizeof(hex));
	return r;
}

int seal_state_format(const struct seal_key *k, char *out, size_t len)
{
	char hex[2 * SEAL_KEY_BYTES + 1];
	int n;

	to_hex(k->k, SEAL_KEY_BYTES, hex);
	n = snprintf(out, len,
		     "jitd-seal-state2 %" PRIu64 " %s %" PRIu64 " %" PRId64 " %" PRIu32 " %s\n",
		     k->gen, k->key_id, k->epoch, k->start_s, k->interval_s, hex);
	OPENSSL_cleanse(hex, sizeof(hex));
	return n > 0 && (size_t)n < len ? 0 : -EINVAL;
}

int seal_state_parse(const char *s, struct seal_key *k)
{
	char id[SEAL_KEY_ID_HEX + 1], hex[2 * SEAL_KEY_BYTES + 1], nl = 0;
	unsigned long long gen, epoch;
	long long start;
	unsigned long interval;
	int r = -EINVAL;

	/* the newline last: a copy cut short by a crash is not taken for a key */
	if (sscanf(s, "jitd-seal-state2 %llu %16s %llu %lld %lu %64s%c", &gen, id, &epoch, &start,
		   &interval, hex, &nl) == 7 &&
	    nl == '\n' && is_hex(id, SEAL_KEY_ID_HEX) && is_hex(hex, 2 * SEAL_KEY_BYTES) &&
	    start >= 0 && interval > 0 && interval <= UINT32_MAX &&
	    !from_hex(hex, k->k, SEAL_KEY_BYTES)) {
		memcpy(k->key_id, id, sizeof(id));
		k->gen = gen;
		k->epoch = epoch;
		k->start_s = start;
		k->interval_s = (uint32_t)interval;
		r = 0;
	}
	OPENSSL_cleanse(hex, sizeof(hex));
	return r;
}

int seal_checkpoint_format(const struct audit_checkpoint *cp, char *out, size_t len)
{
	int n = snprintf(out, len, "jitd-checkpoint1-%s-%" PRIu64 "-%s-%" PRIu64 "-%s",
			 cp->chain_id, cp->seq, cp->hash, cp->epoch, cp->tag);

	return n > 0 && (size_t)n < len ? 0 : -EINVAL;
}

int seal_checkpoint_parse(const char *s, struct audit_checkpoint *cp)
{
	unsigned long long seq, epoch;
	char tail;

	if (sscanf(s, "jitd-checkpoint1-%20[0-9a-f]-%llu-%64[0-9a-f]-%llu-%64[0-9a-f]%c",
		   cp->chain_id, &seq, cp->hash, &epoch, cp->tag, &tail) != 5 ||
	    !is_hex(cp->chain_id, AUDIT_CHAIN_ID_HEX) || !is_hex(cp->hash, AUDIT_HASH_HEX) ||
	    !is_hex(cp->tag, SEAL_TAG_HEX) || !seq)
		return -EINVAL;
	cp->seq = seq;
	cp->epoch = epoch;
	return 0;
}

static const char *fstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The seal fields of an agent event's fields object (event "sealed"). */
int seal_info_of_fields(const json_t *f, struct seal_info *out)
{
	const json_t *e = json_object_get(f, "epoch"), *s = json_object_get(f, "sealed_sequence");
	const char *id = fstr(f, "key_id"), *tag = fstr(f, "tag"), *h = fstr(f, "sealed_hash");

	if (!json_is_integer(e) || json_integer_value(e) < 0 || !json_is_integer(s) ||
	    json_integer_value(s) < 0 || !id || !is_hex(id, SEAL_KEY_ID_HEX) || !tag ||
	    !is_hex(tag, SEAL_TAG_HEX) || !h || !is_hex(h, AUDIT_HASH_HEX) ||
	    !json_is_boolean(json_object_get(f, "final")))
		return -EINVAL;
	out->epoch = (uint64_t)json_integer_value(e);
	out->sealed_seq = (uint64_t)json_integer_value(s);
	strcpy(out->key_id, id);
	strcpy(out->tag, tag);
	strcpy(out->head_hash, h);
	out->final = json_is_true(json_object_get(f, "final"));
	return 0;
}

/* Format a seal record of the chain head *c with key k into out, advancing *c; its tag
 * in tag (optional). */
int audit_fmt_seal(enum audit_format fmt, const struct audit_meta *m, const struct seal_key *k,
		   bool final, int64_t time_ns, struct audit_chain *c, struct abuf *out,
		   struct audit_summary *sum, char tag[SEAL_TAG_HEX + 1])
{
	struct seal_info si = {.epoch = k->epoch, .sealed_seq = c->seq, .final = final};
	char start[40];
	json_t *f;
	int r;

	memcpy(si.head_hash, c->hash, sizeof(si.head_hash));
	memcpy(si.chain_id, c->chain_id, sizeof(si.chain_id));
	memcpy(si.key_id, k->key_id, sizeof(si.key_id));
	seal_tag(k, &si, si.tag);
	f = json_pack("{s:I,s:s,s:I,s:s,s:s,s:b,s:s}", "epoch", (json_int_t)si.epoch, "key_id",
		      si.key_id, "sealed_sequence", (json_int_t)si.sealed_seq, "sealed_hash",
		      si.head_hash, "tag", si.tag, "final", final, "epoch_start",
		      util_format_time(seal_epoch_start_ns(k->start_s, k->interval_s, k->epoch),
				       start, sizeof(start)));
	if (!f)
		return -ENOMEM;
	r = audit_fmt_event(fmt, m, "sealed", f, time_ns, c, out, sum);
	json_decref(f);
	if (!r && tag)
		memcpy(tag, si.tag, sizeof(si.tag));
	return r;
}
