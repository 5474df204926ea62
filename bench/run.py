#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""utcp benchmark suite: every figure next to its kernel reference, as a ratio, median of runs.

    sudo bench/run.py [--runs N] [--mb MB] [--quick] [--out DIR]

Needs root (network namespaces, TUN) and a release build with the tools and benchmarks
(bench/run.sh builds one). Prints a table, writes DIR/latest.json and DIR/latest.png.
Every TUN/veth device lives in a namespace this script creates and deletes, even on failure.
"""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
STACK, KERNEL = "10.77.0.2", "10.77.0.1"
STACK6, KERNEL6 = "fd77::2", "fd77::1"  # the tools' IPv6 defaults (--addr6, --host-addr6)
V6_TARGET = "within 5% of IPv4"  # issue 12: IPv6 rows beside IPv4's, in the same run
VETH_A, VETH_B = "10.78.0.1", "10.78.0.2"

# The kernel-side peer, the same program for every row so the kernel-side cost is equal.
PEER = r'''
import socket, sys, time
def opt(s):
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
mode = sys.argv[1]
if mode == "sink":      # listen; discard what comes, close at EOF
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((sys.argv[2], int(sys.argv[3]))); ls.listen(128)
    while True:
        c, _ = ls.accept()
        while c.recv(1 << 20): pass
        c.close()
elif mode == "source":  # listen; send forever to whoever connects
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((sys.argv[2], int(sys.argv[3]))); ls.listen(8)
    buf = bytes(1 << 20)
    while True:
        c, _ = ls.accept()
        try:
            while True: c.sendall(buf)
        except OSError: c.close()
elif mode == "echo":    # listen; echo each connection (one at a time)
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((sys.argv[2], int(sys.argv[3]))); ls.listen(8)
    while True:
        c, _ = ls.accept(); opt(c)
        while True:
            d = c.recv(65536)
            if not d: break
            c.sendall(d)
        c.close()
elif mode == "send":    # connect; send MB, half-close, wait for the peer's close -> MB/s
    host, port, total = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) << 20
    s = socket.create_connection((host, port), timeout=60)
    view = memoryview(bytearray(1 << 20)); moved = 0; t0 = time.perf_counter()
    while moved < total: moved += s.send(view[: min(len(view), total - moved)])
    s.shutdown(socket.SHUT_WR)
    while s.recv(1 << 16): pass
    print(moved / (time.perf_counter() - t0) / 1e6)
elif mode == "psend":   # STREAMS connections at once share MB; all connect first -> MB/s total
    import threading
    host, port, total, n = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) << 20, int(sys.argv[5])
    socks = [socket.create_connection((host, port), timeout=60) for _ in range(n)]
    go = threading.Barrier(n + 1)
    def one(s, part):
        view = memoryview(bytearray(1 << 20)); moved = 0
        go.wait()
        while moved < part: moved += s.send(view[: min(len(view), part - moved)])
        s.shutdown(socket.SHUT_WR)
        while s.recv(1 << 16): pass
    ts = [threading.Thread(target=one, args=(s, total // n)) for s in socks]
    for t in ts: t.start()
    go.wait(); t0 = time.perf_counter()
    for t in ts: t.join()
    print(total // n * n / (time.perf_counter() - t0) / 1e6)
elif mode == "recv":    # connect; read MB -> MB/s
    host, port, total = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) << 20
    s = socket.create_connection((host, port), timeout=60)
    view = memoryview(bytearray(1 << 20)); moved = 0; t0 = time.perf_counter()
    while moved < total:
        n = s.recv_into(view)
        if not n: break
        moved += n
    print(moved / (time.perf_counter() - t0) / 1e6)
elif mode == "rr":      # ping-pong of SIZE bytes for SECONDS -> tps p50_us p99_us
    host, port, size, secs = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    s = socket.create_connection((host, port), timeout=10); opt(s)
    msg = bytes(size); lat = []; end = time.perf_counter() + secs
    while True:
        t = time.perf_counter()
        if t > end: break
        s.sendall(msg); got = 0
        while got < size:
            d = s.recv(size - got)
            if not d: raise SystemExit("closed")
            got += len(d)
        lat.append(time.perf_counter() - t)
    lat.sort()
    print(len(lat) / secs, lat[len(lat) // 2] * 1e6, lat[int(len(lat) * 0.99)] * 1e6)
elif mode == "cps":     # connect, half-close, wait for the server's close, repeat -> conns/s
    host, port, secs = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    n = 0; end = time.perf_counter() + secs; t0 = time.perf_counter()
    while time.perf_counter() < end:
        s = socket.create_connection((host, port), timeout=10)
        s.shutdown(socket.SHUT_WR)
        while s.recv(4096): pass
        s.close(); n += 1
    print(n / (time.perf_counter() - t0))
'''


def sh(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, text=True, capture_output=True, **kw)


class Namespaces:
    """Creates namespaces with unique names and deletes them (and their processes) at exit."""

    def __init__(self):
        self.names, self.procs = [], []
        self.tag = f"{os.getpid()}"

    def add(self, purpose):
        name = f"utcp-bench-{purpose}-{self.tag}"
        sh("ip", "netns", "add", name)
        self.names.append(name)
        sh("ip", "-n", name, "link", "set", "lo", "up")
        # Per-namespace: the connection-rate client closes first and would otherwise run out
        # of ephemeral ports to TIME-WAIT within seconds.
        for key, val in (("net.ipv4.tcp_tw_reuse", "1"),
                         ("net.ipv4.ip_local_port_range", "1024 65535")):
            sh("ip", "netns", "exec", name, "sysctl", "-qw", f"{key}={val}", check=False)
        return name

    def spawn(self, ns, args, **kw):
        p = subprocess.Popen(["ip", "netns", "exec", ns] + args, **kw)
        self.procs.append(p)
        return p

    def stop(self, p):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def cleanup(self):
        for p in self.procs:
            self.stop(p)
        for n in self.names:
            subprocess.run(["ip", "netns", "del", n], capture_output=True)
        self.names, self.procs = [], []


def wait_until(pred, what, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def listening(ns, port):
    out = sh("ip", "netns", "exec", ns, "ss", "-Hltn", f"sport = :{port}", check=False).stdout
    return "LISTEN" in out


def peer(ns, peer_py, *args, timeout=120):
    out = sh("ip", "netns", "exec", ns, PY, peer_py, *map(str, args), timeout=timeout).stdout
    return [float(x) for x in out.split()]


def median(xs):
    return statistics.median(xs) if xs else float("nan")


class Suite:
    def __init__(self, args, build, tmp):
        self.args, self.build, self.tmp = args, build, tmp
        self.ns = Namespaces()
        self.peer_py = os.path.join(tmp, "peer.py")
        with open(self.peer_py, "w") as f:
            f.write(PEER)
        self.rows = []  # dicts: section, name, value, unit, ref, ratio, target, met
        self.raw = {}

    def tool(self, name):
        return os.path.join(self.build, "tools", name)

    def bench_bin(self, name):
        return os.path.join(self.build, "bench", name)

    def row(self, section, name, value, unit, ref=None, target=None, met=None, note=""):
        ratio = value / ref if ref else None
        self.rows.append(dict(section=section, name=name, value=value, unit=unit, ref=ref,
                              ratio=ratio, target=target, met=met, note=note))

    # -- kernel <-> kernel reference over veth --
    def veth(self, mtu=1500):
        a, b = self.ns.add(f"va{mtu}"), self.ns.add(f"vb{mtu}")
        ia, ib = f"ub{os.getpid() % 100000}a", f"ub{os.getpid() % 100000}b"
        sh("ip", "link", "add", ia, "netns", a, "type", "veth", "peer", "name", ib, "netns", b)
        sh("ip", "-n", a, "addr", "add", f"{VETH_A}/24", "dev", ia)
        sh("ip", "-n", b, "addr", "add", f"{VETH_B}/24", "dev", ib)
        for n, i in ((a, ia), (b, ib)):
            sh("ip", "-n", n, "link", "set", i, "mtu", str(mtu), "up")
        return a, b

    def utcp_serve(self, extra, label):
        ns = self.ns.add(label)
        err = open(os.path.join(self.tmp, f"serve-{label}.err"), "w")
        p = self.ns.spawn(ns, [self.tool("utcp-serve"), "--discard", "9", "--chargen", "19",
                               "--echo", "7", "--stats"] + extra, stderr=err)
        wait_until(lambda: f"inet {KERNEL}/" in sh("ip", "-n", ns, "-4", "addr", "show", "dev",
                                                   "utcp0", check=False).stdout, "the TUN")
        wait_until(lambda: f"inet6 {KERNEL6}/" in sh("ip", "-n", ns, "-6", "addr", "show", "dev",
                                                     "utcp0", check=False).stdout, "IPv6 on the TUN")
        time.sleep(0.2)
        return ns, p

    def v6_row(self, section, name, v6, v4, unit):
        """An IPv6 figure beside its IPv4 twin measured interleaved in the same run; the
        "kernel" column holds the IPv4 figure, so the ratio is IPv6 / IPv4."""
        self.row(section, name + ", IPv6", v6, unit, v4, V6_TARGET,
                 bool(v4) and v6 >= 0.95 * v4, note="reference: the IPv4 row")

    def throughput(self):
        a = self.args
        modes = [("MTU 1500, no offload", ["--no-offload"]), ("MTU 1500, offload", []),
                 ("MTU 65535", ["--mtu", "65535", "--no-offload"])]
        va, vb = self.veth()
        sinks = [self.ns.spawn(vb, [PY, self.peer_py, "sink", VETH_B, "5201"]),
                 self.ns.spawn(vb, [PY, self.peer_py, "source", VETH_B, "5202"])]
        wait_until(lambda: listening(vb, 5201) and listening(vb, 5202), "veth peers")
        servers = [(label, *self.utcp_serve(extra, f"t{i}")) for i, (label, extra) in
                   enumerate(modes)]
        res = {(label, d): [] for label, _ in modes for d in ("in", "out", "in6", "out6")}
        ref_send, ref_recv = [], []
        # Interleaved, so background load falls on every row alike.
        for _ in range(a.runs):
            ref_send += peer(va, self.peer_py, "send", VETH_B, 5201, a.mb)
            ref_recv += peer(va, self.peer_py, "recv", VETH_B, 5202, a.mb)
            for label, ns, _p in servers:
                res[(label, "in")] += peer(ns, self.peer_py, "send", STACK, 9, a.mb)
                res[(label, "out")] += peer(ns, self.peer_py, "recv", STACK, 19, a.mb)
                res[(label, "in6")] += peer(ns, self.peer_py, "send", STACK6, 9, a.mb)
                res[(label, "out6")] += peer(ns, self.peer_py, "recv", STACK6, 19, a.mb)
        for label, ns, p in servers:
            self.ns.stop(p)
        for s in sinks:
            self.ns.stop(s)
        k2k_in = median(ref_send) * 8 / 1000
        k2k_out = median(ref_recv) * 8 / 1000
        self.raw["throughput_mb_s"] = {f"{k[0]} / {k[1]}": v for k, v in res.items()}
        self.raw["throughput_mb_s"]["kernel->kernel veth send"] = ref_send
        self.raw["throughput_mb_s"]["kernel->kernel veth recv"] = ref_recv
        for label, _ in modes:
            gin = median(res[(label, "in")]) * 8 / 1000
            gout = median(res[(label, "out")]) * 8 / 1000
            if "no offload" in label:
                tin, tout = (">= 2.5 Gbit/s", gin >= 2.5), (">= 1.0 Gbit/s", gout >= 1.0)
            elif "offload" in label:
                tin, tout = (">= kernel<->kernel", gin >= k2k_in), (">= kernel<->kernel",
                                                                   gout >= k2k_out)
            else:
                tin = tout = (None, None)
            self.row("1 bulk TUN", f"kernel -> utcp, {label}", gin, "Gbit/s", k2k_in, *tin)
            self.row("1 bulk TUN", f"utcp -> kernel, {label}", gout, "Gbit/s", k2k_out, *tout)
            self.v6_row("1 bulk TUN", f"kernel -> utcp, {label}",
                        median(res[(label, "in6")]) * 8 / 1000, gin, "Gbit/s")
            self.v6_row("1 bulk TUN", f"utcp -> kernel, {label}",
                        median(res[(label, "out6")]) * 8 / 1000, gout, "Gbit/s")
        self.row("1 bulk TUN", "kernel -> kernel veth (reference)", k2k_in, "Gbit/s")

    def multi_queue(self):
        """Aggregate kernel -> utcp over 4 connections at once: one stack thread on a plain
        TUN (--threads 1) against a multi-queue TUN with a stack thread per queue
        (--threads 2), with and without offload, interleaved run by run."""
        a = self.args
        modes = [("offload", []), ("no offload", ["--no-offload"])]
        servers = [(label, t, *self.utcp_serve(["--threads", str(t)] + extra, f"mq{i}{t}"))
                   for i, (label, extra) in enumerate(modes) for t in (1, 2)]
        res = {(label, t): [] for label, t, _, _ in servers}
        for _ in range(a.runs):
            for label, t, ns, _p in servers:
                res[(label, t)] += peer(ns, self.peer_py, "psend", STACK, 9, a.mb, 4)
        for _l, _t, _ns, p in servers:
            self.ns.stop(p)
        self.raw["multi_queue_4_streams_mb_s"] = {f"{k[0]}, --threads {k[1]}": v
                                                  for k, v in res.items()}
        for label, _ in modes:
            one, two = (median(res[(label, t)]) * 8 / 1000 for t in (1, 2))
            self.row("8 multi-queue", f"kernel -> utcp, 4 streams, {label}, --threads 1", one,
                     "Gbit/s", note=f"{os.cpu_count()} CPUs")
            self.row("8 multi-queue", f"kernel -> utcp, 4 streams, {label}, --threads 2", two,
                     "Gbit/s", note="%.2fx --threads 1, runs interleaved"
                     % (two / one if one else float("nan")))

    def request_response(self):
        a = self.args
        ns, p = self.utcp_serve([], "rr")
        va, vb = self.veth()
        echo = self.ns.spawn(vb, [PY, self.peer_py, "echo", VETH_B, "7"])
        wait_until(lambda: listening(vb, 7), "veth echo")
        for size in (1, 1024):
            u, u6, k = [], [], []
            for _ in range(a.runs):
                u.append(peer(ns, self.peer_py, "rr", STACK, 7, size, a.seconds))
                u6.append(peer(ns, self.peer_py, "rr", STACK6, 7, size, a.seconds))
                k.append(peer(va, self.peer_py, "rr", VETH_B, 7, size, a.seconds))
            ut, kt = median([x[0] for x in u]), median([x[0] for x in k])
            self.row("3 request/response", f"{size} B ping-pong, kernel client <-> utcp", ut,
                     "trans/s", kt, ">= 90% of kernel", ut >= 0.9 * kt)
            self.row("3 request/response", f"{size} B p50 / p99 latency utcp", median(
                [x[1] for x in u]), "us", median([x[1] for x in k]), note="p99 %.0f us "
                     "(kernel %.0f us)" % (median([x[2] for x in u]), median([x[2] for x in k])))
            self.v6_row("3 request/response", f"{size} B ping-pong, kernel client <-> utcp",
                        median([x[0] for x in u6]), ut, "trans/s")
        self.ns.stop(echo)
        self.ns.stop(p)

    def connection_rate(self):
        a = self.args
        ns, p = self.utcp_serve([], "cps")
        va, vb = self.veth()
        sink = self.ns.spawn(vb, [PY, self.peer_py, "sink", VETH_B, "9"])
        wait_until(lambda: listening(vb, 9), "veth sink")
        u, u6, k = [], [], []
        for _ in range(a.runs):
            u.append(peer(ns, self.peer_py, "cps", STACK, 9, a.seconds)[0])
            u6.append(peer(ns, self.peer_py, "cps", STACK6, 9, a.seconds)[0])
            k.append(peer(va, self.peer_py, "cps", VETH_B, 9, a.seconds)[0])
        self.row("4 connection rate", "connections/s accepted+closed by utcp-serve", median(u),
                 "conn/s", median(k))
        self.v6_row("4 connection rate", "connections/s accepted+closed by utcp-serve",
                    median(u6), median(u), "conn/s")
        self.ns.stop(sink)
        # Idle: the stack thread at 0% CPU with an established, silent connection.
        hold = self.ns.spawn(ns, [PY, "-c", f"import socket,time; s=socket.create_connection("
                                  f"('{STACK}',7)); time.sleep(4)"])
        time.sleep(0.5)
        pid = int(sh("ip", "netns", "pids", ns).stdout.split()[0])
        for cand in sh("ip", "netns", "pids", ns).stdout.split():
            try:
                if "utcp-serve" in open(f"/proc/{cand}/cmdline").read():
                    pid = int(cand)
            except OSError:
                pass

        def ticks():
            f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            return int(f[11]) + int(f[12])
        t0 = ticks()
        time.sleep(3)
        used = (ticks() - t0) / os.sysconf("SC_CLK_TCK") / 3 * 100
        self.row("7 idle", "utcp-serve CPU with an idle connection", used, "% CPU", None,
                 "0%", used < 1.0)
        self.ns.stop(hold)
        self.ns.stop(p)

    def stack_to_stack(self):
        a = self.args
        for mtu in (1500, 65535):
            xs, x6 = [], []
            for _ in range(a.runs):  # the two families interleaved
                for fam, out in (([], xs), (["--ipv6"], x6)):
                    got = sh(self.bench_bin("utcp-stack-bench"), "throughput", "--mb",
                             str(a.mb * 2), "--mtu", str(mtu), *fam).stdout
                    out.append(json.loads(got)["gbit_per_core"])
            self.raw[f"stack_to_stack_{mtu}"] = xs
            self.raw[f"stack_to_stack_{mtu}_ipv6"] = x6
            self.row("2 stack-to-stack", f"in memory, MTU {mtu}", median(xs), "Gbit/s/core",
                     None, ">= 20 Gbit/s" if mtu == 1500 else None,
                     median(xs) >= 20 if mtu == 1500 else None)
            self.v6_row("2 stack-to-stack", f"in memory, MTU {mtu}", median(x6), median(xs),
                        "Gbit/s/core")

    def scale(self):
        for n in (10000, 100000) if not self.args.quick else (10000,):
            out = json.loads(sh(self.bench_bin("utcp-stack-bench"), "scale", "--conns",
                                str(n), timeout=600).stdout)
            self.raw[f"scale_{n}"] = out
            kib = out["kib_per_socket"]
            self.row("5 scale", f"{n} connections: memory per established socket", kib,
                     "KiB", None, "<= 4 KiB", kib <= 4.0,
                     note="RSS %d MiB for %d sockets (both ends in one process), opened in %.2f s"
                     % (out["rss_after_kib"] // 1024, out["sockets_held"], out["open_s"]))

    def callgrind(self):
        if not shutil.which("valgrind"):
            self.row("6 CPU cost", "instructions per byte", float("nan"), "Ir/B",
                     note="valgrind missing")
            return
        irs = {}
        for mb in (8, 16):
            outf = os.path.join(self.tmp, f"cg.{mb}")
            sh("valgrind", "--tool=callgrind", f"--callgrind-out-file={outf}",
               self.bench_bin("utcp-stack-bench"), "throughput", "--mb", str(mb), "--mtu",
               "1500", "--virtual", timeout=900)
            ann = sh("callgrind_annotate", "--inclusive=yes", outf).stdout
            total = int(re.search(r"([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", ann).group(1)
                        .replace(",", ""))
            irs[mb] = total
        per_byte = (irs[16] - irs[8]) / (8 << 20)
        self.raw["callgrind_ir"] = irs
        self.row("6 CPU cost", "stack-to-stack MTU 1500, send + receive ends together",
                 per_byte, "instr/byte", note="callgrind, marginal cost of 8 MB more "
                 "(perf counters are not available in this VM)")

    def micro(self):
        exe = self.bench_bin("utcp-micro-bench")
        if not os.path.exists(exe):
            return
        out = sh(exe, "--benchmark_format=json", "--benchmark_min_time=0.1").stdout
        data = json.loads(out)
        self.raw["micro"] = [{k: b.get(k) for k in ("name", "real_time", "time_unit",
                                                    "bytes_per_second", "label")}
                             for b in data["benchmarks"]]


def print_table(rows):
    print(f"{'section':<20} {'measurement':<52} {'utcp':>10} {'unit':<12} {'kernel':>9} "
          f"{'ratio':>6}  target")
    for r in rows:
        ref = f"{r['ref']:.2f}" if r["ref"] else "-"
        ratio = f"{r['ratio']:.2f}" if r["ratio"] else "-"
        tgt = ""
        if r["target"]:
            tgt = f"{r['target']}: {'met' if r['met'] else 'MISSED'}"
        print(f"{r['section']:<20} {r['name']:<52} {r['value']:>10.2f} {r['unit']:<12} "
              f"{ref:>9} {ratio:>6}  {tgt}")
        if r["note"]:
            print(f"{'':<20}   ({r['note']})")


def markdown(rows, machine):
    out = [f"Run {machine['date_utc']} UTC on {machine['cpus']} x {machine['cpu_model']}, Linux "
           f"{machine['kernel']}; median of {machine['runs']} runs, {machine['mb']} MB per bulk "
           f"transfer; load average {machine['load_avg_at_end'][0]:.1f} at the end.", "",
           "| section | measurement | utcp | unit | kernel | ratio | target |",
           "|---|---|---:|---|---:|---:|---|"]
    for r in rows:
        ref = f"{r['ref']:.2f}" if r["ref"] else "–"
        ratio = f"{r['ratio']:.2f}" if r["ratio"] else "–"
        tgt = f"{r['target']}: **{'met' if r['met'] else 'missed'}**" if r["target"] else ""
        name = r["name"] + (f" ({r['note']})" if r["note"] else "")
        out.append(f"| {r['section']} | {name} | {r['value']:.2f} | {r['unit']} | {ref} | "
                   f"{ratio} | {tgt} |")
    return "\n".join(out) + "\n"


def chart(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(no PNG: python3-matplotlib is not installed)")
        return False
    rs = [r for r in rows if r["ratio"] and r["unit"] != "us"]  # higher is better only
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(rs) + 1.5))
    ax.barh([r["name"] for r in rs], [r["ratio"] for r in rs],
            color=["tab:green" if r["ratio"] >= 1 else "tab:orange" for r in rs])
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xlabel("utcp / kernel (median of runs; 1.0 = as fast as the kernel; IPv6 rows: "
                  "IPv6 / IPv4)")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="runs per figure (median reported)")
    ap.add_argument("--mb", type=int, default=300, help="MB per bulk transfer")
    ap.add_argument("--seconds", type=float, default=2.0, help="per request/response run")
    ap.add_argument("--quick", action="store_true", help="3 runs, 100 MB, no 100k scale row")
    ap.add_argument("--build", default=os.environ.get("UTCP_BUILD", ""))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    ap.add_argument("--only", default="",
                    help="comma list: tput,mq,rr,cps,s2s,scale,cpu,micro")
    args = ap.parse_args()
    if args.quick:
        args.runs, args.mb, args.seconds = 3, 100, 1.0
    if os.geteuid() != 0:
        sys.exit("bench: needs root (network namespaces, TUN)")
    build = args.build
    if not build:
        for b in ("build/release", "build/perf"):
            if os.path.exists(os.path.join(ROOT, b, "bench", "utcp-stack-bench")):
                build = b
                break
    build = os.path.join(ROOT, build) if build else ""
    if not build or not os.path.exists(os.path.join(build, "tools", "utcp-serve")):
        sys.exit("bench: no release build with tools and benchmarks (bench/run.sh builds one)")
    os.makedirs(args.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="utcp-bench.")
    suite = Suite(args, build, tmp)
    only = set(args.only.split(",")) if args.only else None
    steps = [("tput", suite.throughput), ("mq", suite.multi_queue), ("s2s", suite.stack_to_stack),
             ("rr", suite.request_response), ("cps", suite.connection_rate),
             ("scale", suite.scale), ("cpu", suite.callgrind), ("micro", suite.micro)]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        for name, step in steps:
            if only and name not in only:
                continue
            print(f"[bench] {name} ...", file=sys.stderr, flush=True)
            step()
            suite.ns.cleanup()
    finally:
        suite.ns.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    machine = {
        "cpus": os.cpu_count(),
        "cpu_model": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                           if l.startswith("model name")), "?"),
        "kernel": platform.release(),
        "load_avg_at_end": os.getloadavg(),
        "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "runs": args.runs, "mb": args.mb, "build": os.path.relpath(build, ROOT),
    }
    print(f"utcp benchmark, {machine['date_utc']} UTC: {machine['cpus']} x "
          f"{machine['cpu_model']}, Linux {machine['kernel']}, median of {args.runs} runs, "
          f"load average {machine['load_avg_at_end'][0]:.1f}")
    print_table(suite.rows)
    with open(os.path.join(args.out, "latest.json"), "w") as f:
        json.dump({"machine": machine, "rows": suite.rows, "raw": suite.raw}, f, indent=1)
    with open(os.path.join(args.out, "latest.md"), "w") as f:
        f.write(markdown(suite.rows, machine))
    png = os.path.join(args.out, "latest.png")
    if chart(suite.rows, png):
        print(f"wrote {os.path.join(args.out, 'latest.json')} and {png}")


if __name__ == "__main__":
    main()
