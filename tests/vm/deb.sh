#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The Debian package in a Debian 12 root with systemd as PID 1 (run.sh's deb mode, run by
# jitd-vmtest.service): /tests/debs/jitd-1.deb is what `make deb` built, jitd-2.deb the same
# tree built again as a higher version in another directory (so its BPF object is another
# build: the new jitd loads its own programs and swaps the pins, as a real upgrade does).
#   - install: the files, jitd.service enabled and started, waiting for a policy with
#     nothing enforced (logins set their login uid, root writes the first policy); a
#     policy dropped into /etc/jitd/policy.d is then enforced by itself;
#   - upgrade: a probe opens the protected file every 10 ms from before dpkg -i until the
#     new jitd serves, and is never let through; a grant holder is never refused; the new
#     package's jitd runs afterwards;
#   - remove: refused while a jitd runs outside systemd (the prerm's jitd --unload cannot
#     end enforcement then), and the service comes back; then removed: enforcement ended,
#     the configuration and the state kept;
#   - purge: /etc/jitd, /var/lib/jitd, /var/log/jitd gone.
. /tests/lib.sh

P=$PROBE
SECRET=/srv/secret.txt
DEBS=/tests/debs
POLICY_DIR=/etc/jitd/policy.d

mkdir -p /srv
echo secret >$SECRET
chmod 755 /srv
chmod 644 $SECRET

unit_prop() {
	systemctl show -p "$2" --value "$1" 2>/dev/null
}

show_unit_log() {
	echo "---- journalctl -u jitd.service ----"
	journalctl -q -u jitd.service -n "${1:-30}" --no-pager 2>&1 | sed 's/^/    /'
	echo "----"
}

# pkg_status: dpkg's status of jitd ("install ok installed", "deinstall ok config-files"),
# empty when dpkg does not know it.
pkg_status() {
	dpkg-query -W -f '${Status}' jitd 2>/dev/null
}

# serving: jitd.service is active and its socket answers.
serving() {
	[ "$(unit_prop jitd.service ActiveState)" = active ] && jitctl status
}

# no_jitd_process: no process runs /usr/sbin/jitd.
no_jitd_process() {
	for _p in /proc/[0-9]*; do
		case "$(readlink "$_p/exe" 2>/dev/null)" in /usr/sbin/jitd*) return 1 ;; esac
	done
	return 0
}

V1=$(dpkg-deb -f $DEBS/jitd-1.deb Version)
V2=$(dpkg-deb -f $DEBS/jitd-2.deb Version)
echo "packages: jitd-1.deb $V1, jitd-2.deb $V2"
check deb-upgrade-version-is-higher "$V2 is not above $V1" dpkg --compare-versions "$V2" gt "$V1"
check deb-pid1-is-systemd "PID 1 is $(cat /proc/1/comm)" test "$(cat /proc/1/comm)" = systemd
check deb-not-installed-before "dpkg says: $(pkg_status)" test -z "$(pkg_status)"
expect deb-baseline-alice-opens-secret ok $P as 1001 $P open $SECRET

# ------------------------------------------------------------------ install

if dpkg -i $DEBS/jitd-1.deb >/tmp/deb-install.out 2>&1; then
	pass deb-install
else
	fail deb-install "dpkg -i: $(tail -n 5 /tmp/deb-install.out | tr '\n' ' ')"
	cat /tmp/deb-install.out
	exit 1
fi
check deb-installed-version "dpkg says $(dpkg-query -W -f '${Version} ${Status}' jitd 2>&1)" \
	test "$(dpkg-query -W -f '${Version} ${Status}' jitd)" = "$V1 install ok installed"
