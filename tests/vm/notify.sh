#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# notify.sh: policy "notify" targets run for real (`tests/vm/run.sh BUILD notify`, 6.12: the
# agent's part, not the kernel's). Policy: tests/vm/policy-notify.json (the workflow policy
# plus targets), jitd with --notify-jobs 2 (so at most 1 job per target at once).
#   file:  /opt/notify/append.sh appends stdin, `id -u` and /proc/self/cgroup to a file
#   http:  curl posts stdin to a busybox httpd CGI on 127.0.0.1:8080 (secrets requests)
#   down:  curl to the closed port 8081, retries 1 (vault grants)
#   hang:  `sleep 300 & sleep 300`, timeout 2s (tool revocations)
#   slow1..3: a 3 s script counting the runs alive at once (denials)
# Users: jnotify (1010) runs them; alice requests, carol approves and denies.
. /tests/lib.sh
JITD_START_WAIT=600

mkdir -p /srv /srv/vault /opt/bin && echo s >/srv/secret.txt && chmod 644 /srv/secret.txt
cp /tests/nop /opt/bin/tool
mkdir -p /sys/fs/cgroup/exempt

# ------------------------------------------------------------------ the targets
mkdir -p /opt/notify /tmp/notify /tmp/conc /tmp/www/cgi-bin
chown 1010:1010 /tmp/notify /tmp/conc
cat >/opt/notify/append.sh <<'EOF'
#!/bin/sh
f=/tmp/notify/$JITD_EVENT-$JITD_GRANT_ID.log
{
	cat
	echo "uid=$(id -u)"
	echo "cgroup=$(cat /proc/self/cgroup)"
	echo "attempt=$JITD_ATTEMPT"
} >>"$f"
EOF
cat >/opt/notify/slow.sh <<'EOF'
#!/bin/sh
touch /tmp/conc/run.$$
ls /tmp/conc | grep -c '^run\.' >>/tmp/conc/seen
sleep 3
rm -f /tmp/conc/run.$$
EOF
# the webhook: logs each body; answers 500 while /tmp/www/fail counts down, then 200
cat >/tmp/www/cgi-bin/hook <<'EOF'
#!/bin/sh
body=$(head -c "${CONTENT_LENGTH:-0}")
echo "$body" >>/tmp/www/log
n=$(cat /tmp/www/fail 2>/dev/null || echo 0)
if [ "$n" -gt 0 ]; then
	echo $((n - 1)) >/tmp/www/fail
	printf 'Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\nno\n'
else
	printf 'Content-Type: text/plain\r\n\r\nok\n'
fi
EOF
chmod 755 /opt/notify/append.sh /opt/notify/slow.sh /tmp/www/cgi-bin/hook
busybox httpd -f -p 127.0.0.1:8080 -h /tmp/www &
HTTPD=$!

# a job cgroup a previous jitd left (its ids start again at 1)
mkdir -p /sys/fs/cgroup/jitd.notify/1

JITD_POLICY=/tmp/notify-policy.json
cp /tests/policy-notify.json "$JITD_POLICY"
JITD_ARGS="--notify-jobs 2"
if ! start_jitd notify-jitd-starts-with-targets; then
	kill "$HTTPD"
	echo "notify.sh: $N_PASS passed, $N_FAIL failed, $N_SKIP skipped"
	exit 1
fi

check notify-start-removes-old-job-cgroups "left: $(ls /sys/fs/cgroup/jitd.notify)" \
	test ! -d /sys/fs/cgroup/jitd.notify/1

# failed LINES: the notify_failed records of the audit file
failed() {
	grep '"notify_failed"' "$AUDIT"
}

# ------------------------------------------------------------------ file target
asj 1001 request secrets --for 5m --reason INC-42
REQ=$ID
F=/tmp/notify/requested-$REQ.log
wait_for 10 grep -q '^cgroup=' "$F"
check notify-requested-reaches-script "no $F: $(ls /tmp/notify)" test -s "$F"
check notify-payload-is-the-event "got: $(head -c 300 "$F")" \
	grep -q "\"event\":\"requested\".*\"reason\":\"INC-42\"" "$F"
check notify-payload-names-approvers "got: $(grep -o '"approvers":{[^}]*}' "$F")" \
	grep -q '"approvers":{"principals":\["group:sre"\],"users":\["carol"\]}' "$F"
