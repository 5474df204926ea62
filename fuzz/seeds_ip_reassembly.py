#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Writes the seed corpus of fuzz_ip_reassembly: IPv4 and IPv6 fragment sequences in the
harness's encoding."""
import os
import struct


def frag(key, off8, length, more, salt=0, wait=None):
    ctl = key | (4 if more else 0) | (16 if more else 0) | (8 if wait is not None else 0)
    out = struct.pack(">B", ctl)
    if wait is not None:
        out += struct.pack(">B", wait)
    return out + struct.pack(">HHB", off8, length, salt)


def frag6(key, off8, length, more, salt=0, hbh=0, mtu_pick=0):
    """An IPv6 fragment; hbh picks the Hop-by-Hop length (0, 8, 16 or 256 bytes)."""
    ctl = key | (4 if more else 0) | (16 if more else 0) | 32 | hbh << 6
    return struct.pack(">BHHBH", ctl, off8, length, salt, mtu_pick)


seeds = {
    "two-in-order": frag(0, 0, 1480, True) + frag(0, 185, 100, False),
    "three-reversed": frag(1, 200, 40, False, 3) + frag(1, 100, 800, True, 3) +
    frag(1, 0, 800, True, 3),
    "interleaved-keys": frag(0, 0, 8, True, 1) + frag(2, 0, 8, True, 2) + frag(2, 1, 5, False, 2) +
    frag(0, 1, 9, False, 1),
    "v6-two-in-order": frag6(0, 0, 1448, True) + frag6(0, 181, 100, False, 0, 0, 200),
    "v6-first-with-longer-headers": frag6(1, 100, 40, False, 3) + frag6(1, 0, 800, True, 3, 1) +
    frag6(1, 50, 400, True, 3, 0, 5000) + frag6(2, 0, 64, True, 1, 3) + frag6(2, 8, 9, False, 1, 2),
    # A last fragment near the top of the range with 16 bytes of Hop-by-Hop options (its ctl
    # byte also picks the 256 KiB budget), then the first fragment with 256 bytes of them, and
    # the middle: the reassembled payload would pass 65,535 bytes, so the train must be dropped.
    "v6-long-first-headers-past-65535": frag6(0, 8150, 300, False, 7, 2) +
    frag6(0, 0, 64, True, 7, 3) +
    b"".join(frag6(0, off // 8, min(4088, 65200 - off), True, 7) for off in range(64, 65200, 4088)),
    "overlap-then-timeout": frag(3, 0, 64, True) + frag(3, 4, 64, True) + frag(3, 0, 64, True, 0, 200) +
    frag(3, 8, 1, False),
}
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "ip_reassembly")
os.makedirs(here, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(here, name + ".bin"), "wb") as f:
        f.write(data)
