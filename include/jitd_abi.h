/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The ABI shared by the BPF programs (bpf/) and userspace (agent/, tests/):
 * map keys and values, ring-buffer records, enums and limits. Every struct has
 * fixed-size fields, explicit padding and a _Static_assert on its size.
 */
#ifndef JITD_ABI_H
#define JITD_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Limits. */
/* protected (dev, ino) entries; kernel grant keys (not preallocated: paid per entry) */
#define JITD_MAX_INODES	   262144
#define JITD_MAX_GRANTS	   1048576
#define JITD_MAX_NETS	   16384 /* protected {port, prefix} entries */
#define JITD_MAX_EXEMPT	   1024	 /* exempt uids and exempt cgroups, each */
#define JITD_RINGBUF_BYTES (8 << 20)
#define JITD_DPARENT_DEPTH 256 /* d_parent levels walked; deeper on a protected fs: deny */
#define JITD_FAST_DEPTH	   32 /* of which by direct loads (the hot path); the rest by probe reads */
#define JITD_SCTP_ADDRS	   8  /* addresses checked in one SCTP connectx; more: deny */
#define JITD_CGROUP_DEPTH  16 /* cgroup ancestor levels checked */
#define JITD_COMM_LEN	   16
#define JITD_MAX_OPEN	   16384 /* open files and sockets tracked for "revoke": "open" */
#define JITD_OPEN_SHIFT	   14	 /* jitd_open_count: 1 << 14 counters */
#define JITD_OPEN_QUOTA	   1024	 /* of them, tracked at once for one subject */
#define JITD_MAX_AGG	   65536 /* allows aggregated at once (jitd_agg_key); full: full records */

/* Resource id of a decision that is about a grant's cgroup, not a resource (ptrace). */
#define JITD_RES_NONE 0u
/* Resource id of a guard decision: no resource, but the subject may not do it (changing
 * its login uid, a file the d_parent walk cannot place, a raw or packet socket). */
#define JITD_RES_GUARD 0xfffffffeu
/* Resource id of jitd itself: its BPF objects, its process, its files, the mounts and
 * cgroups its enforcement relies on. Only exempt subjects may change them; no grant can. */
#define JITD_RES_SELF 0xfffffffdu
/* Resource id reserved for the agent's enforcement self-test (exempt subjects too). */
#define JITD_RES_SELFTEST 0xffffffffu
/* Grant key uid meaning "any uid" (a pure cgroup grant). */
#define JITD_ANY_UID 0xffffffffu
/* task->loginuid when unset. */
#define JITD_NO_LOGINUID 0xffffffffu

/*
 * jitd_filter: a one-word-per-lookup pre-filter over every protected (dev, ino),
 * so the d_parent walk of an unprotected open costs array loads, not hash
 * lookups. A set bit may be a false positive (then the jitd_inodes lookup
 * decides); a protected inode's bit is always set before its jitd_inodes entry.
 */
#define JITD_FILTER_SHIFT 20 /* 2^20 bits, 128 KiB: about 9% set at 100,000 inodes */
#define JITD_FILTER_WORDS ((1u << JITD_FILTER_SHIFT) / 64)

struct jitd_filter {
	__u64 bits[JITD_FILTER_WORDS];
};
_Static_assert(sizeof(struct jitd_filter) == 131072, "jitd_filter size");

/* Bit index of a (kernel s_dev, ino) in jitd_filter: a multiplicative hash, in two steps
 * (a walk up one file system mixes its device once, then each inode). */
static inline __u64 jitd_filter_dev(__u64 dev)
{
	return dev * 0x9E3779B97F4A7C15ULL;
}

static inline __u32 jitd_filter_bit_on(__u64 dev_mix, __u64 ino)
{
	__u64 h = (ino ^ dev_mix) * 0xC2B2AE3D27D4EB4FULL;

	return (__u32)(h >> (64 - JITD_FILTER_SHIFT));
}

