# SPDX-License-Identifier: GPL-2.0-only
#
# The access workflow, end to end (sourced by tests.sh after its own tests, so that its
# helpers are at hand): requests, approvals and denials by real users over the socket,
# rules (requesters, approvers, reason pattern, maximum duration), extend, jitctl exec
# (a grant for one process tree), scheduled and fleet grants, policy check/apply and
# directory watching, and kill -9 keeping pending and active grants.
#
# Policy: tests/vm/policy-workflow.json. Groups (run.sh /etc/group): dba = alice,
# sre = carol, jit-admins = carol. bob is in no group.
#   secrets: dba may request, 1 approval from sre, reason required, ^(INC|CHG)-[0-9]+
#   tool, vault: dba may request, no approval, at most 6 s
#   db: dba may request, 2 approvals from sre or bob

JITD_POLICY=/tmp/wf-policy.json
JITD_STATE=/var/lib/jitd-wf
cp /tests/policy-workflow.json "$JITD_POLICY"
rm -rf "$JITD_STATE"

JITD_ARGS="--pending-ttl 120s" # long enough for every step (two restarts: the verifier is slow under TCG), short enough to see it expire
if ! start_jitd wf-jitd-start-with-rules-policy; then
	fail wf-tests "not run: jitd did not start with $JITD_POLICY"
	return 0 2>/dev/null || exit 1
fi
SECRET=/srv/secret.txt

# ------------------------------------------------------------------ rules refuse

asj 1002 request secrets --for 60s --reason INC-1
check wf-bob-not-a-requester-refused "exit $RC: $OUT" test "$RC" = 1
check wf-bob-refusal-says-why "got: $OUT" contains "$OUT" "requester"
asj 1001 request secrets --for 60s --reason "because I want to"
check wf-reason-not-matching-pattern-refused "exit $RC: $OUT" test "$RC" = 1
check wf-reason-refusal-names-pattern "got: $OUT" contains "$OUT" "does not match"
asj 1001 request secrets --for 60s
check wf-reason-required-refused "exit $RC: $OUT" test "$RC" = 1
asj 1001 request secrets --for 2h --reason INC-1
check wf-duration-over-rule-maximum-refused "exit $RC: $OUT" test "$RC" = 1
asj 1001 request nosuch --for 1m --reason INC-1
check wf-unknown-resource-refused "exit $RC: $OUT" test "$RC" = 1
n=$(jitctl list --all --json | grep -c '"id"')
check wf-refused-requests-change-nothing "list --all has $n entries" test "$n" = 0

# ------------------------------------------------------------------ request, approve

# left pending on purpose: it must expire after --pending-ttl (checked at the end)
asj 1001 request db --for 1m
PX=$ID
PX_T0=$(now)

asj 1001 request secrets --for 5s --reason INC-42
REQ=$ID
check wf-alice-request-pending-exit-5 "exit $RC: $OUT" test "$RC" = 5
check wf-alice-request-state-pending "state $(jfield "$REQ" state)" test "$(jfield "$REQ" state)" = pending
expect wf-pending-request-alice-still-denied EPERM $P as 1001 $P open $SECRET
asj 1001 approve "$REQ"
check wf-alice-own-approval-refused "exit $RC: $OUT" test "$RC" = 1
check wf-own-approval-refusal-says-why "got: $OUT" contains "$OUT" "own request"
asj 1002 approve "$REQ"
check wf-bob-not-an-approver-refused "exit $RC: $OUT" test "$RC" = 1
check wf-still-pending-after-refused-approvals "state $(jfield "$REQ" state)" test "$(jfield "$REQ" state)" = pending
sleep 2 # the grant's clock must start at the approval, not at the request
t0=$(now)
asj 1003 approve "$REQ" --reason "looks fine"
t1=$(now)
check wf-carol-approver-approves "exit $RC: $OUT" test "$RC" = 0
check wf-approved-request-active "state $(jfield "$REQ" state)" test "$(jfield "$REQ" state)" = active
expect wf-approved-alice-allowed ok $P as 1001 $P open $SECRET
expect wf-approved-bob-still-denied EPERM $P as 1002 $P open $SECRET
show=$(jitctl show "$REQ" --json)
check wf-show-history-requested-by-alice "got: $show" contains "$show" '"event": *"requested"'
text=$(jitctl show "$REQ")
check wf-show-history-approved-by-carol "got: $text" contains "$text" 'approved +by carol \(uid 1003\): looks fine'
check wf-show-history-keeps-reasons "got: $show" contains "$show" 'looks fine'
wait_eperm 1001 8 $P open $SECRET
check_expiry wf-approved-grant-expires-5s-after-approval "$t0" "$t1" 5
check wf-expired-state-recorded "state $(jfield "$REQ" state)" wait_state "$REQ" expired 2

