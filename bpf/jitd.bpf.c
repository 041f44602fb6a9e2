// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * jitd's BPF LSM programs: deny exec, open and connect/sendmsg of protected
 * resources unless an active grant allows the subject.
 *
 * Hooks and why:
 *  - bprm_check_security: every exec (also each #! interpreter level).
 *  - file_open: every open, including the FMODE_EXEC opens of execve, execveat
 *    and ELF interpreters; an exec resource also protects reading the binary so
 *    it cannot be copied and run. Identity is (s_dev, i_ino), never a path, so
 *    symlinks, hard links and /proc/self/fd reopen resolve to the same inode.
 *    Opening /proc/PID/loginuid for writing is the only way to change a login
 *    uid (the subject): a non-exempt subject may not (guard, below).
 *  - inode_link / inode_rename: a file protected only because it lies below a
 *    protected directory must not be linked or moved out of that subtree; a
 *    protected object is not renamed or replaced without a grant, a protected
 *    directory not at all.
 *  - inode_setattr, inode_setxattr, inode_removexattr, inode_set_acl,
 *    inode_remove_acl, inode_unlink, inode_rmdir: truncate, chmod, chown,
 *    utimes, xattrs, ACLs and removal of a protected object need a grant, as a
 *    write open does; a protected directory is never removed.
 *  - socket_connect: TCP connect, connected UDP, io_uring connect.
 *  - socket_sendmsg: unconnected sendto/sendmsg/sendmmsg (UDP, TCP Fast Open).
 *  - sctp_bind_connect: SCTP connectx and its address lists.
 *  - socket_create: raw IP and packet sockets write their own headers, so no
 *    destination check can hold: a non-exempt subject cannot open them while
 *    the policy protects any network destination.
 *  - ptrace_access_check / ptrace_traceme: a process tree holding a cgroup grant
 *    (jitctl exec) cannot be driven from outside that cgroup by ptrace,
 *    /proc/PID/mem, process_vm_writev or pidfd_getfd, which would hand its access
 *    to the same user's other processes.
 *
 * Kernel structures are read by direct BTF loads (CO-RE relocated by
 * vmlinux.h's preserve_access_index): a faulting load reads 0, never crashes,
 * and costs far less than a bpf_probe_read_kernel() call on the hot path.
 *
 * One object for kernels 5.10 to 7.2: what differs is chosen at load time by
 * CO-RE (helper existence from the kernel's enum bpf_func_id) and by the agent
 * (which of two hook signatures to load, from the kernel's BTF). Nothing is
 * compiled per kernel version.
 *
 * Every hook first returns an earlier LSM's verdict unchanged and returns only
 * 0 or -EPERM. Failure paths: a map lookup miss on the protected-object maps
 * means "not protected" (allow, nothing recorded); once an object is protected,
 * a missing or expired grant denies, and a full ring buffer only bumps the drop
 * counter: the decision never depends on audit space. Nothing here allows a
 * protected access by failing.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "jitd_abi.h"

#define EPERM		    1
#define EEXIST		    17
#define AF_INET		    2
#define AF_INET6	    10
#define AF_UNSPEC	    0
#define AF_PACKET	    17
#define AF_XDP		    44
#define SOCK_STREAM	    1
#define SOCK_RAW	    3
#define SOCK_PACKET	    10
#define SOCK_TYPE_MASK	    0xf
#define __FMODE_EXEC	    0x20 /* in f_flags of exec opens; open(2) cannot set it */
#define FMODE_WRITE	    0x2
#define PROC_SUPER_MAGIC    0x9fa0
#define BPF_FS_MAGIC	    0xcafe4a11
#define CGROUP2_SUPER_MAGIC 0x63677270
#define MAY_WRITE	    0x2
#define MAY_READ	    0x4
#define S_IFMT		    00170000
#define S_IFDIR		    0040000
#define MAX_ERRNO	    4095
/* SCTP socket options that name peer addresses (uapi/linux/sctp.h). */
#define SCTP_SOCKOPT_CONNECTX_OLD  107
#define SCTP_SOCKOPT_CONNECTX	   110
#define SCTP_SOCKOPT_CONNECTX3	   111
#define SCTP_SENDMSG_CONNECT	   108
#define SCTP_PRIMARY_ADDR	   6
#define SCTP_SET_PEER_PRIMARY_ADDR 5

/* Helpers the running kernel has (CO-RE: relocated to a constant at load time, so the
 * verifier never sees the branch that is not taken). 5.10 lacks get_current_task_btf. */
#define HAVE_TASK_BTF bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf)

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Protected files and directories by (s_dev, i_ino). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, JITD_MAX_INODES);
	__type(key, struct jitd_inode_key);
	__type(value, struct jitd_inode_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} inodes SEC(".maps");

/* Pre-filter over jitd_inodes (see jitd_abi.h); one element, index 0. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct jitd_filter);
} filter SEC(".maps");

/* Devices holding a protected directory: there, a file the d_parent walk cannot place
 * (deeper than JITD_DPARENT_DEPTH, or disconnected from the root) is denied. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, JITD_MAX_EXEMPT);
	__type(key, __u64);
	__type(value, __u32);
} subtree_devs SEC(".maps");

/* What the policy as a whole asks for (struct jitd_config), index 0. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct jitd_config);
} jconfig SEC(".maps");

/* Protected networks: {port, address} longest-prefix match. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, JITD_MAX_NETS);
	__type(key, struct jitd_net_key);
	__type(value, struct jitd_net_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nets SEC(".maps");

/* Active grants; the value carries the boot-clock window checked here. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, JITD_MAX_GRANTS);
	__type(key, struct jitd_grant_key);
	__type(value, struct jitd_grant_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} grants SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, JITD_MAX_EXEMPT);
	__type(key, __u32);
	__type(value, __u32);
} ex_uids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, JITD_MAX_EXEMPT);
	__type(key, __u64);
	__type(value, __u32);
} ex_cgroups SEC(".maps");

/* cgroup ids that hold at least one active cgroup grant (kept by the agent). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, JITD_MAX_EXEMPT);
	__type(key, __u64);
	__type(value, __u32);
} granted_cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, JITD_RINGBUF_BYTES);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, JITD_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* Usage per grant id (struct jitd_grant_use): made by jitd before a grant's first key. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, JITD_MAX_GRANTS);
	__type(key, __u64);
	__type(value, struct jitd_grant_use);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} grant_use SEC(".maps");

/* enum jitd_use_stat, per CPU (apart from stats, whose pinned size is fixed). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, JITD_USE_STATS);
	__type(key, __u32);
	__type(value, __u64);
} use_stats SEC(".maps");

/* Allows aggregated per process, object, grant and interval (jitd_abi.h, agg_count). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, JITD_MAX_AGG);
	__type(key, struct jitd_agg_key);
	__type(value, struct jitd_agg_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} allow_agg SEC(".maps");

/* The SHA-256 of the BPF object that is attached (its programs' pins may be adopted by
 * a restarted agent with the same object: see the agent's kern_open). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct jitd_build);
} build SEC(".maps");

/* jitd's own objects, process, mounts (struct jitd_self_key; enum jitd_self_kind). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, JITD_MAX_SELF);
	__type(key, struct jitd_self_key);
	__type(value, __u32);
} self SEC(".maps");

/* Open files and connected sockets of "revoke": "open" resources, by the address of
 * their struct file (jitd_abi.h, jitd_open). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, JITD_MAX_OPEN);
	__type(key, __u64);
	__type(value, struct jitd_open_val);
} open_files SEC(".maps");

/* Tracked open files per slot, and their total at JITD_OPEN_TOTAL (jitd_abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, JITD_OPEN_TOTAL + 1);
	__type(key, __u32);
	__type(value, __u32);
} open_count SEC(".maps");

/* Tracked open files per slot of their struct file's address, and whether the counts may
 * be trusted at JITD_OPEN_FSLOT_TRUST (jitd_abi.h, jitd_open_fslot). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, JITD_OPEN_FSLOT_TRUST + 1);
	__type(key, __u32);
	__type(value, __u32);
} open_fslot SEC(".maps");

/* Tracked open files per subject, at most JITD_OPEN_QUOTA each: one user cannot fill
 * open_files and so refuse every other user's opens of such resources. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, JITD_MAX_OPEN);
	__type(key, __u32);
	__type(value, __u32);
} open_quota SEC(".maps");

/* What the access touched, for the audit record. */
struct object {
	__u64 dev;
	__u64 ino;
	__u8 family;
	__u16 port;
	__u8 addr[16];
};

/* An earlier LSM's denial, passed on unchanged; anything but an errno (never seen)
 * becomes -EPERM so the verifier sees a bounded return. */
static __always_inline int prior(int ret)
{
	return ret < 0 && ret >= -MAX_ERRNO ? ret : -EPERM;
}

/* 0 or -EPERM. The barrier keeps the constant: the 6.12 verifier cannot bound a
 * -EPERM the compiler computes from a bool. */
static __always_inline int verdict(bool allow)
{
	if (allow)
		return 0;
	asm volatile("" ::: "memory");
	return -EPERM;
}

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	/* The array always has the slot; a NULL here only loses a count. */
	if (v)
		*v += 1;
}

/* The current task, for probe reads (works with or without get_current_task_btf). */
static __always_inline struct task_struct *current_task(void)
{
	if (HAVE_TASK_BTF)
		return bpf_get_current_task_btf();
	return (struct task_struct *)bpf_get_current_task();
}

/* The login uid (sudo/su keep it); JITD_NO_LOGINUID when unset. */
static __always_inline __u32 current_loginuid(void)
{
	if (HAVE_TASK_BTF) {
		struct task_struct *task = bpf_get_current_task_btf();

		return task->loginuid.val;
	}
	return BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), loginuid.val);
}

/*
 * The task's real uid from its objective credentials (real_cred). Not the current
 * (subjective) ones: a file system may override those with its mounter's while it
 * works for the task (overlayfs opens the real file as the mounter, often root).
 */