static inline __u32 jitd_filter_bit(__u64 dev, __u64 ino)
{
	return jitd_filter_bit_on(jitd_filter_dev(dev), ino);
}

/* Set the bit of a (kernel s_dev, ino) (userspace builds the filter). */
static inline void jitd_filter_set(struct jitd_filter *f, __u64 dev, __u64 ino)
{
	__u32 bit = jitd_filter_bit(dev, ino);

	f->bits[bit >> 6] |= 1ULL << (bit & 63);
}

/*
 * A device's own bit: (dev, JITD_FILTER_DEV_INO) is set for every device holding a
 * protected directory (jitd_subtree_devs) before any of its entries appear. A walk up
 * a device whose bit is clear could find nothing (no directory there covers anything,
 * and nothing there is unplaced), so it is not made: opens on /proc, /sys, /dev, a
 * tmpfs, look up their own inode only. A collision with an inode's bit only costs a walk.
 */
#define JITD_FILTER_DEV_INO (~0ULL)

static inline void jitd_filter_set_dev(struct jitd_filter *f, __u64 dev)
{
	jitd_filter_set(f, dev, JITD_FILTER_DEV_INO);
}

/* Flags of a protected inode. */
enum jitd_inode_flags {
	JITD_INODE_SUBTREE = 1u << 0,	 /* a directory: covers everything below it */
	JITD_INODE_EXEC = 1u << 1,	 /* from an "exec" entry (informational) */
	JITD_INODE_NOEXEMPT = 1u << 2,	 /* exempt subjects are not exempt (self-test) */
	JITD_INODE_SELF = 1u << 3,	 /* jitd's own (JITD_RES_SELF): readable, never changed */
	JITD_INODE_SECRET = 1u << 4,	 /* with SELF: not even readable (the audit sealing key) */
	JITD_INODE_REVOKE_OPEN = 1u << 5 /* "revoke": "open": a grant's end cuts open files */
};

enum jitd_op {
	JITD_OP_EXEC = 1,
	JITD_OP_OPEN = 2,
	JITD_OP_CONNECT = 3,
	JITD_OP_SENDMSG = 4,
	JITD_OP_LINK = 5,
	JITD_OP_RENAME = 6,
	JITD_OP_PTRACE = 7,  /* ptrace, /proc/PID/mem, process_vm_*: object = target pid + cgroup */
	JITD_OP_SETATTR = 8, /* truncate, chmod, chown, utimes */
	JITD_OP_XATTR = 9,   /* set or remove an extended attribute or ACL */
	JITD_OP_UNLINK = 10, /* unlink, rmdir, or a rename over it */
	JITD_OP_LOGINUID = 11, /* opening /proc/PID/loginuid for writing */
	JITD_OP_SOCKET = 12,   /* a raw or packet socket: family, type in object */
	JITD_OP_BPF = 13,      /* bpf(): jitd's objects, or a program that could undo it */
	JITD_OP_SIGNAL = 14,   /* a signal to jitd: signal in port, target pid in ino */
	JITD_OP_UMOUNT = 15,   /* unmounting what holds jitd's pins: s_dev in dev */
	/* A use of a file or socket opened or connected under a grant that has ended
	 * ("revoke": "open"): always a denial, grant_id the grant it was opened under. */
	JITD_OP_READ = 16,  /* read, readv, pread, sendfile/splice/copy_file_range in, getdents */
	JITD_OP_WRITE = 17, /* write and the same routes out */
	JITD_OP_MMAP = 18,  /* a new mapping, or mprotect of one */
	JITD_OP_SEND = 19,  /* a send on a connected socket */
	JITD_OP_RECV = 20,  /* a receive on a connected socket */
	/* An open or connect under a "revoke": "open" grant that could not be tracked (the
	 * table of open files is full): denied, since its grant's end could not cut it. */
	JITD_OP_TRACK = 21,
	JITD_OP_MAX = 21
};

