#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# pg.sh: real PostgreSQL servers for tests, each entirely under DIR, reachable over TCP on
# 127.0.0.1 only, on a free port chosen at start.
#
#	pg.sh start DIR NAME             a primary DIR/NAME with a database "jitd"
#	pg.sh standby DIR NAME PRIMARY   a streaming hot standby of the running DIR/PRIMARY
#	pg.sh promote DIR NAME           promote a standby; returns once it accepts writes
#	pg.sh stop DIR NAME              fast shutdown (succeeds if it is not running)
#	pg.sh resume DIR NAME            start a stopped cluster again (data and port kept)
#	pg.sh stop-all DIR               stop every server under DIR
#	pg.sh port DIR NAME              print its TCP port
#	pg.sh conninfo DIR NAME          print its libpq conninfo
#
# start and standby print one line, a conninfo for the superuser (also in DIR/NAME.conninfo):
#	host=127.0.0.1 port=NNNN dbname=jitd user=postgres password=SECRET
# A standby is a copy of its primary: same superuser and password.
#
# Each run starts clean: start and standby wipe DIR/NAME if no server runs there, and refuse
# if one does. Servers outlive this script, so a caller stops them even when a test fails:
#	trap 'tests/fleet/pg.sh stop-all "$DIR"' EXIT
#
# Under DIR: NAME/ (data), NAME.sock/ (unix socket), NAME.log (server log), NAME.pw (the
# superuser's password), NAME.conninfo. TCP needs the password (scram-sha-256), also for
# replication; the unix socket is trusted for the superuser and reachable only by the server's
# user (maintenance by this script). qemu user-net guests reach the host's 127.0.0.1 as
# 10.0.2.2, and their connections arrive from 127.0.0.1.
#
# PostgreSQL refuses to run as root: as root, the servers run as PG_RUN_AS (nobody), which must
# be able to traverse DIR. PG_TIMEOUT (30 s) bounds each wait.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
RUN_AS=${PG_RUN_AS:-nobody}
TIMEOUT=${PG_TIMEOUT:-30}

die() {
	echo "pg.sh: $*" >&2
	exit 1
}

usage() {
	sed -n 's/^#\t\(pg\.sh \)/usage: \1/p' "$0" >&2
	exit 2
}

# as_pg CMD...: run CMD as the servers' user (from /, which that user can always enter).
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		(cd / && setpriv --reuid="$RUN_AS" --regid="$(id -g "$RUN_AS")" --clear-groups "$@")
	else
		"$@"
	fi
}

# own PATH...: give PATH to the servers' user.
own() {
	if [ "$(id -u)" = 0 ]; then
		chown "$RUN_AS:$(id -g "$RUN_AS")" "$@"
	fi
}

pg_ctl() {
	as_pg "$PGBIN/pg_ctl" -D "$DATA" "$@"
}

# running: DIR/NAME's postmaster lives. Not pg_ctl status: a killed postmaster left its pid file,
# and until its parent reaps it, its pid still answers kill -0.
running() {
	local pid
	pid=$(head -n 1 "$DATA/postmaster.pid" 2>/dev/null) && [ -n "$pid" ] &&
		[ -e "/proc/$pid" ] && ! grep -q '^State:.Z' "/proc/$pid/status" 2>/dev/null
}

port() {
	[ -f "$DIR/$NAME.conninfo" ] || die "$NAME: no $DIR/$NAME.conninfo (never started?)"
	sed -n 's/.* port=\([0-9]*\) .*/\1/p' "$DIR/$NAME.conninfo"
}

# sql SQL: run SQL as the superuser over the trusted unix socket; print the result.
sql() {
	as_pg psql -X -qAt -v ON_ERROR_STOP=1 -h "$DIR/$NAME.sock" -p "$(port)" -U postgres \
		-d postgres -c "$1"
}

