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

/* The hooks jitd added for changes, SCTP and sockets (variants as jitd's: lsm_hooks.c). */
SEC("lsm/inode_unlink")
int BPF_PROG(min_unlink, struct inode *dir, struct dentry *d, int ret)
{
	return touch(ret);
}

SEC("lsm/inode_rmdir")
int BPF_PROG(min_rmdir, struct inode *dir, struct dentry *d, int ret)
{
	return touch(ret);
}

SEC("lsm/inode_setattr")
int BPF_PROG(min_setattr, struct dentry *d, struct iattr *attr, int ret)
{
	return touch(ret);
}

SEC("lsm/inode_setattr")
int BPF_PROG(min_setattr_id, void *idmap, struct dentry *d, struct iattr *attr, int ret)
{
	return touch(ret);
}

SEC("lsm/inode_setxattr")
int BPF_PROG(min_setxattr, struct dentry *d, const char *name, const void *value, size_t size,
	     int flags, int ret)
{
	return touch(ret);
}

SEC("lsm/inode_setxattr")
int BPF_PROG(min_setxattr_id, void *idmap, struct dentry *d, const char *name, const void *value,
	     size_t size, int flags, int ret)
{
	return touch(ret);
}

SEC("lsm/inode_removexattr")
int BPF_PROG(min_rmxattr, struct dentry *d, const char *name, int ret)
{
	return touch(ret);
}

SEC("lsm/inode_removexattr")
int BPF_PROG(min_rmxattr_id, void *idmap, struct dentry *d, const char *name, int ret)
{
	return touch(ret);
}

SEC("lsm/inode_set_acl")
int BPF_PROG(min_setacl_id, void *idmap, struct dentry *d, const char *acl_name, void *kacl,
	     int ret)
{
	return touch(ret);
}

SEC("lsm/inode_remove_acl")
int BPF_PROG(min_rmacl_id, void *idmap, struct dentry *d, const char *acl_name, int ret)
{
	return touch(ret);
}

SEC("lsm/sctp_bind_connect")
int BPF_PROG(min_sctp, struct sock *sk, int optname, struct sockaddr *address, int addrlen, int ret)
{
	return touch(ret);
}

SEC("lsm/socket_create")
int BPF_PROG(min_socket, int family, int type, int protocol, int kern, int ret)
{
	return touch(ret);
}

/* The hooks that keep jitd from being switched off (bpf/jitd.bpf.c, end). */
SEC("lsm/bpf")
int BPF_PROG(min_bpf, int cmd, union bpf_attr *attr, unsigned int size, int ret)
{
	return touch(ret);
}

SEC("lsm/bpf")
int BPF_PROG(min_bpf_k, int cmd, union bpf_attr *attr, unsigned int size, bool kernel, int ret)
{
	return touch(ret);
}

SEC("lsm/bpf_map")
int BPF_PROG(min_bpf_map, struct bpf_map *map, fmode_t fmode, int ret)
{
	return touch(ret);
}

SEC("lsm/bpf_prog")
int BPF_PROG(min_bpf_prog, struct bpf_prog *prog, int ret)
{
	return touch(ret);
}

SEC("lsm/inode_permission")
int BPF_PROG(min_permission, struct inode *inode, int mask, int ret)
{
	return touch(ret);
}

SEC("lsm/task_kill")
int BPF_PROG(min_kill, struct task_struct *p, struct kernel_siginfo *info, int sig,
	     const struct cred *cred, int ret)
{
	return touch(ret);
}

SEC("lsm/file_send_sigiotask")
int BPF_PROG(min_sigio, struct task_struct *tsk, struct fown_struct *fown, int sig, int ret)
{
	return touch(ret);
}

SEC("lsm/sb_umount")
int BPF_PROG(min_umount, struct vfsmount *mnt, int flags, int ret)
{
	return touch(ret);
}

SEC("lsm/inode_create")
int BPF_PROG(min_create, struct inode *dir, struct dentry *dentry, umode_t mode, int ret)
{
	return touch(ret);
}

SEC("lsm/inode_mknod")
int BPF_PROG(min_mknod, struct inode *dir, struct dentry *dentry, umode_t mode, dev_t dev, int ret)
{
	return touch(ret);
}

SEC("lsm/inode_symlink")
int BPF_PROG(min_symlink, struct inode *dir, struct dentry *dentry, const char *old_name, int ret)
{
	return touch(ret);
}

SEC("lsm/inode_mkdir")
int BPF_PROG(min_mkdir, struct inode *dir, struct dentry *dentry, umode_t mode, int ret)
{
	return touch(ret);
}

SEC("lsm/inode_rename")
int BPF_PROG(min_rename_self, struct inode *old_dir, struct dentry *old_dentry,
	     struct inode *new_dir, struct dentry *new_dentry, int ret)
{
	return touch(ret);
}

/* The hooks of "revoke": "open" (jitd_fperm, jitd_mmap, jitd_mprotect, jitd_recvmsg,
 * jitd_ffree; socket_sendmsg is above): every read and write, mapping and receive. */
SEC("lsm/file_permission")
int BPF_PROG(min_fperm, struct file *file, int mask, int ret)
{
	return touch(ret);
}

SEC("lsm/mmap_file")
int BPF_PROG(min_mmap, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	return touch(ret);
}

SEC("lsm/file_mprotect")
int BPF_PROG(min_mprotect, struct vm_area_struct *vma, unsigned long reqprot, unsigned long prot,
	     int ret)
{
	return touch(ret);
}

SEC("lsm/socket_recvmsg")
int BPF_PROG(min_recvmsg, struct socket *sock, struct msghdr *msg, int size, int flags, int ret)
{
	return touch(ret);
}

/* A void hook: no earlier verdict to pass on; the file's address is not used (on 6.12 and
 * later it is an untrusted pointer). */
SEC("lsm/file_free_security")
int BPF_PROG(min_ffree, struct file *file)
{
	return touch(0);
}
