#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tests/man/check.sh BUILD_DIR: the man pages that `make man` writes to BUILD_DIR/man.
# For each of jitd.8, jitctl.1 and jitd.policy.5: it is built from the current
# docs/man/*.scd, man and groff render it without a warning, and lexgrog (mandb's indexer)
# finds its NAME line with a description. Then that the pages stay true to the code:
#   man-jitctl-verbs     every verb of `jitctl --help` and of jitctl's verb table
#                        (cli/jitctl.c) is an entry of jitctl.1's COMMANDS
#   man-jitctl-options   every long option of `jitctl --help`, of `jitctl VERB --help` for
#                        each verb, and of jitctl's getopt tables (cli/*.c) is in jitctl.1
#   man-jitd-options     every long option of `jitd --help` and of its getopt table
#                        (agent/main.c) is in jitd.8
#   man-policy-keys      every key the policy parser accepts (the allowed[] lists of
#                        lib/policy.c) is in jitd.policy.5, the top-level ones as entries of
#                        its TOP-LEVEL KEYS section
# One PASS/FAIL line per check; exits non-zero if any failed. Missing tools are a failure
# (run `make deps`), never a skip.
set -uo pipefail

[ $# -eq 1 ] || {
	echo "usage: tests/man/check.sh BUILD_DIR" >&2
	exit 2
}
BUILD=$1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
PAGES="jitd.8 jitctl.1 jitd.policy.5"
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass() { echo "PASS $1"; }
fail() {
	echo "FAIL $1: $2"
	failed=$((failed + 1))
}

missing=
for tool in scdoc man groff lexgrog col; do
	command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
	fail man-tools "missing:$missing (Debian packages scdoc man-db groff-base: run 'make deps')"
	exit 1
fi
pass man-tools

# text PAGE: the page as plain text, one paragraph a line (wide, no hyphenation).
text() {
	MANWIDTH=1000 man --nh --nj -l "$BUILD/man/$1" 2>/dev/null | col -bx
}

# section PAGE NAME: the text of section NAME of PAGE.
section() {
	text "$1" | awk -v s="$2" '/^[A-Z]/ { on = ($0 == s) } on'
}

# long_options: the long options of a --help text on stdin, from its usage lines and its
# option lines (prose that mentions another program's option is not counted).
long_options() {
	awk '/^Usage:/ { u = 1 } /^$/ { u = 0 } u || /^ *(-[a-zA-Z], )?--[a-z]/' |
		grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}

for page in $PAGES; do
	src="$SRC/docs/man/$page.scd"
	built="$BUILD/man/$page"
	if [ ! -f "$built" ]; then
		fail "man-built-$page" "no $built: run 'make man'"
		continue
	fi
	# the date line (.TH) depends on when it was built
	if ! scdoc <"$src" >"$tmp/$page" 2>"$tmp/err"; then
		fail "man-built-$page" "scdoc refuses $src: $(head -1 "$tmp/err")"
		continue
	fi
	if ! diff -q <(grep -v '^\.TH ' "$tmp/$page") <(grep -v '^\.TH ' "$built") >/dev/null; then
		fail "man-built-$page" "$built is not what scdoc makes of $src now: run 'make man'"
	else
		pass "man-built-$page"
	fi

	warn=$( (MANWIDTH=80 man --warnings=w -l "$built" 2>&1 >/dev/null
		groff -man -ww -z "$built" 2>&1) | head -3)
	if [ -n "$warn" ]; then
		fail "man-render-$page" "$(echo "$warn" | tr '\n' ' ')"
	else
		pass "man-render-$page"
	fi

	name=${page%.*}
	out=$(lexgrog "$built" 2>&1)
	if [ $? -ne 0 ] || ! grep -qF ": \"$name - " <<<"$out" ||
		! grep -qE ": \"$name - [^\"]+[[:alnum:]]" <<<"$out"; then
		fail "man-name-$page" "lexgrog finds no '$name - description' NAME line: $out"
	else
		pass "man-name-$page"
	fi
done

for bin in jitd jitctl; do
	if [ ! -x "$BUILD/$bin" ]; then
		fail man-binaries "no $BUILD/$bin: run 'make'"
		exit 1
	fi
done
for page in $PAGES; do
	[ -f "$BUILD/man/$page" ] || exit 1 # said above
done

# jitctl.1: its verbs. Those `jitctl --help` lists, and those of the verb table that
# main() dispatches on ({"grant", cmd_grant, help_grant}, ...).
"$BUILD/jitctl" --help >"$tmp/jitctl.help"
verbs=$( (awk '/^Verbs:/ { on = 1; next } /^$/ { on = 0 } on { print $1 }' "$tmp/jitctl.help"
	grep -oE '\{"[a-z-]+", cmd_[a-z_]+' "$SRC/cli/jitctl.c" | sed 's/{"\([a-z-]*\)".*/\1/') |
	sort -u)
section jitctl.1 COMMANDS >"$tmp/commands"
bad=
for v in $verbs; do
	grep -qE "^ {7}$v( |$)" "$tmp/commands" || bad="$bad $v"
