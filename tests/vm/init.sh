#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the test VM (busybox). Mounts what jitd needs, prints the boot marker and the
# active LSMs, runs /tests/$(cat /tests/mode).sh, prints the end marker with its exit
# status, and powers off. tests/vm/run.sh reads the markers from the serial console.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:/tests
export HOME=/root

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# Everything below, the test scripts included, writes to the serial console.
exec </dev/console >/dev/console 2>&1

mount -t securityfs securityfs /sys/kernel/security
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts 2>/dev/null
ip link set lo up
hostname jitd-vm
chown 1001:1001 /home/alice
chown 1002:1002 /home/bob
chown 1003:1003 /home/carol

mode=$(cat /tests/mode 2>/dev/null)
echo "JITD-VM-BOOT kernel=$(uname -r) mode=$mode"
echo "lsm: $(cat /sys/kernel/security/lsm 2>&1)"

# The modules of this kernel the tests need that Debian builds as modules (overlayfs, SCTP,
# sock_diag of TCP and UDP, and what they depend on), which tests/vm/run.sh puts in
# /lib/modules/$(uname -r)/jitd/ with
# "order" listing them dependencies first. One line says what loaded and what did not; a
# module that fails does not stop the boot (a test that needs one checks /proc/filesystems
# or /proc/net/protocols).
mdir=/lib/modules/$(uname -r)/jitd
if [ -s "$mdir/order" ]; then
	loaded=""
	failed=""
	while read -r m; do
		[ -n "$m" ] || continue
		name=${m%.ko}
		if [ -d "/sys/module/$name" ]; then
			loaded="$loaded $name" # built in, or loaded already
		elif err=$(insmod "$mdir/$m" 2>&1); then
			loaded="$loaded $name"
		else
			failed="$failed $name ($(echo "${err:-insmod failed}" | tr '\n' ' ' | sed 's/ *$//'))"
		fi
	done <"$mdir/order"
	echo "modules:${loaded:- none}${failed:+; failed:$failed}"
else
	echo "modules: none in the initramfs for $(uname -r)"
fi

# The network, when run.sh asks for it (jitd.net=1 on the command line: a part that declares
# "# jitd-vm: net"): qemu's user network on a virtio card, the host's loopback at 10.0.2.2.
# The card's modules are in "order-net" (none where the kernel builds them in). A VM that
# asked for the network and has none fails loudly: a FAIL line, judged by run.sh.
net_up() {
	while read -r m; do
		[ -n "$m" ] || continue
		[ -d "/sys/module/${m%.ko}" ] || insmod "$mdir/$m" || return 1
	done <"$mdir/order-net" || return 1
	i=0
	while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -e /sys/class/net/eth0 ] || {
		echo "no eth0 5 s after loading $(tr '\n' ' ' <"$mdir/order-net" | sed 's/\.ko//g; s/ *$//')"
		return 1
	}
	ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 &&
		ip route add default via 10.0.2.2
}
if grep -qw 'jitd\.net=1' /proc/cmdline; then
	t0=$(cut -d' ' -f1 /proc/uptime)
	if err=$(net_up 2>&1); then
		echo "net: eth0 10.0.2.15/24, default via 10.0.2.2, up in" \
			"$(awk -v a="$t0" '{ printf "%.2f", $1 - a }' /proc/uptime)s (modules:" \
			"$(tr '\n' ' ' <"$mdir/order-net" | sed 's/\.ko//g; s/ *$//'))"
	else
		echo "FAIL vm-net: no network: $(echo "${err:-?}" | tr '\n' ' ')"
		ip link 2>&1 | sed 's/^/    /'
	fi
fi

if [ -f "/tests/$mode.sh" ]; then
	sh "/tests/$mode.sh"
	rc=$?
else
	echo "init: no /tests/$mode.sh"
	rc=127
fi

echo "JITD-VM-DONE rc=$rc"
sync
poweroff -f
# poweroff should not return; if it does, exiting PID 1 panics and panic=-1 reboots,
# which -no-reboot turns into a qemu exit.
sleep 5
exit "$rc"
