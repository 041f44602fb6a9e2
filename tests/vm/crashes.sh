#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# crashes.sh: 100 kill -9 / restart cycles of jitd while root grants and alice requests
# without pause, and nothing acknowledged is lost (a part of the suite, on one kernel;
# `tests/vm/run.sh BUILD crashes` boots it alone). Acknowledged means jitctl printed the
# new id. Afterwards every acknowledged grant and request is known to jitd, each has its
# audit record, and the audit chain verifies across all the crashes. A restart adopts the
# programs attached by the killed agent (same build): no reload, enforcement throughout.
. /tests/lib.sh

P=$PROBE
JITD_POLICY=/tests/policy-workflow.json
CYCLES=${CRASH_CYCLES:-100}
ACKED_G=/tmp/acked-grants
ACKED_R=/tmp/acked-requests
STOP=/tmp/crash-traffic-stop
# alice's requests stay pending (an hour): hundreds of them over the cycles, past the
# default --max-open (100), which would refuse the rest of her traffic
JITD_ARGS="--max-open 100000"

mkdir -p /srv/vault /opt/bin /sys/fs/cgroup/exempt
echo s >/srv/secret.txt && chmod 644 /srv/secret.txt
cp /tests/nop /opt/bin/tool
rm -f "$ACKED_G" "$ACKED_R" "$STOP"
: >"$ACKED_G"
: >"$ACKED_R"

start_jitd crash-jitd-starts || exit 1
jitctl status | grep '^programs:'

# traffic: grants by root, requests by alice (dba), each id kept once jitctl printed it;
# a pause after each call (the VM has one CPU: a restart must not wait for the loops)
(
	while [ ! -e "$STOP" ]; do
		id=$(jitctl --timeout 5 grant secrets --user bob --for 1h --reason crash 2>/dev/null)
		case "$id" in '' | *[!0-9]*) ;; *) echo "$id" >>"$ACKED_G" ;; esac
		sleep 0.2
	done
) &
TG=$!
(
	while [ ! -e "$STOP" ]; do
		id=$($P as 1001 sh -c 'jitctl --timeout 5 request secrets --for 10m --reason INC-7' \
			2>/dev/null | tail -n 1)
		case "$id" in '' | *[!0-9]*) ;; *) echo "$id" >>"$ACKED_R" ;; esac
		sleep 0.2
	done
) &
TR=$!

# restart: kill -9 the agent, start a new one and wait until it answers (120 s at most).
restart() {
	kill9_jitd
	# shellcheck disable=SC2086 # JITD_ARGS: options, split on purpose
	jitd --policy "$JITD_POLICY" --socket "$JITD_SOCK" --state-dir "$JITD_STATE" \
		--audit-file "$AUDIT" $JITD_ARGS >>"$JITD_LOG" 2>&1 &
	JITD_PID=$!
	_r=0
	while ! jitctl --timeout 2 status >/dev/null 2>&1; do
		kill -0 "$JITD_PID" 2>/dev/null && [ $_r -lt 600 ] || return 1
		sleep 0.2
		_r=$((_r + 1))
	done
}

T0=$(now)
restarts=0
adopted=0
i=0
while [ $i -lt "$CYCLES" ]; do
	sleep "0.$(($(od -An -N1 -tu1 /dev/urandom) % 10))"
	T_R=$(now)
	if ! restart; then
		fail crash-restart "restart $i failed"
		show_jitd_log 20
		break
	fi
	restarts=$((restarts + 1))
	jitctl status | grep -q '^programs: *adopted' && adopted=$((adopted + 1))
	i=$((i + 1))
	[ $((i % 10)) = 0 ] || [ $i -le 2 ] &&
		echo "crash: restart $i answered after $(fsub "$(now)" "$T_R")s ($adopted adopted)"
done
touch "$STOP"
wait $TG $TR
T1=$(now)
echo "crash: $restarts restarts in $(fsub "$T1" "$T0")s ($adopted adopted the running programs), $(wc -l <"$ACKED_G") grants and $(wc -l <"$ACKED_R") requests acknowledged"
check crash-all-restarts-done "$restarts of $CYCLES" test "$restarts" = "$CYCLES"
check crash-restarts-adopt-programs "$adopted of $restarts adopted" test "$adopted" = "$restarts"
check crash-traffic-acknowledged "grants $(wc -l <"$ACKED_G"), requests $(wc -l <"$ACKED_R")" \
	test "$(wc -l <"$ACKED_G")" -gt 0 -a "$(wc -l <"$ACKED_R")" -gt 0

# every acknowledged id is known to jitd, and audited (ids listed once, then looked up)
jitctl --json list --all >/tmp/crash-list.json 2>&1
grep -oE "$(jkey id)[0-9]+" /tmp/crash-list.json | grep -oE '[0-9]+$' | sort -u >/tmp/crash-known
grep -oE "$(jkey id)[0-9]+[,}]" "$AUDIT" | grep -oE '[0-9]+' | sort -u >/tmp/crash-audited
lost=""
nolog=""
for id in $(cat "$ACKED_G" "$ACKED_R"); do
	grep -qx "$id" /tmp/crash-known || jitctl show "$id" >/dev/null 2>&1 || lost="$lost $id"
	grep -qx "$id" /tmp/crash-audited || nolog="$nolog $id"
done
out=$(jitctl audit verify "$AUDIT" 2>&1)
check crash-audit-chain-verifies "$out" contains "$out" '^OK'
# status counts what the chain holds: records.written is the last record's sequence
last=$(tail -n 1 "$AUDIT" | grep -oE "$(jkey sequence)[0-9]+" | head -n 1 | grep -oE '[0-9]+$')
written=$(jitctl status --json | tr -d ' \n' | grep -oE '"records":\{[^}]*\}' |
	grep -oE '"written":[0-9]+' | grep -oE '[0-9]+$')
check crash-status-records-written "status records.written '$written', last sequence '$last'" \
	test -n "$last" -a "$written" = "$last"
expect crash-still-enforcing-alice-denied EPERM $P as 1001 $P open /srv/secret.txt
expect crash-bob-granted-ok ok $P as 1002 $P open /srv/secret.txt

# an upgrade from a jitd built with another ring-buffer size: the pinned ring buffer is
# reused with its size (a warning), not refused, and decisions still reach the audit file.
# (Without the build pin the next start is a full load that reuses the pinned maps.)
stop_jitd
rm -f /sys/fs/bpf/jitd/build /sys/fs/bpf/jitd/events
/tests/loadgen pin-ringbuf /sys/fs/bpf/jitd/events 1048576
if start_jitd crash-older-ringbuf-size-starts; then
	check crash-older-ringbuf-size-kept "no warning in $JITD_LOG" \
		grep -q 'pinned ring buffer .* has 1048576 bytes' "$JITD_LOG"
	n0=$(audit_lines "$(juid 1001)" '"decision": ?"deny"' | wc -l)
	expect crash-older-ringbuf-alice-denied EPERM $P as 1001 $P open /srv/secret.txt
	w=0
	while [ "$(audit_lines "$(juid 1001)" '"decision": ?"deny"' | wc -l)" -le "$n0" ] &&
		[ $w -lt 50 ]; do
		sleep 0.2
		w=$((w + 1))
	done
	check crash-older-ringbuf-denial-audited "no new deny record of uid 1001 in $AUDIT" \
		test "$(audit_lines "$(juid 1001)" '"decision": ?"deny"' | wc -l)" -gt "$n0"
fi

stop_jitd
jitd --unload >/dev/null 2>&1
echo "crashes.sh: $N_PASS passed, $N_FAIL failed"
[ "$N_FAIL" = 0 ]