check notify-payload-text-names-approvers "got: $(grep -o '"text":"[^"]*"' "$F")" \
	grep -q '"text":"alice: requested secrets.*approvers: carol"' "$F"
check notify-runs-as-jnotify "got: $(grep '^uid=' "$F")" grep -qx 'uid=1010' "$F"
check notify-runs-in-job-cgroup "got: $(grep '^cgroup=' "$F")" \
	grep -Eqx 'cgroup=0::/jitd.notify/[0-9]+' "$F"
JCG=$(cat "/proc/$JITD_PID/cgroup")
check notify-job-cgroup-not-jitds "jitd is in $JCG too" test "cgroup=$JCG" != "$(grep '^cgroup=' "$F")"

# ------------------------------------------------------------------ http target
wait_for 10 grep -q 'INC-42' /tmp/www/log
check notify-http-post-received "log: $(head -c 300 /tmp/www/log 2>&1)" \
	grep -q '"event":"requested".*"target":"http"' /tmp/www/log

echo 2 >/tmp/www/fail
asj 1001 request secrets --for 5m --reason INC-43
wait_for 20 test "$(grep -c 'INC-43' /tmp/www/log)" -ge 3
sleep 1
n=$(grep -c 'INC-43' /tmp/www/log)
check notify-retry-then-delivered "$n posts of INC-43 (expected 3: 500, 500, 200)" test "$n" = 3
check notify-retry-attempts-counted "got: $(grep 'INC-43' /tmp/www/log | grep -o '"attempt":[0-9]*' | tr '\n' ' ')" \
	grep -q '"attempt":3' /tmp/www/log
check notify-retry-no-failure-record "got: $(failed | head -c 300)" test -z "$(failed)"

# ------------------------------------------------------------------ failure
t0=$(now)
asj 1001 request vault --for 6s
t1=$(now)
check notify-failing-target-request-granted "exit $RC: $OUT" test "$RC" = 0
check notify-failing-target-reply-within-1s "took $(fsub "$t1" "$t0") s" fcmp "$(fsub "$t1" "$t0")" lt 1
wait_for 20 sh -c "grep '\"notify_failed\"' $AUDIT | grep -q '\"down\"'"
sleep 2.5 # a third try would come now
n=$(failed | grep -c '"down"')
check notify-failure-is-one-audit-record "$n notify_failed records for down" test "$n" = 1
check notify-failure-attempts-retries-plus-1 "got: $(failed | grep '"down"' | head -c 400)" \
	sh -c "grep '\"notify_failed\"' $AUDIT | grep '\"down\"' | grep -Eq '\"attempts\": ?2'"

# ------------------------------------------------------------------ timeout
asj 1001 request tool --for 6s
TOOL=$ID
jitctl revoke "$TOOL" >/dev/null 2>&1
wait_for 5 sh -c "ps | grep -q '[s]leep 300'"
n=$(ps | grep -c '[s]leep 300')
check notify-hang-target-started-two-sleeps "$n sleep 300 running" test "$n" = 2
wait_for 10 sh -c "grep '\"notify_failed\"' $AUDIT | grep -q '\"hang\"'"
check notify-timeout-is-failure-record "got: $(failed | grep '"hang"' | head -c 400)" \
	sh -c "grep '\"notify_failed\"' $AUDIT | grep '\"hang\"' | grep -Eq '\"result\": ?\"timeout\"'"
check notify-timeout-kills-whole-tree "left: $(ps | grep '[s]leep 300')" \
	test "$(ps | grep -c '[s]leep 300')" = 0

# ------------------------------------------------------------------ concurrency
asj 1001 request secrets --for 5m --reason INC-44
D1=$ID
asj 1001 request secrets --for 5m --reason INC-45
D2=$ID
asj 1003 deny "$D1" --reason no
asj 1003 deny "$D2" --reason no
wait_for 10 test -s /tmp/conc/seen
t0=$(now)
st=$(jitctl status --json 2>&1)
t1=$(now)
check notify-loop-not-blocked-status-within-1s "took $(fsub "$t1" "$t0") s" \
	fcmp "$(fsub "$t1" "$t0")" lt 1
check notify-status-counts-running "got: $(echo "$st" | grep -o '"notify": *{[^}]*}')" \
	contains "$st" '"running": *[12],'
wait_for 30 test "$(wc -l </tmp/conc/seen)" -ge 6
check notify-bounded-all-jobs-ran "$(wc -l </tmp/conc/seen) of 6 runs" \
	test "$(wc -l </tmp/conc/seen)" = 6
max=$(sort -n /tmp/conc/seen | tail -n 1)
check notify-bounded-concurrency "at most $max alive at once (jobs 2): $(tr '\n' ' ' </tmp/conc/seen)" \
	test "$max" = 2

# ------------------------------------------------------------------ status, policy show, end
out=$(jitctl status 2>&1)
check notify-status-text-line "got: $(echo "$out" | grep notify)" \
	contains "$out" 'notify: +[0-9]+ sent, [0-9]+ failed, 0 dropped, [0-9]+ retried;.*at most 2 at once'
out=$(jitctl status --json 2>&1)
check notify-status-json-counters "got: $(echo "$out" | grep -o '"notify": *{[^}]*}')" \
	contains "$out" '"failed": *2,'
out=$(asj 1002 policy show --json; echo "$OUT")
check notify-policy-show-has-targets "got: $(echo "$out" | head -c 300)" contains "$out" '"slow1"'
check notify-policy-show-hides-commands "got: $(echo "$out" | grep -o '/opt/notify[^"]*\|127.0.0.1:808.')" \
	test -z "$(echo "$out" | grep -e /opt/notify -e 127.0.0.1:808 -e 'sleep 300')"
wait_for 10 sh -c "test -z \"\$(ls /sys/fs/cgroup/jitd.notify | grep '^[0-9]')\""
check notify-job-cgroups-removed "left: $(ls /sys/fs/cgroup/jitd.notify | grep '^[0-9]' | tr '\n' ' ')" \
	test -z "$(ls /sys/fs/cgroup/jitd.notify | grep '^[0-9]')"
out=$(jitctl audit verify "$AUDIT" 2>&1)
check notify-audit-verifies "got: $out" test "$?" = 0

stop_jitd
kill "$HTTPD" 2>/dev/null
jitd --unload >/dev/null 2>&1
echo "notify.sh: $N_PASS passed, $N_FAIL failed, $N_SKIP skipped"
[ "$N_FAIL" = 0 ]
