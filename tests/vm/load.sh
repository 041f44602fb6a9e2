#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# load.sh: the audit stream under load (`make bench-load`, `tests/vm/run.sh BUILD load`; not
# judged). jitd protects one file; alice (uid 1001, not exempt) opens it at a set rate for
# LOAD_SECONDS (60) a step, each open a denial and one audit record (tests/bench/loadgen.c),
# at each rate of LOAD_RATES (5k to 50k a second). A step reads `jitctl status --json` before
# and after (records.written: the chain's sequence; records.dropped: ring-buffer reserve
# failures) and the agent's CPU time (/proc/PID/stat), times one `jitctl status` halfway
# through; then waits until jitd has written what the ring buffer held (the drain). First the
# generator alone (no jitd): how fast it opens. Then the allowed phase: alice granted, each
# open an allow aggregated in the kernel, at LOAD_ALLOW_RATES (50,000 a second): records,
# drops, and whether the records' counts add up to the opens.
# The audit file is emptied whenever it passes 64 MiB (the VM's root is in RAM): jitd appends
# (O_APPEND), its chain's sequence counts what it wrote.
. /tests/lib.sh

RATES=$(kparam jitd.loadrates "")
[ -n "$RATES" ] || RATES=5000,10000,20000,30000,50000
SECS=$(kparam jitd.loadsecs "")
[ -n "$SECS" ] || SECS=60
GEN=/tests/loadgen
FILE=/srv/load/secret.txt
JITD_POLICY=/tmp/load-policy.json
JITD_STATE=/var/lib/jitd-load
HZ=100 # USER_HZ: the unit of /proc/PID/stat's times
TABLE=/tmp/load-table

mkdir -p /srv/load && echo s >"$FILE" && chmod 644 "$FILE"
cat >"$JITD_POLICY" <<EOF
{"version": 1, "serial": 1,
 "resources": {"secret": {"open": ["$FILE"]}},
 "exempt": {"uids": [0]}, "admins": ["group:jit-admins"], "rules": []}
EOF

echo "load: kernel $(uname -r), $(nproc) cpu(s), $SECS s a step, rates $RATES"
echo "clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null); $("$GEN" clock)"
# the audit pipeline alone (format, chain, write), as make bench-audit on the host
if [ -x /tests/audit_bench ]; then
	echo "audit_bench in the VM, to a file: $(/tests/audit_bench 20000 2>/dev/null | tail -n 1)"
	echo "audit_bench in the VM, to /dev/null: $(/tests/audit_bench 20000 /dev/null 2>/dev/null | tail -n 1)"
fi
# the generator alone: no jitd, each open allowed (no LSM program, no record)
"$GEN" 1001 0 10 "$FILE" >/tmp/gen-alone
echo "generator alone (no jitd, 10 s, as fast as it can): $(cat /tmp/gen-alone)"
GEN_ALONE=$(sed -n 's/.*achieved=\([0-9]*\).*/\1/p' /tmp/gen-alone)

start_jitd load-jitd-starts || exit 1
# LOAD_NICE: jitd's nice value (a systemd unit's Nice=), against a generator at 0
NICE=$(kparam jitd.loadnice "")
[ -z "$NICE" ] || renice -n "$NICE" -p "$JITD_PID" >/dev/null
echo "jitd nice: $(awk '{ print $19 }' "/proc/$JITD_PID/stat")"

# status_json: `jitctl status --json` into /tmp/.load-status; field KEY: from its records
# object (0 when absent).
status_json() {
	_n=0
	until jitctl status --json >/tmp/.load-status 2>/dev/null &&
		grep -q '"records"' /tmp/.load-status; do
		_n=$((_n + 1))
		[ $_n -lt 30 ] || {
			echo "load: jitctl status --json failed 30 times: $(head -c 300 /tmp/.load-status)"
			break
		}
		sleep 1
	done
}
# drain: wait until records.written stops moving (2 s), at most 300 s.
drain() {
	status_json
	_prev=$(field written)
	_still=0
	_i=0
	while [ $_still -lt 2 ] && [ $_i -lt 300 ]; do
		sleep 1
		status_json
		_cur=$(field written)
		if [ "$_cur" = "$_prev" ]; then _still=$((_still + 1)); else _still=0; fi
		_prev=$_cur
		_i=$((_i + 1))
	done
}
field() {
	_v=$(tr -d ' \n' </tmp/.load-status | grep -o "\"records\":{[^}]*}" |
		grep -o "\"$1\":[0-9]*" | grep -o '[0-9]*$')
	echo "${_v:-0}"
}
# cpu_ticks: jitd's user + system time in clock ticks.
cpu_ticks() {
	# the comm field has no spaces ("(jitd)"): fields 14 and 15 are utime and stime
	awk '{ print $14 + $15 }' "/proc/$JITD_PID/stat"
}

