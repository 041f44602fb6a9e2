#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# End-to-end tests of jitd on a real kernel (run inside the VM by /init, see run.sh).
# Every access is a real syscall by /tests/probe as a real uid; the answer must come from
# the BPF LSM. The "baseline" cases run first, without jitd, and prove the same accesses
# work when nothing enforces, so that an EPERM later is jitd's doing.
#
# Users: alice 1001, bob 1002, carol 1003 (used once, for audit counting); root is exempt.
# Resources (tests/vm/policy.json): secrets (open /srv/secret.txt), vault (open /srv/vault,
# a subtree), tool (exec /opt/bin/tool), db (connect 127.0.0.2:5432, [::1]:5432),
# labnet (connect 127.0.9.0/24, any port). Exempt: uid 0, cgroup /exempt.
. /tests/lib.sh

P=$PROBE
SUID=/usr/local/bin/probe-suid # a setuid-root copy of probe: what `su` looks like

# ------------------------------------------------------------------ helpers

# accesses PREFIX EXPECT WRAPPER...: every kind of protected access, each its own test,
# run through WRAPPER (for example "$P as 1001").
accesses() {
	_pre=$1
	_exp=$2
	shift 2
	expect "$_pre-exec-tool" "$_exp" "$@" $P exec /opt/bin/tool
	expect "$_pre-open-secret" "$_exp" "$@" $P open /srv/secret.txt
	expect "$_pre-open-vault-subtree-file" "$_exp" "$@" $P open /srv/vault/a/b/c/deep.txt
	expect "$_pre-connect-db-ipv4" "$_exp" "$@" $P connect 127.0.0.2 5432
	expect "$_pre-connect-db-ipv6" "$_exp" "$@" $P connect ::1 5432
	expect "$_pre-sendto-db-udp" "$_exp" "$@" $P sendto 127.0.0.2 5432
	expect "$_pre-sendto-labnet-cidr-any-port" "$_exp" "$@" $P sendto 127.0.9.7 53
	expect "$_pre-connect-labnet-cidr-any-port" "$_exp" "$@" $P connect 127.0.9.7 8080
}

# unprotected PREFIX WRAPPER...: accesses no resource covers; always allowed.
unprotected() {
	_pre=$1
	shift
	expect "$_pre-open-unprotected-file-ok" ok "$@" $P open /srv/public.txt
	expect "$_pre-exec-unprotected-binary-ok" ok "$@" $P exec /tests/nop
	expect "$_pre-connect-unprotected-port-ok" ok "$@" $P connect 127.0.0.2 5433
	expect "$_pre-sendto-unprotected-port-ok" ok "$@" $P sendto 127.0.0.2 5433
	expect "$_pre-connect-outside-cidr-ok" ok "$@" $P connect 127.0.8.7 8080
}

# wait_eperm UID SECONDS CMD...: poll CMD as UID every 0.2 s until it answers EPERM or
# SECONDS pass. Sets T_LAST_OK_BEFORE (uptime before the last "ok" probe),
# T_EPERM_BEFORE/T_EPERM_AFTER (uptime around the first EPERM probe; empty if none)
# and W_OTHER (an unexpected answer, if any).
wait_eperm() {
	_wuid=$1
	_wend=$(awk -v a="$(now)" -v b="$2" 'BEGIN { printf "%.2f", a + b }')
	shift 2
	T_LAST_OK_BEFORE=""
	T_EPERM_BEFORE=""
	T_EPERM_AFTER=""
	W_OTHER=""
	while fcmp "$(now)" lt "$_wend"; do
		_tb=$(now)
		_r=$(result $P as "$_wuid" "$@")
		_ta=$(now)
		case "$_r" in
		ok) T_LAST_OK_BEFORE=$_tb ;;
		EPERM)
			T_EPERM_BEFORE=$_tb
			T_EPERM_AFTER=$_ta
			return 0
			;;
		*)
			W_OTHER=$_r
			return 1
			;;
		esac
		sleep 0.2
	done
	return 1
}

# check_expiry NAME T_START T_END SECONDS: after wait_eperm, check that the first EPERM
# came no earlier than SECONDS after the grant could have been made (T_START, before the
# grant command), and that no open was allowed whose probe started more than SECONDS+1
# after the grant command returned (T_END): a probe starts before its open, so such an
# allow was late. The first EPERM's own time is printed, not judged: on a loaded host it
# also holds the probes' delay (a probe is a fork and an exec under TCG), not jitd's.
check_expiry() {
	_n=$1
	_ts=$2
	_te=$3
	_len=$4
	if [ -n "$W_OTHER" ]; then
		fail "$_n" "probe answered $W_OTHER while waiting for the expiry"
		return
	fi
	if [ -z "$T_EPERM_BEFORE" ]; then
		fail "$_n" "still allowed $(fsub "$(now)" "$_te")s after a ${_len}s grant"
		return
	fi
	_first=$(fsub "$T_EPERM_BEFORE" "$_te")
	_took=$(fsub "$_te" "$_ts")
	echo "$_n: first EPERM ${_first}s after the ${_len}s grant returned (grant command took ${_took}s, last ok at +$(fsub "${T_LAST_OK_BEFORE:-$_te}" "$_te")s)"
	if fcmp "$(fsub "$T_EPERM_AFTER" "$_ts")" lt "$_len"; then
		fail "$_n" "expired early: EPERM ${_first}s after the grant returned, $(fsub "$T_EPERM_AFTER" "$_ts")s after it was requested (< ${_len}s)"
	elif [ -n "$T_LAST_OK_BEFORE" ] &&
		fcmp "$(fsub "$T_LAST_OK_BEFORE" "$_te")" gt "$((_len + 1))"; then
		fail "$_n" "expired late: an open whose probe started $(fsub "$T_LAST_OK_BEFORE" "$_te")s after the grant returned was allowed (> $((_len + 1))s)"
	else
		pass "$_n"
	fi
}

# ------------------------------------------------------------------ setup

setup_files() {
	# The kernel's own hardlink/symlink protections would answer EPERM too; turn them off
	# so that an EPERM in the bypass tests can only come from jitd.
	echo 0 >/proc/sys/fs/protected_hardlinks
	echo 0 >/proc/sys/fs/protected_symlinks
	mkdir -p /srv/vault/a/b/c /opt/bin /usr/local/bin /srv/scratch
	echo "top secret" >/srv/secret.txt
	echo "deep in the vault" >/srv/vault/a/b/c/deep.txt
	echo "hello" >/srv/public.txt
	cp /tests/nop /opt/bin/tool
	chmod 0755 /srv /srv/vault /srv/vault/a /srv/vault/a/b /srv/vault/a/b/c /opt /opt/bin
	chmod 0644 /srv/secret.txt /srv/vault/a/b/c/deep.txt /srv/public.txt
	chmod 0755 /opt/bin/tool
	chmod 1777 /srv/scratch # same filesystem as /srv/secret.txt: hardlinks are possible
	cp /tests/probe "$SUID"
	chown 0:0 "$SUID"
	chmod 4755 "$SUID"
	mkdir -p /sys/fs/cgroup/exempt /sys/fs/cgroup/jtest/sub
	# for attack.sh: a protected directory on tmpfs, a hard link out of the vault made
	# before jitd starts, and a file the attacker's suite may change
	mkdir -p /run/tvault && echo t >/run/tvault/t.txt && chmod 755 /run/tvault
	chmod 644 /run/tvault/t.txt
	echo linked >/srv/vault/linked.txt && chmod 644 /srv/vault/linked.txt
	ln /srv/vault/linked.txt /srv/scratch/pre-jitd-vault-link
}

setup_files

# ------------------------------------------------------------------ rig (no jitd)

check rig-bpf-lsm-active "lsm list is '$(cat /sys/kernel/security/lsm)'" \
	grep -qw bpf /sys/kernel/security/lsm
check rig-bpffs-mounted "no bpf filesystem on /sys/fs/bpf" \
	grep -q ' /sys/fs/bpf bpf ' /proc/mounts
check rig-cgroup2-mounted "no cgroup2 on /sys/fs/cgroup" \
	grep -q ' /sys/fs/cgroup cgroup2 ' /proc/mounts
check rig-suid-copy-becomes-root "the setuid copy of probe did not give uid 0" \
	test "$($P as 1001 $SUID suroot id -u 2>&1)" = 0
check rig-loginuid-settable "cannot set /proc/self/loginuid" \
	test "$($P loginuid 1001 cat /proc/self/loginuid 2>&1)" = 1001
$P cgexec /jtest/sub cat /proc/self/cgroup >/tmp/.cg 2>&1
check rig-cgexec-lands-in-cgroup "in $(cat /tmp/.cg)" grep -q '^0::/jtest/sub$' /tmp/.cg

