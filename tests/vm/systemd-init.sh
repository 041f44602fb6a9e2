#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Run by jitd-vmtest.service when the systemd VM reaches multi-user.target: the markers
# tests/vm/run.sh reads, /tests/systemd.sh, then an immediate power-off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/tests
export HOME=/root
ip link set lo up 2>/dev/null

echo "JITD-VM-BOOT kernel=$(uname -r) mode=systemd init=$(cat /proc/1/comm)"
echo "lsm: $(cat /sys/kernel/security/lsm 2>&1)"
sh /tests/systemd.sh
rc=$?
echo "JITD-VM-DONE rc=$rc"
sync
# -ff: no orderly shutdown, straight to reboot(2); qemu exits (-no-reboot).
systemctl poweroff -ff
