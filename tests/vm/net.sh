#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# net.sh: VMs reach a service on the host's loopback through qemu's user network, two at
# once, as the fleet test's jitd hosts reach one PostgreSQL server (`tests/vm/run.sh BUILD
# net`, every kernel). run.sh boots the two VMs side by side and starts tests/vm/lineserver.py
# on the host's 127.0.0.1; its port and a token come on the command line (jitd.netport,
# jitd.nettoken). Each VM sends a line to 10.0.2.2:PORT and must read it back behind the
# token, with the other VM of its kernel connected at the same time. A VM without the network
# fails (here and in /init), it never skips.
# jitd-vm: net vms=2
. /tests/lib.sh

vm=$(kparam jitd.vm 1)
port=$(kparam jitd.netport)
token=$(kparam jitd.nettoken)
ip -4 addr show dev eth0 2>&1 | grep 'inet '
ip route 2>&1 | sed 's/^/route: /'

check "net-vm$vm-eth0-has-10.0.2.15" "$(ip -4 addr show dev eth0 2>&1 | tr '\n' ' ')" \
	sh -c 'ip -4 addr show dev eth0 | grep -q "inet 10\.0\.2\.15/24"'

if [ -z "$port" ] || [ -z "$token" ]; then
	fail "net-vm$vm-line-exchanged-with-host" "no jitd.netport or jitd.nettoken on the command line: $(cat /proc/cmdline)"
	exit 1
fi
line="hello $(uname -r) vm$vm"
t0=$(now)
# nc -w bounds the connection; the answer may wait for the other VM (lineserver.py: 120 s).
reply=$(echo "$line" | timeout 150 nc -w 10 "$HOST_ADDR" "$port" 2>/tmp/.nc.err)
rc=$?
echo "net: $HOST_ADDR:$port answered '$reply' after $(fsub "$(now)" "$t0")s (nc exit $rc)"
case "$reply" in
"jitd-net-host $token "*" $line")
	pass "net-vm$vm-line-exchanged-with-host"
	;;
*)
	fail "net-vm$vm-line-exchanged-with-host" "sent '$line' to $HOST_ADDR:$port, got '$reply' (nc exit $rc: $(tr '\n' ' ' </tmp/.nc.err))"
	exit 1
	;;
esac
seen=$(echo "$reply" | cut -d' ' -f3)
vms=${seen#*/}
if [ "${seen%/*}" = "$vms" ]; then
	pass "net-vm$vm-$vms-vms-connected-at-once"
else
	fail "net-vm$vm-$vms-vms-connected-at-once" "the host saw $seen VMs of $(uname -r) connected at once"
fi
[ "$N_FAIL" = 0 ]
