#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The tests that need systemd as PID 1 (run.sh's systemd mode: a debootstrap Debian root,
# jitd from `make install`; run by jitd-vmtest.service):
#   - jitd.service as shipped, enabled: enforcing before the first login, sandboxed (its
#     `systemd-analyze security` exposure at most 3.9, 0.3 of it CAP_SETUID/CAP_SETGID for
#     notification commands);
#   - Type=notify start, reload, Restart=always after a crash,
#     the watchdog, enforcement that stays when the service stops;
#   - `jitctl exec` in a transient scope made over D-Bus, ended when the tree exits;
#   - `jitctl grant --unit`: the unit's cgroup asked from systemd over D-Bus;
#   - audit records in the real journald (--journal) and rotation by the real logrotate;
#   - audit sealing under the unit, its checkpoints in the journal.
# Policy: tests/vm/policy-workflow.json (see workflow.sh). alice (dba) may request vault
# without approval (at most 6 s); secrets needs an approval.
. /tests/lib.sh

P=$PROBE
SECRET=/srv/secret.txt
VF=/srv/vault/sd/f.txt
POLICY_DIR=/etc/jitd/policy.d
DROPIN=/etc/systemd/system/jitd.service.d

# /srv/secret.txt and /srv/vault/sd/f.txt are in the image (run.sh): jitd protects them
# from boot on.
mkdir -p /sys/fs/cgroup/exempt

# unit_prop UNIT PROPERTY: systemctl show's value.
unit_prop() {
	systemctl show -p "$2" --value "$1" 2>/dev/null
}

# last_is FILE TEXT: FILE's last line is TEXT.
last_is() {
	[ "$(tail -n 1 "$1" 2>/dev/null)" = "$2" ]
}

# wait_file FILE TEXT SECONDS: poll until FILE's last line is TEXT.
wait_file() {
	wait_for "$3" last_is "$1" "$2"
}

# wait_gone PATH SECONDS: poll until PATH does not exist.
wait_gone() {
	wait_for "$2" test ! -e "$1"
}

show_unit_log() {
	echo "---- journalctl -u $1 ----"
	journalctl -q -u "$1" -n "${2:-30}" --no-pager 2>&1 | sed 's/^/    /'
	echo "----"
}

check sd-persist-disk-mounted "cannot mount /dev/nvme0n1 for /var/lib/jitd and /var/log/jitd" mount_persist
check sd-pid1-is-systemd "PID 1 is $(cat /proc/1/comm)" test "$(cat /proc/1/comm)" = systemd
check sd-dbus-system-bus "no system bus at /run/dbus/system_bus_socket" \
	busctl --system status org.freedesktop.systemd1
expect sd-baseline-alice-opens-unprotected-file ok $P as 1001 $P open /srv/public.txt

# ------------------------------------------------------------------ early boot

# jitd.service is enabled (sysinit.target.wants, as `systemctl enable` does) and the test
# policy was in /etc/jitd/policy.d from the start (run.sh). Times: systemd's monotonic
# timestamps (µs since boot); jitd's ActiveEnter is its READY=1, after the self-test.
J_READY=$(unit_prop jitd.service ActiveEnterTimestampMonotonic)
SI_READY=$(unit_prop sysinit.target ActiveEnterTimestampMonotonic)
US_START=$(unit_prop systemd-user-sessions.service InactiveExitTimestampMonotonic)
wait_for 60 test -s /run/jitd-vm-login/open
LOGIN=$(unit_prop jitd-vm-login.service ExecMainStartTimestampMonotonic)
echo "early boot (us since boot): jitd ready $J_READY, sysinit.target $SI_READY," \
	"systemd-user-sessions started $US_START, first login $LOGIN"
check sd-boot-jitd-started-at-boot "jitd.service $(unit_prop jitd.service ActiveState), ready at $J_READY" \
	test "$(unit_prop jitd.service ActiveState)" = active -a "${J_READY:-0}" -gt 0
