#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# guard.sh: nobody without a grant switches jitd off (a part of the suite: tests.sh runs it
# on every kernel; `tests/vm/run.sh BUILD guard` boots it alone). The attacker is a governed
# root: uid 0 with every capability, whose login uid is alice's (`sudo -i` by alice), with
# unprivileged alice where the kernel would not stop her by itself. Every route to switching
# enforcement off is tried: jitd's maps, programs and links by id and by pin, unpinning,
# unmounting the BPF file system, programs that could undo an LSM decision, signals,
# ptrace, jitd's files (binary, policy, state, audit), entering the exempt cgroup, and
# `jitd --unload`. Each denial is EPERM and a new deny record for that operation; each is
# paired with the same route allowed to an exempt subject (root with no login uid) or on
# something that is not jitd's.
. /tests/lib.sh

P=$PROBE
GOV="$P loginuid 1001" # governed root: uid 0, login uid alice
PINS=/sys/fs/bpf/jitd

mkdir -p /srv/vault/a/b/c /opt/bin /sys/fs/cgroup/exempt /sys/fs/cgroup/jtest/sub
echo s >/srv/secret.txt && chmod 644 /srv/secret.txt
echo d >/srv/vault/a/b/c/deep.txt && echo p >/srv/public.txt && chmod 644 /srv/public.txt
cp /tests/nop /opt/bin/tool
mkdir -p /run/tvault && echo t >/run/tvault/t.txt

start_jitd guard-jitd-starts || exit 1
JPID=$JITD_PID
jitctl status | grep '^self:'
still_enforcing() {
	kill -0 "$JPID" && [ "$(result $P as 1001 $P open /srv/secret.txt)" = EPERM ] &&
		test -e $PINS/link_jitd_open
}

# ------------------------------------------------------------------ BPF objects

ids=$($P jitd-bpf-ids)
map_id=$(echo "$ids" | awk '$1 == "map" && $3 == "grants" { print $2; exit }')
prog_id=$(echo "$ids" | awk '$1 == "prog" && $3 == "jitd_open" { print $2; exit }')
link_id=$(echo "$ids" | awk -v p="prog$prog_id" '$1 == "link" && $3 == p { print $2; exit }')
echo "guard: jitd's grants map id $map_id, jitd_open prog id $prog_id, its link id $link_id"
check guard-found-jitd-bpf-ids "ids: $(echo "$ids" | tr '\n' ' ')" \
	test -n "$map_id" -a -n "$prog_id" -a -n "$link_id"

denied guard-gov-root-map-fd-by-id bpf $GOV $P bpf-getfd map "$map_id"
denied guard-gov-root-prog-fd-by-id bpf $GOV $P bpf-getfd prog "$prog_id"
denied guard-gov-root-link-fd-by-id bpf $GOV $P bpf-getfd link "$link_id"
expect guard-exempt-root-map-fd-by-id-ok ok $P bpf-getfd map "$map_id"
expect guard-exempt-root-link-fd-by-id-ok ok $P bpf-getfd link "$link_id"
denied guard-gov-root-map-pin-obj-get bpf $GOV $P bpf-objget $PINS/grants
denied guard-gov-root-link-pin-obj-get bpf $GOV $P bpf-objget $PINS/link_jitd_open
expect guard-exempt-root-link-pin-obj-get-ok ok $P bpf-objget $PINS/link_jitd_open

# Pins and the file system that holds them.
denied guard-gov-root-unpin-link unlink $GOV $P unlink $PINS/link_jitd_open
denied guard-gov-root-unpin-map unlink $GOV $P unlink $PINS/grants
denied guard-gov-root-rename-pin rename $GOV $P rename $PINS/link_jitd_exec $PINS/moved
denied guard-gov-root-umount-bpffs umount $GOV $P umount /sys/fs/bpf
out=$($GOV jitd --unload 2>&1)
rc=$?
check guard-gov-root-jitd-unload-fails "exit $rc: $out" test "$rc" != 0
check guard-still-enforcing-after-unpin-attempts "pins: $(ls $PINS | tr '\n' ' ')" still_enforcing

# Programs that could undo or outrun a decision (fmod_ret, override_return, a later LSM
# program, bpf_send_signal); a socket filter sees only its own packets.
denied guard-gov-root-load-kprobe-prog bpf $GOV $P bpf-load kprobe
denied guard-gov-root-load-tracepoint-prog bpf $GOV $P bpf-load tracepoint
denied guard-gov-root-load-lsm-prog bpf $GOV $P bpf-load lsm
denied guard-gov-root-load-tracing-prog bpf $GOV $P bpf-load tracing
expect guard-gov-root-load-socket-filter-ok ok $GOV $P bpf-load socket
expect guard-exempt-root-load-kprobe-ok ok $P bpf-load kprobe

# ------------------------------------------------------------------ the process

denied guard-gov-root-sigkill-jitd signal $GOV $P kill "$JPID" 9
denied guard-gov-root-sigterm-jitd signal $GOV $P kill "$JPID" 15
denied guard-gov-root-sigstop-jitd signal $GOV $P kill "$JPID" 19
expect guard-gov-root-signal-0-probe-ok ok $GOV $P kill "$JPID" 0
sleep 30 &
expect guard-gov-root-kills-other-process-ok ok $GOV $P kill $! 9
denied guard-gov-root-ptrace-jitd ptrace $GOV $P ptrace "$JPID"
# /proc/PID/mem reports a refused ptrace check as EACCES
DENY_ERR=EACCES denied guard-gov-root-proc-mem-jitd ptrace $GOV $P procmem "$JPID"
check guard-jitd-alive-after-signals "jitd $JPID gone" kill -0 "$JPID"

