#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# TUN offload and its fallback move bytes exactly. 30 MB each way between kernel nc and
# utcp-cat, twice: with offload (the default: virtio-net headers, 64 KB GSO frames in both
# directions, no software checksum for what the kernel vouches for) and with --no-offload
# (plain packets). SHA-256 must match both ways; the counters must show which path ran,
# including direct placement (GSO frames read straight into the receive buffer).
source "$(dirname "$0")/lib.sh"
it_init offload
it_need_tool UTCP_CAT
cd "$IT_TMP"
it_random_file to_utcp 30
it_random_file to_kernel 30

counter() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

run_once() {  # label, extra utcp-cat flags...
  local label=$1
  shift
  it_start "$UTCP_CAT" -l 5000 --stats "$@" <to_kernel >"from_kernel.$label" 2>"cat.$label.err"
  local cat_pid=$IT_PID
  it_wait_tun
  it_start nc -N "$STACK_ADDR" 5000 <to_utcp >"from_utcp.$label"
  local nc_pid=$IT_PID
  it_wait "$nc_pid" 90
  [ "$IT_RC" -eq 0 ] || it_fail "$label: nc exited $IT_RC"
  it_wait "$cat_pid" 20
  [ "$IT_RC" -eq 0 ] || { cat "cat.$label.err" >&2; it_fail "$label: utcp-cat exited $IT_RC"; }
  it_same_file to_utcp "from_kernel.$label" "$label: kernel -> utcp"
  it_same_file to_kernel "from_utcp.$label" "$label: utcp -> kernel"
  grep -E '^(tun\.|dev\.rx-place)' "cat.$label.err"
}

run_once offload
f=cat.offload.err
[ "$(counter tun.offload $f)" = 1 ] || it_fail "offload was not enabled"
[ "$(counter tun.rx_gso_frames $f)" -gt 0 ] || it_fail "no GSO frame received from the kernel"
[ "$(counter tun.rx_checksum_trusted $f)" -gt 0 ] || it_fail "no checksum trusted"
[ "$(counter tun.tx_gso_frames $f)" -gt 0 ] || it_fail "no merged GSO frame written"
[ "$(counter tcp.drop.bad-checksum $f)" = 0 ] || it_fail "partial checksums were verified in software"
[ "$(counter dev.rx-placed $f)" -gt 0 ] || it_fail "no GSO frame was read straight into the receive buffer"

run_once plain --no-offload
f=cat.plain.err
[ "$(counter tun.offload $f)" = 0 ] || it_fail "--no-offload still offloads"
[ "$(counter tun.rx_gso_frames $f)" = 0 ] || it_fail "GSO frames without offload"
[ "$(counter tun.tx_gso_frames $f)" = 0 ] || it_fail "merged frames without offload"
[ "$(counter dev.rx-placed $f)" = 0 ] || it_fail "1448-byte segments were placed (only bulk frames are)"
it_log "offload and plain paths both byte-exact"
