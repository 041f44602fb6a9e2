#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# sysroot.sh DIR
#
# A Debian 12 root with systemd (PID 1, journald, D-Bus) for the VM tests that need a real
# systemd: `jitctl exec` in a transient scope, `jitctl grant --unit`, jitd.service itself,
# journald and logrotate. Made once with debootstrap from Debian's packages (about a
# minute), then reused while the package list below stays the same; tests/vm/run.sh copies
# it and adds jitd and the tests for each run.
#
# Environment: DEBIAN_MIRROR (default: the first deb.debian.org-style URI apt uses, else
# http://deb.debian.org/debian).
set -euo pipefail

die() {
	echo "sysroot.sh: error: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: sysroot.sh DIR"
DIR=$1
[ "$(id -u)" = 0 ] || die "debootstrap needs root"
command -v debootstrap >/dev/null || die "'debootstrap' not found (run 'make deps')"

SUITE=bookworm
# jitd's and jitctl's shared libraries, systemd as init, D-Bus, and logrotate for the
# rotation test. Changing this list rebuilds the root.
INCLUDE=systemd,systemd-sysv,dbus,libbpf1,libjansson4,libelf1,libssl3,libpq5,logrotate
STAMP="$SUITE $INCLUDE v1"

if [ -f "$DIR/.jitd-sysroot" ] && [ "$(cat "$DIR/.jitd-sysroot")" = "$STAMP" ]; then
	exit 0
fi

mirror=${DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
	mirror=$(grep -hsE '^(URIs:|deb) ' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
		/etc/apt/sources.list.d/*.list 2>/dev/null |
		grep -oE 'https?://[^ ]*/debian/?' | grep -v security | head -n 1 || true)
	mirror=${mirror:-http://deb.debian.org/debian}
fi

rm -rf "$DIR" "$DIR.tmp"
mkdir -p "$(dirname "$DIR")"
echo "sysroot.sh: debootstrap $SUITE from $mirror into $DIR (once; about a minute)" >&2
if ! debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$DIR.tmp" "$mirror" \
	>"$DIR.log" 2>&1; then
	tail -n 20 "$DIR.log" >&2
	die "debootstrap failed (full log: $DIR.log)"
fi

# What a test VM never reads: documentation, translations, the apt cache.
rm -rf "$DIR.tmp"/usr/share/{doc,man,info,locale}/* "$DIR.tmp"/var/cache/apt/* \
	"$DIR.tmp"/var/lib/apt/lists/*
# Units that only slow a TCG boot down or wait for devices the VM lacks.
for u in getty@tty1.service cron.service e2scrub_reap.service systemd-pstore.service \
	apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
	fstrim.timer logrotate.timer; do
	find "$DIR.tmp/etc/systemd/system" -name "$u" -type l -delete
done
echo "$STAMP" >"$DIR.tmp/.jitd-sysroot"
mv "$DIR.tmp" "$DIR"
echo "sysroot.sh: $DIR ready ($(du -sh "$DIR" | cut -f1))" >&2
