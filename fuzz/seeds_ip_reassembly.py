#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Writes the seed corpus of fuzz_ip_reassembly: fragment sequences in the harness's encoding."""
import os
import struct


def frag(key, off8, length, more, salt=0, wait=None):
    ctl = key | (4 if more else 0) | (16 if more else 0) | (8 if wait is not None else 0)
    out = struct.pack(">B", ctl)
    if wait is not None:
        out += struct.pack(">B", wait)
    return out + struct.pack(">HHB", off8, length, salt)


seeds = {
    "two-in-order": frag(0, 0, 1480, True) + frag(0, 185, 100, False),
    "three-reversed": frag(1, 200, 40, False, 3) + frag(1, 100, 800, True, 3) +
    frag(1, 0, 800, True, 3),
    "interleaved-keys": frag(0, 0, 8, True, 1) + frag(2, 0, 8, True, 2) + frag(2, 1, 5, False, 2) +
    frag(0, 1, 9, False, 1),
    "overlap-then-timeout": frag(3, 0, 64, True) + frag(3, 4, 64, True) + frag(3, 0, 64, True, 0, 200) +
    frag(3, 8, 1, False),
}
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "ip_reassembly")
os.makedirs(here, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(here, name + ".bin"), "wb") as f:
        f.write(data)
