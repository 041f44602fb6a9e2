#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh BUILD_DIR SECONDS BUILD_DIR/fuzz/fuzz_NAME...: run each libFuzzer harness for
# SECONDS on its seed corpus (tests/fuzz/corpus/NAME, read only) and its working corpus
# (BUILD_DIR/fuzz/corpus/NAME, kept between runs), with tests/fuzz/NAME.dict if there is
# one. One line per harness: "PASS fuzz-NAME-SECONDSs (runs, coverage)" or
# "FAIL fuzz-NAME-SECONDSs: what, reproducer PATH". A crash, leak, undefined behaviour, an
# input slower than 10 s or using more than 2 GiB fails it; the input is kept as
# BUILD_DIR/fuzz/NAME-crash-* (leak-, timeout-, oom-) and the whole output in
# BUILD_DIR/fuzz/NAME.log. Reproduce with: BUILD_DIR/fuzz/fuzz_NAME PATH.
# Exits non-zero if any harness failed.
set -uo pipefail

[ $# -ge 2 ] || {
	echo "usage: tests/fuzz/run.sh BUILD_DIR SECONDS BUILD_DIR/fuzz/fuzz_NAME..." >&2
	exit 2
}
BUILD=$1
SECONDS_EACH=$2
shift 2
SRC=$(cd "$(dirname "$0")/../.." && pwd)
# leaks are reported by libFuzzer itself (-detect_leaks=1, its default); UBSan already aborts
# (-fno-sanitize-recover=all): a stack trace helps the reader of the log
export UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

# fuzz_one BIN: run one harness, print its line; non-zero if it failed.
fuzz_one() {
	local bin=$1 name test seeds work log dict=() rc artifact what stats
	name=$(basename "$bin")
	name=${name#fuzz_}
	test="fuzz-$name-${SECONDS_EACH}s"
	seeds=$SRC/tests/fuzz/corpus/$name
	work=$BUILD/fuzz/corpus/$name
	log=$BUILD/fuzz/$name.log
	if [ ! -x "$bin" ]; then
		echo "FAIL $test: no such harness: $bin"
		return 1
	fi
	if [ ! -d "$seeds" ] || [ -z "$(ls -A "$seeds")" ]; then
		echo "FAIL $test: no seed corpus in $seeds"
		return 1
	fi
	[ -f "$SRC/tests/fuzz/$name.dict" ] && dict=("-dict=$SRC/tests/fuzz/$name.dict")
	mkdir -p "$work"
	# the bound outside libFuzzer's own: a harness stuck outside an input still ends
	timeout -k 10 $((SECONDS_EACH + 120)) "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$BUILD/fuzz/$name-" \
		"${dict[@]}" "$work" "$seeds" >"$log" 2>&1
	rc=$?
	artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n1)
	if [ "$rc" = 0 ] && [ -z "$artifact" ]; then
		stats=$(grep -E '^#[0-9]+[[:space:]]+DONE ' "$log" | tail -n1 |
			sed -E 's/^#([0-9]+)[[:space:]]+DONE[[:space:]]+cov: ([0-9]+).*corp: ([0-9]+).*/\1 runs, coverage \2, corpus \3/')
		echo "PASS $test (${stats:-no stats, see $log})"
		return 0
	fi
	# the sanitizer's or libFuzzer's own verdict, e.g. "ERROR: AddressSanitizer: heap-..."
	what=$(grep -m1 -E 'ERROR: (libFuzzer|[A-Za-z]+Sanitizer)|runtime error: |^==[0-9]+== ERROR' \
		"$log" | sed -E 's/^==[0-9]+== ?//; s/ on address .*//')
	[ -n "$what" ] || what="exited with status $rc"
	# the report's first frames of our code, for the reader of `make check`
	grep -E '^ +#[0-9]+ ' "$log" | grep -vE 'fuzzer::|libc_start|_start | in main |__sanitizer|\(/lib' |
		head -n 8 | sed -E 's/ \(BuildId: [0-9a-f]+\)//; s/^ */  /'
	if [ -n "$artifact" ]; then
		echo "FAIL $test: $what; reproducer $artifact (run $bin $artifact; log $log)"
	else
		echo "FAIL $test: $what; no reproducer written (log $log)"
	fi
	return 1
}

[ $# -gt 0 ] || {
	echo "FAIL fuzz-harnesses-built: no harness given (tests/fuzz/fuzz_*.c built?)"
	exit 1
}
status=0
for bin in "$@"; do
	fuzz_one "$bin" || status=1
done
exit $status
