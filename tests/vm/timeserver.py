#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""tests/vm/timeserver.py PORT_FILE: the host's clock for the fleet part's VMs (tests/vm/fleet.sh).

A VM's clock starts from the emulated RTC, whole seconds behind or ahead of the host's by up to
one second. Fleet grants carry the database's times (starts_at, expires_at), and the database
runs on this host: the VMs set their clocks from here first (`probe clock-from`, NTP's way), as
hosts of a real fleet keep theirs with NTP. tests/vm/run.sh starts it before the VMs and kills
it after them. It listens on the host's 127.0.0.1 on a port the kernel picks, written to
PORT_FILE once it listens; each connection gets one line "SECONDS.NANOSECONDS" (time since the
epoch) and is closed. Runs until killed.
"""
import os
import socket
import sys
import time


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: timeserver.py PORT_FILE")
    port_file = sys.argv[1]
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    with open(port_file + ".tmp", "w") as f:
        f.write(f"{srv.getsockname()[1]}\n")
    os.rename(port_file + ".tmp", port_file)
    while True:
        conn, _ = srv.accept()
        with conn:
            ns = time.time_ns()
            conn.sendall(f"{ns // 1000000000}.{ns % 1000000000:09d}\n".encode())


if __name__ == "__main__":
    main()
