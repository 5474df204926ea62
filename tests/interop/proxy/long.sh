#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# One connection through utcp-proxy carrying many bytes each way (SHA-256 checked by pxpeer's
# sink and source on the target), then utcp-proxy's per-session byte counters in
# --stats-json must equal exactly what crossed (payload + pxpeer's one-line header/answer).
# In the test set: 300 MB each way through SOCKS5 (dante). Opt-in, the counters beyond 2^32
# (sequence numbers wrap, 64-bit counts), about 4.5 GiB each way:
#
#   sudo PX_LONG_BYTES=4831838208 IT_LIMIT=1800 UTCP_PROXY=build/release/tools/proxy/utcp-proxy \
#     bash tests/interop/proxy/long.sh
#
# PX_LONG_KIND picks the upstream (socks5 by default; socks5-auth, http, direct).
source "$(dirname "$0")/lib.sh"
px_init long
it_need_tool UTCP_PROXY
cd "$IT_TMP"
px_world
bytes=${PX_LONG_BYTES:-300000000}
kind=${PX_LONG_KIND:-socks5}

px_start_proxy "$kind" --stats-json "$IT_TMP/stats.json"
in_c $PXPEER upload "$T_ADDR" "$bytes" || { tail -20 proxy.err >&2; it_fail "upload $bytes"; }
in_c $PXPEER download "$T_ADDR" "$bytes" || { tail -20 proxy.err >&2; it_fail "download $bytes"; }
px_stop_proxy

# The sink's session: up = "<bytes>\n" + bytes, down = "<bytes> <sha256 hex>\n";
# the source's: up = "<bytes> 2\n" (seed 2), down = bytes.
$IT_PYTHON - "$IT_TMP/stats.json" "$bytes" "$T_ADDR" <<'PY' || it_fail "--stats-json counters"
import json, sys
path, n, target = sys.argv[1], int(sys.argv[2]), sys.argv[3]
doc = json.load(open(path))
def one(port):
    rs = [r for r in doc["sessions"] if not r.get("udp") and
          json.dumps(r["destination"]).find(f"{target}") >= 0 and
          json.dumps(r["destination"]).find(str(port)) >= 0]
    if len(rs) != 1:
        sys.exit(f"want one session to port {port}, got {len(rs)}: {rs[:3]}")
    return rs[0]
sink, source = one(7002), one(7003)
want = {"sink up": (sink["bytes_up"], len(f"{n}\n") + n),
        "sink down": (sink["bytes_down"], len(str(n)) + 1 + 64 + 1),
        "source up": (source["bytes_up"], len(f"{n} 2\n")),
        "source down": (source["bytes_down"], n)}
bad = {k: v for k, v in want.items() if v[0] != v[1]}
if bad:
    sys.exit(f"counters (got, want): {bad}")
for r in (sink, source):
    if r["end"] != "closed":
        sys.exit(f"session to {r['destination']} ended {r['end']!r}, want 'closed'")
tot = doc["totals"]
if tot["bytes_up"] < want["sink up"][1] or tot["bytes_down"] < n:
    sys.exit(f"totals {tot} below the sessions' bytes")
print(f"stats: sink up {sink['bytes_up']}, source down {source['bytes_down']}; "
      f"totals up {tot['bytes_up']} down {tot['bytes_down']}: exact")
PY
it_log "$bytes bytes each way through $kind on one connection each, counters exact"
