#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# breakglass.sh: break-glass and review (`tests/vm/run.sh BUILD breakglass`, 6.12: the
# agent's side; the kernel only sees an ordinary grant). With nobody approving, alice's
# `request secrets --break-glass` is active at once and her open succeeds in the kernel;
# the audit has a `break_glass` record of severity 4 and no `granted` one. Over the rule's
# break_glass_max, without a reason, by a non-requester, or under a rule without
# break_glass_max: refused (exit 1), nothing changes. `list --unreviewed` is the backlog;
# alice may not review her own; carol (an approver) approves once and the backlog empties.
# `review --flag --revoke` revokes (open EPERM) and writes `reviewed` with verdict flag.
# kill -9 and a restart keep the review states. In fleet mode with a database that never
# answers, break-glass and review still work at once. `jitctl audit verify` passes.
#
# Policy: tests/vm/policy-breakglass.json (policy-workflow.json with "break_glass_max":
# "30m" on the secrets rule). Groups (run.sh): dba = alice, sre = carol.
. /tests/lib.sh
JITD_START_WAIT=600
P=$PROBE
SECRET=/srv/secret.txt

mkdir -p /srv/vault /opt/bin /sys/fs/cgroup/exempt
echo s >"$SECRET" && chmod 644 "$SECRET"
cp /tests/nop /opt/bin/tool
JITD_POLICY=/tmp/bg-policy.json
cp /tests/policy-breakglass.json "$JITD_POLICY"
rm -rf "$JITD_STATE"

if ! start_jitd bg-jitd-starts; then
	echo "breakglass.sh: $N_PASS passed, $N_FAIL failed"
	exit 1
fi

# ev_lines EVENT [PATTERN...]: the audit lines of agent event EVENT matching every PATTERN.
ev_lines() {
	_el=$(grep -E "\"event\": ?\"$1\"" "$AUDIT" 2>/dev/null)
	shift
	for _p in "$@"; do
		_el=$(echo "$_el" | grep -E -- "$_p")
	done
	[ -n "$_el" ] && echo "$_el"
}

# corr ID: a regex for the record's grant id (metadata.correlation_uid).
corr() {
	echo "\"correlation_uid\": ?\"$1\""
}

# unreviewed: the ids `jitctl list --unreviewed --json` lists, one a line.
unreviewed() {
	jitctl list --unreviewed --json | grep -oE "^ *\"id\": ?[0-9]+" | grep -oE '[0-9]+$'
}

expect bg-alice-denied-before EPERM $P as 1001 $P open $SECRET

# ------------------------------------------------------------------ refusals change nothing

list0=$(jitctl list --all --json)
asj 1001 request secrets --for 31m --break-glass --reason INC-9
check bg-over-max-refused "exit $RC: $OUT" test "$RC" = 1
check bg-over-max-names-the-max "got: $OUT" contains "$OUT" "break_glass_max of 30m"
asj 1001 request secrets --for 5m --break-glass
check bg-no-reason-refused "exit $RC: $OUT" test "$RC" = 1
check bg-no-reason-says-why "got: $OUT" contains "$OUT" "break-glass needs a reason"
asj 1001 request secrets --for 5m --break-glass --reason "it is down"
check bg-reason-not-matching-pattern-refused "exit $RC: $OUT" test "$RC" = 1
asj 1002 request secrets --for 5m --break-glass --reason INC-9
check bg-bob-not-a-requester-refused "exit $RC: $OUT" test "$RC" = 1
check bg-bob-refusal-says-why "got: $OUT" contains "$OUT" "requester"
asj 1001 request vault --for 5s --break-glass --reason INC-9
check bg-rule-without-break-glass-max-refused "exit $RC: $OUT" test "$RC" = 1
check bg-rule-without-key-says-why "got: $OUT" contains "$OUT" "has no 'break_glass_max'"
list1=$(jitctl list --all --json)
check bg-refusals-change-no-grant "list --all: $list1" test "$list1" = "$list0"
check bg-refusals-write-no-record "$(ev_lines break_glass | head -c 300)" \
	sh -c "! grep -qE '\"event\": ?\"break_glass\"' $AUDIT"
expect bg-refusals-alice-still-denied EPERM $P as 1001 $P open $SECRET

# ------------------------------------------------------------------ granted at once

