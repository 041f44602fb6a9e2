#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kernels.sh OUTDIR [btf]
#
# Fetch the Debian cloud kernels the VM tests boot into OUTDIR once: 5.10 (bullseye), 6.1
# and 6.12 (bookworm) and 7.2 (sid). Write OUTDIR/list with one "VERSION PATH_TO_VMLINUZ"
# line each, in that order, and OUTDIR/VERSION/package with the .deb it came from.
# Of each kernel, also keep the modules the VM tests load that Debian builds as modules
# (MODULES: overlayfs, SCTP, sock_diag of TCP and UDP; NET_MODULES: the virtio network card)
# and what they depend on, decompressed for busybox's insmod, in OUTDIR/VERSION/modules/,
# with OUTDIR/VERSION/modules/order and order-net naming them in the order to load them; a
# kernel downloaded before without them gets them from its package downloaded again.
# With "btf", also print the 6.1 kernel's vmlinux.h (from its BTF) on stdout; everything
# else goes to stderr so that stdout stays a clean header.
#
# Bookworm's kernels come through the machine's apt. The other suites come through a
# private apt configuration per suite, OUTDIR/apt/SUITE/ (sources.list, lists/, cache/, an
# empty dpkg status), on the machine's own Debian mirror; the machine's apt sources are
# never touched. Their Release files must verify with DEBIAN_KEYRING (default: the
# machine's debian-archive-keyring); if one needs a newer key, the keyring of Debian
# stable's debian-archive-keyring package (itself verified with DEBIAN_KEYRING) is tried,
# and signature checking is never turned off. `rm -rf OUTDIR/apt` starts these over.
#
# Of each kernel, the unsigned image is preferred and the signed package of the same
# version (the same build, with a signature appended) taken when the mirror lacks it. The
# modules are in the image's package, or since 7.x in linux-modules-VERSION of the same version.
set -euo pipefail

die() {
	echo "kernels.sh: error: $*" >&2
	exit 1
}
log() {
	echo "kernels.sh: $*" >&2
}

