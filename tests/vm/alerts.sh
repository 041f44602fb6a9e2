#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# alerts.sh: jitd's alerts (`tests/vm/run.sh BUILD alerts`, 6.12: the agent's logic on real
# kernel decisions). Policy: tests/vm/policy-alerts.json (policy-workflow.json's rules plus
# "alerts": denials 5 per 1m, refused requests 3 per 10m, quiet 10m, and "hours" rewritten
# here to leave out today, so that every request is outside them). Each threshold is seen
# not crossed, then crossed: one OCSF Detection Finding (2004) record per (kind, subject),
# the rest held back within "quiet" and counted in `jitctl status --json`. A governed root
# (uid 0, login uid alice) reaching jitd's BPF objects or signalling jitd is denied and
# raises one "tamper" alert of severity 5. The audit file still verifies.
. /tests/lib.sh

P=$PROBE
GOV="$P loginuid 1001" # governed root: uid 0, login uid alice
SECRET=/srv/secret.txt
JITD_POLICY=/tmp/alerts-policy.json
JITD_STATE=/var/lib/jitd-alerts

mkdir -p /srv/vault /opt/bin /sys/fs/cgroup/exempt
echo s >$SECRET && chmod 644 $SECRET
cp /tests/nop /opt/bin/tool
today=$(date +%a | tr '[:upper:]' '[:lower:]')
sed -e "s/\"$today\", //" -e "s/, \"$today\"//" /tests/policy-alerts.json >"$JITD_POLICY"
check alerts-hours-leave-out-today "$today still in $(grep days "$JITD_POLICY")" \
	sh -c "! grep -q '\"$today\"' $JITD_POLICY"
rm -rf "$JITD_STATE"

start_jitd alerts-jitd-starts || exit 1
JPID=$JITD_PID

# n_alerts KIND UID: the alert records of KIND about subject UID.
n_alerts() {
	grep -E '"class_uid": ?2004' "$AUDIT" | grep -E "\"kind\": ?\"$1\"" |
		grep -cE "\"subject\": ?\\{\"uid\": ?$2[,}]"
}

# has_alerts KIND UID N: exactly N such records (a function: wait_for re-counts each time).
has_alerts() {
	[ "$(n_alerts "$1" "$2")" = "$3" ]
}

# alert_line KIND UID: the first such record.
alert_line() {
	grep -E '"class_uid": ?2004' "$AUDIT" | grep -E "\"kind\": ?\"$1\"" |
		grep -E "\"subject\": ?\\{\"uid\": ?$2[,}]" | head -n 1
}

# n_denials UID: deny records of subject UID.
n_denials() {
	audit_lines '"decision": ?"deny"' "$(juid "$1")" | wc -l
}

# stat_kind KIND FIELD: status.alerts.by_kind.KIND.FIELD.
stat_kind() {
	jitctl status --json | tr -d ' \n' | grep -o "\"$1\":{\"raised\":[0-9]*,\"suppressed\":[0-9]*}" |
		grep -o "\"$2\":[0-9]*" | cut -d: -f2
}

# at_least N CMD...: CMD's output is a number >= N.
at_least() {
	_n=$1
	shift
	_v=$("$@")
	[ -n "$_v" ] && [ "$_v" -ge "$_n" ]
}

# ------------------------------------------------------------------ a burst of denials

i=0
while [ $i -lt 4 ]; do
	$P as 1002 $P open $SECRET >/dev/null 2>&1
	i=$((i + 1))
done
check alerts-four-denials-recorded "$(n_denials 1002) deny records" wait_for 10 at_least 4 n_denials 1002
check alerts-four-denials-no-alert "$(n_alerts denial_burst 1002) alerts" test "$(n_alerts denial_burst 1002)" = 0
expect alerts-fifth-denial-eperm EPERM $P as 1002 $P open $SECRET
check alerts-fifth-denial-one-2004-record "$(n_alerts denial_burst 1002) alerts" \
	wait_for 10 has_alerts denial_burst 1002 1
line=$(alert_line denial_burst 1002)
echo "alerts: the burst record: $line"
check alerts-burst-record-is-detection-finding "got: $line" contains "$line" '"type_uid": ?200401'
check alerts-burst-record-is-alert "got: $line" contains "$line" '"is_alert": ?true'
check alerts-burst-record-severity-high "got: $line" contains "$line" '"severity_id": ?4'
check alerts-burst-record-names-resource "got: $line" contains "$line" '"resource": ?"secrets"'
i=0
while [ $i -lt 10 ]; do
	$P as 1002 $P open $SECRET >/dev/null 2>&1
	i=$((i + 1))
done
check alerts-fifteen-denials-recorded "$(n_denials 1002) deny records" wait_for 10 at_least 15 n_denials 1002
check alerts-ten-more-no-second-record "$(n_alerts denial_burst 1002) alerts" test "$(n_alerts denial_burst 1002)" = 1
check alerts-status-burst-suppressed "status: $(stat_kind denial_burst suppressed)" \
	at_least 1 stat_kind denial_burst suppressed
check alerts-status-burst-raised-1 "status: $(stat_kind denial_burst raised)" \
	test "$(stat_kind denial_burst raised)" = 1