# request --wait returns when the request is decided: 0 when approved
$P as 1001 jitctl request secrets --for 1m --reason INC-5 --wait >/tmp/wf-wait.out 2>&1 &
WPID=$!
i=0
while [ -z "$(head -n 1 /tmp/wf-wait.out 2>/dev/null | grep -E '^[0-9]+$')" ] && [ $i -lt 100 ]; do
	sleep 0.2
	i=$((i + 1))
done
WID=$(head -n 1 /tmp/wf-wait.out)
check wf-request-wait-still-waiting-while-pending "jitctl exited early: $(cat /tmp/wf-wait.out)" kill -0 $WPID
jitctl revoke "$WID" >/dev/null 2>&1 || true
wait $WPID
rc=$?
check wf-request-wait-cancelled-exits-1 "exit $rc: $(cat /tmp/wf-wait.out)" test "$rc" = 1
$P as 1001 jitctl request secrets --for 1m --reason INC-6 --wait >/tmp/wf-wait.out 2>&1 &
WPID=$!
i=0
while [ -z "$(head -n 1 /tmp/wf-wait.out 2>/dev/null | grep -E '^[0-9]+$')" ] && [ $i -lt 100 ]; do
	sleep 0.2
	i=$((i + 1))
done
asj 1003 approve "$(head -n 1 /tmp/wf-wait.out)"
wait $WPID
rc=$?
check wf-request-wait-approved-exits-0 "exit $rc: $(cat /tmp/wf-wait.out)" test "$rc" = 0
jitctl revoke "$(head -n 1 /tmp/wf-wait.out)" >/dev/null 2>&1

# ------------------------------------------------------------------ deny

asj 1001 request secrets --for 60s --reason CHG-7
DEN=$ID
asj 1003 deny "$DEN"
check wf-deny-without-reason-usage-error "exit $RC: $OUT" test "$RC" = 2
asj 1003 deny "$DEN" --reason "not during the freeze"
check wf-carol-denies "exit $RC: $OUT" test "$RC" = 0
check wf-denied-state "state $(jfield "$DEN" state)" test "$(jfield "$DEN" state)" = denied
expect wf-denied-alice-still-denied EPERM $P as 1001 $P open $SECRET
asj 1003 approve "$DEN"
check wf-denied-request-cannot-be-approved "exit $RC: $OUT" test "$RC" = 1

# ------------------------------------------------------------------ two approvals

asj 1001 request db --for 60s
DB=$ID
asj 1003 approve "$DB"
check wf-two-approvals-first-keeps-pending "state $(jfield "$DB" state)" test "$(jfield "$DB" state)" = pending
asj 1003 approve "$DB"
check wf-two-approvals-same-person-twice-refused "exit $RC: $OUT" test "$RC" = 1
expect wf-two-approvals-one-given-still-denied EPERM $P as 1001 $P connect 127.0.0.2 5432
asj 1002 approve "$DB"
check wf-two-approvals-second-person-activates "exit $RC state $(jfield "$DB" state): $OUT" test "$(jfield "$DB" state)" = active
expect wf-two-approvals-alice-connect-ok ok $P as 1001 $P connect 127.0.0.2 5432
asj 1001 revoke "$DB"
check wf-alice-revokes-her-own-grant "exit $RC: $OUT" test "$RC" = 0
expect wf-revoked-alice-connect-denied EPERM $P as 1001 $P connect 127.0.0.2 5432

# ------------------------------------------------------------------ extend stops at the maximum

t0=$(now)
asj 1001 request tool --for 3s
t1=$(now)
TOOL=$ID
check wf-no-approval-rule-grants-at-once "exit $RC: $OUT" test "$RC" = 0
asj 1001 extend "$TOOL" --for 1m --json
check wf-extend-beyond-maximum-accepted "exit $RC: $OUT" test "$RC" = 0
check wf-extend-stops-at-6s-maximum "got: $OUT" contains "$OUT" '"duration_s": *6[,}]'
asj 1001 extend "$TOOL" --for 10s
check wf-extend-at-maximum-refused "exit $RC: $OUT" test "$RC" = 1
check wf-extend-refusal-says-maximum "got: $OUT" contains "$OUT" "maximum"
asj 1002 extend "$TOOL" --for 1s
check wf-bob-may-not-extend-alices-grant "exit $RC: $OUT" test "$RC" = 1
wait_eperm 1001 10 $P exec /opt/bin/tool
check_expiry wf-extended-grant-ends-at-maximum "$t0" "$t1" 6