asj 1001 request secrets --for 5m --break-glass --reason INC-9
BG=$ID
check bg-alice-break-glass-exit-0 "exit $RC: $OUT" test "$RC" = 0
check bg-active-without-approver "state $(jfield "$BG" state)" test "$(jfield "$BG" state)" = active
expect bg-alice-open-ok-in-kernel ok $P as 1001 $P open $SECRET
expect bg-bob-still-denied EPERM $P as 1002 $P open $SECRET
check bg-audit-break-glass-severity-4 "$(grep -E "$(corr "$BG")" "$AUDIT" | tail -n 2)" \
	ev_lines break_glass "$(corr "$BG")" '"severity_id": ?4[,}]' '"class_uid": ?3005[,}]'
check bg-audit-break-glass-keeps-reason "$(ev_lines break_glass "$(corr "$BG")")" \
	ev_lines break_glass "$(corr "$BG")" '"reason": ?"INC-9"'
check bg-audit-break-glass-alert-2004 "$(ev_lines alert "$(corr "$BG")" | head -c 400)" \
	ev_lines alert "$(corr "$BG")" '"class_uid": ?2004[,}]' '"kind": ?"break_glass"' '"severity_id": ?4[,}]'
check bg-audit-no-granted-record "$(ev_lines granted "$(corr "$BG")")" \
	sh -c "! grep -E '\"event\": ?\"granted\"' $AUDIT | grep -qE '$(corr "$BG")'"
ids=$(unreviewed | tr '\n' ' ')
check bg-list-unreviewed-shows-it "unreviewed: $ids" test "$ids" = "$BG "
text=$(jitctl list --unreviewed)
check bg-list-unreviewed-text-says-break-glass "got: $text" contains "$text" \
	"active, break-glass unreviewed"

# ------------------------------------------------------------------ review

asj 1001 review "$BG" --approve
check bg-alice-own-review-refused "exit $RC: $OUT" test "$RC" = 1
check bg-own-review-says-why "got: $OUT" contains "$OUT" "own break-glass"
asj 1002 review "$BG" --approve
check bg-bob-not-a-reviewer-refused "exit $RC: $OUT" test "$RC" = 1
asj 1003 review "$BG" --flag
check bg-flag-without-reason-usage-error "exit $RC: $OUT" test "$RC" = 2
ids=$(unreviewed | tr '\n' ' ')
check bg-refused-reviews-keep-backlog "unreviewed: $ids" test "$ids" = "$BG "
asj 1003 review "$BG" --approve --reason "real outage"
check bg-carol-approves "exit $RC: $OUT" test "$RC" = 0
ids=$(unreviewed | tr '\n' ' ')
check bg-backlog-empty-after-approval "unreviewed: $ids" test -z "$ids"
out=$(jitctl list --unreviewed)
check bg-list-unreviewed-says-none "got: $out" test "$out" = "no unreviewed break-glass grants"
show=$(jitctl show "$BG" --json)
check bg-review-approved-by-carol "got: $show" contains "$(echo "$show" | tr -d '\n')" \
	'"review": ?\{ *"state": ?"approved", *"uid": ?1003, *"user": ?"carol"'
text=$(jitctl show "$BG")
check bg-show-says-who-reviewed "got: $text" contains "$text" \
	'^review: +break-glass, approved by carol \(uid 1003\): real outage$'
expect bg-approved-grant-still-open-ok ok $P as 1001 $P open $SECRET
asj 1003 review "$BG" --flag --reason x
check bg-second-review-refused "exit $RC: $OUT" test "$RC" = 1
check bg-second-review-says-already "got: $OUT" contains "$OUT" "already reviewed"
check bg-audit-reviewed-approve "$(ev_lines reviewed "$(corr "$BG")")" \
	ev_lines reviewed "$(corr "$BG")" '"verdict": ?"approve"' '"class_uid": ?3004[,}]'

