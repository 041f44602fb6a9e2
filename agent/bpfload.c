// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel side of jitd: probe BPF LSM, load the programs, reuse pinned maps,
 * attach and pin links under JITD_PIN_DIR, keep the protected-object and exempt
 * maps equal to the policy, and prove enforcement with a self-test.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <ftw.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/membarrier.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <openssl/sha.h>

#include "keyset.h"
#include "kern.h"
#include "log.h"
#include "util.h"
#include "jitd.skel.h"
#include "lsm_hooks.h"

/* A protected inode and the policy path it was found under. */
struct inode_path {
	uint64_t dev, ino;
	/* a policy path is the policy's own string (borrowed: the policy in force outlives
	 * the next kern_sync_policy, which replaces them all); others are copies */
	char *path;
	uint32_t resource, flags;
	bool member; /* a hard-linked file below a protected directory, not a policy path */
	bool borrowed;
};

static void path_free(struct inode_path *ip)
{
	if (!ip->borrowed)
		free(ip->path);
}

#define KERN_KEEP_REPLACED 8	/* earlier inodes kept per policy path (see keep_replaced) */
#define KERN_MAX_MEMBERS   4096 /* hard-linked files below protected directories */

#define KERN_MAX_LINKS 48

struct kern {
	struct jitd_bpf *skel;
	struct bpf_link *links[KERN_MAX_LINKS];
	const char *link_names[KERN_MAX_LINKS];
	size_t n_links;
	json_t *hooks; /* {hook: program or "not in this kernel"} for status */
	bool task_btf; /* the kernel has get_current_task_btf (what the programs chose) */
	struct inode_path *paths; /* policy paths, for audit records */
	size_t n_paths, cap_paths;
	struct entries *path_keys;	/* (dev, ino) of paths[i] at position i: kern_path_of */
	__u32 prog_ids[KERN_MAX_LINKS]; /* of each link's program */
	bool adopted;			/* the programs are a previous agent's (same build) */
	char *self_files[3];		/* policy, state directory, audit file (kern_set_self) */
	size_t n_self_objects;		/* entries of the self map (status) */
	size_t n_self_files;		/* jitd's own files among paths (status) */
	uint64_t cut, track_full;	/* "revoke": "open" counters (kern_counters) */
	uint32_t agg_interval_s;	/* jitd_config.agg_interval_s (kern_agg_set) */
	uint32_t excg;			/* the exemption check's bound in jitd_config (status) */
	int guard_fd;	   /* during a load: the self map the attached programs read (-1: none) */
	bool to_attach;	   /* loaded, not attached yet (kern_attach) */
	int old_use_fd;	   /* a replaced grant_use the old programs still count in (-1: none) */
	int old_agg_fd;	   /* a replaced allow_agg the old programs still count in (-1: none) */
	bool fslot_settle; /* open_fslot's counts not trusted yet (kern_fslot_settle) */
	unsigned fslot_clear_ticks; /* settle checks in a row that found no foreign program */
};

/* Is "bpf" in the active LSM list? lsm receives the list. Returns 1, 0 or -errno. */
int kern_lsm_active(char *lsm, size_t len)
{
	FILE *f = fopen("/sys/kernel/security/lsm", "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(lsm, 1, len - 1, f);
	fclose(f);
	lsm[n] = 0;
	lsm[strcspn(lsm, "\n")] = 0;
	for (char *tok = lsm, *end; *tok; tok = end + (*end ? 1 : 0)) {
		end = tok + strcspn(tok, ",");
		if (end - tok == 3 && !strncmp(tok, "bpf", 3))
			return 1;
	}
	return 0;
}

/* The tail of libbpf's messages (the verifier's log among them), for the load error. */
static char load_log[4096];
static size_t load_log_len;

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *msg = NULL;
	const char *tail;
	size_t len;
	int r;

	if (level == LIBBPF_DEBUG && !getenv("JITD_DEBUG_LIBBPF"))
		return 0;
	/* whole: libbpf hands the verifier's log over as one message, its verdict last (a
	 * fixed line buffer kept the log's first kilobyte and cut the verdict off) */
	if (vasprintf(&msg, fmt, ap) < 0)
		return 0;
	len = strlen(msg);
	tail = msg;
	if (len >= sizeof(load_log) / 2) {
		tail = msg + len - (sizeof(load_log) / 2 - 1);
		len = sizeof(load_log) / 2 - 1;
	}
	if (load_log_len + len >= sizeof(load_log)) {
		/* keep the last half: the verifier's verdict is at the end */
		memmove(load_log, load_log + sizeof(load_log) / 2, sizeof(load_log) / 2);
		load_log_len -= sizeof(load_log) / 2;
	}
	memcpy(load_log + load_log_len, tail, len + 1);
	load_log_len += len;
	r = fputs(msg, stderr);
	free(msg);
	return r;
}

/* Does the kernel's enum bpf_func_id have BPF_FUNC_get_current_task_btf? The programs
 * make the same test by CO-RE; this says which way they went, for `jitctl status`. */
static bool kernel_has_task_btf(const struct btf *btf)
{
	const struct btf_type *t;
	bool has = false;
	int id;

	id = btf__find_by_name_kind(btf, "bpf_func_id", BTF_KIND_ENUM);
	t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	for (int i = 0; t && i < btf_vlen(t); i++)
		if (!strcmp(btf__name_by_offset(btf, btf_enum(t)[i].name_off),
			    "BPF_FUNC_get_current_task_btf"))
			has = true;
	return has;
}

static void pin_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", JITD_PIN_DIR, name);
}

/* Say why the load failed, from what libbpf and the verifier printed. */
static void report_load_error(void)
{
	const char *why = "see the messages above";

	if (strstr(load_log, "couldn't reuse pinned map") || strstr(load_log, "pinned map"))
		why = "the maps pinned under " JITD_PIN_DIR " come from an incompatible jitd "
		      "version: stop it and run 'jitd --unload', then start this one";
	else if (strstr(load_log, "unknown func") || strstr(load_log, "invalid func"))
		why = "the kernel lacks a BPF helper the programs call (see the verifier's "
		      "line above)";
	else if (strstr(load_log, "-- BEGIN PROG LOAD LOG --") || strstr(load_log, "processed "))
		why = "the kernel's verifier rejected a program: its last lines above say where";
	else if (strstr(load_log, "failed to find kernel BTF type ID"))
		why = "the kernel lacks an LSM hook the programs attach to";
	log_err("why the programs did not load: %s", why);
}

static int self_objects(struct kern *k);
static int obj_id(int fd, __u32 *id);

/* The SHA-256 of this agent's BPF object. */
static void build_hash(struct jitd_build *b)
{
	size_t sz = 0;
	const void *elf = jitd_bpf__elf_bytes(&sz);

	SHA256(elf, sz, b->sha256);
}

static void links_drop(struct kern *k)
{
	for (size_t i = 0; i < k->n_links; i++)
		bpf_link__destroy(k->links[i]);
	k->n_links = 0;
}

/*
 * A restart adopts what is attached when it is this very build: every program chosen for
 * this kernel has its link pinned, and the pinned build hash is ours. Then nothing is
 * loaded or attached (no verifier run: a restart takes a moment, and enforcement never
 * changes hands). Anything else (first start, another build, a pin missing): 1, load.
 */
static int adopt(struct kern *k)
{
	struct jitd_build want, have;
	struct bpf_program *prog;
	struct bpf_map *map;
	char path[256];
	__u32 zero = 0;
	int fd, err = 0;

	build_hash(&want);
	pin_path(path, sizeof(path), "build");
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 1;
	err = bpf_map_lookup_elem(fd, &zero, &have);
	close(fd);
	if (err || memcmp(want.sha256, have.sha256, sizeof(want.sha256)))
		return 1;
	bpf_object__for_each_program(prog, k->skel->obj) {
		struct bpf_link *link;
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);

		if (!bpf_program__autoload(prog))
			continue;
		snprintf(path, sizeof(path), "%s/link_%s", JITD_PIN_DIR, bpf_program__name(prog));
		link = bpf_link__open(path);
		if (!link || k->n_links == KERN_MAX_LINKS ||
		    bpf_obj_get_info_by_fd(bpf_link__fd(link), &info, &len)) {
			bpf_link__destroy(link);
			links_drop(k);
			return 1;
		}
		k->prog_ids[k->n_links] = info.prog_id;
		k->links[k->n_links] = link;
		k->link_names[k->n_links++] = bpf_program__name(prog);
	}
	bpf_object__for_each_map(map, k->skel->obj) {
		fd = bpf_obj_get(bpf_map__pin_path(map));
		err = fd < 0 ? -errno : bpf_map__reuse_fd(map, fd);
		if (fd >= 0)
			close(fd);
		if (err) {
			log_err("cannot adopt the pinned map %s: %s", bpf_map__pin_path(map),
				strerror(-err));
			links_drop(k);
			return err;
		}
	}
	k->adopted = true;
	return 0;
}

/*
 * A ring buffer pinned by a jitd built with another JITD_RINGBUF_BYTES (an upgrade) keeps
 * its size: ours takes it, so the pinned map is reused (the decisions it holds are read,
 * none is lost) instead of refusing to start. The new size comes with the next load
 * without pins (a reboot, or jitd --unload while stopped). 0 or -errno.
 */
static int ringbuf_keep_pinned_size(struct bpf_map *map)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(bpf_map__pin_path(map)), err = 0;

	if (fd < 0)
		return 0; /* not pinned yet: the size built in */
	if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.type == BPF_MAP_TYPE_RINGBUF &&
	    info.max_entries != bpf_map__max_entries(map)) {
		log_warn("the pinned ring buffer %s has %u bytes (this build: %u): keeping it "
			 "until the next start without pins",
			 bpf_map__pin_path(map), info.max_entries, bpf_map__max_entries(map));
		err = bpf_map__set_max_entries(map, info.max_entries);
	}
	close(fd);
	return err;
}

/* Load programs (reusing pinned maps), attach, and pin the links replacing any
 * previous instance's pins: the old links stay attached until the new ones are. */
