// SPDX-License-Identifier: GPL-2.0-only
/* Which LSM hook programs of a BPF object fit the running kernel: see lsm_hooks.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/btf.h>

#include "lsm_hooks.h"

/* Hooks whose dentry argument moved (variant "_id": the dentry comes second), and
 * whether the kernel may lack them (ACL hooks came in 6.2; before, ACLs were xattrs and
 * the xattr hooks see them); and bpf, which gained a last argument (variant "_k": four
 * arguments). */
static const struct {
	const char *hook;
	bool optional;
	int base_args; /* 0: choose by the dentry's position; else the plain variant's count */
} changed[] = {
	{"inode_setattr", false, 0}, {"inode_setxattr", false, 0},  {"inode_removexattr", false, 0},
	{"inode_set_acl", true, 0},  {"inode_remove_acl", true, 0}, {"bpf", false, 3},
};

/* The prototype of LSM hook `hook` in the kernel's BTF; NULL if the kernel has no such hook. */
static const struct btf_type *hook_proto(const struct btf *btf, const char *hook)
{
	const struct btf_type *t;
	char fn[128];
	int id;

	snprintf(fn, sizeof(fn), "bpf_lsm_%s", hook);
	id = btf__find_by_name_kind(btf, fn, BTF_KIND_FUNC);
	if (id < 0)
		return NULL;
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	return t && btf_is_func_proto(t) ? t : NULL;
}

/* The number of arguments of LSM hook `hook`; -ENOENT if the kernel has no such hook. */
static int hook_args(const struct btf *btf, const char *hook)
{
	const struct btf_type *t = hook_proto(btf, hook);

	return t ? btf_vlen(t) : -ENOENT;
}

/* The position of the first `struct dentry *` argument of LSM hook `hook` in the
 * kernel's BTF; -1 if it has none, -ENOENT if the kernel has no such hook. */
static int hook_dentry_arg(const struct btf *btf, const char *hook)
{
	const struct btf_type *t = hook_proto(btf, hook);
	const struct btf_param *p;

	if (!t)
		return -ENOENT;
	p = btf_params(t);
	for (int i = 0; i < btf_vlen(t); i++) {
		const struct btf_type *pt = btf__type_by_id(btf, p[i].type);

		if (!pt || !btf_is_ptr(pt))
			continue;
		pt = btf__type_by_id(btf, pt->type);
		if (pt && btf_is_struct(pt) &&
		    !strcmp(btf__name_by_offset(btf, pt->name_off), "dentry"))
			return i;
	}
	return -1;
}

/* Choose among obj's programs of one changed hook. */
static int choose_hook(struct bpf_object *obj, const struct btf *btf, size_t c, json_t *hooks)
{
	int arg = hook_dentry_arg(btf, changed[c].hook);
	struct bpf_program *prog;
	const char *suffix = changed[c].base_args ? "_k" : "_id";
	char sec[64];
	bool any = false, matched = false;

	if (changed[c].base_args) {
		arg = hook_args(btf, changed[c].hook);
		if (arg >= 0)
			arg -= changed[c].base_args;
	}
	snprintf(sec, sizeof(sec), "lsm/%s", changed[c].hook);
	bpf_object__for_each_program(prog, obj) {
		const char *name = bpf_program__name(prog);
		size_t len = strlen(name), sl = strlen(suffix);
		int want = len > sl && !strcmp(name + len - sl, suffix) ? 1 : 0;

		if (strcmp(bpf_program__section_name(prog), sec))
			continue;
		any = true;
		bpf_program__set_autoload(prog, arg == want);
		if (arg == want) {
			matched = true;
			if (hooks)
				json_object_set_new(hooks, changed[c].hook, json_string(name));
		}
	}
	if (!any || matched)
		return 0;
	if (arg == -ENOENT) {
		if (hooks)
			json_object_set_new(hooks, changed[c].hook,
					    json_string("not in this kernel"));
		if (changed[c].optional)
			return 0;
		fprintf(stderr, "<3>jitd: this kernel has no LSM hook %s: it cannot be enforced\n",
			changed[c].hook);
		return -EOPNOTSUPP;
	}
	fprintf(stderr,
		"<3>jitd: LSM hook %s has a signature this jitd does not know (variant %d): it "
		"would not be enforced\n",
		changed[c].hook, arg);
	return -EOPNOTSUPP;
}

/* Hooks later kernels added, each with one program: loaded where the kernel has it. */
static const char *const added[] = {
	"mmap_backing_file", /* 6.12.118, 7.2: mmap of an overlay file maps its real file */
};

static void choose_added(struct bpf_object *obj, const struct btf *btf, const char *hook,
			 json_t *hooks)
{
	bool have = hook_proto(btf, hook) != NULL;
	struct bpf_program *prog;
	char sec[64];

	snprintf(sec, sizeof(sec), "lsm/%s", hook);
	bpf_object__for_each_program(prog, obj) {
		if (strcmp(bpf_program__section_name(prog), sec))
			continue;
		bpf_program__set_autoload(prog, have);
		if (hooks)
			json_object_set_new(
				hooks, hook,
				json_string(have ? bpf_program__name(prog) : "not in this kernel"));
	}
}

int lsm_hooks_choose_btf(struct bpf_object *obj, const struct btf *btf, json_t *hooks)
{
	int err = 0;

	for (size_t a = 0; a < sizeof(added) / sizeof(added[0]); a++)
		choose_added(obj, btf, added[a], hooks);

	for (size_t c = 0; c < sizeof(changed) / sizeof(changed[0]); c++) {
		int r = choose_hook(obj, btf, c, hooks);

		if (r && !err)
			err = r;
	}
	return err;
}

struct btf *lsm_hooks_kernel_btf(void)
{
	struct btf *btf = btf__load_vmlinux_btf();

	if (!btf)
		fprintf(stderr,
			"<3>jitd: cannot read the kernel's BTF (/sys/kernel/btf/vmlinux): %s; "
			"jitd needs CONFIG_DEBUG_INFO_BTF\n",
			strerror(errno));
	return btf;
}

int lsm_hooks_choose(struct bpf_object *obj, json_t *hooks)
{
	struct btf *btf = lsm_hooks_kernel_btf();
	int err;

	if (!btf)
		return -ENOENT;
	err = lsm_hooks_choose_btf(obj, btf, hooks);
	btf__free(btf);
	return err;
}
