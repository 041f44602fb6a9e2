#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# make demo: jitd on a real kernel, for a person to watch, in the commands a person types.
# alice is denied; she requests, bob approves, she gets in; `jitctl exec` gives one process
# tree access and nothing else; the kernel ends the grant at its expiry; the history and the
# audit stream (sealed with a key that changes every 5 s) say what happened. run.sh shows what follows JITD-DEMO-BEGIN, without the
# kernel's messages.
. /tests/lib.sh
JITD_POLICY=/tests/policy-demo.json

# say TEXT: a step of the story
say() {
	echo
	echo "# $*"
}

# run CMDLINE: print it as typed at a root prompt, run it, print what it printed
run() {
	echo "root# $1"
	sh -c "$1" 2>&1 | sed 's/^/    /'
}

mkdir -p /srv/reports
echo "top secret" >/srv/secret.txt
echo "Q3: 12% up" >/srv/reports/q3.txt
chmod 0644 /srv/secret.txt /srv/reports/q3.txt
start_jitd demo-jitd-start >/dev/null || {
	show_jitd_log
	exit 1
}

echo JITD-DEMO-BEGIN
echo "jitd demo on Linux $(uname -r): the kernel (BPF LSM) enforces time-bound grants."
say "The policy: /srv/secret.txt needs bob's approval for alice; /srv/reports she may take"
run "jitctl policy check /tests/policy-demo.json"

say "Root turns on forward-secure sealing of the audit stream (a new key every 5 s here)"
run "jitctl audit seal-init --interval 5s | tee /tmp/seal-init.txt"
grep -oE 'jitd1-[0-9a-f-]+' /tmp/seal-init.txt | head -n 1 >/tmp/vkey

say "1. alice has no grant: the kernel refuses her, though the file is world-readable (0644)"
run "su alice -c 'cat /srv/secret.txt'"

say "2. alice asks for 8 seconds, bob approves: she is in"
run "su alice -c 'jitctl request secrets --for 8s --reason INC-7'"
ID=$(jitctl list --json | sed -n 's/^ *"id": \([0-9]*\),*$/\1/p' | tail -n 1)
run "su bob -c 'jitctl approve $ID'"
T0=$(now)
run "su alice -c 'cat /srv/secret.txt'"

say "3. jitctl exec: access for one process tree only, not for alice's other processes"
run "su alice -c 'jitctl exec reports --for 1m -- cat /srv/reports/q3.txt'"
run "su alice -c 'cat /srv/reports/q3.txt'"

say "4. The grant runs out: the kernel itself denies again (no agent needed)"
while [ "$(result $PROBE as 1001 $PROBE open /srv/secret.txt)" = ok ] &&
	fcmp "$(fsub "$(now)" "$T0")" lt 30; do
	sleep 0.2
done
echo "    (denied $(fsub "$(now)" "$T0") s after bob's approval)"
run "su alice -c 'cat /srv/secret.txt'"
run "jitctl show $ID"

say "5. Every decision and event is an audit record (OCSF JSON lines, hash-chained, sealed)"
run "jitctl audit --since 5m --filter agent | tail -n 5"
say "Checked off the host with the verification key: a sealed record cannot be changed unseen"
run "jitctl audit verify --key @/tmp/vkey $AUDIT"

echo
echo "Next: README.md, 'Running on a real host' (boot with lsm=...,bpf, make install,"
echo "systemctl enable --now jitd); man jitd, man jitctl, man jitd.policy."
echo JITD-DEMO-END
stop_jitd