/* Open the skeleton with the hooks this kernel has and the maps' pin paths. 0 or -errno. */
static int open_skel(struct kern *k)
{
	struct btf *vmlinux;
	struct bpf_map *map;
	char path[256];
	int err;

	if (mkdir(JITD_PIN_DIR, 0700) && errno != EEXIST) {
		err = -errno;
		log_err("cannot create %s: %s (is bpffs mounted on /sys/fs/bpf?)", JITD_PIN_DIR,
			strerror(errno));
		return err;
	}
	k->hooks = json_object();
	k->skel = jitd_bpf__open();
	if (!k->skel || !k->hooks) {
		err = -errno ? -errno : -ENOMEM;
		log_err("cannot open BPF object: %s", strerror(-err));
		return err;
	}
	/* The kernel's BTF, parsed once (slow): which hooks, and how the subject is read
	 * (status must not parse it each time) */
	vmlinux = lsm_hooks_kernel_btf();
	if (!vmlinux)
		return -ENOENT;
	k->task_btf = kernel_has_task_btf(vmlinux);
	err = lsm_hooks_choose_btf(k->skel->obj, vmlinux, k->hooks);
	btf__free(vmlinux);
	if (err) {
		log_err("refusing to start: a hook would go unenforced on this kernel");
		return err;
	}
	bpf_object__for_each_map(map, k->skel->obj) {
		pin_path(path, sizeof(path), bpf_map__name(map));
		err = bpf_map__set_pin_path(map, path);
		if (err)
			return err;
	}
	return ringbuf_keep_pinned_size(k->skel->maps.events);
}

/*
 * While a load replaces attached programs, those guard jitd's objects by the ids in their
 * self map, and only by those: each new object's id goes there the moment it exists (a map
 * before the load, a program after it, a link after its attach), so that a governed root
 * looping over BPF_*_GET_FD_BY_ID gets no descriptor of one before self_objects registers
 * the new set. Nothing attached (no self pin): nothing to guard.
 */
static void guard_add(struct kern *k, __u32 kind, int fd)
{
	struct jitd_self_key key = {.kind = kind};
	__u32 one = 1;

	if (k->guard_fd < 0)
		return;
	if (obj_id(fd, &key.id) || bpf_map_update_elem(k->guard_fd, &key, &one, BPF_ANY))
		log_warn("cannot register a new object with the attached programs' guard: %s",
			 strerror(errno));
}

/*
 * A map with no pin (new in this build, or of another shape and unpinned by unpin_misfits)
 * is made here rather than by the load, named jitd_* (refused to the governed by its name
 * from its first moment) and its id put in the guard; the load reuses it and pins it. Only
 * when programs are attached (a first start has nothing to guard).
 */
static int premake_maps(struct kern *k)
{
	struct bpf_map *map;

	if (k->guard_fd < 0)
		return 0;
	bpf_object__for_each_map(map, k->skel->obj) {
		LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = bpf_map__map_flags(map));
		const char *pin = bpf_map__pin_path(map);
		int fd = pin ? bpf_obj_get(pin) : -1, err;
		char name[BPF_OBJ_NAME_LEN];

		if (fd >= 0 || !pin) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		/* named jitd_*: the guard refuses it by its name until its id is registered */
		snprintf(name, sizeof(name), "jitd_%s", bpf_map__name(map));
		fd = bpf_map_create(bpf_map__type(map), name, bpf_map__key_size(map),
				    bpf_map__value_size(map), bpf_map__max_entries(map), &opts);
		if (fd < 0) {
			err = -errno;
			log_err("cannot create the map %s: %s", bpf_map__name(map),
				strerror(errno));
			return err;
		}
		guard_add(k, JITD_SELF_MAP, fd);
		err = bpf_map__reuse_fd(map, fd);
		close(fd);
		if (err)
			return err;
	}
	return 0;
}

/* The programs the load made, into the guard before any is attached. */
static void guard_progs(struct kern *k)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, k->skel->obj)
		if (bpf_program__autoload(prog) && bpf_program__fd(prog) >= 0)
			guard_add(k, JITD_SELF_PROG, bpf_program__fd(prog));
}

/* Attach every loaded program (the old links still hold until the pins are swapped). */
static int attach_all(struct kern *k)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, k->skel->obj) {
		struct bpf_link *link;
		const char *name = bpf_program__name(prog);
		int err;

		if (!bpf_program__autoload(prog))
			continue;
		link = bpf_program__attach(prog);
		if (!link) {
			err = -errno;
			log_err("cannot attach %s: %s", name, strerror(errno));
			return err;
		}
		guard_add(k, JITD_SELF_LINK, bpf_link__fd(link));
		if (k->n_links == sizeof(k->links) / sizeof(k->links[0])) {
			bpf_link__destroy(link);
			return -E2BIG;
		}
		if (obj_id(bpf_program__fd(prog), &k->prog_ids[k->n_links])) {
			err = -errno;
			bpf_link__destroy(link);
			return err;
		}
		k->links[k->n_links] = link;
		k->link_names[k->n_links++] = name;
	}
	return 0;
}

/* Swap the link pins for the new links, then record the build: only a complete set of
 * pins may be adopted by the next start. */
static int pin_links(struct kern *k)
{
	struct jitd_build b;
	char path[256];
	__u32 zero = 0;
	int err;

	/* no build while the pins are being swapped: a start after a crash halfway must not
	 * adopt a mix of two builds' programs as this build's */
	memset(&b, 0, sizeof(b));
	if (bpf_map_update_elem(bpf_map__fd(k->skel->maps.build), &zero, &b, BPF_ANY)) {
		err = -errno;
		log_err("cannot clear the build of the programs: %s", strerror(errno));
		return err;
	}
	for (size_t i = 0; i < k->n_links; i++) {
		snprintf(path, sizeof(path), "%s/link_%s", JITD_PIN_DIR, k->link_names[i]);
		if (unlink(path) && errno != ENOENT)
			log_warn("cannot remove old pin %s: %s", path, strerror(errno));
		err = bpf_link__pin(k->links[i], path);
		if (err) {
			log_err("cannot pin %s: %s", path, strerror(-err));
			return err;
		}
	}
	build_hash(&b);
	if (bpf_map_update_elem(bpf_map__fd(k->skel->maps.build), &zero, &b, BPF_ANY)) {
		err = -errno;
		log_err("cannot record the build of the programs: %s", strerror(errno));
		return err;
	}
	return 0;
}

#define KERN_MAX_MAPS 64

/* Does the pinned map (fd) have the shape this build's map asks for (what libbpf checks
 * before reusing a pin)? */
static bool pin_fits(int fd, const struct bpf_map *map)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return false;
	return info.type == bpf_map__type(map) && info.key_size == bpf_map__key_size(map) &&
	       info.value_size == bpf_map__value_size(map) &&
	       info.max_entries == bpf_map__max_entries(map) &&
	       info.map_flags == bpf_map__map_flags(map);
}

/*
 * A pinned map of another build with another shape (a raised max_entries, a larger
 * filter) cannot be reused: libbpf would refuse to load. Its pin is removed, so the load
 * makes and pins a new one, and its descriptor kept in old[] (in map order, -1 for none)
 * for carry_over. The old programs keep their old maps until the links are swapped.
 */
static int unpin_misfits(struct kern *k, int *old)
{
	struct bpf_map *map;
	size_t i = 0;

	bpf_object__for_each_map(map, k->skel->obj) {
		const char *pin = bpf_map__pin_path(map);
		int fd = pin ? bpf_obj_get(pin) : -1;

		if (i == KERN_MAX_MAPS) {
			if (fd >= 0)
				close(fd);
			return -E2BIG;
		}
		old[i++] = -1;
		if (fd < 0)
			continue;
		if (pin_fits(fd, map)) {
			close(fd);
			continue;
		}
		if (unlink(pin)) {
			int err = -errno;

			log_err("cannot replace the pinned map %s of another build: %s", pin,
				strerror(errno));
			close(fd);
			return err;
		}
		log_info("pinned map %s: another build's size or layout: replaced", pin);
		old[i - 1] = fd;
	}
	return 0;
}

/*
 * Fill a replacing map before any program uses it: the entries of the old one when keys
 * and values have the same size (a raised max_entries), else, for the filter, every bit
 * set (every inode "maybe protected": the hash lookup decides until the policy is
 * written), else nothing (the policy, the state file and the agent refill it).
 */
static int carry_over(struct kern *k, struct bpf_map *map, int old)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), zero = 0;
	int fd = bpf_map__fd(map), err = 0;
	char key[256], next[256];
	void *prev = NULL, *val;

	if (map == k->skel->maps.filter) {
		struct jitd_filter *f = malloc(sizeof(*f));

		if (!f)
			return -ENOMEM;
		memset(f, 0xff, sizeof(*f));
		err = bpf_map_update_elem(fd, &zero, f, BPF_ANY) ? -errno : 0;
		free(f);
		return err;
	}
	if (map == k->skel->maps.allow_agg)
		return 0; /* counts until the swap: agg_merge */
	if (bpf_obj_get_info_by_fd(old, &info, &len))
		return -errno;
	if (info.key_size != bpf_map__key_size(map) ||
	    info.value_size != bpf_map__value_size(map) || info.key_size > sizeof(key) ||
	    (info.type != BPF_MAP_TYPE_HASH && info.type != BPF_MAP_TYPE_LPM_TRIE))
		return 0;
	val = malloc(info.value_size);
	if (!val)
		return -ENOMEM;
	while (!err && !bpf_map_get_next_key(old, prev, next)) {
		if (!bpf_map_lookup_elem(old, next, val) &&
		    bpf_map_update_elem(fd, next, val, BPF_ANY))
			err = -errno;
		memcpy(key, next, info.key_size);
		prev = key;
	}
	free(val);
	return err;
}

/* Whether the map behind fd has map's key and value sizes. */
static bool same_layout(struct bpf_map *map, int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return !bpf_obj_get_info_by_fd(fd, &info, &len) &&
	       info.key_size == bpf_map__key_size(map) &&
	       info.value_size == bpf_map__value_size(map);
}

static int carry_all(struct kern *k, int *old)
{
	struct bpf_map *map;
	size_t i = 0;
	int err = 0;

	bpf_object__for_each_map(map, k->skel->obj) {
		if (i < KERN_MAX_MAPS && old[i] >= 0 && !err) {
			err = carry_over(k, map, old[i]);
			if (err)
				log_err("cannot fill the replacing map %s: %s", bpf_map__name(map),
					strerror(-err));
			/* the old programs go on counting into it until kern_attach */
			if (!err && map == k->skel->maps.grant_use && same_layout(map, old[i]))
				k->old_use_fd = dup(old[i]);
			if (!err && map == k->skel->maps.allow_agg)
				k->old_agg_fd = dup(old[i]);
		}
		i++;
	}
	return err;
}

/* open_fslot's counts are not to be trusted until kern_fslot_settle: what the programs of
 * another build (or an earlier load) left may be uncounted. */
static int fslot_distrust(struct kern *k)
{
	uint32_t key = JITD_OPEN_FSLOT_TRUST, zero = 0;

	k->fslot_settle = true;
	if (bpf_map_update_elem(bpf_map__fd(k->skel->maps.open_fslot), &key, &zero, BPF_ANY))
		return -errno;
	return 0;
}