check sd-boot-jitd-ready-before-sysinit "jitd ready $J_READY, sysinit.target $SI_READY" \
	test "${J_READY:-0}" -gt 0 -a "${J_READY:-0}" -le "${SI_READY:-0}"
check sd-boot-jitd-ready-before-user-sessions "jitd ready $J_READY, systemd-user-sessions started $US_START" \
	test "${J_READY:-0}" -gt 0 -a "${J_READY:-0}" -lt "${US_START:-0}"
check sd-boot-first-login-after-jitd-ready "jitd ready $J_READY, first login $LOGIN" \
	test "${J_READY:-0}" -gt 0 -a "${J_READY:-0}" -lt "${LOGIN:-0}"
check sd-boot-first-login-protected-open-denied "the first login's open of $SECRET: $(cat /run/jitd-vm-login/open 2>&1)" \
	last_is /run/jitd-vm-login/open EPERM

# ------------------------------------------------------------------ the sandbox

JPID=$(unit_prop jitd.service MainPID)
out=$(systemd-analyze security --no-pager jitd.service 2>&1)
EXPOSURE=$(echo "$out" | sed -n 's/.*Overall exposure level for jitd.service: \([0-9.]*\).*/\1/p')
echo "systemd-analyze security jitd.service: exposure $EXPOSURE"
check sd-unit-exposure-at-most-3.9 "exposure '$EXPOSURE': $(echo "$out" | tail -n 3)" \
	awk -v x="$EXPOSURE" 'BEGIN { exit !(x != "" && x + 0 <= 3.9) }'
# CAP_DAC_READ_SEARCH CAP_KILL CAP_SETGID CAP_SETUID CAP_NET_ADMIN CAP_SYS_PTRACE CAP_SYS_ADMIN
# CAP_PERFMON CAP_BPF
CAPBND=$(printf '%016x' $(((1 << 2) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 12) | (1 << 19) | (1 << 21) | (1 << 38) | (1 << 39))))
check sd-unit-capability-bounding-set "jitd's $(grep CapBnd /proc/$JPID/status 2>&1), want $CAPBND" \
	grep -qx "CapBnd:[[:space:]]*$CAPBND" /proc/$JPID/status
check sd-unit-no-new-privileges "jitd's $(grep NoNewPrivs /proc/$JPID/status 2>&1)" \
	grep -qx 'NoNewPrivs:[[:space:]]*1' /proc/$JPID/status
check sd-unit-own-mount-namespace "jitd's $(readlink /proc/$JPID/ns/mnt), PID 1's $(readlink /proc/1/ns/mnt)" \
	test "$(readlink /proc/$JPID/ns/mnt)" != "$(readlink /proc/1/ns/mnt)"
# The pins are guarded in the host's mount namespace, not only in jitd's private one.
expect sd-unit-gov-root-umount-bpffs-in-host-namespace-denied EPERM $P loginuid 1001 $P umount /sys/fs/bpf
check sd-unit-bpffs-still-mounted "$(grep bpf /proc/self/mounts)" grep -q ' /sys/fs/bpf bpf ' /proc/self/mounts

# ------------------------------------------------------------------ jitd.service as shipped

cp /tests/policy-workflow.json $POLICY_DIR/50-test.json
if systemctl start jitd.service; then
	pass sd-jitd-service-starts
else
	fail sd-jitd-service-starts "systemctl start jitd.service failed"
	show_unit_log jitd.service
	exit 1
fi
# Type=notify: start returned only after READY=1, so the socket already answers.
check sd-jitd-ready-when-start-returns "jitctl status: $(jitctl status 2>&1 | head -n 3)" jitctl status
check sd-jitd-service-active "state $(unit_prop jitd.service ActiveState)" \
	test "$(unit_prop jitd.service ActiveState)" = active
expect sd-alice-denied-without-grant EPERM $P as 1001 $P open $SECRET