# The same accesses with nothing enforcing: all allowed.
accesses baseline-no-jitd-alice ok $P as 1001
unprotected baseline-no-jitd-alice $P as 1001
expect baseline-no-jitd-alice-symlink-open ok $P as 1001 $P symlink-open /srv/secret.txt /tmp/base-sym
expect baseline-no-jitd-alice-hardlink ok $P as 1001 $P link /srv/secret.txt /srv/scratch/base-hl
expect baseline-no-jitd-alice-open-hardlink ok $P as 1001 $P open /srv/scratch/base-hl
expect baseline-no-jitd-alice-proc-fd-reopen ok $P as 1001 $P reopen /srv/secret.txt
expect baseline-no-jitd-alice-execveat ok $P as 1001 $P execveat /opt/bin/tool
expect baseline-no-jitd-alice-fexecve ok $P as 1001 $P fexecve /opt/bin/tool
expect baseline-no-jitd-alice-copyexec ok $P as 1001 $P copyexec /opt/bin/tool /tmp/base-copy
rm -f /tmp/base-sym /srv/scratch/base-hl /tmp/base-copy

# ------------------------------------------------------------------ jitd up

if ! command -v jitd >/dev/null || ! command -v jitctl >/dev/null; then
	fail jitd-installed "jitd or jitctl missing from the initramfs"
	exit 1
fi
if ! start_jitd jitd-start-and-enforce; then
	fail jitd-dependent-tests "not run: jitd did not start"
	exit 1
fi
check jitd-pins-under-sys-fs-bpf "nothing under /sys/fs/bpf/jitd" \
	test -n "$(ls /sys/fs/bpf/jitd 2>/dev/null)"
# the policy's paths were watched before they were resolved: no second pass after READY
# (it held the control socket for seconds at 100,000 paths)
paths_count() { jitctl status --json 2>/dev/null | grep -o "\"$1\" *: *[0-9]*" | grep -o '[0-9]*$'; }
sleep 1
check paths-no-resync-after-start "resyncs: $(paths_count resyncs)" test "$(paths_count resyncs)" = 0
check jitd-start-says-where-its-time-went "$(grep 'enforcing: policy' "$JITD_LOG" | tail -n 1)" \
	grep -q 'ready in [0-9.]* s: policy read [0-9.]* s, grants loaded [0-9.]* s, kernel maps' "$JITD_LOG"

# ------------------------------------------------------------------ no grant

accesses nogrant-alice-denied EPERM $P as 1001
accesses nogrant-bob-denied EPERM $P as 1002
unprotected nogrant-alice $P as 1001
accesses exempt-root-uid0-allowed ok $P as 0
accesses exempt-cgroup-alice-in-exempt-allowed ok $P cgexec /exempt $P as 1001
expect exempt-cgroup-does-not-cover-sibling-jtest EPERM $P cgexec /jtest $P as 1001 $P open /srv/secret.txt

# ------------------------------------------------------------------ user grants

G_SECRETS=$(grant_or_fail grant-alice-secrets-60s secrets --user alice --for 60s)
expect grant-alice-secrets-alice-open-secret-ok ok $P as 1001 $P open /srv/secret.txt
expect grant-alice-secrets-bob-still-denied EPERM $P as 1002 $P open /srv/secret.txt
expect grant-alice-secrets-other-resource-vault-still-denied EPERM $P as 1001 $P open /srv/vault/a/b/c/deep.txt
expect grant-alice-secrets-other-resource-tool-still-denied EPERM $P as 1001 $P exec /opt/bin/tool
# sudo: root with alice's login uid is alice; su: alice's login uid survives becoming root.
expect grant-alice-sudo-root-with-loginuid-alice-ok ok $P loginuid 1001 $P as 0 $P open /srv/secret.txt
expect grant-alice-su-path-ok ok $P loginuid 1001 $P as 1001 $SUID suroot $P open /srv/secret.txt
expect grant-alice-sudo-root-with-loginuid-bob-denied EPERM $P loginuid 1002 $P as 0 $P open /srv/secret.txt

G_VAULT=$(grant_or_fail grant-alice-vault-60s vault --user alice --for 60s)
G_TOOL=$(grant_or_fail grant-alice-tool-60s tool --user alice --for 60s)
G_DB=$(grant_or_fail grant-alice-db-60s db --user alice --for 60s)
G_LAB=$(grant_or_fail grant-alice-labnet-60s labnet --user alice --for 60s)
accesses granted-alice-allowed ok $P as 1001
accesses granted-alice-bob-still-denied EPERM $P as 1002

for g in $G_SECRETS $G_VAULT $G_TOOL $G_DB $G_LAB; do
	revoke "$g" || fail "revoke-grant-$g" "jitctl revoke $g failed"
done
accesses revoked-alice-denied-again EPERM $P as 1001

# No grant: sudo and su do not make alice someone else.
expect nogrant-sudo-root-with-loginuid-alice-open-denied EPERM $P loginuid 1001 $P as 0 $P open /srv/secret.txt
expect nogrant-sudo-root-with-loginuid-alice-exec-denied EPERM $P loginuid 1001 $P as 0 $P exec /opt/bin/tool
expect nogrant-sudo-root-with-loginuid-alice-connect-denied EPERM $P loginuid 1001 $P as 0 $P connect 127.0.0.2 5432
expect nogrant-su-path-loginuid-alice-open-denied EPERM $P loginuid 1001 $P as 1001 $SUID suroot $P open /srv/secret.txt
expect nogrant-su-path-loginuid-alice-exec-denied EPERM $P loginuid 1001 $P as 1001 $SUID suroot $P exec /opt/bin/tool

# ------------------------------------------------------------------ cgroup grants

G_CG=$(grant_or_fail grant-cgroup-jtest-secrets-60s secrets --cgroup /jtest --for 60s)
expect cgroup-grant-bob-in-jtest-ok ok $P cgexec /jtest $P as 1002 $P open /srv/secret.txt
expect cgroup-grant-bob-in-jtest-sub-ok ok $P cgexec /jtest/sub $P as 1002 $P open /srv/secret.txt
expect cgroup-grant-bob-outside-denied EPERM $P as 1002 $P open /srv/secret.txt
expect cgroup-grant-other-resource-in-jtest-denied EPERM $P cgexec /jtest $P as 1002 $P open /srv/vault/a/b/c/deep.txt
[ -n "$G_CG" ] && { revoke "$G_CG" || fail revoke-cgroup-grant "jitctl revoke $G_CG failed"; }
expect cgroup-grant-revoked-bob-in-jtest-denied EPERM $P cgexec /jtest $P as 1002 $P open /srv/secret.txt

G_UC=$(grant_or_fail grant-alice-within-jtest-secrets-60s secrets --user alice --cgroup /jtest --for 60s)
expect user-in-cgroup-grant-alice-in-jtest-ok ok $P cgexec /jtest $P as 1001 $P open /srv/secret.txt
expect user-in-cgroup-grant-alice-in-jtest-sub-ok ok $P cgexec /jtest/sub $P as 1001 $P open /srv/secret.txt
expect user-in-cgroup-grant-alice-outside-denied EPERM $P as 1001 $P open /srv/secret.txt
expect user-in-cgroup-grant-bob-in-jtest-denied EPERM $P cgexec /jtest $P as 1002 $P open /srv/secret.txt
[ -n "$G_UC" ] && { revoke "$G_UC" || fail revoke-user-in-cgroup-grant "jitctl revoke $G_UC failed"; }

# ------------------------------------------------------------------ expiry and revoke

T_START=$(now)
G_EXP=$(grant_or_fail grant-alice-secrets-3s secrets --user alice --for 3s)
T_END=$(now)
expect expiry-3s-grant-allowed-right-after-grant ok $P as 1001 $P open /srv/secret.txt
wait_eperm 1001 10 $P open /srv/secret.txt
check_expiry expiry-3s-grant-denied-between-3s-and-4s "$T_START" "$T_END" 3
expect expiry-3s-grant-bob-never-allowed EPERM $P as 1002 $P open /srv/secret.txt

G_REV=$(grant_or_fail grant-alice-secrets-for-revoke secrets --user alice --for 60s)
expect revoke-before-allowed ok $P as 1001 $P open /srv/secret.txt
if [ -n "$G_REV" ] && revoke "$G_REV"; then
	expect revoke-denied-at-once EPERM $P as 1001 $P open /srv/secret.txt
	if jitctl list --json 2>/dev/null | grep -qE "$(jkey id)$G_REV[^0-9]"; then
		fail revoke-grant-gone-from-list "revoked grant $G_REV still in jitctl list --json"
	else
		pass revoke-grant-gone-from-list
	fi
else
	fail revoke-denied-at-once "jitctl revoke ${G_REV:-'(no grant)'} failed"
fi

# ------------------------------------------------------------------ jitd killed