static __always_inline __u32 current_real_uid(void)
{
	if (HAVE_TASK_BTF) {
		/* direct loads (the hot path of every protected access) */
		struct task_struct *task = bpf_get_current_task_btf();
		const struct cred *cred = task->real_cred;

		if (cred)
			return cred->uid.val;
		/* a task always has credentials: never reached; probe read below */
	}
	return BPF_CORE_READ(current_task(), real_cred, uid.val);
}

/*
 * The id of cgroup *cg, moving *cg to its parent; 0 past the root. By probe reads (the
 * verifier would keep the css type across the cast): 5.10's subject cgroups, and the
 * trees of other tasks (ptrace).
 */
static __always_inline __u64 cgroup_up(struct cgroup **cg)
{
	__u64 id;

	if (!*cg)
		return 0;
	id = BPF_CORE_READ(*cg, kn, id);
	/* struct cgroup starts with its css, whose parent is the parent cgroup's. */
	*cg = (struct cgroup *)BPF_CORE_READ(*cg, self.parent);
	return id;
}

/* The cgroup id at step `level` of the task's ancestry (any order: every id is checked).
 * *walk is the fallback's cursor; start it with walk_start(). */
static __always_inline __u64 cgroup_at(int level, struct cgroup **walk)
{
	if (HAVE_TASK_BTF)
		return bpf_get_current_ancestor_cgroup_id(level);
	return cgroup_up(walk);
}

static __always_inline struct cgroup *walk_start(void)
{
	if (HAVE_TASK_BTF)
		return NULL;
	return BPF_CORE_READ(current_task(), cgroups, dfl_cgrp);
}

/*
 * How many levels of the task's cgroup ancestry the exemption check looks at (see
 * JITD_CFG_EXCG_SHIFT): none when no exempt cgroup exists, else down to the deepest exempt
 * cgroup's level, counted from the root by the ancestor helper. The 5.10 fallback walks from
 * the leaf up, so there only "none" bounds it.
 */
static __always_inline int exempt_levels(const struct jitd_config *c)
{
	__u32 v = c ? (c->flags & JITD_CFG_EXCG_MASK) >> JITD_CFG_EXCG_SHIFT : JITD_CFG_EXCG_ALL;

	if (v == JITD_CFG_EXCG_NONE)
		return 0;
	if (v == JITD_CFG_EXCG_ALL || !HAVE_TASK_BTF)
		return JITD_CGROUP_DEPTH;
	return v - 1;
}

/* Is the uid exempt: compared with jitd_config's copy of the few there are (every slot:
 * unused ones hold JITD_CFG_NO_UID), else looked up. */
static __always_inline bool uid_exempt(const struct jitd_config *c, __u32 subj)
{
	if (!c || !(c->flags & JITD_CFG_EXUID_INLINE))
		return bpf_map_lookup_elem(&ex_uids, &subj) != NULL;
	if (subj == JITD_CFG_NO_UID)
		return false;
	for (__u32 i = 0; i < JITD_CFG_INLINE_UIDS; i++)
		if (c->ex_uids[i] == subj)
			return true;
	return false;
}

/* c: jitd_config's element (NULL: broken map, then the maps decide) */
static __always_inline bool subject_exempt(const struct jitd_config *c, __u32 subj)
{
	struct cgroup *walk;
	int levels;

	if (uid_exempt(c, subj))
		return true;
	levels = exempt_levels(c);
	if (!levels)
		return false;
	walk = walk_start();
	for (int level = 0; level < JITD_CGROUP_DEPTH; level++) {
		if (level >= levels)
			break;
		__u64 cg = cgroup_at(level, &walk);

		if (!cg)
			break;
		if (bpf_map_lookup_elem(&ex_cgroups, &cg))
			return true;
	}
	return false;
}

static __always_inline bool grant_active(struct jitd_grant_key *key, __u64 now, __u64 *grant_id)
{
	struct jitd_grant_val *g = bpf_map_lookup_elem(&grants, key);

	if (!g || now < g->starts_ns || now >= g->expires_ns)
		return false;
	*grant_id = g->grant_id;
	return true;
}

/* An active grant for the resource: the uid anywhere, any subject inside one of
 * the task's cgroup ancestors, or the uid inside one of them. */
static __always_inline bool find_grant(__u32 res, __u32 subj, __u64 *grant_id,
				       struct jitd_grant_key *key, __u64 *now_out)
{
	__u64 now = bpf_ktime_get_boot_ns();
	struct cgroup *walk = walk_start();

	*now_out = now;
	key->resource = res;
	key->uid = subj;
	key->cgroup = 0;
	if (grant_active(key, now, grant_id))
		return true;
	for (int level = 0; level < JITD_CGROUP_DEPTH; level++) {
		__u64 cg = cgroup_at(level, &walk);

		if (!cg)
			break;
		key->cgroup = cg;
		key->uid = JITD_ANY_UID;
		if (grant_active(key, now, grant_id))
			return true;
		key->uid = subj;
		if (grant_active(key, now, grant_id))
			return true;
	}
	return false;
}

static __always_inline bool is_self(__u32 kind, __u32 id)
{
	struct jitd_self_key key = {.kind = kind, .id = id};

	return bpf_map_lookup_elem(&self, &key) != NULL;
}

/* Is the current task the agent itself? */
static __always_inline bool self_task(void)
{
	return is_self(JITD_SELF_TASK, bpf_get_current_pid_tgid() >> 32);
}

/* The grant that allowed an access: its key and id (key.resource 0: none), and the
 * subject it allowed (whose share of open_files a tracked open counts in). */
struct granted {
	struct jitd_grant_key key;
	__u64 id;
	__u32 subj;
};

/* Who is asking: the real uid, the login uid, and the subject grants are keyed by. */
struct subject {
	__u32 uid;
	__u32 loginuid;
	__u32 subj; /* loginuid if set, else uid */
};

static __always_inline void subject_of(struct subject *s)
{
	s->uid = current_real_uid();
	s->loginuid = current_loginuid();
	s->subj = s->loginuid != JITD_NO_LOGINUID ? s->loginuid : s->uid;
}

/* One audit record (a full ring buffer only bumps the drop counter). */
static __always_inline void emit(__u32 res, __u8 op, bool allow, __u64 grant_id,
				 const struct subject *s, const struct object *obj)
{
	struct jitd_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		stat_inc(JITD_STAT_DROPS);
		return;
	}
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	e->ts_ns = bpf_ktime_get_boot_ns();
	e->cgroup = bpf_get_current_cgroup_id();
	e->grant_id = grant_id;
	e->dev = obj->dev;
	e->ino = obj->ino;
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->uid = s->uid;
	e->loginuid = s->loginuid;
	e->subject_uid = s->subj;
	e->resource = res;
	e->op = op;
	e->decision = allow ? JITD_ALLOW : JITD_DENY;
	e->family = obj->family;
	e->pad0 = 0;
	e->port = obj->port;
	e->pad1[0] = 0;
	e->pad1[1] = 0;
	__builtin_memcpy(e->addr, obj->addr, sizeof(e->addr));
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
}

static __always_inline void use_stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&use_stats, &idx);

	/* the array always has the slot; a NULL here only loses a count */
	if (v)
		*v += 1;
}

/*
 * An access grant grant_id allowed at now: does its usage limit still let it through, and,
 * when count (an allow that is recorded: an execve counts once, at bprm_check_security,
 * not at its open too), one use of it. Called once, after the key loop, only for allows:
 * unprotected objects and denials pay nothing. The entry is the grant id's, which only
 * jitd writes into a key's value: a subject cannot make its use count for another grant.
 * No entry (a grant written by an older jitd, until it re-syncs): the allow stands,
 * uncounted, and use_missing says so; the grant's own window still bounds it. An idle
 * grant (JITD_USE_IDLE, unused for idle_ns) is denied here even while jitd is down. Two
 * CPUs storing a first use race by nanoseconds, harmlessly; the count is an atomic add.
 */
static __always_inline bool use_allows(__u64 grant_id, __u64 now, bool count)
{
	struct jitd_grant_use *u = bpf_map_lookup_elem(&grant_use, &grant_id);

	if (!u) {
		use_stat_inc(JITD_USE_STAT_MISSING);
		return true;
	}
	/* a first-use grant: before its first use, allowed until its latest start; after it,
	 * for its duration from that use (two CPUs racing on the first store differ by the
	 * race's nanoseconds, either is a first use) */
	if (u->flags & JITD_USE_FIRST_USE) {
		bool over = u->first_ns ? now >= u->first_ns && now - u->first_ns >= u->use_for_ns
					: now >= u->first_by_ns;

		if (over) {
			use_stat_inc(JITD_USE_STAT_EXPIRED);
			return false;
		}
	}
	if (u->flags & JITD_USE_IDLE) {
		__u64 from = u->last_ns ?: u->idle_from_ns;

		if (now >= from && now - from >= u->idle_ns) {
			use_stat_inc(JITD_USE_STAT_EXPIRED);
			return false;
		}
	}
	if (!count)
		return true;
	if (!u->first_ns)
		u->first_ns = now;
	u->last_ns = now;
	__sync_fetch_and_add(&u->uses, 1);
	return true;
}

/*
 * What tells one run of a program from another: its process (tgid), the process's start
 * (the group leader's boot-clock start) and its exec count. Every aggregated allow reads
 * them: direct loads where the task has BTF (a probe read costs a helper call and a
 * fault-safe copy each: about 200 instructions an allow), probe reads on 5.10.
 */
static __always_inline void current_run(__u64 *start_ns, __u32 *exec_id, __u32 *tgid)
{
	if (HAVE_TASK_BTF) {
		struct task_struct *task = bpf_get_current_task_btf();
		struct task_struct *leader = task->group_leader;

		*exec_id = task->self_exec_id;
		*tgid = task->tgid;
		if (leader) {
			*start_ns = leader->start_boottime;
			return;
		}
		/* a task always has a group leader: never reached; probe read below */
	}
	*start_ns = BPF_CORE_READ(current_task(), group_leader, start_boottime);
	*exec_id = (__u32)BPF_CORE_READ(current_task(), self_exec_id);
	*tgid = bpf_get_current_pid_tgid() >> 32;
}