pid0=$(unit_prop jitd.service MainPID)
sed 's/"serial": 1,/"serial": 2,/' /tests/policy-workflow.json >$POLICY_DIR/50-test.json.new
mv $POLICY_DIR/50-test.json.new $POLICY_DIR/50-test.json
check sd-reload-succeeds "systemctl reload jitd.service failed" systemctl reload jitd.service
serial_is() {
	jitctl status --json 2>/dev/null | grep -q "\"serial\": *$1"
}
wait_for 5 serial_is 2
check sd-reload-new-policy-serial "$(jitctl status --json 2>&1 | grep serial)" \
	contains "$(jitctl status --json 2>&1)" '"serial": *2'
check sd-reload-same-process "MainPID $pid0 -> $(unit_prop jitd.service MainPID)" \
	test "$(unit_prop jitd.service MainPID)" = "$pid0"
# A broken drop-in: not reloaded, said at error level (jitd's "<3>" read by the journal)
printf '{"version": 1,' >$POLICY_DIR/60-broken.json
systemctl reload jitd.service
not_reloaded() {
	journalctl -q -o json --no-pager _SYSTEMD_UNIT=jitd.service 2>/dev/null | grep 'policy not reloaded' | tail -n 1
}
wait_for 5 sh -c "journalctl -q -o cat --no-pager _SYSTEMD_UNIT=jitd.service | grep -q 'policy not reloaded'"
out=$(not_reloaded)
check sd-journal-error-line-at-priority-3 "got: $(echo "$out" | head -c 300)" contains "$out" '"PRIORITY":"3"'
rm -f $POLICY_DIR/60-broken.json
systemctl reload jitd.service
check sd-broken-drop-in-kept-serial-2 "$(jitctl status --json 2>&1 | grep serial)" wait_for 5 serial_is 2

# A pushed policy larger than the 64 KiB request bound of ordinary users: 1,500 more
# resources (about 150 KB). Admins may send it; others are told the bound.
mkdir -p /srv/bulk
BULK7=/srv/bulk/a-file-name-long-enough-to-make-this-policy-large-0007.txt
echo bulk >$BULK7
chmod 755 /srv/bulk
chmod 644 $BULK7
awk -v n=1500 'BEGIN { for (i = 0; i < n; i++)
	printf "    \"bulk%04d\": { \"open\": [\"/srv/bulk/a-file-name-long-enough-to-make-this-policy-large-%04d.txt\"] },\n", i, i }' \
	>/tmp/sd-bulk.txt
sed -e 's/"serial": 1,/"serial": 3,/' -e '/"resources": {/r /tmp/sd-bulk.txt' /tests/policy-workflow.json >/tmp/sd-big.json
expect sd-big-policy-baseline-alice-opens-bulk ok $P as 1001 $P open $BULK7
asj 1001 policy apply /tmp/sd-big.json
check sd-big-policy-non-admin-refused "exit $RC: $(echo "$OUT" | head -c 300)" test "$RC" = 1
check sd-big-policy-non-admin-told-bound "got: $(echo "$OUT" | head -c 300)" contains "$OUT" "root and admins"
asj 1003 policy apply /tmp/sd-big.json
check sd-big-policy-admin-applies "$(wc -c </tmp/sd-big.json) bytes; exit $RC: $(echo "$OUT" | head -c 300)" test "$RC" = 0
check sd-big-policy-in-force "$(jitctl status --json 2>&1 | grep serial)" \
	contains "$(jitctl status --json 2>&1)" '"serial": *3'
expect sd-big-policy-bulk-resource-enforced EPERM $P as 1001 $P open $BULK7

# ------------------------------------------------------------------ jitctl exec: a transient scope

rm -f /tmp/sd-cg /tmp/sd-in1 /tmp/sd-in2 /tmp/sd-exec.out
$P as 1001 jitctl exec vault --for 6s -- sh -c \
	"cat /proc/self/cgroup >/tmp/sd-cg; $P open $VF >/tmp/sd-in1 2>&1; sleep 3; $P open $VF >/tmp/sd-in2 2>&1" \
	>/tmp/sd-exec.out 2>&1 &