T_KSTART=$(now)
G_SHORT=$(grant_or_fail grant-alice-vault-6s-before-kill vault --user alice --for 6s)
T_KEND=$(now)
G_LONG=$(grant_or_fail grant-alice-tool-600s-before-kill tool --user alice --for 600s)
kill9_jitd
sleep 0.2
if pidof jitd >/dev/null; then
	fail jitd-killed "jitd still running after kill -9"
else
	pass jitd-killed-with-sigkill
fi
expect jitd-dead-bob-open-secret-still-denied EPERM $P as 1002 $P open /srv/secret.txt
expect jitd-dead-alice-open-secret-still-denied EPERM $P as 1001 $P open /srv/secret.txt
expect jitd-dead-bob-connect-db-still-denied EPERM $P as 1002 $P connect 127.0.0.2 5432
expect jitd-dead-600s-grant-alice-exec-tool-ok ok $P as 1001 $P exec /opt/bin/tool
expect jitd-dead-6s-grant-alice-vault-ok-before-expiry ok $P as 1001 $P open /srv/vault/a/b/c/deep.txt
wait_eperm 1001 15 $P open /srv/vault/a/b/c/deep.txt
check_expiry jitd-dead-6s-grant-expires-on-time "$T_KSTART" "$T_KEND" 6

# No unenforced gap while a new jitd loads, attaches and swaps the pins: bob opens the
# secret in a loop across the whole restart and must never get through.
rm -f /tmp/.gap.stop /tmp/.gap.out
(while [ ! -e /tmp/.gap.stop ]; do $P as 1002 $P open /srv/secret.txt; done >/tmp/.gap.out 2>&1) &
GAP_PID=$!
sleep 0.5
# --reload-programs: load and swap even though the attached programs are this build's
# (a plain restart adopts them: crashes.sh)
JITD_ARGS=--reload-programs
start_jitd jitd-restart-adopts-state
rc=$?
JITD_ARGS=
if [ $rc = 0 ]; then
	sleep 0.5
	touch /tmp/.gap.stop
	wait "$GAP_PID"
	n_tries=$(wc -l </tmp/.gap.out)
	n_ok=$(grep -c '^ok' /tmp/.gap.out)
	echo "restart gap probe: $n_tries opens, $n_ok allowed"
	check restart-no-unenforced-gap "$n_ok of $n_tries opens by bob got through during the restart" \
		test "$n_ok" = 0 -a "$n_tries" -gt 5
	jitctl list --json >/tmp/.list 2>&1
	ids=$(grep -oE "$(jkey id)[0-9]+" /tmp/.list | grep -oE '[0-9]+$' | tr '\n' ' ')
	echo "after restart: active grant ids: $ids"
	case " $ids " in
	*" $G_LONG "*) pass restart-list-keeps-600s-grant-id ;;
	*) fail restart-list-keeps-600s-grant-id "grant $G_LONG not in: $(head -c 400 /tmp/.list)" ;;
	esac
	case " $ids " in
	*" $G_SHORT "*) fail restart-list-drops-expired-6s-grant "expired grant $G_SHORT still listed as active" ;;
	*) pass restart-list-drops-expired-6s-grant ;;
	esac
	expect restart-600s-grant-alice-exec-tool-ok ok $P as 1001 $P exec /opt/bin/tool
	expect restart-alice-vault-still-denied EPERM $P as 1001 $P open /srv/vault/a/b/c/deep.txt
	expect restart-bob-exec-tool-denied EPERM $P as 1002 $P exec /opt/bin/tool
	[ -n "$G_LONG" ] && { revoke "$G_LONG" || fail revoke-after-restart "jitctl revoke $G_LONG failed"; }
	expect restart-revoked-600s-grant-denied EPERM $P as 1001 $P exec /opt/bin/tool
else
	touch /tmp/.gap.stop
	fail jitd-restart-dependent-tests "not run: jitd did not restart"
fi

# ------------------------------------------------------------------ exec grant, its cgroup gone

# An exec grant whose process tree ended and whose cgroup was removed while jitd was down
# (as after a reboot): the next jitd ends it at start-up and writes its expired record, as
# it does for a tree that exits while it runs (issue 10).

# gx_state: the state of grant $GX in `jitctl list --all --json` (its "id" comes first).
gx_state() {
	jitctl list --all --json 2>/dev/null | awk -v id="$GX" '
		/"id": / { i = $2; gsub(/[^0-9]/, "", i) }
		/"state": / && i == id { s = $2; gsub(/[",]/, "", s); print s; exit }'
}
gx_is_expired() {
	[ "$(gx_state)" = expired ]
}
# gx_expired: the expired records of grant $GX in the audit file.
gx_expired() {
	grep -E "$(jkey event)\"expired\"" "$AUDIT" | grep -E "$(jkey correlation_uid)\"$GX\""
}

rm -f /tmp/gone-exec.out
jitctl exec vault --for 600s -- sh -c 'sleep 600 & sleep 600' >/tmp/gone-exec.out 2>&1 &
GONE_PID=$!
wait_for 10 grep -q '^exec [0-9]*:' /tmp/gone-exec.out
GX=$(sed -n 's/^exec \([0-9]*\):.*/\1/p' /tmp/gone-exec.out | head -n 1)
GX_CG=/sys/fs/cgroup/jitd.exec/${GX:-none}
if [ -n "$GX" ] && [ -d "$GX_CG" ] && [ -n "$JITD_PID" ]; then
	pass exec-gone-grant-made
	sleep 0.5 # sh has started its sleeps
	kill9_jitd
	for pid in $(cat "$GX_CG/cgroup.procs"); do
		kill -9 "$pid"
	done
	wait "$GONE_PID" 2>/dev/null
	wait_for 10 rmdir "$GX_CG"
	check exec-gone-cgroup-removed-while-jitd-down \
		"$GX_CG still there: $(cat "$GX_CG/cgroup.procs" 2>&1 | tr '\n' ' ')" test ! -d "$GX_CG"
	if start_jitd jitd-restart-with-exec-cgroup-gone; then
		check exec-gone-cgroup-grant-expired-at-start "grant $GX: $(gx_state)" \
			wait_for 5 gx_is_expired
		check exec-gone-cgroup-expired-audited "no expired record for grant $GX in $AUDIT" \
			wait_for 5 gx_expired
		check exec-gone-cgroup-expired-record-says-cgroup-gone \
			"got: $(gx_expired | grep -oE "$(jkey why)\"[^\"]*\"")" \
			contains "$(gx_expired)" "$(jkey why)\"cgroup gone"
	fi
else
	fail exec-gone-grant-made "jitctl exec said: $(cat /tmp/gone-exec.out)"
	kill -9 "$GONE_PID" 2>/dev/null
fi

# ------------------------------------------------------------------ bypasses (no grant)

expect bypass-symlink-to-secret-denied EPERM $P as 1001 $P symlink-open /srv/secret.txt /tmp/b-sym
expect bypass-symlink-to-vault-file-denied EPERM $P as 1001 $P symlink-open /srv/vault/a/b/c/deep.txt /tmp/b-sym2
ln -s /opt/bin/tool /tmp/b-toolsym
expect bypass-exec-tool-via-symlink-denied EPERM $P as 1001 $P exec /tmp/b-toolsym

# hardlink: refused at link time, or the link opens to EPERM; never "ok" on the link.
hardlink_case() { # NAME SRC DST
	_r=$(result $P as 1001 $P link "$2" "$3")
	case "$_r" in
	EPERM) pass "$1" && echo "$1: link itself refused" ;;
	ok) expect "$1" EPERM $P as 1001 $P open "$3" ;;
	*) fail "$1" "link $2 $3 answered $_r (expected EPERM or ok)" ;;
	esac
}
hardlink_case bypass-hardlink-to-secret-denied /srv/secret.txt /srv/scratch/b-hl
hardlink_case bypass-hardlink-out-of-vault-subtree-denied /srv/vault/a/b/c/deep.txt /srv/scratch/b-hl2
expect bypass-proc-self-fd-reopen-denied EPERM $P as 1001 $P reopen /srv/secret.txt
expect bypass-proc-self-fd-reopen-vault-denied EPERM $P as 1001 $P reopen /srv/vault/a/b/c/deep.txt
expect bypass-execveat-empty-path-tool-denied EPERM $P as 1001 $P execveat /opt/bin/tool
expect bypass-fexecve-tool-denied EPERM $P as 1001 $P fexecve /opt/bin/tool
expect bypass-copy-and-exec-tool-denied EPERM $P as 1001 $P copyexec /opt/bin/tool /tmp/b-toolcopy
expect bypass-rename-in-vault-by-root-owner-ok ok $P rename /srv/vault/a/b/c/deep.txt /srv/vault/a/moved.txt
expect bypass-renamed-vault-file-still-denied EPERM $P as 1001 $P open /srv/vault/a/moved.txt
expect bypass-renamed-vault-file-root-ok ok $P open /srv/vault/a/moved.txt

