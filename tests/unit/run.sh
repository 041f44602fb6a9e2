#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Run unit test binaries; echo their "PASS name" / "FAIL name: reason" lines.
# A binary that fails without saying which test (crash, missing) gets a FAIL line of its own.
# Exits non-zero if anything failed. Usage: tests/unit/run.sh [--asan] build/tests/test_*
#
# --asan: the binaries were built with ASan+UBSan (build/asan/tests/test_*). Each binary
# gives one line, "PASS unit-asan-test_x (N tests)" or "FAIL unit-asan-test_x: why", so the
# tests are not counted twice; a failed binary's own lines are shown indented, with the
# sanitizer's report (a leak, an overflow or undefined behaviour fails the binary).

asan=0
if [ "${1:-}" = --asan ]; then
	asan=1
	shift
	# leaks too; one report ends the run with a non-zero status
	ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:exitcode=23${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
	UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
	LSAN_OPTIONS="exitcode=23${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
	export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
fi

# asan_verdict NAME RC OUTPUT: the one line of a sanitized binary.
asan_verdict() {
	n_pass=$(printf '%s\n' "$3" | grep -c '^PASS ')
	n_skip=$(printf '%s\n' "$3" | grep -c '^SKIP ')
	if [ "$2" -eq 0 ] && ! printf '%s\n' "$3" | grep -q '^FAIL '; then
		if [ "$n_pass" -gt 0 ]; then
			skipped=
			[ "$n_skip" -gt 0 ] && skipped=", $n_skip skipped"
			echo "PASS unit-asan-$1 ($n_pass tests passed$skipped)"
			return 0
		elif [ "$n_skip" -gt 0 ]; then
			echo "SKIP unit-asan-$1: all $n_skip tests skipped"
			return 0
		fi
	fi
	printf '%s\n' "$3" | sed 's/^/  /'
	if printf '%s\n' "$3" | grep -qE 'Sanitizer|runtime error: '; then
		why=$(printf '%s\n' "$3" | grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY): |runtime error: ')
		echo "FAIL unit-asan-$1: sanitizer report (exit $2): $why"
	elif printf '%s\n' "$3" | grep -q '^FAIL '; then
		echo "FAIL unit-asan-$1: $(printf '%s\n' "$3" | grep -c '^FAIL ') tests failed"
	elif [ "$2" -ne 0 ]; then
		echo "FAIL unit-asan-$1: exited with status $2"
	else
		echo "FAIL unit-asan-$1: ran no tests"
	fi
	return 1
}

status=0
for bin in "$@"; do
	name=$(basename "$bin")
	# a glob like build/tests/test_* also matches the compiler's *.d files: skip those
	if [ -f "$bin" ] && [ ! -x "$bin" ]; then
		continue
	fi
	if [ ! -f "$bin" ]; then
		[ $asan = 1 ] && name=unit-asan-$name
		echo "FAIL $name: no such test binary: $bin"
		status=1
		continue
	fi
	out=$("$bin" 2>&1)
	rc=$?
	if [ $asan = 1 ]; then
		asan_verdict "$name" "$rc" "$out" || status=1
		continue
	fi
	[ -n "$out" ] && printf '%s\n' "$out"
	if [ "$rc" -ne 0 ]; then
		status=1
		if ! printf '%s\n' "$out" | grep -q '^FAIL '; then
			echo "FAIL $name: exited with status $rc without reporting a failed test"
		fi
	elif printf '%s\n' "$out" | grep -q '^FAIL '; then
		echo "FAIL $name: reported failures but exited with status 0"
		status=1
	elif ! printf '%s\n' "$out" | grep -qE '^(PASS|SKIP) '; then
		echo "FAIL $name: ran no tests"
		status=1
	fi
done
exit $status
