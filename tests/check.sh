#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# check.sh BUILD_DIR: everything `make check` runs. The source checks (tests/layers.py, make
# format-check), the man pages (tests/man/check.sh), unit tests on the host, the same tests
# built with ASan+UBSan (BUILD_DIR/asan, one line per binary), each libFuzzer harness
# (BUILD_DIR/fuzz) for FUZZ_CHECK_SECONDS (20 by default), then the VM
# tests: with busybox on the four Debian kernels (5.10, 6.1, 6.12, 7.2), and beside them on
# the second core (VM_LANES, 2 by default) the parts that boot on their own (guard, revoke,
# usage and aggregate on the four; failpaths, hostile, crashes, seal, alerts, access,
# breakglass, notify, peers on 6.12) and the Debian root with systemd as PID 1 on 6.1 and
# 6.12 (tests/vm/run.sh); then the fleet part (two VMs per kernel against a PostgreSQL on
# the host, the four kernels) and the Debian package on 6.1 and 6.12 (tests/vm/deb.sh).
# Every PASS/FAIL/SKIP line is
# counted and the last line is exactly "N passed, N failed" (", N skipped" when some were
# skipped). Exits non-zero if anything failed, a runner failed without saying which test,
# or nothing ran at all.
set -uo pipefail

[ $# -eq 1 ] || {
	echo "usage: tests/check.sh BUILD_DIR" >&2
	exit 2
}
BUILD=$1
SRC=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# run_into FILE NAME CMD...: stream CMD's output and keep it in FILE for counting; a runner
# that fails without a FAIL line of its own gets one, so the failure is counted.
run_into() {
	local to=$1 name=$2 before rc
	shift 2
	before=$(grep -c '^FAIL ' "$to")
	"$@" 2>&1 | tee -a "$to"
	rc=${PIPESTATUS[0]}
	if [ "$rc" != 0 ] && [ "$(grep -c '^FAIL ' "$to")" = "$before" ]; then
		echo "FAIL $name: exited with status $rc without reporting a failed test" | tee -a "$to"
	fi
}

# run NAME CMD...: run_into the one output that is counted.
run() {
	run_into "$out" "$@"
}

# binaries FILE...: the files that exist (an unmatched glob stays a pattern) and are not the
# compiler's dependency files.
binaries() {
	local f
	for f in "$@"; do
		case "$f" in *.d | *.o) ;; *) [ -f "$f" ] && echo "$f" ;; esac
	done
}

# the structure docs/architecture.md describes, and one format (make format)
run layers python3 "$SRC/tests/layers.py"
if make -s -C "$SRC" format-check >/dev/null 2>&1; then
	echo "PASS format-check" | tee -a "$out"
else
	echo "FAIL format-check: clang-format would change files: run 'make format'" | tee -a "$out"
fi
# the man pages (make man): rendered cleanly and true to the binaries' options and the parser
run man "$SRC/tests/man/check.sh" "$BUILD"

# what jitd and jitctl say without a kernel: versions, help, policy checks
run cli "$SRC/tests/cli/check.sh" "$BUILD"
# bash and zsh completion against the CLI's own help and jitd's reply shapes
run completion "$SRC/tests/completion/check.sh" "$BUILD"

