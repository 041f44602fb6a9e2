#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# revoke.sh: "revoke": "open" (issue 15), on every kernel (`tests/vm/run.sh BUILD revoke`).
# The descriptors a user opened or connected under a grant for such a resource are cut by
# the kernel when the grant ends: after its expiry and after `jitctl revoke`, the next use
# by any route is EPERM (read, pread, readv, preadv2, write, pwrite, writev, sendfile and
# splice both ways, copy_file_range both ways, a new mmap, mprotect to PROT_READ, io_uring
# with a plain and a registered file, aio, getdents, through a dup, a forked child and an
# SCM_RIGHTS receiver of another uid; send, write, sendfile, io_uring send and recv, read on
# a connected TCP or UDP socket), and a reopen through /proc/self/fd is refused. A mapping
# made while granted keeps its pages (the documented limit). Untouched: a resource without
# the option, an unprotected file, an exempt root's descriptor. One audit record per kind of
# use and open file, naming the grant it was opened under. Tracking survives a restart of
# jitd. `probe hold` holds the descriptors: it opens while granted, then tries every route
# once per line written to its fifo (one "ROUTE=RESULT" line each).
. /tests/lib.sh

P=$PROBE
ALICE="$P loginuid 1001 $P as 1001" # alice, logged in
BOB="$P loginuid 1002 $P as 1002"   # bob: no grant; receives alice's descriptors
RV=/tmp/rv                          # the holders' fifos and outputs
SECRET=/srv/rv/secret.txt
JITD_POLICY=/tmp/revoke-policy.json
# The holders' temporary files (copy_file_range's other side) on the file system of the
# protected files: later kernels answer EXDEV across file systems before any check.
export TMPDIR=/srv/rvtmp

rm -rf /srv/rv "$RV" "$TMPDIR"
mkdir -p /srv/rv/dir "$RV" "$TMPDIR"
chmod 777 "$RV"
chmod 1777 "$TMPDIR"
echo secret-of-revoke-open >$SECRET
echo kept-without-the-option >/srv/rv/keep.txt
echo public >/srv/rv/public.txt
echo tree >/srv/rv/tree.txt
echo in-dir >/srv/rv/dir/a.txt
chmod 666 $SECRET /srv/rv/keep.txt /srv/rv/public.txt
cat >"$JITD_POLICY" <<'EOF'
{
  "version": 1,
  "serial": 1,
  "resources": {
    "rv-files":    { "open": ["/srv/rv/secret.txt", "/srv/rv/dir"], "revoke": "open" },
    "rv-keep":     { "open": ["/srv/rv/keep.txt"] },
    "rv-net":      { "connect": ["127.0.0.2:7001"], "revoke": "open" },
    "rv-net-keep": { "connect": ["127.0.0.3:7002"] },
    "rv-tree":    { "open": ["/srv/rv/tree.txt"] }
  },
  "rules": [
    { "resources": ["rv-tree"], "requesters": ["user:alice"], "max_duration": "1h",
      "on_end": "kill" }
  ],
  "exempt": { "uids": [0] }
}
EOF

# ------------------------------------------------------------------ holders

# hstart NAME SPEC [WRAPPER...]: `probe hold SPEC` run through WRAPPER (e.g. $ALICE) in the
# background, its fifo, outputs and pid in $RV/NAME.*; waits until it is ready.
hstart() {
	_hn=$1
	_hs=$2
	shift 2
	rm -f "$RV/$_hn".*
	mkfifo -m 666 "$RV/$_hn.go"
	"$@" $P hold "$_hs" "$RV/$_hn.ready" "$RV/$_hn.go" >"$RV/$_hn.out" 2>"$RV/$_hn.err" &
	echo $! >"$RV/$_hn.pid"
	hready "$_hn"
}

