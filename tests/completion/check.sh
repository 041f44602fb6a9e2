#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# check.sh BUILD_DIR: the shell completions of dist/completion against BUILD_DIR/jitctl, on the
# host, without jitd and without root.
#  - bash offers every verb of 'jitctl --help' and every long option and subcommand of each
#    'jitctl VERB --help', and nothing that help does not document (a verb or option added to
#    or removed from the CLI fails here until the completion follows);
#  - resource names and grant or request ids come from a jitctl stub that prints replies of
#    jitd's real shape (tests/completion/data, see stub_replies below), indented as jitctl
#    prints them and on one line;
#  - zsh parses and loads the file, has the same verbs and options, its JSON helpers give the
#    same ids and resources, and an interactive zsh (zsh/zpty) completes verbs, ids,
#    resources and subcommands for real;
#  - with jitd unreachable (or no jitctl at all) completion prints nothing and returns 0.
# Prints "PASS completion-..." or "FAIL completion-...: why"; exits non-zero on a failure.
# Needs bash and awk; zsh for the zsh part (SKIP without it: apt-get install zsh).

# Word lists (verbs, options, ids) are space-separated strings, split on purpose; the
# scripts run by bash -c and zsh -c are single-quoted on purpose.
# shellcheck disable=SC2086,SC2116,SC2016
set -uo pipefail

[ $# -eq 1 ] || {
	echo "usage: tests/completion/check.sh BUILD_DIR" >&2
	exit 2
}
BUILD=$(cd "$1" && pwd) || exit 2
SRC=$(cd "$(dirname "$0")/../.." && pwd)
JITCTL=$BUILD/jitctl
BASH_COMP=$SRC/dist/completion/jitctl.bash
ZSH_COMP=$SRC/dist/completion/_jitctl
DATA=$SRC/tests/completion/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

pass() { echo "PASS completion-$1"; }
fail() {
	echo "FAIL completion-$1: $2"
	failed=1
}

[ -x "$JITCTL" ] || {
	fail built "no $JITCTL (run make)"
	exit 1
}

