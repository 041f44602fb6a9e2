#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# seal-host.sh BUILD LOG: the host's half of the seal part (tests/vm/seal.sh). The VM
# printed its verification key, a checkpoint and its untouched audit file (base64) on the
# console; here, off the host that wrote it, the host's jitctl verifies the file with the
# key, and catches what an attacker with the file and README's recipe would do: edit a
# record of an early epoch and re-hash everything after it (the chain then verifies), cut
# the tail (the checkpoint shows it), or present another host's key.
# Prints "PASS name" / "FAIL name: why" lines; run.sh tags them.
set -uo pipefail

BUILD=$1
LOG=$2
JITCTL=$BUILD/jitctl
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

pass() { echo "PASS seal-host-$1"; }
fail() { echo "FAIL seal-host-$1: $2"; }
# check NAME WHY CMD...
check() {
	local n=$1 w=$2
	shift 2
	if "$@" >/dev/null 2>&1; then pass "$n"; else fail "$n" "$w"; fi
}

KEY=$(sed -n 's/^JITD-SEAL-KEY \(jitd1-[0-9a-f-]*\)$/\1/p' "$LOG" | tail -n 1)
CP=$(sed -n 's/^JITD-SEAL-CHECKPOINT \(jitd-checkpoint1-[0-9a-f-]*\)$/\1/p' "$LOG" | tail -n 1)
sed -n '/^JITD-SEAL-FILE-BEGIN$/,/^JITD-SEAL-FILE-END$/p' "$LOG" | sed '1d;$d' |
	base64 -d >"$T/audit.jsonl" 2>/dev/null
if [ -z "$KEY" ] || [ -z "$CP" ] || [ ! -s "$T/audit.jsonl" ]; then
	fail got-the-vm-file "the VM printed no key, checkpoint or file (see $LOG)"
	exit 0
fi
pass got-the-vm-file
echo "$KEY" >"$T/key"

out=$("$JITCTL" audit verify --key "@$T/key" --since-checkpoint "$CP" "$T/audit.jsonl" 2>&1)
rc=$?
echo "host verify: $(echo "$out" | head -n 4 | tr '\n' '|')"
check untouched-verifies "exit $rc: $out" test "$rc" = 0
check untouched-nothing-broken "got: $(echo "$out" | head -n 1)" grep -qE '^(OK|WARNING) ' <<<"$out"

# The attacker's recipe: edit the 4th record, re-hash from there on.
python3 - "$T/audit.jsonl" "$T/rehashed.jsonl" <<'EOF'
import hashlib, json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
out, prev = [], None
for i, line in enumerate(lines):
    rec = json.loads(line)
    um = rec["unmapped"]
    if i >= 3:
        if i == 3:
            rec["time"] = rec["time"] + 1000
        um["prev_hash"] = prev
        if "sealed_hash" in um.get("jitd", {}):
            um["jitd"]["sealed_hash"] = prev
        um.pop("hash")
        canon = json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        um["hash"] = hashlib.sha256(canon.encode()).hexdigest()
        line = json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    prev = um["hash"]
    out.append(line)
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(out) + "\n")
EOF
out=$("$JITCTL" audit verify "$T/rehashed.jsonl" 2>&1)
rc=$?
check rehashed-chain-alone-verifies "exit $rc (the recipe must work, else this test proves nothing): $out" test "$rc" = 0
out=$("$JITCTL" audit verify --key "@$T/key" "$T/rehashed.jsonl" 2>&1)
rc=$?
check rehashed-caught-by-the-key "exit $rc: $out" test "$rc" = 1
check rehashed-names-the-seal "got: $(echo "$out" | head -n 1)" grep -qE '^BROKEN .*the seal \(epoch [0-9]+\) does not match' <<<"$out"

n=$(wc -l <"$T/audit.jsonl")
head -n $((n - 3)) "$T/audit.jsonl" >"$T/cut.jsonl"
out=$("$JITCTL" audit verify --key "@$T/key" --since-checkpoint "$CP" "$T/cut.jsonl" 2>&1)
rc=$?
check cut-tail-caught-by-the-checkpoint "exit $rc: $out" grep -q 'tail was cut' <<<"$out"

other="jitd1-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')-$(echo "$KEY" | cut -d- -f3)-$(echo "$KEY" | cut -d- -f4)"
out=$("$JITCTL" audit verify --key "$other" "$T/audit.jsonl" 2>&1)
rc=$?
check another-hosts-key-fails "exit $rc: $out" test "$rc" = 1
check another-hosts-key-says-so "got: $(echo "$out" | head -n 1)" grep -q 'sealed with another key' <<<"$out"
exit 0
