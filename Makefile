# SPDX-License-Identifier: GPL-2.0-only
# jitd: one entry point for build, tests, VM tests, benchmark, demo and install.
# `make V=1` shows the commands.

OUTPUT ?= build
PREFIX ?= /usr/local
DESTDIR ?=
ARCH ?= x86
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

PKGS := libbpf jansson libsystemd libcrypto # libpq: loaded by lib/pqdl.c, fleet mode only
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
	  -D_GNU_SOURCE -MMD -MP -Iinclude -Ilib -Iagent -I$(OUTPUT) \
	  $(shell pkg-config --cflags-only-I libpq 2>/dev/null || echo -I/usr/include/postgresql)
LDLIBS += $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lbpf -ljansson -lsystemd -lcrypto) -lelf -lz
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Wextra -Werror \
	      -Wno-unused-parameter -Iinclude -Ivmlinux/$(ARCH) -I$(OUTPUT)
ifeq ($(DEBUG),1)
BPF_CFLAGS += -DJITD_DEBUG
endif

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))

# Agent modules shared by jitd, jitctl and the unit tests (pure logic, no BPF).
COMMON_SRCS := lib/util.c lib/keyset.c lib/policy.c lib/audit_fmt.c lib/audit_log.c lib/audit_seal.c \
	       lib/audit_verify.c lib/request.c lib/history.c lib/policy_alerts.c lib/explain.c lib/policy_workflow.c \
	       lib/pqdl.c lib/json_quick.c
AGENT_SRCS := agent/main.c agent/core.c agent/inotify.c agent/bpfload.c agent/grant.c agent/image.c agent/ctl.c agent/verbs.c agent/apply.c \
	      agent/audit.c agent/audit_sub.c agent/fleet.c agent/alert.c \
	      agent/pathwatch.c agent/scope.c agent/lsm_hooks.c agent/sock_reset.c agent/cut.c \
	      agent/usage.c agent/report.c agent/notify.c \
	      agent/aggregate.c agent/ring.c agent/ringread.c
CLI_SRCS := cli/jitctl.c cli/audit_cmd.c cli/workflow.c cli/fleet_cmd.c cli/explain_cmd.c \
	    cli/breakglass_cmd.c cli/report_cmd.c