for f in /usr/sbin/jitd /usr/bin/jitctl /lib/systemd/system/jitd.service /etc/logrotate.d/jitd \
	/usr/share/man/man8/jitd.8.gz /usr/share/man/man1/jitctl.1.gz \
	/usr/share/man/man5/jitd.policy.5.gz /usr/share/doc/jitd/README.md \
	/usr/share/doc/jitd/protocol.md.gz /usr/share/doc/jitd/LICENSE.gz \
	/usr/share/doc/jitd/copyright /usr/share/doc/jitd/README.Debian \
	/usr/share/doc/jitd/examples/policy.example.json /usr/share/jitd/fleet/0001_init.sql; do
	check "deb-installs-$f" "missing" test -s "$f"
done
check deb-policy-dir-empty "$(ls -A $POLICY_DIR 2>&1)" test -z "$(ls -A $POLICY_DIR)"
conffiles=$(dpkg-query -W -f '${Conffiles}' jitd)
check deb-logrotate-is-conffile "conffiles: $conffiles" contains "$conffiles" '^ /etc/logrotate.d/jitd '
check deb-unit-runs-usr-sbin-jitd "ExecStart: $(unit_prop jitd.service ExecStart | head -c 200)" \
	contains "$(unit_prop jitd.service ExecStart)" 'path=/usr/sbin/jitd '
out=$(jitd --check-policy --policy /usr/share/doc/jitd/examples/policy.example.json 2>&1)
check deb-example-policy-valid "jitd --check-policy: $out" contains "$out" ': valid '
check deb-service-enabled "is-enabled: $(systemctl is-enabled jitd.service 2>&1)" \
	test "$(systemctl is-enabled jitd.service)" = enabled
waiting() {
	[ "$(unit_prop jitd.service ActiveState)" = active ] &&
		journalctl -q -o cat --no-pager -u jitd.service | grep -q 'nothing is enforced; waiting'
}
if wait_for 60 waiting; then
	pass deb-service-started-by-install-waits-for-a-policy
else
	fail deb-service-started-by-install-waits-for-a-policy "jitd.service $(unit_prop jitd.service ActiveState)"
	show_unit_log
	exit 1
fi
check deb-waiting-says-so-in-status "StatusText: $(unit_prop jitd.service StatusText)" \
	contains "$(unit_prop jitd.service StatusText)" "waiting for a policy file in $POLICY_DIR"
check deb-waiting-nothing-pinned "/sys/fs/bpf/jitd exists" test ! -e /sys/fs/bpf/jitd
expect deb-waiting-protects-nothing ok $P as 1001 $P open $SECRET
# what pam_loginuid does at an ssh or console login
check deb-waiting-login-uid-settable "writing /proc/self/loginuid: $(sh -c 'echo 1001 >/proc/self/loginuid' 2>&1)" \
	sh -c 'echo 1001 >/proc/self/loginuid'
check deb-reload-while-waiting "systemctl reload jitd.service failed" systemctl reload jitd.service
check deb-still-waiting-after-reload "jitd.service $(unit_prop jitd.service ActiveState)" waiting

# The test policy (alice: dba; carol: sre and admin): jitd starts by itself.
cp /tests/policy-workflow.json $POLICY_DIR/50-test.json
serial_is() {
	jitctl status --json 2>/dev/null | grep -q "\"serial\": *$1"
}
check deb-first-policy-enforced-by-itself "$(jitctl status --json 2>&1 | grep serial)" \
	wait_for 120 serial_is 1
expect deb-alice-denied EPERM $P as 1001 $P open $SECRET
BOB=$(grant_or_fail deb-grant-bob secrets --user bob --for 30m)
expect deb-bob-granted ok $P as 1002 $P open $SECRET

# ------------------------------------------------------------------ upgrade