# hstart_scm NAME SPEC: bob takes over by SCM_RIGHTS what alice opens or connects (SPEC)
# while granted: `probe scm-recv` as bob, `probe scm-send` as alice.
hstart_scm() {
	_hn=$1
	rm -f "$RV/$_hn".*
	mkfifo -m 666 "$RV/$_hn.go"
	$BOB $P scm-recv "$RV/$_hn.sock" "$RV/$_hn.ready" "$RV/$_hn.go" \
		>"$RV/$_hn.out" 2>"$RV/$_hn.err" &
	echo $! >"$RV/$_hn.pid"
	wait_for 30 test -S "$RV/$_hn.sock"
	expect "revoke-$_hn-alice-passes-it-to-bob" ok $ALICE $P scm-send "$RV/$_hn.sock" "$2"
	hready "$_hn"
}

# hready NAME: wait (30 s) for NAME's "ready"; a FAIL line when it does not come.
hready() {
	if wait_for 30 test -s "$RV/$1.ready"; then
		return 0
	fi
	fail "revoke-$1-holder-ready" "$(cat "$RV/$1.out" "$RV/$1.err" 2>&1 | tr '\n' ' ' | head -c 300)"
	return 1
}

# hround NAME: one round of NAME's holder (each route once); its "ROUTE=RESULT" lines in
# $RV/NAME.last (empty when the holder did not answer within 90 s).
hround() {
	: >"$RV/$1.last"
	_n=$(($(grep -c '^round=' "$RV/$1.out") + 1))
	timeout 30 sh -c "echo go >'$RV/$1.go'" || return 1
	wait_for 90 grep -q "^round=$_n\$" "$RV/$1.out" || return 1
	awk -v n="$_n" '/^round=/ { r++; next } r == n - 1' "$RV/$1.out" >"$RV/$1.last"
}

# hend NAME: end NAME's holder.
hend() {
	_pid=$(cat "$RV/$1.pid" 2>/dev/null)
	[ -n "$_pid" ] || return 0
	timeout 10 sh -c "echo end >'$RV/$1.go'" || kill -9 "$_pid" 2>/dev/null
	wait "$_pid" 2>/dev/null
	rm -f "$RV/$1.pid"
}

# ------------------------------------------------------------------ judging a round

# routes_are NAME HOLDER DEFAULT [ROUTE=WANT...]: one check: every route of HOLDER's last
# round answered DEFAULT, but the ROUTEs listed, which answered WANT. A route the holder
# could not prepare ("skip...") is said, not judged.
routes_are() {
	_an=$1
	_ah=$2
	_def=$3
	shift 3
	_bad=""
	[ -s "$RV/$_ah.last" ] ||
		_bad=" no answer from the holder ($(tail -c 300 "$RV/$_ah.err" 2>&1 | tr '\n' ' '))"
	while IFS='=' read -r _r _v; do
		_want=$_def
		for _e in "$@"; do
			[ "${_e%%=*}" = "$_r" ] && _want=${_e#*=}
		done
		case "$_v" in
		"$_want") ;;
		skip*) echo "$_an: $_r not tried ($_v)" ;;
		*) _bad="$_bad $_r=$_v" ;;
		esac
	done <"$RV/$_ah.last"
	if [ -z "$_bad" ]; then
		pass "$_an"
	else
		fail "$_an" "expected $_def$([ $# = 0 ] || echo " (but $*)"), got:$_bad"
	fi
}

# cut_checks PREFIX HOLDER [sock]: a check per route of HOLDER's last round, after its grant
# ended: PREFIX-ROUTE-cut (EPERM; for sockets also ECONNABORTED, ECONNRESET or EPIPE: jitd
# may have reset the connection first, said), PREFIX-oldmap-still-readable (ok: the pages
# of a mapping made while granted stay, a documented limit), PREFIX-reopen-refused (EPERM:
# a new open through /proc/self/fd).
cut_checks() {
	_cp=$1
	_ch=$2
	if [ ! -s "$RV/$_ch.last" ]; then
		fail "$_cp-holder-answered" "no answer ($(tail -c 300 "$RV/$_ch.err" 2>&1 | tr '\n' ' '))"
		return
	fi
	while IFS='=' read -r _r _v; do
		_rn=$(echo "$_r" | tr _ -)
		case "$_r" in
		oldmap) _want=ok _cn=$_cp-oldmap-still-readable ;;
		reopen) _want=EPERM _cn=$_cp-reopen-proc-fd-refused ;;
		*) _want=EPERM _cn=$_cp-$_rn-cut ;;
		esac
		case "$_v" in
		"$_want") pass "$_cn" ;;
		skip) ;; # not a route of this holder (reopen by an SCM_RIGHTS receiver)
		skip-*) skip "$_cn" "the holder could not prepare it: $_v" ;;
		ECONNABORTED | ECONNRESET | EPIPE)
			if [ "${3:-}" = sock ]; then
				pass "$_cn"
				echo "$_cn: $_v (the connection was reset before this use)"
			else
				fail "$_cn" "expected $_want, got $_v"
			fi
			;;
		*) fail "$_cn" "expected $_want, got $_v" ;;
		esac
	done <"$RV/$_ch.last"
}