# ------------------------------------------------------------------ refused requests

asj 1002 request secrets --for 60s --reason INC-1
check alerts-bob-request-refused "exit $RC: $OUT" test "$RC" = 1
asj 1002 request secrets --for 60s --reason INC-2
check alerts-two-refusals-no-alert "$(n_alerts refused_requests 1002) alerts" \
	test "$(n_alerts refused_requests 1002)" = 0
asj 1002 request secrets --for 60s --reason INC-3
check alerts-third-refusal-one-alert "$(n_alerts refused_requests 1002) alerts" \
	test "$(n_alerts refused_requests 1002)" = 1
line=$(alert_line refused_requests 1002)
check alerts-refusal-alert-carries-messages "got: $line" contains "$line" '"evidence": ?\["[^"]*requester'
check alerts-refusal-alert-severity-medium "got: $line" contains "$line" '"severity_id": ?3'
n=$(grep -E '"event": ?"requested"' "$AUDIT" | grep -cE "$(juid 1002)")
check alerts-refusals-have-no-record-of-their-own "$n requested records by bob" test "$n" = 0

# ------------------------------------------------------------------ requests outside the hours

asj 1001 request tool --for 3s
check alerts-off-hours-request-granted "exit $RC: $OUT" test "$RC" = 0
check alerts-off-hours-request-one-alert "$(n_alerts off_hours_request 1001) alerts" \
	test "$(n_alerts off_hours_request 1001)" = 1
line=$(alert_line off_hours_request 1001)
check alerts-off-hours-names-resource "got: $line" contains "$line" '"resources": ?\["tool"\]'
# the same policy with every day in its hours (serial 2): the next request raises nothing
before="$(stat_kind off_hours_request raised)/$(stat_kind off_hours_request suppressed)"
sed -e 's/"serial": 1/"serial": 2/' /tests/policy-alerts.json >/tmp/alerts-inside.json
out=$(jitctl policy apply /tmp/alerts-inside.json 2>&1)
check alerts-inside-hours-policy-applied "exit $?: $out" jitctl status
wait_for 10 sh -c 'jitctl status --json | grep -qE "\"serial\": ?2"'
asj 1001 request tool --for 3s
check alerts-inside-hours-request-granted "exit $RC: $OUT" test "$RC" = 0
after="$(stat_kind off_hours_request raised)/$(stat_kind off_hours_request suppressed)"
check alerts-inside-hours-no-alert "before $before, after $after" test "$before" = "$after"

# ------------------------------------------------------------------ tamper

ids=$($P jitd-bpf-ids)
map_id=$(echo "$ids" | awk '$1 == "map" && $3 == "grants" { print $2; exit }')
check alerts-found-grants-map-id "ids: $(echo "$ids" | tr '\n' ' ')" test -n "$map_id"
check alerts-no-tamper-alert-before "$(n_alerts tamper 1001) alerts" test "$(n_alerts tamper 1001)" = 0
expect alerts-gov-root-bpf-map-eperm EPERM $GOV $P bpf-getfd map "$map_id"
check alerts-tamper-one-alert "$(n_alerts tamper 1001) alerts" \
	wait_for 10 has_alerts tamper 1001 1
line=$(alert_line tamper 1001)
check alerts-tamper-severity-critical "got: $line" contains "$line" '"severity_id": ?5'
check alerts-tamper-names-bpf "got: $line" contains "$line" '"op": ?"bpf"'
expect alerts-gov-root-sigterm-jitd-eperm EPERM $GOV $P kill "$JPID" 15
check alerts-tamper-within-quiet-counted "status: $(stat_kind tamper suppressed)" \
	wait_for 10 at_least 1 stat_kind tamper suppressed
check alerts-tamper-within-quiet-not-raised "$(n_alerts tamper 1001) alerts" \
	test "$(n_alerts tamper 1001)" = 1
check alerts-jitd-alive "jitd $JPID gone" kill -0 "$JPID"
# the other route: a login uid change, by bob (another subject: its own quiet)
expect alerts-bob-loginuid-change-eperm EPERM $P as 1002 $P setloginuid 1001
check alerts-loginuid-change-tamper-alert "$(n_alerts tamper 1002) alerts" \
	wait_for 10 has_alerts tamper 1002 1
line=$(alert_line tamper 1002)
check alerts-loginuid-tamper-names-op "got: $line" contains "$line" '"op": ?"loginuid"'


# ------------------------------------------------------------------ the stream

out=$(jitctl audit verify "$AUDIT" 2>&1)
check alerts-audit-verify-passes "exit $?: $out" jitctl audit verify "$AUDIT"
st=$(jitctl status --json | tr -d ' \n')
check alerts-status-json-has-counters "got: $st" contains "$st" '"alerts":\{"raised":[0-9]+,"suppressed":[0-9]+'
out=$(jitctl status 2>&1)
check alerts-status-human-line "got: $out" contains "$out" '^alerts: +[0-9]+ raised, [0-9]+ held back'
stop_jitd
jitd --unload >/dev/null 2>&1
echo "alerts.sh: $N_PASS passed, $N_FAIL failed, $N_SKIP skipped"
[ "$N_FAIL" = 0 ]
