# SPDX-License-Identifier: GPL-2.0-only
#
# Helpers for the scripts that run inside the test VM (busybox sh). Source it:
#	. /tests/lib.sh
#
# Results are lines "PASS name", "FAIL name: why", "SKIP name: why" on the console;
# tests/vm/run.sh tags them with the kernel version.

PROBE=/tests/probe
# The host's loopback as a VM with the network sees it (qemu's user network; a part asks for
# it with a line "# jitd-vm: net", see tests/vm/run.sh).
# shellcheck disable=SC2034 # for the parts that source this file
HOST_ADDR=10.0.2.2
JITD_SOCK=/run/jitd/jitd.sock
JITD_STATE=/var/lib/jitd
JITD_LOGDIR=/var/log/jitd
JITD_LOG=$JITD_LOGDIR/jitd.log
AUDIT=$JITD_LOGDIR/audit.jsonl
JITD_POLICY=${JITD_POLICY:-/tests/policy.json}
JITD_PID=""
N_PASS=0
N_FAIL=0
N_SKIP=0

pass() {
	N_PASS=$((N_PASS + 1))
	echo "PASS $1"
}

# fail NAME WHY
fail() {
	N_FAIL=$((N_FAIL + 1))
	echo "FAIL $1: $2"
}

# skip NAME WHY
skip() {
	N_SKIP=$((N_SKIP + 1))
	echo "SKIP $1: $2"
}

# check NAME WHY-IF-FALSE CONDITION...: pass if the command succeeds (its output is dropped).
check() {
	_name=$1
	_why=$2
	shift 2
	if "$@" >/dev/null 2>&1; then
		pass "$_name"
	else
		fail "$_name" "$_why"
	fi
}

# kparam NAME [DEFAULT]: the value of NAME=VALUE on the kernel command line, where run.sh
# passes what a part's VMs must know (jitd.vm, the number of the VM when a part boots several
# at once; the ports of the host's services), else DEFAULT.
kparam() {
	read -r _cmdline </proc/cmdline
	for _kp in $_cmdline; do
		case "$_kp" in "$1="*)
			echo "${_kp#*=}"
			return 0
			;;
		esac
	done
	echo "${2:-}"
}

# The uptime in seconds with two decimals (boot clock, like the grants' expiry).
now() {
	read -r _up _idle </proc/uptime
	echo "$_up"
}

# fsub A B: A - B, two decimals.
fsub() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'
}

# fcmp A OP B: true when A OP B holds (OP: lt le gt ge).
fcmp() {
	awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN {
		if (op == "lt") exit !(a < b); if (op == "le") exit !(a <= b)
		if (op == "gt") exit !(a > b); exit !(a >= b) }'
}

# result CMD...: run a probe command line; print its last output line ("ok", "EPERM", ...).
result() {
	"$@" >/tmp/.probe.out 2>/tmp/.probe.err
	_rc=$?
	_out=$(tail -n 1 /tmp/.probe.out)
	[ -n "$_out" ] || _out="(no output, exit $_rc)"
	echo "$_out"
}

# expect NAME EXPECTED CMD...: run CMD (a probe command line) and compare its answer.
expect() {
	_ename=$1
	_want=$2
	shift 2
	_got=$(result "$@")
	if [ "$_got" = "$_want" ]; then
		pass "$_ename"
	else
		fail "$_ename" "expected $_want, got $_got from: $* $(head -c 300 /tmp/.probe.err | tr '\n' ' ')"
	fi
}

# as UID CMD...: run CMD as that uid (gid = uid, no supplementary groups).
as() {
	_uid=$1
	shift
	"$PROBE" as "$_uid" "$@"
}

# Print jitd's error lines and the tail of its log (after a failure), indented. The
# verifier's log can be long: the lines that say what went wrong come first.
show_jitd_log() {
	echo "---- $JITD_LOG: error lines ----"
	grep -iE 'error|fail|invalid|denied|refus|cannot|unknown|R[0-9]+ .*(!|expected)|not allowed|-E[A-Z]+' \
		"$JITD_LOG" 2>/dev/null | grep -v '^[0-9]*: (' | head -n 25 | sed 's/^/    /'
	echo "---- $JITD_LOG (last ${1:-40} lines) ----"
	tail -n "${1:-40}" "$JITD_LOG" 2>/dev/null | sed 's/^/    /'
	echo "----"
}