/*
 * jitd_self: jitd's own kernel objects and process, by kind and id (written by the
 * agent after loading and on every start). Non-exempt subjects may not get a
 * descriptor of such an object, signal or trace such a process, or unmount such a
 * superblock.
 */
enum jitd_self_kind {
	JITD_SELF_MAP = 1,  /* id: bpf map id */
	JITD_SELF_PROG = 2, /* id: bpf prog id */
	JITD_SELF_LINK = 3, /* id: bpf link id */
	JITD_SELF_TASK = 4, /* id: the agent's tgid */
	JITD_SELF_SB = 5,   /* id: s_dev of a mount on the way to the pins (/, /sys, bpffs) */
	JITD_SELF_MNTNS = 6 /* id: the agent's mount namespace (inode number) */
};

struct jitd_self_key {
	__u32 kind; /* enum jitd_self_kind */
	__u32 id;
};
_Static_assert(sizeof(struct jitd_self_key) == 8, "jitd_self_key size");
#define JITD_MAX_SELF 1024

/* jitd_build: the SHA-256 of the BPF object whose programs are attached (index 0). */
struct jitd_build {
	__u8 sha256[32];
};
_Static_assert(sizeof(struct jitd_build) == 32, "jitd_build size");

/* jitd_config: one element, index 0, written by the agent. */
enum jitd_config_flags {
	JITD_CFG_NET = 1u << 0, /* the policy protects network destinations: no raw sockets */
	JITD_CFG_EXUID_INLINE = 1u << 1 /* the exempt uids are those in ex_uids, all of them */
};

/*
 * jitd_config.flags bits 8-15: how far up from the root the exemption check looks for an
 * exempt cgroup (levels of the default hierarchy, the root is 0). 0: every level of the
 * task's ancestry (what an older jitd wrote, and what jitd writes while exemptions change);
 * 1: none (no exempt cgroup exists); n >= 2: levels 0 to n - 2 (the deepest exempt cgroup's
 * level is n - 2). A bound too low could only miss an exemption (more enforcement, never
 * less); jitd writes it from the levels of the exempt cgroups it put in jitd_ex_cgroups.
 */
#define JITD_CFG_EXCG_SHIFT 8
#define JITD_CFG_EXCG_MASK  (0xffu << JITD_CFG_EXCG_SHIFT)
#define JITD_CFG_EXCG_ALL   0u
#define JITD_CFG_EXCG_NONE  1u

/*
 * A policy's few exempt uids are compared here, in the one array element every check reads
 * anyway, not looked up in jitd_ex_uids (a hash lookup on every protected access). Without
 * JITD_CFG_EXUID_INLINE (more of them, or while they change) the map decides. Every slot is
 * compared: an unused one holds JITD_CFG_NO_UID, which no subject has (uid -1 cannot be
 * set), so a program reading the element while jitd rewrites it sees, slot by slot, an old
 * or a new exempt uid, never a uid neither policy exempts.
 */
#define JITD_CFG_INLINE_UIDS 6
#define JITD_CFG_NO_UID	     0xffffffffu

struct jitd_config {
	__u32 flags;	      /* enum jitd_config_flags */
	__u32 agg_interval_s; /* allows aggregated per this many seconds (0: each one recorded) */
	__u32 n_ex_uids;      /* how many slots of ex_uids are used (information; all compared) */
	__u32 ex_uids[JITD_CFG_INLINE_UIDS];
	__u32 pad; /* 0 */
};
_Static_assert(sizeof(struct jitd_config) == 40, "jitd_config size");

enum jitd_decision { JITD_DENY = 0, JITD_ALLOW = 1 };

/* Per-CPU counters, index into the jitd_stats array. */
enum jitd_stat {
	JITD_STAT_ALLOW = 0,
	JITD_STAT_DENY = 1,
	JITD_STAT_DROPS = 2,	      /* ring-buffer reserve failures */
	JITD_STAT_DROPS_REPORTED = 3, /* userspace only: drops already in the audit stream */
	JITD_STAT_CUT = 4,	      /* uses refused because their grant ended */
	JITD_STAT_TRACK_FULL = 5,     /* opens refused: the table of open files was full */
	JITD_STAT_MAX = 6
};

