#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The attacker's suite (sourced by tests.sh while jitd enforces tests/vm/policy.json and no
# grant is active). One check per route to a protected object. Every denial must be EPERM
# *and* a new deny record of jitd's for that operation (not just any error); every denial
# is paired with the same route allowed: with a grant, for an exempt subject, or on an
# unprotected object. Attackers: alice (1001) and bob (1002), unprivileged, with unset
# login uids (as services and cron jobs have); and a governed root: uid 0 with all
# capabilities whose login uid is alice's (`sudo -i` by alice).
#
# Leaves no grant active and the protected files as it found them.

GOV="$P loginuid 1001" # governed root: uid 0, login uid alice

# audit_count, denied, not_eperm: lib.sh.

# /srv/vault/a/moved.txt is the vault file (tests.sh renamed deep.txt there).

# ------------------------------------------------------------------ identity

# A task whose login uid is unset (services, cron, containers) may set it unprivileged:
# it would then be whoever it names (uid 0 is exempt). A governed root could rewrite its
# own. Neither may: only exempt subjects set login uids (pam_loginuid in sshd, login).
denied attack-identity-unset-loginuid-user-sets-loginuid-0 loginuid $P as 1002 $P setloginuid 0
denied attack-identity-unset-loginuid-user-claims-alice loginuid $P as 1002 $P setloginuid 1001
denied attack-identity-governed-root-resets-loginuid loginuid $GOV $P setloginuid 4294967295
denied attack-identity-governed-root-sets-loginuid-0 loginuid $GOV $P setloginuid 0
expect attack-identity-exempt-root-sets-loginuid-ok ok $P setloginuid 1002
# So a governed root stays alice: without a grant, denied; with alice's, allowed.
expect attack-identity-governed-root-open-secret-denied EPERM $GOV $P open /srv/secret.txt

# The control socket authorises the same subject: `sudo jitctl grant` is alice asking.
n_before=$(jitctl list --json | grep -o '"id"' | wc -l)
out=$($GOV jitctl grant secrets --user alice --for 60s 2>&1)
rc=$?
check attack-ctl-governed-root-cannot-grant "exit $rc: $out" test "$rc" = 1
check attack-ctl-governed-root-is-alice-to-jitd "got: $out" contains "$out" "uid 1001|alice"
n_after=$(jitctl list --json | grep -o '"id"' | wc -l)
check attack-ctl-governed-root-grant-changed-nothing "grants $n_before -> $n_after" \
	test "$n_before" = "$n_after"
G_B=$(grant_or_fail attack-ctl-grant-bob-secrets secrets --user bob --for 60s)
out=$($GOV jitctl revoke "$G_B" 2>&1)
check attack-ctl-governed-root-cannot-revoke-bobs-grant "got: $out" contains "$out" "may not revoke"
check attack-ctl-bobs-grant-still-active "grant $G_B: $(jfield "$G_B" state)" state_is "$G_B" active
[ -n "$G_B" ] && revoke "$G_B"
check attack-ctl-governed-root-status-ok "jitctl status as governed root failed" $GOV jitctl status
out=$(jitctl status --json 2>&1)
check attack-ctl-status-names-lockdown "got: $(echo "$out" | head -c 300)" contains "$out" '"lockdown": ?"'
check attack-ctl-status-names-walk-bound "no directory_walk_bound" contains "$out" '"directory_walk_bound"'

# ------------------------------------------------------------------ depth

