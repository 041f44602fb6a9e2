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
 *  - inode_link / inode_rename: a file protected only because it lies below a
 *    protected directory must not be linked or moved out of that subtree.
 *  - socket_connect: TCP connect, connected UDP, io_uring connect.
 *  - socket_sendmsg: unconnected sendto/sendmsg/sendmmsg (UDP, TCP Fast Open).
 *  - ptrace_access_check / ptrace_traceme: a process tree holding a cgroup grant
 *    (jitctl exec) cannot be driven from outside that cgroup by ptrace,
 *    /proc/PID/mem, process_vm_writev or pidfd_getfd, which would hand its access
 *    to the same user's other processes.
 *
 * Kernel structures are read by direct BTF loads (CO-RE relocated by
 * vmlinux.h's preserve_access_index): a faulting load reads 0, never crashes,
 * and costs far less than a bpf_probe_read_kernel() call on the hot path.
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

#define EPERM 1
#define AF_INET 2
#define AF_INET6 10
#define __FMODE_EXEC 0x20 /* in f_flags of exec opens; open(2) cannot set it */
#define MAX_ERRNO 4095

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Protected files and directories by (s_dev, i_ino). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, JITD_MAX_INODES);
	__type(key, struct jitd_inode_key);
	__type(value, struct jitd_inode_val);
} inodes SEC(".maps");

/* Pre-filter over jitd_inodes (see jitd_abi.h); one element, index 0. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct jitd_filter);
} filter SEC(".maps");

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

/* Subject uid: the login uid when set (sudo/su keep it), else the real uid. */
static __always_inline __u32 current_loginuid(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return task->loginuid.val;
}

static __always_inline bool subject_exempt(__u32 subj)
{
	if (bpf_map_lookup_elem(&ex_uids, &subj))
		return true;
	for (int level = 0; level < JITD_CGROUP_DEPTH; level++) {
		__u64 cg = bpf_get_current_ancestor_cgroup_id(level);

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
static __always_inline bool find_grant(__u32 res, __u32 subj, __u64 *grant_id)
{
	__u64 now = bpf_ktime_get_boot_ns();
	struct jitd_grant_key key = { .resource = res, .uid = subj, .cgroup = 0 };

	if (grant_active(&key, now, grant_id))
		return true;
	for (int level = 0; level < JITD_CGROUP_DEPTH; level++) {
		__u64 cg = bpf_get_current_ancestor_cgroup_id(level);

		if (!cg)
			break;
		key.cgroup = cg;
		key.uid = JITD_ANY_UID;
		if (grant_active(&key, now, grant_id))
			return true;
		key.uid = subj;
		if (grant_active(&key, now, grant_id))
			return true;
	}
	return false;
}

/*
 * The decision for a protected access. Exempt subjects pass unrecorded (unless
 * the resource is the self-test's); everything else gets one record.
 * record_allow == false records only denials (the exec-open half of an execve,
 * whose allow is recorded by bprm_check_security). grants_apply == false: no
 * grant can allow it, only exemption (moving data out of a protected subtree).
 */
static __always_inline int decide(__u32 res, __u32 iflags, __u8 op, struct object *obj,
				  bool record_allow, bool grants_apply)
{
	__u64 uid_gid = bpf_get_current_uid_gid();
	__u32 uid = (__u32)uid_gid;
	__u32 loginuid = current_loginuid();
	__u32 subj = loginuid != JITD_NO_LOGINUID ? loginuid : uid;
	__u64 grant_id = 0;
	struct jitd_event *e;
	bool allow;

	if (!(iflags & JITD_INODE_NOEXEMPT) && subject_exempt(subj))
		return 0;

	allow = grants_apply && find_grant(res, subj, &grant_id);
	stat_inc(allow ? JITD_STAT_ALLOW : JITD_STAT_DENY);
	if (allow && !record_allow)
		return 0;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		/* No audit space: count the loss, decide anyway. */
		stat_inc(JITD_STAT_DROPS);
		return verdict(allow);
	}
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	e->ts_ns = bpf_ktime_get_boot_ns();
	e->cgroup = bpf_get_current_cgroup_id();
	e->grant_id = grant_id;
	e->dev = obj->dev;
	e->ino = obj->ino;
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->uid = uid;
	e->loginuid = loginuid;
	e->subject_uid = subj;
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
	return verdict(allow);
}

static __always_inline bool maybe_protected(const struct jitd_filter *f, __u64 dev, __u64 ino)
{
	__u32 bit = jitd_filter_bit(dev, ino);

	return f->bits[(bit >> 6) & (JITD_FILTER_WORDS - 1)] & (1ULL << (bit & 63));
}

/* The filter. An array's index 0 always exists; NULL would mean a broken map,
 * and then the caller treats everything as possibly protected. */
static __always_inline const struct jitd_filter *get_filter(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&filter, &zero);
}