# free_port: a port nothing listens on, below the ephemeral range so that no client takes it.
free_port() {
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 12000))
		[ -z "$(ss -Htln "sport = :$p")" ] && echo "$p" && return 0
	done
	die "no free TCP port found"
}

# fresh: an empty DIR/NAME (wiping a stopped cluster) owned by the servers' user.
fresh() {
	as_pg test -x "$DIR" || die "$RUN_AS cannot enter $DIR: make it and its parents traversable"
	running && die "$NAME already runs in $DATA; pg.sh stop first"
	if [ -e "$DATA" ] && [ ! -f "$DATA/PG_VERSION" ] && [ -n "$(ls -A "$DATA")" ]; then
		die "$DATA is not empty and not a cluster: not wiping it"
	fi
	rm -rf "$DATA" "$DIR/$NAME.sock" "$DIR/$NAME".{log,pw,conninfo}
	mkdir -m 700 "$DATA" "$DIR/$NAME.sock"
	: >"$DIR/$NAME.log"
	own "$DATA" "$DIR/$NAME.sock" "$DIR/$NAME.log"
}

# launch: start DIR/NAME on a free port (another if it was taken meanwhile), wait until it
# accepts password connections over TCP, write DIR/NAME.conninfo and print it.
launch() {
	local try p pw
	for try in 1 2 3; do
		p=$(free_port)
		printf "port = %s\nunix_socket_directories = '%s'\ncluster_name = '%s'\n" \
			"$p" "$DIR/$NAME.sock" "$NAME" >"$DATA/node.conf"
		own "$DATA/node.conf"
		: >"$DIR/$NAME.log"
		pg_ctl -l "$DIR/$NAME.log" -w -t "$TIMEOUT" start >/dev/null 2>&1 && break
		grep -q 'could not bind' "$DIR/$NAME.log" && [ "$try" -lt 3 ] && continue
		tail -n 20 "$DIR/$NAME.log" >&2
		die "$NAME failed to start or was not ready within ${TIMEOUT}s (log: $DIR/$NAME.log)"
	done
	pw=$(cat "$DIR/$NAME.pw")
	echo "host=127.0.0.1 port=$p dbname=jitd user=postgres password=$pw" >"$DIR/$NAME.conninfo"
}

# tcp_ready: wait until the superuser gets in over TCP with its password.
tcp_ready() {
	local end=$((SECONDS + TIMEOUT))
	until PGPASSWORD=$(cat "$DIR/$NAME.pw") psql -X -qAt -h 127.0.0.1 -p "$(port)" \
		-U postgres -d jitd -c 'SELECT 1' >/dev/null 2>&1; do
		if [ "$SECONDS" -ge "$end" ]; then
			tail -n 20 "$DIR/$NAME.log" >&2
			die "$NAME accepts no password login on 127.0.0.1:$(port) after ${TIMEOUT}s"
		fi
		sleep 0.2
	done
	cat "$DIR/$NAME.conninfo"
}

cmd_start() {
	fresh
	head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$DIR/$NAME.pw"
	# initdb reads the password from a file of its user's, in a directory only it can enter.
	cp "$DIR/$NAME.pw" "$DIR/$NAME.sock/pw"
	own "$DIR/$NAME.sock/pw"
	as_pg "$PGBIN/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C \
		--auth-local=trust --auth-host=scram-sha-256 \
		--pwfile="$DIR/$NAME.sock/pw" >"$DIR/$NAME.log" 2>&1 ||
		die "initdb failed (log: $DIR/$NAME.log)"
	rm "$DIR/$NAME.sock/pw"
	cat >>"$DATA/postgresql.conf" <<-EOF
		listen_addresses = '127.0.0.1'
		password_encryption = scram-sha-256
		wal_level = replica
		max_wal_senders = 10
		wal_keep_size = 128MB
		hot_standby = on
		max_connections = ${PG_MAX_CONNECTIONS:-100}
		include 'node.conf'
	EOF
	cat >"$DATA/pg_hba.conf" <<-EOF
		local	all		postgres			trust
		host	all		all		127.0.0.1/32	scram-sha-256
		host	replication	all		127.0.0.1/32	scram-sha-256
	EOF
	launch
	sql 'CREATE DATABASE jitd' >/dev/null
	tcp_ready
}

