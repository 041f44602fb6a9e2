// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The benchmark's baseline: the cheapest possible LSM hooks on jitd's hook
 * points, one map lookup each, always allowing. Never loaded by jitd.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} min_map SEC(".maps");

static __always_inline int touch(int ret)
{
	__u32 k = 0;

	if (ret)
		return ret;
	/* One lookup, result unused beyond the NULL check: always allow. */
	return bpf_map_lookup_elem(&min_map, &k) ? 0 : 0;
}

SEC("lsm/bprm_check_security")
int BPF_PROG(min_exec, struct linux_binprm *bprm, int ret)
{
	return touch(ret);
}

SEC("lsm/file_open")
int BPF_PROG(min_open, struct file *file, int ret)
{
	return touch(ret);
}

SEC("lsm/inode_link")
int BPF_PROG(min_link, struct dentry *old, struct inode *dir, struct dentry *new_dentry, int ret)
{
	return touch(ret);
}

SEC("lsm/inode_rename")
int BPF_PROG(min_rename, struct inode *od, struct dentry *o, struct inode *nd, struct dentry *n,
	     int ret)
{
	return touch(ret);
}

SEC("lsm/socket_connect")
int BPF_PROG(min_connect, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	return touch(ret);
}

SEC("lsm/socket_sendmsg")
int BPF_PROG(min_sendmsg, struct socket *sock, struct msghdr *msg, int size, int ret)
{
	return touch(ret);
}

SEC("lsm/ptrace_access_check")
int BPF_PROG(min_ptrace, struct task_struct *child, unsigned int mode, int ret)
{
	return touch(ret);
}

SEC("lsm/ptrace_traceme")
int BPF_PROG(min_traceme, struct task_struct *parent, int ret)
{
	return touch(ret);
}
