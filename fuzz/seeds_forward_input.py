#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Writes the seed corpus of fuzz_forward_input: op sequences in the harness's encoding
(fuzz/forward_input.cpp): a configuration byte, then operations."""
import os
import struct

SYN, SEGMENT, DATAGRAM, ICMP, ECHO, DECIDE, FLOW, CONN, CLOCK = 1, 2, 3, 4, 5, 6, 7, 8, 9
ACK, FIN, PSH = 0x10, 0x01, 0x08


def key(v6=0, client=0, cport=0, dst=0, port=0):
    return bytes([v6 | client << 1 | cport << 2 | dst << 3 | port << 5])


def syn(k, seq=1000):
    # seq, flags byte (nonzero: no ACK), window, options byte (MSS, WS, SACK, TS) and values
    return bytes([SYN]) + k + struct.pack(">IBHBHBI", seq, 1, 65535, 0x0f, 1460, 7, 12345)


def segment(k, flags, data=b""):
    pad = (8 - len(data) % 8) % 8
    data += b"\0" * pad
    return bytes([SEGMENT]) + k + struct.pack(">bbBHB", 0, 0, flags, 65535, len(data) // 8) + data


def datagram(k, data, how=0):
    return bytes([DATAGRAM]) + k + bytes([how, len(data)]) + data


def icmp(index=0, how=0, code=3, mtu=1280):
    return bytes([ICMP, index, how, code]) + struct.pack(">H", mtu)


def clock(ms):
    return bytes([CLOCK]) + struct.pack(">H", ms)


def tcp_exchange(v6):
    k = key(v6=v6, dst=1, port=1)
    return (bytes([1]) + syn(k) + bytes([DECIDE, 0x00]) + segment(k, ACK) +
            segment(k, ACK | PSH, b"hello forwarded") + bytes([CONN, 0x20]) +
            bytes([CONN, 0x00, 2]) + b"x" * 16 + icmp(0, 0, 4, 1200) + segment(k, ACK | FIN) +
            bytes([CONN, 0x60]) + clock(1000))


def tcp_decisions(v6):
    out = bytes([4])
    for port in range(3):
        out += syn(key(v6=v6, cport=port & 1, dst=port, port=port), 7000 + port)
    out += bytes([DECIDE, 0x10, DECIDE, 0x21, DECIDE, 0x30]) + clock(11000)
    return out


def udp_flows(v6, independent):
    out = bytes([2 if independent else 0])
    out += datagram(key(v6=v6, dst=0, port=2), b"query one")
    out += datagram(key(v6=v6, dst=1, port=3), b"query two")
    out += datagram(key(v6=v6, dst=2, port=2), b"bad sum", how=4)
    out += bytes([FLOW, 0x00, FLOW, 0x10, 2]) + b"r" * 16
    out += bytes([FLOW, 0x20, 0x02 | v6, 1]) + b"s" * 8
    out += icmp(0, 0, 3) + bytes([FLOW, 0x00]) + bytes([ECHO]) + key(v6=v6) + bytes([4]) + b"ping"
    out += bytes([FLOW, 0x30]) + clock(61000)
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = os.path.join(here, "corpus", "forward_input")
    os.makedirs(out_dir, exist_ok=True)
    seeds = {
        "tcp-exchange-v4.bin": tcp_exchange(0),
        "tcp-exchange-v6.bin": tcp_exchange(1),
        "tcp-decisions-v4.bin": tcp_decisions(0),
        "tcp-decisions-v6.bin": tcp_decisions(1),
        "udp-flows-v4.bin": udp_flows(0, False),
        "udp-flows-v6.bin": udp_flows(1, False),
        "udp-independent-v4.bin": udp_flows(0, True),
        "udp-independent-v6.bin": udp_flows(1, True),
    }
    for name, data in seeds.items():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
