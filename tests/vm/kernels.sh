#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kernels.sh OUTDIR [btf]
#
# Fetch the Debian cloud kernels the VM tests boot (6.1, the oldest supported, and 6.12)
# into OUTDIR once, and write OUTDIR/list with one "VERSION PATH_TO_VMLINUZ" line each.
# With "btf", also print the 6.1 kernel's vmlinux.h (from its BTF) on stdout; everything
# else goes to stderr so that stdout stays a clean header.
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

# The meta packages we follow: each depends on the current kernel image of its series.
METAS="linux-image-cloud-amd64 linux-image-6.12-cloud-amd64"

for tool in apt-cache apt-get dpkg-deb od dd; do
	command -v "$tool" >/dev/null || die "'$tool' not found (this needs Debian 12; run 'make deps')"
done

# resolve META: print the linux-image-* package META depends on, or nothing.
resolve() {
	apt-cache depends "$1" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)

pkgs=""
updated=0
for meta in $METAS; do
	pkg=$(resolve "$meta")
	if [ -z "$pkg" ] && [ $updated = 0 ]; then
		log "cannot resolve $meta from the apt cache; running apt-get update"
		apt-get update -q >&2 || die "apt-get update failed"
		updated=1
		pkg=$(resolve "$meta")
	fi
	[ -n "$pkg" ] || die "cannot resolve the kernel package behind $meta (apt-cache depends $meta)"
	pkgs="$pkgs $pkg"
done

list_tmp="$OUTDIR/list.tmp"
: >"$list_tmp"
for pkg in $pkgs; do
	ver=${pkg#linux-image-}
	dir="$OUTDIR/$ver"
	if [ ! -s "$dir/vmlinuz" ]; then
		log "downloading $pkg"
		tmp=$(mktemp -d "$OUTDIR/.dl.XXXXXX")
		# apt-get download writes into the current directory; _apt must be able to write it.
		chmod 0777 "$tmp"
		if ! (cd "$tmp" && apt-get download -q "$pkg" >&2); then
			if [ $updated = 0 ]; then
				log "download failed; running apt-get update and retrying"
				apt-get update -q >&2 || die "apt-get update failed"
				updated=1
			fi
			(cd "$tmp" && apt-get download -q "$pkg" >&2) || {
				rm -rf "$tmp"
				die "apt-get download $pkg failed"
			}
		fi
		deb=$(ls "$tmp"/*.deb 2>/dev/null | head -n1)
		[ -n "$deb" ] || {
			rm -rf "$tmp"
			die "apt-get download $pkg produced no .deb"
		}
		mkdir -p "$tmp/x"
		dpkg-deb -x "$deb" "$tmp/x" || {
			rm -rf "$tmp"
			die "dpkg-deb -x $deb failed"
		}
		vmlinuz=$(ls "$tmp"/x/boot/vmlinuz-* 2>/dev/null | head -n1)
		[ -n "$vmlinuz" ] || {
			rm -rf "$tmp"
			die "$pkg has no boot/vmlinuz-*"
		}
		mkdir -p "$dir"
		cp "$vmlinuz" "$dir/vmlinuz.tmp"
		cp "$tmp"/x/boot/config-* "$dir/config" 2>/dev/null || true
		mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"
		rm -rf "$tmp"
		log "$ver: $dir/vmlinuz"
	fi
	echo "$ver $dir/vmlinuz" >>"$list_tmp"
done
mv "$list_tmp" "$OUTDIR/list"

[ "$MODE" = btf ] || exit 0

# --- vmlinux.h from the 6.1 kernel's BTF ---
command -v bpftool >/dev/null || die "'bpftool' not found (run 'make deps')"
first=$(awk 'NR == 1 { print $2 }' "$OUTDIR/list")
[ -s "$first" ] || die "no 6.1 kernel in $OUTDIR/list"

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
trap 'rm -rf "$work"' EXIT
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