# ------------------------------------------------------------------ audit

# cuts OP GRANT: the deny records of jitd's for OP naming GRANT (a cut carries the grant the
# descriptor was opened under).
cuts() {
	audit_lines "$(jkey decision)\"deny\"" "$(jkey op)\"$1\"" \
		"$(jkey correlation_uid)\"$2\"" | wc -l
}

# cuts_are NAME OP GRANT N: exactly N records of OP for GRANT (waits 10 s for them).
cuts_are() {
	wait_for 10 test "$(cuts "$2" "$3")" -ge "$4"
	_got=$(cuts "$2" "$3")
	check "$1" "$_got deny records with op $2 and grant $3, expected $4; last: $(audit_lines |
		tail -n 1 | grep -oE '"(op|message|correlation_uid)": ?"[^"]*"' | tr '\n' ' ')" \
		test "$_got" = "$4"
}

# keep_cuts: the cut records of rv-keep, the resource without the option (none expected).
keep_cuts() {
	audit_lines "$(jkey decision)\"deny\"" "$(jres rv-keep)" "$(jkey op)\"(read|write|mmap)\""
}
no_keep_cuts() {
	! keep_cuts >/dev/null
}

# cuts_some NAME OP GRANT: at least one record of OP for GRANT (waits 10 s).
cuts_some() {
	wait_for 10 test "$(cuts "$2" "$3")" -ge 1
	check "$1" "no deny record with op $2 and grant $3 in $AUDIT" test "$(cuts "$2" "$3")" -ge 1
}

# ------------------------------------------------------------------ start

$P serve 127.0.0.2 7001 >"$RV/serve-net.out" 2>&1 &
SERVE1=$!
$P serve 127.0.0.3 7002 >"$RV/serve-net-keep.out" 2>&1 &
SERVE2=$!
check revoke-echo-servers-listen "$(cat "$RV"/serve-*.out | tr '\n' ' ')" \
	wait_for 10 sh -c "grep -q listening '$RV/serve-net.out' && grep -q listening '$RV/serve-net-keep.out'"

start_jitd revoke-jitd-starts || exit 1

# Held all along: an unprotected file (alice) and the protected one by an exempt root.
hstart public file:/srv/rv/public.txt $ALICE
hstart exempt file:$SECRET

# ------------------------------------------------------------------ a grant that expires

LEN=20 # the grant's length: its holders must be ready and checked once before its end
T0=$(now)
G1=$(grant_or_fail revoke-grant-files-${LEN}s rv-files --user alice --for ${LEN}s)
T1=$(now)
$ALICE $P poll-read $SECRET EPERM 100 $(((LEN + 40) * 1000)) >"$RV/poll.out" 2>&1 &
POLL=$!
hstart exp-file file:$SECRET $ALICE
hstart exp-dir dir:/srv/rv/dir $ALICE
for h in exp-file exp-dir public exempt; do hround $h; done
echo "revoke: the expiring grant's holders were checked $(fsub "$(now)" "$T1")s after it was made (it lasts ${LEN}s)"
routes_are revoke-expiry-file-every-route-ok-while-granted exp-file ok
routes_are revoke-expiry-dir-every-route-ok-while-granted exp-dir ok

