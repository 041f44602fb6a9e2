#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh BUILD_DIR MODE      (MODE: tests | systemd | bench | demo | smoke)
#
# Build an initramfs (busybox-static, jitd, jitctl, the test programs and the shared
# libraries they need) and boot Debian kernels of BUILD_DIR/kernels/list under qemu (TCG),
# where /init runs /tests/MODE.sh. The serial console streams to the terminal and to
# BUILD_DIR/vm/<kernel>-<mode>.log. Which kernels: tests boots all four (5.10, 6.1, 6.12,
# 7.2); systemd and demo boot bookworm's 6.1 and 6.12 only, the kernels of the Debian 12
# hosts they stand for (and a systemd boot is slow); bench boots 6.12 (BENCH_KERNEL) twice,
# on 1 and on 2 vCPUs (logs BUILD_DIR/vm/<kernel>-bench-smpN.log), with a source tarball and
# the host's C compiler in the image for its macro workload, and ends with the 1-vCPU boot's
# ratio line.
#
# systemd: the initramfs is instead the Debian root of BUILD_DIR/vm/sysroot (tests/vm/
# sysroot.sh) with jitd installed by `make install`; systemd is PID 1 and the unit
# jitd-vmtest.service runs /tests/systemd.sh. Results are read as for tests.
#
# deb: the same Debian root without jitd, and in /tests/debs the package `make deb` builds
# (BUILD_DIR/jitd_*.deb, built here) and a second one of a higher version built from the same
# tree in another directory (so another build of the BPF object: an upgrade that swaps
# programs); /tests/deb.sh installs, upgrades and purges them (6.1 and 6.12).
#
# tests, systemd: every "PASS name" / "FAIL name: why" / "SKIP name" line of the VM comes out as
# "PASS [6.1.0-56] name"; a VM that does not boot or does not finish is a FAIL, never a
# silent skip. Exit status is non-zero when anything failed.
#
# What a part asks of its VMs, in a line "# jitd-vm: WORD..." of its script (busybox modes):
#   net   qemu's user network, set up by /init: eth0 10.0.2.15/24, default route and the
#         host's loopback at 10.0.2.2 (HOST_ADDR in lib.sh). Each VM has a network of its own
#         and only connects out: no host port is taken, two VMs may run at once. Parts
#         without it boot as before (no card, no modules, no "jitd.net=1").
#   vms=N N VMs of the part side by side on each kernel, jitd.vm=1..N on their command line
#         (kparam in lib.sh), logs BUILD_DIR/vm/<kernel>-<mode>-vmI.log, results tagged
#         "[6.1.0-56/vmI]".
# A service on the host's loopback for a part's VMs is started below (start_services); its
# port goes to them on the command line.
#
# Environment: VM_TIMEOUT (seconds per boot; default 900), VM_MEM (MiB, default 1024),
# VM_SMP (default 1; bench: the vCPU counts to boot, default "1 2"; then BENCH_ICOUNT, default
# 1: one more boot on one vCPU counting instructions, 0: not, only: that boot alone), BENCH_KERNEL (start of
# the kernel version to benchmark on; default "6.12."; also the load mode's), BENCH_ROUNDS
# (the bench's rounds, default bench.c's), LOAD_RATES, LOAD_SECONDS and LOAD_NICE (the load
# mode: tests/vm/load.sh), VM_KERNEL (of the mode's kernels, only boot those whose version starts with
# this, e.g. "6.1." or "5.10"), VM_NET=1 (the network for a mode that does not ask for it),
# VM_QEMU_ARGS (more qemu options for every boot, split on spaces; e.g. "-icount shift=0").
set -uo pipefail

die() {
	echo "run.sh: error: $*" >&2
	exit 1
}

[ $# -eq 2 ] || die "usage: run.sh BUILD_DIR tests|systemd|bench|demo|smoke|PART"
BUILD=$(cd "$1" 2>/dev/null && pwd) || die "no build directory $1"
MODE=$2
# PART: a part of the test suite that boots on its own (tests/vm/PART.sh: guard, revoke and
# usage on every kernel; failpaths, hostile, crashes, seal, alerts, access, breakglass, notify,
# peers on 6.12; bench and peers boot with apparmor in lsm=), judged like tests; make check runs each, and
# the fleet part (every kernel: two VMs are two jitd hosts of one fleet, against a PostgreSQL
# on the host's loopback; start_fleet_db). The net part (every kernel: two VMs with the
# network reach a server on the host's loopback) is the rig's own check, not in make check.
JUDGED=1
case "$MODE" in
tests | systemd | smoke) ;;
bench | demo | load | scale) JUDGED=0 ;;
kernels | run | init | sysroot | lib | systemd-* | deb-* | *-host | *[!a-z0-9_-]*)
	die "unknown mode '$MODE' (tests, systemd, bench, demo, smoke or a part: tests/vm/PART.sh)" ;;
*) [ -f "$(dirname "$0")/$MODE.sh" ] ||
	die "unknown mode '$MODE' (tests, systemd, bench, demo, smoke or a part: tests/vm/PART.sh)" ;;
esac

SRC=$(cd "$(dirname "$0")/../.." && pwd)
# Modes whose VM is the Debian root with systemd as PID 1 (build_systemd_root).
SYSTEMD_ROOT=0
case "$MODE" in systemd | deb) SYSTEMD_ROOT=1 ;; esac
VMDIR="$BUILD/vm"
ROOT="$VMDIR/root-$MODE" # per mode: a demo and a test run may build side by side
INITRD="$VMDIR/initramfs-$MODE.cpio"
# A tests boot takes 6 to 10 minutes under TCG here (jitd loads several times, each a verifier
# run); the bound only has to stop a hung VM.
case "$MODE" in
bench) TIMEOUT=${VM_TIMEOUT:-1200} ;; # per boot (one per vCPU count)
load) TIMEOUT=${VM_TIMEOUT:-2400} ;; # make bench-load: five 60 s steps and their drain
scale) TIMEOUT=${VM_TIMEOUT:-3000} ;; # 100,000 paths and grants under TCG
tests) TIMEOUT=${VM_TIMEOUT:-1500} ;;
*) TIMEOUT=${VM_TIMEOUT:-900} ;;
esac
MEM=${VM_MEM:-1024}
[ "$MODE" = scale ] && MEM=${VM_MEM:-3072} # the scale part's grants, policy and state files
SMP=${VM_SMP:-1}