# start_jitd [NAME [ARG...]]: start jitd in the background and wait until `jitctl status` says it
# enforces (up to JITD_START_WAIT seconds, default 120: TCG is slow, the verifier slower). Reports NAME (default
# jitd-start) as PASS or FAIL. ARGs go to jitd as they are, after JITD_ARGS (which is split
# on spaces): for an option whose value has spaces, like --fleet's conninfo.
start_jitd() {
	_sname=${1:-jitd-start}
	[ $# = 0 ] || shift
	mkdir -p /run/jitd "$JITD_STATE" "$JITD_LOGDIR"
	# shellcheck disable=SC2086 # JITD_ARGS: extra options, split on purpose
	jitd --policy "$JITD_POLICY" --socket "$JITD_SOCK" --state-dir "$JITD_STATE" \
		--audit-file "$AUDIT" ${JITD_ARGS:-} "$@" >>"$JITD_LOG" 2>&1 &
	JITD_PID=$!
	_t0=$(now)
	_i=0
	while [ $_i -lt $((${JITD_START_WAIT:-120} * 5)) ]; do
		if jitctl status >/tmp/.status.out 2>&1; then
			pass "$_sname"
			echo "jitd pid $JITD_PID enforcing after $(fsub "$(now)" "$_t0")s"
			return 0
		fi
		if ! kill -0 "$JITD_PID" 2>/dev/null; then
			wait "$JITD_PID"
			fail "$_sname" "jitd exited with status $? before it was ready"
			show_jitd_log
			JITD_PID=""
			return 1
		fi
		sleep 0.2
		_i=$((_i + 1))
	done
	fail "$_sname" "jitctl status not 0 after ${JITD_START_WAIT:-120} s: $(tr '\n' ' ' </tmp/.status.out | head -c 300)"
	show_jitd_log
	return 1
}

# stop_jitd: SIGTERM, wait for it to exit (10 s), else SIGKILL.
stop_jitd() {
	[ -n "$JITD_PID" ] || return 0
	kill "$JITD_PID" 2>/dev/null
	_i=0
	while kill -0 "$JITD_PID" 2>/dev/null && [ $_i -lt 50 ]; do
		sleep 0.2
		_i=$((_i + 1))
	done
	kill -9 "$JITD_PID" 2>/dev/null
	wait "$JITD_PID" 2>/dev/null
	JITD_PID=""
}

# kill9_jitd: kill -9 and reap it, as a crash would.
kill9_jitd() {
	[ -n "$JITD_PID" ] || return 0
	kill -9 "$JITD_PID" 2>/dev/null
	wait "$JITD_PID" 2>/dev/null
	JITD_PID=""
}

# grant ARGS...: `jitctl grant ARGS` as root; prints the new grant id (nothing on failure,
# with jitctl's output on stderr).
grant() {
	_gout=$(jitctl grant "$@" 2>&1)
	_grc=$?
	_gid=""
	if [ $_grc = 0 ]; then
		case "$_gout" in
		*[!0-9]* | '')
			_gid=$(echo "$_gout" | grep -o '"id" *: *[0-9][0-9]*' | head -n 1 | grep -o '[0-9]*$')
			[ -n "$_gid" ] || _gid=$(echo "$_gout" | grep -o '[0-9][0-9]*' | head -n 1)
			;;
		*) _gid=$_gout ;;
		esac
	fi
	if [ -z "$_gid" ]; then
		echo "jitctl grant $* failed (exit $_grc): $_gout" >&2
		return 1
	fi
	echo "$_gid"
}

# revoke ID: `jitctl revoke ID`; output only on failure.
revoke() {
	_rout=$(jitctl revoke "$1" 2>&1) || {
		echo "jitctl revoke $1 failed: $_rout" >&2
		return 1
	}
}

# ---- audit file helpers (OCSF JSON lines; jitd may or may not put spaces after ':' and ',')

# audit_lines PATTERN...: the decision lines of the audit file (unmapped.jitd.decision)
# matching every extended regex given (each may use '": ?' for optional spaces).
audit_lines() {
	_al=$(grep -E '"decision": ?"(allow|deny)"' "$AUDIT" 2>/dev/null)
	for _p in "$@"; do
		_al=$(echo "$_al" | grep -E -- "$_p")
	done
	[ -n "$_al" ] && echo "$_al"
}

# wait_audit SECONDS PATTERN...: wait until audit_lines PATTERN... finds something.
wait_audit() {
	_w=$(($1 * 5))
	shift
	while [ $_w -gt 0 ]; do
		audit_lines "$@" >/dev/null && return 0
		sleep 0.2
		_w=$((_w - 1))
	done
	audit_lines "$@" >/dev/null
}

# jkey KEY: a regex for "KEY": with optional space.
jkey() {
	echo "\"$1\": ?"
}

# juid N: a regex for an OCSF user uid (actor.user or actor.process.user) equal to N.
juid() {
	echo "\"uid\": ?\"$1\""
}

# jres NAME: a regex for the record's resource (OCSF policy.name).
jres() {
	echo "\"policy\": ?\\{\"name\": ?\"$1\""
}

# ---- grants and requests through jitctl