# comp WORD...: what bash's _jitctl offers for the last WORD (the one under the cursor) of the
# command line WORD..., one a line, sorted; bash-completion is not loaded (its helpers are
# optional). Its stderr goes to $tmp/err, its status to $tmp/rc.
comp() {
	env -u BASH_ENV bash --norc --noprofile -c '
		source "$1" || exit 99
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		_jitctl "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		rc=$?
		((${#COMPREPLY[@]})) && printf "%s\n" "${COMPREPLY[@]}"
		exit $rc' bash "$BASH_COMP" "$@" 2>"$tmp/err" | sort -u
	echo "${PIPESTATUS[0]}" >"$tmp/rc"
}

# expect NAME WANT WORD...: the completion of WORD... is exactly WANT (words, any order).
expect() {
	local name=$1 want got
	want=$(printf '%s\n' $2 | sed '/^$/d' | sort -u)
	shift 2
	got=$(comp "$@")
	if [ "$got" != "$want" ]; then
		fail "$name" "'$*' offered [$(echo $got)], expected [$(echo $want)]"
	elif [ "$(cat "$tmp/rc")" != 0 ] || [ -s "$tmp/err" ]; then
		fail "$name" "'$*' returned $(cat "$tmp/rc"), stderr: $(head -c 200 "$tmp/err")"
	else
		pass "$name"
	fi
}

# missing WANT GOT: the words of WANT that GOT lacks.
missing() { comm -23 <(printf '%s\n' $1 | sort -u) <(printf '%s\n' $2 | sort -u) | xargs; }

# usage TEXT: the "Usage:" lines of a help text.
usage() { printf '%s\n' "$1" | sed -n '/^Usage:/,/^$/p'; }

# help_options TEXT: the long options a help text documents: the lines that start with one
# (Options:), and those in its usage lines.
help_options() {
	{
		printf '%s\n' "$1" | sed -nE 's/^ +(-[a-zA-Z], )?(--[a-z][a-z-]*).*/\2/p'
		usage "$1" | grep -oE -- '--[a-z][a-z-]*'
	} | sort -u
}

# ---- (a) verbs, options and subcommands against the CLI's own help ----

main_help=$("$JITCTL" --help)
help_verbs=$(printf '%s\n' "$main_help" | sed -n '/^Verbs:/,/^$/p' | sed -nE 's/^  ([a-z]+).*/\1/p')
offered=$(comp jitctl '')
miss=$(missing "$help_verbs" "$offered")
if [ -z "$miss" ]; then pass verbs-of-help; else fail verbs-of-help "not offered: $miss"; fi

# every verb offered is one jitctl knows ('help' has no --help of its own)
bad=
for v in $offered; do
	if [ "$v" = help ]; then
		"$JITCTL" help >/dev/null 2>&1 || bad="$bad $v"
	else
		"$JITCTL" "$v" --help >/dev/null 2>&1 || bad="$bad $v"
	fi
done
if [ -z "$bad" ]; then pass verbs-exist; else fail verbs-exist "offered, refused by jitctl:$bad"; fi

opts=$(help_options "$main_help")
got=$(comp jitctl --)
miss=$(missing "$opts" "$got") extra=$(missing "$got" "$opts")
if [ -z "$miss$extra" ]; then
	pass options-global
else
	fail options-global "not offered: [$miss]; offered, not in --help: [$extra]"
fi

for v in $offered; do
	[ "$v" = help ] && continue
	vhelp=$("$JITCTL" "$v" --help 2>&1)
	opts=$(help_options "$vhelp")
	got=$(comp jitctl "$v" --)
	miss=$(missing "$opts" "$got") extra=$(missing "$got" "$opts")
	if [ -z "$opts" ]; then
		fail "options-$v" "no options found in 'jitctl $v --help'"
	elif [ -z "$miss$extra" ]; then
		pass "options-$v"
	else
		fail "options-$v" "not offered: [$miss]; offered, not in --help: [$extra]"
	fi
	# subcommands: "jitctl VERB SUB ..." in the usage lines
	subs=$(usage "$vhelp" | sed -nE "s/^(Usage:)? +jitctl $v ([a-z][a-z-]*)( .*|$)/\2/p" | sort -u)
	if [ -n "$subs" ]; then
		got=$(comp jitctl "$v" '')
		miss=$(missing "$subs" "$got") extra=$(missing "$got" "$subs")
		if [ -z "$miss$extra" ]; then
			pass "subcommands-$v"
		else
			fail "subcommands-$v" "not offered: [$miss]; offered, not in usage: [$extra]"
		fi
	fi
done

expect help-verb "$(comp jitctl '')" jitctl help ''
expect fleet-policy-push push jitctl fleet policy ''
expect no-positional-for-list '' jitctl list ''
expect no-second-id '' jitctl approve 12 ''

# ---- (b) resources and ids from a stub of jitctl (replies of jitd's real shape) ----

# stub_replies: the stub answers as jitctl does (print_json: JSON_INDENT(2)) with
#  - data/list.json: 'list --json', the "grants" array of jitd's list reply (do_list in
#    agent/verbs.c; each element is grant_to_json in agent/grant.c: "id", "resource",
#    "resources", "state", nested "subject", "approvals", "history"...). A reason holds
#    '"id": 99, "state": "pending"}' and a brace to catch a parser that does not track strings;
#    grant 14 came from fleet request 5 ("fleet_id").
#  - data/list-fleet.json: 'list --fleet --json', the "fleet" array of fleet_list_verb in
#    agent/verbs.c (fleet_list in agent/fleet.c, DETAIL_COLUMNS: "fleet_id", "resources",
#    "state", nested "hosts" whose labels may say "state").
#  - data/policy-show.json: 'policy show --json', policy_show_build in agent/verbs.c without
#    "ok" (cmd_policy deletes it): "resources" is an object keyed by resource name; "rules"
#    have "resources" arrays too (not-a-resource-key must not be offered).
# With STUB_COMPACT=1 the same on one line. Each call is logged to $STUB_LOG.
mkdir -p "$tmp/bin" "$tmp/nobin"
cat >"$tmp/bin/jitctl" <<'EOF'
#!/bin/sh
echo "$*" >>"$STUB_LOG"
case " $* " in
*" list --fleet --json "*) f=list-fleet.json ;;
*" list --json "*) f=list.json ;;
*" policy show --json "*) f=policy-show.json ;;
*) echo "jitctl stub: unexpected call: $*" >&2; exit 2 ;;
esac
if [ "${STUB_COMPACT:-0}" = 1 ]; then tr -d '\n' <"$STUB_DATA/$f"; else cat "$STUB_DATA/$f"; fi
EOF
chmod +x "$tmp/bin/jitctl"
printf '#!/bin/sh\n' >"$tmp/bin/jitctl-probe-cmd" # a command only this test has
chmod +x "$tmp/bin/jitctl-probe-cmd"
export STUB_DATA=$DATA STUB_LOG=$tmp/stub.log
PATH_ORIG=$PATH
export PATH=$tmp/bin:$PATH_ORIG

