#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# `utcp-serve --threads 2`: a multi-queue TUN with one stack thread per queue, one family
# per run: `multiqueue.sh 4` (the default; CTest interop_multiqueue) or `multiqueue.sh 6`
# (interop_v6_multiqueue). 300 kernel clients connect at the same time (to 10.77.0.2 or
# [fd77::2]), each checking the echo of its own 64 KB of random bytes; the steering program
# (src/dev/tun_steering.cpp, IPv6 as IPv4) or else the driver's flow hash spreads them over
# the two queues, and the per-queue counters must show both stacks accepted and carried
# connections, none reset.
source "$(dirname "$0")/lib.sh"
family=${1:-4}
case $family in
  4) it_init mq; wait_tun=it_wait_tun; stack_addr=$STACK_ADDR; over="" ;;
  6) it_init v6-mq; wait_tun=it_wait_tun6; stack_addr=$STACK_ADDR6; over=" IPv6" ;;
  *) echo "usage: multiqueue.sh [4|6]" >&2; exit 2 ;;
esac
it_need_tool UTCP_SERVE
cd "$IT_TMP"
counter() { awk -v k="$1" '$1 == k { print $2 }' serve.err; }

it_start "$UTCP_SERVE" --threads 2 --echo 7 --stats 2>serve.err
serve_pid=$IT_PID
$wait_tun
ip -n "$IT_NS" -d link show utcp0 | grep -q multi_queue || it_fail "utcp0 is not multi-queue"
[ "$(in_ns sh -c 'ls -d /sys/class/net/utcp0/queues/tx-* | wc -l')" -eq 2 ] ||
  it_fail "utcp0 does not have 2 queues"
in_ns $PEER many-echo "$stack_addr" 7 300 65536 || { tail -30 serve.err >&2; it_fail "concurrent echo"; }
kill "$serve_pid"
it_wait "$serve_pid" 10
[ "$IT_RC" -eq 0 ] || { cat serve.err >&2; it_fail "utcp-serve exited $IT_RC"; }
grep -E '^(tun\.queue[a-z_]*|(queue[01]\.)?(tcp\.passive-opens|tcp\.rst-for-unmatched|tun\.rx_bytes|tun\.tx_bytes)) ' serve.err
[ "$(counter tun.queues)" -eq 2 ] || it_fail "utcp-serve did not run 2 queues"
total=$(counter tcp.passive-opens)
q0=$(counter queue0.tcp.passive-opens)
q1=$(counter queue1.tcp.passive-opens)
[ "$total" -ge 300 ] || it_fail "only $total connections accepted"
[ "$((q0 + q1))" -eq "$total" ] || it_fail "per-queue opens $q0 + $q1 != total $total"
[ "$q0" -gt 0 ] && [ "$q1" -gt 0 ] || it_fail "one queue carried nothing ($q0 / $q1)"
# A segment steered to the queue that does not hold its connection would be answered with
# a reset (or dropped): none may be.
[ "$(counter tcp.rst-for-unmatched)" -eq 0 ] || it_fail "segments reached a stack without their connection"
[ "$(counter tcp.drop.no-connection)" -eq 0 ] || it_fail "segments dropped for no connection"
[ "$(counter tcp.conn.reset)" -eq 0 ] || it_fail "connections were reset"
# The second queue attaches with the first one's flags: offload (virtio-net headers) alike.
[ "$(counter queue1.tun.offload)" = "$(counter queue0.tun.offload)" ] || it_fail "queues disagree on offload"
for q in 0 1; do
  # Each queue moved at least the 64 KB echoes of the connections it accepted, both ways.
  min=$(( $(counter queue$q.tcp.passive-opens) * 65536 ))
  [ "$(counter queue$q.tun.rx_bytes)" -ge "$min" ] || it_fail "queue $q received too little"
  [ "$(counter queue$q.tun.tx_bytes)" -ge "$min" ] || it_fail "queue $q sent too little"
done
it_log "300$over echo connections, $q0 on queue 0 and $q1 on queue 1, every byte checked"
