#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Inside the VM (make bench): the benchmark, with no jitd running.
echo "bench: kernel $(uname -r), $(nproc) cpu(s)"
# the peers (AppArmor, fapolicyd) decide what the bench assumes: PASS/FAIL lines, rough figures
/tests/peers_check /tests/nop || echo "bench: the peers' check failed (see the FAIL lines above)"
/tests/bench /tests/nop
