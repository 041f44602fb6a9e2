// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent's side of the audit stream: turns ring-buffer decisions into resolved
 * audit_decision records (resource and user names, paths), applies the policy's
 * audit.allow (all, first use per grant and object, none) and hands records to the
 * pipeline (audit_log.c), which formats, chains and writes them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <systemd/sd-journal.h>

#include "core.h"
#include "audit.h"
#include "grant.h"
#include "log.h"
#include "audit_log.h"
#include "util.h"

#define NAME_TTL_NS    (60 * NS_PER_S)
#define SEEN_SLOTS     65536 /* first-use set for audit.allow = first */
#define SEAL_FILE      JITD_SECRET_SUBDIR "/audit-seal.key"
#define SEAL_SLOT      4096   /* a copy of the key state per block (seal_save) */
#define SEAL_MAX_STEPS 100000 /* key evolutions per call (~0.2 s) */
/* journald's MESSAGE_ID of the checkpoint written after each seal */
#define CHECKPOINT_MESSAGE_ID "5e3c1a7f0b9d4e62a8f1c3d5b7e90a24"

static void seal_load(struct audit_state *st);
static void seal_catch_up(struct audit_state *st, bool restarting);

/* Choose the format, journald and where the chain head is kept; before audit_open(). */
void audit_configure(struct audit_state *st, enum audit_format fmt, bool journal,
		     const char *state_dir)
{
	st->fmt = fmt;
	st->journal = journal;
	st->state_dir = state_dir;
}

/* Open the sink: a file path, or "-" for stdout. Returns 0 or negative errno. */
int audit_open(struct audit_state *st, const char *path)
{
	char state[4096];
	struct audit_log_opts o = {.path = path, .fmt = st->fmt, .journal = st->journal};
	int r;

	if (gethostname(st->hostname, sizeof(st->hostname) - 1))
		strcpy(st->hostname, "localhost");
	if (st->state_dir) {
		snprintf(state, sizeof(state), "%s/audit-chain.json", st->state_dir);
		o.state_file = state;
	}
	o.meta.hostname = st->hostname;
	o.meta.version = JITD_VERSION;
	r = audit_log_open(&o);
	if (r)
		errno = -r;
	else
		seal_load(st);
	return r;
}

/* Reopen after logrotate moved the file (SIGHUP). Keeps the old fd on failure. */
void audit_reopen(void)
{
	int r = audit_log_reopen();

	if (r)
		log_err("cannot reopen audit file %s: %s", audit_log_path(), strerror(-r));
}

static void seal_write(struct audit_state *st, bool final);
static int seal_advance(struct audit_state *st, uint64_t to);

/* Save the chain head and close the sink; sealing: a final seal, and the key evolved past
 * its epoch, so that the key on disk while jitd is down cannot reseal what was written. */
void audit_close(struct audit_state *st)
{
	if (st->sealing) {
		seal_write(st, true);
		seal_advance(st, st->seal.epoch + 1);
		seal_key_wipe(&st->seal);
		st->sealing = false;
	}
	audit_log_close();
	free(st->seen);
	st->seen = NULL;
	st->n_seen = 0;
}

/* Realtime ns of a boot-clock instant. */
int64_t audit_boot_to_real(uint64_t boot_ns)
{
	return util_now_ns(CLOCK_REALTIME) - (util_now_ns(CLOCK_BOOTTIME) - (int64_t)boot_ns);
}

/* User name of a uid, cached for a minute (NSS lookups are slow). */
static const char *user_name(struct audit_state *st, uint32_t uid, int64_t now)
{
	struct audit_name *s = &st->names[uid % AUDIT_NAME_CACHE];

	if (!s->valid || s->uid != uid || now - s->at > NAME_TTL_NS) {
		struct passwd pw, *res = NULL;
		char buf[2048];

		s->valid = true;
		s->uid = uid;
		s->at = now;
		s->known = !getpwuid_r(uid, &pw, buf, sizeof(buf), &res) && res;
		if (s->known)
			snprintf(s->name, sizeof(s->name), "%s", pw.pw_name);
	}
	return s->known ? s->name : NULL;
}

