#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The kernel-side load of scripts/soak.sh: WORKERS threads that, until SECONDS have passed,
each run random exchanges with utcp-serve's echo and HTTP services, and check every byte:

  echo        a random size (1 B to 4 MiB, log-uniform), sent while reading the echo, then a
              half-close (SHUT_WR); the echo must equal what was sent, then end of file
  echo-abort  sends and reads part, then aborts (SO_LINGER 0: the kernel sends RST)
  echo-held   2 to 24 connections at once, each exchanging a message, then all idle for
              0.5 to 10 s (random lifetimes: what many concurrent connections look like),
              then each another message, a half-close and the rest of its echo
  http        a keep-alive connection with 1 to 5 GETs of random files (bodies compared), then
              the client closes first
  http-abort  a GET whose response is read in part, then an abort
  curl        `curl` fetches a file (compared by SHA-256)
  nc          `nc -N` sends a file to the echo service and keeps what comes back (compared)

Aborts are the only errors it injects; any other failure (a wrong byte, a short read, a
refused or timed-out connection, a tool that exits non-zero) is counted and printed, and the
exit status is 1. Prints a progress line every 10 s and a summary at the end, including
"aborts N" (the resets the server may count). Seeded: --seed replays the same choices.

    soak_client.py --host H --echo PORT --http PORT --www DIR --seconds S --workers N --seed X