# ------------------------------------------------------------------ jitctl exec

VF=/srv/vault/wf/f.txt
mkdir -p /srv/vault/wf && echo wf >$VF && chmod 755 /srv/vault/wf && chmod 644 $VF
rm -f /tmp/wf-in1 /tmp/wf-in2
$P as 1001 jitctl exec vault --for 6s -- sh -c \
	"$P open $VF >/tmp/wf-in1 2>&1; sleep 3; $P open $VF >/tmp/wf-in2 2>&1" >/tmp/wf-exec.out 2>&1 &
EXEC_PID=$!
sleep 1.5
EX=$(sed -n 's/^exec \([0-9]*\):.*/\1/p' /tmp/wf-exec.out | head -n 1)
check wf-exec-grant-made "jitctl exec said: $(cat /tmp/wf-exec.out)" test -n "$EX"
check wf-exec-cgroup-under-jitd-exec "no /sys/fs/cgroup/jitd.exec/$EX" test -d "/sys/fs/cgroup/jitd.exec/$EX"
expect wf-exec-alice-other-process-denied EPERM $P as 1001 $P open $VF
expect wf-exec-bob-denied EPERM $P as 1002 $P open $VF
wait $EXEC_PID
rc=$?
check wf-exec-returns-cmd-exit-status "exit $rc" test "$rc" = 0
check wf-exec-child-tree-allowed-at-start "got $(cat /tmp/wf-in1)" test "$(tail -n 1 /tmp/wf-in1)" = ok
check wf-exec-grandchild-allowed-later "got $(cat /tmp/wf-in2)" test "$(tail -n 1 /tmp/wf-in2)" = ok
check wf-exec-grant-ends-when-tree-exits "state $(jfield "$EX" state)" wait_state "$EX" expired 2
check wf-exec-cgroup-removed "/sys/fs/cgroup/jitd.exec/$EX still there" test ! -d "/sys/fs/cgroup/jitd.exec/$EX"
expect wf-exec-after-exit-alice-denied EPERM $P as 1001 $P open $VF
# the command's standard output is its own: jitctl exec db -- pg_dump > dump.sql
$P as 1001 jitctl exec vault --for 5s -- cat $VF >/tmp/wf-exec-stdout 2>/tmp/wf-exec-stderr
check wf-exec-stdout-is-the-commands-alone "stdout: $(od -c /tmp/wf-exec-stdout | head -n 3)" \
	cmp -s /tmp/wf-exec-stdout $VF
check wf-exec-status-line-on-stderr "stderr: $(cat /tmp/wf-exec-stderr)" \
	grep -q '^exec [0-9]*: active' /tmp/wf-exec-stderr
asj 1002 exec vault --for 60s -- $P open $VF
check wf-exec-bob-not-a-requester-refused "exit $RC: $OUT" test "$RC" = 1
asj 1001 exec secrets --for 60s --reason INC-1 -- $P open $SECRET
check wf-exec-rule-needing-approval-refused "exit $RC: $OUT" test "$RC" = 1

# ------------------------------------------------------------------ direct and scheduled grants

asj 1002 grant tool --user bob --for 1m
check wf-bob-not-admin-grant-refused "exit $RC: $OUT" test "$RC" = 1
asj 1003 grant tool --user bob --for 1m
check wf-admin-group-member-carol-grants "exit $RC: $OUT" test "$RC" = 0
expect wf-admin-grant-bob-tool-ok ok $P as 1002 $P exec /opt/bin/tool
jitctl revoke "$ID" >/dev/null

t0=$(now)
SCH=$(grant_or_fail wf-scheduled-grant-accepted secrets --user bob --start +3s --for 3s)
t1=$(now)
check wf-scheduled-state "state $(jfield "$SCH" state)" test "$(jfield "$SCH" state)" = scheduled
check wf-scheduled-list-says-when-it-starts "$(jitctl list 2>&1 | grep "^$SCH ")" \
	sh -c "jitctl list | grep -q '^$SCH .*scheduled, starts in [0-9]'"