static const char *resource_name(struct agent *a, uint32_t id, char *buf, size_t len)
{
	if (id == JITD_RES_SELFTEST)
		return "(self-test)";
	if (id == JITD_RES_NONE)
		return "(grant's cgroup)";
	if (id == JITD_RES_GUARD)
		return "(jitd guard)";
	if (id == JITD_RES_SELF)
		return "(jitd)";
	for (size_t i = 0; a->policy && i < a->policy->n_resources; i++)
		if (a->policy->resources[i].id == id)
			return a->policy->resources[i].name;
	snprintf(buf, len, "#%u", id);
	return buf;
}

/* True the first time (grant, object) is seen; a full set starts over (more records,
 * never fewer). */
static bool first_use(struct audit_state *st, const struct jitd_event *e)
{
	uint64_t k = e->grant_id * 0x9e3779b97f4a7c15ULL;

	k ^= (e->dev * 0xc2b2ae3d27d4eb4fULL) ^ (e->ino * 0x165667b19e3779f9ULL) ^ e->op;
	for (size_t i = 0; i < 16; i++)
		k = k * 31 + e->addr[i];
	k = (k ^ e->port) | 1;
	if (!st->seen || st->n_seen > SEEN_SLOTS / 2) {
		free(st->seen);
		st->seen = calloc(SEEN_SLOTS, sizeof(*st->seen));
		st->n_seen = 0;
		if (!st->seen)
			return true;
	}
	for (size_t i = k % SEEN_SLOTS;; i = (i + 1) % SEEN_SLOTS) {
		if (st->seen[i] == k)
			return false;
		if (!st->seen[i]) {
			st->seen[i] = k;
			st->n_seen++;
			return true;
		}
	}
}

/* One record for one ring-buffer decision. */
int audit_decision(struct agent *a, const struct jitd_event *e,
		   const char *(*path_of)(struct agent *a, uint64_t dev, uint64_t ino))
{
	return audit_decision_count(a, e, 0, 0, path_of);
}

/* One record for e, or with count > 0 for that many allows like e from first_ns to e's time
 * (boot clock). */
int audit_decision_count(struct agent *a, const struct jitd_event *e, uint64_t count,
			 uint64_t first_ns,
			 const char *(*path_of)(struct agent *a, uint64_t dev, uint64_t ino))
{
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	int allow_mode = a->policy ? a->policy->audit_allow : AUDIT_ALLOW_ALL;
	char comm[JITD_COMM_LEN + 1], rbuf[16], addr[INET6_ADDRSTRLEN];
	int64_t now = util_now_ns(CLOCK_REALTIME);
	struct audit_decision d = {};
	dev_t dev = util_udev(e->dev);

	if (e->decision == JITD_ALLOW && e->resource != JITD_RES_SELFTEST &&
	    (allow_mode == AUDIT_ALLOW_NONE ||
	     (allow_mode == AUDIT_ALLOW_FIRST && !first_use(&a->audit, e))))
		return 0;
	memcpy(comm, e->comm, JITD_COMM_LEN);
	comm[JITD_COMM_LEN] = 0;
	d.time_ns = audit_boot_to_real(e->ts_ns);
	if (count) {
		d.count = count;
		d.start_ns = audit_boot_to_real(first_ns);
		d.end_ns = d.time_ns;
	}
	d.op = e->op;
	d.allow = e->decision == JITD_ALLOW;
	d.uid = e->uid;
	d.loginuid = e->loginuid;
	d.subject_uid = e->subject_uid;
	d.pid = e->pid;
	d.tid = e->tid;
	d.comm = comm;
	d.cgroup_id = e->cgroup;
	d.resource = resource_name(a, e->resource, rbuf, sizeof(rbuf));
	d.grant_id = e->grant_id;
	d.policy_serial = a->policy ? a->policy->serial : 0;
	d.user = user_name(&a->audit, e->subject_uid, now);
	d.proc_user = user_name(&a->audit, e->uid, now);
	if (e->op == JITD_OP_CONNECT || e->op == JITD_OP_SENDMSG || e->op == JITD_OP_SEND ||
	    e->op == JITD_OP_RECV || (e->family && (e->op == JITD_OP_TRACK))) {
		bool v4 = e->family == 2 || !memcmp(e->addr, v4mapped, 12);

		inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? e->addr + 12 : e->addr, addr, sizeof(addr));
		d.v6 = !v4;
		d.addr = addr;
		d.port = e->port;
	} else if (e->op == JITD_OP_PTRACE || e->op == JITD_OP_SIGNAL) {
		d.target_pid = (uint32_t)e->ino;
		d.target_cgroup = e->dev;
	} else {
		d.dev_major = major(dev);
		d.dev_minor = minor(dev);
		d.ino = e->ino;
		d.path = path_of(a, e->dev, e->ino);
	}
	return audit_log_decision(&d);
}