/*
 * Aggregation of allows (jitd_config.agg_interval_s not 0): the key of an allow at now, or
 * false when aggregation is off (every allow recorded). The interval is the one that ends
 * at epoch_end_s on the boot clock, the same for every CPU.
 */
static __always_inline bool agg_key_of(const struct jitd_config *c, struct jitd_agg_key *k,
				       __u32 res, __u8 op, __u64 grant_id, const struct object *obj,
				       const struct subject *s, __u64 now)
{
	__u64 ival;

	if (!c || !c->agg_interval_s || res == JITD_RES_SELFTEST)
		return false;
	ival = c->agg_interval_s;
	k->cgroup = bpf_get_current_cgroup_id();
	current_run(&k->start_ns, &k->exec_id, &k->tgid);
	k->uid = s->uid;
	k->loginuid = s->loginuid;
	k->grant_id = grant_id;
	if (obj->family) {
		__builtin_memcpy(k->obj, obj->addr, sizeof(k->obj));
	} else {
		k->obj[0] = obj->dev;
		k->obj[1] = obj->ino;
	}
	k->epoch_end_s = (__u32)((now / (ival * 1000000000ULL) + 1) * ival);
	k->resource = res;
	k->op = op;
	k->family = obj->family;
	k->port = obj->port;
	k->pad = 0;
	return true;
}

/*
 * An allow counted in its aggregate, if it has one (then no record: jitd writes the count,
 * first and last time once the interval is over). No aggregate yet: false, the caller records
 * the allow in full and then makes it with agg_make.
 *
 * What a subject could try, and why it fails:
 *  - make its uses vanish by filling the map (many processes, objects): a full map only
 *    fails agg_make, and every allow without an aggregate is a full record (agg_full says
 *    how often); nothing is dropped for want of room.
 *  - make a use count for another grant: the key's grant_id is find_grant's, from the
 *    grant map only jitd writes; the tgid is the kernel's; no field comes from the caller.
 *  - hide behind a new process or program: fork gets a new tgid, an exec keeps the tgid
 *    but changes the exec id, a reused pid has another start time, a setuid or a move to
 *    another cgroup another subject: each in the key, so the first use of the object under
 *    the grant by each process, program and subject is a full record with its own subject
 *    (a program renaming itself, prctl PR_SET_NAME, is the same run: its later uses count
 *    in the record named as at its first).
 *  - hide in the aggregate's lag: the count is written one to two intervals later; a host
 *    crash before loses at most the counts of those intervals (the full records stand).
 * A preempted program that adds after jitd read and deleted its entry (it would have to
 * stall for a whole interval between its clock read and the add) loses that one count.
 */
static __always_inline bool agg_count(const struct jitd_agg_key *k, __u64 now)
{
	struct jitd_agg_val *v = bpf_map_lookup_elem(&allow_agg, k);

	if (!v)
		return false;
	if (!v->first_ns)
		v->first_ns = now;
	v->last_ns = now;
	__sync_fetch_and_add(&v->count, 1);
	use_stat_inc(JITD_USE_STAT_AGGREGATED);
	return true;
}

/* After a full record: the aggregate its key's later allows count in (count 0). Another CPU
 * making it first (-EEXIST) is fine; a full map: the next allows are full records too. */
static __always_inline void agg_make(const struct jitd_agg_key *k, const struct subject *s)
{
	struct jitd_agg_val v = {};
	long r;

	v.cgroup = bpf_get_current_cgroup_id();
	v.uid = s->uid;
	v.loginuid = s->loginuid;
	v.subject_uid = s->subj;
	v.tid = (__u32)bpf_get_current_pid_tgid();
	bpf_get_current_comm(v.comm, sizeof(v.comm));
	r = bpf_map_update_elem(&allow_agg, k, &v, BPF_NOEXIST);
	if (r && r != -EEXIST)
		use_stat_inc(JITD_USE_STAT_AGG_FULL);
}

/*
 * The decision for a protected access. Exempt subjects pass unrecorded (unless
 * the resource is the self-test's); everything else gets one record.
 * record_allow == false records only denials (the exec-open half of an execve,
 * whose allow is recorded by bprm_check_security). grants_apply == false: no
 * grant can allow it, only exemption (moving data out of a protected subtree).
 * g, if not NULL, gets the grant that allowed it (left zero otherwise).
 */
static __always_inline int decide_key(__u32 res, __u32 iflags, __u8 op, struct object *obj,
				      bool record_allow, bool grants_apply, struct granted *g)
{
	__u32 zero = 0;
	const struct jitd_config *c = bpf_map_lookup_elem(&jconfig, &zero);
	struct jitd_grant_key key = {};
	struct subject s;
	__u64 grant_id = 0, now = 0;
	bool allow;

	subject_of(&s);
	if (!(iflags & JITD_INODE_NOEXEMPT) && subject_exempt(c, s.subj))
		return 0;
	/* jitd keeps its own files and objects, whatever the policy exempts */
	if (res == JITD_RES_SELF && self_task())
		return 0;

	allow = grants_apply && find_grant(res, s.subj, &grant_id, &key, &now);
	/* an idle grant's denial is a plain denial (grant_id 0, as the ABI says) */
	if (allow && !use_allows(grant_id, now, record_allow)) {
		allow = false;
		grant_id = 0;
	}
	stat_inc(allow ? JITD_STAT_ALLOW : JITD_STAT_DENY);
	if (allow && g) {
		g->key = key;
		g->id = grant_id;
		g->subj = s.subj;
	}
	if (allow && !record_allow)
		return 0;
	if (allow) {
		struct jitd_agg_key ak; /* agg_key_of writes every byte (no padding) */

		if (agg_key_of(c, &ak, res, op, grant_id, obj, &s, now)) {
			if (agg_count(&ak, now))
				return 0;
			emit(res, op, allow, grant_id, &s, obj);
			agg_make(&ak, &s);
			return 0;
		}
	}
	emit(res, op, allow, grant_id, &s, obj);
	return verdict(allow);
}

static __always_inline int decide(__u32 res, __u32 iflags, __u8 op, struct object *obj,
				  bool record_allow, bool grants_apply)
{
	return decide_key(res, iflags, op, obj, record_allow, grants_apply, NULL);
}

/* The subject's count of tracked open files, made at 0 the first time; NULL: no room. */
static __always_inline __u32 *quota_of(__u32 subj)
{
	__u32 zero = 0, *q = bpf_map_lookup_elem(&open_quota, &subj);

	if (q)
		return q;
	bpf_map_update_elem(&open_quota, &subj, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&open_quota, &subj);
}

/*
 * "revoke": "open". Tracking: an open or connect a grant allowed is remembered by its
 * struct file (jitd_open); a full table, or the subject's full share of it, denies it
 * (its grant's end could not cut it).
 */
static __always_inline int track(struct file *file, const struct granted *g,
				 struct jitd_open_val *val, struct object *obj)
{
	__u32 total = JITD_OPEN_TOTAL, slot, fslot;
	struct subject s;
	__u32 *n, *q, *fs;
	__u64 addr = 0;
	long err;

	if (!file || !g->key.resource)
		return 0; /* exempt: not allowed by a grant, nothing to end */
	bpf_probe_read_kernel(&addr, sizeof(addr), &file); /* the address as a number */
	val->key = g->key;
	val->grant_id = g->id;
	val->opened_ns = bpf_ktime_get_boot_ns();
	val->tgid = bpf_get_current_pid_tgid() >> 32;
	val->subject = g->subj;
	slot = jitd_open_slot(val->ino);
	val->slot = slot;
	q = quota_of(g->subj);
	if (!q || *q >= JITD_OPEN_QUOTA)
		goto refused;
	fslot = jitd_open_fslot(addr);
	fs = bpf_map_lookup_elem(&open_fslot, &fslot);
	if (fs) /* before the entry: an entry's slot is never 0 */
		__sync_fetch_and_add(fs, 1);
	err = bpf_map_update_elem(&open_files, &addr, val, BPF_NOEXIST);
	if (err && fs)
		__sync_fetch_and_add(fs, (__u32)-1);
	if (!err) {
		__sync_fetch_and_add(q, 1);
		n = bpf_map_lookup_elem(&open_count, &slot);
		if (n)
			__sync_fetch_and_add(n, 1);
		n = bpf_map_lookup_elem(&open_count, &total);
		if (n)
			__sync_fetch_and_add(n, 1);
		return 0;
	}
	/* Already tracked: a socket connected again (UDP, or TCP after an AF_UNSPEC
	 * disconnect) is now under this grant, unless it is cut (a cut never heals). */
	if (err == -EEXIST) {
		struct jitd_open_val *old = bpf_map_lookup_elem(&open_files, &addr);

		if (old && !(old->flags & JITD_OPEN_CUT) && (old->flags & JITD_OPEN_SOCKET)) {
			old->key = val->key;
			old->grant_id = val->grant_id;
			old->port = val->port;
			old->family = val->family;
			old->netns = val->netns;
			__builtin_memcpy(old->addr, val->addr, 16);
		}
		return 0;
	}
refused:
	subject_of(&s);
	stat_inc(JITD_STAT_TRACK_FULL);
	emit(g->key.resource, JITD_OP_TRACK, false, g->id, &s, obj);
	return -EPERM;
}

/* The tracked open file behind a use, or NULL: one array load while nothing is tracked,
 * two for a file with none. */