/* Is a program named jitd_* other than this agent's own attached ones still attached (a
 * loaded program runs only through a link)? Any error but "no such object" answers yes. */
static bool foreign_progs(struct kern *k)
{
	__u32 id = 0;

	for (;;) {
		struct bpf_link_info li = {};
		struct bpf_prog_info pi = {};
		__u32 llen = sizeof(li), plen = sizeof(pi);
		bool ours = false;
		int fd, pfd;

		if (bpf_link_get_next_id(id, &id))
			return errno != ENOENT;
		fd = bpf_link_get_fd_by_id(id);
		if (fd < 0) {
			if (errno == ENOENT)
				continue; /* gone meanwhile */
			return true;
		}
		if (bpf_obj_get_info_by_fd(fd, &li, &llen)) {
			close(fd);
			return true;
		}
		close(fd);
		for (size_t i = 0; i < k->n_links && !ours; i++)
			ours = k->prog_ids[i] == li.prog_id;
		if (ours)
			continue;
		pfd = bpf_prog_get_fd_by_id(li.prog_id);
		if (pfd < 0) {
			if (errno == ENOENT)
				continue;
			return true;
		}
		if (bpf_obj_get_info_by_fd(pfd, &pi, &plen)) {
			close(pfd);
			return true;
		}
		close(pfd);
		if (pi.type == BPF_PROG_TYPE_LSM && !strncmp(pi.name, "jitd_", 5))
			return true;
	}
}

/* Give every entry of open_files a sticky count (a slot at JITD_OPEN_STICKY or more keeps
 * it). false when the walk did not reach the end (an error, or restarts by deletions
 * beyond its bound): then nothing may be trusted yet. *n: the slots raised. */
static bool fslot_stick_all(struct kern *k, size_t *n)
{
	int files = bpf_map__fd(k->skel->maps.open_files);
	int fslot = bpf_map__fd(k->skel->maps.open_fslot);
	uint64_t key, next;
	bool first = true;

	*n = 0;
	for (size_t steps = 0; steps < 2 * JITD_MAX_OPEN; steps++) {
		uint32_t slot, c = 0, sticky = JITD_OPEN_STICKY;

		if (bpf_map_get_next_key(files, first ? NULL : &key, &next))
			return errno == ENOENT;
		first = false;
		key = next;
		slot = jitd_open_fslot(key);
		if (bpf_map_lookup_elem(fslot, &slot, &c))
			return false;
		if (c >= JITD_OPEN_STICKY)
			continue;
		if (bpf_map_update_elem(fslot, &slot, &sticky, BPF_ANY))
			return false;
		++*n;
	}
	return false;
}

void kern_fslot_settle(struct kern *k)
{
	uint32_t trust = JITD_OPEN_FSLOT_TRUST, one = 1;
	size_t n;

	/* not before every program that may have tracked a file uncounted is gone: a replaced
	 * program runs until the link swap, and a running one after its id is gone (until a
	 * grace period ends): two checks a second apart, then a grace period */
	if (!k->fslot_settle || k->to_attach)
		return;
	if (foreign_progs(k)) {
		k->fslot_clear_ticks = 0;
		return;
	}
	if (++k->fslot_clear_ticks < 2)
		return;
	syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0); /* synchronize_rcu(); best effort */
	if (!fslot_stick_all(k, &n))
		return; /* again at the next tick */
	if (bpf_map_update_elem(bpf_map__fd(k->skel->maps.open_fslot), &trust, &one, BPF_ANY)) {
		log_warn("cannot mark the tracked files' counts trusted: %s", strerror(errno));
		return;
	}
	k->fslot_settle = false;
	if (n)
		log_info("%zu tracked open files found at the load counted: a file's release now "
			 "looks its entry up only when its slot has one",
			 n);
}

bool kern_fslot_trusted(struct kern *k)
{
	uint32_t key = JITD_OPEN_FSLOT_TRUST, v = 0;

	return !bpf_map_lookup_elem(bpf_map__fd(k->skel->maps.open_fslot), &key, &v) && v;
}

/*
 * Just before the swap: the uses the old programs counted in their replaced grant_use
 * since it was copied (the new map holds the copy; nothing else adds to it before the
 * swap): per grant still in the new map, the higher count, the earliest first use, the
 * latest last use. A use between this and the swap is the only one not carried.
 */
static void use_merge(struct kern *k)
{
	int fd = bpf_map__fd(k->skel->maps.grant_use);
	struct jitd_grant_use o, n;
	__u64 key, next, *prev = NULL;

	while (k->old_use_fd >= 0 && !bpf_map_get_next_key(k->old_use_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(k->old_use_fd, &key, &o) ||
		    bpf_map_lookup_elem(fd, &key, &n))
			continue; /* gone from the new map: the grant ended */
		if (o.first_ns && (!n.first_ns || o.first_ns < n.first_ns))
			n.first_ns = o.first_ns;
		if (o.last_ns > n.last_ns)
			n.last_ns = o.last_ns;
		if (o.uses > n.uses)
			n.uses = o.uses;
		bpf_map_update_elem(fd, &key, &n, BPF_EXIST);
	}
	if (k->old_use_fd >= 0)
		close(k->old_use_fd);
	k->old_use_fd = -1;
}

/* The aggregate's layout before the program's name moved from its key to its value. */
struct agg_key_v1 {
	__u64 grant_id, dev, ino;
	__u8 addr[16];
	char comm[JITD_COMM_LEN];
	__u64 cgroup, start_ns;
	__u32 uid, loginuid, exec_id, epoch_end_s, tgid, resource;
	__u8 op, family;
	__u16 port;
	__u32 pad;
};
_Static_assert(sizeof(struct agg_key_v1) == 104, "agg_key_v1 size");

struct agg_val_v1 {
	__u64 count, first_ns, last_ns, cgroup;
	__u32 uid, loginuid, subject_uid, tid;
};
_Static_assert(sizeof(struct agg_val_v1) == 48, "agg_val_v1 size");

/* One entry of a replaced aggregate map (this layout, or v1's) in this one's terms. */
static bool agg_convert(const void *key, const void *val, __u32 ksz, __u32 vsz,
			struct jitd_agg_key *k, struct jitd_agg_val *v)
{
	const struct agg_key_v1 *ok = key;
	const struct agg_val_v1 *ov = val;

	if (ksz == sizeof(*k) && vsz == sizeof(*v)) {
		memcpy(k, key, sizeof(*k));
		memcpy(v, val, sizeof(*v));
		return true;
	}
	if (ksz != sizeof(*ok) || vsz != sizeof(*ov))
		return false;
	*k = (struct jitd_agg_key){.grant_id = ok->grant_id,
				   .cgroup = ok->cgroup,
				   .start_ns = ok->start_ns,
				   .uid = ok->uid,
				   .loginuid = ok->loginuid,
				   .exec_id = ok->exec_id,
				   .epoch_end_s = ok->epoch_end_s,
				   .tgid = ok->tgid,
				   .resource = ok->resource,
				   .op = ok->op,
				   .family = ok->family,
				   .port = ok->port};
	if (ok->family)
		memcpy(k->obj, ok->addr, sizeof(k->obj));
	else {
		k->obj[0] = ok->dev;
		k->obj[1] = ok->ino;
	}
	*v = (struct jitd_agg_val){.count = ov->count,
				   .first_ns = ov->first_ns,
				   .last_ns = ov->last_ns,
				   .cgroup = ov->cgroup,
				   .uid = ov->uid,
				   .loginuid = ov->loginuid,
				   .subject_uid = ov->subject_uid,
				   .tid = ov->tid};
	memcpy(v->comm, ok->comm, sizeof(v->comm));
	return true;
}

/*
 * Just before the new programs attach: the counts of a replaced aggregate map (another
 * build's size or layout), which the old programs kept adding to, into the new one, whose
 * programs count from their attach on; so each allow is counted once. Two old entries that
 * differ only in what the new key left out (v1: the program's name) add up their counts. An allow
 * between this read and the attach is the only one not carried; a layout not known here: said.
 */
static void agg_merge(struct kern *k)
{
	int fd = bpf_map__fd(k->skel->maps.allow_agg), old = k->old_agg_fd;
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char key[256], next[256], val[256];
	void *prev = NULL;
	size_t n = 0, lost = 0;

	if (old < 0)
		return;
	k->old_agg_fd = -1;
	if (bpf_obj_get_info_by_fd(old, &info, &len) || info.type != BPF_MAP_TYPE_HASH ||
	    info.key_size > sizeof(key) || info.value_size > sizeof(val)) {
		log_warn("the replaced aggregate map cannot be read: its counts are lost");
		close(old);
		return;
	}
	while (!bpf_map_get_next_key(old, prev, next)) {
		struct jitd_agg_key nk;
		struct jitd_agg_val nv, cur;

		memcpy(key, next, info.key_size);
		prev = key;
		if (bpf_map_lookup_elem(old, key, val))
			continue; /* gone meanwhile */
		if (!agg_convert(key, val, info.key_size, info.value_size, &nk, &nv)) {
			lost++;
			continue;
		}
		if (!bpf_map_lookup_elem(fd, &nk, &cur)) {
			nv.count += cur.count; /* each had its full record: only counts add */
			if (cur.first_ns && (!nv.first_ns || cur.first_ns < nv.first_ns))
				nv.first_ns = cur.first_ns;
			if (cur.last_ns > nv.last_ns)
				nv.last_ns = cur.last_ns;
		}
		if (bpf_map_update_elem(fd, &nk, &nv, BPF_ANY))
			lost++;
		else
			n++;
	}
	close(old);
	if (n || lost)
		log_info("aggregated allows of the replaced map: %zu carried%s", n,
			 lost ? ", some lost (another layout, or no room)" : "");
}

static void guard_close(struct kern *k)
{
	if (k->guard_fd >= 0)
		close(k->guard_fd);
	k->guard_fd = -1;
}

static void close_old(int *old)
{
	for (size_t i = 0; i < KERN_MAX_MAPS; i++)
		if (old[i] >= 0) {
			close(old[i]);
			old[i] = -1;
		}
}