expect wf-scheduled-not-yet-bob-denied EPERM $P as 1002 $P open $SECRET
if wait_ok 1002 6 $P open $SECRET; then
	st=$(fsub "$T_OK_AFTER" "$t0")
	late=$(fsub "$T_OK_BEFORE" "$t1")
	if fcmp "$st" lt 3; then
		fail wf-scheduled-starts-on-time "allowed ${st}s after the grant (< 3 s)"
	elif fcmp "$late" gt 4; then
		fail wf-scheduled-starts-on-time "first allowed ${late}s after the grant (> 4 s)"
	else
		pass wf-scheduled-starts-on-time
	fi
else
	fail wf-scheduled-starts-on-time "never allowed within 6 s"
fi
wait_eperm 1002 6 $P open $SECRET
check_expiry wf-scheduled-ends-on-time "$t0" "$t1" 6

# ------------------------------------------------------------------ policy check, apply, fleet grants

printf '{ "version": 1, "serial": 9,\n  "resources": {},\n  "rules": [ { "resources": ["nope"],\n    "requesters": ["group:dba"], "max_duration": "1h" } ] }\n' >/tmp/wf-bad.json
out=$(jitctl policy check /tmp/wf-bad.json 2>&1)
rc=$?
check wf-policy-check-bad-exit-1 "exit $rc: $out" test "$rc" = 1
check wf-policy-check-names-file-line-column "got: $out" contains "$out" '^/tmp/wf-bad.json:3:[0-9]+: rules\[0\]\.resources\[0\]: unknown resource'
out=$(jitctl policy check /tests/policy-workflow.json 2>&1)
check wf-policy-check-good-exit-0 "got: $out" test $? = 0
asj 1001 policy apply /tests/policy-workflow.json
check wf-policy-apply-by-non-admin-refused "exit $RC: $OUT" test "$RC" = 1

# the policy file is watched: a change without SIGHUP is reloaded
sed 's/"serial": 1,/"serial": 2,/' /tests/policy-workflow.json >/tmp/wf-p2 && cat /tmp/wf-p2 >"$JITD_POLICY"
i=0
while [ "$(serial_of)" != 2 ] && [ $i -lt 15 ]; do
	sleep 0.2
	i=$((i + 1))
done
check wf-policy-file-change-reloaded-without-sighup "serial is $(serial_of)" test "$(serial_of)" = 2

NB=$(($(date +%s) + 3))
NA=$((NB + 3))
nb=$(date -u -d @$NB +%Y-%m-%dT%H:%M:%SZ)
na=$(date -u -d @$NA +%Y-%m-%dT%H:%M:%SZ)
sed -e 's/"serial": 1,/"serial": 3,/' -e 's|^  "rules": \[|  "grants": [ { "resource": "vault", "user": "carol", "not_before": "'"$nb"'", "not_after": "'"$na"'", "reason": "CHG-9" } ], "rules": [|' \
	/tests/policy-workflow.json >/tmp/wf-fleet.json
sed 's/"serial": 3,/"serial": 2,/' /tmp/wf-fleet.json >/tmp/wf-old.json
asj 1003 policy apply /tmp/wf-old.json
check wf-policy-apply-same-serial-refused "exit $RC: $OUT" test "$RC" = 1
asj 1003 policy apply /tmp/wf-bad.json
check wf-policy-apply-invalid-refused "exit $RC: $OUT" test "$RC" = 1
check wf-policy-refused-serial-unchanged "serial is $(serial_of)" test "$(serial_of)" = 2
asj 1003 policy apply /tmp/wf-fleet.json
check wf-policy-apply-by-admin "exit $RC: $OUT" test "$RC" = 0
check wf-policy-applied-serial-3 "serial is $(serial_of)" test "$(serial_of)" = 3
expect wf-fleet-grant-not-before-carol-denied EPERM $P as 1003 $P open $VF
# not_before is a whole second: allowed from there, denied again from not_after
if wait_ok 1003 6 $P open $VF; then
	t=$(date +%s)
	echo "fleet grant: allowed at $t, not_before $NB ($nb)"
	check wf-fleet-grant-activated-on-time "allowed at $t, not_before $NB" \
		test "$t" -ge "$NB" -a "$t" -le $((NB + 1))
else
	fail wf-fleet-grant-activated-on-time "carol never allowed by 6 s (not_before $nb)"
