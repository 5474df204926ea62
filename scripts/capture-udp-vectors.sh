#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# UDP test vectors (tests/data/kernel-udp-*.hex, kernel6-udp-*.hex; seeds in
# fuzz/corpus/wire_parse/) and the kernel's verdicts on hand-made datagrams
# (tests/data/crafted-udp-*.hex), which the UDP parser's rules are checked against. Needs root.
# Everything happens in a throw-away network namespace utcp-udpvec-<pid> with a TUN device
# utcp0 (10.77.0.1/24, fd77::1/64); it is deleted on exit, even on failure.
#
# Written by the kernel (the reader captures them from the TUN):
#   kernel-udp            a socket bound to 10.77.0.1:40100 sends "hello, udp\n" to 10.77.0.2:5353
#   kernel-udp-nocsum     the same with SO_NO_CHECK: checksum field 0 (RFC 768 "no checksum")
#   kernel-udp-ffff       a payload chosen so the checksum computes to 0: sent as 0xffff
#   kernel-udp-frag1..3   a 3000-byte datagram, fragmented by the kernel to the 1500-byte MTU
#   kernel6-udp           fd77::1:40100 -> fd77::2:5353 "hello, udp\n"
#   kernel6-udp-ffff      the zero-checksum payload over IPv6: sent as 0xffff
#   kernel6-port-unreach  ICMPv6 port unreachable answering a datagram to a closed port
# Written by the reader to a kernel socket on 10.77.0.1:6100 / fd77::1:6100; the script fails
# unless the kernel delivers or drops each as noted (so these are the kernel's rules too):
#   crafted-udp-zero-csum      IPv4, checksum 0                          delivered
#   crafted-udp-trailing       IPv4, Length 4 bytes short of the payload  delivered, trimmed
#   crafted-udp-long-length    IPv4, Length 4 bytes beyond the payload    dropped
#   crafted-udp-bad-csum       IPv4, checksum off by one                  dropped
#   crafted6-udp-zero-csum     IPv6, checksum 0                           dropped (RFC 8200 §8.1)
#   crafted6-udp-trailing      IPv6, Length 4 bytes short of the payload  delivered, trimmed
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
data_dir=${1:-$root/tests/data}
corpus_dir=${2:-$root/fuzz/corpus/wire_parse}
if [ "$(id -u)" -ne 0 ]; then
  echo "capture-udp-vectors.sh: needs root (network namespace + TUN)" >&2
  exit 1