done
if [ -z "$verbs" ]; then
	fail man-jitctl-verbs "no verbs found in 'jitctl --help' or cli/jitctl.c"
elif [ -n "$bad" ]; then
	fail man-jitctl-verbs "not an entry of COMMANDS in jitctl.1:$bad"
else
	pass man-jitctl-verbs
fi

# jitctl.1: every long option of `jitctl VERB --help` in VERB's entry of COMMANDS or in
# OPTIONS (those every verb takes); those of `jitctl --help` and of the getopt tables of
# cli/*.c in OPTIONS or COMMANDS. A synopsis or an example alone does not count.
section jitctl.1 OPTIONS >"$tmp/options"
bad=
n=0
# check_options WHERE... : each option on stdin is in one of the files WHERE.
check_options() {
	local o text
	text=$(cat "$@")
	while read -r o; do
		n=$((n + 1))
		grep -qE -- "(^|[^[:alnum:]-])$o([^[:alnum:]-]|$)" <<<"$text" || bad="$bad $o"
	done
}
check_options "$tmp/options" < <(long_options <"$tmp/jitctl.help")
for v in $verbs; do
	[ "$v" = help ] && continue
	# the entry: from its line at the entries' indent (7 columns) to the next one
	awk -v v="$v" '/^       [a-z]/ { on = ($1 == v) } on' "$tmp/commands" >"$tmp/entry"
	check_options "$tmp/entry" "$tmp/options" < <("$BUILD/jitctl" "$v" --help | long_options)
	[ -s "$tmp/entry" ] || bad="$bad $v(no entry)"
done
check_options "$tmp/options" "$tmp/commands" < <(grep -hoE \
	'\{ *"[a-z][a-z0-9-]*", *(no|required|optional)_argument' "$SRC"/cli/*.c \
	"$SRC/cli/jitctl.h" | sed 's/{ *"\([^"]*\)".*/--\1/' | sort -u)
if [ "$n" -lt 10 ]; then
	fail man-jitctl-options "only $n options found in jitctl's help texts and cli/*.c"
elif [ -n "$bad" ]; then
	fail man-jitctl-options "not documented in jitctl.1 (verb entry or OPTIONS):$(printf ' %s' \
		$(printf '%s\n' $bad | sort -u))"
else
	pass man-jitctl-options
fi

# jitd.8: every long option of `jitd --help` and of agent/main.c's getopt table is an entry
# of OPTIONS.
section jitd.8 OPTIONS >"$tmp/jitd.options"
{
	"$BUILD/jitd" --help | long_options
	grep -hoE '\{"[a-z][a-z0-9-]*", *(no|required|optional)_argument' "$SRC/agent/main.c" |
		sed 's/{"\([^"]*\)".*/--\1/'
} | sort -u >"$tmp/jitd.opts"
bad=
while read -r o; do
	grep -qE -- "^ {7}(-[a-zA-Z], )?$o( |$)" "$tmp/jitd.options" || bad="$bad $o"
done <"$tmp/jitd.opts"
if [ ! -s "$tmp/jitd.opts" ]; then
	fail man-jitd-options "no options found in 'jitd --help'"
elif [ -n "$bad" ]; then
	fail man-jitd-options "not an entry of OPTIONS in jitd.8:$bad"
else
	pass man-jitd-options
fi

# jitd.policy.5: the keys of every `allowed[] = {...}` list of lib/policy.c (check_keys
# refuses any other key); the list in parse_src() is the top level. A key is documented
# when it is an entry of its own (a line alone) or quoted in the page ("allow": ...).
awk '/^static int parse_src\(/ { top = 1 }
	/allowed\[\] = \{/ { on = 1; buf = "" }
	on { buf = buf $0 }
	on && /\};/ {
		on = 0
		while (match(buf, /"[a-z_]+"/)) {
			print (top ? "top " : "key ") substr(buf, RSTART + 1, RLENGTH - 2)
			buf = substr(buf, RSTART + RLENGTH)
		}
		top = 0
	}' "$SRC/lib/policy.c" | sort -u >"$tmp/keys"
text jitd.policy.5 >"$tmp/policy.txt"
section jitd.policy.5 "TOP-LEVEL KEYS" >"$tmp/toplevel"
bad=
while read -r kind k; do
	if [ "$kind" = top ]; then
		grep -qE "^ {7}$k$" "$tmp/toplevel" || bad="$bad $k(top-level)"
	else
		grep -qE "^ +$k$" "$tmp/policy.txt" || grep -qF "\"$k\"" "$tmp/policy.txt" ||
			bad="$bad $k"
	fi
done <"$tmp/keys"
if ! grep -q '^top ' "$tmp/keys"; then
	fail man-policy-keys "no allowed[] list found in parse_src() of lib/policy.c"
elif [ -n "$bad" ]; then
	fail man-policy-keys "not in jitd.policy.5:$bad"
else
	pass man-policy-keys
fi

[ "$failed" = 0 ]