fi
if wait_eperm 1003 6 $P open $VF; then
	t=$(date +%s)
	echo "fleet grant: denied at $t, not_after $NA ($na)"
	check wf-fleet-grant-expired-on-time "denied at $t, not_after $NA" \
		test "$t" -ge "$NA" -a "$t" -le $((NA + 1))
else
	fail wf-fleet-grant-expired-on-time "carol still allowed 6 s later (not_after $na)"
fi
check wf-policy-show-serial "got: $(jitctl policy show | head -c 200)" contains "$(jitctl policy show)" '"serial": 3'

# a pushed policy replaces the fleet grants as a whole: listed ones start, others end
NB=$(date -u -d @$(($(date +%s) - 10)) +%Y-%m-%dT%H:%M:%SZ)
NA=$(date -u -d @$(($(date +%s) + 600)) +%Y-%m-%dT%H:%M:%SZ)
sed -e 's/"serial": 1,/"serial": 4,/' -e 's|^  "rules": \[|  "grants": [ { "resource": "vault", "user": "bob", "not_before": "'"$NB"'", "not_after": "'"$NA"'" } ], "rules": [|' \
	/tests/policy-workflow.json >/tmp/wf-p4.json
sed 's/"serial": 1,/"serial": 5,/' /tests/policy-workflow.json >/tmp/wf-p5.json
jitctl policy apply /tmp/wf-p4.json >/dev/null
expect wf-fleet-grant-in-window-active-at-once ok $P as 1002 $P open $VF
FL=$(jitctl list --json | awk '/"id":/ { gsub(/[^0-9]/, "", $2); id = $2 } /"kind": "fleet"/ { print id; exit }')
jitctl policy apply /tmp/wf-p5.json >/dev/null
expect wf-fleet-grant-gone-from-new-policy-ended EPERM $P as 1002 $P open $VF
check wf-fleet-grant-removed-state-revoked "grant ${FL:-?} is $(jfield "${FL:-0}" state)" test "$(jfield "${FL:-0}" state)" = revoked

# ------------------------------------------------------------------ the socket: identity, bad input

SOCK=/run/jitd/jitd.sock
n0=$(jitctl list --all --json | grep -c '"id"')
out=$($P as 1001 $P ctl $SOCK '{"op":"request","resources":["tool"],"duration_s":5,"uid":1003}')
check wf-request-for-someone-else-refused "got: $out" contains "$out" '"ok": ?false.*always for the caller'
out=$($P as 1001 $P ctl $SOCK 'this is not json')
check wf-malformed-request-error-reply "got: $out" contains "$out" '"errno": ?"EINVAL"'
out=$($P as 1001 $P ctl $SOCK '@big')
check wf-oversized-request-e2big "got: $(echo "$out" | head -c 200)" contains "$out" '"errno": ?"E2BIG"'
out=$($P as 1001 $P ctl $SOCK '{"op":"approve","id":"7"}')
check wf-wrong-type-error-reply "got: $out" contains "$out" '"errno": ?"EINVAL"'
out=$($P as 1001 $P ctl $SOCK '{"op":"grant","resources":["tool"],"uid":1001,"duration_s":60}')
check wf-non-admin-raw-grant-eperm "got: $out" contains "$out" '"errno": ?"EPERM"'
n1=$(jitctl list --all --json | grep -c '"id"')
check wf-bad-requests-change-nothing "list --all had $n0 entries, now $n1" test "$n0" = "$n1"
asj 1002 list --mine --all --json
check wf-list-mine-bob-sees-not-alices "got: $(echo "$OUT" | head -c 300)" test -z "$(echo "$OUT" | grep '"user": "alice"')"
asj 1001 list --mine --all --json
check wf-list-mine-alice-sees-hers "got: $(echo "$OUT" | head -c 300)" contains "$OUT" '"user": "alice"'

# ------------------------------------------------------------------ --unit (without systemd: /system.slice/NAME)

mkdir -p /sys/fs/cgroup/system.slice/wf.service
UG=$(grant_or_fail wf-grant-unit-accepted tool --unit wf.service --for 30s)
check wf-grant-unit-resolves-cgroup "got: $(jitctl show "${UG:-0}" --json | grep cgroup)" \
	contains "$(jitctl show "${UG:-0}" --json)" '"cgroup": "/system.slice/wf.service"'
