#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# usage.sh: usage-aware grants (issue 14), on every kernel (`tests/vm/run.sh BUILD usage`).
# The kernel counts each access it allows by a grant in the grant's own entry (grant_use):
# N opens under a grant give uses N; an exec of an exec resource counts once (its open half
# is not counted); another user's denials count nowhere; first and last use lie between
# realtime stamps taken around the accesses; a kill -9 and a restart of jitd keep the count,
# which keeps growing; `jitctl report --json` marks a grant never used; the counter of
# allows without a usage entry stays 0. An idle timeout (`grant --max-idle 60s`): an open
# 59 s after the grant started is allowed; with jitd killed, an open 60.5 s after that use is
# refused by the kernel alone, the deny record's time minus the last allow's within
# [60, 61.5) s; the restarted jitd ends the grant as expired, "why": "idle".
# A first-use clock (`grant --from-first-use --latest-start +40s --for 4s`): unused for 5 s
# it stays active and show says unused; the first open is allowed and the first EPERM of
# opens polled every 150 ms falls within [the kernel's first use + 4 s, + 5 s]; jitd records
# "activated" "why": "first use". One never used (--latest-start +3s) is refused at 5 s and
# ended as expired, "not used before its latest start", within 2 s of it. A first use while
# jitd is killed is found by the restarted jitd.
. /tests/lib.sh

P=$PROBE
ALICE="$P loginuid 1001 $P as 1001 $P" # alice, logged in
BOB="$P loginuid 1002 $P as 1002 $P"   # bob: no grant
JITD_POLICY=/tmp/usage-policy.json

rm -rf /srv/us
mkdir -p /srv/us
echo usage-secret >/srv/us/secret.txt
echo other >/srv/us/other.txt
echo idle >/srv/us/idle.txt
echo first >/srv/us/first.txt
echo missed >/srv/us/missed.txt
echo restart >/srv/us/restart.txt
chmod 644 /srv/us/secret.txt /srv/us/other.txt /srv/us/idle.txt /srv/us/first.txt \
	/srv/us/missed.txt /srv/us/restart.txt
cp /tests/nop /srv/us/tool && chmod 755 /srv/us/tool
cat >"$JITD_POLICY" <<'POLICY'
{
  "version": 1,
  "serial": 1,
  "resources": {
    "us-file":  { "open": ["/srv/us/secret.txt"] },
    "us-tool":  { "exec": ["/srv/us/tool"] },
    "us-other": { "open": ["/srv/us/other.txt"] },
    "us-idle":  { "open": ["/srv/us/idle.txt"] },
    "us-first": { "open": ["/srv/us/first.txt"] },
    "us-missed": { "open": ["/srv/us/missed.txt"] },
    "us-restart": { "open": ["/srv/us/restart.txt"] }
  },
  "exempt": { "uids": [0] }
}
POLICY

# uses ID: the count in `jitctl show ID --json` (usage.uses).
uses() {
	jitctl show "$1" --json 2>/dev/null | grep -o '"uses": *[0-9]*' | head -n 1 | grep -o '[0-9]*$'
}

# ufield ID KEY: usage.KEY (first_use, last_use) of grant ID.
ufield() {
	jitctl show "$1" --json 2>/dev/null | tr -d '\n' | grep -o '"usage": *{[^}]*}' |
		grep -o "\"$2\": *\"[^\"]*\"" | sed 's/.*: *"\(.*\)"/\1/'
}

# stamp [+S]: realtime to the second, RFC 3339 without fraction (+S: S seconds later).
stamp() {
	date -u -d @$(($(date +%s) + ${1:-0})) +%Y-%m-%dT%H:%M:%S
}

# within A T B: A <= T's first 19 characters <= B (ISO times compare as strings).
within() {
	awk -v a="$1" -v t="$(echo "$2" | cut -c1-19)" -v b="$3" 'BEGIN { exit !(t != "" && a <= t && t <= b) }'
}

# rt_of TIME: an RFC 3339 UTC time (with milliseconds) in ms since the epoch (busybox date).
rt_of() {
	_s=$(date -u -d "$(echo "$1" | cut -c1-19 | tr T ' ')" +%s 2>/dev/null) || return 0
	_f=$(echo "$1" | sed -n 's/.*\.\([0-9][0-9][0-9]\).*/\1/p' | sed 's/^0*//')
	echo $((_s * 1000 + ${_f:-0}))
}

start_jitd || exit 1

# the idle grant first: its minute runs while the counting checks do
GI=$(grant_or_fail usage-grant-idle us-idle --user alice --for 600s --max-idle 60s)
T_GI=$(now)

