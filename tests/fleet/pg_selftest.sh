#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# pg_selftest.sh DIR: proves tests/fleet/pg.sh on real servers under DIR. A primary takes a
# write, a standby streams it, the primary stops, the standby is promoted and takes a write,
# and a multi-host conninfo listing both with target_session_attrs=read-write reaches the
# promoted one. Prints "PASS pg-STEP" or "FAIL pg-STEP: why" and stops at the first failure
# (every step needs the ones before); exits non-zero if one failed. Every server is stopped
# on exit; DIR is left for a look at the logs.
set -euo pipefail

[ $# -eq 1 ] || {
	echo "usage: tests/fleet/pg_selftest.sh DIR" >&2
	exit 2
}
DIR=$1
PG=$(dirname "$0")/pg.sh
trap '"$PG" stop-all "$DIR"' EXIT

fail() {
	echo "FAIL pg-$1: $2"
	exit 1
}

# q CONNINFO SQL: the result of SQL, unaligned.
q() {
	psql -X -qAt -v ON_ERROR_STOP=1 -d "$1" -c "$2" 2>&1
}

ci1=$("$PG" start "$DIR" primary) || fail start-primary "pg.sh start failed"
[ "$(q "$ci1" 'SELECT pg_is_in_recovery()')" = f ] || fail start-primary "not a primary: $ci1"
echo "PASS pg-start-primary"

out=$(q "$ci1" "CREATE TABLE t (v text); INSERT INTO t VALUES ('before')") ||
	fail write-primary "$out"
echo "PASS pg-write-primary"

ci2=$("$PG" standby "$DIR" standby primary) || fail start-standby "pg.sh standby failed"
[ "$(q "$ci2" 'SELECT pg_is_in_recovery()')" = t ] || fail start-standby "not in recovery"
echo "PASS pg-start-standby"

for _ in $(seq 50); do
	[ "$(q "$ci2" 'SELECT v FROM t' || true)" = before ] && break
	sleep 0.2
done
[ "$(q "$ci2" 'SELECT v FROM t' || true)" = before ] ||
	fail standby-replicates "the row did not reach the standby within 10 s"
echo "PASS pg-standby-replicates"

out=$(q "$ci2" "INSERT INTO t VALUES ('standby')") && fail standby-read-only "write accepted"
[[ $out == *"read-only transaction"* ]] || fail standby-read-only "unexpected error: $out"
echo "PASS pg-standby-read-only"

p1=$("$PG" port "$DIR" primary)
p2=$("$PG" port "$DIR" standby)
"$PG" stop "$DIR" primary || fail stop-primary "pg.sh stop failed"
out=$(q "$ci1" 'SELECT 1') && fail stop-primary "primary still answers on port $p1"
echo "PASS pg-stop-primary"

"$PG" promote "$DIR" standby || fail promote "pg.sh promote failed"
[ "$(q "$ci2" 'SELECT pg_is_in_recovery()')" = f ] || fail promote "still in recovery"
echo "PASS pg-promote"

out=$(q "$ci2" "INSERT INTO t VALUES ('after'); SELECT string_agg(v, ',' ORDER BY v) FROM t") ||
	fail write-promoted "$out"
[ "$out" = after,before ] || fail write-promoted "rows are '$out', not after,before"
echo "PASS pg-write-promoted"

pw=$(cat "$DIR/standby.pw")
multi="host=127.0.0.1,127.0.0.1 port=$p1,$p2 target_session_attrs=read-write dbname=jitd"
multi="$multi user=postgres password=$pw connect_timeout=5"
out=$(q "$multi" 'SELECT inet_server_port(), pg_is_in_recovery()') ||
	fail multi-host "psql failed: $out"
[ "$out" = "$p2|f" ] || fail multi-host "reached '$out', not the promoted one on port $p2"
echo "PASS pg-multi-host"

"$PG" stop-all "$DIR" || fail stop-all "pg.sh stop-all failed"
for ci in "$ci1" "$ci2"; do
	out=$(q "$ci" 'SELECT 1') && fail stop-all "a server still answers: ${ci%% password=*}"
done
echo "PASS pg-stop-all"