expect wf-grant-unit-process-in-unit-ok ok $P cgexec /system.slice/wf.service $P as 1002 $P exec /opt/bin/tool
expect wf-grant-unit-process-outside-denied EPERM $P as 1002 $P exec /opt/bin/tool
[ -n "$UG" ] && jitctl revoke "$UG" >/dev/null

# ------------------------------------------------------------------ --unit --until-unit-stops
# A CI job as a unit: the grant ends when the unit's cgroup goes (systemd removes it when the
# unit stops; here rmdir does), and a new run of the unit is not granted (not rebound).

UC=/sys/fs/cgroup/system.slice/wf-ci.service
mkdir -p $UC
UU=$(grant_or_fail wf-grant-until-unit-stops-accepted tool --unit wf-ci.service --until-unit-stops --for 10m)
check wf-until-unit-stops-in-grant "got: $(jitctl show "${UU:-0}" --json | grep -E 'unit')" \
	contains "$(jitctl show "${UU:-0}" --json)" '"until_unit_stops": true'
expect wf-until-unit-stops-process-in-unit-ok ok $P cgexec /system.slice/wf-ci.service $P as 1002 $P exec /opt/bin/tool
rmdir $UC
t0=$(now)
wait_state "${UU:-0}" expired 3
check wf-until-unit-stops-ends-when-unit-stops "state '$(jfield "${UU:-0}" state)' $(fsub "$(now)" "$t0") s after the unit's cgroup went" \
	state_is "${UU:-0}" expired
check wf-until-unit-stops-history-says-unit-stopped "got: $(jitctl show "${UU:-0}" 2>&1 | tail -n 2)" \
	contains "$(jitctl show "${UU:-0}" 2>&1)" 'unit_stopped'
check wf-until-unit-stops-expired-record "no expired record with why 'unit stopped' for ${UU:-0}" \
	grep -qE '"event": ?"expired".*"why": ?"unit stopped"|"why": ?"unit stopped".*"event": ?"expired"' "$AUDIT"
mkdir -p $UC
expect wf-until-unit-stops-new-run-not-granted EPERM $P cgexec /system.slice/wf-ci.service $P as 1002 $P exec /opt/bin/tool
# a grant whose unit stops while jitd is down ends when jitd starts (below, after kill -9)
UU2=$(grant_or_fail wf-grant-until-unit-stops-second tool --unit wf-ci.service --until-unit-stops --for 10m)

# ------------------------------------------------------------------ kill -9 keeps state

asj 1001 request secrets --for 10m --reason INC-77
KP=$ID
asj 1001 request secrets --for 10m --reason INC-78
KA=$ID
asj 1003 approve "$KA"
exp_before=$(jfield "$KA" expires)
kill9_jitd
check wf-kill9-pending-kept-without-jitd "state file lost request $KP" \
	grep -q "\"id\":$KP," "$JITD_STATE/grants.json" "$JITD_STATE/grants.json.journal"
rmdir $UC # the unit of UU2 stops while jitd is down
start_jitd wf-restart-after-kill9
check wf-until-unit-stops-ended-at-start "grant ${UU2:-0} is $(jfield "${UU2:-0}" state)" state_is "${UU2:-0}" expired
check wf-kill9-pending-still-pending "state $(jfield "$KP" state)" test "$(jfield "$KP" state)" = pending
check wf-kill9-active-still-active "state $(jfield "$KA" state)" test "$(jfield "$KA" state)" = active
check wf-kill9-same-absolute-expiry "before $exp_before, after $(jfield "$KA" expires)" test "$(jfield "$KA" expires)" = "$exp_before"
check wf-kill9-applied-policy-kept "serial is $(serial_of)" test "$(serial_of)" = 5
expect wf-kill9-active-grant-alice-allowed ok $P as 1001 $P open $SECRET
# a reboot: another boot id in the state file makes jitd re-arm from the wall-clock times
kill9_jitd
for f in "$JITD_STATE/grants.json" "$JITD_STATE/grants.json.journal"; do
	[ -f "$f" ] || continue
	sed 's/"boot_id":"[^"]*"/"boot_id":"00000000-0000-0000-0000-000000000000"/' \
		"$f" >/tmp/wf-g.json && cat /tmp/wf-g.json >"$f"