# ------------------------------------------------------------------ attacker's suite

# Every route to a protected object the kernel side closes (attack.sh).
. /tests/attack.sh

# ------------------------------------------------------------------ audit

# Wait for the audit pipeline to catch up with the decisions above. Records are OCSF 1.8.0:
# the resource is policy.name, users are actor.user / actor.process.user, raw kernel fields
# are under unmapped.jitd.
wait_audit 10 "$(juid 1001)" "$(jres tool)" "$(jkey op)\"exec\"" >/dev/null

DENY_OPEN=$(audit_lines "$(jkey decision)\"deny\"" "$(jkey op)\"open\"" "$(juid 1001)" \
	"$(jres secrets)" | head -n 1)
if [ -n "$DENY_OPEN" ]; then
	pass audit-deny-line-for-alice-open-secret
	echo "audit: $DENY_OPEN"
	for f in time time_dt loginuid pid tid cgroup_id actor process file path uid metadata \
		sequence prev_hash hash device hostname status_detail message; do
		if echo "$DENY_OPEN" | grep -qE "$(jkey $f)"; then
			pass "audit-open-deny-has-$f"
		else
			fail "audit-open-deny-has-$f" "no \"$f\" in: $DENY_OPEN"
		fi
	done
	check audit-open-deny-ocsf-file-activity-1001 "no class_uid 1001 in: $DENY_OPEN" \
		contains "$DENY_OPEN" "$(jkey class_uid)1001[,}]"
	check audit-open-deny-action-denied-disposition-blocked "action/disposition in: $DENY_OPEN" \
		contains "$DENY_OPEN" "$(jkey action_id)2,.*$(jkey disposition_id)2[,}]"
	check audit-open-deny-no-correlation-uid "a deny has no grant: $DENY_OPEN" \
		test -z "$(echo "$DENY_OPEN" | grep correlation_uid)"
	check audit-open-deny-path-is-secret "no /srv/secret.txt path in: $DENY_OPEN" \
		contains "$DENY_OPEN" "$(jkey path)\"/srv/secret.txt\""
	check audit-no-loginuid-is-null "loginuid not null for a task without one: $DENY_OPEN" \
		contains "$DENY_OPEN" "$(jkey loginuid)null"
	check audit-ocsf-version-1.8.0 "no metadata.version 1.8.0 in: $DENY_OPEN" \
		contains "$DENY_OPEN" "$(jkey version)\"1\.8\.0\""
else
	fail audit-deny-line-for-alice-open-secret "no deny/open/uid 1001/secrets line in $AUDIT; last lines: $(tail -n 3 "$AUDIT" 2>/dev/null)"
fi

check audit-connect-deny-ipv4-has-addr-port "no connect deny line for 127.0.0.2:5432" \
	audit_lines "$(jkey decision)\"deny\"" "$(jkey op)\"connect\"" "$(jres db)" \
	"$(jkey class_uid)4001" "$(jkey ip)\"127.0.0.2\",$(jkey port)5432[,}]" \
	"$(jkey protocol_ver_id)4[,}]"
check audit-connect-deny-ipv6-has-addr-port "no connect deny line for [::1]:5432" \
	audit_lines "$(jkey decision)\"deny\"" "$(jkey op)\"connect\"" "$(jres db)" \
	"$(jkey ip)\"::1\",$(jkey port)5432[,}]" "$(jkey protocol_ver_id)6[,}]"
check audit-sendmsg-deny-labnet "no sendmsg deny line for labnet 127.0.9.7:53" \
	audit_lines "$(jkey decision)\"deny\"" "$(jkey op)\"sendmsg\"" "$(jres labnet)" \
	"$(jkey ip)\"127.0.9.7\",$(jkey port)53[,}]"
check audit-exec-deny-tool-process-activity-1007 "no exec deny line (class 1007) for tool by uid 1001" \
	audit_lines "$(jkey decision)\"deny\"" "$(jkey op)\"exec\"" "$(jres tool)" \
	"$(juid 1001)" "$(jkey class_uid)1007[,}]"
check audit-sudo-deny-records-uid0-loginuid-and-subject "no deny line with process uid 0, loginuid 1001, actor uid 1001" \
	audit_lines "$(jkey decision)\"deny\"" \
	"\"user\": ?\\{(\"name\": ?\"root\",)?$(juid 0)\\}\\},\"user\": ?\\{(\"name\": ?\"alice\",)?$(juid 1001)" \
	"$(jkey loginuid)1001[,}]"
if [ -n "$G_SECRETS" ]; then
	check audit-allow-line-has-grant-id-as-correlation-uid "no allow line for secrets with correlation_uid $G_SECRETS" \
		audit_lines "$(jkey decision)\"allow\"" "$(jres secrets)" \
		"$(jkey correlation_uid)\"$G_SECRETS\"" "$(juid 1001)" "$(jkey action_id)1,"
else
	fail audit-allow-line-has-grant-id-as-correlation-uid "no grant id to look for (grant failed)"
fi
check audit-no-line-for-unprotected-access "a decision line mentions /srv/public.txt" \
	test -z "$(audit_lines 'public\.txt')"

# One line per decision: carol has not touched anything yet; one denied open, one denied
# connect, then exactly one line each.
$P as 1003 $P open /srv/secret.txt >/dev/null 2>&1
$P as 1003 $P connect 127.0.0.2 5432 >/dev/null 2>&1
wait_audit 10 "$(juid 1003)" "$(jkey op)\"connect\"" >/dev/null
sleep 1
n_open=$(audit_lines "$(juid 1003)" "$(jkey op)\"open\"" | wc -l)
n_conn=$(audit_lines "$(juid 1003)" "$(jkey op)\"connect\"" | wc -l)
check audit-one-line-per-open-decision "carol's one denied open gave $n_open lines" test "$n_open" = 1
check audit-one-line-per-connect-decision "carol's one denied connect gave $n_conn lines" test "$n_conn" = 1
bad=$(grep -cvE '^\{.*\}$' "$AUDIT" 2>/dev/null)
check audit-every-line-is-one-json-object "$bad lines of $AUDIT are not {...}" test "${bad:-0}" = 0

# ------------------------------------------------------------------ control socket

# Authorization from SO_PEERCRED; bad input gets an error and changes nothing.
n_before=$(jitctl list --json | grep -o '"id"' | wc -l)
out=$($P as 1001 jitctl grant secrets --user alice --for 60s 2>&1)
check ctl-alice-cannot-grant-exit-1 "exit $?: $out" test $? = 1
check ctl-alice-cannot-grant-says-root "got: $out" contains "$out" "only root"
out=$(jitctl grant nosuch --user alice --for 60s 2>&1)
check ctl-unknown-resource-refused "exit $?: $out" contains "$out" "unknown resource"
out=$(jitctl grant secrets --user nosuchuser --for 60s 2>&1)
check ctl-unknown-user-refused "got: $out" contains "$out" "unknown user"
out=$(jitctl grant secrets --user alice --for 0s 2>&1)
check ctl-zero-duration-usage-error "exit $?: $out" test $? = 2
out=$(printf '{not json\n' | $P sock $JITD_SOCK)
check ctl-malformed-json-error-reply "got: $out" contains "$out" '"ok": ?false'
out=$(printf '{"op":"grant","resource":"secrets","user":"alice","duration_s":"soon"}\n' | $P as 1001 $P sock $JITD_SOCK)
check ctl-forged-request-from-alice-refused "got: $out" contains "$out" 'EPERM'
out=$( (head -c 70000 /dev/zero | tr '\0' a; printf '\n{"op":"status"}\n') | $P as 1001 $P sock $JITD_SOCK)
check ctl-oversized-request-e2big "got: $(echo "$out" | head -c 200)" contains "$out" 'E2BIG'
check ctl-oversized-then-next-request-served "got: $(echo "$out" | head -c 300)" contains "$out" '"enforcing"'
# root may send longer lines (a large policy apply), but not without bound
out=$( (head -c 70000 /dev/zero | tr '\0' a; printf '\n') | $P sock $JITD_SOCK)
check ctl-root-70k-line-read-whole "got: $(echo "$out" | head -c 200)" contains "$out" 'EINVAL'
out=$( (head -c 17000000 /dev/zero | tr '\0' a; printf '\n{"op":"status"}\n') | $P sock $JITD_SOCK)
check ctl-root-oversized-request-e2big "got: $(echo "$out" | head -c 200)" contains "$out" 'E2BIG'
check ctl-root-oversized-then-next-request-served "got: $(echo "$out" | head -c 300)" contains "$out" '"enforcing"'
n_after=$(jitctl list --json | grep -o '"id"' | wc -l)
check ctl-bad-input-changed-nothing "grants before $n_before, after $n_after" test "$n_before" = "$n_after"
expect ctl-after-bad-input-alice-still-denied EPERM $P as 1001 $P open /srv/secret.txt
check ctl-still-enforcing-after-hostile-input "jitctl status failed" jitctl status