COMMON_OBJS := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(COMMON_SRCS))
AGENT_OBJS := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(AGENT_SRCS))
CLI_OBJS := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(CLI_SRCS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
# The verbs and the grant store on the host (tests/host_agent.h): what test_verbs and the
# ctl fuzzer link beyond COMMON_SRCS.
HOST_AGENT_SRCS := agent/verbs.c agent/fleet.c agent/grant.c agent/image.c agent/apply.c agent/audit.c \
		   agent/alert.c agent/usage.c agent/report.c tests/host_agent.c
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
VM_PROGS := $(OUTPUT)/tests/probe $(OUTPUT)/tests/nop $(OUTPUT)/tests/bench $(OUTPUT)/tests/flood \
	$(OUTPUT)/tests/peers_check $(OUTPUT)/tests/loadgen

# A recipe that fails leaves no half-written target behind to pass as up to date next time.
.DELETE_ON_ERROR:
.SECONDARY: $(BPF_OBJS)
.PHONY: all clean deps check unit asan fuzz vmcheck bench bench-audit demo vmlinux install \
	uninstall man format format-check kernels sysroot deb
all: $(OUTPUT)/jitd $(OUTPUT)/jitctl

$(OUTPUT) $(OUTPUT)/obj/agent $(OUTPUT)/obj/lib $(OUTPUT)/obj/cli $(OUTPUT)/tests:
	$(Q)mkdir -p $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c include/jitd_abi.h vmlinux/$(ARCH)/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(OUTPUT)/obj/%.o: %.c | $(OUTPUT)/obj/agent $(OUTPUT)/obj/lib $(OUTPUT)/obj/cli
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# An object that includes a generated skeleton waits for that one only (see `grep skel.h`), so
# the rest compile while the BPF side builds. -MMD cannot say this: the .d file only exists
# after the first compile, which fails without the header.
$(OUTPUT)/obj/agent/bpfload.o $(OUTPUT)/fuzz/obj/agent/bpfload.o: $(OUTPUT)/jitd.skel.h

$(OUTPUT)/jitd: $(AGENT_OBJS) $(COMMON_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

# where `jitctl fleet init` finds the schema migrations once installed
$(OUTPUT)/obj/cli/fleet_cmd.o: CFLAGS += -DJITD_FLEET_MIGRATIONS='"$(PREFIX)/share/jitd/fleet"'

$(OUTPUT)/jitctl: $(CLI_OBJS) $(COMMON_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/tests/test_%: tests/unit/test_%.c $(COMMON_OBJS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit -Itests -DSRCDIR='"$(CURDIR)"' $(filter %.c %.o,$^) \
		$(LDLIBS) -o $@

$(OUTPUT)/tests/test_verbs: $(patsubst %.c,$(OUTPUT)/obj/%.o,$(HOST_AGENT_SRCS))
$(OUTPUT)/tests/test_ringread: $(OUTPUT)/obj/agent/ringread.o
$(OUTPUT)/tests/test_usage: $(patsubst %.c,$(OUTPUT)/obj/%.o,$(HOST_AGENT_SRCS))
$(OUTPUT)/tests/test_grant_journal: $(patsubst %.c,$(OUTPUT)/obj/%.o,$(HOST_AGENT_SRCS))
# the notification runner on a real sd-event loop, with the host agent's store and audit
$(OUTPUT)/tests/test_notify: $(patsubst %.c,$(OUTPUT)/obj/%.o,$(HOST_AGENT_SRCS) agent/notify.c)
# connections reset in this process's network namespace (SKIP lines where the host cannot)
$(OUTPUT)/tests/test_sock_reset: $(OUTPUT)/obj/agent/sock_reset.o
$(OUTPUT)/tests/test_alert: $(OUTPUT)/obj/agent/alert.o

# N simulated fleet hosts in one process: the real fleet link, store and verbs, no kernel.
FLEET_SIM_SRCS := $(filter-out tests/host_agent.c,$(HOST_AGENT_SRCS)) tests/fleet/fleet_sim.c
$(OUTPUT)/tests/fleet_sim: $(patsubst %.c,$(OUTPUT)/obj/%.o,$(FLEET_SIM_SRCS)) $(COMMON_OBJS) \
		| $(OUTPUT)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# The unit tests again, built with ASan+UBSan into $(OUTPUT)/asan (leak detection on when run).
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ASAN_COMMON_OBJS := $(patsubst %.c,$(OUTPUT)/asan/obj/%.o,$(COMMON_SRCS))
ASAN_UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/asan/tests/%,$(UNIT_SRCS))

$(OUTPUT)/asan/obj/%.o: %.c
	$(call msg,CC-ASAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(OUTPUT)/asan/tests/test_%: tests/unit/test_%.c $(ASAN_COMMON_OBJS)
	$(call msg,CC-ASAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -Itests/unit -Itests -DSRCDIR='"$(CURDIR)"' \
		$(filter %.c %.o,$^) $(LDLIBS) -o $@

$(OUTPUT)/asan/tests/test_verbs: $(patsubst %.c,$(OUTPUT)/asan/obj/%.o,$(HOST_AGENT_SRCS))
$(OUTPUT)/asan/tests/test_ringread: $(OUTPUT)/asan/obj/agent/ringread.o
$(OUTPUT)/asan/tests/test_usage: $(patsubst %.c,$(OUTPUT)/asan/obj/%.o,$(HOST_AGENT_SRCS))
$(OUTPUT)/asan/tests/test_grant_journal: $(patsubst %.c,$(OUTPUT)/asan/obj/%.o,$(HOST_AGENT_SRCS))
$(OUTPUT)/asan/tests/test_notify: $(patsubst %.c,$(OUTPUT)/asan/obj/%.o,$(HOST_AGENT_SRCS) \
	agent/notify.c)
$(OUTPUT)/asan/tests/test_sock_reset: $(OUTPUT)/asan/obj/agent/sock_reset.o
$(OUTPUT)/asan/tests/test_alert: $(OUTPUT)/asan/obj/agent/alert.o

# libFuzzer harnesses. Adding one: write tests/fuzz/fuzz_NAME.c (LLVMFuzzerTestOneInput) and
# a few seed inputs in tests/fuzz/corpus/NAME/; it is built to $(OUTPUT)/fuzz/fuzz_NAME from
# COMMON_SRCS plus the sources listed in FUZZ_NAME_SRCS (NAME as in the file name, e.g.
# FUZZ_ctl_SRCS := agent/verbs.c), all compiled by clang with the fuzz sanitizers, and both
# `make fuzz` and `make check` run it (tests/fuzz/run.sh, which also reads tests/fuzz/NAME.dict
# if there is one). See tests/fuzz/README.
FUZZ_SECONDS ?= 60
FUZZ_CHECK_SECONDS ?= 20
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
# the control protocol's verbs on a real store (tests/fuzz/fuzz_ctl.c)
FUZZ_ctl_SRCS := $(HOST_AGENT_SRCS)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(OUTPUT)/fuzz/%,$(FUZZ_SRCS))
FUZZ_COMMON_OBJS := $(patsubst %.c,$(OUTPUT)/fuzz/obj/%.o,$(COMMON_SRCS))
FUZZ_CFLAGS = $(CFLAGS) -Itests/fuzz -Itests $(SAN_FLAGS) -fsanitize=fuzzer-no-link
fuzz_objs = $(patsubst %.c,$(OUTPUT)/fuzz/obj/%.o,$(FUZZ_$(1)_SRCS))

$(OUTPUT)/fuzz/obj/%.o: %.c
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@

.SECONDEXPANSION:
$(OUTPUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_COMMON_OBJS) $$(call fuzz_objs,$$*)
	$(call msg,CC-FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(filter %.c %.o,$^) $(LDLIBS) -o $@

$(OUTPUT)/tests/probe: tests/vm/probe.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -static $< -o $@

$(OUTPUT)/tests/nop: tests/vm/nop.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -static $< -o $@

$(OUTPUT)/tests/flood: tests/vm/flood.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -static $< -o $@

# Man pages from their scdoc sources: docs/man/NAME.SECTION.scd into $(OUTPUT)/man/NAME.SECTION,
# dated by the source's last change (SOURCE_DATE_EPOCH), so a rebuild gives the same page.
MAN_SRCS := $(wildcard docs/man/*.scd)
MAN_PAGES := $(patsubst docs/man/%.scd,$(OUTPUT)/man/%,$(MAN_SRCS))
SCDOC ?= scdoc

man: $(MAN_PAGES)

$(MAN_PAGES): $(OUTPUT)/man/%: docs/man/%.scd
	$(call msg,SCDOC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)SOURCE_DATE_EPOCH=$$(stat -c %Y $<) $(SCDOC) < $< > $@.tmp || { rm -f $@.tmp; exit 1; }
	$(Q)mv $@.tmp $@

$(OUTPUT)/tests/bench: tests/bench/bench.c tests/bench/bench_agent.c $(OUTPUT)/tests/peers.o \
		agent/lsm_hooks.c $(OUTPUT)/jitd.skel.h $(OUTPUT)/bench_min.skel.h | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/bench $< tests/bench/bench_agent.c $(OUTPUT)/tests/peers.o \
		agent/lsm_hooks.c $(LDLIBS) -o $@

# The peers the bench measures beside jitd (AppArmor, fapolicyd), and their check in the VM.
$(OUTPUT)/tests/peers.o: tests/bench/peers.c tests/bench/peers.h | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUTPUT)/tests/peers_check: tests/bench/peers_check.c $(OUTPUT)/tests/peers.o | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(OUTPUT)/tests/peers.o -lcrypto -o $@

# Debian packages needed to build and test (run as root on Debian 12).
deps:
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		make gcc libc6-dev clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev \
		libjansson-dev libsystemd-dev libssl-dev libpq-dev postgresql-15 pkg-config libclang-rt-14-dev clang-format \
		qemu-system-x86 busybox-static cpio lz4 zstd xz-utils python3 ca-certificates debootstrap e2fsprogs iproute2 util-linux \
		scdoc man-db groff-base zsh bash-completion dpkg-dev debhelper lintian curl \
		liblmdb0 libmagic1 libmagic-mgc libcap-ng0 libseccomp2 libssl3 libudev1
	@# The bench's peers run in its VM only: their packages are unpacked, never installed (an
	@# installed fapolicyd would decide every open and exec of this host, AppArmor load profiles).
	rm -rf $(OUTPUT)/peers $(OUTPUT)/peers.tmp && mkdir -p $(OUTPUT)/peers.tmp
	cd $(OUTPUT)/peers.tmp && apt-get download apparmor fapolicyd && \
		for deb in *.deb; do dpkg-deb -x "$$deb" ../peers || exit 1; done
	rm -rf $(OUTPUT)/peers.tmp

unit: $(UNIT_BINS)
	$(Q)tests/unit/run.sh $(UNIT_BINS)

# The unit tests under ASan+UBSan, leaks included: one PASS/FAIL line per binary.
asan: $(ASAN_UNIT_BINS)
	$(Q)tests/unit/run.sh --asan $(ASAN_UNIT_BINS)

# Each harness (or those named in FUZZ, e.g. FUZZ=policy) for FUZZ_SECONDS (60 by default); an
# input that fails is kept in $(OUTPUT)/fuzz/.
FUZZ_RUN = $(if $(FUZZ),$(patsubst %,$(OUTPUT)/fuzz/fuzz_%,$(FUZZ)),$(FUZZ_BINS))
fuzz: $(FUZZ_RUN)
	$(Q)tests/fuzz/run.sh $(OUTPUT) $(FUZZ_SECONDS) $(FUZZ_RUN)

# Debian cloud kernels for the VM tests, downloaded once into $(OUTPUT)/kernels: 5.10 (bullseye),
# 6.1 and 6.12 (bookworm) and 7.2 (sid); suites other than the machine's through a private apt
# configuration in $(OUTPUT)/kernels/apt, never the machine's sources.
kernels:
	$(Q)tests/vm/kernels.sh $(OUTPUT)/kernels

# A Debian 12 root with systemd for the VM tests that need systemd as PID 1 (debootstrap, once).
sysroot:
	$(Q)tests/vm/sysroot.sh $(OUTPUT)/vm/sysroot

vmcheck: all $(VM_PROGS) kernels sysroot
	$(Q)tests/vm/run.sh $(OUTPUT) tests
	$(Q)for part in guard revoke usage aggregate failpaths hostile crashes seal alerts access breakglass notify peers; do tests/vm/run.sh $(OUTPUT) $$part || exit 1; done
	$(Q)tests/vm/run.sh $(OUTPUT) systemd
	$(Q)tests/vm/run.sh $(OUTPUT) deb

# Unit tests on the host (also under ASan+UBSan), each fuzz harness for FUZZ_CHECK_SECONDS, VM
# tests on the Debian kernels (5.10, 6.1, 6.12, 7.2; with systemd on 6.1 and 6.12, and the
# Debian package of `make deb`, which tests/vm/run.sh builds, installed there); ends with
# "N passed, N failed".
check: all man $(UNIT_BINS) $(ASAN_UNIT_BINS) $(FUZZ_BINS) $(VM_PROGS) $(OUTPUT)/tests/fleet_sim \
	$(OUTPUT)/tests/grant_mem \
	kernels sysroot
	$(Q)FUZZ_CHECK_SECONDS=$(FUZZ_CHECK_SECONDS) tests/check.sh $(OUTPUT)

# The benchmark (tests/bench/bench.c) in the VM on 6.12, one boot on 1 vCPU and one on 2
# (VM_SMP), then one on 1 vCPU counting instructions (BENCH_ICOUNT=0: not, only: it alone):
# micro rows per configuration (none, cheapest hooks, jitd kernel, jitd + agent, the peers),
# per-program kernel cost, the macro workload; BENCH_ROUNDS rounds. Ends with the 1-vCPU
# boot's "ratio unprotected=X.XX granted=Y.YY" (jitd + agent over cheapest hooks).
bench: all $(VM_PROGS) kernels
	$(Q)tests/vm/run.sh $(OUTPUT) bench

# Scale in the VM (6.12, BENCH_KERNEL): 100,000 protected paths, grants through the control
# socket towards 1,000,000, memory, start-up and restart (tests/vm/scale.sh; not judged).
$(OUTPUT)/tests/scale: tests/bench/scale.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LDLIBS) -o $@

.PHONY: bench-scale
bench-scale: all $(VM_PROGS) $(OUTPUT)/tests/scale kernels
	$(Q)tests/vm/run.sh $(OUTPUT) scale

# The agent's heap and RSS a grant, 100,000 grants loaded from a state file (host, no root).
$(OUTPUT)/tests/grant_mem: tests/bench/grant_mem.c $(patsubst %.c,$(OUTPUT)/obj/%.o,$(HOST_AGENT_SRCS)) \
		$(COMMON_OBJS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $(filter %.c %.o,$^) $(LDLIBS) -o $@

.PHONY: bench-mem
bench-mem: $(OUTPUT)/tests/grant_mem
	$(Q)$(OUTPUT)/tests/grant_mem $(or $(GRANT_MEM_N),100000)

# Audit records formatted, hashed and written per second on one core (host, no root).
$(OUTPUT)/tests/audit_bench: tests/bench/audit_bench.c $(COMMON_OBJS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(COMMON_OBJS) $(LDLIBS) -o $@

bench-audit: $(OUTPUT)/tests/audit_bench
	$(Q)taskset -c 0 $(OUTPUT)/tests/audit_bench 2>/dev/null || $(OUTPUT)/tests/audit_bench

# Audit under load (tests/vm/load.sh in the VM on 6.12): decisions at stepped rates for
# LOAD_SECONDS (60) each, records written and dropped, the agent's CPU; VM_SMP=2 for two vCPUs.
$(OUTPUT)/tests/loadgen: tests/bench/loadgen.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -static $< -o $@

.PHONY: bench-load
bench-load: all $(VM_PROGS) $(OUTPUT)/tests/audit_bench kernels
	$(Q)tests/vm/run.sh $(OUTPUT) load

# Fleet benchmark: 1000 simulated hosts against one real PostgreSQL on this machine; revoke and
# grant fan-out, connections, CPU, memory (tests/fleet/fleet_bench.py; FLEET_BENCH_ARGS, e.g.
# "--procs 8 --rounds 10 --state-dir /dev/shm").
.PHONY: bench-fleet
bench-fleet: $(OUTPUT)/tests/fleet_sim $(OUTPUT)/jitctl
	$(Q)tests/fleet/fleet_bench.py $(OUTPUT) $(FLEET_BENCH_ARGS)

# The story on one kernel (KERNEL=6.1 or another start of a version; 6.12 by default), the
# build's output in $(OUTPUT)/demo-build.log
demo:
	@mkdir -p $(OUTPUT)
	@echo "jitd demo: building (log: $(OUTPUT)/demo-build.log), then booting a VM..."
	@$(MAKE) --no-print-directory all $(VM_PROGS) kernels >$(OUTPUT)/demo-build.log 2>&1 || \
		{ tail -n 30 $(OUTPUT)/demo-build.log; exit 1; }
	$(Q)DEMO_KERNEL=$(or $(KERNEL),6.12.) tests/vm/run.sh $(OUTPUT) demo

# Regenerate the committed vmlinux.h from the BTF of bookworm's 6.1 cloud kernel.
vmlinux: kernels
	$(Q)tests/vm/kernels.sh $(OUTPUT)/kernels btf > vmlinux/$(ARCH)/vmlinux.h.tmp
	$(Q)mv vmlinux/$(ARCH)/vmlinux.h.tmp vmlinux/$(ARCH)/vmlinux.h

FLEET_SQL := $(notdir $(wildcard dist/fleet/*.sql))
DOC_FILES := LICENSE README.md docs/protocol.md
MANDIR = $(DESTDIR)$(PREFIX)/share/man
DOCDIR = $(DESTDIR)$(PREFIX)/share/doc/jitd
BASH_COMPDIR = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
# Debian's zsh reads vendor-completions under /usr, site-functions under /usr/local
ZSH_COMPDIR = $(DESTDIR)$(PREFIX)/share/zsh/$(if $(filter /usr,$(PREFIX)),vendor-completions,site-functions)

install: all man
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin $(DESTDIR)/etc/jitd/policy.d
	install -m 0755 $(OUTPUT)/jitd $(DESTDIR)$(PREFIX)/sbin/jitd
	install -m 0755 $(OUTPUT)/jitctl $(DESTDIR)$(PREFIX)/bin/jitctl
	install -d $(DESTDIR)/lib/systemd/system
	sed 's|/usr/local/|$(PREFIX)/|g' dist/jitd.service > $(DESTDIR)/lib/systemd/system/jitd.service
	install -d $(DESTDIR)/etc/logrotate.d
	install -m 0644 dist/logrotate.d/jitd $(DESTDIR)/etc/logrotate.d/jitd
	install -d $(DESTDIR)$(PREFIX)/share/jitd/fleet
	install -m 0644 $(addprefix dist/fleet/,$(FLEET_SQL)) $(DESTDIR)$(PREFIX)/share/jitd/fleet/
	install -d $(MANDIR)/man1 $(MANDIR)/man5 $(MANDIR)/man8 $(DOCDIR)
	install -m 0644 $(OUTPUT)/man/jitctl.1 $(MANDIR)/man1/jitctl.1
	install -m 0644 $(OUTPUT)/man/jitd.policy.5 $(MANDIR)/man5/jitd.policy.5
	install -m 0644 $(OUTPUT)/man/jitd.8 $(MANDIR)/man8/jitd.8
	install -m 0644 $(DOC_FILES) $(DOCDIR)/
	install -d $(BASH_COMPDIR) $(ZSH_COMPDIR)
	install -m 0644 dist/completion/jitctl.bash $(BASH_COMPDIR)/jitctl
	install -m 0644 dist/completion/_jitctl $(ZSH_COMPDIR)/_jitctl
	install -d $(DOCDIR)/examples
	install -m 0644 dist/policy.example.json $(DOCDIR)/examples/policy.example.json

# What install installs, and nothing else: directories only when jitd's own and empty (a
# policy left in /etc/jitd/policy.d keeps it). Enforcement pinned in the kernel, the state
# directory and the audit file are not touched: `jitd --unload` ends enforcement.
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/jitd $(DESTDIR)$(PREFIX)/bin/jitctl \
		$(DESTDIR)/lib/systemd/system/jitd.service $(DESTDIR)/etc/logrotate.d/jitd \
		$(addprefix $(DESTDIR)$(PREFIX)/share/jitd/fleet/,$(FLEET_SQL)) \
		$(MANDIR)/man1/jitctl.1 $(MANDIR)/man5/jitd.policy.5 $(MANDIR)/man8/jitd.8 \
		$(addprefix $(DOCDIR)/,$(notdir $(DOC_FILES))) $(DOCDIR)/examples/policy.example.json \
		$(BASH_COMPDIR)/jitctl $(ZSH_COMPDIR)/_jitctl
	for d in $(DESTDIR)$(PREFIX)/share/jitd/fleet $(DESTDIR)$(PREFIX)/share/jitd \
		$(DOCDIR)/examples $(DOCDIR) \
		$(DESTDIR)/etc/jitd/policy.d $(DESTDIR)/etc/jitd; do \
		[ ! -d "$$d" ] || rmdir --ignore-fail-on-non-empty "$$d" || exit 1; \
	done

# The Debian package (debian/; debian/README.Debian says what it does) into
# $(OUTPUT)/jitd_VERSION_ARCH.deb. dpkg-buildpackage writes its results beside the source
# directory and builds in the tree's build/, so it runs on a copy of the tree (the files git
# tracks or would track) in $(OUTPUT)/deb/jitd; the other results (.changes, .buildinfo, the
# debug symbols package) stay in $(OUTPUT)/deb. The changelog's upstream version must be
# JITD_VERSION (agent/core.h), what `jitd --version` says. DEB_VERSION=V: the package is
# version V instead (an entry added to the copy's changelog; the VM's upgrade test).
# dpkg-buildpackage gets none of this make's variables (MAKEFLAGS): an OUTPUT given here
# would send the copy's build into this tree's build directory (command-line variables are
# also exported).
deb:
	$(Q)v='$(DEB_VERSION)' && v=$${v:-$$(dpkg-parsechangelog -S Version)} && h=$$(sed -n 's/^#define JITD_VERSION "\(.*\)"$$/\1/p' \
		agent/core.h) && [ "$${v%-*}" = "$$h" ] || { echo "deb: debian/changelog says" \
		"$$v, agent/core.h JITD_VERSION $$h" >&2; exit 1; }
	$(Q)rm -rf $(OUTPUT)/deb $(OUTPUT)/jitd_*.deb
	$(Q)mkdir -p $(OUTPUT)/deb/jitd
	$(Q)git ls-files -z -c -o --exclude-standard | \
		tar -c --null --ignore-failed-read -T - | tar -x -C $(OUTPUT)/deb/jitd
	$(Q)[ -z "$(DEB_VERSION)" ] || { cd $(OUTPUT)/deb/jitd && \
		printf 'jitd (%s) unstable; urgency=medium\n\n  * make deb DEB_VERSION=%s\n\n -- %s  %s\n\n' \
		'$(DEB_VERSION)' '$(DEB_VERSION)' "$$(dpkg-parsechangelog -S Maintainer)" "$$(date -R)" | \
		cat - debian/changelog >debian/changelog.new && mv debian/changelog.new debian/changelog; }
	$(call msg,DEB,$(OUTPUT)/deb/jitd)
	$(Q)(cd $(OUTPUT)/deb/jitd && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u OUTPUT -u PREFIX -u DESTDIR \
		dpkg-buildpackage -us -uc -b -Jauto) $(if $(Q),>$(OUTPUT)/deb/build.log 2>&1) || \
		{ $(if $(Q),tail -n 30 $(OUTPUT)/deb/build.log >&2;) echo "deb: dpkg-buildpackage" \
		"failed$(if $(Q), (log: $(OUTPUT)/deb/build.log))" >&2; exit 1; }
	$(Q)mv $(OUTPUT)/deb/jitd_*.deb $(OUTPUT)/
	$(Q)ls $(OUTPUT)/jitd_*.deb

FORMAT_SRCS := $(wildcard bpf/*.c lib/*.c lib/*.h agent/*.c agent/*.h cli/*.c cli/*.h include/*.h tests/*.[ch] \
	tests/*/*.c tests/*/*.h)
format:
	clang-format -i $(FORMAT_SRCS)

# The same files against .clang-format without changing them: fails when one would change.
format-check:
	$(Q)clang-format --dry-run --Werror $(FORMAT_SRCS) || \
		{ echo "format-check: run 'make format'" >&2; exit 1; }

clean:
	rm -rf $(OUTPUT)/obj $(OUTPUT)/tests $(OUTPUT)/asan $(OUTPUT)/fuzz $(OUTPUT)/*.o \
		$(OUTPUT)/*.skel.h $(OUTPUT)/jitd $(OUTPUT)/jitctl $(OUTPUT)/man

# Keep the sanitizer builds' objects (make would delete them as intermediate files).
.SECONDARY: $(ASAN_COMMON_OBJS) $(FUZZ_COMMON_OBJS) \
	$(patsubst %.c,$(OUTPUT)/asan/obj/%.o,$(HOST_AGENT_SRCS)) $(OUTPUT)/obj/tests/host_agent.o \
	$(foreach f,$(FUZZ_SRCS),$(call fuzz_objs,$(patsubst tests/fuzz/fuzz_%.c,%,$(f))))

-include $(wildcard $(OUTPUT)/obj/*/*.d $(OUTPUT)/obj/*/*/*.d $(OUTPUT)/tests/*.d $(OUTPUT)/asan/obj/*/*.d \
	$(OUTPUT)/asan/tests/*.d $(OUTPUT)/fuzz/obj/*/*.d $(OUTPUT)/fuzz/obj/*/*/*.d $(OUTPUT)/fuzz/*.d)
