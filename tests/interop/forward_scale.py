#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The kernel side of forward_scale.sh (issue 13): many concurrent forwarded TCP connections
and UDP flows to distinct addresses and ports in 198.18.0.0/15 and 2001:db8::/32, all in one
selectors loop, every byte checked against what was sent.

  forward_scale.py tcp N SEED DESTS_FILE   N connections (half IPv4, half IPv6), all open at
                                           once, each echoing a payload of its own
  forward_scale.py udp N SEED              N flows (half per family), each a connected socket
                                           exchanging datagrams of its own

Exits non-zero with a one-line reason; prints what it did.
"""
import ipaddress
import random
import resource
import selectors
import socket
import sys
import time

# Datagrams awaiting their echo at once (one per flow): below the TUN queue's 500 packets, so
# that a burst does not overflow it; every flow still exists in the stack at the end (they
# idle out after 60 s), and every flow's socket is open throughout.
IN_FLIGHT_MAX = 256
DEADLINE = 50.0  # seconds for each phase; the test's whole budget is about a minute


def fail(msg):
    print(f"forward_scale.py: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def destinations(rng, n, udp):
    """n distinct (family, address, port) targets, alternating IPv4 and IPv6."""
    seen = set()
    out = []
    while len(out) < n:
        port = rng.randrange(1, 65536)
        if len(out) % 2 == 0:  # 198.18.0.0/15, neither its first nor its last address
            addr = str(ipaddress.IPv4Address(0xC6120000 + rng.randrange(1, (1 << 17) - 1)))
            fam = socket.AF_INET
        else:  # 2001:db8::/32, any interface identifier
            addr = str(ipaddress.IPv6Address((0x20010DB8 << 96) + rng.randrange(1, 1 << 96)))
            fam = socket.AF_INET6
        if (addr, port) in seen or (udp and port == 0):
            continue
        seen.add((addr, port))
        out.append((fam, addr, port))
    return out


def raise_fd_limit(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 64
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            fail(f"need {want} file descriptors, the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


class Conn:
    def __init__(self, i, target, payload):
        self.i = i
        self.fam, self.addr, self.port = target
        self.payload = payload
        self.sent = 0
        self.got = bytearray()
        self.sock = None


def tcp(n, seed, dests_file):
    rng = random.Random(seed)
    raise_fd_limit(n)
    targets = destinations(rng, n, udp=False)
    # Payloads of their own per connection, contents random: a third under 2,000 bytes, a
    # third up to 64 KiB, a third up to 256 KiB (many windows' worth, so the connections
    # compete for the TUN queue and recover what it drops).
    conns = [Conn(i, t, rng.randbytes(rng.choice([rng.randrange(1, 2000),
                                                   rng.randrange(2000, 65536),
                                                   rng.randrange(65536, 262144)])))
             for i, t in enumerate(targets)]
    with open(dests_file, "w") as f:
        for c in conns:
            f.write(f"{c.addr} {c.port}\n")
    sel = selectors.DefaultSelector()
    start = time.monotonic()

    # Phase 1: all n SYNs at once (n requests may be pending in the stack together; a SYN the
    # TUN queue drops is resent by the kernel a second later), every connection held open.
    for c in conns:
        c.sock = socket.socket(c.fam, socket.SOCK_STREAM)
        c.sock.setblocking(False)
        err = c.sock.connect_ex((c.addr, c.port))
        if err not in (0, 115):  # EINPROGRESS
            fail(f"connect {c.addr} port {c.port}: errno {err}")
        sel.register(c.sock, selectors.EVENT_WRITE, c)
    established = 0
    while established < n:
        if time.monotonic() - start > DEADLINE:
            fail(f"only {established} of {n} connections established in {DEADLINE:.0f} s")
        for key, _ in sel.select(timeout=1.0):
            c = key.data
            err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                fail(f"connection {c.i} to {c.addr} port {c.port}: errno {err}")
            sel.unregister(c.sock)
            established += 1
    t_open = time.monotonic() - start
    print(f"tcp: {n} connections open at once ({t_open:.1f} s)")

    # Phase 2: every connection sends its payload, then FIN, while reading the echo.
    for c in conns:
        sel.register(c.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
    done = 0
    while done < n:
        if time.monotonic() - start > DEADLINE:
            fail(f"only {done} of {n} echoes complete after {DEADLINE:.0f} s")
        for key, mask in sel.select(timeout=1.0):
            c = key.data
            if mask & selectors.EVENT_WRITE and c.sent < len(c.payload):
                try:
                    c.sent += c.sock.send(c.payload[c.sent:c.sent + 65536])
                except BlockingIOError:
                    pass
                if c.sent == len(c.payload):
                    c.sock.shutdown(socket.SHUT_WR)
                    sel.modify(c.sock, selectors.EVENT_READ, c)
            if mask & selectors.EVENT_READ:
                try:
                    data = c.sock.recv(262144)
                except BlockingIOError:
                    continue
                except OSError as e:
                    fail(f"connection {c.i} to {c.addr} port {c.port}: {e}")
                if data:
                    c.got += data
                    if len(c.got) > len(c.payload):
                        fail(f"connection {c.i}: {len(c.got)} bytes back, "
                             f"{len(c.payload)} sent")
                    continue
                sel.unregister(c.sock)
                if bytes(c.got) != c.payload:
                    fail(f"connection {c.i} to {c.addr} port {c.port}: echo differs "
                         f"({len(c.got)} bytes back, {len(c.payload)} sent)")
                c.sock.close()
                done += 1
    total = sum(len(c.payload) for c in conns)
    print(f"tcp: {n} connections ({n - n // 2} IPv4, {n // 2} IPv6) echoed {total} bytes "
          f"byte for byte ({time.monotonic() - start:.1f} s)")


class Flow:
    def __init__(self, i, target, datagrams):
        self.i = i
        self.fam, self.addr, self.port = target
        self.datagrams = datagrams
        self.next = 0  # the datagram awaiting its echo
        self.attempts = 0
        self.sent_at = 0.0
        self.sock = None


def udp(n, seed):
    rng = random.Random(seed)
    raise_fd_limit(n)
    targets = destinations(rng, n, udp=True)
    # Three datagrams per flow, sizes 1..1200 (one IPv6 packet even at the minimum MTU).
    flows = [Flow(i, t, [rng.randbytes(rng.randrange(1, 1201)) for _ in range(3)])
             for i, t in enumerate(targets)]
    attempts_max = 8  # a datagram lost (UDP: the TUN queue may overflow) is sent again
    timeout = 1.0
    sel = selectors.DefaultSelector()
    start = time.monotonic()
    for f in flows:
        f.sock = socket.socket(f.fam, socket.SOCK_DGRAM)
        f.sock.setblocking(False)
        f.sock.connect((f.addr, f.port))  # hears only that address and port: the flow's
        sel.register(f.sock, selectors.EVENT_READ, f)
    pending = list(reversed(flows))  # flows not yet started
    complete = 0
    retries = 0

    def send(f):
        f.sock.send(f.datagrams[f.next])
        f.attempts += 1
        f.sent_at = time.monotonic()

    active = []
    while complete < n:
        now = time.monotonic()
        if now - start > DEADLINE:
            fail(f"only {complete} of {n} UDP flows complete after {DEADLINE:.0f} s")
        while pending and len(active) < IN_FLIGHT_MAX:
            f = pending.pop()
            send(f)
            active.append(f)
        for key, _ in sel.select(timeout=0.1):
            f = key.data
            while True:
                try:
                    data = f.sock.recv(65536)
                except BlockingIOError:
                    break
                except OSError as e:
                    fail(f"flow {f.i} to {f.addr} port {f.port}: {e}")
                if f.next < len(f.datagrams) and data == f.datagrams[f.next]:
                    f.next += 1
                    f.attempts = 0
                    if f.next == len(f.datagrams):
                        complete += 1
                    else:
                        send(f)
                elif data not in f.datagrams[:f.next]:  # a late duplicate is harmless
                    fail(f"flow {f.i} to {f.addr} port {f.port}: a {len(data)}-byte reply "
                         f"that is none of its datagrams")
        now = time.monotonic()
        still = []
        for f in active:
            if f.next == len(f.datagrams):
                continue
            if now - f.sent_at > timeout:
                if f.attempts >= attempts_max:
                    fail(f"flow {f.i} to {f.addr} port {f.port}: datagram {f.next} "
                         f"unanswered after {attempts_max} attempts")
                retries += 1
                send(f)
            still.append(f)
        active = still
    for f in flows:
        f.sock.close()
    total = sum(len(d) for f in flows for d in f.datagrams)
    print(f"udp: {complete} of {n} flows complete ({n - n // 2} IPv4, {n // 2} IPv6), "
          f"{3 * n} datagrams, {total} bytes echoed byte for byte, {retries} resent "
          f"({time.monotonic() - start:.1f} s)")


def main():
    if len(sys.argv) < 4:
        fail("usage: forward_scale.py tcp N SEED DESTS_FILE | udp N SEED")
    mode, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print(f"{mode}: seed {seed}")
    if mode == "tcp":
        tcp(n, seed, sys.argv[4])
    elif mode == "udp":
        udp(n, seed)
    else:
        fail(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
