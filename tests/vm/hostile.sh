#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# hostile.sh: the control socket under hostile clients (`tests/vm/run.sh BUILD hostile`, and a
# part of tests.sh on 6.12). Unprivileged users open many idle connections, dribble bytes,
# reconnect in a loop and send 64 KiB of policy_show lines without reading the replies,
# while root (status), a requester (alice: request) and an approver (carol: approve) must
# each get their answer within a second. Also: error replies stay valid UTF-8 when user
# text is cut. Policy: secrets (alice requests, carol approves) and 1000 padding resources,
# so that one policy_show reply is about 340 KB.
. /tests/lib.sh
JITD_START_WAIT=600
FLOOD=/tests/flood
JITD_POLICY=/tmp/hostile-policy.json
JITD_STATE=/var/lib/jitd-hostile
JITD_ARGS="--pending-ttl 600s"
rm -rf "$JITD_STATE"
mkdir -p /srv && echo s >/srv/secret.txt && chmod 644 /srv/secret.txt

awk 'BEGIN {
	printf "{\"version\":1,\"serial\":1,\"resources\":{\"secrets\":{\"open\":[\"/srv/secret.txt\"]}"
	for (i = 0; i < 1000; i++) {
		printf ",\"padding-resource-for-the-hostile-control-socket-test-%04d\":{\"connect\":[", i
		for (j = 0; j < 8; j++)
			printf "%s\"[fd00:%x:%x::%x]:5432\"", j ? "," : "", i + 4096, j + 4096, i * 8 + j
		printf "]}"
	}
	printf "},\"exempt\":{\"uids\":[0]},\"admins\":[\"group:jit-admins\"],\"rules\":["
	printf "{\"resources\":[\"secrets\"],\"requesters\":[\"group:dba\"],\"max_duration\":\"1h\","
	printf "\"approvals\":1,\"approvers\":[\"user:carol\"]}]}\n"
}' >"$JITD_POLICY"

if ! start_jitd hostile-jitd-starts; then
	fail hostile-tests "not run: jitd did not start with $JITD_POLICY"
	exit 1
fi

# rss: jitd's resident memory in KiB.
rss() {
	awk '/^VmRSS/ { print $2 }' "/proc/$JITD_PID/status"
}

# timed NAME KIND WANT_RC UID ARGS...: jitctl ARGS as UID (0: root); checks that the answer
# came (exit WANT_RC) and that it came no more than a second later than the same request
# (KIND) without a flood, and prints the time it took. The first call of a KIND is the
# reference. (Absolute times under TCG depend on the host's load: the baseline is
# measured in the same boot.)
timed() {
	_tn=$1
	_tk=$2
	_want=$3
	_tu=$4
	shift 4
	_t0=$(now)
	asj "$_tu" --timeout 20 "$@"
	_dt=$(fsub "$(now)" "$_t0")
	eval "_ref=\${REF_$_tk:-}"
	if [ -z "$_ref" ]; then
		_ref=$_dt
		eval "REF_$_tk=$_dt"
	fi
	echo "hostile: uid $_tu jitctl $1: exit $RC after ${_dt}s (${_ref}s without a flood)"
	check "$_tn-answered" "exit $RC, want $_want: $(echo "$OUT" | head -c 300)" test "$RC" = "$_want"
	check "$_tn-delayed-under-1s" "took ${_dt}s, ${_ref}s without a flood" \
		fcmp "$(fsub "$_dt" "$_ref")" lt 1
}

# round NAME: root's status, alice's request and carol's approval of it, each timed.
round() {
	timed "hostile-$1-root-status" status 0 0 status
	timed "hostile-$1-alice-request" request 5 1001 request secrets --for 10m --reason "INC-$1"
	_req=$ID
	timed "hostile-$1-carol-approve" approve 0 1003 approve "$_req"
}

# ---------------------------------------------------------------- baseline, no flood
show=$($FLOOD "$JITD_SOCK" ask '{"op":"policy_show"}' | wc -c)
echo "hostile: one policy_show reply is $show bytes"
check hostile-policy-show-reply-is-large "$show bytes" test "$show" -gt 300000
RSS0=$(rss)
round baseline

# ---------------------------------------------------------------- error replies in UTF-8
E=é
E8=$E$E$E$E$E$E$E$E
E64=$E8$E8$E8$E8$E8$E8$E8$E8
# "x" then 64 two-byte characters: the op is cut (at 64 bytes) inside a character
R=$($FLOOD "$JITD_SOCK" ask "{\"op\":\"x$E64\"}")
check hostile-cut-unknown-op-still-says-unknown-op "got: $(echo "$R" | head -c 200)" \
	contains "$R" '"error": ?"unknown op .x'"$E"