# Below the fast walk (32 levels by direct loads): the probe-read walk finds the vault.
mkdir -p /srv/vault/deep && $P deepmk /srv/vault/deep 100 >/dev/null
chmod -R a+rX /srv/vault/deep
denied attack-depth-100-levels-in-vault-denied open $P as 1001 $P deepopen /srv/vault/deep 100
G_D=$(grant_or_fail attack-depth-grant-vault vault --user alice --for 60s)
expect attack-depth-100-levels-in-vault-granted-ok ok $P as 1001 $P deepopen /srv/vault/deep 100
[ -n "$G_D" ] && revoke "$G_D"
# alice may rename inside the vault (her own directory): moving a file 60 levels down
# keeps it protected.
mkdir -p /srv/vault/alice2 && chown 1001:1001 /srv/vault/alice2 && chmod 755 /srv/vault/alice2
echo x >/srv/vault/alice2/x.txt && chown 1001:1001 /srv/vault/alice2/x.txt
expect attack-depth-alice-makes-60-levels-in-her-vault-dir ok $P as 1001 $P deepdirs /srv/vault/alice2 60
expect attack-depth-alice-moves-file-60-levels-down-ok ok $P as 1001 $P deepmv /srv/vault/alice2/x.txt /srv/vault/alice2 60
denied attack-depth-moved-down-still-denied open $P as 1001 $P deepopen /srv/vault/alice2 60
# Past the bound (256 levels) the walk cannot say: on a file system that holds a protected
# directory, a non-exempt subject is denied (a guard record); elsewhere, nothing changes.
mkdir -p /srv/scratch/deepx && $P deepmk /srv/scratch/deepx 300 >/dev/null
chmod -R a+rX /srv/scratch/deepx
denied attack-depth-300-levels-on-protected-fs-denied open $P as 1001 $P deepopen /srv/scratch/deepx 300
expect attack-depth-300-levels-exempt-root-ok ok $P deepopen /srv/scratch/deepx 300
mkdir -p /tmp/deepx && $P deepmk /tmp/deepx 300 >/dev/null
chmod -R a+rX /tmp/deepx
expect attack-depth-300-levels-on-unprotected-fs-ok ok $P as 1001 $P deepopen /tmp/deepx 300
check attack-depth-guard-record-names-jitd-guard "no (jitd guard) deny record" \
	audit_lines "$(jkey decision)\"deny\"" "$(jres '\(jitd guard\)')" "$(jkey op)\"open\""

# ------------------------------------------------------------------ names that change

# A hard link out of the vault made before jitd started: the walk from its name never
# meets the vault, so jitd protects every hard-linked vault file by its inode.
denied attack-names-pre-jitd-hardlink-out-of-vault-denied open $P as 1001 $P open /srv/scratch/pre-jitd-vault-link
expect attack-names-pre-jitd-hardlink-exempt-root-ok ok $P open /srv/scratch/pre-jitd-vault-link

# Renamed away by root: the inode keeps its protection at its new name.
mv /srv/secret.txt /srv/scratch/secret-away
sleep 1
denied attack-names-secret-renamed-away-still-denied open $P as 1001 $P open /srv/scratch/secret-away
mv /srv/scratch/secret-away /srv/secret.txt
sleep 1

# An O_PATH descriptor held across a package upgrade (the name now a new inode): the old
# inode stays protected while the policy names the path.
rm -f /tmp/op.ready /tmp/op.go
$P as 1001 $P opath-hold /opt/bin/tool /tmp/op.ready /tmp/op.go >/tmp/op.out 2>&1 &
OP_PID=$!
wait_for 10 test -e /tmp/op.ready
cp /tests/nop /opt/bin/tool.new && chmod 755 /opt/bin/tool.new && mv /opt/bin/tool.new /opt/bin/tool
sleep 1
touch /tmp/op.go
wait "$OP_PID"
check attack-names-opath-held-across-replacement-denied "reopen of the held old inode: $(cat /tmp/op.out)" \
	test "$(tail -n 1 /tmp/op.out)" = EPERM
expect attack-names-replaced-binary-new-inode-denied EPERM $P as 1001 $P open /opt/bin/tool

# The replacement window: a new inode under a protected path is protected within a bound,
# even while other files in the same directory churn (inotify events must not push the
# re-resolution back). Measured from the rename to alice's first EPERM.
rm -f /tmp/churn.stop
(while [ ! -e /tmp/churn.stop ]; do
	touch /opt/bin/churn.$$ && rm -f /opt/bin/churn.$$
done) &
CHURN_PID=$!
worst=0
for round in 1 2 3; do
	cp /tests/nop /opt/bin/tool.new && chmod 755 /opt/bin/tool.new
	t0=$(now)
	mv /opt/bin/tool.new /opt/bin/tool
	while [ "$(result $P as 1001 $P open /opt/bin/tool)" != EPERM ] &&
		fcmp "$(fsub "$(now)" "$t0")" lt 10; do
		:
	done
	w=$(fsub "$(now)" "$t0")
	echo "attack: replaced /opt/bin/tool protected after ${w}s while /opt/bin churns (round $round)"
	fcmp "$w" gt "$worst" && worst=$w
done
touch /tmp/churn.stop
wait "$CHURN_PID"
echo "attack: replacement window under churn: worst ${worst}s of 3 (TCG; the agent's delay is 50 ms)"
check attack-names-replacement-window-under-churn-below-2s "worst ${worst}s" fcmp "$worst" lt 2