/*
 * One record for an agent event ("started", "granted", ...); takes fields' reference.
 * Events are rare and say who was given what: each is on disk before jitd goes on.
 */
void audit_agent_event(const char *event, json_t *fields)
{
	audit_log_event(event, fields, util_now_ns(CLOCK_REALTIME));
	json_decref(fields);
	audit_sync();
}

void audit_grant_changes(struct grant_store *s)
{
	size_t n;
	struct grant_change *c = grant_changes_take(s, &n);

	for (size_t i = 0; i < n; i++)
		audit_agent_event(c[i].event, c[i].fields);
	free(c);
}

/* Put the records written so far on disk (each agent event, and once a second). */
void audit_sync(void)
{
	int r = audit_log_sync();

	if (r)
		log_warn("audit file: fdatasync: %s", strerror(-r));
}

/* ---- forward-secure sealing (lib/audit_seal.h) ---- */

static int seal_path(const struct audit_state *st, char *buf, size_t len)
{
	if (!st->state_dir)
		return -ENOENT;
	return snprintf(buf, len, "%s/%s", st->state_dir, SEAL_FILE) < (int)len ? 0 : -ENAMETOOLONG;
}

/*
 * The key file holds two copies of the key state, each in a block of its own. A save
 * writes the new state over the second copy, syncs, then over the first, syncs: the old
 * key is overwritten where it was (a file replaced by rename would leave its blocks, the
 * old key in them, free on the disk), and a crash leaves at least one whole copy; at load
 * the copy of the higher generation wins and both are rewritten. (A copy-on-write file
 * system, or a disk that remaps what is written, can still hold old blocks: README.)
 */
static int seal_save(struct audit_state *st, struct seal_key *k)
{
	char text[SEAL_SLOT], path[4096];
	int fd, r = seal_path(st, path, sizeof(path));

	if (r)
		return r;
	memset(text, 0, sizeof(text));
	k->gen++;
	r = seal_state_format(k, text, sizeof(text));
	fd = r ? -1 : open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (!r && fd < 0)
		r = -errno;
	for (int slot = 1; slot >= 0 && !r; slot--)
		if (pwrite(fd, text, SEAL_SLOT, (off_t)slot * SEAL_SLOT) != SEAL_SLOT ||
		    fdatasync(fd))
			r = errno ? -errno : -EIO;
	if (fd >= 0)
		close(fd);
	OPENSSL_cleanse(text, sizeof(text));
	return r;
}

/* Evolve the key toward epoch to (at most SEAL_MAX_STEPS a call: a clock set years ahead
 * must not stall the loop) and save it. */
static int seal_advance(struct audit_state *st, uint64_t to)
{
	int r;

	if (to <= st->seal.epoch)
		return 0;
	if (to - st->seal.epoch > SEAL_MAX_STEPS)
		to = st->seal.epoch + SEAL_MAX_STEPS;
	seal_evolve(&st->seal, to);
	r = seal_save(st, &st->seal);
	if (r)
		log_err("cannot save the audit sealing key: %s: the key of an earlier epoch stays "
			"on disk (whoever reads it could reseal that epoch's records)",
			strerror(-r));
	return r;
}