[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: kernels.sh OUTDIR [btf]"
OUTDIR=$1
MODE=${2:-}
[ -z "$MODE" ] || [ "$MODE" = btf ] || die "unknown mode '$MODE' (only 'btf')"

# "SUITE META SERIES", in the order of OUTDIR/list: META, a meta package of SUITE, depends on
# the current linux-image-VERSION of the kernel series SERIES (a version prefix).
KERNELS=(
	"bullseye linux-image-cloud-amd64 5.10."
	"bookworm linux-image-cloud-amd64 6.1."
	"bookworm linux-image-6.12-cloud-amd64 6.12."
	"sid linux-image-cloud-amd64 7.2."
)
HOST_SUITE=bookworm # the machine's own apt serves this suite
# The modules tests/vm/init.sh loads (the overlayfs and SCTP tests need them, and the
# connection resets of jitd's sock_diag: inet_diag, tcp_diag, udp_diag); those they depend
# on come along, before them in "order".
MODULES=(overlay sctp inet_diag tcp_diag udp_diag)
# The modules of the network a part's VMs may ask for (tests/vm/run.sh, "# jitd-vm: net"):
# virtio_net, and its PCI transport where it is a module (5.10, 6.1; 6.12 and 7.2 build it in).
# "?": kept when the kernel has it as a module, else taken to be built in (tests/vm/init.sh
# fails the boot when no eth0 comes up).
NET_MODULES=("virtio_pci?" virtio_net)
KEYRING=${DEBIAN_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}

for tool in apt-cache apt-get dpkg-deb od dd; do
	command -v "$tool" >/dev/null || die "'$tool' not found (this needs Debian 12; run 'make deps')"
done
# objcopy reads a module's dependencies (kmod's modinfo need not be installed).
command -v objcopy >/dev/null || die "'objcopy' not found (binutils, which gcc brings; run 'make deps')"
[ -s "$KEYRING" ] || die "no keyring $KEYRING to verify Debian's Release files (apt-get install debian-archive-keyring, or set DEBIAN_KEYRING)"

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
cleanup=()
trap 'rm -rf "${cleanup[@]}"' EXIT

declare -A updated=() # suites whose apt lists this run has refreshed
APT=()                # the apt options of the suite at hand: none for HOST_SUITE

# host_update: apt-get update of the machine's apt, at most once a run.
host_update() {
	[ -z "${updated[$HOST_SUITE]:-}" ] || return 0
	updated[$HOST_SUITE]=1
	apt-get update -q >&2 || die "apt-get update failed"
}

# host_mirror SUITE: the URI the machine's apt fetches SUITE from, or nothing.
host_mirror() {
	apt-get indextargets --format '$(RELEASE) $(REPO_URI)' 2>/dev/null |
		awk -v s="$1" '$1 == s { print $2; exit }'
}

# write_sources SUITE KEYRING: SUITE's private sources.list, on the machine's mirrors (and
# SUITE-security but for sid and stable), verified with KEYRING.
MIRROR=""
write_sources() {
	local suite=$1 keyring=$2 file="$OUTDIR/apt/$1/sources.list" security
	if [ -z "$MIRROR" ]; then
		MIRROR=$(host_mirror "$HOST_SUITE")
		[ -n "$MIRROR" ] || {
			host_update
			MIRROR=$(host_mirror "$HOST_SUITE")
		}
		[ -n "$MIRROR" ] || die "the machine's apt has no $HOST_SUITE source to take the Debian mirror from (apt-get indextargets); this needs Debian 12"
	fi
	security=$(host_mirror "$HOST_SUITE-security")
	{
		echo "# tests/vm/kernels.sh: $suite on the machine's Debian mirror"
		echo "deb [signed-by=$keyring] $MIRROR $suite main"
		case "$suite" in
		sid | stable) ;;
		*) [ -z "$security" ] || echo "deb [signed-by=$keyring] $security $suite-security main" ;;
		esac
	} >"$file.tmp"
	mv "$file.tmp" "$file"
}

# use_suite SUITE: point APT at SUITE's apt, making its private one on first use.
use_suite() {
	local suite=$1 dir="$OUTDIR/apt/$1"
	APT=()
	[ "$suite" != "$HOST_SUITE" ] || return 0
	APT=(-o "Dir::Etc::SourceList=$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache"
		-o "Dir::State::status=$dir/status" -o "Dir::State::extended_states=$dir/extended_states"
		-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null)
	[ ! -s "$dir/sources.list" ] || return 0
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
	: >"$dir/status"
	write_sources "$suite" "$KEYRING"
}

# bad_signature LOG: whether apt's LOG says a Release file did not verify.
bad_signature() {
	grep -qE 'NO_PUBKEY|EXPKEYSIG|KEYEXPIRED|BADSIG|GPG error|is not signed' "$1"
}

# private_update SUITE: apt-get update of SUITE's private apt (APT); fails when it fails.
private_update() {
	local log="$OUTDIR/apt/$1/update.log"
	log "apt-get update of $1 (private apt in $OUTDIR/apt/$1)"
	apt-get -q "${APT[@]}" update >"$log" 2>&1 && ! bad_signature "$log"
}