for tool in qemu-system-x86_64 cpio gzip zstd ldd timeout; do
	command -v "$tool" >/dev/null || die "'$tool' not found (run 'make deps')"
done
BUSYBOX=""
for b in /bin/busybox /usr/bin/busybox; do
	if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then
		BUSYBOX=$b
		break
	fi
done
[ -n "$BUSYBOX" ] || die "no static busybox (apt-get install busybox-static, or 'make deps')"
[ -s "$BUILD/kernels/list" ] || die "no $BUILD/kernels/list (run 'make kernels')"

need=("$BUILD/tests/probe" "$BUILD/tests/nop" "$BUILD/jitd" "$BUILD/jitctl")
[ "$MODE" = bench ] && need+=("$BUILD/tests/bench")
[ "$MODE" = load ] && need+=("$BUILD/tests/loadgen")
[ "$MODE" = scale ] && need+=("$BUILD/tests/scale")
for f in "${need[@]}"; do
	[ -x "$f" ] || die "$f is missing (run 'make')"
done

# The script /init runs: ours (tests/vm/MODE.sh) or the benchmark's own.
MODE_SCRIPT=""
for s in "$SRC/tests/vm/$MODE.sh" "$SRC/tests/$MODE/$MODE.sh"; do
	if [ -f "$s" ]; then
		MODE_SCRIPT=$s
		break
	fi
done
[ -n "$MODE_SCRIPT" ] || die "no script for mode $MODE (tests/vm/$MODE.sh or tests/$MODE/$MODE.sh)"

# What the part asks of its VMs (its "# jitd-vm:" line; see the top).
NET=${VM_NET:-0}
VMS=1
read -ra words <<<"$(sed -n 's/^# jitd-vm://p' "$MODE_SCRIPT" | tr '\n' ' ')"
for word in "${words[@]}"; do
	case "$word" in
	net) NET=1 ;;
	vms=[1-9]) VMS=${word#vms=} ;;
	*) die "$MODE_SCRIPT: unknown word '$word' in its '# jitd-vm:' line (net, vms=1..9)" ;;
	esac
done
[ "$NET" = 0 ] || [ "$SYSTEMD_ROOT" = 0 ] || die "no network for the $MODE mode (busybox modes only)"

# ---------------------------------------------------------------- initramfs
TEST_PASSWD='alice:x:1001:1001:Alice:/home/alice:/bin/sh
bob:x:1002:1002:Bob:/home/bob:/bin/sh
carol:x:1003:1003:Carol:/home/carol:/bin/sh
jnotify:x:1010:1010:jitd notifications:/nonexistent:/bin/sh'
TEST_GROUP='alice:x:1001:
bob:x:1002:
carol:x:1003:
dba:x:2001:alice
sre:x:2002:carol
jit-admins:x:2003:carol
jnotify:x:1010:'

