#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# utcp-proxy side by side with the kernel path and with no proxy (issue 14), in one run, in
# the three-namespace world of tests/interop/proxy/lib.sh (client C, proxy host P with dante,
# target T with iperf3 and an echo server):
#   utcp-proxy  C's TCP to T is routed into utcp-proxy's TUN, relayed to dante (SOCKS5) on P;
#   kernel path C's TCP to T is redirected by nftables (nat output, redirect) to redsocks in
#               C, which relays it to the same dante;
#   no proxy    C's TCP goes to T by the kernel's routing through P (the upper bound).
# Measured for each: iperf3 throughput up and down with 1 and 4 streams; connect-request-
# response-close rate (100-byte echo; 1, 4 and 16 client processes at once, against a one-
# thread epoll echo server in T); the relay's RSS when just started and
# with 1,000 idle proxied connections (on a fresh relay, not after the throughput runs); CPU seconds per GB moved (the relay processes:
# utcp-proxy or redsocks, plus dante; and everything incl. both iperf3 ends). Runs of the three
# set-ups are interleaved (mode by mode within each round) and the median is reported.
#
#   sudo bench/proxy-bench.sh [--quick] [--crr-only] [--rounds N] [--out PREFIX]
# --quick: 2 s per throughput run, 2 s connection rate, 1 round (about a minute).
# --crr-only: only the connection-rate rows (to compare a change of the dial path quickly).
# Default: 8 s runs, 5 s rate, 3 rounds (several minutes: not on a shared machine's busy hours).
# PROXY_BENCH_MODES="kernel none" leaves a set-up out. Writes PREFIX.{json,md,svg} (default bench/results/proxy-bench). utcp-proxy comes from
# $UTCP_PROXY, else $UTCP_BUILD (default build/release, then build/dev)/tools/proxy/;
# UTCP_PROXY_ARGS adds flags to its command line (e.g. --socks5-pipeline).
#
# Opt-in, a tun2socks users run today beside it: HEV_SOCKS5_TUNNEL=/path/to/hev-socks5-tunnel
# adds the set-up "hev" (rows and ratios next to utcp-proxy's): hev-socks5-tunnel (lwIP) in C,
# its TUN hev<pid> with a route for T's network, its upstream the same dante; its YAML config
# (its sample's defaults; MTU $HEV_MTU, default 8500 as in that sample) is written to the scratch
# dir. It is not in Debian: docs/performance.md says how to build it in /tmp (never committed).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quick=0
rounds=3
secs=8
crr_secs=5
crr_only=0
out="$root/bench/results/proxy-bench"
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 rounds=1 secs=2 crr_secs=2 ;;
    --crr-only) crr_only=1 ;;
    --rounds) rounds=$2; shift ;;
    --out) out=$2; shift ;;
    *) echo "usage: $0 [--quick] [--crr-only] [--rounds N] [--out PREFIX]" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "${UTCP_PROXY:-}" ]; then
  for b in "${UTCP_BUILD:-}" "$root/build/release" "$root/build/dev"; do
    [ -n "$b" ] && [ -x "$b/tools/proxy/utcp-proxy" ] && UTCP_PROXY="$b/tools/proxy/utcp-proxy" && break
  done
fi
default_modes="utcp kernel none"
[ -z "${HEV_SOCKS5_TUNNEL:-}" ] || default_modes="utcp hev kernel none"
modes=${PROXY_BENCH_MODES:-$default_modes}  # a subset, e.g. to check the script itself
[[ " $modes " != *" utcp "* ]] || [ -x "${UTCP_PROXY:-}" ] || { echo "proxy-bench: build utcp-proxy first (or set UTCP_PROXY)" >&2; exit 1; }
[[ " $modes " != *" hev "* ]] || [ -x "${HEV_SOCKS5_TUNNEL:-}" ] ||
  { echo "proxy-bench: the hev set-up needs HEV_SOCKS5_TUNNEL=/path/to/hev-socks5-tunnel (an executable)" >&2; exit 1; }
export UTCP_PROXY
for t in iperf3 redsocks danted nft; do
  command -v "$t" >/dev/null || { echo "proxy-bench: needs $t (scripts/deps.sh)" >&2; exit 1; }
done
export IT_LIMIT=$((quick ? 400 : 1800))
# shellcheck source=../tests/interop/proxy/lib.sh
source "$root/tests/interop/proxy/lib.sh"
px_init bench
ulimit -n "$(ulimit -Hn)"  # 1,000 proxied connections: 2,000+ descriptors per relay
tmp=$IT_TMP
PB="$IT_PYTHON $root/bench/proxy_bench.py"
raw="$tmp/raw.tsv"
: >"$raw"