# the poller reads every 0.1 s until the first EPERM
wait "$POLL"
read -r p_what p_before p_after p_tries p_last <"$RV/poll.out"
echo "revoke: poll-read: $p_what at ${p_before:-?}..${p_after:-?} after $p_tries reads (last ok at ${p_last:-?}); grant made in $T0..$T1, ${LEN}s"
if [ "$p_what" = EPERM ]; then
	pass revoke-expiry-poller-cut
	check revoke-expiry-not-cut-before-the-end "refused at $p_after, before $T0 + ${LEN}s" \
		fcmp "$p_after" ge "$(fsub "$T0" "-$LEN")"
	check revoke-expiry-cut-within-3s "first refusal at $p_before, more than 3 s after $T1 + ${LEN}s" \
		fcmp "$p_before" le "$(fsub "$T1" "-$((LEN + 3))")"
else
	fail revoke-expiry-poller-cut "poll-read answered: $(tr '\n' ' ' <"$RV/poll.out")"
fi
check revoke-expiry-grant-expired "state $(jfield "${G1:-0}" state)" wait_state "${G1:-0}" expired 30

for h in exp-file exp-dir public exempt; do hround $h; done
cut_checks revoke-expiry-file exp-file
cut_checks revoke-expiry-dir exp-dir
hround exp-file
routes_are revoke-expiry-file-stays-cut exp-file EPERM oldmap=ok
routes_are revoke-unprotected-file-untouched public ok
routes_are revoke-exempt-root-fd-untouched exempt ok
hend exp-file
hend exp-dir

# One record per kind of use and open file: reads by the file's descriptor, the
# directory's and the poller's; writes and mappings by the file's holder only.
cuts_are revoke-expiry-one-read-record-per-open-file read "$G1" 3
cuts_are revoke-expiry-one-write-record write "$G1" 1
cuts_are revoke-expiry-one-mmap-record mmap "$G1" 1
check revoke-expiry-cut-record-names-the-resource "no read record of rv-files for grant $G1" \
	audit_lines "$(jkey op)\"read\"" "$(jkey correlation_uid)\"$G1\"" "$(jres rv-files)"

# ------------------------------------------------------------------ jitctl revoke

G2=$(grant_or_fail revoke-grant-files-600s rv-files --user alice --for 600s)
GK=$(grant_or_fail revoke-grant-keep-600s rv-keep --user alice --for 600s)
hstart rev-file file:$SECRET $ALICE
hstart_scm scm-file file:$SECRET
hstart keep file:/srv/rv/keep.txt $ALICE
for h in rev-file scm-file keep; do hround $h; done
routes_are revoke-revoked-file-every-route-ok-while-granted rev-file ok
routes_are revoke-scm-receiver-every-route-ok-while-granted scm-file ok reopen=skip
routes_are revoke-without-option-every-route-ok-while-granted keep ok
check revoke-jitctl-revoke-files "jitctl revoke $G2 failed" revoke "${G2:-0}"
check revoke-jitctl-revoke-keep "jitctl revoke $GK failed" revoke "${GK:-0}"
for h in rev-file scm-file keep public exempt; do hround $h; done
cut_checks revoke-revoked-file rev-file
cut_checks revoke-scm-receiver scm-file
routes_are revoke-without-option-fd-keeps-working keep ok reopen=EPERM
routes_are revoke-unprotected-file-untouched-after-revoke public ok
routes_are revoke-exempt-root-fd-untouched-after-revoke exempt ok
# Once cut, a descriptor stays cut: a new grant of the same resource does not revive it.
G3=$(grant_or_fail revoke-grant-files-again rv-files --user alice --for 600s)
hround rev-file
routes_are revoke-new-grant-does-not-revive-a-cut-fd rev-file EPERM oldmap=ok reopen=ok
check revoke-jitctl-revoke-the-new-grant "jitctl revoke $G3 failed" revoke "${G3:-0}"
for h in rev-file scm-file keep; do hend $h; done
# ... nor one left untouched since its grant ended (jitd marks it cut when the key ends)
G4=$(grant_or_fail revoke-grant-files-untouched rv-files --user alice --for 600s)
hstart untouched file:$SECRET $ALICE
check revoke-jitctl-revoke-untouched "jitctl revoke $G4 failed" revoke "${G4:-0}"
G5=$(grant_or_fail revoke-grant-files-after-untouched rv-files --user alice --for 600s)
hround untouched
routes_are revoke-new-grant-does-not-revive-an-untouched-fd untouched EPERM oldmap=ok reopen=ok
check revoke-jitctl-revoke-after-untouched "jitctl revoke $G5 failed" revoke "${G5:-0}"
hend untouched
cuts_are revoke-revoked-one-read-record-per-open-file read "$G2" 2
cuts_are revoke-revoked-one-write-record-per-open-file write "$G2" 2
check revoke-without-option-no-cut-record "a cut record of rv-keep: $(keep_cuts | head -n 1 |
	head -c 300)" no_keep_cuts

