#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Run by jitd-vmtest.service when the systemd VM reaches multi-user.target: the markers
# tests/vm/run.sh reads, the tests, then the end of the VM. The first boot runs
# /tests/systemd.sh; when it asks for a reboot (/run/jitd-vm-reboot) the VM crashes with
# sysrq b, and run.sh boots it again with jitd.boot=2, which runs /tests/systemd-reboot.sh.
# In run.sh's deb mode it runs /tests/deb.sh instead of /tests/systemd.sh (no reboot).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/tests
export HOME=/root
ip link set lo up 2>/dev/null

# If the tests hang, say where before run.sh's timeout (300 s) stops the VM.
(
	sleep 180
	echo "---- the tests still run after 180 s; processes (pid, kernel wait channel, command):"
	for p in /proc/[0-9]*; do
		echo "${p#/proc/} $(cat "$p/wchan" 2>/dev/null) $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null | head -c 150)"
	done
	echo "---- dmesg (last 40 lines)"
	dmesg | tail -n 40
	echo "---- systemctl list-jobs"
	systemctl list-jobs --no-pager
) &

script=/tests/$(cat /tests/mode).sh # systemd.sh, or deb.sh (run.sh's deb mode)
grep -qw 'jitd.boot=2' /proc/cmdline && script=/tests/systemd-reboot.sh
echo "JITD-VM-BOOT kernel=$(uname -r) mode=$(cat /tests/mode) init=$(cat /proc/1/comm) script=$script"
echo "lsm: $(cat /sys/kernel/security/lsm 2>&1)"
sh "$script"
rc=$?
echo "JITD-VM-DONE rc=$rc"
if [ -e /run/jitd-vm-reboot ]; then
	echo "JITD-VM-REBOOT"
	# No sync, no orderly shutdown: what jitd acknowledged must already be on the disk.
	sleep 0.5 # let the console drain
	echo b >/proc/sysrq-trigger
fi
sync
# -ff: no orderly shutdown, straight to reboot(2); qemu exits (-no-reboot).
systemctl poweroff -ff
