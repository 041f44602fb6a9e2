# SPDX-License-Identifier: GPL-2.0-only
#
# bash completion for jitctl: verbs, global and per-verb options, resource names (from
# 'jitctl policy show --json') and grant or request ids (from 'jitctl list --json' and, in
# fleet mode, 'jitctl list --fleet --json' as fN). Installed as
# PREFIX/share/bash-completion/completions/jitctl. Needs bash >= 4 and awk, nothing else;
# after 'exec RES... --' it completes a command with bash-completion's _command_offset when
# that is loaded. When jitd cannot be reached the dynamic parts offer nothing and say nothing.
# tests/completion/check.sh keeps the lists below in step with 'jitctl VERB --help'.

_jitctl_verbs='request approve deny exec grant extend revoke list show policy status audit help fleet approvers review report'
_jitctl_common='--json --socket --timeout --help'
# every option of any verb that takes an argument: the word after it is its value
_jitctl_argopts=' --socket --timeout --for --reason --hosts --user --uid --cgroup --unit --start --max-idle --latest-start
 --since --filter --key --since-checkpoint --interval --db --migrations --password-file '

# The objects directly inside the top-level arrays of 'jitctl list --json' (one JSON value or
# several in a row) as "ID<TAB>STATE<TAB>RESOURCE" lines, only those whose state is a word of
# want ("" for all). ID is "id", or "f" and "fleet_id" for a fleet request (which has no "id").
# A small tokenizer that tracks strings and nesting, so it needs neither a layout nor python.
# shellcheck disable=SC2016
_jitctl_awk_list='
function commit() {
	if (depth == 2 && key == "id") id = tok
	else if (depth == 2 && key == "fleet_id") fid = tok
	else if (depth == 2 && key == "state") st = tok
	else if (depth == 2 && key == "resource") res = tok
	else if (depth == 3 && key == "resources" && res == "" && isstr) res = tok
	tok = ""; isstr = 0
}
{
	n = length($0)
	for (i = 1; i <= n; i++) {
		c = substr($0, i, 1)
		if (instr) {
			if (esc) { tok = tok c; esc = 0 }
			else if (c == "\\") esc = 1
			else if (c == "\"") { instr = 0; isstr = 1 }
			else tok = tok c
		} else if (c == "\"") { instr = 1; tok = "" }
		else if (c == ":") { if (depth == 2) key = tok; tok = ""; isstr = 0 }
		else if (c == ",") commit()
		else if (c == "{" || c == "[") {
			depth++
			if (depth == 2 && c == "{") { id = fid = st = res = key = "" }
			tok = ""; isstr = 0
		} else if (c == "}" || c == "]") {
			commit()
			if (depth == 2 && c == "}") {
				if (id == "" && fid != "") id = "f" fid
				if (id != "" && (want == "" || index(" " want " ", " " st " ")))
					printf "%s\t%s\t%s\n", id, st, res
			}
			depth--
		} else if (c !~ /[ \t\r]/) tok = tok c
	}
}'

# The keys of the "resources" object of 'jitctl policy show --json' as "NAME<TAB>WHAT" lines,
# WHAT being the kind and first entry of the resource ("exec /usr/bin/psql").
# shellcheck disable=SC2016
_jitctl_awk_resources='
{
	n = length($0)
	for (i = 1; i <= n; i++) {
		c = substr($0, i, 1)
		if (instr) {
			if (esc) { tok = tok c; esc = 0 }
			else if (c == "\\") esc = 1
			else if (c == "\"") instr = 0
			else tok = tok c
		} else if (c == "\"") { instr = 1; tok = "" }
		else if (c == ":") {
			if (depth == 1) top = tok
			else if (depth == 2 && top == "resources") { name = tok; what = "" }
			else if (depth == 3 && top == "resources" && what == "") kind = tok
			tok = ""
		} else if (c == "{" || c == "[") { depth++; tok = "" }
		else if (c == "}" || c == "]" || c == ",") {
			if (depth == 4 && top == "resources" && what == "" && tok != "")
				what = kind " " tok
			if (depth == 3 && c == "}" && top == "resources" && name != "")
				printf "%s\t%s\n", name, what
			if (c != ",") depth--
			tok = ""
		}
	}
}'

