// SPDX-License-Identifier: GPL-2.0-only
/*
 * Audit records: OCSF 1.8.0 (default) or ECS 9.x JSON lines, sealed into a SHA-256
 * hash chain.
 *
 * Canonical JSON: the record without its "hash", keys sorted bytewise, compact, UTF-8,
 * exactly what jansson writes with JSON_SORT_KEYS | JSON_COMPACT. The hash of a record
 * is SHA-256 over its canonical JSON, which includes the previous record's hash:
 *  - OCSF: unmapped.prev_hash and unmapped.hash; sequence metadata.sequence, id metadata.uid.
 *  - ECS: jitd.prev_hash and event.hash; sequence event.sequence, id event.id.
 * Written lines are themselves canonical (with the hash in its sorted place).
 *
 * Kernel decisions in OCSF are the hot path: they are written by hand, keys in sorted
 * order (the unit tests compare them byte for byte with jansson's canonical dump).
 * Everything else is built with jansson.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "audit_fmt.h"
#include "jitd_abi.h"
#include "util.h"

#define DUMP_FLAGS (JSON_SORT_KEYS | JSON_COMPACT)

/* ---- buffer and JSON writer ---- */

void abuf_free(struct abuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

static int ab_grow(struct abuf *b, size_t need)
{
	size_t cap;
	char *p;

	if (b->len + need + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 2048;
	while (cap < b->len + need + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

static void ab_raw(struct abuf *b, const char *s, size_t n)
{
	if (ab_grow(b, n))
		return; /* the caller checks ab_ok() at the end */
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

#define AB_LIT(b, s) ab_raw(b, s, sizeof(s) - 1)

/* Length of a valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* A JSON string's text as jansson writes it (no quotes); invalid UTF-8 bytes become '?'. */
static void ab_esc(struct abuf *b, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, run = 0;

	if (ab_grow(b, n * 6 + 2))
		return;
	while (i < n) {
		unsigned char c = u[i];
		char *o = b->p + b->len;

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			run = i;
			while (i < n && u[i] >= 0x20 && u[i] != '"' && u[i] != '\\' && u[i] < 0x80)
				i++;
			memcpy(o, s + run, i - run);
			b->len += i - run;
			continue;
		}
		if (c >= 0x80) {
			size_t l = utf8_len(u + i, n - i);

			if (!l) {
				*o = '?';
				b->len++;
				i++;
			} else {
				memcpy(o, s + i, l);
				b->len += l;
				i += l;
			}
			continue;
		}
		switch (c) {
		case '"':
			memcpy(o, "\\\"", 2);
			b->len += 2;
			break;
		case '\\':
			memcpy(o, "\\\\", 2);
			b->len += 2;
			break;
		case '\b':
			memcpy(o, "\\b", 2);
			b->len += 2;
			break;
		case '\f':
			memcpy(o, "\\f", 2);
			b->len += 2;
			break;
		case '\n':
			memcpy(o, "\\n", 2);
			b->len += 2;
			break;
		case '\r':
			memcpy(o, "\\r", 2);
			b->len += 2;
			break;
		case '\t':
			memcpy(o, "\\t", 2);
			b->len += 2;
			break;
		default:
			b->len += sprintf(o, "\\u%04X", c);
		}
		i++;
	}
	b->p[b->len] = 0;
}

/* A JSON string as jansson writes it. */
static void ab_str(struct abuf *b, const char *s)
{
	AB_LIT(b, "\"");
	ab_esc(b, s);
	AB_LIT(b, "\"");
}

/* '"key":' with the comma the position needs. */
static void ab_key(struct abuf *b, const char *key)
{
	size_t n = strlen(key);

	if (ab_grow(b, n + 4))
		return;
	if (b->len && b->p[b->len - 1] != '{' && b->p[b->len - 1] != '[')
		b->p[b->len++] = ',';
	b->p[b->len++] = '"';
	memcpy(b->p + b->len, key, n);
	b->len += n;
	b->p[b->len++] = '"';
	b->p[b->len++] = ':';
	b->p[b->len] = 0;
}

static void ab_u64(struct abuf *b, uint64_t v)
{
	char tmp[24];
	int i = sizeof(tmp);

	do {
		tmp[--i] = '0' + v % 10;
		v /= 10;
	} while (v);
	ab_raw(b, tmp + i, sizeof(tmp) - i);
}

static void ab_i64(struct abuf *b, int64_t v)
{
	if (v < 0) {
		AB_LIT(b, "-");
		ab_u64(b, -(uint64_t)v);
	} else {
		ab_u64(b, v);
	}
}

static void kv_str(struct abuf *b, const char *k, const char *v)
{
	ab_key(b, k);
	ab_str(b, v);
}

static void kv_int(struct abuf *b, const char *k, int64_t v)
{
	ab_key(b, k);
	ab_i64(b, v);
}

static void ab_open(struct abuf *b, const char *k)
{
	ab_key(b, k);
	AB_LIT(b, "{");
}

/* ---- chain ---- */

static void hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = 0;
}

/* SHA-256 with a digest and context fetched once (OpenSSL 3's one-shot SHA256() looks the
 * algorithm up, under locks, on every call). */
static void sha256_hex(const char *data, size_t len, char out[AUDIT_HASH_HEX + 1])
{
	static EVP_MD *md;
	static EVP_MD_CTX *ctx;
	unsigned char dg[SHA256_DIGEST_LENGTH];
	unsigned int n = 0;

	if (!md)
		md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!ctx)
		ctx = EVP_MD_CTX_new();
	if (!md || !ctx || !EVP_DigestInit_ex2(ctx, md, NULL) ||
	    !EVP_DigestUpdate(ctx, data, len) || !EVP_DigestFinal_ex(ctx, dg, &n))
		SHA256((const unsigned char *)data, len, dg);
	hex(dg, sizeof(dg), out);
}

/* Start a new chain: random chain id, no records. */
void audit_chain_init(struct audit_chain *c)
{
	unsigned char r[AUDIT_CHAIN_ID_HEX / 2];

	if (getrandom(r, sizeof(r), 0) != sizeof(r)) {
		uint64_t t = util_now_ns(CLOCK_REALTIME) ^ ((uint64_t)getpid() << 40);

		memset(r, 0, sizeof(r));
		memcpy(r, &t, sizeof(t));
	}
	c->seq = 0;
	strcpy(c->hash, AUDIT_GENESIS_HASH);
	hex(r, sizeof(r), c->chain_id);
}

/* Record id of sequence seq: UUID-shaped, chain id (80 bits) then seq (48 bits). */
static void record_uid(const struct audit_chain *c, uint64_t seq, char out[40])
{
	snprintf(out, 40, "%.8s-%.4s-%.4s-%.4s-%012llx", c->chain_id, c->chain_id + 8,
		 c->chain_id + 12, c->chain_id + 16, (unsigned long long)(seq & 0xffffffffffffULL));
}

/*
 * Seal an OCSF record in out (canonical JSON without the hash, whose unmapped object
 * starts at offset um, right after '{'): hash it, insert "hash":"H", add the newline.
 */
static int seal_insert(struct abuf *out, size_t um, char hash[AUDIT_HASH_HEX + 1])
{
	static const size_t ins = sizeof("\"hash\":\"\",") - 1 + AUDIT_HASH_HEX;

	sha256_hex(out->p, out->len, hash);
	if (ab_grow(out, ins + 1))
		return -ENOMEM;
	memmove(out->p + um + ins, out->p + um, out->len - um);
	memcpy(out->p + um, "\"hash\":\"", 8);
	memcpy(out->p + um + 8, hash, AUDIT_HASH_HEX);
	memcpy(out->p + um + 8 + AUDIT_HASH_HEX, "\",", 2);
	out->len += ins;
	out->p[out->len++] = '\n';
	out->p[out->len] = 0;
	return 0;
}

/* Seal a jansson record (chain fields already set): canonical dump, hash, place it. */
static int seal_json(enum audit_format fmt, json_t *rec, struct abuf *out,
		     char hash[AUDIT_HASH_HEX + 1])
{
	json_t *holder = json_object_get(rec, fmt == AUDIT_FMT_OCSF ? "unmapped" : "event");
	char *canon = json_dumps(rec, DUMP_FLAGS);
	int r;

	if (!canon || !holder) {
		free(canon);
		return -ENOMEM;
	}
	sha256_hex(canon, strlen(canon), hash);
	free(canon);
	json_object_set_new(holder, "hash", json_string(hash));
	canon = json_dumps(rec, DUMP_FLAGS);
	if (!canon)
		return -ENOMEM;
	out->len = 0;
	ab_raw(out, canon, strlen(canon));
	AB_LIT(out, "\n");
	r = out->p && out->p[out->len - 1] == '\n' ? 0 : -ENOMEM;
	free(canon);
	return r;
}

/* ---- names ---- */

static const char *op_name(uint8_t op)
{
	switch (op) {
	case JITD_OP_EXEC:
		return "exec";
	case JITD_OP_OPEN:
		return "open";
	case JITD_OP_CONNECT:
		return "connect";
	case JITD_OP_SENDMSG:
		return "sendmsg";
	case JITD_OP_LINK:
		return "link";
	case JITD_OP_RENAME:
		return "rename";
	case JITD_OP_PTRACE:
		return "ptrace";
	case JITD_OP_SETATTR:
		return "setattr";
	case JITD_OP_XATTR:
		return "xattr";
	case JITD_OP_UNLINK:
		return "unlink";
	case JITD_OP_LOGINUID:
		return "loginuid";
	case JITD_OP_SOCKET:
		return "socket";
	case JITD_OP_BPF:
		return "bpf";
	case JITD_OP_SIGNAL:
		return "signal";
	case JITD_OP_UMOUNT:
		return "umount";
	case JITD_OP_READ:
		return "read";
	case JITD_OP_WRITE:
		return "write";
	case JITD_OP_MMAP:
		return "mmap";
	case JITD_OP_SEND:
		return "send";
	case JITD_OP_RECV:
		return "recv";
	case JITD_OP_TRACK:
		return "track";
	}
	return "unknown";
}

const char *audit_op_name(uint8_t op)
{
	return op_name(op);
}

/* Decisions about a network destination (a tracked socket's cut or track: an address). */
#define NET_DECISION(d)                                                                            \
	((d)->op == JITD_OP_CONNECT || (d)->op == JITD_OP_SENDMSG || (d)->op == JITD_OP_SEND ||    \
	 (d)->op == JITD_OP_RECV || ((d)->op == JITD_OP_TRACK && (d)->addr))

/* Decisions about another process (the target's pid in the record, not a file). */
#define PROC_OP(op) ((op) == JITD_OP_PTRACE || (op) == JITD_OP_SIGNAL)

struct ocsf_class {
	int category_uid, class_uid, activity_id;
	const char *category, *class, *activity;
};

static const char CAT_SYSTEM[] = "System Activity", CAT_NET[] = "Network Activity",
		  CAT_IAM[] = "Identity & Access Management", CAT_FINDINGS[] = "Findings";

/* The OCSF class and activity of a kernel decision. */
static struct ocsf_class decision_class(uint8_t op)
{
	switch (op) {
	case JITD_OP_EXEC:
		return (struct ocsf_class){1, 1007, 1, CAT_SYSTEM, "Process Activity", "Launch"};
	case JITD_OP_CONNECT:
		return (struct ocsf_class){4, 4001, 1, CAT_NET, "Network Activity", "Open"};
	case JITD_OP_SENDMSG:
	case JITD_OP_SEND:
	case JITD_OP_RECV:
		/* a send or receive on a socket connected under a grant that ended */
		return (struct ocsf_class){4, 4001, 6, CAT_NET, "Network Activity", "Traffic"};
	case JITD_OP_READ:
		/* a read of a file opened under a grant that ended */
		return (struct ocsf_class){1, 1001, 2, CAT_SYSTEM, "File System Activity", "Read"};
	case JITD_OP_WRITE:
		return (struct ocsf_class){1,	    1001, 3, CAT_SYSTEM, "File System Activity",
					   "Update"};
	case JITD_OP_RENAME:
		return (struct ocsf_class){1,	    1001, 5, CAT_SYSTEM, "File System Activity",
					   "Rename"};
	case JITD_OP_LINK:
		return (struct ocsf_class){1,	   1001, 99, CAT_SYSTEM, "File System Activity",
					   "Other"};
	case JITD_OP_PTRACE:
		/* Opening another process for control: ptrace, /proc/PID/mem. */
		return (struct ocsf_class){1, 1007, 3, CAT_SYSTEM, "Process Activity", "Open"};
	case JITD_OP_SETATTR:
	case JITD_OP_XATTR:
		return (struct ocsf_class){
			1, 1001, 6, CAT_SYSTEM, "File System Activity", "Set Attributes"};
	case JITD_OP_UNLINK:
		return (struct ocsf_class){1,	    1001, 4, CAT_SYSTEM, "File System Activity",
					   "Delete"};
	case JITD_OP_LOGINUID:
		/* Writing /proc/PID/loginuid: an attempt to change who the process is. */
		return (struct ocsf_class){1,	    1001, 3, CAT_SYSTEM, "File System Activity",
					   "Update"};
	case JITD_OP_SOCKET:
		return (struct ocsf_class){4, 4001, 1, CAT_NET, "Network Activity", "Open"};
	case JITD_OP_SIGNAL:
		/* A signal to jitd: terminating it. */
		return (struct ocsf_class){1, 1007, 2, CAT_SYSTEM, "Process Activity", "Terminate"};
	case JITD_OP_BPF:
	case JITD_OP_UMOUNT:
		/* Reaching jitd's kernel objects, or unmounting what pins them. */
		return (struct ocsf_class){1, 1003, 99, CAT_SYSTEM, "Kernel Activity", "Other"};
	default:
		return (struct ocsf_class){1, 1001, 14, CAT_SYSTEM, "File System Activity", "Open"};
	}
}

/* A fleet event without a local grant (request, approval... of fleet request N, or the
 * link's own events) correlates as "fN". */
static void fleet_correlation(json_t *rec, const json_t *f)
{
	json_t *id = json_object_get(f, "fleet_id");

	if (!id)
		id = json_object_get(json_object_get(f, "fleet"), "fleet_id");
	if (json_is_integer(id))
		json_object_set_new(json_object_get(rec, "metadata"), "correlation_uid",
				    json_sprintf("f%lld", (long long)json_integer_value(id)));
}

/* The OCSF class and activity of an agent event (README, "Audit format"). */
static struct ocsf_class event_class(const char *ev)
{
	static const struct {
		const char *ev;
		struct ocsf_class c;
	} t[] = {
		{"requested", {3, 3004, 1, CAT_IAM, "Entity Management", "Create"}},
		{"approved", {3, 3004, 3, CAT_IAM, "Entity Management", "Update"}},
		{"denied", {3, 3004, 3, CAT_IAM, "Entity Management", "Update"}},
		{"policy_applied", {3, 3004, 3, CAT_IAM, "Entity Management", "Update"}},
		{"policy_refused", {3, 3004, 3, CAT_IAM, "Entity Management", "Update"}},
		{"granted", {3, 3005, 1, CAT_IAM, "User Access Management", "Assign Privileges"}},
		/* granted at once without approval (severity High, event_severity) */
		{"break_glass",
		 {3, 3005, 1, CAT_IAM, "User Access Management", "Assign Privileges"}},
		/* a break-glass grant reviewed: "verdict" approve or flag */
		{"reviewed", {3, 3004, 3, CAT_IAM, "Entity Management", "Update"}},
		{"extended", {3, 3005, 1, CAT_IAM, "User Access Management", "Assign Privileges"}},
		/* a scheduled or fleet grant reaching its start time */
		{"activated", {3, 3005, 1, CAT_IAM, "User Access Management", "Assign Privileges"}},
		/* a cgroup or unit grant bound to the new cgroup of its restarted unit */
		{"rebound", {3, 3005, 1, CAT_IAM, "User Access Management", "Assign Privileges"}},
		{"expired", {3, 3005, 2, CAT_IAM, "User Access Management", "Revoke Privileges"}},
		{"revoked", {3, 3005, 2, CAT_IAM, "User Access Management", "Revoke Privileges"}},
		{"started", {1, 1008, 6, CAT_SYSTEM, "Event Log Activity", "Start"}},
		{"stopped", {1, 1008, 7, CAT_SYSTEM, "Event Log Activity", "Stop"}},
		/* agent/alert.c: a burst of denials, refused or off-hours requests, break-glass,
		 * tamper */
		{"alert", {2, 2004, 1, CAT_FINDINGS, "Detection Finding", "Create"}},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(t[i].ev, ev))
			return t[i].c;
	/* records_dropped, selftest and anything new: Event Log Activity, Other. */
	return (struct ocsf_class){1, 1008, 99, CAT_SYSTEM, "Event Log Activity", "Other"};
}

/* The OCSF severity of an agent event that is not a failure: High (4) for a break-glass,
 * Medium (3) for a flagged review, else Informational (1). */
static int event_severity(const char *event, const json_t *f)
{
	if (!strcmp(event, "break_glass"))
		return 4;
	if (!strcmp(event, "reviewed") &&
	    !strcmp(json_string_value(json_object_get(f, "verdict")) ?: "", "flag"))
		return 3;
	return 1;
}

static const char *severity_name(int id)
{
	static const char *const n[] = {"Unknown", "Informational", "Low",  "Medium",
					"High",	   "Critical",	    "Fatal"};

	return id >= 0 && id <= 6 ? n[id] : "Other";
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s && s[1] ? s + 1 : path;
}

/* ---- OCSF decision (hand-written, sorted keys) ---- */

/* Sanitized comm: printable ASCII only. */
static void clean_comm(const char *in, char out[JITD_COMM_LEN + 1])
{
	size_t i;

	for (i = 0; i < JITD_COMM_LEN && in && in[i]; i++)
		out[i] = (unsigned char)in[i] < 0x20 || (unsigned char)in[i] >= 0x7f ? '?' : in[i];
	out[i] = 0;
}

static void fill_decision_summary(const struct audit_decision *d, uint64_t seq,
				  struct audit_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->event = "decision";
	s->decision = d->allow ? "allow" : "deny";
	s->op = op_name(d->op);
	if (d->user)
		snprintf(s->user, sizeof(s->user), "%s", d->user);
	else
		snprintf(s->user, sizeof(s->user), "%u", d->subject_uid);
	if (d->addr)
		snprintf(s->object, sizeof(s->object), d->v6 ? "[%s]:%u" : "%s:%u", d->addr,
			 d->port);
	else if (PROC_OP(d->op))
		snprintf(s->object, sizeof(s->object), "pid %u (cgroup %llu)", d->target_pid,
			 (unsigned long long)d->target_cgroup);
	else if (d->path)
		snprintf(s->object, sizeof(s->object), "%s", d->path);
	else
		snprintf(s->object, sizeof(s->object), "%u:%u:%llu", d->dev_major, d->dev_minor,
			 (unsigned long long)d->ino);
	s->resource = d->resource;
	s->grant_id = d->grant_id;
	if (d->allow)
		snprintf(s->reason, sizeof(s->reason), "grant %llu",
			 (unsigned long long)d->grant_id);
	else
		snprintf(s->reason, sizeof(s->reason), "no active grant for %s", d->resource);
	s->seq = seq;
	s->time_ms = d->time_ns / 1000000;
	s->priority = d->allow ? 6 : 4;
	s->count = d->count;
}

/* Summary of a decision (journald, subscribers), computed only when someone needs it. */
void audit_decision_summary(const struct audit_decision *d, uint64_t seq, struct audit_summary *s)
{
	fill_decision_summary(d, seq, s);
}

/* The constant parts of a decision record, per (op, allow) and per host, built once. */
struct frags {
	struct abuf head[JITD_OP_MAX + 1][2]; /* "{...,"actor":{"process":{"name": */
	struct abuf cls[JITD_OP_MAX + 1];     /* ,"category_name"..."class_uid":N, */
	struct abuf tail[JITD_OP_MAX + 1][2]; /* "severity".."status_detail":" */
	struct abuf type[JITD_OP_MAX + 1];    /* "type_name":..,"unmapped":{ */
	struct abuf device, product;
	char host[256], version[64];
	bool built;
};

static struct frags F;

static void build_frags(const struct audit_meta *m)
{
	for (int op = JITD_OP_EXEC; op <= JITD_OP_MAX; op++) {
		struct ocsf_class k = decision_class(op);
		char tn[96];

		for (int allow = 0; allow < 2; allow++) {
			struct abuf *h = &F.head[op][allow], *t = &F.tail[op][allow];
			int sev = allow ? 1 : 3;

			h->len = t->len = 0;
			AB_LIT(h, "{");
			kv_str(h, "action", allow ? "Allowed" : "Denied");
			kv_int(h, "action_id", allow ? 1 : 2);
			kv_int(h, "activity_id", k.activity_id);
			kv_str(h, "activity_name", k.activity_id == 99 ? "Link" : k.activity);
			AB_LIT(h, ",\"actor\":{\"process\":{\"name\":");
			AB_LIT(t, "{");
			kv_str(t, "severity", severity_name(sev));
			kv_int(t, "severity_id", sev);
			kv_str(t, "status", allow ? "Success" : "Failure");
			AB_LIT(t, ",\"status_detail\":\"");
			memmove(t->p, t->p + 1, t->len); /* drop the '{' used to start keys */
			t->len--;
		}
		F.cls[op].len = 0;
		AB_LIT(&F.cls[op], "{");
		kv_str(&F.cls[op], "category_name", k.category);
		kv_int(&F.cls[op], "category_uid", k.category_uid);
		kv_str(&F.cls[op], "class_name", k.class);
		kv_int(&F.cls[op], "class_uid", k.class_uid);
		F.cls[op].p[0] = ',';
		AB_LIT(&F.cls[op], ",");
		snprintf(tn, sizeof(tn), "%s: %s", k.class, k.activity);
		F.type[op].len = 0;
		AB_LIT(&F.type[op], "{");
		kv_str(&F.type[op], "type_name", tn);
		kv_int(&F.type[op], "type_uid", (int64_t)k.class_uid * 100 + k.activity_id);
		AB_LIT(&F.type[op], ",\"unmapped\":{");
		memmove(F.type[op].p, F.type[op].p + 1, F.type[op].len);
		F.type[op].len--;
	}
	F.device.len = 0;
	AB_LIT(&F.device, "\"device\":{");
	kv_str(&F.device, "hostname", m->hostname);
	kv_int(&F.device, "type_id", 0);
	AB_LIT(&F.device, "},");
	F.product.len = 0;
	AB_LIT(&F.product, "{");
	kv_str(&F.product, "log_name", "jitd-audit");
	ab_open(&F.product, "product");
	kv_str(&F.product, "name", "jitd");
	kv_str(&F.product, "vendor_name", "jitd");
	kv_str(&F.product, "version", m->version);
	AB_LIT(&F.product, "},\"profiles\":[\"datetime\",\"host\",\"security_control\"],"
			   "\"sequence\":");
	memmove(F.product.p, F.product.p + 1, F.product.len);
	F.product.len--;
	snprintf(F.host, sizeof(F.host), "%s", m->hostname);
	snprintf(F.version, sizeof(F.version), "%s", m->version);
	F.built = true;
}

static void ab_buf(struct abuf *b, const struct abuf *f)
{
	ab_raw(b, f->p, f->len);
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ", the date and time cached per second. */
static void ab_time_dt(struct abuf *b, int64_t ns)
{
	static int64_t cached_s = -1;
	static char cached[24];
	int64_t s = ns / NS_PER_S, ms = (ns / 1000000) % 1000;
	char tail[6] = {'.', '0' + ms / 100, '0' + ms / 10 % 10, '0' + ms % 10, 'Z', '"'};

	if (s != cached_s) {
		struct tm tm;
		time_t t = s;

		gmtime_r(&t, &tm);
		strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
		cached_s = s;
	}
	AB_LIT(b, "\"");
	ab_raw(b, cached, strlen(cached));
	ab_raw(b, tail, sizeof(tail));
}

static void ab_hex48(struct abuf *b, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char o[12];

	for (int i = 11; i >= 0; i--, v >>= 4)
		o[i] = digits[v & 15];
	ab_raw(b, o, sizeof(o));
}

/* "K":ms,"K_dt":"..", of an aggregate's start or end (OCSF base attributes). */
static void ab_agg_time(struct abuf *b, const char *k, int64_t ns)
{
	AB_LIT(b, "\"");
	ab_raw(b, k, strlen(k));
	AB_LIT(b, "\":");
	ab_i64(b, ns / 1000000);
	AB_LIT(b, ",\"");
	ab_raw(b, k, strlen(k));
	AB_LIT(b, "_dt\":");
	ab_time_dt(b, ns);
	AB_LIT(b, ",");
}

/* "name":"x","uid":"N"} of an OCSF user (the key and '{' written by the caller). */
static void ab_user_body(struct abuf *b, const char *name, uint32_t uid)
{
	if (name) {
		AB_LIT(b, "\"name\":");
		ab_str(b, name);
		AB_LIT(b, ",");
	}
	AB_LIT(b, "\"uid\":\"");
	ab_u64(b, uid);
	AB_LIT(b, "\"}");
}

/* A file object body: {"name":..,"path":..,"type":..,"type_id":N,"uid":"maj:min:ino"} */
static void ab_file(struct abuf *b, const struct audit_decision *d, bool exe)
{
	AB_LIT(b, "{\"name\":");
	if (d->path) {
		ab_str(b, base_name(d->path));
		AB_LIT(b, ",\"path\":");
		ab_str(b, d->path);
	} else {
		AB_LIT(b, "\"inode ");
		ab_u64(b, d->ino);
		AB_LIT(b, "\"");
	}
	if (exe)
		AB_LIT(b, ",\"type_id\":1,\"uid\":\"");
	else
		AB_LIT(b, ",\"type_id\":0,\"uid\":\"");
	ab_u64(b, d->dev_major);
	AB_LIT(b, ":");
	ab_u64(b, d->dev_minor);
	AB_LIT(b, ":");
	ab_u64(b, d->ino);
	AB_LIT(b, "\"}");
}

/* "comm","pid","tid","user" of the acting process and the subject user, closing "actor". */
static void ocsf_dec_actor(struct abuf *b, const struct audit_decision *d, const char *comm)
{
	ab_str(b, comm);
	AB_LIT(b, ",\"pid\":");
	ab_u64(b, d->pid);
	AB_LIT(b, ",\"tid\":");
	ab_u64(b, d->tid);
	AB_LIT(b, ",\"user\":{");
	ab_user_body(b, d->proc_user, d->uid);
	AB_LIT(b, "},\"user\":{");
	ab_user_body(b, d->user, d->subject_uid);
	AB_LIT(b, "}");
}

/* "connection_info" (network), "device", "disposition", then "dst_endpoint" or "file". */
static void ocsf_dec_target(struct abuf *b, const struct audit_decision *d, uint8_t op, bool net)
{
	if (net) {
		if (d->v6)
			AB_LIT(b,
			       "\"connection_info\":{\"direction\":\"Outbound\",\"direction_id\":2,"
			       "\"protocol_ver_id\":6},");
		else
			AB_LIT(b,
			       "\"connection_info\":{\"direction\":\"Outbound\",\"direction_id\":2,"
			       "\"protocol_ver_id\":4},");
	}
	if (d->count) {
		AB_LIT(b, "\"count\":");
		ab_u64(b, d->count);
		AB_LIT(b, ",");
	}
	ab_buf(b, &F.device);
	if (d->allow)
		AB_LIT(b, "\"disposition\":\"Allowed\",\"disposition_id\":1,");
	else
		AB_LIT(b, "\"disposition\":\"Blocked\",\"disposition_id\":2,");
	if (net) {
		AB_LIT(b, "\"dst_endpoint\":{\"ip\":");
		ab_str(b, d->addr ? d->addr : "");
		AB_LIT(b, ",\"port\":");
		ab_u64(b, d->port);
		AB_LIT(b, "},");
	}
	if (d->count)
		ab_agg_time(b, "end_time", d->end_ns);
	if (!net && op != JITD_OP_EXEC && !PROC_OP(op)) {
		AB_LIT(b, "\"file\":");
		ab_file(b, d, false);
		AB_LIT(b, ",");
	}
}

/* "message": "denied open /srv/secret.txt by alice (secrets)" */
static void ocsf_dec_message(struct abuf *b, const struct audit_decision *d, uint8_t op,
			     const char *opn, bool net)
{
	AB_LIT(b, "\"message\":\"");
	if (d->allow)
		AB_LIT(b, "allowed ");
	else
		AB_LIT(b, "denied ");
	ab_raw(b, opn, strlen(opn));
	AB_LIT(b, " ");
	if (net) {
		ab_esc(b, d->addr ? d->addr : "");
		AB_LIT(b, " port ");
		ab_u64(b, d->port);
	} else if (PROC_OP(op)) {
		AB_LIT(b, "pid ");
		ab_u64(b, d->target_pid);
	} else if (d->path) {
		ab_esc(b, d->path);
	} else {
		AB_LIT(b, "inode ");
		ab_u64(b, d->ino);
	}
	AB_LIT(b, " by ");
	if (d->user)
		ab_esc(b, d->user);
	else
		ab_u64(b, d->subject_uid);
	AB_LIT(b, " (");
	ab_esc(b, d->resource);
	AB_LIT(b, ")\",");
}

/* "metadata" (correlation, product, sequence, record uid, version) and "policy". */
static void ocsf_dec_metadata(struct abuf *b, const struct audit_decision *d,
			      const struct audit_chain *c, uint64_t seq)
{
	AB_LIT(b, "\"metadata\":{");
	if (d->grant_id) {
		AB_LIT(b, "\"correlation_uid\":\"");
		ab_u64(b, d->grant_id);
		AB_LIT(b, "\",");
	}
	ab_buf(b, &F.product);
	ab_u64(b, seq);
	AB_LIT(b, ",\"uid\":\"");
	ab_raw(b, c->chain_id, 8);
	AB_LIT(b, "-");
	ab_raw(b, c->chain_id + 8, 4);
	AB_LIT(b, "-");
	ab_raw(b, c->chain_id + 12, 4);
	AB_LIT(b, "-");
	ab_raw(b, c->chain_id + 16, 4);
	AB_LIT(b, "-");
	ab_hex48(b, seq);
	AB_LIT(b, "\",\"version\":\"" AUDIT_OCSF_VERSION "\"},\"policy\":{\"name\":");
	ab_str(b, d->resource);
	AB_LIT(b, ",\"version\":\"");
	ab_i64(b, d->policy_serial);
	AB_LIT(b, "\"},");
}

/* "process": the executable (exec) or the target process (ptrace, signal); else nothing. */
static void ocsf_dec_process(struct abuf *b, const struct audit_decision *d, uint8_t op,
			     const char *comm)
{
	if (op == JITD_OP_EXEC) {
		AB_LIT(b, "\"process\":{\"file\":");
		ab_file(b, d, true);
		AB_LIT(b, ",\"name\":");
		ab_str(b, d->path ? base_name(d->path) : comm);
		AB_LIT(b, ",\"pid\":");
		ab_u64(b, d->pid);
		AB_LIT(b, "},");
	} else if (PROC_OP(op)) {
		AB_LIT(b, "\"process\":{\"pid\":");
		ab_u64(b, d->target_pid);
		AB_LIT(b, "},");
	}
}

/* "severity" to "time_dt", then "type_name", "type_uid" and the opening of "unmapped"; an
 * aggregate's "start_time" and "start_time_dt" between "severity_id" and "status". */
static void ocsf_dec_status(struct abuf *b, const struct audit_decision *d, uint8_t op)
{
	const struct abuf *t = &F.tail[op][d->allow];
	const char *st = d->count ? memmem(t->p, t->len, "\"status\":", 9) : NULL;

	if (st) {
		ab_raw(b, t->p, (size_t)(st - t->p));
		ab_agg_time(b, "start_time", d->start_ns);
		ab_raw(b, st, t->len - (size_t)(st - t->p));
	} else {
		ab_buf(b, t);
	}
	if (d->allow) {
		AB_LIT(b, "grant ");
		ab_u64(b, d->grant_id);
	} else {
		AB_LIT(b, "no active grant for ");
		ab_esc(b, d->resource);
	}
	AB_LIT(b, "\",\"status_id\":");
	ab_u64(b, d->allow ? 1 : 2);
	AB_LIT(b, ",\"time\":");
	ab_i64(b, d->time_ns / 1000000);
	AB_LIT(b, ",\"time_dt\":");
	ab_time_dt(b, d->time_ns);
	AB_LIT(b, ",");
	ab_buf(b, &F.type[op]);
}

/* "unmapped" after its opening: "jitd" (cgroup, decision, loginuid, op) and "prev_hash". */
static void ocsf_dec_unmapped(struct abuf *b, const struct audit_decision *d,
			      const struct audit_chain *c, const char *opn)
{
	AB_LIT(b, "\"jitd\":{\"cgroup_id\":");
	ab_u64(b, d->cgroup_id);
	if (d->allow)
		AB_LIT(b, ",\"decision\":\"allow\",\"loginuid\":");
	else
		AB_LIT(b, ",\"decision\":\"deny\",\"loginuid\":");
	if (d->loginuid == JITD_NO_LOGINUID)
		AB_LIT(b, "null");
	else
		ab_u64(b, d->loginuid);
	AB_LIT(b, ",\"op\":\"");
	ab_raw(b, opn, strlen(opn));
	AB_LIT(b, "\"},\"prev_hash\":\"");
	ab_raw(b, c->hash, AUDIT_HASH_HEX);
	AB_LIT(b, "\"}}");
}

static int ocsf_decision(const struct audit_meta *m, const struct audit_decision *d,
			 struct audit_chain *c, struct abuf *b, struct audit_summary *sum)
{
	bool net = NET_DECISION(d);
	uint8_t op = d->op >= JITD_OP_EXEC && d->op <= JITD_OP_MAX ? d->op : JITD_OP_OPEN;
	const char *opn = op_name(op);
	uint64_t seq = c->seq + 1;
	char comm[JITD_COMM_LEN + 1];
	size_t um;
	int r;

	if (!F.built || strcmp(F.host, m->hostname) || strcmp(F.version, m->version))
		build_frags(m);
	clean_comm(d->comm, comm);
	/* the keys in sorted order, each helper writing the next ones */
	b->len = 0;
	ab_buf(b, &F.head[op][d->allow]);
	ocsf_dec_actor(b, d, comm);
	ab_buf(b, &F.cls[op]);
	ocsf_dec_target(b, d, op, net);
	ocsf_dec_message(b, d, op, opn, net);
	ocsf_dec_metadata(b, d, c, seq);
	ocsf_dec_process(b, d, op, comm);
	ocsf_dec_status(b, d, op);
	um = b->len;
	ocsf_dec_unmapped(b, d, c, opn);
	if (!b->p || b->p[b->len - 1] != '}')
		return -ENOMEM;
	r = seal_insert(b, um, c->hash);
	if (r)
		return r;
	c->seq = seq;
	if (sum)
		fill_decision_summary(d, seq, sum);
	return 0;
}

/* ---- ECS (jansson) ---- */

static json_t *ecs_base(const struct audit_meta *m, int64_t time_ns, const char *action,
			const char *category, const char *type1, const char *type2,
			const char *outcome)
{
	char tbuf[40];
	json_t *types = json_array();

	json_array_append_new(types, json_string(type1));
	if (type2)
		json_array_append_new(types, json_string(type2));
	return json_pack("{s:s,s:{s:s},s:{s:s,s:[s],s:o,s:s,s:s,s:s,s:s},s:{s:s},"
			 "s:{s:s,s:s,s:s}}",
			 "@timestamp", util_format_time(time_ns, tbuf, sizeof(tbuf)), "ecs",
			 "version", AUDIT_ECS_VERSION, "event", "kind", "event", "category",
			 category, "type", types, "action", action, "outcome", outcome, "module",
			 "jitd", "dataset", "jitd.audit", "host", "hostname", m->hostname,
			 "observer", "product", "jitd", "vendor", "jitd", "version", m->version);
}

static int ecs_seal(const struct audit_chain *c, json_t *rec, struct audit_chain *nc,
		    struct abuf *out)
{
	json_t *ev = json_object_get(rec, "event"), *j = json_object_get(rec, "jitd");
	char uid[40];

	*nc = *c;
	nc->seq = c->seq + 1;
	record_uid(c, nc->seq, uid);
	if (!j) {
		j = json_object();
		json_object_set_new(rec, "jitd", j);
	}
	json_object_set_new(ev, "sequence", json_integer((json_int_t)nc->seq));
	json_object_set_new(ev, "id", json_string(uid));
	json_object_set_new(j, "prev_hash", json_string(c->hash));
	return seal_json(AUDIT_FMT_ECS, rec, out, nc->hash);
}

/* What the decision is about: "destination" and "network", "target", or "file" (and, for
 * exec, "process.executable"). */
static void ecs_dec_object(json_t *rec, const struct audit_decision *d, bool net)
{
	if (net) {
		json_object_set_new(
			rec, "destination",
			json_pack("{s:s,s:i}", "ip", d->addr ? d->addr : "", "port", d->port));
		json_object_set_new(rec, "network",
				    json_pack("{s:s,s:s}", "type", d->v6 ? "ipv6" : "ipv4",
					      "direction", "egress"));
	} else if (PROC_OP(d->op)) {
		json_object_set_new(
			rec, "target",
			json_pack("{s:{s:I}}", "process", "pid", (json_int_t)d->target_pid));
	} else {
		char dev[32];
		json_t *f;

		snprintf(dev, sizeof(dev), "%u:%u", d->dev_major, d->dev_minor);
		f = json_pack("{s:s,s:s}", "inode", "", "device", dev);
		json_object_set_new(f, "inode", json_sprintf("%llu", (unsigned long long)d->ino));
		if (d->path) {
			json_object_set_new(f, "path", json_string(d->path));
			json_object_set_new(f, "name", json_string(base_name(d->path)));
		}
		json_object_set_new(rec, d->op == JITD_OP_EXEC ? "process" : "file",
				    d->op == JITD_OP_EXEC
					    ? json_deep_copy(json_object_get(rec, "process"))
					    : f);
		if (d->op == JITD_OP_EXEC) {
			json_object_set_new(json_object_get(rec, "process"), "executable",
					    json_string(d->path ? d->path : ""));
			json_object_set_new(rec, "file", f);
		}
	}
}

/* An aggregate of allows: event.start, event.end and jitd.count (ECS has no count). */
static void ecs_dec_aggregate(json_t *rec, const struct audit_decision *d)
{
	json_t *ev = json_object_get(rec, "event");
	char t[40];

	json_object_set_new(ev, "start", json_string(util_format_time(d->start_ns, t, sizeof(t))));
	json_object_set_new(ev, "end", json_string(util_format_time(d->end_ns, t, sizeof(t))));
	json_object_set_new(json_object_get(rec, "jitd"), "count",
			    json_integer((json_int_t)d->count));
}

static int ecs_decision(const struct audit_meta *m, const struct audit_decision *d,
			struct audit_chain *c, struct abuf *out, struct audit_summary *sum)
{
	bool net = NET_DECISION(d);
	bool proc = d->op == JITD_OP_EXEC || PROC_OP(d->op);
	const char *cat = proc ? "process" : net ? "network" : "file";
	const char *t1 = d->op == JITD_OP_EXEC ? "start" : net ? "connection" : "access";
	char comm[JITD_COMM_LEN + 1], action[32], uid[16];
	struct audit_summary s;
	struct audit_chain nc;
	json_t *rec;
	int r;

	fill_decision_summary(d, c->seq + 1, &s);
	clean_comm(d->comm, comm);
	snprintf(action, sizeof(action), "%s-%s", s.op, s.decision);
	rec = ecs_base(m, d->time_ns, action, cat, t1, d->allow ? "allowed" : "denied",
		       d->allow ? "success" : "failure");
	if (!rec)
		return -ENOMEM;
	json_object_set_new(json_object_get(rec, "event"), "reason", json_string(s.reason));
	snprintf(uid, sizeof(uid), "%u", d->subject_uid);
	json_object_set_new(rec, "user", json_pack("{s:s}", "id", uid));
	if (d->user)
		json_object_set_new(json_object_get(rec, "user"), "name", json_string(d->user));
	snprintf(uid, sizeof(uid), "%u", d->uid);
	json_object_set_new(rec, "process",
			    json_pack("{s:I,s:{s:I},s:s,s:{s:s}}", "pid", (json_int_t)d->pid,
				      "thread", "id", (json_int_t)d->tid, "name", comm, "user",
				      "id", uid));
	ecs_dec_object(rec, d, net);
	json_object_set_new(rec, "rule",
			    json_pack("{s:s,s:s}", "name", d->resource, "ruleset", "jitd"));
	json_object_set_new(rec, "message",
			    json_sprintf("%s %s %s by %s (%s): %s", d->allow ? "allowed" : "denied",
					 s.op, s.object, s.user, d->resource, s.reason));
	json_object_set_new(
		rec, "jitd",
		json_pack("{s:o,s:o,s:s,s:I,s:I}", "grant_id",
			  d->grant_id ? json_integer((json_int_t)d->grant_id) : json_null(),
			  "loginuid",
			  d->loginuid == JITD_NO_LOGINUID ? json_null() : json_integer(d->loginuid),
			  "resource", d->resource, "cgroup_id", (json_int_t)d->cgroup_id,
			  "subject_uid", (json_int_t)d->subject_uid));
	if (d->count)
		ecs_dec_aggregate(rec, d);
	r = ecs_seal(c, rec, &nc, out);
	json_decref(rec);
	if (r)
		return r;
	*c = nc;
	if (sum)
		*sum = s;
	return 0;
}

/* Format one decision as a sealed record line into out, advancing *c. */
int audit_fmt_decision(enum audit_format fmt, const struct audit_meta *m,
		       const struct audit_decision *d, struct audit_chain *c, struct abuf *out,
		       struct audit_summary *sum)
{
	if (fmt == AUDIT_FMT_ECS)
		return ecs_decision(m, d, c, out, sum);
	return ocsf_decision(m, d, c, out, sum);
}

/* ---- agent events ---- */

static const char *fstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void fill_event_summary(const char *event, const json_t *f, int64_t time_ns, uint64_t seq,
			       struct audit_summary *s)
{
	const json_t *g = json_object_get(f, "grant"), *sub = json_object_get(g, "subject");
	const json_t *actor = json_object_get(f, "actor");
	const char *str;

	memset(s, 0, sizeof(*s));
	s->event = event;
	s->op = event;
	s->seq = seq;
	s->time_ms = time_ns / 1000000;
	s->priority = 5;
	if (!strcmp(event, "records_dropped") || !strcmp(event, "policy_refused") ||
	    !strcmp(event, "seal_failed") ||
	    (!strcmp(event, "selftest") && strcmp(fstr(f, "result") ?: "", "passed")))
		s->priority = 3;
	if (!strcmp(event, "alert")) {
		s->priority = 2;
		actor = json_object_get(json_object_get(f, "alert"), "subject");
	}
	if (event_severity(event, f) > 1)
		s->priority = 4; /* break-glass, flagged review: warning */
	if (actor && fstr(actor, "user"))
		snprintf(s->user, sizeof(s->user), "%s", fstr(actor, "user"));
	else if (actor && json_is_integer(json_object_get(actor, "uid")))
		snprintf(s->user, sizeof(s->user), "%lld",
			 (long long)json_integer_value(json_object_get(actor, "uid")));
	else if (sub && fstr(sub, "user"))
		snprintf(s->user, sizeof(s->user), "%s", fstr(sub, "user"));
	else if (sub && json_is_integer(json_object_get(sub, "uid")))
		snprintf(s->user, sizeof(s->user), "%lld",
			 (long long)json_integer_value(json_object_get(sub, "uid")));
	else
		snprintf(s->user, sizeof(s->user), "-");
	if (g) {
		s->resource = fstr(g, "resource");
		s->grant_id = json_integer_value(json_object_get(g, "id"));
		snprintf(s->object, sizeof(s->object), "grant %llu %s",
			 (unsigned long long)s->grant_id, s->resource ?: "");
	} else if (fstr(f, "source")) {
		snprintf(s->object, sizeof(s->object), "%s", fstr(f, "source"));
	}
	if ((str = fstr(f, "reason")) || (str = fstr(f, "error")) || (str = fstr(f, "result")))
		snprintf(s->reason, sizeof(s->reason), "%s", str);
	else if (json_is_integer(json_object_get(f, "count")))
		snprintf(s->reason, sizeof(s->reason), "%lld records lost",
			 (long long)json_integer_value(json_object_get(f, "count")));
	else if (g && fstr(g, "reason"))
		snprintf(s->reason, sizeof(s->reason), "%s", fstr(g, "reason"));
	else if ((str = fstr(json_object_get(f, "alert"), "desc")))
		snprintf(s->reason, sizeof(s->reason), "%s", str);
	else if (!strcmp(event, "sealed") && fstr(f, "key_id"))
		snprintf(s->reason, sizeof(s->reason), "epoch %lld up to sequence %lld%s (key %s)",
			 (long long)json_integer_value(json_object_get(f, "epoch")),
			 (long long)json_integer_value(json_object_get(f, "sealed_sequence")),
			 json_is_true(json_object_get(f, "final")) ? ", final" : "",
			 fstr(f, "key_id"));
}

static json_t *uid_json(json_int_t uid)
{
	return json_sprintf("%lld", (long long)uid);
}

/* Who did it: "actor", else "by_uid", else who granted it (granted, extended), else jitd. */
static json_t *ocsf_actor(const char *event, const json_t *f)
{
	const json_t *a = json_object_get(f, "actor");
	json_t *u;

	if (!json_is_integer(json_object_get(a, "uid")) &&
	    json_is_integer(json_object_get(f, "by_uid")))
		return json_pack("{s:{s:o}}", "user", "uid",
				 uid_json(json_integer_value(json_object_get(f, "by_uid"))));
	if (!json_is_integer(json_object_get(a, "uid")) &&
	    (!strcmp(event, "granted") || !strcmp(event, "extended")))
		a = json_object_get(json_object_get(f, "grant"), "granted_by");
	if (json_is_integer(json_object_get(a, "uid"))) {
		u = json_pack("{s:o}", "uid",
			      uid_json(json_integer_value(json_object_get(a, "uid"))));
		if (fstr(a, "user"))
			json_object_set_new(u, "name", json_string(fstr(a, "user")));
		return json_pack("{s:o}", "user", u);
	}
	return json_pack("{s:{s:s,s:i}}", "process", "name", "jitd", "pid", (int)getpid());
}

static json_t *ocsf_subject_user(const json_t *g)
{
	const json_t *sub = json_object_get(g, "subject");
	json_t *u = json_object();

	if (json_is_integer(json_object_get(sub, "uid")))
		json_object_set_new(u, "uid",
				    json_sprintf("%lld", (long long)json_integer_value(
								 json_object_get(sub, "uid"))));
	if (fstr(sub, "user"))
		json_object_set_new(u, "name", json_string(fstr(sub, "user")));
	if (fstr(sub, "cgroup")) {
		if (!json_object_get(u, "name"))
			json_object_set_new(u, "name",
					    json_sprintf("cgroup:%s", fstr(sub, "cgroup")));
		json_object_set_new(
			u, "groups",
			json_pack("[{s:s,s:s}]", "name", fstr(sub, "cgroup"), "type", "cgroup"));
	}
	if (!json_object_size(u))
		json_object_set_new(u, "name", json_string("unknown"));
	return u;
}

static int64_t ms_of(const json_t *t)
{
	int64_t ns;

	if (json_is_string(t) && !util_parse_time(json_string_value(t), &ns))
		return ns / 1000000;
	return -1;
}

/* The User Access Management (3005) fields: "privileges", "user" and "resource" of grant g. */
static void ocsf_event_access(json_t *rec, const json_t *g)
{
	const char *res = fstr(g, "resource") ?: "unknown";

	json_object_set_new(rec, "privileges", json_pack("[s+]", "jitd:", res));
	json_object_set_new(rec, "user", ocsf_subject_user(g));
	json_object_set_new(rec, "resource",
			    json_pack("{s:s,s:s}", "name", res, "type", "jitd resource"));
}

/* The Entity Management (3004) fields: "entity" (the grant or the policy), "entity_result"
 * and "comment". */
static void ocsf_event_entity(json_t *rec, const json_t *f, const json_t *g,
			      const struct audit_summary *s)
{
	json_t *e;

	if (g) {
		e = json_pack("{s:s,s:s}", "type", "jitd grant", "name", s->object);
		json_object_set_new(e, "uid",
				    json_sprintf("%llu", (unsigned long long)s->grant_id));
		if (fstr(g, "state"))
			json_object_set_new(rec, "entity_result",
					    json_pack("{s:s,s:s,s:O}", "type", "jitd grant", "name",
						      s->object, "data", g));
	} else {
		e = json_pack("{s:s,s:i,s:s}", "type", "Policy", "type_id", 5, "name",
			      fstr(f, "source") ?: "policy");
		if (json_is_integer(json_object_get(f, "serial")))
			json_object_set_new(
				e, "version",
				json_sprintf("%lld", (long long)json_integer_value(
							     json_object_get(f, "serial"))));
	}
	json_object_set_new(rec, "entity", e);
	if (fstr(f, "reason"))
		json_object_set_new(rec, "comment", json_string(fstr(f, "reason")));
}

/* The fields of any other event, an application log entry: "log_*", and for
 * records_dropped the "count", "start_time" and "end_time" of the loss. */
static void ocsf_event_log(json_t *rec, const char *event, const json_t *f)
{
	json_object_set_new(rec, "log_name", json_string("jitd-audit"));
	json_object_set_new(rec, "log_provider", json_string("jitd"));
	json_object_set_new(rec, "log_type", json_string("Application"));
	json_object_set_new(rec, "log_type_id", json_integer(2));
	if (!strcmp(event, "records_dropped")) {
		const json_t *w = json_object_get(f, "window");
		int64_t st = ms_of(json_object_get(w, "start")),
			en = ms_of(json_object_get(w, "end"));

		json_object_set_new(rec, "count",
				    json_integer(json_integer_value(json_object_get(f, "count"))));
		if (st >= 0)
			json_object_set_new(rec, "start_time", json_integer(st));
		if (en >= 0)
			json_object_set_new(rec, "end_time", json_integer(en));
	}
}

/* The Detection Finding (2004) fields of an "alert": a new finding, an alertable signal,
 * its severity; finding_info.uid is the record's metadata.uid (audit_fmt_event). */
static void ocsf_event_finding(json_t *rec, const json_t *f)
{
	const json_t *al = json_object_get(f, "alert"), *sub = json_object_get(al, "subject");
	int sev = (int)json_integer_value(json_object_get(al, "severity_id"));
	const char *kind = fstr(al, "kind") ?: "unknown";
	json_t *fi, *res = json_array(), *v;
	int64_t t;
	size_t i;

	if (sev < 1 || sev > 6)
		sev = 3;
	json_object_set_new(rec, "severity_id", json_integer(sev));
	json_object_set_new(rec, "severity", json_string(severity_name(sev)));
	json_object_set_new(rec, "status_id", json_integer(1));
	json_object_set_new(rec, "status", json_string("New"));
	json_object_set_new(rec, "is_alert", json_true());
	fi = json_pack("{s:s,s:s,s:[s],s:{s:s,s:s,s:i,s:s}}", "uid", "", "title",
		       fstr(al, "title") ?: kind, "types", kind, "analytic", "name", kind, "type",
		       "Rule", "type_id", 1, "uid", kind);
	if (fstr(al, "desc"))
		json_object_set_new(fi, "desc", json_string(fstr(al, "desc")));
	if ((t = ms_of(json_object_get(al, "first_seen"))) >= 0)
		json_object_set_new(fi, "first_seen_time", json_integer(t));
	if ((t = ms_of(json_object_get(al, "last_seen"))) >= 0)
		json_object_set_new(fi, "last_seen_time", json_integer(t));
	json_object_set_new(rec, "finding_info", fi);
	if (fstr(al, "resource"))
		json_array_append_new(res, json_pack("{s:s,s:s}", "name", fstr(al, "resource"),
						     "type", "jitd resource"));
	json_array_foreach(json_object_get(al, "resources"), i, v)
		if (json_is_string(v))
			json_array_append_new(res,
					      json_pack("{s:s,s:s}", "name", json_string_value(v),
							"type", "jitd resource"));
	if (json_array_size(res))
		json_object_set_new(rec, "resources", res);
	else
		json_decref(res);
	if (sub)
		json_object_set_new(rec, "actor",
				    json_pack("{s:o}", "user", ocsf_subject_user(al)));
	if (json_is_integer(json_object_get(al, "grant_id")))
		json_object_set_new(json_object_get(rec, "metadata"), "correlation_uid",
				    json_sprintf("%lld", (long long)json_integer_value(
								 json_object_get(al, "grant_id"))));
	else if (json_is_integer(json_object_get(sub, "uid")))
		json_object_set_new(json_object_get(rec, "metadata"), "correlation_uid",
				    json_sprintf("uid:%lld", (long long)json_integer_value(
								     json_object_get(sub, "uid"))));
}

static json_t *ocsf_event(const struct audit_meta *m, const char *event, const json_t *f,
			  int64_t time_ns, const struct audit_summary *s)
{
	struct ocsf_class k = event_class(event);
	const json_t *g = json_object_get(f, "grant");
	bool failed = !strcmp(event, "policy_refused") || !strcmp(event, "seal_failed") ||
		      (!strcmp(event, "selftest") && strcmp(fstr(f, "result") ?: "", "passed"));
	int sev = failed ? 4 : !strcmp(event, "records_dropped") ? 4 : event_severity(event, f);
	char tbuf[40], type_name[96], msg[600];
	const char *act = k.activity;
	json_t *rec, *jitd;

	if (!strcmp(event, "records_dropped"))
		act = "Records Dropped";
	else if (!strcmp(event, "selftest"))
		act = "Self-test";
	snprintf(type_name, sizeof(type_name), "%s: %s", k.class, k.activity);
	snprintf(msg, sizeof(msg), "%s%s%s%s%s", event, *s->object ? " " : "", s->object,
		 *s->reason ? ": " : "", s->reason);
	rec = json_pack(
		"{s:i,s:s,s:s,s:i,s:s,s:i,s:I,s:s,s:s,s:i,s:I,s:s,s:s,s:s,s:i}", "activity_id",
		k.activity_id, "activity_name", act, "category_name", k.category, "category_uid",
		k.category_uid, "class_name", k.class, "class_uid", k.class_uid, "type_uid",
		(json_int_t)k.class_uid * 100 + k.activity_id, "type_name", type_name, "severity",
		severity_name(sev), "severity_id", sev, "time", (json_int_t)(time_ns / 1000000),
		"time_dt", util_format_time(time_ns, tbuf, sizeof(tbuf)), "message", msg, "status",
		failed ? "Failure" : "Success", "status_id", failed ? 2 : 1);
	if (!rec)
		return NULL;
	if (*s->reason)
		json_object_set_new(rec, "status_detail", json_string(s->reason));
	json_object_set_new(rec, "metadata",
			    json_pack("{s:s,s:{s:s,s:s,s:s},s:[s,s],s:s}", "log_name", "jitd-audit",
				      "product", "name", "jitd", "vendor_name", "jitd", "version",
				      m->version, "profiles", "datetime", "host", "version",
				      AUDIT_OCSF_VERSION));
	if (json_is_integer(json_object_get(g, "id")))
		json_object_set_new(json_object_get(rec, "metadata"), "correlation_uid",
				    json_sprintf("%lld", (long long)json_integer_value(
								 json_object_get(g, "id"))));
	else
		fleet_correlation(rec, f);
	json_object_set_new(rec, "device",
			    json_pack("{s:s,s:s,s:i}", "hostname", m->hostname, "type", "Unknown",
				      "type_id", 0));
	json_object_set_new(rec, "actor", ocsf_actor(event, f));
	if (k.class_uid == 3005)
		ocsf_event_access(rec, g);
	else if (k.class_uid == 2004)
		ocsf_event_finding(rec, f);
	else if (k.class_uid == 3004)
		ocsf_event_entity(rec, f, g, s);
	else
		ocsf_event_log(rec, event, f);
	jitd = f ? json_deep_copy(f) : json_object();
	if (!json_is_object(jitd)) {
		json_decref(jitd);
		jitd = json_object();
	}
	json_object_set_new(jitd, "event", json_string(event));
	json_object_set_new(rec, "unmapped", json_pack("{s:o}", "jitd", jitd));
	return rec;
}

static json_t *ecs_event(const struct audit_meta *m, const char *event, const json_t *f,
			 int64_t time_ns, const struct audit_summary *s)
{
	struct ocsf_class k = event_class(event);
	bool failed = s->priority <= 3 && strcmp(event, "records_dropped");
	const char *cat = k.class_uid == 3005	? "iam"
			  : k.class_uid == 3004 ? "configuration"
						: "host";
	const char *type = k.activity_id == 1	 ? "creation"
			   : k.activity_id == 2	 ? "deletion"
			   : k.activity_id == 6	 ? "start"
			   : k.activity_id == 7	 ? "end"
			   : k.class_uid == 3004 ? "change"
						 : "info";
	json_t *rec = ecs_base(m, time_ns, event, cat, type, NULL, failed ? "failure" : "success");
	json_t *j;

	if (!rec)
		return NULL;
	j = f ? json_deep_copy(f) : json_object();
	if (*s->reason)
		json_object_set_new(json_object_get(rec, "event"), "reason",
				    json_string(s->reason));
	json_object_set_new(rec, "message", json_sprintf("%s %s: %s", event, s->object, s->reason));
	if (strcmp(s->user, "-"))
		json_object_set_new(rec, "user", json_pack("{s:s}", "name", s->user));
	if (!json_is_object(j)) {
		json_decref(j);
		j = json_object();
	}
	json_object_set_new(j, "event", json_string(event));
	json_object_set_new(rec, "jitd", j);
	if (k.class_uid == 2004) {
		const json_t *al = json_object_get(f, "alert");
		json_t *ev = json_object_get(rec, "event");

		json_object_set_new(ev, "kind", json_string("alert"));
		json_object_set_new(ev, "category", json_pack("[s]", "intrusion_detection"));
		json_object_set_new(ev, "type", json_pack("[s]", "info"));
		json_object_set_new(ev, "outcome", json_string("unknown"));
		json_object_set_new(
			ev, "severity",
			json_integer(json_integer_value(json_object_get(al, "severity_id"))));
		json_object_set_new(rec, "rule",
				    json_pack("{s:s,s:s}", "name", fstr(al, "kind") ?: "unknown",
					      "description", fstr(al, "title") ?: ""));
	}
	if (event_severity(event, f) > 1)
		json_object_set_new(json_object_get(rec, "event"), "severity",
				    json_integer(event_severity(event, f)));
	return rec;
}

/* Format one agent event (fields borrowed) into out, advancing *c. */
int audit_fmt_event(enum audit_format fmt, const struct audit_meta *m, const char *event,
		    const json_t *fields, int64_t time_ns, struct audit_chain *c, struct abuf *out,
		    struct audit_summary *sum)
{
	struct audit_summary s;
	struct audit_chain nc = *c;
	json_t *rec;
	char uid[40];
	int r;

	fill_event_summary(event, fields, time_ns, c->seq + 1, &s);
	if (fmt == AUDIT_FMT_ECS) {
		rec = ecs_event(m, event, fields, time_ns, &s);
		if (!rec)
			return -ENOMEM;
		r = ecs_seal(c, rec, &nc, out);
	} else {
		rec = ocsf_event(m, event, fields, time_ns, &s);
		if (!rec)
			return -ENOMEM;
		nc.seq = c->seq + 1;
		record_uid(c, nc.seq, uid);
		json_object_set_new(json_object_get(rec, "metadata"), "sequence",
				    json_integer((json_int_t)nc.seq));
		json_object_set_new(json_object_get(rec, "metadata"), "uid", json_string(uid));
		if (json_object_get(rec, "finding_info"))
			json_object_set_new(json_object_get(rec, "finding_info"), "uid",
					    json_string(uid));
		json_object_set_new(json_object_get(rec, "unmapped"), "prev_hash",
				    json_string(c->hash));
		r = seal_json(AUDIT_FMT_OCSF, rec, out, nc.hash);
	}
	json_decref(rec);
	if (r)
		return r;
	*c = nc;
	if (sum)
		*sum = s;
	return 0;
}

/* ---- reading records back ---- */

/* Where a record of either format keeps its chain fields. */
struct chain_fields {
	json_t *hash_holder; /* object holding "hash" */
	const char *prev;
	json_t *seq;
	const char *uid;
};

static int chain_fields(const json_t *rec, struct chain_fields *cf)
{
	json_t *um = json_object_get(rec, "unmapped"), *ev = json_object_get(rec, "event");

	memset(cf, 0, sizeof(*cf));
	if (json_is_object(um) && json_object_get(json_object_get(rec, "metadata"), "sequence")) {
		cf->hash_holder = um;
		cf->prev = fstr(um, "prev_hash");
		cf->seq = json_object_get(json_object_get(rec, "metadata"), "sequence");
		cf->uid = fstr(json_object_get(rec, "metadata"), "uid");
	} else if (json_is_object(ev)) {
		cf->hash_holder = ev;
		cf->prev = fstr(json_object_get(rec, "jitd"), "prev_hash");
		cf->seq = json_object_get(ev, "sequence");
		cf->uid = fstr(ev, "id");
	} else {
		return -EINVAL;
	}
	if (!cf->prev || !json_is_integer(cf->seq) || json_integer_value(cf->seq) < 1 ||
	    !json_is_string(json_object_get(cf->hash_holder, "hash")))
		return -EINVAL;
	return 0;
}

/* Chain head (seq, hash, chain id) of a parsed record. Returns 0 or -EINVAL. */
int audit_record_head(const json_t *rec, struct audit_chain *out)
{
	struct chain_fields cf;
	const char *h;
	size_t j = 0;

	if (chain_fields(rec, &cf))
		return -EINVAL;
	h = fstr(cf.hash_holder, "hash");
	if (strlen(h) != AUDIT_HASH_HEX || !cf.uid || strlen(cf.uid) != 36)
		return -EINVAL;
	out->seq = json_integer_value(cf.seq);
	strcpy(out->hash, h);
	for (size_t i = 0; i < 23 && j < AUDIT_CHAIN_ID_HEX; i++)
		if (cf.uid[i] != '-')
			out->chain_id[j++] = cf.uid[i];
	out->chain_id[j] = 0;
	return 0;
}

/* Check a parsed record's own hash and read its chain fields (rec loses "hash"). */
int audit_record_check(json_t *rec, struct audit_rec_info *out, char *err, size_t errlen)
{
	struct chain_fields cf;
	char got[AUDIT_HASH_HEX + 1], *canon;
	struct audit_chain head;
	int64_t ns;
	json_t *um;

	if (chain_fields(rec, &cf)) {
		snprintf(err, errlen, "no hash chain fields (sequence, prev_hash, hash)");
		return -EBADMSG;
	}
	out->seq = json_integer_value(cf.seq);
	/* the whole field: a hash with anything before or after it is not that hash */
	if (strlen(fstr(cf.hash_holder, "hash")) != AUDIT_HASH_HEX) {
		snprintf(err, errlen, "sequence %llu: hash is not %d hex digits",
			 (unsigned long long)out->seq, AUDIT_HASH_HEX);
		return -EBADMSG;
	}
	if (audit_record_head(rec, &head)) {
		snprintf(err, errlen, "sequence %llu: no record id (metadata.uid / event.id)",
			 (unsigned long long)out->seq);
		return -EBADMSG;
	}
	memcpy(out->hash, head.hash, sizeof(out->hash));
	memcpy(out->chain_id, head.chain_id, sizeof(out->chain_id));
	snprintf(out->prev, sizeof(out->prev), "%s", cf.prev);
	json_object_del(cf.hash_holder, "hash");
	canon = json_dumps(rec, DUMP_FLAGS);
	if (!canon) {
		snprintf(err, errlen, "cannot canonicalize");
		return -EBADMSG;
	}
	sha256_hex(canon, strlen(canon), got);
	free(canon);
	if (strcmp(got, out->hash)) {
		snprintf(err, errlen, "sequence %llu: hash mismatch: the record was modified",
			 (unsigned long long)out->seq);
		return -EBADMSG;
	}
	um = json_object_get(rec, "unmapped");
	out->fields =
		json_is_object(um) ? json_object_get(um, "jitd") : json_object_get(rec, "jitd");
	out->event = fstr(out->fields, "event");
	out->time_ms = json_integer_value(json_object_get(rec, "time"));
	if (fstr(rec, "@timestamp") && !util_parse_time(fstr(rec, "@timestamp"), &ns))
		out->time_ms = ns / 1000000;
	return 0;
}

/* Check one line against the chain so far. Returns 0, or -EBADMSG with err set. */
int audit_verify_line(struct audit_verify *v, const char *line, size_t len, char *err,
		      size_t errlen)
{
	json_error_t je;
	json_t *rec = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	struct audit_rec_info ri;
	int r = -EBADMSG;

	if (!rec || !json_is_object(rec)) {
		snprintf(err, errlen, "not a complete JSON record (truncated or corrupted): %s",
			 rec ? "not an object" : je.text);
		goto out;
	}
	if (audit_record_check(rec, &ri, err, errlen))
		goto out;
	if (v->have && ri.seq != v->seq + 1) {
		snprintf(err, errlen,
			 "sequence %llu follows %llu: records %s (deleted, reordered or truncated)",
			 (unsigned long long)ri.seq, (unsigned long long)v->seq,
			 ri.seq > v->seq ? "missing" : "out of order");
		goto out;
	}
	if (v->have && strcmp(ri.prev, v->hash)) {
		snprintf(err, errlen,
			 "sequence %llu: prev_hash does not match the previous record's hash",
			 (unsigned long long)ri.seq);
		goto out;
	}
	v->have = true;
	v->seq = ri.seq;
	strcpy(v->hash, ri.hash);
	v->n++;
	r = 0;
out:
	json_decref(rec);
	return r;
}

/* Summary of an OCSF record, metadata md: an agent event or a kernel decision. */
static int ocsf_record_summary(const json_t *rec, const json_t *md, struct audit_summary *s)
{
	const json_t *um = json_object_get(json_object_get(rec, "unmapped"), "jitd"), *j;
	const char *str;

	s->seq = json_integer_value(json_object_get(md, "sequence"));
	s->time_ms = json_integer_value(json_object_get(rec, "time"));
	s->grant_id = strtoull(fstr(md, "correlation_uid") ?: "0", NULL, 10);
	if (fstr(um, "event")) {
		s->event = fstr(um, "event");
		s->op = s->event;
		j = json_object_get(json_object_get(rec, "actor"), "user");
		str = fstr(j, "name") ?: fstr(j, "uid");
		if (!str) {
			j = json_object_get(rec, "user");
			str = fstr(j, "name") ?: fstr(j, "uid");
		}
		snprintf(s->user, sizeof(s->user), "%s", str ?: "-");
		j = json_object_get(rec, "entity");
		str = fstr(json_object_get(rec, "resource"), "name");
		snprintf(s->object, sizeof(s->object), "%s",
			 str ?: fstr(j, "name") ?: fstr(rec, "log_name") ?: "");
		snprintf(s->reason, sizeof(s->reason), "%s", fstr(rec, "status_detail") ?: "");
	} else {
		s->event = "decision";
		s->decision = fstr(um, "decision");
		s->op = fstr(um, "op");
		s->resource = fstr(um, "resource");
		j = json_object_get(json_object_get(rec, "actor"), "user");
		snprintf(s->user, sizeof(s->user), "%s", fstr(j, "name") ?: fstr(j, "uid") ?: "-");
		if ((j = json_object_get(rec, "dst_endpoint")))
			snprintf(s->object, sizeof(s->object), "%s:%lld", fstr(j, "ip") ?: "",
				 (long long)json_integer_value(json_object_get(j, "port")));
		else {
			j = json_object_get(rec, "file");
			if (!j)
				j = json_object_get(json_object_get(rec, "process"), "file");
			snprintf(s->object, sizeof(s->object), "%s",
				 fstr(j, "path") ?: fstr(j, "uid") ?: "");
		}
		snprintf(s->reason, sizeof(s->reason), "%s", fstr(rec, "status_detail") ?: "");
	}
	return s->seq ? 0 : -EINVAL;
}

/* Summary of an ECS record: an agent event or a kernel decision. */
static int ecs_record_summary(const json_t *rec, struct audit_summary *s)
{
	const json_t *ev = json_object_get(rec, "event"), *j = json_object_get(rec, "jitd"), *um;
	const char *str;
	int64_t ns;

	if (!ev || !j)
		return -EINVAL;
	s->seq = json_integer_value(json_object_get(ev, "sequence"));
	if (fstr(rec, "@timestamp") && !util_parse_time(fstr(rec, "@timestamp"), &ns))
		s->time_ms = ns / 1000000;
	snprintf(s->reason, sizeof(s->reason), "%s", fstr(ev, "reason") ?: "");
	j = json_object_get(rec, "user");
	snprintf(s->user, sizeof(s->user), "%s", fstr(j, "name") ?: fstr(j, "id") ?: "-");
	um = json_object_get(rec, "jitd");
	if (fstr(um, "event")) {
		s->event = fstr(um, "event");
		s->op = s->event;
		j = json_object_get(um, "grant");
		s->grant_id = json_integer_value(json_object_get(j, "id"));
		snprintf(s->object, sizeof(s->object), "%s", fstr(j, "resource") ?: "");
	} else {
		s->event = "decision";
		s->decision = json_is_string(json_object_get(ev, "outcome")) &&
					      !strcmp(fstr(ev, "outcome"), "success")
				      ? "allow"
				      : "deny";
		str = fstr(ev, "action");
		s->op = str && !strncmp(str, "open", 4)	     ? "open"
			: str && !strncmp(str, "exec", 4)    ? "exec"
			: str && !strncmp(str, "connect", 7) ? "connect"
			: str && !strncmp(str, "sendmsg", 7) ? "sendmsg"
			: str && !strncmp(str, "rename", 6)  ? "rename"
			: str && !strncmp(str, "link", 4)    ? "link"
							     : "unknown";
		s->resource = fstr(um, "resource");
		s->grant_id = json_integer_value(json_object_get(um, "grant_id"));
		if ((j = json_object_get(rec, "destination")))
			snprintf(s->object, sizeof(s->object), "%s:%lld", fstr(j, "ip") ?: "",
				 (long long)json_integer_value(json_object_get(j, "port")));
		else
			snprintf(s->object, sizeof(s->object), "%s",
				 fstr(json_object_get(rec, "file"), "path") ?:
				 fstr(json_object_get(rec, "file"), "inode") ?: "");
	}
	return s->seq ? 0 : -EINVAL;
}

/* Summary of a parsed record of either format. Returns 0 or -EINVAL. */
int audit_record_summary(const json_t *rec, struct audit_summary *s)
{
	const json_t *md = json_object_get(rec, "metadata");

	int r;

	memset(s, 0, sizeof(*s));
	r = md ? ocsf_record_summary(rec, md, s) /* OCSF */ : ecs_record_summary(rec, s);
	/* an aggregate of allows: OCSF's count, ECS jitd.count */
	if (!r && s->decision)
		s->count = (uint64_t)json_integer_value(
			json_object_get(md ? rec : json_object_get(rec, "jitd"), "count"));
	return r;
}

/* ---- journald ---- */

/* The MESSAGE_ID (32 hex) of an event name ("decision" with "allow"/"deny", ...). */
const char *audit_message_id(const char *event, const char *decision)
{
	static const struct {
		const char *ev, *id;
	} t[] = {
		{"allow", "6a1c3e0f5b2d4c8e9f7a0b1c2d3e4f01"},
		{"deny", "6a1c3e0f5b2d4c8e9f7a0b1c2d3e4f02"},
		{"requested", "6a1c3e0f5b2d4c8e9f7a0b1c2d3e4f10"},
		{"approved", "6a1c3e0f5b2d4c8e9f7a0b1c2d3e4f11"},
		{"denied", "6a1c3e0f5b2d4c8e9f7a0b1c2d3e4f12"},
		{"granted", "6a1c3e0f5b2d4c8e9f7a0b1c2d3e4f13"},
		{"extended", "6a1c3e0f5b2d4c8e9f7a0b1c2d3e4f14"},
		{"expired", "6a1c3e0f5b2d4c8e9f7a0b1c2d3e4f15"},
		{"revoked", "6a1c3e0f5b2d4c8e9f7a0b1c2d3e4f16"},
		{"activated", "6a1c3e0f5b2d4c8e9f7a0b1c2d3e4f17"},
		{"rebound", "6a1c3e0f5b2d4c8e9f7a0b1c2d3e4f18"},
		{"break_glass", "fd5412a5485f2b1dd7d2e43d6715dbf8"},
		{"reviewed", "fff8e45fa5f0a0cf2800c77a6a990019"},
		{"policy_applied", "6a1c3e0f5b2d4c8e9f7a0b1c2d3e4f20"},
		{"policy_refused", "6a1c3e0f5b2d4c8e9f7a0b1c2d3e4f21"},
		{"records_dropped", "6a1c3e0f5b2d4c8e9f7a0b1c2d3e4f30"},
		{"started", "6a1c3e0f5b2d4c8e9f7a0b1c2d3e4f31"},
		{"stopped", "6a1c3e0f5b2d4c8e9f7a0b1c2d3e4f32"},
		{"selftest", "6a1c3e0f5b2d4c8e9f7a0b1c2d3e4f33"},
		{"fleet_connected", "6a1c3e0f5b2d4c8e9f7a0b1c2d3e4f40"},
		{"fleet_disconnected", "6a1c3e0f5b2d4c8e9f7a0b1c2d3e4f41"},
		{"alert", "d39f5ebff48440e49873a7f1eb3a6d55"},
	};
	const char *k = decision ? decision : event;

	for (size_t i = 0; k && i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(t[i].ev, k))
			return t[i].id;
	return "6a1c3e0f5b2d4c8e9f7a0b1c2d3e4fff";
}

/* journald fields of a record: "KEY=value" strings (malloc'd, *n of them). */
int audit_journal_fields(const struct audit_summary *s, const char *line, size_t len, char ***out,
			 size_t *n)
{
	char **f = calloc(16, sizeof(*f));
	size_t k = 0;
	bool bad = false;

	if (!f)
		return -ENOMEM;
	while (len && line[len - 1] == '\n')
		len--;
#define ADD(...)                                                                                   \
	do {                                                                                       \
		if (asprintf(&f[k], __VA_ARGS__) < 0)                                              \
			bad = true, f[k] = NULL;                                                   \
		else                                                                               \
			k++;                                                                       \
	} while (0)
	ADD("MESSAGE_ID=%s", audit_message_id(s->event, s->decision));
	ADD("PRIORITY=%d", s->priority);
	if (s->decision && s->count)
		ADD("MESSAGE=jitd: %s %s %s by %s: %s (%llu times)", s->decision, s->op ?: "",
		    s->object, s->user, s->reason, (unsigned long long)s->count);
	else if (s->decision)
		ADD("MESSAGE=jitd: %s %s %s by %s: %s", s->decision, s->op ?: "", s->object,
		    s->user, s->reason);
	else
		ADD("MESSAGE=jitd: %s %s%s%s", s->event, s->object, *s->reason ? ": " : "",
		    s->reason);
	ADD("JITD_EVENT=%s", s->event);
	ADD("JITD_SEQUENCE=%llu", (unsigned long long)s->seq);
	ADD("JITD_USER=%s", s->user);
	if (s->decision)
		ADD("JITD_DECISION=%s", s->decision);
	if (s->op && s->decision)
		ADD("JITD_OP=%s", s->op);
	if (*s->object)
		ADD("JITD_OBJECT=%s", s->object);
	if (s->resource)
		ADD("JITD_RESOURCE=%s", s->resource);
	if (s->grant_id)
		ADD("JITD_GRANT_ID=%llu", (unsigned long long)s->grant_id);
	if (*s->reason)
		ADD("JITD_REASON=%s", s->reason);
	if (s->count)
		ADD("JITD_COUNT=%llu", (unsigned long long)s->count);
	ADD("JITD_RECORD=%.*s", (int)len, line);
#undef ADD
	if (bad) {
		for (size_t i = 0; i < k; i++)
			free(f[i]);
		free(f);
		return -ENOMEM;
	}
	*out = f;
	*n = k;
	return 0;
}

/* Parse "all", "first", "none". Returns 0 or -EINVAL. */
int audit_parse_allow(const char *s, enum audit_allow *out)
{
	if (!strcmp(s, "all"))
		*out = AUDIT_ALLOW_ALL;
	else if (!strcmp(s, "first"))
		*out = AUDIT_ALLOW_FIRST;
	else if (!strcmp(s, "none"))
		*out = AUDIT_ALLOW_NONE;
	else
		return -EINVAL;
	return 0;
}