# ------------------------------------------------------------------ ptrace guard

# A process tree holding a cgroup grant cannot be driven from outside its cgroup by the
# same user (ptrace, /proc/PID/mem), which would lend its access to other processes.
mkdir -p /sys/fs/cgroup/ptr
$P as 1001 sleep 60 &
OUT_PID=$!
$P cgexec /ptr $P as 1001 sleep 60 &
IN_PID=$!
sleep 0.5
expect ptrace-baseline-alice-traces-own-process-ok ok $P as 1001 $P ptrace $IN_PID
expect procmem-baseline-alice-opens-own-process-mem-ok ok $P as 1001 $P procmem $IN_PID
G_PTR=$(grant_or_fail grant-cgroup-ptr-for-ptrace-guard secrets --cgroup /ptr --for 60s)
expect ptrace-into-granted-tree-from-outside-denied EPERM $P as 1001 $P ptrace $IN_PID
# mm_access() reports a refused ptrace check as EACCES.
expect procmem-into-granted-tree-from-outside-denied EACCES $P as 1001 $P procmem $IN_PID
expect ptrace-within-granted-tree-ok ok $P cgexec /ptr $P as 1001 $P ptrace $IN_PID
expect ptrace-ungranted-process-still-ok ok $P as 1001 $P ptrace $OUT_PID
expect ptrace-granted-tree-still-has-access ok $P cgexec /ptr $P as 1001 $P open /srv/secret.txt
check audit-ptrace-deny-recorded "no ptrace deny line" \
	wait_audit 10 "$(jkey op)\"ptrace\"" "$(jkey decision)\"deny\"" "$(jkey class_uid)1007[,}]"
[ -n "$G_PTR" ] && revoke "$G_PTR"
expect ptrace-after-revoke-ok ok $P as 1001 $P ptrace $IN_PID
kill "$IN_PID" "$OUT_PID" 2>/dev/null
wait "$IN_PID" "$OUT_PID" 2>/dev/null

# ------------------------------------------------------------------ paths that change

# later_protected NAME: /srv/later/file.txt refused to alice (NAME), then opened by her under
# a grant for later (NAME with -granted-open-ok: the refusal is the policy's, not the file's
# modes or a path that does not resolve), the grant revoked again.
later_protected() {
	expect "$1" EPERM $P as 1001 $P open /srv/later/file.txt
	_lg=$(grant later --user alice --for 60s 2>/tmp/.grant.err)
	expect "${1%-protected}-granted-open-ok" ok $P as 1001 $P open /srv/later/file.txt
	[ -n "$_lg" ] && revoke "$_lg"
}

# Files created and removed beside protected ones (no name on the way to a policy path)
# are seen and cost no resync.
R0=$(paths_count resyncs)
I0=$(paths_count events_ignored)
for i in 1 2 3 4 5; do
	touch /opt/bin/unrelated.$i /srv/unrelated.$i && rm -f /opt/bin/unrelated.$i /srv/unrelated.$i
done
sleep 1
check paths-unrelated-names-no-resync "resyncs $R0 -> $(paths_count resyncs)" \
	test "$(paths_count resyncs)" = "$R0"
check paths-unrelated-names-seen "events_ignored $I0 -> $(paths_count events_ignored)" \
	test "$(paths_count events_ignored)" -ge $((I0 + 20))
# A dangling symlink on the way to a policy path: the directory it comes to point to has
# another name, and what appears there is protected.
ln -s later.real /srv/later
sleep 1
mkdir /srv/later.real && echo real >/srv/later.real/file.txt && chmod 644 /srv/later.real/file.txt
sleep 1
later_protected paths-dangling-symlink-on-the-way-protected
rm -f /srv/later
sleep 1
# A protected path created after jitd started, and a protected binary replaced by a new
# inode (as a package upgrade does), are protected again within about a second.
mkdir -p /srv/later && chmod 755 /srv/later
echo later >/srv/later/file.txt && chmod 644 /srv/later/file.txt
sleep 1
expect path-created-later-protected EPERM $P as 1001 $P open /srv/later/file.txt
cp /tests/nop /opt/bin/tool.new && chmod 755 /opt/bin/tool.new && mv /opt/bin/tool.new /opt/bin/tool
sleep 1
expect path-replaced-binary-protected EPERM $P as 1001 $P exec /opt/bin/tool
expect path-replaced-binary-read-protected EPERM $P as 1001 $P open /opt/bin/tool
check paths-replaced-binary-resynced "resyncs $R0 -> $(paths_count resyncs)" \
	test "$(paths_count resyncs)" -gt "$R0"
# A policy path that is a symlink to a file beside it (python3 -> python3.11, a secret
# volume's key -> ..data/key): the target replaced under another name is protected too.
echo one >/srv/later/data.1 && chmod 644 /srv/later/data.1
ln -sf data.1 /srv/later/file.txt
sleep 1
later_protected paths-symlink-target-protected
echo two >/srv/later/data.2 && chmod 644 /srv/later/data.2 && mv /srv/later/data.2 /srv/later/data.1
sleep 1
later_protected paths-symlink-target-replaced-protected
# The target in a directory watched, by name, for another policy path (/srv: secret.txt),
# replaced under its own name: its name matters too.
echo three >/srv/target.txt && chmod 644 /srv/target.txt
ln -sf /srv/target.txt /srv/later/file.txt
sleep 1
later_protected paths-symlink-target-beside-other-path-protected
echo four >/srv/target.new && chmod 644 /srv/target.new && mv /srv/target.new /srv/target.txt
sleep 1
later_protected paths-symlink-target-beside-other-path-replaced-protected
# A chain through a directory no policy path is in (update-alternatives): the middle link
# retargeted makes the path another file, which is protected.
mkdir -p /opt/alt /opt/real && echo v1 >/opt/real/v1 && echo v2 >/opt/real/v2 && chmod 644 /opt/real/v1 /opt/real/v2
ln -sf /opt/real/v1 /opt/alt/current
ln -sf /opt/alt/current /srv/later/file.txt
sleep 1
later_protected paths-symlink-chain-protected
ln -sf /opt/real/v2 /opt/alt/current.new && mv -T /opt/alt/current.new /opt/alt/current
sleep 1
later_protected paths-symlink-chain-retargeted-protected
check paths-symlinks-followed-not-unfiltered "unfiltered_dirs: $(paths_count unfiltered_dirs)" \
	test "$(paths_count unfiltered_dirs)" = 0

# ------------------------------------------------------------------ moving data out

# alice owns a directory inside the vault: she may rename within it, but not move a
# file out of the protected subtree (nor hard-link it out, see the bypass cases).
mkdir -p /srv/vault/alice && chown 1001:1001 /srv/vault/alice && chmod 755 /srv/vault/alice
echo x >/srv/vault/alice/f.txt && chown 1001:1001 /srv/vault/alice/f.txt
expect move-rename-within-vault-by-alice-ok ok $P as 1001 $P rename /srv/vault/alice/f.txt /srv/vault/alice/g.txt
expect move-rename-out-of-vault-by-alice-denied EPERM $P as 1001 $P rename /srv/vault/alice/g.txt /srv/scratch/g.txt
expect move-renamed-within-vault-still-denied EPERM $P as 1001 $P open /srv/vault/alice/g.txt

# ------------------------------------------------------------------ policy reload

serial_of() { jitctl status --json 2>/dev/null | grep -o '"serial" *: *[0-9]*' | grep -o '[0-9]*$'; }
cp /tests/policy.json /tmp/policy.orig.json
printf '{ "version": 1, "serial": 5,\n  "resources": { "x": { "open": ["relative/path"] } } }\n' >/tmp/bad.json
out=$(jitd --check-policy --policy /tmp/bad.json 2>&1)
check policy-bad-names-file-line-column "got: $out" contains "$out" "^/tmp/bad.json:2:"
cp /tmp/bad.json "$JITD_POLICY"
kill -HUP "$JITD_PID"
sleep 2
check policy-bad-reload-keeps-serial "serial is $(serial_of)" test "$(serial_of)" = 1
expect policy-bad-reload-secret-still-denied EPERM $P as 1001 $P open /srv/secret.txt
echo public2 >/srv/public2.txt && chmod 644 /srv/public2.txt
sed -e 's/"serial": 1/"serial": 2/' -e 's|"/srv/secret.txt"|"/srv/secret.txt", "/srv/public2.txt"|' \
	/tmp/policy.orig.json >"$JITD_POLICY"
