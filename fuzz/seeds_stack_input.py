#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Writes the seed corpus of fuzz_stack_input: op sequences in the harness's encoding."""
import os
import struct

ACK, PSH, FIN, RST, SYN, URG = 0x10, 0x08, 0x01, 0x04, 0x02, 0x20


def seg(flags, length=0, seq_sel=0, seq_d=0, ack_sel=0, ack_d=0, win=0xffff, urg=0, op=0):
    # op, flags, seq selector + delta, ack selector + delta, window, urgent, options, len, tos
    return struct.pack(">BBBhBhHHBHB", op, flags, seq_sel, seq_d, ack_sel, ack_d, win, urg, 0,
                       length, 0)


def active_seg(flags, seq, ack_d=0, length=0, win=0xffff):
    # op 7 towards the application's active open: the peer's seq given outright (selector 3)
    return struct.pack(">BBBBhIBhHHBHB", 7, 4, flags, 3, 0, seq, 2, ack_d, win, 0, 0, length, 0)


def send(n, urgent=False):
    return struct.pack(">BHB", 9, n, 1 if urgent else 0)


def recv(n):
    return struct.pack(">BH", 10, n)


def wait(step, extra=0):
    return struct.pack(">BBB", 8, step, extra)


def bulk(extra, pad=0, sel=0, flags=ACK | PSH):
    # op 0xf0: a bulk segment of 16 KiB - 256 + extra bytes at the stack's RCV.NXT (selector 0)
    return struct.pack(">BBBBH", 0xf0, flags, sel, pad, extra)


def slow_recv(n):
    return struct.pack(">BB", 0xf2, n - 1)


def cookie(port_k, opts, seq, bend, extra=b"", payload=0):
    # op 0xf3: a SYN-cookie handshake from cookie port k: the SYN (options: 1 MSS, 2 window
    # scale, 4 SACK-permitted, 8 timestamps, 0x80 ECN), then the ACK, bent as `bend` says
    # (low 2 bits: 0 exact, 1 ACK number, 2 sequence number, 3 TSecr; 8 late; 0x80 data)
    syn = struct.pack(">BBBIH", 0xf3, port_k, opts, seq, 0xfaf0)
    if opts & 1:
        syn += struct.pack(">H", 1460)
    if opts & 2:
        syn += struct.pack(">B", 7)
    if opts & 8:
        syn += struct.pack(">B", 5)
    ack = struct.pack(">BH", bend, 0xffff) + extra
    if bend & 0x80:
        ack += struct.pack(">H", payload)
    return syn + ack


def accept():
    return struct.pack(">BB", 13, 0)


seeds = {
    "exchange": seg(ACK | PSH, 500) + recv(1000) + send(3000) + wait(2) + seg(ACK) + wait(3) +
    seg(ACK | FIN) + recv(100) + struct.pack(">BB", 12, 1) + wait(4),
    "peer-close-then-send": seg(ACK | FIN, 10) + recv(100) + send(5000) + wait(4) +
    seg(ACK, ack_d=1000) + struct.pack(">B", 11) + wait(5),
    "out-of-order": seg(ACK, 300, seq_d=600) + seg(ACK, 300, seq_d=300) + seg(ACK, 300) +
    recv(2000) + seg(RST, seq_sel=1) + wait(6),
    "urgent-and-window": send(100, urgent=True) + seg(ACK | URG, 200, urg=50, win=0) + wait(5) +
    wait(5) + seg(ACK, win=100) + wait(4) + recv(300),
    "active-open": struct.pack(">BB", 13, 1) + active_seg(SYN | ACK, 5000) +
    active_seg(ACK | PSH, 5001, length=100) + active_seg(ACK | FIN, 5101) + wait(4),
    # In-order bulk segments, the reader a little behind: direct placement with unread bytes
    # under the headroom, now and then with NOP-padded (longer) headers.
    "bulk-placed": b"".join(
        bulk(300 * i + 3, pad=(i * 17) % 256 if i % 5 == 4 else 0) + slow_recv(101 + i) +
        recv(16000 + i * 301) for i in range(40)),
    # SYN cookies (RFC 4987 §3.6): one exact handshake with every option and data on the ACK,
    # one without timestamps, accepted; then bent ACKs (ACK number, sequence, TSecr) and a late one.
    "syn-cookie-handshake": cookie(0, 0x8f, 0x12345678, 0x90, payload=300) + accept() +
    cookie(1, 0x01, 0xfffffff0, 0x00) + accept() + wait(4) + wait(5),
    "syn-cookie-bent": cookie(2, 0x0f, 0x1000, 0x01, struct.pack(">H", 1)) +
    cookie(2, 0x0f, 0x2000, 0x02, b"\x07") + cookie(3, 0x0f, 0x3000, 0x03, b"\x02") +
    cookie(0, 0x0f, 0x4000, 0x08, b"\x3c") + accept() + wait(5),
}
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "stack_input")
for name, data in seeds.items():
    with open(os.path.join(here, name + ".bin"), "wb") as f:
        f.write(data)
