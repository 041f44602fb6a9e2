#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/cli/check.sh BUILD: what jitd and jitctl say without a kernel or a running jitd:
# versions, help for every verb, policy checks with a one-line summary or JSON. (What needs
# jitd and the kernel, e.g. `jitctl exec`'s standard output, is in tests/vm/workflow.sh.)
# Prints PASS/FAIL lines; exits 1 when one failed.
BUILD=$(cd "${1:-build}" && pwd) || exit 1
JITD=$BUILD/jitd
JITCTL=$BUILD/jitctl
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
failed=0

pass() { echo "PASS cli-$1"; }
fail() {
	echo "FAIL cli-$1: $2"
	failed=$((failed + 1))
}
# check NAME WHY CMD...: PASS when CMD succeeds
check() {
	local name=$1 why=$2
	shift 2
	if "$@"; then pass "$name"; else fail "$name" "$why"; fi
}

for b in "$JITD" "$JITCTL"; do
	[ -x "$b" ] || {
		fail built "$b missing: make"
		exit 1
	}
done

out=$("$JITD" --version 2>&1)
check jitd-version "got '$out'" grep -qE '^jitd [0-9]+\.[0-9]+\.[0-9]+$' <<<"$out"
out=$("$JITCTL" --version 2>&1)
check jitctl-version "got '$out'" grep -qE '^jitctl [0-9]+\.[0-9]+\.[0-9]+$' <<<"$out"
check jitd-help-lists-version "jitd --help: no --version" grep -q -- '--version' <<<"$("$JITD" --help)"

# --max-open takes a count from 1 to 100000; anything else is a usage error that says so
for v in 0 -1 100001 x 5x ""; do
	out=$("$JITD" --max-open "$v" --check-policy --policy /nonexistent 2>&1)
	rc=$?
	check "jitd-max-open-refuses-'$v'" "exit $rc: $out" \
		sh -c "[ $rc = 2 ] && grep -q 'max-open: expected a number from 1 to 100000' <<'EOF'
$out
EOF"
done
check jitd-help-lists-max-open "jitd --help: no --max-open" grep -q -- '--max-open N' <<<"$("$JITD" --help)"

# every verb of `jitctl --help` has its own help, by `jitctl VERB --help` and `jitctl help VERB`
verbs=$("$JITCTL" --help | sed -n '/^Verbs:/,/^$/s/^  \([a-z]*\).*/\1/p')
check help-lists-verbs "verbs: $verbs" test "$(wc -w <<<"$verbs")" -ge 14
check help-lists-fleet "verbs: $verbs" grep -qw fleet <<<"$verbs"
bad=""
for v in $verbs; do
	a=$("$JITCTL" "$v" --help 2>&1) || bad="$bad $v(--help rc $?)"
	b=$("$JITCTL" help "$v" 2>&1) || bad="$bad $v(help rc $?)"
	[ "$v" = help ] && v="\\[-" # jitctl help --help: the main help
	grep -q "^Usage: jitctl $v" <<<"$a" || bad="$bad $v(no Usage line)"
	[ "$a" = "$b" ] || bad="$bad $v(help VERB differs)"
done
check every-verb-has-help "${bad:-}" test -z "$bad"

cat >"$T/ok.json" <<'JSON'
{"version": 1, "serial": 7,
 "resources": {"db": {"connect": ["10.0.5.0/24:5432"]}, "logs": {"open": ["/var/log/app/"]}},
 "rules": [{"resources": ["db"], "requesters": ["user:root"], "max_duration": "1h"}]}
JSON
printf '{"version": 1, "serial": 7, "resources": {"db": {"connect": ["nowhere"]}}}\n' >"$T/bad.json"

out=$("$JITD" --check-policy --policy "$T/ok.json" 2>&1)
rc=$?
check jitd-check-policy-one-line-summary "exit $rc: '$out'" \
	test "$rc" = 0 -a "$out" = "$T/ok.json: valid (serial 7, 2 resources, 1 rules, 0 grants)"
