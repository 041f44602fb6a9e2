#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# access.sh: what a request would do and why, by real users over the socket
# (`tests/vm/run.sh BUILD access`; 6.12 only: the agent's logic, not the kernel's).
# `request --dry-run` says granted, pending or refused (with the error and the exit status a
# real request would get) and changes nothing: `list --all`, the audit file and the kernel's
# answer stay as they were. `approvers` names the rule and carol; `policy explain` answers
# alice ("1 approval" from group:sre), bob ("no rule"), refuses a non-admin explaining
# another user, and lets an admin (carol) do it. The --json forms carry the same answers.
#
# Policy: tests/vm/policy-workflow.json (copied, never changed). Groups (run.sh): dba = alice,
# sre = carol, jit-admins = carol; bob is in no group.
. /tests/lib.sh
# shellcheck disable=SC2034 # read by start_jitd (lib.sh)
JITD_START_WAIT=600

mkdir -p /srv && echo s >/srv/secret.txt && chmod 644 /srv/secret.txt
mkdir -p /srv/vault /opt/bin && cp /tests/nop /opt/bin/tool
mkdir -p /sys/fs/cgroup/exempt
JITD_POLICY=/tmp/access-policy.json
cp /tests/policy-workflow.json "$JITD_POLICY"
P=$PROBE

# has TEXT STRING: TEXT contains STRING (no regex)
has() {
	echo "$1" | grep -qF -- "$2"
}

# flat TEXT: jitctl's indented JSON on one line, compact ("key":value, no indentation)
flat() {
	echo "$1" | sed 's/^ *//; s/": /":/g' | tr -d '\n'
}

if ! start_jitd ac-jitd-starts; then
	echo "access.sh: $N_PASS passed, $N_FAIL failed, $N_SKIP skipped"
	exit 1
fi

# something in the store, so that "unchanged" is about a non-empty list
asj 1001 request db --for 1m
check ac-pending-request-for-the-baseline "exit $RC: $OUT" test "$RC" = 5
before_list=$(jitctl list --all --json)
before_audit=$(wc -l <"$AUDIT")

# ------------------------------------------------------------------ dry-run
asj 1001 request secrets --for 30m --reason INC-42 --dry-run
check ac-dryrun-pending-exits-0 "exit $RC: $OUT" test "$RC" = 0
check ac-dryrun-pending-says-pending "got: $OUT" has "$OUT" "would be pending"
check ac-dryrun-names-rule-and-one-approval "got: $OUT" \
	has "$OUT" "rule 0 (secrets): 1 approval from group:sre, at most 1h"
check ac-dryrun-names-carol "got: $OUT" has "$OUT" "approvers: carol (1003)"
check ac-dryrun-says-nothing-requested "got: $OUT" has "$OUT" "nothing was requested"
asj 1001 request tool --for 5s --dry-run
check ac-dryrun-active-exits-0 "exit $RC: $OUT" test "$RC" = 0
check ac-dryrun-active-says-active "got: $OUT" has "$OUT" "would be active"
asj 1001 request secrets --for 30m --reason because --dry-run
check ac-dryrun-bad-reason-exits-1 "exit $RC: $OUT" test "$RC" = 1
check ac-dryrun-bad-reason-names-pattern "got: $OUT" \
	has "$OUT" "does not match the required pattern ^(INC|CHG)-[0-9]+"
check ac-dryrun-bad-reason-says-which-check "got: $OUT" has "$OUT" "reason: refused"
asj 1001 request secrets --for 2h --reason INC-1 --dry-run
check ac-dryrun-too-long-exits-1 "exit $RC: $OUT" test "$RC" = 1
check ac-dryrun-too-long-says-maximum "got: $OUT" has "$OUT" "exceeds the rule's maximum of 1h"
asj 1002 request secrets --for 30m --reason INC-1 --dry-run
check ac-dryrun-bob-refused-exits-1 "exit $RC: $OUT" test "$RC" = 1
check ac-dryrun-bob-refusal-says-why "got: $OUT" has "$OUT" "no rule lists you as a requester"
asj 1001 request secrets --for 30m --reason INC-42 --dry-run --wait
check ac-dryrun-with-wait-usage-error "exit $RC: $OUT" test "$RC" = 2
asj 1001 request secrets --for 30m --reason INC-42 --dry-run --json
json=$(flat "$OUT")
check ac-dryrun-json-exits-0 "exit $RC: $OUT" test "$RC" = 0
check ac-dryrun-json-dry-run "got: $json" has "$json" '{"ok":true,"dry_run":true,'
check ac-dryrun-json-would-pending "got: $json" has "$json" '"would":"pending"'
check ac-dryrun-json-approver-users "got: $json" \
	has "$json" '"principals":["group:sre"],"users":[{"uid":1003,"user":"carol"}]'
check ac-dryrun-json-checks-ok "got: $json" has "$json" '"duration_ok":true,"reason_ok":true'
asj 1001 request secrets --for 30m --reason because --dry-run --json
json=$(flat "$OUT")
check ac-dryrun-json-refused-exits-1 "exit $RC" test "$RC" = 1
check ac-dryrun-json-refused-has-error "exit $RC, got: $json" \
	has "$json" "\"reason_ok\":false,\"would\":\"refused\",\"error\":\"reason 'because' does not match"
check ac-dryrun-json-refused-einval "got: $json" has "$json" '"errno":"EINVAL"'

after_list=$(jitctl list --all --json)
after_audit=$(wc -l <"$AUDIT")
check ac-dryrun-list-all-unchanged "before: $before_list after: $after_list" \
	test "$before_list" = "$after_list"
check ac-dryrun-audit-line-count-unchanged "before $before_audit, after $after_audit lines" \
	test "$before_audit" = "$after_audit"