int kern_open(struct kern **out, bool reload)
{
	struct kern *k = calloc(1, sizeof(*k));
	int err, old[KERN_MAX_MAPS];
	char path[256];

	memset(old, 0xff, sizeof(old));
	if (!k)
		return -ENOMEM;
	k->guard_fd = -1;
	k->old_use_fd = -1;
	k->old_agg_fd = -1;
	libbpf_set_print(libbpf_log);
	err = open_skel(k);
	if (err)
		goto fail;
	err = reload ? 1 : adopt(k);
	if (err <= 0) {
		if (!err)
			log_info("adopted the programs attached under %s (same build): nothing "
				 "reloaded",
				 JITD_PIN_DIR);
		/* an earlier agent that stopped before it settled them */
		k->fslot_settle = !err && !kern_fslot_trusted(k);
		goto registered;
	}
	pin_path(path, sizeof(path), "self");
	k->guard_fd = bpf_obj_get(path);
	err = unpin_misfits(k, old);
	if (!err)
		err = premake_maps(k);
	if (err)
		goto fail;
	load_log_len = 0;
	load_log[0] = 0;
	err = jitd_bpf__load(k->skel);
	if (err) {
		log_err("cannot load BPF programs: %s", strerror(-err));
		report_load_error();
		goto fail;
	}
	guard_progs(k);
	err = carry_all(k, old);
	if (!err)
		err = fslot_distrust(k);
	if (err)
		goto fail;
	close_old(old);
	k->to_attach = true; /* kern_attach, once the maps are filled */
	*out = k;
	return 0;
registered:
	err = self_objects(k);
	if (err) {
		log_err("cannot register jitd's own objects with the kernel: %s", strerror(-err));
		goto fail;
	}
	*out = k;
	return 0;
fail:
	close_old(old);
	guard_close(k);
	kern_close(k);
	return err ? err : -EIO;
}

/*
 * After a load, once the policy, the grants and the images are in the maps: attach the new
 * programs and swap the link pins (the old programs enforced until then, on their own
 * maps or on the shared ones being filled), then register jitd's objects. A failure leaves
 * the old links pinned and enforcing. Nothing to do for adopted programs. 0 or -errno.
 */
bool kern_to_attach(const struct kern *k)
{
	return k->to_attach;
}

int kern_attach(struct kern *k)
{
	int err = 0;

	if (!k->to_attach)
		return 0;
	use_merge(k);
	agg_merge(k);
	err = attach_all(k);
	if (!err)
		err = pin_links(k);
	guard_close(k);
	if (err)
		return err;
	k->to_attach = false;
	err = self_objects(k);
	if (err)
		log_err("cannot register jitd's own objects with the kernel: %s", strerror(-err));
	return err;
}

static void entries_free(struct entries *e);

/* Close our handles; pinned links and maps keep enforcing (fail closed). */
void kern_close(struct kern *k)
{
	if (!k)
		return;
	guard_close(k);
	if (k->old_use_fd >= 0)
		close(k->old_use_fd);
	if (k->old_agg_fd >= 0)
		close(k->old_agg_fd);
	for (size_t i = 0; i < k->n_links; i++)
		bpf_link__destroy(k->links[i]); /* pinned: stays attached */
	jitd_bpf__destroy(k->skel);
	json_decref(k->hooks);
	for (size_t i = 0; i < k->n_paths; i++)
		path_free(&k->paths[i]);
	free(k->paths);
	if (k->path_keys)
		entries_free(k->path_keys);
	free(k->path_keys);
	for (size_t i = 0; i < sizeof(k->self_files) / sizeof(k->self_files[0]); i++)
		free(k->self_files[i]);
	free(k);
}

/*
 * How many LSM programs named jitd_* still exist. A program outlives its link
 * until the trampoline no longer calls it (an RCU-tasks grace period after the
 * link is released, seconds under emulation), so this, not the link list, tells
 * when enforcement is really gone.
 */
static int count_jitd_progs(void)
{
	__u32 id = 0;
	int n = 0;

	while (!bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.type == BPF_PROG_TYPE_LSM &&
		    !strncmp(info.name, "jitd_", 5))
			n++;
		close(fd);
	}
	return n;
}

/* Remove every pin under JITD_PIN_DIR: links first (ends enforcement), then maps. */
int kern_unload(void)
{
	DIR *d = opendir(JITD_PIN_DIR);
	struct dirent *de;
	char path[512];
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	for (int pass = 0; pass < 2; pass++) {
		rewinddir(d);
		while ((de = readdir(d))) {
			bool is_link = !strncmp(de->d_name, "link_", 5);

			if (de->d_name[0] == '.' || is_link != (pass == 0))
				continue;
			snprintf(path, sizeof(path), "%s/%s", JITD_PIN_DIR, de->d_name);
			if (unlink(path)) {
				err = -errno;
				log_err("cannot remove %s: %s", path, strerror(errno));
			}
		}
	}
	closedir(d);
	if (!err && rmdir(JITD_PIN_DIR) && errno != ENOENT)
		err = -errno;
	/* Links are released from deferred work: return once the programs are gone. */
	for (int i = 0; !err && count_jitd_progs() > 0; i++) {
		if (i == 300) {
			log_err("jitd programs still loaded 30 s after unpinning: is a jitd still "
				"running? stop it first");
			err = -EBUSY;
			break;
		}
		usleep(100000);
	}
	return err;
}

int kern_ringbuf_fd(struct kern *k)
{
	return bpf_map__fd(k->skel->maps.events);
}

int kern_agg_fd(struct kern *k)
{
	return bpf_map__fd(k->skel->maps.allow_agg);
}

/* Aggregate allows per interval_s seconds (0: record each): jitd_config, flags kept. */
int kern_agg_set(struct kern *k, uint32_t interval_s)
{
	int fd = bpf_map__fd(k->skel->maps.jconfig);
	struct jitd_config cfg = {};
	uint32_t zero = 0;

	k->agg_interval_s = interval_s;
	if (bpf_map_lookup_elem(fd, &zero, &cfg))
		return -errno;
	cfg.agg_interval_s = interval_s;
	if (bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY))
		return -errno;
	return 0;
}

bool kern_enforcing(struct kern *k)
{
	return k && k->n_links > 0;
}

/* Desired entries of a hash map, as parallel key/value arrays, indexed by key. */
struct entries {
	void *keys, *vals;
	size_t n, cap, ksz, vsz;
	struct keyset idx;
};

static int entries_add(struct entries *e, const void *key, const void *val)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 64;
		void *nk = realloc(e->keys, cap * e->ksz);

		if (!nk)
			return -ENOMEM;
		e->keys = nk;
		void *nv = realloc(e->vals, cap * e->vsz);

		if (!nv)
			return -ENOMEM;
		e->vals = nv;
		e->cap = cap;
	}
	memcpy((char *)e->keys + e->n * e->ksz, key, e->ksz);
	memcpy((char *)e->vals + e->n * e->vsz, val, e->vsz);
	e->idx.ksz = e->ksz;
	if (keyset_put(&e->idx, e->keys, e->n))
		return -ENOMEM;
	e->n++;
	return 0;
}

static bool entries_has(const struct entries *e, const void *key)
{
	return keyset_find(&e->idx, key) >= 0;
}

static void entries_free(struct entries *e)
{
	free(e->keys);
	free(e->vals);
	keyset_free(&e->idx);
}

#define KERN_ENOTSUPP 524  /* the kernel's "no such operation for this map" (not in libc) */
#define KERN_BATCH    1024 /* entries a BPF_MAP_LOOKUP_BATCH reads */

/* The map has no batch operation of that kind (LPM tries; kernels before 5.6). */
static bool no_batch(int err)
{
	return err == EINVAL || err == KERN_ENOTSUPP || err == EOPNOTSUPP;
}

/* Write every entry: one BPF_MAP_UPDATE_BATCH (100,000 protected inodes in one system call,
 * not 100,000), or one at a time where the map has none. */
static int map_write_all(int fd, const struct entries *e)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	__u32 count = (__u32)e->n;

	if (!e->n || !bpf_map_update_batch(fd, e->keys, e->vals, &count, &opts))
		return 0;
	if (!no_batch(errno))
		return -errno;
	for (size_t i = 0; i < e->n; i++) /* BPF_ANY: what a batch wrote is written again */
		if (bpf_map_update_elem(fd, (char *)e->keys + i * e->ksz,
					(char *)e->vals + i * e->vsz, BPF_ANY))
			return -errno;
	return 0;
}

static int note_stale(const struct entries *e, struct entries *stale, const void *key)
{
	char none = 0;

	return entries_has(e, key) || entries_has(stale, key) ? 0 : entries_add(stale, key, &none);
}

/* The keys of the map that are not in e, into stale: BPF_MAP_LOOKUP_BATCH a chunk at a time,
 * else (no batch, or a batch that failed midway) a get_next_key walk. */
static int map_stale(int fd, const struct entries *e, struct entries *stale)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	char *keys = malloc(KERN_BATCH * e->ksz), *vals = malloc(KERN_BATCH * e->vsz);
	char in[64], out[64], key[64], next[64];
	bool first = true;
	void *prev = NULL;
	int err = keys && vals ? 0 : -ENOMEM;

	while (!err) {
		__u32 count = KERN_BATCH;
		int r = bpf_map_lookup_batch(fd, first ? NULL : in, out, keys, vals, &count, &opts);

		/* count is the keys read only with success or ENOENT (the end of the map): a
		 * kernel without the operation leaves it as asked (5.10's hash maps) */
		if (r && errno != ENOENT)
			break;
		for (__u32 i = 0; i < count && i < KERN_BATCH && !err; i++)
			err = note_stale(e, stale, keys + (size_t)i * e->ksz);
		if (r)
			goto done;
		memcpy(in, out, sizeof(in));
		first = false;
	}
	while (!err && !bpf_map_get_next_key(fd, prev, next)) {
		err = note_stale(e, stale, next);
		memcpy(key, next, e->ksz);
		prev = key;
	}
done:
	free(keys);
	free(vals);
	return err;
}

/* Make a map hold exactly the entries: write all, then delete the others (collected in
 * one walk first: deleting during a hash map walk could restart it, O(n^2) at 100k). */
static int map_reconcile(int fd, const struct entries *e)
{
	struct entries stale = {.ksz = e->ksz, .vsz = 1};
	int err = map_write_all(fd, e);

	if (!err)
		err = map_stale(fd, e, &stale);
	for (size_t i = 0; !err && i < stale.n; i++)
		if (bpf_map_delete_elem(fd, (char *)stale.keys + i * e->ksz) && errno != ENOENT)
			err = -errno;
	entries_free(&stale);
	return err;
}

/* The id of a BPF object (map, program or link) from its descriptor. */
static int obj_id(int fd, __u32 *id)
{
	union {
		struct bpf_map_info map;
		struct bpf_prog_info prog;
		struct bpf_link_info link;
	} info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	/* id is each info struct's second word (type first, then id) */
	*id = info.prog.id;
	return 0;
}

static int self_add(struct entries *e, __u32 kind, __u32 id)
{
	struct jitd_self_key key = {.kind = kind, .id = id};
	__u32 one = 1;

	return entries_add(e, &key, &one);
}

