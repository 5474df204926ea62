#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Captures real packets written by the Linux kernel's own TCP/IP stack, as test vectors
# for the wire parsers (tests/data/kernel-*.hex) and seeds for the wire_parse fuzzer
# (fuzz/corpus/wire_parse/kernel-*.bin). Needs root. Everything happens inside a
# throw-away network namespace with a TUN device; nothing leaves it.
#
#   kernel-syn            SYN from `nc 10.77.0.2 5000` (mss, sackOK, TS, wscale)
#   kernel-echo-request   ICMP echo request from `ping -c1 10.77.0.2`
#   kernel-synack         SYN-ACK from a `nc -l 10.77.0.1 6000` listener to a SYN we write
#   kernel-data           the first data segment that listener sends after our ACK
#   kernel-sack           the duplicate ACK with a SACK block after out-of-order data
#   kernel-synack-nots    SYN-ACK to a SYN offering mss, sackOK, wscale but no timestamps
#   kernel-rst            RST/ACK answering a SYN to a closed port
#   kernel-port-unreach   ICMP port unreachable answering a UDP datagram to a closed port
#
# IPv6 (a second namespace, fd77::1/64 on the TUN):
#   kernel6-syn              SYN from `nc -6 fd77::2 5000` (mss 1440, sackOK, TS, wscale)
#   kernel6-echo-request     ICMPv6 echo request from `ping -6 -c1 fd77::2`
#   kernel6-packet-too-big   ICMPv6 Packet Too Big (MTU 1280) from the kernel forwarding a
#                            1400-byte packet we write towards a veth link of MTU 1280
#
# UTCP_VECTORS=v4 or v6 captures one family only (default: both).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
data_dir=${1:-$root/tests/data}
corpus_dir=${2:-$root/fuzz/corpus/wire_parse}
if [ "$(id -u)" -ne 0 ]; then
  echo "capture-vectors.sh: needs root (network namespace + TUN)" >&2
  exit 1
fi
families=${UTCP_VECTORS:-all}
ns=utcp-vectors-$$
ns6=utcp-vectors6-$$
cleanup() {
  ip netns del "$ns" 2>/dev/null || true
  ip netns del "$ns6" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
mkdir -p "$data_dir" "$corpus_dir"

if [ "$families" != v6 ]; then
ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" python3 - "$data_dir" "$corpus_dir" <<'PY'
import fcntl, os, select, signal, struct, subprocess, sys, time

data_dir, corpus_dir = sys.argv[1], sys.argv[2]
TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454CA, 0x0001, 0x1000
KERNEL, STACK = bytes([10, 77, 0, 1]), bytes([10, 77, 0, 2])

tun = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(tun, TUNSETIFF, struct.pack("16sH", b"utcp0", IFF_TUN | IFF_NO_PI))
for cmd in (["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"],
            ["ip", "addr", "add", "10.77.0.1/24", "dev", "utcp0"],
            ["ip", "link", "set", "utcp0", "up"]):
    subprocess.run(cmd, check=True)
children = []

def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def ipv4(proto, payload, ident):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, 64, proto, 0,
                    STACK, KERNEL)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload

def tcp(sport, dport, seq, ack, flags, opts=b"", window=64240, payload=b""):
    hl = 20 + len(opts)
    h = (struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (hl // 4) << 4, flags, window, 0, 0) +
         opts + payload)
    pseudo = STACK + KERNEL + struct.pack("!BBH", 0, 6, len(h))
    c = csum(pseudo + h)
    return ipv4(6, h[:16] + struct.pack("!H", c) + h[18:], 0x1234)

def read_until(match, what, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([tun], [], [], max(0, end - time.time()))
        if not r: break
        pkt = os.read(tun, 65535)
        if pkt and pkt[0] >> 4 == 4 and match(pkt): return pkt
    sys.exit("capture-vectors: timed out waiting for " + what)

def tcp_of(pkt):
    ihl = (pkt[0] & 15) * 4
    t = pkt[ihl:]
    sport, dport, seq, ack, off, flags = struct.unpack("!HHIIBB", t[:14])
    return dict(sport=sport, dport=dport, seq=seq, ack=ack, flags=flags,
                hl=(off >> 4) * 4, opts=t[20:(off >> 4) * 4], payload=t[(off >> 4) * 4:])

def option(opts, kind):
    i = 0
    while i + 1 < len(opts):
        if opts[i] == 0: break
        if opts[i] == 1: i += 1; continue
        if opts[i] == kind: return opts[i + 2:i + opts[i + 1]]
        i += max(2, opts[i + 1])
    return None

def tsval_of(opts):
    ts = option(opts, 8)
    return struct.unpack("!I", ts[:4])[0] if ts else 0

def save(name, pkt, note):
    with open(os.path.join(data_dir, name + ".hex"), "w") as f:
        f.write("# " + note + "\n")
        for i in range(0, len(pkt), 16): f.write(pkt[i:i + 16].hex(" ") + "\n")
    with open(os.path.join(corpus_dir, name + ".bin"), "wb") as f: f.write(pkt)
    print("captured %-22s %4d bytes" % (name, len(pkt)))

def is_tcp(pkt, flags_mask, flags, dport=None):
    if pkt[9] != 6: return False
    t = tcp_of(pkt)
    return (t["flags"] & flags_mask) == flags and (dport is None or t["dport"] == dport)

try:
    # 1. The kernel as a client: its SYN.
    children.append(subprocess.Popen(["nc", "-w", "3", "10.77.0.2", "5000"],
                                     stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    save("kernel-syn", read_until(lambda p: is_tcp(p, 0x12, 0x02, 5000), "SYN"),
         "Linux SYN from `nc 10.77.0.2 5000` (10.77.0.1 -> 10.77.0.2)")

    # 2. ping: an ICMP echo request.
    children.append(subprocess.Popen(["ping", "-c1", "-W1", "10.77.0.2"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    save("kernel-echo-request", read_until(lambda p: p[9] == 1 and p[20] == 8, "echo request"),
         "Linux ICMP echo request from `ping -c1 10.77.0.2`")

    # 3. The kernel as a server: our SYN, its SYN-ACK, our ACK, its data.
    listener = subprocess.Popen(["nc", "-l", "10.77.0.1", "6000"], stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children.append(listener)
    time.sleep(0.3)
    isn, ts = 1000000, 777
    syn_opts = (bytes([2, 4, 0x05, 0xb4, 4, 2, 8, 10]) + struct.pack("!II", ts, 0) +
                bytes([1, 3, 3, 7]))
    os.write(tun, tcp(40000, 6000, isn, 0, 0x02, syn_opts))
    synack = read_until(lambda p: is_tcp(p, 0x12, 0x12, 40000), "SYN-ACK")
    save("kernel-synack", synack,
         "Linux SYN-ACK from `nc -l 10.77.0.1 6000` to SYN 10.77.0.2:40000 <mss 1460,sackOK,TS,nop,wscale 7>")
    sa = tcp_of(synack)
    ack_opts = bytes([1, 1, 8, 10]) + struct.pack("!II", ts + 1, tsval_of(sa["opts"]))
    os.write(tun, tcp(40000, 6000, isn + 1, sa["seq"] + 1, 0x10, ack_opts, window=502))
    listener.stdin.write(b"hello from the kernel\n")
    listener.stdin.flush()
    data = read_until(lambda p: is_tcp(p, 0x00, 0x00, 40000) and len(tcp_of(p)["payload"]) > 0,
                      "data segment")
    save("kernel-data", data, "Linux data segment from that listener: \"hello from the kernel\\n\"")

    # Out-of-order data (a 10-byte hole): the kernel answers at once with a SACK block.
    os.write(tun, tcp(40000, 6000, isn + 1 + 10, sa["seq"] + 1 + len(tcp_of(data)["payload"]),
                      0x18, bytes([1, 1, 8, 10]) + struct.pack("!II", ts + 2, tsval_of(sa["opts"])),
                      window=502, payload=b"12345"))
    save("kernel-sack", read_until(lambda p: is_tcp(p, 0x10, 0x10, 40000) and
                                   option(tcp_of(p)["opts"], 5) is not None, "SACK"),
         "Linux duplicate ACK with SACK after the reader sent 5 bytes 10 bytes beyond rcv_nxt")

    # A SYN without timestamps: the SYN-ACK's "nop,nop,sackOK" layout.
    os.write(tun, tcp(40003, 6000, 3000000, 0, 0x02,
                      bytes([2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7])))
    save("kernel-synack-nots", read_until(lambda p: is_tcp(p, 0x12, 0x12, 40003), "SYN-ACK"),
         "Linux SYN-ACK to SYN 10.77.0.2:40003 <mss 1460,nop,nop,sackOK,nop,wscale 7> (no TS)")

    # 4. A SYN to a closed port: RST/ACK without options.
    os.write(tun, tcp(40001, 6001, 5000, 0, 0x02))
    save("kernel-rst", read_until(lambda p: is_tcp(p, 0x04, 0x04, 40001), "RST"),
         "Linux RST/ACK answering a SYN to closed port 10.77.0.1:6001")

    # 5. UDP to a closed port: ICMP port unreachable quoting our datagram.
    udp = struct.pack("!HHHH", 40002, 6002, 8 + 4, 0) + b"ping"
    os.write(tun, ipv4(17, udp, 0x4321))
    save("kernel-port-unreach", read_until(lambda p: p[9] == 1 and p[20] == 3, "port unreachable"),
         "Linux ICMP port unreachable answering UDP 10.77.0.2:40002 -> 10.77.0.1:6002")
finally:
    for c in children:
        if c.poll() is None:
            c.send_signal(signal.SIGTERM)
            try: c.wait(timeout=2)
            except subprocess.TimeoutExpired: c.kill()
PY
fi

if [ "$families" != v4 ]; then
ip netns add "$ns6"
ip -n "$ns6" link set lo up
ip netns exec "$ns6" python3 - "$data_dir" "$corpus_dir" <<'PY'
import fcntl, os, select, signal, struct, subprocess, sys, time

data_dir, corpus_dir = sys.argv[1], sys.argv[2]
TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454CA, 0x0001, 0x1000
STACK = bytes.fromhex("fd770000000000000000000000000002")
FAR = bytes.fromhex("fd780000000000000000000000000005")  # beyond the veth link

tun = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(tun, TUNSETIFF, struct.pack("16sH", b"utcp0", IFF_TUN | IFF_NO_PI))
for cmd in (["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=0"],
            ["sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"],
            ["ip", "link", "set", "utcp0", "up"],
            ["ip", "addr", "add", "fd77::1/64", "dev", "utcp0", "nodad"],
            # The far side: a veth link of MTU 1280 the kernel forwards to (both ends stay
            # in this namespace and go with it).
            ["ip", "link", "add", "utcp1", "type", "veth", "peer", "name", "utcp2"],
            ["ip", "link", "set", "utcp1", "mtu", "1280", "up"],
            ["ip", "link", "set", "utcp2", "mtu", "1280", "up"],
            ["ip", "addr", "add", "fd78::1/64", "dev", "utcp1", "nodad"]):
    subprocess.run(cmd, check=True)
children = []

def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def tcp6(src, dst, sport, dport, seq, ack, flags, payload=b""):
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 64800, 0, 0) + payload
    c = csum(src + dst + struct.pack("!IxxxB", len(h), 6) + h)
    seg = h[:16] + struct.pack("!H", c) + h[18:]
    return struct.pack("!IHBB", 6 << 28, len(seg), 6, 64) + src + dst + seg

def read_until(match, what, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([tun], [], [], max(0, end - time.time()))
        if not r: break
        pkt = os.read(tun, 65535)
        if len(pkt) >= 48 and pkt[0] >> 4 == 6 and match(pkt): return pkt
    sys.exit("capture-vectors: timed out waiting for " + what)

def save(name, pkt, note):
    with open(os.path.join(data_dir, name + ".hex"), "w") as f:
        f.write("# " + note + "\n")
        for i in range(0, len(pkt), 16): f.write(pkt[i:i + 16].hex(" ") + "\n")
    with open(os.path.join(corpus_dir, name + ".bin"), "wb") as f: f.write(pkt)
    print("captured %-22s %4d bytes" % (name, len(pkt)))

try:
    time.sleep(0.5)  # let the addresses settle (nodad: no duplicate address detection)
    children.append(subprocess.Popen(["nc", "-6", "-w", "3", "fd77::2", "5000"],
                                     stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    save("kernel6-syn", read_until(lambda p: p[6] == 6 and p[40 + 13] & 0x12 == 0x02, "SYN"),
         "Linux SYN from `nc -6 fd77::2 5000` (fd77::1 -> fd77::2)")

    children.append(subprocess.Popen(["ping", "-6", "-c1", "-W1", "fd77::2"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    save("kernel6-echo-request", read_until(lambda p: p[6] == 58 and p[40] == 128, "echo request"),
         "Linux ICMPv6 echo request from `ping -6 -c1 fd77::2`")

    # A 1400-byte packet to fd78::5: the kernel, forwarding, finds the next link's MTU 1280.
    os.write(tun, tcp6(STACK, FAR, 40000, 5001, 7000000, 1, 0x18, bytes(range(256)) * 5 + bytes(60)))
    save("kernel6-packet-too-big", read_until(lambda p: p[6] == 58 and p[40] == 2, "packet too big"),
         "Linux ICMPv6 Packet Too Big (MTU 1280) forwarding a 1400-byte TCP packet "
         "fd77::2:40000 -> fd78::5:5001 to a veth link of MTU 1280")
finally:
    for c in children:
        if c.poll() is None:
            c.send_signal(signal.SIGTERM)
            try: c.wait(timeout=2)
            except subprocess.TimeoutExpired: c.kill()
PY
fi
echo "vectors written to $data_dir and $corpus_dir"