cmd_standby() {
	local primary=$1 pport
	DATA=$DIR/$primary NAME=$primary running || die "primary $primary does not run in $DIR"
	pport=$(NAME=$primary port)
	fresh
	cp "$DIR/$primary.pw" "$DIR/$NAME.pw"
	PGPASSWORD=$(cat "$DIR/$NAME.pw") as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 \
		-p "$pport" -U postgres -D "$DATA" -R -X stream -c fast \
		>"$DIR/$NAME.log" 2>&1 || die "pg_basebackup from $primary failed (log: $DIR/$NAME.log)"
	launch
	tcp_ready
}

# cmd_resume: start a stopped DIR/NAME again, its data and port kept.
cmd_resume() {
	[ -f "$DATA/PG_VERSION" ] || die "no cluster $NAME in $DIR"
	running && die "$NAME already runs"
	pg_ctl -l "$DIR/$NAME.log" -w -t "$TIMEOUT" start >/dev/null 2>&1 ||
		die "$NAME failed to start again (log: $DIR/$NAME.log)"
	tcp_ready
}

cmd_promote() {
	local end=$((SECONDS + TIMEOUT))
	running || die "$NAME does not run"
	pg_ctl -w -t "$TIMEOUT" promote >/dev/null || die "$NAME: pg_ctl promote failed"
	until [ "$(sql 'SELECT pg_is_in_recovery()')" = f ]; do
		[ "$SECONDS" -lt "$end" ] || die "$NAME still in recovery after ${TIMEOUT}s"
		sleep 0.2
	done
}

# cmd_stop: fast shutdown, waiting for the postmaster itself (pg_ctl stop -w would wait
# TIMEOUT for the pid file of a killed one).
cmd_stop() {
	local end=$((SECONDS + TIMEOUT))
	running || return 0
	pg_ctl -m fast -W stop >/dev/null 2>&1 || true
	while running; do
		[ "$SECONDS" -lt "$end" ] || die "$NAME did not stop within ${TIMEOUT}s"
		sleep 0.1
	done
}

cmd_stop_all() {
	local d rc=0
	for d in "$DIR"/*/PG_VERSION; do
		[ -f "$d" ] || continue
		d=${d%/PG_VERSION}
		(NAME=${d##*/} DATA=$d cmd_stop) || rc=1
	done
	return "$rc"
}

[ $# -ge 2 ] || usage
CMD=$1
if [ "$CMD" = start ]; then
	(umask 022 && mkdir -p "$2")
elif [ ! -d "$2" ]; then
	[[ $CMD == stop* ]] && exit 0
	die "no directory $2"
fi
DIR=$(cd "$2" && pwd)
umask 077
if [ "$CMD" = stop-all ]; then
	[ $# -eq 2 ] || usage
	cmd_stop_all
	exit
fi
[ $# -ge 3 ] || usage
NAME=$3
[[ $NAME =~ ^[A-Za-z0-9_-]+$ ]] || die "bad name '$NAME' (letters, digits, _ and - only)"
DATA=$DIR/$NAME
[ $((${#DIR} + ${#NAME} + 22)) -le 107 ] || die "$DIR is too long for a unix socket path"

case "$CMD $#" in
"start 3") cmd_start ;;
"standby 4") cmd_standby "$4" ;;
"promote 3") cmd_promote ;;
"resume 3") cmd_resume ;;
"stop 3") cmd_stop ;;
"port 3") port ;;
"conninfo 3") cat "$DIR/$NAME.conninfo" ;;
*) usage ;;
esac