# trimmer: while the file $1 exists, empty the audit file whenever it passes 64 MiB.
trimmer() {
	while [ -e "$1" ]; do
		_sz=$(stat -c %s "$AUDIT" 2>/dev/null || echo 0)
		[ "$_sz" -lt 67108864 ] || : >"$AUDIT"
		sleep 1
	done
}

touch /tmp/.load-trim
trimmer /tmp/.load-trim &
tpid=$!

# the generator at its fastest with jitd (each open a denial) for 1 s, then 5 s: a burst the
# ring buffer must hold while the agent catches up
for burst in 1 5; do
	status_json
	d0=$(field dropped)
	"$GEN" 1001 0 $burst "$FILE" >/tmp/gen-jitd
	drain
	sleep 1.5
	status_json
	echo "burst of $burst s at full speed with jitd (each open denied): $(cat /tmp/gen-jitd); dropped $(($(field dropped) - d0))"
done

printf '%-8s %-10s %-10s %-9s %-8s %-7s %-7s %-9s %s\n' asked/s achieved/s written/s dropped \
	"drain s" "cpu %" lost "status s" "records written: in window / after drain" >"$TABLE"
first_drop=""
for rate in $(echo "$RATES" | tr ',' ' '); do
	status_json
	w0=$(field written)
	d0=$(field dropped)
	c0=$(cpu_ticks)
	t0=$(now)
	"$GEN" 1001 "$rate" "$SECS" "$FILE" >/tmp/gen-out &
	gpid=$!
	# halfway: how long `jitctl status` takes to answer while the agent is flooded
	sleep $((SECS / 2))
	ts=$(now)
	jitctl status >/dev/null 2>&1
	st=$(fsub "$(now)" "$ts")
	wait "$gpid"
	t1=$(now)
	c1=$(cpu_ticks)
	status_json
	w1=$(field written)
	drain
	t2=$(now)
	# one more second: the drops check turns the step's drops into a records_dropped record
	sleep 1.5
	status_json
	w2=$(field written)
	d2=$(field dropped)
	rep=$(field dropped_reported)
	opens=$(sed -n 's/.* opens=\([0-9]*\).*/\1/p' /tmp/gen-out)
	denied=$(sed -n 's/.* denied=\([0-9]*\).*/\1/p' /tmp/gen-out)
	achieved=$(sed -n 's/.*achieved=\([0-9]*\).*/\1/p' /tmp/gen-out)
	dropped=$((d2 - d0))
	# records no one can account for: denials neither written nor counted as dropped (the
	# written count also holds the few agent events, records_dropped among them)
	lost=$((denied - (w2 - w0) - dropped))
	[ "$lost" -ge 0 ] || lost=0
	awk -v r="$rate" -v a="$achieved" -v w0="$w0" -v w1="$w1" -v w2="$w2" -v t0="$t0" \
		-v t1="$t1" -v t2="$t2" -v d="$dropped" -v c0="$c0" -v c1="$c1" -v hz=$HZ \
		-v lost="$lost" -v st="$st" 'BEGIN {
		win = t1 - t0; if (win <= 0) win = 1
		printf "%-8d %-10d %-10d %-9d %-8.1f %-7.1f %-7d %-9.2f %d / %d\n", r, a,
			(w1 - w0) / win, d, t2 - t1, (c1 - c0) / hz / win * 100, lost, st, w1 - w0,
			w2 - w0 }' >>"$TABLE"
	echo "step $rate/s: $(cat /tmp/gen-out); written $((w2 - w0)), dropped $dropped (reported in the stream: $rep in all)"
	[ -n "$first_drop" ] || [ "$dropped" = 0 ] || first_drop=$rate
	[ "$opens" = "$denied" ] || echo "step $rate/s: $((opens - denied)) opens were not denied"