static __always_inline struct jitd_open_val *tracked(struct file *file)
{
	__u32 slot = JITD_OPEN_TOTAL, *n;
	struct inode *inode;

	n = bpf_map_lookup_elem(&open_count, &slot);
	if (!n || !*n || !file)
		return NULL;
	inode = file->f_inode;
	if (!inode)
		return NULL;
	slot = jitd_open_slot(inode->i_ino);
	n = bpf_map_lookup_elem(&open_count, &slot);
	if (!n || !*n)
		return NULL;
	return bpf_map_lookup_elem(&open_files, &file);
}

/* A use (op READ..RECV) of a tracked open file: allowed while the grant it was opened
 * under is active; then refused for good, with one record per kind of use. */
static __always_inline int use_open(struct jitd_open_val *v, __u8 op)
{
	__u32 said = JITD_OPEN_SAID_READ << ((op - JITD_OP_READ) & 7);
	__u64 id = 0;

	if (!(v->flags & JITD_OPEN_CUT)) {
		if (grant_active(&v->key, bpf_ktime_get_boot_ns(), &id))
			return 0;
		v->flags |= JITD_OPEN_CUT; /* a race writes the same bits: harmless */
	}
	stat_inc(JITD_STAT_CUT);
	if (!(v->flags & said)) {
		struct object obj = {.dev = v->dev, .ino = v->ino};
		struct subject s;

		v->flags |= said;
		obj.family = v->family;
		obj.port = v->port;
		__builtin_memcpy(obj.addr, v->addr, 16);
		subject_of(&s);
		emit(v->key.resource, op, false, v->grant_id, &s, &obj);
	}
	return -EPERM;
}

static __always_inline bool maybe_protected_on(const struct jitd_filter *f, __u64 dev_mix,
					       __u64 ino)
{
	__u32 bit = jitd_filter_bit_on(dev_mix, ino);

	return f->bits[(bit >> 6) & (JITD_FILTER_WORDS - 1)] & (1ULL << (bit & 63));
}

/* The filter. An array's index 0 always exists; NULL would mean a broken map,
 * and then the caller treats everything as possibly protected. */
static __always_inline const struct jitd_filter *get_filter(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&filter, &zero);
}

/* The entry of key->ino on key->dev, dev_mix being key->dev's share of the filter's hash
 * (a walk mixes it once); key->ino written only when the filter says maybe. */
static __always_inline struct jitd_inode_val *
lookup_inode_on(const struct jitd_filter *f, __u64 dev_mix, struct jitd_inode_key *key, __u64 ino)
{
	if (f && !maybe_protected_on(f, dev_mix, ino))
		return NULL; /* the filter never misses a protected inode */
	key->ino = ino;
	return bpf_map_lookup_elem(&inodes, key);
}

static __always_inline struct jitd_inode_val *lookup_inode(const struct jitd_filter *f,
							   struct jitd_inode_key *key)
{
	return lookup_inode_on(f, jitd_filter_dev(key->dev), key, key->ino);
}

/* What protects an object: its own entry, a protected directory above it, or a guard. */
struct found {
	__u32 resource;
	__u32 flags;
	bool via_parent; /* covered by a directory above it, not by its own entry */
	bool guard;	 /* no resource: the walk could not place it on a protected fs */
};

static __always_inline bool found_val(struct found *out, struct jitd_inode_val *v, bool parent)
{
	if (!v)
		return false;
	out->resource = v->resource;
	out->flags = v->flags;
	out->via_parent = parent;
	return true;
}

/*
 * A walk that ended without a protected directory: allowed, unless it ended before
 * the file system's root (the bound was reached, or the dentry is disconnected, as
 * open_by_handle_at gives) on a device that holds a protected directory. Then the
 * answer cannot be known, and a non-exempt subject is denied (guard).
 */
static __always_inline bool unplaced(__u64 dev, bool at_root, bool connected, struct found *out)
{
	if (at_root && connected)
		return false;
	if (!bpf_map_lookup_elem(&subtree_devs, &dev))
		return false;
	out->resource = JITD_RES_GUARD;
	out->flags = 0;
	out->via_parent = true;
	out->guard = true;
	return true;
}

/* walk_up()'s answer, packed in one scalar (a global function returns one). */
#define WALK_RES_MASK	 0xffffffffULL
#define WALK_FOUND	 (1ULL << 32)
#define WALK_GUARD	 (1ULL << 33)
#define WALK_FLAGS_SHIFT 40

/*
 * The slow part of the walk, by probe reads from a dentry given as a number: the
 * levels above the fast walk's JITD_FAST_DEPTH, and the real file under a stacked
 * file system. A global function: the verifier proves it once per program, not once
 * per call, so its bound can be large. Returns 0 (not protected), or WALK_FOUND with
 * the resource and flags of the protected directory above, or WALK_GUARD (unplaced).
 */
__attribute__((noinline)) long walk_up(__u64 dentry, __u64 dev)
{
	const struct jitd_filter *f = get_filter();
	struct jitd_inode_key key = {.dev = dev};
	struct dentry *d = (struct dentry *)dentry;
	bool at_root = false;

	if (!d)
		return bpf_map_lookup_elem(&subtree_devs, &dev) ? WALK_GUARD : 0;
	for (int i = 0; i < JITD_DPARENT_DEPTH - JITD_FAST_DEPTH; i++) {
		struct dentry *parent = BPF_CORE_READ(d, d_parent);
		struct jitd_inode_val *v;

		if (!parent || parent == d) {
			at_root = true;
			break;
		}
		d = parent;
		key.ino = BPF_CORE_READ(d, d_inode, i_ino);
		v = lookup_inode(f, &key);
		if (v && (v->flags & JITD_INODE_SUBTREE))
			return WALK_FOUND | v->resource | ((__u64)v->flags << WALK_FLAGS_SHIFT);
	}
	if (at_root && d == BPF_CORE_READ(d, d_sb, s_root))
		return 0;
	return bpf_map_lookup_elem(&subtree_devs, &dev) ? WALK_GUARD : 0;
}

static __always_inline bool walk_result(long r, struct found *out)
{
	if (r & WALK_GUARD) {
		out->resource = JITD_RES_GUARD;
		out->flags = 0;
		out->via_parent = true;
		out->guard = true;
		return true;
	}
	if (!(r & WALK_FOUND))
		return false;
	out->resource = r & WALK_RES_MASK;
	out->flags = (__u32)(r >> WALK_FLAGS_SHIFT);
	out->via_parent = true;
	return true;
}

/*
 * The resource protecting a dentry: its own inode (any entry), else the nearest
 * protected directory above it, else a guard when the walk cannot place it. Returns
 * false for "not protected". The walk stays on one superblock, up to its root: the
 * first JITD_FAST_DEPTH levels by direct loads (the hot path), the rest by walk_up(),
 * to JITD_DPARENT_DEPTH (deeper: unplaced()). The cost is the file's depth, not the
 * bound: the bound only limits what the verifier has to prove. No walk at all on a device
 * holding no protected directory (its filter bit, JITD_FILTER_DEV_INO).
 */
static __always_inline bool dentry_resource(struct dentry *d, struct found *out)
{
	const struct jitd_filter *f = get_filter();
	struct jitd_inode_key key = {.dev = d->d_sb->s_dev};
	__u64 dev_mix = jitd_filter_dev(key.dev);
	struct inode *inode = d->d_inode;
	bool at_root = false;
	__u64 next = 0;

	out->guard = false;
	if (inode && found_val(out, lookup_inode_on(f, dev_mix, &key, inode->i_ino), false))
		return true;
	if (f && !maybe_protected_on(f, dev_mix, JITD_FILTER_DEV_INO))
		return false; /* no protected directory on this device: nothing above covers it */
	for (int i = 0; i < JITD_FAST_DEPTH; i++) {
		struct dentry *parent = d->d_parent;

		if (!parent || parent == d) {
			at_root = true;
			break;
		}
		d = parent;
		inode = d->d_inode;
		if (!inode)
			continue; /* a parent is never negative; nothing to look up */
		struct jitd_inode_val *v = lookup_inode_on(f, dev_mix, &key, inode->i_ino);

		if (v && (v->flags & JITD_INODE_SUBTREE))
			return found_val(out, v, true);
	}
	if (at_root)
		return unplaced(key.dev, true, d == d->d_sb->s_root, out);
	/* deeper than the fast walk: go on from here by probe reads */
	bpf_probe_read_kernel(&next, sizeof(next), &d);
	return walk_result(walk_up(next, key.dev), out);
}

/* One of inode's dentries (a stacked file's real inode has no dentry of its own here). */
/* 7.x moved d_alias out of the named union d_u (CO-RE flavour: same struct dentry). */
struct dentry___anon_alias {
	struct hlist_node d_alias;
} __attribute__((preserve_access_index));

static __always_inline __u64 inode_alias(struct inode *inode)
{
	__u64 first = (__u64)BPF_CORE_READ(inode, i_dentry.first);

	if (!first)
		return 0;
	if (bpf_core_field_exists(struct dentry___anon_alias, d_alias))
		return first - bpf_core_field_offset(struct dentry___anon_alias, d_alias);
	return first - bpf_core_field_offset(struct dentry, d_u.d_alias);
}

/*
 * The resource protecting an open file. Identity is the file's inode: under overlayfs
 * the path may be the overlay's while the inode is the real (lower or upper) one, and
 * the decision must be on the real inode, its own entry or a directory above it.
 */
static __always_inline bool file_resource(struct file *file, struct found *out)
{
	struct dentry *d = file->f_path.dentry;
	struct inode *inode = file->f_inode;
	struct jitd_inode_key key = {};

	if (!d || !inode)
		return false;
	if (d->d_inode == inode)
		return dentry_resource(d, out);
	out->guard = false;
	key.dev = inode->i_sb->s_dev;
	key.ino = inode->i_ino;
	if (found_val(out, lookup_inode(get_filter(), &key), false))
		return true;
	return walk_result(walk_up(inode_alias(inode), key.dev), out);
}

static __always_inline void obj_of(struct object *obj, struct dentry *d)
{
	struct inode *inode = d->d_inode;

	obj->dev = d->d_sb->s_dev;
	obj->ino = inode ? inode->i_ino : 0;
}

