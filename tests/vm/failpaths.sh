#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# failpaths.sh: the agent's failure paths (`tests/vm/run.sh BUILD failpaths`; tests.sh runs
# it on one kernel). A second jitd on the same state directory exits 1 naming the first and
# leaves it reachable; `jitd --unload` refuses while a jitd runs. A state file with entries
# jitd could not have written (a missing state, max_duration_s 92200000000, a start in
# 1678 or at INT64_MAX, a cgroup without its id) starts jitd with those refused and
# reported, never enforced, and the good entry kept and enforced. A reason_pattern that
# would stall jitd is refused at policy check, quickly.
. /tests/lib.sh
JITD_START_WAIT=600

mkdir -p /srv && echo s >/srv/secret.txt && chmod 644 /srv/secret.txt
mkdir -p /srv/vault/a/b/c /opt/bin && echo d >/srv/vault/a/b/c/deep.txt
cp /tests/nop /opt/bin/tool
mkdir -p /sys/fs/cgroup/exempt

# lacks TEXT REGEX: TEXT has no match of REGEX
lacks() {
	! echo "$1" | grep -qE -- "$2"
}

# ------------------------------------------------------------------ one jitd per state dir
if start_jitd fp-jitd-starts; then
	FIRST=$JITD_PID
	check fp-lock-file-holds-pid "$(cat "$JITD_STATE/jitd.lock" 2>&1)" \
		grep -qx "$FIRST" "$JITD_STATE/jitd.lock"
	# same state dir and same socket: what used to take the socket over
	out=$(timeout 60 jitd --policy "$JITD_POLICY" --socket "$JITD_SOCK" \
		--state-dir "$JITD_STATE" --audit-file "$AUDIT" 2>&1)
	rc=$?
	check fp-second-jitd-exits-1 "exit $rc: $out" test "$rc" = 1
	check fp-second-jitd-names-first "got: $out" contains "$out" \
		"another jitd \(pid $FIRST\) is running with state dir $JITD_STATE; stop it first"
	# a different socket, same state dir: refused as well (two writers of grants.json)
	out=$(timeout 60 jitd --policy "$JITD_POLICY" --socket /run/jitd/other.sock \
		--state-dir "$JITD_STATE" --audit-file "$AUDIT" 2>&1)
	rc=$?
	check fp-second-jitd-other-socket-exits-1 "exit $rc: $out" test "$rc" = 1
	check fp-second-jitd-other-socket-not-bound "/run/jitd/other.sock exists" \
		test ! -e /run/jitd/other.sock
	check fp-first-jitd-still-runs "pid $FIRST gone" kill -0 "$FIRST"
	out=$(jitctl status 2>&1)
	rc=$?
	check fp-first-jitd-still-answers-status "exit $rc: $out" test "$rc" = 0
	ID=$(jitctl grant secrets --uid 1001 --for 60s 2>&1)
	check fp-socket-still-grants "got: $ID" contains "$ID" '^[0-9]+$'
	expect fp-granted-open-allowed ok $PROBE as 1001 $PROBE open /srv/secret.txt
	jitctl revoke "$ID" >/dev/null 2>&1
	out=$(timeout 60 jitd --check-policy --policy "$JITD_POLICY" --state-dir "$JITD_STATE" 2>&1)
	rc=$?
	check fp-check-policy-needs-no-lock "exit $rc: $out" test "$rc" = 0
	out=$(jitd --unload --state-dir "$JITD_STATE" 2>&1)
	rc=$?
	check fp-unload-refused-while-jitd-runs "exit $rc: $out" test "$rc" = 1
	check fp-unload-refusal-names-jitd "got: $out" contains "$out" "another jitd \(pid $FIRST\)"
	check fp-unload-refused-pins-kept "no /sys/fs/bpf/jitd" test -e /sys/fs/bpf/jitd
	check fp-jitd-enforcing-after-refusals "jitctl status exit $?" jitctl status
	# a start-up warning (a protected path that does not exist yet) is said once, not again
	# when the maps are filled again (after start, on a reload)
	kill -HUP "$FIRST"
	sleep 2
	n=$(grep -c "resource later: /srv/later/file.txt: No such file" "$JITD_LOG")
	check fp-start-up-warning-said-once "said $n times in $JITD_LOG" test "$n" = 1
	stop_jitd