/*
 * The superblocks on the way to the pins (/, /sys, /sys/fs, the bpffs instance), and the
 * mount namespaces where unmounting them matters: jitd's own and, when jitd.service gave
 * it one of its own (ProtectSystem= and the like), PID 1's, where the pins are seen by
 * everyone else. Reading PID 1's needs CAP_SYS_PTRACE (a ptrace read check); without it
 * only jitd's own is guarded, said once here.
 */
static int self_mounts(struct entries *e)
{
	static const char *const on_way[] = {"/", "/sys", "/sys/fs", "/sys/fs/bpf", JITD_PIN_DIR};
	struct stat st, init_st;
	int err = 0;

	for (size_t i = 0; i < sizeof(on_way) / sizeof(on_way[0]) && !err; i++)
		if (!stat(on_way[i], &st))
			err = self_add(e, JITD_SELF_SB, (__u32)util_kdev(st.st_dev));
	if (err || stat("/proc/self/ns/mnt", &st))
		return err;
	err = self_add(e, JITD_SELF_MNTNS, (__u32)st.st_ino);
	if (!err && getpid() != 1) {
		if (stat("/proc/1/ns/mnt", &init_st))
			log_warn("cannot read PID 1's mount namespace (%s): unmounting bpffs is "
				 "guarded in jitd's own namespace only",
				 strerror(errno));
		else if (init_st.st_ino != st.st_ino)
			err = self_add(e, JITD_SELF_MNTNS, (__u32)init_st.st_ino);
	}
	return err;
}

/*
 * Tell the kernel what is jitd's own: every map, program and link of this instance,
 * its process and the mounts holding its pins (bpf/jitd.bpf.c, "Switching jitd off").
 * The map is replaced whole: a previous instance's ids and pid go.
 */
static int self_objects(struct kern *k)
{
	struct entries e = {.ksz = sizeof(struct jitd_self_key), .vsz = sizeof(__u32)};
	struct bpf_map *map;
	__u32 id = 0;
	int err = 0;

	bpf_object__for_each_map(map, k->skel->obj) {
		if (!err && !(err = obj_id(bpf_map__fd(map), &id)))
			err = self_add(&e, JITD_SELF_MAP, id);
	}
	for (size_t i = 0; i < k->n_links && !err; i++) {
		err = self_add(&e, JITD_SELF_PROG, k->prog_ids[i]);
		if (!err && !(err = obj_id(bpf_link__fd(k->links[i]), &id)))
			err = self_add(&e, JITD_SELF_LINK, id);
	}
	if (!err)
		err = self_add(&e, JITD_SELF_TASK, (__u32)getpid());
	if (!err)
		err = self_mounts(&e);
	if (!err)
		err = map_reconcile(bpf_map__fd(k->skel->maps.self), &e);
	k->n_self_objects = e.n;
	entries_free(&e);
	return err;
}

/* Remember (dev, ino) under path for resource r; a second path to the same inode
 * within the same resource is fine, across resources it is a policy error. */
static int remember(struct kern *k, struct entries *inodes, const struct inode_path *ip)
{
	struct jitd_inode_key key = {.dev = ip->dev, .ino = ip->ino};
	struct jitd_inode_val val = {.resource = ip->resource, .flags = ip->flags};
	struct inode_path *np;
	char *copy;
	int err;

	if (entries_has(inodes, &key))
		return 0;
	/* paths[i] and the inode index's entry i go in together, or neither (kern_path_of) */
	if (k->n_paths == k->cap_paths) {
		size_t cap = k->cap_paths ? 2 * k->cap_paths : 64;

		np = realloc(k->paths, cap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		k->paths = np;
		k->cap_paths = cap;
	}
	copy = ip->borrowed ? ip->path : strdup(ip->path);
	if (!copy)
		return -ENOMEM;
	err = entries_add(inodes, &key, &val);
	if (err) {
		if (!ip->borrowed)
			free(copy);
		return err;
	}
	np = k->paths;
	np[k->n_paths] = *ip;
	np[k->n_paths++].path = copy;
	return 0;
}

static struct {
	struct kern *k;
	struct entries *inodes;
	uint32_t resource;
	uint32_t flags; /* the resource's (JITD_INODE_REVOKE_OPEN) */
	size_t n;
	int err;
} member_walk;

static int member_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	struct inode_path ip = {.dev = util_kdev(st->st_dev),
				.ino = st->st_ino,
				.path = (char *)path,
				.resource = member_walk.resource,
				.flags = member_walk.flags,
				.member = true};

	if (type != FTW_F || st->st_nlink < 2)
		return 0;
	if (member_walk.n++ == KERN_MAX_MEMBERS) {
		member_walk.err = -E2BIG;
		return 1;
	}
	member_walk.err = remember(member_walk.k, member_walk.inodes, &ip);
	return member_walk.err ? 1 : 0;
}

/*
 * A file below a protected directory is found by the d_parent walk from the name it
 * is opened by; a hard link elsewhere (made before jitd ran: jitd refuses new ones)
 * has a walk that never meets the directory. So every hard-linked file below a
 * protected directory is protected by its own inode too.
 */
static int add_members(struct kern *k, struct entries *inodes, const struct policy_resource *r,
		       const char *dir)
{
	member_walk.k = k;
	member_walk.inodes = inodes;
	member_walk.resource = r->id;
	member_walk.flags = r->revoke_open ? JITD_INODE_REVOKE_OPEN : 0;
	member_walk.err = 0;
	if (nftw(dir, member_cb, 32, FTW_PHYS | FTW_MOUNT) < 0 && errno != ENOENT)
		log_warn("resource %s: cannot walk %s for hard links: %s", r->name, dir,
			 strerror(errno));
	if (member_walk.err == -E2BIG)
		log_err("more than %d hard-linked files below protected directories: the rest "
			"are protected only by their names below %s",
			KERN_MAX_MEMBERS, dir);
	return member_walk.err == -E2BIG ? 0 : member_walk.err;
}

/*
 * A warning about the policy's paths and cgroups, said once: the maps are filled again at
 * start, on every reload and path change, and the same "does not exist" would fill the log.
 * Remembered by hash, up to WARNED_MAX distinct ones (then said again).
 */
#define WARNED_MAX 1024
static void warn_once(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warn_once(const char *fmt, ...)
{
	static uint64_t warned[WARNED_MAX];
	static size_t n_warned;
	char msg[1024];
	uint64_t h = 0xcbf29ce484222325ULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (const char *c = msg; *c; c++)
		h = (h ^ (unsigned char)*c) * 0x100000001b3ULL;
	for (size_t i = 0; i < n_warned; i++)
		if (warned[i] == h)
			return;
	if (n_warned < WARNED_MAX)
		warned[n_warned++] = h;
	log_warn("%s", msg);
}

static int add_path(struct kern *k, struct entries *inodes, const struct policy_resource *r,
		    const struct policy_entry *pe)
{
	struct inode_path ip = {.path = pe->path, .resource = r->id, .borrowed = true};
	struct jitd_inode_key key = {};
	long pos;
	struct stat st;

	if (stat(pe->path, &st)) {
		warn_once("resource %s: %s: %s; not protected until it exists", r->name, pe->path,
			  strerror(errno));
		return 0;
	}
	ip.dev = key.dev = util_kdev(st.st_dev);
	ip.ino = key.ino = st.st_ino;
	if (S_ISDIR(st.st_mode))
		ip.flags |= JITD_INODE_SUBTREE;
	if (pe->kind == POLICY_EXEC)
		ip.flags |= JITD_INODE_EXEC;
	if (r->revoke_open)
		ip.flags |= JITD_INODE_REVOKE_OPEN;
	/* inodes and k->paths are in step (remember): one entry per (dev, ino) */
	pos = keyset_find(&inodes->idx, &key);
	if (pos >= 0 && k->paths[pos].resource != r->id && !k->paths[pos].member) {
		log_err("resource %s: %s is the same file as %s of another resource", r->name,
			pe->path, k->paths[pos].path);
		return -EINVAL;
	}
	return remember(k, inodes, &ip);
}

/* A (resource, path) the policy names, and how many of k->paths carry it (sorted array:
 * a reload of 100,000 paths looks each one up, never scans the policy per path). */
struct named {
	uint32_t resource;
	const char *path;
	size_t same;
};

static int named_cmp(const void *a, const void *b)
{
	const struct named *x = a, *y = b;

	if (x->resource != y->resource)
		return x->resource < y->resource ? -1 : 1;
	return strcmp(x->path, y->path);
}

static struct named *named_find(struct named *v, size_t n, uint32_t resource, const char *path)
{
	struct named key = {.resource = resource, .path = path};

	return bsearch(&key, v, n, sizeof(*v), named_cmp);
}

/* The policy's named paths, sorted and unique, with their counts in k->paths. */
static struct named *named_build(const struct kern *k, const struct policy *p, size_t *out_n)
{
	size_t n = 0, m = 0;
	struct named *v;

	for (size_t i = 0; i < p->n_resources; i++)
		n += p->resources[i].n_entries;
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return NULL;
	n = 0;
	for (size_t i = 0; i < p->n_resources; i++)
		for (size_t j = 0; j < p->resources[i].n_entries; j++)
			if (p->resources[i].entries[j].kind != POLICY_CONNECT)
				v[n++] = (struct named){.resource = p->resources[i].id,
							.path = p->resources[i].entries[j].path};
	qsort(v, n, sizeof(*v), named_cmp);
	for (size_t i = 0; i < n; i++)
		if (!m || named_cmp(&v[m - 1], &v[i]))
			v[m++] = v[i];
	for (size_t j = 0; j < k->n_paths; j++) {
		struct named *e = k->paths[j].member ? NULL
						     : named_find(v, m, k->paths[j].resource,
								  k->paths[j].path);

		if (e)
			e->same++;
	}
	*out_n = m;
	return v;
}

/*
 * Inodes a policy path named before and no longer names (it was replaced, renamed
 * away, or its parent moved) stay protected while the policy still names the path:
 * someone may hold them open by O_PATH, a hard link or a renamed copy. Up to
 * KERN_KEEP_REPLACED per path, the most recent; the oldest are let go (an inode number
 * may be reused by an unrelated file, which would then be denied: fail closed).
 */
static int keep_replaced(struct kern *k, struct entries *inodes, const struct policy *p,
			 const struct inode_path *old, size_t n_old)
{
	size_t n_named = 0;
	struct named *named = n_old ? named_build(k, p, &n_named) : NULL;
	int err = n_old && !named ? -ENOMEM : 0;

	/* old is newest first (this sync's finds, then what was kept before): so stays k->paths */
	for (size_t i = 0; i < n_old && !err; i++) {
		struct named *e =
			old[i].member ? NULL
				      : named_find(named, n_named, old[i].resource, old[i].path);
		size_t before = k->n_paths;
		struct inode_path copy = old[i];

		if (!e || e->same > KERN_KEEP_REPLACED)
			continue;
		copy.borrowed = false; /* it may be the replaced policy's string */
		err = remember(k, inodes, &copy);
		e->same += k->n_paths - before;
	}
	free(named);
	return err;
}

static int add_net(struct entries *nets, const struct policy_resource *r,
		   const struct policy_entry *pe)
{
	struct jitd_net_key key = {};
	struct jitd_net_val val = {.resource = r->id,
				   .flags = r->revoke_open ? JITD_NET_REVOKE_OPEN : 0};

	key.prefixlen = 16 + pe->prefix;
	key.port = htons(pe->port);
	memcpy(key.addr, pe->addr, 16);
	return entries_add(nets, &key, &val);
}

/* One of jitd's own files or directories (JITD_RES_SELF): readable, changed only by
 * exempt subjects and jitd. Absent: nothing to protect (yet). */
static int add_self(struct kern *k, struct entries *inodes, struct entries *devs, const char *path,
		    bool subtree, uint32_t extra_flags)
{
	struct inode_path ip = {.path = (char *)path,
				.resource = JITD_RES_SELF,
				.flags = JITD_INODE_SELF | extra_flags};
	size_t before = k->n_paths;
	struct stat st;
	uint32_t one = 1;
	int err;

	if (stat(path, &st))
		return 0;
	ip.dev = util_kdev(st.st_dev);
	ip.ino = st.st_ino;
	if (S_ISDIR(st.st_mode) && subtree) {
		ip.flags |= JITD_INODE_SUBTREE;
		if (!entries_has(devs, &ip.dev) && (err = entries_add(devs, &ip.dev, &one)))
			return err;
	}
	err = remember(k, inodes, &ip);
	k->n_self_files += k->n_paths - before;
	return err;
}

/* The pins: the directory, and each pin (BPF_OBJ_GET checks the pin's own inode). */
static int add_self_pins(struct kern *k, struct entries *inodes, struct entries *devs)
{
	DIR *d = opendir(JITD_PIN_DIR);
	struct dirent *de;
	char path[512];
	int err;

	if (!d)
		return -errno;
	err = add_self(k, inodes, devs, JITD_PIN_DIR, true, 0);
	while (!err && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", JITD_PIN_DIR, de->d_name);
		err = add_self(k, inodes, devs, path, false, 0);
	}
	closedir(d);
	return err;
}

/* cgroup.procs and cgroup.threads of an exempt cgroup and of each of its ancestors:
 * every way into it (a write there, clone3 into it) is checked on one of them. */
static int add_self_cgroup(struct kern *k, struct entries *inodes, struct entries *devs,
			   const char *cgroup_root, const char *cgroup)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	size_t root_len = strlen(cgroup_root);
	int err = 0;

	if ((size_t)snprintf(dir, sizeof(dir), "%s%s", cgroup_root, cgroup) >= sizeof(dir))
		return -ENAMETOOLONG;
	while (!err) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
		err = add_self(k, inodes, devs, path, false, 0);
		snprintf(path, sizeof(path), "%s/cgroup.threads", dir);
		if (!err)
			err = add_self(k, inodes, devs, path, false, 0);
		if (strlen(dir) <= root_len || !strrchr(dir, '/'))
			break;
		*strrchr(dir, '/') = 0;
		if (strlen(dir) < root_len)
			break;
	}
	return err;
}

