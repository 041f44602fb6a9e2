#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# peers.sh: the peers `make bench` measures beside jitd (issue 16), on 6.12 booted with
# apparmor in lsm= (`tests/vm/run.sh BUILD peers`), no jitd running. tests/bench/peers_check
# loads the bench's AppArmor profiles with Debian's apparmor_parser and starts Debian's
# fapolicyd with the bench's rules (tests/bench/peers.c), then checks as uid 1000 (the bench
# uid) and 1001: under AppArmor the protected file and binary are refused (EACCES) and the
# unprotected ones allowed, a filler rule is enforced, a child exec'd stays confined, and the
# "granted" profile allows the protected ones; under fapolicyd uid 1000 is allowed them,
# uid 1001 refused (EPERM), and nothing is refused once it stopped. Its rough figures per
# operation ("peers: ...") are printed, never judged.
echo "peers: kernel $(uname -r), lsm $(cat /sys/kernel/security/lsm)"
/tests/peers_check /tests/nop