resources='psql prod-db secrets v6.db_2'
for layout in indented compact; do
	export STUB_COMPACT=0
	[ $layout = compact ] && STUB_COMPACT=1
	expect "$layout-approve-pending-ids" '12 14 f6' jitctl approve ''
	expect "$layout-deny-prefix" '12 14' jitctl deny 1
	expect "$layout-extend-active-ids" '7 13 f5' jitctl extend ''
	expect "$layout-revoke-ids" '7 12 13 14 f5 f6' jitctl revoke --kill ''
	expect "$layout-show-fleet-ids" 'f5 f6' jitctl show f
	expect "$layout-request-resources" "$resources" jitctl request ''
	expect "$layout-request-more-resources" "$resources" jitctl request --for 1h psql ''
	expect "$layout-exec-resources" 'psql prod-db' jitctl exec --reason x p
	expect "$layout-grant-resource" "$resources" jitctl --json grant ''
done
unset STUB_COMPACT
expect grant-one-resource '' jitctl grant psql ''
expect option-value-not-resource '' jitctl request psql --for ''
expect filter-values 'decision deny' jitctl audit --follow --filter de
expect exec-command-after-dashdash jitctl-probe-cmd jitctl exec psql --for 1h -- jitctl-probe-c
expect exec-no-resource-after-dashdash '' jitctl exec psql -- ls psq

: >"$STUB_LOG"
comp jitctl --socket /run/other.sock approve '' >/dev/null
comp jitctl approve --socket = /run/eq.sock '' >/dev/null
if grep -q -- '--socket /run/other.sock .*list --json' "$STUB_LOG" &&
	grep -q -- '--socket /run/eq.sock .*list --json' "$STUB_LOG" &&
	grep -q -- '--timeout ' "$STUB_LOG"; then
	pass socket-passed-on
else
	fail socket-passed-on "the stub saw: $(tr '\n' ';' <"$STUB_LOG")"
fi

# ---- (c) zsh ----

if ! command -v zsh >/dev/null; then
	echo "SKIP completion-zsh: no zsh (apt-get install zsh)"
else
	if out=$(zsh -n "$ZSH_COMP" 2>&1); then pass zsh-parses; else fail zsh-parses "$out"; fi
	# load it as compinit users do, in a scratch HOME (compinit writes no dump: -D)
	zsh_run() {
		HOME=$tmp ZDOTDIR=$tmp zsh -f -c "autoload -U compinit; compinit -D -u
			source ${ZSH_COMP@Q} || exit 99
			$1" 2>"$tmp/zerr"
	}
	out=$(zsh_run '(( $+functions[_jitctl] )) && print -r -- $_comps[jitctl]')
	if [ "$out" = _jitctl ] && [ ! -s "$tmp/zerr" ]; then
		pass zsh-loads
	else
		fail zsh-loads "_comps[jitctl]='$out', stderr: $(head -c 300 "$tmp/zerr")"
	fi

	zverbs=$(zsh_run 'print -rl -- ${_jitctl_verbs%%:*}' | sort -u)
	bverbs=$(comp jitctl '')
	if [ -n "$zverbs" ] && [ "$zverbs" = "$bverbs" ]; then
		pass zsh-verbs
	else
		fail zsh-verbs "zsh [$(echo $zverbs)], bash [$(echo $bverbs)]"
	fi

	# the long options of each verb's _arguments specs ('--opt=[...]', '--opt[...]')
	bad=
	for v in '' $bverbs; do
		[ "$v" = help ] && continue
		zarg=${v:-"''"}
		z=$(zsh_run "local -a specs; _jitctl_specs $zarg && print -rl -- \$specs" |
			sed -nE 's/^(\([^)]*\))?(--[a-z][a-z-]*).*/\2/p' | sort -u)
		if [ -n "$v" ]; then b=$(comp jitctl "$v" --); else b=$(comp jitctl --); fi
		[ "$z" = "$b" ] || bad="$bad ${v:-global}: zsh [$(echo $z)] bash [$(echo $b)];"
	done
	if [ -z "$bad" ]; then pass zsh-options; else fail zsh-options "$bad"; fi

	for layout in 0 1; do
		out=$(STUB_COMPACT=$layout zsh_run '_jitctl_list pending; _jitctl_reslist' | cut -f1 |
			xargs)
		if [ "$out" = "12 14 f6 psql prod-db secrets v6.db_2" ] && [ ! -s "$tmp/zerr" ]; then
			pass "zsh-ids-resources-compact$layout"
		else
			fail "zsh-ids-resources-compact$layout" "got [$out] $(head -c 200 "$tmp/zerr")"
		fi
	done
	# real completion: an interactive zsh in a pseudo-terminal (zsh/zpty) gets LINE and TAB;
	# compadd is wrapped to print each match between @@ marks (the echoed input spells them
	# \x40), and a key bound to a widget prints %%DONE when the completion is over.
	cat >"$tmp/zcomp.zsh" <<'ZEOF'
