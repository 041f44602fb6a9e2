#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""tests/vm/lineserver.py VMS TOKEN PORT_FILE: the host's end of the net part (tests/vm/net.sh).

tests/vm/run.sh starts it before the VMs of the part and kills it after them. It listens on
the host's 127.0.0.1, on a port the kernel picks (no fixed port: two runs may be under way at
once), and writes that port to PORT_FILE once it listens. Each VM connects to 10.0.2.2:PORT
(qemu's user network turns that into the host's loopback) and sends one line
"hello KERNEL VM"; the answer is "jitd-net-host TOKEN SEEN/VMS LINE", given once VMS
different VMs of that KERNEL are connected at the same time, or after WAIT seconds with
SEEN < VMS. A VM that reads its own line back behind TOKEN has reached this server; one that
reads VMS/VMS knows the other VMs of its kernel were connected with it. One line per
connection on stderr. Runs until killed.
"""
import os
import socket
import sys
import threading

WAIT = 120  # seconds a VM waits for the others of its kernel (they boot side by side)


def log(msg):
    """One line on stderr in one write: the threads' lines do not mix."""
    os.write(2, f"lineserver: {msg}\n".encode())


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: lineserver.py VMS TOKEN PORT_FILE")
    vms, token, port_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    lock = threading.Condition()
    waiting = {}  # kernel -> the VMs of that kernel connected and waiting

    def serve(conn, peer):
        with conn:
            conn.settimeout(WAIT)
            try:
                line = conn.makefile("r", encoding="utf-8", errors="replace").readline().strip()
            except OSError as e:
                log(f"{peer}: no line: {e}")
                return
            words = line.split()
            if len(words) != 3 or words[0] != "hello":
                conn.sendall(f"jitd-net-host {token} bad-line {line}\n".encode())
                log(f"{peer}: bad line {line!r}")
                return
            kernel, vm = words[1], words[2]
            with lock:
                here = waiting.setdefault(kernel, set())
                here.add(vm)
                lock.notify_all()
                all_here = lock.wait_for(lambda: len(here) >= vms, timeout=WAIT)
                seen = len(here)
                if not all_here:
                    here.discard(vm)  # gone: a VM that comes later does not count it
            conn.sendall(f"jitd-net-host {token} {seen}/{vms} {line}\n".encode())
            log(f"{kernel} {vm} from {peer[0]}:{peer[1]}: {seen}/{vms} connected")

    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    with open(port_file + ".tmp", "w") as f:
        f.write(f"{srv.getsockname()[1]}\n")
    os.rename(port_file + ".tmp", port_file)
    while True:
        conn, peer = srv.accept()
        threading.Thread(target=serve, args=(conn, peer), daemon=True).start()


if __name__ == "__main__":
    main()