/* The newer whole copy of the key file into st->seal. 0 or negative errno. */
static int seal_read(struct audit_state *st, const char *path)
{
	struct seal_key k[2];
	char *text = NULL;
	size_t len = 0;
	int ok[2], r = util_read_file(path, 2 * SEAL_SLOT, &text, &len);

	if (r)
		return r;
	for (int i = 0; i < 2; i++)
		ok[i] = len > (size_t)i * SEAL_SLOT &&
			!seal_state_parse(text + i * SEAL_SLOT, &k[i]);
	r = !ok[0] && !ok[1] ? -EBADMSG : 0;
	if (!r)
		st->seal = ok[0] && (!ok[1] || k[0].gen >= k[1].gen) ? k[0] : k[1];
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(text, len);
	free(text);
	return r;
}

/* The key id sealing was set up with (STATE_DIR/audit-seal.id): its key must be there. */
static bool seal_was_on(const struct audit_state *st, char *id, size_t len)
{
	char path[4096], *text = NULL;
	bool on;

	snprintf(path, sizeof(path), "%s/audit-seal.id", st->state_dir);
	on = !util_read_file(path, 64, &text, NULL);
	snprintf(id, len, "%.16s", on ? text : "");
	free(text);
	return on;
}

/* The current epoch's key, from STATE_DIR/seal/audit-seal.key, evolved to now. */
static void seal_load(struct audit_state *st)
{
	char path[4096], id[SEAL_KEY_ID_HEX + 1];
	int r;

	if (seal_path(st, path, sizeof(path)))
		return;
	r = seal_read(st, path);
	if (r == -ENOENT && !seal_was_on(st, id, sizeof(id))) {
		log_info("audit records are chained but not sealed: 'jitctl audit seal-init' "
			 "starts forward-secure sealing");
	} else if (r) {
		st->seal_error = r == -ENOENT ? "the key file is gone" : "the key file is unusable";
		log_err("audit sealing is OFF: %s: %s; 'jitctl audit seal-init --force' makes a "
			"new key",
			path, r == -ENOENT ? "gone, though sealing was set up" : strerror(-r));
		audit_agent_event("seal_failed",
				  json_pack("{s:s,s:s}", "error", st->seal_error, "path", path));
	} else {
		st->sealing = true;
		prctl(PR_SET_DUMPABLE, 0); /* no core dump holds the key */
		seal_save(st, &st->seal);  /* both copies the same again */
		seal_catch_up(st, true);
	}
}

static void checkpoint_to_journal(const struct audit_state *st)
{
	char cp[SEAL_CHECKPOINT_MAX];

	if (access("/run/systemd/journal/socket", W_OK) ||
	    seal_checkpoint_format(&st->checkpoint, cp, sizeof(cp)))
		return;
	sd_journal_send("MESSAGE=audit checkpoint: %s", cp, "MESSAGE_ID=%s", CHECKPOINT_MESSAGE_ID,
			"PRIORITY=6", "JITD_EVENT=checkpoint", "JITD_CHECKPOINT=%s", cp,
			"JITD_SEQUENCE=%llu", (unsigned long long)st->checkpoint.seq, NULL);
}

/* A seal record of the chain head with the current key, on disk before jitd goes on. */
static void seal_write(struct audit_state *st, bool final)
{
	int r = audit_log_seal(&st->seal, final, util_now_ns(CLOCK_REALTIME), &st->checkpoint);

	if (r) {
		log_warn("cannot write an audit seal: %s", strerror(-r));
		return;
	}
	st->have_checkpoint = true;
	audit_sync();
	checkpoint_to_journal(st);
}

void audit_seal_now(struct audit_state *st)
{
	if (st->sealing)
		seal_write(st, false);
}

