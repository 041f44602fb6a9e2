/* SPDX-License-Identifier: GPL-2.0-only */
/* Which LSM hook programs of a BPF object fit the running kernel (jitd and its benchmark). */
#ifndef JITD_LSM_HOOKS_H
#define JITD_LSM_HOOKS_H

#include <bpf/libbpf.h>
#include <jansson.h>

/*
 * Set the autoload of obj's programs of hooks whose arguments changed across 5.10..7.2
 * (inode_setattr, inode_setxattr, inode_removexattr, inode_set_acl, inode_remove_acl):
 * a program named *_id expects a `struct dentry *` second (after an idmap or user
 * namespace), the others first; the one matching the kernel's BTF is loaded. hooks (may
 * be NULL) receives {hook: program, or "not in this kernel"}. Returns 0, or -EOPNOTSUPP
 * (logged) when a hook the kernel has matches no program: it would go unenforced.
 */
int lsm_hooks_choose(struct bpf_object *obj, json_t *hooks);
/* The same with the kernel's BTF already read (by lsm_hooks_kernel_btf: parsing it
 * takes a while, so a caller that needs it too reads it once). */
int lsm_hooks_choose_btf(struct bpf_object *obj, const struct btf *btf, json_t *hooks);
/* The running kernel's BTF (btf__free it), or NULL (logged). */
struct btf *lsm_hooks_kernel_btf(void);

#endif