EXEC_PID=$!
wait_for 10 test -s /tmp/sd-in1 # the child ran its first open; it now sleeps 3 s
EX=$(sed -n 's/^exec \([0-9]*\):.*/\1/p' /tmp/sd-exec.out | head -n 1)
SCOPE=jitd-exec-$EX.scope
check sd-exec-grant-made "jitctl exec said: $(cat /tmp/sd-exec.out)" test -n "$EX"
check sd-exec-child-in-transient-scope "child's cgroup: $(cat /tmp/sd-cg 2>&1)" \
	grep -qx "0::/jitd.slice/$SCOPE" /tmp/sd-cg
check sd-exec-scope-active-in-systemd "$SCOPE: $(unit_prop "$SCOPE" ActiveState)" \
	test "$(unit_prop "$SCOPE" ActiveState)" = active
check sd-exec-grant-bound-to-scope-cgroup "$(jitctl show "${EX:-0}" --json 2>&1 | grep cgroup)" \
	contains "$(jitctl show "${EX:-0}" --json 2>&1)" "\"cgroup\": \"/jitd.slice/$SCOPE\""
expect sd-exec-alice-other-process-denied EPERM $P as 1001 $P open $VF
expect sd-exec-bob-denied EPERM $P as 1002 $P open $VF
wait $EXEC_PID
rc=$?
check sd-exec-returns-cmd-exit-status "exit $rc: $(cat /tmp/sd-exec.out)" test "$rc" = 0
check sd-exec-child-allowed "got $(cat /tmp/sd-in1 2>&1)" test "$(tail -n 1 /tmp/sd-in1)" = ok
check sd-exec-grandchild-allowed-later "got $(cat /tmp/sd-in2 2>&1)" test "$(tail -n 1 /tmp/sd-in2)" = ok
check sd-exec-grant-ends-when-tree-exits "state $(jfield "${EX:-0}" state)" wait_state "${EX:-0}" expired 3
check sd-exec-scope-gone "/sys/fs/cgroup/jitd.slice/$SCOPE still there" \
	wait_gone "/sys/fs/cgroup/jitd.slice/$SCOPE" 3
check sd-exec-scope-inactive "$SCOPE: $(unit_prop "$SCOPE" ActiveState)" \
	test "$(unit_prop "$SCOPE" ActiveState)" != active
expect sd-exec-after-exit-alice-denied EPERM $P as 1001 $P open $VF

# revoke --kill ends the tree through its scope's cgroup.kill (ReadWritePaths=/sys/fs/cgroup).
rm -f /tmp/sd-exec3.out
$P as 1001 jitctl exec vault --for 6s -- sleep 30 >/tmp/sd-exec3.out 2>&1 &
KILL_PID=$!
wait_for 10 grep -q '^exec [0-9]*:' /tmp/sd-exec3.out
EX3=$(sed -n 's/^exec \([0-9]*\):.*/\1/p' /tmp/sd-exec3.out | head -n 1)
out=$(jitctl revoke --kill "${EX3:-0}" 2>&1)
check sd-exec-revoke-kill-says-killed "got: $out" contains "$out" "killed [1-9][0-9]* processes"
wait "$KILL_PID"
check sd-exec-revoke-kill-tree-gone "/sys/fs/cgroup/jitd.slice/jitd-exec-$EX3.scope still there" \
	wait_gone "/sys/fs/cgroup/jitd.slice/jitd-exec-$EX3.scope" 5

# The time runs out while the tree still runs: the tree loses access, then its scope ends.
rm -f /tmp/sd-early /tmp/sd-late /tmp/sd-exec2.out
$P as 1001 jitctl exec vault --for 2s -- sh -c \
	"$P open $VF >/tmp/sd-early 2>&1; sleep 3.5; $P open $VF >/tmp/sd-late 2>&1" >/tmp/sd-exec2.out 2>&1