px_links
px_target
px_danted
px_daemon "$NS_T" iperf3 iperf3 -s -p 5201
px_wait_port "$NS_T" tcp 5201
CRR_PORT=7005
px_daemon "$NS_T" crr-echo $PB echo "$CRR_PORT"
px_wait_port "$NS_T" tcp "$CRR_PORT"
# Thousands of connections a second end in TIME_WAIT at C (the client closes first, and so do
# both relays towards dante) and at P (dante towards T). C's connect()s reuse them after a
# second (tcp_tw_reuse, timestamps on both ends). Dante binds its outgoing sockets before
# connect(), where that does not apply: P ran out of ports after ~28,000 connections in a
# minute and every set-up measured after that collapsed (measured: 3,000 -> 180 conn/s). So P
# keeps at most 4,096 (the kernel closes the rest at once; T's sockets are gone by then). C
# keeps its TIME_WAITs (capping them there too slowed the kernel path's connections, whose
# nftables redirect tracks each one). Per namespace, so only the bench's own.
for ns in "$NS_C" "$NS_P"; do
  ip netns exec "$ns" sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="10000 64999"
done
in_p sysctl -qw net.ipv4.tcp_max_tw_buckets=4096
cat >"$tmp/redsocks.conf" <<EOF
base { log_debug = off; log_info = off; log = stderr; daemon = off; redirector = iptables; }
redsocks { local_ip = 127.0.0.1; local_port = 12345; ip = $P_ADDR; port = 1080; type = socks5; }
EOF

danted_pids() {
  local p
  for p in $(ip netns pids "$NS_P"); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = danted ] && echo "$p"
  done
  return 0
}

# hev-socks5-tunnel in C: its own TUN (unique name, gone when the process or namespace is),
# a route for T's network into it, dante as its upstream over c0's connected route.
hev_dev="hev$$"
hev_up() {
  cat >"$tmp/hev.yml" <<EOF
tunnel:
  name: $hev_dev
  mtu: ${HEV_MTU:-8500}
  multi-queue: false
  ipv4: 198.18.0.1
socks5:
  port: 1080
  address: $P_ADDR
  udp: 'udp'
misc:
  log-file: stderr
  log-level: warn
EOF
  px_forwarding 0  # T reachable only through the relay, as for utcp-proxy
  px_daemon "$NS_C" hev "$HEV_SOCKS5_TUNNEL" "$tmp/hev.yml"
  relay_pid=${IT_PIDS[-1]}  # ip netns exec execs the program: this is hev's own pid
  for _ in $(seq 1 200); do
    in_c ip link show "$hev_dev" 2>/dev/null | grep -q ',UP' && break
    kill -0 "$relay_pid" 2>/dev/null || { cat "$tmp/hev.log" >&2; it_fail "hev-socks5-tunnel exited at start"; }
    sleep 0.05
  done
  in_c ip link show "$hev_dev" | grep -q ',UP' || it_fail "hev-socks5-tunnel: $hev_dev not up after 10 s"
  in_c ip route add "$T_NET" dev "$hev_dev"
  in_c ip route get "$T_ADDR" | grep -q "dev $hev_dev" || it_fail "no route to $T_ADDR into $hev_dev"
}

hev_down() {
  kill -TERM "$relay_pid" 2>/dev/null || true
  it_wait "$relay_pid" 20
  # Its exit status is not checked (a signal's, 143, when it has no SIGTERM handler); what is
  # checked is that its TUN and the route into it are gone.
  px_check_no_leftovers "$hev_dev"
}

relay_pid=
mode_up() {
  case $1 in
    utcp)
      # shellcheck disable=SC2086
      px_start_proxy socks5 ${UTCP_PROXY_ARGS:-}
      relay_pid=$PX_PID ;;
    hev) hev_up ;;
    kernel)
      px_daemon "$NS_C" redsocks redsocks -c "$tmp/redsocks.conf"
      relay_pid=${IT_PIDS[-1]}
      in_c nft -f - <<EOF
table ip pxbench {
  chain out {
    type nat hook output priority -100; policy accept;
    ip daddr $T_NET meta l4proto tcp redirect to :12345
  }
}
EOF
      px_wait_port "$NS_C" tcp 12345 ;;
    none)
      relay_pid=
      px_forwarding 1 ;;  # C's packets to T routed by P (px_start_proxy turned it off)
  esac
}

mode_down() {
  case $1 in
    utcp) px_stop_proxy ;;
    hev) hev_down ;;
    kernel)
      in_c nft delete table ip pxbench
      kill "$relay_pid"
      wait "$relay_pid" 2>/dev/null || true ;;
  esac
}

record() { echo "$1 $2 $3" >>"$raw"; }

# CPU seconds so far of the relay path: the relay (utcp-proxy or redsocks) and dante.
relay_cpu() {
  if [ -z "$relay_pid" ]; then echo 0; return; fi
  # shellcheck disable=SC2046
  $PB cpu "$relay_pid" $(danted_pids)
}