/* Unit files of jitd that systemd would read (a drop-in directory only if it exists). */
static const char *const self_units[] = {
	"/etc/systemd/system/jitd.service",	      "/etc/systemd/system/jitd.service.d",
	"/run/systemd/system/jitd.service",	      "/run/systemd/system/jitd.service.d",
	"/usr/local/lib/systemd/system/jitd.service", "/lib/systemd/system/jitd.service",
	"/usr/lib/systemd/system/jitd.service",
};

/* Everything jitd is made of on disk, and the ways into its exempt cgroups. */
static int add_self_files(struct kern *k, struct entries *inodes, struct entries *devs,
			  const struct policy *p, const char *cgroup_root)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int err;

	k->n_self_files = 0;
	err = add_self_pins(k, inodes, devs);
	if (!err && n > 0) {
		exe[n] = 0;
		err = add_self(k, inodes, devs, exe, false, 0);
	}
	for (size_t i = 0; i < 3 && !err; i++)
		if (k->self_files[i])
			err = add_self(k, inodes, devs, k->self_files[i], true, 0);
	if (!err && k->self_files[1]) { /* the secret directory: its nearer entry wins */
		char secret[PATH_MAX];

		snprintf(secret, sizeof(secret), "%s/%s", k->self_files[1], JITD_SECRET_SUBDIR);
		err = add_self(k, inodes, devs, secret, true, JITD_INODE_SECRET);
	}
	for (size_t i = 0; i < sizeof(self_units) / sizeof(self_units[0]) && !err; i++)
		err = add_self(k, inodes, devs, self_units[i], true, 0);
	for (size_t i = 0; i < p->n_exempt_cgroups && !err; i++)
		err = add_self_cgroup(k, inodes, devs, cgroup_root, p->exempt_cgroups[i]);
	return err;
}

int kern_set_self(struct kern *k, const char *policy_path, const char *state_dir,
		  const char *audit_path)
{
	const char *v[3] = {policy_path, state_dir, NULL};
	char *dir = NULL;

	/* The audit file; its directory too when it is jitd's own (…/jitd/). */
	if (audit_path && audit_path[0] == '/') {
		dir = strdup(audit_path);
		if (!dir)
			return -ENOMEM;
		*strrchr(dir, '/') = 0;
		if (strlen(dir) < 5 || strcmp(dir + strlen(dir) - 5, "/jitd")) {
			free(dir);
			dir = strdup(audit_path);
			if (!dir)
				return -ENOMEM;
		}
	}
	for (size_t i = 0; i < 3; i++) {
		free(k->self_files[i]);
		k->self_files[i] = i == 2 ? dir : v[i] ? strdup(v[i]) : NULL;
		if (v[i] && !k->self_files[i])
			return -ENOMEM;
	}
	return 0;
}

/* Write the filter: exactly want, or (union) the kernel's current bits plus want. */
static int filter_write(struct kern *k, const struct jitd_filter *want, bool keep_old)
{
	int fd = bpf_map__fd(k->skel->maps.filter);
	struct jitd_filter *f = malloc(sizeof(*f));
	uint32_t zero = 0;
	int err = 0;

	if (!f)
		return -ENOMEM;
	if (!keep_old || bpf_map_lookup_elem(fd, &zero, f))
		memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < JITD_FILTER_WORDS; i++)
		f->bits[i] |= want->bits[i];
	if (bpf_map_update_elem(fd, &zero, f, BPF_ANY))
		err = -errno;
	free(f);
	return err;
}

/* Make the protected-object and exempt maps equal to the policy. The filter
 * gains new inodes' bits before their entries appear and loses stale bits only
 * after the stale entries are gone, so it never hides a protected inode. */
/* Hard-linked files below protected directories, and the devices of those. */
static int add_subtrees(struct kern *k, const struct policy *p, struct entries *inodes,
			struct entries *devs)
{
	uint32_t one = 1;
	int err = 0;

	for (size_t i = 0, n = k->n_paths; i < n && !err; i++) {
		const struct inode_path *ip = &k->paths[i];

		if (!(ip->flags & JITD_INODE_SUBTREE))
			continue;
		if (!entries_has(devs, &ip->dev))
			err = entries_add(devs, &ip->dev, &one);
		for (size_t r = 0; r < p->n_resources && !err; r++)
			if (p->resources[r].id == ip->resource)
				err = add_members(k, inodes, &p->resources[r], ip->path);
	}
	return err;
}

/* The level of a cgroup below the root: its path's components (the policy normalised it). */
static unsigned cgroup_level(const char *path)
{
	unsigned n = 0;

	for (const char *c = path; *c;) {
		size_t len;

		c += strspn(c, "/");
		len = strcspn(c, "/");
		n += len > 0;
		c += len;
	}
	return n;
}

/*
 * The exempt uids and the ids of the exempt cgroups that exist; *excg gets the exemption
 * check's bound (JITD_CFG_EXCG_SHIFT): none, or down to the deepest exempt cgroup. The levels
 * are counted from cgroup_root, so only when it is the hierarchy's root (no cgroup.type file:
 * it exists on every other cgroup, a cgroup namespace's root among them); else every level.
 */
static int add_exemptions(const struct policy *p, const char *cgroup_root, struct entries *exu,
			  struct entries *exc, uint32_t *excg)
{
	char type[4096];
	bool at_root;
	unsigned deepest = 0;
	uint32_t one = 1;
	int err = 0;

	/* (a root too long to name: not known to be the hierarchy's, every level) */
	at_root = snprintf(type, sizeof(type), "%s/cgroup.type", cgroup_root) < (int)sizeof(type) &&
		  access(type, F_OK) && errno == ENOENT;
	for (size_t i = 0; i < p->n_exempt_uids && !err; i++)
		err = entries_add(exu, &p->exempt_uids[i], &one);
	for (size_t i = 0; i < p->n_exempt_cgroups && !err; i++) {
		uint64_t id;
		unsigned level = cgroup_level(p->exempt_cgroups[i]);

		if (util_cgroup_id(cgroup_root, p->exempt_cgroups[i], &id)) {
			warn_once("exempt cgroup %s does not exist; ignored", p->exempt_cgroups[i]);
			continue;
		}
		err = entries_add(exc, &id, &one);
		deepest = level > deepest ? level : deepest;
	}
	if (!exc->n)
		*excg = JITD_CFG_EXCG_NONE;
	else if (at_root && deepest + 2 <= JITD_CGROUP_DEPTH)
		*excg = deepest + 2;
	else
		*excg = JITD_CFG_EXCG_ALL;
	return err;
}

/*
 * While the exemptions change, the kernel looks at all of them: every cgroup level, the
 * exempt uids map (not jitd_config's copy), so no stale copy or bound is ever used (other
 * fields kept). An update copies into the element a program may be reading: so first only
 * the flags change (the copy stays the one they describe), then the new copy (want's) goes
 * in unused, and the final write changes only the flags again. 0 or -errno.
 */
static int exemptions_open(struct kern *k, const struct jitd_config *want)
{
	int fd = bpf_map__fd(k->skel->maps.jconfig);
	struct jitd_config cfg = {};
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(fd, &zero, &cfg))
		return -errno;
	cfg.flags &= ~(JITD_CFG_EXCG_MASK | JITD_CFG_EXUID_INLINE);
	if (bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY))
		return -errno;
	k->excg = JITD_CFG_EXCG_ALL;
	cfg.n_ex_uids = want->n_ex_uids;
	memcpy(cfg.ex_uids, want->ex_uids, sizeof(cfg.ex_uids));
	if (bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY))
		return -errno;
	return 0;
}