mapfile -t bins < <(binaries "$BUILD"/tests/test_*)
if [ ${#bins[@]} -eq 0 ]; then
	echo "FAIL unit-tests-built: no $BUILD/tests/test_* binaries" | tee -a "$out"
else
	run unit-tests "$SRC/tests/unit/run.sh" "${bins[@]}"
fi

mapfile -t bins < <(binaries "$BUILD"/asan/tests/test_*)
if [ ${#bins[@]} -eq 0 ]; then
	echo "FAIL unit-asan-built: no $BUILD/asan/tests/test_* binaries" | tee -a "$out"
else
	run unit-asan "$SRC/tests/unit/run.sh" --asan "${bins[@]}"
fi

mapfile -t bins < <(binaries "$BUILD"/fuzz/fuzz_*)
if [ ${#bins[@]} -eq 0 ]; then
	echo "FAIL fuzz-harnesses-built: no $BUILD/fuzz/fuzz_* binaries" | tee -a "$out"
else
	run fuzz "$SRC/tests/fuzz/run.sh" "$BUILD" "${FUZZ_CHECK_SECONDS:-20}" "${bins[@]}"
fi

# fleet mode against a real PostgreSQL (primary, standby, failover) with simulated hosts
run fleet python3 "$SRC/tests/fleet/fleet_test.py" "$BUILD"

# The VM parts in two lanes on the machine's two cores (one TCG vCPU each; VM_LANES=1: one
# after the other): the tests boots of the four kernels stream here, while the other parts run
# beside them into a file of their own, printed when both lanes are done. Then the fleet part
# (two VMs at once) and the Debian package (two package builds) alone.
# The parts that boot on their own: switching jitd off and cutting what was opened under a
# grant that ended ("revoke": "open"), per-grant usage counted by the kernel, allows
# aggregated in the kernel (these four on every kernel), failure paths, hostile clients,
# kill -9 cycles, the sealed audit stream,
# alerts, dry-run and explain (access), break-glass and review, notification commands (6.12:
# the agent's, not the kernel's; the seal part's file is verified again on the host,
# tests/vm/seal-host.sh), the peers the bench compares with (AppArmor, fapolicyd) deciding,
# then with a Debian root and systemd as PID 1 (6.1, 6.12).
side_parts() {
	local part
	for part in guard revoke usage aggregate failpaths hostile crashes seal alerts access breakglass notify peers; do
		run_into "$1" "vm-$part" "$SRC/tests/vm/run.sh" "$BUILD" "$part"
	done
	run_into "$1" vm-systemd-tests "$SRC/tests/vm/run.sh" "$BUILD" systemd
	echo "check.sh: side lane done" >>"$1"
}
# kill_tree PID: PID and everything it started (the side lane's run.sh and qemu)
kill_tree() {
	local c
	if command -v pgrep >/dev/null; then
		for c in $(pgrep -P "$1"); do kill_tree "$c"; done
	fi
	kill -TERM "$1" 2>/dev/null
}
vm_start=$(date +%s)
side=""
[ "${VM_LANES:-2}" = 1 ] || side=$(mktemp) || side=""
if [ -z "$side" ]; then
	run vm-tests "$SRC/tests/vm/run.sh" "$BUILD" tests
	side_parts "$out"
else
	trap 'rm -f "$out" "$side"' EXIT
	echo "check.sh: the VM parts other than tests run beside it; their output follows the tests boots"
	side_parts "$side" >/dev/null &
	side_pid=$!
	trap 'kill_tree "$side_pid"; exit 130' INT TERM
	run vm-tests "$SRC/tests/vm/run.sh" "$BUILD" tests
	tests_secs=$(($(date +%s) - vm_start))
	wait "$side_pid"
	rc=$?
	trap - INT TERM
	echo "check.sh: the tests boots took ${tests_secs}s, the parts beside them $(($(date +%s) - vm_start))s in all; their output:"
	cat "$side"
	cat "$side" >>"$out"
	# a lane that died part-way leaves no line for the parts it never ran
	if [ "$rc" != 0 ] || ! grep -q '^check.sh: side lane done$' "$side"; then
		echo "FAIL vm-side-lane: the lane beside the tests boots stopped before its end (status $rc)" | tee -a "$out"
	fi
fi
# fleet mode with real kernels: two VMs per kernel as two jitd hosts of one PostgreSQL
run vm-fleet "$SRC/tests/vm/run.sh" "$BUILD" fleet
# the Debian package (make deb, twice: a second version to upgrade to) installed, upgraded
# under a probe that must never get through, removed and purged, with systemd (6.1, 6.12)
run vm-deb "$SRC/tests/vm/run.sh" "$BUILD" deb
echo "check.sh: the VM parts took $(($(date +%s) - vm_start))s"

passed=$(grep -c '^PASS ' "$out")
failed=$(grep -c '^FAIL ' "$out")
skipped=$(grep -c '^SKIP ' "$out")
if [ "$passed" = 0 ] && [ "$failed" = 0 ]; then
	echo "FAIL check: no test ran"
	failed=1
fi
summary="$passed passed, $failed failed"
[ "$skipped" = 0 ] || summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" = 0 ]