# (after the count: a denial is a record)
expect ac-dryrun-active-grants-nothing EPERM "$P" as 1001 "$P" exec /opt/bin/tool
expect ac-dryrun-secret-still-denied EPERM "$P" as 1001 "$P" open /srv/secret.txt
# the same request for real is recorded: the audit check above can fail
asj 1001 request tool --for 5s
check ac-real-request-granted "exit $RC: $OUT" test "$RC" = 0
check ac-real-request-recorded "still $after_audit lines" \
	wait_for 5 test "$(wc -l <"$AUDIT")" -gt "$after_audit"

# ------------------------------------------------------------------ approvers
asj 1001 approvers secrets
check ac-approvers-exits-0 "exit $RC: $OUT" test "$RC" = 0
check ac-approvers-names-rule "got: $OUT" has "$OUT" "alice (uid 1001): rule 0 (secrets): 1 approval"
check ac-approvers-lists-carol "got: $OUT" has "$OUT" "approvers: carol (1003)"
asj 1001 approvers db --json
json=$(flat "$OUT")
check ac-approvers-json-two-approvals "got: $json" has "$json" '"approvals":2'
check ac-approvers-json-carol-and-bob "got: $json" \
	has "$json" '"users":[{"uid":1002,"user":"bob"},{"uid":1003,"user":"carol"}]'
asj 1002 approvers secrets
check ac-approvers-bob-no-rule-exits-1 "exit $RC: $OUT" test "$RC" = 1
asj 1002 approvers secrets --user alice
check ac-approvers-other-user-non-admin-refused "exit $RC: $OUT" test "$RC" = 1
check ac-approvers-other-user-says-admins "got: $OUT" has "$OUT" "only root and admins"
asj 1003 approvers secrets --user alice
check ac-approvers-admin-for-alice "exit $RC: $OUT" has "$OUT" "alice (uid 1001): rule 0"
asj 1003 approvers secrets --user bob
check ac-approvers-admin-for-bob-exits-1 "exit $RC: $OUT" test "$RC" = 1
check ac-approvers-admin-for-bob-names-bob "got: $OUT" \
	has "$OUT" "bob: uid 1002 may not request access: no rule lists you as a requester"
asj 1001 approvers tool
check ac-approvers-no-approval-needed "exit $RC: $OUT" \
	has "$OUT" "alice (uid 1001): rule 1 (tool, vault): no approval needed, at most 6s"

# ------------------------------------------------------------------ policy explain
asj 1001 policy explain alice secrets
check ac-explain-alice-exits-0 "exit $RC: $OUT" test "$RC" = 0
check ac-explain-alice-one-approval "got: $OUT" \
	has "$OUT" "alice (uid 1001): request: 1 approval from group:sre, at most 1h"
check ac-explain-alice-rule-chosen "got: $OUT" has "$OUT" "rule 0 (secrets): 1 approval from group:sre, at most 1h, a reason matching ^(INC|CHG)-[0-9]+: chosen"
check ac-explain-alice-not-admin "got: $OUT" has "$OUT" "exempt: no, admin: no"
asj 1002 policy explain bob secrets
check ac-explain-bob-exits-0 "exit $RC: $OUT" test "$RC" = 0
check ac-explain-bob-no-rule "got: $OUT" has "$OUT" "no rule lets bob request secrets"
check ac-explain-bob-not-a-requester "got: $OUT" has "$OUT" "rule 0 (secrets): 1 approval from group:sre, at most 1h, a reason matching ^(INC|CHG)-[0-9]+: not chosen: bob is not a requester (group:dba)"
asj 1002 policy explain alice secrets
check ac-explain-other-user-non-admin-exits-1 "exit $RC: $OUT" test "$RC" = 1
check ac-explain-other-user-says-admins "got: $OUT" has "$OUT" "only root and admins"
hold=$(grant tool --user alice --for 1h)
check ac-admin-grant-for-explain "no grant id" test -n "$hold"
asj 1003 policy explain alice tool vault --json
json=$(flat "$OUT")
check ac-explain-admin-json-exits-0 "exit $RC: $OUT" test "$RC" = 0
# (the 5 s grant above may still be active: "holds grants N, $hold")
check ac-explain-json-answer-holds "got: $json" has "$json" "$hold; request: granted at once"
check ac-explain-json-holds-the-grant "got: $json" contains "$json" "\"holds\":\\[([0-9]+,)?$hold\\]"
check ac-explain-json-chosen-rule-1 "got: $json" has "$json" '"index":1,"resources":["tool","vault"],"here":true,"requester":true,"covers":true,"chosen":true'
asj 1001 policy explain alice secrets db
check ac-explain-two-resources-no-single-rule "got: $OUT" has "$OUT" "no rule lets alice request secrets, db"
check ac-explain-says-does-not-cover "got: $OUT" has "$OUT" "does not cover db"
asj 1001 policy explain alice nosuch
check ac-explain-unknown-resource-exits-1 "exit $RC: $OUT" test "$RC" = 1
jitctl policy explain root secrets >/tmp/ac-root.out 2>&1
check ac-explain-root-exempt "got: $(cat /tmp/ac-root.out)" grep -q "exempt: jitd never checks root's accesses" /tmp/ac-root.out

# policy show (its code moved into a function of its own next to explain)
out=$(jitctl policy show 2>&1)
check ac-policy-show-still-prints-policy "got: $(echo "$out" | head -c 200)" has "$out" '"reason_pattern": "^(INC|CHG)-[0-9]+"'

stop_jitd
jitd --unload >/dev/null 2>&1
echo "access.sh: $N_PASS passed, $N_FAIL failed, $N_SKIP skipped"
[ "$N_FAIL" = 0 ]
