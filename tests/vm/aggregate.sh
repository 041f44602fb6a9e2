#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# aggregate.sh: allows aggregated in the kernel (issue 16), on every kernel
# (`tests/vm/run.sh BUILD aggregate`). With --audit-aggregate 1, one process opening a
# granted file N times leaves records of its pid whose counts (a record without "count"
# counts 1) add up to exactly N: the first is a full record, at least one has a count > 1
# with start_time <= end_time; a second process gets a full first record of its own; bob's
# N denials are N records without a count; a process that execs another program (same pid)
# gets a full record as that program, and so does an exec of a program of the same name.
# The chain still verifies. Uses counted while jitd is killed are written by the restarted
# jitd; a clean stop writes every count, the current interval's too; an aggregate the audit
# file refuses (a full disk) is written later. With --audit-aggregate 0 every allow is a
# full record again. Grant usage counts every allow either way. jitd maps its ring buffer's
# data once (libbpf's reader maps it twice: twice its size in VmRSS).
. /tests/lib.sh

P=$PROBE
ALICE="$P loginuid 1001 $P as 1001 $P" # alice, logged in
BOB="$P loginuid 1002 $P as 1002 $P"   # bob: no grant
JITD_POLICY=/tmp/aggregate-policy.json
N=40

rm -rf /srv/ag
mkdir -p /srv/ag
echo aggregate-secret >/srv/ag/secret.txt
chmod 644 /srv/ag/secret.txt
cat >"$JITD_POLICY" <<'POLICY'
{
  "version": 1,
  "serial": 1,
  "resources": { "ag-file": { "open": ["/srv/ag/secret.txt"] },
                 "ag-net": { "connect": ["127.0.0.1:7777"] } },
  "exempt": { "uids": [0] }
}
POLICY

# recs PID DECISION: the decision records of process PID (actor.process.pid) for ag-file.
recs() {
	audit_lines "$(jres ag-file)" "$(jkey decision)\"$2\"" "\"actor\": ?\\{\"process\": ?\\{[^}]*\"pid\": ?$1[,}]"
}

# total PID: the allows of PID the audit file accounts for (each record: its count, or 1).
total() {
	recs "$1" allow | awk '{ if (match($0, /"count": ?[0-9]+/)) { s = substr($0, RSTART, RLENGTH); sub(/.*: ?/, "", s); t += s } else t += 1 } END { print t + 0 }'
}

# wait_total PID WANT SECONDS: until total PID is WANT.
wait_total() {
	_wt=$(($3 * 5))
	while [ $_wt -gt 0 ] && [ "$(total "$1")" != "$2" ]; do
		sleep 0.2
		_wt=$((_wt - 1))
	done
	[ "$(total "$1")" = "$2" ]
}

# ring_size PID: the data size (max_entries) of the ring buffer (map type 27) PID holds.
ring_size() {
	for _f in /proc/"$1"/fdinfo/*; do
		grep -q '^map_type:[[:space:]]*27$' "$_f" 2>/dev/null || continue
		sed -n 's/^max_entries:[[:space:]]*//p' "$_f"
		return
	done
}

