#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Loss recovery against the kernel: nftables drops 1 %, 3 % and 10 % of packets at random in
# both directions on the TUN while the kernel (SACK, timestamps, CUBIC) and utcp move data both
# ways at once; every transfer must complete byte-exact. For comparison the same sizes go
# kernel -> kernel over a veth pair (to a second namespace) under the same nftables loss, and
# both goodputs are printed side by side.
source "$(dirname "$0")/lib.sh"
it_init recloss
it_need_tool UTCP_CAT
command -v nft >/dev/null || it_skip "no nft"
NS2="utcp-it-recloss2-$$"
trap 'rc=$?; ip netns del "$NS2" 2>/dev/null; (exit $rc); it_cleanup' EXIT
cd "$IT_TMP"

kernel_tcp() {  # namespace: SACK and timestamps on (CUBIC is chosen per socket below)
  ip netns exec "$1" sysctl -qw net.ipv4.tcp_sack=1 net.ipv4.tcp_timestamps=1
}
kernel_tcp "$IT_NS"

# The kernel's end: sends one file and receives into another at the same time over a socket
# using CUBIC (set per socket: a namespace may not be allowed to change its default).
cat >kpeer.py <<'PY'
import socket, sys, threading
mode, host, port, src, dst = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
def cubic(s):
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"cubic")
if mode == "listen":
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); cubic(l)
    l.bind((host, port)); l.listen(1); s, _ = l.accept()
else:
    s = socket.socket(); cubic(s); s.connect((host, port))
assert s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0") == b"cubic"
def send():
    with open(src, "rb") as f:
        s.sendall(f.read())
    s.shutdown(socket.SHUT_WR)
t = threading.Thread(target=send); t.start()
with open(dst, "wb") as out:
    while True:
        b = s.recv(65536)
        if not b: break
        out.write(b)
t.join(); s.close()
PY

# loss percentage -> megabytes each way (smaller at high loss to keep the run short).
declare -A SIZE=([1]=4 [3]=2 [10]=1)

nft_loss() {  # namespace interface percent
  ip netns exec "$1" nft delete table inet utcp_recloss 2>/dev/null || true
  ip netns exec "$1" nft add table inet utcp_recloss
  ip netns exec "$1" nft add chain inet utcp_recloss in '{ type filter hook input priority 0; }'
  ip netns exec "$1" nft add chain inet utcp_recloss out '{ type filter hook output priority 0; }'
  ip netns exec "$1" nft add rule inet utcp_recloss in iifname "$2" numgen random mod 100 '<' "$3" counter drop
  ip netns exec "$1" nft add rule inet utcp_recloss out oifname "$2" numgen random mod 100 '<' "$3" counter drop
}

mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.2f", (s > 0 ? b * 8 / s / 1e6 : 0) }'; }

results=()
port=5000
for loss in 1 3 10; do
  mb=${SIZE[$loss]}
  it_random_file "up$loss" "$mb"
  it_random_file "down$loss" "$mb"
  bytes=$((mb * 1024 * 1024))

  # utcp <-> kernel over the TUN.
  it_start "$UTCP_CAT" -l "$port" --stats <"down$loss" >"from_kernel$loss" 2>"cat$loss.err"
  cat_pid=$IT_PID
  it_wait_tun
  nft_loss "$IT_NS" utcp0 "$loss"
  t0=$(date +%s.%N)
  it_start "$IT_PYTHON" kpeer.py connect "$STACK_ADDR" "$port" "up$loss" "from_utcp$loss"
  nc_pid=$IT_PID
  it_wait "$nc_pid" 120
  nc_rc=$IT_RC
  it_wait "$cat_pid" 30
  t1=$(date +%s.%N)
  [ "$IT_RC" -eq 0 ] || { tail -n 40 "cat$loss.err" >&2; it_fail "utcp-cat exited $IT_RC at $loss% loss"; }
  [ "$nc_rc" -eq 0 ] || it_fail "kernel peer exited $nc_rc at $loss% loss"
  it_same_file "up$loss" "from_kernel$loss" "kernel -> utcp, $loss% loss"
  it_same_file "down$loss" "from_utcp$loss" "utcp -> kernel, $loss% loss"
  utcp_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  # utcp's side of the connection (--stats): controller, SACK, retransmissions, recoveries.
  grep -E '^tcp_info\.(congestion_control|sack|total_retrans|fast_recoveries|rto_count|tlp_probes|spurious_undos|dsacks_received) ' \
    "cat$loss.err" | sed 's/^tcp_info\.//' | tr '\n' ' ' | sed 's/^/utcp tcp_info: /' || true
  echo
  port=$((port + 1))

  # kernel <-> kernel over a veth pair, same loss, same sizes.
  ip netns add "$NS2" 2>/dev/null || true
  kernel_tcp "$NS2"
  ip -n "$NS2" link set lo up
  if ! ip -n "$IT_NS" link show vr0 >/dev/null 2>&1; then
    ip -n "$IT_NS" link add vr0 type veth peer name vr1 netns "$NS2"
    ip -n "$IT_NS" addr add 10.78.0.1/24 dev vr0
    ip -n "$NS2" addr add 10.78.0.2/24 dev vr1
    ip -n "$IT_NS" link set vr0 up
    ip -n "$NS2" link set vr1 up
  fi
  nft_loss "$IT_NS" vr0 "$loss"
  ip netns exec "$NS2" "$IT_PYTHON" kpeer.py listen 10.78.0.2 "$port" "down$loss" "k_from_client$loss" &
  srv=$!
  IT_PIDS+=("$srv")
  for _ in $(seq 1 100); do
    ip netns exec "$NS2" ss -Hltn "sport = :$port" | grep -q LISTEN && break
    sleep 0.05
  done
  t0=$(date +%s.%N)
  it_start "$IT_PYTHON" kpeer.py connect 10.78.0.2 "$port" "up$loss" "k_from_server$loss"
  it_wait "$IT_PID" 120
  [ "$IT_RC" -eq 0 ] || it_fail "kernel client exited $IT_RC"
  it_wait "$srv" 30
  [ "$IT_RC" -eq 0 ] || it_fail "kernel server exited $IT_RC"
  t1=$(date +%s.%N)
  it_same_file "up$loss" "k_from_client$loss" "kernel -> kernel (veth), $loss% loss"
  it_same_file "down$loss" "k_from_server$loss" "kernel <- kernel (veth), $loss% loss"
  kern_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  port=$((port + 1))
  # Both directions moved `bytes` each: report per-direction goodput.
  results+=("$(printf '%4s%% loss, %s MB each way: utcp<->kernel %6ss %7s Mbit/s | kernel<->kernel %6ss %7s Mbit/s' \
    "$loss" "$mb" "$utcp_s" "$(mbps "$bytes" "$utcp_s")" "$kern_s" "$(mbps "$bytes" "$kern_s")")")
done

echo "goodput per direction under random loss (nftables, both directions):"
printf '  %s\n' "${results[@]}"
