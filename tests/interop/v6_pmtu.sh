#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Path MTU discovery against real routers: the test namespace forwards between utcp's TUN and
# a veth whose near end has MTU 1280, toward a second namespace (the far host) whose own end
# keeps 1500, so its SYN announces MSS 1440 and utcp's full-sized segments cannot pass the
# router. The kernel answers them with a real ICMPv6 Packet Too Big (RFC 8201 §4, RFC 4443 §3.2)
# and, over IPv4, a real "fragmentation needed" (RFC 1191); utcp lowers its segment size and
# 5 MB reach the far host byte-exact each time.
source "$(dirname "$0")/lib.sh"
it_init v6-pmtu
it_need_tool UTCP_CAT
[ -d /proc/sys/net/ipv6 ] || it_skip "the kernel has no IPv6"
cd "$IT_TMP"
FAR="utcp-it-v6-pmtu-far-$$"
trap 'rc=$?; ip netns del "$FAR" 2>/dev/null; (exit $rc); it_cleanup' EXIT
ip netns add "$FAR" || it_skip "cannot create a second namespace"
ip -n "$FAR" link set lo up
ip -n "$IT_NS" link add vr type veth peer name vh netns "$FAR"
ip -n "$IT_NS" link set vr mtu 1280 up
ip -n "$FAR" link set vh mtu 1500 up
ip -n "$IT_NS" addr add 10.78.0.1/24 dev vr
ip -n "$FAR" addr add 10.78.0.2/24 dev vh
ip -n "$IT_NS" -6 addr add fd78::1/64 dev vr nodad
ip -n "$FAR" -6 addr add fd78::2/64 dev vh nodad
ip -n "$FAR" route add 10.77.0.0/24 via 10.78.0.1
ip -n "$FAR" -6 route add fd77::/64 via fd78::1
in_ns sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
it_random_file to_far 5

run_family() {  # far-address nc-flag label max-mss icmp-counter
  local far=$1 flag=$2 label=$3
  rm -f from_utcp
  ip netns exec "$FAR" nc "$flag" -l 5001 >from_utcp </dev/null &
  local nc_pid=$!
  IT_PIDS+=("$nc_pid")
  for _ in $(seq 1 100); do
    ip netns exec "$FAR" ss -Hltn "sport = :5001" | grep -q LISTEN && break
    sleep 0.05
  done
  it_start "$UTCP_CAT" --stats "$far" 5001 <to_far >/dev/null 2>cat.err
  local cat_pid=$IT_PID
  it_wait "$cat_pid" 120
  [ "$IT_RC" -eq 0 ] || { cat cat.err >&2; it_fail "$label: utcp-cat exited $IT_RC"; }
  it_wait "$nc_pid" 20
  it_same_file to_far from_utcp "$label through the 1280-byte link"
  grep -E '^tcp_info\.snd_mss ' cat.err | sed "s/^/$label: /"
  local mss
  mss=$(awk '$1 == "tcp_info.snd_mss" {print $2}' cat.err)
  [ -n "$mss" ] && [ "$mss" -le "$4" ] || it_fail "$label: send MSS ${mss:-?} never came down to $4"
  # Once the path MTU is known nothing more is too big: a handful of errors, not one per
  # segment (offload's 64 KB segments are cut at the path's MSS, not the TUN's).
  local errors
  errors=$(awk -v k="$5" '$1 == k {print $2}' cat.err)
  [ "${errors:-0}" -ge 1 ] || it_fail "$label: no ICMP error reached the stack ($5)"
  [ "$errors" -le 10 ] || it_fail "$label: $errors ICMP errors ($5): segments kept exceeding the path MTU"
  it_log "$label: $errors ICMP error(s), send MSS $mss"
}

run_family fd78::2 -6 "IPv6 (Packet Too Big)" 1220 icmp6.in.error
run_family 10.78.0.2 -4 "IPv4 (fragmentation needed)" 1240 icmp.in.error