/* A guard decision: only exempt subjects may; no grant makes it legal. */
static __always_inline int guard(__u8 op, struct object *obj)
{
	return decide(JITD_RES_GUARD, 0, op, obj, true, false);
}

/* Touching jitd itself: only exempt subjects (and jitd) may; no grant makes it legal. */
static __always_inline int self_guard(__u8 op, struct object *obj)
{
	return decide(JITD_RES_SELF, 0, op, obj, true, false);
}

/* Opening /proc/PID/loginuid for writing: the only way to set a login uid. */
static __always_inline bool is_loginuid_write(struct file *file, struct dentry *d)
{
	__u64 name = 0;

	if (!(file->f_mode & FMODE_WRITE) || d->d_sb->s_magic != PROC_SUPER_MAGIC)
		return false;
	if (d->d_name.len != 8)
		return false;
	bpf_probe_read_kernel(&name, 8, d->d_name.name);
	return name == 0x6469756e69676f6cULL; /* "loginuid", little-endian */
}

static __always_inline int check_file(struct file *file, __u8 op, bool record_allow)
{
	struct dentry *d = file->f_path.dentry;
	struct inode *inode = file->f_inode;
	struct object obj = {};
	struct found fo;

	if (!d || !inode)
		return 0;
	if (!file_resource(file, &fo))
		return 0;
	obj.dev = inode->i_sb->s_dev;
	obj.ino = inode->i_ino;
	if (fo.guard)
		return guard(op, &obj);
	/* jitd's own files (binary, policy, state, pins) may be read and run, not written;
	 * its secret (STATE_DIR/seal: the audit sealing key) not even read or run */
	if ((fo.flags & (JITD_INODE_SELF | JITD_INODE_SECRET)) == JITD_INODE_SELF &&
	    !(file->f_mode & FMODE_WRITE))
		return 0;
	struct granted g = {};
	int r = decide_key(fo.resource, fo.flags, op, &obj, record_allow, true, &g);

	/* "revoke": "open": the grant's end cuts this open file (not an exec's image) */
	if (r || op != JITD_OP_OPEN || !(fo.flags & JITD_INODE_REVOKE_OPEN))
		return r;
	struct jitd_open_val val = {.dev = obj.dev, .ino = obj.ino};

	return track(file, &g, &val, &obj);
}

SEC("lsm/bprm_check_security")
int BPF_PROG(jitd_exec, struct linux_binprm *bprm, int ret)
{
	if (ret)
		return prior(ret);
	return check_file(bprm->file, JITD_OP_EXEC, true);
}

SEC("lsm/file_open")
int BPF_PROG(jitd_open, struct file *file, int ret)
{
	struct dentry *d;
	bool exec;

	if (ret)
		return prior(ret);
	d = file->f_path.dentry;
	if (d && is_loginuid_write(file, d)) {
		struct object obj = {};

		obj_of(&obj, d);
		return guard(JITD_OP_LOGINUID, &obj);
	}
	/* The open of an execve/execveat/ELF interpreter: deny it here too (an
	 * interpreter gets no bprm check of its own), record only denials. */
	exec = file->f_flags & __FMODE_EXEC;
	return check_file(file, exec ? JITD_OP_EXEC : JITD_OP_OPEN, !exec);
}

/*
 * "revoke": "open": uses of an open file after the grant it was opened under ended.
 * file_permission: read, write, their vector and positional forms, sendfile, splice,
 * copy_file_range, aio, io_uring (fixed files too), getdents, fallocate, clone ranges.
 * mmap_file and file_mprotect: a new mapping, or new rights on one (pages already
 * mapped stay readable: no hook sees a page fault). file_free_security forgets it.
 */
SEC("lsm/file_permission")
int BPF_PROG(jitd_fperm, struct file *file, int mask, int ret)
{
	struct jitd_open_val *v;
	bool write = mask & MAY_WRITE;

	if (ret)
		return prior(ret);
	v = tracked(file);
	if (!v)
		return 0;
	if (v->flags & JITD_OPEN_SOCKET)
		return use_open(v, write ? JITD_OP_SEND : JITD_OP_RECV);
	return use_open(v, write ? JITD_OP_WRITE : JITD_OP_READ);
}

SEC("lsm/mmap_file")
int BPF_PROG(jitd_mmap, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	struct jitd_open_val *v;

	if (ret)
		return prior(ret);
	v = tracked(file);
	return v ? use_open(v, JITD_OP_MMAP) : 0;
}

SEC("lsm/file_mprotect")
int BPF_PROG(jitd_mprotect, struct vm_area_struct *vma, unsigned long reqprot, unsigned long prot,
	     int ret)
{
	struct jitd_open_val *v;

	if (ret)
		return prior(ret);
	v = tracked(vma->vm_file);
	return v ? use_open(v, JITD_OP_MMAP) : 0;
}

/* Overlayfs maps the real file of an overlay file it is asked to map (6.12.118 and 7.2
 * call this hook; 5.10 and 6.1 have none): the real file is the tracked one. Loaded only
 * where the kernel has the hook (agent/lsm_hooks.c). */
SEC("lsm/mmap_backing_file")
int BPF_PROG(jitd_mmap_backing, struct vm_area_struct *vma, struct file *backing_file,
	     struct file *user_file, int ret)
{
	struct jitd_open_val *v;

	if (ret)
		return prior(ret);
	v = tracked(backing_file);
	return v ? use_open(v, JITD_OP_MMAP) : 0;
}

/* ioctls of an open file after its grant ended: some read or move its contents without a
 * file_permission check (EXT4_IOC_MOVE_EXT swaps its blocks with another file's). */
SEC("lsm/file_ioctl")
int BPF_PROG(jitd_ioctl, struct file *file, unsigned int cmd, unsigned long arg, int ret)
{
	struct jitd_open_val *v;

	if (ret)
		return prior(ret);
	v = tracked(file);
	return v ? use_open(v, JITD_OP_READ) : 0;
}

/* The file is being freed (its argument is only a number here: untrusted from 6.12). */
SEC("lsm/file_free_security")
int BPF_PROG(jitd_ffree, struct file *file)
{
	__u32 total = JITD_OPEN_TOTAL, slot, subj;
	__u32 *n = bpf_map_lookup_elem(&open_count, &total), *fs = NULL, *trust;
	struct jitd_open_val *v;
	__u64 key = 0;

	if (!n || !*n)
		return 0;
	bpf_probe_read_kernel(&key, sizeof(key), &file);
	slot = JITD_OPEN_FSLOT_TRUST;
	trust = bpf_map_lookup_elem(&open_fslot, &slot);
	if (trust && *trust) {
		slot = jitd_open_fslot(key);
		fs = bpf_map_lookup_elem(&open_fslot, &slot);
		if (fs && !*fs)
			return 0; /* no tracked file has an address of this slot */
	}
	v = bpf_map_lookup_elem(&open_files, &key);
	if (!v)
		return 0;
	slot = v->slot;
	subj = v->subject;
	if (bpf_map_delete_elem(&open_files, &key))
		return 0; /* another CPU freed it first */
	if (fs)
		__sync_fetch_and_add(fs, (__u32)-1);
	__sync_fetch_and_add(n, (__u32)-1);
	n = bpf_map_lookup_elem(&open_count, &slot);
	if (n)
		__sync_fetch_and_add(n, (__u32)-1);
	n = bpf_map_lookup_elem(&open_quota, &subj);
	if (n)
		__sync_fetch_and_add(n, (__u32)-1);
	return 0;
}

/*
 * A change to a protected object other than opening it (attributes, xattrs, removal,
 * being renamed or replaced): like a write open, a grant for its resource allows it.
 * dir_final: a protected directory itself may not be removed or renamed at all.
 * own_only: only objects protected by their own entry (not as members of a subtree).
 */
static __always_inline int check_change(struct dentry *d, __u8 op, bool dir_final, bool own_only)
{
	struct object obj = {};
	struct found fo;

	if (!d || !d->d_inode)
		return 0; /* a negative dentry: nothing there to protect */
	if (!dentry_resource(d, &fo) || (own_only && fo.via_parent))
		return 0;
	obj_of(&obj, d);
	if (fo.guard)
		return guard(op, &obj);
	if (dir_final && !fo.via_parent && (fo.flags & JITD_INODE_SUBTREE))
		return decide(fo.resource, fo.flags, op, &obj, true, false);
	return decide(fo.resource, fo.flags, op, &obj, true, true);
}

/*
 * A link or rename that would take a file out of the protected subtree that
 * covers it: no grant makes that legal. Objects protected by their own inode keep
 * their protection wherever their names go (renaming them is check_change's).
 */
static __always_inline int check_move(struct dentry *old, struct dentry *new_parent, __u8 op)
{
	struct object obj = {};
	struct found fo, nfo;

	if (!old || !old->d_inode)
		return 0;
	if (!dentry_resource(old, &fo) || !fo.via_parent)
		return 0;
	obj_of(&obj, old);
	/* A new name for a file the walk cannot place (a disconnected dentry from
	 * open_by_handle_at, linked by AT_EMPTY_PATH) would place it outside. */
	if (fo.guard)
		return guard(op, &obj);
	if (new_parent && dentry_resource(new_parent, &nfo) && !nfo.guard &&
	    nfo.resource == fo.resource)
		return 0;
	return decide(fo.resource, fo.flags, op, &obj, true, false);
}

/*
 * A new name in one of jitd's own directories (state, pins, logs): created, linked or
 * renamed there, it could stand where jitd writes next (a symlink, a FIFO). Only the
 * directory's own entry is looked up: jitd's directories are flat.
 */