# install_tests ROOT: the test programs, scripts, policies and test units under ROOT/tests,
# the test users' homes, and the mode in ROOT/tests/mode.
install_tests() {
	local root=$1 s j
	mkdir -p "$root"/{tests,srv,opt/bin,home/alice,home/bob,home/carol}
	install -m 0755 "$BUILD/tests/probe" "$root/tests/probe"
	install -m 0755 "$BUILD/tests/nop" "$root/tests/nop"
	install -m 0755 "$BUILD/tests/flood" "$root/tests/flood"
	[ ! -x "$BUILD/tests/loadgen" ] || install -m 0755 "$BUILD/tests/loadgen" "$root/tests/loadgen"
	for s in "$SRC"/tests/vm/*.sh; do
		case "$(basename "$s")" in
		kernels.sh | run.sh | init.sh | sysroot.sh) ;;
		*) install -m 0755 "$s" "$root/tests/$(basename "$s")" ;;
		esac
	done
	install -m 0755 "$MODE_SCRIPT" "$root/tests/$MODE.sh"
	for j in "$SRC"/tests/vm/*.json; do
		install -m 0644 "$j" "$root/tests/$(basename "$j")"
	done
	echo "$MODE" >"$root/tests/mode"
}

# pack ROOT OWNERS COMPRESSOR...: ROOT as a newc cpio through COMPRESSOR into $INITRD.
# OWNERS: "root" makes every file root's, "keep" keeps the owners of ROOT.
pack() {
	local root=$1 owners=()
	[ "$2" = root ] && owners=(-R 0:0)
	shift 2
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc "${owners[@]}" --quiet | "$@") \
		>"$INITRD.tmp" || die "cpio/$1 of $root failed"
	mv "$INITRD.tmp" "$INITRD"
}

# install_modules ROOT: the modules tests/vm/kernels.sh kept of every kernel of the list
# (overlayfs, SCTP and what they depend on, uncompressed) in ROOT/lib/modules/VERSION/jitd/
# with their load order in "order", and with the network (NET) those of the network card in
# "order-net": the one initramfs boots every kernel, and /init loads those of the kernel it
# runs on.
install_modules() {
	local root=$1 ver path mods m list lists=(order)
	[ "$NET" = 0 ] || lists+=(order-net)
	while read -r ver path; do
		[ -n "$ver" ] || continue
		mods="$(dirname "$path")/modules"
		mkdir -p "$root/lib/modules/$ver/jitd" || die "cannot make $root/lib/modules/$ver/jitd"
		for list in "${lists[@]}"; do
			[ -s "$mods/$list" ] || die "no modules of $ver in $mods/$list (run 'make kernels')"
			while read -r m; do
				[ -n "$m" ] || continue
				install -m 0644 "$mods/$m" "$root/lib/modules/$ver/jitd/$m" ||
					die "cannot copy the module $mods/$m (run 'make kernels')"
			done <"$mods/$list"
			install -m 0644 "$mods/$list" "$root/lib/modules/$ver/jitd/$list" ||
				die "cannot copy $mods/$list"
		done
	done <"$BUILD/kernels/list"
}

# install_peers: into $ROOT, apparmor_parser and fapolicyd as make deps unpacked them into
# $BUILD/peers (never installed on the host), the magic files fapolicyd's libmagic loads, and
# build/tests/peers_check; PEERS_DYN: what needs libraries.
install_peers() {
	local peers=$BUILD/peers parser fapd f
	parser=$peers/sbin/apparmor_parser
	fapd=$peers/usr/sbin/fapolicyd
	[ -x "$parser" ] || die "no $parser for the $MODE mode (run 'make deps': it unpacks Debian's apparmor there)"
	[ -x "$fapd" ] || die "no $fapd for the $MODE mode (run 'make deps': it unpacks Debian's fapolicyd there)"
	[ -x "$BUILD/tests/peers_check" ] || die "$BUILD/tests/peers_check is missing (run 'make')"
	install -m 0755 "$parser" "$ROOT/usr/sbin/apparmor_parser"
	install -m 0755 "$fapd" "$ROOT/usr/sbin/fapolicyd"
	install -m 0755 "$BUILD/tests/peers_check" "$ROOT/tests/peers_check"
	mkdir -p "$ROOT/usr/share/fapolicyd" "$ROOT/usr/share/misc"
	cp "$peers/usr/share/fapolicyd/fapolicyd-magic.mgc" "$ROOT/usr/share/fapolicyd/" ||
		die "no fapolicyd-magic.mgc in $peers (run 'make deps')"
	f=/usr/share/misc/magic.mgc
	[ -f "$f" ] || die "no $f (package libmagic-mgc: run 'make deps')"
	cp -L "$f" "$ROOT$f" || die "cannot copy $f"
	PEERS_DYN=("$parser" "$fapd" "$BUILD/tests/peers_check")
}

# install_bench_src ROOT: the bench's macro workload's source tree, ROOT/tests/src.tar: this
# tree's lib, agent, bpf, cli and include, 30 copies (about 2,200 files, 31 MB).
install_bench_src() {
	local stage="$VMDIR/bench-src" i
	rm -rf "$stage"
	for i in $(seq 30); do
		mkdir -p "$stage/src/copy$i"
		cp -r "$SRC"/{lib,agent,bpf,cli,include} "$stage/src/copy$i/" || die "cannot stage the bench's sources"
	done
	tar -cf "$1/tests/src.tar" -C "$stage" src || die "cannot make $1/tests/src.tar"
	rm -rf "$stage"
}

# install_compiler ROOT: the host's C compiler as /usr/bin/cc in ROOT, with exactly the
# programs, headers, start files and libraries it uses to build the bench's hello.c (cc -M
# and -v -Wl,-t name them); CC_DYN: the executables whose shared libraries ROOT needs. Returns 1
# (the bench then says it has no compiler) when there is none to copy.
CC_DYN=()
install_compiler() {
	local root=$1 tmp="$VMDIR/cc-probe" driver f files
	driver=$(readlink -f "$(command -v cc)" 2>/dev/null) || return 1
	mkdir -p "$tmp"
	cat >"$tmp/hello.c" <<-'EOC'
		#include <stdio.h>
		#include <string.h>
		int main(int argc, char **argv) { printf("%zu\n", strlen(argv[0])); return 0; }
	EOC
	if ! cc -O1 -v -Wl,-t -o "$tmp/hello" "$tmp/hello.c" >"$tmp/log" 2>&1; then
		echo "run.sh: no compiler for the bench's macro workload (cc failed: $tmp/log)" >&2
		return 1
	fi
	files=$( {
		cc -O1 -M "$tmp/hello.c" | sed 's/ /\n/g' | grep '^/'	# headers
		grep '^/' "$tmp/log" | grep -v ' '	# linker inputs (-t)
		for f in cc1 collect2 liblto_plugin.so lto-wrapper; do
			cc -print-prog-name=$f
		done
		cc -print-file-name=liblto_plugin.so
	} | grep -v "^$tmp" | sort -u)
	for f in $files; do
		[ -f "$f" ] || continue
		f=$(realpath -s "$f")
		mkdir -p "$root$(dirname "$f")"
		cp -L "$f" "$root$f" || die "cannot copy $f"
	done
	install -m 0755 "$driver" "$root/usr/bin/cc"
	install -m 0755 "$(readlink -f "$(command -v as)")" "$root/usr/bin/as"
	install -m 0755 "$(readlink -f "$(command -v ld)")" "$root/usr/bin/ld"
	CC_DYN=("$driver" "$(readlink -f "$(command -v as)")" "$(readlink -f "$(command -v ld)")"
		"$(cc -print-prog-name=cc1)" "$(cc -print-prog-name=collect2)"
		"$(cc -print-file-name=liblto_plugin.so)")
	rm -rf "$tmp"
}

# The busybox initramfs of the tests, bench and demo modes.
build_busybox_root() {
	rm -rf "$ROOT"
	mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root}
	mkdir -p "$ROOT"/{var/lib/jitd,var/log/jitd}
	chmod 1777 "$ROOT/tmp"

	cp "$BUSYBOX" "$ROOT/bin/busybox"
	local applet
	for applet in $("$BUSYBOX" --list-full); do
		[ -e "$ROOT/$applet" ] || ln -s /bin/busybox "$ROOT/$applet"
	done
	[ -e "$ROOT/bin/sh" ] || ln -s /bin/busybox "$ROOT/bin/sh"

	install_tests "$ROOT"
	install -m 0755 "$BUILD/jitd" "$ROOT/usr/sbin/jitd"
	install -m 0755 "$BUILD/jitctl" "$ROOT/usr/bin/jitctl"
	local dyn=("$BUILD/jitd" "$BUILD/jitctl")
	if [ "$MODE" = load ] && [ -x "$BUILD/tests/audit_bench" ]; then
		install -m 0755 "$BUILD/tests/audit_bench" "$ROOT/tests/audit_bench"
		dyn+=("$BUILD/tests/audit_bench")
	fi
	if [ -x "$BUILD/tests/bench" ]; then
		install -m 0755 "$BUILD/tests/bench" "$ROOT/tests/bench"
		dyn+=("$BUILD/tests/bench")
	fi
	if [ "$MODE" = scale ]; then
		install -m 0755 "$BUILD/tests/scale" "$ROOT/tests/scale"
		dyn+=("$BUILD/tests/scale")
		# its sizes (SCALE_GRANTS, SCALE_BUDGET, SCALE_BIG, SCALE_OPENS; see scale.sh)
		env | grep '^SCALE_[A-Z]*=[0-9]*$' >"$ROOT/tests/scale.env"
	fi

	# the peers the bench measures beside jitd (tests/bench/peers.c): Debian's apparmor_parser
	# and fapolicyd, with what they read at start, and their check (the peers part, the bench)
	if [ "$MODE" = bench ] || [ "$MODE" = peers ]; then
		install_peers
		dyn+=("${PEERS_DYN[@]}")
	fi
	if [ "$MODE" = bench ]; then
		install_bench_src "$ROOT"
		install_compiler "$ROOT" && dyn+=("${CC_DYN[@]}")
	fi

	# the notify part: its HTTP target is curl posting the event, as an operator's would be
	if [ "$MODE" = notify ]; then
		local curl
		curl=$(command -v curl) || die "no curl for the notify part (apt-get install curl, or 'make deps')"
		install -m 0755 "$curl" "$ROOT/usr/bin/curl"
		dyn+=("$curl")
	fi

	# libpq: jitd and jitctl load it in fleet mode only (lib/pqdl.c), so ldd does not list it
	local pq
	pq=$(ldconfig -p | awk '$1 == "libpq.so.5" && $NF ~ /^\// { print $NF; exit }')
	[ -n "$pq" ] || die "no libpq.so.5 for fleet mode (apt-get install libpq5, or 'make deps')"
	dyn+=("$pq")

	# Shared libraries at the exact paths ldd resolves them to, plus the loader.
	local lib
	for lib in "$pq" $(ldd "${dyn[@]}" 2>/dev/null | awk '
		$2 == "=>" && $3 ~ /^\// { print $3 }
		$1 ~ /^\// && $2 ~ /^\(/ { print $1 }' | sort -u); do
		mkdir -p "$ROOT$(dirname "$lib")"
		cp -L "$lib" "$ROOT$lib" || die "cannot copy $lib"
	done
	if ldd "${dyn[@]}" 2>/dev/null | grep -q 'not found'; then
		die "missing shared libraries: $(ldd "${dyn[@]}" | grep 'not found' | sort -u | tr '\n' ' ')"
	fi

	printf 'root:x:0:0:root:/root:/bin/sh\n%s\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
		"$TEST_PASSWD" >"$ROOT/etc/passwd"
	printf 'root:x:0:\n%s\nnogroup:x:65534:\n' "$TEST_GROUP" >"$ROOT/etc/group"
	printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' >"$ROOT/etc/nsswitch.conf"
	printf '127.0.0.1 localhost\n::1 localhost\n' >"$ROOT/etc/hosts"
	install -m 0755 "$SRC/tests/vm/init.sh" "$ROOT/init"
	install_modules "$ROOT"

	# The kernel opens /dev/console for /init before anything is mounted.
	mknod -m 600 "$ROOT/dev/console" c 5 1 2>/dev/null || true
	mknod -m 666 "$ROOT/dev/null" c 1 3 2>/dev/null || true
	# Every file is root's in the archive; /init hands the homes to their users.
	pack "$ROOT" root gzip -1
}

# install_debs ROOT: the deb mode's two packages in ROOT/tests/debs: jitd-1.deb from `make
# deb`, jitd-2.deb of the version after it (DEB_VERSION) built in BUILD_DIR/vm/deb-upgrade.
install_debs() {
	local root=$1 up="$VMDIR/deb-upgrade" base v
	make -s -C "$SRC" deb OUTPUT="$BUILD" >&2 || die "make deb failed"
	base=$(ls "$BUILD"/jitd_*.deb) || die "no $BUILD/jitd_*.deb after make deb"
	v=$(dpkg-deb -f "$base" Version)
	make -s -C "$SRC" deb OUTPUT="$up" DEB_VERSION="$v+vmupgrade1" >&2 ||
		die "make deb DEB_VERSION=$v+vmupgrade1 failed"
	mkdir -p "$root/tests/debs"
	cp "$base" "$root/tests/debs/jitd-1.deb" &&
		cp "$up/jitd_$v+vmupgrade1_"*.deb "$root/tests/debs/jitd-2.deb" ||
		die "cannot copy the packages into $root/tests/debs"
}

# The Debian root with systemd (systemd and deb modes): jitd, jitctl, the unit and the
# logrotate config come from `make install`, as on a real host, or (deb) from the package
# the VM installs.
build_systemd_root() {
	local sys="$VMDIR/sysroot" u
	[ -f "$sys/.jitd-sysroot" ] || die "no Debian root in $sys (run 'make sysroot')"
	rm -rf "$ROOT"
	# its contents: BUILD_DIR/vm/sysroot may be a link to another tree's, never written
	mkdir -p "$ROOT" && cp -a "$sys/." "$ROOT/" || die "cannot copy $sys"
	if [ "$MODE" = deb ]; then
		install_debs "$ROOT"
	else
		make -s -C "$SRC" install DESTDIR="$ROOT" PREFIX=/usr/local OUTPUT="$BUILD" >&2 ||
			die "make install DESTDIR=$ROOT failed"
		if chroot "$ROOT" ldd /usr/local/sbin/jitd /usr/local/bin/jitctl | grep 'not found'; then
			die "jitd or jitctl lacks shared libraries in $sys (the package list of tests/vm/sysroot.sh)"
		fi
	fi
	install_tests "$ROOT"
	printf '%s\n' "$TEST_PASSWD" >>"$ROOT/etc/passwd"
	printf '%s\n' "$TEST_GROUP" >>"$ROOT/etc/group"
	printf 'alice:*:20000:0:99999:7:::\nbob:*:20000:0:99999:7:::\ncarol:*:20000:0:99999:7:::\n' \
		>>"$ROOT/etc/shadow"
	chown 1001:1001 "$ROOT/home/alice"
	chown 1002:1002 "$ROOT/home/bob"
	chown 1003:1003 "$ROOT/home/carol"
	echo jitd-vm >"$ROOT/etc/hostname"
	for u in "$SRC"/tests/vm/units/*; do
		install -m 0644 "$u" "$ROOT/etc/systemd/system/$(basename "$u")"
	done
	# console=ttyS0 would start a getty there, waiting for a device unit no udev announces
	ln -sf /dev/null "$ROOT/etc/systemd/system/serial-getty@ttyS0.service"
	ln -sf /etc/systemd/system/jitd-vmtest.service \
		"$ROOT/etc/systemd/system/multi-user.target.wants/jitd-vmtest.service"
	[ "$MODE" = systemd ] || { pack "$ROOT" keep zstd -q -3 -T0; return; } # deb: the package
	# jitd enabled as on a host (`systemctl enable jitd`), with the test policy and the files
	# it protects in place from the start: the tests check that it was enforcing before the
	# first login (jitd-vm-login.service), and the persistent disk is mounted before it.
	mkdir -p "$ROOT/etc/systemd/system/sysinit.target.wants" "$ROOT/etc/systemd/system/local-fs.target.wants"
	ln -sf /lib/systemd/system/jitd.service "$ROOT/etc/systemd/system/sysinit.target.wants/jitd.service"
	ln -sf /etc/systemd/system/jitd-vm-persist.service \
		"$ROOT/etc/systemd/system/local-fs.target.wants/jitd-vm-persist.service"
	ln -sf /etc/systemd/system/jitd-vm-login.service \
		"$ROOT/etc/systemd/system/multi-user.target.wants/jitd-vm-login.service"
	install -m 0644 "$SRC/tests/vm/policy-workflow.json" "$ROOT/etc/jitd/policy.d/50-test.json"
	mkdir -p "$ROOT/srv/vault/sd"
	echo secret >"$ROOT/srv/secret.txt"
	echo vault >"$ROOT/srv/vault/sd/f.txt"
	echo public >"$ROOT/srv/public.txt"
	chmod 755 "$ROOT/srv" "$ROOT/srv/vault" "$ROOT/srv/vault/sd"
	chmod 644 "$ROOT/srv/secret.txt" "$ROOT/srv/vault/sd/f.txt" "$ROOT/srv/public.txt"
	pack "$ROOT" keep zstd -q -3 -T0
}

mkdir -p "$VMDIR"
if [ "$SYSTEMD_ROOT" = 1 ]; then
	build_systemd_root
	# QEMU 7.2's NVMe under TCG now and then loses a command of a burst (seen on 6.1 in
	# ext4's journal replay after the crash): a short queue, and a short timeout after
	# which the driver aborts and retries.
	APPEND="rdinit=/lib/systemd/systemd systemd.show_status=error nvme.io_queue_depth=16 nvme_core.io_timeout=5"
else
	build_busybox_root
	APPEND=""
fi
# the bench's rounds, for tests/bench/bench.sh
[ "$MODE" != bench ] || [ -z "${BENCH_ROUNDS:-}" ] || APPEND+=" jitd.rounds=$BENCH_ROUNDS"
# The network card, on qemu's user network (slirp: a network per VM; the guest's connections
# to 10.0.2.2 go to the host's 127.0.0.1). No option ROM: the kernel is booted directly.
NET_QEMU=()
if [ "$NET" = 1 ]; then
	APPEND+=" jitd.net=1"
	NET_QEMU=(-netdev "user,id=n0" -device "virtio-net-pci,netdev=n0,romfile=")
fi
# The load benchmark's steps (make bench-load; tests/vm/load.sh): LOAD_RATES "5000,10000",
# LOAD_SECONDS per step, LOAD_NICE jitd's nice value, LOAD_ALLOW_RATES the allowed phase's.
[ "$MODE" != load ] ||
	APPEND+=" jitd.loadrates=${LOAD_RATES:-} jitd.loadsecs=${LOAD_SECONDS:-} jitd.loadnice=${LOAD_NICE:-}"
[ "$MODE" != load ] || APPEND+=" jitd.loadallow=${LOAD_ALLOW_RATES:-}"

# ---------------------------------------------------------------- host services
# start_services: what a part's VMs reach on the host's loopback, started once for all its
# boots, stopped at exit; each tells its VMs where it is by words added to APPEND.
SERVICE_PIDS=()
FLEET_PGDIR="" # the fleet part's PostgreSQL servers, stopped at exit
stop_services() {
	[ ${#SERVICE_PIDS[@]} = 0 ] || kill "${SERVICE_PIDS[@]}" 2>/dev/null
	[ -z "$FLEET_PGDIR" ] || "$SRC/tests/fleet/pg.sh" stop-all "$FLEET_PGDIR" >/dev/null 2>&1
}
trap stop_services EXIT

# start_pyserver NAME WHAT SCRIPT ARGS...: start tests/vm/SCRIPT (which writes the port it
# listens on to the file given as its last argument) and set PORT; dies naming WHAT when it
# does not come up within 5 s.
start_pyserver() {
	local name=$1 what=$2 script=$3 portfile="$VMDIR/$MODE-$1.port" i
	shift 3
	command -v python3 >/dev/null || die "'python3' not found ($what)"
	rm -f "$portfile"
	python3 "$SRC/tests/vm/$script" "$@" "$portfile" 2>"$VMDIR/$MODE-$name.log" &
	SERVICE_PIDS+=($!)
	for i in $(seq 50); do
		[ -s "$portfile" ] && break
		kill -0 "$!" 2>/dev/null || break
		sleep 0.1
	done
	PORT=$(cat "$portfile" 2>/dev/null)
	[ -n "$PORT" ] || die "$what did not start: $(cat "$VMDIR/$MODE-$name.log")"
}

# start_lineserver: the net part's line server (tests/vm/lineserver.py) on a port of the
# kernel's choosing, with a token of this run that the VMs must read back.
start_lineserver() {
	local token
	token=$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
	start_pyserver lineserver "the line server" lineserver.py "$VMS" "$token"
	echo "run.sh: line server on 127.0.0.1:$PORT (log: $VMDIR/$MODE-lineserver.log)"
	APPEND+=" jitd.netport=$PORT jitd.nettoken=$token"
}

# start_timeserver: the host's clock for the fleet part's VMs (tests/vm/timeserver.py), its
# port to them as jitd.timeport.
start_timeserver() {
	start_pyserver timeserver "the time server" timeserver.py
	APPEND+=" jitd.timeport=$PORT"
}

# fleet_sql SQL: run SQL on the fleet database as its superuser ($FLEET_SU).
fleet_sql() {
	psql -X -qAt -v ON_ERROR_STOP=1 -d "$FLEET_SU" -c "$1"
}

# fleet_watch: the fleet part's host side while its VMs run (in the background). Follows the
# logs of each kernel's two VMs: when a kernel's VMs start, the server runs and no request of
# an earlier kernel is still open (a kernel that failed half-way leaves one); when both VMs
# of the kernel printed "fleet-phase db-stop", the server stops (the VMs then check what
# holds without it); when both printed "fleet-phase db-resume", it starts again.
fleet_watch() {
	local pg="$SRC/tests/fleet/pg.sh" log1 log2 k seen=" " stopped=" " resumed=" " down=0 t0
	while kill -0 $$ 2>/dev/null; do
		for log1 in "$VMDIR"/*-fleet-vm1.log; do
			[ -f "$log1" ] || continue
			k=${log1##*/}
			k=${k%-fleet-vm1.log}
			log2="$VMDIR/$k-fleet-vm2.log"
			if [[ $seen != *" $k "* ]]; then
				seen+="$k "
				if [ $down = 1 ]; then
					"$pg" resume "$FLEET_PGDIR" primary >/dev/null && down=0
					echo "run.sh: fleet: database started again for the VMs of $k"
				fi
				fleet_sql "INSERT INTO jitd.actions (request_id, action, by_user, by_uid, reason)
					SELECT id, 'revoke', 'run.sh', 0, 'before the VMs of $k' FROM jitd.requests
					WHERE (state = 'pending' AND pending_until > now())
					   OR (state = 'active' AND expires_at > now())" ||
					echo "run.sh: fleet: FAILED to end the open requests before $k"
			fi
			if [[ $stopped != *" $k "* ]] && grep -q 'fleet-phase db-stop' "$log1" &&
				grep -q 'fleet-phase db-stop' "$log2" 2>/dev/null; then
				stopped+="$k "
				echo "run.sh: fleet: both VMs of $k ask for the outage; the hosts as the database sees them:"
				"$BUILD/jitctl" fleet hosts --db "$FLEET_ADMIN" 2>&1 | sed 's/^/run.sh: fleet:   /'
				t0=$(date +%s.%N)
				"$pg" stop "$FLEET_PGDIR" primary && down=1
				echo "run.sh: fleet: database stopped for $k in" \
					"$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')s"
			fi
			if [ $down = 1 ] && [[ $resumed != *" $k "* ]] &&
				grep -q 'fleet-phase db-resume' "$log1" &&
				grep -q 'fleet-phase db-resume' "$log2" 2>/dev/null; then
				resumed+="$k "
				"$pg" resume "$FLEET_PGDIR" primary >/dev/null && down=0
				echo "run.sh: fleet: database started again for $k"
			fi
		done
		sleep 0.2
	done
}