# grant_or_fail NAME ARGS...: make a grant, report NAME, print its id.
grant_or_fail() {
	_gn=$1
	shift
	if _id=$(grant "$@" 2>/tmp/.grant.err); then
		pass "$_gn" >&2
		echo "$_id"
	else
		fail "$_gn" "$(tr '\n' ' ' </tmp/.grant.err)" >&2
		return 1
	fi
}

# contains TEXT REGEX: TEXT matches the extended REGEX.
contains() {
	echo "$1" | grep -qE -- "$2"
}

# asj UID ARGS...: jitctl ARGS as UID; exit in $RC, the first line of stdout (an id) in
# $ID, stdout then stderr in $OUT.
asj() {
	_u=$1
	shift
	OUT=$($PROBE as "$_u" jitctl "$@" 2>/tmp/.asj.err)
	RC=$?
	ID=$(echo "$OUT" | head -n 1)
	OUT="$OUT $(cat /tmp/.asj.err)"
}

# jfield ID KEY: a string field of grant ID as root sees it (jitctl show --json).
jfield() {
	jitctl show "$1" --json 2>/dev/null | grep -o "\"$2\": *\"[^\"]*\"" | head -n 1 |
		sed 's/.*: *"\(.*\)"/\1/'
}

# wait_for SECONDS CMD...: run CMD every 0.2 s until it succeeds (0) or SECONDS pass (1).
wait_for() {
	_wf=$(($1 * 5))
	shift
	while [ $_wf -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
		_wf=$((_wf - 1))
	done
	return 1
}

# state_is ID STATE: grant ID is in STATE.
state_is() {
	[ "$(jfield "$1" state)" = "$2" ]
}

# wait_state ID STATE SECONDS: poll until grant ID is in STATE.
wait_state() {
	wait_for "$3" state_is "$1" "$2"
}

# wait_ok UID SECONDS CMD...: poll CMD as UID until it answers ok; T_OK_BEFORE/T_OK_AFTER.
wait_ok() {
	_wuid=$1
	_wend=$(awk -v a="$(now)" -v b="$2" 'BEGIN { printf "%.2f", a + b }')
	shift 2
	T_OK_BEFORE=""
	T_OK_AFTER=""
	while fcmp "$(now)" lt "$_wend"; do
		_tb=$(now)
		_r=$(result $PROBE as "$_wuid" "$@")
		if [ "$_r" = ok ]; then
			T_OK_BEFORE=$_tb
			T_OK_AFTER=$(now)
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# mount_persist: the systemd VM's disk (/dev/nvme0n1, ext4, made by run.sh) on /persist,
# with jitd's state and log directories on it, so that they survive the reboot test. Done
# at boot before local-fs.target by jitd-vm-persist.service (jitd.service starts early and
# must find them there); the tests' call then only checks.
mount_persist() {
	grep -q ' /var/log/jitd ' /proc/self/mounts && return 0
	mkdir -p /persist /var/lib/jitd /var/log/jitd
	# no udev in the VM: wait for the kernel's own node
	_mp=0
	while [ ! -b /dev/nvme0n1 ] && [ $_mp -lt 600 ]; do
		sleep 0.1
		_mp=$((_mp + 1))
	done
	timeout 60 mount /dev/nvme0n1 /persist || return 1
	mkdir -p /persist/lib /persist/log
	mount --bind /persist/lib /var/lib/jitd && mount --bind /persist/log /var/log/jitd
}

# ---- attack checks (attack.sh, guard.sh)

# audit_count OP: deny records of jitd's for operation OP so far.
audit_count() {
	audit_lines "$(jkey decision)\"deny\"" "$(jkey op)\"$1\"" | wc -l
}

# audit_more OP N: more than N deny records for OP.
audit_more() {
	[ "$(audit_count "$1")" -gt "$2" ]
}

# denied NAME OP CMD...: CMD answers EPERM (or $DENY_ERR, where the kernel reports jitd's
# EPERM as another error), and jitd records a new denial of OP.
denied() {
	_dn=$1
	_dop=$2
	shift 2
	_db=$(audit_count "$_dop")
	expect "$_dn" "${DENY_ERR:-EPERM}" "$@"
	if wait_for 10 audit_more "$_dop" "$_db"; then
		pass "$_dn-audited"
	else
		fail "$_dn-audited" "no new deny record with op $_dop in $AUDIT; last: $(audit_lines |
			tail -n 1 | grep -oE '"(op|message)": ?"[^"]*"' | tr '\n' ' ')"
	fi
}

# not_eperm NAME CMD...: CMD is not refused by jitd (ok, or an error of the file system's).
not_eperm() {
	_nn=$1
	shift
	_got=$(result "$@")
	if [ "$_got" = EPERM ]; then
		fail "$_nn" "EPERM from: $*"
	else
		pass "$_nn"
		[ "$_got" = ok ] || echo "$_nn: answered $_got (not jitd's)"
	fi
}