out=$("$JITD" --check-policy --policy "$T/bad.json" 2>&1)
rc=$?
check jitd-check-policy-refuses-with-position "exit $rc: '$out'" \
	test "$rc" = 1 -a -n "$(grep -E "^$T/bad.json:[0-9]+:[0-9]+: " <<<"$out")"

out=$("$JITCTL" policy check "$T/ok.json" 2>&1)
rc=$?
check policy-check-one-line-summary "exit $rc: '$out'" \
	test "$rc" = 0 -a "$out" = "$T/ok.json: valid (serial 7, 2 resources, 1 rules, 0 grants)"
json_is() { # JSON EXPR: python3 evaluates EXPR on the parsed JSON j
	python3 -c 'import json,sys; j=json.loads(sys.argv[1]); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" 2>/dev/null
}
out=$("$JITCTL" policy check "$T/ok.json" --json 2>/dev/null)
rc=$?
check policy-check-json "exit $rc: '$out'" json_is "$out" \
	'j["valid"] is True and j["serial"] == 7 and j["resources"] == 2 and j["rules"] == 1'
out=$("$JITCTL" --json policy check "$T/bad.json" 2>/dev/null)
rc=$?
check policy-check-json-error "exit $rc: '$out'" test "$rc" = 1
check policy-check-json-error-is-json "got '$out'" json_is "$out" \
	'j["valid"] is False and "bad.json:1:" in j["error"]'

# --json: a failure that printed no JSON says so in JSON on stdout, and on stderr as before
out=$("$JITCTL" --json status --socket "$T/no.sock" 2>"$T/err")
rc=$?
check json-error-unreachable "exit $rc: '$out'" json_is "$out" \
	'j["exit"] == 3 and "cannot connect to jitd" in j["error"] and "jitctl:" not in j["error"]'
check json-error-exit-status "exit $rc" test "$rc" = 3
check json-error-also-on-stderr "stderr: $(cat "$T/err")" grep -q "cannot connect to jitd" "$T/err"
out=$("$JITCTL" show nonsense --json 2>/dev/null)
rc=$?
check json-error-usage "exit $rc: '$out'" json_is "$out" \
	'j["exit"] == 2 and j["error"].startswith("show: invalid ID") and "Try" not in j["error"]'
out=$("$JITCTL" status --socket "$T/no.sock" 2>/dev/null)
check no-json-no-json-error "got '$out'" test -z "$out"

