#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# seal.sh: forward-secure sealing of the audit stream (a part of the suite, on one kernel;
# `tests/vm/run.sh BUILD seal` boots it alone). jitctl audit seal-init makes a key that
# evolves every 4 s; jitd runs across key evolutions, a clean restart and a kill -9; the
# key file is jitd's alone (a governed root can neither read, list, link nor open it by
# handle); the old key is gone from disk after each evolution. Then root tampers with the
# file and verify with the verification key says so. The untouched file, the verification
# key and a checkpoint go to the console, for tests/vm/seal-host.sh to verify from the host.
. /tests/lib.sh

P=$PROBE
GOV="$P loginuid 1001" # governed root: uid 0, login uid alice
KEYFILE=$JITD_STATE/seal/audit-seal.key
INTERVAL=4

mkdir -p /srv
echo s >/srv/secret.txt && chmod 644 /srv/secret.txt

start_jitd seal-jitd-starts || exit 1
out=$(jitctl status --json 2>&1)
check seal-off-until-init "status: $out" contains "$out" '"sealing": *false'
check seal-dir-made-by-jitd "no $JITD_STATE/seal" test -d "$JITD_STATE/seal"

out=$(jitctl audit seal-init --interval ${INTERVAL}s --json 2>&1)
rc=$?
VKEY=$(echo "$out" | grep -oE 'jitd1-[0-9a-f]{64}-[0-9]+-[0-9]+' | head -n 1)
check seal-init-ok "exit $rc: $out" test "$rc" = 0
check seal-init-gives-the-verification-key "got: $out" contains "$VKEY" "^jitd1-[0-9a-f]{64}-[0-9]+-$INTERVAL\$"
echo "$VKEY" >/tmp/vkey
out=$(jitctl audit seal-init 2>&1)
rc=$?
check seal-init-again-refused "exit $rc: $out" test "$rc" = 1
check seal-init-again-says-why "got: $out" contains "$out" 'already on.*--force'
out=$(jitctl status --json 2>&1)
check seal-on-in-status "status: $out" contains "$out" '"sealing": *true'
out=$(jitctl status 2>&1)
check seal-on-in-status-text "status: $out" contains "$out" "^sealing: +on, key [0-9a-f]{16}, every ${INTERVAL}s"

# The key is jitd's alone.
check seal-key-file-two-copies "size $(stat -c %s "$KEYFILE")" test "$(stat -c %s "$KEYFILE")" = 8192
out=$($GOV jitctl audit seal-init --force 2>&1)
rc=$?
check seal-init-refused-to-governed-root "exit $rc: $out" test "$rc" = 1
check seal-init-governed-root-says-why "got: $out" contains "$out" 'exempt'
check seal-key-file-mode-0600 "mode $(stat -c %a "$KEYFILE" 2>&1)" test "$(stat -c %a "$KEYFILE")" = 600
denied seal-gov-root-cannot-read-key open $GOV $P open "$KEYFILE"
denied seal-gov-root-cannot-list-seal-dir open $GOV $P open "$JITD_STATE/seal"
denied seal-gov-root-cannot-link-key-out link $GOV $P link "$KEYFILE" /var/lib/key-link
expect seal-gov-root-cannot-open-key-by-handle EPERM $GOV $P byhandle "$KEYFILE" /
expect seal-exempt-root-reads-key ok $P open "$KEYFILE"
expect seal-gov-root-still-reads-the-state-dir ok $GOV $P open "$JITD_STATE/jitd.lock"

# the key file: two copies of "jitd-seal-state2 GEN KEYID EPOCH START INTERVAL KEY", one per block
key_epoch() { head -n 1 "$KEYFILE" | cut -d' ' -f4; }
key_hex() { head -n 1 "$KEYFILE" | cut -d' ' -f7; }
key_epoch_at_least() { [ "$(key_epoch)" -ge "$1" ]; }
E0=$(key_epoch)
K0=$(key_hex)

# Traffic across two evolutions.
G1=$(grant_or_fail seal-grant-bob secrets --user bob --for 60s)
$P as 1002 $P open /srv/secret.txt >/dev/null 2>&1
$P as 1001 $P open /srv/secret.txt >/dev/null 2>&1
check seal-key-evolves-twice "epoch $(key_epoch), started at $E0" wait_for 20 key_epoch_at_least $((E0 + 2))
K2=$(key_hex)
check seal-key-changed "the key is the same" test "$K0" != "$K2"
check seal-old-key-gone-from-files "the epoch-$E0 key is still in a file" \
	sh -c "! grep -rqaF '$K0' '$JITD_STATE' /var/log/jitd /tmp/vkey"
n=$(grep -c '"event":"sealed"' "$AUDIT")
check seal-a-seal-per-epoch "$n seal records" test "$n" -ge 3

# A clean stop ends with a final seal and leaves the key one epoch on.
E_STOP=$(key_epoch)
stop_jitd
last=$(tail -n 1 "$AUDIT")
check seal-stop-ends-with-a-final-seal "last record: $(echo "$last" | head -c 300)" \
	contains "$last" '"event":"sealed".*"final":true|"final":true.*"event":"sealed"'