zmodload zsh/zpty || exit 99
zpty z zsh -f -i
zpty -w z "PROMPT=''; HOME=${(q)TMPHOME}; PATH=${(q)PATH}"
zpty -w z 'autoload -U compinit; compinit -D -u; source '${(q)1}
zpty -w z 'compadd() { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi; local -a hits; local h; builtin compadd -A hits "$@"; for h in $hits; do printf "\\x40\\x40%s\\x40\\x40\\n" "$h"; done; builtin compadd "$@"; }'
zpty -w z 'zstyle ":completion:*" menu no; done_() { printf "\\x25\\x25DONE\\n"; }; zle -N done_; bindkey "^X" done_'
zpty -n -w z "$2"$'\t'
zpty -n -w z $'\C-x'
local line
while zpty -r z line; do
	[[ $line == *%%DONE* ]] && break
	[[ $line == *@@*@@* ]] && print -r -- ${${line#*@@}%%@@*}
done
zpty -d z
ZEOF
	# zcomp NAME WANT LINE: zsh completes the end of LINE with exactly WANT (any order).
	zcomp() {
		local got want
		want=$(printf '%s\n' $2 | sort -u)
		got=$(TMPHOME=$tmp timeout 20 zsh -f "$tmp/zcomp.zsh" "$ZSH_COMP" "$3" | tr -d '\r' |
			sort -u)
		if [ "$got" = "$want" ]; then
			pass "$1"
		else
			fail "$1" "zsh: '$3' offered [$(echo $got)], expected [$(echo $want)]"
		fi
	}
	zcomp zsh-complete-verbs "$bverbs" 'jitctl '
	zcomp zsh-complete-approve-ids '12 14 f6' 'jitctl approve '
	zcomp zsh-complete-revoke-ids '7 12 13 14 f5 f6' 'jitctl --socket /x revoke --kill '
	zcomp zsh-complete-resources "$resources" 'jitctl request --for 1h psql '
	zcomp zsh-complete-no-resource-as-duration '' 'jitctl request psql --for '
	zcomp zsh-complete-policy-subcommands 'check apply show explain' 'jitctl policy '
	zcomp zsh-complete-fleet-policy-push push 'jitctl fleet policy '
	zcomp zsh-complete-exec-command jitctl-probe-cmd 'jitctl exec psql -- jitctl-probe-c'

	out=$(PATH=$tmp/nobin:$PATH_ORIG JITD_SOCKET=$tmp/absent.sock \
		zsh_run "_jitctl_cmd=${JITCTL@Q}; _jitctl_list ''; _jitctl_reslist; echo rc=\$?")
	if [ "$out" = rc=0 ] && [ ! -s "$tmp/zerr" ]; then
		pass zsh-silent-without-jitd
	else
		fail zsh-silent-without-jitd "got [$out] $(head -c 200 "$tmp/zerr")"
	fi
fi

# ---- (d) no jitd, no jitctl: nothing offered, nothing said, status 0 ----

export PATH=$tmp/nobin:$PATH_ORIG JITD_SOCKET=$tmp/absent.sock
for vc in approve: deny:1 extend: revoke: show:f request: exec:p grant:; do
	expect "no-jitd-${vc%:*}" '' "$JITCTL" "${vc%:*}" "${vc#*:}"
done
expect no-jitctl-installed '' jitctl approve ''

exit $failed