# ------------------------------------------------------------------ stacked and other views

denied attack-view-proc-self-root-denied open $P as 1001 $P open /proc/self/root/srv/secret.txt
(cd /srv/vault/a/b && $P as 1001 $P open /proc/self/cwd/../moved.txt) >/tmp/.cwd.out 2>&1
check attack-view-proc-self-cwd-in-vault-denied "got: $(cat /tmp/.cwd.out)" \
	test "$(tail -n 1 /tmp/.cwd.out)" = EPERM
expect attack-view-proc-self-root-unprotected-ok ok $P as 1001 $P open /proc/self/root/srv/public.txt

# open_by_handle_at reaches a file without a name (CAP_DAC_READ_SEARCH: a governed root).
r=$(result $GOV $P byhandle /run/tvault/t.txt /run)
case "$r" in
EOPNOTSUPP | ENOTSUP) skip attack-view-open-by-handle "no file handles on /run's file system ($r)" ;;
*)
	denied attack-view-open-by-handle-governed-root-denied open $GOV $P byhandle /run/tvault/t.txt /run
	expect attack-view-open-by-handle-exempt-root-ok ok $P byhandle /run/tvault/t.txt /run
	echo unprotected >/run/unprot.txt
	expect attack-view-open-by-handle-unprotected-ok ok $GOV $P byhandle /run/unprot.txt /run
	;;
esac

# A bind mount made in alice's own user and mount namespace: same dentries, same walk.
[ -w /proc/sys/kernel/unprivileged_userns_clone ] && echo 1 >/proc/sys/kernel/unprivileged_userns_clone
mkdir -p /tmp/ubind && chmod 777 /tmp/ubind
$P as 1001 unshare -Urm sh -c "mount --bind /srv/vault /tmp/ubind && $P open /tmp/ubind/a/moved.txt" \
	>/tmp/.userns.out 2>&1
if grep -qiE 'unshare|mount' /tmp/.userns.out && ! grep -q EPERM /tmp/.userns.out; then
	skip attack-view-userns-bind-mount "no user namespace for alice: $(head -c 200 /tmp/.userns.out)"
else
	check attack-view-userns-bind-mount-of-vault-denied "got: $(tr '\n' ' ' </tmp/.userns.out)" \
		test "$(head -n 1 /tmp/.userns.out)" = EPERM
fi

# overlayfs with the protected files in the lower layer: the decision is on the real inode.
if grep -qw overlay /proc/filesystems; then
	mkdir -p /tmp/ovl/up /tmp/ovl/work /tmp/ovl/m
	if mount -t overlay overlay -o lowerdir=/srv,upperdir=/tmp/ovl/up,workdir=/tmp/ovl/work /tmp/ovl/m; then
		denied attack-view-overlay-lower-protected-file-denied open $P as 1001 $P open /tmp/ovl/m/secret.txt
		denied attack-view-overlay-lower-vault-subtree-denied open $P as 1001 $P open /tmp/ovl/m/vault/a/moved.txt
		expect attack-view-overlay-lower-unprotected-ok ok $P as 1001 $P open /tmp/ovl/m/public.txt
		cp /opt/bin/tool /tmp/ovl-lower-tool 2>/dev/null
		G_O=$(grant_or_fail attack-view-overlay-grant-secrets secrets --user alice --for 60s)
		expect attack-view-overlay-lower-protected-file-granted-ok ok $P as 1001 $P open /tmp/ovl/m/secret.txt
		[ -n "$G_O" ] && revoke "$G_O"
		umount /tmp/ovl/m
		mkdir -p /tmp/ovlb/up /tmp/ovlb/work /tmp/ovlb/m
		mount -t overlay overlay -o lowerdir=/opt/bin,upperdir=/tmp/ovlb/up,workdir=/tmp/ovlb/work /tmp/ovlb/m
		denied attack-view-overlay-lower-protected-binary-exec-denied exec $P as 1001 $P exec /tmp/ovlb/m/tool
		umount /tmp/ovlb/m
	else
		fail attack-view-overlay-mount "mount -t overlay failed"
	fi
else
	skip attack-view-overlay "overlay is not in /proc/filesystems (module not loaded)"
fi

# ------------------------------------------------------------------ changes other than open