kill -HUP "$JITD_PID"
sleep 2
check policy-good-reload-new-serial "serial is $(serial_of)" test "$(serial_of)" = 2
expect policy-good-reload-new-file-protected EPERM $P as 1001 $P open /srv/public2.txt
# the same bytes written again (an editor's save, then the watcher after SIGHUP): not
# applied a second time (seconds at 100,000 paths)
n0=$(grep -cE "$(jkey event)\"policy_applied\"" "$AUDIT")
cp "$JITD_POLICY" /tmp/same.json && cat /tmp/same.json >"$JITD_POLICY"
sleep 2
n1=$(grep -cE "$(jkey event)\"policy_applied\"" "$AUDIT")
check policy-same-bytes-not-applied-again "policy_applied records $n0 -> $n1" test "$n1" = "$n0"
check policy-same-bytes-said "$(tail -n 3 "$JITD_LOG")" grep -q "read the same (serial 2): nothing to reload" "$JITD_LOG"
sed -e 's/"serial": 1/"serial": 1/' /tmp/policy.orig.json >"$JITD_POLICY"
kill -HUP "$JITD_PID"
sleep 2
check policy-older-serial-refused "serial is $(serial_of)" test "$(serial_of)" = 2
expect policy-older-serial-file-still-protected EPERM $P as 1001 $P open /srv/public2.txt
# The exemption check looks up the task's cgroups only down to the deepest exempt cgroup's
# level (none when there is none; every level on 5.10, which walks from the leaf up).
excg() { jitctl status --json 2>/dev/null | grep -o '"exempt_cgroup_check" *: *"[^"]*"'; }
excg_want() {
	if jitctl status --json 2>/dev/null | grep -q 'cgroups by probe reads'; then
		echo '"every level'
	else
		echo "\"levels 0-$1 "
	fi
}
check exempt-cgroup-check-to-deepest-level "$(excg)" contains "$(excg)" "$(excg_want 1)"
mkdir -p /sys/fs/cgroup/nest/a/b/c /sys/fs/cgroup/exempt/sub
# reload_exempting SERIAL CGROUPS [UIDS]: the serial-2 policy again with SERIAL and exempt
# CGROUPS (and UIDS)
reload_exempting() {
	sed -e "s/\"serial\": 1/\"serial\": $1/" -e 's|"/srv/secret.txt"|"/srv/secret.txt", "/srv/public2.txt"|' \
		-e "s|\"cgroups\": \\[\"/exempt\"\\]|\"cgroups\": [$2]|" \
		-e "s|\"uids\": \\[0\\]|\"uids\": [${3:-0}]|" /tmp/policy.orig.json >"$JITD_POLICY"
	kill -HUP "$JITD_PID"
	sleep 2
}
reload_exempting 3 '"/exempt", "/nest/a/b"'
check policy-reload-deeper-exempt-cgroup "serial is $(serial_of)" test "$(serial_of)" = 3
check exempt-cgroup-check-follows-deepest "$(excg)" contains "$(excg)" "$(excg_want 3)"
expect exempt-cgroup-level3-alice-allowed ok $P cgexec /nest/a/b $P as 1001 $P open /srv/public2.txt
expect exempt-cgroup-below-level3-alice-allowed ok $P cgexec /nest/a/b/c $P as 1001 $P open /srv/public2.txt
expect exempt-cgroup-above-level3-alice-denied EPERM $P cgexec /nest/a $P as 1001 $P open /srv/public2.txt
expect exempt-cgroup-below-level1-alice-allowed ok $P cgexec /exempt/sub $P as 1001 $P open /srv/public2.txt
# and seven exempt uids, root the seventh: more than the kernel compares inline, the map decides
reload_exempting 4 '"/no/such/cgroup"' '2001, 2002, 2003, 2004, 2005, 2006, 0'
check policy-reload-no-exempt-cgroup "serial is $(serial_of)" test "$(serial_of)" = 4
check exempt-cgroup-check-none "$(excg)" contains "$(excg)" '"none: no exempt cgroup'
expect exempt-cgroup-none-left-alice-denied EPERM $P cgexec /exempt $P as 1001 $P open /srv/public2.txt
expect exempt-uid-root-seventh-of-seven-allowed ok $P as 0 $P open /srv/public2.txt
reload_exempting 5 '"/exempt"'
check policy-reload-exempt-cgroup-back "serial is $(serial_of)" test "$(serial_of)" = 5
expect exempt-cgroup-back-alice-allowed ok $P cgexec /exempt $P as 1001 $P open /srv/public2.txt

# ------------------------------------------------------------------ earlier answers do not carry over

# An open allowed before a directory comes under the vault is no precedent: the directory
# moved into it, swapped into it (RENAME_EXCHANGE), an ancestor moved into it, or a policy
# newly protecting a directory above: the next open is denied.
moved_fill() { # NAME PATH: open as alice twice, before
	expect "$1-before-ok" ok $P as 1001 $P open "$2"
	expect "$1-before-again-ok" ok $P as 1001 $P open "$2"
}
mkdir -p /srv/dc/m/d /srv/dc/x/d /srv/dc/anc/p/d /srv/dc2/d /srv/vault/dc-x
for f in /srv/dc/m/d /srv/dc/x/d /srv/dc/anc/p/d /srv/dc2/d; do echo c >$f/f.txt; done
chmod -R a+rX /srv/dc /srv/dc2
moved_fill moved-dir /srv/dc/m/d/f.txt
expect moved-dir-by-root-ok ok $P rename /srv/dc/m /srv/vault/dc-m
expect moved-dir-into-vault-denied EPERM $P as 1001 $P open /srv/vault/dc-m/d/f.txt
moved_fill moved-exchange /srv/dc/x/d/f.txt
expect moved-exchange-by-root-ok ok $P exchange /srv/dc/x /srv/vault/dc-x
expect moved-exchanged-into-vault-denied EPERM $P as 1001 $P open /srv/vault/dc-x/d/f.txt
moved_fill moved-ancestor /srv/dc/anc/p/d/f.txt
expect moved-ancestor-by-root-ok ok $P rename /srv/dc/anc /srv/vault/dc-anc
expect moved-ancestor-into-vault-denied EPERM $P as 1001 $P open /srv/vault/dc-anc/p/d/f.txt
moved_fill moved-policy /srv/dc2/d/f.txt
# Two file systems holding no protected directory yet (no walk is made there, JITD_FILTER_DEV_INO):
# the reload protects a directory on the first (its device gains a walk) and one file on
# the second (its own entry; still no directory there).
for m in /mnt/jd1 /mnt/jd2; do mkdir -p $m && mount -t tmpfs "jitd-${m#/mnt/}" $m; done
mkdir -p /mnt/jd1/d/e && echo c >/mnt/jd1/d/e/f.txt && echo c >/mnt/jd2/own.txt &&
	echo c >/mnt/jd2/other.txt && chmod -R a+rX /mnt/jd1 /mnt/jd2
moved_fill devwalk-new-device /mnt/jd1/d/e/f.txt
moved_fill devwalk-own-entry /mnt/jd2/own.txt
sed -e 's/"serial": 1/"serial": 6/' -e 's|"/srv/vault"|"/srv/vault", "/srv/dc2", "/mnt/jd1/d"|' \
	-e 's|"/srv/secret.txt"|"/srv/secret.txt", "/mnt/jd2/own.txt"|' \
	/tmp/policy.orig.json >"$JITD_POLICY"
kill -HUP "$JITD_PID"
sleep 2
check moved-policy-reloaded "serial is $(serial_of)" test "$(serial_of)" = 6
expect moved-policy-newly-protected-above-denied EPERM $P as 1001 $P open /srv/dc2/d/f.txt
expect devwalk-new-device-below-denied EPERM $P as 1001 $P open /mnt/jd1/d/e/f.txt
expect devwalk-new-device-dir-itself-denied EPERM $P as 1001 $P open /mnt/jd1/d
expect devwalk-new-device-beside-ok ok $P as 1001 $P open /mnt/jd1
expect devwalk-own-entry-denied EPERM $P as 1001 $P open /mnt/jd2/own.txt
expect devwalk-own-entry-other-file-ok ok $P as 1001 $P open /mnt/jd2/other.txt
# each denied route, allowed with a grant (the denials are the vault's, not the files')
G_M=$(grant_or_fail moved-grant-alice-vault vault --user alice --for 60s)
expect moved-dir-granted-open-ok ok $P as 1001 $P open /srv/vault/dc-m/d/f.txt
expect moved-exchanged-granted-open-ok ok $P as 1001 $P open /srv/vault/dc-x/d/f.txt
expect moved-ancestor-granted-open-ok ok $P as 1001 $P open /srv/vault/dc-anc/p/d/f.txt
expect moved-policy-granted-open-ok ok $P as 1001 $P open /srv/dc2/d/f.txt
expect devwalk-new-device-granted-open-ok ok $P as 1001 $P open /mnt/jd1/d/e/f.txt
expect devwalk-new-device-dir-itself-granted-ok ok $P as 1001 $P open /mnt/jd1/d
[ -n "$G_M" ] && revoke "$G_M"
G_S=$(grant_or_fail devwalk-grant-alice-secrets secrets --user alice --for 60s)
expect devwalk-own-entry-granted-open-ok ok $P as 1001 $P open /mnt/jd2/own.txt
[ -n "$G_S" ] && revoke "$G_S"
cp /tmp/policy.orig.json "$JITD_POLICY"

