#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The demo command: installs what is missing, builds utcp (release), and shows the stack doing
# its job against the Linux kernel's own TCP, all inside a private network namespace that is
# deleted at the end (also on failure or Ctrl-C):
#   1. utcp-serve answers HTTP; the kernel's curl fetches a page, the packets go to a pcap file;
#   2. 100 MB kernel nc -> utcp-cat and 100 MB utcp-cat -> kernel nc, checked by SHA-256, with
#      the rate of each;
#   3. utcp-proxy --direct: the namespace's traffic for a second namespace (the "target", over a
#      veth pair) is routed into the TUN and relayed by utcp-proxy through kernel sockets: curl
#      and a 100 MB download through the tunnel, one -v line per connection.
# Run as root on Debian 12:  bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it creates a network namespace and a TUN device)" >&2; exit 1; }
bash scripts/deps.sh
echo "demo: building (release preset)..."
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target utcp-serve utcp-cat utcp-proxy >/dev/null
bin="$root/build/release/tools"

ns="utcp-demo-$$"
out="$root/build/demo"
mkdir -p "$out"
work=$(mktemp -d /tmp/utcp-demo.XXXXXX)
pids=()
cleanup() {
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  for n in "$ns" "$ns-t"; do  # anything still running in them, then the namespaces
    ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null
    ip netns del "$n" 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$ns"
ip -n "$ns" link set lo up
in_ns() { ip netns exec "$ns" "$@"; }
wait_tun() {
  for _ in $(seq 1 100); do
    ip -n "$ns" -4 addr show dev utcp0 2>/dev/null | grep -q 'inet 10.77.0.1/' && { sleep 0.1; return 0; }
    sleep 0.05
  done
  echo "demo: the TUN device never came up" >&2
  exit 1
}
stop() {  # pid: SIGTERM, wait for it, and for its TUN device to go away
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  for _ in $(seq 1 100); do
    ip -n "$ns" link show utcp0 >/dev/null 2>&1 || return 0
    sleep 0.05
  done
}
now_ms() { date +%s%3N; }
rate() {  # bytes ms
  awk -v b="$1" -v ms="$2" 'BEGIN { if (ms < 1) ms = 1; printf "%.1f MB/s (%.2f Gbit/s)", b / 1e6 / (ms / 1e3), b * 8 / 1e9 / (ms / 1e3) }'
}
echo "demo: namespace $ns: kernel side 10.77.0.1/24 on TUN utcp0, utcp at 10.77.0.2"

# 1. HTTP: kernel curl -> utcp-serve, captured to a pcap file.
mkdir -p "$work/www"
cat >"$work/www/index.html" <<'HTML'
<!doctype html><title>utcp</title>
<h1>Hello from utcp</h1><p>This page was served by a TCP/IP stack running in user space.</p>
HTML
pcap="$out/demo-http.pcap"
rm -f "$pcap"
ip netns exec "$ns" "$bin/utcp-serve" --http 80 --root "$work/www" --pcap "$pcap" --stats 2>"$work/serve.err" &
pids+=($!)
serve_pid=$!
wait_tun
echo
echo "== curl http://10.77.0.2/ (the kernel's curl, the stack's HTTP server) =="
in_ns curl -sS --max-time 10 -i http://10.77.0.2/
in_ns curl -sS --max-time 10 -o /dev/null -w "curl: GET /missing -> HTTP %{http_code}\n" http://10.77.0.2/missing
stop "$serve_pid"

# 2. 100 MB each way with nc, checked by SHA-256.
head -c $((100 * 1024 * 1024)) /dev/urandom >"$work/up"
head -c $((100 * 1024 * 1024)) /dev/urandom >"$work/down"
sum() { sha256sum <"$1" | cut -d' ' -f1; }

echo
echo "== 100 MB kernel nc -> utcp-cat =="
ip netns exec "$ns" "$bin/utcp-cat" -l 5000 </dev/null >"$work/up.got" 2>"$work/cat1.err" &
pids+=($!)
cat_pid=$!
wait_tun
t0=$(now_ms)
in_ns nc -N 10.77.0.2 5000 <"$work/up" >/dev/null
wait "$cat_pid" || { cat "$work/cat1.err" >&2; exit 1; }
t1=$(now_ms)
[ "$(sum "$work/up")" = "$(sum "$work/up.got")" ] || { echo "demo: kernel -> utcp: SHA-256 differs" >&2; exit 1; }
echo "kernel -> utcp: $(stat -c %s "$work/up.got") bytes, SHA-256 $(sum "$work/up.got" | cut -c1-16)... matches, $(rate $((100 * 1024 * 1024)) $((t1 - t0)))"

echo
echo "== 100 MB utcp-cat -> kernel nc =="
ip netns exec "$ns" nc -l 5001 >"$work/down.got" </dev/null &
pids+=($!)
nc_pid=$!
for _ in $(seq 1 100); do
  in_ns ss -Hltn 'sport = :5001' 2>/dev/null | grep -q LISTEN && break
  sleep 0.05
done
t0=$(now_ms)
in_ns "$bin/utcp-cat" 10.77.0.1 5001 <"$work/down" >/dev/null 2>"$work/cat2.err" || {
  cat "$work/cat2.err" >&2
  exit 1
}
wait "$nc_pid" || true
t1=$(now_ms)
[ "$(sum "$work/down")" = "$(sum "$work/down.got")" ] || { echo "demo: utcp -> kernel: SHA-256 differs" >&2; exit 1; }
echo "utcp -> kernel: $(stat -c %s "$work/down.got") bytes, SHA-256 $(sum "$work/down.got" | cut -c1-16)... matches, $(rate $((100 * 1024 * 1024)) $((t1 - t0)))"

# 3. utcp-proxy --direct: curl and 100 MB from a target namespace through the tunnel.
ip netns add "$ns-t"
ip -n "$ns-t" link set lo up
ip link add "ud$$" netns "$ns" type veth peer name "ut$$" netns "$ns-t"
ip -n "$ns" addr add 10.80.0.1/24 dev "ud$$"
ip -n "$ns" link set "ud$$" up
ip -n "$ns-t" addr add 10.80.0.2/24 dev "ut$$"
ip -n "$ns-t" addr add 10.81.0.2/32 dev lo
ip -n "$ns-t" link set "ut$$" up
head -c $((100 * 1024 * 1024)) /dev/urandom >"$work/web.bin"
echo '<p>hello through utcp-proxy</p>' >"$work/index.html"
(cd "$work" && exec ip netns exec "$ns-t" python3 -m http.server -b 10.81.0.2 8000 >/dev/null 2>&1) &
pids+=($!)
# The target 10.81.0.0/24 is routed into the TUN; the proxy's own sockets are bound to the veth.
ip netns exec "$ns" "$bin/proxy/utcp-proxy" --direct --route 10.81.0.0/24 --interface "ud$$" -v \
  2>"$work/proxy.log" &
proxy=$!
pids+=("$proxy")
for _ in $(seq 1 100); do grep -q 'utcp-proxy: ready' "$work/proxy.log" && break; sleep 0.05; done
for _ in $(seq 1 100); do  # the target's server is up (asked inside the target namespace)
  ip netns exec "$ns-t" curl -s -o /dev/null http://10.81.0.2:8000/index.html && break
  sleep 0.1
done
echo
echo "== curl http://10.81.0.2:8000/ (routed into the TUN, relayed by utcp-proxy --direct) =="
in_ns curl -sS http://10.81.0.2:8000/index.html
echo
echo "== 100 MB through the tunnel =="
t0=$(now_ms)
in_ns curl -sS -o "$work/web.got" http://10.81.0.2:8000/web.bin
t1=$(now_ms)
[ "$(sum "$work/web.bin")" = "$(sum "$work/web.got")" ] || { echo "demo: proxy download: SHA-256 differs" >&2; exit 1; }
echo "target -> proxy -> TUN -> curl: $(stat -c %s "$work/web.got") bytes, SHA-256 matches, $(rate $((100 * 1024 * 1024)) $((t1 - t0)))"
kill -TERM "$proxy"
wait "$proxy" || true
echo "utcp-proxy's log (-v, one line per connection):"
grep -v 'ready' "$work/proxy.log" | head -n 6

echo
echo "demo: the HTTP exchange was captured to $pcap"
echo "demo: open it with:  tshark -r $pcap    (or Wireshark)"
if command -v tshark >/dev/null; then
  echo
  tshark -r "$pcap" 2>/dev/null | head -n 12 || true
fi
echo
echo "demo: done; namespace $ns is being removed."