EX2=$(sed -n 's/^exec \([0-9]*\):.*/\1/p' /tmp/sd-exec2.out | head -n 1)
check sd-exec-tree-allowed-before-expiry "got $(cat /tmp/sd-early 2>&1)" test "$(tail -n 1 /tmp/sd-early)" = ok
check sd-exec-tree-denied-after-expiry "got $(cat /tmp/sd-late 2>&1)" test "$(tail -n 1 /tmp/sd-late)" = EPERM
check sd-exec-expired-scope-gone "/sys/fs/cgroup/jitd.slice/jitd-exec-$EX2.scope still there" \
	wait_gone "/sys/fs/cgroup/jitd.slice/jitd-exec-$EX2.scope" 3

# ------------------------------------------------------------------ grant --unit: asked over D-Bus

systemctl start jitd-app.service
check sd-app-denied-before-grant "app's last answer: $(cat /run/jitd-app/last 2>&1)" \
	wait_file /run/jitd-app/last EPERM 10
APPCG=$(unit_prop jitd-app.service ControlGroup)
# The unit runs in app.slice: the /system.slice/NAME fallback would be wrong here.
check sd-app-in-its-own-slice "ControlGroup $APPCG" test "$APPCG" = /app.slice/jitd-app.service
UG=$(grant_or_fail sd-grant-unit-accepted secrets --unit jitd-app.service --for 10m) # outlives two jitd starts (each a verifier run: slow under TCG)
check sd-grant-unit-cgroup-from-dbus "$(jitctl show "${UG:-0}" --json 2>&1 | grep cgroup)" \
	contains "$(jitctl show "${UG:-0}" --json 2>&1)" "\"cgroup\": \"$APPCG\""
check sd-grant-unit-app-allowed "app's last answer: $(cat /run/jitd-app/last 2>&1)" \
	wait_file /run/jitd-app/last ok 5
expect sd-grant-unit-alice-outside-unit-denied EPERM $P as 1001 $P open $SECRET

# A restart gives the unit a new cgroup (a new id) at the same path: the grant follows.
cgid() {
	jitctl show "${UG:-0}" --json 2>/dev/null | grep -o '"cgroup_id": *[0-9]*' | grep -o '[0-9]*$'
}
cgid_is_not() {
	[ "$(cgid)" != "$1" ]
}
id1=$(cgid)
systemctl restart jitd-app.service
wait_for 5 cgid_is_not "$id1"
check sd-unit-restart-grant-rebound "cgroup_id $id1 -> $(cgid), /sys/fs/cgroup$APPCG is $(stat -c %i /sys/fs/cgroup$APPCG)" \
	test "$(cgid)" != "$id1" -a "$(cgid)" = "$(stat -c %i /sys/fs/cgroup$APPCG)"
check sd-unit-restart-app-allowed "app's last answer: $(cat /run/jitd-app/last 2>&1)" \
	wait_file /run/jitd-app/last ok 5
check sd-unit-restart-in-history "jitctl show: $(jitctl show "${UG:-0}" 2>&1 | tail -n 3)" \
	contains "$(jitctl show "${UG:-0}" 2>&1)" 'rebound'
out=$(jitctl grant secrets --unit nosuch.service --for 1m 2>&1)
check sd-grant-unknown-unit-refused "exit $?: $out" contains "$out" "no such unit"

# --until-unit-stops: a CI job as a transient service; systemd removes its cgroup when it
# stops, and the grant ends with it (not rebound as above).
systemd-run --quiet --unit=jitd-ci-job sh -c 'sleep 6'
CJ=$(grant_or_fail sd-until-unit-stops-accepted secrets --unit jitd-ci-job.service --until-unit-stops --for 10m)
check sd-until-unit-stops-active-while-job-runs "state '$(jfield "${CJ:-0}" state)'" state_is "${CJ:-0}" active
wait_state "${CJ:-0}" expired 15
check sd-until-unit-stops-ends-with-the-unit "grant ${CJ:-0} is '$(jfield "${CJ:-0}" state)', the unit is $(unit_prop jitd-ci-job.service ActiveState)" \
	state_is "${CJ:-0}" expired