G1=$(grant_or_fail usage-grant-file us-file --user alice --for 600s)
GT=$(grant_or_fail usage-grant-tool us-tool --user alice --for 600s)
GU=$(grant_or_fail usage-grant-never-used us-other --user alice --for 600s)

check usage-new-grant-has-zero-uses "uses of $G1: $(uses "$G1"), expected 0" test "$(uses "$G1")" = 0
check usage-new-grant-no-first-use "first_use of $G1: $(ufield "$G1" first_use)" test -z "$(ufield "$G1" first_use)"

# ------------------------------------------------------------------ counting

T_BEFORE=$(stamp)
n_ok=0
for i in 1 2 3; do
	[ "$(result $ALICE open /srv/us/secret.txt)" = ok ] && n_ok=$((n_ok + 1))
done
T_AFTER=$(stamp 1)
check usage-opens-allowed "$n_ok of 3 opens of alice were ok" test "$n_ok" = 3
check usage-uses-count-allowed-uses "uses of $G1: $(uses "$G1"), expected 3" test "$(uses "$G1")" = 3

expect usage-exec-allowed ok $ALICE exec /srv/us/tool
check usage-exec-counts-once "uses of $GT: $(uses "$GT"), expected 1 (not 2: the exec's open half)" \
	test "$(uses "$GT")" = 1

expect usage-bob-denied-open EPERM $BOB open /srv/us/secret.txt
expect usage-bob-denied-exec EPERM $BOB exec /srv/us/tool
expect usage-bob-denied-other EPERM $BOB open /srv/us/other.txt
check usage-bob-denials-count-nowhere \
	"uses after bob's denials: $(uses "$G1") $(uses "$GT") $(uses "$GU"), expected 3 1 0" \
	test "$(uses "$G1") $(uses "$GT") $(uses "$GU")" = "3 1 0"

F1=$(ufield "$G1" first_use)
L1=$(ufield "$G1" last_use)
echo "usage: opens between $T_BEFORE and $T_AFTER; first_use $F1 last_use $L1"
check usage-first-last-within-probe-times "first_use $F1 / last_use $L1 not within $T_BEFORE..$T_AFTER" \
	sh -c "$(command -v awk) -v a='$T_BEFORE' -v f='$(echo "$F1" | cut -c1-19)' -v l='$(echo "$L1" | cut -c1-19)' -v b='$T_AFTER' \
		'BEGIN { exit !(f != \"\" && l != \"\" && a <= f && f <= l && l <= b) }'"
check usage-list-shows-uses "list has no USES column" sh -c "jitctl list | head -n 1 | grep -q 'USES *LAST USE'"
check usage-show-text-says-uses "show $G1 has no 'uses: 3' line" sh -c "jitctl show $G1 | grep -q '^uses: *3'"

# ------------------------------------------------------------------ jitd crashes and restarts

kill9_jitd
expect usage-open-while-jitd-down ok $ALICE open /srv/us/secret.txt
start_jitd usage-jitd-restarts || exit 1
check usage-survives-kill9 "uses of $G1 after kill -9 and restart: $(uses "$G1"), expected 4" \
	test "$(uses "$G1")" = 4
expect usage-open-after-restart ok $ALICE open /srv/us/secret.txt
check usage-keeps-growing-after-restart "uses of $G1: $(uses "$G1"), expected 5" test "$(uses "$G1")" = 5
# the same instant (a restarted jitd converts the kernel's boot-clock time again: the two
# conversions may fall on either side of a millisecond)
t_f1=$(rt_of "$(ufield "$G1" first_use)")
t_f0=$(rt_of "$F1")
d_f1=$((${t_f1:-0} - ${t_f0:-0}))
check usage-first-use-kept-after-restart "first_use $(ufield "$G1" first_use), was $F1" \
	test -n "$F1" -a "$d_f1" -ge -2 -a "$d_f1" -le 2

# ------------------------------------------------------------------ first-use clock


GF=$(grant_or_fail usage-first-grant us-first --user alice --from-first-use --latest-start +40s --for 4s)
GM=$(grant_or_fail usage-first-missed-grant us-missed --user alice --from-first-use --latest-start +3s --for 60s)
GR=$(grant_or_fail usage-first-restart-grant us-restart --user alice --from-first-use --for 600s)
check usage-first-use-clock-field "show $GF --json has no clock first_use" \
	sh -c "jitctl show $GF --json | grep -qE '\"clock\": ?\"first_use\"'"