# ------------------------------------------------------------------ files

expect guard-gov-root-create-elsewhere-ok ok $GOV $P create /tmp/gov-made

denied guard-gov-root-write-policy open $GOV $P write "$JITD_POLICY"
expect guard-gov-root-read-policy-ok ok $GOV $P open "$JITD_POLICY"
# Writing the running binary is ETXTBSY anyway; replacing or removing it is the route.
JITD_BIN=$(command -v jitd)
denied guard-gov-root-unlink-binary unlink $GOV $P unlink "$JITD_BIN"
$GOV $P create "${JITD_BIN%/*}/gov-made" >/dev/null
denied guard-gov-root-replace-binary unlink $GOV $P rename "${JITD_BIN%/*}/gov-made" "$JITD_BIN"
rm -f "${JITD_BIN%/*}/gov-made"
denied guard-gov-root-chmod-binary setattr $GOV $P chmod "$JITD_BIN" 0777
denied guard-gov-root-create-in-state-dir open $GOV $P create "$JITD_STATE/evil"
denied guard-gov-root-fifo-in-state-dir open $GOV $P mkfifo "$JITD_STATE/grants.json.tmp"
denied guard-gov-root-symlink-in-state-dir link $GOV $P symlink-open /etc/passwd "$JITD_STATE/x"
denied guard-gov-root-move-into-state-dir rename $GOV $P rename /srv/public.txt "$JITD_STATE/p"
denied guard-gov-root-truncate-audit setattr $GOV $P truncate "$AUDIT"
denied guard-gov-root-append-audit open $GOV $P write "$AUDIT"
denied guard-gov-root-unlink-audit unlink $GOV $P unlink "$AUDIT"
denied guard-gov-root-chmod-state-dir setattr $GOV $P chmod "$JITD_STATE" 0777
expect guard-exempt-root-create-in-state-dir-ok ok $P create "$JITD_STATE/by-root"
rm -f "$JITD_STATE/by-root"
expect guard-gov-root-write-public-ok ok $GOV $P write /srv/public.txt

# ------------------------------------------------------------------ exempt cgroup

denied guard-gov-root-join-exempt-cgroup open $GOV $P cgexec /exempt $P open /srv/secret.txt
denied guard-gov-root-clone-into-exempt-cgroup open $GOV $P clone-into /sys/fs/cgroup/exempt
expect guard-exempt-root-clone-into-exempt-cgroup-ok ok $P clone-into /sys/fs/cgroup/exempt
expect guard-gov-root-moves-within-own-tree-ok ok $P cgexec /jtest $GOV $P cgexec /jtest/sub \
	$P open /srv/public.txt

# ------------------------------------------------------------------ an upgrade
# While a restart loads and attaches new programs (--reload-programs: new programs and
# links over the same maps), a governed root asking for a descriptor of every new id as
# soon as it appears gets none of jitd's; the exempt root doing the same gets the new
# jitd_open (the probe sees the load's window).
stop_jitd
$GOV $P bpf-grab 120 >/tmp/grab-gov.out 2>&1 &
grab_gov=$!
$P bpf-grab 120 >/tmp/grab-ex.out 2>&1 &
grab_ex=$!
sleep 1
start_jitd guard-jitd-restarts-with-new-programs --reload-programs
JPID=$JITD_PID
# both grabbers still asking when the new jitd is ready (then they print their counts)
kill "$grab_gov"
gov_alive=$?
kill "$grab_ex"
wait "$grab_gov" "$grab_ex" 2>/dev/null
# (libbpf's own feature probes, unnamed or libbpf_*, are not jitd's)
grep -E '^(map|prog|link) ' /tmp/grab-gov.out |
	grep -vE '^(map|prog) [0-9]+ ?$|^(map|prog) [0-9]+ libbpf_' >/tmp/grab-gov.jitd
check guard-gov-root-gets-no-descriptor-during-upgrade \
	"got: $(tr '\n' ' ' </tmp/grab-gov.jitd | head -c 400)" test ! -s /tmp/grab-gov.jitd
new_open=$(awk -v old="$prog_id" '$1 == "prog" && $3 == "jitd_open" && $2 != old { print $2 }' \
	/tmp/grab-ex.out | tail -n 1)
check guard-exempt-root-gets-new-program-during-upgrade \
	"old jitd_open $prog_id; got: $(grep -c . /tmp/grab-ex.out) objects" test -n "$new_open"
# the governed grabber ran through the load and was refused that very program
check guard-gov-root-was-refused-the-new-program \
	"alive at the end: $gov_alive (0: yes); $(grep -E '^(asked|full)' /tmp/grab-gov.out | tr '\n' ' ')" \
	sh -c "[ $gov_alive = 0 ] && grep -qx 'refused prog ${new_open:-none}' /tmp/grab-gov.out &&
		! grep -qx full /tmp/grab-gov.out"

check guard-still-enforcing-at-end "jitd or its pins gone" still_enforcing
stop_jitd
out=$(jitd --unload 2>&1)
check guard-exempt-root-unload-ok "jitd --unload: $out" test $? = 0
echo "guard.sh: $N_PASS passed, $N_FAIL failed"
[ "$N_FAIL" = 0 ]