static __always_inline struct jitd_inode_val *lookup_inode(const struct jitd_filter *f,
							   struct jitd_inode_key *key)
{
	if (f && !maybe_protected(f, key->dev, key->ino))
		return NULL; /* the filter never misses a protected inode */
	return bpf_map_lookup_elem(&inodes, key);
}

/*
 * The resource protecting a dentry: its own inode (any entry), else the nearest
 * protected directory among its first JITD_DPARENT_DEPTH ancestors. *via_parent
 * tells which. A miss means "not protected". The walk stays on one superblock.
 */
static __always_inline struct jitd_inode_val *dentry_resource(struct dentry *d, bool *via_parent)
{
	const struct jitd_filter *f = get_filter();
	struct jitd_inode_key key = { .dev = d->d_sb->s_dev };
	struct jitd_inode_val *v;

	key.ino = d->d_inode->i_ino;
	v = lookup_inode(f, &key);
	*via_parent = false;
	if (v)
		return v;
	for (int i = 0; i < JITD_DPARENT_DEPTH; i++) {
		struct dentry *parent = d->d_parent;

		if (!parent || parent == d)
			break;
		d = parent;
		key.ino = d->d_inode->i_ino;
		v = lookup_inode(f, &key);
		if (v && (v->flags & JITD_INODE_SUBTREE)) {
			*via_parent = true;
			return v;
		}
	}
	return NULL;
}

static __always_inline int check_file(struct file *file, __u8 op, bool record_allow)
{
	struct dentry *d = file->f_path.dentry;
	struct object obj = {};
	struct jitd_inode_val *v;
	bool via_parent;

	if (!d)
		return 0;
	v = dentry_resource(d, &via_parent);
	if (!v)
		return 0;
	obj.dev = d->d_sb->s_dev;
	obj.ino = d->d_inode->i_ino;
	return decide(v->resource, v->flags, op, &obj, record_allow, true);
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
	bool exec;

	if (ret)
		return prior(ret);
	/* The open of an execve/execveat/ELF interpreter: deny it here too (an
	 * interpreter gets no bprm check of its own), record only denials. */
	exec = file->f_flags & __FMODE_EXEC;
	return check_file(file, exec ? JITD_OP_EXEC : JITD_OP_OPEN, !exec);
}

/*
 * A link or rename that would take a file out of the protected subtree that
 * covers it. Objects protected by their own inode keep their protection
 * wherever their names go, so only subtree coverage is checked.
 */
static __always_inline int check_move(struct dentry *old, struct dentry *new_parent, __u8 op)
{
	struct jitd_inode_val *v, *nv;
	struct object obj = {};
	bool via_parent, nvia;

	if (!old)
		return 0;
	v = dentry_resource(old, &via_parent);
	if (!v || !via_parent)
		return 0;
	if (new_parent) {
		nv = dentry_resource(new_parent, &nvia);
		if (nv && nv->resource == v->resource)
			return 0;
	}
	obj.dev = old->d_sb->s_dev;
	obj.ino = old->d_inode->i_ino;
	/* No grant makes moving protected data out of its subtree legal. */
	return decide(v->resource, v->flags, op, &obj, true, false);
}

SEC("lsm/inode_link")
int BPF_PROG(jitd_link, struct dentry *old_dentry, struct inode *dir, struct dentry *new_dentry,
	     int ret)
{
	if (ret)
		return prior(ret);
	return check_move(old_dentry, new_dentry->d_parent, JITD_OP_LINK);
}

SEC("lsm/inode_rename")
int BPF_PROG(jitd_rename, struct inode *old_dir, struct dentry *old_dentry, struct inode *new_dir,
	     struct dentry *new_dentry, int ret)
{
	if (ret)
		return prior(ret);
	return check_move(old_dentry, new_dentry->d_parent, JITD_OP_RENAME);
}