throughput() {  # mode key iperf3-args...
  local mode=$1 key=$2 c0 c1 res
  shift 2
  c0=$(relay_cpu)
  in_c timeout $((secs + 30)) iperf3 -c "$T_ADDR" -p 5201 -t "$secs" -J "$@" >"$tmp/iperf.json" ||
    { tail -5 "$tmp/iperf.json" >&2; it_fail "$mode: iperf3 $*"; }
  c1=$(relay_cpu)
  read -r gbit bytes host remote < <($PB iperf "$tmp/iperf.json")
  record "$mode" "$key" "$gbit"
  res=$(awk -v a="$c0" -v b="$c1" -v n="$bytes" -v h="$host" -v r="$remote" \
    'BEGIN { g = n / 1e9; printf "%.3f %.3f", (b - a) / g, (b - a + h + r) / g }')
  record "$mode" "cpu_proxy" "${res% *}"
  record "$mode" "cpu_total" "${res#* }"
  it_log "$mode $key: $gbit Gbit/s, CPU s/GB relay ${res% *}, all ${res#* }"
}

idle_rss() {  # mode
  local mode=$1 hold_pid
  sleep 0.5
  record "$mode" rss_base "$(awk '{printf "%.2f", $1 / 1024}' <<<"$($PB rss "$relay_pid")")"
  rm -f "$tmp/hold.ready"
  in_c $PXPEER hold "$T_ADDR" 1000 600 "$tmp/hold.ready" >"$tmp/hold.log" 2>&1 &
  hold_pid=$!
  for _ in $(seq 1 1200); do
    [ -s "$tmp/hold.ready" ] && break
    kill -0 "$hold_pid" 2>/dev/null || { cat "$tmp/hold.log" >&2; it_fail "$mode: 1,000 idle connections"; }
    sleep 0.1
  done
  [ -s "$tmp/hold.ready" ] || it_fail "$mode: 1,000 connections not open after 120 s"
  sleep 3  # idle: past utcp's idle period (1 s), after which empty buffers are freed
  local kib
  kib=$($PB rss "$relay_pid")
  record "$mode" rss_idle "$(awk -v k="$kib" 'BEGIN {printf "%.2f", k / 1024}')"
  it_log "$mode: RSS with 1,000 idle proxied connections $((kib / 1024)) MiB ($kib KiB)"
  kill "$hold_pid"
  wait "$hold_pid" 2>/dev/null || true
  sleep 0.5
}

for round in $(seq 1 "$rounds"); do
  for mode in $modes; do
    it_log "round $round: $mode"
    mode_up "$mode"
    if [ "$crr_only" -eq 0 ]; then
      throughput "$mode" up1
      throughput "$mode" down1 -R
      throughput "$mode" up4 -P 4
      throughput "$mode" down4 -P 4 -R
    fi
    c0=$(relay_cpu)
    conns=0
    for clients in 1 4 16; do
      key=crr$([ "$clients" -gt 1 ] && echo "$clients" || true)
      rate=$(in_c $PB crr "$T_ADDR" "$CRR_PORT" "$crr_secs" "$clients") ||
        it_fail "$mode: connection rate, $clients clients"
      record "$mode" "$key" "$rate"
      conns=$(awk -v a="$conns" -v r="$rate" -v s="$crr_secs" 'BEGIN { print a + r * s }')
      it_log "$mode $key: $rate conn/s ($clients clients)"
    done
    if [ -n "$relay_pid" ]; then
      c1=$(relay_cpu)
      record "$mode" cpu_crr "$(awk -v a="$c0" -v b="$c1" -v n="$conns" 'BEGIN { printf "%.1f", (b - a) / n * 1e6 }')"
    fi
    mode_down "$mode"
    if [ "$round" -eq 1 ] && [ "$mode" != none ] && [ "$crr_only" -eq 0 ]; then
      # Memory on a fresh relay: what the throughput runs left in its heap does not count.
      mode_up "$mode"
      idle_rss "$mode"
      mode_down "$mode"
    fi
  done
done

subject="utcp-proxy vs "  # with hev: its version (from its usage text) and MTU in the title
if [[ " $modes " == *" hev "* ]]; then
  hev_version=$("$HEV_SOCKS5_TUNNEL" 2>&1 | awk '/^Version:/ {print $2; exit}' || true)
  subject="utcp-proxy vs hev-socks5-tunnel ${hev_version:-(version unknown)} (MTU ${HEV_MTU:-8500}) vs "
fi
cpu_model=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
title="utcp-proxy vs the kernel path vs no proxy, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) x $cpu_model, $([ "$quick" -eq 1 ] && echo "--quick" || echo "full")$([ "$crr_only" -eq 1 ] && echo " --crr-only" || true), load $(cut -d' ' -f1 /proc/loadavg)"
mkdir -p "$(dirname "$out")"
$PB report "$raw" "$out" "${title/#utcp-proxy vs /$subject}" "$rounds"