# start_fleet_db: the fleet part's database, a PostgreSQL primary of tests/fleet/pg.sh under
# BUILD/pg-vm on the host's 127.0.0.1: the schema, a login role per VM (vm1, vm2: jitd.vm) and
# an admin role fadmin with one random password, and tests/vm/fleet-policy.json pushed by the
# admin. The VMs get the port and the password on the command line (jitd.fleetport,
# jitd.fleetpw); fleet_watch runs beside them. Anything that fails here stops the run.
start_fleet_db() {
	local pg="$SRC/tests/fleet/pg.sh" pwfile="$VMDIR/fleet.pw" port pw i base
	command -v psql >/dev/null || die "'psql' not found (the fleet part's database; 'make deps')"
	FLEET_PGDIR="$BUILD/pg-vm"
	"$pg" stop-all "$FLEET_PGDIR" >/dev/null 2>&1
	FLEET_SU=$("$pg" start "$FLEET_PGDIR" primary 2>"$VMDIR/fleet-pg.err") ||
		die "PostgreSQL did not start for the fleet part: $(cat "$VMDIR/fleet-pg.err")"
	port=$("$pg" port "$FLEET_PGDIR" primary)
	base="host=127.0.0.1 port=$port dbname=jitd"
	pw=$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
	(umask 077 && echo "$pw" >"$pwfile")
	"$BUILD/jitctl" fleet init --migrations "$SRC/dist/fleet" --db "$FLEET_SU" >/dev/null ||
		die "jitctl fleet init failed on $base"
	for i in $(seq "$VMS"); do
		"$BUILD/jitctl" fleet add-host "vm$i" --password-file "$pwfile" --db "$FLEET_SU" \
			>/dev/null || die "jitctl fleet add-host vm$i failed"
	done
	"$BUILD/jitctl" fleet add-admin fadmin --password-file "$pwfile" --db "$FLEET_SU" >/dev/null ||
		die "jitctl fleet add-admin failed"
	FLEET_ADMIN="$base user=fadmin password=$pw"
	"$BUILD/jitctl" fleet policy push "$SRC/tests/vm/fleet-policy.json" --db "$FLEET_ADMIN" ||
		die "jitctl fleet policy push failed"
	# old logs would hold old markers for the watcher
	rm -f "$VMDIR"/*-fleet-vm[0-9].log
	fleet_watch &
	SERVICE_PIDS+=($!)
	echo "run.sh: fleet database on 127.0.0.1:$port (log: $FLEET_PGDIR/primary.log)"
	APPEND+=" jitd.fleetport=$port jitd.fleetpw=$pw"
}

start_services() {
	case "$MODE" in
	net) start_lineserver ;;
	fleet)
		start_timeserver
		start_fleet_db
		;;
	esac
}
start_services

# ---------------------------------------------------------------- boot
# short_ver VERSION: the tag of a kernel in results and file names.
# 5.10.0-46-cloud-amd64 -> 5.10.0-46, 6.1.0-56-cloud-amd64 -> 6.1.0-56,
# 6.12.117+deb12-cloud-amd64 -> 6.12.117, 7.2.13+deb14-cloud-amd64 -> 7.2.13
short_ver() {
	local v=${1%-cloud-amd64}
	echo "${v%%+*}"
}

# The version prefixes of the kernels this mode boots; none: all of the list.
case "$MODE" in
systemd | deb) MODE_KERNELS="6.1. 6.12." ;;
bench | load | scale) MODE_KERNELS=${BENCH_KERNEL:-6.12.} ;;
demo) MODE_KERNELS=${DEMO_KERNEL:-6.12.} ;; # one kernel: the first of the list that matches
# parts about the agent alone, not the kernel side: one kernel is enough (CI time)
failpaths | hostile | crashes | seal | alerts | access | breakglass | notify | peers) MODE_KERNELS="6.12." ;;
# the others (guard, revoke, usage, fleet, net, tests, smoke): every kernel of the list
*) MODE_KERNELS="" ;;
esac

# in_mode VERSION: whether this mode boots kernel VERSION.
in_mode() {
	local p
	[ -n "$MODE_KERNELS" ] || return 0
	for p in $MODE_KERNELS; do
		case "$1" in "$p"*) return 0 ;; esac
	done
	return 1
}

kernels=()
while read -r ver path; do
	[ -n "$ver" ] || continue
	in_mode "$ver" || continue
	if [ -n "${VM_KERNEL:-}" ]; then
		case "$ver" in "$VM_KERNEL"*) ;; *) continue ;; esac
	fi
	[ -s "$path" ] || die "kernel $path (from $BUILD/kernels/list) is missing; run 'make kernels'"
	kernels+=("$ver $path")
done <"$BUILD/kernels/list"
[ ${#kernels[@]} -gt 0 ] ||
	die "no kernel in $BUILD/kernels/list matches mode $MODE${MODE_KERNELS:+ ($MODE_KERNELS)}${VM_KERNEL:+ and VM_KERNEL=$VM_KERNEL} (run 'make kernels', or change VM_KERNEL)"
[ "$MODE" != demo ] || kernels=("${kernels[0]}")

# boot LOG EXTRA_APPEND: boot kernel $path (tag $tag) once with the qemu options of
# QEMU_EXTRA, stream the console, and judge the markers; failed=1 on any failure.
boot() {
	local log=$1 extra=$2 start qrc secs why rc
	start=$(date +%s)
	# qemu's exit status says little (poweroff is 0, panic reboots are 0 with -no-reboot);
	# the markers in the log say whether the VM booted and finished.
	timeout -k 10 "$TIMEOUT" qemu-system-x86_64 \
		-kernel "$path" -initrd "$INITRD" \
		-append "console=ttyS0 lsm=$LSMS panic=-1 quiet $APPEND $extra" \
		-nodefaults -vga none -serial stdio -display none -no-reboot \
		-m "$MEM" -smp "$SMP" "${NET_QEMU[@]}" "${QEMU_EXTRA[@]}" ${VM_QEMU_ARGS:-} </dev/null 2>&1 | stdbuf -oL tr -d '\r' | tee "$log" |
		if [ "$JUDGED" = 1 ]; then
			awk -v tag="[$tag]" '
				/^(PASS|FAIL|SKIP) / { r = $1; sub(/^[A-Z]+ /, ""); print r, tag, $0; fflush(); next }
				{ print tag, $0; fflush() }'
		elif [ "$MODE" = demo ]; then
			# the story alone: no boot, harness or kernel messages
			awk '/^JITD-DEMO-BEGIN/ { on = 1; next } /^JITD-DEMO-END/ { on = 0 }
				on && !/^\[ *[0-9]+\.[0-9]+\]/ { print; fflush() }'
		else
			cat
		fi
	qrc=${PIPESTATUS[0]}
	secs=$(($(date +%s) - start))

	why=""
	if ! grep -q '^JITD-VM-BOOT' "$log"; then
		if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
			why="no boot marker, timed out after ${TIMEOUT}s"
		else
			why="no boot marker (qemu exit $qrc)"
		fi
	elif ! grep -q '^JITD-VM-DONE' "$log"; then
		if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
			why="timed out after ${TIMEOUT}s before the end marker"
		else
			why="VM stopped before the end marker (qemu exit $qrc)"
		fi
	fi
	if [ -n "$why" ]; then
		echo "FAIL [$tag] vm-boot: $why; last lines of $log:"
		tail -n 15 "$log" | sed "s/^/    [$tag] /"
		failed=1
	else
		rc=$(sed -n 's/^JITD-VM-DONE rc=\([0-9]*\).*/\1/p' "$log" | tail -n1)
		if [ "$JUDGED" = 1 ]; then
			if ! grep -qE '^(PASS|FAIL|SKIP) ' "$log"; then
				echo "FAIL [$tag] vm-tests-ran: the VM printed no test results (see $log)"
				failed=1
			elif [ "${rc:-1}" != 0 ] && ! grep -q '^FAIL ' "$log"; then
				echo "FAIL [$tag] vm-script: the test script exited $rc without a FAIL line (see $log)"
				failed=1
			fi
			grep -q '^FAIL ' "$log" && failed=1
		elif [ "${rc:-1}" != 0 ]; then
			echo "run.sh: /tests/$MODE.sh exited $rc on $ver (see $log)" >&2
			failed=1
		fi
	fi
	[ "$MODE" = demo ] && [ -z "$why" ] && return
	echo "[$tag] VM $MODE run took ${secs}s (log: $log)"
}