# Like a write open: a governed root (who passes every permission check) needs a grant.
denied attack-change-governed-root-chmod-secret-denied setattr $GOV $P chmod /srv/secret.txt 644
denied attack-change-governed-root-chown-secret-denied setattr $GOV $P chown /srv/secret.txt 1001
denied attack-change-governed-root-truncate-secret-denied setattr $GOV $P truncate /srv/secret.txt
denied attack-change-governed-root-setxattr-secret-denied xattr $GOV $P setxattr /srv/secret.txt
denied attack-change-governed-root-setxattr-vault-member-denied xattr $GOV $P setxattr /srv/vault/a/moved.txt
denied attack-change-governed-root-unlink-secret-denied unlink $GOV $P unlink /srv/secret.txt
denied attack-change-governed-root-unlink-vault-member-denied unlink $GOV $P unlink /srv/vault/a/moved.txt
echo decoy >/srv/decoy.txt
denied attack-change-governed-root-replace-secret-by-rename-denied unlink $GOV $P rename /srv/decoy.txt /srv/secret.txt
denied attack-change-governed-root-rename-secret-away-denied rename $GOV $P rename /srv/secret.txt /srv/scratch/s
denied attack-change-governed-root-rename-vault-dir-denied rename $GOV $P rename /srv/vault /srv/vault2
denied attack-change-governed-root-rmdir-vault-dir-denied unlink $GOV $P rmdir /srv/vault
mkdir -p /srv/vault/emptydir
G_V=$(grant_or_fail attack-change-grant-vault vault --user alice --for 60s)
expect attack-change-rmdir-vault-dir-denied-even-with-grant EPERM $GOV $P rmdir /srv/vault
expect attack-change-rmdir-in-vault-with-grant-ok ok $GOV $P rmdir /srv/vault/emptydir
[ -n "$G_V" ] && revoke "$G_V"
check attack-change-secret-intact "secret.txt changed: $(cat /srv/secret.txt 2>&1)" \
	test "$(cat /srv/secret.txt)" = "top secret"
G_C=$(grant_or_fail attack-change-grant-secrets secrets --user alice --for 60s)
expect attack-change-governed-root-chmod-secret-granted-ok ok $GOV $P chmod /srv/secret.txt 644
expect attack-change-governed-root-truncate-secret-granted-ok ok $GOV $P truncate /srv/secret.txt
not_eperm attack-change-governed-root-setxattr-secret-granted-not-eperm $GOV $P setxattr /srv/secret.txt
[ -n "$G_C" ] && revoke "$G_C"
# Unprotected objects: untouched by jitd.
expect attack-change-governed-root-chmod-unprotected-ok ok $GOV $P chmod /srv/public.txt 644
expect attack-change-governed-root-unlink-unprotected-ok ok $GOV $P unlink /srv/decoy.txt
not_eperm attack-change-governed-root-setxattr-unprotected-not-eperm $GOV $P setxattr /srv/public.txt
expect attack-change-exempt-root-chmod-secret-ok ok $P chmod /srv/secret.txt 644

# ------------------------------------------------------------------ network

# Spellings the kernel accepts for a protected destination (localdb: 127.0.0.1:6543 and
# [::1]:6543): the unspecified address connects to the local host.
denied attack-net-connect-0.0.0.0-is-127.0.0.1-denied connect $P as 1001 $P connect 0.0.0.0 6543
denied attack-net-connect-in6addr-any-is-loopback-denied connect $P as 1001 $P connect :: 6543
denied attack-net-connect-v4mapped-any-denied connect $P as 1001 $P connect ::ffff:0.0.0.0 6543
denied attack-net-connect-v4mapped-loopback-denied connect $P as 1001 $P connect ::ffff:127.0.0.1 6543
denied attack-net-sendto-0.0.0.0-denied sendmsg $P as 1001 $P sendto 0.0.0.0 6543
expect attack-net-connect-0.0.0.0-other-port-ok ok $P as 1001 $P connect 0.0.0.0 6544
# udp_sendmsg takes AF_UNSPEC as AF_INET.
denied attack-net-sendto-af-unspec-denied sendmsg $P as 1001 $P sendto-unspec 127.0.0.2 5432
expect attack-net-sendto-af-unspec-unprotected-ok ok $P as 1001 $P sendto-unspec 127.0.0.2 5433
G_N=$(grant_or_fail attack-net-grant-localdb localdb --user alice --for 60s)
expect attack-net-connect-0.0.0.0-granted-ok ok $P as 1001 $P connect 0.0.0.0 6543
[ -n "$G_N" ] && revoke "$G_N"
# Raw IP and packet sockets write their own headers: no destination check could hold.
denied attack-net-governed-root-raw-socket-denied socket $GOV $P rawsock
denied attack-net-governed-root-raw6-socket-denied socket $GOV $P raw6sock
denied attack-net-governed-root-packet-socket-denied socket $GOV $P packetsock
denied attack-net-alice-raw-socket-denied socket $P as 1001 $P rawsock
expect attack-net-exempt-root-raw-socket-ok ok $P rawsock
expect attack-net-exempt-root-packet-socket-ok ok $P packetsock
expect attack-net-governed-root-udp-socket-ok ok $GOV $P udpsock
# SCTP: connect, and connectx with an address list whose second address is protected.
r=$(result $P sctp-connect 127.0.0.2 5433)
if [ "$r" = ok ]; then
	denied attack-net-sctp-connect-denied connect $P as 1001 $P sctp-connect 127.0.0.2 5432
	denied attack-net-sctp-connectx-list-denied connect $P as 1001 $P sctp-connectx 5432 127.0.0.3 127.0.0.2
	expect attack-net-sctp-connect-unprotected-ok ok $P as 1001 $P sctp-connect 127.0.0.2 5433
