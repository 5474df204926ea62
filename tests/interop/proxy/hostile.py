#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""A hostile SOCKS5 server and HTTP proxy for utcp-proxy's interop tests (hostile.sh), and
the client side that judges what the tunnelled client sees.

  hostile.py serve socks5|http PORT MODE_FILE   # runs until killed, in the proxy namespace
  hostile.py fail HOST PORT [LIMIT]             # the connection must fail fast (refused,
                                                # unreachable, reset or closed), never hang
  hostile.py echo HOST PORT [GREETING]          # it must work: GREETING (if any) arrives
                                                # first, then 64 KiB echo back intact
  hostile.py open-sessions CONTROL_PATH [KEY]   # prints totals.open_tcp (or KEY) from --control
  hostile.py udp-flood A.B COUNT SECONDS        # COUNT UDP flows to random A.B.x.y:port
  hostile.py got-reset HOST PORT               # the destination's abort must arrive as RST
  hostile.py send-reset HOST PORT              # a line, then RST (mode watch logs what came)
  hostile.py hog-control CONTROL_PATH N SECONDS  # N control clients that never read
  hostile.py give-up HOST PORT N               # N clients that give up after 0.3 s
  hostile.py stall HOST PORT send|recv SECONDS [CONNS]  # never reads; prints what it sent
  hostile.py syn-flood SRC A.B COUNT SECONDS    # COUNT raw SYNs to random A.B.x.y:port

The server reads MODE_FILE at each accepted connection, so one utcp-proxy instance (one
upstream) meets every misbehaviour in turn. A mode that "works" echoes the tunnel's bytes
itself (it is the destination too). Every server connection is closed after 30 s at most.
"""
import json
import os
import socket
import struct
import sys
import threading
import time

HEADER_FLOOD = 64 * 1024


def fail(msg):
    print(f"hostile.py: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def recv_exact(c, n):
    data = b""
    while len(data) < n:
        b = c.recv(n - len(data))
        if not b:
            raise ConnectionError("peer closed")
        data += b
    return data


def echo_loop(c, first=b""):
    if first:
        c.sendall(first)
    while True:
        b = c.recv(65536)
        if not b:
            return
        c.sendall(b)


def socks5_greeting(c):
    """Returns the methods the client offers (RFC 1928 §3)."""
    _ver, n = recv_exact(c, 2)
    return recv_exact(c, n)


def socks5_auth(c, mode):
    """RFC 1929 username/password sub-negotiation; True if the request phase follows."""
    c.sendall(b"\x05\x02")
    _ver, ulen = recv_exact(c, 2)
    user = recv_exact(c, ulen)
    plen = recv_exact(c, 1)[0]
    password = recv_exact(c, plen)
    if mode == "auth-fail":  # STATUS non-zero: failure, then close (RFC 1929 §2)
        c.sendall(b"\x01\x01")
        return False
    if mode == "auth-bad-version":
        c.sendall(b"\x05\x00")
        time.sleep(30)
        return False
    if mode == "auth-truncated":
        c.sendall(b"\x01")
        return False
    if mode == "auth-silent":
        time.sleep(30)
        return False
    ok = (user, password) == (b"hostile-user", b"hostile-pass")
    c.sendall(b"\x01\x00" if ok else b"\x01\x01")
    return ok


def socks5_request(c):
    """Reads the CONNECT request (RFC 1928 §4); returns the destination port."""
    ver, cmd, _rsv, atyp = recv_exact(c, 4)
    if atyp == 1:
        recv_exact(c, 4)
    elif atyp == 4:
        recv_exact(c, 16)
    elif atyp == 3:
        recv_exact(c, recv_exact(c, 1)[0])
    return int.from_bytes(recv_exact(c, 2), "big")


OK_REPLY = bytes([5, 0, 0, 1, 10, 80, 0, 2, 0x1F, 0x90])


def tunnel_mode(c, mode):
    """After a successful reply: the destination's behaviours; False for a plain echo."""
    if mode == "no-read":  # a destination that never reads: back-pressure must reach the client
        time.sleep(30)
        return True
    if mode == "reset":  # some bytes, then an abort (RST: SO_LINGER 0)
        c.sendall(b"greeting-from-upstream\n")
        time.sleep(0.3)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return True
    if mode == "watch":  # records how the client's end arrived: reset or EOF
        try:
            while c.recv(65536):
                pass
            print("upstream saw: eof", flush=True)
        except ConnectionResetError:
            print("upstream saw: reset", flush=True)
        return True
    if mode == "flood":  # a destination that sends without end
        block = b"\x5a" * 65536
        while True:
            c.sendall(block)
    return False


