#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# make demo: jitd on a real kernel, for a person to watch. alice is denied, root grants her
# 5 seconds, she gets in, the grant runs out, she is denied again; each step shows what
# the kernel answered and the audit record jitd wrote for it.
. /tests/lib.sh

P=$PROBE

step() {
	echo
	echo "==== $* ===="
}

# show CMD...: print the command, run it, print the answer.
show() {
	echo "\$ $*"
	"$@" 2>&1 | sed 's/^/  /'
}

# last_audit PATTERN...: the newest decision record matching the patterns, indented.
last_audit() {
	sleep 0.5
	_l=$(audit_lines "$@" | tail -n 1)
	if [ -n "$_l" ]; then
		_f() { echo "$_l" | grep -o "\"$1\":\"[^\"]*\"" | head -n 1 | cut -d'"' -f4; }
		echo "audit record (OCSF $(_f class_name), sequence $(echo "$_l" | grep -o '"sequence":[0-9]*' | cut -d: -f2)):"
		echo "  $(_f message) -> $(_f disposition); $(_f status_detail)"
		echo "  full record: $(echo "$_l" | cut -c1-240)..."
	else
		echo "audit record: (none found in $AUDIT)"
	fi
}

mkdir -p /srv
echo "top secret" >/srv/secret.txt
chmod 0644 /srv/secret.txt

step "The policy: /srv/secret.txt is the resource \"secrets\"; root is exempt"
sed 's/^/  /' "$JITD_POLICY"

step "Start jitd"
start_jitd jitd-start || exit 1
show jitctl status

step "1. alice (uid 1001) has no grant: the kernel refuses her open"
show ls -l /srv/secret.txt
echo "(the file is world-readable; only jitd's BPF LSM program stands in the way)"
show $P as 1001 $P open /srv/secret.txt
show $P as 1001 cat /srv/secret.txt
last_audit "$(jkey decision)\"deny\"" "$(juid 1001)"

step "2. root grants alice 5 seconds on \"secrets\""
echo "\$ jitctl grant secrets --user alice --for 5s --reason INC-42"
ID=$(jitctl grant secrets --user alice --for 5s --reason INC-42)
T0=$(now)
echo "  $ID"
show jitctl list

step "3. alice, within the 5 seconds: allowed"
show $P as 1001 cat /srv/secret.txt
last_audit "$(jkey decision)\"allow\"" "$(juid 1001)"

step "4. Wait for the grant to expire (the kernel checks the expiry itself, no agent needed)"
n=0
while [ "$($P as 1001 $P open /srv/secret.txt 2>/dev/null)" = ok ] && [ $n -lt 150 ]; do
	sleep 0.2
	n=$((n + 1))
done
echo "alice's access ended $(fsub "$(now)" "$T0")s after the grant"
[ $n -lt 150 ] || echo "(still allowed after 30 s: the grant did not expire!)"
show jitctl list

step "5. alice again: denied"
show $P as 1001 $P open /srv/secret.txt
show $P as 1001 cat /srv/secret.txt
last_audit "$(jkey decision)\"deny\"" "$(juid 1001)"

step "Done"
stop_jitd
echo "demo finished"
