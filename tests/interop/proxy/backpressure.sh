#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Back-pressure through utcp-proxy (issue 14 "Relay"): a SOCKS5 destination (hostile.py) that
# never reads while the tunnelled client sends as fast as it can for 4 s, and one that sends
# without end to a client that never reads. utcp-proxy must close utcp's receive window (and
# stop reading the upstream socket) instead of buffering: the client's sends stall after a
# bounded amount (socket buffers on the way, < PX_BP_SENT_MB, 64 MB), and utcp-proxy's VmRSS
# grows by less than PX_BP_RSS_KB (16 MB) in either case; afterwards it relays normally.
# Then 200 such connections at once under --memory-limit 32.
source "$(dirname "$0")/lib.sh"
px_init bp
it_need_tool UTCP_PROXY
cd "$IT_TMP"
px_links
HOSTILE="$IT_PYTHON $PX_DIR/hostile.py"
sent_bound=$((${PX_BP_SENT_MB:-64} * 1000000))
rss_bound=${PX_BP_RSS_KB:-16384}
echo ok >mode
px_daemon "$NS_P" hsocks $HOSTILE serve socks5 2080 "$IT_TMP/mode"
px_wait_port "$NS_P" tcp 2080
eval "px_upstream_world() $(declare -f px_upstream | tail -n +2)"
px_upstream() {
  [ "$1" = hostile-socks5 ] && { echo "--socks5 $P_ADDR:2080"; return; }
  px_upstream_world "$@"
}
rss() { awk '/^VmRSS/ {print $2}' "/proc/$PX_PID/status"; }
px_start_proxy hostile-socks5
base=$(rss)

stalled() {  # mode direction [connections]
  echo "$1" >mode
  rm -f ready
  STALL_READY="$IT_TMP/ready" STALL_HOLD=1 in_c timeout 20 $HOSTILE stall "$T_ADDR" 7001 "$2" 4 \
    "${3:-1}" >stall.out 2>&1 &
  local client=$! sent r
  peak=0
  while kill -0 "$client" 2>/dev/null; do
    r=$(rss)
    [ "$r" -gt "$peak" ] && peak=$r
    sleep 0.2
  done
  wait "$client" || { cat stall.out >&2; it_fail "$1: the stalled client failed"; }
  kill -0 "$PX_PID" 2>/dev/null || { tail proxy.err >&2; it_fail "$1: utcp-proxy died"; }
  sent=$(head -1 stall.out)
  it_log "$1 x ${3:-1}: the client sent $sent bytes; VmRSS at most $peak kB ($base kB before)"
  [ "${3:-1}" -gt 1 ] && return  # many connections: only memory, checked by the caller
  [ "$sent" -le "$sent_bound" ] || it_fail "$1: $sent bytes accepted from a client whose destination never reads"
  [ $((peak - base)) -le "$rss_bound" ] || it_fail "$1: VmRSS grew $((peak - base)) kB, bound $rss_bound kB"
}
stalled no-read send
stalled flood recv
echo ok >mode
in_c timeout 20 $HOSTILE echo "$T_ADDR" 7001 || it_fail "echo after the stalls"
px_stop_proxy

# 200 stalled connections at once under --memory-limit 32 (MiB of stack buffers): the rings
# stay within it and the relay holds at most a read's worth per direction, so VmRSS must
# stay below PX_BP_MANY_KB (96 MB; without the limit it reaches ~130 MB: 200 x the default
# send buffer).
many_bound=${PX_BP_MANY_KB:-98304}
px_start_proxy hostile-socks5 --memory-limit 32
base=$(rss)
for m in "no-read send" "flood recv"; do
  # shellcheck disable=SC2086
  stalled $m 200
  [ $((peak - base)) -le "$many_bound" ] ||
    it_fail "${m% *} x 200 under --memory-limit 32: VmRSS grew $((peak - base)) kB, bound $many_bound kB"
done
echo ok >mode
in_c timeout 20 $HOSTILE echo "$T_ADDR" 7001 || it_fail "echo after 200 stalls"
px_stop_proxy