"""
import argparse
import hashlib
import math
import os
import random
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

TIMEOUT = 120  # seconds any one socket operation may take, loss and backoff included


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.ops = {}
        self.bytes = 0
        self.failures = []

    def ok(self, kind, nbytes):
        with self.lock:
            self.ops[kind] = self.ops.get(kind, 0) + 1
            self.bytes += nbytes

    def fail(self, kind, msg):
        with self.lock:
            self.failures.append(f"{kind}: {msg}")
            print(f"FAIL {kind}: {msg}", flush=True)


def log_uniform(rng, lo, hi):
    return int(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def connect(host, port):
    s = socket.create_connection((host, port), timeout=TIMEOUT)
    s.settimeout(TIMEOUT)
    return s


def abort(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def recv_exact_until_eof(s, limit):
    chunks, got = [], 0
    while True:
        b = s.recv(65536)
        if not b:
            return b"".join(chunks)
        chunks.append(b)
        got += len(b)
        if got > limit:
            raise RuntimeError(f"more than {limit} bytes came back")


def echo(cfg, rng, stats):
    data = rng.randbytes(log_uniform(rng, 1, 4 << 20))
    s = connect(cfg.host, cfg.echo)
    err = []

    def send():
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(e)

    t = threading.Thread(target=send)
    t.start()
    try:
        back = recv_exact_until_eof(s, len(data))
    finally:
        t.join()
        s.close()
    if err:
        raise err[0]
    if back != data:
        raise RuntimeError(f"echo of {len(data)} bytes came back as {len(back)} different bytes")
    stats.ok("echo", len(data))


def echo_abort(cfg, rng, stats):
    data = rng.randbytes(log_uniform(rng, 1000, 1 << 20))
    want = rng.randint(0, len(data) // 2)
    s = connect(cfg.host, cfg.echo)
    # Sends and reads at once (a sender that never reads could fill every buffer on the way and
    # wait forever), until `want` bytes came back; utcp is then usually still echoing.
    s.setblocking(False)
    sent, got = 0, bytearray()
    deadline = time.monotonic() + TIMEOUT
    try:
        while len(got) < want:
            left = deadline - time.monotonic()
            r, w, _ = select.select([s], [s] if sent < len(data) else [], [], max(0, left))
            if not r and not w:
                raise TimeoutError(f"echo-abort: {len(got)} of {want} bytes back, {sent} sent")
            if w:
                sent += s.send(data[sent:sent + 65536])
            if r:
                b = s.recv(65536)
                if not b:
                    raise RuntimeError(f"echo ended after {len(got)} of {want} bytes")
                got += b
        if bytes(got) != data[:len(got)]:
            raise RuntimeError("echo before the abort differs")
    except BaseException:
        s.close()
        raise
    abort(s)
    stats.ok("echo-abort", sent)


def echo_held(cfg, rng, stats):
    conns, n = [], 0
    try:
        for _ in range(rng.randint(2, 24)):
            conns.append(connect(cfg.host, cfg.echo))
        for s in conns:
            n += echo_message(s, rng.randbytes(rng.randint(1, 2000)))
        time.sleep(rng.uniform(0.5, 10))
        for s in conns:
            last = rng.randbytes(rng.randint(1, 2000))
            s.sendall(last)
            s.shutdown(socket.SHUT_WR)
            back = recv_exact_until_eof(s, len(last))
            if back != last:
                raise RuntimeError(f"held connection: {len(last)} bytes came back as {len(back)}")
            n += len(last)
    finally:
        for s in conns:
            s.close()
    stats.ok("echo-held", n)


def echo_message(s, msg):
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        b = s.recv(len(msg) - len(got))
        if not b:
            raise RuntimeError(f"held connection closed after {len(got)} of {len(msg)} bytes")
        got += b
    if got != msg:
        raise RuntimeError("held connection: the echo differs")
    return len(msg)


def http_get(s, path, keep):
    s.sendall(f"GET /{path} HTTP/1.1\r\nHost: soak\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        b = s.recv(4096)
        if not b:
            raise RuntimeError(f"GET /{path}: connection closed in the response head")
        head += b
    head, body = head.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    if " 200 " not in lines[0] + " ":
        raise RuntimeError(f"GET /{path}: {lines[0]}")
    length = None
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v)
    if length is None:
        raise RuntimeError(f"GET /{path}: no Content-Length")
    want = length if keep is None else min(length, keep)
    while len(body) < want:
        b = s.recv(min(65536, length - len(body)))
        if not b:
            raise RuntimeError(f"GET /{path}: body ended at {len(body)} of {length}")
        body += b
    return body


def http(cfg, rng, stats):
    s = connect(cfg.host, cfg.http)
    n = 0
    try:
        for _ in range(rng.randint(1, 5)):
            name = rng.choice(cfg.files)
            body = http_get(s, name, None)
            if hashlib.sha256(body).hexdigest() != cfg.sums[name]:
                raise RuntimeError(f"GET /{name}: body differs ({len(body)} bytes)")
            n += len(body)
    finally:
        s.close()
    stats.ok("http", n)


def http_abort(cfg, rng, stats):
    s = connect(cfg.host, cfg.http)
    name = rng.choice(cfg.files)
    http_get(s, name, rng.randint(0, 100000))
    abort(s)
    stats.ok("http-abort", 0)


def run_tool(argv, what):
    r = subprocess.run(argv, capture_output=True, timeout=TIMEOUT * 2)
    if r.returncode != 0:
        raise RuntimeError(f"{what} exited {r.returncode}: {r.stderr.decode(errors='replace')}")
    return r.stdout


def curl(cfg, rng, stats):
    name = rng.choice(cfg.files)
    body = run_tool(["curl", "-sS", "--max-time", str(TIMEOUT), f"http://{cfg.host}:{cfg.http}/{name}"],
                    "curl")
    if hashlib.sha256(body).hexdigest() != cfg.sums[name]:
        raise RuntimeError(f"curl /{name}: body differs ({len(body)} bytes)")
    stats.ok("curl", len(body))


def nc(cfg, rng, stats):
    data = rng.randbytes(log_uniform(rng, 1, 1 << 20))
    with tempfile.NamedTemporaryFile(dir=cfg.tmp) as f:
        f.write(data)
        f.flush()
        with open(f.name, "rb") as stdin:
            r = subprocess.run(["nc", "-N", cfg.host, str(cfg.echo)], stdin=stdin,
                               capture_output=True, timeout=TIMEOUT * 2)
    if r.returncode != 0:
        raise RuntimeError(f"nc exited {r.returncode}: {r.stderr.decode(errors='replace')}")
    if r.stdout != data:
        raise RuntimeError(f"nc: echo of {len(data)} bytes came back as {len(r.stdout)} bytes")
    stats.ok("nc", len(data))


OPS = [(echo, 40), (echo_abort, 8), (echo_held, 8), (http, 22), (http_abort, 5), (curl, 9),
       (nc, 8)]


def worker(cfg, seed, stats, deadline):
    rng = random.Random(seed)
    funcs, weights = zip(*OPS)
    while time.monotonic() < deadline:
        op = rng.choices(funcs, weights)[0]
        kind = op.__name__.replace("_", "-")
        try:
            op(cfg, rng, stats)
        except Exception as e:  # every failure is reported, none ends the soak early
            stats.fail(kind, f"{type(e).__name__}: {e}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", required=True)
    p.add_argument("--echo", type=int, required=True)
    p.add_argument("--http", type=int, required=True)
    p.add_argument("--www", required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--workers", type=int, default=32)
    p.add_argument("--seed", type=int, default=None)
    cfg = p.parse_args()
    if not cfg.host.startswith("10.77.0."):
        sys.exit("refusing a host outside the test link")
    if cfg.seed is None:
        cfg.seed = random.getrandbits(32)
    print(f"soak client: seed {cfg.seed}, {cfg.workers} workers, {cfg.seconds:.0f} s", flush=True)
    cfg.files = sorted(os.listdir(cfg.www))
    cfg.sums = {}
    for name in cfg.files:
        with open(os.path.join(cfg.www, name), "rb") as f:
            cfg.sums[name] = hashlib.sha256(f.read()).hexdigest()
    cfg.tmp = tempfile.mkdtemp(prefix="soak-client.")
    stats = Stats()
    start = time.monotonic()
    deadline = start + cfg.seconds
    threads = [threading.Thread(target=worker, args=(cfg, cfg.seed + i, stats, deadline), daemon=True)
               for i in range(cfg.workers)]
    for t in threads:
        t.start()
    next_report = 10
    while any(t.is_alive() for t in threads):
        time.sleep(1)
        elapsed = time.monotonic() - start
        if elapsed >= next_report or not any(t.is_alive() for t in threads):
            next_report += 10
            with stats.lock:
                print(f"[{elapsed:5.0f} s] ops {sum(stats.ops.values())} bytes {stats.bytes} "
                      f"failures {len(stats.failures)}", flush=True)
        if elapsed > cfg.seconds + 4 * TIMEOUT:
            stats.fail("soak", "workers still running long after the deadline")
            break
    shutil.rmtree(cfg.tmp, ignore_errors=True)
    for kind in sorted(stats.ops):
        print(f"ops.{kind} {stats.ops[kind]}")
    print(f"aborts {stats.ops.get('echo-abort', 0) + stats.ops.get('http-abort', 0)}")
    print(f"bytes {stats.bytes}")
    print(f"failures {len(stats.failures)}")
    sys.exit(1 if stats.failures else 0)


if __name__ == "__main__":
    main()
