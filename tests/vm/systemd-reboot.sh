#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The second boot of the systemd VM (kernel parameter jitd.boot=2; run.sh boots it when the
# first boot printed JITD-VM-REBOOT). The first boot (systemd.sh) made grants and requests,
# wrote what it expects to /persist/reboot.env and crashed the machine with sysrq b: no
# orderly shutdown, no sync. Whatever jitd said was done must be on the disk.
. /tests/lib.sh

P=$PROBE
SECRET=/srv/secret.txt

if ! mount_persist; then
	fail reboot-persist-disk "cannot mount the persistent disk /dev/nvme0n1"
	exit 1
fi
if [ ! -s /persist/reboot.env ]; then
	fail reboot-expectations "no /persist/reboot.env from the first boot"
	exit 1
fi
. /persist/reboot.env

# jitd.service started at boot, from the state on the disk, before the first login
# (jitd-vm-login.service: alice's open of $SECRET), which alice's approved grant allows.
J_READY=$(systemctl show -p ActiveEnterTimestampMonotonic --value jitd.service)
US_START=$(systemctl show -p InactiveExitTimestampMonotonic --value systemd-user-sessions.service)
check reboot-boot-jitd-ready-before-user-sessions "jitd ready $J_READY, systemd-user-sessions started $US_START" \
	test "${J_READY:-0}" -gt 0 -a "${J_READY:-0}" -lt "${US_START:-0}"
wait_for 60 test -s /run/jitd-vm-login/open
check reboot-boot-first-login-has-persisted-grant "the first login's open of $SECRET: $(cat /run/jitd-vm-login/open 2>&1)" \
	test "$(tail -n 1 /run/jitd-vm-login/open 2>/dev/null)" = ok
check reboot-new-boot-id "boot id still $BOOT_ID" \
	test "$(cat /proc/sys/kernel/random/boot_id)" != "$BOOT_ID"
cp /tests/policy-workflow.json /etc/jitd/policy.d/50-test.json
if systemctl start jitd.service; then
	pass reboot-jitd-starts
else
	fail reboot-jitd-starts "systemctl start jitd.service failed"
	journalctl -q -u jitd.service -n 30 --no-pager | sed 's/^/    /'
	exit 1
fi

check reboot-direct-grant-active "grant $RB_G: $(jfield "$RB_G" state)" test "$(jfield "$RB_G" state)" = active
check reboot-direct-grant-same-expiry "expires $RB_G_EXP before, $(jfield "$RB_G" expires) now" \
	test "$(jfield "$RB_G" expires)" = "$RB_G_EXP"
check reboot-approved-grant-active "grant $RB_A: $(jfield "$RB_A" state)" test "$(jfield "$RB_A" state)" = active
check reboot-approved-grant-same-expiry "expires $RB_A_EXP before, $(jfield "$RB_A" expires) now" \
	test "$(jfield "$RB_A" expires)" = "$RB_A_EXP"
check reboot-request-still-pending "request $RB_P: $(jfield "$RB_P" state)" test "$(jfield "$RB_P" state)" = pending
check reboot-revoked-stays-revoked "grant $RB_R: $(jfield "$RB_R" state)" test "$(jfield "$RB_R" state)" = revoked
expect reboot-bob-direct-grant-allowed ok $P as 1002 $P open $SECRET
expect reboot-alice-approved-grant-allowed ok $P as 1001 $P open $SECRET
expect reboot-carol-no-grant-denied EPERM $P as 1003 $P open $SECRET
asj 1003 approve "$RB_P"
check reboot-pending-request-approvable "exit $RC: $OUT" test "$RC" = 0
# Agent events are synced as they are written: the last one before the crash is there.
check reboot-audit-last-event-before-crash-kept "no 'requested' record for request $RB_P" \
	grep -qE "\"message\": ?\"requested grant $RB_P[ :\"]" /var/log/jitd/audit.jsonl
out=$(jitctl audit verify /var/log/jitd/audit.jsonl 2>&1)
check reboot-audit-chain-verifies "jitctl audit verify: $out" contains "$out" '^OK'

echo "systemd reboot tests: $N_PASS passed, $N_FAIL failed"
[ "$N_FAIL" = 0 ]