sleep 5
check usage-first-unused-still-active "grant $GF is $(jfield "$GF" state) after 5 s unused" \
	test "$(jfield "$GF" state)" = active
check usage-first-show-says-unused "show $GF: $(jitctl show "$GF" | grep clock)" \
	sh -c "jitctl show $GF | grep -q '^clock: .*unused.*first use by'"
check usage-first-no-first-use-yet "first_use of $GF: $(ufield "$GF" first_use)" test -z "$(ufield "$GF" first_use)"
expect usage-first-open-at-T ok $ALICE open /srv/us/first.txt
t_deny=""
i=0
while [ $i -lt 60 ]; do
	if [ "$(result $ALICE open /srv/us/first.txt)" = EPERM ]; then
		t_deny=polled
		break
	fi
	sleep 0.15
	i=$((i + 1))
done
F_GF=$(ufield "$GF" first_use)
t_first=$(rt_of "$F_GF")
# the first EPERM's time as the kernel stamped its deny record
[ -n "$t_deny" ] && wait_audit 3 "$(jres us-first)" "$(jkey decision)\"deny\"" >/dev/null &&
	t_deny=$(audit_lines "$(jres us-first)" "$(jkey decision)\"deny\"" | head -n 1 |
		grep -oE '"time": ?[0-9]+' | grep -oE '[0-9]+$')
echo "usage: first-use: kernel first use $F_GF ($t_first ms), first EPERM at ${t_deny:-none} ms"
check usage-first-use-window "first EPERM - first use = $((${t_deny:-0} - ${t_first:-0})) ms, expected [4000, 5000]" \
	test -n "$t_deny" -a -n "$t_first" -a "$((${t_deny:-0} - ${t_first:-0}))" -ge 4000 -a \
	"$((${t_deny:-0} - ${t_first:-0}))" -le 5000
check usage-first-activated-record "no activated record with why first use" \
	grep -qE '"why": ?"first use"' "$AUDIT"
check usage-first-history "no first_use in $GF's history" sh -c "jitctl show $GF --json | grep -qE '\"event\": ?\"first_use\"'"
check usage-first-starts-at-first-use "starts of $GF: $(jfield "$GF" starts), first use $F_GF" \
	test "$(jfield "$GF" starts)" = "$F_GF"
check usage-first-ends-expired "grant $GF is $(jfield "$GF" state), expected expired" wait_state "$GF" expired 3

# never used: the kernel refuses it from its latest start, jitd ends it
expect usage-first-missed-refused EPERM $ALICE open /srv/us/missed.txt
check usage-first-missed-expired "grant $GM is $(jfield "$GM" state), expected expired" wait_state "$GM" expired 2
T_GM=$(rt_of "$(jfield "$GM" created)")
t_end=$(rt_of "$(jfield "$GM" ended)")
check usage-first-missed-ended-in-time "$GM ended $((${t_end:-0} - ${T_GM:-0})) ms after its grant, expected [3000, 5000]" \
	test -n "$t_end" -a -n "$T_GM" -a "$((${t_end:-0} - ${T_GM:-0}))" -ge 2900 -a "$((${t_end:-0} - T_GM))" -le 5000
check usage-first-missed-record "no expired record 'not used before its latest start'" \
	grep -qE '"why": ?"not used before its latest start"' "$AUDIT"
check usage-first-missed-history "no first_use_missed in $GM's history" \
	sh -c "jitctl show $GM --json | grep -q first_use_missed"

# extend of an unused first-use grant: refused, clearly
jitctl extend "$GR" --for 1h >/tmp/.ext.out 2>&1
RC=$?
check usage-first-extend-refused "extend $GR: exit $RC: $(cat /tmp/.ext.out)" \
	sh -c "test $RC = 1 && grep -q 'first use' /tmp/.ext.out"

# a first use while jitd is down: the restarted jitd finds it
kill9_jitd
expect usage-first-open-while-jitd-down ok $ALICE open /srv/us/restart.txt
start_jitd usage-first-jitd-restarts || exit 1
check usage-first-found-after-restart "no first_use in $GR's history after the restart" \
	wait_for 3 sh -c "jitctl show $GR --json | grep -qE '\"event\": ?\"first_use\"'"
expect usage-first-restart-still-ok ok $ALICE open /srv/us/restart.txt
[ -n "$GR" ] && revoke "$GR"

# ------------------------------------------------------------------ ended grants, report

check usage-revoke "jitctl revoke $G1 failed" revoke "${G1:-0}"
expect usage-revoked-denied EPERM $ALICE open /srv/us/secret.txt
check usage-kept-after-end "uses of revoked $G1: $(uses "$G1"), expected 5" test "$(uses "$G1")" = 5