static __always_inline int check_self_dir(struct dentry *d, __u8 op)
{
	struct dentry *dir = d ? d->d_parent : NULL;
	struct inode *inode = dir ? dir->d_inode : NULL;
	struct jitd_inode_key key = {};
	struct jitd_inode_val *v;
	struct object obj = {};

	if (!inode)
		return 0;
	key.dev = dir->d_sb->s_dev;
	key.ino = inode->i_ino;
	v = lookup_inode(get_filter(), &key);
	if (!v || !(v->flags & JITD_INODE_SELF))
		return 0;
	obj_of(&obj, dir);
	return self_guard(op, &obj);
}

SEC("lsm/inode_link")
int BPF_PROG(jitd_link, struct dentry *old_dentry, struct inode *dir, struct dentry *new_dentry,
	     int ret)
{
	if (ret)
		return prior(ret);
	ret = check_move(old_dentry, new_dentry->d_parent, JITD_OP_LINK);
	if (!ret)
		ret = check_self_dir(new_dentry, JITD_OP_LINK);
	return ret;
}

SEC("lsm/inode_create")
int BPF_PROG(jitd_create, struct inode *dir, struct dentry *dentry, umode_t mode, int ret)
{
	if (ret)
		return prior(ret);
	return check_self_dir(dentry, JITD_OP_OPEN);
}

SEC("lsm/inode_mknod")
int BPF_PROG(jitd_mknod, struct inode *dir, struct dentry *dentry, umode_t mode, dev_t dev, int ret)
{
	if (ret)
		return prior(ret);
	return check_self_dir(dentry, JITD_OP_OPEN);
}

SEC("lsm/inode_symlink")
int BPF_PROG(jitd_symlink, struct inode *dir, struct dentry *dentry, const char *old_name, int ret)
{
	if (ret)
		return prior(ret);
	return check_self_dir(dentry, JITD_OP_LINK);
}

SEC("lsm/inode_mkdir")
int BPF_PROG(jitd_mkdir, struct inode *dir, struct dentry *dentry, umode_t mode, int ret)
{
	if (ret)
		return prior(ret);
	return check_self_dir(dentry, JITD_OP_OPEN);
}

SEC("lsm/inode_rename")
int BPF_PROG(jitd_rename, struct inode *old_dir, struct dentry *old_dentry, struct inode *new_dir,
	     struct dentry *new_dentry, int ret)
{
	if (ret)
		return prior(ret);
	ret = check_move(old_dentry, new_dentry->d_parent, JITD_OP_RENAME);
	/* A protected file renamed away frees its name for a file of the renamer's: a
	 * grant is needed (within a protected subtree, check_move has said all). */
	if (!ret)
		ret = check_change(old_dentry, JITD_OP_RENAME, true, true);
	/* The target, when it exists, is replaced (or exchanged): removed from its name. */
	if (!ret)
		ret = check_change(new_dentry, JITD_OP_UNLINK, true, false);
	return ret;
}

/* A new name in one of jitd's directories by rename: a program of its own. Folded into
 * jitd_rename, 6.12's verifier let that program deny a plain rename within a protected
 * subtree (a negative target taken for a protected one). */
SEC("lsm/inode_rename")
int BPF_PROG(jitd_rename_self, struct inode *old_dir, struct dentry *old_dentry,
	     struct inode *new_dir, struct dentry *new_dentry, int ret)
{
	if (ret)
		return prior(ret);
	return check_self_dir(new_dentry, JITD_OP_RENAME);
}

SEC("lsm/inode_unlink")
int BPF_PROG(jitd_unlink, struct inode *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return prior(ret);
	return check_change(dentry, JITD_OP_UNLINK, true, false);
}

SEC("lsm/inode_rmdir")
int BPF_PROG(jitd_rmdir, struct inode *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return prior(ret);
	return check_change(dentry, JITD_OP_UNLINK, true, false);
}

/*
 * Hooks whose arguments changed across 5.10..7.2 (an idmap or user namespace came
 * first): one program per signature; the agent loads the one matching the kernel's
 * BTF (kern_open) and says which in `jitctl status`.
 */
SEC("lsm/inode_setattr")
int BPF_PROG(jitd_setattr, struct dentry *dentry, struct iattr *attr, int ret)
{
	if (ret)
		return prior(ret);
	return check_change(dentry, JITD_OP_SETATTR, false, false);
}

SEC("lsm/inode_setattr")
int BPF_PROG(jitd_setattr_id, void *idmap, struct dentry *dentry, struct iattr *attr, int ret)
{
	if (ret)
		return prior(ret);
	return check_change(dentry, JITD_OP_SETATTR, false, false);
}

SEC("lsm/inode_setxattr")
int BPF_PROG(jitd_setxattr, struct dentry *dentry, const char *name, const void *value, size_t size,
	     int flags, int ret)
{
	if (ret)
		return prior(ret);
	return check_change(dentry, JITD_OP_XATTR, false, false);
}

SEC("lsm/inode_setxattr")
int BPF_PROG(jitd_setxattr_id, void *idmap, struct dentry *dentry, const char *name,
	     const void *value, size_t size, int flags, int ret)
{
	if (ret)
		return prior(ret);
	return check_change(dentry, JITD_OP_XATTR, false, false);
}

SEC("lsm/inode_removexattr")
int BPF_PROG(jitd_rmxattr, struct dentry *dentry, const char *name, int ret)
{
	if (ret)
		return prior(ret);
	return check_change(dentry, JITD_OP_XATTR, false, false);
}

SEC("lsm/inode_removexattr")
int BPF_PROG(jitd_rmxattr_id, void *idmap, struct dentry *dentry, const char *name, int ret)
{
	if (ret)
		return prior(ret);
	return check_change(dentry, JITD_OP_XATTR, false, false);
}

/* POSIX ACLs have hooks of their own since 6.2 (before, they were xattrs). */
SEC("lsm/inode_set_acl")
int BPF_PROG(jitd_setacl_id, void *idmap, struct dentry *dentry, const char *acl_name, void *kacl,
	     int ret)
{
	if (ret)
		return prior(ret);
	return check_change(dentry, JITD_OP_XATTR, false, false);
}

SEC("lsm/inode_remove_acl")
int BPF_PROG(jitd_rmacl_id, void *idmap, struct dentry *dentry, const char *acl_name, int ret)
{
	if (ret)
		return prior(ret);
	return check_change(dentry, JITD_OP_XATTR, false, false);
}

/*
 * The destination a socket address names, as the stack will use it: IPv4 as
 * ::ffff:a.b.c.d; the unspecified address as loopback (the kernel connects 0.0.0.0
 * and :: to the local host); AF_UNSPEC as AF_INET (udp_sendmsg and ping accept it so).
 * Returns false when the address is not an IP destination (or is too short for the
 * protocol, which then rejects the call itself).
 */
static __always_inline bool ip_dest(const void *uaddr, int len, struct jitd_net_key *key,
				    __u16 *family)
{
	__u16 fam = 0;

	if (!uaddr || len < (int)sizeof(fam))
		return false;
	if (bpf_probe_read_kernel(&fam, sizeof(fam), uaddr))
		return false; /* unreadable: the kernel itself will fail the call */
	if (fam == AF_INET || fam == AF_UNSPEC) {
		struct sockaddr_in sin = {};

		if (len < (int)sizeof(sin) || bpf_probe_read_kernel(&sin, sizeof(sin), uaddr))
			return false;
		if (fam == AF_UNSPEC && !sin.sin_addr.s_addr && !sin.sin_port)
			return false; /* a disconnect (connect with AF_UNSPEC), no destination */
		if (!sin.sin_addr.s_addr)
			sin.sin_addr.s_addr = bpf_htonl(0x7f000001);
		key->addr[10] = 0xff;
		key->addr[11] = 0xff;
		__builtin_memcpy(&key->addr[12], &sin.sin_addr.s_addr, 4);
		key->port = sin.sin_port;
		*family = AF_INET;
		return true;
	}
	if (fam == AF_INET6) {
		struct sockaddr_in6 sin6 = {};

		if (len < 24 || bpf_probe_read_kernel(&sin6, 24, uaddr))
			return false; /* SIN6_LEN_RFC2133 is the shortest the stack takes */
		__u32 w[4];

		__builtin_memcpy(w, &sin6.sin6_addr, 16);
		if (!w[0] && !w[1] && !w[2] && !w[3]) {
			w[3] = bpf_htonl(1); /* :: connects to ::1 */
		} else if (!w[0] && !w[1] && w[2] == bpf_htonl(0xffff) && !w[3]) {
			w[3] = bpf_htonl(0x7f000001); /* ::ffff:0.0.0.0 to 127.0.0.1 */
		}
		__builtin_memcpy(key->addr, w, 16);
		key->port = sin6.sin6_port;
		*family = AF_INET6;
		return true;
	}
	return false;
}

/* The protected network resource of a destination key, or NULL (exact port, then any). */
static __always_inline struct jitd_net_val *net_lookup(struct jitd_net_key *key)
{
	struct jitd_net_val *v;

	key->prefixlen = 16 + 128;
	v = bpf_map_lookup_elem(&nets, key);
	if (!v) {
		__u16 port = key->port;

		key->port = 0;
		v = bpf_map_lookup_elem(&nets, key);
		key->port = port;
	}
	return v;
}

/*
 * Resolve a socket address (kernel memory) to a protected network resource.
 * Two LPM lookups: the exact port, then "any port" (port 0 in the trie).
 */
/* Track a socket connected under a "revoke": "open" grant, by its file. */
static __always_inline int track_sock(struct socket *sock, const struct granted *g,
				      struct object *obj)
{
	struct jitd_open_val val = {.flags = JITD_OPEN_SOCKET};
	struct file *file = sock ? sock->file : NULL;

	if (!file || !file->f_inode)
		return 0; /* a kernel socket: no descriptor to cut */
	val.ino = file->f_inode->i_ino;
	val.family = obj->family;
	val.port = obj->port;
	__builtin_memcpy(val.addr, obj->addr, 16);
	val.netns = BPF_CORE_READ(sock, sk, __sk_common.skc_net.net, ns.inum);
	return track(file, g, &val, obj);
}