/*
 * The key is behind the clock: seal what was written with it, then evolve it to now. The
 * seal is final (no seal of this key comes for the epochs in between) when epochs are
 * skipped: at a restart (jitd was not running, after a clean stop or a crash, whose tail
 * this seals with the key the crash left on disk) or after a suspend. A gap after a seal
 * that is not final is what verify warns about: seals removed.
 */
static void seal_catch_up(struct audit_state *st, bool restarting)
{
	uint64_t now =
		seal_epoch_at(st->seal.start_s, st->seal.interval_s, util_now_ns(CLOCK_REALTIME));

	if (now <= st->seal.epoch)
		return;
	seal_write(st, restarting || now > st->seal.epoch + 1);
	seal_advance(st, now);
}

/* Each second: at an epoch's end, seal it and evolve the key (erasing the old one). */
void audit_seal_tick(struct audit_state *st)
{
	if (st->sealing)
		seal_catch_up(st, false);
}

/* Say that sealing is set up (STATE_DIR/audit-seal.id: the key id): a key file gone
 * later is then an error, not "not set up". */
static void seal_mark(struct audit_state *st)
{
	char path[4096];
	int r;

	snprintf(path, sizeof(path), "%s/audit-seal.id", st->state_dir);
	r = util_write_atomic(path, st->seal.key_id, strlen(st->seal.key_id), 0600);
	if (r)
		log_warn("cannot write %s: %s", path, strerror(-r));
}

/* jitctl audit seal-init: a new key; the verification key in vkey. */
int audit_seal_init(struct audit_state *st, uint32_t interval_s, bool force, char *vkey,
		    size_t vlen, char *err, size_t errlen)
{
	struct seal_vkey vk;
	struct seal_key k;
	int64_t now = util_now_ns(CLOCK_REALTIME);
	int r;

	if (st->sealing && !force) {
		snprintf(err, errlen,
			 "sealing is already on (key id %s): --force makes a new key (the old "
			 "verification key still verifies what it sealed)",
			 st->seal.key_id);
		return -EEXIST;
	}
	r = seal_generate(now / NS_PER_S, interval_s, &vk, &k);
	if (!r)
		r = seal_vkey_format(&vk, vkey, vlen);
	OPENSSL_cleanse(&vk, sizeof(vk));
	if (!r && st->sealing)
		seal_write(st, true); /* the old key's last seal covers everything so far */
	k.gen = st->sealing ? st->seal.gen : 0;
	if (!r)
		r = seal_save(st, &k);
	if (r) {
		seal_key_wipe(&k);
		OPENSSL_cleanse(vkey, vlen);
		snprintf(err, errlen, "cannot make the sealing key: %s", strerror(-r));
		return r;
	}
	seal_key_wipe(&st->seal);
	st->seal = k;
	seal_key_wipe(&k);
	st->sealing = true;
	st->seal_error = NULL;
	prctl(PR_SET_DUMPABLE, 0); /* no core dump holds the key */
	seal_mark(st);
	audit_agent_event("seal_started",
			  json_pack("{s:s,s:I,s:b}", "key_id", st->seal.key_id, "interval_s",
				    (json_int_t)interval_s, "replaced", force));
	seal_write(st, false);
	return 0;
}

json_t *audit_seal_status(const struct audit_state *st)
{
	char t[40];

	if (!st->sealing)
		return json_pack("{s:b,s:s?}", "sealing", 0, "error", st->seal_error);
	return json_pack(
		"{s:b,s:s,s:I,s:I,s:s,s:o}", "sealing", 1, "key_id", st->seal.key_id, "interval_s",
		(json_int_t)st->seal.interval_s, "epoch", (json_int_t)st->seal.epoch, "epoch_start",
		util_format_time(
			seal_epoch_start_ns(st->seal.start_s, st->seal.interval_s, st->seal.epoch),
			t, sizeof(t)),
		"last_seal_sequence",
		st->have_checkpoint ? json_integer((json_int_t)st->checkpoint.seq) : json_null());
}