/*
 * Resolve a socket address (kernel memory) to a protected network resource.
 * Two LPM lookups: the exact port, then "any port" (port 0 in the trie).
 */
static __always_inline int check_sockaddr(const void *uaddr, int len, __u8 op)
{
	struct jitd_net_key key = {};
	struct jitd_net_val *v;
	struct object obj = {};
	__u16 family = 0;

	if (!uaddr || len < (int)sizeof(family))
		return 0;
	if (bpf_probe_read_kernel(&family, sizeof(family), uaddr))
		return 0; /* unreadable: the kernel itself will fail the call */
	if (family == AF_INET) {
		struct sockaddr_in sin = {};

		if (len < (int)sizeof(sin) || bpf_probe_read_kernel(&sin, sizeof(sin), uaddr))
			return 0; /* too short: the protocol rejects it with EINVAL */
		key.addr[10] = 0xff;
		key.addr[11] = 0xff;
		__builtin_memcpy(&key.addr[12], &sin.sin_addr.s_addr, 4);
		key.port = sin.sin_port;
	} else if (family == AF_INET6) {
		struct sockaddr_in6 sin6 = {};

		if (len < 24 || bpf_probe_read_kernel(&sin6, 24, uaddr))
			return 0; /* SIN6_LEN_RFC2133 is the shortest the stack takes */
		__builtin_memcpy(key.addr, &sin6.sin6_addr, 16);
		key.port = sin6.sin6_port;
	} else {
		return 0;
	}
	obj.family = family;
	obj.port = bpf_ntohs(key.port);
	__builtin_memcpy(obj.addr, key.addr, 16);

	key.prefixlen = 16 + 128;
	v = bpf_map_lookup_elem(&nets, &key);
	if (!v) {
		key.port = 0;
		v = bpf_map_lookup_elem(&nets, &key);
	}
	if (!v)
		return 0;
	return decide(v->resource, 0, op, &obj, true, true);
}

SEC("lsm/socket_connect")
int BPF_PROG(jitd_connect, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	if (ret)
		return prior(ret);
	return check_sockaddr(address, addrlen, JITD_OP_CONNECT);
}

SEC("lsm/socket_sendmsg")
int BPF_PROG(jitd_sendmsg, struct socket *sock, struct msghdr *msg, int size, int ret)
{
	void *name;

	if (ret)
		return prior(ret);
	/* Connected sends carry no address: their connect was checked. */
	name = msg->msg_name;
	if (!name)
		return 0;
	return check_sockaddr(name, msg->msg_namelen, JITD_OP_SENDMSG);
}

/* The nearest cgroup of task t (its own or an ancestor) that holds a cgroup grant, or 0. */
static __always_inline __u64 granted_cgroup_of(struct task_struct *t)
{
	struct cgroup *cg = BPF_CORE_READ(t, cgroups, dfl_cgrp);

	/* Probe reads: the verifier would keep the css type across the cast below. */
	for (int i = 0; i < JITD_CGROUP_DEPTH && cg; i++) {
		__u64 id = BPF_CORE_READ(cg, kn, id);

		if (bpf_map_lookup_elem(&granted_cgroups, &id))
			return id;
		/* struct cgroup starts with its css, whose parent is the parent cgroup's. */
		cg = (struct cgroup *)BPF_CORE_READ(cg, self.parent);
	}
	return 0;
}

/* Is task t inside cgroup id (itself or below it)? */
static __always_inline bool task_in_cgroup(struct task_struct *t, __u64 id)
{
	struct cgroup *cg = BPF_CORE_READ(t, cgroups, dfl_cgrp);

	for (int i = 0; i < JITD_CGROUP_DEPTH && cg; i++) {
		if (BPF_CORE_READ(cg, kn, id) == id)
			return true;
		cg = (struct cgroup *)BPF_CORE_READ(cg, self.parent);
	}
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
	if (ret)
		return prior(ret);
	return check_ptrace(bpf_get_current_task_btf(), child);
}

SEC("lsm/ptrace_traceme")
int BPF_PROG(jitd_traceme, struct task_struct *parent, int ret)
{
	if (ret)
		return prior(ret);
	return check_ptrace(parent, bpf_get_current_task_btf());
}
