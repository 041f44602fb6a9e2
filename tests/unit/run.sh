#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Run unit test binaries; echo their "PASS name" / "FAIL name: reason" lines.
# A binary that fails without saying which test (crash, missing) gets a FAIL line of its own.
# Exits non-zero if anything failed. Usage: tests/unit/run.sh build/tests/test_*

status=0
for bin in "$@"; do
	name=$(basename "$bin")
	# a glob like build/tests/test_* also matches the compiler's *.d files: skip those
	if [ -f "$bin" ] && [ ! -x "$bin" ]; then
		continue
	fi
	if [ ! -f "$bin" ]; then
		echo "FAIL $name: no such test binary: $bin"
		status=1
		continue
	fi
	out=$("$bin" 2>&1)
	rc=$?
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