fi
ns=utcp-udpvec-$$
cleanup() { ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT INT TERM
mkdir -p "$data_dir" "$corpus_dir"
ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" python3 - "$data_dir" "$corpus_dir" <<'PY'
import fcntl, os, select, socket, struct, subprocess, sys, time

data_dir, corpus_dir = sys.argv[1], sys.argv[2]
TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454CA, 0x0001, 0x1000
SO_NO_CHECK = 11
K4, S4 = bytes([10, 77, 0, 1]), bytes([10, 77, 0, 2])
K6 = bytes.fromhex("fd770000000000000000000000000001")
S6 = bytes.fromhex("fd770000000000000000000000000002")

tun = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(tun, TUNSETIFF, struct.pack("16sH", b"utcp0", IFF_TUN | IFF_NO_PI))
for cmd in (["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=0"],
            ["ip", "link", "set", "utcp0", "up"],
            ["ip", "addr", "add", "10.77.0.1/24", "dev", "utcp0"],
            ["ip", "addr", "add", "fd77::1/64", "dev", "utcp0", "nodad"]):
    subprocess.run(cmd, check=True)
time.sleep(0.5)

def fold(s):
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return s

def osum(b):
    if len(b) % 2: b += b"\0"
    return fold(sum(struct.unpack("!%dH" % (len(b) // 2), b)))

def pseudo(src, dst, length):
    if len(src) == 4: return src + dst + struct.pack("!BBH", 0, 17, length)
    return src + dst + struct.pack("!IxxxB", length, 17)

def udp(src, dst, sport, dport, payload, length=None, check=None):
    length = 8 + len(payload) if length is None else length
    h = struct.pack("!HHHH", sport, dport, length, 0) + payload
    if check is None:
        c = ~osum(pseudo(src, dst, length) + h[:length]) & 0xffff
        check = c or 0xffff
    return h[:6] + struct.pack("!H", check) + h[8:]

def ip(src, dst, payload, proto=17):
    if len(src) == 4:
        h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0x5151, 0x4000, 64, proto, 0,
                        src, dst)
        return h[:10] + struct.pack("!H", ~osum(h) & 0xffff) + h[12:] + payload
    return struct.pack("!IHBB", 6 << 28, len(payload), proto, 64) + src + dst + payload

def zero_payload(src, dst, sport, dport, text):
    # Appends two bytes that make the ones'-complement sum 0xffff: the checksum computes to 0.
    s = osum(pseudo(src, dst, 8 + len(text) + 2) + struct.pack("!HHHH", sport, dport,
                                                                8 + len(text) + 2, 0) + text)
    return text + struct.pack("!H", ~s & 0xffff)

def read_until(match, what, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([tun], [], [], max(0, end - time.time()))
        if not r: break
        pkt = os.read(tun, 65535)
        if pkt and match(pkt): return pkt
    sys.exit("capture-udp-vectors: timed out waiting for " + what)

def save(name, pkt, note):
    with open(os.path.join(data_dir, name + ".hex"), "w") as f:
        f.write("# " + note + "\n")
        for i in range(0, len(pkt), 16): f.write(pkt[i:i + 16].hex(" ") + "\n")
    with open(os.path.join(corpus_dir, name + ".bin"), "wb") as f: f.write(pkt)
    print("saved %-26s %4d bytes" % (name, len(pkt)))

def udp4_to(port):
    return lambda p: p[0] >> 4 == 4 and p[9] == 17 and struct.unpack("!H", p[22:24])[0] == port
def udp6_to(port):
    return lambda p: p[0] >> 4 == 6 and p[6] == 17 and struct.unpack("!H", p[42:44])[0] == port

# 1. Datagrams the kernel writes.
hello = b"hello, udp\n"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.77.0.1", 40100))
s.sendto(hello, ("10.77.0.2", 5353))
save("kernel-udp", read_until(udp4_to(5353), "UDP"),
     "Linux UDP 10.77.0.1:40100 -> 10.77.0.2:5353 \"hello, udp\\n\"")
zp = zero_payload(K4, S4, 40100, 5354, b"zero sum")
s.sendto(zp, ("10.77.0.2", 5354))
save("kernel-udp-ffff", read_until(udp4_to(5354), "UDP ffff"),
     "Linux UDP 10.77.0.1:40100 -> 10.77.0.2:5354 whose checksum computes to 0: sent as 0xffff")
s.sendto(bytes(i % 251 for i in range(3000)), ("10.77.0.2", 5355))
for i in range(3):
    frag = read_until(lambda p: p[0] >> 4 == 4 and p[9] == 17, "fragment %d" % (i + 1))
    save("kernel-udp-frag%d" % (i + 1), frag,
         "Linux fragment %d of a 3000-byte UDP datagram 10.77.0.1:40100 -> 10.77.0.2:5355 "
         "(bytes i %% 251)" % (i + 1))
s.close()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, SO_NO_CHECK, 1)
s.bind(("10.77.0.1", 40101))
s.sendto(hello, ("10.77.0.2", 5353))
save("kernel-udp-nocsum", read_until(udp4_to(5353), "UDP no checksum"),
     "Linux UDP with SO_NO_CHECK 10.77.0.1:40101 -> 10.77.0.2:5353 \"hello, udp\\n\": checksum 0")
s.close()

s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("fd77::1", 40100))
s.sendto(hello, ("fd77::2", 5353))
save("kernel6-udp", read_until(udp6_to(5353), "UDP6"),
     "Linux UDP [fd77::1]:40100 -> [fd77::2]:5353 \"hello, udp\\n\"")
zp6 = zero_payload(K6, S6, 40100, 5354, b"zero sum")
s.sendto(zp6, ("fd77::2", 5354))
save("kernel6-udp-ffff", read_until(udp6_to(5354), "UDP6 ffff"),
     "Linux UDP [fd77::1]:40100 -> [fd77::2]:5354 whose checksum computes to 0: sent as 0xffff")
s.close()
os.write(tun, ip(S6, K6, udp(S6, K6, 40102, 6002, b"ping")))
save("kernel6-port-unreach",
     read_until(lambda p: p[0] >> 4 == 6 and p[6] == 58 and p[40] == 1, "port unreachable"),
     "Linux ICMPv6 port unreachable answering UDP [fd77::2]:40102 -> [fd77::1]:6002")

# 2. The kernel's verdicts on hand-made datagrams.
r4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r4.bind(("10.77.0.1", 6100))
r6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
r6.bind(("fd77::1", 6100))

def verdict(sock, name, pkt, want, note):
    os.write(tun, pkt)
    r, _, _ = select.select([sock], [], [], 0.5)
    got = sock.recv(65535) if r else None
    if got != want:
        sys.exit("capture-udp-vectors: kernel disagrees on %s: got %r, want %r" % (name, got, want))
    save(name, pkt, note + ("; the kernel delivered %r" % want if want is not None
                            else "; the kernel dropped it"))

body = b"crafted udp!"
verdict(r4, "crafted-udp-zero-csum", ip(S4, K4, udp(S4, K4, 40200, 6100, body, check=0)), body,
        "IPv4 UDP 10.77.0.2:40200 -> 10.77.0.1:6100, checksum field 0")
verdict(r4, "crafted-udp-trailing",
        ip(S4, K4, udp(S4, K4, 40201, 6100, body, length=8 + len(body) - 4)), body[:-4],
        "IPv4 UDP 10.77.0.2:40201 -> 10.77.0.1:6100, Length 4 bytes short of the IP payload")
verdict(r4, "crafted-udp-long-length",
        ip(S4, K4, udp(S4, K4, 40202, 6100, body + bytes(4), length=8 + len(body) + 4)[:-4]), None,
        "IPv4 UDP 10.77.0.2:40202 -> 10.77.0.1:6100, Length 4 bytes beyond the IP payload")
good = udp(S4, K4, 40203, 6100, body)
bad = good[:6] + struct.pack("!H", (struct.unpack("!H", good[6:8])[0] + 1) & 0xffff or 1) + good[8:]
verdict(r4, "crafted-udp-bad-csum", ip(S4, K4, bad), None,
        "IPv4 UDP 10.77.0.2:40203 -> 10.77.0.1:6100, checksum off by one")
verdict(r6, "crafted6-udp-zero-csum", ip(S6, K6, udp(S6, K6, 40200, 6100, body, check=0)), None,
        "IPv6 UDP [fd77::2]:40200 -> [fd77::1]:6100, checksum field 0")
verdict(r6, "crafted6-udp-trailing",
        ip(S6, K6, udp(S6, K6, 40201, 6100, body, length=8 + len(body) - 4)), body[:-4],
        "IPv6 UDP [fd77::2]:40201 -> [fd77::1]:6100, Length 4 bytes short of the IP payload")
PY
echo "vectors written to $data_dir and $corpus_dir"