fi

# ------------------------------------------------------------------ untrusted state file
NOW=$(date +%s)
S=${NOW}000000000
E=$((NOW + 3600))000000000
# entry ID UID [SED]: an active grant of secrets to UID, edited by the sed expression SED
entry() {
	echo "{\"id\":$1,\"resources\":[\"secrets\"],\"state\":\"active\",\"kind\":\"direct\",\
\"created_ns\":$S,\"starts_ns\":$S,\"expires_ns\":$E,\"ended_ns\":0,\"starts_boot\":0,\
\"expires_boot\":0,\"by_uid\":0,\"uid\":$2,\"requester_uid\":0,\"duration_s\":3600,\
\"max_duration_s\":0,\"approvals_needed\":0,\"history\":[]}" | sed "${3:-s/^//}"
}
# a boot id of another boot: every time is re-armed from the wall clock
{
	echo "{\"version\":1,\"boot_id\":\"another-boot\",\"next_id\":3,\"grants\":["
	entry 1 1001
	echo ","
	entry 2 1002 's/"max_duration_s":0/"max_duration_s":92200000000/'
	echo ","
	entry 3 1003 's/"state":"active",//'
	echo ","
	entry 4 1004 "s/\"starts_ns\":$S/\"starts_ns\":-9214560000000000000/"
	echo ","
	entry 5 1005 "s/\"starts_ns\":$S/\"starts_ns\":9223372036854775807/"
	echo ","
	entry 6 1006 's/"history"/"cgroup":"\/exempt","history"/'
	echo "]}"
} >"$JITD_STATE/grants.json"
: >"$JITD_LOG"
if start_jitd fp-jitd-starts-with-bad-state-entries; then
	n=$(grep -c "refused, not enforced" "$JITD_LOG")
	check fp-five-bad-entries-reported \
		"$n reported: $(grep refused "$JITD_LOG" | head -c 600)" test "$n" = 5
	check fp-missing-state-reported "$(grep 'id 3)' "$JITD_LOG")" \
		grep -q "(id 3) refused, not enforced: 'state' is missing" "$JITD_LOG"
	check fp-max-duration-reported "$(grep 'id 2)' "$JITD_LOG")" \
		grep -q "(id 2) refused.*max_duration_s" "$JITD_LOG"
	check fp-year-1678-reported "$(grep 'id 4)' "$JITD_LOG")" \
		grep -q "(id 4) refused.*starts_ns" "$JITD_LOG"
	check fp-cgroup-without-id-reported "$(grep 'id 6)' "$JITD_LOG")" \
		grep -q "(id 6) refused.*cgroup_id" "$JITD_LOG"
	check fp-refused-file-kept "no $JITD_STATE/grants.json.refused" \
		grep -q '"max_duration_s":92200000000' "$JITD_STATE/grants.json.refused"
	out=$(jitctl list --json 2>&1)
	check fp-good-entry-kept "got: $out" contains "$out" '"id": ?1,'
	check fp-bad-entries-not-listed "got: $out" lacks "$out" '"id": ?[2-6],'
	expect fp-good-entry-enforced-alice-open-allowed ok \
		$PROBE as 1001 $PROBE open /srv/secret.txt
	for u in 1002 1003 1004 1005 1006; do
		expect "fp-refused-entry-uid-$u-open-denied" EPERM \
			$PROBE as $u $PROBE open /srv/secret.txt
	done
	ID=$(jitctl grant secrets --uid 1007 --for 60s 2>&1)
	check fp-refused-ids-not-reused "new grant id: $ID" test "$ID" -gt 6
	stop_jitd
fi