# bpf_mapped PID: the bytes of PID's mappings of BPF maps (jitd maps only its ring buffer).
bpf_mapped() {
	_sum=0
	while read -r _range _rest; do
		case "$_rest" in *bpf-map*) _sum=$((_sum + 0x${_range#*-} - 0x${_range%-*})) ;; esac
	done <"/proc/$1/maps"
	echo "$_sum"
}

# field LINE KEY: the integer value of top-level-ish KEY in a record line.
field() {
	echo "$1" | grep -oE "\"$2\": ?[0-9]+" | head -n 1 | grep -oE '[0-9]+$'
}

start_jitd aggregate-start --audit-aggregate 1 || exit 1
G=$(grant_or_fail aggregate-grant ag-file --user alice --for 600s)
uses0=$(jitctl show "$G" --json | grep -o '"uses": *[0-9]*' | grep -o '[0-9]*$')

# ---------------------------------------------------------------- one process, N opens
set -- $($ALICE open-repeat $N /srv/ag/secret.txt 50)
PID1=$1
check aggregate-opens-allowed "open-repeat said '$*', expected $N ok" test "$2" = "$N"
check aggregate-sum-is-n "records of pid $PID1 account for $(total "$PID1") allows, expected $N" \
	wait_total "$PID1" $N 10
first=$(recs "$PID1" allow | head -n 1)
check aggregate-first-record-full "the first record of pid $PID1 has a count: $first" \
	sh -c "! echo '$first' | grep -q '\"count\"'"
nfull=$(recs "$PID1" allow | grep -vc '"count"')
nagg=$(recs "$PID1" allow | grep -c '"count"')
echo "aggregate: pid $PID1: $nfull full records, $nagg aggregates for $N opens over ~2 s"
# one full record per interval the process used the file in: ~2 s of 1 s intervals
check aggregate-few-full-records "$nfull full records, expected 1 to 4" test "$nfull" -ge 1 -a "$nfull" -le 4
agg=$(recs "$PID1" allow | grep -E '"count": ?([2-9]|[1-9][0-9])' | head -n 1)
st=$(field "$agg" start_time)
et=$(field "$agg" end_time)
check aggregate-has-count-over-1 "no record of pid $PID1 with count > 1" test -n "$agg"
check aggregate-start-end "start_time ${st:-?} end_time ${et:-?}: not 0 < start <= end" \
	test "${st:-0}" -gt 0 -a "${st:-0}" -le "${et:-0}"
check aggregate-start-end-dt "no start_time_dt/end_time_dt in: $agg" \
	sh -c "echo '$agg' | grep -q '\"start_time_dt\"' && echo '$agg' | grep -q '\"end_time_dt\"'"
check aggregate-same-grant "the aggregate is not grant $G's: $agg" \
	sh -c "echo '$agg' | grep -qE '\"correlation_uid\": ?\"$G\"'"
uses1=$(jitctl show "$G" --json | grep -o '"uses": *[0-9]*' | grep -o '[0-9]*$')
check aggregate-grant-uses-count-all "uses went ${uses0:-?} -> ${uses1:-?}, expected +$N" \
	test "$((${uses1:-0} - ${uses0:-0}))" = "$N"

# ---------------------------------------------------------------- a second process
set -- $($ALICE open-repeat 5 /srv/ag/secret.txt 0)
PID2=$1
check aggregate-second-process-sum "pid $PID2: $(total "$PID2") allows accounted, expected 5" \
	wait_total "$PID2" 5 10
first2=$(recs "$PID2" allow | head -n 1)
check aggregate-second-process-full-first "pid $PID2's first record: $first2" \
	sh -c "test -n '$first2' && ! echo '$first2' | grep -q '\"count\"'"

# ---------------------------------------------------------------- an exec: same pid, new program
cp "$P" /tmp/agprobe2 && chmod 755 /tmp/agprobe2
set -- $($ALICE open-repeat 3 /srv/ag/secret.txt 0 /tmp/agprobe2 open-repeat 3 /srv/ag/secret.txt 0)
PID5=$1
check aggregate-exec-same-pid "open-repeat then exec said '$*': not one pid twice" test "$1" = "$5"
check aggregate-exec-sum "pid $PID5: $(total "$PID5") allows accounted, expected 6" \
	wait_total "$PID5" 6 10
full2=$(recs "$PID5" allow | grep -E '"name": ?"agprobe2"' | grep -vc '"count"')
check aggregate-exec-new-program-full-record "pid $PID5 after its exec of agprobe2: $full2 full records as agprobe2, expected 1" \
	test "$full2" = 1

# an exec of a program of the same name (the probe again): a new full record all the same
set -- $($ALICE open-repeat 3 /srv/ag/secret.txt 0 "$P" open-repeat 3 /srv/ag/secret.txt 0)
PID8=$1
check aggregate-exec-same-name-sum "pid $PID8: $(total "$PID8") allows accounted, expected 6" \
	wait_total "$PID8" 6 10
full8=$(recs "$PID8" allow | grep -vc '"count"')
check aggregate-exec-same-name-full-record "pid $PID8 after its exec of the same program: $full8 full records, expected 2" \
	test "$full8" = 2

# ---------------------------------------------------------------- a network destination
# the aggregate's key holds a file's device and inode or a destination's address in one
# place: a destination's record names it, with its count
GN=$(grant_or_fail aggregate-grant-net ag-net --user alice --for 600s)
set -- $($ALICE sendto-repeat 20 127.0.0.1 7777)
PIDN=$1
check aggregate-net-sends-allowed "sendto-repeat said '$*', expected 20 ok" test "$2" = 20
nrecs() {
	audit_lines "$(jres ag-net)" "$(jkey decision)\"allow\"" "\"actor\": ?\\{\"process\": ?\\{[^}]*\"pid\": ?$1[,}]"
}
ntotal() {
	nrecs "$1" | awk '{ if (match($0, /"count": ?[0-9]+/)) { s = substr($0, RSTART, RLENGTH); sub(/.*: ?/, "", s); t += s } else t += 1 } END { print t + 0 }'
}
w=0
while [ $w -lt 50 ] && [ "$(ntotal "$PIDN")" != 20 ]; do
	sleep 0.2
	w=$((w + 1))
done
check aggregate-net-sum-is-20 "records of pid $PIDN account for $(ntotal "$PIDN") sends, expected 20" \
	test "$(ntotal "$PIDN")" = 20
nagg=$(nrecs "$PIDN" | grep -E '"count": ?[1-9]' | head -n 1)
check aggregate-net-record-names-destination "aggregate: ${nagg:-none}" \
	contains "$nagg" '"dst_endpoint": ?\{[^}]*"ip": ?"127\.0\.0\.1"[^}]*"port": ?7777'
check aggregate-net-record-names-program "aggregate: ${nagg:-none}" \
	contains "$nagg" '"name": ?"probe"'
jitctl revoke "$GN" >/dev/null 2>&1

# ---------------------------------------------------------------- denials stay one each
set -- $($BOB open-repeat 5 /srv/ag/secret.txt 0)
PIDB=$1
check aggregate-bob-denied "bob's open-repeat said '$*', expected 5 EPERM" test "$3" = 5
sleep 3
nd=$(recs "$PIDB" deny | wc -l)
ndc=$(recs "$PIDB" deny | grep -c '"count"')
check aggregate-denials-not-aggregated "bob's pid $PIDB: $nd deny records ($ndc with a count), expected 5 (0)" \
	test "$nd" = 5 -a "$ndc" = 0

# ---------------------------------------------------------------- the ring buffer mapped once
# the consumer page, the producer page and the data, once: 2 pages + the data
rsz=$(ring_size "$JITD_PID")
page=$(getconf PAGESIZE 2>/dev/null || echo 4096)
mapped=$(bpf_mapped "$JITD_PID")
echo "aggregate: jitd's ring buffer: ${rsz:-?} bytes of data, $mapped bytes mapped;" \
	"$(grep -E '^(VmRSS|RssAnon|RssFile)' "/proc/$JITD_PID/status" | tr -s ' \t\n' ' ')"
check aggregate-ringbuf-mapped-once "ring buffer of ${rsz:-?} bytes: $mapped bytes mapped, expected $((2 * page + ${rsz:-0}))" \
	test -n "$rsz" -a "$mapped" = "$((2 * page + ${rsz:-0}))"

jitctl status --json >/tmp/status.json 2>&1
check aggregate-status-interval "status has no audit_aggregate interval_s 1: $(tr -d '\n' </tmp/status.json | grep -o '"audit_aggregate": *{[^}]*}')" \
	sh -c "tr -d '\n ' </tmp/status.json | grep -q '\"audit_aggregate\":{[^}]*\"interval_s\":1[,}]'"
check aggregate-status-counter "status counters: $(tr -d '\n' </tmp/status.json | grep -o '"counters": *{[^}]*}')" \
	grep -qE '"aggregated": ?[1-9]' /tmp/status.json
out=$(jitctl audit verify "$AUDIT" 2>&1)
check aggregate-audit-verifies "jitctl audit verify: $out" jitctl audit verify "$AUDIT"

# ---------------------------------------------------------------- counts across a crash
stop_jitd
start_jitd aggregate-restart-5s --audit-aggregate 5 || exit 1
set -- $($ALICE open-repeat 10 /srv/ag/secret.txt 0)
PID3=$1
echo "aggregate: pid $PID3's 10 opens done at $(cut -d' ' -f1 /proc/uptime) s of the boot clock"
kill9_jitd
sleep 1
start_jitd aggregate-restart-after-kill9 --audit-aggregate 5 || exit 1
if wait_total "$PID3" 10 20; then
	pass aggregate-survives-kill9
else
	# failed once in many runs (2 of 10, stop 28), cause not found: print what the next
	# look needs, the records, the aggregation's state and both jitd runs' log
	fail aggregate-survives-kill9 "pid $PID3: $(total "$PID3") allows accounted after kill -9, expected 10"
	echo "aggregate: pid $PID3's allow records (their counts and times):"
	recs "$PID3" allow | while read -r _l; do
		echo "    $(echo "$_l" | grep -oE '"(count|start_time|end_time|time)": ?("[^"]*"|[0-9]+)' | tr '\n' ' ')"
	done
	echo "aggregate: at $(cut -d' ' -f1 /proc/uptime) s: $(jitctl status --json 2>&1 | tr -d '\n ' | grep -o '"audit_aggregate":{[^}]*}')"
	show_jitd_log 80
fi

# ---------------------------------------------------------------- a clean stop writes every count
# (the current interval's too: a reboot after the stop would lose the kernel map)
stop_jitd
start_jitd aggregate-long-interval --audit-aggregate 3600 || exit 1
set -- $($ALICE open-repeat 20 /srv/ag/secret.txt 0)
PID6=$1
check aggregate-long-interval-first-only "pid $PID6: $(total "$PID6") allows written before the stop, expected 1 (the rest counting in the kernel)" \
	wait_total "$PID6" 1 10
stop_jitd
check aggregate-stop-writes-current-interval "pid $PID6: $(total "$PID6") allows accounted after a clean stop, expected 20" \
	test "$(total "$PID6")" = 20

# ---------------------------------------------------------------- off
start_jitd aggregate-off --audit-aggregate 0 || exit 1
set -- $($ALICE open-repeat 10 /srv/ag/secret.txt 0)
PID4=$1
wait_total "$PID4" 10 10
n4=$(recs "$PID4" allow | wc -l)
n4c=$(recs "$PID4" allow | grep -c '"count"')
check aggregate-off-full-records "pid $PID4: $n4 records ($n4c with a count), expected 10 (0)" \
	test "$n4" = 10 -a "$n4c" = 0
check aggregate-verifies-at-end "jitctl audit verify fails" jitctl audit verify "$AUDIT"

stop_jitd

# ---------------------------------------------------------------- a full disk keeps the counts
# an aggregate the audit file refuses stays in the kernel map for a later harvest (last: the
# chain state moves to the other audit file)
mkdir -p /tmp/agfull
mount -t tmpfs -o size=256k tmpfs /tmp/agfull
AUDIT0=$AUDIT
AUDIT=/tmp/agfull/audit.jsonl
start_jitd aggregate-full-disk-start --audit-aggregate 3600 || exit 1
set -- $($ALICE open-repeat 20 /srv/ag/secret.txt 0)
PID7=$1
check aggregate-full-disk-first-record "pid $PID7: $(total "$PID7") allows written, expected 1" \
	wait_total "$PID7" 1 10
dd if=/dev/zero of=/tmp/agfull/fill bs=4k count=1000 2>/dev/null
# bob's denials fill what is left of the audit file's last page, until one cannot be written
# (an aggregate record, with its count and times, is longer than any of them)
i=0
while ! jitctl status --json 2>/dev/null | tr -d ' \n' | grep -qE '"write_lost":[1-9]' && [ $i -lt 20 ]; do
	$BOB open-repeat 3 /srv/ag/secret.txt 0 >/dev/null
	sleep 0.5
	i=$((i + 1))
done
check aggregate-full-disk-write-lost "no write_lost in status: $(jitctl status --json 2>&1 | tr -d ' \n' | grep -o '"records":{[^}]*}')" \
	sh -c "jitctl status --json | tr -d ' \n' | grep -qE '\"write_lost\":[1-9]'"
stop_jitd # its harvest of every count meets the full disk
check aggregate-full-disk-not-written "pid $PID7: $(total "$PID7") allows written on a full disk, expected 1" \
	test "$(total "$PID7")" = 1
rm -f /tmp/agfull/fill
start_jitd aggregate-full-disk-restart --audit-aggregate 3600 || exit 1
stop_jitd
check aggregate-full-disk-counts-kept "pid $PID7: $(total "$PID7") allows accounted once the disk has room, expected 20" \
	test "$(total "$PID7")" = 20
AUDIT=$AUDIT0
umount /tmp/agfull

echo "aggregate.sh: $N_PASS passed, $N_FAIL failed"
[ "$N_FAIL" = 0 ]