# ------------------------------------------------------------------ connections

GN=$(grant_or_fail revoke-grant-net-600s rv-net --user alice --for 600s)
GNK=$(grant_or_fail revoke-grant-net-keep-600s rv-net-keep --user alice --for 600s)
hstart tcp tcp:127.0.0.2:7001 $ALICE
hstart udp udp:127.0.0.2:7001 $ALICE
hstart_scm scm-tcp tcp:127.0.0.2:7001
hstart tcp-keep tcp:127.0.0.3:7002 $ALICE
for h in tcp udp scm-tcp tcp-keep; do hround $h; done
routes_are revoke-tcp-every-route-ok-while-granted tcp ok
routes_are revoke-udp-every-route-ok-while-granted udp ok
routes_are revoke-scm-tcp-every-route-ok-while-granted scm-tcp ok
routes_are revoke-tcp-without-option-every-route-ok-while-granted tcp-keep ok
check revoke-jitctl-revoke-net "jitctl revoke $GN failed" revoke "${GN:-0}"
check revoke-jitctl-revoke-net-keep "jitctl revoke $GNK failed" revoke "${GNK:-0}"
for h in tcp udp scm-tcp tcp-keep; do hround $h; done
cut_checks revoke-tcp tcp sock
cut_checks revoke-udp udp sock
cut_checks revoke-scm-tcp scm-tcp sock
routes_are revoke-tcp-without-option-keeps-talking tcp-keep ok
for h in tcp udp scm-tcp tcp-keep; do hend $h; done
# (TCP and UDP alike: both are rv-net's)
cuts_some revoke-net-send-cut-audited send "$GN"
cuts_some revoke-net-recv-cut-audited recv "$GN"
# jitd reset the grant's connections (netlink SOCK_DESTROY): alice's TCP and UDP sockets and
# the one she passed to bob, all in jitd's network namespace; one open_cut record for the key
ev=$(grep -E "$(jkey event)\"open_cut\"" "$AUDIT" | grep -E "$(jkey grant_id)$GN\b")
check revoke-net-open-cut-recorded "open_cut of grant $GN: ${ev:-none}" \
	contains "$ev" "$(jkey connections)3\b"
check revoke-net-connections-reset "open_cut of grant $GN: ${ev:-none}" \
	contains "$ev" "$(jkey connections_reset)3\b"
n=$(grep -E "$(jkey event)\"connection_reset\"" "$AUDIT" | grep -E "$(jkey grant_id)$GN\b" |
	grep -cE "$(jkey result)\"reset\"")
check revoke-net-one-reset-record-per-connection "$n connection_reset records for grant $GN" \
	test "$n" = 3
# only the grant's connections were reset: the server still serves (an exempt root connects)
out=$($P connect 127.0.0.2 7001 2>&1)
check revoke-net-exempt-root-still-reaches-the-server "got: $out" test "$out" = ok

# ------------------------------------------------------------------ "on_end": "kill"