jitctl report --since 1h --json >/tmp/report.json 2>&1
rep=$(tr -d ' \n' </tmp/report.json)
check usage-report-never-used "report has no never_used grant $GU: $(head -c 400 /tmp/report.json)" \
	contains "$rep" "\"id\":$GU,[^{]*(\\{[^}]*\\}[^{]*)*\"never_used\":true"
check usage-report-used-grant "report lacks $G1 with 5 uses" \
	contains "$rep" "\"id\":$G1,[^{]*(\\{[^}]*\\}[^{]*)*\"uses\":5"
jitctl report --since 1h --unused --json >/tmp/report-unused.json 2>&1
runused=$(tr -d ' \n' </tmp/report-unused.json)
check usage-report-unused-only "--unused lists a used grant or misses $GU: $(head -c 300 /tmp/report-unused.json)" \
	sh -c "echo '$runused' | grep -q '\"id\":$GU,' && ! echo '$runused' | grep -q '\"id\":$G1,'"
check usage-report-text "jitctl report (text) has no NEVER USED row" sh -c "jitctl report --since 1h | grep -q 'NEVER USED'"
asj 1001 report --since 'not a time'
check usage-report-bad-since-usage-error "report --since 'not a time' exit $RC, expected 2" test "$RC" = 2

# ------------------------------------------------------------------ idle timeout

check usage-idle-grant-shows-max-idle "show $GI has no max_idle_s 60" \
	sh -c "jitctl show $GI --json | grep -qE '\"max_idle_s\": ?60([^0-9]|\$)'"
# 59 s after the start (idle from the start until a first use): still allowed
sleep "$(awk -v a="$T_GI" -v b="$(now)" 'BEGIN { d = a + 59 - b; printf "%.2f", (d > 0 ? d : 0) }')"
expect usage-idle-open-before-max-idle ok $ALICE open /srv/us/idle.txt
T_USE=$(now)
kill9_jitd
sleep "$(awk -v a="$T_USE" -v b="$(now)" 'BEGIN { d = a + 60.5 - b; printf "%.2f", (d > 0 ? d : 0) }')"
expect usage-idle-kernel-refuses-without-jitd EPERM $ALICE open /srv/us/idle.txt
start_jitd usage-idle-jitd-restarts || exit 1
wait_audit 5 "$(jres us-idle)" "$(jkey decision)\"deny\"" >/dev/null
t_allow=$(audit_lines "$(jres us-idle)" "$(jkey decision)\"allow\"" | tail -n 1 | grep -oE '"time": ?[0-9]+' | grep -oE '[0-9]+$')
t_deny=$(audit_lines "$(jres us-idle)" "$(jkey decision)\"deny\"" | head -n 1 | grep -oE '"time": ?[0-9]+' | grep -oE '[0-9]+$')
echo "usage: idle: last allow at ${t_allow:-?} ms, first deny at ${t_deny:-?} ms"
check usage-idle-kernel-times "deny - last allow = $((${t_deny:-0} - ${t_allow:-0})) ms, expected [60000, 61500)" \
	test "$((${t_deny:-0} - ${t_allow:-0}))" -ge 60000 -a "$((${t_deny:-0} - ${t_allow:-0}))" -lt 61500
check usage-idle-jitd-ends-it "grant $GI is $(jfield "$GI" state), expected expired" wait_state "$GI" expired 3
check usage-idle-history "no idle_expired in $GI's history" sh -c "jitctl show $GI --json | grep -q idle_expired"
check usage-idle-expired-record "no expired record with why idle" grep -qE '"why": ?"idle"' "$AUDIT"
check usage-idle-uses-kept "uses of $GI: $(uses "$GI"), expected 1" test "$(uses "$GI")" = 1

# ------------------------------------------------------------------ counters

jitctl status --json >/tmp/status.json 2>&1
check usage-status-use-missing-zero "status counters: $(tr -d '\n' </tmp/status.json | grep -o '"counters": *{[^}]*}')" \
	grep -qE '"use_missing": ?0([^0-9]|$)' /tmp/status.json
check usage-status-use-expired "status counters: no use_expired >= 1" \
	grep -qE '"use_expired": ?[1-9]' /tmp/status.json

[ -n "$GT" ] && revoke "$GT"
[ -n "$GU" ] && revoke "$GU"
stop_jitd
echo "usage.sh: $N_PASS passed, $N_FAIL failed"
[ "$N_FAIL" = 0 ]