def socks5_mode(c, mode):
    methods = socks5_greeting(c)
    if mode.startswith("auth") or (mode == "ok" and 2 in methods and 0 not in methods):
        if not socks5_auth(c, mode):
            return
        socks5_request(c)
        c.sendall(OK_REPLY)
        echo_loop(c)
        return
    if mode == "bad-version":  # RFC 1928 §3: VER must be 5
        c.sendall(b"\x04\x00")
        time.sleep(30)
        return
    if mode == "no-method":  # X'FF': no acceptable methods
        c.sendall(b"\x05\xff")
        return
    if mode == "unoffered-method":  # username/password, which was not offered
        c.sendall(b"\x05\x02")
        time.sleep(30)
        return
    if mode == "silent":  # never answers the greeting
        time.sleep(30)
        return
    c.sendall(b"\x05\x00")
    socks5_request(c)
    if mode == "truncated":  # half a reply, then close
        c.sendall(OK_REPLY[:5])
        return
    if mode == "bad-atyp":  # ATYP 0x07 does not exist (RFC 1928 §5)
        c.sendall(bytes([5, 0, 0, 7]) + b"\x00" * 16)
        time.sleep(30)
        return
    if mode == "reply-version":  # a reply whose VER is not 5
        c.sendall(bytes([4]) + OK_REPLY[1:])
        time.sleep(30)
        return
    if mode == "slow-ok":  # success after 1 s: the client has given up by then
        time.sleep(1)
        c.sendall(OK_REPLY)
        echo_loop(c)
        return
    if mode == "silent-reply":  # method chosen, never answers the request
        time.sleep(30)
        return
    if mode == "refused":  # REP 5, connection refused
        c.sendall(bytes([5, 5, 0, 1, 0, 0, 0, 0, 0, 0]))
        return
    if mode == "garbage":  # a megabyte of noise after VER (REP 0xA5 is no reply code)
        c.sendall(b"\x05" + b"\xa5" * (1 << 20))
        time.sleep(2)
        return
    if mode == "bytewise":  # a valid domain-type reply, one byte per write
        reply = bytes([5, 0, 0, 3, 11]) + b"example.org" + b"\x1f\x90"
        for b in reply:
            c.sendall(bytes([b]))
            time.sleep(0.01)
        echo_loop(c)
        return
    if mode == "reply-with-data":  # the reply and the first tunnel bytes in one write
        c.sendall(OK_REPLY + b"greeting-from-upstream\n")
        echo_loop(c)
        return
    c.sendall(OK_REPLY)
    if not tunnel_mode(c, mode):
        echo_loop(c)  # "ok"


def http_head(c, limit=8192):
    data = b""
    while b"\r\n\r\n" not in data:
        b = c.recv(1)
        if not b or len(data) > limit:
            raise ConnectionError("no request head")
        data += b
    return data