/*
 * jitd_inodes: key. dev is the kernel's s_dev encoding, major << 20 | minor;
 * userspace converts st_dev with major()/minor() (jitd_kdev()).
 */
struct jitd_inode_key {
	__u64 dev; /* major << 20 | minor */
	__u64 ino;
};
_Static_assert(sizeof(struct jitd_inode_key) == 16, "jitd_inode_key size");

struct jitd_inode_val {
	__u32 resource;
	__u32 flags; /* enum jitd_inode_flags */
};
_Static_assert(sizeof(struct jitd_inode_val) == 8, "jitd_inode_val size");

/*
 * jitd_nets: LPM trie key. data = port (network order, 0 = any port) then the
 * address as 16 bytes (IPv4 as ::ffff:a.b.c.d). prefixlen counts from the port:
 * an exact port with a /24 IPv4 network is 16 + 96 + 24.
 */
struct jitd_net_key {
	__u32 prefixlen;
	__u16 port;
	__u8 addr[16];
	__u8 pad[2];
};
_Static_assert(sizeof(struct jitd_net_key) == 24, "jitd_net_key size");

enum jitd_net_flags {
	JITD_NET_REVOKE_OPEN = 1u << 0 /* "revoke": "open": a grant's end cuts connections */
};

struct jitd_net_val {
	__u32 resource;
	__u32 flags; /* enum jitd_net_flags */
};
_Static_assert(sizeof(struct jitd_net_val) == 8, "jitd_net_val size");

/*
 * jitd_grants: key. uid == JITD_ANY_UID: any subject inside cgroup (and its
 * descendants); cgroup == 0: the uid anywhere; both set: the uid inside cgroup.
 */
struct jitd_grant_key {
	__u32 resource;
	__u32 uid;
	__u64 cgroup;
};
_Static_assert(sizeof(struct jitd_grant_key) == 16, "jitd_grant_key size");

/* Active while starts_ns <= now < expires_ns, both on the boot clock. */
struct jitd_grant_val {
	__u64 grant_id;
	__u64 starts_ns;
	__u64 expires_ns;
};
_Static_assert(sizeof(struct jitd_grant_val) == 24, "jitd_grant_val size");

/*
 * jitd_grant_use: per grant id, how it was used. jitd makes the entry (BPF_NOEXIST)
 * before the grant's first kernel key and deletes it after its last, once it ended; the
 * kernel adds each recorded allow by that grant (decide_key). Keyed by grant id, not in
 * jitd_grant_val (pinned, fixed size, rewritten whole by jitd): a use counts for the grant
 * the kernel allowed it by, never for a key's next grant.
 */
enum jitd_use_flags {
	JITD_USE_FIRST_USE = 1u << 0, /* the clock starts at first use: inactive from first_by_ns
				       * while first_ns is 0, from first_ns + use_for_ns after */
	JITD_USE_IDLE = 1u << 1	      /* inactive once now - (last_ns ?: idle_from_ns) >= idle_ns */
};

struct jitd_grant_use {
	__u64 first_ns;	    /* boot clock, 0: never used (kernel: plain store while 0) */
	__u64 last_ns;	    /* boot clock (kernel: plain store) */
	__u64 uses;	    /* kernel: atomic add (XADD, no fetch: 5.10 has it) */
	__u64 uses_base;    /* jitd: uses counted before this entry (another boot) */
	__u64 first_by_ns;  /* jitd (JITD_USE_FIRST_USE): boot clock, the latest start */
	__u64 use_for_ns;   /* jitd (JITD_USE_FIRST_USE): the duration from the first use */
	__u64 idle_ns;	    /* jitd (JITD_USE_IDLE): the longest time unused */
	__u64 idle_from_ns; /* jitd (JITD_USE_IDLE): boot clock, idleness counted from it
			     * before the first use in this entry */
	__u32 flags;	    /* enum jitd_use_flags */
	__u32 pad;
};
_Static_assert(sizeof(struct jitd_grant_use) == 72, "jitd_grant_use size");