# ------------------------------------------------------------------ audit stream

# The file so far spans a start, a kill -9 and a restart: the chain must be intact.
out=$(jitctl audit verify "$AUDIT" 2>&1)
check audit-verify-intact-across-kill-and-restart "$out" test "$(echo "$out" | head -n 1 | cut -c1-2)" = OK
echo "audit verify: $out"
n_starts=$(grep -cE "$(jkey event)\"started\"" "$AUDIT")
check audit-file-has-two-agent-starts "started records: $n_starts" test "$n_starts" -ge 2
for ev in selftest started granted revoked expired policy_applied policy_refused; do
	check "audit-agent-event-$ev-recorded" "no $ev record in $AUDIT" \
		grep -qE "$(jkey event)\"$ev\"" "$AUDIT"
done
check audit-granted-is-ocsf-user-access-3005 "no granted record with class_uid 3005" \
	grep -qE "$(jkey class_uid)3005,.*$(jkey event)\"granted\"" "$AUDIT"
check audit-policy-applied-is-ocsf-entity-management-3004 "no policy_applied with class_uid 3004" \
	grep -qE "$(jkey class_uid)3004,.*$(jkey event)\"policy_applied\"" "$AUDIT"
check audit-started-is-ocsf-event-log-1008 "no started record with class_uid 1008" \
	grep -qE "$(jkey class_uid)1008,.*$(jkey event)\"started\"" "$AUDIT"
seqs_ok=$(grep -oE "$(jkey sequence)[0-9]+" "$AUDIT" | grep -oE '[0-9]+$' |
	awk 'NR == 1 { p = $1; next } $1 != p + 1 { bad = 1 } { p = $1 } END { print bad ? "gap" : "ok" }')
check audit-sequence-gap-free-in-file "sequence: $seqs_ok" test "$seqs_ok" = ok

# Tampering is caught: an edited copy, a copy with a record deleted.
cp "$AUDIT" /tmp/edited.jsonl
sed -i '5s/"pid":\([0-9]\)/"pid":9\1/' /tmp/edited.jsonl
out=$(jitctl audit verify /tmp/edited.jsonl 2>&1)
rc=$?
check audit-verify-edited-record-exit-1 "exit $rc: $out" test "$rc" = 1
check audit-verify-edited-names-line-5 "got: $out" contains "$out" "edited.jsonl:5:"
sed '7d' "$AUDIT" >/tmp/deleted.jsonl
out=$(jitctl audit verify /tmp/deleted.jsonl 2>&1)
check audit-verify-deleted-record-names-line-7 "got: $out" contains "$out" "deleted.jsonl:7: .*(missing|prev_hash)"

# Live subscribers: root follows denials; a user may not.
jitctl audit --follow --json --filter deny >/tmp/follow.out 2>&1 &
FOLLOW_PID=$!
T_SINCE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sleep 1
$P as 1002 $P open /srv/secret.txt >/dev/null 2>&1
G_F=$(grant_or_fail grant-alice-secrets-for-follow secrets --user alice --for 60s)
$P as 1001 $P open /srv/secret.txt >/dev/null 2>&1
i=0
while ! grep -qE "$(juid 1002)" /tmp/follow.out && [ $i -lt 50 ]; do
	sleep 0.2
	i=$((i + 1))
done
kill "$FOLLOW_PID" 2>/dev/null
wait "$FOLLOW_PID" 2>/dev/null
check audit-follow-streams-bob-denial "follow output: $(head -c 300 /tmp/follow.out)" \
	grep -qE "$(jkey decision)\"deny\".*$(juid 1002)|$(juid 1002).*$(jkey decision)\"deny\"" /tmp/follow.out
check audit-follow-filter-deny-drops-allows "an allow record came through --filter deny" \
	test -z "$(grep -E "$(jkey decision)\"allow\"" /tmp/follow.out)"
out=$(timeout 10 jitctl audit --since "$T_SINCE" 2>&1)
echo "jitctl audit --since $T_SINCE:"
echo "$out" | head -n 8 | sed 's/^/    /'
check audit-since-human-view-has-columns "got: $(echo "$out" | head -c 300)" \
	contains "$out" "^TIME +USER +OP +OBJECT +DECIS"
check audit-since-human-view-shows-bob-deny "got: $(echo "$out" | head -c 600)" \
	contains "$out" "bob +open +/srv/secret.txt +deny"
check audit-since-human-view-shows-grant "got: $(echo "$out" | head -c 600)" \
	contains "$out" "alice +open +/srv/secret.txt +allow +$G_F "
out=$(timeout 10 $P as 1001 jitctl audit --follow 2>&1)
check audit-follow-refused-for-non-root "got: $out" contains "$out" "only root"
[ -n "$G_F" ] && revoke "$G_F"

# audit.allow: "first" records one allow per grant and object, "none" none at all.
sed -e 's/"serial": 1/"serial": 7, "audit": {"allow": "first"}/' /tmp/policy.orig.json >"$JITD_POLICY"
kill -HUP "$JITD_PID"
sleep 2
check audit-allow-first-policy-applied "serial is $(serial_of)" test "$(serial_of)" = 7
# the directory and the file of serial 6 no longer protected: their devices' walks go
expect devwalk-dir-unprotected-again-ok ok $P as 1001 $P open /mnt/jd1/d/e/f.txt
expect devwalk-own-entry-unprotected-again-ok ok $P as 1001 $P open /mnt/jd2/own.txt
# Files below a protected directory are named by inode in the records (file.name "inode N").
INO_MOVED=$(stat -c %i /srv/vault/a/moved.txt)
G_A=$(grant_or_fail grant-alice-vault-for-allow-first vault --user alice --for 60s)
for i in 1 2 3; do $P as 1001 $P open /srv/vault/a/moved.txt >/dev/null 2>&1; done
$P as 1001 $P open /srv/vault/alice/g.txt >/dev/null 2>&1
sleep 2
n=$(audit_lines "$(jkey decision)\"allow\"" "$(jkey correlation_uid)\"$G_A\"" "\"inode $INO_MOVED\"" | wc -l)
n_all=$(audit_lines "$(jkey decision)\"allow\"" "$(jkey correlation_uid)\"$G_A\"" | wc -l)
check audit-allow-first-one-record-per-object "3 opens of one file gave $n allow records" test "$n" = 1
check audit-allow-first-second-object-recorded "two objects gave $n_all allow records" test "$n_all" = 2
sed -e 's/"serial": 1/"serial": 8, "audit": {"allow": "none"}/' /tmp/policy.orig.json >"$JITD_POLICY"
kill -HUP "$JITD_PID"
sleep 2
for i in 1 2; do $P as 1001 $P open /srv/vault/a/moved.txt >/dev/null 2>&1; done
$P as 1001 $P open /srv/vault/alice/g.txt >/dev/null 2>&1
$P as 1002 $P open /srv/vault/a/moved.txt >/dev/null 2>&1
sleep 2
n_all=$(audit_lines "$(jkey decision)\"allow\"" "$(jkey correlation_uid)\"$G_A\"" | wc -l)
check audit-allow-none-no-new-allow-records "allow records for grant $G_A: $n_all (2 before)" test "$n_all" = 2
check audit-allow-none-denials-still-recorded "no deny for bob on moved.txt" \
	audit_lines "$(jkey decision)\"deny\"" "$(juid 1002)" "\"inode $INO_MOVED\""
[ -n "$G_A" ] && revoke "$G_A"

# Rotation (logrotate: mv, then SIGHUP) in the middle of a flood of denials: every record
# is in one of the files, the sequence runs on without a gap and the chain verifies.
n0=$(wc -l <"$AUDIT")
(for i in $(seq 1 150); do $P as 1002 $P open /srv/vault/a/moved.txt >/dev/null 2>&1; done) &
FLOOD_PID=$!
for r in 1 2 3; do
	sleep 1
	mv "$AUDIT" "$AUDIT.r$r"
	kill -HUP "$JITD_PID"