out=$(jitctl grant secrets --unit jitd-app --for 1m 2>&1)
check sd-grant-unit-needs-service-suffix "got: $out" contains "$out" "NAME.service"

# ------------------------------------------------------------------ crash, restart, stop

pid1=$(unit_prop jitd.service MainPID)
systemctl kill -s KILL jitd.service
# restarted: a new main process that answers
restarted() {
	_p=$(unit_prop jitd.service MainPID)
	[ "$_p" != 0 ] && [ "$_p" != "$1" ] && jitctl status
}
wait_for 10 restarted "$pid1"
pid2=$(unit_prop jitd.service MainPID)
check sd-restart-always-after-kill9 "MainPID $pid1 -> $pid2, NRestarts $(unit_prop jitd.service NRestarts)" \
	test "$(unit_prop jitd.service NRestarts)" = 1 -a "$pid2" != "$pid1" -a "$pid2" != 0
check sd-restart-unit-grant-still-active "state $(jfield "${UG:-0}" state)" \
	test "$(jfield "${UG:-0}" state)" = active
check sd-restart-app-still-allowed "app's last answer: $(cat /run/jitd-app/last 2>&1)" \
	wait_file /run/jitd-app/last ok 3

check sd-stop-succeeds "systemctl stop jitd.service failed" systemctl stop jitd.service
expect sd-stopped-enforcement-stays-alice-denied EPERM $P as 1001 $P open $SECRET
check sd-stopped-grant-stays-app-allowed "app's last answer: $(cat /run/jitd-app/last 2>&1)" \
	wait_file /run/jitd-app/last ok 3

# ------------------------------------------------------------------ journald and the watchdog

# a notification target run from the hardened unit (its directory made before the start:
# ReadWritePaths=-/var/lib/jitd-notify only applies to what exists then)
mkdir -p /var/lib/jitd-notify && chown 1010:1010 /var/lib/jitd-notify
mkdir -p $DROPIN
printf '[Service]\nExecStart=\nExecStart=/usr/local/sbin/jitd --policy %s --journal\nWatchdogSec=2s\n' \
	$POLICY_DIR >$DROPIN/test.conf
systemctl daemon-reload
if systemctl start jitd.service; then
	pass sd-start-with-journal
else
	fail sd-start-with-journal "systemctl start jitd.service failed"
	show_unit_log jitd.service
fi
pid3=$(unit_prop jitd.service MainPID)
# the big policy again, serial 4, with a target on vault grants
sed -e 's/"serial": 3,/"serial": 4, "notify": [{"name": "file", "events": ["granted"], "resources": ["vault"], "user": "jnotify", "command": ["\/bin\/sh", "-c", "{ cat; id -u; cat \/proc\/self\/cgroup; } >\/var\/lib\/jitd-notify\/granted-$JITD_GRANT_ID"]}],/' \
	/tmp/sd-big.json >/tmp/sd-notify.json
out=$(jitctl policy apply /tmp/sd-notify.json 2>&1)
check sd-notify-policy-applied "got: $(echo "$out" | head -c 300)" contains "$(jitctl status --json 2>&1)" '"serial": *4'
asj 1001 request vault --for 5s
NF=/var/lib/jitd-notify/granted-$ID
wait_for 10 test -s "$NF"
check sd-notify-runs-from-hardened-unit "no $NF: $(grep notify_ "$AUDIT" | tail -n 1 | head -c 400)" \
	grep -q '"event":"granted"' "$NF"
check sd-notify-runs-as-user-in-job-cgroup "got: $(tail -n 2 "$NF" 2>&1 | tr '\n' ' ')" \
	sh -c "tail -n 2 '$NF' | tr '\n' ' ' | grep -Eq '^1010 0::/jitd.notify/[0-9]+ \$'"