/* Per-CPU counters of grant usage, index into the jitd_use_stats array (not jitd_stats:
 * a pinned map's size is fixed, and libbpf refuses to reuse one whose max_entries grew). */
enum jitd_use_stat {
	JITD_USE_STAT_MISSING = 0, /* allows by a grant without a jitd_grant_use entry */
	JITD_USE_STAT_EXPIRED = 1, /* denials: the grant's usage limit (idle, first use) ended it */
	JITD_USE_STAT_AGGREGATED = 2, /* allows counted in a jitd_agg_val instead of a record */
	JITD_USE_STAT_AGG_FULL = 3,   /* allows whose aggregate could not be made (map full):
				       * recorded each, as with aggregation off */
	JITD_USE_STAT_MAX = 4
};
#define JITD_USE_STATS 8 /* the array's slots, fixed (pinned): later counters fit in */

/*
 * jitd_open: the open files and connected sockets of "revoke": "open" resources, keyed
 * by the address of their struct file (one open file description, shared by dup, fork,
 * SCM_RIGHTS and io_uring's fixed files), deleted when the kernel frees it. Each use
 * (read, write, mmap, send, receive) is allowed while `key` has an active grant; once
 * refused it stays refused (JITD_OPEN_CUT).
 */
enum jitd_open_flags {
	JITD_OPEN_SOCKET = 1u << 0, /* a connected socket: ino is its sockfs inode */
	JITD_OPEN_CUT = 1u << 1,    /* its grant ended: every later use is refused */
	/* a refusal of that kind was recorded (one record per kind and open file) */
	JITD_OPEN_SAID_READ = 1u << 2,
	JITD_OPEN_SAID_WRITE = 1u << 3,
	JITD_OPEN_SAID_MMAP = 1u << 4,
	JITD_OPEN_SAID_SEND = 1u << 5,
	JITD_OPEN_SAID_RECV = 1u << 6
};

struct jitd_open_val {
	struct jitd_grant_key key; /* the grant key that allowed the open or connect */
	__u64 grant_id;		   /* the grant it was opened under */
	__u64 dev;		   /* files: kernel s_dev; sockets: 0 */
	__u64 ino;		   /* files: inode; sockets: sockfs inode (sock_diag's) */
	__u64 opened_ns;	   /* boot clock */
	__u32 flags;		   /* enum jitd_open_flags */
	__u32 tgid;		   /* the process that opened or connected it */
	__u32 netns;		   /* sockets: the network namespace's inode number */
	__u16 slot;		   /* its counter in jitd_open_count (jitd_open_slot(ino)) */
	__u16 port;		   /* sockets: destination port, host order */
	__u8 family;		   /* sockets: AF_INET / AF_INET6 */
	__u8 pad[3];
	__u32 subject; /* whose quota it counts in (jitd_open_quota) */
	__u8 addr[16]; /* sockets: destination, IPv4 as ::ffff:a.b.c.d */
};
_Static_assert(sizeof(struct jitd_open_val) == 88, "jitd_open_val size");

/* jitd_open_count: a counter of tracked open files per slot (a hash of the inode
 * number), so a read of a file with none costs one array load; and at JITD_OPEN_TOTAL
 * the number tracked in all (a file's release looks it up only when there are any). */
#define JITD_OPEN_TOTAL (1u << JITD_OPEN_SHIFT)

static inline __u32 jitd_open_slot(__u64 ino)
{
	return (__u32)((ino * 0x9E3779B97F4A7C15ULL) >> (64 - JITD_OPEN_SHIFT));
}