pid1=$(unit_prop jitd.service MainPID)
ino1=$(stat -c %i /usr/sbin/jitd)
rm -f /tmp/deb-stop /tmp/deb-alice.out /tmp/deb-bob.out
# poll-open stops at the first answer it is given as WANT: an "ok" for alice is a gap in
# enforcement, an "EPERM" for bob a grant lost on the way.
$P as 1001 $P poll-open $SECRET ok 10 300000 /tmp/deb-stop >/tmp/deb-alice.out 2>&1 &
ALICE=$!
$P as 1002 $P poll-open $SECRET EPERM 10 300000 /tmp/deb-stop >/tmp/deb-bob.out 2>&1 &
BOBP=$!
sleep 1
t0=$(now)
if dpkg -i $DEBS/jitd-2.deb >/tmp/deb-upgrade.out 2>&1; then
	pass deb-upgrade
else
	fail deb-upgrade "dpkg -i: $(tail -n 5 /tmp/deb-upgrade.out | tr '\n' ' ')"
	cat /tmp/deb-upgrade.out
fi
new_main() {
	_p=$(unit_prop jitd.service MainPID)
	[ "$_p" != 0 ] && [ "$_p" != "$pid1" ] && serving
}
wait_for 120 new_main
echo "upgrade: dpkg -i and the new jitd serving took $(fsub "$(now)" "$t0")s"
sleep 1
touch /tmp/deb-stop
wait $ALICE
wait $BOBP
echo "alice's probe: $(cat /tmp/deb-alice.out); bob's probe: $(cat /tmp/deb-bob.out)"
# "stopped LAST TRIES": never given what it waited for
check deb-upgrade-no-unenforced-gap "alice's probe: $(cat /tmp/deb-alice.out)" \
	grep -q '^stopped EPERM [0-9]' /tmp/deb-alice.out
check deb-upgrade-grant-holder-never-denied "bob's probe: $(cat /tmp/deb-bob.out)" \
	grep -q '^stopped ok [0-9]' /tmp/deb-bob.out
tries=$(awk '{ print $3 }' /tmp/deb-alice.out)
check deb-upgrade-probed-throughout "$tries tries" test "${tries:-0}" -ge 50
pid2=$(unit_prop jitd.service MainPID)
check deb-upgrade-version-installed "dpkg says $(dpkg-query -W -f '${Version} ${Status}' jitd 2>&1)" \
	test "$(dpkg-query -W -f '${Version} ${Status}' jitd)" = "$V2 install ok installed"
check deb-upgrade-restarted-jitd "MainPID $pid1 -> $pid2" test "$pid2" != "$pid1" -a "$pid2" != 0
exe=$(readlink /proc/"$pid2"/exe 2>&1)
check deb-upgrade-runs-new-binary "exe $exe, inode $(stat -L -c %i /proc/"$pid2"/exe 2>&1) of $(stat -c %i /usr/sbin/jitd) (was $ino1)" \
	test "$exe" = /usr/sbin/jitd -a "$(stat -L -c %i /proc/"$pid2"/exe)" = "$(stat -c %i /usr/sbin/jitd)" \
	-a "$(stat -c %i /usr/sbin/jitd)" != "$ino1"
from=$(jitctl status --json 2>&1 | grep -o '"programs_from": *"[^"]*"')
echo "after the upgrade: $from"
check deb-upgrade-new-build-swapped-programs "$from" contains "$from" 'loaded and attached'
check deb-upgrade-still-enabled "is-enabled: $(systemctl is-enabled jitd.service 2>&1)" \
	test "$(systemctl is-enabled jitd.service)" = enabled
check deb-upgrade-grant-kept "grant ${BOB:-0}: $(jfield "${BOB:-0}" state)" \
	test "$(jfield "${BOB:-0}" state)" = active
expect deb-upgrade-alice-denied EPERM $P as 1001 $P open $SECRET
expect deb-upgrade-bob-allowed ok $P as 1002 $P open $SECRET

# ------------------------------------------------------------------ remove, refused

