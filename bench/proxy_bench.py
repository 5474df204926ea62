#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Helpers of bench/proxy-bench.sh: CPU time of a set of processes, iperf3 JSON, RSS, and the
report (JSON, Markdown table with ratios, SVG chart).

  proxy_bench.py cpu PID...                 -> CPU seconds (utime+stime+children) of those
  proxy_bench.py iperf FILE                 -> "gbit bytes host_cpu_s remote_cpu_s"
  proxy_bench.py rss PID...                 -> summed VmRSS in KiB
  proxy_bench.py report RAW.tsv OUT_PREFIX TITLE ROUNDS
  proxy_bench.py echo PORT                  -> echo server (one thread, epoll), runs until killed
  proxy_bench.py crr HOST PORT SECS N       -> connect-request-response-close rate of N clients
"""
import json
import os
import selectors
import socket
import struct
import statistics
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def cpu(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        # utime, stime, cutime, cstime: fields 14-17 of proc(5), 12-15 after "(comm)"
        total += sum(int(x) for x in fields[11:15])
    print(f"{total / TICK:.3f}")


def iperf(path):
    with open(path) as f:
        d = json.load(f)
    end = d["end"]
    recv = end["sum_received"]
    secs = recv["seconds"]
    c = end["cpu_utilization_percent"]
    print(f"{recv['bits_per_second'] / 1e9:.3f} {recv['bytes']} "
          f"{c['host_total'] / 100 * secs:.3f} {c['remote_total'] / 100 * secs:.3f}")


def rss(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    print(total)


def echo(port):
    """The connection-rate benchmark's echo server: one thread with epoll, no thread or
    process per connection (the interop tests' threaded server costs more per connection than
    the relays being compared). Echoes until EOF, then closes."""
    sel = selectors.DefaultSelector()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(1024)
    srv.setblocking(False)
    sel.register(srv, selectors.EVENT_READ, None)
    print("echo: serving", flush=True)
    while True:
        for key, _ in sel.select():
            if key.data is None:
                while True:
                    try:
                        c, _ = srv.accept()
                    except BlockingIOError:
                        break
                    c.setblocking(False)
                    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    sel.register(c, selectors.EVENT_READ, 1)
                continue
            c = key.fileobj
            try:
                data = c.recv(65536)
                if data:
                    c.sendall(data)  # 100 bytes: always fits the socket's buffer
                    continue
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                pass
            sel.unregister(c)
            c.close()


def crr_client(host, port, end, out):
    """One sequential client: connect, 100-byte request, its echo, close, until `end`
    (time.monotonic()); writes the count and the summed connect and request times (s)."""
    msg = b"r" * 100
    n = 0
    t_conn = t_req = 0.0
    while time.monotonic() < end:
        t0 = time.monotonic()
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.settimeout(30)
        s.connect((host, port))
        t1 = time.monotonic()
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            b = s.recv(4096)
            if not b:
                sys.exit("crr: the echo ended early")
            got += b
        if got != msg:
            sys.exit("crr: the echo differs from the request")
        t_req += time.monotonic() - t1
        t_conn += t1 - t0
        s.close()
        n += 1
    os.write(out, struct.pack("=qdd", n, t_conn, t_req))


def crr(host, port, seconds, parallel):
    """`parallel` processes (not threads: no shared interpreter lock), each a sequential
    client, for `seconds`; prints the total rate (conn/s), and on stderr the mean connect()
    and request-response times (where the time of one connection goes)."""
    r, w = os.pipe()
    start = time.monotonic() + 0.2  # all start together, after the forks
    end = start + seconds
    kids = []
    for _ in range(parallel):
        pid = os.fork()
        if pid == 0:
            os.close(r)
            code = 0
            try:
                time.sleep(max(0.0, start - time.monotonic()))
                crr_client(host, port, end, w)
            except BaseException as e:  # noqa: BLE001 (the child reports, then exits)
                print(f"crr: {e}", file=sys.stderr)
                code = 1
            os._exit(code)
        kids.append(pid)
    os.close(w)
    failed = 0
    for pid in kids:
        _, status = os.waitpid(pid, 0)
        failed += status != 0
    data = b""
    while chunk := os.read(r, 4096):
        data += chunk
    if failed:
        sys.exit(f"crr: {failed} of {parallel} clients failed")
    total = conn = req = 0
    for i in range(0, len(data), 24):
        n, tc, tr = struct.unpack("=qdd", data[i:i + 24])
        total, conn, req = total + n, conn + tc, req + tr
    if total:
        print(f"crr: {total} connections, mean connect {conn / total * 1e6:.0f} us, "
              f"request-response {req / total * 1e6:.0f} us", file=sys.stderr)
    print(f"{total / seconds:.1f}")


MODES = [("utcp", "utcp-proxy"), ("kernel", "kernel path (redsocks)"), ("none", "no proxy")]
# Opt-in (HEV_SOCKS5_TUNNEL): shown, with its ratios, only when the run measured it.
HEV = ("hev", "hev-socks5-tunnel")
# metric key -> (label, unit, higher is better, goal text)
METRICS = [
    ("up1", "throughput up, 1 stream", "Gbit/s", True, ">= kernel path"),
    ("down1", "throughput down, 1 stream", "Gbit/s", True, ">= kernel path"),
    ("up4", "throughput up, 4 streams", "Gbit/s", True, ">= kernel path"),
    ("down4", "throughput down, 4 streams", "Gbit/s", True, ">= kernel path"),
    ("crr", "connect-request-response-close, 1 client", "conn/s", True, ">= kernel path"),
    ("crr4", "connect-request-response-close, 4 clients", "conn/s", True, ">= kernel path"),
    ("crr16", "connect-request-response-close, 16 clients", "conn/s", True, ">= kernel path"),
    ("cpu_crr", "proxy CPU per connection (relay + SOCKS server)", "CPU us/conn", False,
     "<= kernel path"),
    # The 6 MB read strictly: 6,000,000 bytes = 5.72 MiB (RSS is measured in KiB).
    ("rss_idle", "proxy RSS, 1,000 idle proxied connections", "MiB", False,
     "<= 6 MB (5.72 MiB)"),
    ("rss_base", "proxy RSS, just started", "MiB", False, ""),
    ("cpu_proxy", "proxy CPU per GB (relay + SOCKS server)", "CPU s/GB", False, "<= kernel path"),
    ("cpu_total", "all CPU per GB (+ iperf3 both ends)", "CPU s/GB", False, ""),
]


def report(raw, prefix, title, rounds):
    # raw: lines "mode metric value" (several runs of a metric: the median is reported)
    values = {}
    with open(raw) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3:
                values.setdefault((parts[0], parts[1]), []).append(float(parts[2]))
    med = {k: statistics.median(v) for k, v in values.items()}
    runs = rounds
    hev = any(mode == HEV[0] for mode, _ in med)
    modes = [MODES[0], HEV] + MODES[1:] if hev else MODES
    rows = []
    for key, label, unit, higher, goal in METRICS:
        row = {"metric": key, "label": label, "unit": unit, "goal": goal}
        for mode, _ in modes:
            row[mode] = med.get((mode, key))
        u, k, n = row["utcp"], row["kernel"], row["none"]
        row["ratio_kernel"] = u / k if u is not None and k else None
        row["ratio_none"] = u / n if u is not None and n else None
        if hev:
            h = row["hev"]
            row["hev_ratio_kernel"] = h / k if h is not None and k else None
            row["hev_ratio_none"] = h / n if h is not None and n else None
            row["ratio_hev"] = u / h if u is not None and h else None
        verdict = ""
        if goal.startswith(">= kernel") and row["ratio_kernel"] is not None:
            verdict = "met" if row["ratio_kernel"] >= 1 else "missed"
        elif goal.startswith("<= kernel") and row["ratio_kernel"] is not None:
            verdict = "met" if row["ratio_kernel"] <= 1 else "missed"
        elif goal.startswith("<= 6 MB") and u is not None:
            verdict = "met" if u * 1024 * 1024 <= 6e6 else "missed"
        row["verdict"] = verdict
        rows.append(row)
    with open(prefix + ".json", "w") as f:
        json.dump({"title": title, "runs": runs, "rows": rows,
                   "raw": {f"{m} {k}": v for (m, k), v in values.items()}}, f, indent=1)

    def fmt(v, digits=2):
        return "–" if v is None else f"{v:.{digits}f}"

    lines = [f"{title}; {runs} round(s), medians (CPU per GB: over the four throughput runs "
             "of each round).", "",
             "| measurement | unit | utcp-proxy | kernel path (redsocks) | no proxy | "
             "utcp / kernel path | utcp / no proxy | goal |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        if all(r[m] is None for m, _ in MODES):
            continue  # not measured in this run (--crr-only)
        goal = f"{r['goal']}: **{r['verdict']}**" if r["verdict"] else r["goal"]
        lines.append(f"| {r['label']} | {r['unit']} | {fmt(r['utcp'])} | {fmt(r['kernel'])} | "
                     f"{fmt(r['none'])} | {fmt(r['ratio_kernel'])} | {fmt(r['ratio_none'])} | "
                     f"{goal} |")
    if hev:  # the table with hev-socks5-tunnel's column and ratios in place of the one above
        lines = lines[:2] + hev_table(rows, fmt)
    with open(prefix + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    svg(rows, prefix + ".svg", title, modes)
    print("\n".join(lines))


def hev_table(rows, fmt):
    """The Markdown table when hev-socks5-tunnel was measured: its figures and its ratios to
    the kernel path and no proxy next to utcp-proxy's, and utcp-proxy / hev."""
    lines = ["| measurement | unit | utcp-proxy | hev-socks5-tunnel | kernel path (redsocks) | "
             "no proxy | utcp / kernel path | hev / kernel path | utcp / hev | utcp / no proxy | "
             "hev / no proxy | goal (utcp-proxy) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        if all(r[m] is None for m in ("utcp", "hev", "kernel", "none")):
            continue  # not measured in this run
        goal = f"{r['goal']}: **{r['verdict']}**" if r["verdict"] else r["goal"]
        lines.append(f"| {r['label']} | {r['unit']} | {fmt(r['utcp'])} | {fmt(r['hev'])} | "
                     f"{fmt(r['kernel'])} | {fmt(r['none'])} | {fmt(r['ratio_kernel'])} | "
                     f"{fmt(r['hev_ratio_kernel'])} | {fmt(r['ratio_hev'])} | "
                     f"{fmt(r['ratio_none'])} | {fmt(r['hev_ratio_none'])} | {goal} |")
    return lines


def svg(rows, path, title, modes):
    """Grouped horizontal bars, one group per measurement, each bar as a fraction of the
    group's largest value (the figure written beside it)."""
    colors = {"utcp": "#2b6cb0", "hev": "#2f855a", "kernel": "#c05621", "none": "#718096"}
    bar_h, gap, left, width = 14, 14, 330, 420
    nbars = len(modes)
    shown = [r for r in rows if any(r[m] is not None for m, _ in modes)]
    head, _, tail = title.partition(", ")  # the subject, then date, machine, mode, load
    height = 80 + len(shown) * (nbars * bar_h + gap) + 30
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 120}" '
           f'height="{height}" font-family="sans-serif" font-size="12">',
           f'<text x="10" y="20" font-size="14" font-weight="bold">{esc(head)}</text>',
           f'<text x="10" y="38" fill="#555">{esc(tail)}</text>']
    x = 10
    for mode, name in modes:
        out.append(f'<rect x="{x}" y="52" width="12" height="12" fill="{colors[mode]}"/>'
                   f'<text x="{x + 16}" y="63">{esc(name)}</text>')
        x += 200
    y = 80
    for r in shown:
        top = max(r[m] for m, _ in modes if r[m] is not None) or 1
        better = "higher is better" if r["unit"] in ("Gbit/s", "conn/s") else "lower is better"
        out.append(f'<text x="10" y="{y + bar_h * 1.5 + 4}">{esc(r["label"])}</text>'
                   f'<text x="10" y="{y + bar_h * 2.5 + 6}" fill="#555" font-size="10">'
                   f'{esc(r["unit"])}, {better}</text>')
        for i, (mode, _) in enumerate(modes):
            v = r[mode]
            yy = y + i * bar_h
            if v is None:
                out.append(f'<text x="{left}" y="{yy + 11}" fill="#999">n/a</text>')
                continue
            w = max(1, int(width * v / top))
            out.append(f'<rect x="{left}" y="{yy}" width="{w}" height="{bar_h - 2}" '
                       f'fill="{colors[mode]}"/><text x="{left + w + 4}" y="{yy + 11}">'
                       f'{v:.2f}</text>')
        y += nbars * bar_h + gap
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def main(argv):
    cmd = argv[1]
    if cmd == "cpu":
        cpu(argv[2:])
    elif cmd == "iperf":
        iperf(argv[2])
    elif cmd == "rss":
        rss(argv[2:])
    elif cmd == "echo":
        echo(int(argv[2]))
    elif cmd == "crr":
        crr(argv[2], int(argv[3]), float(argv[4]), int(argv[5]))
    elif cmd == "report":
        report(argv[2], argv[3], argv[4], int(argv[5]))
    else:
        sys.exit(f"proxy_bench.py: unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