else
	skip attack-net-sctp "no SCTP in this kernel (module not loaded): $r"
fi

# ------------------------------------------------------------------ revoke --kill

# What was opened during a grant stays usable; for a grant bound to a cgroup, revoke --kill
# ends the tree that could hold it.
mkdir -p /sys/fs/cgroup/killme
$P cgexec /killme $P as 1001 sleep 120 &
K_PID=$!
G_K=$(grant_or_fail attack-kill-grant-cgroup-killme secrets --cgroup /killme --for 60s)
G_U=$(grant_or_fail attack-kill-grant-user-bob secrets --user bob --for 60s)
out=$(jitctl revoke --kill "$G_U" 2>&1)
check attack-kill-user-grant-refused "got: $out" contains "$out" "not bound to a cgroup"
check attack-kill-user-grant-refused-still-active "grant $G_U: $(jfield "$G_U" state)" state_is "$G_U" active
[ -n "$G_U" ] && revoke "$G_U"
sleep 0.5
out=$(jitctl revoke --kill "$G_K" 2>&1)
check attack-kill-cgroup-grant-says-killed "got: $out" contains "$out" "killed [1-9][0-9]* processes"
wait "$K_PID"
rc=$?
check attack-kill-cgroup-grant-tree-killed "the process in /killme exited with $rc, not by SIGKILL (137)" \
	test "$rc" = 137
check attack-kill-audited "no killed event" grep -qE "$(jkey event)\"killed\"" "$AUDIT"

# ------------------------------------------------------------------ reloads

# attack_reloads: a loop of denied opens across 100 policy reloads lets nothing through.
# (Called by tests.sh at the end of its policy tests: it moves the serial on by 100.)
attack_reloads() {
	rm -f /tmp/.rl.stop /tmp/.rl.out
	(while [ ! -e /tmp/.rl.stop ]; do $P as 1002 $P open /srv/secret.txt; $P as 1002 $P open /srv/vault/a/moved.txt; done >/tmp/.rl.out 2>&1) &
	RL_PID=$!
	cp "$JITD_POLICY" /tmp/policy.before-reloads.json
	s0=$(jitctl status --json | grep -o '"serial" *: *[0-9]*' | grep -o '[0-9]*$')
	i=1
	while [ $i -le 100 ]; do
		sed "s/\"serial\": 1,/\"serial\": $((s0 + i)),/" /tmp/policy.before-reloads.json >"$JITD_POLICY"
		kill -HUP "$JITD_PID"
		sleep 0.1
		i=$((i + 1))
	done
	wait_for 20 test "$(jitctl status --json | grep -o '"serial" *: *[0-9]*' | grep -o '[0-9]*$')" = "$((s0 + 100))"
	touch /tmp/.rl.stop
	wait "$RL_PID"
	n_tries=$(wc -l </tmp/.rl.out)
	n_ok=$(grep -c '^ok' /tmp/.rl.out)
	echo "attack: 100 policy reloads: $n_tries opens by bob, $n_ok allowed, serial now $(jitctl status --json | grep -o '"serial" *: *[0-9]*')"
	check attack-reloads-100-nothing-through "$n_ok of $n_tries denied opens got through" \
		test "$n_ok" = 0 -a "$n_tries" -gt 20
	cp /tmp/policy.before-reloads.json "$JITD_POLICY"
}