# flag --revoke: the kernel refuses at once (BG revoked first: BG2 alone allows the open)
jitctl revoke "$BG" >/dev/null 2>&1
expect bg-revoked-first-grant-denied EPERM $P as 1001 $P open $SECRET
asj 1001 request secrets --for 5m --break-glass --reason INC-10
BG2=$ID
check bg-second-break-glass-exit-0 "exit $RC: $OUT" test "$RC" = 0
expect bg-second-open-ok ok $P as 1001 $P open $SECRET
asj 1003 review "$BG2" --flag --revoke --reason x
check bg-flag-revoke-exit-0 "exit $RC: $OUT" test "$RC" = 0
check bg-flag-revoke-state-revoked "state $(jfield "$BG2" state)" test "$(jfield "$BG2" state)" = revoked
expect bg-flag-revoke-open-eperm EPERM $P as 1001 $P open $SECRET
check bg-audit-reviewed-flag "$(ev_lines reviewed "$(corr "$BG2")")" \
	ev_lines reviewed "$(corr "$BG2")" '"verdict": ?"flag"' '"severity_id": ?3[,}]'
check bg-audit-revoked-after-flag "$(ev_lines revoked "$(corr "$BG2")")" \
	ev_lines revoked "$(corr "$BG2")"

# ------------------------------------------------------------------ kill -9 keeps reviews

asj 1001 request secrets --for 5m --break-glass --reason INC-11
BG3=$ID
check bg-third-break-glass-exit-0 "exit $RC: $OUT" test "$RC" = 0
kill9_jitd
if start_jitd bg-jitd-restarts-after-kill9; then
	ids=$(unreviewed | tr '\n' ' ')
	check bg-restart-keeps-backlog "unreviewed: $ids" test "$ids" = "$BG3 "
	show=$(jitctl show "$BG" --json | tr -d '\n')
	check bg-restart-keeps-approved "got: $show" contains "$show" \
		'"review": ?\{ *"state": ?"approved", *"uid": ?1003'
	show=$(jitctl show "$BG2" --json | tr -d '\n')
	check bg-restart-keeps-flagged "got: $show" contains "$show" \
		'"review": ?\{ *"state": ?"flagged"'
	expect bg-restart-unreviewed-grant-still-ok ok $P as 1001 $P open $SECRET
	asj 1003 review "$BG3" --approve
	check bg-review-after-restart "exit $RC: $OUT" test "$RC" = 0
	ids=$(unreviewed | tr '\n' ' ')
	check bg-backlog-empty-after-restart-review "unreviewed: $ids" test -z "$ids"
	jitctl revoke "$BG3" >/dev/null 2>&1
fi

# ------------------------------------------------------------------ fleet mode, database gone

# A "database" that accepts the connection and never answers (the VM has no PostgreSQL):
# jitd in fleet mode keeps enforcing its cached policy, and break-glass needs nothing else.
stop_jitd
sleep 3600 | nc -l -p 5433 >/dev/null 2>&1 &
HUNG_DB=$!
if start_jitd bg-jitd-starts-in-fleet-mode-without-database \
	--fleet "host=127.0.0.1 port=5433 dbname=jitd user=jitd" --label role=db; then
	st=$(jitctl status --json | tr -d '\n' | grep -oE '"fleet": ?\{[^}]*' | head -c 300)
	check bg-fleet-mode-on-link-down "status: $st" contains "$st" '"enabled": ?true.*"connected": ?false'
	expect bg-fleet-outage-alice-denied-before EPERM $P as 1001 $P open $SECRET
	t0=$(now)
	asj 1001 request secrets --for 5m --break-glass --reason INC-12
	t1=$(now)
	BG4=$ID
	check bg-fleet-outage-break-glass-exit-0 "exit $RC: $OUT" test "$RC" = 0
	check bg-fleet-outage-break-glass-within-2s "took $(fsub "$t1" "$t0") s" \
		fcmp "$(fsub "$t1" "$t0")" lt 2
	expect bg-fleet-outage-open-ok ok $P as 1001 $P open $SECRET
	ids=$(unreviewed | tr '\n' ' ')
	check bg-fleet-outage-unreviewed "unreviewed: $ids" test "$ids" = "$BG4 "
	asj 1003 review "$BG4" --flag --revoke --reason "drill"
	check bg-fleet-outage-review-exit-0 "exit $RC: $OUT" test "$RC" = 0
	expect bg-fleet-outage-flag-revoke-eperm EPERM $P as 1001 $P open $SECRET
fi
kill "$HUNG_DB" 2>/dev/null

out=$(jitctl audit verify "$AUDIT" 2>&1)
check bg-audit-chain-verifies "$out" contains "$out" '^OK'

stop_jitd
jitd --unload >/dev/null 2>&1
echo "breakglass.sh: $N_PASS passed, $N_FAIL failed"
[ "$N_FAIL" = 0 ]