done
wait "$FLOOD_PID"
sleep 2
out=$(jitctl audit verify "$AUDIT.r1" "$AUDIT.r2" "$AUDIT.r3" "$AUDIT" 2>&1)
check audit-verify-across-rotations-during-flood "$out" test "$(echo "$out" | head -n 1 | cut -c1-2)" = OK
echo "audit verify over 4 files: $out"
n_flood_all=$(cat "$AUDIT.r1" "$AUDIT.r2" "$AUDIT.r3" "$AUDIT" | tail -n +$((n0 + 1)) |
	grep -E "$(jkey decision)\"deny\"" | grep -E "$(juid 1002)" | grep -c "\"inode $INO_MOVED\"")
check audit-rotation-flood-every-denial-recorded "$n_flood_all of 150 denials in the files" \
	test "$n_flood_all" = 150
check audit-state-file-written-on-rotation "no $JITD_STATE/audit-chain.json" \
	test -s "$JITD_STATE/audit-chain.json"

# A flood that fills the ring buffer while jitd cannot read it (SIGSTOP): every access is
# still denied, and the records that did not fit come back as "records_dropped" with a
# count: records + counted drops = accesses. Nothing is silently lost. The ring buffer
# (JITD_RINGBUF_BYTES, 8 MiB) holds about 75,000 decisions: FLOOD_N overflows it.
FLOOD_N=100000
n0=$(wc -l <"$AUDIT")
kill -STOP "$JITD_PID"
T_F=$(now)
out=$($P as 1002 $P flood $FLOOD_N /srv/secret.txt 2>&1)
echo "flood: $FLOOD_N opens took $(fsub "$(now)" "$T_F")s"
kill -CONT "$JITD_PID"
echo "flood: $out"
check audit-flood-every-denial-enforced "flood answered: $out" test "$out" = "eperm=$FLOOD_N ok=0 other=0"
# jitd writes the backlog a loop turn at a time, the drop record after the first turn: wait
# until the file stops growing with the drop record in it.
T_F=$(now)
i=0
last=-1
while [ $i -lt 120 ]; do
	sz=$(stat -c %s "$AUDIT")
	[ "$sz" = "$last" ] && tail -n +$((n0 + 1)) "$AUDIT" | grep -q "kernel ring buffer" && break
	last=$sz
	sleep 1
	i=$((i + 1))
done
echo "flood: backlog and drop record written after $(fsub "$(now)" "$T_F")s"
tail -n +$((n0 + 1)) "$AUDIT" >/tmp/flood.jsonl
n_rec=$(grep -E "$(jkey decision)\"deny\"" /tmp/flood.jsonl | grep -E "$(juid 1002)" | grep -c 'secret\.txt')
n_drop=$(grep -E "$(jkey source)\"kernel ring buffer\"" /tmp/flood.jsonl |
	awk 'match($0, /"count":[0-9]+/) { s += substr($0, RSTART + 8, RLENGTH - 8) } END { print s + 0 }')
echo "flood: $n_rec records, $n_drop counted as dropped"
check audit-flood-yields-records-dropped "no records_dropped record after the flood" test "$n_drop" -gt 0
check audit-flood-records-plus-drops-equal-accesses "$n_rec records + $n_drop dropped != $FLOOD_N" \
	test "$((n_rec + n_drop))" = $FLOOD_N
DROP_REC=$(grep -E "$(jkey source)\"kernel ring buffer\"" /tmp/flood.jsonl | head -n 1)
echo "flood: $DROP_REC" | cut -c1-400
check audit-flood-drop-record-is-event-log-1008-with-window "drop record: $(echo "$DROP_REC" | cut -c1-300)" \
	contains "$DROP_REC" "$(jkey class_uid)1008,$(jkey count)[0-9]+,.*$(jkey end_time)[0-9]+,.*$(jkey start_time)[0-9]+,"
out=$(jitctl audit verify "$AUDIT.r1" "$AUDIT.r2" "$AUDIT.r3" "$AUDIT" 2>&1)
check audit-verify-after-flood-and-rotations "$out" test "$(echo "$out" | head -n 1 | cut -c1-2)" = OK
echo "audit verify after the flood: $out"
rm -f "$AUDIT.r1" "$AUDIT.r2" "$AUDIT.r3" /tmp/flood.jsonl
cp /tmp/policy.orig.json "$JITD_POLICY"

# Denials while no agent runs: the ring buffer keeps what fits, the kernel counts the rest;
# the next jitd writes both (and does not report the drops above a second time).
stop_jitd
n0=$(wc -l <"$AUDIT")
out=$($P as 1002 $P flood 12000 /srv/secret.txt 2>&1)
check audit-no-agent-flood-every-denial-enforced "flood answered: $out" test "$out" = "eperm=12000 ok=0 other=0"
if start_jitd audit-restart-after-unread-flood; then
	i=0
	while ! tail -c 100000 "$AUDIT" | grep -q "kernel ring buffer" && [ $i -lt 30 ]; do
		sleep 1
		i=$((i + 1))
	done
	sleep 1
	tail -n +$((n0 + 1)) "$AUDIT" >/tmp/flood2.jsonl
	n_rec=$(grep -E "$(jkey decision)\"deny\"" /tmp/flood2.jsonl | grep -E "$(juid 1002)" | grep -c 'secret\.txt')
	n_drop=$(grep -E "$(jkey source)\"kernel ring buffer\"" /tmp/flood2.jsonl |
		awk 'match($0, /"count":[0-9]+/) { s += substr($0, RSTART + 8, RLENGTH - 8) } END { print s + 0 }')
	# the new agent's self-test makes one more denial (recorded, or counted if it did not fit)
	n_self=$(grep -E "$(jkey decision)\"deny\"" /tmp/flood2.jsonl | grep -cE "$(jres '\(self-test\)')")
	echo "flood without an agent: $n_rec records, $n_drop counted as dropped, $n_self self-test records"
	check audit-no-agent-flood-records-plus-drops-equal-accesses "$n_rec + $n_self + $n_drop != 12000 + 1" \
		test "$((n_rec + n_self + n_drop))" = 12001
	check audit-no-agent-backlog-written-before-self-test "self-test record missing: $n_self" \
		test "$n_self" = 1
	out=$(jitctl audit verify "$AUDIT" 2>&1)
	check audit-verify-after-restart-with-backlog "$out" test "$(echo "$out" | head -n 1 | cut -c1-2)" = OK
fi

attack_reloads

# ------------------------------------------------------------------ done

jitctl status >/dev/null 2>&1
check jitd-still-enforcing-at-end "jitctl status exit $?" jitctl status
stop_jitd

# SIGTERM is not an off switch: enforcement stays until `jitd --unload`.
expect sigterm-enforcement-kept-secret-denied EPERM $P as 1001 $P open /srv/secret.txt
check sigterm-pins-kept "nothing under /sys/fs/bpf/jitd" test -e /sys/fs/bpf/jitd/link_jitd_open
out=$(jitd --unload 2>&1)
check unload-exits-0 "jitd --unload: $out" test $? = 0
# The kernel detaches an unpinned link asynchronously (deferred link release); under TCG
# after a busy run that can take a moment.
T_U=$(now)
i=0
while [ "$(result $P as 1001 $P open /srv/secret.txt)" != ok ] && [ $i -lt 50 ]; do
	sleep 0.2
	i=$((i + 1))
done
echo "unload: protected open allowed again after $(fsub "$(now)" "$T_U")s"
expect unload-secret-open-allowed ok $P as 1001 $P open /srv/secret.txt
expect unload-db-connect-allowed ok $P as 1001 $P connect 127.0.0.2 5432
check unload-pins-removed "/sys/fs/bpf/jitd still exists" test ! -e /sys/fs/bpf/jitd

# Without bpf in the active LSM list jitd refuses to start and names lsm=.
echo "lockdown,capability,landlock" >/tmp/fake-lsm
mount --bind /tmp/fake-lsm /sys/kernel/security/lsm
out=$(jitd --policy /tests/policy.json --socket /tmp/x.sock --state-dir /tmp/xstate --audit-file - 2>&1)
rc=$?
umount /sys/kernel/security/lsm
check no-bpf-lsm-jitd-exits-1 "exit $rc: $out" test "$rc" = 1
check no-bpf-lsm-error-names-lsm-parameter "got: $out" contains "$out" "lsm="
check no-bpf-lsm-nothing-loaded "/sys/fs/bpf/jitd exists" test ! -e /sys/fs/bpf/jitd
# The access workflow: requests, approvals, exec, scheduled and fleet grants (workflow.sh).
. /tests/workflow.sh

if [ "$N_FAIL" -gt 0 ]; then
	show_jitd_log 60
	echo "---- $AUDIT (last 10 lines) ----"
	tail -n 10 "$AUDIT" 2>/dev/null
fi
echo "tests.sh: $N_PASS passed, $N_FAIL failed, $N_SKIP skipped"
[ "$N_FAIL" = 0 ]
