#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Kernel-side clients for bench/memory.sh: many TCP connections to utcp-serve, held open
until the script has measured the server's RSS.

  memory_clients.py echo  HOST PORT N SIZE CTL   N connections, each echoes SIZE bytes
  memory_clients.py hold  HOST PORT N 0    CTL   N connections that send nothing
  memory_clients.py sink  HOST PORT N 0    CTL   N connections that never read (chargen)

All N are opened (at most BATCH connects in flight), the exchange runs, then CTL/ready is
written and the clients wait for CTL/go; they close everything, write CTL/closed and exit.
Exit status 1 if a connection failed or an echo came back different."""
import os
import selectors
import socket
import sys
import time

BATCH = 400
LIMIT = 240  # seconds for the opening and the exchange


def payload(i, size):
    # Distinct bytes per connection, so a mix-up between connections shows.
    seed = (i * 2654435761) & 0xFFFFFFFF
    return bytes(((seed >> (8 * (k % 4))) + k) & 0xFF for k in range(size))


def wait_for(path):
    while not os.path.exists(path):
        time.sleep(0.05)


def main(argv):
    mode, host, port, n, size, ctl = argv[0], argv[1], int(argv[2]), int(argv[3]), int(argv[4]), argv[5]
    sel = selectors.DefaultSelector()
    socks = []
    state = {}  # fd -> [sock, index, sent, received bytes]
    pending = 0  # connects in flight
    done = 0  # connections finished with their exchange (or just established)
    next_i = 0
    deadline = time.monotonic() + LIMIT
    failures = 0
    expected = {}

    def start(i):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        if mode == "sink":
            # A small receive buffer: the point is the server's memory, not the kernel's.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        s.connect_ex((host, port))
        socks.append(s)
        state[s.fileno()] = [s, i, 0, bytearray(), False]
        sel.register(s, selectors.EVENT_WRITE)

    while done < n:
        while next_i < n and pending < BATCH:
            start(next_i)
            next_i += 1
            pending += 1
        if time.monotonic() > deadline:
            print(f"timeout: {done} of {n} done, {pending} pending", file=sys.stderr)
            return 1
        for key, ev in sel.select(timeout=1.0):
            st = state[key.fd]
            s = st[0]
            if not st[4]:  # connect completing
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err != 0:
                    print(f"connect {st[1]}: {os.strerror(err)}", file=sys.stderr)
                    failures += 1
                    sel.unregister(s)
                    pending -= 1
                    done += 1
                    continue
                st[4] = True
                if mode != "echo":
                    sel.unregister(s)
                    pending -= 1
                    done += 1
                    continue
                expected[key.fd] = payload(st[1], size)
                sel.modify(s, selectors.EVENT_WRITE | selectors.EVENT_READ)
            if mode == "echo":
                data = expected[key.fd]
                if st[2] < size and ev & selectors.EVENT_WRITE:
                    st[2] += s.send(data[st[2]:])
                    if st[2] == size:
                        sel.modify(s, selectors.EVENT_READ)
                if ev & selectors.EVENT_READ:
                    chunk = s.recv(65536)
                    if not chunk:
                        print(f"echo {st[1]}: closed early", file=sys.stderr)
                        failures += 1
                    st[3] += chunk
                    if not chunk or len(st[3]) >= size:
                        if bytes(st[3]) != data:
                            print(f"echo {st[1]}: bytes differ", file=sys.stderr)
                            failures += 1
                        sel.unregister(s)
                        pending -= 1
                        done += 1
    with open(os.path.join(ctl, "ready"), "w") as f:
        f.write(f"{n} {failures}\n")
    wait_for(os.path.join(ctl, "go"))
    for s in socks:
        s.close()
    with open(os.path.join(ctl, "closed"), "w") as f:
        f.write("closed\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
