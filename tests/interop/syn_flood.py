#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Spoofed SYNs for the SYN-flood interop test, sent from the kernel side inside the test's own
namespace: raw IPv4 packets (IP_HDRINCL) to DST:PORT from random sources in 10.77.0.100-250
that nobody owns, so nobody answers the SYN-ACKs (RFC 4987 §2). Bounded: at most COUNT packets
and SECONDS of sending, paced to RATE per second (0: as fast as possible). Prints how many were
sent.

    syn_flood.py DST PORT SECONDS COUNT RATE
"""
import random
import socket
import struct
import sys
import time


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def syn(src, dst, sport, dport, seq):
    # MSS 1460, SACK-permitted, timestamps, window scale 7: what Linux's connect() offers.
    opts = struct.pack("!BBH", 2, 4, 1460) + bytes([4, 2, 8, 10]) + struct.pack(
        "!II", random.getrandbits(32), 0) + bytes([1, 3, 3, 7])
    hdr_len = 20 + len(opts)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, (hdr_len // 4) << 4, 0x02, 64240, 0, 0) + opts
    pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), random.getrandbits(16), 0x4000, 64,
                     socket.IPPROTO_TCP, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + tcp


def main(argv):
    if len(argv) != 6:
        sys.exit("usage: syn_flood.py DST PORT SECONDS COUNT RATE")
    dst, port, seconds, count, rate = argv[1], int(argv[2]), float(argv[3]), int(argv[4]), int(argv[5])
    if not dst.startswith("10.77.0."):
        sys.exit("refusing a destination outside the test link")
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    dst_b = socket.inet_aton(dst)
    # A pool of prebuilt packets keeps the rate up; sources and ports still vary widely.
    pool = [syn(socket.inet_aton(f"10.77.0.{random.randint(100, 250)}"), dst_b,
                random.randint(1024, 65535), port, random.getrandbits(32)) for _ in range(4096)]
    sent = 0
    start = time.monotonic()
    deadline = start + seconds
    while sent < count and time.monotonic() < deadline:
        if rate and sent > rate * (time.monotonic() - start):
            time.sleep(0.005)
            continue
        for p in pool[:64]:
            try:
                s.sendto(p, (dst, 0))
                sent += 1
            except (BlockingIOError, OSError):
                time.sleep(0.001)  # the TUN queue is full: let the stack read
        random.shuffle(pool)
    print(f"sent {sent}")


if __name__ == "__main__":
    main(sys.argv)
