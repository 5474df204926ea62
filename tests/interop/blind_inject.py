#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Blind-attack injector for the interop test blind_injection.sh (RFC 5961, RFC 9293 §3.10.7.4,
RFC 5927). Runs on the kernel side of the TUN inside the test's own namespace: it watches the
connection between the kernel (10.77.0.1) and utcp (STACK_ADDR:STACK_PORT) on DEV with a packet
socket, then sends spoofed segments with that connection's 4-tuple from a raw socket, as an
off-path attacker who guessed the ports would. The watching only aims the guesses (a real
attacker sprays the whole space and hits the window by chance; here every in-window guess is
made on purpose, so the test sees many of them in seconds):

  rst-inwindow  RST, SEG.SEQ in RCV.WND but never RCV.NXT     RFC 5961 §3.2: challenge ACK
  rst-random    RST, SEG.SEQ anywhere in the sequence space   dropped or challenged
  syn           SYN on the established 4-tuple, in the window RFC 5961 §4.2: challenge ACK
  data          text in the window, SEG.ACK outside           RFC 5961 §5.2: dropped (and a
                                                              challenge ACK when too old)
                [SND.UNA-MAX.SND.WND, SND.NXT] (half of them with a TSval far ahead, which must
                not become TS.Recent: RFC 7323 §5.3 R3 records it only for accepted segments)
  icmp          "fragmentation needed", next-hop MTU 68,     RFC 5927 §4.1: ignored
                quoting a sequence number not in flight