/*
 * Resolve a socket address (kernel memory) to a protected network resource.
 * Two LPM lookups: the exact port, then "any port" (port 0 in the trie).
 * sock: the socket a grant's end must cut ("revoke": "open"), or NULL.
 */
static __always_inline int check_sockaddr(const void *uaddr, int len, __u8 op, struct socket *sock)
{
	struct jitd_net_key key = {};
	struct granted g = {};
	struct jitd_net_val *v;
	struct object obj = {};
	__u16 family = 0;
	int r;

	if (!ip_dest(uaddr, len, &key, &family))
		return 0;
	obj.family = family;
	obj.port = bpf_ntohs(key.port);
	__builtin_memcpy(obj.addr, key.addr, 16);
	v = net_lookup(&key);
	if (!v)
		return 0;
	r = decide_key(v->resource, 0, op, &obj, true, true, &g);
	if (r || !sock || !(v->flags & JITD_NET_REVOKE_OPEN))
		return r;
	return track_sock(sock, &g, &obj);
}

SEC("lsm/socket_connect")
int BPF_PROG(jitd_connect, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	if (ret)
		return prior(ret);
	return check_sockaddr(address, addrlen, JITD_OP_CONNECT, sock);
}

SEC("lsm/socket_sendmsg")
int BPF_PROG(jitd_sendmsg, struct socket *sock, struct msghdr *msg, int size, int ret)
{
	struct jitd_open_val *v;
	void *name;
	int r;

	if (ret)
		return prior(ret);
	/* A socket connected under a grant that has ended ("revoke": "open"). */
	v = tracked(sock->file);
	if (v) {
		r = use_open(v, JITD_OP_SEND);
		if (r)
			return r;
	}
	/* Other connected sends carry no address: their connect was checked. */
	name = msg->msg_name;
	if (!name)
		return 0;
	/* TCP Fast Open: the send connects, and is tracked like a connect */
	return check_sockaddr(name, msg->msg_namelen, JITD_OP_SENDMSG,
			      sock->type == SOCK_STREAM ? sock : NULL);
}

#define SOL_TCP			   6
#define TCP_ZEROCOPY_RECEIVE	   35
#define SOL_SCTP		   132
#define SCTP_SOCKOPT_PEELOFF	   102
#define SCTP_SOCKOPT_PEELOFF_FLAGS 122

/*
 * Receives that are socket options: TCP_ZEROCOPY_RECEIVE copies data when it cannot map
 * it (no recvmsg hook). SCTP peeloff makes a new socket of an association, which would
 * not be tracked: refused on a tracked socket (op track).
 */
SEC("lsm/socket_getsockopt")
int BPF_PROG(jitd_getsockopt, struct socket *sock, int level, int optname, int ret)
{
	struct jitd_open_val *v;

	if (ret)
		return prior(ret);
	if (!(level == SOL_TCP && optname == TCP_ZEROCOPY_RECEIVE) &&
	    !(level == SOL_SCTP &&
	      (optname == SCTP_SOCKOPT_PEELOFF || optname == SCTP_SOCKOPT_PEELOFF_FLAGS)))
		return 0;
	v = tracked(sock->file);
	if (!v)
		return 0;
	if (level == SOL_TCP)
		return use_open(v, JITD_OP_RECV);
	struct object obj = {.ino = v->ino, .family = v->family, .port = v->port};
	struct subject s;

	__builtin_memcpy(obj.addr, v->addr, 16);
	subject_of(&s);
	emit(v->key.resource, JITD_OP_TRACK, false, v->grant_id, &s, &obj);
	return -EPERM;
}

SEC("lsm/socket_recvmsg")
int BPF_PROG(jitd_recvmsg, struct socket *sock, struct msghdr *msg, int size, int flags, int ret)
{
	struct jitd_open_val *v;

	if (ret)
		return prior(ret);
	v = tracked(sock->file);
	return v ? use_open(v, JITD_OP_RECV) : 0;
}

/*
 * SCTP: connectx and friends pass a packed list of sockaddr_in/sockaddr_in6. Every
 * address is looked up; the first protected one is decided. A list longer than
 * JITD_SCTP_ADDRS addresses cannot be checked here: a guard denies it.
 */
SEC("lsm/sctp_bind_connect")
int BPF_PROG(jitd_sctp, struct sock *sk, int optname, struct sockaddr *address, int addrlen,
	     int ret)
{
	struct jitd_net_key key = {};
	struct jitd_net_val *v = NULL;
	struct object obj = {};
	char *p = (char *)address;
	__u16 family = 0;
	__u32 off = 0;

	if (ret)
		return prior(ret);
	if (optname != SCTP_SOCKOPT_CONNECTX_OLD && optname != SCTP_SOCKOPT_CONNECTX &&
	    optname != SCTP_SOCKOPT_CONNECTX3 && optname != SCTP_SENDMSG_CONNECT &&
	    optname != SCTP_PRIMARY_ADDR && optname != SCTP_SET_PEER_PRIMARY_ADDR)
		return 0; /* bind: a local address */
	for (int i = 0; i < JITD_SCTP_ADDRS && !v; i++) {
		if (off >= (__u32)addrlen || off > 4096)
			break;
		__builtin_memset(&key, 0, sizeof(key));
		if (!ip_dest(p + off, addrlen - off, &key, &family))
			return 0; /* not an address SCTP takes: it rejects the call */
		v = net_lookup(&key);
		off += family == AF_INET6 ? 28 : 16;
	}
	if (!v) {
		if (off < (__u32)addrlen)
			return guard(JITD_OP_CONNECT, &obj);
		return 0;
	}
	obj.family = family;
	obj.port = bpf_ntohs(key.port);
	__builtin_memcpy(obj.addr, key.addr, 16);
	struct granted g = {};
	int r = decide_key(v->resource, 0, JITD_OP_CONNECT, &obj, true, true, &g);

	if (r || !(v->flags & JITD_NET_REVOKE_OPEN))
		return r;
	return track_sock(sk->sk_socket, &g, &obj);
}

static __always_inline bool net_protected(void)
{
	__u32 zero = 0;
	struct jitd_config *c = bpf_map_lookup_elem(&jconfig, &zero);

	/* An array's slot 0 always exists; NULL would be a broken map: guard anyway. */
	return !c || (c->flags & JITD_CFG_NET);
}

SEC("lsm/socket_create")
int BPF_PROG(jitd_socket, int family, int type, int protocol, int kern, int ret)
{
	struct object obj = {};
	int t = type & SOCK_TYPE_MASK;

	if (ret)
		return prior(ret);
	if (kern)
		return 0;
	if (family != AF_PACKET && family != AF_XDP && t != SOCK_PACKET &&
	    !(t == SOCK_RAW && (family == AF_INET || family == AF_INET6)))
		return 0;
	if (!net_protected())
		return 0;
	obj.family = family;
	obj.port = t;
	return guard(JITD_OP_SOCKET, &obj);
}

/* The nearest cgroup of task t (its own or an ancestor) that holds a cgroup grant, or 0. */
static __always_inline __u64 granted_cgroup_of(struct task_struct *t)
{
	struct cgroup *cg = BPF_CORE_READ(t, cgroups, dfl_cgrp);

	for (int i = 0; i < JITD_CGROUP_DEPTH && cg; i++) {
		__u64 id = cgroup_up(&cg);

		if (bpf_map_lookup_elem(&granted_cgroups, &id))
			return id;
	}
	return 0;
}

/* Is task t inside cgroup id (itself or below it)? */
static __always_inline bool task_in_cgroup(struct task_struct *t, __u64 id)
{
	struct cgroup *cg = BPF_CORE_READ(t, cgroups, dfl_cgrp);

	for (int i = 0; i < JITD_CGROUP_DEPTH && cg; i++)
		if (cgroup_up(&cg) == id)
			return true;
	return false;
}

/*
 * tracer wants to control tracee. Denied when the tracee's tree holds a cgroup
 * grant and the tracer is outside that tree (exempt subjects excepted): no
 * grant makes this legal, so the decision ignores grants.
 */
static __always_inline int check_ptrace(struct task_struct *tracer, struct task_struct *tracee)
{
	struct object obj = {};
	__u64 cg;

	if (!tracer || !tracee)
		return 0;
	cg = granted_cgroup_of(tracee);
	if (!cg || task_in_cgroup(tracer, cg))
		return 0;
	obj.dev = cg;
	obj.ino = BPF_CORE_READ(tracee, tgid);
	return decide(JITD_RES_NONE, 0, JITD_OP_PTRACE, &obj, true, false);
}

SEC("lsm/ptrace_access_check")
int BPF_PROG(jitd_ptrace, struct task_struct *child, unsigned int mode, int ret)
{
	struct object obj = {};
	__u32 tgid;

	if (ret)
		return prior(ret);
	/* jitd itself: ptrace, /proc/PID/mem, /proc/PID/fd, pidfd_getfd, process_vm_* */
	tgid = BPF_CORE_READ(child, tgid);
	if (is_self(JITD_SELF_TASK, tgid) && (bpf_get_current_pid_tgid() >> 32) != tgid) {
		obj.ino = tgid;
		return self_guard(JITD_OP_PTRACE, &obj);
	}
	return check_ptrace(current_task(), child);
}

SEC("lsm/ptrace_traceme")
int BPF_PROG(jitd_traceme, struct task_struct *parent, int ret)
{
	if (ret)
		return prior(ret);
	return check_ptrace(parent, current_task());
}

/*
 * Switching jitd off (issue: "governed root cannot switch it off"). A subject that is
 * not exempt may not reach jitd's BPF objects (a descriptor by id or by pin is all
 * that updating, deleting, freezing a map or detaching a link needs), load a program
 * that could undo or outrun an LSM decision (LSM, tracing, fmod_ret, kprobe
 * override_return, bpf_send_signal from a tracepoint, freplace, connect address
 * rewriting), signal or trace jitd, or unmount what holds its pins.
 */