/*
 * jitd_open_fslot: a counter of tracked open files per slot of their struct file's address
 * (all a file's release, file_free_security, may read), raised before the jitd_open_files
 * entry is made. At JITD_OPEN_FSLOT_TRUST: non-zero once every entry is counted; only then
 * does a release whose slot is 0 look up nothing, and a release count its slot down.
 * Programs of another build may have tracked files uncounted: each load of the programs
 * puts it to 0, and jitd sets it once only its own programs run and each entry's slot is
 * JITD_OPEN_STICKY (never counted down to 0: kern_fslot_settle).
 */
#define JITD_OPEN_FSLOT_TRUST (1u << JITD_OPEN_SHIFT)
#define JITD_OPEN_STICKY      (1u << 30)

static inline __u32 jitd_open_fslot(__u64 file)
{
	return (__u32)((file * 0xC2B2AE3D27D4EB4FULL) >> (64 - JITD_OPEN_SHIFT));
}

/*
 * jitd_allow_agg: allows aggregated in the kernel (agg_interval_s in jitd_config not 0).
 * The first allow of a key in an interval is a full ring-buffer record and makes the entry
 * (count 0); each later one with the same key only adds to count and stores last_ns. jitd
 * reads an entry once its interval is over (epoch_end_s + interval <= now), writes one record
 * with the count, first and last time when count > 0, and deletes it. Keyed by the run of a
 * program (tgid, process start, exec count): every process's first use of an object under a
 * grant is a full record of its own, and so is the first after any exec. The key is what
 * every aggregated allow hashes and compares: the program's name is not in it but in the
 * value, as at the run's first use in the interval (a rename by prctl is no new run).
 */
struct jitd_agg_key {
	__u64 grant_id;
	__u64 cgroup;	/* the subject, whole: a move to another cgroup, */
	__u64 start_ns; /* the process's start (boot clock): a reused pid, */
	__u64 obj[2];	/* files (family 0): kernel s_dev, inode; networks: the address */
	__u32 uid;	/* a setuid, */
	__u32 loginuid;
	__u32 exec_id;	   /* and any exec: another key */
	__u32 epoch_end_s; /* boot clock, seconds: the end of the interval */
	__u32 tgid;
	__u32 resource;
	__u8 op;
	__u8 family;
	__u16 port;
	__u32 pad; /* 0 */
};
_Static_assert(sizeof(struct jitd_agg_key) == 72, "jitd_agg_key size");

struct jitd_agg_val {
	__u64 count;	/* kernel: atomic add; the allows after the full record */
	__u64 first_ns; /* boot clock: the first of them (0: none yet) */
	__u64 last_ns;	/* boot clock: the last of them */
	__u64 cgroup;	/* the subject as in the full record */
	__u32 uid;
	__u32 loginuid;
	__u32 subject_uid;
	__u32 tid;
	char comm[JITD_COMM_LEN]; /* the program, as in the full record */
};
_Static_assert(sizeof(struct jitd_agg_val) == 64, "jitd_agg_val size");

/* One ring-buffer record per decision (allow by grant, or deny). */
struct jitd_event {
	__u64 ts_ns; /* boot clock */
	__u64 cgroup;
	__u64 grant_id; /* 0 when denied */
	__u64 dev;	/* files: kernel s_dev of the object */
	__u64 ino;
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__u32 loginuid;
	__u32 subject_uid; /* loginuid if set, else uid */
	__u32 resource;
	__u8 op;       /* enum jitd_op */
	__u8 decision; /* enum jitd_decision */
	__u8 family;   /* AF_INET / AF_INET6 for network ops, else 0 */
	__u8 pad0;
	__u16 port; /* host order */
	__u8 pad1[2];
	__u8 addr[16]; /* IPv4 as ::ffff:a.b.c.d */
	char comm[JITD_COMM_LEN];
};
_Static_assert(sizeof(struct jitd_event) == 104, "jitd_event size");

#endif /* JITD_ABI_H */