U=$E64$E64$E64$E64$E64$E64$E64$E64$E64
R=$($FLOOD "$JITD_SOCK" ask "{\"op\":\"grant\",\"resource\":\"secrets\",\"duration_s\":60,\"user\":\"$U\"}")
check hostile-cut-user-text-error-names-the-user "got: $(echo "$R" | head -c 200)" \
	contains "$R" '"error": ?"unknown user .'"$E"
check hostile-cut-user-text-error-is-valid-utf8 "got: $(echo "$R" | tail -c 100)" \
	contains "$R" "$E"'"'

# ---------------------------------------------------------------- the floods
# The flooders run at nice 19 (FLOOD_NICE): what is measured is the work jitd does for them,
# not their own CPU use (one VM CPU under TCG; a user's CPU share is the scheduler's matter).
export FLOOD_NICE=19
# One after the other, a round each, then all at once:
# bob: 200 idle connections, and 50 reconnecting in a loop; uid 2002: 64 KiB of policy_show
# lines on 8 connections, never read; uid 2001: dribbles one byte every 2 s on 4
# connections; uids 2010-2022: 10 idle connections each (the unprivileged pool fills up);
# alice: 30 idle connections of her own.
F=/tmp/hostile-flood
rm -f $F.*
PIDS=""
as 1002 $FLOOD "$JITD_SOCK" idle 200 90 >$F.bob-idle 2>&1 &
PIDS="$PIDS $!"
as 1002 $FLOOD "$JITD_SOCK" reconnect 50 90 >$F.bob-reconnect 2>&1 &
PIDS="$PIDS $!"
sleep 3
round bob-idle-reconnect
as 2002 $FLOOD "$JITD_SOCK" amplify 8 80 >$F.amplify 2>&1 &
PIDS="$PIDS $!"
sleep 3
round amplify
RSS1=$(rss)
as 2001 $FLOOD "$JITD_SOCK" dribble 4 25 >$F.dribble 2>&1 &
PIDS="$PIDS $!"
DRIBBLER=$!
for u in 2010 2011 2012 2013 2014 2015 2016 2017 2018 2019 2020 2021 2022; do
	as $u $FLOOD "$JITD_SOCK" idle 10 70 >$F.idle-$u 2>&1 &
	PIDS="$PIDS $!"
done
as 1001 $FLOOD "$JITD_SOCK" idle 30 70 >$F.alice-idle 2>&1 &
PIDS="$PIDS $!"
sleep 3
round all-floods
sleep 5
RSS2=$(rss)
round all-floods-10s
wait "$DRIBBLER" # 25 s after it started: its lines never completed
cat $F.dribble
# all 4 closed, none at connect, none before the 10 s line deadline nor long after it
check hostile-dribbler-closed-by-line-deadline "$(cat $F.dribble)" awk '
	/dribble: 4 connects, 0 refused at connect, 4 closed/ && $(NF - 3) >= 9 && $(NF - 1) < 20 { ok = 1 }
	END { exit !ok }' $F.dribble
sleep 10 # past the 30 s idle timeout of the first idle connections
round all-floods-35s
RSS3=$(rss)
echo "hostile: jitd RSS ${RSS0} KiB before the floods, then $RSS1, $RSS2, $RSS3 KiB"
MAXRSS=$RSS1
for r in $RSS2 $RSS3; do [ "$r" -gt "$MAXRSS" ] && MAXRSS=$r; done
check hostile-amplifying-flood-memory-bounded "RSS grew from $RSS0 to $MAXRSS KiB" \
	test $((MAXRSS - RSS0)) -lt 65536
# shellcheck disable=SC2086 # PIDS: a list, split on purpose
wait $PIDS
for f in $F.*; do cat "$f"; done
check hostile-bob-idle-connections-all-closed "$(cat $F.bob-idle)" \
	awk '/idle: / && $3 > 0 && $3 == $9 { ok = 1 } END { exit !ok }' $F.bob-idle
check hostile-amplifier-closed "$(cat $F.amplify)" grep -qE 'amplify: .* [1-9][0-9]* closed' $F.amplify
check hostile-jitd-survives-the-floods "jitd pid $JITD_PID is gone" kill -0 "$JITD_PID"
round after-flood

stop_jitd
jitd --unload
echo "hostile.sh: $N_PASS passed, $N_FAIL failed"
[ "$N_FAIL" = 0 ]