# stable_keyring: the keyring of Debian stable's debian-archive-keyring package, whose
# Release verifies with KEYRING; for suites signed with a key newer than KEYRING's.
stable_keyring() {
	local dir="$OUTDIR/apt/stable" k tmp deb
	use_suite stable
	if [ ! -d "$dir/keyring" ]; then
		private_update stable || {
			cat "$dir/update.log" >&2
			die "Debian stable's Release does not verify with $KEYRING either: install a newer debian-archive-keyring, or set DEBIAN_KEYRING to a keyring with the key that signs it"
		}
		tmp=$(mktemp -d "$OUTDIR/.dl.XXXXXX")
		cleanup+=("$tmp")
		chmod 0777 "$tmp"
		(cd "$tmp" && apt-get -q "${APT[@]}" download debian-archive-keyring >&2) ||
			die "apt-get download debian-archive-keyring from Debian stable failed"
		deb=$(ls "$tmp"/*.deb 2>/dev/null | head -n1)
		[ -n "$deb" ] && dpkg-deb -x "$deb" "$tmp/x" ||
			die "cannot unpack debian-archive-keyring from Debian stable"
		mv "$tmp/x" "$dir/keyring"
		rm -rf "$tmp" # a command substitution runs this: the EXIT trap is not ours here
	fi
	for k in "$dir"/keyring/usr/share/keyrings/debian-archive-keyring.{pgp,gpg}; do
		if [ -s "$k" ]; then
			echo "$k"
			return 0
		fi
	done
	die "Debian stable's debian-archive-keyring has no usr/share/keyrings/debian-archive-keyring.{pgp,gpg}"
}

# update SUITE: refresh SUITE's apt lists (APT), at most once a run. A private suite whose
# Release does not verify with KEYRING gets Debian stable's keyring instead, never none.
update() {
	local suite=$1 log="$OUTDIR/apt/$1/update.log" newer
	if [ "$suite" = "$HOST_SUITE" ]; then
		host_update
		return 0
	fi
	[ -z "${updated[$suite]:-}" ] || return 0
	updated[$suite]=1
	private_update "$suite" && return 0
	if ! bad_signature "$log"; then
		cat "$log" >&2
		die "apt-get update of $suite failed (see above; $OUTDIR/apt/$suite/sources.list)"
	fi
	grep -F "signed-by=$KEYRING]" "$OUTDIR/apt/$suite/sources.list" >/dev/null || {
		cat "$log" >&2
		die "$suite's Release does not verify (see above): install a newer debian-archive-keyring, or set DEBIAN_KEYRING to a keyring with the key that signs it, and rm -rf $OUTDIR/apt/$suite"
	}
	log "$suite's Release does not verify with $KEYRING: $(grep -oE 'NO_PUBKEY [0-9A-F]+|EXPKEYSIG [0-9A-F]+' "$log" | sort -u | tr '\n' ' ')"
	newer=$(stable_keyring)
	use_suite "$suite"
	log "trying $suite with Debian stable's keyring $newer"
	write_sources "$suite" "$newer"
	private_update "$suite" || {
		cat "$log" >&2
		die "$suite's Release does not verify with Debian stable's keyring either: install a newer debian-archive-keyring, or set DEBIAN_KEYRING to a keyring with the key that signs it, and rm -rf $OUTDIR/apt/$suite"
	}
}

# resolve META: the linux-image-VERSION package META depends on in the suite at hand, or
# nothing (apt-cache fails on a package it does not know, as in lists not fetched yet).
resolve() {
	{ apt-cache "${APT[@]}" depends "$1" 2>/dev/null || true; } |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

# download DIR PKG: apt-get download PKG (NAME or NAME=VERSION) of the suite at hand into DIR,
# made anew in a directory _apt can enter, and set DEB to the .deb; fails, saying why, when
# apt-get fails.
DEB=""
download() {
	local dir=$1 p=$2
	rm -rf "$dir"
	mkdir -p "$dir" || die "cannot make $dir"
	# apt-get download writes into the current directory; _apt must be able to write it.
	chmod 0777 "$dir"
	log "downloading $p"
	if ! (cd "$dir" && apt-get -q "${APT[@]}" download "$p") >"$dir/log" 2>&1; then
		log "apt-get download $p failed: $({ grep -E '^E: ' "$dir/log" || grep -E '^W: ' "$dir/log"; } | head -n1)"
		return 1
	fi
	DEB=$(ls "$dir"/*.deb 2>/dev/null | head -n1)
	[ -n "$DEB" ] || die "apt-get download $p produced no .deb"
}

# unko FILE OUT: the module FILE (.ko, .ko.xz, .ko.zst or .ko.gz) decompressed into OUT;
# busybox's insmod reads uncompressed modules only.
unko() {
	local tool=""
	case "$1" in
	*.ko.xz) tool=xz ;;
	*.ko.zst) tool=zstd ;;
	*.ko.gz) tool=gzip ;;
	*.ko) ;;
	*) die "unknown compression of the module $1" ;;
	esac
	if [ -z "$tool" ]; then
		cp "$1" "$2" || die "cannot copy $1"
	else
		command -v "$tool" >/dev/null || die "'$tool' not found for the module $1 (run 'make deps')"
		"$tool" -dcq "$1" >"$2" || die "$tool cannot decompress the module $1"
	fi
	[ "$(od -An -tx1 -N4 "$2" | tr -d ' \n')" = 7f454c46 ] ||
		die "the module $1 is no ELF file once decompressed"
}

# add_module NAME [NEEDED_BY]: for keep_modules, whose locals it uses (ver, out, path, seen,
# order): the modules NAME depends on (modinfo -F depends, from its .modinfo section), then
# NAME, decompressed into out and appended to order.
add_module() {
	local m=$1 f=${path[$1]:-} deps d
	[ -z "${seen[$m]:-}" ] || return 0
	seen[$m]=1
	[ -n "$f" ] || die "the modules of $ver lack $m (needed by ${2:-the VM tests})"
	unko "$f" "$out/$m.ko"
	objcopy -O binary --only-section=.modinfo "$out/$m.ko" "$out/$m.modinfo" ||
		die "cannot read the .modinfo section of $f (objcopy)"
	deps=$(tr '\0' '\n' <"$out/$m.modinfo" | sed -n 's/^depends=//p' | tr ',' ' ')
	rm -f "$out/$m.modinfo"
	for d in $deps; do
		add_module "$d" "$m"
	done
	order+=("$m.ko")
}

# modules_cached ORDER: does ORDER (a cache's "order" file) name every module of MODULES?
modules_cached() {
	local m
	for m in "${MODULES[@]}"; do
		grep -qx "${m%\?}.ko" "$1" || return 1
	done
}

# keep_list FILE MODULE...: for keep_modules, whose locals it uses (ver, out, path, seen,
# order): each MODULE and, recursively, what it depends on, with FILE in out naming them
# dependencies first. A MODULE ending in "?" is left out when there is no such module.
keep_list() {
	local file=$1 m
	shift
	seen=()
	order=()
	for m in "$@"; do
		case "$m" in
		*'?')
			m=${m%'?'}
			[ -n "${path[$m]:-}" ] || continue
			;;
		esac
		add_module "$m"
	done
	printf '%s\n' "${order[@]}" >"$out/$file" || die "cannot write $out/$file"
}

# keep_modules VERSION TREE: MODULES and NET_MODULES and, recursively, the modules they depend
# on (the hard dependencies of modinfo's depends=; soft ones, as libcrc32c's on crc32c, are
# left to the kernel, which builds crc32c in), from VERSION's modules in TREE, an unpacked
# package (lib/modules/VERSION/, or usr/lib/modules/VERSION/ since 7.x), decompressed into
# OUTDIR/VERSION/modules/ with "order" (MODULES) and "order-net" (NET_MODULES), their file
# names dependencies first. Fails, naming them in MISSING, when TREE lacks modules of MODULES
# or NET_MODULES (but those marked "?"); dies when it lacks a dependency.
MISSING=""
keep_modules() {
	local ver=$1 tree=$2 out="$OUTDIR/$1/modules.tmp" f n m
	local -A path=() seen=()
	local order=()
	while IFS= read -r f; do
		n=${f##*/}
		n=${n%%.ko*}
		path[${n//-/_}]=$f # a module's name has _ where its file name may have -
	done < <(find "$tree/lib/modules/$ver" "$tree/usr/lib/modules/$ver" -type f -name '*.ko*' 2>/dev/null)
	MISSING=""
	for m in "${MODULES[@]}" "${NET_MODULES[@]}"; do
		case "$m" in *'?') continue ;; esac
		[ -n "${path[$m]:-}" ] || MISSING+="${MISSING:+ }$m"
	done
	[ -z "$MISSING" ] || return 1
	rm -rf "$out"
	mkdir -p "$out" || die "cannot make $out"
	keep_list order "${MODULES[@]}"
	keep_list order-net "${NET_MODULES[@]}"
	rm -rf "$OUTDIR/$ver/modules"
	mv "$out" "$OUTDIR/$ver/modules" || die "cannot move $out into place"
	log "$ver: modules $(tr '\n' ' ' <"$OUTDIR/$ver/modules/order")and for the network $(tr '\n' ' ' <"$OUTDIR/$ver/modules/order-net")in $OUTDIR/$ver/modules"
}

# get_modules VERSION TREE PKG_VERSION DIR: keep_modules VERSION of TREE, the unpacked kernel
# package of version PKG_VERSION, or when it has none (7.x's linux-binary-* holds the image
# only) of linux-modules-VERSION=PKG_VERSION of the suite at hand, downloaded into DIR and
# unpacked into TREE. Dies when neither has them.
get_modules() {
	local ver=$1 tree=$2 pv=$3 dir=$4
	keep_modules "$ver" "$tree" && return 0
	log "$ver: no $MISSING in its kernel package; trying linux-modules-$ver"
	download "$dir" "linux-modules-$ver=$pv" ||
		die "the package of $ver lacks the modules $MISSING and linux-modules-$ver=$pv cannot be downloaded (see above): change get_modules in tests/vm/kernels.sh to where this kernel keeps its modules"
	dpkg-deb -x "$DEB" "$tree" || die "dpkg-deb -x $DEB failed"
	keep_modules "$ver" "$tree" ||
		die "neither the package of $ver nor linux-modules-$ver=$pv has the modules $MISSING (lib/modules/$ver/, usr/lib/modules/$ver/): change MODULES, NET_MODULES or get_modules in tests/vm/kernels.sh"
}

# fetch VERSION: OUTDIR/VERSION/vmlinuz and its modules from the suite at hand; fails when no
# package of VERSION could be downloaded. The unsigned image first; sid keeps the image in
# linux-binary-* (usr/lib/modules/*/vmlinuz*), its linux-image-* only depends on it.
fetch() {
	local ver=$1 dir="$OUTDIR/$1" tmp p vmlinuz cands=()
	for p in "linux-image-$ver-unsigned" "linux-binary-unsigned-$ver" "linux-binary-$ver" "linux-image-$ver"; do
		apt-cache "${APT[@]}" show "$p" >/dev/null 2>&1 && cands+=("$p")
	done
	[ ${#cands[@]} -gt 0 ] || return 1
	tmp=$(mktemp -d "$OUTDIR/.dl.XXXXXX")
	cleanup+=("$tmp")
	chmod 0755 "$tmp" # for _apt, who downloads into it (download)
	for p in "${cands[@]}"; do
		rm -rf "$tmp/x"
		download "$tmp/p" "$p" || continue
		mkdir "$tmp/x"
		dpkg-deb -x "$DEB" "$tmp/x" || die "dpkg-deb -x $DEB failed"
		vmlinuz=$(ls "$tmp"/x/boot/vmlinuz-* "$tmp"/x/usr/lib/modules/*/vmlinuz* 2>/dev/null | head -n1)
		if [ -z "$vmlinuz" ]; then
			log "$p holds no kernel image (boot/vmlinuz-*, usr/lib/modules/*/vmlinuz*)"
			continue
		fi
		# (set -e is off here: the caller tests the status)
		mkdir -p "$dir" && cp "$vmlinuz" "$dir/vmlinuz.tmp" || die "cannot copy $vmlinuz to $dir"
		cp "$(ls "$tmp"/x/boot/config-* "$tmp"/x/usr/lib/modules/*/config 2>/dev/null | head -n1)" \
			"$dir/config" 2>/dev/null || true
		basename "$DEB" >"$dir/package"
		get_modules "$ver" "$tmp/x" "$(dpkg-deb -f "$DEB" Version)" "$tmp/m"
		mv "$dir/vmlinuz.tmp" "$dir/vmlinuz" || die "cannot move $dir/vmlinuz.tmp into place"
		rm -rf "$tmp"
		log "$ver: $dir/vmlinuz (from $(cat "$dir/package"))"
		return 0
	done
	rm -rf "$tmp"
	return 1
}

# refetch_modules VERSION SUITE: the modules of a kernel downloaded without them (or without
# those of the network, NET_MODULES), from the package OUTDIR/VERSION/vmlinuz came from (OUTDIR/VERSION/package: NAME_VERSION_ARCH.deb)
# downloaded again from SUITE, the suite at hand.
refetch_modules() {
	local ver=$1 suite=$2 file name pv tmp
	file=$(cat "$OUTDIR/$ver/package" 2>/dev/null) || true
	case "$file" in
	*_*_*.deb) ;;
	*) die "$OUTDIR/$ver has a vmlinuz but no package file naming the .deb it came from: rm -rf $OUTDIR/$ver and run 'make kernels' again" ;;
	esac
	name=${file%%_*}
	pv=${file#*_}
	pv=${pv%_*}
	pv=${pv//%3a/:} # apt's file names spell an epoch's colon %3a
	log "$ver: not all modules kept yet; downloading $name $pv again for them"
	tmp=$(mktemp -d "$OUTDIR/.dl.XXXXXX")
	cleanup+=("$tmp")
	chmod 0755 "$tmp" # for _apt, who downloads into it (download)
	if ! download "$tmp/p" "$name=$pv"; then
		[ -z "${updated[$suite]:-}" ] ||
			die "cannot download $name=$pv from $suite again (see above)"
		log "running apt-get update of $suite and retrying"
		update "$suite"
		download "$tmp/p" "$name=$pv" ||
			die "cannot download $name=$pv, the package of $OUTDIR/$ver/vmlinuz, from $suite again (no longer on the mirror?): rm -rf $OUTDIR/$ver and run 'make kernels' again to fetch $ver anew with its modules"
	fi
	mkdir "$tmp/x"
	dpkg-deb -x "$DEB" "$tmp/x" || die "dpkg-deb -x $DEB failed"
	get_modules "$ver" "$tmp/x" "$pv" "$tmp/m"
	rm -rf "$tmp"
}

list_tmp="$OUTDIR/list.tmp"
cleanup+=("$list_tmp")
: >"$list_tmp"
for k in "${KERNELS[@]}"; do
	read -r suite meta series <<<"$k"
	use_suite "$suite"
	# Twice at most: a kernel that cannot be resolved or downloaded with the apt lists at
	# hand may be after an apt-get update (a new kernel in the suite, the old one gone).
	for try in 1 2; do
		pkg=$(resolve "$meta")
		if [ -z "$pkg" ]; then
			[ $try = 1 ] || die "cannot resolve the kernel package behind $suite's $meta (apt-cache depends $meta${APT[*]:+ with the options of $OUTDIR/apt/$suite})"
			log "no $meta in $suite's apt lists (or none yet); running apt-get update"
			update "$suite"
			continue
		fi
		ver=${pkg#linux-image-}
		case "$ver" in
		"$series"*) ;;
		*) die "$suite's $meta depends on $pkg, not a $series kernel: change KERNELS in tests/vm/kernels.sh (and the kernels that tests/vm/run.sh names)" ;;
		esac
		if [ -s "$OUTDIR/$ver/vmlinuz" ]; then
			# a cache from before NET_MODULES has no order-net; one from before a module
			# joined MODULES lacks it in order
			if [ ! -s "$OUTDIR/$ver/modules/order" ] || [ ! -s "$OUTDIR/$ver/modules/order-net" ] ||
				! modules_cached "$OUTDIR/$ver/modules/order"; then
				refetch_modules "$ver" "$suite"
			fi
			break
		fi
		fetch "$ver" && break
		[ $try = 1 ] && [ -z "${updated[$suite]:-}" ] ||
			die "cannot download $ver from $suite (tried linux-image-$ver-unsigned, linux-binary-unsigned-$ver, linux-binary-$ver and linux-image-$ver; see above)"
		log "no package of $ver could be downloaded; running apt-get update of $suite and retrying"
		update "$suite"
	done
	echo "$ver $OUTDIR/$ver/vmlinuz" >>"$list_tmp"
done
mv "$list_tmp" "$OUTDIR/list"

[ "$MODE" = btf ] || exit 0

# --- vmlinux.h from the 6.1 kernel's BTF ---
command -v bpftool >/dev/null || die "'bpftool' not found (run 'make deps')"
first=$(awk '$1 ~ /^6\.1\./ { print $2; exit }' "$OUTDIR/list")
[ -n "$first" ] && [ -s "$first" ] || die "no 6.1 kernel in $OUTDIR/list (run 'make kernels')"
# le32 FILE OFFSET: the little-endian 32-bit number at OFFSET.
le32() {
	od -An -tu1 -j "$2" -N4 "$1" | awk '{ print $1 + $2 * 256 + $3 * 65536 + $4 * 16777216 }'
}
u8() {
	od -An -tu1 -j "$2" -N1 "$1" | awk '{ print $1 }'
}
magic=$(dd if="$first" bs=1 skip=514 count=4 2>/dev/null)
[ "$magic" = HdrS ] || die "$first is not a bzImage (no HdrS header)"
setup_sects=$(u8 "$first" $((0x1f1)))
[ "$setup_sects" != 0 ] || setup_sects=4
payload_off=$(le32 "$first" $((0x248)))
payload_len=$(le32 "$first" $((0x24c)))
base=$(((setup_sects + 1) * 512))
[ "$payload_len" -gt 0 ] || die "$first: empty payload in the boot header"

work=$(mktemp -d)
cleanup+=("$work")
dd if="$first" of="$work/payload" bs=1M iflag=skip_bytes,count_bytes \
	skip=$((base + payload_off)) count="$payload_len" 2>/dev/null ||
	die "cannot cut the payload out of $first"
head4=$(od -An -tx1 -N6 "$work/payload" | tr -d ' \n')
case "$head4" in
02214c18*)
	command -v lz4 >/dev/null || die "'lz4' not found (run 'make deps')"
	# The kernel appends the uncompressed size after the frames; lz4 may complain about it.
	lz4 -dc "$work/payload" >"$work/vmlinux" 2>"$work/err" || true
	;;
28b52ffd*)
	command -v zstd >/dev/null || die "'zstd' not found (run 'make deps')"
	zstd -dc "$work/payload" >"$work/vmlinux" 2>"$work/err" || true
	;;
fd377a585a00)
	command -v xz >/dev/null || die "'xz' not found (run 'make deps')"
	xz -dc "$work/payload" >"$work/vmlinux" 2>"$work/err" || true
	;;
1f8b*)
	gzip -dc "$work/payload" >"$work/vmlinux" 2>"$work/err" || true
	;;
*)
	die "unknown compression of $first payload (magic $head4)"
	;;
esac
elf=$(od -An -tx1 -N4 "$work/vmlinux" | tr -d ' \n')
[ "$elf" = 7f454c46 ] || die "decompressing $first did not give an ELF vmlinux: $(cat "$work/err")"
bpftool btf dump file "$work/vmlinux" format c || die "bpftool btf dump of $first failed"
