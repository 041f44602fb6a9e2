#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Inside the VM (make bench-scale, not judged): jitd with 100,000 protected paths and as many
# grants as the time allows up to SCALE_GRANTS, measured by /tests/scale (tests/bench/scale.c)
# speaking the control protocol itself. One table per group; figures only, no verdicts.
. /tests/lib.sh
# the sizes run.sh passed (SCALE_GRANTS=... from make bench-scale's environment)
set -a
. /tests/scale.env
set +a

S=/tests/scale
NRES=${SCALE_NRES:-1000} # resources r0..r999
PER=100           # paths each: 100,000 in all (every 10th a directory)
GRANTS=${SCALE_GRANTS:-100000}
BUDGET=${SCALE_BUDGET:-1500} # seconds for adding grants through the socket
BIG=${SCALE_BIG:-1000000}    # grants in the state file for the last restart
UIDBASE=100000
NOTIFY=/run/scale.notify
JITD_POLICY=/tmp/scale-policy.json
ARGS="--policy $JITD_POLICY --socket $JITD_SOCK --state-dir $JITD_STATE --audit-file $AUDIT"
mkdir -p /run/jitd "$JITD_STATE" "$JITD_LOGDIR"
echo "scale: kernel $(uname -r), $(nproc) cpu(s), $(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo) MiB"

# start: jitd under /tests/scale ready; sets PID, prints the time to READY
start() {
	out=$($S ready "$NOTIFY" /usr/sbin/jitd $ARGS 2>>"$JITD_LOG")
	echo "$out"
	tail -n 3 "$JITD_LOG" | sed 's/^/    jitd: /'
	PID=$(echo "$out" | sed -n 's/.*pid=\([0-9]*\).*/\1/p')
	JITD_PID=$PID
}
stop() {
	kill "$PID" 2>/dev/null
	while kill -0 "$PID" 2>/dev/null; do sleep 0.2; done
}
opens() { # LABEL PATH [ROUNDS]: ROUNDS (default 3) batches, one line each (noise shows)
	for _r in $(seq "${3:-3}"); do
		printf '%-28s ' "$1"
		$S opens 1001 "$2" "${SCALE_OPENS:-20000}"
	done
}
cpu_ticks() { # jitd's user + system time so far, in clock ticks (100 a second)
	awk '{ print $14 + $15 }' "/proc/$PID/stat" 2>/dev/null || echo 0
}
# settle LABEL: how long jitd keeps working after READY (its CPU time each half second, until a
# half second in which it used less than a tenth of it; 120 s at most)
settle() {
	_t0=$(cpu_ticks)
	_i=0
	_prev=$_t0
	while [ $_i -lt 240 ]; do
		sleep 0.5
		_i=$((_i + 1))
		_now=$(cpu_ticks)
		[ $((_now - _prev)) -lt 5 ] && break
		_prev=$_now
	done
	echo "settled ($1): $((_i * 5 / 10)).$((_i * 5 % 10)) s after READY, jitd CPU $(((_now - _t0) / 100)).$(((_now - _t0) % 100 / 10)) s in that time"
}
memory() { # LABEL
	echo "--- memory: $1"
	$S rss "$PID"
	$S mapmem "$PID"
}

t0=$(now)
$S paths /tmp/s $NRES $PER 1 $JITD_POLICY || echo "FAIL making the paths"
echo "made $((NRES * PER)) protected paths in $(fsub "$(now)" "$t0")s"
echo unprotected >/tmp/unprot && chmod 0644 /tmp/unprot

echo "=== kernel check, no jitd"
opens "unprotected, no jitd" /tmp/unprot
opens "protected, no jitd" /tmp/s/0/f0

echo "=== policy load and reload ($((NRES * PER)) paths)"
printf 'policy load (start to READY): '
start
[ -n "$PID" ] && kill -0 "$PID" 2>/dev/null || { show_jitd_log; exit 0; }
memory "0 grants"
sed -i 's/"serial": 1,/"serial": 2,/' $JITD_POLICY
printf 'policy reload (SIGHUP to serial 2): '
$S reload "$JITD_SOCK" "$PID" 2

echo "=== kernel check, $((NRES * PER)) paths, 0 grants"
opens "unprotected" /tmp/unprot
opens "protected, not granted" /tmp/s/0/f0 1

echo "=== grants through the control socket"
# the denied opens above are as many audit records: jitd answers once it has written them
t0=$(now)
until jitctl status >/dev/null 2>&1 || fcmp "$(fsub "$(now)" "$t0")" gt 300; do sleep 1; done
echo "jitd answering again $(fsub "$(now)" "$t0")s after the denied opens (their audit records)"
jitctl grant r0 --user alice --for 8h --reason scale-open >/dev/null
rm -f /tmp/ids
$S grants "$JITD_SOCK" "$GRANTS" $UIDBASE $NRES 28800 "$BUDGET" /tmp/ids
n=$(wc -l </tmp/ids)
echo "active grants now: $((n + 1))"
memory "$((n + 1)) grants"
ls -l "$JITD_STATE/grants.json"

echo "=== kernel check, $((NRES * PER)) paths, $((n + 1)) grants"
opens "unprotected" /tmp/unprot
opens "granted" /tmp/s/0/f0 1

echo "=== revoke"
$S revoke "$JITD_SOCK" /tmp/ids 200

echo "=== restart with the grants in the state file"
stop
if [ "$n" -lt 100000 ]; then
	$S state "$JITD_STATE/grants.json" 100000 $UIDBASE $NRES ||
		echo "FAIL writing 100000 grants into the state file"
	echo "state file filled to 100000 grants by /tests/scale state (the socket reached $n)"
fi
ls -l "$JITD_STATE/grants.json"
printf 'restart (start to READY, 100000 grants): '
start
settle "100000 grants"
memory "100000 grants (after restart)"
jitctl status 2>/dev/null | grep -i grant | head -n 3
opens "unprotected (100000 grants)" /tmp/unprot
printf 'grant add at 100000: '
$S grants "$JITD_SOCK" 20 $((UIDBASE + 5000)) $NRES 28800 300 /tmp/ids2 | tail -n 1
printf 'grant revoke at 100000: '
$S revoke "$JITD_SOCK" /tmp/ids2 20 | tail -n 1
stop

echo "=== towards $BIG grants (state file, restart)"
if [ "$BIG" -le 100000 ]; then
	echo "skipped (SCALE_BIG=$BIG)"
elif $S state "$JITD_STATE/grants.json" "$BIG" $UIDBASE $NRES; then
	ls -l "$JITD_STATE/grants.json"
	printf 'restart (start to READY, %s grants): ' "$BIG"
	start
	settle "$BIG grants"
	memory "$BIG grants (after restart)"
	opens "unprotected ($BIG grants)" /tmp/unprot
	stop
else
	echo "state file of $BIG grants: could not be written (memory?)"
fi
free -m
echo "scale: done"