done

rm -f /tmp/.load-trim
wait "$tpid"

# The allowed phase: alice granted the file, each open an allow that jitd's default
# --audit-aggregate (5 s) counts in the kernel (a full first record, then one record with a
# count per interval). Every open must be accounted for: the counts of the generator's
# records (a record without "count" counts 1) add up to its opens, with nothing dropped.
AL_RATES=$(kparam jitd.loadallow "")
[ -n "$AL_RATES" ] || AL_RATES=50000
ATABLE=/tmp/load-allow-table
printf '%-8s %-10s %-9s %-8s %-7s %-8s %-9s %s\n' asked/s achieved/s opens dropped "cpu %" \
	records "counted" "accounted" >"$ATABLE"
: >"$AUDIT" # the denial steps' records: only this phase's are counted below
if grant_or_fail load-grant secret --user alice --for 7200s >/dev/null; then
	for rate in $(echo "$AL_RATES" | tr ',' ' '); do
		status_json
		d0=$(field dropped)
		c0=$(cpu_ticks)
		t0=$(now)
		"$GEN" 1001 "$rate" "$SECS" "$FILE" >/tmp/gen-out &
		gpid=$!
		wait "$gpid"
		t1=$(now)
		c1=$(cpu_ticks)
		opens=$(sed -n 's/.* opens=\([0-9]*\).*/\1/p' /tmp/gen-out)
		allowed=$(sed -n 's/.* allowed=\([0-9]*\).*/\1/p' /tmp/gen-out)
		achieved=$(sed -n 's/.*achieved=\([0-9]*\).*/\1/p' /tmp/gen-out)
		# the generator's records: harvested one to two intervals after their interval ends
		pat="\"actor\": ?\\{\"process\": ?\\{[^}]*\"pid\": ?$gpid[,}]"
		_w=0
		while [ $_w -lt 60 ]; do
			counted=$(audit_lines "$(jres secret)" "$(jkey decision)\"allow\"" "$pat" |
				awk '{ if (match($0, /"count": ?[0-9]+/)) { s = substr($0, RSTART, RLENGTH); sub(/.*: ?/, "", s); t += s } else t += 1 } END { print t + 0 }')
			[ "$counted" != "$allowed" ] || break
			sleep 1
			_w=$((_w + 1))
		done
		nrec=$(audit_lines "$(jres secret)" "$(jkey decision)\"allow\"" "$pat" | wc -l)
		status_json
		dropped=$(($(field dropped) - d0))
		acc=no
		[ "$counted" != "$allowed" ] || [ "$allowed" != "$opens" ] || acc=yes
		awk -v r="$rate" -v a="$achieved" -v o="$opens" -v d="$dropped" -v c0="$c0" -v c1="$c1" \
			-v hz=$HZ -v t0="$t0" -v t1="$t1" -v n="$nrec" -v k="$counted" -v acc="$acc" 'BEGIN {
			win = t1 - t0; if (win <= 0) win = 1
			printf "%-8d %-10d %-9d %-8d %-7.1f %-8d %-9d %s\n", r, a, o, d,
				(c1 - c0) / hz / win * 100, n, k, acc }' >>"$ATABLE"
		echo "allowed step $rate/s: $(cat /tmp/gen-out); $nrec records counting $counted allows, dropped $dropped"
	done
fi

echo "=== audit under load: $(nproc) vCPU(s), jitd nice ${NICE:-0}, $SECS s a step (kernel $(uname -r)) ==="
echo "generator alone (no jitd): $GEN_ALONE opens/s; with jitd denying each: $(sed -n 's/.*achieved=\([0-9]*\).*/\1/p' /tmp/gen-jitd) opens/s (5 s)"
cat "$TABLE"
echo "drops begin at: ${first_drop:-none of the rates asked}"
echo "allowed opens under a grant, aggregated in the kernel ($SECS s a step):"
cat "$ATABLE"
stop_jitd