check seal-stop-evolves-the-key "epoch $(key_epoch), was $E_STOP" test "$(key_epoch)" -gt "$E_STOP"
sleep $((INTERVAL * 3)) # epochs pass while jitd is down (more than the one its key moved on)
start_jitd seal-jitd-restarts || exit 1
$P as 1002 $P open /srv/secret.txt >/dev/null 2>&1
# A crash: the restarted jitd seals the crash's tail.
kill9_jitd
start_jitd seal-jitd-restarts-after-kill || exit 1
$P as 1001 $P open /srv/secret.txt >/dev/null 2>&1
E1=$(key_epoch)
check seal-key-evolves-after-restart "epoch $(key_epoch)" wait_for 20 key_epoch_at_least $((E1 + 1))
CP=$(jitctl audit checkpoint 2>&1)
check seal-checkpoint-printed "got: $CP" contains "$CP" '^jitd-checkpoint1-[0-9a-f]{20}-[0-9]+-[0-9a-f]{64}-[0-9]+-[0-9a-f]{64}$'
out=$(jitctl audit checkpoint --json 2>&1)
check seal-checkpoint-json "got: $out" contains "$out" '"sequence": *[0-9]+'
stop_jitd

out=$(jitctl audit verify --key @/tmp/vkey --since-checkpoint "$CP" "$AUDIT" 2>&1)
rc=$?
echo "verify: $out"
check seal-verify-ok "exit $rc: $out" test "$rc" = 0
check seal-verify-nothing-broken "got: $out" test "$(echo "$out" | grep -c BROKEN)" = 0
# jitd was stopped for more than an interval: said (removing seals would look the same)
check seal-verify-first-line-warns-of-the-pause "got: $(echo "$out" | head -n 1)" \
	contains "$(echo "$out" | head -n 1)" '^WARNING '
check seal-verify-names-the-pause "got: $out" contains "$out" 'it stopped with a final seal'
jitctl audit verify --strict --key @/tmp/vkey "$AUDIT" >/dev/null 2>&1
rc=$?
check seal-verify-strict-fails-on-the-warning "exit $rc" test "$rc" = 1
check seal-verify-checks-the-seals "got: $out" contains "$out" 'seals: ([4-9]|[1-9][0-9]+) valid of'
check seal-verify-checkpoint-found "got: $out" contains "$out" 'checkpoint: sequence [0-9]+ found, unchanged'
out=$(jitctl audit verify --json --key @/tmp/vkey "$AUDIT" 2>&1)
check seal-verify-json "got: $(echo "$out" | head -c 400)" contains "$out" '"ok": *true'
cp "$AUDIT" /tmp/untouched.jsonl

# Root tampers with the file: an edit, a deletion, a cut tail.
n_lines=$(wc -l <"$AUDIT")
sed -i '3s/"pid":\([0-9]\)/"pid":9\1/' "$AUDIT"
out=$(jitctl audit verify --key @/tmp/vkey "$AUDIT" 2>&1)
rc=$?
check seal-tamper-edit-exit-1 "exit $rc: $out" test "$rc" = 1
check seal-tamper-edit-names-line-3 "got: $out" contains "$out" '^BROKEN .*audit.jsonl:3: '
cp /tmp/untouched.jsonl "$AUDIT"
sed -i '6d' "$AUDIT"
out=$(jitctl audit verify --key @/tmp/vkey "$AUDIT" 2>&1)
check seal-tamper-delete-found "got: $out" contains "$out" '^BROKEN .*missing'
head -n $((n_lines / 2)) /tmp/untouched.jsonl >"$AUDIT"
out=$(jitctl audit verify --key @/tmp/vkey --since-checkpoint "$CP" "$AUDIT" 2>&1)
check seal-tamper-cut-tail-found-by-checkpoint "got: $out" contains "$out" 'tail was cut'
cp /tmp/untouched.jsonl "$AUDIT"

# The key file removed while jitd is down: sealing is off, loudly (not "not set up").
rm -f "$KEYFILE"
start_jitd seal-jitd-starts-without-its-key || exit 1
out=$(jitctl status --json 2>&1)
check seal-missing-key-in-status "status: $out" contains "$out" '"error": *"the key file is gone"'
check seal-missing-key-audited "no seal_failed record" grep -q '"event":"seal_failed"' "$AUDIT"
check seal-missing-key-logged "jitd.log: $(grep -i seal "$JITD_LOG" | tail -n 2)" grep -q 'sealing is OFF' "$JITD_LOG"
stop_jitd

# For the host: the key, the checkpoint and the untouched file.
echo "JITD-SEAL-KEY $VKEY"
echo "JITD-SEAL-CHECKPOINT $CP"
echo "JITD-SEAL-FILE-BEGIN"
base64 /tmp/untouched.jsonl
echo "JITD-SEAL-FILE-END"