# dry-run and explain: usage errors found before jitd is asked (exit 2, naming what to fix)
# shellcheck disable=SC2089,SC2090 # "ARGS|MESSAGE" pairs, the quote in a message is text
for args in "approve 1 --dry-run|--dry-run is an option of 'request' only" \
	"request x --for 1m --dry-run --wait|--dry-run is for local requests, without --wait" \
	"approvers|approvers: missing RESOURCE" \
	"policy explain alice|policy: missing RESOURCE" \
	"policy explain|explain needs USER and RESOURCE"; do
	want=${args#*|}
	# shellcheck disable=SC2086 # the arguments, split on purpose
	out=$("$JITCTL" ${args%%|*} --socket "$T/no.sock" 2>&1)
	rc=$?
	name=$(tr ' ' - <<<"${args%%|*}")
	check "usage-$name" "exit $rc: '$out'" test "$rc" = 2
	check "usage-says-$name" "got '$out', expected '$want'" grep -qF -- "$want" <<<"$out"
done
# review and request --break-glass: what jitctl refuses before asking jitd (exit 2), and
# what it sends once the arguments are right (exit 3: no jitd on that socket)
bad=""
for args in "review 7" "review 7 --approve --flag" "review 7 --flag" "review 7 --approve --revoke" \
	"review --approve" "review x --approve" "review 7 8 --approve" \
	"exec secrets --for 1m --break-glass -- true" \
	"request secrets --for 1m --break-glass --reason x --hosts role=db"; do
	# shellcheck disable=SC2086 # the words of args, split on purpose
	"$JITCTL" --socket "$T/no.sock" $args >/dev/null 2>&1
	rc=$?
	[ "$rc" = 2 ] || bad="$bad '$args'(rc $rc)"
done
for args in "review 7 --approve" "review 7 --flag --reason x --revoke" "list --unreviewed" \
	"request secrets --for 1m --break-glass --reason INC-1"; do
	# shellcheck disable=SC2086
	"$JITCTL" --socket "$T/no.sock" $args >/dev/null 2>&1
	rc=$?
	[ "$rc" = 3 ] || bad="$bad '$args'(rc $rc, not 3)"
done
check break-glass-and-review-arguments "${bad:-}" test -z "$bad"

printf '{"a": 1}\n' >"$T/audit.jsonl"
out=$("$JITCTL" audit verify "$T/audit.jsonl" --json 2>/dev/null)
rc=$?
check audit-verify-json-broken "exit $rc: '$out'" json_is "$out" \
	'j["ok"] is False and j["line"] == 1 and "hash chain" in j["error"]'

# make install and make uninstall: the same set, and nothing left behind
SRC=$(cd "$(dirname "$0")/../.." && pwd)
if make -s -C "$SRC" install DESTDIR="$T/inst" PREFIX=/usr OUTPUT="$BUILD" >"$T/inst.out" 2>&1; then
	missing=""
	for f in usr/sbin/jitd usr/bin/jitctl lib/systemd/system/jitd.service etc/logrotate.d/jitd \
		usr/share/man/man8/jitd.8 usr/share/man/man1/jitctl.1 usr/share/man/man5/jitd.policy.5 \
		usr/share/doc/jitd/LICENSE usr/share/doc/jitd/README.md usr/share/doc/jitd/protocol.md \
		usr/share/doc/jitd/examples/policy.example.json usr/share/jitd/fleet/0001_init.sql \
		usr/share/bash-completion/completions/jitctl usr/share/zsh/vendor-completions/_jitctl; do
		[ -s "$T/inst/$f" ] || missing="$missing $f"
	done
	check install-puts-everything-in-place "missing:$missing" test -z "$missing"
	check install-unit-runs-prefix-jitd "$(grep ExecStart "$T/inst/lib/systemd/system/jitd.service")" \
		grep -q '^ExecStart=/usr/sbin/jitd ' "$T/inst/lib/systemd/system/jitd.service"
	make -s -C "$SRC" uninstall DESTDIR="$T/inst" PREFIX=/usr OUTPUT="$BUILD" >>"$T/inst.out" 2>&1
	left=$(find "$T/inst" -type f | sed "s|^$T/inst||" | tr '\n' ' ')
	check uninstall-leaves-no-file "left: $left" test -z "$left"
else
	fail install-puts-everything-in-place "make install failed: $(tail -n 5 "$T/inst.out")"
fi

# libpq is loaded in fleet mode only: neither binary links it, and without it `jitctl fleet`
# says what to install (libpq hidden in a mount namespace of its own; root only)
check jitd-does-not-link-libpq "$(ldd "$JITD" | grep libpq)" sh -c "! ldd '$JITD' | grep -q libpq"
check jitctl-does-not-link-libpq "$(ldd "$JITCTL" | grep libpq)" sh -c "! ldd '$JITCTL' | grep -q libpq"
pq=$(ldconfig -p | awk '$1 == "libpq.so.5" && $NF ~ /^\// { print $NF; exit }')
if [ "$(id -u)" = 0 ] && [ -n "$pq" ] && command -v unshare >/dev/null; then
	out=$(unshare -m sh -c "mount --bind /dev/null '$pq' && '$JITCTL' fleet hosts --db 'dbname=none'" 2>&1)
	rc=$?
	check fleet-without-libpq-says-what-to-install "exit $rc: $out" \
		sh -c "[ $rc != 0 ] && grep -q 'apt-get install libpq5' <<'EOF'
$out
EOF"
	# jitd refuses --fleet at its options, before it touches the kernel
	out=$(unshare -m sh -c "mount --bind /dev/null '$pq' && '$JITD' --fleet 'dbname=none' --policy /nonexistent" 2>&1)
	rc=$?
	check jitd-fleet-without-libpq-says-what-to-install "exit $rc: $out" \
		sh -c "[ $rc = 2 ] && grep -q 'apt-get install libpq5' <<'EOF'
$out
EOF"
fi

echo "cli: $failed failed"
[ "$failed" = 0 ]