done
start_jitd wf-restart-as-after-reboot
check wf-reboot-pending-still-pending "state $(jfield "$KP" state)" test "$(jfield "$KP" state)" = pending
check wf-reboot-same-absolute-expiry "before $exp_before, after $(jfield "$KA" expires)" test "$(jfield "$KA" expires)" = "$exp_before"
expect wf-reboot-active-grant-alice-allowed ok $P as 1001 $P open $SECRET
asj 1003 approve "$KP"
check wf-kill9-pending-approvable-after-restart "exit $RC: $OUT" test "$RC" = 0
jitctl revoke "$KA" >/dev/null
jitctl revoke "$KP" >/dev/null
expect wf-revoked-after-restart-alice-denied EPERM $P as 1001 $P open $SECRET
# the request left pending at the start expires after --pending-ttl 120s
left=$(awk -v t="$(now)" -v s="$PX_T0" 'BEGIN { d = 122 - (t - s); if (d < 0) d = 0; printf "%d", d + 1 }')
check wf-pending-request-expires-after-ttl "request $PX is $(jfield "$PX" state) $(fsub "$(now)" "$PX_T0")s after it was made" \
	wait_state "$PX" expired "$left"
check wf-pending-expiry-recorded-in-history "got: $(jitctl show "$PX" | tail -n 2)" \
	contains "$(jitctl show "$PX")" 'request_expired'
stop_jitd
JITD_ARGS=""

# ------------------------------------------------------------------ a policy directory is watched

mkdir -p /tmp/wf-pdir
rm -f /tmp/wf-pdir/*
cp /tests/policy-workflow.json /tmp/wf-pdir/00-base.json
JITD_POLICY=/tmp/wf-pdir
JITD_STATE=/var/lib/jitd-wf-dir
rm -rf "$JITD_STATE"
echo public3 >/srv/public3.txt && chmod 644 /srv/public3.txt
if start_jitd wf-jitd-start-with-policy-directory; then
	expect wf-policy-dir-file-not-yet-protected ok $P as 1001 $P open /srv/public3.txt
	printf '{ "version": 1, "serial": 7, "resources": { "extra": { "open": ["/srv/public3.txt"] } } }\n' \
		>/tmp/wf-pdir/.10-extra.tmp
	mv /tmp/wf-pdir/.10-extra.tmp /tmp/wf-pdir/10-extra.json
	i=0
	while [ "$(serial_of)" != 7 ] && [ $i -lt 15 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	check wf-policy-dir-new-file-reloaded "serial is $(serial_of)" test "$(serial_of)" = 7
	expect wf-policy-dir-new-file-protected EPERM $P as 1001 $P open /srv/public3.txt
	stop_jitd
fi

# ------------------------------------------------------------------ nothing is promised that is not on disk

JITD_POLICY=/tmp/wf-policy.json
JITD_STATE=/var/lib/jitd-wf-full
rm -rf "$JITD_STATE" && mkdir -p "$JITD_STATE"
mount -t tmpfs -o size=64k tmpfs "$JITD_STATE"
if start_jitd wf-jitd-start-with-small-state-dir; then
	OK_ID=$(grant tool --user bob --for 1m)
	asj 1001 request secrets --for 1m --reason INC-3
	PEND=$ID
	dd if=/dev/zero of="$JITD_STATE/fill" bs=1k count=128 2>/dev/null
	asj 1001 request tool --for 5s
	check wf-disk-full-request-refused "exit $RC: $OUT" test "$RC" = 1
	expect wf-disk-full-unrecorded-grant-not-in-kernel EPERM $P as 1001 $P exec /opt/bin/tool
	out=$(jitctl revoke "${OK_ID:-0}" 2>&1)
	check wf-disk-full-revoke-refused "got: $out" contains "$out" "cannot revoke"
	check wf-disk-full-refused-revoke-grant-still-active "state $(jfield "${OK_ID:-0}" state)" \
		test "$(jfield "${OK_ID:-0}" state)" = active
	expect wf-disk-full-refused-revoke-bob-still-allowed ok $P as 1002 $P exec /opt/bin/tool
	asj 1003 approve "$PEND"
	check wf-disk-full-approval-refused "exit $RC: $OUT" test "$RC" = 1
	check wf-disk-full-approval-not-kept "state $(jfield "$PEND" state)" \
		test "$(jfield "$PEND" state)" = pending
	rm -f "$JITD_STATE/fill"
	asj 1003 approve "$PEND"
	check wf-disk-space-back-approval-works "exit $RC: $OUT" test "$RC" = 0
	stop_jitd
fi
umount "$JITD_STATE"
jitd --unload >/dev/null 2>&1