restarts=$(unit_prop jitd.service NRestarts)
check sd-revoke-unit-grant "jitctl revoke ${UG:-0} failed" jitctl revoke "${UG:-0}"
check sd-revoked-app-denied "app's last answer: $(cat /run/jitd-app/last 2>&1)" \
	wait_file /run/jitd-app/last EPERM 3
expect sd-journal-bob-denied EPERM $P as 1002 $P open $SECRET
systemctl stop jitd-app.service
out=$(jitctl grant secrets --unit jitd-app.service --for 1m 2>&1)
rc=$?
check sd-grant-stopped-unit-refused "exit $rc: $out" test "$rc" = 1
check sd-grant-stopped-unit-says-start-it "got: $out" contains "$out" "not running"
jq_deny() {
	journalctl -q -o json --no-pager _SYSTEMD_UNIT=jitd.service JITD_DECISION=deny JITD_USER=bob 2>/dev/null
}
journal_has_deny() {
	jq_deny | grep -q JITD_RECORD
}
wait_for 5 journal_has_deny
out=$(jq_deny | tail -n 1)
check sd-journal-deny-record "journalctl found: $(echo "$out" | head -c 300)" contains "$out" '"JITD_RECORD"'
check sd-journal-deny-priority-4 "got: $(echo "$out" | grep -o '"PRIORITY":"[0-9]"')" \
	contains "$out" '"PRIORITY":"4"'
check sd-journal-record-is-ocsf "got: $(echo "$out" | head -c 300)" contains "$out" 'class_uid'
out=$(journalctl -q -o json --no-pager _SYSTEMD_UNIT=jitd.service JITD_EVENT=revoked 2>/dev/null | tail -n 1)
check sd-journal-revoke-event "journalctl found: $(echo "$out" | head -c 300)" contains "$out" "JITD_GRANT_ID"
# jitd's own log lines: the level reaches the journal as PRIORITY, no "<6>" in the text
out=$(journalctl -q -o json --no-pager _SYSTEMD_UNIT=jitd.service 2>/dev/null | grep 'enforcing: policy' | tail -n 1)
check sd-journal-log-line-has-its-level "got: $(echo "$out" | head -c 300)" contains "$out" '"PRIORITY":"6"'
n=$(journalctl -q -o cat --no-pager _SYSTEMD_UNIT=jitd.service 2>/dev/null | grep -c '^<[0-9]>')
check sd-journal-log-lines-without-raw-prefix "$n lines start with <N>" test "$n" = 0

# ------------------------------------------------------------------ sealing under the unit

# jitd sealed under its sandbox; each seal's checkpoint in the journal, the off-host anchor
# a forwarded journal gives; verify with the key and that checkpoint.
SEAL_MSGID=5e3c1a7f0b9d4e62a8f1c3d5b7e90a24
out=$(jitctl audit seal-init --interval 3s 2>&1)
rc=$?
SD_VKEY=$(echo "$out" | grep -oE 'jitd1-[0-9a-f]{64}-[0-9]+-3' | head -n 1)
check sd-seal-init-under-the-unit "exit $rc: $out" test "$rc" = 0 -a -n "$SD_VKEY"
check sd-seal-key-in-the-state-dir "$(ls -la /var/lib/jitd/seal 2>&1)" \
	test -s /var/lib/jitd/seal/audit-seal.key
journal_checkpoints() {
	journalctl -q -o json --no-pager MESSAGE_ID=$SEAL_MSGID 2>/dev/null |
		grep -oE '"JITD_CHECKPOINT":"jitd-checkpoint1-[0-9a-f-]+"' | cut -d'"' -f4
}
two_checkpoints() { [ "$(journal_checkpoints | wc -l)" -ge 2 ]; }
check sd-seal-checkpoints-in-the-journal "journal: $(journal_checkpoints | tr '\n' ' ')" \
	wait_for 10 two_checkpoints