# ------------------------------------------------------------------ reason_pattern
RULE='"rules": [{"resources": ["secrets"], "requesters": ["user:alice"], "max_duration": "1h"'
RULE=$RULE', "reason_pattern": "^(a*)*\\\\1$"}],'
sed "s|\"exempt\"|$RULE \"exempt\"|" "$JITD_POLICY" >/tmp/bad-pattern.json
T0=$(now)
out=$(timeout 60 jitd --check-policy --policy /tmp/bad-pattern.json 2>&1)
rc=$?
check fp-stalling-pattern-refused "exit $rc: $out" test "$rc" = 1
check fp-stalling-pattern-error-names-rule "got: $out" contains "$out" \
	"rules\[0\].reason_pattern.*back-reference"
check fp-stalling-pattern-refused-quickly "took $(fsub "$(now)" "$T0")s" \
	fcmp "$(fsub "$(now)" "$T0")" lt 5

# ------------------------------------------------------------------ no policy file yet
# A policy directory with nothing in it (a fresh install): jitd stays up, enforces nothing
# (its guard neither: root may write the first policy) and says so, then starts by itself
# when a policy file appears; but never while an earlier policy's enforcement is pinned.
mkdir -p /tmp/empty.d /tmp/fp-empty-state
rm -f /tmp/empty.d/*
if start_jitd fp-pinning-jitd-starts; then
	stop_jitd
	out=$(timeout 60 jitd --policy /tmp/empty.d --socket "$JITD_SOCK" \
		--state-dir /tmp/fp-empty-state --audit-file "$AUDIT" 2>&1)
	rc=$?
	check fp-empty-policy-dir-refused-while-pinned "exit $rc: $out" test "$rc" = 1
	check fp-empty-policy-dir-refusal-says-why "got: $out" contains "$out" "is pinned in /sys/fs/bpf/jitd"
	expect fp-empty-policy-dir-pinned-enforcement-holds EPERM \
		$PROBE as 1002 $PROBE open /srv/secret.txt
fi
jitd --unload >/dev/null 2>&1
jitd --policy /tmp/empty.d --socket "$JITD_SOCK" --state-dir /tmp/fp-empty-state \
	--audit-file "$AUDIT" >>"$JITD_LOG" 2>&1 &
JITD_PID=$!
check fp-empty-policy-dir-says-so "$(tail -n 3 "$JITD_LOG")" \
	wait_for 10 grep -q "no policy files in /tmp/empty.d: nothing is enforced; waiting" "$JITD_LOG"
sleep 1.5
check fp-empty-policy-dir-jitd-waits "jitd exited" kill -0 "$JITD_PID"
check fp-empty-policy-dir-nothing-pinned "/sys/fs/bpf/jitd exists" test ! -e /sys/fs/bpf/jitd
expect fp-empty-policy-dir-nothing-enforced ok $PROBE as 1001 $PROBE open /srv/secret.txt
cp "$JITD_POLICY" /tmp/empty.d/50-policy.json
check fp-first-policy-file-written-while-waiting "cp failed" test -s /tmp/empty.d/50-policy.json
_i=0
while [ $_i -lt 3000 ] && ! jitctl status >/dev/null 2>&1 && kill -0 "$JITD_PID" 2>/dev/null; do
	sleep 0.2
	_i=$((_i + 1))
done
check fp-first-policy-file-starts-enforcement "jitctl status: $(jitctl status 2>&1 | head -n 2)" \
	jitctl status
expect fp-first-policy-enforced EPERM $PROBE as 1001 $PROBE open /srv/secret.txt
stop_jitd

# ------------------------------------------------------------------ pins of another shape
# An upgrade whose maps changed size (the grants map of an older build: 65536 entries, one
# stale key) must neither fail to start nor keep the old size: the pin is replaced, and the
# state file's grants are enforced again through the new map. A governed root looping over
# the BPF ids meanwhile gets a descriptor of no new object.
if start_jitd fp-shape-jitd-starts; then
	gid=$(grant secrets --user alice --for 1h --reason fp-shape)
	stop_jitd
	GRANTS_PIN=/sys/fs/bpf/jitd/grants
	rm -f "$GRANTS_PIN"
	expect fp-shape-old-pin-made ok $PROBE bpf-oldpin "$GRANTS_PIN" 16 24 65536
	# and a grant_use of another size: replaced too, its counts merged again before the swap
	rm -f /sys/fs/bpf/jitd/grant_use
	expect fp-shape-old-use-pin-made ok $PROBE bpf-oldpin /sys/fs/bpf/jitd/grant_use 8 72 65536
	# and an aggregate map of the layout before 72-byte keys (the program's name in the key)
	# holding 7 counted opens: carried into the new map before the new programs attach, and
	# written as one record with its count and name, as the old build would have
	rm -f /sys/fs/bpf/jitd/allow_agg
	expect fp-shape-old-agg-pin-made ok $PROBE bpf-oldagg /sys/fs/bpf/jitd/allow_agg \
		/srv/secret.txt "${gid:-0}" 0 7
	check fp-shape-old-pin-is-old "max_entries $($PROBE bpf-maxent "$GRANTS_PIN")" \
		test "$($PROBE bpf-maxent "$GRANTS_PIN")" = 65536
	# a governed root asks for a descriptor of every new map, program and link while the new
	# build loads and replaces the old one (the replacement maps and allow_agg are new)
	$PROBE loginuid 1001 $PROBE bpf-grab 60 >/tmp/grab.out 2>&1 &
	grab=$!
	sleep 1
	if start_jitd fp-shape-jitd-starts-over-an-old-pin --reload-programs; then
		kill "$grab" 2>/dev/null
		wait "$grab" 2>/dev/null
		# (libbpf's own feature probes, unnamed or libbpf_*, are not jitd's)
		grep -E '^(map|prog|link) ' /tmp/grab.out |
			grep -vE '^(map|prog) [0-9]+ ?$|^(map|prog) [0-9]+ libbpf_' >/tmp/grab.jitd
		check fp-shape-load-gives-governed-root-no-descriptor "got: $(tr '\n' ' ' </tmp/grab.jitd | head -c 400)" \
			test ! -s /tmp/grab.jitd
		n=$($PROBE bpf-maxent "$GRANTS_PIN")
		check fp-shape-grants-map-has-this-builds-size "max_entries $n" test "${n:-0}" -gt 65536
		check fp-shape-replacement-logged "$(tail -n 5 "$JITD_LOG")" \
			grep -q "grants: another build's size or layout: replaced" "$JITD_LOG"
		n=$($PROBE bpf-maxent /sys/fs/bpf/jitd/grant_use)
		check fp-shape-grant-use-map-has-this-builds-size "max_entries $n" test "${n:-0}" -gt 65536
		w=0
		while [ $w -lt 100 ] && ! grep -qE '"pid": ?4242[,}]' "$AUDIT"; do
			sleep 0.2
			w=$((w + 1))
		done
		rec=$(grep -E '"pid": ?4242[,}]' "$AUDIT" | tail -n 1)
		check fp-shape-old-aggregate-carried-with-its-count "record: ${rec:-none}; log: $(grep 'replaced map' "$JITD_LOG")" \
			contains "$rec" '"count": ?7[,}]'
		check fp-shape-old-aggregate-keeps-program-name "record: ${rec:-none}" \
			contains "$rec" '"name": ?"oldagg"'
		check fp-shape-old-aggregate-keeps-object "record: ${rec:-none}" \
			contains "$rec" '"path": ?"/srv/secret.txt"'
		check fp-shape-grant-${gid:-none}-still-active "state $(jfield "${gid:-0}" state)" \
			test "$(jfield "${gid:-0}" state)" = active
		expect fp-shape-grant-enforced-through-the-new-map ok \
			$PROBE as 1001 $PROBE open /srv/secret.txt
		expect fp-shape-others-still-denied EPERM $PROBE as 1002 $PROBE open /srv/secret.txt
		jitctl revoke "${gid:-0}" >/dev/null 2>&1
		stop_jitd
	fi
fi

jitd --unload >/dev/null 2>&1
echo "failpaths.sh: $N_PASS passed, $N_FAIL failed, $N_SKIP skipped"
[ "$N_FAIL" = 0 ]