# alice's `jitctl exec` under a rule with "on_end": "kill": its tree is killed when the grant
# expires, and when it is revoked (after the kernel's refusal, record killed)
EXP_T0=$(now)
$ALICE jitctl exec rv-tree --for 6s -- sleep 300 >/tmp/rv-exec1.out 2>&1 &
X1=$!
$ALICE jitctl exec rv-tree --for 600s -- sleep 300 >/tmp/rv-exec2.out 2>&1 &
X2=$!
wait_for 20 grep -q '^exec [0-9]*:' /tmp/rv-exec2.out
E2=$(sed -n 's/^exec \([0-9]*\):.*/\1/p' /tmp/rv-exec2.out | head -n 1)
check revoke-on-end-exec-grant-made "jitctl exec said: $(cat /tmp/rv-exec1.out /tmp/rv-exec2.out)" \
	test -n "$E2"
wait "$X1"
rc=$?
check revoke-on-end-kill-at-expiry "jitctl exec (6 s) exited with $rc after $(fsub "$(now)" "$EXP_T0") s, not 137 (SIGKILL)" \
	test "$rc" = 137
out=$(jitctl revoke "${E2:-0}" 2>&1)
check revoke-on-end-kill-on-revoke-says-killed "got: $out" contains "$out" "killed [1-9][0-9]* process"
wait "$X2"
rc=$?
check revoke-on-end-kill-on-revoke "jitctl exec exited with $rc, not 137 (SIGKILL)" test "$rc" = 137
n=$(grep -E "$(jkey event)\"killed\"" "$AUDIT" | grep -cE "$(jkey on_end)\"kill\"")
check revoke-on-end-kill-audited "$n killed records with on_end kill" test "$n" = 2

# ------------------------------------------------------------------ overlayfs

# A read-only overlay over the protected files: the overlay opens the real file, which is
# the one tracked; reads through the overlay file reach it (cut), a new mmap maps it through
# mmap_backing_file on 6.12 and 7.2 (cut) and with no hook on 5.10 and 6.1 (not cut: README).
# FIONREAD is answered from the overlay file's own size, not the real file's (not cut);
# copy_file_range from it to a file of another file system is EXDEV.
mkdir -p /mnt/rvov /srv/rvov-empty
if mount -t overlay overlay -o lowerdir=/srv/rv:/srv/rvov-empty /mnt/rvov 2>/tmp/rvov.err; then
	GO=$(grant_or_fail revoke-grant-files-overlay rv-files --user alice --for 600s)
	hstart ovl file:/mnt/rvov/secret.txt $ALICE
	hround ovl
	routes_are revoke-overlay-every-route-ok-while-granted ovl ok copy_file_range=EXDEV
	check revoke-jitctl-revoke-overlay "jitctl revoke $GO failed" revoke "${GO:-0}"
	hround ovl
	case $(uname -r) in
	5.10.* | 6.1.*)
		routes_are revoke-overlay-cut ovl EPERM oldmap=ok ioctl=ok mmap=ok mmap_private=ok \
			copy_file_range=EXDEV
		;;
	*) routes_are revoke-overlay-cut ovl EPERM oldmap=ok ioctl=ok copy_file_range=EXDEV ;;
	esac
	hend ovl
	umount /mnt/rvov
else
	fail revoke-overlay-mount "$(cat /tmp/rvov.err)"
fi

# ------------------------------------------------------------------ one user's share

# alice may hold 1024 tracked descriptors at once (JITD_OPEN_QUOTA), her next open is
# refused (op track): she cannot fill the host's table and so refuse bob's opens
GQ=$(grant_or_fail revoke-grant-files-quota-alice rv-files --user alice --for 600s)
GQB=$(grant_or_fail revoke-grant-files-quota-bob rv-files --user bob --for 600s)
rm -f /tmp/rv-many.out
$ALICE $P open-many 1100 $SECRET 20 >/tmp/rv-many.out 2>&1 &
MANY=$!
wait_for 60 test -s /tmp/rv-many.out
out=$(cat /tmp/rv-many.out)
check revoke-quota-alice-holds-1024 "alice's 1100 opens: $out" test "$out" = "eperm=76 ok=1024 other=0"
expect revoke-quota-bob-still-opens ok $P loginuid 1002 $P as 1002 $P open $SECRET
n=$(audit_lines "$(jkey decision)\"deny\"" "$(jkey op)\"track\"" | wc -l)
check revoke-quota-refusals-audited "$n track records, expected 76" test "$n" = 76
kill "$MANY" 2>/dev/null
wait "$MANY" 2>/dev/null
# her descriptors closed, her share is free again
expect revoke-quota-freed-on-close ok $ALICE $P open $SECRET
check revoke-jitctl-revoke-quota "jitctl revoke $GQ $GQB failed" revoke "${GQ:-0}"
[ -n "$GQB" ] && revoke "$GQB"