# boot_side_by_side: the part's VMS VMs on kernel $path at once, VM I with jitd.vm=I;
# failed=1 when any of them failed.
boot_side_by_side() {
	local i pids=() t0 ktag=$tag
	t0=$(date +%s)
	for i in $(seq "$VMS"); do
		# a subshell per VM: its own tag and failed, its status for the wait below
		(
			failed=0
			tag="$ktag/vm$i"
			boot "$VMDIR/$ver-$MODE-vm$i.log" "jitd.vm=$i"
			exit $failed
		) &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i" || failed=1
	done
	echo "[$ktag] $VMS VMs of $MODE side by side took $(($(date +%s) - t0))s"
}

# The LSMs the kernels boot with; AppArmor too where the peers are measured or checked.
LSMS=lockdown,capability,landlock,bpf
case "$MODE" in bench | peers) LSMS=lockdown,capability,landlock,apparmor,bpf ;; esac

# bench_boot LOG EXTRA_APPEND: one bench boot; one that stops before its end marker is
# booted once more, its log kept as LOG.1: under multi-threaded TCG (two vCPUs) a guest
# now and then dies of an int3 Oops while the kernel patches a static branch the other
# vCPU is running.
bench_boot() {
	local was=$failed
	failed=0
	boot "$1" "$2"
	if [ "$failed" = 1 ] && ! grep -q '^JITD-VM-DONE' "$1"; then
		mv "$1" "$1.1"
		echo "bench: the boot stopped early (its log: $1.1); booting it once more"
		failed=0
		boot "$1" "$2"
	fi
	[ "$was" = 0 ] || failed=1
}