# jitctl ARGS... with the socket the command line names and a short timeout; its output,
# or nothing (and no error text) when jitctl or jitd is not there.
_jitctl_query()
{
	local cmd=${COMP_WORDS[0]}

	[[ $cmd == \~/* ]] && cmd=$HOME/${cmd#\~/}
	"$cmd" ${_jitctl_sock:+--socket "$_jitctl_sock"} --timeout 2 "$@" 2>/dev/null
}

# _jitctl_ids STATES: ids of the grants and requests in one of STATES (all when empty).
_jitctl_ids()
{
	{
		_jitctl_query list --json
		_jitctl_query list --fleet --json
	} | awk -v want="$1" "$_jitctl_awk_list" 2>/dev/null | cut -f1
}

_jitctl_resources()
{
	_jitctl_query policy show --json | awk "$_jitctl_awk_resources" 2>/dev/null | cut -f1
}

# _jitctl_reply WORDS: COMPREPLY from WORDS (one a line) that start with $cur.
_jitctl_reply()
{
	local w

	while IFS= read -r w; do
		[[ -n $w && $w == "$cur"* ]] && COMPREPLY+=("$w")
	done <<<"$1"
}

_jitctl_files()
{
	compopt -o filenames 2>/dev/null
	mapfile -t COMPREPLY < <(compgen "${1:--f}" -- "$cur")
}

# _jitctl_options VERB [SUBCOMMAND]: the options of VERB (audit: of its subcommand; before
# one, every option its help names).
_jitctl_options()
{
	case $1 in
	'') echo "$_jitctl_common --version" ;;
	request) echo "--for --reason --wait --hosts --dry-run --break-glass $_jitctl_common" ;;
	approvers) echo "--user $_jitctl_common" ;;
	approve | deny) echo "--reason $_jitctl_common" ;;
	exec) echo "--for --reason $_jitctl_common" ;;
	grant) echo "--user --uid --cgroup --unit --until-unit-stops --for --start --reason --max-idle --from-first-use --latest-start $_jitctl_common" ;;
	extend) echo "--for $_jitctl_common" ;;
	revoke) echo "--kill $_jitctl_common" ;;
	list) echo "--all --mine --fleet --unreviewed $_jitctl_common" ;;
	review) echo "--approve --flag --reason --revoke $_jitctl_common" ;;
	report) echo "--since --unused $_jitctl_common" ;;
	show | policy | status) echo "$_jitctl_common" ;;
	audit)
		case $2 in
		verify) echo "--key --since-checkpoint --strict --json --help" ;;
		seal-init) echo "--interval --force $_jitctl_common" ;;
		checkpoint) echo "$_jitctl_common" ;;
		*) echo "--follow --since --filter --json --socket --timeout --help --key
			--since-checkpoint --strict --interval --force" ;;
		esac
		;;
	fleet) echo "--db --migrations --password-file $_jitctl_common" ;;
	help) ;;
	esac
}

# A value that may be @FILE (--key, --since-checkpoint): FILE after the @. With @ in
# COMP_WORDBREAKS (bash's default) bash makes the @ a word of its own ("@", "=@" after
# --opt=) and readline completes only what follows it: right after the @ the files here
# (without -o filenames, whose quoting would turn the @ into \@); then FILE is the next
# word, completed as an argument of 'audit verify'.
_jitctl_atfile()
{
	if [[ $COMP_WORDBREAKS == *@* ]]; then
		[[ $cur == @ || $cur == =@ ]] || return 0
		mapfile -t COMPREPLY < <(compgen -f)
	elif [[ $cur == @* ]]; then
		cur=${cur#@}
		_jitctl_files
		COMPREPLY=("${COMPREPLY[@]/#/@}")
	fi
}

# The value of option $1.
_jitctl_optarg()
{
	case $1 in
	--socket) _jitctl_files ;;
	--password-file) _jitctl_files ;;
	--migrations) _jitctl_files -d ;;
	--key | --since-checkpoint) _jitctl_atfile ;;
	--user) mapfile -t COMPREPLY < <(compgen -u -- "$cur") ;;
	--cgroup)
		[[ -z $cur || $cur == /* ]] || return 0
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -d -- "/sys/fs/cgroup$cur" 2>/dev/null)
		COMPREPLY=("${COMPREPLY[@]#/sys/fs/cgroup}")
		;;
	--unit)
		_jitctl_reply "$(systemctl list-units --type=service --all --no-legend --plain \
			2>/dev/null | awk '{ print $1 }')"
		;;
	--filter)
		_jitctl_reply "$(printf '%s\n' deny allow decision agent granted requested approved \
			extended revoked expired activated policy_applied sealed seal_started \
			break_glass reviewed)"
		;;
	esac
	return 0
}

# _jitctl_positional VERB N: the Nth (from 0) argument of VERB; $pos holds those before it.
_jitctl_positional()
{
	case $1 in
	request | exec | approvers) _jitctl_reply "$(_jitctl_resources)" ;;
	grant) (($2 == 0)) && _jitctl_reply "$(_jitctl_resources)" ;;
	approve | deny) (($2 == 0)) && _jitctl_reply "$(_jitctl_ids pending)" ;;
	extend) (($2 == 0)) && _jitctl_reply "$(_jitctl_ids 'active scheduled')" ;;
	revoke) (($2 == 0)) && _jitctl_reply "$(_jitctl_ids 'active scheduled pending')" ;;
	show) (($2 == 0)) && _jitctl_reply "$(_jitctl_ids '')" ;;
	review)
		(($2 == 0)) && _jitctl_reply "$(_jitctl_query list --unreviewed --json |
			awk -v want= "$_jitctl_awk_list" 2>/dev/null | cut -f1)"
		;;
	help) (($2 == 0)) && _jitctl_reply "$(compgen -W "$_jitctl_verbs")" ;;
	policy)
		if (($2 == 0)); then
			_jitctl_reply "$(printf '%s\n' check apply show explain)"
		elif (($2 == 1)) && [[ ${pos[0]} == explain ]]; then
			mapfile -t COMPREPLY < <(compgen -u -- "$cur")
		elif (($2 >= 2)) && [[ ${pos[0]} == explain ]]; then
			_jitctl_reply "$(_jitctl_resources)"
		elif (($2 == 1)) && [[ ${pos[0]} == check ]]; then
			_jitctl_files
		elif (($2 == 1)) && [[ ${pos[0]} == apply ]]; then
			_jitctl_files
		fi
		;;
	audit)
		if (($2 == 0)); then
			_jitctl_reply "$(printf '%s\n' verify seal-init checkpoint)"
		elif [[ ${pos[0]} == verify ]]; then
			_jitctl_files
		fi
		;;
	fleet)
		if (($2 == 0)); then
			_jitctl_reply "$(printf '%s\n' init add-host add-admin policy hosts)"
		elif (($2 == 1)) && [[ ${pos[0]} == policy ]]; then
			_jitctl_reply push
		elif (($2 == 2)) && [[ ${pos[0]} == policy ]]; then
			_jitctl_files
		fi
		;;
	esac
	return 0
}

_jitctl()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev='' opt='' verb='' w i dd=0 noopt=0
	local _jitctl_sock=''
	local -a pos=()

	COMPREPLY=()
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}

	# the words before the cursor: options (with their values), the verb, its arguments;
	# bash splits --opt=value into "--opt" "=" "value"
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if ((noopt)) || [[ $w != -* ]]; then
			if [[ -z $verb ]]; then verb=$w; else pos+=("$w"); fi
		elif [[ $w == -- ]]; then
			[[ -n $verb ]] && noopt=1
			[[ $verb == exec ]] && dd=$i && break
		elif [[ $_jitctl_argopts == *" $w "* ]]; then
			[[ ${COMP_WORDS[i + 1]} == = ]] && ((i++))
			((i + 1 < COMP_CWORD)) && [[ $w == --socket ]] && _jitctl_sock=${COMP_WORDS[i + 1]}
			((i++))
		fi
	done

	if ((dd)); then
		if declare -F _command_offset >/dev/null; then
			_command_offset $((dd + 1))
		elif ((COMP_CWORD == dd + 1)); then
			mapfile -t COMPREPLY < <(compgen -c -- "$cur")
		else
			_jitctl_files
		fi
		return 0
	fi

	if ((!noopt)); then
		if [[ $cur == = && $_jitctl_argopts == *" $prev "* ]]; then
			opt=$prev
			cur=''
		elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
			opt=${COMP_WORDS[COMP_CWORD - 2]}
		elif [[ $_jitctl_argopts == *" $prev "* ]]; then
			opt=$prev
		fi
		if [[ -n $opt ]]; then
			[[ $_jitctl_argopts == *" $opt "* ]] && _jitctl_optarg "$opt"
			return 0
		fi
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$(_jitctl_options "$verb" "${pos[0]-}")" \
				-- "$cur")
			return 0
		fi
	fi

	if [[ -z $verb ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$_jitctl_verbs" -- "$cur")
	else
		_jitctl_positional "$verb" "${#pos[@]}"
	fi
	return 0
}

complete -F _jitctl jitctl