/* jitd_config's copy of the exempt uids, when they are few enough (unused slots: none). */
static void exempt_uids_inline(struct jitd_config *cfg, const struct entries *exu)
{
	for (size_t i = 0; i < JITD_CFG_INLINE_UIDS; i++)
		cfg->ex_uids[i] = JITD_CFG_NO_UID;
	if (exu->n > JITD_CFG_INLINE_UIDS)
		return;
	for (size_t i = 0; i < exu->n; i++)
		memcpy(&cfg->ex_uids[i], (const char *)exu->keys + i * exu->ksz, sizeof(uint32_t));
	cfg->n_ex_uids = exu->n;
	cfg->flags |= JITD_CFG_EXUID_INLINE;
}

/* Keep the inode entries (in step with k->paths, see remember) as kern_path_of's index. */
static void keep_path_index(struct kern *k, struct entries *inodes)
{
	if (k->path_keys)
		entries_free(k->path_keys);
	free(k->path_keys);
	k->path_keys = malloc(sizeof(*k->path_keys));
	if (k->path_keys) {
		void *keys = realloc(inodes->keys, (inodes->n ? inodes->n : 1) * inodes->ksz);
		struct inode_path *paths =
			realloc(k->paths, (k->n_paths ? k->n_paths : 1) * sizeof(*paths));

		/* only the keys are looked up: the values go, the arrays are cut to their
		 * size (a third of them was room at 100,000 paths) */
		free(inodes->vals);
		inodes->vals = NULL;
		inodes->keys = keys ?: inodes->keys;
		inodes->idx.keys = inodes->keys;
		inodes->cap = keys ? inodes->n : inodes->cap;
		if (paths) {
			k->paths = paths;
			k->cap_paths = k->n_paths ? k->n_paths : 1;
		}
		*k->path_keys = *inodes;
	} else
		entries_free(inodes);
}

/* The filter of these inode entries, and the devices' own bits: a walk is made only where
 * a protected directory may be found. */
static void filter_fill(struct jitd_filter *filter, const struct entries *inodes,
			const struct entries *devs)
{
	for (size_t i = 0; i < inodes->n; i++) {
		const struct jitd_inode_key *ik =
			(const void *)((const char *)inodes->keys + i * inodes->ksz);

		jitd_filter_set(filter, ik->dev, ik->ino);
	}
	for (size_t i = 0; i < devs->n; i++)
		jitd_filter_set_dev(filter,
				    *(const uint64_t *)((const char *)devs->keys + i * devs->ksz));
}

int kern_sync_policy(struct kern *k, const struct policy *p, const char *cgroup_root)
{
	struct entries inodes = {.ksz = sizeof(struct jitd_inode_key),
				 .vsz = sizeof(struct jitd_inode_val)};
	struct entries nets = {.ksz = sizeof(struct jitd_net_key),
			       .vsz = sizeof(struct jitd_net_val)};
	struct entries exu = {.ksz = sizeof(uint32_t), .vsz = sizeof(uint32_t)};
	struct entries exc = {.ksz = sizeof(uint64_t), .vsz = sizeof(uint32_t)};
	struct entries devs = {.ksz = sizeof(uint64_t), .vsz = sizeof(uint32_t)};
	struct jitd_filter *filter = calloc(1, sizeof(*filter));
	struct inode_path *old = k->paths;
	size_t n_old = k->n_paths;
	struct jitd_config cfg = {.agg_interval_s = k->agg_interval_s};
	uint32_t zero = 0, excg = JITD_CFG_EXCG_ALL;
	int err = filter ? 0 : -ENOMEM;

	k->paths = NULL;
	k->n_paths = k->cap_paths = 0;
	for (size_t i = 0; i < p->n_resources && !err; i++) {
		const struct policy_resource *r = &p->resources[i];

		for (size_t j = 0; j < r->n_entries && !err; j++) {
			const struct policy_entry *pe = &r->entries[j];

			if (pe->kind == POLICY_CONNECT)
				cfg.flags |= JITD_CFG_NET;
			err = pe->kind == POLICY_CONNECT ? add_net(&nets, r, pe)
							 : add_path(k, &inodes, r, pe);
		}
	}
	if (!err)
		err = keep_replaced(k, &inodes, p, old, n_old);
	for (size_t i = 0; i < n_old; i++)
		path_free(&old[i]);
	free(old);
	if (!err)
		err = add_subtrees(k, p, &inodes, &devs);
	/* After the policy's own paths: a policy resource naming one of jitd's files keeps
	 * its meaning (grants); jitd's files are otherwise its own. */
	if (!err)
		err = add_self_files(k, &inodes, &devs, p, cgroup_root);
	if (!err)
		err = add_exemptions(p, cgroup_root, &exu, &exc, &excg);
	cfg.flags |= excg << JITD_CFG_EXCG_SHIFT;
	exempt_uids_inline(&cfg, &exu);
	/* Order matters for the gap: exemptions and devices first, stale devices last. */
	if (!err)
		err = exemptions_open(k, &cfg);
	if (!err)
		err = map_reconcile(bpf_map__fd(k->skel->maps.ex_uids), &exu);
	if (!err)
		err = map_reconcile(bpf_map__fd(k->skel->maps.ex_cgroups), &exc);
	if (filter)
		filter_fill(filter, &inodes, &devs);
	if (!err)
		err = filter_write(k, filter, true);
	if (!err)
		err = map_reconcile(bpf_map__fd(k->skel->maps.inodes), &inodes);
	if (!err)
		err = map_reconcile(bpf_map__fd(k->skel->maps.nets), &nets);
	if (!err)
		err = map_reconcile(bpf_map__fd(k->skel->maps.subtree_devs), &devs);
	if (!err && bpf_map_update_elem(bpf_map__fd(k->skel->maps.jconfig), &zero, &cfg, BPF_ANY))
		err = -errno;
	if (!err)
		k->excg = excg;
	if (!err)
		err = filter_write(k, filter, false);
	if (err)
		log_err("cannot update kernel maps: %s", strerror(-err));
	keep_path_index(k, &inodes);
	free(filter);
	entries_free(&nets);
	entries_free(&exu);
	entries_free(&exc);
	entries_free(&devs);
	return err;
}

/* The cgroups holding an active cgroup grant: ptrace into their trees from
 * outside is denied (bpf/jitd.bpf.c, check_ptrace). */
int kern_set_granted_cgroups(struct kern *k, const uint64_t *ids, size_t n)
{
	struct entries e = {.ksz = sizeof(uint64_t), .vsz = sizeof(uint32_t)};
	uint32_t one = 1;
	int err = 0;

	for (size_t i = 0; i < n && !err; i++)
		if (!entries_has(&e, &ids[i]))
			err = entries_add(&e, &ids[i], &one);
	if (!err)
		err = map_reconcile(bpf_map__fd(k->skel->maps.granted_cgroups), &e);
	entries_free(&e);
	return err;
}

const char *kern_path_of(struct kern *k, uint64_t dev, uint64_t ino)
{
	struct jitd_inode_key key = {.dev = dev, .ino = ino};

	if (k->path_keys) { /* one probe per audit record, not a scan of 100,000 paths */
		long pos = keyset_find(&k->path_keys->idx, &key);

		return pos >= 0 && (size_t)pos < k->n_paths ? k->paths[pos].path : NULL;
	}
	for (size_t i = 0; i < k->n_paths; i++)
		if (k->paths[i].dev == dev && k->paths[i].ino == ino)
			return k->paths[i].path;
	return NULL;
}

int kern_put_grants(struct kern *k, const struct jitd_grant_key *keys,
		    const struct jitd_grant_val *vals, size_t n)
{
	struct entries e = {.keys = (void *)keys,
			    .vals = (void *)vals,
			    .n = n,
			    .ksz = sizeof(*keys),
			    .vsz = sizeof(*vals)};

	return map_write_all(bpf_map__fd(k->skel->maps.grants), &e);
}

int kern_del_grant(struct kern *k, const struct jitd_grant_key *key)
{
	if (bpf_map_delete_elem(bpf_map__fd(k->skel->maps.grants), key) && errno != ENOENT)
		return -errno;
	return 0;
}

/*
 * Make grant id's usage entry (BPF_NOEXIST): 1 when made, 0 when it was there (a restarted
 * jitd adopts the pinned map, and the kernel's counts in it stand), or -errno.
 */
int kern_use_put(struct kern *k, uint64_t id, const struct jitd_grant_use *u)
{
	if (!bpf_map_update_elem(bpf_map__fd(k->skel->maps.grant_use), &id, u, BPF_NOEXIST))
		return 1;
	return errno == EEXIST ? 0 : -errno;
}

/* Read grant id's usage entry: 0, -ENOENT when it has none, or -errno. */
int kern_use_get(struct kern *k, uint64_t id, struct jitd_grant_use *u)
{
	if (bpf_map_lookup_elem(bpf_map__fd(k->skel->maps.grant_use), &id, u))
		return -errno;
	return 0;
}

int kern_use_del(struct kern *k, uint64_t id)
{
	if (bpf_map_delete_elem(bpf_map__fd(k->skel->maps.grant_use), &id) && errno != ENOENT)
		return -errno;
	return 0;
}

/* Delete every key of the hash map fd (keys of ksz bytes, at most 64) that keep() rejects,
 * in one pass: the next key is read before the current one goes (starting over from the
 * first key after each delete passed again over all that stay: quadratic). */
static int map_prune(int fd, size_t ksz, bool (*keep)(const void *key, void *arg), void *arg)
{
	char cur[64], next[64];
	bool more = !bpf_map_get_next_key(fd, NULL, cur);

	while (more) {
		more = !bpf_map_get_next_key(fd, cur, next);
		if (!keep(cur, arg) && bpf_map_delete_elem(fd, cur) && errno != ENOENT)
			return -errno;
		memcpy(cur, next, ksz);
	}
	return 0;
}

struct use_keep {
	bool (*keep)(uint64_t id, void *);
	void *arg;
};

static bool use_keep(const void *key, void *arg)
{
	const struct use_keep *k = arg;
	uint64_t id;

	memcpy(&id, key, sizeof(id));
	return k->keep(id, k->arg);
}

/* Delete every usage entry whose grant id keep() rejects. */
int kern_use_prune(struct kern *k, bool (*keep)(uint64_t id, void *), void *arg)
{
	struct use_keep u = {keep, arg};

	return map_prune(bpf_map__fd(k->skel->maps.grant_use), sizeof(uint64_t), use_keep, &u);
}