# A jitd outside systemd holds the state directory: jitd --unload cannot end enforcement,
# so the prerm fails, the package stays and dpkg starts the service again.
systemctl stop jitd.service
jitd --policy $POLICY_DIR >/tmp/deb-manual.log 2>&1 &
MANUAL=$!
wait_for 120 jitctl status
dpkg -r jitd >/tmp/deb-remove1.out 2>&1
rc=$?
# at once: the service's restarts fail while it runs (systemd's start limit: 5 in 10 s)
kill "$MANUAL"
wait "$MANUAL"
check deb-remove-refused-while-jitd-runs "dpkg -r exited $rc" test "$rc" != 0
check deb-remove-refused-says-why "dpkg -r said: $(tail -n 4 /tmp/deb-remove1.out | tr '\n' ' ')" \
	grep -q 'cannot end enforcement' /tmp/deb-remove1.out
# installed still; dpkg -r only marked it for removal ("deinstall ok installed")
check deb-remove-refused-package-stays "dpkg says: $(pkg_status)" \
	test "$(dpkg-query -W -f '${db:Status-Status}' jitd)" = installed
expect deb-remove-refused-still-enforced EPERM $P as 1001 $P open $SECRET
# dpkg's abort-remove started the service, which waits for the lock (Restart=always)
check deb-remove-refused-service-back "jitd.service $(unit_prop jitd.service ActiveState)" \
	wait_for 120 serving

# ------------------------------------------------------------------ remove, purge

if dpkg -r jitd >/tmp/deb-remove.out 2>&1; then
	pass deb-remove
else
	fail deb-remove "dpkg -r: $(tail -n 5 /tmp/deb-remove.out | tr '\n' ' ')"
	cat /tmp/deb-remove.out
fi
check deb-remove-config-files-state "dpkg says: $(pkg_status)" test "$(pkg_status)" = "deinstall ok config-files"
check deb-remove-binaries-gone "$(ls /usr/sbin/jitd /usr/bin/jitctl 2>&1)" \
	test ! -e /usr/sbin/jitd -a ! -e /usr/bin/jitctl
check deb-remove-no-jitd-process "a process still runs /usr/sbin/jitd" no_jitd_process
check deb-remove-unpinned "$(ls /sys/fs/bpf/jitd 2>&1 | head -n 3)" test ! -e /sys/fs/bpf/jitd
expect deb-remove-enforcement-ended ok $P as 1001 $P open $SECRET
check deb-remove-keeps-policy "$(ls $POLICY_DIR 2>&1)" test -s $POLICY_DIR/50-test.json
check deb-remove-keeps-state "$(ls /var/lib/jitd 2>&1)" test -d /var/lib/jitd
check deb-remove-keeps-conffile "no /etc/logrotate.d/jitd" test -s /etc/logrotate.d/jitd

if dpkg --purge jitd >/tmp/deb-purge.out 2>&1; then
	pass deb-purge
else
	fail deb-purge "dpkg --purge: $(tail -n 5 /tmp/deb-purge.out | tr '\n' ' ')"
	cat /tmp/deb-purge.out
fi
check deb-purge-unknown-to-dpkg "dpkg says: $(pkg_status)" test -z "$(pkg_status)"
for d in /etc/jitd /var/lib/jitd /var/log/jitd /run/jitd /etc/logrotate.d/jitd \
	/lib/systemd/system/jitd.service /etc/systemd/system/multi-user.target.wants/jitd.service \
	/usr/share/doc/jitd /usr/share/jitd; do
	check "deb-purge-removes-$d" "still there: $(ls -ld "$d" 2>&1)" test ! -e "$d" -a ! -L "$d"
done
check deb-purge-unit-unknown "LoadState $(unit_prop jitd.service LoadState)" \
	test "$(unit_prop jitd.service LoadState)" = not-found
expect deb-purge-enforcement-ended ok $P as 1001 $P open $SECRET

if [ "$N_FAIL" != 0 ]; then
	show_unit_log 40
fi
echo "deb tests: $N_PASS passed, $N_FAIL failed"
[ "$N_FAIL" = 0 ]
