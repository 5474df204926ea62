#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# A SYN flood through utcp-proxy while the upstream is a black hole: 5,000 raw SYNs (seeded)
# to random addresses and ports of 10.99.0.0/16 (routed into the TUN) in 2 s, with --direct
# upstream dials that the proxy host drops without a word (a blackhole route), so every
# dial waits for --connect-timeout 3. utcp-proxy must stay bounded the whole time (its
# --control answers; open sessions never above --max-sessions 2000; RSS below PX_FLOOD_RSS_KB,
# 48 MB), let every pending session go after the timeout (open_tcp back to 0, descriptors
# back to the idle count), and then relay a normal curl; then the same with 5,000 UDP flows
# (--udp-timeout 2); 16 --control clients that never read then cost little; and exit 0 on
# SIGTERM.
source "$(dirname "$0")/lib.sh"
px_init flood
it_need_tool UTCP_PROXY
cd "$IT_TMP"
px_world
HOSTILE="$IT_PYTHON $PX_DIR/hostile.py"
max=2000
rss_bound=${PX_FLOOD_RSS_KB:-49152}
in_p ip route add blackhole 10.99.0.0/16
# shellcheck disable=SC2086
px_start_proxy direct --route 10.99.0.0/16 --connect-timeout 3 --max-sessions "$max" \
  --udp-timeout 2 --control "$IT_TMP/control" ${PX_FLOOD_PROXY_ARGS:-}
base_fds=$(ls "/proc/$PX_PID/fd" | wc -l)
rss() { awk '/^VmRSS/ {print $2}' "/proc/$PX_PID/status"; }
base_rss=$(rss)

in_c $HOSTILE syn-flood 10.77.0.1 10.99 5000 2 >flood.out 2>&1 &
flood=$!
peak_open=0 peak_rss=0
until_s=$((SECONDS + 4))
while [ "$SECONDS" -lt "$until_s" ]; do  # samples through the flood and the first timeouts
  kill -0 "$PX_PID" 2>/dev/null || { tail proxy.err >&2; it_fail "utcp-proxy died in the flood"; }
  open=$(in_c timeout 5 $HOSTILE open-sessions "$IT_TMP/control") ||
    it_fail "--control did not answer during the flood"
  r=$(rss)
  [ "$open" -gt "$peak_open" ] && peak_open=$open
  [ "$r" -gt "$peak_rss" ] && peak_rss=$r
  sleep 0.1
done
wait "$flood" || { cat flood.out >&2; it_fail "the SYN flood client failed"; }
cat flood.out
it_log "TUN queue drops in the SYN flood (txqueuelen $(in_c cat /sys/class/net/utcp0/tx_queue_len)): $(px_tun_tx_dropped)"
it_log "during the flood: at most $peak_open open sessions, RSS at most $peak_rss kB (idle $base_rss kB)"
[ "$peak_open" -gt 100 ] || it_fail "only $peak_open sessions ever open: the SYNs did not reach utcp-proxy"
[ "$peak_open" -le "$max" ] || it_fail "$peak_open sessions open, above --max-sessions $max"
[ "$peak_rss" -le "$rss_bound" ] || it_fail "RSS $peak_rss kB in the flood, bound $rss_bound kB"

for _ in $(seq 1 100); do
  open=$(in_c $HOSTILE open-sessions "$IT_TMP/control")
  fds=$(ls "/proc/$PX_PID/fd" | wc -l)
  [ "$open" = 0 ] && [ "$fds" -le "$base_fds" ] && break
  sleep 0.1
done
[ "$open" = 0 ] || it_fail "$open sessions still open 10 s after the flood"
[ "$fds" -le "$base_fds" ] || it_fail "$fds descriptors open after the flood, $base_fds when idle"
px_curl "$T_ADDR" "$C_ADDR"
it_log "after the flood: no session, $fds descriptors, RSS $(rss) kB; curl through the proxy: ok"

# The same with 5,000 UDP flows (one datagram each, seeded) into the black hole: each is a
# flow with an upstream socket until --udp-timeout 2 ends it; at most --max-sessions at once.
in_c $HOSTILE udp-flood 10.99 5000 2 >flood.out 2>&1 &
flood=$!
peak_open=0
until_s=$((SECONDS + 3))
while [ "$SECONDS" -lt "$until_s" ]; do
  kill -0 "$PX_PID" 2>/dev/null || { tail proxy.err >&2; it_fail "utcp-proxy died in the UDP flood"; }
  open=$(in_c timeout 5 $HOSTILE open-sessions "$IT_TMP/control" open_udp) ||
    it_fail "--control did not answer during the UDP flood"
  r=$(rss)
  [ "$open" -gt "$peak_open" ] && peak_open=$open
  [ "$r" -gt "$peak_rss" ] && peak_rss=$r
  sleep 0.1
done
wait "$flood" || { cat flood.out >&2; it_fail "the UDP flood client failed"; }
cat flood.out
it_log "UDP flood: at most $peak_open open flows, RSS at most $peak_rss kB"
[ "$peak_open" -gt 100 ] || it_fail "only $peak_open UDP flows ever open"
[ "$peak_open" -le "$max" ] || it_fail "$peak_open UDP flows open, above --max-sessions $max"
[ "$peak_rss" -le "$rss_bound" ] || it_fail "RSS $peak_rss kB in the UDP flood, bound $rss_bound kB"
for _ in $(seq 1 100); do
  open=$(in_c $HOSTILE open-sessions "$IT_TMP/control" open_udp)
  fds=$(ls "/proc/$PX_PID/fd" | wc -l)
  [ "$open" = 0 ] && [ "$fds" -le "$base_fds" ] && break
  sleep 0.1
done
[ "$open" = 0 ] || it_fail "$open UDP flows still open 10 s after the flood"
[ "$fds" -le "$base_fds" ] || it_fail "$fds descriptors open after the UDP flood, $base_fds when idle"
px_curl "$T_ADDR" "$C_ADDR"
it_log "after the UDP flood: no flow, $fds descriptors, RSS $(rss) kB; curl: ok"

# 10,000 sessions have ended: 16 --control clients that never read their answer must not
# cost more than PX_FLOOD_CONTROL_KB (8 MB): the kept log is bounded and the answer small.
control_bound=${PX_FLOOD_CONTROL_KB:-8192}
before=$(rss)
in_c $HOSTILE hog-control "$IT_TMP/control" 16 3 >hog.out 2>&1 &
hog=$!
sleep 2
held=$(rss)
wait "$hog" || true
it_log "16 control clients that never read: VmRSS $before -> $held kB"
[ $((held - before)) -le "$control_bound" ] ||
  it_fail "16 idle --control clients cost $((held - before)) kB, bound $control_bound kB"
px_stop_proxy