SD_CP=$(journal_checkpoints | tail -n 1)
out=$(jitctl audit verify --key "$SD_VKEY" --since-checkpoint "$SD_CP" /var/log/jitd/audit.jsonl 2>&1)
rc=$?
check sd-seal-verifies-with-the-journal-checkpoint "exit $rc: $out" test "$rc" = 0
check sd-seal-journal-checkpoint-found "got: $out" contains "$out" 'checkpoint: sequence [0-9]+ found, unchanged'
check sd-seal-checked "got: $out" contains "$out" 'seals: [1-9][0-9]* valid of'

# ------------------------------------------------------------------ logrotate

AUD=/var/log/jitd/audit.jsonl
before=$(wc -l <$AUD)
if logrotate -f /etc/logrotate.d/jitd >/tmp/sd-logrotate.out 2>&1; then
	pass sd-logrotate-runs
else
	fail sd-logrotate-runs "$(head -c 300 /tmp/sd-logrotate.out)"
fi
check sd-logrotate-moved-file "no $AUD.1 ($(ls /var/log/jitd | tr '\n' ' '))" test -s $AUD.1
check sd-logrotate-created-new-file "$(ls -l $AUD 2>&1)" test -f $AUD
check sd-logrotate-new-file-mode "$(stat -c '%a %U:%G' $AUD 2>&1)" test "$(stat -c '%a %U:%G' $AUD)" = "640 root:adm"
expect sd-logrotate-carol-denied EPERM $P as 1003 $P open $SECRET
wait_for 5 grep -q '"decision": *"deny"' $AUD
check sd-logrotate-jitd-writes-new-file "$(wc -l <$AUD) lines in $AUD, $before before rotation" \
	grep -q '"decision": *"deny"' $AUD
out=$(jitctl audit verify $AUD.1 $AUD 2>&1)
check sd-logrotate-chain-verifies-across-files "jitctl audit verify: $out" contains "$out" '^OK'
check sd-logrotate-same-process "MainPID $pid3 -> $(unit_prop jitd.service MainPID)" \
	test "$(unit_prop jitd.service MainPID)" = "$pid3"

# The watchdog (2 s here) has had its time: jitd pinged it all along.
sleep 2.5
check sd-watchdog-no-restart "NRestarts $restarts -> $(unit_prop jitd.service NRestarts), MainPID $pid3 -> $(unit_prop jitd.service MainPID)" \
	test "$(unit_prop jitd.service NRestarts)" = "$restarts" -a "$(unit_prop jitd.service MainPID)" = "$pid3"

# ------------------------------------------------------------------ a real reboot, set up

# Grants and requests whose replies jitctl has seen; then systemd-init.sh crashes the VM
# (sysrq b, no sync) and systemd-reboot.sh checks them in the second boot.
RB_G=$(grant_or_fail sd-reboot-setup-grant-bob secrets --user bob --for 10m)
RB_R=$(grant_or_fail sd-reboot-setup-grant-carol secrets --user carol --for 10m)
check sd-reboot-setup-revoke-carol "jitctl revoke ${RB_R:-0} failed" jitctl revoke "${RB_R:-0}"
asj 1001 request secrets --for 10m --reason INC-98
RB_A=$ID
asj 1003 approve "$RB_A"
check sd-reboot-setup-approved "exit $RC: $OUT" test "$RC" = 0
asj 1001 request secrets --for 10m --reason INC-99
RB_P=$ID
check sd-reboot-setup-pending "exit $RC: $OUT" test "$RC" = 5
cat >/persist/reboot.env <<-EOT
	BOOT_ID=$(cat /proc/sys/kernel/random/boot_id)
	RB_G=$RB_G
	RB_G_EXP=$(jfield "$RB_G" expires)
	RB_R=$RB_R
	RB_A=$RB_A
	RB_A_EXP=$(jfield "$RB_A" expires)
	RB_P=$RB_P
EOT
sync /persist/reboot.env # this file only: jitd's own files must be on disk already
touch /run/jitd-vm-reboot

if [ "$N_FAIL" != 0 ]; then
	show_unit_log jitd.service 40
fi
echo "systemd tests: $N_PASS passed, $N_FAIL failed"
[ "$N_FAIL" = 0 ]