/* Program types a non-exempt subject may load: packet and socket programs that see
 * only their own traffic. Everything else (tracing of any kind, LSM, struct_ops, ext,
 * syscall, sock_addr rewriting, and types newer than this list) is jitd's to allow. */
static __always_inline bool prog_type_harmless(__u32 t)
{
	switch (t) {
	case BPF_PROG_TYPE_SOCKET_FILTER:
	case BPF_PROG_TYPE_SCHED_CLS:
	case BPF_PROG_TYPE_SCHED_ACT:
	case BPF_PROG_TYPE_XDP:
	case BPF_PROG_TYPE_CGROUP_SKB:
	case BPF_PROG_TYPE_CGROUP_SOCK:
	case BPF_PROG_TYPE_LWT_IN:
	case BPF_PROG_TYPE_LWT_OUT:
	case BPF_PROG_TYPE_LWT_XMIT:
	case BPF_PROG_TYPE_SOCK_OPS:
	case BPF_PROG_TYPE_SK_SKB:
	case BPF_PROG_TYPE_CGROUP_DEVICE:
	case BPF_PROG_TYPE_SK_MSG:
	case BPF_PROG_TYPE_LWT_SEG6LOCAL:
	case BPF_PROG_TYPE_LIRC_MODE2:
	case BPF_PROG_TYPE_SK_REUSEPORT:
	case BPF_PROG_TYPE_FLOW_DISSECTOR:
	case BPF_PROG_TYPE_CGROUP_SYSCTL:
	case BPF_PROG_TYPE_CGROUP_SOCKOPT:
	case BPF_PROG_TYPE_SK_LOOKUP:
		return true;
	}
	return false;
}

/* bpf(cmd): object kind in obj.dev, id (or program type) in obj.ino. */
static __always_inline int check_bpf(int cmd, union bpf_attr *attr)
{
	struct object obj = {};
	__u32 kind;

	switch (cmd) {
	case BPF_MAP_GET_FD_BY_ID:
		kind = JITD_SELF_MAP;
		break;
	case BPF_PROG_GET_FD_BY_ID:
		kind = JITD_SELF_PROG;
		break;
	case BPF_LINK_GET_FD_BY_ID:
		/* any link, registered or not: jitd attaches its programs one after the other,
		 * each link for a moment before its id is registered, and a link's descriptor
		 * detaches it; nobody governed needs one by id (the maker of a link has its fd) */
		obj.dev = JITD_SELF_LINK;
		obj.ino = attr->link_id;
		return self_guard(JITD_OP_BPF, &obj);
	case BPF_PROG_LOAD:
		if (prog_type_harmless(attr->prog_type))
			return 0;
		obj.ino = attr->prog_type;
		return self_guard(JITD_OP_BPF, &obj);
	default:
		return 0;
	}
	/* map_id, prog_id and link_id share the union's first word */
	obj.ino = attr->map_id;
	if (!is_self(kind, obj.ino))
		return 0;
	obj.dev = kind;
	return self_guard(JITD_OP_BPF, &obj);
}

SEC("lsm/bpf")
int BPF_PROG(jitd_bpf, int cmd, union bpf_attr *attr, unsigned int size, int ret)
{
	if (ret)
		return prior(ret);
	return check_bpf(cmd, attr);
}

/* 6.x later: a `kernel` flag came last (the agent loads the one the kernel has). */
SEC("lsm/bpf")
int BPF_PROG(jitd_bpf_k, int cmd, union bpf_attr *attr, unsigned int size, bool kernel, int ret)
{
	if (ret)
		return prior(ret);
	return check_bpf(cmd, attr);
}

/* "jitd_" at the start of a kernel object name. */
static __always_inline bool jitd_named(const char *name)
{
	char n[5] = {};

	bpf_core_read(n, sizeof(n), name);
	return n[0] == 'j' && n[1] == 'i' && n[2] == 't' && n[3] == 'd' && n[4] == '_';
}

/* A new descriptor of a map, by id or by pin (BPF_OBJ_GET), or at creation. A map named
 * jitd_* is jitd's (the maps a new build makes while the old one enforces are named so,
 * and exist for a moment before their ids are registered). */
SEC("lsm/bpf_map")
int BPF_PROG(jitd_bpf_map, struct bpf_map *map, fmode_t fmode, int ret)
{
	struct object obj = {.dev = JITD_SELF_MAP};

	if (ret)
		return prior(ret);
	obj.ino = map->id;
	if (!is_self(JITD_SELF_MAP, obj.ino) && !jitd_named(map->name))
		return 0;
	return self_guard(JITD_OP_BPF, &obj);
}

/* A new descriptor of a program, by id or by pin. */
/*
 * An LSM program named jitd_*: jitd's, even before jitd registers its id (a load verifies
 * them one after the other, for seconds, before any id can be registered). Nobody governed
 * can load an LSM program (check_bpf), so no governed subject needs a descriptor of one.
 */
static __always_inline bool is_jitd_prog(struct bpf_prog *prog)
{
	return BPF_CORE_READ(prog, type) == BPF_PROG_TYPE_LSM && jitd_named(prog->aux->name);
}

SEC("lsm/bpf_prog")
int BPF_PROG(jitd_bpf_prog, struct bpf_prog *prog, int ret)
{
	struct object obj = {.dev = JITD_SELF_PROG};

	if (ret)
		return prior(ret);
	obj.ino = BPF_CORE_READ(prog, aux, id);
	if (!is_self(JITD_SELF_PROG, obj.ino) && !is_jitd_prog(prog))
		return 0;
	return self_guard(JITD_OP_BPF, &obj);
}

/*
 * Permission checks on an inode jitd relies on, whatever the route:
 *  - a pin of jitd's (bpffs): BPF_OBJ_GET checks it here (read or write), and a link has
 *    no bpf_map/bpf_prog-like hook of its own;
 *  - cgroup.procs and cgroup.threads of the exempt cgroups and their ancestors
 *    (cgroup2, write): moving a process into an exempt cgroup, by writing there or by
 *    clone3(CLONE_INTO_CGROUP), needs write permission on the cgroup.procs of the
 *    common ancestor, so every route into an exempt cgroup meets one of them.
 * Lookups (MAY_EXEC only) and every other file system leave at the first tests.
 */
SEC("lsm/inode_permission")
int BPF_PROG(jitd_permission, struct inode *inode, int mask, int ret)
{
	struct jitd_inode_key key = {};
	struct jitd_inode_val *v;
	struct object obj = {};
	unsigned long magic;

	if (ret)
		return prior(ret);
	if (!(mask & (MAY_READ | MAY_WRITE)))
		return 0;
	magic = inode->i_sb->s_magic;
	if (magic == BPF_FS_MAGIC) {
		if ((inode->i_mode & S_IFMT) == S_IFDIR)
			return 0; /* listing the pin directory is fine */
	} else if (magic != CGROUP2_SUPER_MAGIC || !(mask & MAY_WRITE)) {
		return 0;
	}
	key.dev = inode->i_sb->s_dev;
	key.ino = inode->i_ino;
	v = lookup_inode(get_filter(), &key);
	if (!v || !(v->flags & JITD_INODE_SELF))
		return 0;
	obj.dev = key.dev;
	obj.ino = key.ino;
	return self_guard(magic == BPF_FS_MAGIC ? JITD_OP_BPF : JITD_OP_OPEN, &obj);
}

/* A signal to jitd (kill, tgkill, pidfd_send_signal, sigqueue); 0 only probes. */
SEC("lsm/task_kill")
int BPF_PROG(jitd_kill, struct task_struct *p, struct kernel_siginfo *info, int sig,
	     const struct cred *cred, int ret)
{
	struct object obj = {};
	__u32 tgid;

	if (ret)
		return prior(ret);
	tgid = p->tgid;
	if (!sig || !is_self(JITD_SELF_TASK, tgid) || (bpf_get_current_pid_tgid() >> 32) == tgid)
		return 0;
	obj.ino = tgid;
	obj.port = sig;
	return self_guard(JITD_OP_SIGNAL, &obj);
}

/* A signal by F_SETOWN/F_SETSIG (SIGIO can be any signal): whoever set the owner, the
 * task doing I/O is not the one to judge; jitd never asks for it. Denied, unless jitd
 * itself does the I/O. */
SEC("lsm/file_send_sigiotask")
int BPF_PROG(jitd_sigio, struct task_struct *tsk, struct fown_struct *fown, int sig, int ret)
{
	struct object obj = {};
	__u32 tgid;

	if (ret)
		return prior(ret);
	tgid = tsk->tgid;
	if (!is_self(JITD_SELF_TASK, tgid) || (bpf_get_current_pid_tgid() >> 32) == tgid)
		return 0;
	obj.ino = tgid;
	obj.port = sig;
	return decide(JITD_RES_SELF, JITD_INODE_NOEXEMPT, JITD_OP_SIGNAL, &obj, true, false);
}

/* Unmounting, in jitd's mount namespace, a mount on the way to its pins (the bpffs
 * instance, /sys, /): releasing the bpffs superblock would release the pins. */
SEC("lsm/sb_umount")
int BPF_PROG(jitd_umount, struct vfsmount *mnt, int flags, int ret)
{
	struct object obj = {};
	struct mount *m;
	__u64 addr = 0;
	__u32 inum;

	if (ret)
		return prior(ret);
	obj.dev = mnt->mnt_sb->s_dev;
	if (!is_self(JITD_SELF_SB, obj.dev))
		return 0;
	/* struct mount embeds the vfsmount: container_of by probe reads */
	bpf_probe_read_kernel(&addr, sizeof(addr), &mnt);
	m = (struct mount *)(addr - bpf_core_field_offset(struct mount, mnt));
	inum = BPF_CORE_READ(m, mnt_ns, ns.inum);
	if (!is_self(JITD_SELF_MNTNS, inum))
		return 0;
	return self_guard(JITD_OP_UMOUNT, &obj);
}
