#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Forwarding (issue 13): examples/forward_echo routes 198.18.0.0/15 and 2001:db8::/32 into its
# TUN (TunOptions::routes) and terminates every TCP connection that arrives for them;
# kernel `nc` connects to arbitrary addresses and ports in them, one after another and then
# 20 at once, and every echo must equal what was sent (SHA-256); curl's request comes back
# from arbitrary addresses of both families; `nc -u` datagrams are echoed
# from the address they were sent to, and pings to forwarded addresses are answered.
source "$(dirname "$0")/lib.sh"
it_init forward
it_need_tool UTCP_FORWARD_ECHO
cd "$IT_TMP"

it_start_forward_echo
echo_pid=$IT_PID

it_random_file data 2
for target in 198.18.0.1/80 198.19.255.254/4433 198.18.77.5/22 2001:db8::1/80 \
  2001:db8:abcd::42/9999; do
  addr=${target%/*}
  port=${target#*/}
  in_ns timeout 60 nc -N "$addr" "$port" <data >"got.$addr" || it_fail "nc to $addr:$port failed"
  it_same_file data "got.$addr" "echo from $addr port $port"
done

head -c 100000 /dev/urandom >small
pids=()
for i in $(seq 1 20); do
  if [ $((i % 2)) -eq 0 ]; then addr="198.18.$i.$((i * 3))"; else addr="2001:db8:$i::$i"; fi
  it_start timeout 60 nc -N "$addr" $((1000 + i)) <small >"many.$i"
  pids+=("$IT_PID")
done
for pid in "${pids[@]}"; do
  it_wait "$pid" 90
  [ "$IT_RC" -eq 0 ] || it_fail "a concurrent nc exited $IT_RC"
done
for i in $(seq 1 20); do it_same_file small "many.$i" "concurrent connection $i"; done

# curl to arbitrary addresses: forward_echo echoes the request, which curl (HTTP/0.9 allowed)
# prints as the response; it ends at --max-time since an echo never closes first (exit 28).
for hostport in 198.19.200.7:8080 '[2001:db8:c::7]:8081'; do
  in_ns curl -s --http0.9 --max-time 2 "http://$hostport/probe" >curl.out || true
  grep -q '^GET /probe HTTP/1.1' curl.out && grep -qF "Host: $hostport" curl.out ||
    { cat curl.out >&2; it_fail "curl to $hostport: its request did not come back"; }
done

# UDP flows (forward_udp): nc -u to arbitrary addresses and ports gets each datagram back,
# from the address it was sent to (nc connects its socket, so it hears only that).
for target in 198.18.9.9/5353 198.19.1.2/53 2001:db8:9::9/5353; do
  addr=${target%/*}
  port=${target#*/}
  printf 'datagram to %s port %s\n' "$addr" "$port" >"udp.$addr"
  in_ns nc -u -w 1 "$addr" "$port" <"udp.$addr" >"udp_back.$addr" || true
  it_same_file "udp.$addr" "udp_back.$addr" "nc -u echo from $addr port $port"
done

# forward_echo: ping to forwarded addresses of both families is answered.
in_ns ping -c 2 -i 0.2 -W 2 198.18.123.45 >ping.log || { cat ping.log >&2; it_fail "no ping replies"; }
in_ns ping -6 -c 2 -i 0.2 -W 2 2001:db8::abc >ping6.log || { cat ping6.log >&2; it_fail "no ping6 replies"; }

kill -0 "$echo_pid" || { cat echo.err >&2; it_fail "forward_echo died"; }
grep -c -- '->' echo.out | xargs -I{} echo "forward_echo accepted {} connections"
[ "$(grep -c -- '->' echo.out)" -eq 27 ] || it_fail "expected 27 accepted connections"
