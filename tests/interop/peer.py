#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Kernel-side peers for the interop tests (run inside the test's namespace).

Each subcommand checks its own outcome and exits non-zero with a one-line reason.
"""
import hashlib
import os
import socket
import struct
import sys
import threading
import time



def accept_one(port, rcvbuf=0):
    """Listens on port (IPv4 and IPv6), accepts one connection within 20 s and closes the
    listener; rcvbuf,
    if set, is the listener's SO_RCVBUF (the accepted socket inherits it)."""
    # Dual stack where the kernel has IPv6: one listener for both families.
    try:
        ls = socket.socket(socket.AF_INET6)
        ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        addr = ("::", port)
    except OSError:
        ls = socket.socket()
        addr = ("0.0.0.0", port)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    ls.bind(addr)
    ls.listen(1)
    ls.settimeout(20)
    with ls:
        c, _ = ls.accept()
    return c

def fail(msg):
    print(f"peer.py: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def recv_all(sock):
    chunks = []
    while True:
        b = sock.recv(65536)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def connect(host, port, timeout=20):
    s = socket.create_connection((host, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def echo_client(host, port, nbytes):
    """Sends nbytes, half-closes, then reads the whole echo: the peer must keep sending
    after our FIN (it is in CLOSE-WAIT) and close once done."""
    data = os.urandom(nbytes)
    s = connect(host, port)
    sender = threading.Thread(target=lambda: (s.sendall(data), s.shutdown(socket.SHUT_WR)))
    sender.start()
    got = recv_all(s)
    sender.join()
    s.close()
    if got != data:
        fail(f"echo differs: sent {len(data)} bytes, got {len(got)}")
    print(f"echo of {nbytes} bytes after half-close: ok")


def late_reply_server(port, reply_delay):
    """Reads until the client's FIN, then (after a pause) answers with the byte count and
    SHA-256 of what came: the client must still receive after its own FIN."""
    c = accept_one(port)
    c.settimeout(20)
    got = recv_all(c)
    time.sleep(reply_delay)
    c.sendall(f"{len(got)} {hashlib.sha256(got).hexdigest()}\n".encode())
    c.close()


def many_echo(host, port, nclients, nbytes):
    """nclients connections open at once, each echoing its own random bytes."""
    errors = []
    barrier = threading.Barrier(nclients)

    def one(i):
        try:
            data = os.urandom(nbytes)
            s = connect(host, port, timeout=60)
            barrier.wait(timeout=60)  # all connected before anyone sends
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            got = recv_all(s)
            s.close()
            if got != data:
                errors.append(f"client {i}: sent {len(data)}, echo {len(got)} bytes differ")
        except Exception as e:  # noqa: BLE001 - report every failure the same way
            errors.append(f"client {i}: {e!r}")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(nclients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        fail(f"{len(errors)} of {nclients} clients failed; first: {errors[0]}")
    print(f"{nclients} concurrent echo clients x {nbytes} bytes: ok")


def refused(host, port):
    try:
        connect(host, port, timeout=5)
    except ConnectionRefusedError:
        print("connection refused: ok")
        return
    except Exception as e:  # noqa: BLE001
        fail(f"expected connection refused, got {e!r}")
    fail("expected connection refused, but the connection was accepted")


def abort_client(host, port, nbytes, read_bytes=0):
    """Sends nbytes and reads read_bytes of what the peer sends (it may still be sending),
    then closes with SO_LINGER 0: the kernel sends RST mid-transfer."""
    s = connect(host, port)
    s.sendall(os.urandom(nbytes))
    got = 0
    while got < read_bytes:
        b = s.recv(min(65536, read_bytes - got))
        if not b:
            fail(f"peer closed after {got} of {read_bytes} bytes")
        got += len(b)
    time.sleep(0.2)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    print(f"aborted with RST after sending {nbytes} and reading {got} bytes")


def slow_reader_server(port, pause, out_path):
    """Accepts one connection with a small receive buffer and does not read for `pause`
    seconds (the window closes), then reads everything to out_path."""
    c = accept_one(port, rcvbuf=16384)
    time.sleep(pause)
    c.settimeout(60)
    with open(out_path, "wb") as f:
        f.write(recv_all(c))
    c.close()


def cat_server(port, in_path, out_path):
    """A two-way `nc -N -l`: accepts one connection, sends in_path and then FIN while it
    reads into out_path until the peer's FIN, whichever ends first; exits once both are done.
    (Debian's netcat-openbsd in listen mode quits as soon as the incoming side ends, even
    with unsent standard input, so it cannot serve a simultaneous two-way transfer.)"""
    c = accept_one(port)
    c.settimeout(60)
    errors = []

    def send():
        try:
            with open(in_path, "rb") as f:
                while chunk := f.read(1 << 20):
                    c.sendall(chunk)
            c.shutdown(socket.SHUT_WR)
        except Exception as e:  # noqa: BLE001
            errors.append(f"sending: {e!r}")

    sender = threading.Thread(target=send)
    sender.start()
    try:
        with open(out_path, "wb") as f:
            while b := c.recv(1 << 20):
                f.write(b)
    except Exception as e:  # noqa: BLE001
        errors.append(f"receiving: {e!r}")
    sender.join()
    c.close()
    if errors:
        fail("; ".join(errors))


def sequential(host, port, count):
    """count short connections one after the other, each echoing a small message."""
    start = time.time()
    for i in range(count):
        msg = f"connection {i}\n".encode()
        try:
            s = connect(host, port)
            s.sendall(msg)
            s.shutdown(socket.SHUT_WR)
            got = recv_all(s)
            s.close()
        except Exception as e:  # noqa: BLE001
            fail(f"connection {i}: {e!r}")
        if got != msg:
            fail(f"connection {i}: echo {got!r} != {msg!r}")
    print(f"{count} sequential connections in {time.time() - start:.1f}s: ok")


def main(argv):
    cmds = {
        "echo-client": lambda a: echo_client(a[0], int(a[1]), int(a[2])),
        "late-reply-server": lambda a: late_reply_server(int(a[0]), float(a[1])),
        "many-echo": lambda a: many_echo(a[0], int(a[1]), int(a[2]), int(a[3])),
        "refused": lambda a: refused(a[0], int(a[1])),
        "abort-client": lambda a: abort_client(a[0], int(a[1]), int(a[2]), int(a[3]) if len(a) > 3 else 0),
        "slow-reader-server": lambda a: slow_reader_server(int(a[0]), float(a[1]), a[2]),
        "sequential": lambda a: sequential(a[0], int(a[1]), int(a[2])),
        "cat-server": lambda a: cat_server(int(a[0]), a[1], a[2]),
    }
    if len(argv) < 2 or argv[1] not in cmds:
        fail(f"usage: peer.py {{{','.join(cmds)}}} ARGS...")
    cmds[argv[1]](argv[2:])


if __name__ == "__main__":
    main(sys.argv)