def http_mode(c, mode):
    head = http_head(c)
    print("request:", head.split(b"\r\n")[0].decode(errors="replace"), flush=True)
    if mode == "header-flood":  # a 200 whose head never ends within 64 KiB (and then ends)
        c.sendall(b"HTTP/1.1 200 Connection established\r\n")
        line = b"X-Flood: " + b"a" * 1014 + b"\r\n"
        for _ in range(HEADER_FLOOD // len(line) + 1):
            c.sendall(line)
        c.sendall(b"\r\n")
        echo_loop(c)
        return
    if mode == "forbidden":
        c.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        time.sleep(30)
        return
    if mode == "bad-gateway":
        c.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 5\r\n\r\nnope\n")
        return
    if mode == "not-http":
        c.sendall(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
        time.sleep(30)
        return
    if mode == "truncated":
        c.sendall(b"HTTP/1.1 20")
        return
    if mode == "silent":
        time.sleep(30)
        return
    if mode == "slow-ok":
        time.sleep(1)
        c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        echo_loop(c)
        return
    if mode == "bytewise":
        for b in b"HTTP/1.1 200 Connection established\r\nX-A: b\r\n\r\n":
            c.sendall(bytes([b]))
            time.sleep(0.005)
        echo_loop(c)
        return
    if mode == "length-200":  # RFC 9110 §9.3.6: a 2xx to CONNECT has no content, whatever
        # Content-Length says; the tunnel bytes that follow are the destination's
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\ngreeting-from-upstream\n")
        echo_loop(c)
        return
    if mode == "interim-100":  # RFC 9110 §15.2: interim responses before the final one
        c.sendall(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 Connection established\r\n\r\n")
        echo_loop(c)
        return
    if mode == "reply-with-data":  # RFC 9110 §9.3.6: tunnel bytes follow the head at once
        c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\ngreeting-from-upstream\n")
        echo_loop(c)
        return
    c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    if not tunnel_mode(c, mode):
        echo_loop(c)  # "ok"


def serve(kind, port, mode_file):
    handler = socks5_mode if kind == "socks5" else http_mode
    srv = socket.create_server(("", port), family=socket.AF_INET6, dualstack_ipv6=True,
                               backlog=4096)

    def one(c):
        with c:
            c.settimeout(30)
            try:
                with open(mode_file) as f:
                    mode = f.read().strip()
                print(f"{kind} connection, mode {mode}", flush=True)
                handler(c, mode)
            except OSError:
                pass

    while True:
        c, _ = srv.accept()
        threading.Thread(target=one, args=(c,), daemon=True).start()


def connect(host, port, limit):
    return socket.create_connection((host, port), timeout=limit)


def must_fail(host, port, limit=8.0):
    """The client must see a refusal/reset/unreachable or an immediate close, within limit s."""
    t0 = time.monotonic()
    try:
        s = connect(host, port, limit)
    except socket.timeout:
        fail(f"connect {host}:{port}: no answer within {limit} s (hang)")
    except OSError as e:
        print(f"connect: {e.__class__.__name__} ({e.strerror}) after "
              f"{time.monotonic() - t0:.2f} s: ok")
        return
    # utcp-proxy completes the handshake only once the upstream answered, so an accepted
    # connection must still end at once (reset or EOF), never stay open silently.
    try:
        s.sendall(b"hello\n")
        got = s.recv(100)
    except socket.timeout:
        fail(f"{host}:{port}: accepted, then silent for {limit} s")
    except OSError as e:
        print(f"accepted, then {e.__class__.__name__}: ok")
        return
    if got:
        fail(f"{host}:{port}: a broken upstream was accepted and answered {got[:40]!r}")
    print("accepted, then closed: ok")


def must_echo(host, port, greeting=b"", limit=10.0):
    s = connect(host.strip("[]"), port, limit)
    if greeting:
        got = b""
        while len(got) < len(greeting):
            b = s.recv(len(greeting) - len(got))
            if not b:
                fail(f"greeting: got {got!r}, want {greeting!r}")
            got += b
        if got != greeting:
            fail(f"greeting: got {got!r}, want {greeting!r}")
    data = bytes(range(256)) * 256
    threading.Thread(target=s.sendall, args=(data,), daemon=True).start()
    got = b""
    while len(got) < len(data):
        b = s.recv(65536)
        if not b:
            break
        got += b
    s.close()
    if got != data:
        fail(f"echo: {len(got)} of {len(data)} bytes back, or they differ")
    print(f"echo {len(data)} bytes{' after the greeting' if greeting else ''}: ok")


def got_reset(host, port, limit=10.0):
    """The destination aborts after a greeting: the client must see the reset."""
    s = connect(host, port, limit)
    data = b""
    try:
        while True:
            b = s.recv(100)
            if not b:
                fail(f"the upstream's RST arrived as a clean EOF after {data!r}")
            data += b
    except ConnectionResetError:
        print(f"reset after {data!r}: ok")
    except socket.timeout:
        fail(f"no reset within {limit} s after {data!r}")


def send_reset(host, port, limit=10.0):
    """Sends a line, then aborts (RST) its connection."""
    s = connect(host, port, limit)
    s.sendall(b"about to reset\n")
    time.sleep(0.3)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    print("sent a reset")


def hog_control(path, count, seconds):
    """count clients of the --control socket that connect, send junk and never read."""
    hogs = []
    for _ in range(count):
        u = socket.socket(socket.AF_UNIX)
        u.settimeout(5)
        try:
            u.connect(path)
            u.send(b"\xff" * 4096)
        except OSError:
            pass
        hogs.append(u)
    print(f"{count} control clients that never read", flush=True)
    time.sleep(seconds)


def give_up(host, port, count):
    """count connections that give up after 0.3 s, before the upstream answered: the proxy's
    late SYN-ACK then meets no socket here (the kernel answers it with RST)."""
    def one():
        try:
            connect(host, port, 0.3).close()
        except OSError:
            pass
    threads = [threading.Thread(target=one) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"{count} clients gave up after 0.3 s")


def stall(host, port, direction, seconds, conns=1):
    """Sends as fast as it can without ever reading (direction "send"), or reads nothing from a
    destination that sends without end ("recv"), on conns connections for seconds; prints the
    bytes it sent. The connections stay open: back-pressure, not buffering, must hold the
    proxy's memory."""
    socks = [connect(host, port, 10) for _ in range(conns)]
    for s in socks:
        s.setblocking(False)
    sent = 0
    block = b"\xa5" * 65536
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        progress = False
        for s in socks if direction == "send" else ():
            try:
                sent += s.send(block)
                progress = True
            except BlockingIOError:
                pass
        if not progress:
            time.sleep(0.05)
    print(sent, flush=True)
    with open(os.environ.get("STALL_READY", "/dev/null"), "w") as f:
        f.write(f"{sent}\n")
    time.sleep(float(os.environ.get("STALL_HOLD", "0")))
    for s in socks:
        s.close()


def udp_flood(prefix, count, seconds):
    """One datagram each to count random (seeded) addresses and ports of prefix.0.0/16: count
    UDP flows for the proxy, from one socket."""
    import random
    rng = random.Random(2)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t0 = time.monotonic()
    for i in range(count):
        dst = (f"{prefix}.{rng.randrange(256)}.{rng.randrange(1, 255)}", rng.randrange(1, 65536))
        u.sendto(b"flow %d" % i, dst)
        behind = t0 + seconds * (i + 1) / count - time.monotonic()
        if behind > 0:
            time.sleep(behind)
    print(f"udp flood seed 2: sent {count} datagrams in {time.monotonic() - t0:.2f} s", flush=True)


def open_sessions(path, what="open_tcp"):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(path)
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    doc = json.loads(data)
    print(doc["totals"][what])


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def syn_flood(src, prefix, count, seconds):
    """count TCP SYNs (RFC 9293 §3.1 header, no options) from src to random addresses in
    prefix (a.b, i.e. a /16) and random ports, spread over seconds; a raw IPv4 socket, so
    nothing but the route decides where they go (into the TUN)."""
    import random
    import struct
    rng = random.Random(1)
    print(f"syn flood seed 1: {count} SYNs to {prefix}.0.0/16 over {seconds} s", flush=True)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s_addr = socket.inet_aton(src)
    t0 = time.monotonic()
    for i in range(count):
        dst = f"{prefix}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        d_addr = socket.inet_aton(dst)
        sport, dport = rng.randrange(1024, 65536), rng.randrange(1, 65536)
        tcp = struct.pack("!HHIIBBHHH", sport, dport, rng.getrandbits(32), 0, 5 << 4, 0x02,
                          65535, 0, 0)
        pseudo = s_addr + d_addr + struct.pack("!BBH", 0, 6, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i & 0xFFFF, 0, 64, 6, 0,
                         s_addr, d_addr)
        raw.sendto(ip + tcp, (dst, 0))
        behind = t0 + seconds * (i + 1) / count - time.monotonic()
        if behind > 0:
            time.sleep(behind)
    print(f"sent {count} SYNs in {time.monotonic() - t0:.2f} s", flush=True)


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "serve":
        serve(args[0], int(args[1]), args[2])
    elif cmd == "fail":
        must_fail(args[0], int(args[1]), float(args[2]) if len(args) > 2 else 8.0)
    elif cmd == "echo":
        must_echo(args[0], int(args[1]), args[2].encode() + b"\n" if len(args) > 2 else b"")
    elif cmd == "got-reset":
        got_reset(args[0], int(args[1]))
    elif cmd == "send-reset":
        send_reset(args[0], int(args[1]))
    elif cmd == "hog-control":
        hog_control(args[0], int(args[1]), float(args[2]))
    elif cmd == "give-up":
        give_up(args[0], int(args[1]), int(args[2]))
    elif cmd == "stall":
        stall(args[0], int(args[1]), args[2], float(args[3]), int(args[4]) if len(args) > 4 else 1)
    elif cmd == "syn-flood":
        syn_flood(args[0], args[1], int(args[2]), float(args[3]))
    elif cmd == "open-sessions":
        open_sessions(*args)
    elif cmd == "udp-flood":
        udp_flood(args[0], int(args[1]), float(args[2]))
    else:
        fail(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