Mode "spray" sends all of these, paced, for at most SECONDS and COUNT packets. Mode "exact-rst"
waits until utcp has acknowledged all the kernel sent (so RCV.NXT stands still), then sends one
RST with SEG.SEQ = RCV.NXT (RFC 9293 §3.10.7.4: that one resets the connection). It prints
"watching" once it watches the link (the test connects after that, so the window scale of
utcp's SYN-ACK is known).
Prints one "name count" line per kind sent. Spoofed packets carry TTL 61, so the watcher tells
them from the kernel's own (TTL 64).

    blind_inject.py spray|exact-rst DEV STACK_ADDR STACK_PORT SECONDS COUNT
"""
import os
import random
import select
import signal
import socket
import struct
import sys
import time

KERNEL_ADDR = "10.77.0.1"
SPOOF_TTL = 61
ETH_P_ALL = 0x0003


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), random.getrandbits(16), 0x4000,
                     SPOOF_TTL, proto, 0, src, dst)
    return ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:] + payload


def tcp_segment(src, dst, sport, dport, seq, ack, flags, window, opts=b"", payload=b""):
    opts += b"\x01" * (-len(opts) % 4)
    hdr_len = 20 + len(opts)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      (hdr_len // 4) << 4, flags, window, 0, 0) + opts + payload
    pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    return ipv4(src, dst, socket.IPPROTO_TCP, tcp)


def ts_option(tsval, tsecr):
    return b"\x01\x01" + struct.pack("!BBII", 8, 10, tsval & 0xFFFFFFFF, tsecr & 0xFFFFFFFF)


def parse_options(opts):
    """TCP options as {kind: value bytes}."""
    out, i = {}, 0
    while i < len(opts):
        kind = opts[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            break
        out[kind] = opts[i + 2:i + opts[i + 1]]
        i += opts[i + 1]
    return out


def parse_ts(opts):
    v = parse_options(opts).get(8)
    return struct.unpack("!II", v) if v is not None and len(v) == 8 else None


def seq_lt(a, b):
    return ((a - b) & 0xFFFFFFFF) >= 0x80000000


class Watch:
    """What the watcher learned of the connection, from both directions of its packets."""

    def __init__(self, stack, port):
        self.stack, self.port = stack, port
        self.kport = None
        self.rcv_nxt = None       # utcp's RCV.NXT: the ACK field of its latest segment
        self.win_raw = 0          # its latest window field
        self.wscale = 0           # its window scale, from its SYN-ACK (RFC 7323 §2.3)
        self.snd_una = None       # what the kernel acknowledged of utcp's data
        self.snd_nxt = None       # the highest sequence number utcp sent, plus one
        self.ts_kernel = None     # (TSval, TSecr) of the kernel's latest segment
        self.kernel_data = []     # recent (seq, len) of the kernel's data segments
        self.kernel_nxt = None    # the kernel's SND.NXT: the end of what it sent (FIN included)
        self.utcp_data = 0        # how many data segments utcp sent

    def ready(self):
        return None not in (self.kport, self.rcv_nxt, self.snd_una, self.ts_kernel)

    def feed(self, pkt):
        if len(pkt) < 40 or pkt[0] >> 4 != 4 or pkt[9] != socket.IPPROTO_TCP:
            return
        ihl = (pkt[0] & 15) * 4
        src, dst, ttl = pkt[12:16], pkt[16:20], pkt[8]
        t = pkt[ihl:]
        if len(t) < 20:
            return
        sport, dport, seq, ack, off, flags, win = struct.unpack("!HHIIBBH", t[:16])
        hl = (off >> 4) * 4
        total = struct.unpack("!H", pkt[2:4])[0]
        plen = max(0, (total if total else len(pkt)) - ihl - hl)
        if src == self.stack and sport == self.port:
            if self.kport is None:
                self.kport = dport
            if dport != self.kport:
                return
            if flags & 0x02:
                ws = parse_options(t[20:hl]).get(3)
                self.wscale = min(ws[0], 14) if ws else 0
                return
            if flags & 0x10:
                self.rcv_nxt = ack
            self.win_raw = win
            end = (seq + plen + (1 if flags & 0x01 else 0)) & 0xFFFFFFFF
            if self.snd_nxt is None or seq_lt(self.snd_nxt, end):
                self.snd_nxt = end
            if plen:
                self.utcp_data += 1
        elif dst == self.stack and dport == self.port and ttl != SPOOF_TTL:
            if self.kport is None:
                self.kport = sport
            if sport != self.kport or flags & 0x02:
                return
            if flags & 0x10:
                self.snd_una = ack
            ts = parse_ts(t[20:hl])
            if ts:
                self.ts_kernel = ts
            end = (seq + plen + (1 if flags & 0x01 else 0)) & 0xFFFFFFFF
            if self.kernel_nxt is None or seq_lt(self.kernel_nxt, end):
                self.kernel_nxt = end
            if plen > 1:
                self.kernel_data.append((seq, plen))
                del self.kernel_data[:-64]


class Injector:
    def __init__(self, dev, stack_addr, port):
        if not stack_addr.startswith("10.77.0."):
            sys.exit("refusing a destination outside the test link")
        self.dst = stack_addr
        self.stack = socket.inet_aton(stack_addr)
        self.kernel = socket.inet_aton(KERNEL_ADDR)
        self.port = port
        self.w = Watch(self.stack, port)
        self.sniff = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
        self.sniff.bind((dev, 0))
        self.sniff.setblocking(False)
        self.raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.sent = {}

    def watch(self, timeout=0.0):
        r, _, _ = select.select([self.sniff], [], [], timeout)
        while r:
            try:
                self.w.feed(self.sniff.recv(70000))
            except BlockingIOError:
                break
            except OSError:
                raise SystemExit(0)  # the TUN went away: the tool exited

    def send(self, kind, pkt):
        try:
            self.raw.sendto(pkt, (self.dst, 0))
            self.sent[kind] = self.sent.get(kind, 0) + 1
        except OSError:
            pass  # the TUN queue is full: a packet lost, as on a real path

    def tcp(self, seq, ack, flags, opts=b"", payload=b""):
        return tcp_segment(self.kernel, self.stack, self.w.kport, self.port, seq, ack, flags, 502,
                           opts, payload)

    def in_window_not_exact(self):
        """A sequence number in utcp's receive window that is not, and will not become, its
        RCV.NXT: ahead of RCV.NXT when the kernel sends nothing, or strictly inside one of the
        kernel's data segments (RCV.NXT only lands on segment edges) when it does; None when
        no such guess is safe yet."""
        w = self.w
        if w.kernel_data:
            # Offsets below 500 are never a segment edge, even where the kernel's GSO frames
            # are cut into MSS-sized segments on the way. Segments RCV.NXT has passed already
            # make old (dropped) guesses, the others in-window ones.
            ahead = [d for d in w.kernel_data if not seq_lt(d[0], w.rcv_nxt)]
            seq, plen = random.choice(ahead or w.kernel_data)
            return (seq + random.randint(1, min(plen - 1, 500))) & 0xFFFFFFFF
        # Towards the kernel RCV.NXT stands still once the kernel's FIN is acknowledged:
        # anywhere in the window past it. Until then (None) RCV.NXT + 1 could become exact.
        if w.rcv_nxt != w.kernel_nxt:
            return None
        return self.in_window()

    def in_window(self):
        """RCV.NXT as last seen plus up to the window as last seen: in the window unless
        RCV.NXT has moved past it meanwhile. Only for segments that an exact hit would not
        make acceptable (SYN, data with a bad ACK)."""
        w = self.w
        return (w.rcv_nxt + random.randint(1, max(1, (w.win_raw << w.wscale) - 1))) & 0xFFFFFFFF

    def spray_one(self):
        w = self.w
        tsval, tsecr = w.ts_kernel
        kind = random.choice(["rst-inwindow", "rst-inwindow", "rst-random", "syn", "data", "data",
                              "icmp"])
        if kind == "rst-inwindow":
            seq = self.in_window_not_exact()
            if seq is None or ((w.win_raw << w.wscale) < 2 and not w.kernel_data):
                return
            self.send(kind, self.tcp(seq, 0, 0x04))
        elif kind == "rst-random":
            seq = random.getrandbits(32)
            if seq == w.rcv_nxt:
                return
            self.send(kind, self.tcp(seq, 0, 0x04))
        elif kind == "syn":
            self.send(kind, self.tcp(self.in_window(), 0, 0x02, ts_option(tsval, 0)))
        elif kind == "data":
            # SEG.ACK a quarter of the space away from anything utcp sent: too old (below
            # SND.UNA - MAX.SND.WND, a challenge) or too new (beyond SND.NXT, an ACK).
            if random.random() < 0.5:
                ack = w.snd_una - random.randint(1 << 30, (1 << 31) - (1 << 24))
            else:
                ack = (w.snd_nxt or w.snd_una) + random.randint(1 << 24, 1 << 30)
            forged = random.random() < 0.5
            if forged:
                kind = "data-forged-ts"
            ts = ts_option(tsval + (1 << 30) if forged else tsval, tsecr)
            self.send(kind, self.tcp(self.in_window(), ack, 0x18, ts, os.urandom(200)))
        else:
            # RFC 5927 §4.1: the quoted SEG.SEQ is 16 MB to 1 GB below SND.UNA, never in flight.
            qseq = (w.snd_una - random.randint(1 << 24, 1 << 30)) & 0xFFFFFFFF
            quoted_ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 1500, 0, 0x4000, 64,
                                    socket.IPPROTO_TCP, 0, self.stack, self.kernel)
            quoted = quoted_ip + struct.pack("!HHI", self.port, w.kport, qseq)
            icmp = struct.pack("!BBHHH", 3, 4, 0, 0, 68) + quoted
            icmp = icmp[:2] + struct.pack("!H", checksum(icmp)) + icmp[4:]
            self.send(kind, ipv4(self.kernel, self.stack, socket.IPPROTO_ICMP, icmp))

    def wait_ready(self, deadline, exact=False):
        """Until the connection is known; for an exact RST also until utcp has sent data and
        acknowledged everything the kernel sent (its FIN too): RCV.NXT then stands still."""
        while time.monotonic() < deadline:
            self.watch(0.05)
            w = self.w
            if w.ready() and (not exact or (w.utcp_data >= 20 and w.rcv_nxt == w.kernel_nxt)):
                return True
        return False


def main(argv):
    if len(argv) != 7 or argv[1] not in ("spray", "exact-rst"):
        sys.exit("usage: blind_inject.py spray|exact-rst DEV STACK_ADDR STACK_PORT SECONDS COUNT")
    mode, dev, stack_addr = argv[1], argv[2], argv[3]
    port, seconds, count = int(argv[4]), float(argv[5]), int(argv[6])
    inj = Injector(dev, stack_addr, port)
    # The test stops the spray (SIGTERM) when the transfer is over: counts are printed anyway.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("watching", flush=True)  # the test connects after this, so the handshake is seen
    deadline = time.monotonic() + seconds
    try:
        if not inj.wait_ready(deadline, mode == "exact-rst"):
            sys.exit("the connection was never seen")
        if mode == "exact-rst":
            inj.watch()
            inj.send("rst-exact", inj.tcp(inj.w.rcv_nxt, 0, 0x04))
        else:
            total = 0
            while total < count and time.monotonic() < deadline:
                inj.watch()
                inj.spray_one()
                total = sum(inj.sent.values())
                time.sleep(0.002)
    finally:
        for kind in sorted(inj.sent):
            print(f"{kind} {inj.sent[kind]}", flush=True)


if __name__ == "__main__":
    main(sys.argv)