/* Sum the per-CPU usage counters (enum jitd_use_stat) into sums[JITD_USE_STAT_MAX]. */
int kern_use_counters(struct kern *k, uint64_t *sums)
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(k->skel->maps.use_stats);
	uint64_t *vals;

	if (ncpu <= 0)
		return -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (uint32_t i = 0; i < JITD_USE_STAT_MAX; i++) {
		sums[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			sums[i] += vals[c];
	}
	free(vals);
	return 0;
}

/*
 * Call cb for every open file and socket tracked for "revoke": "open" (jitd_open) with its
 * struct file's address, until it returns non-zero (then that). Nothing tracked: no walk.
 * Entries freed meanwhile are skipped; a walk restarted by such a free is bounded.
 */
int kern_open_each(struct kern *k,
		   int (*cb)(uint64_t file, const struct jitd_open_val *v, void *arg), void *arg)
{
	int fd = bpf_map__fd(k->skel->maps.open_files);
	uint32_t total_key = JITD_OPEN_TOTAL, total = 0;
	uint64_t key, next;
	struct jitd_open_val v;
	bool first = true;
	int r;

	if (bpf_map_lookup_elem(bpf_map__fd(k->skel->maps.open_count), &total_key, &total) ||
	    !total)
		return 0;
	for (size_t steps = 0; steps < 2 * JITD_MAX_OPEN; steps++) {
		if (bpf_map_get_next_key(fd, first ? NULL : &key, &next))
			break;
		first = false;
		key = next;
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue;
		r = cb(key, &v, arg);
		if (r)
			return r;
	}
	return 0;
}

/* Mark the tracked open file cut: every later use is refused, whatever grant comes. */
int kern_open_cut(struct kern *k, uint64_t file)
{
	int fd = bpf_map__fd(k->skel->maps.open_files);
	struct jitd_open_val v;

	if (bpf_map_lookup_elem(fd, &file, &v))
		return errno == ENOENT ? 0 : -errno;
	if (v.flags & JITD_OPEN_CUT)
		return 0;
	v.flags |= JITD_OPEN_CUT;
	/* freed meanwhile: nothing left to cut */
	if (bpf_map_update_elem(fd, &file, &v, BPF_EXIST) && errno != ENOENT)
		return -errno;
	return 0;
}

/* Delete every kernel grant key that keep() rejects. */
struct grant_keep {
	bool (*keep)(const struct jitd_grant_key *, void *);
	void *arg;
};

static bool grant_keep(const void *key, void *arg)
{
	const struct grant_keep *k = arg;
	struct jitd_grant_key gk;

	memcpy(&gk, key, sizeof(gk));
	return k->keep(&gk, k->arg);
}

int kern_prune_grants(struct kern *k, bool (*keep)(const struct jitd_grant_key *, void *),
		      void *arg)
{
	struct grant_keep g = {keep, arg};

	return map_prune(bpf_map__fd(k->skel->maps.grants), sizeof(struct jitd_grant_key),
			 grant_keep, &g);
}

/*
 * Prove enforcement before serving anyone: protect a fresh file for everyone
 * (exempt subjects included) and check that a child's open of it fails with
 * EPERM. Returns 0 when enforcement works, -EPERM-free errors otherwise.
 */
int kern_selftest(struct kern *k, const char *dir)
{
	struct jitd_inode_key key = {};
	struct jitd_inode_val val = {.resource = JITD_RES_SELFTEST, .flags = JITD_INODE_NOEXEMPT};
	int inodes = bpf_map__fd(k->skel->maps.inodes);
	struct jitd_filter *bit;
	char path[4096];
	struct stat st;
	int fd, status, err = 0;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/.selftest", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	close(fd);
	key.dev = util_kdev(st.st_dev);
	key.ino = st.st_ino;
	/* Its filter bit stays set afterwards: a false positive costs one lookup. */
	bit = calloc(1, sizeof(*bit));
	if (!bit)
		return -ENOMEM;
	jitd_filter_set(bit, key.dev, key.ino);
	err = filter_write(k, bit, true);
	free(bit);
	if (err)
		return err;
	if (bpf_map_update_elem(inodes, &key, &val, BPF_ANY)) {
		err = -errno;
		goto out;
	}
	pid = fork();
	if (pid == 0) {
		int r = open(path, O_RDONLY | O_CLOEXEC);

		_exit(r < 0 && errno == EPERM ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		err = -errno;
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		err = -ENOTRECOVERABLE;
	bpf_map_delete_elem(inodes, &key);
out:
	unlink(path);
	return err;
}

/* Sum the per-CPU counters. */
int kern_counters(struct kern *k, uint64_t *allow, uint64_t *deny, uint64_t *drops)
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(k->skel->maps.stats);
	uint64_t *vals, sums[JITD_STAT_MAX] = {};

	if (ncpu <= 0)
		return -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (uint32_t i = 0; i < JITD_STAT_MAX; i++) {
		if (bpf_map_lookup_elem(fd, &i, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			sums[i] += vals[c];
	}
	free(vals);
	*allow = sums[JITD_STAT_ALLOW];
	*deny = sums[JITD_STAT_DENY];
	*drops = sums[JITD_STAT_DROPS];
	k->cut = sums[JITD_STAT_CUT];
	k->track_full = sums[JITD_STAT_TRACK_FULL];
	return 0;
}

/* "revoke": "open" for status: files and sockets tracked now, uses refused since their
 * grant ended, opens refused because the table was full (as of the last kern_counters). */
json_t *kern_open_json(struct kern *k)
{
	uint32_t total = JITD_OPEN_TOTAL, n = 0;

	bpf_map_lookup_elem(bpf_map__fd(k->skel->maps.open_count), &total, &n);
	return json_pack("{s:I,s:I,s:I,s:I,s:b}", "tracked", (json_int_t)n, "max",
			 (json_int_t)JITD_MAX_OPEN, "uses_cut", (json_int_t)k->cut,
			 "opens_refused_table_full", (json_int_t)k->track_full, "release_by_slot",
			 kern_fslot_trusted(k));
}

/*
 * The ring-buffer drops already reported as audit records, kept in the pinned stats map
 * (slot JITD_STAT_DROPS_REPORTED, CPU 0) so that a restarted agent reports only the new
 * ones, including those lost while no agent was reading. *get and/or set.
 */
int kern_drops_reported(struct kern *k, uint64_t *get, const uint64_t *set)
{
	int ncpu = libbpf_num_possible_cpus(), fd = bpf_map__fd(k->skel->maps.stats), r = 0;
	uint32_t idx = JITD_STAT_DROPS_REPORTED;
	uint64_t *vals;

	if (ncpu <= 0)
		return -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &idx, vals))
		r = -errno;
	if (!r && get)
		*get = vals[0];
	if (!r && set) {
		memset(vals, 0, ncpu * sizeof(*vals));
		vals[0] = *set;
		if (bpf_map_update_elem(fd, &idx, vals, BPF_ANY))
			r = -errno;
	}
	free(vals);
	return r;
}

/* [{"name","hook","attached","prog_id"}] for `jitctl status`. */
json_t *kern_programs_json(struct kern *k)
{
	json_t *arr = json_array();
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, k->skel->obj) {
		const char *sec = bpf_program__section_name(prog);
		bool attached = false;
		__u32 id = 0;

		if (!bpf_program__autoload(prog))
			continue; /* the other signature's variant */
		for (size_t i = 0; i < k->n_links; i++)
			if (!strcmp(k->link_names[i], bpf_program__name(prog))) {
				attached = true;
				id = k->prog_ids[i];
			}
		json_array_append_new(
			arr, json_pack("{s:s,s:s,s:b,s:I}", "name", bpf_program__name(prog), "hook",
				       strncmp(sec, "lsm/", 4) ? sec : sec + 4, "attached",
				       attached, "prog_id", (json_int_t)id));
	}
	return arr;
}

/* The kernel's lockdown mode ("none", "integrity", "confidentiality"), or "unknown". */
static void lockdown_mode(char *buf, size_t len)
{
	FILE *f = fopen("/sys/kernel/security/lockdown", "re");
	char line[128] = "";
	char *open, *close;

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	if (fgets(line, sizeof(line), f) && (open = strchr(line, '[')) &&
	    (close = strchr(open, ']'))) {
		*close = 0;
		snprintf(buf, len, "%s", open + 1);
	}
	fclose(f);
}

/* What the exemption check looks at (status). */
static const char *excg_text(const struct kern *k)
{
	static char buf[96];

	if (k->excg == JITD_CFG_EXCG_NONE)
		return "none: no exempt cgroup exists";
	if (k->excg == JITD_CFG_EXCG_ALL || !k->task_btf)
		return "every level of the task's cgroup ancestry";
	snprintf(buf, sizeof(buf), "levels 0-%u of the task's cgroup ancestry (the deepest exempt)",
		 k->excg - 2);
	return buf;
}

/* What is enforced and how on this kernel, for `jitctl status`. */
json_t *kern_features_json(struct kern *k)
{
	bool task_btf = k->task_btf;
	char lockdown[64];

	lockdown_mode(lockdown, sizeof(lockdown));
	return json_pack(
		"{s:O,s:s,s:s,s:s,s:i,s:s,s:s,s:s,s:{s:i,s:i,s:s}}", "hooks", k->hooks,
		"programs_from",
		k->adopted ? "adopted at start: attached by an earlier agent of the same build"
			   : "loaded and attached by this agent",
		"subject",
		task_btf ? "login uid by get_current_task_btf, cgroups by ancestor helper"
			 : "login uid and cgroups by probe reads (kernel without "
			   "get_current_task_btf)",
		"directory_walk",
		"to the file system root; deeper than the bound, or disconnected, on a file "
		"system holding a protected directory: denied",
		"directory_walk_bound", JITD_DPARENT_DEPTH, "exempt_cgroup_check", excg_text(k),
		"lockdown", lockdown, "lockdown_note",
		strcmp(lockdown, "none") && strcmp(lockdown, "unknown")
			? "kernel lockdown on: /dev/mem, /dev/kmem, kprobe writes and unsigned "
			  "modules are closed to root"
			: "kernel lockdown off: a governed root can reach kernel memory "
			  "(/dev/mem, unsigned modules) around any LSM; boot with "
			  "lockdown=integrity",
		"self_protection", "kernel_objects", (int)k->n_self_objects, "files",
		(int)k->n_self_files, "note",
		"only exempt subjects may reach jitd's maps, programs and links, load tracing "
		"or LSM programs, signal or trace jitd, unmount its pins, change its files, or "
		"enter an exempt cgroup");
}