# ------------------------------------------------------------------ releases counted across builds

# A file's release looks up its entry only when its address's slot counts one
# (jitd_open_fslot), once jitd trusts the counts. Files tracked by programs that kept no
# such count (another build: here, the map's pin removed) are counted once jitd's programs
# alone run, so that closing them still frees them (their owner's share, the table).
revoke_open_json() { jitctl status --json | tr -d ' \n' | grep -o '"revoke_open":{[^}]*'; }
tracked_now() { revoke_open_json | grep -o '"tracked":[0-9]*' | grep -o '[0-9]*$'; }
tracked_is() { test "$(tracked_now)" = "$1"; }
by_slot() { revoke_open_json | grep -q '"release_by_slot":true'; }
check revoke-fslot-trusted-after-start "$(revoke_open_json)" wait_for 30 by_slot
GF=$(grant_or_fail revoke-grant-files-fslot rv-files --user alice --for 600s)
base=$(tracked_now)
rm -f /tmp/rv-fslot.out
$ALICE $P open-many 50 $SECRET 300 >/tmp/rv-fslot.out 2>&1 &
FSLOT=$!
wait_for 60 test -s /tmp/rv-fslot.out
check revoke-fslot-50-tracked "tracked: $(tracked_now), $base before; $(cat /tmp/rv-fslot.out)" \
	tracked_is $((base + 50))
stop_jitd
rm -f /sys/fs/bpf/jitd/open_fslot
start_jitd revoke-fslot-new-map-restart --reload-programs || exit 1
check revoke-fslot-trusted-once-settled "$(revoke_open_json)" wait_for 60 by_slot
check revoke-fslot-earlier-files-counted "$(grep -i 'tracked open files' "$JITD_LOG" | tail -n 2)" \
	grep -q '50 tracked open files found at the load counted' "$JITD_LOG"
kill "$FSLOT" 2>/dev/null
wait "$FSLOT" 2>/dev/null
check revoke-fslot-released-on-close "tracked: $(tracked_now), expected $base" wait_for 30 tracked_is "$base"
$ALICE $P open-many 20 $SECRET 0 >/tmp/rv-fslot.out 2>&1
check revoke-fslot-new-program-counts "tracked after 20 opened and closed: $(tracked_now), expected $base" \
	wait_for 30 tracked_is "$base"
[ -n "$GF" ] && revoke "$GF"

# ------------------------------------------------------------------ jitd restarted

GR=$(grant_or_fail revoke-grant-files-before-restart rv-files --user alice --for 600s)
hstart restart file:$SECRET $ALICE
hround restart
routes_are revoke-restart-every-route-ok-before restart ok
stop_jitd
start_jitd revoke-jitd-restarts || exit 1
hround restart
routes_are revoke-restart-every-route-ok-after-restart restart ok
check revoke-jitctl-revoke-after-restart "jitctl revoke $GR failed" revoke "${GR:-0}"
hround restart
routes_are revoke-restart-cut-after-revoke restart EPERM oldmap=ok
hend restart
cuts_are revoke-restart-one-read-record read "$GR" 1

# Every read cut of a file is one of the above (none of the public file's or the exempt
# root's); those of the sockets (read(2) on a socket may be recorded as a read) apart.
n_read=$(($(audit_lines "$(jkey decision)\"deny\"" "$(jkey op)\"read\"" | wc -l) - $(cuts read "$GN")))
check revoke-no-other-read-cuts "$n_read read cuts of files, expected 3 + 2 + 1 + 1 + 1" test "$n_read" = 8

hend public
hend exempt
kill "$SERVE1" "$SERVE2" 2>/dev/null
stop_jitd
echo "revoke.sh: $N_PASS passed, $N_FAIL failed"
[ "$N_FAIL" = 0 ]