failed=0
for k in "${kernels[@]}"; do
	ver=${k%% *}
	path=${k#* }
	tag=$(short_ver "$ver")
	[ "$JUDGED" = 1 ] || [ "$MODE" = demo ] || echo "=== $MODE on $ver ==="
	QEMU_EXTRA=()
	if [ "$MODE" = systemd ]; then
		# A fresh disk per kernel (NVMe: built into 6.1 and 6.12) for jitd's state and audit
		# files, kept across the reboot below.
		disk="$VMDIR/persist-$tag.img"
		rm -f "$disk"
		truncate -s 64M "$disk" && mkfs.ext4 -q -F -L persist "$disk" ||
			die "cannot make the disk image $disk (mkfs.ext4: e2fsprogs)"
		# No image lock: the second boot may start while the first qemu is still going away.
		QEMU_EXTRA=(-drive "file=$disk,if=none,id=persist,format=raw,file.locking=off"
			-device "nvme,serial=persist,drive=persist")
	fi
	if [ "$MODE" = bench ]; then
		# one boot per vCPU count (VM_SMP, default 1 then 2), each printing its tables,
		# then (BENCH_ICOUNT, default 1) one on one vCPU counting instructions: qemu's
		# -icount shift=0 advances the guest's clock 1 ns an instruction, so its figures
		# are instructions executed, which the host's load does not move
		# (BENCH_ICOUNT=only: that boot alone)
		[ "${BENCH_ICOUNT:-1}" = only ] || for SMP in ${VM_SMP:-1 2}; do
			echo "=== bench: $SMP vCPU(s) ==="
			bench_boot "$VMDIR/$ver-$MODE-smp$SMP.log" ""
		done
		if [ "${BENCH_ICOUNT:-1}" != 0 ]; then
			echo "=== bench: 1 vCPU, instruction-counted (-icount shift=0) ==="
			SMP=1
			QEMU_EXTRA=(-icount shift=0,sleep=on)
			bench_boot "$VMDIR/$ver-$MODE-icount.log" "jitd.icount=1"
			QEMU_EXTRA=()
		fi
	elif [ "$VMS" = 1 ]; then
		boot "$VMDIR/$ver-$MODE.log" ""
	else
		boot_side_by_side
	fi
	# A part may judge from the host what its VM printed: tests/vm/PART-host.sh BUILD LOG
	# (the seal part: a file verified off the host that wrote it).
	if [ "$VMS" = 1 ] && [ -x "$SRC/tests/vm/$MODE-host.sh" ]; then
		"$SRC/tests/vm/$MODE-host.sh" "$BUILD" "$VMDIR/$ver-$MODE.log" |
			awk -v tag="[$tag]" '/^(PASS|FAIL|SKIP) / { r = $1; sub(/^[A-Z]+ /, ""); print r, tag, $0; fflush(); next }
				{ print tag, $0; fflush() }' | tee "$VMDIR/$ver-$MODE-host.log"
		grep -q '^FAIL ' "$VMDIR/$ver-$MODE-host.log" && failed=1
	fi
	# bench: the last line is the first boot's ratio (1 vCPU by default), as scripts read it
	if [ "$MODE" = bench ]; then
		SMP=${VM_SMP:-1 2}
		SMP=${SMP%% *}
		# (after the instruction-counted boot's, named so; BENCH_ICOUNT=only: that one)
		case ${BENCH_ICOUNT:-1} in
		0) ;;
		only) grep '^ratio ' "$VMDIR/$ver-$MODE-icount.log" | tail -n 1 ;;
		*) grep '^ratio ' "$VMDIR/$ver-$MODE-icount.log" | tail -n 1 | sed 's/^ratio /instructions (icount): ratio /' ;;
		esac
		[ "${BENCH_ICOUNT:-1}" = only ] || grep '^ratio ' "$VMDIR/$ver-$MODE-smp$SMP.log" | tail -n 1
	fi
	[ "$MODE" = systemd ] || continue
	# The first boot ends with a crash (sysrq b) after JITD-VM-REBOOT; the second boot, on
	# the same disk, checks what survived.
	if grep -q '^JITD-VM-REBOOT' "$VMDIR/$ver-$MODE.log"; then
		boot "$VMDIR/$ver-$MODE-2.log" "jitd.boot=2"
	elif grep -q '^JITD-VM-DONE' "$VMDIR/$ver-$MODE.log"; then
		echo "FAIL [$tag] vm-reboot: the first boot did not ask for the second (no JITD-VM-REBOOT)"
		failed=1
	fi
done
exit $failed
