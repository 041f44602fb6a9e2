#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Inside the VM (make bench): the benchmark, with no jitd running; it starts and stops jitd
# itself for its "jitd + agent" rows. Rounds: jitd.rounds=N on the kernel command line
# (run.sh passes BENCH_ROUNDS), else bench.c's default; jitd.icount=1: the boot counts
# instructions (run.sh's third boot), said in the output.
# shellcheck source=tests/vm/lib.sh
. /tests/lib.sh
echo "bench: kernel $(uname -r), $(nproc) cpu(s)"
[ "$(kparam jitd.icount)" != 1 ] ||
	echo "bench: instruction-counted (qemu -icount shift=0): the guest's clock advances 1 ns an instruction, so each ns below is one instruction executed"
# the peers (AppArmor, fapolicyd) decide what the bench assumes: PASS/FAIL lines, rough figures
/tests/peers_check /tests/nop || echo "bench: the peers' check failed (see the FAIL lines above)"
rounds=$(kparam jitd.rounds)
/tests/bench /tests/nop ${rounds:+"$rounds"}
