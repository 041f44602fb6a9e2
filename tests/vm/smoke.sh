#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# smoke.sh: the quickest look at a kernel (`tests/vm/run.sh BUILD smoke`, for developers):
# start jitd, say how long loading took, print `jitctl status`, and on failure the
# verifier's and jitd's messages. One test line, so run.sh can judge it.
. /tests/lib.sh
JITD_START_WAIT=600

mkdir -p /srv && echo s >/srv/secret.txt && chmod 644 /srv/secret.txt
mkdir -p /srv/vault/a/b/c /opt/bin && echo d >/srv/vault/a/b/c/deep.txt && cp /tests/nop /opt/bin/tool
mkdir -p /sys/fs/cgroup/exempt
T0=$(now)
if start_jitd smoke-jitd-starts; then
	echo "smoke: jitd enforcing $(fsub "$(now)" "$T0")s after start"
	jitctl status
	expect smoke-alice-open-secret-denied EPERM $PROBE as 1001 $PROBE open /srv/secret.txt
	stop_jitd
	jitd --unload
else
	cat "$JITD_LOG"
fi
