#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Writes the seed corpus of fuzz_ipv6_input: operations in the harness's encoding."""
import os
import struct

LOCAL = bytes.fromhex("fd770000000000000000000000000002")
PEER = bytes.fromhex("fd770000000000000000000000000001")
FAR = bytes.fromhex("fd780000000000000000000000000005")


def frag(key, off8, data, more, next_header=6, hbh=False, mult8=True):
    """A fragment carrying exactly `data` (the harness takes that many bytes of the input)."""
    flags = (1 if more else 0) | (2 if mult8 else 0) | (4 if hbh else 0)
    return struct.pack(">BBBHH", 1 | key << 2, flags, next_header, off8, len(data)) + data


def wait(half_seconds):
    return struct.pack(">BB", 2, half_seconds)


def icmp(type_, code, rest, body, src=0, all_nodes=False):
    return struct.pack(">BBBIH", 3 | src << 2 | (16 if all_nodes else 0), type_, code, rest,
                       len(body)) + body


def raw(packet, fix=0x3f & ~8):
    return struct.pack(">BBH", 0, fix, len(packet)) + packet


def ipv6(next_header, payload, dst=LOCAL):
    return struct.pack(">IHBB", 6 << 28, len(payload), next_header, 64) + PEER + dst + payload


tcp = struct.pack(">HHIIBBHHH", 80, 40000, 1, 0, 0x50, 0x02, 65535, 0, 0)
seeds = {
    "two-fragments": frag(0, 0, tcp + bytes(1212), True) + frag(0, 154, bytes(100), False),
    "hbh-then-timeout": frag(1, 0, struct.pack(">BBHI", 128, 0, 0, 1) + bytes(56), True, 58,
                             True) + frag(1, 100, bytes(8), False) + wait(130),
    "overlap": frag(2, 0, tcp + bytes(44), True) + frag(2, 4, bytes(64), True) +
    frag(2, 8, bytes(3), False),
    "echo": icmp(128, 0, 0x00010001, bytes(range(56))) + icmp(128, 0, 7, b"x" * 1900),
    "packet-too-big": icmp(2, 0, 1000, struct.pack(">IHBB", 6 << 28, len(tcp), 6, 64) + LOCAL +
                           FAR + tcp),
    "unknown-next-header": raw(ipv6(253, bytes(16))) + raw(ipv6(60, bytes([6, 0, 0x9e, 0]) +
                                                             bytes(4) + tcp)),
    "ndp": icmp(135, 0, 0, bytes(20), 0, True),
}
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "ipv6_input")
os.makedirs(here, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(here, name + ".bin"), "wb") as f:
        f.write(data)
