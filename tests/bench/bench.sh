#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Inside the VM (make bench): the benchmark, with no jitd running.
echo "bench: kernel $(uname -r), $(nproc) cpu(s)"
/tests/bench /tests/nop
